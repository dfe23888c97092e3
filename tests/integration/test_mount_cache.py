"""test_mount_cache.py - acceptance tests of issue 4, the cache as seen
through the mount: refresh of one directory with `setfattr -n
user.hwcfs.refresh`, SIGUSR2 dropping everything, changes behind
hwcfs's back shown after a refresh, negative entries, the TTL."""

import errno
import json
import os
import re
import signal
import time

import pytest

from mountlib import PACKAGES, PROVIDERS, delta_of, errno_of, \
    iotda_list_requests, package_ids, refresh, sh, wait_until

MISSING_ID = "0123456789abcdef01234567"  # a valid package id, not there
DROPPED = "SIGUSR2: dropping every cached entry"  # fs/fs.c's log line


def test_refresh_costs_exactly_one_new_list_on_next_ls(emulator, mount):
    emulator.seed(providers=20)
    m = mount()
    assert sh(["ls", "-l", m.p(PROVIDERS)]).returncode == 0
    emulator.reset()
    refresh(m.p(PROVIDERS))
    assert emulator.stats()["total"] == 0  # the refresh itself asks nothing
    r, delta = delta_of(emulator, lambda: sh(["ls", "-l", m.p(PROVIDERS)]))
    assert r.returncode == 0, r.stderr
    assert delta == {"rfs.list_providers": 1, "total": 1}
    _, delta = delta_of(emulator, lambda: sh(["ls", "-l", m.p(PROVIDERS)]))
    assert delta == {}


def test_refresh_of_packages_costs_one_walk(emulator, mount):
    emulator.seed(packages=300)
    m = mount()
    assert sh(["ls", "-l", m.p(PACKAGES)]).returncode == 0
    refresh(m.p(PACKAGES))
    walk = iotda_list_requests(emulator)
    r, delta = delta_of(emulator, lambda: sh(["ls", "-l", m.p(PACKAGES)]))
    assert r.returncode == 0, r.stderr
    assert delta == {"iotda.list": walk, "total": walk}


def test_refresh_drops_only_that_directory(emulator, mount):
    emulator.seed(packages=5, providers=5)
    m = mount()
    for d in (PACKAGES, PROVIDERS):
        assert sh(["ls", "-l", m.p(d)]).returncode == 0
    refresh(m.p(PROVIDERS))
    _, delta = delta_of(emulator, lambda: sh(["ls", "-l", m.p(PACKAGES)]))
    assert delta == {}


def test_refresh_on_a_file_is_allowed_and_refreshes_its_directory(emulator,
                                                                  mount):
    emulator.seed(packages=5)
    m = mount()
    pkg = sorted(os.listdir(m.p(PACKAGES)))[0]
    refresh(m.p(PACKAGES, pkg))
    _, delta = delta_of(emulator, lambda: os.listdir(m.p(PACKAGES)))
    assert delta == {"iotda.list": 3, "total": 3}


def test_package_added_behind_our_back_appears_after_refresh(emulator,
                                                             mount):
    emulator.seed(packages=5)
    m = mount()
    before = set(os.listdir(m.p(PACKAGES)))
    new = emulator.add_package(package_type="firmwarePackage",
                               age_days=1)["package_id"]
    # Within the TTL the cached listing stands.
    assert set(os.listdir(m.p(PACKAGES))) == before
    refresh(m.p(PACKAGES))
    after = set(os.listdir(m.p(PACKAGES)))
    assert after == before | {new}
    with open(m.p(PACKAGES, new), "rb") as f:
        assert new.encode() in f.read()


def test_provider_deleted_behind_our_back_goes_after_refresh(emulator,
                                                             mount):
    emulator.seed(providers=3)
    m = mount()
    names = sorted(os.listdir(m.p(PROVIDERS)))
    emulator.delete_provider(names[0])
    refresh(m.p(PROVIDERS))
    assert sorted(os.listdir(m.p(PROVIDERS))) == names[1:]
    assert errno_of(os.stat, m.p(PROVIDERS, names[0])) == errno.ENOENT


def test_version_added_behind_our_back_appears_after_refresh(emulator,
                                                             mount):
    emulator.add_provider("grows", versions=["1.0.0"])
    m = mount()
    assert os.listdir(m.p(PROVIDERS, "grows")) == ["1.0.0"]
    emulator.add_version("grows", "1.1.0")
    assert os.listdir(m.p(PROVIDERS, "grows")) == ["1.0.0"]
    refresh(m.p(PROVIDERS, "grows"))
    assert sorted(os.listdir(m.p(PROVIDERS, "grows"))) == ["1.0.0", "1.1.0"]


def test_sigusr2_drops_every_cached_listing(emulator, mount):
    emulator.seed(packages=5, providers=3, versions=2)
    m = mount()
    prov = sorted(os.listdir(m.p(PROVIDERS)))[0]
    for d in (PACKAGES, PROVIDERS, PROVIDERS + "/" + prov):
        assert sh(["ls", "-l", m.p(d)]).returncode == 0
    _, delta = delta_of(emulator, lambda: [sh(["ls", "-l", m.p(d)]) for d in
                                           (PACKAGES, PROVIDERS)])
    assert delta == {}
    new = emulator.add_package(package_type="softwarePackage",
                               age_days=2)["package_id"]
    emulator.reset()
    m.signal(signal.SIGUSR2)
    # The signal is handled on the daemon's own thread: wait until a
    # listing shows the package added behind its back.
    assert new in _wait_for_listing(m, PACKAGES, new)
    # One walk (three types, one page each), however many ls waited.
    assert emulator.stats()["requests"]["iotda.list"] == 3
    emulator.reset()
    for d, op in ((PROVIDERS, "rfs.list_providers"),
                  (PROVIDERS + "/" + prov, "rfs.list_versions")):
        _, delta = delta_of(emulator, lambda: sh(["ls", "-l", m.p(d)]))
        assert delta == {op: 1, "total": 1}, d


def _wait_for_listing(m, d, name, timeout=10.0):
    deadline = time.monotonic() + timeout
    names = []
    while time.monotonic() < deadline:
        names = os.listdir(m.p(d))
        if name in names:
            break
        time.sleep(0.1)
    return names


def test_sigusr2_leaves_the_mount_running(emulator, mount):
    emulator.seed(packages=3)
    m = mount()
    # One at a time, each waited for by its log line: signals sent at once
    # may merge into one.
    for n in range(1, 4):
        m.signal(signal.SIGUSR2)
        assert wait_until(lambda: m.stderr.count(DROPPED) >= n), m.stderr
    assert m.proc.poll() is None
    assert set(os.listdir(m.p(PACKAGES))) == package_ids(emulator)


def test_missing_name_stat_twice_costs_one_show(emulator, mount):
    emulator.seed(packages=3)
    m = mount()
    emulator.reset()
    path = m.p(PACKAGES, MISSING_ID)

    def twice():
        return [errno_of(os.stat, path), errno_of(os.stat, path)]
    errs, delta = delta_of(emulator, twice)
    assert errs == [errno.ENOENT, errno.ENOENT]
    assert delta == {"iotda.show": 1, "total": 1}


def test_missing_name_after_fresh_listing_is_confirmed_once(emulator,
                                                            mount):
    emulator.seed(packages=3)
    m = mount()
    os.listdir(m.p(PACKAGES))
    path = m.p(PACKAGES, MISSING_ID)

    def thrice():
        return [errno_of(os.stat, path), errno_of(open, path),
                errno_of(os.unlink, path)]
    errs, delta = delta_of(emulator, thrice)
    assert errs == [errno.ENOENT] * 3
    assert delta == {"iotda.show": 1, "total": 1}


def test_missing_provider_and_version_are_negative_entries(emulator,
                                                           mount):
    emulator.add_provider("here", versions=["1.0.0"])
    m = mount()
    os.listdir(m.p(PROVIDERS, "here"))
    emulator.reset()
    for _ in range(2):
        assert errno_of(os.stat, m.p(PROVIDERS, "not-here")) == errno.ENOENT
        assert errno_of(os.stat, m.p(PROVIDERS, "here", "9.9.9")) == \
            errno.ENOENT
    req = emulator.stats()["requests"]
    assert req["rfs.show_provider"] == 1
    assert req["rfs.show_version"] == 1
    assert emulator.stats()["total"] == 2


def test_negative_entry_expires_after_negative_ttl(emulator, mount):
    emulator.seed(packages=3)
    m = mount("negative_ttl=1")
    path = m.p(PACKAGES, MISSING_ID)
    assert errno_of(os.stat, path) == errno.ENOENT
    time.sleep(2.2)  # lets negative_ttl=1 (and the kernel's timeout) pass
    emulator.reset()
    assert errno_of(os.stat, path) == errno.ENOENT
    assert emulator.stats()["requests"]["iotda.show"] == 1


def test_listing_expires_after_cache_ttl(emulator, mount):
    emulator.seed(providers=4)
    m = mount("cache_ttl=1")
    os.listdir(m.p(PROVIDERS))
    time.sleep(2.2)  # lets cache_ttl=1 (and the kernel's timeout) pass
    _, delta = delta_of(emulator, lambda: os.listdir(m.p(PROVIDERS)))
    assert delta == {"rfs.list_providers": 1, "total": 1}


def test_cache_ttl_0_lists_every_time(emulator, mount):
    emulator.seed(providers=4)
    m = mount("cache_ttl=0")
    for _ in range(3):
        _, delta = delta_of(emulator, lambda: os.listdir(m.p(PROVIDERS)))
        assert delta == {"rfs.list_providers": 1, "total": 1}


def test_open_file_reads_whole_json_after_a_listing(emulator, mount):
    # Opened before any listing, the file holds the show answer; an
    # `ls -l` meanwhile brings the list answer's attributes. A reader of
    # the open file must still get a whole JSON document.
    emulator.seed(packages=3)
    m = mount()
    pkg = sorted(package_ids(emulator))[0]
    path = m.p(PACKAGES, pkg)
    fd = os.open(path, os.O_RDONLY)
    try:
        assert sh(["ls", "-l", m.p(PACKAGES)]).returncode == 0
        data = b""
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            data += chunk
    finally:
        os.close(fd)
    assert data.endswith(b"}\n"), data[-60:]
    assert json.loads(data)["package_id"] == pkg
    # And what a new reader gets has the size stat tells.
    with open(path, "rb") as f:
        assert len(f.read()) == os.stat(path).st_size


# ---- the kernel's negative entries (issue 12, item 5) ----

def _lookups(m, name):
    """How many lookups of name reached the daemon (its -d log)."""
    return len(re.findall(r"lookup \d+/%s$" % re.escape(name), m.stderr,
                          re.M))


def _stat_twice_lookups(m, path):
    name = os.path.basename(path)
    before = _lookups(m, name)
    errs = [errno_of(os.stat, path), errno_of(os.stat, path)]
    return errs, _lookups(m, name) - before


def test_missing_name_stat_twice_reaches_the_daemon_once(emulator, mount):
    emulator.seed(packages=3)
    m = mount(args=("-d",))
    errs, lookups = _stat_twice_lookups(m, m.p(PACKAGES, MISSING_ID))
    assert errs == [errno.ENOENT, errno.ENOENT]
    assert lookups == 1


@pytest.mark.parametrize("where", [
    (PACKAGES, "not-an-id"),        # can never be a package id: no request
    (PROVIDERS, "not-here"),        # confirmed missing by one show
    ("", "nothing-here"),           # a fixed directory
    ("iotda", "nothing-here"),
])
def test_every_missing_name_is_a_negative_entry(emulator, mount, where):
    m = mount(args=("-d",))
    errs, lookups = _stat_twice_lookups(m, m.p(*where))
    assert errs == [errno.ENOENT, errno.ENOENT]
    assert lookups == 1


@pytest.mark.parametrize("opt", ["negative_ttl=0", "cache_ttl=0"])
def test_no_negative_entry_with_a_ttl_of_0(emulator, mount, opt):
    emulator.seed(packages=3)
    m = mount(opt, args=("-d",))
    errs, lookups = _stat_twice_lookups(m, m.p(PACKAGES, MISSING_ID))
    assert errs == [errno.ENOENT, errno.ENOENT]
    assert lookups == 2


def test_refresh_drops_the_kernels_negative_entry(emulator, mount):
    emulator.seed(packages=3)
    m = mount("negative_ttl=600")
    path = m.p(PACKAGES, MISSING_ID)
    assert errno_of(os.stat, path) == errno.ENOENT
    emulator.add_package(package_id=MISSING_ID, age_days=1)
    refresh(m.p(PACKAGES))
    # The kernel is told by the daemon's notifier thread: far less than
    # negative_ttl.
    assert wait_until(lambda: os.path.exists(path))


def test_refresh_drops_negative_entries_of_providers(emulator, mount):
    m = mount("negative_ttl=600")
    path = m.p(PROVIDERS, "late")
    assert errno_of(os.stat, path) == errno.ENOENT
    emulator.add_provider("late", versions=["1.0.0"])
    refresh(m.p(PROVIDERS))
    assert wait_until(lambda: os.path.isdir(path))


def test_sigusr2_drops_the_kernels_negative_entries(emulator, mount):
    m = mount("negative_ttl=600")
    path = m.p(PROVIDERS, "late")
    assert errno_of(os.stat, path) == errno.ENOENT
    emulator.add_provider("late")
    m.signal(signal.SIGUSR2)
    # Handled on the daemon's own thread; far less than negative_ttl.
    assert wait_until(lambda: os.path.isdir(path))
