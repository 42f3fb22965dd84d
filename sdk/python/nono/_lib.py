# SPDX-License-Identifier: Apache-2.0
"""Loads libnono and declares the C API of <nono/nono.h> for ctypes."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from pathlib import Path

SONAME = "libnono.so.0"


class ExecOptions(ctypes.Structure):
    _fields_ = [
        ("size", ctypes.c_uint32),
        ("argv", ctypes.POINTER(ctypes.c_char_p)),
        ("cwd", ctypes.c_char_p),
        ("envp", ctypes.POINTER(ctypes.c_char_p)),
        ("timeout_ms", ctypes.c_uint32),
        ("max_output", ctypes.c_size_t),
    ]


class ExecResultC(ctypes.Structure):
    _fields_ = [
        ("size", ctypes.c_uint32),
        ("exit_code", ctypes.c_int),
        ("timed_out", ctypes.c_int),
        ("stdout_data", ctypes.POINTER(ctypes.c_char)),
        ("stdout_len", ctypes.c_size_t),
        ("stderr_data", ctypes.POINTER(ctypes.c_char)),
        ("stderr_len", ctypes.c_size_t),
        ("stdout_truncated", ctypes.c_int),
        ("stderr_truncated", ctypes.c_int),
    ]


class VerdictC(ctypes.Structure):
    _fields_ = [
        ("size", ctypes.c_uint32),
        ("allowed", ctypes.c_int),
        ("reason", ctypes.c_int),
        ("rule_path", ctypes.c_char * 4096),
        ("origin", ctypes.c_char * 256),
        ("message", ctypes.c_char * 1024),
    ]


class RouteC(ctypes.Structure):
    _fields_ = [
        ("size", ctypes.c_uint32),
        ("prefix", ctypes.c_char_p),
        ("upstream", ctypes.c_char_p),
        ("credential_key", ctypes.c_char_p),
        ("inject_mode", ctypes.c_int),
        ("inject_header", ctypes.c_char_p),
        ("credential_format", ctypes.c_char_p),
        ("env_var", ctypes.c_char_p),
        ("base_url_var", ctypes.c_char_p),
        ("tls_ca", ctypes.c_char_p),
        ("endpoint_rules", ctypes.POINTER(ctypes.c_char_p)),
    ]


class ExclusionsC(ctypes.Structure):
    _fields_ = [
        ("size", ctypes.c_uint32),
        ("use_gitignore", ctypes.c_int),
        ("patterns", ctypes.POINTER(ctypes.c_char_p)),
    ]


class SnapshotChangeC(ctypes.Structure):
    _fields_ = [
        ("change_type", ctypes.c_int),
        ("path", ctypes.c_char_p),
    ]


def _build_tree_library() -> Path | None:
    """libnono of the checkout this package sits in (sdk/python/nono), built by
    scripts/bootstrap into ./build."""
    root = Path(__file__).resolve().parent.parent.parent.parent
    candidate = root / "build" / "core" / "lib" / SONAME
    if (root / "meson.build").is_file() and candidate.is_file():
        return candidate
    return None


def _candidates() -> list[str]:
    override = os.environ.get("NONO_LIBRARY")
    if override:
        # Named explicitly: only that one, so a typo is not hidden by a fallback.
        return [override]
    found = [str(p) for p in [_build_tree_library()] if p]
    found.append(SONAME)
    system = ctypes.util.find_library("nono")
    if system:
        found.append(system)
    return found


def _load() -> ctypes.CDLL:
    errors = []
    for name in _candidates():
        try:
            return ctypes.CDLL(name)
        except OSError as e:
            errors.append(f"{name}: {e}")
    raise ImportError(
        "cannot load libnono (set NONO_LIBRARY to its path): " + "; ".join(errors)
    )


def _declare(lib: ctypes.CDLL) -> None:
    caps = ctypes.c_void_p
    u32, cstr, cint = ctypes.c_uint32, ctypes.c_char_p, ctypes.c_int
    handle, strings = ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p)
    changes = ctypes.POINTER(ctypes.POINTER(SnapshotChangeC))
    sizes = ctypes.POINTER(ctypes.c_size_t)
    signatures = {
        "nono_version": (cstr, []),
        "nono_last_error": (cstr, []),
        "nono_last_error_kind": (cint, []),
        "nono_caps_new": (caps, []),
        "nono_caps_free": (None, [caps]),
        "nono_caps_allow_path": (cint, [caps, cstr, u32]),
        "nono_caps_allow_file": (cint, [caps, cstr, u32]),
        "nono_caps_add_group": (cint, [caps, cstr]),
        "nono_caps_deny_path": (cint, [caps, cstr]),
        "nono_caps_block_network": (cint, [caps]),
        "nono_caps_allow_env": (cint, [caps, cstr]),
        "nono_caps_deny_env": (cint, [caps, cstr]),
        "nono_caps_set_env": (cint, [caps, cstr, cstr]),
        "nono_apply": (cint, [caps]),
        "nono_sandboxed_exec": (
            cint,
            [caps, ctypes.POINTER(ExecOptions), ctypes.POINTER(ctypes.POINTER(ExecResultC))],
        ),
        "nono_exec_result_free": (None, [ctypes.POINTER(ExecResultC)]),
        "nono_query_path": (cint, [caps, cstr, u32, ctypes.POINTER(VerdictC)]),
        "nono_query_host": (cint, [caps, cstr, ctypes.c_uint16, ctypes.POINTER(VerdictC)]),
        "nono_proxy_config_new": (handle, []),
        "nono_proxy_config_free": (None, [handle]),
        "nono_proxy_config_allow_host": (cint, [handle, cstr]),
        "nono_proxy_config_add_route": (cint, [handle, ctypes.POINTER(RouteC)]),
        "nono_proxy_start": (cint, [handle, ctypes.POINTER(handle)]),
        "nono_proxy_env": (cint, [handle, ctypes.POINTER(strings)]),
        "nono_proxy_credential_env": (cint, [handle, ctypes.POINTER(strings)]),
        "nono_proxy_port": (cint, [handle, ctypes.POINTER(ctypes.c_uint16)]),
        "nono_proxy_drain_audit": (cint, [handle, ctypes.POINTER(strings)]),
        "nono_proxy_shutdown": (cint, [handle]),
        "nono_proxy_free": (None, [handle]),
        "nono_strings_free": (None, [strings]),
        "nono_caps_use_proxy": (cint, [caps, handle]),
        "nono_snapshot_manager_new": (
            cint,
            [cstr, ctypes.POINTER(ExclusionsC), ctypes.POINTER(handle)],
        ),
        "nono_snapshot_create_baseline": (cint, [handle, ctypes.POINTER(ctypes.c_uint)]),
        "nono_snapshot_create_incremental": (cint, [handle, ctypes.POINTER(ctypes.c_uint)]),
        "nono_snapshot_restore_diff": (cint, [handle, ctypes.c_uint, changes, sizes]),
        "nono_snapshot_restore_to": (cint, [handle, ctypes.c_uint, changes, sizes]),
        "nono_snapshot_session_id": (cstr, [handle]),
        "nono_snapshot_changes_free": (None, [ctypes.POINTER(SnapshotChangeC), ctypes.c_size_t]),
        "nono_snapshot_manager_free": (None, [handle]),
    }
    for name, (restype, argtypes) in signatures.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes


lib = _load()
_declare(lib)
