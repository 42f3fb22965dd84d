/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The network mode of a run, carried out by a network plugin: `block` for
 * NONO_NETWORK_BLOCK, `filter-proxy` for NONO_NETWORK_PROXY, none for an unrestricted
 * network.  The plugin prepares in the parent (the proxy starts there), adds variables
 * to the child's environment and rules to the plan (the proxy's port), and sets the
 * child up before the enforcers apply (a private network namespace).
 */
#ifndef NONO_CORE_NETWORK_H
#define NONO_CORE_NETWORK_H

#include "loader.h"
#include "plan.h"
#include "strv.h"

struct network_session {
        struct plugin *plugin; /* NULL: unrestricted network, nothing to do */
        void *prepared;
};

/* Loads the plugin for the plan's mode (a missing plugin is an error: no silent
 * fallback to an open network). */
int network_load(struct plugin_registry *reg, const struct plan *p, struct network_session *ret);

/*
 * Parent: prepares the plugin, then adds the rules it asks the enforcer for (TCP ports)
 * to the plan.  Call before the enforcer prepares.
 */
int network_prepare(struct network_session *ns, struct plan *p);

/* Sets the plugin's variables in `env` (NAME=value entries, replacing a same name). */
int network_child_env(struct network_session *ns, struct strv *env);

/* Child, before the enforcers: async-signal-safe.  0 or a negative errno; the message
 * is in ns->plugin->error. */
int network_child_setup(struct network_session *ns);

/* Parent, after the run (also after a failed prepare). */
void network_release(struct network_session *ns);

#endif
