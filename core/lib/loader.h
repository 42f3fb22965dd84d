/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The plugin loader: finds nono-<kind>-<name>.so in the plugin directory, checks it
 * (ownership and mode, magic, ABI version, descriptor size, kind, flags, name,
 * mandatory methods, duplicates), and initialises it with its own struct nono_host.
 * Plugins are loaded RTLD_NOW | RTLD_LOCAL and never unloaded.  Every refusal has its
 * own message naming the file (and both versions where versions differ).
 */
#ifndef NONO_CORE_LOADER_H
#define NONO_CORE_LOADER_H

#include <nono/credential.h>
#include <nono/enforcer.h>
#include <nono/network.h>
#include <nono/plugin.h>
#include <nono/policy.h>
#include <nono/store.h>
#include <stdio.h>

#include "config.h"
#include "host.h"

#define PLUGIN_ERROR_MAX 512

struct plugin {
        char *path;                   /* NULL for built-in plugins */
        struct nono_plugin_desc desc; /* zero-extended copy */
        char *name;
        uint32_t kind;
        void *state; /* from init */
        struct nono_host host;
        const config_setting_t *config;
        /* The ops table copied into a zeroed struct of the host's size. */
        union {
                struct nono_enforcer_ops enforcer;
                struct nono_network_ops network;
                struct nono_credential_ops credential;
                struct nono_store_ops store;
                struct nono_policy_ops policy;
        } ops;
        /* Last message from host->set_error; preallocated so the child can use it. */
        char error[PLUGIN_ERROR_MAX];
        /* This plugin's own audit sink (host_set_plugin_audit_sink); NULL: the global one. */
        host_audit_sink_fn audit_sink;
        void *audit_userdata;
        struct plugin *next;
};

struct plugin_registry {
        const char *dir;
        const struct host_config *config;
        struct plugin *head;
};

/*
 * `dir` NULL: the config's plugin_dir, else the layout's.  `config` may be NULL (no
 * plugin sections); both must outlive the registry.
 */
void plugin_registry_init(struct plugin_registry *r, const char *dir,
                          const struct host_config *config);
/* Calls fini on every plugin (never dlclose). */
void plugin_registry_free(struct plugin_registry *r);

/* "enforcer" -> NONO_PLUGIN_ENFORCER; 0 if unknown. */
uint32_t plugin_kind_from_name(const char *kind);
/* NONO_PLUGIN_ENFORCER -> "enforcer"; NULL if unknown. */
const char *plugin_kind_name(uint32_t kind);

/*
 * Loads one file (its own directory is checked like the plugin directory); *ret points
 * into the registry.  Loading the same path again returns the plugin already loaded.
 * `ret` may be NULL here and below.  Messages: "cannot load plugin FILE: <reason>".
 */
int plugin_load_file(struct plugin_registry *r, const char *path, struct plugin **ret);
/* Loads dir/nono-<kind>-<name>.so (or returns the already-loaded one). */
int plugin_load(struct plugin_registry *r, uint32_t kind, const char *name, struct plugin **ret);
/*
 * Loads every nono-*.so of the directory, in name order.  Refusals are reported through
 * `on_error` (file, reason without the file name) and loading goes on; returns the
 * number refused, or a negative errno when the directory itself is unusable.
 */
int plugin_load_all(struct plugin_registry *r,
                    void (*on_error)(const char *file, const char *msg, void *userdata),
                    void *userdata);

/* Registers a statically linked plugin (tests, single-binary builds). */
int plugin_register_builtin(struct plugin_registry *r, const struct nono_plugin_desc *desc,
                            struct plugin **ret);

/* The message a plugin set with host->set_error, or a generic one for `err`. */
const char *plugin_error(const struct plugin *pl, int err);

#endif
