"""test_mount_posix.py - POSIX details that real tools rely on, asserted
as pjdfstest would for a tree that only shrinks (issue 10.7): fstat on a
descriptor whose file was deleted, and the link counts of directories
(2, plus one for each subdirectory's "..", or 1 when that is unknown)."""

import os
import stat

from mountlib import PACKAGES, PROVIDERS, delta_of, package_ids, providers


def test_fstat_after_rm_keeps_the_attributes_it_had(emulator, mount):
    emulator.seed(packages=3)
    m = mount()
    pkg = sorted(package_ids(emulator))[0]
    path = m.p(PACKAGES, pkg)
    fd = os.open(path, os.O_RDONLY)
    try:
        before = os.fstat(fd)
        content = os.pread(fd, before.st_size + 1, 0)
        _, delta = delta_of(emulator, lambda: os.unlink(path))
        assert delta == {"iotda.delete": 1, "total": 1}
        assert not os.path.exists(path)
        after, delta = delta_of(emulator, lambda: os.fstat(fd))
        assert delta == {}
        # The same file, with no name left (as ext4 says after unlink).
        assert (after.st_ino, after.st_size, after.st_mtime,
                after.st_mode) == (before.st_ino, before.st_size,
                                   before.st_mtime, before.st_mode)
        assert stat.S_ISREG(after.st_mode) and after.st_size > 0
        assert after.st_nlink == 0 and before.st_nlink == 1
        # And it still reads what it held when it was opened.
        assert os.pread(fd, after.st_size + 1, 0) == content
    finally:
        os.close(fd)
    assert pkg not in package_ids(emulator)


def test_fstat_after_rm_of_a_version_keeps_its_attributes(emulator, mount):
    emulator.add_provider("keep", versions=["1.0.0", "2.0.0"])
    m = mount()
    path = m.p(PROVIDERS, "keep", "1.0.0")
    with open(path, "rb") as f:
        before = os.fstat(f.fileno())
        os.unlink(path)
        after = os.fstat(f.fileno())
        assert f.read() != b""
    assert (after.st_size, after.st_mtime, after.st_nlink) == \
        (before.st_size, before.st_mtime, 0)
    left = providers(emulator)["keep"]["versions"]
    assert [v["provider_version"] for v in left] == ["2.0.0"]


def nlinks(m, dirs):
    return {d: os.stat(m.p(d)).st_nlink for d in dirs}


def test_every_directory_counts_its_subdirectories(emulator, mount):
    emulator.seed(packages=4, providers=3, versions=2)
    m = mount()
    prov = sorted(providers(emulator))[0]
    every = ["", "iotda", PACKAGES, "rfs", PROVIDERS,
             PROVIDERS + "/" + prov]
    # Nothing listed yet: rfs/providers does not know its count.
    assert nlinks(m, every) == {
        "": 4,              # ., its name, iotda/.., rfs/..
        "iotda": 3,         # packages/..
        PACKAGES: 2,        # packages are files
        "rfs": 6,           # providers, modules, hooks, templates
        PROVIDERS: 1,       # unknown, as btrfs says
        PROVIDERS + "/" + prov: 2,  # versions are files
    }
    os.listdir(m.p(PACKAGES))
    os.listdir(m.p(PROVIDERS))
    got, delta = delta_of(emulator, lambda: nlinks(m, every))
    assert delta == {}
    assert got[PROVIDERS] == 2 + 3
    assert got[PACKAGES] == 2 and got[PROVIDERS + "/" + prov] == 2
    # What find(1) counts agrees, for every directory.
    for d in every:
        subdirs = [e for e in os.scandir(m.p(d)) if e.is_dir()]
        assert got[d] == 2 + len(subdirs), d


def test_rmdir_lowers_the_count_of_rfs_providers(emulator, mount):
    emulator.seed(providers=3)
    emulator.add_provider("empty-one")
    m = mount()
    os.listdir(m.p(PROVIDERS))
    assert os.stat(m.p(PROVIDERS)).st_nlink == 2 + 4
    os.rmdir(m.p(PROVIDERS, "empty-one"))
    assert os.stat(m.p(PROVIDERS)).st_nlink == 2 + 3


def test_root_counts_only_configured_services(emulator, mount):
    m = mount(services=("rfs",))
    assert os.stat(m.path).st_nlink == 3


def test_rfs_providers_count_is_unknown_without_a_cache(emulator, mount):
    emulator.seed(providers=2)
    m = mount("cache_ttl=0")
    os.listdir(m.p(PROVIDERS))
    assert os.stat(m.p(PROVIDERS)).st_nlink == 1
