/* SPDX-License-Identifier: Apache-2.0 */
#include "redact.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "childenv.h"
#include "strv.h"

/* Token formats whose prefix alone says "credential" (OpenAI, GitHub, GitLab, Slack,
 * AWS access key ids, Google API keys, Hugging Face, Stripe). */
static const char *const token_prefixes[] = {
    "sk-",    "sk_live_", "rk_live_", "ghp_",  "gho_",  "ghu_", "ghs_", "ghr_", "github_pat_",
    "glpat-", "xoxb-",    "xoxp-",    "xoxa-", "xoxr-", "AKIA", "ASIA", "AIza", "hf_",
};

#define N_OF(a)           (sizeof(a) / sizeof((a)[0]))
#define MIN_PREFIXED_TAIL 8  /* characters after a known prefix */
#define MIN_ENTROPIC_LEN  24 /* shorter random words are not worth guessing about */

/* Characters that separate words inside one argument ("Authorization: Bearer X"). */
static int is_separator(char c)
{
        return strchr(" \t\n=:,;\"'&?@", c) != NULL;
}

static int is_token_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-' || c == '+' || c == '.' || c == '/';
}

static int has_known_prefix(const char *w, size_t len)
{
        for (size_t i = 0; i < N_OF(token_prefixes); i++) {
                size_t n = strlen(token_prefixes[i]);

                if (len >= n + MIN_PREFIXED_TAIL && memcmp(w, token_prefixes[i], n) == 0)
                        return 1;
        }
        return 0;
}

/* A JSON Web Token: three base64url parts, the first starting with {" encoded. */
static int is_jwt(const char *w, size_t len)
{
        size_t dots = 0;

        if (len < MIN_ENTROPIC_LEN || strncmp(w, "eyJ", 3) != 0)
                return 0;
        for (size_t i = 0; i < len; i++)
                dots += w[i] == '.';
        return dots == 2;
}

/*
 * Random keys mix upper case, lower case and digits and repeat few characters; paths
 * (with '/' or '.'), hex digests and UUIDs (one case only) and identifiers (few
 * digits) are left alone.  Counting distinct characters spares nono libm.
 */
static int is_entropic(const char *w, size_t len)
{
        unsigned char seen[256] = {0};
        size_t upper = 0, lower = 0, digits = 0, distinct = 0;

        if (len < MIN_ENTROPIC_LEN)
                return 0;
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)w[i];

                if (c == '/' || c == '.')
                        return 0;
                upper += c >= 'A' && c <= 'Z';
                lower += c >= 'a' && c <= 'z';
                digits += c >= '0' && c <= '9';
                distinct += !seen[c];
                seen[c] = 1;
        }
        return upper && lower && digits >= 2 && distinct * 2 >= len;
}

static int word_is_secret(const char *w, size_t len)
{
        return has_known_prefix(w, len) || is_jwt(w, len) || is_entropic(w, len);
}

/* "--api-key", "-token", "password": is this the name of something secret?  Checked
 * as a variable name ("_API_KEY"), so that the environment scrub's rules apply. */
static int name_is_secret(const char *name, size_t len)
{
        char buf[128];

        while (len && *name == '-') {
                name++;
                len--;
        }
        if (len == 0 || len + 1 >= sizeof(buf))
                return 0;
        buf[0] = '_';
        for (size_t i = 0; i < len; i++)
                buf[i + 1] = name[i] == '-' ? '_' : name[i];
        len++;
        if (env_risk_of(buf, len) == ENV_RISK_SECRET)
                return 1;
        return len >= 5 && strncasecmp(buf + len - 5, "_AUTH", 5) == 0;
}

/* An option or variable name before '=': "--token=", "OPENAI_API_KEY=". */
static size_t secret_assignment_name(const char *arg)
{
        const char *eq = strchr(arg, '=');
        size_t len = eq ? (size_t)(eq - arg) : 0;

        for (size_t i = 0; i < len; i++)
                if (!is_token_char(arg[i]) || arg[i] == '/' || arg[i] == '.')
                        return 0;
        return len && name_is_secret(arg, len) ? len : 0;
}

/* The password of scheme://user:password@host, as [start, end) into arg. */
static int url_password(const char *arg, size_t *start, size_t *end)
{
        const char *scheme = strstr(arg, "://");
        const char *auth, *colon, *at;

        if (!scheme)
                return 0;
        auth = scheme + 3;
        at = auth + strcspn(auth, "@/");
        if (*at != '@')
                return 0;
        colon = memchr(auth, ':', (size_t)(at - auth));
        if (!colon)
                return 0;
        *start = (size_t)(colon + 1 - arg);
        *end = (size_t)(at - arg);
        return *end > *start;
}

struct builder {
        char *buf;
        size_t len, cap;
};

static int append(struct builder *b, const char *s, size_t n)
{
        if (b->len + n + 1 > b->cap) {
                size_t cap = (b->len + n + 1) * 2;
                char *grown = realloc(b->buf, cap);

                if (!grown)
                        return -1;
                b->buf = grown;
                b->cap = cap;
        }
        memcpy(b->buf + b->len, s, n);
        b->len += n;
        b->buf[b->len] = '\0';
        return 0;
}

/* Copies `s`, replacing each secret-looking word with REDACTED. */
static int redact_words(struct builder *b, const char *s, size_t len)
{
        size_t i = 0;

        while (i < len) {
                size_t start = i;

                if (is_separator(s[i])) {
                        if (append(b, s + i, 1) < 0)
                                return -1;
                        i++;
                        continue;
                }
                while (i < len && !is_separator(s[i]))
                        i++;
                if (word_is_secret(s + start, i - start) ? append(b, REDACTED, strlen(REDACTED))
                                                         : append(b, s + start, i - start))
                        return -1;
        }
        return 0;
}

static int redact_into(struct builder *b, const char *arg, const char *prev)
{
        size_t name_len, start, end;

        /* "--token VALUE": the value is secret whatever it looks like. */
        if (prev && prev[0] == '-' && !strchr(prev, '=') && arg[0] != '-' &&
            name_is_secret(prev, strlen(prev)))
                return append(b, REDACTED, strlen(REDACTED));
        name_len = secret_assignment_name(arg);
        if (name_len)
                return append(b, arg, name_len + 1) || append(b, REDACTED, strlen(REDACTED));
        if (url_password(arg, &start, &end))
                return redact_words(b, arg, start) || append(b, REDACTED, strlen(REDACTED)) ||
                       redact_words(b, arg + end, strlen(arg + end));
        return redact_words(b, arg, strlen(arg));
}

char *redact_arg(const char *arg, const char *prev)
{
        struct builder b = {NULL, 0, 0};

        if (append(&b, "", 0) < 0 || redact_into(&b, arg, prev) != 0) {
                free(b.buf);
                return NULL;
        }
        return b.buf;
}

json_t *redact_argv_json(char *const *argv)
{
        json_t *a = json_array();

        for (size_t i = 0; a && argv && argv[i]; i++) {
                char *r = redact_arg(argv[i], i ? argv[i - 1] : NULL);
                json_t *s = r ? json_string(r) : NULL;

                /* Not valid UTF-8 (jansson refuses it): say so rather than drop it. */
                if (r && !s)
                        s = json_string("[not UTF-8]");
                if (!s || json_array_append_new(a, s) < 0) {
                        free(r);
                        json_decref(a);
                        return NULL;
                }
                free(r);
        }
        return a;
}
