/* SPDX-License-Identifier: Apache-2.0 */
#include "paths.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"

/* Expands variables and makes the result absolute against the current directory. */
static int expand_absolute(const struct vars *v, const char *raw, char **ret)
{
        char *expanded = NULL;
        char cwd[PATH_MAX];
        int r = vars_expand(v, raw, &expanded);

        if (r < 0)
                return r;
        if (expanded[0] == '/') {
                *ret = expanded;
                return 0;
        }
        if (!getcwd(cwd, sizeof(cwd))) {
                free(expanded);
                return nono_error(-errno, "cannot resolve %s: current directory unknown", raw);
        }
        *ret = nono_path_join(cwd, expanded);
        free(expanded);
        return *ret ? 0 : -ENOMEM;
}

/* The directory part of an absolute path ("/" for "/x"); malloc'ed. */
static char *parent_of(const char *abs)
{
        const char *slash = strrchr(abs, '/');

        if (!slash || slash == abs)
                return nono_strdup("/");
        return strndup(abs, (size_t)(slash - abs));
}

/*
 * Resolves the parent of a missing path.  Protected paths are mostly missing names in
 * one directory (~/.ssh, ~/.aws, ... under $HOME): remembering the last parent turns
 * ~90 realpath walks per run into one.  Per thread, so SDK callers may use threads;
 * forgotten at the start of every plan so that a long-lived caller never sees a stale
 * resolution.
 */
static _Thread_local char last_parent[PATH_MAX];
static _Thread_local char last_resolved[PATH_MAX];

void paths_forget(void)
{
        last_parent[0] = '\0';
        last_resolved[0] = '\0';
}

static int resolve_parent_cached(const char *parent, char **ret)
{
        int r;

        if (last_parent[0] && strcmp(parent, last_parent) == 0) {
                *ret = nono_strdup(last_resolved);
                return *ret ? 0 : -ENOMEM;
        }
        r = paths_resolve_lenient(parent, ret);
        if (r >= 0 && strlen(parent) < sizeof(last_parent) &&
            strlen(*ret) < sizeof(last_resolved)) {
                strcpy(last_parent, parent);
                strcpy(last_resolved, *ret);
        }
        return r;
}

static int resolve_lenient_depth(const char *abs, int depth, char **ret);

/* Where a path would lead without following its last component; malloc'ed. */
static int resolve_parent_keep_name(const char *abs, char **ret)
{
        char *parent = parent_of(abs), *parent_resolved = NULL;
        int r;

        if (!parent)
                return -ENOMEM;
        r = resolve_parent_cached(parent, &parent_resolved);
        free(parent);
        if (r < 0)
                return r;
        *ret = nono_path_join(parent_resolved, strrchr(abs, '/') + 1);
        free(parent_resolved);
        return *ret ? 0 : -ENOMEM;
}

/*
 * A dangling symlink leads to where its target would be created: resolve the target
 * (relative to the link's directory), so that protecting ~/.aws -> dotfiles/aws also
 * protects the missing dotfiles/aws the sandbox could create.
 */
static int resolve_dangling(const char *abs, int depth, char **ret)
{
        char target[PATH_MAX], *dir, *next;
        ssize_t n = readlink(abs, target, sizeof(target) - 1);
        int r;

        if (n < 0)
                return resolve_parent_keep_name(abs, ret);
        target[n] = '\0';
        if (depth > 40)
                return nono_error(-ELOOP, "cannot resolve %s: too many symbolic links", abs);
        if (target[0] == '/') {
                next = nono_strdup(target);
        } else {
                dir = parent_of(abs);
                next = dir ? nono_path_join(dir, target) : NULL;
                free(dir);
        }
        if (!next)
                return -ENOMEM;
        r = resolve_lenient_depth(next, depth + 1, ret);
        free(next);
        return r;
}

static int resolve_lenient_depth(const char *abs, int depth, char **ret)
{
        char resolved[PATH_MAX];
        struct stat st;

        /* lstat first: for a missing path it answers without realpath's walk. */
        if (lstat(abs, &st) == 0 || (errno != ENOENT && errno != ENOTDIR)) {
                if (realpath(abs, resolved)) {
                        *ret = nono_strdup(resolved);
                        return *ret ? 0 : -ENOMEM;
                }
                if (errno != ENOENT && errno != ENOTDIR)
                        return nono_error(-errno, "cannot resolve %s: %s", abs, strerror(errno));
                if (S_ISLNK(st.st_mode))
                        return resolve_dangling(abs, depth, ret);
        }
        if (strcmp(abs, "/") == 0)
                return nono_error(-ENOENT, "cannot resolve /");
        /* Resolve the existing prefix, then append the missing component. */
        return resolve_parent_keep_name(abs, ret);
}

int paths_resolve_lenient(const char *abs, char **ret)
{
        return resolve_lenient_depth(abs, 0, ret);
}

/*
 * Refuses a path whose last component is a symlink leading out of the directory it
 * was written under: /tmp/agent -> / planted by an earlier session must not turn a
 * grant of /tmp/agent into a grant of /.  Symlinks in the parent are resolved
 * first, so /var/run/x style system links remain fine.
 */
static int check_symlink_escape(const char *raw, const char *abs, const char *resolved)
{
        char *parent = parent_of(abs);
        char *parent_resolved = NULL;
        int r;

        if (!parent)
                return -ENOMEM;
        r = paths_resolve_lenient(parent, &parent_resolved);
        free(parent);
        if (r < 0)
                return r;
        r = path_is_within(resolved, parent_resolved) ? 0 : -ELOOP;
        if (r < 0)
                nono_error(r,
                           "grant %s resolves through a symlink to %s, outside %s; "
                           "name the real path if that is intended",
                           raw, resolved, parent_resolved);
        free(parent_resolved);
        return r;
}

static int resolve_grant_path(const char *raw, const char *abs, const char *origin,
                              char **ret_resolved, struct stat *ret_st)
{
        char resolved[PATH_MAX];
        int r;

        if (!realpath(abs, resolved)) {
                if (errno == ENOENT || errno == ENOTDIR) {
                        /* Built-in group data names paths that often do not exist
                         * here (~/.conda, /lib32): skipping them is normal. */
                        if (plan_origin_is_group(origin))
                                nono_debug("%s: %s does not exist, skipped", origin, raw);
                        else
                                nono_warn("%s does not exist; grant skipped (%s)", raw, origin);
                        return 0;
                }
                return nono_error(-errno, "cannot resolve %s: %s", raw, strerror(errno));
        }
        r = check_symlink_escape(raw, abs, resolved);
        if (r < 0) {
                if (!plan_origin_is_group(origin))
                        return r;
                /* Built-in data: skipping only narrows the sandbox. */
                nono_warn("%s; skipped", nono_errmsg());
                return 0;
        }
        if (stat(resolved, ret_st) < 0)
                return nono_error(-errno, "cannot stat %s: %s", resolved, strerror(errno));
        *ret_resolved = nono_strdup(resolved);
        return *ret_resolved ? 1 : -ENOMEM;
}

int paths_grant(struct plan *p, const struct vars *v, const char *raw, uint32_t access,
                int want_file, const char *origin)
{
        char *abs = NULL, *resolved = NULL;
        struct stat st;
        uint32_t flags;
        int r;

        r = expand_absolute(v, raw, &abs);
        if (r < 0)
                return r;
        r = resolve_grant_path(raw, abs, origin, &resolved, &st);
        free(abs);
        if (r <= 0)
                return r;
        if (want_file && S_ISDIR(st.st_mode)) {
                free(resolved);
                return nono_error(-EISDIR, "%s is a directory; use a directory grant (%s)", raw,
                                  origin);
        }
        flags = S_ISDIR(st.st_mode) ? 0 : NONO_GRANT_FILE;
        r = plan_add_grant(p, resolved, access, flags, origin);
        free(resolved);
        return r;
}

int paths_resolve_raw(const struct vars *v, const char *raw, char **ret)
{
        char *abs = NULL;
        int r = expand_absolute(v, raw, &abs);

        if (r < 0)
                return r;
        r = paths_resolve_lenient(abs, ret);
        free(abs);
        return r;
}

/*
 * A protected path is protected under both names when it is a symlink: the link
 * itself (else the sandbox replaces ~/.ssh -> dotfiles/ssh with a directory of its
 * own) and where it leads (else the sandbox writes through another name).
 */
static int resolve_both(const struct vars *v, const char *raw, char **ret_link, char **ret_target)
{
        char *abs = NULL;
        int r = expand_absolute(v, raw, &abs);

        if (r < 0)
                return r;
        r = strcmp(abs, "/") == 0 ? paths_resolve_lenient(abs, ret_link)
                                  : resolve_parent_keep_name(abs, ret_link);
        if (r >= 0)
                r = paths_resolve_lenient(abs, ret_target);
        free(abs);
        if (r < 0) {
                free(*ret_link);
                *ret_link = NULL;
        }
        return r;
}

int paths_deny(struct plan *p, const struct vars *v, const char *raw, const char *origin)
{
        char *link = NULL, *target = NULL;
        int r = resolve_both(v, raw, &link, &target);

        if (r >= 0)
                r = plan_add_deny(p, link, origin);
        if (r >= 0 && strcmp(link, target) != 0)
                r = plan_add_deny(p, target, origin);
        free(link);
        free(target);
        return r;
}

int paths_bypass(struct plan *p, const struct vars *v, const char *raw)
{
        char *link = NULL, *target = NULL;
        size_t removed;
        int r = resolve_both(v, raw, &link, &target);

        if (r < 0)
                return r;
        removed = plan_remove_deny(p, link) + plan_remove_deny(p, target);
        if (removed == 0)
                nono_warn("bypass_protection: %s is not a protected path", raw);
        free(link);
        free(target);
        return 0;
}

int paths_unix_socket(struct plan *p, const struct vars *v, const char *raw)
{
        char *resolved = NULL;
        int r = paths_resolve_raw(v, raw, &resolved);

        if (r < 0)
                return r;
        if (!strv_contains(&p->unix_sockets, resolved))
                r = strv_push(&p->unix_sockets, resolved);
        free(resolved);
        return r;
}
