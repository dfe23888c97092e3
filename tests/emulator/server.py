"""server.py - Transport: the HTTP server (with TLS) and the request
Handler, which reads a request, counts and logs it, applies the
transport faults and sends the answer of the module that owns its route.
"""

import http.server
import json
import socket
import ssl
import sys
import time
import uuid

import signer
from errors import (ApiError, GW_NOT_FOUND, default_code, service_error,
                    service_of)
from faults import Faults
from routes import first, param_dict, route
from auth import Auth
from iotda import Iotda
from rfs import Rfs
from rfs_kinds import OP_KIND
from iam import Iam
from control import Control


class Handler(Auth, Faults, Iotda, Rfs, Iam, Control,
              http.server.BaseHTTPRequestHandler):
    """One connection's requests: the transport is here, each
    service's operations come from its own module."""

    protocol_version = "HTTP/1.1"

    server_version = "hwcfs-emulator/1"

    # Headers and body go out in separate writes; without TCP_NODELAY,
    # Nagle plus the client's delayed ACK adds ~40 ms to every answer on a
    # kept-alive connection, and benchmarks would measure that, not latency.
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("emulator: %s\n" % (fmt % args))

    def read_body(self):
        te = self.headers.get("Transfer-Encoding", "")
        if te.lower() == "chunked":
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n",
                                                             b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return b"".join(chunks)
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        try:
            n = int(length)
        except ValueError:
            n = -1
        if n < 0:
            self.close_connection = True
            raise ApiError(400, {"error_code": "APIGW.0201",
                                 "error_msg": "bad Content-Length"})
        return self.rfile.read(n)

    def send(self, status, body=b"", headers=(), ctype="application/json"):
        """One complete answer with X-Request-Id and Content-Length; body
        is bytes or a list of bytes sent one after the other."""
        self.send_response(status)
        self.send_header("X-Request-Id", self.request_id)
        for name, value in headers:
            self.send_header(name, value)
        parts = body if isinstance(body, list) else [body]
        length = sum(len(part) for part in parts)
        if status != 204:
            if length:
                self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(length))
        self.end_headers()
        for part in parts if status != 204 else ():
            view = memoryview(part)
            for off in range(0, len(view), 1 << 20):
                self.wfile.write(view[off:off + (1 << 20)])
        self.wfile.flush()

    def send_json(self, status, obj, headers=()):
        body = b"" if obj is None else json.dumps(obj).encode()
        self.send(status, body, headers)

    def drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def dispatch(self, method):
        self.request_id = uuid.uuid4().hex
        raw_path, _, raw_query = self.path.partition("?")
        try:
            body = self.read_body()
        except ApiError as e:
            self.send_json(e.status, e.body)
            return
        except (ValueError, OSError):
            self.drop()
            return
        try:
            if raw_path.startswith("/_emu/") or raw_path == "/_emu":
                self.control(method, raw_path, raw_query, body)
            else:
                self.api(method, raw_path, raw_query, body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def api(self, method, raw_path, raw_query, body):
        """One API request, counted in flight while it is answered:
        max_in_flight shows whether a client sends requests in parallel."""
        cloud = self.server.cloud
        with cloud.lock:
            cloud.in_flight += 1
            cloud.stats["max_in_flight"] = max(
                cloud.stats["max_in_flight"], cloud.in_flight)
        try:
            self.api_request(method, raw_path, raw_query, body)
        finally:
            with cloud.lock:
                cloud.in_flight -= 1

    def api_request(self, method, raw_path, raw_query, body):
        cloud = self.server.cloud
        op, args = route(method, raw_path)
        pairs = signer.parse_query(raw_query)
        params = param_dict(pairs)
        entry = {"op": op, "method": method, "path": raw_path,
                 "query": raw_query, "params": params, "status": None,
                 "auth": "none", "host": self.headers.get("Host"),
                 "content_type": self.headers.get("Content-Type")}
        delete_entry = None
        with cloud.lock:
            cloud.stats["requests"][op] += 1
            cloud.stats["total"] += 1
            log = cloud.stats["log"]
            log.append(entry)
            if len(log) > cloud.log_limit:
                # Long benchmarks: keep the newest entries, say how many
                # went, and keep memory bounded.
                cut = len(log) - cloud.log_limit
                del log[:cut]
                cloud.stats["log_dropped"] += cut
            if method == "DELETE":
                delete_entry = self.delete_entry(op, args, raw_path, params)
                cloud.stats["deletes"].append(delete_entry)
            faults = dict(cloud.faults)
            drop = faults["drop_rate"] > 0 and \
                cloud.fault_rng.random() < faults["drop_rate"]

        if faults["latency_ms"]:
            time.sleep(faults["latency_ms"] / 1000.0)
        if faults["stall"]:
            with cloud.lock:
                entry["stalled"] = True
            cloud.unstalled.wait()
        if drop:
            with cloud.lock:
                entry["dropped"] = True
            self.drop()
            return

        headers = []
        try:
            status, obj, raw, headers = self.api_answer(
                op, args, method, raw_path, pairs, params, body, entry)
        except ApiError as e:
            status, obj, raw, headers = e.status, e.body, None, e.headers
        if raw is None:
            raw = b"" if obj is None else json.dumps(obj).encode()
        if status == 200 and raw:
            raw = self.inject(op, raw_path, raw_query, params, raw)
            raw = self.corrupt(op, raw)
        with cloud.lock:
            entry["status"] = status
            if delete_entry is not None:
                delete_entry["status"] = status
            # A delete done but its answer lost on the way back: the
            # client cannot know, and must take a retry's 404 as success.
            lose = delete_entry is not None and status < 300 and \
                cloud.faults["lose_delete_answers"] > 0
            if lose:
                cloud.faults["lose_delete_answers"] -= 1
                entry["dropped"] = True
                delete_entry["answer_lost"] = True
        if lose:
            self.drop()
            return
        self.send(status, raw, headers)

    @staticmethod
    def delete_entry(op, args, raw_path, params):
        """The stats' record of one DELETE: what it names (an RFS name or
        NAME/VERSION, a package id) and the strong-match id it gave,
        under the kind's own id field (provider_id, module_id, hook_id,
        template_id; provider_id for the rest, as before the kinds)."""
        kind = OP_KIND.get(op, (None, None))[0]
        id_field = kind.id if kind is not None else "provider_id"
        entry = {"op": op, "resource": raw_path,
                 id_field: first(params, id_field), "status": None}
        if op == "iotda.delete":
            entry["resource"] = args[1]
        elif kind is not None:
            names = args[1:] if kind.project else args
            entry["resource"] = "/".join(names)
        return entry

    def api_answer(self, op, args, method, raw_path, pairs, params, body,
                   entry):
        cloud = self.server.cloud
        service = service_of(op)
        if op == "other":
            raise ApiError(404, {"error_code": GW_NOT_FOUND,
                                 "error_msg": "API not found",
                                 "request_id": self.request_id})
        if op != "iam.token":
            self.authenticate(raw_path, pairs, body, entry)
        with cloud.lock:
            faults = cloud.faults
            if faults["throttle"] > 0:
                faults["throttle"] -= 1
                raise self.throttled(service, faults)
            if faults["error_rate"] > 0 and \
                    cloud.fault_rng.random() < faults["error_rate"]:
                raise service_error(service, 500,
                                    default_code(service, 500),
                                    "injected internal error")
            for rule in faults["status_for"]:
                if rule["match"] in raw_path and \
                        rule.get("method", method).upper() == method:
                    st = int(rule["status"])
                    raise service_error(
                        service, st,
                        rule.get("error_code") or default_code(service, st),
                        "injected status %d" % st)
        handler = getattr(self, "op_" + op.replace(".", "_"))
        return handler(args, params, body)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    tls = None  # an ssl.SSLContext when serving HTTPS

    def finish_request(self, request, client_address):
        """With TLS, the handshake happens here, in the connection's own
        thread, so a client that never finishes one (or refuses our
        certificate) holds up no one else."""
        if self.tls is None:
            return super().finish_request(request, client_address)
        try:
            conn = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            if self.verbose:
                sys.stderr.write("emulator: TLS handshake failed: %s\n" % e)
            with self.cloud.lock:
                self.cloud.stats["tls_failures"] += 1
            return
        try:
            super().finish_request(conn, client_address)
        finally:
            try:
                conn.close()
            except OSError:
                pass
