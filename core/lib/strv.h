/* SPDX-License-Identifier: Apache-2.0 */
/* A growable, NULL-terminated vector of owned strings. */
#ifndef NONO_CORE_STRV_H
#define NONO_CORE_STRV_H

#include <stddef.h>

struct strv {
        char **items; /* NULL-terminated when n > 0 */
        size_t n;
        size_t cap;
};

#define STRV_INIT                                                                                  \
        {                                                                                          \
                NULL, 0, 0                                                                         \
        }

/* Appends a copy of s; -ENOMEM on failure. */
int strv_push(struct strv *v, const char *s);
/* Appends s itself (takes ownership, frees it on failure). */
int strv_push_owned(struct strv *v, char *s);
/* Appends every string of src (copies). */
int strv_extend(struct strv *v, const struct strv *src);
int strv_contains(const struct strv *v, const char *s);
void strv_free(struct strv *v);

/* Small string helpers; NULL on allocation failure. */
char *nono_strdup(const char *s);
char *nono_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Joins a directory and a name with exactly one '/'. */
char *nono_path_join(const char *dir, const char *name);
/* True when `inner` equals `outer` or lies below it (component-wise, not by prefix:
 * /home/u/.sshfoo is not under /home/u/.ssh). */
int path_is_within(const char *inner, const char *outer);

#endif
