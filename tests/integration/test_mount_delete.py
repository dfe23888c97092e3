"""test_mount_delete.py - acceptance tests of issue 4, deletes: `rm` of a
package or version sends exactly one DELETE, `rmdir` of a provider with
versions is ENOTEMPTY, `rm -r` deletes versions then the provider,
`find -mtime +N -delete` deletes exactly the old ones, `-o
rmdir_cascade`, ESTALE for a provider re-created behind hwcfs's back,
and every RFS DELETE carries the provider_id."""

import errno
import os
import time

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


def test_rm_version_sends_exactly_one_delete_with_provider_id(emulator,
                                                              mount):
    emulator.add_provider("hello", versions=["1.0.0", "1.2.3", "2.0.0"])
    m = mount()
    pid = providers(emulator)["hello"]["provider_id"]
    assert "1.2.3" in os.listdir(m.p(PROVIDERS, "hello"))
    emulator.reset()
    r, delta = delta_of(emulator, lambda: sh(
        ["rm", m.p(PROVIDERS, "hello", "1.2.3")]))
    assert r.returncode == 0, r.stderr
    assert delta == {"rfs.delete_version": 1, "total": 1}
    assert deletes(emulator) == [{"op": "rfs.delete_version",
                                  "resource": "hello/1.2.3",
                                  "provider_id": pid, "status": 204}]
    left = [v["provider_version"] for v in providers(emulator)["hello"]
            ["versions"]]
    assert sorted(left) == ["1.0.0", "2.0.0"]


def test_rm_version_is_gone_from_the_next_ls(emulator, mount):
    emulator.add_provider("hello", versions=["1.0.0", "1.2.3"])
    m = mount()
    assert sorted(os.listdir(m.p(PROVIDERS, "hello"))) == ["1.0.0", "1.2.3"]
    assert sh(["rm", m.p(PROVIDERS, "hello", "1.0.0")]).returncode == 0
    r, delta = delta_of(emulator, lambda: sh(["ls", m.p(PROVIDERS, "hello")]))
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["1.2.3"]
    assert delta == {}


def test_rmdir_provider_with_versions_is_enotempty(emulator, mount):
    emulator.add_provider("keep-me", versions=["1.0.0", "1.0.1"])
    m = mount()
    assert "keep-me" in os.listdir(m.p(PROVIDERS))
    before = providers(emulator)["keep-me"]
    emulator.reset()
    r = sh(["rmdir", m.p(PROVIDERS, "keep-me")])
    assert r.returncode == 1
    assert MESSAGES[errno.ENOTEMPTY] in r.stderr, r.stderr
    assert deletes(emulator) == []
    assert providers(emulator)["keep-me"] == before
    assert errno_of(os.rmdir, m.p(PROVIDERS, "keep-me")) == errno.ENOTEMPTY


def test_rmdir_asks_the_cloud_not_the_cache_for_versions(emulator, mount):
    # Listed empty, then a version appears behind hwcfs's back: the
    # emptiness check must still see it.
    emulator.add_provider("late")
    m = mount()
    assert os.listdir(m.p(PROVIDERS, "late")) == []
    emulator.add_version("late", "1.0.0")
    r = sh(["rmdir", m.p(PROVIDERS, "late")])
    assert r.returncode == 1
    assert MESSAGES[errno.ENOTEMPTY] in r.stderr, r.stderr
    assert deletes(emulator) == []
    assert "late" in providers(emulator)


def test_rmdir_empty_provider_sends_one_delete(emulator, mount):
    emulator.add_provider("empty-one")
    m = mount()
    pid = providers(emulator)["empty-one"]["provider_id"]
    assert "empty-one" in os.listdir(m.p(PROVIDERS))
    r = sh(["rmdir", m.p(PROVIDERS, "empty-one")])
    assert r.returncode == 0, r.stderr
    assert deletes(emulator) == [{"op": "rfs.delete_provider",
                                  "resource": "empty-one",
                                  "provider_id": pid, "status": 204}]
    assert "empty-one" not in os.listdir(m.p(PROVIDERS))


def test_rm_r_provider_deletes_versions_then_provider(emulator, mount):
    emulator.add_provider("goner", versions=["1.0.0", "1.0.1", "2.0.0"])
    emulator.add_provider("bystander", versions=["1.0.0"])
    m = mount()
    pid = providers(emulator)["goner"]["provider_id"]
    emulator.reset()
    r = sh(["rm", "-r", m.p(PROVIDERS, "goner")])
    assert r.returncode == 0, r.stderr
    log = deletes(emulator)
    assert [d["op"] for d in log] == ["rfs.delete_version"] * 3 + \
        ["rfs.delete_provider"]
    assert sorted(d["resource"] for d in log[:3]) == \
        ["goner/1.0.0", "goner/1.0.1", "goner/2.0.0"]
    assert log[3]["resource"] == "goner"
    assert all(d["provider_id"] == pid and d["status"] == 204 for d in log)
    assert set(providers(emulator)) == {"bystander"}
    assert os.listdir(m.p(PROVIDERS)) == ["bystander"]


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


def test_rmdir_cascade_deletes_provider_and_versions_in_one_delete(
        emulator, mount):
    emulator.add_provider("cascade", versions=["1.0.0", "2.0.0", "3.0.0"])
    m = mount("rmdir_cascade")
    pid = providers(emulator)["cascade"]["provider_id"]
    assert "cascade" in os.listdir(m.p(PROVIDERS))
    emulator.reset()
    r, delta = delta_of(emulator, lambda: sh(
        ["rmdir", m.p(PROVIDERS, "cascade")]))
    assert r.returncode == 0, r.stderr
    assert deletes(emulator) == [{"op": "rfs.delete_provider",
                                  "resource": "cascade",
                                  "provider_id": pid, "status": 204}]
    assert delta == {"rfs.delete_provider": 1, "total": 1}
    assert "cascade" not in providers(emulator)
    assert "cascade" not in os.listdir(m.p(PROVIDERS))


def test_rmdir_of_provider_recreated_behind_our_back_is_estale(emulator,
                                                               mount):
    emulator.add_provider("phoenix")
    m = mount()
    assert "phoenix" in os.listdir(m.p(PROVIDERS))
    old_id = providers(emulator)["phoenix"]["provider_id"]
    emulator.delete_provider("phoenix")
    emulator.add_provider("phoenix")
    new_id = providers(emulator)["phoenix"]["provider_id"]
    assert new_id != old_id
    emulator.reset()
    r = sh(["rmdir", m.p(PROVIDERS, "phoenix")])
    assert r.returncode == 1
    assert MESSAGES[errno.ESTALE] in r.stderr, r.stderr
    # The new provider is untouched; whatever was sent named the old id.
    assert providers(emulator)["phoenix"]["provider_id"] == new_id
    assert all(d["provider_id"] == old_id and d["status"] == 400
               for d in deletes(emulator))
    log = emulator.stats()["log"]
    assert any(e["params"].get("provider_id") == [old_id] for e in log)
    for e in log:
        assert e["params"].get("provider_id", [old_id]) == [old_id]


def test_rm_r_of_recreated_provider_with_versions_is_estale(emulator,
                                                            mount):
    emulator.add_provider("phoenix", versions=["1.0.0"])
    m = mount()
    assert os.listdir(m.p(PROVIDERS, "phoenix")) == ["1.0.0"]
    emulator.delete_provider("phoenix")
    emulator.add_provider("phoenix", versions=["1.0.0"])
    new = providers(emulator)["phoenix"]
    emulator.reset()
    r = sh(["rm", "-r", m.p(PROVIDERS, "phoenix")])
    assert r.returncode == 1
    assert MESSAGES[errno.ESTALE] in r.stderr, r.stderr
    assert providers(emulator)["phoenix"] == new
    assert all(d["status"] == 400 for d in deletes(emulator))


def test_every_rfs_delete_carries_the_provider_id(emulator, mount):
    emulator.add_provider("a-prov", versions=["1.0.0", "1.0.1"])
    emulator.add_provider("b-prov", versions=["1.0.0"])
    m = mount()
    ids = {n: p["provider_id"] for n, p in providers(emulator).items()}
    emulator.reset()
    assert sh(["rm", m.p(PROVIDERS, "a-prov", "1.0.1")]).returncode == 0
    assert sh(["rm", "-r", m.p(PROVIDERS, "b-prov")]).returncode == 0
    log = deletes(emulator)
    assert len(log) == 3
    for d in log:
        assert d["provider_id"] == ids[d["resource"].split("/")[0]], d
    for e in emulator.stats()["log"]:
        if e["method"] == "DELETE":
            assert len(e["params"]["provider_id"]) == 1


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
