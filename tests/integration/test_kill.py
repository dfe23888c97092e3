"""test_kill.py - the daemon killed with SIGKILL while mounted with
-o auto_unmount: libfuse's fusermount3 helper notices and releases the
mount point, so no dead mount ("Transport endpoint is not connected") is
left behind."""

import os
import signal
import time

import pytest

from conftest import is_mounted
from emulator.harness import Emulator
from harden_util import finish, start_hwcfs

RELEASE_WAIT = 10.0  # seconds the mount point may take to be released


@pytest.fixture
def emu():
    e = Emulator(packages=5, providers=1, versions=1)
    e.start()
    try:
        yield e
    finally:
        e.stop()


def test_sigkill_with_auto_unmount_releases_mount_point(emu):
    m, started = start_hwcfs(emu, ["auto_unmount"])
    try:
        assert started, m.stderr
        assert len(os.listdir(m.p("iotda/packages"))) == 5
        os.kill(m.pid, signal.SIGKILL)
        assert m.proc.wait(timeout=10) == -signal.SIGKILL
        m.returncode = -signal.SIGKILL
        t0 = time.monotonic()
        deadline = t0 + RELEASE_WAIT
        while is_mounted(m.path) and time.monotonic() < deadline:
            time.sleep(0.05)
        print("released %.2f s after SIGKILL" % (time.monotonic() - t0))
        assert not is_mounted(m.path)
        # the directory is a plain, empty directory again
        assert os.listdir(m.path) == []
    finally:
        problems = finish(m, expect_code=None)
    assert not problems, problems


def test_sigkill_while_listing_releases_mount_point(emu):
    emu.faults(latency_ms=200)
    m, started = start_hwcfs(emu, ["auto_unmount", "cache_ttl=0"])
    try:
        assert started, m.stderr
        pid = os.fork()
        if pid == 0:  # a reader inside the mount when the daemon dies
            try:
                os.listdir(m.p("iotda/packages"))
            finally:
                os._exit(0)
        time.sleep(0.1)
        os.kill(m.pid, signal.SIGKILL)
        m.proc.wait(timeout=10)
        m.returncode = -signal.SIGKILL
        _, status = os.waitpid(pid, 0)
        assert os.WIFEXITED(status)
        deadline = time.monotonic() + RELEASE_WAIT
        while is_mounted(m.path) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not is_mounted(m.path)
    finally:
        emu.clear_faults()
        problems = finish(m, expect_code=None)
    assert not problems, problems
