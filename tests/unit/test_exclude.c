/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The exclusion rules against real trees under /var/tmp.  HOME, XDG_CONFIG_HOME and
 * libgit2's system search path point into a private directory, so the user's and the
 * machine's git configuration are never read.
 */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cunit-main.h"
#include "exclude.h"
#include "strv.h"

static char home[] = "/var/tmp/nono-exclude-home-XXXXXX";
static char tree[] = "/var/tmp/nono-exclude-tree-XXXXXX";

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
        (void)sb;
        (void)flag;
        (void)ftw;
        return remove(path);
}

static void rm_rf(const char *path)
{
        nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* mkdir -p of `rel` under `base`. */
static void make_dirs(const char *base, const char *rel)
{
        char *path = nono_path_join(base, rel);

        for (char *p = path + strlen(base) + 1; (p = strchr(p, '/')); p++) {
                *p = '\0';
                mkdir(path, 0755);
                *p = '/';
        }
        mkdir(path, 0755);
        free(path);
}

/* Writes `content` to base/rel, creating the directories on the way. */
static void write_file(const char *base, const char *rel, const char *content)
{
        char *path = nono_path_join(base, rel);
        char *dir = nono_strdup(rel);
        char *slash = strrchr(dir, '/');
        FILE *f;

        if (slash) {
                *slash = '\0';
                make_dirs(base, dir);
        }
        f = fopen(path, "w");
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        fputs(content, f);
        fclose(f);
        free(dir);
        free(path);
}

/* Every test starts from an empty tree. */
static void fresh_tree(void)
{
        char *xdg = nono_path_join(home, ".config");

        rm_rf(xdg);
        free(xdg);
        rm_rf(tree);
        CU_ASSERT_EQUAL_FATAL(mkdir(tree, 0755), 0);
}

static void git_init(const char *dir)
{
        git_repository *repo = NULL;

        CU_ASSERT_EQUAL_FATAL(git_repository_init(&repo, dir, 0), 0);
        git_repository_free(repo);
}

static struct exclude_rules *open_at(const char *root, int use_gitignore,
                                     const char *const *patterns, size_t n)
{
        struct exclude_options opt = {use_gitignore, patterns, n};
        struct exclude_rules *r = NULL;

        CU_ASSERT_EQUAL_FATAL(exclude_open(root, &opt, &r), 0);
        CU_ASSERT_PTR_NOT_NULL_FATAL(r);
        return r;
}

static struct exclude_rules *open_gitignore(const char *root)
{
        return open_at(root, 1, NULL, 0);
}

static int file_excluded(struct exclude_rules *r, const char *rel)
{
        return exclude_match(r, rel, 0);
}

static int dir_excluded(struct exclude_rules *r, const char *rel)
{
        return exclude_match(r, rel, 1);
}

/* Walks `dir` (relative to `root`) top-down as the snapshot engine does: an excluded
 * directory is not entered.  Every path met goes to `seen`, the excluded ones also to
 * `excluded`. */
static void walk(struct exclude_rules *r, const char *root, const char *dir, struct strv *seen,
                 struct strv *excluded)
{
        char *path = *dir ? nono_path_join(root, dir) : nono_strdup(root);
        DIR *d = opendir(path);
        struct dirent *de;

        CU_ASSERT_PTR_NOT_NULL_FATAL(d);
        while ((de = readdir(d))) {
                char *rel;
                int is_dir = de->d_type == DT_DIR, ex;

                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
                    !strcmp(de->d_name, ".git"))
                        continue;
                rel = *dir ? nono_asprintf("%s/%s", dir, de->d_name) : nono_strdup(de->d_name);
                ex = exclude_match(r, rel, is_dir);
                CU_ASSERT(ex == 0 || ex == 1);
                strv_push(seen, rel);
                if (ex == 1)
                        strv_push(excluded, rel);
                else if (is_dir)
                        walk(r, root, rel, seen, excluded);
                free(rel);
        }
        closedir(d);
        free(path);
}

/* The paths of `seen` (under `prefix` in the work tree) that `git check-ignore` reports. */
static void git_check_ignore(const char *prefix, const struct strv *seen, struct strv *ignored)
{
        char *in = nono_path_join(home, "check-in"), *out = nono_path_join(home, "check-out");
        char *cmd = nono_asprintf(
            "git -C %s check-ignore --no-index --stdin -z <%s >%s 2>/dev/null", tree, in, out);
        FILE *f = fopen(in, "w");
        char *item = NULL;
        size_t cap = 0;
        int status;

        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        for (size_t i = 0; i < seen->n; i++)
                fprintf(f, "%s%s%c", prefix, seen->items[i], '\0');
        fclose(f);
        status = system(cmd);
        /* 0: some are ignored, 1: none is. */
        CU_ASSERT_FATAL(WIFEXITED(status) && WEXITSTATUS(status) <= 1);
        f = fopen(out, "r");
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        while (getdelim(&item, &cap, '\0', f) > 0)
                strv_push(ignored, item + strlen(prefix));
        free(item);
        fclose(f);
        unlink(in);
        unlink(out);
        free(cmd);
        free(in);
        free(out);
}

static int git_ignores(const char *rel)
{
        struct strv one = STRV_INIT, ignored = STRV_INIT;
        int ret;

        strv_push(&one, rel);
        git_check_ignore("", &one, &ignored);
        ret = ignored.n > 0;
        strv_free(&one);
        strv_free(&ignored);
        return ret;
}

static void expect_same_as_git(const char *prefix, const struct strv *seen,
                               const struct strv *excluded)
{
        struct strv ignored = STRV_INIT;

        git_check_ignore(prefix, seen, &ignored);
        for (size_t i = 0; i < seen->n; i++) {
                const char *p = seen->items[i];

                if (strv_contains(excluded, p) != strv_contains(&ignored, p))
                        fprintf(stderr, "\n  %s: excluded %d, git %d", p,
                                strv_contains(excluded, p), strv_contains(&ignored, p));
                CU_ASSERT_EQUAL(strv_contains(excluded, p), strv_contains(&ignored, p));
        }
        strv_free(&ignored);
}

static const char *const mixed_gitignore[][2] = {
    {".gitignore", "# comment\n*.log\n!important.log\n/build\ndist/\n**/tmp/**\n"
                   "docs/**/*.pdf\n\\#hash\n*.[oa]\nfoo?bar\n/sub/anchored.txt\n"
                   "spaced name.txt\ntrailing  \n\\!bang\n"},
    {"sub/.gitignore", "!keep.log\n!x.o\n/local\nnested/deep/\n*.txt\n!readme.txt\n"},
    {"sub/inner/.gitignore", "*.md\n!/x.md\nreadme.txt\n"},
    {"other/.gitignore", "/*\n!/keep/\n!.gitignore\n"},
    {"other/keep/.gitignore", "!*.log\n"},
    {"na\xc3\xafve dir/.gitignore", "\xc3\xa9*\n!\xc3\xa9t\xc3\xa9.txt\n"},
    {"bom/.gitignore", "\xef\xbb\xbf*.bom\r\n/crlf\r\n"},
};

static const char *const mixed_files[] = {
    "a.log",
    "important.log",
    "sub/important.log",
    "sub/keep.log",
    "sub/a.log",
    "build/x",
    "sub/build/x",
    "dist/x",
    "sub/dist",
    "tmp/x",
    "a/tmp/y",
    "a/tmp/z/w",
    "docs/a.pdf",
    "docs/x/y/b.pdf",
    "src/docs/c.pdf",
    "#hash",
    "trailing",
    "x.o",
    "x.a",
    "x.c",
    "sub/x.o",
    "sub/y.o",
    "fooxbar",
    "foo/bar",
    "sub/anchored.txt",
    "anchored.txt",
    "spaced name.txt",
    "sub/local/x",
    "sub/x/local",
    "sub/nested/deep/f",
    "sub/y/nested/deep/f",
    "sub/t.txt",
    "sub/readme.txt",
    "sub/inner/r.md",
    "sub/inner/x.md",
    "sub/inner/q/x.md",
    "sub/inner/readme.txt",
    "other/a",
    "other/keep/b.log",
    "other/keep/c",
    "!bang",
    "x.swp",
    "x.info",
    "na\xc3\xafve dir/\xc3\xa9t\xc3\xa9.txt",
    "na\xc3\xafve dir/\xc3\xa9x",
    "na\xc3\xafve dir/a.log",
    "bom/x.bom",
    "bom/crlf",
    "bom/a/crlf",
};

static void write_mixed_tree(void)
{
        char *link = nono_path_join(tree, "linked/.gitignore");

        for (size_t i = 0; i < sizeof(mixed_gitignore) / sizeof(mixed_gitignore[0]); i++)
                write_file(tree, mixed_gitignore[i][0], mixed_gitignore[i][1]);
        for (size_t i = 0; i < sizeof(mixed_files) / sizeof(mixed_files[0]); i++)
                write_file(tree, mixed_files[i], "x");
        write_file(home, ".config/git/ignore", "*.swp\n");
        /* git (2.32 and later) does not follow a symbolic link named .gitignore. */
        write_file(tree, "linked/x.log", "x");
        write_file(tree, "linked/t.txt", "x");
        CU_ASSERT_EQUAL(symlink("../sub/.gitignore", link), 0);
        free(link);
}

/* The same decisions as git itself, for every path the walk meets. */
static void test_same_as_git(void)
{
        struct strv seen = STRV_INIT, excluded = STRV_INIT;
        struct exclude_rules *r;

        fresh_tree();
        write_mixed_tree();
        git_init(tree);
        write_file(tree, ".git/info/exclude", "*.info\n");
        r = open_gitignore(tree);
        walk(r, tree, "", &seen, &excluded);
        exclude_free(r);
        CU_ASSERT(seen.n > 40);
        CU_ASSERT(excluded.n > 20);
        expect_same_as_git("", &seen, &excluded);
        strv_free(&seen);
        strv_free(&excluded);
}

/* A root below the top of the work tree: the same decisions as git for its paths. */
static void test_same_as_git_in_subdir(void)
{
        struct strv seen = STRV_INIT, excluded = STRV_INIT;
        char *root = nono_path_join(tree, "sub");
        struct exclude_rules *r;

        fresh_tree();
        write_mixed_tree();
        git_init(tree);
        r = open_gitignore(root);
        walk(r, root, "", &seen, &excluded);
        exclude_free(r);
        CU_ASSERT(seen.n > 10);
        CU_ASSERT(excluded.n > 5);
        expect_same_as_git("sub/", &seen, &excluded);
        strv_free(&seen);
        strv_free(&excluded);
        free(root);
}

/* A fixed pseudo-random sequence, so that a failing round can be replayed. */
static unsigned pick(unsigned *state, unsigned n)
{
        *state = *state * 1103515245u + 12345u;
        return (*state >> 16) % n;
}

static const char *const random_names[] = {"a",   "b",      "build", "keep",   "x.log",
                                           "y.o", "tmp",    "k.log", "doc.md", ".hidden",
                                           "k1",  "x.log ", "a b"};
static const char *const random_stems[] = {
    "a",     "b",    "build",  "keep",      "*.log", "*.o",    "tmp",     "*",    "k*",
    "x.log", "**",   "?.o",    "[ab]",      "[!a]*", "*[0-9]", "a?",      "**/b", "k*.log",
    ".*",    "*.md", "d*c.md", "[a-c]uild", "bu*ld", "y.o ",   "x.log\\ "};

/* A pattern such as "!/a/b/" or "k*" then "/y.o", from the names of the random tree. */
static char *random_pattern(unsigned *state)
{
        char *p = nono_strdup(pick(state, 4) == 0 ? "!" : ""), *q;
        unsigned parts = pick(state, 2) ? 1 : 2 + pick(state, 2);

        if (pick(state, 3) == 0) {
                q = nono_asprintf("%s/", p);
                free(p);
                p = q;
        }
        for (unsigned i = 0; i < parts; i++) {
                q = nono_asprintf(
                    "%s%s%s", p, i ? "/" : "",
                    random_stems[pick(state, sizeof(random_stems) / sizeof(random_stems[0]))]);
                free(p);
                p = q;
        }
        if (pick(state, 4) == 0) {
                q = nono_asprintf("%s/", p);
                free(p);
                p = q;
        }
        return p;
}

static void random_tree(unsigned *state)
{
        enum { N_NAMES = sizeof(random_names) / sizeof(random_names[0]) };
        struct strv dirs = STRV_INIT;

        strv_push(&dirs, "");
        for (int i = 0; i < 80; i++) {
                const char *parent = dirs.items[pick(state, (unsigned)dirs.n)];
                const char *name = random_names[pick(state, N_NAMES)];
                char *rel = *parent ? nono_asprintf("%s/%s", parent, name) : nono_strdup(name);
                char *path = nono_path_join(tree, rel);

                /* A name taken by a file stays a file, and the other way round. */
                if (pick(state, 3) == 0) {
                        if (mkdir(path, 0755) == 0)
                                strv_push(&dirs, rel);
                } else {
                        FILE *f = fopen(path, "wx");

                        if (f)
                                fclose(f);
                }
                free(path);
                free(rel);
        }
        for (size_t i = 0; i < dirs.n; i++) {
                char *text, *file;

                if (pick(state, 2) == 0)
                        continue;
                text = nono_strdup("");
                for (unsigned n = 1 + pick(state, 4); n > 0; n--) {
                        char *pattern = random_pattern(state), *more;

                        more = nono_asprintf("%s%s\n", text, pattern);
                        free(text);
                        free(pattern);
                        text = more;
                }
                file = *dirs.items[i] ? nono_asprintf("%s/.gitignore", dirs.items[i])
                                      : nono_strdup(".gitignore");
                write_file(tree, file, text);
                free(file);
                free(text);
        }
        strv_free(&dirs);
}

/* Random trees and .gitignore files: the same decisions as git, round after round. */
static void test_random_same_as_git(void)
{
        for (unsigned round = 0; round < 20; round++) {
                struct strv seen = STRV_INIT, excluded = STRV_INIT;
                unsigned state = round;
                struct exclude_rules *r;

                char *sub = nono_path_join(tree, "a");
                struct stat st;
                int in_sub;

                fresh_tree();
                git_init(tree);
                random_tree(&state);
                /* Every other round, the root is a directory below the top of the tree
                 * (unless git ignores it: then it is treated as outside git). */
                in_sub =
                    round % 2 && stat(sub, &st) == 0 && S_ISDIR(st.st_mode) && !git_ignores("a");
                r = open_gitignore(in_sub ? sub : tree);
                walk(r, in_sub ? sub : tree, "", &seen, &excluded);
                exclude_free(r);
                expect_same_as_git(in_sub ? "a/" : "", &seen, &excluded);
                free(sub);
                if (CU_get_number_of_failures() > 0) {
                        fprintf(stderr, "\n  round %u failed; its tree is in %s\n", round, tree);
                        system("cd /var/tmp && find nono-exclude-tree-* -name .gitignore "
                               "-printf '%p:\\n' -exec cat {} \\; >&2");
                }
                strv_free(&seen);
                strv_free(&excluded);
                if (CU_get_number_of_failures() > 0)
                        return;
        }
}

/* Outside git: the same decisions as git makes once the tree is a repository. */
static void test_same_as_git_without_repository(void)
{
        struct strv seen = STRV_INIT, excluded = STRV_INIT;
        struct exclude_rules *r;

        fresh_tree();
        write_mixed_tree();
        r = open_gitignore(tree);
        walk(r, tree, "", &seen, &excluded);
        exclude_free(r);
        git_init(tree);
        expect_same_as_git("", &seen, &excluded);
        strv_free(&seen);
        strv_free(&excluded);
}

static void test_vcs_dirs_always(void)
{
        struct exclude_rules *r = open_at(tree, 0, NULL, 0);

        fresh_tree();
        CU_ASSERT_EQUAL(dir_excluded(r, ".git"), 1);
        CU_ASSERT_EQUAL(file_excluded(r, ".git"), 1); /* a worktree's .git file */
        CU_ASSERT_EQUAL(dir_excluded(r, "a/.hg"), 1);
        CU_ASSERT_EQUAL(file_excluded(r, "a/.svn/entries"), 1);
        CU_ASSERT_EQUAL(dir_excluded(r, "deep/er/.jj"), 1);
        CU_ASSERT_EQUAL(dir_excluded(r, ".gitx"), 0);
        CU_ASSERT_EQUAL(file_excluded(r, "git"), 0);
        CU_ASSERT_EQUAL(file_excluded(r, ".gitignore"), 0);
        CU_ASSERT_EQUAL(file_excluded(r, "a/b.jj"), 0);
        exclude_free(r);

        /* Also when the .gitignore rules are on, and whatever a pattern says. */
        r = open_at(tree, 1, (const char *const[]){"!.git"}, 1);
        CU_ASSERT_EQUAL(dir_excluded(r, ".git"), 1);
        CU_ASSERT_EQUAL(dir_excluded(r, "sub/.hg"), 1);
        exclude_free(r);
}

static void test_nested_negation(void)
{
        struct exclude_rules *r;

        fresh_tree();
        git_init(tree);
        write_file(tree, ".gitignore", "*.log\nbuild-*/\n");
        write_file(tree, "sub/.gitignore", "!keep*.log\n!build-k*/\n");
        write_file(tree, "other/.gitignore", "*.log\n!other.log\n");
        r = open_gitignore(tree);
        CU_ASSERT_EQUAL(file_excluded(r, "a.log"), 1);
        CU_ASSERT_EQUAL(file_excluded(r, "keep.log"), 1);
        CU_ASSERT_EQUAL(file_excluded(r, "sub/keep.log"), 0);
        CU_ASSERT_EQUAL(file_excluded(r, "sub/keep-1.log"), 0);
        CU_ASSERT_EQUAL(file_excluded(r, "sub/other.log"), 1);
        CU_ASSERT_EQUAL(file_excluded(r, "sub/deeper/keep.log"), 0);
        CU_ASSERT_EQUAL(dir_excluded(r, "sub/build-keep"), 0);
        CU_ASSERT_EQUAL(dir_excluded(r, "sub/build-x"), 1);
        CU_ASSERT_EQUAL(file_excluded(r, "other/other.log"), 0);
        CU_ASSERT_EQUAL(file_excluded(r, "other/x.log"), 1);
        CU_ASSERT_EQUAL(file_excluded(r, "a.txt"), 0);
        exclude_free(r);
}

/*
 * libgit2's own lookup (1.5 to at least 1.9, its issue #7284) drops a negation without
 * wildcards unless a pattern of the same file excludes what it re-includes; git keeps it,
 * and so do the rewritten rules.
 */
static void test_nested_literal_negation(void)
{
        struct exclude_rules *r;

        fresh_tree();
        git_init(tree);
        write_file(tree, ".gitignore", "*.log\n/sub/x/\n");
        write_file(tree, "sub/.gitignore", "!keep.log\n!/x/\n");
        r = open_gitignore(tree);
        CU_ASSERT_EQUAL(file_excluded(r, "sub/keep.log"), 0);
        CU_ASSERT_EQUAL(file_excluded(r, "sub/a/keep.log"), 0);
        CU_ASSERT_EQUAL(file_excluded(r, "keep.log"), 1);
        CU_ASSERT_EQUAL(dir_excluded(r, "sub/x"), 0);
        exclude_free(r);
}

static void test_anchored(void)
{
        struct exclude_rules *r;

        fresh_tree();
        git_init(tree);
        write_file(tree, ".gitignore", "/build\nsrc/gen\n");
        write_file(tree, "lib/.gitignore", "/local\n");
        r = open_gitignore(tree);
        CU_ASSERT_EQUAL(dir_excluded(r, "build"), 1);
        CU_ASSERT_EQUAL(file_excluded(r, "build"), 1);
        CU_ASSERT_EQUAL(dir_excluded(r, "src/build"), 0);
        CU_ASSERT_EQUAL(dir_excluded(r, "src/gen"), 1);
        CU_ASSERT_EQUAL(dir_excluded(r, "lib/src/gen"), 0);
        CU_ASSERT_EQUAL(dir_excluded(r, "lib/local"), 1);
        CU_ASSERT_EQUAL(dir_excluded(r, "local"), 0);
        CU_ASSERT_EQUAL(dir_excluded(r, "lib/x/local"), 0);
        exclude_free(r);
}

static void test_dir_only(void)
{
        struct exclude_rules *r;

        fresh_tree();
        git_init(tree);
        write_file(tree, ".gitignore", "out/\n");
        r = open_gitignore(tree);
        CU_ASSERT_EQUAL(dir_excluded(r, "out"), 1);
        CU_ASSERT_EQUAL(file_excluded(r, "out"), 0);
        CU_ASSERT_EQUAL(dir_excluded(r, "a/b/out"), 1);
        CU_ASSERT_EQUAL(file_excluded(r, "a/b/out"), 0);
        exclude_free(r);
}

static void test_every_level(void)
{
        struct exclude_rules *r;

        fresh_tree();
        git_init(tree);
        write_file(tree, ".gitignore", "*.log\n");
        r = open_gitignore(tree);
        CU_ASSERT_EQUAL(file_excluded(r, "x.log"), 1);
        CU_ASSERT_EQUAL(file_excluded(r, "a/b/c/x.log"), 1);
        CU_ASSERT_EQUAL(dir_excluded(r, "a/dir.log"), 1);
        CU_ASSERT_EQUAL(file_excluded(r, "x.logs"), 0);
        CU_ASSERT_EQUAL(file_excluded(r, "a/log"), 0);
        exclude_free(r);
}

static void test_double_star(void)
{
        struct exclude_rules *r;

        fresh_tree();
        git_init(tree);
        write_file(tree, ".gitignore", "**/tmp/**\nlogs/**/*.txt\n");
        r = open_gitignore(tree);
        CU_ASSERT_EQUAL(file_excluded(r, "tmp/x"), 1);
        CU_ASSERT_EQUAL(file_excluded(r, "a/b/tmp/x"), 1);
        CU_ASSERT_EQUAL(dir_excluded(r, "a/tmp/sub"), 1);
        /* A trailing slash-star-star matches what is inside tmp, not tmp itself. */
        CU_ASSERT_EQUAL(dir_excluded(r, "a/tmp"), 0);
        CU_ASSERT_EQUAL(file_excluded(r, "a/tmpx/f"), 0);
        CU_ASSERT_EQUAL(file_excluded(r, "logs/a.txt"), 1);
        CU_ASSERT_EQUAL(file_excluded(r, "logs/x/y/a.txt"), 1);
        CU_ASSERT_EQUAL(file_excluded(r, "logs/x/y/a.md"), 0);
        CU_ASSERT_EQUAL(file_excluded(r, "src/logs/a.txt"), 0);
        exclude_free(r);
}

static void test_info_exclude(void)
{
        struct exclude_rules *r;

        fresh_tree();
        git_init(tree);
        write_file(tree, ".git/info/exclude", "secret.txt\n");
        r = open_gitignore(tree);
        CU_ASSERT_EQUAL(file_excluded(r, "secret.txt"), 1);
        CU_ASSERT_EQUAL(file_excluded(r, "a/secret.txt"), 1);
        CU_ASSERT_EQUAL(file_excluded(r, "public.txt"), 0);
        exclude_free(r);
}

static void test_global_excludes_file(void)
{
        char *gitconfig = nono_path_join(home, ".gitconfig");
        char *conf = nono_asprintf("[core]\n\texcludesFile = %s/my-ignores\n", home);
        struct exclude_rules *r;

        fresh_tree();
        git_init(tree);
        write_file(home, ".gitconfig", conf);
        write_file(home, "my-ignores", "*.bak\n");
        r = open_gitignore(tree);
        CU_ASSERT_EQUAL(file_excluded(r, "x.bak"), 1);
        CU_ASSERT_EQUAL(file_excluded(r, "a/x.bak"), 1);
        CU_ASSERT_EQUAL(file_excluded(r, "x.c"), 0);
        exclude_free(r);
        unlink(gitconfig);
        free(gitconfig);
        free(conf);
}

static void test_global_excludes_xdg(void)
{
        char *xdg = nono_path_join(home, ".config");
        struct exclude_rules *r;

        fresh_tree();
        write_file(home, ".config/git/ignore", "*.swp\n");
        r = open_gitignore(tree);
        CU_ASSERT_EQUAL(file_excluded(r, ".x.swp"), 1);
        CU_ASSERT_EQUAL(file_excluded(r, "x.c"), 0);
        exclude_free(r);
        git_init(tree);
        r = open_gitignore(tree);
        CU_ASSERT_EQUAL(file_excluded(r, "a/.x.swp"), 1);
        CU_ASSERT_EQUAL(file_excluded(r, "x.c"), 0);
        exclude_free(r);
        rm_rf(xdg);
        free(xdg);
}

static void test_explicit_patterns(void)
{
        static const char *const patterns[] = {"*.tmp", "/cache", "docs/gen/", "!keep.tmp",
                                               "!keep.o"};
        struct exclude_rules *r;

        fresh_tree();
        git_init(tree);
        write_file(tree, ".gitignore", "*.o\n");
        r = open_at(tree, 1, patterns, 5);
        CU_ASSERT_EQUAL(file_excluded(r, "a.tmp"), 1);
        CU_ASSERT_EQUAL(file_excluded(r, "x/y/a.tmp"), 1);
        CU_ASSERT_EQUAL(file_excluded(r, "keep.tmp"), 0);
        CU_ASSERT_EQUAL(dir_excluded(r, "cache"), 1);
        CU_ASSERT_EQUAL(dir_excluded(r, "a/cache"), 0);
        CU_ASSERT_EQUAL(dir_excluded(r, "docs/gen"), 1);
        CU_ASSERT_EQUAL(file_excluded(r, "docs/gen"), 0);
        CU_ASSERT_EQUAL(file_excluded(r, "a.o"), 1);
        /* An explicit negation overrides the .gitignore files. */
        CU_ASSERT_EQUAL(file_excluded(r, "x/keep.o"), 0);
        CU_ASSERT_EQUAL(file_excluded(r, "a.c"), 0);
        exclude_free(r);
}

/* Patterns are relative to the root even when the work tree starts higher up. */
static void test_explicit_patterns_in_subdir(void)
{
        static const char *const patterns[] = {"/cache", "docs/gen/", "*.tmp", "!/x/keep.tmp"};
        char *root = nono_path_join(tree, "pro ject[1]");
        struct exclude_rules *r;

        fresh_tree();
        git_init(tree);
        write_file(tree, ".gitignore", "keep\n");
        make_dirs(tree, "pro ject[1]");
        r = open_at(root, 1, patterns, 4);
        CU_ASSERT_EQUAL(dir_excluded(r, "cache"), 1);
        CU_ASSERT_EQUAL(dir_excluded(r, "a/cache"), 0);
        CU_ASSERT_EQUAL(dir_excluded(r, "docs/gen"), 1);
        CU_ASSERT_EQUAL(dir_excluded(r, "x/docs/gen"), 0);
        CU_ASSERT_EQUAL(file_excluded(r, "x/a.tmp"), 1);
        CU_ASSERT_EQUAL(file_excluded(r, "x/keep.tmp"), 0);
        CU_ASSERT_EQUAL(file_excluded(r, "y/x/keep.tmp"), 1);
        /* The work tree's rules still apply. */
        CU_ASSERT_EQUAL(file_excluded(r, "keep"), 1);
        exclude_free(r);
        free(root);
}

static void test_patterns_without_gitignore(void)
{
        static const char *const patterns[] = {"*.tmp", "build/"};
        char *xdg = nono_path_join(home, ".config");
        struct exclude_rules *r;

        fresh_tree();
        git_init(tree);
        write_file(tree, ".gitignore", "*.log\n");
        write_file(tree, ".git/info/exclude", "*.info\n");
        write_file(home, ".config/git/ignore", "*.swp\n");
        r = open_at(tree, 0, patterns, 2);
        CU_ASSERT_EQUAL(file_excluded(r, "x.tmp"), 1);
        CU_ASSERT_EQUAL(dir_excluded(r, "a/build"), 1);
        CU_ASSERT_EQUAL(file_excluded(r, "a/build"), 0);
        CU_ASSERT_EQUAL(file_excluded(r, "x.log"), 0);
        CU_ASSERT_EQUAL(file_excluded(r, "x.info"), 0);
        CU_ASSERT_EQUAL(file_excluded(r, "x.swp"), 0);
        CU_ASSERT_EQUAL(dir_excluded(r, ".git"), 1);
        exclude_free(r);
        rm_rf(xdg);
        free(xdg);
}

static void test_non_git_nested(void)
{
        struct exclude_rules *r;

        fresh_tree();
        write_file(tree, ".gitignore", "*.o\n/top\n");
        write_file(tree, "sub/.gitignore", "!keep*.o\n/gen/\n");
        write_file(tree, "sub/deep/.gitignore", "*.c\n");
        r = open_gitignore(tree);
        CU_ASSERT_EQUAL(file_excluded(r, "a.o"), 1);
        CU_ASSERT_EQUAL(file_excluded(r, "x/y/a.o"), 1);
        CU_ASSERT_EQUAL(file_excluded(r, "sub/keep.o"), 0);
        CU_ASSERT_EQUAL(file_excluded(r, "keep.o"), 1);
        CU_ASSERT_EQUAL(dir_excluded(r, "top"), 1);
        CU_ASSERT_EQUAL(dir_excluded(r, "sub/top"), 0);
        CU_ASSERT_EQUAL(dir_excluded(r, "sub/gen"), 1);
        CU_ASSERT_EQUAL(dir_excluded(r, "gen"), 0);
        CU_ASSERT_EQUAL(file_excluded(r, "sub/deep/m.c"), 1);
        CU_ASSERT_EQUAL(file_excluded(r, "sub/m.c"), 0);
        exclude_free(r);
}

static void test_root_in_work_tree(void)
{
        char *root = nono_path_join(tree, "sub");
        struct exclude_rules *r;

        fresh_tree();
        git_init(tree);
        write_file(tree, ".gitignore", "*.log\n/top-only\nsub/gen/\n");
        write_file(tree, "sub/.gitignore", "/mine\n");
        write_file(tree, ".git/info/exclude", "*.info\n");
        r = open_gitignore(root);
        CU_ASSERT_EQUAL(file_excluded(r, "x.log"), 1);
        CU_ASSERT_EQUAL(file_excluded(r, "a/x.info"), 1);
        CU_ASSERT_EQUAL(file_excluded(r, "top-only"), 0);
        CU_ASSERT_EQUAL(dir_excluded(r, "gen"), 1);
        CU_ASSERT_EQUAL(dir_excluded(r, "mine"), 1);
        CU_ASSERT_EQUAL(dir_excluded(r, "a/mine"), 0);
        CU_ASSERT_EQUAL(file_excluded(r, "x.c"), 0);
        exclude_free(r);
        free(root);
}

/* A root that its work tree ignores as a whole keeps its own .gitignore rules only. */
static void test_root_ignored_by_work_tree(void)
{
        char *root = nono_path_join(tree, "build");
        struct exclude_rules *r;

        fresh_tree();
        git_init(tree);
        write_file(tree, ".gitignore", "build/\n*.log\n");
        write_file(tree, "build/.gitignore", "*.o\n");
        r = open_gitignore(root);
        CU_ASSERT_EQUAL(file_excluded(r, "x.c"), 0);
        CU_ASSERT_EQUAL(file_excluded(r, "x.o"), 1);
        CU_ASSERT_EQUAL(file_excluded(r, "x.log"), 0);
        exclude_free(r);
        free(root);
}

/* Outside git the rules start at the root: a .gitignore above it does not apply. */
static void test_parent_gitignore_outside_root(void)
{
        char *root = nono_path_join(tree, "project");
        struct exclude_rules *r;

        fresh_tree();
        write_file(tree, ".gitignore", "*.log\n");
        write_file(tree, "project/.gitignore", "*.o\n");
        r = open_gitignore(root);
        CU_ASSERT_EQUAL(file_excluded(r, "x.log"), 0);
        CU_ASSERT_EQUAL(file_excluded(r, "x.o"), 1);
        exclude_free(r);
        free(root);
}

static void test_spaces_and_non_ascii(void)
{
        struct exclude_rules *r;

        fresh_tree();
        write_file(tree, ".gitignore", "my file.txt\nna\xc3\xafve \xc3\xb1/\n\xe6\x97\xa5*.md\n");
        r = open_gitignore(tree);
        CU_ASSERT_EQUAL(file_excluded(r, "my file.txt"), 1);
        CU_ASSERT_EQUAL(file_excluded(r, "a b/my file.txt"), 1);
        CU_ASSERT_EQUAL(file_excluded(r, "my  file.txt"), 0);
        CU_ASSERT_EQUAL(dir_excluded(r, "na\xc3\xafve \xc3\xb1"), 1);
        CU_ASSERT_EQUAL(file_excluded(r, "x/\xe6\x97\xa5\xe8\xa8\x98.md"), 1);
        CU_ASSERT_EQUAL(file_excluded(r, "naive n"), 0);
        exclude_free(r);
}

static void test_newline_in_pattern_refused(void)
{
        static const char *const patterns[] = {"a\n!b"};
        struct exclude_options opt = {1, patterns, 1};
        struct exclude_rules *r = NULL;

        fresh_tree();
        CU_ASSERT_EQUAL(exclude_open(tree, &opt, &r), -EINVAL);
        CU_ASSERT_PTR_NULL(r);
}

static int n_entries;

static int count_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
        (void)path;
        (void)sb;
        (void)flag;
        (void)ftw;
        n_entries++;
        return 0;
}

static int tree_entries(const char *dir)
{
        n_entries = 0;
        nftw(dir, count_entry, 16, FTW_PHYS);
        return n_entries;
}

static char *read_file(const char *base, const char *rel)
{
        char *path = nono_path_join(base, rel), *buf = calloc(1, 4096);
        FILE *f = fopen(path, "r");

        if (f) {
                fread(buf, 1, 4095, f);
                fclose(f);
        }
        free(path);
        return buf;
}

/* Neither a .git nor the explicit patterns ever reach the disk, and the temporary
 * configuration file (in $TMPDIR, the private home here) is gone. */
static void test_nothing_written(void)
{
        static const char *const patterns[] = {"*.tmp"};
        char *plain = nono_path_join(tree, "plain"), *before, *after;
        struct exclude_rules *r;
        int entries, home_entries;

        fresh_tree();
        home_entries = tree_entries(home);
        write_file(tree, "plain/.gitignore", "*.o\n");
        entries = tree_entries(plain);
        r = open_at(plain, 1, patterns, 1);
        CU_ASSERT_EQUAL(file_excluded(r, "a.tmp"), 1);
        exclude_free(r);
        CU_ASSERT_EQUAL(tree_entries(plain), entries);

        git_init(plain);
        before = read_file(plain, ".git/info/exclude");
        entries = tree_entries(plain);
        r = open_at(plain, 1, patterns, 1);
        CU_ASSERT_EQUAL(file_excluded(r, "a.tmp"), 1);
        exclude_free(r);
        r = open_gitignore(plain);
        CU_ASSERT_EQUAL(file_excluded(r, "a.tmp"), 0);
        exclude_free(r);
        after = read_file(plain, ".git/info/exclude");
        CU_ASSERT_STRING_EQUAL(before, after);
        CU_ASSERT_EQUAL(tree_entries(plain), entries);
        CU_ASSERT_EQUAL(tree_entries(home), home_entries);
        free(before);
        free(after);
        free(plain);
}

/* Without a writable $TMPDIR the decisions stay the same. */
static void test_without_tmpdir(void)
{
        char *missing = nono_path_join(home, "missing");
        struct exclude_rules *r;

        fresh_tree();
        write_file(home, ".config/git/ignore", "*.swp\n");
        write_file(tree, ".gitignore", "*.log\n");
        write_file(tree, "sub/.gitignore", "!keep.log\n");
        setenv("TMPDIR", missing, 1);
        r = open_gitignore(tree);
        setenv("TMPDIR", home, 1);
        CU_ASSERT_EQUAL(file_excluded(r, "x.swp"), 1);
        CU_ASSERT_EQUAL(file_excluded(r, "x.log"), 1);
        CU_ASSERT_EQUAL(file_excluded(r, "sub/keep.log"), 0);
        CU_ASSERT_EQUAL(file_excluded(r, "x.c"), 0);
        exclude_free(r);
        free(missing);
}

static void test_missing_root(void)
{
        char *root = nono_path_join(tree, "missing");
        struct exclude_options opt = {1, NULL, 0};
        struct exclude_rules *r = NULL;

        fresh_tree();
        CU_ASSERT_EQUAL(exclude_open(root, &opt, &r), -ENOENT);
        CU_ASSERT_PTR_NULL(r);
        exclude_free(NULL);
        free(root);
}

static int suite_init(void)
{
        char *xdg, *system;
        int err;

        if (!mkdtemp(home) || !mkdtemp(tree))
                return -1;
        xdg = nono_path_join(home, ".config");
        system = nono_path_join(home, "system");
        setenv("HOME", home, 1);
        setenv("XDG_CONFIG_HOME", xdg, 1);
        /* The temporary configuration file of exclude_open goes there, not to /tmp. */
        setenv("TMPDIR", home, 1);
        /* For the git command of the comparisons: no /etc/gitconfig. */
        setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
        /* libgit2 reads the variables above when it initialises; the reference held
         * until suite_cleanup keeps the system search path below for every test. */
        err = git_libgit2_init() < 0 ||
              git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_SYSTEM, system) < 0 ||
              git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_PROGRAMDATA, system) < 0;
        free(xdg);
        free(system);
        return err ? -1 : 0;
}

static int suite_cleanup(void)
{
        git_libgit2_shutdown();
        rm_rf(tree);
        rm_rf(home);
        return 0;
}

int main(void)
{
        static const struct test_case cases[] = {
            {"VCS directories are always excluded", test_vcs_dirs_always},
            {"the same decisions as git check-ignore", test_same_as_git},
            {"a root in a work tree, the same decisions as git", test_same_as_git_in_subdir},
            {"random trees, the same decisions as git", test_random_same_as_git},
            {"outside git, the same decisions as git after git init",
             test_same_as_git_without_repository},
            {"a nested .gitignore re-includes with !", test_nested_negation},
            {"a literal negation re-includes across files", test_nested_literal_negation},
            {"a pattern with a slash is anchored to its .gitignore", test_anchored},
            {"dir/ matches directories only", test_dir_only},
            {"*.log matches at every level", test_every_level},
            {"** matches any depth", test_double_star},
            {".git/info/exclude applies", test_info_exclude},
            {"the global core.excludesFile applies", test_global_excludes_file},
            {"$XDG_CONFIG_HOME/git/ignore applies, in git or not", test_global_excludes_xdg},
            {"explicit patterns add to the .gitignore rules", test_explicit_patterns},
            {"explicit patterns are anchored at the root", test_explicit_patterns_in_subdir},
            {"without use_gitignore only the patterns apply", test_patterns_without_gitignore},
            {"outside git every nested .gitignore applies", test_non_git_nested},
            {"a root inside a work tree gets the tree's rules", test_root_in_work_tree},
            {"a root the work tree ignores keeps its own rules", test_root_ignored_by_work_tree},
            {"outside git a .gitignore above the root does not apply",
             test_parent_gitignore_outside_root},
            {"spaces and non-ASCII names", test_spaces_and_non_ascii},
            {"a pattern with a newline is refused", test_newline_in_pattern_refused},
            {"nothing is written to the tree", test_nothing_written},
            {"without a writable $TMPDIR the decisions stay", test_without_tmpdir},
            {"a missing root is an error", test_missing_root},
        };
        return RUN_CUNIT("exclude", suite_init, suite_cleanup, cases);
}
