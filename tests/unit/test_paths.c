/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cunit-main.h"
#include "error.h"
#include "paths.h"

static char root[PATH_MAX];
static struct vars vars;

static void make_tree(void)
{
        char path[PATH_MAX + 32];

        snprintf(root, sizeof(root), "/tmp/nono-paths-XXXXXX");
        CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(root));
        snprintf(path, sizeof(path), "%s/dir", root);
        mkdir(path, 0755);
        snprintf(path, sizeof(path), "%s/dir/file", root);
        fclose(fopen(path, "w"));
        snprintf(path, sizeof(path), "%s/escape", root);
        CU_ASSERT_EQUAL(symlink("/", path), 0);
        snprintf(path, sizeof(path), "%s/inside", root);
        CU_ASSERT_EQUAL(symlink("dir", path), 0);
        setenv("HOME", root, 1);
        unsetenv("XDG_CONFIG_HOME");
        unsetenv("XDG_STATE_HOME");
        CU_ASSERT_EQUAL(vars_init(&vars, root), 0);
}

static void remove_tree(void)
{
        char cmd[PATH_MAX + 16];

        vars_free(&vars);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        CU_ASSERT_EQUAL(system(cmd), 0);
}

static void test_grant_dir_and_file(void)
{
        struct plan p;

        make_tree();
        plan_init(&p);
        CU_ASSERT_EQUAL(paths_grant(&p, &vars, "~/dir", NONO_ACCESS_READ, 0, "t"), 0);
        CU_ASSERT_EQUAL(paths_grant(&p, &vars, "$HOME/dir/file", NONO_ACCESS_WRITE, 1, "t"), 0);
        CU_ASSERT_EQUAL_FATAL(p.n_grants, 2);
        CU_ASSERT_EQUAL(p.grants[0]->flags, 0);
        CU_ASSERT_EQUAL(p.grants[1]->flags, NONO_GRANT_FILE);
        /* --allow-file on a directory is an error. */
        CU_ASSERT_EQUAL(paths_grant(&p, &vars, "~/dir", NONO_ACCESS_READ, 1, "t"), -EISDIR);
        plan_free(&p);
        remove_tree();
}

static void test_missing_path_is_skipped(void)
{
        struct plan p;

        make_tree();
        plan_init(&p);
        nono_set_verbosity(NONO_VERBOSITY_SILENT);
        CU_ASSERT_EQUAL(paths_grant(&p, &vars, "~/nope", NONO_ACCESS_READ, 0, "t"), 0);
        nono_set_verbosity(NONO_VERBOSITY_NORMAL);
        CU_ASSERT_EQUAL(p.n_grants, 0);
        plan_free(&p);
        remove_tree();
}

static void test_symlink_escape_is_refused(void)
{
        struct plan p;

        make_tree();
        plan_init(&p);
        CU_ASSERT_EQUAL(paths_grant(&p, &vars, "~/escape", NONO_ACCESS_READ, 0, "--allow"), -ELOOP);
        CU_ASSERT_PTR_NOT_NULL(strstr(nono_errmsg(), "symlink"));
        /* A link that stays inside its directory is fine and resolves to the target. */
        CU_ASSERT_EQUAL(paths_grant(&p, &vars, "~/inside", NONO_ACCESS_READ, 0, "--allow"), 0);
        CU_ASSERT_EQUAL_FATAL(p.n_grants, 1);
        CU_ASSERT_PTR_NOT_NULL(strstr(p.grants[0]->path, "/dir"));
        /* Built-in group data is skipped, never an error. */
        nono_set_verbosity(NONO_VERBOSITY_SILENT);
        CU_ASSERT_EQUAL(paths_grant(&p, &vars, "~/escape", NONO_ACCESS_READ, 0, "group x"), 0);
        nono_set_verbosity(NONO_VERBOSITY_NORMAL);
        CU_ASSERT_EQUAL(p.n_grants, 1);
        plan_free(&p);
        remove_tree();
}

static void test_deny_need_not_exist_and_bypass(void)
{
        struct plan p;
        char expect[PATH_MAX + 16];

        make_tree();
        plan_init(&p);
        CU_ASSERT_EQUAL(paths_deny(&p, &vars, "~/.ssh", "group deny_credentials"), 0);
        snprintf(expect, sizeof(expect), "%s/.ssh", root);
        CU_ASSERT_EQUAL_FATAL(p.n_denies, 1);
        CU_ASSERT_STRING_EQUAL(p.denies[0]->path, expect);
        CU_ASSERT_EQUAL(paths_bypass(&p, &vars, "$HOME/.ssh"), 0);
        CU_ASSERT_EQUAL(p.n_denies, 0);
        plan_free(&p);
        remove_tree();
}

static void test_resolve_lenient(void)
{
        char *out = NULL;
        char expect[PATH_MAX + 32];
        char in[PATH_MAX + 32];

        make_tree();
        snprintf(in, sizeof(in), "%s/inside/a/b", root);
        CU_ASSERT_EQUAL(paths_resolve_lenient(in, &out), 0);
        snprintf(expect, sizeof(expect), "%s/dir/a/b", root);
        CU_ASSERT_STRING_EQUAL(out, expect);
        free(out);
        remove_tree();
}

int main(void)
{
        static const struct test_case cases[] = {
            {"grant a directory and a file", test_grant_dir_and_file},
            {"a missing grant path is skipped", test_missing_path_is_skipped},
            {"a symlink leaving its directory is refused", test_symlink_escape_is_refused},
            {"denies need not exist; bypass removes them", test_deny_need_not_exist_and_bypass},
            {"lenient resolution of a partly missing path", test_resolve_lenient},
        };
        return RUN_CUNIT("paths", NULL, NULL, cases);
}
