/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The services the host hands each plugin (struct nono_host, see <nono/plugin.h>), and
 * the parts of them the core uses directly: secret memory and the audit sink.
 */
#ifndef NONO_CORE_HOST_H
#define NONO_CORE_HOST_H

#include <stddef.h>

struct plugin;

/* Fills pl->host for pl (ctx = pl); pl->name and pl->config must already be set. */
void host_bind(struct plugin *pl);

/*
 * Receives every audit event a plugin emits, after the host has checked that
 * `json_fields` is a JSON object.  The return value (0 or a negative errno) is what
 * the plugin's audit_event call returns.
 */
typedef int (*host_audit_sink_fn)(const char *plugin, const char *type, const char *json_fields,
                                  void *userdata);
/* NULL restores the default sink, which logs events at NONO_LOG_DEBUG only. */
void host_set_audit_sink(host_audit_sink_fn fn, void *userdata);
/*
 * Sends pl's events to `fn` instead of the global sink (NULL: back to the global one).
 * For a plugin that works in a process of its own (the filter proxy): the sink is
 * copied into that process when it forks, so a sink writing to an inherited
 * descriptor carries the events back to the caller (see auditchan.h).
 */
void host_set_plugin_audit_sink(struct plugin *pl, host_audit_sink_fn fn, void *userdata);

/*
 * Secret memory, the same the plugins get: zeroed, locked into RAM (a warning when the
 * lock fails), excluded from core dumps, wiped on free.
 * The core frees with host_secret_free what a credential plugin returns.
 */
void *host_secret_alloc(size_t size);
void host_secret_free(void *ptr);

#endif
