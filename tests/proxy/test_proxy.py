"""The filtering proxy engine against real loopback servers and real clients.

proxy-serve (tests/proxy/proxy-serve.c) runs the engine alone; the tests start plain
HTTP and TLS upstreams, a corporate-style upstream proxy and an echo server in threads,
and talk to the proxy with raw sockets, curl and urllib.  Everything is on 127.0.0.1;
every loop is bounded.  The name-resolution case needs root (a private mount namespace
with its own /etc/hosts) and is skipped otherwise.
"""
import base64
import http.server
import json
import os
import resource
import selectors
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

PROXY_SERVE = os.environ.get("PROXY_SERVE", "")
TOKEN = "0123456789abcdef0123456789abcdef"
SECRET = "sk-REAL-SECRET-7f3a9c"
PHANTOM = "nono-phantom-5b2e8d41"
SESSION = "test-session-42"


# ---- upstreams ---------------------------------------------------------------------------

class Recorder(http.server.BaseHTTPRequestHandler):
    """Records every request (method, path, headers, body) and answers 200."""
    server_version = "rec"
    log_message = lambda *a: None  # noqa: E731

    def handle_any(self):
        body = b""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b""):
                        pass
                    break
                body += self.rfile.read(size)
                self.rfile.readline()
        elif self.headers.get("Content-Length"):
            body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.requests.append((self.command, self.path, dict(self.headers.items()), body))
        if self.path.startswith("/big"):
            self.send_response(200)
            self.send_header("Content-Length", str(64 << 20))
            self.end_headers()
            chunk = b"x" * (1 << 20)
            try:
                for _ in range(64):
                    self.wfile.write(chunk)
            except OSError:
                pass
            return
        reply = b"ok:" + self.path.encode() + b":" + body
        self.send_response(200)
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    do_GET = do_POST = do_PUT = do_DELETE = handle_any


def stop_http(server):
    server.shutdown()
    server.server_close()


def start_http(tls_context=None):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.daemon_threads = True
    server.handle_error = lambda *a: None  # clients that leave early are part of the tests
    server.requests = []
    if tls_context:
        server.socket = tls_context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class EchoServer:
    """Echoes every byte, for any number of connections (one selector thread)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4096)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.sock, selectors.EVENT_READ)
        self.running = True
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while self.running:
            for key, _ in self.sel.select(0.2):
                if key.fileobj is self.sock:
                    try:
                        conn, _ = self.sock.accept()
                    except BlockingIOError:
                        continue
                    conn.setblocking(False)
                    self.sel.register(conn, selectors.EVENT_READ)
                    continue
                try:
                    data = key.fileobj.recv(65536)
                    if data:
                        key.fileobj.sendall(data)
                        continue
                except OSError:
                    pass
                self.sel.unregister(key.fileobj)
                key.fileobj.close()

    def close(self):
        self.running = False


class FakeCorporateProxy:
    """A CONNECT-only proxy that maps every target to 127.0.0.1 and records targets."""

    def __init__(self):
        self.targets = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.handle, args=(conn,), daemon=True).start()

    def handle(self, conn):
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 8192:
            data = conn.recv(4096)
            if not data:
                conn.close()
                return
            head += data
        target = head.split(b" ")[1].decode()
        self.targets.append(target)
        port = int(target.rsplit(":", 1)[1])
        up = socket.create_connection(("127.0.0.1", port), timeout=10)
        conn.sendall(b"HTTP/1.1 200 OK\r\n\r\n")
        pipe(conn, up)


def pipe(a, b):
    """Copies both ways until either side closes (bounded by socket timeouts)."""
    def one_way(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
    threading.Thread(target=one_way, args=(a, b), daemon=True).start()
    threading.Thread(target=one_way, args=(b, a), daemon=True).start()


# ---- the proxy -------------------------------------------------------------------------

class Proxy:
    """proxy-serve with a config; stops when its stdin is closed."""

    def __init__(self, tmp, config, wrap=None):
        config = dict(config)
        config.setdefault("token", TOKEN)
        config.setdefault("session", SESSION)
        self.audit_path = os.path.join(tmp, "audit-%d.jsonl" % id(self))
        config["audit_file"] = self.audit_path
        path = os.path.join(tmp, "config-%d.json" % id(self))
        with open(path, "w") as f:
            json.dump(config, f)
        argv = (wrap or []) + [PROXY_SERVE, path]
        env = dict(os.environ, TEST_SECRET=SECRET)
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env)
        line = self.proc.stdout.readline()
        if not line.strip():
            self.proc.kill()
            raise RuntimeError("proxy-serve did not start: " +
                               self.proc.stderr.read().decode(errors="replace"))
        self.port = int(line)

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        """Stops the proxy; raises when it did not exit cleanly (a crash, a sanitizer)."""
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        errors = self.proc.stderr.read().decode(errors="replace")
        self.proc.stdout.close()
        self.proc.stderr.close()
        if self.proc.returncode != 0 or "runtime error:" in errors:
            raise AssertionError("proxy-serve exited with %d: %s" %
                                 (self.proc.returncode, errors[-3000:]))
        return errors

    def audit(self):
        with open(self.audit_path) as f:
            return [json.loads(line) for line in f if line.strip()]

    def audit_text(self):
        with open(self.audit_path) as f:
            return f.read()


def auth_header(token=TOKEN):
    return "Proxy-Authorization: Basic %s\r\n" % base64.b64encode(
        ("nono:" + token).encode()).decode()


def read_head(sock, limit=65536):
    """Reads up to the end of a response head; returns (status, head bytes, rest)."""
    data = b""
    while b"\r\n\r\n" not in data and len(data) < limit:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    parts = head.split(b" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    return status, head, rest


def read_all(sock):
    chunks = []
    while True:
        chunk = sock.recv(1 << 20)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def make_certs(tmp):
    """A test CA, a server certificate for 127.0.0.1 and localhost, and another CA."""
    def run(*argv):
        subprocess.run(["openssl"] + list(argv), cwd=tmp, check=True, capture_output=True)
    for ca in ("ca", "otherca"):
        run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=" + ca,
            "-keyout", ca + ".key", "-out", ca + ".pem")
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
        "-keyout", "server.key", "-out", "server.csr")
    with open(os.path.join(tmp, "ext.cnf"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "2", "-extfile", "ext.cnf", "-out", "server.pem")


class ProxyTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not PROXY_SERVE:
            raise unittest.SkipTest("PROXY_SERVE is not set")
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        cls.tmp = tempfile.mkdtemp(prefix="nono-proxy-test-", dir="/var/tmp")
        make_certs(cls.tmp)
        cls.http = start_http()
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(cls.tmp, "server.pem"),
                            os.path.join(cls.tmp, "server.key"))
        cls.https = start_http(ctx)
        cls.echo = EchoServer()
        hp, sp = cls.http.server_address[1], cls.https.server_address[1]
        cls.config = {
            "allowed_hosts": ["127.0.0.1", "localhost", "*.example.com"],
            "routes": [
                {"service": "svc", "upstream": "http://127.0.0.1:%d/base" % hp,
                 "inject_header": "Authorization", "credential_format": "Bearer {}",
                 "secret_env": "TEST_SECRET", "phantom": PHANTOM},
                {"service": "limited", "upstream": "http://127.0.0.1:%d" % hp,
                 "inject_header": "X-Api-Key", "secret_env": "TEST_SECRET", "phantom": PHANTOM,
                 "endpoint_rules": ["GET:/v1/models", "POST:/v1/chat/*"]},
                {"service": "query", "upstream": "http://127.0.0.1:%d" % hp,
                 "inject_mode": "query_param", "inject_header": "key",
                 "secret_env": "TEST_SECRET", "phantom": PHANTOM},
                {"service": "basic", "upstream": "http://127.0.0.1:%d" % hp,
                 "inject_mode": "basic_auth", "credential_format": "user:{}",
                 "secret_env": "TEST_SECRET", "phantom": PHANTOM},
                {"service": "tls", "upstream": "https://localhost:%d" % sp,
                 "inject_header": "Authorization", "credential_format": "Bearer {}",
                 "tls_ca": os.path.join(cls.tmp, "ca.pem"),
                 "secret_env": "TEST_SECRET", "phantom": PHANTOM},
                {"service": "badtls", "upstream": "https://localhost:%d" % sp,
                 "inject_header": "Authorization", "credential_format": "Bearer {}",
                 "tls_ca": os.path.join(cls.tmp, "otherca.pem"),
                 "secret_env": "TEST_SECRET", "phantom": PHANTOM},
            ],
        }
        cls.proxy = Proxy(cls.tmp, cls.config)

    @classmethod
    def tearDownClass(cls):
        try:
            cls.proxy.stop()
        finally:
            stop_http(cls.http)
            stop_http(cls.https)
            cls.echo.close()
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.assertTrue(self.proxy.alive(), "the proxy died in an earlier test")
        self.http.requests.clear()
        self.https.requests.clear()

    def tearDown(self):
        self.assertTrue(self.proxy.alive(), "the proxy died")

    # -- helpers --

    def connect(self, timeout=10):
        return socket.create_connection(("127.0.0.1", self.proxy.port), timeout=timeout)

    def exchange(self, raw):
        """Sends raw bytes, returns (status, whole response)."""
        with self.connect() as s:
            s.sendall(raw)
            data = read_all(s)
        parts = data.split(b" ", 2)
        return (int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0), data

    def route(self, method, path, headers=(), body=None):
        lines = ["%s %s HTTP/1.1" % (method, path), "Host: 127.0.0.1:%d" % self.proxy.port]
        lines += list(headers)
        if body is not None:
            lines.append("Content-Length: %d" % len(body))
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")
        return self.exchange(raw)

    def tunnel(self, host, port, token=TOKEN):
        s = self.connect()
        s.sendall(("CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n%s\r\n" %
                   (host, port, host, port, auth_header(token))).encode())
        status, _, rest = read_head(s)
        return s, status, rest

    def curl(self, *args):
        return subprocess.run(["curl", "-s", "-S", "--max-time", "20", "--noproxy", ""] +
                              list(args), capture_output=True, text=True, timeout=30)

    # -- forward proxying --

    def test_connect_tunnel_to_allowed_host(self):
        s, status, _ = self.tunnel("127.0.0.1", self.http.server_address[1])
        with s:
            self.assertEqual(status, 200)
            s.sendall(b"GET /through HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                      PHANTOM.encode() + b"\r\nConnection: close\r\n\r\n")
            self.assertIn(b"ok:/through", read_all(s))
        # A phantom inside a tunnel is the child's business: never swapped.
        self.assertEqual(self.http.requests[-1][2]["Authorization"], "Bearer " + PHANTOM)

    def test_absolute_uri_with_curl_and_urllib(self):
        url = "http://127.0.0.1:%d/curl" % self.http.server_address[1]
        r = self.curl("-x", "http://nono:%s@127.0.0.1:%d" % (TOKEN, self.proxy.port), url)
        self.assertEqual(r.stdout, "ok:/curl:")
        proxy = "http://nono:%s@127.0.0.1:%d" % (TOKEN, self.proxy.port)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": proxy}))
        with opener.open("http://localhost:%d/urllib" % self.http.server_address[1],
                         data=b"payload", timeout=10) as resp:
            self.assertEqual(resp.read(), b"ok:/urllib:payload")
        method, path, headers, _ = self.http.requests[-1]
        self.assertEqual((method, path), ("POST", "/urllib"))
        self.assertNotIn("Proxy-Authorization", headers)
        self.assertEqual(headers.get("Connection"), "close")

    def test_https_through_connect_with_curl(self):
        r = self.curl("-x", "http://nono:%s@127.0.0.1:%d" % (TOKEN, self.proxy.port),
                      "--cacert", os.path.join(self.tmp, "ca.pem"),
                      "https://localhost:%d/secure" % self.https.server_address[1])
        self.assertEqual(r.stdout, "ok:/secure:", r.stderr)

    def test_bearer_token_accepted(self):
        status, _ = self.exchange(("GET http://127.0.0.1:%d/b HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                                   "Proxy-Authorization: Bearer %s\r\n\r\n" %
                                   (self.http.server_address[1], self.http.server_address[1],
                                    TOKEN)).encode())
        self.assertEqual(status, 200)

    def test_wrong_or_missing_token_is_407(self):
        for headers in ("", auth_header("f" * 32), "Proxy-Authorization: Bearer nope\r\n",
                        auth_header(TOKEN[:-1])):
            status, data = self.exchange(("CONNECT 127.0.0.1:%d HTTP/1.1\r\n%s\r\n" %
                                          (self.echo.port, headers)).encode())
            self.assertEqual(status, 407)
            self.assertIn(b"Proxy-Authenticate: Basic", data)

    def test_refused_targets_are_403_with_a_reason(self):
        cases = [("example.com", "host not in the allow-list"),
                 ("a.b.example.org", "host not in the allow-list"),
                 ("example.com", "host not in the allow-list"),
                 ("127.0.0.2", "IP address not in the allow-list"),
                 ("[::1]", "IP address not in the allow-list"),
                 ("169.254.169.254", "cloud metadata address"),
                 ("169.254.10.1", "link-local address"),
                 ("[fe80::1]", "link-local address"),
                 ("[fd00:ec2::254]", "cloud metadata address"),
                 ("100.100.100.200", "cloud metadata address"),
                 ("metadata.google.internal", "cloud metadata host")]
        for host, reason in cases:
            for request in ("CONNECT %s:443 HTTP/1.1\r\n%s\r\n" % (host, auth_header()),
                            "GET http://%s/ HTTP/1.1\r\nHost: %s\r\n%s\r\n" %
                            (host, host, auth_header())):
                status, data = self.exchange(request.encode())
                self.assertEqual(status, 403, request)
                self.assertIn(reason.encode(), data)
        # The wildcard's apex is not under it.
        status, _ = self.exchange(("CONNECT example.com:443 HTTP/1.1\r\n%s\r\n" %
                                   auth_header()).encode())
        self.assertEqual(status, 403)

    # -- credential routes --

    def test_route_injects_the_real_secret_once(self):
        status, data = self.route("GET", "/svc/v1/models?x=1",
                                  ["Authorization: Bearer " + PHANTOM])
        self.assertEqual(status, 200)
        self.assertIn(b"ok:/base/v1/models?x=1", data)
        # One request per connection, and the client is told so.
        self.assertIn(b"\r\nConnection: close\r\n", data.partition(b"\r\n\r\n")[0] + b"\r\n")
        self.assertEqual(len(self.http.requests), 1)
        _, path, headers, _ = self.http.requests[0]
        self.assertEqual(headers["Authorization"], "Bearer " + SECRET)
        raw = repr(self.http.requests[0])
        self.assertEqual(raw.count(SECRET), 1)
        self.assertNotIn(PHANTOM, raw)
        self.assertNotIn(SECRET.encode(), data)

    def test_route_bodies(self):
        status, data = self.route("POST", "/svc/upload", ["Authorization: Bearer " + PHANTOM],
                                  b"hello body")
        self.assertEqual(status, 200)
        self.assertEqual(self.http.requests[-1][3], b"hello body")
        chunked = (("POST /svc/chunks HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer %s\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n" % PHANTOM).encode() +
                   b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
                   b"GET /svc/smuggled HTTP/1.1\r\nHost: a\r\n\r\n")
        status, data = self.exchange(chunked)
        self.assertEqual(status, 200)
        self.assertEqual(self.http.requests[-1][3], b"hello world")
        self.assertEqual([r[1] for r in self.http.requests], ["/base/upload", "/base/chunks"])

    def test_route_wrong_phantom_is_401_and_nothing_forwarded(self):
        for headers in ([], ["Authorization: Bearer wrong-phantom"],
                        ["Authorization: " + PHANTOM],
                        ["Authorization: Bearer " + PHANTOM + "x"],
                        ["Authorization: Bearer " + PHANTOM, "Authorization: Bearer " + PHANTOM],
                        ["Authorization: Bearer " + TOKEN]):
            status, data = self.route("GET", "/svc/v1/models", headers)
            self.assertEqual(status, 401, headers)
        self.assertEqual(self.http.requests, [])

    def test_route_query_and_basic_modes(self):
        status, _ = self.route("GET", "/query/v1/x?a=1&key=%s&b=2" % PHANTOM)
        self.assertEqual(status, 200)
        self.assertEqual(self.http.requests[-1][1], "/v1/x?a=1&key=%s&b=2" % SECRET)
        status, _ = self.route("GET", "/query/v1/x?key=wrong")
        self.assertEqual(status, 401)
        status, _ = self.route("GET", "/query/v1/x")
        self.assertEqual(status, 401)

        basic = base64.b64encode(("user:" + PHANTOM).encode()).decode()
        status, _ = self.route("GET", "/basic/me", ["Authorization: Basic " + basic])
        self.assertEqual(status, 200)
        sent = self.http.requests[-1][2]["Authorization"]
        self.assertEqual(base64.b64decode(sent.split()[1]).decode(), "user:" + SECRET)
        wrong = base64.b64encode(b"user:wrong").decode()
        status, _ = self.route("GET", "/basic/me", ["Authorization: Basic " + wrong])
        self.assertEqual(status, 401)
        self.assertEqual(len(self.http.requests), 2)

    def test_route_over_verified_tls(self):
        status, data = self.route("GET", "/tls/v1/models", ["Authorization: Bearer " + PHANTOM])
        self.assertEqual(status, 200, data)
        self.assertEqual(self.https.requests[-1][2]["Authorization"], "Bearer " + SECRET)
        # An upstream whose certificate the route's CA did not sign gets nothing.
        self.https.requests.clear()
        status, _ = self.route("GET", "/badtls/v1/models", ["Authorization: Bearer " + PHANTOM])
        self.assertEqual(status, 502)
        self.assertEqual(self.https.requests, [])

    def test_endpoint_rules(self):
        key = ["X-Api-Key: " + PHANTOM]
        self.assertEqual(self.route("GET", "/limited/v1/models", key)[0], 200)
        self.assertEqual(self.route("POST", "/limited/v1/chat/completions", key, b"{}")[0], 200)
        self.assertEqual(self.http.requests[-1][2]["X-Api-Key"], SECRET)
        n = len(self.http.requests)
        self.assertEqual(self.route("DELETE", "/limited/v1/models", key)[0], 403)
        self.assertEqual(self.route("GET", "/limited/v1/files", key)[0], 403)
        self.assertEqual(self.route("GET", "/limited/v1/chat/../models", key)[0], 400)
        self.assertEqual(self.route("POST", "/limited/v1/chat/%2e%2e/x", key, b"")[0], 400)
        self.assertEqual(len(self.http.requests), n)

    def test_unknown_route_is_404(self):
        self.assertEqual(self.route("GET", "/nothing/here")[0], 404)
        self.assertEqual(self.route("GET", "/svcx/v1", ["Authorization: Bearer " + PHANTOM])[0],
                         404)

    def test_audit_events(self):
        self.route("GET", "/svc/audited", ["Authorization: Bearer " + PHANTOM])
        self.route("GET", "/svc/audited", ["Authorization: Bearer nope"])
        self.exchange(("CONNECT 169.254.169.254:80 HTTP/1.1\r\n%s\r\n" % auth_header()).encode())
        self.exchange(b"GET http://127.0.0.1/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        deadline = time.monotonic() + 5
        while len(self.proxy.audit()) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        events = self.proxy.audit()
        for e in events:
            self.assertEqual(e["type"], "proxy.decision")
            self.assertEqual(e["session"], SESSION)
            for field in ("time", "host", "port", "method", "decision", "reason"):
                self.assertIn(field, e)
        decisions = [(e["decision"], e["reason"]) for e in events[-4:]]
        self.assertEqual(decisions, [("allow", "credential route"),
                                     ("deny", "missing or wrong phantom token"),
                                     ("deny", "cloud metadata address"),
                                     ("deny", "missing or wrong proxy token")])
        text = self.proxy.audit_text()
        for secret in (SECRET, PHANTOM, TOKEN):
            self.assertNotIn(secret, text)

    # -- bad input, load and faults --

    def test_malformed_requests_get_4xx(self):
        auth = auth_header()
        cases = [
            b"GET /svc/x HTTP/1.1\nHost: a\n\n",
            b"GET /svc/x HTTP/1.1\r\nHost: a\r\nX: 1\r\n folded\r\n\r\n",
            b"GET /svc/x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            ("GET http://127.0.0.1:%d/ HTTP/1.1\r\nHost: example.com\r\n%s\r\n" %
             (self.http.server_address[1], auth)).encode(),
            b"POST /svc/x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            b"POST /svc/x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            b"POST /svc/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
            b"POST /svc/x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding : chunked\r\n\r\n",
            ("CONNECT 127.0.0.1 HTTP/1.1\r\n%s\r\n" % auth).encode(),
            ("CONNECT 127.0.0.1:99999 HTTP/1.1\r\n%s\r\n" % auth).encode(),
            ("CONNECT http://127.0.0.1:80 HTTP/1.1\r\n%s\r\n" % auth).encode(),
            ("CONNECT 127.0.0.1:80 HTTP/1.1\r\nHost: 127.0.0.2:80\r\n%s\r\n" % auth).encode(),
            b"GET /svc/\x00 HTTP/1.1\r\nHost: a\r\n\r\n",
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
            b"GET /svc/x HTTP/1.1\r\nHost: a\r\nX: " + b"a" * 20000 + b"\r\n\r\n",
            b"GET /svc/x HTTP/1.1\r\n" + b"".join(b"H%d: v\r\n" % i for i in range(200)) + b"\r\n",
            b"GET /svc/x HTTP/9.9\r\nHost: a\r\n\r\n",
            b"GARBAGE\r\n\r\n",
        ]
        for raw in cases:
            status, _ = self.exchange(raw)
            self.assertTrue(400 <= status < 500 or status in (501, 505), (raw[:60], status))
        self.assertEqual(self.http.requests, [])
        self.assertEqual(self.route("GET", "/svc/alive", ["Authorization: Bearer " + PHANTOM])[0],
                         200)

    def test_thousand_concurrent_tunnels(self):
        socks = []
        try:
            for _ in range(1000):
                s = self.connect(timeout=30)
                s.sendall(("CONNECT 127.0.0.1:%d HTTP/1.1\r\n%s\r\n" %
                           (self.echo.port, auth_header())).encode())
                socks.append(s)
            for i, s in enumerate(socks):
                status, _, _ = read_head(s)
                self.assertEqual(status, 200, i)
            for i, s in enumerate(socks):
                s.sendall(b"ping-%d" % i)
            for i, s in enumerate(socks):
                want = b"ping-%d" % i
                got = b""
                while len(got) < len(want):
                    chunk = s.recv(64)
                    self.assertTrue(chunk)
                    got += chunk
                self.assertEqual(got, want)
        finally:
            for s in socks:
                s.close()

    def test_slow_clients_do_not_block_others(self):
        head = ("GET /svc/slow HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer %s\r\n\r\n" %
                PHANTOM).encode()
        slow = [self.connect() for _ in range(50)]
        try:
            for i in range(len(head) - 1):
                for s in slow:
                    s.send(head[i:i + 1])
                if i % 10 == 0:
                    t0 = time.monotonic()
                    status, _ = self.route("GET", "/svc/fast", ["Authorization: Bearer " + PHANTOM])
                    self.assertEqual(status, 200)
                    self.assertLess(time.monotonic() - t0, 2)
            # Given the last byte, the slow ones are served too.
            for s in slow:
                s.send(head[-1:])
            for s in slow:
                self.assertEqual(read_head(s)[0], 200)
        finally:
            for s in slow:
                s.close()

    def test_clients_disconnecting_mid_stream(self):
        for _ in range(20):
            # Mid-download through a tunnel ...
            s, status, _ = self.tunnel("127.0.0.1", self.http.server_address[1])
            self.assertEqual(status, 200)
            s.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
            s.recv(100000)
            s.close()
            # ... mid-response of a route ...
            with self.connect() as s:
                s.sendall(("GET /svc/big HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer %s\r\n\r\n"
                           % PHANTOM).encode())
                s.recv(1000)
            # ... mid-request body, and mid-head.
            with self.connect() as s:
                s.sendall(("POST /svc/x HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer %s\r\n"
                           "Content-Length: 100000\r\n\r\npartial" % PHANTOM).encode())
            with self.connect() as s:
                s.sendall(b"GET /svc/x HTTP/1.1\r\nHo")
        self.assertEqual(self.route("GET", "/svc/alive", ["Authorization: Bearer " + PHANTOM])[0],
                         200)

    def test_large_tunnel_transfer_is_intact(self):
        s, status, _ = self.tunnel("127.0.0.1", self.http.server_address[1])
        with s:
            self.assertEqual(status, 200)
            s.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = read_all(s)
        self.assertEqual(data.count(b"x"), 64 << 20)


class LimitTests(unittest.TestCase):
    """The limits nono.conf can set, small enough to reach in a test; descriptors run out."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="nono-proxy-test-", dir="/var/tmp")
        self.http = start_http()
        self.proxies = []

    def tearDown(self):
        for p in self.proxies:
            p.stop()
        stop_http(self.http)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self, settings, wrap=None):
        p = Proxy(self.tmp, {"allowed_hosts": ["127.0.0.1"], "settings": settings}, wrap=wrap)
        self.proxies.append(p)
        return p

    def get(self, proxy):
        url = "http://127.0.0.1:%d/x" % self.http.server_address[1]
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as s:
            s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s\r\n" %
                       (url, self.http.server_address[1], auth_header())).encode())
            return read_head(s)[0]

    def test_head_timeout_is_408(self):
        proxy = self.start({"head_timeout": 1})
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as s:
            t0 = time.monotonic()
            s.sendall(b"GET http://127.0.0.1/ HTTP/1.1\r\nHost: 12")
            self.assertEqual(read_head(s)[0], 408)
            self.assertLess(time.monotonic() - t0, 5)
        self.assertEqual(self.get(proxy), 200)

    def test_max_connections_is_503(self):
        proxy = self.start({"max_connections": 5})
        held = [socket.create_connection(("127.0.0.1", proxy.port), timeout=10) for _ in range(5)]
        try:
            for s in held:
                s.sendall(b"GET /")
            time.sleep(0.2)
            self.assertEqual(self.get(proxy), 503)
        finally:
            for s in held:
                s.close()
        deadline = time.monotonic() + 5
        while self.get(proxy) != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(self.get(proxy), 200)

    def test_out_of_descriptors(self):
        if not shutil.which("prlimit"):
            self.skipTest("no prlimit")
        proxy = Proxy(self.tmp, {"allowed_hosts": ["127.0.0.1"]},
                      wrap=["prlimit", "--nofile=32:32"])
        held = []
        try:
            for _ in range(60):
                s = socket.create_connection(("127.0.0.1", proxy.port), timeout=10)
                s.sendall(b"GET /")
                held.append(s)
            time.sleep(0.3)
            # Accepting is paused, not spinning.
            with open("/proc/%d/stat" % proxy.proc.pid) as f:
                before = sum(int(x) for x in f.read().split()[13:15])
            time.sleep(1)
            with open("/proc/%d/stat" % proxy.proc.pid) as f:
                after = sum(int(x) for x in f.read().split()[13:15])
            self.assertLess(after - before, os.sysconf("SC_CLK_TCK") // 4)
        finally:
            for s in held:
                s.close()
        deadline = time.monotonic() + 10
        while self.get(proxy) != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        self.assertEqual(self.get(proxy), 200)
        self.assertIn("accept failed", proxy.stop())  # the case was reached


class UpstreamProxyTests(unittest.TestCase):
    """--upstream-proxy: CONNECT chained through a corporate proxy, bypass hosts direct."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="nono-proxy-test-", dir="/var/tmp")
        self.corp = FakeCorporateProxy()
        self.echo = EchoServer()
        self.proxy = Proxy(self.tmp, {
            "allowed_hosts": ["internal.corp.test", "127.0.0.1", "169.254.169.254"],
            "upstream_proxy": "127.0.0.1:%d" % self.corp.port,
            "upstream_bypass": ["127.0.0.1"]})

    def tearDown(self):
        self.proxy.stop()
        self.corp.sock.close()
        self.echo.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def tunnel(self, host):
        s = socket.create_connection(("127.0.0.1", self.proxy.port), timeout=10)
        s.sendall(("CONNECT %s:%d HTTP/1.1\r\n%s\r\n" % (host, self.echo.port,
                                                          auth_header())).encode())
        return s, read_head(s)[0]

    def test_chained_and_bypassed(self):
        s, status = self.tunnel("internal.corp.test")
        with s:
            self.assertEqual(status, 200)
            s.sendall(b"via-corp")
            self.assertEqual(s.recv(100), b"via-corp")
        self.assertEqual(self.corp.targets, ["internal.corp.test:%d" % self.echo.port])
        s, status = self.tunnel("127.0.0.1")
        with s:
            self.assertEqual(status, 200)
            s.sendall(b"direct")
            self.assertEqual(s.recv(100), b"direct")
        self.assertEqual(len(self.corp.targets), 1)

    def test_floor_still_applies(self):
        s, status = self.tunnel("169.254.169.254")
        s.close()
        self.assertEqual(status, 403)
        self.assertEqual(self.corp.targets, [])


class ResolutionTests(unittest.TestCase):
    """Names that resolve to the floor, with /etc/hosts replaced in a mount namespace."""

    def setUp(self):
        if os.geteuid() != 0 or not shutil.which("unshare"):
            self.skipTest("needs root for a private mount namespace")
        self.tmp = tempfile.mkdtemp(prefix="nono-proxy-test-", dir="/var/tmp")
        hosts = os.path.join(self.tmp, "hosts")
        with open(hosts, "w") as f:
            f.write("127.0.0.1 good.test\n169.254.169.254 evil.test\nfe80::1 evil6.test\n"
                    "127.0.0.1 mixed.test\n169.254.1.1 mixed.test\n")
        self.echo = EchoServer()
        script = 'mount --bind "$0" /etc/hosts && exec "$@"'
        self.proxy = Proxy(self.tmp, {
            "allowed_hosts": ["good.test", "evil.test", "evil6.test", "mixed.test"]},
            wrap=["unshare", "-m", "--propagation", "private", "sh", "-c", script, hosts])

    def tearDown(self):
        self.proxy.stop()
        self.echo.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def status(self, host):
        with socket.create_connection(("127.0.0.1", self.proxy.port), timeout=10) as s:
            s.sendall(("CONNECT %s:%d HTTP/1.1\r\n%s\r\n" % (host, self.echo.port,
                                                              auth_header())).encode())
            status, head, rest = read_head(s)
            return status, head + rest

    def test_names_resolving_to_the_floor(self):
        self.assertEqual(self.status("good.test")[0], 200)
        for host in ("evil.test", "evil6.test", "mixed.test"):
            status, data = self.status(host)
            self.assertEqual(status, 403, host)
            self.assertIn(b"resolves to a link-local or metadata address", data)


if __name__ == "__main__":
    unittest.main(verbosity=2)
