/* SPDX-License-Identifier: Apache-2.0 */
/*
 * <nono/nono.h>: the filtering proxy as a service of the calling program.  A
 * configuration keeps hosts and route definitions (validated when added, as a
 * profile's are); starting builds a plan of network mode PROXY from them and runs it
 * as `nono proxy` does, with the proxy's audit events sent back over an audit channel.
 */
#include <nono/nono.h>

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "auditchan.h"
#include "caps.h"
#include "error.h"
#include "names.h"
#include "netplan.h"
#include "run.h"

#define ROUTE_ORIGIN "nono_proxy_config_add_route"
#define HOST_ORIGIN  "nono_proxy_config_allow_host"

struct nono_proxy_config {
        struct strv hosts;
        json_t *routes; /* prefix -> definition, in netplan_add_route's shape */
};

struct nono_proxy {
        pthread_mutex_t lock;
        struct session *session; /* NULL once shut down */
        /* At a fixed address: the proxy process writes through its copy of it. */
        struct auditchan audit;
        struct strv env, credential_env;
        struct strv secret_vars; /* variables the credentials were read from */
        struct strv events;      /* read from the channel, not yet drained */
        uint16_t port;
};

static int invalid(const char *what)
{
        return sdk_failed(nono_error(-EINVAL, "%s", what), NONO_ERROR_INVALID);
}

/* ---- configuration --------------------------------------------------------------------- */

nono_proxy_config *nono_proxy_config_new(void)
{
        nono_proxy_config *c = calloc(1, sizeof(*c));

        sdk_begin();
        if (c && !(c->routes = json_object())) {
                free(c);
                c = NULL;
        }
        if (!c)
                sdk_failed(-ENOMEM, NONO_ERROR_SYSTEM);
        return c;
}

void nono_proxy_config_free(nono_proxy_config *config)
{
        if (!config)
                return;
        strv_free(&config->hosts);
        json_decref(config->routes);
        free(config);
}

int nono_proxy_config_allow_host(nono_proxy_config *config, const char *host)
{
        struct plan scratch;
        int r;

        sdk_begin();
        if (!config || !host)
                return invalid("nono_proxy_config_allow_host: config and host are required");
        plan_init(&scratch);
        r = netplan_add_host(&scratch, host, HOST_ORIGIN);
        /* Kept as given: the plan built at start lower-cases it again. */
        if (r == 0 && !strv_contains(&config->hosts, host))
                r = strv_push(&config->hosts, host);
        plan_free(&scratch);
        return sdk_failed(r, NONO_ERROR_INVALID);
}

static const char *inject_mode_name(int mode)
{
        switch (mode) {
        case NONO_INJECT_HEADER:
                return "header";
        case NONO_INJECT_QUERY_PARAM:
                return "query_param";
        case NONO_INJECT_BASIC_AUTH:
                return "basic_auth";
        default:
                return NULL;
        }
}

static int set_string(json_t *def, const char *key, const char *value)
{
        if (!value)
                return 0;
        return json_object_set_new(def, key, json_string(value)) == 0 ? 0 : -ENOMEM;
}

static int set_rules(json_t *def, const char *const *rules)
{
        json_t *array = json_array();

        for (size_t i = 0; array && rules && rules[i]; i++)
                if (json_array_append_new(array, json_string(rules[i])) < 0) {
                        json_decref(array);
                        return -ENOMEM;
                }
        if (!array || json_object_set_new(def, "endpoint_rules", array) < 0)
                return -ENOMEM;
        return 0;
}

/* The route as a definition netplan validates like a profile's custom credential. */
static int route_def(const struct nono_route *rt, json_t **ret)
{
        const char *mode = inject_mode_name(rt->inject_mode);
        json_t *def = json_object();
        int r = def ? 0 : -ENOMEM;

        if (!mode)
                r = nono_error(-EINVAL,
                               "route \"%s\": unknown inject mode %d (want NONO_INJECT_HEADER, "
                               "_QUERY_PARAM or _BASIC_AUTH)",
                               rt->prefix, rt->inject_mode);
        if (r == 0)
                r = set_string(def, "inject_mode", mode);
        if (r == 0)
                r = set_string(def, "upstream", rt->upstream);
        if (r == 0)
                r = set_string(def, "credential_key", rt->credential_key);
        if (r == 0)
                r = set_string(def, "inject_header", rt->inject_header);
        if (r == 0)
                r = set_string(def, "credential_format", rt->credential_format);
        if (r == 0)
                r = set_string(def, "env_var", rt->env_var);
        if (r == 0)
                r = set_string(def, "base_url_var", rt->base_url_var);
        if (r == 0)
                r = set_string(def, "tls_ca", rt->tls_ca);
        if (r == 0)
                r = set_rules(def, rt->endpoint_rules);
        if (r < 0) {
                json_decref(def);
                return r;
        }
        *ret = def;
        return 0;
}

int nono_proxy_config_add_route(nono_proxy_config *config, const struct nono_route *route)
{
        struct plan scratch;
        const char *prefix;
        json_t *def = NULL;
        int r;

        sdk_begin();
        if (!config || !route || route->size < sizeof(struct nono_route) || !route->prefix)
                return invalid("nono_proxy_config_add_route: config and route (with size and "
                               "prefix set) are required");
        prefix = route->prefix[0] == '/' ? route->prefix + 1 : route->prefix;
        if (json_object_get(config->routes, prefix))
                return sdk_failed(nono_error(-EEXIST, "route \"%s\" is configured already", prefix),
                                  NONO_ERROR_INVALID);
        r = route_def(route, &def);
        plan_init(&scratch);
        if (r == 0)
                r = netplan_add_route(&scratch, prefix, def, ROUTE_ORIGIN);
        plan_free(&scratch);
        if (r == 0 && json_object_set(config->routes, prefix, def) < 0)
                r = -ENOMEM;
        json_decref(def);
        return sdk_failed(r, NONO_ERROR_INVALID);
}

/* ---- starting ---------------------------------------------------------------------------- */

static int build_plan(const nono_proxy_config *c, struct plan *p)
{
        const char *prefix;
        json_t *def;
        int r = 0;

        plan_init(p);
        if (!c->hosts.n && !json_object_size(c->routes))
                return nono_error(-EINVAL, "the proxy has nothing to serve: allow a host or add "
                                           "a route first");
        for (size_t i = 0; r == 0 && i < c->hosts.n; i++)
                r = netplan_add_host(p, c->hosts.items[i], HOST_ORIGIN);
        json_object_foreach(c->routes, prefix, def)
        {
                if (r == 0)
                        r = netplan_add_route(p, prefix, def, ROUTE_ORIGIN);
        }
        p->network_mode = NONO_NETWORK_PROXY;
        p->network_mode_set = 1;
        plan_view(p);
        return r;
}

static int is_route_var(const struct plan *p, const char *entry)
{
        size_t len = strcspn(entry, "=");

        for (size_t i = 0; i < p->n_routes; i++) {
                const char *env = p->routes[i]->env_var, *url = p->routes[i]->base_url_var;

                if ((strlen(env) == len && strncmp(env, entry, len) == 0) ||
                    (strlen(url) == len && strncmp(url, entry, len) == 0))
                        return 1;
        }
        return 0;
}

/* The client's variables, the routes' own among them, and the port the proxy took
 * (the one port network_prepare added to the plan). */
static int collect_client_view(nono_proxy *px)
{
        const struct plan *p = run_session_plan(px->session);
        int r = run_session_network_env(px->session, &px->env);

        for (size_t i = 0; r >= 0 && i < px->env.n; i++)
                if (is_route_var(p, px->env.items[i]))
                        r = strv_push(&px->credential_env, px->env.items[i]);
        for (size_t i = 0; r >= 0 && i < p->n_routes; i++) {
                const char *key = p->routes[i]->credential_key;

                key += strncmp(key, "env://", 6) == 0 ? 6 : 0;
                if (name_is_env_var(key) && !strv_contains(&px->secret_vars, key))
                        r = strv_push(&px->secret_vars, key);
        }
        if (r >= 0 && p->n_connect_ports != 1)
                r = nono_error(-EIO, "the proxy reported %zu ports, not one", p->n_connect_ports);
        if (r >= 0)
                px->port = p->connect_ports[0];
        return r < 0 ? r : 0;
}

static nono_proxy *proxy_new(void)
{
        nono_proxy *px = calloc(1, sizeof(*px));

        if (!px)
                return NULL;
        px->audit.read_fd = px->audit.write_fd = -1;
        if (pthread_mutex_init(&px->lock, NULL) != 0) {
                free(px);
                return NULL;
        }
        return px;
}

int nono_proxy_start(const nono_proxy_config *config, nono_proxy **ret)
{
        enum run_stage stage = RUN_STAGE_CONFIG;
        struct plan plan;
        nono_proxy *px;
        int r;

        sdk_begin();
        if (!config || !ret)
                return invalid("nono_proxy_start: config and ret are required");
        *ret = NULL;
        px = proxy_new();
        if (!px)
                return sdk_failed(-ENOMEM, NONO_ERROR_SYSTEM);
        r = build_plan(config, &plan);
        if (r < 0) {
                plan_free(&plan);
                nono_proxy_free(px);
                return sdk_failed(r, NONO_ERROR_INVALID);
        }
        r = sdk_failed(auditchan_open(&px->audit), NONO_ERROR_SYSTEM);
        if (r < 0)
                plan_free(&plan);
        if (r >= 0) {
                r = run_proxy_open(&plan, auditchan_sink, &px->audit, &px->session, &stage);
                r = sdk_failed(r, sdk_kind_of_stage(stage));
        }
        /* Only the proxy process writes: its exit is the channel's end. */
        auditchan_close_writer(&px->audit);
        if (r >= 0)
                r = sdk_failed(collect_client_view(px), NONO_ERROR_SYSTEM);
        if (r < 0) {
                nono_proxy_free(px);
                return r;
        }
        *ret = px;
        return 0;
}

/* ---- the running proxy ------------------------------------------------------------------ */

/* A malloc'ed NULL-terminated copy, for nono_strings_free. */
static int copy_strings(const struct strv *v, char ***ret)
{
        char **out = calloc(v->n + 1, sizeof(*out));

        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < v->n; i++)
                if (!(out[i] = nono_strdup(v->items[i]))) {
                        nono_strings_free(out);
                        return -ENOMEM;
                }
        *ret = out;
        return 0;
}

static int env_of(nono_proxy *px, const struct strv *which, char ***ret_env)
{
        int r;

        sdk_begin();
        if (!px || !ret_env)
                return invalid("nono_proxy_env: proxy and ret_env are required");
        pthread_mutex_lock(&px->lock);
        r = copy_strings(which, ret_env);
        pthread_mutex_unlock(&px->lock);
        return sdk_failed(r, NONO_ERROR_SYSTEM);
}

int nono_proxy_env(nono_proxy *proxy, char ***ret_env)
{
        return env_of(proxy, proxy ? &proxy->env : NULL, ret_env);
}

int nono_proxy_credential_env(nono_proxy *proxy, char ***ret_env)
{
        return env_of(proxy, proxy ? &proxy->credential_env : NULL, ret_env);
}

int nono_proxy_port(nono_proxy *proxy, uint16_t *ret_port)
{
        sdk_begin();
        if (!proxy || !ret_port)
                return invalid("nono_proxy_port: proxy and ret_port are required");
        *ret_port = proxy->port;
        return 0;
}

int nono_proxy_drain_audit(nono_proxy *proxy, char ***ret_events)
{
        int r;

        sdk_begin();
        if (!proxy || !ret_events)
                return invalid("nono_proxy_drain_audit: proxy and ret_events are required");
        pthread_mutex_lock(&proxy->lock);
        r = auditchan_drain(&proxy->audit, &proxy->events);
        if (r >= 0)
                r = copy_strings(&proxy->events, ret_events);
        if (r >= 0)
                strv_free(&proxy->events);
        pthread_mutex_unlock(&proxy->lock);
        return sdk_failed(r, NONO_ERROR_SYSTEM);
}

/* Stops and waits for the proxy process, then keeps what it wrote last.  Locked. */
static int stop_locked(nono_proxy *px)
{
        if (!px->session)
                return 0;
        run_session_free(px->session);
        px->session = NULL;
        return auditchan_drain(&px->audit, &px->events);
}

int nono_proxy_shutdown(nono_proxy *proxy)
{
        int r;

        sdk_begin();
        if (!proxy)
                return invalid("nono_proxy_shutdown: proxy is required");
        pthread_mutex_lock(&proxy->lock);
        r = stop_locked(proxy);
        pthread_mutex_unlock(&proxy->lock);
        return sdk_failed(r, NONO_ERROR_SYSTEM);
}

int nono_caps_use_proxy(nono_caps *caps, nono_proxy *proxy)
{
        struct strv env = STRV_INIT, secret_vars = STRV_INIT;
        int r;

        sdk_begin();
        if (!caps || !proxy)
                return invalid("nono_caps_use_proxy: caps and proxy are required");
        pthread_mutex_lock(&proxy->lock);
        r = strv_extend(&env, &proxy->env);
        if (r >= 0)
                r = strv_extend(&secret_vars, &proxy->secret_vars);
        if (r >= 0) {
                strv_free(&caps->proxy_env);
                strv_free(&caps->proxy_secret_vars);
                caps->proxy_env = env;
                caps->proxy_secret_vars = secret_vars;
                caps->proxy_port = proxy->port;
        } else {
                strv_free(&env);
                strv_free(&secret_vars);
        }
        pthread_mutex_unlock(&proxy->lock);
        return sdk_failed(r, NONO_ERROR_SYSTEM);
}

void nono_proxy_free(nono_proxy *proxy)
{
        if (!proxy)
                return;
        (void)stop_locked(proxy);
        auditchan_free(&proxy->audit);
        strv_free(&proxy->env);
        strv_free(&proxy->credential_env);
        strv_free(&proxy->secret_vars);
        strv_free(&proxy->events);
        pthread_mutex_destroy(&proxy->lock);
        free(proxy);
}

void nono_strings_free(char **strings)
{
        if (!strings)
                return;
        for (size_t i = 0; strings[i]; i++)
                free(strings[i]);
        free(strings);
}
