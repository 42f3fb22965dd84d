/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The network part of a plan: the mode (unrestricted, blocked, filtering proxy), the
 * hosts the proxy lets through, the credential routes, ports and proxy settings, from
 * the profile (network.*) and the command line.  Network profiles (--network-profile)
 * and built-in credential services (--credential openai) are data in
 * profiles/network-policy.json.  Secrets are not touched here: routes carry only the
 * reference (env://OPENAI_API_KEY); the run resolves them just before the proxy starts.
 */
#ifndef NONO_CORE_NETPLAN_H
#define NONO_CORE_NETPLAN_H

#include <jansson.h>

#include "plan.h"
#include "profile.h"
#include "strv.h"

/* What the command line asked for (nono run flags). */
struct net_request {
        int block;                   /* --block-net */
        const char *network_profile; /* --network-profile */
        struct strv allow_domain;    /* --allow-domain */
        struct strv credentials;     /* --credential, --proxy-credential */
        struct strv allow_endpoint;  /* --allow-endpoint SERVICE:METHOD:/glob */
        struct strv open_port, listen_port, connect_port; /* decimal strings */
        const char *proxy_port;                           /* --proxy-port */
        const char *upstream_proxy;                       /* --upstream-proxy host:port */
        struct strv upstream_bypass;                      /* --upstream-bypass HOST */
};

void net_request_free(struct net_request *req);

/* Applies the profile's network settings that need the data file, then the flags. */
int netplan_apply(const struct net_request *req, const struct profile *prof, struct plan *p);

/* Adds a host the proxy lets through (a name, *.suffix or an IP address; no scheme,
 * port or path); `where` names its origin in messages.  -EINVAL for a bad host. */
int netplan_add_host(struct plan *p, const char *host, const char *where);

/*
 * Adds the credential route `service` ([a-z0-9_-]) from a definition shaped like a
 * profile's network.custom_credentials entry (upstream, credential_key, inject_mode,
 * inject_header, credential_format, env_var, base_url_var, endpoint_rules, tls_ca),
 * validated the same way; `origin` names it in messages.  -EEXIST for a second route
 * of the same service.
 */
int netplan_add_route(struct plan *p, const char *service, const json_t *def, const char *origin);

#endif
