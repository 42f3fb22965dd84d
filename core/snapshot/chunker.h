/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Content-defined chunking (FastCDC: a gear rolling hash with normalised chunking).  A
 * boundary depends only on the bytes just before it, so an edit moves the boundaries
 * near it and nowhere else: an edited large file stores only the chunks that changed.
 */
#ifndef NONO_SNAPSHOT_CHUNKER_H
#define NONO_SNAPSHOT_CHUNKER_H

#include <stddef.h>
#include <stdint.h>

#define CHUNK_MIN (16u << 10)
#define CHUNK_AVG (64u << 10)
#define CHUNK_MAX (256u << 10)
/* Files up to this size are one object. */
#define CHUNK_THRESHOLD (1u << 20)

/* The length of the chunk starting at `data` (at most `len`). */
size_t chunk_next(const uint8_t *data, size_t len);

#endif
