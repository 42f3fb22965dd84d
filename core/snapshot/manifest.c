/* SPDX-License-Identifier: Apache-2.0 */
#include "manifest.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "error.h"
#include "strv.h"

#define DIR_MAGIC    "NONODIR1"
#define RECORD_MAGIC "NONOSNP1"
#define MAGIC_LEN    8
/* type, flags, mode, size, mtime, ctime, ino, digest, name length */
#define ENTRY_FIXED (1 + 1 + 4 + 8 + 8 + 8 + 8 + NONO_DIGEST_SIZE + 2)
#define RECORD_SIZE (MAGIC_LEN + 8 + NONO_DIGEST_SIZE + 8 + 8)

void manifest_free(struct manifest *m)
{
        for (size_t i = 0; i < m->n; i++) {
                free(m->e[i].path);
                free(m->e[i].target);
        }
        free(m->e);
        memset(m, 0, sizeof(*m));
}

int manifest_add(struct manifest *m, const struct mentry *e)
{
        struct mentry *copy;

        if (m->n == m->cap) {
                size_t cap = m->cap ? m->cap * 2 : 256;
                struct mentry *bigger = realloc(m->e, cap * sizeof(*bigger));

                if (!bigger)
                        return -ENOMEM;
                m->e = bigger;
                m->cap = cap;
        }
        copy = &m->e[m->n];
        *copy = *e;
        copy->path = nono_strdup(e->path);
        copy->target = e->target ? nono_strdup(e->target) : NULL;
        if (!copy->path || (e->target && !copy->target)) {
                free(copy->path);
                free(copy->target);
                return -ENOMEM;
        }
        m->n++;
        if (e->type == ENTRY_FILE) {
                m->files++;
                m->bytes += e->size;
        }
        return 0;
}

int path_compare(const char *a, const char *b)
{
        for (;; a++, b++) {
                unsigned char ca = *a == '/' ? 1 : (unsigned char)*a;
                unsigned char cb = *b == '/' ? 1 : (unsigned char)*b;

                /* '/' sorts before every other byte, NUL (the end) before '/'. */
                if (ca != cb || !ca)
                        return ca - cb;
        }
}

const struct mentry *manifest_find(const struct manifest *m, const char *path)
{
        size_t lo = 0, hi = m->n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = path_compare(m->e[mid].path, path);

                if (c == 0)
                        return &m->e[mid];
                if (c < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return NULL;
}

int name_is_valid(const char *name, size_t len)
{
        if (len == 0 || (len == 1 && name[0] == '.') ||
            (len == 2 && name[0] == '.' && name[1] == '.'))
                return 0;
        return memchr(name, '/', len) == NULL && memchr(name, '\0', len) == NULL;
}

int path_is_valid(const char *path)
{
        const char *p = path;

        for (;;) {
                const char *slash = strchr(p, '/');
                size_t len = slash ? (size_t)(slash - p) : strlen(p);

                if (!name_is_valid(p, len))
                        return 0;
                if (!slash)
                        return 1;
                p = slash + 1;
        }
}

/* ---- encoding -------------------------------------------------------------------------- */

struct buf {
        uint8_t *p;
        size_t n, cap;
        int failed;
};

static void buf_put(struct buf *b, const void *data, size_t len)
{
        if (b->failed)
                return;
        if (b->n + len > b->cap) {
                size_t cap = b->cap ? b->cap : 4096;
                uint8_t *bigger;

                while (cap < b->n + len)
                        cap *= 2;
                bigger = realloc(b->p, cap);
                if (!bigger) {
                        b->failed = 1;
                        return;
                }
                b->p = bigger;
                b->cap = cap;
        }
        memcpy(b->p + b->n, data, len);
        b->n += len;
}

static void buf_u64(struct buf *b, uint64_t v, size_t width)
{
        uint8_t le[8];

        for (size_t i = 0; i < width; i++)
                le[i] = (uint8_t)(v >> (8 * i));
        buf_put(b, le, width);
}

static uint64_t get_u64(const uint8_t *p, size_t width)
{
        uint64_t v = 0;

        for (size_t i = 0; i < width; i++)
                v |= (uint64_t)p[i] << (8 * i);
        return v;
}

static void encode_entry(struct buf *b, const struct mentry *e, const char *name)
{
        size_t len = strlen(name);

        buf_u64(b, (uint8_t)e->type, 1);
        buf_u64(b, e->flags, 1);
        buf_u64(b, e->mode, 4);
        buf_u64(b, e->size, 8);
        buf_u64(b, (uint64_t)e->mtime_ns, 8);
        buf_u64(b, (uint64_t)e->ctime_ns, 8);
        buf_u64(b, e->ino, 8);
        buf_put(b, e->digest.bytes, NONO_DIGEST_SIZE);
        buf_u64(b, len, 2);
        buf_put(b, name, len);
        if (e->type == ENTRY_SYMLINK) {
                buf_u64(b, strlen(e->target), 2);
                buf_put(b, e->target, strlen(e->target));
        }
}

static int is_inside(const char *path, const char *dir, size_t dlen)
{
        return dlen == 0 || (strncmp(path, dir, dlen) == 0 && path[dlen] == '/');
}

/* The digest `prev` recorded for the directory `dir` ("" the root), or NULL. */
static const struct nono_digest *prev_dir_digest(const struct manifest *prev, const char *dir)
{
        const struct mentry *e;

        if (!prev)
                return NULL;
        if (!*dir)
                return &prev->root;
        e = manifest_find(prev, dir);
        return e && e->type == ENTRY_DIR ? &e->digest : NULL;
}

/* Stores the directory whose children start at *i (its path is `dir`, "" for the
 * root); subdirectories first, as their digests are part of this one. */
static int store_dir(struct objstore *os, struct manifest *m, const struct manifest *prev,
                     size_t *i, const char *dir, struct nono_digest *ret)
{
        const struct nono_digest *known;
        size_t dlen = strlen(dir), count_at;
        struct buf b = {0};
        uint32_t count = 0;
        int r = 0;

        buf_put(&b, DIR_MAGIC, MAGIC_LEN);
        count_at = b.n;
        buf_u64(&b, 0, 4);
        while (r >= 0 && *i < m->n && is_inside(m->e[*i].path, dir, dlen)) {
                struct mentry *e = &m->e[(*i)++];

                if (e->type == ENTRY_DIR)
                        r = store_dir(os, m, prev, i, e->path, &e->digest);
                encode_entry(&b, e, e->path + (dlen ? dlen + 1 : 0));
                count++;
        }
        if (r >= 0 && b.failed)
                r = -ENOMEM;
        if (r >= 0) {
                for (int k = 0; k < 4; k++)
                        b.p[count_at + (size_t)k] = (uint8_t)(count >> (8 * k));
                digest_of(b.p, b.n, ret);
                known = prev_dir_digest(prev, dir);
                /* Unchanged since `prev`, which the store holds: most directories. */
                if (!known || !digest_equal(known, ret))
                        r = objstore_put(os, b.p, b.n, ret);
        }
        free(b.p);
        return r;
}

int manifest_store(struct objstore *os, struct manifest *m, const struct manifest *prev,
                   struct nono_digest *ret_record)
{
        struct buf b = {0};
        size_t i = 0;
        int r = store_dir(os, m, prev, &i, "", &m->root);

        if (r < 0)
                return r;
        buf_put(&b, RECORD_MAGIC, MAGIC_LEN);
        buf_u64(&b, (uint64_t)m->time_ns, 8);
        buf_put(&b, m->root.bytes, NONO_DIGEST_SIZE);
        buf_u64(&b, m->files, 8);
        buf_u64(&b, m->bytes, 8);
        r = b.failed ? -ENOMEM : objstore_put(os, b.p, b.n, ret_record);
        free(b.p);
        return r;
}

/* ---- decoding -------------------------------------------------------------------------- */

static int bad_object(const struct nono_digest *d, const char *why)
{
        char hex[DIGEST_HEX_SIZE];

        digest_hex(d, hex);
        return nono_error(-EBADMSG, "snapshot object %s is malformed: %s", hex, why);
}

int manifest_load_record(struct objstore *os, const struct nono_digest *record,
                         struct manifest *ret)
{
        uint8_t *p;
        size_t len;
        int r = objstore_get(os, record, (void **)&p, &len);

        if (r < 0)
                return r;
        memset(ret, 0, sizeof(*ret));
        if (len != RECORD_SIZE || memcmp(p, RECORD_MAGIC, MAGIC_LEN) != 0) {
                free(p);
                return bad_object(record, "not a snapshot record");
        }
        ret->time_ns = (int64_t)get_u64(p + MAGIC_LEN, 8);
        memcpy(ret->root.bytes, p + MAGIC_LEN + 8, NONO_DIGEST_SIZE);
        ret->files = get_u64(p + MAGIC_LEN + 8 + NONO_DIGEST_SIZE, 8);
        ret->bytes = get_u64(p + MAGIC_LEN + 16 + NONO_DIGEST_SIZE, 8);
        free(p);
        return 0;
}

struct cursor {
        const uint8_t *p, *end;
};

static const uint8_t *take(struct cursor *c, size_t n)
{
        const uint8_t *at = c->p;

        if ((size_t)(c->end - c->p) < n)
                return NULL;
        c->p += n;
        return at;
}

/* One child: fills *e (path = dir/name, target allocated); the caller adds it. */
static int decode_entry(struct cursor *c, const char *dir, struct mentry *e, const char **why)
{
        const uint8_t *f = take(c, ENTRY_FIXED), *name, *target;
        size_t len, tlen;

        memset(e, 0, sizeof(*e));
        if (!f)
                return *why = "truncated", -EBADMSG;
        e->type = (char)f[0];
        e->flags = f[1];
        e->mode = (uint32_t)get_u64(f + 2, 4);
        e->size = get_u64(f + 6, 8);
        e->mtime_ns = (int64_t)get_u64(f + 14, 8);
        e->ctime_ns = (int64_t)get_u64(f + 22, 8);
        e->ino = get_u64(f + 30, 8);
        memcpy(e->digest.bytes, f + 38, NONO_DIGEST_SIZE);
        len = get_u64(f + 38 + NONO_DIGEST_SIZE, 2);
        name = take(c, len);
        if (!name)
                return *why = "truncated", -EBADMSG;
        /* A name like "..", "a/b" or "" would let a restore write outside the root. */
        if (!name_is_valid((const char *)name, len))
                return *why = "a path component is not a plain name", -EBADMSG;
        if (e->type != ENTRY_FILE && e->type != ENTRY_DIR && e->type != ENTRY_SYMLINK)
                return *why = "unknown entry type", -EBADMSG;
        if (e->mode & ~07777u)
                return *why = "bad mode", -EBADMSG;
        if (e->type == ENTRY_SYMLINK) {
                const uint8_t *tl = take(c, 2);

                tlen = tl ? get_u64(tl, 2) : 0;
                target = tl ? take(c, tlen) : NULL;
                if (!target || tlen == 0 || memchr(target, '\0', tlen))
                        return *why = "bad symlink target", -EBADMSG;
                e->target = strndup((const char *)target, tlen);
        }
        e->path = *dir ? nono_asprintf("%s/%.*s", dir, (int)len, (const char *)name)
                       : strndup((const char *)name, len);
        if (!e->path || (e->type == ENTRY_SYMLINK && !e->target)) {
                free(e->path);
                free(e->target);
                return -ENOMEM;
        }
        return 0;
}

struct loader {
        struct objstore *os;
        const struct manifest *hint;
        struct manifest *m;
};

static int load_dir(struct loader *l, const struct nono_digest *d, const char *dir, unsigned depth);

/* The subtree of `dir` as `hint` has it, when its directory object is the same. */
static int copy_from_hint(struct loader *l, const struct mentry *e)
{
        const struct mentry *h = l->hint ? manifest_find(l->hint, e->path) : NULL;
        size_t len = strlen(e->path);
        int r = 0;

        if (!h || h->type != ENTRY_DIR || !digest_equal(&h->digest, &e->digest))
                return 0;
        for (size_t k = (size_t)(h - l->hint->e) + 1; r >= 0 && k < l->hint->n; k++) {
                if (!is_inside(l->hint->e[k].path, e->path, len))
                        break;
                r = manifest_add(l->m, &l->hint->e[k]);
        }
        return r < 0 ? r : 1;
}

static int add_child(struct loader *l, struct mentry *e, unsigned depth)
{
        int r = manifest_add(l->m, e);
        char *path = e->path;

        free(e->target);
        if (r >= 0 && e->type == ENTRY_DIR)
                r = copy_from_hint(l, e);
        if (r == 0 && e->type == ENTRY_DIR)
                r = load_dir(l, &e->digest, path, depth + 1);
        free(path);
        return r < 0 ? r : 0;
}

static int load_dir(struct loader *l, const struct nono_digest *d, const char *dir, unsigned depth)
{
        const char *why = NULL;
        struct cursor c;
        uint8_t *p;
        size_t len, count;
        char *prev = NULL;
        int r;

        if (depth > 4096)
                return bad_object(d, "directories nested too deep");
        r = objstore_get(l->os, d, (void **)&p, &len);
        if (r < 0)
                return r;
        c = (struct cursor){p, p + len};
        if (len < MAGIC_LEN + 4 || memcmp(take(&c, MAGIC_LEN), DIR_MAGIC, MAGIC_LEN) != 0)
                why = "not a directory";
        count = why ? 0 : get_u64(take(&c, 4), 4);
        for (size_t k = 0; k < count && r >= 0 && !why; k++) {
                struct mentry e;

                r = decode_entry(&c, dir, &e, &why);
                if (r < 0)
                        break;
                /* Sorted and unique, as encoded: a duplicate would be restored twice. */
                if (prev && path_compare(prev, e.path) >= 0) {
                        why = "children out of order";
                        free(e.path);
                        free(e.target);
                        break;
                }
                free(prev);
                prev = nono_strdup(e.path);
                r = prev ? add_child(l, &e, depth) : -ENOMEM;
                if (!prev) {
                        free(e.path);
                        free(e.target);
                }
        }
        free(prev);
        if (!why && r >= 0 && c.p != c.end)
                why = "trailing bytes";
        free(p);
        if (why)
                return bad_object(d, why);
        return r;
}

int manifest_load(struct objstore *os, const struct nono_digest *record,
                  const struct manifest *hint, struct manifest *ret)
{
        struct loader l = {os, hint, ret};
        struct manifest rec;
        int r = manifest_load_record(os, record, &rec);

        memset(ret, 0, sizeof(*ret));
        if (r < 0)
                return r;
        r = load_dir(&l, &rec.root, "", 0);
        ret->time_ns = rec.time_ns;
        ret->root = rec.root;
        if (r < 0)
                manifest_free(ret);
        return r;
}

/* ---- comparing ------------------------------------------------------------------------- */

int mentry_differs(const struct mentry *a, const struct mentry *b)
{
        if (a->type != b->type || a->mode != b->mode)
                return 1;
        switch (a->type) {
        case ENTRY_FILE:
                return a->flags != b->flags || !digest_equal(&a->digest, &b->digest);
        case ENTRY_SYMLINK:
                return strcmp(a->target, b->target) != 0;
        default:
                return 0; /* a directory's content is its children, compared one by one */
        }
}

int manifest_diff(const struct manifest *old, const struct manifest *new,
                  struct snapshot_changes *ret)
{
        size_t i = 0, j = 0;
        int r = 0;

        memset(ret, 0, sizeof(*ret));
        while (r >= 0 && (i < old->n || j < new->n)) {
                int c = i == old->n   ? 1
                        : j == new->n ? -1
                                      : path_compare(old->e[i].path, new->e[j].path);

                if (c < 0) {
                        r = snapshot_changes_add(ret, SNAPSHOT_DELETED, old->e[i].type,
                                                 old->e[i].path);
                        i++;
                } else if (c > 0) {
                        r = snapshot_changes_add(ret, SNAPSHOT_CREATED, new->e[j].type,
                                                 new->e[j].path);
                        j++;
                } else {
                        if (mentry_differs(&old->e[i], &new->e[j]))
                                r = snapshot_changes_add(ret, SNAPSHOT_MODIFIED, new->e[j].type,
                                                         new->e[j].path);
                        i++;
                        j++;
                }
        }
        if (r < 0)
                snapshot_changes_free(ret);
        return r;
}
