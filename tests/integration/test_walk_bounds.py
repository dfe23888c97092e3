"""test_walk_bounds.py - listings a hostile server cannot stretch, and
deletes it cannot trick (issue 11, items 3, 4, 5 and 7): endless pages of
fresh names end with EIO within the shared listing bound (100,000 entries,
64 MiB) and a bounded daemon peak; a page that adds no new name while
naming a next one (repeats, or an empty page) is EIO; a `next_marker` that is too long, not a string
or empty is EIO, while null or absent ends the listing; a version listed
without its provider_id is never deleted; `rmdir` does not take an empty
page that names a next one as proof that a provider has no versions.
First through backend_tool, then through the mount."""

import errno
import os
import re

import pytest

from emulator.harness import Emulator
from harden_util import ASAN_SMALL_QUARANTINE, NORMAL_WALKS, PEAK_MIB, \
    api_requests, daemon_peak_mib, expected_names, mounted, run_tool, \
    tool_errno, tool_list_hostile

PROVIDERS = 1500  # two RFS pages of 1000
VERSIONS = 3
# A hostile listing must end well within this (seconds); generous, since
# CI machines are shared. The request counts below are the real bound.
BOUND_S = 120
# The real walks, for comparison (harden_util.NORMAL_WALKS).
NORMAL = NORMAL_WALKS
EIO = errno.EIO
# knob -> directory -> (errno or 0, {op: exact requests})
EXPECT = {
    # 1,000 fresh names a page: the 101st page passes 100,000 entries.
    # IoTDA, three types: 50 a page; page 0 and 10 more a type bring
    # 1,650, then rounds of 11 pages a type 1,650 each: 60 of them pass
    # 100,000.
    "endless_pages": {
        "iotda/packages": (EIO, {"iotda.list": 3 + 30 + 60 * 33}),
        "rfs/providers": (EIO, {"rfs.list_providers": 101}),
        "rfs/providers/vprov": (EIO, {"rfs.list_versions": 101})},
    # 24 KiB entries: 64 MiB is some 2,700 of them: the third RFS page,
    # IoTDA's third round (page 0, 10 and 11 pages of each type).
    "endless_fat_pages": {
        "iotda/packages": (EIO, {"iotda.list": 3 + 30 + 33}),
        "rfs/providers": (EIO, {"rfs.list_providers": 3}),
        "rfs/providers/vprov": (EIO, {"rfs.list_versions": 3})},
    # the first page again under fresh markers: the first repeat adds no
    # new name: EIO. IoTDA: page 0 of each type, then a round of 10 pages
    # of each type that has a full page 0, which all repeat page 0 (the
    # module type has none: its page 0 ends it).
    "repeat_pages": {
        "iotda/packages": (EIO, {"iotda.list": 3 + 20}),
        "rfs/providers": (EIO, {"rfs.list_providers": 2}),
        "rfs/providers/vprov": (EIO, {"rfs.list_versions": 2})},
    # an empty page that names a next one adds nothing: EIO at once
    "empty_page_more": dict(NORMAL, **{
        "rfs/providers": (EIO, {"rfs.list_providers": 1}),
        "rfs/providers/vprov": (EIO, {"rfs.list_versions": 1})}),
    # null means the end, as absent does
    "next_marker_null": NORMAL,
    # "" cannot be sent back (no marker is the first page): EIO
    "next_marker_empty": dict(NORMAL, **{
        "rfs/providers": (EIO, {"rfs.list_providers": 2}),
        "rfs/providers/vprov": (EIO, {"rfs.list_versions": 1})}),
    # 513 characters, or a number: EIO, never a short listing
    "next_marker_long": dict(NORMAL, **{
        "rfs/providers": (EIO, {"rfs.list_providers": 1}),
        "rfs/providers/vprov": (EIO, {"rfs.list_versions": 1})}),
    "next_marker_number": dict(NORMAL, **{
        "rfs/providers": (EIO, {"rfs.list_providers": 1}),
        "rfs/providers/vprov": (EIO, {"rfs.list_versions": 1})}),
    # entries without provider_id are listed (and never deleted: below)
    "no_provider_id": NORMAL,
}
CASES = [(k, d) for k in EXPECT for d in EXPECT[k]]
# The one line a walk that gives up writes.
GIVE_UP = re.compile(r"giving up")


@pytest.fixture(scope="module")
def emu():
    e = Emulator(packages=1200, providers=PROVIDERS)
    e.start()
    try:
        e.add_provider("vprov", versions=["1.0.%d" % i
                                          for i in range(VERSIONS)])
        e.add_provider("empty")
        yield e
    finally:
        e.stop()


@pytest.mark.parametrize("knob,directory", CASES)
def test_backend_tool_walk_bounds(emu, knob, directory):
    want_errno, want_requests = EXPECT[knob][directory]
    names = expected_names(emu, directory, VERSIONS)
    proc, _ = tool_list_hostile(emu, knob, directory, want_errno,
                                want_requests, names, timeout=BOUND_S)
    # a walk that gives up says so once
    assert len([x for x in proc.stderr.splitlines() if GIVE_UP.search(x)]) \
        == (1 if want_errno else 0), proc.stderr[-2000:]


@pytest.mark.parametrize("knob,directory", CASES)
def test_mount_walk_bounds(emu, knob, directory):
    want_errno, want_requests = EXPECT[knob][directory]
    names = expected_names(emu, directory, VERSIONS)
    emu.clear_faults()
    with mounted(emu, "cache_ttl=30",
                 env={"ASAN_OPTIONS": ASAN_SMALL_QUARANTINE}) as m:
        if directory.startswith("rfs/providers/"):
            os.stat(m.p(directory))  # looked up before the fault
        emu.faults(hostile=knob)
        emu.reset()
        logged = len(GIVE_UP.findall(m.stderr))
        try:
            listed = os.listdir(m.p(directory))
            err = 0
        except OSError as e:
            listed, err = None, e.errno
        got = api_requests(emu)
        emu.clear_faults()
        peak = daemon_peak_mib(m.pid)
        print("mount %s %s: %s, %s, peak %s MiB" % (
            knob, directory, errno.errorcode.get(err, "ok"), got, peak))
        assert err == want_errno
        assert got == want_requests
        assert peak is None or peak < PEAK_MIB
        assert len(GIVE_UP.findall(m.stderr)) - logged == \
            (1 if want_errno else 0)
        if not want_errno:
            assert len(listed) == len(set(listed))
            assert set(listed) == names
        # the mount still answers after the hostile listing
        assert sorted(os.listdir(m.path)) == ["iotda", "rfs"]


def test_version_without_provider_id_is_never_deleted(emu):
    """rm of a version and rmdir of a provider listed without a
    provider_id are both EINVAL, and no DELETE is sent for either."""
    emu.clear_faults()
    emu.faults(hostile="no_provider_id")
    emu.reset()
    proc, _ = run_tool(emu, "delete", "rfs/providers/vprov/1.0.1")
    assert tool_errno(proc) == "EINVAL", proc.stderr
    proc, _ = run_tool(emu, "delete", "rfs/providers/empty")
    assert tool_errno(proc) == "EINVAL", proc.stderr
    assert emu.stats()["deletes"] == []
    with mounted(emu, "cache_ttl=30") as m:
        assert "1.0.1" in os.listdir(m.p("rfs/providers/vprov"))
        assert "empty" in os.listdir(m.p("rfs/providers"))
        emu.reset()
        for fn, path in ((os.unlink, "rfs/providers/vprov/1.0.1"),
                         (os.rmdir, "rfs/providers/empty")):
            with pytest.raises(OSError) as e:
                fn(m.p(path))
            assert e.value.errno == errno.EINVAL, path
        assert emu.stats()["deletes"] == []
        assert api_requests(emu) == {}
        emu.clear_faults()
        assert "without its provider_id" in m.stderr
    state = {p["provider_name"]: p for p in emu.state()["providers"]}
    assert "empty" in state
    assert len(state["vprov"]["versions"]) == VERSIONS


def test_rmdir_does_not_believe_an_empty_page_with_a_next_marker(emu):
    """The emptiness check's answer is an empty page that names a next
    one: rmdir is ENOTEMPTY, no DELETE is sent, the provider and its
    versions are still there."""
    emu.clear_faults()
    with mounted(emu, "cache_ttl=30") as m:
        os.stat(m.p("rfs/providers/vprov"))  # looked up before the fault
        emu.faults(hostile="empty_page_more")
        emu.reset()
        with pytest.raises(OSError) as e:
            os.rmdir(m.p("rfs/providers/vprov"))
        assert e.value.errno == errno.ENOTEMPTY
        assert api_requests(emu) == {"rfs.list_versions": 1}
        assert emu.stats()["deletes"] == []
        emu.clear_faults()
    state = {p["provider_name"]: p for p in emu.state()["providers"]}
    assert len(state["vprov"]["versions"]) == VERSIONS
