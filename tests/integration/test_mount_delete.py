"""test_mount_delete.py - acceptance tests of issue 4, deletes: `rm` of a
package or version sends exactly one DELETE, `rmdir` of a provider with
versions is ENOTEMPTY, `rm -r` deletes versions then the provider,
`find -mtime +N -delete` deletes exactly the old ones, `-o
rmdir_cascade`, ESTALE for a provider re-created behind hwcfs's back,
and every RFS DELETE carries the provider_id. Issue 13: the RFS tests
run for each of the four kinds (rfs_kinds.py)."""

import errno
import os
import time

import pytest

from rfs_kinds import KINDS
from mountlib import MESSAGES, PACKAGES, PROVIDERS, delta_of, deletes, \
    errno_of, older_than, package_ids, providers, sh


def test_rm_package_sends_exactly_one_delete(emulator, mount):
    emulator.seed(packages=10)
    m = mount()
    victim = sorted(package_ids(emulator))[3]
    assert victim in os.listdir(m.p(PACKAGES))
    emulator.reset()
    r, delta = delta_of(emulator, lambda: sh(["rm", m.p(PACKAGES, victim)]))
    assert r.returncode == 0, r.stderr
    assert delta == {"iotda.delete": 1, "total": 1}
    assert [(d["op"], d["resource"], d["status"])
            for d in deletes(emulator)] == [("iotda.delete", victim, 204)]
    assert victim not in package_ids(emulator)
    assert len(package_ids(emulator)) == 9


def test_rm_package_is_gone_from_the_next_ls(emulator, mount):
    emulator.seed(packages=10)
    m = mount()
    victim = sorted(package_ids(emulator))[5]
    assert victim in sh(["ls", m.p(PACKAGES)]).stdout.split()
    assert sh(["rm", m.p(PACKAGES, victim)]).returncode == 0
    r, delta = delta_of(emulator, lambda: sh(["ls", m.p(PACKAGES)]))
    assert r.returncode == 0, r.stderr
    assert set(r.stdout.split()) == package_ids(emulator)
    assert victim not in r.stdout.split()
    # The delete updated the cached listing: nothing asked again.
    assert delta == {}
    assert errno_of(os.stat, m.p(PACKAGES, victim)) == errno.ENOENT


P = pytest.mark.parametrize("kind", KINDS, ids=str)


def rfs_deletes(emulator, kind):
    """The RFS DELETEs as (op, resource, the kind's id, status)."""
    return [(d["op"], d["resource"], d.get(kind.id_key), d["status"])
            for d in deletes(emulator)]


@P
def test_rm_version_sends_exactly_one_delete_with_its_id(emulator, mount,
                                                         kind):
    v = kind.versions
    kind.add(emulator, "hello", v)
    m = mount()
    rid = kind.id_of(emulator, "hello")
    assert v[1] in os.listdir(m.p(kind.dir, "hello"))
    emulator.reset()
    r, delta = delta_of(emulator, lambda: sh(
        ["rm", m.p(kind.dir, "hello", v[1])]))
    assert r.returncode == 0, r.stderr
    assert delta == {kind.op("delete_version"): 1, "total": 1}
    assert rfs_deletes(emulator, kind) == [
        (kind.op("delete_version"), "hello/" + v[1], rid, 204)]
    assert kind.version_names(emulator, "hello") == [v[0], v[2]]


@P
def test_rm_version_is_gone_from_the_next_ls(emulator, mount, kind):
    v = kind.versions
    kind.add(emulator, "hello", v[:2])
    m = mount()
    assert sorted(os.listdir(m.p(kind.dir, "hello"))) == list(v[:2])
    assert sh(["rm", m.p(kind.dir, "hello", v[1])]).returncode == 0
    r, delta = delta_of(emulator, lambda: sh(["ls", m.p(kind.dir, "hello")]))
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [v[0]]
    assert delta == {}


@P
def test_rmdir_of_a_name_with_versions_is_enotempty(emulator, mount, kind):
    kind.add(emulator, "keep-me", kind.versions[:2])
    m = mount()
    assert "keep-me" in os.listdir(m.p(kind.dir))
    before = kind.state(emulator)["keep-me"]
    emulator.reset()
    r = sh(["rmdir", m.p(kind.dir, "keep-me")])
    assert r.returncode == 1
    assert MESSAGES[errno.ENOTEMPTY] in r.stderr, r.stderr
    assert deletes(emulator) == []
    assert kind.state(emulator)["keep-me"] == before
    assert errno_of(os.rmdir, m.p(kind.dir, "keep-me")) == errno.ENOTEMPTY


@P
def test_rmdir_asks_the_cloud_not_the_cache_for_versions(emulator, mount,
                                                         kind):
    # Listed empty (but for the version the API keeps), then a version
    # appears behind hwcfs's back: the emptiness check must still see it.
    kind.add(emulator, "late", kind.base)
    m = mount()
    assert os.listdir(m.p(kind.dir, "late")) == list(kind.base)
    kind.add_version(emulator, "late", kind.versions[1])
    r = sh(["rmdir", m.p(kind.dir, "late")])
    assert r.returncode == 1
    assert MESSAGES[errno.ENOTEMPTY] in r.stderr, r.stderr
    assert deletes(emulator) == []
    assert "late" in kind.state(emulator)


@P
def test_rmdir_of_an_empty_name_sends_one_delete(emulator, mount, kind):
    # Empty but for the version the API keeps: it goes with the name.
    kind.add(emulator, "empty-one", kind.base)
    m = mount()
    rid = kind.id_of(emulator, "empty-one")
    assert "empty-one" in os.listdir(m.p(kind.dir))
    r = sh(["rmdir", m.p(kind.dir, "empty-one")])
    assert r.returncode == 0, r.stderr
    assert rfs_deletes(emulator, kind) == [
        (kind.op("delete"), "empty-one", rid, 204)]
    assert "empty-one" not in os.listdir(m.p(kind.dir))
    assert "empty-one" not in kind.state(emulator)


@P
def test_rm_r_deletes_versions_then_the_name(emulator, mount, kind):
    v = kind.versions
    kind.add(emulator, "goner", v)
    kind.add(emulator, "bystander", v[:1])
    m = mount()
    rid = kind.id_of(emulator, "goner")
    emulator.reset()
    r, rmdir = kind.rm_r(m.p(kind.dir, "goner"))
    if rmdir is not None:
        assert rmdir.returncode == 0, rmdir.stderr
    else:
        assert r.returncode == 0, r.stderr
    log = rfs_deletes(emulator, kind)
    assert [d[0] for d in log] == [kind.op("delete_version")] * 3 + \
        [kind.op("delete")]
    assert sorted(d[1] for d in log[:3]) == ["goner/" + x for x in v]
    assert log[3][1] == "goner"
    assert all(d[2] == rid for d in log)
    # The one the API keeps is refused, then goes with the name.
    refused = [d[1] for d in log if d[3] != 204]
    assert refused == {None: [], "first": ["goner/" + v[0]],
                       "last": ["goner/" + v[2]]}[kind.keeps]
    assert set(kind.state(emulator)) == {"bystander"}
    assert os.listdir(m.p(kind.dir)) == ["bystander"]


def test_find_mtime_delete_deletes_exactly_the_old_packages(emulator,
                                                            mount):
    emulator.seed(packages=40)  # ages 5, 15, ..., 395 days
    m = mount()
    now = time.time()
    old = {p["package_id"] for p in emulator.state(brief=True)["packages"]
           if older_than(p["create_epoch"], 30, now)}
    young = package_ids(emulator) - old
    assert len(old) == 37
    emulator.reset()
    r = sh(["find", m.p(PACKAGES), "-type", "f", "-mtime", "+30",
            "-delete"])
    assert r.returncode == 0, r.stderr
    log = deletes(emulator)
    assert sorted(d["resource"] for d in log) == sorted(old)
    assert all(d["op"] == "iotda.delete" and d["status"] == 204
               for d in log)
    assert package_ids(emulator) == young
    assert set(os.listdir(m.p(PACKAGES))) == young


def test_find_mtime_delete_removes_old_providers_with_versions(emulator,
                                                               mount):
    for i, age in enumerate((10, 200, 300)):
        emulator.add_provider("prov-%d" % i, versions=["1.0.0", "1.1.0"],
                              age_days=age)
    m = mount()
    emulator.reset()
    # -delete implies -depth: versions first, then their directory.
    r = sh(["find", m.p(PROVIDERS), "-mindepth", "1", "-mtime", "+100",
            "-delete"])
    assert r.returncode == 0, r.stderr
    log = deletes(emulator)
    assert sorted(d["resource"] for d in log) == sorted(
        ["prov-1", "prov-1/1.0.0", "prov-1/1.1.0",
         "prov-2", "prov-2/1.0.0", "prov-2/1.1.0"])
    for name in ("prov-1", "prov-2"):
        mine = [d["op"] for d in log if d["resource"].split("/")[0] == name]
        assert mine[-1] == "rfs.delete_provider"
    assert set(providers(emulator)) == {"prov-0"}


@P
def test_rmdir_cascade_deletes_the_name_and_versions_in_one_delete(
        emulator, mount, kind):
    kind.add(emulator, "cascade", kind.versions)
    m = mount("rmdir_cascade")
    rid = kind.id_of(emulator, "cascade")
    assert "cascade" in os.listdir(m.p(kind.dir))
    emulator.reset()
    r, delta = delta_of(emulator, lambda: sh(
        ["rmdir", m.p(kind.dir, "cascade")]))
    assert r.returncode == 0, r.stderr
    assert rfs_deletes(emulator, kind) == [
        (kind.op("delete"), "cascade", rid, 204)]
    assert delta == {kind.op("delete"): 1, "total": 1}
    assert "cascade" not in kind.state(emulator)
    assert "cascade" not in os.listdir(m.p(kind.dir))


@P
def test_rmdir_of_a_name_recreated_behind_our_back_is_estale(emulator, mount,
                                                             kind):
    kind.add(emulator, "phoenix", kind.base)
    m = mount()
    assert "phoenix" in os.listdir(m.p(kind.dir))
    old_id = kind.id_of(emulator, "phoenix")
    kind.delete(emulator, "phoenix")
    kind.add(emulator, "phoenix", kind.base)
    new_id = kind.id_of(emulator, "phoenix")
    assert new_id != old_id
    emulator.reset()
    r = sh(["rmdir", m.p(kind.dir, "phoenix")])
    assert r.returncode == 1
    assert MESSAGES[errno.ESTALE] in r.stderr, r.stderr
    # The new one is untouched; whatever was sent named the old id.
    assert kind.id_of(emulator, "phoenix") == new_id
    assert all(d[2] == old_id and d[3] == 400
               for d in rfs_deletes(emulator, kind))
    log = emulator.stats()["log"]
    assert any(e["params"].get(kind.id_key) == [old_id] for e in log)
    for e in log:
        assert e["params"].get(kind.id_key, [old_id]) == [old_id]


@P
def test_rm_r_of_a_recreated_name_with_versions_is_estale(emulator, mount,
                                                          kind):
    v = kind.versions[:1]
    kind.add(emulator, "phoenix", v)
    m = mount()
    assert os.listdir(m.p(kind.dir, "phoenix")) == list(v)
    kind.delete(emulator, "phoenix")
    kind.add(emulator, "phoenix", v)
    new = kind.state(emulator)["phoenix"]
    emulator.reset()
    r = sh(["rm", "-r", m.p(kind.dir, "phoenix")])
    assert r.returncode == 1
    assert MESSAGES[errno.ESTALE] in r.stderr, r.stderr
    assert kind.state(emulator)["phoenix"] == new
    assert all(d[3] == 400 for d in rfs_deletes(emulator, kind))


@P
def test_every_rfs_delete_carries_the_names_id(emulator, mount, kind):
    v = kind.versions
    kind.add(emulator, "a-prov", v[:2])
    kind.add(emulator, "b-prov", v[:1])
    m = mount()
    ids = {n: o[kind.id_key] for n, o in kind.state(emulator).items()}
    emulator.reset()
    assert sh(["rm", m.p(kind.dir, "a-prov", v[1])]).returncode == 0
    kind.rm_r(m.p(kind.dir, "b-prov"))
    assert "b-prov" not in kind.state(emulator)
    log = rfs_deletes(emulator, kind)
    assert len(log) == 3
    for d in log:
        assert d[2] == ids[d[1].split("/")[0]], d
    for e in emulator.stats()["log"]:
        if e["method"] == "DELETE":
            assert len(e["params"][kind.id_key]) == 1


# Issue 10.8: a package is deleted by its id alone, so `rm` of one whose
# cached entry expired costs its DELETE and nothing else. TTL is the
# cache_ttl of these mounts; WAIT outlives it and the kernel's timeouts.
TTL = 1
WAIT = TTL + 1.2


def test_rm_after_cache_ttl_sends_only_the_deletes(emulator, mount):
    emulator.seed(packages=10)
    m = mount("cache_ttl=%d" % TTL)
    victims = sorted(package_ids(emulator))[:5]
    assert set(victims) <= set(os.listdir(m.p(PACKAGES)))
    time.sleep(WAIT)
    # A name that cannot be a package id costs nothing, as before.
    r, delta = delta_of(emulator, lambda: sh(
        ["rm"] + [m.p(PACKAGES, v) for v in victims] +
        [m.p(PACKAGES, "not_a_package!")]))
    assert r.returncode == 1
    assert r.stderr.count(MESSAGES[errno.ENOENT]) == 1, r.stderr
    assert delta == {"iotda.delete": 5, "total": 5}
    assert [d["resource"] for d in deletes(emulator)] == victims
    assert package_ids(emulator).isdisjoint(victims)
    assert set(os.listdir(m.p(PACKAGES))) == package_ids(emulator)


def test_rm_after_cache_ttl_of_a_package_deleted_elsewhere_is_enoent(
        emulator, mount):
    emulator.seed(packages=3)
    m = mount("cache_ttl=%d" % TTL)
    gone = sorted(os.listdir(m.p(PACKAGES)))[0]
    emulator.delete_package(gone)
    time.sleep(WAIT)
    emulator.reset()
    # The DELETE alone decides: its 404 is rm's ENOENT.
    r, delta = delta_of(emulator, lambda: sh(["rm", m.p(PACKAGES, gone)]))
    assert r.returncode == 1
    assert MESSAGES[errno.ENOENT] in r.stderr, r.stderr
    assert delta == {"iotda.delete": 1, "total": 1}
    assert [d["status"] for d in deletes(emulator)] == [404]
    # A name the mount never knew is asked about (one show), not deleted.
    never = "0" * 24
    r, delta = delta_of(emulator, lambda: sh(["rm", m.p(PACKAGES, never)]))
    assert MESSAGES[errno.ENOENT] in r.stderr, r.stderr
    assert delta == {"iotda.show": 1, "total": 1}


def test_expired_answer_is_trusted_for_one_second_only(emulator, mount):
    emulator.seed(packages=3)
    m = mount("cache_ttl=%d" % TTL)
    a, b, _ = sorted(os.listdir(m.p(PACKAGES)))
    emulator.delete_package(a)
    emulator.delete_package(b)
    time.sleep(WAIT)
    # stat after cache_ttl is answered from the listing, once, for 1 s...
    _, delta = delta_of(emulator, lambda: os.stat(m.p(PACKAGES, a)))
    assert delta == {}
    time.sleep(1.2)
    # ...then the cloud is asked, and says what it holds.
    err, delta = delta_of(emulator,
                          lambda: errno_of(os.stat, m.p(PACKAGES, a)))
    assert err == errno.ENOENT
    assert delta == {"iotda.show": 1, "total": 1}
    # Reading never uses an expired answer.
    os.stat(m.p(PACKAGES, b))
    err, delta = delta_of(emulator,
                          lambda: errno_of(open, m.p(PACKAGES, b)))
    assert err == errno.ENOENT
    assert delta == {"iotda.show": 1, "total": 1}
    # The kernel notices go out on the notifier thread, and nothing outside
    # the daemon shows when they are done: a fixed wait, not a condition.
    time.sleep(0.2)
    assert errno_of(os.stat, m.p(PACKAGES, b)) == errno.ENOENT
