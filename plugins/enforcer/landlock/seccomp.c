/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The seccomp layer of the landlock enforcer (DESIGN §4, layer 2).
 *
 * The default action is ALLOW; each rule below denies one thing Landlock cannot see.
 * Denials return EPERM (clone3: ENOSYS, see below) so that programs report an ordinary
 * error instead of dying.  The one exception is a system call made through a foreign
 * ABI (i386 `int $0x80`, or x32 numbers with bit 30 set, on x86-64): its numbers mean
 * different calls, so no rule here would match it reliably; libseccomp sends it to the
 * "bad architecture" action, which we set to KILL_PROCESS, as Docker, systemd
 * (SystemCallArchitectures=native) and bubblewrap do.  Killing the whole process
 * rather than the thread keeps a half-dead multithreaded program from running on.
 *
 * Arguments the kernel reads as 32-bit `int`/`unsigned int` (ioctl's request, socket's
 * family, setsockopt's level) are matched on their low 32 bits only: a 64-bit compare
 * would let `(0x123UL << 32) | TIOCSTI` through although the kernel truncates it to
 * TIOCSTI (CVE-2019-10063).  libseccomp 2.5's SCMP_A1_32() does not help: it only
 * truncates the datum and still compares all 64 bits.  So every such match is a
 * masked compare, or a 64-bit range whose excluded values all have zero high bits.
 *
 * libseccomp runs in the parent only (prepare): it allocates.  The finished program is
 * exported to a memfd, read into host memory, and the child loads it with one
 * seccomp(2) call.
 */
#include "seccomp-layer.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define DENY      SCMP_ACT_ERRNO(EPERM)
#define LOW32     0xffffffffULL
#define TYPE_MASK 0xfULL /* the kernel's SOCK_TYPE_MASK: the rest are SOCK_* flags */
#define MAX_INSNS 4096   /* BPF_MAXINSNS: the kernel refuses longer programs */

/* clone's flags are its first argument, except on s390 and CRIS (second). */
#if defined(__s390__) || defined(__CRIS__)
#define CLONE_FLAGS_ARG 1
#else
#define CLONE_FLAGS_ARG 0
#endif

/* The socket rules rely on these values (Linux's, on every architecture). */
_Static_assert(AF_UNIX == 1 && AF_INET == 2 && AF_INET6 == 10, "address family numbers");
_Static_assert(SOCK_STREAM == 1, "SOCK_STREAM is 1");
_Static_assert(IPPROTO_IP == 0 && IPPROTO_TCP == 6, "protocol numbers");

struct ll_seccomp {
        struct sock_fprog prog;
        struct sock_filter insns[];
};

static bool restricts_network(const struct nono_plan *plan)
{
        /* An unknown mode is treated as restricting: fail closed. */
        return plan->network_mode != NONO_NETWORK_ALLOW;
}

/* ---- availability ---------------------------------------------------------------------- */

/* 0 when the kernel has seccomp filters with the actions we use, else -errno. */
static int probe_kernel(void)
{
        static const uint32_t actions[] = {SECCOMP_RET_ERRNO, SECCOMP_RET_KILL_PROCESS};

        for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
                uint32_t action = actions[i];

                if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0u, &action) < 0)
                        return -errno;
        }
        return 0;
}

static const char *unavailable_reason(int r)
{
        switch (-r) {
        case ENOSYS:
                return "this kernel has no seccomp (built without CONFIG_SECCOMP)";
        case EINVAL:
                return "this kernel has no seccomp filters (CONFIG_SECCOMP_FILTER) or predates "
                       "Linux 4.14";
        case EOPNOTSUPP:
                return "this kernel's seccomp lacks the errno or kill-process action "
                       "(needs Linux 4.14)";
        default:
                return NULL;
        }
}

static const char *const consequence =
    "io_uring, user namespaces, TIOCSTI injection, TCP Fast Open, ptrace, module/kexec/bpf/"
    "perf calls and (with a restricted network) UDP, raw and MPTCP sockets are not blocked";

static int report_unavailable(const struct nono_host *host, const struct nono_plan *plan, int r)
{
        const char *why = unavailable_reason(r);
        char buf[160];

        if (!why) {
                snprintf(buf, sizeof(buf), "cannot query seccomp: %s", strerror(-r));
                why = buf;
        }
        if (plan->flags & NONO_PLAN_BEST_EFFORT) {
                host->log(host->ctx, NONO_LOG_WARNING,
                          "BEST EFFORT: seccomp is unavailable (%s): %s", why, consequence);
                return 0;
        }
        host->set_error(
            host->ctx,
            "landlock: seccomp is unavailable: %s; the sandbox needs it (without it %s); "
            "use --best-effort to run without it",
            why, consequence);
        return -ENOTSUP;
}

/* ---- the rules ------------------------------------------------------------------------- */

struct builder {
        scmp_filter_ctx ctx;
        int r;              /* the first error */
        const char *failed; /* the rule it came from */
};

static void add_rule(struct builder *b, uint32_t action, int nr, const char *name, unsigned n,
                     const struct scmp_arg_cmp *cmp)
{
        int r;

        if (b->r < 0)
                return;
        r = seccomp_rule_add_array(b->ctx, action, nr, n, cmp);
        if (r < 0) {
                b->r = r;
                b->failed = name;
        }
}

/* One rule with the comparisons given (ANDed); rules for the same call are ORed. */
#define RULE(b, action, sys, ...)                                                                  \
        add_rule((b), (action), SCMP_SYS(sys), #sys,                                               \
                 (unsigned)(sizeof((const struct scmp_arg_cmp[]){__VA_ARGS__}) /                   \
                            sizeof(struct scmp_arg_cmp)),                                          \
                 (const struct scmp_arg_cmp[]){__VA_ARGS__})

/* Whole calls a sandboxed program has no business making. */
static void deny_calls(struct builder *b)
{
        static const struct {
                int nr;
                const char *name;
        } calls[] = {
            /* io_uring runs socket, connect, open... without passing the filter. */
            {SCMP_SYS(io_uring_setup), "io_uring_setup"},
            {SCMP_SYS(io_uring_enter), "io_uring_enter"},
            {SCMP_SYS(io_uring_register), "io_uring_register"},
            /* Entering another namespace (catalogue B05). */
            {SCMP_SYS(setns), "setns"},
            /* Reading or writing another process's memory; also inside the sandbox. */
            {SCMP_SYS(ptrace), "ptrace"},
            {SCMP_SYS(process_vm_readv), "process_vm_readv"},
            {SCMP_SYS(process_vm_writev), "process_vm_writev"},
            /* The kernel itself. */
            {SCMP_SYS(init_module), "init_module"},
            {SCMP_SYS(finit_module), "finit_module"},
            {SCMP_SYS(delete_module), "delete_module"},
            {SCMP_SYS(kexec_load), "kexec_load"},
            {SCMP_SYS(kexec_file_load), "kexec_file_load"},
            {SCMP_SYS(bpf), "bpf"},
            {SCMP_SYS(perf_event_open), "perf_event_open"},
            /* Changing mounts: the mount namespace is built before this filter loads;
             * afterwards nothing may undo its read-only binds and masks (catalogue B01,
             * B02), even a process that somehow kept CAP_SYS_ADMIN. */
            {SCMP_SYS(mount), "mount"},
            {SCMP_SYS(umount2), "umount2"},
            {SCMP_SYS(pivot_root), "pivot_root"},
            {SCMP_SYS(chroot), "chroot"},
            {SCMP_SYS(mount_setattr), "mount_setattr"},
            {SCMP_SYS(open_tree), "open_tree"},
            {SCMP_SYS(move_mount), "move_mount"},
            {SCMP_SYS(fsopen), "fsopen"},
            {SCMP_SYS(fsconfig), "fsconfig"},
            {SCMP_SYS(fsmount), "fsmount"},
            {SCMP_SYS(fspick), "fspick"},
        };

        for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
                add_rule(b, DENY, calls[i].nr, calls[i].name, 0, NULL);
}

/* New user namespaces: they hand out capabilities over new mount and net namespaces. */
static void deny_user_namespaces(struct builder *b)
{
        RULE(b, DENY, unshare, SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER));
        /* A new mount namespace would let a privileged process remount what nono made
         * read-only; nothing in a sandbox needs one. */
        RULE(b, DENY, unshare, SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWNS, CLONE_NEWNS));
        /* The kernel reads the low 32 bits of clone's flags; the mask ignores the rest. */
        RULE(b, DENY, clone,
             SCMP_CMP(CLONE_FLAGS_ARG, SCMP_CMP_MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER));
        /*
         * clone3 passes its flags in a struct in memory, which seccomp cannot read.  ENOSYS
         * ("no such call") makes glibc, Go and Rust fall back to clone, whose flags the
         * rule above sees; container runtimes (Docker, Podman, Flatpak) do the same.
         */
        add_rule(b, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), "clone3", 0, NULL);
}

static void deny_terminal_injection(struct builder *b)
{
        /* Pushing input into the terminal (TIOCSTI) or the console selection (TIOCLINUX). */
        RULE(b, DENY, ioctl, SCMP_A1(SCMP_CMP_MASKED_EQ, LOW32, TIOCSTI));
        RULE(b, DENY, ioctl, SCMP_A1(SCMP_CMP_MASKED_EQ, LOW32, TIOCLINUX));
}

/* TCP Fast Open connects without connect(), past Landlock's TCP connect rule. */
static void deny_fast_open(struct builder *b)
{
        RULE(b, DENY, sendto, SCMP_A3(SCMP_CMP_MASKED_EQ, MSG_FASTOPEN, MSG_FASTOPEN));
        RULE(b, DENY, sendmsg, SCMP_A2(SCMP_CMP_MASKED_EQ, MSG_FASTOPEN, MSG_FASTOPEN));
        RULE(b, DENY, sendmmsg, SCMP_A3(SCMP_CMP_MASKED_EQ, MSG_FASTOPEN, MSG_FASTOPEN));
        RULE(b, DENY, setsockopt, SCMP_A1(SCMP_CMP_MASKED_EQ, LOW32, IPPROTO_TCP),
             SCMP_A2(SCMP_CMP_MASKED_EQ, LOW32, TCP_FASTOPEN_CONNECT));
}

/*
 * Block/proxy modes: only AF_UNIX sockets and plain TCP, i.e. AF_INET/AF_INET6 with
 * type SOCK_STREAM (plus SOCK_NONBLOCK/SOCK_CLOEXEC) and protocol 0 or IPPROTO_TCP.
 * UDP, raw, packet, netlink, vsock, SCTP and MPTCP (IPPROTO_MPTCP, 262: not TCP to
 * Landlock's rules) are denied.  libseccomp compares each argument at most once per
 * rule, so "not one of these" is written as the complementary values, rule by rule.
 */
static void deny_sockets(struct builder *b)
{
        static const int inet[] = {AF_INET, AF_INET6};

        /* Families: everything but AF_UNIX, AF_INET, AF_INET6.  Values above AF_INET6,
         * including any with high bits set, are one 64-bit range; below it, the high
         * bits are zero and each other value is listed. */
        for (int family = 0; family < AF_INET6; family++)
                if (family != AF_UNIX && family != AF_INET)
                        RULE(b, DENY, socket, SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)family));
        RULE(b, DENY, socket, SCMP_A0(SCMP_CMP_GT, AF_INET6));

        for (size_t i = 0; i < sizeof(inet) / sizeof(inet[0]); i++) {
                scmp_datum_t family = (scmp_datum_t)inet[i];

                /* Type (low four bits) other than SOCK_STREAM = 1: 0, or any of bits 1-3. */
                RULE(b, DENY, socket, SCMP_A0(SCMP_CMP_EQ, family),
                     SCMP_A1(SCMP_CMP_MASKED_EQ, TYPE_MASK, 0));
                for (scmp_datum_t bit = 2; bit <= 8; bit <<= 1)
                        RULE(b, DENY, socket, SCMP_A0(SCMP_CMP_EQ, family),
                             SCMP_A1(SCMP_CMP_MASKED_EQ, bit, bit));
                /* Protocol other than 0 and IPPROTO_TCP. */
                for (scmp_datum_t proto = IPPROTO_IP + 1; proto < IPPROTO_TCP; proto++)
                        RULE(b, DENY, socket, SCMP_A0(SCMP_CMP_EQ, family),
                             SCMP_A2(SCMP_CMP_EQ, proto));
                RULE(b, DENY, socket, SCMP_A0(SCMP_CMP_EQ, family),
                     SCMP_A2(SCMP_CMP_GT, IPPROTO_TCP));
        }

        /* socketpair: AF_UNIX only (a few other families implement it). */
        RULE(b, DENY, socketpair, SCMP_A0(SCMP_CMP_LT, AF_UNIX));
        RULE(b, DENY, socketpair, SCMP_A0(SCMP_CMP_GT, AF_UNIX));
}

static int build_rules(const struct nono_host *host, const struct nono_plan *plan,
                       scmp_filter_ctx ctx)
{
        struct builder b = {.ctx = ctx};
        int r;

        /* Foreign ABIs (and x32 numbers on x86-64): see the top of this file. */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
        if (r < 0) {
                host->set_error(host->ctx,
                                "landlock: seccomp: cannot set the foreign-architecture action: %s",
                                strerror(-r));
                return r;
        }
        deny_calls(&b);
        deny_user_namespaces(&b);
        deny_terminal_injection(&b);
        deny_fast_open(&b);
        if (restricts_network(plan))
                deny_sockets(&b);
        if (b.r < 0)
                host->set_error(host->ctx, "landlock: seccomp: cannot add the rule for %s: %s",
                                b.failed, strerror(-b.r));
        return b.r;
}

/* ---- export ---------------------------------------------------------------------------- */

static int export_error(const struct nono_host *host, const char *what, int r)
{
        host->set_error(host->ctx, "landlock: seccomp: %s: %s", what, strerror(-r));
        return r;
}

/* libseccomp 2.5 exports to a file descriptor only: a memfd, read back into memory. */
static int export_program(const struct nono_host *host, scmp_filter_ctx ctx,
                          struct ll_seccomp **ret)
{
        struct ll_seccomp *f = NULL;
        struct stat sb;
        size_t size, done = 0;
        int fd, r;

        fd = memfd_create("nono-seccomp", MFD_CLOEXEC);
        if (fd < 0)
                return export_error(host, "cannot create a memfd for the filter", -errno);
        r = seccomp_export_bpf(ctx, fd);
        if (r < 0) {
                export_error(host, "cannot generate the filter program", r);
                goto out;
        }
        if (fstat(fd, &sb) < 0) {
                r = export_error(host, "cannot read the filter program", -errno);
                goto out;
        }
        size = (size_t)sb.st_size;
        if (size == 0 || size % sizeof(struct sock_filter) != 0 ||
            size / sizeof(struct sock_filter) > MAX_INSNS) {
                r = export_error(host, "the generated filter program has a bad length", -EINVAL);
                goto out;
        }
        f = host->alloc(host->ctx, sizeof(*f) + size);
        if (!f) {
                r = export_error(host, "cannot hold the filter program", -ENOMEM);
                goto out;
        }
        while (done < size) {
                ssize_t n = pread(fd, (char *)f->insns + done, size - done, (off_t)done);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        r = export_error(host, "cannot read the filter program",
                                         n < 0 ? -errno : -EIO);
                        goto out;
                }
                done += (size_t)n;
        }
        f->prog.len = (unsigned short)(size / sizeof(struct sock_filter));
        f->prog.filter = f->insns;
        *ret = f;
        f = NULL;
        r = 0;
out:
        if (f)
                host->free(host->ctx, f);
        close(fd);
        return r;
}

/* ---- prepare, apply, release ----------------------------------------------------------- */

int ll_seccomp_prepare(const struct nono_host *host, const struct nono_plan *plan,
                       struct ll_seccomp **ret)
{
        scmp_filter_ctx ctx;
        int r;

        *ret = NULL;
        /* Before libseccomp, which would fail on such a kernel with a vaguer reason. */
        r = probe_kernel();
        if (r < 0)
                return report_unavailable(host, plan, r);

        ctx = seccomp_init(SCMP_ACT_ALLOW);
        if (!ctx) {
                host->set_error(host->ctx, "landlock: seccomp: cannot create the filter");
                return -ENOMEM;
        }
        r = build_rules(host, plan, ctx);
        if (r == 0)
                r = export_program(host, ctx, ret);
        seccomp_release(ctx);
        return r;
}

/* Static strings only: see apply_errno_text in landlock.c. */
static const char *load_errno_text(int err)
{
        switch (err) {
        case EACCES:
                return "not permitted (no_new_privs is not set)";
        case ENOMEM:
                return "out of kernel memory, or the stacked filters exceed the kernel's "
                       "limit";
        case EINVAL:
                return "the kernel refused the filter program";
        case EFAULT:
                return "bad address";
        case ENOSYS:
                return "this kernel has no seccomp";
        default:
                return "unexpected error";
        }
}

int ll_seccomp_apply(const struct nono_host *host, const struct ll_seccomp *filter)
{
        /* No flags: the child is single-threaded (nono runs apply right after fork). */
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0u, &filter->prog) < 0) {
                int err = errno;

                host->set_error(host->ctx, "landlock: cannot load the seccomp filter: %s",
                                load_errno_text(err));
                return -err;
        }
        return 0;
}

void ll_seccomp_release(const struct nono_host *host, struct ll_seccomp *filter)
{
        if (filter)
                host->free(host->ctx, filter);
}

/* ---- render ---------------------------------------------------------------------------- */

size_t ll_seccomp_render(const struct nono_plan *plan, char *buf, size_t size)
{
        int r = probe_kernel();
        int n;

        if (r < 0) {
                const char *why = unavailable_reason(r);

                n = snprintf(buf, size, "  seccomp: unavailable (%s): %s\n",
                             why ? why : strerror(-r),
                             plan->flags & NONO_PLAN_BEST_EFFORT ? "best effort, running without it"
                                                                 : "refused");
                return n > 0 ? (size_t)n : 0;
        }
        n = snprintf(buf, size,
                     "  seccomp: EPERM for io_uring, new user namespaces (unshare/clone "
                     "CLONE_NEWUSER, setns), TIOCSTI/TIOCLINUX, MSG_FASTOPEN and "
                     "TCP_FASTOPEN_CONNECT, ptrace, process_vm_readv/writev, module loading, "
                     "kexec, bpf, perf_event_open, mount changes (mount, umount2, pivot_root, "
                     "chroot, the new mount API, unshare CLONE_NEWNS); clone3 ENOSYS; a "
                     "foreign-ABI call kills the process\n%s",
                     restricts_network(plan)
                         ? "  seccomp sockets: AF_UNIX and TCP (AF_INET/AF_INET6 SOCK_STREAM, "
                           "protocol 0 or IPPROTO_TCP) only; any other socket EPERM (UDP, raw, "
                           "packet, netlink, vsock, MPTCP...)\n"
                         : "");
        return n > 0 ? (size_t)n : 0;
}
