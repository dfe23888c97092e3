"""test_mount_posix.py - POSIX details that real tools rely on, asserted
as pjdfstest would for a tree that only shrinks (issue 10.7): fstat on a
descriptor whose file was deleted."""

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
