"""test_secrets.py - no secret ever leaves the daemon. Two representative
mount sessions with -d (every FUSE operation and every request logged):
one with AK/SK from the environment, one with an IAM password from a
config file (token login, and a re-login after the token expires). Each
lists, reads, reads xattrs, deletes, and meets errors (ENOENT, ENOTEMPTY,
a 403 on a delete, 500s, a 401). Every byte of the daemon's output, its
audit log and /proc/PID/cmdline is then searched for the AK, the SK, the
password and every token the emulator issued: none may appear. Config and
credentials files readable by group or others, or owned by another user,
are refused at mount. The daemon is not dumpable, and its memory holds
the SK once (the HTTP client's copy)."""

import errno
import json
import os
import subprocess
import time

import pytest

from conftest import HWCFS, Mount, clean_env, emulator_opts, is_mounted
from emulator.harness import AK, SK, PASSWORD, USER, DOMAIN, Emulator
from harden_util import MOUNT_TIMEOUT, finish, mounted, start_hwcfs

PACKAGES = "iotda/packages"
PROVIDERS = "rfs/providers"


@pytest.fixture
def emu():
    e = Emulator(packages=6, providers=3, versions=2)
    e.start()
    try:
        yield e
    finally:
        e.stop()


def errno_of(fn, *args):
    try:
        fn(*args)
    except OSError as e:
        return e.errno
    return 0


def cat(path):
    with open(path, "rb") as f:
        return f.read()


def session(emu, m):
    """What an admin does in a session, errors included; returns the
    daemon's command line as read while it ran."""
    with open("/proc/%d/cmdline" % m.pid, "rb") as f:
        cmdline = f.read()
    state = emu.state()
    pkgs = [p["package_id"] for p in state["packages"]]
    prov = state["providers"][0]["provider_name"]
    assert sorted(os.listdir(m.p(PACKAGES))) == sorted(pkgs)
    r = m.run(["ls", "-lR", m.path])
    assert r.returncode == 0, r.stderr
    assert json.loads(cat(m.p(PACKAGES, pkgs[0])))["package_id"] == pkgs[0]
    r = m.run(["getfattr", "-d", m.p(PACKAGES, pkgs[0])])
    assert r.returncode == 0 and "user.hwc.package_id" in r.stdout
    r = m.run(["getfattr", "-d", m.p(PROVIDERS, prov)])
    assert r.returncode == 0 and "user.hwc.provider_id" in r.stdout
    # errors: a missing name, a provider with versions, a refused delete,
    # server errors
    assert errno_of(os.stat, m.p(PACKAGES, "0123456789abcdef01234567")) \
        == errno.ENOENT
    assert errno_of(os.rmdir, m.p(PROVIDERS, prov)) == errno.ENOTEMPTY
    emu.faults(status_for=[{"match": pkgs[1], "method": "DELETE",
                            "status": 403}])
    assert errno_of(os.unlink, m.p(PACKAGES, pkgs[1])) == errno.EACCES
    emu.faults(status_for=[], error_rate=1.0)
    os.setxattr(m.p(PACKAGES), "user.hwcfs.refresh", b"1")
    assert errno_of(os.listdir, m.p(PACKAGES)) == errno.EIO
    emu.clear_faults()
    os.setxattr(m.p(PACKAGES), "user.hwcfs.refresh", b"1")
    # deletes that work
    os.unlink(m.p(PACKAGES, pkgs[2]))
    versions = sorted(os.listdir(m.p(PROVIDERS, prov)))
    r = m.run(["rm", "-r", m.p(PROVIDERS, prov)])
    assert r.returncode == 0, r.stderr
    left = {p["package_id"] for p in emu.state()["packages"]}
    assert pkgs[2] not in left and pkgs[1] in left
    assert len(versions) == 2
    return cmdline


def assert_no_secret(texts, secrets):
    """texts: {what: bytes}; secrets: {what: str}."""
    for name, data in texts.items():
        assert data, "nothing captured from " + name
        for sname, secret in secrets.items():
            s = secret.encode()
            assert s not in data, "%s found in %s" % (sname, name)
            # not even a part of one long enough to matter
            if len(s) >= 48:
                for part in (s[:24], s[len(s) // 2:len(s) // 2 + 24],
                             s[-24:]):
                    assert part not in data, \
                        "part of %s found in %s" % (sname, name)


def test_aksk_session_leaks_nothing(emu, tmp_path):
    audit = tmp_path / "audit.log"
    with mounted(emu, "audit_log=%s" % audit, args=["-d"]) as m:
        cmdline = session(emu, m)
        pid = m.pid
    out = m.err_text.encode()
    assert b"unique:" in out  # -d was on: libfuse's own debug lines
    assert b"GET /v5/iot/" in out  # and our per-request debug lines
    log = audit.read_bytes()
    assert b"outcome=deleted" in log and b"outcome=EACCES" in log
    assert pid > 0
    assert_no_secret({"daemon output": out, "audit log": log,
                      "cmdline": cmdline},
                     {"AK": AK, "SK": SK})


def test_password_session_leaks_nothing(emu, tmp_path):
    audit = tmp_path / "audit.log"
    conf = tmp_path / "config"
    conf.write_text("[default]\niam_user = %s\niam_password = %s\n"
                    "iam_domain = %s\n" % (USER, PASSWORD, DOMAIN))
    conf.chmod(0o600)
    with mounted(emu, "audit_log=%s" % audit, "config=%s" % conf,
                 args=["-d"], keys=False) as m:
        cmdline = session(emu, m)
        # the token expires: the daemon logs in again by itself
        emu.faults(expire_tokens=True)
        os.setxattr(m.p(PACKAGES), "user.hwcfs.refresh", b"1")
        assert len(os.listdir(m.p(PACKAGES))) == 5
        emu.clear_faults()
    tokens = emu.tokens()
    assert len(tokens) >= 2  # the first login and the re-login
    assert emu.stats()["auth_failures"] >= 1
    out = m.err_text.encode()
    assert b"unique:" in out and b"GET /v5/iot/" in out
    log = audit.read_bytes()
    secrets = {"password": PASSWORD}
    secrets.update({"token %d" % i: t for i, t in enumerate(tokens)})
    assert_no_secret({"daemon output": out, "audit log": log,
                      "cmdline": cmdline}, secrets)


def refused(emu, tmp_path, env=None, opts=(), keys=False):
    m, started = start_hwcfs(emu, list(opts), env=env, keys=keys)
    finish(m, expect_code=None)
    assert not started
    assert m.returncode == 1, m.err_text
    assert emu.stats()["total"] == 0  # refused before any request
    return m.err_text


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_readable_config_file_is_refused(emu, tmp_path, mode):
    conf = tmp_path / "config"
    conf.write_text("[default]\nak = %s\nsk = %s\n" % (AK, SK))
    conf.chmod(mode)
    err = refused(emu, tmp_path, opts=["config=%s" % conf])
    assert str(conf) in err and "chmod 600 %s" % conf in err
    assert SK not in err and AK not in err


def test_readable_sdk_credentials_file_is_refused(emu, tmp_path):
    cred = tmp_path / "credentials"
    cred.write_text("[basic]\nak = %s\nsk = %s\n" % (AK, SK))
    cred.chmod(0o644)
    err = refused(emu, tmp_path,
                  env={"HUAWEICLOUD_SDK_CREDENTIALS_FILE": str(cred)})
    assert str(cred) in err and "chmod 600" in err
    assert SK not in err


def test_readable_koocli_file_is_refused(emu, tmp_path):
    home = tmp_path / "home"
    (home / ".hcloud").mkdir(parents=True)
    koo = home / ".hcloud" / "config.json"
    koo.write_text(json.dumps({
        "current": "default", "authEncrypt": False,
        "profiles": [{"name": "default", "mode": "AKSK",
                      "accessKeyId": AK, "secretAccessKey": SK}]}))
    koo.chmod(0o644)
    err = refused(emu, tmp_path, env={"HOME": str(home)})
    assert str(koo) in err and "chmod 600" in err
    assert SK not in err


def test_private_config_file_is_accepted(emu, tmp_path):
    conf = tmp_path / "config"
    conf.write_text("[default]\nak = %s\nsk = %s\n" % (AK, SK))
    conf.chmod(0o600)
    with mounted(emu, "config=%s" % conf, keys=False) as m:
        assert len(os.listdir(m.p(PACKAGES))) == 6


@pytest.mark.parametrize("kind", ["config", "sdk_file", "koocli"])
def test_private_file_of_another_owner_is_refused(emu, tmp_path, kind):
    """Mode 600 is not enough: a file that holds keys and that another
    user owns is refused (as ssh refuses such a key), naming the file and
    its owner; no request is sent."""
    env, opts = {}, []
    if kind == "config":
        path = tmp_path / "config"
        path.write_text("[default]\nak = %s\nsk = %s\n" % (AK, SK))
        opts = ["config=%s" % path]
    elif kind == "sdk_file":
        path = tmp_path / "credentials"
        path.write_text("[basic]\nak = %s\nsk = %s\n" % (AK, SK))
        env = {"HUAWEICLOUD_SDK_CREDENTIALS_FILE": str(path)}
    else:
        home = tmp_path / "home"
        (home / ".hcloud").mkdir(parents=True)
        path = home / ".hcloud" / "config.json"
        path.write_text(json.dumps({
            "current": "default", "authEncrypt": False,
            "profiles": [{"name": "default", "mode": "AKSK",
                          "accessKeyId": AK, "secretAccessKey": SK}]}))
        env = {"HOME": str(home)}
    path.chmod(0o600)
    os.chown(path, 65534, 65534)
    err = refused(emu, tmp_path, env=env, opts=opts)
    assert "%s holds secrets but is owned by uid 65534" % path in err
    assert "not by uid 0" in err
    assert SK not in err and AK not in err


# ------------------------------------------------------------ memory


def sanitized():
    """Whether hwcfs runs with a sanitizer runtime (ASan reads the whole
    environment into memory of its own before main)."""
    r = subprocess.run(["ldd", HWCFS], capture_output=True, text=True)
    return "libasan" in r.stdout or "libtsan" in r.stdout


def memory_count(pid, needle):
    """How many times needle is in the readable memory of pid. Regions
    over 1 GiB are the sanitizers' shadow and reserved space (terabytes,
    mostly unmapped), which hold shadow bytes, never program data."""
    found = 0
    with open("/proc/%d/maps" % pid) as f:
        maps = f.read().splitlines()
    with open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for line in maps:
            addr, perms = line.split()[:2]
            lo, hi = (int(x, 16) for x in addr.split("-"))
            if "r" not in perms or "[vvar" in line or hi - lo > (1 << 30):
                continue
            tail = b""
            for off in range(lo, hi, 1 << 20):
                try:
                    mem.seek(off)
                    data = tail + mem.read(min(1 << 20, hi - off))
                except (OSError, ValueError, OverflowError):
                    break
                found += data.count(needle)
                tail = data[-(len(needle) - 1):]
    return found


@pytest.mark.parametrize("source", ["environment", "config_file",
                                    "sdk_file", "password"])
def test_daemon_memory_holds_each_secret_once(emu, tmp_path, source):
    """After a session, a read of the whole daemon memory (what a core
    file would hold) finds the SK once: the HTTP client's copy. The
    config's copies are wiped and freed once the client has its own, and
    the environment's are overwritten. A password is found twice: the
    backend's copy for the next login and libcurl's send buffer of the
    login request."""
    env, opts, keys = {}, [], False
    if source == "environment":
        keys = True
    elif source == "config_file":
        conf = tmp_path / "config"
        conf.write_text("[default]\nak = %s\nsk = %s\n" % (AK, SK))
        conf.chmod(0o600)
        opts = ["config=%s" % conf]
    elif source == "sdk_file":
        cred = tmp_path / "credentials"
        cred.write_text("[basic]\nak = %s\nsk = %s\n" % (AK, SK))
        cred.chmod(0o600)
        env = {"HUAWEICLOUD_SDK_CREDENTIALS_FILE": str(cred)}
    else:
        conf = tmp_path / "config"
        conf.write_text("[default]\niam_user = %s\niam_password = %s\n"
                        "iam_domain = %s\n" % (USER, PASSWORD, DOMAIN))
        conf.chmod(0o600)
        opts = ["config=%s" % conf]
    with mounted(emu, *opts, env=env, keys=keys) as m:
        r = m.run(["ls", "-lR", m.path])
        assert r.returncode == 0, r.stderr
        with open("/proc/%d/environ" % m.pid, "rb") as f:
            environ = f.read()
        secret = (PASSWORD if source == "password" else SK).encode()
        copies = memory_count(m.pid, secret)
        # the sanitizer runtime's own copy of the environment block
        runtime = memory_count(m.pid, b"HUAWEICLOUD_SDK_SK=" + secret)
        print("%s: %d copies of the secret (%d in the sanitizer's copy of "
              "the environment), AK %d" % (source, copies, runtime,
                                           memory_count(m.pid,
                                                        AK.encode())))
    assert secret not in environ
    assert runtime <= (1 if source == "environment" and sanitized() else 0)
    assert copies - runtime == (2 if source == "password" else 1)


def test_daemon_is_not_dumpable(emu, tmp_path):
    """hwcfs makes itself non-dumpable before it reads a credential, so a
    crash leaves no core file and the user's other processes cannot
    ptrace it or read its memory. The kernel shows it: the files under
    /proc/PID of a non-dumpable process belong to root:root whatever the
    process's group, here 65534. A sleep started the same way is the
    control."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    env, home = clean_env(emu)
    drop = ["setpriv", "--regid=65534", "--clear-groups"]
    argv = drop + [HWCFS, "-f", "-o", ",".join(emulator_opts(emu)),
                   str(mnt)]
    logdir = tmp_path / "log"
    logdir.mkdir()
    with open(logdir / "stderr", "wb") as err:
        proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                stdout=err, stderr=err)
    m = Mount(str(mnt), proc, str(logdir / "stderr"), emu, argv, home)
    control = subprocess.Popen(drop + ["sleep", "60"])
    try:
        deadline = time.monotonic() + MOUNT_TIMEOUT
        while not is_mounted(str(mnt)) and proc.poll() is None and \
                time.monotonic() < deadline:
            time.sleep(0.02)
        assert is_mounted(str(mnt)), m.stderr
        with open("/proc/%d/status" % proc.pid) as f:
            gids = [ln for ln in f if ln.startswith("Gid:")][0].split()
        assert gids[1:] == ["65534"] * 4
        assert os.stat("/proc/%d/status" % proc.pid).st_gid == 0
        assert os.stat("/proc/%d/status" % control.pid).st_gid == 65534
    finally:
        control.kill()
        control.wait()
        problems = finish(m)
    assert not problems, problems
