"""Authentication: AK/SK signatures (SDK and V11), IAM tokens, project
checks, as the gateway in front of both services does them."""

import time

import pytest

from emulator import signer
from emulator.harness import Emulator

FW = {"package_type": "firmwarePackage"}


def assert_gateway_error(resp, status, code):
    assert resp.status == status, resp
    body = resp.json()
    assert set(body) == {"error_code", "error_msg", "request_id"}
    assert body["error_code"] == code
    assert body["request_id"] == resp.header("X-Request-Id")


def last_log(emu):
    return emu.stats()["log"][-1]


def test_good_sdk_signature_is_accepted(emu):
    r = emu.sign_and_request("GET", emu.iotda_path(), FW, algo="sdk")
    assert r.status == 200
    assert last_log(emu)["auth"] == "sdk"
    r = emu.sign_and_request("GET", "/v1/private-providers", algo="sdk")
    assert r.status == 200
    assert emu.stats()["auth_failures"] == 0


def test_good_v11_signature_is_accepted(emu):
    r = emu.sign_and_request("GET", emu.iotda_path(), FW, algo="v11")
    assert r.status == 200
    assert last_log(emu)["auth"] == "v11"


def test_signature_with_body_and_minimal_signed_headers(emu):
    body = {"provider_name": "signed-body"}
    r = emu.sign_and_request("POST", "/v1/private-providers", body=body,
                             signed_headers=["x-sdk-date"])
    assert r.status == 201
    r = emu.sign_and_request("POST", "/v1/private-providers",
                             body={"provider_name": "signed-body2"},
                             signed_headers=["host", "content-type",
                                             "client-request-id",
                                             "x-sdk-date"], algo="v11")
    assert r.status == 201


def test_wrong_sk_is_401_apigw_0301_and_counted(emu):
    r = emu.sign_and_request("GET", emu.iotda_path(), FW, sk="wrong-secret")
    assert_gateway_error(r, 401, "APIGW.0301")
    r = emu.sign_and_request("GET", "/v1/private-providers", sk="nope",
                             algo="v11")
    assert_gateway_error(r, 401, "APIGW.0301")
    stats = emu.stats()
    assert stats["auth_failures"] == 2
    assert [e["status"] for e in stats["log"]] == [401, 401]
    assert stats["requests"]["iotda.list"] == 1


def test_unknown_ak_is_401(emu):
    r = emu.sign_and_request("GET", emu.iotda_path(), FW, ak="UNKNOWNAK")
    assert_gateway_error(r, 401, "APIGW.0301")


def test_no_credentials_is_401(emu):
    r = emu.sign_and_request("GET", emu.iotda_path(), FW, algo="none")
    assert_gateway_error(r, 401, "APIGW.0301")
    assert emu.stats()["auth_failures"] == 1


@pytest.mark.parametrize("minutes", [16, -16, 60 * 24])
def test_stale_or_future_date_is_401_apigw_0303(emu, minutes):
    date = signer.now_date(time.time() - minutes * 60)
    r = emu.sign_and_request("GET", emu.iotda_path(), FW, date=date)
    assert_gateway_error(r, 401, "APIGW.0303")


def test_date_within_15_minutes_is_accepted(emu):
    date = signer.now_date(time.time() - 14 * 60)
    assert emu.sign_and_request("GET", emu.iotda_path(), FW,
                                date=date).status == 200


def test_malformed_date_is_401(emu):
    r = emu.sign_and_request("GET", emu.iotda_path(), FW,
                             date="2024-01-02 03:04:05")
    assert_gateway_error(r, 401, "APIGW.0301")


def test_tampered_request_is_401(emu):
    """The signature covers method, path, query, signed headers and body."""
    pairs = [("package_type", "firmwarePackage")]
    hdrs = [("Host", "127.0.0.1:%d" % emu.port),
            ("X-Sdk-Date", signer.now_date())]
    auth, _ = signer.sign("GET", emu.iotda_path(), pairs, hdrs, b"",
                          emu.ak, emu.sk)
    good = dict(hdrs, Authorization=auth)
    assert emu.request("GET", emu.iotda_path() +
                       "?package_type=firmwarePackage",
                       headers=good).status == 200
    for path in (emu.iotda_path() + "?package_type=softwarePackage",
                 emu.iotda_path() + "?package_type=firmwarePackage&limit=5"):
        assert_gateway_error(emu.request("GET", path, headers=good), 401,
                             "APIGW.0301")
    bad_host = dict(good, Host="localhost:%d" % emu.port)
    assert_gateway_error(emu.request(
        "GET", emu.iotda_path() + "?package_type=firmwarePackage",
        headers=bad_host), 401, "APIGW.0301")
    assert_gateway_error(emu.request(
        "POST", emu.iotda_path(), body=b"{}", headers=good), 401,
        "APIGW.0301")


def test_signed_header_not_sent_is_401(emu):
    hdrs = [("Host", "127.0.0.1:%d" % emu.port),
            ("X-Sdk-Date", signer.now_date()), ("X-Extra", "1")]
    auth, _ = signer.sign("GET", "/v3/projects", [], hdrs, b"", emu.ak,
                          emu.sk)
    sent = {"Host": hdrs[0][1], "X-Sdk-Date": hdrs[1][1],
            "Authorization": auth}
    assert_gateway_error(emu.request("GET", "/v3/projects", headers=sent),
                         401, "APIGW.0301")


def test_unsigned_extra_header_is_fine(emu):
    r = emu.sign_and_request("GET", emu.iotda_path(), FW,
                             headers={"User_Agent_X": "not-signed"})
    assert r.status == 200


INSTANCE = "6e0c1c2d-0000-0000-0000-000000000000"


@pytest.mark.parametrize("algo", ["sdk", "v11"])
def test_instance_id_sent_but_not_signed_is_401(emu, algo):
    signed = ["host", "content-type", "x-project-id", "x-sdk-date"]
    r = emu.sign_and_request("GET", emu.iotda_path(), FW, algo=algo,
                             headers={"Instance-Id": INSTANCE},
                             signed_headers=signed)
    assert_gateway_error(r, 401, "APIGW.0301")
    assert "Instance-Id is not signed" in r.json()["error_msg"]
    assert emu.stats()["auth_failures"] == 1


@pytest.mark.parametrize("algo", ["sdk", "v11"])
def test_signed_instance_id_is_accepted_and_logged(emu, algo):
    r = emu.sign_and_request("GET", emu.iotda_path(), FW, algo=algo,
                             headers={"Instance-Id": INSTANCE})
    assert r.status == 200
    assert last_log(emu)["instance_id"] == INSTANCE


def test_revoked_key_is_401_and_restored_key_works(emu):
    assert emu.revoke_key() == {"keys": []}
    r = emu.sign_and_request("GET", emu.iotda_path(), FW)
    assert_gateway_error(r, 401, "APIGW.0301")
    assert "unknown access key" in r.json()["error_msg"]
    emu.set_key(emu.ak, emu.sk)
    assert emu.sign_and_request("GET", emu.iotda_path(), FW).status == 200
    assert emu.stats()["auth_failures"] == 1


def test_replaced_secret_refuses_the_old_one(emu):
    emu.set_key(emu.ak, "a-new-secret-key")
    r = emu.sign_and_request("GET", "/v1/private-providers")
    assert_gateway_error(r, 401, "APIGW.0301")
    assert emu.sign_and_request("GET", "/v1/private-providers",
                                sk="a-new-secret-key").status == 200
    assert emu.reset_keys() == {"keys": [emu.ak]}
    assert emu.sign_and_request("GET", "/v1/private-providers").status == 200


def test_bad_key_calls_are_refused(emu):
    for method, path, body in (("POST", "keys", {"ak": "x"}),
                               ("DELETE", "keys/NOSUCHAK", None),
                               ("PUT", "keys", None)):
        r = emu.request(method, "/_emu/" + path, body)
        assert r.status in (400, 404), (method, path, r)
    assert emu.control("GET", "keys") == {"keys": [emu.ak]}


def test_v11_scope_must_name_the_emulator_region(emu):
    r = emu.sign_and_request("GET", emu.iotda_path(), FW, algo="v11",
                             region="cn-south-1")
    assert_gateway_error(r, 401, "APIGW.0301")
    date = signer.now_date()
    hdrs = [("Host", "127.0.0.1:%d" % emu.port), ("X-Sdk-Date", date)]
    auth, _ = signer.sign("GET", "/v3/projects", [], hdrs, b"", emu.ak,
                          emu.sk, algo="v11", region="cn-north-4",
                          service="iotdm")
    wrong_day = auth.replace("/%s/" % date[:8], "/19990101/")
    r = emu.request("GET", "/v3/projects",
                    headers=dict(hdrs, Authorization=wrong_day))
    assert_gateway_error(r, 401, "APIGW.0301")


def test_x_project_id_must_match(emu):
    r = emu.sign_and_request("GET", emu.iotda_path(), FW,
                             headers={"X-Project-Id": "f" * 32})
    assert_gateway_error(r, 403, "APIGW.0302")
    r = emu.sign_and_request("GET", "/v1/private-providers",
                             headers={"X-Project-Id": "f" * 32})
    assert_gateway_error(r, 403, "APIGW.0302")
    r = emu.sign_and_request("GET", emu.iotda_path(), FW,
                             project_header=False)
    assert r.status == 200


def test_iam_token_issue(emu):
    r = emu.iam_token()
    assert r.status == 201
    token = r.header("X-Subject-Token")
    assert token.startswith("MII") and len(token) > 4000
    tok = r.json()["token"]
    assert tok["project"]["id"] == emu.project_id
    assert tok["project"]["name"] == "cn-north-4"
    assert tok["project"]["domain"]["name"] == "demo"
    assert tok["user"]["name"] == "demo"
    assert tok["methods"] == ["password"]
    assert tok["expires_at"] > tok["issued_at"]
    assert emu.stats()["requests"]["iam.token"] == 1


def test_iam_token_by_project_id_scope(emu):
    body = {"auth": {"identity": {"methods": ["password"], "password": {
        "user": {"name": "demo", "password": "demo-password",
                 "domain": {"name": "demo"}}}},
        "scope": {"project": {"id": emu.project_id}}}}
    assert emu.request("POST", "/v3/auth/tokens", body).status == 201


def test_iam_token_refusals(emu):
    assert emu.iam_token(password="wrong").status == 401
    assert emu.iam_token(user="nobody").status == 401
    assert emu.iam_token(domain="other").status == 401
    assert emu.iam_token(project_name="eu-west-0").status == 400
    r = emu.request("POST", "/v3/auth/tokens", b"{bad")
    assert r.status == 400 and r.json()["error"]["code"] == 400


def test_token_is_accepted_by_both_services(emu):
    emu.iam_token()
    r = emu.sign_and_request("GET", emu.iotda_path(), FW, algo="token",
                             project_header=False)
    assert r.status == 200
    assert last_log(emu)["auth"] == "token"
    r = emu.sign_and_request("GET", "/v1/private-providers", algo="token")
    assert r.status == 200


def test_unknown_token_is_401(emu):
    r = emu.sign_and_request("GET", emu.iotda_path(), FW, algo="token",
                             token="MIIforged")
    assert_gateway_error(r, 401, "APIGW.0301")
    assert emu.stats()["auth_failures"] == 1


def test_projects_lookup_by_region(emu):
    r = emu.sign_and_request("GET", "/v3/projects", {"name": "cn-north-4"},
                             project_header=False)
    assert r.status == 200
    projects = r.json()["projects"]
    assert len(projects) == 1
    assert projects[0]["id"] == emu.project_id
    assert projects[0]["name"] == "cn-north-4"
    assert len(projects[0]["domain_id"]) == 32
    r = emu.sign_and_request("GET", "/v3/projects", {"name": "eu-west-0"})
    assert r.json()["projects"] == []
    r = emu.sign_and_request("GET", "/v3/projects", {"name": "cn-north-4"},
                             algo="none")
    assert_gateway_error(r, 401, "APIGW.0301")
    assert emu.stats()["requests"]["iam.projects"] == 3


def test_key_table_tokens_expiry_and_other_region():
    keys = [("AK1AAAAAAAAAAAAAAAAA", "sk/one"), ("AK2BBBBBBBBBBBBBBBBB",
                                                 "sk+two")]
    with Emulator(keys=keys, token_ttl=1, region="ap-southeast-1",
                  project_id="a" * 32,
                  users=[("ops", "pw", "acme")]) as emu:
        for ak, sk in keys:
            r = emu.sign_and_request("GET", emu.iotda_path(), FW, ak=ak,
                                     sk=sk, algo="v11")
            assert r.status == 200
        r = emu.sign_and_request("GET", emu.iotda_path(), FW,
                                 ak=keys[0][0], sk=keys[1][1])
        assert r.status == 401
        assert emu.iam_token("ops", "pw", "acme").status == 201
        assert emu.sign_and_request("GET", emu.iotda_path(), FW,
                                    algo="token").status == 200
        time.sleep(1.2)  # the token's lifetime (1 s), not a measurement
        r = emu.sign_and_request("GET", emu.iotda_path(), FW, algo="token")
        assert_gateway_error(r, 401, "APIGW.0301")
        assert emu.stats()["auth_failures"] == 2


PID = "0123456789abcdef0123456789abcdef"
EVERY_OP = [
    ("GET", "/v5/iot/%s/ota-upgrades/packages" % PID),
    ("POST", "/v5/iot/%s/ota-upgrades/packages" % PID),
    ("GET", "/v5/iot/%s/ota-upgrades/packages/%s" % (PID, "0" * 24)),
    ("DELETE", "/v5/iot/%s/ota-upgrades/packages/%s" % (PID, "0" * 24)),
    ("GET", "/v1/private-providers"),
    ("POST", "/v1/private-providers"),
    ("GET", "/v1/private-providers/hello/metadata"),
    ("DELETE", "/v1/private-providers/hello"),
    ("GET", "/v1/private-providers/hello/versions"),
    ("POST", "/v1/private-providers/hello/versions"),
    ("GET", "/v1/private-providers/hello/versions/1.0.0/metadata"),
    ("DELETE", "/v1/private-providers/hello/versions/1.0.0"),
    ("GET", "/v3/projects"),
]


@pytest.mark.parametrize("method,path", EVERY_OP)
@pytest.mark.parametrize("algo", ["none", "bad-sk", "bad-token"])
def test_every_operation_needs_credentials(emu, method, path, algo):
    emu.seed(packages=2)
    emu.add_provider("hello", versions=["1.0.0"])
    kw = {"algo": "none"}
    if algo == "bad-sk":
        kw = {"algo": "sdk", "sk": "wrong"}
    elif algo == "bad-token":
        kw = {"algo": "token", "token": "MIIforged"}
    r = emu.sign_and_request(method, path, body={} if method == "POST"
                             else None, **kw)
    assert_gateway_error(r, 401, "APIGW.0301")
    st = emu.state()
    assert len(st["packages"]) == 2 and len(st["providers"]) == 1
    assert len(st["providers"][0]["versions"]) == 1
    assert emu.stats()["auth_failures"] == 1


@pytest.mark.parametrize("host, path, query", [
    ("iotda.cn-north-4.myhuaweicloud.com", "IOTDA", FW),
    ("rfs.cn-north-4.myhuaweicloud.com", "/v1/private-providers", None),
    ("iam.myhuaweicloud.com", "/v3/projects", {"name": "cn-north-4"}),
])
def test_cloud_host_names_are_accepted_and_logged(emu, host, path, query):
    """Behind HWCFS_TEST_CONNECT_TO a client sends the cloud's own host
    names, signed; the log keeps the Host header as it came."""
    path = emu.iotda_path() if path == "IOTDA" else path
    r = emu.sign_and_request("GET", path, query, headers={"Host": host})
    assert r.status == 200, r.json()
    assert last_log(emu)["host"] == host
    assert emu.stats()["auth_failures"] == 0
