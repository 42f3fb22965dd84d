/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CONNECT tunnels: bytes both ways between two sockets, with half-closes passed on.
 *
 * Bufferevents cost two loop iterations and about six system calls per chunk (wait,
 * FIONREAD, read, add write interest, wait, write, drop write interest); here a chunk
 * read is written at once from one shared buffer, and only what the other side cannot
 * take yet is kept (then the source stops being read until it drains).  A direction
 * that carries bulk data (a read fills a large part of the chunk) moves to splice(2)
 * through a pipe of its own: the bytes then stay in the kernel, which is what makes a
 * tunnel nearly as fast as a direct connection.  Small exchanges stay on read/send
 * (the same two system calls, and no pipe descriptors for idle or chatty tunnels).  An
 * idle tunnel holds no buffer at all.
 *
 * The client's first bytes are judged before any is forwarded: a TLS ClientHello must
 * not name another host than the CONNECT target (tls-hello.h).
 */

#include "engine.h"
#include "tls-hello.h"

#include <errno.h>
#include <event2/buffer.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TUNNEL_CHUNK (256 * 1024)
/* A read at least this large means bulk data: worth a pipe for splice(2). */
#define SPLICE_THRESHOLD (64 * 1024)
/* Asked of the kernel for each pipe (best effort: the default is 64 KiB). */
#define PIPE_CAPACITY (1024 * 1024)

struct tunnel_dir {
        struct tunnel *t;
        int from, to;
        struct event *readable; /* `from` has data */
        struct event *writable; /* `to` can take the pending bytes */
        struct evbuffer *backlog;
        int pipe[2];    /* splice mode, else -1 */
        size_t piped;   /* bytes in the pipe, not yet written to `to` */
        bool no_splice; /* a pipe could not be made: stay on read/send */
        bool sniffing;  /* the first bytes are held until the ClientHello is judged */
        struct evbuffer *sniffed;
        size_t sniff_need; /* judge again once this many bytes are held */
        bool eof;          /* `from` ended and `to` was told */
        bool eof_pending;  /* `from` ended, pending bytes still to flush */
};

struct tunnel {
        struct proxy *p;
        struct tunnel_dir dir[2]; /* [0] client → upstream, [1] upstream → client */
        struct event *idle_check;
        time_t last_activity;
        const char *tls_host; /* the CONNECT host (the caller's, outlives t), or NULL */
        void (*done)(void *arg, const char *refusal);
        void *arg;
};

static char chunk[TUNNEL_CHUNK]; /* one event loop, one chunk in flight at a time */

void tunnel_free(struct tunnel *t)
{
        if (!t)
                return;
        for (int i = 0; i < 2; i++) {
                struct tunnel_dir *d = &t->dir[i];

                if (d->readable)
                        event_free(d->readable);
                if (d->writable)
                        event_free(d->writable);
                if (d->backlog)
                        evbuffer_free(d->backlog);
                if (d->sniffed)
                        evbuffer_free(d->sniffed);
                if (d->pipe[0] >= 0) {
                        close(d->pipe[0]);
                        close(d->pipe[1]);
                }
                close(d->from);
        }
        if (t->idle_check)
                event_free(t->idle_check);
        proxy_free_mem(t->p, t);
}

static void end(struct tunnel *t, const char *refusal)
{
        t->done(t->arg, refusal); /* frees t */
}

static void touch(struct tunnel *t)
{
        struct timeval now;

        event_base_gettimeofday_cached(t->p->base, &now);
        t->last_activity = now.tv_sec;
}

static bool has_pending(const struct tunnel_dir *d)
{
        return d->piped || (d->backlog && evbuffer_get_length(d->backlog));
}

/* `from` ended: tell `to` once everything before the end is written. */
static void pass_eof(struct tunnel_dir *d)
{
        if (has_pending(d)) {
                d->eof_pending = true;
                return;
        }
        shutdown(d->to, SHUT_WR);
        d->eof = true;
        if (d->t->dir[0].eof && d->t->dir[1].eof)
                end(d->t, NULL);
}

/* Stops reading `from` until `to` took the pending bytes. */
static void wait_writable(struct tunnel_dir *d)
{
        event_del(d->readable);
        event_add(d->writable, NULL);
}

/*
 * Writes what `to` takes of the pending bytes, the backlog first (it was read before
 * anything reached the pipe).  1 when nothing is left, 0 when some is, -1 on an error.
 */
static int flush(struct tunnel_dir *d)
{
        if (d->backlog) {
                if (evbuffer_write(d->backlog, d->to) < 0 && errno != EAGAIN && errno != EINTR)
                        return -1;
                if (evbuffer_get_length(d->backlog))
                        return 0;
                /* A drained backlog holds no memory while the tunnel idles. */
                evbuffer_free(d->backlog);
                d->backlog = NULL;
        }
        while (d->piped) {
                ssize_t n = splice(d->pipe[0], NULL, d->to, NULL, d->piped,
                                   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);

                if (n < 0)
                        return errno == EAGAIN || errno == EINTR ? 0 : -1;
                d->piped -= (size_t)n;
        }
        return 1;
}

static void on_writable(evutil_socket_t fd, short what, void *arg)
{
        struct tunnel_dir *d = arg;
        int r = flush(d);

        if (r < 0) {
                end(d->t, NULL);
                return;
        }
        touch(d->t);
        if (r == 0)
                return;
        event_del(d->writable);
        if (d->eof_pending)
                pass_eof(d);
        else
                event_add(d->readable, NULL);
}

/* `from` ended (n == 0) or failed. */
static void source_ended(struct tunnel_dir *d, ssize_t n)
{
        event_del(d->readable);
        if (n < 0)
                end(d->t, NULL);
        else
                pass_eof(d);
}

/* Bulk data: from now on this direction goes through a pipe, if one can be had. */
static void start_splicing(struct tunnel_dir *d)
{
        if (pipe2(d->pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
                d->pipe[0] = d->pipe[1] = -1;
                d->no_splice = true; /* out of descriptors: copying still works */
                return;
        }
        (void)fcntl(d->pipe[1], F_SETPIPE_SZ, PIPE_CAPACITY);
}

static void splice_in(struct tunnel_dir *d)
{
        ssize_t n = splice(d->from, NULL, d->pipe[1], NULL, PIPE_CAPACITY,
                           SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
        int r;

        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        if (n <= 0) {
                source_ended(d, n);
                return;
        }
        touch(d->t);
        d->piped += (size_t)n;
        r = flush(d);
        if (r < 0)
                end(d->t, NULL);
        else if (r == 0)
                wait_writable(d);
}

static void copy(struct tunnel_dir *d)
{
        ssize_t n = read(d->from, chunk, sizeof(chunk));
        ssize_t w;

        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        if (n <= 0) {
                source_ended(d, n);
                return;
        }
        touch(d->t);
        w = send(d->to, chunk, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && errno != EAGAIN && errno != EINTR) {
                end(d->t, NULL);
                return;
        }
        if (w < 0)
                w = 0;
        if (w < n) {
                if ((!d->backlog && !(d->backlog = evbuffer_new())) ||
                    evbuffer_add(d->backlog, chunk + w, (size_t)(n - w)) < 0) {
                        end(d->t, NULL);
                        return;
                }
                wait_writable(d);
        }
        if (n >= SPLICE_THRESHOLD && !d->no_splice)
                start_splicing(d);
}

/*
 * Holds the client's first bytes until they are judged: a TLS ClientHello naming a host
 * other than the CONNECT target ends the tunnel before the upstream sees any of it.
 * Anything else (no TLS, or no server name) is then forwarded as it came.
 */
static void sniff(struct tunnel_dir *d)
{
        struct tunnel *t = d->t;
        ssize_t n = read(d->from, chunk, sizeof(chunk));
        char name[TLS_HELLO_NAME_MAX + 1];
        size_t len;

        if (n < 0 && errno != EAGAIN && errno != EINTR) {
                end(t, NULL);
                return;
        }
        if (n > 0) {
                touch(t);
                if ((!d->sniffed && !(d->sniffed = evbuffer_new())) ||
                    evbuffer_add(d->sniffed, chunk, (size_t)n) < 0) {
                        end(t, NULL);
                        return;
                }
        }
        len = d->sniffed ? evbuffer_get_length(d->sniffed) : 0;
        if (n == 0 && len == 0) {
                d->sniffing = false;
                source_ended(d, 0);
                return;
        }
        if (n != 0 && len < d->sniff_need)
                return;
        switch (tls_hello_server_name(evbuffer_pullup(d->sniffed, -1), len, name, &d->sniff_need)) {
        case TLS_HELLO_NEED_MORE:
                if (n == 0)
                        end(t, NULL); /* the client gave up halfway */
                return;
        case TLS_HELLO_MALFORMED:
                end(t, "malformed or oversized TLS ClientHello");
                return;
        case TLS_HELLO_SNI:
                if (!tls_hello_name_matches(name, t->tls_host)) {
                        end(t, "TLS server name does not match the CONNECT host");
                        return;
                }
                break;
        case TLS_HELLO_NO_SNI:
        case TLS_HELLO_NOT_TLS:
                break;
        }
        d->sniffing = false;
        d->backlog = d->sniffed;
        d->sniffed = NULL;
        d->eof_pending = n == 0;
        wait_writable(d);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
        struct tunnel_dir *d = arg;

        if (d->sniffing)
                sniff(d);
        else if (d->pipe[0] >= 0)
                splice_in(d);
        else
                copy(d);
}

static void on_idle_check(evutil_socket_t fd, short what, void *arg)
{
        struct tunnel *t = arg;
        struct timeval now;

        event_base_gettimeofday_cached(t->p->base, &now);
        if (now.tv_sec - t->last_activity >= t->p->idle_timeout_s)
                end(t, NULL);
}

static int setup_dir(struct tunnel *t, int i, int from, int to, struct evbuffer *initial,
                     bool check_hello)
{
        struct tunnel_dir *d = &t->dir[i];
        bool early = initial && evbuffer_get_length(initial);

        d->t = t;
        d->from = from;
        d->to = to;
        d->readable = event_new(t->p->base, from, EV_READ | EV_PERSIST, on_readable, d);
        d->writable = event_new(t->p->base, to, EV_WRITE | EV_PERSIST, on_writable, d);
        if (!d->readable || !d->writable)
                return -1;
        if (check_hello) {
                d->sniffing = true;
                d->sniff_need = 1;
                /* Bytes sent with the CONNECT are judged from the loop, like later ones. */
                if (early) {
                        d->sniffed = evbuffer_new();
                        if (!d->sniffed || evbuffer_add_buffer(d->sniffed, initial) < 0)
                                return -1;
                        event_active(d->readable, EV_READ, 0);
                }
                return event_add(d->readable, NULL);
        }
        if (early) {
                d->backlog = evbuffer_new();
                if (!d->backlog || evbuffer_add_buffer(d->backlog, initial) < 0)
                        return -1;
                return event_add(d->writable, NULL);
        }
        return event_add(d->readable, NULL);
}

struct tunnel *tunnel_new(struct proxy *p, int client_fd, int up_fd, struct evbuffer *to_up,
                          struct evbuffer *to_client, const char *tls_host,
                          void (*done)(void *arg, const char *refusal), void *arg)
{
        struct tunnel *t = proxy_zalloc(p, sizeof(*t));
        struct timeval every = {p->idle_timeout_s > 10 ? p->idle_timeout_s / 10 : 1, 0};

        if (!t) {
                close(client_fd);
                close(up_fd);
                return NULL;
        }
        t->p = p;
        t->done = done;
        t->arg = arg;
        t->tls_host = tls_host;
        for (int i = 0; i < 2; i++)
                t->dir[i].pipe[0] = t->dir[i].pipe[1] = -1;
        t->dir[0].from = client_fd;
        t->dir[1].from = up_fd;
        touch(t);
        t->idle_check = event_new(p->base, -1, EV_PERSIST, on_idle_check, t);
        if (!t->idle_check || event_add(t->idle_check, &every) < 0 ||
            setup_dir(t, 0, client_fd, up_fd, to_up, tls_host != NULL) < 0 ||
            setup_dir(t, 1, up_fd, client_fd, to_client, false) < 0) {
                tunnel_free(t);
                return NULL;
        }
        return t;
}
