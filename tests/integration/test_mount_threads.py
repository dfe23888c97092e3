"""test_mount_threads.py - issue 12 item 5: the worker thread options of
the command line are honoured, not overridden: -o max_threads=N bounds the
daemon's workers, -o clone_fd gives each worker its own /dev/fuse."""

import os
import shutil
import threading

import pytest

from conftest import clean_env, emulator_opts, run_hwcfs
from mountlib import PROVIDERS, errno_of

# Lookups at once, each held up by the emulator's latency, each in its
# own directory: the kernel sends those of one directory one at a time.
PARALLEL = 8
LATENCY_MS = 300


def _threads(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    raise AssertionError("no Threads line")


def _fuse_fds(pid):
    n = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            if os.readlink("/proc/%d/fd/%s" % (pid, fd)) == "/dev/fuse":
                n += 1
        except OSError:
            pass
    return n


def _peak_threads_under_load(emulator, m):
    """The daemon's most threads while PARALLEL slow lookups run."""
    emulator.faults(latency_ms=LATENCY_MS)
    done = threading.Event()
    peak = [_threads(m.pid)]

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _threads(m.pid))
            done.wait(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    provs = sorted(os.listdir(m.p(PROVIDERS)))
    workers = [threading.Thread(target=errno_of, args=(
        os.stat, m.p(PROVIDERS, p, "9.9.9"))) for p in provs]
    try:
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    finally:
        done.set()
        sampler.join()
        emulator.clear_faults()
    return peak[0]


def test_max_threads_bounds_the_workers(emulator, mount):
    emulator.seed(providers=PARALLEL)
    m = mount("max_threads=2")
    os.listdir(m.p(PROVIDERS))
    idle = _threads(m.pid)
    peak = _peak_threads_under_load(emulator, m)
    # libfuse starts one worker; at most one more may join it.
    assert peak - idle <= 1, (idle, peak)
    assert sorted(os.listdir(m.p())) == ["iotda", "rfs"]


def test_default_workers_serve_lookups_in_parallel(emulator, mount):
    # The counterpart: without the option, more than two workers run.
    emulator.seed(providers=PARALLEL)
    m = mount()
    os.listdir(m.p(PROVIDERS))
    idle = _threads(m.pid)
    peak = _peak_threads_under_load(emulator, m)
    assert peak - idle > 1, (idle, peak)


@pytest.mark.parametrize("opts, cloned", [((), False), (("clone_fd",), True)])
def test_clone_fd_gives_a_worker_its_own_device(emulator, mount, opts,
                                                cloned):
    m = mount(*opts)
    assert sorted(os.listdir(m.p())) == ["iotda", "rfs"]
    # The session's descriptor, and with clone_fd one more per worker.
    assert (_fuse_fds(m.pid) > 1) == cloned


def test_max_threads_0_is_a_usage_error(emulator, tmp_path):
    env, home = clean_env(emulator, True, None)
    try:
        opts = ",".join(emulator_opts(emulator) + ["max_threads=0"])
        r = run_hwcfs(["-f", "-o", opts, str(tmp_path)], env)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    assert r.returncode == 2
    assert "max_threads" in r.stderr
    assert emulator.stats()["total"] == 0
