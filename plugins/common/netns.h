/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A private network namespace for the sandboxed child (DESIGN.md §5): only a loopback
 * interface, so no address of the host or the outside exists for it — UDP, DNS and
 * every IP included.  The network plugins enter it in their child_setup, before the
 * enforcers apply; everything here runs in the child and is async-signal-safe.
 */
#ifndef NONO_PLUGINS_NETNS_H
#define NONO_PLUGINS_NETNS_H

#include <stdbool.h>
#include <stdint.h>

#include <nono/plan.h>
#include <nono/plugin.h>

#include "userns.h"

/*
 * The state of a network plugin that may use a namespace: the host, and the knob
 * (nono.conf, plugins = { <name> = { network_namespace = 0; }; }): 1, the default,
 * uses one where the machine allows; 0 never does.
 */
struct netns_plugin_state {
        const struct nono_host *host;
        bool use_netns;
};

/* The plugin's init and fini (the state above). */
int netns_plugin_init(const struct nono_host *host, void **ret_state);
void netns_plugin_fini(void *state);

/*
 * Whether a run should get a namespace: not when the knob says no, when there is no
 * child (`nono proxy`), or when the plan opens TCP ports to the host's own services or
 * to the host (--allow-connect-port, --listen-port, --open-port), which would not exist
 * inside a namespace: such a plan keeps the host's network stack, held by the
 * enforcer's port rules and socket filter.
 */
bool netns_wanted(const struct netns_plugin_state *st, const struct nono_plan *plan);

/* What the parent decides before the fork. */
struct netns_plan {
        bool with_userns; /* not privileged: make a user namespace first */
        struct userns_maps maps;
};

/*
 * Parent: whether this process can make a network namespace (CAP_SYS_ADMIN, or
 * unprivileged user namespaces allowed by the kernel's knobs), and the plan for the
 * child.  Returns 0, or -EPERM with a reason in `why` (size `len`).
 */
int netns_plan_for_self(struct netns_plan *plan, char *why, unsigned len);

/*
 * Child: enters a new network namespace (and user namespace) and brings loopback up.
 * 0, or a negative errno with *ret_step naming what failed.
 */
int netns_enter(const struct netns_plan *plan, const char **ret_step);

/* Child: a TCP socket listening on 127.0.0.1:port; 0 and *ret_fd, or a negative errno. */
int netns_listen_loopback(uint16_t port, int *ret_fd);

/* Passes `fd` over the Unix socket `sock` (SCM_RIGHTS).  0 or a negative errno. */
int netns_send_fd(int sock, int fd);

/* Receives a descriptor sent by netns_send_fd; 0 and *ret_fd, or a negative errno
 * (-ECONNRESET when the peer closed without sending). */
int netns_recv_fd(int sock, int *ret_fd);

#endif
