"""rfs.py - RFS private providers and their versions: list (markers,
sorting), show, delete and create.
"""

import base64
import bisect
import hashlib
import json
import time
import uuid

from errors import (ApiError, RF_BAD_MARKER, RF_BAD_PARAM, RF_CONFLICT,
                    RF_ID_MISMATCH, RF_NO_PROVIDER, RF_NO_VERSION, rfs_error)
from faults import ENDLESS_ENTRIES, FAT_PAD, REPEAT_PAGES
from state import PROVIDER_RE, UINT_RE, VERSION_RE, rfs_time
from routes import first


class Rfs:
    """The Handler's RFS operations (op_rfs_*)."""

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
