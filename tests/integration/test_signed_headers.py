"""test_signed_headers.py - issue 10.4: hwcfs signs what it sends, as the
SDKs do. With instance_id= set, IoTDA requests carry Instance-Id inside
SignedHeaders (the emulator refuses an unsigned one with 401), whichever
signing is used; the IAM password login sends the SDK's Content-Type."""

import os

import pytest

from emulator.harness import DOMAIN, PASSWORD, USER
from mountlib import PACKAGES, PROVIDERS, package_ids

INSTANCE = "6e0c1c2d-0000-0000-0000-000000000000"


@pytest.mark.parametrize("signing", ["sdk", "v11"])
def test_instance_id_is_signed_on_every_iotda_request(emulator, mount,
                                                      signing):
    emulator.seed(packages=6, providers=2)
    m = mount("instance_id=" + INSTANCE, "signing=" + signing)
    assert set(os.listdir(m.p(PACKAGES))) == package_ids(emulator)
    assert len(os.listdir(m.p(PROVIDERS))) == 2
    stats = emulator.stats()
    assert stats["auth_failures"] == 0
    iotda = [e for e in stats["log"] if e["op"].startswith("iotda.")]
    rfs = [e for e in stats["log"] if e["op"].startswith("rfs.")]
    assert iotda and rfs
    for e in iotda:
        assert (e["status"], e["auth"], e.get("instance_id")) == \
            (200, signing, INSTANCE), e
    # RFS is not IoTDA: no instance header there
    assert all("instance_id" not in e and e["status"] == 200 for e in rfs)


def test_password_login_sends_the_sdks_content_type(emulator, mount,
                                                    tmp_path):
    emulator.seed(packages=2)
    conf = tmp_path / "config"
    conf.write_text("[default]\niam_user = %s\niam_password = %s\n"
                    "iam_domain = %s\n" % (USER, PASSWORD, DOMAIN))
    conf.chmod(0o600)
    m = mount("config=%s" % conf, keys=False)
    assert len(os.listdir(m.p(PACKAGES))) == 2
    logins = [e for e in emulator.stats()["log"] if e["op"] == "iam.token"]
    assert [(e["status"], e["content_type"]) for e in logins] == \
        [(201, "application/json;charset=UTF-8")]
