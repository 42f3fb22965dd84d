"""The Python SDK (sdk/python, `import nono`) against the build tree's libnono
(NONO_LIBRARY).  Effects are judged from outside the sandbox; apply() runs in a
child interpreter, since it is irrevocable."""
import os
import shutil
import subprocess
import sys
import textwrap
import threading

import pytest

import nono

SOURCE = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
PACKAGE = os.path.join(SOURCE, "sdk", "python")
# The harness may run as root: the confinement test also runs as this user.
NOBODY = 65534


def caps_for(tree, mode=nono.AccessMode.READ_WRITE):
    return nono.CapabilitySet().allow_path(tree["granted"], mode)


# ---- the capability set and bad input ------------------------------------------------


def test_version():
    assert nono.library_version() == nono.__version__


def test_type_information_ships():
    assert os.path.isfile(os.path.join(PACKAGE, "nono", "py.typed"))


def test_methods_chain(tree):
    caps = nono.CapabilitySet()
    assert caps.allow_path(tree["granted"], nono.AccessMode.READ) is caps
    assert caps.allow_file(tree["secret"], nono.AccessMode.READ) is caps
    assert caps.block_network().add_group("system_write_linux") is caps
    assert caps.allow_env("A_TOKEN").deny_env("X").set_env("Y", "1") is caps
    assert caps.deny_path(os.path.join(tree["granted"], "private")) is caps


@pytest.mark.parametrize("call, exc, errno", [
    (lambda c, t: c.allow_path("/nonexistent/nono"), nono.InvalidArgumentError, 2),
    (lambda c, t: c.allow_path(t["secret"]), nono.InvalidArgumentError, 20),
    (lambda c, t: c.allow_file(t["granted"]), nono.InvalidArgumentError, 21),
    (lambda c, t: c.allow_path(t["granted"], 0), nono.InvalidArgumentError, 22),
    (lambda c, t: c.allow_path(t["granted"], 8), nono.InvalidArgumentError, 22),
    (lambda c, t: c.allow_path(t["granted"], "rw"), nono.InvalidArgumentError, 22),
    (lambda c, t: c.allow_path(42), nono.InvalidArgumentError, 22),
    (lambda c, t: c.allow_path(""), nono.InvalidArgumentError, 22),
    (lambda c, t: c.allow_path("a\0b"), nono.InvalidArgumentError, 22),
    (lambda c, t: c.add_group("no_such_group"), nono.InvalidArgumentError, 2),
    (lambda c, t: c.deny_path("relative"), nono.InvalidArgumentError, 22),
    (lambda c, t: c.allow_env("BAD=NAME"), nono.InvalidArgumentError, 22),
    (lambda c, t: c.set_env("OK", None), nono.InvalidArgumentError, 22),
    (lambda c, t: c.query_host("example.com", 70000), nono.InvalidArgumentError, 22),
    (lambda c, t: nono.apply("not caps"), nono.InvalidArgumentError, 22),
    (lambda c, t: nono.sandboxed_exec(c, []), nono.InvalidArgumentError, 22),
    (lambda c, t: nono.sandboxed_exec(c, "echo"), nono.InvalidArgumentError, 22),
    (lambda c, t: nono.sandboxed_exec(c, ["true"], timeout_secs=-1), nono.InvalidArgumentError, 22),
    (lambda c, t: nono.sandboxed_exec(c, ["true"], env={"A": 1}), nono.InvalidArgumentError, 22),
    (lambda c, t: nono.sandboxed_exec(c, ["true"], cwd="/nonexistent"), nono.InvalidArgumentError, 2),
    (lambda c, t: nono.sandboxed_exec(c, ["nono-no-such-command"]), nono.ExecError, 2),
])
def test_bad_input_raises_typed_errors(tree, call, exc, errno):
    with pytest.raises(exc) as info:
        call(nono.CapabilitySet(), tree)
    assert info.value.errno == errno
    assert str(info.value)
    assert isinstance(info.value, nono.NonoError)


def test_closed_set_raises():
    caps = nono.CapabilitySet()
    caps.close()
    with pytest.raises(nono.InvalidArgumentError):
        caps.block_network()


# ---- queries ---------------------------------------------------------------------------


def test_query_path(tree):
    caps = caps_for(tree, nono.AccessMode.READ)
    v = caps.query_path(os.path.join(tree["granted"], "new"), nono.AccessMode.READ)
    assert v.allowed and v.reason == nono.VerdictReason.GRANTED
    assert v.rule_path == tree["granted"] and v.origin == "nono_caps_allow_path"
    v = caps.query_path(os.path.join(tree["granted"], "new"), nono.AccessMode.WRITE)
    assert not v and v.reason == nono.VerdictReason.INSUFFICIENT
    assert caps.query_path(tree["secret"]).reason == nono.VerdictReason.NOT_GRANTED
    assert caps.query_path("/usr/lib").allowed
    v = caps.query_path(os.path.expanduser("~/.ssh/id_rsa"))
    assert v.reason == nono.VerdictReason.PROTECTED and "deny_credentials" in v.origin


def test_query_host():
    caps = nono.CapabilitySet()
    assert caps.query_host("example.com", 443).reason == nono.VerdictReason.NETWORK_ALLOWED
    v = caps.block_network().query_host("example.com", 443)
    assert not v.allowed and v.reason == nono.VerdictReason.NETWORK_BLOCKED


# ---- sandboxed_exec --------------------------------------------------------------------


def test_sandboxed_exec_confines_the_child(tree):
    escaped = os.path.join(tree["outside"], "escaped")
    script = (f"echo ran; pwd; echo in > inside; echo out > {escaped}; "
              f"cat {tree['secret']}; echo err >&2; exit 3")
    r = nono.sandboxed_exec(caps_for(tree), ["sh", "-c", script], cwd=tree["granted"],
                            timeout_secs=30)
    assert r.exit_code == 3 and not r.timed_out
    assert r.stdout.startswith(b"ran\n" + tree["granted"].encode() + b"\n")
    assert b"OUTSIDE-SECRET" not in r.stdout
    assert b"err\n" in r.stderr and b"Permission denied" in r.stderr
    assert os.path.exists(os.path.join(tree["granted"], "inside"))
    assert not os.path.exists(escaped)


def test_sandboxed_exec_environment(tree):
    env = {"PATH": "/usr/bin:/bin", "PLAIN": "visible", "MY_API_KEY": "hidden-value",
           "GH_TOKEN": "passed"}
    caps = caps_for(tree).allow_env("GH_TOKEN").set_env("ADDED", "yes")
    out = nono.sandboxed_exec(caps, ["env"], env=env).stdout.decode()
    assert "PLAIN=visible" in out and "GH_TOKEN=passed" in out and "ADDED=yes" in out
    assert "hidden-value" not in out


def test_sandboxed_exec_timeout(tree):
    r = nono.sandboxed_exec(caps_for(tree), ["sh", "-c", "echo started; sleep 30"],
                            timeout_secs=0.3)
    assert r.timed_out and r.exit_code == 128 + 9 and r.stdout == b"started\n"


def test_sandboxed_exec_blocked_network(tree):
    probe = ("import socket\ntry:\n    socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
             "    print('UDP-OPEN')\nexcept OSError as e:\n    print('UDP-DENIED', e.errno)\n")
    r = nono.sandboxed_exec(caps_for(tree), [sys.executable, "-c", probe])
    assert r.stdout == b"UDP-OPEN\n", r.stderr
    r = nono.sandboxed_exec(caps_for(tree).block_network(), [sys.executable, "-c", probe])
    assert r.stdout.startswith(b"UDP-DENIED"), r.stderr


def test_sandboxed_exec_from_threads(tree):
    results = []

    def work(i):
        results.append(nono.sandboxed_exec(caps_for(tree), ["echo", str(i)]).stdout)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [b"0\n", b"1\n", b"2\n", b"3\n"]


# ---- apply -----------------------------------------------------------------------------

APPLY_SCRIPT = """
import os, subprocess, sys
import nono
granted, outside, secret = sys.argv[1:4]
caps = nono.CapabilitySet().allow_path(granted, nono.AccessMode.READ_WRITE)
nono.apply(caps)
print("APPLIED", flush=True)
with open(os.path.join(granted, "inside"), "w") as f:
    f.write("x")
try:
    open(os.path.join(outside, "escaped"), "w").close()
    print("WRITE-OUTSIDE-OK")
except OSError as e:
    print("WRITE-OUTSIDE-DENIED", e.errno)
try:
    open(secret).read()
    print("READ-SECRET-OK")
except PermissionError:
    print("READ-SECRET-PermissionError")
r = subprocess.run(["cat", secret], capture_output=True, text=True)
print("CAT", r.returncode, "LEAK" if "OUTSIDE-SECRET" in r.stdout else "NO-LEAK")
import decimal, xml.dom.minidom  # imports after apply keep working
print("IMPORTS-OK")
"""


def run_python(args, uid=None, **env):
    full_env = dict(os.environ, PYTHONPATH=PACKAGE, **env)
    prefix = []
    if uid is not None:
        prefix = ["/usr/bin/setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]
    return subprocess.run(prefix + [sys.executable, *args], capture_output=True, text=True,
                          env=full_env, timeout=60)


@pytest.mark.parametrize("uid", [None, NOBODY], ids=["caller", "unprivileged"])
def test_apply_confines_the_process_and_its_children(tree, uid):
    if uid is not None:
        if os.geteuid() != 0:
            pytest.skip("needs root to run as another user")
        for d, _, files in os.walk(tree["root"]):
            for path in [d] + [os.path.join(d, f) for f in files]:
                os.chown(path, uid, uid)
        os.chmod(tree["root"], 0o755)
    # A home of the test's own: the protected paths are computed from it.
    p = run_python(["-c", APPLY_SCRIPT, tree["granted"], tree["outside"], tree["secret"]],
                   uid=uid, HOME=tree["root"])
    assert p.returncode == 0, p.stderr
    assert "APPLIED" in p.stdout
    assert "WRITE-OUTSIDE-DENIED" in p.stdout
    assert "READ-SECRET-PermissionError" in p.stdout
    assert "CAT 1 NO-LEAK" in p.stdout
    assert "IMPORTS-OK" in p.stdout
    # From outside: the grant was written, nothing outside it.
    assert os.path.exists(os.path.join(tree["granted"], "inside"))
    assert not os.path.exists(os.path.join(tree["outside"], "escaped"))


THREADED_SCRIPT = """
import os, sys, threading
import nono
granted, outside = sys.argv[1:3]
stop = threading.Event()
t = threading.Thread(target=stop.wait)
t.start()
caps = nono.CapabilitySet().allow_path(granted, nono.AccessMode.READ_WRITE)
try:
    nono.apply(caps)
    print("APPLIED-WITH-THREADS")
except nono.SandboxError as e:
    print("REFUSED", e.errno, e)
open(os.path.join(outside, "still-free"), "w").close()
stop.set()
t.join()
nono.apply(caps)
try:
    open(os.path.join(outside, "after"), "w").close()
    print("AFTER-WRITE-OK")
except OSError:
    print("AFTER-APPLIED")
"""


def test_apply_refuses_while_other_threads_run(tree):
    p = run_python(["-c", THREADED_SCRIPT, tree["granted"], tree["outside"]])
    assert p.returncode == 0, p.stderr
    assert "REFUSED 16" in p.stdout and "threads" in p.stdout
    # Nothing was applied by the refused call; the second one, single-threaded, was.
    assert os.path.exists(os.path.join(tree["outside"], "still-free"))
    assert "AFTER-APPLIED" in p.stdout
    assert not os.path.exists(os.path.join(tree["outside"], "after"))


# ---- packaging -----------------------------------------------------------------------


def test_offline_pip_install_into_a_venv(tree):
    # pip builds in the directory it is given (build/, *.egg-info): a copy keeps the
    # source tree clean.
    package = os.path.join(tree["root"], "package")
    shutil.copytree(PACKAGE, package, ignore=shutil.ignore_patterns("build", "*.egg-info",
                                                                     "__pycache__"))
    venv = os.path.join(tree["root"], "venv")
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", venv], check=True)
    py = os.path.join(venv, "bin", "python")
    p = subprocess.run([py, "-m", "pip", "install", "--no-build-isolation", "--no-index",
                        "--no-cache-dir", "--quiet", package],
                       capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, HOME=tree["root"], PIP_NO_INPUT="1"))
    assert p.returncode == 0, p.stdout + p.stderr
    script = ("import nono, os; print(nono.__file__); "
              "print(os.path.isfile(os.path.join(os.path.dirname(nono.__file__), 'py.typed'))); "
              "print(nono.sandboxed_exec(nono.CapabilitySet(), ['echo', 'ok']).stdout)")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    p = subprocess.run([py, "-c", script], capture_output=True, text=True, cwd="/",
                       env=env, timeout=60)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].startswith(venv) and lines[1] == "True" and lines[2] == "b'ok\\n'"
