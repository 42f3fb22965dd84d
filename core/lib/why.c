/* SPDX-License-Identifier: Apache-2.0 */
#include "why.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "error.h"
#include "names.h"
#include "strv.h"

static const char *const rule_names[] = {
    [WHY_RULE_NONE] = "none",           [WHY_RULE_GRANT] = "grant",
    [WHY_RULE_PROTECTED] = "protected", [WHY_RULE_READONLY] = "readonly",
    [WHY_RULE_NETWORK] = "network",     [WHY_RULE_HOST] = "host",
    [WHY_RULE_METADATA] = "metadata",   [WHY_RULE_PORT] = "port",
};

static const char *op_name(int op)
{
        return op == WHY_OP_WRITE ? "write" : "read";
}

/* Takes ownership of the strings; any NULL where one was meant is -ENOMEM. */
static int verdict(struct why_verdict *v, int allowed, enum why_rule rule, const char *target,
                   const char *origin, char *reason, char *change)
{
        v->allowed = allowed;
        v->rule = rule;
        v->rule_target = target ? nono_strdup(target) : NULL;
        v->origin = origin ? nono_strdup(origin) : NULL;
        v->reason = reason;
        v->change = change;
        if (!reason || (target && !v->rule_target) || (origin && !v->origin)) {
                why_verdict_free(v);
                return -ENOMEM;
        }
        return 0;
}

void why_verdict_free(struct why_verdict *v)
{
        free(v->rule_target);
        free(v->origin);
        free(v->reason);
        free(v->change);
        memset(v, 0, sizeof(*v));
}

/* ---- paths ------------------------------------------------------------------------ */

static const struct nono_deny *protecting(const struct plan *p, const char *path)
{
        for (size_t i = 0; i < p->n_denies; i++)
                if (path_is_within(path, p->denies[i]->path))
                        return p->denies[i];
        return NULL;
}

static const char *readonly_holding(const struct plan *p, const char *path)
{
        for (size_t i = 0; i < p->readonly_paths.n; i++)
                if (path_is_within(path, p->readonly_paths.items[i]))
                        return p->readonly_paths.items[i];
        return NULL;
}

static int grant_covers(const struct nono_grant *g, const char *path)
{
        if (g->flags & NONO_GRANT_FILE)
                return strcmp(g->path, path) == 0;
        return path_is_within(path, g->path);
}

/* The most specific grant covering path with all of `access` (0: with any right). */
static const struct nono_grant *best_grant(const struct plan *p, const char *path, uint32_t access)
{
        const struct nono_grant *best = NULL;

        for (size_t i = 0; i < p->n_grants; i++) {
                const struct nono_grant *g = p->grants[i];

                if (!grant_covers(g, path) || (access && !(g->access & access)))
                        continue;
                if (!best || strlen(g->path) > strlen(best->path))
                        best = g;
        }
        return best;
}

/* How to undo a grant: drop the flag, or leave the group out. */
static char *undo_grant(const struct nono_grant *g)
{
        if (plan_origin_is_group(g->origin))
                return nono_asprintf("groups.exclude [\"%s\"] in a profile (to deny it)",
                                     g->origin + strlen("group "));
        if (strcmp(g->origin, "--allow-cwd") == 0)
                return nono_strdup("drop --allow-cwd (to deny it)");
        if (g->origin[0] == '-')
                return nono_asprintf("drop %s %s (to deny it)", g->origin, g->path);
        return nono_asprintf("remove %s from %s (to deny it)", g->path, g->origin);
}

static char *lift_protection(const struct nono_deny *d)
{
        if (plan_origin_is_group(d->origin))
                return nono_asprintf("filesystem.bypass_protection [\"%s\"] in a profile "
                                     "(protected by %s)",
                                     d->path, d->origin);
        if (strncmp(d->origin, "profile ", 8) == 0)
                return nono_asprintf("remove %s from filesystem.deny of %s", d->path, d->origin);
        return NULL; /* nono's own state, a policy module: not the user's to lift */
}

static int decide_protected(const struct nono_deny *d, const struct why_query *q,
                            struct why_verdict *v)
{
        char *change = lift_protection(d);

        return verdict(v, 0, WHY_RULE_PROTECTED, d->path, d->origin,
                       nono_asprintf("%s is protected (%s)%s", d->path, d->origin,
                                     change ? "" : ": no flag reaches it from a sandbox"),
                       change);
}

/* The flag that grants op on path: --allow-cwd in an ungranted working directory, the
 * directory when the path does not exist yet (a grant on a missing path is skipped),
 * --allow for a write that cannot read. */
static char *grant_flag(const struct plan *p, const struct why_query *q)
{
        const char *target = q->path;
        char *dir = NULL, *flag;

        if (q->path_missing) {
                const char *slash = strrchr(q->path, '/');

                dir = slash && slash != q->path ? strndup(q->path, (size_t)(slash - q->path))
                                                : nono_strdup("/");
                if (!dir)
                        return NULL;
                target = dir;
        }
        /* Inside a working directory nothing grants: the usual answer is --allow-cwd. */
        if (p->workdir && path_is_within(target, p->workdir) && !best_grant(p, p->workdir, 0))
                flag = nono_strdup("--allow-cwd");
        else if (q->op == WHY_OP_READ)
                flag = nono_asprintf("--read %s", target);
        else
                flag = nono_asprintf(
                    "%s %s", best_grant(p, q->path, NONO_ACCESS_READ) ? "--write" : "--allow",
                    target);
        free(dir);
        return flag;
}

static int decide_path(const struct plan *p, const struct why_query *q, struct why_verdict *v)
{
        const struct nono_deny *d = protecting(p, q->path);
        const struct nono_grant *g;
        const char *ro;

        if (d)
                return decide_protected(d, q, v);
        ro = q->op == WHY_OP_WRITE ? readonly_holding(p, q->path) : NULL;
        if (ro)
                return verdict(v, 0, WHY_RULE_READONLY, ro, NULL,
                               nono_asprintf("%s stays read-only: git, a shell or an editor may "
                                             "run code from it",
                                             ro),
                               nono_asprintf("--allow-persistence %s", ro));
        g = best_grant(p, q->path, (uint32_t)q->op);
        if (g)
                return verdict(v, 1, WHY_RULE_GRANT, g->path, g->origin,
                               nono_asprintf("granted by %s %s (%s)", g->origin, g->path,
                                             g->access == NONO_ACCESS_READWRITE ? "read+write"
                                             : g->access & NONO_ACCESS_READ     ? "read"
                                                                                : "write"),
                               undo_grant(g));
        g = best_grant(p, q->path, 0);
        if (g)
                return verdict(
                    v, 0, WHY_RULE_GRANT, g->path, g->origin,
                    nono_asprintf("%s %s grants %s only", g->origin, g->path,
                                  op_name(q->op == WHY_OP_READ ? WHY_OP_WRITE : WHY_OP_READ)),
                    grant_flag(p, q));
        return verdict(v, 0, WHY_RULE_NONE, NULL, NULL,
                       nono_asprintf("no grant covers %s", q->path), grant_flag(p, q));
}

/* ---- hosts ------------------------------------------------------------------------ */

/* Link-local (169.254/16 holds the cloud metadata services, fe80::/10), Alibaba's
 * 100.100.100.200, AWS's fd00:ec2::254, and the metadata names. */
static int is_metadata(const char *host)
{
        static const char *const names[] = {"metadata.google.internal", "metadata", "instance-data",
                                            "instance-data.ec2.internal"};
        unsigned char a[16];

        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
                if (strcasecmp(host, names[i]) == 0)
                        return 1;
        if (inet_pton(AF_INET, host, a) == 1)
                return (a[0] == 169 && a[1] == 254) ||
                       (a[0] == 100 && a[1] == 100 && a[2] == 100 && a[3] == 200);
        if (inet_pton(AF_INET6, host, a) == 1)
                return (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) ||
                       (a[0] == 0xfd && a[1] == 0 && a[2] == 0x0e && a[3] == 0xc2 &&
                        a[15] == 0x54 && a[14] == 0x02);
        return 0;
}

/* Exact (any case), or "*.suffix" for names below suffix -- not the suffix itself. */
static int name_matches(const char *host, const char *pattern)
{
        size_t hl = strlen(host), sl;

        if (strncmp(pattern, "*.", 2) != 0)
                return strcasecmp(host, pattern) == 0;
        sl = strlen(pattern + 1); /* ".suffix" */
        return hl > sl && strcasecmp(host + hl - sl, pattern + 1) == 0;
}

/*
 * An allow-list entry (names.h syntax) without a port covers 443 and 80, as the proxy
 * scopes it.  `port` 0 (not asked): those defaults.
 */
static int entry_matches(const char *entry, const char *host, int port)
{
        char pattern[256];
        uint16_t entry_port;

        if (!name_split_host_pattern(entry, pattern, sizeof(pattern), &entry_port) ||
            !name_matches(host, pattern))
                return 0;
        if (entry_port)
                return port == entry_port || (port == 0 && entry_port == 443);
        return port == 0 || port == 443 || port == 80;
}

static const char *allowed_by(const struct plan *p, const char *host, int port)
{
        for (size_t i = 0; i < p->allowed_hosts.n; i++)
                if (entry_matches(p->allowed_hosts.items[i], host, port))
                        return p->allowed_hosts.items[i];
        return NULL;
}

static int decide_host(const struct plan *p, const struct why_query *q, struct why_verdict *v)
{
        const char *pattern;

        if (p->network_mode == NONO_NETWORK_ALLOW)
                return verdict(v, 1, WHY_RULE_NETWORK, NULL, NULL,
                               nono_strdup("the network is unrestricted"),
                               nono_strdup("--block-net, or network.allow_domain in a profile "
                                           "to allow listed hosts only"));
        if (p->network_mode == NONO_NETWORK_BLOCK)
                return verdict(v, 0, WHY_RULE_NETWORK, NULL, NULL,
                               nono_strdup("the network is blocked"),
                               nono_asprintf("--allow-domain %s (instead of --block-net / "
                                             "network.block)",
                                             q->host));
        if (is_metadata(q->host))
                return verdict(v, 0, WHY_RULE_METADATA, NULL, NULL,
                               nono_asprintf("%s is a cloud-metadata or link-local address, "
                                             "which the proxy always refuses",
                                             q->host),
                               NULL);
        pattern = allowed_by(p, q->host, q->port);
        if (pattern)
                return verdict(v, 1, WHY_RULE_HOST, pattern, NULL,
                               nono_asprintf("the proxy allows %s", pattern),
                               nono_asprintf("drop --allow-domain %s (to deny it)", pattern));
        if (q->port && q->port != 443 && q->port != 80)
                return verdict(v, 0, WHY_RULE_NONE, NULL, NULL,
                               nono_asprintf("%s port %d is not on the proxy's allow list "
                                             "(an entry without a port covers 443 and 80)",
                                             q->host, q->port),
                               nono_asprintf("--allow-domain %s:%d", q->host, q->port));
        return verdict(v, 0, WHY_RULE_NONE, NULL, NULL,
                       nono_asprintf("%s is not on the proxy's allow list", q->host),
                       nono_asprintf("--allow-domain %s", q->host));
}

/* ---- TCP ports ------------------------------------------------------------------------ */

static int port_listed(const uint16_t *ports, size_t n, int port)
{
        for (size_t i = 0; i < n; i++)
                if (ports[i] == port)
                        return 1;
        return 0;
}

/* Landlock's TCP rules: the ports the flags opened, whatever the proxy allows. */
static int decide_port(const struct plan *p, const struct why_query *q, struct why_verdict *v)
{
        const char *flag = q->tcp_bind ? "--listen-port" : "--allow-connect-port";
        int listed = q->tcp_bind ? port_listed(p->bind_ports, p->n_bind_ports, q->tcp_port)
                                 : port_listed(p->connect_ports, p->n_connect_ports, q->tcp_port);

        if (p->network_mode == NONO_NETWORK_ALLOW)
                return verdict(v, 1, WHY_RULE_NETWORK, NULL, NULL,
                               nono_strdup("the network is unrestricted"), NULL);
        if (listed)
                return verdict(v, 1, WHY_RULE_PORT, NULL, NULL,
                               nono_asprintf("TCP port %d is open to the sandbox", q->tcp_port),
                               NULL);
        return verdict(v, 0, WHY_RULE_PORT, NULL, NULL,
                       nono_asprintf("the sandbox may not %s TCP port %d",
                                     q->tcp_bind ? "listen on" : "connect to", q->tcp_port),
                       nono_asprintf("%s %d", flag, q->tcp_port));
}

int why_decide(const struct plan *p, const struct why_query *q, struct why_verdict *ret)
{
        memset(ret, 0, sizeof(*ret));
        if (q->path && q->path[0] == '/')
                return decide_path(p, q, ret);
        if (q->tcp_port > 0)
                return decide_port(p, q, ret);
        if (q->host && q->host[0])
                return decide_host(p, q, ret);
        return nono_error(-EINVAL, "nono why needs --path PATH or --host HOST");
}

/* ---- output ----------------------------------------------------------------------- */

static json_t *string_or_null(const char *s)
{
        return s ? json_string(s) : json_null();
}

json_t *why_to_json(const struct why_query *q, const struct why_verdict *v)
{
        json_t *query = q->path ? json_pack("{s:s, s:s}", "path", q->path, "op", op_name(q->op))
                                : json_pack("{s:s, s:i}", "host", q->host, "port", q->port);

        return json_pack("{s:o, s:b, s:{s:s, s:o, s:o}, s:s, s:o}", "query", query, "allowed",
                         v->allowed, "rule", "kind", rule_names[v->rule], "target",
                         string_or_null(v->rule_target), "origin", string_or_null(v->origin),
                         "reason", v->reason, "change", string_or_null(v->change));
}

void why_print(const struct why_query *q, const struct why_verdict *v, FILE *out)
{
        const char *verdict_word = v->allowed ? "allowed" : "denied";

        if (q->path)
                fprintf(out, "%s: %s %s\n", verdict_word, op_name(q->op), q->path);
        else if (q->port)
                fprintf(out, "%s: connect %s port %d\n", verdict_word, q->host, q->port);
        else
                fprintf(out, "%s: connect %s\n", verdict_word, q->host);
        fprintf(out, "  why:    %s\n", v->reason);
        if (v->change)
                fprintf(out, "  change: %s\n", v->change);
}
