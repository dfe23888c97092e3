"""test_faults.py - a real mount against a cloud that misbehaves in every
way at once: 10% of API requests answered 500, 5% dropped without an
answer, and a burst of throttled answers before every round (service
style with Retry-After: 1, or the gateway's APIGW.0308 without one).
20 rounds of `ls -l` over 1,000 packages, each after a refresh so that it
walks the cloud, must each show exactly the emulator's packages; `rm` of
200 chosen packages must delete exactly those: the emulator's DELETE log
and final state are compared with the chosen set.

Settings that make this reliable: -o retries=10,timeout=60. A try fails
with p ~ 0.15 (plus the bursts), so a request exhausts 11 tries with
p ~ 0.15^11 ~ 1e-9; the backoff (0.25-0.5 s doubling, capped at 8 s)
fits 10 retries well inside 60 s. The default (4 retries, 10 s) would
fail a 440-request run a few times in a hundred."""

import os
import random

import pytest

from emulator.harness import Emulator
from harden_util import mounted

PACKAGES = 1000
ROUNDS = 20
REMOVE = 200
OPTS = ("retries=10", "timeout=60", "cache_ttl=300")
FAULTS = {"error_rate": 0.10, "drop_rate": 0.05}
BURST = 6  # throttled requests before each round


@pytest.fixture
def emu():
    e = Emulator(packages=PACKAGES, random_seed=7)
    e.start()
    try:
        yield e
    finally:
        e.stop()


def burst(emu, rnd):
    if rnd % 2:
        emu.faults(throttle=BURST, throttle_style="service", retry_after=1)
    else:
        emu.faults(throttle=BURST, throttle_style="apigw", retry_after=None)


def test_ls_and_rm_under_faults(emu):
    ids = sorted(p["package_id"] for p in emu.state(brief=True)["packages"])
    assert len(ids) == PACKAGES
    with mounted(emu, *OPTS) as m:
        d = m.p("iotda/packages")
        emu.faults(**FAULTS)
        emu.reset()
        seen_500 = seen_drop = seen_throttle = 0
        for rnd in range(ROUNDS):
            os.setxattr(d, "user.hwcfs.refresh", b"1")
            burst(emu, rnd)
            before = emu.stats()
            r = m.run(["ls", "-l", d], timeout=600)
            after = emu.stats()
            assert r.returncode == 0, (rnd, r.stderr, m.stderr[-3000:])
            rows = r.stdout.splitlines()[1:]
            names = [row.split()[-1] for row in rows]
            assert names == ids, "round %d: %d names" % (rnd, len(names))
            assert all(row.startswith("-rw-r--r--") for row in rows)
            # the round walked the cloud: at least the 22 pages of a walk
            assert after["requests"]["iotda.list"] - \
                before["requests"]["iotda.list"] >= 22
        log = emu.stats()["log"]
        seen_500 = sum(1 for e in log if e.get("status") == 500)
        seen_drop = sum(1 for e in log if e.get("dropped"))
        seen_throttle = sum(1 for e in log if e.get("status") in (403, 429))
        # the faults did happen, all three kinds
        assert seen_500 > 0 and seen_drop > 0 and seen_throttle > 0
        print("faults: %d requests, %d x 500, %d dropped, %d throttled"
              % (len(log), seen_500, seen_drop, seen_throttle))

        chosen = sorted(random.Random(11).sample(ids, REMOVE))
        emu.reset()
        burst(emu, 1)
        r = m.run(["rm"] + [os.path.join(d, i) for i in chosen],
                  timeout=1200)
        assert r.returncode == 0, (r.stderr, m.stderr[-3000:])
        deletes = emu.stats()["deletes"]
        emu.clear_faults()

        # every DELETE was for a chosen package; each chosen package got
        # exactly one that succeeded (the others were faults, retried)
        assert {x["resource"] for x in deletes} == set(chosen)
        done = sorted(x["resource"] for x in deletes if x["status"] == 204)
        assert done == chosen
        assert all(x["status"] in (204, 500, 403, 429, None)
                   for x in deletes)
        left = sorted(p["package_id"]
                      for p in emu.state(brief=True)["packages"])
        assert left == sorted(set(ids) - set(chosen))
        # and the mount agrees without a refresh
        assert sorted(os.listdir(d)) == left
        print("rm: %d DELETE requests for %d packages"
              % (len(deletes), REMOVE))


STRESS_SECONDS = float(os.environ.get("HWCFS_STRESS_SECONDS", "8"))


def test_eight_processes_at_once_under_faults(emu):
    """Short concurrency run (also the ThreadSanitizer build's mount
    test): 3 processes `ls -l`, 2 `cat`, 3 `rm` disjoint sets of 40, for
    HWCFS_STRESS_SECONDS (default 8) with 5% 500s. Every rm succeeds, ls
    and cat see only packages that exist or are being deleted, and the
    cloud ends exactly as initial minus the deleted ones, each deleted by
    one successful DELETE."""
    import subprocess
    import threading
    import time

    ids = sorted(p["package_id"] for p in emu.state(brief=True)["packages"])
    doomed = random.Random(5).sample(ids, 120)
    sets = [doomed[i::3] for i in range(3)]
    problems = []
    with mounted(emu, "retries=10", "timeout=60", "cache_ttl=1") as m:
        d = m.p("iotda/packages")
        emu.faults(error_rate=0.05)
        deadline = time.monotonic() + STRESS_SECONDS

        def ls():
            while time.monotonic() < deadline:
                r = subprocess.run(["ls", "-l", d], capture_output=True,
                                   text=True, timeout=300)
                names = [x.split()[-1] for x in r.stdout.splitlines()[1:]]
                if r.returncode not in (0, 1) or \
                        not set(names) <= set(ids):
                    problems.append("ls: %d %s" % (r.returncode,
                                                   r.stderr[:300]))
                # a stat of an entry deleted meanwhile may fail (1)
                bad = [x for x in r.stderr.splitlines()
                       if "No such file" not in x]
                if bad:
                    problems.append("ls: " + bad[0])

        def cat(k):
            rng = random.Random(k)
            while time.monotonic() < deadline:
                pid = rng.choice(ids)
                r = subprocess.run(["cat", os.path.join(d, pid)],
                                   capture_output=True, text=True,
                                   timeout=300)
                if r.returncode and not (pid in doomed and
                                         "No such file" in r.stderr):
                    problems.append("cat %s: %s" % (pid, r.stderr[:300]))

        def rm(names):
            for i in range(0, len(names), 4):
                r = subprocess.run(["rm"] + [os.path.join(d, n)
                                             for n in names[i:i + 4]],
                                   capture_output=True, text=True,
                                   timeout=300)
                if r.returncode:
                    problems.append("rm: " + r.stderr[:300])

        threads = [threading.Thread(target=ls) for _ in range(3)] + \
            [threading.Thread(target=cat, args=(k,)) for k in range(2)] + \
            [threading.Thread(target=rm, args=(s,)) for s in sets]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=600)
        emu.clear_faults()
        assert not problems, problems[:5]
        deletes = emu.stats()["deletes"]
        done = sorted(x["resource"] for x in deletes if x["status"] == 204)
        assert done == sorted(doomed)
        left = sorted(p["package_id"]
                      for p in emu.state(brief=True)["packages"])
        assert left == sorted(set(ids) - set(doomed))
