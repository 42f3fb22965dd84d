/* SPDX-License-Identifier: Apache-2.0 */
/* Persistence paths the sandbox must not create; see persistwatch.h. */
#include "persistwatch.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "error.h"
#include "plan.h"
#include "strv.h"

#define WATCH_EVENTS      (IN_CREATE | IN_MOVED_TO | IN_ONLYDIR)
#define MAX_RENAME_TRIES  100 /* names the sandbox may have taken already */
#define MAX_BLOCKED_KEPT  64  /* entries kept for the report; the rest only counted */
#define RESOLVE_INSIDE    (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)
#define EVENT_BUFFER_SIZE 4096

struct watched {
        char *path;      /* absolute, for messages */
        const char *rel; /* inside path: the part below its root */
        size_t root;     /* index into roots / root_fds */
        int live;        /* its directory existed at the start: watched while it runs */
};

enum sweep_scope { SWEEP_LIVE, SWEEP_ALL };
enum walk_mode { WALK_INSPECT, WALK_ENFORCE };

/* What the way to a path looked like when the watch started. */
enum start_state {
        START_PARENT_THERE, /* only the last component is missing */
        START_PARENT_NEW,   /* a directory on the way is missing too */
        START_NOT_OURS,     /* the user's own: a non-directory on the way, or the path */
};

struct persist_watch {
        int inotify; /* -1: no live watch, the last sweep only */
        char **roots;
        int *root_fds; /* O_PATH descriptors, opened before the sandbox started */
        size_t n_roots;
        struct watched *w;
        size_t n;
        struct persist_blocked blocked[MAX_BLOCKED_KEPT];
        size_t n_blocked;
        char tag[24];
};

static int open_beneath(int dir, const char *name)
{
        struct open_how how = {
            .flags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
            .resolve = RESOLVE_INSIDE,
        };

        return (int)syscall(SYS_openat2, dir, name, &how, sizeof(how));
}

/* The deepest root that `path` lies strictly below; -1 when none. */
static long root_of(const struct persist_watch *w, const char *path)
{
        long best = -1;

        for (size_t i = 0; i < w->n_roots; i++)
                if (w->root_fds[i] >= 0 && strcmp(path, w->roots[i]) != 0 &&
                    path_is_within(path, w->roots[i]) &&
                    (best < 0 || strlen(w->roots[i]) > strlen(w->roots[best])))
                        best = (long)i;
        return best;
}

static int add_roots(struct persist_watch *w, const struct strv *roots)
{
        w->roots = calloc(roots->n ? roots->n : 1, sizeof(*w->roots));
        w->root_fds = calloc(roots->n ? roots->n : 1, sizeof(*w->root_fds));
        if (!w->roots || !w->root_fds)
                return -ENOMEM;
        for (size_t i = 0; i < roots->n; i++) {
                w->roots[i] = nono_strdup(roots->items[i]);
                if (!w->roots[i])
                        return -ENOMEM;
                /* A root that vanished since the plan was made holds nothing to watch. */
                w->root_fds[i] =
                    open(roots->items[i], O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                w->n_roots++;
        }
        return 0;
}

static int already_reported_failure(const struct persist_watch *w, const char *path)
{
        for (size_t i = 0; i < w->n_blocked && i < MAX_BLOCKED_KEPT; i++)
                if (!w->blocked[i].moved_to && strcmp(w->blocked[i].path, path) == 0)
                        return 1;
        return 0;
}

static void record(struct persist_watch *w, const char *path, const char *aside, int err)
{
        struct persist_blocked *b;
        size_t dir_len = strlen(path) - strlen(strrchr(path, '/') + 1);

        if (err && already_reported_failure(w, path))
                return;
        if (w->n_blocked++ >= MAX_BLOCKED_KEPT)
                return;
        b = &w->blocked[w->n_blocked - 1];
        b->path = nono_strdup(path);
        b->moved_to = aside ? nono_asprintf("%.*s%s", (int)dir_len, path, aside) : NULL;
        b->err = err;
}

/*
 * Renames `name` in `dir` to name.nono-blocked-TAG[-N]; never replaces anything.
 * `shown` is the absolute path for the report.
 */
static void move_aside(struct persist_watch *w, const char *shown, int dir, const char *name)
{
        char aside[NAME_MAX + 1];
        int err = EEXIST;

        for (unsigned k = 0; k < MAX_RENAME_TRIES && err == EEXIST; k++) {
                int n = k ? snprintf(aside, sizeof(aside), "%s.nono-blocked-%s-%u", name, w->tag, k)
                          : snprintf(aside, sizeof(aside), "%s.nono-blocked-%s", name, w->tag);

                if (n < 0 || (size_t)n >= sizeof(aside)) {
                        err = ENAMETOOLONG;
                        break;
                }
                if (renameat2(dir, name, dir, aside, RENAME_NOREPLACE) == 0) {
                        record(w, shown, aside, 0);
                        return;
                }
                err = errno;
        }
        /* Gone already (the sandbox removed it again): nothing left to keep away. */
        if (err != ENOENT)
                record(w, shown, NULL, err);
}

static void watch_dir(const struct persist_watch *w, int dir)
{
        char proc[32];

        if (w->inotify < 0)
                return;
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", dir);
        /* Watching the same directory again returns the same watch: no growth. */
        inotify_add_watch(w->inotify, proc, WATCH_EVENTS);
}

/*
 * Opens the directory that holds e's last component, one component at a time from the
 * root.  WALK_ENFORCE also watches each directory on the way and moves aside a
 * component that is there but is not a real directory (a symlink, a `.git` file);
 * WALK_INSPECT only looks.  Returns the descriptor and the last component in
 * *ret_name, or -1 with errno (ENOENT: the way is not there yet).
 */
static int open_parent(struct persist_watch *w, const struct watched *e, enum walk_mode mode,
                       const char **ret_name)
{
        const char *p = e->rel;
        const char *slash;
        int cur = fcntl(w->root_fds[e->root], F_DUPFD_CLOEXEC, 3);
        int err = errno;

        while (cur >= 0 && (slash = strchr(p, '/'))) {
                char comp[NAME_MAX + 1];
                size_t len = (size_t)(slash - p);
                int next;

                if (mode == WALK_ENFORCE)
                        watch_dir(w, cur);
                if (len >= sizeof(comp)) {
                        close(cur);
                        errno = ENAMETOOLONG;
                        return -1;
                }
                memcpy(comp, p, len);
                comp[len] = '\0';
                next = open_beneath(cur, comp);
                err = errno;
                if (next < 0 && mode == WALK_ENFORCE && (err == ELOOP || err == ENOTDIR)) {
                        char *shown = nono_asprintf("%.*s", (int)(slash - e->path), e->path);

                        if (shown)
                                move_aside(w, shown, cur, comp);
                        free(shown);
                }
                close(cur);
                cur = next;
                p = slash + 1;
        }
        if (cur < 0) {
                errno = err;
                return -1;
        }
        if (mode == WALK_ENFORCE)
                watch_dir(w, cur);
        *ret_name = p;
        return cur;
}

/*
 * Before the sandbox runs, whatever is on the way is the user's: a `.git` file (a
 * worktree's gitdir pointer) or a path that appeared since the plan was made is left
 * alone, now and later.
 */
static enum start_state start_state(struct persist_watch *w, const struct watched *e)
{
        const char *name = NULL;
        struct stat st;
        enum start_state state = START_NOT_OURS;
        int dir = open_parent(w, e, WALK_INSPECT, &name);

        if (dir < 0)
                return errno == ENOENT ? START_PARENT_NEW : START_NOT_OURS;
        if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
                state = START_PARENT_THERE;
        close(dir);
        return state;
}

static int add_paths(struct persist_watch *w, const struct strv *paths)
{
        w->w = calloc(paths->n ? paths->n : 1, sizeof(*w->w));
        if (!w->w)
                return -ENOMEM;
        for (size_t i = 0; i < paths->n; i++) {
                long root = root_of(w, paths->items[i]);
                struct watched *e = &w->w[w->n];

                if (root < 0)
                        continue;
                e->path = nono_strdup(paths->items[i]);
                if (!e->path)
                        return -ENOMEM;
                e->root = (size_t)root;
                e->rel = e->path + strlen(w->roots[root]);
                while (*e->rel == '/')
                        e->rel++;
                switch (start_state(w, e)) {
                case START_PARENT_THERE:
                        e->live = 1;
                        w->n++;
                        break;
                case START_PARENT_NEW: /* e.g. .git/hooks before `git init` (see sweep) */
                        w->n++;
                        break;
                case START_NOT_OURS:
                        free(e->path);
                        e->path = NULL;
                        break;
                }
        }
        return 0;
}

static void check_one(struct persist_watch *w, const struct watched *e)
{
        const char *name = NULL;
        struct stat st;
        int dir = open_parent(w, e, WALK_ENFORCE, &name);

        if (dir < 0)
                return;
        if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                move_aside(w, e->path, dir, name);
        close(dir);
}

/*
 * Live, only paths whose directory existed at the start: those a git, shell or editor
 * the user runs meanwhile may read.  Inside a directory the sandbox made (a `git init`
 * made .git), the command must be able to finish what it started -- git copies its
 * template hooks -- so those are looked at when it has ended.
 */
static void sweep(struct persist_watch *w, enum sweep_scope scope)
{
        for (size_t i = 0; i < w->n; i++)
                if (scope == SWEEP_ALL || w->w[i].live)
                        check_one(w, &w->w[i]);
}

/* Whether a name created in some watched directory may lead to a watched path. */
static int on_a_watched_path(const struct persist_watch *w, const char *name)
{
        size_t len = strlen(name);

        for (size_t i = 0; i < w->n; i++)
                for (const char *p = w->w[i].rel; w->w[i].live && *p;) {
                        const char *end = strchr(p, '/');
                        size_t n = end ? (size_t)(end - p) : strlen(p);

                        if (n == len && memcmp(p, name, n) == 0)
                                return 1;
                        p += n + (end ? 1 : 0);
                }
        return 0;
}

int persist_watch_start(struct persist_watch **ret, const struct strv *paths,
                        const struct strv *roots, const char *tag)
{
        struct persist_watch *w = calloc(1, sizeof(*w));
        int r;

        *ret = NULL;
        if (!w)
                return nono_error(-ENOMEM, "out of memory");
        w->inotify = -1;
        snprintf(w->tag, sizeof(w->tag), "%s", tag);
        r = add_roots(w, roots);
        if (r >= 0)
                r = add_paths(w, paths);
        if (r < 0) {
                persist_watch_free(w);
                return nono_error(r, "out of memory");
        }
        w->inotify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (w->inotify < 0)
                nono_info("cannot watch for new persistence paths while the command runs "
                          "(inotify: %s); they are looked for when it ends",
                          strerror(errno));
        /* Sets the watches up; nothing is there to move (see start_state). */
        sweep(w, SWEEP_LIVE);
        *ret = w;
        return 0;
}

int persist_watch_fd(const struct persist_watch *w)
{
        return w ? w->inotify : -1;
}

void persist_watch_handle(struct persist_watch *w)
{
        char buf[EVENT_BUFFER_SIZE] __attribute__((aligned(__alignof__(struct inotify_event))));
        int relevant = 0;
        ssize_t n;

        while ((n = read(w->inotify, buf, sizeof(buf))) > 0)
                for (const char *p = buf; p < buf + n;) {
                        const struct inotify_event *ev = (const struct inotify_event *)p;

                        /* A full queue lost events: look at everything again. */
                        if ((ev->mask & IN_Q_OVERFLOW) ||
                            (ev->len && on_a_watched_path(w, ev->name)))
                                relevant = 1;
                        p += sizeof(*ev) + ev->len;
                }
        if (relevant)
                sweep(w, SWEEP_LIVE);
}

void persist_watch_finish(struct persist_watch *w)
{
        if (w)
                sweep(w, SWEEP_ALL);
}

size_t persist_watch_n_blocked(const struct persist_watch *w)
{
        return w ? w->n_blocked : 0;
}

const struct persist_blocked *persist_watch_blocked(const struct persist_watch *w, size_t i)
{
        return i < w->n_blocked && i < MAX_BLOCKED_KEPT ? &w->blocked[i] : NULL;
}

void persist_watch_free(struct persist_watch *w)
{
        if (!w)
                return;
        if (w->inotify >= 0)
                close(w->inotify);
        for (size_t i = 0; i < w->n_roots; i++) {
                if (w->root_fds[i] >= 0)
                        close(w->root_fds[i]);
                free(w->roots[i]);
        }
        for (size_t i = 0; i < w->n; i++)
                free(w->w[i].path);
        for (size_t i = 0; i < w->n_blocked && i < MAX_BLOCKED_KEPT; i++) {
                free(w->blocked[i].path);
                free(w->blocked[i].moved_to);
        }
        free(w->roots);
        free(w->root_fds);
        free(w->w);
        free(w);
}
