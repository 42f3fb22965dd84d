/* SPDX-License-Identifier: Apache-2.0 */
#include "exclude.h"

#include <errno.h>
#include <git2.h>
#include <git2/sys/repository.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "strv.h"

struct exclude_rules {
        /* NULL when nothing but the VCS directories is excluded. */
        git_repository *repo;
        /* The root relative to the repository's work directory: "" or "sub/dir/". */
        char *prefix;
        size_t prefix_len;
};

static const char *const vcs_dirs[] = {".git", ".hg", ".svn", ".jj"};

static int git_failed(const char *what, const char *path)
{
        const git_error *e = git_error_last();

        return nono_error(-EIO, "cannot %s %s: %s", what, path,
                          e && e->message ? e->message : "libgit2 error");
}

static int is_vcs_name(const char *name, size_t len)
{
        for (size_t i = 0; i < sizeof(vcs_dirs) / sizeof(vcs_dirs[0]); i++)
                if (strlen(vcs_dirs[i]) == len && memcmp(vcs_dirs[i], name, len) == 0)
                        return 1;
        return 0;
}

/* Any component, not only the last: a restore may ask about paths the walk never saw. */
static int in_vcs_dir(const char *rel)
{
        for (const char *p = rel; *p;) {
                size_t len = strcspn(p, "/");

                if (is_vcs_name(p, len))
                        return 1;
                p += len;
                p += *p == '/';
        }
        return 0;
}

/* Escapes the glob characters of a literal path so that a pattern can start with it. */
static char *glob_escape(const char *s)
{
        char *out = malloc(2 * strlen(s) + 1), *o = out;

        if (!out)
                return NULL;
        for (; *s; s++) {
                if (strchr("*?[\\", *s))
                        *o++ = '\\';
                *o++ = *s;
        }
        *o = '\0';
        return out;
}

/*
 * The rules of the repository's internal list are anchored at its work directory; a
 * pattern given for the root is anchored at the root.  A pattern is anchored when it has
 * a '/' anywhere but at its end (gitignore(5)); those get the root's prefix.
 */
static char *pattern_for_workdir(const char *pattern, const char *prefix)
{
        const char *neg = pattern[0] == '!' ? "!" : "";
        const char *body = pattern + strlen(neg);
        const char *slash = strchr(body, '/');
        char *escaped, *out;

        if (!*prefix || !slash || slash[1] == '\0')
                return nono_strdup(pattern);
        escaped = glob_escape(prefix);
        if (!escaped)
                return NULL;
        out = nono_asprintf("%s/%s%s", neg, escaped, body + (body[0] == '/'));
        free(escaped);
        return out;
}

static int add_patterns(struct exclude_rules *r, const struct exclude_options *opt,
                        const char *root)
{
        for (size_t i = 0; i < opt->n_patterns; i++) {
                const char *pattern = opt->patterns[i];
                char *rule;
                int err;

                /* One pattern is one rule: a newline would smuggle in more. */
                if (strpbrk(pattern, "\n\r"))
                        return nono_error(-EINVAL, "exclude pattern \"%s\" contains a newline",
                                          pattern);
                rule = pattern_for_workdir(pattern, r->prefix);
                if (!rule)
                        return -ENOMEM;
                err = git_ignore_add_rule(r->repo, rule);
                free(rule);
                if (err < 0)
                        return git_failed("add the exclude patterns for", root);
        }
        return 0;
}

static int set_prefix(struct exclude_rules *r, const char *prefix)
{
        free(r->prefix);
        r->prefix = nono_strdup(prefix);
        if (!r->prefix)
                return -ENOMEM;
        r->prefix_len = strlen(r->prefix);
        return 0;
}

/*
 * A repository that lives only in memory: no .git anywhere, nothing written.  With a
 * work directory, libgit2 reads every .gitignore from `workdir` down; without one it
 * reads none.
 */
static int open_memory_repo(struct exclude_rules *r, const char *workdir, const char *root)
{
        git_repository_free(r->repo);
        r->repo = NULL;
        if (git_repository_new(&r->repo) < 0 ||
            (workdir && git_repository_set_workdir(r->repo, workdir, 0) < 0))
                return git_failed("set up the exclusion rules for", root);
        return set_prefix(r, "");
}

/* 1 when `real` (a resolved directory) lies in the work tree of a git repository. */
static int open_work_tree(struct exclude_rules *r, const char *real)
{
        const char *workdir;
        size_t len;
        char *prefix;
        int err, ignored = 0;

        err = git_repository_open_ext(&r->repo, real, 0, NULL);
        /* Not a repository, or one that libgit2 refuses (owned by another user): the
         * .gitignore files of the root still apply, from the root down. */
        if (err < 0) {
                git_error_clear();
                return 0;
        }
        workdir = git_repository_workdir(r->repo);
        len = workdir ? strlen(workdir) : 0;
        /* A bare repository, or a root inside .git: no work tree around the root. */
        if (!workdir || strncmp(real, workdir, len - 1) != 0 ||
            (real[len - 1] != '\0' && real[len - 1] != '/'))
                return 0;
        prefix = real[len - 1] ? nono_asprintf("%s/", real + len) : nono_strdup("");
        if (!prefix)
                return -ENOMEM;
        err = set_prefix(r, prefix);
        free(prefix);
        if (err < 0)
                return err;
        /* A root that git ignores as a whole (a build directory) would be excluded
         * entirely; the caller asked for it, so it is treated as outside git. */
        if (r->prefix_len && git_ignore_path_is_ignored(&ignored, r->repo, r->prefix) < 0)
                return git_failed("read the ignore rules of", real);
        return !ignored;
}

static int open_rules(struct exclude_rules *r, const char *root, const struct exclude_options *opt)
{
        char real[PATH_MAX];
        int err;

        if (!opt->use_gitignore) {
                /* No work directory, so no .gitignore is read; "!*" comes before the
                 * patterns so that a path they do not match stops there instead of
                 * reaching the user's global excludes. */
                if ((err = open_memory_repo(r, NULL, root)) < 0)
                        return err;
                if (git_ignore_add_rule(r->repo, "!*") < 0)
                        return git_failed("set up the exclusion rules for", root);
                return add_patterns(r, opt, root);
        }
        if (!realpath(root, real))
                return nono_error(-errno, "cannot resolve %s: %s", root, strerror(errno));
        err = open_work_tree(r, real);
        if (err < 0)
                return err;
        if (err == 0 && (err = open_memory_repo(r, real, root)) < 0)
                return err;
        return add_patterns(r, opt, root);
}

int exclude_open(const char *root, const struct exclude_options *opt, struct exclude_rules **ret)
{
        struct exclude_rules *r;
        int err;

        *ret = NULL;
        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        /* Balanced by git_libgit2_shutdown in exclude_free. */
        if (git_libgit2_init() < 0) {
                free(r);
                return git_failed("initialise libgit2 for", root);
        }
        if (opt->use_gitignore || opt->n_patterns) {
                err = open_rules(r, root, opt);
                if (err < 0) {
                        exclude_free(r);
                        return err;
                }
        }
        *ret = r;
        return 0;
}

int exclude_match(struct exclude_rules *r, const char *rel, int is_dir)
{
        char path[PATH_MAX];
        size_t len = strlen(rel);
        int ignored = 0;

        if (in_vcs_dir(rel))
                return 1;
        if (!r->repo || len == 0)
                return 0;
        /* A trailing slash tells libgit2 it is a directory; "dir/" patterns need it. */
        if (r->prefix_len + len + 2 > sizeof(path))
                return nono_error(-ENAMETOOLONG, "path too long: %s", rel);
        memcpy(path, r->prefix, r->prefix_len);
        memcpy(path + r->prefix_len, rel, len);
        strcpy(path + r->prefix_len + len, is_dir ? "/" : "");
        if (git_ignore_path_is_ignored(&ignored, r->repo, path) < 0)
                return git_failed("match the exclusion rules against", rel);
        return ignored;
}

void exclude_free(struct exclude_rules *r)
{
        if (!r)
                return;
        git_repository_free(r->repo);
        free(r->prefix);
        free(r);
        git_libgit2_shutdown();
}
