"""test_layers.py - the build keeps the layers apart (docs/architecture.md):
fs/ and cache/ see only the backend's interface (backend/include) and
common/, so a backend-private header included from fs/ fails the build,
whether by its bare name (not on fs/'s include path) or by a relative path
(refused by scripts/check-layers, which every build runs). Each case
builds a copy of the tree with one include added, up to the step that must
fail."""

import os
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def tree_copy(dest):
    """The source tree without .git and build directories."""
    shutil.copytree(ROOT, dest, ignore=shutil.ignore_patterns(
        ".git", "build*", "__pycache__", ".pytest_cache"))


def add_include(tree, path, header):
    p = os.path.join(tree, path)
    with open(p) as f:
        text = f.read()
    with open(p, "w") as f:
        f.write('#include "%s"\n' % header + text)


def build(tree, *targets):
    b = os.path.join(tree, "b")
    if not os.path.exists(b):
        subprocess.run(["meson", "setup", b], cwd=tree, check=True,
                       capture_output=True, timeout=120)
    return subprocess.run(["ninja", "-C", b] + list(targets),
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    t = str(tmp_path_factory.mktemp("layers") / "src")
    tree_copy(t)
    yield t
    shutil.rmtree(t, ignore_errors=True)


def test_the_tree_as_it_is_passes_the_layer_check(tree):
    r = build(tree, "layers.ok")
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("path,header", [
    ("fs/fs.c", "http.h"),
    ("fs/main.c", "services.h"),
    ("cache/cache.c", "sign.h"),
])
def test_backend_private_header_by_name_does_not_compile(tmp_path, path,
                                                          header):
    t = str(tmp_path / "src")
    tree_copy(t)
    add_include(t, path, header)
    obj = {"fs/fs.c": "fs/hwcfs.p/fs.c.o",
           "fs/main.c": "fs/hwcfs.p/main.c.o",
           "cache/cache.c": "cache/libhwccache.a.p/cache.c.o"}[path]
    r = build(t, obj)
    assert r.returncode != 0
    assert "%s: No such file or directory" % header in r.stdout


@pytest.mark.parametrize("path,header", [
    ("fs/fs.c", "../backend/http.h"),
    ("fs/inode.h", "../backend/json.h"),
    ("cache/cache.c", "../fs/fs.h"),
    ("common/log.c", "../backend/http.h"),
])
def test_relative_include_across_a_layer_fails_the_build(tmp_path, path,
                                                         header):
    t = str(tmp_path / "src")
    tree_copy(t)
    add_include(t, path, header)
    r = build(t, "layers.ok")
    assert r.returncode != 0
    assert "may not include \"%s\"" % header in r.stderr + r.stdout
