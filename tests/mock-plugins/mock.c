/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One source for every mock plugin of the loader tests.  Each mock is this file built
 * with a few -D switches (see meson.build): the defaults make a well-formed plugin,
 * each switch breaks exactly one thing.
 *
 *   MOCK_FILE_NAME  the <name> of nono-<kind>-<name>.so (always given)
 *   MOCK_NAME       the descriptor's name, when it must differ from the file's
 *   MOCK_KIND       1 enforcer (default, also for unknown kinds), 2 network,
 *                   3 credential, 4 store, 5 policy
 *   MOCK_FLAGS, MOCK_VERSION
 *   raw descriptor: MOCK_MAGIC, MOCK_ABI_MAJOR, MOCK_ABI_MINOR, MOCK_DESC_SIZE,
 *                   MOCK_NULL_DESC (the query returns NULL)
 *   MOCK_NULL_OPS, MOCK_OPS_SIZE (enforcer), MOCK_NO_APPLY, MOCK_INIT_FAILS
 *
 * Built with -DNONO_PLUGIN_BUILTIN the query function gets its built-in name and the
 * object exports no nono_plugin_query at all.
 */
#include <errno.h>
#include <nono/credential.h>
#include <nono/enforcer.h>
#include <nono/network.h>
#include <nono/policy.h>
#include <nono/store.h>
#include <stdio.h>
#include <string.h>

#ifndef MOCK_NAME
#define MOCK_NAME MOCK_FILE_NAME
#endif
#ifndef MOCK_KIND
#define MOCK_KIND 1
#endif
#ifndef MOCK_FLAGS
#define MOCK_FLAGS 0u
#endif
#ifndef MOCK_VERSION
#define MOCK_VERSION "1.0-mock"
#endif

struct mock_state {
        const struct nono_host *host;
};

static int mock_init(const struct nono_host *host, void **ret_state)
{
#ifdef MOCK_INIT_FAILS
        host->set_error(host->ctx, "mock init failed: no %s here", "backend");
        return -EIO;
#else
        struct mock_state *s = host->alloc(host->ctx, sizeof(*s));

        if (!s)
                return -ENOMEM;
        s->host = host;
        *ret_state = s;
        return 0;
#endif
}

/* Tells the test that fini ran, through the host's audit sink. */
static void mock_fini(void *state)
{
        struct mock_state *s = state;

        s->host->audit_event(s->host->ctx, "mock.fini", "{\"name\": \"" MOCK_NAME "\"}");
        s->host->free(s->host->ctx, s);
}

#if MOCK_KIND != 3 && MOCK_KIND != 4 && MOCK_KIND != 5 /* enforcer and network */

static int mock_prepare(void *state, const struct nono_plan *plan, void **ret_prepared)
{
        *ret_prepared = NULL;
        return 0;
}

static void mock_release(void *state, void *prepared)
{
}

#endif

#if MOCK_KIND == 2

static const struct nono_network_ops mock_ops = {
    .size = sizeof(struct nono_network_ops),
    .prepare = mock_prepare,
    .release = mock_release,
};

#elif MOCK_KIND == 3

#define MOCK_SECRET "mock-secret"

static int mock_lookup(void *state, const char *ref, char **ret_secret, size_t *ret_len)
{
        struct mock_state *s = state;

        if (strcmp(ref, "mock-key") != 0)
                return NONO_DECLINED;
        *ret_secret = s->host->secret_alloc(s->host->ctx, sizeof(MOCK_SECRET));
        if (!*ret_secret)
                return -ENOMEM;
        memcpy(*ret_secret, MOCK_SECRET, sizeof(MOCK_SECRET));
        *ret_len = sizeof(MOCK_SECRET) - 1;
        return 0;
}

static const struct nono_credential_ops mock_ops = {
    .size = sizeof(struct nono_credential_ops),
    .lookup = mock_lookup,
};

#elif MOCK_KIND == 4

static int mock_open(void *state, const char *location, void **ret_store)
{
        return -ENOSYS;
}

static int mock_put(void *state, void *store, const struct nono_digest *digest, const void *data,
                    size_t len)
{
        return -ENOSYS;
}

static int mock_get(void *state, void *store, const struct nono_digest *digest, void **ret_data,
                    size_t *ret_len)
{
        return -ENOSYS;
}

static int mock_exists(void *state, void *store, const struct nono_digest *digest)
{
        return -ENOSYS;
}

static void mock_close(void *state, void *store)
{
}

static int mock_ref_set(void *state, void *store, const char *name,
                        const struct nono_digest *digest)
{
        return -ENOSYS;
}

static int mock_ref_get(void *state, void *store, const char *name, struct nono_digest *ret_digest)
{
        return -ENOSYS;
}

static const struct nono_store_ops mock_ops = {
    .size = sizeof(struct nono_store_ops),
    .open = mock_open,
    .put = mock_put,
    .get = mock_get,
    .exists = mock_exists,
    .close = mock_close,
    .ref_set = mock_ref_set,
    .ref_get = mock_ref_get,
};

#elif MOCK_KIND == 5

static int mock_review(void *state, const struct nono_plan *plan,
                       const struct nono_plan_editor *editor)
{
        return NONO_POLICY_OK;
}

static const struct nono_policy_ops mock_ops = {
    .size = sizeof(struct nono_policy_ops),
    .review = mock_review,
};

#else

#ifndef MOCK_OPS_SIZE
#define MOCK_OPS_SIZE sizeof(struct nono_enforcer_ops)
#endif

/* Reports what the plugin's nono.conf section says, so the test can check it. */
static int mock_probe(void *state, struct nono_enforcer_info *ret_info)
{
        struct mock_state *s = state;
        const char *summary = s->host->config_string(s->host->ctx, "summary");
        long long abi = 0;

        s->host->config_int(s->host->ctx, "abi", &abi);
        ret_info->abi = (uint32_t)abi;
        snprintf(ret_info->summary, sizeof(ret_info->summary), "%s", summary ? summary : "mock");
        return 0;
}

#ifndef MOCK_NO_APPLY
static int mock_apply(void *state, void *prepared)
{
        struct mock_state *s = state;

        s->host->set_error(s->host->ctx, "mock apply refused");
        return -EPERM;
}
#endif

static const struct nono_enforcer_ops mock_ops = {
    .size = MOCK_OPS_SIZE,
    .probe = mock_probe,
    .prepare = mock_prepare,
#ifndef MOCK_NO_APPLY
    .apply = mock_apply,
#endif
    .release = mock_release,
};

#endif

#ifdef MOCK_NULL_OPS
/* Still mentions the table, so that it does not count as unused. */
#define MOCK_OPS (0 ? (const void *)&mock_ops : NULL)
#else
#define MOCK_OPS (&mock_ops)
#endif

#if defined(MOCK_MAGIC) || defined(MOCK_ABI_MAJOR) || defined(MOCK_ABI_MINOR) ||                   \
    defined(MOCK_DESC_SIZE) || defined(MOCK_NULL_DESC)

/* The descriptor by hand, followed by fields a future ABI might append. */
struct mock_desc {
        struct nono_plugin_desc desc;
        uint64_t future[4];
};

#ifndef MOCK_MAGIC
#define MOCK_MAGIC NONO_PLUGIN_MAGIC
#endif
#ifndef MOCK_ABI_MAJOR
#define MOCK_ABI_MAJOR NONO_PLUGIN_ABI_MAJOR
#endif
#ifndef MOCK_ABI_MINOR
#define MOCK_ABI_MINOR NONO_PLUGIN_ABI_MINOR
#endif
#ifndef MOCK_DESC_SIZE
#define MOCK_DESC_SIZE sizeof(struct nono_plugin_desc)
#endif
/* What a plugin built against ABI 1.0 says. */
#define MOCK_DESC_V1_0_SIZE (offsetof(struct nono_plugin_desc, ops) + sizeof(void *))

#ifdef MOCK_NULL_DESC
#define MOCK_QUERY_RESULT(d) ((void)(d), (const struct nono_plugin_desc *)NULL)
#else
#define MOCK_QUERY_RESULT(d) (d)
#endif

static const struct mock_desc mock_desc = {
    .desc =
        {
            .magic = MOCK_MAGIC,
            .abi_major = MOCK_ABI_MAJOR,
            .abi_minor = MOCK_ABI_MINOR,
            .size = (uint32_t)(MOCK_DESC_SIZE),
            .kind = MOCK_KIND,
            .flags = MOCK_FLAGS,
            .name = MOCK_NAME,
            .version = MOCK_VERSION,
            .description = "mock plugin with a hand-made descriptor",
            .init = mock_init,
            .fini = mock_fini,
            .ops = MOCK_OPS,
        },
    .future = {1, 2, 3, 4},
};

NONO_PLUGIN_EXPORT const struct nono_plugin_desc *nono_plugin_query(void);
NONO_PLUGIN_EXPORT const struct nono_plugin_desc *nono_plugin_query(void)
{
        return MOCK_QUERY_RESULT(&mock_desc.desc);
}

#else

NONO_PLUGIN_DEFINE_FLAGS(mock, MOCK_KIND, MOCK_FLAGS, MOCK_NAME, MOCK_VERSION,
                         "mock plugin for the loader tests", mock_init, mock_fini, MOCK_OPS)

#endif
