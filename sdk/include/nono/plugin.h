/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nono plugin ABI, version 1 — the part shared by every plugin kind.
 *
 * A plugin is a shared object named nono-<kind>-<name>.so that exports exactly one
 * symbol, nono_plugin_query(), returning a descriptor.  The host checks the
 * descriptor (magic, ABI version, size, kind, flags, name, mandatory methods) before it
 * calls anything else.  Rules that keep old plugins loading in new hosts:
 *
 *   - the first four descriptor fields never move;
 *   - structs crossing the boundary start with their own `size` and only grow by
 *     appending fields; the host copies min(size, sizeof) into a zeroed struct;
 *   - a host accepts a plugin whose ABI major equals its own and whose minor is not
 *     newer than its own.
 *
 * Return values of plugin methods: 0 success, NONO_DECLINED "not mine, ask the next
 * plugin", a negative errno on failure (with a message through host->set_error).
 * Plugins never print, exit or abort.
 */
#ifndef NONO_PLUGIN_H
#define NONO_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NONO_PLUGIN_MAGIC     0x4e4f4e4fu /* "NONO" */
#define NONO_PLUGIN_ABI_MAJOR 1
#define NONO_PLUGIN_ABI_MINOR 0

/* Positive: the plugin does not handle this request; the host asks the next one. */
#define NONO_DECLINED 1

enum nono_plugin_kind {
        NONO_PLUGIN_ENFORCER = 1,
        NONO_PLUGIN_NETWORK = 2,
        NONO_PLUGIN_CREDENTIAL = 3,
        NONO_PLUGIN_STORE = 4,
        NONO_PLUGIN_POLICY = 5,
};

/* Descriptor flags.  A bit the host does not know makes it refuse the plugin. */
#define NONO_PLUGIN_FLAG_REQUIRED (1u << 0) /* failure to load fails every run */
#define NONO_PLUGIN_FLAGS_KNOWN   (NONO_PLUGIN_FLAG_REQUIRED)

enum nono_log_level {
        NONO_LOG_ERROR = 0,
        NONO_LOG_WARNING = 1,
        NONO_LOG_INFO = 2,
        NONO_LOG_DEBUG = 3,
};

#if defined(__GNUC__)
#define NONO_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define NONO_PRINTF(fmt, args)
#endif

/*
 * Services the host hands to each plugin at init.  `ctx` identifies the plugin to
 * the host and is passed back on every call.  All functions are safe to call from
 * the parent process; in the sandboxed child (enforcer apply, network child_setup)
 * only set_error may be used: it formats into preallocated memory.
 */
struct nono_host {
        uint32_t size;
        uint16_t abi_major;
        uint16_t abi_minor;
        void *ctx;

        void (*log)(void *ctx, int level, const char *fmt, ...) NONO_PRINTF(3, 4);
        /* Records the message that explains the negative errno about to be returned. */
        void (*set_error)(void *ctx, const char *fmt, ...) NONO_PRINTF(2, 3);

        /* Ordinary memory; NULL on failure. */
        void *(*alloc)(void *ctx, size_t size);
        void (*free)(void *ctx, void *ptr);

        /*
         * Secret memory: zeroed, locked into RAM, excluded from core dumps, wiped on
         * free.  Use it for every credential a plugin handles.
         */
        void *(*secret_alloc)(void *ctx, size_t size);
        void (*secret_free)(void *ctx, void *ptr);

        /*
         * Emits an audit event.  `type` is a dotted name ("proxy.decision"),
         * `json_fields` a JSON object text with the event's fields.  Never put a
         * secret in it.  Returns 0 or a negative errno.
         */
        int (*audit_event)(void *ctx, const char *type, const char *json_fields);

        /*
         * The plugin's own configuration section in nono.conf
         * (plugins: { <name>: { ... } }).  `key` is a libconfig path inside it.
         * config_string returns NULL when the key is absent; the string belongs to
         * the host and lives as long as the plugin.  config_int returns 0 and stores
         * the value, or -ENOENT / -EINVAL.
         */
        const char *(*config_string)(void *ctx, const char *key);
        int (*config_int)(void *ctx, const char *key, long long *ret_value);
};

struct nono_plugin_desc {
        /* Fixed for every ABI version. */
        uint32_t magic;
        uint16_t abi_major;
        uint16_t abi_minor;
        uint32_t size;

        uint32_t kind;           /* enum nono_plugin_kind */
        uint32_t flags;          /* NONO_PLUGIN_FLAG_* */
        const char *name;        /* [a-z0-9-]+, matches the file name */
        const char *version;     /* the plugin's own version, free text */
        const char *description; /* one line */

        /*
         * init: called once after the checks; returns 0 and the plugin's state in
         * *ret_state, or a negative errno.  fini: called at host shutdown.
         * Both optional.
         */
        int (*init)(const struct nono_host *host, void **ret_state);
        void (*fini)(void *state);

        /* The per-kind operations table (struct nono_<kind>_ops), never NULL. */
        const void *ops;
};

typedef const struct nono_plugin_desc *(*nono_plugin_query_fn)(void);

#define NONO_PLUGIN_QUERY_SYMBOL "nono_plugin_query"

#if defined(__GNUC__)
#define NONO_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define NONO_PLUGIN_EXPORT
#endif

/*
 * NONO_PLUGIN_DEFINE(id, kind, name, version, description, init, fini, ops) writes
 * the descriptor and its query function.  `id` is a C identifier for the plugin; it
 * names the query function when the plugin is linked into the host statically
 * (built with -DNONO_PLUGIN_BUILTIN): nono_plugin_query_<id>.
 */
#define NONO_PLUGIN_DESC_INIT_(kind_, flags_, name_, version_, description_, init_, fini_, ops_)   \
        {                                                                                          \
                NONO_PLUGIN_MAGIC, NONO_PLUGIN_ABI_MAJOR, NONO_PLUGIN_ABI_MINOR,                   \
                    (uint32_t)sizeof(struct nono_plugin_desc), (kind_), (flags_), (name_),         \
                    (version_), (description_), (init_), (fini_), (ops_)                           \
        }

#ifdef NONO_PLUGIN_BUILTIN
#define NONO_PLUGIN_QUERY_NAME_(id) nono_plugin_query_##id
#define NONO_PLUGIN_LINKAGE_
#else
#define NONO_PLUGIN_QUERY_NAME_(id) nono_plugin_query
#define NONO_PLUGIN_LINKAGE_        NONO_PLUGIN_EXPORT
#endif

#define NONO_PLUGIN_DEFINE_FLAGS(id, kind, flags, name, version, description, init, fini, ops)     \
        static const struct nono_plugin_desc nono_plugin_desc_##id =                               \
            NONO_PLUGIN_DESC_INIT_(kind, flags, name, version, description, init, fini, ops);      \
        NONO_PLUGIN_LINKAGE_ const struct nono_plugin_desc *NONO_PLUGIN_QUERY_NAME_(id)(void);     \
        NONO_PLUGIN_LINKAGE_ const struct nono_plugin_desc *NONO_PLUGIN_QUERY_NAME_(id)(void)      \
        {                                                                                          \
                return &nono_plugin_desc_##id;                                                     \
        }

#define NONO_PLUGIN_DEFINE(id, kind, name, version, description, init, fini, ops)                  \
        NONO_PLUGIN_DEFINE_FLAGS(id, kind, 0u, name, version, description, init, fini, ops)

#ifdef __cplusplus
}
#endif

#endif /* NONO_PLUGIN_H */
