/* SPDX-License-Identifier: Apache-2.0 */
#include "digest.h"

#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static EVP_MD *sha256;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

/* Fetched once: an implicit fetch on every call costs more than hashing a small file. */
static void sha256_fetch(void)
{
        sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void digest_of(const void *data, size_t len, struct nono_digest *ret)
{
        pthread_once(&sha256_once, sha256_fetch);
        /* Cannot fail for SHA-256 in memory short of a broken OpenSSL install. */
        if (!sha256 || !EVP_Digest(data, len, ret->bytes, NULL, sha256, NULL))
                abort();
}

int digest_equal(const struct nono_digest *a, const struct nono_digest *b)
{
        return memcmp(a->bytes, b->bytes, sizeof(a->bytes)) == 0;
}

void digest_hex(const struct nono_digest *d, char out[DIGEST_HEX_SIZE])
{
        static const char hex[] = "0123456789abcdef";

        for (size_t i = 0; i < sizeof(d->bytes); i++) {
                out[2 * i] = hex[d->bytes[i] >> 4];
                out[2 * i + 1] = hex[d->bytes[i] & 15];
        }
        out[2 * sizeof(d->bytes)] = '\0';
}

static size_t slot_of(const struct nono_digest *d, size_t cap)
{
        size_t h;

        memcpy(&h, d->bytes, sizeof(h));
        return h & (cap - 1);
}

static int digest_set_grow(struct digest_set *s)
{
        struct digest_set bigger = {NULL, NULL, 0, s->cap ? s->cap * 2 : 1024};

        bigger.slots = malloc(bigger.cap * sizeof(*bigger.slots));
        bigger.used = calloc(bigger.cap, 1);
        if (!bigger.slots || !bigger.used) {
                digest_set_free(&bigger);
                return -ENOMEM;
        }
        for (size_t i = 0; i < s->cap; i++)
                if (s->used[i])
                        digest_set_add(&bigger, &s->slots[i]);
        digest_set_free(s);
        *s = bigger;
        return 0;
}

int digest_set_add(struct digest_set *s, const struct nono_digest *d)
{
        size_t i;

        if ((s->n + 1) * 2 > s->cap && digest_set_grow(s) < 0)
                return -ENOMEM;
        for (i = slot_of(d, s->cap); s->used[i]; i = (i + 1) & (s->cap - 1))
                if (digest_equal(&s->slots[i], d))
                        return 0;
        s->used[i] = 1;
        s->slots[i] = *d;
        s->n++;
        return 1;
}

int digest_set_contains(const struct digest_set *s, const struct nono_digest *d)
{
        if (!s->cap)
                return 0;
        for (size_t i = slot_of(d, s->cap); s->used[i]; i = (i + 1) & (s->cap - 1))
                if (digest_equal(&s->slots[i], d))
                        return 1;
        return 0;
}

void digest_set_free(struct digest_set *s)
{
        free(s->slots);
        free(s->used);
        memset(s, 0, sizeof(*s));
}
