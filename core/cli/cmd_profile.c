/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nono profile list | show NAME [--json] | validate FILE | groups [NAME]
 * nono profiles export NAME
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "error.h"
#include "groups.h"
#include "layout.h"
#include "profile.h"
#include "run.h"
#include "vars.h"

static const char profile_usage[] =
    "usage: nono profile list\n"
    "       nono profile show NAME [--json]   the resolved plan of a profile\n"
    "       nono profile validate FILE        check a profile and everything it uses\n"
    "       nono profile groups [NAME]        list security groups, or the paths of one\n";

static const char profiles_usage[] = "usage: nono profiles export NAME";

/* Bad input gets one line on stderr; --help prints the whole usage on stdout. */
static int usage_error(const char *usage)
{
        fprintf(stderr, "nono: %s\n", usage);
        return 1;
}

static int is_help(const char *arg)
{
        return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

/* The user's profile directory, $XDG_CONFIG_HOME/nono/profiles. */
static int user_profile_dir(char **ret)
{
        struct vars v;
        int r = vars_init(&v, NULL);

        if (r < 0)
                return r;
        *ret = nono_path_join(v.xdg_config_home, "nono/profiles");
        vars_free(&v);
        return *ret ? 0 : -ENOMEM;
}

static int path_in_dir(const char *path, const char *dir)
{
        size_t len = strlen(dir);

        return strncmp(path, dir, len) == 0 && path[len] == '/';
}

static void print_profile_line(const char *name, const char *builtin, const char *user)
{
        struct profile p;
        char *path = NULL;
        const char *source = "built-in";

        if (profile_find(name, builtin, user, &path) < 0) {
                printf("%-20s %-9s (%s)\n", name, "", nono_errmsg());
                return;
        }
        if (path_in_dir(path, user))
                source = "user";
        if (profile_parse_file(path, &p) < 0) {
                printf("%-20s %-9s (invalid: %s)\n", name, source, nono_errmsg());
        } else {
                printf("%-20s %-9s %s\n", name, source, p.description ? p.description : "");
                profile_free(&p);
        }
        free(path);
}

static int profile_list_cmd(void)
{
        const char *builtin = layout_get()->profile_dir;
        struct strv names = STRV_INIT;
        char *user = NULL;
        int r = user_profile_dir(&user);

        if (r == 0)
                r = profile_list(builtin, user, &names);
        if (r < 0) {
                free(user);
                return cli_fail();
        }
        printf("%-20s %-9s %s\n", "NAME", "SOURCE", "DESCRIPTION");
        for (size_t i = 0; i < names.n; i++)
                print_profile_line(names.items[i], builtin, user);
        strv_free(&names);
        free(user);
        return 0;
}

static int print_plan(const struct plan *plan, int json)
{
        char *text;

        if (!json) {
                plan_print(plan, stdout);
                return 0;
        }
        text = plan_to_json(plan);
        if (!text) {
                nono_error(-ENOMEM, "out of memory");
                return cli_fail();
        }
        puts(text);
        free(text);
        return 0;
}

/* The plan `nono run -p NAME` would start from; NULL `plan` only checks. */
static int build_plan(const char *name, struct plan *plan)
{
        struct run_request req;
        struct plan scratch;
        int r;

        run_request_init(&req);
        req.profile = name;
        r = run_build_plan(&req, plan ? plan : &scratch, NULL);
        if (r == 0 && !plan)
                plan_free(&scratch);
        run_request_free(&req);
        return r;
}

static int profile_show_cmd(int argc, char **argv)
{
        struct plan plan;
        int json = 0;
        const char *name = NULL;
        int ret;

        for (int i = 2; i < argc; i++) {
                if (strcmp(argv[i], "--json") == 0)
                        json = 1;
                else if (!name && argv[i][0] != '-')
                        name = argv[i];
                else
                        return usage_error("usage: nono profile show NAME [--json]");
        }
        if (!name)
                return usage_error("usage: nono profile show NAME [--json]");
        if (build_plan(name, &plan) < 0)
                return cli_fail();
        ret = print_plan(&plan, json);
        plan_free(&plan);
        return ret;
}

/* Valid means usable: it loads, its groups exist, and the plan passes every check. */
static int profile_validate_cmd(int argc, char **argv)
{
        if (argc != 3)
                return usage_error("usage: nono profile validate FILE");
        if (build_plan(argv[2], NULL) < 0)
                return cli_fail();
        printf("nono: profile %s is valid\n", argv[2]);
        return 0;
}

static void print_group_summary(const struct group *g)
{
        printf("%-26s %s", g->name, g->description);
        if (g->required)
                printf(" [required]");
        if (!group_applies(g))
                printf(" [%s only]", g->platform);
        putchar('\n');
}

static void print_group_paths(const char *label, const struct strv *paths, const struct vars *v)
{
        for (size_t i = 0; i < paths->n; i++) {
                char *expanded = NULL;

                if (v && vars_expand(v, paths->items[i], &expanded) == 0 &&
                    strcmp(expanded, paths->items[i]) != 0)
                        printf("  %-10s %s  (%s)\n", label, paths->items[i], expanded);
                else
                        printf("  %-10s %s\n", label, paths->items[i]);
                free(expanded);
        }
}

static void print_group_detail(const struct group *g)
{
        struct vars v;
        int have_vars = vars_init(&v, NULL) == 0;
        const struct vars *vp = have_vars ? &v : NULL;

        print_group_summary(g);
        print_group_paths("read", &g->read, vp);
        print_group_paths("write", &g->write, vp);
        print_group_paths("readwrite", &g->readwrite, vp);
        print_group_paths("deny", &g->deny, vp);
        if (have_vars)
                vars_free(&v);
}

static int profile_groups_cmd(int argc, char **argv)
{
        struct groups groups;
        const struct group *g;

        if (argc > 3)
                return usage_error("usage: nono profile groups [NAME]");
        if (groups_load_builtin(&groups) < 0)
                return cli_fail();
        if (argc == 2) {
                for (size_t i = 0; i < groups.n; i++)
                        print_group_summary(&groups.items[i]);
        } else if ((g = groups_find(&groups, argv[2]))) {
                print_group_detail(g);
        } else {
                nono_error(-ENOENT, "unknown group \"%s\" (see nono profile groups)", argv[2]);
                groups_free(&groups);
                return cli_fail();
        }
        groups_free(&groups);
        return 0;
}

int cmd_profile(int argc, char **argv)
{
        const char *sub = argc > 1 ? argv[1] : NULL;

        if (!sub)
                return usage_error("usage: nono profile list|show|validate|groups "
                                   "(see nono profile --help)");
        if (is_help(sub)) {
                fputs(profile_usage, stdout);
                return 0;
        }
        if (strcmp(sub, "list") == 0 && argc == 2)
                return profile_list_cmd();
        if (strcmp(sub, "show") == 0)
                return profile_show_cmd(argc, argv);
        if (strcmp(sub, "validate") == 0)
                return profile_validate_cmd(argc, argv);
        if (strcmp(sub, "groups") == 0)
                return profile_groups_cmd(argc, argv);
        if (strcmp(sub, "list") == 0)
                return usage_error("usage: nono profile list");
        fprintf(stderr, "nono: unknown profile command \"%s\" (see nono profile --help)\n", sub);
        return 1;
}

/* The profile with everything it extends merged, as the JSON a user could save. */
static int profiles_export_cmd(const char *name)
{
        struct profile p;
        char *user = NULL;
        int r = user_profile_dir(&user);

        if (r == 0)
                r = profile_load(name, layout_get()->profile_dir, user, &p);
        free(user);
        if (r < 0)
                return cli_fail();
        r = profile_write_json(&p, stdout);
        profile_free(&p);
        return r < 0 ? cli_fail() : 0;
}

int cmd_profiles(int argc, char **argv)
{
        if (argc > 1 && is_help(argv[1])) {
                puts(profiles_usage);
                return 0;
        }
        if (argc != 3 || strcmp(argv[1], "export") != 0)
                return usage_error(profiles_usage);
        return profiles_export_cmd(argv[2]);
}
