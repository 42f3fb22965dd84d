/* SPDX-License-Identifier: Apache-2.0 */
#include "caps.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"
#include "groups.h"
#include "paths.h"
#include "run.h"
#include "vars.h"

/* Every program needs these to start: the dynamic loader, libc, /etc, /proc. */
#define SYSTEM_GROUP "system_read_linux_core"

#define ORIGIN_ALLOW_PATH "nono_caps_allow_path"
#define ORIGIN_ALLOW_FILE "nono_caps_allow_file"
#define ORIGIN_DENY_PATH  "nono_caps_deny_path"

nono_caps *nono_caps_new(void)
{
        nono_caps *caps;

        sdk_begin();
        caps = calloc(1, sizeof(*caps));
        if (!caps)
                sdk_failed(-ENOMEM, NONO_ERROR_SYSTEM);
        return caps;
}

void nono_caps_free(nono_caps *caps)
{
        if (!caps)
                return;
        for (size_t i = 0; i < caps->n_grants; i++)
                free(caps->grants[i].path);
        free(caps->grants);
        strv_free(&caps->groups);
        strv_free(&caps->denies);
        strv_free(&caps->env_allow);
        strv_free(&caps->env_deny);
        strv_free(&caps->env_set);
        strv_free(&caps->proxy_env);
        strv_free(&caps->proxy_secret_vars);
        free(caps);
}

static int check_access(uint32_t access)
{
        if (access == 0 || (access & ~(uint32_t)NONO_ACCESS_READWRITE))
                return nono_error(-EINVAL,
                                  "access must be NONO_ACCESS_READ, NONO_ACCESS_WRITE "
                                  "or both (got %#x)",
                                  access);
        return 0;
}

static int check_string(const char *s, const char *what)
{
        if (!s || !*s)
                return nono_error(-EINVAL, "%s must be a non-empty string", what);
        return 0;
}

/* Resolves an existing path and checks that it is (or is not) a directory. */
static int resolve_existing(const char *path, int want_dir, char **ret)
{
        char *resolved = realpath(path, NULL);
        struct stat st;

        if (!resolved || stat(resolved, &st) < 0) {
                int err = errno;

                free(resolved);
                return nono_error(-err, "cannot grant %s: %s", path, strerror(err));
        }
        if (want_dir != !!S_ISDIR(st.st_mode)) {
                free(resolved);
                return nono_error(want_dir ? -ENOTDIR : -EISDIR,
                                  want_dir ? "cannot grant %s: not a directory (use allow_file)"
                                           : "cannot grant %s: a directory (use allow_path)",
                                  path);
        }
        *ret = resolved;
        return 0;
}

static int add_grant(nono_caps *caps, const char *path, uint32_t access, int file)
{
        struct caps_grant *grown;
        char *resolved = NULL;
        int r;

        if (!caps)
                return nono_error(-EINVAL, "caps must not be NULL");
        r = check_string(path, "path");
        if (r >= 0)
                r = check_access(access);
        if (r >= 0)
                r = resolve_existing(path, !file, &resolved);
        if (r < 0)
                return r;
        grown = realloc(caps->grants, (caps->n_grants + 1) * sizeof(*grown));
        if (!grown) {
                free(resolved);
                return nono_error(-ENOMEM, "out of memory");
        }
        caps->grants = grown;
        grown[caps->n_grants++] = (struct caps_grant){resolved, access, file ? NONO_GRANT_FILE : 0u,
                                                      file ? ORIGIN_ALLOW_FILE : ORIGIN_ALLOW_PATH};
        return 0;
}

int nono_caps_allow_path(nono_caps *caps, const char *path, uint32_t access)
{
        sdk_begin();
        return sdk_failed(add_grant(caps, path, access, 0), NONO_ERROR_INVALID);
}

int nono_caps_allow_file(nono_caps *caps, const char *path, uint32_t access)
{
        sdk_begin();
        return sdk_failed(add_grant(caps, path, access, 1), NONO_ERROR_INVALID);
}

static int add_group(nono_caps *caps, const char *group)
{
        struct groups all = {0};
        int r;

        if (!caps)
                return nono_error(-EINVAL, "caps must not be NULL");
        r = check_string(group, "group");
        /* Checked now, so that a typo is reported where it was made. */
        if (r >= 0)
                r = groups_load_builtin(&all);
        if (r >= 0 && !groups_find(&all, group))
                r = nono_error(-ENOENT,
                               "unknown security group \"%s\" (nono profile groups "
                               "lists them)",
                               group);
        groups_free(&all);
        if (r >= 0 && !strv_contains(&caps->groups, group))
                r = strv_push(&caps->groups, group);
        return r;
}

static int deny_path(nono_caps *caps, const char *path)
{
        char *resolved = NULL;
        int r;

        if (!caps)
                return nono_error(-EINVAL, "caps must not be NULL");
        r = check_string(path, "path");
        if (r >= 0 && path[0] != '/')
                r = nono_error(-EINVAL, "a protected path must be absolute: %s", path);
        if (r >= 0)
                r = paths_resolve_lenient(path, &resolved);
        if (r >= 0)
                r = strv_push_owned(&caps->denies, resolved);
        return r;
}

static int block_network(nono_caps *caps)
{
        if (!caps)
                return nono_error(-EINVAL, "caps must not be NULL");
        caps->block_network = 1;
        return 0;
}

static int check_env_name(const char *name)
{
        int r = check_string(name, "an environment variable name");

        if (r < 0)
                return r;
        if (name[0] >= '0' && name[0] <= '9')
                return nono_error(-EINVAL, "invalid environment variable name \"%s\"", name);
        for (const char *c = name; *c; c++)
                if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
                      (*c >= '0' && *c <= '9') || *c == '_'))
                        return nono_error(-EINVAL, "invalid environment variable name \"%s\"",
                                          name);
        return 0;
}

static int add_env_name(nono_caps *caps, struct strv *list, const char *name)
{
        int r;

        if (!caps)
                return nono_error(-EINVAL, "caps must not be NULL");
        r = check_env_name(name);
        return r < 0 ? r : strv_push(list, name);
}

static int set_env(nono_caps *caps, const char *name, const char *value)
{
        char *entry;
        int r;

        if (!caps)
                return nono_error(-EINVAL, "caps must not be NULL");
        r = check_env_name(name);
        if (r >= 0 && !value)
                r = nono_error(-EINVAL, "the value of %s must not be NULL", name);
        if (r < 0)
                return r;
        /* The value may be a secret: never put it in a message. */
        entry = nono_asprintf("%s=%s", name, value);
        return entry ? strv_push_owned(&caps->env_set, entry) : -ENOMEM;
}

int nono_caps_add_group(nono_caps *caps, const char *group)
{
        sdk_begin();
        return sdk_failed(add_group(caps, group), NONO_ERROR_INVALID);
}

int nono_caps_deny_path(nono_caps *caps, const char *path)
{
        sdk_begin();
        return sdk_failed(deny_path(caps, path), NONO_ERROR_INVALID);
}

int nono_caps_block_network(nono_caps *caps)
{
        sdk_begin();
        return sdk_failed(block_network(caps), NONO_ERROR_INVALID);
}

int nono_caps_allow_env(nono_caps *caps, const char *name)
{
        sdk_begin();
        return sdk_failed(add_env_name(caps, caps ? &caps->env_allow : NULL, name),
                          NONO_ERROR_INVALID);
}

int nono_caps_deny_env(nono_caps *caps, const char *name)
{
        sdk_begin();
        return sdk_failed(add_env_name(caps, caps ? &caps->env_deny : NULL, name),
                          NONO_ERROR_INVALID);
}

int nono_caps_set_env(nono_caps *caps, const char *name, const char *value)
{
        sdk_begin();
        return sdk_failed(set_env(caps, name, value), NONO_ERROR_INVALID);
}

/* ---- the plan ------------------------------------------------------------------------ */

static int apply_group(const struct groups *all, const char *name, const struct vars *v,
                       struct plan *p)
{
        const struct group *g = groups_find(all, name);

        if (!g)
                return nono_error(-ENOENT, "unknown security group \"%s\"", name);
        return group_applies(g) ? group_apply(g, v, p) : 0;
}

/* The system files, the required protections, then the caller's groups. */
static int apply_groups(const struct nono_caps *caps, const struct vars *v, struct plan *p)
{
        struct groups all = {0};
        int r = groups_load_builtin(&all);

        if (r >= 0)
                r = apply_group(&all, SYSTEM_GROUP, v, p);
        for (size_t i = 0; r >= 0 && i < all.n; i++)
                if (all.items[i].required && group_applies(&all.items[i]))
                        r = group_apply(&all.items[i], v, p);
        for (size_t i = 0; r >= 0 && i < caps->groups.n; i++)
                r = apply_group(&all, caps->groups.items[i], v, p);
        groups_free(&all);
        return r;
}

static int apply_caps(const struct nono_caps *caps, struct plan *p)
{
        int r = 0;

        for (size_t i = 0; r >= 0 && i < caps->n_grants; i++) {
                const struct caps_grant *g = &caps->grants[i];

                r = plan_add_grant(p, g->path, g->access, g->flags, g->origin);
        }
        for (size_t i = 0; r >= 0 && i < caps->denies.n; i++)
                r = plan_add_deny(p, caps->denies.items[i], ORIGIN_DENY_PATH);
        if (r >= 0)
                r = strv_extend(&p->env_allow, &caps->env_allow);
        if (r >= 0)
                r = strv_extend(&p->env_deny, &caps->env_deny);
        if (r >= 0)
                r = strv_extend(&p->env_set, &caps->env_set);
        p->network_mode_set = 1;
        if (caps->block_network || !caps->proxy_port) {
                p->network_mode = caps->block_network ? NONO_NETWORK_BLOCK : NONO_NETWORK_ALLOW;
                return r;
        }
        /* Through the caller's proxy: its port is the only one the child may connect to. */
        p->network_mode = NONO_NETWORK_PROXY;
        p->proxy_running = 1;
        if (r >= 0)
                r = plan_add_port(p, 0, caps->proxy_port);
        if (r >= 0)
                r = strv_extend(&p->env_set, &caps->proxy_env);
        if (r >= 0)
                r = strv_extend(&p->env_deny, &caps->proxy_secret_vars);
        return r;
}

int caps_build_plan(const struct nono_caps *caps, const char *workdir, struct plan *ret)
{
        struct vars v;
        int r;

        plan_init(ret);
        memset(&v, 0, sizeof(v));
        paths_forget();
        ret->workdir = nono_strdup(workdir);
        ret->profile_name = nono_strdup("sdk");
        r = ret->workdir && ret->profile_name ? vars_init(&v, workdir) : -ENOMEM;
        if (r >= 0)
                r = apply_groups(caps, &v, ret);
        if (r >= 0)
                r = apply_caps(caps, ret);
        if (r >= 0)
                r = run_protect_own_state(&v, ret);
        /* A grant inside a protected path is wrong everywhere; one that contains a
         * protected path is the enforcer's to mask, or refused (run_session_open). */
        if (r >= 0)
                r = plan_check_protected(ret, 1);
        vars_free(&v);
        if (r < 0)
                plan_free(ret);
        else
                plan_view(ret);
        return r;
}

/* ---- verdicts ------------------------------------------------------------------------- */

static const char *access_name(uint32_t access)
{
        switch (access & NONO_ACCESS_READWRITE) {
        case NONO_ACCESS_READ:
                return "read";
        case NONO_ACCESS_WRITE:
                return "write";
        case NONO_ACCESS_READWRITE:
                return "read+write";
        default:
                return "no access";
        }
}

static void verdict_set(struct nono_verdict *ret, int allowed, int reason, const char *rule,
                        const char *origin)
{
        ret->allowed = allowed;
        ret->reason = reason;
        snprintf(ret->rule_path, sizeof(ret->rule_path), "%s", rule ? rule : "");
        snprintf(ret->origin, sizeof(ret->origin), "%s", origin ? origin : "");
}

static int grant_covers(const struct nono_grant *g, const char *path)
{
        if (g->flags & NONO_GRANT_FILE)
                return strcmp(g->path, path) == 0;
        return path_is_within(path, g->path);
}

void caps_judge_path(const struct plan *p, const char *path, uint32_t access,
                     struct nono_verdict *ret)
{
        const struct nono_grant *best = NULL, *nearest = NULL;
        uint32_t have = 0;

        for (size_t i = 0; i < p->n_denies; i++)
                if (path_is_within(path, p->denies[i]->path)) {
                        verdict_set(ret, 0, NONO_VERDICT_PROTECTED, p->denies[i]->path,
                                    p->denies[i]->origin);
                        snprintf(ret->message, sizeof(ret->message), "%s is protected (%s, %s)",
                                 path, p->denies[i]->path, p->denies[i]->origin);
                        return;
                }
        /* Rights of every grant above the path add up, as in Landlock; the most
         * specific grant that contributes is named. */
        for (size_t i = 0; i < p->n_grants; i++) {
                const struct nono_grant *g = p->grants[i];

                if (!grant_covers(g, path))
                        continue;
                have |= g->access;
                if (!nearest || strlen(g->path) > strlen(nearest->path))
                        nearest = g;
                if ((g->access & access) && (!best || strlen(g->path) > strlen(best->path)))
                        best = g;
        }
        if (best && (have & access) == access) {
                verdict_set(ret, 1, NONO_VERDICT_GRANTED, best->path, best->origin);
                snprintf(ret->message, sizeof(ret->message), "%s granted by %s (%s)",
                         access_name(access), best->path, best->origin);
        } else if (nearest) {
                verdict_set(ret, 0, NONO_VERDICT_INSUFFICIENT, nearest->path, nearest->origin);
                snprintf(ret->message, sizeof(ret->message), "%s is granted %s only, %s was asked",
                         path, access_name(have), access_name(access));
        } else {
                verdict_set(ret, 0, NONO_VERDICT_NOT_GRANTED, NULL, NULL);
                snprintf(ret->message, sizeof(ret->message), "no grant covers %s", path);
        }
}

void caps_judge_host(const struct plan *p, const char *host, uint16_t port,
                     struct nono_verdict *ret)
{
        if (p->network_mode == NONO_NETWORK_ALLOW) {
                verdict_set(ret, 1, NONO_VERDICT_NETWORK_ALLOWED, NULL, NULL);
                snprintf(ret->message, sizeof(ret->message),
                         "%s:%u allowed: the network is unrestricted", host, (unsigned)port);
                return;
        }
        if (p->network_mode == NONO_NETWORK_PROXY && p->n_connect_ports) {
                verdict_set(ret, 0, NONO_VERDICT_NETWORK_PROXY, NULL, "nono_caps_use_proxy");
                snprintf(ret->message, sizeof(ret->message),
                         "%s:%u only through the proxy at 127.0.0.1:%u, if it allows the host",
                         host, (unsigned)port, (unsigned)p->connect_ports[0]);
                return;
        }
        verdict_set(ret, 0, NONO_VERDICT_NETWORK_BLOCKED, NULL, "nono_caps_block_network");
        snprintf(ret->message, sizeof(ret->message), "%s:%u refused: the network is blocked", host,
                 (unsigned)port);
}
