/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reaching a target: resolve the name (evdns: resolv.conf and /etc/hosts), refuse it
 * when ANY address is on the deny floor, connect to the checked addresses only (never
 * resolving again), or chain through the upstream proxy with CONNECT; then TLS with
 * peer verification and a host name check when the route is https.
 */

#include "engine.h"
#include "policy.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <netinet/in.h>
#include <openssl/x509v3.h>
#include <string.h>

#define CONNECT_TIMEOUT_S 30
#define PROXY_REPLY_MAX   16384

struct upstream_req {
        struct proxy *p;
        struct conn *c;
        char host[HTTP_MAX_HOST + 1];
        uint16_t port;
        SSL_CTX *ssl_ctx;
        bool via_proxy;
        bool refuse_this_machine; /* the sandbox chose the name, not the user exactly */
        struct event *kick;
        struct evdns_getaddrinfo_request *dns;
        struct evutil_addrinfo *addrs, *next;
        struct bufferevent *bev;
};

static void release(struct upstream_req *u)
{
        if (u->kick)
                event_free(u->kick);
        if (u->dns) {
                struct evdns_getaddrinfo_request *dns = u->dns;

                u->dns = NULL; /* the callback sees EVUTIL_EAI_CANCEL and leaves u alone */
                evdns_getaddrinfo_cancel(dns);
        }
        if (u->addrs)
                evutil_freeaddrinfo(u->addrs);
        if (u->bev)
                bufferevent_free(u->bev);
        proxy_free_mem(u->p, u);
}

void upstream_cancel(struct upstream_req *u)
{
        if (u)
                release(u);
}

/* The request is over either way: u is gone before the connection hears of it. */
static void fail(struct upstream_req *u, int status, const char *reason)
{
        struct conn *c = u->c;

        release(u);
        conn_upstream_failed(c, status, reason);
}

static void succeed(struct upstream_req *u)
{
        struct conn *c = u->c;
        struct bufferevent *bev = u->bev;

        u->bev = NULL;
        bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
        bufferevent_set_timeouts(bev, NULL, NULL);
        release(u);
        conn_upstream_ready(c, bev);
}

static void on_tls_event(struct bufferevent *bev, short what, void *arg)
{
        struct upstream_req *u = arg;

        if (what & BEV_EVENT_CONNECTED)
                succeed(u);
        else
                fail(u, 502, "TLS handshake with the upstream failed");
}

static void start_tls(struct upstream_req *u)
{
        SSL *ssl = SSL_new(u->ssl_ctx);
        struct bufferevent *tls;

        if (!ssl) {
                fail(u, 502, "cannot set up TLS");
                return;
        }
        if (policy_is_ip_literal(u->host)) {
                X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), u->host);
        } else {
                SSL_set_tlsext_host_name(ssl, u->host);
                SSL_set1_host(ssl, u->host);
        }
        tls = bufferevent_openssl_filter_new(bufferevent_get_base(u->bev), u->bev, ssl,
                                             BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
        if (!tls) {
                SSL_free(ssl);
                fail(u, 502, "cannot set up TLS");
                return;
        }
        /* Many servers close without close_notify; the response framing still holds. */
        bufferevent_openssl_set_allow_dirty_shutdown(tls, 1);
        u->bev = tls;
        bufferevent_setcb(tls, NULL, NULL, on_tls_event, u);
        bufferevent_enable(tls, EV_READ | EV_WRITE);
}

static void connected(struct upstream_req *u)
{
        if (u->ssl_ctx)
                start_tls(u);
        else
                succeed(u);
}

/* The upstream proxy's answer to our CONNECT: a 2xx status line, then the tunnel. */
static void on_proxy_reply(struct bufferevent *bev, void *arg)
{
        struct upstream_req *u = arg;
        struct evbuffer *in = bufferevent_get_input(bev);
        struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
        char status[13];

        if (end.pos < 0) {
                if (evbuffer_get_length(in) > PROXY_REPLY_MAX)
                        fail(u, 502, "oversized reply from the upstream proxy");
                return;
        }
        if (evbuffer_copyout(in, status, 12) != 12 || memcmp(status, "HTTP/1.", 7) != 0 ||
            status[8] != ' ' || status[9] != '2') {
                fail(u, 502, "the upstream proxy refused the connection");
                return;
        }
        evbuffer_drain(in, (size_t)end.pos + 4);
        connected(u);
}

static void connect_next(struct upstream_req *u);

static void on_connect_event(struct bufferevent *bev, short what, void *arg)
{
        struct upstream_req *u = arg;

        if (!(what & BEV_EVENT_CONNECTED)) {
                bufferevent_free(u->bev);
                u->bev = NULL;
                connect_next(u);
                return;
        }
        if (!u->via_proxy) {
                connected(u);
                return;
        }
        /* Chain through the corporate proxy: it resolves and connects. */
        if (strchr(u->host, ':'))
                evbuffer_add_printf(bufferevent_get_output(bev),
                                    "CONNECT [%s]:%u HTTP/1.1\r\nHost: [%s]:%u\r\n\r\n", u->host,
                                    u->port, u->host, u->port);
        else
                evbuffer_add_printf(bufferevent_get_output(bev),
                                    "CONNECT %s:%u HTTP/1.1\r\nHost: %s:%u\r\n\r\n", u->host,
                                    u->port, u->host, u->port);
        bufferevent_setcb(bev, on_proxy_reply, NULL, on_connect_event, u);
        bufferevent_enable(bev, EV_READ);
}

/* Connects to the next checked address; fails the request after the last. */
static void connect_next(struct upstream_req *u)
{
        struct timeval timeout = {CONNECT_TIMEOUT_S, 0};

        while (u->next) {
                struct evutil_addrinfo *ai = u->next;
                struct sockaddr_storage sa;

                u->next = ai->ai_next;
                if (ai->ai_addrlen > sizeof(sa))
                        continue;
                memcpy(&sa, ai->ai_addr, ai->ai_addrlen);
                if (sa.ss_family == AF_INET)
                        ((struct sockaddr_in *)&sa)->sin_port =
                            htons(u->via_proxy ? u->p->upstream_proxy_port : u->port);
                else
                        ((struct sockaddr_in6 *)&sa)->sin6_port =
                            htons(u->via_proxy ? u->p->upstream_proxy_port : u->port);
                u->bev = bufferevent_socket_new(u->p->base, -1, BEV_OPT_CLOSE_ON_FREE);
                if (!u->bev)
                        break;
                bufferevent_setcb(u->bev, NULL, NULL, on_connect_event, u);
                bufferevent_set_timeouts(u->bev, &timeout, &timeout);
                if (bufferevent_socket_connect(u->bev, (struct sockaddr *)&sa,
                                               (int)ai->ai_addrlen) == 0)
                        return;
                bufferevent_free(u->bev);
                u->bev = NULL;
        }
        fail(u, 502,
             u->via_proxy ? "cannot connect to the upstream proxy"
                          : "cannot connect to the upstream");
}

/*
 * Every address a target resolved to is checked: the floor (metadata, link-local) for
 * all; and a name the user did not list exactly must not lead to this machine (loopback
 * or its own addresses), where services never meant for the sandbox listen.
 */
static const char *resolved_refusal(const struct upstream_req *u, const struct evutil_addrinfo *res)
{
        bool name = u->refuse_this_machine && !policy_is_ip_literal(u->host);

        for (const struct evutil_addrinfo *ai = res; ai; ai = ai->ai_next) {
                if (policy_check_address(ai->ai_addr))
                        return "host name resolves to a link-local or metadata address";
                if (name && policy_is_this_machine(ai->ai_addr, u->p->own_addrs, u->p->n_own_addrs))
                        return "host name resolves to this machine";
        }
        return NULL;
}

static void on_resolved(int result, struct evutil_addrinfo *res, void *arg)
{
        struct upstream_req *u = arg;

        if (result == EVUTIL_EAI_CANCEL)
                return;
        u->dns = NULL;
        if (result != 0 || !res) {
                fail(u, 502, "cannot resolve the host name");
                return;
        }
        u->addrs = u->next = res;
        /* The upstream proxy is the user's own choice; the floor is for targets. */
        if (!u->via_proxy) {
                const char *refusal = resolved_refusal(u, res);

                if (refusal) {
                        fail(u, 403, refusal);
                        return;
                }
        }
        connect_next(u);
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
        struct upstream_req *u = arg;
        struct evutil_addrinfo hints = {
            .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_protocol = IPPROTO_TCP};
        struct evdns_getaddrinfo_request *req;

        /* May answer at once (literals, /etc/hosts), and u may be gone when it returns. */
        req = evdns_getaddrinfo(u->p->dns, u->via_proxy ? u->p->upstream_proxy_host : u->host, NULL,
                                &hints, on_resolved, u);
        if (req)
                u->dns = req;
}

/* Bypass entries match like allow-list entries, ports included. */
static bool bypasses_proxy(const struct proxy *p, const char *host, uint16_t port)
{
        for (size_t i = 0; i < p->n_upstream_bypass; i++)
                if (policy_entry_matches(p->upstream_bypass[i], host, port) == POLICY_MATCH)
                        return true;
        return false;
}

struct upstream_req *upstream_open(struct proxy *p, struct conn *c, const char *host, uint16_t port,
                                   SSL_CTX *ssl_ctx, bool refuse_this_machine)
{
        struct upstream_req *u = proxy_zalloc(p, sizeof(*u));
        struct timeval now = {0, 0};

        if (!u)
                return NULL;
        u->p = p;
        u->c = c;
        snprintf(u->host, sizeof(u->host), "%s", host);
        u->port = port;
        u->ssl_ctx = ssl_ctx;
        u->refuse_this_machine = refuse_this_machine;
        u->via_proxy = p->upstream_proxy_host[0] && !bypasses_proxy(p, host, port);
        /* Started from the loop, so that no answer reaches the caller before it returns. */
        u->kick = evtimer_new(p->base, on_kick, u);
        if (!u->kick || evtimer_add(u->kick, &now) < 0) {
                release(u);
                return NULL;
        }
        return u;
}
