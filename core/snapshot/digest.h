/* SPDX-License-Identifier: Apache-2.0 */
/* SHA-256 digests (OpenSSL) and a set of digests (what verify and cleanup have seen). */
#ifndef NONO_SNAPSHOT_DIGEST_H
#define NONO_SNAPSHOT_DIGEST_H

#include <nono/store.h>
#include <stddef.h>

#define DIGEST_HEX_SIZE (2 * NONO_DIGEST_SIZE + 1)

void digest_of(const void *data, size_t len, struct nono_digest *ret);
int digest_equal(const struct nono_digest *a, const struct nono_digest *b);
void digest_hex(const struct nono_digest *d, char out[DIGEST_HEX_SIZE]);

/* Open addressing on the digest's own (uniformly distributed) bytes. */
struct digest_set {
        struct nono_digest *slots;
        unsigned char *used;
        size_t n, cap;
};

/* 1 if added, 0 if it was there, -ENOMEM. */
int digest_set_add(struct digest_set *s, const struct nono_digest *d);
int digest_set_contains(const struct digest_set *s, const struct nono_digest *d);
void digest_set_free(struct digest_set *s);

#endif
