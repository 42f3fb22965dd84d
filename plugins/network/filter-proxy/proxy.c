/* SPDX-License-Identifier: Apache-2.0 */
/* The engine's setup, listeners, event loop and audit events: see proxy.h, engine.h. */

#include "engine.h"
#include "policy.h"

#include <errno.h>
#include <event2/dns.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>

void *proxy_zalloc(struct proxy *p, size_t size)
{
        void *ptr = p->host->alloc(p->host->ctx, size);

        if (ptr)
                memset(ptr, 0, size);
        return ptr;
}

void proxy_free_mem(struct proxy *p, void *ptr)
{
        if (ptr)
                p->host->free(p->host->ctx, ptr);
}

static char *proxy_strdup(struct proxy *p, const char *s)
{
        size_t len = strlen(s);
        char *copy = proxy_zalloc(p, len + 1);

        if (copy)
                memcpy(copy, s, len);
        return copy;
}

/* A copy of a string list, each entry checked by `valid` when given. */
static int copy_strv(struct proxy *p, const char *const *src, size_t n, char ***ret, size_t *ret_n)
{
        char **v = proxy_zalloc(p, (n + 1) * sizeof(*v));

        if (!v)
                return -ENOMEM;
        *ret = v;
        *ret_n = n;
        for (size_t i = 0; i < n; i++) {
                v[i] = proxy_strdup(p, src[i]);
                if (!v[i])
                        return -ENOMEM;
        }
        return 0;
}

static void free_strv(struct proxy *p, char **v, size_t n)
{
        if (!v)
                return;
        for (size_t i = 0; i < n; i++)
                proxy_free_mem(p, v[i]);
        proxy_free_mem(p, v);
}

void proxy_audit(struct proxy *p, const char *host, uint16_t port, const char *method,
                 const char *decision, const char *reason)
{
        json_t *fields = json_object();
        char *text;

        if (!fields)
                return;
        json_object_set_new(fields, "session", json_string(p->session_id));
        json_object_set_new(fields, "host", host ? json_string(host) : json_null());
        json_object_set_new(fields, "port", json_integer(port));
        json_object_set_new(fields, "method", method ? json_string(method) : json_null());
        json_object_set_new(fields, "decision", json_string(decision));
        json_object_set_new(fields, "reason", reason ? json_string(reason) : json_null());
        text = json_dumps(fields, JSON_COMPACT);
        if (text && p->host->audit_event)
                p->host->audit_event(p->host->ctx, "proxy.decision", text);
        free(text);
        json_decref(fields);
}

/* The credentials a child sends as Proxy-Authorization: Basic base64("nono:TOKEN"). */
static int make_basic_credentials(struct proxy *p, const char *token)
{
        size_t len = strlen(token);
        size_t plain_len = 5 + len;
        unsigned char *plain = p->host->secret_alloc(p->host->ctx, plain_len + 1);

        p->token_len = len;
        p->token = p->host->secret_alloc(p->host->ctx, len + 1);
        p->basic_credentials = p->host->secret_alloc(p->host->ctx, 4 * (plain_len / 3 + 1) + 1);
        if (!plain || !p->token || !p->basic_credentials) {
                if (plain)
                        p->host->secret_free(p->host->ctx, plain);
                return -ENOMEM;
        }
        memcpy(p->token, token, len);
        memcpy(plain, "nono:", 5);
        memcpy(plain + 5, token, len);
        p->basic_credentials_len =
            (size_t)EVP_EncodeBlock((unsigned char *)p->basic_credentials, plain, (int)plain_len);
        p->host->secret_free(p->host->ctx, plain);
        return 0;
}

static int copy_upstream_proxy(struct proxy *p, const struct nono_plan *plan)
{
        const char *up = plan->upstream_proxy;

        if (!up || !*up)
                return 0;
        if (http_parse_authority(up, strlen(up), true, 0, p->upstream_proxy_host,
                                 &p->upstream_proxy_port) < 0) {
                p->host->set_error(p->host->ctx, "invalid upstream proxy '%s': expected host:port",
                                   up);
                return -EINVAL;
        }
        return copy_strv(p, plan->upstream_bypass, plan->n_upstream_bypass, &p->upstream_bypass,
                         &p->n_upstream_bypass);
}

static int copy_routes(struct proxy *p, const struct proxy_settings *s)
{
        const struct nono_plan *plan = s->plan;

        if (plan->n_routes == 0)
                return 0;
        if (!s->phantoms) {
                p->host->set_error(p->host->ctx, "credential routes need phantom tokens");
                return -EINVAL;
        }
        p->routes = proxy_zalloc(p, plan->n_routes * sizeof(*p->routes));
        if (!p->routes)
                return -ENOMEM;
        for (size_t i = 0; i < plan->n_routes; i++) {
                int r = route_init(p, &p->routes[i], plan->routes[i], s->phantoms[i]);

                p->n_routes = i + 1;
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A limit from the plugin's nono.conf section, within [min, max]; else the default. */
static int read_limit(struct proxy *p, const char *key, long long def, long long min, long long max,
                      long long *ret)
{
        long long v;

        *ret = def;
        if (!p->host->config_int || p->host->config_int(p->host->ctx, key, &v) < 0)
                return 0;
        if (v < min || v > max) {
                p->host->set_error(p->host->ctx, "proxy setting %s = %lld: expected %lld to %lld",
                                   key, v, min, max);
                return -EINVAL;
        }
        *ret = v;
        return 0;
}

static int read_limits(struct proxy *p)
{
        int r = read_limit(p, "max_connections", PROXY_MAX_CONNS, 1, 1000000, &p->max_conns);

        if (r >= 0)
                r = read_limit(p, "head_timeout", PROXY_HEAD_TIMEOUT_S, 1, 3600,
                               &p->head_timeout_s);
        if (r >= 0)
                r = read_limit(p, "idle_timeout", PROXY_IDLE_TIMEOUT_S, 1, 86400,
                               &p->idle_timeout_s);
        return r;
}

static int setup_event_base(struct proxy *p)
{
        p->base = event_base_new();
        if (!p->base) {
                p->host->set_error(p->host->ctx, "cannot create the proxy's event loop");
                return -ENOMEM;
        }
        /* resolv.conf and /etc/hosts, like the C library; lookups are asynchronous. */
        p->dns = evdns_base_new(p->base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
                                             EVDNS_BASE_DISABLE_WHEN_INACTIVE);
        if (!p->dns) {
                p->host->set_error(p->host->ctx, "cannot set up name resolution for the proxy");
                return -ENOMEM;
        }
        return 0;
}

int proxy_new(const struct proxy_settings *s, struct proxy **ret)
{
        const struct nono_host *host = s->host;
        struct proxy *p = host->alloc(host->ctx, sizeof(*p));
        int r;

        if (!p) {
                host->set_error(host->ctx, "out of memory");
                return -ENOMEM;
        }
        memset(p, 0, sizeof(*p));
        p->host = host;
        if (!s->token || !*s->token) {
                host->set_error(host->ctx, "the proxy needs a session token");
                r = -EINVAL;
                goto fail;
        }
        r = read_limits(p);
        if (r >= 0)
                r = copy_strv(p, s->plan->allowed_hosts, s->plan->n_allowed_hosts,
                              &p->allowed_hosts, &p->n_allowed_hosts);
        if (r >= 0)
                r = make_basic_credentials(p, s->token);
        if (r >= 0) {
                p->session_id = proxy_strdup(p, s->plan->session_id ? s->plan->session_id : "");
                r = p->session_id ? 0 : -ENOMEM;
        }
        if (r >= 0)
                r = copy_upstream_proxy(p, s->plan);
        if (r >= 0)
                r = copy_routes(p, s);
        if (r >= 0)
                r = setup_event_base(p);
        if (r < 0)
                goto fail;
        *ret = p;
        return 0;
fail:
        if (r == -ENOMEM)
                host->set_error(host->ctx, "out of memory setting up the proxy");
        proxy_free(p);
        return r;
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
                      int socklen, void *arg)
{
        conn_accept(arg, fd);
}

static void on_accept_resume(evutil_socket_t fd, short what, void *arg)
{
        struct proxy *p = arg;

        for (size_t i = 0; i < p->n_listeners; i++)
                evconnlistener_enable(p->listeners[i]);
}

/*
 * Out of descriptors (or another accept failure): a listening socket stays readable, so
 * pause accepting for a moment instead of spinning; closing connections free some.
 */
static void on_accept_error(struct evconnlistener *l, void *arg)
{
        struct proxy *p = arg;
        struct timeval pause = {0, 100 * 1000};
        int err = EVUTIL_SOCKET_ERROR();

        p->host->log(p->host->ctx, NONO_LOG_WARNING, "proxy: accept failed: %s",
                     evutil_socket_error_to_string(err));
        evconnlistener_disable(l);
        if (!p->accept_resume)
                p->accept_resume = evtimer_new(p->base, on_accept_resume, p);
        if (p->accept_resume)
                evtimer_add(p->accept_resume, &pause);
}

int proxy_add_listener(struct proxy *p, int listen_fd)
{
        struct evconnlistener **grown;
        struct evconnlistener *l;

        grown = proxy_zalloc(p, (p->n_listeners + 1) * sizeof(*grown));
        if (!grown) {
                p->host->set_error(p->host->ctx, "out of memory");
                return -ENOMEM;
        }
        if (p->n_listeners)
                memcpy(grown, p->listeners, p->n_listeners * sizeof(*grown));
        proxy_free_mem(p, p->listeners);
        p->listeners = grown;
        evutil_make_socket_nonblocking(listen_fd);
        evutil_make_socket_closeonexec(listen_fd);
        /* Backlog 0: the socket already listens. */
        l = evconnlistener_new(p->base, on_accept, p, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
                               0, listen_fd);
        if (!l) {
                p->host->set_error(p->host->ctx, "cannot serve the proxy socket: %s",
                                   strerror(errno));
                return -errno ? -errno : -EINVAL;
        }
        evconnlistener_set_error_cb(l, on_accept_error);
        p->listeners[p->n_listeners++] = l;
        return 0;
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
        event_base_loopbreak(arg);
}

int proxy_run(struct proxy *p, int stop_fd)
{
        struct sigaction ignore = {.sa_handler = SIG_IGN};
        struct rlimit files;
        struct event *stop;
        int r;

        /* A client closing mid-write must cost an EPIPE, not the proxy process. */
        sigaction(SIGPIPE, &ignore, NULL);
        /* Each connection takes two descriptors. */
        if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
                files.rlim_cur = files.rlim_max;
                setrlimit(RLIMIT_NOFILE, &files);
        }
        /* The glue may have created the engine before forking. */
        event_reinit(p->base);
        stop = event_new(p->base, stop_fd, EV_READ, on_stop, p->base);
        if (!stop || event_add(stop, NULL) < 0) {
                if (stop)
                        event_free(stop);
                p->host->set_error(p->host->ctx, "cannot watch the proxy's stop descriptor");
                return -EINVAL;
        }
        r = event_base_dispatch(p->base);
        event_free(stop);
        if (r < 0) {
                p->host->set_error(p->host->ctx, "the proxy's event loop failed");
                return -EIO;
        }
        return 0;
}

void proxy_free(struct proxy *p)
{
        if (!p)
                return;
        for (size_t i = 0; i < p->n_listeners; i++)
                evconnlistener_free(p->listeners[i]);
        if (p->accept_resume)
                event_free(p->accept_resume);
        proxy_free_mem(p, p->listeners);
        conn_free_all(p);
        for (size_t i = 0; i < p->n_routes; i++)
                route_fini(p, &p->routes[i]);
        proxy_free_mem(p, p->routes);
        if (p->dns)
                evdns_base_free(p->dns, 1);
        if (p->base)
                event_base_free(p->base);
        free_strv(p, p->allowed_hosts, p->n_allowed_hosts);
        free_strv(p, p->upstream_bypass, p->n_upstream_bypass);
        proxy_free_mem(p, p->session_id);
        if (p->token)
                p->host->secret_free(p->host->ctx, p->token);
        if (p->basic_credentials)
                p->host->secret_free(p->host->ctx, p->basic_credentials);
        p->host->free(p->host->ctx, p);
}
