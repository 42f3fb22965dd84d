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

#endif
