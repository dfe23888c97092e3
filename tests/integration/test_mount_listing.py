"""test_mount_listing.py - acceptance tests of issue 4, listings: `ls -l`
of 1,000 packages and 300 providers shows every entry with its size and
time for list requests only, a second `ls -l` within the TTL costs
nothing, `cat` and `getfattr` show the cloud's object, `find -mtime`
selects exactly the old entries."""

import os
import re
import time

import pytest

from rfs_kinds import KINDS
from mountlib import PACKAGES, PROVIDERS, assert_content_is, delta_of, \
    iotda_list_requests, iotda_walk_requests, ls_rows, mtime_of, \
    older_than, read_file, sh

LS_L = ["ls", "-l", "--time-style=+%s"]


def seeded(emulator, mount, **seed):
    """Seeds the emulator, mounts, and zeroes the counters (the mount's
    credential check is not the tests' business)."""
    emulator.seed(**seed)
    m = mount()
    emulator.reset()
    return m


def test_iotda_walk_formula_matches_the_documented_examples():
    # docs/backend.md: 600 a type cost 13 requests; a small type 1.
    assert iotda_walk_requests(600) == 13
    assert iotda_walk_requests(3) == 1
    assert iotda_walk_requests(500) == 11
    assert iotda_walk_requests(50) == 2


def test_ls_l_of_1000_packages_shows_every_size_and_mtime(emulator, mount):
    m = seeded(emulator, mount, packages=1000)
    r = sh(LS_L + [m.p(PACKAGES)])
    assert r.returncode == 0, r.stderr
    rows = ls_rows(r.stdout)
    state = {p["package_id"]: p for p in emulator.state()["packages"]}
    assert len(state) == 1000
    assert set(rows) == set(state)
    for pid, (mode, size, mtime) in rows.items():
        assert mode == "-rw-r--r--", pid
        assert mtime == mtime_of(state[pid]), pid
        data = read_file(m.p(PACKAGES, pid))
        assert size == len(data), pid


def test_ls_l_of_1000_packages_costs_one_list_per_page(emulator, mount):
    m = seeded(emulator, mount, packages=1000)
    want = iotda_list_requests(emulator)
    # 500 a type: page 0, then offsets 50..500; no module package: page 0
    assert want == 23
    r, delta = delta_of(emulator, lambda: sh(LS_L + [m.p(PACKAGES)]))
    assert r.returncode == 0, r.stderr
    assert delta == {"iotda.list": want, "total": want}
    # The three types, each page at most 50 records.
    log = [e for e in emulator.stats()["log"] if e["op"] == "iotda.list"]
    types = sorted(e["params"]["package_type"][0] for e in log)
    assert types == ["firmwarePackage"] * 11 + ["modulePackage"] + \
        ["softwarePackage"] * 11
    assert all(e["params"]["limit"] == ["50"] for e in log)


def test_ls_l_of_1200_packages_walks_past_offset_500(emulator, mount):
    m = seeded(emulator, mount, packages=1200)
    want = iotda_list_requests(emulator)
    assert want == 27
    r, delta = delta_of(emulator, lambda: sh(LS_L + [m.p(PACKAGES)]))
    assert r.returncode == 0, r.stderr
    assert delta == {"iotda.list": want, "total": want}
    assert len(ls_rows(r.stdout)) == 1200


def test_a_walk_past_one_round_lists_every_package_once(emulator, mount):
    """650 packages a type: more than the 550 a round reaches (offsets
    0..500), so the walk goes on from page.marker. The emulator keeps
    record ids (the markers) apart from package ids that look like them,
    so paging by a package_id would skip or repeat packages: every package
    shows exactly once, and the one marker sent per type is the record id
    of its 550th package."""
    m = seeded(emulator, mount, packages=1300)
    names, delta = delta_of(emulator, lambda: os.listdir(m.p(PACKAGES)))
    state = emulator.state(brief=True)["packages"]
    assert len(names) == len(set(names)) == 1300
    assert set(names) == {p["package_id"] for p in state}
    want = iotda_list_requests(emulator)
    assert delta == {"iotda.list": want, "total": want}
    sent = {(e["params"]["package_type"][0], e["params"]["marker"][0])
            for e in emulator.stats()["log"]
            if e["op"] == "iotda.list" and "marker" in e["params"]}
    records = {}
    for p in state:  # newest record first, the list's order
        records.setdefault(p["package_type"], []).append(p["record_id"])
    assert sent == {(t, rids[549]) for t, rids in records.items()}
    assert len(sent) == 2
    assert not {mk for _, mk in sent} & set(names)


def test_second_ls_l_within_ttl_sends_no_request(emulator, mount):
    m = seeded(emulator, mount, packages=1000, providers=300)
    for d in (PACKAGES, PROVIDERS):
        first = sh(LS_L + [m.p(d)])
        assert first.returncode == 0, first.stderr
        second, delta = delta_of(emulator, lambda: sh(LS_L + [m.p(d)]))
        assert second.returncode == 0, second.stderr
        assert delta == {}, d
        assert second.stdout == first.stdout


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_ls_l_of_300_names_shows_every_mtime(emulator, mount, kind):
    m = seeded(emulator, mount, **{kind.kind: 300})
    r = sh(LS_L + [m.p(kind.dir)])
    assert r.returncode == 0, r.stderr
    rows = ls_rows(r.stdout)
    state = kind.state(emulator)
    assert len(state) == 300
    assert set(rows) == set(state)
    for name, (mode, _, mtime) in rows.items():
        assert mode == "drwxr-xr-x", name
        assert mtime == mtime_of(state[name]), name


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_ls_l_of_300_names_costs_one_list_request(emulator, mount, kind):
    m = seeded(emulator, mount, **{kind.kind: 300})
    r, delta = delta_of(emulator, lambda: sh(LS_L + [m.p(kind.dir)]))
    assert r.returncode == 0, r.stderr
    assert delta == {kind.op("list"): 1, "total": 1}
    log = [e for e in emulator.stats()["log"] if e["op"] == kind.op("list")]
    # Templates are listed whole, and take no paging parameter.
    assert log[0]["params"].get("limit") == \
        (["1000"] if kind.paged else None)


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_ls_l_of_a_name_shows_every_version_size_and_mtime(emulator, mount,
                                                           kind):
    m = seeded(emulator, mount, **{kind.kind: 3, "versions": 4})
    assert sh(["ls", m.p(kind.dir)]).returncode == 0
    obj = emulator.state()[kind.kind][1]
    path = m.p(kind.dir, obj[kind.name_key])
    r, delta = delta_of(emulator, lambda: sh(LS_L + [path]))
    assert r.returncode == 0, r.stderr
    assert delta == {kind.op("list_versions"): 1, "total": 1}
    rows = ls_rows(r.stdout)
    want = {v[kind.version_key]: v for v in obj["versions"]}
    assert len(want) == 4 and set(rows) == set(want)
    for ver, (mode, size, mtime) in rows.items():
        assert mode == "-rw-r--r--"
        assert mtime == mtime_of(want[ver]), ver
        assert size == len(read_file(os.path.join(path, ver))), ver


def test_cat_of_every_package_is_the_emulators_object(emulator, mount):
    m = seeded(emulator, mount, packages=1000)
    assert sh(["ls", m.p(PACKAGES)]).returncode == 0
    state = emulator.state()["packages"]

    def cat_all():
        return {p["package_id"]: read_file(m.p(PACKAGES, p["package_id"]))
                for p in state}
    contents, delta = delta_of(emulator, cat_all)
    assert delta == {}  # served from the listing
    for p in state:
        data = contents[p["package_id"]]
        assert_content_is(data, p)
        assert os.stat(m.p(PACKAGES, p["package_id"])).st_size == len(data)


def test_cat_with_the_shell_equals_the_emulators_object(emulator, mount):
    m = seeded(emulator, mount, packages=5)
    for p in emulator.state()["packages"]:
        r = sh(["cat", m.p(PACKAGES, p["package_id"])])
        assert r.returncode == 0, r.stderr
        assert_content_is(r.stdout.encode("utf-8", "surrogateescape"), p)
        w = sh(["wc", "-c", m.p(PACKAGES, p["package_id"])])
        assert int(w.stdout.split()[0]) == len(r.stdout.encode())


def test_cat_of_a_version_is_the_emulators_object(emulator, mount):
    emulator.add_provider("hello", versions=["1.0.0", "1.2.3"],
                          age_days=20)
    m = mount()
    prov = emulator.state()["providers"][0]
    for v in prov["versions"]:
        path = m.p(PROVIDERS, "hello", v["provider_version"])
        data = read_file(path)
        assert_content_is(data, v)
        assert os.stat(path).st_size == len(data)


def getfattr_d(path):
    """{name: value} of `getfattr -d` (text values, quoted)."""
    r = sh(["getfattr", "-d", "--absolute-names", path])
    assert r.returncode == 0, r.stderr
    attrs = {}
    for line in r.stdout.splitlines():
        mo = re.match(r'^(user\.[^=]+)(?:="(.*)")?$', line)
        if mo:
            attrs[mo.group(1)] = mo.group(2) or ""
    return attrs


def test_getfattr_d_shows_user_hwc_fields_of_a_package(emulator, mount):
    m = seeded(emulator, mount, packages=2)
    p = emulator.state()["packages"][0]
    attrs = getfattr_d(m.p(PACKAGES, p["package_id"]))
    for field in ("package_id", "package_type", "product_id",
                  "product_name", "version", "description", "app_id",
                  "create_time"):
        assert attrs.get("user.hwc." + field) == p[field], field
    assert "user.hwc.support_source_versions" in attrs
    assert all(k.startswith("user.hwc.") for k in attrs)


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_getfattr_d_shows_the_id_on_a_name_and_a_version(emulator, mount,
                                                         kind):
    m = seeded(emulator, mount, **{kind.kind: 2, "versions": 1})
    obj = emulator.state()[kind.kind][0]
    name = obj[kind.name_key]
    attrs = getfattr_d(m.p(kind.dir, name))
    assert attrs["user.hwc." + kind.id_key] == obj[kind.id_key]
    assert attrs["user.hwc." + kind.name_key] == name
    ver = obj["versions"][0]
    vattrs = getfattr_d(m.p(kind.dir, name, ver[kind.version_key]))
    assert vattrs["user.hwc." + kind.id_key] == obj[kind.id_key]
    assert vattrs["user.hwc." + kind.version_key] == ver[kind.version_key]


def test_find_mtime_selects_exactly_the_old_packages(emulator, mount):
    m = seeded(emulator, mount, packages=1000)
    days = 99  # ages are 0.4 k + 0.2 days: no age near a day boundary
    r, delta = delta_of(emulator, lambda: sh(
        ["find", m.p(PACKAGES), "-type", "f", "-mtime", "+%d" % days,
         "-printf", "%f\\n"]))
    now = time.time()
    assert r.returncode == 0, r.stderr
    want = {p["package_id"] for p in emulator.state(brief=True)["packages"]
            if older_than(p["create_epoch"], days, now)}
    assert 700 < len(want) < 800  # ages spread evenly over 400 days
    assert set(r.stdout.split()) == want
    # Attributes came with the listing: no show request per entry.
    assert delta == {"iotda.list": 23, "total": 23}


def test_find_mtime_selects_exactly_the_old_providers(emulator, mount):
    m = seeded(emulator, mount, providers=300)
    days = 251  # ages are (4 k + 2) / 3 days: none within 8 h of 252
    r, delta = delta_of(emulator, lambda: sh(
        ["find", m.p(PROVIDERS), "-mindepth", "1", "-maxdepth", "1",
         "-mtime", "+%d" % days, "-printf", "%f\\n"]))
    now = time.time()
    assert r.returncode == 0, r.stderr
    want = {p["provider_name"] for p in emulator.state()["providers"]
            if older_than(p["create_epoch_ms"] / 1000, days, now)}
    assert 100 < len(want) < 150
    assert set(r.stdout.split()) == want
    assert delta == {"rfs.list_providers": 1, "total": 1}


def test_find_mtime_newer_selects_exactly_the_young_packages(emulator,
                                                             mount):
    m = seeded(emulator, mount, packages=40)
    r = sh(["find", m.p(PACKAGES), "-type", "f", "-mtime", "-30",
            "-printf", "%f\\n"])
    now = time.time()
    assert r.returncode == 0, r.stderr
    want = {p["package_id"] for p in emulator.state(brief=True)["packages"]
            if now - p["create_epoch"] < 30 * 86400}
    assert len(want) == 3  # ages 5, 15, 25 days (docs/emulator.md)
    assert set(r.stdout.split()) == want
