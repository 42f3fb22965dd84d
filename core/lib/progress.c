/* SPDX-License-Identifier: Apache-2.0 */
#include "progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"

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

/* The tests' knob: a line on a tree small enough to snapshot in a moment. */
static long delay_ms(void)
{
        const char *v = secure_getenv("NONO_PROGRESS_DELAY_MS");
        char *end;
        long ms;

        if (!v || !*v)
                return DEFAULT_DELAY_MS;
        ms = strtol(v, &end, 10);
        return *end || ms < 0 ? DEFAULT_DELAY_MS : ms;
}

void progress_start(struct progress *p, const char *label, const char *unit)
{
        progress_start_on(p, label, unit, STDERR_FILENO, delay_ms(), DEFAULT_INTERVAL_MS);
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

/* The line on screen: a message printed meanwhile (a warning) erases it first. */
static struct progress *on_screen;

static void erase(struct progress *p)
{
        /* Back to column 0 and clear: the next output starts on a clean line. */
        if (p->fd >= 0 && p->shown)
                put(p->fd, "\r\033[K", 4);
        p->shown = 0;
        if (on_screen == p) {
                on_screen = NULL;
                nono_set_before_message(NULL);
        }
}

/* The message takes the line; the next update draws it again, below. */
static void erase_for_message(void)
{
        if (on_screen)
                erase(on_screen);
}

/*
 * What the line on screen says changes meaning (another stage, or a total now known):
 * redrawn at once, whatever the rate limit, which holds within a phase.
 */
static int new_phase(const struct progress *p, uint64_t total)
{
        return !p->shown || strcmp(p->drawn_label, p->label) != 0 ||
               p->drawn_with_total != (total != 0);
}

void progress_update(struct progress *p, uint64_t done, uint64_t total)
{
        char line[160];
        int len;

        if (p->fd < 0 || ms_since(&p->started) < p->delay_ms ||
            (!new_phase(p, total) && ms_since(&p->drawn) < p->interval_ms))
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
        p->drawn_label = p->label;
        p->drawn_with_total = total != 0;
        on_screen = p;
        nono_set_before_message(erase_for_message);
}

void progress_finish(struct progress *p)
{
        erase(p);
}

static void report_stage(void *userdata, const char *stage, uint64_t done, uint64_t total)
{
        struct progress *p = userdata;

        p->label = stage;
        progress_update(p, done, total);
}

const struct snapshot_progress *progress_snapshot(struct progress *p, int quiet)
{
        progress_start(p, "snapshot", "files");
        if (quiet)
                p->fd = -1;
        p->snapshot = (struct snapshot_progress){report_stage, p};
        return &p->snapshot;
}
