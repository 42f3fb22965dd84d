/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Walking a snapshot root, and opening paths below it without ever leaving it.
 */
#ifndef NONO_SNAPSHOT_WALK_H
#define NONO_SNAPSHOT_WALK_H

#include <sys/types.h>

#include "exclude.h"
#include "manifest.h"

struct walk_options {
        struct exclude_rules *rules;
        /* A directory never tracked: the store itself, should it be inside the root. */
        dev_t skip_dev;
        ino_t skip_ino;
        /* The caller's progress callback (may be NULL), and the stage it names. */
        const struct snapshot_progress *progress;
        const char *stage;
};

/*
 * Lists regular files, symlinks and directories below `rootfd` in tree order, with
 * their stat data (digests left zero), without following symlinks or descending into
 * excluded directories.  Other file types are not tracked.  Reports the files found so
 * far (the total is not known yet).
 */
int walk_tree(int rootfd, const struct walk_options *opt, struct manifest *ret);

/*
 * openat() confined to the root: fails rather than resolve "..", an absolute path or
 * any symlink on the way (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS).
 */
int open_beneath(int rootfd, const char *path, int flags, mode_t mode);
/* The parent directory of `path` (an O_PATH fd), and its last component. */
int open_parent_beneath(int rootfd, const char *path, const char **ret_name);

#endif
