/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ClientHello's server_name (RFC 8446 4.1.2 and 4.2, RFC 6066 section 3), read with
 * a bounds-checked cursor.  Anything that a TLS server could read differently from
 * this parser is refused rather than guessed at: a second server_name extension, a
 * second host_name, a name with bytes no host name has, lengths that disagree.
 */

#include "tls-hello.h"

#include <string.h>
#include <strings.h>

#define CONTENT_HANDSHAKE 22
#define HANDSHAKE_HELLO   1
#define RECORD_HEADER     5
#define RECORD_MAX        16384 /* 2^14, the largest TLSPlaintext fragment */
#define HANDSHAKE_HEADER  4
#define HANDSHAKE_MAX     16384 /* a ClientHello, header included; real ones are < 4 KiB */
#define EXT_SERVER_NAME   0
#define NAME_TYPE_HOST    0
#define SESSION_ID_MAX    32

/* A cursor over bytes not yet read. */
struct reader {
        const unsigned char *p;
        size_t left;
};

static bool take(struct reader *r, size_t n, const unsigned char **out)
{
        if (n > r->left)
                return false;
        if (out)
                *out = r->p;
        r->p += n;
        r->left -= n;
        return true;
}

static bool take_uint(struct reader *r, size_t bytes, size_t *value)
{
        const unsigned char *b;

        if (!take(r, bytes, &b))
                return false;
        *value = 0;
        for (size_t i = 0; i < bytes; i++)
                *value = *value << 8 | b[i];
        return true;
}

/* A vector with a `len_bytes` length prefix, as a reader of its own. */
static bool take_vector(struct reader *r, size_t len_bytes, struct reader *sub)
{
        size_t len;

        if (!take_uint(r, len_bytes, &len) || !take(r, len, &sub->p))
                return false;
        sub->left = len;
        return true;
}

static bool host_name_byte(unsigned char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '.' || c == '_';
}

/* The server_name extension's body: one host_name at most, copied into `name`. */
static bool read_server_name(struct reader ext, char *name, bool *found)
{
        struct reader list;

        if (!take_vector(&ext, 2, &list) || ext.left != 0 || list.left == 0)
                return false;
        while (list.left) {
                struct reader entry;
                size_t type;

                if (!take_uint(&list, 1, &type) || !take_vector(&list, 2, &entry))
                        return false;
                if (type != NAME_TYPE_HOST)
                        continue;
                if (*found || entry.left == 0 || entry.left > TLS_HELLO_NAME_MAX)
                        return false;
                for (size_t i = 0; i < entry.left; i++)
                        if (!host_name_byte(entry.p[i]))
                                return false;
                memcpy(name, entry.p, entry.left);
                name[entry.left] = '\0';
                *found = true;
        }
        return true;
}

/* The ClientHello body (after the handshake header). */
static enum tls_hello read_client_hello(struct reader r, char *name)
{
        struct reader session, suites, compression, exts;
        bool seen = false, found = false;

        if (!take(&r, 2 + 32, NULL) || !take_vector(&r, 1, &session) ||
            session.left > SESSION_ID_MAX || !take_vector(&r, 2, &suites) || suites.left < 2 ||
            suites.left % 2 || !take_vector(&r, 1, &compression) || compression.left < 1)
                return TLS_HELLO_MALFORMED;
        if (r.left == 0)
                return TLS_HELLO_NO_SNI; /* no extensions at all */
        if (!take_vector(&r, 2, &exts) || r.left != 0)
                return TLS_HELLO_MALFORMED;
        while (exts.left) {
                struct reader ext;
                size_t type;

                if (!take_uint(&exts, 2, &type) || !take_vector(&exts, 2, &ext))
                        return TLS_HELLO_MALFORMED;
                if (type != EXT_SERVER_NAME)
                        continue;
                if (seen || !read_server_name(ext, name, &found))
                        return TLS_HELLO_MALFORMED;
                seen = true;
        }
        return found ? TLS_HELLO_SNI : TLS_HELLO_NO_SNI;
}

static enum tls_hello need_more(size_t total, size_t *need)
{
        if (total > TLS_HELLO_MAX)
                return TLS_HELLO_MALFORMED;
        *need = total;
        return TLS_HELLO_NEED_MORE;
}

enum tls_hello tls_hello_server_name(const unsigned char *data, size_t len, char *name,
                                     size_t *need)
{
        /* The handshake message, reassembled from the records that carry it. */
        unsigned char hs[HANDSHAKE_MAX];
        size_t hs_len = 0, pos = 0;

        if (len == 0)
                return need_more(1, need);
        if (data[0] != CONTENT_HANDSHAKE || (len > 1 && data[1] != 3))
                return TLS_HELLO_NOT_TLS;
        for (;;) {
                size_t rlen, copy;

                if (hs_len >= 1 && hs[0] != HANDSHAKE_HELLO)
                        return TLS_HELLO_MALFORMED;
                if (hs_len >= HANDSHAKE_HEADER) {
                        size_t body = (size_t)hs[1] << 16 | (size_t)hs[2] << 8 | hs[3];
                        struct reader r = {hs + HANDSHAKE_HEADER, body};

                        if (HANDSHAKE_HEADER + body > sizeof(hs))
                                return TLS_HELLO_MALFORMED;
                        if (hs_len >= HANDSHAKE_HEADER + body)
                                return read_client_hello(r, name);
                }
                if (len - pos < RECORD_HEADER)
                        return need_more(pos + RECORD_HEADER, need);
                rlen = (size_t)data[pos + 3] << 8 | data[pos + 4];
                if (data[pos] != CONTENT_HANDSHAKE || data[pos + 1] != 3 || rlen == 0 ||
                    rlen > RECORD_MAX)
                        return TLS_HELLO_MALFORMED;
                if (len - pos - RECORD_HEADER < rlen)
                        return need_more(pos + RECORD_HEADER + rlen, need);
                /* Bytes past the hello (none, from real clients) need no room. */
                copy = rlen < sizeof(hs) - hs_len ? rlen : sizeof(hs) - hs_len;
                memcpy(hs + hs_len, data + pos + RECORD_HEADER, copy);
                hs_len += copy;
                pos += RECORD_HEADER + rlen;
        }
}

bool tls_hello_name_matches(const char *name, const char *host)
{
        size_t nlen = strlen(name), hlen = strlen(host);

        if (nlen > 1 && name[nlen - 1] == '.')
                nlen--;
        if (hlen > 1 && host[hlen - 1] == '.')
                hlen--;
        return nlen == hlen && strncasecmp(name, host, nlen) == 0;
}
