/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Load generator and servers for bench/proxy (built by that script, not by Meson).
 *
 *   proxy-load serve                 prints a port; per connection answers
 *                                    "S <bytes>\n" with that many bytes, or echoes
 *                                    64-byte messages ("R...") one by one
 *   proxy-load stream PORT BYTES [PROXYPORT TOKEN]
 *                                    fetches BYTES; prints seconds
 *   proxy-load rr PORT CONNS N [PROXYPORT TOKEN]
 *                                    N 64-byte round trips over CONNS connections;
 *                                    prints the median and p99 latency in microseconds
 *   proxy-load idle PORT CONNS PROXYPORT TOKEN
 *                                    opens CONNS tunnels, prints "ready", waits for stdin
 *   proxy-load relay PORT            prints a port; relays each connection to PORT with
 *                                    two blocking threads: the floor a relay costs on
 *                                    this machine, to judge the proxy's figures by
 *
 * With PROXYPORT every connection is a CONNECT tunnel through the proxy on 127.0.0.1.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MSG 64

static int proxy_port;
static const char *token;

static void die(const char *what)
{
        perror(what);
        exit(1);
}

static double now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void read_exact(int fd, char *buf, size_t n)
{
        while (n) {
                ssize_t r = read(fd, buf, n);

                if (r <= 0)
                        die("read");
                buf += r;
                n -= (size_t)r;
        }
}

static void write_all(int fd, const char *buf, size_t n)
{
        while (n) {
                ssize_t r = write(fd, buf, n);

                if (r <= 0)
                        die("write");
                buf += r;
                n -= (size_t)r;
        }
}

static int tcp_connect(int port)
{
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                die("connect");
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        return fd;
}

/* A connection to 127.0.0.1:port, directly or through a CONNECT tunnel. */
static int open_conn(int port)
{
        char req[512], cred[256], b64[400], resp[1024];
        size_t got = 0;
        int fd;

        if (!proxy_port)
                return tcp_connect(port);
        fd = tcp_connect(proxy_port);
        snprintf(cred, sizeof(cred), "nono:%s", token);
        EVP_EncodeBlock((unsigned char *)b64, (unsigned char *)cred, (int)strlen(cred));
        snprintf(req, sizeof(req),
                 "CONNECT 127.0.0.1:%d HTTP/1.1\r\nProxy-Authorization: Basic %s\r\n\r\n", port,
                 b64);
        write_all(fd, req, strlen(req));
        while (got < 4 || memcmp(resp + got - 4, "\r\n\r\n", 4) != 0) {
                if (got == sizeof(resp) || read(fd, resp + got, 1) != 1)
                        die("proxy reply");
                got++;
        }
        if (memcmp(resp, "HTTP/1.1 200", 12) != 0) {
                fprintf(stderr, "proxy refused: %.*s\n", (int)got, resp);
                exit(1);
        }
        return fd;
}

/* ---- server ---- */

static void *serve_one(void *arg)
{
        static char zeros[1 << 20];
        int fd = (int)(intptr_t)arg, one = 1;
        char msg[MSG];

        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        for (;;) {
                ssize_t r = read(fd, msg, MSG);

                if (r <= 0)
                        break;
                if (r < MSG && read(fd, msg + r, (size_t)(MSG - r)) != MSG - r)
                        break;
                if (msg[0] == 'S') {
                        long long left = atoll(msg + 2);

                        while (left > 0) {
                                size_t n =
                                    left < (long long)sizeof(zeros) ? (size_t)left : sizeof(zeros);
                                ssize_t w = write(fd, zeros, n);

                                if (w <= 0)
                                        break;
                                left -= w;
                        }
                        break;
                }
                if (write(fd, msg, MSG) != MSG)
                        break;
        }
        close(fd);
        return NULL;
}

static int serve(void)
{
        struct sockaddr_in sa = {.sin_family = AF_INET};
        socklen_t len = sizeof(sa);
        pthread_attr_t attr;
        int lfd = socket(AF_INET, SOCK_STREAM, 0);

        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 4096) < 0 ||
            getsockname(lfd, (struct sockaddr *)&sa, &len) < 0)
                die("listen");
        printf("%d\n", ntohs(sa.sin_port));
        fflush(stdout);
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 128 * 1024);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        for (;;) {
                int fd = accept(lfd, NULL, NULL);
                pthread_t t;

                if (fd >= 0 && pthread_create(&t, &attr, serve_one, (void *)(intptr_t)fd) != 0)
                        close(fd);
        }
        return 0;
}

/* ---- reference relay ---- */

struct pump {
        int from, to;
};

static void *pump_run(void *arg)
{
        struct pump *p = arg;
        char *buf = malloc(256 * 1024);
        ssize_t n;

        while (buf && (n = read(p->from, buf, 256 * 1024)) > 0)
                write_all(p->to, buf, (size_t)n);
        shutdown(p->to, SHUT_WR);
        free(buf);
        return NULL;
}

static int relay(int port)
{
        struct sockaddr_in sa = {.sin_family = AF_INET};
        socklen_t len = sizeof(sa);
        int lfd = socket(AF_INET, SOCK_STREAM, 0);

        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 4096) < 0 ||
            getsockname(lfd, (struct sockaddr *)&sa, &len) < 0)
                die("listen");
        printf("%d\n", ntohs(sa.sin_port));
        fflush(stdout);
        for (;;) {
                int fd = accept(lfd, NULL, NULL), one = 1;
                struct pump *up = malloc(2 * sizeof(*up));
                pthread_t t;

                if (fd < 0 || !up)
                        continue;
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                up[0] = (struct pump){fd, tcp_connect(port)};
                up[1] = (struct pump){up[0].to, fd};
                pthread_create(&t, NULL, pump_run, &up[0]);
                pthread_detach(t);
                pthread_create(&t, NULL, pump_run, &up[1]);
                pthread_detach(t);
        }
        return 0;
}

/* ---- clients ---- */

static int stream(int port, long long bytes)
{
        static char buf[1 << 20];
        char msg[MSG] = {0};
        long long got = 0;
        double t0;
        int fd = open_conn(port);

        snprintf(msg, sizeof(msg), "S %lld", bytes);
        t0 = now();
        write_all(fd, msg, MSG);
        while (got < bytes) {
                ssize_t r = read(fd, buf, sizeof(buf));

                if (r <= 0)
                        die("stream read");
                got += r;
        }
        printf("%.6f\n", now() - t0);
        close(fd);
        return 0;
}

struct rr_thread {
        int port, n;
        double *lat;
};

static void *rr_run(void *arg)
{
        struct rr_thread *t = arg;
        char msg[MSG];
        int fd = open_conn(t->port);

        memset(msg, 'R', sizeof(msg));
        for (int i = 0; i < t->n; i++) {
                double t0 = now();

                write_all(fd, msg, MSG);
                read_exact(fd, msg, MSG);
                t->lat[i] = now() - t0;
        }
        close(fd);
        return NULL;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return (x > y) - (x < y);
}

static int rr(int port, int conns, int n)
{
        struct rr_thread *ts = calloc((size_t)conns, sizeof(*ts));
        pthread_t *tids = calloc((size_t)conns, sizeof(*tids));
        double *all = calloc((size_t)n, sizeof(*all));
        int per = n / conns, total = 0;

        for (int i = 0; i < conns; i++) {
                ts[i] = (struct rr_thread){port, per, all + i * per};
                pthread_create(&tids[i], NULL, rr_run, &ts[i]);
        }
        for (int i = 0; i < conns; i++)
                pthread_join(tids[i], NULL);
        total = per * conns;
        qsort(all, (size_t)total, sizeof(*all), cmp_double);
        printf("%.1f %.1f\n", all[total / 2] * 1e6, all[total * 99 / 100] * 1e6);
        return 0;
}

static int idle(int port, int conns)
{
        char line[16];

        for (int i = 0; i < conns; i++)
                open_conn(port);
        printf("ready\n");
        fflush(stdout);
        if (!fgets(line, sizeof(line), stdin))
                return 0;
        return 0;
}

int main(int argc, char **argv)
{
        if (argc >= 2 && strcmp(argv[1], "serve") == 0)
                return serve();
        if (argc >= 3 && strcmp(argv[1], "relay") == 0)
                return relay(atoi(argv[2]));
        if (argc >= 4 && strcmp(argv[1], "stream") == 0) {
                if (argc >= 6) {
                        proxy_port = atoi(argv[4]);
                        token = argv[5];
                }
                return stream(atoi(argv[2]), atoll(argv[3]));
        }
        if (argc >= 5 && strcmp(argv[1], "rr") == 0) {
                if (argc >= 7) {
                        proxy_port = atoi(argv[5]);
                        token = argv[6];
                }
                return rr(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
        }
        if (argc >= 6 && strcmp(argv[1], "idle") == 0) {
                proxy_port = atoi(argv[4]);
                token = argv[5];
                return idle(atoi(argv[2]), atoi(argv[3]));
        }
        fprintf(stderr, "usage: see the comment at the top of proxy-load.c\n");
        return 2;
}
