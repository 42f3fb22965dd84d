/* SPDX-License-Identifier: Apache-2.0 */
#include "walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "error.h"
#include "strv.h"

int open_beneath(int rootfd, const char *path, int flags, mode_t mode)
{
        struct open_how how = {
            .flags = (uint64_t)(flags | O_CLOEXEC | O_NOFOLLOW),
            .mode = (flags & O_CREAT) ? mode : 0,
            .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };
        long fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));

        return fd < 0 ? -errno : (int)fd;
}

int open_parent_beneath(int rootfd, const char *path, const char **ret_name)
{
        const char *slash = strrchr(path, '/');
        char *dir;
        int fd;

        *ret_name = slash ? slash + 1 : path;
        if (!slash)
                return open_beneath(rootfd, ".", O_PATH | O_DIRECTORY, 0);
        dir = strndup(path, (size_t)(slash - path));
        if (!dir)
                return -ENOMEM;
        fd = open_beneath(rootfd, dir, O_PATH | O_DIRECTORY, 0);
        free(dir);
        return fd;
}

struct walker {
        const struct walk_options *opt;
        struct manifest *out;
        char path[PATH_MAX];
};

static int by_name(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of a directory, sorted: the manifest's order must not depend on the
 * file system's. */
static int read_names(int dirfd, struct strv *ret)
{
        int fd = dup(dirfd);
        struct dirent *de;
        DIR *d;
        int r = 0;

        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return -errno;
        }
        /* The duplicate shares the offset of a descriptor that may have been read. */
        rewinddir(d);
        while (r >= 0 && (errno = 0, de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        r = strv_push(ret, de->d_name);
        if (r >= 0 && errno)
                r = -errno;
        closedir(d);
        if (r >= 0 && ret->n)
                qsort(ret->items, ret->n, sizeof(char *), by_name);
        return r;
}

static int entry_type(mode_t mode)
{
        if (S_ISREG(mode))
                return ENTRY_FILE;
        if (S_ISLNK(mode))
                return ENTRY_SYMLINK;
        return S_ISDIR(mode) ? ENTRY_DIR : 0;
}

static int read_target(int dirfd, const char *name, const struct stat *st, char **ret)
{
        size_t size = st->st_size > 0 ? (size_t)st->st_size + 1 : PATH_MAX;
        char *buf = malloc(size);
        ssize_t n;

        if (!buf)
                return -ENOMEM;
        n = readlinkat(dirfd, name, buf, size);
        if (n < 0 || (size_t)n >= size) {
                free(buf);
                return n < 0 ? -errno : -EAGAIN;
        }
        buf[n] = '\0';
        *ret = buf;
        return 0;
}

static int walk_dir(struct walker *w, int dirfd, size_t plen);

static int walk_child(struct walker *w, int dirfd, const char *name, size_t plen)
{
        size_t len = strlen(name);
        struct mentry e = {0};
        struct stat st;
        int r;

        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno; /* vanished meanwhile */
        e.type = (char)entry_type(st.st_mode);
        if (!e.type ||
            (S_ISDIR(st.st_mode) && st.st_dev == w->opt->skip_dev && st.st_ino == w->opt->skip_ino))
                return 0;
        if (plen + 1 + len >= sizeof(w->path))
                return nono_error(-ENAMETOOLONG, "path too long below %s", w->path);
        if (plen)
                w->path[plen++] = '/';
        memcpy(w->path + plen, name, len + 1);
        r = w->opt->rules ? exclude_match(w->opt->rules, w->path, e.type == ENTRY_DIR) : 0;
        if (r != 0)
                return r < 0 ? r : 0;
        e.path = w->path;
        e.mode = st.st_mode & 07777;
        e.size = e.type == ENTRY_DIR ? 0 : (uint64_t)st.st_size;
        e.mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
        e.ctime_ns = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec;
        e.ino = st.st_ino;
        if (e.type == ENTRY_SYMLINK && (r = read_target(dirfd, name, &st, &e.target)) < 0)
                return r == -ENOENT ? 0 : nono_error(r, "cannot read the symlink %s", w->path);
        r = manifest_add(w->out, &e);
        free(e.target);
        if (r >= 0 && e.type == ENTRY_FILE)
                snapshot_report(w->opt->progress, w->opt->stage, w->out->files, 0);
        if (r < 0 || e.type != ENTRY_DIR)
                return r;
        return walk_dir(w, openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC),
                        plen + len);
}

/* Takes ownership of dirfd; w->path[0..plen) is the directory's path. */
static int walk_dir(struct walker *w, int dirfd, size_t plen)
{
        struct strv names = STRV_INIT;
        int r;

        if (dirfd < 0) {
                /* An unreadable directory is recorded without its content, and a
                 * restore, which cannot see into it either, leaves it alone. */
                nono_warn("snapshot: cannot open %s: %s", w->path, strerror(errno));
                return 0;
        }
        r = read_names(dirfd, &names);
        if (r < 0) {
                nono_warn("snapshot: cannot list %s: %s", w->path, strerror(-r));
                strv_free(&names);
                r = 0;
        }
        for (size_t i = 0; r >= 0 && i < names.n; i++) {
                r = walk_child(w, dirfd, names.items[i], plen);
                w->path[plen] = '\0';
        }
        strv_free(&names);
        close(dirfd);
        return r;
}

int walk_tree(int rootfd, const struct walk_options *opt, struct manifest *ret)
{
        struct walker *w = calloc(1, sizeof(*w));
        int r;

        if (!w)
                return -ENOMEM;
        w->opt = opt;
        w->out = ret;
        r = walk_dir(w, dup(rootfd), 0);
        free(w);
        return r;
}
