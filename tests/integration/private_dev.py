"""Runs a command with a /dev of its own, where /dev/log is a socket the caller listens on.

    private_dev.py SOCKET SCRATCH_DIR -- COMMAND [ARGS...]

In a private mount namespace (and, when not run by root, a user namespace mapping only
the caller's own uid and gid, so that the command still runs unprivileged): mount
propagation is made private first, so nothing below reaches the machine's namespace;
the real /dev is bound at SCRATCH_DIR (an empty directory); /dev becomes a fresh tmpfs
holding the usual devices bound back from there, /dev/pts and /dev/shm; and SOCKET is
bound at /dev/log.  The real /dev is never written.  The namespaces die with the command.

Exit status 77 (with the reason on stderr) when this kernel or container refuses the
namespaces: the caller skips.
"""
import ctypes
import errno
import os
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
DEVICES = ("null", "zero", "full", "random", "urandom", "tty", "ptmx")
LINKS = {"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1",
         "stderr": "/proc/self/fd/2"}

libc = ctypes.CDLL(None, use_errno=True)


def fail(what):
    err = ctypes.get_errno()
    raise OSError(err, f"{what}: {os.strerror(err)}")


def mount(source, target, fstype, flags, data=None):
    enc = (lambda s: s.encode() if s is not None else None)
    if libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)) != 0:
        fail(f"mount {target}")


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def enter_namespaces():
    """A mount namespace; for a user other than root, inside a user namespace of its own."""
    uid, gid = os.geteuid(), os.getegid()
    flags = CLONE_NEWNS if uid == 0 else CLONE_NEWUSER | CLONE_NEWNS
    if libc.unshare(flags) != 0:
        err = ctypes.get_errno()
        if err in (errno.EPERM, errno.EINVAL, errno.ENOSPC, errno.EUSERS):
            sys.stderr.write(f"private_dev: cannot unshare the namespaces: {os.strerror(err)}\n")
            sys.exit(77)
        fail("unshare")
    if uid != 0:
        write("/proc/self/setgroups", "deny")
        write("/proc/self/uid_map", f"{uid} {uid} 1\n")
        write("/proc/self/gid_map", f"{gid} {gid} 1\n")
    # First of all: nothing mounted below may propagate to the machine's namespace.
    mount(None, "/", None, MS_REC | MS_PRIVATE)


def bind_file(source, target):
    open(target, "w").close()
    mount(source, target, None, MS_BIND)


def private_dev(sock, scratch):
    mount("/dev", scratch, None, MS_BIND | MS_REC)
    mount("tmpfs", "/dev", "tmpfs", 0, "mode=0755")
    for name in DEVICES:
        if os.path.exists(os.path.join(scratch, name)):
            bind_file(os.path.join(scratch, name), f"/dev/{name}")
    for name in ("pts", "shm"):
        os.mkdir(f"/dev/{name}")
        mount(os.path.join(scratch, name), f"/dev/{name}", None, MS_BIND | MS_REC)
    for name, target in LINKS.items():
        os.symlink(target, f"/dev/{name}")
    bind_file(sock, "/dev/log")


def main():
    sock, scratch, sep, *argv = sys.argv[1:]
    if sep != "--" or not argv:
        sys.exit(__doc__)
    enter_namespaces()
    private_dev(sock, scratch)
    os.execv(argv[0], argv)


if __name__ == "__main__":
    main()
