/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The audit log of one `nono run` or `nono wrap` (audit.h holds the log itself):
 * session.start with the redacted command line, the resolved plan, every plugin event
 * (the host's audit sink points here while the run lasts), the refusals and
 * session.end.  `nono wrap` has no supervisor: its log ends with the `exec` event, unless
 * nono failed before the command replaced it.  An audit log that cannot be written is a
 * warning, never a reason to refuse the run.
 */
#ifndef NONO_CORE_RUNLOG_H
#define NONO_CORE_RUNLOG_H

#include <jansson.h>
#include <time.h>

#include "config.h"
#include "diagnostics.h"

struct runlog {
        struct audit_session *audit; /* NULL: off (nono.conf) or unavailable */
        struct timespec started;
        char *root; /* the audit directory, until runlog_prune */
};

/* What session.start records. */
struct runlog_start {
        char *const *argv; /* redacted before it is written */
        const char *command, *profile, *workdir, *backend;
        json_t *plan; /* plan_json_value */
        int wrap;     /* nono wrap: the command will replace nono (session.start's mode) */
};

/* Starts the log (unless nono.conf turns it off) and routes plugin events to it. */
void runlog_open(struct runlog *log, const struct host_config *c, const struct runlog_start *s);
/*
 * Applies nono.conf's retention limits to the older sessions (once per log; no-op
 * without one).  Removing sessions costs about a millisecond a run once the limit is
 * reached, so nono run does it while the command starts, not before.
 */
void runlog_prune(struct runlog *log, const struct host_config *c);
/*
 * session.end (after one `denied` event per exact refusal in `d`, which may be NULL
 * when the command never started; `error` then says why).  Closes the log.
 */
void runlog_close(struct runlog *log, int exit_code, const struct diagnostics *d,
                  const char *error);

/*
 * nono wrap, sandbox applied: the command replaces this process (its pid) now.  The log
 * stays open for runlog_close should execve fail; its files are close-on-exec.
 */
void runlog_exec(struct runlog *log, const char *command);

/* The session for other events (snapshot ids): audit_event(runlog_session(log), ...).
 * NULL when there is no log, which audit_event accepts. */
struct audit_session *runlog_session(const struct runlog *log);

#endif
