/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the proxy lets through, as pure functions (no I/O): host allow-list matching,
 * the deny floor (link-local and cloud-metadata targets, whatever the allow-list says),
 * endpoint rules of credential routes, and the path hygiene those rules rely on.
 */
#ifndef NONO_FILTER_PROXY_POLICY_H
#define NONO_FILTER_PROXY_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include <stdint.h>

/* The longest allow-list entry's host part ("*." and a 253-byte name). */
#define POLICY_MAX_ENTRY 256

enum policy_match {
        POLICY_NO_MATCH,   /* another host */
        POLICY_OTHER_PORT, /* this host, but not on this port */
        POLICY_MATCH,
};

/*
 * One allow-list entry against a target (host lowercase, as parsed; IPv6 without
 * brackets).  An entry is a host pattern with an optional port: "name", "*.suffix" (any
 * name under suffix, not suffix itself), an IP literal (matched as an address, never by
 * a wildcard), then ":port" ("[v6]:port").  Without a port it covers 443 and 80 only.
 * Names are compared without case.
 */
enum policy_match policy_entry_matches(const char *entry, const char *host, uint16_t port);

/* Whether an entry can be split into host and port at all (proxy_new refuses others). */
bool policy_entry_valid(const char *entry);

/* True when `host` is an IPv4 or IPv6 literal (IPv6 without brackets). */
bool policy_is_ip_literal(const char *host);

/*
 * Whether host:port (host lowercase, as parsed) may be reached by name or literal:
 * NULL when allowed, else the reason it is refused.  Applies the floor to names and
 * literals, then needs an entry that matches (policy_entry_matches).
 */
const char *policy_check_host(const char *const *allowed, size_t n_allowed, const char *host,
                              uint16_t port);

/* The floor for a resolved address: NULL, or why connecting to it is refused. */
const char *policy_check_address(const struct sockaddr *sa);

/*
 * True when an allow-list entry names `host` itself (no wildcard) with this port: the
 * user meant that very host, even if it is this machine ("localhost:8080").
 */
bool policy_host_listed_exactly(const char *const *allowed, size_t n_allowed, const char *host,
                                uint16_t port);

/* Loopback, or one of `own` (this machine's interface addresses). */
bool policy_is_this_machine(const struct sockaddr *sa, const struct sockaddr_storage *own,
                            size_t n_own);

/* Endpoint rules "METHOD:/glob" ("*" = any method; fnmatch without FNM_PATHNAME, so
 * '*' crosses '/'); no rules allow everything. */
bool policy_endpoint_allowed(const char *const *rules, size_t n_rules, const char *method,
                             size_t method_len, const char *path);

/* A valid endpoint rule (so that proxy_new can refuse bad ones up front). */
bool policy_endpoint_rule_valid(const char *rule);

/*
 * True when a request path (without query) is in the one spelling that endpoint rules
 * and upstreams read alike: no "." or ".." segments, no empty segments, no backslash,
 * no percent-encoded '.', '/' or '\\'.
 */
bool policy_path_is_canonical(const char *path, size_t len);

#endif
