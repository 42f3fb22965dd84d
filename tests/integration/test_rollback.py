"""nono run --rollback and nono rollback: snapshots of the workspace before and after a
command, and exact restores, judged by comparing the tree from outside.  Also the
reliability cases: kill -9 during a snapshot and a restore, a damaged object, a full
disk, concurrent runs, and a store the sandbox cannot write."""
import json
import os
import random
import re
import shutil
import signal
import subprocess
import time

from nonotest import NONO, TEST_UID, SandboxTestCase, as_test_user, main

# The payload of most tests: every kind of change a restore has to undo.
CHANGES = """
set -e
echo changed > notes.txt
chmod 700 run.sh
rm data/old.txt
echo new > created.txt
mkdir -p newdir/deep && echo x > newdir/deep/y
rmdir empty
rm link && ln -s data link
printf 'Z' | dd of=big.bin bs=1 seek=1500000 conv=notrunc 2>/dev/null
rm -r turns_file && echo now-a-file > turns_file
rm swap.txt && ln -s notes.txt swap.txt
echo PAYLOAD-RAN
"""


class RollbackCase(SandboxTestCase):
    def setUp(self):
        super().setUp()
        self.state = os.path.join(self.home, ".local", "state")

    def populate(self, ws=None):
        ws = ws or self.ws
        self.write(os.path.join(ws, "notes.txt"), "original\n", 0o640)
        self.write(os.path.join(ws, "run.sh"), "#!/bin/sh\necho hi\n", 0o755)
        self.write(os.path.join(ws, "data", "old.txt"), "old\n", 0o600)
        self.write(os.path.join(ws, "data", "keep.txt"), "keep\n")
        self.write(os.path.join(ws, "turns_file", "inner.txt"), "inner\n")
        self.write(os.path.join(ws, "swap.txt"), "swap\n")
        os.makedirs(os.path.join(ws, "empty"))
        os.symlink("notes.txt", os.path.join(ws, "link"))
        # Above the chunking threshold: stored as content-defined chunks.
        with open(os.path.join(ws, "big.bin"), "wb") as f:
            f.write(random.Random(1).randbytes(3 << 20))
        # Files written just before a snapshot are hashed again by the next one (they
        # are "racy"): wait past that window so that the stat-based reuse is exercised.
        time.sleep(0.15)

    def tree(self, ws=None):
        """path -> (type, mode, content or target): everything a restore must bring back."""
        ws = ws or self.ws
        out = {}
        for d, dirs, files in os.walk(ws):
            for name in dirs + files:
                p = os.path.join(d, name)
                st = os.lstat(p)
                rel = os.path.relpath(p, ws)
                if os.path.islink(p):
                    out[rel] = ("l", os.readlink(p))
                elif os.path.isdir(p):
                    out[rel] = ("d", st.st_mode & 0o7777)
                else:
                    with open(p, "rb") as f:
                        out[rel] = ("f", st.st_mode & 0o7777, f.read())
        return out

    def rollback(self, *args, **kw):
        return self.nono("rollback", *args, **kw)

    def sessions(self, **kw):
        p = self.rollback("list", "--json", **kw)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def run_with_rollback(self, script, *flags, **kw):
        p = self.sandboxed(script, "--rollback", "--no-rollback-prompt", *flags, **kw)
        self.assertRan(p)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p

    def answer_prompt(self, args, answer, timeout=60, **env):
        """Runs nono on a pseudo-terminal and types `answer` once it asks [y/N] (typed
        earlier, it would go to the command).  Returns (output, exit code)."""
        import pty
        import select
        self.give_to_test_user()
        pid, fd = pty.fork()
        if pid == 0:
            os.chdir(self.ws)
            argv = as_test_user([NONO, *args])
            os.execve(argv[0], argv, self.env(TERM="dumb", **env))
        out, answered = b"", False
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
            if not answered and b"[y/N]" in out:
                os.write(fd, answer)
                answered = True
        else:
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        os.close(fd)
        return out, os.waitstatus_to_exitcode(status)

    def last_session(self, **kw):
        s = self.sessions(**kw)
        self.assertTrue(s, "no session recorded")
        return s[-1]["id"]


class RunAndRestore(RollbackCase):
    def test_restore_is_exact(self):
        self.populate()
        before = self.tree()
        p = self.run_with_rollback(CHANGES)
        self.assertIn("created", p.stderr)
        self.assertIn("~ notes.txt", p.stderr)
        self.assertIn("- data/old.txt", p.stderr)
        self.assertIn("+ created.txt", p.stderr)
        after = self.tree()
        self.assertNotEqual(before, after)
        sid = self.last_session()
        r = self.rollback("restore", sid)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.tree(), before)
        # And forward again: snapshot 1 is what the command left.
        r = self.rollback("restore", sid, "--snapshot", "1")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.tree(), after)

    def test_summary_counts(self):
        self.populate()
        p = self.run_with_rollback("echo a > notes.txt; rm swap.txt; echo b > new.txt; "
                                   "echo PAYLOAD-RAN")
        self.assertRegex(p.stderr, r"rollback session [0-9a-f-]+: 1 created, 1 modified, "
                                   r"1 deleted")
        self.assertIn("nono rollback restore", p.stderr)

    def test_dry_run_changes_nothing(self):
        self.populate()
        self.run_with_rollback(CHANGES)
        after = self.tree()
        sid = self.last_session()
        r = self.rollback("restore", sid, "--dry-run")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("- created.txt", r.stdout)
        self.assertIn("+ data/old.txt", r.stdout)
        self.assertIn("~ notes.txt", r.stdout)
        self.assertIn("dry run", r.stdout)
        self.assertEqual(self.tree(), after)

    def test_list_show_json(self):
        self.populate()
        self.run_with_rollback(CHANGES)
        s = self.sessions()
        self.assertEqual(len(s), 1)
        self.assertEqual(s[0]["workspace"], self.ws)
        self.assertEqual(s[0]["snapshots"], 2)
        self.assertGreater(s[0]["time"], time.time() - 600)
        r = self.rollback("show", s[0]["id"], "--diff", "--json")
        self.assertEqual(r.returncode, 0, r.stderr)
        shown = json.loads(r.stdout)
        self.assertEqual([x["index"] for x in shown["snapshots"]], [0, 1])
        changes = {(c["change"], c["path"]) for c in shown["snapshots"][1]["changes"]}
        self.assertIn(("deleted", "data/old.txt"), changes)
        self.assertIn(("created", "created.txt"), changes)
        self.assertIn(("modified", "big.bin"), changes)
        self.assertEqual(len(shown["snapshots"][0]["merkle_root"]), 64)
        self.assertNotEqual(shown["snapshots"][0]["merkle_root"],
                            shown["snapshots"][1]["merkle_root"])
        text = self.rollback("show", s[0]["id"], "--diff")
        self.assertIn("- data/old.txt", text.stdout)

    def test_unknown_session_and_snapshot(self):
        self.populate()
        self.run_with_rollback("echo PAYLOAD-RAN")
        sid = self.last_session()
        for args, needle in ((("restore", "ffff-0000"), "no session"),
                             (("restore", "../x"), "not a session id"),
                             (("restore", sid, "--snapshot", "7"), "no snapshot 7"),
                             (("show",), "needs a session id"),
                             (("frobnicate",), "unknown rollback command")):
            r = self.rollback(*args)
            self.assertEqual(r.returncode, 1, args)
            self.assertIn(needle, r.stderr)
            self.assertNotIn("Traceback", r.stderr)

    def test_prompt_on_a_terminal_restores(self):
        self.populate()
        before = self.tree()
        out, code = self.answer_prompt(["run", "--allow-cwd", "--rollback", "--", "/bin/sh",
                                        "-c", "echo changed > notes.txt; echo new > n.txt"],
                                       b"y\n")
        self.assertEqual(code, 0, out)
        self.assertIn(b"[y/N]", out)
        self.assertEqual(self.tree(), before)

    def test_no_prompt_flag_on_a_terminal(self):
        self.populate()
        out, code = self.answer_prompt(["run", "--allow-cwd", "--rollback",
                                        "--no-rollback-prompt", "--", "/bin/sh", "-c",
                                        "echo changed > notes.txt"], b"y\n")
        self.assertEqual(code, 0, out)
        self.assertNotIn(b"[y/N]", out)
        with open(os.path.join(self.ws, "notes.txt")) as f:
            self.assertEqual(f.read(), "changed\n")

    def test_wrap_refuses_rollback(self):
        p = self.nono("wrap", "--rollback", "--", "/bin/true")
        self.assertEqual(p.returncode, 1)
        self.assertIn("--rollback needs nono run", p.stderr)


class Progress(RollbackCase):
    """The progress line of snapshots and restores: drawn in place on a terminal, erased
    before anything else is printed, never on a pipe, never with JSON on stderr.  The
    line waits 500 ms before it shows; NONO_PROGRESS_DELAY_MS=0 (a test knob) shows it
    on a tree small enough for a test."""

    LINE = re.compile(rb"\rnono: (snapshot|restore: scan|restore: verify|restore) "
                      rb"\d+(/\d+)? files( \(\d+%\))?\x1b\[K")

    def populate(self, ws=None):
        for d in range(10):
            for f in range(50):
                self.write(os.path.join(self.ws, "tree", f"d{d}", f"f{f}"), f"{d}/{f}\n")
        super().populate(ws)

    def assertErased(self, out):
        """Every line the terminal keeps is free of progress: each drawing is followed
        by its erasure before the line goes on."""
        for line in out.split(b"\n"):
            kept = line.rsplit(b"\r\x1b[K", 1)[-1]
            self.assertIsNone(self.LINE.search(kept), line)
            self.assertNotIn(b" files (", kept, line)

    def stages(self, out):
        return {m.group(1) for m in self.LINE.finditer(out)}

    def test_snapshots_and_restore_on_a_terminal(self):
        self.populate()
        before = self.tree()
        out, code = self.answer_prompt(
            ["run", "--allow-cwd", "--rollback", "--", "/bin/sh", "-c",
             "echo changed > notes.txt; rm -r tree/d3"],
            b"y\n", NONO_PROGRESS_DELAY_MS="0")
        self.assertEqual(code, 0, out)
        self.assertIn(b"[y/N]", out)
        self.assertEqual(self.tree(), before)
        # Counting (no total yet), then the files done of all of them.
        self.assertRegex(out, rb"\rnono: snapshot \d+ files\x1b\[K")
        self.assertRegex(out, rb"\rnono: snapshot \d+/50\d files \(\d+%\)\x1b\[K")
        self.assertEqual(self.stages(out),
                         {b"snapshot", b"restore: scan", b"restore: verify", b"restore"})
        self.assertErased(out)
        self.assertTrue(out.endswith(b"\r\n"), out[-200:])

    def test_rollback_restore_on_a_terminal(self):
        self.populate()
        self.run_with_rollback("rm -r tree; echo PAYLOAD-RAN")
        sid = self.last_session()
        out, code = self.answer_prompt(["rollback", "restore", sid], b"",
                                       NONO_PROGRESS_DELAY_MS="0")
        self.assertEqual(code, 0, out)
        self.assertRegex(out, rb"\rnono: restore \d+/5\d\d files \(\d+%\)\x1b\[K")
        self.assertErased(out)
        self.assertIn(b"restored snapshot 0", out)
        self.assertTrue(os.path.isfile(os.path.join(self.ws, "tree", "d9", "f49")))

    def test_none_on_a_pipe_or_with_json(self):
        self.populate()
        p = self.run_with_rollback("rm -r tree; echo PAYLOAD-RAN",
                                   env=self.env(NONO_PROGRESS_DELAY_MS="0"))
        self.assertNotIn("\r", p.stderr)
        self.assertNotIn(" files", p.stderr)
        r = self.rollback("restore", self.last_session(),
                          env=self.env(NONO_PROGRESS_DELAY_MS="0"))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("\r", r.stdout + r.stderr)
        # A terminal, but stderr carries the JSON report: no line drawn there.
        out, code = self.answer_prompt(
            ["run", "--allow-cwd", "--rollback", "--no-rollback-prompt", "--diagnostics-json",
             "--", "/bin/sh", "-c", "rm -r tree"], b"", NONO_PROGRESS_DELAY_MS="0")
        self.assertEqual(code, 0, out)
        self.assertNotIn(b"\rnono:", out)
        self.assertIn(b'"exit_code"', out)


class Exclusions(RollbackCase):
    def test_excluded_files_are_never_deleted(self):
        self.populate()
        self.write(os.path.join(self.ws, ".gitignore"), "build/\n*.log\n")
        self.write(os.path.join(self.ws, ".git", "HEAD"), "ref: refs/heads/main\n")
        before = self.tree()
        self.run_with_rollback(
            "mkdir -p build && echo o > build/out.o && echo l > run.log && "
            "echo c > cache.tmp && echo g > .git/NEW && echo n > plain.txt && echo PAYLOAD-RAN",
            "--rollback-exclude", "*.tmp")
        r = self.rollback("restore", self.last_session())
        self.assertEqual(r.returncode, 0, r.stderr)
        after = self.tree()
        for kept in ("build/out.o", "run.log", "cache.tmp", ".git/NEW"):
            self.assertIn(kept, after, f"restore deleted the excluded {kept}")
        self.assertNotIn("plain.txt", after)
        for path, value in before.items():
            self.assertEqual(after.get(path), value, path)


class Safety(RollbackCase):
    def test_restore_does_not_follow_a_planted_symlink(self):
        self.populate()
        # The command replaces a directory with a symlink to a place outside the
        # workspace: restoring data/old.txt must not write through it.
        self.run_with_rollback(f"rm -r data && ln -s {self.out} data && echo PAYLOAD-RAN")
        r = self.rollback("restore", self.last_session())
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertFalse(os.path.islink(os.path.join(self.ws, "data")))
        with open(os.path.join(self.ws, "data", "old.txt")) as f:
            self.assertEqual(f.read(), "old\n")
        self.assertEqual(sorted(os.listdir(self.out)), ["secret"])

    def test_store_is_not_writable_from_the_sandbox(self):
        self.populate()
        self.run_with_rollback("echo PAYLOAD-RAN")
        store = os.path.join(self.state, "nono", "store")
        self.assertTrue(os.path.exists(os.path.join(store, "data.mdb")))
        p = self.sandboxed(f"echo PAYLOAD-RAN; echo x >> {store}/data.mdb && echo WROTE; "
                           f"ls {store} && echo LISTED", "-a", self.state)
        self.assertRan(p)
        self.assertNotIn("WROTE", p.stdout)
        self.assertNotIn("LISTED", p.stdout)

    def test_configured_store_inside_the_workspace_is_protected(self):
        self.populate()
        store = os.path.join(self.ws, ".nono-store")
        conf = os.path.join(self.root, "nono.conf")
        self.write(conf, f'store = {{ path = "{store}"; }};\n')
        env = self.env(NONO_CONFIG=conf)
        p = self.sandboxed("echo PAYLOAD-RAN; echo x > .nono-store/data.mdb && echo WROTE",
                           "--rollback", "--no-rollback-prompt", env=env)
        self.assertRan(p)
        self.assertNotIn("WROTE", p.stdout)
        sid = self.last_session(env=env)
        r = self.rollback("verify", sid, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        # The store is not part of the snapshots of the workspace that holds it.
        r = self.rollback("show", sid, "--diff", "--json", env=env)
        self.assertNotIn(".nono-store", r.stdout)


class Integrity(RollbackCase):
    def test_verify_and_restore_refuse_a_damaged_object(self):
        self.populate()
        # Random bytes do not compress: stored as they are, so the test can find them in
        # the store's file and damage them.
        payload = random.Random(7).randbytes(6000)
        with open(os.path.join(self.ws, "victim.bin"), "wb") as f:
            f.write(payload)
        self.run_with_rollback("rm victim.bin && echo PAYLOAD-RAN")
        sid = self.last_session()
        self.assertEqual(self.rollback("verify", sid).returncode, 0)
        data = os.path.join(self.state, "nono", "store", "data.mdb")
        with open(data, "rb") as f:
            blob = bytearray(f.read())
        needle = payload[1000:1064]
        hits = 0
        at = blob.find(needle)
        while at >= 0:
            blob[at + 10] ^= 0xFF
            hits += 1
            at = blob.find(needle, at + 1)
        self.assertGreater(hits, 0, "object not found in the store file")
        with open(data, "r+b") as f:
            f.write(blob)
        r = self.rollback("verify", sid)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("damaged", r.stderr)
        self.assertIn("victim.bin", r.stderr)
        before = self.tree()
        r = self.rollback("restore", sid)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("restore refused", r.stderr)
        self.assertEqual(self.tree(), before, "a refused restore changed the tree")

    def test_cleanup_keeps_the_newest(self):
        self.populate()
        for i in range(3):
            self.run_with_rollback(f"echo {i} > notes.txt; echo PAYLOAD-RAN")
        ids = [s["id"] for s in self.sessions()]
        self.assertEqual(len(ids), 3)
        r = self.rollback("cleanup", "--keep", "1")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("removed 2 session(s)", r.stdout)
        self.assertEqual([s["id"] for s in self.sessions()], ids[-1:])
        self.assertEqual(self.rollback("verify", ids[-1]).returncode, 0)
        r = self.rollback("restore", ids[-1])
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(self.ws, "notes.txt")) as f:
            self.assertEqual(f.read(), "1\n")
        r = self.rollback("cleanup", "--older-than", "0", "--dry-run")
        self.assertIn("would remove 1 session(s)", r.stdout)
        self.assertEqual(len(self.sessions()), 1)


class Crashes(RollbackCase):
    """kill -9 at random points; every finished snapshot stays intact and restorable."""

    def grow(self, rng, n):
        """New content, so that each snapshot writes objects."""
        d = os.path.join(self.ws, "gen")
        os.makedirs(d, exist_ok=True)
        for i in range(n):
            with open(os.path.join(d, f"f{i}"), "wb") as f:
                f.write(rng.randbytes(rng.randrange(100, 40000)))
        with open(os.path.join(d, "big"), "wb") as f:
            f.write(rng.randbytes(4 << 20))

    def start(self, *args):
        self.give_to_test_user()
        return subprocess.Popen(as_test_user([NONO, *args]), cwd=self.ws, env=self.env(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def test_kill_during_snapshot_and_restore(self):
        rng = random.Random(3)
        self.populate()
        self.grow(rng, 200)
        self.run_with_rollback(CHANGES)
        good = self.last_session()
        expected = {}
        for n in (0, 1):
            self.assertEqual(self.rollback("restore", good, "--snapshot", str(n)).returncode, 0)
            expected[n] = self.tree()
        for i in range(6):
            self.grow(rng, 200)
            p = self.start("run", "--allow-cwd", "--rollback", "--no-rollback-prompt", "--",
                           "/bin/true")
            time.sleep(rng.uniform(0.0, 0.6))
            p.send_signal(signal.SIGKILL)
            p.wait()
            r = self.rollback("verify", good)
            self.assertEqual(r.returncode, 0, f"iteration {i}: {r.stderr}")
        for i in range(6):
            target = i % 2
            p = self.start("rollback", "restore", good, "--snapshot", str(target))
            time.sleep(rng.uniform(0.0, 0.3))
            p.send_signal(signal.SIGKILL)
            p.wait()
            r = self.rollback("restore", good, "--snapshot", str(target))
            self.assertEqual(r.returncode, 0, f"iteration {i}: {r.stderr}")
            self.assertEqual(self.tree(), expected[target], f"iteration {i}")
        self.assertEqual(self.rollback("verify", good).returncode, 0)
        # Whatever the killed runs left behind is garbage, collected without harm.
        r = self.rollback("cleanup", "--keep", "100")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.rollback("verify", good).returncode, 0)
        r = self.rollback("restore", good)
        self.assertEqual(self.tree(), expected[0])


class Concurrency(RollbackCase):
    def test_two_runs_snapshot_at_once(self):
        ws2 = self.mkdir("ws2")
        self.populate()
        self.populate(ws2)
        before = (self.tree(), self.tree(ws2))
        self.give_to_test_user()
        procs = [subprocess.Popen(
            as_test_user([NONO, "run", "--allow-cwd", "--rollback", "--no-rollback-prompt",
                          "--", "/bin/sh", "-c", CHANGES]),
            cwd=ws, env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for ws in (self.ws, ws2)]
        for p in procs:
            out, err = p.communicate(timeout=120)
            self.assertEqual(p.returncode, 0, err)
        sessions = {s["workspace"]: s["id"] for s in self.sessions()}
        self.assertEqual(set(sessions), {self.ws, ws2})
        for ws, tree in zip((self.ws, ws2), before):
            self.assertEqual(self.rollback("verify", sessions[ws]).returncode, 0)
            r = self.rollback("restore", sessions[ws])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(self.tree(ws), tree)


class FullDisk(RollbackCase):
    def setUp(self):
        super().setUp()
        if TEST_UID >= 0:
            self.skipTest("mounting a small tmpfs needs root (runs in the root variant)")
        self.store = self.mkdir("store")
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", self.store],
                       check=True)
        self.addCleanup(subprocess.run, ["umount", "-l", self.store], check=False)
        self.conf = os.path.join(self.root, "nono.conf")
        self.write(self.conf, f'store = {{ path = "{self.store}"; }};\n')

    def test_full_store_fails_cleanly_and_stays_usable(self):
        env = self.env(NONO_CONFIG=self.conf)
        self.write(os.path.join(self.ws, "small.txt"), "small\n")
        time.sleep(0.15)
        self.run_with_rollback("echo more >> small.txt; echo PAYLOAD-RAN", env=env)
        good = self.last_session(env=env)
        with open(os.path.join(self.ws, "huge.bin"), "wb") as f:
            f.write(random.Random(5).randbytes(6 << 20))
        p = self.sandboxed("echo PAYLOAD-RAN", "--rollback", "--no-rollback-prompt", env=env)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertNotIn("PAYLOAD-RAN", p.stdout, "the command ran without its baseline")
        self.assertRegex(p.stderr, r"(no space left|is full)")
        # One message (sanitizer builds may add their own warnings).
        self.assertEqual(len([ln for ln in p.stderr.splitlines() if ln.startswith("nono:")]), 1,
                         p.stderr)
        os.unlink(os.path.join(self.ws, "huge.bin"))
        r = self.rollback("verify", good, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.rollback("restore", good, env=env)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(self.ws, "small.txt")) as f:
            self.assertEqual(f.read(), "small\n")
        self.run_with_rollback("echo PAYLOAD-RAN", env=env)


if __name__ == "__main__":
    main()
