"""Shared helpers for the integration tests: run the real nono binary against real
programs in throw-away directories, and judge the effect from outside the sandbox.

Every test gets its own HOME (never the real one) with fake secrets, a workspace,
and a directory outside every grant.  Nothing outside those temporary directories is
written, except a uniquely named probe in /etc that the test removes.
"""
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest

NONO = os.environ.get("NONO_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "nono")
# Debian's interpreter, independent of whatever python runs the tests.
SYSTEM_PYTHON = "/usr/bin/python3"
# NONO_TEST_UID=65534: the suite runs nono as that unprivileged user (the test
# harness stays root to set up and judge from outside).
TEST_UID = int(os.environ.get("NONO_TEST_UID") or "-1")


def as_test_user(argv):
    """The command line that runs argv as the test user (unchanged when root)."""
    if TEST_UID < 0:
        return list(argv)
    return ["/usr/bin/setpriv", f"--reuid={TEST_UID}", f"--regid={TEST_UID}", "--clear-groups",
            *argv]


class SandboxTestCase(unittest.TestCase):
    """A temp tree: home/ (fake secrets), ws/ (workspace), out/ (outside every grant)."""

    def setUp(self):
        # Not under /tmp: the default profile grants /tmp, which would contain the
        # fake HOME and its protected paths.
        self.root = os.path.realpath(tempfile.mkdtemp(prefix="nono-it-", dir="/var/tmp"))
        self.addCleanup(shutil.rmtree, self.root, ignore_errors=True)
        self.home = self.mkdir("home")
        self.ws = self.mkdir("ws")
        self.out = self.mkdir("out")
        self.write(os.path.join(self.out, "secret"), "OUT-SECRET\n")
        self.write(os.path.join(self.home, ".ssh", "id_rsa"), "FAKE-SSH-KEY\n")
        self.write(os.path.join(self.home, ".aws", "credentials"), "FAKE-AWS\n")
        self.write(os.path.join(self.home, ".gitconfig"), "[user]\n\tname = t\n\temail = t@t\n")

    def mkdir(self, *parts):
        path = os.path.join(self.root, *parts)
        os.makedirs(path, exist_ok=True)
        return path

    @staticmethod
    def write(path, text, mode=None):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        if mode is not None:
            os.chmod(path, mode)

    def env(self, **extra):
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": self.home,
            "TMPDIR": "/tmp",
            "LANG": "C.UTF-8",
            "NONO_CONFIG": os.environ.get("NONO_CONFIG", "/dev/null"),
        }
        for key in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if key in os.environ:
                env[key] = os.environ[key]
        env.update(extra)
        return env

    def give_to_test_user(self):
        """Hands the temp tree to the test user, so that it can work in it."""
        if TEST_UID < 0:
            return
        os.chmod(self.root, 0o755)
        for dirpath, dirnames, filenames in os.walk(self.root):
            for name in [dirpath] + [os.path.join(dirpath, n) for n in dirnames + filenames]:
                os.lchown(name, TEST_UID, TEST_UID)

    def nono(self, *args, cwd=None, env=None, timeout=120, input=None, **kw):
        """Runs nono with the given arguments; returns the CompletedProcess."""
        self.give_to_test_user()
        return subprocess.run(as_test_user([NONO, *args]), cwd=cwd or self.ws,
                              env=env or self.env(), capture_output=True, text=True,
                              timeout=timeout, input=input, **kw)

    def nono_on_pty(self, *args, env=None, keys=b"", winsize=None, timeout=30):
        """Runs nono on a fresh pseudo-terminal, types `keys`, and returns (output bytes,
        exit code) once nono has exited and the terminal is drained."""
        import fcntl
        import pty
        import struct
        import termios
        self.give_to_test_user()
        pid, fd = pty.fork()
        if pid == 0:
            os.chdir(self.ws)
            argv = as_test_user([NONO, *args])
            os.execve(argv[0], argv, env or self.env(TERM="dumb"))
        if winsize:
            fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", *winsize, 0, 0))
        os.write(fd, keys)
        out = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        _, status = os.waitpid(pid, 0)
        os.close(fd)
        return out, os.waitstatus_to_exitcode(status)

    def sandboxed(self, script, *flags, cwd=None, env=None, timeout=120):
        """Runs `sh -c script` in the sandbox with the workspace granted."""
        return self.nono("run", "--allow-cwd", *flags, "--", "/bin/sh", "-c", script,
                         cwd=cwd, env=env, timeout=timeout)

    def assertRan(self, proc, marker="PAYLOAD-RAN"):
        """The payload printed its marker: the sandbox started and the command ran."""
        self.assertIn(marker, proc.stdout,
                      f"payload did not run: rc={proc.returncode} stderr={proc.stderr!r}")


class Listener:
    """A loopback listener (TCP or UDP) that records whether anything reached it.
    `serve`, for a stream listener, gets each accepted connection (in the listener's
    thread); without it the connection is closed at once."""

    def __init__(self, kind=socket.SOCK_STREAM, family=socket.AF_INET, addr="127.0.0.1",
                 serve=None):
        self.serve = serve
        self.sock = socket.socket(family, kind)
        self.sock.bind((addr, 0))
        self.port = self.sock.getsockname()[1]
        self.kind = kind
        self.hits = 0
        if kind == socket.SOCK_STREAM:
            self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        deadline = time.monotonic() + 60
        while not self.stop and time.monotonic() < deadline:
            try:
                if self.kind == socket.SOCK_STREAM:
                    conn, _ = self.sock.accept()
                    if self.serve:
                        self.serve(conn)
                    else:
                        conn.close()
                else:
                    self.sock.recvfrom(4096)
                self.hits += 1
            except OSError:
                pass

    def close(self):
        self.stop = True
        self.thread.join(5)
        self.sock.close()


def main():
    unittest.main(verbosity=2)
