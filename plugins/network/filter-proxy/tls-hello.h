/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The server name (SNI) a TLS client asks for, read from the first bytes it sends
 * through a CONNECT tunnel, so that the proxy can refuse a tunnel to one allowed host
 * whose TLS names another (domain fronting).  A pure, bounded parser of untrusted
 * input (fuzzed by bench/fuzz/run): it never reads past `len` and never needs more
 * than TLS_HELLO_MAX bytes.
 */
#ifndef NONO_FILTER_PROXY_TLS_HELLO_H
#define NONO_FILTER_PROXY_TLS_HELLO_H

#include <stdbool.h>
#include <stddef.h>

/* The most the proxy reads before it must decide (records and their headers): a hello
 * of up to 16 KiB, the most one record carries, in one or more records. */
#define TLS_HELLO_MAX 32768

/* The longest server name (a DNS name; RFC 6066 allows 2^16 but no host has more). */
#define TLS_HELLO_NAME_MAX 255

enum tls_hello {
        TLS_HELLO_NEED_MORE, /* a TLS handshake, not complete yet */
        TLS_HELLO_NOT_TLS,   /* the bytes are not a TLS handshake record */
        TLS_HELLO_NO_SNI,    /* a ClientHello without a host_name */
        TLS_HELLO_SNI,       /* a ClientHello naming one host (in `name`) */
        TLS_HELLO_MALFORMED, /* a TLS record that is no well-formed ClientHello, or too big */
};

/*
 * Reads the ClientHello in data[0..len).  For TLS_HELLO_SNI, `name` (at least
 * TLS_HELLO_NAME_MAX + 1 bytes) holds the host_name, NUL-terminated.  For
 * TLS_HELLO_NEED_MORE, *need is the length the input must reach before the answer can
 * change (at most TLS_HELLO_MAX; a hello that needs more is TLS_HELLO_MALFORMED).
 */
enum tls_hello tls_hello_server_name(const unsigned char *data, size_t len, char *name,
                                     size_t *need);

/* Whether a server name designates `host` (lowercase, as parsed from CONNECT): equal
 * without case, one trailing dot ignored. */
bool tls_hello_name_matches(const char *name, const char *host);

#endif
