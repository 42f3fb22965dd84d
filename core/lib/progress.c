/* SPDX-License-Identifier: Apache-2.0 */
#include "progress.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_DELAY_MS    500
#define DEFAULT_INTERVAL_MS 100

static long ms_since(const struct timespec *t)
{
        struct timespec now;

        clock_gettime(CLOCK_MONOTONIC, &now);
        return (long)(now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

void progress_start_on(struct progress *p, const char *label, const char *unit, int fd,
                       long delay_ms, long interval_ms)
{
        memset(p, 0, sizeof(*p));
        p->label = label;
        p->unit = unit;
        /* A pipe or a file gets no carriage-return art. */
        p->fd = isatty(fd) ? fd : -1;
        p->delay_ms = delay_ms;
        p->interval_ms = interval_ms;
        clock_gettime(CLOCK_MONOTONIC, &p->started);
}

void progress_start(struct progress *p, const char *label, const char *unit)
{
        progress_start_on(p, label, unit, STDERR_FILENO, DEFAULT_DELAY_MS, DEFAULT_INTERVAL_MS);
}

/* write(2), not stdio: the line must appear now, whatever stderr's buffering. */
static void put(int fd, const char *text, size_t len)
{
        while (len) {
                ssize_t n = write(fd, text, len);

                if (n <= 0)
                        return;
                text += n;
                len -= (size_t)n;
        }
}

void progress_update(struct progress *p, uint64_t done, uint64_t total)
{
        char line[160];
        int len;

        if (p->fd < 0 || ms_since(&p->started) < p->delay_ms ||
            (p->shown && ms_since(&p->drawn) < p->interval_ms))
                return;
        if (total)
                len = snprintf(line, sizeof(line), "\rnono: %s %llu/%llu %s (%llu%%)\033[K",
                               p->label, (unsigned long long)done, (unsigned long long)total,
                               p->unit, (unsigned long long)(done * 100 / total));
        else
                len = snprintf(line, sizeof(line), "\rnono: %s %llu %s\033[K", p->label,
                               (unsigned long long)done, p->unit);
        if (len <= 0)
                return;
        put(p->fd, line, (size_t)len < sizeof(line) ? (size_t)len : sizeof(line) - 1);
        clock_gettime(CLOCK_MONOTONIC, &p->drawn);
        p->shown = 1;
}

void progress_finish(struct progress *p)
{
        /* Back to column 0 and clear: the user's next output starts on a clean line. */
        if (p->fd >= 0 && p->shown)
                put(p->fd, "\r\033[K", 4);
        p->shown = 0;
}
