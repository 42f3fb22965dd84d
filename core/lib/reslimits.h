/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Resource limits on the sandboxed command (profile `limits`, --max-* flags), applied
 * in the child just before exec, so they hold for everything it starts:
 *
 *   max_processes     RLIMIT_NPROC: the processes of the child's user.  In the user
 *                     namespace nono makes for an unprivileged caller it counts the
 *                     sandbox's processes only; without one it counts every process of
 *                     the real uid (the caller's own outside the sandbox too).  Root is
 *                     exempt from RLIMIT_NPROC, so as root `nono run` puts the child in
 *                     a cgroup of its own with pids.max instead (limits_cgroup_*).
 *   max_memory_mb     RLIMIT_DATA: private writable memory, per process (not a total).
 *   max_open_files    RLIMIT_NOFILE, per process.
 *   max_file_size_mb  RLIMIT_FSIZE: the largest file a process may write (SIGXFSZ).
 *   cpu_seconds       RLIMIT_CPU, per process (SIGXCPU, then SIGKILL).
 *
 * Unset (LIMIT_UNSET) means no limit: the default.
 */
#ifndef NONO_CORE_RESLIMITS_H
#define NONO_CORE_RESLIMITS_H

#include <stdio.h>

#define LIMIT_UNSET (-1LL)

struct limits {
        long long max_processes;
        long long max_memory_mb;
        long long max_open_files;
        long long max_file_size_mb;
        long long cpu_seconds;
};

void limits_init(struct limits *l);

/* The limits `src` sets replace those of `dst`. */
void limits_override(struct limits *dst, const struct limits *src);

/* Parses a flag's value: a positive decimal integer.  `flag` names it in the error. */
int limits_parse(const char *flag, const char *value, long long *ret);

/* True when any limit is set. */
int limits_any(const struct limits *l);

/* Child side, async-signal-safe: setrlimit for each limit.  0 or a negative errno. */
int limits_apply(const struct limits *l);

/* The plan's "limits: ..." line (--dry-run); nothing when none is set. */
void limits_print(const struct limits *l, FILE *out);

/*
 * The process limit as root: a cgroup (v2, or v1's pids hierarchy) below nono's own,
 * with pids.max.  prepare (parent) makes it when the limit is set and nono is root;
 * join (child, async-signal-safe) moves the calling process into it; remove (parent,
 * after the run) deletes it.  A zeroed struct is "no cgroup": join and remove do nothing.
 */
struct limits_cgroup {
        char path[512]; /* "" when none was made */
        int procs_fd;   /* its cgroup.procs, open for writing (when path is set) */
};

int limits_cgroup_prepare(const struct limits *l, struct limits_cgroup *cg);
int limits_cgroup_join(const struct limits_cgroup *cg);
void limits_cgroup_remove(struct limits_cgroup *cg);

#endif
