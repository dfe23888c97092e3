"""test_mount_modes.py - acceptance tests of issue 4, modes: `-o ro` makes
every delete and change EROFS and clears every write bit; `-o dry_run`
lets `rm`, `rm -r` and `find -delete` finish without a DELETE, hides what
they removed until a refresh, and names each one in the audit log; every
change other than a delete is EPERM and costs no request."""

import errno
import os
import stat
import time

import pytest

from rfs_kinds import KINDS
from mountlib import MESSAGES, PACKAGES, PROVIDERS, delta_of, deletes, \
    errno_of, older_than, package_ids, providers, refresh, sh


PROVIDER_KIND = KINDS[0]


def setup_mount(emulator, mount, *opts, kind=PROVIDER_KIND):
    """Three packages and two names of an RFS kind (providers unless told;
    one with versions, one empty but for what the API keeps), all listed,
    counters zeroed. Returns (mount, a package id)."""
    emulator.seed(packages=3)
    kind.add(emulator, "with-versions", kind.versions[:2])
    kind.add(emulator, "empty-prov", kind.base)
    m = mount(*opts)
    pkg = sorted(package_ids(emulator))[0]
    for d in (PACKAGES, kind.dir, kind.dir + "/with-versions",
              kind.dir + "/empty-prov"):
        os.listdir(m.p(d))
    emulator.reset()
    return m, pkg


def audit_lines(path):
    try:
        with open(path) as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


# ------------------------------------------------------------ -o ro

RO_DELETES = {
    "rm package": ["rm", "{pkgdir}/{pkg}"],
    "rm -f package": ["rm", "-f", "{pkgdir}/{pkg}"],
    "rm -rf packages": ["rm", "-rf", "{pkgdir}"],
    "find -delete": ["find", "{pkgdir}", "-type", "f", "-delete"],
}
# Run for each RFS kind (rfs_kinds.py) by one test.
RO_RFS_DELETES = [
    ["rm", "{provdir}/with-versions/{version}"],
    ["rmdir", "{provdir}/empty-prov"],
    ["rmdir", "{provdir}/with-versions"],
    ["rm", "-r", "{provdir}/with-versions"],
    ["rm", "-rf", "{provdir}"],
]


def expand(cmd, m, pkg, kind=PROVIDER_KIND):
    fmt = dict(pkgdir=m.p(PACKAGES), provdir=m.p(kind.dir), pkg=pkg,
               mnt=m.path, version=kind.versions[0])
    if isinstance(cmd, str):
        return cmd.format(**fmt)
    return [c.format(**fmt) for c in cmd]


@pytest.mark.parametrize("what", sorted(RO_DELETES))
def test_ro_blocks_every_delete_with_erofs(emulator, mount, what):
    m, pkg = setup_mount(emulator, mount, "ro")
    before = emulator.state()
    r, delta = delta_of(emulator, lambda: sh(expand(RO_DELETES[what], m,
                                                    pkg)))
    assert r.returncode != 0
    assert MESSAGES[errno.EROFS] in r.stderr, r.stderr
    assert deletes(emulator) == []
    assert delta == {}
    assert emulator.state() == before


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_ro_blocks_every_rfs_delete_with_erofs(emulator, mount, kind):
    m, pkg = setup_mount(emulator, mount, "ro", kind=kind)
    before = emulator.state()
    for cmd in RO_RFS_DELETES:
        r, delta = delta_of(emulator, lambda: sh(expand(cmd, m, pkg, kind)))
        assert r.returncode != 0, cmd
        assert MESSAGES[errno.EROFS] in r.stderr, (cmd, r.stderr)
        assert delta == {}, cmd
    assert deletes(emulator) == []
    assert emulator.state() == before


def test_ro_delete_from_python_is_erofs(emulator, mount):
    m, pkg = setup_mount(emulator, mount, "ro")
    assert errno_of(os.unlink, m.p(PACKAGES, pkg)) == errno.EROFS
    assert errno_of(os.rmdir, m.p(PROVIDERS, "empty-prov")) == errno.EROFS
    assert emulator.stats()["total"] == 0


def test_ro_modes_show_no_write_bits(emulator, mount):
    m, pkg = setup_mount(emulator, mount, "ro")
    paths = [m.path, m.p("iotda"), m.p(PACKAGES), m.p(PACKAGES, pkg),
             m.p("rfs"), m.p(PROVIDERS), m.p(PROVIDERS, "with-versions"),
             m.p(PROVIDERS, "with-versions", "1.0.0")]
    for p in paths:
        mode = os.stat(p).st_mode
        assert mode & 0o222 == 0, (p, oct(mode))
        assert mode & 0o444 == 0o444, (p, oct(mode))
    assert stat.S_IMODE(os.stat(m.p(PACKAGES, pkg)).st_mode) == 0o444
    assert stat.S_IMODE(os.stat(m.p(PROVIDERS)).st_mode) == 0o555
    r = sh(["ls", "-l", m.p(PACKAGES)])
    assert all(line.startswith("-r--r--r--")
               for line in r.stdout.splitlines()[1:]), r.stdout


def test_rw_modes_are_0644_and_0755(emulator, mount):
    m, pkg = setup_mount(emulator, mount)
    assert stat.S_IMODE(os.stat(m.p(PACKAGES, pkg)).st_mode) == 0o644
    assert stat.S_IMODE(os.stat(m.p(PROVIDERS, "with-versions",
                                    "1.0.0")).st_mode) == 0o644
    for d in (m.path, m.p(PACKAGES), m.p(PROVIDERS),
              m.p(PROVIDERS, "with-versions")):
        assert stat.S_IMODE(os.stat(d).st_mode) == 0o755
    st = os.stat(m.p(PACKAGES, pkg))
    assert (st.st_uid, st.st_gid) == (os.getuid(), os.getgid())


# ------------------------------------------------------------ changes

# Every change that is not a delete. New names are ones no collection
# accepts, so that no lookup of them may ask the cloud either.
CHANGES = {
    "touch new file": ["touch", "{pkgdir}/new.txt"],
    "touch existing": ["touch", "{pkgdir}/{pkg}"],
    "touch in root": ["touch", "{mnt}/new.txt"],
    "mkdir provider": ["mkdir", "{provdir}/New_Dir"],
    "mkdir in packages": ["mkdir", "{pkgdir}/sub.dir"],
    "mkfifo": ["mkfifo", "{pkgdir}/fifo.x"],
    "mv package": ["mv", "{pkgdir}/{pkg}", "{pkgdir}/renamed.txt"],
    "mv provider": ["mv", "{provdir}/empty-prov", "{provdir}/Renamed"],
    "chmod": ["chmod", "600", "{pkgdir}/{pkg}"],
    "chmod dir": ["chmod", "700", "{provdir}/empty-prov"],
    "chown": ["chown", "nobody", "{pkgdir}/{pkg}"],
    "truncate": ["truncate", "-s", "0", "{pkgdir}/{pkg}"],
    "ln": ["ln", "{pkgdir}/{pkg}", "{pkgdir}/hard.link"],
    "ln -s": ["ln", "-s", "/etc/passwd", "{pkgdir}/soft.link"],
    "echo >": "echo x > '{pkgdir}/{pkg}'",
    "echo >>": "echo x >> '{pkgdir}/{pkg}'",
    "echo > new": "echo x > '{pkgdir}/new.json'",
    "setfattr other name": ["setfattr", "-n", "user.foo", "-v", "1",
                            "{pkgdir}/{pkg}"],
    "setfattr hwc field": ["setfattr", "-n", "user.hwc.version", "-v", "V9",
                           "{pkgdir}/{pkg}"],
    "setfattr -x": ["setfattr", "-x", "user.hwc.version", "{pkgdir}/{pkg}"],
    "setfattr on dir": ["setfattr", "-n", "user.other", "-v", "1",
                        "{provdir}/empty-prov"],
    "rmdir fixed dir": ["rmdir", "{pkgdir}"],
}


@pytest.mark.parametrize("what", sorted(CHANGES))
def test_every_other_change_is_eperm_without_request(emulator, mount, what):
    m, pkg = setup_mount(emulator, mount)
    before = emulator.state()
    r, delta = delta_of(emulator, lambda: sh(expand(CHANGES[what], m, pkg)))
    assert r.returncode != 0, what
    assert MESSAGES[errno.EPERM] in r.stderr, r.stderr
    assert delta == {}
    assert emulator.state() == before
    # Nothing appeared or changed in the mount either.
    assert sorted(os.listdir(m.p(PACKAGES))) == sorted(package_ids(emulator))
    assert sorted(os.listdir(m.p(PROVIDERS))) == ["empty-prov",
                                                  "with-versions"]


@pytest.mark.parametrize("what", ["touch new file", "touch existing",
                                  "mkdir provider", "mv package", "chmod",
                                  "ln -s", "echo >", "setfattr other name"])
def test_changes_under_ro_are_erofs_without_request(emulator, mount, what):
    m, pkg = setup_mount(emulator, mount, "ro")
    r, delta = delta_of(emulator, lambda: sh(expand(CHANGES[what], m, pkg)))
    assert r.returncode != 0, what
    assert MESSAGES[errno.EROFS] in r.stderr, r.stderr
    assert delta == {}


# ------------------------------------------------------------ dry run


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_dry_run_rm_r_finishes_without_delete(emulator, mount, kind,
                                              tmp_path):
    # Nothing is sent, so nothing is refused: rm -r of a hook or a
    # template finishes too. The audit log names each one.
    audit = str(tmp_path / "audit.log")
    m, _ = setup_mount(emulator, mount, "dry_run", "audit_log=" + audit,
                       kind=kind)
    before = emulator.state()
    r = sh(["rm", "-r", m.p(kind.dir, "with-versions")])
    assert r.returncode == 0, r.stderr
    assert deletes(emulator) == []
    assert emulator.state() == before
    assert os.listdir(m.p(kind.dir)) == ["empty-prov"]
    lines = audit_lines(audit)
    want = [kind.dir + "/with-versions/" + v for v in kind.versions[:2]] + \
        [kind.dir + "/with-versions"]
    assert len(lines) == 3, lines
    for path, line in zip(want, lines):
        assert (" %s " % path) in line and "outcome=dry-run" in line, lines


@pytest.mark.parametrize("dry_run", [False, True], ids=["real", "dry_run"])
def test_rmdir_counts_a_version_the_listing_left_out(emulator, mount,
                                                      dry_run):
    # 1.0.0's metadata is over the 256 KiB a listed entry may have: not
    # shown, but still there. A dry run's emptiness check, from a listing,
    # must not take the provider for empty when the real one does not.
    emulator.add_rfs("providers", "app", versions=[
        {"version": "1.0.0", "description": "x" * (300 << 10)}])
    m = mount(*(["dry_run"] if dry_run else []))
    assert os.listdir(m.p(PROVIDERS, "app")) == []
    r, delta = delta_of(emulator, lambda: errno_of(os.rmdir,
                                                   m.p(PROVIDERS, "app")))
    assert r == errno.ENOTEMPTY
    assert delta == {"rfs.list_versions": 1, "total": 1}
    assert deletes(emulator) == []
    assert "app" in os.listdir(m.p(PROVIDERS))


def test_dry_run_rm_packages_finishes_without_delete(emulator, mount):
    m, _ = setup_mount(emulator, mount, "dry_run")
    ids = sorted(package_ids(emulator))
    r = sh(["rm"] + [m.p(PACKAGES, i) for i in ids[:2]])
    assert r.returncode == 0, r.stderr
    assert deletes(emulator) == []
    assert sorted(package_ids(emulator)) == ids


def test_dry_run_hides_deleted_entries_until_refresh(emulator, mount):
    m, _ = setup_mount(emulator, mount, "dry_run")
    ids = sorted(package_ids(emulator))
    assert sh(["rm", m.p(PACKAGES, ids[0])]).returncode == 0
    assert sh(["rm", "-r", m.p(PROVIDERS, "with-versions")]).returncode == 0
    assert sorted(os.listdir(m.p(PACKAGES))) == ids[1:]
    assert os.listdir(m.p(PROVIDERS)) == ["empty-prov"]
    assert errno_of(os.stat, m.p(PACKAGES, ids[0])) == errno.ENOENT
    # A refresh of the directory shows the cloud's truth again.
    refresh(m.p(PACKAGES))
    assert sorted(os.listdir(m.p(PACKAGES))) == ids
    refresh(m.p(PROVIDERS))
    assert sorted(os.listdir(m.p(PROVIDERS))) == ["empty-prov",
                                                  "with-versions"]
    refresh(m.p(PROVIDERS, "with-versions"))
    assert sorted(os.listdir(m.p(PROVIDERS, "with-versions"))) == \
        ["1.0.0", "1.2.3"]
    assert deletes(emulator) == []


def test_dry_run_find_delete_finishes_without_delete(emulator, mount):
    emulator.seed(packages=20)
    m = mount("dry_run")
    now = time.time()
    old = {p["package_id"] for p in emulator.state(brief=True)["packages"]
           if older_than(p["create_epoch"], 100, now)}
    r = sh(["find", m.p(PACKAGES), "-type", "f", "-mtime", "+100",
            "-delete"])
    assert r.returncode == 0, r.stderr
    assert deletes(emulator) == []
    assert set(os.listdir(m.p(PACKAGES))) == package_ids(emulator) - old


def test_dry_run_audit_log_names_each_one(emulator, mount, tmp_path):
    audit = str(tmp_path / "audit.log")
    m, _ = setup_mount(emulator, mount, "dry_run", "audit_log=" + audit)
    ids = sorted(package_ids(emulator))
    assert sh(["rm", m.p(PACKAGES, ids[0]), m.p(PACKAGES, ids[2])]) \
        .returncode == 0
    assert sh(["rm", "-r", m.p(PROVIDERS, "with-versions")]).returncode == 0
    lines = audit_lines(audit)
    want = ["iotda/packages/" + ids[0], "iotda/packages/" + ids[2],
            "rfs/providers/with-versions/1.0.0",
            "rfs/providers/with-versions/1.2.3",
            "rfs/providers/with-versions"]
    assert len(lines) == len(want), lines
    for path in want:
        mine = [ln for ln in lines if (" %s " % path) in ln]
        assert len(mine) == 1, (path, lines)
        assert "outcome=dry-run" in mine[0]
    # The provider after its versions.
    assert "rfs/providers/with-versions " in lines[-1]
    assert deletes(emulator) == []


def test_audit_log_names_each_real_delete(emulator, mount, tmp_path):
    audit = str(tmp_path / "audit.log")
    m, pkg = setup_mount(emulator, mount, "audit_log=" + audit)
    assert sh(["rm", m.p(PACKAGES, pkg)]).returncode == 0
    assert sh(["rm", "-r", m.p(PROVIDERS, "with-versions")]).returncode == 0
    lines = audit_lines(audit)
    assert len(lines) == 4 == len(deletes(emulator)), lines
    for path in ("iotda/packages/" + pkg,
                 "rfs/providers/with-versions/1.0.0",
                 "rfs/providers/with-versions/1.2.3",
                 "rfs/providers/with-versions"):
        mine = [ln for ln in lines if (" %s " % path) in ln]
        assert len(mine) == 1, (path, lines)
        assert "outcome=deleted" in mine[0]
        assert "request_id=" in mine[0]
    assert "with-versions" not in providers(emulator)
