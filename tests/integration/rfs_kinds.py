"""rfs_kinds.py - the four RFS kinds of the tree (rfs/providers, modules,
hooks, templates) as the parametrised mount tests see them: each kind's
directory, field names, version names, the emulator's counters and
control calls, and the version, if any, that the API deletes only with
its name (docs/hwcfs.md, "Deleting RFS names and versions").

    @pytest.mark.parametrize("kind", KINDS, ids=str)
    def test_something(emulator, mount, kind):
        kind.add(emulator, "hello", kind.versions)
"""

import errno
import re

from emulator.harness import rfs_op

from mountlib import MESSAGES, sh


class RfsKind:
    def __init__(self, kind, one, versions, keeps=None, name_rule=None,
                 version_rule=None):
        self.kind = kind
        self.dir = "rfs/" + kind
        self.id_key = one + "_id"
        self.name_key = one + "_name"
        self.version_key = "version_id" if kind == "templates" \
            else one + "_version"
        # Three version names, in the order rm -r meets them (sorted).
        self.versions = versions
        # None, "first" (a hook's default: the first version created) or
        # "last" (a template's only version left).
        self.keeps = keeps
        self.name_rule = name_rule
        self.version_rule = version_rule
        # Templates are listed whole: no limit, no marker.
        self.paged = kind != "templates"

    def __str__(self):
        return self.kind

    def op(self, action):
        """The emulator's counter of an action (list, delete_version...)."""
        return rfs_op(self.kind, action)

    @property
    def base(self):
        """The versions of a name that rmdir does not count: the one the
        API keeps, created with the name."""
        return self.versions[:1] if self.keeps else ()

    def add(self, emulator, name, versions=(), **fields):
        return emulator.add_rfs(self.kind, name, list(versions), **fields)

    def add_version(self, emulator, name, version):
        return emulator.add_rfs_version(self.kind, name, version)

    def delete(self, emulator, name):
        return emulator.delete_rfs(self.kind, name)

    def state(self, emulator):
        """{name: state object with its "versions" list}."""
        return {o[self.name_key]: o for o in emulator.state()[self.kind]}

    def id_of(self, emulator, name):
        return self.state(emulator)[name][self.id_key]

    def version_names(self, emulator, name):
        return sorted(v[self.version_key]
                      for v in self.state(emulator)[name]["versions"])

    def rm_r(self, path):
        """rm -r of a name's directory, as an admin of this kind does it:
        for a kind that keeps a version, rm -r stops at it (the cloud
        refuses it: EACCES) and an rmdir deletes the name with it. The
        results of both (the second None when not needed)."""
        r = sh(["rm", "-r", path])
        if not self.keeps:
            return r, None
        assert r.returncode == 1, r.stderr
        assert r.stderr.count(MESSAGES[errno.EACCES]) == 1, r.stderr
        return r, sh(["rmdir", path])

    def name_valid(self, name):
        return _matches(self.name_rule, name)

    def version_valid(self, name):
        return _matches(self.version_rule, name)


def _matches(rule, name):
    """Whether bytes name follows a rule (a regular expression of
    docs/cloud-api.md over the UTF-8 text; numbers fit 64 bits)."""
    try:
        text = name.decode("utf-8")
    except UnicodeDecodeError:
        return False
    if not re.fullmatch(rule, text, re.ASCII):
        return False
    return all(int(n) < 2 ** 64 for n in re.findall(r"\d+", text))


PROVIDER_NAME = r"[a-z0-9]([a-z0-9-]{0,62}[a-z0-9])?"
REGISTRY_NAME = "[\u4e00-\u9fa5A-Za-z][\u4e00-\u9fa5A-Za-z0-9_-]{0,127}"
SEMVER = r"(?=.{5,128}$)(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"

SEMVERS = ("1.0.0", "1.2.3", "2.0.0")
KINDS = [
    RfsKind("providers", "provider", SEMVERS, None, PROVIDER_NAME, SEMVER),
    RfsKind("modules", "module", SEMVERS, None, REGISTRY_NAME, SEMVER),
    RfsKind("hooks", "hook", SEMVERS, "first", REGISTRY_NAME, SEMVER),
    RfsKind("templates", "template", ("V1", "V2", "V3"), "last",
            REGISTRY_NAME, r"V[1-9][0-9]*"),
]
