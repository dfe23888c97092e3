"""routes.py - Which operation a method and a path name, and the helpers
that decode path segments and query parameters.
"""

import re
import urllib.parse

from rfs_kinds import kind_routes


ROUTES = [
    (re.compile(r"^/v5/iot/([^/]+)/ota-upgrades/packages$"),
     {"GET": "iotda.list", "POST": "iotda.create"}),
    (re.compile(r"^/v5/iot/([^/]+)/ota-upgrades/packages/([^/]+)$"),
     {"GET": "iotda.show", "DELETE": "iotda.delete"}),
] + kind_routes() + [
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
