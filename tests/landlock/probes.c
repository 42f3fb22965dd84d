/* SPDX-License-Identifier: Apache-2.0 */
/* Probes shared by the landlock enforcer's tests: see probes.h. */

#include "probes.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

void join(char *buf, const char *dir, const char *name)
{
        int n = snprintf(buf, PATH_MAX, "%s/%s", dir, name);

        /* Our paths are short; a truncated one would test the wrong file. */
        if (n < 0 || n >= PATH_MAX)
                abort();
}

int try_open(const char *path, int flags)
{
        int fd = open(path, flags | O_CLOEXEC, 0644);

        if (fd < 0)
                return -errno;
        close(fd);
        return 0;
}

int try_write(const char *path, const char *text)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        ssize_t n;

        if (fd < 0)
                return -errno;
        n = write(fd, text, strlen(text));
        close(fd);
        return n == (ssize_t)strlen(text) ? 0 : -EIO;
}

int file_has(const char *path, const char *text)
{
        char buf[256] = {0};
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return -errno;
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n < 0)
                return -EIO;
        return strcmp(buf, text) == 0 ? 0 : -EBADMSG;
}

static int remove_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
        return remove(path);
}

int remove_tree(const char *path)
{
        return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

struct sockaddr_in loopback(uint16_t port)
{
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};

        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return sa;
}

int loopback_socket(int type, uint16_t *ret_port)
{
        struct sockaddr_in sa = loopback(0);
        socklen_t len = sizeof(sa);
        int fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return -1;
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
            (type == SOCK_STREAM && listen(fd, 16) < 0) ||
            getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
                close(fd);
                return -1;
        }
        *ret_port = ntohs(sa.sin_port);
        return fd;
}
