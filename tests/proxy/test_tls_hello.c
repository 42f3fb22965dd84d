/* SPDX-License-Identifier: Apache-2.0 */
/* The ClientHello server-name parser (tls-hello.h) on hand-built hellos. */

#include "cunit-main.h"
#include "tls-hello.h"

#include <string.h>

struct bytes {
        unsigned char b[8 * TLS_HELLO_MAX];
        size_t len;
};

static void put(struct bytes *o, const void *p, size_t n)
{
        memcpy(o->b + o->len, p, n);
        o->len += n;
}

static void put_u(struct bytes *o, size_t v, size_t width)
{
        for (size_t i = width; i > 0; i--) {
                unsigned char c = (unsigned char)(v >> (8 * (i - 1)));

                put(o, &c, 1);
        }
}

/* A server_name extension holding one entry per name (type 0 = host_name). */
static void put_sni(struct bytes *o, const char *const *names, size_t n)
{
        size_t list = 0;

        for (size_t i = 0; i < n; i++)
                list += 3 + strlen(names[i]);
        put_u(o, 0, 2);
        put_u(o, list + 2, 2);
        put_u(o, list, 2);
        for (size_t i = 0; i < n; i++) {
                put_u(o, 0, 1);
                put_u(o, strlen(names[i]), 2);
                put(o, names[i], strlen(names[i]));
        }
}

/* The ClientHello handshake message with the given extensions block (NULL: none). */
static void put_hello(struct bytes *o, const struct bytes *exts)
{
        static const unsigned char random[32];
        size_t body = 2 + 32 + 1 + 2 + 2 + 2 + (exts ? 2 + exts->len : 0);

        put_u(o, 1, 1);
        put_u(o, body, 3);
        put_u(o, 0x0303, 2);
        put(o, random, sizeof(random));
        put_u(o, 0, 1);      /* session id */
        put_u(o, 2, 2);      /* cipher suites */
        put_u(o, 0x1301, 2); /* TLS_AES_128_GCM_SHA256 */
        put_u(o, 1, 1);      /* compression methods */
        put_u(o, 0, 1);
        if (exts) {
                put_u(o, exts->len, 2);
                put(o, exts->b, exts->len);
        }
}

/* The handshake message in records of at most `fragment` bytes. */
static void put_records(struct bytes *o, const struct bytes *hs, size_t fragment)
{
        for (size_t off = 0; off < hs->len; off += fragment) {
                size_t n = hs->len - off < fragment ? hs->len - off : fragment;

                put_u(o, 22, 1);
                put_u(o, 0x0301, 2);
                put_u(o, n, 2);
                put(o, hs->b + off, n);
        }
}

static struct bytes exts, hs, wire;

static enum tls_hello parse_names(const char *const *names, size_t n, size_t fragment, char *name)
{
        static const unsigned char alpn[] = {0x00, 0x10, 0x00, 0x05, 0x00, 0x03, 'h', '2', '!'};
        size_t need;

        exts.len = hs.len = wire.len = 0;
        put(&exts, alpn, sizeof(alpn));
        if (names)
                put_sni(&exts, names, n);
        put_hello(&hs, &exts);
        put_records(&wire, &hs, fragment);
        return tls_hello_server_name(wire.b, wire.len, name, &need);
}

static void test_server_name(void)
{
        static const char *const one[] = {"API.example.com"};
        char name[TLS_HELLO_NAME_MAX + 1];

        CU_ASSERT_EQUAL(parse_names(one, 1, 16384, name), TLS_HELLO_SNI);
        CU_ASSERT_STRING_EQUAL(name, "API.example.com");
        /* Split into 1-byte and 7-byte records: the same answer. */
        CU_ASSERT_EQUAL(parse_names(one, 1, 1, name), TLS_HELLO_SNI);
        CU_ASSERT_STRING_EQUAL(name, "API.example.com");
        CU_ASSERT_EQUAL(parse_names(one, 1, 7, name), TLS_HELLO_SNI);
        CU_ASSERT_EQUAL(parse_names(NULL, 0, 16384, name), TLS_HELLO_NO_SNI);
        /* No extensions block at all. */
        hs.len = wire.len = 0;
        put_hello(&hs, NULL);
        put_records(&wire, &hs, 16384);
        {
                size_t need;

                CU_ASSERT_EQUAL(tls_hello_server_name(wire.b, wire.len, name, &need),
                                TLS_HELLO_NO_SNI);
        }
}

static void test_incomplete_hello(void)
{
        static const char *const one[] = {"a.example"};
        char name[TLS_HELLO_NAME_MAX + 1];
        size_t need = 0;

        parse_names(one, 1, 16384, name);
        for (size_t len = 1; len < wire.len; len++) {
                CU_ASSERT_EQUAL_FATAL(tls_hello_server_name(wire.b, len, name, &need),
                                      TLS_HELLO_NEED_MORE);
                CU_ASSERT(need > len && need <= wire.len);
        }
        CU_ASSERT_EQUAL(tls_hello_server_name(wire.b, 0, name, &need), TLS_HELLO_NEED_MORE);
}

static void test_refused_hellos(void)
{
        static const char *const two[] = {"a.example", "b.example"};
        static const char *const bad[] = {"a.example\x01"};
        static const char *const empty[] = {""};
        char name[TLS_HELLO_NAME_MAX + 1];
        size_t need;

        /* Two host_names, a name with a control byte, an empty name. */
        CU_ASSERT_EQUAL(parse_names(two, 2, 16384, name), TLS_HELLO_MALFORMED);
        CU_ASSERT_EQUAL(parse_names(bad, 1, 16384, name), TLS_HELLO_MALFORMED);
        CU_ASSERT_EQUAL(parse_names(empty, 1, 16384, name), TLS_HELLO_MALFORMED);
        /* Two server_name extensions. */
        exts.len = hs.len = wire.len = 0;
        put_sni(&exts, two, 1);
        put_sni(&exts, two + 1, 1);
        put_hello(&hs, &exts);
        put_records(&wire, &hs, 16384);
        CU_ASSERT_EQUAL(tls_hello_server_name(wire.b, wire.len, name, &need), TLS_HELLO_MALFORMED);
        /* An extension length past the end. */
        parse_names(two, 1, 16384, name);
        wire.b[wire.len - 3] = 0xff;
        CU_ASSERT_EQUAL(tls_hello_server_name(wire.b, wire.len, name, &need), TLS_HELLO_MALFORMED);
        /* A hello larger than the proxy reads. */
        exts.len = hs.len = wire.len = 0;
        put_u(&exts, 21, 2); /* padding */
        put_u(&exts, TLS_HELLO_MAX, 2);
        memset(exts.b + exts.len, 0, TLS_HELLO_MAX);
        exts.len += TLS_HELLO_MAX;
        put_hello(&hs, &exts);
        put_records(&wire, &hs, 16384);
        CU_ASSERT_EQUAL(tls_hello_server_name(wire.b, 100, name, &need), TLS_HELLO_NEED_MORE);
        CU_ASSERT_EQUAL(tls_hello_server_name(wire.b, wire.len, name, &need), TLS_HELLO_MALFORMED);
        /* Records too small to carry it within what the proxy reads. */
        wire.len = 0;
        put_records(&wire, &hs, 1);
        CU_ASSERT_EQUAL(tls_hello_server_name(wire.b, TLS_HELLO_MAX + 6, name, &need),
                        TLS_HELLO_MALFORMED);
        /* Another handshake message, another record type after the first. */
        CU_ASSERT_EQUAL(tls_hello_server_name((const unsigned char *)"\x16\x03\x01\x00\x01\x02", 6,
                                              name, &need),
                        TLS_HELLO_MALFORMED);
        parse_names(two, 1, 10, name);
        wire.b[15] = 23;
        CU_ASSERT_EQUAL(tls_hello_server_name(wire.b, wire.len, name, &need), TLS_HELLO_MALFORMED);
}

static void test_not_tls(void)
{
        char name[TLS_HELLO_NAME_MAX + 1];
        size_t need;

        CU_ASSERT_EQUAL(
            tls_hello_server_name((const unsigned char *)"GET / HTTP/1.1", 14, name, &need),
            TLS_HELLO_NOT_TLS);
        CU_ASSERT_EQUAL(tls_hello_server_name((const unsigned char *)"SSH-2.0", 7, name, &need),
                        TLS_HELLO_NOT_TLS);
        CU_ASSERT_EQUAL(tls_hello_server_name((const unsigned char *)"\x16\x01", 2, name, &need),
                        TLS_HELLO_NOT_TLS);
}

static void test_name_matching(void)
{
        CU_ASSERT(tls_hello_name_matches("API.Example.com", "api.example.com"));
        CU_ASSERT(tls_hello_name_matches("api.example.com.", "api.example.com"));
        CU_ASSERT_FALSE(tls_hello_name_matches("api.example.com..", "api.example.com"));
        CU_ASSERT_FALSE(tls_hello_name_matches("evil.example.com", "api.example.com"));
        CU_ASSERT_FALSE(tls_hello_name_matches("api.example.co", "api.example.com"));
        CU_ASSERT_FALSE(tls_hello_name_matches("localhost", "127.0.0.1"));
}

int main(void)
{
        static const struct test_case cases[] = {
            {"server name, whole and fragmented", test_server_name},
            {"incomplete hellos ask for more", test_incomplete_hello},
            {"ambiguous or oversized hellos", test_refused_hellos},
            {"other protocols", test_not_tls},
            {"name matching", test_name_matching},
        };
        return RUN_CUNIT("tls-hello", NULL, NULL, cases);
}
