"""mountlib.py - helpers shared by the acceptance tests of the mount
(test_mount_*.py): shell commands with C-locale messages, request
deltas, the IoTDA walk's request count, the bad-name list and the
emulator's objects as hwcfs should show them."""

import errno
import json
import math
import os
import subprocess
import time

PACKAGES = "iotda/packages"
PROVIDERS = "rfs/providers"
DAY = 86400

HERE = os.path.dirname(os.path.abspath(__file__))
BAD_NAMES = os.path.join(os.path.dirname(HERE), "data", "bad_names.txt")

# What the shell prints for each errno the tests expect (LC_ALL=C).
MESSAGES = {
    errno.ENOENT: "No such file or directory",
    errno.EACCES: "Permission denied",
    errno.EAGAIN: "Resource temporarily unavailable",
    errno.EIO: "Input/output error",
    errno.ENOTEMPTY: "Directory not empty",
    errno.ESTALE: "Stale file handle",
    errno.EROFS: "Read-only file system",
    errno.EPERM: "Operation not permitted",
    errno.ENAMETOOLONG: "File name too long",
}

# The fields the emulator's state adds to the API's objects.
STATE_ONLY = ("create_epoch", "create_epoch_ms", "versions", "record_id")


def sh(cmd, timeout=120):
    """A command (argv list or shell string) with English messages;
    output as text (undecodable bytes kept as surrogates)."""
    env = dict(os.environ, LC_ALL="C", LANG="C")
    return subprocess.run(cmd, shell=isinstance(cmd, str), env=env,
                          capture_output=True, timeout=timeout,
                          errors="surrogateescape",
                          stdin=subprocess.DEVNULL)


def errno_of(fn, *args):
    """The errno fn(*args) fails with, or 0."""
    try:
        fn(*args)
    except OSError as e:
        return e.errno
    return 0


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def total(emulator):
    return emulator.stats()["total"]


def delta_of(emulator, action):
    """(action's result, {op: count} served meanwhile, zero counts left
    out, and "total" included when anything was served)."""
    before = emulator.stats()
    result = action()
    after = emulator.stats()
    delta = {op: n - before["requests"].get(op, 0)
             for op, n in after["requests"].items()
             if n != before["requests"].get(op, 0)}
    if after["total"] != before["total"]:
        delta["total"] = after["total"] - before["total"]
    return result, delta


def deletes(emulator):
    """The emulator's log of DELETEs: [{op, resource, provider_id,
    status}] in arrival order."""
    return emulator.stats()["deletes"]


def package_ids(emulator):
    return {p["package_id"] for p in emulator.state(brief=True)["packages"]}


def providers(emulator):
    """{name: provider object with its "versions" list} of the state."""
    return {p["provider_name"]: p for p in emulator.state()["providers"]}


def iotda_walk_requests(n, page=50, max_offset=500):
    """How many list requests hwcfs's walk of one package type with n
    packages sends (docs/backend.md, Listings): page 0 alone, then rounds
    of the pages page.count says are left plus the short page that ends
    the walk, at offsets up to max_offset after the same marker, then
    the same after the marker of the round's last record."""
    base = 0            # records before the current marker
    got = min(page, n)  # page 0
    requests = 1
    fetched = got
    offset = page
    while got == page:
        room = (max_offset - offset) // page + 1
        left = n - fetched
        pages = min(left // page + 1 if left > 0 else 1, room)
        requests += pages
        for p in range(pages):
            got = max(0, min(page, n - base - (offset + p * page)))
            fetched += got
            if got < page:
                break
        if got < page:
            break
        offset += pages * page
        if offset > max_offset:
            base += offset
            offset = 0
    return requests


def iotda_list_requests(emulator):
    """The list requests of one hwcfs listing of iotda/packages, the three
    types walked (an empty one costs its page 0), for the emulator's
    current state."""
    by_type = {"firmwarePackage": 0, "softwarePackage": 0,
               "modulePackage": 0}
    for p in emulator.state(brief=True)["packages"]:
        by_type[p["package_type"]] += 1
    return sum(iotda_walk_requests(n) for n in by_type.values())


def api_object(state_obj):
    """An object of the emulator's state without its state-only fields."""
    return {k: v for k, v in state_obj.items() if k not in STATE_ONLY}


def assert_content_is(data, state_obj):
    """data (a file's bytes) is the pretty JSON of the API object: every
    field it holds is the emulator's, and it holds every field of the
    list answer (file_location and a version's provider_source only come
    with a show answer)."""
    assert data.endswith(b"\n"), data[-40:]
    shown = json.loads(data)
    want = api_object(state_obj)
    if "provider_version" in want and "provider_source" in shown:
        # Only a version's show answer has it (docs/cloud-api.md, RFS).
        want["provider_source"] = \
            "huawei.com/private-provider/" + want["provider_name"]
    for k, v in shown.items():
        assert k in want, "field %s is not the emulator's" % k
        assert v == want[k], "field %s: %r != %r" % (k, v, want[k])
    missing = set(want) - set(shown) - {"file_location"}
    assert not missing, "fields missing: %s" % sorted(missing)


def mtime_of(state_obj):
    """The whole-second mtime hwcfs should show for a state object."""
    if "create_epoch" in state_obj:
        return state_obj["create_epoch"]
    return state_obj["create_epoch_ms"] // 1000


def older_than(epoch, days, now):
    """What find -mtime +days selects: whole days of age above days."""
    return math.floor((now - epoch) / DAY) > days


def ls_rows(out):
    """{name: (mode, size, mtime)} of `ls -l --time-style=+%s` output."""
    rows = {}
    for line in out.splitlines():
        f = line.split(None, 6)
        if len(f) < 7 or line.startswith("total"):
            continue
        rows[f[6]] = (f[0], int(f[4]), int(f[5]))
    return rows


def refresh(path):
    """setfattr -n user.hwcfs.refresh -v 1 path; asserts it worked."""
    r = sh(["setfattr", "-n", "user.hwcfs.refresh", "-v", "1", path])
    assert r.returncode == 0, r.stderr


def wait_until(cond, timeout=10.0, step=0.05):
    """Polls cond() until true (for asynchronous effects such as a
    signal being handled); returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(step)


def unescape(text):
    """A NAME of bad_names.txt as bytes: \\xHH and \\\\ escapes."""
    out = bytearray()
    i = 0
    raw = text.encode("ascii")
    while i < len(raw):
        c = raw[i:i + 1]
        if c == b"\\" and raw[i + 1:i + 2] == b"\\":
            out += b"\\"
            i += 2
        elif c == b"\\" and raw[i + 1:i + 2] == b"x":
            out.append(int(raw[i + 2:i + 4], 16))
            i += 4
        else:
            out += c
            i += 1
    return bytes(out)


def bad_names():
    """[(kinds, name bytes)] of tests/data/bad_names.txt; kinds is a set
    of "package", "provider", "version"."""
    names = []
    with open(BAD_NAMES, encoding="ascii") as f:
        for line in f.read().split("\n"):
            if not line or line.startswith("#"):
                continue
            kinds, _, name = line.partition(" ")
            kinds = {"package", "provider", "version"} if kinds == "all" \
                else set(kinds.split(","))
            names.append((kinds, unescape(name)))
    return names
