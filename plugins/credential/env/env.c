/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The env credential source: `env://OPENAI_API_KEY` is the value of that variable in
 * nono's own environment, read in the parent before the sandbox starts.  A reference
 * that is not a variable name ([A-Za-z_][A-Za-z0-9_]*), an unset variable and an empty
 * one are declined, so a bare name falls through to the next source.  Read-only: no
 * store, remove or list (listing would show every variable, secret or not).
 */
#include <nono/credential.h>
#include <nono/plugin.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct env_state {
        const struct nono_host *host;
};

static int env_init(const struct nono_host *host, void **ret_state)
{
        struct env_state *st = host->alloc(host->ctx, sizeof(*st));

        if (!st) {
                host->set_error(host->ctx, "out of memory");
                return -ENOMEM;
        }
        st->host = host;
        *ret_state = st;
        return 0;
}

static void env_fini(void *state)
{
        struct env_state *st = state;

        if (st)
                st->host->free(st->host->ctx, st);
}

#define NAME_START "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_"

static int is_variable_name(const char *s)
{
        return *s && strchr(NAME_START, *s) && s[strspn(s, NAME_START "0123456789")] == '\0';
}

static int env_lookup(void *state, const char *ref, char **ret_secret, size_t *ret_len)
{
        const struct env_state *st = state;
        const char *value;
        size_t len;
        char *secret;

        if (!is_variable_name(ref))
                return NONO_DECLINED;
        value = getenv(ref);
        if (!value || !*value)
                return NONO_DECLINED;
        len = strlen(value);
        secret = st->host->secret_alloc(st->host->ctx, len + 1);
        if (!secret) {
                st->host->set_error(st->host->ctx, "cannot allocate secret memory");
                return -ENOMEM;
        }
        memcpy(secret, value, len + 1);
        *ret_secret = secret;
        *ret_len = len;
        return 0;
}

static const struct nono_credential_ops ops = {
    .size = sizeof(struct nono_credential_ops),
    .lookup = env_lookup,
};

NONO_PLUGIN_DEFINE(env, NONO_PLUGIN_CREDENTIAL, "env", "0.1.0",
                   "credentials from nono's environment (env://VARIABLE)", env_init, env_fini, &ops)
