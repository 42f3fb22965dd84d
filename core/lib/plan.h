/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The plan: everything `nono run` will enforce, resolved once in the parent before
 * anything is applied.  Grants and denies hold resolved absolute paths.  The public,
 * read-only view handed to plugins is plan->view (see <nono/plan.h>), refreshed by
 * plan_view().
 */
#ifndef NONO_CORE_PLAN_H
#define NONO_CORE_PLAN_H

#include <jansson.h>
#include <nono/plan.h>
#include <stdint.h>
#include <stdio.h>

#include "reslimits.h"
#include "strv.h"

/* A credential route (--credential): the view plugins get, plus what the core keeps. */
struct plan_route {
        struct nono_credential_route view; /* strings point into the fields below */
        char *service, *upstream, *inject_header, *credential_format;
        char *env_var, *base_url_var, *tls_ca;
        char *credential_key; /* the reference: env://OPENAI_API_KEY, a bare name... */
        struct strv endpoint_rules;
        char *secret; /* host secret memory once resolved; never printed */
        size_t secret_len;
};

struct plan {
        struct nono_plan view;

        struct nono_grant **grants;
        size_t n_grants, cap_grants;
        struct nono_deny **denies;
        size_t n_denies, cap_denies;

        uint32_t flags;
        uint32_t network_mode;
        int network_mode_set; /* a profile or flag chose the mode explicitly */
        uint16_t *connect_ports;
        size_t n_connect_ports;
        uint16_t *bind_ports;
        size_t n_bind_ports;
        struct strv allowed_hosts;

        /* Environment rules (applied by the supervisor). */
        struct strv env_allow, env_deny, env_set; /* env_set holds NAME=value */

        /* Unix sockets outside the write grants that the child may connect to. */
        struct strv unix_sockets;
        /* The child may create AF_UNIX SOCK_DGRAM sockets (--allow-unix-datagrams), which
         * can send to any pathname datagram socket: sendmsg() is not mediated. */
        int allow_unix_datagrams;

        /* Persistence paths inside write grants kept read-only (plan->view.readonly_paths). */
        struct strv readonly_paths;
        /* Persistence paths that do not exist yet: checked after the run. */
        struct strv persistence_watch;

        /* The filtering proxy (network_mode PROXY). */
        struct plan_route **routes;
        size_t n_routes, cap_routes;
        const struct nono_credential_route **route_views;
        uint16_t proxy_port;
        /* The proxy already runs (nono_caps_use_proxy): no network plugin starts one. */
        int proxy_running;
        char *upstream_proxy;
        struct strv upstream_bypass;
        char *session_id;

        /* Resource limits on the command (applied in the child before exec). */
        struct limits limits;

        char *workdir;
        char *profile_name; /* the profile the plan was built from, for messages */
};

void plan_init(struct plan *p);
void plan_free(struct plan *p);

/*
 * Adds a grant on an already-resolved absolute path.  A second grant on the same path
 * widens the first (access bits are or'ed); the first origin is kept.
 */
int plan_add_grant(struct plan *p, const char *path, uint32_t access, uint32_t flags,
                   const char *origin);
/* Adds a protected path (resolved absolute).  Duplicates are ignored. */
int plan_add_deny(struct plan *p, const char *path, const char *origin);
/* Removes every deny equal to `path` (bypass_protection); returns how many. */
size_t plan_remove_deny(struct plan *p, const char *path);
int plan_add_port(struct plan *p, int bind, uint16_t port);
/* Takes ownership of `route` (also on failure).  A second route for the same service
 * replaces nothing: -EEXIST. */
int plan_add_route(struct plan *p, struct plan_route *route);
struct plan_route *plan_find_route(const struct plan *p, const char *service);
void plan_route_free(struct plan_route *r);
/* Wipes and frees every resolved secret (the parent's copy, once the proxy has its own). */
void plan_forget_secrets(struct plan *p);
void plan_drop_grant(struct plan *p, size_t index);

/* True for entries that come from a built-in security group (origin "group NAME"). */
int plan_origin_is_group(const char *origin);

/* Fills p->view from the builder's arrays; call before handing the plan out. */
const struct nono_plan *plan_view(struct plan *p);

/*
 * Refuses a plan in which a grant reaches a protected path: a grant that lies inside
 * a deny, and — unless the enforcer can mask protected paths (`can_mask`) — a grant
 * that contains one.  The message names both and their origins.
 */
int plan_check_protected(const struct plan *p, int can_mask);

/* Human-readable dump (nono profile show, --dry-run). */
void plan_print(const struct plan *p, FILE *out);
/* JSON text of the plan; caller frees.  NULL on allocation failure. */
char *plan_to_json(const struct plan *p);
/* The same as a jansson object (a new reference), for callers that embed or re-encode it. */
json_t *plan_json_value(const struct plan *p);
/*
 * The inverse of plan_to_json for what a reader of the plan needs (nono why --self):
 * grants, protected and read-only paths, Unix sockets, network mode, hosts and ports,
 * workdir and profile name.  -EINVAL with a message for text plan_to_json cannot have
 * written.
 */
int plan_from_json(const char *text, struct plan *ret);

#endif
