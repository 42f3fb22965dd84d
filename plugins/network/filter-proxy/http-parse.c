/* SPDX-License-Identifier: Apache-2.0 */
/* The strict request parser: see http-parse.h. */

#include "http-parse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* RFC 9110 tchar. */
static bool is_tchar(unsigned char c)
{
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

/* Field values: visible ASCII, obs-text, space and tab; never other control bytes. */
static bool is_value_char(unsigned char c)
{
        return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static bool slice_is(struct http_slice s, const char *word)
{
        return s.len == strlen(word) && strncasecmp(s.p, word, s.len) == 0;
}

/*
 * Looks for the blank line ending the head, from where the last call stopped.  Refuses a
 * LF without CR or a CR without LF, NUL, and heads past HTTP_MAX_HEAD on the way, so
 * that a client cannot make the proxy wait for a head it will refuse anyway.
 */
static int find_head_end(const char *buf, size_t len, size_t *scanned, size_t *ret_end)
{
        size_t i = *scanned;

        for (; i < len && i < HTTP_MAX_HEAD; i++) {
                unsigned char c = (unsigned char)buf[i];

                if (c == '\0')
                        return -400;
                if (c == '\n' && (i == 0 || buf[i - 1] != '\r'))
                        return -400;
                if (i > 0 && buf[i - 1] == '\r' && c != '\n')
                        return -400;
                if (c == '\n' && i >= 3 && buf[i - 2] == '\n') {
                        *ret_end = i + 1;
                        return 1;
                }
        }
        *scanned = i;
        return i >= HTTP_MAX_HEAD ? -431 : 0;
}

static bool is_name_char(unsigned char c)
{
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               c == '-' || c == '.' || c == '_';
}

static bool is_v6_char(unsigned char c)
{
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
               c == ':' || c == '.';
}

/* A decimal port 1..65535, without sign or leading garbage. */
static int parse_port(const char *p, size_t len, uint16_t *ret_port)
{
        unsigned long port = 0;

        if (len == 0 || len > 5)
                return -1;
        for (size_t i = 0; i < len; i++) {
                if (p[i] < '0' || p[i] > '9')
                        return -1;
                port = port * 10 + (unsigned long)(p[i] - '0');
        }
        if (port == 0 || port > 65535)
                return -1;
        *ret_port = (uint16_t)port;
        return 0;
}

int http_parse_authority(const char *p, size_t len, bool need_port, uint16_t default_port,
                         char host[HTTP_MAX_HOST + 1], uint16_t *ret_port)
{
        const char *h = p, *rest;
        size_t hlen;

        if (len > 0 && p[0] == '[') {
                const char *close = memchr(p, ']', len);

                if (!close)
                        return -1;
                h = p + 1;
                hlen = (size_t)(close - h);
                rest = close + 1;
                for (size_t i = 0; i < hlen; i++)
                        if (!is_v6_char((unsigned char)h[i]))
                                return -1;
        } else {
                const char *colon = memchr(p, ':', len);

                hlen = colon ? (size_t)(colon - p) : len;
                rest = p + hlen;
                for (size_t i = 0; i < hlen; i++)
                        if (!is_name_char((unsigned char)h[i]))
                                return -1;
                /* One trailing dot names the same host; more, or a lone dot, do not. */
                if (hlen > 1 && h[hlen - 1] == '.')
                        hlen--;
                if (hlen > 0 && h[hlen - 1] == '.')
                        return -1;
        }
        if (hlen == 0 || hlen > HTTP_MAX_HOST)
                return -1;
        for (size_t i = 0; i < hlen; i++)
                host[i] = (char)((h[i] >= 'A' && h[i] <= 'Z') ? h[i] + ('a' - 'A') : h[i]);
        host[hlen] = '\0';

        if (rest == p + len) {
                *ret_port = default_port;
                return need_port ? -1 : 0;
        }
        if (*rest != ':')
                return -1;
        return parse_port(rest + 1, (size_t)(p + len - rest - 1), ret_port);
}

/* "METHOD SP target SP HTTP/1.x": single spaces, a token method, visible-ASCII target. */
static int parse_request_line(const char *line, size_t len, struct http_request *req)
{
        const char *sp1 = memchr(line, ' ', len), *sp2;
        const char *version;

        if (!sp1 || sp1 == line || (size_t)(sp1 - line) > HTTP_MAX_METHOD)
                return -400;
        req->method = (struct http_slice){line, (size_t)(sp1 - line)};
        for (size_t i = 0; i < req->method.len; i++)
                if (!is_tchar((unsigned char)line[i]))
                        return -400;
        sp2 = memchr(sp1 + 1, ' ', (size_t)(line + len - sp1 - 1));
        if (!sp2 || sp2 == sp1 + 1)
                return -400;
        req->target = (struct http_slice){sp1 + 1, (size_t)(sp2 - sp1 - 1)};
        for (size_t i = 0; i < req->target.len; i++) {
                unsigned char c = (unsigned char)req->target.p[i];
                if (c <= 0x20 || c >= 0x7f)
                        return -400;
        }
        version = sp2 + 1;
        /* "HTTP/d.d": a version we do not speak is 505, anything else is not HTTP. */
        if ((size_t)(line + len - version) != 8 || memcmp(version, "HTTP/", 5) != 0 ||
            version[5] < '0' || version[5] > '9' || version[6] != '.' || version[7] < '0' ||
            version[7] > '9')
                return -400;
        if (version[5] != '1' || version[7] > '1')
                return -505;
        req->minor_version = version[7] - '0';
        req->connect = slice_is(req->method, "CONNECT");
        return 0;
}

/* Sorts the target into its form; absolute URIs must be http:// (https goes by CONNECT). */
static int parse_target(struct http_request *req)
{
        struct http_slice t = req->target;
        static const char scheme[] = "http://";
        const char *auth, *end;

        if (req->connect) {
                req->form = HTTP_AUTHORITY_FORM;
                req->path = (struct http_slice){NULL, 0};
                return http_parse_authority(t.p, t.len, true, 0, req->host, &req->port) < 0 ? -400
                                                                                            : 0;
        }
        if (t.p[0] == '/') {
                req->form = HTTP_ORIGIN_FORM;
                req->path = t;
                return 0;
        }
        if (t.len < sizeof(scheme) - 1 || strncasecmp(t.p, scheme, sizeof(scheme) - 1) != 0)
                return -400;
        req->form = HTTP_ABSOLUTE_FORM;
        auth = t.p + sizeof(scheme) - 1;
        for (end = auth; end < t.p + t.len && *end != '/' && *end != '?'; end++)
                if (*end == '@' || *end == '#')
                        return -400; /* userinfo or a fragment: never needed, often a trick */
        if (http_parse_authority(auth, (size_t)(end - auth), false, 80, req->host, &req->port) < 0)
                return -400;
        req->path = (struct http_slice){end, (size_t)(t.p + t.len - end)};
        return 0;
}

/* "name: value" with no whitespace before the colon and no folding. */
static int parse_header_line(const char *line, size_t len, struct http_header *h)
{
        const char *colon = memchr(line, ':', len);
        const char *v, *end = line + len;

        if (!colon || colon == line)
                return -400;
        for (const char *c = line; c < colon; c++)
                if (!is_tchar((unsigned char)*c))
                        return -400;
        for (v = colon + 1; v < end; v++)
                if (!is_value_char((unsigned char)*v))
                        return -400;
        for (v = colon + 1; v < end && (*v == ' ' || *v == '\t'); v++)
                ;
        while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
                end--;
        h->name = (struct http_slice){line, (size_t)(colon - line)};
        h->value = (struct http_slice){v, (size_t)(end - v)};
        return 0;
}

const struct http_header *http_find_header(const struct http_request *req, const char *name)
{
        for (size_t i = 0; i < req->n_headers; i++)
                if (slice_is(req->headers[i].name, name))
                        return &req->headers[i];
        return NULL;
}

static size_t count_headers(const struct http_request *req, const char *name)
{
        size_t n = 0;

        for (size_t i = 0; i < req->n_headers; i++)
                n += slice_is(req->headers[i].name, name);
        return n;
}

/* Digits only, at most 18 of them (no sign, no list, no overflow). */
static int parse_content_length(struct http_slice v, int64_t *ret)
{
        int64_t n = 0;

        if (v.len == 0 || v.len > 18)
                return -1;
        for (size_t i = 0; i < v.len; i++) {
                if (v.p[i] < '0' || v.p[i] > '9')
                        return -1;
                n = n * 10 + (v.p[i] - '0');
        }
        *ret = n;
        return 0;
}

/* Where the body ends, decided once, in the one way every upstream agrees with. */
static int check_framing(struct http_request *req)
{
        const struct http_header *cl = http_find_header(req, "Content-Length");
        const struct http_header *te = http_find_header(req, "Transfer-Encoding");

        req->content_length = -1;
        req->chunked = false;
        if (count_headers(req, "Content-Length") > 1 || count_headers(req, "Transfer-Encoding") > 1)
                return -400;
        if (cl && te)
                return -400;
        if (te) {
                if (req->minor_version == 0)
                        return -400;
                if (!slice_is(te->value, "chunked"))
                        return -501;
                req->chunked = true;
        }
        if (cl && parse_content_length(cl->value, &req->content_length) < 0)
                return -400;
        if (req->connect && (cl || te))
                return -400;
        return 0;
}

/* One Host, naming the same authority as an absolute or authority-form target. */
static int check_host(const struct http_request *req)
{
        const struct http_header *h = http_find_header(req, "Host");
        char host[HTTP_MAX_HOST + 1];
        uint16_t port;

        if (count_headers(req, "Host") > 1)
                return -400;
        if (!h)
                return req->minor_version == 1 && !req->connect ? -400 : 0;
        if (http_parse_authority(h->value.p, h->value.len, false,
                                 req->form == HTTP_AUTHORITY_FORM ? req->port : 80, host,
                                 &port) < 0)
                return -400;
        if (req->form != HTTP_ORIGIN_FORM && (strcmp(host, req->host) != 0 || port != req->port))
                return -400;
        return 0;
}

int http_parse_request(const char *buf, size_t len, size_t *scanned, struct http_request *req)
{
        size_t end = 0;
        const char *line, *eol, *stop;
        int r;

        r = find_head_end(buf, len, scanned, &end);
        if (r <= 0)
                return r;
        memset(req, 0, sizeof(*req));
        req->head_len = end;
        stop = buf + end - 2; /* the final CRLF */

        line = buf;
        eol = memchr(line, '\r', (size_t)(stop - line));
        if (!eol || eol == line)
                return -400;
        r = parse_request_line(line, (size_t)(eol - line), req);
        if (r < 0)
                return r;
        r = parse_target(req);
        if (r < 0)
                return r;
        for (line = eol + 2; line < stop; line = eol + 2) {
                eol = memchr(line, '\r', (size_t)(stop - line));
                if (line[0] == ' ' || line[0] == '\t')
                        return -400; /* obs-fold */
                if (req->n_headers == HTTP_MAX_HEADERS)
                        return -431;
                r = parse_header_line(line, (size_t)(eol - line), &req->headers[req->n_headers]);
                if (r < 0)
                        return r;
                req->n_headers++;
        }
        r = check_framing(req);
        if (r < 0)
                return r;
        r = check_host(req);
        if (r < 0)
                return r;
        return (int)end;
}

/* ---- chunked bodies ---------------------------------------------------------------------- */

enum {
        CH_SIZE = 0, /* hex digits */
        CH_EXT,      /* ";ext" up to CR */
        CH_SIZE_LF,  /* LF after the size line */
        CH_DATA,     /* chunk data */
        CH_DATA_CR,  /* CR after data */
        CH_DATA_LF,  /* LF after data */
        CH_TRAILER,  /* start of a trailer line (or the final CRLF) */
        CH_TRAILER_LINE,
        CH_TRAILER_LF,
        CH_END_LF,
        CH_DONE,
};

static int hex_value(unsigned char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* One byte outside chunk data; 0 or -1. */
static int chunked_step(struct http_chunked *c, unsigned char b)
{
        switch (c->state) {
        case CH_SIZE:
                if (hex_value(b) >= 0) {
                        if (++c->digits > 15)
                                return -1;
                        c->remaining = c->remaining * 16 + (uint64_t)hex_value(b);
                        return 0;
                }
                if (c->digits == 0)
                        return -1;
                if (b == ';') {
                        c->state = CH_EXT;
                        return 0;
                }
                if (b != '\r')
                        return -1;
                c->state = CH_SIZE_LF;
                return 0;
        case CH_EXT:
                if (++c->ext_bytes > HTTP_MAX_CHUNK_EXT || (b != '\r' && !is_value_char(b)))
                        return -1;
                if (b == '\r')
                        c->state = CH_SIZE_LF;
                return 0;
        case CH_SIZE_LF:
                if (b != '\n')
                        return -1;
                c->state = c->remaining ? CH_DATA : CH_TRAILER;
                c->digits = 0;
                return 0;
        case CH_DATA_CR:
                if (b != '\r')
                        return -1;
                c->state = CH_DATA_LF;
                return 0;
        case CH_DATA_LF:
                if (b != '\n')
                        return -1;
                c->state = CH_SIZE;
                return 0;
        case CH_TRAILER:
                c->state = b == '\r' ? CH_END_LF : CH_TRAILER_LINE;
                return c->state == CH_TRAILER_LINE && !is_tchar(b) ? -1 : 0;
        case CH_TRAILER_LINE:
                if (++c->ext_bytes > HTTP_MAX_CHUNK_EXT || (b != '\r' && !is_value_char(b)))
                        return -1;
                if (b == '\r')
                        c->state = CH_TRAILER_LF;
                return 0;
        case CH_TRAILER_LF:
                if (b != '\n')
                        return -1;
                c->state = CH_TRAILER;
                return 0;
        case CH_END_LF:
                if (b != '\n')
                        return -1;
                c->state = CH_DONE;
                return 0;
        default:
                return -1;
        }
}

ssize_t http_chunked_feed(struct http_chunked *c, const char *buf, size_t len, bool *done)
{
        size_t i = 0;

        while (i < len && c->state != CH_DONE) {
                if (c->state == CH_DATA) {
                        size_t n = len - i < c->remaining ? len - i : (size_t)c->remaining;

                        i += n;
                        c->remaining -= n;
                        if (c->remaining == 0)
                                c->state = CH_DATA_CR;
                        continue;
                }
                if (chunked_step(c, (unsigned char)buf[i]) < 0)
                        return -1;
                i++;
        }
        *done = c->state == CH_DONE;
        return (ssize_t)i;
}
