/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One client connection.  It reads a request head (strictly parsed, within a size
 * limit and a deadline), decides, and then either tunnels bytes both ways (CONNECT) or
 * forwards exactly one request with its body and streams the response back
 * (absolute-URI requests and credential routes), then closes.  Every decision is one
 * audit event.
 */

#include "engine.h"
#include "policy.h"

#include <event2/buffer.h>
#include <openssl/crypto.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

enum conn_state {
        C_HEAD,     /* reading the request head */
        C_UPSTREAM, /* waiting for the upstream connection */
        C_TUNNEL,   /* CONNECT: bytes both ways (tunnel.c) */
        C_FORWARD,  /* one request forwarded, its response streamed back */
        C_CLOSING,  /* a final answer written; flushing, then lingering */
};

struct conn {
        struct proxy *p;
        struct conn *prev, *next;
        struct bufferevent *client, *up;
        struct event *timer; /* head deadline, then the linger deadline */
        struct upstream_req *pending;
        enum conn_state state;
        size_t scanned;

        /* The request, for audit events and the upstream. */
        char method[HTTP_MAX_METHOD + 1];
        char host[HTTP_MAX_HOST + 1];
        uint16_t port;
        const struct route *route;
        struct evbuffer *head_out; /* the head to send upstream */

        /* Request body framing (C_FORWARD). */
        int64_t body_left;
        bool chunked;
        struct http_chunked chunk_state;
        bool body_done;

        bool response_started;
        bool response_head_done; /* "Connection: close" added */
        struct tunnel *tunnel;   /* C_TUNNEL */
        bool lingering;
};

static void conn_free(struct conn *c)
{
        struct proxy *p = c->p;

        upstream_cancel(c->pending);
        tunnel_free(c->tunnel);
        if (c->client)
                bufferevent_free(c->client);
        if (c->up)
                bufferevent_free(c->up);
        if (c->timer)
                event_free(c->timer);
        if (c->head_out)
                evbuffer_free(c->head_out);
        if (c->prev)
                c->prev->next = c->next;
        else
                p->conns = c->next;
        if (c->next)
                c->next->prev = c->prev;
        p->n_conns--;
        proxy_free_mem(p, c);
}

void conn_free_all(struct proxy *p)
{
        while (p->conns)
                conn_free(p->conns);
}

static const char *status_text(int status)
{
        switch (status) {
        case 200:
                return "Connection established";
        case 400:
                return "Bad Request";
        case 401:
                return "Unauthorized";
        case 403:
                return "Forbidden";
        case 404:
                return "Not Found";
        case 407:
                return "Proxy Authentication Required";
        case 408:
                return "Request Timeout";
        case 431:
                return "Request Header Fields Too Large";
        case 501:
                return "Not Implemented";
        case 502:
                return "Bad Gateway";
        case 503:
                return "Service Unavailable";
        case 505:
                return "HTTP Version Not Supported";
        default:
                return "Error";
        }
}

/* ---- closing ------------------------------------------------------------------------- */

static void on_linger_timeout(evutil_socket_t fd, short what, void *arg)
{
        conn_free(arg);
}

static void on_linger_read(struct bufferevent *bev, void *arg)
{
        evbuffer_drain(bufferevent_get_input(bev), evbuffer_get_length(bufferevent_get_input(bev)));
}

static void on_linger_event(struct bufferevent *bev, short what, void *arg)
{
        conn_free(arg);
}

/*
 * Everything for the client is written: half-close and drain what it still sends for a
 * moment, so that closing with unread input does not reset the connection and destroy
 * the response in flight.
 */
static void linger(struct conn *c)
{
        struct timeval t = {PROXY_LINGER_S, 0};

        if (c->lingering)
                return;
        c->lingering = true;
        shutdown(bufferevent_getfd(c->client), SHUT_WR);
        bufferevent_setcb(c->client, on_linger_read, NULL, on_linger_event, c);
        bufferevent_setwatermark(c->client, EV_READ, 0, 0);
        bufferevent_enable(c->client, EV_READ);
        if (c->timer)
                event_free(c->timer);
        c->timer = evtimer_new(c->p->base, on_linger_timeout, c);
        if (!c->timer || evtimer_add(c->timer, &t) < 0)
                conn_free(c);
}

static void on_client_write_closing(struct bufferevent *bev, void *arg)
{
        struct conn *c = arg;

        if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
                linger(c);
}

static void on_client_event(struct bufferevent *bev, short what, void *arg);

/*
 * Stops reading requests; closes once the client has everything written to it, or when
 * it stops reading for the idle timeout.
 */
static void finish(struct conn *c)
{
        struct timeval idle = {c->p->idle_timeout_s, 0};

        c->state = C_CLOSING;
        upstream_cancel(c->pending);
        c->pending = NULL;
        if (c->up) {
                bufferevent_free(c->up);
                c->up = NULL;
        }
        bufferevent_setcb(c->client, NULL, on_client_write_closing, on_client_event, c);
        bufferevent_set_timeouts(c->client, NULL, &idle);
        bufferevent_setwatermark(c->client, EV_WRITE, 0, 0);
        bufferevent_disable(c->client, EV_READ);
        bufferevent_enable(c->client, EV_WRITE);
        if (evbuffer_get_length(bufferevent_get_output(c->client)) == 0)
                linger(c);
}

/* A final answer from the proxy itself. */
static void reply(struct conn *c, int status, const char *reason)
{
        struct evbuffer *out = bufferevent_get_output(c->client);
        const char *body = reason ? reason : status_text(status);

        evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\n", status, status_text(status));
        if (status == 407)
                evbuffer_add_printf(out, "Proxy-Authenticate: Basic realm=\"nono\"\r\n");
        evbuffer_add_printf(out,
                            "Content-Type: text/plain\r\nContent-Length: %zu\r\n"
                            "Connection: close\r\n\r\n%s\n",
                            strlen(body) + 1, body);
        finish(c);
}

static void deny(struct conn *c, int status, const char *reason)
{
        proxy_audit(c->p, c->host[0] ? c->host : NULL, c->port, c->method[0] ? c->method : NULL,
                    "deny", reason);
        reply(c, status, reason);
}

/* ---- relaying ------------------------------------------------------------------------ */

/* Moves what `from` read into `to`, pausing `from` while `to` has a backlog. */
static void relay(struct bufferevent *from, struct bufferevent *to, size_t max)
{
        struct evbuffer *in = bufferevent_get_input(from);
        struct evbuffer *out = bufferevent_get_output(to);

        if (max >= evbuffer_get_length(in))
                evbuffer_add_buffer(out, in);
        else
                evbuffer_remove_buffer(in, out, max);
        if (evbuffer_get_length(out) >= PROXY_RELAY_HIGH)
                bufferevent_disable(from, EV_READ);
}

/* Request body bytes toward the upstream, no further than the body's end. */
static void forward_body(struct conn *c)
{
        struct evbuffer *in = bufferevent_get_input(c->client);
        size_t avail = evbuffer_get_length(in);

        if (c->body_done || avail == 0) {
                if (c->body_done)
                        evbuffer_drain(in, avail); /* nothing after one request is read */
                return;
        }
        if (c->chunked) {
                size_t n = avail < 65536 ? avail : 65536;
                const char *data = (const char *)evbuffer_pullup(in, (ev_ssize_t)n);
                ssize_t used = http_chunked_feed(&c->chunk_state, data, n, &c->body_done);

                if (used < 0) {
                        /* The upstream has part of a request: all that is left is to close. */
                        proxy_audit(c->p, c->host, c->port, c->method, "error",
                                    "malformed chunked body");
                        conn_free(c);
                        return;
                }
                relay(c->client, c->up, (size_t)used);
        } else {
                size_t n = (uint64_t)c->body_left < avail ? (size_t)c->body_left : avail;

                relay(c->client, c->up, n);
                c->body_left -= (int64_t)n;
                c->body_done = c->body_left == 0;
        }
        if (c->body_done) {
                evbuffer_drain(in, evbuffer_get_length(in));
                bufferevent_disable(c->client, EV_READ);
        }
}

static void on_client_read(struct bufferevent *bev, void *arg);

/*
 * Copies the response head to the client with "Connection: close" added: the proxy
 * serves one request per connection, and a client that believes it may reuse the
 * connection would send its next request into a closing socket.  Interim (1xx) heads
 * pass unchanged.  Returns false while the head is incomplete.
 */
static bool pass_response_head(struct conn *c)
{
        struct evbuffer *in = bufferevent_get_input(c->up);
        struct evbuffer *out = bufferevent_get_output(c->client);

        while (!c->response_head_done) {
                struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
                char status[12];

                if (end.pos < 0) {
                        if (evbuffer_get_length(in) <= HTTP_MAX_HEAD * 4)
                                return false;
                        c->response_head_done = true; /* not HTTP as we know it: as is */
                        break;
                }
                if (evbuffer_copyout(in, status, sizeof(status)) == sizeof(status) &&
                    memcmp(status, "HTTP/1.", 7) == 0 && status[9] == '1') {
                        evbuffer_remove_buffer(in, out, (size_t)end.pos + 4);
                        continue;
                }
                evbuffer_remove_buffer(in, out, (size_t)end.pos + 2);
                evbuffer_add_printf(out, "Connection: close\r\n");
                c->response_head_done = true;
        }
        return true;
}

static void on_up_read(struct bufferevent *bev, void *arg)
{
        struct conn *c = arg;

        c->response_started = true;
        if (pass_response_head(c))
                relay(c->up, c->client, SIZE_MAX);
}

/* The upstream is done with a forwarded request: the rest of its answer, or a 502. */
static void end_forward(struct conn *c, const char *failure)
{
        if (evbuffer_get_length(bufferevent_get_input(c->up)))
                c->response_started = true;
        relay(c->up, c->client, SIZE_MAX);
        if (!c->response_started) {
                proxy_audit(c->p, c->host, c->port, c->method, "error", failure);
                reply(c, 502, failure);
                return;
        }
        finish(c);
}

static void on_up_write(struct bufferevent *bev, void *arg)
{
        struct conn *c = arg;

        if (c->state == C_FORWARD && !c->body_done) {
                bufferevent_enable(c->client, EV_READ);
                forward_body(c);
        }
}

static void on_client_write(struct bufferevent *bev, void *arg)
{
        struct conn *c = arg;

        if (c->up)
                bufferevent_enable(c->up, EV_READ);
}

static void on_up_event(struct bufferevent *bev, short what, void *arg)
{
        struct conn *c = arg;

        if (what & (BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT)) {
                end_forward(c, what & BEV_EVENT_TIMEOUT ? "upstream timed out"
                                                        : "upstream connection failed");
                return;
        }
        if (what & BEV_EVENT_EOF)
                end_forward(c, "upstream closed without a response");
}

static void on_client_event(struct bufferevent *bev, short what, void *arg)
{
        struct conn *c = arg;

        if (c->state == C_FORWARD && c->body_done && (what & BEV_EVENT_EOF))
                return; /* a client that half-closes after its request still gets the answer */
        conn_free(c);
}

/* ---- the upstream is there ----------------------------------------------------------- */

static void on_tunnel_done(void *arg)
{
        conn_free(arg);
}

/*
 * CONNECT succeeded: the sockets leave their bufferevents for a tunnel, taking along
 * the 200 and whatever either side sent early (a TLS ClientHello).
 */
static void start_tunnel(struct conn *c)
{
        evutil_socket_t client_fd = bufferevent_getfd(c->client), up_fd = bufferevent_getfd(c->up);
        struct evbuffer *to_client = evbuffer_new(), *to_up = evbuffer_new();

        c->state = C_TUNNEL;
        if (to_client && to_up) {
                evbuffer_add_printf(to_client, "HTTP/1.1 200 Connection established\r\n\r\n");
                evbuffer_add_buffer(to_client, bufferevent_get_input(c->up));
                evbuffer_add_buffer(to_up, bufferevent_get_input(c->client));
                /* Detached, so that freeing the bufferevents leaves the sockets open. */
                bufferevent_setfd(c->client, -1);
                bufferevent_setfd(c->up, -1);
                bufferevent_free(c->client);
                bufferevent_free(c->up);
                c->client = c->up = NULL;
                c->tunnel = tunnel_new(c->p, client_fd, up_fd, to_up, to_client, on_tunnel_done, c);
        }
        if (to_client)
                evbuffer_free(to_client);
        if (to_up)
                evbuffer_free(to_up);
        if (!c->tunnel)
                conn_free(c);
}

static void start_forward(struct conn *c)
{
        struct timeval idle = {c->p->idle_timeout_s, 0};

        c->state = C_FORWARD;
        bufferevent_write_buffer(c->up, c->head_out);
        evbuffer_free(c->head_out);
        c->head_out = NULL;
        /* A client that stops reading the response holds it only so long. */
        bufferevent_set_timeouts(c->client, &idle, &idle);
        bufferevent_set_timeouts(c->up, &idle, &idle);
        bufferevent_enable(c->up, EV_READ | EV_WRITE);
        bufferevent_enable(c->client, EV_WRITE);
        if (!c->body_done)
                bufferevent_enable(c->client, EV_READ);
        forward_body(c);
}

/*
 * Relayed bytes leave as they come (no Nagle delay on top of the sender's), in large
 * reads and writes: libevent's 16 KiB default costs a system call per 16 KiB.
 */
static void tune_for_relay(struct bufferevent *bev)
{
        int one = 1;

        setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        bufferevent_set_max_single_read(bev, PROXY_RELAY_HIGH);
        bufferevent_set_max_single_write(bev, PROXY_RELAY_HIGH);
}

void conn_upstream_ready(struct conn *c, struct bufferevent *bev)
{
        c->pending = NULL;
        c->up = bev;
        bufferevent_setcb(bev, on_up_read, on_up_write, on_up_event, c);
        bufferevent_setwatermark(bev, EV_WRITE, PROXY_RELAY_HIGH / 2, 0);
        bufferevent_setwatermark(bev, EV_READ, 0, PROXY_RELAY_HIGH);
        tune_for_relay(bev);
        tune_for_relay(c->client);
        bufferevent_setcb(c->client, on_client_read, on_client_write, on_client_event, c);
        bufferevent_setwatermark(c->client, EV_WRITE, PROXY_RELAY_HIGH / 2, 0);
        bufferevent_setwatermark(c->client, EV_READ, 0, PROXY_RELAY_HIGH);
        proxy_audit(c->p, c->host, c->port, c->method, "allow",
                    c->route ? "credential route" : "host allowed");
        if (c->head_out)
                start_forward(c);
        else
                start_tunnel(c);
}

void conn_upstream_failed(struct conn *c, int status, const char *reason)
{
        c->pending = NULL;
        proxy_audit(c->p, c->host, c->port, c->method, status == 403 ? "deny" : "error", reason);
        reply(c, status, reason);
}

static void open_upstream(struct conn *c, const char *host, uint16_t port, SSL_CTX *ssl_ctx)
{
        c->state = C_UPSTREAM;
        c->pending = upstream_open(c->p, c, host, port, ssl_ctx);
        if (!c->pending)
                deny(c, 503, "out of resources");
}

/* ---- deciding -------------------------------------------------------------------------- */

/* Proxy-Authorization: Basic base64("nono:TOKEN") or Bearer TOKEN, in constant time. */
static bool proxy_authorized(const struct proxy *p, const struct http_request *req)
{
        const struct http_header *h = http_find_header(req, "Proxy-Authorization");
        const char *v;
        size_t len;

        if (!h)
                return false;
        v = h->value.p;
        len = h->value.len;
        if (len > 6 && strncasecmp(v, "Basic ", 6) == 0) {
                for (v += 6, len -= 6; len && *v == ' '; v++, len--)
                        ;
                return len == p->basic_credentials_len &&
                       CRYPTO_memcmp(v, p->basic_credentials, len) == 0;
        }
        if (len > 7 && strncasecmp(v, "Bearer ", 7) == 0) {
                for (v += 7, len -= 7; len && *v == ' '; v++, len--)
                        ;
                return len == p->token_len && CRYPTO_memcmp(v, p->token, len) == 0;
        }
        return false;
}

/* The head of an absolute-URI request, rewritten for the origin server. */
static void build_forward_head(struct conn *c, const struct http_request *req)
{
        struct evbuffer *out = c->head_out;

        evbuffer_add(out, req->method.p, req->method.len);
        evbuffer_add(out, " ", 1);
        if (req->path.len == 0 || req->path.p[0] == '?')
                evbuffer_add(out, "/", 1);
        evbuffer_add(out, req->path.p, req->path.len);
        evbuffer_add_printf(out, " HTTP/1.1\r\n");
        if (strchr(req->host, ':'))
                evbuffer_add_printf(out, "Host: [%s]:%u\r\n", req->host, req->port);
        else if (req->port == 80)
                evbuffer_add_printf(out, "Host: %s\r\n", req->host);
        else
                evbuffer_add_printf(out, "Host: %s:%u\r\n", req->host, req->port);
        for (size_t i = 0; i < req->n_headers; i++) {
                const struct http_header *h = &req->headers[i];

                if (header_is_hop_by_hop(h->name))
                        continue;
                evbuffer_add(out, h->name.p, h->name.len);
                evbuffer_add(out, ": ", 2);
                evbuffer_add(out, h->value.p, h->value.len);
                evbuffer_add(out, "\r\n", 2);
        }
        evbuffer_add_printf(out, "Connection: close\r\n\r\n");
}

static void set_body(struct conn *c, const struct http_request *req)
{
        c->chunked = req->chunked;
        c->body_left = req->content_length > 0 ? req->content_length : 0;
        c->body_done = !req->chunked && c->body_left == 0;
}

static void handle_route(struct conn *c, const struct http_request *req)
{
        const struct route *r = route_find(c->p, req->path);
        const char *reason = NULL;
        int status;

        if (!r) {
                deny(c, 404, "no credential route for this path");
                return;
        }
        c->route = r;
        snprintf(c->host, sizeof(c->host), "%s", r->host);
        c->port = r->port;
        c->head_out = evbuffer_new();
        if (!c->head_out) {
                deny(c, 503, "out of resources");
                return;
        }
        status = route_forward_head(r, req, c->head_out, &reason);
        if (status) {
                deny(c, status, reason);
                return;
        }
        set_body(c, req);
        open_upstream(c, r->host, r->port, r->ssl_ctx);
}

static void handle_proxy_request(struct conn *c, const struct http_request *req)
{
        const char *reason;

        snprintf(c->host, sizeof(c->host), "%s", req->host);
        c->port = req->port;
        if (!proxy_authorized(c->p, req)) {
                deny(c, 407, "missing or wrong proxy token");
                return;
        }
        reason = policy_check_host((const char *const *)c->p->allowed_hosts, c->p->n_allowed_hosts,
                                   req->host);
        if (reason) {
                deny(c, 403, reason);
                return;
        }
        if (!req->connect) {
                c->head_out = evbuffer_new();
                if (!c->head_out) {
                        deny(c, 503, "out of resources");
                        return;
                }
                build_forward_head(c, req);
                set_body(c, req);
        }
        open_upstream(c, req->host, req->port, NULL);
}

static void handle_head(struct conn *c)
{
        struct evbuffer *in = bufferevent_get_input(c->client);
        size_t len = evbuffer_get_length(in);
        struct http_request *req;
        const char *buf;
        int r;

        if (len > HTTP_MAX_HEAD)
                len = HTTP_MAX_HEAD;
        buf = (const char *)evbuffer_pullup(in, (ev_ssize_t)len);
        req = proxy_zalloc(c->p, sizeof(*req));
        if (!req) {
                deny(c, 503, "out of resources");
                return;
        }
        r = http_parse_request(buf, len, &c->scanned, req);
        if (r == 0) {
                proxy_free_mem(c->p, req);
                return;
        }
        evtimer_del(c->timer);
        if (r < 0) {
                proxy_free_mem(c->p, req);
                deny(c, -r, "malformed request");
                return;
        }
        memcpy(c->method, req->method.p, req->method.len);
        c->method[req->method.len] = '\0';
        if (req->form == HTTP_ORIGIN_FORM)
                handle_route(c, req);
        else
                handle_proxy_request(c, req);
        proxy_free_mem(c->p, req);
        /* The head is consumed; a body that follows is read in C_FORWARD. */
        if (c->state == C_UPSTREAM)
                evbuffer_drain(in, (size_t)r);
}

static void on_client_read(struct bufferevent *bev, void *arg)
{
        struct conn *c = arg;

        switch (c->state) {
        case C_HEAD:
                handle_head(c);
                break;
        case C_FORWARD:
                forward_body(c);
                break;
        default:
                /* C_UPSTREAM: kept until the upstream is there (bounded by the watermark). */
                break;
        }
}

static void on_head_timeout(evutil_socket_t fd, short what, void *arg)
{
        deny(arg, 408, "request head not received in time");
}

void conn_accept(struct proxy *p, evutil_socket_t fd)
{
        static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                                   "Connection: close\r\n\r\n";
        struct timeval deadline = {p->head_timeout_s, 0};
        struct conn *c;

        if ((long long)p->n_conns >= p->max_conns || !(c = proxy_zalloc(p, sizeof(*c)))) {
                /* Best effort: the socket is new, its send buffer empty. */
                (void)!send(fd, busy, sizeof(busy) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
                proxy_audit(p, NULL, 0, NULL, "deny", "too many connections");
                close(fd);
                return;
        }
        c->p = p;
        p->n_conns++;
        c->next = p->conns;
        if (p->conns)
                p->conns->prev = c;
        p->conns = c;
        c->client = bufferevent_socket_new(p->base, fd, BEV_OPT_CLOSE_ON_FREE);
        c->timer = evtimer_new(p->base, on_head_timeout, c);
        if (!c->client || !c->timer || evtimer_add(c->timer, &deadline) < 0) {
                if (!c->client)
                        close(fd);
                conn_free(c);
                return;
        }
        bufferevent_setcb(c->client, on_client_read, NULL, on_client_event, c);
        /* A head never needs more than this; past it the parser refuses anyway. */
        bufferevent_setwatermark(c->client, EV_READ, 0, HTTP_MAX_HEAD + 1);
        bufferevent_enable(c->client, EV_READ | EV_WRITE);
}
