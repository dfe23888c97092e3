"""test_mount_basic.py - smoke tests of the mount: the tree, attributes,
content, xattrs, deletes, refused changes, refresh and the command line,
each against the emulator with its request counters."""

import ctypes
import errno
import json
import os
import time

import pytest

from conftest import clean_env, emulator_opts, requests_during, \
    run_hwcfs, sanitizer_report

PACKAGES = "iotda/packages"
PROVIDERS = "rfs/providers"


def package_ids(emulator):
    return sorted(p["package_id"] for p in emulator.state()["packages"])


def provider(emulator, name):
    for p in emulator.state()["providers"]:
        if p["provider_name"] == name:
            return p
    return None


def errno_of(fn, *args):
    try:
        fn(*args)
    except OSError as e:
        return e.errno
    return 0


def test_root_shows_configured_services(emulator, mount):
    both = mount()
    assert sorted(os.listdir(both.path)) == ["iotda", "rfs"]
    assert os.listdir(both.p("iotda")) == ["packages"]
    assert sorted(os.listdir(both.p("rfs"))) == \
        ["hooks", "modules", "providers", "templates"]
    only_rfs = mount(services=("rfs",))
    assert os.listdir(only_rfs.path) == ["rfs"]
    assert errno_of(os.stat, only_rfs.p("iotda")) == errno.ENOENT


def test_ls_l_shows_sizes_and_costs_only_list_requests(emulator, mount):
    emulator.seed(packages=12)
    m = mount()
    emulator.reset()
    r, delta = requests_during(
        emulator, lambda: m.run(["ls", "-l", "--time-style=+%s",
                                 m.p(PACKAGES)]))
    assert r.returncode == 0, r.stderr
    assert set(delta) == {"iotda.list"}
    rows = [line.split() for line in r.stdout.splitlines()[1:]]
    assert sorted(row[-1] for row in rows) == package_ids(emulator)
    for row in rows:
        with open(m.p(PACKAGES, row[-1]), "rb") as f:
            assert int(row[4]) == len(f.read())
        assert row[0] == "-rw-r--r--"
    # A second listing within the TTL asks nothing of the cloud.
    r, delta = requests_during(
        emulator, lambda: m.run(["ls", "-l", m.p(PACKAGES)]))
    assert r.returncode == 0 and delta == {}


def test_cat_is_the_json_with_its_exact_size(emulator, mount):
    emulator.seed(packages=3)
    m = mount()
    for pid in package_ids(emulator):
        path = m.p(PACKAGES, pid)
        with open(path, "rb") as f:
            data = f.read()
        assert data.endswith(b"\n")
        assert json.loads(data)["package_id"] == pid
        assert os.stat(path).st_size == len(data)


def test_mtime_is_the_cloud_create_time(emulator, mount):
    emulator.seed(packages=3)
    m = mount()
    for p in emulator.state(brief=True)["packages"]:
        st = os.stat(m.p(PACKAGES, p["package_id"]))
        assert int(st.st_mtime) == p["create_epoch"]


def test_getfattr_shows_every_field(emulator, mount):
    emulator.seed(packages=1, providers=1, versions=1)
    m = mount()
    pid = package_ids(emulator)[0]
    path = m.p(PACKAGES, pid)
    names = os.listxattr(path)
    assert "user.hwc.package_id" in names
    assert os.getxattr(path, "user.hwc.package_id") == pid.encode()
    # Arrays are compact JSON text.
    if "user.hwc.support_source_versions" in names:
        json.loads(os.getxattr(path, "user.hwc.support_source_versions"))
    assert errno_of(os.getxattr, path, "user.hwc.nope") == errno.ENODATA
    prov = emulator.state()["providers"][0]
    pdir = m.p(PROVIDERS, prov["provider_name"])
    assert os.getxattr(pdir, "user.hwc.provider_id") == \
        prov["provider_id"].encode()


def test_rm_package_sends_one_delete(emulator, mount):
    emulator.seed(packages=4)
    m = mount()
    victim = package_ids(emulator)[1]
    assert victim in os.listdir(m.p(PACKAGES))
    r, delta = requests_during(
        emulator, lambda: m.run(["rm", m.p(PACKAGES, victim)]))
    assert r.returncode == 0, r.stderr
    assert delta == {"iotda.delete": 1}
    assert victim not in package_ids(emulator)
    _, delta = requests_during(emulator, lambda: os.listdir(m.p(PACKAGES)))
    assert victim not in os.listdir(m.p(PACKAGES))
    assert "iotda.delete" not in delta


def test_rmdir_of_provider_with_versions_is_enotempty(emulator, mount):
    emulator.add_provider("keep-me", versions=["1.0.0"])
    m = mount()
    r, delta = requests_during(
        emulator, lambda: m.run(["rmdir", m.p(PROVIDERS, "keep-me")]))
    assert r.returncode != 0 and "not empty" in r.stderr
    assert "rfs.delete_provider" not in delta
    assert provider(emulator, "keep-me") is not None


def test_rm_r_provider_deletes_versions_then_provider(emulator, mount):
    emulator.add_provider("goner", versions=["1.0.0", "1.0.1"])
    m = mount()
    r, delta = requests_during(
        emulator, lambda: m.run(["rm", "-r", m.p(PROVIDERS, "goner")]))
    assert r.returncode == 0, r.stderr
    assert delta.get("rfs.delete_version") == 2
    assert delta.get("rfs.delete_provider") == 1
    assert provider(emulator, "goner") is None
    assert "goner" not in os.listdir(m.p(PROVIDERS))


def test_rmdir_cascade_deletes_provider_in_one_go(emulator, mount):
    emulator.add_provider("cascade", versions=["1.0.0", "2.0.0"])
    m = mount("rmdir_cascade")
    r = m.run(["rmdir", m.p(PROVIDERS, "cascade")])
    assert r.returncode == 0, r.stderr
    assert provider(emulator, "cascade") is None


def test_changes_are_eperm_and_send_nothing(emulator, mount):
    emulator.seed(packages=1)
    m = mount()
    pid = package_ids(emulator)[0]
    path = m.p(PACKAGES, pid)
    os.listdir(m.p(PACKAGES))

    def attempts():
        return [
            errno_of(os.mkdir, m.p(PACKAGES, "newdir")),
            errno_of(lambda: open(path, "w")),
            errno_of(os.chmod, path, 0o600),
            errno_of(os.utime, path, (0, 0)),
            errno_of(os.rename, path, m.p(PACKAGES, "other")),
            errno_of(os.symlink, "x", m.p(PACKAGES, "link")),
            errno_of(os.setxattr, path, "user.other", b"1"),
            errno_of(os.removexattr, path, "user.hwc.package_id"),
            errno_of(os.rmdir, m.p("iotda")),
        ]
    codes, delta = requests_during(emulator, attempts)
    assert codes == [errno.EPERM] * len(codes)
    assert not any(op.endswith(("delete", "create")) for op in delta)


def test_ro_mount_refuses_deletes_with_erofs(emulator, mount):
    emulator.seed(packages=1)
    m = mount("ro")
    pid = package_ids(emulator)[0]
    path = m.p(PACKAGES, pid)
    assert os.stat(path).st_mode & 0o222 == 0
    assert os.stat(m.p(PACKAGES)).st_mode & 0o222 == 0
    code, delta = requests_during(emulator,
                                  lambda: errno_of(os.unlink, path))
    assert code == errno.EROFS
    assert "iotda.delete" not in delta
    assert pid in package_ids(emulator)


@pytest.mark.parametrize("name", [
    ".git", ".Trash-0", ".hidden", "a?b", "..%2F", "a" * 37, "A b",
    "x\udcff"])
def test_impossible_names_send_no_request(emulator, mount, name):
    m = mount()
    code, delta = requests_during(
        emulator, lambda: errno_of(os.stat, m.p(PACKAGES, name)))
    assert code == errno.ENOENT
    assert delta == {}


def test_too_long_name_is_enametoolong(emulator, mount):
    m = mount()
    code, delta = requests_during(
        emulator, lambda: errno_of(os.stat, m.p(PACKAGES, "a" * 300)))
    assert code == errno.ENAMETOOLONG
    assert delta == {}
    assert os.statvfs(m.path).f_namemax == 255


def test_refresh_xattr_shows_a_new_package(emulator, mount):
    emulator.seed(packages=2)
    m = mount()
    before = os.listdir(m.p(PACKAGES))
    new = emulator.add_package(app_id="a", package_type="firmwarePackage",
                               product_id="p", version="9.9")["package_id"]
    assert os.listdir(m.p(PACKAGES)) == before  # cached, within the TTL
    os.setxattr(m.p(PACKAGES), "user.hwcfs.refresh", b"1")
    assert new in os.listdir(m.p(PACKAGES))


def test_sigusr2_drops_every_cached_listing(emulator, mount):
    emulator.add_provider("prov-a", versions=["1.0.0"])
    m = mount()
    assert os.listdir(m.p(PROVIDERS, "prov-a")) == ["1.0.0"]
    emulator.add_version("prov-a", "1.0.1",
                         function_graph_urn="urn:fss:cn-north-4:" +
                         emulator.project_id +
                         ":function:default:fn:latest")
    assert os.listdir(m.p(PROVIDERS, "prov-a")) == ["1.0.0"]
    m.signal()
    # The signal is handled by its own thread: wait for its effect.
    for _ in range(200):
        if sorted(os.listdir(m.p(PROVIDERS, "prov-a"))) == \
                ["1.0.0", "1.0.1"]:
            break
        time.sleep(0.02)
    assert sorted(os.listdir(m.p(PROVIDERS, "prov-a"))) == \
        ["1.0.0", "1.0.1"]


def test_help_lists_options_and_exits_0(tmp_path):
    env, _ = clean_env()
    r = run_hwcfs(["--help"], env)
    assert r.returncode == 0
    assert sanitizer_report(r.stderr) is None
    for opt in ("region=", "project_id=", "iotda_endpoint=", "instance_id=",
                "rfs_endpoint=", "iam_endpoint=", "cache_ttl=",
                "negative_ttl=", "timeout=", "retries=", "cafile=",
                "audit_log=", "signing=", "rmdir_cascade", "dry_run",
                " ro ", "parallel_list", "config=", "profile="):
        assert opt in r.stdout, opt
    r = run_hwcfs(["--version"], env)
    assert r.returncode == 0
    assert "hwcfs version" in r.stdout and "FUSE library" in r.stdout


def test_usage_errors_exit_2(tmp_path):
    env, _ = clean_env()
    assert run_hwcfs([], env).returncode == 2
    assert run_hwcfs(["-o", "no_such_option", str(tmp_path)],
                     env).returncode == 2
    assert run_hwcfs(["a", "b", "c"], env).returncode == 2


def test_bad_key_fails_the_mount_with_exit_77(emulator, tmp_path):
    env, _ = clean_env(emulator, extra={
        "HUAWEICLOUD_SDK_SK": "wrong/secret/key/0123456789abcdefgh"})
    opts = ",".join(emulator_opts(emulator))
    r = run_hwcfs(["-f", "-o", opts, str(tmp_path)], env)
    assert r.returncode == 77  # EX_NOPERM: the cloud refused the key
    assert "cannot use" in r.stderr
    assert "wrong/secret" not in r.stderr
    assert sanitizer_report(r.stderr) is None
    assert not os.path.ismount(str(tmp_path))


def test_rmdir_of_recreated_provider_is_estale(emulator, mount):
    emulator.add_provider("twice")
    m = mount()
    seen = os.getxattr(m.p(PROVIDERS, "twice"), "user.hwc.provider_id")
    emulator.delete_provider("twice")
    emulator.add_provider("twice")
    new_id = provider(emulator, "twice")["provider_id"]
    assert new_id.encode() != seen
    # The kernel retries an ESTALE once after a fresh lookup: that retry
    # must not delete the namesake either.
    code, delta = requests_during(
        emulator, lambda: errno_of(os.rmdir, m.p(PROVIDERS, "twice")))
    assert code == errno.ESTALE
    assert "rfs.delete_provider" not in delta
    assert provider(emulator, "twice")["provider_id"] == new_id


def test_xattr_size_probe_and_erange(emulator, mount):
    emulator.seed(packages=1)
    m = mount()
    pid = package_ids(emulator)[0]
    libc = ctypes.CDLL(None, use_errno=True)
    libc.getxattr.restype = ctypes.c_ssize_t
    path = m.p(PACKAGES, pid).encode()
    name = b"user.hwc.package_id"
    assert libc.getxattr(path, name, None, ctypes.c_size_t(0)) == len(pid)
    small = ctypes.create_string_buffer(len(pid) - 1)
    assert libc.getxattr(path, name, small, ctypes.c_size_t(len(pid) - 1)) \
        == -1
    assert ctypes.get_errno() == errno.ERANGE


def test_profile_and_fstab_options(emulator, mount, tmp_path):
    conf = tmp_path / "config"
    conf.write_text("[prod]\n" + "\n".join(
        o.replace("=", " = ", 1) for o in emulator_opts(emulator)) + "\n")
    conf.chmod(0o600)
    emulator.seed(packages=2)
    m = mount("config=" + str(conf), "_netdev", "nofail", "allow_other",
              services=(), args=("prod",))
    assert sorted(os.listdir(m.p(PACKAGES))) == package_ids(emulator)
    with open("/proc/mounts") as f:
        line = [x for x in f if x.split()[1] == m.path][0]
    assert line.split()[2] == "fuse.hwcfs"
    assert "default_permissions" in line and "allow_other" in line


def test_cache_ttl_0_lists_every_time(emulator, mount):
    emulator.seed(packages=2)
    m = mount("cache_ttl=0")
    os.listdir(m.p(PACKAGES))
    _, delta = requests_during(emulator,
                               lambda: os.listdir(m.p(PACKAGES)))
    assert delta.get("iotda.list", 0) >= 1


def test_single_threaded_mount_works(emulator, mount):
    emulator.seed(packages=2)
    m = mount(args=("-s",))
    assert sorted(os.listdir(m.p(PACKAGES))) == package_ids(emulator)


def bad_names():
    """(kinds, name bytes) of tests/data/bad_names.txt."""
    path = os.path.join(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))), "data", "bad_names.txt")
    out = []
    with open(path, "rb") as f:
        for raw in f.read().split(b"\n"):
            if not raw or raw.startswith(b"#"):
                continue
            kinds, _, name = raw.partition(b" ")
            name = name.decode("latin-1").encode("latin-1")
            name = name.replace(b"\\\\", b"\0")
            parts = name.split(b"\\x")
            name = parts[0] + b"".join(
                bytes([int(p[:2], 16)]) + p[2:] for p in parts[1:])
            out.append((kinds.decode().split(","), name.replace(b"\0",
                                                                b"\\")))
    return out


def test_bad_names_send_no_request(emulator, mount):
    emulator.add_provider("prov-a", versions=["1.0.0"])
    m = mount()
    dirs = {"package": m.p(PACKAGES).encode(),
            "provider": m.p(PROVIDERS).encode(),
            "version": m.p(PROVIDERS, "prov-a").encode()}
    for d in dirs.values():
        os.listdir(d)
    names = bad_names()
    assert len(names) >= 50

    def probe():
        wrong = []
        for kinds, name in names:
            if name in (b"", b".", b"..") or b"/" in name:
                continue
            for kind in (dirs if kinds == ["all"] else kinds):
                code = errno_of(os.lstat, dirs[kind] + b"/" + name)
                if code not in (errno.ENOENT, errno.ENAMETOOLONG):
                    wrong.append((kind, name, code))
        return wrong
    wrong, delta = requests_during(emulator, probe)
    assert wrong == []
    assert delta == {}


def test_find_mtime_delete_removes_exactly_the_old(emulator, mount):
    emulator.seed(packages=20)
    m = mount()
    now = time.time()
    # find -mtime +90: age in whole days, rounded down, above 90.
    old = sorted(p["package_id"] for p in emulator.state(brief=True)
                 ["packages"] if int((now - p["create_epoch"]) // 86400) > 90)
    assert 0 < len(old) < 20
    r, delta = requests_during(emulator, lambda: m.run(
        ["find", m.p(PACKAGES), "-type", "f", "-mtime", "+90", "-delete"]))
    assert r.returncode == 0, r.stderr
    assert delta.get("iotda.delete") == len(old)
    left = package_ids(emulator)
    assert not set(old) & set(left) and len(left) == 20 - len(old)


def test_acl_and_label_xattrs_are_not_supported_and_cost_nothing(
        emulator, mount):
    # ls -l asks every entry for these; "not supported" makes it stop.
    emulator.seed(packages=3)
    m = mount()
    pid = package_ids(emulator)[0]
    path = m.p(PACKAGES, pid)
    os.stat(path)
    emulator.reset()
    for name in ("security.selinux", "system.posix_acl_access",
                 "trusted.x"):
        assert errno_of(os.getxattr, path, name) == errno.EOPNOTSUPP
    assert errno_of(os.getxattr, path, "user.other") == errno.ENODATA
    assert emulator.stats()["total"] == 0
