/* SPDX-License-Identifier: Apache-2.0 */
#include "auditchan.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "error.h"

/* The unprivileged maximum (fs.pipe-max-size's default): room for thousands of events. */
#define AUDITCHAN_PIPE_SIZE (1 << 20)

int auditchan_open(struct auditchan *c)
{
        int fds[2];

        memset(c, 0, sizeof(*c));
        c->read_fd = c->write_fd = -1;
        if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0)
                return nono_error(-errno, "cannot create the audit channel: %s", strerror(errno));
        /* Best effort: a smaller pipe only means events are lost sooner. */
        (void)fcntl(fds[1], F_SETPIPE_SZ, AUDITCHAN_PIPE_SIZE);
        c->read_fd = fds[0];
        c->write_fd = fds[1];
        return 0;
}

static void set_time(json_t *event)
{
        struct timespec ts;
        struct tm tm;
        char buf[64];

        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), ".%03ldZ", ts.tv_nsec / 1000000);
        json_object_set_new(event, "time", json_string(buf));
}

/* One line, written whole or not at all: lines up to PIPE_BUF are atomic on a pipe. */
static int write_line(struct auditchan *c, json_t *event)
{
        char *text;
        size_t len;
        ssize_t n;

        set_time(event);
        text = json_dumps(event, JSON_COMPACT);
        if (!text)
                return -ENOMEM;
        len = strlen(text);
        text[len] = '\n';
        n = len + 1 <= PIPE_BUF ? write(c->write_fd, text, len + 1) : -1;
        free(text);
        return n == (ssize_t)(len + 1) ? 0 : -EAGAIN;
}

static void report_lost(struct auditchan *c)
{
        json_t *lost = json_pack("{s:s, s:I}", "type", "audit.lost", "events", (json_int_t)c->lost);

        if (lost && write_line(c, lost) == 0)
                c->lost = 0;
        json_decref(lost);
}

int auditchan_sink(const char *plugin, const char *type, const char *json_fields, void *userdata)
{
        struct auditchan *c = userdata;
        json_t *fields = json_loads(json_fields, 0, NULL);
        json_t *event = json_pack("{s:s, s:s}", "type", type, "plugin", plugin);
        int r = fields && event ? 0 : -ENOMEM;

        if (c->lost)
                report_lost(c);
        if (r == 0 && json_object_update_missing(event, fields) < 0)
                r = -ENOMEM;
        /* Dropped rather than waited for: the proxy never stalls on its audit trail. */
        if (r == 0 && (c->lost || write_line(c, event) < 0))
                c->lost++;
        json_decref(fields);
        json_decref(event);
        return r;
}

void auditchan_close_writer(struct auditchan *c)
{
        if (c->write_fd >= 0)
                close(c->write_fd);
        c->write_fd = -1;
}

/* Moves the complete lines at the start of c->partial to `out`. */
static int take_lines(struct auditchan *c, struct strv *out)
{
        size_t start = 0;
        char *nl;
        int r = 0;

        while (r >= 0 && (nl = memchr(c->partial + start, '\n', c->partial_len - start))) {
                *nl = '\0';
                r = strv_push(out, c->partial + start);
                start = (size_t)(nl - c->partial) + 1;
        }
        memmove(c->partial, c->partial + start, c->partial_len - start);
        c->partial_len -= start;
        return r;
}

int auditchan_drain(struct auditchan *c, struct strv *out)
{
        char buf[65536];
        ssize_t n;

        if (c->read_fd < 0)
                return 0;
        while ((n = read(c->read_fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)) {
                char *grown;
                int r;

                if (n < 0)
                        continue;
                grown = realloc(c->partial, c->partial_len + (size_t)n);
                if (!grown)
                        return -ENOMEM;
                c->partial = grown;
                memcpy(c->partial + c->partial_len, buf, (size_t)n);
                c->partial_len += (size_t)n;
                r = take_lines(c, out);
                if (r < 0)
                        return r;
        }
        if (n < 0 && errno != EAGAIN)
                return nono_error(-errno, "cannot read the audit channel: %s", strerror(errno));
        return 0;
}

void auditchan_free(struct auditchan *c)
{
        if (c->read_fd >= 0)
                close(c->read_fd);
        auditchan_close_writer(c);
        free(c->partial);
        memset(c, 0, sizeof(*c));
        c->read_fd = c->write_fd = -1;
}
