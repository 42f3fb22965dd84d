/* SPDX-License-Identifier: Apache-2.0 */
#include "plan.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "host.h"

void plan_init(struct plan *p)
{
        memset(p, 0, sizeof(*p));
        p->network_mode = NONO_NETWORK_ALLOW;
        limits_init(&p->limits);
}

static void grant_free(struct nono_grant *g)
{
        if (!g)
                return;
        free((char *)g->path);
        free((char *)g->origin);
        free(g);
}

static void deny_free(struct nono_deny *d)
{
        if (!d)
                return;
        free((char *)d->path);
        free((char *)d->origin);
        free(d);
}

void plan_route_free(struct plan_route *r)
{
        if (!r)
                return;
        free(r->service);
        free(r->upstream);
        free(r->inject_header);
        free(r->credential_format);
        free(r->env_var);
        free(r->base_url_var);
        free(r->tls_ca);
        free(r->credential_key);
        strv_free(&r->endpoint_rules);
        host_secret_free(r->secret);
        free(r);
}

void plan_forget_secrets(struct plan *p)
{
        for (size_t i = 0; i < p->n_routes; i++) {
                host_secret_free(p->routes[i]->secret);
                p->routes[i]->secret = NULL;
                p->routes[i]->secret_len = 0;
        }
}

void plan_free(struct plan *p)
{
        for (size_t i = 0; i < p->n_routes; i++)
                plan_route_free(p->routes[i]);
        free(p->routes);
        free(p->route_views);
        free(p->upstream_proxy);
        strv_free(&p->upstream_bypass);
        free(p->session_id);
        for (size_t i = 0; i < p->n_grants; i++)
                grant_free(p->grants[i]);
        for (size_t i = 0; i < p->n_denies; i++)
                deny_free(p->denies[i]);
        free(p->grants);
        free(p->denies);
        free(p->connect_ports);
        free(p->bind_ports);
        strv_free(&p->allowed_hosts);
        strv_free(&p->env_allow);
        strv_free(&p->env_deny);
        strv_free(&p->env_set);
        strv_free(&p->readonly_paths);
        strv_free(&p->persistence_watch);
        strv_free(&p->unix_sockets);
        free(p->workdir);
        free(p->profile_name);
        plan_init(p);
}

/* Grows an array of pointers so that one more element fits. */
static int grow(void *items_ptr, size_t n, size_t *cap)
{
        void ***items = items_ptr;
        size_t new_cap;
        void **grown;

        if (n < *cap)
                return 0;
        new_cap = *cap ? *cap * 2 : 16;
        grown = realloc(*items, new_cap * sizeof(void *));
        if (!grown)
                return -ENOMEM;
        *items = grown;
        *cap = new_cap;
        return 0;
}

static struct nono_grant *find_grant(struct plan *p, const char *path)
{
        for (size_t i = 0; i < p->n_grants; i++)
                if (strcmp(p->grants[i]->path, path) == 0)
                        return p->grants[i];
        return NULL;
}

int plan_add_grant(struct plan *p, const char *path, uint32_t access, uint32_t flags,
                   const char *origin)
{
        struct nono_grant *g = find_grant(p, path);

        if (path[0] != '/')
                return nono_error(-EINVAL, "grant path is not absolute: %s", path);
        if (g) {
                g->access |= access;
                return 0;
        }
        if (grow(&p->grants, p->n_grants, &p->cap_grants) < 0)
                return -ENOMEM;
        g = calloc(1, sizeof(*g));
        if (!g)
                return -ENOMEM;
        g->size = sizeof(*g);
        g->access = access;
        g->flags = flags;
        g->path = nono_strdup(path);
        g->origin = nono_strdup(origin ? origin : "");
        if (!g->path || !g->origin) {
                grant_free(g);
                return -ENOMEM;
        }
        p->grants[p->n_grants++] = g;
        return 0;
}

void plan_drop_grant(struct plan *p, size_t index)
{
        if (index >= p->n_grants)
                return;
        grant_free(p->grants[index]);
        memmove(&p->grants[index], &p->grants[index + 1],
                (p->n_grants - index - 1) * sizeof(p->grants[0]));
        p->n_grants--;
}

int plan_add_deny(struct plan *p, const char *path, const char *origin)
{
        struct nono_deny *d;

        for (size_t i = 0; i < p->n_denies; i++)
                if (strcmp(p->denies[i]->path, path) == 0)
                        return 0;
        if (grow(&p->denies, p->n_denies, &p->cap_denies) < 0)
                return -ENOMEM;
        d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        d->size = sizeof(*d);
        d->path = nono_strdup(path);
        d->origin = nono_strdup(origin ? origin : "");
        if (!d->path || !d->origin) {
                deny_free(d);
                return -ENOMEM;
        }
        p->denies[p->n_denies++] = d;
        return 0;
}

size_t plan_remove_deny(struct plan *p, const char *path)
{
        size_t removed = 0;
        size_t out = 0;

        for (size_t i = 0; i < p->n_denies; i++) {
                if (strcmp(p->denies[i]->path, path) == 0) {
                        deny_free(p->denies[i]);
                        removed++;
                        continue;
                }
                p->denies[out++] = p->denies[i];
        }
        p->n_denies = out;
        return removed;
}

int plan_add_port(struct plan *p, int bind, uint16_t port)
{
        uint16_t **ports = bind ? &p->bind_ports : &p->connect_ports;
        size_t *n = bind ? &p->n_bind_ports : &p->n_connect_ports;
        uint16_t *grown;

        for (size_t i = 0; i < *n; i++)
                if ((*ports)[i] == port)
                        return 0;
        grown = realloc(*ports, (*n + 1) * sizeof(**ports));
        if (!grown)
                return -ENOMEM;
        grown[(*n)++] = port;
        *ports = grown;
        return 0;
}

struct plan_route *plan_find_route(const struct plan *p, const char *service)
{
        for (size_t i = 0; i < p->n_routes; i++)
                if (strcmp(p->routes[i]->service, service) == 0)
                        return p->routes[i];
        return NULL;
}

int plan_add_route(struct plan *p, struct plan_route *route)
{
        const struct nono_credential_route **views;

        if (plan_find_route(p, route->service)) {
                plan_route_free(route);
                return -EEXIST;
        }
        if (grow(&p->routes, p->n_routes, &p->cap_routes) < 0) {
                plan_route_free(route);
                return -ENOMEM;
        }
        views = realloc(p->route_views, (p->n_routes + 1) * sizeof(*views));
        if (!views) {
                plan_route_free(route);
                return -ENOMEM;
        }
        p->route_views = views;
        p->routes[p->n_routes++] = route;
        return 0;
}

int plan_origin_is_group(const char *origin)
{
        return origin && strncmp(origin, "group ", 6) == 0;
}

const struct nono_plan *plan_view(struct plan *p)
{
        struct nono_plan *v = &p->view;

        memset(v, 0, sizeof(*v));
        v->size = sizeof(*v);
        v->flags = p->flags;
        v->grants = (const struct nono_grant *const *)p->grants;
        v->n_grants = p->n_grants;
        v->denies = (const struct nono_deny *const *)p->denies;
        v->n_denies = p->n_denies;
        v->network_mode = p->network_mode;
        v->tcp_connect_ports = p->connect_ports;
        v->n_tcp_connect_ports = p->n_connect_ports;
        v->tcp_bind_ports = p->bind_ports;
        v->n_tcp_bind_ports = p->n_bind_ports;
        v->allowed_hosts = (const char *const *)p->allowed_hosts.items;
        v->n_allowed_hosts = p->allowed_hosts.n;
        v->workdir = p->workdir;
        v->readonly_paths = (const char *const *)p->readonly_paths.items;
        v->n_readonly_paths = p->readonly_paths.n;
        for (size_t i = 0; i < p->n_routes; i++) {
                struct plan_route *r = p->routes[i];

                r->view.size = sizeof(r->view);
                r->view.service = r->service;
                r->view.upstream = r->upstream;
                r->view.inject_header = r->inject_header;
                r->view.credential_format = r->credential_format;
                r->view.env_var = r->env_var;
                r->view.base_url_var = r->base_url_var;
                r->view.tls_ca = r->tls_ca;
                r->view.endpoint_rules = (const char *const *)r->endpoint_rules.items;
                r->view.n_endpoint_rules = r->endpoint_rules.n;
                r->view.secret = r->secret;
                r->view.secret_len = r->secret_len;
                p->route_views[i] = &r->view;
        }
        v->routes = p->route_views;
        v->n_routes = p->n_routes;
        v->proxy_port = p->proxy_port;
        v->upstream_proxy = p->upstream_proxy;
        v->upstream_bypass = (const char *const *)p->upstream_bypass.items;
        v->n_upstream_bypass = p->upstream_bypass.n;
        v->session_id = p->session_id;
        return v;
}

int plan_check_protected(const struct plan *p, int can_mask)
{
        for (size_t i = 0; i < p->n_grants; i++) {
                const struct nono_grant *g = p->grants[i];

                for (size_t j = 0; j < p->n_denies; j++) {
                        const struct nono_deny *d = p->denies[j];

                        if (!can_mask && path_is_within(d->path, g->path))
                                return nono_error(
                                    -EPERM,
                                    "grant %s (%s) contains the protected path %s (%s); "
                                    "grant narrower directories instead",
                                    g->path, g->origin, d->path, d->origin);
                        if (path_is_within(g->path, d->path))
                                return nono_error(-EPERM,
                                                  "grant %s (%s) lies inside the protected "
                                                  "path %s (%s)",
                                                  g->path, g->origin, d->path, d->origin);
                }
        }
        return 0;
}

static const char *access_name(uint32_t access)
{
        switch (access & NONO_ACCESS_READWRITE) {
        case NONO_ACCESS_READ:
                return "read";
        case NONO_ACCESS_WRITE:
                return "write";
        case NONO_ACCESS_READWRITE:
                return "readwrite";
        default:
                return "none";
        }
}

static const char *network_mode_name(uint32_t mode)
{
        switch (mode) {
        case NONO_NETWORK_BLOCK:
                return "blocked";
        case NONO_NETWORK_PROXY:
                return "proxy";
        default:
                return "unrestricted";
        }
}

static void print_ports(FILE *out, const char *label, const uint16_t *ports, size_t n)
{
        if (n == 0)
                return;
        fprintf(out, "  %s:", label);
        for (size_t i = 0; i < n; i++)
                fprintf(out, " %u", ports[i]);
        fputc('\n', out);
}

static const char *inject_mode_name(uint32_t mode)
{
        switch (mode) {
        case NONO_INJECT_QUERY_PARAM:
                return "query_param";
        case NONO_INJECT_BASIC_AUTH:
                return "basic_auth";
        default:
                return "header";
        }
}

/* The reference to the secret, never the secret. */
static void print_route(FILE *out, const struct plan_route *r)
{
        fprintf(out, "  credential %s: /%s -> %s (%s %s, secret from %s)\n", r->service, r->service,
                r->upstream, inject_mode_name(r->view.inject_mode), r->inject_header,
                r->credential_key);
        for (size_t i = 0; i < r->endpoint_rules.n; i++)
                fprintf(out, "    endpoint: %s\n", r->endpoint_rules.items[i]);
}

void plan_print(const struct plan *p, FILE *out)
{
        if (p->profile_name)
                fprintf(out, "profile: %s\n", p->profile_name);
        if (p->workdir)
                fprintf(out, "workdir: %s\n", p->workdir);
        fprintf(out, "grants:\n");
        for (size_t i = 0; i < p->n_grants; i++) {
                const struct nono_grant *g = p->grants[i];

                fprintf(out, "  %-9s %-4s %s  (%s)\n", access_name(g->access),
                        g->flags & NONO_GRANT_FILE ? "file" : "dir", g->path, g->origin);
        }
        fprintf(out, "protected:\n");
        for (size_t i = 0; i < p->n_denies; i++)
                fprintf(out, "  %s  (%s)\n", p->denies[i]->path, p->denies[i]->origin);
        for (size_t i = 0; i < p->unix_sockets.n; i++)
                fprintf(out, "unix socket: %s\n", p->unix_sockets.items[i]);
        if (p->allow_unix_datagrams)
                fprintf(out, "unix datagrams: allowed: they reach any datagram socket on the "
                             "host, grants or not\n");
        else
                fprintf(out, "unix datagrams: refused: socket() and socketpair() of AF_UNIX "
                             "SOCK_DGRAM fail with EPERM (--allow-unix-datagrams)\n");
        if (p->readonly_paths.n)
                fprintf(out, "read-only inside write grants:\n");
        for (size_t i = 0; i < p->readonly_paths.n; i++)
                fprintf(out, "  %s\n", p->readonly_paths.items[i]);
        if (p->flags & NONO_PLAN_SHARE_TMP)
                fprintf(out, "tmp: the host's /tmp and /dev/shm (--share-tmp)\n");
        limits_print(&p->limits, out);
        fprintf(out, "network: %s\n", network_mode_name(p->network_mode));
        for (size_t i = 0; i < p->allowed_hosts.n; i++)
                fprintf(out, "  allow host: %s\n", p->allowed_hosts.items[i]);
        for (size_t i = 0; i < p->n_routes; i++)
                print_route(out, p->routes[i]);
        if (p->upstream_proxy)
                fprintf(out, "  upstream proxy: %s\n", p->upstream_proxy);
        for (size_t i = 0; i < p->upstream_bypass.n; i++)
                fprintf(out, "  upstream bypass: %s\n", p->upstream_bypass.items[i]);
        print_ports(out, "tcp connect ports", p->connect_ports, p->n_connect_ports);
        print_ports(out, "tcp bind ports", p->bind_ports, p->n_bind_ports);
        for (size_t i = 0; i < p->env_set.n; i++) {
                const char *eq = strchr(p->env_set.items[i], '=');
                int len = eq ? (int)(eq - p->env_set.items[i]) : (int)strlen(p->env_set.items[i]);

                /* Values may be secrets: print names only. */
                fprintf(out, "  env set: %.*s\n", len, p->env_set.items[i]);
        }
        for (size_t i = 0; i < p->env_allow.n; i++)
                fprintf(out, "  env allow: %s\n", p->env_allow.items[i]);
        for (size_t i = 0; i < p->env_deny.n; i++)
                fprintf(out, "  env deny: %s\n", p->env_deny.items[i]);
}

static json_t *strv_to_json(const struct strv *v)
{
        json_t *a = json_array();

        for (size_t i = 0; a && i < v->n; i++)
                json_array_append_new(a, json_string(v->items[i]));
        return a;
}

static json_t *ports_to_json(const uint16_t *ports, size_t n)
{
        json_t *a = json_array();

        for (size_t i = 0; a && i < n; i++)
                json_array_append_new(a, json_integer(ports[i]));
        return a;
}

static json_t *env_set_names_to_json(const struct strv *set)
{
        json_t *a = json_array();

        for (size_t i = 0; a && i < set->n; i++) {
                const char *eq = strchr(set->items[i], '=');
                size_t len = eq ? (size_t)(eq - set->items[i]) : strlen(set->items[i]);

                json_array_append_new(a, json_stringn(set->items[i], len));
        }
        return a;
}

static json_t *routes_to_json(const struct plan *p)
{
        json_t *a = json_array();

        for (size_t i = 0; a && i < p->n_routes; i++) {
                const struct plan_route *r = p->routes[i];

                json_array_append_new(
                    a, json_pack("{s:s, s:s, s:s, s:s?, s:s, s:o}", "service", r->service,
                                 "upstream", r->upstream, "inject_mode",
                                 inject_mode_name(r->view.inject_mode), "inject_header",
                                 r->inject_header, "credential_key", r->credential_key,
                                 "endpoint_rules", strv_to_json(&r->endpoint_rules)));
        }
        return a;
}

json_t *plan_json_value(const struct plan *p)
{
        json_t *root = json_object();
        json_t *grants = json_array();
        json_t *denies = json_array();

        for (size_t i = 0; i < p->n_grants; i++) {
                const struct nono_grant *g = p->grants[i];

                json_array_append_new(grants, json_pack("{s:s, s:s, s:b, s:s}", "path", g->path,
                                                        "access", access_name(g->access), "file",
                                                        (g->flags & NONO_GRANT_FILE) != 0, "origin",
                                                        g->origin));
        }
        for (size_t i = 0; i < p->n_denies; i++)
                json_array_append_new(denies, json_pack("{s:s, s:s}", "path", p->denies[i]->path,
                                                        "origin", p->denies[i]->origin));
        json_object_set_new(root, "profile",
                            p->profile_name ? json_string(p->profile_name) : json_null());
        json_object_set_new(root, "workdir", p->workdir ? json_string(p->workdir) : json_null());
        json_object_set_new(root, "grants", grants);
        json_object_set_new(root, "protected", denies);
        json_object_set_new(root, "readonly", strv_to_json(&p->readonly_paths));
        json_object_set_new(root, "unix_sockets", strv_to_json(&p->unix_sockets));
        json_object_set_new(root, "allow_unix_datagrams", json_boolean(p->allow_unix_datagrams));
        json_object_set_new(
            root, "network",
            json_pack("{s:s, s:o, s:o, s:o, s:o}", "mode", network_mode_name(p->network_mode),
                      "allow_hosts", strv_to_json(&p->allowed_hosts), "credentials",
                      routes_to_json(p), "tcp_connect_ports",
                      ports_to_json(p->connect_ports, p->n_connect_ports), "tcp_bind_ports",
                      ports_to_json(p->bind_ports, p->n_bind_ports)));
        /* Values of set variables may be secrets: names only. */
        json_object_set_new(root, "environment",
                            json_pack("{s:o, s:o, s:o}", "set", env_set_names_to_json(&p->env_set),
                                      "allow", strv_to_json(&p->env_allow), "deny",
                                      strv_to_json(&p->env_deny)));
        return root;
}

char *plan_to_json(const struct plan *p)
{
        json_t *root = plan_json_value(p);
        char *text = root ? json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;

        json_decref(root);
        return text;
}

static int access_of(const char *name, uint32_t *ret)
{
        static const char *const names[] = {"none", "read", "write", "readwrite"};

        for (uint32_t i = 0; name && i < 4; i++)
                if (strcmp(name, names[i]) == 0) {
                        *ret = i; /* the names are indexed by their NONO_ACCESS_* bits */
                        return 0;
                }
        return -EINVAL;
}

static int network_mode_of(const char *name, uint32_t *ret)
{
        static const uint32_t modes[] = {NONO_NETWORK_ALLOW, NONO_NETWORK_BLOCK,
                                         NONO_NETWORK_PROXY};

        for (size_t i = 0; name && i < sizeof(modes) / sizeof(modes[0]); i++)
                if (strcmp(name, network_mode_name(modes[i])) == 0) {
                        *ret = modes[i];
                        return 0;
                }
        return -EINVAL;
}

static int strv_from_json(const json_t *a, struct strv *out)
{
        size_t i;
        json_t *item;
        int r = json_is_array(a) ? 0 : -EINVAL;

        json_array_foreach(a, i, item)
        {
                if (r >= 0)
                        r = json_is_string(item) ? strv_push(out, json_string_value(item))
                                                 : -EINVAL;
        }
        return r;
}

static int ports_from_json(struct plan *p, const json_t *a, int bind)
{
        size_t i;
        json_t *item;
        int r = json_is_array(a) ? 0 : -EINVAL;

        json_array_foreach(a, i, item)
        {
                json_int_t port = json_integer_value(item);

                if (r >= 0)
                        r = port > 0 && port <= 65535 ? plan_add_port(p, bind, (uint16_t)port)
                                                      : -EINVAL;
        }
        return r;
}

static int grants_from_json(struct plan *p, const json_t *a)
{
        size_t i;
        json_t *g;
        int r = json_is_array(a) ? 0 : -EINVAL;

        json_array_foreach(a, i, g)
        {
                const char *path = NULL, *access = NULL, *origin = NULL;
                int file = 0;
                uint32_t bits = 0;

                if (r >= 0 && json_unpack(g, "{s:s, s:s, s:b, s:s}", "path", &path, "access",
                                          &access, "file", &file, "origin", &origin) < 0)
                        r = -EINVAL;
                if (r >= 0)
                        r = access_of(access, &bits);
                if (r >= 0)
                        r = plan_add_grant(p, path, bits, file ? NONO_GRANT_FILE : 0, origin);
        }
        return r;
}

static int denies_from_json(struct plan *p, const json_t *a)
{
        size_t i;
        json_t *d;
        int r = json_is_array(a) ? 0 : -EINVAL;

        json_array_foreach(a, i, d)
        {
                const char *path = NULL, *origin = NULL;

                if (r >= 0 && json_unpack(d, "{s:s, s:s}", "path", &path, "origin", &origin) < 0)
                        r = -EINVAL;
                if (r >= 0)
                        r = plan_add_deny(p, path, origin);
        }
        return r;
}

static int network_from_json(struct plan *p, const json_t *n)
{
        int r = network_mode_of(json_string_value(json_object_get(n, "mode")), &p->network_mode);

        if (r >= 0)
                r = strv_from_json(json_object_get(n, "allow_hosts"), &p->allowed_hosts);
        if (r >= 0)
                r = ports_from_json(p, json_object_get(n, "tcp_connect_ports"), 0);
        if (r >= 0)
                r = ports_from_json(p, json_object_get(n, "tcp_bind_ports"), 1);
        return r;
}

static int optional_string(const json_t *v, char **ret)
{
        if (json_is_null(v))
                return 0;
        if (!json_is_string(v))
                return -EINVAL;
        *ret = nono_strdup(json_string_value(v));
        return *ret ? 0 : -ENOMEM;
}

int plan_from_json(const char *text, struct plan *ret)
{
        json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
        int r = json_is_object(root) ? 0 : -EINVAL;

        plan_init(ret);
        if (r >= 0)
                r = optional_string(json_object_get(root, "profile"), &ret->profile_name);
        if (r >= 0)
                r = optional_string(json_object_get(root, "workdir"), &ret->workdir);
        if (r >= 0)
                r = grants_from_json(ret, json_object_get(root, "grants"));
        if (r >= 0)
                r = denies_from_json(ret, json_object_get(root, "protected"));
        if (r >= 0)
                r = strv_from_json(json_object_get(root, "readonly"), &ret->readonly_paths);
        if (r >= 0)
                r = strv_from_json(json_object_get(root, "unix_sockets"), &ret->unix_sockets);
        /* Absent in plans written before the key existed: refused, as they ran. */
        ret->allow_unix_datagrams = json_is_true(json_object_get(root, "allow_unix_datagrams"));
        if (r >= 0)
                r = network_from_json(ret, json_object_get(root, "network"));
        json_decref(root);
        if (r < 0) {
                plan_free(ret);
                return r == -ENOMEM ? r : nono_error(-EINVAL, "not a plan written by nono");
        }
        return 0;
}
