/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine's internals, shared by its modules:
 *   proxy.c     settings, listeners, the event loop, audit events;
 *   conn.c      one client connection: request head, dispatch, forwarding, tunnels;
 *   upstream.c  reaching a target: resolution with the deny floor, the upstream proxy,
 *               TLS with verification;
 *   route.c     credential routes: phantom check, injection, the forwarded head;
 *   tunnel.c    CONNECT tunnels (with tls-hello.c: the ClientHello's server name).
 */
#ifndef NONO_FILTER_PROXY_ENGINE_H
#define NONO_FILTER_PROXY_ENGINE_H

#include "http-parse.h"
#include "proxy.h"

#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

/* Defaults of the limits nono.conf may set (plugins: { filter-proxy: { ... } }). */
#define PROXY_MAX_CONNS      4096         /* max_connections */
#define PROXY_HEAD_TIMEOUT_S 10           /* head_timeout: a whole request head, however slow */
#define PROXY_IDLE_TIMEOUT_S 900          /* idle_timeout: tunnels and exchanges without traffic */
#define PROXY_LINGER_S       2            /* draining a client after the last response byte */
#define PROXY_RELAY_HIGH     (256 * 1024) /* bytes queued toward a slow side */

struct route {
        char *service; /* the path prefix without '/' */
        bool tls;
        char host[HTTP_MAX_HOST + 1];
        uint16_t port;
        char *base_path; /* the upstream URL's path, without trailing '/' ("" for none) */
        int inject_mode; /* enum nono_inject_mode */
        char *inject_header;
        char *format_prefix, *format_suffix; /* credential_format around "{}" */
        char **endpoint_rules;
        size_t n_endpoint_rules;
        char *secret; /* host secret memory */
        size_t secret_len;
        char *phantom; /* host secret memory */
        size_t phantom_len;
        SSL_CTX *ssl_ctx; /* https upstreams */
};

struct conn;

struct proxy {
        const struct nono_host *host;
        struct event_base *base;
        struct evdns_base *dns;
        struct evconnlistener **listeners;
        size_t n_listeners;
        struct event *accept_resume; /* after running out of descriptors */

        char **allowed_hosts;
        size_t n_allowed_hosts;
        char upstream_proxy_host[HTTP_MAX_HOST + 1]; /* "" when direct */
        uint16_t upstream_proxy_port;
        char **upstream_bypass;
        size_t n_upstream_bypass;
        char *session_id;
        /* The machine's own addresses when the proxy started: a name the child asks for
         * must not lead back to a service of this machine (DNS rebinding). */
        struct sockaddr_storage *own_addrs;
        size_t n_own_addrs;

        char *token; /* secret memory */
        size_t token_len;
        char *basic_credentials; /* base64("nono:" token), secret memory */
        size_t basic_credentials_len;

        struct route *routes;
        size_t n_routes;

        long long max_conns, head_timeout_s, idle_timeout_s;
        struct conn *conns; /* every open client connection */
        size_t n_conns;
};

/* ---- proxy.c ---- */
void *proxy_zalloc(struct proxy *p, size_t size);
void proxy_free_mem(struct proxy *p, void *ptr);
/* One proxy.decision audit event; host may be NULL (nothing parsed yet), reason NULL. */
void proxy_audit(struct proxy *p, const char *host, uint16_t port, const char *method,
                 const char *decision, const char *reason);

/* ---- conn.c ---- */
/* Takes a freshly accepted client socket. */
void conn_accept(struct proxy *p, evutil_socket_t fd);
/* Closes every connection (proxy_free). */
void conn_free_all(struct proxy *p);

/* ---- upstream.c ---- */
/*
 * Reaches host:port for `c` (directly after resolution and the floor, or through the
 * upstream proxy), then TLS when ssl_ctx is set; calls conn_upstream_ready(c, bev) or
 * conn_upstream_failed(c, status, reason).  `refuse_this_machine`: a name resolving to
 * this machine is refused (the sandbox chose it and no exact allow-list entry names it;
 * a credential route's upstream is the user's own choice).  The pending request owns nothing of `c`
 * after upstream_cancel().
 */
struct upstream_req;
struct upstream_req *upstream_open(struct proxy *p, struct conn *c, const char *host, uint16_t port,
                                   SSL_CTX *ssl_ctx, bool refuse_this_machine);
void upstream_cancel(struct upstream_req *u);
void conn_upstream_ready(struct conn *c, struct bufferevent *bev);
void conn_upstream_failed(struct conn *c, int status, const char *reason);

/* ---- tunnel.c ---- */
struct tunnel;
/*
 * Relays between two connected sockets (owned from then on, closed by tunnel_free),
 * after first writing the bytes in to_up and to_client (moved out of them).  With
 * tls_host set (kept, not copied: it must outlive the tunnel), the client's first bytes (to_up
 * included) are held until judged: a TLS ClientHello whose server name is another host ends the
 * tunnel unforwarded.  Calls done(arg, refusal) once both directions ended, on an error, after the
 * idle timeout without traffic (refusal NULL) or on such a refusal (its reason); done must
 * tunnel_free().  NULL on failure (sockets closed).
 */
struct tunnel *tunnel_new(struct proxy *p, int client_fd, int up_fd, struct evbuffer *to_up,
                          struct evbuffer *to_client, const char *tls_host,
                          void (*done)(void *arg, const char *refusal), void *arg);
void tunnel_free(struct tunnel *t);

/* ---- route.c ---- */
int route_init(struct proxy *p, struct route *r, const struct nono_credential_route *src,
               const char *phantom);
void route_fini(struct proxy *p, struct route *r);
/* The route whose prefix starts `path` (origin form), or NULL. */
const struct route *route_find(const struct proxy *p, struct http_slice path);
/*
 * Checks an origin-form request against route `r` and writes the head to forward into
 * `out`.  Returns 0, or the HTTP status refusing it with *ret_reason set.
 */
int route_forward_head(const struct route *r, const struct http_request *req, struct evbuffer *out,
                       const char **ret_reason);

/* Whether a header is hop-by-hop or proxy-only, hence never forwarded. */
bool header_is_hop_by_hop(struct http_slice name);

#endif
