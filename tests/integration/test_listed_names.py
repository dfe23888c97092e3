"""test_listed_names.py - issue 10.3: every name the cloud lists is shown.
A listed name is shown, read and deleted whenever it is a safe file name
(not empty, at most 255 bytes, no `/`, not `.` or `..`, no NUL), even when
it breaks the documented patterns: a version `1.0.0-beta`, names with
spaces, `%`, `?`, `#`, `+`, unicode. Such names go out percent-encoded and
signed as sent (the emulator checks both). A name no fresh listing has is
still asked about only when it matches its pattern. Listed names that are
not safe are dropped, counted, logged escaped, and never cost a request."""

import errno
import json
import os

import pytest

from mountlib import PACKAGES, PROVIDERS, deletes, delta_of, errno_of, \
    read_file, refresh, sh

ODD_PACKAGE = "pkg 100%2F?#+\u00e9~;"
ODD_PROVIDER = "Prov Name+%\u00e9"
BETA = "1.0.0-beta"
OWNER = "owner"


@pytest.fixture
def odd(emulator):
    """One package, one provider (with a version) and one version with
    names no create call would take; the control API stores them."""
    emulator.add_package(package_id=ODD_PACKAGE, description="odd one")
    emulator.add_provider(ODD_PROVIDER, versions=[BETA])
    emulator.add_provider(OWNER, versions=["1.0.0", BETA])
    return emulator


def test_unusual_names_are_listed_and_read(odd, mount):
    m = mount()
    assert os.listdir(m.p(PACKAGES)) == [ODD_PACKAGE]
    assert sorted(os.listdir(m.p(PROVIDERS))) == sorted([ODD_PROVIDER,
                                                          OWNER])
    assert sorted(os.listdir(m.p(PROVIDERS, OWNER))) == ["1.0.0", BETA]
    assert os.listdir(m.p(PROVIDERS, ODD_PROVIDER)) == [BETA]
    # read from the listing: no request per file
    _, delta = delta_of(odd, lambda: [
        json.loads(read_file(m.p(PACKAGES, ODD_PACKAGE))),
        json.loads(read_file(m.p(PROVIDERS, ODD_PROVIDER, BETA)))])
    assert _[0]["package_id"] == ODD_PACKAGE
    assert _[1]["provider_version"] == BETA
    assert delta == {}


def test_rm_of_each_unusual_name_sends_one_delete(odd, mount):
    m = mount()
    for d in (PACKAGES, PROVIDERS, PROVIDERS + "/" + OWNER,
              PROVIDERS + "/" + ODD_PROVIDER):
        os.listdir(m.p(d))
    odd.reset()
    steps = [
        (lambda: os.unlink(m.p(PACKAGES, ODD_PACKAGE)),
         {"iotda.delete": 1}, ("iotda.delete", ODD_PACKAGE)),
        (lambda: os.unlink(m.p(PROVIDERS, OWNER, BETA)),
         {"rfs.delete_version": 1}, ("rfs.delete_version",
                                     OWNER + "/" + BETA)),
        (lambda: os.unlink(m.p(PROVIDERS, ODD_PROVIDER, BETA)),
         {"rfs.delete_version": 1}, ("rfs.delete_version",
                                     ODD_PROVIDER + "/" + BETA)),
        # rmdir asks the cloud whether versions are left, then deletes
        (lambda: os.rmdir(m.p(PROVIDERS, ODD_PROVIDER)),
         {"rfs.list_versions": 1, "rfs.delete_provider": 1},
         ("rfs.delete_provider", ODD_PROVIDER)),
    ]
    for action, want, (op, resource) in steps:
        before = len(deletes(odd))
        _, delta = delta_of(odd, action)
        delta.pop("total")
        assert delta == want
        new = deletes(odd)[before:]
        assert [(d["op"], d["resource"], d["status"]) for d in new] == \
            [(op, resource, 204)]
    # every request was signed and verified as sent
    assert odd.stats()["auth_failures"] == 0
    assert os.listdir(m.p(PACKAGES)) == []
    assert sorted(os.listdir(m.p(PROVIDERS))) == [OWNER]
    assert os.listdir(m.p(PROVIDERS, OWNER)) == ["1.0.0"]


def test_unusual_names_without_cache_cost_one_delete(odd, mount):
    # cache_ttl=0: the listing just made is what makes the name known;
    # a package is deleted by its id alone (no show first): one DELETE.
    m = mount("cache_ttl=0")
    assert os.listdir(m.p(PACKAGES)) == [ODD_PACKAGE]
    _, delta = delta_of(odd, lambda: os.unlink(m.p(PACKAGES, ODD_PACKAGE)))
    assert delta == {"iotda.delete": 1, "total": 1}
    assert [d["resource"] for d in deletes(odd)] == [ODD_PACKAGE]
    assert odd.stats()["auth_failures"] == 0


def test_typed_unusual_name_unlisted_costs_no_request(odd, mount):
    m = mount()
    os.listdir(m.p(PROVIDERS, OWNER))
    odd.reset()
    # absent from the fresh listing and off the pattern: no request
    for name in ("1.0.0-rc1", "1.0.0 beta", "caf\u00e9"):
        assert errno_of(os.stat, m.p(PROVIDERS, OWNER, name)) == errno.ENOENT
    assert odd.stats()["total"] == 0
    # the control: on the pattern, the cloud is asked once
    assert errno_of(os.stat, m.p(PROVIDERS, OWNER, "9.9.9")) == errno.ENOENT
    assert odd.stats()["requests"]["rfs.show_version"] == 1
    # after a refresh the listing is gone: the listed name is only typed
    refresh(m.p(PROVIDERS, OWNER))
    odd.reset()
    assert errno_of(os.stat, m.p(PROVIDERS, OWNER, BETA)) == errno.ENOENT
    assert odd.stats()["total"] == 0
    assert BETA in os.listdir(m.p(PROVIDERS, OWNER))
    assert os.stat(m.p(PROVIDERS, OWNER, BETA)).st_size > 0


UNSAFE = {
    PACKAGES: ["a/b", "x" * 256, "nul\0x"],
    PROVIDERS: ["p/q", "y" * 256, "nul\0p"],
    PROVIDERS + "/" + OWNER: ["1.0.0/x", "9" * 256, "1.0.0\0x"],
}


def test_unsafe_listed_names_are_dropped_counted_and_cost_nothing(
        emulator, mount):
    emulator.add_package(package_id="good")
    for name in UNSAFE[PACKAGES]:
        emulator.add_package(package_id=name)
    emulator.add_provider(OWNER, versions=["1.0.0"] + UNSAFE[
        PROVIDERS + "/" + OWNER])
    for name in UNSAFE[PROVIDERS]:
        emulator.add_provider(name)
    m = mount(args=["-d"])
    want = {PACKAGES: ["good"], PROVIDERS: [OWNER],
            PROVIDERS + "/" + OWNER: ["1.0.0"]}
    lists = {PACKAGES: "iotda.list", PROVIDERS: "rfs.list_providers",
             PROVIDERS + "/" + OWNER: "rfs.list_versions"}
    for d in (PACKAGES, PROVIDERS, PROVIDERS + "/" + OWNER):
        listed, delta = delta_of(emulator, lambda: os.listdir(m.p(d)))
        assert listed == want[d]
        assert set(delta) == {lists[d], "total"}
        assert "%s: dropped 3 listed entries: 1 with a NUL or bytes that " \
            "are not UTF-8, 2 with a name that is not a safe file name" \
            % d in m.stderr
    # find -delete over everything deletes only what was shown
    r = sh(["find", m.p(PROVIDERS, OWNER), m.p(PACKAGES), "-mindepth", "1",
            "-delete"])
    assert r.returncode == 0, r.stderr
    assert sorted((d["op"], d["resource"]) for d in deletes(emulator)) == [
        ("iotda.delete", "good"), ("rfs.delete_version", OWNER + "/1.0.0")]
    # logged escaped: no raw NUL, the bytes shown as \xHH
    assert "\0" not in m.stderr
    assert '"nul\\xffx" or another of its strings holds a NUL' in m.stderr
    assert '"a/b" holds a \'/\'' in m.stderr


def test_a_newline_in_a_name_never_splits_a_log_line(emulator, mount):
    name = "evil\nhwcfs: audit: forged"
    emulator.add_provider(name)
    m = mount()
    assert sorted(os.listdir(m.p(PROVIDERS))) == [name]
    os.rmdir(m.p(PROVIDERS, name))
    assert [d["resource"] for d in deletes(emulator)] == [name]
    audit = [line for line in m.stderr.splitlines() if "audit:" in line]
    assert len(audit) == 1
    # and its spaces too: the path is one word of the audit line
    assert "evil\\x0ahwcfs:\\x20audit:\\x20forged " in audit[0]
