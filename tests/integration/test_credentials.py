"""Credential sources: `nono credential set|get|list|delete` against a real Secret
Service (gnome-keyring-daemon on a private D-Bus session bus this test starts, with
HOME and the XDG directories in the temp tree, so no real keyring is ever touched),
judged from outside with secret-tool; the env source; and the errors when there is no
Secret Service.  No secret may appear in anything nono prints."""
import json
import os
import pty
import select
import socket
import subprocess
import termios
import threading
import time

from nonotest import NONO, SandboxTestCase, as_test_user, main

SECRET = "sk-it-7c1e0b9a4d2f"
BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <!-- No service directories: nothing is activated behind the test's back. -->
  <policy context="default">
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


class CredentialTestCase(SandboxTestCase):
    def assertNoSecret(self, proc, secret=SECRET):
        self.assertNotIn(secret, proc.stdout)
        self.assertNotIn(secret, proc.stderr)

    def assertFailsWith(self, proc, *needles):
        self.assertEqual(proc.returncode, 1, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, proc.stderr)
        for n in needles:
            self.assertIn(n, lines[0])

    def conf(self, text):
        path = os.path.join(self.root, "nono.conf")
        self.write(path, text)
        return path


class SecretService(CredentialTestCase):
    """A private bus and keyring, both run as the user nono runs as."""

    def setUp(self):
        super().setUp()
        self.runtime = self.mkdir("runtime")
        os.chmod(self.runtime, 0o700)
        self.bus_socket = os.path.join(self.root, "bus")
        bus_conf = os.path.join(self.root, "bus.conf")
        self.write(bus_conf, BUS_CONFIG.format(socket=self.bus_socket))
        self.give_to_test_user()
        self.bus = self.start_daemon(["/usr/bin/dbus-daemon", f"--config-file={bus_conf}",
                                      "--nofork", "--print-address=1"], self.env(),
                                     stdout=subprocess.PIPE)
        self.address = self.read_line(self.bus.stdout)
        self.keyring = self.start_daemon(["/usr/bin/gnome-keyring-daemon", "--foreground",
                                          "--unlock", "--components=secrets"],
                                         self.daemon_env(), stdin=subprocess.PIPE,
                                         stdout=subprocess.DEVNULL)
        # The login keyring is created with this password, unlocked.
        self.keyring.stdin.write(b"test-password")
        self.keyring.stdin.close()
        self.wait_for_secret_service()

    def daemon_env(self, **extra):
        return self.env(DBUS_SESSION_BUS_ADDRESS=self.address, XDG_RUNTIME_DIR=self.runtime,
                        XDG_DATA_HOME=os.path.join(self.home, ".local", "share"), **extra)

    def start_daemon(self, argv, env, **kw):
        proc = subprocess.Popen(as_test_user(argv), env=env, stderr=subprocess.DEVNULL,
                                cwd=self.root, **kw)
        self.addCleanup(self.stop_daemon, proc)
        return proc

    @staticmethod
    def stop_daemon(proc):
        """Only the daemons this test started, by their own PIDs."""
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for f in (proc.stdin, proc.stdout):
            if f and not f.closed:
                f.close()

    def read_line(self, stream, timeout=10):
        ready, _, _ = select.select([stream], [], [], timeout)
        self.assertTrue(ready, "dbus-daemon printed no address")
        line = stream.readline().decode().strip()
        self.assertTrue(line.startswith("unix:"), line)
        return line

    def wait_for_secret_service(self, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            p = subprocess.run(as_test_user(
                ["/usr/bin/dbus-send", "--session", "--print-reply",
                 "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
                 "org.freedesktop.DBus.NameHasOwner", "string:org.freedesktop.secrets"]),
                env=self.daemon_env(), capture_output=True, text=True, timeout=10)
            if "boolean true" in p.stdout:
                return
            time.sleep(0.1)
        self.fail("gnome-keyring-daemon did not register org.freedesktop.secrets")

    def cred(self, *args, input=None, env=None):
        return self.nono("credential", *args, input=input, env=env or self.daemon_env(),
                         timeout=60)

    def keyring_holds(self, name):
        """What the keyring holds for `name`, asked directly (None if nothing)."""
        p = subprocess.run(as_test_user(["/usr/bin/secret-tool", "lookup", "xdg:schema",
                                         "org.nono.Credential", "name", name]),
                           env=self.daemon_env(), capture_output=True, text=True, timeout=30)
        return p.stdout if p.returncode == 0 else None

    def test_set_get_list_delete(self):
        p = self.cred("set", "openai", input=SECRET + "\n")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, "openai: stored in libsecret\n")
        self.assertNoSecret(p)
        # The keyring holds exactly the secret, without the newline.
        self.assertEqual(self.keyring_holds("openai"), SECRET)

        p = self.cred("get", "openai")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, f"openai: found in libsecret ({len(SECRET)} bytes)\n")
        self.assertNoSecret(p)
        p = self.cred("get", "libsecret://openai")
        self.assertIn("found in libsecret", p.stdout)

        p = self.cred("list")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("libsecret  openai\n", p.stdout)
        self.assertNoSecret(p)
        p = self.cred("list", "--json")
        self.assertEqual(json.loads(p.stdout),
                         {"credentials": [{"source": "libsecret", "name": "openai"}]})

        p = self.cred("delete", "openai")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, "openai: deleted from libsecret\n")
        self.assertIsNone(self.keyring_holds("openai"))
        self.assertFailsWith(self.cred("get", "openai"),
                             'nono: credential "openai" not found in env, libsecret')
        self.assertFailsWith(self.cred("delete", "openai"),
                             'credential "openai" not found in libsecret')
        self.assertNotIn("openai", self.cred("list").stdout)

    def test_set_replaces_the_value(self):
        self.assertEqual(self.cred("set", "tok", input="first-value").returncode, 0)
        self.assertEqual(self.cred("set", "--source", "libsecret", "tok",
                                   input=SECRET).returncode, 0)
        self.assertEqual(self.keyring_holds("tok"), SECRET)
        self.assertIn(f"({len(SECRET)} bytes)", self.cred("get", "tok").stdout)
        self.assertEqual(self.cred("list", "--json").stdout.count('"tok"'), 1)

    def test_env_comes_first_for_bare_names(self):
        self.assertEqual(self.cred("set", "SHADOWED_KEY", input="keyring-value").returncode, 0)
        env = self.daemon_env(SHADOWED_KEY=SECRET)
        p = self.cred("get", "SHADOWED_KEY", env=env)
        self.assertEqual(p.stdout, f"SHADOWED_KEY: found in env ({len(SECRET)} bytes)\n")
        p = self.cred("get", "libsecret://SHADOWED_KEY", env=env)
        self.assertEqual(p.stdout, "libsecret://SHADOWED_KEY: found in libsecret (13 bytes)\n")
        # The order of nono.conf wins over the default.
        env["NONO_CONFIG"] = self.conf('credential_sources = ["libsecret", "env"];\n')
        self.assertIn("found in libsecret", self.cred("get", "SHADOWED_KEY", env=env).stdout)

    def test_secret_never_on_the_command_line(self):
        p = self.cred("set", "openai", SECRET)
        self.assertFailsWith(p, "unexpected argument")
        self.assertIsNone(self.keyring_holds("openai"))
        self.assertFailsWith(self.cred("set", "empty", input="\n"), 'empty secret for "empty"')
        self.assertIsNone(self.keyring_holds("empty"))

    def test_prompt_without_echo_on_a_terminal(self):
        out, code, echo = self.set_on_terminal("ttykey", SECRET)
        self.assertEqual(code, 0, out)
        self.assertTrue(echo)
        self.assertIn(b"Secret for ttykey: ", out)
        self.assertIn(b"ttykey: stored in libsecret", out)
        self.assertNotIn(SECRET.encode(), out)
        self.assertEqual(self.keyring_holds("ttykey"), SECRET)

    def test_interrupted_prompt_restores_the_echo(self):
        out, code, echo = self.set_on_terminal("ttykey", "\x03", newline=False)
        self.assertEqual(code, 1, out)
        self.assertIn(b"nono: cancelled", out)
        self.assertTrue(echo, "the terminal was left without echo")
        self.assertIsNone(self.keyring_holds("ttykey"))

    def set_on_terminal(self, name, keys, newline=True, timeout=30):
        """`nono credential set NAME` on a fresh pty: types `keys` once the prompt is
        shown (typed earlier, they would have been echoed).  Returns the output, the exit
        code and whether the terminal echoes again afterwards."""
        self.give_to_test_user()
        pid, fd = pty.fork()
        if pid == 0:
            try:
                argv = as_test_user([NONO, "credential", "set", name])
                os.execve(argv[0], argv, self.daemon_env(TERM="dumb"))
            finally:
                os._exit(127)  # never run the rest of the suite in the child
        out = b""
        typed = False
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 1)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
            if not typed and b"Secret for" in out:
                os.write(fd, keys.encode() + (b"\n" if newline else b""))
                typed = True
        _, status = os.waitpid(pid, 0)
        echo = bool(termios.tcgetattr(fd)[3] & termios.ECHO)
        os.close(fd)
        return out, os.waitstatus_to_exitcode(status), echo


class NoSecretService(CredentialTestCase):
    """No bus, a dead bus, a bus that never answers: a clear error, quickly."""

    def cred(self, *args, input=None, **extra):
        env = self.env(**extra)  # no DBUS_SESSION_BUS_ADDRESS nor XDG_RUNTIME_DIR unless given
        start = time.monotonic()
        p = self.nono("credential", *args, input=input, env=env, timeout=60)
        self.elapsed = time.monotonic() - start
        return p

    def test_no_session_bus(self):
        p = self.cred("get", "libsecret://openai")
        self.assertFailsWith(p, 'cannot look up credential "openai" in libsecret: Secret '
                             'Service not available: no D-Bus session bus')
        self.assertLess(self.elapsed, 10)

    def test_dead_bus(self):
        dead = f"unix:path={self.root}/no-such-bus"
        p = self.cred("get", "openai", DBUS_SESSION_BUS_ADDRESS=dead)
        self.assertFailsWith(p, 'credential "openai" not found in env; libsecret failed: '
                             'Secret Service not available: Could not connect')
        self.assertLess(self.elapsed, 10)
        self.assertFailsWith(self.cred("list", DBUS_SESSION_BUS_ADDRESS=dead),
                             "cannot list credentials in libsecret: Secret Service not available")
        p = self.cred("set", "openai", input=SECRET, DBUS_SESSION_BUS_ADDRESS=dead)
        self.assertFailsWith(p, 'cannot store credential "openai" in libsecret')
        self.assertNoSecret(p)

    def test_unavailable_source_skipped_for_a_bare_name(self):
        conf = self.conf('credential_sources = ["libsecret", "env"];\n')
        p = self.cred("get", "MY_API_KEY", NONO_CONFIG=conf, MY_API_KEY=SECRET)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, f"MY_API_KEY: found in env ({len(SECRET)} bytes)\n")
        self.assertNoSecret(p)

    def test_silent_bus_times_out(self):
        path = os.path.join(self.root, "silent-bus")
        server = socket.socket(socket.AF_UNIX)
        server.bind(path)
        server.listen(4)
        self.addCleanup(server.close)
        accepted = []

        def accept_and_say_nothing():
            server.settimeout(20)
            try:
                accepted.append(server.accept()[0])
            except OSError:
                pass
        t = threading.Thread(target=accept_and_say_nothing, daemon=True)
        t.start()
        conf = self.conf("plugins = { libsecret = { timeout = 1; }; };\n")
        p = self.cred("get", "libsecret://openai", NONO_CONFIG=conf,
                      DBUS_SESSION_BUS_ADDRESS=f"unix:path={path}")
        t.join(timeout=1)
        for c in accepted:
            c.close()
        # nono did connect, then gave up on its own.
        self.assertEqual(len(accepted), 1)
        self.assertFailsWith(p, "Secret Service did not answer within 1 s")
        self.assertLess(self.elapsed, 10)

    def test_env_source(self):
        p = self.cred("get", "env://MY_TOKEN", MY_TOKEN=SECRET)
        self.assertEqual(p.stdout, f"env://MY_TOKEN: found in env ({len(SECRET)} bytes)\n")
        self.assertNoSecret(p)
        self.assertFailsWith(self.cred("get", "env://MY_TOKEN"),
                             'credential "MY_TOKEN" not found in env')
        self.assertFailsWith(self.cred("set", "env://MY_TOKEN", input=SECRET),
                             'credential source "env" cannot store credentials')

    def test_bad_references(self):
        self.assertFailsWith(self.cred("get", "nosuch://x"),
                             'unknown credential source "nosuch" (available: env, libsecret)')
        self.assertFailsWith(self.cred("get", "libsecret://"), "has no name")
        self.assertFailsWith(self.cred("frobnicate"), 'unknown credential command "frobnicate"')
        self.assertFailsWith(self.cred("get"), "missing NAME")


if __name__ == "__main__":
    main()
