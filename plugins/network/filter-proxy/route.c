/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Credential routes: http://127.0.0.1:PORT/<service>/rest is forwarded to the route's
 * upstream with the real secret where the child put its phantom token.  The phantom is
 * checked in constant time before anything is forwarded; only the one place the route
 * injects into is rewritten, so a phantom anywhere else reaches the upstream unchanged.
 */

#include "engine.h"
#include "policy.h"

#include <errno.h>
#include <event2/buffer.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>
#include <strings.h>

static char *dup_secret(struct proxy *p, const char *s, size_t len)
{
        char *copy = p->host->secret_alloc(p->host->ctx, len + 1);

        if (copy)
                memcpy(copy, s, len);
        return copy;
}

static char *dup_plain(struct proxy *p, const char *s, size_t len)
{
        char *copy = proxy_zalloc(p, len + 1);

        if (copy)
                memcpy(copy, s, len);
        return copy;
}

static bool is_loopback_host(const char *host)
{
        return strcmp(host, "localhost") == 0 || strcmp(host, "::1") == 0 ||
               (strncmp(host, "127.", 4) == 0 && policy_is_ip_literal(host));
}

/* "https://host[:port][/base]" into the route; http only for loopback upstreams. */
static int parse_upstream(struct proxy *p, struct route *r, const char *url)
{
        const char *auth, *slash;

        if (strncasecmp(url, "https://", 8) == 0) {
                r->tls = true;
                auth = url + 8;
        } else if (strncasecmp(url, "http://", 7) == 0) {
                auth = url + 7;
        } else {
                p->host->set_error(p->host->ctx, "route %s: upstream '%s' is not an http(s) URL",
                                   r->service, url);
                return -EINVAL;
        }
        slash = strchr(auth, '/');
        if (!slash)
                slash = auth + strlen(auth);
        if (http_parse_authority(auth, (size_t)(slash - auth), false, r->tls ? 443 : 80, r->host,
                                 &r->port) < 0) {
                p->host->set_error(p->host->ctx, "route %s: invalid upstream host in '%s'",
                                   r->service, url);
                return -EINVAL;
        }
        if (!r->tls && !is_loopback_host(r->host)) {
                p->host->set_error(p->host->ctx,
                                   "route %s: plain http upstream '%s' is only allowed on loopback",
                                   r->service, url);
                return -EINVAL;
        }
        r->base_path = dup_plain(p, slash, strlen(slash));
        if (!r->base_path)
                return -ENOMEM;
        if (r->base_path[0] && r->base_path[strlen(r->base_path) - 1] == '/')
                r->base_path[strlen(r->base_path) - 1] = '\0';
        return 0;
}

static int setup_tls(struct proxy *p, struct route *r, const char *ca_file)
{
        r->ssl_ctx = SSL_CTX_new(TLS_client_method());
        if (!r->ssl_ctx)
                return -ENOMEM;
        SSL_CTX_set_min_proto_version(r->ssl_ctx, TLS1_2_VERSION);
        SSL_CTX_set_verify(r->ssl_ctx, SSL_VERIFY_PEER, NULL);
        if (ca_file ? SSL_CTX_load_verify_locations(r->ssl_ctx, ca_file, NULL) != 1
                    : SSL_CTX_set_default_verify_paths(r->ssl_ctx) != 1) {
                p->host->set_error(p->host->ctx, "route %s: cannot load CA certificates from %s",
                                   r->service, ca_file ? ca_file : "the system store");
                return -EINVAL;
        }
        return 0;
}

static int split_format(struct proxy *p, struct route *r, const char *format)
{
        const char *hole;

        if (!format)
                format = "{}";
        hole = strstr(format, "{}");
        if (!hole) {
                p->host->set_error(p->host->ctx, "route %s: credential_format has no {}",
                                   r->service);
                return -EINVAL;
        }
        r->format_prefix = dup_plain(p, format, (size_t)(hole - format));
        r->format_suffix = dup_plain(p, hole + 2, strlen(hole + 2));
        return r->format_prefix && r->format_suffix ? 0 : -ENOMEM;
}

static int copy_rules(struct proxy *p, struct route *r, const struct nono_credential_route *src)
{
        if (src->n_endpoint_rules == 0)
                return 0;
        r->endpoint_rules = proxy_zalloc(p, src->n_endpoint_rules * sizeof(char *));
        if (!r->endpoint_rules)
                return -ENOMEM;
        for (size_t i = 0; i < src->n_endpoint_rules; i++) {
                if (!policy_endpoint_rule_valid(src->endpoint_rules[i])) {
                        p->host->set_error(p->host->ctx,
                                           "route %s: endpoint rule '%s' is not METHOD:/path",
                                           r->service, src->endpoint_rules[i]);
                        return -EINVAL;
                }
                r->endpoint_rules[i] =
                    dup_plain(p, src->endpoint_rules[i], strlen(src->endpoint_rules[i]));
                r->n_endpoint_rules = i + 1;
                if (!r->endpoint_rules[i])
                        return -ENOMEM;
        }
        return 0;
}

int route_init(struct proxy *p, struct route *r, const struct nono_credential_route *src,
               const char *phantom)
{
        const char *header = src->inject_header;
        int ret;

        r->inject_mode = (int)src->inject_mode;
        r->service = dup_plain(p, src->service, strlen(src->service));
        if (!r->service)
                return -ENOMEM;
        if (!src->secret || !phantom || !*phantom || !*src->service) {
                p->host->set_error(p->host->ctx, "route %s: missing secret or phantom token",
                                   src->service);
                return -EINVAL;
        }
        if (r->inject_mode == NONO_INJECT_QUERY_PARAM && !header) {
                p->host->set_error(p->host->ctx, "route %s: query injection needs a parameter name",
                                   src->service);
                return -EINVAL;
        }
        if (!header)
                header = "Authorization";
        r->inject_header = dup_plain(p, header, strlen(header));
        r->secret = dup_secret(p, src->secret, src->secret_len);
        r->secret_len = src->secret_len;
        r->phantom_len = strlen(phantom);
        r->phantom = dup_secret(p, phantom, r->phantom_len);
        if (!r->inject_header || !r->secret || !r->phantom)
                return -ENOMEM;
        ret = parse_upstream(p, r, src->upstream ? src->upstream : "");
        if (ret >= 0)
                ret = split_format(p, r, src->credential_format);
        if (ret >= 0)
                ret = copy_rules(p, r, src);
        if (ret >= 0 && r->tls)
                ret = setup_tls(p, r, src->tls_ca);
        return ret;
}

void route_fini(struct proxy *p, struct route *r)
{
        proxy_free_mem(p, r->service);
        proxy_free_mem(p, r->base_path);
        proxy_free_mem(p, r->inject_header);
        proxy_free_mem(p, r->format_prefix);
        proxy_free_mem(p, r->format_suffix);
        for (size_t i = 0; i < r->n_endpoint_rules; i++)
                proxy_free_mem(p, r->endpoint_rules[i]);
        proxy_free_mem(p, r->endpoint_rules);
        if (r->secret)
                p->host->secret_free(p->host->ctx, r->secret);
        if (r->phantom)
                p->host->secret_free(p->host->ctx, r->phantom);
        if (r->ssl_ctx)
                SSL_CTX_free(r->ssl_ctx);
}

const struct route *route_find(const struct proxy *p, struct http_slice path)
{
        for (size_t i = 0; i < p->n_routes; i++) {
                size_t n = strlen(p->routes[i].service);

                if (path.len >= n + 1 && memcmp(path.p + 1, p->routes[i].service, n) == 0 &&
                    (path.len == n + 1 || path.p[n + 1] == '/' || path.p[n + 1] == '?'))
                        return &p->routes[i];
        }
        return NULL;
}

bool header_is_hop_by_hop(struct http_slice name)
{
        static const char *const hop[] = {
            "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authorization",
            "TE",         "Upgrade",          "Host",       "Trailer",
        };

        for (size_t i = 0; i < sizeof(hop) / sizeof(*hop); i++)
                if (name.len == strlen(hop[i]) && strncasecmp(name.p, hop[i], name.len) == 0)
                        return true;
        return false;
}

/* value == prefix + phantom + suffix, the phantom part compared in constant time. */
static bool holds_phantom(const struct route *r, const char *value, size_t len)
{
        size_t pre = strlen(r->format_prefix), suf = strlen(r->format_suffix);

        if (len != pre + r->phantom_len + suf)
                return false;
        if (memcmp(value, r->format_prefix, pre) != 0 ||
            memcmp(value + pre + r->phantom_len, r->format_suffix, suf) != 0)
                return false;
        return CRYPTO_memcmp(value + pre, r->phantom, r->phantom_len) == 0;
}

static void add_formatted_secret(const struct route *r, struct evbuffer *out)
{
        evbuffer_add(out, r->format_prefix, strlen(r->format_prefix));
        evbuffer_add(out, r->secret, r->secret_len);
        evbuffer_add(out, r->format_suffix, strlen(r->format_suffix));
}

/* Authorization: Basic base64(format(phantom)) → Basic base64(format(secret)). */
static bool basic_holds_phantom(const struct route *r, struct http_slice value)
{
        unsigned char *decoded;
        int n;
        bool ok;

        if (value.len < 7 || strncasecmp(value.p, "Basic ", 6) != 0 || value.len - 6 > 4096)
                return false;
        decoded = OPENSSL_malloc(value.len);
        if (!decoded)
                return false;
        n = EVP_DecodeBlock(decoded, (const unsigned char *)value.p + 6, (int)(value.len - 6));
        /* EVP_DecodeBlock counts '=' padding as zero bytes. */
        if (n > 0 && value.p[value.len - 1] == '=')
                n -= value.p[value.len - 2] == '=' ? 2 : 1;
        ok = n >= 0 && holds_phantom(r, (const char *)decoded, (size_t)n);
        OPENSSL_clear_free(decoded, value.len);
        return ok;
}

static int add_basic_secret(const struct route *r, struct evbuffer *out)
{
        size_t plain_len = strlen(r->format_prefix) + r->secret_len + strlen(r->format_suffix);
        unsigned char *plain = OPENSSL_secure_malloc(plain_len + 1);
        unsigned char *b64 = OPENSSL_secure_malloc(4 * (plain_len / 3 + 1) + 1);
        int n;

        if (!plain || !b64) {
                OPENSSL_secure_free(plain);
                OPENSSL_secure_free(b64);
                return -ENOMEM;
        }
        memcpy(plain, r->format_prefix, strlen(r->format_prefix));
        memcpy(plain + strlen(r->format_prefix), r->secret, r->secret_len);
        memcpy(plain + strlen(r->format_prefix) + r->secret_len, r->format_suffix,
               strlen(r->format_suffix));
        n = EVP_EncodeBlock(b64, plain, (int)plain_len);
        evbuffer_add_printf(out, "Authorization: Basic ");
        evbuffer_add(out, b64, (size_t)n);
        evbuffer_add(out, "\r\n", 2);
        OPENSSL_secure_clear_free(plain, plain_len + 1);
        OPENSSL_secure_clear_free(b64, 4 * (plain_len / 3 + 1) + 1);
        return 0;
}

/* Query injection: every `name=` parameter must hold the phantom; each gets the secret,
 * percent-encoded. */
static int rewrite_query(const struct route *r, struct http_slice query, struct evbuffer *out)
{
        size_t name_len = strlen(r->inject_header);
        const char *p = query.p, *end = query.p + query.len;
        bool found = false;

        while (p < end) {
                const char *amp = memchr(p, '&', (size_t)(end - p));
                const char *param_end = amp ? amp : end;

                if ((size_t)(param_end - p) > name_len && p[name_len] == '=' &&
                    memcmp(p, r->inject_header, name_len) == 0) {
                        const char *v = p + name_len + 1;

                        if ((size_t)(param_end - v) != r->phantom_len ||
                            CRYPTO_memcmp(v, r->phantom, r->phantom_len) != 0)
                                return -1;
                        found = true;
                        evbuffer_add(out, p, name_len + 1);
                        for (size_t i = 0; i < r->secret_len; i++) {
                                unsigned char c = (unsigned char)r->secret[i];
                                if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                                    (c >= 'A' && c <= 'Z') || strchr("-._~", c))
                                        evbuffer_add(out, &r->secret[i], 1);
                                else
                                        evbuffer_add_printf(out, "%%%02X", c);
                        }
                } else {
                        evbuffer_add(out, p, (size_t)(param_end - p));
                }
                if (amp)
                        evbuffer_add(out, "&", 1);
                p = param_end + 1;
        }
        return found ? 0 : -1;
}

/* The request line toward the upstream; 0, or a status with the reason. */
static int add_request_line(const struct route *r, const struct http_request *req,
                            struct evbuffer *out, const char **ret_reason)
{
        size_t prefix = 1 + strlen(r->service);
        const char *rest = req->path.p + prefix;
        size_t rest_len = req->path.len - prefix;
        const char *q = memchr(rest, '?', rest_len);
        size_t path_len = q ? (size_t)(q - rest) : rest_len;
        char path[HTTP_MAX_HEAD + 2];
        char method[HTTP_MAX_METHOD + 1];

        memcpy(path, path_len ? rest : "/", path_len ? path_len : 1);
        path[path_len ? path_len : 1] = '\0';
        memcpy(method, req->method.p, req->method.len);
        method[req->method.len] = '\0';
        if (!policy_path_is_canonical(path, strlen(path))) {
                *ret_reason = "path not in canonical form";
                return 400;
        }
        if (!policy_endpoint_allowed((const char *const *)r->endpoint_rules, r->n_endpoint_rules,
                                     method, req->method.len, path)) {
                *ret_reason = "endpoint not allowed for this credential";
                return 403;
        }
        evbuffer_add_printf(out, "%s %s%s", method, r->base_path, path);
        if (q) {
                struct http_slice query = {q + 1, rest_len - path_len - 1};

                evbuffer_add(out, "?", 1);
                if (r->inject_mode == NONO_INJECT_QUERY_PARAM) {
                        if (rewrite_query(r, query, out) < 0) {
                                *ret_reason = "missing or wrong phantom token";
                                return 401;
                        }
                } else {
                        evbuffer_add(out, query.p, query.len);
                }
        } else if (r->inject_mode == NONO_INJECT_QUERY_PARAM) {
                *ret_reason = "missing or wrong phantom token";
                return 401;
        }
        evbuffer_add_printf(out, " HTTP/1.1\r\n");
        return 0;
}

/* The injected header must appear exactly once and hold the phantom. */
static int check_injected_header(const struct route *r, const struct http_request *req)
{
        const char *name =
            r->inject_mode == NONO_INJECT_BASIC_AUTH ? "Authorization" : r->inject_header;
        const struct http_header *found = NULL;

        for (size_t i = 0; i < req->n_headers; i++) {
                const struct http_header *h = &req->headers[i];

                if (h->name.len != strlen(name) || strncasecmp(h->name.p, name, h->name.len) != 0)
                        continue;
                if (found)
                        return -1;
                found = h;
        }
        if (!found)
                return -1;
        if (r->inject_mode == NONO_INJECT_BASIC_AUTH)
                return basic_holds_phantom(r, found->value) ? 0 : -1;
        return holds_phantom(r, found->value.p, found->value.len) ? 0 : -1;
}

static bool is_injected_header(const struct route *r, struct http_slice name)
{
        const char *injected =
            r->inject_mode == NONO_INJECT_BASIC_AUTH ? "Authorization" : r->inject_header;

        return r->inject_mode != NONO_INJECT_QUERY_PARAM && name.len == strlen(injected) &&
               strncasecmp(name.p, injected, name.len) == 0;
}

int route_forward_head(const struct route *r, const struct http_request *req, struct evbuffer *out,
                       const char **ret_reason)
{
        int status;

        if (r->inject_mode != NONO_INJECT_QUERY_PARAM && check_injected_header(r, req) < 0) {
                *ret_reason = "missing or wrong phantom token";
                return 401;
        }
        status = add_request_line(r, req, out, ret_reason);
        if (status)
                return status;
        if (r->port == (r->tls ? 443 : 80))
                evbuffer_add_printf(out, "Host: %s\r\n", r->host);
        else if (strchr(r->host, ':'))
                evbuffer_add_printf(out, "Host: [%s]:%u\r\n", r->host, r->port);
        else
                evbuffer_add_printf(out, "Host: %s:%u\r\n", r->host, r->port);
        for (size_t i = 0; i < req->n_headers; i++) {
                const struct http_header *h = &req->headers[i];

                if (header_is_hop_by_hop(h->name) || is_injected_header(r, h->name))
                        continue;
                evbuffer_add(out, h->name.p, h->name.len);
                evbuffer_add(out, ": ", 2);
                evbuffer_add(out, h->value.p, h->value.len);
                evbuffer_add(out, "\r\n", 2);
        }
        if (r->inject_mode == NONO_INJECT_HEADER) {
                evbuffer_add_printf(out, "%s: ", r->inject_header);
                add_formatted_secret(r, out);
                evbuffer_add(out, "\r\n", 2);
        } else if (r->inject_mode == NONO_INJECT_BASIC_AUTH && add_basic_secret(r, out) < 0) {
                *ret_reason = "out of memory";
                return 500;
        }
        evbuffer_add_printf(out, "Connection: close\r\n\r\n");
        return 0;
}
