"""The nono command line against real programs: exit codes, signals, bad input,
dry runs, profile commands, and ordinary work (sh, git, gcc, python) in the sandbox."""
import os
import shutil
import signal
import subprocess
import time

from nonotest import NONO, SYSTEM_PYTHON, SandboxTestCase, as_test_user, main


class ExitCodes(SandboxTestCase):
    def test_child_code_passes_through(self):
        p = self.sandboxed("echo PAYLOAD-RAN; exit 42")
        self.assertRan(p)
        self.assertEqual(p.returncode, 42)

    def test_killed_by_signal_is_128_plus_n(self):
        p = self.sandboxed("echo PAYLOAD-RAN; kill -TERM $$")
        self.assertRan(p)
        self.assertEqual(p.returncode, 128 + signal.SIGTERM)

    def test_exec_denied_in_child_is_127(self):
        # The command exists (so nono accepts it) but lies outside every grant.
        tool = os.path.join(self.out, "tool")
        shutil.copy("/bin/true", tool)
        p = self.nono("run", "--allow-cwd", "--", tool)
        self.assertEqual(p.returncode, 127, p.stderr)
        self.assertIn("nono: cannot execute", p.stderr)

    def test_sandbox_setup_failure_is_126(self):
        # A kernel "without" the needed feature: the plugin is told to use ABI 3 and the
        # plan needs scopes (ABI 6).  prepare fails in the parent -> 1; apply in the
        # child is the 126 path, exercised by the Landlock plugin's own tests.
        conf = os.path.join(self.root, "nono.conf")
        self.write(conf, "plugins = { landlock = { max_abi = 3; }; };\n")
        p = self.nono("run", "--", "/bin/true", env=self.env(NONO_CONFIG=conf))
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("ABI", p.stderr)
        p = self.nono("run", "--best-effort", "--", "/bin/sh", "-c", "echo PAYLOAD-RAN",
                      env=self.env(NONO_CONFIG=conf))
        self.assertRan(p)
        self.assertIn("warning", p.stderr)


class BadInput(SandboxTestCase):
    def assertRefused(self, p, *needles):
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual(p.stdout, "")
        lines = p.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, p.stderr)
        self.assertTrue(lines[0].startswith("nono: "), lines[0])
        for n in needles:
            self.assertIn(n, lines[0])

    def test_unknown_flag(self):
        self.assertRefused(self.nono("run", "--no-such-flag", "--", "true"), "--no-such-flag")

    def test_unknown_command(self):
        self.assertRefused(self.nono("frobnicate"), "frobnicate")

    def test_missing_command(self):
        self.assertRefused(self.nono("run", "--allow-cwd"), "no command")

    def test_command_not_found(self):
        self.assertRefused(self.nono("run", "--", "no-such-program-xyz"), "no-such-program-xyz")

    def test_non_executable_command(self):
        path = os.path.join(self.ws, "notexec.sh")
        self.write(path, "#!/bin/sh\necho RAN\n", mode=0o644)
        self.assertRefused(self.nono("run", "--allow-cwd", "--", path), "notexec.sh")

    def test_unknown_profile(self):
        self.assertRefused(self.nono("run", "--profile", "no-such-profile", "--", "true"),
                           "no-such-profile")

    def test_malformed_profile(self):
        prof = os.path.join(self.root, "bad.json")
        self.write(prof, '{\n  "filesystem": {\n    "allow": ["/tmp"],\n  }\n}\n')
        self.assertRefused(self.nono("run", "--profile", prof, "--", "true"), "bad.json", "line")

    def test_unknown_key_names_line(self):
        prof = os.path.join(self.root, "typo.json")
        self.write(prof, '{\n  // my profile\n  "meta": {"name": "typo"},\n'
                         '  "filesytem": {"allow": ["/tmp"]}\n}\n')
        self.assertRefused(self.nono("run", "--profile", prof, "--", "true"),
                           "line 4", '"filesytem"')

    def test_unknown_group(self):
        prof = os.path.join(self.root, "g.json")
        self.write(prof, '{"groups": {"include": ["no_such_group"]}}')
        self.assertRefused(self.nono("run", "--profile", prof, "--", "true"), "no_such_group")

    def test_broken_plugin(self):
        plugdir = self.mkdir("plugins")
        self.write(os.path.join(plugdir, "nono-enforcer-landlock.so"), "not an ELF file\n")
        os.chmod(plugdir, 0o755)
        conf = os.path.join(self.root, "nono.conf")
        self.write(conf, f'plugin_dir = "{plugdir}";\n')
        p = self.nono("run", "--", "/bin/sh", "-c", "echo PAYLOAD-RAN",
                      env=self.env(NONO_CONFIG=conf))
        self.assertRefused(p, "nono-enforcer-landlock.so")

    def test_unknown_backend(self):
        self.assertRefused(self.nono("run", "--backend", "nope", "--", "true"), "nope")

    def test_missing_grant_path_warns_and_runs(self):
        p = self.nono("run", "--read", "/no/such/dir", "--", "/bin/sh", "-c", "echo PAYLOAD-RAN")
        self.assertRan(p)
        self.assertIn("/no/such/dir", p.stderr)
        self.assertIn("warning", p.stderr)


class Supervision(SandboxTestCase):
    def test_signal_forwarded_to_child(self):
        marker = os.path.join(self.ws, "got-term")
        self.give_to_test_user()
        proc = subprocess.Popen(
            as_test_user([NONO, "run", "--allow-cwd", "--", "/bin/sh", "-c",
             f"trap 'echo term > {marker}; exit 3' TERM; echo READY; "
             "while :; do sleep 0.05; done"]),
            cwd=self.ws, env=self.env(), stdout=subprocess.PIPE, text=True)
        self.assertEqual(proc.stdout.readline().strip(), "READY")
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=20), 3)
        proc.stdout.close()
        self.assertTrue(os.path.exists(marker))

    def test_child_dies_with_nono(self):
        pidfile = os.path.join(self.ws, "pid")
        self.give_to_test_user()
        proc = subprocess.Popen(
            as_test_user([NONO, "run", "--allow-cwd", "--", "/bin/sh", "-c",
                          f"echo $$ > {pidfile}; echo READY; exec sleep 60"]),
            cwd=self.ws, env=self.env(), stdout=subprocess.PIPE, text=True)
        self.assertEqual(proc.stdout.readline().strip(), "READY")
        with open(pidfile) as f:
            child = int(f.read())
        proc.kill()
        proc.wait(timeout=10)
        proc.stdout.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with open(f"/proc/{child}/stat") as f:
                    if f.read().split()[2] == "Z":
                        break
            except FileNotFoundError:
                break
            time.sleep(0.05)
        else:
            os.kill(child, signal.SIGKILL)
            self.fail("the sandboxed child outlived nono")

    def test_stdin_passes_through(self):
        p = self.nono("run", "--allow-cwd", "--", "/bin/sh", "-c", "echo PAYLOAD-RAN; cat",
                      input="hello through stdin\n")
        self.assertRan(p)
        self.assertIn("hello through stdin", p.stdout)

    def test_interactive_python_repl_on_a_pty(self):
        out, code = self.nono_on_pty("run", "--allow-cwd", "--", SYSTEM_PYTHON, "-i", "-q",
                                     keys=b"print(6*7)\nexit()\n")
        self.assertIn(b"42", out)
        self.assertEqual(code, 0)

    def test_interactive_shell_job_control_and_window_size(self):
        out, code = self.nono_on_pty(
            "shell", "--allow-cwd", env=self.env(SHELL="/bin/bash", TERM="dumb", PS1="$ "),
            winsize=(33, 111),
            keys=b"stty size; sleep 30 & jobs; kill %1; wait; echo DONE-$((6*7)); exit 7\n")
        self.assertIn(b"33 111", out)
        self.assertRegex(out, rb"\[1\]\+?\s+Running\s+sleep 30")
        self.assertIn(b"DONE-42", out)
        self.assertEqual(code, 7, out)

    def test_wrap_applies_to_itself(self):
        p = self.nono("wrap", "--allow-cwd", "--", "/bin/sh", "-c",
                      f"echo PAYLOAD-RAN; cat {self.out}/secret; echo ok > inside")
        self.assertRan(p)
        self.assertNotIn("OUT-SECRET", p.stdout)
        self.assertTrue(os.path.exists(os.path.join(self.ws, "inside")))

    def test_environment_variables(self):
        p = self.nono("run", "--allow-cwd", "--", "/bin/sh", "-c",
                      "echo PAYLOAD-RAN; echo NONO_PROFILE_ENV=$NONO_SANDBOX",
                      env=self.env(NONO_ALLOW=self.out))
        self.assertRan(p)
        self.assertIn("NONO_PROFILE_ENV=1", p.stdout)


class DryRunAndProfiles(SandboxTestCase):
    def test_dry_run_prints_plan_and_runs_nothing(self):
        p = self.nono("run", "--dry-run", "--allow-cwd", "--", "/bin/sh", "-c",
                      f"echo ran > {self.ws}/ran")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(self.ws, p.stdout)
        self.assertIn("Landlock ABI", p.stdout)
        self.assertFalse(os.path.exists(os.path.join(self.ws, "ran")))

    def test_nono_profile_env_and_allow_env(self):
        p = self.nono("run", "--dry-run", "--", "/bin/true",
                      env=self.env(NONO_PROFILE="python-agent", NONO_ALLOW=self.out))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("python-agent", p.stdout)
        self.assertIn(self.out, p.stdout)

    def test_profile_show_lists_group_paths(self):
        self.mkdir("home", ".pyenv")
        p = self.nono("profile", "show", "python-agent")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("group python_runtime", p.stdout)
        self.assertIn(".ssh", p.stdout)
        j = self.nono("profile", "show", "python-agent", "--json")
        self.assertEqual(j.returncode, 0, j.stderr)
        import json
        plan = json.loads(j.stdout)
        self.assertTrue(any(g["origin"] == "group python_runtime" for g in plan["grants"]))

    def test_profile_list_validate_groups_export(self):
        p = self.nono("profile", "list")
        self.assertEqual(p.returncode, 0, p.stderr)
        for name in ("default", "python-dev", "node-dev", "python-agent"):
            self.assertIn(name, p.stdout)
        self.assertNotIn("groups", p.stdout.split())
        good = os.path.join(self.root, "ok.json")
        self.write(good, '{"extends": "python-dev", "filesystem": {"read": ["/usr/share"]}}')
        self.assertEqual(self.nono("profile", "validate", good).returncode, 0)
        g = self.nono("profile", "groups", "deny_credentials")
        self.assertEqual(g.returncode, 0, g.stderr)
        self.assertIn(".ssh", g.stdout)
        e = self.nono("profiles", "export", "python-agent")
        self.assertEqual(e.returncode, 0, e.stderr)
        import json
        self.assertIn("api.openai.com", json.dumps(json.loads(e.stdout)))

    def test_setup_check_only(self):
        p = self.nono("setup", "--check-only")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"ok\s+enforcer\s+landlock: Landlock ABI \d")
        self.assertRegex(p.stdout, r"ok\s+seccomp")
        conf = os.path.join(self.root, "nono.conf")
        self.write(conf, 'plugin_dir = "/nonexistent-plugins";\n')
        p = self.nono("setup", "--check-only", env=self.env(NONO_CONFIG=conf))
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertRegex(p.stdout, r"FAIL\s+enforcer")

    def test_plugins_list(self):
        p = self.nono("plugins", "list")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"enforcer\s+landlock\s+\S+\s+1\.0\s+\S*nono-enforcer-landlock\.so")


class OrdinaryWork(SandboxTestCase):
    def test_shell_pipeline_and_mktemp(self):
        p = self.sandboxed("echo PAYLOAD-RAN; t=$(mktemp); echo hi > $t; "
                           "printf 'b\\na\\n' | sort | tr a-z A-Z; rm $t")
        self.assertRan(p)
        self.assertIn("A\nB", p.stdout)

    def test_git_init_and_commit(self):
        # git refuses to run when ~/.gitconfig exists but is unreadable: the default
        # profile grants it (git_config), and the test HOME has one.
        p = self.sandboxed("echo PAYLOAD-RAN; git init -q repo && cd repo && echo x > f && "
                           "git add f && git -c user.name=t -c user.email=t@t commit -qm init "
                           "&& git log --oneline | wc -l")
        self.assertRan(p)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(os.path.isdir(os.path.join(self.ws, "repo", ".git")))

    def test_gcc_compile_and_run(self):
        if not shutil.which("gcc"):
            self.skipTest("gcc not installed")
        self.write(os.path.join(self.ws, "hello.c"),
                   '#include <stdio.h>\nint main(void){puts("compiled-and-ran");return 0;}\n')
        p = self.sandboxed("echo PAYLOAD-RAN; gcc -o hello hello.c && ./hello")
        self.assertRan(p)
        self.assertIn("compiled-and-ran", p.stdout, p.stderr)

    def test_node(self):
        node = shutil.which("node")
        if not node:
            self.skipTest("node not installed")
        p = self.nono("run", "--profile", "node-dev", "--allow-cwd", "--", node, "-e",
                      "console.log('PAYLOAD-RAN', 1+1)")
        self.assertRan(p)


if __name__ == "__main__":
    main()
