"""Attack catalogue: processes, privileges and secrets (groups A22-A23, C, F), against
the real nono binary.  Each payload proves it ran before the effect is judged from
outside the sandbox."""
import ctypes
import os
import signal
import subprocess
import time

from nonotest import SYSTEM_PYTHON, SandboxTestCase, main

libc = ctypes.CDLL(None, use_errno=True)
KEY_SPEC_SESSION_KEYRING = -3
KEYCTL_JOIN_SESSION_KEYRING = 1
KEYCTL_SEARCH = 10
SYS_add_key, SYS_keyctl = 248, 250  # x86-64


class ProcessEscapes(SandboxTestCase):
    def py(self, code, *flags, env=None, **kw):
        prog = "print('PAYLOAD-RAN', flush=True)\n" + code
        return self.nono("run", "--allow-cwd", *flags, "--", SYSTEM_PYTHON, "-c", prog,
                         env=env, **kw)

    def test_a23_capabilities_dropped(self):
        p = self.sandboxed("echo PAYLOAD-RAN; grep ^Cap /proc/self/status")
        self.assertRan(p)
        for line in p.stdout.splitlines():
            if line.startswith("Cap"):
                self.assertRegex(line, r"Cap\w+:\s+0{16}$", line)
        self.assertEqual(sum(l.startswith("Cap") for l in p.stdout.splitlines()), 5)

    def test_c01_signal_to_host_process(self):
        host = subprocess.Popen(["sleep", "30"])
        self.addCleanup(host.wait)
        self.addCleanup(host.kill)
        p = self.sandboxed(f"echo PAYLOAD-RAN; kill -0 {host.pid} && echo SIGNAL-OK; "
                           f"kill -TERM {host.pid}")
        self.assertRan(p)
        self.assertNotIn("SIGNAL-OK", p.stdout)
        self.assertIsNone(host.poll(), "the host process was killed from the sandbox")

    def test_c09_daemon_does_not_outlive_the_session(self):
        tag = f"{os.getpid() % 1000}{time.monotonic_ns() % 100000}"
        p = self.sandboxed(f"echo PAYLOAD-RAN; setsid sleep 1000.{tag} </dev/null >/dev/null "
                           f"2>&1 & (sleep 999.{tag} </dev/null >/dev/null 2>&1 &) ; exit 0")
        self.assertRan(p)
        time.sleep(0.2)
        left = subprocess.run(["pgrep", "-f", f"sleep (1000|999)\\.{tag}"], capture_output=True,
                              text=True).stdout.split()
        for pid in left:
            os.kill(int(pid), signal.SIGKILL)
        self.assertEqual(left, [], "sandboxed processes outlived nono")

    def test_f01_secret_variables_absent(self):
        secrets = {"AWS_SECRET_ACCESS_KEY": "sec-value-1", "OPENAI_API_KEY": "sec-value-2",
                   "GITHUB_TOKEN": "sec-value-3", "OP_SERVICE_ACCOUNT_TOKEN": "sec-value-4",
                   "MY_SERVICE_PASSWORD": "sec-value-5", "STRIPE_SECRET": "sec-value-6",
                   "openai_api_key": "sec-value-7", "https_proxy": "http://user:sec-value-8@proxy.invalid:3128"}
        env = self.env(**secrets)
        p = self.sandboxed("echo PAYLOAD-RAN; env; cat /proc/self/environ | tr '\\0' '\\n'",
                           env=env)
        self.assertRan(p)
        for name, value in secrets.items():
            self.assertNotIn(name, p.stdout)
            self.assertNotIn(value, p.stdout)
        self.assertIn("NONO_SANDBOX=1", p.stdout)
        # A name the user lets through on purpose arrives.
        p = self.sandboxed("echo PAYLOAD-RAN; echo KEY=$OPENAI_API_KEY", "--allow-env",
                           "OPENAI_API_KEY", env=env)
        self.assertRan(p)
        self.assertIn("KEY=sec-value-2", p.stdout)

    def test_f02_injection_variables_stripped(self):
        marker = os.path.join(self.out, "bash-env-ran")
        hook = os.path.join(self.out, "hook.sh")
        self.write(hook, f"touch {marker}\n")
        startup = os.path.join(self.ws, "startup.py")
        self.write(startup, "print('STARTUP-RAN')\n")
        env = self.env(BASH_ENV=hook, ENV=hook, LD_PRELOAD="/nonexistent/evil.so",
                       LD_LIBRARY_PATH="/nonexistent", PYTHONSTARTUP=startup,
                       NODE_OPTIONS="--require /x", PERL5OPT="-Mevil", PYTHONPATH="/x")
        p = self.nono("run", "--allow-cwd", "--read", self.out, "--", "/bin/bash", "-c",
                      "echo PAYLOAD-RAN; env", env=env)
        self.assertRan(p)
        for name in ("BASH_ENV", "LD_PRELOAD", "LD_LIBRARY_PATH", "PYTHONSTARTUP",
                     "NODE_OPTIONS", "PERL5OPT", "PYTHONPATH"):
            self.assertNotIn(name + "=", p.stdout)
        self.assertFalse(os.path.exists(marker))

    def test_session_keyring_is_fresh(self):
        # A keyring of this test's own, so nothing of the machine's is touched.
        libc.syscall.restype = ctypes.c_long
        if libc.syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, b"nono-test") < 0:
            self.skipTest("keyrings unavailable")
        key = libc.syscall(SYS_add_key, b"user", b"nono-probe", b"KEYRING-SECRET",
                           len(b"KEYRING-SECRET"), KEY_SPEC_SESSION_KEYRING)
        self.assertGreater(key, 0)
        search = """
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
r = libc.syscall(250, 10, -3, b"user", b"nono-probe", 0)
print("FOUND" if r > 0 else "NOT-FOUND", ctypes.get_errno())
"""
        outside = subprocess.run([SYSTEM_PYTHON, "-c", search], capture_output=True, text=True)
        self.assertIn("FOUND", outside.stdout.split()[0])
        p = self.py(search)
        self.assertRan(p)
        self.assertIn("NOT-FOUND", p.stdout)

    def test_c06_no_terminal_injection(self):
        code = ("import fcntl, termios, os\n"
                "print('PAYLOAD-RAN', flush=True)\n"
                "for req in (termios.TIOCSTI, (0x123 << 32) | termios.TIOCSTI):\n"
                "    try:\n"
                "        fcntl.ioctl(0, req, b'X'); print('INJECTED', flush=True)\n"
                "    except OSError as e:\n"
                "        print('DENIED', e.errno, flush=True)\n")
        out, _ = self.nono_on_pty("run", "--allow-cwd", "--", SYSTEM_PYTHON, "-c", code)
        self.assertIn(b"PAYLOAD-RAN", out)
        self.assertNotIn(b"INJECTED", out)
        self.assertEqual(out.count(b"DENIED"), 2, out)


if __name__ == "__main__":
    main()
