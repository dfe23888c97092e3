"""harness.py - start, drive and stop the cloud emulator from tests.

    from emulator.harness import Emulator
    with Emulator(packages=20, providers=3, versions=2) as emu:
        emu.faults(error_rate=0.5)
        r = emu.sign_and_request("GET", "/v1/private-providers")
        assert emu.stats()["requests"]["rfs.list_providers"] == 1

The emulator runs as its own process (Debian's /usr/bin/python3) on a free
loopback port; stop() always terminates and reaps it by PID.
"""

import contextlib
import http.client
import json
import os
import shutil
import ssl
import subprocess
import tempfile
import time
import urllib.parse
import uuid

try:
    from . import signer
except ImportError:  # loaded as a top-level module
    import signer

PYTHON = "/usr/bin/python3"
HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "emulator.py")

REGION = "cn-north-4"
PROJECT_ID = "0123456789abcdef0123456789abcdef"
AK = "EMULATORAK0123456789"
SK = "emulator/secret+key/0123456789abcdefgh"
USER = "demo"
PASSWORD = "demo-password"
DOMAIN = "demo"
START_TIMEOUT = 20.0


class Response:
    """Status, headers and body of one answer."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # dict with lowercase names
        self.body = body

    def json(self):
        return json.loads(self.body)

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)

    def __repr__(self):
        return "Response(%d, %r)" % (self.status, self.body[:200])


class EmulatorError(RuntimeError):
    pass


class Emulator:
    """One emulator process. Options mirror emulator.py's command line:
    region, project_id, keys [(ak, sk)], users [(name, password, domain)],
    packages, package_types (list), providers, versions, latency_ms,
    seed_file, random_seed, token_ttl, faults (dict), host, verbose,
    extra_args (list)."""

    def __init__(self, region=REGION, project_id=PROJECT_ID, keys=None,
                 users=None, packages=0, providers=0, versions=0,
                 latency_ms=0, seed_file=None, random_seed=1,
                 token_ttl=None, faults=None, host="127.0.0.1",
                 verbose=False, extra_args=None, timeout=30.0,
                 tls_cert=None, tls_key=None, port=0, package_types=None,
                 modules=0, hooks=0, templates=0):
        self.region = region
        self.project_id = project_id
        self.keys = list(keys) if keys else [(AK, SK)]
        self.users = list(users) if users else [(USER, PASSWORD, DOMAIN)]
        self.ak, self.sk = self.keys[0]
        self.options = dict(packages=packages, providers=providers,
                            versions=versions, latency_ms=latency_ms,
                            seed_file=seed_file, random_seed=random_seed,
                            token_ttl=token_ttl, faults=faults,
                            package_types=package_types, modules=modules,
                            hooks=hooks, templates=templates)
        self.host = host
        self.verbose = verbose
        self.extra_args = list(extra_args or [])
        self.timeout = timeout
        # HTTPS with this certificate and key (PEM files) when given
        self.tls_cert = tls_cert
        self.tls_key = tls_key
        # a fixed port (0: any free one), e.g. to restart on the same one
        self.fixed_port = port
        self.proc = None
        self.port = None
        self.tmpdir = None
        self.token = None

    # ------------------------------------------------------- lifecycle

    def command(self, port_file):
        o = self.options
        cmd = [PYTHON, SCRIPT, "--host", self.host,
               "--port", str(self.fixed_port),
               "--port-file", port_file, "--region", self.region,
               "--project-id", self.project_id,
               "--packages", str(o["packages"]),
               "--providers", str(o["providers"]),
               "--versions", str(o["versions"]),
               "--modules", str(o["modules"]), "--hooks", str(o["hooks"]),
               "--templates", str(o["templates"]),
               "--latency-ms", str(o["latency_ms"]),
               "--random-seed", str(o["random_seed"])]
        for ak, sk in self.keys:
            cmd += ["--key", "%s:%s" % (ak, sk)]
        for name, password, domain in self.users:
            cmd += ["--user", "%s:%s:%s" % (name, password, domain)]
        if o["package_types"]:
            cmd += ["--package-types", ",".join(o["package_types"])]
        if o["seed_file"]:
            cmd += ["--seed-file", o["seed_file"]]
        if o["token_ttl"] is not None:
            cmd += ["--token-ttl", str(o["token_ttl"])]
        if o["faults"]:
            cmd += ["--faults", json.dumps(o["faults"])]
        if self.verbose:
            cmd.append("--verbose")
        if self.tls_cert:
            cmd += ["--tls-cert", self.tls_cert, "--tls-key", self.tls_key]
        return cmd + self.extra_args

    def start(self):
        if self.proc is not None:
            raise EmulatorError("emulator already started")
        self.tmpdir = tempfile.mkdtemp(prefix="hwcfs-emu-")
        port_file = os.path.join(self.tmpdir, "port")
        self.log_path = os.path.join(self.tmpdir, "emulator.log")
        log = open(self.log_path, "wb")
        try:
            self.proc = subprocess.Popen(self.command(port_file),
                                         stdout=log, stderr=log,
                                         stdin=subprocess.DEVNULL)
        finally:
            log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if os.path.exists(port_file):
                with open(port_file) as f:
                    text = f.read().strip()
                if text:
                    self.port = int(text)
                    return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        output = self.output()
        self.stop()
        raise EmulatorError("emulator did not start: %s" % output)

    def output(self):
        """What the emulator printed (stdout and stderr)."""
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except (OSError, AttributeError):
            return ""

    def stop(self):
        proc, self.proc = self.proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            else:
                proc.wait()
        if self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    @property
    def scheme(self):
        return "https" if self.tls_cert else "http"

    @property
    def url(self):
        return "%s://%s:%d" % (self.scheme, self.host, self.port)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def env(self):
        """Environment variables for a client with the default key."""
        return {"HUAWEICLOUD_SDK_AK": self.ak, "HUAWEICLOUD_SDK_SK": self.sk}

    def endpoints(self):
        """hwcfs settings that point every service at this emulator."""
        return {"iotda_endpoint": self.url, "rfs_endpoint": self.url,
                "iam_endpoint": self.url, "region": self.region,
                "project_id": self.project_id}

    def mount_options(self):
        """The same as one -o value: "iotda_endpoint=...,region=..."."""
        return ",".join("%s=%s" % kv for kv in self.endpoints().items())

    # ------------------------------------------------------- raw HTTP

    def request(self, method, path, body=None, headers=None, timeout=None):
        """Plain request (no auth added). body: bytes, str or JSON-able."""
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        if self.tls_cert:
            ctx = ssl.create_default_context(cafile=self.tls_cert)
            conn = http.client.HTTPSConnection(
                self.host, self.port, timeout=timeout or self.timeout,
                context=ctx)
        else:
            conn = http.client.HTTPConnection(
                self.host, self.port, timeout=timeout or self.timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            hdrs = {k.lower(): v for k, v in resp.getheaders()}
            return Response(resp.status, hdrs, data)
        finally:
            conn.close()

    def control(self, method, path, body=None):
        r = self.request(method, "/_emu/" + path.lstrip("/"), body)
        if r.status >= 300:
            raise EmulatorError("control %s %s: %d %s" % (
                method, path, r.status, r.body[:300]))
        return r.json()

    # ------------------------------------------------------- control API

    def stats(self):
        return self.control("GET", "stats")

    def reset(self, faults=False):
        return self.control("POST", "reset", {"faults": bool(faults)})

    def state(self, brief=False):
        return self.control("GET", "state?brief=1" if brief else "state")

    def faults(self, **kw):
        """Set fault knobs (see docs/emulator.md); no argument reads them."""
        if not kw:
            return self.control("GET", "faults")
        return self.control("POST", "faults", kw)

    def clear_faults(self):
        return self.control("POST", "faults", {"clear": True})

    def wipe(self):
        """Back to a fresh start without a restart: no resources, no
        faults (a stall is released), counters at zero, no cached token.
        Suites share one emulator process and wipe it before each test."""
        self.clear_faults()
        self.seed(clear=True)
        self.reset()
        self.reset_keys()
        self.token = None

    def set_key(self, ak, sk):
        """Adds the key pair, or gives ak a new sk."""
        return self.control("POST", "keys", {"ak": ak, "sk": sk})

    def revoke_key(self, ak=None):
        """Revokes ak (default: the key the harness signs with)."""
        return self.control("DELETE", "keys/" +
                            urllib.parse.quote(ak or self.ak, safe=""))

    def reset_keys(self):
        """The keys the emulator started with, and no other."""
        return self.control("POST", "keys", {"reset": True})

    def seed(self, packages=0, providers=0, versions=0, clear=False,
             package_types=None, modules=0, hooks=0, templates=0):
        """Adds seeded resources; packages take package_types (a list of
        IoTDA package types) in turn, firmware/software by default; every
        RFS name seeded gets versions versions (hooks and templates at
        least one)."""
        body = {"packages": packages, "providers": providers,
                "versions": versions, "clear": clear, "modules": modules,
                "hooks": hooks, "templates": templates}
        if package_types is not None:
            body["package_types"] = list(package_types)
        return self.control("POST", "seed", body)

    def add_package(self, **fields):
        """One package (firmwarePackage unless package_type says otherwise;
        a modulePackage gets module_name "module-a" unless given); fields
        may also set package_id and the create time. Returns the package
        with its create_epoch and record_id."""
        return self.control("POST", "packages", fields)

    def delete_package(self, package_id):
        return self.control("DELETE", "packages/" +
                            urllib.parse.quote(package_id, safe=""))

    def add_provider(self, provider_name, versions=(), **fields):
        fields.update(provider_name=provider_name, versions=list(versions))
        return self.control("POST", "providers", fields)

    def delete_provider(self, name):
        return self.control("DELETE", "providers/" +
                            urllib.parse.quote(name, safe=""))

    def add_version(self, provider_name, provider_version, **fields):
        fields["provider_version"] = provider_version
        return self.control("POST", "providers/%s/versions" %
                            urllib.parse.quote(provider_name, safe=""),
                            fields)

    def add_rfs(self, kind, name, versions=(), **fields):
        """A name of an RFS kind (providers, modules, hooks, templates)
        with versions: strings, {"version", "description", "age_days"}
        objects, or a count. Returns its listing object and versions."""
        fields.update(name=name, versions=versions if isinstance(
            versions, int) else list(versions))
        return self.control("POST", "rfs/" + kind, fields)

    def delete_rfs(self, kind, name):
        """Removes a name and its versions behind the client's back."""
        return self.control("DELETE", "rfs/%s/%s" % (
            kind, urllib.parse.quote(name, safe="")))

    def add_rfs_version(self, kind, name, version=None, **fields):
        """One more version (templates: None = the next Vn)."""
        if version is not None:
            fields["version"] = version
        return self.control("POST", "rfs/%s/%s/versions" % (
            kind, urllib.parse.quote(name, safe="")), fields)

    def delete_rfs_version(self, kind, name, version):
        return self.control("DELETE", "rfs/%s/%s/versions/%s" % (
            kind, urllib.parse.quote(name, safe=""),
            urllib.parse.quote(version, safe="")))

    def rfs_path(self, kind, name=None, version=None, project=None):
        """The API path of a kind's collection, a name or a version."""
        p = {"providers": "/v1/private-providers",
             "modules": "/v1/private-modules",
             "hooks": "/v1/private-hooks",
             "templates": "/v1/%s/templates" % (project or self.project_id)
             }[kind]
        if name is not None:
            p += "/" + urllib.parse.quote(name, safe="")
        if version is not None:
            p += "/versions/" + urllib.parse.quote(version, safe="")
        return p

    def count(self, op):
        return self.stats()["requests"][op]

    def tokens(self):
        """Every IAM token issued so far, oldest first."""
        return self.control("GET", "tokens")["tokens"]

    # ------------------------------------------------------- signed API

    def iam_token(self, user=USER, password=PASSWORD, domain=DOMAIN,
                  project_name=None):
        body = {"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": user, "password": password,
                "domain": {"name": domain}}}},
            "scope": {"project": {"name": project_name or self.region}}}}
        r = self.request("POST", "/v3/auth/tokens", body,
                         {"Content-Type": "application/json;charset=utf8"})
        if r.status == 201:
            self.token = r.header("X-Subject-Token")
        return r

    def sign_and_request(self, method, path, query=None, body=None,
                         algo="sdk", headers=None, ak=None, sk=None,
                         date=None, signed_headers=None, region=None,
                         service="iotdm", project_header=True,
                         client_request_id=True, token=None):
        """Send one API request authenticated the way the SDKs do.

        query: list of (name, value) pairs or a dict (values may be lists);
        sent as the canonical query. algo: "sdk", "v11", "token" (uses token
        or a fresh IAM token) or "none". An RFS path gets a Client-Request-Id
        unless client_request_id is False (or a string to use).
        """
        pairs = []
        if isinstance(query, dict):
            for k, v in query.items():
                for item in (v if isinstance(v, (list, tuple)) else [v]):
                    pairs.append((k, str(item)))
        elif query:
            pairs = [(k, str(v)) for k, v in query]
        qs = signer.canonical_query(pairs)
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        hdrs = [("Host", "%s:%d" % (self.host, self.port)),
                ("Content-Type", "application/json")]
        if project_header:
            hdrs.append(("X-Project-Id", self.project_id))
        if path.startswith("/v1/") and client_request_id:
            crid = client_request_id if isinstance(client_request_id, str) \
                else str(uuid.uuid4())
            hdrs.append(("Client-Request-Id", crid))
        for k, v in (headers or {}).items():
            hdrs = [(n, x) for n, x in hdrs if n.lower() != k.lower()]
            if v is not None:
                hdrs.append((k, v))
        if algo in ("sdk", "v11"):
            hdrs.append(("X-Sdk-Date", date or signer.now_date()))
            auth, _ = signer.sign(method, path, pairs, hdrs, body or b"",
                                  ak or self.ak, sk or self.sk, algo=algo,
                                  region=region or self.region,
                                  service=service,
                                  signed_names=signed_headers)
            hdrs.append(("Authorization", auth))
        elif algo == "token":
            if token is None:
                if self.token is None:
                    r = self.iam_token()
                    if r.status != 201:
                        raise EmulatorError("token: %r" % r)
                token = self.token
            hdrs.append(("X-Auth-Token", token))
        full = path + ("?" + qs if qs else "")
        return self.request(method, full, body, dict(hdrs))

    def iotda_path(self, package_id=None, project=None):
        p = "/v5/iot/%s/ota-upgrades/packages" % (project or self.project_id)
        if package_id is not None:
            p += "/" + urllib.parse.quote(package_id, safe="")
        return p


RFS_KINDS = ("providers", "modules", "hooks", "templates")
RFS_ACTIONS = ("list", "show", "delete", "list_versions", "show_version",
               "delete_version", "create", "create_version")
_RFS_SINGULAR = {"providers": "provider", "modules": "module",
                 "hooks": "hook", "templates": "template"}


def rfs_op(kind, action):
    """The counter of an RFS operation (docs/emulator.md): providers keep
    their names (rfs.list_versions...), the others name their kind
    (rfs.list_modules, rfs.delete_hook_version...)."""
    if action not in RFS_ACTIONS:
        raise ValueError("action: one of %s" % (RFS_ACTIONS,))
    one = _RFS_SINGULAR[kind]
    if action == "list":
        return "rfs.list_" + kind
    verb, _, rest = action.partition("_")
    if kind == "providers":
        return "rfs.%s_%s" % (verb, rest or one)
    if rest == "versions":
        return "rfs.%s_%s_versions" % (verb, one)
    return "rfs.%s_%s%s" % (verb, one, "_" + rest if rest else "")


@contextlib.contextmanager
def running(**options):
    """Context manager for a pytest fixture:

        @pytest.fixture
        def emu():
            with running(packages=10) as e:
                yield e
    """
    emu = Emulator(**options)
    emu.start()
    try:
        yield emu
    finally:
        emu.stop()
