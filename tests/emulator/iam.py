"""iam.py - IAM: password tokens and the project list.
"""

import hashlib
import json

from errors import iam_error
from state import iam_time
from routes import first
from auth import hmacless_equal


class Iam:
    """The Handler's IAM operations (op_iam_*)."""

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
