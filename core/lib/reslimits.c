/* SPDX-License-Identifier: Apache-2.0 */
/* Resource limits on the sandboxed command (see limits.h). */
#include "reslimits.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "error.h"

#define CGROUP2_MAGIC 0x63677270
#define CGROUP_ROOT   "/sys/fs/cgroup"

/* Each limit: where it lives, its resource, and the unit a value is multiplied by. */
static const struct {
        const char *name;
        size_t offset;
        int resource;
        long long unit;
} table[] = {
    {"max_processes", offsetof(struct limits, max_processes), RLIMIT_NPROC, 1},
    {"max_memory_mb", offsetof(struct limits, max_memory_mb), RLIMIT_DATA, 1024 * 1024},
    {"max_open_files", offsetof(struct limits, max_open_files), RLIMIT_NOFILE, 1},
    {"max_file_size_mb", offsetof(struct limits, max_file_size_mb), RLIMIT_FSIZE, 1024 * 1024},
    {"cpu_seconds", offsetof(struct limits, cpu_seconds), RLIMIT_CPU, 1},
};

#define N_LIMITS (sizeof(table) / sizeof(table[0]))

static long long *field(struct limits *l, size_t i)
{
        return (long long *)((char *)l + table[i].offset);
}

static long long value_of(const struct limits *l, size_t i)
{
        return *(const long long *)((const char *)l + table[i].offset);
}

void limits_init(struct limits *l)
{
        for (size_t i = 0; i < N_LIMITS; i++)
                *field(l, i) = LIMIT_UNSET;
}

void limits_override(struct limits *dst, const struct limits *src)
{
        for (size_t i = 0; i < N_LIMITS; i++)
                if (value_of(src, i) != LIMIT_UNSET)
                        *field(dst, i) = value_of(src, i);
}

int limits_parse(const char *flag, const char *value, long long *ret)
{
        char *end;
        long long v;

        errno = 0;
        v = strtoll(value, &end, 10);
        /* Bounded so that MB values cannot overflow once turned into bytes. */
        if (errno || end == value || *end || v < 1 || v > (1LL << 40))
                return nono_error(-EINVAL, "%s: \"%s\" is not a positive integer", flag, value);
        *ret = v;
        return 0;
}

int limits_any(const struct limits *l)
{
        for (size_t i = 0; i < N_LIMITS; i++)
                if (value_of(l, i) != LIMIT_UNSET)
                        return 1;
        return 0;
}

int limits_apply(const struct limits *l)
{
        for (size_t i = 0; i < N_LIMITS; i++) {
                long long v = value_of(l, i);
                struct rlimit now, rl;
                rlim_t want;

                if (v == LIMIT_UNSET)
                        continue;
                want = (rlim_t)v * (rlim_t)table[i].unit;
                /* A hard limit the caller already has lower stays: nono never raises one. */
                if (getrlimit(table[i].resource, &now) == 0 && now.rlim_max != RLIM_INFINITY &&
                    now.rlim_max < want)
                        want = now.rlim_max;
                rl.rlim_cur = rl.rlim_max = want;
                if (setrlimit(table[i].resource, &rl) < 0)
                        return -errno;
        }
        return 0;
}

void limits_print(const struct limits *l, FILE *out)
{
        if (!limits_any(l))
                return;
        fprintf(out, "limits:");
        for (size_t i = 0; i < N_LIMITS; i++)
                if (value_of(l, i) != LIMIT_UNSET)
                        fprintf(out, " %s=%lld", table[i].name, value_of(l, i));
        fputc('\n', out);
}

/* ---- the pids cgroup (root) ---------------------------------------------------------- */

/* nono's own cgroup directory in the hierarchy that has the pids controller. */
static int own_pids_cgroup(char *buf, size_t size)
{
        struct statfs sf;
        int v2 = statfs(CGROUP_ROOT, &sf) == 0 && sf.f_type == CGROUP2_MAGIC;
        FILE *f = fopen("/proc/self/cgroup", "re");
        char line[1024];
        int r = -ENOENT;

        if (!f)
                return -errno;
        while (r < 0 && fgets(line, sizeof(line), f)) {
                char *path = strchr(line, ':'), *ctrl;

                if (!path)
                        continue;
                ctrl = path + 1;
                path = strchr(ctrl, ':');
                if (!path)
                        continue;
                *path++ = '\0';
                path[strcspn(path, "\n")] = '\0';
                if (strcmp(path, "/") == 0)
                        path[0] = '\0'; /* the root: no "//" in the result */
                if (v2 && strncmp(line, "0:", 2) == 0 && *ctrl == '\0')
                        r = snprintf(buf, size, "%s%s", CGROUP_ROOT, path);
                else if (!v2 && strcmp(ctrl, "pids") == 0)
                        r = snprintf(buf, size, "%s/pids%s", CGROUP_ROOT, path);
                if (r >= (int)size)
                        r = -ENAMETOOLONG;
        }
        fclose(f);
        return r < 0 ? r : 0;
}

static int write_file(const char *dir, const char *name, const char *text)
{
        char path[600];
        int fd, r = 0;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (write(fd, text, strlen(text)) < 0)
                r = -errno;
        close(fd);
        return r;
}

int limits_cgroup_prepare(const struct limits *l, struct limits_cgroup *cg)
{
        char base[400], max[32], procs[600];
        int r;

        memset(cg, 0, sizeof(*cg));
        if (l->max_processes == LIMIT_UNSET || geteuid() != 0)
                return 0;
        r = own_pids_cgroup(base, sizeof(base));
        if (r == 0) {
                snprintf(cg->path, sizeof(cg->path), "%s/nono-%ld", base, (long)getpid());
                r = mkdir(cg->path, 0755) < 0 ? -errno : 0;
        }
        if (r < 0) {
                cg->path[0] = '\0';
                return nono_error(r,
                                  "max_processes: root is exempt from RLIMIT_NPROC, and no "
                                  "pids cgroup can be made below nono's own: %s",
                                  strerror(-r));
        }
        snprintf(max, sizeof(max), "%lld", l->max_processes);
        r = write_file(cg->path, "pids.max", max);
        snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg->path);
        cg->procs_fd = r == 0 ? open(procs, O_WRONLY | O_CLOEXEC) : -1;
        if (r == 0 && cg->procs_fd < 0)
                r = -errno;
        if (r < 0) {
                nono_error(r, "max_processes: cannot set up the cgroup %s: %s", cg->path,
                           strerror(-r));
                limits_cgroup_remove(cg);
        }
        return r;
}

int limits_cgroup_join(const struct limits_cgroup *cg)
{
        /* "0": the writing process itself. */
        if (cg->path[0] && write(cg->procs_fd, "0", 1) < 0)
                return -errno;
        return 0;
}

void limits_cgroup_remove(struct limits_cgroup *cg)
{
        if (!cg->path[0])
                return;
        if (cg->procs_fd >= 0)
                close(cg->procs_fd);
        cg->procs_fd = -1;
        /* Empty by now: the supervisor killed what was left of the sandbox. */
        for (int i = 0; cg->path[0] && i < 100 && rmdir(cg->path) < 0 && errno == EBUSY; i++)
                usleep(10000);
        cg->path[0] = '\0';
}
