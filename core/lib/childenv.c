/* SPDX-License-Identifier: Apache-2.0 */
#include "childenv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Exact names that make interpreters and shells load or run extra code. */
static const char *const injection_names[] = {
    "BASH_ENV",          "ENV",           "PROMPT_COMMAND",   "PYTHONSTARTUP", "PYTHONPATH",
    "PYTHONHOME",        "PYTHONINSPECT", "PYTHONUSERBASE",   "NODE_OPTIONS",  "NODE_PATH",
    "PERL5OPT",          "PERL5LIB",      "PERLLIB",          "RUBYOPT",       "RUBYLIB",
    "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "GCONV_PATH",    "GIT_EXEC_PATH",
};

/* Prefixes with the same effect: the dynamic loaders' and exported shell functions. */
static const char *const injection_prefixes[] = {"LD_", "DYLD_", "BASH_FUNC_"};

/* Names and name parts that say "credential". */
static const char *const secret_prefixes[] = {"AWS_", "OP_"};
static const char *const secret_suffixes[] = {"_KEY",    "_APIKEY", "_TOKEN",       "_PASSWORD",
                                              "_PASSWD", "_PASS",   "_CREDENTIALS", "_SECRET"};
static const char *const secret_infixes[] = {"SECRET", "API_KEY", "ACCESS_KEY", "PRIVATE_KEY"};
static const char *const secret_names[] = {"GITHUB_TOKEN", "GH_TOKEN", "PGPASSWORD",
                                           "GOOGLE_APPLICATION_CREDENTIALS", "SSH_AUTH_SOCK"};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static int name_is(const char *name, size_t len, const char *word)
{
        return strlen(word) == len && memcmp(name, word, len) == 0;
}

static int has_prefix(const char *name, size_t len, const char *prefix)
{
        size_t n = strlen(prefix);

        return len >= n && memcmp(name, prefix, n) == 0;
}

static int has_suffix(const char *name, size_t len, const char *suffix)
{
        size_t n = strlen(suffix);

        return len >= n && memcmp(name + len - n, suffix, n) == 0;
}

static int has_infix(const char *name, size_t len, const char *infix)
{
        size_t n = strlen(infix);

        for (size_t i = 0; i + n <= len; i++)
                if (memcmp(name + i, infix, n) == 0)
                        return 1;
        return 0;
}

static int matches_any(const char *name, size_t len, const char *const *words, size_t n,
                       int (*match)(const char *, size_t, const char *))
{
        for (size_t i = 0; i < n; i++)
                if (match(name, len, words[i]))
                        return 1;
        return 0;
}

static enum env_risk risk_of_upper(const char *name, size_t len);

/* Names are matched without regard to case: openai_api_key is as secret as
 * OPENAI_API_KEY. */
enum env_risk env_risk_of(const char *name, size_t len)
{
        char upper[256];

        if (len >= sizeof(upper))
                return risk_of_upper(name, len);
        for (size_t i = 0; i < len; i++)
                upper[i] =
                    (name[i] >= 'a' && name[i] <= 'z') ? (char)(name[i] - 'a' + 'A') : name[i];
        return risk_of_upper(upper, len);
}

static enum env_risk risk_of_upper(const char *name, size_t len)
{
        if (matches_any(name, len, injection_names, N_OF(injection_names), name_is) ||
            matches_any(name, len, injection_prefixes, N_OF(injection_prefixes), has_prefix))
                return ENV_RISK_INJECTION;
        if (matches_any(name, len, secret_names, N_OF(secret_names), name_is) ||
            matches_any(name, len, secret_prefixes, N_OF(secret_prefixes), has_prefix) ||
            matches_any(name, len, secret_suffixes, N_OF(secret_suffixes), has_suffix) ||
            matches_any(name, len, secret_infixes, N_OF(secret_infixes), has_infix))
                return ENV_RISK_SECRET;
        return ENV_RISK_NONE;
}

static size_t name_len(const char *entry)
{
        const char *eq = strchr(entry, '=');

        return eq ? (size_t)(eq - entry) : strlen(entry);
}

static int listed(const struct strv *names, const char *name, size_t len)
{
        for (size_t i = 0; i < names->n; i++)
                if (name_is(name, len, names->items[i]))
                        return 1;
        return 0;
}

/* set_vars entries are NAME=value: the name part decides. */
static int overridden(const struct strv *set, const char *name, size_t len)
{
        for (size_t i = 0; i < set->n; i++)
                if (name_len(set->items[i]) == len && memcmp(set->items[i], name, len) == 0)
                        return 1;
        return 0;
}

/* http_proxy=http://user:password@host: the proxy's credentials ride in the value. */
static int proxy_with_credentials(const char *entry, size_t len)
{
        static const char *const proxies[] = {"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
                                              "FTP_PROXY"};
        const char *value = entry + len + 1, *authority, *end;

        if (entry[len] != '=')
                return 0;
        for (size_t i = 0; i < N_OF(proxies); i++) {
                if (strlen(proxies[i]) != len || strncasecmp(entry, proxies[i], len) != 0)
                        continue;
                authority = strstr(value, "://");
                authority = authority ? authority + 3 : value;
                end = authority + strcspn(authority, "/?#");
                return memchr(authority, '@', (size_t)(end - authority)) != NULL;
        }
        return 0;
}

/* 1 keep, 0 drop silently (denied or overridden), -1 drop by default rule. */
static int verdict(const struct plan *p, const char *entry)
{
        size_t len = name_len(entry);

        if (listed(&p->env_deny, entry, len) || overridden(&p->env_set, entry, len))
                return 0;
        if (listed(&p->env_allow, entry, len))
                return 1;
        if (proxy_with_credentials(entry, len))
                return -1;
        return env_risk_of(entry, len) == ENV_RISK_NONE ? 1 : -1;
}

int childenv_build(const struct plan *p, char *const *environ_in, struct strv *ret,
                   struct strv *ret_removed)
{
        int r = 0;

        for (char *const *e = environ_in; e && *e && r >= 0; e++) {
                int v = verdict(p, *e);

                if (v > 0)
                        r = strv_push(ret, *e);
                else if (v < 0 && ret_removed)
                        r = strv_push_owned(ret_removed, strndup(*e, name_len(*e)));
        }
        for (size_t i = 0; i < p->env_set.n && r >= 0; i++)
                r = strv_push(ret, p->env_set.items[i]);
        /* Lets programs (and later `nono why --self`) know they are sandboxed. */
        if (r >= 0 && !overridden(&p->env_set, "NONO_SANDBOX", strlen("NONO_SANDBOX")))
                r = strv_push(ret, "NONO_SANDBOX=1");
        return r;
}
