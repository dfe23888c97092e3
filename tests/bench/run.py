#!/usr/bin/python3
"""run.py - the benchmark of issue 5: hwcfs against the emulator with 20 ms
added latency per request, one table row per case (median wall time of N
runs, requests by kind from the emulator's counters, the ratio to the case's
reference, the target and PASS/MISS). Standard library only; see
docs/performance.md for a run and what the numbers mean.

    /usr/bin/python3 tests/bench/run.py [--build DIR] [--quick] [--runs N]
                                        [--cases 1,2,...] [--latency-ms MS]

Every mount it makes is unmounted, the emulator is stopped by PID and the
tmpfs reference directory removed, also when a case fails or times out.
"""

import argparse
import http.client
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests"))

from emulator.harness import Emulator  # noqa: E402

PACKAGES = "iotda/packages"
PROVIDERS = "rfs/providers"
MOUNT_TIMEOUT = 15.0
CLK_TCK = os.sysconf("SC_CLK_TCK")

# Sizes of the issue, and of --quick.
FULL = dict(runs=5, ls=10000, delete=2000, versions=200, memory=100000,
            curl=200, case_limit=150.0, capacity_seconds=3.0,
            rfs_names=100, rfs_versions=5)
QUICK = dict(runs=3, ls=2000, delete=400, versions=50, memory=20000,
             curl=50, case_limit=60.0, capacity_seconds=1.0,
             rfs_names=25, rfs_versions=5)


class CaseError(RuntimeError):
    """A case that could not be measured; its row says why."""


class Interrupted(BaseException):
    """SIGTERM: unwind through every finally, like Ctrl-C."""


def on_sigterm(signum, frame):
    raise Interrupted()


# ---------------------------------------------------------------- helpers

def is_mounted(path):
    real = os.path.realpath(path)
    with open("/proc/mounts") as f:
        return any(line.split()[1] == real for line in f
                   if len(line.split()) > 1)


def proc_status(pid, field):
    """A kB field of /proc/PID/status (VmHWM, VmRSS) in bytes."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise CaseError("no %s in /proc/%d/status" % (field, pid))


def proc_cpu(pid):
    """utime + stime of a process, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        text = f.read()
    fields = text[text.rindex(")") + 2:].split()
    # fields[0] is field 3 (state): utime is field 14, stime field 15.
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def fmt_counts(counts):
    if not counts:
        return "none"
    return " ".join("%s=%d" % (k, v) for k, v in sorted(counts.items()))


def fmt_seconds(s):
    return "%.3f s" % s if s >= 0.1 else "%.1f ms" % (s * 1000)


class Deadline:
    """A case's time limit; every subprocess gets what is left of it."""

    def __init__(self, seconds):
        self.end = time.monotonic() + seconds
        self.seconds = seconds

    def left(self):
        left = self.end - time.monotonic()
        if left <= 0:
            raise CaseError("time limit of %.0f s reached" % self.seconds)
        return left


class Mount:
    """One hwcfs daemon in the foreground (-f), killed by PID if needed."""

    def __init__(self, bench, opts, label):
        self.bench = bench
        self.path = tempfile.mkdtemp(prefix="mnt-%s-" % label,
                                     dir=bench.tmp)
        self.errpath = os.path.join(bench.tmp, "hwcfs-%s.err" % label)
        emu = bench.emu
        allopts = [emu.mount_options()] + list(opts)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("HUAWEICLOUD_", "HWCFS_CONFIG",
                                    "XDG_CONFIG_HOME", "CLOUD_SDK_"))}
        env["HOME"] = bench.tmp  # no config or credentials of the user
        env.update(emu.env())
        argv = [bench.hwcfs, "-f", "-o", ",".join(allopts), self.path]
        with open(self.errpath, "wb") as err:
            self.proc = subprocess.Popen(argv, env=env,
                                         stdin=subprocess.DEVNULL,
                                         stdout=err, stderr=err)
        bench.mounts.append(self)
        deadline = time.monotonic() + MOUNT_TIMEOUT
        while time.monotonic() < deadline:
            if is_mounted(self.path):
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        self.unmount()
        raise CaseError("hwcfs did not mount: %s" % self.stderr()[-500:])

    @property
    def pid(self):
        return self.proc.pid

    def p(self, *parts):
        return os.path.join(self.path, *parts)

    def stderr(self):
        try:
            with open(self.errpath, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def unmount(self):
        if self in self.bench.mounts:
            self.bench.mounts.remove(self)
        if is_mounted(self.path):
            for _ in range(50):
                r = subprocess.run(["fusermount3", "-u", self.path],
                                   capture_output=True, timeout=30)
                if r.returncode == 0 or not is_mounted(self.path):
                    break
                time.sleep(0.1)
            else:
                subprocess.run(["fusermount3", "-uz", self.path],
                               capture_output=True, timeout=30)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if not is_mounted(self.path):
            shutil.rmtree(self.path, ignore_errors=True)

    def refresh(self, rel):
        """Drops the daemon's and the kernel's copy of a directory."""
        subprocess.run(["setfattr", "-n", "user.hwcfs.refresh", "-v", "1",
                        self.p(rel)], check=True, capture_output=True,
                       timeout=30)
        # The kernel notices go out on the daemon's notifier thread.
        time.sleep(0.2)


class Row:
    def __init__(self, case, what):
        self.case = case
        self.what = what
        self.result = "-"
        self.requests = "-"
        self.reference = "-"
        self.ratio = "-"
        self.target = "-"
        self.verdict = "-"
        self.notes = []


# ---------------------------------------------------------------- bench

class Bench:
    def __init__(self, args, sizes):
        self.args = args
        self.sizes = sizes
        self.runs = args.runs or sizes["runs"]
        self.hwcfs = os.path.join(args.build, "fs", "hwcfs")
        self.tmp = None
        self.shm = None
        self.emu = None
        self.mounts = []
        self.rows = []
        self.extra = []
        self.short_runs = []  # (runs done, runs wanted) of the current case

    # -- emulator

    def start(self):
        if not os.access(self.hwcfs, os.X_OK):
            sys.exit("run.py: no hwcfs binary at %s (build it first)"
                     % self.hwcfs)
        self.tmp = tempfile.mkdtemp(prefix="hwcfs-bench-")
        # A short request log: /_emu/stats stays small with 100,000s of
        # requests; the counters are exact whatever the limit.
        self.emu = Emulator(latency_ms=self.args.latency_ms,
                            extra_args=["--log-limit", "1000"])
        self.emu.start()

    def stop(self):
        for m in list(self.mounts):
            try:
                m.unmount()
            except Exception as e:  # keep cleaning up
                print("run.py: unmount %s: %s" % (m.path, e),
                      file=sys.stderr)
        if self.emu is not None:
            self.emu.stop()
        self.drop_tmpfs_copy()
        if self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def latency(self, ms):
        self.emu.faults(latency_ms=ms)

    def reset(self):
        self.emu.reset()

    def counts(self):
        return {k: v for k, v in self.emu.stats()["requests"].items() if v}

    # -- measuring

    def timed(self, cmd, deadline, cwd=None):
        """Wall time of one command (argv list or shell string)."""
        shell = isinstance(cmd, str)
        t0 = time.monotonic()
        # Its own process group: a pipeline cut short by the time limit or
        # by Ctrl-C is killed whole, so no rm is left inside a mount.
        p = subprocess.Popen(cmd, shell=shell, cwd=cwd,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, start_new_session=True)
        try:
            _, err = p.communicate(timeout=deadline.left())
        except BaseException:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
            raise
        t = time.monotonic() - t0
        if p.returncode != 0:
            raise CaseError("%s exited %d: %s" % (
                cmd if shell else " ".join(cmd), p.returncode,
                err.decode(errors="replace")[-300:]))
        return t

    def measure(self, cmd, deadline, prepare=None, cwd=None):
        """runs x (prepare, reset counters, timed cmd, read counters):
        (median seconds, counts of the median run, all count sets)."""
        results = []
        slowest = 0.0
        for i in range(self.runs):
            # Another run only when it fits in what is left of the limit.
            if i and deadline.left() < 1.5 * slowest:
                self.short_runs.append((i, self.runs))
                break
            t0 = time.monotonic()
            if prepare:
                prepare()
            self.reset()
            t = self.timed(cmd, deadline, cwd)
            results.append((t, self.counts()))
            slowest = max(slowest, time.monotonic() - t0)
        results.sort(key=lambda r: r[0])
        median_t = statistics.median(t for t, _ in results)
        counts = results[len(results) // 2][1]
        return median_t, counts, [c for _, c in results]

    def same_counts(self, row, all_counts):
        distinct = {fmt_counts(c) for c in all_counts}
        if len(distinct) > 1:
            row.notes.append("requests differed between runs: %s"
                             % " | ".join(sorted(distinct)))
            return False
        return True

    # -- cases

    def case(self, number, what, fn):
        if number not in self.args.cases:
            return
        row = Row(number, what)
        self.rows.append(row)
        deadline = Deadline(self.sizes["case_limit"])
        self.short_runs = []
        t0 = time.monotonic()
        try:
            fn(row, deadline)
        except (CaseError, subprocess.TimeoutExpired, OSError,
                RuntimeError) as e:
            row.verdict = "ERROR"
            row.notes.append("error: %s" % e)
        finally:
            for m in list(self.mounts):
                m.unmount()
            self.drop_tmpfs_copy()
        for done, wanted in self.short_runs:
            row.notes.append("only %d of %d runs fitted in the case's "
                             "time limit of %.0f s" % (
                                 done, wanted, self.sizes["case_limit"]))
        print("  case %d done in %.1f s" % (number, time.monotonic() - t0),
              file=sys.stderr, flush=True)

    def seed_packages(self, n):
        self.emu.seed(packages=n, clear=True)

    def case_cold_ls(self, row, deadline):
        n = self.sizes["ls"]
        self.seed_packages(n)
        par = Mount(self, [], "parallel")
        t, counts, all_counts = self.measure(
            ["ls", "-l", par.p(PACKAGES)], deadline,
            prepare=lambda: par.refresh(PACKAGES))
        same = self.same_counts(row, all_counts)
        only_list = set(counts) == {"iotda.list"}
        row.result = fmt_seconds(t)
        row.requests = fmt_counts(counts)
        row.target = "< 0.75 s, >= 3x, only lists"
        row.verdict = "MISS"
        if n != 10000:
            row.notes.append("--quick: %d packages; the 0.75 s target is "
                             "for 10,000" % n)
        par.unmount()
        # The reference: the same walk one page at a time (a second mount).
        try:
            seq = Mount(self, ["no_parallel_list"], "sequential")
        except CaseError as e:
            row.reference = "no_parallel_list: no mount"
            row.notes.append("reference: %s" % e)
            return
        ref_t, ref_counts, ref_all = self.measure(
            ["ls", "-l", seq.p(PACKAGES)], deadline,
            prepare=lambda: seq.refresh(PACKAGES))
        self.same_counts(row, ref_all)
        ratio = ref_t / t
        row.reference = "no_parallel_list %s (%s)" % (
            fmt_seconds(ref_t), fmt_counts(ref_counts))
        row.ratio = "%.1fx faster" % ratio
        if t < 0.75 and ratio >= 3 and only_list and same:
            row.verdict = "PASS"

    def drop_tmpfs_copy(self):
        if self.shm:
            shutil.rmtree(self.shm, ignore_errors=True)
            self.shm = None

    def make_tmpfs_copy(self, m):
        """A tmpfs directory with the names, sizes and mtimes of the
        mount's packages (read warm: no request)."""
        self.drop_tmpfs_copy()
        self.shm = tempfile.mkdtemp(prefix="hwcfs-bench-", dir="/dev/shm")
        ref = os.path.join(self.shm, "packages")
        os.mkdir(ref)
        for e in os.scandir(m.p(PACKAGES)):
            st = e.stat(follow_symlinks=False)
            path = os.path.join(ref, e.name)
            with open(path, "wb") as f:
                f.truncate(st.st_size)
            os.utime(path, (st.st_mtime, st.st_mtime))
        return ref

    def case_warm_ls(self, row, deadline):
        n = self.sizes["ls"]
        self.seed_packages(n)
        m = Mount(self, [], "warm")
        self.timed(["ls", "-l", m.p(PACKAGES)], deadline)  # fills caches
        ref = self.make_tmpfs_copy(m)
        if len(os.listdir(ref)) != n:
            raise CaseError("tmpfs copy has %d files, not %d"
                            % (len(os.listdir(ref)), n))
        self.timed(["ls", "-l", m.p(PACKAGES)], deadline)  # warm again
        t, counts, all_counts = self.measure(["ls", "-l", m.p(PACKAGES)],
                                             deadline)
        same = self.same_counts(row, all_counts)
        self.timed(["ls", "-l", ref], deadline)
        ref_t, _, _ = self.measure(["ls", "-l", ref], deadline)
        ratio = t / ref_t
        row.result = fmt_seconds(t)
        row.requests = fmt_counts(counts)
        row.reference = "tmpfs %s" % fmt_seconds(ref_t)
        row.ratio = "%.2fx tmpfs" % ratio
        row.target = "0 requests, <= 1.5x tmpfs"
        row.verdict = "PASS" if not counts and same and ratio <= 1.5 \
            else "MISS"

    def case_find(self, row, deadline):
        n = self.sizes["ls"]
        self.seed_packages(n)
        m = Mount(self, [], "find")
        self.timed(["ls", "-l", m.p(PACKAGES)], deadline)  # warm
        cmd = "find %s -type f -mtime +30 | wc -l" % m.p(PACKAGES)
        out = subprocess.run(cmd, shell=True, capture_output=True,
                             timeout=deadline.left()).stdout.decode().strip()
        t, counts, all_counts = self.measure(cmd, deadline)
        same = self.same_counts(row, all_counts)
        # The same find over a tmpfs copy, for scale (not a target).
        ref = self.make_tmpfs_copy(m)
        ref_cmd = "find %s -type f -mtime +30 | wc -l" % ref
        ref_out = subprocess.run(ref_cmd, shell=True, capture_output=True,
                                 timeout=deadline.left()
                                 ).stdout.decode().strip()
        ref_t, _, _ = self.measure(ref_cmd, deadline)
        row.result = "%s (%s found)" % (fmt_seconds(t), out)
        row.requests = fmt_counts(counts)
        row.reference = "tmpfs %s (%s found)" % (fmt_seconds(ref_t), ref_out)
        row.ratio = "%.2fx tmpfs" % (t / ref_t)
        row.target = "0 requests"
        row.verdict = "PASS" if not counts and same and out == ref_out \
            else "MISS"
        if out != ref_out:
            row.notes.append("find counted %s on hwcfs, %s on tmpfs"
                             % (out, ref_out))

    def curl_loop_rate(self, deadline):
        """Deletes/s of a shell loop of curl -X DELETE, one process per
        delete, with an IAM token (as admins script it today)."""
        n = self.sizes["curl"]
        self.seed_packages(n)
        r = self.emu.iam_token()
        if r.status != 201:
            raise CaseError("IAM token: %r" % r)
        hdr = os.path.join(self.tmp, "token.hdr")
        fd = os.open(hdr, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("X-Auth-Token: %s\n" % self.emu.token)
        ids = [p["package_id"] for p in self.emu.state(brief=True)["packages"]]
        idfile = os.path.join(self.tmp, "ids")
        with open(idfile, "w") as f:
            f.write("\n".join(ids) + "\n")
        base = self.emu.url + self.emu.iotda_path()
        script = ('while read id; do curl -sf -o /dev/null -X DELETE '
                  '-H @"$1" "$2/$id" || exit 1; done < "$3"')
        self.reset()
        t = self.timed(["sh", "-c", script, "sh", hdr, base, idfile],
                       deadline)
        counts = self.counts()
        os.unlink(hdr)
        if counts != {"iotda.delete": n}:
            raise CaseError("curl loop sent %s" % fmt_counts(counts))
        return n / t, t, n

    def case_delete(self, row, deadline):
        n = self.sizes["delete"]
        curl_rate, curl_t, curl_n = self.curl_loop_rate(deadline)
        m = Mount(self, [], "delete")
        d = m.p(PACKAGES)

        def prepare():
            self.seed_packages(n)
            m.refresh(PACKAGES)
            # Listed before the clock starts: the case measures deletes.
            out = subprocess.run(["ls", d], capture_output=True,
                                 timeout=deadline.left()).stdout
            if len(out.split()) != n:
                raise CaseError("%d entries after seeding %d"
                                % (len(out.split()), n))

        t, counts, all_counts = self.measure(
            "ls | xargs -P 16 -n 50 rm", deadline, prepare=prepare, cwd=d)
        same = self.same_counts(row, all_counts)
        left = os.listdir(d)
        rate = n / t
        physical = 16 / (self.args.latency_ms / 1000.0) \
            if self.args.latency_ms else float("inf")
        exact = counts == {"iotda.delete": n} and same
        row.result = "%s = %.0f deletes/s" % (fmt_seconds(t), rate)
        row.requests = fmt_counts(counts)
        row.reference = ("limit %.0f/s; curl loop %.1f/s (%d deletes in "
                         "%s, scaled)" % (physical, curl_rate, curl_n,
                                          fmt_seconds(curl_t)))
        row.ratio = "%.0f%% of limit, %.1fx curl" % (
            100 * rate / physical, rate / curl_rate)
        row.target = ">= 500/s, >= 10x curl, exactly %d DELETEs" % n
        row.verdict = "PASS" if rate >= 500 and rate >= 10 * curl_rate \
            and exact and not left else "MISS"
        if left:
            row.notes.append("%d entries left after rm" % len(left))
        if "iotda.show" in counts:
            row.notes.append("iotda.show: lookups made after the listing's "
                             "cache_ttl (30 s) ran out during the run")

    def case_rm_r(self, row, deadline):
        k = self.sizes["versions"]
        name = "emu-provider-00001"
        m = Mount(self, [], "rmr")

        def prepare():
            self.emu.seed(providers=1, versions=k, clear=True)
            # Drop every cached entry: the provider is new each run.
            m.proc.send_signal(signal.SIGUSR2)
            time.sleep(0.2)

        t, counts, all_counts = self.measure(
            ["rm", "-r", m.p(PROVIDERS, name)], deadline, prepare=prepare)
        same = self.same_counts(row, all_counts)
        ref = (k + 1) * self.args.latency_ms / 1000.0
        ratio = t / ref if ref else float("inf")
        gone = not self.emu.state(brief=True)["providers"]
        row.result = fmt_seconds(t)
        row.requests = fmt_counts(counts)
        row.reference = "%d x %d ms = %s" % (k + 1, self.args.latency_ms,
                                              fmt_seconds(ref))
        row.ratio = "%.2fx" % ratio
        row.target = "<= 1.3x"
        deletes = counts.get("rfs.delete_version") == k and \
            counts.get("rfs.delete_provider") == 1
        row.verdict = "PASS" if ratio <= 1.3 and gone and deletes and same \
            else "MISS"
        if not gone:
            row.notes.append("the provider was still there after rm -r")

    # -- issue 13: the RFS registry, 4 kinds x N names x K versions

    RFS_KINDS = ("providers", "modules", "hooks", "templates")

    def rfs_tree_mount(self):
        """A mount of the seeded registry and a prepare() that drops every
        cached entry, so that each run is cold."""
        n, k = self.sizes["rfs_names"], self.sizes["rfs_versions"]
        self.emu.seed(clear=True, versions=k,
                      **{kind: n for kind in self.RFS_KINDS})
        m = Mount(self, [], "rfs")

        def prepare():
            m.proc.send_signal(signal.SIGUSR2)
            time.sleep(0.2)
        return m, prepare

    def rfs_row(self, row, t, counts, all_counts, ref, formula, limit):
        """Result, requests, the round-trip bound and the verdict: every
        list request, and nothing else, once, within limit x the bound."""
        n = self.sizes["rfs_names"]
        kinds = len(self.RFS_KINDS)
        same = self.same_counts(row, all_counts)
        lists = sum(v for op, v in counts.items()
                    if op.startswith("rfs.list_"))
        only_lists = lists == sum(counts.values()) == kinds * (n + 1)
        ratio = t / ref if ref else float("inf")
        row.result = fmt_seconds(t)
        row.requests = "%d: %s" % (sum(counts.values()), fmt_counts(counts))
        row.reference = "%s = %s" % (formula, fmt_seconds(ref))
        row.ratio = "%.2fx" % ratio
        row.target = "<= %gx, only lists" % limit
        row.verdict = "PASS" if ratio <= limit and only_lists and same \
            else "MISS"

    def case_rfs_ls_r(self, row, deadline):
        """ls -lR opens one directory at a time; the cache's readahead
        (readahead=W, default 16) lists the next W names' versions while
        the walk is on one. Per kind: the names' list, the first name's
        alone (one name is no walk), then a round trip per W names:
        kinds x (2 + ceil((names - 1) / W)) x latency."""
        n, lat, w = self.sizes["rfs_names"], self.args.latency_ms, 16
        kinds = len(self.RFS_KINDS)
        m, prepare = self.rfs_tree_mount()
        t, counts, all_counts = self.measure(
            ["ls", "-lR", m.p("rfs")], deadline, prepare=prepare)
        trips = kinds * (2 + -(-(n - 1) // w))
        self.rfs_row(row, t, counts, all_counts, trips * lat / 1000.0,
                     "%d x (2 + %d / %d) x %d ms" % (kinds, n - 1, w, lat),
                     1.5)

    # What ls -l does to a directory (readdir, then lstat of each entry),
    # from PAR threads of one process: the kinds of DIR first, then every
    # name under them.
    PARALLEL_LS = (
        "import concurrent.futures as cf, os, sys\n"
        "def ls_l(d):\n"
        "    with os.scandir(d) as it:\n"
        "        return [(e.path, e.stat(follow_symlinks=False))\n"
        "                for e in it]\n"
        "root, par = sys.argv[1], int(sys.argv[2])\n"
        "kinds = [e.path for e in os.scandir(root)]\n"
        "with cf.ThreadPoolExecutor(par) as ex:\n"
        "    names = [p for rows in ex.map(ls_l, kinds) for p, _ in rows]\n"
        "    n = sum(len(rows) for rows in ex.map(ls_l, names))\n"
        "assert n, 'no versions listed'\n")

    def case_rfs_parallel(self, row, deadline):
        """The same tree walked by a parallel lister, one process of P
        threads (P processes of ls would measure fork, not hwcfs): the
        kinds' lists in one round, then the names' in rounds of P at once:
        (1 + ceil(kinds x names / P)) x latency."""
        n, lat, par = self.sizes["rfs_names"], self.args.latency_ms, 16
        kinds = len(self.RFS_KINDS)
        m, prepare = self.rfs_tree_mount()
        cmd = [sys.executable, "-c", self.PARALLEL_LS, m.p("rfs"), str(par)]
        t, counts, all_counts = self.measure(cmd, deadline, prepare=prepare)
        rounds = 1 + -(-kinds * n // par)
        self.rfs_row(row, t, counts, all_counts, rounds * lat / 1000.0,
                     "(1 + %d x %d / %d) x %d ms" % (kinds, n, par, lat), 2)

    def case_memory(self, row, deadline):
        n = self.sizes["memory"]
        self.latency(0)
        try:
            self.seed_packages(n)
            per_mem, per_net, per_cpu, walls, counts = [], [], [], [], None
            for _ in range(self.runs):
                deadline.left()
                m = Mount(self, [], "memory")
                base_rss = proc_status(m.pid, "VmRSS")
                base_cpu = proc_cpu(m.pid)
                self.reset()
                walls.append(self.timed(["ls", "-l", m.p(PACKAGES)],
                                        deadline))
                hwm = proc_status(m.pid, "VmHWM")
                cpu = proc_cpu(m.pid) - base_cpu
                counts = self.counts()
                m.unmount()
                per_mem.append(hwm / n)
                per_net.append((hwm - base_rss) / n)
                per_cpu.append(cpu / n)
        finally:
            self.latency(self.args.latency_ms)
        mem = statistics.median(per_mem)
        net = statistics.median(per_net)
        cpu = statistics.median(per_cpu)
        wall = statistics.median(walls)
        row.result = "%.0f B/entry (%.0f net), %.1f us/entry" % (
            mem, net, cpu * 1e6)
        row.requests = fmt_counts(counts)
        row.reference = "VmHWM %.1f MiB; CPU %.2f s; ls -l %s; 0 ms latency" \
            % (mem * n / 2**20, cpu * n, fmt_seconds(wall))
        row.target = "<= 1.5 KiB, <= 20 us"
        row.verdict = "PASS" if mem <= 1536 and cpu <= 20e-6 else "MISS"

    # -- the emulator's own capacity

    def capacity(self, path, seconds, threads=16):
        """Requests/s the emulator answers to `threads` kept-alive
        connections sending token-authenticated GETs, no added latency."""
        token = self.emu.token
        stop = time.monotonic() + seconds
        done = [0] * threads
        errors = []

        def worker(i):
            conn = http.client.HTTPConnection(self.emu.host, self.emu.port,
                                              timeout=10)
            try:
                while time.monotonic() < stop:
                    conn.request("GET", path,
                                 headers={"X-Auth-Token": token})
                    r = conn.getresponse()
                    r.read()
                    if r.status != 200:
                        errors.append(r.status)
                        return
                    done[i] += 1
            except OSError as e:
                errors.append(str(e))
            finally:
                conn.close()

        t0 = time.monotonic()
        ts = [threading.Thread(target=worker, args=(i,))
              for i in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        elapsed = time.monotonic() - t0
        if errors:
            raise CaseError("capacity: %s" % errors[0])
        return sum(done) / elapsed

    def measure_capacity(self):
        self.latency(0)
        try:
            self.seed_packages(1000)
            if self.emu.iam_token().status != 201:
                raise CaseError("no IAM token")
            one = self.emu.state(brief=True)["packages"][0]["package_id"]
            secs = self.sizes["capacity_seconds"]
            show = self.capacity(self.emu.iotda_path(one), secs)
            page = self.capacity(self.emu.iotda_path() +
                                 "?package_type=firmwarePackage&limit=50",
                                 secs)
        finally:
            self.latency(self.args.latency_ms)
        self.extra.insert(0, (
            "emulator capacity (16 kept-alive connections, token auth, no "
            "latency, %.0f s each): %.0f show/s, %.0f list pages of 50/s"
            % (self.sizes["capacity_seconds"], show, page)))

    # -- output

    def print_table(self):
        head = ("case", "result (median of %d)" % self.runs, "requests",
                "reference", "ratio", "target", "")
        cells = [head]
        for r in self.rows:
            cells.append(("%d %s" % (r.case, r.what), r.result, r.requests,
                          r.reference, r.ratio, r.target, r.verdict))
        widths = [max(len(c[i]) for c in cells) for i in range(len(head))]
        print()
        for i, c in enumerate(cells):
            line = " | ".join(s.ljust(w) for s, w in zip(c, widths))
            if self.args.markdown:
                line = "| %s |" % line
            print(line if self.args.markdown else line.rstrip())
            if i == 0:
                sep = "-|-" if self.args.markdown else "-+-"
                line = sep.join("-" * w for w in widths)
                print("|-%s-|" % line if self.args.markdown else line)
        print()
        for r in self.rows:
            for note in r.notes:
                print("case %d: %s" % (r.case, note))
        for line in self.extra:
            print(line)


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) / 2**20
    return "%d CPUs (%s), %.1f GiB memory, kernel %s" % (
        os.cpu_count(), model, mem, os.uname().release)


def load():
    """The 1/5/15-minute load averages: other work skews the numbers."""
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build-bench"),
                    help="meson build directory holding fs/hwcfs")
    ap.add_argument("--quick", action="store_true",
                    help="fewer runs and smaller sizes")
    ap.add_argument("--runs", type=int, default=0,
                    help="runs per case (median); default 5, --quick 3")
    ap.add_argument("--cases", default="1,2,3,4,5,6,7,8",
                    help="comma-separated case numbers")
    ap.add_argument("--latency-ms", type=int, default=20,
                    help="latency the emulator adds per request")
    ap.add_argument("--no-capacity", action="store_true",
                    help="skip the emulator capacity line")
    ap.add_argument("--markdown", action="store_true",
                    help="print the table as Markdown")
    args = ap.parse_args()
    args.cases = {int(c) for c in args.cases.split(",") if c}
    sizes = QUICK if args.quick else FULL

    signal.signal(signal.SIGTERM, on_sigterm)
    bench = Bench(args, sizes)
    t0 = time.monotonic()
    print("hwcfs benchmark: %s; emulator latency %d ms per request; "
          "%d runs per case%s" % (bench.hwcfs, args.latency_ms, bench.runs,
                                  " (--quick sizes)" if args.quick else ""))
    print("machine: %s; load average %s" % (machine(), load()), flush=True)
    try:
        bench.start()
        if not args.no_capacity:
            try:
                bench.measure_capacity()
            except (CaseError, OSError) as e:
                bench.extra.insert(0, "emulator capacity: error: %s" % e)
        bench.case(1, "cold ls -l, %d packages" % sizes["ls"],
                   bench.case_cold_ls)
        bench.case(2, "warm ls -l, %d packages" % sizes["ls"],
                   bench.case_warm_ls)
        bench.case(3, "find -mtime +30, %d warm" % sizes["ls"],
                   bench.case_find)
        bench.case(4, "xargs -P 16 rm, %d packages" % sizes["delete"],
                   bench.case_delete)
        bench.case(5, "rm -r provider, %d versions" % sizes["versions"],
                   bench.case_rm_r)
        bench.case(6, "memory+CPU, %d packages" % sizes["memory"],
                   bench.case_memory)
        rfs = "4 kinds x %d names x %d versions" % (sizes["rfs_names"],
                                                     sizes["rfs_versions"])
        bench.case(7, "cold ls -lR rfs, " + rfs, bench.case_rfs_ls_r)
        bench.case(8, "cold parallel ls -l, " + rfs,
                   bench.case_rfs_parallel)
    except (KeyboardInterrupt, Interrupted):
        print("run.py: interrupted", file=sys.stderr)
        return 130
    finally:
        bench.stop()
    bench.print_table()
    print("total %.0f s; load average at the end %s" % (
        time.monotonic() - t0, load()))
    return 0 if all(r.verdict == "PASS" for r in bench.rows) else 1


if __name__ == "__main__":
    sys.exit(main())
