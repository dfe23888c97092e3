"""rfs.py - The RFS registry's list, show and delete operations, one code
path for the four kinds (private providers, modules, hooks, templates: the
table of their differences is rfs_kinds.py), with markers and sorting.
Creates are in rfs_create.py.
"""

import base64
import bisect
import hashlib
import json
import uuid

from errors import (ApiError, RF_BAD_MARKER, RF_BAD_PARAM, RF_FORBIDDEN,
                    RF_ID_MISMATCH, RF_NO_PROVIDER, RF_NO_VERSION,
                    RF_REFUSED, rfs_error)
from faults import ENDLESS_ENTRIES, FAT_PAD, REPEAT_PAGES
from rfs_create import RfsCreate
from rfs_kinds import (OP_KIND, drop_record_version, list_object,
                       show_version_object)
from routes import first
from state import UINT_RE

ENDLESS = ("endless_pages", "endless_fat_pages")


def label(kind):
    return "template" if kind.key == "templates" else \
        "private " + kind.singular


class Rfs(RfsCreate):
    """The Handler's RFS operations (op_rfs_*)."""

    def rfs_common(self):
        crid = self.headers.get("Client-Request-Id")
        if crid is None:
            raise rfs_error(400, RF_BAD_PARAM,
                            "Client-Request-Id header is required")
        if not 36 <= len(crid) <= 128:
            raise rfs_error(400, RF_BAD_PARAM,
                            "Client-Request-Id must be 36 to 128 chars")

    def rfs_dispatch(self, kind, action, args, params, body):
        """Every operation of a kind: templates' project id first (like
        IoTDA's), then the Client-Request-Id, then the operation."""
        if kind.project:
            if args[0] != self.server.cloud.project_id:
                raise rfs_error(403, RF_FORBIDDEN,
                                "project_id in the path is not the "
                                "project of the credentials")
            args = args[1:]
        self.rfs_common()
        return getattr(self, "rfs_" + action)(kind, args, params, body)

    def name_arg(self, kind, name):
        """A name of the path: one a record has (whatever its characters),
        else one of the kind's name pattern."""
        with self.server.cloud.lock:
            if name in self.server.cloud.rfs[kind.key]:
                return name
        if not kind.name_re.match(name):
            raise rfs_error(400, RF_BAD_PARAM, "%s is invalid" % kind.name)
        return name

    def version_arg(self, kind, version, name=None):
        """A version of the path: one that name has, else one of the
        kind's version pattern."""
        with self.server.cloud.lock:
            rec = self.server.cloud.rfs[kind.key].get(name)
            if rec is not None and version in rec["versions"]:
                return version
        if not kind.version_ok(version):
            raise rfs_error(400, RF_BAD_PARAM, "%s is invalid" % kind.version)
        return version

    def id_param(self, kind, value):
        if value is not None and (not isinstance(value, str) or
                                  len(value) != 36):
            raise rfs_error(400, RF_BAD_PARAM,
                            "%s must be 36 characters" % kind.id)
        return value

    def find_record(self, kind, name, ident):
        """The record of name (cloud.lock held by caller): 404 when there
        is none, 400 when ident is given and is not its id."""
        rec = self.server.cloud.rfs[kind.key].get(name)
        if rec is None:
            raise rfs_error(404, RF_NO_PROVIDER,
                            "The %s does not exist." % label(kind))
        if ident is not None and ident != rec["obj"][kind.id]:
            raise rfs_error(400, RF_ID_MISMATCH, "%s does not match %s"
                            % (kind.id, kind.name))
        return rec

    def find_named(self, kind, args, params):
        """(name, record) of the path's name, its id query checked."""
        name = self.name_arg(kind, args[0])
        ident = self.id_param(kind, first(params, kind.id))
        return name, self.find_record(kind, name, ident)

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
    def endless_name(kind):
        def make(n, i, fat):
            return {kind.id: str(uuid.UUID(int=n << 32 | i)),
                    kind.name: "endless-%d-%d" % (n, i),
                    kind.desc: "x" * FAT_PAD if fat
                    else "Endless %s" % kind.singular,
                    "create_time": kind.time(1700000000000)}
        return make

    @staticmethod
    def endless_version(kind, name):
        def make(n, i, fat):
            return {kind.id: str(uuid.UUID(int=n << 32 | i)),
                    kind.name: name,
                    kind.version: "1.%d.%d" % (n, i),
                    kind.vdesc: "x" * FAT_PAD if fat
                    else "Endless version",
                    "create_time": kind.time(1700000000000)}
        return make

    def without_ids(self, kind, objs):
        """Copies of objs without the kind's id under no_provider_id."""
        if self.server.cloud.faults["hostile"] != "no_provider_id":
            return objs
        return [{k: v for k, v in o.items() if k != kind.id} for o in objs]

    def listing(self, kind, keys, params, scope):
        """The page of keys a list answers (all of them, oldest first,
        for a kind without paging), its page_info (None without paging)
        and the hostile knob that shaped it."""
        if not kind.paged:
            return list(keys), None, self.server.cloud.faults["hostile"]
        return self.rfs_page(keys, params, scope)

    @staticmethod
    def with_bad_names(field, names, out, fallback):
        """bad_names: fake entries with the field set to each of names,
        in front of the page's."""
        fakes = []
        for value in names:
            fake = dict(out[0]) if out else dict(fallback)
            fake[field] = value
            fakes.append(fake)
        return fakes + out

    def rfs_list(self, kind, args, params, body):
        cloud = self.server.cloud
        hostile = cloud.faults["hostile"]
        if kind.paged and hostile in ENDLESS:
            out, info = self.endless_rfs_page(
                params, kind.key, self.endless_name(kind),
                hostile == "endless_fat_pages")
            return 200, {kind.key: out, "page_info": info}, None, []
        with cloud.lock:
            keys = cloud.sorted_keys(kind.key)
            page, info, hostile = self.listing(kind, keys, params, kind.key)
            recs = cloud.rfs[kind.key]
            out = self.without_ids(
                kind, [list_object(kind, recs[name]) for _, name in page])
        if hostile == "bad_names" and "marker" not in params:
            out = self.with_bad_names(kind.name, ("..", "evil/name",
                                                  "../../etc"), out, {})
        ans = {kind.key: out}
        if info is not None:
            ans["page_info"] = info
        return 200, ans, None, []

    def rfs_show(self, kind, args, params, body):
        with self.server.cloud.lock:
            _, rec = self.find_named(kind, args, params)
            return 200, self.without_ids(kind, [dict(rec["obj"])])[0], \
                None, []

    def rfs_delete(self, kind, args, params, body):
        cloud = self.server.cloud
        with cloud.lock:
            name, _ = self.find_named(kind, args, params)
            cloud.remove_rfs(kind.key, name)
        return 204, None, None, []

    def rfs_list_versions(self, kind, args, params, body):
        cloud = self.server.cloud
        with cloud.lock:
            name, rec = self.find_named(kind, args, params)
            scope = "%s/%s/versions" % (kind.key, name)
            hostile = cloud.faults["hostile"]
            if kind.paged and hostile in ENDLESS:
                out, info = self.endless_rfs_page(
                    params, scope, self.endless_version(kind, name),
                    hostile == "endless_fat_pages")
                return 200, {"versions": out, "page_info": info}, None, []
            keys = sorted((v["epoch_ms"], ver)
                          for ver, v in rec["versions"].items())
            page, info, hostile = self.listing(kind, keys, params, scope)
            out = self.without_ids(
                kind, [rec["versions"][ver]["obj"] for _, ver in page])
        if hostile == "bad_names" and "marker" not in params:
            out = self.with_bad_names(kind.version, ("..", "../1.0.0",
                                                     "1.0.0/evil"), out,
                                      {kind.name: name})
        ans = {"versions": out}
        if info is not None:
            ans["page_info"] = info
        return 200, ans, None, []

    def find_version(self, kind, args, params):
        """(name, record, version) of the path (cloud.lock held)."""
        name = self.name_arg(kind, args[0])
        version = self.version_arg(kind, args[1], name)
        ident = self.id_param(kind, first(params, kind.id))
        rec = self.find_record(kind, name, ident)
        if version not in rec["versions"]:
            raise rfs_error(404, RF_NO_VERSION,
                            "The %s version does not exist." % label(kind))
        return name, rec, version

    def rfs_show_version(self, kind, args, params, body):
        with self.server.cloud.lock:
            _, rec, version = self.find_version(kind, args, params)
            out = show_version_object(kind, rec, version)
        return 200, self.without_ids(kind, [out])[0], None, []

    def rfs_delete_version(self, kind, args, params, body):
        with self.server.cloud.lock:
            _, rec, version = self.find_version(kind, args, params)
            if kind.protect == "default" and \
                    rec["obj"].get("default_version") == version:
                raise rfs_error(403, RF_REFUSED,
                                "The default version of a private hook "
                                "can only be deleted with the hook.")
            if kind.protect == "last" and len(rec["versions"]) == 1:
                raise rfs_error(403, RF_REFUSED,
                                "The only version of a template can only "
                                "be deleted with the template.")
            drop_record_version(kind, rec, version)
        return 204, None, None, []


def _install():
    """op_rfs_* for every (kind, action) of the table, but the creates
    of providers, which rfs_create.py keeps as they were."""
    for op, (kind, action) in OP_KIND.items():
        meth = "op_" + op.replace(".", "_")
        if hasattr(Rfs, meth):
            continue

        def handler(self, args, params, body, _k=kind, _a=action):
            return self.rfs_dispatch(_k, _a, args, params, body)
        setattr(Rfs, meth, handler)


_install()
