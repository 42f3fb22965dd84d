/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Persistence paths the sandbox must not create.
 *
 * An existing persistence path (.git/hooks, .envrc, .vscode, ...) inside a write grant
 * is held read-only by a bind mount.  A missing one cannot be: a mount needs an existing
 * path, and Landlock cannot refuse one name in a directory where it allows creating
 * files.  So nono watches for them: while the command runs, the supervisor watches the
 * directory of each missing path with inotify, and the moment one appears it is renamed
 * aside, in the same directory, to NAME.nono-blocked-TAG, where no git, shell or editor
 * looks for it.  Nothing is deleted.  A last sweep after the command ended catches what
 * the live watch could not see (inotify unavailable, a full queue) and the paths inside
 * directories the command made itself (the hooks and config of a repository it
 * `git init`ed: git must be able to finish; nothing of the user's reads them meanwhile).
 * What was on the way before the command started is the user's and is left alone (a
 * worktree's `.git` file).
 *
 * Every component between the grant and the path must stay a real directory: a `.git`
 * that is a symlink or a file (a gitdir pointer) would lead git to hooks elsewhere, so
 * such a component is moved aside too.  Renames go through openat2 with
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS from the grant's own descriptor, so a symlink
 * the sandbox plants can never make nono rename something outside the grant.
 */
#ifndef NONO_CORE_PERSISTWATCH_H
#define NONO_CORE_PERSISTWATCH_H

#include <stddef.h>

struct strv;
struct persist_watch;

/* One path the sandbox created and nono moved aside (or failed to). */
struct persist_blocked {
        char *path;     /* where the sandbox put it */
        char *moved_to; /* where it is now; NULL when the rename failed */
        int err;        /* errno of the failed rename, else 0 */
};

/*
 * Parent, before the child starts.  `paths`: the missing persistence paths (absolute);
 * `roots`: the write grants they lie in (each path is matched to the deepest one);
 * `tag`: a short word naming the run in the new names.  Returns 0 or a negative errno
 * with a message.  Without inotify the watch still works, at the end only (-v says so).
 */
int persist_watch_start(struct persist_watch **ret, const struct strv *paths,
                        const struct strv *roots, const char *tag);

/* The descriptor the supervision loop polls; -1 without a live watch. */
int persist_watch_fd(const struct persist_watch *w);

/* The descriptor is readable: moves aside every watched path that appeared. */
void persist_watch_handle(struct persist_watch *w);

/* After the command ended: the last sweep. */
void persist_watch_finish(struct persist_watch *w);

size_t persist_watch_n_blocked(const struct persist_watch *w);
const struct persist_blocked *persist_watch_blocked(const struct persist_watch *w, size_t i);

void persist_watch_free(struct persist_watch *w);

#endif
