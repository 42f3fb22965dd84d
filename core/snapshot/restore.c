/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Restore: make the root what a snapshot recorded.  The current tree is scanned like a
 * snapshot (same exclusions, digests reused from the target where stat data shows a file
 * untouched since), compared with the target, and only the differences are applied:
 *
 *   1. every object to be written is read and verified first: a damaged store refuses
 *      the restore before anything is touched;
 *   2. paths the target lacks are removed, deepest first (excluded paths are never
 *      seen, so never removed);
 *   3. directories, files and symlinks are created or replaced in tree order, each file
 *      written to a temporary name in its directory then renamed over the old one;
 *   4. directory modes last (a read-only directory would refuse its children).
 *
 * Every path is reached through openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) from the
 * root, so a symlink planted in the tree cannot redirect a write outside it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "content.h"
#include "engine.h"
#include "error.h"

struct restore {
        struct objstore os;
        struct session_meta meta;
        struct session_root root;
        struct manifest target, current;
        unsigned tmp_counter;
        const struct snapshot_progress *progress;
};

static int fs_error(int err, const char *what, const char *path)
{
        return nono_error(err, "restore: cannot %s %s: %s", what, path, strerror(-err));
}

static int remove_path(struct restore *rs, const struct mentry *c)
{
        const char *name;
        int dir = open_parent_beneath(rs->root.fd, c->path, &name);
        int r = 0;

        if (dir < 0)
                return fs_error(dir, "reach", c->path);
        if (unlinkat(dir, name, c->type == ENTRY_DIR ? AT_REMOVEDIR : 0) < 0) {
                r = -errno;
                /* Excluded files inside: they stay, and so does their directory. */
                if (c->type == ENTRY_DIR && (r == -ENOTEMPTY || r == -EEXIST)) {
                        nono_info("restore: kept %s: it holds excluded files", c->path);
                        r = 0;
                } else if (r == -ENOENT) {
                        r = 0;
                } else {
                        r = fs_error(r, "remove", c->path);
                }
        }
        close(dir);
        return r;
}

static int finish_file(int fd, const struct mentry *t)
{
        struct timespec times[2] = {{0, UTIME_OMIT},
                                    {t->mtime_ns / 1000000000, t->mtime_ns % 1000000000}};

        if (fchmod(fd, t->mode) < 0 || futimens(fd, times) < 0 || fdatasync(fd) < 0)
                return -errno;
        return 0;
}

/* Writes a temporary file (or symlink) next to the target, then renames it over. */
static int write_entry(struct restore *rs, const struct mentry *t)
{
        char tmp[64];
        const char *name;
        int dir = open_parent_beneath(rs->root.fd, t->path, &name);
        int fd = -1, r = 0, have_message = 0;

        if (dir < 0)
                return fs_error(dir, "reach", t->path);
        snprintf(tmp, sizeof(tmp), ".nono-restore-%ld-%u", (long)getpid(), rs->tmp_counter++);
        if (t->type == ENTRY_SYMLINK) {
                struct timespec times[2] = {{0, UTIME_OMIT},
                                            {t->mtime_ns / 1000000000, t->mtime_ns % 1000000000}};

                if (symlinkat(t->target, dir, tmp) < 0 ||
                    utimensat(dir, tmp, times, AT_SYMLINK_NOFOLLOW) < 0)
                        r = -errno;
        } else {
                fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (fd < 0)
                        r = -errno;
                else if ((r = content_write(&rs->os, t, fd)) < 0)
                        have_message = 1;
                else
                        r = finish_file(fd, t);
                if (fd >= 0)
                        close(fd);
        }
        if (r >= 0 && renameat(dir, tmp, dir, name) < 0)
                r = -errno;
        if (r < 0) {
                unlinkat(dir, tmp, 0);
                r = have_message ? nono_error_prefix(r, "restore: cannot write %s: ", t->path)
                                 : fs_error(r, "write", t->path);
        }
        close(dir);
        return r;
}

static int make_dir(struct restore *rs, const struct mentry *t)
{
        const char *name;
        int dir = open_parent_beneath(rs->root.fd, t->path, &name);
        int r = 0;

        if (dir < 0)
                return fs_error(dir, "reach", t->path);
        /* Owner-writable until its children are in; its mode comes last. */
        if (mkdirat(dir, name, 0700) < 0 && errno != EEXIST)
                r = fs_error(-errno, "create", t->path);
        close(dir);
        return r;
}

static int set_mode(struct restore *rs, const struct mentry *t)
{
        const char *name;
        int dir = open_parent_beneath(rs->root.fd, t->path, &name);
        int r = 0;

        if (dir < 0)
                return fs_error(dir, "reach", t->path);
        if (fchmodat(dir, name, t->mode, AT_SYMLINK_NOFOLLOW) < 0)
                r = fs_error(-errno, "change the mode of", t->path);
        close(dir);
        return r;
}

static int content_differs(const struct mentry *c, const struct mentry *t)
{
        return !c || c->type != t->type || c->flags != t->flags ||
               (t->type == ENTRY_FILE && !digest_equal(&c->digest, &t->digest)) ||
               (t->type == ENTRY_SYMLINK && strcmp(c->target, t->target) != 0);
}

static int apply_one(struct restore *rs, const struct mentry *t)
{
        const struct mentry *c = manifest_find(&rs->current, t->path);
        int r = 0;

        if (!path_is_valid(t->path))
                return nono_error(-EINVAL, "restore: refusing the path \"%s\"", t->path);
        if (c && c->type != t->type)
                r = remove_path(rs, c);
        if (r < 0)
                return r;
        if (c && c->type != t->type)
                c = NULL;
        if (t->type == ENTRY_DIR)
                return c ? 0 : make_dir(rs, t);
        if (content_differs(c, t))
                return write_entry(rs, t);
        return t->type == ENTRY_FILE ? set_mode(rs, t) : 0;
}

static int apply(struct restore *rs, const struct snapshot_changes *plan)
{
        uint64_t done = 0;
        int r = 0;

        /* Each change is applied by one of the first two loops: together, plan->n. */
        for (size_t i = plan->n; r >= 0 && i > 0; i--) {
                const struct snapshot_change *ch = &plan->items[i - 1];

                if (ch->kind != SNAPSHOT_DELETED)
                        continue;
                snapshot_report(rs->progress, "restore", done++, plan->n);
                r = remove_path(rs, manifest_find(&rs->current, ch->path));
        }
        for (size_t i = 0; r >= 0 && i < plan->n; i++) {
                if (plan->items[i].kind == SNAPSHOT_DELETED)
                        continue;
                snapshot_report(rs->progress, "restore", done++, plan->n);
                r = apply_one(rs, manifest_find(&rs->target, plan->items[i].path));
        }
        for (size_t i = plan->n; r >= 0 && i > 0; i--) {
                const struct snapshot_change *ch = &plan->items[i - 1];

                if (ch->kind != SNAPSHOT_DELETED && ch->type == ENTRY_DIR)
                        r = set_mode(rs, manifest_find(&rs->target, ch->path));
        }
        return r;
}

/* Step 1: every object the restore will write, read and checked against its digest. */
static int verify_needed(struct restore *rs, const struct snapshot_changes *plan)
{
        struct digest_set seen = {0};
        int r = 0;

        for (size_t i = 0; r >= 0 && i < plan->n; i++) {
                const struct mentry *t = manifest_find(&rs->target, plan->items[i].path);

                snapshot_report(rs->progress, "restore: verify", i, plan->n);
                if (t && t->type == ENTRY_FILE &&
                    content_differs(manifest_find(&rs->current, t->path), t))
                        r = content_objects(&rs->os, t, 1, &seen);
                if (r < 0)
                        r = nono_error_prefix(r, "restore refused: %s: ", t->path);
        }
        digest_set_free(&seen);
        return r;
}

static int prepare(struct restore *rs, const char *id, int index, struct snapshot_changes *plan)
{
        unsigned target;
        int r = session_meta_load(&rs->os, id, &rs->meta);

        if (r >= 0)
                r = session_index(&rs->meta, index, &target);
        if (r >= 0)
                r = session_load(&rs->os, id, target, NULL, &rs->target);
        if (r >= 0)
                r = session_root_open(&rs->os, &rs->meta, &rs->root);
        rs->root.walk.progress = rs->progress;
        rs->root.walk.stage = "restore: scan";
        /* The current tree, hashed where the target's stat data cannot vouch: only the
         * files changed since, which are the ones a restore may have to write. */
        rs->os.hash_only = 1;
        if (r >= 0)
                r = snapshot_take(&rs->os, rs->root.fd, &rs->root.walk, &rs->target, &rs->current,
                                  NULL);
        rs->os.hash_only = 0;
        if (r >= 0)
                r = manifest_diff(&rs->current, &rs->target, plan);
        if (r >= 0)
                r = verify_needed(rs, plan);
        return r;
}

int engine_restore(const char *id, int index, int dry_run, const struct snapshot_progress *progress,
                   struct snapshot_changes *ret)
{
        struct restore *rs = calloc(1, sizeof(*rs));
        int r;

        memset(ret, 0, sizeof(*ret));
        if (!rs)
                return -ENOMEM;
        rs->root.fd = -1;
        rs->progress = progress;
        r = objstore_open(&rs->os, OBJSTORE_SHARED);
        if (r >= 0) {
                r = prepare(rs, id, index, ret);
                if (r >= 0 && !dry_run)
                        r = apply(rs, ret);
                session_root_close(&rs->root);
                objstore_close(&rs->os);
        }
        session_meta_free(&rs->meta);
        manifest_free(&rs->target);
        manifest_free(&rs->current);
        free(rs);
        /* A refused restore returns no list: the caller frees only after success. */
        if (r < 0)
                snapshot_changes_free(ret);
        return r;
}
