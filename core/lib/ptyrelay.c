/* SPDX-License-Identifier: Apache-2.0 */
#include "ptyrelay.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "error.h"

int pty_relay_wanted(void)
{
        return isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
}

static void copy_window_size(int from, int to)
{
        struct winsize ws;

        if (ioctl(from, TIOCGWINSZ, &ws) == 0)
                ioctl(to, TIOCSWINSZ, &ws);
}

int pty_relay_open(struct pty_relay *r)
{
        char *name;

        memset(r, 0, sizeof(*r));
        r->slave = -1;
        r->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (r->master < 0)
                return nono_error(-errno, "cannot open a pseudo-terminal: %s", strerror(errno));
        if (grantpt(r->master) < 0 || unlockpt(r->master) < 0 || !(name = ptsname(r->master)))
                goto fail;
        r->slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (r->slave < 0)
                goto fail;
        copy_window_size(STDIN_FILENO, r->master);
        if (tcgetattr(STDIN_FILENO, &r->saved) == 0) {
                /* The child starts with the user's terminal settings. */
                tcsetattr(r->slave, TCSANOW, &r->saved);
                r->saved_valid = 1;
        }
        return 0;
fail:
        nono_error(-errno, "cannot set up a pseudo-terminal: %s", strerror(errno));
        pty_relay_close(r);
        return -EIO;
}

int pty_relay_attach_child(const struct pty_relay *r)
{
        int stderr_tty = isatty(STDERR_FILENO);

        if (ioctl(r->slave, TIOCSCTTY, 0) < 0)
                return -errno;
        if (dup2(r->slave, STDIN_FILENO) < 0 || dup2(r->slave, STDOUT_FILENO) < 0)
                return -errno;
        if (stderr_tty && dup2(r->slave, STDERR_FILENO) < 0)
                return -errno;
        return 0;
}

/* Copies what is readable from `from` to `to`; 0 on end of file or error. */
static int pump(int from, int to)
{
        char buf[16384];
        ssize_t n = read(from, buf, sizeof(buf));

        if (n <= 0)
                return n < 0 && (errno == EINTR || errno == EAGAIN);
        for (ssize_t off = 0; off < n;) {
                ssize_t w = write(to, buf + off, (size_t)(n - off));

                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0)
                        return 0;
                off += w;
        }
        return 1;
}

void pty_relay_begin(struct pty_relay *r)
{
        struct termios raw;

        close(r->slave);
        r->slave = -1;
        if (r->saved_valid) {
                raw = r->saved;
                cfmakeraw(&raw);
                tcsetattr(STDIN_FILENO, TCSADRAIN, &raw);
        }
}

void pty_relay_from_child(struct pty_relay *r)
{
        pump(r->master, STDOUT_FILENO);
}

int pty_relay_to_child(struct pty_relay *r)
{
        return pump(STDIN_FILENO, r->master);
}

void pty_relay_resize(struct pty_relay *r)
{
        copy_window_size(STDIN_FILENO, r->master);
}

void pty_relay_end(struct pty_relay *r)
{
        struct pollfd pfd = {r->master, POLLIN, 0};

        while (poll(&pfd, 1, 0) > 0 && (pfd.revents & POLLIN) && pump(r->master, STDOUT_FILENO))
                ;
        if (r->saved_valid)
                tcsetattr(STDIN_FILENO, TCSADRAIN, &r->saved);
}

void pty_relay_close(struct pty_relay *r)
{
        if (r->master >= 0)
                close(r->master);
        if (r->slave >= 0)
                close(r->slave);
        r->master = r->slave = -1;
}
