"""test_hostile.py - hostile server answers (the emulator's `hostile`
knob): a marker that never advances, a next_marker loop, duplicate names
across pages, names with `/` or `..`, a 64 MiB body, a 100000-deep JSON
array, negative counts. Each must end in an error (EIO) or in a safe,
complete listing, after a bounded number of requests and in bounded time,
first through backend_tool, then through the mount (os.listdir, ls -l)."""

import errno
import os
import time

import pytest

from emulator.harness import Emulator
from harden_util import NORMAL_WALKS, api_requests, expected_names, \
    mounted, run_tool, tool_list_hostile

PACKAGES = 1200  # 600 a type: the IoTDA walk needs a marker
PROVIDERS = 1500  # two RFS pages of 1000
VERSIONS = 3
# A hostile listing must end well within this (seconds); the normal ones
# take well under one. Generous: CI machines are shared.
BOUND_S = 60

# knob -> directory -> (errno or 0, {op: exact requests}); the walks
# when nothing is hostile are harden_util.NORMAL_WALKS.
NORMAL = NORMAL_WALKS
EXPECT = {
    # the marker check fails after the first two rounds (the empty
    # module type ends with its page 0)
    "marker_stuck": dict(NORMAL, **{
        "iotda/packages": (errno.EIO, {"iotda.list": 23})}),
    # the second page repeats the first page's marker
    "next_marker_loop": dict(NORMAL, **{
        "rfs/providers": (errno.EIO, {"rfs.list_providers": 2}),
        "rfs/providers/vprov": (errno.EIO, {"rfs.list_versions": 2})}),
    # duplicates are dropped: the listing is complete and unique
    "duplicates": NORMAL,
    # IoTDA: the first pages then hold 53 records, more than the 50 a
    # page may: EIO. RFS: the bad names are dropped.
    "bad_names": dict(NORMAL, **{
        "iotda/packages": (errno.EIO, {"iotda.list": 3})}),
    # above the 32 MiB cap: EIO, never retried
    "huge_body": {"iotda/packages": (errno.EIO, {"iotda.list": 3}),
                  "rfs/providers": (errno.EIO, {"rfs.list_providers": 1}),
                  "rfs/providers/vprov": (errno.EIO,
                                          {"rfs.list_versions": 1})},
    # cJSON's nesting limit: not JSON we take, EIO, never retried
    "deep_json": {"iotda/packages": (errno.EIO, {"iotda.list": 3}),
                  "rfs/providers": (errno.EIO, {"rfs.list_providers": 1}),
                  "rfs/providers/vprov": (errno.EIO,
                                          {"rfs.list_versions": 1})},
    # count unknown: every round asks for all the offsets it may
    # (10, then 11 pages a type): 3 + 20 + 22 requests
    "negative_count": dict(NORMAL, **{
        "iotda/packages": (0, {"iotda.list": 45})}),
}
CASES = [(k, d) for k in EXPECT for d in EXPECT[k]]


@pytest.fixture(scope="module")
def emu():
    e = Emulator(packages=PACKAGES, providers=PROVIDERS)
    e.start()
    try:
        e.add_provider("vprov", versions=["1.0.%d" % i
                                          for i in range(VERSIONS)])
        yield e
    finally:
        e.stop()


@pytest.mark.parametrize("knob,directory", CASES)
def test_backend_tool_on_hostile_answers(emu, knob, directory):
    want_errno, want_requests = EXPECT[knob][directory]
    names = expected_names(emu, directory, VERSIONS)
    _, elapsed = tool_list_hostile(emu, knob, directory, want_errno,
                                   want_requests, names)
    assert elapsed < BOUND_S


@pytest.mark.parametrize("knob,directory", CASES)
def test_mount_on_hostile_answers(emu, knob, directory):
    want_errno, want_requests = EXPECT[knob][directory]
    names = expected_names(emu, directory, VERSIONS)
    emu.clear_faults()
    # faults on only once mounted: the start-up check must pass
    with mounted(emu, "cache_ttl=30") as m:
        if directory.startswith("rfs/providers/"):
            os.stat(m.p(directory))  # looked up before the fault
        emu.faults(hostile=knob)
        emu.reset()
        t0 = time.monotonic()
        try:
            listed = os.listdir(m.p(directory))
            err = 0
        except OSError as e:
            listed, err = None, e.errno
        elapsed = time.monotonic() - t0
        got = api_requests(emu)
        emu.clear_faults()
        print("mount %s %s: %s, %s, %.2f s" % (
            knob, directory, errno.errorcode.get(err, "ok"), got, elapsed))
        assert err == want_errno
        assert got == want_requests
        assert elapsed < BOUND_S
        if not want_errno:
            assert len(listed) == len(set(listed))
            assert set(listed) == names
            # ls -l from the same listing: every name, no request
            emu.reset()
            r = m.run(["ls", "-l", m.p(directory)], timeout=BOUND_S)
            assert r.returncode == 0, r.stderr
            assert len(r.stdout.splitlines()) == len(names) + 1
            assert api_requests(emu) == {}
        # the mount still answers after the hostile listing
        assert sorted(os.listdir(m.path)) == ["iotda", "rfs"]


def test_bad_names_in_a_short_iotda_page_are_dropped():
    """With few packages the fake ids (`../../etc/passwd`, `evil/name`,
    `..`) fit in a page: they are dropped, the real ones all shown, and
    nothing can be deleted through them."""
    with Emulator(packages=10) as e:
        ids = {p["package_id"] for p in e.state(brief=True)["packages"]}
        proc, _ = run_tool(e, "list", "iotda/packages")
        assert proc.returncode == 0
        e.faults(hostile="bad_names")
        e.reset()
        proc, _ = run_tool(e, "list", "iotda/packages")
        assert proc.returncode == 0, proc.stderr
        assert {x.split("\t")[0] for x in proc.stdout.splitlines()} == ids
        # three on the first page of each of the three types
        assert "iotda/packages: dropped 9 listed entries: 0 with a NUL " \
            "or bytes that are not UTF-8, 9 with a name that is not a " \
            "safe file name" in proc.stderr
        e.clear_faults()
        with mounted(e) as m:
            e.faults(hostile="bad_names")
            assert set(os.listdir(m.p("iotda/packages"))) == ids
            e.reset()
            r = m.run(["rm", "-f", m.p("iotda/packages", "evil")])
            assert r.returncode == 0
            assert e.stats()["deletes"] == []
            e.clear_faults()
