/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Store plugins keep content-addressed objects and named refs for snapshots (modelled
 * on libgit2's odb backends).  The host computes and verifies every digest, so a store
 * cannot lie about content: it only maps digests to bytes.
 */
#ifndef NONO_STORE_H
#define NONO_STORE_H

#include <nono/plugin.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NONO_DIGEST_SIZE 32 /* SHA-256 */

struct nono_digest {
        uint8_t bytes[NONO_DIGEST_SIZE];
};

struct nono_store_ops {
        uint32_t size;

        /* Mandatory.  Opens (creating if needed) the store at `location`. */
        int (*open)(void *state, const char *location, void **ret_store);
        /* Mandatory.  Stores `len` bytes under `digest`; storing twice is not an error. */
        int (*put)(void *state, void *store, const struct nono_digest *digest, const void *data,
                   size_t len);
        /*
         * Mandatory.  *ret_data is allocated with host->alloc, owned by the caller.
         * -ENOENT when absent.
         */
        int (*get)(void *state, void *store, const struct nono_digest *digest, void **ret_data,
                   size_t *ret_len);
        /* Mandatory.  1 present, 0 absent, negative errno on failure. */
        int (*exists)(void *state, void *store, const struct nono_digest *digest);
        /* Mandatory. */
        void (*close)(void *state, void *store);

        /* Named refs ("session/<id>/3" -> digest).  Mandatory. */
        int (*ref_set)(void *state, void *store, const char *name,
                       const struct nono_digest *digest);
        int (*ref_get)(void *state, void *store, const char *name, struct nono_digest *ret_digest);
        /* Optional. */
        int (*ref_delete)(void *state, void *store, const char *name);
        int (*ref_list)(void *state, void *store, const char *prefix,
                        int (*each)(const char *name, const struct nono_digest *digest,
                                    void *userdata),
                        void *userdata);

        /*
         * Optional, appended: a store without them still snapshots and restores, but
         * cannot batch, verify the whole store or collect garbage.
         *
         * Makes every put so far durable and visible to other processes.  ref_set does
         * the same for the puts before it, in one transaction with the ref: a snapshot
         * is committed by its ref, so a crash before it leaves only unreferenced
         * objects.
         */
        int (*sync)(void *state, void *store);
        /* Calls `each` with the digest of every object; a non-zero return stops. */
        int (*object_list)(void *state, void *store,
                           int (*each)(const struct nono_digest *digest, void *userdata),
                           void *userdata);
        /* Removes one object (garbage collection); -ENOENT when absent. */
        int (*remove)(void *state, void *store, const struct nono_digest *digest);
};

#ifdef __cplusplus
}
#endif

#endif /* NONO_STORE_H */
