/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The audit log of one `nono run` (audit.h holds the log itself): session.start with
 * the redacted command line, the resolved plan, every plugin event (the host's audit
 * sink points here while the run lasts), the refusals and session.end.  An audit log
 * that cannot be written is a warning, never a reason to refuse the run.
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
};

/* What session.start records. */
struct runlog_start {
        char *const *argv; /* redacted before it is written */
        const char *command, *profile, *workdir, *backend;
        json_t *plan; /* plan_json_value */
};

/* Starts the log (unless nono.conf turns it off) and routes plugin events to it. */
void runlog_open(struct runlog *log, const struct host_config *c, const struct runlog_start *s);
/*
 * session.end (after one `denied` event per exact refusal in `d`, which may be NULL
 * when the command never started; `error` then says why).  Closes the log.
 */
void runlog_close(struct runlog *log, int exit_code, const struct diagnostics *d,
                  const char *error);

/* The session for other events (snapshot ids): audit_event(runlog_session(log), ...).
 * NULL when there is no log, which audit_event accepts. */
struct audit_session *runlog_session(const struct runlog *log);

#endif
