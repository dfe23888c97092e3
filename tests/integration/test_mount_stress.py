"""test_mount_stress.py - acceptance test of issue 4, concurrency: 8
processes running `ls -l`, `cat` and `rm` at once for 30 seconds against
1,000 packages, the rm processes deleting disjoint sets. No error but the
expected ENOENTs, the cloud ends up exactly as initial minus what was
deleted, each DELETE sent once, and the mount unmounts cleanly (the
fixture checks the exit code and sanitizer reports)."""

import json
import os
import random
import re
import threading
import time

from mountlib import MESSAGES, PACKAGES, deletes, package_ids, sh

DURATION = 30.0
LS_WORKERS = 3
CAT_WORKERS = 2
RM_WORKERS = 3
PER_RM_WORKER = 60
CHUNK = 4  # names per rm command
ENOENT = MESSAGES[2]


class Worker(threading.Thread):
    """Runs one kind of command in a loop until the deadline; each run is
    its own process. Collects what it saw that it should not have."""

    def __init__(self, deadline):
        super().__init__(daemon=True)
        self.deadline = deadline
        self.problems = []
        self.runs = 0

    def run(self):
        try:
            self.loop()
        except Exception as e:  # reported, never swallowed
            self.problems.append("worker crashed: %r" % e)


class LsWorker(Worker):
    def __init__(self, deadline, path, initial, doomed):
        super().__init__(deadline)
        self.path, self.initial, self.doomed = path, initial, doomed

    def loop(self):
        while time.monotonic() < self.deadline:
            r = sh(["ls", "-l", "--time-style=+%s", self.path])
            self.runs += 1
            for line in r.stdout.splitlines()[1:]:
                f = line.split()
                if len(f) == 7 and f[4] == "?" and f[-1] in self.doomed:
                    continue  # its stat failed: reported on stderr
                if len(f) != 7 or f[-1] not in self.initial or \
                        not f[4].isdigit() or int(f[4]) < 50:
                    self.problems.append("ls row %r" % line)
            if r.returncode == 0:
                continue
            for line in r.stderr.splitlines():
                # A name deleted between readdir and its stat.
                mo = re.match(r"^ls: (?:cannot access '(.*)'|(.*)): (.*)$",
                              line)
                if not mo or mo.group(3) != ENOENT or os.path.basename(
                        mo.group(1) or mo.group(2)) not in self.doomed:
                    self.problems.append("ls: %s" % line)


class CatWorker(Worker):
    def __init__(self, deadline, path, initial, doomed, seed):
        super().__init__(deadline)
        self.path, self.doomed = path, doomed
        self.names = sorted(initial)
        self.doomed_list = sorted(doomed)
        self.rng = random.Random(seed)

    def loop(self):
        while time.monotonic() < self.deadline:
            # Half the time a name that is being deleted, to meet the race.
            pool = self.doomed_list if self.rng.random() < 0.5 \
                else self.names
            name = self.rng.choice(pool)
            r = sh(["cat", os.path.join(self.path, name)])
            self.runs += 1
            if r.returncode == 0:
                try:
                    ok = json.loads(r.stdout)["package_id"] == name
                except (ValueError, KeyError):
                    ok = False
                if not ok:
                    self.problems.append("cat %s: %d bytes: %r" % (
                        name, len(r.stdout), r.stdout[-120:]))
            elif name not in self.doomed or ENOENT not in r.stderr:
                self.problems.append("cat %s: %s" % (name, r.stderr.strip()))


class RmWorker(Worker):
    def __init__(self, deadline, path, names):
        super().__init__(deadline)
        self.path, self.names = path, names
        self.removed = []

    def loop(self):
        chunks = [self.names[i:i + CHUNK]
                  for i in range(0, len(self.names), CHUNK)]
        # Spread over most of the run, so deletes meet listings and cats.
        pause = (self.deadline - time.monotonic()) * 0.8 / len(chunks)
        for chunk in chunks:
            r = sh(["rm"] + [os.path.join(self.path, n) for n in chunk])
            self.runs += 1
            if r.returncode != 0:
                self.problems.append("rm %s: %s" % (chunk, r.stderr.strip()))
            else:
                self.removed += chunk
            time.sleep(pause)
        while time.monotonic() < self.deadline:
            time.sleep(0.1)


def test_8_processes_ls_cat_rm_for_30_seconds(emulator, mount):
    emulator.seed(packages=1000)
    initial = package_ids(emulator)
    assert len(initial) == 1000
    # A short TTL, so listings expire and are walked again mid-run.
    m = mount("cache_ttl=2")
    path = m.p(PACKAGES)
    rng = random.Random(4)
    chosen = rng.sample(sorted(initial), RM_WORKERS * PER_RM_WORKER)
    sets = [chosen[i::RM_WORKERS] for i in range(RM_WORKERS)]
    doomed = set(chosen)
    emulator.reset()

    deadline = time.monotonic() + DURATION
    workers = [LsWorker(deadline, path, initial, doomed)
               for _ in range(LS_WORKERS)]
    workers += [CatWorker(deadline, path, initial, doomed, seed)
                for seed in range(CAT_WORKERS)]
    rms = [RmWorker(deadline, path, s) for s in sets]
    workers += rms
    assert len(workers) == 8
    for w in workers:
        w.start()
    for w in workers:
        w.join(DURATION + 120)
        assert not w.is_alive(), "a worker hung"

    # The cloud: exactly what rm removed is gone, each deleted once.
    removed = sorted(n for w in rms for n in w.removed)
    final = package_ids(emulator)
    assert final == initial - set(removed)
    log = deletes(emulator)
    assert sorted(d["resource"] for d in log) == removed
    assert all(d["status"] == 204 for d in log)
    # The mount agrees with the cloud.
    r = sh(["ls", path])
    assert r.returncode == 0, r.stderr
    assert set(r.stdout.split()) == final
    assert m.proc.poll() is None
    # Last, so that a failure here does not hide the state checks.
    problems = [p for w in workers for p in w.problems]
    assert problems == [], "\n".join(problems[:10])
    assert all(w.runs > 0 for w in workers)
    assert removed == sorted(doomed)
