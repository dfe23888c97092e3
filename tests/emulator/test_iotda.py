"""IoTDA OTA package API rules (docs/cloud-api.md), over plain HTTP."""

import re

import pytest

FW = "firmwarePackage"
SW = "softwarePackage"
MOD = "modulePackage"


def listing(emu, **query):
    return emu.sign_and_request("GET", emu.iotda_path(), query)


def ids_of(resp):
    return [p["package_id"] for p in resp.json()["packages"]]


def state_ids(emu, ptype, field="package_id"):
    """The packages of ptype in list order (newest record first): their
    package ids, or their record ids with field="record_id"."""
    return [p[field] for p in emu.state(brief=True)["packages"]
            if p["package_type"] == ptype]


def record_ids(emu, ptype):
    return state_ids(emu, ptype, "record_id")


def assert_iotda_error(resp, status, code):
    assert resp.status == status, resp
    assert resp.json() == {"error_code": code,
                           "error_msg": resp.json()["error_msg"]}
    assert resp.header("X-Request-Id")


def test_list_requires_package_type(emu):
    emu.seed(packages=4)
    assert_iotda_error(listing(emu), 400, "IOTDA.000006")


@pytest.mark.parametrize("ptype", ["firmware", "FirmwarePackage", ""])
def test_list_rejects_unknown_package_type(emu, ptype):
    assert_iotda_error(listing(emu, package_type=ptype), 400, "IOTDA.000006")


def test_list_accepts_all_three_package_types(emu):
    emu.seed(packages=4)
    for ptype, n in ((FW, 2), (SW, 2), (MOD, 0)):
        r = listing(emu, package_type=ptype)
        assert r.status == 200
        assert len(r.json()["packages"]) == n
        assert all(p["package_type"] == ptype for p in r.json()["packages"])


@pytest.mark.parametrize("limit,code", [("0", "IOTDA.000017"),
                                        ("51", "IOTDA.000017"),
                                        ("-1", "IOTDA.000006"),
                                        ("ten", "IOTDA.000006")])
def test_list_limit_out_of_range_is_400(emu, limit, code):
    assert_iotda_error(listing(emu, package_type=FW, limit=limit), 400, code)


def test_list_limit_bounds_and_default(emu):
    emu.seed(packages=120)
    assert len(ids_of(listing(emu, package_type=FW))) == 10
    assert len(ids_of(listing(emu, package_type=FW, limit=1))) == 1
    assert len(ids_of(listing(emu, package_type=FW, limit=50))) == 50


@pytest.mark.parametrize("offset", ["-1", "501", "x"])
def test_list_offset_out_of_range_is_400(emu, offset):
    assert_iotda_error(listing(emu, package_type=FW, offset=offset), 400,
                       "IOTDA.000006")


def test_list_offset_500_is_allowed(emu):
    emu.seed(packages=1104)  # 552 firmware
    r = listing(emu, package_type=FW, offset=500, limit=50)
    assert r.status == 200
    assert ids_of(r) == state_ids(emu, FW)[500:550]


@pytest.mark.parametrize("marker", ["abc", "f" * 23, "f" * 25, "g" * 24,
                                    "0123456789abcdef0123456-"])
def test_list_marker_must_be_24_hex(emu, marker):
    assert_iotda_error(listing(emu, package_type=FW, marker=marker), 400,
                       "IOTDA.000018")


def test_list_is_newest_first_by_record_id(emu):
    emu.seed(packages=60)
    r = listing(emu, package_type=FW, limit=50)
    ids = ids_of(r)
    assert ids == state_ids(emu, FW)
    rids = record_ids(emu, FW)
    assert rids == sorted(rids, reverse=True)
    times = [p["create_time"] for p in r.json()["packages"]]
    assert times == sorted(times, reverse=True)
    assert all(re.match(r"^\d{8}T\d{6}Z$", t) for t in times)


def test_list_marker_is_strictly_below(emu):
    emu.seed(packages=40)
    all_ids = state_ids(emu, FW)
    mark = record_ids(emu, FW)[5]
    r = listing(emu, package_type=FW, marker=mark, limit=50)
    assert ids_of(r) == all_ids[6:]
    # a marker that is no record's id works the same way
    between = "%024x" % (int(mark, 16) - 1)
    assert ids_of(listing(emu, package_type=FW, marker=between,
                          limit=50)) == all_ids[6:]
    # upper-case hex is still 24 hex digits
    assert ids_of(listing(emu, package_type=FW, marker=mark.upper(),
                          limit=50)) == all_ids[6:]


def test_list_offset_skips_after_marker(emu):
    emu.seed(packages=60)
    all_ids = state_ids(emu, FW)
    mark = record_ids(emu, FW)[2]
    r = listing(emu, package_type=FW, marker=mark, offset=3, limit=5)
    assert ids_of(r) == all_ids[6:11]
    r = listing(emu, package_type=FW, offset=4, limit=3)
    assert ids_of(r) == all_ids[4:7]


def test_page_marker_is_last_record_id_and_count_is_total(emu):
    emu.seed(packages=50)
    all_ids, rids = state_ids(emu, FW), record_ids(emu, FW)
    r = listing(emu, package_type=FW, limit=7, offset=2, marker=rids[3])
    page = r.json()["page"]
    assert ids_of(r) == all_ids[6:13]
    assert page["marker"] == rids[12]
    assert page["count"] == 25  # all matching filters, whatever the marker
    r = listing(emu, package_type=FW, marker=rids[-1])
    assert r.json()["packages"] == []
    assert r.json()["page"]["count"] == 25
    assert "marker" not in r.json()["page"]


def test_list_filters_and_their_count(emu):
    emu.seed(packages=16)
    pkgs = [p for p in emu.state()["packages"] if p["package_type"] == FW]
    product = pkgs[0]["product_id"]
    want = [p["package_id"] for p in pkgs if p["product_id"] == product]
    r = listing(emu, package_type=FW, product_id=product, limit=50)
    assert ids_of(r) == want
    assert r.json()["page"]["count"] == len(want) < len(pkgs)
    r = listing(emu, package_type=FW, version=pkgs[1]["version"])
    assert ids_of(r) == [pkgs[1]["package_id"]]
    assert_iotda_error(listing(emu, package_type=FW, app_id="a" * 37), 400,
                       "IOTDA.000006")


def test_walk_of_1200_packages_returns_each_once(emu):
    emu.seed(packages=2400)
    seen, marker, requests = [], None, 0
    while True:
        q = {"package_type": FW, "limit": 50}
        if marker:
            q["marker"] = marker
        r = listing(emu, **q)
        requests += 1
        assert r.status == 200
        page = ids_of(r)
        seen += page
        if len(page) < 50:
            break
        marker = r.json()["page"]["marker"]
    assert len(seen) == 1200 == len(set(seen))
    assert seen == state_ids(emu, FW)
    assert requests == 25
    assert emu.stats()["requests"]["iotda.list"] == 25


def walk(emu, ptype, next_marker, most=40):
    """Pages of ptype (limit 50) until a short page, an error or `most`
    requests; next_marker(answer) gives the marker of the next page."""
    seen, marker = [], None
    for _ in range(most):
        q = {"package_type": ptype, "limit": 50}
        if marker:
            q["marker"] = marker
        r = listing(emu, **q)
        if r.status != 200:
            break
        seen += ids_of(r)
        if len(ids_of(r)) < 50:
            break
        marker = next_marker(r)
    return seen


def test_page_marker_is_no_package_id(emu):
    emu.seed(packages=1200)
    rids = record_ids(emu, FW)
    pids = set(state_ids(emu, FW))
    assert pids.isdisjoint(rids)
    # Package ids look like markers (24 hex) but are not record ids.
    assert all(re.match(r"^[0-9a-f]{24}$", pid) for pid in pids)
    marker = None
    for k in range(12):
        q = {"package_type": FW, "limit": 50}
        if marker:
            q["marker"] = marker
        r = listing(emu, **q)
        marker = r.json()["page"]["marker"]
        assert marker == rids[50 * k + 49]
        assert marker not in pids
        assert all(p["package_id"] != marker for p in r.json()["packages"])


def test_paging_by_package_id_gives_a_wrong_listing(emu):
    emu.seed(packages=1200)
    want = state_ids(emu, FW)
    by_marker = walk(emu, FW, lambda r: r.json()["page"]["marker"])
    assert by_marker == want
    by_id = walk(emu, FW, lambda r: ids_of(r)[-1])
    # Some records are skipped or repeated: never the listing.
    assert by_id != want
    assert sorted(by_id) != sorted(want)


def test_module_packages_are_listed_by_their_type_only(emu):
    emu.seed(packages=90, package_types=[FW, SW, MOD])
    for ptype in (FW, SW, MOD):
        r = listing(emu, package_type=ptype, limit=50)
        assert r.json()["page"]["count"] == 30
        assert ids_of(r) == state_ids(emu, ptype)
        assert all(p["package_type"] == ptype for p in r.json()["packages"])
        assert all(("module_name" in p) == (ptype == MOD)
                   for p in r.json()["packages"])


def test_list_stays_correct_at_100000_packages(emu):
    emu.seed(packages=100000)
    r = listing(emu, package_type=SW, limit=50)
    assert r.json()["page"]["count"] == 50000
    low = "%024x" % (int(r.json()["page"]["marker"], 16) - 10 ** 6)
    r = listing(emu, package_type=SW, marker=low, offset=500, limit=50)
    below = [p for p in emu.state(brief=True)["packages"]
             if p["package_type"] == SW and p["record_id"] < low]
    assert ids_of(r) == [p["package_id"] for p in below[500:550]]
    assert r.json()["page"]["marker"] == below[549]["record_id"]


def test_show_package_has_file_location(emu):
    emu.seed(packages=2)
    pid = state_ids(emu, FW)[0]
    r = emu.sign_and_request("GET", emu.iotda_path(pid))
    assert r.status == 200 and r.header("X-Request-Id")
    body = r.json()
    assert body["package_id"] == pid
    obs = body["file_location"]["obs_location"]
    assert set(obs) == {"region_name", "bucket_name", "object_key",
                        "sign_method", "sign"}
    assert re.match(r"^[0-9a-f]{64}$", obs["sign"])
    listed = listing(emu, package_type=FW).json()["packages"][0]
    assert "file_location" not in listed
    assert {k: v for k, v in body.items() if k != "file_location"} == listed


def test_show_and_delete_unknown_package_is_404(emu):
    missing = "0" * 24
    for method in ("GET", "DELETE"):
        r = emu.sign_and_request(method, emu.iotda_path(missing))
        assert_iotda_error(r, 404, "IOTDA.EMU404")


def test_bad_package_id_is_400(emu):
    r = emu.sign_and_request("GET", emu.iotda_path("a.b"))
    assert_iotda_error(r, 400, "IOTDA.000006")
    r = emu.sign_and_request("GET", emu.iotda_path("a" * 37))
    assert_iotda_error(r, 400, "IOTDA.000006")


def test_delete_package_is_204_empty_and_gone(emu):
    emu.seed(packages=4)
    pid = state_ids(emu, SW)[1]
    r = emu.sign_and_request("DELETE", emu.iotda_path(pid))
    assert r.status == 204 and r.body == b""
    assert r.header("Content-Type") is None and r.header("X-Request-Id")
    assert pid not in state_ids(emu, SW)
    assert len(state_ids(emu, SW)) == 1
    assert emu.sign_and_request("GET", emu.iotda_path(pid)).status == 404


def test_wrong_project_in_path_is_403(emu):
    path = emu.iotda_path(project="f" * 32)
    r = emu.sign_and_request("GET", path, {"package_type": FW})
    assert_iotda_error(r, 403, "IOTDA.EMU403")


CREATE = {"app_id": "app1", "package_type": FW, "product_id": "prod1",
          "version": "V2.0", "file_location": {"obs_location": {
              "region_name": "cn-north-4", "bucket_name": "abc",
              "object_key": "bbb/upgrade.bin"}}}


def test_create_package_is_201_with_newest_id(emu):
    emu.seed(packages=6)
    r = emu.sign_and_request("POST", emu.iotda_path(), body=CREATE)
    assert r.status == 201
    pkg = r.json()
    assert re.match(r"^[0-9a-f]{24}$", pkg["package_id"])
    assert re.match(r"^\d{8}T\d{6}Z$", pkg["create_time"])
    assert pkg["product_name"] and pkg["version"] == "V2.0"
    assert pkg["file_location"]["obs_location"]["object_key"] == \
        "bbb/upgrade.bin"
    assert state_ids(emu, FW)[0] == pkg["package_id"]
    r2 = emu.sign_and_request("POST", emu.iotda_path(), body=CREATE)
    assert state_ids(emu, FW)[:2] == [r2.json()["package_id"],
                                      pkg["package_id"]]
    assert emu.stats()["requests"]["iotda.create"] == 2


def test_create_module_package_needs_its_module_name(emu):
    body = dict(CREATE, package_type=MOD, module_name="wifi.fw-1")
    r = emu.sign_and_request("POST", emu.iotda_path(), body=body)
    assert r.status == 201
    assert r.json()["module_name"] == "wifi.fw-1"
    assert state_ids(emu, MOD) == [r.json()["package_id"]]
    for bad in (dict(CREATE, package_type=MOD),
                dict(CREATE, module_name="wifi"),
                dict(CREATE, package_type=MOD, module_name="a/b"),
                dict(CREATE, package_type=MOD, module_name="m" * 65)):
        r = emu.sign_and_request("POST", emu.iotda_path(), body=bad)
        assert_iotda_error(r, 400, "IOTDA.000006")
    assert len(emu.state()["packages"]) == 1


def test_create_package_validates_body(emu):
    r = emu.sign_and_request("POST", emu.iotda_path(), body="{not json")
    assert_iotda_error(r, 400, "IOTDA.000008")
    for drop in ("app_id", "product_id", "version", "file_location"):
        body = {k: v for k, v in CREATE.items() if k != drop}
        r = emu.sign_and_request("POST", emu.iotda_path(), body=body)
        assert_iotda_error(r, 400, "IOTDA.000006")
    body = dict(CREATE, package_type="zipPackage")
    r = emu.sign_and_request("POST", emu.iotda_path(), body=body)
    assert_iotda_error(r, 400, "IOTDA.000006")
    assert emu.state()["packages"] == []
