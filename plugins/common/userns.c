/* SPDX-License-Identifier: Apache-2.0 */
#include "userns.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

void userns_maps_for_self(struct userns_maps *m)
{
        snprintf(m->uid_map, sizeof(m->uid_map), "%u %u 1\n", (unsigned)geteuid(),
                 (unsigned)geteuid());
        snprintf(m->gid_map, sizeof(m->gid_map), "%u %u 1\n", (unsigned)getegid(),
                 (unsigned)getegid());
}

int userns_write_proc(const char *path, const char *text)
{
        size_t len = strlen(text);
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        ssize_t n;
        int err;

        if (fd < 0)
                return -errno;
        n = write(fd, text, len);
        err = errno;
        close(fd);
        if (n < 0)
                return -err;
        return (size_t)n == len ? 0 : -EIO;
}

/*
 * /proc/self/{uid,gid}_map belong to root when the process is not dumpable (nono's
 * supervisor is not), and root is not mapped yet: be dumpable for the few writes, then
 * restore.  The command's execve resets it anyway.
 */
int userns_write_maps(const struct userns_maps *m, const char **ret_path)
{
        int dumpable = prctl(PR_GET_DUMPABLE, 0L, 0L, 0L, 0L);
        int r;

        if (dumpable != 1)
                prctl(PR_SET_DUMPABLE, 1L, 0L, 0L, 0L);
        *ret_path = "/proc/self/setgroups";
        r = userns_write_proc(*ret_path, "deny");
        if (r == -ENOENT)
                r = 0;
        if (r == 0) {
                *ret_path = "/proc/self/uid_map";
                r = userns_write_proc(*ret_path, m->uid_map);
        }
        if (r == 0) {
                *ret_path = "/proc/self/gid_map";
                r = userns_write_proc(*ret_path, m->gid_map);
        }
        if (dumpable != 1)
                prctl(PR_SET_DUMPABLE, 0L, 0L, 0L, 0L);
        return r;
}
