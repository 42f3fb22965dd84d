/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The built nono-enforcer-landlock.so as the host sees it: loadable with RTLD_NOW,
 * exporting nono_plugin_query and nothing else we define, with a sane descriptor.
 */

#include "cunit-main.h"
#include <nono/enforcer.h>

#include <dlfcn.h>
#include <string.h>

static const char *module_path;
static void *module;

static int suite_init(void)
{
        module = dlopen(module_path, RTLD_NOW | RTLD_LOCAL);
        if (!module)
                fprintf(stderr, "dlopen %s: %s\n", module_path, dlerror());
        return module ? 0 : -1;
}

static int suite_cleanup(void)
{
        return dlclose(module);
}

static void test_descriptor(void)
{
        nono_plugin_query_fn query;
        const struct nono_plugin_desc *d;
        const struct nono_enforcer_ops *ops;

        *(void **)&query = dlsym(module, NONO_PLUGIN_QUERY_SYMBOL);
        CU_ASSERT_PTR_NOT_NULL_FATAL(query);
        d = query();
        CU_ASSERT_PTR_NOT_NULL_FATAL(d);
        CU_ASSERT_EQUAL(d->magic, NONO_PLUGIN_MAGIC);
        CU_ASSERT_EQUAL(d->abi_major, NONO_PLUGIN_ABI_MAJOR);
        CU_ASSERT(d->abi_minor <= NONO_PLUGIN_ABI_MINOR);
        CU_ASSERT_EQUAL(d->size, sizeof(struct nono_plugin_desc));
        CU_ASSERT_EQUAL(d->kind, NONO_PLUGIN_ENFORCER);
        CU_ASSERT_EQUAL(d->flags & ~NONO_PLUGIN_FLAGS_KNOWN, 0);
        CU_ASSERT_STRING_EQUAL(d->name, "landlock");
        ops = d->ops;
        CU_ASSERT_PTR_NOT_NULL_FATAL(ops);
        CU_ASSERT_EQUAL(ops->size, sizeof(struct nono_enforcer_ops));
        CU_ASSERT(ops->probe && ops->prepare && ops->apply && ops->release && ops->render);
}

static void test_only_query_exported(void)
{
        static const char *const internal[] = {
            "ll_fs_rights_at_abi", "ll_access_to_rights",        "ll_format_mask",
            "ll_feature_name",     "nono_plugin_query_landlock",
        };

        for (size_t i = 0; i < sizeof(internal) / sizeof(internal[0]); i++)
                CU_ASSERT_PTR_NULL(dlsym(module, internal[i]));
}

int main(int argc, char **argv)
{
        static const struct test_case tests[] = {
            {"descriptor", test_descriptor},
            {"only nono_plugin_query exported", test_only_query_exported},
        };

        if (argc != 2) {
                fprintf(stderr, "usage: %s PATH-TO-nono-enforcer-landlock.so\n", argv[0]);
                return 2;
        }
        module_path = argv[1];
        return RUN_CUNIT("landlock module", suite_init, suite_cleanup, tests);
}
