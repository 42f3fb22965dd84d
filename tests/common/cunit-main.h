/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The main() of every CUnit test program: one suite of named cases, verbose output,
 * non-zero exit when a case or the suite's setup fails.
 *
 *   static const struct test_case cases[] = {{"name", fn}, ...};
 *   return RUN_CUNIT("suite", NULL, NULL, cases);
 */
#ifndef NONO_TEST_CUNIT_MAIN_H
#define NONO_TEST_CUNIT_MAIN_H

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <stddef.h>

struct test_case {
        const char *name;
        void (*fn)(void);
};

static inline int run_cunit(const char *suite_name, CU_InitializeFunc init, CU_CleanupFunc cleanup,
                            const struct test_case *cases, size_t n)
{
        CU_pSuite suite;
        unsigned failed;

        if (CU_initialize_registry() != CUE_SUCCESS)
                return 2;
        suite = CU_add_suite(suite_name, init, cleanup);
        for (size_t i = 0; suite && i < n; i++)
                if (!CU_add_test(suite, cases[i].name, cases[i].fn))
                        suite = NULL;
        if (!suite) {
                CU_cleanup_registry();
                return 2;
        }
        CU_basic_set_mode(CU_BRM_VERBOSE);
        CU_basic_run_tests();
        failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed() +
                 CU_get_number_of_suites_failed();
        CU_cleanup_registry();
        return failed ? 1 : 0;
}

#define RUN_CUNIT(name, init, cleanup, cases)                                                      \
        run_cunit((name), (init), (cleanup), (cases), sizeof(cases) / sizeof((cases)[0]))

#endif
