"""rfs_create.py - The RFS registry's creates: a private provider and its
versions (as before the other kinds came), and one code path for a private
module, a private hook or a template and their versions. hwcfs never
creates; these let a test or a demo make records through the API itself.
"""

import json
import time

from errors import RF_BAD_PARAM, RF_CONFLICT, rfs_error
from rfs_kinds import KINDS, add_record_version, make_record

PROVIDERS = KINDS["providers"]

# What a create's body must carry besides names, per kind: the payload
# fields (one of them exactly, or, for modules, the one that goes with a
# version) and whether the first version is required.
PAYLOAD = {"modules": ("module_uri",),
           "hooks": ("policy_uri", "policy_body"),
           "templates": ("template_body", "template_uri")}


class RfsCreate:
    """The Handler's RFS creates (op_rfs_create_*)."""

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
        self.name_arg(PROVIDERS, name)
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
            self.version_arg(PROVIDERS, version)
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
        name = self.name_arg(PROVIDERS, args[0])
        req = self.rfs_body(body)
        version = req.get("provider_version")
        if not isinstance(version, str):
            raise rfs_error(400, RF_BAD_PARAM, "provider_version is required")
        self.version_arg(PROVIDERS, version)
        urn = req.get("function_graph_urn")
        self.check_urn(urn)
        vdesc = self.check_text(req, "version_description", 1024)
        pid = req.get("provider_id")
        if pid is not None and (not isinstance(pid, str) or len(pid) != 36):
            raise rfs_error(400, RF_BAD_PARAM,
                            "provider_id must be 36 characters")
        with cloud.lock:
            prov = self.find_record(PROVIDERS, name, pid)
            if version in prov["versions"]:
                raise rfs_error(409, RF_CONFLICT,
                                "The provider version already exists.")
            cloud.add_version(prov, version, int(time.time() * 1000), urn,
                              vdesc)
        return 201, None, None, []

    # ------------------------------------------------- modules, hooks,
    # templates

    def check_payload(self, kind, req, with_version):
        """The payload fields: for hooks and templates exactly one of the
        two; for modules module_uri exactly when a version is made."""
        given = [f for f in PAYLOAD[kind.key] if req.get(f) is not None]
        if any(not isinstance(req[f], str) or not req[f] for f in given):
            raise rfs_error(400, RF_BAD_PARAM, "%s is invalid" % given[0])
        want = (1 if with_version else 0) if kind.key == "modules" else 1
        if len(given) != want:
            raise rfs_error(400, RF_BAD_PARAM, "give %s%s" % (
                " or ".join(PAYLOAD[kind.key]),
                " with a version" if kind.key == "modules" else
                ", exactly one"))

    def new_version_arg(self, kind, req):
        """The version a create makes: templates number their own."""
        if kind.key == "templates":
            return None
        version = req.get(kind.version)
        if version is None:
            if kind.key == "hooks":
                raise rfs_error(400, RF_BAD_PARAM,
                                "%s is required" % kind.version)
            return None
        if not isinstance(version, str):
            raise rfs_error(400, RF_BAD_PARAM, "%s is invalid" % kind.version)
        return self.version_arg(kind, version)

    def rfs_create(self, kind, args, params, body):
        cloud = self.server.cloud
        req = self.rfs_body(body)
        name = req.get(kind.name)
        if not isinstance(name, str):
            raise rfs_error(400, RF_BAD_PARAM, "%s is required" % kind.name)
        self.name_arg(kind, name)
        desc = self.check_text(req, kind.desc, 1024)
        vdesc = self.check_text(req, kind.vdesc, 1024)
        version = self.new_version_arg(kind, req)
        makes = version is not None or kind.key == "templates"
        self.check_payload(kind, req, makes)
        with cloud.lock:
            if name in cloud.rfs[kind.key]:
                raise rfs_error(409, RF_CONFLICT, "The %s already exists."
                                % kind.singular)
            now_ms = int(time.time() * 1000)
            rec = make_record(cloud, kind, name, now_ms, desc)
            out = {kind.id: rec["obj"][kind.id]}
            if makes:
                add_record_version(cloud, kind, rec, version, now_ms, vdesc)
                if kind.key == "templates":
                    out["version_id"] = "V1"
            cloud.insert_rfs(kind.key, name, rec)
        return 201, out, None, []

    def rfs_create_version(self, kind, args, params, body):
        cloud = self.server.cloud
        name = self.name_arg(kind, args[0])
        req = self.rfs_body(body)
        version = self.new_version_arg(kind, req)
        if version is None and kind.key != "templates":
            raise rfs_error(400, RF_BAD_PARAM, "%s is required" % kind.version)
        vdesc = self.check_text(req, kind.vdesc, 1024)
        self.check_payload(kind, req, True)
        # templates take their id in the query, the others in the body
        ident = params.get(kind.id, [None])[0] if kind.key == "templates" \
            else req.get(kind.id)
        self.id_param(kind, ident)
        with cloud.lock:
            rec = self.find_record(kind, name, ident)
            if version in rec["versions"]:
                raise rfs_error(409, RF_CONFLICT,
                                "The %s version already exists."
                                % kind.singular)
            v = add_record_version(cloud, kind, rec, version,
                                   int(time.time() * 1000), vdesc)
            cloud.rfs_keys[kind.key] = None
        out = {"version_id": v[kind.version]} \
            if kind.key == "templates" else None
        return 201, out, None, []
