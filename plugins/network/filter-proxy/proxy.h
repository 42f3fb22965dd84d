/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The filtering proxy engine of the network plugin "filter-proxy" (docs/proxy.md).
 *
 * The plugin glue forks a process outside the sandbox, creates the engine there with
 * proxy_new(), hands it the listening socket(s) and blocks in proxy_run() until its
 * stop fd becomes readable or hangs up.  The engine copies what it needs from the
 * settings (secrets into host secret memory), so the plan may go away after proxy_new.
 * Errors are negative errno values with a message through host->set_error.
 */
#ifndef NONO_FILTER_PROXY_H
#define NONO_FILTER_PROXY_H

#include <nono/plan.h>
#include <nono/plugin.h>

struct proxy;

struct proxy_settings {
        const struct nono_host *host; /* log, audit_event, alloc, secret memory */
        /* allowed_hosts, routes (with real secrets), upstream_proxy, upstream_bypass,
         * session_id.  tcp_connect_ports is the glue's business. */
        const struct nono_plan *plan;
        const char *token;           /* the per-session proxy token (hex) */
        const char *const *phantoms; /* phantoms[i]: phantom token of plan->routes[i] */
};

int proxy_new(const struct proxy_settings *s, struct proxy **ret);
/* Serves `listen_fd`, an already listening TCP socket; the proxy owns it from then on. */
int proxy_add_listener(struct proxy *p, int listen_fd);
/* The event loop; returns 0 when stop_fd becomes readable or hangs up.  Ignores SIGPIPE. */
int proxy_run(struct proxy *p, int stop_fd);
void proxy_free(struct proxy *p);

#endif
