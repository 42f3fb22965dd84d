/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON with comments, for profiles and groups.json: `//` and `/ * * /` comments are
 * blanked out (newlines kept, so line numbers stay right), the rest is parsed by
 * jansson with duplicate keys refused.  The blanked text is kept next to the parsed
 * tree so that schema errors can name the line of the offending key.
 */
#ifndef NONO_CORE_JSONC_H
#define NONO_CORE_JSONC_H

#include <jansson.h>
#include <stddef.h>

#include "strv.h"

struct jsonc_doc {
        char *text; /* the source with comments blanked: same offsets and lines */
        size_t len;
        json_t *root;
};

/* Parses `len` bytes of `text`.  Errors: -EINVAL, "line N: <what>". */
int jsonc_parse(const char *text, size_t len, struct jsonc_doc *ret);
/* Reads and parses a file.  Errors name the line, not the file: callers prefix it. */
int jsonc_load_file(const char *path, struct jsonc_doc *ret);
void jsonc_doc_free(struct jsonc_doc *doc);

/*
 * Line (1-based) of the member reached from the root by the object keys `keys[0..n)`,
 * or 0 when it cannot be found.
 */
unsigned jsonc_key_line(const struct jsonc_doc *doc, const char *const *keys, size_t n);

/*
 * Position of a value while walking a document, for messages: the keys from the root.
 * Their dotted form ("network.allow_domain") is built only when a message needs it:
 * walking is on every run's path, errors are rare.
 */
#define JSONC_PATH_MAX 6

struct jsonc_path {
        const struct jsonc_doc *doc;
        const char *keys[JSONC_PATH_MAX];
        size_t depth;
};

/* The dotted form of the current position, valid until the next call (per thread). */
const char *jsonc_path_dotted(const struct jsonc_path *p);

void jsonc_path_init(struct jsonc_path *p, const struct jsonc_doc *doc);
/* Enters member `key`; -E2BIG (with a message) when nested deeper than we walk. */
int jsonc_path_push(struct jsonc_path *p, const char *key);
void jsonc_path_pop(struct jsonc_path *p);
/* Records "line N: <message>" (the line of the current key) and returns -EINVAL. */
int jsonc_path_error(const struct jsonc_path *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Replaces *out with a copy of the string value at the current key. */
int jsonc_get_string(const struct jsonc_path *p, const json_t *value, char **out);
/* Sets *out to 1 or 0 from a boolean value at the current key. */
int jsonc_get_bool(const struct jsonc_path *p, const json_t *value, int *out);

/* Appends the strings of an array of non-empty strings at the current key to `out`,
 * skipping ones already there. */
int jsonc_get_strings(const struct jsonc_path *p, const json_t *value, struct strv *out);

#endif
