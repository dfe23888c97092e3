"""test_request_counts.py - the request counts of the benchmark's cases
(tests/bench/run.py, issue 5) at small sizes, so that a regression in what
hwcfs asks the cloud fails the normal suite. Counts are exact; no timing.

The IoTDA walk (docs/backend.md "Listings"), per package type (all three,
their rounds sent together): page 0 alone (limit 50, no marker); then
rounds of parallel pages at offsets 50..500 after the same (absent) marker,
and 0..500 after each later marker, each round asking for the pages
page.count says are left plus the short one that ends the walk; after a
full round that reached offset 500 the next marker is that round's last
page.marker. The walk stops at the first short page.
"""

import os
import time

import pytest

from conftest import requests_during
from rfs_kinds import KINDS

PACKAGES = "iotda/packages"
PAGE = 50
MAX_OFFSET = 500
FW, SW, MOD = "firmwarePackage", "softwarePackage", "modulePackage"
TYPES = (FW, SW, MOD)


def parallel_walk(n):
    """The pages the parallel walk asks for over one type of n packages:
    a list of rounds, each a list of (marker number, offset); marker 0 is
    "no marker", k the k-th marker taken from a full round."""
    rounds = [[(0, 0)]]
    fetched = min(n, PAGE)
    if fetched < PAGE:
        return rounds
    marker, offset = 0, PAGE
    while True:
        room = (MAX_OFFSET - offset) // PAGE + 1
        pages = min((n - fetched) // PAGE + 1, room)
        rounds.append([(marker, offset + p * PAGE) for p in range(pages)])
        full = True
        for _ in range(pages):
            got = min(PAGE, n - fetched)
            fetched += got
            if got < PAGE:
                full = False
                break
        if not full:
            return rounds
        offset += pages * PAGE
        if offset > MAX_OFFSET:
            marker, offset = marker + 1, 0


def sequential_walk(n):
    """Requests of -o no_parallel_list over one type: one page at a time,
    marker to marker, until the first short page."""
    return n // PAGE + 1


def test_walk_model_matches_the_documented_examples():
    # docs/backend.md: 600 a type cost 13 requests, three round trips.
    assert [len(r) for r in parallel_walk(600)] == [1, 10, 2]
    # 500 a type: page 0 and offsets 50..500, the last one empty.
    assert sum(len(r) for r in parallel_walk(500)) == 11
    assert parallel_walk(20) == [[(0, 0)]]
    # 10,000 packages (the benchmark): 101 a type in 11 round trips.
    assert [len(r) for r in parallel_walk(5000)] == [1, 10] + [11] * 8 + [2]


def list_pages(emulator, in_order=False):
    """(package_type, marker number, offset) of every list request in the
    log, sorted or (in_order) in the order they arrived; markers are
    numbered in the order they first appear per type, 0 for none."""
    pages, markers = [], {t: [] for t in TYPES}
    for e in emulator.stats()["log"]:
        if e["op"] != "iotda.list":
            continue
        p = e["params"]
        ptype = p["package_type"][0]
        marker = p.get("marker", [None])[0]
        assert p.get("limit") == ["50"], e
        if marker and marker not in markers[ptype]:
            markers[ptype].append(marker)
        number = markers[ptype].index(marker) + 1 if marker else 0
        pages.append((ptype, number, int(p.get("offset", ["0"])[0])))
    return pages if in_order else sorted(pages)


def per_type(emulator):
    """{package type: how many the emulator holds}, every type present."""
    counts = dict.fromkeys(TYPES, 0)
    for p in emulator.state(brief=True)["packages"]:
        counts[p["package_type"]] += 1
    return counts


def expected_pages(counts):
    return sorted((t, m, off) for t in TYPES
                  for rnd in parallel_walk(counts[t]) for m, off in rnd)


def round_of(counts):
    """{(type, marker number, offset): its round number} of the walk."""
    return {(t, m, off): k for t in TYPES
            for k, rnd in enumerate(parallel_walk(counts[t]))
            for m, off in rnd}


def ls_l(m, rel=PACKAGES):
    r = m.run(["ls", "-l", m.p(rel)])
    assert r.returncode == 0, r.stderr
    return r.stdout


# (packages, the types they take in turn, packages a type)
WALKS = [(40, None, {FW: 20, SW: 20, MOD: 0}),
         (600, None, {FW: 300, SW: 300, MOD: 0}),
         (1300, None, {FW: 650, SW: 650, MOD: 0}),
         (1000, TYPES, {FW: 334, SW: 333, MOD: 333}),
         (1650, TYPES, {FW: 550, SW: 550, MOD: 550}),
         (60, (MOD,), {FW: 0, SW: 0, MOD: 60})]


@pytest.mark.parametrize("total,types,counts", WALKS)
def test_cold_ls_l_costs_only_the_parallel_walk(emulator, mount, total,
                                                types, counts):
    emulator.seed(packages=total, package_types=types)
    assert per_type(emulator) == counts
    m = mount()
    emulator.reset()
    out, delta = requests_during(emulator, lambda: ls_l(m))
    want = sum(len(r) for t in TYPES for r in parallel_walk(counts[t]))
    assert delta == {"iotda.list": want}
    assert list_pages(emulator) == expected_pages(counts)
    assert len(out.splitlines()) == total + 1  # "total N" first


@pytest.mark.parametrize("total,types,counts", WALKS)
def test_the_types_share_each_round(emulator, mount, total, types, counts):
    """Round k+1 of any type is planned after every answer of round k, so
    the emulator receives the rounds in order: the first round is one
    page of every type, and an empty type costs no round trip of its
    own."""
    emulator.seed(packages=total, package_types=types)
    m = mount()
    emulator.reset()
    ls_l(m)
    rounds = round_of(counts)
    order = [rounds[p] for p in list_pages(emulator, in_order=True)]
    assert order == sorted(order)
    assert order[:len(TYPES)] == [0] * len(TYPES)
    assert max(order) + 1 == max(len(parallel_walk(n))
                                 for n in counts.values())


def test_cold_ls_l_without_parallel_list_walks_one_page_at_a_time(
        emulator, mount):
    emulator.seed(packages=600)
    m = mount("no_parallel_list")
    emulator.reset()
    _, delta = requests_during(emulator, lambda: ls_l(m))
    # Module packages: none, one page to learn it.
    assert delta == {"iotda.list": 2 * sequential_walk(300) +
                     sequential_walk(0)}
    assert all(off == 0 for _, _, off in list_pages(emulator))


def test_refresh_makes_the_next_ls_l_cold_again(emulator, mount):
    emulator.seed(packages=600)
    m = mount()
    ls_l(m)
    r = m.run(["setfattr", "-n", "user.hwcfs.refresh", "-v", "1",
               m.p(PACKAGES)])
    assert r.returncode == 0, r.stderr
    # The kernel notices go out on the notifier thread, and nothing outside
    # the daemon shows when they are done: a fixed wait, not a condition.
    time.sleep(0.2)
    _, delta = requests_during(emulator, lambda: ls_l(m))
    assert delta == {"iotda.list": 2 * sum(len(r)
                                           for r in parallel_walk(300)) + 1}


def test_warm_ls_l_costs_no_request(emulator, mount):
    emulator.seed(packages=600)
    m = mount()
    first = ls_l(m)
    again, delta = requests_during(emulator, lambda: ls_l(m))
    assert delta == {}
    assert again == first


def test_warm_find_mtime_costs_no_request(emulator, mount):
    emulator.seed(packages=600)
    m = mount()
    ls_l(m)
    cmd = "find %s -type f -mtime +30 | wc -l" % m.p(PACKAGES)
    r, delta = requests_during(emulator, lambda: m.run(cmd))
    assert r.returncode == 0, r.stderr
    assert delta == {}
    now = time.time()
    # find -mtime +30: more than 30 whole days old.
    want = sum(1 for p in emulator.state(brief=True)["packages"]
               if (now - p["create_epoch"]) // 86400 > 30)
    assert int(r.stdout) == want
    assert 0 < want < 600


def test_xargs_rm_of_100_sends_exactly_100_deletes(emulator, mount):
    emulator.seed(packages=100)
    ids = sorted(p["package_id"] for p in emulator.state()["packages"])
    m = mount()
    ls_l(m)
    r, delta = requests_during(emulator, lambda: m.run(
        "ls | xargs -P 16 -n 5 rm", cwd=m.p(PACKAGES)))
    assert r.returncode == 0, r.stderr
    assert delta == {"iotda.delete": 100}
    deleted = sorted(d["resource"] for d in emulator.stats()["deletes"])
    assert deleted == ids
    assert os.listdir(m.p(PACKAGES)) == []
    assert emulator.state()["packages"] == []


def test_xargs_rm_outliving_cache_ttl_sends_only_deletes(emulator, mount):
    """The benchmark's bulk rm when the run outlives cache_ttl: names
    listed before it are looked up again by the kernel once their entries
    expire, and that costs no show (issue 10.8)."""
    ttl = 1
    emulator.seed(packages=100)
    m = mount("cache_ttl=%d" % ttl)
    names = sorted(os.listdir(m.p(PACKAGES)))
    listed = time.monotonic()
    rm = "xargs -P 16 -n 5 rm"
    r, early = requests_during(emulator, lambda: m.run(
        rm, cwd=m.p(PACKAGES), input="\n".join(names[:50])))
    assert r.returncode == 0, r.stderr
    # Lets cache_ttl (and the kernel's entry timeout) pass since the listing.
    time.sleep(max(0, listed + ttl + 1.2 - time.monotonic()))
    r, late = requests_during(emulator, lambda: m.run(
        rm, cwd=m.p(PACKAGES), input="\n".join(names[50:])))
    assert r.returncode == 0, r.stderr
    assert early == {"iotda.delete": 50}
    assert late == {"iotda.delete": 50}
    deleted = sorted(d["resource"] for d in emulator.stats()["deletes"])
    assert deleted == names
    assert emulator.state()["packages"] == []


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_rm_r_of_a_name_with_20_versions(emulator, mount, kind):
    """rm -r with nothing cached: one show of the name (its lookup; no
    fresh listing of rfs/KIND), one version listing (rm's readdir), the
    20 version deletes, one version listing with limit=10 (rmdir asks the
    cloud, never the cache, whether versions remain; templates are never
    paged), then the name's delete. For hooks and templates the version
    the API keeps is refused and the rmdir that follows rm -r costs what
    rm -r's own would have."""
    emulator.seed(**{kind.kind: 1, "versions": 20})
    obj = emulator.state()[kind.kind][0]
    name, rid = obj[kind.name_key], obj[kind.id_key]
    m = mount()
    emulator.reset()
    r, delta = requests_during(emulator, lambda: kind.rm_r(
        m.p(kind.dir, name)))
    assert (r[1] or r[0]).returncode == 0, r
    assert delta == {kind.op("show"): 1, kind.op("list_versions"): 2,
                     kind.op("delete_version"): 20, kind.op("delete"): 1}
    lists = [e for e in emulator.stats()["log"]
             if e["op"] == kind.op("list_versions")]
    assert lists[-1]["params"].get("limit") == \
        (["10"] if kind.paged else None)
    deletes = emulator.stats()["deletes"]
    assert [d["op"] for d in deletes] == \
        [kind.op("delete_version")] * 20 + [kind.op("delete")]
    assert all(d[kind.id_key] == rid for d in deletes)
    assert emulator.state()[kind.kind] == []


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_rm_r_after_ls_costs_no_show(emulator, mount, kind):
    """With rfs/KIND listed (fresh), the lookup is answered from the
    listing: the show request of the cold case disappears."""
    emulator.seed(**{kind.kind: 1, "versions": 20})
    name = emulator.state()[kind.kind][0][kind.name_key]
    m = mount()
    ls_l(m, kind.dir)
    r, delta = requests_during(emulator, lambda: kind.rm_r(
        m.p(kind.dir, name)))
    assert (r[1] or r[0]).returncode == 0, r
    assert delta == {kind.op("list_versions"): 2,
                     kind.op("delete_version"): 20, kind.op("delete"): 1}
