/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The snapshot engine's internal interface: taking a snapshot of a root, and the
 * sessions stored as refs:
 *
 *   session/<id>/meta  ->  JSON: id, time, root, exclusion options (restore re-applies them)
 *   session/<id>/<n>   ->  the record of snapshot n (0 the baseline)
 */
#ifndef NONO_SNAPSHOT_ENGINE_H
#define NONO_SNAPSHOT_ENGINE_H

#include "manifest.h"
#include "objects.h"
#include "snapshot.h"
#include "strv.h"
#include "walk.h"

/*
 * Walks the root and hashes what changed since `prev` (may be NULL): a file whose size,
 * mtime, ctime and inode match its entry in `prev` keeps its digest, unless it changed
 * too close to when `prev` was taken to be sure (git's "racy" files).  Unless
 * os->hash_only, stores the content and the manifest, and returns the record's digest.
 * Reports progress through wo->progress: the files found, then the files done.
 */
int snapshot_take(struct objstore *os, int rootfd, const struct walk_options *wo,
                  const struct manifest *prev, struct manifest *ret,
                  struct nono_digest *ret_record);

struct session_meta {
        char *id;
        int64_t time;
        char *root;
        int use_gitignore;
        struct strv patterns;
        unsigned n_snapshots;
};

void session_meta_free(struct session_meta *m);
/* Reads the session's meta and counts its snapshots. */
int session_meta_load(struct objstore *os, const char *id, struct session_meta *ret);
/* "session/<id>/<index>" */
char *session_ref(const char *id, unsigned index);
/* The snapshot `index` (< 0: from the end) of a session, resolved and range-checked. */
int session_index(const struct session_meta *m, int index, unsigned *ret);
/* `hint`: an already loaded snapshot of the session, to share directories with (or NULL). */
int session_load(struct objstore *os, const char *id, unsigned index, const struct manifest *hint,
                 struct manifest *ret);

/* Opens the root and its exclusion rules as the session recorded them. */
struct session_root {
        int fd;
        struct exclude_rules *rules;
        struct walk_options walk;
};
int session_root_open(struct objstore *os, const struct session_meta *m, struct session_root *ret);
void session_root_close(struct session_root *r);

int engine_restore(const char *id, int index, int dry_run, const struct snapshot_progress *progress,
                   struct snapshot_changes *ret);

#endif
