/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Unix-socket mediator; see unixmed.h for the design.  Three parties:
 *
 *   nono (the supervisor)  receives the seccomp notifications, copies the address (and
 *                          for sendto the data) out of the child, takes the socket with
 *                          pidfd_getfd, resolves and judges pathnames, answers refusals
 *                          itself and hands everything else to the helper;
 *   the helper             nono-unix-helper (core/unixhelper), which the child starts
 *                          inside its sandbox; performs connect/sendto on the socket it
 *                          is handed and reports the result;
 *   the child              whose connect and addressed sendto calls wait in the kernel
 *                          until nono answers.
 *
 * nono <-> helper is a SOCK_SEQPACKET pair; unixproto.h has what goes over it.
 */
#include "unixmed.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "layout.h"
#include "plan.h"
#include "unixproto.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL /* Linux 6.9: a pidfd for a thread, not only a leader */
#endif

#define MAX_INSNS   4096 /* BPF_MAXINSNS */
#define MAX_PENDING 256  /* requests the helper has not answered yet */
#define MAX_REPLAY  8    /* results whose notification was withdrawn (see replay_*) */
#define N_DENIALS   16   /* refusals kept for the report */
#define BATCH       64   /* events handled per unixmed_handle call */

/* What the child's side sends with the listener. */
struct xfer_msg {
        int32_t helper;
};

struct pending {
        bool used;
        uint64_t req; /* the request's id, as the helper answers it */
        uint64_t id;  /* the notification to answer (a restart takes the request over) */
        int op;       /* enum unixmed_op */
        pid_t tid;    /* the notifying thread */
        int fd;       /* its descriptor number */
        int sock;     /* our reference to the socket, until the result is delivered */
        dev_t dev;    /* the socket's identity */
        ino_t ino;
};

/*
 * A connect whose result could not be delivered because the child's thread was
 * interrupted by a signal and the notification withdrawn.  The kernel restarts (or the
 * program retries) the call; it must then see the result, not EISCONN from a second
 * connect.  Matched on thread, descriptor number and socket inode; the held reference
 * keeps the inode from being reused meanwhile.
 */
struct replay {
        bool used;
        pid_t tid;
        int fd;
        int sock;
        dev_t dev;
        ino_t ino;
        int64_t val;
};

struct unixmed {
        struct sock_fprog prog; /* filter program; insns allocated */
        /* Inside another nono (whose filter already holds the one listener a process
         * may have): deny creating Unix sockets instead.  Built only then. */
        struct sock_fprog deny_prog;
        uint32_t arch; /* native AUDIT_ARCH_* */
        unsigned flags;
        /* nono wrap: the mediator is a process of its own and the helper nobody's child
         * (unixmed_start_detached); or, where that cannot work, no mediation at all:
         * socket(AF_UNIX) is refused (deny_prog). */
        bool detached, refuse_unix;

        int xfer[2]; /* [0] nono's end, [1] the child's: the listener arrives here */
        int chan[2]; /* [0] nono's end, [1] the helper's */
        int listener;
        int epfd;
        int helper_pidfd;
        pid_t helper;
        int helper_exe; /* O_PATH descriptor of nono-unix-helper */
        /* Its command line: name, channel descriptor, supervisor pid (unixproto.h). */
        char helper_chan[16], helper_parent[16];
        char *helper_argv[4];
        bool helper_dead, listener_done, warned;

        char **dirs;
        size_t n_dirs;
        char **socks;
        size_t n_socks;

        struct seccomp_notif_sizes sizes;
        struct seccomp_notif *notif;
        struct seccomp_notif_resp *resp;
        unsigned char *buf; /* nono's request being built: header + payload */

        struct pending pending[MAX_PENDING];
        struct replay replay[MAX_REPLAY];
        size_t replay_next;
        struct unixmed_denial denials[N_DENIALS];
        uint64_t n_kept;   /* entries written to denials[] (a ring) */
        uint64_t n_denied; /* refusals, repeats included */
};

static void close_fd(int *fd)
{
        if (*fd >= 0) {
                close(*fd);
                *fd = -1;
        }
}

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
 * Like fork(), but the child is orphaned at once, for nono wrap, where this process
 * becomes the command: an intermediate forks it and exits, and is reaped here, so the
 * child is reparented to the nearest subreaper or init and the command never sees it
 * in wait().  The intermediate is a vfork: it shares our memory (no copy of it to make
 * and tear down: about 2 ms less, each time, here) and we sleep until it exits; it only
 * makes the system calls below.  Returns 0 in the child, 1 here, or -1 with errno.  Async-signal-
 * safe.  1 also when SIGCHLD is ignored and the outcome is unknown: a mediator or
 * helper that does not exist fails closed.
 */
static int fork_orphan(void)
{
        int status;
        pid_t pid = vfork();

        if (pid == 0) {
                long orphan = syscall(SYS_clone, (unsigned long)SIGCHLD, 0UL, NULL, NULL, 0UL);

                if (orphan == 0)
                        return 0; /* in a copy of our memory, no longer the vfork child */
                _exit(orphan < 0 ? 1 : 0);
        }
        if (pid < 0)
                return -1;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return 1;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                errno = EAGAIN;
                return -1;
        }
        return 1;
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
        int err; /* the new process's execveat error, written into our memory */
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

        /* Before it runs a single instruction of its own: out of our process group
         * (Ctrl-C and kill(0, ...) in the sandbox must not reach it), and only the
         * descriptors it is given. */
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
        struct image im = {m->helper_exe, m->helper_argv, {m->chan[1], -1}, 0};

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
        m->arch = seccomp_arch_native();
        if (m->arch != SCMP_ARCH_X86_64 && m->arch != SCMP_ARCH_AARCH64 &&
            m->arch != SCMP_ARCH_RISCV64)
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

/* realpath when the path exists; else realpath of its directory + the name. */
static char *canonical(const char *path)
{
        char *r = realpath(path, NULL), *dir, *slash, *out;

        if (r)
                return r;
        dir = strdup(path);
        if (!dir)
                return NULL;
        slash = strrchr(dir, '/');
        if (!slash || slash[1] == '\0') {
                free(dir);
                return strdup(path);
        }
        *slash = '\0';
        r = realpath(dir[0] ? dir : "/", NULL);
        out = r ? nono_path_join(r, slash + 1) : strdup(path);
        free(r);
        free(dir);
        return out;
}

static int copy_paths(char ***ret, size_t *ret_n, const char *const *paths, size_t n,
                      const char *what)
{
        char **v;

        *ret = NULL;
        *ret_n = 0;
        if (n == 0)
                return 0;
        v = calloc(n, sizeof(*v));
        if (!v)
                return nono_error(-ENOMEM, "unix sockets: out of memory");
        *ret = v;
        for (size_t i = 0; i < n; i++) {
                if (!paths[i] || paths[i][0] != '/')
                        return nono_error(-EINVAL,
                                          "unix sockets: %s \"%s\" is not an absolute path", what,
                                          paths[i] ? paths[i] : "(null)");
                v[i] = canonical(paths[i]);
                if (!v[i])
                        return nono_error(-ENOMEM, "unix sockets: out of memory");
                *ret_n = i + 1;
        }
        return 0;
}

/*
 * The helper's executable, opened now: the child starts it through this descriptor,
 * whatever its mount namespace shows at that path.  And its command line (unixproto.h):
 * the channel's end the child will hand it, and this process as its parent-to-be.
 */
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
        int r, sndbuf = 4 * (int)REQ_BUF_SIZE;

        *ret = NULL;
        m = calloc(1, sizeof(*m));
        if (!m)
                return nono_error(-ENOMEM, "unix sockets: out of memory");
        m->xfer[0] = m->xfer[1] = m->chan[0] = m->chan[1] = -1;
        m->listener = m->epfd = m->helper_pidfd = m->helper_exe = -1;
        for (size_t i = 0; i < MAX_PENDING; i++)
                m->pending[i].sock = -1;
        for (size_t i = 0; i < MAX_REPLAY; i++)
                m->replay[i].sock = -1;
        m->flags = flags;

        r = copy_paths(&m->dirs, &m->n_dirs, allowed_dirs, n_dirs, "allowed directory");
        if (r == 0)
                r = copy_paths(&m->socks, &m->n_socks, allowed_sockets, n_sockets,
                               "allowed socket");
        if (r < 0)
                goto fail;

        if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &m->sizes) < 0) {
                r = nono_error(-errno,
                               "unix sockets: this kernel has no seccomp user notifications "
                               "(Linux 5.0): %s",
                               strerror(errno));
                goto fail;
        }
        m->notif = calloc(1, m->sizes.seccomp_notif > sizeof(*m->notif) ? m->sizes.seccomp_notif
                                                                        : sizeof(*m->notif));
        m->resp =
            calloc(1, m->sizes.seccomp_notif_resp > sizeof(*m->resp) ? m->sizes.seccomp_notif_resp
                                                                     : sizeof(*m->resp));
        m->buf = malloc(REQ_BUF_SIZE);
        if (!m->notif || !m->resp || !m->buf) {
                r = nono_error(-ENOMEM, "unix sockets: out of memory");
                goto fail;
        }
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
        m->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (m->epfd < 0) {
                r = nono_error(-errno, "unix sockets: cannot create an epoll set: %s",
                               strerror(errno));
                goto fail;
        }
        *ret = m;
        return 0;
fail:
        unixmed_free(m);
        return r;
}

/* ---- nono: attach ----------------------------------------------------------------------- */

int unixmed_parent_attach(struct unixmed *m)
{
        union {
                char b[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } c;
        struct xfer_msg x;
        struct iovec iov = {&x, sizeof(x)};
        struct msghdr mh;
        struct epoll_event ev;
        int listener = -1;
        ssize_t n;

        if (m->listener >= 0)
                return 0;
        memset(&mh, 0, sizeof(mh));
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        mh.msg_control = c.b;
        mh.msg_controllen = sizeof(c.b);
        do {
                n = recvmsg(m->xfer[0], &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        } while (n < 0 && errno == EINTR);
        if (n < 0)
                return errno == EAGAIN ? -EAGAIN
                                       : nono_error(-errno,
                                                    "unix sockets: cannot receive the "
                                                    "listener: %s",
                                                    strerror(errno));
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
                if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
                    cm->cmsg_len == CMSG_LEN(sizeof(int)))
                        memcpy(&listener, CMSG_DATA(cm), sizeof(int));
        if (n != (ssize_t)sizeof(x) || listener < 0) {
                if (listener >= 0)
                        close(listener);
                return nono_error(-EPROTO, "unix sockets: the child sent no listener");
        }
        m->listener = listener;
        m->helper = x.helper;
        /* The child's ends are the child's now (it has its own copies until exec); ours
         * must go so that the helper's exit shows as end-of-file. */
        close_fd(&m->xfer[1]);
        close_fd(&m->chan[1]);
        /* nono wrap: the pid is not known and the helper not our child (its pid could be
         * reused); its end of the channel tells when it is gone. */
        if (m->helper > 0)
                m->helper_pidfd = (int)syscall(SYS_pidfd_open, m->helper, 0);
        fcntl(m->chan[0], F_SETFL, fcntl(m->chan[0], F_GETFL) | O_NONBLOCK);

        memset(&ev, 0, sizeof(ev));
        ev.events = EPOLLIN;
        ev.data.fd = m->listener;
        if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, m->listener, &ev) < 0)
                return nono_error(-errno, "unix sockets: epoll: %s", strerror(errno));
        ev.data.fd = m->chan[0];
        if (epoll_ctl(m->epfd, EPOLL_CTL_ADD, m->chan[0], &ev) < 0)
                return nono_error(-errno, "unix sockets: epoll: %s", strerror(errno));
        /* The helper's exit, also while some process still holds its end. */
        ev.data.fd = m->helper_pidfd;
        if (m->helper_pidfd >= 0 && epoll_ctl(m->epfd, EPOLL_CTL_ADD, m->helper_pidfd, &ev) < 0)
                return nono_error(-errno, "unix sockets: epoll: %s", strerror(errno));
        return 0;
}

int unixmed_fd(const struct unixmed *m)
{
        return m->epfd;
}

pid_t unixmed_helper_pid(const struct unixmed *m)
{
        return m->helper;
}

/* ---- nono: answering -------------------------------------------------------------------- */

/* 0, or -ENOENT when the notification is gone (the thread was interrupted or died). */
static int respond(struct unixmed *m, uint64_t id, int64_t val)
{
        struct seccomp_notif_resp *resp = m->resp;

        memset(resp, 0, m->sizes.seccomp_notif_resp);
        resp->id = id;
        if (val < 0)
                resp->error = (int32_t)val;
        else
                resp->val = val;
        if (ioctl(m->listener, SECCOMP_IOCTL_NOTIF_SEND, resp) < 0)
                return -errno;
        return 0;
}

static const char *op_name(int op)
{
        static const char *const names[] = {
            [UNIXMED_OP_CONNECT] = "connect",
            [UNIXMED_OP_SENDTO] = "sendto",
            [UNIXMED_OP_SOCKET] = "socket",
            [UNIXMED_OP_SOCKETPAIR] = "socketpair",
        };

        return op > 0 && op <= UNIXMED_OP_SOCKETPAIR ? names[op] : "?";
}

/* The same refusal as the one before (a program retrying, syslog() on every message). */
static bool repeats_last(const struct unixmed *m, int op, const char *requested,
                         const char *resolved)
{
        const struct unixmed_denial *d = &m->denials[(m->n_kept - 1) % N_DENIALS];

        return m->n_kept > 0 && d->op == op && strcmp(d->requested, requested) == 0 &&
               strcmp(d->resolved, resolved) == 0;
}

/* Counts every refusal; a run of identical ones keeps one entry, so that a retry loop
 * does not push the others out of the report. */
static void record_denial(struct unixmed *m, pid_t pid, int op, const char *requested,
                          const char *resolved)
{
        struct unixmed_denial *d = &m->denials[m->n_kept % N_DENIALS];

        nono_debug("unix sockets: refused %s to %s (%s) for pid %d", op_name(op), requested,
                   resolved, (int)pid);
        m->n_denied++;
        if (repeats_last(m, op, requested, resolved))
                return;
        d->pid = pid;
        d->op = op;
        snprintf(d->requested, sizeof(d->requested), "%s", requested);
        snprintf(d->resolved, sizeof(d->resolved), "%s", resolved);
        m->n_kept++;
}

size_t unixmed_denials(const struct unixmed *m, struct unixmed_denial *out, size_t max)
{
        uint64_t have = m->n_kept < N_DENIALS ? m->n_kept : N_DENIALS;
        size_t n = have < max ? (size_t)have : max;

        for (size_t i = 0; i < n; i++)
                out[i] = m->denials[(m->n_kept - n + i) % N_DENIALS];
        return n;
}

uint64_t unixmed_denied_total(const struct unixmed *m)
{
        return m->n_denied;
}

static bool allowed(const struct unixmed *m, const char *resolved)
{
        for (size_t i = 0; i < m->n_socks; i++)
                if (strcmp(resolved, m->socks[i]) == 0)
                        return true;
        for (size_t i = 0; i < m->n_dirs; i++)
                if (path_is_within(resolved, m->dirs[i]))
                        return true;
        return false;
}

static ssize_t read_link(const char *path, char *buf, size_t size)
{
        ssize_t n = readlink(path, buf, size - 1);

        if (n < 0)
                return -errno;
        if ((size_t)n >= size - 1)
                return -ENAMETOOLONG;
        buf[n] = '\0';
        return n;
}

/*
 * Opens (O_PATH) the file `path` names for thread `pid`, as the kernel would look it up
 * for that thread: from its cwd for a relative path, inside its root and mount
 * namespace (RESOLVE_IN_ROOT from /proc/<pid>/root: ".." and absolute symlinks stay in
 * its root), following symlinks like connect does, but never procfs magic links (they
 * would name nono's own /proc/self).  Returns the descriptor or -errno.
 */
static int resolve(const struct unixmed *m, const struct seccomp_notif *notif, const char *path)
{
        pid_t pid = (pid_t)notif->pid;
        char proc[64], root[PATH_MAX], cwd[PATH_MAX], *joined = NULL;
        struct open_how how;
        const char *p = path;
        int dirfd, fd = -1;
        ssize_t n;

        memset(&how, 0, sizeof(how));
        how.flags = O_PATH | O_CLOEXEC;
        how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;

        snprintf(proc, sizeof(proc), "/proc/%d/root", (int)pid);
        dirfd = open(proc, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return errno == ENOENT ? -ESRCH : -errno;
        if (path[0] != '/') {
                /* The cwd as a path inside the root: both links read the same way (from
                 * nono's root, or the root of the child's mount namespace). */
                n = read_link(proc, root, sizeof(root));
                if (n >= 0) {
                        snprintf(proc, sizeof(proc), "/proc/%d/cwd", (int)pid);
                        n = read_link(proc, cwd, sizeof(cwd));
                }
                if (n < 0) {
                        close(dirfd);
                        return (int)n;
                }
                if (!strstr(cwd, " (deleted)") && path_is_within(cwd, root)) {
                        const char *inside = strcmp(root, "/") == 0 ? cwd : cwd + strlen(root);

                        joined = nono_asprintf("%s/%s", inside, path);
                        if (!joined) {
                                close(dirfd);
                                return -ENOMEM;
                        }
                        p = joined;
                } else {
                        /* A cwd outside the root, or removed: resolve below it only. */
                        close(dirfd);
                        dirfd = open(proc, O_PATH | O_DIRECTORY | O_CLOEXEC);
                        if (dirfd < 0)
                                return -errno;
                        how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
                }
        }
        /* What was opened and read by pid belongs to the thread that asked only if it
         * is still there (and so its pid not reused). */
        if (ioctl(m->listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &notif->id) < 0) {
                free(joined);
                close(dirfd);
                return -ESRCH;
        }
        /* EAGAIN: a rename or mount raced with RESOLVE_IN_ROOT; try again a few times. */
        for (int tries = 0; tries < 8; tries++) {
                fd = (int)syscall(SYS_openat2, dirfd, p, &how, sizeof(how));
                if (fd >= 0 || errno != EAGAIN)
                        break;
        }
        if (fd < 0)
                fd = -errno;
        free(joined);
        close(dirfd);
        return fd;
}

/* The pending-request table. */
static struct pending *pending_alloc(struct unixmed *m)
{
        for (size_t i = 0; i < MAX_PENDING; i++)
                if (!m->pending[i].used)
                        return &m->pending[i];
        /* Full: drop entries whose thread is gone (a worker still waits for them). */
        for (size_t i = 0; i < MAX_PENDING; i++) {
                struct pending *p = &m->pending[i];

                if (ioctl(m->listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &p->id) < 0) {
                        close_fd(&p->sock);
                        p->used = false;
                        return p;
                }
        }
        return NULL;
}

static struct pending *pending_find(struct unixmed *m, uint64_t id)
{
        for (size_t i = 0; i < MAX_PENDING; i++)
                if (m->pending[i].used && m->pending[i].req == id)
                        return &m->pending[i];
        return NULL;
}

/* A connect under way on this socket. */
static struct pending *pending_connect_on(struct unixmed *m, const struct stat *st)
{
        for (size_t i = 0; i < MAX_PENDING; i++) {
                struct pending *p = &m->pending[i];

                if (p->used && p->op == UNIXMED_OP_CONNECT && p->dev == st->st_dev &&
                    p->ino == st->st_ino)
                        return p;
        }
        return NULL;
}

static void pending_release(struct pending *p)
{
        close_fd(&p->sock);
        p->used = false;
}

static struct replay *replay_find(struct unixmed *m, pid_t tid, int fd, dev_t dev, ino_t ino)
{
        for (size_t i = 0; i < MAX_REPLAY; i++) {
                struct replay *r = &m->replay[i];

                if (r->used && r->tid == tid && r->fd == fd && r->dev == dev && r->ino == ino)
                        return r;
        }
        return NULL;
}

static void replay_release(struct replay *r)
{
        close_fd(&r->sock);
        r->used = false;
}

/* Keeps p's result for the restarted call; takes over p's socket reference. */
static void replay_add(struct unixmed *m, struct pending *p, int64_t val)
{
        struct replay *r = &m->replay[m->replay_next++ % MAX_REPLAY];

        replay_release(r);
        *r = (struct replay){.used = true,
                             .tid = p->tid,
                             .fd = p->fd,
                             .sock = p->sock,
                             .dev = p->dev,
                             .ino = p->ino,
                             .val = val};
        p->sock = -1;
}

static void helper_gone(struct unixmed *m)
{
        if (m->helper_dead)
                return;
        m->helper_dead = true;
        epoll_ctl(m->epfd, EPOLL_CTL_DEL, m->chan[0], NULL);
        if (m->helper_pidfd >= 0)
                epoll_ctl(m->epfd, EPOLL_CTL_DEL, m->helper_pidfd, NULL);
        nono_warn("unix sockets: the connect helper is gone; connect() in the sandbox now "
                  "fails with EPERM");
        for (size_t i = 0; i < MAX_PENDING; i++)
                if (m->pending[i].used) {
                        respond(m, m->pending[i].id, -EPERM);
                        pending_release(&m->pending[i]);
                }
}

/* Sends one request (m->buf holds the header and payload); the value to answer with now,
 * or 1 when the helper will answer. */
static int64_t forward(struct unixmed *m, const struct seccomp_notif *n, int op, int sock,
                       int target, const struct stat *st)
{
        const struct req_hdr *h = (const struct req_hdr *)(void *)m->buf;
        union {
                char b[CMSG_SPACE(2 * sizeof(int))];
                struct cmsghdr align;
        } c;
        int fds[2] = {sock, target};
        size_t nfds = target >= 0 ? 2 : 1;
        struct iovec iov = {m->buf, sizeof(*h) + h->datalen};
        struct msghdr mh;
        struct cmsghdr *cm;
        struct pending *p;
        ssize_t r;

        if (m->helper_dead)
                return -EPERM;
        p = pending_alloc(m);
        if (!p)
                return -EAGAIN;
        memset(&mh, 0, sizeof(mh));
        memset(&c, 0, sizeof(c));
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        mh.msg_control = c.b;
        mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
        cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
        memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
        do {
                r = sendmsg(m->chan[0], &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
        } while (r < 0 && errno == EINTR);
        if (r < 0) {
                if (errno == EAGAIN)
                        return -EAGAIN; /* the helper is swamped; the program may retry */
                helper_gone(m);
                return -EPERM;
        }
        *p = (struct pending){.used = true,
                              .req = n->id,
                              .id = n->id,
                              .op = op,
                              .tid = (pid_t)n->pid,
                              .fd = (int)n->data.args[0],
                              .sock = fcntl(sock, F_DUPFD_CLOEXEC, 0),
                              .dev = st->st_dev,
                              .ino = st->st_ino};
        return 1;
}

/*
 * Decides one notification.  Returns the value to answer with (>= 0, or -errno), 1 when
 * the helper answers later, or 2 when there is nothing to answer (the thread is gone).
 */
static int64_t mediate(struct unixmed *m, const struct seccomp_notif *n, int op)
{
        struct req_hdr *h = (struct req_hdr *)(void *)m->buf;
        pid_t pid = (pid_t)n->pid;
        int fd = (int)n->data.args[0];
        uint64_t uaddr = op == UNIXMED_OP_CONNECT ? n->data.args[1] : n->data.args[4];
        int addrlen = (int)(op == UNIXMED_OP_CONNECT ? n->data.args[2] : n->data.args[5]);
        size_t datalen = 0;
        bool truncated = false;
        struct iovec local[2], remote[2];
        int pidfd = -1, sock = -1, target = -1, domain = -1, type = -1;
        socklen_t olen;
        struct stat st;
        char requested[SUN_PATH_LEN + 1], resolved[PATH_MAX], proc[32];
        int64_t r;
        size_t niov = 0, want = 0;

        resolved[0] = '\0';
        memset(h, 0, sizeof(*h));
        h->id = n->id;
        if (addrlen < 0 || (size_t)addrlen > ADDR_MAX)
                return -EINVAL;
        h->addrlen = (uint32_t)addrlen;
        if (op == UNIXMED_OP_SENDTO) {
                h->op = REQ_SENDTO_ADDR;
                h->flags = (int32_t)n->data.args[3];
                datalen = (size_t)n->data.args[2];
                if (datalen > UNIXPROTO_MAX_DATA) {
                        datalen = UNIXPROTO_MAX_DATA;
                        truncated = true;
                }
                h->datalen = (uint32_t)datalen;
        } else {
                h->op = REQ_CONNECT_ADDR;
        }

        /* Everything from the child's memory first, then check that the notification
         * (and so the pid) is still valid before trusting any of it. */
        if (addrlen > 0) {
                local[niov] = (struct iovec){h->addr, (size_t)addrlen};
                remote[niov++] = (struct iovec){(void *)(uintptr_t)uaddr, (size_t)addrlen};
                want += (size_t)addrlen;
        }
        if (datalen > 0) {
                local[niov] = (struct iovec){m->buf + sizeof(*h), datalen};
                remote[niov++] = (struct iovec){(void *)(uintptr_t)n->data.args[1], datalen};
                want += datalen;
        }
        if (niov > 0 && process_vm_readv(pid, local, niov, remote, niov, 0) != (ssize_t)want)
                return errno == ESRCH ? 2 : -EFAULT;
        pidfd = (int)syscall(SYS_pidfd_open, pid, PIDFD_THREAD);
        if (pidfd < 0 && errno == EINVAL)
                pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (pidfd < 0)
                return errno == ESRCH ? 2 : -errno;
        if (ioctl(m->listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &n->id) < 0) {
                close(pidfd);
                return 2;
        }
        /* The socket itself, not the number: another thread may put something else
         * under that number from now on; it does not matter. */
        sock = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
        close(pidfd);
        if (sock < 0) {
                r = -errno;
                if (r == -EPERM && !m->warned) {
                        m->warned = true;
                        nono_warn("unix sockets: cannot take a socket from pid %d (not "
                                  "dumpable?): its connect fails with EPERM",
                                  (int)pid);
                }
                return r == -ESRCH ? 2 : r;
        }
        olen = sizeof(domain);
        if (getsockopt(sock, SOL_SOCKET, SO_DOMAIN, &domain, &olen) < 0 ||
            (olen = sizeof(type), getsockopt(sock, SOL_SOCKET, SO_TYPE, &type, &olen) < 0) ||
            fstat(sock, &st) < 0) {
                r = -errno;
                goto out;
        }
        if (op == UNIXMED_OP_CONNECT) {
                struct replay *rp = replay_find(m, pid, fd, st.st_dev, st.st_ino);
                struct pending *p;

                if (rp) {
                        r = rp->val;
                        replay_release(rp);
                        goto out;
                }
                /* The same connect again after a signal withdrew the first notification
                 * (a restart, or a retry after EINTR): answer this one with the result of
                 * the connect already under way.  A second connect would wait for the
                 * listener's backlog before noticing the socket is connected. */
                p = pending_connect_on(m, &st);
                if (p && ioctl(m->listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &p->id) < 0) {
                        p->id = n->id;
                        p->tid = pid;
                        p->fd = fd;
                        r = 1;
                        goto out;
                }
        }
        if (truncated && type != SOCK_STREAM) {
                r = -EMSGSIZE; /* a datagram is sent whole or not at all */
                goto out;
        }

        if (domain == AF_UNIX && is_pathname(h->addr, (size_t)addrlen)) {
                if ((size_t)addrlen > sizeof(struct sockaddr_un)) {
                        r = -EINVAL;
                        goto out;
                }
                /* As the kernel reads it: the bytes up to addrlen, up to the first NUL. */
                memcpy(requested, h->addr + SUN_PATH_OFF, (size_t)addrlen - SUN_PATH_OFF);
                requested[(size_t)addrlen - SUN_PATH_OFF] = '\0';
                target = resolve(m, n, requested);
                if (target < 0) {
                        r = target == -ESRCH ? 2 : target;
                        goto out;
                }
                snprintf(proc, sizeof(proc), "/proc/self/fd/%d", target);
                if (read_link(proc, resolved, sizeof(resolved)) < 0 || !allowed(m, resolved)) {
                        record_denial(m, pid, op, requested, resolved);
                        r = -EACCES;
                        goto out;
                }
                h->op = op == UNIXMED_OP_CONNECT ? REQ_CONNECT_PATH : REQ_SENDTO_PATH;
                h->addrlen = 0;
        }
        /* Everything else (other families, abstract and unnamed addresses, AF_UNSPEC) is
         * the helper's to try, under the child's own Landlock rules and scopes. */
        r = forward(m, n, op, sock, target, &st);
out:
        if (target >= 0)
                close(target);
        close(sock);
        return r;
}

/*
 * socket() or socketpair() of an AF_UNIX datagram socket: refused.  The filter matched the
 * arguments (registers, which the child cannot change); they are checked again only so
 * that nothing else is ever refused in its name.
 */
static int64_t refuse_dgram(struct unixmed *m, const struct seccomp_notif *n, int op)
{
        if ((int)n->data.args[0] != AF_UNIX || ((int)n->data.args[1] & 0xf) != SOCK_DGRAM)
                return -ENOSYS;
        record_denial(m, (pid_t)n->pid, op, "", "");
        return -EPERM;
}

static int op_of(const struct unixmed *m, const struct seccomp_notif *n)
{
        if (n->data.arch != m->arch)
                return 0;
        switch (n->data.nr) {
        case __NR_connect:
                return UNIXMED_OP_CONNECT;
        case __NR_sendto:
                return UNIXMED_OP_SENDTO;
        case __NR_socket:
                return UNIXMED_OP_SOCKET;
        case __NR_socketpair:
                return UNIXMED_OP_SOCKETPAIR;
        default:
                return 0;
        }
}

static void handle_notification(struct unixmed *m)
{
        struct seccomp_notif *n = m->notif;
        int64_t r;
        int op;

        memset(n, 0, m->sizes.seccomp_notif);
        if (ioctl(m->listener, SECCOMP_IOCTL_NOTIF_RECV, n) < 0)
                return; /* ENOENT: withdrawn meanwhile */
        op = op_of(m, n);
        if (op == UNIXMED_OP_CONNECT || op == UNIXMED_OP_SENDTO)
                r = mediate(m, n, op);
        else
                r = op ? refuse_dgram(m, n, op) : -ENOSYS;
        if (r == 1 || r == 2)
                return;
        respond(m, n->id, r);
}

static void handle_reply(struct unixmed *m, const struct reply *rep)
{
        struct pending *p = pending_find(m, rep->id);
        int64_t val = rep->val;

        if (!p)
                return;
        /* A restarted connect whose first run already connected the socket. */
        if (p->op == UNIXMED_OP_CONNECT && val == -EISCONN) {
                struct replay *rp = replay_find(m, p->tid, p->fd, p->dev, p->ino);

                if (rp) {
                        val = rp->val;
                        replay_release(rp);
                }
        }
        if (respond(m, p->id, val) == -ENOENT && p->op == UNIXMED_OP_CONNECT)
                replay_add(m, p, val);
        pending_release(p);
}

/* Returns true when something was handled. */
static bool drain_replies(struct unixmed *m)
{
        struct reply rep;
        bool did = false;

        for (int i = 0; i < BATCH && !m->helper_dead; i++) {
                ssize_t n = recv(m->chan[0], &rep, sizeof(rep), MSG_DONTWAIT);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        break;
                if (n <= 0) {
                        helper_gone(m);
                        break;
                }
                if (n == (ssize_t)sizeof(rep))
                        handle_reply(m, &rep);
                did = true;
        }
        return did;
}

void unixmed_handle(struct unixmed *m)
{
        if (m->listener < 0)
                return;
        for (int i = 0; i < BATCH; i++) {
                struct pollfd pfd = {m->listener, POLLIN, 0};
                struct pollfd hp = {m->helper_pidfd, POLLIN, 0};
                bool did = drain_replies(m);

                /* Results it sent before dying were read above. */
                if (!m->helper_dead && m->helper_pidfd >= 0 && poll(&hp, 1, 0) > 0)
                        helper_gone(m);

                if (!m->listener_done && poll(&pfd, 1, 0) > 0) {
                        if (pfd.revents & POLLIN) {
                                handle_notification(m);
                                did = true;
                        } else if (pfd.revents & (POLLHUP | POLLERR | POLLNVAL)) {
                                /* Every task that had the filter is gone. */
                                m->listener_done = true;
                                epoll_ctl(m->epfd, EPOLL_CTL_DEL, m->listener, NULL);
                        }
                }
                if (!did)
                        break;
        }
}

/* ---- nono wrap: the mediator as a process of its own ----------------------------------- */

/* Moves fd above stdio (nono may have been started with one of them closed). */
static int above_stdio(int *fd)
{
        int moved;

        if (*fd > STDERR_FILENO)
                return 0;
        moved = fcntl(*fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
        if (moved < 0)
                return -1;
        close(*fd);
        *fd = moved;
        return 0;
}

static int cmp_int(const void *a, const void *b)
{
        return *(const int *)a - *(const int *)b;
}

/*
 * The mediator keeps its ends (the hand-over, the helper's channel, the epoll set) and
 * nothing else: stdio becomes /dev/null, so that a pipe or terminal the command writes
 * to ends with the command and not with the mediator; the helper's end is the helper's.
 */
static int mediator_descriptors(struct unixmed *m)
{
        int keep[3], null;
        unsigned from = STDERR_FILENO + 1;

        close_fd(&m->xfer[1]);
        close_fd(&m->chan[1]);
        if (above_stdio(&m->xfer[0]) < 0 || above_stdio(&m->chan[0]) < 0 ||
            above_stdio(&m->epfd) < 0)
                return -1;
        null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0 ||
            dup2(null, STDERR_FILENO) < 0)
                return -1;
        keep[0] = m->xfer[0];
        keep[1] = m->chan[0];
        keep[2] = m->epfd;
        qsort(keep, 3, sizeof(keep[0]), cmp_int);
        for (size_t i = 0; i < 3; from = (unsigned)keep[i++] + 1)
                if ((unsigned)keep[i] > from)
                        close_range(from, (unsigned)keep[i] - 1, 0);
        close_range(from, ~0U, 0);
        return 0;
}

/* Until the command sends the listener (just before its execve); an error when every
 * copy of the other end closed first (nono wrap failed before that). */
static int await_listener(struct unixmed *m)
{
        for (;;) {
                struct pollfd p = {m->xfer[0], POLLIN, 0};
                int r;

                if (poll(&p, 1, -1) < 0 && errno != EINTR)
                        return -errno;
                r = unixmed_parent_attach(m);
                if (r != -EAGAIN)
                        return r;
        }
}

/*
 * The mediator of nono wrap: a grandchild of nono, started before the sandbox (it must
 * be outside to resolve paths and take the command's sockets), orphaned at once.
 * Serves exactly as nono run's supervisor does, until the listener hangs up: every
 * process that carries the filter has exited and been reaped.  Its exit closes the
 * helper's channel, and the helper leaves too.
 */
static void mediator_main(struct unixmed *m) __attribute__((noreturn));
static void mediator_main(struct unixmed *m)
{
        struct sigaction sa;

        /* A session of its own: no terminal, and neither Ctrl-C nor kill(0, ...) from
         * the command's process group reach it.  Not dumpable: it holds the listener and
         * the command's sockets, out of reach of the user's other processes. */
        setsid();
        prctl(PR_SET_DUMPABLE, 0);
        prctl(PR_SET_NAME, "nono-unixmed");
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = SIG_IGN;
        sigaction(SIGPIPE, &sa, NULL);
        /* Off the user's working directory, which it would keep busy (a mount). */
        if (chdir("/") < 0 || mediator_descriptors(m) < 0 || await_listener(m) < 0)
                _exit(1);
        while (!m->listener_done) {
                struct pollfd p = {m->epfd, POLLIN, 0};

                if (poll(&p, 1, -1) < 0 && errno != EINTR)
                        break; /* the listener closes with us: the sandbox gets ENOSYS */
                unixmed_handle(m);
        }
        _exit(0);
}

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

int unixmed_start_detached(struct unixmed *m)
{
        int scope = yama_blocks_mediator(), r;

        if (scope)
                return refuse_instead(m, scope);
        m->detached = true;
        /* The helper has no supervisor: it ends with the mediator's end of its channel. */
        snprintf(m->helper_parent, sizeof(m->helper_parent), "0");
        /* Never a child of the command this process becomes.  Should it not exist after
         * all (SIGCHLD ignored hides the outcome), nobody serves the filter: the listener
         * is not taken and the filtered calls fail (ENOSYS).  Closed, never open. */
        r = fork_orphan();
        if (r == 0)
                mediator_main(m);
        if (r < 0)
                return nono_error(-errno, "unix sockets: cannot start the mediator: %s",
                                  strerror(errno));
        return 0;
}

/* ---- free ------------------------------------------------------------------------------- */

static void free_paths(char **v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

void unixmed_free(struct unixmed *m)
{
        if (!m)
                return;
        close_fd(&m->chan[0]); /* the helper reads end-of-file and exits */
        close_fd(&m->chan[1]);
        close_fd(&m->xfer[0]);
        close_fd(&m->xfer[1]);
        close_fd(&m->listener);
        close_fd(&m->epfd);
        close_fd(&m->helper_exe);
        for (size_t i = 0; i < MAX_PENDING; i++)
                close_fd(&m->pending[i].sock);
        for (size_t i = 0; i < MAX_REPLAY; i++)
                close_fd(&m->replay[i].sock);
        if (m->helper_pidfd >= 0) {
                siginfo_t si;

                /* It holds nothing worth waiting for.  Not waited for here (its exit costs
                 * about as much as a fork); reaped now if it is already gone, else by the
                 * caller's sweep of its children (nono is a subreaper and reaps every
                 * leftover after the command exits). */
                syscall(SYS_pidfd_send_signal, m->helper_pidfd, SIGKILL, NULL, 0);
                memset(&si, 0, sizeof(si));
                waitid(P_PIDFD, (id_t)m->helper_pidfd, &si, WEXITED | WNOHANG);
                close(m->helper_pidfd);
        }
        free_paths(m->dirs, m->n_dirs);
        free_paths(m->socks, m->n_socks);
        free(m->prog.filter);
        free(m->deny_prog.filter);
        free(m->notif);
        free(m->resp);
        free(m->buf);
        free(m);
}
