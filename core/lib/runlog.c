/* SPDX-License-Identifier: Apache-2.0 */
#include "runlog.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "audit.h"
#include "error.h"
#include "host.h"
#include "nono-build-config.h"
#include "redact.h"

/* Plugin events (proxy decisions, ...) go to the session's log, tagged with the plugin. */
static int log_plugin_event(const char *plugin, const char *type, const char *json_fields,
                            void *userdata)
{
        json_t *fields = json_loads(json_fields, 0, NULL);
        int r;

        if (!fields)
                return -EINVAL;
        json_object_set_new(fields, "plugin", json_string(plugin));
        r = audit_event(userdata, type, fields);
        json_decref(fields);
        return r;
}

static int log_start(struct audit_session *a, const struct runlog_start *s)
{
        json_t *start =
            json_pack("{s:s, s:s, s:o, s:s?, s:s?, s:s?, s:s?, s:i, s:i, s:s}", "session",
                      audit_session_id(a), "mode", s->wrap ? "wrap" : "run", "argv",
                      redact_argv_json(s->argv), "command", s->command, "profile", s->profile,
                      "workdir", s->workdir, "backend", s->backend, "pid", (int)getpid(), "uid",
                      (int)getuid(), "nono", NONO_VERSION);
        json_t *plan = json_pack("{s:O}", "plan", s->plan);
        int r = start ? audit_event(a, "session.start", start) : -ENOMEM;

        if (r >= 0)
                r = plan ? audit_event(a, "plan", plan) : -ENOMEM;
        json_decref(start);
        json_decref(plan);
        return r;
}

void runlog_open(struct runlog *log, const struct host_config *c, const struct runlog_start *s)
{
        char *root = NULL;
        int r;

        log->audit = NULL;
        log->root = NULL;
        clock_gettime(CLOCK_MONOTONIC, &log->started);
        if (c->audit_disabled)
                return;
        r = audit_root(&root);
        if (r >= 0)
                r = audit_session_open(root, c->audit_syslog, &log->audit);
        if (r >= 0)
                r = log_start(log->audit, s);
        if (r < 0) {
                nono_warn("no audit log for this run: %s", nono_errmsg());
                audit_session_close(log->audit);
                log->audit = NULL;
                free(root);
                return;
        }
        log->root = root;
        host_set_audit_sink(log_plugin_event, log->audit);
}

void runlog_prune(struct runlog *log, const struct host_config *c)
{
        /* After session.start (runlog_open): this session is in progress, never pruned. */
        if (log->root && audit_retain(log->root, c->audit_keep_sessions, c->audit_max_age_days) < 0)
                nono_warn("old audit sessions were not removed: %s", nono_errmsg());
        free(log->root);
        log->root = NULL;
}

static long elapsed_ms(const struct timespec *since)
{
        struct timespec now;

        clock_gettime(CLOCK_MONOTONIC, &now);
        return (long)(now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

void runlog_close(struct runlog *log, int exit_code, const struct diagnostics *d, const char *error)
{
        json_t *denials = d ? diagnostics_denials_json(d) : json_array();
        json_t *end = json_pack("{s:i, s:I, s:I, s:s*}", "exit_code", exit_code, "duration_ms",
                                (json_int_t)elapsed_ms(&log->started), "denied_total",
                                (json_int_t)(d ? d->denied_total : 0), "error", error);
        int r = 0;

        if (!log->audit)
                goto out;
        for (size_t i = 0; r >= 0 && i < json_array_size(denials); i++)
                r = audit_event(log->audit, "denied", json_array_get(denials, i));
        if (r >= 0)
                r = end ? audit_event(log->audit, "session.end", end) : -ENOMEM;
        if (r < 0)
                nono_warn("the audit log of this run is incomplete: %s", nono_errmsg());
        host_set_audit_sink(NULL, NULL);
        audit_session_close(log->audit);
        log->audit = NULL;
out:
        free(log->root);
        log->root = NULL;
        json_decref(denials);
        json_decref(end);
}

void runlog_exec(struct runlog *log, const char *command)
{
        json_t *fields = json_pack("{s:i, s:s}", "pid", (int)getpid(), "command", command);
        int r = fields ? audit_event(log->audit, "exec", fields) : -ENOMEM;

        if (r < 0)
                nono_warn("the audit log of this run is incomplete: %s", nono_errmsg());
        json_decref(fields);
}

struct audit_session *runlog_session(const struct runlog *log)
{
        return log->audit;
}
