/* SPDX-License-Identifier: Apache-2.0 */
/*
 * <nono/nono.h>: snapshots of a directory tree through the snapshot façade
 * (snapshot.h).  A manager holds the root and exclusions until the baseline, then
 * the engine's session; restores go through the store by session id, as
 * `nono rollback restore` does.
 */
#include <nono/nono.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "caps.h"
#include "error.h"
#include "snapshot.h"
#include "strv.h"

struct nono_snapshot_manager {
        char *root; /* resolved */
        int use_gitignore;
        struct strv patterns;
        struct snapshot_session *session; /* NULL before the baseline */
        unsigned n_snapshots;             /* taken through this manager */
};

static int invalid(int err, const char *what)
{
        return sdk_failed(nono_error(err, "%s", what), NONO_ERROR_INVALID);
}

static int check_pattern(const char *pattern)
{
        if (!pattern[0])
                return nono_error(-EINVAL, "an exclusion pattern must not be empty");
        /* They are read as lines of a .gitignore: a newline would add rules. */
        if (strchr(pattern, '\n') || strchr(pattern, '\r'))
                return nono_error(-EINVAL, "exclusion pattern \"%s\" holds a line break", pattern);
        return 0;
}

static int copy_exclusions(nono_snapshot_manager *m, const struct nono_exclusions *ex)
{
        int r = 0;

        if (!ex)
                return 0;
        if (ex->size < sizeof(*ex))
                return nono_error(-EINVAL, "nono_exclusions.size must be "
                                           "sizeof(struct nono_exclusions)");
        m->use_gitignore = ex->use_gitignore != 0;
        for (size_t i = 0; ex->patterns && ex->patterns[i] && r >= 0; i++) {
                r = check_pattern(ex->patterns[i]);
                if (r >= 0)
                        r = strv_push(&m->patterns, ex->patterns[i]);
        }
        return r;
}

/* An absolute path to an existing directory, resolved. */
static int resolve_root(const char *root, char **ret)
{
        struct stat st;

        if (root[0] != '/')
                return nono_error(-EINVAL, "the snapshot root must be an absolute path, not %s",
                                  root);
        if (stat(root, &st) < 0)
                return nono_error(-errno, "cannot use %s as snapshot root: %s", root,
                                  strerror(errno));
        if (!S_ISDIR(st.st_mode))
                return nono_error(-ENOTDIR, "the snapshot root %s is not a directory", root);
        *ret = realpath(root, NULL);
        if (!*ret)
                return nono_error(-errno, "cannot resolve %s: %s", root, strerror(errno));
        return 0;
}

int nono_snapshot_manager_new(const char *root, const struct nono_exclusions *exclusions,
                              nono_snapshot_manager **ret)
{
        nono_snapshot_manager *m;
        int r;

        sdk_begin();
        if (!root || !ret)
                return invalid(-EINVAL, "nono_snapshot_manager_new: root and ret are required");
        m = calloc(1, sizeof(*m));
        if (!m)
                return sdk_failed(-ENOMEM, NONO_ERROR_SYSTEM);
        r = resolve_root(root, &m->root);
        if (r >= 0)
                r = copy_exclusions(m, exclusions);
        if (r < 0) {
                nono_snapshot_manager_free(m);
                return sdk_failed(r, NONO_ERROR_INVALID);
        }
        *ret = m;
        return 0;
}

int nono_snapshot_create_baseline(nono_snapshot_manager *manager, unsigned *ret_index)
{
        struct snapshot_options opt;
        struct snapshot_session *s;
        int r;

        sdk_begin();
        if (!manager)
                return invalid(-EINVAL, "nono_snapshot_create_baseline: manager is required");
        opt = (struct snapshot_options){
            .root = manager->root,
            .use_gitignore = manager->use_gitignore,
            .exclude_patterns = (const char *const *)manager->patterns.items,
            .n_exclude_patterns = manager->patterns.n,
        };
        r = snapshot_baseline(&opt, NULL, &s);
        if (r < 0)
                return sdk_failed(r, NONO_ERROR_SNAPSHOT);
        snapshot_session_close(manager->session);
        manager->session = s;
        manager->n_snapshots = 1;
        if (ret_index)
                *ret_index = 0;
        return 0;
}

/* Entry checks shared by the calls that need a session. */
static int need_session(const nono_snapshot_manager *m, const char *fn)
{
        if (!m)
                return invalid(-EINVAL, fn);
        if (!m->session)
                return sdk_failed(nono_error(-ENOENT,
                                             "no baseline yet: call nono_snapshot_create_baseline "
                                             "first"),
                                  NONO_ERROR_SNAPSHOT);
        return 0;
}

int nono_snapshot_create_incremental(nono_snapshot_manager *manager, unsigned *ret_index)
{
        struct snapshot_changes changes = {0};
        int r;

        sdk_begin();
        r = need_session(manager, "nono_snapshot_create_incremental: manager is required");
        if (r < 0)
                return r;
        r = snapshot_incremental(manager->session, NULL, &changes);
        snapshot_changes_free(&changes);
        if (r < 0)
                return sdk_failed(r, NONO_ERROR_SNAPSHOT);
        if (ret_index)
                *ret_index = manager->n_snapshots;
        manager->n_snapshots++;
        return 0;
}

static int change_type(char kind)
{
        switch (kind) {
        case SNAPSHOT_CREATED:
                return NONO_CHANGE_CREATED;
        case SNAPSHOT_DELETED:
                return NONO_CHANGE_DELETED;
        default:
                return NONO_CHANGE_MODIFIED;
        }
}

/* The façade's list as the caller's array; moves the paths out of `c`. */
static int export_changes(struct snapshot_changes *c, struct nono_snapshot_change **ret,
                          size_t *ret_n)
{
        struct nono_snapshot_change *out = NULL;

        if (c->n && !(out = calloc(c->n, sizeof(*out))))
                return -ENOMEM;
        for (size_t i = 0; i < c->n; i++) {
                out[i].change_type = change_type(c->items[i].kind);
                out[i].path = c->items[i].path;
                c->items[i].path = NULL;
        }
        *ret = out;
        *ret_n = c->n;
        return 0;
}

static int restore(nono_snapshot_manager *m, unsigned number, int dry_run,
                   struct nono_snapshot_change **ret, size_t *ret_n, const char *fn)
{
        struct snapshot_changes changes = {0};
        int r;

        sdk_begin();
        if ((ret == NULL) != (ret_n == NULL) || (dry_run && !ret))
                return invalid(-EINVAL, fn);
        r = need_session(m, fn);
        if (r < 0)
                return r;
        if (number >= m->n_snapshots)
                return sdk_failed(
                    nono_error(-ERANGE, "session %s has no snapshot %u (it has 0..%u)",
                               snapshot_session_id(m->session), number, m->n_snapshots - 1),
                    NONO_ERROR_INVALID);
        r = snapshot_restore(snapshot_session_id(m->session), (int)number, dry_run, NULL, &changes);
        if (r >= 0 && ret)
                r = export_changes(&changes, ret, ret_n);
        snapshot_changes_free(&changes);
        return sdk_failed(r, NONO_ERROR_SNAPSHOT);
}

int nono_snapshot_restore_diff(nono_snapshot_manager *manager, unsigned snapshot_number,
                               struct nono_snapshot_change **ret, size_t *ret_n)
{
        return restore(manager, snapshot_number, 1, ret, ret_n,
                       "nono_snapshot_restore_diff: manager, ret and ret_n are required");
}

int nono_snapshot_restore_to(nono_snapshot_manager *manager, unsigned snapshot_number,
                             struct nono_snapshot_change **ret, size_t *ret_n)
{
        return restore(manager, snapshot_number, 0, ret, ret_n,
                       "nono_snapshot_restore_to: manager is required, ret and ret_n go "
                       "together");
}

const char *nono_snapshot_session_id(const nono_snapshot_manager *manager)
{
        return manager && manager->session ? snapshot_session_id(manager->session) : NULL;
}

void nono_snapshot_changes_free(struct nono_snapshot_change *changes, size_t n)
{
        for (size_t i = 0; changes && i < n; i++)
                free(changes[i].path);
        free(changes);
}

void nono_snapshot_manager_free(nono_snapshot_manager *manager)
{
        if (!manager)
                return;
        snapshot_session_close(manager->session);
        strv_free(&manager->patterns);
        free(manager->root);
        free(manager);
}
