/* SPDX-License-Identifier: Apache-2.0 */
#include "network.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

static const char *plugin_for_mode(uint32_t mode)
{
        switch (mode) {
        case NONO_NETWORK_BLOCK:
                return "block";
        case NONO_NETWORK_PROXY:
                return "filter-proxy";
        default:
                return NULL;
        }
}

int network_load(struct plugin_registry *reg, const struct plan *p, struct network_session *ret)
{
        const char *name = plugin_for_mode(p->network_mode);

        memset(ret, 0, sizeof(*ret));
        if (!name || (p->network_mode == NONO_NETWORK_PROXY && p->proxy_running))
                return 0;
        return plugin_load(reg, NONO_PLUGIN_NETWORK, name, &ret->plugin);
}

#define NETWORK_RULES_MAX 64

static int add_rules(struct network_session *ns, struct plan *p)
{
        const struct nono_network_ops *ops = &ns->plugin->ops.network;
        struct nono_network_rule rules[NETWORK_RULES_MAX];
        size_t n = 0;
        int r;

        if (!ops->enforcer_rules)
                return 0;
        for (size_t i = 0; i < NETWORK_RULES_MAX; i++)
                rules[i] = (struct nono_network_rule){.size = sizeof(rules[i])};
        r = ops->enforcer_rules(ns->plugin->state, ns->prepared, rules, NETWORK_RULES_MAX, &n);
        if (r < 0)
                return nono_error(r, "network %s: %s", ns->plugin->name,
                                  plugin_error(ns->plugin, r));
        for (size_t i = 0; r >= 0 && i < n && i < NETWORK_RULES_MAX; i++)
                r = plan_add_port(p, rules[i].kind == NONO_NETWORK_RULE_TCP_BIND, rules[i].port);
        plan_view(p);
        return r;
}

int network_prepare(struct network_session *ns, struct plan *p)
{
        int r;

        if (!ns->plugin)
                return 0;
        r = ns->plugin->ops.network.prepare(ns->plugin->state, plan_view(p), &ns->prepared);
        if (r < 0) {
                ns->prepared = NULL;
                return nono_error(r, "cannot start network mode %s: %s", ns->plugin->name,
                                  plugin_error(ns->plugin, r));
        }
        return add_rules(ns, p);
}

/* Replaces NAME=... in env, or appends. */
static int env_put(struct strv *env, const char *entry)
{
        const char *eq = strchr(entry, '=');
        size_t len = eq ? (size_t)(eq - entry) + 1 : 0;
        char *copy;

        if (!eq || len == 1)
                return -EINVAL;
        copy = nono_strdup(entry);
        if (!copy)
                return -ENOMEM;
        for (size_t i = 0; i < env->n; i++)
                if (strncmp(env->items[i], entry, len) == 0) {
                        free(env->items[i]);
                        env->items[i] = copy;
                        return 0;
                }
        return strv_push_owned(env, copy);
}

int network_child_env(struct network_session *ns, struct strv *env)
{
        const struct nono_network_ops *ops;
        char **vars = NULL;
        int r;

        if (!ns->plugin || !ns->plugin->ops.network.child_env)
                return 0;
        ops = &ns->plugin->ops.network;
        r = ops->child_env(ns->plugin->state, ns->prepared, &vars);
        if (r < 0)
                return nono_error(r, "network %s: %s", ns->plugin->name,
                                  plugin_error(ns->plugin, r));
        for (size_t i = 0; vars && vars[i]; i++) {
                if (r >= 0 && env_put(env, vars[i]) < 0)
                        r = nono_error(-EINVAL, "network %s gave a malformed variable",
                                       ns->plugin->name);
                ns->plugin->host.free(ns->plugin->host.ctx, vars[i]);
        }
        ns->plugin->host.free(ns->plugin->host.ctx, vars);
        return r < 0 ? r : 0;
}

int network_child_setup(struct network_session *ns)
{
        if (!ns->plugin || !ns->plugin->ops.network.child_setup)
                return 0;
        return ns->plugin->ops.network.child_setup(ns->plugin->state, ns->prepared);
}

void network_release(struct network_session *ns)
{
        if (ns->plugin && ns->prepared)
                ns->plugin->ops.network.release(ns->plugin->state, ns->prepared);
        ns->prepared = NULL;
}
