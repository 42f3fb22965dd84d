/* SPDX-License-Identifier: Apache-2.0 */
/* The strict request parser (http-parse.h): what it accepts, and every shape it refuses. */

#include "cunit-main.h"
#include "http-parse.h"

#include <stdio.h>
#include <string.h>

static struct http_request req;

/* Parses a whole head in one call. */
static int parse(const char *text)
{
        size_t scanned = 0;

        return http_parse_request(text, strlen(text), &scanned, &req);
}

static bool slice_eq(struct http_slice s, const char *text)
{
        return s.len == strlen(text) && memcmp(s.p, text, s.len) == 0;
}

static void test_origin_form(void)
{
        const char *text = "GET /openai/v1/models?x=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
                           "Authorization:  Bearer abc \r\n\r\nBODY";

        CU_ASSERT_EQUAL(parse(text), (int)(strlen(text) - 4));
        CU_ASSERT_EQUAL(req.form, HTTP_ORIGIN_FORM);
        CU_ASSERT(slice_eq(req.method, "GET"));
        CU_ASSERT(slice_eq(req.path, "/openai/v1/models?x=1"));
        CU_ASSERT_EQUAL(req.minor_version, 1);
        CU_ASSERT_EQUAL(req.n_headers, 2);
        CU_ASSERT(slice_eq(http_find_header(&req, "authorization")->value, "Bearer abc"));
        CU_ASSERT_EQUAL(req.content_length, -1);
        CU_ASSERT_FALSE(req.chunked);
}

static void test_absolute_form(void)
{
        CU_ASSERT(parse("GET http://Example.COM./a?b HTTP/1.1\r\nHost: example.com\r\n\r\n") > 0);
        CU_ASSERT_EQUAL(req.form, HTTP_ABSOLUTE_FORM);
        CU_ASSERT_STRING_EQUAL(req.host, "example.com");
        CU_ASSERT_EQUAL(req.port, 80);
        CU_ASSERT(slice_eq(req.path, "/a?b"));

        CU_ASSERT(parse("POST http://[::1]:8080 HTTP/1.0\r\nContent-Length: 3\r\n\r\n") > 0);
        CU_ASSERT_STRING_EQUAL(req.host, "::1");
        CU_ASSERT_EQUAL(req.port, 8080);
        CU_ASSERT_EQUAL(req.path.len, 0);
        CU_ASSERT_EQUAL(req.content_length, 3);
}

static void test_connect(void)
{
        CU_ASSERT(parse("CONNECT api.example.com:443 HTTP/1.1\r\nHost: api.example.com:443\r\n"
                        "Proxy-Authorization: Basic eA==\r\n\r\n") > 0);
        CU_ASSERT(req.connect);
        CU_ASSERT_EQUAL(req.form, HTTP_AUTHORITY_FORM);
        CU_ASSERT_STRING_EQUAL(req.host, "api.example.com");
        CU_ASSERT_EQUAL(req.port, 443);
        /* No Host at all is fine for CONNECT. */
        CU_ASSERT(parse("CONNECT [fe80::1]:22 HTTP/1.1\r\n\r\n") > 0);
        CU_ASSERT_STRING_EQUAL(req.host, "fe80::1");
}

static void test_chunked_request(void)
{
        CU_ASSERT(parse("POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n") > 0);
        CU_ASSERT(req.chunked);
        CU_ASSERT_EQUAL(req.content_length, -1);
}

static void test_incremental(void)
{
        const char *text = "GET /a HTTP/1.1\r\nHost: a\r\n\r\n";
        size_t scanned = 0;

        for (size_t n = 1; n < strlen(text); n++)
                CU_ASSERT_EQUAL(http_parse_request(text, n, &scanned, &req), 0);
        CU_ASSERT_EQUAL(http_parse_request(text, strlen(text), &scanned, &req), (int)strlen(text));
}

/* Each of these gets the status given, never a parse. */
static void test_refusals(void)
{
        static const struct {
                const char *head;
                int status;
        } cases[] = {
            {"GET /a HTTP/1.1\nHost: a\r\n\r\n", -400},                       /* bare LF */
            {"GET /a HTTP/1.1\r\nHost: a\rX\r\n\r\n", -400},                  /* bare CR */
            {"GET /a HTTP/1.1\r\nHost: a\r\nX: 1\r\n  folded\r\n\r\n", -400}, /* obs-fold */
            {"GET /a HTTP/1.1\r\nHost : a\r\n\r\n", -400},           /* space before colon */
            {"GET /a HTTP/1.1\r\nHost: a\r\nX: \x01\r\n\r\n", -400}, /* control byte */
            {"GET  /a HTTP/1.1\r\nHost: a\r\n\r\n", -400},           /* double space */
            {"GET /a HTTP/1.1 \r\nHost: a\r\n\r\n", -400},
            {"G(T /a HTTP/1.1\r\nHost: a\r\n\r\n", -400}, /* method not a token */
            {"GET /a HTTP/2.0\r\nHost: a\r\n\r\n", -505},
            {"GET /a HTTP/1.2\r\nHost: a\r\n\r\n", -505},
            {"GET /a FOO/1.1\r\nHost: a\r\n\r\n", -400},
            {"GET /a HTTP/1.1\r\n\r\n", -400}, /* HTTP/1.1 without Host */
            {"GET /a HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", -400},
            {"GET /a HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", -400},
            {"GET http://a/ HTTP/1.1\r\nHost: b\r\n\r\n", -400},    /* Host != authority */
            {"GET http://a:81/ HTTP/1.1\r\nHost: a\r\n\r\n", -400}, /* port differs */
            {"GET https://a/ HTTP/1.1\r\nHost: a\r\n\r\n", -400},   /* https: use CONNECT */
            {"GET http://u@a/ HTTP/1.1\r\nHost: a\r\n\r\n", -400},  /* userinfo */
            {"GET http://a b/ HTTP/1.1\r\nHost: a\r\n\r\n", -400},
            {"GET * HTTP/1.1\r\nHost: a\r\n\r\n", -400},
            {"POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: "
             "chunked\r\n\r\n",
             -400},
            {"POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", -400},
            {"POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 1\r\n\r\n", -400},
            {"POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", -400},
            {"POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n", -400},
            {"POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", -501},
            {"POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
             "Transfer-Encoding: chunked\r\n\r\n",
             -400},
            {"POST /a HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", -400},
            {"CONNECT a HTTP/1.1\r\n\r\n", -400}, /* no port */
            {"CONNECT a:0 HTTP/1.1\r\n\r\n", -400},
            {"CONNECT a:65536 HTTP/1.1\r\n\r\n", -400},
            {"CONNECT a:443/x HTTP/1.1\r\n\r\n", -400},
            {"CONNECT /a HTTP/1.1\r\n\r\n", -400},
            {"CONNECT a:443 HTTP/1.1\r\nHost: b:443\r\n\r\n", -400},
            {"CONNECT a:443 HTTP/1.1\r\nContent-Length: 0\r\n\r\n", -400},
            {"CONNECT a..:443 HTTP/1.1\r\n\r\n", -400},
            {"CONNECT [::1:443 HTTP/1.1\r\n\r\n", -400},
            {"\r\n\r\n", -400},
        };
        char name[64];

        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
                size_t scanned = 0;
                int r = http_parse_request(cases[i].head, strlen(cases[i].head), &scanned, &req);

                snprintf(name, sizeof(name), "case %zu", i);
                if (r != cases[i].status)
                        fprintf(stderr, "%s: got %d, want %d\n", name, r, cases[i].status);
                CU_ASSERT_EQUAL(r, cases[i].status);
        }
}

static void test_nul(void)
{
        static const char head[] = "GET /a HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n";
        size_t scanned = 0;

        CU_ASSERT_EQUAL(http_parse_request(head, sizeof(head) - 1, &scanned, &req), -400);
}

static void test_limits(void)
{
        static char big[HTTP_MAX_HEAD + 64];
        size_t n;

        /* An endless header: refused as soon as the head passes the limit. */
        n = (size_t)snprintf(big, sizeof(big), "GET /a HTTP/1.1\r\nHost: a\r\nX: ");
        memset(big + n, 'a', sizeof(big) - n - 1);
        CU_ASSERT_EQUAL(parse(big), -431);

        /* Too many headers. */
        n = (size_t)snprintf(big, sizeof(big), "GET /a HTTP/1.1\r\nHost: a\r\n");
        for (int i = 0; i < HTTP_MAX_HEADERS + 1; i++)
                n += (size_t)snprintf(big + n, sizeof(big) - n, "X%d: y\r\n", i);
        snprintf(big + n, sizeof(big) - n, "\r\n");
        CU_ASSERT_EQUAL(parse(big), -431);
}

static void test_authority(void)
{
        char host[HTTP_MAX_HOST + 1];
        uint16_t port = 0;

        CU_ASSERT_EQUAL(http_parse_authority("A.b:8080", 8, true, 0, host, &port), 0);
        CU_ASSERT_STRING_EQUAL(host, "a.b");
        CU_ASSERT_EQUAL(port, 8080);
        CU_ASSERT_EQUAL(http_parse_authority("a.b", 3, false, 443, host, &port), 0);
        CU_ASSERT_EQUAL(port, 443);
        CU_ASSERT_EQUAL(http_parse_authority("a.b", 3, true, 0, host, &port), -1);
        CU_ASSERT_EQUAL(http_parse_authority("a:+80", 5, true, 0, host, &port), -1);
        CU_ASSERT_EQUAL(http_parse_authority(":80", 3, true, 0, host, &port), -1);
        CU_ASSERT_EQUAL(http_parse_authority("[::1]x", 6, false, 80, host, &port), -1);
        CU_ASSERT_EQUAL(http_parse_authority("a%2e:80", 7, true, 0, host, &port), -1);
}

/* Feeds `body` in pieces of `step` bytes; returns the body length found, or -1. */
static ssize_t chunked_length(const char *body, size_t step)
{
        struct http_chunked c = {0};
        size_t len = strlen(body), off = 0;
        bool done = false;

        while (off < len && !done) {
                size_t n = len - off < step ? len - off : step;
                ssize_t used = http_chunked_feed(&c, body + off, n, &done);

                if (used < 0)
                        return -1;
                off += (size_t)used;
                if (!done && (size_t)used != n)
                        return -1;
        }
        return done ? (ssize_t)off : -2;
}

static void test_chunked_body(void)
{
        const char *body = "5;ext=1\r\nhello\r\n10\r\n0123456789abcdef\r\n0\r\nTrailer: x\r\n\r\n";
        char with_next[256];

        for (size_t step = 1; step <= strlen(body); step++)
                CU_ASSERT_EQUAL(chunked_length(body, step), (ssize_t)strlen(body));
        /* What follows the body is not part of it (a smuggled second request). */
        snprintf(with_next, sizeof(with_next), "%sGET /admin HTTP/1.1\r\n\r\n", body);
        CU_ASSERT_EQUAL(chunked_length(with_next, 1000), (ssize_t)strlen(body));

        CU_ASSERT_EQUAL(chunked_length("0\r\n\r\n", 1), 5);
        CU_ASSERT_EQUAL(chunked_length("x\r\n", 10), -1);
        CU_ASSERT_EQUAL(chunked_length("5\nhello\r\n0\r\n\r\n", 10), -1);
        CU_ASSERT_EQUAL(chunked_length("5\r\nhelloX\r\n0\r\n\r\n", 100), -1);
        CU_ASSERT_EQUAL(chunked_length("-5\r\nhello\r\n", 100), -1);
        CU_ASSERT_EQUAL(chunked_length("1234567890abcdef0\r\n", 100), -1); /* overflow */
        CU_ASSERT_EQUAL(chunked_length("5\r\nhel", 100), -2);              /* incomplete */
}

int main(void)
{
        static const struct test_case cases[] = {
            {"origin form", test_origin_form},
            {"absolute form", test_absolute_form},
            {"connect", test_connect},
            {"chunked request", test_chunked_request},
            {"a byte at a time", test_incremental},
            {"refusals", test_refusals},
            {"NUL", test_nul},
            {"limits", test_limits},
            {"authority", test_authority},
            {"chunked body", test_chunked_body},
        };

        return RUN_CUNIT("http-parse", NULL, NULL, cases);
}
