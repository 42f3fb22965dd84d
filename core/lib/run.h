/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `nono run` / `wrap` / `shell` as a library call: a request (what the user asked for,
 * unresolved) is resolved into a plan (default profile + named profile + flags),
 * reviewed, prepared by the plugins, then applied in a child (run) or in the calling
 * process (wrap).
 */
#ifndef NONO_CORE_RUN_H
#define NONO_CORE_RUN_H

#include "host.h"
#include "netplan.h"
#include "plan.h"
#include "reslimits.h"
#include "profile.h"
#include "strv.h"
#include "supervisor.h"
#include "vars.h"

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
        int allow_unix_datagrams;      /* --allow-unix-datagrams: AF_UNIX SOCK_DGRAM allowed */
        int allow_cwd;                 /* grant the workdir (access from the profile, else rw) */
        const char *workdir;           /* --workdir; NULL: the current directory */
        const char *backend;           /* --backend; NULL: nono.conf, else "landlock" */
        int best_effort;               /* missing kernel features warn instead of failing */
        int dry_run;
        int share_tmp;          /* --share-tmp: the host's /tmp and /dev/shm, not private */
        int check_hardlinks;    /* --check-hardlinks: warn about hard-linked workspace files */
        struct limits limits;   /* --max-processes, --max-memory...: override the profile's */
        struct net_request net; /* --block-net, --allow-domain, --credential, ports... */
        int no_diagnostics;     /* --no-diagnostics: no denial report after the run */
        int diagnostics_json;   /* --diagnostics-json: the report as one JSON object */
        int rollback;           /* --rollback: snapshot the workdir before and after */
        int no_rollback_prompt; /* --no-rollback-prompt: never offer to restore */
        struct strv rollback_exclude; /* --rollback-exclude: .gitignore-syntax patterns */
        char *const *argv;            /* the command; NULL-terminated */
};

void run_request_init(struct run_request *req);
void run_request_free(struct run_request *req);

/*
 * Resolves the request into a plan (profile, groups, flags, protected-path check).
 * `ret_profile` (optional) receives the merged profile.  Does not load plugins.
 */
int run_build_plan(const struct run_request *req, struct plan *ret, struct profile *ret_profile);

/* nono's own configuration and state are never reachable from inside: adds them to
 * the plan's protected paths. */
int run_protect_own_state(const struct vars *v, struct plan *p);

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

/*
 * Plan-based sessions, for the SDK (nono.h): the plan comes from the caller, not from
 * profiles and flags.  The same steps as run and wrap: nono.conf, the enforcer, the
 * policy modules' review, the enforcer's prepare.
 */
struct session;

/* The step a session failed at, so that callers can tell a policy refusal apart. */
enum run_stage {
        RUN_STAGE_CONFIG = 1,     /* reading nono.conf */
        RUN_STAGE_PLUGIN = 2,     /* loading or probing the enforcer */
        RUN_STAGE_POLICY = 3,     /* a policy module refused the plan */
        RUN_STAGE_PLAN = 4,       /* the enforcer cannot enforce the plan here */
        RUN_STAGE_PREPARE = 5,    /* the enforcer's prepare */
        RUN_STAGE_EXEC = 6,       /* the command cannot be found or started */
        RUN_STAGE_APPLY = 7,      /* applying the sandbox failed */
        RUN_STAGE_CREDENTIAL = 8, /* a credential route's secret cannot be resolved */
};

/* Takes the contents of *plan (left empty, also on failure). */
int run_session_open(struct plan *plan, const char *backend, struct session **ret,
                     enum run_stage *ret_stage);
/*
 * Applies the prepared sandbox to the calling thread's process (enforcer apply, then
 * hygiene): irrevocable.  Unlike wrap, the caller's descriptors are left alone.
 */
int run_session_apply_self(struct session *s);
/*
 * Runs argv (argv[0] looked up in PATH) in a sandboxed child with `envp` scrubbed by
 * the plan's environment rules; see supervisor_run_captured.  Once per session.
 */
int run_session_exec(struct session *s, char *const *argv, char *const *envp, int timeout_ms,
                     size_t max_output, struct captured_result *res, enum run_stage *ret_stage);
/*
 * The standalone filtering proxy of `plan` (network mode PROXY; contents taken, as
 * run_session_open), for the SDK: nono.conf, the filter-proxy plugin, the routes'
 * secrets, the proxy process (which dies with the caller).  `sink` (may be NULL)
 * receives the proxy's audit events in the proxy process.  run_session_free stops it
 * and waits for it.
 */
int run_proxy_open(struct plan *plan, host_audit_sink_fn sink, void *userdata, struct session **ret,
                   enum run_stage *ret_stage);
/* Adds the variables a client of the session's network mode needs to `env`. */
int run_session_network_env(struct session *s, struct strv *env);
/* The plan after the policy modules' review. */
const struct plan *run_session_plan(const struct session *s);
void run_session_free(struct session *s);

#endif
