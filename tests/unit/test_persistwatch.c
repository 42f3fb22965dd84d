/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cunit-main.h"
#include "persistwatch.h"
#include "strv.h"

static char root[64];

static char *at(const char *rel)
{
        static char paths[4][PATH_MAX];
        static int next;
        char *p = paths[next++ % 4];

        snprintf(p, PATH_MAX, "%s/%s", root, rel);
        return p;
}

static void make_file(const char *rel)
{
        int fd = open(at(rel), O_WRONLY | O_CREAT | O_EXCL, 0644);

        CU_ASSERT_TRUE_FATAL(fd >= 0);
        CU_ASSERT_EQUAL(write(fd, "x", 1), 1);
        close(fd);
}

static int exists(const char *rel)
{
        struct stat st;

        return lstat(at(rel), &st) == 0;
}

static void setup_tree(void)
{
        snprintf(root, sizeof(root), "/var/tmp/nono-persistwatch-XXXXXX");
        CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(root));
        CU_ASSERT_EQUAL_FATAL(mkdir(at("ws"), 0755), 0);
        CU_ASSERT_EQUAL_FATAL(mkdir(at("ws/.git"), 0755), 0);
}

static void remove_tree(void)
{
        char cmd[PATH_MAX];

        snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
        CU_ASSERT_EQUAL(system(cmd), 0);
}

/* Watches ws/.envrc, ws/.git/hooks and ws/.claude/settings.json (tag "t"). */
static struct persist_watch *start_watch(void)
{
        struct strv paths = STRV_INIT, roots = STRV_INIT;
        struct persist_watch *w = NULL;

        CU_ASSERT_EQUAL(strv_push(&paths, at("ws/.envrc")), 0);
        CU_ASSERT_EQUAL(strv_push(&paths, at("ws/.git/hooks")), 0);
        CU_ASSERT_EQUAL(strv_push(&paths, at("ws/.claude/settings.json")), 0);
        CU_ASSERT_EQUAL(strv_push(&roots, at("ws")), 0);
        CU_ASSERT_EQUAL(persist_watch_start(&w, &paths, &roots, "t"), 0);
        strv_free(&paths);
        strv_free(&roots);
        CU_ASSERT_PTR_NOT_NULL_FATAL(w);
        return w;
}

/* What the supervision loop does: wait for the descriptor, then handle it. */
static void deliver_events(struct persist_watch *w)
{
        struct pollfd p = {persist_watch_fd(w), POLLIN, 0};

        CU_ASSERT_TRUE_FATAL(p.fd >= 0);
        CU_ASSERT_EQUAL(poll(&p, 1, 2000), 1);
        persist_watch_handle(w);
}

static void test_moves_aside_live_paths_at_once(void)
{
        struct persist_watch *w;

        setup_tree();
        w = start_watch();
        make_file("ws/.envrc");
        deliver_events(w);
        CU_ASSERT_FALSE(exists("ws/.envrc"));
        CU_ASSERT_TRUE(exists("ws/.envrc.nono-blocked-t"));
        CU_ASSERT_EQUAL(persist_watch_n_blocked(w), 1);
        CU_ASSERT_STRING_EQUAL(persist_watch_blocked(w, 0)->path, at("ws/.envrc"));
        CU_ASSERT_STRING_EQUAL(persist_watch_blocked(w, 0)->moved_to,
                               at("ws/.envrc.nono-blocked-t"));
        /* Again: the next free name, nothing replaced. */
        make_file("ws/.envrc");
        deliver_events(w);
        CU_ASSERT_TRUE(exists("ws/.envrc.nono-blocked-t-1"));
        CU_ASSERT_EQUAL(persist_watch_n_blocked(w), 2);
        /* Ordinary files are not touched. */
        make_file("ws/notes.txt");
        persist_watch_finish(w);
        CU_ASSERT_TRUE(exists("ws/notes.txt"));
        CU_ASSERT_EQUAL(persist_watch_n_blocked(w), 2);
        persist_watch_free(w);
        remove_tree();
}

static void test_new_directories_wait_for_the_end(void)
{
        struct persist_watch *w;

        setup_tree();
        w = start_watch();
        /* Inside a directory the command made: left until it ends (git init). */
        CU_ASSERT_EQUAL(mkdir(at("ws/.claude"), 0755), 0);
        make_file("ws/.claude/settings.json");
        persist_watch_handle(w);
        CU_ASSERT_TRUE(exists("ws/.claude/settings.json"));
        persist_watch_finish(w);
        CU_ASSERT_FALSE(exists("ws/.claude/settings.json"));
        CU_ASSERT_TRUE(exists("ws/.claude/settings.json.nono-blocked-t"));
        persist_watch_free(w);
        remove_tree();
}

static void test_symlinked_directory_on_the_way_is_moved(void)
{
        struct persist_watch *w;

        setup_tree();
        CU_ASSERT_EQUAL(mkdir(at("elsewhere"), 0755), 0);
        CU_ASSERT_EQUAL(mkdir(at("elsewhere/hooks"), 0755), 0);
        w = start_watch();
        /* .claude -> a directory outside the root: moved aside, and nothing outside
         * the root is renamed although the path through it exists. */
        CU_ASSERT_EQUAL(symlink(at("elsewhere"), at("ws/.claude")), 0);
        make_file("elsewhere/settings.json");
        persist_watch_finish(w);
        CU_ASSERT_FALSE(exists("ws/.claude"));
        CU_ASSERT_TRUE(exists("ws/.claude.nono-blocked-t"));
        CU_ASSERT_TRUE(exists("elsewhere/settings.json"));
        persist_watch_free(w);
        remove_tree();
}

static void test_what_was_there_before_is_the_users(void)
{
        struct persist_watch *w;

        setup_tree();
        /* A worktree: .git is a file; and .envrc appeared after the plan was made. */
        CU_ASSERT_EQUAL(rmdir(at("ws/.git")), 0);
        make_file("ws/.git");
        make_file("ws/.envrc");
        w = start_watch();
        persist_watch_finish(w);
        CU_ASSERT_TRUE(exists("ws/.git"));
        CU_ASSERT_TRUE(exists("ws/.envrc"));
        CU_ASSERT_EQUAL(persist_watch_n_blocked(w), 0);
        persist_watch_free(w);
        remove_tree();
}

int main(void)
{
        static const struct test_case cases[] = {
            {"moves aside a path created in a watched directory at once",
             test_moves_aside_live_paths_at_once},
            {"paths inside directories the command made wait for the end",
             test_new_directories_wait_for_the_end},
            {"a symlink on the way is moved, nothing outside is touched",
             test_symlinked_directory_on_the_way_is_moved},
            {"what was there before the start is left alone",
             test_what_was_there_before_is_the_users},
        };

        return RUN_CUNIT("persistwatch", NULL, NULL, cases);
}
