/* SPDX-License-Identifier: Apache-2.0 */
/* The proxy's allow/deny rules: see policy.h. */

#include "policy.h"

#include <arpa/inet.h>
#include <fnmatch.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

/* Cloud metadata services, by name and by address, on top of all link-local addresses. */
static const char *const metadata_names[] = {
    "metadata.google.internal",
    "metadata.azure.internal",
    "metadata",
};
static const char *const metadata_addresses[] = {
    "169.254.169.254",
    "fd00:ec2::254",
    "100.100.100.200",
};

/* A name against "name" or "*.suffix" (any name under suffix, not suffix itself). */
static bool name_matches(const char *pattern, const char *host)
{
        size_t plen = strlen(pattern), hlen = strlen(host);

        if (pattern[0] == '*' && pattern[1] == '.') {
                /* "*.example.com": "a.example.com" and deeper, never "example.com". */
                const char *suffix = pattern + 1;
                size_t slen = plen - 1;

                return hlen > slen && strcasecmp(host + hlen - slen, suffix) == 0;
        }
        return strcasecmp(pattern, host) == 0;
}

/* "65535" → 65535; false unless 1-65535 in digits. */
static bool parse_port(const char *s, uint16_t *port)
{
        unsigned long v = 0;
        size_t n = 0;

        for (; s[n] >= '0' && s[n] <= '9' && n < 5; n++)
                v = v * 10 + (unsigned long)(s[n] - '0');
        if (n == 0 || s[n] != '\0' || v == 0 || v > 65535)
                return false;
        *port = (uint16_t)v;
        return true;
}

/*
 * Splits an allow-list entry (core/lib/names.c checked its syntax) into its host
 * pattern and port: "host", "host:port", "[v6]:port", or a bare IPv6 literal.  Port 0
 * stands for the default ports.  False for what is none of these.
 */
static bool split_entry(const char *entry, char *host, size_t size, uint16_t *port)
{
        const char *end = NULL, *colon = strchr(entry, ':');
        size_t len;

        *port = 0;
        if (entry[0] == '[') {
                end = strchr(entry, ']');
                if (!end || end[1] != ':' || !parse_port(end + 2, port))
                        return false;
                entry++;
        } else if (colon && !strchr(colon + 1, ':')) {
                end = colon;
                if (!parse_port(colon + 1, port))
                        return false;
        }
        len = end ? (size_t)(end - entry) : strlen(entry);
        if (len == 0 || len >= size)
                return false;
        memcpy(host, entry, len);
        host[len] = '\0';
        return true;
}

bool policy_entry_valid(const char *entry)
{
        char host[POLICY_MAX_ENTRY];
        uint16_t port;

        return split_entry(entry, host, sizeof(host), &port);
}

bool policy_is_ip_literal(const char *host)
{
        unsigned char buf[sizeof(struct in6_addr)];

        return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

/* Parses a literal into a sockaddr; false when `host` is no literal. */
static bool literal_address(const char *host, struct sockaddr_storage *ss)
{
        struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

        memset(ss, 0, sizeof(*ss));
        if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
                in4->sin_family = AF_INET;
                return true;
        }
        if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
                in6->sin6_family = AF_INET6;
                return true;
        }
        return false;
}

static bool same_address(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
        if (a->ss_family != b->ss_family)
                return false;
        if (a->ss_family == AF_INET)
                return memcmp(&((const struct sockaddr_in *)a)->sin_addr,
                              &((const struct sockaddr_in *)b)->sin_addr,
                              sizeof(struct in_addr)) == 0;
        return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                      &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
}

enum policy_match policy_entry_matches(const char *entry, const char *host, uint16_t port)
{
        struct sockaddr_storage target, listed;
        char pattern[POLICY_MAX_ENTRY];
        uint16_t entry_port;
        bool host_matches;

        if (!split_entry(entry, pattern, sizeof(pattern), &entry_port))
                return POLICY_NO_MATCH;
        /* Literals as addresses ("0:0::1" is "::1"), names by name; never one for the other. */
        if (literal_address(host, &target))
                host_matches = literal_address(pattern, &listed) && same_address(&listed, &target);
        else
                host_matches = !policy_is_ip_literal(pattern) && name_matches(pattern, host);
        if (!host_matches)
                return POLICY_NO_MATCH;
        if (entry_port ? port == entry_port : port == 443 || port == 80)
                return POLICY_MATCH;
        return POLICY_OTHER_PORT;
}

static const char *check_ipv4(uint32_t a)
{
        struct in_addr metadata;

        for (size_t i = 0; i < sizeof(metadata_addresses) / sizeof(*metadata_addresses); i++)
                if (inet_pton(AF_INET, metadata_addresses[i], &metadata) == 1 &&
                    metadata.s_addr == htonl(a))
                        return "cloud metadata address";
        if ((a & 0xffff0000u) == 0xa9fe0000u)
                return "link-local address";
        if (a == 0)
                return "unspecified address";
        return NULL;
}

const char *policy_check_address(const struct sockaddr *sa)
{
        if (sa->sa_family == AF_INET)
                return check_ipv4(ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr));
        if (sa->sa_family == AF_INET6) {
                const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
                struct in6_addr metadata;

                /* An IPv4 address in IPv6 clothes gets the IPv4 rules. */
                if (IN6_IS_ADDR_V4MAPPED(a) || IN6_IS_ADDR_V4COMPAT(a)) {
                        uint32_t v4;

                        memcpy(&v4, &a->s6_addr[12], sizeof(v4));
                        return check_ipv4(ntohl(v4));
                }
                for (size_t i = 0; i < sizeof(metadata_addresses) / sizeof(*metadata_addresses);
                     i++)
                        if (inet_pton(AF_INET6, metadata_addresses[i], &metadata) == 1 &&
                            memcmp(&metadata, a, sizeof(metadata)) == 0)
                                return "cloud metadata address";
                if (IN6_IS_ADDR_LINKLOCAL(a))
                        return "link-local address";
                if (IN6_IS_ADDR_UNSPECIFIED(a))
                        return "unspecified address";
                return NULL;
        }
        return "not an IP address";
}

bool policy_host_listed_exactly(const char *const *allowed, size_t n_allowed, const char *host,
                                uint16_t port)
{
        for (size_t i = 0; i < n_allowed; i++)
                if (strncmp(allowed[i], "*.", 2) != 0 &&
                    policy_entry_matches(allowed[i], host, port) == POLICY_MATCH)
                        return true;
        return false;
}

static bool is_loopback(const struct sockaddr *sa)
{
        if (sa->sa_family == AF_INET)
                return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
        if (sa->sa_family == AF_INET6) {
                const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

                return IN6_IS_ADDR_LOOPBACK(a) ||
                       (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
        }
        return false;
}

bool policy_is_this_machine(const struct sockaddr *sa, const struct sockaddr_storage *own,
                            size_t n_own)
{
        struct sockaddr_storage ss;

        if (is_loopback(sa))
                return true;
        memset(&ss, 0, sizeof(ss));
        memcpy(&ss, sa,
               sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                         : sizeof(struct sockaddr_in));
        for (size_t i = 0; i < n_own; i++)
                if (same_address(&ss, &own[i]))
                        return true;
        return false;
}

const char *policy_check_host(const char *const *allowed, size_t n_allowed, const char *host,
                              uint16_t port)
{
        struct sockaddr_storage target;
        bool other_port = false;
        const char *reason;

        for (size_t i = 0; i < sizeof(metadata_names) / sizeof(*metadata_names); i++)
                if (strcasecmp(host, metadata_names[i]) == 0)
                        return "cloud metadata host";
        if (literal_address(host, &target)) {
                reason = policy_check_address((const struct sockaddr *)&target);
                if (reason)
                        return reason;
        }
        for (size_t i = 0; i < n_allowed; i++) {
                enum policy_match m = policy_entry_matches(allowed[i], host, port);

                if (m == POLICY_MATCH)
                        return NULL;
                other_port |= m == POLICY_OTHER_PORT;
        }
        if (other_port)
                return "port not allowed for this host";
        return policy_is_ip_literal(host) ? "IP address not in the allow-list"
                                          : "host not in the allow-list";
}

bool policy_endpoint_rule_valid(const char *rule)
{
        const char *colon = strchr(rule, ':');

        if (!colon || colon == rule || colon[1] != '/')
                return false;
        for (const char *c = rule; c < colon; c++)
                if (!((*c >= 'A' && *c <= 'Z') || *c == '*' || *c == '-' || *c == '_'))
                        return false;
        return true;
}

bool policy_endpoint_allowed(const char *const *rules, size_t n_rules, const char *method,
                             size_t method_len, const char *path)
{
        if (n_rules == 0)
                return true;
        for (size_t i = 0; i < n_rules; i++) {
                const char *colon = strchr(rules[i], ':');
                size_t mlen;

                if (!colon)
                        continue;
                mlen = (size_t)(colon - rules[i]);
                if (!(mlen == 1 && rules[i][0] == '*') &&
                    !(mlen == method_len && strncmp(rules[i], method, mlen) == 0))
                        continue;
                if (fnmatch(colon + 1, path, 0) == 0)
                        return true;
        }
        return false;
}

/*
 * "." or "..", also with path parameters ("..;x"): servlet containers read "/a/..;/b"
 * as "/b", which a rule for "/a/..." must not match.
 */
static bool is_dot_segment(const char *seg, size_t len)
{
        const char *semicolon = memchr(seg, ';', len);

        if (semicolon)
                len = (size_t)(semicolon - seg);
        return (len == 1 && seg[0] == '.') || (len == 2 && seg[0] == '.' && seg[1] == '.');
}

bool policy_path_is_canonical(const char *path, size_t len)
{
        size_t start = 1; /* where the current segment begins */

        if (len == 0 || path[0] != '/')
                return false;
        for (size_t i = 1; i <= len; i++) {
                if (i < len && path[i] == '\\')
                        return false;
                if (i < len && path[i] == '%' && i + 2 < len) {
                        char hex[3] = {path[i + 1], path[i + 2], '\0'};

                        if (strcasecmp(hex, "2e") == 0 || strcasecmp(hex, "2f") == 0 ||
                            strcasecmp(hex, "5c") == 0)
                                return false;
                }
                if (i < len && path[i] != '/')
                        continue;
                /* The segment path[start..i): empty (but the last), "." or "..". */
                if ((i - start == 0 && i < len) || is_dot_segment(path + start, i - start))
                        return false;
                start = i + 1;
        }
        return true;
}
