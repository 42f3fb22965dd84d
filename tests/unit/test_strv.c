/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include "cunit-main.h"
#include "strv.h"

static void test_push_keeps_null_terminated(void)
{
        struct strv v = STRV_INIT;

        for (int i = 0; i < 100; i++)
                CU_ASSERT_EQUAL(strv_push(&v, "x"), 0);
        CU_ASSERT_EQUAL(v.n, 100);
        CU_ASSERT_PTR_NULL(v.items[100]);
        CU_ASSERT_TRUE(strv_contains(&v, "x"));
        CU_ASSERT_FALSE(strv_contains(&v, "y"));
        strv_free(&v);
        CU_ASSERT_EQUAL(v.n, 0);
}

static void test_extend_copies(void)
{
        struct strv a = STRV_INIT, b = STRV_INIT;

        strv_push(&a, "one");
        strv_push(&b, "two");
        CU_ASSERT_EQUAL(strv_extend(&a, &b), 0);
        strv_free(&b);
        CU_ASSERT_STRING_EQUAL(a.items[1], "two");
        strv_free(&a);
}

static void test_path_join(void)
{
        char *p;

        p = nono_path_join("/", "etc");
        CU_ASSERT_STRING_EQUAL(p, "/etc");
        free(p);
        p = nono_path_join("/home/u/", "/.ssh");
        CU_ASSERT_STRING_EQUAL(p, "/home/u/.ssh");
        free(p);
}

int main(void)
{
        static const struct test_case cases[] = {
            {"push keeps the vector NULL-terminated", test_push_keeps_null_terminated},
            {"extend copies strings", test_extend_copies},
            {"path_join uses exactly one slash", test_path_join},
        };
        return RUN_CUNIT("strv", NULL, NULL, cases);
}
