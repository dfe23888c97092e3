"""Fault knobs of POST /_emu/faults, each proven with plain HTTP."""

import http.client
import json
import threading
import time

import pytest

FW = {"package_type": "firmwarePackage"}
PROVIDERS = "/v1/private-providers"


def iotda_list(emu, **extra):
    return emu.sign_and_request("GET", emu.iotda_path(), dict(FW, **extra))


def test_faults_read_back_and_validation(emu):
    f = emu.faults(latency_ms=5, error_rate=0.25, throttle=2,
                   throttle_style="apigw", retry_after=3, hostile="bad_names",
                   status_for=[{"match": "/x", "status": 404}])
    got = emu.faults()
    assert got == f
    assert got["latency_ms"] == 5 and got["error_rate"] == 0.25
    assert got["throttle"] == 2 and got["retry_after"] == 3
    assert got["hostile"] == "bad_names"
    for bad in ({"nonsense": 1}, {"error_rate": 1.5}, {"hostile": "evil"},
                {"throttle_style": "x"}, {"status_for": [{"match": 1}]}):
        r = emu.request("POST", "/_emu/faults", bad)
        assert r.status == 400
    emu.clear_faults()
    assert emu.faults()["hostile"] is None
    assert emu.faults()["error_rate"] == 0


def test_latency_delays_each_api_request(emu):
    emu.faults(latency_ms=300)
    start = time.monotonic()
    assert iotda_list(emu).status == 200
    # a lower bound only: the emulator sleeps at least this long
    assert time.monotonic() - start >= 0.29


def test_max_in_flight_counts_requests_answered_at_once(emu):
    """Two requests sent together under latency overlap; two sent one
    after the other do not; a reset starts the count again."""
    emu.faults(latency_ms=300)
    emu.reset()
    assert iotda_list(emu).status == 200
    assert iotda_list(emu).status == 200
    assert emu.stats()["max_in_flight"] == 1
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(
        iotda_list(emu).status)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [200, 200]
    assert emu.stats()["max_in_flight"] == 2
    emu.reset()
    assert emu.stats()["max_in_flight"] == 0


def test_error_rate_one_answers_500_with_service_bodies(emu):
    emu.seed(providers=1)
    emu.faults(error_rate=1.0)
    r = iotda_list(emu)
    assert r.status == 500 and r.json()["error_code"] == "IOTDA.000020"
    r = emu.sign_and_request("GET", PROVIDERS)
    assert r.status == 500 and r.json()["error_code"] == "RF.10010001"
    r = emu.sign_and_request("DELETE", PROVIDERS + "/emu-provider-00001")
    assert r.status == 500
    assert len(emu.state()["providers"]) == 1
    stats = emu.stats()
    assert stats["total"] == 3
    assert [e["status"] for e in stats["log"]] == [500, 500, 500]
    assert stats["deletes"][0]["status"] == 500


def test_error_rate_share_is_seeded_and_partial(emu):
    emu.faults(error_rate=0.5)
    statuses = [iotda_list(emu).status for _ in range(60)]
    assert set(statuses) == {200, 500}
    assert 10 <= statuses.count(500) <= 50


@pytest.mark.parametrize("retry_after", [None, 7])
def test_throttle_service_style(emu, retry_after):
    emu.seed(providers=1)
    emu.faults(throttle=3, retry_after=retry_after)
    r = iotda_list(emu)
    assert r.status == 403 and r.json()["error_code"] == "IOTDA.021101"
    assert r.header("Retry-After") == (None if retry_after is None
                                       else str(retry_after))
    r = emu.sign_and_request("GET", PROVIDERS)
    assert r.status == 429 and r.json()["error_code"].startswith("RF.")
    assert len(r.json()["error_code"]) == 11
    assert emu.faults()["throttle"] == 1
    r = emu.sign_and_request("GET", PROVIDERS + "/emu-provider-00001/"
                             "metadata")
    assert r.status == 429
    assert iotda_list(emu).status == 200
    assert emu.faults()["throttle"] == 0
    assert emu.stats()["total"] == 4


def test_throttle_gateway_style(emu):
    emu.faults(throttle=2, throttle_style="apigw", retry_after=2)
    for r in (iotda_list(emu), emu.sign_and_request("GET", PROVIDERS)):
        assert r.status == 429
        assert r.json()["error_code"] == "APIGW.0308"
        assert r.header("Retry-After") == "2"
    assert iotda_list(emu).status == 200


def test_drop_closes_without_answer(emu):
    emu.faults(drop_rate=1.0)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        iotda_list(emu)
    stats = emu.stats()
    assert stats["requests"]["iotda.list"] == 1
    assert stats["log"][0]["status"] is None
    assert stats["log"][0]["dropped"] is True
    emu.faults(drop_rate=0.0)
    assert iotda_list(emu).status == 200


def test_lost_delete_answer_deletes_but_never_answers(emu):
    pid = emu.add_package()["package_id"]
    emu.faults(lose_delete_answers=1)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        emu.sign_and_request(
            "DELETE",
            "/v5/iot/%s/ota-upgrades/packages/%s" % (emu.project_id, pid))
    assert pid not in {p["package_id"] for p in emu.state()["packages"]}
    deletes = emu.stats()["deletes"]
    assert deletes[0]["answer_lost"] is True
    assert emu.faults()["lose_delete_answers"] == 0


def test_stall_holds_the_answer_until_released(emu):
    emu.faults(stall=True)
    result = {}

    def call():
        result["status"] = iotda_list(emu).status

    t = threading.Thread(target=call, daemon=True)
    t.start()
    for _ in range(200):  # wait (bounded) until the request has arrived
        if emu.stats()["total"] == 1:
            break
        time.sleep(0.02)
    stats = emu.stats()  # control calls still answer during the stall
    assert stats["total"] == 1
    assert stats["log"][0]["status"] is None
    assert stats["log"][0]["stalled"] is True
    assert "status" not in result
    emu.faults(stall=False)
    t.join(10)
    assert result["status"] == 200
    assert emu.stats()["log"][0]["status"] == 200


def test_truncate_cuts_json_with_consistent_length(emu):
    emu.seed(packages=10)
    emu.faults(truncate_rate=1.0)
    conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=10)
    r = iotda_list(emu)
    assert r.status == 200
    assert int(r.header("Content-Length")) == len(r.body) > 0
    with pytest.raises(ValueError):
        json.loads(r.body)
    conn.close()
    emu.faults(truncate_rate=0.0)
    full = iotda_list(emu)
    assert full.body.startswith(r.body) and len(full.body) > len(r.body)


def test_malformed_body_is_not_a_valid_answer(emu):
    emu.seed(packages=4)
    emu.faults(malformed_rate=1.0)
    kinds = set()
    for _ in range(12):
        r = iotda_list(emu)
        assert r.status == 200
        assert int(r.header("Content-Length")) == len(r.body)
        try:
            body = json.loads(r.body)
        except ValueError:
            kinds.add("text")
            continue
        kinds.add("shape")
        assert not isinstance(body.get("packages"), list)
    assert kinds == {"text", "shape"}


def test_status_for_matching_resource_and_method(emu):
    emu.add_provider("hello", versions=["1.0.0"])
    emu.add_provider("other")
    emu.faults(status_for=[{"match": "/hello", "method": "DELETE",
                            "status": 403},
                           {"match": "/other/", "status": 404}])
    r = emu.sign_and_request("GET", PROVIDERS + "/hello/metadata")
    assert r.status == 200
    r = emu.sign_and_request("DELETE", PROVIDERS + "/hello")
    assert r.status == 403 and r.json()["error_code"] == "RF.10013001"
    r = emu.sign_and_request("GET", PROVIDERS + "/other/metadata")
    assert r.status == 404
    assert len(emu.state()["providers"]) == 2
    emu.seed(packages=2)
    pid = emu.state()["packages"][0]["package_id"]
    emu.faults(status_for=[{"match": pid, "status": 500},
                           {"match": "ota-upgrades/packages", "status": 400,
                            "method": "POST"}])
    r = emu.sign_and_request("GET", emu.iotda_path(pid))
    assert r.status == 500 and r.json()["error_code"] == "IOTDA.000020"
    other = emu.state()["packages"][1]["package_id"]
    assert emu.sign_and_request("GET", emu.iotda_path(other)).status == 200


def test_expire_tokens_invalidates_issued_tokens_only(emu):
    emu.iam_token()
    old = emu.token
    assert iotda_list(emu).status == 200
    r = emu.sign_and_request("GET", emu.iotda_path(), FW, algo="token")
    assert r.status == 200
    emu.faults(expire_tokens=True)
    r = emu.sign_and_request("GET", emu.iotda_path(), FW, algo="token")
    assert r.status == 401 and r.json()["error_code"] == "APIGW.0301"
    emu.iam_token()
    assert emu.token != old
    r = emu.sign_and_request("GET", emu.iotda_path(), FW, algo="token")
    assert r.status == 200


def test_hostile_marker_stuck(emu):
    emu.seed(packages=40)
    emu.faults(hostile="marker_stuck")
    r = iotda_list(emu)
    assert r.json()["page"]["marker"] == "f" * 24
    first = [p["package_id"] for p in r.json()["packages"]]
    r = iotda_list(emu, marker=r.json()["page"]["marker"])
    assert [p["package_id"] for p in r.json()["packages"]] == first
    mid = emu.state(brief=True)["packages"][4]["record_id"]
    r = iotda_list(emu, marker=mid)
    assert r.json()["page"]["marker"] == mid


def test_hostile_next_marker_loop(emu):
    emu.seed(providers=3)
    emu.faults(hostile="next_marker_loop")
    r = emu.sign_and_request("GET", PROVIDERS, {"limit": 10})
    marker = r.json()["page_info"]["next_marker"]
    assert marker and len(r.json()["providers"]) == 3
    for _ in range(3):
        r = emu.sign_and_request("GET", PROVIDERS, {"limit": 10,
                                                    "marker": marker})
        assert r.status == 200 and len(r.json()["providers"]) == 3
        assert r.json()["page_info"]["next_marker"] == marker


def test_hostile_endless_empty_pages_never_repeat_a_marker(emu):
    emu.seed(providers=3)
    emu.add_provider("hello", versions=["1.0.0"])
    emu.faults(hostile="endless_empty")
    for path in (PROVIDERS, PROVIDERS + "/hello/versions"):
        seen = set()
        query = {"limit": 10}
        for _ in range(20):
            r = emu.sign_and_request("GET", path, query)
            assert r.status == 200
            body = r.json()
            items = body.get("providers", body.get("versions"))
            marker = body["page_info"]["next_marker"]
            assert items == [] and body["page_info"]["current_count"] == 0
            assert marker not in seen
            seen.add(marker)
            query = {"limit": 10, "marker": marker}


def test_hostile_duplicates_repeat_entries_across_pages(emu):
    emu.seed(packages=60, providers=25)
    emu.faults(hostile="duplicates")
    seen, marker = [], None
    for _ in range(10):
        q = {"limit": 10}
        if marker:
            q["marker"] = marker
        r = iotda_list(emu, **q)
        page = [p["package_id"] for p in r.json()["packages"]]
        seen += page
        if len(page) < 10:
            break
        marker = r.json()["page"]["marker"]
    assert len(seen) > len(set(seen)) and len(set(seen)) == 30
    seen, marker = [], None
    for _ in range(10):
        q = {"limit": 10}
        if marker:
            q["marker"] = marker
        r = emu.sign_and_request("GET", PROVIDERS, q)
        seen += [p["provider_name"] for p in r.json()["providers"]]
        marker = r.json()["page_info"].get("next_marker")
        if not marker:
            break
    assert len(seen) > len(set(seen)) and len(set(seen)) == 25


def test_hostile_bad_names(emu):
    emu.seed(packages=2)
    emu.add_provider("hello", versions=["1.0.0"])
    emu.faults(hostile="bad_names")
    ids = [p["package_id"] for p in iotda_list(emu).json()["packages"]]
    assert any("/" in i for i in ids) and ".." in ids
    names = [p["provider_name"] for p in emu.sign_and_request(
        "GET", PROVIDERS).json()["providers"]]
    assert any("/" in n for n in names) and ".." in names
    vers = [v["provider_version"] for v in emu.sign_and_request(
        "GET", PROVIDERS + "/hello/versions").json()["versions"]]
    assert any("/" in v for v in vers) and ".." in vers


def test_hostile_huge_body(emu):
    emu.seed(packages=2)
    emu.faults(hostile="huge_body")
    r = iotda_list(emu)
    assert r.status == 200
    assert len(r.body) >= 64 << 20
    assert int(r.header("Content-Length")) == len(r.body)


def test_hostile_deep_json(emu):
    emu.seed(packages=2)
    emu.faults(hostile="deep_json")
    r = iotda_list(emu)
    assert r.status == 200
    assert b"[" * 100000 in r.body and b"[" * 100001 not in r.body
    with pytest.raises(RecursionError):
        json.loads(r.body)


def test_hostile_negative_count(emu):
    emu.seed(packages=4, providers=2)
    emu.faults(hostile="negative_count")
    assert iotda_list(emu).json()["page"]["count"] < 0
    info = emu.sign_and_request("GET", PROVIDERS).json()["page_info"]
    assert info["current_count"] < 0


def test_hostile_endless_pages_invent_fresh_names(emu):
    emu.faults(hostile="endless_pages")
    names, marker = set(), None
    for _ in range(3):
        q = {"limit": 10}
        if marker:
            q["marker"] = marker
        r = emu.sign_and_request("GET", PROVIDERS, q)
        page = [p["provider_name"] for p in r.json()["providers"]]
        assert len(page) == 10 and not names & set(page)
        names |= set(page)
        marker = r.json()["page_info"]["next_marker"]
    r = emu.sign_and_request("GET", PROVIDERS + "/any/versions",
                             {"limit": 10})
    assert r.status == 404  # versions of a provider that exists only
    ids, marker = set(), None
    for _ in range(3):
        q = {"limit": 50}
        if marker:
            q["marker"] = marker
        page = iotda_list(emu, **q).json()
        got = [p["package_id"] for p in page["packages"]]
        assert len(got) == 50 and not ids & set(got)
        ids |= set(got)
        assert page["page"]["marker"] == got[-1] < (marker or "g")
        marker = got[-1]


def test_hostile_endless_pages_end_at_the_ceiling(emu):
    emu.add_provider("vprov", versions=["1.0.0"])
    emu.faults(hostile="endless_pages")
    path = PROVIDERS + "/vprov/versions"
    r = emu.sign_and_request("GET", path, {"limit": 1000})
    assert [v["provider_version"] for v in r.json()["versions"][:2]] == \
        ["1.0.0", "1.0.1"]
    pages = 1
    while "next_marker" in r.json()["page_info"]:
        r = emu.sign_and_request("GET", path, {
            "limit": 1000, "marker": r.json()["page_info"]["next_marker"]})
        pages += 1
    assert pages == 200


def test_hostile_endless_fat_pages_carry_big_entries(emu):
    emu.faults(hostile="endless_fat_pages")
    r = emu.sign_and_request("GET", PROVIDERS, {"limit": 10})
    assert all(len(p["provider_description"]) == 24 * 1024
               for p in r.json()["providers"])
    assert len(iotda_list(emu, limit=2).json()["packages"][0][
        "description"]) == 24 * 1024


def test_hostile_empty_page_more(emu):
    emu.add_provider("vprov", versions=["1.0.0", "1.0.1"])
    emu.faults(hostile="empty_page_more")
    for path, key in ((PROVIDERS, "providers"),
                      (PROVIDERS + "/vprov/versions", "versions")):
        r = emu.sign_and_request("GET", path, {"limit": 10})
        assert r.json()[key] == []
        marker = r.json()["page_info"]["next_marker"]
        r = emu.sign_and_request("GET", path, {"limit": 10,
                                               "marker": marker})
        assert r.json()[key] and "next_marker" not in r.json()["page_info"]


def test_hostile_no_provider_id(emu):
    emu.add_provider("vprov", versions=["1.0.0"])
    emu.faults(hostile="no_provider_id")
    for path in (PROVIDERS, PROVIDERS + "/vprov/metadata",
                 PROVIDERS + "/vprov/versions",
                 PROVIDERS + "/vprov/versions/1.0.0/metadata"):
        assert "provider_id" not in emu.sign_and_request("GET", path).body \
            .decode(), path


@pytest.mark.parametrize("knob,first,last", [
    ("next_marker_null", None, None),
    ("next_marker_empty", None, ""),
    ("next_marker_long", "m" * 513, "m" * 513),
    ("next_marker_number", 12345, 12345)])
def test_hostile_next_marker_shapes(emu, knob, first, last):
    emu.seed(providers=15)
    emu.faults(hostile=knob)
    r = emu.sign_and_request("GET", PROVIDERS, {"limit": 10})
    info = r.json()["page_info"]
    assert len(r.json()["providers"]) == 10
    if first is None:  # the real marker of a page with more after it
        assert isinstance(info["next_marker"], str)
        r = emu.sign_and_request("GET", PROVIDERS, {
            "limit": 10, "marker": info["next_marker"]})
        info = r.json()["page_info"]
        assert len(r.json()["providers"]) == 5
    else:
        assert info["next_marker"] == first
    assert "next_marker" in info and info["next_marker"] == last


def test_hostile_repeat_pages(emu):
    emu.seed(packages=60, providers=15)
    emu.faults(hostile="repeat_pages")
    r = emu.sign_and_request("GET", PROVIDERS, {"limit": 10})
    first = r.json()["providers"]
    markers = set()
    for _ in range(3):
        marker = r.json()["page_info"]["next_marker"]
        assert marker not in markers
        markers.add(marker)
        r = emu.sign_and_request("GET", PROVIDERS, {"limit": 10,
                                                    "marker": marker})
        assert r.json()["providers"] == first
    page = iotda_list(emu, limit=10).json()
    first = page["packages"]
    for _ in range(3):
        prev = page["page"]["marker"]
        page = iotda_list(emu, limit=10, marker=prev).json()
        assert page["packages"] == first
        assert page["page"]["marker"] < prev
    page = iotda_list(emu, limit=10, offset=20).json()
    assert page["packages"] == first  # offsets repeat it too


def test_inject_splices_raw_text_into_first_pages_only(emu):
    emu.seed(packages=2, providers=12)
    emu.faults(inject=[
        {"op": "iotda.list", "match": "package_type=firmwarePackage",
         "entry": '{"package_id": "a\\u0000b"}'},
        {"op": "iotda.list", "match": "package_type=firmwarePackage",
         "entry": '{"package_id": "raw\u0000byte \udcff"}'},
        {"op": "rfs.list_providers", "member": '"k\\u0000": 1'}])
    r = emu.sign_and_request("GET", emu.iotda_path(), FW)
    # in rule order, ahead of the stored entries; raw bytes as given
    assert r.body.startswith(b'{"packages": [{"package_id": "a\\u0000b"}, '
                             b'{"package_id": "raw\x00byte \xff"}, {')
    doc = json.loads(r.body.replace(b"\xff", b"").decode(), strict=False)
    assert len(doc["packages"]) == 3
    soft = emu.sign_and_request("GET", emu.iotda_path(),
                                {"package_type": "softwarePackage"})
    assert len(soft.json()["packages"]) == 1
    first = emu.sign_and_request("GET", PROVIDERS, {"limit": 10})
    assert first.body.startswith(b'{"k\\u0000": 1, "providers": [')
    marker = json.loads(first.body)["page_info"]["next_marker"]
    later = emu.sign_and_request("GET", PROVIDERS,
                                 {"limit": 10, "marker": marker})
    assert later.body.startswith(b'{"providers": [')
    for bad in ([{"op": "iotda.show", "entry": "{}"}],
                [{"op": "iotda.list"}],
                [{"op": "iotda.list", "entry": "{}", "member": "1"}],
                [{"op": "iotda.list", "entry": 7}]):
        assert emu.request("POST", "/_emu/faults",
                           {"inject": bad}).status == 400
