"""test_nul_names.py - issue 11.1: a NUL in a string the server lists must
never make one resource stand in for another. The server lists
`victim3\\u0000evil` (300 days old) beside `victim3` (1 day old); cJSON
ends strings at the NUL, so before the fix both became `victim3`, `cat`
showed the old one's content under the new one's name, and
`find -mtime +90 -name victim3 -delete` deleted the new one. The same
for a NUL in a key (`"package_id\\u0000x"` read as `package_id`), and for
providers and versions. The hostile entries come from the emulator's
`inject` knob, spliced into the first list page ahead of the real ones
(so that, before the fix, they were the ones kept)."""

import errno
import json
import os
import time

import pytest

from harden_util import assert_peak_bounded

from mountlib import DAY, PACKAGES, PROVIDERS, deletes, delta_of, \
    errno_of, read_file, sh

OLD_DAYS = 300
NEW_DAYS = 1


def iotda_time(age_days):
    return time.strftime("%Y%m%dT%H%M%SZ",
                         time.gmtime(time.time() - age_days * DAY))


def rfs_time(age_days):
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z",
                         time.gmtime(time.time() - age_days * DAY))


def raw_entry(fields, name_key, name):
    """JSON text of one entry whose name holds a NUL: name_key may itself
    hold one (a key NUL), the value too. json.dumps writes NUL as \\u0000."""
    obj = dict(fields)
    obj.pop(name_key.split("\0")[0], None)
    return json.dumps(dict({name_key: name}, **obj))


# where the NUL goes: (name key, name value)
PLACES = {
    "value": lambda key, name: (key, name + "\0evil"),
    "key": lambda key, name: (key + "\0x", name),
}


def setup_package(emulator, place):
    new = emulator.add_package(package_id="victim3", age_days=NEW_DAYS,
                               description="the new one")
    old = {k: v for k, v in new.items()
           if k not in ("create_epoch", "file_location")}
    old.update(description="the old one", create_time=iotda_time(OLD_DAYS))
    key, name = PLACES[place]("package_id", "victim3")
    emulator.faults(inject=[{
        "op": "iotda.list", "match": "package_type=firmwarePackage",
        "entry": raw_entry(old, key, name)}])
    return PACKAGES, "victim3"


def setup_provider(emulator, place):
    new = emulator.add_provider("victim3", age_days=NEW_DAYS,
                                provider_description="the new one")
    old = {k: v for k, v in new.items() if k != "versions"}
    old.update(provider_description="the old one",
               create_time=rfs_time(OLD_DAYS), update_time=rfs_time(OLD_DAYS))
    key, name = PLACES[place]("provider_name", "victim3")
    emulator.faults(inject=[{"op": "rfs.list_providers",
                             "entry": raw_entry(old, key, name)}])
    return PROVIDERS, "victim3"


def setup_version(emulator, place):
    prov = emulator.add_provider("owner", age_days=NEW_DAYS, versions=[
        {"provider_version": "1.0.0", "age_days": NEW_DAYS,
         "version_description": "the new one"}])
    old = dict(prov["versions"][0], version_description="the old one",
               create_time=rfs_time(OLD_DAYS))
    key, name = PLACES[place]("provider_version", "1.0.0")
    emulator.faults(inject=[{"op": "rfs.list_versions",
                             "match": "/owner/versions",
                             "entry": raw_entry(old, key, name)}])
    return PROVIDERS + "/owner", "1.0.0"


SETUPS = {"package": setup_package, "provider": setup_provider,
          "version": setup_version}


def description(m, directory, name):
    """What hwcfs shows as the entry's description."""
    path = m.p(directory, name)
    if directory == PROVIDERS:
        return os.getxattr(path, "user.hwc.provider_description").decode()
    doc = json.loads(read_file(path))
    return doc.get("description", doc.get("version_description"))


@pytest.mark.parametrize("place", sorted(PLACES))
@pytest.mark.parametrize("kind", sorted(SETUPS))
def test_find_mtime_delete_spares_the_new_namesake(emulator, mount, kind,
                                                   place):
    directory, name = SETUPS[kind](emulator, place)
    m = mount()
    emulator.reset()
    r = sh(["find", m.p(directory), "-mindepth", "1", "-maxdepth", "1",
            "-mtime", "+90", "-name", name, "-delete"])
    assert r.returncode == 0, r.stderr
    assert deletes(emulator) == []
    assert sorted(os.listdir(m.p(directory))) == [name]
    assert description(m, directory, name) == "the new one"
    # the hostile entry was dropped, counted and logged, escaped
    assert "1 with a NUL or bytes that are not UTF-8" in m.stderr
    assert "\0" not in m.stderr
    assert_peak_bounded(m.pid)


@pytest.mark.parametrize("kind", sorted(SETUPS))
def test_cat_of_the_namesake_shows_the_new_one(emulator, mount, kind):
    directory, name = SETUPS[kind](emulator, "value")
    m = mount()
    os.listdir(m.p(directory))
    shown, delta = delta_of(emulator,
                            lambda: description(m, directory, name))
    assert shown == "the new one"
    assert delta == {}  # from the listing


def test_escaped_backslash_before_u0000_is_not_a_nul(emulator, mount):
    # JSON "C:\\u0000" is a backslash and the letters u0000: the entry
    # is fine, and its text keeps them.
    emulator.add_package(package_id="okpkg", description="C:\\u0000dir")
    m = mount()
    assert os.listdir(m.p(PACKAGES)) == ["okpkg"]
    assert json.loads(read_file(m.p(PACKAGES, "okpkg")))["description"] \
        == "C:\\u0000dir"


def test_nul_in_any_field_drops_the_entry(emulator, mount):
    # Not only names: a NUL in another field, or in a key deeper down,
    # drops the whole entry (it is never shown, so never deleted).
    good = emulator.add_package(package_id="good", age_days=2)
    bad = {k: v for k, v in good.items()
           if k not in ("create_epoch", "file_location")}
    entries = [dict(bad, package_id="bad1", description="x\0y"),
               dict(bad, package_id="bad2", custom_info={"k\0": 1})]
    emulator.faults(inject=[{"op": "iotda.list",
                             "match": "package_type=firmwarePackage",
                             "entry": json.dumps(e)} for e in entries])
    m = mount()
    assert os.listdir(m.p(PACKAGES)) == ["good"]
    assert "dropped 2 " in m.stderr


@pytest.mark.parametrize("op,directory,member", [
    ("iotda.list", PACKAGES, '"page\\u0000x": {"count": 1}'),
    ("rfs.list_providers", PROVIDERS,
     '"page_info": {"next_marker": "a\\u0000b"}'),
    ("rfs.list_versions", PROVIDERS + "/owner", '"x": "raw\u0000byte"'),
])
def test_nul_outside_the_entries_fails_the_listing(emulator, mount, op,
                                                   directory, member):
    emulator.add_package(package_id="pkg", age_days=2)
    emulator.add_provider("owner", versions=["1.0.0"])
    m = mount()
    if "/" in directory[len(PROVIDERS):]:
        os.stat(m.p(directory))
    emulator.faults(inject=[{"op": op, "member": member}])
    emulator.reset()
    assert errno_of(os.listdir, m.p(directory)) == errno.EIO
    # IoTDA: page 0 of each of the three package types, in one round
    assert emulator.stats()["requests"][op] == (3 if op == "iotda.list"
                                                else 1)
    assert deletes(emulator) == []
