"""test_readahead.py - the readahead of a walk (cache/readahead.c,
docs/hwcfs.md "Walks: readahead"): during `ls -R` the version lists of the
next names go out in parallel, a whole walk still sends one list per name,
a walk of two names costs at most readahead=N lists more, and a single
`ls` or `cat` costs none. Counts are exact (the emulator's counters)."""

import os
import signal
import subprocess
import time

import pytest

from mountlib import delta_of, sh, wait_until

MODULES = "rfs/modules"
NAMES = 40
LIST_NAMES = "rfs.list_modules"
LIST_VERSIONS = "rfs.list_module_versions"
# An unmount with readaheads held by the server ends within this, not after
# timeout=60: their requests are cancelled.
UNMOUNT_BOUND = 5.0


def seeded(emulator, mount, *opts, names=NAMES):
    """40 modules of 2 versions each, mounted with opts, counters zeroed."""
    emulator.seed(modules=names, versions=2)
    m = mount(*opts)
    emulator.reset()
    return m


def stalled(emulator):
    """How many API requests the stalled emulator holds or held."""
    return sum(1 for e in emulator.stats()["log"] if e.get("stalled"))


def settled(emulator):
    """The emulator's stats once no request is in flight and the total has
    not moved for half a second: readaheads still running have ended."""
    last = emulator.stats()
    for _ in range(100):
        time.sleep(0.5)
        now = emulator.stats()
        if now["total"] == last["total"]:
            return now
        last = now
    pytest.fail("requests kept coming for 50 s")


@pytest.mark.parametrize("opts", [(), ("readahead=0",), ("readahead=4",)],
                         ids=["default", "off", "four"])
def test_ls_lR_sends_one_names_list_and_one_list_per_name(emulator, mount,
                                                          opts):
    m = seeded(emulator, mount, *opts)
    r, delta = delta_of(emulator, lambda: sh(["ls", "-lR", m.p(MODULES)]))
    assert r.returncode == 0, r.stderr
    assert delta == {LIST_NAMES: 1, LIST_VERSIONS: NAMES, "total": NAMES + 1}
    # Nothing was left running to come in after the walk.
    assert settled(emulator)["total"] == NAMES + 1


def test_find_sends_one_list_per_name(emulator, mount):
    m = seeded(emulator, mount)
    r, delta = delta_of(emulator, lambda: sh(["find", m.p(MODULES)]))
    assert r.returncode == 0, r.stderr
    assert delta == {LIST_NAMES: 1, LIST_VERSIONS: NAMES, "total": NAMES + 1}


def test_ls_of_two_names_costs_at_most_readahead_more(emulator, mount):
    m = seeded(emulator, mount, "readahead=4")
    names = sorted(os.listdir(m.p(MODULES)))
    assert len(names) == NAMES
    r = sh(["ls", m.p(MODULES, names[0]), m.p(MODULES, names[1])])
    assert r.returncode == 0, r.stderr
    got = settled(emulator)["requests"]
    # The two asked for, and the four names after the second.
    assert got[LIST_VERSIONS] == 2 + 4
    assert got[LIST_NAMES] == 1
    # Those four are then answered with no request of their own; each
    # slides the window by one name (names 6 to 9 are read ahead).
    r = sh(["ls"] + [m.p(MODULES, n) for n in names[2:6]])
    assert r.returncode == 0, r.stderr
    got = settled(emulator)["requests"]
    assert got[LIST_VERSIONS] == 2 + 4 + 4
    assert got[LIST_NAMES] == 1


def test_no_readahead_without_a_listing_of_the_names(emulator, mount):
    m = seeded(emulator, mount)
    names = sorted(o["module_name"] for o in emulator.state()["modules"])
    r = sh(["ls", m.p(MODULES, names[0]), m.p(MODULES, names[1])])
    assert r.returncode == 0, r.stderr
    got = settled(emulator)["requests"]
    assert got[LIST_VERSIONS] == 2 and got[LIST_NAMES] == 0


def test_ls_of_one_name_and_cat_of_a_version_cost_no_readahead(emulator,
                                                               mount):
    m = seeded(emulator, mount)
    names = sorted(os.listdir(m.p(MODULES)))
    emulator.reset()
    r = sh(["ls", "-l", m.p(MODULES, names[5])])
    assert r.returncode == 0, r.stderr
    r = sh(["ls", "-l", m.p(MODULES, names[5])])
    assert r.returncode == 0, r.stderr
    versions = r.stdout.split()[-1]
    r = sh(["cat", m.p(MODULES, names[9], versions)])
    assert r.returncode == 0, r.stderr
    got = settled(emulator)["requests"]
    assert got[LIST_VERSIONS] == 1
    assert got[LIST_NAMES] == 0


@pytest.mark.parametrize("opts,parallel", [((), True),
                                           (("readahead=0",), False)],
                         ids=["readahead", "off"])
def test_ls_R_lists_names_in_parallel_only_with_readahead(emulator, mount,
                                                          opts, parallel):
    m = seeded(emulator, mount, *opts, names=20)
    emulator.faults(latency_ms=20)
    emulator.reset()
    r = sh(["ls", "-R", m.p(MODULES)])
    assert r.returncode == 0, r.stderr
    stats = settled(emulator)
    assert stats["requests"][LIST_VERSIONS] == 20
    if parallel:
        assert stats["max_in_flight"] > 1
    else:
        assert stats["max_in_flight"] == 1


def test_unmount_cancels_readaheads_in_progress(emulator, mount):
    """Readaheads held by a stalled server do not hold up the unmount:
    their requests are cancelled and their threads joined at once, well
    before timeout=60 would end them."""
    m = seeded(emulator, mount, "timeout=60")
    names = sorted(os.listdir(m.p(MODULES)))
    assert sh(["ls", m.p(MODULES, names[0])]).returncode == 0
    emulator.faults(stall=True)
    try:
        emulator.reset()
        ls = subprocess.Popen(["ls", m.p(MODULES, names[1])],
                              stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
        # Its own list and the 16 read ahead, all held by the server.
        assert wait_until(lambda: stalled(emulator) == 1 + 16)
        ls.send_signal(signal.SIGINT)
        ls.wait(timeout=30)
        t0 = time.monotonic()
        code = m.unmount()
        secs = time.monotonic() - t0
    finally:
        emulator.faults(stall=False)
    print("unmount with 16 readaheads stalled: %.3f s" % secs)
    assert code == 0
    assert secs < UNMOUNT_BOUND
