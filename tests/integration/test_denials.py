"""Landlock's own denials in the footer, read from the kernel's audit records.

nono reads them when it runs as root and kernel audit is on; nono never turns audit on.
These tests do, for their own duration only (AUDIT_SET over netlink), and put back the
state they found in a cleanup that runs also when a test fails, checking that it holds.
While audit is on, the test reads the records itself too, to tell what the kernel wrote
from what nono made of it.  Run by the unprivileged user, nono cannot read them: the
footer then falls back to naming `nono why`, and lists nothing it did not see.
"""
import ctypes
import fcntl
import json
import os
import select
import socket
import struct
import subprocess
import time

from nonotest import NONO, SYSTEM_PYTHON, TEST_UID, SandboxTestCase, main

NETLINK_AUDIT = 9
AUDIT_GET, AUDIT_SET = 1000, 1001
AUDIT_EVENT_LISTENER = 1335
LANDLOCK_ACCESS, LANDLOCK_DOMAIN = 1423, 1424
AUDIT_STATUS_ENABLED = 1
AUDIT_NLGRP_READLOG = 1
SOL_NETLINK, NETLINK_ADD_MEMBERSHIP = 270, 1
NLMSG_ERROR = 2
NLM_F_REQUEST, NLM_F_ACK = 1, 4
NONO_EXE = os.path.realpath(NONO)

# A process outside nono that sandboxes itself with Landlock and is refused a write, over
# and over, each time in a fresh domain (a forked child): its denials and its domains'
# records are in the same stream as nono's while nono runs.
FOREIGN_SANDBOX = r"""
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
target, stop = sys.argv[1], sys.argv[2]
handled = ctypes.c_uint64(1 << 1)  # LANDLOCK_ACCESS_FS_WRITE_FILE
first = True
while not os.path.exists(stop):
    pid = os.fork()
    if pid == 0:
        libc.prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS
        fd = libc.syscall(444, ctypes.byref(handled), 8, 0)
        if fd < 0 or libc.syscall(446, fd, 0) != 0:
            os._exit(3)
        try:
            open(target, "w")
        except PermissionError:
            os._exit(0)
        os._exit(4)
    _, status = os.waitpid(pid, 0)
    if status:
        sys.exit(f"foreign sandbox: child status {status}")
    if first:
        print("DENIED", flush=True)
        first = False
    time.sleep(0.02)
"""


def landlock_abi():
    libc = ctypes.CDLL(None, use_errno=True)
    return libc.syscall(444, None, 0, 1)


class KernelAudit:
    """AUDIT_GET and AUDIT_SET of the kernel's audit status (needs CAP_AUDIT_CONTROL)."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_AUDIT)
        self.sock.bind((0, 0))
        self.seq = 0

    def close(self):
        self.sock.close()

    def request(self, kind, payload=b""):
        self.seq += 1
        self.sock.send(struct.pack("=IHHII", 16 + len(payload), kind, NLM_F_REQUEST | NLM_F_ACK,
                                   self.seq, 0) + payload)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if not select.select([self.sock], [], [], 1)[0]:
                continue
            data = self.sock.recv(65536)
            _, typ, _, seq, _ = struct.unpack_from("=IHHII", data)
            if seq != self.seq:
                continue
            if typ == NLMSG_ERROR:
                (err,) = struct.unpack_from("=i", data, 16)
                if err:
                    raise OSError(-err, os.strerror(-err))
                if kind == AUDIT_SET:
                    return None
            elif typ == kind:
                return data[16:]
        raise TimeoutError("no answer from the kernel's audit")

    def enabled(self):
        return struct.unpack_from("=II", self.request(AUDIT_GET))[1]

    def set_enabled(self, value):
        self.request(AUDIT_SET, struct.pack("=9I", AUDIT_STATUS_ENABLED, value, *[0] * 7))


class AuditRecords:
    """The test's own reading of every audit record the kernel writes."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_AUDIT)
        self.sock.bind((0, 0))
        self.sock.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, AUDIT_NLGRP_READLOG)
        self.records = []

    def collect(self, quiet=0.3, at_most=3):
        """What arrives until nothing came for `quiet` seconds: the whole machine writes
        to this stream, so `at_most` seconds in all."""
        deadline = time.monotonic() + at_most
        while time.monotonic() < deadline and select.select([self.sock], [], [], quiet)[0]:
            data = self.sock.recv(65536)
            length, typ = struct.unpack_from("=IH", data)
            self.records.append((typ, data[16:length].decode(errors="replace")))
        return self.records

    def close(self):
        self.sock.close()


class DenialRecords(SandboxTestCase):
    """Turns kernel audit on for each test and restores what was there."""

    def setUp(self):
        super().setUp()
        if landlock_abi() < 7:
            self.skipTest("Landlock records denials from ABI 7 (Linux 6.15) on")
        # One test at a time on this machine changes audit, so that each puts back
        # what it found (another worktree may run this suite too).
        lock = os.open("/var/tmp", os.O_RDONLY | os.O_DIRECTORY)
        self.addCleanup(os.close, lock)
        fcntl.flock(lock, fcntl.LOCK_EX)
        self.addCleanup(fcntl.flock, lock, fcntl.LOCK_UN)
        self.audit = KernelAudit()
        self.addCleanup(self.audit.close)
        try:
            before = self.audit.enabled()
        except OSError as e:
            self.skipTest(f"kernel audit cannot be asked here: {e}")
        if before == 2:
            self.skipTest("kernel audit is locked (enabled=2)")
        self.addCleanup(self.restore, before)
        self.audit.set_enabled(1)
        self.records = AuditRecords()
        self.addCleanup(self.records.close)

    def restore(self, before):
        self.audit.set_enabled(before)
        self.assertEqual(self.audit.enabled(), before, "kernel audit was not put back")

    def access_records(self):
        return [text for typ, text in self.records.collect() if typ == LANDLOCK_ACCESS]

    def start_foreign_sandbox(self, target):
        stop = os.path.join(self.root, "stop-foreign")
        proc = subprocess.Popen([SYSTEM_PYTHON, "-c", FOREIGN_SANDBOX, target, stop],
                                stdout=subprocess.PIPE, text=True)

        def end():
            with open(stop, "w"):
                pass
            proc.wait(10)
            proc.stdout.close()
        self.addCleanup(end)
        # Denied once before nono starts; it goes on until the cleanup.
        self.assertEqual(proc.stdout.readline().strip(), "DENIED")
        return proc

    def no_mount_namespace(self):
        """nono.conf without the mount namespace: outside the grants a write then meets
        Landlock, not a read-only mount (EROFS, of which the kernel writes no record)."""
        conf = os.path.join(self.root, "nono.conf")
        self.write(conf, "plugins: { landlock: { mount_namespace = 0; }; };\n", 0o644)
        return self.env(NONO_CONFIG=conf)

    def report(self, p):
        return json.loads(p.stderr.strip().splitlines()[-1])

    def setup_check(self):
        """nono setup --check-only's line on Landlock audit records: (state, detail)."""
        p = self.nono("setup", "--check-only")
        for line in p.stdout.splitlines():
            if line[8:33].strip() == "Landlock audit records":
                return line[2:7].strip(), line[33:].strip()
        self.fail(p.stdout)


class AsRoot(DenialRecords):
    def setUp(self):
        if TEST_UID >= 0:
            self.skipTest("nono reads the records as root only (see Unprivileged)")
        super().setUp()

    def test_write_outside_the_grants_is_listed_with_its_flag(self):
        # A space in the name: the kernel hex-encodes it, nono decodes it.
        target = os.path.join(self.out, "probe file")
        foreign = os.path.join(self.out, "foreign-probe")
        marker = os.path.join(self.ws, "marker")
        for path in (target, foreign):
            self.write(path, "untouched\n")
        self.start_foreign_sandbox(foreign)
        # The command says nothing about the path: it swallows the error and exits 1.
        script = 'echo PAYLOAD-RAN; echo ran > marker; (echo x > "$1") 2>/dev/null; exit 1'
        env = self.no_mount_namespace()
        p = self.nono("run", "--allow-cwd", "--", "/bin/sh", "-c", script, "sh", target,
                      env=env)
        self.assertRan(p)
        self.assertTrue(os.path.exists(marker))
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertNotIn(target, p.stdout)
        with open(target) as f:
            self.assertEqual(f.read(), "untouched\n")
        self.assertIn(f"nono: the sandbox refused write access to {target} (fs.write_file; "
                      f"allow it with --allow {target})", p.stderr)
        self.assertNotIn(foreign, p.stderr)

        p = self.nono("run", "--allow-cwd", "--diagnostics-json", "--", "/bin/sh", "-c", script,
                      "sh", target, env=env)
        self.assertRan(p)
        report = self.report(p)
        self.assertTrue(report["landlock_audit"])
        mine = [d for d in report["denials"] if d["target"] == target]
        self.assertEqual(len(mine), 1, report)
        self.assertEqual((mine[0]["kind"], mine[0]["op"], mine[0]["allow_with"]),
                         ("file", "write", f"--allow {target}"))
        self.assertIn("fs.write_file", mine[0]["blockers"].split(","))
        self.assertNotIn(foreign, p.stderr)
        # The unrelated sandbox was refused while nono ran, in records nono read too.
        records = self.access_records()
        self.assertTrue(any(f'path="{foreign}"' in r for r in records), records[-5:])
        self.assertTrue(any(target.encode().hex().upper() in r for r in records), records[-5:])

    def test_read_and_tcp_connect_are_listed(self):
        secret = os.path.join(self.out, "secret")
        script = ("import socket, sys\n"
                  "print('PAYLOAD-RAN', flush=True)\n"
                  f"try: open({secret!r}).read()\n"
                  "except OSError: pass\n"
                  "try: socket.create_connection(('127.0.0.1', 9), timeout=5)\n"
                  "except OSError: sys.exit(2)\n")
        p = self.nono("run", "--allow-cwd", "--block-net", "--", SYSTEM_PYTHON, "-c", script)
        self.assertRan(p)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn(f"nono: the sandbox refused read access to {secret} (fs.read_file; "
                      f"allow it with --read {secret})", p.stderr)
        self.assertIn("nono: the sandbox refused connect to TCP 127.0.0.1:9 (net.connect_tcp; "
                      "allow it with --allow-connect-port 9)", p.stderr)
        # The same refusals after a command that exited 0 are no news.
        p = self.nono("run", "--allow-cwd", "--block-net", "--", SYSTEM_PYTHON, "-c",
                      script.replace("sys.exit(2)", "pass"))
        self.assertRan(p)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn("nono:", p.stderr)

    def test_no_diagnostics_does_not_subscribe(self):
        def subscribed():
            # The kernel writes a record of each subscription, naming the program.
            return [t for typ, t in self.records.collect()
                    if typ == AUDIT_EVENT_LISTENER and f'exe="{NONO_EXE}"' in t
                    and "op=connect" in t]

        p = self.sandboxed(f"echo PAYLOAD-RAN; cat {self.out}/secret; exit 1",
                           "--no-diagnostics")
        self.assertRan(p)
        self.assertNotIn("nono:", p.stderr)
        self.assertEqual(subscribed(), [])
        p = self.sandboxed(f"echo PAYLOAD-RAN; cat {self.out}/secret; exit 1")
        self.assertRan(p)
        self.assertIn("refused read access", p.stderr)
        self.assertEqual(len(subscribed()), 1)

    def test_setup_check_says_whether_records_are_readable(self):
        self.assertEqual(self.setup_check(),
                         ("ok", "readable: the footer after a failed run lists each file and "
                                "TCP denial with its flag"))
        self.audit.set_enabled(0)
        self.assertEqual(self.setup_check(),
                         ("no", "kernel audit is off (nono never turns it on): the footer "
                                "after a failed run lists only Unix-socket refusals and points "
                                "at nono why"))

    def test_audit_off_falls_back_and_says_why(self):
        self.audit.set_enabled(0)
        p = self.sandboxed(f"echo PAYLOAD-RAN; cat {self.out}/secret; exit 1", "-v")
        self.assertRan(p)
        self.assertIn("nono: the denial report cannot list file and TCP denials: kernel audit "
                      "is off", p.stderr)
        self.assertIn("exited with status 1", p.stderr)
        self.assertNotIn("refused read access", p.stderr)
        p = self.sandboxed("echo PAYLOAD-RAN; exit 1", "--diagnostics-json")
        self.assertFalse(self.report(p)["landlock_audit"])


class Unprivileged(DenialRecords):
    def setUp(self):
        if TEST_UID < 0:
            self.skipTest("the unprivileged variant of this suite covers it")
        super().setUp()

    def test_footer_falls_back_without_false_entries(self):
        secret = os.path.join(self.out, "secret")
        p = self.sandboxed(f"echo PAYLOAD-RAN; cat {secret} 2>/dev/null; exit 1", "-v")
        self.assertRan(p)
        self.assertIn("nono: the denial report cannot list file and TCP denials: reading "
                      "kernel audit records needs root", p.stderr)
        self.assertIn("nono: the command exited with status 1; if the sandbox refused "
                      "something it needed, `nono why", p.stderr)
        self.assertNotIn("refused read access", p.stderr)
        p = self.sandboxed(f"echo PAYLOAD-RAN; cat {secret} 2>/dev/null; exit 1",
                           "--diagnostics-json")
        self.assertRan(p)
        report = self.report(p)
        self.assertEqual((report["denials"], report["landlock_audit"]), ([], False))
        self.assertNotIn("OUT-SECRET", p.stdout)
        state, detail = self.setup_check()
        self.assertEqual(state, "no")
        self.assertTrue(detail.startswith("reading kernel audit records needs root"), detail)
        self.assertTrue(detail.endswith("lists only Unix-socket refusals and points at nono why"),
                        detail)


if __name__ == "__main__":
    main()
