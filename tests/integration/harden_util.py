"""harden_util.py - helpers shared by the hardening tests (test_tls,
test_hostile, test_faults, test_hung, test_kill, test_secrets): a
throw-away TLS certificate, mounts against an emulator of their own
(HTTPS, restartable on a fixed port), and backend_tool runs. The mount
fixture of conftest.py serves the session's plain emulator; these tests
need emulators that they start, stall, stop and restart themselves."""

import contextlib
import errno
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import BUILD, HWCFS, Mount, clean_env, emulator_opts, \
    is_mounted
from conftest import sanitizer_report as asan_report

TOOL = os.path.join(BUILD, "tests", "tools", "backend_tool")
MOUNT_TIMEOUT = 15.0


def sanitizer_report(text):
    """conftest's check, plus ThreadSanitizer's and valgrind's reports
    (the TSan build and tests/valgrind run these tests too)."""
    found = asan_report(text)
    if found:
        return found
    for line in text.splitlines():
        if "WARNING: ThreadSanitizer" in line or \
                "ERROR SUMMARY: " in line and "ERROR SUMMARY: 0 " not in line:
            return line
    return None


def make_cert(directory):
    """A self-signed certificate for 127.0.0.1 and localhost, made with
    the openssl command line; returns (cert path, key path)."""
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    r = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
         "-keyout", key, "-out", cert, "-days", "2",
         "-subj", "/CN=hwcfs-test-emulator",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
         "-addext", "basicConstraints=critical,CA:TRUE"],
        capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return cert, key


def start_hwcfs(emulator, opts=(), services=("iotda", "rfs"), env=None,
                keys=True, args=(), wait=True, endpoint_opts=None):
    """Starts hwcfs -f against emulator; returns (Mount, started) where
    started says whether the mount appeared within MOUNT_TIMEOUT (when
    wait) or the daemon exited first."""
    if not os.access(HWCFS, os.X_OK):
        pytest.fail("no hwcfs binary at %s (set HWCFS_BUILD)" % HWCFS)
    mnt = tempfile.mkdtemp(prefix="hwcfs-mnt-")
    logdir = tempfile.mkdtemp(prefix="hwcfs-log-")
    stderr_path = os.path.join(logdir, "stderr")
    child_env, home = clean_env(emulator, keys, env)
    eopts = emulator_opts(emulator, services) if endpoint_opts is None \
        else list(endpoint_opts)
    argv = [HWCFS, "-f", "-o", ",".join(eopts + list(opts))] + \
        list(args) + [mnt]
    with open(stderr_path, "wb") as err:
        proc = subprocess.Popen(argv, env=child_env,
                                stdin=subprocess.DEVNULL,
                                stdout=err, stderr=err)
    m = Mount(mnt, proc, stderr_path, emulator, argv, home)
    m.logdir = logdir
    if not wait:
        return m, False
    deadline = time.monotonic() + MOUNT_TIMEOUT
    while time.monotonic() < deadline:
        if is_mounted(mnt):
            return m, True
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    return m, False


def finish(m, expect_code=0):
    """Unmounts m, removes its directories; returns the problems seen
    (sanitizer report, unexpected exit code, still mounted)."""
    problems = []
    code = m.unmount()
    m.err_text = m.stderr  # kept: the log directory is removed below
    report = sanitizer_report(m.err_text)
    if report:
        problems.append("sanitizer report from hwcfs: %s\n%s"
                        % (report, m.err_text[-4000:]))
    elif expect_code is not None and code != expect_code:
        problems.append("hwcfs exited %r:\n%s" % (code, m.err_text[-4000:]))
    if is_mounted(m.path):
        problems.append("%s is still mounted" % m.path)
    else:
        shutil.rmtree(m.path, ignore_errors=True)
    shutil.rmtree(m.home, ignore_errors=True)
    shutil.rmtree(getattr(m, "logdir", ""), ignore_errors=True)
    return problems


@contextlib.contextmanager
def mounted(emulator, *opts, **kw):
    """A mount for the with-block; the test fails when it does not
    mount, or at the end on a sanitizer report or a bad exit."""
    expect = kw.pop("expect_code", 0)
    m, ok = start_hwcfs(emulator, opts, **kw)
    if not ok:
        problems = finish(m, expect_code=None)
        pytest.fail("hwcfs did not mount (exit %r):\n%s\n%s"
                    % (m.returncode, m.err_text, "\n".join(problems)))
    try:
        yield m
    finally:
        problems = finish(m, expect_code=expect)
        if problems:
            pytest.fail("\n".join(problems))


def run_tool(emulator, *cmd, opts=(), env=None, keys=True,
             services=("iotda", "rfs"), timeout=120, endpoint_opts=None):
    """backend_tool against emulator: CompletedProcess (text), elapsed s.
    Fails the test on a sanitizer report."""
    if not os.access(TOOL, os.X_OK):
        pytest.fail("no backend_tool at %s (set HWCFS_BUILD)" % TOOL)
    child_env, home = clean_env(emulator, keys, env)
    eopts = emulator_opts(emulator, services) if endpoint_opts is None \
        else list(endpoint_opts)
    argv = [TOOL, "-o", ",".join(eopts + list(opts))] + list(cmd)
    t0 = time.monotonic()
    try:
        proc = subprocess.run(argv, env=child_env, capture_output=True,
                              timeout=timeout, errors="surrogateescape",
                              stdin=subprocess.DEVNULL)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    elapsed = time.monotonic() - t0
    report = sanitizer_report(proc.stderr)
    if report:
        pytest.fail("sanitizer report from backend_tool: %s\n%s"
                    % (report, proc.stderr[-4000:]))
    return proc, elapsed


def tool_errno(proc):
    """The errno name backend_tool printed first ("ENOENT: ..."), or None."""
    for line in proc.stderr.splitlines():
        name = line.split(":", 1)[0]
        if name[:1] == "E" and name.isupper() and ":" in line:
            return name
    return None


# The walks of the hostile-listing tests' tree (1,200 packages, 1,500
# providers, "vprov" with 3 versions) when nothing is hostile, as
# {directory: (errno, {op: exact requests})}: iotda/packages, 600
# firmware and 600 software packages and no module package, is page 0 of
# each of the three types, a round of offsets 50..500 (10 pages a type),
# then after the marker the last short pages (2 a type): 3 + 20 + 4 = 27;
# the providers are 2 pages of 1,000, the versions 1.
NORMAL_WALKS = {"iotda/packages": (0, {"iotda.list": 27}),
                "rfs/providers": (0, {"rfs.list_providers": 2}),
                "rfs/providers/vprov": (0, {"rfs.list_versions": 1})}


# The daemon's peak resident size (VmHWM) after a hostile run: a bound far
# under what an unbounded walk reaches (3.8 GB in three minutes, issue
# 11.5). Under ASan, freed memory waits in a quarantine (256 MiB by
# default) that counts as the daemon's; a small one lets the peak measure
# hwcfs where a test makes much garbage.
PEAK_MIB = 320
ASAN_SMALL_QUARANTINE = ":".join(
    x for x in (os.environ.get("ASAN_OPTIONS"), "quarantine_size_mb=8") if x)


def daemon_peak_mib(pid):
    """VmHWM of the daemon in MiB, or None when pid is a wrapper
    (tests/valgrind) whose peak would be the tool's, not hwcfs's."""
    if os.path.basename(os.readlink("/proc/%d/exe" % pid)) != "hwcfs":
        return None
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    raise AssertionError("no VmHWM for %d" % pid)


def assert_peak_bounded(pid):
    """Fails the test when the daemon's peak passed PEAK_MIB."""
    peak = daemon_peak_mib(pid)
    print("daemon peak: %s MiB" % ("-" if peak is None else "%.0f" % peak))
    assert peak is None or peak < PEAK_MIB


def expected_names(emu, directory, versions):
    """The names the emulator holds in directory; a provider's are its
    first `versions` versions 1.0.0, 1.0.1, ..."""
    state = emu.state(brief=True)
    if directory == "iotda/packages":
        return {p["package_id"] for p in state["packages"]}
    if directory == "rfs/providers":
        return {p["provider_name"] for p in state["providers"]}
    return {"1.0.%d" % i for i in range(versions)}


def api_requests(emu):
    """The emulator's request counters that are not 0."""
    return {k: v for k, v in emu.stats()["requests"].items() if v}


def tool_list_hostile(emu, knob, directory, want_errno, want_requests,
                      names, timeout=120):
    """backend_tool lists directory while the emulator answers with the
    hostile knob: the exact requests, then the errno (with nothing
    listed) or every name exactly once. Returns (proc, elapsed)."""
    emu.clear_faults()
    emu.faults(hostile=knob)
    emu.reset()
    proc, elapsed = run_tool(emu, "list", directory, timeout=timeout)
    got = api_requests(emu)
    emu.clear_faults()
    print("tool %s %s: exit %d, %s, %.2f s" % (knob, directory,
                                               proc.returncode, got, elapsed))
    assert got == want_requests
    if want_errno:
        assert proc.returncode == 1
        assert tool_errno(proc) == errno.errorcode[want_errno]
        assert proc.stdout == ""
    else:
        assert proc.returncode == 0, proc.stderr
        listed = [line.split("\t")[0] for line in proc.stdout.splitlines()]
        assert len(listed) == len(set(listed))
        assert set(listed) == names
    return proc, elapsed
