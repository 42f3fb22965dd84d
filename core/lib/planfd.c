/* SPDX-License-Identifier: Apache-2.0 */
#include "planfd.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "strv.h"

#define PLAN_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)
#define PLAN_MAX   (16 * 1024 * 1024)

static int write_all(int fd, const char *text, size_t len)
{
        while (len) {
                ssize_t n = write(fd, text, len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return -errno;
                text += n;
                len -= (size_t)n;
        }
        return 0;
}

int planfd_create(const char *text, int *ret_fd)
{
        int fd = memfd_create("nono-plan", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        int r;

        if (fd < 0)
                return nono_error(-errno, "cannot create the plan file: %s", strerror(errno));
        r = write_all(fd, text, strlen(text));
        if (r >= 0 && fcntl(fd, F_ADD_SEALS, PLAN_SEALS) < 0)
                r = -errno;
        if (r < 0) {
                close(fd);
                return nono_error(r, "cannot write the plan file: %s", strerror(-r));
        }
        *ret_fd = fd;
        return 0;
}

/* NAME=value in the child's environment, replacing one inherited from an outer nono. */
static int set_child_env(struct strv *env, const char *name, char *entry)
{
        size_t len = strlen(name);

        if (!entry)
                return -ENOMEM;
        for (size_t i = 0; i < env->n; i++)
                if (strncmp(env->items[i], name, len) == 0 && env->items[i][len] == '=') {
                        free(env->items[i]);
                        env->items[i] = entry;
                        return 0;
                }
        return strv_push_owned(env, entry);
}

/* Above stdio even when nono was started with one of them closed. */
static int move_above_stdio(int *fd)
{
        int high;

        if (*fd > 2)
                return 0;
        high = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
        close(*fd);
        *fd = high;
        return high < 0 ? nono_error(-errno, "cannot move the plan file: %s", strerror(errno)) : 0;
}

int planfd_publish(json_t *plan, struct strv *env, int *ret_fd)
{
        char *text = json_dumps(plan, JSON_COMPACT | JSON_PRESERVE_ORDER);
        int fd = -1;
        int r = text ? planfd_create(text, &fd) : -ENOMEM;

        free(text);
        if (r >= 0)
                r = move_above_stdio(&fd);
        if (r >= 0)
                r = set_child_env(env, PLANFD_ENV, nono_asprintf(PLANFD_ENV "=%d", fd));
        if (r < 0 && fd >= 0)
                close(fd);
        if (r >= 0)
                *ret_fd = fd;
        return r;
}

static int plan_fd_from_env(int *ret_fd)
{
        const char *s = getenv(PLANFD_ENV);
        char *end;
        long fd;

        if (!s || !*s)
                return nono_error(-ENOENT, "not inside a nono sandbox (%s is not set)", PLANFD_ENV);
        errno = 0;
        fd = strtol(s, &end, 10);
        if (errno || *end || fd < 3 || fd > INT_MAX)
                return nono_error(-EINVAL, "%s=%s is not a descriptor nono passed", PLANFD_ENV, s);
        *ret_fd = (int)fd;
        return 0;
}

int planfd_read(char **ret_text)
{
        struct stat st;
        char *text;
        ssize_t n;
        int fd = -1;
        int r = plan_fd_from_env(&fd);

        if (r < 0)
                return r;
        /* Only a sealed memfd is nono's: anything else at that number is not the plan. */
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
            (fcntl(fd, F_GET_SEALS) & PLAN_SEALS) != PLAN_SEALS || st.st_size > PLAN_MAX)
                return nono_error(-EBADF, "descriptor %d (%s) is not a plan sealed by nono", fd,
                                  PLANFD_ENV);
        text = malloc((size_t)st.st_size + 1);
        if (!text)
                return -ENOMEM;
        /* pread on the inherited descriptor: no path to open, nothing the sandbox's
         * filesystem rules need to allow. */
        n = pread(fd, text, (size_t)st.st_size, 0);
        if (n != st.st_size) {
                free(text);
                return nono_error(-EIO, "cannot read the plan (descriptor %d)", fd);
        }
        text[n] = '\0';
        *ret_text = text;
        return 0;
}
