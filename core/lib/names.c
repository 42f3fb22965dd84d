/* SPDX-License-Identifier: Apache-2.0 */
#include "names.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

int name_is_alnum(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

int name_is_env_var(const char *s)
{
        if (!*s || (*s >= '0' && *s <= '9'))
                return 0;
        for (; *s; s++)
                if (!name_is_alnum(*s) && *s != '_')
                        return 0;
        return 1;
}

int name_is_dns(const char *s)
{
        size_t label = 0, total = strlen(s);

        if (total == 0 || total > 253)
                return 0;
        for (const char *c = s;; c++) {
                if (*c == '.' || *c == '\0') {
                        if (label == 0 || label > 63 || c[-1] == '-')
                                return 0;
                        if (*c == '\0')
                                return 1;
                        label = 0;
                } else if (name_is_alnum(*c) || (*c == '-' && label > 0)) {
                        label++;
                } else {
                        return 0;
                }
        }
}

/* A port number 1-65535 in digits, without a leading zero (one spelling per port). */
static int is_port(const char *s)
{
        unsigned long v = 0;
        size_t n = 0;

        if (*s == '0')
                return 0;
        for (; s[n] >= '0' && s[n] <= '9' && n < 5; n++)
                v = v * 10 + (unsigned long)(s[n] - '0');
        return n > 0 && s[n] == '\0' && v <= 65535;
}

/* The host part before a port, "[v6]" or "name": copied into out (size bytes). */
static int copy_host(const char *s, size_t len, char *out, size_t size)
{
        if (len == 0 || len >= size)
                return 0;
        memcpy(out, s, len);
        out[len] = '\0';
        return 1;
}

int name_split_host_pattern(const char *s, char *host, size_t size, uint16_t *ret_port)
{
        struct in6_addr a6;
        const char *colon, *name;

        *ret_port = 0;
        if (inet_pton(AF_INET6, s, &a6) == 1)
                return copy_host(s, strlen(s), host, size); /* a bare IPv6 literal: no port */
        if (s[0] == '[') {
                /* "[v6]:port": brackets only where a port follows. */
                const char *close = strchr(s, ']');

                if (!close || close[1] != ':' || !is_port(close + 2) ||
                    !copy_host(s + 1, (size_t)(close - s - 1), host, size) ||
                    inet_pton(AF_INET6, host, &a6) != 1)
                        return 0;
                *ret_port = (uint16_t)strtoul(close + 2, NULL, 10);
                return 1;
        }
        colon = strchr(s, ':');
        if (colon && !is_port(colon + 1))
                return 0;
        if (!copy_host(s, colon ? (size_t)(colon - s) : strlen(s), host, size))
                return 0;
        if (colon)
                *ret_port = (uint16_t)strtoul(colon + 1, NULL, 10);
        name = strncmp(host, "*.", 2) == 0 ? host + 2 : host;
        return name_is_dns(name);
}

int name_is_host_pattern(const char *s)
{
        char host[256];
        uint16_t port;

        return name_split_host_pattern(s, host, sizeof(host), &port);
}

void name_lower(char *s)
{
        for (; *s; s++)
                if (*s >= 'A' && *s <= 'Z')
                        *s = (char)(*s - 'A' + 'a');
}
