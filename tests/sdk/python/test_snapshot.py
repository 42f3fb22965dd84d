"""nono.SnapshotManager: baseline, changes, restore diff, restore, exclusions and
typed errors, on a tree under /var/tmp with the store under a temporary HOME and
XDG_STATE_HOME (the user's store is never touched)."""
import os
import shutil
import stat
import tempfile
import threading

import pytest

import nono


@pytest.fixture
def snaptree(monkeypatch):
    home = os.path.realpath(tempfile.mkdtemp(prefix="nono-py-snaphome-", dir="/var/tmp"))
    root = os.path.realpath(tempfile.mkdtemp(prefix="nono-py-snap-", dir="/var/tmp"))
    monkeypatch.setenv("HOME", home)
    monkeypatch.setenv("XDG_STATE_HOME", os.path.join(home, "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", os.path.join(home, "config"))
    files = {
        "kept.txt": ("kept\n", 0o644),
        "edit.txt": ("original\n", 0o644),
        "gone.txt": ("gone\n", 0o600),
        "sub/deep.txt": ("deep\n", 0o644),
        ".gitignore": ("*.log\n", 0o644),
        "ignored.log": ("log v1\n", 0o644),
        "cache/blob.tmp": ("tmp v1\n", 0o644),
    }
    for rel, (text, mode) in files.items():
        write(root, rel, text, mode)
    yield root
    shutil.rmtree(root, ignore_errors=True)
    shutil.rmtree(home, ignore_errors=True)


def write(root, rel, text, mode=0o644):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def read(root, rel):
    with open(os.path.join(root, rel)) as f:
        return f.read()


def mode(root, rel):
    return stat.S_IMODE(os.stat(os.path.join(root, rel)).st_mode)


def manager(root):
    return nono.SnapshotManager(
        root, nono.ExclusionConfig(use_gitignore=True, exclude_patterns=["/cache/"])
    )


def change(root):
    write(root, "edit.txt", "changed by the agent\n", 0o755)
    write(root, "new.txt", "new\n")
    os.unlink(os.path.join(root, "gone.txt"))
    write(root, "ignored.log", "log v2\n")
    write(root, "cache/blob.tmp", "tmp v2\n")
    write(root, "cache/new.tmp", "tmp new\n")


EXPECTED = {
    ("edit.txt", nono.ChangeType.MODIFIED),
    ("gone.txt", nono.ChangeType.CREATED),
    ("new.txt", nono.ChangeType.DELETED),
}


def as_set(changes):
    assert all(isinstance(c, nono.SnapshotChange) for c in changes)
    return {(c.path, c.change_type) for c in changes}


def test_baseline_incremental_diff_restore(snaptree):
    with manager(snaptree) as m:
        assert m.session_id is None
        assert m.create_baseline() == 0
        # The session went to the temporary store.
        assert os.path.isdir(os.path.join(os.environ["XDG_STATE_HOME"], "nono", "store"))
        session = m.session_id
        assert isinstance(session, str) and session
        change(snaptree)
        assert m.create_incremental() == 1
        assert m.session_id == session

        diff = m.compute_restore_diff(0)
        assert as_set(diff) == EXPECTED
        assert [c.path for c in diff] == sorted(c.path for c in diff)
        # The diff touched nothing.
        assert read(snaptree, "edit.txt") == "changed by the agent\n"
        assert os.path.exists(os.path.join(snaptree, "new.txt"))

        assert as_set(m.restore_to(snapshot_number=0)) == EXPECTED
        assert read(snaptree, "edit.txt") == "original\n"
        assert mode(snaptree, "edit.txt") == 0o644
        assert read(snaptree, "gone.txt") == "gone\n"
        assert mode(snaptree, "gone.txt") == 0o600
        assert not os.path.exists(os.path.join(snaptree, "new.txt"))
        assert read(snaptree, "kept.txt") == "kept\n"
        assert read(snaptree, "sub/deep.txt") == "deep\n"
        # Excluded by .gitignore and by the pattern: never saved nor touched.
        assert read(snaptree, "ignored.log") == "log v2\n"
        assert read(snaptree, "cache/blob.tmp") == "tmp v2\n"
        assert read(snaptree, "cache/new.tmp") == "tmp new\n"

        assert m.compute_restore_diff(0) == []
        # Forward again to the incremental snapshot.
        assert as_set(m.restore_to(1)) == {
            ("edit.txt", nono.ChangeType.MODIFIED),
            ("gone.txt", nono.ChangeType.DELETED),
            ("new.txt", nono.ChangeType.CREATED),
        }
        assert read(snaptree, "edit.txt") == "changed by the agent\n"


def test_without_gitignore_the_log_is_restored(snaptree):
    m = nono.SnapshotManager(snaptree, nono.ExclusionConfig(use_gitignore=False))
    m.create_baseline()
    write(snaptree, "ignored.log", "log v2\n")
    assert as_set(m.compute_restore_diff(0)) == {("ignored.log", nono.ChangeType.MODIFIED)}
    m.restore_to(0)
    assert read(snaptree, "ignored.log") == "log v1\n"
    m.close()
    m.close()


def test_default_exclusions_use_gitignore(snaptree):
    m = nono.SnapshotManager(snaptree)
    m.create_baseline()
    write(snaptree, "ignored.log", "log v2\n")
    assert m.compute_restore_diff(0) == []


def test_root_errors(snaptree, tmp_path):
    with pytest.raises(nono.InvalidArgumentError):
        nono.SnapshotManager("relative/dir")
    with pytest.raises(nono.InvalidArgumentError) as e:
        nono.SnapshotManager(os.path.join(snaptree, "missing"))
    assert e.value.errno == 2
    with pytest.raises(nono.InvalidArgumentError):
        nono.SnapshotManager(os.path.join(snaptree, "kept.txt"))
    with pytest.raises(nono.InvalidArgumentError):
        nono.SnapshotManager(42)  # type: ignore[arg-type]
    with pytest.raises(nono.InvalidArgumentError):
        nono.SnapshotManager(snaptree, {"use_gitignore": True})  # type: ignore[arg-type]
    with pytest.raises(nono.InvalidArgumentError):
        nono.SnapshotManager(snaptree, nono.ExclusionConfig(exclude_patterns="*.tmp"))
    with pytest.raises(nono.InvalidArgumentError):
        nono.SnapshotManager(snaptree, nono.ExclusionConfig(exclude_patterns=[3]))
    with pytest.raises(nono.InvalidArgumentError):
        nono.SnapshotManager(snaptree, nono.ExclusionConfig(exclude_patterns=["a\nb"]))
    with pytest.raises(nono.InvalidArgumentError):
        nono.SnapshotManager(snaptree, nono.ExclusionConfig(use_gitignore="yes"))


def test_state_and_number_errors(snaptree):
    m = manager(snaptree)
    with pytest.raises(nono.SnapshotError):
        m.create_incremental()
    with pytest.raises(nono.SnapshotError):
        m.compute_restore_diff(0)
    with pytest.raises(nono.SnapshotError):
        m.restore_to(0)
    m.create_baseline()
    with pytest.raises(nono.InvalidArgumentError) as e:
        m.restore_to(1)
    assert "no snapshot 1" in str(e.value)
    for bad in (-1, 2**32, 5):
        with pytest.raises(nono.InvalidArgumentError):
            m.compute_restore_diff(bad)
    for bad in ("0", 1.0, True, None):
        with pytest.raises(nono.InvalidArgumentError):
            m.restore_to(bad)  # type: ignore[arg-type]
    # Every error is a NonoError; the manager still works afterwards.
    assert issubclass(nono.SnapshotError, nono.NonoError)
    assert m.restore_to(0) == []
    m.close()
    with pytest.raises(nono.InvalidArgumentError):
        m.create_incremental()
    with pytest.raises(nono.InvalidArgumentError):
        _ = m.session_id


def test_store_error(snaptree, monkeypatch):
    home = os.environ["HOME"]
    blocker = os.path.join(home, "file")
    open(blocker, "w").close()
    monkeypatch.setenv("XDG_STATE_HOME", os.path.join(blocker, "state"))
    m = manager(snaptree)
    with pytest.raises(nono.SnapshotError) as e:
        m.create_baseline()
    assert e.value.errno == 20 and blocker in str(e.value)
    assert m.session_id is None
    monkeypatch.setenv("XDG_STATE_HOME", os.path.join(home, "state"))
    assert m.create_baseline() == 0


def test_threads_share_a_manager(snaptree):
    m = manager(snaptree)
    m.create_baseline()
    results, errors = [], []

    def snap():
        try:
            results.append(m.create_incremental())
        except nono.NonoError as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=snap) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(results) == [1, 2, 3, 4]
