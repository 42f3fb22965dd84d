/* SPDX-License-Identifier: Apache-2.0 */
#include "jsonc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

/* Profiles are a few kilobytes; anything this large is not one. */
#define JSONC_MAX_SIZE (1u << 20)

static unsigned line_at(const char *s, size_t off)
{
        unsigned line = 1;

        for (size_t i = 0; i < off; i++)
                if (s[i] == '\n')
                        line++;
        return line;
}

/* `i` is on an opening quote; returns the index just past the closing one (or the
 * end of the text: an unterminated string is left for jansson to report). */
static size_t skip_string(const char *s, size_t len, size_t i)
{
        for (i++; i < len; i++) {
                if (s[i] == '\\')
                        i++;
                else if (s[i] == '"')
                        return i + 1;
        }
        return len;
}

/* Blanks from `i` to the end of the line. */
static size_t blank_line_comment(char *s, size_t len, size_t i)
{
        while (i < len && s[i] != '\n')
                s[i++] = ' ';
        return i;
}

/* Blanks the block comment at *i, newlines kept, and moves *i past it; -EINVAL when it
 * is not terminated. */
static int blank_block_comment(char *s, size_t len, size_t *i)
{
        size_t start = *i;

        s[start] = s[start + 1] = ' ';
        for (size_t k = start + 2; k + 1 < len; k++) {
                if (s[k] == '*' && s[k + 1] == '/') {
                        s[k] = s[k + 1] = ' ';
                        *i = k + 2;
                        return 0;
                }
                if (s[k] != '\n')
                        s[k] = ' ';
        }
        return nono_error(-EINVAL, "line %u: unterminated comment", line_at(s, start));
}

static int strip_comments(char *s, size_t len)
{
        size_t i = 0;

        while (i < len) {
                if (s[i] == '"') {
                        i = skip_string(s, len, i);
                } else if (s[i] == '/' && i + 1 < len && s[i + 1] == '/') {
                        i = blank_line_comment(s, len, i);
                } else if (s[i] == '/' && i + 1 < len && s[i + 1] == '*') {
                        int r = blank_block_comment(s, len, &i);

                        if (r < 0)
                                return r;
                } else {
                        i++;
                }
        }
        return 0;
}

/* Parses `text` (len bytes, NUL-terminated), taking ownership of it. */
static int parse_owned(char *text, size_t len, struct jsonc_doc *ret)
{
        json_error_t err;
        int r;

        memset(ret, 0, sizeof(*ret));
        ret->text = text;
        ret->len = len;
        r = strip_comments(text, len);
        if (r < 0)
                goto fail;
        ret->root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
        if (!ret->root) {
                r = nono_error(-EINVAL, "line %d: %s", err.line, err.text);
                goto fail;
        }
        return 0;
fail:
        jsonc_doc_free(ret);
        return r;
}

int jsonc_parse(const char *text, size_t len, struct jsonc_doc *ret)
{
        char *copy = malloc(len + 1);

        memset(ret, 0, sizeof(*ret));
        if (!copy)
                return -ENOMEM;
        memcpy(copy, text, len);
        copy[len] = '\0';
        return parse_owned(copy, len, ret);
}

static int read_all(FILE *f, char **ret, size_t *ret_len)
{
        size_t cap = 4096, len = 0;
        char *buf = malloc(cap);

        if (!buf)
                return -ENOMEM;
        for (;;) {
                size_t n = fread(buf + len, 1, cap - len, f);

                len += n;
                if (len < cap)
                        break;
                if (cap >= JSONC_MAX_SIZE) {
                        free(buf);
                        return nono_error(-EFBIG, "file is larger than %u bytes", JSONC_MAX_SIZE);
                }
                cap *= 2;
                char *grown = realloc(buf, cap);

                if (!grown) {
                        free(buf);
                        return -ENOMEM;
                }
                buf = grown;
        }
        if (ferror(f)) {
                int e = errno ? errno : EIO;

                free(buf);
                return nono_error(-e, "%s", strerror(e));
        }
        buf[len] = '\0'; /* the loop stops with room to spare */
        *ret = buf;
        *ret_len = len;
        return 0;
}

int jsonc_load_file(const char *path, struct jsonc_doc *ret)
{
        FILE *f = fopen(path, "re");
        char *text = NULL;
        size_t len = 0;
        int r;

        memset(ret, 0, sizeof(*ret));
        if (!f)
                return nono_error(-errno, "%s", strerror(errno));
        r = read_all(f, &text, &len);
        fclose(f);
        return r < 0 ? r : parse_owned(text, len, ret);
}

void jsonc_doc_free(struct jsonc_doc *doc)
{
        json_decref(doc->root);
        free(doc->text);
        memset(doc, 0, sizeof(*doc));
}

/* ---- locating keys in the (comment-free, valid) text ---- */

static int is_ws(char c)
{
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static size_t skip_ws(const char *s, size_t len, size_t i)
{
        while (i < len && is_ws(s[i]))
                i++;
        return i;
}

/* `i` is at the start of a value; returns the index just past it. */
static size_t skip_value(const char *s, size_t len, size_t i)
{
        int depth = 0;

        if (i < len && s[i] == '"')
                return skip_string(s, len, i);
        if (i >= len || (s[i] != '{' && s[i] != '[')) {
                while (i < len && !is_ws(s[i]) && s[i] != ',' && s[i] != '}' && s[i] != ']')
                        i++;
                return i;
        }
        while (i < len) {
                if (s[i] == '"') {
                        i = skip_string(s, len, i);
                        continue;
                }
                if (s[i] == '{' || s[i] == '[')
                        depth++;
                else if ((s[i] == '}' || s[i] == ']') && --depth == 0)
                        return i + 1;
                i++;
        }
        return len;
}

/*
 * Finds member `key` of the object whose '{' is at `obj`.  Returns the offset of the
 * key's opening quote and sets *ret_value to the start of its value, or returns
 * `len` when absent.
 */
static size_t find_member(const char *s, size_t len, size_t obj, const char *key, size_t *ret_value)
{
        size_t klen = strlen(key);
        size_t i = obj + 1;

        for (;;) {
                size_t kstart, kend;

                i = skip_ws(s, len, i);
                if (i >= len || s[i] != '"')
                        return len;
                kstart = i;
                kend = skip_string(s, len, i);
                i = skip_ws(s, len, kend);
                if (i >= len || s[i] != ':')
                        return len;
                i = skip_ws(s, len, i + 1);
                if (kend - kstart == klen + 2 && memcmp(s + kstart + 1, key, klen) == 0) {
                        *ret_value = i;
                        return kstart;
                }
                i = skip_ws(s, len, skip_value(s, len, i));
                if (i >= len || s[i] != ',')
                        return len;
                i++;
        }
}

unsigned jsonc_key_line(const struct jsonc_doc *doc, const char *const *keys, size_t n)
{
        size_t value = skip_ws(doc->text, doc->len, 0);
        size_t at = doc->len;

        for (size_t k = 0; k < n; k++) {
                if (value >= doc->len || doc->text[value] != '{')
                        return 0;
                at = find_member(doc->text, doc->len, value, keys[k], &value);
                if (at >= doc->len)
                        return 0;
        }
        return n ? line_at(doc->text, at) : 0;
}

/* ---- walking with a path, for messages ---- */

void jsonc_path_init(struct jsonc_path *p, const struct jsonc_doc *doc)
{
        memset(p, 0, sizeof(*p));
        p->doc = doc;
}

const char *jsonc_path_dotted(const struct jsonc_path *p)
{
        static _Thread_local char dotted[256];
        size_t used = 0;

        dotted[0] = '\0';
        for (size_t k = 0; k < p->depth && used < sizeof(dotted); k++) {
                int n = snprintf(dotted + used, sizeof(dotted) - used, "%s%s", k ? "." : "",
                                 p->keys[k]);

                if (n < 0)
                        break;
                used += (size_t)n;
        }
        return dotted;
}

int jsonc_path_push(struct jsonc_path *p, const char *key)
{
        if (p->depth == JSONC_PATH_MAX)
                return jsonc_path_error(p, "\"%s\" is nested too deeply", jsonc_path_dotted(p));
        p->keys[p->depth++] = key;
        return 0;
}

void jsonc_path_pop(struct jsonc_path *p)
{
        if (p->depth == 0)
                return;
        p->depth--;
}

int jsonc_path_error(const struct jsonc_path *p, const char *fmt, ...)
{
        unsigned line = jsonc_key_line(p->doc, p->keys, p->depth);
        char msg[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (line)
                return nono_error(-EINVAL, "line %u: %s", line, msg);
        return nono_error(-EINVAL, "%s", msg);
}

int jsonc_get_string(const struct jsonc_path *p, const json_t *value, char **out)
{
        char *copy;

        if (!json_is_string(value))
                return jsonc_path_error(p, "\"%s\" must be a string", jsonc_path_dotted(p));
        copy = nono_strdup(json_string_value(value));
        if (!copy)
                return -ENOMEM;
        free(*out);
        *out = copy;
        return 0;
}

int jsonc_get_bool(const struct jsonc_path *p, const json_t *value, int *out)
{
        if (!json_is_boolean(value))
                return jsonc_path_error(p, "\"%s\" must be true or false", jsonc_path_dotted(p));
        *out = json_is_true(value);
        return 0;
}

int jsonc_get_strings(const struct jsonc_path *p, const json_t *value, struct strv *out)
{
        size_t i;
        json_t *item;

        if (!json_is_array(value))
                return jsonc_path_error(p, "\"%s\" must be an array of strings",
                                        jsonc_path_dotted(p));
        json_array_foreach(value, i, item)
        {
                const char *s = json_string_value(item);
                int r;

                if (!s || !*s)
                        return jsonc_path_error(p, "\"%s\" must be an array of non-empty strings",
                                                jsonc_path_dotted(p));
                if (strv_contains(out, s))
                        continue;
                r = strv_push(out, s);
                if (r < 0)
                        return r;
        }
        return 0;
}
