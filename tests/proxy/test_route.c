/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Credential routes (route.c): the phantom check and where the secret goes, on parsed
 * requests, without sockets.  The integration tests cover the same through the proxy.
 */

#include "cunit-main.h"
#include "engine.h"

#include <event2/buffer.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECRET  "sk-real&secret="
#define PHANTOM "phantom-1234"

static char error[256];

static void fake_set_error(void *ctx, const char *fmt, ...) NONO_PRINTF(2, 3);
static void fake_set_error(void *ctx, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(error, sizeof(error), fmt, ap);
        va_end(ap);
}

static void *fake_alloc(void *ctx, size_t size)
{
        return malloc(size);
}

static void *fake_zalloc(void *ctx, size_t size)
{
        return calloc(1, size);
}

static void fake_free(void *ctx, void *ptr)
{
        free(ptr);
}

static const struct nono_host host = {
    .size = sizeof(struct nono_host),
    .set_error = fake_set_error,
    .alloc = fake_alloc,
    .free = fake_free,
    .secret_alloc = fake_zalloc,
    .secret_free = fake_free,
};

static struct proxy proxy = {.host = &host};

/* A route from its upstream, mode, header and format; NULL when route_init refuses. */
static struct route *make_route(const char *upstream, uint32_t mode, const char *header,
                                const char *format, const char *const *rules, size_t n_rules)
{
        static struct route r;
        struct nono_credential_route src = {
            .size = sizeof(src),
            .inject_mode = mode,
            .service = "svc",
            .upstream = upstream,
            .inject_header = header,
            .credential_format = format,
            .endpoint_rules = rules,
            .n_endpoint_rules = n_rules,
            .secret = SECRET,
            .secret_len = strlen(SECRET),
        };

        route_fini(&proxy, &r);
        memset(&r, 0, sizeof(r));
        return route_init(&proxy, &r, &src, PHANTOM) == 0 ? &r : NULL;
}

static char forwarded[4096];

/* The status route_forward_head gives `head`; the forwarded head lands in `forwarded`. */
static int forward(const struct route *r, const char *head)
{
        static struct http_request req;
        struct evbuffer *out = evbuffer_new();
        const char *reason = NULL;
        size_t scanned = 0, n;
        int status;

        CU_ASSERT_FATAL(http_parse_request(head, strlen(head), &scanned, &req) > 0);
        status = route_forward_head(r, &req, out, &reason);
        n = evbuffer_remove(out, forwarded, sizeof(forwarded) - 1);
        forwarded[n > 0 ? n : 0] = '\0';
        evbuffer_free(out);
        CU_ASSERT(status == 0 || reason != NULL);
        return status;
}

static size_t count(const char *haystack, const char *needle)
{
        size_t n = 0;

        for (const char *p = strstr(haystack, needle); p; p = strstr(p + 1, needle))
                n++;
        return n;
}

static void test_header_mode(void)
{
        const struct route *r = make_route("https://api.example.com/v1/", NONO_INJECT_HEADER, NULL,
                                           "Bearer {}", NULL, 0);

        CU_ASSERT_PTR_NOT_NULL_FATAL(r);
        CU_ASSERT_EQUAL(forward(r, "POST /svc/chat?x=1 HTTP/1.1\r\nHost: 127.0.0.1:9\r\n"
                                   "authorization: Bearer " PHANTOM "\r\nX-Other: " PHANTOM
                                   "\r\nProxy-Authorization: Basic x\r\nConnection: keep-alive\r\n"
                                   "Content-Length: 2\r\n\r\n"),
                        0);
        CU_ASSERT(
            strncmp(forwarded, "POST /v1/chat?x=1 HTTP/1.1\r\nHost: api.example.com\r\n", 50) == 0);
        CU_ASSERT_EQUAL(count(forwarded, "Authorization: Bearer " SECRET "\r\n"), 1);
        CU_ASSERT_EQUAL(count(forwarded, SECRET), 1);
        /* The phantom elsewhere is not swapped; proxy-only headers do not leave. */
        CU_ASSERT_EQUAL(count(forwarded, "X-Other: " PHANTOM "\r\n"), 1);
        CU_ASSERT_EQUAL(count(forwarded, "Proxy-Authorization"), 0);
        CU_ASSERT_EQUAL(count(forwarded, "keep-alive"), 0);
        CU_ASSERT_EQUAL(count(forwarded, "Content-Length: 2\r\n"), 1);
        CU_ASSERT(strstr(forwarded, "Connection: close\r\n\r\n") != NULL);

        CU_ASSERT_EQUAL(
            forward(r, "GET /svc HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer " PHANTOM "\r\n\r\n"),
            0);
        CU_ASSERT(strncmp(forwarded, "GET /v1/ HTTP/1.1\r\n", 19) == 0);
}

static void test_wrong_phantoms(void)
{
        const struct route *r =
            make_route("https://api.example.com", NONO_INJECT_HEADER, "X-Key", NULL, NULL, 0);
        static const char *const heads[] = {
            "GET /svc/a HTTP/1.1\r\nHost: a\r\n\r\n",
            "GET /svc/a HTTP/1.1\r\nHost: a\r\nX-Key: phantom-123\r\n\r\n",
            "GET /svc/a HTTP/1.1\r\nHost: a\r\nX-Key: phantom-12345\r\n\r\n",
            "GET /svc/a HTTP/1.1\r\nHost: a\r\nX-Key: Phantom-1234\r\n\r\n",
            "GET /svc/a HTTP/1.1\r\nHost: a\r\nX-Key: " PHANTOM "\r\nX-Key: " PHANTOM "\r\n\r\n",
            "GET /svc/a HTTP/1.1\r\nHost: a\r\nAuthorization: " PHANTOM "\r\n\r\n",
        };

        CU_ASSERT_PTR_NOT_NULL_FATAL(r);
        for (size_t i = 0; i < sizeof(heads) / sizeof(*heads); i++) {
                CU_ASSERT_EQUAL(forward(r, heads[i]), 401);
                CU_ASSERT_EQUAL(count(forwarded, SECRET), 0);
        }
        CU_ASSERT_EQUAL(forward(r, "GET /svc/a HTTP/1.1\r\nHost: a\r\nX-Key: " PHANTOM "\r\n\r\n"),
                        0);
        CU_ASSERT_EQUAL(count(forwarded, "X-Key: " SECRET "\r\n"), 1);
}

static void test_query_mode(void)
{
        const struct route *r =
            make_route("http://127.0.0.1:8080", NONO_INJECT_QUERY_PARAM, "key", NULL, NULL, 0);

        CU_ASSERT_PTR_NOT_NULL_FATAL(r);
        CU_ASSERT_EQUAL(
            forward(r, "GET /svc/a?b=1&key=" PHANTOM "&akey=2 HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
        /* Percent-encoded, so that '&' and '=' in a secret stay inside the value. */
        CU_ASSERT(
            strncmp(forwarded, "GET /a?b=1&key=sk-real%26secret%3D&akey=2 HTTP/1.1\r\n", 52) == 0);
        CU_ASSERT(strstr(forwarded, "Host: 127.0.0.1:8080\r\n") != NULL);
        CU_ASSERT_EQUAL(forward(r, "GET /svc/a?key=nope HTTP/1.1\r\nHost: a\r\n\r\n"), 401);
        CU_ASSERT_EQUAL(forward(r, "GET /svc/a?akey=" PHANTOM " HTTP/1.1\r\nHost: a\r\n\r\n"), 401);
        CU_ASSERT_EQUAL(forward(r, "GET /svc/a HTTP/1.1\r\nHost: a\r\n\r\n"), 401);
}

static void test_basic_mode(void)
{
        const struct route *r =
            make_route("https://h.example", NONO_INJECT_BASIC_AUTH, NULL, "user:{}", NULL, 0);

        CU_ASSERT_PTR_NOT_NULL_FATAL(r);
        /* base64("user:phantom-1234") */
        CU_ASSERT_EQUAL(forward(r, "GET /svc/a HTTP/1.1\r\nHost: a\r\n"
                                   "Authorization: Basic dXNlcjpwaGFudG9tLTEyMzQ=\r\n\r\n"),
                        0);
        /* base64("user:sk-real&secret=") */
        CU_ASSERT(strstr(forwarded, "Authorization: Basic dXNlcjpzay1yZWFsJnNlY3JldD0=\r\n") !=
                  NULL);
        /* base64("user:phantom-123") */
        CU_ASSERT_EQUAL(forward(r, "GET /svc/a HTTP/1.1\r\nHost: a\r\n"
                                   "Authorization: Basic dXNlcjpwaGFudG9tLTEyMw==\r\n\r\n"),
                        401);
        CU_ASSERT_EQUAL(forward(r, "GET /svc/a HTTP/1.1\r\nHost: a\r\n"
                                   "Authorization: Bearer " PHANTOM "\r\n\r\n"),
                        401);
}

static void test_endpoints_and_paths(void)
{
        static const char *const rules[] = {"GET:/v1/models", "POST:/v1/chat/*"};
        const struct route *r =
            make_route("https://h.example", NONO_INJECT_HEADER, NULL, NULL, rules, 2);
        const char *key = "\r\nHost: a\r\nAuthorization: " PHANTOM "\r\n\r\n";
        char head[256];

        CU_ASSERT_PTR_NOT_NULL_FATAL(r);
        snprintf(head, sizeof(head), "GET /svc/v1/models HTTP/1.1%s", key);
        CU_ASSERT_EQUAL(forward(r, head), 0);
        snprintf(head, sizeof(head), "POST /svc/v1/chat/x?y HTTP/1.1%s", key);
        CU_ASSERT_EQUAL(forward(r, head), 0);
        snprintf(head, sizeof(head), "DELETE /svc/v1/models HTTP/1.1%s", key);
        CU_ASSERT_EQUAL(forward(r, head), 403);
        snprintf(head, sizeof(head), "POST /svc/v1/chat/../../admin HTTP/1.1%s", key);
        CU_ASSERT_EQUAL(forward(r, head), 400);
        snprintf(head, sizeof(head), "GET /svc//v1/models HTTP/1.1%s", key);
        CU_ASSERT_EQUAL(forward(r, head), 400);
}

static void test_bad_routes(void)
{
        static const char *const bad_rule[] = {"GET/v1"};

        CU_ASSERT_PTR_NULL(
            make_route("http://api.example.com", NONO_INJECT_HEADER, NULL, NULL, NULL, 0));
        CU_ASSERT(strstr(error, "only allowed on loopback") != NULL);
        CU_ASSERT_PTR_NULL(make_route("ftp://x", NONO_INJECT_HEADER, NULL, NULL, NULL, 0));
        CU_ASSERT_PTR_NULL(make_route("https://x", NONO_INJECT_HEADER, NULL, "Bearer", NULL, 0));
        CU_ASSERT_PTR_NULL(make_route("https://x", NONO_INJECT_QUERY_PARAM, NULL, NULL, NULL, 0));
        CU_ASSERT_PTR_NULL(make_route("https://x", NONO_INJECT_HEADER, NULL, NULL, bad_rule, 1));
        CU_ASSERT(strstr(error, SECRET) == NULL);
        CU_ASSERT_PTR_NOT_NULL(
            make_route("http://localhost:1/", NONO_INJECT_HEADER, NULL, NULL, NULL, 0));
        CU_ASSERT_PTR_NOT_NULL(
            make_route("http://[::1]:1", NONO_INJECT_HEADER, NULL, NULL, NULL, 0));
}

static int cleanup(void)
{
        make_route("http://127.0.0.1", NONO_INJECT_HEADER, NULL, NULL, NULL, 0);
        return 0;
}

int main(void)
{
        static const struct test_case cases[] = {
            {"header mode", test_header_mode},
            {"wrong phantoms", test_wrong_phantoms},
            {"query mode", test_query_mode},
            {"basic mode", test_basic_mode},
            {"endpoints and paths", test_endpoints_and_paths},
            {"bad routes", test_bad_routes},
        };

        return RUN_CUNIT("proxy-route", NULL, cleanup, cases);
}
