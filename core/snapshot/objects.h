/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The object layer over a store plugin: objects are addressed by the SHA-256 of their
 * content, compressed with zstd on the way in, and verified against their digest on
 * the way out, so a damaged or lying store is detected, never trusted.
 *
 * Stored form: one byte ('z' zstd frame, 'r' raw when compression does not pay), then
 * the bytes.
 */
#ifndef NONO_SNAPSHOT_OBJECTS_H
#define NONO_SNAPSHOT_OBJECTS_H

#include <nono/store.h>
#include <zstd.h>

#include "config.h"
#include "loader.h"
#include "snapshot.h"

enum objstore_lock {
        OBJSTORE_SHARED,    /* snapshot, restore, verify: objects must not vanish */
        OBJSTORE_EXCLUSIVE, /* cleanup: deletes what nothing refers to */
};

struct objstore {
        struct host_config config;
        struct plugin_registry registry;
        struct plugin *plugin;
        void *store;
        char *location;
        int lock_fd;
        ZSTD_CCtx *cctx;
        ZSTD_DCtx *dctx;
        int hash_only; /* put computes digests and stores nothing (restore's scan) */
        struct snapshot_stats stats;
};

/* The store of nono.conf (store.backend, store.path), else lmdb at
 * $XDG_STATE_HOME/nono/store.  The lock is held until objstore_close. */
int objstore_open(struct objstore *os, enum objstore_lock lock);
/* Safe on a zeroed struct. */
void objstore_close(struct objstore *os);
/* The store's location, for `run` to keep it out of the sandbox. */
char *objstore_location(const struct host_config *c);

int objstore_put(struct objstore *os, const void *data, size_t len, struct nono_digest *ret);
/* Verified content (malloc'ed).  -ENOENT missing, -EBADMSG damaged, with a message. */
int objstore_get(struct objstore *os, const struct nono_digest *d, void **ret, size_t *ret_len);
int objstore_sync(struct objstore *os);

int objstore_ref_set(struct objstore *os, const char *name, const struct nono_digest *d);
int objstore_ref_get(struct objstore *os, const char *name, struct nono_digest *ret);
int objstore_ref_delete(struct objstore *os, const char *name);
int objstore_ref_list(struct objstore *os, const char *prefix,
                      int (*each)(const char *name, const struct nono_digest *d, void *userdata),
                      void *userdata);
/* Optional store operations: -EOPNOTSUPP when the plugin lacks them. */
int objstore_object_list(struct objstore *os,
                         int (*each)(const struct nono_digest *d, void *userdata), void *userdata);
int objstore_remove(struct objstore *os, const struct nono_digest *d);

#endif
