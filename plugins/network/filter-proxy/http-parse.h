/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A strict parser for HTTP/1.x request heads and chunked bodies, for a proxy that must
 * agree with every upstream on where a request ends.  Anything ambiguous is refused
 * rather than interpreted: bare LF or CR, NUL and other control bytes, obs-fold,
 * whitespace before a header colon, Content-Length together with Transfer-Encoding,
 * repeated Content-Length or Host, a Transfer-Encoding other than "chunked", a Host
 * that differs from the absolute-URI authority, a CONNECT target that is not host:port.
 */
#ifndef NONO_FILTER_PROXY_HTTP_PARSE_H
#define NONO_FILTER_PROXY_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HTTP_MAX_HEAD      16384 /* request line + headers + the blank line */
#define HTTP_MAX_HEADERS   100
#define HTTP_MAX_HOST      255
#define HTTP_MAX_METHOD    16
#define HTTP_MAX_CHUNK_EXT 4096 /* chunk extensions and trailers, per body */

enum http_target_form {
        HTTP_ORIGIN_FORM = 0,    /* GET /path?query */
        HTTP_ABSOLUTE_FORM = 1,  /* GET http://host[:port]/path?query (forward proxy) */
        HTTP_AUTHORITY_FORM = 2, /* CONNECT host:port */
};

struct http_slice {
        const char *p;
        size_t len;
};

struct http_header {
        struct http_slice name;
        struct http_slice value; /* without surrounding whitespace */
};

struct http_request {
        struct http_slice method;
        struct http_slice target;
        enum http_target_form form;
        int minor_version; /* HTTP/1.0 or HTTP/1.1 */
        /* Absolute and authority forms: the lowercase host (IPv6 without brackets). */
        char host[HTTP_MAX_HOST + 1];
        uint16_t port;
        /* Origin form: the target; absolute form: what follows the authority (may be
         * empty or start with '?'). */
        struct http_slice path;
        struct http_header headers[HTTP_MAX_HEADERS];
        size_t n_headers;
        size_t head_len;        /* bytes of the head, blank line included */
        int64_t content_length; /* -1: no Content-Length */
        bool chunked;
        bool connect; /* method CONNECT */
};

/*
 * Parses the request head at the start of buf[0, len).  `*scanned` (0 on the first call
 * for a request) remembers how far earlier calls looked, so that a client sending a byte
 * at a time costs linear work.  Returns the head length when a complete head was parsed
 * into *req (whose slices point into buf), 0 when more bytes are needed, or the negative
 * HTTP status that refuses it (-400, -431, -501, -505).
 */
int http_parse_request(const char *buf, size_t len, size_t *scanned, struct http_request *req);

/* The value of header `name` (case-insensitive), or NULL. */
const struct http_header *http_find_header(const struct http_request *req, const char *name);

/* Parses "host[:port]" or "[v6]:port" into lowercase host and port; `need_port`
 * refuses a missing port, else default_port is used.  0 or -1. */
int http_parse_authority(const char *p, size_t len, bool need_port, uint16_t default_port,
                         char host[HTTP_MAX_HOST + 1], uint16_t *ret_port);

/* The state of a chunked body being relayed: where it ends, not its content. */
struct http_chunked {
        int state;
        uint64_t remaining; /* bytes left in the current chunk */
        size_t digits;      /* hex digits of the current chunk size */
        size_t ext_bytes;   /* extension and trailer bytes so far */
};

/*
 * Feeds the next bytes of a chunked body.  Returns how many of them belong to the body
 * (the rest, if any, come after it) and sets *done when the body has ended; -1 when the
 * encoding is malformed.
 */
ssize_t http_chunked_feed(struct http_chunked *c, const char *buf, size_t len, bool *done);

#endif
