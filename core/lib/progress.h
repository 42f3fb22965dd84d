/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A progress line for long operations (snapshots): "nono: snapshot  1234/5678 files (21%)"
 * rewritten in place on stderr -- only when stderr is a terminal, only once the operation
 * has taken longer than a moment (short ones print nothing), at most a few times a
 * second, and erased when done.
 *
 *   struct progress p;
 *   progress_start(&p, "snapshot", "files");
 *   for (...) progress_update(&p, done, total);
 *   progress_finish(&p);
 */
#ifndef NONO_CORE_PROGRESS_H
#define NONO_CORE_PROGRESS_H

#include <stdint.h>
#include <time.h>

struct progress {
        const char *label; /* "snapshot" */
        const char *unit;  /* "files" */
        int fd;            /* -1: not a terminal, nothing is printed */
        long delay_ms;     /* nothing before this much time has passed */
        long interval_ms;  /* between two redraws */
        struct timespec started, drawn;
        int shown; /* a line is on screen (to be erased) */
};

/* On stderr, after 500 ms, redrawn every 100 ms. */
void progress_start(struct progress *p, const char *label, const char *unit);
/* The same on `fd` with explicit timing (tests). */
void progress_start_on(struct progress *p, const char *label, const char *unit, int fd,
                       long delay_ms, long interval_ms);
/* total 0: unknown (no percentage). */
void progress_update(struct progress *p, uint64_t done, uint64_t total);
/* Erases the line, if one was drawn. */
void progress_finish(struct progress *p);

#endif
