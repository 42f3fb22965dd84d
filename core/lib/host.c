/* SPDX-License-Identifier: Apache-2.0 */
#include "host.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "error.h"
#include "loader.h"

/* ---- logging and errors ----------------------------------------------------------- */

static void log_at(int level, const char *prefix, const char *fmt, ...) NONO_PRINTF(3, 4);
static void log_at(int level, const char *prefix, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        nono_vlog(level, prefix, fmt, ap);
        va_end(ap);
}

static void svc_log(void *ctx, int level, const char *fmt, ...) NONO_PRINTF(3, 4);
static void svc_log(void *ctx, int level, const char *fmt, ...)
{
        const struct plugin *pl = ctx;
        va_list ap;

        va_start(ap, fmt);
        nono_vlog(level, pl->name, fmt, ap);
        va_end(ap);
}

/*
 * Also called in the forked child (enforcer apply, network child_setup), where another
 * thread of the parent may have held the malloc lock at fork time: it formats into
 * the buffer preallocated in struct plugin and never allocates.
 */
static void svc_set_error(void *ctx, const char *fmt, ...) NONO_PRINTF(2, 3);
static void svc_set_error(void *ctx, const char *fmt, ...)
{
        struct plugin *pl = ctx;
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(pl->error, sizeof(pl->error), fmt, ap);
        va_end(ap);
}

/* ---- memory ----------------------------------------------------------------------- */

static void *svc_alloc(void *ctx, size_t size)
{
        return malloc(size);
}

static void svc_free(void *ctx, void *ptr)
{
        free(ptr);
}

/* In front of every secret block: the mapping's length, padded so that the secret
 * itself is aligned for any type. */
union secret_header {
        size_t map_len;
        max_align_t align;
};

static void warn_unlocked(int err)
{
        static int warned;

        if (warned)
                return;
        warned = 1;
        nono_warn("cannot lock secret memory into RAM (%s): secrets may reach swap", strerror(err));
}

void *host_secret_alloc(size_t size)
{
        size_t page = (size_t)sysconf(_SC_PAGESIZE);
        union secret_header *h;
        size_t len;

        if (size > SIZE_MAX - sizeof(*h) - page)
                return NULL;
        /* Whole pages of their own: mlock and madvise work on pages, and no unrelated
         * heap data shares them. */
        len = (sizeof(*h) + size + page - 1) & ~(page - 1);
        h = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (h == MAP_FAILED)
                return NULL;
        /* RLIMIT_MEMLOCK is small in many containers; a secret that may be swapped out
         * is still better than no credential at all. */
        if (mlock(h, len) < 0)
                warn_unlocked(errno);
        madvise(h, len, MADV_DONTDUMP);
        h->map_len = len;
        return h + 1;
}

void host_secret_free(void *ptr)
{
        union secret_header *h;
        size_t len;

        if (!ptr)
                return;
        h = (union secret_header *)ptr - 1;
        len = h->map_len;
        /* explicit_bzero: a plain memset before munmap may be optimised away. */
        explicit_bzero(h, len);
        munmap(h, len);
}

static void *svc_secret_alloc(void *ctx, size_t size)
{
        return host_secret_alloc(size);
}

static void svc_secret_free(void *ctx, void *ptr)
{
        host_secret_free(ptr);
}

/* ---- audit ------------------------------------------------------------------------ */

/* Debug level only: event fields name hosts and paths the user did not ask to see. */
static int log_audit_event(const char *plugin, const char *type, const char *json_fields,
                           void *userdata)
{
        log_at(NONO_LOG_DEBUG, plugin, "audit %s %s", type, json_fields);
        return 0;
}

static host_audit_sink_fn audit_sink = log_audit_event;
static void *audit_userdata;

void host_set_audit_sink(host_audit_sink_fn fn, void *userdata)
{
        audit_sink = fn ? fn : log_audit_event;
        audit_userdata = fn ? userdata : NULL;
}

void host_set_plugin_audit_sink(struct plugin *pl, host_audit_sink_fn fn, void *userdata)
{
        pl->audit_sink = fn;
        pl->audit_userdata = fn ? userdata : NULL;
}

/* A dotted name such as "proxy.decision". */
static int is_event_type(const char *type)
{
        if (!type || !*type)
                return 0;
        return strspn(type, "abcdefghijklmnopqrstuvwxyz0123456789._-") == strlen(type);
}

static int is_json_object(const char *text)
{
        json_error_t err;
        json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &err);
        int ok = json_is_object(j);

        json_decref(j);
        return ok;
}

static int svc_audit_event(void *ctx, const char *type, const char *json_fields)
{
        const struct plugin *pl = ctx;

        if (!is_event_type(type) || !json_fields || !is_json_object(json_fields))
                return -EINVAL;
        if (pl->audit_sink)
                return pl->audit_sink(pl->name, type, json_fields, pl->audit_userdata);
        return audit_sink(pl->name, type, json_fields, audit_userdata);
}

/* ---- configuration ---------------------------------------------------------------- */

static config_setting_t *lookup(const struct plugin *pl, const char *key)
{
        if (!pl->config || !key)
                return NULL;
        /* libconfig's lookup only reads the tree; its prototype just lacks the const. */
        return config_setting_lookup((config_setting_t *)pl->config, key);
}

static const char *svc_config_string(void *ctx, const char *key)
{
        const config_setting_t *s = lookup(ctx, key);

        return s ? config_setting_get_string(s) : NULL;
}

static int svc_config_int(void *ctx, const char *key, long long *ret_value)
{
        const config_setting_t *s = lookup(ctx, key);

        if (!s)
                return -ENOENT;
        if (config_setting_type(s) != CONFIG_TYPE_INT &&
            config_setting_type(s) != CONFIG_TYPE_INT64)
                return -EINVAL;
        *ret_value = config_setting_get_int64(s);
        return 0;
}

void host_bind(struct plugin *pl)
{
        pl->host = (struct nono_host){
            .size = sizeof(struct nono_host),
            .abi_major = NONO_PLUGIN_ABI_MAJOR,
            .abi_minor = NONO_PLUGIN_ABI_MINOR,
            .ctx = pl,
            .log = svc_log,
            .set_error = svc_set_error,
            .alloc = svc_alloc,
            .free = svc_free,
            .secret_alloc = svc_secret_alloc,
            .secret_free = svc_secret_free,
            .audit_event = svc_audit_event,
            .config_string = svc_config_string,
            .config_int = svc_config_int,
        };
}
