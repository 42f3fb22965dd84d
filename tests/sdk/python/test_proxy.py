"""nono.start_proxy: a real proxy process, requests from this process through it to
an upstream on 127.0.0.2 (the clients' NO_PROXY names 127.0.0.1), checked at the
upstream; audit events, shutdown and typed errors."""
import errno
import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest

import nono

SECRET = "sk-nono-test-4f1c9a77e2"


class Upstream:
    """An HTTP server on 127.0.0.2 that records the Authorization header it got."""

    def __init__(self) -> None:
        self.seen: list[dict[str, str | None]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.seen.append({"path": self.path,
                                   "authorization": self.headers.get("Authorization")})
                self.send_response(200)
                self.send_header("Content-Length", "8")
                self.end_headers()
                self.wfile.write(b"upstream")

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.2", 0), Handler)
        self.url = f"http://127.0.0.2:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def upstream():
    u = Upstream()
    yield u
    u.close()


@pytest.fixture
def proxy(upstream, monkeypatch):
    monkeypatch.setenv("TEST_KEY", SECRET)
    route = nono.RouteConfig(prefix="svc", upstream=upstream.url, credential_key="env://TEST_KEY")
    p = nono.start_proxy(nono.ProxyConfig(allowed_hosts=["127.0.0.2"], routes=[route]))
    yield p
    p.close()


def through_proxy(p: nono.ProxyHandle, url: str) -> urllib.request.OpenerDirector:
    env = p.env_vars()
    return urllib.request.build_opener(urllib.request.ProxyHandler({"http": env["HTTP_PROXY"]}))


def route_get(p: nono.ProxyHandle, path: str, phantom: str | None = None) -> bytes:
    cred = p.credential_env_vars()
    token = cred["SVC_API_KEY"] if phantom is None else phantom
    req = urllib.request.Request(cred["SVC_BASE_URL"] + path,
                                 headers={"Authorization": "Bearer " + token})
    # Direct to the proxy (127.0.0.1 is in NO_PROXY): no proxy handler.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    return opener.open(req, timeout=10).read()


def test_env_vars(proxy):
    env = proxy.env_vars()
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "ALL_PROXY", "NO_PROXY"):
        assert name in env
    assert env["HTTP_PROXY"].endswith(f"@127.0.0.1:{proxy.port}")
    assert "127.0.0.1" in env["NO_PROXY"]
    cred = proxy.credential_env_vars()
    assert set(cred) == {"SVC_BASE_URL", "SVC_API_KEY"}
    assert cred["SVC_BASE_URL"] == f"http://127.0.0.1:{proxy.port}/svc"
    assert all(env[k] == v for k, v in cred.items())
    assert SECRET not in json.dumps(env)


def test_route_injects_the_real_key(proxy, upstream):
    phantom = proxy.credential_env_vars()["SVC_API_KEY"]
    assert phantom and phantom != SECRET and SECRET not in phantom
    assert route_get(proxy, "/v1/hello") == b"upstream"
    assert upstream.seen == [{"path": "/v1/hello", "authorization": "Bearer " + SECRET}]


def test_route_refuses_a_wrong_phantom(proxy, upstream):
    with pytest.raises(urllib.error.HTTPError) as e:
        route_get(proxy, "/v1/hello", phantom="not-the-phantom")
    assert e.value.code == 401
    assert upstream.seen == []


def test_forward_proxy_allows_listed_hosts_only(proxy, upstream):
    opener = through_proxy(proxy, upstream.url)
    assert opener.open(upstream.url + "/plain", timeout=10).read() == b"upstream"
    # The proxy does not inject outside routes.
    assert upstream.seen == [{"path": "/plain", "authorization": None}]
    with pytest.raises(urllib.error.HTTPError) as e:
        opener.open("http://127.0.0.3:9/denied", timeout=10)
    assert e.value.code == 403


def test_drain_audit_events(proxy, upstream):
    route_get(proxy, "/v1/hello")
    with pytest.raises(urllib.error.HTTPError):
        through_proxy(proxy, upstream.url).open("http://127.0.0.3:9/denied", timeout=10)
    events = proxy.drain_audit_events()
    assert events[0]["type"] == "proxy.start" and events[0]["routes"] == 1
    decisions = [(e["type"], e["host"], e["decision"], e["reason"]) for e in events
                 if e["type"] == "proxy.decision"]
    assert ("proxy.decision", "127.0.0.2", "allow", "credential route") in decisions
    assert ("proxy.decision", "127.0.0.3", "deny", "IP address not in the allow-list") in decisions
    assert all(e["plugin"] == "filter-proxy" and e["time"].endswith("Z") for e in events)
    text = json.dumps(events)
    assert SECRET not in text
    assert proxy.credential_env_vars()["SVC_API_KEY"] not in text
    assert proxy.drain_audit_events() == []  # drained means cleared


def test_shutdown_stops_the_proxy(proxy, upstream):
    route_get(proxy, "/once")
    proxy.shutdown()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
    proxy.shutdown()  # idempotent
    # What it recorded before it stopped is still there.
    assert [e["decision"] for e in proxy.drain_audit_events()
            if e["type"] == "proxy.decision"] == ["allow"]


def test_context_manager_and_close(upstream):
    with nono.start_proxy(nono.ProxyConfig(allowed_hosts=["127.0.0.2"])) as p:
        port = p.port
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
        assert p.credential_env_vars() == {}
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5)
    p.close()
    with pytest.raises(nono.InvalidArgumentError):
        p.env_vars()


def test_query_param_route(upstream, monkeypatch):
    monkeypatch.setenv("TEST_KEY", SECRET)
    route = nono.RouteConfig(prefix="/q", upstream=upstream.url, credential_key="TEST_KEY",
                             inject_mode=nono.InjectMode.QUERY_PARAM, inject_header="key",
                             env_var="Q_TOKEN", endpoint_rules=["GET:/ok/*"])
    with nono.start_proxy(nono.ProxyConfig(routes=[route])) as p:
        cred = p.credential_env_vars()
        assert set(cred) == {"Q_BASE_URL", "Q_TOKEN"}
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        url = cred["Q_BASE_URL"] + "/ok/x?key=" + cred["Q_TOKEN"]
        assert opener.open(url, timeout=10).read() == b"upstream"
        with pytest.raises(urllib.error.HTTPError) as e:
            opener.open(cred["Q_BASE_URL"] + "/other?key=" + cred["Q_TOKEN"], timeout=10)
        assert e.value.code == 403
    assert upstream.seen == [{"path": "/ok/x?key=" + SECRET, "authorization": None}]


def route(**kw: object) -> nono.RouteConfig:
    args = {"prefix": "svc", "upstream": "https://api.example.com", "credential_key": "env://TEST_KEY"}
    args.update(kw)
    return nono.RouteConfig(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize("config, message", [
    (nono.ProxyConfig(allowed_hosts=["http://example.com/"]), "bad host"),
    (nono.ProxyConfig(allowed_hosts=["example.com:443"]), "bad host"),
    (nono.ProxyConfig(routes=[route(upstream="http://example.com")]), "plain http"),
    (nono.ProxyConfig(routes=[route(upstream="ftp://example.com")]), "must start with https://"),
    (nono.ProxyConfig(routes=[route(inject_mode=7)]), "unknown inject mode 7"),
    (nono.ProxyConfig(routes=[route(credential_format="Bearer")]), "{} exactly once"),
    (nono.ProxyConfig(routes=[route(prefix="Bad Name")]), "bad credential service name"),
    (nono.ProxyConfig(routes=[route(endpoint_rules=["get /x"])]), "endpoint rule"),
    (nono.ProxyConfig(routes=[route(), route()]), "configured already"),
    (nono.ProxyConfig(), "nothing to serve"),
])
def test_bad_config_raises_invalid_argument(config, message, monkeypatch):
    monkeypatch.setenv("TEST_KEY", SECRET)
    with pytest.raises(nono.InvalidArgumentError) as e:
        nono.start_proxy(config)
    assert message in str(e.value)
    assert e.value.errno in (errno.EINVAL, errno.EEXIST)


@pytest.mark.parametrize("config", [
    None,
    {"allowed_hosts": ["a.example"]},
    nono.ProxyConfig(allowed_hosts="a.example"),
    nono.ProxyConfig(allowed_hosts=[3]),  # type: ignore[list-item]
    nono.ProxyConfig(routes=["svc"]),  # type: ignore[list-item]
    nono.ProxyConfig(routes=[route(inject_mode="header")]),
    nono.ProxyConfig(routes=[route(upstream=None)]),
])
def test_bad_types_raise_invalid_argument(config):
    with pytest.raises(nono.InvalidArgumentError):
        nono.start_proxy(config)


def test_missing_credential_raises_credential_error(monkeypatch):
    monkeypatch.delenv("NONO_TEST_ABSENT_KEY", raising=False)
    config = nono.ProxyConfig(routes=[route(credential_key="env://NONO_TEST_ABSENT_KEY")])
    with pytest.raises(nono.CredentialError) as e:
        nono.start_proxy(config)
    assert "NONO_TEST_ABSENT_KEY" in str(e.value) and e.value.errno == errno.ENOENT
    assert isinstance(e.value, nono.NonoError)


def test_error_messages_never_hold_the_secret(monkeypatch):
    monkeypatch.setenv("TEST_KEY", SECRET)
    with pytest.raises(nono.InvalidArgumentError) as e:
        nono.start_proxy(nono.ProxyConfig(routes=[route(upstream="http://example.com")]))
    assert SECRET not in str(e.value)


def test_proxy_dies_with_a_caller_that_forgets_it():
    script = ("import nono, sys\n"
              "p = nono.start_proxy(nono.ProxyConfig(allowed_hosts=['127.0.0.2']))\n"
              "print(p.port, flush=True)\n"
              "import os; os._exit(0)\n")  # no shutdown, no finalizers
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=30, env=dict(os.environ), check=True)
    port = int(out.stdout)
    deadline = time.monotonic() + 5
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except ConnectionRefusedError:
            break
        assert time.monotonic() < deadline, "the proxy outlived its caller"
        time.sleep(0.05)


# ---- a capability set routed through the proxy ----------------------------------------

CHILD = """
import json, os, socket, sys, urllib.request
out = {"key_var": os.environ.get("TEST_KEY")}
req = urllib.request.Request(os.environ["SVC_BASE_URL"] + "/from-child",
                             headers={"Authorization": "Bearer " + os.environ["SVC_API_KEY"]})
out["route"] = urllib.request.urlopen(req, timeout=10).read().decode()
out["forward"] = urllib.request.urlopen(sys.argv[1] + "/forwarded", timeout=10).read().decode()
host, port = sys.argv[1][len("http://"):].split(":")
try:
    socket.create_connection((host, int(port)), timeout=5).close()
    out["direct"] = "connected"
except OSError as e:
    out["direct"] = e.errno
try:
    socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    out["udp"] = "open"
except OSError as e:
    out["udp"] = e.errno
print(json.dumps(out))
"""


def test_sandboxed_exec_through_the_proxy(proxy, upstream, tree):
    caps = nono.CapabilitySet().allow_path(tree["granted"], nono.AccessMode.READ_WRITE)
    caps.use_proxy(proxy)
    r = nono.sandboxed_exec(caps, [sys.executable, "-c", CHILD, upstream.url], timeout_secs=60)
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["route"] == "upstream" and out["forward"] == "upstream"
    assert out["key_var"] is None  # the variable the key came from is not passed
    assert out["direct"] in (errno.EACCES, errno.EPERM)  # only the proxy's port
    assert out["udp"] in (errno.EACCES, errno.EPERM)
    assert upstream.seen == [{"path": "/from-child", "authorization": "Bearer " + SECRET},
                             {"path": "/forwarded", "authorization": None}]
    assert SECRET not in (r.stdout + r.stderr).decode()
    v = caps.query_host("example.com", 443)
    assert not v.allowed and v.reason == nono.VerdictReason.NETWORK_PROXY
    assert f"127.0.0.1:{proxy.port}" in v.message


def test_use_proxy_checks_its_argument():
    with pytest.raises(nono.InvalidArgumentError):
        nono.CapabilitySet().use_proxy("127.0.0.1:8080")  # type: ignore[arg-type]


def test_proxies_stop_independently():
    # The second proxy's process is forked from this one, so it holds copies of the
    # first's descriptors: stopping the first must not depend on them.
    a = nono.start_proxy(nono.ProxyConfig(allowed_hosts=["127.0.0.2"]))
    b = nono.start_proxy(nono.ProxyConfig(allowed_hosts=["127.0.0.2"]))
    try:
        a.shutdown()
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", a.port), timeout=5)
        socket.create_connection(("127.0.0.1", b.port), timeout=5).close()
    finally:
        a.close()
        b.close()
