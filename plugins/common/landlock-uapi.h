/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Our own copy of the Landlock user-space ABI, with our own names.
 *
 * Debian 12 ships <linux/landlock.h> from Linux 6.1 (ABI 2 at most), so including it
 * would silently limit us to filesystem rules.  The values below are the kernel's ABI;
 * they never change once released, so carrying them is safe.  The names are prefixed
 * LL_ so that they can never clash with a system header that someone else includes.
 *
 * What each ABI version added:
 *   ABI 1 (Linux 5.13): filesystem rights EXECUTE … MAKE_SYM.
 *   ABI 2 (Linux 5.19): FS_REFER — link/rename across directories; before it such
 *                       reparenting is always denied inside a sandbox.
 *   ABI 3 (Linux 6.2):  FS_TRUNCATE — truncate(2), O_TRUNC; before it truncation is
 *                       not controlled at all.
 *   ABI 4 (Linux 6.7):  network rules: TCP bind and connect by port.
 *   ABI 5 (Linux 6.10): FS_IOCTL_DEV — ioctl(2) on device files opened in the sandbox.
 *   ABI 6 (Linux 6.12): scopes: abstract Unix sockets and signals cannot reach
 *                       processes outside the sandbox's domain.
 *   ABI 7 (Linux 6.15): logging flags for landlock_restrict_self (audit of denials);
 *                       no new access right.
 */
#ifndef NONO_LANDLOCK_UAPI_H
#define NONO_LANDLOCK_UAPI_H

#include <stdint.h>
#include <sys/syscall.h>

/*
 * System call numbers.  Landlock came after the per-architecture tables were unified,
 * so the numbers are the same everywhere (alpha alone adds its usual offset, which
 * libc's SYS_* constants carry; prefer them when they exist).
 */
#ifdef SYS_landlock_create_ruleset
#define LL_NR_create_ruleset SYS_landlock_create_ruleset
#define LL_NR_add_rule       SYS_landlock_add_rule
#define LL_NR_restrict_self  SYS_landlock_restrict_self
#else
#define LL_NR_create_ruleset 444
#define LL_NR_add_rule       445
#define LL_NR_restrict_self  446
#endif

/* landlock_create_ruleset(NULL, 0, LL_CREATE_RULESET_VERSION) returns the ABI version. */
#define LL_CREATE_RULESET_VERSION (1u << 0)

/*
 * Argument of landlock_create_ruleset.  Older kernels accept this full size as long as
 * the fields they do not know are zero, so one struct serves every ABI.
 */
struct ll_ruleset_attr {
        uint64_t handled_access_fs;  /* ABI 1 */
        uint64_t handled_access_net; /* ABI 4 */
        uint64_t scoped;             /* ABI 6 */
};

/* Rule types for landlock_add_rule. */
#define LL_RULE_PATH_BENEATH 1 /* ABI 1: struct ll_path_beneath_attr */
#define LL_RULE_NET_PORT     2 /* ABI 4: struct ll_net_port_attr */

/* The kernel declares this one packed: 12 bytes, no trailing padding. */
struct ll_path_beneath_attr {
        uint64_t allowed_access;
        int32_t parent_fd;
} __attribute__((packed));

struct ll_net_port_attr {
        uint64_t allowed_access;
        uint64_t port; /* host byte order */
};

_Static_assert(sizeof(struct ll_ruleset_attr) == 24, "ruleset attr layout");
_Static_assert(sizeof(struct ll_path_beneath_attr) == 12, "path-beneath attr layout");
_Static_assert(sizeof(struct ll_net_port_attr) == 16, "net-port attr layout");

/* Filesystem rights.  The first three (and TRUNCATE, IOCTL_DEV) also apply to files. */
#define LL_ACCESS_FS_EXECUTE     (1ull << 0)  /* ABI 1 */
#define LL_ACCESS_FS_WRITE_FILE  (1ull << 1)  /* ABI 1 */
#define LL_ACCESS_FS_READ_FILE   (1ull << 2)  /* ABI 1 */
#define LL_ACCESS_FS_READ_DIR    (1ull << 3)  /* ABI 1 */
#define LL_ACCESS_FS_REMOVE_DIR  (1ull << 4)  /* ABI 1 */
#define LL_ACCESS_FS_REMOVE_FILE (1ull << 5)  /* ABI 1 */
#define LL_ACCESS_FS_MAKE_CHAR   (1ull << 6)  /* ABI 1 */
#define LL_ACCESS_FS_MAKE_DIR    (1ull << 7)  /* ABI 1 */
#define LL_ACCESS_FS_MAKE_REG    (1ull << 8)  /* ABI 1 */
#define LL_ACCESS_FS_MAKE_SOCK   (1ull << 9)  /* ABI 1 */
#define LL_ACCESS_FS_MAKE_FIFO   (1ull << 10) /* ABI 1 */
#define LL_ACCESS_FS_MAKE_BLOCK  (1ull << 11) /* ABI 1 */
#define LL_ACCESS_FS_MAKE_SYM    (1ull << 12) /* ABI 1 */
#define LL_ACCESS_FS_REFER       (1ull << 13) /* ABI 2 */
#define LL_ACCESS_FS_TRUNCATE    (1ull << 14) /* ABI 3 */
#define LL_ACCESS_FS_IOCTL_DEV   (1ull << 15) /* ABI 5 */

/* Network rights (ABI 4). */
#define LL_ACCESS_NET_BIND_TCP    (1ull << 0)
#define LL_ACCESS_NET_CONNECT_TCP (1ull << 1)

/* Scopes (ABI 6): IPC that may not leave the sandbox's Landlock domain. */
#define LL_SCOPE_ABSTRACT_UNIX_SOCKET (1ull << 0)
#define LL_SCOPE_SIGNAL               (1ull << 1)

/*
 * landlock_restrict_self flags (ABI 7).  They only tune audit logging of denials.  By
 * default (0) the kernel records the denials of the process that restricted itself and
 * of its forks while they run the same executable, and none after an execve: none of
 * the command nono execs.  When nono reads the records, the landlock enforcer adds
 * NEW_EXEC_ON, which also covers the Unix-socket mediator's helper (nono-unix-helper,
 * executed inside the sandbox): it makes the command's TCP and abstract-socket
 * connects.  The same-executable ones stay on.
 */
#define LL_RESTRICT_SELF_LOG_SAME_EXEC_OFF  (1u << 0)
#define LL_RESTRICT_SELF_LOG_NEW_EXEC_ON    (1u << 1)
#define LL_RESTRICT_SELF_LOG_SUBDOMAINS_OFF (1u << 2)

/*
 * openat2(2), for opening grant paths without following any symbolic link.  Same
 * reason as above: Debian's <linux/openat2.h> is fine, but the plugin includes only
 * libc and the SDK.
 */
#ifdef SYS_openat2
#define LL_NR_openat2 SYS_openat2
#else
#define LL_NR_openat2 437
#endif

struct ll_open_how {
        uint64_t flags;
        uint64_t mode;
        uint64_t resolve;
};

#define LL_RESOLVE_NO_SYMLINKS 0x04ull

#endif /* NONO_LANDLOCK_UAPI_H */
