"""test_package.py - the Debian package of hwcfs (issue 14, docs/install.md
"Debian package"): scripts/package builds it twice, out of tree; the two
.deb files must be byte for byte the same. lintian and hardening-check
judge the result. Then the package is installed with apt-get into a
throwaway root (an overlay of / in a private mount namespace, entered
with chroot), mounts the emulator through an /etc/fstab line of type
fuse.hwcfs, lists and deletes one package, unmounts, and is purged: no
file of it may be left.
"""

import os
import re
import shutil
import subprocess
import uuid

import pytest

from conftest import REPO, run
from test_admin import AdminMount, PROFILE, hwcfs_pids, mountinfo_entry, \
    namespace_or_skip, wait_exit

ARCH = subprocess.run(["dpkg-architecture", "-qDEB_HOST_ARCH"],
                      capture_output=True, text=True).stdout.strip()
BUILD_TIMEOUT = 600
# What hardening-check must find in every installed program
# (DEB_BUILD_MAINT_OPTIONS=hardening=+all, debian/rules).
HARDENING = ["Position Independent Executable", "Stack protected",
             "Fortify Source functions", "Read-only relocations",
             "Immediate binding"]


def version():
    r = run([os.path.join(REPO, "scripts", "version")])
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """Two builds of the work tree by scripts/package, the second with
    another time zone and locale; yields the two output directories."""
    dirs = []
    for env_extra in ({}, {"TZ": "Asia/Shanghai", "LC_ALL": "C"}):
        out = str(tmp_path_factory.mktemp("dist"))
        env = dict(os.environ, **env_extra)
        r = run([os.path.join(REPO, "scripts", "package"), "--no-check",
                 "--outdir", out], env=env, timeout=BUILD_TIMEOUT)
        assert r.returncode == 0, \
            "scripts/package failed:\n%s%s" % (r.stdout, r.stderr)
        dirs.append(out)
    yield dirs


@pytest.fixture(scope="module")
def deb(builds):
    path = os.path.join(builds[0], "hwcfs_%s_%s.deb" % (version(), ARCH))
    assert os.path.isfile(path), os.listdir(builds[0])
    return path


@pytest.fixture(scope="module")
def unpacked(deb, tmp_path_factory):
    """The data of the .deb, unpacked as dpkg would install it."""
    root = str(tmp_path_factory.mktemp("unpacked"))
    r = run(["dpkg-deb", "-x", deb, root])
    assert r.returncode == 0, r.stderr
    return root


# ------------------------------------------------------------ the build


def test_source_tree_stays_clean(builds):
    """The build happens in a copy: nothing appears in the work tree but
    the output directory (the builds of this module go elsewhere)."""
    r = run(["git", "-C", REPO, "status", "--porcelain", "--ignored",
             "debian"])
    assert r.returncode == 0, r.stderr
    assert r.stdout == "", r.stdout
    assert [n for n in os.listdir(REPO) if n.startswith("obj-")] == []


def test_two_builds_are_byte_identical(builds):
    """SOURCE_DATE_EPOCH comes from debian/changelog; build paths, time
    zone, locale and the time of the build must leave no trace."""
    a, b = builds
    debs = sorted(f for f in os.listdir(a) if f.endswith(".deb"))
    assert debs == ["hwcfs-dbgsym_%s_%s.deb" % (version(), ARCH),
                    "hwcfs_%s_%s.deb" % (version(), ARCH)]
    assert sorted(f for f in os.listdir(b) if f.endswith(".deb")) == debs
    for name in debs:
        with open(os.path.join(a, name), "rb") as f, \
                open(os.path.join(b, name), "rb") as g:
            same = f.read() == g.read()
        if not same:
            ca = run(["dpkg-deb", "-c", os.path.join(a, name)]).stdout
            cb = run(["dpkg-deb", "-c", os.path.join(b, name)]).stdout
            pytest.fail("%s differs between two builds; contents:\n%s\n"
                        "---\n%s" % (name, ca, cb))


def test_package_version_is_the_one_hwcfs_prints(deb, unpacked):
    """One place holds the version: debian/changelog. The package, meson
    (scripts/version) and `hwcfs --version` all show it."""
    r = run(["dpkg-parsechangelog", "-l",
             os.path.join(REPO, "debian", "changelog"), "-S", "Version"])
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == version()
    r = run(["dpkg-deb", "-f", deb, "Version"])
    assert r.stdout.strip() == version()
    r = run([os.path.join(unpacked, "usr", "bin", "hwcfs"), "--version"],
            stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0] == "hwcfs version %s" % version()


def test_package_holds_every_installed_file(deb):
    r = run(["dpkg-deb", "-c", deb])
    assert r.returncode == 0, r.stderr
    entries = {}
    for line in r.stdout.splitlines():
        path = line.split(None, 5)[5]
        name, _, target = path.partition(" -> ")
        entries[name.lstrip(".")] = target
    for path in ["/usr/bin/hwcfs", "/usr/share/man/man1/hwcfs.1.gz",
                 "/usr/share/bash-completion/completions/hwcfs",
                 "/lib/systemd/system/hwcfs@.service",
                 "/usr/share/doc/hwcfs/copyright",
                 "/usr/share/doc/hwcfs/changelog.gz",
                 "/usr/share/doc/hwcfs/hwcfs.md.gz",
                 "/usr/share/doc/hwcfs/install.md.gz",
                 "/usr/share/doc/hwcfs/examples/hwcfs.env.example"]:
        assert path in entries, path
    for helper in ["mount.fuse.hwcfs", "mount.hwcfs"]:
        assert entries["/usr/sbin/" + helper] == "../bin/hwcfs"
        assert entries["/usr/share/man/man1/%s.1.gz" % helper] == \
            "hwcfs.1.gz"
    depends = run(["dpkg-deb", "-f", deb, "Depends"]).stdout
    names = [d.split()[0] for d in depends.split(",")]
    assert "fuse3" in names and "libfuse3-3" in names, depends


def test_unit_in_package_stops_on_refused_credentials(unpacked):
    """The packaged hwcfs@.service runs the packaged program and, like the
    example, does not restart hwcfs after exit status 77 (the cloud
    refused the key): every retry would bring the AK's lockout nearer."""
    with open(os.path.join(unpacked, "lib", "systemd", "system",
                           "hwcfs@.service")) as f:
        text = f.read()
    assert re.search(r"^ExecStart=/usr/bin/hwcfs ", text, re.M), text
    assert re.search(r"^Restart=on-failure$", text, re.M)
    prevent = re.search(r"^RestartPreventExitStatus=(.*)$", text, re.M)
    assert prevent and "77" in prevent.group(1).split()


def test_hardening_check_finds_every_flag(unpacked):
    """Control-flow protection is not asked for: Debian 12's glibc start
    files carry no CET note, so no program linked there has it."""
    r = run(["hardening-check", "--nocfprotection",
             os.path.join(unpacked, "usr", "bin", "hwcfs")])
    assert r.returncode == 0, r.stdout + r.stderr
    for feature in HARDENING:
        assert re.search(r"^ %s: yes" % re.escape(feature), r.stdout,
                         re.M), r.stdout


def test_lintian_reports_no_error_and_no_warning(builds):
    """On the .changes (which takes in the .deb, the debug package and the
    .buildinfo) and on the .deb itself; every override is used, each with
    its reason in debian/hwcfs.lintian-overrides."""
    changes = os.path.join(builds[0],
                           "hwcfs_%s_%s.changes" % (version(), ARCH))
    deb = os.path.join(builds[0], "hwcfs_%s_%s.deb" % (version(), ARCH))
    for target in (changes, deb):
        r = run(["lintian", "--fail-on", "error,warning", "--show-overrides",
                 "-I", "-E", target], timeout=300)
        assert r.returncode == 0, r.stdout + r.stderr
        tags = [ln for ln in r.stdout.splitlines()
                if re.match(r"^[EW]: ", ln)]
        assert tags == [], r.stdout
        assert "unused-override" not in r.stdout, r.stdout
    with open(os.path.join(REPO, "debian", "hwcfs.lintian-overrides")) as f:
        lines = [ln.rstrip("\n") for ln in f]
    for i, line in enumerate(lines):
        if line and not line.startswith("#"):
            assert i > 0 and lines[i - 1].startswith("#"), \
                "override without a reason: %s" % line


def test_copyright_is_machine_readable():
    with open(os.path.join(REPO, "debian", "copyright")) as f:
        text = f.read()
    assert text.startswith("Format: https://www.debian.org/doc/"
                           "packaging-manuals/copyright-format/1.0/\n")
    assert re.search(r"^Files: \*$", text, re.M)
    assert re.search(r"^License: GPL-2\+$", text, re.M)


# ------------------------------------------------------------ install


# Run by `unshare -m` as root: a throwaway root (an overlay of / whose
# upper layer is a tmpfs of this namespace), entered with chroot, where
# the package is installed, used through /etc/fstab and purged. Each step
# records its output in $out (bind-mounted on /out) for the test to judge.
NS_SCRIPT = r'''
out=$1 state=$2 root=$3 deb=$4
mount -t tmpfs tmpfs "$state" 2>"$out/overlay.err" || exit 90
mkdir "$state/upper" "$state/work"
mount -t overlay overlay \
	-o "lowerdir=/,upperdir=$state/upper,workdir=$state/work" "$root" \
	2>"$out/overlay.err" || exit 90
mount --rbind /dev "$root/dev" && mount -t proc proc "$root/proc" &&
mount --rbind /sys "$root/sys" && mount -t tmpfs tmpfs "$root/run" &&
mount -t tmpfs tmpfs "$root/tmp" && mount -t tmpfs tmpfs "$root/root" &&
mkdir "$root/out" && mount --bind "$out" "$root/out" || exit 91
cp "$deb" "$root/tmp/" || exit 91
chroot "$root" /bin/sh /out/steps.sh >"$out/steps.out" 2>&1
echo $? >"$out/steps.rc"
# Leave nothing mounted behind if a step failed half-way.
if grep -q " $MNT " "$root/proc/self/mountinfo" 2>/dev/null; then
	umount -l "$root$MNT"
fi
# What the package left in the throwaway root, after the purge.
(cd "$state/upper" && find . -path "*hwcfs*") >"$out/upper-left"
exit 0
'''

# Run inside the chroot; the environment holds DEB, MNT, PACKAGE_ID and
# the emulator's keys. Steps stop at the first failure (set -e), after
# writing its output.
STEPS = r'''
set -eu
export LC_ALL=C DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends "/tmp/$DEB" \
	>/out/install.log 2>&1
echo installed >/out/step
dpkg-query -L hwcfs >/out/list
dpkg-query -W -f='${Conffiles}\n' hwcfs >/out/conffiles
hwcfs --version >/out/version
systemctl is-enabled hwcfs@prod.service >/out/enabled 2>&1 || true
man -w mount.fuse.hwcfs >/out/man 2>&1
# The admin's part: a root-only config of the profile and a fstab line.
mkdir -m 700 /etc/hwcfs
install -m 600 /out/config /etc/hwcfs/config
cp /etc/fstab /out/fstab.orig
echo "$PROFILE $MNT fuse.hwcfs _netdev,nofail,config=/etc/hwcfs/config 0 0" \
	>>/etc/fstab
mkdir -p "$MNT"
mount "$MNT" >/out/mount.log 2>&1
echo mounted >/out/step
cat /proc/self/mountinfo >/out/mountinfo
ls "$MNT/iotda/packages" >/out/ls.before
rm "$MNT/iotda/packages/$PACKAGE_ID"
ls "$MNT/iotda/packages" >/out/ls.after
umount "$MNT"
echo unmounted >/out/step
# The daemon exits after the unmount (the pattern does not match itself).
i=0
while grep -qsa "${MNT%?}[${MNT#"${MNT%?}"}]" /proc/[0-9]*/cmdline; do
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "hwcfs still runs" >/out/daemon; exit 1; }
	sleep 0.1
done
# Undo the admin's part, then purge: what is left is the package's.
cp /out/fstab.orig /etc/fstab
rmdir "$MNT"
rm -r /etc/hwcfs
apt-get purge -y hwcfs >/out/purge.log 2>&1
echo purged >/out/step
if dpkg-query -W hwcfs >/dev/null 2>&1; then
	echo known >/out/status
else
	echo unknown >/out/status
fi
cat /out/list /out/conffiles | while read -r path _; do
	case $path in "" | /.) continue ;; esac
	if [ -L "$path" ] || [ -e "$path" ]; then
		if [ -d "$path" ]; then
			owner=$(dpkg-query -S "$path" 2>/dev/null | head -n1 |
				cut -d, -f1 | cut -d: -f1) || owner=""
			echo "dir $path $owner"
		else
			echo "file $path"
		fi
	fi
done >/out/left
'''


def install_use_purge(m, deb, package_id, timeout=300):
    """Runs NS_SCRIPT/STEPS; returns {file name: text} of what they
    recorded."""
    namespace_or_skip()
    out = os.path.join(m.dir, "out")
    state = os.path.join(m.dir, "state")
    root = os.path.join(m.dir, "root")
    for d in (out, state, root):
        os.mkdir(d)
    with open(os.path.join(out, "steps.sh"), "w") as f:
        f.write(STEPS)
    shutil.copy(m.config, os.path.join(out, "config"))
    mnt = "/mnt/hwcfs-test-%s" % uuid.uuid4().hex[:12]
    env = dict(m.env, DEB=os.path.basename(deb), MNT=mnt,
               PACKAGE_ID=package_id, PROFILE=PROFILE,
               PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
               "/sbin:/bin")
    argv = ["unshare", "-m", "--propagation", "private", "sh", "-c",
            NS_SCRIPT, "ns", out, state, root, deb]
    proc = subprocess.Popen(argv, env=dict(env), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stuck = hwcfs_pids(mnt, exe=None)
        wait_exit(stuck, timeout=0)
        try:
            proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
        pytest.fail("install, mount and purge did not end within %ds "
                    "(hwcfs pids %s)" % (timeout, stuck))
    left = hwcfs_pids(mnt, exe=None)
    assert wait_exit(left), "hwcfs of the throwaway root still ran"
    if proc.returncode == 90:
        with open(os.path.join(out, "overlay.err")) as f:
            pytest.skip("overlayfs is not usable in this container: %s"
                        % f.read().strip())
    assert proc.returncode == 0, err
    rec = {"mnt": mnt}
    for name in os.listdir(out):
        path = os.path.join(out, name)
        if os.path.isfile(path):
            with open(path, errors="replace") as f:
                rec[name] = f.read()
    return rec


def test_apt_install_fstab_mount_delete_and_purge(emulator, tmp_path, deb):
    """The whole life of the package on an admin's machine: apt-get
    install ./hwcfs_*.deb, a fstab line of type fuse.hwcfs that mount(8)
    hands to the packaged mount.fuse.hwcfs, ls and one rm (exactly one
    DELETE, of that package), umount, apt-get purge: no file of the
    package is left, and the unit was never enabled."""
    m = AdminMount(emulator, tmp_path)
    try:
        emulator.seed(packages=3)
        ids = sorted(p["package_id"]
                     for p in emulator.state(brief=True)["packages"])
        before = emulator.stats()["requests"]
        rec = install_use_purge(m, deb, ids[0])
        after = emulator.stats()["requests"]
    finally:
        m.cleanup()
    steps = "steps: %s (rc %s)\n%s" % (rec.get("step", "none").strip(),
                                       rec.get("steps.rc", "?").strip(),
                                       rec.get("steps.out", ""))
    assert rec.get("steps.rc", "").strip() == "0", \
        steps + rec.get("install.log", "") + rec.get("mount.log", "") + \
        rec.get("purge.log", "") + rec.get("daemon", "")
    # Installed: the program, its version, the page under the helper's
    # name, and the template unit left disabled.
    assert rec["version"].splitlines()[0] == "hwcfs version %s" % version()
    # man resolves the helper's name to the link's target.
    assert rec["man"].strip() == "/usr/share/man/man1/hwcfs.1.gz"
    assert rec["enabled"].strip() == "disabled", rec["enabled"]
    # Mounted through the fstab line by the packaged helper; listed; one
    # package deleted.
    assert mountinfo_entry(rec["mountinfo"], rec["mnt"]) == \
        ("fuse.hwcfs", PROFILE)
    assert rec["ls.before"].split() == ids
    assert rec["ls.after"].split() == ids[1:]
    left_ids = sorted(p["package_id"]
                      for p in emulator.state(brief=True)["packages"])
    assert left_ids == ids[1:]
    deletes = {op: after[op] - before.get(op, 0) for op in after
               if "delete" in op and after[op] != before.get(op, 0)}
    assert deletes == {"iotda.delete": 1}
    # Purged: dpkg forgot it, and of its files only directories other
    # packages own remain.
    assert rec["status"].strip() == "unknown"
    listed = [p for p in rec["list"].splitlines() if p.strip()]
    assert "/usr/bin/hwcfs" in listed
    assert "/lib/systemd/system/hwcfs@.service" in listed
    bad = []
    for line in rec["left"].splitlines():
        kind, path, *owner = line.split(" ", 2)
        if kind != "dir" or not owner or not owner[0].strip():
            bad.append(line)
    assert bad == [], "left after purge:\n" + rec["left"]
    assert rec["upper-left"] == "", \
        "files named after hwcfs left in the root:\n" + rec["upper-left"]
