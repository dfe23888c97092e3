"""test_region.py - a region and keys are enough: hwcfs derives each
endpoint from the SDKs' region tables and reaches the emulator through the
real https:// host names, with certificate checks on. The test makes a CA
and server certificates for those names (openssl CLI); the test-only
HWCFS_TEST_CONNECT_TO sends the names to the emulator's loopback port, so
TLS checks each name for real. A region without a service mounts the
other one alone, and says why in one log line."""

import errno
import os
import shutil
import subprocess
import tempfile

import pytest

from emulator.harness import Emulator
from harden_util import finish, mounted, start_hwcfs

CONNECT_TO = "HWCFS_TEST_CONNECT_TO"
IOTDA = "iotda.cn-north-4.myhuaweicloud.com"
RFS = "rfs.cn-north-4.myhuaweicloud.com"
IAM = "iam.cn-north-4.myhuaweicloud.com"
IOTDA_SOUTH = "iotda.cn-south-4.myhuaweicloud.com"
IAM_GLOBAL = "iam.myhuaweicloud.com"
CLOUD_NAMES = (IOTDA, RFS, IAM, IOTDA_SOUTH, IAM_GLOBAL)


def openssl(*args):
    r = subprocess.run(["openssl"] + list(args), capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def make_leaf(d, ca, name, serial, dns_names):
    """A server certificate signed by ca for dns_names and 127.0.0.1 (the
    harness's own control requests); returns (chain file, key file)."""
    key = os.path.join(d, name + ".key")
    csr = os.path.join(d, name + ".csr")
    leaf = os.path.join(d, name + ".pem")
    ext = os.path.join(d, name + ".ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=%s\n" % ",".join(
            ["DNS:" + n for n in dns_names] + ["IP:127.0.0.1"]))
        f.write("basicConstraints=critical,CA:FALSE\n"
                "extendedKeyUsage=serverAuth\n")
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
            "-out", csr, "-subj", "/CN=" + name)
    openssl("x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1],
            "-set_serial", str(serial),
            "-days", "2", "-extfile", ext, "-out", leaf)
    chain = os.path.join(d, name + "-chain.pem")
    with open(chain, "w") as out:
        for part in (leaf, ca[0]):
            with open(part) as f:
                out.write(f.read())
    return chain, key


@pytest.fixture(scope="module")
def pki():
    """{"ca": CA file, "good": (chain, key) for the cloud's names,
    "wrong": (chain, key) for another name only}."""
    d = tempfile.mkdtemp(prefix="hwcfs-region-")
    try:
        ca = (os.path.join(d, "ca.pem"), os.path.join(d, "ca.key"))
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", ca[1],
                "-out", ca[0], "-days", "2", "-subj", "/CN=hwcfs-test-ca",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        yield {"ca": ca[0],
               "good": make_leaf(d, ca, "cloud", 2, CLOUD_NAMES),
               "wrong": make_leaf(d, ca, "wrong", 3, ["wrong.example"])}
    finally:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def cloud(request, pki):
    """An HTTPS emulator; the test's parameters (indirect) say which
    certificate and region: {"cert": "good"|"wrong", "region": ...}."""
    p = getattr(request, "param", {})
    chain, key = pki[p.get("cert", "good")]
    emu = Emulator(region=p.get("region", "cn-north-4"), packages=3,
                   providers=2, versions=1, tls_cert=chain, tls_key=key)
    emu.start()
    try:
        yield emu
    finally:
        emu.stop()


def connect_to(emu, names):
    return ",".join("%s:443:127.0.0.1:%d" % (n, emu.port) for n in names)


def region_mount(emu, pki, region, names, env=None, **kw):
    """hwcfs given only region= (and cafile= for the test CA)."""
    extra = {CONNECT_TO: connect_to(emu, names)}
    extra.update(env or {})
    return dict(endpoint_opts=["region=" + region], env=extra, **kw), \
        "cafile=" + pki["ca"]


def requests_of(emu):
    return {op: n for op, n in emu.stats()["requests"].items() if n}


def hosts_by_service(emu):
    """{service: set of Host headers} over the emulator's log."""
    seen = {}
    for e in emu.stats()["log"]:
        seen.setdefault(e["op"].split(".")[0], set()).add(e["host"])
    return seen


def test_region_and_keys_reach_the_derived_https_hosts(cloud, pki):
    kw, cafile = region_mount(cloud, pki, "cn-north-4", (IOTDA, RFS, IAM))
    with mounted(cloud, cafile, **kw) as m:
        # the mount's own requests: the project id, one check a service
        assert requests_of(cloud) == {"iam.projects": 1, "iotda.list": 1,
                                      "rfs.list_providers": 1}
        assert sorted(os.listdir(m.path)) == ["iotda", "rfs"]
        assert len(os.listdir(m.p("iotda/packages"))) == 3
        assert len(os.listdir(m.p("rfs/providers"))) == 2
        assert hosts_by_service(cloud) == {
            "iam": {IAM}, "iotda": {IOTDA}, "rfs": {RFS}}
        stats = cloud.stats()
        assert stats["tls_failures"] == 0 and stats["auth_failures"] == 0
        assert "hwcfs: iotda: https://%s (from region cn-north-4)" % IOTDA \
            in m.stderr
        assert "hwcfs: rfs: https://%s (from region cn-north-4)" % RFS \
            in m.stderr
    assert m.argv[1:4] == ["-f", "-o",
                           "region=cn-north-4,cafile=" + pki["ca"]]


@pytest.mark.parametrize("cloud", [{"cert": "wrong"}], indirect=True)
@pytest.mark.parametrize("opts, host, says", [
    # first request: the project id from IAM
    ((), IAM, "cannot look up the project id of region cn-north-4"),
    # with the project id, first the check of IoTDA
    (("project_id=0123456789abcdef0123456789abcdef",), IOTDA,
     "cannot use IoTDA at https://" + IOTDA),
])
def test_certificate_for_another_name_is_refused(cloud, pki, opts, host,
                                                 says):
    kw, cafile = region_mount(cloud, pki, "cn-north-4", (IOTDA, RFS, IAM))
    m, started = start_hwcfs(cloud, [cafile] + list(opts), **kw)
    problems = finish(m, expect_code=None)
    assert not started and m.returncode == 1, m.err_text
    assert not problems, problems
    # the CA is trusted: only the name check can refuse it
    assert "no alternative certificate subject name matches target host " \
        "name '%s'" % host in m.err_text
    assert says in m.err_text
    # curl checks the name once the handshake is done, before any request
    assert cloud.stats()["total"] == 0


@pytest.mark.parametrize("cloud", [{"region": "cn-south-4"}], indirect=True)
def test_region_without_rfs_mounts_iotda_alone(cloud, pki):
    kw, cafile = region_mount(cloud, pki, "cn-south-4",
                              (IOTDA_SOUTH, IAM_GLOBAL))
    with mounted(cloud, cafile, **kw) as m:
        assert os.listdir(m.path) == ["iotda"]
        assert len(os.listdir(m.p("iotda/packages"))) == 3
        try:
            os.stat(m.p("rfs"))
            err = 0
        except OSError as e:
            err = e.errno
        assert err == errno.ENOENT
        # IAM's table has no cn-south-4: the SDKs' global host
        assert hosts_by_service(cloud) == {"iam": {IAM_GLOBAL},
                                           "iotda": {IOTDA_SOUTH}}
        why = [line for line in m.stderr.splitlines() if "rfs" in line]
        assert why == ["hwcfs: rfs: the SDKs do not offer RFS in region "
                       "cn-south-4: no rfs/ directory (set rfs_endpoint "
                       "to mount one)"], m.stderr


@pytest.mark.parametrize("cloud", [{"region": "cn-south-4"}], indirect=True)
def test_sdk_region_variable_adds_a_service(cloud, pki):
    # HUAWEICLOUD_SDK_REGION_AOS_CN_SOUTH_4 overrides the table, as in the
    # SDKs; the emulator answers for RFS under this name too.
    kw, cafile = region_mount(
        cloud, pki, "cn-south-4", (IOTDA_SOUTH, IAM_GLOBAL, RFS),
        env={"HUAWEICLOUD_SDK_REGION_AOS_CN_SOUTH_4": "https://" + RFS})
    with mounted(cloud, cafile, **kw) as m:
        assert sorted(os.listdir(m.path)) == ["iotda", "rfs"]
        assert len(os.listdir(m.p("rfs/providers"))) == 2
        assert hosts_by_service(cloud)["rfs"] == {RFS}


def test_connect_to_off_the_loopback_is_refused(cloud, pki):
    kw, cafile = region_mount(cloud, pki, "cn-north-4", ())
    kw["env"][CONNECT_TO] = "%s:443:192.0.2.1:443" % IAM
    m, started = start_hwcfs(cloud, [cafile], **kw)
    problems = finish(m, expect_code=None)
    assert not started and m.returncode == 1, m.err_text
    assert not problems, problems
    assert "HWCFS_TEST_CONNECT_TO: 192.0.2.1 is not a loopback address" \
        in m.err_text
    assert cloud.stats()["total"] == 0


def test_region_without_either_service_fails_to_start(cloud, pki):
    # cn-north-2 has a regional IAM, but neither IoTDA nor RFS
    kw, cafile = region_mount(cloud, pki, "cn-north-2",
                              ("iam.cn-north-2.myhuaweicloud.com",))
    m, started = start_hwcfs(cloud, [cafile], **kw)
    problems = finish(m, expect_code=None)
    assert not started and m.returncode == 1, m.err_text
    assert not problems, problems
    assert "hwcfs: region cn-north-2: the SDKs' region tables offer " \
        "neither IoTDA nor RFS there; set iotda_endpoint or rfs_endpoint" \
        in m.err_text
    assert cloud.stats()["total"] == 0
