"""test_mount_names.py - acceptance tests of issue 4, names: every name of
tests/data/bad_names.txt (what a file manager, a shell glob or a careless
script might try) answers ENOENT, or ENAMETOOLONG past 255 bytes, in each
directory where it cannot be an identifier, and costs no request."""

import errno
import os

import pytest

from mountlib import MESSAGES, PACKAGES, PROVIDERS, bad_names, delta_of, \
    errno_of
from rfs_kinds import KINDS

PROVIDER = "owner"
VERSION_DIR = PROVIDERS + "/" + PROVIDER
DIRS = {"package": PACKAGES, "provider": PROVIDERS, "version": VERSION_DIR}
NAME_MAX = 255


def cases():
    """[(directory, name bytes)] where the name can never be valid. The
    empty name, "." and ".." and names holding "/" are left out: the
    kernel resolves those itself and hwcfs never sees them."""
    out = []
    for kinds, name in bad_names():
        if name in (b"", b".", b"..") or b"/" in name:
            continue
        for kind in sorted(kinds):
            out.append((DIRS[kind], name))
    return out


def expected(name):
    return errno.ENAMETOOLONG if len(name) > NAME_MAX else errno.ENOENT


def test_bad_names_file_has_what_the_issue_lists():
    names = {n for _, n in bad_names()}
    assert len(names) >= 50
    for must in (b".git", b".Trash-0", b"..%2F", b"a?b", b"a" * 300,
                 b"\xff"):
        assert must in names
    # Every case above reaches hwcfs: well over a hundred lookups.
    assert len(cases()) > 150


@pytest.fixture
def ready(emulator, mount):
    """A mount whose three directories the kernel already knows (that
    costs requests), with the counters zeroed afterwards."""
    emulator.seed(packages=3)
    emulator.add_provider(PROVIDER, versions=["1.0.0"])
    m = mount()
    for d in DIRS.values():
        os.listdir(m.p(d))
    emulator.reset()
    return m


def open_read(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.read(fd, 4096)
    finally:
        os.close(fd)


OPS = {
    "stat": os.stat,
    "lstat": os.lstat,
    "open": open_read,
    "unlink": os.unlink,
    "listdir": os.listdir,
    "getxattr": lambda p: os.getxattr(p, "user.hwc.package_id"),
}


@pytest.mark.parametrize("op", sorted(OPS))
def test_bad_names_answer_enoent_with_no_request(ready, emulator, op):
    fn = OPS[op]
    wrong = []

    def attempt_all():
        for d, name in cases():
            path = os.path.join(ready.p(d).encode(), name)
            got = errno_of(fn, path)
            if got != expected(name):
                wrong.append((d, name, errno.errorcode.get(got, got)))
    _, delta = delta_of(emulator, attempt_all)
    assert wrong == []
    assert delta == {}
    assert emulator.stats()["total"] == 0


def test_rmdir_of_bad_provider_names_sends_no_request(ready, emulator):
    wrong = []

    def attempt_all():
        for d, name in cases():
            if d != PROVIDERS:
                continue
            got = errno_of(os.rmdir, os.path.join(ready.p(d).encode(), name))
            if got != expected(name):
                wrong.append((name, errno.errorcode.get(got, got)))
    _, delta = delta_of(emulator, attempt_all)
    assert wrong == []
    assert delta == {}


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_bad_names_of_each_rfs_kind_cost_no_request(emulator, mount, kind):
    """Every name of bad_names.txt that the kind's rules (rfs_kinds.py,
    docs/cloud-api.md) refuse, as a name and as a version: stat and rmdir
    answer with no request. The control: a missing name that could be an
    identifier costs one show each."""
    kind.add(emulator, PROVIDER, kind.versions[:1])
    m = mount()
    top, sub = m.p(kind.dir).encode(), m.p(kind.dir, PROVIDER).encode()
    os.listdir(top)
    os.listdir(sub)
    emulator.reset()
    names = [n for _, n in bad_names()
             if n not in (b"", b".", b"..") and b"/" not in n]
    wrong = []

    def attempt_all():
        for name in names:
            tries = []
            if not kind.name_valid(name):
                tries += [(os.stat, top), (os.rmdir, top)]
            if not kind.version_valid(name):
                tries += [(os.stat, sub), (os.unlink, sub)]
            for fn, d in tries:
                got = errno_of(fn, os.path.join(d, name))
                if got != expected(name):
                    wrong.append((d, name, fn.__name__, got))
    _, delta = delta_of(emulator, attempt_all)
    assert wrong == []
    assert delta == {}
    assert len(names) > 50
    missing = "V99" if kind.kind == "templates" else "9.9.9"

    def control():
        for path in (os.path.join(top, b"no-such-name"),
                     os.path.join(sub, missing.encode())):
            assert errno_of(os.stat, path) == errno.ENOENT
    _, delta = delta_of(emulator, control)
    assert delta == {kind.op("show"): 1, kind.op("show_version"): 1,
                     "total": 2}


def test_bad_names_with_a_fresh_listing_send_no_request(emulator, mount):
    # A name missing from a fresh listing is confirmed with a show
    # request; a name that cannot be an identifier must not be.
    emulator.seed(packages=3)
    emulator.add_provider(PROVIDER, versions=["1.0.0"])
    m = mount()
    for d in DIRS.values():
        os.listdir(m.p(d))
    emulator.reset()
    wrong = []
    for d, name in cases():
        got = errno_of(os.stat, os.path.join(m.p(d).encode(), name))
        if got != expected(name):
            wrong.append((d, name, got))
    assert wrong == []
    assert emulator.stats()["total"] == 0


SHELL_NAMES = [b".git", b".Trash-0", b"..%2F", b"a?b", b"a" * 300,
               b"\xff", b"caf\xc3\xa9", b"*", b"$(id)", b"abc\n"]


@pytest.mark.parametrize("cmd", [["ls", "-l"], ["cat"], ["rm"], ["rm", "-f"],
                                 ["stat"]])
def test_shell_commands_on_bad_names_fail_without_request(ready, emulator,
                                                          cmd):
    from mountlib import sh
    for name in SHELL_NAMES:
        path = os.path.join(ready.p(PACKAGES).encode(), name)
        r = sh([c.encode() for c in cmd] + [path])
        if cmd == ["rm", "-f"] and len(name) <= NAME_MAX:
            # -f: a missing name is not an error.
            assert r.returncode == 0, (name, r.stderr)
            continue
        assert r.returncode != 0, name
        assert MESSAGES[expected(name)] in r.stderr, (name, r.stderr)
    assert emulator.stats()["total"] == 0


def test_statfs_reports_name_max_255(ready):
    assert os.statvfs(ready.p(PACKAGES)).f_namemax == NAME_MAX


def test_a_valid_missing_name_does_ask_the_cloud(ready, emulator):
    # The control of the tests above: in the same setting, a name that
    # could be an identifier is looked up (so their zero is not luck).
    for d, name in ((PACKAGES, b"0123456789abcdef01234567"),
                    (PROVIDERS, b"no-such-provider"),
                    (VERSION_DIR, b"9.9.9")):
        got = errno_of(os.stat, os.path.join(ready.p(d).encode(), name))
        assert got == errno.ENOENT
    assert emulator.stats()["total"] == 3
