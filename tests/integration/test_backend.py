"""test_backend.py - the HTTP backend on its own (no mount), driven by
tests/tools/backend_tool against the emulator: complete listings, the
parallel IoTDA walk, every row of the error table produced by an emulator
fault, deletes (one per call, never for an invalid name, provider_id always
sent), dry run, signing, IAM tokens, and no secret in any output."""

import os
import random
import shutil
import subprocess
import time

import pytest

from conftest import BUILD, clean_env, emulator_opts, sanitizer_report
from emulator.harness import AK, SK, PASSWORD, Emulator

TOOL = os.path.join(BUILD, "tests", "tools", "backend_tool")
PID_OTHER = "00000000-0000-4000-8000-000000000000"
MISSING_PACKAGE = "0123456789abcdef01234567"

# Every output of every tool run, for the secret scan at the end.
ALL_OUTPUT = []


class ToolRun:
    def __init__(self, proc, elapsed):
        self.code = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr
        self.elapsed = elapsed

    @property
    def entries(self):
        """name -> (mtime, json length, provider_id) of printed entries."""
        out = {}
        for line in self.out.splitlines():
            f = line.split("\t")
            if len(f) == 4:
                assert f[0] not in out, "entry printed twice: " + f[0]
                out[f[0]] = (int(f[1]), int(f[2]), f[3])
        return out

    @property
    def errno(self):
        """The errno name of the first failure printed."""
        for line in self.err.splitlines():
            if line[:1] == "E" and ":" in line:
                name = line.split(":", 1)[0]
                if name.isupper():
                    return name
        return None


def tool(emu, *cmd, opts=(), env=None, keys=True, services=("iotda", "rfs"),
         debug=True, timeout=60, stdin=None, project=True):
    """Runs backend_tool against emu; fails the test on a sanitizer
    report."""
    if not os.access(TOOL, os.X_OK):
        pytest.fail("no backend_tool at %s (set HWCFS_BUILD)" % TOOL)
    child_env, home = clean_env(emu, keys, env)
    o = emulator_opts(emu, services)
    if not project:
        o = [x for x in o if not x.startswith("project_id=")]
    argv = [TOOL] + (["-d"] if debug else []) + \
        ["-o", ",".join(o + list(opts))] + list(cmd)
    try:
        t0 = time.monotonic()
        proc = subprocess.run(argv, env=child_env, capture_output=True,
                              timeout=timeout, errors="surrogateescape",
                              input=stdin if stdin is not None else "")
        elapsed = time.monotonic() - t0
    finally:
        shutil.rmtree(home, ignore_errors=True)
    ALL_OUTPUT.append(proc.stdout + proc.stderr)
    report = sanitizer_report(proc.stderr)
    if report:
        pytest.fail("sanitizer report from backend_tool: %s\n%s"
                    % (report, proc.stderr))
    return ToolRun(proc, elapsed)


def log_of(emu, op=None):
    return [e for e in emu.stats()["log"] if op is None or e["op"] == op]


def package_ids(emu):
    return {p["package_id"] for p in emu.state(brief=True)["packages"]}


def a_package(emu, **fields):
    fields.setdefault("package_type", "firmwarePackage")
    return emu.add_package(**fields)["package_id"]


# ------------------------------------------------------------ listings


def test_list_1200_packages_of_both_types_each_once(emulator):
    emulator.seed(packages=1200)
    r = tool(emulator, "list", "iotda/packages")
    assert r.code == 0, r.err
    names = r.entries
    assert len(names) == 1200
    assert set(names) == package_ids(emulator)
    for mtime, length, pid in names.values():
        assert mtime > 1600000000 and length > 50 and pid == "-"


def test_iotda_walk_fetches_offset_pages_in_parallel_rounds(emulator):
    emulator.seed(packages=1200)  # 600 of each type
    r = tool(emulator, "list", "iotda/packages")
    assert r.code == 0, r.err
    lists = log_of(emulator, "iotda.list")
    # Per type: page 0 alone (it tells page.count), then offsets 50..500
    # at once after the same (no) marker, then, after the marker of offset
    # 500's last record, the 50 left and the empty page that ends the walk.
    # No module package: its page 0 alone.
    assert len(lists) == 27
    mods = [e["params"] for e in lists
            if e["params"]["package_type"] == ["modulePackage"]]
    assert mods == [{"package_type": ["modulePackage"], "limit": ["50"]}]
    for ptype in ("firmwarePackage", "softwarePackage"):
        mine = [e["params"] for e in lists
                if e["params"]["package_type"] == [ptype]]
        assert all(p["limit"] == ["50"] for p in mine)
        first = [p for p in mine if "marker" not in p]
        assert sorted(int(p.get("offset", ["0"])[0]) for p in first) == \
            list(range(0, 550, 50))
        after = [p for p in mine if "marker" in p]
        assert len({p["marker"][0] for p in after}) == 1
        assert sorted(int(p.get("offset", ["0"])[0]) for p in after) == \
            [0, 50]


def test_small_iotda_listing_costs_one_request_per_type(emulator):
    for _ in range(3):
        a_package(emulator)
    r = tool(emulator, "list", "iotda/packages")
    assert r.code == 0, r.err
    assert len(r.entries) == 3
    assert emulator.count("iotda.list") == 3


def test_parallel_list_off_walks_one_page_at_a_time(emulator):
    emulator.seed(packages=1200)
    r = tool(emulator, "list", "iotda/packages", opts=["parallel_list=0"])
    assert r.code == 0, r.err
    assert len(r.entries) == 1200
    lists = log_of(emulator, "iotda.list")
    # 600 a type: 12 full pages and one empty page that ends the walk;
    # module packages: one empty page.
    assert len(lists) == 27
    assert all("offset" not in e["params"] for e in lists)


def test_list_1500_providers_each_once(emulator):
    emulator.seed(providers=1500)
    r = tool(emulator, "list", "rfs/providers")
    assert r.code == 0, r.err
    names = r.entries
    state = emulator.state()["providers"]
    assert len(names) == 1500
    assert {p["provider_name"]: p["provider_id"] for p in state} == \
        {n: v[2] for n, v in names.items()}
    lists = log_of(emulator, "rfs.list_providers")
    assert len(lists) == 2  # 1000 + 500
    assert all(e["params"]["limit"] == ["1000"] for e in lists)


def test_many_threads_share_one_backend(emulator):
    emulator.seed(packages=1200, providers=1500)
    r = tool(emulator, "stress", "8", "iotda/packages", "::",
             "stress", "8", "rfs/providers", debug=False)
    assert r.code == 0, r.err
    assert r.out.splitlines() == ["stress ok 1200", "stress ok 1500"]
    # 8 threads x 5 listings, each exactly as many requests as one.
    assert emulator.count("iotda.list") == 40 * 27
    assert emulator.count("rfs.list_providers") == 40 * 2


def test_list_versions_carry_provider_id(emulator):
    emulator.add_provider("prov-a", versions=["1.0.0", "1.2.3"])
    pid = emulator.state()["providers"][0]["provider_id"]
    r = tool(emulator, "list", "rfs/providers/prov-a")
    assert r.code == 0, r.err
    assert set(r.entries) == {"1.0.0", "1.2.3"}
    assert all(v[2] == pid for v in r.entries.values())
    assert emulator.count("rfs.list_versions") == 1


def test_show_package_is_pretty_json_with_newline(emulator):
    pid = a_package(emulator)
    r = tool(emulator, "show", "iotda/packages/" + pid)
    assert r.code == 0, r.err
    first, body = r.out.split("\n", 1)
    assert first.split("\t")[0] == pid
    assert int(first.split("\t")[2]) == len(body.encode())
    assert body.endswith("}\n") and '\t"package_id":\t"%s"' % pid in body
    assert emulator.count("iotda.show") == 1


# ------------------------------------------------------------ signing


def test_emulator_verified_both_algorithms(emulator):
    a_package(emulator)
    emulator.add_provider("prov-a")
    assert tool(emulator, "list", "iotda/packages").code == 0
    assert tool(emulator, "list", "rfs/providers").code == 0
    assert tool(emulator, "list", "iotda/packages",
                opts=["signing=sdk"]).code == 0
    auth = [(e["op"].split(".")[0], e["auth"]) for e in log_of(emulator)]
    iotda = [a for s, a in auth if s == "iotda"]
    # 127.0.0.1 is not a regional host: auto picks V11 for IoTDA.
    assert iotda == ["v11"] * 3 + ["sdk"] * 3
    assert [a for s, a in auth if s == "rfs"] == ["sdk"]
    assert emulator.stats()["auth_failures"] == 0


def test_wrong_sk_is_refused_and_never_retried(emulator):
    r = tool(emulator, "show", "iotda/packages/" + MISSING_PACKAGE,
             env={"HUAWEICLOUD_SDK_SK": "wrong/secret"})
    assert r.code == 1 and r.errno == "EACCES"
    assert emulator.count("iotda.show") == 1
    assert emulator.stats()["auth_failures"] == 1


def test_wrong_sk_costs_one_list_request_per_type(emulator):
    emulator.seed(packages=1200)
    r = tool(emulator, "list", "iotda/packages",
             env={"HUAWEICLOUD_SDK_SK": "wrong/secret"})
    assert r.errno == "EACCES"
    # Not a round of 11 offset pages: five failures lock a key.
    assert emulator.count("iotda.list") == 3
    assert emulator.stats()["auth_failures"] == 3


def test_check_explains_a_401_in_one_line(emulator):
    r = tool(emulator, "check", services=("iotda",),
             env={"HUAWEICLOUD_SDK_SK": "wrong/secret"})
    assert r.code == 1
    line = [x for x in r.err.splitlines() if x.startswith("iotda: 401")]
    assert len(line) == 1
    assert "APIGW.0301" in line[0] and "check the AK/SK" in line[0]
    assert "request_id=" in line[0]
    assert emulator.count("iotda.list") == 1


def test_check_passes_with_good_keys(emulator):
    r = tool(emulator, "check")
    assert r.code == 0 and r.out == "ok\n", r.err
    lists = log_of(emulator, "iotda.list")
    assert len(lists) == 1 and lists[0]["params"]["limit"] == ["1"]
    assert emulator.count("rfs.list_providers") == 1


def test_project_id_is_looked_up_from_iam(emulator):
    a_package(emulator)
    r = tool(emulator, "list", "iotda/packages", project=False)
    assert r.code == 0, r.err
    assert len(r.entries) == 1
    assert emulator.count("iam.projects") == 1


def test_http_endpoint_must_be_loopback(emulator):
    r = tool(emulator, "list", "iotda/packages",
             opts=["iotda_endpoint=http://example.com"])
    assert r.code == 1 and "loopback" in r.err
    assert emulator.stats()["total"] == 0


def test_unconfigured_service_is_enoent(emulator):
    r = tool(emulator, "list", "iotda/packages", services=("rfs",))
    assert r.errno == "ENOENT"
    assert emulator.stats()["total"] == 0


# ------------------------------------------------------------ error table


def test_404_is_enoent(emulator):
    r = tool(emulator, "show", "iotda/packages/" + MISSING_PACKAGE)
    assert r.errno == "ENOENT"
    assert emulator.count("iotda.show") == 1


def test_403_is_eacces_not_retried(emulator):
    pid = a_package(emulator)
    emulator.faults(status_for=[{"match": pid, "status": 403}])
    r = tool(emulator, "show", "iotda/packages/" + pid)
    assert r.errno == "EACCES"
    assert emulator.count("iotda.show") == 1


def test_400_is_einval(emulator):
    pid = a_package(emulator)
    emulator.faults(status_for=[{"match": pid, "status": 400}])
    r = tool(emulator, "show", "iotda/packages/" + pid)
    assert r.errno == "EINVAL"
    assert emulator.count("iotda.show") == 1


def test_409_is_ebusy(emulator):
    pid = a_package(emulator)
    emulator.faults(status_for=[{"match": pid, "status": 409,
                                 "method": "DELETE"}])
    r = tool(emulator, "delete", "iotda/packages/" + pid)
    assert r.errno == "EBUSY"
    assert emulator.count("iotda.delete") == 1


def test_iotda_throttling_403_is_retried_then_succeeds(emulator):
    pid = a_package(emulator)
    emulator.faults(throttle=1)
    r = tool(emulator, "show", "iotda/packages/" + pid)
    assert r.code == 0, r.err
    shows = log_of(emulator, "iotda.show")
    assert [e["status"] for e in shows] == [403, 200]


def test_throttling_spent_is_eagain(emulator):
    pid = a_package(emulator)
    emulator.faults(throttle=10)
    r = tool(emulator, "show", "iotda/packages/" + pid, opts=["retries=2"])
    assert r.errno == "EAGAIN"
    assert emulator.count("iotda.show") == 3


def test_gateway_429_is_retried_then_eagain(emulator):
    emulator.add_provider("prov-a")
    emulator.faults(throttle=10, throttle_style="apigw")
    r = tool(emulator, "show", "rfs/providers/prov-a", opts=["retries=1"])
    assert r.errno == "EAGAIN"
    assert [e["status"] for e in log_of(emulator, "rfs.show_provider")] == \
        [429, 429]


def test_rfs_429_honours_retry_after(emulator):
    emulator.add_provider("prov-a")
    emulator.faults(throttle=1, retry_after=2)
    r = tool(emulator, "show", "rfs/providers/prov-a")
    assert r.code == 0, r.err
    assert emulator.count("rfs.show_provider") == 2
    assert r.elapsed >= 2.0  # waited at least what Retry-After asked


def test_retry_after_beyond_the_deadline_fails_at_once(emulator):
    emulator.add_provider("prov-a")
    emulator.faults(throttle=5, retry_after=60)
    r = tool(emulator, "show", "rfs/providers/prov-a", opts=["timeout=3"])
    assert r.errno == "EAGAIN"
    assert emulator.count("rfs.show_provider") == 1


def test_5xx_is_retried_then_eio(emulator):
    pid = a_package(emulator)
    emulator.faults(error_rate=1.0)
    r = tool(emulator, "show", "iotda/packages/" + pid, opts=["retries=2"])
    assert r.errno == "EIO"
    assert [e["status"] for e in log_of(emulator, "iotda.show")] == \
        [500, 500, 500]


def test_5xx_on_a_list_page_is_retried(emulator):
    emulator.add_provider("prov-a")
    emulator.faults(status_for=[{"match": "/v1/private-providers",
                                 "status": 503}])
    r = tool(emulator, "list", "rfs/providers", opts=["retries=1"])
    assert r.errno == "EIO"
    assert emulator.count("rfs.list_providers") == 2


@pytest.mark.parametrize("fault", ["malformed_rate", "truncate_rate"])
def test_malformed_or_truncated_json_is_eio(emulator, fault):
    emulator.add_provider("prov-a")
    emulator.faults(**{fault: 1.0})
    r = tool(emulator, "list", "rfs/providers")
    assert r.errno == "EIO"
    assert emulator.count("rfs.list_providers") == 1
    assert "not a JSON object" in r.err or "no providers array" in r.err


@pytest.mark.parametrize("hostile", ["huge_body", "deep_json",
                                     "marker_stuck"])
def test_hostile_iotda_answers_are_eio(emulator, hostile):
    emulator.seed(packages=1200)
    emulator.faults(hostile=hostile)
    r = tool(emulator, "list", "iotda/packages")
    assert r.code == 1 and r.errno == "EIO"
    # Found on the first page of each type (huge or deep bodies), or
    # (a stuck marker) at the first marker the walk needs: after offsets
    # 0..500, before it asks for any record twice.
    assert emulator.count("iotda.list") == \
        (23 if hostile == "marker_stuck" else 3)


def test_next_marker_loop_is_eio(emulator):
    emulator.seed(providers=2500)
    emulator.faults(hostile="next_marker_loop")
    r = tool(emulator, "list", "rfs/providers")
    assert r.errno == "EIO"
    assert emulator.count("rfs.list_providers") == 2


def test_duplicates_across_pages_are_listed_once(emulator):
    emulator.seed(packages=1200, providers=1500)
    emulator.faults(hostile="duplicates")
    r = tool(emulator, "list", "iotda/packages")
    assert r.code == 0, r.err
    assert set(r.entries) == package_ids(emulator)
    r = tool(emulator, "list", "rfs/providers")
    assert r.code == 0, r.err
    assert len(r.entries) == 1500


def test_invalid_names_from_the_cloud_are_dropped(emulator):
    pid = a_package(emulator)
    emulator.faults(hostile="bad_names")
    r = tool(emulator, "list", "iotda/packages")
    assert r.code == 0, r.err
    assert set(r.entries) == {pid}


def test_stall_is_etimedout_within_the_timeout(emulator):
    pid = a_package(emulator)
    emulator.faults(stall=True)
    try:
        r = tool(emulator, "show", "iotda/packages/" + pid,
                 opts=["timeout=2"])
    finally:
        emulator.clear_faults()
    assert r.errno == "ETIMEDOUT"
    assert r.elapsed < 3.0
    assert emulator.count("iotda.show") == 1


def test_connection_refused_is_econnrefused(emulator):
    # A port nothing listens on: bind one, learn its number, close it.
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    url = "http://127.0.0.1:%d" % port
    r = tool(emulator, "list", "rfs/providers",
             opts=["rfs_endpoint=" + url, "retries=1", "timeout=5"])
    assert r.errno == "ECONNREFUSED"


def first_draws(seed, n):
    """The emulator's first n fault draws for --random-seed seed."""
    rng = random.Random(seed + 1)
    return [rng.random() for _ in range(n)]


def test_dropped_connection_is_retried():
    # A seed whose first fault draw drops (< 0.5) and second does not.
    seed = next(s for s in range(1, 1000)
                if first_draws(s, 2)[0] < 0.5 <= first_draws(s, 2)[1])
    with Emulator(random_seed=seed) as emu:
        pid = a_package(emu)
        emu.faults(drop_rate=0.5)
        r = tool(emu, "delete", "iotda/packages/" + pid)
        assert r.code == 0, r.err
        deletes = emu.stats()["deletes"]
        assert [d["status"] for d in deletes] == [None, 204]
        assert pid not in package_ids(emu)


def test_delete_whose_answer_was_lost_counts_as_done(emulator, tmp_path):
    # The first DELETE is done but its answer lost; the retry is told 404.
    pid = a_package(emulator)
    other = a_package(emulator)
    emulator.faults(lose_delete_answers=1)
    audit = tmp_path / "audit.log"
    r = tool(emulator, "delete", "iotda/packages/" + pid,
             opts=["audit_log=%s" % audit])
    assert r.code == 0, r.err
    deletes = emulator.stats()["deletes"]
    assert [(d["resource"], d["status"]) for d in deletes] == \
        [(pid, 204), (pid, 404)]
    assert deletes[0]["answer_lost"] is True
    assert package_ids(emulator) == {other}
    assert "outcome=deleted" in audit.read_text()


def test_dropped_connections_spent_is_eio(emulator):
    pid = a_package(emulator)
    emulator.faults(drop_rate=1.0)
    r = tool(emulator, "show", "iotda/packages/" + pid, opts=["retries=2"])
    assert r.errno == "EIO"
    assert emulator.count("iotda.show") == 3


# ------------------------------------------------------------ deletes


def test_delete_package_sends_one_delete(emulator, tmp_path):
    pid = a_package(emulator)
    other = a_package(emulator)
    audit = tmp_path / "audit.log"
    r = tool(emulator, "delete", "iotda/packages/" + pid,
             opts=["audit_log=%s" % audit])
    assert r.code == 0, r.err
    deletes = emulator.stats()["deletes"]
    assert [(d["resource"], d["status"]) for d in deletes] == [(pid, 204)]
    assert package_ids(emulator) == {other}
    lines = audit.read_text().splitlines()
    assert len(lines) == 1
    assert "delete iotda/packages/%s" % pid in lines[0]
    assert "outcome=deleted" in lines[0] and "request_id=" in lines[0]


def test_delete_missing_package_is_enoent_after_one_delete(emulator):
    r = tool(emulator, "delete", "iotda/packages/" + MISSING_PACKAGE)
    assert r.errno == "ENOENT"
    assert len(emulator.stats()["deletes"]) == 1


@pytest.mark.parametrize("path", [
    "iotda/packages/bad_name",
    "iotda/packages/" + "a" * 37,
    "rfs/providers/Bad-Provider",
    "rfs/providers/prov-a/01.0.0",
    "rfs/providers/prov-a/1.0",
])
def test_no_request_for_an_invalid_name(emulator, path):
    emulator.add_provider("prov-a", versions=["1.0.0"])
    emulator.reset()
    r = tool(emulator, "delete", path, "--provider-id", PID_OTHER)
    assert r.errno == "ENOENT"
    r = tool(emulator, "show", path)
    assert r.errno == "ENOENT"
    assert emulator.stats()["total"] == 0


def test_provider_delete_carries_its_provider_id(emulator):
    emulator.add_provider("prov-a")
    pid = emulator.state()["providers"][0]["provider_id"]
    r = tool(emulator, "delete", "rfs/providers/prov-a")
    assert r.code == 0, r.err
    deletes = emulator.stats()["deletes"]
    assert [(d["resource"], d["provider_id"], d["status"])
            for d in deletes] == [("prov-a", pid, 204)]
    # Emptiness was asked of the cloud first, with the same id.
    checks = log_of(emulator, "rfs.list_versions")
    assert len(checks) == 1
    assert checks[0]["params"]["provider_id"] == [pid]


def test_provider_id_mismatch_is_estale(emulator):
    emulator.add_provider("prov-a")
    r = tool(emulator, "delete", "rfs/providers/prov-a", "--cascade",
             "--provider-id", PID_OTHER)
    assert r.errno == "ESTALE"
    deletes = emulator.stats()["deletes"]
    assert [(d["provider_id"], d["status"]) for d in deletes] == \
        [(PID_OTHER, 400)]
    assert len(emulator.state()["providers"]) == 1


def test_provider_id_mismatch_on_the_emptiness_check_is_estale(emulator):
    emulator.add_provider("prov-a")
    r = tool(emulator, "delete", "rfs/providers/prov-a",
             "--provider-id", PID_OTHER)
    assert r.errno == "ESTALE"
    assert emulator.stats()["deletes"] == []
    assert emulator.count("rfs.list_versions") == 1


def test_provider_with_versions_is_enotempty_without_delete(emulator):
    emulator.add_provider("prov-a", versions=["1.0.0"])
    r = tool(emulator, "delete", "rfs/providers/prov-a")
    assert r.errno == "ENOTEMPTY"
    assert emulator.stats()["deletes"] == []


def test_cascade_deletes_provider_with_versions_in_one_call(emulator):
    emulator.add_provider("prov-a", versions=["1.0.0", "1.0.1"])
    r = tool(emulator, "delete", "rfs/providers/prov-a", "--cascade")
    assert r.code == 0, r.err
    deletes = emulator.stats()["deletes"]
    assert [d["op"] for d in deletes] == ["rfs.delete_provider"]
    assert emulator.count("rfs.list_versions") == 0
    assert emulator.state()["providers"] == []


def test_version_delete_sends_provider_id(emulator):
    emulator.add_provider("prov-a", versions=["1.0.0", "1.0.1"])
    pid = emulator.state()["providers"][0]["provider_id"]
    r = tool(emulator, "delete", "rfs/providers/prov-a/1.0.0")
    assert r.code == 0, r.err
    deletes = emulator.stats()["deletes"]
    assert [(d["resource"], d["provider_id"], d["status"])
            for d in deletes] == [("prov-a/1.0.0", pid, 204)]
    versions = emulator.state()["providers"][0]["versions"]
    assert [v["provider_version"] for v in versions] == ["1.0.1"]


def test_dry_run_deletes_nothing_and_hides_until_forget(emulator, tmp_path):
    pid = a_package(emulator)
    emulator.add_provider("prov-a", versions=["1.0.0", "1.0.1"])
    audit = tmp_path / "audit.log"
    r = tool(emulator,
             "delete", "iotda/packages/" + pid, "::",
             "list", "iotda/packages", "::",
             # rm -r: the versions, then the provider, which is now empty
             # as far as this mount can tell.
             "delete", "rfs/providers/prov-a/1.0.0", "::",
             "delete", "rfs/providers/prov-a/1.0.1", "::",
             "delete", "rfs/providers/prov-a", "::",
             "list", "rfs/providers", "::",
             "forget", "::",
             "list", "iotda/packages",
             opts=["dry_run", "audit_log=%s" % audit])
    assert r.code == 0, r.err
    assert emulator.stats()["deletes"] == []
    assert r.out.count("deleted ") == 4
    # Hidden right after its delete, back after forget.
    lines = r.out.splitlines()
    assert lines[1].startswith("deleted rfs/providers/prov-a/1.0.0")
    assert [x for x in lines if x.startswith(pid)] and \
        lines[-1].startswith(pid)
    assert sum(1 for x in lines if x.startswith(pid)) == 1
    assert not any(x.startswith("prov-a\t") for x in lines)
    assert "would delete" in r.err
    text = audit.read_text()
    assert text.count("outcome=dry-run") == 4
    assert package_ids(emulator) == {pid}


# ------------------------------------------------------------ IAM tokens


def password_config(tmp_path, emu, mode=0o600):
    cfg = tmp_path / "config"
    cfg.write_text("[default]\niam_user = demo\niam_password = %s\n"
                   "iam_domain = demo\n" % PASSWORD)
    os.chmod(cfg, mode)
    return {"HWCFS_CONFIG": str(cfg)}


def test_password_login_fetches_one_token(emulator, tmp_path):
    a_package(emulator)
    r = tool(emulator, "list", "iotda/packages", keys=False,
             env=password_config(tmp_path, emulator), project=False)
    assert r.code == 0, r.err
    assert len(r.entries) == 1
    assert emulator.count("iam.token") == 1
    assert {e["auth"] for e in log_of(emulator, "iotda.list")} == {"token"}


def test_expired_token_is_refreshed_once(emulator, tmp_path):
    a_package(emulator)
    env, home = clean_env(emulator, False,
                          password_config(tmp_path, emulator))
    argv = [TOOL, "-o", ",".join(emulator_opts(emulator)),
            "list", "iotda/packages", "::", "pause", "::",
            "list", "iotda/packages"]
    try:
        proc = subprocess.Popen(argv, env=env, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            while proc.stdout.readline().strip() != "paused":
                pass
            emulator.faults(expire_tokens=True)
            out, err = proc.communicate("\n", timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    finally:
        shutil.rmtree(home, ignore_errors=True)
    ALL_OUTPUT.append(out + err)
    assert sanitizer_report(err) is None, err
    assert proc.returncode == 0, err
    assert emulator.count("iam.token") == 2
    statuses = [e["status"] for e in log_of(emulator, "iotda.list")]
    assert statuses.count(401) == 3  # the three types, then one login
    assert "fetching a new token" in err


def test_token_rejected_after_refresh_is_eacces(emulator, tmp_path):
    emulator.faults(status_for=[{"match": "/ota-upgrades/", "status": 401}])
    r = tool(emulator, "show", "iotda/packages/" + MISSING_PACKAGE,
             keys=False, env=password_config(tmp_path, emulator))
    assert r.errno == "EACCES"
    assert emulator.count("iam.token") == 2
    assert emulator.count("iotda.show") == 2


def test_wrong_password_fails_setup(emulator, tmp_path):
    cfg = tmp_path / "config"
    cfg.write_text("[default]\niam_user = demo\niam_password = nope\n"
                   "iam_domain = demo\n")
    os.chmod(cfg, 0o600)
    r = tool(emulator, "list", "iotda/packages", keys=False,
             env={"HWCFS_CONFIG": str(cfg)})
    assert r.code == 1 and "login as demo failed" in r.err
    assert emulator.count("iam.token") == 1


# ------------------------------------------------------------ TLS


def make_ca_and_server_cert(d):
    """A CA and a server certificate for 127.0.0.1 signed by it."""
    def ossl(*args):
        subprocess.run(["openssl"] + list(args), cwd=d, check=True,
                       capture_output=True)
    ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=hwcfs test CA", "-keyout", "ca.key", "-out", "ca.pem")
    ossl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
         "-keyout", "srv.key", "-out", "srv.csr")
    with open(os.path.join(d, "ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    ossl("x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey",
         "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "ext",
         "-out", "srv.pem")
    return os.path.join(d, "ca.pem"), os.path.join(d, "srv.pem"), \
        os.path.join(d, "srv.key")


@pytest.fixture
def tls_server(tmp_path):
    """An HTTPS server on loopback that answers every GET with an empty
    provider page; yields (url, ca file, list of paths it served)."""
    import http.server
    import ssl
    import threading

    ca, cert, key = make_ca_and_server_cert(str(tmp_path))
    served = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            served.append(self.path)
            body = b'{"providers": [], "page_info": {"current_count": 0}}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    try:
        yield "https://127.0.0.1:%d" % srv.server_address[1], ca, served
    finally:
        srv.shutdown()
        srv.server_close()
        t.join()


def test_tls_is_verified_and_cafile_adds_a_ca(emulator, tls_server):
    url, ca, served = tls_server
    r = tool(emulator, "list", "rfs/providers", services=(),
             opts=["rfs_endpoint=" + url, "retries=0"])
    assert r.errno == "EIO"  # unknown CA: the handshake fails
    assert served == []
    r = tool(emulator, "list", "rfs/providers", services=(),
             opts=["rfs_endpoint=" + url, "cafile=" + ca])
    assert r.code == 0, r.err
    assert served == ["/v1/private-providers?limit=1000"]


def test_unreadable_cafile_fails_setup(emulator, tmp_path):
    r = tool(emulator, "list", "rfs/providers",
             opts=["cafile=%s" % (tmp_path / "missing.pem")])
    assert r.code == 1 and "missing.pem" in r.err
    assert emulator.stats()["total"] == 0


# ------------------------------------------------------------ secrets


def test_no_secret_in_any_output(emulator, tmp_path):
    """Runs last in this file: every tool output of the file so far, plus
    a debug run of each path that handles a secret."""
    a_package(emulator)
    emulator.add_provider("prov-a")
    tool(emulator, "list", "iotda/packages", "::", "list", "rfs/providers",
         "::", "check")
    tool(emulator, "check", env={"HUAWEICLOUD_SDK_SK": "wrong/secret"})
    tool(emulator, "list", "rfs/providers", keys=False,
         env=password_config(tmp_path, emulator))
    text = "\n".join(ALL_OUTPUT)
    assert len(ALL_OUTPUT) >= 3
    for secret in (AK, SK, PASSWORD, "wrong/secret"):
        assert secret not in text
    # Emulator tokens are ~9 KB blobs starting "MII".
    assert "MII" not in text
    assert "Authorization" not in text and "X-Subject-Token" not in text
