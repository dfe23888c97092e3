"""test_mount_errors.py - acceptance tests of issue 4, errors seen from the
shell: the emulator's faults (404, 403, throttling, 5xx) reach `rm`,
`cat` and `ls` as the errno table of docs/hwcfs.md, "Errors", says, with
the shell's exit code and message, after exactly the retries
configured."""

import errno
import os

from mountlib import MESSAGES, PACKAGES, PROVIDERS, delta_of, deletes, \
    package_ids, providers, refresh, sh

RETRIES = 2
FAST = "retries=%d,timeout=5" % RETRIES  # keeps the retried cases short


def listed(emulator, mount, packages=4):
    """A mount whose package listing is cached, and one listed name."""
    emulator.seed(packages=packages)
    m = mount(FAST)
    r = sh(["ls", m.p(PACKAGES)])
    assert r.returncode == 0, r.stderr
    victim = sorted(r.stdout.split())[1]
    emulator.reset()
    return m, victim


def fail_path(emulator, match, status, method=None):
    rule = {"match": match, "status": status}
    if method:
        rule["method"] = method
    emulator.faults(status_for=[rule])


def assert_shell_error(r, err, rc=1):
    assert r.returncode == rc, (r.returncode, r.stderr)
    assert MESSAGES[err] in r.stderr, r.stderr


# ------------------------------------------------------------ 404


def test_rm_of_listed_name_answered_404_is_enoent(emulator, mount):
    m, victim = listed(emulator, mount)
    fail_path(emulator, victim, 404)
    r = sh(["rm", m.p(PACKAGES, victim)])
    assert_shell_error(r, errno.ENOENT)
    assert "cannot remove" in r.stderr
    assert [d["status"] for d in deletes(emulator)] == [404]


def test_404_drops_the_name_from_the_cache(emulator, mount):
    m, victim = listed(emulator, mount)
    fail_path(emulator, victim, 404)
    assert sh(["rm", m.p(PACKAGES, victim)]).returncode == 1
    r, delta = delta_of(emulator, lambda: sh(["ls", m.p(PACKAGES)]))
    assert r.returncode == 0, r.stderr
    assert victim not in r.stdout.split()
    assert delta == {}


def test_cat_of_listed_name_answered_404_is_enoent(emulator, mount):
    m, victim = listed(emulator, mount)
    fail_path(emulator, victim, 404)
    refresh(m.p(PACKAGES))  # so that cat has to ask the cloud
    r, delta = delta_of(emulator, lambda: sh(["cat", m.p(PACKAGES, victim)]))
    assert_shell_error(r, errno.ENOENT)
    assert r.stdout == ""
    assert delta == {"iotda.show": 1, "total": 1}


def test_rmdir_of_listed_provider_answered_404_is_enoent(emulator, mount):
    emulator.add_provider("vanishing")
    m = mount(FAST)
    assert os.listdir(m.p(PROVIDERS)) == ["vanishing"]
    fail_path(emulator, "/vanishing", 404)
    r = sh(["rmdir", m.p(PROVIDERS, "vanishing")])
    assert_shell_error(r, errno.ENOENT)
    assert "vanishing" in providers(emulator)


# ------------------------------------------------------------ 403


def test_rm_answered_403_is_eacces_without_retry(emulator, mount):
    m, victim = listed(emulator, mount)
    fail_path(emulator, victim, 403)
    r = sh(["rm", m.p(PACKAGES, victim)])
    assert_shell_error(r, errno.EACCES)
    assert "cannot remove" in r.stderr
    assert [d["status"] for d in deletes(emulator)] == [403]
    assert victim in package_ids(emulator)


def test_cat_answered_403_is_eacces(emulator, mount):
    m, victim = listed(emulator, mount)
    fail_path(emulator, victim, 403)
    refresh(m.p(PACKAGES))
    r, delta = delta_of(emulator, lambda: sh(["cat", m.p(PACKAGES, victim)]))
    assert_shell_error(r, errno.EACCES)
    assert delta == {"iotda.show": 1, "total": 1}


def test_ls_answered_403_is_eacces(emulator, mount):
    emulator.seed(packages=4)
    m = mount(FAST)
    fail_path(emulator, "ota-upgrades/packages", 403)
    r, delta = delta_of(emulator, lambda: sh(["ls", m.p(PACKAGES)]))
    assert_shell_error(r, errno.EACCES, rc=2)
    # Page 0 of each of the three types, none retried.
    assert delta == {"iotda.list": 3, "total": 3}
    # An error is not cached: the next ls after the fault works.
    emulator.clear_faults()
    r = sh(["ls", m.p(PACKAGES)])
    assert r.returncode == 0, r.stderr
    assert set(r.stdout.split()) == package_ids(emulator)


def test_ls_of_providers_answered_403_is_eacces(emulator, mount):
    emulator.seed(providers=3)
    m = mount(FAST)
    fail_path(emulator, "/v1/private-providers", 403)
    r, delta = delta_of(emulator, lambda: sh(["ls", m.p(PROVIDERS)]))
    assert_shell_error(r, errno.EACCES, rc=2)
    assert delta == {"rfs.list_providers": 1, "total": 1}


# ------------------------------------------------------------ throttling


def test_rm_throttled_is_retried_then_eagain(emulator, mount):
    m, victim = listed(emulator, mount)
    # IoTDA throttles with 403 IOTDA.021101: never EACCES.
    emulator.faults(throttle=1000, retry_after=None)
    r = sh(["rm", m.p(PACKAGES, victim)])
    assert_shell_error(r, errno.EAGAIN)
    assert [d["status"] for d in deletes(emulator)] == [403] * (RETRIES + 1)
    assert victim in package_ids(emulator)


def test_cat_throttled_is_retried_then_eagain(emulator, mount):
    m, victim = listed(emulator, mount)
    emulator.faults(throttle=1000, retry_after=None)
    refresh(m.p(PACKAGES))
    r, delta = delta_of(emulator, lambda: sh(["cat", m.p(PACKAGES, victim)]))
    assert_shell_error(r, errno.EAGAIN)
    assert delta == {"iotda.show": RETRIES + 1, "total": RETRIES + 1}


def test_ls_throttled_is_retried_then_eagain(emulator, mount):
    emulator.seed(packages=4)
    m = mount(FAST)
    emulator.faults(throttle=1000, retry_after=None)
    r, delta = delta_of(emulator, lambda: sh(["ls", m.p(PACKAGES)]))
    assert_shell_error(r, errno.EAGAIN, rc=2)
    assert delta == {"iotda.list": 3 * (RETRIES + 1),
                     "total": 3 * (RETRIES + 1)}


def test_rmdir_throttled_by_rfs_429_is_eagain(emulator, mount):
    emulator.add_provider("busy")
    m = mount(FAST, "rmdir_cascade")
    assert os.listdir(m.p(PROVIDERS)) == ["busy"]
    emulator.reset()
    emulator.faults(throttle=1000, retry_after=None)
    r = sh(["rmdir", m.p(PROVIDERS, "busy")])
    assert_shell_error(r, errno.EAGAIN)
    assert [d["status"] for d in deletes(emulator)] == [429] * (RETRIES + 1)
    assert "busy" in providers(emulator)


def test_gateway_throttling_429_is_eagain(emulator, mount):
    m, victim = listed(emulator, mount)
    emulator.faults(throttle=1000, throttle_style="apigw", retry_after=None)
    r = sh(["rm", m.p(PACKAGES, victim)])
    assert_shell_error(r, errno.EAGAIN)
    assert [d["status"] for d in deletes(emulator)] == [429] * (RETRIES + 1)


def test_rm_transiently_throttled_is_retried_then_succeeds(emulator, mount):
    m, victim = listed(emulator, mount)
    emulator.faults(throttle=2, retry_after=None)
    r = sh(["rm", m.p(PACKAGES, victim)])
    assert r.returncode == 0, r.stderr
    assert [d["status"] for d in deletes(emulator)] == [403, 403, 204]
    assert victim not in package_ids(emulator)


def test_ls_transiently_throttled_is_retried_then_succeeds(emulator, mount):
    emulator.seed(packages=6)
    m = mount(FAST)
    emulator.reset()
    emulator.faults(throttle=2, retry_after=None)
    r, delta = delta_of(emulator, lambda: sh(["ls", m.p(PACKAGES)]))
    assert r.returncode == 0, r.stderr
    assert set(r.stdout.split()) == package_ids(emulator)
    # Two of the three types' page 0 throttled once, then answered.
    assert delta == {"iotda.list": 5, "total": 5}


def test_rm_with_retry_after_is_retried_then_succeeds(emulator, mount):
    m, victim = listed(emulator, mount)
    emulator.faults(throttle=1, retry_after=1)
    r = sh(["rm", m.p(PACKAGES, victim)])
    assert r.returncode == 0, r.stderr
    assert [d["status"] for d in deletes(emulator)] == [403, 204]


# ------------------------------------------------------------ 5xx


def test_rm_answered_5xx_is_retried_then_eio(emulator, mount):
    m, victim = listed(emulator, mount)
    emulator.faults(error_rate=1.0)
    r = sh(["rm", m.p(PACKAGES, victim)])
    assert_shell_error(r, errno.EIO)
    assert [d["status"] for d in deletes(emulator)] == [500] * (RETRIES + 1)
    assert victim in package_ids(emulator)


def test_cat_answered_5xx_is_retried_then_eio(emulator, mount):
    m, victim = listed(emulator, mount)
    emulator.faults(error_rate=1.0)
    refresh(m.p(PACKAGES))
    r, delta = delta_of(emulator, lambda: sh(["cat", m.p(PACKAGES, victim)]))
    assert_shell_error(r, errno.EIO)
    assert delta == {"iotda.show": RETRIES + 1, "total": RETRIES + 1}


def test_ls_answered_5xx_is_retried_then_eio(emulator, mount):
    emulator.seed(packages=4)
    m = mount(FAST)
    emulator.faults(error_rate=1.0)
    r, delta = delta_of(emulator, lambda: sh(["ls", m.p(PACKAGES)]))
    assert_shell_error(r, errno.EIO, rc=2)
    assert delta == {"iotda.list": 3 * (RETRIES + 1),
                     "total": 3 * (RETRIES + 1)}
    emulator.clear_faults()
    r = sh(["ls", m.p(PACKAGES)])
    assert r.returncode == 0, r.stderr
    assert set(r.stdout.split()) == package_ids(emulator)


def test_rm_r_provider_answered_5xx_is_eio_and_deletes_nothing(emulator,
                                                               mount):
    emulator.add_provider("sturdy", versions=["1.0.0"])
    m = mount(FAST)
    assert os.listdir(m.p(PROVIDERS, "sturdy")) == ["1.0.0"]
    emulator.reset()
    emulator.faults(error_rate=1.0)
    r = sh(["rm", "-r", m.p(PROVIDERS, "sturdy")])
    assert r.returncode == 1
    assert MESSAGES[errno.EIO] in r.stderr, r.stderr
    assert all(d["status"] == 500 for d in deletes(emulator))
    assert [v["provider_version"] for v in
            providers(emulator)["sturdy"]["versions"]] == ["1.0.0"]
