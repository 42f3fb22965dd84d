/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Cost of the snapshot exclusion rules, against a baseline measured in the same run.
 *
 * Builds a git work tree of 20,000 files (200 packages of 100, a top .gitignore with
 * common rules and one per package) under /var/tmp, then times, over interleaved runs:
 *
 *   walk      readdir + lstat of every entry, not entering the directories that the
 *             rules exclude (what a snapshot walk costs anyway)
 *   nono      the walk + exclude_open / exclude_match / exclude_free
 *   warm      the walk + exclude_match with rules that have read every .gitignore
 *             already (a second walk with the same rules: the cost of matching alone)
 *   libgit2   the walk + git_ignore_path_is_ignored (libgit2's own lookup)
 *
 * and prints the median time of each, per path, and its ratio to the walk.
 * Usage: build/bench/bench-exclude [RUNS]
 */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "exclude.h"

enum { PACKAGES = 200, DIRS = 10, FILES = 10, MAX_RUNS = 99 };

static const char *const extensions[] = {".c", ".h", ".py", ".log", ".o", ".txt", ".md"};

/* 1 when the walk leaves `rel` out. */
typedef int (*decide_fn)(void *ctx, const char *rel, int is_dir);

static size_t n_paths;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
        (void)sb;
        (void)flag;
        (void)ftw;
        return remove(path);
}

static void write_text(const char *path, const char *text)
{
        FILE *f = fopen(path, "w");

        if (!f) {
                perror(path);
                exit(1);
        }
        fputs(text, f);
        fclose(f);
}

static void make_tree(const char *root)
{
        char path[4096];
        git_repository *repo;

        write_text(strcat(strcpy(path, root), "/.gitignore"),
                   "*.log\nbuild/\nnode_modules/\n__pycache__/\n*.pyc\n.env\n");
        for (int p = 0; p < PACKAGES; p++) {
                snprintf(path, sizeof(path), "%s/pkg%d", root, p);
                mkdir(path, 0755);
                snprintf(path, sizeof(path), "%s/pkg%d/.gitignore", root, p);
                write_text(path, "*.o\n/dir3/\n!keep*.o\n");
                for (int d = 0; d < DIRS; d++) {
                        snprintf(path, sizeof(path), "%s/pkg%d/dir%d", root, p, d);
                        mkdir(path, 0755);
                        for (int f = 0; f < FILES; f++) {
                                snprintf(path, sizeof(path), "%s/pkg%d/dir%d/file%d%s", root, p, d,
                                         f, extensions[(p + d + f) % 7]);
                                write_text(path, "");
                        }
                }
        }
        if (git_repository_init(&repo, root, 0) < 0) {
                fprintf(stderr, "bench: git init failed\n");
                exit(1);
        }
        git_repository_free(repo);
}

/* readdir + lstat of the tree below `dirfd`, asking `decide` about every entry. */
static void walk(int dirfd, char *rel, size_t len, decide_fn decide, void *ctx)
{
        DIR *d = fdopendir(dirfd);
        struct dirent *de;

        while ((de = readdir(d))) {
                struct stat st;
                size_t n = strlen(de->d_name);

                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
                    !strcmp(de->d_name, ".git"))
                        continue;
                if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                memcpy(rel + len, de->d_name, n + 1);
                n_paths++;
                if (decide(ctx, rel, S_ISDIR(st.st_mode)) == 1)
                        continue;
                if (S_ISDIR(st.st_mode)) {
                        int fd = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

                        rel[len + n] = '/';
                        rel[len + n + 1] = '\0';
                        if (fd >= 0)
                                walk(fd, rel, len + n + 1, decide, ctx);
                }
        }
        closedir(d);
}

/* The baseline knows the answer for directories: the packages' "/dir3/". */
static int decide_known(void *ctx, const char *rel, int is_dir)
{
        const char *slash = strrchr(rel, '/');

        (void)ctx;
        return is_dir && slash && strcmp(slash, "/dir3") == 0;
}

static int decide_nono(void *ctx, const char *rel, int is_dir)
{
        return exclude_match(ctx, rel, is_dir);
}

static int decide_libgit2(void *ctx, const char *rel, int is_dir)
{
        char path[4096];
        int ignored = 0;

        snprintf(path, sizeof(path), "%s%s", rel, is_dir ? "/" : "");
        git_ignore_path_is_ignored(&ignored, ctx, path);
        return ignored;
}

static double now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void walk_root(const char *root, decide_fn decide, void *ctx)
{
        char rel[4096] = "";
        int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                exit(1);
        n_paths = 0;
        walk(fd, rel, 0, decide, ctx);
}

enum mode { WALK, NONO, WARM, LIBGIT2, N_MODES };

/* Seconds for one walk of `root` in `mode`; *paths: how many it met. */
static double run(const char *root, enum mode mode, size_t *paths)
{
        static const char *const none[] = {NULL};
        struct exclude_options opt = {1, none, 0};
        struct exclude_rules *rules = NULL;
        git_repository *repo = NULL;
        double t0 = now(), elapsed;

        if (mode == WARM) {
                if (exclude_open(root, &opt, &rules) < 0)
                        exit(1);
                walk_root(root, decide_nono, rules);
                t0 = now();
        }
        if (mode == NONO && exclude_open(root, &opt, &rules) < 0)
                exit(1);
        if (mode == LIBGIT2 && git_repository_open(&repo, root) < 0)
                exit(1);
        walk_root(root,
                  mode == WALK      ? decide_known
                  : mode == LIBGIT2 ? decide_libgit2
                                    : decide_nono,
                  mode == LIBGIT2 ? (void *)repo : (void *)rules);
        /* Freeing is part of a snapshot's cost, not of matching alone. */
        if (mode == NONO) {
                exclude_free(rules);
                rules = NULL;
        }
        git_repository_free(repo);
        elapsed = now() - t0;
        exclude_free(rules);
        *paths = n_paths;
        return elapsed;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
        static const char *const names[] = {"walk", "nono", "warm", "libgit2"};
        char root[] = "/var/tmp/nono-bench-exclude-XXXXXX";
        int runs = argc > 1 ? atoi(argv[1]) : 9;
        double times[N_MODES][MAX_RUNS];
        size_t paths[N_MODES] = {0};

        if (runs < 1 || runs > MAX_RUNS || !mkdtemp(root)) {
                fprintf(stderr, "usage: %s [RUNS <= %d]\n", argv[0], MAX_RUNS);
                return 1;
        }
        git_libgit2_init();
        make_tree(root);
        for (int i = 0; i < runs; i++)
                for (int mode = 0; mode < N_MODES; mode++)
                        times[mode][i] = run(root, (enum mode)mode, &paths[mode]);
        for (int mode = 0; mode < N_MODES; mode++)
                qsort(times[mode], (size_t)runs, sizeof(double), cmp_double);
        printf("%d files, median of %d interleaved runs\n", PACKAGES * DIRS * FILES, runs);
        for (int mode = 0; mode < N_MODES; mode++) {
                double median = times[mode][runs / 2];

                printf("  %-8s %8.2f ms  %6zu paths  %6.2f us/path  %5.2fx walk\n", names[mode],
                       median * 1e3, paths[mode], median * 1e6 / (double)paths[mode],
                       median / times[0][runs / 2]);
        }
        nftw(root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        git_libgit2_shutdown();
        return 0;
}
