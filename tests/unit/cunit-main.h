/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A main() for CUnit test programs: each program defines `suite_name` and
 * `test_cases` (NULL-terminated), includes this header once, and gets a runner that
 * exits non-zero when a test fails.
 */
#ifndef NONO_TEST_CUNIT_MAIN_H
#define NONO_TEST_CUNIT_MAIN_H

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>

struct test_case {
        const char *name;
        void (*fn)(void);
};

static int run_cunit(const char *suite_name, const struct test_case *cases)
{
        CU_pSuite suite;
        unsigned failed;

        if (CU_initialize_registry() != CUE_SUCCESS)
                return 2;
        suite = CU_add_suite(suite_name, NULL, NULL);
        for (const struct test_case *c = cases; suite && c->name; c++)
                CU_add_test(suite, c->name, c->fn);
        CU_basic_set_mode(CU_BRM_VERBOSE);
        CU_basic_run_tests();
        failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
        CU_cleanup_registry();
        return failed ? 1 : 0;
}

#endif
