"""Counters, delete log, state, seeding, control calls, the command line and
the HTTP/1.1 plumbing of the emulator."""

import http.client
import json
import os
import re
import subprocess
import time
import urllib.parse
import uuid

import pytest

from emulator.harness import (Emulator, EmulatorError, PYTHON, RFS_ACTIONS,
                              RFS_KINDS, SCRIPT, rfs_op)

DAY = 86400
FW = {"package_type": "firmwarePackage"}
MOD = "modulePackage"
PROVIDERS = "/v1/private-providers"
HEX24 = re.compile(r"^[0-9a-f]{24}$")


def test_every_operation_is_counted_once(emu):
    emu.seed(packages=2, providers=2, versions=2)
    st = emu.state()
    pkg = st["packages"][0]["package_id"]
    emu.sign_and_request("GET", emu.iotda_path(), FW)
    emu.sign_and_request("GET", emu.iotda_path(pkg))
    emu.sign_and_request("DELETE", emu.iotda_path(pkg))
    emu.sign_and_request("POST", emu.iotda_path(), body={})
    emu.sign_and_request("GET", PROVIDERS)
    emu.sign_and_request("GET", PROVIDERS + "/emu-provider-00001/metadata")
    emu.sign_and_request("GET", PROVIDERS + "/emu-provider-00001/versions")
    emu.sign_and_request("GET", PROVIDERS +
                         "/emu-provider-00001/versions/1.0.0/metadata")
    emu.sign_and_request("DELETE", PROVIDERS +
                         "/emu-provider-00001/versions/1.0.0")
    emu.sign_and_request("DELETE", PROVIDERS + "/emu-provider-00002")
    emu.sign_and_request("POST", PROVIDERS, body={"provider_name": "n"})
    emu.sign_and_request("POST", PROVIDERS + "/n/versions", body={})
    for kind in RFS_KINDS[1:]:
        every_rfs_operation(emu, kind)
    emu.iam_token()
    emu.sign_and_request("GET", "/v3/projects", {"name": "cn-north-4"})
    emu.sign_and_request("GET", "/v9/nothing")
    stats = emu.stats()
    want = {"iotda.list": 1, "iotda.show": 1, "iotda.delete": 1,
            "iotda.create": 1, "rfs.list_providers": 1,
            "rfs.show_provider": 1, "rfs.delete_provider": 1,
            "rfs.list_versions": 1, "rfs.show_version": 1,
            "rfs.delete_version": 1, "rfs.create_provider": 1,
            "rfs.create_version": 1, "iam.token": 1, "iam.projects": 1,
            "other": 1}
    want.update((rfs_op(k, a), 1) for k in RFS_KINDS for a in RFS_ACTIONS)
    assert stats["requests"] == want
    assert stats["total"] == 15 + 3 * 8
    assert len(stats["log"]) == 15 + 3 * 8
    assert stats["log"][-1]["status"] == 404


def every_rfs_operation(emu, kind):
    """Each of a kind's eight operations once, on its seeded names."""
    first, second = "emu-%s-00001" % kind[:-1], "emu-%s-00002" % kind[:-1]
    emu.add_rfs(kind, first, ["V1" if kind == "templates" else "1.0.0"])
    emu.add_rfs(kind, second)
    version = "V1" if kind == "templates" else "1.0.0"
    emu.sign_and_request("GET", emu.rfs_path(kind))
    emu.sign_and_request("GET", emu.rfs_path(kind, first) + "/metadata")
    emu.sign_and_request("GET", emu.rfs_path(kind, first) + "/versions")
    emu.sign_and_request("GET", emu.rfs_path(kind, first, version) +
                         "/metadata")
    emu.sign_and_request("DELETE", emu.rfs_path(kind, first, version))
    emu.sign_and_request("DELETE", emu.rfs_path(kind, second))
    emu.sign_and_request("POST", emu.rfs_path(kind), body={})
    emu.sign_and_request("POST", emu.rfs_path(kind, "n") + "/versions",
                         body={})


def test_control_calls_are_not_counted(emu):
    emu.stats()
    emu.state()
    emu.faults()
    emu.seed(packages=1)
    assert emu.stats()["total"] == 0
    assert emu.stats()["log"] == []


def test_log_entries_describe_each_request(emu):
    emu.sign_and_request("GET", emu.iotda_path(), dict(FW, limit=5),
                         algo="v11")
    emu.sign_and_request("GET", PROVIDERS, {"limit": 10}, sk="bad")
    log = emu.stats()["log"]
    assert log[0] == {"op": "iotda.list", "method": "GET",
                      "path": emu.iotda_path(),
                      "query": "limit=5&package_type=firmwarePackage",
                      "params": {"limit": ["5"],
                                 "package_type": ["firmwarePackage"]},
                      "status": 200, "auth": "v11",
                      "host": "127.0.0.1:%d" % emu.port,
                      "content_type": "application/json"}
    assert log[1]["op"] == "rfs.list_providers"
    assert log[1]["status"] == 401 and log[1]["auth"] == "none"


def test_delete_log_lists_every_delete_with_outcome(emu):
    emu.seed(packages=2)
    emu.add_provider("hello", versions=["1.0.0", "2.0.0"])
    pid = emu.state()["providers"][0]["provider_id"]
    pkg = emu.state()["packages"][0]["package_id"]
    emu.sign_and_request("DELETE", emu.iotda_path(pkg))
    emu.sign_and_request("DELETE", emu.iotda_path(pkg))
    emu.sign_and_request("DELETE", PROVIDERS + "/hello/versions/1.0.0")
    emu.sign_and_request("DELETE", PROVIDERS + "/hello",
                         {"provider_id": str(uuid.uuid4())})
    emu.sign_and_request("DELETE", PROVIDERS + "/hello", {"provider_id": pid})
    assert emu.stats()["deletes"] == [
        {"op": "iotda.delete", "resource": pkg, "provider_id": None,
         "status": 204},
        {"op": "iotda.delete", "resource": pkg, "provider_id": None,
         "status": 404},
        {"op": "rfs.delete_version", "resource": "hello/1.0.0",
         "provider_id": None, "status": 204},
        {"op": "rfs.delete_provider", "resource": "hello",
         "provider_id": emu.stats()["deletes"][3]["provider_id"],
         "status": 400},
        {"op": "rfs.delete_provider", "resource": "hello",
         "provider_id": pid, "status": 204}]


def test_reset_zeroes_stats_but_keeps_state(emu):
    emu.seed(packages=4)
    emu.sign_and_request("GET", emu.iotda_path(), FW, sk="bad")
    pkg = emu.state()["packages"][0]["package_id"]
    emu.sign_and_request("DELETE", emu.iotda_path(pkg))
    assert emu.stats()["total"] == 2
    emu.reset()
    stats = emu.stats()
    assert stats["total"] == 0 and stats["auth_failures"] == 0
    assert stats["deletes"] == [] and stats["log"] == []
    assert all(v == 0 for v in stats["requests"].values())
    assert len(emu.state()["packages"]) == 3


def test_seed_counts_split_and_names(emu):
    r = emu.seed(packages=11, providers=3, versions=4)
    assert r == {"packages": 11, "providers": 3, "modules": 0, "hooks": 0,
                 "templates": 0}
    st = emu.state()
    types = [p["package_type"] for p in st["packages"]]
    assert types.count("firmwarePackage") == 6
    assert types.count("softwarePackage") == 5
    assert all(re.match(r"^[0-9a-f]{24}$", p["package_id"])
               for p in st["packages"])
    assert sorted(p["provider_name"] for p in st["providers"]) == [
        "emu-provider-00001", "emu-provider-00002", "emu-provider-00003"]
    for prov in st["providers"]:
        vs = [v["provider_version"] for v in prov["versions"]]
        assert vs == ["1.0.0", "1.0.1", "1.0.2", "1.0.3"]
        for v in prov["versions"]:
            assert v["provider_id"] == prov["provider_id"]
            assert re.match(r"^urn:fss:cn-north-4:[0-9a-f]{32}:function:"
                            r"default:[a-z0-9-]+:latest$",
                            v["function_graph_urn"])
            assert v["create_epoch_ms"] > prov["create_epoch_ms"]
    emu.seed(packages=1, providers=1)
    assert len(emu.state()["packages"]) == 12
    assert len(emu.state()["providers"]) == 4
    emu.seed(packages=2, clear=True)
    assert len(emu.state()["packages"]) == 2
    assert emu.state()["providers"] == []


def test_seeded_times_spread_over_400_days(emu):
    now = time.time()
    emu.seed(packages=40, providers=40, versions=1)
    st = emu.state()
    ages = sorted((now - p["create_epoch"]) / DAY for p in st["packages"])
    # ages are 5, 15, ..., 395 days (+- the seconds this test takes)
    for got, want in zip(ages, range(5, 400, 10)):
        assert abs(got - want) < 0.01
    # what `find -mtime +30` would select: whole days of age above 30
    assert sum(1 for a in ages if int(a) > 30) == 37
    for p in st["packages"]:
        assert p["create_time"] == time.strftime(
            "%Y%m%dT%H%M%SZ", time.gmtime(p["create_epoch"]))
    pages = sorted((now - p["create_epoch_ms"] / 1000) / DAY
                   for p in st["providers"])
    for got, want in zip(pages, range(5, 400, 10)):
        assert abs(got - want) < 0.01
    rids = [p["record_id"] for p in st["packages"]]
    epochs = [p["create_epoch"] for p in st["packages"]]
    assert rids == sorted(rids, reverse=True)
    assert epochs == sorted(epochs, reverse=True)


def test_add_package_with_fields_and_time(emu):
    pkg = emu.add_package(package_type="softwarePackage", version="V9",
                          create_time="20240102T030405Z")
    assert pkg["create_time"] == "20240102T030405Z"
    assert pkg["record_id"].startswith("%08x" % 1704164645)
    old = emu.add_package(age_days=100)
    assert abs(time.time() - old["create_epoch"] - 100 * DAY) < 5
    new = emu.add_package()
    assert new["record_id"] > old["record_id"] > pkg["record_id"]
    r = emu.sign_and_request("GET", emu.iotda_path(pkg["package_id"]))
    assert r.json()["version"] == "V9"
    emu.delete_package(pkg["package_id"])
    assert emu.sign_and_request("GET", emu.iotda_path(
        pkg["package_id"])).status == 404


def test_add_package_with_its_own_id_and_type(emu):
    pkg = emu.add_package(package_id="0123abcd-x", package_type=MOD)
    assert pkg["package_id"] == "0123abcd-x"
    assert pkg["package_type"] == MOD and pkg["module_name"] == "module-a"
    assert pkg["record_id"] != pkg["package_id"]
    r = emu.sign_and_request("GET", emu.iotda_path("0123abcd-x"))
    assert r.status == 200 and r.json()["module_name"] == "module-a"
    assert emu.request("POST", "/_emu/packages",
                       {"package_id": "0123abcd-x"}).status == 409
    # any string goes (hostile names), but it must be one
    assert emu.request("POST", "/_emu/packages",
                       {"package_id": 7}).status == 400
    assert len(emu.state()["packages"]) == 1


def test_seed_package_types_in_turn(emu):
    emu.seed(packages=7, package_types=[FW["package_type"], MOD])
    types = [p["package_type"] for p in reversed(emu.state()["packages"])]
    assert types == [FW["package_type"], MOD] * 3 + [FW["package_type"]]
    for bad in ([], ["zipPackage"], [MOD, MOD], "x"):
        r = emu.request("POST", "/_emu/seed",
                        {"packages": 1, "package_types": bad})
        assert r.status == 400
    assert len(emu.state()["packages"]) == 7


def test_add_provider_version_and_delete_behind_the_clients_back(emu):
    p = emu.add_provider("hello", versions=["1.0.0"],
                         create_time="2024-01-02T03:04:05.678Z")
    assert p["create_time"] == "2024-01-02T03:04:05.678Z"
    v = emu.add_version("hello", "1.1.0", age_days=1)
    assert v["provider_id"] == p["provider_id"]
    r = emu.sign_and_request("GET", PROVIDERS + "/hello/versions")
    assert sorted(x["provider_version"] for x in r.json()["versions"]) == \
        ["1.0.0", "1.1.0"]
    emu.delete_provider("hello")
    assert emu.sign_and_request("GET", PROVIDERS +
                                "/hello/metadata").status == 404
    q = emu.add_provider("hello")
    assert q["provider_id"] != p["provider_id"]
    assert emu.request("DELETE", "/_emu/providers/none").status == 404
    assert emu.request("POST", "/_emu/providers",
                       {"provider_name": "hello"}).status == 409
    assert emu.stats()["total"] == 2


def test_state_holds_full_objects(emu):
    emu.seed(packages=1, providers=1, versions=1)
    st = emu.state()
    pkg = st["packages"][0]
    assert "file_location" in pkg and "create_time" in pkg
    r = emu.sign_and_request("GET", emu.iotda_path(pkg["package_id"]))
    assert {k: v for k, v in pkg.items()
            if k not in ("create_epoch", "record_id")} == r.json()
    prov = st["providers"][0]
    r = emu.sign_and_request("GET", PROVIDERS + "/%s/metadata" %
                             prov["provider_name"])
    assert {k: v for k, v in prov.items()
            if k not in ("versions", "create_epoch_ms")} == r.json()
    assert st["project_id"] == emu.project_id


def test_every_answer_has_request_id_and_length_on_one_connection(emu):
    emu.seed(packages=3)
    pkg = emu.state()["packages"][0]["package_id"]
    conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=10)
    try:
        seen = set()
        for method, path in [("GET", "/_emu/stats"),
                             ("GET", emu.iotda_path() + "?package_type=x"),
                             ("GET", "/v9/unknown"),
                             ("POST", "/v3/auth/tokens"),
                             ("DELETE", emu.iotda_path(pkg))]:
            conn.request(method, path, headers={"X-Auth-Token": "nope"}
                         if method == "DELETE" else {})
            r = conn.getresponse()
            body = r.read()
            assert r.version == 11 and not r.will_close
            rid = r.getheader("X-Request-Id")
            assert rid and rid not in seen
            seen.add(rid)
            assert int(r.getheader("Content-Length")) == len(body)
    finally:
        conn.close()


def test_unknown_api_path_is_gateway_404(emu):
    r = emu.sign_and_request("GET", "/v5/iot/x/other")
    assert r.status == 404 and r.json()["error_code"] == "APIGW.0101"
    r = emu.sign_and_request("PUT", PROVIDERS)
    assert r.status == 404
    assert emu.stats()["requests"]["other"] == 2


def test_command_line_seed_port_file_and_banner(tmp_path):
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({
        "packages": [{"package_type": "softwarePackage", "version": "V7",
                      "age_days": 45}],
        "providers": [{"provider_name": "from-file",
                       "versions": ["1.0.0", "1.0.1"]}],
        "faults": {"retry_after": 4}}))
    with Emulator(packages=6, providers=2, versions=3, latency_ms=1,
                  seed_file=str(seed), random_seed=9) as emu:
        st = emu.state()
        assert len(st["packages"]) == 7
        assert len(st["providers"]) == 3
        assert {p["provider_name"]: len(p["versions"])
                for p in st["providers"]}["from-file"] == 2
        faults = emu.faults()
        assert faults["latency_ms"] == 1 and faults["retry_after"] == 4
        assert "emulator listening on http://127.0.0.1:%d" % emu.port in \
            emu.output()
        ids1 = sorted(p["provider_id"] for p in st["providers"]
                      if p["provider_name"].startswith("emu-provider-"))
    # the same --random-seed gives the same provider ids
    with Emulator(providers=2, random_seed=9) as emu:
        ids2 = sorted(p["provider_id"] for p in emu.state()["providers"])
    assert len(ids1) == 2 and ids1 == ids2


def test_command_line_and_seed_file_package_types(tmp_path):
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"packages": 2,
                                "package_types": ["softwarePackage"]}))
    with Emulator(packages=3, package_types=[MOD],
                  seed_file=str(seed)) as emu:
        types = [p["package_type"] for p in emu.state()["packages"]]
        assert sorted(types) == [MOD] * 3 + ["softwarePackage"] * 2
    with pytest.raises(EmulatorError):
        Emulator(package_types=["zipPackage"]).start()


def test_port_file_written_only_when_listening(tmp_path):
    port_file = tmp_path / "port"
    proc = subprocess.Popen([PYTHON, SCRIPT, "--port", "0", "--port-file",
                             str(port_file)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    try:
        line = proc.stdout.readline().decode()
        m = re.match(r"^emulator listening on http://127\.0\.0\.1:(\d+)\n$",
                     line)
        assert m
        assert port_file.read_text().strip() == m.group(1)
        conn = http.client.HTTPConnection("127.0.0.1", int(m.group(1)),
                                          timeout=10)
        conn.request("GET", "/_emu/stats")
        assert conn.getresponse().status == 200
        conn.close()
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stdout.close()


def test_harness_stop_reaps_the_process():
    emu = Emulator()
    emu.start()
    pid = emu.pid
    tmpdir = emu.tmpdir
    assert os.path.isdir(tmpdir)
    emu.stop()
    assert emu.pid is None and not os.path.exists(tmpdir)
    try:
        os.kill(pid, 0)
        alive = True
    except ProcessLookupError:
        alive = False
    assert not alive
    emu.stop()  # idempotent


def test_bad_command_line_fails_start():
    emu = Emulator(extra_args=["--key", "no-colon"])
    try:
        emu.start()
        started = True
    except RuntimeError as e:
        started = False
        assert "AK:SK" in str(e)
    assert not started and emu.proc is None and emu.tmpdir is None


def test_log_limit_keeps_newest_entries():
    with Emulator(extra_args=["--log-limit", "3"]) as emu:
        for limit in range(1, 6):
            emu.sign_and_request("GET", emu.iotda_path(),
                                 dict(FW, limit=limit))
        stats = emu.stats()
        assert stats["total"] == 5 and stats["requests"]["iotda.list"] == 5
        assert [e["params"]["limit"] for e in stats["log"]] == \
            [["3"], ["4"], ["5"]]
        assert stats["log_dropped"] == 2


def test_harness_endpoints_point_at_the_emulator(emu):
    ep = emu.endpoints()
    assert ep["iotda_endpoint"] == ep["rfs_endpoint"] == \
        ep["iam_endpoint"] == "http://127.0.0.1:%d" % emu.port
    assert "region=cn-north-4" in emu.mount_options().split(",")
    assert emu.env() == {"HUAWEICLOUD_SDK_AK": "EMULATORAK0123456789",
                         "HUAWEICLOUD_SDK_SK":
                         "emulator/secret+key/0123456789abcdefgh"}


def test_records_with_any_name_are_listed_shown_and_deleted(emu):
    # Names no create call accepts (the SDK only says versions follow
    # semantic versioning): a record can still hold them, and the API
    # answers for them under their percent-encoded path segment.
    odd = "pkg 100%?#+\u00e9"
    emu.add_package(package_id=odd)
    emu.add_provider("Prov Name+%\u00e9", versions=["1.0.0-beta"])
    q = urllib.parse.quote
    listed = emu.sign_and_request("GET", emu.iotda_path(), FW).json()
    assert [p["package_id"] for p in listed["packages"]] == [odd]
    assert HEX24.match(listed["page"]["marker"])
    assert emu.sign_and_request("GET", emu.iotda_path(odd)).status == 200
    vpath = PROVIDERS + "/" + q("Prov Name+%\u00e9", safe="") + "/versions"
    assert emu.sign_and_request(
        "GET", vpath + "/1.0.0-beta/metadata").status == 200
    assert emu.sign_and_request("DELETE", vpath + "/1.0.0-beta").status \
        == 204
    assert emu.sign_and_request("DELETE", emu.iotda_path(odd)).status == 204
    assert [d["resource"] for d in emu.stats()["deletes"]] == [
        "Prov Name+%\u00e9/1.0.0-beta", odd]
    # a name no record has is still checked against the pattern
    assert emu.sign_and_request("GET", emu.iotda_path("a b")).status == 400
    # bytes that are not UTF-8 never stand for a name
    emu.add_package(package_id="\ufffd")
    assert emu.sign_and_request(
        "GET", emu.iotda_path() + "/%FF").status == 400


def test_add_package_refuses_a_taken_package_id(emu):
    emu.add_package(package_id="same")
    r = emu.request("POST", "/_emu/packages", {"package_id": "same"})
    assert r.status == 409
