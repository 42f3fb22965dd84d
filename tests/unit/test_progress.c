/* SPDX-License-Identifier: Apache-2.0 */
/* The progress line: silent off a terminal and for short operations; drawn and erased
 * on a terminal. */
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cunit-main.h"
#include "error.h"
#include "progress.h"

/* A pseudo-terminal: the master end reads what the progress line wrote. */
static int open_pty(int *ret_master)
{
        int master = posix_openpt(O_RDWR | O_NOCTTY);
        int slave;

        if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0)
                return -1;
        slave = open(ptsname(master), O_RDWR | O_NOCTTY);
        *ret_master = master;
        return slave;
}

/*
 * What reached the master end.  The kernel moves pty data to the master asynchronously,
 * so wait for it (up to 2 s for the first bytes, then until 100 ms pass quietly).
 */
static ssize_t drain(int master, char *buf, size_t size)
{
        struct pollfd pfd = {.fd = master, .events = POLLIN};
        size_t got = 0;
        int timeout = 2000;

        while (got + 1 < size && poll(&pfd, 1, timeout) == 1) {
                ssize_t n = read(master, buf + got, size - 1 - got);

                if (n <= 0)
                        break;
                got += (size_t)n;
                timeout = 100;
        }
        buf[got] = '\0';
        return (ssize_t)got;
}

static void test_terminal_gets_a_line_and_its_erasure(void)
{
        struct progress p;
        char buf[512];
        int master = -1;
        int tty = open_pty(&master);

        CU_ASSERT_FATAL(tty >= 0);
        progress_start_on(&p, "snapshot", "files", tty, 0, 0);
        progress_update(&p, 50, 200);
        progress_finish(&p);
        CU_ASSERT_TRUE(drain(master, buf, sizeof(buf)) > 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(buf, "snapshot 50/200 files (25%)"));
        CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\r\033[K"));
        close(tty);
        close(master);
}

static void test_short_operations_print_nothing(void)
{
        struct progress p;
        char buf[512];
        int master = -1;
        int tty = open_pty(&master);

        CU_ASSERT_FATAL(tty >= 0);
        progress_start_on(&p, "snapshot", "files", tty, 60000, 0);
        progress_update(&p, 1, 2);
        progress_finish(&p);
        CU_ASSERT_TRUE(drain(master, buf, sizeof(buf)) <= 0);
        close(tty);
        close(master);
}

static void test_redraws_are_rate_limited(void)
{
        struct progress p;
        char buf[4096];
        int master = -1;
        int tty = open_pty(&master);
        int lines = 0;

        CU_ASSERT_FATAL(tty >= 0);
        progress_start_on(&p, "snapshot", "files", tty, 0, 60000);
        for (int i = 0; i < 100; i++)
                progress_update(&p, (uint64_t)i, 0);
        drain(master, buf, sizeof(buf));
        for (char *s = buf; (s = strstr(s, "nono: snapshot")); s++)
                lines++;
        CU_ASSERT_EQUAL(lines, 1);
        close(tty);
        close(master);
}

/* The rate limit holds within a phase; a new stage, or a known total, is shown at once. */
static void test_a_new_phase_is_drawn_at_once(void)
{
        struct progress p;
        char buf[4096];
        int master = -1;
        int tty = open_pty(&master);

        CU_ASSERT_FATAL(tty >= 0);
        progress_start_on(&p, "restore: scan", "files", tty, 0, 60000);
        progress_update(&p, 1, 0);
        progress_update(&p, 2, 0);
        progress_update(&p, 0, 9);
        progress_update(&p, 1, 9);
        p.label = "restore";
        progress_update(&p, 0, 4);
        progress_finish(&p);
        drain(master, buf, sizeof(buf));
        CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\rnono: restore: scan 1 files\033[K"));
        CU_ASSERT_PTR_NULL(strstr(buf, "scan 2 files"));
        CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\rnono: restore: scan 0/9 files (0%)\033[K"));
        CU_ASSERT_PTR_NULL(strstr(buf, "1/9"));
        CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\rnono: restore 0/4 files (0%)\033[K\r\033[K"));
        close(tty);
        close(master);
}

/* The engine's callback: its stage is the label; quiet draws nothing. */
static void test_snapshot_callback(void)
{
        const struct snapshot_progress *cb;
        struct progress p;
        char buf[512];
        int master = -1;
        int tty = open_pty(&master);
        int saved = dup(STDERR_FILENO);

        CU_ASSERT_FATAL(tty >= 0 && saved >= 0);
        setenv("NONO_PROGRESS_DELAY_MS", "0", 1);
        dup2(tty, STDERR_FILENO);
        cb = progress_snapshot(&p, 0);
        snapshot_report(cb, "restore: verify", 3, 4);
        progress_finish(&p);
        cb = progress_snapshot(&p, 1);
        snapshot_report(cb, "snapshot", 1, 2);
        progress_finish(&p);
        dup2(saved, STDERR_FILENO);
        close(saved);
        unsetenv("NONO_PROGRESS_DELAY_MS");
        drain(master, buf, sizeof(buf));
        CU_ASSERT_PTR_NOT_NULL(strstr(buf, "nono: restore: verify 3/4 files (75%)"));
        CU_ASSERT_PTR_NULL(strstr(buf, "nono: snapshot"));
        close(tty);
        close(master);
}

/* A warning while the line is on screen takes a clean line; the next update redraws. */
static void test_a_message_erases_the_line_first(void)
{
        struct progress p;
        char buf[1024];
        int master = -1;
        int tty = open_pty(&master);
        int saved = dup(STDERR_FILENO);

        CU_ASSERT_FATAL(tty >= 0 && saved >= 0);
        dup2(tty, STDERR_FILENO);
        progress_start_on(&p, "snapshot", "files", tty, 0, 60000);
        progress_update(&p, 1, 4);
        nono_warn("snapshot: x left out");
        progress_update(&p, 2, 4);
        progress_finish(&p);
        nono_warn("after");
        dup2(saved, STDERR_FILENO);
        close(saved);
        drain(master, buf, sizeof(buf));
        CU_ASSERT_PTR_NOT_NULL(strstr(buf, "(25%)\033[K\r\033[Knono: warning: snapshot: x left "
                                           "out\r\n\rnono: snapshot 2/4 files (50%)\033[K\r\033[K"
                                           "nono: warning: after"));
        close(tty);
        close(master);
}

static void test_pipe_gets_nothing(void)
{
        struct progress p;
        char buf[64];
        int fds[2];

        CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
        progress_start_on(&p, "snapshot", "files", fds[1], 0, 0);
        progress_update(&p, 1, 2);
        progress_finish(&p);
        close(fds[1]);
        CU_ASSERT_EQUAL(read(fds[0], buf, sizeof(buf)), 0);
        close(fds[0]);
}

int main(void)
{
        static const struct test_case cases[] = {
            {"a terminal gets the line and its erasure", test_terminal_gets_a_line_and_its_erasure},
            {"short operations print nothing", test_short_operations_print_nothing},
            {"redraws are rate-limited", test_redraws_are_rate_limited},
            {"a new phase is drawn at once", test_a_new_phase_is_drawn_at_once},
            {"the snapshot engine's callback", test_snapshot_callback},
            {"a message erases the line first", test_a_message_erases_the_line_first},
            {"a pipe gets nothing", test_pipe_gets_nothing},
        };
        return RUN_CUNIT("progress", NULL, NULL, cases);
}
