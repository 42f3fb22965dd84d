/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An audit channel: carries the audit events a plugin emits in a process of its own
 * (the filter proxy's) back to the process that started it, as JSON lines over a pipe.
 * The writing side is a host audit sink (auditchan_sink) that runs in the plugin's
 * process; the reading side buffers complete lines until they are drained.
 *
 * The proxy must never block on an audit write: the write end is non-blocking and an
 * event that does not fit (nobody drained for a long time) is dropped, and counted in
 * an "audit.lost" event written as soon as there is room again.
 */
#ifndef NONO_CORE_AUDITCHAN_H
#define NONO_CORE_AUDITCHAN_H

#include <stddef.h>

#include "strv.h"

struct auditchan {
        int read_fd, write_fd; /* -1 when closed */
        unsigned long lost;    /* writer side: events dropped since the last write */
        char *partial;         /* reader side: an incomplete last line */
        size_t partial_len;
};

/* A pipe as large as the system lets an unprivileged process have. */
int auditchan_open(struct auditchan *c);

/*
 * host_audit_sink_fn writing one line per event:
 * {"type": ..., "plugin": ..., "time": "2026-01-02T03:04:05.678Z", <the event's fields>}.
 * userdata is the struct auditchan.  Never blocks.
 */
int auditchan_sink(const char *plugin, const char *type, const char *json_fields, void *userdata);

/* The starting process, once the plugin's process has its copy of the write end. */
void auditchan_close_writer(struct auditchan *c);

/* Appends the complete lines available now to `out` (never blocks). */
int auditchan_drain(struct auditchan *c, struct strv *out);

void auditchan_free(struct auditchan *c);

#endif
