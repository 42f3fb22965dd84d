/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nono-unix-helper: performs the connect and sendto calls that nono's Unix-socket
 * mediator allowed, on the sandboxed program's behalf (see core/lib/unixmed.h).
 *
 * The sandboxed child starts it with vfork + execve after its sandbox is applied and
 * before it loads the notification filter, so it runs in the child's Landlock domain,
 * with its credentials, capabilities and seccomp layer, but without the filter: the
 * kernel checks every call it makes as it would check the child's own.  Being a small
 * static executable rather than a fork of nono, it costs the child no copy of nono's
 * address space.  It talks to nono over one SOCK_SEQPACKET descriptor (unixproto.h).
 * Calls that may wait (a full backlog, a TCP handshake) go to a worker process after a
 * short while, so neither nono nor the helper waits for the network.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#include "unixproto.h"

#define INLINE_WAIT_US 20000 /* how long the helper itself waits before forking a worker */

/* The receive buffer: a request header and its payload. */
static unsigned char buf[REQ_BUF_SIZE];

static volatile sig_atomic_t alarm_fired;

static void on_alarm(int sig)
{
        (void)sig;
        alarm_fired = 1;
}

static void close_fd(int *fd)
{
        if (*fd >= 0) {
                close(*fd);
                *fd = -1;
        }
}

/* "/proc/self/fd/N" without stdio. */
static size_t proc_fd_path(char *path, int fd)
{
        static const char prefix[] = "/proc/self/fd/";
        char digits[12];
        size_t n = 0, k = 0;
        unsigned v = (unsigned)fd;

        do {
                digits[k++] = (char)('0' + v % 10);
                v /= 10;
        } while (v && k < sizeof(digits));
        memcpy(path, prefix, sizeof(prefix) - 1);
        n = sizeof(prefix) - 1;
        while (k)
                path[n++] = digits[--k];
        path[n] = '\0';
        return n;
}

static void helper_reply(int chan, uint64_t id, int64_t val)
{
        struct reply r = {id, val};
        ssize_t n;

        do {
                n = send(chan, &r, sizeof(r), MSG_NOSIGNAL);
        } while (n < 0 && errno == EINTR);
}

/* Performs one request on the socket; returns the result or -errno. */
static int64_t helper_perform(const struct req_hdr *h, const unsigned char *data, int sock,
                              int target)
{
        union {
                struct sockaddr_storage ss;
                struct sockaddr_un sun;
        } a;
        socklen_t alen = 0;
        int domain = -1;
        socklen_t dlen = sizeof(domain);
        bool path = h->op == REQ_CONNECT_PATH || h->op == REQ_SENDTO_PATH;
        ssize_t r;

        if (getsockopt(sock, SOL_SOCKET, SO_DOMAIN, &domain, &dlen) < 0)
                return -errno;
        memset(&a, 0, sizeof(a));
        if (path) {
                if (domain != AF_UNIX || target < 0)
                        return -EINVAL;
                a.sun.sun_family = AF_UNIX;
                alen = (socklen_t)(SUN_PATH_OFF + proc_fd_path(a.sun.sun_path, target) + 1);
        } else {
                alen = h->addrlen;
                memcpy(&a, h->addr, alen);
                /* nono never sends a pathname here; refuse one all the same. */
                if (domain == AF_UNIX && is_pathname(&a, alen))
                        return -EACCES;
        }
        if (h->op == REQ_CONNECT_PATH || h->op == REQ_CONNECT_ADDR)
                r = connect(sock, alen ? (struct sockaddr *)&a : NULL, alen);
        else
                r = sendto(sock, data, h->datalen, h->flags | MSG_NOSIGNAL,
                           alen ? (struct sockaddr *)&a : NULL, alen);
        return r < 0 ? -errno : (int64_t)r;
}

static void set_timer(long usec)
{
        struct itimerval it;

        memset(&it, 0, sizeof(it));
        it.it_value.tv_usec = usec;
        setitimer(ITIMER_REAL, &it, NULL);
}

/*
 * A blocking socket may make the call wait: a full listen backlog or datagram queue, a
 * TCP handshake.  The helper tries for INLINE_WAIT_US; when the timer interrupts the
 * call (nothing happened for Unix sockets; for TCP the handshake goes on), a worker
 * process repeats it and answers, so the helper can serve the next request.
 */
static void helper_serve(int chan, const struct req_hdr *h, const unsigned char *data, int sock,
                         int target)
{
        int fl = fcntl(sock, F_GETFL);
        bool blocking =
            fl >= 0 && !(fl & O_NONBLOCK) &&
            !((h->op == REQ_SENDTO_PATH || h->op == REQ_SENDTO_ADDR) && (h->flags & MSG_DONTWAIT));
        int64_t r;
        long pid;

        if (blocking) {
                alarm_fired = 0;
                set_timer(INLINE_WAIT_US);
        }
        r = helper_perform(h, data, sock, target);
        if (blocking)
                set_timer(0);
        if (!(blocking && r == -EINTR && alarm_fired)) {
                helper_reply(chan, h->id, r);
                return;
        }
        pid = syscall(SYS_clone, (unsigned long)SIGCHLD, 0UL, NULL, NULL, 0UL);
        if (pid == 0) {
                /* The worker: dies with the helper, answers once. */
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                do {
                        r = helper_perform(h, data, sock, target);
                } while (r == -EINTR);
                helper_reply(chan, h->id, r);
                _exit(0);
        }
        if (pid < 0)
                helper_reply(chan, h->id, -EAGAIN);
}

static void helper_signals(void)
{
        static const int ignored[] = {SIGHUP,  SIGINT,  SIGQUIT, SIGPIPE, SIGTSTP,
                                      SIGTTIN, SIGTTOU, SIGUSR1, SIGUSR2, SIGCHLD};
        struct sigaction sa;
        sigset_t none;

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = SIG_IGN; /* SIGCHLD ignored: workers are reaped by the kernel */
        for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
                sigaction(ignored[i], &sa, NULL);
        sa.sa_handler = on_alarm; /* no SA_RESTART: the timer must interrupt the call */
        sigaction(SIGALRM, &sa, NULL);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
}

/*
 * nono died (SIGKILL): take the whole sandbox with it, grandchildren included, which
 * PDEATHSIG on the command alone cannot do.  kill(-1) reaches every process this one
 * may signal; Landlock's signal scope limits that to the sandbox's own domain (checked
 * in arm_sandbox_teardown before this handler is installed).
 */
static pid_t helper_supervisor; /* set once the teardown is armed */

/* Leaves, taking the sandbox along when the teardown is armed. */
static void helper_exit(void) __attribute__((noreturn));
static void helper_exit(void)
{
        if (helper_supervisor)
                kill(-1, SIGKILL);
        _exit(0);
}

static void on_supervisor_death(int sig)
{
        (void)sig;
        /* A SIGTERM from inside the sandbox while nono lives is not nono's death. */
        if (getppid() != helper_supervisor)
                helper_exit();
}

/*
 * Only when the signal scope is in force: with it, nono (outside the sandbox) cannot
 * be signalled from here, so kill(0 probe) fails with EPERM.  Without it (a kernel
 * before Landlock ABI 6 run with --best-effort) kill(-1) would reach every process of
 * the user, so the helper then just dies with nono.
 */
static int arm_sandbox_teardown(pid_t supervisor)
{
        struct sigaction sa;

        if (kill(supervisor, 0) == 0 || errno != EPERM)
                return prctl(PR_SET_PDEATHSIG, SIGKILL);
        helper_supervisor = supervisor;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_supervisor_death;
        sigfillset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
        return prctl(PR_SET_PDEATHSIG, SIGTERM);
}

/* Receives one request with its descriptors (at most two); the message length or -errno. */
static ssize_t receive(int chan, int fds[2], size_t *nfds, int *flags)
{
        union {
                char b[CMSG_SPACE(2 * sizeof(int))];
                struct cmsghdr align;
        } c;
        struct iovec iov = {buf, sizeof(buf)};
        struct msghdr mh;
        ssize_t n;

        memset(&mh, 0, sizeof(mh));
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        mh.msg_control = c.b;
        mh.msg_controllen = sizeof(c.b);
        n = recvmsg(chan, &mh, MSG_CMSG_CLOEXEC);
        if (n < 0)
                return -errno;
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
                if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
                        continue;
                *nfds = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                if (*nfds > 2)
                        *nfds = 2;
                memcpy(fds, CMSG_DATA(cm), *nfds * sizeof(int));
        }
        *flags = mh.msg_flags;
        return n;
}

static bool well_formed(const struct req_hdr *h, size_t n, size_t nfds, int flags)
{
        return n == sizeof(*h) + h->datalen && h->addrlen <= ADDR_MAX && nfds >= 1 &&
               h->op >= REQ_CONNECT_PATH && h->op <= REQ_SENDTO_ADDR &&
               !(flags & (MSG_TRUNC | MSG_CTRUNC)) &&
               !((h->op == REQ_CONNECT_PATH || h->op == REQ_SENDTO_PATH) && nfds != 2);
}

static void serve(int chan) __attribute__((noreturn));
static void serve(int chan)
{
        for (;;) {
                struct req_hdr h;
                int fds[2] = {-1, -1}, flags = 0;
                size_t nfds = 0;
                ssize_t n = receive(chan, fds, &nfds, &flags);

                if (n == -EINTR)
                        continue;
                /* nono closed its end: it died (its files close before its children
                 * get the death signal) or the session is over. */
                if (n <= 0)
                        helper_exit();
                if ((size_t)n >= sizeof(h)) {
                        memcpy(&h, buf, sizeof(h));
                        if (well_formed(&h, (size_t)n, nfds, flags))
                                helper_serve(chan, &h, buf + sizeof(h), fds[0], fds[1]);
                        else
                                helper_reply(chan, h.id, -EINVAL);
                }
                close_fd(&fds[0]);
                close_fd(&fds[1]);
        }
}

/* A non-negative decimal int, or -1. */
static long parse_number(const char *s)
{
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        return errno || end == s || *end || v < 0 || v > INT_MAX ? -1 : v;
}

int main(int argc, char **argv)
{
        long chan = argc == 3 ? parse_number(argv[1]) : -1;
        long supervisor = argc == 3 ? parse_number(argv[2]) : -1;

        /* First: no /proc/<pid>/mem or pidfd_getfd for the sandbox (execve made this
         * process dumpable again).  The command has not been started yet. */
        prctl(PR_SET_DUMPABLE, 0);
        if (chan < 0 || supervisor < 0)
                return 2;
        /* execveat names the process after the descriptor number. */
        prctl(PR_SET_NAME, "nono-unixhelper");
        helper_signals();
        /* Gone with nono.  Started by nono wrap (no supervisor) it has no parent to die
         * with: it ends when the mediator closes the channel, or dies. */
        if (supervisor &&
            (arm_sandbox_teardown((pid_t)supervisor) < 0 || getppid() != (pid_t)supervisor))
                return 0;
        serve((int)chan);
}
