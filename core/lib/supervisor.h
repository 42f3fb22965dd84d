/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The supervisor: forks the sandboxed child, runs the child-side setup (enforcers),
 * execs the command, then forwards signals and waits.  The child reports a setup or
 * exec failure over a close-on-exec pipe, so the parent can tell "the sandbox could
 * not be applied" (126) and "exec failed" (127) from the command's own exit code.
 */
#ifndef NONO_CORE_SUPERVISOR_H
#define NONO_CORE_SUPERVISOR_H

#include <stddef.h>

#define CHILD_ERROR_MAX 512

/* Filled in the child when its setup fails; written to the parent verbatim. */
struct child_error {
        int stage; /* enum child_stage */
        int err;   /* positive errno */
        char message[CHILD_ERROR_MAX];
};

enum child_stage {
        CHILD_STAGE_SETUP = 1, /* applying the sandbox */
        CHILD_STAGE_EXEC = 2,  /* execve */
};

/*
 * Runs in the child after fork: async-signal-safe code only (no malloc, no stdio).
 * Returns 0 or a negative errno and fills err->message.
 */
typedef int (*child_setup_fn)(void *userdata, struct child_error *err);

struct kaudit;
struct unixmed;

struct child_spec {
        const char *exec_path; /* resolved executable */
        char *const *argv;
        char *const *envp;
        const char *workdir;
        child_setup_fn setup;
        void *setup_userdata;
        /* Mediates the child's Unix-socket connects (wrap: after unixmed_start_detached);
         * owned by the caller.  NULL: none. */
        struct unixmed *unix_mediator;
        /* Moves aside persistence paths the child creates (run only); owned by the
         * caller.  NULL: none. */
        struct persist_watch *persist_watch;
        /* Landlock's audit records, read while the command runs, of domains the child
         * creates (see kaudit.h); owned by the caller.  NULL: none. */
        struct kaudit *kaudit;
        /* One descriptor the command inherits on purpose (the sealed plan for
         * `nono why --self`); every other one above 2 is closed at exec.  0: none. */
        int keep_fd;
        /* Called in nono once the child is on its way to exec: work that need not
         * come before the command (it overlaps the exec).  NULL: none. */
        void (*started)(void *userdata);
        void *started_userdata;
};

/*
 * Forks, sets the child up and waits for it.  Returns the exit code nono should
 * exit with: the child's own, 128+N for a signal, 126/127 for child-side failures
 * (after printing the child's message).  Negative errno when fork itself failed.
 */
int supervisor_run(const struct child_spec *spec);

/*
 * The parts of the child's preparation shared by `run` (in the forked child) and
 * `wrap` (in nono itself before exec): chdir, mark inherited fds close-on-exec, then
 * the setup callback, the hygiene and the Unix-socket filter.  Async-signal-safe.
 * Returns 0, negative errno (err filled), or 1 when the Unix-socket mediator fell back
 * to refusing Unix sockets (err->message says so; nono run warns on its own).
 */
int supervisor_prepare_self(const struct child_spec *spec, struct child_error *err);

/* Descriptors the captured command gets as stdin, stdout and stderr. */
struct capture_fds {
        int stdin_fd, stdout_fd, stderr_fd;
        int report_fd; /* the reaper's report to the caller */
};

struct captured_stream {
        char *data; /* NUL-terminated; NULL when nothing was written */
        size_t len;
        int truncated; /* more than max_output bytes were written; the rest is dropped */
};

struct captured_result {
        int exit_code;    /* the command's, or 128+N for signal N */
        int timed_out;    /* killed (SIGKILL) when the timeout passed */
        int child_failed; /* enum child_stage when setup or exec failed in the child */
        struct child_error child_error;
        struct captured_stream out[2]; /* stdout, stderr */
};

/* Prepares the Unix-socket mediator for the child (see unixmed.h). */
typedef int (*mediator_prepare_fn)(void *userdata, struct unixmed **ret);

struct capture_options {
        int timeout_ms;    /* > 0: kill the command (and all it started) after that */
        size_t max_output; /* bytes kept of stdout and of stderr each */
        /* Called in the reaper before the child is spawned; NULL: no mediation.  The
         * mediator lives and dies in the reaper. */
        mediator_prepare_fn prepare_mediator;
        void *userdata;
};

/*
 * Runs the command like supervisor_run, for a host application (the SDK): through a
 * reaper process of its own, so nothing process-wide changes in the caller (no
 * subreaper, no signal handlers, no non-dumpable flag; only the sandbox's processes
 * are ever killed; the reaper holds none of the caller's descriptors while the command
 * runs).  stdin is /dev/null; stdout and stderr are captured.  Returns 0 and fills
 * *res; NONO_EXIT_SETUP or NONO_EXIT_EXEC when the child failed (res->child_error says
 * why); a negative errno when the run could not be started.  Free *res with
 * captured_result_free in every case.
 */
int supervisor_run_captured(const struct child_spec *spec, const struct capture_options *opts,
                            struct captured_result *res);
void captured_result_free(struct captured_result *res);

#endif
