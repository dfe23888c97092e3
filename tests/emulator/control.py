"""control.py - The control API under /_emu/ (no auth): stats, reset,
state, seeding, keys, records and fault knobs; see docs/emulator.md.
"""

import json
import time

import signer
from errors import ApiError
from faults import apply_faults
from rfs_kinds import (KINDS, add_record_version, drop_record_version,
                       list_object, make_record)
from state import PACKAGE_TYPES, empty_stats, parse_time_field, seed_types
from routes import first, param_dict, path_segment


class Control:
    """The Handler's control API (/_emu/...)."""

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
            for k in ("packages", "providers", "versions", "modules",
                      "hooks", "templates"):
                counts[k] = int(req.get(k, 0))
                if counts[k] < 0:
                    raise ApiError(400, {"error": "%s must be >= 0" % k})
            types = seed_types(req.get("package_types"))
            with cloud.lock:
                cloud.seed(clear=bool(req.get("clear")),
                           package_types=types, **counts)
                out = {"packages": len(cloud.packages)}
                out.update((k, len(v)) for k, v in cloud.rfs.items())
                return 200, out
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
        if parts and parts[0] == "rfs":
            return self.control_rfs(method, parts[1:], req)
        raise ApiError(404, {"error": "unknown control call %s %s"
                             % (method, path)})

    def control_rfs(self, method, rest, req):
        """/_emu/rfs/KIND[/NAME[/versions[/VERSION]]]: records of any RFS
        kind made and removed behind a client's back (docs/emulator.md)."""
        cloud = self.server.cloud
        if not rest or rest[0] not in KINDS:
            raise ApiError(404, {"error": "kind: one of %s"
                                 % ", ".join(KINDS)})
        kind, rest = KINDS[rest[0]], rest[1:]
        if not rest and method == "POST":
            return 201, self.control_add_rfs(kind, req)
        with cloud.lock:
            recs = cloud.rfs[kind.key]
            if len(rest) == 1 and method == "DELETE":
                if rest[0] not in recs:
                    raise ApiError(404, {"error": "no such name"})
                cloud.remove_rfs(kind.key, rest[0])
                return 200, {"ok": True}
            if len(rest) >= 2 and rest[1] == "versions" and \
                    rest[0] not in recs:
                raise ApiError(404, {"error": "no such name"})
            if len(rest) == 2 and rest[1] == "versions" and \
                    method == "POST":
                return 201, self.control_add_rfs_version(
                    kind, recs[rest[0]], req, time.time(), None)
            if len(rest) == 3 and rest[1] == "versions" and \
                    method == "DELETE":
                if rest[2] not in recs[rest[0]]["versions"]:
                    raise ApiError(404, {"error": "no such version"})
                drop_record_version(kind, recs[rest[0]], rest[2])
                return 200, {"ok": True}
        raise ApiError(404, {"error": "unknown rfs control call %s" % method})

    def control_add_rfs(self, kind, req):
        """A name of a kind with its versions: a list of version strings
        or objects ({"version", "description", "age_days"|"create_time"}),
        or a count (1.0.0... / V1...)."""
        cloud = self.server.cloud
        name = req.get("name")
        if not isinstance(name, str) or not name:
            raise ApiError(400, {"error": "name is required"})
        now = time.time()
        when = parse_time_field(req, now)
        epoch_ms = int(round((now if when is None else when) * 1000))
        versions = req.get("versions", [])
        if isinstance(versions, int):
            versions = [kind.version_name(i) for i in range(versions)]
        with cloud.lock:
            if name in cloud.rfs[kind.key]:
                raise ApiError(409, {"error": "name exists"})
            if kind.key == "providers":
                rec = cloud.make_provider(name, epoch_ms,
                                          req.get("description"))
            else:
                rec = make_record(cloud, kind, name, epoch_ms,
                                  req.get("description"))
            for i, v in enumerate(versions):
                spec = v if isinstance(v, dict) else {"version": v}
                self.control_add_rfs_version(kind, rec, spec, now,
                                             epoch_ms + (i + 1) * 1000)
            if kind.key == "hooks" and "default_version" in req:
                rec["obj"]["default_version"] = str(req["default_version"])
            cloud.insert_rfs(kind.key, name, rec)
            out = dict(list_object(kind, rec))
            out["versions"] = [dict(v["obj"])
                               for v in rec["versions"].values()]
            return out

    def control_add_rfs_version(self, kind, rec, spec, now, default_ms):
        """One version of rec (cloud.lock held); templates may leave the
        version out (the next Vn)."""
        version = spec.get("version")
        if version is None and kind.key != "templates":
            raise ApiError(400, {"error": "version is required"})
        if version is not None:
            version = str(version)
            if not version or version in rec["versions"]:
                raise ApiError(409, {"error": "version exists or is empty"})
        when = parse_time_field(spec, now)
        if when is not None:
            vms = int(round(when * 1000))
        else:
            vms = default_ms if default_ms is not None else int(now * 1000)
        return add_record_version(self.server.cloud, kind, rec, version, vms,
                                  spec.get("description"),
                                  spec.get("function_graph_urn"))

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
        """The older call of control_add_rfs for providers, with the API's
        own field names (provider_name, provider_version, ...)."""
        if not isinstance(req.get("provider_name"), str) or \
                not req["provider_name"]:
            raise ApiError(400, {"error": "provider_name is required"})
        versions = []
        for v in req.get("versions", []):
            spec = dict(v) if isinstance(v, dict) else {"provider_version": v}
            spec["version"] = spec.pop("provider_version", None)
            if "version_description" in spec:
                spec["description"] = spec.pop("version_description")
            versions.append(spec)
        return self.control_add_rfs(KINDS["providers"], dict(
            req, name=req["provider_name"], versions=versions,
            description=req.get("provider_description")))

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
