"""state.py - The Cloud model: every package, provider, version, key,
token, fault knob and request counter the emulator holds, and the
vocabulary (names, patterns, times) its services share.
"""

import base64
import bisect
import calendar
import hashlib
import random
import re
import threading
import time
import uuid

from errors import ApiError
from faults import default_faults
from rfs_kinds import (KINDS, RFS_OPS, add_record_version, list_object,
                       make_record)


DEFAULT_REGION = "cn-north-4"
DEFAULT_PROJECT = "0123456789abcdef0123456789abcdef"
DEFAULT_AK = "EMULATORAK0123456789"
DEFAULT_SK = "emulator/secret+key/0123456789abcdefgh"
DEFAULT_USER = "demo:demo-password:demo"

DAY = 86400
SPREAD_SECONDS = 400 * DAY  # seeded create times cover the past 400 days

PACKAGE_TYPES = ("softwarePackage", "firmwarePackage", "modulePackage")
MAX_MARKER = "ffffffffffffffffffffffff"
# Seeded packages take these types in turn unless told others.
SEED_TYPES = ("firmwarePackage", "softwarePackage")

# The RFS registry kinds, in the order state shows them; their differences
# are the table in rfs_kinds.py.
RFS_KIND_NAMES = tuple(KINDS)

PACKAGE_ID_RE = re.compile(r"^[A-Za-z0-9-]{1,36}$")
IDENT_RE = re.compile(r"^[A-Za-z0-9_-]{1,36}$")
PKG_VERSION_RE = re.compile(r"^[A-Za-z0-9_.-]{1,256}$")
HEX24_RE = re.compile(r"^[0-9a-fA-F]{24}$")
UINT_RE = re.compile(r"^[0-9]{1,9}$")


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


def all_ops():
    """Every counter of /_emu/stats: IoTDA, the RFS kinds' (rfs_kinds.py),
    IAM, other."""
    return ("iotda.list", "iotda.show", "iotda.delete", "iotda.create") + \
        RFS_OPS + ("iam.token", "iam.projects", "other")


def empty_stats():
    return {"requests": {op: 0 for op in all_ops()}, "total": 0,
            "auth_failures": 0, "tls_failures": 0, "deletes": [], "log": [],
            "log_dropped": 0, "max_in_flight": 0}


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
        # kind -> name -> record; per kind the sorted (epoch_ms, name)
        # keys (built lazily) and the number of the last seeded name.
        self.rfs = {k: {} for k in RFS_KIND_NAMES}
        self.providers = self.rfs["providers"]
        self.rfs_keys = {k: None for k in RFS_KIND_NAMES}
        self.rfs_counter = {k: 0 for k in RFS_KIND_NAMES}
        self.tokens = {}
        self.token_seq = 0
        self.token_floor = 0  # tokens with seq <= floor count as expired
        self.faults = default_faults()
        self.unstalled = threading.Event()
        self.unstalled.set()
        self.stats = empty_stats()
        self.in_flight = 0  # API requests being answered now
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
        self.insert_rfs("providers", prov["obj"]["provider_name"], prov)

    def remove_provider(self, name):
        return self.remove_rfs("providers", name)

    def insert_rfs(self, kind, name, rec):
        self.rfs[kind][name] = rec
        self.rfs_keys[kind] = None

    def remove_rfs(self, kind, name):
        rec = self.rfs[kind].pop(name)
        self.rfs_keys[kind] = None
        return rec

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
        return self.sorted_keys("providers")

    def sorted_keys(self, kind):
        if self.rfs_keys[kind] is None:
            self.rfs_keys[kind] = sorted(
                (p["epoch_ms"], n) for n, p in self.rfs[kind].items())
        return self.rfs_keys[kind]

    # ------------------------------------------------------- seeding

    def clear(self):
        self.packages.clear()
        self.by_record.clear()
        for t in self.by_type:
            self.by_type[t] = []
        self.filter_counts.clear()
        for kind in RFS_KIND_NAMES:
            self.rfs[kind].clear()
            self.rfs_keys[kind] = None
            self.rfs_counter[kind] = 0  # seeded names restart at 00001

    def seed(self, packages=0, providers=0, versions=0, clear=False,
             package_types=None, modules=0, hooks=0, templates=0):
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
        counts = {"providers": providers, "modules": modules, "hooks": hooks,
                  "templates": templates}
        for kind in RFS_KIND_NAMES:
            self.seed_rfs(kind, counts[kind], versions, now)

    def seed_rfs(self, kind_name, count, versions, now):
        """count names emu-KIND-00001... spread over 400 days, each with
        versions versions an hour apart at most (hooks and templates at
        least one: the API never leaves them without)."""
        kind = KINDS[kind_name]
        if kind.protect:
            versions = max(versions, 1)
        for j in range(count):
            age = spread_age(j, count)
            epoch_ms = int(round((now - age) * 1000))
            while True:
                self.rfs_counter[kind_name] += 1
                name = "emu-%s-%05d" % (kind.singular,
                                        self.rfs_counter[kind_name])
                if name not in self.rfs[kind_name]:
                    break
            if kind_name == "providers":
                rec = self.make_provider(name, epoch_ms)
            else:
                rec = make_record(self, kind, name, epoch_ms)
            step = min(3600 * 1000, int(age * 1000) // (versions + 1))
            for k in range(versions):
                add_record_version(self, kind, rec, kind.version_name(k),
                                   epoch_ms + (k + 1) * step)
            self.insert_rfs(kind_name, name, rec)

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
        out = {"packages": pkgs}
        for kind in RFS_KIND_NAMES:
            out[kind] = self.rfs_state(kind)
        out.update(region=self.region, project_id=self.project_id,
                   domain_id=self.domain_id)
        return out

    def rfs_state(self, kind_name):
        """A kind's names, newest first, as listed, with create_epoch_ms
        and their versions (oldest first)."""
        kind = KINDS[kind_name]
        out = []
        for _, name in reversed(self.sorted_keys(kind_name)):
            rec = self.rfs[kind_name][name]
            p = dict(list_object(kind, rec))
            p["create_epoch_ms"] = rec["epoch_ms"]
            vs = []
            for ver, v in sorted(rec["versions"].items(),
                                 key=lambda kv: (kv[1]["epoch_ms"], kv[0])):
                d = dict(v["obj"])
                d["create_epoch_ms"] = v["epoch_ms"]
                vs.append(d)
            p["versions"] = vs
            out.append(p)
        return out
