/* SPDX-License-Identifier: Apache-2.0 */
/* names.h: what an allow-list entry may look like (host, wildcard, literal, :PORT). */

#include "cunit-main.h"
#include "names.h"

static void test_hosts_without_port(void)
{
        CU_ASSERT(name_is_host_pattern("api.example.com"));
        CU_ASSERT(name_is_host_pattern("*.example.com"));
        CU_ASSERT(name_is_host_pattern("127.0.0.2"));
        CU_ASSERT(name_is_host_pattern("::1"));
        CU_ASSERT(name_is_host_pattern("fd00::1:2"));
        CU_ASSERT_FALSE(name_is_host_pattern(""));
        CU_ASSERT_FALSE(name_is_host_pattern("https://api.example.com"));
        CU_ASSERT_FALSE(name_is_host_pattern("example.com/x"));
        CU_ASSERT_FALSE(name_is_host_pattern("*example.com"));
        CU_ASSERT_FALSE(name_is_host_pattern("[::1]")); /* brackets only with a port */
}

static void test_hosts_with_port(void)
{
        CU_ASSERT(name_is_host_pattern("db.example.com:5432"));
        CU_ASSERT(name_is_host_pattern("127.0.0.2:8080"));
        CU_ASSERT(name_is_host_pattern("[::1]:8443"));
        CU_ASSERT(name_is_host_pattern("*.example.com:8443"));
        CU_ASSERT(name_is_host_pattern("a.example:1"));
        CU_ASSERT(name_is_host_pattern("a.example:65535"));
        CU_ASSERT_FALSE(name_is_host_pattern("a.example:0"));
        CU_ASSERT_FALSE(name_is_host_pattern("a.example:65536"));
        CU_ASSERT_FALSE(name_is_host_pattern("a.example:080"));
        CU_ASSERT_FALSE(name_is_host_pattern("a.example:"));
        CU_ASSERT_FALSE(name_is_host_pattern("a.example:8a"));
        CU_ASSERT_FALSE(name_is_host_pattern("a.example:-1"));
        CU_ASSERT_FALSE(name_is_host_pattern("a.example:443:443"));
        CU_ASSERT_FALSE(name_is_host_pattern(":443"));
        CU_ASSERT_FALSE(name_is_host_pattern("[::1]:"));
        CU_ASSERT_FALSE(name_is_host_pattern("[::1]443"));
        CU_ASSERT_FALSE(name_is_host_pattern("[a.example]:443"));
        CU_ASSERT_FALSE(name_is_host_pattern("[127.0.0.1]:443"));
        CU_ASSERT_FALSE(name_is_host_pattern("[]:443"));
        CU_ASSERT_FALSE(name_is_host_pattern("::1:443x"));
}

int main(void)
{
        static const struct test_case cases[] = {
            {"hosts without a port", test_hosts_without_port},
            {"hosts with a port", test_hosts_with_port},
        };
        return RUN_CUNIT("names", NULL, NULL, cases);
}
