"""Every signing vector of docs/cloud-api.md, "Test vectors" (the SDKs'
tests and the project's own), reproduced by signer.py, plus verification."""

import hashlib

import pytest

from emulator import signer

GO_DATE = "20060102T150405Z"
PY_DATE = "20200608T023900Z"
PY_HOST = "service.endpoint.myhuaweicloud.com"

AK = "AKEXAMPLE0123456789"
SK = "SKEXAMPLE/secret+key0123456789abcdefghij"
DATE = "20240102T030405Z"
PID = "0123456789abcdef0123456789abcdef"
IOTDA = "iotda.cn-north-4.myhuaweicloud.com"
RFS = "rfs.cn-north-4.myhuaweicloud.com"
CRID = "123e4567-e89b-12d3-a456-426614174000"
JSON = "application/json"
F_BODY = (b'{"app_id":"app1","package_type":"firmwarePackage",'
          b'"product_id":"prod1","version":"V2.0","file_location":'
          b'{"obs_location":{"region_name":"cn-north-4","bucket_name":"abc",'
          b'"object_key":"bbb/upgrade.bin"}}}')

# (id, method, path, query pairs, headers, body, ak, sk, algo, region,
#  service, expected Authorization)
VECTORS = [
    ("go1", "GET", "/path", [("limit", "1")],
     [("X-Sdk-Date", GO_DATE), ("TEST_UNDERSCORE", "TEST_VALUE")], b"",
     "AccessKey", "SecretKey", "sdk", None, None,
     "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, "
     "Signature=5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d0"
     "2ac79624"),
    ("go2", "POST", "/path", [("key", "value")],
     [("X-Sdk-Date", GO_DATE)], b'{"Name":"test","Id":1}\n',
     "AccessKey", "SecretKey", "sdk", None, None,
     "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, "
     "Signature=cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72f"
     "c9db4f59"),
    ("py1", "GET", "/resources", [("size", "1")],
     [("Host", PY_HOST), ("X-Sdk-Date", PY_DATE)], b"",
     "AccessKey", "SecretKey", "sdk", None, None,
     "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=host;x-sdk-date, "
     "Signature=cfb4171acec81de07d50e53d57eb77edd537414d66ddb1d7d780f128"
     "e12cd842"),
    ("py2", "POST", "/resources", [("size", "1")],
     [("Host", PY_HOST), ("X-Sdk-Date", PY_DATE)], b'{"name":"test","id":1}',
     "AccessKey", "SecretKey", "sdk", None, None,
     "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=host;x-sdk-date, "
     "Signature=436b1ac0a1ae03705934bb70ef2f2e09f7bfed2117d731a382350531"
     "99323a1f"),
    ("py1-v11", "GET", "/resources", [("size", "1")],
     [("Host", PY_HOST), ("X-Sdk-Date", PY_DATE)], b"",
     "AccessKey", "SecretKey", "v11", "test-region-1", "demo",
     "V11-HMAC-SHA256 Credential=AccessKey/20200608/test-region-1/demo, "
     "SignedHeaders=host;x-sdk-date, Signature=f7dfee056692e58dede80fc80c"
     "b89bbfabf45552dd7cd8d18a0a13484455b98e"),
    ("py2-v11", "POST", "/resources", [("size", "1")],
     [("Host", PY_HOST), ("X-Sdk-Date", PY_DATE)], b'{"name":"test","id":1}',
     "AccessKey", "SecretKey", "v11", "test-region-1", "demo",
     "V11-HMAC-SHA256 Credential=AccessKey/20200608/test-region-1/demo, "
     "SignedHeaders=host;x-sdk-date, Signature=8e2d91eaf9656ec5d6fab27812"
     "e2d898a35aaaa5e16ee0a0365c38527ccfb3cf"),
    ("A", "GET", "/v5/iot/%s/ota-upgrades/packages" % PID,
     [("package_type", "firmwarePackage"), ("limit", "10")],
     [("Content-Type", JSON), ("Host", IOTDA), ("X-Project-Id", PID),
      ("X-Sdk-Date", DATE)], b"", AK, SK, "sdk", None, None,
     "SDK-HMAC-SHA256 Access=AKEXAMPLE0123456789, SignedHeaders=content-"
     "type;host;x-project-id;x-sdk-date, Signature=4020e607b7e2818d3e9516"
     "8ae29fca3faf07e14778ca1dd5e541a18866773ca7"),
    ("B", "GET",
     "/v5/iot/%s/ota-upgrades/packages/5f2a1b3c4d5e6f7a8b9c0d1e" % PID, [],
     [("Host", IOTDA), ("X-Sdk-Date", DATE)], b"", AK, SK, "sdk", None, None,
     "SDK-HMAC-SHA256 Access=AKEXAMPLE0123456789, SignedHeaders=host;"
     "x-sdk-date, Signature=de6ec445cbc081feffc019d8970deacd3e7148b983283d"
     "63d2497e2fc78282fe"),
    ("C", "GET", "/v1/private-providers",
     [("limit", "10"), ("sort_key", "create_time"), ("sort_dir", "desc")],
     [("Client-Request-Id", CRID), ("Content-Type", JSON), ("Host", RFS),
      ("X-Project-Id", PID), ("X-Sdk-Date", DATE)], b"", AK, SK, "sdk",
     None, None,
     "SDK-HMAC-SHA256 Access=AKEXAMPLE0123456789, SignedHeaders=client-"
     "request-id;content-type;host;x-project-id;x-sdk-date, Signature=3b5f"
     "94aeabd9b6b453c2b538baacc61c910d5e4eee0912346860d1cafd793e93"),
    ("D", "DELETE", "/v1/private-providers/my-provider",
     [("provider_id", "1b15e005-bdbb-4bd7-8f9a-a09b6774b4b3")],
     [("Client-Request-Id", CRID), ("Host", RFS), ("X-Sdk-Date", DATE)],
     b"", AK, SK, "sdk", None, None,
     "SDK-HMAC-SHA256 Access=AKEXAMPLE0123456789, SignedHeaders=client-"
     "request-id;host;x-sdk-date, Signature=d058b4fae33042ff79ee4f9d95887f"
     "804d06bd7b602f5162f42fc6062fe9e622"),
    ("E", "GET", "/v5/iot/%s/ota-upgrades/packages" % PID,
     [("package_type", "softwarePackage")],
     [("Host", "abcdef1234.st1.iotda-app.cn-north-4.myhuaweicloud.com"),
      ("X-Project-Id", PID), ("X-Sdk-Date", DATE)], b"", AK, SK, "v11",
     "cn-north-4", "iotdm",
     "V11-HMAC-SHA256 Credential=AKEXAMPLE0123456789/20240102/cn-north-4/"
     "iotdm, SignedHeaders=host;x-project-id;x-sdk-date, Signature=d00dff"
     "f1b1e1e36058541496eb06b74e975220e6470496fc0351f30a317c5930"),
    ("F", "POST", "/v5/iot/%s/ota-upgrades/packages" % PID, [],
     [("Content-Type", JSON), ("Host", IOTDA), ("X-Sdk-Date", DATE)], F_BODY,
     AK, SK, "sdk", None, None,
     "SDK-HMAC-SHA256 Access=AKEXAMPLE0123456789, SignedHeaders=content-"
     "type;host;x-sdk-date, Signature=3792f8b31db86b9e5a63bd9e2c78dbb63feb"
     "eb20a3a70bf66586af19646caa59"),
]


@pytest.mark.parametrize("vec", VECTORS, ids=[v[0] for v in VECTORS])
def test_vector_signs_exactly(vec):
    (_, method, path, pairs, headers, body, ak, sk, algo, region, service,
     expected) = vec
    auth, _ = signer.sign(method, path, pairs, headers, body, ak, sk,
                          algo=algo, region=region, service=service)
    assert auth == expected


@pytest.mark.parametrize("vec", VECTORS, ids=[v[0] for v in VECTORS])
def test_vector_verifies_and_tampering_fails(vec):
    (_, method, path, pairs, headers, body, ak, sk, algo, region, service,
     expected) = vec
    auth = signer.parse_authorization(expected)
    assert auth["ak"] == ak
    assert signer.verify(method, path, pairs, headers, body, auth, sk)
    assert not signer.verify(method, path, pairs, headers, body + b" ",
                             auth, sk)
    assert not signer.verify(method, path, pairs + [("x", "1")], headers,
                             body, auth, sk)
    assert not signer.verify(method, path, pairs, headers, body, auth,
                             sk + "x")


def test_canonical_request_of_vector_a_is_exact():
    vec = VECTORS[6]
    _, creq = signer.sign(vec[1], vec[2], vec[3], vec[4], vec[5], AK, SK)
    expected = (
        "GET\n"
        "/v5/iot/0123456789abcdef0123456789abcdef/ota-upgrades/packages/\n"
        "limit=10&package_type=firmwarePackage\n"
        "content-type:application/json\n"
        "host:iotda.cn-north-4.myhuaweicloud.com\n"
        "x-project-id:0123456789abcdef0123456789abcdef\n"
        "x-sdk-date:20240102T030405Z\n"
        "\n"
        "content-type;host;x-project-id;x-sdk-date\n"
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    assert creq == expected
    assert hashlib.sha256(creq.encode()).hexdigest() == \
        "92c03661401d33e9b0ff036952932911b254ed25c6aefe7735e284a20f841bf0"


def test_vector_f_body_hash():
    assert len(F_BODY) == 201
    assert hashlib.sha256(F_BODY).hexdigest() == \
        "75d1ab832b1ef44ec2cf6b31b25c170f5c489d9782ec2d1a8103e3ca15752511"


def test_encoding_rules():
    assert signer.uri_encode("a b+c/~_-.") == "a%20b%2Bc%2F~_-."
    assert signer.uri_encode("é") == "%C3%A9"
    assert signer.canonical_uri("/a%20b/c") == "/a%20b/c/"
    assert signer.canonical_uri("/x/") == "/x/"
    # sorted by name then value, byte order (uppercase first), '=' always
    assert signer.canonical_query([("b", "2"), ("a", "z"), ("a", "y"),
                                   ("B", ""), ("c", "x y")]) == \
        "B=&a=y&a=z&b=2&c=x%20y"
    assert signer.parse_query("a=1&b=x%20y&c=&d+e=f+g") == [
        ("a", "1"), ("b", "x y"), ("c", ""), ("d+e", "f+g")]


def test_unsigned_payload_header_replaces_body_hash():
    hdrs = [("X-Sdk-Date", DATE), ("X-Sdk-Content-Sha256", "UNSIGNED-PAYLOAD")]
    _, creq = signer.sign("PUT", "/u", [], hdrs, b"data", AK, SK)
    assert creq.endswith("\nUNSIGNED-PAYLOAD")


def test_parse_authorization_rejects_garbage():
    assert signer.parse_authorization("") is None
    assert signer.parse_authorization("Basic abc") is None
    assert signer.parse_authorization(
        "SDK-HMAC-SHA256 Access=A, Signature=x") is None
    v11 = signer.parse_authorization(VECTORS[10][-1])
    assert v11["info"] == "20240102/cn-north-4/iotdm"
    assert v11["signed"] == ["host", "x-project-id", "x-sdk-date"]


def test_derived_key_is_hex_text():
    key = signer.derive_key("AccessKey", "SecretKey",
                            "20200608/test-region-1/demo")
    assert len(key) == 64 and int(key, 16) >= 0
