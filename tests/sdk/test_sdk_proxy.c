/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nono_proxy_* through libnono.so only: a real proxy process, an upstream on
 * 127.0.0.2 (a thread of this test) that records what reached it, raw HTTP requests
 * from this process, audit events, shutdown, and argument checking.
 */
#include <nono/nono.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "cunit-main.h"

#define SECRET "sk-nono-c-test-93ab17c0"

struct upstream {
        int listen_fd;
        uint16_t port;
        pthread_t thread;
        char seen[8192]; /* the last request head it got */
};

static void assert_error(int r, int err, int kind)
{
        CU_ASSERT_EQUAL(r, -err);
        CU_ASSERT_EQUAL(nono_last_error_kind(), kind);
        CU_ASSERT(nono_last_error()[0] != '\0');
        CU_ASSERT(strstr(nono_last_error(), SECRET) == NULL);
}

static void set_timeouts(int fd)
{
        struct timeval tv = {.tv_sec = 10};

        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Reads until the end of a request or response head (or of the stream). */
static size_t read_head(int fd, char *buf, size_t size)
{
        size_t n = 0;
        ssize_t got;

        while (n + 1 < size && (got = read(fd, buf + n, size - n - 1)) > 0) {
                n += (size_t)got;
                buf[n] = '\0';
                if (strstr(buf, "\r\n\r\n"))
                        break;
        }
        buf[n] = '\0';
        return n;
}

/* Serves one request per connection until the listening socket is shut down. */
static void *upstream_serve(void *arg)
{
        static const char reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n"
                                    "Connection: close\r\n\r\nupstream";
        struct upstream *u = arg;
        int fd;

        while ((fd = accept(u->listen_fd, NULL, NULL)) >= 0) {
                set_timeouts(fd);
                read_head(fd, u->seen, sizeof(u->seen));
                if (write(fd, reply, sizeof(reply) - 1) < 0)
                        perror("upstream write");
                close(fd);
        }
        return NULL;
}

static int upstream_start(struct upstream *u)
{
        struct sockaddr_in sin = {.sin_family = AF_INET};
        socklen_t len = sizeof(sin);

        memset(u, 0, sizeof(*u));
        inet_pton(AF_INET, "127.0.0.2", &sin.sin_addr);
        u->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (u->listen_fd < 0 || bind(u->listen_fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
            listen(u->listen_fd, 8) < 0 ||
            getsockname(u->listen_fd, (struct sockaddr *)&sin, &len) < 0)
                return -1;
        u->port = ntohs(sin.sin_port);
        return pthread_create(&u->thread, NULL, upstream_serve, u) == 0 ? 0 : -1;
}

static void upstream_stop(struct upstream *u)
{
        shutdown(u->listen_fd, SHUT_RDWR);
        pthread_join(u->thread, NULL);
        close(u->listen_fd);
}

static int connect_proxy(uint16_t port)
{
        struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
                close(fd);
                return -1;
        }
        return fd;
}

/* Sends one request to the proxy; the response's status code, -1 on failure. */
static int ask_proxy(uint16_t port, const char *request)
{
        char response[4096];
        int fd = connect_proxy(port), status = -1;

        if (fd < 0)
                return -1;
        set_timeouts(fd);
        if (write(fd, request, strlen(request)) == (ssize_t)strlen(request) &&
            read_head(fd, response, sizeof(response)) > 0)
                sscanf(response, "HTTP/1.%*d %d", &status);
        close(fd);
        return status;
}

/* The value of NAME in a NULL-terminated NAME=value list; NULL when absent. */
static const char *env_value(char **env, const char *name)
{
        size_t len = strlen(name);

        for (size_t i = 0; env && env[i]; i++)
                if (strncmp(env[i], name, len) == 0 && env[i][len] == '=')
                        return env[i] + len + 1;
        return NULL;
}

static size_t count(char **list)
{
        size_t n = 0;

        while (list && list[n])
                n++;
        return n;
}

static nono_proxy_config *config_for(const struct upstream *u)
{
        char url[64];
        struct nono_route route = {
            .size = sizeof(route),
            .prefix = "svc",
            .upstream = url,
            .credential_key = "env://NONO_SDK_TEST_KEY",
        };
        nono_proxy_config *cfg = nono_proxy_config_new();

        snprintf(url, sizeof(url), "http://127.0.0.2:%u", (unsigned)u->port);
        CU_ASSERT_FATAL(cfg != NULL);
        CU_ASSERT_EQUAL(nono_proxy_config_allow_host(cfg, "127.0.0.2"), 0);
        CU_ASSERT_EQUAL(nono_proxy_config_add_route(cfg, &route), 0);
        return cfg;
}

static int any_event(char **events, const char *host, const char *decision)
{
        char want_host[128], want_decision[64];

        snprintf(want_host, sizeof(want_host), "\"host\":\"%s\"", host);
        snprintf(want_decision, sizeof(want_decision), "\"decision\":\"%s\"", decision);
        for (size_t i = 0; events && events[i]; i++)
                if (strstr(events[i], want_host) && strstr(events[i], want_decision) &&
                    strstr(events[i], "\"type\":\"proxy.decision\""))
                        return 1;
        return 0;
}

static void test_proxy_route_env_and_audit(void)
{
        struct upstream u;
        nono_proxy_config *cfg;
        nono_proxy *px = NULL;
        char **env = NULL, **cred = NULL, **events = NULL, request[1024], base_url[64];
        const char *phantom, *token;
        uint16_t port = 0;

        CU_ASSERT_FATAL(upstream_start(&u) == 0);
        cfg = config_for(&u);
        CU_ASSERT_EQUAL_FATAL(nono_proxy_start(cfg, &px), 0);
        nono_proxy_config_free(cfg); /* the proxy does not need it any more */
        CU_ASSERT_EQUAL(nono_proxy_port(px, &port), 0);
        CU_ASSERT(port != 0);
        CU_ASSERT_EQUAL(nono_proxy_env(px, &env), 0);
        CU_ASSERT_EQUAL(nono_proxy_credential_env(px, &cred), 0);
        CU_ASSERT_EQUAL(count(cred), 2);
        snprintf(base_url, sizeof(base_url), "http://127.0.0.1:%u/svc", (unsigned)port);
        CU_ASSERT_STRING_EQUAL(env_value(cred, "SVC_BASE_URL"), base_url);
        phantom = env_value(cred, "SVC_API_KEY");
        token = strchr(env_value(env, "HTTP_PROXY"), ':') + 3 + strlen("nono:");
        CU_ASSERT_FATAL(phantom && strcmp(phantom, SECRET) != 0 && env_value(env, "NO_PROXY"));

        /* The route: the phantom in, the real key out at the upstream. */
        snprintf(request, sizeof(request),
                 "GET /svc/v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 "Authorization: Bearer %s\r\n\r\n",
                 phantom);
        CU_ASSERT_EQUAL(ask_proxy(port, request), 200);
        CU_ASSERT(strstr(u.seen, "GET /v1/models HTTP/1.1\r\n") == u.seen);
        CU_ASSERT(strstr(u.seen, "Authorization: Bearer " SECRET "\r\n") != NULL);
        CU_ASSERT(strstr(u.seen, phantom) == NULL);

        /* Forward proxying: a host not listed is refused. */
        snprintf(request, sizeof(request),
                 "GET http://127.0.0.3:9/ HTTP/1.1\r\nHost: 127.0.0.3:9\r\n"
                 "Proxy-Authorization: Bearer %.64s\r\n\r\n",
                 token);
        CU_ASSERT_EQUAL(ask_proxy(port, request), 403);

        CU_ASSERT_EQUAL(nono_proxy_drain_audit(px, &events), 0);
        CU_ASSERT(any_event(events, "127.0.0.2", "allow"));
        CU_ASSERT(any_event(events, "127.0.0.3", "deny"));
        for (size_t i = 0; events && events[i]; i++) {
                CU_ASSERT(strstr(events[i], SECRET) == NULL);
                CU_ASSERT(strstr(events[i], phantom) == NULL);
                CU_ASSERT(strstr(events[i], token) == NULL);
        }
        nono_strings_free(events);
        CU_ASSERT_EQUAL(nono_proxy_drain_audit(px, &events), 0);
        CU_ASSERT_EQUAL(count(events), 0); /* drained means cleared */
        nono_strings_free(events);
        nono_strings_free(env);
        nono_strings_free(cred);
        nono_proxy_free(px);
        upstream_stop(&u);
}

static void test_proxy_shutdown(void)
{
        nono_proxy_config *cfg = nono_proxy_config_new();
        nono_proxy *px = NULL;
        char **events = NULL;
        uint16_t port = 0;
        int fd;

        CU_ASSERT_EQUAL(nono_proxy_config_allow_host(cfg, "*.example.com"), 0);
        CU_ASSERT_EQUAL_FATAL(nono_proxy_start(cfg, &px), 0);
        nono_proxy_config_free(cfg);
        CU_ASSERT_EQUAL(nono_proxy_port(px, &port), 0);
        fd = connect_proxy(port);
        CU_ASSERT(fd >= 0); /* it serves */
        if (fd >= 0)
                close(fd);
        CU_ASSERT_EQUAL(ask_proxy(port, "GET http://a.example.com/ HTTP/1.1\r\n"
                                        "Host: a.example.com\r\n\r\n"),
                        407);
        CU_ASSERT_EQUAL(nono_proxy_shutdown(px), 0);
        CU_ASSERT(connect_proxy(port) < 0 && errno == ECONNREFUSED);
        CU_ASSERT_EQUAL(nono_proxy_shutdown(px), 0); /* idempotent */
        CU_ASSERT_EQUAL(nono_proxy_drain_audit(px, &events), 0);
        CU_ASSERT(any_event(events, "a.example.com", "deny"));
        nono_strings_free(events);
        nono_proxy_free(px);
}

/* The child of a set routed through the proxy: the route works, the upstream is not
 * reachable directly, the credential's variable is gone. */
static void test_caps_use_proxy(void)
{
        static const char script[] =
            "echo key=${NONO_SDK_TEST_KEY-unset}; "
            "curl -sS --max-time 10 -H \"Authorization: Bearer $SVC_API_KEY\" "
            "\"$SVC_BASE_URL/child\"; echo; "
            "out=$(curl -sS --max-time 10 --noproxy '*' \"$1/direct\" 2>&1); "
            "echo direct=$?";
        struct upstream u;
        nono_proxy_config *cfg;
        nono_proxy *px = NULL;
        nono_caps *caps = nono_caps_new();
        struct nono_exec_result *res = NULL;
        struct nono_verdict v = {.size = sizeof(v)};
        char url[64];
        const char *argv[] = {"sh", "-c", script, "sh", url, NULL};
        struct nono_exec_options o = {.size = sizeof(o), .argv = argv, .timeout_ms = 60000};

        CU_ASSERT_FATAL(caps != NULL && upstream_start(&u) == 0);
        snprintf(url, sizeof(url), "http://127.0.0.2:%u", (unsigned)u.port);
        cfg = config_for(&u);
        CU_ASSERT_EQUAL_FATAL(nono_proxy_start(cfg, &px), 0);
        nono_proxy_config_free(cfg);
        assert_error(nono_caps_use_proxy(caps, NULL), EINVAL, NONO_ERROR_INVALID);
        CU_ASSERT_EQUAL(nono_caps_use_proxy(caps, px), 0);
        CU_ASSERT_EQUAL(nono_query_host(caps, "example.com", 443, &v), 0);
        CU_ASSERT_EQUAL(v.reason, NONO_VERDICT_NETWORK_PROXY);
        CU_ASSERT_EQUAL(v.allowed, 0);
        CU_ASSERT_EQUAL_FATAL(nono_sandboxed_exec(caps, &o, &res), 0);
        CU_ASSERT_EQUAL(res->exit_code, 0);
        CU_ASSERT_STRING_EQUAL(res->stdout_data, "key=unset\nupstream\ndirect=7\n");
        if (strcmp(res->stdout_data, "key=unset\nupstream\ndirect=7\n") != 0)
                fprintf(stderr, "child: %s%s\n", res->stdout_data, res->stderr_data);
        CU_ASSERT(strstr(u.seen, "GET /child HTTP/1.1\r\n") == u.seen);
        CU_ASSERT(strstr(u.seen, "Authorization: Bearer " SECRET "\r\n") != NULL);
        CU_ASSERT(strstr(res->stdout_data, SECRET) == NULL &&
                  strstr(res->stderr_data, SECRET) == NULL);
        nono_exec_result_free(res);
        nono_caps_free(caps);
        nono_proxy_free(px);
        upstream_stop(&u);
}

static void test_proxy_bad_arguments(void)
{
        static const char *const bad_rules[] = {"get /x", NULL};
        nono_proxy_config *cfg = nono_proxy_config_new();
        struct nono_route rt = {.size = sizeof(rt),
                                .prefix = "svc",
                                .upstream = "https://api.example.com",
                                .credential_key = "env://NONO_SDK_TEST_ABSENT"};
        struct nono_route bad;
        nono_proxy *px = (nono_proxy *)&rt;
        char **list;
        uint16_t port;

        CU_ASSERT_FATAL(cfg != NULL);
        assert_error(nono_proxy_config_allow_host(NULL, "a.example"), EINVAL, NONO_ERROR_INVALID);
        assert_error(nono_proxy_config_allow_host(cfg, NULL), EINVAL, NONO_ERROR_INVALID);
        assert_error(nono_proxy_config_allow_host(cfg, "https://a.example/"), EINVAL,
                     NONO_ERROR_INVALID);
        assert_error(nono_proxy_config_allow_host(cfg, "a.example:443"), EINVAL,
                     NONO_ERROR_INVALID);
        assert_error(nono_proxy_start(cfg, &px), EINVAL, NONO_ERROR_INVALID); /* empty */
        CU_ASSERT(px == NULL);
        assert_error(nono_proxy_config_add_route(cfg, NULL), EINVAL, NONO_ERROR_INVALID);
        bad = rt;
        bad.size = 0;
        assert_error(nono_proxy_config_add_route(cfg, &bad), EINVAL, NONO_ERROR_INVALID);
        bad = rt;
        bad.upstream = "http://api.example.com";
        assert_error(nono_proxy_config_add_route(cfg, &bad), EINVAL, NONO_ERROR_INVALID);
        CU_ASSERT(strstr(nono_last_error(), "plain http") != NULL);
        bad = rt;
        bad.inject_mode = 7;
        assert_error(nono_proxy_config_add_route(cfg, &bad), EINVAL, NONO_ERROR_INVALID);
        bad = rt;
        bad.endpoint_rules = bad_rules;
        assert_error(nono_proxy_config_add_route(cfg, &bad), EINVAL, NONO_ERROR_INVALID);
        bad = rt;
        bad.env_var = "NOT-A-NAME";
        assert_error(nono_proxy_config_add_route(cfg, &bad), EINVAL, NONO_ERROR_INVALID);
        CU_ASSERT_EQUAL(nono_proxy_config_add_route(cfg, &rt), 0);
        rt.prefix = "/svc"; /* the same route */
        assert_error(nono_proxy_config_add_route(cfg, &rt), EEXIST, NONO_ERROR_INVALID);

        /* Valid, but the credential is nowhere. */
        unsetenv("NONO_SDK_TEST_ABSENT");
        assert_error(nono_proxy_start(cfg, &px), ENOENT, NONO_ERROR_CREDENTIAL);
        CU_ASSERT(strstr(nono_last_error(), "NONO_SDK_TEST_ABSENT") != NULL);
        assert_error(nono_proxy_start(NULL, &px), EINVAL, NONO_ERROR_INVALID);
        assert_error(nono_proxy_start(cfg, NULL), EINVAL, NONO_ERROR_INVALID);
        assert_error(nono_proxy_env(NULL, &list), EINVAL, NONO_ERROR_INVALID);
        assert_error(nono_proxy_credential_env(NULL, &list), EINVAL, NONO_ERROR_INVALID);
        assert_error(nono_proxy_port(NULL, &port), EINVAL, NONO_ERROR_INVALID);
        assert_error(nono_proxy_drain_audit(NULL, &list), EINVAL, NONO_ERROR_INVALID);
        assert_error(nono_proxy_shutdown(NULL), EINVAL, NONO_ERROR_INVALID);
        nono_proxy_free(NULL);
        nono_proxy_config_free(NULL);
        nono_strings_free(NULL);
        nono_proxy_config_free(cfg);
}

static int setup(void)
{
        return setenv("NONO_SDK_TEST_KEY", SECRET, 1);
}

static int cleanup(void)
{
        return unsetenv("NONO_SDK_TEST_KEY");
}

int main(void)
{
        static const struct test_case cases[] = {
            {"proxy_route_env_and_audit", test_proxy_route_env_and_audit},
            {"proxy_shutdown", test_proxy_shutdown},
            {"caps_use_proxy", test_caps_use_proxy},
            {"proxy_bad_arguments", test_proxy_bad_arguments},
        };

        return RUN_CUNIT("sdk-proxy", setup, cleanup, cases);
}
