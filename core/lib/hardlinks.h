/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hard links that predate the session (A10): a file in a write grant with st_nlink > 1
 * may be the same inode as a file outside every grant, and writing it in place changes
 * that file too; Landlock checks the path, not the other names.  The check is opt-in
 * (--check-hardlinks): a walk of a 20,000-file workspace costs far more than the rest
 * of nono's startup (bench/hardlinks).
 *
 * Walked: the write grants that are the working directory or lie below it (the
 * workspace), bounded by HARDLINKS_MAX_ENTRIES and HARDLINKS_MAX_MS, without crossing
 * mounts or following symlinks.  Skipped: .git/objects (local clones hard-link their
 * objects, which git never writes in place) and node_modules (pnpm hard-links its
 * store into every project).
 */
#ifndef NONO_CORE_HARDLINKS_H
#define NONO_CORE_HARDLINKS_H

#include <limits.h>
#include <stddef.h>

#include "plan.h"

#define HARDLINKS_MAX_ENTRIES 200000
#define HARDLINKS_MAX_MS      500
#define HARDLINKS_NAMED       3

struct hardlinks_report {
        size_t found;                          /* regular files with other links */
        size_t scanned;                        /* entries looked at */
        int truncated;                         /* a bound was reached: there may be more */
        char named[HARDLINKS_NAMED][PATH_MAX]; /* the first ones, relative to the root */
};

/* Walks `root` (a directory), adding to *rep; 0 or a negative errno (root unreadable). */
int hardlinks_scan(const char *root, struct hardlinks_report *rep);

/* Scans the plan's workspace grants and warns once when it finds any. */
void hardlinks_check_plan(const struct plan *p);

#endif
