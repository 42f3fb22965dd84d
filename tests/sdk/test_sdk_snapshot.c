/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nono_snapshot_* through libnono.so only: a tree under /var/tmp snapshotted into a
 * store under a temporary HOME / XDG_STATE_HOME (the user's store is never touched),
 * changed, diffed and restored; exclusions; argument and state errors.
 */
#include <nono/nono.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cunit-main.h"

static char home[64], tree[64];

static void path_of(char *buf, size_t size, const char *rel)
{
        snprintf(buf, size, "%s/%s", tree, rel);
}

static void write_file(const char *rel, const char *text, mode_t mode)
{
        char p[256];
        int fd;

        path_of(p, sizeof(p), rel);
        fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
        CU_ASSERT_FATAL(fd >= 0);
        CU_ASSERT(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
        close(fd);
        CU_ASSERT(chmod(p, mode) == 0);
}

/* The file's content, "" when it does not exist. */
static const char *read_file(const char *rel)
{
        static char buf[256];
        char p[256];
        ssize_t n;
        int fd;

        path_of(p, sizeof(p), rel);
        buf[0] = '\0';
        fd = open(p, O_RDONLY);
        if (fd < 0)
                return buf;
        n = read(fd, buf, sizeof(buf) - 1);
        buf[n > 0 ? n : 0] = '\0';
        close(fd);
        return buf;
}

static int exists(const char *rel)
{
        char p[256];

        path_of(p, sizeof(p), rel);
        return access(p, F_OK) == 0;
}

static mode_t mode_of(const char *rel)
{
        struct stat st;
        char p[256];

        path_of(p, sizeof(p), rel);
        return stat(p, &st) == 0 ? st.st_mode & 07777 : 0;
}

static void assert_error(int r, int err, int kind)
{
        CU_ASSERT_EQUAL(r, -err);
        CU_ASSERT_EQUAL(nono_last_error_kind(), kind);
        CU_ASSERT(nono_last_error()[0] != '\0');
}

static int setup(void)
{
        char dir[128];

        strcpy(home, "/var/tmp/nono-sdksnap-home-XXXXXX");
        strcpy(tree, "/var/tmp/nono-sdksnap-tree-XXXXXX");
        if (!mkdtemp(home) || !mkdtemp(tree))
                return 1;
        snprintf(dir, sizeof(dir), "%s/state", home);
        /* The store and git's global excludes come from here, never the user's. */
        setenv("HOME", home, 1);
        setenv("XDG_STATE_HOME", dir, 1);
        snprintf(dir, sizeof(dir), "%s/config", home);
        setenv("XDG_CONFIG_HOME", dir, 1);
        return 0;
}

static int teardown(void)
{
        char cmd[256];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", home, tree);
        return system(cmd) == 0 ? 0 : 1;
}

/* A fresh tree: kept.txt, edit.txt (0644), gone.txt, sub/deep.txt, plus files the
 * exclusions cover: ignored.log (.gitignore) and cache/blob.tmp (a pattern). */
static void fill_tree(void)
{
        char p[256];

        teardown();
        CU_ASSERT_FATAL(mkdir(home, 0700) == 0 && mkdir(tree, 0700) == 0);
        path_of(p, sizeof(p), "sub");
        CU_ASSERT_FATAL(mkdir(p, 0755) == 0);
        path_of(p, sizeof(p), "cache");
        CU_ASSERT_FATAL(mkdir(p, 0755) == 0);
        write_file("kept.txt", "kept\n", 0644);
        write_file("edit.txt", "original\n", 0644);
        write_file("gone.txt", "gone\n", 0600);
        write_file("sub/deep.txt", "deep\n", 0644);
        write_file(".gitignore", "*.log\n", 0644);
        write_file("ignored.log", "log v1\n", 0644);
        write_file("cache/blob.tmp", "tmp v1\n", 0644);
}

static nono_snapshot_manager *new_manager(void)
{
        static const char *const patterns[] = {"/cache/", NULL};
        struct nono_exclusions ex = {.size = sizeof(ex), .use_gitignore = 1, .patterns = patterns};
        nono_snapshot_manager *m = NULL;

        CU_ASSERT_EQUAL(nono_snapshot_manager_new(tree, &ex, &m), 0);
        CU_ASSERT_PTR_NOT_NULL_FATAL(m);
        return m;
}

/* The changes an agent makes after the baseline. */
static void change_tree(void)
{
        char p[256];

        write_file("edit.txt", "changed by the agent\n", 0755);
        write_file("new.txt", "new\n", 0644);
        path_of(p, sizeof(p), "gone.txt");
        CU_ASSERT(unlink(p) == 0);
        write_file("ignored.log", "log v2\n", 0644);
        write_file("cache/blob.tmp", "tmp v2\n", 0644);
        write_file("cache/new.tmp", "tmp new\n", 0644);
}

static const struct nono_snapshot_change *find(const struct nono_snapshot_change *c, size_t n,
                                               const char *path)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(c[i].path, path) == 0)
                        return &c[i];
        return NULL;
}

static void assert_restore_changes(const struct nono_snapshot_change *c, size_t n)
{
        CU_ASSERT_EQUAL_FATAL(n, 3);
        CU_ASSERT(find(c, n, "edit.txt") &&
                  find(c, n, "edit.txt")->change_type == NONO_CHANGE_MODIFIED);
        CU_ASSERT(find(c, n, "gone.txt") &&
                  find(c, n, "gone.txt")->change_type == NONO_CHANGE_CREATED);
        CU_ASSERT(find(c, n, "new.txt") &&
                  find(c, n, "new.txt")->change_type == NONO_CHANGE_DELETED);
}

static void test_baseline_change_restore(void)
{
        struct nono_snapshot_change *c = NULL;
        nono_snapshot_manager *m;
        unsigned index = 99;
        size_t n = 0;

        fill_tree();
        m = new_manager();
        CU_ASSERT_PTR_NULL(nono_snapshot_session_id(m));
        CU_ASSERT_EQUAL(nono_snapshot_create_baseline(m, &index), 0);
        CU_ASSERT_EQUAL(index, 0);
        CU_ASSERT_PTR_NOT_NULL(nono_snapshot_session_id(m));
        change_tree();
        CU_ASSERT_EQUAL(nono_snapshot_create_incremental(m, &index), 0);
        CU_ASSERT_EQUAL(index, 1);

        CU_ASSERT_EQUAL(nono_snapshot_restore_diff(m, 0, &c, &n), 0);
        assert_restore_changes(c, n);
        nono_snapshot_changes_free(c, n);
        /* The diff touched nothing. */
        CU_ASSERT_STRING_EQUAL(read_file("edit.txt"), "changed by the agent\n");
        CU_ASSERT(exists("new.txt") && !exists("gone.txt"));

        CU_ASSERT_EQUAL(nono_snapshot_restore_to(m, 0, &c, &n), 0);
        assert_restore_changes(c, n);
        nono_snapshot_changes_free(c, n);
        CU_ASSERT_STRING_EQUAL(read_file("edit.txt"), "original\n");
        CU_ASSERT_EQUAL(mode_of("edit.txt"), 0644);
        CU_ASSERT_STRING_EQUAL(read_file("gone.txt"), "gone\n");
        CU_ASSERT_EQUAL(mode_of("gone.txt"), 0600);
        CU_ASSERT(!exists("new.txt"));
        CU_ASSERT_STRING_EQUAL(read_file("kept.txt"), "kept\n");
        CU_ASSERT_STRING_EQUAL(read_file("sub/deep.txt"), "deep\n");
        /* Excluded paths: never saved, never restored, never removed. */
        CU_ASSERT_STRING_EQUAL(read_file("ignored.log"), "log v2\n");
        CU_ASSERT_STRING_EQUAL(read_file("cache/blob.tmp"), "tmp v2\n");
        CU_ASSERT_STRING_EQUAL(read_file("cache/new.tmp"), "tmp new\n");

        /* Nothing left to restore; then forward again to snapshot 1. */
        CU_ASSERT_EQUAL(nono_snapshot_restore_diff(m, 0, &c, &n), 0);
        CU_ASSERT_EQUAL(n, 0);
        nono_snapshot_changes_free(c, n);
        CU_ASSERT_EQUAL(nono_snapshot_restore_to(m, 1, NULL, NULL), 0);
        CU_ASSERT_STRING_EQUAL(read_file("edit.txt"), "changed by the agent\n");
        CU_ASSERT(exists("new.txt") && !exists("gone.txt"));
        nono_snapshot_manager_free(m);
}

static void test_root_errors(void)
{
        static const char *const bad[] = {"ok", "two\nlines", NULL};
        static const char *const empty[] = {"", NULL};
        struct nono_exclusions ex = {.size = sizeof(ex), .patterns = bad};
        nono_snapshot_manager *m = NULL;
        char p[256];

        fill_tree();
        assert_error(nono_snapshot_manager_new("relative/dir", NULL, &m), EINVAL,
                     NONO_ERROR_INVALID);
        path_of(p, sizeof(p), "missing");
        assert_error(nono_snapshot_manager_new(p, NULL, &m), ENOENT, NONO_ERROR_INVALID);
        path_of(p, sizeof(p), "kept.txt");
        assert_error(nono_snapshot_manager_new(p, NULL, &m), ENOTDIR, NONO_ERROR_INVALID);
        assert_error(nono_snapshot_manager_new(NULL, NULL, &m), EINVAL, NONO_ERROR_INVALID);
        assert_error(nono_snapshot_manager_new(tree, NULL, NULL), EINVAL, NONO_ERROR_INVALID);
        assert_error(nono_snapshot_manager_new(tree, &ex, &m), EINVAL, NONO_ERROR_INVALID);
        ex.patterns = empty;
        assert_error(nono_snapshot_manager_new(tree, &ex, &m), EINVAL, NONO_ERROR_INVALID);
        ex.size = 0;
        ex.patterns = NULL;
        assert_error(nono_snapshot_manager_new(tree, &ex, &m), EINVAL, NONO_ERROR_INVALID);
        CU_ASSERT_PTR_NULL(m);
}

static void test_state_errors(void)
{
        struct nono_snapshot_change *c = NULL;
        nono_snapshot_manager *m;
        size_t n = 0;

        fill_tree();
        m = new_manager();
        assert_error(nono_snapshot_create_incremental(m, NULL), ENOENT, NONO_ERROR_SNAPSHOT);
        assert_error(nono_snapshot_restore_diff(m, 0, &c, &n), ENOENT, NONO_ERROR_SNAPSHOT);
        assert_error(nono_snapshot_restore_to(m, 0, NULL, NULL), ENOENT, NONO_ERROR_SNAPSHOT);
        CU_ASSERT_EQUAL(nono_snapshot_create_baseline(m, NULL), 0);
        assert_error(nono_snapshot_restore_diff(m, 1, &c, &n), ERANGE, NONO_ERROR_INVALID);
        assert_error(nono_snapshot_restore_to(m, 7, NULL, NULL), ERANGE, NONO_ERROR_INVALID);
        assert_error(nono_snapshot_restore_diff(m, 0, NULL, NULL), EINVAL, NONO_ERROR_INVALID);
        assert_error(nono_snapshot_restore_to(m, 0, &c, NULL), EINVAL, NONO_ERROR_INVALID);
        assert_error(nono_snapshot_create_baseline(NULL, NULL), EINVAL, NONO_ERROR_INVALID);
        assert_error(nono_snapshot_create_incremental(NULL, NULL), EINVAL, NONO_ERROR_INVALID);
        assert_error(nono_snapshot_restore_to(NULL, 0, NULL, NULL), EINVAL, NONO_ERROR_INVALID);
        CU_ASSERT_PTR_NULL(nono_snapshot_session_id(NULL));
        /* A failed call changed nothing: the tree still restores. */
        CU_ASSERT_EQUAL(nono_snapshot_restore_to(m, 0, NULL, NULL), 0);
        CU_ASSERT_STRING_EQUAL(nono_last_error(), "");
        nono_snapshot_changes_free(NULL, 3);
        nono_snapshot_manager_free(NULL);
        nono_snapshot_manager_free(m);
}

/* A second baseline starts a new session; the first stays restorable by its id. */
static void test_second_baseline(void)
{
        nono_snapshot_manager *m;
        char first[128];

        fill_tree();
        m = new_manager();
        CU_ASSERT_EQUAL_FATAL(nono_snapshot_create_baseline(m, NULL), 0);
        snprintf(first, sizeof(first), "%s", nono_snapshot_session_id(m));
        write_file("edit.txt", "second\n", 0644);
        CU_ASSERT_EQUAL_FATAL(nono_snapshot_create_baseline(m, NULL), 0);
        CU_ASSERT_STRING_NOT_EQUAL(nono_snapshot_session_id(m), first);
        assert_error(nono_snapshot_restore_to(m, 1, NULL, NULL), ERANGE, NONO_ERROR_INVALID);
        write_file("edit.txt", "third\n", 0644);
        CU_ASSERT_EQUAL(nono_snapshot_restore_to(m, 0, NULL, NULL), 0);
        CU_ASSERT_STRING_EQUAL(read_file("edit.txt"), "second\n");
        nono_snapshot_manager_free(m);
}

/* A store that cannot be created: the baseline fails with a message, nothing changes. */
static void test_store_error(void)
{
        nono_snapshot_manager *m;
        char state[256], blocker[128];

        fill_tree();
        m = new_manager();
        snprintf(blocker, sizeof(blocker), "%s/file", home);
        snprintf(state, sizeof(state), "%s/state", blocker);
        CU_ASSERT_FATAL(close(open(blocker, O_WRONLY | O_CREAT, 0600)) == 0);
        setenv("XDG_STATE_HOME", state, 1);
        assert_error(nono_snapshot_create_baseline(m, NULL), ENOTDIR, NONO_ERROR_SNAPSHOT);
        CU_ASSERT(strstr(nono_last_error(), blocker) != NULL);
        CU_ASSERT_PTR_NULL(nono_snapshot_session_id(m));
        snprintf(state, sizeof(state), "%s/state", home);
        setenv("XDG_STATE_HOME", state, 1);
        CU_ASSERT_EQUAL(nono_snapshot_create_baseline(m, NULL), 0);
        nono_snapshot_manager_free(m);
}

/* A symlink retargeted and a directory removed come back. */
static void test_symlink_and_directory(void)
{
        struct nono_snapshot_change *c = NULL;
        nono_snapshot_manager *m;
        char link[256], target[256], cmd[300];
        size_t n = 0;
        ssize_t len;

        fill_tree();
        path_of(link, sizeof(link), "link");
        CU_ASSERT_FATAL(symlink("kept.txt", link) == 0);
        m = new_manager();
        CU_ASSERT_EQUAL_FATAL(nono_snapshot_create_baseline(m, NULL), 0);
        CU_ASSERT(unlink(link) == 0 && symlink("/etc/passwd", link) == 0);
        snprintf(cmd, sizeof(cmd), "rm -r '%s/sub'", tree);
        CU_ASSERT_FATAL(system(cmd) == 0);
        CU_ASSERT_EQUAL(nono_snapshot_restore_diff(m, 0, &c, &n), 0);
        CU_ASSERT_EQUAL(n, 3);
        CU_ASSERT(find(c, n, "link") && find(c, n, "link")->change_type == NONO_CHANGE_MODIFIED);
        CU_ASSERT(find(c, n, "sub") && find(c, n, "sub")->change_type == NONO_CHANGE_CREATED);
        CU_ASSERT(find(c, n, "sub/deep.txt") &&
                  find(c, n, "sub/deep.txt")->change_type == NONO_CHANGE_CREATED);
        nono_snapshot_changes_free(c, n);
        CU_ASSERT_EQUAL(nono_snapshot_restore_to(m, 0, NULL, NULL), 0);
        len = readlink(link, target, sizeof(target) - 1);
        CU_ASSERT_FATAL(len > 0);
        target[len] = '\0';
        CU_ASSERT_STRING_EQUAL(target, "kept.txt");
        CU_ASSERT_STRING_EQUAL(read_file("sub/deep.txt"), "deep\n");
        nono_snapshot_manager_free(m);
}

int main(void)
{
        static const struct test_case cases[] = {
            {"baseline, change, diff, restore", test_baseline_change_restore},
            {"root and exclusion errors", test_root_errors},
            {"state and number errors", test_state_errors},
            {"second baseline", test_second_baseline},
            {"store error", test_store_error},
            {"symlink and directory", test_symlink_and_directory},
        };

        return RUN_CUNIT("sdk-snapshot", setup, teardown, cases);
}
