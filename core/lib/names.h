/* SPDX-License-Identifier: Apache-2.0 */
/* What counts as a well-formed name: environment variables, DNS names, host patterns. */
#ifndef NONO_CORE_NAMES_H
#define NONO_CORE_NAMES_H

#include <stddef.h>
#include <stdint.h>

/* ASCII letters and digits (no locale). */
int name_is_alnum(char c);

/* [A-Za-z_][A-Za-z0-9_]*, what a shell accepts as a variable name. */
int name_is_env_var(const char *s);

/* A DNS name: dot-separated labels of 1-63 letters, digits and inner hyphens. */
int name_is_dns(const char *s);

/*
 * What the proxy can match: a name, "*.suffix", or an IP literal (IPv4 is a valid DNS
 * form already), optionally with ":PORT" (1-65535; IPv6 then in brackets: "[::1]:8443").
 * Without a port the proxy allows ports 443 and 80 only.
 */
int name_is_host_pattern(const char *s);

/*
 * Splits a host pattern as name_is_host_pattern accepts it: `host` gets the name,
 * "*.suffix" or IP literal (without brackets), *ret_port the port or 0 when none is
 * given.  1 when valid, 0 when not.
 */
int name_split_host_pattern(const char *s, char *host, size_t size, uint16_t *ret_port);

/* Lower-cases ASCII letters in place (host names are case-insensitive). */
void name_lower(char *s);

#endif
