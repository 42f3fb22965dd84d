/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cunit-main.h"
#include "error.h"
#include "plan.h"

static void test_within_is_by_component(void)
{
        CU_ASSERT_TRUE(path_is_within("/home/u/.ssh", "/home/u"));
        CU_ASSERT_TRUE(path_is_within("/home/u/.ssh/id_rsa", "/home/u/.ssh"));
        CU_ASSERT_TRUE(path_is_within("/home/u", "/home/u"));
        CU_ASSERT_TRUE(path_is_within("/anything", "/"));
        CU_ASSERT_FALSE(path_is_within("/home/u/.sshfoo", "/home/u/.ssh"));
        CU_ASSERT_FALSE(path_is_within("/home/u", "/home/u/.ssh"));
        CU_ASSERT_FALSE(path_is_within("/home/uu", "/home/u"));
}

static void test_grants_merge_access(void)
{
        struct plan p;

        plan_init(&p);
        CU_ASSERT_EQUAL(plan_add_grant(&p, "/w", NONO_ACCESS_READ, 0, "a"), 0);
        CU_ASSERT_EQUAL(plan_add_grant(&p, "/w", NONO_ACCESS_WRITE, 0, "b"), 0);
        CU_ASSERT_EQUAL(p.n_grants, 1);
        CU_ASSERT_EQUAL(p.grants[0]->access, NONO_ACCESS_READWRITE);
        CU_ASSERT_STRING_EQUAL(p.grants[0]->origin, "a");
        CU_ASSERT_EQUAL(plan_add_grant(&p, "relative", NONO_ACCESS_READ, 0, "c"), -EINVAL);
        plan_free(&p);
}

static void test_protected_contained_is_refused(void)
{
        struct plan p;

        plan_init(&p);
        plan_add_grant(&p, "/home/u", NONO_ACCESS_READWRITE, 0, "--allow");
        plan_add_deny(&p, "/home/u/.ssh", "group deny_credentials");
        CU_ASSERT_EQUAL(plan_check_protected(&p, 0), -EPERM);
        CU_ASSERT_PTR_NOT_NULL(strstr(nono_errmsg(), "/home/u/.ssh"));
        CU_ASSERT_PTR_NOT_NULL(strstr(nono_errmsg(), "--allow"));
        /* An enforcer that masks protected paths makes this plan acceptable. */
        CU_ASSERT_EQUAL(plan_check_protected(&p, 1), 0);
        CU_ASSERT_EQUAL(plan_remove_deny(&p, "/home/u/.ssh"), 1);
        CU_ASSERT_EQUAL(plan_check_protected(&p, 0), 0);
        plan_free(&p);
}

static void test_grant_inside_protected_is_refused(void)
{
        struct plan p;

        plan_init(&p);
        plan_add_grant(&p, "/home/u/.aws/config", NONO_ACCESS_READ, NONO_GRANT_FILE, "x");
        plan_add_deny(&p, "/home/u/.aws", "group deny_credentials");
        CU_ASSERT_EQUAL(plan_check_protected(&p, 0), -EPERM);
        CU_ASSERT_EQUAL(plan_check_protected(&p, 1), -EPERM);
        plan_free(&p);
}

static void test_prefix_sibling_is_not_protected(void)
{
        struct plan p;

        plan_init(&p);
        plan_add_grant(&p, "/home/u/.sshfoo", NONO_ACCESS_READWRITE, 0, "--allow");
        plan_add_deny(&p, "/home/u/.ssh", "group deny_credentials");
        CU_ASSERT_EQUAL(plan_check_protected(&p, 0), 0);
        plan_free(&p);
}

static void test_view_and_ports(void)
{
        const struct nono_plan *v;
        struct plan p;

        plan_init(&p);
        plan_add_grant(&p, "/a", NONO_ACCESS_READ, 0, "x");
        plan_add_port(&p, 0, 443);
        plan_add_port(&p, 0, 443);
        plan_add_port(&p, 1, 8080);
        v = plan_view(&p);
        CU_ASSERT_EQUAL(v->size, sizeof(*v));
        CU_ASSERT_EQUAL(v->n_grants, 1);
        CU_ASSERT_STRING_EQUAL(v->grants[0]->path, "/a");
        CU_ASSERT_EQUAL(v->n_tcp_connect_ports, 1);
        CU_ASSERT_EQUAL(v->tcp_bind_ports[0], 8080);
        plan_drop_grant(&p, 0);
        CU_ASSERT_EQUAL(plan_view(&p)->n_grants, 0);
        plan_free(&p);
}

static void test_json_never_holds_env_values(void)
{
        struct plan p;
        char *json;

        plan_init(&p);
        strv_push(&p.env_set, "API_TOKEN=s3cr3t-value");
        json = plan_to_json(&p);
        CU_ASSERT_PTR_NOT_NULL_FATAL(json);
        CU_ASSERT_PTR_NOT_NULL(strstr(json, "API_TOKEN"));
        CU_ASSERT_PTR_NULL(strstr(json, "s3cr3t-value"));
        free(json);
        plan_free(&p);
}

int main(void)
{
        static const struct test_case cases[] = {
            {"path_is_within compares components", test_within_is_by_component},
            {"grants on one path merge access", test_grants_merge_access},
            {"a grant containing a protected path is refused", test_protected_contained_is_refused},
            {"a grant inside a protected path is refused", test_grant_inside_protected_is_refused},
            {"a prefix sibling is not protected", test_prefix_sibling_is_not_protected},
            {"view reflects grants and ports", test_view_and_ports},
            {"plan JSON never holds environment values", test_json_never_holds_env_values},
        };
        return RUN_CUNIT("plan", NULL, NULL, cases);
}
