/* SPDX-License-Identifier: Apache-2.0 */
/* The proxy's rules (policy.h): host matching, the deny floor, endpoint rules, paths. */

#include "cunit-main.h"
#include "policy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

static bool matches(const char *entry, const char *host)
{
        return policy_entry_matches(entry, host, 443) == POLICY_MATCH;
}

static void test_host_matching(void)
{
        CU_ASSERT(matches("api.example.com", "api.example.com"));
        CU_ASSERT(matches("API.Example.com", "api.example.COM"));
        CU_ASSERT_FALSE(matches("api.example.com", "xapi.example.com"));
        CU_ASSERT_FALSE(matches("api.example.com", "api.example.com.evil"));
        CU_ASSERT(matches("*.example.com", "a.example.com"));
        CU_ASSERT(matches("*.example.com", "a.b.EXAMPLE.com"));
        /* The apex is not under its own wildcard, and a suffix is a whole label. */
        CU_ASSERT_FALSE(matches("*.example.com", "example.com"));
        CU_ASSERT_FALSE(matches("*.example.com", "badexample.com"));
        CU_ASSERT_FALSE(matches("*.example.com", "evil-example.com"));
        CU_ASSERT_FALSE(matches("*.example.com", "example.com.evil.net"));
        CU_ASSERT_FALSE(matches("*.0.0.1", "127.0.0.1"));
        /* Literals as addresses, never by name. */
        CU_ASSERT(matches("::1", "0:0::1"));
        CU_ASSERT(matches("[::1]:443", "::1"));
        CU_ASSERT_FALSE(matches("127.0.0.1", "127.0.0.2"));
}

static void test_port_matching(void)
{
        /* Without a port: 443 and 80 only. */
        CU_ASSERT_EQUAL(policy_entry_matches("a.example", "a.example", 80), POLICY_MATCH);
        CU_ASSERT_EQUAL(policy_entry_matches("a.example", "a.example", 22), POLICY_OTHER_PORT);
        CU_ASSERT_EQUAL(policy_entry_matches("a.example", "a.example", 8443), POLICY_OTHER_PORT);
        CU_ASSERT_EQUAL(policy_entry_matches("a.example", "b.example", 22), POLICY_NO_MATCH);
        /* With one: that port only. */
        CU_ASSERT_EQUAL(policy_entry_matches("db.example:5432", "db.example", 5432), POLICY_MATCH);
        CU_ASSERT_EQUAL(policy_entry_matches("db.example:5432", "db.example", 443),
                        POLICY_OTHER_PORT);
        CU_ASSERT_EQUAL(policy_entry_matches("127.0.0.2:8080", "127.0.0.2", 8080), POLICY_MATCH);
        CU_ASSERT_EQUAL(policy_entry_matches("127.0.0.2:8080", "127.0.0.2", 80), POLICY_OTHER_PORT);
        CU_ASSERT_EQUAL(policy_entry_matches("[::1]:8443", "::1", 8443), POLICY_MATCH);
        CU_ASSERT_EQUAL(policy_entry_matches("[::1]:8443", "::1", 443), POLICY_OTHER_PORT);
        CU_ASSERT_EQUAL(policy_entry_matches("*.example.com:8443", "a.example.com", 8443),
                        POLICY_MATCH);
        CU_ASSERT_EQUAL(policy_entry_matches("*.example.com:8443", "example.com", 8443),
                        POLICY_NO_MATCH);
        /* Entries that cannot be split match nothing. */
        CU_ASSERT_EQUAL(policy_entry_matches("a.example:0", "a.example", 443), POLICY_NO_MATCH);
        CU_ASSERT_EQUAL(policy_entry_matches("a.example:70000", "a.example", 443), POLICY_NO_MATCH);
        CU_ASSERT_EQUAL(policy_entry_matches("[::1]", "::1", 443), POLICY_NO_MATCH);
        CU_ASSERT_EQUAL(policy_entry_matches("[::1]:", "::1", 443), POLICY_NO_MATCH);
        CU_ASSERT_EQUAL(policy_entry_matches(":443", "", 443), POLICY_NO_MATCH);
        CU_ASSERT(policy_entry_valid("a.example:1"));
        CU_ASSERT(policy_entry_valid("fe80::1"));
        CU_ASSERT_FALSE(policy_entry_valid("a.example:"));
        CU_ASSERT_FALSE(policy_entry_valid("[::1]x:443"));
}

static const char *const allowed[] = {
    "api.example.com",          "*.github.com",    "127.0.0.1", "::1", "169.254.169.254",
    "metadata.google.internal", "db.example:5432", "[::2]:8443"};
#define N_ALLOWED (sizeof(allowed) / sizeof(*allowed))

static const char *check(const char *host)
{
        return policy_check_host(allowed, N_ALLOWED, host, 443);
}

static void test_check_host(void)
{
        CU_ASSERT_PTR_NULL(check("api.example.com"));
        CU_ASSERT_PTR_NULL(check("raw.github.com"));
        CU_ASSERT_PTR_NOT_NULL(check("github.com"));
        CU_ASSERT_PTR_NOT_NULL(check("example.com"));
        /* Literals only when listed as the same address. */
        CU_ASSERT_PTR_NULL(check("127.0.0.1"));
        CU_ASSERT_PTR_NULL(check("0:0::1"));
        CU_ASSERT_STRING_EQUAL(check("127.0.0.2"), "IP address not in the allow-list");
        CU_ASSERT_STRING_EQUAL(check("8.8.8.8"), "IP address not in the allow-list");
        /* Ports. */
        CU_ASSERT_PTR_NULL(policy_check_host(allowed, N_ALLOWED, "api.example.com", 80));
        CU_ASSERT_STRING_EQUAL(policy_check_host(allowed, N_ALLOWED, "api.example.com", 22),
                               "port not allowed for this host");
        CU_ASSERT_STRING_EQUAL(policy_check_host(allowed, N_ALLOWED, "127.0.0.1", 8080),
                               "port not allowed for this host");
        CU_ASSERT_PTR_NULL(policy_check_host(allowed, N_ALLOWED, "db.example", 5432));
        CU_ASSERT_STRING_EQUAL(check("db.example"), "port not allowed for this host");
        CU_ASSERT_PTR_NULL(policy_check_host(allowed, N_ALLOWED, "::2", 8443));
        CU_ASSERT_STRING_EQUAL(check("::2"), "port not allowed for this host");
        CU_ASSERT_STRING_EQUAL(policy_check_host(allowed, N_ALLOWED, "example.org", 5432),
                               "host not in the allow-list");
        /* The floor wins over the list. */
        CU_ASSERT_STRING_EQUAL(check("169.254.169.254"), "cloud metadata address");
        CU_ASSERT_STRING_EQUAL(check("metadata.google.internal"), "cloud metadata host");
        CU_ASSERT_STRING_EQUAL(check("169.254.1.2"), "link-local address");
        CU_ASSERT_STRING_EQUAL(check("fe80::1"), "link-local address");
        CU_ASSERT_STRING_EQUAL(check("::ffff:169.254.169.254"), "cloud metadata address");
        CU_ASSERT_STRING_EQUAL(check("fd00:ec2::254"), "cloud metadata address");
        CU_ASSERT_STRING_EQUAL(check("100.100.100.200"), "cloud metadata address");
        CU_ASSERT_STRING_EQUAL(check("metadata.azure.internal"), "cloud metadata host");
        CU_ASSERT_STRING_EQUAL(policy_check_host(NULL, 0, "api.example.com", 443),
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

/* D14: wildcard entries never vouch for a name that leads back to this machine. */
static void test_listed_exactly(void)
{
        static const char *const entries[] = {"localhost:8080", "*.nip.io", "api.example.com"};

        CU_ASSERT_TRUE(policy_host_listed_exactly(entries, 3, "localhost", 8080));
        CU_ASSERT_TRUE(policy_host_listed_exactly(entries, 3, "API.example.com", 443));
        CU_ASSERT_FALSE(policy_host_listed_exactly(entries, 3, "localhost", 80));
        CU_ASSERT_FALSE(policy_host_listed_exactly(entries, 3, "127.0.0.1.nip.io", 443));
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
        /* Dot segments with path parameters, as servlet containers read them. */
        CU_ASSERT_FALSE(canonical("/public/..;/admin"));
        CU_ASSERT_FALSE(canonical("/public/..;x=1/admin"));
        CU_ASSERT_FALSE(canonical("/a/.;/b"));
        CU_ASSERT_FALSE(canonical("/a/..;"));
        CU_ASSERT(canonical("/a/b;v=1/c"));
        CU_ASSERT(canonical("/a/..x;y/c"));
}

int main(void)
{
        static const struct test_case cases[] = {
            {"host matching", test_host_matching},     {"port matching", test_port_matching},
            {"check host", test_check_host},           {"floor addresses", test_floor_addresses},
            {"listed exactly", test_listed_exactly},   {"endpoint rules", test_endpoint_rules},
            {"canonical paths", test_canonical_paths},
        };

        return RUN_CUNIT("proxy-policy", NULL, NULL, cases);
}
