/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the proxy's request parser (plugins/network/filter-proxy/
 * http-parse.c): the head parser fed in two pieces (as slow clients do), then whatever
 * follows the head through the chunked-body decoder in small steps; the parsed host and
 * path also go through the policy checks that read them.  Checks the
 * parser's promises: a parsed head lies inside the input, its slices too, and the
 * body decoder never claims more bytes than it was given.
 */
#include "http-parse.h"
#include "policy.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void check_slice(struct http_slice s, const char *buf, size_t len)
{
        if (s.len && (s.p < buf || s.p + s.len > buf + len))
                abort();
}

static void feed_body(const char *body, size_t len, size_t step)
{
        struct http_chunked c = {0};
        bool done = false;
        size_t off = 0;

        while (off < len && !done) {
                size_t n = len - off < step ? len - off : step;
                ssize_t used = http_chunked_feed(&c, body + off, n, &done);

                if (used < 0)
                        return;
                if ((size_t)used > n || (!done && (size_t)used != n))
                        abort();
                off += (size_t)used;
        }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
        static struct http_request req;
        const char *buf = (const char *)data;
        size_t split = size ? data[0] % (size + 1) : 0;
        size_t scanned = 0;
        int r;

        r = http_parse_request(buf, split, &scanned, &req);
        if (r == 0)
                r = http_parse_request(buf, size, &scanned, &req);
        if (r <= 0)
                return 0;
        if ((size_t)r > size)
                abort();
        check_slice(req.method, buf, size);
        check_slice(req.target, buf, size);
        check_slice(req.path, buf, size);
        for (size_t i = 0; i < req.n_headers; i++) {
                check_slice(req.headers[i].name, buf, size);
                check_slice(req.headers[i].value, buf, size);
        }
        if (strlen(req.host) > HTTP_MAX_HOST)
                abort();
        if (req.host[0])
                (void)policy_check_host(NULL, 0, req.host);
        if (req.path.len)
                (void)policy_path_is_canonical(req.path.p, req.path.len);
        feed_body(buf + r, size - (size_t)r, 1 + (size % 7));
        return 0;
}
