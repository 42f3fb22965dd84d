/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Unix-socket mediator, end to end: a forked child installs the filter and makes
 * connects and sendtos; this process is the supervisor (attach, poll, handle) and owns
 * the listeners, so it can tell whether a connection reached one.
 *
 * "allowed" is a directory under /tmp given to unixmed_prepare; "outside" is one under
 * /var/tmp that is not.  Every child first reports that it ran (a byte on a pipe) and
 * returns 0 when all its checks held, else the number of the first check that failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cunit-main.h"
#include "unixmed.h"

#define NOBODY  65534
#define SKIPPED 77

static char ws[PATH_MAX];   /* allowed */
static char outd[PATH_MAX]; /* outside every grant */

/* ---- helpers --------------------------------------------------------------------------- */

static void path_in(char *buf, const char *dir, const char *name)
{
        if (snprintf(buf, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX)
                abort();
}

static int unix_listener(const char *path, int type, int backlog)
{
        struct sockaddr_un sun = {.sun_family = AF_UNIX};
        int s = socket(AF_UNIX, type, 0);

        if (s < 0)
                return -1;
        unlink(path);
        if (snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path) >= (int)sizeof(sun.sun_path)) {
                close(s);
                return -1;
        }
        if (bind(s, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
            (type == SOCK_STREAM && listen(s, backlog) < 0)) {
                close(s);
                return -1;
        }
        chmod(path, 0666);
        return s;
}

static int abstract_listener(const char *name)
{
        struct sockaddr_un sun = {.sun_family = AF_UNIX};
        size_t n = strlen(name);
        int s = socket(AF_UNIX, SOCK_STREAM, 0);

        memcpy(sun.sun_path + 1, name, n);
        if (bind(s, (struct sockaddr *)&sun,
                 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)) < 0 ||
            listen(s, 16) < 0) {
                close(s);
                return -1;
        }
        return s;
}

static int tcp_listener(int type, uint16_t *port)
{
        struct sockaddr_in in = {.sin_family = AF_INET};
        socklen_t len = sizeof(in);
        int s = socket(AF_INET, type, 0);

        in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (bind(s, (struct sockaddr *)&in, sizeof(in)) < 0 ||
            (type == SOCK_STREAM && listen(s, 16) < 0) ||
            getsockname(s, (struct sockaddr *)&in, &len) < 0) {
                close(s);
                return -1;
        }
        *port = ntohs(in.sin_port);
        return s;
}

static socklen_t unix_addr(struct sockaddr_un *sun, const char *path)
{
        memset(sun, 0, sizeof(*sun));
        sun->sun_family = AF_UNIX;
        if (snprintf(sun->sun_path, sizeof(sun->sun_path), "%s", path) >=
            (int)sizeof(sun->sun_path))
                abort();
        return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
}

/* Connects a new stream socket of `domain` to `sa`: 0 or -errno; the connected
 * socket in *ret_s when asked for. */
static int connect_to(int domain, int flags, const void *sa, socklen_t len, int *ret_s)
{
        int s = socket(domain, SOCK_STREAM | flags, 0), r;

        if (s < 0)
                return -errno;
        r = connect(s, (const struct sockaddr *)sa, len) < 0 ? -errno : 0;
        if (ret_s && r == 0)
                *ret_s = s;
        else
                close(s);
        return r;
}

static int connect_unix(const char *path, int flags, int *ret_s)
{
        struct sockaddr_un sun;
        socklen_t len = unix_addr(&sun, path);

        return connect_to(AF_UNIX, flags, &sun, len, ret_s);
}

/* A connection (or datagram) waits on this socket. */
static int pending(int s)
{
        struct pollfd p = {s, POLLIN, 0};

        return poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
}

/* Accepts the connection on l and checks that bytes go both ways over c. */
static int ping_pong(int l, int c)
{
        char buf[8];
        int a = accept(l, NULL, NULL), ok;

        if (a < 0)
                return 0;
        ok = write(c, "ping", 4) == 4 && read(a, buf, sizeof(buf)) == 4 &&
             memcmp(buf, "ping", 4) == 0 && write(a, "pong", 4) == 4 &&
             read(c, buf, sizeof(buf)) == 4 && memcmp(buf, "pong", 4) == 0;
        close(a);
        return ok;
}

static int drop_to(uid_t uid)
{
        if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0)
                return -1;
        return 0;
}

/* ---- the supervisor side -------------------------------------------------------------- */

typedef int (*child_fn)(void *arg);

struct spawn {
        child_fn setup; /* in the child before install (e.g. Landlock); NULL for none */
        child_fn body;
        void *arg;
        int uid;                                         /* -1: keep */
        void (*on_attach)(struct unixmed *m, void *arg); /* in the parent, once attached */
};

/*
 * Runs the child under the mediator and supervises it to the end.  Returns the child's
 * exit code; 200+ when the harness itself failed (the child did not run, no listener).
 */
static int run_child(struct unixmed *m, const struct spawn *sp)
{
        int ran[2], status = 0, r;
        char c;
        pid_t pid;

        if (pipe2(ran, O_CLOEXEC) < 0)
                return 201;
        pid = fork();
        if (pid < 0)
                return 202;
        if (pid == 0) {
                char msg[160];

                close(ran[0]);
                if (sp->uid >= 0 && drop_to((uid_t)sp->uid) < 0)
                        _exit(210);
                /* After exec a real child is dumpable again; here there is no exec. */
                prctl(PR_SET_DUMPABLE, 1);
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                        _exit(211);
                if (sp->setup && (r = sp->setup(sp->arg)) != 0)
                        _exit(r);
                if (unixmed_child_install(m, msg, sizeof(msg)) < 0) {
                        fprintf(stderr, "child: %s\n", msg);
                        _exit(212);
                }
                if (write(ran[1], "R", 1) != 1)
                        _exit(213);
                _exit(sp->body(sp->arg));
        }
        close(ran[1]);
        for (bool exited = false;;) {
                r = unixmed_parent_attach(m);
                if (r == 0)
                        break;
                /* Gone before it sent the listener: setup failed. */
                if (r != -EAGAIN || exited) {
                        fprintf(stderr, "no listener from the child (%d, status %d)\n", r, status);
                        close(ran[0]);
                        return 203;
                }
                /* One more try after seeing it exit: it may have sent just before. */
                exited = waitpid(pid, &status, WNOHANG) == pid;
                if (!exited)
                        usleep(500);
        }
        if (sp->on_attach)
                sp->on_attach(m, sp->arg);
        for (;;) {
                struct pollfd p = {unixmed_fd(m), POLLIN, 0};

                if (poll(&p, 1, 10) > 0)
                        unixmed_handle(m);
                r = (int)waitpid(pid, &status, WNOHANG);
                if (r == pid || (r < 0 && errno == ECHILD))
                        break;
        }
        r = read(ran[0], &c, 1) == 1 ? 0 : 204;
        close(ran[0]);
        if (r)
                return r;
        if (WIFSIGNALED(status))
                return 205;
        return WEXITSTATUS(status);
}

static struct unixmed *prepare_default(const char *extra_socket, unsigned flags)
{
        const char *dirs[] = {ws};
        const char *socks[] = {extra_socket};
        struct unixmed *m = NULL;

        CU_ASSERT_EQUAL_FATAL(unixmed_prepare(&m, dirs, 1, socks, extra_socket ? 1 : 0, flags), 0);
        return m;
}

/* Frees the mediator and reaps its helper (a child of this process). */
static void finish(struct unixmed *m)
{
        pid_t helper = unixmed_helper_pid(m);

        unixmed_free(m);
        if (helper > 0)
                waitpid(helper, NULL, 0);
}

static int run(const char *extra_socket, child_fn body, void *arg)
{
        struct unixmed *m = prepare_default(extra_socket, 0);
        struct spawn sp = {NULL, body, arg, -1, NULL};
        int r = run_child(m, &sp);

        finish(m);
        return r;
}

/* ---- connect to pathnames ------------------------------------------------------------- */

struct two {
        char a[PATH_MAX], b[PATH_MAX];
        int la, lb; /* listeners */
};

static int child_allowed(void *arg)
{
        struct two *t = arg;
        int c = -1;

        if (connect_unix(t->a, 0, &c) != 0)
                return 1;
        if (!ping_pong(t->la, c))
                return 2;
        close(c);
        return 0;
}

static void test_allowed_dir(void)
{
        struct two t;

        path_in(t.a, ws, "allowed.sock");
        t.la = unix_listener(t.a, SOCK_STREAM, 16);
        CU_ASSERT_FATAL(t.la >= 0);
        CU_ASSERT_EQUAL(run(NULL, child_allowed, &t), 0);
        close(t.la);
}

static int child_refused(void *arg)
{
        struct two *t = arg;

        if (connect_unix(t->a, 0, NULL) != -EACCES)
                return 1;
        if (pending(t->la))
                return 2;
        /* The helper is not the program's child: wait() finds nothing. */
        if (waitpid(-1, NULL, WNOHANG) != -1 || errno != ECHILD)
                return 3;
        return 0;
}

/* The helper's process group once it has moved itself there (bounded wait). */
static pid_t helper_pgid_settled(pid_t helper)
{
        pid_t pgid = getpgid(helper);

        for (int i = 0; i < 200 && pgid != helper; i++) {
                usleep(10000);
                pgid = getpgid(helper);
        }
        return pgid;
}

static void test_outside_refused(void)
{
        struct unixmed *m = prepare_default(NULL, 0);
        struct spawn sp = {NULL, child_refused, NULL, -1, NULL};
        struct unixmed_denial d[4];
        struct two t;

        path_in(t.a, outd, "outside.sock");
        t.la = unix_listener(t.a, SOCK_STREAM, 16);
        CU_ASSERT_FATAL(t.la >= 0);
        sp.arg = &t;
        CU_ASSERT_EQUAL(run_child(m, &sp), 0);
        CU_ASSERT_FALSE(pending(t.la));
        CU_ASSERT_EQUAL(unixmed_denied_total(m), 1);
        CU_ASSERT_EQUAL(unixmed_denials(m, d, 4), 1);
        CU_ASSERT_STRING_EQUAL(d[0].requested, t.a);
        CU_ASSERT_STRING_EQUAL(d[0].resolved, t.a);
        CU_ASSERT_EQUAL(d[0].op, UNIXMED_OP_CONNECT);
        /* A child of nono's, in a process group of its own (it moves there itself, so
         * give a loaded machine a moment: this refusal did not need the helper). */
        CU_ASSERT_EQUAL(helper_pgid_settled(unixmed_helper_pid(m)), unixmed_helper_pid(m));
        finish(m);
        close(t.la);
}

static void test_explicit_socket(void)
{
        struct two t;

        path_in(t.a, outd, "explicit.sock");
        t.la = unix_listener(t.a, SOCK_STREAM, 16);
        CU_ASSERT_FATAL(t.la >= 0);
        CU_ASSERT_EQUAL(run(t.a, child_allowed, &t), 0);
        close(t.la);
}

static int child_symlinks(void *arg)
{
        struct two *t = arg;
        char out_link[PATH_MAX], in_link[PATH_MAX];
        int c = -1;

        path_in(out_link, ws, "to-outside");
        path_in(in_link, ws, "to-inside");
        if (connect_unix(out_link, 0, NULL) != -EACCES)
                return 1;
        if (pending(t->lb))
                return 2;
        /* A symlink that stays inside is fine, as the kernel would follow it. */
        if (connect_unix(in_link, 0, &c) != 0 || !ping_pong(t->la, c))
                return 3;
        close(c);
        return 0;
}

static void test_symlink_out_refused(void)
{
        struct two t;
        char link[PATH_MAX];

        path_in(t.a, ws, "target.sock");
        path_in(t.b, outd, "target.sock");
        t.la = unix_listener(t.a, SOCK_STREAM, 16);
        t.lb = unix_listener(t.b, SOCK_STREAM, 16);
        CU_ASSERT_FATAL(t.la >= 0 && t.lb >= 0);
        path_in(link, ws, "to-outside");
        unlink(link);
        CU_ASSERT_EQUAL_FATAL(symlink(t.b, link), 0);
        path_in(link, ws, "to-inside");
        unlink(link);
        CU_ASSERT_EQUAL_FATAL(symlink("target.sock", link), 0);
        CU_ASSERT_EQUAL(run(NULL, child_symlinks, &t), 0);
        CU_ASSERT_FALSE(pending(t.lb));
        close(t.la);
        close(t.lb);
}

static int child_relative(void *arg)
{
        struct two *t = arg;
        char up[PATH_MAX];
        int c = -1;

        if (chdir(ws) < 0)
                return 1;
        if (connect_unix("rel.sock", 0, &c) != 0 || !ping_pong(t->la, c))
                return 2;
        close(c);
        if (chdir(outd) < 0)
                return 3;
        if (connect_unix("rel.sock", 0, NULL) != -EACCES)
                return 4;
        /* Out of the allowed directory with "..". */
        if (chdir(ws) < 0)
                return 5;
        if (snprintf(up, sizeof(up), "../../../../../..%s/rel.sock", outd) >= (int)sizeof(up))
                return 8;
        if (connect_unix(up, 0, NULL) != -EACCES)
                return 6;
        if (pending(t->lb))
                return 7;
        return 0;
}

static void test_relative_path(void)
{
        struct two t;

        path_in(t.a, ws, "rel.sock");
        path_in(t.b, outd, "rel.sock");
        t.la = unix_listener(t.a, SOCK_STREAM, 16);
        t.lb = unix_listener(t.b, SOCK_STREAM, 16);
        CU_ASSERT_FATAL(t.la >= 0 && t.lb >= 0);
        CU_ASSERT_EQUAL(run(NULL, child_relative, &t), 0);
        close(t.la);
        close(t.lb);
}

static int child_enoent(void *arg)
{
        char p[PATH_MAX];

        (void)arg;
        path_in(p, ws, "does-not-exist.sock");
        if (connect_unix(p, 0, NULL) != -ENOENT)
                return 1;
        /* Not a socket: what the kernel says for that. */
        if (connect_unix(ws, 0, NULL) != -ECONNREFUSED)
                return 2;
        return 0;
}

static void test_nonexistent(void)
{
        CU_ASSERT_EQUAL(run(NULL, child_enoent, NULL), 0);
}

/* ---- what is not a pathname ----------------------------------------------------------- */

struct tcp_arg {
        int l;
        uint16_t port;
};

static int connect_tcp(uint16_t port, int *ret_s)
{
        struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(port)};

        in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return connect_to(AF_INET, 0, &in, sizeof(in), ret_s);
}

/* The child's verdict after a connect: 1 refused, 2 no data, 0 both ways. */
static int ping_after_connect(int listener, int connect_result, int c)
{
        if (connect_result != 0)
                return 1;
        if (!ping_pong(listener, c))
                return 2;
        close(c);
        return 0;
}

static int child_tcp(void *arg)
{
        struct tcp_arg *t = arg;
        int c = -1;
        int r = connect_tcp(t->port, &c);

        return ping_after_connect(t->l, r, c);
}

static void test_tcp_goes_through(void)
{
        struct tcp_arg t;

        t.l = tcp_listener(SOCK_STREAM, &t.port);
        CU_ASSERT_FATAL(t.l >= 0);
        CU_ASSERT_EQUAL(run(NULL, child_tcp, &t), 0);
        close(t.l);
}

static int child_socketpair(void *arg)
{
        int sv[2];
        char buf[4];

        (void)arg;
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
                return 1;
        if (write(sv[0], "abc", 3) != 3 || read(sv[1], buf, 3) != 3 || memcmp(buf, "abc", 3))
                return 2;
        close(sv[0]);
        close(sv[1]);
        if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) < 0)
                return 3;
        if (send(sv[0], "x", 1, 0) != 1 || recv(sv[1], buf, 1, 0) != 1)
                return 4;
        return 0;
}

static void test_socketpair(void)
{
        CU_ASSERT_EQUAL(run(NULL, child_socketpair, NULL), 0);
}

struct abs_arg {
        int l;
        char name[64];
};

static int connect_abstract(const char *name, int *ret_s)
{
        struct sockaddr_un sun = {.sun_family = AF_UNIX};
        size_t n = strlen(name);

        memcpy(sun.sun_path + 1, name, n);
        return connect_to(AF_UNIX, 0, &sun,
                          (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n), ret_s);
}

static int child_abstract(void *arg)
{
        struct abs_arg *a = arg;
        int c = -1;
        int r = connect_abstract(a->name, &c);

        return ping_after_connect(a->l, r, c);
}

static void test_abstract(void)
{
        struct abs_arg a;

        snprintf(a.name, sizeof(a.name), "nono-unixmed-test-%d", (int)getpid());
        a.l = abstract_listener(a.name);
        CU_ASSERT_FATAL(a.l >= 0);
        CU_ASSERT_EQUAL(run(NULL, child_abstract, &a), 0);
        close(a.l);
}

/* ---- sendto with an address ----------------------------------------------------------- */

struct dgram_arg {
        char in[PATH_MAX], out[PATH_MAX];
        int din, dout, udp;
        uint16_t udp_port;
};

static int child_sendto(void *arg)
{
        struct dgram_arg *d = arg;
        struct sockaddr_un sun;
        struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(d->udp_port)};
        socklen_t len;
        char buf[8];
        int s = socket(AF_UNIX, SOCK_DGRAM, 0), u;

        len = unix_addr(&sun, d->in);
        if (sendto(s, "hi", 2, 0, (struct sockaddr *)&sun, len) != 2)
                return 1;
        if (recv(d->din, buf, sizeof(buf), MSG_DONTWAIT) != 2 || memcmp(buf, "hi", 2))
                return 2;
        len = unix_addr(&sun, d->out);
        if (sendto(s, "no", 2, 0, (struct sockaddr *)&sun, len) != -1 || errno != EACCES)
                return 3;
        if (pending(d->dout))
                return 4;
        /* send() without an address is not trapped; connect + send is mediated once. */
        len = unix_addr(&sun, d->in);
        if (connect(s, (struct sockaddr *)&sun, len) < 0 || send(s, "c", 1, 0) != 1 ||
            recv(d->din, buf, sizeof(buf), MSG_DONTWAIT) != 1)
                return 5;
        /* UDP with an address goes through (the helper sends it). */
        in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        u = socket(AF_INET, SOCK_DGRAM, 0);
        if (sendto(u, "udp", 3, 0, (struct sockaddr *)&in, sizeof(in)) != 3)
                return 6;
        if (recv(d->udp, buf, sizeof(buf), MSG_DONTWAIT) != 3)
                return 7;
        close(u);
        close(s);
        return 0;
}

static void test_sendto(void)
{
        struct dgram_arg d;

        path_in(d.in, ws, "dgram.sock");
        path_in(d.out, outd, "dgram.sock");
        d.din = unix_listener(d.in, SOCK_DGRAM, 0);
        d.dout = unix_listener(d.out, SOCK_DGRAM, 0);
        d.udp = tcp_listener(SOCK_DGRAM, &d.udp_port);
        CU_ASSERT_FATAL(d.din >= 0 && d.dout >= 0 && d.udp >= 0);
        CU_ASSERT_EQUAL(run(NULL, child_sendto, &d), 0);
        CU_ASSERT_FALSE(pending(d.dout));
        close(d.din);
        close(d.dout);
        close(d.udp);
}

static int child_no_dgram(void *arg)
{
        int sv[2], s;

        (void)arg;
        if (socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0) != -1 || errno != EPERM)
                return 1;
        if (socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0) != -1 || errno != EPERM)
                return 5;
        if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) != -1 || errno != EPERM)
                return 2;
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
                return 3;
        s = socket(AF_UNIX, SOCK_SEQPACKET, 0);
        if (s < 0)
                return 4;
        return 0;
}

/* Refused by nono itself and reported; the two socket() calls in a row share one entry. */
static void test_deny_unix_dgram(void)
{
        struct unixmed *m = prepare_default(NULL, UNIXMED_DENY_UNIX_DGRAM);
        struct spawn sp = {NULL, child_no_dgram, NULL, -1, NULL};
        struct unixmed_denial d[4];

        CU_ASSERT_EQUAL(run_child(m, &sp), 0);
        CU_ASSERT_EQUAL(unixmed_denied_total(m), 3);
        CU_ASSERT_EQUAL_FATAL(unixmed_denials(m, d, 4), 2);
        CU_ASSERT_EQUAL(d[0].op, UNIXMED_OP_SOCKET);
        CU_ASSERT_EQUAL(d[1].op, UNIXMED_OP_SOCKETPAIR);
        CU_ASSERT_STRING_EQUAL(d[1].requested, "");
        finish(m);
}

/* ---- races ---------------------------------------------------------------------------- */

#define RACE_ROUNDS 200

struct race {
        struct two t;
        char d[PATH_MAX], alt[PATH_MAX];
        volatile int stop;
        struct sockaddr_un sun;
        int fd;
};

static void *swap_dirs(void *arg)
{
        struct race *r = arg;

        while (!r->stop)
                syscall(SYS_renameat2, AT_FDCWD, r->d, AT_FDCWD, r->alt, RENAME_EXCHANGE);
        return NULL;
}

static int child_race_symlink(void *arg)
{
        struct race *r = arg;
        char target[PATH_MAX];
        pthread_t th;
        int ok = 0, refused = 0, other = 0, accepted = 0;

        path_in(target, r->d, "s");
        if (pthread_create(&th, NULL, swap_dirs, r) != 0)
                return 1;
        for (int i = 0; i < RACE_ROUNDS; i++) {
                int c = connect_unix(target, 0, NULL);

                if (c == 0)
                        ok++;
                else if (c == -EACCES)
                        refused++;
                else
                        other++;
        }
        r->stop = 1;
        pthread_join(th, NULL);
        while (pending(r->t.la)) {
                close(accept(r->t.la, NULL, NULL));
                accepted++;
        }
        if (pending(r->t.lb))
                return 2;
        if (accepted != ok)
                return 3;
        fprintf(stderr, "  (race: %d connected inside, %d refused, %d other)\n", ok, refused,
                other);
        return 0;
}

static void test_race_dir_symlink_swap(void)
{
        struct race r;
        char sock[PATH_MAX];

        memset(&r, 0, sizeof(r));
        path_in(r.d, ws, "swap");
        path_in(r.alt, ws, "swap-alt");
        mkdir(r.d, 0755);
        path_in(sock, r.d, "s");
        path_in(r.t.b, outd, "s");
        r.t.la = unix_listener(sock, SOCK_STREAM, 1024);
        r.t.lb = unix_listener(r.t.b, SOCK_STREAM, 1024);
        unlink(r.alt);
        CU_ASSERT_FATAL(r.t.la >= 0 && r.t.lb >= 0 && symlink(outd, r.alt) == 0);
        CU_ASSERT_EQUAL(run(NULL, child_race_symlink, &r), 0);
        CU_ASSERT_FALSE(pending(r.t.lb));
        close(r.t.la);
        close(r.t.lb);
}

/* Flips the address between a pathname outside and an abstract name: what nono read
 * must be what gets connected. */
static void *flip_address(void *arg)
{
        struct race *r = arg;
        volatile char *first = (volatile char *)&r->sun.sun_path[0];

        while (!r->stop) {
                *first = '\0';
                *first = '/';
        }
        return NULL;
}

static int child_race_memory(void *arg)
{
        struct race *r = arg;
        socklen_t len = unix_addr(&r->sun, r->t.b);
        pthread_t th;

        if (pthread_create(&th, NULL, flip_address, r) != 0)
                return 1;
        for (int i = 0; i < RACE_ROUNDS; i++) {
                int s = socket(AF_UNIX, SOCK_STREAM, 0);

                if (connect(s, (struct sockaddr *)&r->sun, len) == 0) {
                        r->stop = 1;
                        pthread_join(th, NULL);
                        return 2;
                }
                close(s);
        }
        r->stop = 1;
        pthread_join(th, NULL);
        return pending(r->t.lb) ? 3 : 0;
}

static void test_race_address_flip(void)
{
        struct race r;

        memset(&r, 0, sizeof(r));
        path_in(r.t.b, outd, "flip.sock");
        r.t.lb = unix_listener(r.t.b, SOCK_STREAM, 1024);
        CU_ASSERT_FATAL(r.t.lb >= 0);
        CU_ASSERT_EQUAL(run(NULL, child_race_memory, &r), 0);
        CU_ASSERT_FALSE(pending(r.t.lb));
        close(r.t.lb);
}

/* Swaps a TCP socket and a Unix socket under one descriptor number while that number
 * is connected to an outside Unix path: deciding "not AF_UNIX, let the kernel do it"
 * would let the Unix one through. */
static void *swap_fds(void *arg)
{
        struct race *r = arg;

        while (!r->stop) {
                int u = socket(AF_UNIX, SOCK_STREAM, 0);
                int t = socket(AF_INET, SOCK_STREAM, 0);

                dup2(u, r->fd);
                dup2(t, r->fd);
                close(u);
                close(t);
        }
        return NULL;
}

static int child_race_fd(void *arg)
{
        struct race *r = arg;
        struct sockaddr_un sun;
        socklen_t len = unix_addr(&sun, r->t.b);
        pthread_t th;
        int connected = 0;

        r->fd = socket(AF_INET, SOCK_STREAM, 0);
        if (pthread_create(&th, NULL, swap_fds, r) != 0)
                return 1;
        for (int i = 0; i < RACE_ROUNDS; i++)
                if (connect(r->fd, (struct sockaddr *)&sun, len) == 0)
                        connected++;
        r->stop = 1;
        pthread_join(th, NULL);
        if (connected)
                return 2;
        return pending(r->t.lb) ? 3 : 0;
}

static void test_race_fd_swap(void)
{
        struct race r;

        memset(&r, 0, sizeof(r));
        path_in(r.t.b, outd, "fdswap.sock");
        r.t.lb = unix_listener(r.t.b, SOCK_STREAM, 1024);
        CU_ASSERT_FATAL(r.t.lb >= 0);
        CU_ASSERT_EQUAL(run(NULL, child_race_fd, &r), 0);
        CU_ASSERT_FALSE(pending(r.t.lb));
        close(r.t.lb);
}

/* ---- waiting calls -------------------------------------------------------------------- */

struct block_arg {
        char busy[PATH_MAX], free_[PATH_MAX];
        int lbusy, lfree;
        int result;
};

static void *blocked_connect(void *arg)
{
        struct block_arg *b = arg;

        b->result = connect_unix(b->busy, 0, NULL);
        return NULL;
}

static double now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int child_blocking(void *arg)
{
        struct block_arg *b = arg;
        pthread_t th;
        double t0;
        int c = -1;

        /* Backlog 0: one connection fills it; the next blocking connect waits. */
        if (connect_unix(b->busy, 0, &c) != 0)
                return 1;
        b->result = 1;
        if (pthread_create(&th, NULL, blocked_connect, b) != 0)
                return 2;
        usleep(100 * 1000);
        if (b->result != 1)
                return 3; /* it should still be waiting */
        /* Meanwhile other connects are served promptly. */
        t0 = now_ms();
        if (connect_unix(b->free_, 0, NULL) != 0)
                return 4;
        if (now_ms() - t0 > 50)
                return 5;
        /* A non-blocking one gets EAGAIN at once. */
        if (connect_unix(b->busy, SOCK_NONBLOCK, NULL) != -EAGAIN)
                return 6;
        /* Accepting the first makes room: the waiting connect completes. */
        close(accept(b->lbusy, NULL, NULL));
        pthread_join(th, NULL);
        if (b->result != 0)
                return 7;
        close(c);
        return 0;
}

static void test_blocking_connect(void)
{
        struct block_arg b;

        path_in(b.busy, ws, "busy.sock");
        path_in(b.free_, ws, "free.sock");
        b.lbusy = unix_listener(b.busy, SOCK_STREAM, 0);
        b.lfree = unix_listener(b.free_, SOCK_STREAM, 16);
        CU_ASSERT_FATAL(b.lbusy >= 0 && b.lfree >= 0);
        CU_ASSERT_EQUAL(run(NULL, child_blocking, &b), 0);
        close(b.lbusy);
        close(b.lfree);
}

/* A signal interrupts a connect that waits (its notification is withdrawn) and the
 * kernel restarts it (SA_RESTART): the program must see the connect succeed, not EISCONN
 * from a second connect on the socket the first one connected. */
static void on_usr1(int sig)
{
        (void)sig;
}

static int child_restarted(void *arg)
{
        struct block_arg *b = arg;
        struct sigaction sa;
        pthread_t th;
        int c = -1;

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_usr1;
        sa.sa_flags = SA_RESTART;
        sigaction(SIGUSR1, &sa, NULL);
        if (connect_unix(b->busy, 0, &c) != 0)
                return 1;
        b->result = 1;
        if (pthread_create(&th, NULL, blocked_connect, b) != 0)
                return 2;
        usleep(100 * 1000);
        for (int i = 0; i < 3; i++) {
                pthread_kill(th, SIGUSR1);
                usleep(30 * 1000);
        }
        if (b->result != 1)
                return 3;
        close(accept(b->lbusy, NULL, NULL));
        pthread_join(th, NULL);
        if (b->result != 0) {
                fprintf(stderr, "  (restarted connect: %s)\n", strerror(-b->result));
                return 4;
        }
        close(c);
        return 0;
}

static void test_restarted_connect(void)
{
        struct block_arg b;

        path_in(b.busy, ws, "restart.sock");
        b.lbusy = unix_listener(b.busy, SOCK_STREAM, 0);
        CU_ASSERT_FATAL(b.lbusy >= 0);
        CU_ASSERT_EQUAL(run(NULL, child_restarted, &b), 0);
        close(b.lbusy);
}

/* ---- the helper is inside the child's sandbox ----------------------------------------- */

struct ll_ruleset_attr {
        uint64_t handled_access_fs;
        uint64_t handled_access_net;
        uint64_t scoped;
};

#define LL_NET_CONNECT_TCP (1ULL << 1)
#define LL_SCOPE_ABSTRACT  (1ULL << 0)
#define LL_CREATE_VERSION  (1U << 0)

static int landlock_abi(void)
{
        return (int)syscall(SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_VERSION);
}

static int landlock_setup(void *arg)
{
        struct ll_ruleset_attr attr = {0, LL_NET_CONNECT_TCP, LL_SCOPE_ABSTRACT};
        int fd;

        (void)arg;
        fd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
        if (fd < 0)
                return 220;
        if (syscall(SYS_landlock_restrict_self, fd, 0) < 0)
                return 221;
        close(fd);
        return 0;
}

struct ll_arg {
        struct tcp_arg tcp;
        struct abs_arg abs;
        struct two t;
};

static int child_landlocked(void *arg)
{
        struct ll_arg *a = arg;
        int c = -1;

        /* No TCP connect rule: refused by Landlock, for the helper as for the child. */
        if (connect_tcp(a->tcp.port, NULL) != -EACCES)
                return 1;
        /* An abstract socket outside the sandbox: refused by the scope. */
        if (connect_abstract(a->abs.name, NULL) != -EPERM)
                return 2;
        /* A pathname socket in the allowed directory still works. */
        if (connect_unix(a->t.a, 0, &c) != 0 || !ping_pong(a->t.la, c))
                return 3;
        return 0;
}

static void test_helper_keeps_landlock(void)
{
        struct unixmed *m;
        struct spawn sp = {landlock_setup, child_landlocked, NULL, -1, NULL};
        struct ll_arg a;

        if (landlock_abi() < 6) {
                fprintf(stderr, "  (skipped: Landlock ABI 6 needed)\n");
                return;
        }
        a.tcp.l = tcp_listener(SOCK_STREAM, &a.tcp.port);
        snprintf(a.abs.name, sizeof(a.abs.name), "nono-unixmed-ll-%d", (int)getpid());
        a.abs.l = abstract_listener(a.abs.name);
        path_in(a.t.a, ws, "ll.sock");
        a.t.la = unix_listener(a.t.a, SOCK_STREAM, 16);
        CU_ASSERT_FATAL(a.tcp.l >= 0 && a.abs.l >= 0 && a.t.la >= 0);
        m = prepare_default(NULL, 0);
        sp.arg = &a;
        CU_ASSERT_EQUAL(run_child(m, &sp), 0);
        CU_ASSERT_FALSE(pending(a.tcp.l));
        CU_ASSERT_FALSE(pending(a.abs.l));
        finish(m);
        close(a.tcp.l);
        close(a.abs.l);
        close(a.t.la);
}

/* ---- the child's mount namespace ---------------------------------------------------- */

struct mask_arg {
        char dir[PATH_MAX], sock[PATH_MAX];
        int l;
};

/* Before install: a private mount namespace with a tmpfs over the directory, as nono's
 * mount namespace masks a protected path inside a grant. */
static int mask_setup(void *arg)
{
        struct mask_arg *a = arg;

        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return 222;
        if (mount("tmpfs", a->dir, "tmpfs", 0, "size=64k") < 0)
                return 223;
        return 0;
}

static int child_masked(void *arg)
{
        struct mask_arg *a = arg;

        /* The socket exists in nono's view, not in the child's. */
        if (connect_unix(a->sock, 0, NULL) != -ENOENT)
                return 1;
        if (pending(a->l))
                return 2;
        return 0;
}

static void test_mount_namespace_masks(void)
{
        struct unixmed *m;
        struct spawn sp = {mask_setup, child_masked, NULL, -1, NULL};
        struct mask_arg a;

        if (geteuid() != 0) {
                fprintf(stderr, "  (skipped: needs root)\n");
                return;
        }
        path_in(a.dir, ws, "masked");
        mkdir(a.dir, 0755);
        path_in(a.sock, a.dir, "agent.sock");
        a.l = unix_listener(a.sock, SOCK_STREAM, 16);
        CU_ASSERT_FATAL(a.l >= 0);
        m = prepare_default(NULL, 0);
        sp.arg = &a;
        CU_ASSERT_EQUAL(run_child(m, &sp), 0);
        CU_ASSERT_FALSE(pending(a.l));
        finish(m);
        close(a.l);
}

/* ---- other users ---------------------------------------------------------------------- */

struct uid_arg {
        struct two t;        /* a: allowed (0666), b: outside */
        char priv[PATH_MAX]; /* allowed directory, but mode 0600 and not ours */
        int lpriv;
};

static int child_other_user(void *arg)
{
        struct uid_arg *u = arg;
        int c = -1;

        if (getuid() != NOBODY)
                return 1;
        if (connect_unix(u->t.a, 0, &c) != 0 || !ping_pong(u->t.la, c))
                return 2;
        close(c);
        if (connect_unix(u->t.b, 0, NULL) != -EACCES)
                return 3;
        /* The socket's own permissions are checked with the child's credentials (the
         * helper's), not nono's. */
        if (connect_unix(u->priv, 0, NULL) != -EACCES)
                return 4;
        if (pending(u->t.lb) || pending(u->lpriv))
                return 5;
        return 0;
}

static void test_child_other_uid(void)
{
        struct unixmed *m;
        struct spawn sp = {NULL, child_other_user, NULL, NOBODY, NULL};
        struct uid_arg u;

        if (geteuid() != 0) {
                fprintf(stderr, "  (skipped: needs root)\n");
                return;
        }
        path_in(u.t.a, ws, "nobody.sock");
        path_in(u.t.b, outd, "nobody.sock");
        path_in(u.priv, ws, "root-only.sock");
        u.t.la = unix_listener(u.t.a, SOCK_STREAM, 16);
        u.t.lb = unix_listener(u.t.b, SOCK_STREAM, 16);
        u.lpriv = unix_listener(u.priv, SOCK_STREAM, 16);
        CU_ASSERT_FATAL(u.t.la >= 0 && u.t.lb >= 0 && u.lpriv >= 0);
        chmod(u.priv, 0600);
        m = prepare_default(NULL, 0);
        sp.arg = &u;
        CU_ASSERT_EQUAL(run_child(m, &sp), 0);
        CU_ASSERT_FALSE(pending(u.t.lb));
        CU_ASSERT_FALSE(pending(u.lpriv));
        finish(m);
        close(u.t.la);
        close(u.t.lb);
        close(u.lpriv);
}

/* nono and the child as the same unprivileged user, as in real use. */
static int same_user_supervisor(void)
{
        char mine[PATH_MAX], theirs[PATH_MAX];
        const char *dirs[1];
        struct unixmed *m = NULL;
        struct spawn sp = {NULL, child_allowed, NULL, -1, NULL};
        struct two in, out;
        int r;

        snprintf(mine, sizeof(mine), "/tmp/unixmed-same-XXXXXX");
        snprintf(theirs, sizeof(theirs), "/var/tmp/unixmed-same-XXXXXX");
        if (!mkdtemp(mine) || !mkdtemp(theirs))
                return 30;
        dirs[0] = mine;
        path_in(in.a, mine, "s");
        path_in(out.a, theirs, "s");
        in.la = unix_listener(in.a, SOCK_STREAM, 16);
        out.la = unix_listener(out.a, SOCK_STREAM, 16);
        if (in.la < 0 || out.la < 0)
                return 31;
        if (unixmed_prepare(&m, dirs, 1, NULL, 0, 0) < 0)
                return 32;
        sp.arg = &in;
        r = run_child(m, &sp);
        finish(m);
        if (r)
                return 40 + (r > 100 ? 0 : r);
        if (unixmed_prepare(&m, dirs, 1, NULL, 0, 0) < 0)
                return 33;
        sp.body = child_refused;
        sp.arg = &out;
        r = run_child(m, &sp);
        finish(m);
        if (r)
                return 50 + (r > 100 ? 0 : r);
        if (pending(out.la))
                return 34;
        unlink(in.a);
        unlink(out.a);
        rmdir(mine);
        rmdir(theirs);
        return 0;
}

static void test_same_unprivileged_user(void)
{
        int status = 0;
        pid_t pid = fork();

        CU_ASSERT_FATAL(pid >= 0);
        if (pid == 0) {
                if (geteuid() == 0 && drop_to(NOBODY) < 0)
                        _exit(20);
                _exit(same_user_supervisor());
        }
        CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
        CU_ASSERT_TRUE(WIFEXITED(status));
        if (WEXITSTATUS(status))
                fprintf(stderr, "  (same-user supervisor failed with %d)\n", WEXITSTATUS(status));
        CU_ASSERT_EQUAL(WEXITSTATUS(status), 0);
}

/* ---- the helper gone ------------------------------------------------------------------ */

struct gone_arg {
        int go[2];
        struct two t;
};

static void kill_helper(struct unixmed *m, void *arg)
{
        struct gone_arg *g = arg;

        kill(unixmed_helper_pid(m), SIGKILL);
        if (write(g->go[1], "g", 1) != 1)
                return;
}

static int child_helper_gone(void *arg)
{
        struct gone_arg *g = arg;
        char c;

        if (read(g->go[0], &c, 1) != 1)
                return 1;
        /* Fails closed and does not hang. */
        if (connect_unix(g->t.a, 0, NULL) != -EPERM)
                return 2;
        return 0;
}

static void test_helper_gone_fails_closed(void)
{
        struct unixmed *m = prepare_default(NULL, 0);
        struct spawn sp = {NULL, child_helper_gone, NULL, -1, kill_helper};
        struct gone_arg g;

        CU_ASSERT_FATAL(pipe(g.go) == 0);
        path_in(g.t.a, ws, "gone.sock");
        g.t.la = unix_listener(g.t.a, SOCK_STREAM, 16);
        sp.arg = &g;
        CU_ASSERT_EQUAL(run_child(m, &sp), 0);
        CU_ASSERT_FALSE(pending(g.t.la));
        finish(m);
        close(g.go[0]);
        close(g.go[1]);
        close(g.t.la);
}

/* ---- prepare ------------------------------------------------------------------------- */

static void test_prepare_refuses_relative(void)
{
        const char *dirs[] = {"relative/dir"};
        struct unixmed *m = NULL;

        CU_ASSERT_EQUAL(unixmed_prepare(&m, dirs, 1, NULL, 0, 0), -EINVAL);
        CU_ASSERT_PTR_NULL(m);
}

/* ---- cost ----------------------------------------------------------------------------- */

#define BENCH_N 1000

struct bench {
        char path[PATH_MAX];
        int l;
        int expect; /* 0, or the errno nono answers with itself */
        double *us; /* shared with the parent */
};

static int child_bench(void *arg)
{
        struct bench *b = arg;

        for (int i = 0; i < BENCH_N; i++) {
                int s = socket(AF_UNIX, SOCK_STREAM, 0);
                struct sockaddr_un sun;
                socklen_t len = unix_addr(&sun, b->path);
                struct timespec t0, t1;

                int r;

                clock_gettime(CLOCK_MONOTONIC, &t0);
                r = connect(s, (struct sockaddr *)&sun, len) < 0 ? errno : 0;
                clock_gettime(CLOCK_MONOTONIC, &t1);
                if (r != b->expect)
                        return 1;
                b->us[i] =
                    (double)(t1.tv_sec - t0.tv_sec) * 1e6 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e3;
                close(s);
                if (r == 0)
                        close(accept(b->l, NULL, NULL));
        }
        return 0;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

static double median(double *v)
{
        qsort(v, BENCH_N, sizeof(*v), cmp_double);
        return v[BENCH_N / 2];
}

static void test_cost(void)
{
        struct bench b;
        double direct, mediated, refused;
        int status;
        pid_t pid;

        b.expect = 0;
        path_in(b.path, ws, "bench.sock");
        b.l = unix_listener(b.path, SOCK_STREAM, 64);
        b.us = mmap(NULL, BENCH_N * sizeof(double), PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        CU_ASSERT_FATAL(b.l >= 0 && b.us != MAP_FAILED);
        pid = fork();
        if (pid == 0)
                _exit(child_bench(&b));
        CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
        CU_ASSERT_EQUAL(status, 0);
        direct = median(b.us);
        CU_ASSERT_EQUAL(run(NULL, child_bench, &b), 0);
        mediated = median(b.us);
        /* Answered by nono alone (resolution fails): the notification round trip plus
         * nono's checks, without the helper. */
        b.expect = ENOENT;
        path_in(b.path, ws, "bench-missing.sock");
        CU_ASSERT_EQUAL(run(NULL, child_bench, &b), 0);
        refused = median(b.us);
        fprintf(stderr,
                "  (connect median over %d: direct %.1f us, mediated %.1f us, answered by "
                "nono alone %.1f us)\n",
                BENCH_N, direct, mediated, refused);
        munmap(b.us, BENCH_N * sizeof(double));
        close(b.l);
}

/* ---- suite ---------------------------------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
        (void)sb;
        (void)flag;
        (void)ftw;
        return remove(path);
}

static int suite_init(void)
{
        char a[] = "/tmp/unixmed-ws-XXXXXX", b[] = "/var/tmp/unixmed-out-XXXXXX";

        signal(SIGPIPE, SIG_IGN);
        if (!mkdtemp(a) || !mkdtemp(b))
                return -1;
        /* Canonical, so that denial reports compare equal. */
        if (!realpath(a, ws) || !realpath(b, outd))
                return -1;
        chmod(ws, 0755);
        chmod(outd, 0755);
        return 0;
}

static int suite_cleanup(void)
{
        nftw(ws, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        nftw(outd, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        return 0;
}

int main(void)
{
        static const struct test_case cases[] = {
            {"socket in an allowed directory: connects, data both ways", test_allowed_dir},
            {"socket outside: EACCES, no connection, denial recorded", test_outside_refused},
            {"explicitly allowed socket outside the directories", test_explicit_socket},
            {"symlink in the allowed directory to an outside socket: EACCES",
             test_symlink_out_refused},
            {"relative paths resolve against the child's cwd", test_relative_path},
            {"nonexistent path: ENOENT; not a socket: ECONNREFUSED", test_nonexistent},
            {"TCP to loopback goes through", test_tcp_goes_through},
            {"socketpair keeps working", test_socketpair},
            {"abstract socket goes through (no Landlock here)", test_abstract},
            {"sendto with an address: allowed, refused, UDP", test_sendto},
            {"UNIXMED_DENY_UNIX_DGRAM refuses Unix datagram sockets", test_deny_unix_dgram},
            {"race: directory swapped with a symlink never reaches outside",
             test_race_dir_symlink_swap},
            {"race: address flipped pathname/abstract never reaches outside",
             test_race_address_flip},
            {"race: descriptor swapped TCP/Unix never reaches outside", test_race_fd_swap},
            {"a waiting connect blocks neither nono nor other connects", test_blocking_connect},
            {"a connect interrupted and restarted by a signal succeeds once",
             test_restarted_connect},
            {"the helper keeps the child's Landlock rules and scopes", test_helper_keeps_landlock},
            {"paths masked in the child's mount namespace stay masked", test_mount_namespace_masks},
            {"child as another user (nobody): its own credentials count", test_child_other_uid},
            {"nono and child as the same unprivileged user", test_same_unprivileged_user},
            {"helper killed: connect fails closed with EPERM", test_helper_gone_fails_closed},
            {"prepare refuses relative paths", test_prepare_refuses_relative},
            {"cost of a mediated connect", test_cost},
        };
        return RUN_CUNIT("unixmed", suite_init, suite_cleanup, cases);
}
