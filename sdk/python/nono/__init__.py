# SPDX-License-Identifier: Apache-2.0
"""nono: a kernel-enforced sandbox for AI agents, from Python.

    import nono

    caps = nono.CapabilitySet()
    caps.allow_path("/work/project", nono.AccessMode.READ_WRITE)
    caps.block_network()
    result = nono.sandboxed_exec(caps, ["make", "test"], cwd="/work/project", timeout_secs=60)
    print(result.exit_code, result.stdout)

    nono.apply(caps)   # this process, irrevocably

    route = nono.RouteConfig(prefix="openai", upstream="https://api.openai.com",
                             credential_key="env://OPENAI_API_KEY")
    with nono.start_proxy(nono.ProxyConfig(allowed_hosts=["pypi.org"], routes=[route])) as p:
        env = p.env_vars()             # HTTP_PROXY=..., OPENAI_BASE_URL, OPENAI_API_KEY (phantom)
        events = p.drain_audit_events()

    snaps = nono.SnapshotManager("/work/project", nono.ExclusionConfig(exclude_patterns=["*.tmp"]))
    snaps.create_baseline()
    ...                                # the agent works
    snaps.create_incremental()
    for change in snaps.compute_restore_diff(0):
        print(change.change_type.name, change.path)
    snaps.restore_to(0)                # the tree as it was at the baseline

A thin binding over libnono (<nono/nono.h>) with ctypes: every call validates its
arguments and raises a NonoError subclass on failure; nothing aborts the interpreter.
"""

from __future__ import annotations

import ctypes
import enum
import errno as _errno
import json
import os
import site
import sys
import threading
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence, Union

from ._lib import (
    ExclusionsC,
    ExecOptions,
    ExecResultC,
    RouteC,
    SnapshotChangeC,
    VerdictC,
    lib as _c,
)

__all__ = [
    "AccessMode",
    "CapabilitySet",
    "ChangeType",
    "ConfigError",
    "CredentialError",
    "ExecError",
    "ExclusionConfig",
    "ExecResult",
    "InjectMode",
    "InvalidArgumentError",
    "NonoError",
    "PluginError",
    "PolicyError",
    "ProxyConfig",
    "ProxyHandle",
    "RouteConfig",
    "SandboxError",
    "SnapshotChange",
    "SnapshotError",
    "SnapshotManager",
    "Verdict",
    "VerdictReason",
    "apply",
    "library_version",
    "sandboxed_exec",
    "start_proxy",
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
    NETWORK_PROXY = 7


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


class CredentialError(NonoError):
    """A credential (a proxy route's credential_key) is not in any of its sources."""


class SnapshotError(NonoError):
    """A snapshot cannot be taken or restored: no baseline yet, a store or a tree that
    cannot be read or written."""


# enum nono_error_kind -> exception class
_KINDS: dict[int, type[NonoError]] = {
    1: InvalidArgumentError,
    2: ConfigError,
    3: PluginError,
    4: PolicyError,
    5: SandboxError,
    6: ExecError,
    7: NonoError,
    8: CredentialError,
    9: SnapshotError,
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

    def use_proxy(self, proxy: ProxyHandle) -> CapabilitySet:
        """sandboxed_exec's children reach the network only through `proxy` (a
        start_proxy handle): TCP to its port on 127.0.0.1 and nothing else; their
        environment gets proxy.env_vars(), without the variables its credentials were
        read from.  block_network() wins over it.  The port and variables are copied
        now."""
        if not isinstance(proxy, ProxyHandle):
            raise InvalidArgumentError(
                f"proxy must be a ProxyHandle, not {type(proxy).__name__}", _errno.EINVAL
            )
        return self._call(_c.nono_caps_use_proxy, proxy._live())

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


# ---- the filtering proxy ------------------------------------------------------------


class InjectMode(enum.IntEnum):
    """Where a route puts the credential (NONO_INJECT_* of nono.h)."""

    HEADER = 0  # inject_header: credential_format with {} = the key
    QUERY_PARAM = 1  # the query parameter named inject_header
    BASIC_AUTH = 2  # Authorization: Basic base64(credential_format)


@dataclass(frozen=True)
class RouteConfig:
    """A credential route: requests to http://127.0.0.1:PORT/<prefix>/... go to
    `upstream` with the real credential in place of the phantom token.

    credential_key is a reference (env://VAR, libsecret://name, or a bare name offered
    to nono.conf's credential_sources), resolved when the proxy starts.  The
    defaults: inject_header "Authorization", credential_format "Bearer {}" for it
    (else "{}"), env_var <PREFIX>_API_KEY, base_url_var <PREFIX>_BASE_URL."""

    prefix: str
    upstream: str
    credential_key: str
    inject_mode: InjectMode = InjectMode.HEADER
    inject_header: str | None = None
    credential_format: str | None = None
    env_var: str | None = None
    base_url_var: str | None = None
    tls_ca: str | None = None
    endpoint_rules: Sequence[str] = ()


@dataclass(frozen=True)
class ProxyConfig:
    """What a proxy serves: hosts it lets through (names, *.suffix, IP addresses)
    and credential routes."""

    allowed_hosts: Sequence[str] = ()
    routes: Sequence[RouteConfig] = ()


def _optional_text(value: str | None, what: str) -> bytes | None:
    return None if value is None else _text(value, what)


def _sequence(items: object, what: str) -> list[str]:
    if isinstance(items, (str, bytes)) or not isinstance(items, Sequence):
        raise InvalidArgumentError(f"{what} must be a list", _errno.EINVAL)
    return list(items)


def _add_route(config: int, route: RouteConfig) -> None:
    if not isinstance(route, RouteConfig):
        raise InvalidArgumentError(
            f"routes must hold RouteConfig, not {type(route).__name__}", _errno.EINVAL
        )
    mode = route.inject_mode
    if isinstance(mode, bool) or not isinstance(mode, int):
        raise InvalidArgumentError(
            f"inject_mode must be an InjectMode, not {type(mode).__name__}", _errno.EINVAL
        )
    rules = _strings(_sequence(route.endpoint_rules, "endpoint_rules"), "endpoint rule")
    c = RouteC(
        size=ctypes.sizeof(RouteC),
        prefix=_text(route.prefix, "prefix"),
        upstream=_text(route.upstream, "upstream"),
        credential_key=_text(route.credential_key, "credential_key"),
        inject_mode=int(mode),
        inject_header=_optional_text(route.inject_header, "inject_header"),
        credential_format=_optional_text(route.credential_format, "credential_format"),
        env_var=_optional_text(route.env_var, "env_var"),
        base_url_var=_optional_text(route.base_url_var, "base_url_var"),
        tls_ca=_optional_text(route.tls_ca, "tls_ca"),
        endpoint_rules=ctypes.cast(rules, ctypes.POINTER(ctypes.c_char_p)),
    )
    _check(_c.nono_proxy_config_add_route(config, ctypes.byref(c)))


def _take_strings(fn: Callable[..., int], handle: int) -> list[str]:
    out = ctypes.POINTER(ctypes.c_char_p)()
    _check(fn(handle, ctypes.byref(out)))
    try:
        items = []
        i = 0
        while out[i] is not None:
            items.append(out[i].decode(errors="replace"))
            i += 1
        return items
    finally:
        _c.nono_strings_free(out)


def _env_dict(entries: list[str]) -> dict[str, str]:
    return dict(e.split("=", 1) for e in entries)


class ProxyHandle:
    """A running filtering proxy (start_proxy).  Its process is stopped by
    shutdown(), close(), leaving a `with` block, garbage collection, or at the latest
    when the thread that started it exits.  Methods may be called from any thread,
    concurrently; close() must be the last call."""

    def __init__(self, handle: int) -> None:
        self._handle: int | None = handle
        self._lock = threading.Lock()
        port = ctypes.c_uint16()
        _check(_c.nono_proxy_port(handle, ctypes.byref(port)))
        self.port: int = port.value

    def _live(self) -> int:
        if not self._handle:
            raise InvalidArgumentError("the proxy handle was closed", _errno.EINVAL)
        return self._handle

    def env_vars(self) -> dict[str, str]:
        """Everything a client needs: HTTP_PROXY/HTTPS_PROXY/ALL_PROXY (with the
        proxy's token, upper- and lower-case), NO_PROXY, and each route's variables."""
        return _env_dict(_take_strings(_c.nono_proxy_env, self._live()))

    def credential_env_vars(self) -> dict[str, str]:
        """Only the routes' variables: <PREFIX>_BASE_URL and <PREFIX>_API_KEY, whose
        value is a phantom token (the proxy swaps in the real credential)."""
        return _env_dict(_take_strings(_c.nono_proxy_credential_env, self._live()))

    def drain_audit_events(self) -> list[dict[str, Any]]:
        """The proxy's audit events since the last call, oldest first, e.g.
        {"type": "proxy.decision", "host": ..., "port": ..., "method": ...,
        "decision": "allow" | "deny" | "error", "reason": ..., "time": ...}.
        Never holds a secret, phantom or token."""
        return [json.loads(e) for e in _take_strings(_c.nono_proxy_drain_audit, self._live())]

    def shutdown(self) -> None:
        """Stops the proxy process and waits for it; again: nothing.  The last
        events can still be drained afterwards."""
        _check(_c.nono_proxy_shutdown(self._live()))

    def close(self) -> None:
        """Shuts down and releases the handle (drain no longer possible)."""
        with self._lock:
            handle, self._handle = getattr(self, "_handle", None), None
        if handle:
            _c.nono_proxy_free(handle)

    def __del__(self) -> None:
        if getattr(self, "_lock", None) is not None:
            self.close()

    def __enter__(self) -> ProxyHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()


def start_proxy(config: ProxyConfig) -> ProxyHandle:
    """Starts nono's filtering proxy for `config` on 127.0.0.1 (a random port).

    Raises InvalidArgumentError for a bad host or route (plain http to a host that is
    not loopback, an unknown inject mode ...), CredentialError when a route's
    credential cannot be found, PluginError when the filter-proxy plugin is missing."""
    if not isinstance(config, ProxyConfig):
        raise InvalidArgumentError(
            f"config must be a ProxyConfig, not {type(config).__name__}", _errno.EINVAL
        )
    hosts = _sequence(config.allowed_hosts, "allowed_hosts")
    routes = _sequence(config.routes, "routes") if config.routes else []
    c_config = _c.nono_proxy_config_new()
    if not c_config:
        raise NonoError("out of memory", _errno.ENOMEM)
    try:
        for host in hosts:
            _check(_c.nono_proxy_config_allow_host(c_config, _text(host, "host")))
        for route in routes:
            _add_route(c_config, route)
        handle = ctypes.c_void_p()
        _check(_c.nono_proxy_start(c_config, ctypes.byref(handle)))
    finally:
        _c.nono_proxy_config_free(c_config)
    try:
        return ProxyHandle(handle.value)
    except BaseException:
        _c.nono_proxy_free(handle.value)
        raise


# ---- snapshots ----------------------------------------------------------------------


class ChangeType(enum.IntEnum):
    """What a restore does to a path (enum nono_change_type)."""

    CREATED = 1  # brings it back (it was deleted since the snapshot)
    MODIFIED = 2  # rewrites its content, mode or symlink target
    DELETED = 3  # removes it (it was created since the snapshot)


@dataclass(frozen=True)
class SnapshotChange:
    """One path a restore changes; `path` is relative to the manager's root."""

    change_type: ChangeType
    path: str


@dataclass(frozen=True)
class ExclusionConfig:
    """What snapshots leave out (and restores never touch), besides VCS directories.

    use_gitignore: git's ignore rules apply (every .gitignore, the global excludes,
    .git/info/exclude).  exclude_patterns: .gitignore-syntax patterns that win over
    them ("*.tmp", "/cache", "build/", "!keep.log")."""

    use_gitignore: bool = True
    exclude_patterns: Sequence[str] = ()


def _exclusions(config: ExclusionConfig | None) -> tuple[ExclusionsC, object]:
    """The C struct, and what keeps its strings alive."""
    if config is None:
        config = ExclusionConfig()
    if not isinstance(config, ExclusionConfig):
        raise InvalidArgumentError(
            f"exclusions must be an ExclusionConfig, not {type(config).__name__}", _errno.EINVAL
        )
    if not isinstance(config.use_gitignore, bool):
        raise InvalidArgumentError("use_gitignore must be a bool", _errno.EINVAL)
    patterns = _sequence(config.exclude_patterns, "exclude_patterns")
    c_patterns = (ctypes.c_char_p * (len(patterns) + 1))(
        *[_text(p, "exclude pattern") for p in patterns], None
    )
    c = ExclusionsC(
        size=ctypes.sizeof(ExclusionsC),
        use_gitignore=int(config.use_gitignore),
        patterns=ctypes.cast(c_patterns, ctypes.POINTER(ctypes.c_char_p)),
    )
    return c, c_patterns


def _snapshot_number(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentError(
            f"snapshot_number must be an int, not {type(value).__name__}", _errno.EINVAL
        )
    if not 0 <= value < 2**32:
        raise InvalidArgumentError(f"no snapshot {value}", _errno.ERANGE)
    return value


class SnapshotManager:
    """Snapshots of the directory tree `root` (absolute, existing) in the user's store
    ($XDG_STATE_HOME/nono/store), as `nono run --rollback` takes them: snapshot 0 is
    the baseline, 1, 2, ... incremental ones; `nono rollback` sees the session too.

    Methods may be called from any thread; they run one at a time.  close(),
    leaving a `with` block or garbage collection releases the manager (the session
    stays in the store)."""

    def __init__(self, root: PathLike, exclusions: ExclusionConfig | None = None) -> None:
        self._handle: int | None = None
        self._lock = threading.Lock()
        c_exclusions, _keep = _exclusions(exclusions)
        handle = ctypes.c_void_p()
        _check(
            _c.nono_snapshot_manager_new(
                _path(root, "root"), ctypes.byref(c_exclusions), ctypes.byref(handle)
            )
        )
        self._handle = handle.value

    def _live(self) -> int:
        if not self._handle:
            raise InvalidArgumentError("the snapshot manager was closed", _errno.EINVAL)
        return self._handle

    def _take(self, fn: Callable[..., int]) -> int:
        index = ctypes.c_uint()
        with self._lock:
            _check(fn(self._live(), ctypes.byref(index)))
        return index.value

    def create_baseline(self) -> int:
        """Takes snapshot 0 of a new session and returns 0.  Called again, it starts
        another session (the earlier one stays in the store).  Raises SnapshotError
        when the store or the tree cannot be read or written."""
        return self._take(_c.nono_snapshot_create_baseline)

    def create_incremental(self) -> int:
        """Takes the session's next snapshot and returns its number (1, 2, ...).
        Raises SnapshotError before create_baseline()."""
        return self._take(_c.nono_snapshot_create_incremental)

    def _restore(self, fn: Callable[..., int], snapshot_number: int) -> list[SnapshotChange]:
        number = _snapshot_number(snapshot_number)
        out = ctypes.POINTER(SnapshotChangeC)()
        n = ctypes.c_size_t()
        with self._lock:
            _check(fn(self._live(), number, ctypes.byref(out), ctypes.byref(n)))
        try:
            return [
                SnapshotChange(ChangeType(out[i].change_type), os.fsdecode(out[i].path))
                for i in range(n.value)
            ]
        finally:
            _c.nono_snapshot_changes_free(out, n)

    def compute_restore_diff(self, snapshot_number: int = 0) -> list[SnapshotChange]:
        """What restore_to(snapshot_number) would change in the tree as it is now,
        sorted by path; touches nothing.  CREATED: brought back, MODIFIED: rewritten,
        DELETED: removed.  Raises SnapshotError before create_baseline(),
        InvalidArgumentError for a number the session does not have."""
        return self._restore(_c.nono_snapshot_restore_diff, snapshot_number)

    def restore_to(self, snapshot_number: int = 0) -> list[SnapshotChange]:
        """Makes the tree what it was at snapshot_number (content, modes, symlinks,
        directories; paths created since are removed; excluded paths left alone) and
        returns what it changed.  A damaged store changes nothing.  Errors as
        compute_restore_diff."""
        return self._restore(_c.nono_snapshot_restore_to, snapshot_number)

    @property
    def session_id(self) -> str | None:
        """The session's id as `nono rollback list` shows it; None before a baseline."""
        with self._lock:
            raw = _c.nono_snapshot_session_id(self._live())
        return raw.decode() if raw is not None else None

    def close(self) -> None:
        """Releases the manager now; the session stays in the store."""
        lock = getattr(self, "_lock", None)
        if lock is None:
            return
        with lock:
            handle, self._handle = self._handle, None
        if handle:
            _c.nono_snapshot_manager_free(handle)

    def __del__(self) -> None:
        self.close()

    def __enter__(self) -> SnapshotManager:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
