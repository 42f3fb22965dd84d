/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Unix-socket mediator's serving half; see unixserve.h for where it runs and
 * unixmed.h for the design.  Each notification: copy the address (and for sendto the
 * data) out of the child, take the socket with pidfd_getfd, resolve and judge a
 * pathname, answer a refusal at once and hand everything else to the helper, whose
 * result answers it later.
 */
#include "unixserve.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "error.h"
#include "strv.h"
#include "unixproto.h"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL /* Linux 6.9: a pidfd for a thread, not only a leader */
#endif

/* ---- the policy ------------------------------------------------------------------------- */

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

int unixserve_new(struct unixmed **ret, const char *const *allowed_dirs, size_t n_dirs,
                  const char *const *allowed_sockets, size_t n_sockets)
{
        struct unixmed *m = malloc(sizeof(*m));
        int r;

        *ret = m;
        if (!m)
                return nono_error(-ENOMEM, "unix sockets: out of memory");
        /* Not the denial table: clearing it would fault in 18 pages at every start. */
        memset(m, 0, offsetof(struct unixmed, denials));
        m->xfer[0] = m->xfer[1] = m->chan[0] = m->chan[1] = -1;
        m->listener = m->epfd = m->helper_pidfd = m->helper_exe = -1;
        for (size_t i = 0; i < MAX_PENDING; i++)
                m->pending[i].sock = -1;
        for (size_t i = 0; i < MAX_REPLAY; i++)
                m->replay[i].sock = -1;
        r = copy_paths(&m->dirs, &m->n_dirs, allowed_dirs, n_dirs, "allowed directory");
        if (r < 0)
                return r;
        r = copy_paths(&m->socks, &m->n_socks, allowed_sockets, n_sockets, "allowed socket");
        if (r < 0)
                return r;
        if (syscall(SYS_seccomp, SECCOMP_GET_NOTIF_SIZES, 0, &m->sizes) < 0)
                return nono_error(-errno,
                                  "unix sockets: this kernel has no seccomp user notifications "
                                  "(Linux 5.0): %s",
                                  strerror(errno));
        m->notif = calloc(1, m->sizes.seccomp_notif > sizeof(*m->notif) ? m->sizes.seccomp_notif
                                                                        : sizeof(*m->notif));
        m->resp =
            calloc(1, m->sizes.seccomp_notif_resp > sizeof(*m->resp) ? m->sizes.seccomp_notif_resp
                                                                     : sizeof(*m->resp));
        m->buf = malloc(REQ_BUF_SIZE);
        if (!m->notif || !m->resp || !m->buf)
                return nono_error(-ENOMEM, "unix sockets: out of memory");
        m->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (m->epfd < 0)
                return nono_error(-errno, "unix sockets: cannot create an epoll set: %s",
                                  strerror(errno));
        return 0;
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

/* The listener's ioctls, through syscall(): C libraries disagree on the type of ioctl()'s
 * request (glibc: unsigned long, musl: int), and these numbers do not fit an int. */
static int listener_ioctl(const struct unixmed *m, unsigned long request, const void *arg)
{
        return (int)syscall(SYS_ioctl, m->listener, request, arg);
}

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
        if (listener_ioctl(m, SECCOMP_IOCTL_NOTIF_SEND, resp) < 0)
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
        if (listener_ioctl(m, SECCOMP_IOCTL_NOTIF_ID_VALID, &notif->id) < 0) {
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

                if (listener_ioctl(m, SECCOMP_IOCTL_NOTIF_ID_VALID, &p->id) < 0) {
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
        if (listener_ioctl(m, SECCOMP_IOCTL_NOTIF_ID_VALID, &n->id) < 0) {
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
                if (p && listener_ioctl(m, SECCOMP_IOCTL_NOTIF_ID_VALID, &p->id) < 0) {
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
        if (n->data.arch != UNIXSERVE_ARCH)
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
        if (listener_ioctl(m, SECCOMP_IOCTL_NOTIF_RECV, n) < 0)
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

                /* Killed already when the command ended (supervisor_run), or here when
                 * nono stops early.  Not waited for: it holds nothing, and its exit
                 * (the last process of the sandbox's mount namespace waits out an RCU
                 * grace period tearing it down) would hold nono up by about a
                 * millisecond.  Reaped now if already gone, else by init once nono
                 * has exited. */
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
