/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cunit-main.h"
#include "error.h"
#include "groups.h"
#include "nono-build-config.h"
#include "paths.h"

#define BUILTIN_GROUPS NONO_SOURCE_PROFILEDIR "/groups.json"

/* A scratch directory outside /tmp (which system_write_linux grants), used as HOME. */
static char home[64];

static void make_home(void)
{
        snprintf(home, sizeof(home), "/var/tmp/nono-groups-XXXXXX");
        CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(home));
        setenv("HOME", home, 1);
        unsetenv("XDG_CONFIG_HOME");
        unsetenv("XDG_CACHE_HOME");
        unsetenv("XDG_DATA_HOME");
        unsetenv("XDG_STATE_HOME");
}

static void remove_home(void)
{
        char cmd[sizeof(home) + 16];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", home);
        CU_ASSERT_EQUAL(system(cmd), 0);
}

/* Writes `text` to HOME/groups.json and loads it. */
static int load_text(const char *text, struct groups *g, char *path, size_t size)
{
        FILE *f;

        snprintf(path, size, "%s/groups.json", home);
        f = fopen(path, "w");
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        fputs(text, f);
        fclose(f);
        return groups_load(path, g);
}

static void test_builtin_groups_load(void)
{
        static const char *const required[] = {
            "deny_credentials",   "deny_keychains_linux", "deny_browser_data_linux",
            "deny_shell_history", "deny_shell_configs",
        };
        static const char *const optional[] = {
            "system_read_linux_core", "system_write_linux", "python_runtime", "node_runtime",
            "rust_runtime",           "go_runtime",         "java_runtime",   "git_config",
            "user_caches_linux",      "user_tools",
        };
        struct groups g;

        CU_ASSERT_EQUAL_FATAL(groups_load(BUILTIN_GROUPS, &g), 0);
        for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
                const struct group *grp = groups_find(&g, required[i]);

                CU_ASSERT_PTR_NOT_NULL_FATAL(grp);
                CU_ASSERT_TRUE(grp->required);
                CU_ASSERT_TRUE(grp->deny.n > 0);
        }
        for (size_t i = 0; i < sizeof(optional) / sizeof(optional[0]); i++) {
                const struct group *grp = groups_find(&g, optional[i]);

                CU_ASSERT_PTR_NOT_NULL_FATAL(grp);
                CU_ASSERT_FALSE(grp->required);
                CU_ASSERT_TRUE(grp->read.n + grp->write.n + grp->readwrite.n > 0);
        }
        CU_ASSERT_PTR_NULL(groups_find(&g, "nope"));
        CU_ASSERT_STRING_EQUAL(groups_find(&g, "system_read_linux_core")->platform, "linux");
        groups_free(&g);
}

static int expand(const struct vars *v, const char *raw, char *out, size_t size)
{
        char *s = NULL;
        int r = vars_expand(v, raw, &s);

        if (r == 0)
                snprintf(out, size, "%s", s);
        free(s);
        return r;
}

/* Checks one allow path against every protected path of every group and nono's
 * own state: Landlock cannot carve a deny out of a grant, so none may overlap. */
static void check_no_overlap(const struct groups *g, const struct vars *v, const char *raw)
{
        static const char *const own_state[] = {"$XDG_CONFIG_HOME/nono", "$XDG_STATE_HOME/nono"};
        char allow[PATH_MAX], deny[PATH_MAX];

        CU_ASSERT_EQUAL_FATAL(expand(v, raw, allow, sizeof(allow)), 0);
        for (size_t i = 0; i < g->n; i++) {
                for (size_t k = 0; k < g->items[i].deny.n; k++) {
                        CU_ASSERT_EQUAL_FATAL(
                            expand(v, g->items[i].deny.items[k], deny, sizeof(deny)), 0);
                        if (path_is_within(allow, deny) || path_is_within(deny, allow))
                                fprintf(stderr, "\n  %s overlaps %s\n", allow, deny);
                        CU_ASSERT_FALSE(path_is_within(allow, deny) || path_is_within(deny, allow));
                }
        }
        for (size_t k = 0; k < 2; k++) {
                CU_ASSERT_EQUAL_FATAL(expand(v, own_state[k], deny, sizeof(deny)), 0);
                CU_ASSERT_FALSE(path_is_within(allow, deny) || path_is_within(deny, allow));
        }
}

static void test_builtin_allows_avoid_protected_paths(void)
{
        struct groups g;
        struct vars v;

        make_home();
        CU_ASSERT_EQUAL_FATAL(groups_load(BUILTIN_GROUPS, &g), 0);
        CU_ASSERT_EQUAL_FATAL(vars_init(&v, home), 0);
        for (size_t i = 0; i < g.n; i++) {
                const struct strv *lists[] = {&g.items[i].read, &g.items[i].write,
                                              &g.items[i].readwrite};

                for (size_t l = 0; l < 3; l++)
                        for (size_t k = 0; k < lists[l]->n; k++)
                                check_no_overlap(&g, &v, lists[l]->items[k]);
        }
        vars_free(&v);
        groups_free(&g);
        remove_home();
}

static void check_load_error(const char *text, const char *want_suffix)
{
        char path[PATH_MAX], want[PATH_MAX + 256];
        struct groups g;

        CU_ASSERT_EQUAL(load_text(text, &g, path, sizeof(path)), -EINVAL);
        snprintf(want, sizeof(want), "cannot read groups file %s: %s", path, want_suffix);
        CU_ASSERT_STRING_EQUAL(nono_errmsg(), want);
        CU_ASSERT_EQUAL(g.n, 0);
}

static void test_load_errors(void)
{
        make_home();
        check_load_error("{\"groups\": {\n \"a\": {\"description\": \"x\",\n  \"alow\": {}}}}",
                         "line 3: unknown key \"groups.a.alow\"");
        check_load_error("{\"groups\": {\"a\": {\"description\": \"x\",\n \"platform\": \"win\"}}}",
                         "line 2: \"groups.a.platform\" must be \"linux\" or \"macos\"");
        check_load_error("{\"groups\": {\n\"a\": {\"allow\": {\"read\": [\"/x\"]}}}}",
                         "line 2: \"groups.a\" needs a description");
        check_load_error("{\"groups\": {\"a\": {\"description\": \"x\",\n \"required\": 1}}}",
                         "line 2: \"groups.a.required\" must be true or false");
        check_load_error("{\"groups\": {\"a\": {\"description\": \"x\",\n"
                         " \"allow\": {\"read\": [\"rel/path\"]}}}}",
                         "line 2: \"groups.a.allow.read\": path \"rel/path\" must be absolute "
                         "or start with ~ or a variable");
        check_load_error("{\"groups\": {\"Bad-Name\": {\"description\": \"x\"}}}",
                         "line 1: bad group name \"Bad-Name\": use a-z, 0-9 and _");
        check_load_error("{\"grups\": {}}", "line 1: unknown key \"grups\"");
        remove_home();
}

static void test_applies(void)
{
        char linux_platform[] = "linux", macos_platform[] = "macos";
        struct group g = {0};

        CU_ASSERT_TRUE(group_applies(&g));
        g.platform = linux_platform;
        CU_ASSERT_TRUE(group_applies(&g));
        g.platform = macos_platform;
        CU_ASSERT_FALSE(group_applies(&g));
}

static void test_apply_into_plan(void)
{
        const char *text =
            "// comments are fine here too\n"
            "{\"groups\": {\"t\": {\"description\": \"test\",\n"
            "  \"allow\": {\"read\": [\"~/r\", \"~/missing\"], \"write\": [\"~/w\"],\n"
            "            \"readwrite\": [\"$HOME/rw\"]},\n"
            "  \"deny\": [\"~/secret\"]}}}\n";
        char path[PATH_MAX], sub[PATH_MAX + 16];
        const char *dirs[] = {"r", "w", "rw"};
        struct groups g;
        struct plan p;
        struct vars v;

        make_home();
        for (size_t i = 0; i < 3; i++) {
                snprintf(sub, sizeof(sub), "%s/%s", home, dirs[i]);
                CU_ASSERT_EQUAL(mkdir(sub, 0755), 0);
        }
        CU_ASSERT_EQUAL_FATAL(load_text(text, &g, path, sizeof(path)), 0);
        CU_ASSERT_EQUAL_FATAL(vars_init(&v, home), 0);
        paths_forget(); /* as the run code does for every plan */
        plan_init(&p);
        CU_ASSERT_EQUAL(group_apply(groups_find(&g, "t"), &v, &p), 0);
        /* ~/missing is skipped: group paths are optional. */
        CU_ASSERT_EQUAL_FATAL(p.n_grants, 3);
        CU_ASSERT_EQUAL(p.grants[0]->access, NONO_ACCESS_READ);
        CU_ASSERT_EQUAL(p.grants[1]->access, NONO_ACCESS_WRITE);
        CU_ASSERT_EQUAL(p.grants[2]->access, NONO_ACCESS_READWRITE);
        CU_ASSERT_STRING_EQUAL(p.grants[0]->origin, "group t");
        CU_ASSERT_EQUAL_FATAL(p.n_denies, 1);
        snprintf(sub, sizeof(sub), "%s/secret", home);
        CU_ASSERT_STRING_EQUAL(p.denies[0]->path, sub);
        CU_ASSERT_STRING_EQUAL(p.denies[0]->origin, "group t");
        plan_free(&p);
        vars_free(&v);
        groups_free(&g);
        remove_home();
}

int main(void)
{
        static const struct test_case cases[] = {
            {"built-in groups load", test_builtin_groups_load},
            {"built-in allows avoid protected paths", test_builtin_allows_avoid_protected_paths},
            {"load errors", test_load_errors},
            {"platform applies", test_applies},
            {"apply into a plan", test_apply_into_plan},
        };

        return RUN_CUNIT("groups", NULL, NULL, cases);
}
