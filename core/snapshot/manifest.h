/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A snapshot's manifest: every tracked path with its type, mode, size, times and
 * content digest (files), target (symlinks), directories included (so empty ones come
 * back).  In memory: a flat array in tree order (parents first, siblings by name).
 * In the store: one object per directory, listing its children with their digests
 * (a subdirectory's digest is its own object's), so the root directory's digest is a
 * Merkle root and an unchanged directory costs nothing to store again; plus a small
 * record per snapshot (time, root, totals) that the snapshot's ref points to.
 *
 * Encodings are fixed-width little-endian, children sorted by name: deterministic.
 */
#ifndef NONO_SNAPSHOT_MANIFEST_H
#define NONO_SNAPSHOT_MANIFEST_H

#include <nono/store.h>
#include <stddef.h>
#include <stdint.h>

#include "objects.h"
#include "snapshot.h"

#define ENTRY_FILE    'f'
#define ENTRY_SYMLINK 'l'
#define ENTRY_DIR     'd'

#define ENTRY_CHUNKED 1u /* the digest names a chunk list, not the content */

struct mentry {
        char *path;   /* relative to the root, '/'-separated */
        char *target; /* symlinks */
        char type;
        uint8_t flags;
        uint32_t mode; /* permission bits */
        uint64_t size;
        int64_t mtime_ns, ctime_ns;
        uint64_t ino;
        struct nono_digest digest;
};

struct manifest {
        struct mentry *e;
        size_t n, cap;
        int64_t time_ns; /* when the walk started */
        struct nono_digest root;
        uint64_t files, bytes;
};

void manifest_free(struct manifest *m);
/* Appends a copy of `e` (path and target duplicated). */
int manifest_add(struct manifest *m, const struct mentry *e);
/* Tree order: component by component, so a directory's subtree follows it. */
int path_compare(const char *a, const char *b);
const struct mentry *manifest_find(const struct manifest *m, const char *path);

/* 1 if `name` may be a path component: not empty, ".", "..", no '/' or NUL. */
int name_is_valid(const char *name, size_t len);
/* 1 if every component of a relative path is valid (no "..", no leading '/'). */
int path_is_valid(const char *path);

/*
 * Stores the directory objects and the record; sets m->root, returns the record's
 * digest.  A directory whose object is the one of the same path in `prev` (may be NULL)
 * is not looked up in the store again.
 */
int manifest_store(struct objstore *os, struct manifest *m, const struct manifest *prev,
                   struct nono_digest *ret_record);
/*
 * Loads a snapshot from its record, verifying every object; a bad name fails it.  A
 * directory with the same path and digest in `hint` (an already loaded snapshot, may be
 * NULL) is copied from it instead of read again.
 */
int manifest_load(struct objstore *os, const struct nono_digest *record,
                  const struct manifest *hint, struct manifest *ret);
/* Only the record: time, root and totals. */
int manifest_load_record(struct objstore *os, const struct nono_digest *record,
                         struct manifest *ret);

/* 1 if the entries differ in what a restore would change. */
int mentry_differs(const struct mentry *a, const struct mentry *b);
/* What changed from `old` to `new`, in tree order. */
int manifest_diff(const struct manifest *old, const struct manifest *new,
                  struct snapshot_changes *ret);

#endif
