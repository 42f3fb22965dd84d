"""Network modes end to end (issue 4, attack catalogue groups D and F): the real nono
binary, real clients inside the sandbox (curl, python3 urllib, git), real servers on
loopback outside it.  Verdicts are judged from outside: what the upstream received,
what the listener got, what the child's environment held.

Upstreams listen on 127.0.0.2, not 127.0.0.1: the child's NO_PROXY names 127.0.0.1
(the proxy itself and the credential routes), so clients would skip the proxy for it.
"""
import http.server
import json
import os
import shutil
import socket
import subprocess
import tempfile
import textwrap
import threading
import time

from nonotest import NONO, SYSTEM_PYTHON, Listener, SandboxTestCase, as_test_user, main

UPSTREAM_ADDR = "127.0.0.2"
REAL_KEY = "sk-real-" + os.urandom(12).hex()


class Upstream:
    """An HTTP(S) server on loopback that records every request it gets."""

    def __init__(self, tls_context=None, root=None):
        self.requests = []
        outer = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *a, **kw):
                super().__init__(*a, directory=root or "/nonexistent", **kw)

            def log_message(self, *args):
                pass

            def record(self):
                outer.requests.append({"method": self.command, "path": self.path,
                                       "headers": dict(self.headers.items())})

            def do_GET(self):
                self.record()
                if root:
                    return super().do_GET()
                body = b"upstream-ok\n"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                self.record()
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer((UPSTREAM_ADDR, 0), Handler)
        if tls_context:
            self.server.socket = tls_context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def saw(self, text):
        return any(text in json.dumps(r) for r in self.requests)


def make_test_ca(directory):
    """A CA and a server certificate for 127.0.0.2, made with the openssl CLI."""
    def openssl(*args):
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
            "ca.pem", "-days", "2", "-subj", "/CN=nono test CA")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "srv.key", "-out", "srv.csr",
            "-subj", "/CN=127.0.0.2")
    with open(os.path.join(directory, "ext.cnf"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.2\n")
    openssl("x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "srv.pem", "-days", "2", "-extfile", "ext.cnf")
    return os.path.join(directory, "ca.pem")


class SshServer(Listener):
    """A stand-in SSH server on loopback: sends a banner and records the client banners it
    reads, so a test can tell that an ssh client really reached it."""

    def __init__(self):
        self.banners = []
        super().__init__(addr=UPSTREAM_ADDR, serve=self.greet)

    def greet(self, conn):
        with conn:
            conn.settimeout(5)
            try:
                conn.sendall(b"SSH-2.0-nono-test\r\n")
                self.banners.append(conn.recv(256).split(b"\r\n")[0].decode(errors="replace"))
            except OSError:
                self.banners.append("")


class NetworkTestCase(SandboxTestCase):
    def setUp(self):
        super().setUp()
        self.upstream = Upstream()
        self.addCleanup(self.upstream.close)

    @property
    def allowed(self):
        """The upstream's allow-list entry: its address and its (random) port."""
        return f"{UPSTREAM_ADDR}:{self.upstream.port}"

    def profile(self, name, network):
        path = os.path.join(self.root, name + ".json")
        self.write(path, json.dumps({"extends": "default", "network": network}))
        os.chmod(path, 0o644)
        return path

    def run_py(self, code, *flags, env=None):
        script = os.path.join(self.ws, "payload.py")
        self.write(script, textwrap.dedent(code))
        return self.nono("run", "--allow-cwd", *flags, "--", SYSTEM_PYTHON, script, env=env)

    def run_curl(self, *flags_and_args):
        flags, args = [], list(flags_and_args)
        while args and args[0] != "--":
            flags.append(args.pop(0))
        return self.nono("run", "--allow-cwd", *flags, "--", "/usr/bin/curl", "-sS", "-m", "10",
                         "-o", "/dev/null", "-w", "%{http_code}", *args[1:])


class BlockMode(NetworkTestCase):
    def test_block_net_leaves_only_loopback_and_socketpair(self):
        udp = Listener(socket.SOCK_DGRAM)
        self.addCleanup(udp.close)
        p = self.run_py(f"""
            import socket
            print("PAYLOAD-RAN", flush=True)
            print("ifaces", sorted(l.split(":")[0].strip()
                  for l in open("/proc/net/dev").readlines()[2:]))
            a, b = socket.socketpair(); a.send(b"x"); print("socketpair", b.recv(1))
            for label, fn in [
                ("tcp", lambda: socket.create_connection(("{UPSTREAM_ADDR}", {self.upstream.port}), 2)),
                ("udp", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("127.0.0.1", {udp.port}))),
            ]:
                try:
                    fn(); print(label, "OK")
                except OSError as e:
                    print(label, "DENIED", e.errno)
        """, "--block-net")
        self.assertRan(p)
        self.assertIn("socketpair b'x'", p.stdout)
        self.assertIn("ifaces ['lo']", p.stdout)
        self.assertIn("tcp DENIED", p.stdout)
        self.assertIn("udp DENIED", p.stdout)
        time.sleep(0.3)
        self.assertEqual(udp.hits, 0)
        self.assertEqual(self.upstream.requests, [])


class ProxyMode(NetworkTestCase):
    private_namespace = True  # ProxyModeWithoutNamespace turns it off

    def test_d12_allowed_host_passes_denied_host_gets_403(self):
        url = f"http://{UPSTREAM_ADDR}:{self.upstream.port}/hello"
        ok = self.run_curl("--allow-domain", self.allowed, "--", url)
        self.assertEqual(ok.stdout, "200", ok.stderr)
        self.assertEqual(len(self.upstream.requests), 1)
        self.assertEqual(self.upstream.requests[0]["path"], "/hello")
        denied = self.run_curl("--allow-domain", "example.com", "--", url)
        self.assertEqual(denied.stdout, "403", denied.stderr)
        self.assertEqual(len(self.upstream.requests), 1, "a denied host got a request")

    def test_proxy_decisions_are_in_the_session_audit_log(self):
        url = f"http://{UPSTREAM_ADDR}:{self.upstream.port}/logged"
        self.assertEqual(self.run_curl("--allow-domain", self.allowed, "--", url).stdout, "200")
        denied = self.run_curl("--allow-domain", self.allowed, "--", "http://example.org/")
        self.assertEqual(denied.stdout, "403", denied.stderr)
        decisions = []
        for session in json.loads(self.nono("audit", "list", "--json").stdout)[-2:]:
            events = json.loads(self.nono("audit", "show", session["id"], "--json").stdout)
            decisions += [e for e in events if e["type"] == "proxy.decision"]
            self.assertEqual(self.nono("audit", "verify", session["id"]).returncode, 0)
        self.assertEqual([(d["host"], d["decision"]) for d in decisions],
                         [(UPSTREAM_ADDR, "allow"), ("example.org", "deny")])
        self.assertTrue(all(d["session"] for d in decisions))

    def test_d15_other_ports_of_an_allowed_host_are_refused(self):
        other = Listener(addr=UPSTREAM_ADDR)
        self.addCleanup(other.close)
        code = f"""
            import base64, os, socket
            print("PAYLOAD-RAN", flush=True)
            proxy = int(os.environ["HTTP_PROXY"].rsplit(":", 1)[1])
            user = os.environ["HTTP_PROXY"].split("//")[1].split("@")[0]
            auth = "Proxy-Authorization: Basic " + base64.b64encode(user.encode()).decode()
            for label, port in (("listed", {self.upstream.port}), ("other", {other.port})):
                for req in ("CONNECT {UPSTREAM_ADDR}:%d HTTP/1.1\\r\\n%s\\r\\n\\r\\n" % (port, auth),
                            "GET http://{UPSTREAM_ADDR}:%d/ HTTP/1.1\\r\\nHost: {UPSTREAM_ADDR}:%d\\r\\n%s\\r\\n\\r\\n"
                            % (port, port, auth)):
                    with socket.create_connection(("127.0.0.1", proxy), 10) as s:
                        s.sendall(req.encode())
                        answer = s.recv(200)
                        while req.startswith("GET") and len(answer) < 4096:
                            more = s.recv(200)  # the whole answer: the proxy closes after it
                            if not more:
                                break
                            answer += more
                        print(label, req.split()[0], answer.decode(errors="replace").replace("\\r\\n", " "))
        """
        p = self.run_py(code, "--allow-domain", self.allowed)
        self.assertRan(p)
        self.assertIn("listed CONNECT HTTP/1.1 200", p.stdout, p.stderr)
        self.assertRegex(p.stdout, "listed GET HTTP/1.[01] 200 .*upstream-ok")
        for method in ("CONNECT", "GET"):
            self.assertRegex(p.stdout, f"other {method} HTTP/1.1 403 .*port not allowed for this host")
        # Without a port an entry covers 443 and 80 only.
        p = self.run_curl("--allow-domain", UPSTREAM_ADDR, "--",
                          f"http://{UPSTREAM_ADDR}:{self.upstream.port}/")
        self.assertEqual(p.stdout, "403", p.stderr)
        time.sleep(0.3)
        self.assertEqual(other.hits, 0, "a refused port got a connection")
        self.assertEqual(len(self.upstream.requests), 1)

    def test_d16_tls_server_name_must_be_the_connect_host(self):
        import ssl
        certs = tempfile.mkdtemp(prefix="nono-ca-", dir="/var/tmp")
        self.addCleanup(shutil.rmtree, certs, ignore_errors=True)
        make_test_ca(certs)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(certs, "srv.pem"), os.path.join(certs, "srv.key"))
        tls = Upstream(tls_context=ctx)
        self.addCleanup(tls.close)
        p = self.run_py(f"""
            import base64, os, socket, ssl
            print("PAYLOAD-RAN", flush=True)
            proxy = int(os.environ["HTTP_PROXY"].rsplit(":", 1)[1])
            user = os.environ["HTTP_PROXY"].split("//")[1].split("@")[0]
            auth = base64.b64encode(user.encode()).decode()
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False  # the test is about the name sent, not the certificate
            ctx.verify_mode = ssl.CERT_NONE
            for label, name in (("none", None), ("fronted", "evil.example.com")):
                s = socket.create_connection(("127.0.0.1", proxy), 10)
                s.sendall(("CONNECT {UPSTREAM_ADDR}:{tls.port} HTTP/1.1\\r\\n"
                           "Proxy-Authorization: Basic %s\\r\\n\\r\\n" % auth).encode())
                head = b""
                while not head.endswith(b"\\r\\n\\r\\n"):
                    head += s.recv(1)
                try:
                    with ctx.wrap_socket(s, server_hostname=name) as t:
                        t.sendall(("GET /sni-%s HTTP/1.1\\r\\nHost: x\\r\\n"
                                   "Connection: close\\r\\n\\r\\n" % label).encode())
                        print(label, t.recv(100).split(b"\\r\\n")[0].decode())
                except OSError as e:
                    print(label, "REFUSED", type(e).__name__)
        """, "--allow-domain", f"{UPSTREAM_ADDR}:{tls.port}")
        self.assertRan(p)
        self.assertRegex(p.stdout, "none HTTP/1.[01] 200", p.stderr)
        self.assertIn("fronted REFUSED", p.stdout, p.stderr)
        self.assertEqual([r["path"] for r in tls.requests], ["/sni-none"])

    def test_python_urllib_through_the_proxy(self):
        p = self.run_py(f"""
            import urllib.request
            print("PAYLOAD-RAN", flush=True)
            print(urllib.request.urlopen("http://{UPSTREAM_ADDR}:{self.upstream.port}/py", timeout=10).read())
        """, "--allow-domain", self.allowed)
        self.assertRan(p)
        self.assertIn("upstream-ok", p.stdout, p.stderr)
        self.assertEqual(self.upstream.requests[0]["path"], "/py")

    def test_git_clone_over_http_through_the_proxy(self):
        src = self.mkdir("src")
        subprocess.run(["git", "init", "-q", src], check=True)
        self.write(os.path.join(src, "f.txt"), "from upstream\n")
        git = ["git", "-C", src, "-c", "user.name=t", "-c", "user.email=t@t"]
        subprocess.run(git + ["add", "f.txt"], check=True)
        subprocess.run(git + ["commit", "-qm", "c"], check=True)
        bare = os.path.join(self.mkdir("served"), "repo.git")
        subprocess.run(["git", "clone", "-q", "--bare", src, bare], check=True)
        subprocess.run(["git", "-C", bare, "update-server-info"], check=True)
        served = Upstream(root=os.path.dirname(bare))
        self.addCleanup(served.close)
        p = self.nono("run", "--allow-cwd", "--allow-domain",
                      f"{UPSTREAM_ADDR}:{served.port}", "--", "git",
                      "clone", "-q", f"http://{UPSTREAM_ADDR}:{served.port}/repo.git", "clone")
        self.assertEqual(p.returncode, 0, p.stderr)
        with open(os.path.join(self.ws, "clone", "f.txt")) as f:
            self.assertEqual(f.read(), "from upstream\n")

    def test_d01_d03_d06_direct_connections_skip_nothing(self):
        tcp = Listener()
        udp = Listener(socket.SOCK_DGRAM)
        self.addCleanup(tcp.close)
        self.addCleanup(udp.close)
        p = self.run_py(f"""
            import os, socket, subprocess
            print("PAYLOAD-RAN", flush=True)
            port = int(os.environ["HTTP_PROXY"].rsplit(":", 1)[1])
            tries = [
                ("direct", lambda: socket.create_connection(("127.0.0.1", {tcp.port}), 2)),
                ("udp", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("127.0.0.1", {udp.port}))),
                ("proxy-port-other-addr", lambda: socket.create_connection(("127.0.0.2", port), 2)),
                ("proxy-port-v6", lambda: socket.create_connection(("::1", port), 2)),
            ]
            for label, fn in tries:
                try:
                    fn(); print(label, "OK")
                except OSError as e:
                    print(label, "DENIED", e.errno)
            r = subprocess.run(["bash", "-c", "echo x > /dev/tcp/127.0.0.1/{tcp.port}"], capture_output=True)
            print("devtcp", "OK" if r.returncode == 0 else "DENIED")
        """, "--allow-domain", self.allowed)
        self.assertRan(p)
        labels = ["direct", "udp", "devtcp"]
        if self.private_namespace:
            # Only the namespace makes the proxy's port on any other address unreachable;
            # without it Landlock's rule names the port, not the address (docs/proxy.md).
            labels += ["proxy-port-other-addr", "proxy-port-v6"]
        for label in labels:
            self.assertIn(f"{label} DENIED", p.stdout, p.stdout + p.stderr)
        time.sleep(0.3)
        self.assertEqual((tcp.hits, udp.hits), (0, 0))


    def test_d20_ssh_only_through_the_proxy_and_only_to_a_listed_port(self):
        server = SshServer()
        self.addCleanup(server.close)
        # ssh's ProxyCommand: a CONNECT through nono's proxy, then a byte relay.
        self.write(os.path.join(self.ws, "connect.py"), textwrap.dedent("""
            import base64, os, select, socket, sys
            url = os.environ["HTTP_PROXY"]
            user = url.split("//")[1].split("@")[0]
            s = socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), 10)
            s.sendall(("CONNECT %s:%s HTTP/1.1\\r\\nProxy-Authorization: Basic %s\\r\\n\\r\\n"
                       % (sys.argv[1], sys.argv[2], base64.b64encode(user.encode()).decode())).encode())
            head = b""
            while b"\\r\\n\\r\\n" not in head:
                more = s.recv(1)
                if not more:
                    break
                head += more
            sys.stderr.write("proxy answered: %s\\n" % head.split(b"\\r\\n")[0].decode())
            if b" 200 " not in head.split(b"\\r\\n")[0] + b" ":
                sys.exit(1)
            while True:
                ready, _, _ = select.select([0, s], [], [], 20)
                if not ready:
                    break
                if 0 in ready:
                    data = os.read(0, 65536)
                    if not data:
                        s.shutdown(socket.SHUT_WR)
                    else:
                        s.sendall(data)
                if s in ready:
                    data = s.recv(65536)
                    if not data:
                        break
                    os.write(1, data)
        """))
        ssh = ["/usr/bin/ssh", "-F", "/dev/null", "-o", "BatchMode=yes",
               "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
               "-o", "ConnectTimeout=5", "-p", str(server.port)]
        via_proxy = ["-o", f"ProxyCommand={SYSTEM_PYTHON} {self.ws}/connect.py %h %p"]
        target = f"nobody@{UPSTREAM_ADDR}"

        def run(*flags, argv):
            return self.nono("run", "--allow-cwd", *flags, "--", "/bin/sh", "-c",
                             'echo PAYLOAD-RAN; exec "$@"', "sh", *argv)

        # Directly: no route out, whatever is allowed.
        p = run("--allow-domain", f"{UPSTREAM_ADDR}:{server.port}", argv=ssh + [target, "true"])
        self.assertRan(p)
        self.assertNotEqual(p.returncode, 0)
        p = run("--allow-domain", f"{UPSTREAM_ADDR}:{server.port}",
                argv=["git", "ls-remote", f"ssh://{target}:{server.port}/repo.git"])
        self.assertRan(p)
        self.assertNotEqual(p.returncode, 0)
        # Through the proxy, with the host listed without that port (443 and 80 only).
        p = run("--allow-domain", UPSTREAM_ADDR, argv=ssh + via_proxy + [target, "true"])
        self.assertRan(p)
        self.assertIn("proxy answered: HTTP/1.1 403", p.stderr)
        time.sleep(0.3)
        self.assertEqual(server.banners, [], "ssh reached the server without an allowed route")
        # Through the proxy with host:port listed: the client's banner reaches the server.
        p = run("--allow-domain", f"{UPSTREAM_ADDR}:{server.port}",
                argv=ssh + via_proxy + [target, "true"])
        self.assertRan(p)
        self.assertIn("proxy answered: HTTP/1.1 200", p.stderr)
        deadline = time.monotonic() + 5
        while not server.banners and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(len(server.banners), 1, p.stderr)
        self.assertTrue(server.banners[0].startswith("SSH-2.0-OpenSSH"), server.banners)

    def test_d18_proxy_refuses_requests_without_the_session_token(self):
        p = self.run_py(f"""
            import os, urllib.request
            print("PAYLOAD-RAN", flush=True)
            port = os.environ["HTTP_PROXY"].rsplit(":", 1)[1]
            for proxy in ("http://127.0.0.1:" + port, "http://nono:" + "0" * 64 + "@127.0.0.1:" + port):
                opener = urllib.request.build_opener(urllib.request.ProxyHandler({{"http": proxy}}))
                try:
                    opener.open("http://{UPSTREAM_ADDR}:{self.upstream.port}/", timeout=10)
                    print("no-token OK")
                except urllib.error.HTTPError as e:
                    print("no-token", e.code)
        """, "--allow-domain", self.allowed)
        self.assertRan(p)
        self.assertEqual(p.stdout.count("no-token 407"), 2, p.stdout + p.stderr)
        self.assertEqual(self.upstream.requests, [])

    def test_d19_no_dns_inside(self):
        p = self.run_py("""
            import socket
            print("PAYLOAD-RAN", flush=True)
            try:
                print("resolved", socket.getaddrinfo("example.com", 80))
            except OSError as e:
                print("dns DENIED", e)
        """, "--allow-domain", "example.com")
        self.assertRan(p)
        self.assertIn("dns DENIED", p.stdout)

    def test_network_profile_names_hosts(self):
        p = self.nono("run", "--network-profile", "minimal", "--dry-run", "--", "true")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("allow host: api.openai.com", p.stdout)
        self.assertIn("network: proxy", p.stdout)
        bad = self.nono("run", "--network-profile", "nosuch", "--", "true")
        self.assertEqual(bad.returncode, 1)
        self.assertIn('unknown network profile "nosuch"', bad.stderr)

    def test_standalone_proxy_prints_its_environment(self):
        self.give_to_test_user()
        proc = subprocess.Popen(as_test_user([NONO, "proxy", "--allow-domain", self.allowed]),
                                env=self.env(), stdout=subprocess.PIPE, text=True)
        try:
            env = {}
            while "NO_PROXY" not in env:
                line = proc.stdout.readline()
                self.assertTrue(line, "nono proxy printed no environment")
                name, _, value = line.strip().partition("=")
                env[name] = value
            url = f"http://{UPSTREAM_ADDR}:{self.upstream.port}/standalone"
            out = subprocess.run(["curl", "-sS", "-m", "10", "--noproxy", "", "-x",
                                  env["HTTP_PROXY"], "-o", "/dev/null", "-w", "%{http_code}",
                                  url], capture_output=True, text=True)
            self.assertEqual(out.stdout, "200", out.stderr)
            self.assertEqual(self.upstream.requests[-1]["path"], "/standalone")
            # The proxy process confined itself (Landlock needs no_new_privs first).
            children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True,
                                      text=True).stdout.split()
            self.assertEqual(len(children), 1, children)
            with open(f"/proc/{children[0]}/status") as f:
                self.assertIn("NoNewPrivs:\t1", f.read())
        finally:
            proc.terminate()
            self.assertEqual(proc.wait(timeout=10), 0)
            proc.stdout.close()


class ConnectProxy(Listener):
    """A corporate proxy stand-in on 127.0.0.3: CONNECT only; records the targets and
    relays the bytes."""

    def __init__(self):
        self.targets = []
        super().__init__(addr="127.0.0.3", serve=self.start_tunnel)

    def start_tunnel(self, conn):
        threading.Thread(target=self.tunnel, args=(conn,), daemon=True).start()

    def tunnel(self, conn):
        conn.settimeout(10)
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 8192:
            chunk = conn.recv(1024)
            if not chunk:
                return conn.close()
            head += chunk
        target = head.split(b" ")[1].decode()
        self.targets.append(target)
        host, port = target.rsplit(":", 1)
        upstream = socket.create_connection((host, int(port)), 10)
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        for a, b in ((conn, upstream), (upstream, conn)):
            threading.Thread(target=self.pump, args=(a, b), daemon=True).start()

    @staticmethod
    def pump(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class UpstreamProxy(NetworkTestCase):
    def test_requests_are_chained_through_the_upstream_proxy_unless_bypassed(self):
        corp = ConnectProxy()
        self.addCleanup(corp.close)
        url = f"http://{UPSTREAM_ADDR}:{self.upstream.port}/chained"
        p = self.run_curl("--allow-domain", self.allowed, "--upstream-proxy",
                          f"127.0.0.3:{corp.port}", "--", url)
        self.assertEqual(p.stdout, "200", p.stderr)
        self.assertEqual(corp.targets, [f"{UPSTREAM_ADDR}:{self.upstream.port}"])
        p = self.run_curl("--allow-domain", self.allowed, "--upstream-proxy",
                          f"127.0.0.3:{corp.port}", "--upstream-bypass", self.allowed, "--", url)
        self.assertEqual(p.stdout, "200", p.stderr)
        self.assertEqual(len(corp.targets), 1, "a bypassed host went through the upstream proxy")
        self.assertEqual(len(self.upstream.requests), 2)

    def test_built_in_credential_services_are_data(self):
        for service, upstream, header in (("openai", "https://api.openai.com/v1", "Authorization"),
                                          ("anthropic", "https://api.anthropic.com", "x-api-key"),
                                          ("gemini", "https://generativelanguage.googleapis.com",
                                           "x-goog-api-key"),
                                          ("github", "https://api.github.com", "Authorization"),
                                          ("gitlab", "https://gitlab.com/api/v4", "PRIVATE-TOKEN")):
            p = self.nono("run", "--credential", service, "--dry-run", "--", "true")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn(f"credential {service}: /{service} -> {upstream} (header {header}",
                          p.stdout)
        bad = self.nono("run", "--credential", "nosuch", "--", "true")
        self.assertEqual(bad.returncode, 1)
        self.assertIn('unknown credential service "nosuch"', bad.stderr)


class ProxyModeWithoutNamespace(ProxyMode):
    """The same verdicts where no network namespace is used (nono.conf knob): the
    enforcer's port rule and socket filter alone keep the child to the proxy."""

    private_namespace = False

    def env(self, **extra):
        conf = os.path.join(self.root, "nono.conf")
        if not os.path.exists(conf):
            self.write(conf, "plugins = { filter-proxy = { network_namespace = 0; }; };\n",
                       mode=0o644)
        return super().env(NONO_CONFIG=conf, **extra)


class Credentials(NetworkTestCase):
    def credential_profile(self, upstream, **extra):
        route = {"upstream": upstream, "credential_key": "env://TEST_REAL_KEY",
                 "inject_header": "Authorization", "credential_format": "Bearer {}"}
        route.update(extra)
        return self.profile("cred", {"custom_credentials": {"test": route}})

    def test_f03_real_key_reaches_upstream_never_the_child(self):
        prof = self.credential_profile(f"http://{UPSTREAM_ADDR}:{self.upstream.port}/v1")
        p = self.run_py("""
            import os, subprocess, urllib.request
            print("PAYLOAD-RAN", flush=True)
            req = urllib.request.Request(os.environ["TEST_BASE_URL"] + "/chat",
                headers={"Authorization": "Bearer " + os.environ["TEST_API_KEY"]})
            print("status", urllib.request.urlopen(req, timeout=10).status)
            print("environ-has-key", os.environ.get("TEST_REAL_KEY"))
            print("phantom", os.environ["TEST_API_KEY"])
            pattern = "sk-" + "real-"  # never spelled out in this file
            grep = subprocess.run(["grep", "-r", "-l", "-s", "--exclude=payload.py", pattern,
                                   "/proc/self/environ", os.getcwd(), os.environ["HOME"]],
                                  capture_output=True, text=True)
            print("grep-found", grep.stdout.strip() or "nothing")
        """, "-p", prof, "--credential", "test", env=self.env(TEST_REAL_KEY=REAL_KEY))
        self.assertRan(p)
        self.assertIn("status 200", p.stdout, p.stderr)
        self.assertIn("environ-has-key None", p.stdout)
        self.assertIn("grep-found nothing", p.stdout)
        self.assertNotIn(REAL_KEY, p.stdout + p.stderr)
        phantom = p.stdout.split("phantom ")[1].split()[0]
        self.assertNotEqual(phantom, REAL_KEY)
        self.assertEqual(len(self.upstream.requests), 1)
        got = self.upstream.requests[0]
        self.assertEqual(got["path"], "/v1/chat")
        self.assertEqual(got["headers"].get("Authorization"), "Bearer " + REAL_KEY)
        self.assertFalse(self.upstream.saw(phantom))
        found = subprocess.run(["grep", "-r", "-l", REAL_KEY, self.ws, self.home],
                               capture_output=True, text=True)
        self.assertEqual(found.stdout, "", "the real key was written into the sandbox's files")

    def test_child_environ_checked_from_outside(self):
        prof = self.credential_profile(f"http://{UPSTREAM_ADDR}:{self.upstream.port}")
        self.give_to_test_user()
        marker = os.path.join(self.ws, "ready")
        nap = f"30.{os.getpid()}{int(time.monotonic() * 1000) % 1000}"  # findable, ours only
        proc = subprocess.Popen(as_test_user([NONO, "run", "--allow-cwd", "-p", prof,
                                              "--credential", "test", "--", "/bin/sh", "-c",
                                              f"touch {marker}; exec sleep {nap}"]),
                                cwd=self.ws, env=self.env(TEST_REAL_KEY=REAL_KEY),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 20
            while not os.path.exists(marker) and time.monotonic() < deadline:
                time.sleep(0.05)
            self.assertTrue(os.path.exists(marker), "the sandboxed command did not start")
            sleeper = subprocess.run(["pgrep", "-f", "-x", f"sleep {nap}"], capture_output=True,
                                     text=True).stdout.split()
            self.assertTrue(sleeper)
            for pid in sleeper:
                with open(f"/proc/{pid}/environ", "rb") as f:
                    environ = f.read()
                self.assertNotIn(REAL_KEY.encode(), environ)
                self.assertIn(b"TEST_API_KEY=", environ)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            proc.stderr.close()

    def test_f04_phantom_to_another_host_is_not_swapped(self):
        prof = self.credential_profile(f"http://{UPSTREAM_ADDR}:{self.upstream.port}")
        other = Upstream()
        self.addCleanup(other.close)
        p = self.run_py(f"""
            import os, urllib.request
            print("PAYLOAD-RAN", flush=True)
            req = urllib.request.Request("http://{UPSTREAM_ADDR}:{other.port}/exfil",
                headers={{"Authorization": "Bearer " + os.environ["TEST_API_KEY"]}})
            print("status", urllib.request.urlopen(req, timeout=10).status)
        """, "-p", prof, "--credential", "test", "--allow-domain",
            f"{UPSTREAM_ADDR}:{other.port}",
            env=self.env(TEST_REAL_KEY=REAL_KEY))
        self.assertRan(p)
        self.assertIn("status 200", p.stdout, p.stderr)
        self.assertEqual(len(other.requests), 1)
        self.assertFalse(other.saw(REAL_KEY), "the real key went to another host")

    def test_wrong_phantom_is_refused_and_nothing_forwarded(self):
        prof = self.credential_profile(f"http://{UPSTREAM_ADDR}:{self.upstream.port}")
        p = self.run_py("""
            import os, urllib.request, urllib.error
            print("PAYLOAD-RAN", flush=True)
            req = urllib.request.Request(os.environ["TEST_BASE_URL"] + "/x",
                headers={"Authorization": "Bearer guessed"})
            try:
                urllib.request.urlopen(req, timeout=10); print("status 200")
            except urllib.error.HTTPError as e:
                print("status", e.code)
        """, "-p", prof, "--credential", "test", env=self.env(TEST_REAL_KEY=REAL_KEY))
        self.assertRan(p)
        self.assertIn("status 401", p.stdout, p.stderr)
        self.assertEqual(self.upstream.requests, [])

    def test_tls_upstream_verified_with_the_route_ca(self):
        import ssl
        certs = tempfile.mkdtemp(prefix="nono-ca-", dir="/var/tmp")
        self.addCleanup(shutil.rmtree, certs, ignore_errors=True)
        ca = make_test_ca(certs)
        os.chmod(certs, 0o755)
        os.chmod(ca, 0o644)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(certs, "srv.pem"), os.path.join(certs, "srv.key"))
        tls = Upstream(tls_context=ctx)
        self.addCleanup(tls.close)
        payload = """
            import os, urllib.request, urllib.error
            print("PAYLOAD-RAN", flush=True)
            req = urllib.request.Request(os.environ["TEST_BASE_URL"] + "/secure",
                headers={"Authorization": "Bearer " + os.environ["TEST_API_KEY"]})
            try:
                print("status", urllib.request.urlopen(req, timeout=10).status)
            except urllib.error.HTTPError as e:
                print("status", e.code)
        """
        good = self.credential_profile(f"https://{UPSTREAM_ADDR}:{tls.port}", tls_ca=ca)
        p = self.run_py(payload, "-p", good, "--credential", "test",
                        env=self.env(TEST_REAL_KEY=REAL_KEY))
        self.assertRan(p)
        self.assertIn("status 200", p.stdout, p.stderr)
        self.assertEqual(tls.requests[-1]["headers"].get("Authorization"), "Bearer " + REAL_KEY)
        # Without the CA the certificate does not verify: nothing is sent.
        seen = len(tls.requests)
        bad = self.credential_profile(f"https://{UPSTREAM_ADDR}:{tls.port}")
        p = self.run_py(payload, "-p", bad, "--credential", "test",
                        env=self.env(TEST_REAL_KEY=REAL_KEY))
        self.assertRan(p)
        self.assertIn("status 502", p.stdout, p.stderr)
        self.assertEqual(len(tls.requests), seen)

    def test_f06_plaintext_upstream_only_on_loopback(self):
        prof = self.credential_profile("http://api.example.com/v1")
        p = self.nono("run", "-p", prof, "--credential", "test", "--", "true",
                      env=self.env(TEST_REAL_KEY=REAL_KEY))
        self.assertEqual(p.returncode, 1)
        self.assertIn("plain http", p.stderr)
        self.assertNotIn(REAL_KEY, p.stderr)

    def test_endpoint_rules_limit_the_credential(self):
        prof = self.credential_profile(f"http://{UPSTREAM_ADDR}:{self.upstream.port}")
        p = self.run_py("""
            import os, urllib.request, urllib.error
            print("PAYLOAD-RAN", flush=True)
            for path in ("/v1/models", "/v1/admin"):
                req = urllib.request.Request(os.environ["TEST_BASE_URL"] + path,
                    headers={"Authorization": "Bearer " + os.environ["TEST_API_KEY"]})
                try:
                    print(path, urllib.request.urlopen(req, timeout=10).status)
                except urllib.error.HTTPError as e:
                    print(path, e.code)
        """, "-p", prof, "--credential", "test", "--allow-endpoint", "test:GET:/v1/models",
            env=self.env(TEST_REAL_KEY=REAL_KEY))
        self.assertRan(p)
        self.assertIn("/v1/models 200", p.stdout, p.stderr)
        self.assertIn("/v1/admin 403", p.stdout)
        self.assertEqual([r["path"] for r in self.upstream.requests], ["/v1/models"])

    def test_missing_secret_fails_before_running(self):
        prof = self.credential_profile(f"http://{UPSTREAM_ADDR}:{self.upstream.port}")
        p = self.nono("run", "-p", prof, "--credential", "test", "--", "/bin/sh", "-c",
                      "echo RAN")
        self.assertEqual(p.returncode, 1)
        self.assertNotIn("RAN", p.stdout)
        self.assertIn("--credential test", p.stderr)

    def test_dry_run_names_the_reference_never_the_secret(self):
        prof = self.credential_profile(f"http://{UPSTREAM_ADDR}:{self.upstream.port}")
        p = self.nono("run", "-p", prof, "--credential", "test", "--dry-run", "--", "true",
                      env=self.env(TEST_REAL_KEY=REAL_KEY))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("credential test", p.stdout)
        self.assertIn("env://TEST_REAL_KEY", p.stdout)
        self.assertNotIn(REAL_KEY, p.stdout + p.stderr)


if __name__ == "__main__":
    main()
