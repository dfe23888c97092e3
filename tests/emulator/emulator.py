#!/usr/bin/python3
"""emulator.py - a local stand-in for Huawei Cloud IoTDA, RFS and IAM.

One process, one loopback port. It answers the OTA package, private provider
and IAM token APIs as docs/cloud-api.md describes them, verifies AK/SK
signatures and tokens, can inject faults, and counts every request so that
tests can assert exactly what a client sent. Control API under /_emu/ (no auth).
Python 3 standard library only; see docs/emulator.md.
"""

import argparse
import base64
import bisect
import calendar
import hashlib
import http.server
import json
import os
import random
import re
import socket
import ssl
import sys
import threading
import time
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import signer  # noqa: E402

DEFAULT_REGION = "cn-north-4"
DEFAULT_PROJECT = "0123456789abcdef0123456789abcdef"
DEFAULT_AK = "EMULATORAK0123456789"
DEFAULT_SK = "emulator/secret+key/0123456789abcdefgh"
DEFAULT_USER = "demo:demo-password:demo"

DAY = 86400
SPREAD_SECONDS = 400 * DAY  # seeded create times cover the past 400 days
DATE_WINDOW = 15 * 60       # allowed X-Sdk-Date skew
PACKAGE_TYPES = ("softwarePackage", "firmwarePackage", "modulePackage")
MAX_MARKER = "ffffffffffffffffffffffff"
# Seeded packages take these types in turn unless told others.
SEED_TYPES = ("firmwarePackage", "softwarePackage")

OPS = ("iotda.list", "iotda.show", "iotda.delete", "iotda.create",
       "rfs.list_providers", "rfs.show_provider", "rfs.delete_provider",
       "rfs.list_versions", "rfs.show_version", "rfs.delete_version",
       "rfs.create_provider", "rfs.create_version",
       "iam.token", "iam.projects", "other")

# The list operations whose first pages the `inject` knob can add raw JSON
# to, and the member that holds their entries.
LIST_ENTRIES = {"iotda.list": "packages", "rfs.list_providers": "providers",
                "rfs.list_versions": "versions"}

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

# Error codes, each listed in docs/emulator.md: the cloud's own, and the
# emulator-owned ones, which are marked [derived] there.
IOTDA_BAD_PARAM = "IOTDA.000006"
IOTDA_BAD_BODY = "IOTDA.000008"
IOTDA_BAD_LIMIT = "IOTDA.000017"
IOTDA_BAD_MARKER = "IOTDA.000018"
IOTDA_FORBIDDEN = "IOTDA.EMU403"
IOTDA_NOT_FOUND = "IOTDA.EMU404"
IOTDA_THROTTLED = "IOTDA.021101"
IOTDA_INTERNAL = "IOTDA.000020"
RF_BAD_PARAM = "RF.10011001"
RF_ID_MISMATCH = "RF.10011002"
RF_BAD_MARKER = "RF.10011003"
RF_FORBIDDEN = "RF.10013001"
RF_NO_PROVIDER = "RF.10014001"
RF_NO_VERSION = "RF.10014002"
RF_CONFLICT = "RF.10019001"
RF_THROTTLED = "RF.10012001"
RF_INTERNAL = "RF.10010001"
GW_AUTH = "APIGW.0301"
GW_DATE = "APIGW.0303"
GW_PROJECT = "APIGW.0302"
GW_NOT_FOUND = "APIGW.0101"
GW_THROTTLED = "APIGW.0308"

PROVIDER_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$")
VERSION_RE = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
PACKAGE_ID_RE = re.compile(r"^[A-Za-z0-9-]{1,36}$")
IDENT_RE = re.compile(r"^[A-Za-z0-9_-]{1,36}$")
PKG_VERSION_RE = re.compile(r"^[A-Za-z0-9_.-]{1,256}$")
HEX24_RE = re.compile(r"^[0-9a-fA-F]{24}$")
UINT_RE = re.compile(r"^[0-9]{1,9}$")


class ApiError(Exception):
    """An answer other than success, raised anywhere in request handling."""

    def __init__(self, status, body, headers=()):
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = list(headers)


def iotda_error(status, code, msg):
    return ApiError(status, {"error_code": code, "error_msg": msg})


def rfs_error(status, code, msg):
    return ApiError(status, {"error_code": code, "error_msg": msg,
                             "encoded_authorization_message": "",
                             "details": []})


def iam_error(status, title, msg):
    return ApiError(status, {"error": {"code": status, "title": title,
                                       "message": msg}})


def service_of(op):
    return op.split(".")[0] if op != "other" else "gateway"


def service_error(service, status, code, msg):
    if service == "iotda":
        return iotda_error(status, code, msg)
    if service == "rfs":
        return rfs_error(status, code, msg)
    if service == "iam":
        return iam_error(status, "Error", msg)
    return ApiError(status, {"error_code": code, "error_msg": msg})


DEFAULT_CODES = {
    "iotda": {400: IOTDA_BAD_PARAM, 403: IOTDA_FORBIDDEN,
              404: IOTDA_NOT_FOUND, 500: IOTDA_INTERNAL},
    "rfs": {400: RF_BAD_PARAM, 403: RF_FORBIDDEN, 404: RF_NO_PROVIDER,
            409: RF_CONFLICT, 429: RF_THROTTLED, 500: RF_INTERNAL},
}


def default_code(service, status):
    table = DEFAULT_CODES.get(service, {})
    if status in table:
        return table[status]
    if service == "iotda":
        return "IOTDA.EMU%03d" % status
    if service == "rfs":
        return "RF.1001%04d" % status
    return "APIGW.0%03d" % (status % 1000)


# ---------------------------------------------------------------- times


def iotda_time(epoch):
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(int(epoch)))


def rfs_time(epoch_ms):
    sec, ms = divmod(int(epoch_ms), 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)) + \
        ".%03dZ" % ms


def iam_time(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(epoch))) + \
        ".000000Z"


def parse_time_field(fields, now):
    """Epoch seconds (float) from create_time/age_days of a control call."""
    if fields.get("age_days") is not None:
        return now - float(fields["age_days"]) * DAY
    value = fields.get("create_time")
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    for fmt, frac in (("%Y%m%dT%H%M%SZ", False),
                      ("%Y-%m-%dT%H:%M:%S", True)):
        text = value
        extra = 0.0
        if frac:
            text = value.rstrip("Z")
            if "." in text:
                text, ms = text.split(".", 1)
                extra = float("0." + ms) if ms else 0.0
        try:
            return calendar.timegm(time.strptime(text, fmt)) + extra
        except ValueError:
            continue
    raise ValueError("create_time: use epoch seconds, yyyyMMddTHHmmssZ "
                     "or YYYY-MM-DDTHH:mm:ss.SSSZ")


def spread_age(index, count):
    """Age in seconds of seeded item index (0 = oldest) of count.

    Ages are (count - index - 0.5) / count of 400 days: evenly spaced, the
    oldest 400 days minus half a step, never on a whole-day boundary when
    count divides 400 (so `find -mtime` answers are stable).
    """
    return (count - index - 0.5) * SPREAD_SECONDS / count


# ---------------------------------------------------------------- state


_HUGE = []


def huge_padding():
    """The start of a huge_body answer: a 64 MiB string field, built once."""
    if not _HUGE:
        _HUGE.append(b'{"padding":"' + b"x" * (64 << 20) + b'",')
    return _HUGE[0]


def seed_types(value):
    """The package types a seed cycles through: None (the default), a list
    or a comma-separated string of distinct PACKAGE_TYPES."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list) or not value or \
            len(set(value)) != len(value) or \
            not all(t in PACKAGE_TYPES for t in value):
        raise ApiError(400, {"error": "package_types: a list of distinct "
                             "types out of %s" % ", ".join(PACKAGE_TYPES)})
    return tuple(value)


def default_faults():
    return {"latency_ms": 0, "error_rate": 0.0, "throttle": 0,
            "throttle_style": "service", "retry_after": None,
            "drop_rate": 0.0, "stall": False, "truncate_rate": 0.0,
            "malformed_rate": 0.0, "status_for": [], "expire_tokens": False,
            "hostile": None, "lose_delete_answers": 0, "inject": []}


def empty_stats():
    return {"requests": {op: 0 for op in OPS}, "total": 0,
            "auth_failures": 0, "tls_failures": 0, "deletes": [], "log": [],
            "log_dropped": 0}


class Cloud:
    """Everything the emulator holds; every access under self.lock."""

    def __init__(self, region, project_id, keys, users, seed, token_ttl):
        self.lock = threading.RLock()
        self.region = region
        self.project_id = project_id
        self.keys = dict(keys)
        self.start_keys = dict(keys)  # what {"reset": true} goes back to
        self.users = {}
        for name, password, domain in users:
            self.users[(name, domain)] = password
        first_domain = users[0][2] if users else "demo"
        self.domain_name = first_domain
        self.domain_id = hashlib.md5(
            ("domain:" + first_domain).encode()).hexdigest()
        self.random_seed = seed
        self.rng = random.Random(seed)
        self.fault_rng = random.Random(seed + 1)
        self.token_ttl = token_ttl
        # package_id -> record; per type, the sorted record ids (the
        # order and the markers of ListOtaPackageInfo) and their packages.
        self.packages = {}
        self.by_type = {t: [] for t in PACKAGE_TYPES}
        self.by_record = {}
        self.package_rng = random.Random(seed + 2)
        self.filter_counts = {}
        self.seq = 0
        self.last_api_epoch = 0
        self.providers = {}
        self.provider_keys = None  # sorted (epoch_ms, name), lazily built
        self.provider_counter = 0
        self.tokens = {}
        self.token_seq = 0
        self.token_floor = 0  # tokens with seq <= floor count as expired
        self.faults = default_faults()
        self.unstalled = threading.Event()
        self.unstalled.set()
        self.stats = empty_stats()
        self.log_limit = 200000

    # ------------------------------------------------------- packages

    def _new_record_id(self, epoch):
        self.seq += 1
        return "%08x%016x" % (int(epoch) & 0xffffffff, self.seq)

    def _new_package_id(self):
        """24 hex digits, like a record id, but drawn at random: paging by
        package_id instead of page.marker skips or repeats records."""
        while True:
            pid = "%024x" % self.package_rng.getrandbits(96)
            if pid not in self.packages and pid not in self.by_record:
                return pid

    def make_package(self, fields, epoch):
        """Build (not insert) one package record. Its record id orders
        the walk and is the marker; its package_id is a random one unless
        fields give one (any string: hostile-name tests)."""
        n = self.seq + 1
        rid = self._new_record_id(epoch)
        pid = fields.get("package_id") or self._new_package_id()
        ptype = fields.get("package_type", "firmwarePackage")
        product = fields.get("product_id", "emu-product-%d" % (n % 4))
        info = {
            "package_id": pid,
            "app_id": fields.get("app_id", "emu-app"),
            "package_type": ptype,
            "product_id": product,
            "product_name": fields.get("product_name",
                                       "Emulated product %s" % product),
            "version": fields.get("version", "V1.%d.%d" % (n // 100,
                                                           n % 100)),
            "support_source_versions": list(
                fields.get("support_source_versions", [])),
            "description": fields.get("description",
                                      "Emulated package %d" % n),
            "custom_info": fields.get("custom_info", ""),
            "create_time": iotda_time(epoch),
        }
        if ptype == "modulePackage" or "module_name" in fields:
            info["module_name"] = fields.get("module_name", "module-a")
        loc = fields.get("file_location", {}).get("obs_location", {})
        obs = {
            "region_name": loc.get("region_name", self.region),
            "bucket_name": loc.get("bucket_name", "emu-ota-bucket"),
            "object_key": loc.get("object_key", "packages/%s.bin" % pid),
            "sign_method": loc.get("sign_method", "SHA256"),
            "sign": loc.get("sign", hashlib.sha256(pid.encode()).hexdigest()),
        }
        show = dict(info)
        show["file_location"] = {"obs_location": obs}
        return {"id": pid, "record": rid, "type": ptype, "epoch": int(epoch),
                "list": info, "show": show}

    def insert_packages(self, records):
        touched = set()
        for rec in records:
            self.packages[rec["id"]] = rec
            self.by_record[rec["record"]] = rec
            lst = self.by_type[rec["type"]]
            if lst and lst[-1] > rec["record"]:
                touched.add(rec["type"])
            lst.append(rec["record"])
        for t in touched:
            self.by_type[t].sort()
        self.filter_counts.clear()

    def find_package(self, package_id):
        """The record of that package_id, or None."""
        return self.packages.get(package_id)

    def remove_package(self, pid):
        rec = self.packages.pop(pid)
        del self.by_record[rec["record"]]
        lst = self.by_type[rec["type"]]
        i = bisect.bisect_left(lst, rec["record"])
        if i < len(lst) and lst[i] == rec["record"]:
            del lst[i]
        self.filter_counts.clear()
        return rec

    def api_epoch(self):
        """Now, but never before the last API-created package (monotonic)."""
        now = max(int(time.time()), self.last_api_epoch)
        self.last_api_epoch = now
        return now

    # ------------------------------------------------------- providers

    def make_provider(self, name, epoch_ms, description=None):
        pid = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        obj = {
            "provider_id": pid,
            "provider_name": name,
            "provider_description": description
            if description is not None else "Emulated provider %s" % name,
            "provider_source": "huawei.com/private-provider/%s" % name,
            "provider_agency_urn": "",
            "provider_agency_name": "",
            "create_time": rfs_time(epoch_ms),
            "update_time": rfs_time(epoch_ms),
        }
        return {"obj": obj, "epoch_ms": int(epoch_ms), "versions": {}}

    def insert_provider(self, prov):
        self.providers[prov["obj"]["provider_name"]] = prov
        self.provider_keys = None

    def remove_provider(self, name):
        prov = self.providers.pop(name)
        self.provider_keys = None
        return prov

    def default_urn(self, name, version):
        return "urn:fss:%s:%s:function:default:%s-%s:latest" % (
            self.region, self.project_id, name, version.replace(".", "-"))

    def add_version(self, prov, version, epoch_ms, urn=None,
                    description=None):
        obj = prov["obj"]
        v = {
            "provider_id": obj["provider_id"],
            "provider_name": obj["provider_name"],
            "provider_version": version,
            "version_description": description if description is not None
            else "Version %s of %s" % (version, obj["provider_name"]),
            "function_graph_urn": urn or self.default_urn(
                obj["provider_name"], version),
            "create_time": rfs_time(epoch_ms),
        }
        prov["versions"][version] = {"obj": v, "epoch_ms": int(epoch_ms)}
        return v

    def sorted_provider_keys(self):
        if self.provider_keys is None:
            self.provider_keys = sorted(
                (p["epoch_ms"], n) for n, p in self.providers.items())
        return self.provider_keys

    # ------------------------------------------------------- seeding

    def clear(self):
        self.packages.clear()
        self.by_record.clear()
        for t in self.by_type:
            self.by_type[t] = []
        self.filter_counts.clear()
        self.providers.clear()
        self.provider_keys = None
        self.provider_counter = 0  # seeded names restart at 00001

    def seed(self, packages=0, providers=0, versions=0, clear=False,
             package_types=None):
        now = time.time()
        if clear:
            self.clear()
        types = package_types or SEED_TYPES
        recs = []
        for i in range(packages):
            epoch = int(now - spread_age(i, packages))
            ptype = types[i % len(types)]
            recs.append(self.make_package({"package_type": ptype}, epoch))
        self.insert_packages(recs)
        for j in range(providers):
            age = spread_age(j, providers)
            epoch_ms = int(round((now - age) * 1000))
            self.provider_counter += 1
            name = "emu-provider-%05d" % self.provider_counter
            while name in self.providers:
                self.provider_counter += 1
                name = "emu-provider-%05d" % self.provider_counter
            prov = self.make_provider(name, epoch_ms)
            step = min(3600 * 1000, int(age * 1000) // (versions + 1))
            for k in range(versions):
                self.add_version(prov, "1.0.%d" % k,
                                 epoch_ms + (k + 1) * step)
            self.insert_provider(prov)

    # ------------------------------------------------------- tokens

    def issue_token(self, user, domain):
        self.token_seq += 1
        raw = bytes(self.rng.getrandbits(8) for _ in range(48))
        # Real tokens are ~9 KB PKI blobs starting "MII": pad to that size.
        body = base64.b64encode(raw).decode()
        token = "MII" + (body * 200)[:8000].replace("/", "-") + \
            "%08d" % self.token_seq
        issued = time.time()
        self.tokens[token] = {"seq": self.token_seq, "issued": issued,
                              "expires": issued + self.token_ttl,
                              "user": user, "domain": domain}
        return token, self.tokens[token]

    def token_valid(self, token):
        rec = self.tokens.get(token)
        if rec is None:
            return False
        if rec["seq"] <= self.token_floor:
            return False
        return time.time() < rec["expires"]

    # ------------------------------------------------------- views

    def state(self, brief=False):
        pkgs = []
        for rid in sorted(self.by_record, reverse=True):
            rec = self.by_record[rid]
            if brief:
                p = {"package_id": rec["id"], "package_type": rec["type"],
                     "create_time": rec["list"]["create_time"]}
            else:
                p = dict(rec["show"])
            p["create_epoch"] = rec["epoch"]
            p["record_id"] = rid
            pkgs.append(p)
        provs = []
        for _, name in reversed(self.sorted_provider_keys()):
            prov = self.providers[name]
            p = dict(prov["obj"])
            p["create_epoch_ms"] = prov["epoch_ms"]
            vs = []
            for v in sorted(prov["versions"].values(),
                            key=lambda v: (v["epoch_ms"],
                                           v["obj"]["provider_version"])):
                d = dict(v["obj"])
                d["create_epoch_ms"] = v["epoch_ms"]
                vs.append(d)
            p["versions"] = vs
            provs.append(p)
        return {"packages": pkgs, "providers": provs,
                "region": self.region, "project_id": self.project_id,
                "domain_id": self.domain_id}


# ---------------------------------------------------------------- routing

ROUTES = [
    (re.compile(r"^/v5/iot/([^/]+)/ota-upgrades/packages$"),
     {"GET": "iotda.list", "POST": "iotda.create"}),
    (re.compile(r"^/v5/iot/([^/]+)/ota-upgrades/packages/([^/]+)$"),
     {"GET": "iotda.show", "DELETE": "iotda.delete"}),
    (re.compile(r"^/v1/private-providers$"),
     {"GET": "rfs.list_providers", "POST": "rfs.create_provider"}),
    (re.compile(r"^/v1/private-providers/([^/]+)/metadata$"),
     {"GET": "rfs.show_provider"}),
    (re.compile(r"^/v1/private-providers/([^/]+)$"),
     {"DELETE": "rfs.delete_provider"}),
    (re.compile(r"^/v1/private-providers/([^/]+)/versions$"),
     {"GET": "rfs.list_versions", "POST": "rfs.create_version"}),
    (re.compile(r"^/v1/private-providers/([^/]+)/versions/([^/]+)/metadata$"),
     {"GET": "rfs.show_version"}),
    (re.compile(r"^/v1/private-providers/([^/]+)/versions/([^/]+)$"),
     {"DELETE": "rfs.delete_version"}),
    (re.compile(r"^/v3/auth/tokens$"), {"POST": "iam.token"}),
    (re.compile(r"^/v3/projects$"), {"GET": "iam.projects"}),
]


def path_segment(raw):
    """One percent-encoded path segment, decoded as the gateway does:
    bytes, then UTF-8. Bytes that are not UTF-8 stay apart (surrogate
    escapes), so they can never equal the name of a record."""
    return urllib.parse.unquote(raw, errors="surrogateescape")


def route(method, path):
    for regex, methods in ROUTES:
        m = regex.match(path)
        if m:
            op = methods.get(method)
            if op:
                return op, [path_segment(g) for g in m.groups()]
            return "other", []
    return "other", []


def param_dict(pairs):
    out = {}
    for name, value in pairs:
        out.setdefault(name, []).append(value)
    return out


def first(params, name):
    vals = params.get(name)
    return vals[0] if vals else None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "hwcfs-emulator/1"
    # Headers and body go out in separate writes; without TCP_NODELAY,
    # Nagle plus the client's delayed ACK adds ~40 ms to every answer on a
    # kept-alive connection, and benchmarks would measure that, not latency.
    disable_nagle_algorithm = True

    # ------------------------------------------------------- plumbing

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("emulator: %s\n" % (fmt % args))

    def read_body(self):
        te = self.headers.get("Transfer-Encoding", "")
        if te.lower() == "chunked":
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n",
                                                             b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        try:
            n = int(length)
        except ValueError:
            n = -1
        if n < 0:
            self.close_connection = True
            raise ApiError(400, {"error_code": "APIGW.0201",
                                 "error_msg": "bad Content-Length"})
        return self.rfile.read(n)

    def send(self, status, body=b"", headers=(), ctype="application/json"):
        """One complete answer with X-Request-Id and Content-Length; body
        is bytes or a list of bytes sent one after the other."""
        self.send_response(status)
        self.send_header("X-Request-Id", self.request_id)
        for name, value in headers:
            self.send_header(name, value)
        parts = body if isinstance(body, list) else [body]
        length = sum(len(part) for part in parts)
        if status != 204:
            if length:
                self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(length))
        self.end_headers()
        for part in parts if status != 204 else ():
            view = memoryview(part)
            for off in range(0, len(view), 1 << 20):
                self.wfile.write(view[off:off + (1 << 20)])
        self.wfile.flush()

    def send_json(self, status, obj, headers=()):
        body = b"" if obj is None else json.dumps(obj).encode()
        self.send(status, body, headers)

    def drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def dispatch(self, method):
        self.request_id = uuid.uuid4().hex
        raw_path, _, raw_query = self.path.partition("?")
        try:
            body = self.read_body()
        except ApiError as e:
            self.send_json(e.status, e.body)
            return
        except (ValueError, OSError):
            self.drop()
            return
        try:
            if raw_path.startswith("/_emu/") or raw_path == "/_emu":
                self.control(method, raw_path, raw_query, body)
            else:
                self.api(method, raw_path, raw_query, body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    # ------------------------------------------------------- API path

    def api(self, method, raw_path, raw_query, body):
        cloud = self.server.cloud
        op, args = route(method, raw_path)
        pairs = signer.parse_query(raw_query)
        params = param_dict(pairs)
        entry = {"op": op, "method": method, "path": raw_path,
                 "query": raw_query, "params": params, "status": None,
                 "auth": "none", "host": self.headers.get("Host"),
                 "content_type": self.headers.get("Content-Type")}
        delete_entry = None
        with cloud.lock:
            cloud.stats["requests"][op] += 1
            cloud.stats["total"] += 1
            log = cloud.stats["log"]
            log.append(entry)
            if len(log) > cloud.log_limit:
                # Long benchmarks: keep the newest entries, say how many
                # went, and keep memory bounded.
                cut = len(log) - cloud.log_limit
                del log[:cut]
                cloud.stats["log_dropped"] += cut
            if method == "DELETE":
                if op == "rfs.delete_version":
                    res = "%s/%s" % (args[0], args[1])
                elif op == "rfs.delete_provider":
                    res = args[0]
                elif op == "iotda.delete":
                    res = args[1]
                else:
                    res = raw_path
                delete_entry = {"op": op, "resource": res,
                                "provider_id": first(params, "provider_id"),
                                "status": None}
                cloud.stats["deletes"].append(delete_entry)
            faults = dict(cloud.faults)
            drop = faults["drop_rate"] > 0 and \
                cloud.fault_rng.random() < faults["drop_rate"]

        if faults["latency_ms"]:
            time.sleep(faults["latency_ms"] / 1000.0)
        if faults["stall"]:
            with cloud.lock:
                entry["stalled"] = True
            cloud.unstalled.wait()
        if drop:
            with cloud.lock:
                entry["dropped"] = True
            self.drop()
            return

        headers = []
        try:
            status, obj, raw, headers = self.api_answer(
                op, args, method, raw_path, pairs, params, body, entry)
        except ApiError as e:
            status, obj, raw, headers = e.status, e.body, None, e.headers
        if raw is None:
            raw = b"" if obj is None else json.dumps(obj).encode()
        if status == 200 and raw:
            raw = self.inject(op, raw_path, raw_query, params, raw)
            raw = self.corrupt(op, raw)
        with cloud.lock:
            entry["status"] = status
            if delete_entry is not None:
                delete_entry["status"] = status
            # A delete done but its answer lost on the way back: the
            # client cannot know, and must take a retry's 404 as success.
            lose = delete_entry is not None and status < 300 and \
                cloud.faults["lose_delete_answers"] > 0
            if lose:
                cloud.faults["lose_delete_answers"] -= 1
                entry["dropped"] = True
                delete_entry["answer_lost"] = True
        if lose:
            self.drop()
            return
        self.send(status, raw, headers)

    def api_answer(self, op, args, method, raw_path, pairs, params, body,
                   entry):
        cloud = self.server.cloud
        service = service_of(op)
        if op == "other":
            raise ApiError(404, {"error_code": GW_NOT_FOUND,
                                 "error_msg": "API not found",
                                 "request_id": self.request_id})
        if op != "iam.token":
            self.authenticate(raw_path, pairs, body, entry)
        with cloud.lock:
            faults = cloud.faults
            if faults["throttle"] > 0:
                faults["throttle"] -= 1
                raise self.throttled(service, faults)
            if faults["error_rate"] > 0 and \
                    cloud.fault_rng.random() < faults["error_rate"]:
                raise service_error(service, 500,
                                    default_code(service, 500),
                                    "injected internal error")
            for rule in faults["status_for"]:
                if rule["match"] in raw_path and \
                        rule.get("method", method).upper() == method:
                    st = int(rule["status"])
                    raise service_error(
                        service, st,
                        rule.get("error_code") or default_code(service, st),
                        "injected status %d" % st)
        handler = getattr(self, "op_" + op.replace(".", "_"))
        return handler(args, params, body)

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

    def gateway_error(self, status, code, msg):
        with self.server.cloud.lock:
            if status == 401:
                self.server.cloud.stats["auth_failures"] += 1
        return ApiError(status, {"error_code": code, "error_msg": msg,
                                 "request_id": self.request_id})

    def authenticate(self, raw_path, pairs, body, entry):
        cloud = self.server.cloud
        token = self.headers.get("X-Auth-Token")
        authz = self.headers.get("Authorization")
        if token is not None:
            with cloud.lock:
                ok = cloud.token_valid(token.strip())
            if not ok:
                raise self.gateway_error(
                    401, GW_AUTH, "Incorrect IAM authentication "
                    "information: token invalid or expired")
            entry["auth"] = "token"
        elif authz is not None:
            auth = signer.parse_authorization(authz)
            if auth is None:
                raise self.gateway_error(
                    401, GW_AUTH, "Incorrect IAM authentication "
                    "information: malformed Authorization")
            date = self.headers.get("X-Sdk-Date")
            when = signer.parse_date(date.strip()) if date else None
            if when is None:
                raise self.gateway_error(
                    401, GW_AUTH, "Incorrect IAM authentication "
                    "information: missing or bad X-Sdk-Date")
            if abs(time.time() - when) > DATE_WINDOW:
                raise self.gateway_error(
                    401, GW_DATE, "Incorrect IAM authentication "
                    "information: X-Sdk-Date is more than 15 minutes "
                    "away from the server time")
            sk = cloud.keys.get(auth["ak"])
            if sk is None:
                raise self.gateway_error(
                    401, GW_AUTH, "Incorrect IAM authentication "
                    "information: unknown access key")
            if auth["algo"] == signer.V11_ALGO:
                parts = (auth["info"] or "").split("/")
                if len(parts) != 3 or parts[0] != date.strip()[:8] or \
                        parts[1] != cloud.region or not parts[2]:
                    raise self.gateway_error(
                        401, GW_AUTH, "Incorrect IAM authentication "
                        "information: bad credential scope")
            # The SDKs sign every header they send; a gateway that
            # routes on Instance-Id must not trust an unsigned one.
            if self.headers.get("Instance-Id") is not None and \
                    "instance-id" not in auth["signed"]:
                raise self.gateway_error(
                    401, GW_AUTH, "Incorrect IAM authentication "
                    "information: Instance-Id is not signed")
            headers = list(self.headers.items())
            if not signer.verify(self.command, raw_path, pairs, headers,
                                 body, auth, sk):
                raise self.gateway_error(
                    401, GW_AUTH, "Incorrect IAM authentication "
                    "information: verify aksk signature fail")
            entry["auth"] = "v11" if auth["algo"] == signer.V11_ALGO \
                else "sdk"
        else:
            raise self.gateway_error(
                401, GW_AUTH, "Incorrect IAM authentication information: "
                "no token and no signature")
        iid = self.headers.get("Instance-Id")
        if iid is not None:
            entry["instance_id"] = iid.strip()
        xpid = self.headers.get("X-Project-Id")
        if xpid is not None and xpid.strip() != cloud.project_id:
            raise self.gateway_error(
                403, GW_PROJECT, "X-Project-Id does not match the "
                "project of the credentials")

    # ------------------------------------------------------- corruption

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

    # ------------------------------------------------------- IoTDA

    def check_project(self, project):
        if project != self.server.cloud.project_id:
            raise iotda_error(403, IOTDA_FORBIDDEN,
                              "project_id in the path is not the "
                              "project of the credentials")

    def op_iotda_list(self, args, params, body):
        cloud = self.server.cloud
        self.check_project(args[0])
        ptype = first(params, "package_type")
        if ptype is None:
            raise iotda_error(400, IOTDA_BAD_PARAM,
                              "package_type is required")
        if ptype not in PACKAGE_TYPES:
            raise iotda_error(400, IOTDA_BAD_PARAM,
                              "package_type is invalid")
        limit = 10
        if "limit" in params:
            text = first(params, "limit")
            if not UINT_RE.match(text):
                raise iotda_error(400, IOTDA_BAD_PARAM, "limit is invalid")
            limit = int(text)
            if not 1 <= limit <= 50:
                raise iotda_error(400, IOTDA_BAD_LIMIT,
                                  "limit is out of range")
        offset = 0
        if "offset" in params:
            text = first(params, "offset")
            if not UINT_RE.match(text) or not 0 <= int(text) <= 500:
                raise iotda_error(400, IOTDA_BAD_PARAM,
                                  "offset is out of range")
            offset = int(text)
        marker = MAX_MARKER
        given_marker = None
        if "marker" in params:
            given_marker = first(params, "marker")
            if not HEX24_RE.match(given_marker):
                raise iotda_error(400, IOTDA_BAD_MARKER,
                                  "marker is out of range")
            marker = given_marker.lower()
        if cloud.faults["hostile"] in ("endless_pages", "endless_fat_pages"):
            return 200, self.endless_iotda_page(
                ptype, given_marker, offset, limit,
                cloud.faults["hostile"] == "endless_fat_pages"), None, []
        repeat = cloud.faults["hostile"] == "repeat_pages"
        if repeat:
            # the first page again and again, the marker one step lower
            # each time, for REPEAT_PAGES markers (then a short page)
            step = int(MAX_MARKER, 16) - int(marker, 16)
            marker = MAX_MARKER
            offset = 0 if step < REPEAT_PAGES else 1 << 20
        filters = {}
        for name, regex in (("app_id", IDENT_RE), ("product_id", IDENT_RE),
                            ("version", PKG_VERSION_RE)):
            if name in params:
                val = first(params, name)
                if not regex.match(val):
                    raise iotda_error(400, IOTDA_BAD_PARAM,
                                      "%s is invalid" % name)
                filters[name] = val
        with cloud.lock:
            hostile = cloud.faults["hostile"]
            lst = cloud.by_type[ptype]
            if hostile == "duplicates":
                i = bisect.bisect_right(lst, marker)
            else:
                i = bisect.bisect_left(lst, marker)
            out = []
            last = None
            skip = offset
            while i > 0 and len(out) < limit:
                i -= 1
                rec = cloud.by_record[lst[i]]
                if filters and any(rec["list"].get(k) != v
                                   for k, v in filters.items()):
                    continue
                if skip:
                    skip -= 1
                    continue
                out.append(rec["list"])
                last = lst[i]
            if filters:
                key = (ptype, tuple(sorted(filters.items())))
                count = cloud.filter_counts.get(key)
                if count is None:
                    count = sum(1 for rid in lst if all(
                        cloud.by_record[rid]["list"].get(k) == v
                        for k, v in filters.items()))
                    cloud.filter_counts[key] = count
            else:
                count = len(lst)
        page = {"count": count}
        if out:
            # The record id of the last record: never its package_id.
            page["marker"] = last
        if repeat:
            page["marker"] = "%024x" % (int(MAX_MARKER, 16) - step - 1)
        if hostile == "marker_stuck":
            page["marker"] = given_marker or MAX_MARKER
        elif hostile == "negative_count":
            page["count"] = -count - 1
        elif hostile == "bad_names" and given_marker is None:
            fakes = []
            for name in ("../../etc/passwd", "evil/name", ".."):
                fake = dict(out[0]) if out else {"package_type": ptype}
                fake["package_id"] = name
                fakes.append(fake)
            out = fakes + out
        return 200, {"packages": out, "page": page}, None, []

    @staticmethod
    def endless_iotda_page(ptype, marker, offset, limit, fat):
        """A page of packages never seen before, below the marker, as long
        as ENDLESS_ENTRIES lasts; each type has ids of its own."""
        start = int(MAX_MARKER, 16) - (PACKAGE_TYPES.index(ptype) << 80)
        n = min(start, int(marker, 16) if marker else start) - 1 - offset
        out = []
        while len(out) < limit and start - n <= ENDLESS_ENTRIES:
            out.append({"package_id": "%024x" % n, "package_type": ptype,
                        "version": "V%d" % (start - n),
                        "description": "x" * FAT_PAD if fat
                        else "Endless package",
                        "create_time": iotda_time(1700000000)})
            n -= 1
        page = {"count": ENDLESS_ENTRIES}
        if out:
            page["marker"] = out[-1]["package_id"]
        return {"packages": out, "page": page}

    def package_arg(self, args):
        """The package_id of the path: one a record has (whatever its
        characters, see docs/emulator.md), else one of the id pattern."""
        self.check_project(args[0])
        pid = args[1]
        with self.server.cloud.lock:
            known = pid in self.server.cloud.packages
        if not known and not PACKAGE_ID_RE.match(pid):
            raise iotda_error(400, IOTDA_BAD_PARAM, "package_id is invalid")
        return pid

    def op_iotda_show(self, args, params, body):
        cloud = self.server.cloud
        pid = self.package_arg(args)
        with cloud.lock:
            rec = cloud.find_package(pid)
            if rec is None:
                raise iotda_error(404, IOTDA_NOT_FOUND,
                                  "The OTA package does not exist.")
            return 200, rec["show"], None, []

    def op_iotda_delete(self, args, params, body):
        cloud = self.server.cloud
        pid = self.package_arg(args)
        with cloud.lock:
            if pid not in cloud.packages:
                raise iotda_error(404, IOTDA_NOT_FOUND,
                                  "The OTA package does not exist.")
            cloud.remove_package(pid)
        return 204, None, None, []

    def op_iotda_create(self, args, params, body):
        cloud = self.server.cloud
        self.check_project(args[0])
        try:
            req = json.loads(body or b"null")
        except ValueError:
            raise iotda_error(400, IOTDA_BAD_BODY, "malformed JSON body")
        if not isinstance(req, dict):
            raise iotda_error(400, IOTDA_BAD_BODY, "body must be an object")
        checks = [("app_id", IDENT_RE, True), ("product_id", IDENT_RE, True),
                  ("version", PKG_VERSION_RE, True),
                  ("module_name", re.compile(r"^[A-Za-z0-9_.-]{1,64}$"),
                   False)]
        for name, regex, required in checks:
            val = req.get(name)
            if val is None:
                if required:
                    raise iotda_error(400, IOTDA_BAD_PARAM,
                                      "%s is required" % name)
                continue
            if not isinstance(val, str) or not regex.match(val):
                raise iotda_error(400, IOTDA_BAD_PARAM,
                                  "%s is invalid" % name)
        if req.get("package_type") not in PACKAGE_TYPES:
            raise iotda_error(400, IOTDA_BAD_PARAM,
                              "package_type is invalid")
        # A module package belongs to an OTA module; no other type has one.
        if (req["package_type"] == "modulePackage") != \
                (req.get("module_name") is not None):
            raise iotda_error(400, IOTDA_BAD_PARAM,
                              "module_name goes with modulePackage only")
        ssv = req.get("support_source_versions", [])
        if not isinstance(ssv, list) or len(ssv) > 20 or not all(
                isinstance(v, str) and PKG_VERSION_RE.match(v) for v in ssv):
            raise iotda_error(400, IOTDA_BAD_PARAM,
                              "support_source_versions is invalid")
        for name, most in (("description", 1024), ("custom_info", 4096)):
            val = req.get(name, "")
            if not isinstance(val, str) or len(val) > most:
                raise iotda_error(400, IOTDA_BAD_PARAM,
                                  "%s is invalid" % name)
        loc = req.get("file_location")
        obs = loc.get("obs_location") if isinstance(loc, dict) else None
        if not isinstance(obs, dict) or not all(
                isinstance(obs.get(k), str) and obs.get(k)
                for k in ("region_name", "bucket_name", "object_key")):
            raise iotda_error(400, IOTDA_BAD_PARAM,
                              "file_location.obs_location is invalid")
        if not re.match(r"^[a-z0-9.-]{3,63}$", obs["bucket_name"]):
            raise iotda_error(400, IOTDA_BAD_PARAM, "bucket_name is invalid")
        if "sign" in obs and not re.match(r"^[0-9a-fA-F]{64}$",
                                          str(obs["sign"])):
            raise iotda_error(400, IOTDA_BAD_PARAM, "sign is invalid")
        if obs.get("sign_method", "SHA256") != "SHA256":
            raise iotda_error(400, IOTDA_BAD_PARAM, "sign_method is invalid")
        fields = {k: req[k] for k in (
            "app_id", "package_type", "product_id", "version", "module_name",
            "support_source_versions", "description", "custom_info",
            "file_location") if k in req}
        with cloud.lock:
            rec = cloud.make_package(fields, cloud.api_epoch())
            cloud.insert_packages([rec])
        return 201, rec["show"], None, []

    # ------------------------------------------------------- RFS

    def rfs_common(self):
        crid = self.headers.get("Client-Request-Id")
        if crid is None:
            raise rfs_error(400, RF_BAD_PARAM,
                            "Client-Request-Id header is required")
        if not 36 <= len(crid) <= 128:
            raise rfs_error(400, RF_BAD_PARAM,
                            "Client-Request-Id must be 36 to 128 chars")

    def provider_arg(self, name):
        """A provider name of the path: one a record has (whatever its
        characters), else one of the name pattern."""
        with self.server.cloud.lock:
            if name in self.server.cloud.providers:
                return name
        if not PROVIDER_RE.match(name):
            raise rfs_error(400, RF_BAD_PARAM, "provider_name is invalid")
        return name

    def version_arg(self, version, name=None):
        """A version of the path: one that provider name has, else one
        of the version pattern."""
        with self.server.cloud.lock:
            prov = self.server.cloud.providers.get(name)
            if prov is not None and version in prov["versions"]:
                return version
        m = VERSION_RE.match(version)
        if not m or len(version) < 5 or len(version) > 128 or any(
                int(g) >= 1 << 64 for g in m.groups()):
            raise rfs_error(400, RF_BAD_PARAM, "provider_version is invalid")
        return version

    def provider_id_param(self, value):
        if value is not None and len(value) != 36:
            raise rfs_error(400, RF_BAD_PARAM,
                            "provider_id must be 36 characters")
        return value

    def find_provider(self, name, provider_id):
        """The provider record (cloud.lock held by caller)."""
        prov = self.server.cloud.providers.get(name)
        if prov is None:
            raise rfs_error(404, RF_NO_PROVIDER,
                            "The private provider does not exist.")
        if provider_id is not None and \
                provider_id != prov["obj"]["provider_id"]:
            raise rfs_error(400, RF_ID_MISMATCH,
                            "provider_id does not match provider_name")
        return prov

    def sort_params(self, params):
        keys = params.get("sort_key", [])
        dirs = params.get("sort_dir", [])
        if len(keys) != len(dirs):
            raise rfs_error(400, RF_BAD_PARAM,
                            "sort_key and sort_dir must have the same "
                            "number of values")
        if any(k != "create_time" for k in keys):
            raise rfs_error(400, RF_BAD_PARAM,
                            "sort_key supports only create_time")
        if any(d not in ("asc", "desc") for d in dirs):
            raise rfs_error(400, RF_BAD_PARAM, "sort_dir must be asc or desc")
        return dirs[0] if dirs else "desc"

    def limit_param(self, params):
        if "limit" not in params:
            return 1000
        text = first(params, "limit")
        if not UINT_RE.match(text) or not 10 <= int(text) <= 1000:
            raise rfs_error(400, RF_BAD_PARAM,
                            "limit must be between 10 and 1000")
        return int(text)

    @staticmethod
    def params_hash(scope, params):
        rest = sorted((k, v) for k, vs in params.items() if k != "marker"
                      for v in vs)
        text = json.dumps([scope, rest])
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    @staticmethod
    def encode_marker(after, phash, inclusive=False):
        obj = {"a": after, "h": phash}
        if inclusive:
            obj["i"] = 1
        text = json.dumps(obj, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(text).decode().rstrip("=")

    def decode_marker(self, marker, phash):
        bad = rfs_error(400, RF_BAD_MARKER, "marker is invalid")
        if not 1 <= len(marker) <= 512:
            raise bad
        try:
            pad = "=" * (-len(marker) % 4)
            obj = json.loads(base64.urlsafe_b64decode(marker + pad))
            after = obj["a"]
            if after is not None:
                after = (int(after[0]), str(after[1]))
            if obj["h"] != phash:
                raise rfs_error(400, RF_BAD_MARKER,
                                "marker was issued for other parameters")
            return after, bool(obj.get("i"))
        except ApiError:
            raise
        except (ValueError, KeyError, TypeError, IndexError):
            raise bad

    def rfs_page(self, keys, params, scope):
        """One page of sorted keys [(epoch_ms, name)] and the page_info."""
        limit = self.limit_param(params)
        direction = self.sort_params(params)
        phash = self.params_hash(scope, params)
        after, inclusive = None, False
        if "marker" in params:
            after, inclusive = self.decode_marker(first(params, "marker"),
                                                  phash)
        hostile = self.server.cloud.faults["hostile"]
        if hostile == "repeat_pages":
            # the first page again and again, under ever fresh markers
            n = after[0] if after else 0
            page = keys[:limit] if direction == "asc" else \
                list(reversed(keys[-limit:]))
            info = {"current_count": len(page)}
            if n + 1 < REPEAT_PAGES:
                info["next_marker"] = self.encode_marker([n + 1, "r"], phash)
            return page, info, hostile
        if direction == "asc":
            if after is None:
                start = 0
            elif inclusive:
                start = bisect.bisect_left(keys, after)
            else:
                start = bisect.bisect_right(keys, after)
            page = keys[start:start + limit]
            more = start + limit < len(keys)
        else:
            if after is None:
                end = len(keys)
            elif inclusive:
                end = bisect.bisect_right(keys, after)
            else:
                end = bisect.bisect_left(keys, after)
            page = list(reversed(keys[max(0, end - limit):end]))
            more = end - limit > 0
        if hostile == "endless_empty":
            # Empty pages without end, each with a marker never seen.
            step = after[0] + 1 if after is not None else 1
            return [], {"current_count": 0, "next_marker":
                        self.encode_marker([step, ""], phash)}, hostile
        info = {"current_count": len(page)}
        if hostile == "next_marker_loop":
            info["next_marker"] = self.encode_marker(None, phash)
        elif more and page:
            info["next_marker"] = self.encode_marker(
                list(page[-1]), phash, hostile == "duplicates")
        if hostile == "negative_count":
            info["current_count"] = -len(page) - 1
        elif hostile == "empty_page_more" and "marker" not in params:
            # an empty first page that names, as its next, the real first
            page = []
            info = {"current_count": 0,
                    "next_marker": self.encode_marker(None, phash)}
        elif hostile in ("next_marker_null", "next_marker_empty"):
            info.setdefault("next_marker",
                            None if hostile == "next_marker_null" else "")
        elif hostile == "next_marker_long":
            info["next_marker"] = "m" * 513
        elif hostile == "next_marker_number":
            info["next_marker"] = 12345
        return page, info, hostile

    def endless_rfs_page(self, params, scope, make, fat):
        """A full page of entries never seen before and a fresh
        next_marker, until ENDLESS_ENTRIES; make(n, i, fat) builds entry
        i of page n."""
        limit = self.limit_param(params)
        phash = self.params_hash(scope, params)
        n = 0
        if "marker" in params:
            after, _ = self.decode_marker(first(params, "marker"), phash)
            n = after[0] if after else 0
        out = [make(n, i, fat) for i in range(limit)]
        info = {"current_count": limit}
        if (n + 1) * limit < ENDLESS_ENTRIES:
            info["next_marker"] = self.encode_marker([n + 1, "e"], phash)
        return out, info

    @staticmethod
    def endless_provider(n, i, fat):
        return {"provider_id": str(uuid.UUID(int=n << 32 | i)),
                "provider_name": "endless-%d-%d" % (n, i),
                "provider_description": "x" * FAT_PAD if fat
                else "Endless provider",
                "create_time": rfs_time(1700000000000)}

    @staticmethod
    def endless_version(name):
        def make(n, i, fat):
            return {"provider_id": str(uuid.UUID(int=n << 32 | i)),
                    "provider_name": name,
                    "provider_version": "1.%d.%d" % (n, i),
                    "version_description": "x" * FAT_PAD if fat
                    else "Endless version",
                    "create_time": rfs_time(1700000000000)}
        return make

    def without_ids(self, objs):
        """Copies of objs without provider_id under no_provider_id."""
        if self.server.cloud.faults["hostile"] != "no_provider_id":
            return objs
        return [{k: v for k, v in o.items() if k != "provider_id"}
                for o in objs]

    def op_rfs_list_providers(self, args, params, body):
        cloud = self.server.cloud
        self.rfs_common()
        hostile = cloud.faults["hostile"]
        if hostile in ("endless_pages", "endless_fat_pages"):
            out, info = self.endless_rfs_page(
                params, "providers", self.endless_provider,
                hostile == "endless_fat_pages")
            return 200, {"providers": out, "page_info": info}, None, []
        with cloud.lock:
            keys = cloud.sorted_provider_keys()
            page, info, hostile = self.rfs_page(keys, params, "providers")
            out = self.without_ids(
                [cloud.providers[name]["obj"] for _, name in page])
        if hostile == "bad_names" and "marker" not in params:
            fakes = []
            for name in ("..", "evil/name", "../../etc"):
                fake = dict(out[0]) if out else {}
                fake["provider_name"] = name
                fakes.append(fake)
            out = fakes + out
        return 200, {"providers": out, "page_info": info}, None, []

    def op_rfs_show_provider(self, args, params, body):
        cloud = self.server.cloud
        self.rfs_common()
        name = self.provider_arg(args[0])
        pid = self.provider_id_param(first(params, "provider_id"))
        with cloud.lock:
            prov = self.find_provider(name, pid)
            return 200, self.without_ids([prov["obj"]])[0], None, []

    def op_rfs_delete_provider(self, args, params, body):
        cloud = self.server.cloud
        self.rfs_common()
        name = self.provider_arg(args[0])
        pid = self.provider_id_param(first(params, "provider_id"))
        with cloud.lock:
            self.find_provider(name, pid)
            cloud.remove_provider(name)
        return 204, None, None, []

    def op_rfs_list_versions(self, args, params, body):
        cloud = self.server.cloud
        self.rfs_common()
        name = self.provider_arg(args[0])
        pid = self.provider_id_param(first(params, "provider_id"))
        with cloud.lock:
            prov = self.find_provider(name, pid)
            hostile = cloud.faults["hostile"]
            if hostile in ("endless_pages", "endless_fat_pages"):
                out, info = self.endless_rfs_page(
                    params, "versions/" + name, self.endless_version(name),
                    hostile == "endless_fat_pages")
                return 200, {"versions": out, "page_info": info}, None, []
            keys = sorted((v["epoch_ms"], ver)
                          for ver, v in prov["versions"].items())
            page, info, hostile = self.rfs_page(keys, params,
                                                "versions/" + name)
            out = self.without_ids(
                [prov["versions"][ver]["obj"] for _, ver in page])
        if hostile == "bad_names" and "marker" not in params:
            fakes = []
            for ver in ("..", "../1.0.0", "1.0.0/evil"):
                fake = dict(out[0]) if out else {"provider_name": name}
                fake["provider_version"] = ver
                fakes.append(fake)
            out = fakes + out
        return 200, {"versions": out, "page_info": info}, None, []

    def op_rfs_show_version(self, args, params, body):
        cloud = self.server.cloud
        self.rfs_common()
        name = self.provider_arg(args[0])
        version = self.version_arg(args[1], name)
        pid = self.provider_id_param(first(params, "provider_id"))
        with cloud.lock:
            prov = self.find_provider(name, pid)
            v = prov["versions"].get(version)
            if v is None:
                raise rfs_error(404, RF_NO_VERSION,
                                "The provider version does not exist.")
            out = dict(v["obj"])
            out["provider_source"] = prov["obj"]["provider_source"]
        return 200, self.without_ids([out])[0], None, []

    def op_rfs_delete_version(self, args, params, body):
        cloud = self.server.cloud
        self.rfs_common()
        name = self.provider_arg(args[0])
        version = self.version_arg(args[1], name)
        pid = self.provider_id_param(first(params, "provider_id"))
        with cloud.lock:
            prov = self.find_provider(name, pid)
            if version not in prov["versions"]:
                raise rfs_error(404, RF_NO_VERSION,
                                "The provider version does not exist.")
            del prov["versions"][version]
        return 204, None, None, []

    def rfs_body(self, body):
        try:
            req = json.loads(body or b"null")
        except ValueError:
            raise rfs_error(400, RF_BAD_PARAM, "malformed JSON body")
        if not isinstance(req, dict):
            raise rfs_error(400, RF_BAD_PARAM, "body must be an object")
        return req

    def check_urn(self, urn):
        cloud = self.server.cloud
        if not isinstance(urn, str) or not 32 <= len(urn) <= 256 or \
                not urn.startswith("urn:fss:%s:" % cloud.region):
            raise rfs_error(400, RF_BAD_PARAM,
                            "function_graph_urn is invalid")

    def check_text(self, req, name, most):
        val = req.get(name)
        if val is not None and (not isinstance(val, str) or len(val) > most):
            raise rfs_error(400, RF_BAD_PARAM, "%s is invalid" % name)
        return val

    def op_rfs_create_provider(self, args, params, body):
        cloud = self.server.cloud
        self.rfs_common()
        req = self.rfs_body(body)
        name = req.get("provider_name")
        if not isinstance(name, str):
            raise rfs_error(400, RF_BAD_PARAM, "provider_name is required")
        self.provider_arg(name)
        desc = self.check_text(req, "provider_description", 1024)
        vdesc = self.check_text(req, "version_description", 1024)
        version, urn = req.get("provider_version"), req.get(
            "function_graph_urn")
        if (version is None) != (urn is None):
            raise rfs_error(400, RF_BAD_PARAM,
                            "provider_version and function_graph_urn go "
                            "together")
        if version is not None:
            if not isinstance(version, str):
                raise rfs_error(400, RF_BAD_PARAM,
                                "provider_version is invalid")
            self.version_arg(version)
            self.check_urn(urn)
        if req.get("provider_agency_name") and \
                req.get("provider_agency_urn"):
            raise rfs_error(400, RF_BAD_PARAM,
                            "give provider_agency_name or "
                            "provider_agency_urn, not both")
        with cloud.lock:
            if name in cloud.providers:
                raise rfs_error(409, RF_CONFLICT,
                                "The private provider already exists.")
            now_ms = int(time.time() * 1000)
            prov = cloud.make_provider(name, now_ms, desc)
            for k in ("provider_agency_name", "provider_agency_urn"):
                if isinstance(req.get(k), str):
                    prov["obj"][k] = req[k]
            if version is not None:
                cloud.add_version(prov, version, now_ms, urn, vdesc)
            cloud.insert_provider(prov)
            obj = prov["obj"]
        return 201, {"provider_id": obj["provider_id"],
                     "provider_source": obj["provider_source"]}, None, []

    def op_rfs_create_version(self, args, params, body):
        cloud = self.server.cloud
        self.rfs_common()
        name = self.provider_arg(args[0])
        req = self.rfs_body(body)
        version = req.get("provider_version")
        if not isinstance(version, str):
            raise rfs_error(400, RF_BAD_PARAM, "provider_version is required")
        self.version_arg(version)
        urn = req.get("function_graph_urn")
        self.check_urn(urn)
        vdesc = self.check_text(req, "version_description", 1024)
        pid = req.get("provider_id")
        if pid is not None and (not isinstance(pid, str) or len(pid) != 36):
            raise rfs_error(400, RF_BAD_PARAM,
                            "provider_id must be 36 characters")
        with cloud.lock:
            prov = self.find_provider(name, pid)
            if version in prov["versions"]:
                raise rfs_error(409, RF_CONFLICT,
                                "The provider version already exists.")
            cloud.add_version(prov, version, int(time.time() * 1000), urn,
                              vdesc)
        return 201, None, None, []

    # ------------------------------------------------------- IAM

    def op_iam_token(self, args, params, body):
        cloud = self.server.cloud
        try:
            req = json.loads(body or b"null")
            ident = req["auth"]["identity"]
            methods = ident["methods"]
            user = ident["password"]["user"]
            name, password = user["name"], user["password"]
            dom = user["domain"]
            scope = req["auth"].get("scope", {})
        except (ValueError, KeyError, TypeError):
            raise iam_error(400, "Bad Request", "The request body is "
                            "malformed or lacks a required field.")
        if "password" not in methods or not isinstance(dom, dict):
            raise iam_error(400, "Bad Request", "only the password method "
                            "with a domain name is supported")
        domain = dom.get("name")
        with cloud.lock:
            known = cloud.users.get((name, domain))
        if known is None or not isinstance(password, str) or \
                not hmacless_equal(known, password):
            raise iam_error(401, "Unauthorized",
                            "The username or password is wrong.")
        project = scope.get("project") if isinstance(scope, dict) else None
        if not isinstance(project, dict) or not (
                project.get("name") == cloud.region or
                project.get("id") == cloud.project_id):
            raise iam_error(400, "Bad Request", "the emulator issues only "
                            "tokens scoped to project %s" % cloud.region)
        with cloud.lock:
            token, rec = cloud.issue_token(name, domain)
        dom_obj = {"id": cloud.domain_id, "name": cloud.domain_name}
        out = {"token": {
            "expires_at": iam_time(rec["expires"]),
            "issued_at": iam_time(rec["issued"]),
            "methods": ["password"],
            "project": {"id": cloud.project_id, "name": cloud.region,
                        "domain": dom_obj},
            "user": {"id": hashlib.md5(("user:" + name).encode())
                     .hexdigest(), "name": name,
                     "domain": dom_obj, "password_expires_at": ""},
            "roles": [{"id": "0", "name": "op_service"}],
            "catalog": [],
        }}
        return 201, out, None, [("X-Subject-Token", token)]

    def op_iam_projects(self, args, params, body):
        cloud = self.server.cloud
        name = first(params, "name")
        projects = []
        if name is None or name == cloud.region:
            projects.append({"id": cloud.project_id, "name": cloud.region,
                             "domain_id": cloud.domain_id,
                             "parent_id": cloud.domain_id,
                             "description": "", "enabled": True,
                             "is_domain": False})
        return 200, {"projects": projects,
                     "links": {"self": "/v3/projects"}}, None, []

    # ------------------------------------------------------- control

    def control(self, method, raw_path, raw_query, body):
        try:
            status, obj = self.control_answer(method, raw_path, raw_query,
                                              body)
        except ApiError as e:
            status, obj = e.status, e.body
        except (ValueError, KeyError, TypeError) as e:
            status, obj = 400, {"error": "bad control request: %s" % e}
        self.send_json(status, obj)

    def control_json(self, body):
        if not body:
            return {}
        try:
            obj = json.loads(body)
        except ValueError:
            raise ApiError(400, {"error": "body is not JSON"})
        if not isinstance(obj, dict):
            raise ApiError(400, {"error": "body must be a JSON object"})
        return obj

    def control_answer(self, method, path, raw_query, body):
        cloud = self.server.cloud
        parts = [path_segment(p) for p in path.split("/")[2:]]
        req = self.control_json(body)
        params = param_dict(signer.parse_query(raw_query))
        if parts == ["stats"] and method == "GET":
            with cloud.lock:
                return 200, json.loads(json.dumps(cloud.stats))
        if parts == ["tokens"] and method == "GET":
            # Every token issued so far, newest last: lets a test look for
            # the exact value in a client's output.
            with cloud.lock:
                return 200, {"tokens": sorted(
                    cloud.tokens, key=lambda t: cloud.tokens[t]["seq"])}
        if parts == ["reset"] and method == "POST":
            with cloud.lock:
                cloud.stats = empty_stats()
                if req.get("faults"):
                    self.set_faults({"clear": True})
            return 200, {"ok": True}
        if parts == ["state"] and method == "GET":
            brief = first(params, "brief") not in (None, "0", "false")
            with cloud.lock:
                return 200, cloud.state(brief)
        if parts and parts[0] == "keys":
            return self.control_keys(method, parts[1:], req)
        if parts == ["faults"] and method == "GET":
            with cloud.lock:
                return 200, dict(cloud.faults)
        if parts == ["faults"] and method == "POST":
            return 200, self.set_faults(req)
        if parts == ["seed"] and method == "POST":
            counts = {}
            for k in ("packages", "providers", "versions"):
                counts[k] = int(req.get(k, 0))
                if counts[k] < 0:
                    raise ApiError(400, {"error": "%s must be >= 0" % k})
            types = seed_types(req.get("package_types"))
            with cloud.lock:
                cloud.seed(clear=bool(req.get("clear")),
                           package_types=types, **counts)
                return 200, {"packages": len(cloud.packages),
                             "providers": len(cloud.providers)}
        if parts == ["packages"] and method == "POST":
            return 201, self.control_add_package(req)
        if len(parts) == 2 and parts[0] == "packages" and method == "DELETE":
            with cloud.lock:
                if parts[1] not in cloud.packages:
                    raise ApiError(404, {"error": "no such package"})
                cloud.remove_package(parts[1])
            return 200, {"ok": True}
        if parts == ["providers"] and method == "POST":
            return 201, self.control_add_provider(req)
        if len(parts) == 2 and parts[0] == "providers" and \
                method == "DELETE":
            with cloud.lock:
                if parts[1] not in cloud.providers:
                    raise ApiError(404, {"error": "no such provider"})
                cloud.remove_provider(parts[1])
            return 200, {"ok": True}
        if len(parts) == 3 and parts[0] == "providers" and \
                parts[2] == "versions" and method == "POST":
            return 201, self.control_add_version(parts[1], req)
        if len(parts) == 4 and parts[0] == "providers" and \
                parts[2] == "versions" and method == "DELETE":
            with cloud.lock:
                prov = cloud.providers.get(parts[1])
                if prov is None or parts[3] not in prov["versions"]:
                    raise ApiError(404, {"error": "no such version"})
                del prov["versions"][parts[3]]
            return 200, {"ok": True}
        raise ApiError(404, {"error": "unknown control call %s %s"
                             % (method, path)})

    def control_keys(self, method, rest, req):
        """Access keys, as an account admin changes them behind a live
        mount: GET lists the AKs; POST {"ak", "sk"} adds or replaces one,
        POST {"reset": true} restores the keys the emulator started with;
        DELETE keys/AK revokes one (its signatures are 401 from then)."""
        cloud = self.server.cloud
        with cloud.lock:
            if not rest and method == "GET":
                return 200, {"keys": sorted(cloud.keys)}
            if not rest and method == "POST" and req.get("reset"):
                cloud.keys = dict(cloud.start_keys)
                return 200, {"keys": sorted(cloud.keys)}
            if not rest and method == "POST":
                ak, sk = req.get("ak"), req.get("sk")
                if not isinstance(ak, str) or not ak or \
                        not isinstance(sk, str) or not sk:
                    raise ApiError(400, {"error": "ak and sk are required"})
                cloud.keys[ak] = sk
                return 200, {"keys": sorted(cloud.keys)}
            if len(rest) == 1 and method == "DELETE":
                if cloud.keys.pop(rest[0], None) is None:
                    raise ApiError(404, {"error": "no such key"})
                return 200, {"keys": sorted(cloud.keys)}
        raise ApiError(404, {"error": "unknown keys call %s" % method})

    def control_add_package(self, req):
        cloud = self.server.cloud
        now = time.time()
        when = parse_time_field(req, now)
        if req.get("package_type", "firmwarePackage") not in PACKAGE_TYPES:
            raise ApiError(400, {"error": "bad package_type"})
        pid = req.get("package_id")
        # Any non-empty string: hostile-name tests need names the API
        # would never create (docs/emulator.md).
        if pid is not None and (not isinstance(pid, str) or not pid):
            raise ApiError(400, {"error": "package_id must be a string"})
        with cloud.lock:
            if pid is not None and pid in cloud.packages:
                raise ApiError(409, {"error": "package_id exists"})
            epoch = cloud.api_epoch() if when is None else int(when)
            rec = cloud.make_package(req, epoch)
            cloud.insert_packages([rec])
            out = dict(rec["show"])
            out["create_epoch"] = rec["epoch"]
            out["record_id"] = rec["record"]
            return out

    def control_add_provider(self, req):
        cloud = self.server.cloud
        name = req.get("provider_name")
        if not isinstance(name, str) or not name:
            raise ApiError(400, {"error": "provider_name is required"})
        now = time.time()
        when = parse_time_field(req, now)
        epoch_ms = int(round((now if when is None else when) * 1000))
        with cloud.lock:
            if name in cloud.providers:
                raise ApiError(409, {"error": "provider exists"})
            prov = cloud.make_provider(name, epoch_ms,
                                       req.get("provider_description"))
            for i, v in enumerate(req.get("versions", [])):
                spec = v if isinstance(v, dict) else {"provider_version": v}
                vwhen = parse_time_field(spec, now)
                vms = epoch_ms + (i + 1) * 1000 if vwhen is None else \
                    int(round(vwhen * 1000))
                cloud.add_version(prov, str(spec["provider_version"]), vms,
                                  spec.get("function_graph_urn"),
                                  spec.get("version_description"))
            cloud.insert_provider(prov)
            out = dict(prov["obj"])
            out["versions"] = [dict(v["obj"])
                               for v in prov["versions"].values()]
            return out

    def control_add_version(self, name, req):
        cloud = self.server.cloud
        version = req.get("provider_version")
        if not isinstance(version, str) or not version:
            raise ApiError(400, {"error": "provider_version is required"})
        when = parse_time_field(req, time.time())
        with cloud.lock:
            prov = cloud.providers.get(name)
            if prov is None:
                raise ApiError(404, {"error": "no such provider"})
            if version in prov["versions"]:
                raise ApiError(409, {"error": "version exists"})
            vms = int(time.time() * 1000) if when is None else \
                int(round(when * 1000))
            return cloud.add_version(prov, version, vms,
                                     req.get("function_graph_urn"),
                                     req.get("version_description"))

    def set_faults(self, req):
        return apply_faults(self.server.cloud, req)


def hmacless_equal(a, b):
    """Constant-time string compare (passwords)."""
    import hmac
    return hmac.compare_digest(a.encode(), b.encode())


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


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    tls = None  # an ssl.SSLContext when serving HTTPS

    def finish_request(self, request, client_address):
        """With TLS, the handshake happens here, in the connection's own
        thread, so a client that never finishes one (or refuses our
        certificate) holds up no one else."""
        if self.tls is None:
            return super().finish_request(request, client_address)
        try:
            conn = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            if self.verbose:
                sys.stderr.write("emulator: TLS handshake failed: %s\n" % e)
            with self.cloud.lock:
                self.cloud.stats["tls_failures"] += 1
            return
        try:
            super().finish_request(conn, client_address)
        finally:
            try:
                conn.close()
            except OSError:
                pass


def parse_args(argv):
    ap = argparse.ArgumentParser(description="hwcfs cloud emulator")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--region", default=DEFAULT_REGION)
    ap.add_argument("--project-id", default=DEFAULT_PROJECT)
    ap.add_argument("--key", action="append", default=[],
                    help="AK:SK (repeatable)")
    ap.add_argument("--user", action="append", default=[],
                    help="NAME:PASSWORD:DOMAIN (repeatable)")
    ap.add_argument("--packages", type=int, default=0)
    ap.add_argument("--package-types",
                    help="comma-separated types the seeded packages take "
                    "in turn (default firmwarePackage,softwarePackage)")
    ap.add_argument("--providers", type=int, default=0)
    ap.add_argument("--versions", type=int, default=0)
    ap.add_argument("--latency-ms", type=int, default=0)
    ap.add_argument("--seed-file")
    ap.add_argument("--random-seed", type=int, default=1)
    ap.add_argument("--token-ttl", type=int, default=86400)
    ap.add_argument("--faults", help="JSON object, as POST /_emu/faults")
    ap.add_argument("--log-limit", type=int, default=200000,
                    help="newest request-log entries kept in /_emu/stats")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--tls-cert", help="PEM certificate: serve HTTPS")
    ap.add_argument("--tls-key", help="PEM private key of --tls-cert")
    args = ap.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        ap.error("--tls-cert and --tls-key go together")
    return args


def load_seed_file(cloud, path):
    with open(path) as f:
        spec = json.load(f)
    counts = {k: spec[k] for k in ("packages", "providers", "versions")
              if isinstance(spec.get(k), int)}
    types = seed_types(spec.get("package_types"))
    with cloud.lock:
        cloud.seed(clear=bool(spec.get("clear")), package_types=types,
                   **counts)
    fake = Handler.__new__(Handler)
    fake.server = type("S", (), {"cloud": cloud})()
    for p in spec.get("packages", []) if isinstance(
            spec.get("packages"), list) else []:
        fake.control_add_package(p)
    for p in spec.get("providers", []) if isinstance(
            spec.get("providers"), list) else []:
        fake.control_add_provider(p)
    if isinstance(spec.get("faults"), dict):
        apply_faults(cloud, spec["faults"])


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    keys = []
    for item in args.key or ["%s:%s" % (DEFAULT_AK, DEFAULT_SK)]:
        ak, sep, sk = item.partition(":")
        if not sep or not ak or not sk:
            sys.exit("emulator: --key wants AK:SK")
        keys.append((ak, sk))
    users = []
    for item in args.user or [DEFAULT_USER]:
        parts = item.split(":")
        if len(parts) != 3:
            sys.exit("emulator: --user wants NAME:PASSWORD:DOMAIN")
        users.append(tuple(parts))
    cloud = Cloud(args.region, args.project_id, keys, users,
                  args.random_seed, args.token_ttl)
    cloud.log_limit = max(1, args.log_limit)
    try:
        types = seed_types(args.package_types)
    except ApiError as e:
        sys.exit("emulator: --package-types: %s" % e.body["error"])
    with cloud.lock:
        cloud.seed(args.packages, args.providers, args.versions,
                   package_types=types)
    if args.seed_file:
        load_seed_file(cloud, args.seed_file)
    faults = {}
    if args.latency_ms:
        faults["latency_ms"] = args.latency_ms
    if args.faults:
        faults.update(json.loads(args.faults))
    if faults:
        apply_faults(cloud, faults)
    server = Server((args.host, args.port), Handler)
    server.cloud = cloud
    server.verbose = args.verbose
    scheme = "http"
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        server.tls = ctx
        scheme = "https"
    port = server.server_address[1]
    host = args.host if ":" not in args.host else "[%s]" % args.host
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)
    print("emulator listening on %s://%s:%d" % (scheme, host, port),
          flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
