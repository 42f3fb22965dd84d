/* SPDX-License-Identifier: Apache-2.0 */
/* The proxy's rules (policy.h): host matching, the deny floor, endpoint rules, paths. */

#include "cunit-main.h"
#include "policy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

static void test_host_matching(void)
{
        CU_ASSERT(policy_host_matches("api.example.com", "api.example.com"));
        CU_ASSERT(policy_host_matches("API.Example.com", "api.example.COM"));
        CU_ASSERT_FALSE(policy_host_matches("api.example.com", "xapi.example.com"));
        CU_ASSERT_FALSE(policy_host_matches("api.example.com", "api.example.com.evil"));
        CU_ASSERT(policy_host_matches("*.example.com", "a.example.com"));
        CU_ASSERT(policy_host_matches("*.example.com", "a.b.EXAMPLE.com"));
        /* The apex is not under its own wildcard, and a suffix is a whole label. */
        CU_ASSERT_FALSE(policy_host_matches("*.example.com", "example.com"));
        CU_ASSERT_FALSE(policy_host_matches("*.example.com", "badexample.com"));
        CU_ASSERT_FALSE(policy_host_matches("*.example.com", ".example.com") &&
                        policy_host_matches("*.example.com", "example.com"));
        CU_ASSERT_FALSE(policy_host_matches("*.0.0.1", "127.0.0.1"));
}

static const char *const allowed[] = {"api.example.com", "*.github.com",
                                      "127.0.0.1",       "::1",
                                      "169.254.169.254", "metadata.google.internal"};
#define N_ALLOWED (sizeof(allowed) / sizeof(*allowed))

static void test_check_host(void)
{
        CU_ASSERT_PTR_NULL(policy_check_host(allowed, N_ALLOWED, "api.example.com"));
        CU_ASSERT_PTR_NULL(policy_check_host(allowed, N_ALLOWED, "raw.github.com"));
        CU_ASSERT_PTR_NOT_NULL(policy_check_host(allowed, N_ALLOWED, "github.com"));
        CU_ASSERT_PTR_NOT_NULL(policy_check_host(allowed, N_ALLOWED, "example.com"));
        /* Literals only when listed as the same address. */
        CU_ASSERT_PTR_NULL(policy_check_host(allowed, N_ALLOWED, "127.0.0.1"));
        CU_ASSERT_PTR_NULL(policy_check_host(allowed, N_ALLOWED, "0:0::1"));
        CU_ASSERT_STRING_EQUAL(policy_check_host(allowed, N_ALLOWED, "127.0.0.2"),
                               "IP address not in the allow-list");
        CU_ASSERT_STRING_EQUAL(policy_check_host(allowed, N_ALLOWED, "8.8.8.8"),
                               "IP address not in the allow-list");
        /* The floor wins over the list. */
        CU_ASSERT_STRING_EQUAL(policy_check_host(allowed, N_ALLOWED, "169.254.169.254"),
                               "cloud metadata address");
        CU_ASSERT_STRING_EQUAL(policy_check_host(allowed, N_ALLOWED, "metadata.google.internal"),
                               "cloud metadata host");
        CU_ASSERT_STRING_EQUAL(policy_check_host(allowed, N_ALLOWED, "169.254.1.2"),
                               "link-local address");
        CU_ASSERT_STRING_EQUAL(policy_check_host(allowed, N_ALLOWED, "fe80::1"),
                               "link-local address");
        CU_ASSERT_STRING_EQUAL(policy_check_host(allowed, N_ALLOWED, "::ffff:169.254.169.254"),
                               "cloud metadata address");
        CU_ASSERT_STRING_EQUAL(policy_check_host(allowed, N_ALLOWED, "fd00:ec2::254"),
                               "cloud metadata address");
        CU_ASSERT_STRING_EQUAL(policy_check_host(allowed, N_ALLOWED, "100.100.100.200"),
                               "cloud metadata address");
        CU_ASSERT_STRING_EQUAL(policy_check_host(allowed, N_ALLOWED, "metadata.azure.internal"),
                               "cloud metadata host");
        CU_ASSERT_STRING_EQUAL(policy_check_host(NULL, 0, "api.example.com"),
                               "host not in the allow-list");
}

static const char *check_address(int family, const char *text)
{
        struct sockaddr_storage ss = {0};

        ss.ss_family = (sa_family_t)family;
        if (family == AF_INET)
                inet_pton(AF_INET, text, &((struct sockaddr_in *)&ss)->sin_addr);
        else
                inet_pton(AF_INET6, text, &((struct sockaddr_in6 *)&ss)->sin6_addr);
        return policy_check_address((struct sockaddr *)&ss);
}

static void test_floor_addresses(void)
{
        CU_ASSERT_PTR_NULL(check_address(AF_INET, "127.0.0.1"));
        CU_ASSERT_PTR_NULL(check_address(AF_INET, "93.184.216.34"));
        CU_ASSERT_PTR_NULL(check_address(AF_INET, "169.253.255.255"));
        CU_ASSERT_PTR_NULL(check_address(AF_INET, "169.255.0.0"));
        CU_ASSERT_PTR_NOT_NULL(check_address(AF_INET, "169.254.0.0"));
        CU_ASSERT_PTR_NOT_NULL(check_address(AF_INET, "169.254.255.255"));
        CU_ASSERT_PTR_NOT_NULL(check_address(AF_INET, "100.100.100.200"));
        CU_ASSERT_PTR_NOT_NULL(check_address(AF_INET, "0.0.0.0"));
        CU_ASSERT_PTR_NULL(check_address(AF_INET6, "::1"));
        CU_ASSERT_PTR_NULL(check_address(AF_INET6, "2001:db8::1"));
        CU_ASSERT_PTR_NULL(check_address(AF_INET6, "fec0::1"));
        CU_ASSERT_PTR_NOT_NULL(check_address(AF_INET6, "fe80::1"));
        CU_ASSERT_PTR_NOT_NULL(check_address(AF_INET6, "febf:ffff::1"));
        CU_ASSERT_PTR_NOT_NULL(check_address(AF_INET6, "fd00:ec2::254"));
        CU_ASSERT_PTR_NOT_NULL(check_address(AF_INET6, "::ffff:169.254.169.254"));
        CU_ASSERT_PTR_NOT_NULL(check_address(AF_INET6, "::"));
}

static bool endpoint(const char *const *rules, size_t n, const char *method, const char *path)
{
        return policy_endpoint_allowed(rules, n, method, strlen(method), path);
}

static void test_endpoint_rules(void)
{
        static const char *const rules[] = {"GET:/v1/models", "POST:/v1/chat/*", "*:/v2/*"};

        CU_ASSERT(endpoint(NULL, 0, "DELETE", "/anything"));
        CU_ASSERT(endpoint(rules, 3, "GET", "/v1/models"));
        CU_ASSERT_FALSE(endpoint(rules, 3, "POST", "/v1/models"));
        CU_ASSERT_FALSE(endpoint(rules, 3, "GE", "/v1/models"));
        CU_ASSERT_FALSE(endpoint(rules, 3, "GETX", "/v1/models"));
        CU_ASSERT_FALSE(endpoint(rules, 3, "GET", "/v1/models/x"));
        CU_ASSERT(endpoint(rules, 3, "POST", "/v1/chat/completions"));
        CU_ASSERT_FALSE(endpoint(rules, 3, "GET", "/v1/chat/completions"));
        CU_ASSERT(endpoint(rules, 3, "DELETE", "/v2/files/1"));
        CU_ASSERT_FALSE(endpoint(rules, 3, "GET", "/v3/x"));

        CU_ASSERT(policy_endpoint_rule_valid("GET:/v1/*"));
        CU_ASSERT(policy_endpoint_rule_valid("*:/"));
        CU_ASSERT_FALSE(policy_endpoint_rule_valid("GET/v1"));
        CU_ASSERT_FALSE(policy_endpoint_rule_valid(":/v1"));
        CU_ASSERT_FALSE(policy_endpoint_rule_valid("GET:v1"));
        CU_ASSERT_FALSE(policy_endpoint_rule_valid("get:/v1"));
}

static bool canonical(const char *path)
{
        return policy_path_is_canonical(path, strlen(path));
}

static void test_canonical_paths(void)
{
        CU_ASSERT(canonical("/"));
        CU_ASSERT(canonical("/v1/models"));
        CU_ASSERT(canonical("/v1/models/"));
        CU_ASSERT(canonical("/v1/a.b/..c/%41"));
        CU_ASSERT_FALSE(canonical(""));
        CU_ASSERT_FALSE(canonical("v1"));
        CU_ASSERT_FALSE(canonical("/v1/../admin"));
        CU_ASSERT_FALSE(canonical("/v1/.."));
        CU_ASSERT_FALSE(canonical("/./v1"));
        CU_ASSERT_FALSE(canonical("/v1/."));
        CU_ASSERT_FALSE(canonical("//v1"));
        CU_ASSERT_FALSE(canonical("/v1//x"));
        CU_ASSERT_FALSE(canonical("/v1/%2e%2E/admin"));
        CU_ASSERT_FALSE(canonical("/v1%2fadmin"));
        CU_ASSERT_FALSE(canonical("/v1\\admin"));
}

int main(void)
{
        static const struct test_case cases[] = {
            {"host matching", test_host_matching},     {"check host", test_check_host},
            {"floor addresses", test_floor_addresses}, {"endpoint rules", test_endpoint_rules},
            {"canonical paths", test_canonical_paths},
        };

        return RUN_CUNIT("proxy-policy", NULL, NULL, cases);
}
