/* SPDX-License-Identifier: Apache-2.0 */
#include "strv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int strv_push_owned(struct strv *v, char *s)
{
        if (!s)
                return -ENOMEM;
        /* Keep room for the terminating NULL. */
        if (v->n + 1 >= v->cap) {
                size_t cap = v->cap ? v->cap * 2 : 8;
                char **items = realloc(v->items, cap * sizeof(*items));

                if (!items) {
                        free(s);
                        return -ENOMEM;
                }
                v->items = items;
                v->cap = cap;
        }
        v->items[v->n++] = s;
        v->items[v->n] = NULL;
        return 0;
}

int strv_push(struct strv *v, const char *s)
{
        return strv_push_owned(v, nono_strdup(s));
}

int strv_extend(struct strv *v, const struct strv *src)
{
        for (size_t i = 0; i < src->n; i++) {
                int r = strv_push(v, src->items[i]);

                if (r < 0)
                        return r;
        }
        return 0;
}

int strv_contains(const struct strv *v, const char *s)
{
        for (size_t i = 0; i < v->n; i++)
                if (strcmp(v->items[i], s) == 0)
                        return 1;
        return 0;
}

void strv_free(struct strv *v)
{
        for (size_t i = 0; i < v->n; i++)
                free(v->items[i]);
        free(v->items);
        v->items = NULL;
        v->n = v->cap = 0;
}

char *nono_strdup(const char *s)
{
        return s ? strdup(s) : NULL;
}

char *nono_asprintf(const char *fmt, ...)
{
        va_list ap;
        char *out = NULL;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&out, fmt, ap);
        va_end(ap);
        return r < 0 ? NULL : out;
}

char *nono_path_join(const char *dir, const char *name)
{
        size_t len = strlen(dir);

        while (len > 1 && dir[len - 1] == '/')
                len--;
        while (*name == '/')
                name++;
        if (len == 1 && dir[0] == '/')
                return nono_asprintf("/%s", name);
        return nono_asprintf("%.*s/%s", (int)len, dir, name);
}

int path_is_within(const char *inner, const char *outer)
{
        size_t n = strlen(outer);

        /* "/" contains everything; otherwise compare whole components only, so that
         * /home/u/.sshfoo is not taken to be inside /home/u/.ssh. */
        if (strcmp(outer, "/") == 0)
                return inner[0] == '/';
        while (n > 1 && outer[n - 1] == '/')
                n--;
        if (strncmp(inner, outer, n) != 0)
                return 0;
        return inner[n] == '\0' || inner[n] == '/';
}
