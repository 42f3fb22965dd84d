/* SPDX-License-Identifier: Apache-2.0 */
#include "chunker.h"

#include <pthread.h>

/*
 * Harder to match before the average size, easier after it: chunk sizes cluster
 * around CHUNK_AVG (FastCDC's normalisation, level 2).  The masks take the top bits:
 * with the shift-and-add hash, bit k depends on the last k+1 bytes, so high bits
 * cover a 64-byte window.
 */
#define MASK_HARD (~0ull << (64 - 18))
#define MASK_EASY (~0ull << (64 - 14))

static uint64_t gear[256];
static pthread_once_t gear_once = PTHREAD_ONCE_INIT;

/* A fixed table: boundaries, hence stored chunks, must be the same on every machine
 * and in every version (splitmix64 from a constant seed). */
static void gear_fill(void)
{
        uint64_t x = 0x6e6f6e6f2d636463ull; /* "nono-cdc" */

        for (int i = 0; i < 256; i++) {
                uint64_t z = (x += 0x9e3779b97f4a7c15ull);

                z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
                z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
                gear[i] = z ^ (z >> 31);
        }
}

size_t chunk_next(const uint8_t *data, size_t len)
{
        size_t end = len < CHUNK_MAX ? len : CHUNK_MAX;
        size_t normal = end < CHUNK_AVG ? end : CHUNK_AVG;
        uint64_t h = 0;
        size_t i = CHUNK_MIN;

        if (len <= CHUNK_MIN)
                return len;
        pthread_once(&gear_once, gear_fill);
        for (; i < normal; i++) {
                h = (h << 1) + gear[data[i]];
                if (!(h & MASK_HARD))
                        return i + 1;
        }
        for (; i < end; i++) {
                h = (h << 1) + gear[data[i]];
                if (!(h & MASK_EASY))
                        return i + 1;
        }
        return end;
}
