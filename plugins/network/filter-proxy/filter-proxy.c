/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The `filter-proxy` network mode (DESIGN.md §5): the child reaches nothing but nono's
 * filtering proxy (proxy.h), which runs in a process of its own outside the sandbox.
 *
 * Where the kernel allows it, the child gets a private network namespace with only a
 * loopback interface.  The proxy's listening socket is made *inside* it by the child
 * (child_setup, before the enforcers) and passed to the proxy process with
 * SCM_RIGHTS: 127.0.0.1:PORT is then the only thing that exists for the child — UDP,
 * DNS and every other address included.  Without a namespace the proxy listens on the
 * host's loopback and the enforcer's rules (TCP connect to that one port, no other
 * sockets) keep the child to it.
 *
 * Knob (nono.conf): plugins = { filter-proxy = { network_namespace = 0; }; } (see netns.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nono/network.h>

#include "errtext.h"
#include "landlock-uapi.h"
#include "netns.h"
#include "proxy.h"

#define TOKEN_BYTES 32
#define TOKEN_HEX   (TOKEN_BYTES * 2 + 1)

struct fp_prepared {
        pid_t proxy_pid;
        int stop_fd;    /* closing it stops the proxy */
        int child_sock; /* netns mode: the child sends its listener over it */
        bool netns;
        struct netns_plan netns_plan;
        uint16_t port;
        char token[TOKEN_HEX];
        char (*phantoms)[TOKEN_HEX]; /* one per route */
        size_t n_routes;
        const struct nono_plan *plan;
};

/* 32 random bytes as hex: not guessable, and safe in URLs and headers. */
static int random_token(char out[TOKEN_HEX])
{
        unsigned char raw[TOKEN_BYTES];
        size_t got = 0;

        while (got < sizeof(raw)) {
                ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);

                if (n < 0 && errno != EINTR)
                        return -errno;
                if (n > 0)
                        got += (size_t)n;
        }
        for (size_t i = 0; i < sizeof(raw); i++)
                snprintf(out + 2 * i, 3, "%02x", raw[i]);
        explicit_bzero(raw, sizeof(raw));
        return 0;
}

/* A port inside the private namespace: everything there is free; a random one keeps
 * programs from assuming a fixed address. */
static uint16_t pick_netns_port(const struct nono_plan *plan)
{
        uint16_t r = 0;

        if (plan->proxy_port)
                return plan->proxy_port;
        if (getrandom(&r, sizeof(r), 0) != sizeof(r))
                r = (uint16_t)getpid();
        return (uint16_t)(20000 + r % 40000);
}

/* The host-side listener when there is no namespace: 127.0.0.1 only. */
static int listen_on_host(const struct netns_plugin_state *st, uint16_t want, int *ret_fd,
                          uint16_t *ret_port)
{
        struct sockaddr_in sin;
        socklen_t len = sizeof(sin);
        int fd, r = netns_listen_loopback(want, &fd);

        if (r < 0) {
                st->host->set_error(st->host->ctx, "cannot listen on 127.0.0.1:%u: %s",
                                    (unsigned)want, strerror(-r));
                return r;
        }
        if (getsockname(fd, (struct sockaddr *)&sin, &len) < 0) {
                r = -errno;
                close(fd);
                return r;
        }
        *ret_fd = fd;
        *ret_port = ntohs(sin.sin_port);
        return 0;
}

/*
 * The proxy process needs no filesystem writes (it reads CA files and the resolver's
 * configuration): a Landlock domain that handles every write right and grants none.
 * Best effort — a kernel without Landlock leaves it unconfined, as before.
 */
static void confine_proxy_process(const struct netns_plugin_state *st)
{
        struct ll_ruleset_attr attr = {0};
        long abi = syscall(LL_NR_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
        int fd;

        if (abi < 1) {
                st->host->log(st->host->ctx, NONO_LOG_DEBUG,
                              "proxy process not confined: "
                              "no Landlock");
                return;
        }
        attr.handled_access_fs = LL_ACCESS_FS_WRITE_FILE | LL_ACCESS_FS_REMOVE_DIR |
                                 LL_ACCESS_FS_REMOVE_FILE | LL_ACCESS_FS_MAKE_CHAR |
                                 LL_ACCESS_FS_MAKE_DIR | LL_ACCESS_FS_MAKE_REG |
                                 LL_ACCESS_FS_MAKE_SOCK | LL_ACCESS_FS_MAKE_FIFO |
                                 LL_ACCESS_FS_MAKE_BLOCK | LL_ACCESS_FS_MAKE_SYM;
        if (abi >= 2)
                attr.handled_access_fs |= LL_ACCESS_FS_REFER;
        if (abi >= 3)
                attr.handled_access_fs |= LL_ACCESS_FS_TRUNCATE;
        if (abi >= 6)
                attr.scoped = LL_SCOPE_SIGNAL | LL_SCOPE_ABSTRACT_UNIX_SOCKET;
        fd = (int)syscall(LL_NR_create_ruleset, &attr, sizeof(attr), 0);
        if (fd < 0)
                return;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) == 0)
                syscall(LL_NR_restrict_self, fd, 0);
        close(fd);
}

/*
 * The engine reports errors through host->set_error, which records them in the host's
 * copy of this process; the proxy process keeps a copy of the text to send it to the
 * parent.  The wrapper keeps the host's ctx, so every other service works unchanged.
 */
static const struct nono_host *real_host;
static char engine_error[256];

static void capture_error(void *ctx, const char *fmt, ...) NONO_PRINTF(2, 3);
static void capture_error(void *ctx, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(engine_error, sizeof(engine_error), fmt, ap);
        va_end(ap);
        real_host->set_error(ctx, "%s", engine_error);
}

/* What the proxy process tells the parent once it is ready (or why it is not). */
struct fp_status {
        int err;
        char message[256];
};

static void report_status(int fd, int err, const char *message)
{
        struct fp_status s = {.err = err};
        ssize_t ignored;

        snprintf(s.message, sizeof(s.message), "%s", message ? message : "");
        ignored = write(fd, &s, sizeof(s));
        (void)ignored;
}

static void announce_start(const struct netns_plugin_state *st, const struct fp_prepared *fp)
{
        char fields[160];

        snprintf(fields, sizeof(fields),
                 "{\"port\": %u, \"network_namespace\": %s, \"routes\": %zu}", (unsigned)fp->port,
                 fp->netns ? "true" : "false", fp->n_routes);
        st->host->audit_event(st->host->ctx, "proxy.start", fields);
}

/* The proxy process: serves until the parent closes the stop pipe (or dies). */
static void proxy_process(const struct netns_plugin_state *st, const struct fp_prepared *fp,
                          int listen_fd, int recv_sock, int stop_fd, int status_fd)
{
        const char **phantoms = st->host->alloc(st->host->ctx, (fp->n_routes + 1) * sizeof(char *));
        struct nono_host host = *st->host;
        struct proxy_settings set = {.host = &host, .plan = fp->plan, .token = fp->token};
        struct proxy *proxy = NULL;
        int r = phantoms ? 0 : -ENOMEM;

        prctl(PR_SET_PDEATHSIG, SIGKILL, 0L, 0L, 0L);
        /* Ctrl-C at the terminal is for the command; nono stops the proxy itself. */
        signal(SIGINT, SIG_IGN);
        signal(SIGQUIT, SIG_IGN);
        signal(SIGTSTP, SIG_IGN);
        real_host = st->host;
        host.set_error = capture_error;
        for (size_t i = 0; phantoms && i < fp->n_routes; i++)
                phantoms[i] = fp->phantoms[i];
        set.phantoms = phantoms;
        /* Before the confinement: the host's audit log opens its files for this process
         * on the first event, which a domain without write rights could not do later. */
        announce_start(st, fp);
        confine_proxy_process(st);
        if (r == 0)
                r = proxy_new(&set, &proxy);
        if (r < 0) {
                report_status(status_fd, r, engine_error);
                _exit(1);
        }
        report_status(status_fd, 0, NULL);
        close(status_fd);
        if (recv_sock >= 0) {
                /* The child sends the socket it made in its namespace; EOF means it
                 * never got that far (its setup failed). */
                r = netns_recv_fd(recv_sock, &listen_fd);
                close(recv_sock);
                if (r < 0)
                        _exit(0);
        }
        r = proxy_add_listener(proxy, listen_fd);
        if (r == 0)
                r = proxy_run(proxy, stop_fd);
        proxy_free(proxy);
        _exit(r < 0 ? 1 : 0);
}

static void close_fd(int *fd)
{
        if (*fd >= 0)
                close(*fd);
        *fd = -1;
}

static void fp_release(void *state, void *prepared)
{
        struct netns_plugin_state *st = state;
        struct fp_prepared *fp = prepared;

        close_fd(&fp->child_sock);
        close_fd(&fp->stop_fd);
        /* Closing the stop pipe is not enough when another process forked from the
         * same parent holds a copy of it (a second proxy an SDK program started). */
        if (fp->proxy_pid > 0)
                kill(fp->proxy_pid, SIGTERM);
        if (fp->proxy_pid > 0)
                while (waitpid(fp->proxy_pid, NULL, 0) < 0 && errno == EINTR)
                        ;
        if (fp->phantoms) {
                explicit_bzero(fp->phantoms, fp->n_routes * sizeof(*fp->phantoms));
                st->host->free(st->host->ctx, fp->phantoms);
        }
        explicit_bzero(fp->token, sizeof(fp->token));
        st->host->free(st->host->ctx, fp);
}

/* Token and phantoms: fresh for every run, never derived from the real secrets. */
static int make_tokens(struct netns_plugin_state *st, struct fp_prepared *fp)
{
        int r = random_token(fp->token);

        fp->n_routes = fp->plan->n_routes;
        fp->phantoms = st->host->alloc(st->host->ctx, (fp->n_routes + 1) * sizeof(*fp->phantoms));
        if (!fp->phantoms)
                return -ENOMEM;
        for (size_t i = 0; r == 0 && i < fp->n_routes; i++)
                r = random_token(fp->phantoms[i]);
        return r;
}

static int start_proxy_process(struct netns_plugin_state *st, struct fp_prepared *fp, int listen_fd)
{
        struct fp_status status = {0};
        int stop[2], status_pipe[2], sock[2] = {-1, -1};
        ssize_t n;

        if (pipe2(stop, O_CLOEXEC) < 0)
                return -errno;
        if (pipe2(status_pipe, O_CLOEXEC) < 0 ||
            (fp->netns && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sock) < 0)) {
                int err = errno;

                close(stop[0]);
                close(stop[1]);
                return -err;
        }
        fp->proxy_pid = fork();
        if (fp->proxy_pid == 0) {
                close(stop[1]);
                close(status_pipe[0]);
                if (sock[0] >= 0)
                        close(sock[0]);
                proxy_process(st, fp, listen_fd, sock[1], stop[0], status_pipe[1]);
        }
        close(stop[0]);
        close(status_pipe[1]);
        if (sock[1] >= 0)
                close(sock[1]);
        fp->stop_fd = stop[1];
        fp->child_sock = sock[0];
        if (fp->proxy_pid < 0) {
                close(status_pipe[0]);
                return -errno;
        }
        while ((n = read(status_pipe[0], &status, sizeof(status))) < 0 && errno == EINTR)
                ;
        close(status_pipe[0]);
        if (n != (ssize_t)sizeof(status)) {
                st->host->set_error(st->host->ctx, "the proxy process died while starting");
                return -EIO;
        }
        if (status.err < 0) {
                status.message[sizeof(status.message) - 1] = '\0';
                st->host->set_error(st->host->ctx, "%s", status.message);
                return status.err;
        }
        return 0;
}

static int fp_prepare(void *state, const struct nono_plan *plan, void **ret_prepared)
{
        struct netns_plugin_state *st = state;
        struct fp_prepared *fp = st->host->alloc(st->host->ctx, sizeof(*fp));
        char why[160];
        int listen_fd = -1, r;

        if (!fp)
                return -ENOMEM;
        *fp = (struct fp_prepared){.stop_fd = -1, .child_sock = -1, .plan = plan};
        r = make_tokens(st, fp);
        if (r == 0 && netns_wanted(st, plan)) {
                fp->netns = netns_plan_for_self(&fp->netns_plan, why, sizeof(why)) == 0;
                if (!fp->netns)
                        st->host->log(st->host->ctx, NONO_LOG_INFO,
                                      "no network namespace (%s): the enforcer keeps the "
                                      "child to the proxy's port",
                                      why);
        }
        if (r == 0 && fp->netns)
                fp->port = pick_netns_port(plan);
        else if (r == 0)
                r = listen_on_host(st, plan->proxy_port, &listen_fd, &fp->port);
        if (r == 0)
                r = start_proxy_process(st, fp, listen_fd);
        if (listen_fd >= 0)
                close(listen_fd);
        if (r < 0) {
                fp_release(st, fp);
                return r;
        }
        *ret_prepared = fp;
        return 0;
}

/* host->alloc'ed "NAME=value"; NULL on allocation failure. */
static char *env_entry(const struct nono_host *h, const char *name, const char *fmt, ...)
    NONO_PRINTF(3, 4);
static char *env_entry(const struct nono_host *h, const char *name, const char *fmt, ...)
{
        char value[512];
        size_t len;
        char *out;
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(value, sizeof(value), fmt, ap);
        va_end(ap);
        len = strlen(name) + 1 + strlen(value) + 1;
        out = h->alloc(h->ctx, len);
        if (out)
                snprintf(out, len, "%s=%s", name, value);
        return out;
}

static const char *const proxy_vars[] = {"HTTP_PROXY",  "HTTPS_PROXY", "http_proxy",
                                         "https_proxy", "ALL_PROXY",   "all_proxy"};
static const char *const no_proxy_vars[] = {"NO_PROXY", "no_proxy"};
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static int fp_child_env(void *state, void *prepared, char ***ret_env)
{
        struct netns_plugin_state *st = state;
        struct fp_prepared *fp = prepared;
        const struct nono_host *h = st->host;
        size_t n = 0, max = N_OF(proxy_vars) + N_OF(no_proxy_vars) + 2 * fp->n_routes + 1;
        char **env = h->alloc(h->ctx, max * sizeof(*env));

        if (!env)
                return -ENOMEM;
        /* Clients that honour a proxy send everything through it, with the token as
         * the proxy credentials; the credential routes are reached directly. */
        for (size_t i = 0; i < N_OF(proxy_vars); i++)
                env[n++] = env_entry(h, proxy_vars[i], "http://nono:%s@127.0.0.1:%u", fp->token,
                                     (unsigned)fp->port);
        for (size_t i = 0; i < N_OF(no_proxy_vars); i++)
                env[n++] = env_entry(h, no_proxy_vars[i], "localhost,127.0.0.1,::1");
        for (size_t i = 0; i < fp->n_routes; i++) {
                const struct nono_credential_route *rt = fp->plan->routes[i];

                if (rt->base_url_var)
                        env[n++] = env_entry(h, rt->base_url_var, "http://127.0.0.1:%u/%s",
                                             (unsigned)fp->port, rt->service);
                if (rt->env_var)
                        env[n++] = env_entry(h, rt->env_var, "%s", fp->phantoms[i]);
        }
        env[n] = NULL;
        for (size_t i = 0; i < n; i++)
                if (!env[i]) {
                        for (size_t j = 0; j < n; j++)
                                h->free(h->ctx, env[j]);
                        h->free(h->ctx, env);
                        return -ENOMEM;
                }
        *ret_env = env;
        return 0;
}

/* Without a namespace this is what keeps the child to the proxy; with one it costs
 * nothing (the proxy's port is the only one there). */
static int fp_enforcer_rules(void *state, void *prepared, struct nono_network_rule *rules,
                             size_t max, size_t *ret_count)
{
        struct fp_prepared *fp = prepared;

        *ret_count = 0;
        if (max < 1)
                return -ENOSPC;
        rules[0].kind = NONO_NETWORK_RULE_TCP_CONNECT;
        rules[0].port = fp->port;
        *ret_count = 1;
        return 0;
}

/* Child, before the enforcers: the namespace, and the proxy's socket inside it. */
static int fp_child_setup(void *state, void *prepared)
{
        struct netns_plugin_state *st = state;
        struct fp_prepared *fp = prepared;
        const char *step;
        int fd, r;

        if (!fp->netns)
                return 0;
        r = netns_enter(&fp->netns_plan, &step);
        if (r == 0) {
                step = "cannot listen on the proxy's port in the namespace";
                r = netns_listen_loopback(fp->port, &fd);
        }
        if (r == 0) {
                step = "cannot pass the proxy's socket";
                r = netns_send_fd(fp->child_sock, fd);
                close(fd);
        }
        close(fp->child_sock);
        if (r < 0)
                st->host->set_error(st->host->ctx, "filter-proxy: %s: %s", step, errno_text(-r));
        return r;
}

static const struct nono_network_ops ops = {
    .size = sizeof(struct nono_network_ops),
    .prepare = fp_prepare,
    .child_env = fp_child_env,
    .enforcer_rules = fp_enforcer_rules,
    .child_setup = fp_child_setup,
    .release = fp_release,
};

NONO_PLUGIN_DEFINE(filter_proxy, NONO_PLUGIN_NETWORK, "filter-proxy", "0.1.0",
                   "only nono's filtering proxy: allow-listed hosts, credential injection",
                   netns_plugin_init, netns_plugin_fini, &ops)
