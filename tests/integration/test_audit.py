"""The audit log and the denial report, with the real nono: one directory per session
under $XDG_STATE_HOME/nono/audit, a SHA-256 chain that `nono audit verify` checks,
secrets redacted, the log out of the sandbox's reach; the footer after a run."""
import json
import os
import socket
import stat
import subprocess
import threading

from nonotest import NONO, SYSTEM_PYTHON, SandboxTestCase, as_test_user, main

PRIVATE_DEV = os.path.join(os.path.dirname(os.path.abspath(__file__)), "private_dev.py")


class AuditCase(SandboxTestCase):
    def audit_root(self):
        return os.path.join(self.home, ".local", "state", "nono", "audit")

    def sessions(self, root=None):
        """The session directories (not the retention stamp)."""
        root = root or self.audit_root()
        return sorted(e for e in os.listdir(root) if not e.startswith(".")) \
            if os.path.isdir(root) else []

    def events(self, session):
        with open(os.path.join(self.audit_root(), session, "events.jsonl")) as f:
            return [json.loads(line) for line in f]

    def lines(self, session):
        with open(os.path.join(self.audit_root(), session, "events.jsonl")) as f:
            return f.readlines()

    def rewrite(self, session, lines):
        with open(os.path.join(self.audit_root(), session, "events.jsonl"), "w") as f:
            f.writelines(lines)

    def run_one(self, *argv, flags=()):
        p = self.nono("run", "--allow-cwd", *flags, "--", *argv)
        sessions = self.sessions()
        self.assertTrue(sessions, p.stderr)
        return p, sessions[-1]


class SessionLog(AuditCase):
    def test_session_is_logged_and_verifies(self):
        p, sid = self.run_one("/bin/sh", "-c", "echo PAYLOAD-RAN; exit 3")
        self.assertRan(p)
        self.assertEqual(p.returncode, 3)
        d = os.path.join(self.audit_root(), sid)
        self.assertEqual(stat.S_IMODE(os.stat(d).st_mode), 0o700)
        ev = self.events(sid)
        self.assertEqual([e["type"] for e in ev], ["session.start", "plan", "session.end"])
        self.assertEqual(ev[0]["session"], sid)
        self.assertEqual(ev[0]["workdir"], self.ws)
        self.assertEqual(ev[0]["argv"][0], "/bin/sh")
        self.assertTrue(any(g["origin"] == "--allow-cwd" for g in ev[1]["plan"]["grants"]))
        self.assertEqual(ev[2]["exit_code"], 3)
        self.assertEqual([e["seq"] for e in ev], [1, 2, 3])
        v = self.nono("audit", "verify", sid)
        self.assertEqual(v.returncode, 0, v.stderr)
        self.assertIn("intact, 3 events", v.stdout)
        lst = self.nono("audit", "list", "--json")
        self.assertEqual(lst.returncode, 0, lst.stderr)
        (entry,) = json.loads(lst.stdout)
        self.assertEqual((entry["id"], entry["exit_code"]), (sid, 3))
        show = self.nono("audit", "show", "last", "--json")
        self.assertEqual([e["type"] for e in json.loads(show.stdout)],
                         ["session.start", "plan", "session.end"])

    def test_xdg_state_home_is_honoured(self):
        state = self.mkdir("state")
        p = self.nono("run", "--", "/bin/true", env=self.env(XDG_STATE_HOME=state))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(self.sessions(os.path.join(state, "nono", "audit"))), 1)
        self.assertEqual(self.sessions(), [])

    def test_disabled_in_nono_conf(self):
        conf = os.path.join(self.root, "nono.conf")
        self.write(conf, "audit = { enabled = false; };\n")
        p = self.nono("run", "--", "/bin/sh", "-c", "echo PAYLOAD-RAN",
                      env=self.env(NONO_CONFIG=conf))
        self.assertRan(p)
        self.assertEqual(self.sessions(), [])

    def test_secret_arguments_are_redacted(self):
        secrets = ["ghp_0123456789abcdefABCDEF", "hunter2-cli", "sk-proj-abcdefghijklmnop",
                   "pa55word-in-url"]
        p, sid = self.run_one("/bin/sh", "-c", "echo PAYLOAD-RAN", "sh",
                              f"--token={secrets[0]}", "--password", secrets[1],
                              f"OPENAI_API_KEY={secrets[2]}",
                              f"https://me:{secrets[3]}@example.com/x")
        self.assertRan(p)
        text = "".join(self.lines(sid))
        for s in secrets:
            self.assertNotIn(s, text)
        argv = self.events(sid)[0]["argv"]
        self.assertIn("--token=[REDACTED]", argv)
        self.assertIn("https://me:[REDACTED]@example.com/x", argv)
        show = self.nono("audit", "show", sid)
        for s in secrets:
            self.assertNotIn(s, show.stdout)

    def test_log_is_out_of_the_sandbox_reach(self):
        _, first = self.run_one("/bin/true")
        log = os.path.join(self.audit_root(), first, "events.jsonl")
        p, _ = self.run_one("/bin/sh", "-c", f"""
            echo PAYLOAD-RAN
            cat {log} && echo READ-LOG
            echo forged >> {log} && echo WROTE-LOG
            ls {self.audit_root()} && echo LISTED
        """)
        self.assertRan(p)
        for marker in ("READ-LOG", "WROTE-LOG", "LISTED"):
            self.assertNotIn(marker, p.stdout)
        self.assertEqual(self.nono("audit", "verify", first).returncode, 0)

    def test_cleanup_keeps_the_newest(self):
        for _ in range(3):
            self.run_one("/bin/true")
        sessions = self.sessions()
        p = self.nono("audit", "cleanup", "--keep", "1")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("removed 2", p.stdout)
        self.assertEqual(self.sessions(), sessions[-1:])

    def test_bad_input(self):
        for argv, needle in ((["audit", "verify", "../../etc"], "not an audit session id"),
                             (["audit", "show", "1999"], "no audit session"),
                             (["audit", "frob"], "unknown subcommand"),
                             (["audit", "cleanup", "--keep", "x"], "not a number")):
            p = self.nono(*argv)
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertIn(needle, p.stderr)
            self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)


class WrapLog(AuditCase):
    """nono wrap has no supervisor: its log ends with the exec of the command."""

    FDS = ("import os\n"
           "print('PAYLOAD-RAN', os.getpid())\n"
           "for fd in os.listdir('/proc/self/fd'):\n"
           "    try: print('FD', fd, os.readlink('/proc/self/fd/' + fd))\n"
           "    except OSError: pass\n")

    def test_wrap_is_logged_without_an_end(self):
        p = self.nono("wrap", "--allow-cwd", "--", SYSTEM_PYTHON, "-c", self.FDS)
        self.assertRan(p)
        self.assertEqual(p.returncode, 0, p.stderr)
        (sid,) = self.sessions()
        ev = self.events(sid)
        self.assertEqual([e["type"] for e in ev], ["session.start", "plan", "exec"])
        self.assertEqual(ev[0]["mode"], "wrap")
        # The command is the process nono was: the pid nono logged.
        pid = int(p.stdout.split()[1])
        self.assertEqual((ev[0]["pid"], ev[2]["pid"]), (pid, pid))
        self.assertEqual(ev[2]["command"], SYSTEM_PYTHON)
        # The log's descriptors are closed at exec.
        fds = [l for l in p.stdout.splitlines() if l.startswith("FD ")]
        self.assertTrue(fds, p.stdout)
        for line in fds:
            self.assertNotIn(self.audit_root(), line)
        v = self.nono("audit", "verify", sid)
        self.assertEqual(v.returncode, 0, v.stderr)
        self.assertIn("intact, 3 events; no session.end: nono wrap exec'd the command and has "
                      "no supervisor to record how it ended", v.stdout)
        (entry,) = json.loads(self.nono("audit", "list", "--json").stdout)
        self.assertEqual((entry["mode"], entry["ended"], entry["exit_code"]),
                         ("wrap", False, None))
        lst = self.nono("audit", "list").stdout
        self.assertRegex(lst, sid + r" +wrap +" + SYSTEM_PYTHON)
        self.assertNotIn("exit", lst.splitlines()[0])
        self.assertIn("(wrap: no end recorded: nono wrap exec'd the command", lst)
        show = self.nono("audit", "show", sid).stdout
        self.assertIn(f"exec pid={pid}", show)
        self.assertIn("(no session.end: nono wrap exec'd the command", show)

    def test_exec_failure_is_the_end(self):
        script = os.path.join(self.out, "tool")
        self.write(script, "#!/bin/sh\necho PAYLOAD-RAN\n", mode=0o755)
        # nono exits inside its own sandbox, where LeakSanitizer cannot stop the world (no
        # ptrace): under ASan it runs without it.
        asan = os.environ.get("ASAN_OPTIONS")
        env = self.env(ASAN_OPTIONS=(asan + ":" if asan else "") + "detect_leaks=0")
        p = self.nono("wrap", "--allow-cwd", "--", script, env=env)
        self.assertNotIn("PAYLOAD-RAN", p.stdout)
        self.assertEqual(p.returncode, 127, p.stderr)
        (sid,) = self.sessions()
        ev = self.events(sid)
        self.assertEqual([e["type"] for e in ev], ["session.start", "plan", "exec", "session.end"])
        self.assertEqual(ev[-1]["exit_code"], 127)
        self.assertIn(f"cannot execute {script}", ev[-1]["error"])
        self.assertEqual(self.nono("audit", "verify", sid).returncode, 0)
        self.assertRegex(self.nono("audit", "list").stdout, sid + " +exit 127 ")

    def test_run_sessions_say_run(self):
        _, sid = self.run_one("/bin/true")
        self.assertEqual(self.events(sid)[0]["mode"], "run")
        (entry,) = json.loads(self.nono("audit", "list", "--json").stdout)
        self.assertEqual((entry["mode"], entry["exit_code"]), ("run", 0))


class SyslogMirror(AuditCase):
    """audit.syslog: nono run in a private /dev whose /dev/log is this test's socket
    (private_dev.py: a mount namespace, and a user namespace for the unprivileged
    variant; the machine's /dev is never touched)."""

    SECRETS = ("ghp_0123456789abcdefABCDEF", "hunter2-cli")

    def setUp(self):
        super().setUp()
        self.real_dev_log = os.path.lexists("/dev/log")
        self.sock_path = os.path.join(self.root, "log.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.sock_path)
        os.chmod(self.sock_path, 0o666)
        self.sock.settimeout(0.1)
        self.addCleanup(self.sock.close)
        self.received = []
        self.stop = threading.Event()
        # Read while nono runs: a full queue (net.unix.max_dgram_qlen) blocks syslog(3).
        reader = threading.Thread(target=self.read_datagrams, daemon=True)
        reader.start()
        self.addCleanup(reader.join, 5)
        self.addCleanup(self.stop.set)

    def tearDown(self):
        self.assertEqual(os.path.lexists("/dev/log"), self.real_dev_log)

    def read_datagrams(self):
        while not self.stop.is_set():
            try:
                self.received.append(self.sock.recv(1 << 20).decode())
            except socket.timeout:
                pass
            except OSError:
                return

    def run_with_conf(self, conf_text, *args, rc=3):
        """nono (run, unless args say otherwise) in the private /dev."""
        conf = os.path.join(self.root, "nono.conf")
        self.write(conf, conf_text)
        self.mkdir("scratch")
        self.give_to_test_user()
        args = args or ("run", "--allow-cwd", "--", "/bin/sh", "-c", "echo PAYLOAD-RAN; exit 3",
                        "sh", f"--token={self.SECRETS[0]}", "--password", self.SECRETS[1])
        p = subprocess.run(as_test_user([SYSTEM_PYTHON, PRIVATE_DEV, self.sock_path,
                                         os.path.join(self.root, "scratch"), "--",
                                         os.path.abspath(NONO), *args]),
                           cwd=self.ws, env=self.env(NONO_CONFIG=conf), capture_output=True,
                           text=True, timeout=120)
        if p.returncode == 77:
            self.skipTest(p.stderr.strip())
        self.assertRan(p)
        self.assertEqual(p.returncode, rc, p.stderr)
        # syslog(3) sends before nono exits; let the reader drain the queue.
        self.stop.wait(0.5)
        return p

    def mirrored(self):
        """(session id, event) of each datagram: "<pri>date nono[pid]: audit ID {...}"."""
        out = []
        for d in self.received:
            self.assertRegex(d, r"^<14>.* nono\[\d+\]: audit ")
            sid, line = d.split(": audit ", 1)[1].split(" ", 1)
            out.append((sid, line))
        return out

    def test_events_are_mirrored(self):
        self.run_with_conf("audit = { syslog = true; };\n")
        (sid,) = self.sessions()
        mirrored = self.mirrored()
        self.assertTrue(mirrored, "nothing arrived at /dev/log")
        self.assertEqual({m[0] for m in mirrored}, {sid})
        # Every line as the log holds it (and with it the hash chain).
        self.assertEqual([m[1] + "\n" for m in mirrored], self.lines(sid))
        events = [json.loads(m[1]) for m in mirrored]
        self.assertEqual([e["type"] for e in events], ["session.start", "plan", "session.end"])
        self.assertIn("--token=[REDACTED]", events[0]["argv"])
        self.assertEqual(events[-1]["exit_code"], 3)
        for secret in self.SECRETS:
            for d in self.received:
                self.assertNotIn(secret, d)

    def test_wrap_is_mirrored_and_its_socket_closed_at_exec(self):
        p = self.run_with_conf("audit = { syslog = true; };\n", "wrap", "--allow-cwd", "--",
                               SYSTEM_PYTHON, "-c", WrapLog.FDS, rc=0)
        (sid,) = self.sessions()
        self.assertEqual([m[1] + "\n" for m in self.mirrored()], self.lines(sid))
        self.assertEqual(json.loads(self.mirrored()[-1][1])["type"], "exec")
        fds = [l for l in p.stdout.splitlines() if l.startswith("FD ")]
        self.assertTrue(fds, p.stdout)
        for line in fds:
            self.assertNotIn("socket:", line)
            self.assertNotIn(self.audit_root(), line)

    def test_nothing_without_the_setting(self):
        self.run_with_conf("audit = { syslog = false; };\n")
        self.assertEqual(len(self.sessions()), 1)
        self.assertEqual(self.received, [])


class Retention(AuditCase):
    """nono.conf's keep_sessions and max_age_days, applied as sessions start."""

    def conf(self, text):
        path = os.path.join(self.root, "nono.conf")
        self.write(path, text)
        return self.env(NONO_CONFIG=path)

    def fake(self, sid, pid=None):
        """A session another nono left: ended, or (pid) still running."""
        event = ({"seq": 1, "type": "session.start", "pid": pid} if pid
                 else {"seq": 1, "type": "session.end", "exit_code": 0})
        self.write(os.path.join(self.audit_root(), sid, "events.jsonl"),
                   json.dumps(event) + "\n")
        return sid

    def run_true(self, env):
        p = self.nono("run", "--", "/bin/true", env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn("nono:", p.stderr)

    def test_keep_sessions(self):
        env = self.conf("audit = { keep_sessions = 2; max_age_days = 0; };\n")
        # The oldest is in progress: its supervisor (this test) is alive.
        running = self.fake("20200101T000000.000000Z-00000000", pid=os.getpid())
        old = [self.fake(f"20200101T000000.000000Z-0000000{i}") for i in range(1, 5)]
        self.run_true(env)
        (current,) = [s for s in self.sessions() if not s.startswith("2020")]
        self.assertEqual(self.sessions(), [running, old[-1], current])
        v = self.nono("audit", "verify", current)
        self.assertEqual(v.returncode, 0, v.stderr)
        self.assertIn("intact, 3 events", v.stdout)

    def test_max_age_days_at_most_once_a_day(self):
        env = self.conf("audit = { max_age_days = 30; };\n")
        first = self.fake("20200101T000000.000000Z-00000001")
        self.run_true(env)
        self.assertNotIn(first, self.sessions())
        # Pruned less than a day ago: the next run does not look again.
        second = self.fake("20200101T000000.000000Z-00000002")
        self.run_true(env)
        self.assertIn(second, self.sessions())
        stamp = os.path.join(self.audit_root(), ".retention")
        with open(stamp) as f:
            left, when = f.readline().split()
        with open(stamp, "w") as f:
            f.write(f"{left} {int(when) - 86400}\n")
        self.run_true(env)
        self.assertNotIn(second, self.sessions())
        self.assertEqual(len(self.sessions()), 3)

    def test_no_limits(self):
        env = self.conf("audit = { keep_sessions = 0; max_age_days = 0; };\n")
        old = self.fake("20200101T000000.000000Z-00000001")
        self.run_true(env)
        self.assertIn(old, self.sessions())
        self.assertFalse(os.path.exists(os.path.join(self.audit_root(), ".retention")))

    def test_bad_values_name_the_setting(self):
        for text, line in (("audit = { keep_sessions = -3; };\n", 1),
                           ("audit = {\n  max_age_days = \"30\"; };\n", 2)):
            env = self.conf(text)
            p = self.nono("run", "--", "/bin/sh", "-c", "echo PAYLOAD-RAN", env=env)
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertNotIn("PAYLOAD-RAN", p.stdout)
            self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
            name = "keep_sessions" if line == 1 else "max_age_days"
            self.assertIn(f"line {line}: audit.{name} must be a whole number >= 0 (0: no limit)",
                          p.stderr)


class Tampering(AuditCase):
    """Each edit is found, and the message names the first bad line."""

    def setUp(self):
        super().setUp()
        p, self.sid = self.run_one("/bin/sh", "-c", "echo PAYLOAD-RAN; exit 1")
        self.assertRan(p)
        self.orig = self.lines(self.sid)
        self.assertEqual(len(self.orig), 3)

    def assertBroken(self, needle):
        v = self.nono("audit", "verify", self.sid)
        self.assertEqual(v.returncode, 1, v.stdout)
        self.assertIn(needle, v.stderr)

    def test_edit(self):
        self.rewrite(self.sid, [self.orig[0].replace("/bin/sh", "/bin/ls")] + self.orig[1:])
        self.assertBroken("line 2: does not follow line 1")

    def test_edit_of_the_exit_code(self):
        self.rewrite(self.sid, self.orig[:2] + [self.orig[2].replace('"exit_code":1',
                                                                    '"exit_code":0')])
        self.assertBroken("line 3: the last line was edited")

    def test_deletion(self):
        self.rewrite(self.sid, [self.orig[0], self.orig[2]])
        self.assertBroken("line 2: sequence number 3")

    def test_reordering(self):
        self.rewrite(self.sid, [self.orig[0], self.orig[2], self.orig[1]])
        self.assertBroken("line 2: sequence number 3")

    def test_truncation(self):
        self.rewrite(self.sid, self.orig[:2])
        self.assertBroken("ends at line 2 but its head records 3")


class DenialReport(AuditCase):
    def test_footer_after_a_failed_run(self):
        p = self.sandboxed("echo PAYLOAD-RAN; exit 3")
        self.assertRan(p)
        self.assertIn("exited with status 3", p.stderr)
        self.assertIn("nono why", p.stderr)
        p = self.sandboxed("echo PAYLOAD-RAN; exit 3", "--no-diagnostics")
        self.assertRan(p)
        self.assertNotIn("nono why", p.stderr)
        p = self.sandboxed("echo PAYLOAD-RAN")
        self.assertRan(p)
        self.assertNotIn("nono:", p.stderr)

    def test_footer_as_json(self):
        p = self.sandboxed("echo PAYLOAD-RAN; exit 4", "--diagnostics-json")
        self.assertRan(p)
        report = json.loads(p.stderr.strip().splitlines()[-1])
        self.assertEqual(report["exit_code"], 4)
        self.assertEqual(report["denials"], [])
        self.assertIn("nono why", report["hint"])
        p = self.sandboxed("echo PAYLOAD-RAN", "--diagnostics-json")
        self.assertRan(p)
        report = json.loads(p.stderr.strip().splitlines()[-1])
        self.assertEqual((report["exit_code"], report["denied_total"]), (0, 0))

    def test_unix_socket_refusal_is_reported_exactly(self):
        path = os.path.join(self.out, "host.sock")
        srv = socket.socket(socket.AF_UNIX)
        srv.bind(path)
        srv.listen(1)
        self.addCleanup(srv.close)
        os.chmod(self.out, 0o777)
        os.chmod(path, 0o777)
        script = ("import socket, sys\n"
                  "print('PAYLOAD-RAN', flush=True)\n"
                  f"try: socket.socket(socket.AF_UNIX).connect({path!r})\n"
                  "except OSError: sys.exit(5)\n")
        p = self.nono("run", "--allow-cwd", "--diagnostics-json", "--", SYSTEM_PYTHON, "-c",
                      script)
        self.assertRan(p)
        self.assertEqual(p.returncode, 5, p.stderr)
        report = json.loads(p.stderr.strip().splitlines()[-1])
        (d,) = report["denials"]
        self.assertEqual((d["kind"], d["op"], d["target"]), ("unix-socket", "connect", path))
        self.assertEqual(d["allow_with"], f"--allow-unix-socket {path}")
        ev = self.events(self.sessions()[-1])
        denied = [e for e in ev if e["type"] == "denied"]
        self.assertEqual(denied[0]["target"], path)
        self.assertEqual(ev[-1]["denied_total"], 1)
        p = self.nono("run", "--allow-cwd", "--", SYSTEM_PYTHON, "-c", script)
        self.assertIn(f"refused connect to the Unix socket {path} (allow it with "
                      f"--allow-unix-socket {path})", p.stderr)


class SetupCheck(AuditCase):
    """nono setup --check-only: each line says what nono does without the feature."""

    def lines_of(self, p):
        return {l[8:33].strip(): (l[2:7].strip(), l[33:].strip())
                for l in p.stdout.splitlines()[1:]}

    def test_secret_service_audit_and_plugins(self):
        bus = os.path.join(self.root, "bus")
        srv = socket.socket(socket.AF_UNIX)
        srv.bind(bus)
        srv.listen(1)
        self.addCleanup(srv.close)
        os.chmod(bus, 0o777)
        p = self.nono("setup", "--check-only",
                      env=self.env(DBUS_SESSION_BUS_ADDRESS=f"unix:path={bus}"))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        got = self.lines_of(p)
        self.assertEqual(got["Secret Service"][0], "ok")
        self.assertEqual(got["audit log"], ("ok", "one directory per run in "
                                            + self.audit_root()))
        self.assertEqual(got["plugin directory"][0], "ok")
        self.assertIn("kernel audit", got)
        p = self.nono("setup", "--check-only")
        got = self.lines_of(p)
        self.assertEqual(got["Secret Service"][0], "no")
        self.assertIn("env://", got["Secret Service"][1])

    def test_empty_plugin_directory_fails(self):
        conf = os.path.join(self.root, "nono.conf")
        self.write(conf, f'plugin_dir = "{self.mkdir("plugins")}";\naudit = {{ enabled = false; }};\n')
        p = self.nono("setup", "--check-only", env=self.env(NONO_CONFIG=conf))
        self.assertEqual(p.returncode, 1, p.stdout)
        got = self.lines_of(p)
        self.assertEqual(got["enforcer"][0], "FAIL")
        self.assertEqual(got["audit log"][0], "off")


if __name__ == "__main__":
    main()
