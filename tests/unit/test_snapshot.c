/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The snapshot engine's pieces: chunker, manifest encoding and Merkle root, incremental
 * reuse of digests, and the refusal of names and paths that would leave the root.
 * The store is the real lmdb plugin of the build tree, in a temporary directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chunker.h"
#include "cunit-main.h"
#include "digest.h"
#include "engine.h"
#include "manifest.h"
#include "objects.h"
#include "walk.h"

static char tmpdir[] = "/var/tmp/nono-test-snapshot-XXXXXX";

static int suite_init(void)
{
        char *state;

        if (!mkdtemp(tmpdir))
                return -1;
        state = nono_path_join(tmpdir, "state");
        setenv("XDG_STATE_HOME", state, 1);
        free(state);
        return 0;
}

static int suite_cleanup(void)
{
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        return system(cmd) == 0 ? 0 : -1;
}

/* Deterministic pseudo-random bytes (xorshift), the same in every run. */
static uint8_t *random_bytes(size_t len, uint64_t seed)
{
        uint8_t *p = malloc(len);

        for (size_t i = 0; p && i < len; i++) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                p[i] = (uint8_t)seed;
        }
        return p;
}

/* The digests of the chunks of `data`, in a set; returns the number of chunks. */
static size_t chunk_set(const uint8_t *data, size_t len, struct digest_set *set)
{
        size_t n = 0;

        for (size_t off = 0; off < len; n++) {
                size_t c = chunk_next(data + off, len - off);
                struct nono_digest d;

                CU_ASSERT_FATAL(c > 0);
                if (off + c < len) {
                        CU_ASSERT(c >= CHUNK_MIN);
                        CU_ASSERT(c <= CHUNK_MAX);
                }
                digest_of(data + off, c, &d);
                digest_set_add(set, &d);
                off += c;
        }
        return n;
}

static void test_chunker_deterministic(void)
{
        size_t len = 8u << 20, n1, n2;
        uint8_t *data = random_bytes(len, 42);
        struct digest_set a = {0}, b = {0};

        n1 = chunk_set(data, len, &a);
        n2 = chunk_set(data, len, &b);
        CU_ASSERT_EQUAL(n1, n2);
        CU_ASSERT_EQUAL(a.n, b.n);
        /* Around the average size: 8 MiB / 64 KiB = 128, normalised chunking keeps it
         * within a factor of two. */
        CU_ASSERT(n1 > 64 && n1 < 256);
        digest_set_free(&a);
        digest_set_free(&b);
        free(data);
}

/* An insertion moves the boundaries near it only: almost every chunk is shared. */
static void test_chunker_boundary_shift(void)
{
        size_t len = 8u << 20, n, shared = 0;
        uint8_t *data = random_bytes(len + 1, 7), *edited = malloc(len + 1);
        struct digest_set a = {0}, b = {0};

        memcpy(edited, data, len / 2);
        edited[len / 2] = 0x5a;
        memcpy(edited + len / 2 + 1, data + len / 2, len - len / 2);
        n = chunk_set(data, len, &a);
        chunk_set(edited, len + 1, &b);
        for (size_t i = 0; i < b.cap; i++)
                shared += b.used[i] && digest_set_contains(&a, &b.slots[i]);
        CU_ASSERT(shared + 3 >= n);
        digest_set_free(&a);
        digest_set_free(&b);
        free(data);
        free(edited);
}

static void test_path_order_and_names(void)
{
        /* A directory's subtree follows it, before a sibling that extends its name. */
        CU_ASSERT(path_compare("a", "a/b") < 0);
        CU_ASSERT(path_compare("a/b", "a.txt") < 0);
        CU_ASSERT(path_compare("a/z", "a.txt") < 0);
        CU_ASSERT(path_compare("ab", "a/b") > 0);
        CU_ASSERT(path_compare("x", "x") == 0);
        CU_ASSERT(name_is_valid("a.b", 3));
        CU_ASSERT(!name_is_valid("..", 2));
        CU_ASSERT(!name_is_valid(".", 1));
        CU_ASSERT(!name_is_valid("", 0));
        CU_ASSERT(!name_is_valid("a/b", 3));
        CU_ASSERT(path_is_valid("a/b/c"));
        CU_ASSERT(!path_is_valid("a/../b"));
        CU_ASSERT(!path_is_valid("/etc/passwd"));
        CU_ASSERT(!path_is_valid("a//b"));
        CU_ASSERT(!path_is_valid(".."));
}

static void add(struct manifest *m, const char *path, char type, uint32_t mode, const char *data,
                const char *target)
{
        struct mentry e = {(char *)path, (char *)target, type, 0, mode, 0, 1000, 2000, 3, {{0}}};

        if (data) {
                e.size = strlen(data);
                digest_of(data, e.size, &e.digest);
        }
        CU_ASSERT_FATAL(manifest_add(m, &e) == 0);
}

static void sample_manifest(struct manifest *m, const char *content)
{
        memset(m, 0, sizeof(*m));
        m->time_ns = 123456789;
        add(m, "a", ENTRY_DIR, 0755, NULL, NULL);
        add(m, "a/empty", ENTRY_DIR, 0700, NULL, NULL);
        add(m, "a/file", ENTRY_FILE, 0640, content, NULL);
        add(m, "a.txt", ENTRY_FILE, 0600, "x", NULL);
        add(m, "link", ENTRY_SYMLINK, 0777, NULL, "a/file");
}

static void test_manifest_roundtrip(void)
{
        struct manifest m, back;
        struct nono_digest record;
        struct objstore os;

        CU_ASSERT_FATAL(objstore_open(&os, OBJSTORE_SHARED) == 0);
        sample_manifest(&m, "hello");
        CU_ASSERT_FATAL(manifest_store(&os, &m, NULL, &record) == 0);
        CU_ASSERT_FATAL(manifest_load(&os, &record, NULL, &back) == 0);
        CU_ASSERT_EQUAL_FATAL(back.n, m.n);
        CU_ASSERT_EQUAL(back.time_ns, m.time_ns);
        CU_ASSERT(digest_equal(&back.root, &m.root));
        for (size_t i = 0; i < m.n; i++) {
                CU_ASSERT_STRING_EQUAL(back.e[i].path, m.e[i].path);
                CU_ASSERT_EQUAL(back.e[i].type, m.e[i].type);
                CU_ASSERT_EQUAL(back.e[i].mode, m.e[i].mode);
                CU_ASSERT_EQUAL(back.e[i].size, m.e[i].size);
                CU_ASSERT_EQUAL(back.e[i].mtime_ns, m.e[i].mtime_ns);
                CU_ASSERT(!mentry_differs(&back.e[i], &m.e[i]));
        }
        CU_ASSERT_STRING_EQUAL(manifest_find(&back, "link")->target, "a/file");
        /* Loading with an identical snapshot as hint copies instead of reading. */
        {
                struct manifest again;

                CU_ASSERT_FATAL(manifest_load(&os, &record, &back, &again) == 0);
                CU_ASSERT_EQUAL_FATAL(again.n, back.n);
                for (size_t i = 0; i < back.n; i++) {
                        CU_ASSERT_STRING_EQUAL(again.e[i].path, back.e[i].path);
                        CU_ASSERT(!mentry_differs(&again.e[i], &back.e[i]));
                }
                manifest_free(&again);
        }
        CU_ASSERT_PTR_NULL(manifest_find(&back, "a/nothing"));
        manifest_free(&back);
        manifest_free(&m);
        objstore_close(&os);
}

/* The root digest covers every entry, and an unchanged tree stores nothing again. */
static void test_merkle_root(void)
{
        struct manifest m1, m2, m3;
        struct nono_digest r1, r2, r3;
        struct objstore os;
        uint64_t added;

        CU_ASSERT_FATAL(objstore_open(&os, OBJSTORE_SHARED) == 0);
        sample_manifest(&m1, "one");
        sample_manifest(&m2, "one");
        sample_manifest(&m3, "two");
        m2.time_ns = m1.time_ns + 1;
        CU_ASSERT_FATAL(manifest_store(&os, &m1, NULL, &r1) == 0);
        added = os.stats.objects_added;
        CU_ASSERT_FATAL(manifest_store(&os, &m2, NULL, &r2) == 0);
        /* Only the record (its time differs): every directory object is shared. */
        CU_ASSERT_EQUAL(os.stats.objects_added, added + 1);
        CU_ASSERT(digest_equal(&m1.root, &m2.root));
        CU_ASSERT(!digest_equal(&r1, &r2));
        CU_ASSERT_FATAL(manifest_store(&os, &m3, NULL, &r3) == 0);
        CU_ASSERT(!digest_equal(&m1.root, &m3.root));
        manifest_free(&m1);
        manifest_free(&m2);
        manifest_free(&m3);
        objstore_close(&os);
}

/* A directory object whose child is named "..": loading it fails, nothing is listed. */
static void test_refuses_bad_names(void)
{
        static const char *bad[] = {"..", ".", "a/b", ""};
        struct objstore os;

        CU_ASSERT_FATAL(objstore_open(&os, OBJSTORE_SHARED) == 0);
        for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
                struct manifest m = {0}, back;
                struct nono_digest record;

                add(&m, "placeholder", ENTRY_FILE, 0644, "x", NULL);
                /* Same length as the placeholder's name is not needed: the encoder
                 * writes whatever name it is given. */
                free(m.e[0].path);
                m.e[0].path = strdup(bad[k]);
                CU_ASSERT_FATAL(manifest_store(&os, &m, NULL, &record) == 0);
                CU_ASSERT_EQUAL(manifest_load(&os, &record, NULL, &back), -EBADMSG);
                manifest_free(&m);
        }
        objstore_close(&os);
}

static void write_file(const char *dir, const char *name, const char *text)
{
        char *path = nono_path_join(dir, name);
        FILE *f = fopen(path, "w");

        CU_ASSERT_FATAL(f != NULL);
        fputs(text, f);
        fclose(f);
        free(path);
}

/* Unchanged files keep their digests from the previous snapshot without being read. */
static void test_incremental_reuse(void)
{
        char *root = nono_path_join(tmpdir, "tree");
        struct walk_options wo = {0};
        struct manifest m0, m1, m2;
        struct objstore os;
        struct nono_digest rec;
        int fd;

        mkdir(root, 0755);
        write_file(root, "a", "alpha");
        write_file(root, "b", "beta");
        write_file(root, "c", "gamma");
        fd = open(root, O_RDONLY | O_DIRECTORY);
        CU_ASSERT_FATAL(fd >= 0 && objstore_open(&os, OBJSTORE_SHARED) == 0);
        CU_ASSERT_FATAL(snapshot_take(&os, fd, &wo, NULL, &m0, &rec) == 0);
        CU_ASSERT_EQUAL(os.stats.files_hashed, 3);
        /* Files changed within RACY_NS of a snapshot are hashed again: wait past it. */
        usleep(150 * 1000);
        CU_ASSERT_FATAL(snapshot_take(&os, fd, &wo, &m0, &m1, &rec) == 0);
        CU_ASSERT_EQUAL(os.stats.files_hashed, 3 + 3); /* m0 was taken right after writing */
        usleep(150 * 1000);
        write_file(root, "b", "BETA");
        CU_ASSERT_FATAL(snapshot_take(&os, fd, &wo, &m1, &m2, &rec) == 0);
        CU_ASSERT_EQUAL(os.stats.files_hashed, 6 + 1);
        CU_ASSERT(digest_equal(&manifest_find(&m1, "a")->digest, &manifest_find(&m2, "a")->digest));
        CU_ASSERT(
            !digest_equal(&manifest_find(&m1, "b")->digest, &manifest_find(&m2, "b")->digest));
        manifest_free(&m0);
        manifest_free(&m1);
        manifest_free(&m2);
        objstore_close(&os);
        close(fd);
        free(root);
}

/* Paths below the root are reached without "..", absolute paths or symlinks. */
static void test_open_beneath(void)
{
        char *root = nono_path_join(tmpdir, "beneath");
        char *link;
        int fd, f;

        mkdir(root, 0755);
        write_file(root, "in", "x");
        link = nono_path_join(root, "out");
        CU_ASSERT_FATAL(symlink("/etc", link) == 0);
        fd = open(root, O_RDONLY | O_DIRECTORY);
        CU_ASSERT_FATAL(fd >= 0);
        f = open_beneath(fd, "in", O_RDONLY, 0);
        CU_ASSERT(f >= 0);
        if (f >= 0)
                close(f);
        CU_ASSERT(open_beneath(fd, "../beneath/in", O_RDONLY, 0) < 0);
        CU_ASSERT(open_beneath(fd, "/etc/passwd", O_RDONLY, 0) < 0);
        CU_ASSERT(open_beneath(fd, "out/passwd", O_RDONLY, 0) < 0);
        CU_ASSERT(open_beneath(fd, "out", O_RDONLY, 0) < 0);
        close(fd);
        free(link);
        free(root);
}

int main(void)
{
        static const struct test_case cases[] = {
            {"chunker is deterministic, chunks bounded", test_chunker_deterministic},
            {"chunker: an insertion moves nearby boundaries only", test_chunker_boundary_shift},
            {"tree order and valid names", test_path_order_and_names},
            {"manifest stores and loads every field", test_manifest_roundtrip},
            {"Merkle root: covers content, shares unchanged directories", test_merkle_root},
            {"a directory naming .., . or a/b is refused", test_refuses_bad_names},
            {"incremental snapshots reuse digests of unchanged files", test_incremental_reuse},
            {"open_beneath refuses .., absolute paths and symlinks", test_open_beneath},
        };

        return RUN_CUNIT("snapshot", suite_init, suite_cleanup, cases);
}
