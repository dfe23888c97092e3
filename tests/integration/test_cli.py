"""test_cli.py - the command line before anything is mounted (issues 10
and 11): `hwcfs --check`, the exit statuses (77 when the cloud refuses the
credentials, after one request), credentials refused on the command line
without being echoed, numbers out of range, mount points that are not
directories, and profile keys that mean what their -o options mean
(`ro = 1` read-only in the kernel too). Request counts come from the
emulator's counters."""

import errno
import os
import re
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import HWCFS, clean_env, emulator_opts, is_mounted
from emulator.harness import AK, SK, DOMAIN, PASSWORD, USER
from harden_util import make_cert

EXIT_STARTUP, EXIT_USAGE, EXIT_AUTH = 1, 2, 77
RUN_TIMEOUT = 30.0
WRONG_SK = "wrong/secret+key/0123456789abcdefghij"
# A value that must never be echoed when given as a credential option.
LEAKED = "Hunter2SecretValue0123456789"


def requests(emulator):
    """{op: count} of every request the emulator served, and "total"."""
    st = emulator.stats()
    counts = {op: n for op, n in st["requests"].items() if n}
    counts["total"] = st["total"]
    return counts


def run_to_end(argv, env, mnt):
    """Runs hwcfs until it exits. A run that mounts mnt although it must
    not (the bug under test) is unmounted at once, so that no test leaves
    a mount behind; its exit status is then that of the unmount's end."""
    mnt = mnt and os.path.realpath(mnt)  # what /proc/mounts would show
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([HWCFS] + argv, env=env,
                                stdin=subprocess.DEVNULL, stdout=out,
                                stderr=err)
        deadline = time.monotonic() + RUN_TIMEOUT
        while proc.poll() is None and time.monotonic() < deadline:
            if mnt and is_mounted(mnt):
                subprocess.run(["fusermount3", "-u", mnt],
                               capture_output=True, timeout=30)
            time.sleep(0.02)
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        if mnt and is_mounted(mnt):
            subprocess.run(["fusermount3", "-uz", mnt], capture_output=True,
                           timeout=30)
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(
            argv, proc.returncode,
            out.read().decode(errors="surrogateescape"),
            err.read().decode(errors="surrogateescape"))


def hwcfs(emulator, args, opts=(), services=("iotda", "rfs"), env=None,
          keys=True, endpoints=True):
    """Runs hwcfs to completion with the emulator's settings in front of
    opts; returns (CompletedProcess, request counts meanwhile)."""
    child_env, _ = clean_env(emulator, keys, env)
    allopts = (emulator_opts(emulator, services) if endpoints else []) + \
        list(opts)
    argv = (["-o", ",".join(allopts)] if allopts else []) + list(args)
    mnt = args[-1] if args and args[-1].startswith("/") else None
    emulator.reset()
    r = run_to_end(argv, child_env, mnt)
    return r, requests(emulator)


def without_project_id(emulator, services=("iotda", "rfs")):
    return [o for o in emulator_opts(emulator, services)
            if not o.startswith("project_id=")]


def write_profile(tmp_path, text, mode=0o600):
    conf = tmp_path / "config"
    conf.write_text(text)
    conf.chmod(mode)
    return conf


def closed_port():
    """A loopback port nothing listens on."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def settings(stdout):
    """{key: (value, origin)} of the "key: value (origin)" lines."""
    out = {}
    for line in stdout.splitlines():
        m = re.match(r"^([a-z_]+): (.*?)(?: \((.*)\))?$", line)
        if m:
            out[m.group(1)] = (m.group(2), m.group(3))
    return out


# ------------------------------------------------------------ --check


@pytest.mark.parametrize("source", ["environment", "profile", "sdk_file"])
def test_check_of_a_good_profile_prints_settings_and_sources(
        emulator, tmp_path, source):
    """Exit 0, each setting with where it came from, one request to IAM
    and one per service, no secret anywhere in the output, no mount."""
    keys = ""
    env = {}
    if source == "profile":
        keys = "ak = %s\nsk = %s\n" % (AK, SK)
    elif source == "sdk_file":
        cred = tmp_path / "credentials"
        cred.write_text("[basic]\nak = %s\nsk = %s\n" % (AK, SK))
        cred.chmod(0o600)
        env["HUAWEICLOUD_SDK_CREDENTIALS_FILE"] = str(cred)
    conf = write_profile(tmp_path, (
        "[prod]\nregion = %s\niam_endpoint = %s\niotda_endpoint = %s\n"
        "rfs_endpoint = %s\ncache_ttl = 60\n%s") % (
        emulator.region, emulator.url, emulator.url, emulator.url, keys))
    r, counts = hwcfs(emulator, ["--check", "prod"],
                      opts=["config=%s" % conf, "timeout=7"], env=env,
                      keys=source == "environment", endpoints=False)
    assert r.returncode == 0, r.stderr
    s = settings(r.stdout)
    in_profile = "profile prod of %s" % conf
    assert s["profile"] == ("prod", "command line")
    assert s["config"] == (str(conf), "command line")
    assert s["region"] == (emulator.region, in_profile)
    assert s["cache_ttl"] == ("60", in_profile)
    assert s["timeout"] == ("7", "command line")
    assert s["retries"] == ("4", "default")
    assert s["readahead"] == ("16", "default")
    assert s["project_id"] == (emulator.project_id,
                               "asked of IAM at %s" % emulator.url)
    where = {"environment": ("environment HUAWEICLOUD_SDK_AK",
                             "environment HUAWEICLOUD_SDK_SK"),
             "profile": (in_profile, in_profile),
             "sdk_file": ("[basic] of %s" % env.get(
                 "HUAWEICLOUD_SDK_CREDENTIALS_FILE"),) * 2}[source]
    assert "ak: from %s" % where[0] in r.stdout.splitlines()
    assert "sk: from %s" % where[1] in r.stdout.splitlines()
    assert "IoTDA: %s: ok" % emulator.url in r.stdout
    assert "RFS: %s: ok" % emulator.url in r.stdout
    assert "result: the mount would work (exit status 0)" in r.stdout
    for secret in (AK, SK):
        assert secret not in r.stdout and secret not in r.stderr
    assert counts == {"iam.projects": 1, "iotda.list": 1,
                      "rfs.list_providers": 1, "total": 3}


@pytest.mark.parametrize("project_id", [True, False])
def test_check_with_a_wrong_key_exits_77_after_one_request(emulator,
                                                           project_id):
    """The first refused request ends the check: one signed request in
    all, never more than one per service (five lock the key)."""
    opts = emulator_opts(emulator) if project_id else \
        without_project_id(emulator)
    r, counts = hwcfs(emulator, ["--check"], opts=opts, endpoints=False,
                      env={"HUAWEICLOUD_SDK_SK": WRONG_SK})
    assert r.returncode == EXIT_AUTH, r.stderr
    first = "iotda.list" if project_id else "iam.projects"
    assert counts == {first: 1, "total": 1}
    assert emulator.stats()["auth_failures"] == 1
    assert "401 APIGW.0301" in r.stderr and "check the AK/SK" in r.stderr
    assert "result: the credentials were refused (exit status 77)" \
        in r.stdout
    if project_id:
        assert "hwcfs: cannot use IoTDA at %s: iotda: 401" % emulator.url \
            in r.stderr
        assert "RFS: %s: not checked" % emulator.url in r.stdout
    assert WRONG_SK not in r.stdout + r.stderr


def test_check_without_credentials_exits_1_without_request(emulator):
    r, counts = hwcfs(emulator, ["--check"], keys=False)
    assert r.returncode == EXIT_STARTUP, r.stderr
    assert "no credentials found" in r.stderr
    assert counts == {"total": 0}


def test_check_of_an_unreachable_endpoint_exits_1(emulator):
    """IoTDA refuses connections: exit 1 with the mount's line; RFS is
    still checked, each service once."""
    dead = "http://127.0.0.1:%d" % closed_port()
    opts = [o for o in emulator_opts(emulator, ("rfs",))] + \
        ["iotda_endpoint=" + dead, "retries=0"]
    r, counts = hwcfs(emulator, ["--check"], opts=opts, endpoints=False)
    assert r.returncode == EXIT_STARTUP, r.stderr
    assert "hwcfs: cannot use IoTDA at %s: iotda: %s: Connection refused" \
        % (dead, dead) in r.stderr
    assert "IoTDA: %s: failed" % dead in r.stdout
    assert "RFS: %s: ok" % emulator.url in r.stdout
    assert counts == {"rfs.list_providers": 1, "total": 1}


def test_check_takes_no_mount_point(emulator, tmp_path):
    r, counts = hwcfs(emulator, ["--check", "prod", str(tmp_path)])
    assert r.returncode == EXIT_USAGE
    assert "unexpected argument `%s'" % tmp_path in r.stderr
    assert counts == {"total": 0}


def test_check_refuses_an_unknown_option_as_the_mount_does(emulator):
    r, counts = hwcfs(emulator, ["--check"], opts=["no_such_option"])
    assert r.returncode == EXIT_USAGE
    assert "no_such_option" in r.stderr
    assert counts == {"total": 0}


# ------------------------------------------------------------ exit 77


@pytest.mark.parametrize("case", ["iotda", "rfs_only", "iam_lookup",
                                  "password"])
def test_mount_with_wrong_credentials_exits_77_after_one_request(
        emulator, tmp_path, case):
    """What the example systemd unit stops on (RestartPreventExitStatus=
    77): one refused request, then exit 77, nothing mounted."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    env = {"HUAWEICLOUD_SDK_SK": WRONG_SK}
    keys = True
    opts = emulator_opts(emulator)
    first = "iotda.list"
    if case == "rfs_only":
        opts = emulator_opts(emulator, ("rfs",))
        first = "rfs.list_providers"
    elif case == "iam_lookup":
        opts = without_project_id(emulator)
        first = "iam.projects"
    elif case == "password":
        conf = write_profile(tmp_path, "[default]\niam_user = %s\n"
                             "iam_password = wrong-%s\niam_domain = %s\n"
                             % (USER, PASSWORD, DOMAIN))
        opts = opts + ["config=%s" % conf]
        env, keys = {}, False
        first = "iam.token"
    r, counts = hwcfs(emulator, ["-f", str(mnt)], opts=opts, env=env,
                      keys=keys, endpoints=False)
    assert r.returncode == EXIT_AUTH, r.stderr
    assert counts == {first: 1, "total": 1}
    assert not is_mounted(str(mnt))


def test_mount_refused_for_lack_of_permission_exits_1(emulator, tmp_path):
    """A 403 that is not about the credentials (an IAM policy) is not
    77: a restart may succeed once the policy is fixed."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    emulator.reset()
    emulator.faults(status_for=[{"match": "/ota-upgrades/packages",
                                 "status": 403}])
    child_env, _ = clean_env(emulator)
    r = run_to_end(["-f", "-o", ",".join(emulator_opts(emulator)),
                    str(mnt)], child_env, str(mnt))
    assert r.returncode == EXIT_STARTUP, r.stderr
    assert "403" in r.stderr and "permissions" in r.stderr
    assert requests(emulator) == {"iotda.list": 1, "total": 1}


# ------------------------------------------------------------ secrets


@pytest.mark.parametrize("args", [
    ["-o", "sk=" + LEAKED],
    ["-o", "SK=" + LEAKED],
    ["-oSK=" + LEAKED],
    ["-o", "ak=" + LEAKED],
    ["-o", "Password=" + LEAKED],
    ["-o", "iam_password=" + LEAKED],
    ["-o", "token=" + LEAKED],
    ["-o", "security_token=" + LEAKED],
    ["-o", "auth_token=" + LEAKED],
    ["-o", "HUAWEICLOUD_SDK_SK=" + LEAKED],
    ["-o", "secret_key=" + LEAKED],
    ["-o", "cache_ttl=5,Sk=" + LEAKED + ",ro"],
    ["-o", "ro", "-o", "PASSWORD=" + LEAKED],
    ["--check", "-o", "sk=" + LEAKED],
], ids=lambda a: " ".join(a).replace(LEAKED, "VALUE"))
def test_credential_on_the_command_line_is_refused_unechoed(emulator,
                                                           tmp_path, args):
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    tail = [] if "--check" in args else [str(mnt)]
    r, counts = hwcfs(emulator, list(args) + tail)
    assert r.returncode == EXIT_USAGE
    assert "credentials are never taken from the command line" in r.stderr
    assert LEAKED not in r.stdout and LEAKED not in r.stderr
    assert counts == {"total": 0}
    assert not is_mounted(str(mnt))


# ------------------------------------------------------------ numbers


NUMBERS = [
    ("timeout", "-1"), ("retries", "-1"), ("cache_ttl", "-1"),
    ("negative_ttl", "-1"), ("cache_ttl", "4294967296"),
    ("timeout", "4294967297"), ("negative_ttl", "2147483648"),
    ("timeout", "0"), ("timeout", "3601"), ("retries", "21"),
    ("cache_ttl", "86401"), ("timeout", "ten"), ("retries", "1.5"),
    ("timeout", "+5"), ("readahead", "65"), ("readahead", "-1"),
]


@pytest.mark.parametrize("where", ["command_line", "profile"])
@pytest.mark.parametrize("mode", ["mount", "check"])
@pytest.mark.parametrize("key,value", NUMBERS)
def test_number_out_of_range_is_a_usage_error(emulator, tmp_path, key,
                                              value, where, mode):
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    opts = []
    if where == "command_line":
        opts.append("%s=%s" % (key, value))
    else:
        conf = write_profile(tmp_path, "[default]\n%s = %s\n" % (key, value))
        opts.append("config=%s" % conf)
    args = ["--check"] if mode == "check" else ["-f", str(mnt)]
    r, counts = hwcfs(emulator, args, opts=opts)
    assert r.returncode == EXIT_USAGE, r.stderr
    assert re.search(r"%s must be a whole number from \d+ to \d+" % key,
                     r.stderr), r.stderr
    if where == "profile":
        assert "%s:2: %s must be" % (conf, key) in r.stderr
    assert counts == {"total": 0}
    assert not is_mounted(str(mnt))


# ------------------------------------------------------------ mount point


@pytest.mark.parametrize("kind", ["regular_file", "missing",
                                  "symlink_to_file"])
def test_mount_point_that_is_not_a_directory_is_refused(emulator,
                                                        tmp_path, kind):
    target = tmp_path / "target"
    if kind == "regular_file":
        target.write_text("not a directory\n")
    elif kind == "symlink_to_file":
        (tmp_path / "file").write_text("x")
        target.symlink_to(tmp_path / "file")
    r, counts = hwcfs(emulator, ["-f", str(target)])
    assert r.returncode == EXIT_STARTUP, r.stderr
    reason = os.strerror(errno.ENOENT) if kind == "missing" else \
        "not a directory"
    assert "hwcfs: bad mount point `%s': %s" % (target, reason) in r.stderr
    assert counts == {"total": 0}
    assert not is_mounted(str(target))


# ------------------------------------------------------------ ro


def mount_flags(path):
    with open("/proc/mounts") as f:
        for line in f:
            fields = line.split()
            if fields[1] == os.path.realpath(path):
                return fields[3].split(",")
    return None


@pytest.mark.parametrize("how", ["profile", "option"])
def test_ro_is_read_only_in_the_kernel_too(emulator, mount, tmp_path, how):
    emulator.seed(packages=2)
    if how == "profile":
        conf = write_profile(tmp_path, "[default]\nro = 1\n")
        m = mount("config=%s" % conf)
    else:
        m = mount("ro")
    assert "ro" in mount_flags(m.path)
    assert os.statvfs(m.path).f_flag & os.ST_RDONLY
    victim = sorted(os.listdir(m.p("iotda/packages")))[0]
    with pytest.raises(OSError) as e:
        os.unlink(m.p("iotda/packages", victim))
    assert e.value.errno == errno.EROFS
    assert emulator.stats()["requests"]["iotda.delete"] == 0


def test_ro_in_the_profile_holds_against_the_rw_of_mount(emulator, mount,
                                                         tmp_path):
    """mount(8) passes "rw" ahead of every fstab line's options unless
    the line says ro (docs/install.md): the profile's ro must still win,
    or `ro = 1` would mean nothing from /etc/fstab."""
    conf = write_profile(tmp_path, "[default]\nro = yes\n")
    m = mount("rw", "config=%s" % conf)
    assert "ro" in mount_flags(m.path)
    assert os.statvfs(m.path).f_flag & os.ST_RDONLY
    assert os.stat(m.p("iotda/packages")).st_mode & 0o777 == 0o555


# Each option with a value that differs from its default, and the
# profile line that must mean the same.
SAME = [
    ("region=%(region)s", "region = %(region)s"),
    ("project_id=%(project_id)s", "project_id = %(project_id)s"),
    ("instance_id=inst-1", "instance_id = inst-1"),
    ("iam_endpoint=%(url)s/", "iam_endpoint = %(url)s/"),
    ("iotda_endpoint=%(url)s", "iotda_endpoint = %(url)s"),
    ("rfs_endpoint=%(url)s//", "rfs_endpoint = %(url)s//"),
    ("cache_ttl=0", "cache_ttl = 0"),
    ("negative_ttl=017", "negative_ttl = 17"),
    ("timeout=3", "timeout = 3"),
    ("retries=0", "retries = 0"),
    ("cafile=%(cafile)s", "cafile = %(cafile)s"),
    ("audit_log=%(audit)s", "audit_log = %(audit)s"),
    ("signing=sdk", "signing = sdk"),
    ("rmdir_cascade", "rmdir_cascade = 1"),
    ("dry_run", "dry_run = yes"),
    ("ro", "ro = on"),
    ("no_parallel_list", "parallel_list = 0"),
]


@pytest.fixture(scope="module")
def cafile(tmp_path_factory):
    cert, _ = make_cert(str(tmp_path_factory.mktemp("ca")))
    return cert


@pytest.mark.parametrize("option,line", SAME,
                         ids=[line.split(" = ")[0] for _, line in SAME])
def test_every_option_means_what_its_profile_key_means(emulator, tmp_path,
                                                      cafile, option, line):
    """--check prints the same value for -o KEY=V and for KEY = V in the
    profile; only the origin differs."""
    vals = {"region": emulator.region, "project_id": emulator.project_id,
            "url": emulator.url, "cafile": cafile,
            "audit": str(tmp_path / "audit.log")}
    option, line = option % vals, line % vals
    key = line.split(" = ")[0]
    base = [o for o in emulator_opts(emulator)
            if o.split("=")[0] != key]
    got = {}
    for where in ("option", "profile"):
        conf = write_profile(tmp_path, "[p]\n%s\n" % line if
                             where == "profile" else "[p]\n")
        opts = base + ["config=%s" % conf, "profile=p"]
        if where == "option":
            opts.append(option)
        r, _ = hwcfs(emulator, ["--check"], opts=opts, endpoints=False)
        assert r.returncode == 0, r.stderr
        got[where] = settings(r.stdout)[key]
    assert got["option"][0] == got["profile"][0]
    assert got["option"][1] == "command line"
    assert got["profile"][1] == "profile p of %s" % conf


# ------------------------------------------------------------ kinds (issue 13)


def test_kinds_shows_only_the_chosen_kinds_and_asks_nothing_else(emulator,
                                                                 mount):
    emulator.seed(packages=3, providers=2, modules=2, hooks=2, templates=2,
                  versions=1)
    m = mount("kinds=packages:modules")
    assert sorted(os.listdir(m.path)) == ["iotda", "rfs"]
    assert os.listdir(m.p("iotda")) == ["packages"]
    assert os.listdir(m.p("rfs")) == ["modules"]
    for gone in ("providers", "hooks", "templates"):
        assert not os.path.exists(m.p("rfs", gone)), gone
    r = subprocess.run(["ls", "-lR", m.path], capture_output=True)
    assert r.returncode == 0, r.stderr
    served = requests(emulator)
    for op in served:
        assert op == "total" or op.startswith(
            ("iam.", "iotda.", "rfs.list_module", "rfs.show_module")), op
    assert served["rfs.list_modules"] >= 1


def test_kinds_of_one_service_leave_the_other_unmounted_and_unasked(
        emulator, mount):
    emulator.seed(packages=3, providers=2)
    m = mount("kinds=packages")
    assert os.listdir(m.path) == ["iotda"]
    assert not os.path.exists(m.p("rfs"))
    assert len(os.listdir(m.p("iotda", "packages"))) == 3
    # Not even the mount's own check went to RFS.
    assert [op for op in requests(emulator) if op.startswith("rfs.")] == []


@pytest.mark.parametrize("value,why", [
    ("packages:nope", "`nope' is not a kind"),
    ("versions", "`versions' is not a kind"),
    ("", "kinds: empty"),
    ("providers", "shows none of the services configured"),
])
def test_bad_kinds_value_is_a_usage_error(emulator, tmp_path, value, why):
    r, served = hwcfs(emulator, ["-f", str(tmp_path)],
                      opts=["kinds=" + value], services=("iotda",))
    assert r.returncode == EXIT_USAGE, r.stderr
    assert why in r.stderr, r.stderr
    if "not a kind" in why:
        assert "packages, providers, modules, hooks, templates" in r.stderr
    assert served == {"total": 0}
    assert not is_mounted(str(tmp_path))


def test_check_prints_the_kinds_of_a_profile_and_their_tree(emulator,
                                                            tmp_path):
    conf = write_profile(tmp_path, "[default]\nkinds = hooks, packages\n")
    r, _ = hwcfs(emulator, ["--check"], opts=["config=%s" % conf])
    assert r.returncode == 0, r.stderr
    s = settings(r.stdout)
    assert s["kinds"] == ("hooks, packages",
                          "profile default of %s" % conf)
    assert "tree: iotda/packages rfs/hooks\n" in r.stdout
    r, _ = hwcfs(emulator, ["--check"])
    assert settings(r.stdout)["kinds"] == ("all", "default")
    assert "tree: iotda/packages rfs/providers rfs/modules rfs/hooks " \
        "rfs/templates\n" in r.stdout
