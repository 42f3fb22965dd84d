"""A stand-in for an AI agent: it tries ordinary work and a few things it must not do.

Run by scripts/demo under `nono run --profile python-agent --allow-cwd`.  Each line says
what was tried and whether the sandbox allowed it.
"""
import os
import socket
import subprocess
import sys

HOME = os.path.expanduser("~")
results = []


def attempt(label, fn):
    try:
        detail = fn()
        results.append((True, label, detail or ""))
    except Exception as exc:  # the point is to show the refusal, whatever its type
        results.append((False, label, f"{type(exc).__name__}: {exc}"))


def write_project_file():
    with open("notes.txt", "w") as f:
        f.write("agent was here\n")
    return "wrote notes.txt in the project"


def read_ssh_key():
    with open(os.path.join(HOME, ".ssh", "id_rsa")) as f:
        return f"read {len(f.read())} bytes"


def cat_aws_credentials():
    out = subprocess.run(["cat", os.path.join(HOME, ".aws", "credentials")],
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise PermissionError(out.stderr.strip())
    return out.stdout.strip()


def write_outside():
    with open(os.path.join(os.environ["DEMO_OUTSIDE"], "planted.txt"), "w") as f:
        f.write("x")
    return "wrote outside the project"


def signal_parent():
    os.kill(os.getppid(), 0)
    return "could signal nono"


def connect_local_service():
    with socket.create_connection(("127.0.0.1", int(os.environ["DEMO_PORT"])), timeout=2):
        return "connected"


def read_api_key():
    key = os.environ.get("OPENAI_API_KEY")
    if key is None:
        raise PermissionError("OPENAI_API_KEY is not in the environment")
    return "got the key"


def call_model_api():
    import json
    import urllib.request
    req = urllib.request.Request(os.environ["LLM_BASE_URL"] + "/chat", data=b"{}",
                                 headers={"Authorization": "Bearer " + os.environ["LLM_API_KEY"]})
    with urllib.request.urlopen(req, timeout=10) as r:
        return "the model replied: " + json.load(r)["reply"]


def read_real_model_key():
    key = os.environ.get("LLM_API_KEY", "")
    if key.startswith("sk-"):
        return "got the real key"
    raise PermissionError(f"LLM_API_KEY holds only a phantom token ({key[:8]}...)")


def reach_unlisted_host():
    import urllib.request
    with urllib.request.urlopen("http://pypi.org/simple/", timeout=10):
        return "reached pypi.org"


def connect_host_unix_socket():
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(os.environ["DEMO_SOCKET"])
    return "connected"


attempt("run python and list the project", lambda: ", ".join(sorted(os.listdir("."))))
attempt("write a file in the project", write_project_file)
attempt("read ~/.ssh/id_rsa", read_ssh_key)
attempt("subprocess cat ~/.aws/credentials", cat_aws_credentials)
attempt("write a file outside the project", write_outside)
attempt("signal the supervisor", signal_parent)
attempt("connect to a TCP service on 127.0.0.1", connect_local_service)
attempt("connect to a host Unix socket (docker.sock)", connect_host_unix_socket)
attempt("read OPENAI_API_KEY from the environment", read_api_key)
attempt("call the model API (via nono's proxy)", call_model_api)
attempt("read the model API's real key", read_real_model_key)
attempt("reach a host not on the allow-list", reach_unlisted_host)

for ok, label, detail in results:
    print(f"  {'allowed' if ok else 'DENIED '}  {label:44s} {detail}")
sys.exit(0)
