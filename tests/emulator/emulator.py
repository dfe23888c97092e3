#!/usr/bin/python3
"""emulator.py - a local stand-in for Huawei Cloud IoTDA, RFS and IAM.

One process, one loopback port. It answers the OTA package, RFS registry
(private providers, modules, hooks, templates) and IAM token APIs as
docs/cloud-api.md describes them, verifies AK/SK signatures and tokens, can
inject faults, and counts every request so that tests can assert exactly
what a client sent. Control API under /_emu/ (no auth).
Python 3 standard library only; see docs/emulator.md.

This file is the entry point (command line, seeding, serving); the modules
next to it hold the rest, one concern each (docs/emulator.md: its table
of files, and the paragraph "Layout:" below it).
"""

import argparse
import json
import os
import ssl
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from errors import ApiError  # noqa: E402
from faults import apply_faults  # noqa: E402
from server import Handler, Server  # noqa: E402
from state import (DEFAULT_AK, DEFAULT_PROJECT, DEFAULT_REGION,  # noqa: E402
                   DEFAULT_SK, DEFAULT_USER, Cloud, seed_types)


def parse_args(argv):
    ap = argparse.ArgumentParser(description="hwcfs cloud emulator")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--region", default=DEFAULT_REGION)
    ap.add_argument("--project-id", default=DEFAULT_PROJECT)
    ap.add_argument("--key", action="append", default=[],
                    help="AK:SK (repeatable)")
    ap.add_argument("--user", action="append", default=[],
                    help="NAME:PASSWORD:DOMAIN (repeatable)")
    ap.add_argument("--packages", type=int, default=0)
    ap.add_argument("--package-types",
                    help="comma-separated types the seeded packages take "
                    "in turn (default firmwarePackage,softwarePackage)")
    ap.add_argument("--providers", type=int, default=0)
    ap.add_argument("--versions", type=int, default=0,
                    help="versions of each seeded RFS name, every kind")
    ap.add_argument("--modules", type=int, default=0)
    ap.add_argument("--hooks", type=int, default=0)
    ap.add_argument("--templates", type=int, default=0)
    ap.add_argument("--latency-ms", type=int, default=0)
    ap.add_argument("--seed-file")
    ap.add_argument("--random-seed", type=int, default=1)
    ap.add_argument("--token-ttl", type=int, default=86400)
    ap.add_argument("--faults", help="JSON object, as POST /_emu/faults")
    ap.add_argument("--log-limit", type=int, default=200000,
                    help="newest request-log entries kept in /_emu/stats")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--tls-cert", help="PEM certificate: serve HTTPS")
    ap.add_argument("--tls-key", help="PEM private key of --tls-cert")
    args = ap.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        ap.error("--tls-cert and --tls-key go together")
    return args


def load_seed_file(cloud, path):
    with open(path) as f:
        spec = json.load(f)
    counts = {k: spec[k] for k in ("packages", "providers", "versions",
                                   "modules", "hooks", "templates")
              if isinstance(spec.get(k), int)}
    types = seed_types(spec.get("package_types"))
    with cloud.lock:
        cloud.seed(clear=bool(spec.get("clear")), package_types=types,
                   **counts)
    fake = Handler.__new__(Handler)
    fake.server = type("S", (), {"cloud": cloud})()
    for p in spec.get("packages", []) if isinstance(
            spec.get("packages"), list) else []:
        fake.control_add_package(p)
    for p in spec.get("providers", []) if isinstance(
            spec.get("providers"), list) else []:
        fake.control_add_provider(p)
    for kind, records in (spec.get("rfs") or {}).items():
        for r in records:
            fake.control_rfs("POST", [kind], r)
    if isinstance(spec.get("faults"), dict):
        apply_faults(cloud, spec["faults"])


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    keys = []
    for item in args.key or ["%s:%s" % (DEFAULT_AK, DEFAULT_SK)]:
        ak, sep, sk = item.partition(":")
        if not sep or not ak or not sk:
            sys.exit("emulator: --key wants AK:SK")
        keys.append((ak, sk))
    users = []
    for item in args.user or [DEFAULT_USER]:
        parts = item.split(":")
        if len(parts) != 3:
            sys.exit("emulator: --user wants NAME:PASSWORD:DOMAIN")
        users.append(tuple(parts))
    cloud = Cloud(args.region, args.project_id, keys, users,
                  args.random_seed, args.token_ttl)
    cloud.log_limit = max(1, args.log_limit)
    try:
        types = seed_types(args.package_types)
    except ApiError as e:
        sys.exit("emulator: --package-types: %s" % e.body["error"])
    with cloud.lock:
        cloud.seed(args.packages, args.providers, args.versions,
                   package_types=types, modules=args.modules,
                   hooks=args.hooks, templates=args.templates)
    if args.seed_file:
        load_seed_file(cloud, args.seed_file)
    faults = {}
    if args.latency_ms:
        faults["latency_ms"] = args.latency_ms
    if args.faults:
        faults.update(json.loads(args.faults))
    if faults:
        apply_faults(cloud, faults)
    server = Server((args.host, args.port), Handler)
    server.cloud = cloud
    server.verbose = args.verbose
    scheme = "http"
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        server.tls = ctx
        scheme = "https"
    port = server.server_address[1]
    host = args.host if ":" not in args.host else "[%s]" % args.host
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, args.port_file)
    print("emulator listening on %s://%s:%d" % (scheme, host, port),
          flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
