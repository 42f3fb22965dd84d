/* SPDX-License-Identifier: Apache-2.0 */
#include "ptyrelay.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"

/* Set by the SIGCHLD and SIGWINCH handlers; the relay loop polls a self-pipe. */
static int wake_pipe[2] = {-1, -1};
static volatile sig_atomic_t winch_pending;

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

static void on_signal(int sig)
{
        int saved = errno;
        ssize_t ignored;

        if (sig == SIGWINCH)
                winch_pending = 1;
        ignored = write(wake_pipe[1], "x", 1);
        (void)ignored;
        errno = saved;
}

static void install_wakeups(void)
{
        struct sigaction sa;

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sa.sa_flags = SA_RESTART;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGCHLD, &sa, NULL);
        sigaction(SIGWINCH, &sa, NULL);
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

static void drain_wakeups(void)
{
        char buf[64];

        while (read(wake_pipe[0], buf, sizeof(buf)) > 0)
                ;
}

static int child_exited(pid_t pid)
{
        siginfo_t info;

        memset(&info, 0, sizeof(info));
        /* WNOWAIT: leave the status for the supervisor's own wait. */
        return waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
               info.si_pid == pid;
}

static void relay_loop(struct pty_relay *r, pid_t pid)
{
        int stdin_open = 1;

        for (;;) {
                struct pollfd fds[3] = {
                    {r->master, POLLIN, 0},
                    {wake_pipe[0], POLLIN, 0},
                    {stdin_open ? STDIN_FILENO : -1, POLLIN, 0},
                };

                if (child_exited(pid)) {
                        /* Whatever the command wrote last is still in the pty. */
                        while (poll(fds, 1, 0) > 0 && pump(r->master, STDOUT_FILENO))
                                ;
                        return;
                }
                if (poll(fds, 3, -1) < 0 && errno != EINTR)
                        return;
                if (fds[1].revents) {
                        drain_wakeups();
                        if (winch_pending) {
                                winch_pending = 0;
                                copy_window_size(STDIN_FILENO, r->master);
                        }
                }
                if (fds[0].revents & POLLIN)
                        pump(r->master, STDOUT_FILENO);
                if (fds[2].revents & (POLLIN | POLLHUP))
                        stdin_open = pump(STDIN_FILENO, r->master);
        }
}

void pty_relay_run(struct pty_relay *r, pid_t pid)
{
        struct termios raw;

        close(r->slave);
        r->slave = -1;
        if (pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
                return;
        install_wakeups();
        /* Raw: keys (Ctrl-C, Ctrl-Z) go to the command's pty, which turns them into
         * signals for the command's own foreground job. */
        if (r->saved_valid) {
                raw = r->saved;
                cfmakeraw(&raw);
                tcsetattr(STDIN_FILENO, TCSADRAIN, &raw);
        }
        relay_loop(r, pid);
        if (r->saved_valid)
                tcsetattr(STDIN_FILENO, TCSADRAIN, &r->saved);
        close(wake_pipe[0]);
        close(wake_pipe[1]);
        wake_pipe[0] = wake_pipe[1] = -1;
}

void pty_relay_close(struct pty_relay *r)
{
        if (r->master >= 0)
                close(r->master);
        if (r->slave >= 0)
                close(r->slave);
        r->master = r->slave = -1;
}
