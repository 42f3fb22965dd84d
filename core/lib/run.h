/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `nono run` / `wrap` / `shell` as a library call: a request (what the user asked for,
 * unresolved) is resolved into a plan (default profile + named profile + flags),
 * reviewed, prepared by the plugins, then applied in a child (run) or in the calling
 * process (wrap).
 */
#ifndef NONO_CORE_RUN_H
#define NONO_CORE_RUN_H

#include "netplan.h"
#include "plan.h"
#include "reslimits.h"
#include "profile.h"
#include "strv.h"

/* Exit codes, as the Rust nono: the child's own code is passed through. */
enum nono_exit {
        NONO_EXIT_ERROR = 1,         /* nono itself failed (bad input, setup in the parent) */
        NONO_EXIT_SETUP = 126,       /* the sandbox could not be applied in the child */
        NONO_EXIT_EXEC = 127,        /* execve failed in the child */
        NONO_EXIT_SIGNAL_BASE = 128, /* + signal number when the child was killed */
};

struct run_request {
        const char *profile; /* -p/--profile or NONO_PROFILE; NULL: default only */
        /* Raw paths from flags, relative to the caller's cwd. */
        struct strv allow, read, write;
        struct strv allow_file, read_file, write_file;
        struct strv allow_env;         /* --allow-env: variables passed despite the scrub */
        struct strv allow_persistence; /* --allow-persistence: writable persistence paths */
        struct strv allow_unix_socket; /* --allow-unix-socket: connectable sockets */
        int allow_cwd;                 /* grant the workdir (access from the profile, else rw) */
        const char *workdir;           /* --workdir; NULL: the current directory */
        const char *backend;           /* --backend; NULL: nono.conf, else "landlock" */
        int best_effort;               /* missing kernel features warn instead of failing */
        int dry_run;
        int share_tmp;          /* --share-tmp: the host's /tmp and /dev/shm, not private */
        int check_hardlinks;    /* --check-hardlinks: warn about hard-linked workspace files */
        struct limits limits;   /* --max-processes, --max-memory...: override the profile's */
        struct net_request net; /* --block-net, --allow-domain, --credential, ports... */
        char *const *argv;      /* the command; NULL-terminated */
};

void run_request_init(struct run_request *req);
void run_request_free(struct run_request *req);

/*
 * Resolves the request into a plan (profile, groups, flags, protected-path check).
 * `ret_profile` (optional) receives the merged profile.  Does not load plugins.
 */
int run_build_plan(const struct run_request *req, struct plan *ret, struct profile *ret_profile);

/*
 * Runs the command in a sandboxed child and waits.  Returns the exit code nono should
 * exit with (the child's, or enum nono_exit), having printed any error.
 */
int run_command(const struct run_request *req);

/* Applies the sandbox to the calling process and execs the command; returns only on
 * failure, with an exit code. */
int run_wrap(const struct run_request *req);

/*
 * `nono proxy`: the filtering proxy alone, for another isolation layer.  Prints the
 * variables a client should use (NAME=value lines) and serves until SIGINT/SIGTERM.
 * Returns the exit code.
 */
int run_proxy(const struct run_request *req);

#endif
