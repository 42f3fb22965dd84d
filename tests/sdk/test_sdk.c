/* SPDX-License-Identifier: Apache-2.0 */
/*
 * <nono/nono.h> through libnono.so only (no core headers): argument checking, queries,
 * sandboxed_exec's effects checked from outside, and apply in forked children (it is
 * irrevocable).  Temporary files live under /var/tmp: the sandbox's system groups
 * grant /tmp.
 */
#include <nono/nono.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cunit-main.h"

static char base[] = "/var/tmp/nono-sdk-test.XXXXXX";
static char granted[4096], outside[4096];

static int write_file(const char *path, const char *text, mode_t mode)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        ssize_t n;

        if (fd < 0)
                return -1;
        n = write(fd, text, strlen(text));
        close(fd);
        return n == (ssize_t)strlen(text) ? 0 : -1;
}

static int exists(const char *path)
{
        struct stat st;

        return lstat(path, &st) == 0;
}

static int setup(void)
{
        char path[4200];

        if (!mkdtemp(base))
                return -1;
        snprintf(granted, sizeof(granted), "%s/granted", base);
        snprintf(outside, sizeof(outside), "%s/outside", base);
        if (mkdir(granted, 0755) < 0 || mkdir(outside, 0755) < 0)
                return -1;
        snprintf(path, sizeof(path), "%s/secret", outside);
        if (write_file(path, "top secret\n", 0644) < 0)
                return -1;
        /* A home of our own: the protected paths (~/.ssh) are computed from it. */
        snprintf(path, sizeof(path), "%s/home", base);
        if (mkdir(path, 0755) < 0 || setenv("HOME", path, 1) < 0)
                return -1;
        unsetenv("XDG_CONFIG_HOME");
        return 0;
}

static int cleanup(void)
{
        char cmd[4200];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
        return system(cmd) == 0 ? 0 : -1;
}

/* The error contract: a negative errno, a message, a kind. */
static void assert_error(int r, int err, int kind)
{
        CU_ASSERT_EQUAL(r, -err);
        CU_ASSERT_EQUAL(nono_last_error_kind(), kind);
        CU_ASSERT(nono_last_error()[0] != '\0');
}

static nono_caps *granted_caps(void)
{
        nono_caps *caps = nono_caps_new();

        CU_ASSERT_FATAL(caps != NULL);
        CU_ASSERT_EQUAL_FATAL(nono_caps_allow_path(caps, granted, NONO_ACCESS_READWRITE), 0);
        return caps;
}

static void test_version(void)
{
        CU_ASSERT_STRING_EQUAL(nono_version(), NONO_VERSION_STRING);
        CU_ASSERT(NONO_VERSION_AT_LEAST(0, 1, 0));
        CU_ASSERT(!NONO_VERSION_AT_LEAST(NONO_VERSION_MAJOR + 1, 0, 0));
}

static void test_bad_arguments(void)
{
        struct nono_exec_result *res = NULL;
        struct nono_exec_options opt;
        struct nono_verdict v;
        const char *empty_argv[] = {NULL};
        nono_caps *caps = granted_caps();
        char file[4200];

        snprintf(file, sizeof(file), "%s/secret", outside);
        assert_error(nono_caps_allow_path(NULL, granted, NONO_ACCESS_READ), EINVAL,
                     NONO_ERROR_INVALID);
        assert_error(nono_caps_allow_path(caps, NULL, NONO_ACCESS_READ), EINVAL,
                     NONO_ERROR_INVALID);
        assert_error(nono_caps_allow_path(caps, granted, 0), EINVAL, NONO_ERROR_INVALID);
        assert_error(nono_caps_allow_path(caps, granted, 0x10), EINVAL, NONO_ERROR_INVALID);
        assert_error(nono_caps_allow_path(caps, "/nonexistent/nono", NONO_ACCESS_READ), ENOENT,
                     NONO_ERROR_INVALID);
        assert_error(nono_caps_allow_path(caps, file, NONO_ACCESS_READ), ENOTDIR,
                     NONO_ERROR_INVALID);
        assert_error(nono_caps_allow_file(caps, granted, NONO_ACCESS_READ), EISDIR,
                     NONO_ERROR_INVALID);
        assert_error(nono_caps_add_group(caps, "no_such_group"), ENOENT, NONO_ERROR_INVALID);
        assert_error(nono_caps_deny_path(caps, "relative/path"), EINVAL, NONO_ERROR_INVALID);
        assert_error(nono_caps_allow_env(caps, "BAD=NAME"), EINVAL, NONO_ERROR_INVALID);
        assert_error(nono_caps_set_env(caps, "1ABC", "x"), EINVAL, NONO_ERROR_INVALID);
        assert_error(nono_caps_set_env(caps, "OK", NULL), EINVAL, NONO_ERROR_INVALID);
        assert_error(nono_caps_block_network(NULL), EINVAL, NONO_ERROR_INVALID);
        assert_error(nono_apply(NULL), EINVAL, NONO_ERROR_INVALID);

        assert_error(nono_sandboxed_exec(caps, NULL, &res), EINVAL, NONO_ERROR_INVALID);
        memset(&opt, 0, sizeof(opt));
        opt.argv = empty_argv;
        assert_error(nono_sandboxed_exec(caps, &opt, &res), EINVAL, NONO_ERROR_INVALID);
        opt.size = sizeof(opt);
        assert_error(nono_sandboxed_exec(caps, &opt, &res), EINVAL, NONO_ERROR_INVALID);
        assert_error(nono_sandboxed_exec(caps, &opt, NULL), EINVAL, NONO_ERROR_INVALID);
        CU_ASSERT_PTR_NULL(res);

        memset(&v, 0, sizeof(v));
        assert_error(nono_query_path(caps, granted, NONO_ACCESS_READ, &v), EINVAL,
                     NONO_ERROR_INVALID);
        v.size = sizeof(v);
        assert_error(nono_query_path(caps, granted, 7, &v), EINVAL, NONO_ERROR_INVALID);
        assert_error(nono_query_host(caps, "", 80, &v), EINVAL, NONO_ERROR_INVALID);

        /* A successful call clears the error. */
        CU_ASSERT_EQUAL(nono_caps_block_network(caps), 0);
        CU_ASSERT_STRING_EQUAL(nono_last_error(), "");
        CU_ASSERT_EQUAL(nono_last_error_kind(), NONO_ERROR_NONE);
        nono_caps_free(caps);
        nono_caps_free(NULL);
        nono_exec_result_free(NULL);
}

static struct nono_verdict query(const nono_caps *caps, const char *path, uint32_t access)
{
        struct nono_verdict v;

        memset(&v, 0, sizeof(v));
        v.size = sizeof(v);
        CU_ASSERT_EQUAL(nono_query_path(caps, path, access, &v), 0);
        return v;
}

static void test_query_path(void)
{
        nono_caps *caps = nono_caps_new();
        char path[4200], ssh[4200];
        struct nono_verdict v;

        CU_ASSERT_EQUAL_FATAL(nono_caps_allow_path(caps, granted, NONO_ACCESS_READ), 0);
        snprintf(path, sizeof(path), "%s/sub/new-file", granted);
        v = query(caps, path, NONO_ACCESS_READ);
        CU_ASSERT(v.allowed);
        CU_ASSERT_EQUAL(v.reason, NONO_VERDICT_GRANTED);
        CU_ASSERT_STRING_EQUAL(v.rule_path, granted);
        CU_ASSERT_STRING_EQUAL(v.origin, "nono_caps_allow_path");

        v = query(caps, path, NONO_ACCESS_WRITE);
        CU_ASSERT(!v.allowed);
        CU_ASSERT_EQUAL(v.reason, NONO_VERDICT_INSUFFICIENT);
        CU_ASSERT_STRING_EQUAL(v.rule_path, granted);

        snprintf(path, sizeof(path), "%s/secret", outside);
        v = query(caps, path, NONO_ACCESS_READ);
        CU_ASSERT(!v.allowed);
        CU_ASSERT_EQUAL(v.reason, NONO_VERDICT_NOT_GRANTED);

        /* System files are readable, not writable. */
        CU_ASSERT(query(caps, "/usr/bin/env", NONO_ACCESS_READ).allowed);
        CU_ASSERT(!query(caps, "/usr/bin/env", NONO_ACCESS_WRITE).allowed);

        /* ~/.ssh stays protected even when the home is granted. */
        snprintf(ssh, sizeof(ssh), "%s/.ssh/id_ed25519", getenv("HOME"));
        CU_ASSERT_EQUAL(nono_caps_allow_path(caps, getenv("HOME"), NONO_ACCESS_READWRITE), 0);
        v = query(caps, ssh, NONO_ACCESS_READ);
        CU_ASSERT(!v.allowed);
        CU_ASSERT_EQUAL(v.reason, NONO_VERDICT_PROTECTED);
        CU_ASSERT_STRING_EQUAL(v.origin, "group deny_credentials");

        /* A protected path of the caller's own. */
        snprintf(path, sizeof(path), "%s/private", granted);
        CU_ASSERT_EQUAL(nono_caps_deny_path(caps, path), 0);
        snprintf(path, sizeof(path), "%s/private/x", granted);
        CU_ASSERT_EQUAL(query(caps, path, NONO_ACCESS_READ).reason, NONO_VERDICT_PROTECTED);
        nono_caps_free(caps);
}

static void test_query_file_and_host(void)
{
        nono_caps *caps = nono_caps_new();
        char file[4200], sibling[4200];
        struct nono_verdict v;

        snprintf(file, sizeof(file), "%s/secret", outside);
        snprintf(sibling, sizeof(sibling), "%s/other", outside);
        CU_ASSERT_EQUAL_FATAL(nono_caps_allow_file(caps, file, NONO_ACCESS_READ), 0);
        CU_ASSERT(query(caps, file, NONO_ACCESS_READ).allowed);
        CU_ASSERT(!query(caps, sibling, NONO_ACCESS_READ).allowed);

        memset(&v, 0, sizeof(v));
        v.size = sizeof(v);
        CU_ASSERT_EQUAL(nono_query_host(caps, "example.com", 443, &v), 0);
        CU_ASSERT(v.allowed);
        CU_ASSERT_EQUAL(v.reason, NONO_VERDICT_NETWORK_ALLOWED);
        CU_ASSERT_EQUAL(nono_caps_block_network(caps), 0);
        CU_ASSERT_EQUAL(nono_query_host(caps, "example.com", 443, &v), 0);
        CU_ASSERT(!v.allowed);
        CU_ASSERT_EQUAL(v.reason, NONO_VERDICT_NETWORK_BLOCKED);
        nono_caps_free(caps);
}

static struct nono_exec_result *exec_in(const nono_caps *caps, const char *const *argv,
                                        const char *cwd, const char *const *envp,
                                        uint32_t timeout_ms)
{
        struct nono_exec_options opt;
        struct nono_exec_result *res = NULL;
        int r;

        memset(&opt, 0, sizeof(opt));
        opt.size = sizeof(opt);
        opt.argv = argv;
        opt.cwd = cwd;
        opt.envp = envp;
        opt.timeout_ms = timeout_ms;
        r = nono_sandboxed_exec(caps, &opt, &res);
        if (r < 0)
                fprintf(stderr, "nono_sandboxed_exec: %s\n", nono_last_error());
        CU_ASSERT_EQUAL(r, 0);
        return res;
}

static void test_exec_output_and_confinement(void)
{
        nono_caps *caps = granted_caps();
        char script[8400];
        const char *argv[] = {"sh", "-c", script, NULL};
        char inside[4200], escaped[4200];
        struct nono_exec_result *res;

        snprintf(inside, sizeof(inside), "%s/written", granted);
        snprintf(escaped, sizeof(escaped), "%s/escaped", outside);
        /* The payload proves it ran (stdout, the file inside) before each probe. */
        snprintf(script, sizeof(script),
                 "echo ran; pwd; echo inside > written; echo escaped > %s; cat %s/secret; "
                 "echo to-stderr >&2; exit 7",
                 escaped, outside);
        res = exec_in(caps, argv, granted, NULL, 0);
        CU_ASSERT_FATAL(res != NULL);
        CU_ASSERT_EQUAL(res->exit_code, 7);
        CU_ASSERT(!res->timed_out);
        CU_ASSERT(strncmp(res->stdout_data, "ran\n", 4) == 0);
        CU_ASSERT(strstr(res->stdout_data, granted) != NULL);
        CU_ASSERT(strstr(res->stdout_data, "top secret") == NULL);
        CU_ASSERT(strstr(res->stderr_data, "to-stderr") != NULL);
        CU_ASSERT_EQUAL(res->stdout_len, strlen(res->stdout_data));
        CU_ASSERT(exists(inside));
        CU_ASSERT(!exists(escaped));
        nono_exec_result_free(res);
        nono_caps_free(caps);
}

static void test_exec_environment(void)
{
        const char *env[] = {"PATH=/usr/bin:/bin", "PLAIN=visible", "MY_API_KEY=hidden",
                             "OTHER_TOKEN=passed", "DROPPED=x",     NULL};
        const char *argv[] = {"env", NULL};
        nono_caps *caps = granted_caps();
        struct nono_exec_result *res;

        CU_ASSERT_EQUAL(nono_caps_allow_env(caps, "OTHER_TOKEN"), 0);
        CU_ASSERT_EQUAL(nono_caps_deny_env(caps, "DROPPED"), 0);
        CU_ASSERT_EQUAL(nono_caps_set_env(caps, "ADDED", "yes"), 0);
        res = exec_in(caps, argv, NULL, env, 0);
        CU_ASSERT_FATAL(res != NULL);
        CU_ASSERT_EQUAL(res->exit_code, 0);
        CU_ASSERT(strstr(res->stdout_data, "PLAIN=visible") != NULL);
        CU_ASSERT(strstr(res->stdout_data, "OTHER_TOKEN=passed") != NULL);
        CU_ASSERT(strstr(res->stdout_data, "ADDED=yes") != NULL);
        CU_ASSERT(strstr(res->stdout_data, "MY_API_KEY") == NULL);
        CU_ASSERT(strstr(res->stdout_data, "hidden") == NULL);
        CU_ASSERT(strstr(res->stdout_data, "DROPPED") == NULL);
        nono_exec_result_free(res);
        nono_caps_free(caps);
}

static int pid_alive(pid_t pid)
{
        char path[64], state = '?';
        FILE *f;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        f = fopen(path, "re");
        if (!f)
                return 0;
        /* A zombie waiting for its reaper counts as gone. */
        if (fscanf(f, "%*d %*s %c", &state) != 1)
                state = '?';
        fclose(f);
        return state != 'Z' && state != '?';
}

/* The timeout kills the command and what it started in the background. */
static void test_exec_timeout_kills_tree(void)
{
        char script[4300], pidfile[4200], buf[32] = "";
        const char *argv[] = {"sh", "-c", script, NULL};
        nono_caps *caps = granted_caps();
        struct nono_exec_result *res;
        FILE *f;

        snprintf(pidfile, sizeof(pidfile), "%s/bg.pid", granted);
        snprintf(script, sizeof(script), "sleep 60 & echo $! > %s; echo started; sleep 60",
                 pidfile);
        res = exec_in(caps, argv, NULL, NULL, 300);
        CU_ASSERT_FATAL(res != NULL);
        CU_ASSERT(res->timed_out);
        CU_ASSERT_EQUAL(res->exit_code, 128 + SIGKILL);
        CU_ASSERT_STRING_EQUAL(res->stdout_data, "started\n");
        f = fopen(pidfile, "re");
        CU_ASSERT_FATAL(f != NULL);
        CU_ASSERT(fgets(buf, sizeof(buf), f) != NULL);
        fclose(f);
        CU_ASSERT(atoi(buf) > 0);
        CU_ASSERT(!pid_alive((pid_t)atoi(buf)));
        nono_exec_result_free(res);
        nono_caps_free(caps);
}

static void on_signal(int sig)
{
        (void)sig;
}

/* A host application keeps its children, handlers and process attributes. */
static void test_exec_leaves_host_alone(void)
{
        const char *argv[] = {"sh", "-c", "sleep 0.1 & exit 0", NULL};
        nono_caps *caps = granted_caps();
        struct nono_exec_result *res;
        struct sigaction sa, now;
        pid_t other = fork();
        int status;

        CU_ASSERT_FATAL(other >= 0);
        if (other == 0) {
                pause();
                _exit(0);
        }
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigaction(SIGTERM, &sa, NULL);
        res = exec_in(caps, argv, NULL, NULL, 0);
        CU_ASSERT(res && res->exit_code == 0);
        nono_exec_result_free(res);
        CU_ASSERT(pid_alive(other));
        CU_ASSERT_EQUAL(waitpid(other, &status, WNOHANG), 0);
        sigaction(SIGTERM, NULL, &now);
        CU_ASSERT(now.sa_handler == on_signal);
        CU_ASSERT_EQUAL(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0), 1);
        status = -1;
        CU_ASSERT_EQUAL(prctl(PR_GET_CHILD_SUBREAPER, &status, 0, 0, 0), 0);
        CU_ASSERT_EQUAL(status, 0);
        kill(other, SIGKILL);
        waitpid(other, &status, 0);
        sa.sa_handler = SIG_DFL;
        sigaction(SIGTERM, &sa, NULL);
        nono_caps_free(caps);
}

static void test_exec_failures(void)
{
        const char *missing[] = {"nono-no-such-command", NULL};
        char copy[4200], cmd[8500];
        const char *outside_cmd[] = {copy, NULL};
        struct nono_exec_options opt;
        struct nono_exec_result *res = NULL;
        nono_caps *caps = granted_caps();

        memset(&opt, 0, sizeof(opt));
        opt.size = sizeof(opt);
        opt.argv = missing;
        assert_error(nono_sandboxed_exec(caps, &opt, &res), ENOENT, NONO_ERROR_EXEC);
        CU_ASSERT_PTR_NULL(res);

        /* Executable, but outside the grants: the sandbox refuses the execve (127). */
        snprintf(copy, sizeof(copy), "%s/true", outside);
        snprintf(cmd, sizeof(cmd), "cp /bin/true '%s'", copy);
        CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
        res = exec_in(caps, outside_cmd, NULL, NULL, 0);
        CU_ASSERT_FATAL(res != NULL);
        CU_ASSERT_EQUAL(res->exit_code, 127);
        CU_ASSERT(strstr(res->stderr_data, "cannot execute") != NULL);
        nono_exec_result_free(res);
        nono_caps_free(caps);
}

static void test_exec_output_limit(void)
{
        const char *argv[] = {"sh", "-c", "yes | head -c 100000", NULL};
        struct nono_exec_options opt;
        struct nono_exec_result *res = NULL;
        nono_caps *caps = granted_caps();

        memset(&opt, 0, sizeof(opt));
        opt.size = sizeof(opt);
        opt.argv = argv;
        opt.max_output = 1000;
        CU_ASSERT_EQUAL_FATAL(nono_sandboxed_exec(caps, &opt, &res), 0);
        CU_ASSERT_EQUAL(res->exit_code, 0);
        CU_ASSERT_EQUAL(res->stdout_len, 1000);
        CU_ASSERT(res->stdout_truncated);
        CU_ASSERT(!res->stderr_truncated);
        nono_exec_result_free(res);
        nono_caps_free(caps);
}

static int listen_unix(const char *path)
{
        struct sockaddr_un addr = {.sun_family = AF_UNIX};
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
        if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 4) < 0)
                return -1;
        return fd;
}

/* As under nono run, pathname sockets outside the write grants cannot be connected. */
static void test_exec_mediates_unix_sockets(void)
{
        static const char probe[] = "import socket, sys\n"
                                    "for path in sys.argv[1:]:\n"
                                    "    s = socket.socket(socket.AF_UNIX)\n"
                                    "    try:\n"
                                    "        s.connect(path); print('CONNECTED')\n"
                                    "    except OSError as e:\n"
                                    "        print('REFUSED', e.errno)\n";
        char inside[4200], out[4200];
        const char *argv[] = {"/usr/bin/python3", "-c", probe, inside, out, NULL};
        nono_caps *caps = granted_caps();
        struct nono_exec_result *res;
        int a, b;

        snprintf(inside, sizeof(inside), "%s/in.sock", granted);
        snprintf(out, sizeof(out), "%s/out.sock", outside);
        a = listen_unix(inside);
        b = listen_unix(out);
        CU_ASSERT_FATAL(a >= 0 && b >= 0);
        res = exec_in(caps, argv, NULL, NULL, 0);
        CU_ASSERT_FATAL(res != NULL);
        CU_ASSERT_EQUAL(res->exit_code, 0);
        CU_ASSERT_STRING_EQUAL(res->stdout_data, "CONNECTED\nREFUSED 13\n");
        nono_exec_result_free(res);
        nono_caps_free(caps);
        close(a);
        close(b);
        unlink(inside);
        unlink(out);
}

/* ---- apply (in forked children: it is irrevocable) ---------------------------------- */

static int child_status(pid_t pid)
{
        int status;

        CU_ASSERT_EQUAL_FATAL(waitpid(pid, &status, 0), pid);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Exit codes: 10 apply failed, 11 cannot write inside, 12 wrote outside, 13 read the
 * secret, 0 all as expected. */
static int confined_child(void)
{
        nono_caps *caps = granted_caps();
        char path[4200];
        int fd;

        if (nono_apply(caps) < 0) {
                fprintf(stderr, "nono_apply: %s\n", nono_last_error());
                return 10;
        }
        nono_caps_free(caps);
        snprintf(path, sizeof(path), "%s/applied", granted);
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
                return 11;
        close(fd);
        snprintf(path, sizeof(path), "%s/escaped-apply", outside);
        fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd >= 0)
                return 12;
        snprintf(path, sizeof(path), "%s/secret", outside);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0 || errno != EACCES)
                return 13;
        /* Still able to run programs from the system. */
        return system("/bin/true") == 0 ? 0 : 14;
}

static void test_apply(void)
{
        char path[4200];
        pid_t pid = fork();

        CU_ASSERT_FATAL(pid >= 0);
        if (pid == 0)
                _exit(confined_child());
        CU_ASSERT_EQUAL(child_status(pid), 0);
        snprintf(path, sizeof(path), "%s/applied", granted);
        CU_ASSERT(exists(path));
        snprintf(path, sizeof(path), "%s/escaped-apply", outside);
        CU_ASSERT(!exists(path));
}

static void *idle_thread(void *arg)
{
        (void)arg;
        pause();
        return NULL;
}

/* With a second thread, apply refuses: that thread would stay unconfined. */
static int threaded_child(void)
{
        nono_caps *caps = granted_caps();
        pthread_t t;
        int r;

        if (pthread_create(&t, NULL, idle_thread, NULL) != 0)
                return 20;
        r = nono_apply(caps);
        if (r != -EBUSY || nono_last_error_kind() != NONO_ERROR_SANDBOX ||
            !strstr(nono_last_error(), "threads"))
                return 21;
        /* Nothing was applied: writing outside still works. */
        return access(outside, W_OK) == 0 ? 0 : 22;
}

static void test_apply_refuses_threads(void)
{
        pid_t pid = fork();

        CU_ASSERT_FATAL(pid >= 0);
        if (pid == 0)
                _exit(threaded_child());
        CU_ASSERT_EQUAL(child_status(pid), 0);
}

int main(void)
{
        static const struct test_case cases[] = {
            {"version", test_version},
            {"bad_arguments", test_bad_arguments},
            {"query_path", test_query_path},
            {"query_file_and_host", test_query_file_and_host},
            {"exec_output_and_confinement", test_exec_output_and_confinement},
            {"exec_environment", test_exec_environment},
            {"exec_timeout_kills_tree", test_exec_timeout_kills_tree},
            {"exec_leaves_host_alone", test_exec_leaves_host_alone},
            {"exec_failures", test_exec_failures},
            {"exec_output_limit", test_exec_output_limit},
            {"exec_mediates_unix_sockets", test_exec_mediates_unix_sockets},
            {"apply", test_apply},
            {"apply_refuses_threads", test_apply_refuses_threads},
        };

        return RUN_CUNIT("sdk", setup, cleanup, cases);
}
