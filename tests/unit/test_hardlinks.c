/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cunit-main.h"
#include "hardlinks.h"

static char root[64];

static void make_file(const char *rel)
{
        char path[PATH_MAX];
        int fd;

        snprintf(path, sizeof(path), "%s/%s", root, rel);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
        CU_ASSERT_TRUE_FATAL(fd >= 0);
        close(fd);
}

static void make_dir(const char *rel)
{
        char path[PATH_MAX];

        snprintf(path, sizeof(path), "%s/%s", root, rel);
        CU_ASSERT_EQUAL_FATAL(mkdir(path, 0755), 0);
}

static void make_link(const char *from, const char *to)
{
        char a[PATH_MAX], b[PATH_MAX];

        snprintf(a, sizeof(a), "%s/%s", root, from);
        snprintf(b, sizeof(b), "%s/%s", root, to);
        CU_ASSERT_EQUAL_FATAL(link(a, b), 0);
}

static void test_finds_links_and_skips_expected_ones(void)
{
        struct hardlinks_report rep;
        char ws[PATH_MAX];

        snprintf(root, sizeof(root), "/var/tmp/nono-hardlinks-XXXXXX");
        CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(root));
        make_dir("ws");
        make_dir("ws/b");
        make_dir("ws/.git");
        make_dir("ws/.git/objects");
        make_dir("ws/node_modules");
        make_file("outside");
        make_file("ws/plain");
        make_link("outside", "ws/a.txt");
        make_link("outside", "ws/b/c");
        make_link("outside", "ws/.git/objects/o");
        make_link("outside", "ws/node_modules/m");
        CU_ASSERT_EQUAL(symlink("../outside", strcat(strcpy(ws, root), "/ws/sym")), 0);

        memset(&rep, 0, sizeof(rep));
        snprintf(ws, sizeof(ws), "%s/ws", root);
        CU_ASSERT_EQUAL(hardlinks_scan(ws, &rep), 0);
        CU_ASSERT_EQUAL(rep.found, 2);
        CU_ASSERT_FALSE(rep.truncated);
        CU_ASSERT_TRUE((strcmp(rep.named[0], "a.txt") == 0 && strcmp(rep.named[1], "b/c") == 0) ||
                       (strcmp(rep.named[0], "b/c") == 0 && strcmp(rep.named[1], "a.txt") == 0));
        CU_ASSERT_EQUAL(hardlinks_scan("/nonexistent-nono", &rep), -ENOENT);
        CU_ASSERT_EQUAL(system(strcat(strcpy(ws, "rm -rf "), root)), 0);
}

int main(void)
{
        static const struct test_case cases[] = {
            {"finds hard links, skips .git/objects and node_modules",
             test_finds_links_and_skips_expected_ones},
        };

        return RUN_CUNIT("hardlinks", NULL, NULL, cases);
}
