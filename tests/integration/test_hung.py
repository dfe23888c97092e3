"""test_hung.py - a server that accepts and never answers (the emulator's
`stall` knob), a server gone at mount time, and a server that goes away
after mounting and comes back on the same port. With -o timeout=3, ls, cat
and rm fail with ETIMEDOUT or EIO within timeout + 1 s, directories whose
listing is cached keep answering meanwhile, fusermount3 -u works, and a
mount whose server came back answers again without a remount."""

import errno
import os
import shutil
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import clean_env, emulator_opts, run_hwcfs
from emulator.harness import Emulator
from harden_util import finish, mounted, start_hwcfs
from mountlib import wait_until

TIMEOUT = 3  # -o timeout=
LIMIT = TIMEOUT + 1  # what the issue allows an operation to take
FAILED = (errno.ETIMEDOUT, errno.EIO)
# A cached answer takes milliseconds; anything that waited on the stalled
# server would take TIMEOUT. The bound sits between, with room for load.
CACHED = 2.0
CHILD = r"""
import os, sys, time
op, path = sys.argv[1], sys.argv[2]
t0 = time.monotonic()
try:
    if op == "ls":
        os.listdir(path)
    elif op == "cat":
        with open(path, "rb") as f:
            f.read()
    elif op == "rm":
        os.unlink(path)
    elif op == "stat":
        os.stat(path)
    code = 0
except OSError as e:
    code = e.errno
print(code, time.monotonic() - t0)
"""


def timed(op, path, hard_limit=60):
    """Runs one file operation in a child process (so a hang cannot hang
    the test): (errno or 0, seconds it took inside the child)."""
    r = subprocess.run(["/usr/bin/python3", "-c", CHILD, op, path],
                       capture_output=True, text=True, timeout=hard_limit)
    code, secs = r.stdout.split()
    return int(code), float(secs)


@pytest.fixture
def emu():
    e = Emulator(packages=20, providers=3, versions=2)
    e.start()
    try:
        yield e
    finally:
        e.stop()


def test_stalled_server_fails_operations_in_time(emu):
    state = emu.state()
    package = state["packages"][0]["package_id"]
    provider = state["providers"][0]["provider_name"]
    with mounted(emu, "timeout=%d" % TIMEOUT, "cache_ttl=300") as m:
        # cached before the stall: the providers and one provider's
        # versions
        providers = sorted(os.listdir(m.p("rfs/providers")))
        versions = sorted(os.listdir(m.p("rfs/providers", provider)))
        assert len(providers) == 3 and len(versions) == 2
        emu.faults(stall=True)
        emu.reset()

        # a listing in flight does not hold up cached directories
        slow = {}
        t = threading.Thread(target=lambda: slow.update(
            r=timed("ls", m.p("iotda/packages"))))
        t.start()
        # the listing is in flight once the emulator holds its request
        assert wait_until(lambda: any(e.get("stalled")
                                      for e in emu.stats()["log"]))
        code, secs = timed("ls", m.p("rfs/providers"))
        print("cached ls during the stall: %.3f s" % secs)
        assert code == 0 and secs < CACHED
        code, secs = timed("cat", m.p("rfs/providers", provider,
                                      versions[0]))
        assert code == 0 and secs < CACHED
        t.join(timeout=30)
        code, secs = slow["r"]
        print("stalled ls: %s in %.2f s" % (errno.errorcode.get(code), secs))
        assert code in FAILED and secs <= LIMIT

        code, secs = timed("cat", m.p("iotda/packages", package))
        print("stalled cat: %s in %.2f s" % (errno.errorcode.get(code), secs))
        assert code in FAILED and secs <= LIMIT
        code, secs = timed("rm", m.p("rfs/providers", provider,
                                     versions[1]))
        print("stalled rm: %s in %.2f s" % (errno.errorcode.get(code), secs))
        assert code in FAILED and secs <= LIMIT
        # the DELETE did reach the server, and no answer came
        deletes = emu.stats()["deletes"]
        assert [(d["resource"], d["status"]) for d in deletes] == \
            [("%s/%s" % (provider, versions[1]), None)]

        # still answering from the cache, and unmounting works while
        # the server stays stalled
        assert sorted(os.listdir(m.p("rfs/providers"))) == providers
        r = subprocess.run(["fusermount3", "-u", m.path],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        assert m.proc.wait(timeout=15) == 0
    emu.faults(stall=False)


@pytest.mark.parametrize("kind", ["package", "version"])
def test_rm_f_of_an_uncached_name_waits_for_one_timeout(emu, kind):
    """rm -f looks the name up twice, for its stat and for its unlink:
    the second lookup gets the first one's timeout at once, so rm -f
    takes one timeout, not two, and the server is asked once (11.14)."""
    state = emu.state()
    if kind == "package":
        rel = "iotda/packages/" + state["packages"][0]["package_id"]
        want = {"iotda.show": 1}
    else:
        prov = state["providers"][0]
        rel = "rfs/providers/%s/%s" % (prov["provider_name"],
                                       prov["versions"][0]["provider_version"])
        want = {"rfs.show_provider": 1}
    with mounted(emu, "timeout=%d" % TIMEOUT) as m:
        emu.faults(stall=True)
        emu.reset()
        t0 = time.monotonic()
        r = subprocess.run(["rm", "-f", m.p(rel)], capture_output=True,
                           text=True, timeout=60,
                           env=dict(os.environ, LC_ALL="C"))
        secs = time.monotonic() - t0
        print("rm -f of an uncached %s: exit %d in %.2f s: %s"
              % (kind, r.returncode, secs, r.stderr.strip()))
        assert r.returncode == 1
        assert "Connection timed out" in r.stderr, r.stderr
        assert secs < 1.5 * TIMEOUT
        asked = {op: n for op, n in emu.stats()["requests"].items() if n}
        assert asked == want
    emu.faults(stall=False)


def test_server_gone_at_mount_time(emu):
    env, home = clean_env(emu)
    mnt = tempfile.mkdtemp(prefix="hwcfs-mnt-")
    opts = emulator_opts(emu) + ["timeout=%d" % TIMEOUT]
    emu.stop()  # nothing listens on that port any more
    try:
        t0 = time.monotonic()
        r = run_hwcfs(["-f", "-o", ",".join(opts), mnt], env)
        secs = time.monotonic() - t0
    finally:
        shutil.rmtree(mnt, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)
    print("server gone at mount: exit %d in %.2f s: %s"
          % (r.returncode, secs, r.stderr.strip().splitlines()[-1]))
    assert r.returncode == 1, r.stderr
    assert "cannot use IoTDA at http://127.0.0.1:" in r.stderr
    assert "Connection refused" in r.stderr
    assert secs <= LIMIT + 2  # start-up plus one bounded check


def test_mount_recovers_when_server_comes_back(emu):
    port = emu.port
    with mounted(emu, "timeout=%d" % TIMEOUT, "cache_ttl=0") as m:
        assert len(os.listdir(m.p("iotda/packages"))) == 20
        emu.stop()
        code, secs = timed("ls", m.p("iotda/packages"))
        print("server gone: ls %s in %.2f s"
              % (errno.errorcode.get(code), secs))
        assert code in (errno.ECONNREFUSED, errno.EIO, errno.ETIMEDOUT)
        assert secs <= LIMIT
        # the same seed on the same port, as a restarted service would be
        again = Emulator(packages=20, providers=3, versions=2, port=port)
        again.start()
        try:
            m.emulator = again
            names = set(os.listdir(m.p("iotda/packages")))
            want = {p["package_id"] for p in again.state()["packages"]}
            assert names == want and len(names) == 20
            assert len(os.listdir(m.p("rfs/providers"))) == 3
        finally:
            again.stop()
