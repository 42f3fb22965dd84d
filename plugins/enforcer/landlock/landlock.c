/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The landlock enforcer: turns a plan's grants and TCP ports into a Landlock ruleset.
 *
 * Everything that can fail with a useful message (probing the ABI, checking that the
 * kernel can enforce what the plan needs, opening every grant, building the ruleset)
 * happens in prepare, in the parent.  apply, in the child after fork, only makes a few
 * system calls on what prepare built: the mount namespace (mountns.c), the ruleset,
 * then the seccomp filter (seccomp.c).
 *
 * Fail closed: a feature the plan needs that the kernel (or the max_abi knob) lacks is
 * an error unless the plan says NONO_PLAN_BEST_EFFORT, and then a loud warning.
 */
#include <nono/enforcer.h>
#include <nono/plan.h>
#include <nono/plugin.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rights.h"
#include "mountns.h"
#include "seccomp-layer.h"

/* True when the struct `p` (which starts with its size) is large enough to hold `field`. */
#define HAS_FIELD(p, type, field)                                                                  \
        ((p)->size >= offsetof(type, field) + sizeof(((type *)NULL)->field))

struct ll_state {
        const struct nono_host *host;
        long long max_abi;        /* the max_abi knob; LL_ABI_KNOWN when unset */
        int kernel_abi;           /* 0 until probed, then the kernel's ABI or a negative errno */
        int abi;                  /* the ABI we use: kernel's, capped by max_abi and LL_ABI_KNOWN */
        struct mntns_state mntns; /* the mount-namespace layer (mountns.c) */
};

struct ll_prepared {
        int ruleset_fd;
        unsigned restrict_flags;    /* LL_RESTRICT_SELF_*: which denials are audited */
        struct ll_seccomp *seccomp; /* NULL only when best effort runs without seccomp */
        struct mntns *mntns;        /* NULL when no mount namespace is available */
};

/* ---- small helpers ------------------------------------------------------------------ */

/* A text being built with snprintf; buf NULL measures the length only. */
struct text {
        char *buf;
        size_t size;
        size_t len;
};

static void text_printf(struct text *t, const char *fmt, ...) NONO_PRINTF(2, 3);

static void text_printf(struct text *t, const char *fmt, ...)
{
        bool room = t->buf && t->len < t->size;
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(room ? t->buf + t->len : NULL, room ? t->size - t->len : 0, fmt, ap);
        va_end(ap);
        if (n > 0)
                t->len += (size_t)n;
}

static const char *origin_of(const char *origin)
{
        return origin ? origin : "the plan";
}

static bool restricts_network(const struct nono_plan *plan)
{
        /* An unknown mode is treated as restricting: fail closed. */
        return plan->network_mode != NONO_NETWORK_ALLOW;
}

static uint64_t handled_net(const struct ll_state *st, const struct nono_plan *plan)
{
        return restricts_network(plan) ? ll_net_rights_at_abi(st->abi) : 0;
}

/* ---- init, fini ------------------------------------------------------------------------ */

static int read_max_abi(const struct nono_host *host, long long *max_abi)
{
        long long value;
        int r;

        if (!HAS_FIELD(host, struct nono_host, config_int) || !host->config_int)
                return 0;
        r = host->config_int(host->ctx, "max_abi", &value);
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                host->set_error(host->ctx, "landlock: max_abi in nono.conf is not an integer");
                return r;
        }
        if (value < 0) {
                host->set_error(host->ctx, "landlock: max_abi = %lld in nono.conf is negative",
                                value);
                return -EINVAL;
        }
        *max_abi = value;
        return 0;
}

static int ll_init(const struct nono_host *host, void **ret_state)
{
        struct ll_state *st;
        int r;

        st = host->alloc(host->ctx, sizeof(*st));
        if (!st) {
                host->set_error(host->ctx, "landlock: out of memory");
                return -ENOMEM;
        }
        *st = (struct ll_state){.host = host, .max_abi = LL_ABI_KNOWN};
        r = read_max_abi(host, &st->max_abi);
        if (r == 0)
                r = mntns_init(host, &st->mntns);
        if (r < 0) {
                host->free(host->ctx, st);
                return r;
        }
        *ret_state = st;
        return 0;
}

static void ll_fini(void *state)
{
        struct ll_state *st = state;

        if (!st)
                return;
        mntns_reap_trial(&st->mntns);
        st->host->free(st->host->ctx, st);
}

/* ---- probe ----------------------------------------------------------------------------- */

static int query_kernel_abi(void)
{
        long r = syscall(LL_NR_create_ruleset, NULL, (size_t)0, LL_CREATE_RULESET_VERSION);

        return r < 0 ? -errno : (int)r;
}

static int report_unavailable(const struct ll_state *st)
{
        const struct nono_host *h = st->host;

        if (st->kernel_abi == -ENOSYS)
                h->set_error(h->ctx, "landlock: this kernel has no Landlock support "
                                     "(built without CONFIG_SECURITY_LANDLOCK)");
        else if (st->kernel_abi == -EOPNOTSUPP)
                h->set_error(h->ctx, "landlock: Landlock is disabled on this kernel "
                                     "(add \"landlock\" to the lsm= boot parameter)");
        else if (st->kernel_abi < 0)
                h->set_error(h->ctx, "landlock: cannot query the Landlock ABI: %s",
                             strerror(-st->kernel_abi));
        else
                h->set_error(h->ctx,
                             "landlock: max_abi = 0 in nono.conf: Landlock is treated as absent");
        return -ENOTSUP;
}

/* Probes the kernel once and sets st->abi; -ENOTSUP with a message when unusable. */
static int ensure_abi(struct ll_state *st)
{
        if (st->kernel_abi == 0)
                st->kernel_abi = query_kernel_abi();
        if (st->kernel_abi <= 0)
                return report_unavailable(st);

        st->abi = st->kernel_abi < LL_ABI_KNOWN ? st->kernel_abi : LL_ABI_KNOWN;
        if (st->max_abi < st->abi)
                st->abi = (int)st->max_abi;
        if (st->abi == 0)
                return report_unavailable(st);
        return 0;
}

static void describe_abi(const struct ll_state *st, struct text *t)
{
        uint32_t features = ll_features_at_abi(st->abi);
        const char *sep = ": ";

        text_printf(t, "Landlock ABI %d", st->abi);
        if (st->abi != st->kernel_abi)
                text_printf(t, " (the kernel offers %d)", st->kernel_abi);
        for (uint32_t bit = 1; bit != 0 && bit <= features; bit <<= 1) {
                if (!(features & bit))
                        continue;
                text_printf(t, "%s%s", sep, ll_feature_word(bit));
                sep = ", ";
        }
}

static int ll_probe(void *state, struct nono_enforcer_info *ret_info)
{
        struct ll_state *st = state;
        struct nono_enforcer_info info = {.size = sizeof(info)};
        struct text t = {.buf = info.summary, .size = sizeof(info.summary)};
        size_t n;
        int r;

        r = ensure_abi(st);
        if (r < 0)
                return r;
        info.abi = (uint32_t)st->abi;
        info.features = ll_features_at_abi(st->abi);
        describe_abi(st, &t);
        if (mntns_probe(st->host, &st->mntns) != MNTNS_UNAVAILABLE)
                info.capabilities |= NONO_ENFORCER_CAP_MASK_PROTECTED;
        if (info.features & LL_FEATURE_LOGGING)
                info.capabilities |= NONO_ENFORCER_CAP_AUDIT_RECORDS;

        /* Write no more than the host's struct holds (it may be older than ours). */
        n = ret_info->size && ret_info->size < sizeof(info) ? ret_info->size : sizeof(info);
        info.size = (uint32_t)n;
        memcpy(ret_info, &info, n);
        return 0;
}

/* ---- prepare: checks ------------------------------------------------------------------- */

static int plan_error(const struct ll_state *st, const char *what)
{
        st->host->set_error(st->host->ctx, "landlock: malformed plan: %s", what);
        return -EINVAL;
}

/* The plan crosses the plugin boundary: check sizes and arrays before reading them. */
static int check_plan_shape(const struct ll_state *st, const struct nono_plan *plan)
{
        if (!plan || !HAS_FIELD(plan, struct nono_plan, n_tcp_bind_ports))
                return plan_error(st, "missing or too small");
        if ((plan->n_grants && !plan->grants) || (plan->n_denies && !plan->denies) ||
            (plan->n_tcp_connect_ports && !plan->tcp_connect_ports) ||
            (plan->n_tcp_bind_ports && !plan->tcp_bind_ports))
                return plan_error(st, "an array is NULL but has elements");
        for (size_t i = 0; i < plan->n_grants; i++) {
                const struct nono_grant *g = plan->grants[i];

                if (!g || !HAS_FIELD(g, struct nono_grant, origin) || !g->path)
                        return plan_error(st, "a grant is missing or too small");
        }
        for (size_t i = 0; i < plan->n_denies; i++) {
                const struct nono_deny *d = plan->denies[i];

                if (!d || !HAS_FIELD(d, struct nono_deny, path) || !d->path)
                        return plan_error(st, "a deny is missing or too small");
        }
        return 0;
}

/* Missing features the plan needs, one clause each, for the error message. */
static void describe_missing(const struct ll_state *st, const struct nono_plan *plan,
                             uint32_t missing, struct text *t)
{
        const char *sep = "";

        text_printf(t, "Landlock ABI %d has ", st->abi);
        for (uint32_t bit = 1; bit != 0 && bit <= missing; bit <<= 1) {
                if (!(missing & bit))
                        continue;
                text_printf(t, "%sno %s (needs ABI %d)", sep, ll_feature_name(bit),
                            ll_feature_abi(bit));
                if (bit == LL_FEATURE_TCP)
                        text_printf(t, " but the plan %s",
                                    plan->network_mode == NONO_NETWORK_PROXY
                                        ? "restricts the network to the proxy"
                                        : "blocks the network");
                sep = ", ";
        }
        if (st->abi != st->kernel_abi)
                text_printf(t, " (max_abi caps it; the kernel offers ABI %d)", st->kernel_abi);
}

/* One warning per feature; the host prefixes log lines with the plugin's name. */
static void warn_missing(const struct ll_state *st, uint32_t missing)
{
        const struct nono_host *h = st->host;

        for (uint32_t bit = 1; bit != 0 && bit <= missing; bit <<= 1) {
                if (!(missing & bit))
                        continue;
                h->log(h->ctx, NONO_LOG_WARNING,
                       "BEST EFFORT: Landlock ABI %d has no %s (needs ABI %d): %s", st->abi,
                       ll_feature_name(bit), ll_feature_abi(bit), ll_feature_consequence(bit));
        }
}

static uint32_t missing_features(const struct ll_state *st, const struct nono_plan *plan)
{
        return ll_features_needed(restricts_network(plan)) & ~ll_features_at_abi(st->abi);
}

/* Fail closed on a missing feature, unless the plan asked for best effort. */
static int check_features(const struct ll_state *st, const struct nono_plan *plan)
{
        uint32_t missing = missing_features(st, plan);
        char msg[512];
        struct text t = {.buf = msg, .size = sizeof(msg)};

        if (!missing)
                return 0;
        if (plan->flags & NONO_PLAN_BEST_EFFORT) {
                warn_missing(st, missing);
                return 0;
        }
        describe_missing(st, plan, missing, &t);
        st->host->set_error(st->host->ctx, "landlock: %s; use --best-effort to run without %s", msg,
                            missing & (missing - 1) ? "them" : "it");
        return -ENOTSUP;
}

/* ---- prepare: the ruleset -------------------------------------------------------------- */

static int create_ruleset(const struct ll_state *st, const struct nono_plan *plan)
{
        struct ll_ruleset_attr attr = {
            .handled_access_fs = ll_fs_rights_at_abi(st->abi),
            .handled_access_net = handled_net(st, plan),
            /* Always scoped: the child has no business signalling or talking to outside
             * processes through abstract sockets; block/proxy modes rely on it too. */
            .scoped = ll_scopes_at_abi(st->abi),
        };
        long fd = syscall(LL_NR_create_ruleset, &attr, sizeof(attr), 0u);

        if (fd < 0) {
                int r = -errno;

                st->host->set_error(st->host->ctx, "landlock: cannot create the ruleset: %s",
                                    strerror(-r));
                return r;
        }
        return (int)fd;
}

static int grant_error(const struct ll_state *st, const struct nono_grant *g, int r,
                       const char *why)
{
        st->host->set_error(st->host->ctx, "landlock: grant %s (from %s): %s", g->path,
                            origin_of(g->origin), why);
        return r;
}

/*
 * Fallback for kernels or seccomp policies without openat2: refuses a symbolic link in
 * the last component only.
 */
static int open_nofollow_last(const char *path)
{
        struct stat sb;
        int fd = open(path, O_PATH | O_CLOEXEC | O_NOFOLLOW);

        if (fd < 0)
                return -errno;
        /* With O_PATH, O_NOFOLLOW opens the link itself instead of failing. */
        if (fstat(fd, &sb) < 0 || S_ISLNK(sb.st_mode)) {
                close(fd);
                return -ELOOP;
        }
        return fd;
}

/*
 * Opens a grant path without following any symbolic link.  Grant paths are resolved
 * at plan time, so a link found now was planted in between: refuse rather than grant
 * whatever it points to.
 */
static int open_no_symlinks(const char *path)
{
        struct ll_open_how how = {
            .flags = O_PATH | O_CLOEXEC,
            .resolve = LL_RESOLVE_NO_SYMLINKS,
        };
        long fd = syscall(LL_NR_openat2, AT_FDCWD, path, &how, sizeof(how));

        if (fd >= 0)
                return (int)fd;
        if (errno == ENOSYS)
                return open_nofollow_last(path);
        return -errno;
}

static int open_grant(const struct ll_state *st, const struct nono_grant *g)
{
        int fd;

        if (g->path[0] != '/')
                return grant_error(st, g, -EINVAL, "the path is not absolute");
        fd = open_no_symlinks(g->path);
        if (fd == -ELOOP)
                return grant_error(st, g, fd,
                                   "the path contains a symbolic link, but grants are "
                                   "resolved beforehand: refusing a link that appeared since");
        if (fd < 0)
                return grant_error(st, g, fd, strerror(-fd));
        return fd;
}

/* The rights for a grant, given what the opened path turned out to be. */
static int grant_rights(const struct ll_state *st, const struct nono_grant *g, int fd,
                        uint64_t *ret_rights)
{
        struct stat sb;
        bool is_dir;

        if (fstat(fd, &sb) < 0)
                return grant_error(st, g, -errno, strerror(errno));
        is_dir = S_ISDIR(sb.st_mode);
        /* A single-file grant must not silently become a whole tree. */
        if ((g->flags & NONO_GRANT_FILE) && is_dir)
                return grant_error(st, g, -EINVAL,
                                   "a single-file grant, but the path is a directory");
        /* A directory grant on a file gets the file rights: the kernel refuses others. */
        *ret_rights = ll_access_to_rights(g->access, !is_dir, st->abi);
        return 0;
}

static int add_path_rule(const struct ll_state *st, int ruleset_fd, int fd, uint64_t rights,
                         const struct nono_grant *g)
{
        struct ll_path_beneath_attr attr = {.allowed_access = rights, .parent_fd = fd};

        if (syscall(LL_NR_add_rule, ruleset_fd, LL_RULE_PATH_BENEATH, &attr, 0u) < 0)
                return grant_error(st, g, -errno, strerror(errno));
        return 0;
}

/*
 * A directory sealed because a protected path is missing below it (mountns.c): nothing
 * may be created in it, and nothing in it removed or renamed but files.
 */
#define LL_SEAL_DROP                                                                               \
        (LL_ACCESS_FS_MAKE_CHAR | LL_ACCESS_FS_MAKE_DIR | LL_ACCESS_FS_MAKE_REG |                  \
         LL_ACCESS_FS_MAKE_SOCK | LL_ACCESS_FS_MAKE_FIFO | LL_ACCESS_FS_MAKE_BLOCK |               \
         LL_ACCESS_FS_MAKE_SYM | LL_ACCESS_FS_REMOVE_DIR)

static int add_grant_rule(const struct ll_state *st, int ruleset_fd, const struct nono_grant *g,
                          const struct mntns *mntns)
{
        uint64_t rights = 0;
        int fd, r;

        /* Unknown access bits have unknown meaning: refuse rather than guess. */
        if (g->access & ~(uint32_t)NONO_ACCESS_READWRITE || !(g->access & NONO_ACCESS_READWRITE))
                return grant_error(st, g, -EINVAL, "no or unknown access mode");
        fd = open_grant(st, g);
        if (fd < 0)
                return fd;
        r = grant_rights(st, g, fd, &rights);
        if (mntns_sealed(mntns, g->path))
                rights &= ~(uint64_t)LL_SEAL_DROP;
        if (r == 0)
                r = add_path_rule(st, ruleset_fd, fd, rights, g);
        /* The rule holds its own reference to the file; the descriptor is not needed. */
        close(fd);
        return r;
}

static int add_port_rule(const struct ll_state *st, int ruleset_fd, uint64_t right, uint16_t port)
{
        struct ll_net_port_attr attr = {.allowed_access = right, .port = port};

        if (syscall(LL_NR_add_rule, ruleset_fd, LL_RULE_NET_PORT, &attr, 0u) < 0) {
                int r = -errno;

                st->host->set_error(st->host->ctx, "landlock: cannot allow %s to port %u: %s",
                                    ll_net_right_name(right), (unsigned)port, strerror(-r));
                return r;
        }
        return 0;
}

/*
 * The subdirectories of sealed directories keep their grant's rights.  One that cannot
 * be opened (gone since, or a link now) stays sealed: stricter, never looser.
 */
static int add_open_dir_rules(const struct ll_state *st, int ruleset_fd, const struct mntns *mntns)
{
        for (size_t i = 0; i < mntns_n_open_dirs(mntns); i++) {
                uint32_t access;
                const char *path = mntns_open_dir(mntns, i, &access);
                struct ll_path_beneath_attr attr = {
                    .allowed_access = ll_access_to_rights(access, false, st->abi)};
                int fd = open_no_symlinks(path), r = 0;

                if (fd < 0)
                        continue;
                attr.parent_fd = fd;
                if (syscall(LL_NR_add_rule, ruleset_fd, LL_RULE_PATH_BENEATH, &attr, 0u) < 0) {
                        r = -errno;
                        st->host->set_error(st->host->ctx, "landlock: cannot add a rule for %s: %s",
                                            path, strerror(-r));
                }
                close(fd);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int add_rules(const struct ll_state *st, int ruleset_fd, const struct nono_plan *plan,
                     struct mntns *mntns)
{
        int r = 0;

        for (size_t i = 0; r == 0 && i < plan->n_grants; i++)
                r = add_grant_rule(st, ruleset_fd, plan->grants[i], mntns);
        if (r == 0)
                r = add_open_dir_rules(st, ruleset_fd, mntns);
        /* The child adds these rules itself, on the tmpfs it makes (mntns_apply). */
        for (size_t i = 0; r == 0 && i < mntns_n_private_tmp(mntns); i++)
                mntns_set_private_tmp_rights(
                    mntns, i,
                    ll_access_to_rights(mntns_private_tmp_access(mntns, i), false, st->abi));
        /* Without handled TCP rights (network allowed, or best effort below ABI 4) the
         * kernel would refuse port rules, and they would mean nothing anyway. */
        if (!handled_net(st, plan))
                return r;
        for (size_t i = 0; r == 0 && i < plan->n_tcp_connect_ports; i++)
                r = add_port_rule(st, ruleset_fd, LL_ACCESS_NET_CONNECT_TCP,
                                  plan->tcp_connect_ports[i]);
        for (size_t i = 0; r == 0 && i < plan->n_tcp_bind_ports; i++)
                r = add_port_rule(st, ruleset_fd, LL_ACCESS_NET_BIND_TCP, plan->tcp_bind_ports[i]);
        return r;
}

/*
 * The host reads the audit records: have the command's denials recorded too, those
 * after the execve (see landlock-uapi.h).  Flags an older ABI does not know would make
 * restrict_self fail.
 */
static unsigned restrict_flags(const struct ll_state *st, const struct nono_plan *plan)
{
        if (!(plan->flags & NONO_PLAN_LOG_DENIALS) ||
            !(ll_features_at_abi(st->abi) & LL_FEATURE_LOGGING))
                return 0;
        return LL_RESTRICT_SELF_LOG_NEW_EXEC_ON;
}

static int ll_prepare(void *state, const struct nono_plan *plan, void **ret_prepared)
{
        struct ll_state *st = state;
        struct ll_prepared *p;
        struct ll_seccomp *seccomp = NULL;
        struct mntns *mntns = NULL;
        int fd, r;

        mntns_reap_trial(&st->mntns);
        r = ensure_abi(st);
        if (r == 0)
                r = check_plan_shape(st, plan);
        if (r == 0)
                r = check_features(st, plan);
        /* The namespace first: it decides which grants are sealed (see add_grant_rule). */
        if (r == 0)
                r = mntns_prepare(st->host, &st->mntns, plan, &mntns);
        if (r < 0)
                return r;

        fd = create_ruleset(st, plan);
        if (fd < 0) {
                mntns_release(st->host, mntns);
                return fd;
        }
        r = add_rules(st, fd, plan, mntns);
        if (r == 0)
                r = ll_seccomp_prepare(st->host, plan, &seccomp);
        if (r < 0) {
                mntns_release(st->host, mntns);
                ll_seccomp_release(st->host, seccomp);
                close(fd);
                return r;
        }
        p = st->host->alloc(st->host->ctx, sizeof(*p));
        if (!p) {
                mntns_release(st->host, mntns);
                ll_seccomp_release(st->host, seccomp);
                close(fd);
                st->host->set_error(st->host->ctx, "landlock: out of memory");
                return -ENOMEM;
        }
        p->ruleset_fd = fd;
        p->restrict_flags = restrict_flags(st, plan);
        p->seccomp = seccomp;
        p->mntns = mntns;
        *ret_prepared = p;
        return 0;
}

/* ---- apply (child, after fork) --------------------------------------------------------- */

/*
 * Static strings only: strerror may allocate or take the locale lock, and a lock held
 * by another parent thread at fork time would never be released in the child.
 */
static const char *apply_errno_text(int err)
{
        switch (err) {
        case EPERM:
                return "not permitted (no_new_privs is not set)";
        case E2BIG:
                return "too many nested Landlock domains (the kernel allows 16)";
        case EBADF:
        case EBADFD:
                return "the ruleset descriptor is not valid";
        case EINVAL:
                return "invalid argument";
        case ENOMEM:
                return "out of kernel memory";
        default:
                return "unexpected error";
        }
}

static int apply_error(const struct ll_state *st, const char *what, int err)
{
        /* set_error is safe here: the host formats into preallocated memory. */
        st->host->set_error(st->host->ctx, "landlock: %s: %s", what, apply_errno_text(err));
        return -err;
}

static int ll_apply(void *state, void *prepared)
{
        struct ll_state *st = state;
        struct ll_prepared *p = prepared;
        int r;

        /* Applying nothing would run the child unconfined: a missing ruleset is an error. */
        if (!p)
                return apply_error(st, "nothing prepared", EINVAL);
        /*
         * The mount namespace first: it may need a new user namespace (which seccomp
         * denies) and capabilities.  Landlock's rules hold on the inodes prepare opened,
         * which the namespace's bind mounts still show.
         */
        r = mntns_apply(st->host, p->mntns, p->ruleset_fd);
        if (r < 0)
                return r;
        /*
         * no_new_privs lets an unprivileged process restrict itself, and keeps a setuid
         * program from regaining privileges the sandbox takes away.  Set it even as root.
         */
        if (prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) < 0)
                return apply_error(st, "cannot set no_new_privs", errno);
        /*
         * The ruleset fd is close-on-exec (the kernel creates it so), so it is not
         * closed here: under `nono wrap` the same process later runs release, which
         * closes it.
         */
        if (syscall(LL_NR_restrict_self, p->ruleset_fd, p->restrict_flags) < 0)
                return apply_error(st, "cannot enforce the ruleset", errno);
        /*
         * seccomp last: the filter denies unshare(CLONE_NEWUSER), setns and the like, so
         * every earlier setup step (namespaces, Landlock) must be done by now, and
         * nothing after this point has to be allowed by the filter.
         */
        if (p->seccomp)
                return ll_seccomp_apply(st->host, p->seccomp);
        return 0;
}

/* ---- release --------------------------------------------------------------------------- */

static void ll_release(void *state, void *prepared)
{
        struct ll_state *st = state;
        struct ll_prepared *p = prepared;

        if (!p)
                return;
        close(p->ruleset_fd);
        ll_seccomp_release(st->host, p->seccomp);
        mntns_release(st->host, p->mntns);
        st->host->free(st->host->ctx, p);
}

/* ---- render (--dry-run) ---------------------------------------------------------------- */

/* Whether a grant will get file rights; without the file at hand, trust the flag. */
static bool grant_is_file(const struct nono_grant *g)
{
        struct stat sb;

        if (lstat(g->path, &sb) == 0)
                return !S_ISDIR(sb.st_mode);
        return g->flags & NONO_GRANT_FILE;
}

static void render_mask(struct text *t, const char *label, uint64_t mask,
                        const char *(*name_of)(uint64_t))
{
        char names[256];

        ll_format_mask(mask, name_of, names, sizeof(names));
        text_printf(t, "  %s: %s\n", label, names);
}

static void render_grants(const struct ll_state *st, const struct nono_plan *plan, struct text *t)
{
        for (size_t i = 0; i < plan->n_grants; i++) {
                const struct nono_grant *g = plan->grants[i];
                uint64_t rights = ll_access_to_rights(g->access, grant_is_file(g), st->abi);
                char names[256];

                ll_format_mask(rights, ll_fs_right_name, names, sizeof(names));
                text_printf(t, "  allow %s: %s  [%s]\n", g->path, names, origin_of(g->origin));
        }
}

static void render_ports(const struct ll_state *st, const struct nono_plan *plan, struct text *t)
{
        if (!handled_net(st, plan))
                return;
        for (size_t i = 0; i < plan->n_tcp_connect_ports; i++)
                text_printf(t, "  allow tcp connect to port %u\n",
                            (unsigned)plan->tcp_connect_ports[i]);
        for (size_t i = 0; i < plan->n_tcp_bind_ports; i++)
                text_printf(t, "  allow tcp bind to port %u\n", (unsigned)plan->tcp_bind_ports[i]);
}

static bool path_is_under(const char *path, const char *dir)
{
        size_t n = strlen(dir);

        if (strncmp(path, dir, n) != 0)
                return false;
        return (n > 0 && dir[n - 1] == '/') || path[n] == '/' || path[n] == '\0';
}

/* The grant a path lies in, or NULL. */
static const char *enclosing_grant(const struct nono_plan *plan, const char *path)
{
        for (size_t i = 0; i < plan->n_grants; i++)
                if (path_is_under(path, plan->grants[i]->path))
                        return plan->grants[i]->path;
        return NULL;
}

/*
 * Landlock cannot carve a hole into a granted tree: name each protected path that lies
 * in a grant, and only count the others (they are denied like everything ungranted).
 */
static void render_denies(const struct nono_plan *plan, struct text *t)
{
        size_t outside = 0;

        for (size_t i = 0; i < plan->n_denies; i++) {
                const char *path = plan->denies[i]->path;
                const char *grant = enclosing_grant(plan, path);

                if (grant)
                        text_printf(t,
                                    "  protected %s: inside grant %s, not enforced by Landlock\n",
                                    path, grant);
                else
                        outside++;
        }
        if (outside)
                text_printf(t, "  protected paths outside every grant: %zu, denied\n", outside);
}

static void render_seccomp(const struct nono_plan *plan, struct text *t)
{
        char lines[1024];

        ll_seccomp_render(plan, lines, sizeof(lines));
        text_printf(t, "%s", lines);
}

static void render_line(void *ctx, const char *line)
{
        text_printf(ctx, "%s", line);
}

static void render_plan(const struct ll_state *st, const struct nono_plan *plan, struct text *t)
{
        uint32_t missing = missing_features(st, plan);

        /* The host prefixes the plugin's name. */
        describe_abi(st, t);
        text_printf(t, "\n");
        render_mask(t, "handled filesystem rights", ll_fs_rights_at_abi(st->abi), ll_fs_right_name);
        render_mask(t, "handled network rights", handled_net(st, plan), ll_net_right_name);
        render_mask(t, "scopes", ll_scopes_at_abi(st->abi), ll_scope_name);
        render_grants(st, plan, t);
        render_ports(st, plan, t);
        render_denies(plan, t);
        render_seccomp(plan, t);
        mntns_render(st->host, &st->mntns, plan, render_line, t);
        if (missing) {
                text_printf(t, "  %s: ",
                            plan->flags & NONO_PLAN_BEST_EFFORT ? "best effort, running anyway"
                                                                : "refused");
                describe_missing(st, plan, missing, t);
                text_printf(t, "\n");
        }
}

static int ll_render(void *state, const struct nono_plan *plan, char **ret_text)
{
        struct ll_state *st = state;
        struct text t = {0};
        int r;

        r = ensure_abi(st);
        if (r == 0)
                r = check_plan_shape(st, plan);
        if (r < 0)
                return r;
        mntns_probe(st->host, &st->mntns);

        /* Measure, then write: the host offers no realloc. */
        render_plan(st, plan, &t);
        t.size = t.len + 1;
        t.len = 0;
        t.buf = st->host->alloc(st->host->ctx, t.size);
        if (!t.buf) {
                st->host->set_error(st->host->ctx, "landlock: out of memory");
                return -ENOMEM;
        }
        t.buf[0] = '\0';
        render_plan(st, plan, &t);
        *ret_text = t.buf;
        return 0;
}

static const struct nono_enforcer_ops ops = {
    .size = sizeof(struct nono_enforcer_ops),
    .probe = ll_probe,
    .prepare = ll_prepare,
    .apply = ll_apply,
    .release = ll_release,
    .render = ll_render,
};

NONO_PLUGIN_DEFINE(landlock, NONO_PLUGIN_ENFORCER, "landlock", "0.1.0",
                   "Linux Landlock LSM (filesystem, TCP ports, scopes) with a seccomp filter",
                   ll_init, ll_fini, &ops)
