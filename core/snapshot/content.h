/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A file's content in the store: one object up to CHUNK_THRESHOLD, else
 * content-defined chunks and a chunk list ("NONOCHK1", count, then digest and length
 * of each chunk) that the manifest entry points to.
 */
#ifndef NONO_SNAPSHOT_CONTENT_H
#define NONO_SNAPSHOT_CONTENT_H

#include "digest.h"
#include "manifest.h"
#include "objects.h"

/* Stores what `fd` holds (`size` bytes); sets e->digest and e->flags.  Errors name
 * e->path. */
int content_store(struct objstore *os, int fd, uint64_t size, struct mentry *e);
/* Writes the file's content to `fd`, each object verified before it is written. */
int content_write(struct objstore *os, const struct mentry *e, int fd);
/*
 * Adds every object of the file's content (the chunk list and its chunks) to `seen`.
 * With `check`, each object not yet in `seen` is read and verified.
 */
int content_objects(struct objstore *os, const struct mentry *e, int check,
                    struct digest_set *seen);

#endif
