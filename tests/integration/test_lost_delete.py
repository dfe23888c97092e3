"""test_lost_delete.py - issue 11.2: a DELETE whose answer is lost on a
kept-alive connection. libcurl re-sends a request by itself when a reused
connection dies before any answer; the emulator then deletes first (its
answer lost) and answers the re-sent DELETE 404. hwcfs must count that as
done, whoever re-sent it: `rm` succeeds, the audit says deleted, and
`rm -r` of a provider runs to the end. Every test warms the connection
pool with an `ls` first, so the DELETE goes out on a reused connection."""

import os

import pytest

from harden_util import assert_peak_bounded
from mountlib import PACKAGES, PROVIDERS, deletes, package_ids, providers, \
    sh
from rfs_kinds import KINDS


def audit_lines(path):
    with open(path) as f:
        return [line for line in f.read().splitlines() if line]


def sent_twice(emulator):
    """[(resource, statuses)] of the DELETEs in arrival order, merged per
    resource: a lost answer shows as (204, 404)."""
    out = []
    for d in deletes(emulator):
        if out and out[-1][0] == d["resource"]:
            out[-1][1].append(d["status"])
        else:
            out.append((d["resource"], [d["status"]]))
    return [(res, tuple(st)) for res, st in out]


def test_rm_package_whose_answer_is_lost_on_a_warm_connection(emulator,
                                                              mount,
                                                              tmp_path):
    emulator.seed(packages=4)
    audit = tmp_path / "audit.log"
    m = mount("audit_log=%s" % audit)
    victim = sorted(package_ids(emulator))[1]
    # warm: the pool now holds kept-alive connections to the emulator
    assert victim in os.listdir(m.p(PACKAGES))
    emulator.faults(lose_delete_answers=1)
    r = sh(["rm", m.p(PACKAGES, victim)])
    assert r.returncode == 0, r.stderr
    assert sent_twice(emulator) == [(victim, (204, 404))]
    assert deletes(emulator)[0]["answer_lost"] is True
    assert victim not in package_ids(emulator)
    lines = audit_lines(audit)
    assert len(lines) == 1 and "outcome=deleted" in lines[0], lines


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_rm_version_whose_answer_is_lost_on_a_warm_connection(emulator,
                                                              mount,
                                                              tmp_path,
                                                              kind):
    v = kind.versions
    kind.add(emulator, "hello", v[:2])
    audit = tmp_path / "audit.log"
    m = mount("audit_log=%s" % audit)
    assert v[1] in os.listdir(m.p(kind.dir, "hello"))
    emulator.faults(lose_delete_answers=1)
    r = sh(["rm", m.p(kind.dir, "hello", v[1])])
    assert r.returncode == 0, r.stderr
    assert sent_twice(emulator) == [("hello/" + v[1], (204, 404))]
    assert kind.version_names(emulator, "hello") == [v[0]]
    lines = audit_lines(audit)
    assert len(lines) == 1 and "outcome=deleted" in lines[0], lines


def test_rm_r_provider_whose_answers_are_all_lost(emulator, mount, tmp_path):
    versions = ["1.0.0", "1.0.1", "1.0.2"]
    emulator.add_provider("doomed", versions=versions)
    emulator.add_provider("kept", versions=["1.0.0"])
    audit = tmp_path / "audit.log"
    m = mount("audit_log=%s" % audit)
    assert sorted(os.listdir(m.p(PROVIDERS))) == ["doomed", "kept"]
    assert sorted(os.listdir(m.p(PROVIDERS, "doomed"))) == versions
    # every DELETE of the rm -r: three versions, then the provider
    emulator.faults(lose_delete_answers=4)
    r = sh(["rm", "-r", m.p(PROVIDERS, "doomed")])
    assert r.returncode == 0, r.stderr
    got = sent_twice(emulator)
    assert sorted(got[:3]) == [("doomed/" + v, (204, 404))
                               for v in versions]
    assert got[3:] == [("doomed", (204, 404))]
    assert list(providers(emulator)) == ["kept"]
    lines = audit_lines(audit)
    assert len(lines) == 4, lines
    assert all("outcome=deleted" in line for line in lines), lines
    assert sorted(os.listdir(m.p(PROVIDERS))) == ["kept"]
    assert_peak_bounded(m.pid)
