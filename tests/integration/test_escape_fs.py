"""Attack catalogue, group A (filesystem reach), against the real nono binary.

Each payload first prints PAYLOAD-RAN, so a sandbox that failed to start can never
look like a pass; the effect is then checked from outside the sandbox.  Cases that
belong to the hardening issue (mount namespace, capabilities, persistence paths) are
skipped with that reason rather than asserted.
"""
import json
import os
import shutil
import subprocess
import tempfile
import textwrap
import time
import uuid

from nonotest import NONO, SYSTEM_PYTHON, TEST_UID, SandboxTestCase, as_test_user, main

HARDENING = "needs the Linux hardening layer (issue 3)"


class FilesystemEscapes(SandboxTestCase):
    def setUp(self):
        super().setUp()
        self.ro = self.mkdir("ro")
        self.write(os.path.join(self.ro, "f"), "RO-CONTENT\n")
        self.mkdir("ro", "d")
        self.ro_flags = ("--read", self.ro)

    def run_payload(self, script, *flags, **kw):
        return self.sandboxed("echo PAYLOAD-RAN; " + script, *flags, **kw)

    def py_payload(self, code, *flags, **kw):
        prog = "print('PAYLOAD-RAN', flush=True)\n" + code
        return self.nono("run", "--allow-cwd", *flags, "--", SYSTEM_PYTHON, "-c", prog, **kw)

    def test_a01_read_outside(self):
        p = self.run_payload(f"cat {self.out}/secret")
        self.assertRan(p)
        self.assertNotIn("OUT-SECRET", p.stdout)
        self.assertIn("Permission denied", p.stderr)

    def test_a02_write_outside(self):
        p = self.run_payload(f"echo x > {self.out}/new; echo rc=$?")
        self.assertRan(p)
        self.assertFalse(os.path.exists(os.path.join(self.out, "new")))

    def test_a03_system_dirs(self):
        probe = f"nono-probe-{uuid.uuid4().hex}"
        targets = [f"/usr/bin/{probe}", f"/etc/{probe}", f"/lib/{probe}"]
        for t in targets:
            self.addCleanup(lambda t=t: os.path.exists(t) and os.unlink(t))
        p = self.run_payload(" ; ".join(f"touch {t}" for t in targets)
                             + "; head -c1 /etc/hosts >/dev/null && ls /usr/bin >/dev/null"
                             + " && echo SYSTEM-READABLE")
        self.assertRan(p)
        self.assertIn("SYSTEM-READABLE", p.stdout)
        for t in targets:
            self.assertFalse(os.path.exists(t), t)

    def test_a04_symlink_read(self):
        p = self.run_payload(f"ln -s {self.out}/secret l && cat l")
        self.assertRan(p)
        self.assertTrue(os.path.islink(os.path.join(self.ws, "l")))
        self.assertNotIn("OUT-SECRET", p.stdout)

    def test_a05_symlink_write(self):
        p = self.run_payload(f"ln -s {self.out}/new l && echo x > l")
        self.assertRan(p)
        self.assertTrue(os.path.islink(os.path.join(self.ws, "l")))
        self.assertFalse(os.path.exists(os.path.join(self.out, "new")))

    def test_a06_symlink_chain(self):
        p = self.run_payload(f"ln -s {self.out}/secret b && ln -s b a && cat a; "
                             "echo inside > real && ln -s real c2 && ln -s c2 c1 && cat c1")
        self.assertRan(p)
        self.assertNotIn("OUT-SECRET", p.stdout)
        self.assertIn("inside", p.stdout)

    def test_a07_magic_links(self):
        p = self.run_payload(f"cat /proc/self/root{self.out}/secret; "
                             "cat /proc/self/cwd/../out/secret; "
                             f"sh -c 'cat /proc/$$/root{self.out}/secret'")
        self.assertRan(p)
        self.assertNotIn("OUT-SECRET", p.stdout)

    def test_a08_hardlink_in(self):
        p = self.run_payload(f"ln {self.out}/secret h; cat h")
        self.assertRan(p)
        self.assertFalse(os.path.exists(os.path.join(self.ws, "h")))
        self.assertNotIn("OUT-SECRET", p.stdout)

    def test_a09_hardlink_out(self):
        self.write(os.path.join(self.ws, "f"), "WS\n")
        p = self.run_payload(f"ln f {self.ro}/f2; ln f {self.out}/f2", *self.ro_flags)
        self.assertRan(p)
        self.assertFalse(os.path.exists(os.path.join(self.ro, "f2")))
        self.assertFalse(os.path.exists(os.path.join(self.out, "f2")))

    def test_a10_existing_hardlink_warned(self):
        # Made before the session: a second name for OUT/secret inside the workspace.
        os.makedirs(os.path.join(self.ws, "sub"))
        os.link(os.path.join(self.out, "secret"), os.path.join(self.ws, "sub", "h"))
        git_objects = self.mkdir("ws", ".git", "objects", "ab")
        os.link(os.path.join(self.out, "secret"), os.path.join(git_objects, "cd"))
        p = self.run_payload("cat sub/h", "--check-hardlinks")
        self.assertRan(p)
        # Landlock checks the path: the write goes through, which is why nono warns.
        self.assertIn("OUT-SECRET", p.stdout)
        self.assertIn("1 file in the workspace has other hard links (sub/h)", p.stderr)
        self.assertNotIn(".git", p.stderr)
        # Opt-in: without the flag nothing is scanned.
        p = self.run_payload("true")
        self.assertRan(p)
        self.assertNotIn("hard link", p.stderr)

    def test_a11_rename_to_gain_rights(self):
        self.write(os.path.join(self.ws, "g"), "WS\n")
        ro_inode = os.stat(os.path.join(self.ro, "f")).st_ino
        p = self.run_payload(f"mv {self.ro}/f ./f; mv g {self.out}/", *self.ro_flags)
        self.assertRan(p)
        # The read-only file stays where it was; at most mv made a copy (reading RO and
        # writing WS are both allowed), which is another file, not RO's file with WS rights.
        self.assertEqual(os.stat(os.path.join(self.ro, "f")).st_ino, ro_inode)
        moved = os.path.join(self.ws, "f")
        if os.path.exists(moved):
            self.assertNotEqual(os.stat(moved).st_ino, ro_inode)
        self.assertFalse(os.path.exists(os.path.join(self.out, "g")))

    def test_a12_rename_exchange(self):
        self.write(os.path.join(self.ws, "w"), "WS\n")
        code = f"""
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD, RENAME_EXCHANGE = -100, 2
for a, b in (("w", "{self.ro}/f"), ("w", "{self.out}/secret")):
    r = libc.renameat2(AT_FDCWD, a.encode(), AT_FDCWD, b.encode(), RENAME_EXCHANGE)
    print("exchange", b, r, os.strerror(ctypes.get_errno()))
"""
        p = self.py_payload(code, *self.ro_flags)
        self.assertRan(p)
        with open(os.path.join(self.ro, "f")) as f:
            self.assertEqual(f.read(), "RO-CONTENT\n")
        with open(os.path.join(self.out, "secret")) as f:
            self.assertEqual(f.read(), "OUT-SECRET\n")

    def make_repo_with_hooks(self):
        hook = os.path.join(self.ws, ".git", "hooks", "pre-commit")
        self.write(hook, "#!/bin/sh\nexit 0\n", mode=0o755)
        self.write(os.path.join(self.ws, ".git", "config"), "[core]\n")
        self.mkdir("ws", ".git", "objects")
        return hook

    def test_a13_protected_subpath_rename(self):
        hook = self.make_repo_with_hooks()
        p = self.run_payload("mv .git g2 && echo evil > g2/hooks/pre-commit; rm -rf .git; "
                             "ls .git/hooks")
        self.assertRan(p)
        with open(hook) as f:
            self.assertEqual(f.read(), "#!/bin/sh\nexit 0\n")
        self.assertFalse(os.path.exists(os.path.join(self.ws, "g2")))

    def test_a14_truncate_readonly(self):
        p = self.run_payload(f"truncate -s0 {self.ro}/f; : > {self.ro}/f", *self.ro_flags)
        self.assertRan(p)
        with open(os.path.join(self.ro, "f")) as f:
            self.assertEqual(f.read(), "RO-CONTENT\n")

    def test_a15_open_for_write_readonly(self):
        code = f"""
import os
for flags in (os.O_WRONLY, os.O_RDWR, os.O_WRONLY | os.O_TRUNC):
    try:
        fd = os.open("{self.ro}/f", flags)
        os.ftruncate(fd, 0)
        print("OPENED")
    except OSError as e:
        print("denied", e.errno)
"""
        p = self.py_payload(code, *self.ro_flags)
        self.assertRan(p)
        self.assertNotIn("OPENED", p.stdout)
        with open(os.path.join(self.ro, "f")) as f:
            self.assertEqual(f.read(), "RO-CONTENT\n")

    def test_a16_delete_under_readonly(self):
        self.write(os.path.join(self.ws, "gone"), "x")
        p = self.run_payload(f"rm -f {self.ro}/f; rmdir {self.ro}/d; rm gone", *self.ro_flags)
        self.assertRan(p)
        self.assertTrue(os.path.exists(os.path.join(self.ro, "f")))
        self.assertTrue(os.path.isdir(os.path.join(self.ro, "d")))
        self.assertFalse(os.path.exists(os.path.join(self.ws, "gone")))

    def test_a17_device_nodes(self):
        p = self.run_payload("mknod n c 1 3; mknod b b 8 0")
        self.assertRan(p)
        self.assertFalse(os.path.exists(os.path.join(self.ws, "n")))
        self.assertFalse(os.path.exists(os.path.join(self.ws, "b")))

    def test_a18_special_files_in_workspace(self):
        code = """
import os, socket
os.mkfifo("fifo"); os.symlink("fifo", "sym"); os.mkdir("dir")
s = socket.socket(socket.AF_UNIX); s.bind("sock"); print("MADE")
"""
        p = self.py_payload(code)
        self.assertRan(p)
        self.assertIn("MADE", p.stdout, p.stderr)
        for name in ("fifo", "sym", "dir", "sock"):
            self.assertTrue(os.path.lexists(os.path.join(self.ws, name)), name)

    def test_a19_exec_without_execute_right(self):
        wo = self.mkdir("writeonly")
        p = self.run_payload(f"cp /bin/true {wo}/t; {wo}/t && echo EXECUTED", "--write", wo)
        self.assertRan(p)
        self.assertTrue(os.path.exists(os.path.join(wo, "t")))
        self.assertNotIn("EXECUTED", p.stdout)

    def test_a20_exec_via_loader(self):
        # Known Landlock limit on readable dirs (docs/landlock.md); on a dir without
        # the read right the loader cannot map the file either.
        wo = self.mkdir("writeonly")
        loader = "/lib64/ld-linux-x86-64.so.2"
        if not os.path.exists(loader):
            self.skipTest("no x86-64 loader")
        p = self.run_payload(f"cp /bin/true {wo}/t; {loader} {wo}/t && echo EXECUTED",
                             "--write", wo)
        self.assertRan(p)
        self.assertNotIn("EXECUTED", p.stdout)

    def test_a21_setuid_copy(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to make a setuid-root copy")
        os.chmod(self.root, 0o755)
        os.chmod(self.ws, 0o777)
        idcopy = os.path.join(self.ws, "id")
        subprocess.run(["cp", "/usr/bin/id", idcopy], check=True)
        os.chmod(idcopy, 0o4755)
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
               "env", f"HOME={self.home}", "NONO_CONFIG=/dev/null",
               NONO, "run", "--allow-cwd", "--", "/bin/sh", "-c", "echo PAYLOAD-RAN; ./id -u"]
        p = subprocess.run(cmd, cwd=self.ws, capture_output=True, text=True, timeout=60)
        self.assertRan(p)
        self.assertIn("65534", p.stdout)
        self.assertNotRegex(p.stdout, r"(?m)^0$")

    def test_a22_no_new_privs(self):
        p = self.run_payload("grep NoNewPrivs /proc/self/status")
        self.assertRan(p)
        self.assertRegex(p.stdout, r"NoNewPrivs:\s+1")

    def test_a24_leaked_directory_fd(self):
        fd = os.open(self.out, os.O_RDONLY | os.O_DIRECTORY)
        os.set_inheritable(fd, True)
        self.addCleanup(os.close, fd)
        code = f"""
import os
try:
    print(open(os.open("secret", os.O_RDONLY, dir_fd={fd})).read())
except OSError as e:
    print("denied", e.errno)
"""
        prog = "print('PAYLOAD-RAN', flush=True)\n" + code
        p = self.nono("run", "--allow-cwd", "--", SYSTEM_PYTHON, "-c", prog, timeout=60,
                      pass_fds=(fd,))
        self.assertRan(p)
        self.assertNotIn("OUT-SECRET", p.stdout)

    def test_a25_reopen_through_proc_fd(self):
        with open(os.path.join(self.out, "secret")) as stdin:
            p = self.nono("run", "--allow-cwd", "--", "/bin/sh", "-c",
                          "echo PAYLOAD-RAN; echo PWNED > /proc/self/fd/0", stdin=stdin)
        self.assertRan(p)
        with open(os.path.join(self.out, "secret")) as f:
            self.assertEqual(f.read(), "OUT-SECRET\n")

    def protected_paths_under_home(self):
        p = self.nono("profile", "show", "default", "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        return [d["path"] for d in json.loads(p.stdout)["protected"]
                if d["path"].startswith(self.home + "/")]

    def run_with_home_granted(self, script):
        """Creates every protected path under HOME (a missing one cannot be masked),
        then runs `script` with HOME granted.  None when nono refused the grant (no
        mount namespace here), after checking the refusal names ~/.ssh."""
        for path in self.protected_paths_under_home():
            if not os.path.lexists(path):
                os.makedirs(path, exist_ok=True)
        p = self.nono("run", "--allow", self.home, "--", "/bin/sh", "-c",
                      "echo PAYLOAD-RAN; " + script)
        if p.returncode == 1 and "PAYLOAD-RAN" not in p.stdout:
            self.assertIn(".ssh", p.stderr)
            return None
        self.assertRan(p)
        return p

    def test_a26_sensitive_files(self):
        # Not granted: unreadable.
        p = self.run_payload("cat ~/.ssh/id_rsa ~/.aws/credentials")
        self.assertRan(p)
        self.assertNotIn("FAKE", p.stdout)
        # Granting a directory that contains them: either masked (mount namespace) or
        # refused naming both paths; never exposed.  A protected path that does not
        # exist cannot be masked, so the grant is refused while any is missing.
        p = self.nono("run", "--allow", self.home, "--", "/bin/true")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn(self.home, p.stderr)
        p = self.run_with_home_granted("cat ~/.ssh/id_rsa ~/.aws/credentials; "
                                       "echo planted > ~/.ssh/authorized_keys; "
                                       "echo ok > ~/work-file")
        if p is None:
            return
        self.assertNotIn("FAKE", p.stdout)
        self.assertFalse(os.path.exists(os.path.join(self.home, ".ssh", "authorized_keys")))
        self.assertTrue(os.path.exists(os.path.join(self.home, "work-file")))

    def test_a26_symlinked_protected_paths(self):
        # A dotfile manager's layout: ~/.ssh is a link into ~/dotfiles.
        dot = self.mkdir("home", "dotfiles", "ssh")
        os.rename(os.path.join(self.home, ".ssh", "id_rsa"), os.path.join(dot, "id_rsa"))
        os.rmdir(os.path.join(self.home, ".ssh"))
        os.symlink("dotfiles/ssh", os.path.join(self.home, ".ssh"))
        p = self.run_with_home_granted("cat ~/.ssh/id_rsa ~/dotfiles/ssh/id_rsa; "
                                       "rm ~/.ssh; mkdir ~/.ssh; echo 'Host *' > ~/.ssh/config")
        if p is None:
            return
        self.assertNotIn("FAKE-SSH-KEY", p.stdout)
        self.assertTrue(os.path.islink(os.path.join(self.home, ".ssh")))
        # A dangling link protects where it leads: that target could be created.
        os.symlink("dotfiles/aws", os.path.join(self.home, ".awsx"))
        prof = os.path.join(self.root, "p.json")
        self.write(prof, '{"filesystem": {"deny": ["~/.awsx"]}}')
        p = self.nono("run", "--profile", prof, "--allow", self.home, "--", "/bin/sh", "-c",
                      "echo PAYLOAD-RAN; mkdir -p ~/dotfiles/aws && echo x > ~/dotfiles/aws/config")
        self.assertFalse(os.path.exists(os.path.join(self.home, "dotfiles", "aws")))
        if "PAYLOAD-RAN" not in p.stdout:
            self.assertIn(os.path.join(self.home, "dotfiles", "aws"), p.stderr)

    def test_a27_prefix_collision(self):
        self.mkdir("home", ".sshfoo")
        p = self.run_payload("cat ~/.ssh/id_rsa; ls ~/.sshfoo && echo SSHFOO-OK",
                             "--allow", os.path.join(self.home, ".sshfoo"))
        self.assertRan(p)
        self.assertIn("SSHFOO-OK", p.stdout)
        self.assertNotIn("FAKE-SSH-KEY", p.stdout)

    def test_a28_deny_inside_allow_fails_closed(self):
        prof = os.path.join(self.root, "p.json")
        self.write(prof, '{"filesystem": {"allow": ["$WORKDIR"], "deny": ["$WORKDIR/.env"]}}')
        p = self.nono("run", "--profile", prof, "--", "/bin/sh", "-c", "echo PAYLOAD-RAN")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertNotIn("PAYLOAD-RAN", p.stdout)
        self.assertIn(".env", p.stderr)

    def test_a29_persistence_paths(self):
        hook = self.make_repo_with_hooks()
        names = [".bashrc", ".profile", ".envrc", ".gitmodules", ".mcp.json"]
        for name in names:
            self.write(os.path.join(self.ws, name), "ORIGINAL\n")
        self.write(os.path.join(self.ws, ".vscode", "settings.json"), "ORIGINAL\n")
        targets = names + [".vscode/settings.json", ".git/config", ".git/hooks/pre-commit",
                           ".vscode/tasks.json", ".git/hooks/post-checkout"]
        script = "; ".join(f"echo EVIL >> {t}" for t in targets)
        p = self.run_payload(script + "; echo ok > .git/objects/obj && echo OBJ-WRITTEN; "
                             "echo ok > ordinary.txt && echo ORDINARY-WRITTEN")
        self.assertRan(p)
        self.assertIn("OBJ-WRITTEN", p.stdout)
        self.assertIn("ORDINARY-WRITTEN", p.stdout)
        for name in names + [".vscode/settings.json"]:
            with open(os.path.join(self.ws, name)) as f:
                self.assertEqual(f.read(), "ORIGINAL\n", name)
        with open(hook) as f:
            self.assertNotIn("EVIL", f.read())
        for name in (".vscode/tasks.json", ".git/hooks/post-checkout"):
            self.assertFalse(os.path.exists(os.path.join(self.ws, name)), name)
        # --allow-persistence lifts one path, and only that one.
        p = self.run_payload("echo LIFTED >> .envrc; echo EVIL >> .bashrc",
                             "--allow-persistence", os.path.join(self.ws, ".envrc"))
        self.assertRan(p)
        with open(os.path.join(self.ws, ".envrc")) as f:
            self.assertIn("LIFTED", f.read())
        with open(os.path.join(self.ws, ".bashrc")) as f:
            self.assertEqual(f.read(), "ORIGINAL\n")

    def test_a30_a31_missing_persistence_paths_are_moved_aside(self):
        # Nothing exists to mount over: nono watches for them and renames what the
        # sandbox creates to NAME.nono-blocked-TAG, while the command still runs.
        self.mkdir("ws", ".git", "objects")
        self.mkdir("ws", "decoy")
        p = self.run_payload("mkdir -p .git/hooks; echo ../evil > .git/commondir; "
                             "echo {} > .mcp.json; ln -s decoy .codex; "
                             "mkdir staged && echo {} > staged/tasks.json && mv staged .vscode; "
                             "mkdir -p .claude && echo {} > .claude/settings.json; "
                             "echo ok > ordinary.txt; "
                             # The live watch: gone while the command still runs.
                             "for i in $(seq 50); do [ -e .mcp.json ] || break; sleep 0.1; done; "
                             "[ -e .mcp.json ] || echo MCP-GONE-WHILE-RUNNING")
        self.assertRan(p)
        self.assertIn("MCP-GONE-WHILE-RUNNING", p.stdout, p.stderr)
        self.assertTrue(os.path.exists(os.path.join(self.ws, "ordinary.txt")))
        moved = [".git/hooks", ".git/commondir", ".mcp.json", ".codex", ".vscode",
                 ".claude/settings.json"]
        for name in moved:
            path = os.path.join(self.ws, name)
            self.assertFalse(os.path.lexists(path), name)
            aside = [f for f in os.listdir(os.path.dirname(path))
                     if f.startswith(os.path.basename(path) + ".nono-blocked-")]
            self.assertEqual(len(aside), 1, (name, os.listdir(os.path.dirname(path))))
            self.assertIn(path, p.stderr)
        self.assertEqual(p.stderr.count("the sandbox created"), len(moved), p.stderr)
        # Nothing lost: the content is there, under the new name.
        vscode = [f for f in os.listdir(self.ws) if f.startswith(".vscode.nono-blocked-")][0]
        with open(os.path.join(self.ws, vscode, "tasks.json")) as f:
            self.assertEqual(f.read(), "{}\n")
        # The audit log names each one.
        p = self.nono("audit", "show", "last", "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout.count("persistence.blocked"), len(moved), p.stdout)

    def test_a30_missing_git_redirected_by_symlink_or_gitdir_file(self):
        # No .git at the start: a .git that is a symlink, or a `gitdir:` file, would
        # lead a later git to hooks the sandbox wrote.  Either is moved aside.
        self.mkdir("ws", "elsewhere", "hooks")
        p = self.run_payload("ln -s elsewhere .git")
        self.assertRan(p)
        self.assertFalse(os.path.lexists(os.path.join(self.ws, ".git")), p.stderr)
        p = self.run_payload("echo 'gitdir: elsewhere' > .git")
        self.assertRan(p)
        self.assertFalse(os.path.lexists(os.path.join(self.ws, ".git")), p.stderr)
        self.assertIn(os.path.join(self.ws, ".git"), p.stderr)
        # A real repository made inside is kept; only what runs code is moved aside.
        p = self.run_payload("git init -q . && echo x > f && git add f && "
                             "git -c user.name=a -c user.email=b commit -qm m && echo COMMITTED")
        self.assertRan(p)
        self.assertIn("COMMITTED", p.stdout, p.stderr)
        self.assertTrue(os.path.isdir(os.path.join(self.ws, ".git", "objects")))
        self.assertFalse(os.path.exists(os.path.join(self.ws, ".git", "hooks")))
        self.assertFalse(os.path.exists(os.path.join(self.ws, ".git", "config")))

    def test_a30_allow_persistence_lifts_a_missing_path(self):
        p = self.run_payload("echo mine > .envrc; echo x > .mcp.json",
                             "--allow-persistence", os.path.join(self.ws, ".envrc"))
        self.assertRan(p)
        with open(os.path.join(self.ws, ".envrc")) as f:
            self.assertEqual(f.read(), "mine\n")
        self.assertFalse(os.path.exists(os.path.join(self.ws, ".mcp.json")))

    def test_a32_symlink_planted_by_earlier_session(self):
        agent = os.path.join(self.root, "agent")
        os.symlink("/", agent)
        p = self.nono("run", "--allow", agent, "--", "/bin/sh", "-c", "echo PAYLOAD-RAN")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertNotIn("PAYLOAD-RAN", p.stdout)
        self.assertIn("symlink", p.stderr)

    def test_a33_nono_own_config(self):
        cfg = self.mkdir("home", ".config", "nono")
        self.write(os.path.join(cfg, "nono.conf"), "# mine\n")
        p = self.nono("run", "--allow", os.path.join(self.home, ".config"), "--", "/bin/true")
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("nono", p.stderr)
        p = self.run_payload(f"echo x >> {cfg}/nono.conf")
        self.assertRan(p)
        with open(os.path.join(cfg, "nono.conf")) as f:
            self.assertEqual(f.read(), "# mine\n")

    def tmp_workspace(self):
        """A workspace under the host's /tmp (the case A35 must keep working), removed
        afterwards; the test user owns it."""
        ws = os.path.realpath(tempfile.mkdtemp(prefix="nono-it-a35-", dir="/tmp"))
        self.addCleanup(shutil.rmtree, ws, ignore_errors=True)
        if TEST_UID >= 0:
            os.chown(ws, TEST_UID, TEST_UID)
        return ws

    def host_probe(self, directory):
        """A unique name in a host directory, removed afterwards."""
        path = os.path.join(directory, f"nono-a35-{uuid.uuid4().hex}")
        self.addCleanup(lambda: os.path.exists(path) and os.unlink(path))
        return path

    def test_a35_private_tmp_and_shm(self):
        in_tmp, in_shm = self.host_probe("/tmp"), self.host_probe("/dev/shm")
        host_file = self.host_probe("/tmp")
        self.write(host_file, "HOST-TMP\n", 0o644)
        p = self.run_payload(f"echo in > {in_tmp} && echo in > {in_shm} && cat {in_tmp} {in_shm}"
                             f" && echo WROTE; cat {host_file}; ls -A /tmp | wc -l")
        self.assertRan(p)
        self.assertIn("in\nin\nWROTE", p.stdout)
        self.assertNotIn("HOST-TMP", p.stdout)
        self.assertFalse(os.path.exists(in_tmp), "/tmp is shared with the host")
        self.assertFalse(os.path.exists(in_shm), "/dev/shm is shared with the host")

    def test_a35_sandboxes_do_not_share_tmp(self):
        probe = self.host_probe("/tmp")
        self.give_to_test_user()
        first = subprocess.Popen(as_test_user([NONO, "run", "--allow-cwd", "--", "/bin/sh", "-c",
                                               f"echo one > {probe} && echo WROTE && sleep 20"]),
                                 cwd=self.ws, env=self.env(), stdout=subprocess.PIPE, text=True)
        self.addCleanup(first.stdout.close)
        self.addCleanup(first.wait)
        self.addCleanup(first.kill)
        self.assertEqual(first.stdout.readline().strip(), "WROTE")
        p = self.run_payload(f"cat {probe} || echo NOT-SEEN")
        self.assertRan(p)
        self.assertIn("NOT-SEEN", p.stdout)
        self.assertFalse(os.path.exists(probe))

    def test_a35_workspace_under_tmp(self):
        ws, ro = self.tmp_workspace(), self.tmp_workspace()
        self.write(os.path.join(ws, "before"), "BEFORE\n", 0o644)
        self.write(os.path.join(ro, "data"), "RO-DATA\n", 0o644)
        outside = self.host_probe("/tmp")
        p = self.nono("run", "--allow-cwd", "--read", ro, "--", "/bin/sh", "-c",
                      f"echo PAYLOAD-RAN; cat before && echo made > after && mkdir d && "
                      f"echo x > d/f && echo OK; echo y > {outside}; cat {ro}/data; "
                      f"echo z > {ro}/new", cwd=ws)
        self.assertRan(p)
        self.assertIn("BEFORE", p.stdout)
        self.assertIn("RO-DATA", p.stdout)  # a read grant under /tmp: carried, read-only
        self.assertFalse(os.path.exists(os.path.join(ro, "new")))
        self.assertIn("OK", p.stdout, p.stderr)
        with open(os.path.join(ws, "after")) as f:
            self.assertEqual(f.read(), "made\n")
        self.assertTrue(os.path.exists(os.path.join(ws, "d", "f")))
        self.assertFalse(os.path.exists(outside))

    def test_a35_no_namespace_keeps_host_tmp(self):
        conf = os.path.join(self.root, "nono.conf")
        self.write(conf, "plugins: { landlock: { mount_namespace = 0; }; };\n", 0o644)
        probe = self.host_probe("/tmp")
        p = self.run_payload(f"echo shared > {probe}", "-v", env=self.env(NONO_CONFIG=conf))
        self.assertRan(p)
        self.assertIn("shared with the host", p.stderr)
        self.assertTrue(os.path.exists(probe))

    def test_a35_share_tmp_flag(self):
        probe = self.host_probe("/tmp")
        p = self.run_payload(f"echo shared > {probe}", "--share-tmp")
        self.assertRan(p)
        with open(probe) as f:
            self.assertEqual(f.read(), "shared\n")

    def test_a35_tools_work_with_private_tmp(self):
        script = ("t=$(mktemp) && echo tmp > $t && cat $t && "
                  "printf 'int main(void){return 42;}' > $t.c && "
                  "gcc -o $t.bin $t.c && ($t.bin; echo CC-RC=$?); "
                  "d=$(mktemp -d) && git -C $d init -q && echo GIT-OK; "
                  "node -e \"const fs=require('fs'),os=require('os'),p=os.tmpdir()+'/n';"
                  "fs.writeFileSync(p,'x');console.log('NODE-'+fs.readFileSync(p))\"")
        p = self.run_payload(script)
        self.assertRan(p)
        for tool, marker in (("gcc", "CC-RC=42"), ("git", "GIT-OK"), ("node", "NODE-x")):
            if shutil.which(tool):
                self.assertIn(marker, p.stdout, p.stderr)
        self.assertIn("tmp\n", p.stdout)

    def test_a36_device_ioctls(self):
        code = textwrap.dedent("""
            import fcntl, os, struct, termios
            def attempt(label, fn):
                try:
                    fn()
                    print(label, "OK", flush=True)
                except OSError as e:
                    print(label, "DENIED", e.errno, flush=True)
            master, slave = os.openpty()
            attempt("tiocgwinsz", lambda: fcntl.ioctl(slave, termios.TIOCGWINSZ, b"\\0" * 8))
            r, w = os.pipe()
            attempt("fionread", lambda: fcntl.ioctl(r, termios.FIONREAD, b"\\0" * 4))
            attempt("fioclex", lambda: fcntl.ioctl(r, termios.FIOCLEX))
            rnd = os.open("/dev/urandom", os.O_RDONLY)
            attempt("urandom-read", lambda: os.read(rnd, 4))
            attempt("fioclex-dev", lambda: fcntl.ioctl(rnd, termios.FIOCLEX))
            RNDGETENTCNT = 0x80045200
            attempt("rndgetentcnt", lambda: fcntl.ioctl(rnd, RNDGETENTCNT, b"\\0" * 4))
        """)
        p = self.py_payload(code)
        self.assertRan(p)
        verdicts = dict(line.split()[:2] for line in p.stdout.splitlines()[1:])
        for label in ("tiocgwinsz", "fionread", "fioclex", "urandom-read", "fioclex-dev"):
            self.assertEqual(verdicts.get(label), "OK", f"{label}: {p.stdout}")
        # Outside the sandbox the same ioctl works: the refusal is Landlock's IOCTL_DEV.
        outside = subprocess.run([SYSTEM_PYTHON, "-c", "import fcntl,os;"
                                  "fcntl.ioctl(os.open('/dev/urandom',os.O_RDONLY),0x80045200,"
                                  "b'\\0'*4);print('OK')"], capture_output=True, text=True)
        self.assertIn("OK", outside.stdout)
        self.assertEqual(verdicts.get("rndgetentcnt"), "DENIED", p.stdout)

    def test_a37_kernel_info(self):
        # A process of the same user as the sandbox, outside it, holding a secret.
        host = subprocess.Popen(as_test_user(["env", "HOST_SECRET=A37-SECRET", "sleep", "30"]))
        self.addCleanup(host.wait)
        self.addCleanup(host.kill)
        time.sleep(0.2)
        p = self.run_payload(f"cat /proc/{host.pid}/environ; cat /proc/{host.pid}/maps; "
                             "cat /proc/1/environ; grep -m3 ' T ' /proc/kallsyms; "
                             "ls /sys/kernel/ && echo SYS-KERNEL-LISTED; "
                             "cat /proc/kcore | head -c 16 | wc -c")
        self.assertRan(p)
        self.assertNotIn("A37-SECRET", p.stdout)
        self.assertNotIn("sleep", p.stdout)  # no line of the host process's maps
        self.assertNotIn("SYS-KERNEL-LISTED", p.stdout)
        for line in p.stdout.splitlines():
            if " T " in line:  # kernel symbols, if readable at all, carry no addresses
                self.assertTrue(line.startswith("0000000000000000"), line)


if __name__ == "__main__":
    main()
