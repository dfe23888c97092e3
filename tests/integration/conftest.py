"""conftest.py - fixtures of the mount tests: an emulator wiped before each
test, and a factory that mounts the real hwcfs binary against it, then
unmounts it and fails the test when the daemon did not exit cleanly or its
stderr holds a sanitizer report.

    def test_something(emulator, mount):
        emulator.seed(packages=3)
        m = mount()                       # or mount("cache_ttl=0", ...)
        out = m.run("ls -l %s" % m.p("iotda/packages"))
        delta = requests_during(emulator, lambda: m.run("cat ..."))
"""

import atexit
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
if TESTS not in sys.path:
    sys.path.insert(0, TESTS)

from emulator.harness import Emulator  # noqa: E402

# The build scripts/test makes, next to tests/; HWCFS_BUILD names another.
REPO = os.path.dirname(TESTS)
BUILD = os.environ.get("HWCFS_BUILD", os.path.join(REPO, "build-test"))
HWCFS = os.path.join(BUILD, "fs", "hwcfs")
MOUNT_TIMEOUT = 10.0
EXIT_TIMEOUT = 10.0
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "runtime error:",
                   "LeakSanitizer", "ERROR: UndefinedBehaviorSanitizer")


def sanitizer_report(text):
    """The first sanitizer line in text, or None."""
    for line in text.splitlines():
        if any(mark in line for mark in SANITIZER_MARKS):
            return line
    return None


# Every HOME made by clean_env, removed when pytest exits whoever made it.
_HOMES = []
atexit.register(lambda: [shutil.rmtree(d, ignore_errors=True)
                         for d in _HOMES])


def clean_env(emulator=None, keys=True, extra=None):
    """The environment of a hwcfs child: no credentials or config of the
    machine's user (HOME is a fresh directory, removed at exit), the
    emulator's key pair unless keys is False, then extra (a value None
    removes a name)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HUAWEICLOUD_", "HWCFS_CONFIG",
                                "XDG_CONFIG_HOME", "CLOUD_SDK_"))}
    home = tempfile.mkdtemp(prefix="hwcfs-home-")
    _HOMES.append(home)
    env["HOME"] = home
    if emulator is not None and keys:
        env.update(emulator.env())
    for k, v in (extra or {}).items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env, home


def emulator_opts(emulator, services=("iotda", "rfs")):
    """The -o settings that point hwcfs at the emulator."""
    opts = ["iam_endpoint=" + emulator.url, "region=" + emulator.region,
            "project_id=" + emulator.project_id]
    if "iotda" in services:
        opts.append("iotda_endpoint=" + emulator.url)
    if "rfs" in services:
        opts.append("rfs_endpoint=" + emulator.url)
    return opts


def is_mounted(path):
    real = os.path.realpath(path)
    with open("/proc/mounts") as f:
        for line in f:
            fields = line.split()
            if len(fields) > 1 and fields[1] == real:
                return True
    return False


def run(cmd, timeout=60, **kw):
    """A shell command (string) or argv (list); output as text."""
    return subprocess.run(cmd, shell=isinstance(cmd, str),
                          capture_output=True, timeout=timeout,
                          errors="surrogateescape", **kw)


def run_hwcfs(args, env, timeout=30):
    """Runs hwcfs to completion (help, version, a start that must fail)."""
    return subprocess.run([HWCFS] + list(args), env=env,
                          capture_output=True, timeout=timeout,
                          errors="surrogateescape",
                          stdin=subprocess.DEVNULL)


def requests_during(emulator, action):
    """Runs action(); returns (its result, {op: count} of the requests the
    emulator served meanwhile, zero counts left out)."""
    before = emulator.stats()["requests"]
    result = action()
    after = emulator.stats()["requests"]
    delta = {op: after[op] - before.get(op, 0) for op in after
             if after[op] != before.get(op, 0)}
    return result, delta


class Mount:
    """One running hwcfs: path, proc, stderr text, the emulator."""

    def __init__(self, path, proc, stderr_path, emulator, argv, home):
        self.path = path
        self.proc = proc
        self.stderr_path = stderr_path
        self.emulator = emulator
        self.argv = argv
        self.home = home
        self.returncode = None

    @property
    def pid(self):
        return self.proc.pid

    @property
    def stderr(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def p(self, *parts):
        """A path inside the mount."""
        return os.path.join(self.path, *parts)

    def run(self, cmd, timeout=60, **kw):
        return run(cmd, timeout=timeout, **kw)

    def signal(self, sig=signal.SIGUSR2):
        os.kill(self.proc.pid, sig)

    def unmount(self):
        """Unmounts and waits for the daemon; returns its exit code."""
        if self.returncode is not None:
            return self.returncode
        if is_mounted(self.path):
            for _ in range(50):
                r = run(["fusermount3", "-u", self.path], timeout=30)
                if r.returncode == 0 or not is_mounted(self.path):
                    break
                time.sleep(0.1)  # busy: a test's child still inside
            else:
                run(["fusermount3", "-uz", self.path], timeout=30)
        try:
            self.returncode = self.proc.wait(timeout=EXIT_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self.returncode = "killed: did not exit after unmount"
        return self.returncode


@pytest.fixture(scope="session")
def emulator_server():
    emu = Emulator()
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture
def emulator(emulator_server):
    """The emulator, empty, without faults, counters at zero."""
    emulator_server.wipe()
    yield emulator_server
    emulator_server.clear_faults()


@pytest.fixture
def mount(emulator, tmp_path_factory):
    """Factory: mount(*opts, services=..., env=..., keys=True, args=())
    mounts hwcfs in the foreground against the emulator and returns a
    Mount. Extra -o options are strings ("ro", "cache_ttl=0"). Every mount
    is unmounted at teardown; the test fails when the daemon's exit code
    is not 0 or its stderr holds a sanitizer report."""
    mounts = []
    homes = []

    def factory(*opts, services=("iotda", "rfs"), env=None, keys=True,
                args=()):
        if not os.access(HWCFS, os.X_OK):
            pytest.fail("no hwcfs binary at %s (set HWCFS_BUILD)" % HWCFS)
        mnt = str(tmp_path_factory.mktemp("mnt"))
        logdir = tempfile.mkdtemp(prefix="hwcfs-log-")
        stderr_path = os.path.join(logdir, "stderr")
        child_env, home = clean_env(emulator, keys, env)
        homes.append(home)
        homes.append(logdir)
        allopts = emulator_opts(emulator, services) + list(opts)
        argv = [HWCFS, "-f", "-o", ",".join(allopts)] + list(args) + [mnt]
        with open(stderr_path, "wb") as err:
            proc = subprocess.Popen(argv, env=child_env,
                                    stdin=subprocess.DEVNULL,
                                    stdout=err, stderr=err)
        m = Mount(mnt, proc, stderr_path, emulator, argv, home)
        mounts.append(m)
        deadline = time.monotonic() + MOUNT_TIMEOUT
        while time.monotonic() < deadline:
            if is_mounted(mnt):
                return m
            if proc.poll() is not None:
                break
            time.sleep(0.02)
        # Reported here, not again at teardown.
        mounts.remove(m)
        code = m.unmount()
        shutil.rmtree(mnt, ignore_errors=True)
        pytest.fail("hwcfs did not mount (exit %r):\n%s" % (code, m.stderr))

    yield factory

    problems = []
    for m in mounts:
        code = m.unmount()
        report = sanitizer_report(m.stderr)
        if report:
            problems.append("sanitizer report from hwcfs: %s\n%s"
                            % (report, m.stderr))
        elif code != 0:
            problems.append("hwcfs exited %r:\n%s" % (code, m.stderr))
        if is_mounted(m.path):
            problems.append("%s is still mounted" % m.path)
        else:
            shutil.rmtree(m.path, ignore_errors=True)
    for d in homes:
        shutil.rmtree(d, ignore_errors=True)
    if problems:
        pytest.fail("\n".join(problems))
