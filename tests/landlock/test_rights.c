/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the landlock plugin's pure functions: ABI features, rights mapping. */

#include "cunit-main.h"
#include <nono/plan.h>

#include <string.h>

#include "rights.h"

/* Every right a rule on a directory may carry at ABI 7. */
#define ALL_FS_ABI7 ((1ull << 16) - 1)

static void test_fs_rights_per_abi(void)
{
        CU_ASSERT_EQUAL(ll_fs_rights_at_abi(0), 0);
        CU_ASSERT_EQUAL(ll_fs_rights_at_abi(-3), 0);
        CU_ASSERT_EQUAL(ll_fs_rights_at_abi(1), (1ull << 13) - 1);
        CU_ASSERT_EQUAL(ll_fs_rights_at_abi(2), ((1ull << 13) - 1) | LL_ACCESS_FS_REFER);
        CU_ASSERT_EQUAL(ll_fs_rights_at_abi(3), (1ull << 15) - 1);
        CU_ASSERT_EQUAL(ll_fs_rights_at_abi(4), (1ull << 15) - 1);
        CU_ASSERT_EQUAL(ll_fs_rights_at_abi(5), ALL_FS_ABI7);
        CU_ASSERT_EQUAL(ll_fs_rights_at_abi(7), ALL_FS_ABI7);
        /* A newer kernel is used at the level we know. */
        CU_ASSERT_EQUAL(ll_fs_rights_at_abi(42), ALL_FS_ABI7);
}

static void test_net_and_scopes_per_abi(void)
{
        CU_ASSERT_EQUAL(ll_net_rights_at_abi(3), 0);
        CU_ASSERT_EQUAL(ll_net_rights_at_abi(4),
                        LL_ACCESS_NET_BIND_TCP | LL_ACCESS_NET_CONNECT_TCP);
        CU_ASSERT_EQUAL(ll_scopes_at_abi(5), 0);
        CU_ASSERT_EQUAL(ll_scopes_at_abi(6), LL_SCOPE_SIGNAL | LL_SCOPE_ABSTRACT_UNIX_SOCKET);
        CU_ASSERT_EQUAL(ll_scopes_at_abi(9), LL_SCOPE_SIGNAL | LL_SCOPE_ABSTRACT_UNIX_SOCKET);
}

static void test_read_mapping(void)
{
        CU_ASSERT_EQUAL(ll_access_to_rights(NONO_ACCESS_READ, false, 7),
                        LL_ACCESS_FS_READ_FILE | LL_ACCESS_FS_READ_DIR | LL_ACCESS_FS_EXECUTE);
        CU_ASSERT_EQUAL(ll_access_to_rights(NONO_ACCESS_READ, true, 7),
                        LL_ACCESS_FS_READ_FILE | LL_ACCESS_FS_EXECUTE);
        CU_ASSERT_EQUAL(ll_access_to_rights(0, false, 7), 0);
}

static void test_write_mapping(void)
{
        uint64_t w = ll_access_to_rights(NONO_ACCESS_WRITE, false, 7);

        CU_ASSERT_EQUAL(w, LL_ACCESS_FS_WRITE_FILE | LL_ACCESS_FS_REMOVE_DIR |
                               LL_ACCESS_FS_REMOVE_FILE | LL_ACCESS_FS_MAKE_DIR |
                               LL_ACCESS_FS_MAKE_REG | LL_ACCESS_FS_MAKE_SOCK |
                               LL_ACCESS_FS_MAKE_FIFO | LL_ACCESS_FS_MAKE_SYM | LL_ACCESS_FS_REFER |
                               LL_ACCESS_FS_TRUNCATE | LL_ACCESS_FS_IOCTL_DEV);
        CU_ASSERT_EQUAL(w & (LL_ACCESS_FS_READ_FILE | LL_ACCESS_FS_READ_DIR), 0);
}

static void test_never_device_nodes(void)
{
        const uint64_t dev = LL_ACCESS_FS_MAKE_CHAR | LL_ACCESS_FS_MAKE_BLOCK;

        for (int abi = 0; abi <= LL_ABI_KNOWN + 1; abi++) {
                CU_ASSERT_EQUAL(ll_access_to_rights(NONO_ACCESS_READWRITE, false, abi) & dev, 0);
                CU_ASSERT_EQUAL(ll_access_to_rights(NONO_ACCESS_READWRITE, true, abi) & dev, 0);
        }
        /* ...while they are handled, hence denied, from ABI 1 on. */
        CU_ASSERT_EQUAL(ll_fs_rights_at_abi(1) & dev, dev);
}

static void test_file_masking(void)
{
        for (int abi = 1; abi <= LL_ABI_KNOWN; abi++) {
                uint64_t f = ll_access_to_rights(NONO_ACCESS_READWRITE, true, abi);

                CU_ASSERT_EQUAL(f & ~LL_RIGHTS_FILE, 0);
                CU_ASSERT_EQUAL(f & ~ll_fs_rights_at_abi(abi), 0);
                CU_ASSERT(f & LL_ACCESS_FS_READ_FILE);
                CU_ASSERT(f & LL_ACCESS_FS_WRITE_FILE);
        }
        CU_ASSERT_EQUAL(ll_access_to_rights(NONO_ACCESS_READWRITE, true, 7),
                        LL_ACCESS_FS_EXECUTE | LL_ACCESS_FS_WRITE_FILE | LL_ACCESS_FS_READ_FILE |
                            LL_ACCESS_FS_TRUNCATE | LL_ACCESS_FS_IOCTL_DEV);
}

static void test_abi_masking(void)
{
        uint64_t w1 = ll_access_to_rights(NONO_ACCESS_WRITE, false, 1);
        uint64_t w3 = ll_access_to_rights(NONO_ACCESS_WRITE, false, 3);
        uint64_t w5 = ll_access_to_rights(NONO_ACCESS_WRITE, false, 5);

        CU_ASSERT_EQUAL(w1 & (LL_ACCESS_FS_REFER | LL_ACCESS_FS_TRUNCATE | LL_ACCESS_FS_IOCTL_DEV),
                        0);
        CU_ASSERT(w3 & LL_ACCESS_FS_REFER);
        CU_ASSERT(w3 & LL_ACCESS_FS_TRUNCATE);
        CU_ASSERT_EQUAL(w3 & LL_ACCESS_FS_IOCTL_DEV, 0);
        CU_ASSERT(w5 & LL_ACCESS_FS_IOCTL_DEV);
        CU_ASSERT_EQUAL(ll_access_to_rights(NONO_ACCESS_READWRITE, false, 0), 0);
}

static void test_features(void)
{
        CU_ASSERT_EQUAL(ll_features_at_abi(0), 0);
        CU_ASSERT_EQUAL(ll_features_at_abi(1), LL_FEATURE_FS);
        CU_ASSERT_EQUAL(ll_features_at_abi(3),
                        LL_FEATURE_FS | LL_FEATURE_REFER | LL_FEATURE_TRUNCATE);
        CU_ASSERT_EQUAL(ll_features_at_abi(7), ll_features_at_abi(100));
        CU_ASSERT(ll_features_at_abi(7) & LL_FEATURE_LOGGING);

        CU_ASSERT_EQUAL(ll_features_needed(false) & LL_FEATURE_TCP, 0);
        CU_ASSERT(ll_features_needed(true) & LL_FEATURE_TCP);
        /* Without REFER renames across directories are denied: stricter, not needed. */
        CU_ASSERT_EQUAL(ll_features_needed(true) & LL_FEATURE_REFER, 0);
        CU_ASSERT_EQUAL(ll_features_needed(true) & ~ll_features_at_abi(6), 0);
        CU_ASSERT_EQUAL(ll_features_needed(false) & ~ll_features_at_abi(3),
                        LL_FEATURE_IOCTL_DEV | LL_FEATURE_SCOPES);
}

static void test_feature_names(void)
{
        CU_ASSERT_EQUAL(ll_feature_abi(LL_FEATURE_TCP), 4);
        CU_ASSERT_EQUAL(ll_feature_abi(LL_FEATURE_SCOPES), 6);
        CU_ASSERT_EQUAL(ll_feature_abi(1u << 20), 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(ll_feature_name(LL_FEATURE_TCP), "TCP"));
        CU_ASSERT_STRING_EQUAL(ll_feature_word(LL_FEATURE_IOCTL_DEV), "ioctl-dev");
        for (uint32_t bit = 1; bit <= LL_FEATURE_LOGGING; bit <<= 1) {
                CU_ASSERT_PTR_NULL(strstr(ll_feature_name(bit), "unknown"));
                CU_ASSERT_PTR_NULL(strstr(ll_feature_consequence(bit), "unknown"));
        }
}

static void test_format_mask(void)
{
        char buf[256];
        char small[8];

        CU_ASSERT_EQUAL(ll_format_mask(0, ll_fs_right_name, buf, sizeof(buf)), 4);
        CU_ASSERT_STRING_EQUAL(buf, "none");
        ll_format_mask(LL_RIGHTS_READ, ll_fs_right_name, buf, sizeof(buf));
        CU_ASSERT_STRING_EQUAL(buf, "execute read-file read-dir");
        ll_format_mask(LL_ACCESS_NET_CONNECT_TCP, ll_net_right_name, buf, sizeof(buf));
        CU_ASSERT_STRING_EQUAL(buf, "connect-tcp");
        ll_format_mask(LL_SCOPE_SIGNAL | (1ull << 40), ll_scope_name, buf, sizeof(buf));
        CU_ASSERT_STRING_EQUAL(buf, "signal unknown");
        /* Truncation keeps a terminated prefix and reports the full length. */
        CU_ASSERT_EQUAL(ll_format_mask(LL_RIGHTS_READ, ll_fs_right_name, small, sizeof(small)),
                        strlen("execute read-file read-dir"));
        CU_ASSERT_STRING_EQUAL(small, "execute");
}

int main(void)
{
        static const struct test_case tests[] = {
            {"fs rights per ABI", test_fs_rights_per_abi},
            {"net rights and scopes per ABI", test_net_and_scopes_per_abi},
            {"read mapping", test_read_mapping},
            {"write mapping", test_write_mapping},
            {"never device nodes", test_never_device_nodes},
            {"file grants get file rights only", test_file_masking},
            {"rights masked by ABI", test_abi_masking},
            {"features per ABI and needed", test_features},
            {"feature names", test_feature_names},
            {"format mask", test_format_mask},
        };
        return RUN_CUNIT("landlock rights", NULL, NULL, tests);
}
