"""test_delete_guards.py - acceptance tests of issue 15, guards for
deleting at scale: `-o protect=PATTERN`, `-o min_age=DURATION` and `-o
max_deletes=N` (with the owner's `setfattr -n user.hwcfs.max_deletes`).
A refused delete is EPERM, sends no request, leaves the entry where it was
and writes `outcome=refused reason=WHY` to the audit log; `rm -r` goes on
with the other names. Bad values are usage errors (exit 2) on the command
line and in a profile, and `hwcfs --check` prints the guards that are
set. Request counts come from the emulator's counters."""

import errno
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from conftest import HWCFS, REPO, clean_env, emulator_opts, is_mounted
from mountlib import MESSAGES, PACKAGES, PROVIDERS, delta_of, deletes, \
    errno_of, package_ids, providers, refresh, sh
from rfs_kinds import KINDS

EXIT_USAGE = 2
EPERM_MSG = MESSAGES[errno.EPERM]


def audit_lines(path):
    """{resource path: outcome} of the audit log (one delete each)."""
    out = {}
    for line in path.read_text().splitlines():
        m = re.match(r"^\S+ delete (\S+) request_id=\S+ outcome=(.*)$", line)
        assert m, line
        out.setdefault(m.group(1), []).append(m.group(2))
    return out


def refused_names(stderr):
    """The paths rm/find said "Operation not permitted" of."""
    return set(re.findall(r"'([^']+)': %s" % EPERM_MSG, stderr))


def mount_with_audit(mount, tmp_path, *opts):
    audit = tmp_path / "audit.log"
    return mount("audit_log=%s" % audit, *opts), audit


# ------------------------------------------------------------ protect


def test_protect_refuses_rm_without_a_request(emulator, mount, tmp_path):
    for pid in ("keep-1", "keep-2", "scrap-1"):
        emulator.add_package(package_id=pid, age_days=100)
    m, audit = mount_with_audit(mount, tmp_path,
                                "protect=iotda/packages/keep-*")
    assert sorted(os.listdir(m.p(PACKAGES))) == ["keep-1", "keep-2",
                                                 "scrap-1"]
    r, delta = delta_of(emulator, lambda: sh(["rm", m.p(PACKAGES, "keep-1")]))
    assert r.returncode == 1
    assert refused_names(r.stderr) == {m.p(PACKAGES, "keep-1")}, r.stderr
    assert delta == {}
    # The kernel's view is as it was: listed and there, at no cost.
    r, delta = delta_of(emulator, lambda: (
        sorted(os.listdir(m.p(PACKAGES))), os.stat(m.p(PACKAGES, "keep-1"))))
    assert r[0] == ["keep-1", "keep-2", "scrap-1"]
    assert delta == {}
    r, delta = delta_of(emulator, lambda: sh(["rm", m.p(PACKAGES,
                                                        "scrap-1")]))
    assert r.returncode == 0, r.stderr
    assert delta == {"iotda.delete": 1, "total": 1}
    assert package_ids(emulator) == {"keep-1", "keep-2"}
    assert audit_lines(audit) == {
        "iotda/packages/keep-1": ["refused reason=protect"],
        "iotda/packages/scrap-1": ["deleted http=204"]}


def test_rm_r_of_a_provider_with_a_protected_version_keeps_both(
        emulator, mount, tmp_path):
    emulator.add_provider("app", versions=["1.0.0", "2.0.0", "3.0.0"])
    m, audit = mount_with_audit(mount, tmp_path,
                                "protect=rfs/providers/app/2.0.0")
    assert sorted(os.listdir(m.p(PROVIDERS, "app"))) == \
        ["1.0.0", "2.0.0", "3.0.0"]
    r, delta = delta_of(emulator, lambda: sh(["rm", "-r",
                                             m.p(PROVIDERS, "app")]))
    assert r.returncode == 1
    assert refused_names(r.stderr) == {m.p(PROVIDERS, "app", "2.0.0")}
    # Two DELETEs; nothing for 2.0.0. rm -r knows the provider is not
    # empty and leaves it; an rmdir of it is ENOTEMPTY.
    assert delta == {"rfs.delete_version": 2, "total": 2}
    assert errno_of(os.rmdir, m.p(PROVIDERS, "app")) == errno.ENOTEMPTY
    assert sorted(d["resource"] for d in deletes(emulator)) == \
        ["app/1.0.0", "app/3.0.0"]
    assert [v["provider_version"]
            for v in providers(emulator)["app"]["versions"]] == ["2.0.0"]
    assert os.listdir(m.p(PROVIDERS, "app")) == ["2.0.0"]
    assert audit_lines(audit) == {
        "rfs/providers/app/1.0.0": ["deleted http=204"],
        "rfs/providers/app/2.0.0": ["refused reason=protect"],
        "rfs/providers/app/3.0.0": ["deleted http=204"]}


def test_protecting_a_provider_protects_its_versions(emulator, mount,
                                                     tmp_path):
    emulator.add_provider("prod", versions=["1.0.0"])
    m, audit = mount_with_audit(mount, tmp_path, "protect=rfs/providers/pr*")
    assert os.listdir(m.p(PROVIDERS, "prod")) == ["1.0.0"]
    r, delta = delta_of(emulator, lambda: sh(["rm", "-r",
                                             m.p(PROVIDERS, "prod")]))
    assert r.returncode == 1
    assert refused_names(r.stderr) == {m.p(PROVIDERS, "prod", "1.0.0")}
    assert delta == {}
    # The provider itself too, by its name, before any request.
    r, delta = delta_of(emulator, lambda: errno_of(os.rmdir,
                                                   m.p(PROVIDERS, "prod")))
    assert (r, delta) == (errno.EPERM, {})
    assert audit_lines(audit) == {
        "rfs/providers/prod/1.0.0": ["refused reason=protect"],
        "rfs/providers/prod": ["refused reason=protect"]}


def test_cascade_refuses_a_provider_with_a_protected_version(
        emulator, mount, tmp_path):
    emulator.add_provider("app", versions=["1.0.0", "2.0.0"])
    m, audit = mount_with_audit(mount, tmp_path, "rmdir_cascade",
                                "protect=rfs/providers/*/2.0.0")
    assert "app" in os.listdir(m.p(PROVIDERS))
    r, delta = delta_of(emulator, lambda: sh(["rmdir",
                                             m.p(PROVIDERS, "app")]))
    assert r.returncode == 1
    assert EPERM_MSG in r.stderr, r.stderr
    # The one DELETE would take 2.0.0 along: the versions are asked, and
    # no DELETE is sent.
    assert delta == {"rfs.list_versions": 1, "total": 1}
    assert deletes(emulator) == []
    assert len(providers(emulator)["app"]["versions"]) == 2
    assert audit_lines(audit) == {
        "rfs/providers/app": ["refused reason=protect"]}


# A '/' escaped or in a bracket still parts the path's components
# (FNM_PATHNAME): such a pattern protects app/2.0.0, and a cascade of app
# must see that.
@pytest.mark.parametrize("pattern", ["rfs/providers/app\\/2.0.0",
                                     "rfs/providers/[a/]pp/2.0.0",
                                     "rfs/providers/\\app/2.0.\\0"])
def test_cascade_reads_a_pattern_with_an_escape_or_a_bracket(
        emulator, mount, tmp_path, pattern):
    emulator.add_provider("app", versions=["1.0.0", "2.0.0"])
    conf = tmp_path / "config"
    conf.write_text("[p]\nprotect = %s\n" % pattern)
    conf.chmod(0o600)
    m, audit = mount_with_audit(mount, tmp_path, "config=%s" % conf,
                                "profile=p", "rmdir_cascade")
    assert "app" in os.listdir(m.p(PROVIDERS))
    r, delta = delta_of(emulator, lambda: errno_of(os.rmdir,
                                                   m.p(PROVIDERS, "app")))
    assert (r, delta) == (errno.EPERM, {"rfs.list_versions": 1, "total": 1})
    assert deletes(emulator) == []
    r, delta = delta_of(emulator, lambda: errno_of(
        os.unlink, m.p(PROVIDERS, "app", "2.0.0")))
    assert r == errno.EPERM
    assert "rfs.delete_version" not in delta
    assert len(providers(emulator)["app"]["versions"]) == 2
    assert audit_lines(audit) == {
        "rfs/providers/app": ["refused reason=protect"],
        "rfs/providers/app/2.0.0": ["refused reason=protect"]}


@pytest.mark.parametrize("guard", ["protect", "min_age"])
def test_cascade_refuses_a_provider_with_a_version_it_cannot_show(
        emulator, mount, tmp_path, guard):
    # 2.0.0's metadata is over the 256 KiB a listed entry may have: it is
    # left out of listings, but the cascade's DELETE would take it along.
    emulator.add_rfs("providers", "app", age_days=100, versions=[
        {"version": "1.0.0", "age_days": 90},
        {"version": "2.0.0", "age_days": 0.1,
         "description": "x" * (300 << 10)}])
    opt = "protect=rfs/providers/app/2.0.0" if guard == "protect" \
        else "min_age=1d"
    m, audit = mount_with_audit(mount, tmp_path, "rmdir_cascade", opt)
    assert os.listdir(m.p(PROVIDERS, "app")) == ["1.0.0"]
    r, delta = delta_of(emulator, lambda: errno_of(os.rmdir,
                                                   m.p(PROVIDERS, "app")))
    assert (r, delta) == (errno.EPERM, {"rfs.list_versions": 1, "total": 1})
    assert deletes(emulator) == []
    assert len(providers(emulator)["app"]["versions"]) == 2
    assert audit_lines(audit) == {
        "rfs/providers/app": ["refused reason=" + guard]}


# Names of modules, hooks and templates may be Chinese: '?' and a
# bracket stand for one character of a name, not one byte of it.
@pytest.mark.parametrize("kind", KINDS[1:], ids=str)
def test_protect_matches_characters_not_bytes(emulator, mount, tmp_path,
                                              kind):
    for name in ("\u6a21\u5757", "\u6a21\u5757\u5757", "x\u5757"):
        kind.add(emulator, name, kind.versions)
    m, audit = mount_with_audit(
        mount, tmp_path, "protect=%s/\u6a21?" % kind.dir,
        "protect=%s/[x\u6a21]\u5757\u5757" % kind.dir)
    v = kind.versions[1]
    assert len(os.listdir(m.p(kind.dir))) == 3
    for name in ("\u6a21\u5757", "\u6a21\u5757\u5757", "x\u5757"):
        assert sorted(os.listdir(m.p(kind.dir, name))) == \
            sorted(kind.versions)
    for name in ("\u6a21\u5757", "\u6a21\u5757\u5757"):
        r, delta = delta_of(emulator, lambda: errno_of(
            os.unlink, m.p(kind.dir, name, v)))
        assert (r, delta) == (errno.EPERM, {})
    # Two characters after x: not protected.
    r, delta = delta_of(emulator, lambda: sh(["rm", m.p(kind.dir, "x\u5757",
                                                        v)]))
    assert r.returncode == 0, r.stderr
    assert delta == {kind.op("delete_version"): 1, "total": 1}
    assert deletes(emulator)[0]["resource"] == "x\u5757/" + v
    assert audit_lines(audit) == {
        "%s/\u6a21\u5757/%s" % (kind.dir, v): ["refused reason=protect"],
        "%s/\u6a21\u5757\u5757/%s" % (kind.dir, v):
            ["refused reason=protect"],
        "%s/x\u5757/%s" % (kind.dir, v): ["deleted http=204"]}


def test_an_audit_line_is_one_word_per_field_whatever_the_name(
        emulator, mount, tmp_path):
    # A listed name may hold spaces: in the audit line they must not pass
    # for fields of their own.
    name = "x request_id=1 outcome=deleted http=204"
    emulator.add_rfs("providers", name, ["1.0.0", "2.0.0"])
    m, audit = mount_with_audit(mount, tmp_path, "protect=rfs/providers/x*")
    assert os.listdir(m.p(PROVIDERS)) == [name]
    assert sorted(os.listdir(m.p(PROVIDERS, name))) == ["1.0.0", "2.0.0"]
    r, delta = delta_of(emulator, lambda: errno_of(
        os.unlink, m.p(PROVIDERS, name, "1.0.0")))
    assert (r, delta) == (errno.EPERM, {})
    esc = name.replace(" ", "\\x20")
    assert audit_lines(audit) == {
        "rfs/providers/%s/1.0.0" % esc: ["refused reason=protect"]}


def test_protect_lines_of_a_profile_all_hold(emulator, mount, tmp_path):
    for pid in ("a-1", "b-1", "c-1"):
        emulator.add_package(package_id=pid, age_days=10)
    conf = tmp_path / "config"
    conf.write_text("[p]\nprotect = iotda/packages/a-*\n"
                    "protect = iotda/packages/b-1\n")
    conf.chmod(0o600)
    m = mount("config=%s" % conf, "profile=p")
    assert len(os.listdir(m.p(PACKAGES))) == 3
    r, delta = delta_of(emulator, lambda: sh(
        ["rm", "-f"] + [m.p(PACKAGES, p) for p in ("a-1", "b-1", "c-1")]))
    assert r.returncode == 1
    assert refused_names(r.stderr) == {m.p(PACKAGES, "a-1"),
                                       m.p(PACKAGES, "b-1")}
    assert delta == {"iotda.delete": 1, "total": 1}
    assert package_ids(emulator) == {"a-1", "b-1"}


# ------------------------------------------------------------ min_age


def test_min_age_find_delete_spares_the_young_packages(emulator, mount,
                                                       tmp_path):
    old = {emulator.add_package(age_days=d)["package_id"]
           for d in (40, 90, 400)}
    young = {emulator.add_package(age_days=d)["package_id"]
             for d in (0.01, 3, 29)}
    m, audit = mount_with_audit(mount, tmp_path, "min_age=30d")
    assert set(os.listdir(m.p(PACKAGES))) == old | young
    # A cleanup whose -mtime test was forgotten: the guard stops it.
    r, delta = delta_of(emulator, lambda: sh(
        ["find", m.p(PACKAGES), "-type", "f", "-delete"]))
    assert r.returncode == 1
    assert refused_names(r.stderr) == {m.p(PACKAGES, p) for p in young}
    # The creation times came with the listing: one DELETE per old one.
    assert delta == {"iotda.delete": 3, "total": 3}
    assert package_ids(emulator) == young
    assert set(os.listdir(m.p(PACKAGES))) == young
    lines = audit_lines(audit)
    assert {p: lines["iotda/packages/" + p] for p in young} == \
        {p: ["refused reason=min_age"] for p in young}
    assert {p: lines["iotda/packages/" + p] for p in old} == \
        {p: ["deleted http=204"] for p in old}


def test_min_age_refuses_a_young_version(emulator, mount, tmp_path):
    emulator.add_provider("app", age_days=100, versions=[
        {"provider_version": "1.0.0", "age_days": 90},
        {"provider_version": "2.0.0", "age_days": 0.4}])
    m, audit = mount_with_audit(mount, tmp_path, "min_age=12h")
    assert sorted(os.listdir(m.p(PROVIDERS, "app"))) == ["1.0.0", "2.0.0"]
    r, delta = delta_of(emulator, lambda: sh(
        ["rm", m.p(PROVIDERS, "app", "2.0.0")]))
    assert r.returncode == 1 and EPERM_MSG in r.stderr, r.stderr
    assert delta == {}
    r, delta = delta_of(emulator, lambda: sh(
        ["rm", m.p(PROVIDERS, "app", "1.0.0")]))
    assert r.returncode == 0, r.stderr
    assert delta == {"rfs.delete_version": 1, "total": 1}
    assert audit_lines(audit) == {
        "rfs/providers/app/2.0.0": ["refused reason=min_age"],
        "rfs/providers/app/1.0.0": ["deleted http=204"]}


def test_min_age_with_cascade_refuses_an_old_provider_with_a_young_version(
        emulator, mount, tmp_path):
    emulator.add_provider("app", age_days=100, versions=[
        {"provider_version": "1.0.0", "age_days": 1}])
    m, audit = mount_with_audit(mount, tmp_path, "rmdir_cascade",
                                "min_age=1w")
    assert "app" in os.listdir(m.p(PROVIDERS))
    r, delta = delta_of(emulator, lambda: sh(["rmdir",
                                             m.p(PROVIDERS, "app")]))
    assert r.returncode == 1 and EPERM_MSG in r.stderr, r.stderr
    assert delta == {"rfs.list_versions": 1, "total": 1}
    assert "app" in providers(emulator)
    assert audit_lines(audit) == {"rfs/providers/app":
                                  ["refused reason=min_age"]}


# ------------------------------------------------------------ every kind


@pytest.mark.parametrize("guard", ["protect", "min_age"])
@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_rmdir_after_rm_r_keeps_a_guarded_version(emulator, mount, tmp_path,
                                                  kind, guard):
    # The first version is the guarded one: a hook's default, the one a
    # template keeps once the others are gone. A hook's or template's
    # DELETE takes that version along, so the guards must see it even
    # without rmdir_cascade.
    keep = kind.versions[0]
    kind.add(emulator, "app", [
        {"version": v, "age_days": 0.1 if v == keep else 50}
        for v in kind.versions], age_days=100)
    opt = "protect=%s/app/%s" % (kind.dir, keep) if guard == "protect" \
        else "min_age=1d"
    m, audit = mount_with_audit(mount, tmp_path, opt)
    d = m.p(kind.dir, "app")
    assert sorted(os.listdir(d)) == sorted(kind.versions)
    r, delta = delta_of(emulator, lambda: sh(["rm", "-r", d]))
    assert r.returncode == 1
    assert refused_names(r.stderr) == {m.p(kind.dir, "app", keep)}, r.stderr
    assert delta == {kind.op("delete_version"): 2, "total": 2}
    r, delta = delta_of(emulator, lambda: errno_of(os.rmdir, d))
    assert r == (errno.EPERM if kind.keeps else errno.ENOTEMPTY)
    assert kind.op("delete") not in delta
    assert kind.version_names(emulator, "app") == [keep]
    assert [x["resource"] for x in deletes(emulator)] == \
        ["app/" + v for v in kind.versions[1:]]
    expect = {"%s/app/%s" % (kind.dir, v): ["deleted http=204"]
              for v in kind.versions[1:]}
    expect["%s/app/%s" % (kind.dir, keep)] = ["refused reason=" + guard]
    if kind.keeps:
        expect["%s/app" % kind.dir] = ["refused reason=" + guard]
    assert audit_lines(audit) == expect


# ------------------------------------------------------------ max_deletes


def rm_in_parallel(groups):
    """One `rm -f` process per group of paths, all at once; their
    combined stderr."""
    env = dict(os.environ, LC_ALL="C", LANG="C")
    running = [subprocess.Popen(["rm", "-f"] + g, env=env,
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
               for g in groups]
    return "".join(p.communicate(timeout=120)[1] for p in running)


def warnings_of(m):
    """How many times the daemon warned that max_deletes was reached."""
    return len(re.findall(r"max_deletes: the limit of \d+ deletes is "
                          r"reached", m.stderr))


def versions_left(emulator):
    return sum(len(p["versions"]) for p in providers(emulator).values())


def test_max_deletes_holds_under_16_parallel_rm(emulator, mount, tmp_path):
    # The kernel runs the unlinks of one directory one at a time: the 16
    # processes delete in 16 directories, so that their deletes reach
    # hwcfs together.
    names = ["p%02d" % i for i in range(16)]
    for name in names:
        emulator.add_provider(name, versions=["1.0.0", "1.0.1", "1.0.2"])
    m, audit = mount_with_audit(mount, tmp_path, "max_deletes=10")
    groups = []
    for name in names:
        versions = sorted(os.listdir(m.p(PROVIDERS, name)))
        assert len(versions) == 3
        groups.append([m.p(PROVIDERS, name, v) for v in versions])
    # Slow DELETEs, so that many are under way at once.
    emulator.faults(latency_ms=100)
    err, delta = delta_of(emulator, lambda: rm_in_parallel(groups))
    emulator.clear_faults()
    assert delta == {"rfs.delete_version": 10, "total": 10}
    assert len(deletes(emulator)) == 10
    assert versions_left(emulator) == 38
    assert len(refused_names(err)) == 38
    outcomes = [o for v in audit_lines(audit).values() for o in v]
    assert sorted(set(outcomes)) == ["deleted http=204",
                                     "refused reason=max_deletes"]
    assert outcomes.count("deleted http=204") == 10
    # One warning, the first time the limit was hit.
    assert warnings_of(m) == 1, m.stderr
    for name, p in providers(emulator).items():
        assert sorted(os.listdir(m.p(PROVIDERS, name))) == \
            sorted(v["provider_version"] for v in p["versions"])


def test_max_deletes_holds_across_the_kinds(emulator, mount, tmp_path):
    # 16 processes, 4 of each RFS kind, each deleting 2 versions of its
    # own name (not the one a hook or template keeps): one budget for all.
    groups = []
    for kind in KINDS:
        for i in range(4):
            kind.add(emulator, "n%d" % i, kind.versions)
    m, audit = mount_with_audit(mount, tmp_path, "max_deletes=10")
    for kind in KINDS:
        for i in range(4):
            d = m.p(kind.dir, "n%d" % i)
            assert sorted(os.listdir(d)) == sorted(kind.versions)
            groups.append([os.path.join(d, v) for v in kind.versions[1:]])
    emulator.faults(latency_ms=100)
    err, delta = delta_of(emulator, lambda: rm_in_parallel(groups))
    emulator.clear_faults()
    assert sum(delta.get(k.op("delete_version"), 0) for k in KINDS) == 10
    assert delta["total"] == 10, delta
    assert len(deletes(emulator)) == 10
    assert all(d["status"] == 204 for d in deletes(emulator))
    assert len(refused_names(err)) == 22
    outcomes = [o for v in audit_lines(audit).values() for o in v]
    assert outcomes.count("deleted http=204") == 10
    assert outcomes.count("refused reason=max_deletes") == 22
    assert os.getxattr(m.path, "user.hwcfs.max_deletes") == b"0"


def test_setfattr_gives_the_owner_a_new_budget(emulator, mount, tmp_path):
    emulator.seed(packages=12)
    m, audit = mount_with_audit(mount, tmp_path, "max_deletes=2")
    ids = sorted(os.listdir(m.p(PACKAGES)))
    r = sh(["rm", "-f"] + [m.p(PACKAGES, i) for i in ids[:4]])
    assert r.returncode == 1 and len(refused_names(r.stderr)) == 2
    assert len(deletes(emulator)) == 2
    assert os.getxattr(m.path, "user.hwcfs.max_deletes") == b"0"
    r = sh(["setfattr", "-n", "user.hwcfs.max_deletes", "-v", "5", m.path])
    assert r.returncode == 0, r.stderr
    assert os.getxattr(m.path, "user.hwcfs.max_deletes") == b"5"
    r, delta = delta_of(emulator, lambda: sh(
        ["rm", "-f"] + [m.p(PACKAGES, i) for i in ids[2:]]))
    assert r.returncode == 1 and len(refused_names(r.stderr)) == 5
    assert delta == {"iotda.delete": 5, "total": 5}
    assert len(package_ids(emulator)) == 5
    # Hit again after the reset: warned again, once.
    assert warnings_of(m) == 2, m.stderr
    # Not a number: refused, the budget unchanged.
    r = sh(["setfattr", "-n", "user.hwcfs.max_deletes", "-v", "x", m.path])
    assert r.returncode == 1
    assert os.getxattr(m.path, "user.hwcfs.max_deletes") == b"0"


def test_setfattr_by_another_user_is_refused(emulator, mount):
    emulator.seed(packages=2)
    m = mount("allow_other", "max_deletes=0")
    ids = sorted(os.listdir(m.p(PACKAGES)))
    # Opened by root (the owner), used by nobody: only the attribute's
    # own permission is tested, not the path to the mount point.
    code = (
        "import os, sys\n"
        "fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)\n"
        "os.setgroups([]); os.setresgid(65534, 65534, 65534)\n"
        "os.setresuid(65534, 65534, 65534)\n"
        "try:\n"
        "    os.setxattr(fd, 'user.hwcfs.max_deletes', b'100')\n"
        "    print(0)\n"
        "except OSError as e:\n"
        "    print(e.errno)\n")
    r = subprocess.run([sys.executable, "-c", code, m.path],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert int(r.stdout) == errno.EACCES
    assert os.getxattr(m.path, "user.hwcfs.max_deletes") == b"0"
    r, delta = delta_of(emulator, lambda: sh(["rm", m.p(PACKAGES, ids[0])]))
    assert r.returncode == 1 and EPERM_MSG in r.stderr
    assert delta == {}
    # The owner may.
    os.setxattr(m.path, "user.hwcfs.max_deletes", b"1")
    r, delta = delta_of(emulator, lambda: sh(["rm", m.p(PACKAGES, ids[0])]))
    assert r.returncode == 0, r.stderr
    assert delta == {"iotda.delete": 1, "total": 1}


def test_a_delete_never_sent_takes_no_slot(emulator, mount, tmp_path):
    emulator.seed(packages=3, providers=1)
    m, audit = mount_with_audit(mount, tmp_path, "max_deletes=1",
                                "auth_hold=1")
    ids = sorted(os.listdir(m.p(PACKAGES)))
    (prov,) = os.listdir(m.p(PROVIDERS))
    # A 401 elsewhere opens the key breaker: the DELETE is refused
    # EACCES before it is sent, and gives its slot back.
    emulator.revoke_key()
    refresh(m.p(PROVIDERS))
    assert errno_of(os.listdir, m.p(PROVIDERS)) == errno.EACCES
    r, delta = delta_of(emulator, lambda: sh(["rm", m.p(PACKAGES, ids[0])]))
    assert r.returncode == 1 and MESSAGES[errno.EACCES] in r.stderr
    assert delta == {}
    assert os.getxattr(m.path, "user.hwcfs.max_deletes") == b"1"
    emulator.reset_keys()
    time.sleep(1.5)  # the hold ends; the DELETE below is its probe
    r, delta = delta_of(emulator, lambda: sh(["rm", m.p(PACKAGES, ids[0])]))
    assert r.returncode == 0, r.stderr
    assert delta == {"iotda.delete": 1, "total": 1}
    r, delta = delta_of(emulator, lambda: sh(["rm", m.p(PACKAGES, ids[1])]))
    assert r.returncode == 1 and EPERM_MSG in r.stderr
    assert delta == {}
    assert audit_lines(audit) == {
        "iotda/packages/" + ids[0]: ["deleted http=204"],
        "iotda/packages/" + ids[1]: ["refused reason=max_deletes"]}


def test_a_dry_run_delete_takes_a_slot(emulator, mount, tmp_path):
    emulator.seed(packages=3)
    m, audit = mount_with_audit(mount, tmp_path, "dry_run", "max_deletes=2")
    ids = sorted(os.listdir(m.p(PACKAGES)))
    r, delta = delta_of(emulator, lambda: sh(
        ["rm"] + [m.p(PACKAGES, i) for i in ids]))
    assert r.returncode == 1
    assert refused_names(r.stderr) == {m.p(PACKAGES, ids[2])}
    assert deletes(emulator) == []
    assert delta.get("iotda.delete", 0) == 0
    outcomes = sorted(o for v in audit_lines(audit).values() for o in v)
    assert outcomes == ["dry-run", "dry-run", "refused reason=max_deletes"]


def test_without_guards_the_attribute_is_absent_and_rm_works(emulator,
                                                             mount):
    emulator.seed(packages=1)
    m = mount()
    assert errno_of(os.getxattr, m.path, "user.hwcfs.max_deletes") == \
        errno.ENODATA
    (pid,) = os.listdir(m.p(PACKAGES))
    r, delta = delta_of(emulator, lambda: sh(["rm", m.p(PACKAGES, pid)]))
    assert r.returncode == 0, r.stderr
    assert delta == {"iotda.delete": 1, "total": 1}


# ------------------------------------------------------------ settings


def run_hwcfs(emulator, args, opts, tmp_path):
    """hwcfs run to its end with the emulator's settings, and the requests
    it sent; a mount it should not have made is undone at once."""
    env, _ = clean_env(emulator)
    argv = [HWCFS, "-o", ",".join(emulator_opts(emulator) + opts)] + args
    emulator.reset()
    proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        out, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        mnt = args[-1]
        if is_mounted(mnt):
            subprocess.run(["fusermount3", "-u", mnt], timeout=30)
        out, err = proc.communicate(timeout=30)
    return proc.returncode, out, err, emulator.stats()["total"]


BAD = [
    ("min_age", "-1d"), ("min_age", "7"), ("min_age", "7y"),
    ("min_age", "1d12h"), ("min_age", "d"), ("min_age", "3651d"),
    ("min_age", ""), ("max_deletes", "x"), ("max_deletes", "-1"),
    ("max_deletes", "1e3"), ("max_deletes", ""),
    ("max_deletes", "1000000001"), ("protect", ""),
    ("protect", "/iotda/packages/x"), ("protect", "rfs/providers/"),
    # Paths in the tree have none of these: such a pattern would protect
    # nothing, silently.
    ("protect", "./rfs/providers/x"), ("protect", "rfs//providers/x"),
    ("protect", "rfs/providers/../x"), ("protect", "rfs/providers/."),
]


@pytest.mark.parametrize("where", ["command_line", "profile"])
@pytest.mark.parametrize("key,value", BAD)
def test_a_bad_guard_value_is_a_usage_error(emulator, tmp_path, key, value,
                                            where):
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    opts = []
    if where == "command_line":
        opts.append("%s=%s" % (key, value))
    else:
        conf = tmp_path / "config"
        conf.write_text("[default]\nprotect = rfs/providers/ok\n"
                        "%s = %s\n" % (key, value))
        conf.chmod(0o600)
        opts.append("config=%s" % conf)
    for args in (["--check"], ["-f", str(mnt)]):
        code, _, err, total = run_hwcfs(emulator, args, opts, tmp_path)
        assert code == EXIT_USAGE, err
        assert "hwcfs: " in err and key in err, err
        if where == "profile":
            assert "%s:3: %s" % (conf, key) in err, err
        assert total == 0
        assert not is_mounted(str(mnt))


# A typo in a pattern's directories would protect nothing, silently.
@pytest.mark.parametrize("where", ["command_line", "profile"])
@pytest.mark.parametrize("pattern", ["rfs/provider/prod", "iotda/prod-*",
                                     "providers/prod", "rfs/modules-x"])
def test_a_pattern_outside_the_tree_is_a_usage_error(emulator, tmp_path,
                                                     pattern, where):
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    conf = tmp_path / "config"
    conf.write_text("[default]\nprotect = rfs/*/ok\nprotect = r[f]s/x\n" +
                    ("protect = %s\n" % pattern if where == "profile"
                     else ""))
    conf.chmod(0o600)
    opts = ["config=%s" % conf]
    if where == "command_line":
        opts.append("protect=" + pattern)
    for args in (["--check"], ["-f", str(mnt)]):
        code, _, err, total = run_hwcfs(emulator, args, opts, tmp_path)
        assert code == EXIT_USAGE, err
        assert "hwcfs: protect %s" % pattern in err, err
        assert "rfs/ok" not in err and "r[f]s/x" not in err, err
        assert total == 0
        assert not is_mounted(str(mnt))


def test_check_prints_the_guards_that_are_set(emulator, tmp_path):
    conf = tmp_path / "config"
    conf.write_text("[p]\nprotect = rfs/providers/prod\n"
                    "protect = iotda/packages/keep-*\nmin_age = 36h\n"
                    "max_deletes = 7\n")
    conf.chmod(0o600)
    code, out, err, _ = run_hwcfs(
        emulator, ["--check", "p"],
        ["config=%s" % conf, "min_age=2w", "protect=rfs/providers/*/1.0.0"],
        tmp_path)
    assert code == 0, err
    lines = out.splitlines()
    in_profile = "profile p of %s" % conf
    assert "min_age: 2w (command line)" in lines
    assert "max_deletes: 7 (%s)" % in_profile in lines
    assert [x for x in lines if x.startswith("protect: ")] == [
        "protect: rfs/providers/*/1.0.0 (command line)",
        "protect: rfs/providers/prod (%s)" % in_profile,
        "protect: iotda/packages/keep-* (%s)" % in_profile]
    code, out, err, _ = run_hwcfs(emulator, ["--check"], [], tmp_path)
    assert code == 0, err
    assert not re.search(r"^(min_age|max_deletes|protect):", out, re.M)


def test_help_lists_the_guards(tmp_path):
    env, _ = clean_env()
    r = subprocess.run([HWCFS, "--help"], env=env, capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 0
    for opt in ("-o min_age=DURATION", "-o max_deletes=N",
                "-o protect=PATTERN", "user.hwcfs.max_deletes"):
        assert opt in r.stdout, opt


# ------------------------------------------------------------ the docs


def doc_block(text, lang, first_line):
    """The fenced block of language lang in text whose first line is
    first_line."""
    for m in re.finditer(r"^```%s\n(.*?)^```$" % lang, text, re.M | re.S):
        if m.group(1).startswith(first_line + "\n"):
            return m.group(1)
    raise AssertionError("no ```%s block starting %r" % (lang, first_line))


def test_nightly_cleanup_example_of_the_docs_runs_as_written(emulator,
                                                             tmp_path):
    """The profile and the job of docs/hwcfs.md, "Examples", as printed,
    but for the paths and the emulator's endpoints: the job ends with
    exit status 0 and unmounted, deletes the old packages and versions,
    keeps the protected ones and the young ones, and prints the day's
    refusals of the audit log."""
    with open(os.path.join(REPO, "docs", "hwcfs.md")) as f:
        text = f.read()
    profile = doc_block(text, "ini", "[nightly]")
    job = doc_block(text, "sh", "#!/bin/sh")
    mnt, log = tmp_path / "mnt", tmp_path / "nightly.log"
    for doc_path, ours in (("/mnt/hwc-nightly", mnt),
                           ("/var/log/hwcfs-nightly.log", log)):
        assert doc_path in profile + job
        profile, job = (s.replace(doc_path, str(ours))
                        for s in (profile, job))
    conf = tmp_path / "config"
    conf.write_text(profile + "".join(
        "%s = %s\n" % tuple(o.split("=", 1))
        for o in emulator_opts(emulator) if not o.startswith("region=")))
    conf.chmod(0o600)
    kept_pkg = "5ed8d76e7a5d3d02bf4a9c7f"
    assert "protect = iotda/packages/%s" % kept_pkg in profile
    for pid, age in ((kept_pkg, 200), ("old-1", 120), ("old-2", 95),
                     ("young-1", 10)):
        emulator.add_package(package_id=pid, age_days=age)
    old_new = [{"version": "1.0.0", "age_days": 120},
               {"version": "2.0.0", "age_days": 5}]
    emulator.add_rfs("providers", "prod-app", old_new)
    emulator.add_rfs("providers", "old-app", old_new)
    env, _ = clean_env(emulator, extra={
        "HWCFS_CONFIG": str(conf),
        "PATH": os.path.dirname(HWCFS) + ":" + os.environ["PATH"]})
    try:
        r = subprocess.run(["sh", "-c", job], env=env, capture_output=True,
                           text=True, timeout=120)
    finally:
        if is_mounted(str(mnt)):
            subprocess.run(["fusermount3", "-u", "-z", str(mnt)])
    assert r.returncode == 0, r.stdout + r.stderr
    assert not is_mounted(str(mnt))
    assert "min_age: 30d" in r.stdout and "max_deletes: 500" in r.stdout
    assert package_ids(emulator) == {kept_pkg, "young-1"}
    assert sorted(v["provider_version"] for v in
                  providers(emulator)["old-app"]["versions"]) == ["2.0.0"]
    assert len(providers(emulator)["prod-app"]["versions"]) == 2
    refused = sorted(line.split()[2] for line in r.stdout.splitlines()
                     if "outcome=refused" in line)
    assert refused == ["iotda/packages/" + kept_pkg,
                       "rfs/providers/prod-app/1.0.0"], r.stdout
    # The daemon ended with the unmount.
    deadline = time.monotonic() + 10
    while pids_serving(mnt) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = pids_serving(mnt)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert left == []


def pids_serving(mnt):
    """The processes with mnt in their argv (the job's hwcfs)."""
    pids = []
    for name in os.listdir("/proc"):
        try:
            with open("/proc/%s/cmdline" % name, "rb") as f:
                if str(mnt).encode() in f.read().split(b"\0"):
                    pids.append(int(name))
        except (OSError, ValueError):
            continue
    return pids
