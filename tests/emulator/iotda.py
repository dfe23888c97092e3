"""iotda.py - IoTDA OTA packages: list, show, delete and create.
"""

import bisect
import json
import re

from errors import (IOTDA_BAD_BODY, IOTDA_BAD_LIMIT, IOTDA_BAD_MARKER,
                    IOTDA_BAD_PARAM, IOTDA_FORBIDDEN, IOTDA_NOT_FOUND,
                    iotda_error)
from faults import ENDLESS_ENTRIES, FAT_PAD, REPEAT_PAGES
from state import (HEX24_RE, IDENT_RE, MAX_MARKER, PACKAGE_ID_RE,
                   PACKAGE_TYPES, PKG_VERSION_RE, UINT_RE, iotda_time)
from routes import first


class Iotda:
    """The Handler's IoTDA operations (op_iotda_*)."""

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
