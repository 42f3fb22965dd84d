/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nono-unixmed: the Unix-socket mediator of nono wrap (see core/lib/unixmed.h), which
 * has no supervisor to answer the filter's notifications.  nono wrap starts it with
 * vfork + execveat before it applies the sandbox (the mediator must be outside to
 * resolve paths and take the command's sockets), orphaned at once and in a session of
 * its own, as
 *     nono-unixmed HANDOVER CHANNEL N_DIRS DIR... SOCKET...
 * with HANDOVER the descriptor the listener arrives on, CHANNEL its end of the helper's
 * channel (its only descriptors), then the allowed directories and sockets.  It serves
 * exactly as nono run's supervisor does (core/lib/unixserve.c, linked in statically),
 * until the listener hangs up: every process that carries the filter has exited and
 * been reaped.  Its exit closes the helper's channel, and the helper leaves too.  Being
 * a small static executable rather than a fork of nono, it costs the command's start
 * no copy of nono's address space and no copy-on-write faults.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "unixserve.h"

/* Moves fd above stdio, which becomes /dev/null. */
static int above_stdio(int *fd)
{
        int moved;

        if (*fd > STDERR_FILENO)
                return 0;
        moved = fcntl(*fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
        if (moved < 0)
                return -1;
        close(*fd);
        *fd = moved;
        return 0;
}

/*
 * Its execveat left it the hand-over and the helper's channel and closed the rest.
 * Stdio becomes /dev/null: whatever it prints goes nowhere, and it never holds a
 * terminal or a pipe of the command's (`nono wrap cmd | cat` ends when cmd does).
 */
static int descriptors(int *xfer, int *chan)
{
        int null;

        if (above_stdio(xfer) < 0 || above_stdio(chan) < 0)
                return -1;
        null = open("/dev/null", O_RDWR);
        if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0 ||
            dup2(null, STDERR_FILENO) < 0)
                return -1;
        if (null > STDERR_FILENO)
                close(null);
        return 0;
}

/* Until the command sends the listener (just before its execve); an error when every
 * copy of the other end closed first (nono wrap failed before that). */
static int await_listener(struct unixmed *m)
{
        for (;;) {
                struct pollfd p = {m->xfer[0], POLLIN, 0};
                int r;

                if (poll(&p, 1, -1) < 0 && errno != EINTR)
                        return -errno;
                r = unixmed_parent_attach(m);
                if (r != -EAGAIN)
                        return r;
        }
}

static int serve(struct unixmed *m)
{
        struct sigaction sa;
        sigset_t none;

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = SIG_IGN;
        sigaction(SIGPIPE, &sa, NULL);
        /* nono wrap started it with every signal blocked. */
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        /* Off the user's working directory, which it would keep busy (a mount). */
        if (chdir("/") < 0 || await_listener(m) < 0)
                return 1;
        while (!m->listener_done) {
                struct pollfd p = {m->epfd, POLLIN, 0};

                if (poll(&p, 1, -1) < 0 && errno != EINTR)
                        return 1; /* the listener closes with us: the sandbox gets ENOSYS */
                unixmed_handle(m);
        }
        return 0;
}

/* A descriptor number or count from the command line; -1 if it is none. */
static int number(const char *s)
{
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        return errno || end == s || *end || v < 0 || v > INT_MAX ? -1 : (int)v;
}

int main(int argc, char **argv)
{
        int xfer = argc >= 4 ? number(argv[1]) : -1;
        int chan = argc >= 4 ? number(argv[2]) : -1;
        int n_dirs = argc >= 4 ? number(argv[3]) : -1;
        const char *const *paths = (const char *const *)argv + 4;
        struct unixmed *m;
        int r;

        /* Not dumpable, first: it holds the listener and the command's sockets, out of
         * reach of the user's other processes.  Named for ps (execveat names a process
         * after the descriptor it was started from). */
        prctl(PR_SET_DUMPABLE, 0);
        prctl(PR_SET_NAME, "nono-unixmed");
        if (xfer < 0 || chan < 0 || n_dirs < 0 || n_dirs > argc - 4 ||
            descriptors(&xfer, &chan) < 0)
                return 2;
        r = unixserve_new(&m, paths, (size_t)n_dirs, paths + n_dirs, (size_t)(argc - 4 - n_dirs));
        if (r == 0) {
                m->xfer[0] = xfer;
                m->chan[0] = chan;
                m->detached = true;
                r = serve(m);
        }
        unixmed_free(m);
        return r ? 1 : 0;
}
