/* SPDX-License-Identifier: Apache-2.0 */
#include "names.h"

#include <arpa/inet.h>
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

int name_is_host_pattern(const char *s)
{
        struct in6_addr a6;

        if (inet_pton(AF_INET6, s, &a6) == 1)
                return 1;
        if (strncmp(s, "*.", 2) == 0)
                s += 2;
        return name_is_dns(s);
}

void name_lower(char *s)
{
        for (; *s; s++)
                if (*s >= 'A' && *s <= 'Z')
                        *s = (char)(*s - 'A' + 'a');
}
