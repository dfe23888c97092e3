"""test_tls.py - TLS: an emulator serving HTTPS with a certificate made at
test time (openssl CLI) is refused by default with a message naming
certificate verification, and accepted with -o cafile=CERT; plain http://
to a host that is not loopback is refused before any packet is sent."""

import errno
import os
import shutil
import tempfile

import pytest

from conftest import run_hwcfs, clean_env
from emulator.harness import Emulator
from harden_util import make_cert, mounted, run_tool, start_hwcfs, finish, \
    tool_errno


@pytest.fixture(scope="module")
def cert():
    d = tempfile.mkdtemp(prefix="hwcfs-tls-")
    try:
        yield make_cert(d)
    finally:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def tls_emu(cert):
    emu = Emulator(packages=4, providers=2, versions=1,
                   tls_cert=cert[0], tls_key=cert[1])
    emu.start()
    try:
        yield emu
    finally:
        emu.stop()


def test_emulator_serves_https(tls_emu):
    assert tls_emu.url.startswith("https://127.0.0.1:")
    r = tls_emu.sign_and_request("GET", "/v1/private-providers",
                                 {"limit": 10})
    assert r.status == 200
    assert len(r.json()["providers"]) == 2


def test_backend_refuses_unknown_certificate(tls_emu):
    proc, _ = run_tool(tls_emu, "list", "iotda/packages")
    assert proc.returncode == 1
    assert tool_errno(proc) == "EIO"
    assert "certificate verification" in proc.stderr
    # the handshake failed: no request reached the API
    assert tls_emu.stats()["total"] == 0
    assert tls_emu.stats()["tls_failures"] >= 1


def test_backend_accepts_cafile(tls_emu, cert):
    proc, _ = run_tool(tls_emu, "list", "iotda/packages",
                       opts=["cafile=" + cert[0]])
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 4


def test_mount_refuses_unknown_certificate(tls_emu):
    m, started = start_hwcfs(tls_emu)
    problems = finish(m, expect_code=None)
    assert not started
    assert m.returncode == 1, m.err_text
    assert not problems, problems
    err = m.err_text.lower()
    assert "certificate verification" in err, m.err_text
    assert "cafile" in err, m.err_text
    assert "cannot use" in err
    assert tls_emu.stats()["total"] == 0


def test_mount_accepts_cafile(tls_emu, cert):
    with mounted(tls_emu, "cafile=" + cert[0]) as m:
        names = os.listdir(m.p("iotda/packages"))
        assert len(names) == 4
        assert len(os.listdir(m.p("rfs/providers"))) == 2
        with open(m.p("iotda/packages", names[0])) as f:
            assert '"package_id"' in f.read()
    assert tls_emu.stats()["tls_failures"] == 0


def test_cafile_that_is_not_a_certificate_is_refused(tls_emu, cert):
    bad = os.path.join(os.path.dirname(cert[0]), "not-a-cert.pem")
    with open(bad, "w") as f:
        f.write("hello\n")
    m, started = start_hwcfs(tls_emu, ["cafile=" + bad])
    finish(m, expect_code=None)
    assert not started and m.returncode == 1
    assert "not-a-cert.pem" in m.err_text, m.err_text
    assert tls_emu.stats()["total"] == 0


@pytest.mark.parametrize("service", ["iotda", "rfs", "iam"])
def test_plain_http_to_remote_host_is_refused_at_start(service, tls_emu):
    # example.invalid never resolves: a message about DNS or a timeout
    # would show that something was sent; the refusal comes first.
    env, home = clean_env(tls_emu)
    mnt = tempfile.mkdtemp(prefix="hwcfs-mnt-")
    try:
        opts = ["region=cn-north-4",
                "project_id=0123456789abcdef0123456789abcdef",
                "iam_endpoint=http://127.0.0.1:1",
                "iotda_endpoint=http://127.0.0.1:1",
                "rfs_endpoint=http://127.0.0.1:1"]
        opts = [o for o in opts if not o.startswith(service + "_endpoint")]
        opts.append("%s_endpoint=http://example.invalid" % service)
        r = run_hwcfs(["-f", "-o", ",".join(opts), mnt], env)
    finally:
        shutil.rmtree(mnt, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)
    assert r.returncode == 1, r.stderr
    assert "http:// is allowed only for loopback" in r.stderr
    assert "example.invalid" in r.stderr
    assert "resolve" not in r.stderr.lower()
