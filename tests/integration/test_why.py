"""nono why with the real binary: verdicts for paths and hosts under the same options as
run, --json, --self inside a sandbox (the sealed plan), and the shell completions."""
import json
import os
import shutil
import subprocess

from nonotest import NONO, SandboxTestCase, main

NONO_DIR = os.path.dirname(os.path.realpath(NONO))


class Paths(SandboxTestCase):
    def why(self, *args):
        return self.nono("why", *args)

    def test_protected_path_names_its_group(self):
        p = self.why("--path", os.path.join(self.home, ".ssh", "id_rsa"))
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertTrue(p.stdout.startswith("denied: read "), p.stdout)
        self.assertIn("group deny_credentials", p.stdout)
        self.assertIn("filesystem.bypass_protection", p.stdout)

    def test_same_flags_as_run(self):
        target = os.path.join(self.ws, "new-file")
        p = self.why("--path", target, "--op", "write")
        self.assertEqual(p.returncode, 2, p.stdout)
        self.assertIn("change: --allow-cwd", p.stdout)
        p = self.why("--allow-cwd", "--path", target, "--op", "write")
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertIn("--allow-cwd", p.stdout)
        # And run agrees with both answers.
        r = self.nono("run", "--", "/bin/sh", "-c", f"echo PAYLOAD-RAN; echo x > {target}")
        self.assertRan(r)
        self.assertFalse(os.path.exists(target))
        r = self.nono("run", "--allow-cwd", "--", "/bin/sh", "-c", f"echo x > {target}")
        self.assertTrue(os.path.exists(target), r.stderr)

    def test_read_only_grant_suggests_write(self):
        p = self.why("--read", self.out, "--path", os.path.join(self.out, "secret"), "--op",
                     "write", "--json")
        self.assertEqual(p.returncode, 2, p.stderr)
        v = json.loads(p.stdout)
        self.assertFalse(v["allowed"])
        self.assertEqual(v["rule"], {"kind": "grant", "target": self.out, "origin": "--read"})
        self.assertEqual(v["change"], f"--write {os.path.join(self.out, 'secret')}")
        self.assertEqual(v["query"]["op"], "write")

    def test_profile_grants_are_seen(self):
        prof = os.path.join(self.root, "p.json")
        self.write(prof, json.dumps({"filesystem": {"read": [self.out]}}))
        p = self.why("--profile", prof, "--path", os.path.join(self.out, "secret"))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("profile", p.stdout)

    def test_bad_input(self):
        for args, needle in ((["--op", "write"], "--path PATH or --host HOST"),
                             (["--path", "/x", "--op", "exec"], "--op is read or write"),
                             (["--host", "h", "--port", "99999"], "not a port number"),
                             (["--path", "/x", "--host", "h"], "either"),
                             (["--self", "--path", "/x"], "not inside a nono sandbox")):
            p = self.why(*args)
            self.assertEqual(p.returncode, 1, p.stdout)
            self.assertIn(needle, p.stderr)
            self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)


class Hosts(SandboxTestCase):
    def profile(self, network):
        prof = os.path.join(self.root, "net.json")
        self.write(prof, json.dumps({"network": network}))
        return prof

    def test_unrestricted_and_blocked(self):
        p = self.nono("why", "--host", "example.com", "--port", "443")
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertIn("unrestricted", p.stdout)
        p = self.nono("why", "--profile", self.profile({"block": True}), "--host", "example.com")
        self.assertEqual(p.returncode, 2, p.stdout)
        self.assertIn("blocked", p.stdout)

    def test_proxy_allow_list(self):
        prof = self.profile({"allow_domain": ["api.openai.com", "*.github.com"]})
        cases = {"API.openai.com": 0, "raw.github.com": 0, "github.com": 2,
                 "example.com": 2, "169.254.169.254": 2}
        for host, code in cases.items():
            p = self.nono("why", "--profile", prof, "--host", host, "--json")
            self.assertEqual(p.returncode, code, host + p.stdout + p.stderr)
        v = json.loads(self.nono("why", "--profile", prof, "--host", "169.254.169.254",
                                 "--json").stdout)
        self.assertEqual(v["rule"]["kind"], "metadata")


class Self(SandboxTestCase):
    """Inside the sandbox, why --self answers from the plan nono handed down, sealed."""

    def inside(self, script, *flags):
        # LeakSanitizer cannot stop the world inside a sandbox (no ptrace): under ASan the
        # inner nono runs without it.
        script = "export ASAN_OPTIONS=\"${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0\"\n" + script
        return self.nono("run", "--allow-cwd", "--read", NONO_DIR, *flags, "--", "/bin/sh",
                         "-c", script)

    def test_answers_for_the_running_sandbox(self):
        p = self.inside(f"""
            echo PAYLOAD-RAN
            {NONO} why --self --path {self.out}/secret; echo "rc=$?"
            {NONO} why --self --json --path {self.ws}/x --op write
        """, "--no-diagnostics")
        self.assertRan(p)
        self.assertIn(f"denied: read {self.out}/secret", p.stdout)
        self.assertIn("rc=2", p.stdout)
        v = json.loads(p.stdout[p.stdout.index("{"):])
        self.assertTrue(v["allowed"])
        self.assertEqual(v["rule"]["origin"], "--allow-cwd")

    def test_plan_is_sealed_and_holds_no_secrets(self):
        p = self.nono("run", "--allow-cwd", "--no-diagnostics", "--", "/bin/sh", "-c", """
            echo PAYLOAD-RAN
            cat /proc/self/fd/$NONO_PLAN_FD | grep -q '"grants"' && echo PLAN-READABLE
            echo forged > /proc/self/fd/$NONO_PLAN_FD && echo PLAN-WRITTEN
            cat /proc/self/fd/$NONO_PLAN_FD
        """, env=self.env(MY_API_KEY="sk-proj-abcdefghijklmnop"))
        self.assertRan(p)
        self.assertIn("PLAN-READABLE", p.stdout)
        self.assertNotIn("PLAN-WRITTEN", p.stdout)
        self.assertNotIn("sk-proj-abcdefghijklmnop", p.stdout)

    def test_no_other_descriptor_leaks(self):
        p = self.nono("run", "--allow-cwd", "--", "/bin/sh", "-c",
                      "echo PAYLOAD-RAN; ls /proc/self/fd")
        self.assertRan(p)
        fds = sorted(int(x) for x in p.stdout.split()[1:])
        # stdio, the plan, and ls's own directory descriptor.
        self.assertEqual(len(fds), 5, p.stdout)


class Completions(SandboxTestCase):
    def test_bash_script_parses_and_knows_the_commands(self):
        p = self.nono("completions", "bash")
        self.assertEqual(p.returncode, 0, p.stderr)
        for word in ("run", "why", "audit", "--allow-unix-socket", "--diagnostics-json",
                     "verify"):
            self.assertIn(word, p.stdout)
        check = subprocess.run(["bash", "-n"], input=p.stdout, text=True, capture_output=True)
        self.assertEqual(check.returncode, 0, check.stderr)
        # Completing "nono w" offers wrap and why.
        script = p.stdout + ('COMP_WORDS=(nono w); COMP_CWORD=1; _nono; '
                             'echo "${COMPREPLY[@]}"\n')
        out = subprocess.run(["bash", "-c", script], text=True, capture_output=True)
        self.assertEqual(out.stdout.split(), ["wrap", "why"])

    def test_zsh_and_fish_scripts(self):
        for shell in ("zsh", "fish"):
            p = self.nono("completions", shell)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("run", p.stdout)
            self.assertIn("why", p.stdout)
            self.assertIn("allow-cwd", p.stdout)
            if shutil.which(shell):
                check = subprocess.run([shell, "-n"], input=p.stdout, text=True,
                                       capture_output=True)
                self.assertEqual(check.returncode, 0, check.stderr)

    def test_unknown_shell(self):
        p = self.nono("completions", "tcsh")
        self.assertEqual(p.returncode, 1)
        self.assertIn("tcsh", p.stderr)


if __name__ == "__main__":
    main()
