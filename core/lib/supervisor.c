/* SPDX-License-Identifier: Apache-2.0 */
#include "supervisor.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "hygiene.h"
#include "kaudit.h"
#include "persistwatch.h"
#include "ptyrelay.h"
#include "unixmed.h"
#include "run.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* Signals nono passes on to the child instead of dying from them. */
static const int forwarded_signals[] = {SIGHUP,  SIGINT,  SIGQUIT, SIGTERM, SIGUSR1,
                                        SIGUSR2, SIGALRM, SIGCONT, SIGWINCH};
#define N_FORWARDED (sizeof(forwarded_signals) / sizeof(forwarded_signals[0]))

static volatile sig_atomic_t child_pid;

/* Copies a string into the child's error report without libc formatting. */
static void error_copy(struct child_error *err, const char *a, const char *b)
{
        size_t n = 0;

        for (; a && *a && n + 1 < sizeof(err->message); a++)
                err->message[n++] = *a;
        for (; b && *b && n + 1 < sizeof(err->message); b++)
                err->message[n++] = *b;
        err->message[n] = '\0';
}

/*
 * The child runs in a session of its own, so nothing the terminal or another process
 * sends to nono reaches it unless passed on: Ctrl-C on a non-interactive run, kill
 * from a job runner.  (Interactive runs get keys through the pty instead.)
 */
static void forward_signal(int sig, siginfo_t *info, void *ucontext)
{
        (void)info;
        (void)ucontext;
        if (child_pid > 0)
                kill((pid_t)child_pid, sig);
}

static void install_forwarding(void)
{
        struct sigaction sa;

        memset(&sa, 0, sizeof(sa));
        sa.sa_sigaction = forward_signal;
        sa.sa_flags = SA_SIGINFO | SA_RESTART;
        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < N_FORWARDED; i++)
                sigaction(forwarded_signals[i], &sa, NULL);
}

/* The child starts with default dispositions and nothing blocked, as if nono were not
 * there. */
static void reset_signals(void)
{
        struct sigaction sa;
        sigset_t none;

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = SIG_DFL;
        for (size_t i = 0; i < N_FORWARDED; i++)
                sigaction(forwarded_signals[i], &sa, NULL);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
}

int supervisor_prepare_self(const struct child_spec *spec, struct child_error *err)
{
        int r;

        /* chdir before the sandbox: the workdir need not be readable for the command
         * to start in it. */
        if (spec->workdir && chdir(spec->workdir) < 0) {
                err->err = errno;
                error_copy(err, "cannot enter working directory ", spec->workdir);
                return -err->err;
        }
        /* Descriptors nono inherited (a leaked directory fd, a control socket) must not
         * reach the command.  Marking them close-on-exec rather than closing keeps the
         * enforcer's own descriptors usable until execve. */
        if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
                err->err = errno;
                error_copy(err, "cannot mark inherited descriptors close-on-exec", NULL);
                return -err->err;
        }
        if (spec->keep_fd > 2 && fcntl(spec->keep_fd, F_SETFD, 0) < 0) {
                err->err = errno;
                error_copy(err, "cannot pass the plan to the command", NULL);
                return -err->err;
        }
        if (spec->setup) {
                r = spec->setup(spec->setup_userdata, err);
                if (r < 0) {
                        err->err = -r;
                        return r;
                }
        }
        /* The enforcers may need privileges (a mount namespace) until now. */
        r = hygiene_apply(err);
        if (r < 0)
                return r;
        /* Last of all, so that its helper is born inside the finished sandbox. */
        if (spec->unix_mediator) {
                r = unixmed_child_install(spec->unix_mediator, err->message, sizeof(err->message));
                if (r < 0)
                        err->err = -r;
        }
        return r;
}

static void report_and_exit(int fd, struct child_error *err, int stage, int code)
{
        ssize_t ignored;

        err->stage = stage;
        ignored = write(fd, err, sizeof(*err));
        (void)ignored;
        _exit(code);
}

/*
 * A session of its own: the command can never reach the user's terminal as its
 * controlling terminal (TIOCSTI, job-control signals to nono's group).  Interactive
 * sessions get a relayed pty as their terminal instead.
 */
static int detach_terminal(const struct pty_relay *pty, struct child_error *err)
{
        int r;

        setsid();
        if (!pty)
                return 0;
        r = pty_relay_attach_child(pty);
        if (r < 0) {
                err->err = -r;
                error_copy(err, "cannot attach the pseudo-terminal", NULL);
        }
        return r;
}

/* Runs in the child; never returns. */
static void child_main(const struct child_spec *spec, int report_fd, pid_t parent,
                       const struct pty_relay *pty)
{
        struct child_error err;

        memset(&err, 0, sizeof(err));
        reset_signals();
        /* The command must not outlive nono: if nono is killed, so is the child.
         * Checking the parent afterwards closes the race with a parent that died
         * before the prctl. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                _exit(NONO_EXIT_SETUP);
        if (detach_terminal(pty, &err) < 0 || supervisor_prepare_self(spec, &err) < 0)
                report_and_exit(report_fd, &err, CHILD_STAGE_SETUP, NONO_EXIT_SETUP);
        execve(spec->exec_path, spec->argv, spec->envp);
        err.err = errno;
        error_copy(&err, "cannot execute ", spec->exec_path);
        report_and_exit(report_fd, &err, CHILD_STAGE_EXEC, NONO_EXIT_EXEC);
}

struct child_args {
        const struct child_spec *spec;
        int report_fd;
        pid_t parent;
        const struct pty_relay *pty; /* NULL when not interactive */
};

static int child_entry(void *arg)
{
        struct child_args *a = arg;

        child_main(a->spec, a->report_fd, a->parent, a->pty);
        return NONO_EXIT_SETUP;
}

#if defined(__SANITIZE_ADDRESS__)
#define SPAWN_WITH_FORK 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SPAWN_WITH_FORK 1
#endif
#endif

#define CHILD_STACK_SIZE (256 * 1024)

/*
 * Starts the child like posix_spawn does: clone(CLONE_VM | CLONE_VFORK) on a stack of
 * its own, so the kernel need not copy nono's page tables only to throw them away at
 * execve (about a millisecond here).  The parent sleeps until the child has exec'd or
 * exited; the child touches nothing of the parent's memory but what it reads, and its
 * own stack.  Under AddressSanitizer a plain fork keeps the sanitizer's stack
 * bookkeeping sound.  Returns the pid in the parent; never returns in the child.
 */
static pid_t spawn_child(const struct child_spec *spec, const int pipefd[2], pid_t parent,
                         const struct pty_relay *pty)
{
        struct child_args args = {spec, pipefd[1], parent, pty};
#ifdef SPAWN_WITH_FORK
        pid_t pid = fork();

        if (pid == 0) {
                close(pipefd[0]);
                child_entry(&args);
        }
        return pid;
#else
        char *stack = mmap(NULL, CHILD_STACK_SIZE, PROT_READ | PROT_WRITE,
                           MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        pid_t pid;
        int saved;

        if (stack == MAP_FAILED)
                return -1;
        /* The read end is close-on-exec; the child never reads it, so leaving it open
         * until exec is harmless and spares a write to shared state. */
        pid = clone(child_entry, stack + CHILD_STACK_SIZE, CLONE_VM | CLONE_VFORK | SIGCHLD, &args);
        saved = errno;
        munmap(stack, CHILD_STACK_SIZE);
        errno = saved;
        return pid;
#endif
}

/* SIGCHLD and SIGWINCH wake the supervision loop through a self-pipe. */
static int wake_pipe[2] = {-1, -1};
static volatile sig_atomic_t winch_pending;

static void on_wakeup(int sig)
{
        int saved = errno;
        ssize_t ignored;

        if (sig == SIGWINCH)
                winch_pending = 1;
        ignored = write(wake_pipe[1], "x", 1);
        (void)ignored;
        errno = saved;
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
        /* WNOWAIT: leave the status for wait_child. */
        return waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
               info.si_pid == pid;
}

static int start_wakeups(void)
{
        struct sigaction sa;

        if (pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
                return -errno;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_wakeup;
        sa.sa_flags = SA_RESTART;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGCHLD, &sa, NULL);
        sigaction(SIGWINCH, &sa, NULL);
        return 0;
}

static void stop_wakeups(void)
{
        signal(SIGCHLD, SIG_DFL);
        close(wake_pipe[0]);
        close(wake_pipe[1]);
        wake_pipe[0] = wake_pipe[1] = -1;
}

/* Stops relaying: restores the user's terminal; the loop goes on for the mediator. */
static struct pty_relay *relay_detach(struct pty_relay *pty)
{
        pty_relay_end(pty);
        return NULL;
}

/*
 * While the command runs, the supervisor relays the pty of an interactive session and
 * answers the Unix-socket mediator.  With neither, the plain wait in the caller is
 * enough.
 */
/* Milliseconds left until `deadline` (CLOCK_MONOTONIC); -1 without a deadline. */
static int remaining_ms(const struct timespec *deadline)
{
        struct timespec now;
        long long ms;

        if (!deadline)
                return -1;
        clock_gettime(CLOCK_MONOTONIC, &now);
        ms = (long long)(deadline->tv_sec - now.tv_sec) * 1000 +
             (deadline->tv_nsec - now.tv_nsec) / 1000000;
        if (ms <= 0)
                return 0;
        return ms > INT_MAX ? INT_MAX : (int)ms;
}

/*
 * Also reads Landlock's audit records as they come (ka), so that the socket's queue
 * does not overflow.  Returns 1 when the command was killed because `deadline` (NULL:
 * none) passed.
 */
static int supervise(pid_t pid, struct pty_relay *pty, struct unixmed *med,
                     struct persist_watch *watch, struct kaudit *ka,
                     const struct timespec *deadline)
{
        int stdin_open = pty != NULL;
        int timed_out = 0;

        if (!pty && !med && persist_watch_fd(watch) < 0 && !ka && !deadline)
                return 0;
        /* Without the loop nobody relays the pty or answers the mediator, and the
         * child would block for ever: end it rather than hang. */
        if (start_wakeups() < 0) {
                kill(pid, SIGKILL);
                return 0;
        }
        if (pty)
                pty_relay_begin(pty);
        while (!child_exited(pid)) {
                struct pollfd fds[6] = {
                    {wake_pipe[0], POLLIN, 0},
                    {pty ? pty->master : -1, POLLIN, 0},
                    {stdin_open ? STDIN_FILENO : -1, POLLIN, 0},
                    {med ? unixmed_fd(med) : -1, POLLIN, 0},
                    {persist_watch_fd(watch), POLLIN, 0},
                    {ka ? kaudit_fd(ka) : -1, POLLIN, 0},
                };
                int n = poll(fds, 6, remaining_ms(deadline));

                if (n < 0 && errno != EINTR) {
                        kill(pid, SIGKILL);
                        break;
                }
                if (n == 0 && remaining_ms(deadline) == 0) {
                        kill(pid, SIGKILL);
                        timed_out = 1;
                        break;
                }
                if (fds[0].revents)
                        drain_wakeups();
                if (winch_pending && pty) {
                        winch_pending = 0;
                        pty_relay_resize(pty);
                }
                if (fds[1].revents & POLLIN)
                        pty_relay_from_child(pty);
                /* Every copy of the slave closed (the command redirected its stdio):
                 * nothing more can come, and POLLHUP would wake the loop for ever. */
                else if (fds[1].revents & (POLLHUP | POLLERR)) {
                        pty = relay_detach(pty);
                        stdin_open = 0;
                }
                if (pty && (fds[2].revents & (POLLIN | POLLHUP)))
                        stdin_open = pty_relay_to_child(pty);
                if (fds[3].revents & POLLIN)
                        unixmed_handle(med);
                if (fds[4].revents & POLLIN)
                        persist_watch_handle(watch);
                /* POLLERR too: the queue overflowed, which the read notes. */
                if (fds[5].revents)
                        kaudit_read(ka);
        }
        if (pty)
                pty_relay_end(pty);
        stop_wakeups();
        return timed_out;
}

/* Reads the child's failure report; 0 when exec succeeded (the pipe closed empty). */
static int read_child_report(int fd, struct child_error *err)
{
        ssize_t n;

        do {
                n = read(fd, err, sizeof(*err));
        } while (n < 0 && errno == EINTR);
        if (n != (ssize_t)sizeof(*err))
                return 0;
        err->message[sizeof(err->message) - 1] = '\0';
        return 1;
}

static int wait_child(pid_t pid, int *ret_status)
{
        pid_t r;

        do {
                r = waitpid(pid, ret_status, 0);
        } while (r < 0 && errno == EINTR);
        return r < 0 ? -errno : 0;
}

/* Our direct children as the kernel lists them, but `spare`; 0 when there are none. */
static size_t read_children(pid_t *pids, size_t max, pid_t spare)
{
        char path[64], buf[4096];
        size_t n = 0;
        ssize_t len;
        int fd;

        snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid());
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        len = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (len <= 0)
                return 0;
        buf[len] = '\0';
        for (char *p = buf, *end; n < max; p = end) {
                long pid = strtol(p, &end, 10);

                if (end == p)
                        break;
                if (pid != spare)
                        pids[n++] = (pid_t)pid;
        }
        return n;
}

/*
 * When the command exits, whatever it left behind (a daemon started with setsid, a
 * double fork) must not outlive the session.  nono is a child subreaper, so every
 * orphan of the sandbox was reparented to it: kill and reap them until none is left.
 * Bounded, in case something keeps forking faster than it is killed.
 *
 * `spare` (the mediator's helper, or 0) is killed but not waited for: it is nono's own
 * program, which leaves nothing behind, and its exit is slow (see unixmed_free).
 */
static void kill_leftovers(pid_t spare)
{
        pid_t pids[512];

        if (spare > 0)
                kill(spare, SIGKILL);
        for (int round = 0; round < 1000; round++) {
                size_t n = read_children(pids, sizeof(pids) / sizeof(pids[0]), spare);

                if (n == 0)
                        break;
                for (size_t i = 0; i < n; i++)
                        kill(pids[i], SIGKILL);
                for (size_t i = 0; i < n; i++)
                        while (waitpid(pids[i], NULL, 0) < 0 && errno == EINTR)
                                ;
        }
        while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
}

static int exit_code_of(int status)
{
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        if (WIFSIGNALED(status))
                return NONO_EXIT_SIGNAL_BASE + WTERMSIG(status);
        return NONO_EXIT_ERROR;
}

static int report_child_failure(const struct child_error *err)
{
        if (err->stage == CHILD_STAGE_EXEC) {
                fprintf(stderr, "nono: %s: %s\n", err->message, strerror(err->err));
                return NONO_EXIT_EXEC;
        }
        fprintf(stderr, "nono: sandbox setup failed: %s%s%s\n", err->message, err->err ? ": " : "",
                err->err ? strerror(err->err) : "");
        return NONO_EXIT_SETUP;
}

int supervisor_run(const struct child_spec *spec)
{
        struct child_error err;
        sigset_t all, old;
        int pipefd[2];
        int status = 0;
        pid_t parent = getpid();
        int interactive = pty_relay_wanted();
        struct pty_relay pty;
        pid_t pid;
        int failed, r;

        if (interactive && pty_relay_open(&pty) < 0)
                return -EIO;
        if (pipe2(pipefd, O_CLOEXEC) < 0) {
                r = nono_error(-errno, "cannot create pipe: %s", strerror(errno));
                if (interactive)
                        pty_relay_close(&pty);
                return r;
        }
        /* Orphans of the sandbox become nono's children, so none can outlive it. */
        prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        /* Block signals across fork so that the forwarding handler never runs before
         * child_pid is known, and the child starts with a clean slate. */
        sigfillset(&all);
        sigprocmask(SIG_BLOCK, &all, &old);
        pid = spawn_child(spec, pipefd, parent, interactive ? &pty : NULL);
        if (pid < 0) {
                r = -errno;
                sigprocmask(SIG_SETMASK, &old, NULL);
                close(pipefd[0]);
                close(pipefd[1]);
                return nono_error(r, "cannot start the child: %s", strerror(-r));
        }
        child_pid = pid;
        /* The child creates the Landlock domain (before the command's exec). */
        if (spec->kaudit)
                kaudit_log_creator(kaudit_log(spec->kaudit), pid);
        /* The supervisor holds the plan and, later, credentials: no core dumps, no
         * ptrace or /proc/<pid>/mem from same-uid processes.  Set after fork so that
         * the child (which may need its own /proc files) does not inherit it. */
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        install_forwarding();
        sigprocmask(SIG_SETMASK, &old, NULL);
        close(pipefd[1]);
        if (spec->started)
                spec->started(spec->started_userdata);

        memset(&err, 0, sizeof(err));
        failed = read_child_report(pipefd[0], &err);
        close(pipefd[0]);
        if (!failed) {
                struct unixmed *med = spec->unix_mediator;

                /* No listener although the child runs: it is inside another nono, whose
                 * mediator holds the only listener; the child fell back to having no
                 * Unix sockets at all. */
                if (med && unixmed_parent_attach(med) < 0) {
                        nono_warn("inside another sandbox, Unix sockets cannot be mediated: "
                                  "the command may not create any (socketpair still works)");
                        med = NULL;
                }
                supervise(pid, interactive ? &pty : NULL, med, spec->persist_watch, spec->kaudit,
                          NULL);
        }
        if (interactive)
                pty_relay_close(&pty);
        r = wait_child(pid, &status);
        child_pid = 0;
        kill_leftovers(spec->unix_mediator ? unixmed_helper_pid(spec->unix_mediator) : 0);
        if (r < 0)
                return nono_error(r, "cannot wait for the child: %s", strerror(-r));
        if (failed)
                return report_child_failure(&err);
        return exit_code_of(status);
}

/* ---- captured runs (the SDK's sandboxed_exec) ------------------------------------- */

/* What the reaper tells the caller once the sandbox has ended. */
struct reaper_report {
        int failed; /* read_child_report: err holds the child's failure */
        int status; /* the command's wait status */
        int timed_out;
        int wait_error; /* positive errno when waiting failed */
        struct child_error err;
};

static void reset_all_signals(void)
{
        struct sigaction sa;
        sigset_t none;

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = SIG_DFL;
        for (int sig = 1; sig < NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        sigaction(sig, &sa, NULL);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
}

/* The descriptors open now (inherited from the host), in *ret (malloc'ed). */
static int list_open_fds(int **ret, size_t *ret_n)
{
        DIR *d = opendir("/proc/self/fd");
        struct dirent *e;
        size_t n = 0, cap = 0;
        int *fds = NULL;

        if (!d)
                return -errno;
        while ((e = readdir(d))) {
                int fd = atoi(e->d_name);
                int *grown;

                if (e->d_name[0] == '.' || fd == dirfd(d))
                        continue;
                if (n == cap) {
                        cap = cap ? 2 * cap : 64;
                        grown = realloc(fds, cap * sizeof(*fds));
                        if (!grown) {
                                free(fds);
                                closedir(d);
                                return -ENOMEM;
                        }
                        fds = grown;
                }
                fds[n++] = fd;
        }
        closedir(d);
        *ret = fds;
        *ret_n = n;
        return 0;
}

/* Closes what the host left us but stdio and `keep`: a host waiting for EOF on a pipe
 * of its own must not wait for the sandbox.  What the reaper opened itself (the
 * mediator's channels) stays. */
static void close_inherited(const int *fds, size_t n, int keep)
{
        for (size_t i = 0; i < n; i++)
                if (fds[i] > STDERR_FILENO && fds[i] != keep)
                        close(fds[i]);
}

static int redirect_stdio(int in, int out, int err)
{
        return dup2(in, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 ||
                       dup2(err, STDERR_FILENO) < 0
                   ? -1
                   : 0;
}

static void deadline_after(int timeout_ms, struct timespec *ret)
{
        clock_gettime(CLOCK_MONOTONIC, ret);
        ret->tv_sec += timeout_ms / 1000;
        ret->tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (ret->tv_nsec >= 1000000000L) {
                ret->tv_sec++;
                ret->tv_nsec -= 1000000000L;
        }
}

/* A setup failure of the reaper itself, reported like the child's. */
static void reaper_fail(struct reaper_report *rep, int err, const char *what)
{
        rep->failed = 1;
        rep->err.stage = CHILD_STAGE_SETUP;
        rep->err.err = -err;
        snprintf(rep->err.message, sizeof(rep->err.message), "%s", what);
}

/* Runs the command and supervises it; fills *rep. */
static void reaper_run(const struct child_spec *spec, const struct capture_options *opts,
                       int report_fd, struct reaper_report *rep)
{
        struct child_spec local = *spec;
        struct unixmed *med = NULL;
        struct timespec deadline;
        size_t n_inherited = 0;
        int *inherited = NULL;
        int pipefd[2], r;
        pid_t pid;

        r = list_open_fds(&inherited, &n_inherited);
        if (r >= 0 && opts->prepare_mediator) {
                /* Here, not in the host: the mediator's helper is our child. */
                r = opts->prepare_mediator(opts->userdata, &med);
                if (r < 0)
                        reaper_fail(rep, r, nono_errmsg());
        }
        if (r < 0 || pipe2(pipefd, O_CLOEXEC) < 0) {
                if (!rep->failed)
                        reaper_fail(rep, -errno, "cannot start the sandbox");
                free(inherited);
                return;
        }
        local.unix_mediator = med;
        deadline_after(opts->timeout_ms, &deadline);
        pid = spawn_child(&local, pipefd, getpid(), NULL);
        close(pipefd[1]);
        if (pid < 0) {
                reaper_fail(rep, -errno, "cannot start the sandbox");
                close(pipefd[0]);
                free(inherited);
                return;
        }
        rep->failed = read_child_report(pipefd[0], &rep->err);
        close(pipefd[0]);
        close_inherited(inherited, n_inherited, report_fd);
        free(inherited);
        /* No listener: inside another nono, the child fell back to no Unix sockets. */
        if (med && (rep->failed || unixmed_parent_attach(med) < 0))
                med = NULL;
        if (!rep->failed)
                rep->timed_out = supervise(pid, NULL, med, spec->persist_watch, NULL,
                                           opts->timeout_ms > 0 ? &deadline : NULL);
        rep->wait_error = -wait_child(pid, &rep->status);
        /* Whatever the command left behind, and the mediator's helper. */
        kill_leftovers(0);
}

/*
 * The reaper: a process of its own between the host and the sandbox, so that
 * everything the CLI's supervisor does to the whole process (subreaper, killing every
 * child, signal dispositions) stays in it and ends with it.  A fork of the host: glibc
 * makes malloc usable again after fork, which the mediator needs.  Never returns.
 */
static void reaper_main(const struct child_spec *spec, const struct capture_options *opts,
                        const struct capture_fds *fds, pid_t host)
{
        struct reaper_report rep;
        ssize_t ignored;

        memset(&rep, 0, sizeof(rep));
        reset_all_signals();
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != host)
                _exit(NONO_EXIT_ERROR);
        prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        if (redirect_stdio(fds->stdin_fd, fds->stdout_fd, fds->stderr_fd) < 0)
                _exit(NONO_EXIT_ERROR);
        reaper_run(spec, opts, fds->report_fd, &rep);
        ignored = write(fds->report_fd, &rep, sizeof(rep));
        (void)ignored;
        _exit(0);
}

static int append_output(struct captured_stream *c, const char *buf, size_t n, size_t max)
{
        size_t room = max > c->len ? max - c->len : 0;
        char *grown;

        if (n > room) {
                c->truncated = 1;
                n = room;
        }
        if (n == 0)
                return 0;
        grown = realloc(c->data, c->len + n + 1);
        if (!grown)
                return -ENOMEM;
        memcpy(grown + c->len, buf, n);
        c->len += n;
        grown[c->len] = '\0';
        c->data = grown;
        return 0;
}

/* Reads one ready descriptor; returns 0 at EOF (the caller stops polling it). */
static int read_ready(int fd, struct captured_stream *c, size_t max, int *ret_err)
{
        char buf[16384];
        ssize_t n = read(fd, buf, sizeof(buf));

        if (n < 0)
                return errno == EINTR || errno == EAGAIN ? 1 : 0;
        if (n > 0 && append_output(c, buf, (size_t)n, max) < 0)
                *ret_err = -ENOMEM;
        return n > 0;
}

/* Collects stdout, stderr and the report until every writer has gone. */
static int collect(int out_fd, int err_fd, int report_fd, size_t max, struct captured_result *res,
                   struct reaper_report *rep)
{
        struct pollfd fds[3] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}, {report_fd, POLLIN, 0}};
        size_t got = 0;
        int err = 0;

        while (fds[0].fd >= 0 || fds[1].fd >= 0 || fds[2].fd >= 0) {
                if (poll(fds, 3, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                for (int i = 0; i < 2; i++)
                        if (fds[i].revents && !read_ready(fds[i].fd, &res->out[i], max, &err))
                                fds[i].fd = -1;
                if (fds[2].revents) {
                        ssize_t n = read(report_fd, (char *)rep + got, sizeof(*rep) - got);

                        if (n > 0)
                                got += (size_t)n;
                        else if (n == 0 || errno != EINTR)
                                fds[2].fd = -1;
                }
        }
        if (err < 0)
                return err;
        return got == sizeof(*rep) ? 0 : -EPIPE;
}

static void close_pair(int p[2])
{
        if (p[0] >= 0)
                close(p[0]);
        if (p[1] >= 0)
                close(p[1]);
        p[0] = p[1] = -1;
}

static int fill_result(const struct reaper_report *rep, struct captured_result *res)
{
        res->timed_out = rep->timed_out;
        if (rep->failed) {
                res->child_failed = rep->err.stage;
                res->child_error = rep->err;
                return rep->err.stage == CHILD_STAGE_EXEC ? NONO_EXIT_EXEC : NONO_EXIT_SETUP;
        }
        if (rep->wait_error)
                return nono_error(-rep->wait_error, "cannot wait for the sandboxed command: %s",
                                  strerror(rep->wait_error));
        res->exit_code = exit_code_of(rep->status);
        return 0;
}

int supervisor_run_captured(const struct child_spec *spec, const struct capture_options *opts,
                            struct captured_result *res)
{
        int out[2] = {-1, -1}, err[2] = {-1, -1}, report[2] = {-1, -1};
        struct reaper_report rep;
        struct capture_fds fds;
        int devnull, status, r;
        pid_t host = getpid(), pid;

        memset(res, 0, sizeof(*res));
        memset(&rep, 0, sizeof(rep));
        devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (devnull < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 ||
            pipe2(report, O_CLOEXEC) < 0) {
                r = nono_error(-errno, "cannot create pipes for the command: %s", strerror(errno));
                goto out;
        }
        fds = (struct capture_fds){devnull, out[1], err[1], report[1]};
        pid = fork();
        if (pid < 0) {
                r = nono_error(-errno, "cannot start the sandbox: %s", strerror(errno));
                goto out;
        }
        if (pid == 0)
                reaper_main(spec, opts, &fds, host);
        close(out[1]);
        close(err[1]);
        close(report[1]);
        out[1] = err[1] = report[1] = -1;
        r = collect(out[0], err[0], report[0], opts->max_output, res, &rep);
        /* The reaper has written its report (or died): it exits right after. */
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (r == -EPIPE)
                r = nono_error(-EIO, "the sandbox's supervisor ended without a report");
        else if (r < 0)
                r = nono_error(r, "cannot collect the command's output: %s", strerror(-r));
        else
                r = fill_result(&rep, res);
out:
        if (devnull >= 0)
                close(devnull);
        close_pair(out);
        close_pair(err);
        close_pair(report);
        return r;
}

void captured_result_free(struct captured_result *res)
{
        free(res->out[0].data);
        free(res->out[1].data);
        memset(res, 0, sizeof(*res));
}
