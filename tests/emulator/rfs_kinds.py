"""rfs_kinds.py - The table of the four RFS registry kinds (private
providers, private modules, private hooks, templates): where they differ in
paths, field names, name and version rules, times, paging and deletes
(docs/cloud-api.md, "The RFS registry: private modules, private hooks and
templates"), and the records the Cloud keeps of them. Everything else
about them is one code path (rfs.py).
"""

import re
import time
import uuid


PROVIDER_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?$")
VERSION_RE = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
# Chinese characters, letters, digits, _ and -; a Chinese character or a
# letter first; 1-128 characters (modules, hooks, templates).
CJK = "\u4e00-\u9fa5"
NAME_RE = re.compile("^[%sA-Za-z][%sA-Za-z0-9_-]{0,127}$" % (CJK, CJK))
TEMPLATE_VERSION_RE = re.compile(r"^V[1-9][0-9]{0,18}$")

ACTIONS = ("list", "show", "delete", "list_versions", "show_version",
           "delete_version", "create", "create_version")


def ms_time(epoch_ms):
    sec, ms = divmod(int(epoch_ms), 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)) + \
        ".%03dZ" % ms


def s_time(epoch_ms):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ",
                         time.gmtime(int(epoch_ms) // 1000))


def semver_ok(version):
    m = VERSION_RE.match(version)
    return bool(m) and 5 <= len(version) <= 128 and \
        all(int(g) < 1 << 64 for g in m.groups())


class Kind:
    """One row of the table."""

    def __init__(self, key, singular, base, name, ident, desc, version,
                 vdesc, paged=True, project=False, time_fmt=ms_time,
                 name_re=NAME_RE, version_ok=semver_ok, protect=None,
                 source=None, default_dir="desc", ops=None):
        self.key = key              # "modules": also the control word
        self.singular = singular    # "module"
        self.base = base            # path regex of the collection
        self.name = name            # "module_name"
        self.id = ident             # "module_id": the strong match
        self.desc = desc            # "module_description"
        self.version = version      # "module_version"
        self.vdesc = vdesc          # "version_description"
        self.paged = paged          # templates: the whole list, no paging
        self.project = project      # templates: under /v1/{project_id}
        self.time = time_fmt
        self.name_re = name_re
        self.version_ok = version_ok
        # None: any version may go; "default": not the hook's default;
        # "last": not a template's only version.
        self.protect = protect
        self.source = source        # extra field of a version's show
        self.default_dir = default_dir
        self.ops = ops or {a: "rfs.%s" % self.op_word(a) for a in ACTIONS}

    def op_word(self, action):
        if action == "list":
            return "list_" + self.key
        if action.endswith("_version") or action == "list_versions":
            verb = action.split("_")[0]
            return "%s_%s_version%s" % (verb, self.singular,
                                        "s" if verb == "list" else "")
        return "%s_%s" % (action, self.singular)

    def version_name(self, index):
        """The index-th (0-based) seeded version."""
        if self.key == "templates":
            return "V%d" % (index + 1)
        return "1.0.%d" % index


PROVIDER_OPS = {"list": "rfs.list_providers", "show": "rfs.show_provider",
                "delete": "rfs.delete_provider",
                "list_versions": "rfs.list_versions",
                "show_version": "rfs.show_version",
                "delete_version": "rfs.delete_version",
                "create": "rfs.create_provider",
                "create_version": "rfs.create_version"}

KINDS = {
    "providers": Kind("providers", "provider", r"/v1/private-providers",
                      "provider_name", "provider_id", "provider_description",
                      "provider_version", "version_description",
                      name_re=PROVIDER_RE, source="provider_source",
                      ops=PROVIDER_OPS),
    "modules": Kind("modules", "module", r"/v1/private-modules",
                    "module_name", "module_id", "module_description",
                    "module_version", "version_description",
                    source="module_source"),
    "hooks": Kind("hooks", "hook", r"/v1/private-hooks", "hook_name",
                  "hook_id", "hook_description", "hook_version",
                  "hook_version_description", protect="default"),
    "templates": Kind("templates", "template", r"/v1/([^/]+)/templates",
                      "template_name", "template_id", "template_description",
                      "version_id", "version_description", paged=False,
                      project=True, time_fmt=s_time,
                      version_ok=lambda v: bool(TEMPLATE_VERSION_RE.match(v)),
                      protect="last", default_dir="asc"),
}

# op name -> (kind, action), for the router, the counters and the log
OP_KIND = {op: (kind, action) for kind in KINDS.values()
           for action, op in kind.ops.items()}
RFS_OPS = tuple(op for kind in KINDS.values() for op in kind.ops.values())


def kind_routes():
    """(regex, {method: op}) rows of every kind's paths."""
    rows = []
    for k in KINDS.values():
        b, o = k.base, k.ops
        rows += [
            (re.compile("^%s$" % b), {"GET": o["list"], "POST": o["create"]}),
            (re.compile("^%s/([^/]+)/metadata$" % b), {"GET": o["show"]}),
            (re.compile("^%s/([^/]+)$" % b), {"DELETE": o["delete"]}),
            (re.compile("^%s/([^/]+)/versions$" % b),
             {"GET": o["list_versions"], "POST": o["create_version"]}),
            (re.compile("^%s/([^/]+)/versions/([^/]+)/metadata$" % b),
             {"GET": o["show_version"]}),
            (re.compile("^%s/([^/]+)/versions/([^/]+)$" % b),
             {"DELETE": o["delete_version"]}),
        ]
    return rows


# ------------------------------------------------------- records

def make_record(cloud, kind, name, epoch_ms, description=None):
    """A new name of a kind other than providers (Cloud.make_provider
    keeps making those), without versions."""
    obj = {kind.name: name,
           kind.id: str(uuid.UUID(int=cloud.rng.getrandbits(128), version=4)),
           kind.desc: description if description is not None
           else "Emulated %s %s" % (kind.singular, name),
           "create_time": kind.time(epoch_ms),
           "update_time": kind.time(epoch_ms)}
    if kind.key == "hooks":
        obj["default_version"] = ""
    if kind.key == "templates":
        # the id first, as the SDK model lists it
        obj = dict([(kind.id, obj.pop(kind.id))] + list(obj.items()))
    return {"obj": obj, "epoch_ms": int(epoch_ms), "versions": {},
            "next_v": 1}


def add_record_version(cloud, kind, rec, version, epoch_ms,
                       description=None, urn=None):
    """One more version of rec (templates: version None = the next Vn)."""
    if kind.key == "providers":
        return cloud.add_version(rec, version, epoch_ms, urn, description)
    obj = rec["obj"]
    name = obj[kind.name]
    if version is None:
        version = "V%d" % rec["next_v"]
    m = TEMPLATE_VERSION_RE.match(version) if kind.key == "templates" \
        else None
    if m:
        rec["next_v"] = max(rec["next_v"], int(version[1:]) + 1)
    v = {kind.name: name, kind.id: obj[kind.id]}
    if kind.key != "templates":
        v[kind.version] = version
    v[kind.vdesc] = description if description is not None \
        else "Version %s of %s" % (version, name)
    v["create_time"] = kind.time(epoch_ms)
    if kind.key == "templates":
        v[kind.version] = version
    if kind.key == "hooks" and not obj.get("default_version"):
        obj["default_version"] = version
    rec["versions"][version] = {"obj": v, "epoch_ms": int(epoch_ms)}
    return v


def drop_record_version(kind, rec, version):
    del rec["versions"][version]
    if kind.key == "hooks" and rec["obj"].get("default_version") == version:
        rec["obj"]["default_version"] = ""


def latest_version(rec):
    """The newest version (create time, then name) of rec, or None."""
    if not rec["versions"]:
        return None
    return max(rec["versions"].items(),
               key=lambda kv: (kv[1]["epoch_ms"], kv[0]))


def list_object(kind, rec):
    """The object a listing of names shows for rec."""
    if kind.key != "templates":
        return rec["obj"]
    out = dict(rec["obj"])
    latest = latest_version(rec)
    out["latest_version_id"] = latest[0] if latest else ""
    out["latest_version_description"] = \
        latest[1]["obj"][kind.vdesc] if latest else ""
    return out


def show_version_object(kind, rec, version):
    """The answer of a version's show (metadata) call."""
    out = dict(rec["versions"][version]["obj"])
    if kind.key == "providers":
        out["provider_source"] = rec["obj"]["provider_source"]
    elif kind.key == "modules":
        out["module_source"] = "huawei.com/private-module/%s" % \
            rec["obj"][kind.name]
    elif kind.key == "templates":
        # the SDK's show-version model has no version_id
        out.pop(kind.version, None)
    return out
