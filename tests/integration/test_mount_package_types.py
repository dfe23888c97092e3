"""test_mount_package_types.py - issue 10.1: iotda/packages/ shows the
packages of all three IoTDA package types, firmwarePackage,
softwarePackage and modulePackage (docs/cloud-api.md), so a module
package is listed by `ls -l`, selected by `find -mtime` and deleted by
`rm` like the others, and the listing's requests are the walk of the
three types, counted exactly."""

import json
import os
import time

from mountlib import PACKAGES, assert_content_is, delta_of, deletes, \
    iotda_list_requests, iotda_walk_requests, ls_rows, mtime_of, \
    older_than, package_ids, read_file, sh

TYPES = ("firmwarePackage", "softwarePackage", "modulePackage")
MOD = "modulePackage"
LS_L = ["ls", "-l", "--time-style=+%s"]


def mixed(emulator, mount, packages):
    """packages seeded over the three types in turn, mounted, counters
    zeroed; returns the mount and {package_id: state object}."""
    emulator.seed(packages=packages, package_types=TYPES)
    m = mount()
    emulator.reset()
    return m, {p["package_id"]: p for p in emulator.state()["packages"]}


def of_type(state, ptype):
    return {pid for pid, p in state.items() if p["package_type"] == ptype}


def test_ls_l_shows_module_packages_beside_the_others(emulator, mount):
    m, state = mixed(emulator, mount, 900)
    assert [len(of_type(state, t)) for t in TYPES] == [300, 300, 300]
    r, delta = delta_of(emulator, lambda: sh(LS_L + [m.p(PACKAGES)]))
    assert r.returncode == 0, r.stderr
    rows = ls_rows(r.stdout)
    assert set(rows) == set(state)
    for pid in of_type(state, MOD):
        mode, size, mtime = rows[pid]
        assert mode == "-rw-r--r--", pid
        assert mtime == mtime_of(state[pid]), pid
        assert size == len(read_file(m.p(PACKAGES, pid))), pid
    # 300 a type: page 0, then offsets 50..300 (the last one short).
    assert iotda_walk_requests(300) == 7
    assert delta == {"iotda.list": 21, "total": 21}
    assert iotda_list_requests(emulator) == 21
    log = [e["params"] for e in emulator.stats()["log"]
           if e["op"] == "iotda.list"]
    assert sorted(p["package_type"][0] for p in log) == \
        sorted(t for t in TYPES for _ in range(7))


def test_a_module_package_reads_as_its_metadata(emulator, mount):
    emulator.seed(packages=2)
    pkg = emulator.add_package(package_type=MOD, module_name="wifi.fw-2",
                               age_days=12)
    m = mount()
    path = m.p(PACKAGES, pkg["package_id"])
    data = read_file(path)
    assert_content_is(data, pkg)
    assert json.loads(data)["module_name"] == "wifi.fw-2"
    assert os.getxattr(path, "user.hwc.package_type") == MOD.encode()
    assert os.getxattr(path, "user.hwc.module_name") == b"wifi.fw-2"
    assert len(os.listdir(m.p(PACKAGES))) == 3


def test_find_mtime_selects_old_module_packages(emulator, mount):
    m, state = mixed(emulator, mount, 900)
    days = 99  # ages are (4 k + 2) / 9 days: none within 2 h of 100
    r, delta = delta_of(emulator, lambda: sh(
        ["find", m.p(PACKAGES), "-type", "f", "-mtime", "+%d" % days,
         "-printf", "%f\\n"]))
    now = time.time()
    assert r.returncode == 0, r.stderr
    want = {pid for pid, p in state.items()
            if older_than(p["create_epoch"], days, now)}
    assert set(r.stdout.split()) == want
    old_modules = want & of_type(state, MOD)
    assert 200 < len(old_modules) < 250
    assert delta == {"iotda.list": 21, "total": 21}


def test_rm_of_a_module_package_sends_one_delete(emulator, mount):
    m, state = mixed(emulator, mount, 30)
    victim = sorted(of_type(state, MOD))[4]
    assert victim in os.listdir(m.p(PACKAGES))
    emulator.reset()
    r, delta = delta_of(emulator, lambda: sh(["rm", m.p(PACKAGES, victim)]))
    assert r.returncode == 0, r.stderr
    assert delta == {"iotda.delete": 1, "total": 1}
    assert [(d["op"], d["resource"], d["status"])
            for d in deletes(emulator)] == [("iotda.delete", victim, 204)]
    assert package_ids(emulator) == set(state) - {victim}
    assert set(os.listdir(m.p(PACKAGES))) == set(state) - {victim}


def test_find_mtime_delete_cleans_up_every_type(emulator, mount):
    """The cleanup the issue is about: a module package older than the
    limit is deleted like the others, and nothing younger is touched."""
    m, state = mixed(emulator, mount, 90)  # ages (2 k + 1) * 20 / 9 days
    now = time.time()
    old = {pid for pid, p in state.items()
           if older_than(p["create_epoch"], 200, now)}
    assert all(old & of_type(state, t) for t in TYPES)
    r = sh(["find", m.p(PACKAGES), "-type", "f", "-mtime", "+200",
            "-delete"])
    assert r.returncode == 0, r.stderr
    log = deletes(emulator)
    assert sorted(d["resource"] for d in log) == sorted(old)
    assert all(d["op"] == "iotda.delete" and d["status"] == 204
               for d in log)
    assert package_ids(emulator) == set(state) - old
    assert set(os.listdir(m.p(PACKAGES))) == set(state) - old
