/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the ClientHello server-name parser (plugins/network/filter-proxy/
 * tls-hello.c), fed every prefix length the proxy could hold (the whole input, and a
 * split given by its first byte).  Checks the parser's promises: a name is a
 * NUL-terminated host name within bounds, and "need more" asks for more than it had,
 * never beyond TLS_HELLO_MAX.
 */
#include "tls-hello.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void check(const unsigned char *data, size_t len)
{
        char name[TLS_HELLO_NAME_MAX + 1];
        size_t need = 0;

        switch (tls_hello_server_name(data, len, name, &need)) {
        case TLS_HELLO_NEED_MORE:
                if (need <= len || need > TLS_HELLO_MAX)
                        abort();
                break;
        case TLS_HELLO_SNI:
                if (strlen(name) == 0 || strlen(name) > TLS_HELLO_NAME_MAX)
                        abort();
                (void)tls_hello_name_matches(name, "a.example");
                break;
        default:
                break;
        }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
        check(data, size);
        if (size)
                check(data, data[0] % (size + 1));
        return 0;
}
