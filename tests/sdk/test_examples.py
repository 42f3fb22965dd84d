"""The SDK as a third party sees it: nono installed into a temporary prefix
(`meson install --destdir`), the out-of-tree examples (sdk/examples/*) and a small
embedding program built against it with pkg-config, then the examples' effect on
the real nono, judged from outside.

Runs as root (it builds, and the system-policy test needs a mount namespace).
"""
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest

BUILD = os.environ["NONO_BUILD_ROOT"]
SOURCE = os.environ["NONO_SOURCE_ROOT"]
NONO = os.path.join(BUILD, "nono")
CRED_LOOKUP = os.environ["NONO_CRED_LOOKUP"]
LIBDIR = os.environ["NONO_LIBDIR"]
SYSCONFDIR = os.environ["NONO_SYSCONFDIR"]
SECRET = "s3cr3t-example-value"
# A sanitized libnono needs its runtime loaded first: not into cc's or python's programs.
SANITIZED = os.environ.get("NONO_SANITIZED") == "1"
uninstrumented = unittest.skipIf(SANITIZED, "loads the sanitized libnono into an "
                                            "uninstrumented program")


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=300, **kw)


def checked(argv, **kw):
    p = run(argv, **kw)
    if p.returncode != 0:
        raise AssertionError(f"{argv} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p


class InstalledSdk(unittest.TestCase):
    """One install and one build of the examples for the whole class."""

    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("builds and mounts: run as root")
        cls.root = os.path.realpath(tempfile.mkdtemp(prefix="nono-sdk-", dir="/var/tmp"))
        cls.dest = os.path.join(cls.root, "dest")
        checked(["meson", "install", "-C", BUILD, "--destdir", cls.dest, "--no-rebuild",
                 "--quiet"])
        cls.pc_env = dict(os.environ,
                          PKG_CONFIG_PATH=cls.dest + os.path.join(LIBDIR, "pkgconfig"),
                          PKG_CONFIG_SYSROOT_DIR=cls.dest)
        # The examples install next to the installed landlock plugin: into the
        # plugindir of nono-plugin.pc (under the destdir through the sysroot).
        cls.plugins = checked(["pkg-config", "--variable=plugindir", "nono-plugin"],
                              env=cls.pc_env).stdout.strip()
        for example in ("cred-file", "policy-org"):
            build = os.path.join(cls.root, "build-" + example)
            checked(["meson", "setup", build, os.path.join(SOURCE, "sdk", "examples", example)],
                    env=cls.pc_env)
            checked(["ninja", "-C", build], env=cls.pc_env)
            checked(["meson", "install", "-C", build, "--quiet"], env=cls.pc_env)
        cls.home = os.path.join(cls.root, "home")
        os.makedirs(os.path.join(cls.home, ".aws"))
        with open(os.path.join(cls.home, ".aws", "credentials"), "w") as f:
            f.write("FAKE-AWS-CREDENTIALS\n")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)

    def conf(self, name, text):
        path = os.path.join(self.root, name)
        with open(path, "w") as f:
            f.write(f'plugin_dir = "{self.plugins}";\n' + text)
        return path

    def env(self, conf, **extra):
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": self.home, "LANG": "C.UTF-8",
               "NONO_CONFIG": conf}
        for key in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
            if key in os.environ:
                env[key] = os.environ[key]
        env.update(extra)
        return env

    def test_pkg_config_files(self):
        self.assertTrue(self.plugins.startswith(self.dest), self.plugins)
        self.assertTrue(self.plugins.endswith("/nono/plugins"), self.plugins)
        self.assertTrue(os.path.isfile(os.path.join(self.plugins, "nono-enforcer-landlock.so")))
        cflags = checked(["pkg-config", "--cflags", "nono-plugin"], env=self.pc_env).stdout
        header = os.path.join(cflags.split()[0][2:], "nono", "plugin.h")
        self.assertTrue(os.path.isfile(header), header)
        libs = checked(["pkg-config", "--libs", "nono"], env=self.pc_env).stdout
        self.assertIn("-lnono", libs)
        for page in ("man1/nono.1", "man5/nono.conf.5"):
            self.assertTrue(any(os.path.isfile(os.path.join(d, page))
                                for d, _, _ in os.walk(self.dest)), page)

    @uninstrumented
    def test_embedding_program(self):
        # Built with cc and pkg-config alone.  It runs against the build tree's libnono
        # (same soname), which finds the plugins and profiles in place.
        src = os.path.join(self.root, "embed.c")
        with open(src, "w") as f:
            f.write(textwrap.dedent("""\
                #include <nono/nono.h>
                #include <stdio.h>
                #include <string.h>
                int main(void)
                {
                        const char *argv[] = {"echo", "from-the-sandbox", NULL};
                        struct nono_exec_options o = {sizeof(o), argv, NULL, NULL, 0, 0};
                        struct nono_exec_result *res;
                        nono_caps *caps = nono_caps_new();
                        if (strcmp(nono_version(), NONO_VERSION_STRING) != 0)
                                return 2;
                        if (nono_caps_block_network(caps) < 0 ||
                            nono_sandboxed_exec(caps, &o, &res) < 0) {
                                fprintf(stderr, "%s\\n", nono_last_error());
                                return 1;
                        }
                        fputs(res->stdout_data, stdout);
                        nono_exec_result_free(res);
                        nono_caps_free(caps);
                        return 0;
                }
                """))
        flags = checked(["pkg-config", "--cflags", "--libs", "nono"], env=self.pc_env).stdout
        exe = os.path.join(self.root, "embed")
        checked(["cc", "-std=c11", "-Wall", "-Werror", src, "-o", exe, *flags.split()])
        # The installed library loads (version only: its plugins are not installed here).
        p = checked(["python3", "-c", "import ctypes,sys; l=ctypes.CDLL(sys.argv[1]); "
                     "l.nono_version.restype=ctypes.c_char_p; print(l.nono_version().decode())",
                     self.dest + os.path.join(LIBDIR, "libnono.so.0")])
        self.assertEqual(p.stdout.strip(), "0.1.0")
        p = run([exe], env=self.env(os.path.join(SOURCE, "tests", "data", "empty.conf"),
                                    LD_LIBRARY_PATH=os.path.join(BUILD, "core", "lib")))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, "from-the-sandbox\n")

    def test_plugins_listed(self):
        conf = self.conf("list.conf", "")
        p = run([NONO, "plugins", "list"], env=self.env(conf))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"credential\s+file\s+1\.0\.0\s+1\.0")
        self.assertRegex(p.stdout, r"policy\s+org\s+1\.0\.0\s+1\.0")

    def test_plugin_of_another_abi_major_is_refused(self):
        # The installed policy-org with its descriptor's abi_major patched to 2, next to
        # a copy of the landlock enforcer: "NONO" magic, then major 1, minor 0.
        other = os.path.join(self.root, "plugins-abi2")
        os.makedirs(other, exist_ok=True)
        for name in ("nono-enforcer-landlock.so", "nono-policy-org.so"):
            shutil.copy(os.path.join(self.plugins, name), other)
        path = os.path.join(other, "nono-policy-org.so")
        with open(path, "rb") as f:
            data = f.read()
        desc = b"ONON\x01\x00"
        self.assertEqual(data.count(desc), 1)
        with open(path, "wb") as f:
            f.write(data.replace(desc, b"ONON\x02\x00"))
        conf = os.path.join(self.root, "abi2.conf")
        with open(conf, "w") as f:
            f.write(f'plugin_dir = "{other}";\npolicy_modules = ["org"];\n')
        self.profile("offline-abi", '{"network": {"block": true}}')
        p = run([NONO, "run", "-p", "offline-abi", "--", "true"], env=self.env(conf))
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("plugin ABI 2.0, host ABI 1.0: the major versions differ", p.stderr)
        self.assertIn("nono-policy-org.so", p.stderr)

    # ---- cred-file ------------------------------------------------------------------

    def lookup(self, ref, mode):
        secrets = os.path.join(self.root, "secrets")
        with open(secrets, "w") as f:
            f.write(f"# a comment\nOTHER=x\nAPI_TOKEN={SECRET}\n")
        os.chmod(secrets, mode)
        conf = self.conf("cred.conf", f'plugins = {{ file = {{ path = "{secrets}"; }}; }};\n')
        p = run([CRED_LOOKUP, "file", ref], env=self.env(conf, EXPECTED_SECRET=SECRET))
        self.assertNotIn(SECRET, p.stdout + p.stderr)
        return p

    def test_cred_file_returns_secret_from_0600_file(self):
        p = self.lookup("API_TOKEN", 0o600)
        self.assertEqual((p.returncode, p.stdout), (0, "match\n"), p.stderr)
        p = self.lookup("MISSING", 0o600)
        self.assertEqual((p.returncode, p.stdout), (2, "declined\n"), p.stderr)

    def test_cred_file_refuses_wider_permissions(self):
        for mode in (0o644, 0o640, 0o604):
            p = self.lookup("API_TOKEN", mode)
            self.assertEqual(p.returncode, 1, p.stdout)
            self.assertIn("refusing", p.stdout)
            self.assertIn("chmod 600", p.stdout)

    # ---- policy-org -----------------------------------------------------------------

    def profile(self, name, body):
        d = os.path.join(self.home, ".config", "nono", "profiles")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, name + ".json"), "w") as f:
            f.write(body)

    def cat_aws(self, conf):
        # A profile that lifts ~/.aws's protection: only the org policy keeps it.
        self.profile("lifted", '{"network": {"block": true},'
                               ' "filesystem": {"bypass_protection": ["~/.aws"]}}')
        return run([NONO, "run", "-p", "lifted", "--read", self.home, "--",
                    "cat", os.path.join(self.home, ".aws", "credentials")],
                   env=self.env(conf))

    def test_policy_org_refuses_unrestricted_network(self):
        conf = self.conf("org.conf", 'policy_modules = ["org"];\n')
        p = run([NONO, "run", "--", "true"], env=self.env(conf))
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("policy org refused the plan", p.stderr)
        self.assertIn("unrestricted network", p.stderr)
        # The same command with the network blocked runs.
        self.profile("offline", '{"network": {"block": true}}')
        p = run([NONO, "run", "-p", "offline", "--", "echo", "ran"], env=self.env(conf))
        self.assertEqual((p.returncode, p.stdout), (0, "ran\n"), p.stderr)

    def test_policy_org_always_protects_aws(self):
        # Without the policy the lifted profile does expose it: the probe works.
        p = self.cat_aws(self.conf("none.conf", ""))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("FAKE-AWS-CREDENTIALS", p.stdout)
        p = self.cat_aws(self.conf("org.conf", 'policy_modules = ["org"];\n'))
        self.assertNotEqual(p.returncode, 0)
        self.assertNotIn("FAKE-AWS-CREDENTIALS", p.stdout)

    @uninstrumented
    def test_policy_org_through_the_python_sdk(self):
        conf = self.conf("org.conf", 'policy_modules = ["org"];\n')
        script = textwrap.dedent("""\
            import nono
            caps = nono.CapabilitySet()
            try:
                nono.sandboxed_exec(caps, ["true"])
                print("NOT-REFUSED")
            except nono.PolicyError as e:
                print("POLICY-ERROR", e)
            r = nono.sandboxed_exec(caps.block_network(), ["echo", "ran"])
            print("RAN", r.exit_code, r.stdout.decode().strip())
            """)
        p = run([sys.executable, "-c", script],
                env=self.env(conf, PYTHONPATH=os.path.join(SOURCE, "sdk", "python"),
                             NONO_LIBRARY=os.path.join(BUILD, "core", "lib", "libnono.so.0")))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("POLICY-ERROR policy org refused the plan", p.stdout)
        self.assertIn("RAN 0 ran", p.stdout)

    def test_system_policy_survives_the_user_file(self):
        # NONO_CONFIG would replace the system file: instead the real system path is
        # shadowed in a private mount namespace, and the user's file is the real one
        # under $HOME.
        if not os.path.isdir(SYSCONFDIR) or not shutil.which("unshare"):
            self.skipTest(f"{SYSCONFDIR} or unshare(1) missing")
        etc = os.path.join(self.root, "etc")
        os.makedirs(os.path.join(etc, "nono"), exist_ok=True)
        user_dir = os.path.join(self.home, ".config", "nono")
        os.makedirs(user_dir, exist_ok=True)

        def run_with_system(text, user_text):
            with open(os.path.join(etc, "nono", "nono.conf"), "w") as f:
                f.write(f'plugin_dir = "{self.plugins}";\n' + text)
            with open(os.path.join(user_dir, "nono.conf"), "w") as f:
                f.write(user_text)
            env = self.env("")
            del env["NONO_CONFIG"]
            return run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                        'mount --bind "$1" "$2" && shift 2 && exec "$@"', "sh", etc,
                        SYSCONFDIR, NONO, "run", "--", "echo", "ran"], env=env)

        # Control: the shadowed system file is the one read, and without a module the
        # command runs.
        p = run_with_system("", "policy_modules = [];\n")
        self.assertEqual((p.returncode, p.stdout), (0, "ran\n"), p.stderr)
        # The user's file tries both ways out: an empty list, and a plugin directory
        # of its own (where an "org" that accepts everything could live).
        p = run_with_system('policy_modules = ["org"];\n',
                            'policy_modules = [];\nplugin_dir = "/nonexistent";\n')
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertIn("policy org refused the plan", p.stderr)
        # The user's file was read (its plugin_dir is refused), and removed nothing.
        self.assertIn("plugin_dir ignored", p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
