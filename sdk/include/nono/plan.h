/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The resolved sandbox plan as plugins see it: read-only, built by the host from the
 * profile and flags before anything is applied.  Paths are absolute and already
 * resolved (no symlinks, no "..").  Every struct starts with its size and only grows
 * by appending; arrays are arrays of pointers so that element structs can grow too.
 */
#ifndef NONO_PLAN_H
#define NONO_PLAN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Access modes, as in profiles: read, write, or both. */
#define NONO_ACCESS_READ      (1u << 0)
#define NONO_ACCESS_WRITE     (1u << 1)
#define NONO_ACCESS_READWRITE (NONO_ACCESS_READ | NONO_ACCESS_WRITE)

/* Grant flags. */
#define NONO_GRANT_FILE (1u << 0) /* a single file, not a directory tree */

struct nono_grant {
        uint32_t size;
        uint32_t access; /* NONO_ACCESS_* */
        uint32_t flags;  /* NONO_GRANT_* */
        const char *path;
        const char *origin; /* where the grant came from: "--allow", "group python_runtime" */
};

/* A protected path: never reachable from the sandbox. */
struct nono_deny {
        uint32_t size;
        const char *path;
        const char *origin;
};

enum nono_network_mode {
        NONO_NETWORK_ALLOW = 0, /* unrestricted */
        NONO_NETWORK_BLOCK = 1, /* no network at all */
        NONO_NETWORK_PROXY = 2, /* only nono's filtering proxy */
};

/* How a credential route puts the real secret into a forwarded request. */
enum nono_inject_mode {
        NONO_INJECT_HEADER = 0,      /* inject_header: credential_format with {} = secret */
        NONO_INJECT_QUERY_PARAM = 1, /* ?<inject_header>=<secret> appended to the query */
        NONO_INJECT_BASIC_AUTH = 2,  /* Authorization: Basic base64(credential_format) */
};

/*
 * A credential route (--credential SERVICE): the child talks plain HTTP to
 * http://127.0.0.1:PORT/<service>/..., and the proxy forwards to `upstream` with the
 * real secret injected, after checking the phantom token the child was given.
 */
struct nono_credential_route {
        uint32_t size;
        uint32_t inject_mode;          /* enum nono_inject_mode */
        const char *service;           /* [a-z0-9_-]+: the path prefix /<service> */
        const char *upstream;          /* https://api.openai.com (http only on loopback) */
        const char *inject_header;     /* header name, or query parameter name */
        const char *credential_format; /* "Bearer {}"; NULL means "{}" */
        const char *env_var;           /* gets the phantom token: OPENAI_API_KEY */
        const char *base_url_var;      /* gets the route's URL: OPENAI_BASE_URL */
        const char *tls_ca;            /* CA bundle for the upstream; NULL: system store */
        /* "METHOD:/path/glob" ("*" matches any method); none: every request allowed. */
        const char *const *endpoint_rules;
        size_t n_endpoint_rules;
        /* The real secret, in host secret memory.  Never log, print or audit it. */
        const char *secret;
        size_t secret_len;
};

/* Plan flags. */
#define NONO_PLAN_BEST_EFFORT (1u << 0) /* missing kernel features warn instead of failing */
#define NONO_PLAN_NO_CHILD    (1u << 1) /* no sandboxed child: `nono proxy` standalone */
/* /tmp and /dev/shm stay the host's (--share-tmp); else enforcers that can give the
 * child private, empty ones do. */
#define NONO_PLAN_SHARE_TMP (1u << 2)
/* The host reads the kernel's records of the enforcer's denials (Landlock audit records)
 * for its denial report: enforcers that can have the command's denials recorded do so
 * (see NONO_ENFORCER_CAP_AUDIT_RECORDS). */
#define NONO_PLAN_LOG_DENIALS (1u << 3)

struct nono_plan {
        uint32_t size;
        uint32_t flags; /* NONO_PLAN_* */

        const struct nono_grant *const *grants;
        size_t n_grants;
        const struct nono_deny *const *denies;
        size_t n_denies;

        uint32_t network_mode; /* enum nono_network_mode */
        /* TCP ports the child may connect to / bind, when network_mode is not ALLOW. */
        const uint16_t *tcp_connect_ports;
        size_t n_tcp_connect_ports;
        const uint16_t *tcp_bind_ports;
        size_t n_tcp_bind_ports;
        /* Hosts the filtering proxy lets through (network_mode PROXY): "name", "*.suffix"
         * or an IP literal, optionally ":port" ("[v6]:port"); without one 443 and 80. */
        const char *const *allowed_hosts;
        size_t n_allowed_hosts;

        const char *workdir; /* the child's working directory */

        /*
         * Paths inside write grants that must stay read-only (persistence paths such as
         * .git/hooks, .bashrc, .vscode).  Enforcers that cannot express this refuse
         * the plan when a listed path exists or could be created.
         */
        const char *const *readonly_paths;
        size_t n_readonly_paths;

        /* The filtering proxy (network_mode PROXY). */
        const struct nono_credential_route *const *routes;
        size_t n_routes;
        uint16_t proxy_port;                /* --proxy-port; 0 picks a free port */
        const char *upstream_proxy;         /* --upstream-proxy host:port; NULL: direct */
        const char *const *upstream_bypass; /* hosts reached directly despite it */
        size_t n_upstream_bypass;
        const char *session_id; /* names this run in audit events */
};

#ifdef __cplusplus
}
#endif

#endif /* NONO_PLAN_H */
