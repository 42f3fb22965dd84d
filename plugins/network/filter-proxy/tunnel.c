/* SPDX-License-Identifier: Apache-2.0 */
/*
 * CONNECT tunnels: bytes both ways between two sockets, with half-closes passed on.
 * Bufferevents cost two loop iterations and about six system calls per chunk (wait,
 * FIONREAD, read, add write interest, wait, write, drop write interest); here a chunk
 * read is written at once from one shared buffer, and only what the other side cannot
 * take yet is kept (then the source stops being read until it drains).  An idle tunnel
 * holds no buffer at all.
 */

#include "engine.h"

#include <errno.h>
#include <event2/buffer.h>
#include <sys/socket.h>
#include <unistd.h>

#define TUNNEL_CHUNK (256 * 1024)

struct tunnel_dir {
        struct tunnel *t;
        int from, to;
        struct event *readable; /* `from` has data */
        struct event *writable; /* `to` can take the backlog */
        struct evbuffer *backlog;
        bool eof;         /* `from` ended and `to` was told */
        bool eof_pending; /* `from` ended, backlog still to flush */
};

struct tunnel {
        struct proxy *p;
        struct tunnel_dir dir[2]; /* [0] client → upstream, [1] upstream → client */
        struct event *idle_check;
        time_t last_activity;
        void (*done)(void *arg);
        void *arg;
};

static char chunk[TUNNEL_CHUNK]; /* one event loop, one chunk in flight at a time */

void tunnel_free(struct tunnel *t)
{
        if (!t)
                return;
        for (int i = 0; i < 2; i++) {
                if (t->dir[i].readable)
                        event_free(t->dir[i].readable);
                if (t->dir[i].writable)
                        event_free(t->dir[i].writable);
                if (t->dir[i].backlog)
                        evbuffer_free(t->dir[i].backlog);
                close(t->dir[i].from);
        }
        if (t->idle_check)
                event_free(t->idle_check);
        proxy_free_mem(t->p, t);
}

static void end(struct tunnel *t)
{
        t->done(t->arg); /* frees t */
}

static void touch(struct tunnel *t)
{
        struct timeval now;

        event_base_gettimeofday_cached(t->p->base, &now);
        t->last_activity = now.tv_sec;
}

/* `from` ended: tell `to` once everything before the end is written. */
static void pass_eof(struct tunnel_dir *d)
{
        if (d->backlog && evbuffer_get_length(d->backlog)) {
                d->eof_pending = true;
                return;
        }
        shutdown(d->to, SHUT_WR);
        d->eof = true;
        if (d->t->dir[0].eof && d->t->dir[1].eof)
                end(d->t);
}

/* Keeps what `to` did not take, and stops reading `from` until it is written. */
static int keep_backlog(struct tunnel_dir *d, const char *data, size_t len)
{
        if (!d->backlog && !(d->backlog = evbuffer_new()))
                return -1;
        if (evbuffer_add(d->backlog, data, len) < 0)
                return -1;
        event_del(d->readable);
        event_add(d->writable, NULL);
        return 0;
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
        struct tunnel_dir *d = arg;
        ssize_t n = read(d->from, chunk, sizeof(chunk));
        ssize_t w;

        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        if (n <= 0) {
                event_del(d->readable);
                if (n < 0)
                        end(d->t);
                else
                        pass_eof(d);
                return;
        }
        touch(d->t);
        w = send(d->to, chunk, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && errno != EAGAIN && errno != EINTR) {
                end(d->t);
                return;
        }
        if (w < 0)
                w = 0;
        if (w < n && keep_backlog(d, chunk + w, (size_t)(n - w)) < 0)
                end(d->t);
}

static void on_writable(evutil_socket_t fd, short what, void *arg)
{
        struct tunnel_dir *d = arg;
        int n = evbuffer_write(d->backlog, d->to);

        if (n < 0 && errno != EAGAIN && errno != EINTR) {
                end(d->t);
                return;
        }
        touch(d->t);
        if (evbuffer_get_length(d->backlog))
                return;
        event_del(d->writable);
        /* A drained backlog holds no memory while the tunnel idles. */
        evbuffer_free(d->backlog);
        d->backlog = NULL;
        if (d->eof_pending)
                pass_eof(d);
        else
                event_add(d->readable, NULL);
}

static void on_idle_check(evutil_socket_t fd, short what, void *arg)
{
        struct tunnel *t = arg;
        struct timeval now;

        event_base_gettimeofday_cached(t->p->base, &now);
        if (now.tv_sec - t->last_activity >= t->p->idle_timeout_s)
                end(t);
}

static int setup_dir(struct tunnel *t, int i, int from, int to, struct evbuffer *initial)
{
        struct tunnel_dir *d = &t->dir[i];

        d->t = t;
        d->from = from;
        d->to = to;
        d->readable = event_new(t->p->base, from, EV_READ | EV_PERSIST, on_readable, d);
        d->writable = event_new(t->p->base, to, EV_WRITE | EV_PERSIST, on_writable, d);
        if (!d->readable || !d->writable)
                return -1;
        if (initial && evbuffer_get_length(initial)) {
                d->backlog = evbuffer_new();
                if (!d->backlog || evbuffer_add_buffer(d->backlog, initial) < 0)
                        return -1;
                return event_add(d->writable, NULL);
        }
        return event_add(d->readable, NULL);
}

struct tunnel *tunnel_new(struct proxy *p, int client_fd, int up_fd, struct evbuffer *to_up,
                          struct evbuffer *to_client, void (*done)(void *arg), void *arg)
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
        t->dir[0].from = client_fd;
        t->dir[1].from = up_fd;
        touch(t);
        t->idle_check = event_new(p->base, -1, EV_PERSIST, on_idle_check, t);
        if (!t->idle_check || event_add(t->idle_check, &every) < 0 ||
            setup_dir(t, 0, client_fd, up_fd, to_up) < 0 ||
            setup_dir(t, 1, up_fd, client_fd, to_client) < 0) {
                tunnel_free(t);
                return NULL;
        }
        return t;
}
