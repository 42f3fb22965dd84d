/* SPDX-License-Identifier: Apache-2.0 */
#include "content.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chunker.h"
#include "error.h"

#define CHUNKS_MAGIC "NONOCHK1"
#define CHUNKS_HEAD  (8 + 4)
#define CHUNK_REF    (NONO_DIGEST_SIZE + 4)

static void put_le(uint8_t *p, uint64_t v, size_t width)
{
        for (size_t i = 0; i < width; i++)
                p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, size_t width)
{
        uint64_t v = 0;

        for (size_t i = 0; i < width; i++)
                v |= (uint64_t)p[i] << (8 * i);
        return v;
}

static int read_all(int fd, uint8_t *buf, size_t size)
{
        size_t done = 0;

        while (done < size) {
                ssize_t n = read(fd, buf + done, size - done);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -ESTALE; /* shrank while read */
                done += (size_t)n;
        }
        return 0;
}

static int store_small(struct objstore *os, int fd, size_t size, struct mentry *e)
{
        uint8_t *buf = malloc(size ? size : 1);
        int r;

        if (!buf)
                return -ENOMEM;
        r = read_all(fd, buf, size);
        if (r < 0)
                r = nono_error(r, "cannot read %s: %s", e->path, strerror(-r));
        else
                r = objstore_put(os, buf, size, &e->digest);
        free(buf);
        e->flags = 0;
        return r;
}

/* Large files are read in blocks (not mapped: a file truncated meanwhile would kill the
 * process with SIGBUS); a block holds at least CHUNK_MAX bytes, all chunk_next looks at. */
#define READ_BLOCK (8u << 20)

struct chunk_list {
        uint8_t *p;
        size_t n, cap; /* chunks */
};

static int chunk_list_add(struct chunk_list *l, const struct nono_digest *d, size_t len)
{
        if (l->n == l->cap) {
                size_t cap = l->cap ? l->cap * 2 : 256;
                uint8_t *bigger = realloc(l->p, CHUNKS_HEAD + cap * CHUNK_REF);

                if (!bigger)
                        return -ENOMEM;
                l->p = bigger;
                l->cap = cap;
        }
        memcpy(l->p + CHUNKS_HEAD + l->n * CHUNK_REF, d->bytes, NONO_DIGEST_SIZE);
        put_le(l->p + CHUNKS_HEAD + l->n * CHUNK_REF + NONO_DIGEST_SIZE, len, 4);
        l->n++;
        return 0;
}

/* Fills buf[*have..cap); sets *eof at the end of the file. */
static int fill(int fd, uint8_t *buf, size_t cap, size_t *have, int *eof)
{
        while (*have < cap && !*eof) {
                ssize_t n = read(fd, buf + *have, cap - *have);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                *eof = n == 0;
                *have += (size_t)n;
        }
        return 0;
}

static int store_chunks(struct objstore *os, int fd, struct mentry *e)
{
        struct chunk_list l = {NULL, 0, 0};
        uint8_t *buf = malloc(READ_BLOCK);
        size_t have = 0, off;
        uint64_t total = 0;
        int eof = 0, r = buf ? 0 : -ENOMEM;

        while (r >= 0 && !(eof && have == 0)) {
                r = fill(fd, buf, READ_BLOCK, &have, &eof);
                if (r < 0) {
                        r = nono_error(r, "cannot read %s: %s", e->path, strerror(-r));
                        break;
                }
                for (off = 0; r >= 0 && (have - off >= CHUNK_MAX || (eof && off < have));) {
                        size_t len = chunk_next(buf + off, have - off);
                        struct nono_digest d;

                        r = objstore_put(os, buf + off, len, &d);
                        if (r >= 0)
                                r = chunk_list_add(&l, &d, len);
                        off += len;
                        total += len;
                }
                memmove(buf, buf + off, have - off);
                have -= off;
        }
        /* A file emptied while read: a list of no chunks. */
        if (r >= 0 && !l.p && !(l.p = malloc(CHUNKS_HEAD)))
                r = -ENOMEM;
        if (r >= 0) {
                memcpy(l.p, CHUNKS_MAGIC, 8);
                put_le(l.p + 8, l.n, 4);
                r = objstore_put(os, l.p, CHUNKS_HEAD + l.n * CHUNK_REF, &e->digest);
        }
        e->flags = ENTRY_CHUNKED;
        e->size = total; /* what was read, should the file have changed meanwhile */
        free(l.p);
        free(buf);
        return r;
}

int content_store(struct objstore *os, int fd, uint64_t size, struct mentry *e)
{
        if (size <= CHUNK_THRESHOLD)
                return store_small(os, fd, (size_t)size, e);
        return store_chunks(os, fd, e);
}

/* The chunk list of a chunked file, checked for shape. */
static int load_chunk_list(struct objstore *os, const struct mentry *e, uint8_t **ret,
                           size_t *ret_n)
{
        size_t len, n;
        uint8_t *p;
        int r = objstore_get(os, &e->digest, (void **)&p, &len);

        if (r < 0)
                return r;
        n = len >= CHUNKS_HEAD ? get_le(p + 8, 4) : 0;
        if (len < CHUNKS_HEAD || memcmp(p, CHUNKS_MAGIC, 8) != 0 ||
            len != CHUNKS_HEAD + n * CHUNK_REF) {
                free(p);
                return nono_error(-EBADMSG, "the chunk list of %s is malformed", e->path);
        }
        *ret = p;
        *ret_n = n;
        return 0;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
        while (len > 0) {
                ssize_t n = write(fd, p, len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

/* The object, verified, then its length checked against the manifest's. */
static int write_object(struct objstore *os, const struct nono_digest *d, uint64_t expect_len,
                        int fd)
{
        void *data;
        size_t len;
        int r = objstore_get(os, d, &data, &len);

        if (r < 0)
                return r;
        if (len != expect_len)
                r = nono_error(-EBADMSG, "an object has %zu bytes where the manifest says %llu",
                               len, (unsigned long long)expect_len);
        else if ((r = write_all(fd, data, len)) < 0)
                r = nono_error(r, "%s", strerror(-r));
        free(data);
        return r;
}

int content_write(struct objstore *os, const struct mentry *e, int fd)
{
        uint8_t *list;
        size_t n;
        int r;

        if (!(e->flags & ENTRY_CHUNKED))
                return write_object(os, &e->digest, e->size, fd);
        r = load_chunk_list(os, e, &list, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                const uint8_t *ref = list + CHUNKS_HEAD + i * CHUNK_REF;
                struct nono_digest d;

                memcpy(d.bytes, ref, NONO_DIGEST_SIZE);
                r = write_object(os, &d, get_le(ref + NONO_DIGEST_SIZE, 4), fd);
        }
        free(list);
        return r;
}

/* Adds the object to `seen`, reading and verifying it (once) with `check`. */
static int visit(struct objstore *os, const struct nono_digest *d, int check,
                 struct digest_set *seen)
{
        void *data;
        size_t len;
        int r = digest_set_add(seen, d);

        if (r <= 0 || !check)
                return r < 0 ? -ENOMEM : 0;
        r = objstore_get(os, d, &data, &len);
        if (r >= 0)
                free(data);
        return r;
}

int content_objects(struct objstore *os, const struct mentry *e, int check, struct digest_set *seen)
{
        uint8_t *list;
        size_t n;
        int r;

        if (!(e->flags & ENTRY_CHUNKED))
                return visit(os, &e->digest, check, seen);
        /* The chunk list is read in any case: it names the chunks. */
        if (digest_set_contains(seen, &e->digest))
                return 0;
        r = load_chunk_list(os, e, &list, &n);
        if (r < 0)
                return r;
        r = visit(os, &e->digest, 0, seen);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                struct nono_digest d;

                memcpy(d.bytes, list + CHUNKS_HEAD + i * CHUNK_REF, NONO_DIGEST_SIZE);
                r = visit(os, &d, check, seen);
        }
        free(list);
        return r;
}
