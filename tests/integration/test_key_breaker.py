"""test_key_breaker.py - issue 11.10: a live mount whose key is revoked
must not get it locked (the gateway locks a key after 5 refused requests).
After the first 401 hwcfs signs nothing for auth_hold seconds: every
`ls`, `cat`, `rm` fails EACCES at once and sends zero requests; the hold
is logged once. After it, exactly one request probes the key: a 401
starts a new hold, a good answer ends it."""

import errno
import os
import time

from mountlib import PACKAGES, PROVIDERS, errno_of, package_ids, providers, \
    read_file

HELD = "auth_hold"  # the breaker's log lines name the option
RESUMED = "credentials accepted again"


def held_lines(m):
    return [line for line in m.stderr.splitlines() if HELD in line]


def test_revoked_key_costs_one_refusal_then_no_request(emulator, mount):
    emulator.seed(packages=4)
    emulator.add_provider("hello", versions=["1.0.0", "1.2.3"])
    m = mount("cache_ttl=0")
    pkg = sorted(package_ids(emulator))[0]
    assert sorted(os.listdir(m.p(PROVIDERS))) == ["hello"]
    assert pkg in os.listdir(m.p(PACKAGES))
    emulator.revoke_key()
    emulator.reset()

    # the first refusal: one request, one 401
    assert errno_of(os.listdir, m.p(PROVIDERS)) == errno.EACCES
    stats = emulator.stats()
    assert (stats["total"], stats["auth_failures"]) == (1, 1)

    # from now on nothing is sent, whatever the operation
    operations = [
        (os.listdir, m.p(PROVIDERS)),
        (os.listdir, m.p(PACKAGES)),
        (os.listdir, m.p(PROVIDERS, "hello")),
        (read_file, m.p(PACKAGES, pkg)),
        (read_file, m.p(PROVIDERS, "hello", "1.0.0")),
        (os.unlink, m.p(PACKAGES, pkg)),
        (os.unlink, m.p(PROVIDERS, "hello", "1.2.3")),
        (os.rmdir, m.p(PROVIDERS, "hello")),
    ]
    for _ in range(3):
        for fn, path in operations:
            assert errno_of(fn, path) == errno.EACCES, (fn.__name__, path)
    stats = emulator.stats()
    assert (stats["total"], stats["auth_failures"]) == (1, 1)
    assert stats["deletes"] == []
    assert pkg in package_ids(emulator)
    assert len(providers(emulator)["hello"]["versions"]) == 2
    assert len(held_lines(m)) == 1, m.stderr


def test_after_the_hold_one_probe_decides(emulator, mount):
    emulator.seed(packages=4)
    emulator.add_provider("hello", versions=["1.0.0"])
    m = mount("cache_ttl=0", "auth_hold=2")
    assert os.listdir(m.p(PROVIDERS)) == ["hello"]
    emulator.revoke_key()
    emulator.reset()
    assert errno_of(os.listdir, m.p(PROVIDERS)) == errno.EACCES
    assert errno_of(os.listdir, m.p(PACKAGES)) == errno.EACCES
    assert emulator.stats()["total"] == 1

    # the hold ends; the key is still revoked: one probe, a new hold
    time.sleep(2.5)
    assert errno_of(os.listdir, m.p(PACKAGES)) == errno.EACCES
    assert errno_of(os.listdir, m.p(PROVIDERS)) == errno.EACCES
    stats = emulator.stats()
    assert (stats["total"], stats["auth_failures"]) == (2, 2)
    assert len(held_lines(m)) == 2, m.stderr

    # the key comes back; after the hold one probe finds it good, and
    # the listing that made it completes
    emulator.reset_keys()
    time.sleep(2.5)
    assert set(os.listdir(m.p(PACKAGES))) == package_ids(emulator)
    assert os.listdir(m.p(PROVIDERS)) == ["hello"]
    assert emulator.stats()["auth_failures"] == 2
    assert m.stderr.count(RESUMED) == 1, m.stderr
    assert len(held_lines(m)) == 2, m.stderr
