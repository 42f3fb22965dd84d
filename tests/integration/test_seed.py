"""The seed scenario: `nono run --profile python-agent --allow-cwd -- python3 agent.py`.
The agent creates a venv and pip-installs a local package into its workspace, while
its attempts on ~/.ssh/id_rsa (directly and through `cat`) fail.  Run with Debian's
python3, with a pyenv-shaped interpreter under ~/.pyenv, and with the machine's real
pyenv when there is one."""
import os
import shutil
import subprocess

from nonotest import SYSTEM_PYTHON, SandboxTestCase, as_test_user, main

AGENT = r'''
import os, subprocess, sys
print("PAYLOAD-RAN", sys.executable, flush=True)
subprocess.run([sys.executable, "-m", "venv", ".venv"], check=True)
subprocess.run([".venv/bin/pip", "install", "-q", "--no-index", "--no-build-isolation",
                "--disable-pip-version-check", "./mypkg"], check=True)
out = subprocess.run([".venv/bin/python", "-c", "import mypkg; print(mypkg.greet())"],
                     check=True, capture_output=True, text=True).stdout
print("IMPORTED", out.strip())
try:
    open(os.path.expanduser("~/.ssh/id_rsa")).read()
    print("SSH-KEY-READ")
except PermissionError:
    print("SSH-OPEN-DENIED")
r = subprocess.run(["cat", os.path.expanduser("~/.ssh/id_rsa")], capture_output=True, text=True)
print("CAT-RC", r.returncode, "LEAK" if "FAKE-SSH-KEY" in r.stdout else "NO-LEAK")
'''

SETUP_PY = '''from setuptools import setup
setup(name="mypkg", version="0.1", py_modules=["mypkg"])
'''


class SeedScenario(SandboxTestCase):
    def setUp(self):
        super().setUp()
        self.write(os.path.join(self.ws, "agent.py"), AGENT)
        self.write(os.path.join(self.ws, "mypkg", "setup.py"), SETUP_PY)
        self.write(os.path.join(self.ws, "mypkg", "mypkg.py"),
                   "def greet():\n    return 'hello from mypkg'\n")
        self.mkdir("home", ".cache", "pip")

    def run_agent(self, python, *flags):
        p = self.nono("run", "--profile", "python-agent", "--allow-cwd", *flags, "--",
                      python, "agent.py", timeout=300)
        self.assertRan(p)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("IMPORTED hello from mypkg", p.stdout)
        self.assertIn("SSH-OPEN-DENIED", p.stdout)
        self.assertRegex(p.stdout, r"CAT-RC [1-9]\d* NO-LEAK")
        # Checked from outside: the venv and the package are in the workspace.
        self.assertTrue(os.path.exists(os.path.join(self.ws, ".venv", "bin", "python")))
        site = subprocess.run([os.path.join(self.ws, ".venv", "bin", "python"), "-c",
                               "import mypkg; print(mypkg.__file__)"],
                              capture_output=True, text=True, cwd="/")
        self.assertIn(self.ws, site.stdout)
        return p

    def test_debian_python(self):
        self.run_agent(SYSTEM_PYTHON)

    def test_pyenv_shaped_python_under_home(self):
        # A copied interpreter under ~/.pyenv/versions: the python_runtime group must
        # make it readable and executable.
        version_dir = os.path.join(self.home, ".pyenv", "versions", "3-local")
        subprocess.run([SYSTEM_PYTHON, "-m", "venv", "--copies", version_dir], check=True)
        self.run_agent(os.path.join(version_dir, "bin", "python3"))

    def test_real_pyenv_python(self):
        root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
        versions = os.path.join(root, "versions")
        if not os.path.isdir(versions):
            self.skipTest("no pyenv on this machine")
        pythons = sorted(v for v in os.listdir(versions)
                         if v.startswith("3.") and int(v.split(".")[1]) >= 8
                         and os.path.exists(os.path.join(versions, v, "bin", "python3")))
        if not pythons:
            self.skipTest("no pyenv python 3.8+")
        probe = subprocess.run(as_test_user(["test", "-r", os.path.join(versions, pythons[-1])]))
        if probe.returncode != 0:
            self.skipTest("the machine's pyenv is not readable by the test user")
        self.run_agent(os.path.join(versions, pythons[-1], "bin", "python3"),
                       "--read", os.path.realpath(root))


if __name__ == "__main__":
    main()
