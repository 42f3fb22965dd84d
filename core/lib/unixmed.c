/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Unix-socket mediator; see unixmed.h for the design.  Three parties:
 *
 *   nono (the supervisor)  receives the seccomp notifications, copies the address (and
 *                          for sendto the data) out of the child, takes the socket with
 *                          pidfd_getfd, resolves and judges pathnames, answers refusals
 *                          itself and hands everything else to the helper (unixserve.c;
 *                          in nono wrap the mediator executable nono-unixmed does this);
 *   the helper             nono-unix-helper (core/unixhelper), which the child starts
 *                          inside its sandbox; performs connect/sendto on the socket it
 *                          is handed and reports the result;
 *   the child              whose connect and addressed sendto calls wait in the kernel
 *                          until nono answers.
 *
 * nono <-> helper is a SOCK_SEQPACKET pair; unixproto.h has what goes over it.  This
 * file prepares (the filter, the channels), starts the helper and the mediator, and
 * installs the filter in the child.
 */
#include "unixmed.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "layout.h"
#include "plan.h"
#include "unixproto.h"
#include "unixserve.h"

#define MAX_INSNS 4096 /* BPF_MAXINSNS */

/* ---- child side (async-signal-safe) ----------------------------------------------------- */

static void copy_msg(char *msg, size_t len, const char *s)
{
        size_t n = 0;

        if (!msg || len == 0)
                return;
        for (; s[n] && n + 1 < len; n++)
                msg[n] = s[n];
        msg[n] = '\0';
}

/* SIGKILL to the helper on a failed install; in wrap (pid unknown, 0) it ends with the
 * mediator, which sees the hand-over fail. */
static void stop_helper(long helper)
{
        if (helper > 0)
                kill((pid_t)helper, SIGKILL);
}

/*
 * An executable to start without copying this process: the new process shares our
 * memory until its execveat (vfork semantics), and we sleep meanwhile.  It gets `argv`,
 * an empty environment and the descriptors in `pass` (-1: none); every other
 * descriptor, stdio included, is closed by the execveat.
 */
struct image {
        int exe; /* O_PATH descriptor of the executable */
        char *const *argv;
        int pass[2];
        bool session; /* a session of its own (the mediator); else a process group */
        int err;      /* the new process's execveat error, written into our memory */
};

#define IMAGE_STACK_SIZE 16384

/*
 * The new process, on a stack of its own in our memory: system calls only, nothing
 * written but im->err.  Not instrumented by AddressSanitizer, which knows nothing of
 * this stack.
 */
__attribute__((no_sanitize_address)) static int image_entry(void *arg)
{
        static char *const no_env[] = {NULL};
        struct image *im = arg;

        /* Before it runs a single instruction of its own: out of our process group (the
         * mediator into a session of its own: no terminal), so that Ctrl-C and kill(0,
         * ...) from the sandbox never reach it; and only the descriptors it is given. */
        if (im->session)
                setsid();
        else
                setpgid(0, 0);
        close_range(0, ~0U, CLOSE_RANGE_CLOEXEC);
        for (size_t i = 0; i < 2; i++)
                if (im->pass[i] >= 0)
                        fcntl(im->pass[i], F_SETFD, 0);
        execveat(im->exe, "", im->argv, no_env, AT_EMPTY_PATH);
        im->err = errno;
        _exit(127);
}

/*
 * Starts im (clone flags: CLONE_PARENT or 0).  Returns the pid, or -1 with errno when
 * the clone or the execveat failed (a process that failed to execute has exited, and
 * is its parent's to reap).  Async-signal-safe.
 */
static long spawn_image(struct image *im, unsigned long flags)
{
        char stack[IMAGE_STACK_SIZE] __attribute__((aligned(16)));
        sigset_t all, old;
        long pid;

        im->err = 0;
        /* No handler of ours may run in the new process, which shares our memory; it
         * execs with every signal blocked and sets its own mask. */
        sigfillset(&all);
        sigprocmask(SIG_SETMASK, &all, &old);
        pid = clone(image_entry, stack + sizeof(stack),
                    (int)(CLONE_VM | CLONE_VFORK | flags | SIGCHLD), im);
        sigprocmask(SIG_SETMASK, &old, NULL);
        if (pid > 0 && im->err) {
                errno = im->err;
                return -1;
        }
        return pid;
}

/*
 * spawn_image for nono wrap, where this process becomes the command: the new process is
 * orphaned at once, so that it is reparented to the nearest subreaper or init and the
 * command never sees it in wait().  An intermediate starts it and exits, and is reaped
 * here; it is a vfork, sharing our memory: no copy of it is made.  Returns 0, or -1
 * with errno.  0 also when SIGCHLD is ignored and the outcome is unknown: a mediator or
 * helper that does not exist fails closed.  Async-signal-safe.
 */
static int spawn_orphan(struct image *im)
{
        int status;
        pid_t pid = vfork();

        if (pid == 0)
                _exit(spawn_image(im, 0) < 0 ? 1 : 0);
        if (pid < 0)
                return -1;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return 0;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                errno = im->err ? im->err : EAGAIN;
                return -1;
        }
        return 0;
}

/*
 * Starts nono-unix-helper from the sandboxed child, inside its sandbox: a child of nono
 * (CLONE_PARENT), never of the command; in nono wrap orphaned.  Returns the helper's
 * pid (0 in wrap: not known here), or -1 with errno.
 */
static long spawn_helper(const struct unixmed *m)
{
        struct image im = {m->helper_exe, m->helper_argv, {m->chan[1], -1}, false, 0};

        if (m->detached)
                return spawn_orphan(&im);
        return spawn_image(&im, CLONE_PARENT);
}

/* The filter that refuses socket(AF_UNIX) (and datagram socketpairs): no mediation. */
static int load_refusal(const struct unixmed *m, char *msg, size_t len)
{
        int err;

        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &m->deny_prog) == 0)
                return 0;
        err = errno;
        copy_msg(msg, len, "unix sockets: cannot load the fallback seccomp filter");
        return -err;
}

int unixmed_child_install(const struct unixmed *m, char *msg, size_t len)
{
        union {
                char b[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } c;
        struct xfer_msg x;
        struct iovec iov = {&x, sizeof(x)};
        struct msghdr mh;
        struct cmsghdr *cm;
        long helper;
        int listener, err;
        ssize_t n;

        if (m->refuse_unix)
                return load_refusal(m, msg, len);
        /* The helper first: it must not carry the filter (its own connects would come
         * back to nono), but everything else the child has. */
        helper = spawn_helper(m);
        if (helper < 0) {
                err = errno;
                copy_msg(msg, len, "unix sockets: cannot start nono-unix-helper");
                return -err;
        }
        /* The helper's channel is between nono and the helper only. */
        close(m->chan[0]);
        close(m->chan[1]);
        close(m->xfer[0]);

        listener = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                                SECCOMP_FILTER_FLAG_NEW_LISTENER, &m->prog);
        if (listener < 0 && errno == EBUSY && m->deny_prog.filter) {
                /* An outer nono already listens; nono sees no listener and says so (the
                 * caller of nono wrap prints msg). */
                stop_helper(helper);
                close(m->xfer[1]);
                err = load_refusal(m, msg, len);
                if (err == 0)
                        copy_msg(msg, len,
                                 "inside another sandbox, Unix sockets cannot be mediated: the "
                                 "command may not create any (socketpair still works)");
                return err < 0 ? err : 1;
        }
        if (listener < 0) {
                err = errno;
                stop_helper(helper);
                copy_msg(msg, len,
                         err == EACCES ? "unix sockets: cannot load the seccomp filter "
                                         "(no_new_privs is not set)"
                                       : "unix sockets: cannot load the seccomp filter");
                return -err;
        }

        x.helper = (int32_t)helper;
        memset(&mh, 0, sizeof(mh));
        memset(&c, 0, sizeof(c));
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        mh.msg_control = c.b;
        mh.msg_controllen = sizeof(c.b);
        cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &listener, sizeof(int));
        /* Never blocks: the pair is empty and holds one small message. */
        do {
                n = sendmsg(m->xfer[1], &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
        } while (n < 0 && errno == EINTR);
        err = n < 0 ? errno : 0;
        close(listener);
        close(m->xfer[1]);
        if (err) {
                stop_helper(helper);
                copy_msg(msg, len, "unix sockets: cannot hand the listener to nono");
                return -err;
        }
        return 0;
}

/* ---- prepare ---------------------------------------------------------------------------- */

int unixmed_grant_helper(struct plan *p)
{
        const char *path = layout_get()->unix_helper;
        char *real = realpath(path, NULL);
        int r;

        if (!real)
                return nono_error(-errno, "cannot find nono's Unix-socket helper %s: %s", path,
                                  strerror(errno));
        r = plan_add_grant(p, real, NONO_ACCESS_READ, NONO_GRANT_FILE, UNIXMED_HELPER_ORIGIN);
        free(real);
        return r == -ENOMEM ? nono_error(r, "out of memory") : r;
}

/*
 * AF_UNIX SOCK_DGRAM from socket() or socketpair() (UNIXMED_DENY_UNIX_DGRAM), to `action`
 * when the flag is set.  Family and type are ints: the low 32 bits are compared; of the
 * type its low four bits (the kernel's SOCK_TYPE_MASK: SOCK_NONBLOCK and SOCK_CLOEXEC
 * live above them).  Both are in registers, so what the filter matched is what the
 * kernel would create: a refusal needs nothing from the child's memory.
 */
static int add_dgram_rules(const struct unixmed *m, scmp_filter_ctx ctx, uint32_t action)
{
        int r;

        if (!(m->flags & UNIXMED_DENY_UNIX_DGRAM))
                return 0;
        r = seccomp_rule_add(ctx, action, SCMP_SYS(socket), 2,
                             SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffULL, AF_UNIX),
                             SCMP_A1(SCMP_CMP_MASKED_EQ, 0xfULL, SOCK_DGRAM));
        if (r == 0)
                r = seccomp_rule_add(ctx, action, SCMP_SYS(socketpair), 2,
                                     SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffULL, AF_UNIX),
                                     SCMP_A1(SCMP_CMP_MASKED_EQ, 0xfULL, SOCK_DGRAM));
        return r;
}

static int add_rules(struct unixmed *m, scmp_filter_ctx ctx)
{
        int r;

        r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
        if (r < 0)
                return nono_error(r, "unix sockets: cannot set the foreign-architecture action: %s",
                                  strerror(-r));
        r = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(connect), 0);
        if (r == 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_NOTIFY, SCMP_SYS(sendto), 1,
                                     SCMP_A4(SCMP_CMP_NE, 0));
        /* A notification rather than ERRNO: nono answers EPERM itself and so can name the
         * refusal in the report after the run. */
        if (r == 0)
                r = add_dgram_rules(m, ctx, SCMP_ACT_NOTIFY);
        if (r < 0)
                return nono_error(r, "unix sockets: cannot build the seccomp filter: %s",
                                  strerror(-r));
        return 0;
}

/* libseccomp 2.5 exports to a descriptor only: through a memfd into memory. */
static int export_program(struct sock_fprog *prog, scmp_filter_ctx ctx)
{
        struct stat sb;
        size_t size, done = 0;
        int fd, r;

        fd = memfd_create("nono-unixmed", MFD_CLOEXEC);
        if (fd < 0)
                return nono_error(-errno, "unix sockets: cannot create a memfd: %s",
                                  strerror(errno));
        r = seccomp_export_bpf(ctx, fd);
        if (r < 0) {
                r = nono_error(r, "unix sockets: cannot generate the filter: %s", strerror(-r));
                goto out;
        }
        if (fstat(fd, &sb) < 0) {
                r = nono_error(-errno, "unix sockets: cannot read the filter: %s", strerror(errno));
                goto out;
        }
        size = (size_t)sb.st_size;
        if (size == 0 || size % sizeof(struct sock_filter) != 0 ||
            size / sizeof(struct sock_filter) > MAX_INSNS) {
                r = nono_error(-EINVAL, "unix sockets: the filter program has a bad length");
                goto out;
        }
        prog->filter = malloc(size);
        if (!prog->filter) {
                r = nono_error(-ENOMEM, "unix sockets: out of memory");
                goto out;
        }
        while (done < size) {
                ssize_t n = pread(fd, (char *)prog->filter + done, size - done, (off_t)done);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        r = nono_error(n < 0 ? -errno : -EIO,
                                       "unix sockets: cannot read the filter");
                        goto out;
                }
                done += (size_t)n;
        }
        prog->len = (unsigned short)(size / sizeof(struct sock_filter));
        r = 0;
out:
        close(fd);
        return r;
}

/* True when nono itself runs under a seccomp filter (e.g. inside another nono). */
static bool under_seccomp(void)
{
        char line[128];
        bool found = false;
        FILE *f = fopen("/proc/self/status", "re");

        if (!f)
                return true; /* unknown: be ready for it */
        while (!found && fgets(line, sizeof(line), f))
                found = strncmp(line, "Seccomp:", 8) == 0 && strtol(line + 8, NULL, 10) != 0;
        fclose(f);
        return found;
}

/*
 * The fallback when the listener cannot be had: no socket(AF_UNIX) at all, so no
 * pathname connect can happen unmediated.  socketpair keeps working.
 */
static int build_deny_filter(struct unixmed *m)
{
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
        int r;

        if (!ctx)
                return nono_error(-ENOMEM, "unix sockets: cannot create the seccomp filter");
        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(socket), 1,
                             SCMP_A0(SCMP_CMP_MASKED_EQ, 0xffffffffULL, AF_UNIX));
        /* A datagram socketpair can send to any pathname datagram socket (sendmsg). */
        if (r == 0)
                r = add_dgram_rules(m, ctx, SCMP_ACT_ERRNO(EPERM));
        if (r < 0)
                r = nono_error(r, "unix sockets: cannot build the fallback filter: %s",
                               strerror(-r));
        else
                r = export_program(&m->deny_prog, ctx);
        seccomp_release(ctx);
        return r;
}

static int build_filter(struct unixmed *m)
{
        scmp_filter_ctx ctx;
        int r;

        /* Architectures without socketcall(2): there, connect and sendto are always
         * their own system calls with their arguments in registers. */
        if (UNIXSERVE_ARCH == 0 || seccomp_arch_native() != UNIXSERVE_ARCH)
                return nono_error(-ENOTSUP,
                                  "unix sockets: mediation is not supported on this architecture");
        ctx = seccomp_init(SCMP_ACT_ALLOW);
        if (!ctx)
                return nono_error(-ENOMEM, "unix sockets: cannot create the seccomp filter");
        r = add_rules(m, ctx);
        if (r == 0)
                r = export_program(&m->prog, ctx);
        seccomp_release(ctx);
        if (r == 0 && under_seccomp())
                r = build_deny_filter(m);
        return r;
}

static int open_helper(struct unixmed *m)
{
        static char name[] = "nono-unix-helper";
        const char *path = layout_get()->unix_helper;

        m->helper_exe = open(path, O_PATH | O_CLOEXEC);
        if (m->helper_exe < 0)
                return nono_error(-errno, "unix sockets: cannot open %s: %s", path,
                                  strerror(errno));
        snprintf(m->helper_chan, sizeof(m->helper_chan), "%d", m->chan[1]);
        snprintf(m->helper_parent, sizeof(m->helper_parent), "%d", (int)getpid());
        m->helper_argv[0] = name;
        m->helper_argv[1] = m->helper_chan;
        m->helper_argv[2] = m->helper_parent;
        m->helper_argv[3] = NULL;
        return 0;
}

int unixmed_prepare(struct unixmed **ret, const char *const *allowed_dirs, size_t n_dirs,
                    const char *const *allowed_sockets, size_t n_sockets, unsigned flags)
{
        struct unixmed *m;
        int r = unixserve_new(&m, allowed_dirs, n_dirs, allowed_sockets, n_sockets),
            sndbuf = 4 * (int)REQ_BUF_SIZE;

        *ret = NULL;
        if (r < 0)
                goto fail;
        m->flags = flags;
        r = build_filter(m);
        if (r < 0)
                goto fail;
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, m->xfer) < 0 ||
            socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, m->chan) < 0) {
                r = nono_error(-errno, "unix sockets: cannot create a socket pair: %s",
                               strerror(errno));
                goto fail;
        }
        /* Room for a few full-size requests; the default is usually larger already. */
        setsockopt(m->chan[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
        r = open_helper(m);
        if (r < 0)
                goto fail;
        *ret = m;
        return 0;
fail:
        unixmed_free(m);
        return r;
}

/* ---- nono wrap: the mediator as a process of its own ----------------------------------- */

/*
 * Yama's ptrace_scope: 1 lets only a process's ancestors take its descriptors and read
 * its memory, 2 only holders of CAP_SYS_PTRACE, 3 nobody.  The mediator of nono wrap is
 * not the command's ancestor.  Returns the scope when it keeps the mediator out, else 0.
 */
static int yama_blocks_mediator(void)
{
        struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
        struct __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3];
        char buf[8] = "";
        int fd = open("/proc/sys/kernel/yama/ptrace_scope", O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
        int scope = n > 0 ? atoi(buf) : 0;
        bool can_ptrace;

        if (fd >= 0)
                close(fd);
        if (scope <= 0)
                return 0;
        can_ptrace = syscall(SYS_capget, &hdr, caps) == 0 &&
                     (caps[CAP_SYS_PTRACE / 32].effective & (1u << (CAP_SYS_PTRACE % 32)));
        return scope >= 3 || !can_ptrace ? scope : 0;
}

/* No mediator can work here: refuse socket(AF_UNIX) instead, never leave it open. */
static int refuse_instead(struct unixmed *m, int scope)
{
        int r;

        if (m->n_socks)
                return nono_error(-EPERM,
                                  "nono wrap cannot mediate Unix sockets here (Yama ptrace_scope "
                                  "%d), so it cannot allow %s; use nono run",
                                  scope, m->socks[0]);
        r = m->deny_prog.filter ? 0 : build_deny_filter(m);
        if (r < 0)
                return r;
        m->refuse_unix = true;
        nono_warn("nono wrap cannot mediate Unix sockets here (Yama ptrace_scope %d): the "
                  "command may not create any (socketpair still works); use nono run",
                  scope);
        return 0;
}

/*
 * The mediator's command line (unixmed-main.c): the hand-over and channel descriptors,
 * the number of allowed directories, the directories, the allowed sockets.  In *ret,
 * malloc'ed; its numbers in `nums`.
 */
static int mediator_argv(const struct unixmed *m, char nums[3][16], char ***ret)
{
        static char name[] = "nono-unixmed";
        char **argv = calloc(5 + m->n_dirs + m->n_socks, sizeof(*argv));
        size_t n = 0;

        if (!argv)
                return nono_error(-ENOMEM, "unix sockets: out of memory");
        snprintf(nums[0], sizeof(nums[0]), "%d", m->xfer[0]);
        snprintf(nums[1], sizeof(nums[1]), "%d", m->chan[0]);
        snprintf(nums[2], sizeof(nums[2]), "%zu", m->n_dirs);
        argv[n++] = name;
        for (size_t i = 0; i < 3; i++)
                argv[n++] = nums[i];
        for (size_t i = 0; i < m->n_dirs; i++)
                argv[n++] = m->dirs[i];
        for (size_t i = 0; i < m->n_socks; i++)
                argv[n++] = m->socks[i];
        *ret = argv;
        return 0;
}

int unixmed_start_detached(struct unixmed *m)
{
        const char *path = layout_get()->unix_mediator;
        struct image im = {-1, NULL, {m->xfer[0], m->chan[0]}, true, 0};
        int scope = yama_blocks_mediator(), r;
        char nums[3][16], **argv = NULL;

        if (scope)
                return refuse_instead(m, scope);
        m->detached = true;
        /* The helper has no supervisor: it ends with the mediator's end of its channel. */
        snprintf(m->helper_parent, sizeof(m->helper_parent), "0");
        r = mediator_argv(m, nums, &argv);
        if (r < 0)
                return r;
        im.argv = argv;
        /* Never a child of the command this process becomes.  Should it not exist after
         * all (SIGCHLD ignored hides the outcome), nobody serves the filter: the listener
         * is not taken and the filtered calls fail (ENOSYS).  Closed, never open. */
        im.exe = open(path, O_PATH | O_CLOEXEC);
        r = im.exe < 0 ? -1 : spawn_orphan(&im);
        if (r < 0)
                r = nono_error(-errno, "unix sockets: cannot start %s: %s", path, strerror(errno));
        if (im.exe >= 0)
                close(im.exe);
        free(argv);
        return r;
}
