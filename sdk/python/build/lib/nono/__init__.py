# SPDX-License-Identifier: Apache-2.0
"""nono: a kernel-enforced sandbox for AI agents, from Python.

    import nono

    caps = nono.CapabilitySet()
    caps.allow_path("/work/project", nono.AccessMode.READ_WRITE)
    caps.block_network()
    result = nono.sandboxed_exec(caps, ["make", "test"], cwd="/work/project", timeout_secs=60)
    print(result.exit_code, result.stdout)

    nono.apply(caps)   # this process, irrevocably

A thin binding over libnono (<nono/nono.h>) with ctypes: every call validates its
arguments and raises a NonoError subclass on failure; nothing aborts the interpreter.
"""

from __future__ import annotations

import ctypes
import enum
import errno as _errno
import os
import site
import sys
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence, Union

from ._lib import ExecOptions, ExecResultC, VerdictC, lib as _c

__all__ = [
    "AccessMode",
    "CapabilitySet",
    "ConfigError",
    "ExecError",
    "ExecResult",
    "InvalidArgumentError",
    "NonoError",
    "PluginError",
    "PolicyError",
    "SandboxError",
    "Verdict",
    "VerdictReason",
    "apply",
    "library_version",
    "sandboxed_exec",
]

__version__ = "0.1.0"

PathLike = Union[str, "os.PathLike[str]"]


class AccessMode(enum.IntFlag):
    """Access a grant gives (NONO_ACCESS_* of nono.h)."""

    READ = 1
    WRITE = 2
    READ_WRITE = 3


class VerdictReason(enum.IntEnum):
    GRANTED = 1
    NOT_GRANTED = 2
    INSUFFICIENT = 3
    PROTECTED = 4
    NETWORK_ALLOWED = 5
    NETWORK_BLOCKED = 6


class NonoError(Exception):
    """A libnono call failed; `errno` is the positive errno, str() the message."""

    def __init__(self, message: str, errno: int = 0) -> None:
        super().__init__(message)
        self.errno = errno


class InvalidArgumentError(NonoError, ValueError):
    """A bad argument: wrong type or value, a path that does not exist."""


class ConfigError(NonoError):
    """nono.conf cannot be read."""


class PluginError(NonoError):
    """A plugin cannot be loaded, or the enforcer is not usable on this machine."""


class PolicyError(NonoError):
    """A policy module (nono.conf policy_modules) refused the capability set."""


class SandboxError(NonoError):
    """The sandbox cannot be built or applied here."""


class ExecError(NonoError):
    """The command cannot be found or started."""


# enum nono_error_kind -> exception class
_KINDS: dict[int, type[NonoError]] = {
    1: InvalidArgumentError,
    2: ConfigError,
    3: PluginError,
    4: PolicyError,
    5: SandboxError,
    6: ExecError,
    7: NonoError,
}


def _check(rc: int) -> None:
    if rc >= 0:
        return
    message = (_c.nono_last_error() or b"").decode(errors="replace")
    cls = _KINDS.get(_c.nono_last_error_kind(), NonoError)
    raise cls(message or os.strerror(-rc), -rc)


def _path(value: PathLike, what: str = "path") -> bytes:
    try:
        raw = os.fsencode(value)
    except TypeError:
        raise InvalidArgumentError(
            f"{what} must be a str or os.PathLike, not {type(value).__name__}", _errno.EINVAL
        ) from None
    if not raw or b"\0" in raw:
        raise InvalidArgumentError(f"{what} must be non-empty and without NUL", _errno.EINVAL)
    return raw


def _text(value: str, what: str) -> bytes:
    if not isinstance(value, str):
        raise InvalidArgumentError(
            f"{what} must be a str, not {type(value).__name__}", _errno.EINVAL
        )
    if "\0" in value:
        raise InvalidArgumentError(f"{what} must not contain NUL", _errno.EINVAL)
    return value.encode()


def _mode(mode: AccessMode | int) -> int:
    if isinstance(mode, bool) or not isinstance(mode, int):
        raise InvalidArgumentError(
            f"mode must be an AccessMode, not {type(mode).__name__}", _errno.EINVAL
        )
    return int(mode)


@dataclass(frozen=True)
class Verdict:
    """The answer of CapabilitySet.query_path / query_host."""

    allowed: bool
    reason: VerdictReason
    rule_path: str
    origin: str
    message: str

    def __bool__(self) -> bool:
        return self.allowed


class CapabilitySet:
    """What a sandbox may reach: granted paths and files, protected paths, the
    network mode and environment rules.  Besides these, a sandbox can read the
    system files every program needs (/usr, /lib, /etc, /proc); the credential paths
    every nono run protects (~/.ssh, ~/.aws, ...) stay out of reach.

    Methods return the set itself, so calls chain.  A set is not thread-safe:
    do not change it from two threads at once."""

    def __init__(self) -> None:
        handle = _c.nono_caps_new()
        if not handle:
            raise NonoError("out of memory", _errno.ENOMEM)
        self._handle: int | None = handle
        # The calls made, so that apply() can extend a copy instead of this set.
        self._calls: list[tuple[Callable[..., int], tuple[object, ...]]] = []

    def __del__(self) -> None:
        self.close()

    def close(self) -> None:
        """Frees the set now (otherwise when it is garbage-collected)."""
        handle, self._handle = getattr(self, "_handle", None), None
        if handle:
            _c.nono_caps_free(handle)

    def __enter__(self) -> CapabilitySet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _live(self) -> int:
        if not self._handle:
            raise InvalidArgumentError("the capability set was closed", _errno.EINVAL)
        return self._handle

    def _call(self, fn: Callable[..., int], *args: object) -> CapabilitySet:
        _check(fn(self._live(), *args))
        self._calls.append((fn, args))
        return self

    def allow_path(self, path: PathLike, mode: AccessMode = AccessMode.READ) -> CapabilitySet:
        """Grants an existing directory tree with `mode`."""
        return self._call(_c.nono_caps_allow_path, _path(path), _mode(mode))

    def allow_file(self, path: PathLike, mode: AccessMode = AccessMode.READ) -> CapabilitySet:
        """Grants one existing file (not a directory) with `mode`."""
        return self._call(_c.nono_caps_allow_file, _path(path), _mode(mode))

    def add_group(self, name: str) -> CapabilitySet:
        """Adds a built-in security group ("python_runtime", "system_write_linux")."""
        return self._call(_c.nono_caps_add_group, _text(name, "group"))

    def deny_path(self, path: PathLike) -> CapabilitySet:
        """Protects an absolute path: unreachable even inside a granted directory."""
        return self._call(_c.nono_caps_deny_path, _path(path))

    def block_network(self) -> CapabilitySet:
        """No network at all (Unix sockets excepted)."""
        return self._call(_c.nono_caps_block_network)

    def allow_env(self, name: str) -> CapabilitySet:
        """Passes a variable sandboxed_exec would otherwise scrub (*_TOKEN, ...)."""
        return self._call(_c.nono_caps_allow_env, _text(name, "name"))

    def deny_env(self, name: str) -> CapabilitySet:
        """Removes a variable from sandboxed_exec's environment."""
        return self._call(_c.nono_caps_deny_env, _text(name, "name"))

    def set_env(self, name: str, value: str) -> CapabilitySet:
        """Sets a variable in sandboxed_exec's environment."""
        return self._call(_c.nono_caps_set_env, _text(name, "name"), _text(value, "value"))

    def _copy(self) -> CapabilitySet:
        copy = CapabilitySet()
        for fn, args in self._calls:
            copy._call(fn, *args)
        return copy

    def query_path(self, path: PathLike, mode: AccessMode = AccessMode.READ) -> Verdict:
        """Would a sandbox of this set get `mode` on `path`, and why (policy modules
        not consulted)?"""
        out = VerdictC(size=ctypes.sizeof(VerdictC))
        _check(_c.nono_query_path(self._live(), _path(path), _mode(mode), ctypes.byref(out)))
        return _verdict(out)

    def query_host(self, host: str, port: int = 443) -> Verdict:
        """Would a sandbox of this set reach host:port, and why?"""
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise InvalidArgumentError("port must be an int in 0..65535", _errno.EINVAL)
        out = VerdictC(size=ctypes.sizeof(VerdictC))
        _check(_c.nono_query_host(self._live(), _text(host, "host"), port, ctypes.byref(out)))
        return _verdict(out)


def _verdict(v: VerdictC) -> Verdict:
    return Verdict(
        allowed=bool(v.allowed),
        reason=VerdictReason(v.reason),
        rule_path=os.fsdecode(v.rule_path),
        origin=v.origin.decode(errors="replace"),
        message=v.message.decode(errors="replace"),
    )


def _check_caps(caps: object) -> CapabilitySet:
    if not isinstance(caps, CapabilitySet):
        raise InvalidArgumentError(
            f"caps must be a CapabilitySet, not {type(caps).__name__}", _errno.EINVAL
        )
    return caps


def _python_dirs() -> list[str]:
    """Where this interpreter imports from: its prefixes and site-packages."""
    dirs = {sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix}
    dirs.update(site.getsitepackages())
    if site.ENABLE_USER_SITE and site.USER_SITE:
        dirs.add(site.USER_SITE)
    return sorted(d for d in dirs if d and os.path.isdir(d))


def apply(caps: CapabilitySet, *, allow_python: bool = True) -> None:
    """Confines this process and everything it starts with `caps`, irrevocably.

    With allow_python (the default) the interpreter's prefixes and site-packages
    stay readable, so imports keep working; `caps` itself is not changed.  Raises
    SandboxError while the process has more than one thread (Landlock would confine
    only the calling one): apply before starting threads."""
    caps = _check_caps(caps)
    if not allow_python:
        _check(_c.nono_apply(caps._live()))
        return
    with caps._copy() as effective:
        for d in _python_dirs():
            effective.allow_path(d, AccessMode.READ)
        _check(_c.nono_apply(effective._live()))


@dataclass(frozen=True)
class ExecResult:
    """What sandboxed_exec's command did."""

    exit_code: int
    stdout: bytes
    stderr: bytes
    timed_out: bool = False
    stdout_truncated: bool = False
    stderr_truncated: bool = False


def _strings(items: Sequence[str], what: str) -> ctypes.Array[ctypes.c_char_p]:
    encoded = [_path(s, what) if not isinstance(s, str) else _text(s, what) for s in items]
    return (ctypes.c_char_p * (len(encoded) + 1))(*encoded, None)


def _env_list(env: Mapping[str, str]) -> list[str]:
    if not isinstance(env, Mapping):
        raise InvalidArgumentError("env must be a mapping of str to str", _errno.EINVAL)
    out = []
    for k, v in env.items():
        if not isinstance(k, str) or not isinstance(v, str) or not k or "=" in k:
            raise InvalidArgumentError("env must map names (no '=') to str values", _errno.EINVAL)
        out.append(f"{k}={v}")
    return out


def _timeout_ms(timeout_secs: float | None) -> int:
    if timeout_secs is None:
        return 0
    if isinstance(timeout_secs, bool) or not isinstance(timeout_secs, (int, float)):
        raise InvalidArgumentError("timeout_secs must be a number", _errno.EINVAL)
    if not 0 < timeout_secs <= 2**31 / 1000:
        raise InvalidArgumentError("timeout_secs must be > 0 (and < 24 days)", _errno.EINVAL)
    return max(1, int(timeout_secs * 1000))


def sandboxed_exec(
    caps: CapabilitySet,
    argv: Sequence[str],
    cwd: PathLike | None = None,
    env: Mapping[str, str] | None = None,
    timeout_secs: float | None = None,
    max_output: int | None = None,
) -> ExecResult:
    """Runs argv in a sandboxed child confined by `caps` and waits for it.

    stdin is /dev/null; stdout and stderr are captured (max_output bytes each, 64 MiB
    by default).  env (default: this process's environment) is scrubbed of secrets and
    code-injection variables unless caps.allow_env names them.  After timeout_secs the
    command and everything it started are killed (result.timed_out).  This process is
    not changed.  Raises ExecError when the command does not exist, PolicyError or
    SandboxError when the sandbox cannot be built."""
    caps = _check_caps(caps)
    if isinstance(argv, (str, bytes)) or not isinstance(argv, Sequence) or not argv:
        raise InvalidArgumentError("argv must be a non-empty list of str", _errno.EINVAL)
    if max_output is not None and (
        isinstance(max_output, bool) or not isinstance(max_output, int) or max_output <= 0
    ):
        raise InvalidArgumentError("max_output must be a positive int", _errno.EINVAL)
    c_argv = _strings(argv, "argv item")
    c_env = _strings(_env_list(env), "env") if env is not None else None
    options = ExecOptions(
        size=ctypes.sizeof(ExecOptions),
        argv=ctypes.cast(c_argv, ctypes.POINTER(ctypes.c_char_p)),
        cwd=_path(cwd, "cwd") if cwd is not None else None,
        envp=ctypes.cast(c_env, ctypes.POINTER(ctypes.c_char_p)) if c_env is not None else None,
        timeout_ms=_timeout_ms(timeout_secs),
        max_output=max_output or 0,
    )
    out = ctypes.POINTER(ExecResultC)()
    _check(_c.nono_sandboxed_exec(caps._live(), ctypes.byref(options), ctypes.byref(out)))
    try:
        r = out.contents
        return ExecResult(
            exit_code=r.exit_code,
            stdout=ctypes.string_at(r.stdout_data, r.stdout_len),
            stderr=ctypes.string_at(r.stderr_data, r.stderr_len),
            timed_out=bool(r.timed_out),
            stdout_truncated=bool(r.stdout_truncated),
            stderr_truncated=bool(r.stderr_truncated),
        )
    finally:
        _c.nono_exec_result_free(out)


def library_version() -> str:
    """The version of the libnono in use."""
    return _c.nono_version().decode()
