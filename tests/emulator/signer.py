"""AK/SK request signing (SDK-HMAC-SHA256 and derived V11-HMAC-SHA256).

One implementation serves both sides: the emulator rebuilds the canonical
request from what it received and verifies the signature, and the tests sign
the requests they send. The rules are those of docs/cloud-api.md, "AK/SK
signing".
"""

import calendar
import hashlib
import hmac
import time
import urllib.parse

SDK_ALGO = "SDK-HMAC-SHA256"
V11_ALGO = "V11-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"


def uri_encode(text):
    """Percent-encode everything but A-Z a-z 0-9 - _ . ~ (UTF-8 bytes)."""
    if isinstance(text, bytes):
        return urllib.parse.quote_from_bytes(text, safe="")
    return urllib.parse.quote(str(text), safe="", encoding="utf-8")


def canonical_uri(path):
    """Decode the raw path, encode each segment, end it with '/'."""
    decoded = urllib.parse.unquote_to_bytes(path)
    segments = decoded.split(b"/")
    uri = "/".join(uri_encode(seg) for seg in segments)
    if not uri.endswith("/"):
        uri += "/"
    return uri


def parse_query(raw_query):
    """Split a raw query string into decoded (name, value) pairs.

    '+' stays a literal plus: the SDKs encode spaces as %20, so a '+' on
    the wire can only mean '+'.
    """
    pairs = []
    if not raw_query:
        return pairs
    for part in raw_query.split("&"):
        if part == "":
            continue
        name, _, value = part.partition("=")
        pairs.append((urllib.parse.unquote(name), urllib.parse.unquote(value)))
    return pairs


def canonical_query(pairs):
    """Pairs sorted by name then value (code point = UTF-8 byte order)."""
    ordered = sorted((str(n), str(v)) for n, v in pairs)
    return "&".join(uri_encode(n) + "=" + uri_encode(v) for n, v in ordered)


def payload_hash(body, headers=None):
    if headers:
        for name, value in headers:
            if (name.lower() == "x-sdk-content-sha256"
                    and value.strip() == UNSIGNED_PAYLOAD):
                return UNSIGNED_PAYLOAD
    if not body:
        return EMPTY_SHA256
    if isinstance(body, str):
        body = body.encode("utf-8")
    return hashlib.sha256(body).hexdigest()


def signable(name):
    """The SDKs never sign a header whose name contains '_'."""
    return "_" not in name


def canonical_request(method, path, pairs, headers, signed_names, body,
                      content_hash=None):
    """The six-part canonical request.

    headers: list of (name, value) as sent; signed_names: lowercase names to
    sign (the SignedHeaders list). A signed name absent from headers raises
    KeyError.
    """
    values = {}
    for name, value in headers:
        values.setdefault(name.lower(), []).append(value.strip())
    lines = []
    for name in signed_names:
        if name not in values:
            raise KeyError(name)
        # Python SDK semantics: one value per header name.
        lines.append(name + ":" + values[name][0] + "\n")
    if content_hash is None:
        content_hash = payload_hash(body, headers)
    return "\n".join([
        method.upper(),
        canonical_uri(path),
        canonical_query(pairs),
        "".join(lines),
        ";".join(signed_names),
        content_hash,
    ])


def string_to_sign(algo, sdk_date, creq, info=None):
    digest = hashlib.sha256(creq.encode("utf-8")).hexdigest()
    if algo == V11_ALGO:
        return "\n".join([algo, sdk_date, info, digest])
    return "\n".join([algo, sdk_date, digest])


def derive_key(ak, sk, info):
    """HKDF-SHA256 (salt AK, ikm SK, info) -> 64 hex chars used as key."""
    prk = hmac.new(ak.encode(), sk.encode(), hashlib.sha256).digest()
    okm = hmac.new(prk, info.encode() + b"\x01", hashlib.sha256).digest()
    return okm.hex()


def scope_info(sdk_date, region, service):
    return sdk_date[:8] + "/" + region + "/" + service


def signature(algo, sk_or_key, sts):
    return hmac.new(sk_or_key.encode(), sts.encode("utf-8"),
                    hashlib.sha256).hexdigest()


def now_date(t=None):
    return time.strftime(DATE_FORMAT, time.gmtime(time.time() if t is None
                                                   else t))


def parse_date(value):
    """Epoch seconds of an X-Sdk-Date value, or None when malformed."""
    try:
        tm = time.strptime(value, DATE_FORMAT)
    except (ValueError, TypeError):
        return None
    return calendar.timegm(tm)


def sign(method, path, pairs, headers, body, ak, sk, algo="sdk",
         region=None, service=None, signed_names=None):
    """Authorization value for a request.

    headers must already contain X-Sdk-Date (and Host when it is to be
    signed). signed_names defaults to every signable header sent.
    Returns (authorization, canonical_request).
    """
    if signed_names is None:
        signed_names = sorted({n.lower() for n, _ in headers
                               if signable(n)})
    else:
        signed_names = sorted(n.lower() for n in signed_names)
    sdk_date = None
    for name, value in headers:
        if name.lower() == "x-sdk-date":
            sdk_date = value.strip()
    if sdk_date is None:
        raise ValueError("X-Sdk-Date header required")
    creq = canonical_request(method, path, pairs, headers, signed_names, body)
    if algo in ("v11", V11_ALGO):
        info = scope_info(sdk_date, region, service)
        key = derive_key(ak, sk, info)
        sig = signature(V11_ALGO, key, string_to_sign(V11_ALGO, sdk_date,
                                                      creq, info))
        auth = "%s Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
            V11_ALGO, ak, info, ";".join(signed_names), sig)
    else:
        sig = signature(SDK_ALGO, sk, string_to_sign(SDK_ALGO, sdk_date,
                                                     creq))
        auth = "%s Access=%s, SignedHeaders=%s, Signature=%s" % (
            SDK_ALGO, ak, ";".join(signed_names), sig)
    return auth, creq


def parse_authorization(value):
    """Split an Authorization value into its parts, or None if malformed.

    Returns dict(algo, ak, info (V11 scope or None), signed (list),
    signature).
    """
    if not value:
        return None
    algo, _, rest = value.strip().partition(" ")
    if algo not in (SDK_ALGO, V11_ALGO):
        return None
    fields = {}
    for part in rest.split(","):
        key, eq, val = part.strip().partition("=")
        if not eq:
            return None
        fields[key] = val
    try:
        signed = fields["SignedHeaders"]
        sig = fields["Signature"]
        if algo == SDK_ALGO:
            ak, info = fields["Access"], None
        else:
            ak, _, info = fields["Credential"].partition("/")
    except KeyError:
        return None
    if not ak or not sig or not signed:
        return None
    return {"algo": algo, "ak": ak, "info": info,
            "signed": signed.split(";"), "signature": sig}


def verify(method, path, pairs, headers, body, auth, sk, content_hash=None):
    """Check a parsed Authorization (from parse_authorization) against the
    request received. Returns True/False; constant-time compare."""
    # Rebuild with the list exactly as sent: it is part of what was signed.
    names = auth["signed"]
    try:
        creq = canonical_request(method, path, pairs, headers, names, body,
                                 content_hash)
    except KeyError:
        return False
    sdk_date = None
    for name, value in headers:
        if name.lower() == "x-sdk-date":
            sdk_date = value.strip()
    if sdk_date is None:
        return False
    if auth["algo"] == V11_ALGO:
        key = derive_key(auth["ak"], sk, auth["info"])
        expect = signature(V11_ALGO, key, string_to_sign(
            V11_ALGO, sdk_date, creq, auth["info"]))
    else:
        expect = signature(SDK_ALGO, sk, string_to_sign(SDK_ALGO, sdk_date,
                                                        creq))
    return hmac.compare_digest(expect.encode(), auth["signature"].encode())
