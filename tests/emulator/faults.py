"""faults.py - Fault knobs and hostile modes: what POST /_emu/faults accepts,
and the Handler's part that throttles, splices raw JSON into list pages
and corrupts answers.
"""

from errors import (ApiError, GW_THROTTLED, IOTDA_THROTTLED, RF_THROTTLED,
                    iotda_error, rfs_error)
from rfs_kinds import KINDS


# The list operations whose first pages the `inject` knob can add raw JSON
# to, and the member that holds their entries.
LIST_ENTRIES = {"iotda.list": "packages"}
LIST_ENTRIES.update({k.ops["list"]: k.key for k in KINDS.values()})
LIST_ENTRIES.update({k.ops["list_versions"]: "versions"
                     for k in KINDS.values()})

HOSTILE = (None, "marker_stuck", "next_marker_loop", "duplicates",
           "bad_names", "huge_body", "deep_json", "negative_count",
           "endless_empty",
           "endless_pages", "endless_fat_pages", "repeat_pages",
           "empty_page_more",
           "no_provider_id", "next_marker_null", "next_marker_empty",
           "next_marker_long", "next_marker_number")
# The endless knobs invent this many entries a collection (a package type)
# before they end: far past any client's bound, yet a client without one
# ends rather than runs for ever.
ENDLESS_ENTRIES = 200000
FAT_PAD = 24 * 1024  # characters of description an endless_fat entry has
REPEAT_PAGES = 200  # repeat_pages: RFS pages, or IoTDA markers, before the end

_HUGE = []


def huge_padding():
    """The start of a huge_body answer: a 64 MiB string field, built once."""
    if not _HUGE:
        _HUGE.append(b'{"padding":"' + b"x" * (64 << 20) + b'",')
    return _HUGE[0]


def default_faults():
    return {"latency_ms": 0, "error_rate": 0.0, "throttle": 0,
            "throttle_style": "service", "retry_after": None,
            "drop_rate": 0.0, "stall": False, "truncate_rate": 0.0,
            "malformed_rate": 0.0, "status_for": [], "expire_tokens": False,
            "hostile": None, "lose_delete_answers": 0, "inject": []}


def apply_faults(cloud, req):
    """Validate and merge a faults request; returns the new fault set."""
    known = set(default_faults()) | {"clear"}
    unknown = set(req) - known
    if unknown:
        raise ApiError(400, {"error": "unknown fault(s): %s"
                             % ", ".join(sorted(unknown))})
    new = {}
    for k in ("error_rate", "drop_rate", "truncate_rate", "malformed_rate"):
        if k in req:
            v = float(req[k])
            if not 0.0 <= v <= 1.0:
                raise ApiError(400, {"error": "%s must be in [0, 1]" % k})
            new[k] = v
    for k in ("latency_ms", "throttle", "lose_delete_answers"):
        if k in req:
            v = int(req[k])
            if v < 0:
                raise ApiError(400, {"error": "%s must be >= 0" % k})
            new[k] = v
    if "throttle_style" in req:
        if req["throttle_style"] not in ("service", "apigw"):
            raise ApiError(400, {"error": "throttle_style: service|apigw"})
        new["throttle_style"] = req["throttle_style"]
    if "retry_after" in req:
        v = req["retry_after"]
        new["retry_after"] = None if v is None else int(v)
    for k in ("stall", "expire_tokens"):
        if k in req:
            new[k] = bool(req[k])
    if "hostile" in req:
        if req["hostile"] not in HOSTILE:
            raise ApiError(400, {"error": "hostile: one of %s" % (HOSTILE,)})
        new["hostile"] = req["hostile"]
    if "inject" in req:
        rules = req["inject"] or []
        for r in rules:
            if not isinstance(r, dict) or r.get("op") not in LIST_ENTRIES or \
                    len([k for k in ("entry", "member") if k in r]) != 1 or \
                    not isinstance(r.get("entry", r.get("member")), str) or \
                    not isinstance(r.get("match", ""), str) or \
                    set(r) - {"op", "entry", "member", "match"}:
                raise ApiError(400, {"error": "inject: [{op, entry|member, "
                                              "match?}]"})
        new["inject"] = [dict(r) for r in rules]
    if "status_for" in req:
        rules = req["status_for"] or []
        for r in rules:
            if not isinstance(r, dict) or not isinstance(r.get("match"),
                                                         str) or \
                    not isinstance(r.get("status"), int):
                raise ApiError(400, {"error": "status_for: [{match, "
                                              "status, method?}]"})
        new["status_for"] = [dict(r) for r in rules]
    with cloud.lock:
        if req.get("clear"):
            cloud.faults = default_faults()
        cloud.faults.update(new)
        if new.get("expire_tokens"):
            # Every token issued so far is expired; new ones are good.
            cloud.token_floor = cloud.token_seq
        if cloud.faults["stall"]:
            cloud.unstalled.clear()
        else:
            cloud.unstalled.set()
        return dict(cloud.faults)


class Faults:
    """The Handler's fault injection on answers."""

    def throttled(self, service, faults):
        headers = []
        if faults["retry_after"] is not None:
            headers.append(("Retry-After", str(int(faults["retry_after"]))))
        if faults["throttle_style"] == "apigw" or service == "iam":
            err = ApiError(429, {
                "error_code": GW_THROTTLED,
                "error_msg": "The throttling threshold has been reached: "
                             "policy user over ratelimit, limit:5, "
                             "time:1 second",
                "request_id": self.request_id})
        elif service == "iotda":
            err = iotda_error(403, IOTDA_THROTTLED,
                              "The request rate limit has been reached.")
        else:
            err = rfs_error(429, RF_THROTTLED,
                            "Too many requests, retry after some minutes.")
        err.headers = headers
        return err

    def inject(self, op, raw_path, raw_query, params, raw):
        """The `inject` knob: raw JSON text, spliced byte for byte into the
        first page (no marker, no offset) of a list answer, so that a test
        can send what a JSON encoder never would (a NUL in a key, a raw NUL
        byte, bytes that are not UTF-8, an entry that is not stored)."""
        if op not in LIST_ENTRIES or "marker" in params or \
                "offset" in params:
            return raw
        with self.server.cloud.lock:
            rules = list(self.server.cloud.faults["inject"])
        target = raw_path + "?" + raw_query
        # Each text goes in front: in reverse, the first rule ends first.
        for rule in reversed(rules):
            if rule["op"] != op or rule.get("match", "") not in target:
                continue
            text = rule.get("entry", rule.get("member"))
            data = text.encode("utf-8", "surrogateescape")
            if "member" in rule:
                raw = b"{" + data + b", " + raw[1:]
                continue
            head = b'"%s": [' % LIST_ENTRIES[op].encode()
            at = raw.find(head)
            if at < 0:
                continue
            at += len(head)
            sep = b"" if raw[at:at + 1] == b"]" else b", "
            raw = raw[:at] + data + sep + raw[at:]
        return raw

    def corrupt(self, op, raw):
        cloud = self.server.cloud
        with cloud.lock:
            f = cloud.faults
            hostile = f["hostile"]
            trunc = f["truncate_rate"] > 0 and \
                cloud.fault_rng.random() < f["truncate_rate"]
            bad = f["malformed_rate"] > 0 and \
                cloud.fault_rng.random() < f["malformed_rate"]
            bad_kind = cloud.fault_rng.random() if bad else 0
        if hostile == "huge_body":
            # Parts, not one copy: a round of parallel answers must not
            # cost seconds of the client's timeout to build.
            raw = [huge_padding(), raw[1:]]
        elif hostile == "deep_json":
            depth = 100000
            raw = raw[:-1] + b',"deep":' + b"[" * depth + b"]" * depth + \
                b"}"
        if bad:
            if bad_kind < 0.5:
                raw = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
            elif op.endswith("list") or op.startswith("rfs.list"):
                raw = b'{"packages":{"oops":1},"providers":"none",' \
                      b'"versions":7,"page":[],"page_info":"x"}'
            else:
                raw = b'["not", "an", "object"]'
        if trunc and isinstance(raw, list):
            raw = b"".join(raw)
        if trunc and len(raw) > 1:
            raw = raw[:max(1, len(raw) // 2)]
        return raw
