/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A progress line for long operations (snapshots): "nono: snapshot 1234/5678 files (21%)"
 * rewritten in place on stderr -- only when stderr is a terminal, only once the operation
 * has taken longer than a moment (short ones print nothing), at most ten times a second
 * (and once more when a new phase begins: another label, or the total becomes known),
 * and erased when done.
 *
 *   struct progress p;
 *   progress_start(&p, "snapshot", "files");
 *   for (...) progress_update(&p, done, total);
 *   progress_finish(&p);
 *
 * or, for the snapshot engine's callback (snapshot.h), whose stages name the line:
 *
 *   snapshot_baseline(&opt, progress_snapshot(&p, quiet), &session);
 *   progress_finish(&p);
 *
 * NONO_PROGRESS_DELAY_MS (a knob for tests only, see docs/snapshots.md) replaces the
 * 500 ms delay, so that a test can see the line on a small tree.
 */
#ifndef NONO_CORE_PROGRESS_H
#define NONO_CORE_PROGRESS_H

#include <stdint.h>
#include <time.h>

#include "snapshot.h"

struct progress {
        const char *label; /* "snapshot" */
        const char *unit;  /* "files" */
        int fd;            /* -1: not a terminal, nothing is printed */
        long delay_ms;     /* nothing before this much time has passed */
        long interval_ms;  /* between two redraws */
        struct timespec started, drawn;
        int shown; /* a line is on screen (to be erased) */
        /* What the line on screen shows: a new phase is drawn at once. */
        const char *drawn_label;
        int drawn_with_total;
        struct snapshot_progress snapshot; /* progress_snapshot's callback into this line */
};

/* On stderr, after 500 ms (or NONO_PROGRESS_DELAY_MS), redrawn every 100 ms. */
void progress_start(struct progress *p, const char *label, const char *unit);
/* The same on `fd` with explicit timing (tests). */
void progress_start_on(struct progress *p, const char *label, const char *unit, int fd,
                       long delay_ms, long interval_ms);
/* total 0: unknown (no percentage). */
void progress_update(struct progress *p, uint64_t done, uint64_t total);
/* Erases the line, if one was drawn. */
void progress_finish(struct progress *p);

/*
 * Starts `p` on stderr in "files" and returns a snapshot engine callback drawing into
 * it, the engine's stage as the label.  `quiet`: never drawn (output read by programs).
 */
const struct snapshot_progress *progress_snapshot(struct progress *p, int quiet);

#endif
