/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The LMDB store: one environment per user store, two databases ("objects": digest ->
 * bytes, "refs": name -> digest).  LMDB serialises writers across processes through its
 * lock file and recovers the writer lock and stale reader slots of a killed process, so
 * concurrent nono runs share a store safely.
 *
 * Puts are batched in one write transaction (a commit per object would cost a disk
 * flush per file); the batch is committed when it grows large, by sync, and by ref_set
 * together with the ref, so a snapshot becomes visible exactly when its ref does.  A
 * process killed mid-batch leaves only unreferenced objects behind.
 *
 * Configuration: plugins = { lmdb = { map_size = 274877906944; }; } (bytes).
 */
#include <errno.h>
#include <lmdb.h>
#include <nono/plugin.h>
#include <nono/store.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

/* Address space only: LMDB grows the file as data arrives. */
#define DEFAULT_MAP_SIZE (256ull << 30)
/* Commit a batch of puts past these, so other writers are not held off for long. */
#define BATCH_MAX_BYTES (32u << 20)
#define BATCH_MAX_PUTS  4096u

#define HAS_FIELD(p, type, field) ((p)->size >= offsetof(type, field) + sizeof(((type *)0)->field))

struct lm_state {
        const struct nono_host *host;
        unsigned long long map_size;
};

struct lm_store {
        MDB_env *env;
        MDB_dbi objects, refs;
        MDB_txn *batch; /* open write transaction holding uncommitted puts, or NULL */
        size_t batch_bytes, batch_puts;
        char *location;
};

#define FAIL(st, err, ...) (st->host->set_error(st->host->ctx, "lmdb: " __VA_ARGS__), (err))

/* LMDB codes are errno values or MDB_* (negative, below -30000). */
static int to_errno(int rc)
{
        switch (rc) {
        case MDB_MAP_FULL:
                return -ENOSPC;
        case MDB_NOTFOUND:
                return -ENOENT;
        case MDB_READERS_FULL:
        case MDB_TXN_FULL:
                return -EAGAIN;
        default:
                return rc > 0 ? -rc : -EIO;
        }
}

/* LMDB reports a short write, which is how a full disk shows, as EIO. */
static int disk_full(const struct lm_store *s)
{
        struct statvfs sv;

        return statvfs(s->location, &sv) == 0 && sv.f_bavail * sv.f_frsize < (1u << 20);
}

static int lm_fail(struct lm_state *st, struct lm_store *s, int rc, const char *what)
{
        if ((rc == EIO || rc == ENOSPC) && disk_full(s))
                return FAIL(st, -ENOSPC,
                            "cannot write the store %s: no space left on its file system",
                            s->location);
        if (rc == MDB_MAP_FULL)
                return FAIL(st, -ENOSPC,
                            "the store %s is full (map size %llu bytes): raise plugins.lmdb."
                            "map_size in nono.conf, or remove old sessions",
                            s->location, st->map_size);
        return FAIL(st, to_errno(rc), "cannot %s the store %s: %s", what, s->location,
                    mdb_strerror(rc));
}

/* ---- init, fini ------------------------------------------------------------------------ */

static int read_map_size(struct lm_state *st)
{
        const struct nono_host *host = st->host;
        long long value;
        int r;

        st->map_size = DEFAULT_MAP_SIZE;
        if (!HAS_FIELD(host, struct nono_host, config_int) || !host->config_int)
                return 0;
        r = host->config_int(host->ctx, "map_size", &value);
        if (r == -ENOENT)
                return 0;
        if (r < 0 || value < (1 << 20))
                return FAIL(st, -EINVAL,
                            "map_size in nono.conf must be a number of bytes >= "
                            "1048576");
        st->map_size = (unsigned long long)value;
        return 0;
}

static int lm_init(const struct nono_host *host, void **ret_state)
{
        struct lm_state *st = host->alloc(host->ctx, sizeof(*st));
        int r;

        if (!st) {
                host->set_error(host->ctx, "lmdb: out of memory");
                return -ENOMEM;
        }
        st->host = host;
        r = read_map_size(st);
        if (r < 0) {
                host->free(host->ctx, st);
                return r;
        }
        *ret_state = st;
        return 0;
}

static void lm_fini(void *state)
{
        struct lm_state *st = state;

        if (st)
                st->host->free(st->host->ctx, st);
}

/* ---- open, close ----------------------------------------------------------------------- */

/* mkdir -p, private to the user: the store holds copies of their workspaces. */
static int make_dirs(struct lm_state *st, char *path)
{
        struct stat sb;

        for (char *p = path + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = '\0';
                if (mkdir(path, 0700) < 0 && errno != EEXIST) {
                        int err = errno;

                        *p = '/';
                        return FAIL(st, -err, "cannot create %s: %s", path, strerror(err));
                }
                *p = '/';
        }
        if (mkdir(path, 0700) < 0 && errno != EEXIST)
                return FAIL(st, -errno, "cannot create %s: %s", path, strerror(errno));
        if (stat(path, &sb) < 0 || !S_ISDIR(sb.st_mode))
                return FAIL(st, -ENOTDIR, "the store %s is not a directory", path);
        return 0;
}

static int open_databases(struct lm_state *st, struct lm_store *s)
{
        MDB_txn *txn;
        int rc = mdb_txn_begin(s->env, NULL, 0, &txn);

        if (rc == 0)
                rc = mdb_dbi_open(txn, "objects", MDB_CREATE, &s->objects);
        if (rc == 0)
                rc = mdb_dbi_open(txn, "refs", MDB_CREATE, &s->refs);
        if (rc == 0)
                return (rc = mdb_txn_commit(txn)) == 0 ? 0 : lm_fail(st, s, rc, "open");
        mdb_txn_abort(txn);
        return lm_fail(st, s, rc, "open");
}

static void store_free(struct lm_state *st, struct lm_store *s)
{
        if (s->batch)
                mdb_txn_abort(s->batch);
        if (s->env)
                mdb_env_close(s->env);
        st->host->free(st->host->ctx, s->location);
        st->host->free(st->host->ctx, s);
}

static int lm_open(void *state, const char *location, void **ret_store)
{
        struct lm_state *st = state;
        struct lm_store *s;
        int rc, r, dead;

        if (!location || location[0] != '/')
                return FAIL(st, -EINVAL, "the store location must be an absolute path");
        s = st->host->alloc(st->host->ctx, sizeof(*s));
        if (!s)
                return FAIL(st, -ENOMEM, "out of memory");
        memset(s, 0, sizeof(*s));
        s->location = st->host->alloc(st->host->ctx, strlen(location) + 1);
        if (!s->location) {
                st->host->free(st->host->ctx, s);
                return FAIL(st, -ENOMEM, "out of memory");
        }
        strcpy(s->location, location);
        r = make_dirs(st, s->location);
        rc = r < 0 ? 0 : mdb_env_create(&s->env);
        if (r >= 0 && rc == 0)
                rc = mdb_env_set_maxdbs(s->env, 2);
        if (r >= 0 && rc == 0)
                rc = mdb_env_set_mapsize(s->env, (size_t)st->map_size);
        /* NOTLS: read transactions are not tied to threads.  NOMETASYNC: data pages are
         * flushed at each commit, the meta page at the next (or by sync): a crash loses
         * at most the last commit, never the store's integrity. */
        if (r >= 0 && rc == 0)
                rc = mdb_env_open(s->env, s->location, MDB_NOTLS | MDB_NOMETASYNC, 0600);
        if (r >= 0 && rc == 0)
                rc = mdb_reader_check(s->env, &dead); /* slots of killed processes */
        if (r >= 0 && rc != 0)
                r = lm_fail(st, s, rc, "open");
        if (r >= 0)
                r = open_databases(st, s);
        if (r < 0) {
                store_free(st, s);
                return r;
        }
        *ret_store = s;
        return 0;
}

static void lm_close(void *state, void *store)
{
        /* Puts not committed by sync or ref_set are dropped: nothing refers to them. */
        store_free(state, store);
}

/* ---- transactions ---------------------------------------------------------------------- */

static int batch_begin(struct lm_state *st, struct lm_store *s)
{
        int rc;

        if (s->batch)
                return 0;
        rc = mdb_txn_begin(s->env, NULL, 0, &s->batch);
        if (rc != 0) {
                s->batch = NULL;
                return lm_fail(st, s, rc, "write");
        }
        s->batch_bytes = s->batch_puts = 0;
        return 0;
}

static int batch_commit(struct lm_state *st, struct lm_store *s)
{
        int rc;

        if (!s->batch)
                return 0;
        rc = mdb_txn_commit(s->batch); /* frees the transaction, also on failure */
        s->batch = NULL;
        return rc == 0 ? 0 : lm_fail(st, s, rc, "write");
}

static void batch_abort(struct lm_store *s)
{
        if (s->batch)
                mdb_txn_abort(s->batch);
        s->batch = NULL;
}

/* Reads go through the batch when there is one: it holds this process's newest puts. */
static int read_begin(struct lm_state *st, struct lm_store *s, MDB_txn **ret)
{
        int rc;

        if (s->batch) {
                *ret = s->batch;
                return 0;
        }
        rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, ret);
        return rc == 0 ? 0 : lm_fail(st, s, rc, "read");
}

static void read_end(struct lm_store *s, MDB_txn *txn)
{
        if (txn != s->batch)
                mdb_txn_abort(txn);
}

/* ---- objects --------------------------------------------------------------------------- */

static MDB_val digest_key(const struct nono_digest *digest)
{
        MDB_val key = {sizeof(digest->bytes), (void *)digest->bytes};

        return key;
}

static int lm_put(void *state, void *store, const struct nono_digest *digest, const void *data,
                  size_t len)
{
        struct lm_state *st = state;
        struct lm_store *s = store;
        MDB_val key = digest_key(digest), val = {len, (void *)data};
        int r = batch_begin(st, s);
        int rc;

        if (r < 0)
                return r;
        rc = mdb_put(s->batch, s->objects, &key, &val, MDB_NOOVERWRITE);
        if (rc == MDB_KEYEXIST)
                return 0;
        if (rc != 0) {
                /* LMDB requires aborting a transaction after a failed put. */
                batch_abort(s);
                return lm_fail(st, s, rc, "write");
        }
        s->batch_bytes += len;
        if (++s->batch_puts >= BATCH_MAX_PUTS || s->batch_bytes >= BATCH_MAX_BYTES)
                return batch_commit(st, s);
        return 0;
}

static int lm_get(void *state, void *store, const struct nono_digest *digest, void **ret_data,
                  size_t *ret_len)
{
        struct lm_state *st = state;
        struct lm_store *s = store;
        MDB_val key = digest_key(digest), val;
        MDB_txn *txn;
        int r = read_begin(st, s, &txn);
        int rc;

        if (r < 0)
                return r;
        rc = mdb_get(txn, s->objects, &key, &val);
        if (rc == 0) {
                *ret_data = st->host->alloc(st->host->ctx, val.mv_size ? val.mv_size : 1);
                if (*ret_data) {
                        memcpy(*ret_data, val.mv_data, val.mv_size);
                        *ret_len = val.mv_size;
                }
                r = *ret_data ? 0 : FAIL(st, -ENOMEM, "out of memory");
        } else {
                r = rc == MDB_NOTFOUND ? -ENOENT : lm_fail(st, s, rc, "read");
        }
        read_end(s, txn);
        return r;
}

static int lm_exists(void *state, void *store, const struct nono_digest *digest)
{
        struct lm_state *st = state;
        struct lm_store *s = store;
        MDB_val key = digest_key(digest), val;
        MDB_txn *txn;
        int r = read_begin(st, s, &txn);
        int rc;

        if (r < 0)
                return r;
        rc = mdb_get(txn, s->objects, &key, &val);
        read_end(s, txn);
        if (rc == 0)
                return 1;
        return rc == MDB_NOTFOUND ? 0 : lm_fail(st, s, rc, "read");
}

static int lm_object_list(void *state, void *store,
                          int (*each)(const struct nono_digest *digest, void *userdata),
                          void *userdata)
{
        struct lm_state *st = state;
        struct lm_store *s = store;
        struct nono_digest d;
        MDB_cursor *cur = NULL;
        MDB_val key, val;
        MDB_txn *txn;
        int r = read_begin(st, s, &txn);
        int rc;

        if (r < 0)
                return r;
        rc = mdb_cursor_open(txn, s->objects, &cur);
        for (MDB_cursor_op op = MDB_FIRST; rc == 0 && r == 0; op = MDB_NEXT) {
                rc = mdb_cursor_get(cur, &key, &val, op);
                if (rc != 0 || key.mv_size != sizeof(d.bytes))
                        continue;
                memcpy(d.bytes, key.mv_data, sizeof(d.bytes));
                r = each(&d, userdata);
        }
        if (rc != MDB_NOTFOUND && rc != 0)
                r = lm_fail(st, s, rc, "read");
        if (cur)
                mdb_cursor_close(cur);
        read_end(s, txn);
        return r;
}

static int lm_remove(void *state, void *store, const struct nono_digest *digest)
{
        struct lm_state *st = state;
        struct lm_store *s = store;
        MDB_val key = digest_key(digest);
        int r = batch_begin(st, s);
        int rc;

        if (r < 0)
                return r;
        rc = mdb_del(s->batch, s->objects, &key, NULL);
        if (rc == MDB_NOTFOUND)
                return -ENOENT;
        if (rc != 0) {
                batch_abort(s);
                return lm_fail(st, s, rc, "write");
        }
        return 0;
}

static int lm_sync(void *state, void *store)
{
        struct lm_state *st = state;
        struct lm_store *s = store;
        int r = batch_commit(st, s);
        int rc;

        if (r < 0)
                return r;
        rc = mdb_env_sync(s->env, 1);
        return rc == 0 ? 0 : lm_fail(st, s, rc, "flush");
}

/* ---- refs ------------------------------------------------------------------------------ */

static MDB_val name_key(const char *name)
{
        MDB_val key = {strlen(name), (void *)name};

        return key;
}

static int lm_ref_set(void *state, void *store, const char *name, const struct nono_digest *digest)
{
        struct lm_state *st = state;
        struct lm_store *s = store;
        MDB_val key = name_key(name), val = digest_key(digest);
        int r = batch_begin(st, s);
        int rc;

        if (r < 0)
                return r;
        if (key.mv_size == 0 || key.mv_size > 255) {
                batch_abort(s);
                return FAIL(st, -EINVAL, "bad ref name \"%s\"", name);
        }
        rc = mdb_put(s->batch, s->refs, &key, &val, 0);
        if (rc != 0) {
                batch_abort(s);
                return lm_fail(st, s, rc, "write");
        }
        /* The objects of the batch and the ref become durable together. */
        return lm_sync(st, s);
}

static int lm_ref_get(void *state, void *store, const char *name, struct nono_digest *ret_digest)
{
        struct lm_state *st = state;
        struct lm_store *s = store;
        MDB_val key = name_key(name), val;
        MDB_txn *txn;
        int r = read_begin(st, s, &txn);
        int rc;

        if (r < 0)
                return r;
        rc = key.mv_size ? mdb_get(txn, s->refs, &key, &val) : MDB_NOTFOUND;
        if (rc == 0 && val.mv_size == sizeof(ret_digest->bytes))
                memcpy(ret_digest->bytes, val.mv_data, sizeof(ret_digest->bytes));
        else if (rc == 0)
                r = FAIL(st, -EIO, "the ref \"%s\" in %s is damaged", name, s->location);
        else
                r = rc == MDB_NOTFOUND ? -ENOENT : lm_fail(st, s, rc, "read");
        read_end(s, txn);
        return r;
}

static int lm_ref_delete(void *state, void *store, const char *name)
{
        struct lm_state *st = state;
        struct lm_store *s = store;
        MDB_val key = name_key(name);
        int r = batch_begin(st, s);
        int rc;

        if (r < 0)
                return r;
        rc = key.mv_size ? mdb_del(s->batch, s->refs, &key, NULL) : MDB_NOTFOUND;
        if (rc == MDB_NOTFOUND)
                return -ENOENT;
        if (rc != 0) {
                batch_abort(s);
                return lm_fail(st, s, rc, "write");
        }
        return batch_commit(st, s);
}

/* Ref names are at most 255 bytes (checked by ref_set). */
static int lm_ref_list(void *state, void *store, const char *prefix,
                       int (*each)(const char *name, const struct nono_digest *digest,
                                   void *userdata),
                       void *userdata)
{
        struct lm_state *st = state;
        struct lm_store *s = store;
        size_t plen = strlen(prefix);
        MDB_val key = {plen, (void *)prefix}, val;
        struct nono_digest d;
        char name[256];
        MDB_cursor *cur = NULL;
        MDB_txn *txn;
        int r = read_begin(st, s, &txn);
        int rc;

        if (r < 0)
                return r;
        rc = mdb_cursor_open(txn, s->refs, &cur);
        for (MDB_cursor_op op = MDB_SET_RANGE; rc == 0 && r == 0; op = MDB_NEXT) {
                if (op == MDB_SET_RANGE && plen == 0)
                        op = MDB_FIRST;
                rc = mdb_cursor_get(cur, &key, &val, op);
                if (rc != 0)
                        break;
                if (key.mv_size < plen || memcmp(key.mv_data, prefix, plen) != 0)
                        break; /* past the prefix: keys are sorted */
                if (key.mv_size >= sizeof(name) || val.mv_size != sizeof(d.bytes))
                        continue;
                memcpy(name, key.mv_data, key.mv_size);
                name[key.mv_size] = '\0';
                memcpy(d.bytes, val.mv_data, sizeof(d.bytes));
                r = each(name, &d, userdata);
        }
        if (rc != 0 && rc != MDB_NOTFOUND)
                r = lm_fail(st, s, rc, "read");
        if (cur)
                mdb_cursor_close(cur);
        read_end(s, txn);
        return r;
}

static const struct nono_store_ops lm_ops = {
    .size = sizeof(struct nono_store_ops),
    .open = lm_open,
    .put = lm_put,
    .get = lm_get,
    .exists = lm_exists,
    .close = lm_close,
    .ref_set = lm_ref_set,
    .ref_get = lm_ref_get,
    .ref_delete = lm_ref_delete,
    .ref_list = lm_ref_list,
    .sync = lm_sync,
    .object_list = lm_object_list,
    .remove = lm_remove,
};

NONO_PLUGIN_DEFINE(lmdb, NONO_PLUGIN_STORE, "lmdb", "0.1.0",
                   "content-addressed snapshot store in an LMDB environment", lm_init, lm_fini,
                   &lm_ops)
