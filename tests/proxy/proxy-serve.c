/* SPDX-License-Identifier: Apache-2.0 */
/*
 * proxy-serve CONFIG.json: runs the filtering proxy engine alone, for the integration
 * tests and the benchmark.  It listens on 127.0.0.1 (port 0: any free one), prints the
 * port on stdout, and serves until stdin is closed.  A tiny host writes audit events as
 * JSON lines to the config's "audit_file" and logs to stderr.
 *
 * Config: {"token", "session", "allowed_hosts": [..], "upstream_proxy", "upstream_bypass":
 * [..], "audit_file", "routes": [{"service", "upstream", "inject_mode": "header" |
 * "query_param" | "basic_auth", "inject_header", "credential_format", "tls_ca",
 * "endpoint_rules": [..], "secret_env": NAME (the secret's environment variable),
 * "phantom"}], "settings": {"max_connections", "head_timeout", "idle_timeout"}} (what
 * nono.conf's plugin section would hold).
 */

#include "proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_ITEMS 32

static FILE *audit_file;
static json_t *settings_json;
static char last_error[512];

static void host_log(void *ctx, int level, const char *fmt, ...) NONO_PRINTF(3, 4);
static void host_log(void *ctx, int level, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

static void host_set_error(void *ctx, const char *fmt, ...) NONO_PRINTF(2, 3);
static void host_set_error(void *ctx, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(last_error, sizeof(last_error), fmt, ap);
        va_end(ap);
}

static void *host_alloc(void *ctx, size_t size)
{
        return malloc(size);
}

static void host_free(void *ctx, void *ptr)
{
        free(ptr);
}

static void *host_secret_alloc(void *ctx, size_t size)
{
        return calloc(1, size);
}

/* The real host wipes and unlocks; this one only frees (it holds test secrets). */
static void host_secret_free(void *ctx, void *ptr)
{
        free(ptr);
}

/* One JSON line: {"time", "type", ...fields}, as the real host writes them. */
static int host_audit_event(void *ctx, const char *type, const char *json_fields)
{
        json_t *fields = json_loads(json_fields, 0, NULL);
        char *line;

        if (!fields || !json_is_object(fields)) {
                json_decref(fields);
                return -EINVAL;
        }
        json_object_set_new(fields, "time", json_integer((json_int_t)time(NULL)));
        json_object_set_new(fields, "type", json_string(type));
        line = json_dumps(fields, JSON_COMPACT);
        if (line && audit_file) {
                fprintf(audit_file, "%s\n", line);
                fflush(audit_file);
        }
        free(line);
        json_decref(fields);
        return 0;
}

static int host_config_int(void *ctx, const char *key, long long *ret_value)
{
        json_t *v = json_object_get(settings_json, key);

        if (!json_is_integer(v))
                return -ENOENT;
        *ret_value = json_integer_value(v);
        return 0;
}

static const struct nono_host host = {
    .size = sizeof(struct nono_host),
    .abi_major = NONO_PLUGIN_ABI_MAJOR,
    .abi_minor = NONO_PLUGIN_ABI_MINOR,
    .log = host_log,
    .set_error = host_set_error,
    .alloc = host_alloc,
    .free = host_free,
    .secret_alloc = host_secret_alloc,
    .secret_free = host_secret_free,
    .audit_event = host_audit_event,
    .config_int = host_config_int,
};

/* ---- the config ------------------------------------------------------------------------ */

static const char *str(json_t *obj, const char *key)
{
        return json_string_value(json_object_get(obj, key));
}

/* A JSON array of strings into out[] (at most MAX_ITEMS). */
static size_t strings(json_t *obj, const char *key, const char **out)
{
        json_t *arr = json_object_get(obj, key);
        size_t n = 0;

        for (size_t i = 0; i < json_array_size(arr) && n < MAX_ITEMS; i++)
                if (json_is_string(json_array_get(arr, i)))
                        out[n++] = json_string_value(json_array_get(arr, i));
        return n;
}

static uint32_t inject_mode(const char *name)
{
        if (name && strcmp(name, "query_param") == 0)
                return NONO_INJECT_QUERY_PARAM;
        if (name && strcmp(name, "basic_auth") == 0)
                return NONO_INJECT_BASIC_AUTH;
        return NONO_INJECT_HEADER;
}

static struct nono_credential_route routes[MAX_ITEMS];
static const struct nono_credential_route *route_ptrs[MAX_ITEMS];
static const char *rules[MAX_ITEMS][MAX_ITEMS];
static const char *phantoms[MAX_ITEMS];
static const char *allowed[MAX_ITEMS], *bypass[MAX_ITEMS];

static size_t load_routes(json_t *config)
{
        json_t *arr = json_object_get(config, "routes");
        size_t n = 0;

        for (; n < json_array_size(arr) && n < MAX_ITEMS; n++) {
                json_t *r = json_array_get(arr, n);
                const char *secret = getenv(str(r, "secret_env") ? str(r, "secret_env") : "");

                routes[n] = (struct nono_credential_route){
                    .size = sizeof(routes[n]),
                    .inject_mode = inject_mode(str(r, "inject_mode")),
                    .service = str(r, "service"),
                    .upstream = str(r, "upstream"),
                    .inject_header = str(r, "inject_header"),
                    .credential_format = str(r, "credential_format"),
                    .tls_ca = str(r, "tls_ca"),
                    .endpoint_rules = rules[n],
                    .n_endpoint_rules = strings(r, "endpoint_rules", rules[n]),
                    .secret = secret,
                    .secret_len = secret ? strlen(secret) : 0,
                };
                route_ptrs[n] = &routes[n];
                phantoms[n] = str(r, "phantom");
        }
        return n;
}

/* 127.0.0.1:0, listening with room for a thousand clients at once. */
static int listen_loopback(uint16_t *ret_port)
{
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof(sa);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4096) < 0 ||
            getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
                perror("proxy-serve: listen");
                exit(1);
        }
        *ret_port = ntohs(sa.sin_port);
        return fd;
}

static void raise_fd_limit(void)
{
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
                rl.rlim_cur = rl.rlim_max;
                setrlimit(RLIMIT_NOFILE, &rl);
        }
}

int main(int argc, char **argv)
{
        struct nono_plan plan = {.size = sizeof(plan), .network_mode = NONO_NETWORK_PROXY};
        struct proxy_settings settings = {.host = &host, .plan = &plan};
        struct proxy *p;
        json_t *config;
        uint16_t port;
        int fd, r;

        if (argc != 2) {
                fprintf(stderr, "usage: proxy-serve CONFIG.json\n");
                return 2;
        }
        config = json_load_file(argv[1], 0, NULL);
        if (!config) {
                fprintf(stderr, "proxy-serve: cannot read %s\n", argv[1]);
                return 1;
        }
        raise_fd_limit();
        settings_json = json_object_get(config, "settings");
        if (str(config, "audit_file"))
                audit_file = fopen(str(config, "audit_file"), "a");
        plan.allowed_hosts = allowed;
        plan.n_allowed_hosts = strings(config, "allowed_hosts", allowed);
        plan.upstream_proxy = str(config, "upstream_proxy");
        plan.upstream_bypass = bypass;
        plan.n_upstream_bypass = strings(config, "upstream_bypass", bypass);
        plan.session_id = str(config, "session");
        plan.routes = route_ptrs;
        plan.n_routes = load_routes(config);
        settings.token = str(config, "token");
        settings.phantoms = phantoms;

        r = proxy_new(&settings, &p);
        if (r < 0) {
                fprintf(stderr, "proxy-serve: %s\n", last_error);
                return 1;
        }
        fd = listen_loopback(&port);
        r = proxy_add_listener(p, fd);
        if (r < 0) {
                fprintf(stderr, "proxy-serve: %s\n", last_error);
                return 1;
        }
        printf("%u\n", port);
        fflush(stdout);
        r = proxy_run(p, STDIN_FILENO);
        if (r < 0)
                fprintf(stderr, "proxy-serve: %s\n", last_error);
        proxy_free(p);
        json_decref(config);
        if (audit_file)
                fclose(audit_file);
        return r < 0 ? 1 : 0;
}
