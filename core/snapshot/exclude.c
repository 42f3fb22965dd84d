/* SPDX-License-Identifier: Apache-2.0 */
/*
 * git's ignore rules, matched by libgit2 without touching the disk per path.
 *
 * libgit2's git_ignore_path_is_ignored() stats every .gitignore from the path up to
 * the work tree, the global excludes file and the path itself on each call (~7 system
 * calls, tens of microseconds), and it drops a negation such as "!keep.log" whose
 * pattern lives in another file.  So each .gitignore is read here once, the first time
 * a path of its directory is matched, and its rules are rewritten to be anchored where
 * they apply (in a/.gitignore, "x.o" becomes "/a/<two stars>/x.o").  The rules that govern a
 * directory -- global excludes, info/exclude, then every .gitignore from the top of the
 * work tree down, then the explicit patterns -- go in that order (git's precedence: the
 * last match wins) into the in-memory rule list of a bare repository that exists only in
 * memory; libgit2 still does all the parsing and matching.  One such repository is
 * built per directory that has a .gitignore; the others share their parent's.
 */
#include "exclude.h"

#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <git2/sys/repository.h>
#include <limits.h>
#include <pthread.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "strv.h"

/* The rules of one directory (relative to the root: "" or "a/b"). */
struct dir_rules {
        char *dir;
        git_repository *repo;
        struct strv chain;       /* rewritten rules, from the top of the work tree down */
        struct dir_rules *owner; /* the entry whose repo and chain these are */
};

struct exclude_rules {
        int use_gitignore;
        char *root;   /* resolved */
        char *prefix; /* the root relative to the work tree's top: "" or "sub/dir/" */
        size_t prefix_len;
        git_config *config;   /* for the repositories: names no global excludes file */
        struct strv patterns; /* the explicit patterns, rewritten */
        void *tree;           /* tsearch tree of struct dir_rules, by dir */
        struct dir_rules **dirs;
        size_t n_dirs, cap_dirs;
        struct dir_rules *last; /* the walk asks about one directory many times in a row */
};

static const char *const vcs_dirs[] = {".git", ".hg", ".svn", ".jj"};

/* Every rule list starts with a rule that matches every name and excludes nothing:
 * libgit2 then never consults the global excludes or the parent directories (the
 * caller does not descend into excluded ones), and keeps any negation that follows. */
static const char catch_all_rule[] = "!**";

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

/* The length of a pattern without its trailing spaces and slashes (gitignore(5)). */
static size_t stem_length(const char *body, size_t len)
{
        while (len > 0 && body[len - 1] == ' ')
                len--;
        while (len > 0 && body[len - 1] == '/')
                len--;
        return len;
}

/*
 * Rewrites one line of the .gitignore of `dir` (relative to the top of the work tree:
 * "" or "a/b/") into a rule anchored at the top.  *out is NULL for comments and lines
 * without a pattern.  The parsing proper (escapes, trailing spaces, "**") stays with
 * libgit2.
 */
static int rewrite_rule(const char *line, size_t len, const char *dir, char **out)
{
        const char *neg, *body;
        size_t stem;
        char *escaped;

        *out = NULL;
        if (len > 0 && line[len - 1] == '\r')
                len--;
        if (len == 0 || line[0] == '#')
                return 0;
        neg = line[0] == '!' ? "!" : "";
        body = line + strlen(neg);
        len -= strlen(neg);
        stem = stem_length(body, len);
        if (stem == 0)
                return 0;
        if (!*dir) {
                *out = nono_asprintf("%s%.*s", neg, (int)len, body);
                return *out ? 0 : -ENOMEM;
        }
        escaped = glob_escape(dir);
        if (!escaped)
                return -ENOMEM;
        /* A '/' anywhere but at the end anchors the pattern to the file's directory;
         * otherwise it matches at any depth below it. */
        if (memchr(body, '/', stem))
                *out = nono_asprintf("%s/%s%.*s", neg, escaped, (int)(len - (body[0] == '/')),
                                     body + (body[0] == '/'));
        else
                *out = nono_asprintf("%s/%s**/%.*s", neg, escaped, (int)len, body);
        free(escaped);
        return *out ? 0 : -ENOMEM;
}

/* Appends one rewritten rule, unless the line holds none. */
static int add_rule(struct strv *chain, const char *line, size_t len, const char *dir)
{
        char *rule;
        int err = rewrite_rule(line, len, dir, &rule);

        if (err < 0 || !rule)
                return err;
        return strv_push_owned(chain, rule);
}

/*
 * Appends the rules of an ignore file: 1 when it was read, 0 when there is none (a file
 * that cannot be read has no rules, as in git).  `in_tree`: a .gitignore of the tree,
 * which git (since 2.32) does not follow when it is a symbolic link.
 */
static int add_rules_from(struct strv *chain, const char *path, const char *dir, int in_tree)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC | (in_tree ? O_NOFOLLOW : 0));
        FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
        char *line = NULL;
        size_t cap = 0;
        ssize_t len;
        int err = 0;

        if (!f) {
                if (errno != ENOENT && errno != ENOTDIR && errno != ELOOP)
                        nono_warn("cannot read %s: %s", path, strerror(errno));
                if (fd >= 0)
                        close(fd);
                return 0;
        }
        for (int first = 1; err == 0 && (len = getline(&line, &cap, f)) >= 0; first = 0) {
                /* git skips a UTF-8 byte order mark at the start of the file. */
                size_t bom = first && len >= 3 && !memcmp(line, "\xef\xbb\xbf", 3) ? 3 : 0;

                err = add_rule(chain, line + bom, (size_t)len - bom - (line[len - 1] == '\n'), dir);
        }
        free(line);
        fclose(f);
        return err < 0 ? err : 1;
}

/*
 * The configuration of the rule repositories: core.excludesFile set without a value,
 * which libgit2 reads as "no global excludes file" (they are in the rule list instead;
 * otherwise libgit2 would stat that file on every match).  libgit2 reads configuration
 * only from files, so this one is written to a temporary file, kept as an in-memory
 * snapshot and removed at once.
 */
static int make_config(git_config **ret)
{
        static const char text[] = "[core]\n\texcludesFile\n";
        const char *tmpdir = getenv("TMPDIR");
        char *path = nono_asprintf("%s/nono-exclude-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
        git_config *file = NULL;
        int fd, err = 0;

        if (!path)
                return -ENOMEM;
        fd = mkstemp(path);
        if (fd < 0) {
                err = nono_error(-errno, "cannot create %s: %s", path, strerror(errno));
                free(path);
                return err;
        }
        if (write(fd, text, sizeof(text) - 1) != (ssize_t)sizeof(text) - 1)
                err = nono_error(-EIO, "cannot write %s", path);
        close(fd);
        if (!err && (git_config_new(&file) < 0 ||
                     git_config_add_file_ondisk(file, path, GIT_CONFIG_LEVEL_APP, NULL, 1) < 0 ||
                     git_config_snapshot(ret, file) < 0))
                err = git_failed("read the configuration", path);
        git_config_free(file);
        unlink(path);
        free(path);
        return err;
}

/* Without a temporary file, an empty configuration gives the same decisions: the
 * catch-all rule hides the global excludes file, which libgit2 then only stats. */
static int open_config(git_config **ret)
{
        if (make_config(ret) == 0)
                return 0;
        nono_debug("%s; the global excludes file is checked on every match", nono_errmsg());
        nono_error_clear();
        return git_config_new(ret) < 0 ? git_failed("set up", "a configuration") : 0;
}

static void append_rules(char **p, const struct strv *rules)
{
        for (size_t i = 0; i < rules->n; i++) {
                *p = stpcpy(*p, rules->items[i]);
                *(*p)++ = '\n';
        }
}

/* A repository that lives only in memory and holds `chain` then `patterns`. */
static int build_repo(struct exclude_rules *r, const struct strv *chain,
                      const struct strv *patterns, git_repository **ret)
{
        size_t len = sizeof(catch_all_rule) + 1;
        char *text, *p;
        int err = 0;

        for (size_t i = 0; i < chain->n; i++)
                len += strlen(chain->items[i]) + 1;
        for (size_t i = 0; i < patterns->n; i++)
                len += strlen(patterns->items[i]) + 1;
        text = p = malloc(len);
        if (!text)
                return -ENOMEM;
        p = stpcpy(p, catch_all_rule);
        *p++ = '\n';
        append_rules(&p, chain);
        append_rules(&p, patterns);
        *p = '\0';
        if (git_repository_new(ret) < 0 || git_repository_set_config(*ret, r->config) < 0 ||
            git_ignore_add_rule(*ret, text) < 0)
                err = git_failed("set up the exclusion rules of", r->root);
        free(text);
        return err;
}

static int dir_cmp(const void *a, const void *b)
{
        return strcmp(((const struct dir_rules *)a)->dir, ((const struct dir_rules *)b)->dir);
}

static int remember_dir(struct exclude_rules *r, struct dir_rules *e)
{
        if (r->n_dirs == r->cap_dirs) {
                size_t cap = r->cap_dirs ? 2 * r->cap_dirs : 16;
                struct dir_rules **dirs = realloc(r->dirs, cap * sizeof(*dirs));

                if (!dirs)
                        return -ENOMEM;
                r->dirs = dirs;
                r->cap_dirs = cap;
        }
        if (!tsearch(e, &r->tree, dir_cmp))
                return -ENOMEM;
        r->dirs[r->n_dirs++] = e;
        return 0;
}

static void free_dir(struct dir_rules *e)
{
        if (e->owner == e) {
                git_repository_free(e->repo);
                strv_free(&e->chain);
        }
        free(e->dir);
        free(e);
}

/*
 * The rules of directory `dir` (relative to the root): those of its parent (`inherited`)
 * and its own .gitignore.  A directory without one shares its parent's repository; the
 * root (no parent) always gets its own.
 */
static int add_dir(struct exclude_rules *r, const struct dir_rules *parent,
                   const struct strv *inherited, const char *dir, struct dir_rules **ret)
{
        struct dir_rules *e = calloc(1, sizeof(*e));
        struct strv mine = STRV_INIT;
        char *path = NULL, *anchor = NULL;
        int err = -ENOMEM;

        if (!e || !(e->dir = nono_strdup(dir)))
                goto fail;
        anchor = *dir ? nono_asprintf("%s%s/", r->prefix, dir) : nono_strdup(r->prefix);
        path = *dir ? nono_asprintf("%s/%s/.gitignore", r->root, dir)
                    : nono_path_join(r->root, ".gitignore");
        if (!anchor || !path)
                goto fail;
        /* A directory name that holds a line break cannot be written into a rule. */
        if (r->use_gitignore && !strpbrk(dir, "\n\r") &&
            (err = add_rules_from(&mine, path, anchor, 1)) < 0)
                goto fail;
        if (parent && mine.n == 0) {
                e->owner = parent->owner;
                e->repo = parent->owner->repo;
        } else {
                e->owner = e;
                if ((err = strv_extend(&e->chain, inherited)) < 0 ||
                    (err = strv_extend(&e->chain, &mine)) < 0 ||
                    (err = build_repo(r, &e->chain, &r->patterns, &e->repo)) < 0)
                        goto fail;
        }
        if ((err = remember_dir(r, e)) < 0)
                goto fail;
        *ret = e;
        err = 0;
        goto out;
fail:
        if (e)
                free_dir(e);
out:
        strv_free(&mine);
        free(anchor);
        free(path);
        return err;
}

/* The rules of `dir` (relative to the root, modified and restored), read on first use. */
static int rules_of_dir(struct exclude_rules *r, char *dir, struct dir_rules **ret)
{
        struct dir_rules key = {.dir = dir}, *parent = r->dirs[0];
        void *found;
        char *slash;
        int err;

        if (r->last && strcmp(r->last->dir, dir) == 0) {
                *ret = r->last;
                return 0;
        }
        found = tfind(&key, &r->tree, dir_cmp);
        if (found) {
                *ret = r->last = *(struct dir_rules **)found;
                return 0;
        }
        slash = strrchr(dir, '/');
        if (slash) {
                *slash = '\0';
                err = rules_of_dir(r, dir, &parent);
                *slash = '/';
                if (err < 0)
                        return err;
        }
        err = add_dir(r, parent, &parent->owner->chain, dir, ret);
        if (err == 0)
                r->last = *ret;
        return err;
}

/* The user's global excludes: core.excludesFile, by default $XDG_CONFIG_HOME/git/ignore. */
static int add_global_excludes(struct strv *base, git_repository *repo)
{
        git_config *cfg = NULL;
        git_buf path = {0}, xdg = {0};
        int err = 0;

        if ((repo ? git_repository_config_snapshot(&cfg, repo) : git_config_open_default(&cfg)) < 0)
                return git_failed("read the git configuration for", "the global excludes");
        if (git_config_get_path(&path, cfg, "core.excludesFile") == 0) {
                err = add_rules_from(base, path.ptr, "", 0);
        } else if (git_libgit2_opts(GIT_OPT_GET_SEARCH_PATH, GIT_CONFIG_LEVEL_XDG, &xdg) == 0) {
                /* A list of directories: the first that holds an "ignore" file counts. */
                for (char *dir = xdg.ptr, *next; err == 0 && dir && *dir; dir = next) {
                        char *file;

                        next = strchr(dir, GIT_PATH_LIST_SEPARATOR);
                        if (next)
                                *next++ = '\0';
                        file = nono_path_join(dir, "ignore");
                        err = file ? add_rules_from(base, file, "", 0) : -ENOMEM;
                        free(file);
                }
        }
        git_error_clear();
        git_buf_dispose(&path);
        git_buf_dispose(&xdg);
        git_config_free(cfg);
        return err < 0 ? err : 0;
}

/* .git/info/exclude, then every .gitignore from the top of the work tree to the root's
 * parent. */
static int add_work_tree_rules(struct exclude_rules *r, struct strv *base, git_repository *repo)
{
        const char *top = git_repository_workdir(repo);
        git_buf info = {0};
        int err = 0;

        if (git_repository_item_path(&info, repo, GIT_REPOSITORY_ITEM_INFO) == 0) {
                char *file = nono_path_join(info.ptr, "exclude");

                err = file ? add_rules_from(base, file, "", 0) : -ENOMEM;
                free(file);
        }
        git_error_clear();
        git_buf_dispose(&info);
        for (size_t i = 0; err >= 0 && i < r->prefix_len; i++) {
                char *dir, *file;

                if (i > 0 && r->prefix[i - 1] != '/')
                        continue;
                dir = nono_asprintf("%.*s", (int)i, r->prefix);
                file = dir ? nono_asprintf("%s%s.gitignore", top, dir) : NULL;
                err = file ? add_rules_from(base, file, dir, 1) : -ENOMEM;
                free(dir);
                free(file);
        }
        return err < 0 ? err : 0;
}

static int set_prefix(struct exclude_rules *r, char *prefix)
{
        if (!prefix)
                return -ENOMEM;
        free(r->prefix);
        r->prefix = prefix;
        r->prefix_len = strlen(prefix);
        return 0;
}

/*
 * The git repository whose work tree holds the root, with r->prefix set, or *ret NULL
 * when there is none: no repository, a bare one, or one that libgit2 refuses (owned by
 * another user).
 */
static int open_work_tree(struct exclude_rules *r, git_repository **ret)
{
        git_repository *repo = NULL;
        const char *top;
        size_t len;
        int err;

        *ret = NULL;
        if (git_repository_open_ext(&repo, r->root, 0, NULL) < 0) {
                git_error_clear();
                return 0;
        }
        top = git_repository_workdir(repo);
        len = top ? strlen(top) : 0;
        /* The root is the top ("/w" for "/w/") or below it; not inside .git. */
        if (!top || strncmp(r->root, top, len - 1) != 0 ||
            (r->root[len - 1] != '\0' && r->root[len - 1] != '/')) {
                git_repository_free(repo);
                return 0;
        }
        err =
            set_prefix(r, r->root[len - 1] ? nono_asprintf("%s/", r->root + len) : nono_strdup(""));
        /* Rules are lines: a line break in the root's path cannot be written into one. */
        if (err < 0 || strpbrk(r->prefix, "\n\r")) {
                git_repository_free(repo);
                return err < 0 ? err : set_prefix(r, nono_strdup(""));
        }
        *ret = repo;
        return 0;
}

/* 1 when `rules` exclude a directory from the top of the work tree down to the root. */
static int root_is_excluded(struct exclude_rules *r, const struct strv *rules)
{
        static const struct strv none = STRV_INIT;
        git_repository *repo;
        int ignored = 0, err = build_repo(r, rules, &none, &repo);

        /* Top-down, as the walk: libgit2 looks at the path only, not its parents. */
        for (size_t i = 1; err == 0 && !ignored && i <= r->prefix_len; i++) {
                char c = r->prefix[i];

                if (r->prefix[i - 1] != '/')
                        continue;
                r->prefix[i] = '\0';
                if (git_ignore_path_is_ignored(&ignored, repo, r->prefix) < 0)
                        err = git_failed("match the exclusion rules against", r->root);
                r->prefix[i] = c;
        }
        git_repository_free(repo);
        return err < 0 ? err : ignored;
}

/*
 * The global excludes, and in a work tree info/exclude and the .gitignore files above
 * the root.  A root that its work tree excludes (a build directory) would be excluded
 * entirely although the caller asked for it: it is treated as outside git.
 */
static int add_base_rules(struct exclude_rules *r, struct strv *base)
{
        struct strv in_tree = STRV_INIT;
        git_repository *repo;
        int err = open_work_tree(r, &repo);

        if (err == 0)
                err = add_global_excludes(base, repo);
        if (err == 0 && repo && (err = strv_extend(&in_tree, base)) == 0 &&
            (err = add_work_tree_rules(r, &in_tree, repo)) == 0) {
                err = root_is_excluded(r, &in_tree);
                if (err == 0) {
                        struct strv swap = *base;

                        *base = in_tree;
                        in_tree = swap;
                } else if (err == 1) {
                        err = set_prefix(r, nono_strdup(""));
                }
        }
        strv_free(&in_tree);
        git_repository_free(repo);
        return err;
}

static int add_patterns(struct exclude_rules *r, const struct exclude_options *opt)
{
        for (size_t i = 0; i < opt->n_patterns; i++) {
                const char *pattern = opt->patterns[i];
                int err;

                /* One pattern is one rule: a line break would smuggle in more. */
                if (strpbrk(pattern, "\n\r"))
                        return nono_error(-EINVAL, "exclude pattern \"%s\" contains a line break",
                                          pattern);
                if ((err = add_rule(&r->patterns, pattern, strlen(pattern), r->prefix)) < 0)
                        return err;
        }
        return 0;
}

static int open_rules(struct exclude_rules *r, const char *root, const struct exclude_options *opt)
{
        struct strv base = STRV_INIT;
        struct dir_rules *top;
        char real[PATH_MAX];
        int err;

        if (!realpath(root, real))
                return nono_error(-errno, "cannot resolve %s: %s", root, strerror(errno));
        r->root = nono_strdup(real);
        if (!r->root || set_prefix(r, nono_strdup("")) < 0)
                return -ENOMEM;
        if ((err = open_config(&r->config)) < 0 ||
            (opt->use_gitignore && (err = add_base_rules(r, &base)) < 0) ||
            (err = add_patterns(r, opt)) < 0)
                goto out;
        err = add_dir(r, NULL, &base, "", &top);
out:
        strv_free(&base);
        return err;
}

static pthread_once_t libgit2_once = PTHREAD_ONCE_INIT;
static int libgit2_status;

/* Once per process, never shut down: libgit2's initialisation loads the system's TLS
 * certificates (milliseconds), and a snapshot run opens rules several times. */
static void init_libgit2(void)
{
        libgit2_status = git_libgit2_init();
}

int exclude_open(const char *root, const struct exclude_options *opt, struct exclude_rules **ret)
{
        struct exclude_rules *r;
        int err;

        *ret = NULL;
        pthread_once(&libgit2_once, init_libgit2);
        if (libgit2_status < 0)
                return git_failed("initialise libgit2 for", root);
        r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->use_gitignore = opt->use_gitignore;
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
        char buf[PATH_MAX];
        const char *slash = strrchr(rel, '/');
        size_t len = strlen(rel), dir_len = slash ? (size_t)(slash - rel) : 0;
        struct dir_rules *e;
        int ignored = 0, err;

        if (in_vcs_dir(rel))
                return 1;
        if (r->n_dirs == 0 || len == 0)
                return 0;
        if (r->prefix_len + len + 2 > sizeof(buf))
                return nono_error(-ENAMETOOLONG, "path too long: %s", rel);
        memcpy(buf, rel, dir_len);
        buf[dir_len] = '\0';
        e = r->dirs[0];
        if (r->use_gitignore && (err = rules_of_dir(r, buf, &e)) < 0)
                return err;
        /* Relative to the top of the work tree; a trailing slash marks a directory
         * ("dir/" patterns match only those). */
        memcpy(buf, r->prefix, r->prefix_len);
        memcpy(buf + r->prefix_len, rel, len);
        strcpy(buf + r->prefix_len + len, is_dir ? "/" : "");
        if (git_ignore_path_is_ignored(&ignored, e->repo, buf) < 0)
                return git_failed("match the exclusion rules against", rel);
        return ignored;
}

void exclude_free(struct exclude_rules *r)
{
        if (!r)
                return;
        for (size_t i = r->n_dirs; i-- > 0;) {
                tdelete(r->dirs[i], &r->tree, dir_cmp);
                free_dir(r->dirs[i]);
        }
        free(r->dirs);
        git_config_free(r->config);
        strv_free(&r->patterns);
        free(r->root);
        free(r->prefix);
        free(r);
}
