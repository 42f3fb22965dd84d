"""Fixtures of the Python SDK tests: a temp tree under /var/tmp (the sandbox's
baseline grants /tmp) with a granted directory, a directory outside every grant and
a file there that must stay unreadable."""
import os
import shutil
import tempfile

import pytest


@pytest.fixture
def tree():
    root = os.path.realpath(tempfile.mkdtemp(prefix="nono-py-", dir="/var/tmp"))
    granted = os.path.join(root, "granted")
    outside = os.path.join(root, "outside")
    os.makedirs(granted)
    os.makedirs(outside)
    secret = os.path.join(outside, "secret")
    with open(secret, "w") as f:
        f.write("OUTSIDE-SECRET\n")
    yield {"root": root, "granted": granted, "outside": outside, "secret": secret}
    shutil.rmtree(root, ignore_errors=True)
