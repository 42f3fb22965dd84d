/* SPDX-License-Identifier: Apache-2.0 */
#include "netplan.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "error.h"
#include "jsonc.h"
#include "layout.h"
#include "names.h"

void net_request_free(struct net_request *req)
{
        strv_free(&req->allow_domain);
        strv_free(&req->credentials);
        strv_free(&req->allow_endpoint);
        strv_free(&req->open_port);
        strv_free(&req->listen_port);
        strv_free(&req->connect_port);
        strv_free(&req->upstream_bypass);
}

/* ---- profiles/network-policy.json ------------------------------------------------- */

static int policy_load(struct jsonc_doc *doc)
{
        char *path = nono_path_join(layout_get()->profile_dir, "network-policy.json");
        int r;

        if (!path)
                return -ENOMEM;
        r = jsonc_load_file(path, doc);
        if (r < 0)
                r = nono_error_prefix(r, "cannot read %s: ", path);
        free(path);
        return r;
}

static const json_t *policy_section(const struct jsonc_doc *doc, const char *name)
{
        const json_t *s = json_object_get(doc->root, name);

        return json_is_object(s) ? s : NULL;
}

/* "a, b, c" of an object's keys, for "unknown X (known: ...)" messages. */
static char *known_names(const json_t *obj)
{
        const char *key;
        json_t *value;
        char *out = nono_strdup("");

        json_object_foreach((json_t *)obj, key, value)
        {
                char *next = out ? nono_asprintf("%s%s%s", out, *out ? ", " : "", key) : NULL;

                (void)value;
                free(out);
                out = next;
        }
        return out;
}

int netplan_add_host(struct plan *p, const char *host, const char *where)
{
        char *h = nono_strdup(host);
        int r;

        if (!h)
                return -ENOMEM;
        name_lower(h);
        if (!name_is_host_pattern(h))
                r = nono_error(-EINVAL,
                               "%s: bad host \"%s\" (want a name, *.suffix or an IP address; "
                               "no scheme, port or path)",
                               where, host);
        else
                r = strv_contains(&p->allowed_hosts, h) ? 0 : strv_push(&p->allowed_hosts, h);
        free(h);
        return r;
}

static int add_host_group(const struct jsonc_doc *doc, const char *group, struct plan *p)
{
        const json_t *groups = policy_section(doc, "host_groups");
        const json_t *g = groups ? json_object_get(groups, group) : NULL;
        const json_t *hosts = g ? json_object_get(g, "hosts") : NULL;
        size_t i;
        json_t *h;
        int r = 0;

        if (!json_is_array(hosts))
                return nono_error(-EINVAL,
                                  "network-policy.json: host group \"%s\" is missing "
                                  "or has no hosts",
                                  group);
        json_array_foreach(hosts, i, h)
        {
                if (r == 0)
                        r = json_is_string(h) ? netplan_add_host(p, json_string_value(h), group)
                                              : nono_error(-EINVAL,
                                                           "network-policy.json: host group "
                                                           "\"%s\": hosts must be strings",
                                                           group);
        }
        return r;
}

static int add_network_profile(const struct jsonc_doc *doc, const char *name, struct plan *p)
{
        const json_t *profiles = policy_section(doc, "network_profiles");
        const json_t *np = profiles ? json_object_get(profiles, name) : NULL;
        const json_t *groups = np ? json_object_get(np, "host_groups") : NULL;
        size_t i;
        json_t *g;
        int r = 0;

        if (!np) {
                char *known = profiles ? known_names(profiles) : NULL;

                r = nono_error(-EINVAL, "unknown network profile \"%s\" (known: %s)", name,
                               known ? known : "none");
                free(known);
                return r;
        }
        json_array_foreach(groups, i, g)
        {
                if (r == 0 && json_is_string(g))
                        r = add_host_group(doc, json_string_value(g), p);
        }
        return r;
}

/* ---- credential routes -------------------------------------------------------------- */

static int valid_service_name(const char *s)
{
        if (!*s || strlen(s) > 64)
                return 0;
        for (; *s; s++)
                if (!(*s >= 'a' && *s <= 'z') && !(*s >= '0' && *s <= '9') && *s != '-' &&
                    *s != '_')
                        return 0;
        return 1;
}

/* "<SERVICE><suffix>" with '-' as '_', upper-cased: OPENAI_API_KEY, OPENAI_BASE_URL. */
static char *service_var(const char *service, const char *suffix)
{
        char *v = nono_asprintf("%s%s", service, suffix);

        for (char *c = v; c && *c; c++) {
                if (*c == '-')
                        *c = '_';
                else if (*c >= 'a' && *c <= 'z')
                        *c = (char)(*c - 'a' + 'A');
        }
        return v;
}

static int is_loopback_host(const char *host, size_t len)
{
        return (len == 9 && strncasecmp(host, "localhost", 9) == 0) ||
               (len >= 4 && strncmp(host, "127.", 4) == 0) ||
               (len == 5 && strncmp(host, "[::1]", 5) == 0);
}

/*
 * https://host[:port][/path], or http:// to a loopback host only: a secret is never
 * sent in clear text over a network.
 */
static int check_upstream(const char *where, const char *url)
{
        const char *rest, *end;

        if (strncmp(url, "https://", 8) == 0)
                rest = url + 8;
        else if (strncmp(url, "http://", 7) == 0)
                rest = url + 7;
        else
                return nono_error(-EINVAL, "%s: upstream \"%s\" must start with https://", where,
                                  url);
        end = rest + strcspn(rest, "/?#");
        if (end == rest || memchr(rest, '@', (size_t)(end - rest)))
                return nono_error(-EINVAL, "%s: upstream \"%s\" has no host (or has user info)",
                                  where, url);
        if (url[4] == ':') { /* http: */
                size_t hostlen = strcspn(rest, ":/?#");

                if (rest[0] == '[')
                        hostlen = (size_t)(strchr(rest, ']') ? strchr(rest, ']') - rest + 1 : 0);
                if (!is_loopback_host(rest, hostlen))
                        return nono_error(-EINVAL,
                                          "%s: upstream \"%s\" is plain http to a host that is "
                                          "not loopback: the secret would cross the network "
                                          "unencrypted (use https://)",
                                          where, url);
        }
        return 0;
}

static int parse_inject_mode(const char *where, const char *s, uint32_t *ret)
{
        if (!s || strcmp(s, "header") == 0)
                *ret = NONO_INJECT_HEADER;
        else if (strcmp(s, "query_param") == 0)
                *ret = NONO_INJECT_QUERY_PARAM;
        else if (strcmp(s, "basic_auth") == 0)
                *ret = NONO_INJECT_BASIC_AUTH;
        else
                return nono_error(-EINVAL,
                                  "%s: inject_mode \"%s\" (want header, query_param or basic_auth)",
                                  where, s);
        return 0;
}

/* "METHOD:/path/glob", METHOD a token or "*". */
static int check_endpoint_rule(const char *where, const char *rule)
{
        const char *colon = strchr(rule, ':');

        if (!colon || colon == rule || colon[1] != '/')
                return nono_error(-EINVAL,
                                  "%s: endpoint rule \"%s\" (want METHOD:/path/glob, e.g. "
                                  "POST:/v1/chat/*)",
                                  where, rule);
        for (const char *c = rule; c < colon; c++)
                if (!(*c >= 'A' && *c <= 'Z') && *c != '*')
                        return nono_error(-EINVAL, "%s: endpoint rule \"%s\": bad method", where,
                                          rule);
        return 0;
}

static int add_endpoint_rules(const char *where, const json_t *rules, struct plan_route *rt)
{
        size_t i;
        json_t *rule;
        int r = 0;

        if (!rules)
                return 0;
        if (!json_is_array(rules))
                return nono_error(-EINVAL, "%s: endpoint_rules must be an array", where);
        json_array_foreach(rules, i, rule)
        {
                char *text = NULL;

                if (r < 0)
                        break;
                if (json_is_string(rule))
                        text = nono_strdup(json_string_value(rule));
                else if (json_is_object(rule) && json_is_string(json_object_get(rule, "method")) &&
                         json_is_string(json_object_get(rule, "path")))
                        text = nono_asprintf("%s:%s",
                                             json_string_value(json_object_get(rule, "method")),
                                             json_string_value(json_object_get(rule, "path")));
                else
                        r = nono_error(-EINVAL,
                                       "%s: an endpoint rule is \"METHOD:/glob\" or "
                                       "{\"method\": ..., \"path\": ...}",
                                       where);
                if (r == 0 && !text)
                        r = -ENOMEM;
                if (r == 0)
                        r = check_endpoint_rule(where, text);
                if (r == 0)
                        r = strv_push(&rt->endpoint_rules, text);
                free(text);
        }
        return r;
}

static const char *const route_keys[] = {
    "upstream", "credential_key", "inject_mode",    "inject_header", "credential_format",
    "env_var",  "base_url_var",   "endpoint_rules", "tls_ca",        "description",
};

static int check_route_keys(const char *where, const json_t *def)
{
        const char *key;
        json_t *value;

        json_object_foreach((json_t *)def, key, value)
        {
                size_t i = 0;

                (void)value;
                while (i < sizeof(route_keys) / sizeof(route_keys[0]) &&
                       strcmp(route_keys[i], key) != 0)
                        i++;
                if (i == sizeof(route_keys) / sizeof(route_keys[0]))
                        return nono_error(-EINVAL, "%s: unknown key \"%s\"", where, key);
        }
        return 0;
}

/* A string member copied, or `fallback` (may be NULL) when absent. */
static int member_string(const char *where, const json_t *def, const char *key,
                         const char *fallback, char **ret)
{
        const json_t *v = json_object_get(def, key);

        if (v && !json_is_string(v))
                return nono_error(-EINVAL, "%s: %s must be a string", where, key);
        *ret = NULL;
        if (!v && !fallback)
                return 0;
        *ret = nono_strdup(v ? json_string_value(v) : fallback);
        return *ret ? 0 : -ENOMEM;
}

static int route_strings(const char *where, const char *service, const json_t *def,
                         struct plan_route *rt)
{
        char *api_key = service_var(service, "_API_KEY");
        char *base_url = service_var(service, "_BASE_URL");
        int r = api_key && base_url ? 0 : -ENOMEM;

        if (r == 0)
                r = member_string(where, def, "upstream", NULL, &rt->upstream);
        if (r == 0)
                r = member_string(where, def, "credential_key", NULL, &rt->credential_key);
        if (r == 0)
                r = member_string(where, def, "inject_header", "Authorization", &rt->inject_header);
        if (r == 0)
                r = member_string(where, def, "credential_format",
                                  strcasecmp(rt->inject_header, "Authorization") == 0 &&
                                          rt->view.inject_mode == NONO_INJECT_HEADER
                                      ? "Bearer {}"
                                      : "{}",
                                  &rt->credential_format);
        if (r == 0)
                r = member_string(where, def, "env_var", api_key, &rt->env_var);
        if (r == 0)
                r = member_string(where, def, "base_url_var", base_url, &rt->base_url_var);
        if (r == 0)
                r = member_string(where, def, "tls_ca", NULL, &rt->tls_ca);
        free(api_key);
        free(base_url);
        return r;
}

static int check_route(const char *where, const struct plan_route *rt)
{
        const char *brace;

        if (!rt->upstream || !rt->credential_key)
                return nono_error(-EINVAL, "%s: needs \"upstream\" and \"credential_key\"", where);
        brace = strstr(rt->credential_format, "{}");
        if (!brace || strstr(brace + 2, "{}"))
                return nono_error(-EINVAL,
                                  "%s: credential_format \"%s\" must contain {} exactly once",
                                  where, rt->credential_format);
        if (!name_is_env_var(rt->env_var) || !name_is_env_var(rt->base_url_var))
                return nono_error(-EINVAL, "%s: env_var and base_url_var must be variable names",
                                  where);
        if (rt->tls_ca && (rt->tls_ca[0] != '/' || access(rt->tls_ca, R_OK) < 0))
                return nono_error(-EINVAL, "%s: tls_ca \"%s\" is not a readable absolute path",
                                  where, rt->tls_ca);
        return check_upstream(where, rt->upstream);
}

static int route_from_def(const char *service, const json_t *def, const char *origin,
                          struct plan_route **ret)
{
        char *where = nono_asprintf("credential \"%s\" (%s)", service, origin);
        struct plan_route *rt = calloc(1, sizeof(*rt));
        const json_t *mode = json_object_get(def, "inject_mode");
        int r = where && rt ? 0 : -ENOMEM;

        if (r == 0 && !json_is_object(def))
                r = nono_error(-EINVAL, "%s: must be an object", where);
        if (r == 0)
                r = check_route_keys(where, def);
        if (r == 0 && mode && !json_is_string(mode))
                r = nono_error(-EINVAL, "%s: inject_mode must be a string", where);
        if (r == 0)
                r = parse_inject_mode(where, mode ? json_string_value(mode) : NULL,
                                      &rt->view.inject_mode);
        if (r == 0)
                r = (rt->service = nono_strdup(service)) ? 0 : -ENOMEM;
        if (r == 0)
                r = route_strings(where, service, def, rt);
        if (r == 0)
                r = add_endpoint_rules(where, json_object_get(def, "endpoint_rules"), rt);
        if (r == 0)
                r = check_route(where, rt);
        free(where);
        if (r < 0) {
                plan_route_free(rt);
                return r;
        }
        *ret = rt;
        return 0;
}

int netplan_add_route(struct plan *p, const char *service, const json_t *def, const char *origin)
{
        struct plan_route *rt;
        int r;

        if (!valid_service_name(service))
                return nono_error(-EINVAL, "bad credential service name \"%s\" (want [a-z0-9_-])",
                                  service);
        if (plan_find_route(p, service))
                return nono_error(-EEXIST, "credential \"%s\" (%s): a route for it exists already",
                                  service, origin);
        r = route_from_def(service, def, origin, &rt);
        return r < 0 ? r : plan_add_route(p, rt);
}

/* The profile's custom_credentials first (they may redefine a built-in), then the data. */
static int add_credential(const struct jsonc_doc *doc, const json_t *custom, const char *name,
                          struct plan *p)
{
        const json_t *def = custom ? json_object_get(custom, name) : NULL;
        const json_t *builtin = policy_section(doc, "credentials");
        struct plan_route *rt;
        int r;

        if (!valid_service_name(name))
                return nono_error(-EINVAL, "bad credential service name \"%s\" (want [a-z0-9_-])",
                                  name);
        if (plan_find_route(p, name))
                return 0;
        if (!def && builtin)
                def = json_object_get(builtin, name);
        if (!def) {
                char *known = builtin ? known_names(builtin) : NULL;

                r = nono_error(-EINVAL,
                               "unknown credential service \"%s\" (built in: %s; define others "
                               "in the profile's network.custom_credentials)",
                               name, known ? known : "none");
                free(known);
                return r;
        }
        r = route_from_def(name, def,
                           custom && json_object_get(custom, name) ? "network.custom_credentials"
                                                                   : "network-policy.json",
                           &rt);
        return r < 0 ? r : plan_add_route(p, rt);
}

/* --allow-endpoint SERVICE:METHOD:/path/glob */
static int add_endpoint_flag(struct plan *p, const char *flag)
{
        const char *colon = strchr(flag, ':');
        char *service = colon ? strndup(flag, (size_t)(colon - flag)) : NULL;
        struct plan_route *rt = service ? plan_find_route(p, service) : NULL;
        int r;

        if (!colon)
                r = nono_error(-EINVAL, "--allow-endpoint %s: want SERVICE:METHOD:/path/glob",
                               flag);
        else if (!rt)
                r = nono_error(-EINVAL, "--allow-endpoint %s: no --credential %s in this run", flag,
                               service);
        else
                r = check_endpoint_rule("--allow-endpoint", colon + 1);
        if (r == 0)
                r = strv_push(&rt->endpoint_rules, colon + 1);
        free(service);
        return r;
}

/* Credential references that are variable names: the child must not get their values
 * (it gets the phantom under the route's own variable instead). */
static int deny_credential_vars(struct plan *p)
{
        for (size_t i = 0; i < p->n_routes; i++) {
                const char *key = p->routes[i]->credential_key;
                int r;

                if (strncmp(key, "env://", 6) == 0)
                        key += 6;
                if (!name_is_env_var(key) || strv_contains(&p->env_deny, key))
                        continue;
                r = strv_push(&p->env_deny, key);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- ports and proxy settings ------------------------------------------------------- */

static int parse_port(const char *flag, const char *s, uint16_t *ret)
{
        char *end;
        unsigned long v = strtoul(s, &end, 10);

        if (!*s || *end || v < 1 || v > 65535 || *s == '-' || *s == '+')
                return nono_error(-EINVAL, "%s %s: want a TCP port 1-65535", flag, s);
        *ret = (uint16_t)v;
        return 0;
}

static int add_port_flags(struct plan *p, const struct strv *ports, const char *flag, int connect,
                          int bind)
{
        for (size_t i = 0; i < ports->n; i++) {
                uint16_t port;
                int r = parse_port(flag, ports->items[i], &port);

                if (r == 0 && connect)
                        r = plan_add_port(p, 0, port);
                if (r == 0 && bind)
                        r = plan_add_port(p, 1, port);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int set_proxy_settings(const struct net_request *req, const struct profile *prof,
                              struct plan *p)
{
        const char *upstream = req->upstream_proxy ? req->upstream_proxy : prof->net.upstream_proxy;
        int r = 0;

        if (req->proxy_port)
                r = parse_port("--proxy-port", req->proxy_port, &p->proxy_port);
        if (r == 0 && upstream) {
                const char *colon = strrchr(upstream, ':');
                uint16_t port;

                if (!colon || colon == upstream || parse_port("--upstream-proxy", colon + 1, &port))
                        return nono_error(-EINVAL, "upstream proxy \"%s\": want HOST:PORT",
                                          upstream);
                p->upstream_proxy = nono_strdup(upstream);
                if (!p->upstream_proxy)
                        return -ENOMEM;
        }
        for (size_t i = 0; r == 0 && i < req->upstream_bypass.n; i++) {
                char *h = nono_strdup(req->upstream_bypass.items[i]);

                if (!h)
                        return -ENOMEM;
                name_lower(h);
                r = name_is_host_pattern(h)
                        ? strv_push(&p->upstream_bypass, h)
                        : nono_error(-EINVAL, "--upstream-bypass %s: bad host", h);
                free(h);
        }
        return r;
}

/* ---- the mode ----------------------------------------------------------------------- */

static int wants_filtering(const struct net_request *req, const struct profile *prof)
{
        return req->network_profile || req->allow_domain.n || req->credentials.n ||
               prof->net.network_profile || prof->net.allow_domain.n || prof->net.credentials.n;
}

static int apply_credentials(const struct jsonc_doc *doc, const struct net_request *req,
                             const struct profile *prof, struct plan *p)
{
        json_t *custom = NULL;
        int r = 0;

        if (prof->net.custom_credentials_json) {
                custom = json_loads(prof->net.custom_credentials_json, 0, NULL);
                if (!custom)
                        return -ENOMEM;
        }
        for (size_t i = 0; r == 0 && i < prof->net.credentials.n; i++)
                r = add_credential(doc, custom, prof->net.credentials.items[i], p);
        for (size_t i = 0; r == 0 && i < req->credentials.n; i++)
                r = add_credential(doc, custom, req->credentials.items[i], p);
        json_decref(custom);
        for (size_t i = 0; r == 0 && i < req->allow_endpoint.n; i++)
                r = add_endpoint_flag(p, req->allow_endpoint.items[i]);
        if (r == 0)
                r = deny_credential_vars(p);
        return r;
}

static int apply_filtering(const struct net_request *req, const struct profile *prof,
                           struct plan *p)
{
        const char *np = req->network_profile ? req->network_profile : prof->net.network_profile;
        struct jsonc_doc doc = {0};
        int r = 0;

        if (np || req->credentials.n || prof->net.credentials.n)
                r = policy_load(&doc);
        if (r == 0 && np)
                r = add_network_profile(&doc, np, p);
        for (size_t i = 0; r == 0 && i < req->allow_domain.n; i++)
                r = netplan_add_host(p, req->allow_domain.items[i], "--allow-domain");
        if (r == 0)
                r = apply_credentials(&doc, req, prof, p);
        jsonc_doc_free(&doc);
        if (r == 0) {
                p->network_mode = NONO_NETWORK_PROXY;
                p->network_mode_set = 1;
        }
        return r;
}

int netplan_apply(const struct net_request *req, const struct profile *prof, struct plan *p)
{
        int r;

        if (req->block && (req->network_profile || req->allow_domain.n || req->credentials.n))
                return nono_error(-EINVAL, "--block-net cannot be combined with "
                                           "--network-profile, --allow-domain or --credential");
        if (req->block) {
                /* The strictest wins over whatever the profile filters. */
                p->network_mode = NONO_NETWORK_BLOCK;
                p->network_mode_set = 1;
                strv_free(&p->allowed_hosts);
                r = 0;
        } else if (wants_filtering(req, prof)) {
                r = apply_filtering(req, prof, p);
        } else {
                r = 0;
        }
        if (r == 0)
                r = add_port_flags(p, &req->connect_port, "--allow-connect-port", 1, 0);
        if (r == 0)
                r = add_port_flags(p, &req->listen_port, "--listen-port", 0, 1);
        if (r == 0)
                r = add_port_flags(p, &req->open_port, "--open-port", 1, 1);
        if (r == 0)
                r = set_proxy_settings(req, prof, p);
        plan_view(p);
        return r;
}
