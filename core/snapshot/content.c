/* SPDX-License-Identifier: Apache-2.0 */
#include "content.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

static int store_chunks(struct objstore *os, const uint8_t *data, size_t size, struct mentry *e)
{
        /* Every chunk but the last is at least CHUNK_MIN. */
        size_t max_chunks = size / CHUNK_MIN + 1, n = 0;
        uint8_t *list = malloc(CHUNKS_HEAD + max_chunks * CHUNK_REF);
        int r = 0;

        if (!list)
                return -ENOMEM;
        memcpy(list, CHUNKS_MAGIC, 8);
        for (size_t off = 0; off < size && r >= 0; n++) {
                size_t len = chunk_next(data + off, size - off);
                struct nono_digest d;

                r = objstore_put(os, data + off, len, &d);
                memcpy(list + CHUNKS_HEAD + n * CHUNK_REF, d.bytes, NONO_DIGEST_SIZE);
                put_le(list + CHUNKS_HEAD + n * CHUNK_REF + NONO_DIGEST_SIZE, len, 4);
                off += len;
        }
        put_le(list + 8, n, 4);
        if (r >= 0)
                r = objstore_put(os, list, CHUNKS_HEAD + n * CHUNK_REF, &e->digest);
        e->flags = ENTRY_CHUNKED;
        free(list);
        return r;
}

int content_store(struct objstore *os, int fd, uint64_t size, struct mentry *e)
{
        void *map;
        int r;

        if (size <= CHUNK_THRESHOLD)
                return store_small(os, fd, (size_t)size, e);
        if (size > SIZE_MAX / 2)
                return nono_error(-EFBIG, "cannot snapshot %s: too large", e->path);
        map = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED)
                return nono_error(-errno, "cannot read %s: %s", e->path, strerror(errno));
        madvise(map, (size_t)size, MADV_SEQUENTIAL);
        r = store_chunks(os, map, (size_t)size, e);
        munmap(map, (size_t)size);
        return r;
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

static int visit(struct objstore *os, const struct nono_digest *d, int check,
                 struct digest_set *seen, int (*each)(const struct nono_digest *d, void *userdata),
                 void *userdata)
{
        void *data;
        size_t len;
        int r = seen ? digest_set_add(seen, d) : 1;

        if (r <= 0)
                return r;
        if (check) {
                r = objstore_get(os, d, &data, &len);
                if (r < 0)
                        return r;
                free(data);
        }
        return each ? each(d, userdata) : 0;
}

int content_objects(struct objstore *os, const struct mentry *e, int check, struct digest_set *seen,
                    int (*each)(const struct nono_digest *d, void *userdata), void *userdata)
{
        uint8_t *list;
        size_t n;
        int r;

        if (!(e->flags & ENTRY_CHUNKED))
                return visit(os, &e->digest, check, seen, each, userdata);
        /* The chunk list is read in any case: it names the chunks. */
        if (seen && digest_set_contains(seen, &e->digest))
                return 0;
        r = load_chunk_list(os, e, &list, &n);
        if (r < 0)
                return r;
        r = visit(os, &e->digest, 0, seen, each, userdata);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                struct nono_digest d;

                memcpy(d.bytes, list + CHUNKS_HEAD + i * CHUNK_REF, NONO_DIGEST_SIZE);
                r = visit(os, &d, check, seen, each, userdata);
        }
        free(list);
        return r;
}
