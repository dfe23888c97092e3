"""RFS private provider API rules (docs/cloud-api.md, RFS), over plain HTTP."""

import re
import uuid

import pytest

PROVIDERS = "/v1/private-providers"
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def rfs(emu, method, path, query=None, body=None, **kw):
    return emu.sign_and_request(method, path, query, body, **kw)


def assert_rf_error(resp, status, code):
    assert resp.status == status, resp
    body = resp.json()
    assert body["error_code"] == code
    assert re.match(r"^RF\.\d{8}$", body["error_code"])
    assert len(body["error_code"]) == 11
    assert isinstance(body["error_msg"], str) and body["error_msg"]
    assert resp.header("X-Request-Id")


def names(resp, key="providers", field="provider_name"):
    return [p[field] for p in resp.json()[key]]


def walk(emu, path, query, key):
    """All pages of a listing; returns (items, number of requests)."""
    items, marker, n = [], None, 0
    while True:
        q = dict(query)
        if marker:
            q["marker"] = marker
        r = rfs(emu, "GET", path, q)
        n += 1
        assert r.status == 200, r
        info = r.json()["page_info"]
        assert info["current_count"] == len(r.json()[key])
        items += r.json()[key]
        marker = info.get("next_marker")
        if not marker:
            return items, n


OPS = [("GET", PROVIDERS), ("GET", PROVIDERS + "/emu-provider-00001/metadata"),
       ("GET", PROVIDERS + "/emu-provider-00001/versions"),
       ("GET", PROVIDERS + "/emu-provider-00001/versions/1.0.0/metadata"),
       ("DELETE", PROVIDERS + "/emu-provider-00001/versions/1.0.0"),
       ("DELETE", PROVIDERS + "/emu-provider-00001")]


@pytest.mark.parametrize("method,path", OPS)
@pytest.mark.parametrize("crid", [False, "x" * 35, "x" * 129])
def test_client_request_id_required_36_to_128(emu, method, path, crid):
    emu.seed(providers=1, versions=1)
    r = rfs(emu, method, path, client_request_id=crid)
    assert_rf_error(r, 400, "RF.10011001")
    assert len(emu.state()["providers"][0]["versions"]) == 1


@pytest.mark.parametrize("crid", ["a" * 36, "b" * 128, str(uuid.uuid4())])
def test_client_request_id_lengths_accepted(emu, crid):
    assert rfs(emu, "GET", PROVIDERS, client_request_id=crid).status == 200


def test_client_request_id_required_on_create(emu):
    r = rfs(emu, "POST", PROVIDERS, body={"provider_name": "p1"},
            client_request_id=False)
    assert_rf_error(r, 400, "RF.10011001")
    assert emu.state()["providers"] == []


@pytest.mark.parametrize("limit", ["9", "1001", "0", "many"])
def test_limit_out_of_range_is_400(emu, limit):
    assert_rf_error(rfs(emu, "GET", PROVIDERS, {"limit": limit}), 400,
                    "RF.10011001")
    emu.seed(providers=1)
    assert_rf_error(rfs(emu, "GET", PROVIDERS + "/emu-provider-00001/"
                        "versions", {"limit": limit}), 400, "RF.10011001")


def test_limit_default_is_1000_for_providers(emu):
    emu.seed(providers=1003)
    r = rfs(emu, "GET", PROVIDERS)
    assert len(r.json()["providers"]) == 1000
    assert r.json()["page_info"]["next_marker"]
    r = rfs(emu, "GET", PROVIDERS, {"limit": 1000})
    assert len(r.json()["providers"]) == 1000
    r = rfs(emu, "GET", PROVIDERS, {"limit": 10})
    assert len(r.json()["providers"]) == 10


def test_limit_default_is_1000_for_versions(emu):
    emu.seed(providers=1, versions=1002)
    path = PROVIDERS + "/emu-provider-00001/versions"
    r = rfs(emu, "GET", path)
    assert len(r.json()["versions"]) == 1000
    assert r.json()["page_info"]["next_marker"]
    items, n = walk(emu, path, {}, "versions")
    assert n == 2 and len(items) == 1002


def test_default_order_is_create_time_desc(emu):
    emu.seed(providers=12)
    state = emu.state()["providers"]
    r = rfs(emu, "GET", PROVIDERS)
    got = r.json()["providers"]
    times = [p["create_time"] for p in got]
    assert times == sorted(times, reverse=True)
    assert all(TIME_RE.match(p["create_time"]) and
               TIME_RE.match(p["update_time"]) for p in got)
    assert [p["provider_name"] for p in got] == \
        [p["provider_name"] for p in state]
    assert "next_marker" not in r.json()["page_info"]
    assert r.json()["page_info"]["current_count"] == 12


def test_sort_asc_and_ties_by_name(emu):
    for name in ("tie-b", "tie-a", "tie-c"):
        emu.add_provider(name, create_time="2024-01-02T03:04:05.678Z")
    emu.add_provider("older", create_time="2023-01-02T03:04:05.000Z")
    q = {"sort_key": "create_time", "sort_dir": "asc"}
    assert names(rfs(emu, "GET", PROVIDERS, q)) == \
        ["older", "tie-a", "tie-b", "tie-c"]
    q["sort_dir"] = "desc"
    assert names(rfs(emu, "GET", PROVIDERS, q)) == \
        ["tie-c", "tie-b", "tie-a", "older"]
    assert names(rfs(emu, "GET", PROVIDERS)) == \
        ["tie-c", "tie-b", "tie-a", "older"]


@pytest.mark.parametrize("query", [
    {"sort_key": "name", "sort_dir": "asc"},
    {"sort_key": "create_time"},
    {"sort_dir": "asc"},
    {"sort_key": "create_time", "sort_dir": "up"},
    {"sort_key": ["create_time", "create_time"], "sort_dir": "asc"},
])
def test_sort_rules_violations_are_400(emu, query):
    assert_rf_error(rfs(emu, "GET", PROVIDERS, query), 400, "RF.10011001")


def test_walk_returns_each_provider_once_in_order(emu):
    emu.seed(providers=95)
    q = {"limit": 10, "sort_key": "create_time", "sort_dir": "asc"}
    items, n = walk(emu, PROVIDERS, q, "providers")
    got = [p["provider_name"] for p in items]
    assert n == 10 and len(got) == 95 == len(set(got))
    assert got == [p["provider_name"] for p in
                   reversed(emu.state()["providers"])]
    assert emu.stats()["requests"]["rfs.list_providers"] == 10


def test_walk_survives_deletes_between_pages(emu):
    emu.seed(providers=30)
    r = rfs(emu, "GET", PROVIDERS, {"limit": 10})
    first = names(r)
    emu.delete_provider(first[3])
    r2 = rfs(emu, "GET", PROVIDERS, {"limit": 10,
                                     "marker": r.json()["page_info"]
                                     ["next_marker"]})
    all_names = [p["provider_name"] for p in emu.state()["providers"]]
    assert names(r2) == all_names[9:19]


def test_next_marker_only_when_more_remain(emu):
    emu.seed(providers=20)
    r = rfs(emu, "GET", PROVIDERS, {"limit": 10})
    assert r.json()["page_info"]["next_marker"]
    r = rfs(emu, "GET", PROVIDERS, {"limit": 10, "marker":
                                    r.json()["page_info"]["next_marker"]})
    assert len(r.json()["providers"]) == 10
    assert "next_marker" not in r.json()["page_info"]


def test_marker_is_opaque_and_checked(emu):
    emu.seed(providers=25, versions=0)
    q = {"limit": 10, "sort_key": "create_time", "sort_dir": "desc"}
    r = rfs(emu, "GET", PROVIDERS, q)
    marker = r.json()["page_info"]["next_marker"]
    assert 1 <= len(marker) <= 512
    assert rfs(emu, "GET", PROVIDERS, dict(q, marker=marker)).status == 200
    for other in ({"limit": 11}, {"sort_dir": "asc"}, {"sort_key": [],
                                                       "sort_dir": []}):
        bad = dict(q, marker=marker, **other)
        assert_rf_error(rfs(emu, "GET", PROVIDERS, bad), 400, "RF.10011003")
    assert_rf_error(rfs(emu, "GET", PROVIDERS, dict(q, marker="garbage!")),
                    400, "RF.10011003")
    assert_rf_error(rfs(emu, "GET", PROVIDERS, dict(q, marker="x" * 513)),
                    400, "RF.10011003")


def test_provider_marker_is_not_a_versions_marker(emu):
    emu.seed(providers=12, versions=12)
    r = rfs(emu, "GET", PROVIDERS, {"limit": 10})
    marker = r.json()["page_info"]["next_marker"]
    path = PROVIDERS + "/emu-provider-00001/versions"
    assert_rf_error(rfs(emu, "GET", path, {"limit": 10, "marker": marker}),
                    400, "RF.10011003")
    vm = rfs(emu, "GET", path, {"limit": 10}).json()["page_info"][
        "next_marker"]
    other = PROVIDERS + "/emu-provider-00002/versions"
    assert_rf_error(rfs(emu, "GET", other, {"limit": 10, "marker": vm}),
                    400, "RF.10011003")


def test_show_provider_and_version_metadata(emu):
    prov = emu.add_provider("hello", versions=["1.0.0", "1.2.3"])
    r = rfs(emu, "GET", PROVIDERS + "/hello/metadata")
    assert r.status == 200
    body = r.json()
    assert set(body) == {"provider_id", "provider_name",
                         "provider_description", "provider_source",
                         "provider_agency_urn", "provider_agency_name",
                         "create_time", "update_time"}
    assert body["provider_id"] == prov["provider_id"]
    assert len(body["provider_id"]) == 36
    assert body["provider_source"] == "huawei.com/private-provider/hello"
    r = rfs(emu, "GET", PROVIDERS + "/hello/versions/1.2.3/metadata")
    v = r.json()
    assert r.status == 200 and v["provider_version"] == "1.2.3"
    assert v["provider_source"] == body["provider_source"]
    assert v["function_graph_urn"].startswith("urn:fss:cn-north-4:")
    assert TIME_RE.match(v["create_time"])
    r = rfs(emu, "GET", PROVIDERS + "/hello/versions", {"sort_key":
            "create_time", "sort_dir": "asc"})
    assert names(r, "versions", "provider_version") == ["1.0.0", "1.2.3"]


def test_unknown_provider_or_version_is_404(emu):
    emu.add_provider("hello", versions=["1.0.0"])
    for method, path in [("GET", "/nope/metadata"), ("GET", "/nope/versions"),
                         ("DELETE", "/nope"), ("DELETE",
                                               "/nope/versions/1.0.0")]:
        assert_rf_error(rfs(emu, method, PROVIDERS + path), 404,
                        "RF.10014001")
    for method, path in [("GET", "/hello/versions/9.9.9/metadata"),
                         ("DELETE", "/hello/versions/9.9.9")]:
        assert_rf_error(rfs(emu, method, PROVIDERS + path), 404,
                        "RF.10014002")


def test_invalid_names_are_400(emu):
    for path in ("/Bad_Name/metadata", "/-x/metadata",
                 "/ok/versions/1.0/metadata", "/ok/versions/01.0.0",
                 "/ok/versions/1.0.18446744073709551616/metadata"):
        method = "DELETE" if not path.endswith("metadata") else "GET"
        assert_rf_error(rfs(emu, method, PROVIDERS + path), 400,
                        "RF.10011001")


def test_provider_id_mismatch_is_400_everywhere(emu):
    emu.add_provider("hello", versions=["1.0.0"])
    wrong = str(uuid.uuid4())
    for method, path in [("GET", "/hello/metadata"),
                         ("GET", "/hello/versions"),
                         ("GET", "/hello/versions/1.0.0/metadata"),
                         ("DELETE", "/hello/versions/1.0.0"),
                         ("DELETE", "/hello")]:
        r = rfs(emu, method, PROVIDERS + path, {"provider_id": wrong})
        assert_rf_error(r, 400, "RF.10011002")
        r = rfs(emu, method, PROVIDERS + path, {"provider_id": "short"})
        assert_rf_error(r, 400, "RF.10011001")
    r = rfs(emu, "POST", PROVIDERS + "/hello/versions", body={
        "provider_id": wrong, "provider_version": "2.0.0",
        "function_graph_urn": emu_urn()})
    assert_rf_error(r, 400, "RF.10011002")
    assert [p["provider_name"] for p in emu.state()["providers"]] == ["hello"]
    assert len(emu.state()["providers"][0]["versions"]) == 1


def test_recreated_provider_gets_new_id_and_old_id_is_refused(emu):
    old = emu.add_provider("hello")["provider_id"]
    emu.delete_provider("hello")
    new = emu.add_provider("hello")["provider_id"]
    assert new != old
    r = rfs(emu, "DELETE", PROVIDERS + "/hello", {"provider_id": old})
    assert_rf_error(r, 400, "RF.10011002")
    r = rfs(emu, "DELETE", PROVIDERS + "/hello", {"provider_id": new})
    assert r.status == 204


def test_delete_provider_deletes_its_versions(emu):
    emu.add_provider("hello", versions=["1.0.0", "1.0.1"])
    emu.add_provider("other", versions=["1.0.0"])
    pid = emu.state()["providers"][1]["provider_id"]
    r = rfs(emu, "DELETE", PROVIDERS + "/hello", {"provider_id": pid})
    assert r.status == 204 and r.body == b""
    assert [p["provider_name"] for p in emu.state()["providers"]] == ["other"]
    assert rfs(emu, "GET", PROVIDERS + "/hello/versions").status == 404
    emu.add_provider("hello")
    r = rfs(emu, "GET", PROVIDERS + "/hello/versions")
    assert r.json()["versions"] == []


def test_delete_version(emu):
    emu.add_provider("hello", versions=["1.0.0", "1.0.1"])
    r = rfs(emu, "DELETE", PROVIDERS + "/hello/versions/1.0.0")
    assert r.status == 204 and r.body == b""
    vs = emu.state()["providers"][0]["versions"]
    assert [v["provider_version"] for v in vs] == ["1.0.1"]


def emu_urn(name="f"):
    return ("urn:fss:cn-north-4:0123456789abcdef0123456789abcdef:function:"
            "default:%s:latest" % name)


def test_create_provider_and_version(emu):
    r = rfs(emu, "POST", PROVIDERS, body={"provider_name": "made",
                                          "provider_description": "d"})
    assert r.status == 201
    body = r.json()
    assert set(body) == {"provider_id", "provider_source"}
    assert body["provider_source"] == "huawei.com/private-provider/made"
    r = rfs(emu, "POST", PROVIDERS + "/made/versions", body={
        "provider_version": "1.0.0", "function_graph_urn": emu_urn(),
        "provider_id": body["provider_id"]})
    assert r.status == 201 and r.body == b""
    r = rfs(emu, "POST", PROVIDERS, body={
        "provider_name": "withver", "provider_version": "2.1.0",
        "function_graph_urn": emu_urn()})
    assert r.status == 201
    st = {p["provider_name"]: p for p in emu.state()["providers"]}
    assert [v["provider_version"] for v in st["made"]["versions"]] == \
        ["1.0.0"]
    assert [v["provider_version"] for v in st["withver"]["versions"]] == \
        ["2.1.0"]
    stats = emu.stats()["requests"]
    assert stats["rfs.create_provider"] == 2
    assert stats["rfs.create_version"] == 1


def test_create_duplicates_are_409(emu):
    emu.add_provider("hello", versions=["1.0.0"])
    r = rfs(emu, "POST", PROVIDERS, body={"provider_name": "hello"})
    assert_rf_error(r, 409, "RF.10019001")
    r = rfs(emu, "POST", PROVIDERS + "/hello/versions", body={
        "provider_version": "1.0.0", "function_graph_urn": emu_urn()})
    assert_rf_error(r, 409, "RF.10019001")
    r = rfs(emu, "POST", PROVIDERS + "/nope/versions", body={
        "provider_version": "1.0.0", "function_graph_urn": emu_urn()})
    assert_rf_error(r, 404, "RF.10014001")


@pytest.mark.parametrize("body", [
    {"provider_name": "a", "provider_version": "1.0.0"},
    {"provider_name": "a", "function_graph_urn": emu_urn()},
    {"provider_name": "A"},
    {"provider_name": "a", "provider_version": "1.0",
     "function_graph_urn": emu_urn()},
    {"provider_name": "a", "provider_version": "1.0.0",
     "function_graph_urn": "urn:fss:eu-west-0:x:function:default:x:latest"},
    {"provider_name": "a", "provider_agency_name": "x",
     "provider_agency_urn": "y"},
    {"provider_name": "a", "provider_description": "d" * 1025},
])
def test_create_provider_validation_is_400(emu, body):
    assert_rf_error(rfs(emu, "POST", PROVIDERS, body=body), 400,
                    "RF.10011001")
    assert emu.state()["providers"] == []
