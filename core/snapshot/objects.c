/* SPDX-License-Identifier: Apache-2.0 */
#include "objects.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "digest.h"
#include "error.h"
#include "layout.h"
#include "strv.h"
#include "vars.h"

#define DEFAULT_BACKEND "lmdb"
/* Fast: a snapshot must cost less than `git add`; most of a workspace compresses well
 * even at the lowest level. */
#define ZSTD_LEVEL 1
#define CODEC_ZSTD 'z'
#define CODEC_RAW  'r'

char *objstore_location(const struct host_config *c)
{
        struct vars v;
        char *path;

        if (c->store_path)
                return nono_strdup(c->store_path);
        if (vars_init(&v, "/") < 0)
                return NULL;
        path = nono_path_join(v.xdg_state_home, "nono/store");
        vars_free(&v);
        return path;
}

static int store_failed(struct objstore *os, int r)
{
        return nono_error(r, "%s", plugin_error(os->plugin, r));
}

/* Outside the store proper, so that a store plugin need not know about it. */
static int take_lock(struct objstore *os, enum objstore_lock lock)
{
        char *path = nono_asprintf("%s/nono.lock", os->location);

        if (!path)
                return -ENOMEM;
        os->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        free(path);
        if (os->lock_fd < 0)
                return nono_error(-errno, "cannot lock the store %s: %s", os->location,
                                  strerror(errno));
        if (flock(os->lock_fd, lock == OBJSTORE_EXCLUSIVE ? LOCK_EX : LOCK_SH) < 0)
                return nono_error(-errno, "cannot lock the store %s: %s", os->location,
                                  strerror(errno));
        return 0;
}

static int open_plugin(struct objstore *os)
{
        const char *backend = os->config.store_backend ? os->config.store_backend : DEFAULT_BACKEND;
        int r;

        plugin_registry_init(&os->registry, os->config.plugin_dir, &os->config);
        r = plugin_load(&os->registry, NONO_PLUGIN_STORE, backend, &os->plugin);
        if (r < 0)
                return r;
        r = os->plugin->ops.store.open(os->plugin->state, os->location, &os->store);
        return r < 0 ? store_failed(os, r) : 0;
}

int objstore_open(struct objstore *os, enum objstore_lock lock)
{
        int r;

        memset(os, 0, sizeof(*os));
        os->lock_fd = -1;
        r = host_config_load(&os->config);
        if (r < 0)
                return r;
        os->location = objstore_location(&os->config);
        os->cctx = ZSTD_createCCtx();
        os->dctx = ZSTD_createDCtx();
        if (!os->location || !os->cctx || !os->dctx)
                r = -ENOMEM;
        if (r >= 0)
                r = open_plugin(os);
        if (r >= 0)
                r = take_lock(os, lock);
        if (r < 0)
                objstore_close(os);
        return r;
}

void objstore_close(struct objstore *os)
{
        if (os->store)
                os->plugin->ops.store.close(os->plugin->state, os->store);
        if (os->plugin)
                plugin_registry_free(&os->registry);
        if (os->lock_fd >= 0)
                close(os->lock_fd);
        ZSTD_freeCCtx(os->cctx);
        ZSTD_freeDCtx(os->dctx);
        free(os->location);
        host_config_free(&os->config);
        memset(os, 0, sizeof(*os));
        os->lock_fd = -1;
}

/* 'z' + a zstd frame, or 'r' + the bytes when they do not compress. */
static int encode(struct objstore *os, const void *data, size_t len, uint8_t **ret, size_t *ret_len)
{
        size_t bound = ZSTD_compressBound(len);
        uint8_t *out = malloc(1 + (bound > len ? bound : len));
        size_t n;

        if (!out)
                return -ENOMEM;
        n = ZSTD_compressCCtx(os->cctx, out + 1, bound, data, len, ZSTD_LEVEL);
        if (!ZSTD_isError(n) && n < len) {
                out[0] = CODEC_ZSTD;
        } else {
                out[0] = CODEC_RAW;
                memcpy(out + 1, data, len);
                n = len;
        }
        *ret = out;
        *ret_len = 1 + n;
        return 0;
}

int objstore_put(struct objstore *os, const void *data, size_t len, struct nono_digest *ret)
{
        const struct nono_store_ops *ops = &os->plugin->ops.store;
        uint8_t *stored;
        size_t stored_len;
        int r;

        digest_of(data, len, ret);
        if (os->hash_only)
                return 0;
        /* Most objects of a snapshot are already there: skip compressing them. */
        r = ops->exists(os->plugin->state, os->store, ret);
        if (r != 0)
                return r < 0 ? store_failed(os, r) : 0;
        r = encode(os, data, len, &stored, &stored_len);
        if (r < 0)
                return r;
        r = ops->put(os->plugin->state, os->store, ret, stored, stored_len);
        free(stored);
        if (r < 0)
                return store_failed(os, r);
        os->stats.objects_added++;
        os->stats.bytes_added += stored_len;
        return 0;
}

static int damaged(const struct nono_digest *d, const char *why)
{
        char hex[DIGEST_HEX_SIZE];

        digest_hex(d, hex);
        return nono_error(-EBADMSG, "object %s is damaged: %s", hex, why);
}

static int decode(struct objstore *os, const struct nono_digest *d, const uint8_t *in, size_t len,
                  void **ret, size_t *ret_len)
{
        unsigned long long size;
        void *out;
        size_t n;

        if (len < 1 || (in[0] != CODEC_ZSTD && in[0] != CODEC_RAW))
                return damaged(d, "unknown encoding");
        if (in[0] == CODEC_RAW) {
                size = len - 1;
        } else {
                size = ZSTD_getFrameContentSize(in + 1, len - 1);
                if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN ||
                    size > SIZE_MAX / 2)
                        return damaged(d, "bad compressed frame");
        }
        out = malloc(size ? size : 1);
        if (!out)
                return -ENOMEM;
        if (in[0] == CODEC_RAW) {
                memcpy(out, in + 1, size);
        } else {
                n = ZSTD_decompressDCtx(os->dctx, out, size, in + 1, len - 1);
                if (ZSTD_isError(n) || n != size) {
                        free(out);
                        return damaged(d, "bad compressed frame");
                }
        }
        *ret = out;
        *ret_len = size;
        return 0;
}

int objstore_get(struct objstore *os, const struct nono_digest *d, void **ret, size_t *ret_len)
{
        const struct nono_store_ops *ops = &os->plugin->ops.store;
        struct nono_digest actual;
        char hex[DIGEST_HEX_SIZE];
        void *raw = NULL;
        size_t raw_len = 0;
        int r = ops->get(os->plugin->state, os->store, d, &raw, &raw_len);

        if (r == -ENOENT) {
                digest_hex(d, hex);
                return nono_error(-ENOENT, "object %s is missing from the store", hex);
        }
        if (r < 0)
                return store_failed(os, r);
        r = decode(os, d, raw, raw_len, ret, ret_len);
        os->plugin->host.free(os->plugin->host.ctx, raw);
        if (r < 0)
                return r;
        digest_of(*ret, *ret_len, &actual);
        if (!digest_equal(&actual, d)) {
                free(*ret);
                *ret = NULL;
                return damaged(d, "its content does not match its digest");
        }
        return 0;
}

int objstore_sync(struct objstore *os)
{
        const struct nono_store_ops *ops = &os->plugin->ops.store;
        int r = ops->sync ? ops->sync(os->plugin->state, os->store) : 0;

        return r < 0 ? store_failed(os, r) : 0;
}

int objstore_ref_set(struct objstore *os, const char *name, const struct nono_digest *d)
{
        int r = os->plugin->ops.store.ref_set(os->plugin->state, os->store, name, d);

        return r < 0 ? store_failed(os, r) : 0;
}

int objstore_ref_get(struct objstore *os, const char *name, struct nono_digest *ret)
{
        int r = os->plugin->ops.store.ref_get(os->plugin->state, os->store, name, ret);

        return r < 0 && r != -ENOENT ? store_failed(os, r) : r;
}

static int unsupported(struct objstore *os, const char *what)
{
        return nono_error(-EOPNOTSUPP, "the store plugin %s cannot %s", os->plugin->name, what);
}

int objstore_ref_delete(struct objstore *os, const char *name)
{
        const struct nono_store_ops *ops = &os->plugin->ops.store;
        int r;

        if (!ops->ref_delete)
                return unsupported(os, "delete refs");
        r = ops->ref_delete(os->plugin->state, os->store, name);
        return r < 0 && r != -ENOENT ? store_failed(os, r) : r;
}

int objstore_ref_list(struct objstore *os, const char *prefix,
                      int (*each)(const char *name, const struct nono_digest *d, void *userdata),
                      void *userdata)
{
        const struct nono_store_ops *ops = &os->plugin->ops.store;
        int r;

        if (!ops->ref_list)
                return unsupported(os, "list refs");
        r = ops->ref_list(os->plugin->state, os->store, prefix, each, userdata);
        return r < 0 ? store_failed(os, r) : r;
}

int objstore_object_list(struct objstore *os,
                         int (*each)(const struct nono_digest *d, void *userdata), void *userdata)
{
        const struct nono_store_ops *ops = &os->plugin->ops.store;
        int r;

        if (!ops->object_list)
                return unsupported(os, "list objects");
        r = ops->object_list(os->plugin->state, os->store, each, userdata);
        return r < 0 ? store_failed(os, r) : r;
}

int objstore_remove(struct objstore *os, const struct nono_digest *d)
{
        const struct nono_store_ops *ops = &os->plugin->ops.store;
        int r;

        if (!ops->remove)
                return unsupported(os, "remove objects");
        r = ops->remove(os->plugin->state, os->store, d);
        return r < 0 && r != -ENOENT ? store_failed(os, r) : r;
}
