/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The plan as an SBPL profile.  The shape, top to bottom:
 *
 *   (deny default), then what every program needs (fork, signals and process
 *   information inside the sandbox, a short list of mach services and sysctls),
 *   metadata of the grants' parent directories, the grants, the network, Unix
 *   sockets, and last the denies: protected paths, the persistence paths that stay
 *   read-only, and the directories above both.
 *
 * The denies come last because in SBPL the last matching rule decides (and a deny
 * on a path inside a granted directory is also the more specific rule, the other
 * precedence reading found in the wild): `(deny file-read* (subpath "~/.ssh"))`
 * after `(allow file-read* (subpath "~"))` holds either way.
 *
 * Paths and the /private aliases.  On macOS /tmp, /var and /etc are symbolic links
 * to /private/tmp, /private/var and /private/etc.  Seatbelt matches the path the
 * kernel resolved (/private/...), yet walking through the link itself is a lookup
 * of /tmp.  Plans made on a Mac already hold resolved paths, but a plan made
 * elsewhere (--dry-run on Linux) or a path that did not exist when it was resolved
 * does not.  So every path under one of these names is written in both spellings,
 * the /private one first, in the same rule: an allow then covers the file whichever
 * way it is reached, and a deny cannot be sidestepped by the other spelling.  The
 * link itself (/tmp) is a parent directory of the alias spelling, so it gets the
 * metadata rule like any other parent.
 *
 * Strings.  SBPL strings are Scheme strings: '"' and '\' are escaped with a
 * backslash; other bytes, UTF-8 included, are written as they are.  Control
 * characters are refused beforehand (sbpl_check): a newline in a rule could end it
 * and start another, and rewriting or dropping the byte would aim the rule at a
 * different path.
 */
#include "sbpl.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* True when the struct `p` (which starts with its size) is large enough to hold `field`. */
#define HAS_FIELD(p, type, field)                                                                  \
        ((p)->size >= offsetof(type, field) + sizeof(((type *)NULL)->field))

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- what every program needs ------------------------------------------------------------ */

/*
 * Mach services: the logger, notifications, user and group lookups (getpwuid),
 * the per-user temporary directory (confstr).  The keychain (com.apple.securityd,
 * com.apple.SecurityServer) is not among them: it would hand out secrets that the
 * file rules keep out of reach.
 */
static const char *const base_mach_services[] = {
    "com.apple.bsd.dirhelper",
    "com.apple.logd",
    "com.apple.system.logger",
    "com.apple.system.notification_center",
    "com.apple.system.opendirectoryd.libinfo",
    "com.apple.system.opendirectoryd.membership",
};

/* Name resolution, network configuration and certificate checks (network allowed). */
static const char *const network_mach_services[] = {
    "com.apple.SystemConfiguration.DNSConfiguration",
    "com.apple.SystemConfiguration.configd",
    "com.apple.networkd",
    "com.apple.trustd.agent",
};

/* Certificate checks of the TLS sessions tunnelled through the proxy. */
static const char *const proxy_mach_services[] = {
    "com.apple.trustd.agent",
};

/*
 * The hardware and kernel identity that runtimes ask for (CPU count and features,
 * page size, OS version, limits).  Not kern.proc.*: other processes' arguments and
 * environments stay unreadable.
 */
static const char *const sysctl_names[] = {
    "kern.argmax",
    "kern.boottime",
    "kern.hostname",
    "kern.maxfiles",
    "kern.maxfilesperproc",
    "kern.maxproc",
    "kern.ngroups",
    "kern.osproductversion",
    "kern.osrelease",
    "kern.osvariant_status",
    "kern.ostype",
    "kern.osversion",
    "kern.secure_kernel",
    "kern.usrstack64",
    "kern.version",
    "sysctl.proc_cputype",
    "sysctl.proc_translated",
    "vm.loadavg",
};

static const char *const sysctl_prefixes[] = {
    "hw.",
    "machdep.cpu.",
};

/* ---- output ------------------------------------------------------------------------------ */

/* A text being written into buf; len counts every byte, also those that did not fit. */
struct out {
        char *buf;
        size_t size;
        size_t len;
};

static void put_n(struct out *o, const char *s, size_t n)
{
        if (o->len < o->size) {
                size_t room = o->size - 1 - o->len;

                memcpy(o->buf + o->len, s, n < room ? n : room);
        }
        o->len += n;
}

static void put(struct out *o, const char *s)
{
        put_n(o, s, strlen(s));
}

static void put_port(struct out *o, unsigned port)
{
        char digits[16];
        int n = snprintf(digits, sizeof(digits), "%u", port);

        put_n(o, digits, (size_t)n);
}

/* The first n bytes of s as an SBPL string literal. */
static void put_quoted_n(struct out *o, const char *s, size_t n)
{
        size_t start = 0;

        put(o, "\"");
        for (size_t i = 0; i < n; i++) {
                if (s[i] != '"' && s[i] != '\\')
                        continue;
                put_n(o, s + start, i - start);
                put(o, "\\");
                start = i;
        }
        put_n(o, s + start, n - start);
        put(o, "\"");
}

static void put_quoted(struct out *o, const char *s)
{
        put_quoted_n(o, s, strlen(s));
}

/* " ; text" to the end of the line; a control byte would end the comment early. */
static void put_comment(struct out *o, const char *text)
{
        put(o, " ; ");
        for (const char *c = text; *c; c++)
                put_n(o, (unsigned char)*c < 0x20 || *c == 0x7f ? "?" : c, 1);
}

/* "(allow OP\n  (FILTER "a")\n  (FILTER "b"))\n" */
static void put_name_list(struct out *o, const char *rule, const char *filter,
                          const char *const *names, size_t n)
{
        put(o, rule);
        for (size_t i = 0; i < n; i++) {
                put(o, "\n  (");
                put(o, filter);
                put(o, " ");
                put_quoted(o, names[i]);
                put(o, ")");
        }
        put(o, ")\n");
}

/* ---- paths and their macOS spellings ----------------------------------------------------- */

static const char *const private_links[] = {"/tmp", "/var", "/etc"};

#define PRIVATE_PREFIX "/private"

/* True when `path` is `dir` or lies below it, component-wise. */
static bool path_within(const char *path, const char *dir)
{
        size_t n = strlen(dir);

        if (n == 1 && dir[0] == '/')
                return path[0] == '/';
        return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

/* A path as Seatbelt sees it (canon) and, under /tmp, /var, /etc, as written (alias). */
struct spelling {
        char canon[SBPL_PATH_MAX + sizeof(PRIVATE_PREFIX)];
        char alias[SBPL_PATH_MAX + sizeof(PRIVATE_PREFIX)];
        bool has_alias;
};

/* `path` was checked (sbpl_check): shorter than SBPL_PATH_MAX, so both spellings fit. */
static void spell(const char *path, struct spelling *sp)
{
        const size_t plen = strlen(PRIVATE_PREFIX);

        snprintf(sp->canon, sizeof(sp->canon), "%s", path);
        sp->has_alias = false;
        for (size_t i = 0; i < N_ELEMENTS(private_links); i++) {
                const char *link = private_links[i];

                if (strncmp(path, PRIVATE_PREFIX, plen) == 0 && path_within(path + plen, link)) {
                        snprintf(sp->alias, sizeof(sp->alias), "%s", path + plen);
                        sp->has_alias = true;
                } else if (path_within(path, link)) {
                        snprintf(sp->canon, sizeof(sp->canon), "%s%s", PRIVATE_PREFIX, path);
                        snprintf(sp->alias, sizeof(sp->alias), "%s", path);
                        sp->has_alias = true;
                }
        }
}

/* Spelling k (0: canon, 1: alias) of sp, or NULL. */
static const char *spelling_at(const struct spelling *sp, int k)
{
        if (k == 0)
                return sp->canon;
        return k == 1 && sp->has_alias ? sp->alias : NULL;
}

/* " (KIND "canon") (KIND "alias")", with an optional wrapper: (remote unix-socket ...). */
static void put_filters(struct out *o, const char *wrap, const char *kind, const char *path)
{
        struct spelling sp;
        const char *s;

        spell(path, &sp);
        for (int k = 0; (s = spelling_at(&sp, k)); k++) {
                put(o, " (");
                if (wrap) {
                        put(o, wrap);
                        put(o, " (");
                }
                put(o, kind);
                put(o, " ");
                put_quoted(o, s);
                put(o, wrap ? "))" : ")");
        }
}

/* Whether the first alen bytes of `a` name a proper ancestor directory of `path`. */
static bool is_proper_ancestor(const char *a, size_t alen, const char *path)
{
        if (alen == 1)
                return path[0] == '/' && path[1] != '\0';
        return strncmp(path, a, alen) == 0 && path[alen] == '/';
}

/* Lengths of the proper ancestors of `path`, shortest first: "/" then each "/a/b". */
static size_t next_ancestor(const char *path, size_t prev)
{
        const char *slash;

        if (prev == 0)
                return path[0] == '/' && path[1] != '\0' ? 1 : 0;
        slash = strchr(path + prev + (prev == 1 ? 0 : 1), '/');
        return slash ? (size_t)(slash - path) : 0;
}

/* ---- checks -------------------------------------------------------------------------------- */

static int refuse(char *why, size_t why_size, const char *what)
{
        snprintf(why, why_size, "malformed plan: %s", what);
        return -EINVAL;
}

static int check_path(const char *path, const char *what, char *why, size_t why_size)
{
        size_t n = strlen(path);

        if (path[0] != '/') {
                snprintf(why, why_size, "%s is not an absolute path", what);
                return -EINVAL;
        }
        if (n >= SBPL_PATH_MAX) {
                snprintf(why, why_size, "%s is longer than %d bytes", what, SBPL_PATH_MAX - 1);
                return -EINVAL;
        }
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)path[i];

                if (c < 0x20 || c == 0x7f) {
                        /* Only the part before the byte: the rest could be escapes. */
                        snprintf(why, why_size,
                                 "%s \"%.*s...\" contains a control character (0x%02x), "
                                 "which a Seatbelt profile cannot express safely",
                                 what, (int)(i < 200 ? i : 200), path, c);
                        return -EINVAL;
                }
        }
        return 0;
}

static bool has_readonly_paths(const struct nono_plan *plan)
{
        return HAS_FIELD(plan, struct nono_plan, n_readonly_paths) && plan->n_readonly_paths > 0;
}

static int check_arrays(const struct nono_plan *plan, char *why, size_t why_size)
{
        if ((plan->n_grants && !plan->grants) || (plan->n_denies && !plan->denies) ||
            (plan->n_tcp_connect_ports && !plan->tcp_connect_ports) ||
            (plan->n_tcp_bind_ports && !plan->tcp_bind_ports) ||
            (has_readonly_paths(plan) && !plan->readonly_paths))
                return refuse(why, why_size, "an array is NULL but has elements");
        return 0;
}

static int check_grants(const struct nono_plan *plan, char *why, size_t why_size)
{
        for (size_t i = 0; i < plan->n_grants; i++) {
                const struct nono_grant *g = plan->grants[i];
                int r;

                if (!g || !HAS_FIELD(g, struct nono_grant, origin) || !g->path)
                        return refuse(why, why_size, "a grant is missing or too small");
                /* Unknown access bits have unknown meaning: refuse rather than guess. */
                if (g->access & ~(uint32_t)NONO_ACCESS_READWRITE ||
                    !(g->access & NONO_ACCESS_READWRITE))
                        return refuse(why, why_size, "a grant has no or unknown access mode");
                r = check_path(g->path, "the grant", why, why_size);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int check_denies(const struct nono_plan *plan, char *why, size_t why_size)
{
        for (size_t i = 0; i < plan->n_denies; i++) {
                const struct nono_deny *d = plan->denies[i];
                int r;

                if (!d || !HAS_FIELD(d, struct nono_deny, path) || !d->path)
                        return refuse(why, why_size, "a deny is missing or too small");
                r = check_path(d->path, "the protected path", why, why_size);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; has_readonly_paths(plan) && i < plan->n_readonly_paths; i++) {
                int r;

                if (!plan->readonly_paths[i])
                        return refuse(why, why_size, "a read-only path is NULL");
                r = check_path(plan->readonly_paths[i], "the read-only path", why, why_size);
                if (r < 0)
                        return r;
        }
        return 0;
}

int sbpl_check(const struct nono_plan *plan, char *why, size_t why_size)
{
        int r;

        if (!plan || !HAS_FIELD(plan, struct nono_plan, n_tcp_bind_ports))
                return refuse(why, why_size, "missing or too small");
        r = check_arrays(plan, why, why_size);
        if (r == 0)
                r = check_grants(plan, why, why_size);
        if (r == 0)
                r = check_denies(plan, why, why_size);
        return r;
}

/* ---- the plan's paths ---------------------------------------------------------------------- */

static bool is_dir_grant(const struct nono_grant *g)
{
        return !(g->flags & NONO_GRANT_FILE);
}

/* Whether `path` (canonical) lies in a directory grant with `access` (canonical). */
static bool in_dir_grant(const struct nono_plan *plan, const char *path, uint32_t access)
{
        for (size_t i = 0; i < plan->n_grants; i++) {
                const struct nono_grant *g = plan->grants[i];
                struct spelling sp;

                if (!(g->access & access) || !is_dir_grant(g))
                        continue;
                spell(g->path, &sp);
                if (path_within(path, sp.canon))
                        return true;
        }
        return false;
}

/* The paths the final section locks: protected paths, then read-only ones. */
static size_t n_locked(const struct nono_plan *plan)
{
        return plan->n_denies + (has_readonly_paths(plan) ? plan->n_readonly_paths : 0);
}

static const char *locked_at(const struct nono_plan *plan, size_t i)
{
        return i < plan->n_denies ? plan->denies[i]->path
                                  : plan->readonly_paths[i - plan->n_denies];
}

/* ---- sections ------------------------------------------------------------------------------ */

static void render_base(struct out *o)
{
        put(o, "(version 1)\n(deny default)\n\n");
        put(o, "; Processes: fork, and exec from readable grants (below); signals and process\n"
               "; information only within this sandbox.\n"
               "(allow process-fork)\n"
               "(allow process-info* (target same-sandbox))\n"
               "(allow signal (target same-sandbox))\n\n");
        put(o, "; What ordinary programs look up: the logger, notifications, users and groups,\n"
               "; the temporary directory; the hardware and OS version.  Not the keychain.\n");
        put_name_list(o, "(allow mach-lookup", "global-name", base_mach_services,
                      N_ELEMENTS(base_mach_services));
        put_name_list(o, "(allow sysctl-read", "sysctl-name", sysctl_names,
                      N_ELEMENTS(sysctl_names));
        put_name_list(o, "(allow sysctl-read", "sysctl-name-prefix", sysctl_prefixes,
                      N_ELEMENTS(sysctl_prefixes));
        put(o, "(allow ipc-posix-shm)\n(allow ipc-posix-sem)\n(allow pseudo-tty)\n");
}

/* Whether the proper ancestor (first alen bytes of s) came up for an earlier spelling. */
static bool ancestor_seen(const struct nono_plan *plan, size_t grant, int k, const char *a,
                          size_t alen)
{
        for (size_t j = 0; j <= grant; j++) {
                struct spelling sp;
                const char *s;

                spell(plan->grants[j]->path, &sp);
                for (int kk = 0; (s = spelling_at(&sp, kk)) && (j < grant || kk < k); kk++)
                        if (is_proper_ancestor(a, alen, s))
                                return true;
        }
        return false;
}

/* A parent directory's own metadata, unless a read grant covers it already. */
static bool ancestor_needed(const struct nono_plan *plan, size_t grant, int k, const char *a,
                            size_t alen)
{
        struct spelling sp;
        char path[SBPL_PATH_MAX + sizeof(PRIVATE_PREFIX)];

        snprintf(path, sizeof(path), "%.*s", (int)alen, a);
        spell(path, &sp);
        return !in_dir_grant(plan, sp.canon, NONO_ACCESS_READ) &&
               !ancestor_seen(plan, grant, k, a, alen);
}

/*
 * Programs lstat every component of a path (realpath, getcwd, Python's and Node's
 * module lookup): the directories above each grant get their own metadata, never
 * their contents.
 */
static void render_ancestors(struct out *o, const struct nono_plan *plan)
{
        bool any = false;

        for (size_t i = 0; i < plan->n_grants; i++) {
                struct spelling sp;
                const char *s;

                spell(plan->grants[i]->path, &sp);
                for (int k = 0; (s = spelling_at(&sp, k)); k++) {
                        for (size_t n = next_ancestor(s, 0); n; n = next_ancestor(s, n)) {
                                if (!ancestor_needed(plan, i, k, s, n))
                                        continue;
                                if (!any)
                                        put(o, "\n; The directories above the grants: their own "
                                               "metadata only, for path lookups.\n"
                                               "(allow file-read-metadata");
                                any = true;
                                put(o, "\n  (literal ");
                                put_quoted_n(o, s, n);
                                put(o, ")");
                        }
                }
        }
        if (any)
                put(o, ")\n");
}

static void render_grant(struct out *o, const struct nono_grant *g)
{
        put(o, "(allow");
        if (g->access & NONO_ACCESS_READ)
                put(o, " file-read* process-exec* file-map-executable");
        if (g->access & NONO_ACCESS_WRITE)
                put(o, " file-write* file-ioctl");
        put_filters(o, NULL, is_dir_grant(g) ? "subpath" : "literal", g->path);
        put(o, ")");
        if (g->origin)
                put_comment(o, g->origin);
        put(o, "\n");
}

static void render_grants(struct out *o, const struct nono_plan *plan)
{
        if (plan->n_grants == 0)
                return;
        put(o, "\n; Grants.  Read: read, execute, map as code.  Write: write, ioctl (terminals).\n"
               "; A file grant is a literal, a directory grant a subpath.\n");
        for (size_t i = 0; i < plan->n_grants; i++)
                render_grant(o, plan->grants[i]);
}

/* The TCP ports of a restricted network: loopback only (Seatbelt names no other host). */
static void render_ports(struct out *o, const struct nono_plan *plan)
{
        for (size_t i = 0; i < plan->n_tcp_connect_ports; i++) {
                put(o, "(allow network-outbound (remote tcp \"localhost:");
                put_port(o, plan->tcp_connect_ports[i]);
                put(o, "\"))\n");
        }
        for (size_t i = 0; i < plan->n_tcp_bind_ports; i++) {
                put(o, "(allow network-bind network-inbound (local tcp \"localhost:");
                put_port(o, plan->tcp_bind_ports[i]);
                put(o, "\"))\n");
        }
}

uint16_t sbpl_proxy_port(const struct nono_plan *plan)
{
        return HAS_FIELD(plan, struct nono_plan, proxy_port) ? plan->proxy_port : 0;
}

static bool renders_tcp(const struct nono_plan *plan)
{
        return plan->n_tcp_connect_ports || plan->n_tcp_bind_ports ||
               (plan->network_mode == NONO_NETWORK_PROXY && sbpl_proxy_port(plan));
}

static void render_proxy(struct out *o, const struct nono_plan *plan)
{
        uint16_t port = sbpl_proxy_port(plan);

        put(o, "\n; Network: only nono's filtering proxy, on the loopback.\n");
        if (port) {
                put(o, "(allow network-outbound (remote tcp \"localhost:");
                put_port(o, port);
                put(o, "\"))\n");
        } else {
                put(o, "; The proxy's port is chosen when the run starts (proxy port 0): this\n"
                       "; rendering allows no connection to it.\n");
        }
        put_name_list(o, "(allow mach-lookup", "global-name", proxy_mach_services,
                      N_ELEMENTS(proxy_mach_services));
}

static void render_network(struct out *o, const struct nono_plan *plan)
{
        switch (plan->network_mode) {
        case NONO_NETWORK_ALLOW:
                put(o, "\n; Network: unrestricted (but Unix sockets, below).\n"
                       "(allow network*)\n(allow system-socket)\n");
                put_name_list(o, "(allow mach-lookup", "global-name", network_mach_services,
                              N_ELEMENTS(network_mach_services));
                return;
        case NONO_NETWORK_PROXY:
                render_proxy(o, plan);
                break;
        case NONO_NETWORK_BLOCK:
                put(o, "\n; Network: blocked: no TCP, UDP or name lookups");
                put(o, plan->n_tcp_connect_ports || plan->n_tcp_bind_ports
                           ? " but the loopback ports below.\n"
                           : ".\n");
                break;
        default:
                /* An unknown mode restricts: fail closed. */
                put(o, "\n; Network: unknown mode, blocked.\n");
                break;
        }
        render_ports(o, plan);
        if (renders_tcp(plan))
                put(o, "(allow system-socket (require-all (socket-domain AF_INET) "
                       "(socket-type SOCK_STREAM)))\n"
                       "(allow system-socket (require-all (socket-domain AF_INET6) "
                       "(socket-type SOCK_STREAM)))\n");
}

/* A list rule over the write directory grants: (OPS (WRAP (subpath "dir")) ...). */
static void render_unix_rule(struct out *o, const struct nono_plan *plan, const char *rule,
                             const char *wrap)
{
        put(o, rule);
        for (size_t i = 0; i < plan->n_grants; i++) {
                const struct nono_grant *g = plan->grants[i];

                if (!(g->access & NONO_ACCESS_WRITE) || !is_dir_grant(g))
                        continue;
                put(o, "\n ");
                put_filters(o, wrap, "subpath", g->path);
        }
        put(o, ")\n");
}

static bool has_write_dir_grant(const struct nono_plan *plan)
{
        for (size_t i = 0; i < plan->n_grants; i++)
                if ((plan->grants[i]->access & NONO_ACCESS_WRITE) && is_dir_grant(plan->grants[i]))
                        return true;
        return false;
}

/*
 * Unix sockets, in every network mode, as nono's mediator has them on Linux: a
 * socketpair, and pathname sockets under the write grants (the sandbox's own
 * servers); docker.sock, the ssh and gpg agents and D-Bus-like services stay out.
 * With the network allowed, name lookups go through mDNSResponder's socket.
 */
static void render_unix(struct out *o, const struct nono_plan *plan)
{
        put(o, "\n; Unix sockets: socketpair, and pathname sockets under the write grants.\n"
               "(allow system-socket (socket-domain AF_UNIX))\n");
        if (plan->network_mode == NONO_NETWORK_ALLOW)
                put(o, "(deny network-outbound (remote unix-socket (subpath \"/\")))\n"
                       "(allow network-outbound (remote unix-socket "
                       "(path-literal \"/private/var/run/mDNSResponder\")))\n");
        if (!has_write_dir_grant(plan))
                return;
        render_unix_rule(o, plan, "(allow network-bind network-inbound", "local unix-socket");
        render_unix_rule(o, plan, "(allow network-outbound", "remote unix-socket");
}

/* Whether protected path i lies in a write grant, where its sockets could be reached. */
static bool deny_in_write_grant(const struct nono_plan *plan, size_t i)
{
        struct spelling sp;

        spell(plan->denies[i]->path, &sp);
        return in_dir_grant(plan, sp.canon, NONO_ACCESS_WRITE);
}

/* The agents' sockets (gpg-agent in ~/.gnupg) under a write grant's socket rule. */
static void render_protected_sockets(struct out *o, const struct nono_plan *plan)
{
        bool any = false;

        for (size_t i = 0; i < plan->n_denies; i++) {
                if (!deny_in_write_grant(plan, i))
                        continue;
                put(o, any ? "\n " : "(deny network-outbound\n ");
                any = true;
                put_filters(o, "remote unix-socket", "subpath", plan->denies[i]->path);
        }
        if (any)
                put(o, ")\n");
}

static void render_protected(struct out *o, const struct nono_plan *plan)
{
        /* Without paths the unix-socket rule below would deny every connection. */
        if (plan->n_denies == 0)
                return;
        put(o, "\n; Protected paths, after every allow: the last matching rule decides, so these\n"
               "; hold inside granted directories too (and for paths that do not exist yet).\n");
        for (size_t i = 0; i < plan->n_denies; i++) {
                const struct nono_deny *d = plan->denies[i];

                put(o, "(deny file-read* file-write* process-exec*");
                put_filters(o, NULL, "subpath", d->path);
                put(o, ")");
                if (HAS_FIELD(d, struct nono_deny, origin) && d->origin)
                        put_comment(o, d->origin);
                put(o, "\n");
        }
        render_protected_sockets(o, plan);
}

/* Whether a pinned directory (first alen bytes of locked path i) came up before. */
static bool pin_seen(const struct nono_plan *plan, size_t locked, const char *a, size_t alen)
{
        for (size_t j = 0; j < locked; j++) {
                struct spelling sp;

                spell(locked_at(plan, j), &sp);
                if (is_proper_ancestor(a, alen, sp.canon))
                        return true;
        }
        return false;
}

/*
 * Seatbelt rules name paths, not files: renaming ~/.config would carry
 * ~/.config/gcloud out from under its deny, renaming .git would free .git/hooks.  So
 * the directories above each locked path that the sandbox could rename (those in a
 * write grant) are themselves write-protected; what lies in them stays writable.
 */
static void render_pins(struct out *o, const struct nono_plan *plan)
{
        bool any = false;

        for (size_t i = 0; i < n_locked(plan); i++) {
                struct spelling sp;

                spell(locked_at(plan, i), &sp);
                for (size_t n = next_ancestor(sp.canon, 0); n; n = next_ancestor(sp.canon, n)) {
                        char dir[sizeof(sp.canon)];

                        snprintf(dir, sizeof(dir), "%.*s", (int)n, sp.canon);
                        if (!in_dir_grant(plan, dir, NONO_ACCESS_WRITE) ||
                            pin_seen(plan, i, sp.canon, n))
                                continue;
                        if (!any)
                                put(o, "\n; The directories above them in write grants cannot be "
                                       "renamed or removed:\n"
                                       "; that would carry a protected path out from under its "
                                       "rule.\n"
                                       "(deny file-write*");
                        any = true;
                        put(o, "\n ");
                        put_filters(o, NULL, "literal", dir);
                }
        }
        if (any)
                put(o, ")\n");
}

static void render_readonly(struct out *o, const struct nono_plan *plan)
{
        if (!has_readonly_paths(plan))
                return;
        put(o, "\n; Persistence paths in write grants stay read-only (git hooks and config, shell\n"
               "; and editor settings): a later, unsandboxed program would run what they say.\n");
        for (size_t i = 0; i < plan->n_readonly_paths; i++) {
                put(o, "(deny file-write*");
                put_filters(o, NULL, "subpath", plan->readonly_paths[i]);
                put(o, ")\n");
        }
}

size_t sbpl_render(const struct nono_plan *plan, char *buf, size_t size)
{
        struct out o = {.buf = buf, .size = size};

        render_base(&o);
        render_ancestors(&o, plan);
        render_grants(&o, plan);
        render_network(&o, plan);
        render_unix(&o, plan);
        render_protected(&o, plan);
        render_readonly(&o, plan);
        render_pins(&o, plan);
        if (size)
                buf[o.len < size ? o.len : size - 1] = '\0';
        return o.len;
}
