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

/* `pattern` is an exact host or "*.suffix" (any name under suffix, not suffix itself);
 * both compared without case. */
bool policy_host_matches(const char *pattern, const char *host);

/* True when `host` is an IPv4 or IPv6 literal (IPv6 without brackets). */
bool policy_is_ip_literal(const char *host);

/*
 * Whether a target host (lowercase, as parsed) may be reached by name or literal:
 * NULL when allowed, else the reason it is refused.  Applies the floor to names and
 * literals; an IP literal passes only when the allow-list holds the same address.
 */
const char *policy_check_host(const char *const *allowed, size_t n_allowed, const char *host);

/* The floor for a resolved address: NULL, or why connecting to it is refused. */
const char *policy_check_address(const struct sockaddr *sa);

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
