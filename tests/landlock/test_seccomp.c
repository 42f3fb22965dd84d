/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Functional tests of the landlock enforcer's seccomp layer, with the plugin linked in
 * statically (-DNONO_PLUGIN_BUILTIN) and driven through a fake host.
 *
 * Each case runs the same probes twice in forked children: first unconfined, to show
 * that the call works (or fails with something other than EPERM) on this machine, so
 * the test can fail; then under the sandbox, where it must fail with EPERM.  Every
 * sandboxed child starts with a positive check and exits 0 only when all its checks
 * held.  The tests run as root: a root process keeps CAP_SYS_ADMIN, CAP_NET_RAW,
 * CAP_BPF... here (dropping them is the host's job), so an EPERM seen in the sandbox
 * comes from the filter.  Only loopback addresses are used.
 */

#include "cunit-main.h"
#include "fake-host.h"
#include "probes.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <linux/perf_event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif
#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef AF_TIPC
#define AF_TIPC 30
#endif
#define X32_SYSCALL_BIT 0x40000000L
#define HIGH_BITS       (0x123UL << 32)

/* ---- plans ----------------------------------------------------------------------------- */

/* A plan without grants: the seccomp probes need no files. */
static struct nono_plan make_plan(uint32_t network_mode, uint32_t flags)
{
        return (struct nono_plan){
            .size = sizeof(struct nono_plan),
            .flags = flags,
            .network_mode = network_mode,
            .workdir = "/",
        };
}

/* ---- shared fixtures ------------------------------------------------------------------- */

static struct {
        int pty_master;
        int pty_slave; /* raw mode, non-blocking: the parent reads injected input */
} fx = {-1, -1};

static int suite_init(void)
{
        struct termios tio;

        fx.pty_master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (fx.pty_master < 0 || grantpt(fx.pty_master) < 0 || unlockpt(fx.pty_master) < 0)
                return -1;
        fx.pty_slave = open(ptsname(fx.pty_master), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
        if (fx.pty_slave < 0 || tcgetattr(fx.pty_slave, &tio) < 0)
                return -1;
        cfmakeraw(&tio);
        return tcsetattr(fx.pty_slave, TCSANOW, &tio);
}

static int suite_cleanup(void)
{
        close(fx.pty_slave);
        close(fx.pty_master);
        return 0;
}

/* ---- running children ------------------------------------------------------------------ */

/* run_sandboxed with a plan without grants. */
static int run_in_mode(uint32_t network_mode, child_fn fn, void *arg)
{
        struct nono_plan plan = make_plan(network_mode, 0);

        return run_sandboxed(&plan, fn, arg);
}

/* Whether the process runs as root: some controls only hold with the capabilities. */
static bool is_root(void)
{
        return geteuid() == 0;
}

/* 0 or -errno from a system call's return value (errno is read after the call). */
static int result(long r)
{
        return r < 0 ? -errno : 0;
}

/* Like RESULT, closing the descriptor the call returned. */
static int closed(long fd)
{
        if (fd < 0)
                return -errno;
        close((int)fd);
        return 0;
}

/* ---- io_uring -------------------------------------------------------------------------- */

static int io_uring_setup_result(void)
{
        struct io_uring_params params;

        memset(&params, 0, sizeof(params));
        return closed(syscall(SYS_io_uring_setup, 1u, &params));
}

static int child_io_uring_control(void *arg)
{
        CHECK(1, io_uring_setup_result() == 0, "io_uring_setup");
        CHECK(2, result(syscall(SYS_io_uring_enter, -1, 0u, 0u, 0u, NULL, 0UL)) == -EBADF,
              "io_uring_enter(-1)");
        return 0;
}

static int child_io_uring(void *arg)
{
        CHECK(1, getpid() > 1, "getpid");
        CHECK(2, io_uring_setup_result() == -EPERM, "io_uring_setup");
        CHECK(3, result(syscall(SYS_io_uring_enter, -1, 0u, 0u, 0u, NULL, 0UL)) == -EPERM,
              "io_uring_enter");
        CHECK(4, result(syscall(SYS_io_uring_register, -1, 0u, NULL, 0u)) == -EPERM,
              "io_uring_register");
        return 0;
}

static void test_io_uring(void)
{
        CU_ASSERT_EQUAL(run_plain(child_io_uring_control, NULL), 0);
        CU_ASSERT_EQUAL(run_in_mode(NONO_NETWORK_ALLOW, child_io_uring, NULL), 0);
}

/* ---- user namespaces ------------------------------------------------------------------- */

/* After a call used like fork: the new process exits at once.  0 or -errno. */
static int reaped(long pid)
{
        if (pid == 0)
                _exit(0);
        if (pid < 0)
                return -errno;
        waitpid((pid_t)pid, NULL, 0);
        return 0;
}

static int clone_result(unsigned long flags)
{
        return reaped(syscall(SYS_clone, flags | SIGCHLD, 0L, 0L, 0L, 0L));
}

/* struct clone_args, version 0 (64 bytes), without depending on the headers' copy. */
struct clone3_args {
        uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

static int clone3_result(uint64_t flags)
{
        struct clone3_args args = {.flags = flags, .exit_signal = SIGCHLD};

        return reaped(syscall(SYS_clone3, &args, sizeof(args)));
}

static int child_userns_control(void *arg)
{
        CHECK(1, clone_result(CLONE_NEWUSER) == 0, "clone(CLONE_NEWUSER)");
        /* The kernel reads the low 32 bits of clone's flags. */
        CHECK(2, clone_result(HIGH_BITS | CLONE_NEWUSER) == 0, "clone(high bits | NEWUSER)");
        CHECK(3, clone3_result(0) == 0, "clone3");
        CHECK(4, result(setns(-1, 0)) == -EBADF, "setns(-1)");
        CHECK(5, result(unshare(CLONE_NEWUSER)) == 0, "unshare(CLONE_NEWUSER)");
        return 0;
}

static int child_userns(void *arg)
{
        CHECK(1, clone_result(0) == 0, "clone without namespace flags");
        CHECK(2, result(unshare(CLONE_NEWUSER)) == -EPERM, "unshare(CLONE_NEWUSER)");
        CHECK(3, result(unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET)) == -EPERM,
              "unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET)");
        CHECK(4, clone_result(CLONE_NEWUSER) == -EPERM, "clone(CLONE_NEWUSER)");
        CHECK(5, clone_result(HIGH_BITS | CLONE_NEWUSER) == -EPERM, "clone(high bits | NEWUSER)");
        CHECK(6, clone3_result(0) == -ENOSYS, "clone3 (flags 0)");
        CHECK(7, clone3_result(CLONE_NEWUSER) == -ENOSYS, "clone3(CLONE_NEWUSER)");
        CHECK(8, result(setns(-1, 0)) == -EPERM, "setns");
        CHECK(9, result(setns(-1, CLONE_NEWNET)) == -EPERM, "setns(CLONE_NEWNET)");
        return 0;
}

static void test_user_namespaces(void)
{
        CU_ASSERT_EQUAL(run_plain(child_userns_control, NULL), 0);
        CU_ASSERT_EQUAL(run_in_mode(NONO_NETWORK_ALLOW, child_userns, NULL), 0);
}

/* ---- terminal injection ---------------------------------------------------------------- */

/* Makes the test pty this process's controlling terminal. */
static int take_pty(void)
{
        if (setsid() < 0 || ioctl(fx.pty_slave, TIOCSCTTY, 0) < 0)
                return -errno;
        return 0;
}

static int sti_result(unsigned long request, char c)
{
        return result(syscall(SYS_ioctl, fx.pty_slave, request, &c));
}

static int linux_result(unsigned long request)
{
        char subcode = 7; /* TIOCL_GETMOUSEREPORTING: harmless, and VTs only */

        return result(syscall(SYS_ioctl, fx.pty_slave, request, &subcode));
}

/* What the pty's input queue holds now, as a string. */
static void read_injected(char *buf, size_t size)
{
        ssize_t n = read(fx.pty_slave, buf, size - 1);

        buf[n > 0 ? n : 0] = '\0';
}

static int child_tty_control(void *arg)
{
        CHECK(1, take_pty() == 0, "make the pty the controlling terminal");
        CHECK(2, sti_result(TIOCSTI, 'a') == 0, "TIOCSTI");
        CHECK(3, sti_result(HIGH_BITS | TIOCSTI, 'b') == 0, "TIOCSTI with high bits");
        CHECK(4, linux_result(TIOCLINUX) != -EPERM, "TIOCLINUX on a pty");
        return 0;
}

static int child_tty(void *arg)
{
        struct winsize ws;

        CHECK(1, take_pty() == 0, "make the pty the controlling terminal");
        CHECK(2, ioctl(fx.pty_slave, TIOCGWINSZ, &ws) == 0, "TIOCGWINSZ");
        CHECK(3, sti_result(TIOCSTI, 'x') == -EPERM, "TIOCSTI");
        CHECK(4, sti_result(HIGH_BITS | TIOCSTI, 'y') == -EPERM, "TIOCSTI with high bits");
        CHECK(5, sti_result(0xffffffff00000000UL | TIOCSTI, 'z') == -EPERM,
              "TIOCSTI with all high bits");
        CHECK(6, linux_result(TIOCLINUX) == -EPERM, "TIOCLINUX");
        CHECK(7, linux_result(HIGH_BITS | TIOCLINUX) == -EPERM, "TIOCLINUX with high bits");
        return 0;
}

static void test_terminal_injection(void)
{
        char got[16];

        read_injected(got, sizeof(got));
        CU_ASSERT_EQUAL(run_plain(child_tty_control, NULL), 0);
        read_injected(got, sizeof(got));
        CU_ASSERT_STRING_EQUAL(got, "ab");
        CU_ASSERT_EQUAL(run_in_mode(NONO_NETWORK_ALLOW, child_tty, NULL), 0);
        read_injected(got, sizeof(got));
        CU_ASSERT_STRING_EQUAL(got, "");
}

/* ---- TCP Fast Open --------------------------------------------------------------------- */

/* Connections waiting on a non-blocking listener, accepted and closed. */
static int drain_connections(int listener)
{
        int n = 0, fd;

        while ((fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
                close(fd);
                n++;
        }
        return n;
}

enum fastopen_call { FASTOPEN_SENDTO, FASTOPEN_SENDMSG, FASTOPEN_SENDMMSG };

/* A byte to 127.0.0.1:port with MSG_FASTOPEN through `call`, from a fresh TCP socket. */
static int fastopen_send(uint16_t port, enum fastopen_call call)
{
        struct sockaddr_in sa = loopback(port);
        char byte = 'x';
        struct iovec iov = {.iov_base = &byte, .iov_len = 1};
        struct mmsghdr mm = {
            .msg_hdr = {
                .msg_name = &sa, .msg_namelen = sizeof(sa), .msg_iov = &iov, .msg_iovlen = 1}};
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), r;

        if (fd < 0)
                return -errno;
        if (call == FASTOPEN_SENDTO)
                r = result(sendto(fd, &byte, 1, MSG_FASTOPEN, (struct sockaddr *)&sa, sizeof(sa)));
        else if (call == FASTOPEN_SENDMSG)
                r = result(sendmsg(fd, &mm.msg_hdr, MSG_FASTOPEN));
        else
                r = result(sendmmsg(fd, &mm, 1, MSG_FASTOPEN));
        close(fd);
        return r;
}

/* setsockopt(TCP_FASTOPEN_CONNECT) at `level`, then connect and send a byte. */
static int fastopen_connect(uint16_t port, unsigned long level)
{
        struct sockaddr_in sa = loopback(port);
        int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), r;

        if (fd < 0)
                return -errno;
        r = result(syscall(SYS_setsockopt, fd, level, TCP_FASTOPEN_CONNECT, &one, sizeof(one)));
        if (r == 0)
                r = result(connect(fd, (struct sockaddr *)&sa, sizeof(sa)));
        if (r == 0)
                r = result(write(fd, "x", 1));
        close(fd);
        return r;
}

static int child_fastopen_control(void *arg)
{
        uint16_t port = *(const uint16_t *)arg;

        CHECK(1, fastopen_send(port, FASTOPEN_SENDTO) == 0, "sendto(MSG_FASTOPEN)");
        CHECK(2, fastopen_send(port, FASTOPEN_SENDMSG) == 0, "sendmsg(MSG_FASTOPEN)");
        CHECK(3, fastopen_connect(port, IPPROTO_TCP) == 0, "TCP_FASTOPEN_CONNECT");
        return 0;
}

static int child_fastopen(void *arg)
{
        uint16_t port = *(const uint16_t *)arg;
        int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        CHECK(1, fd >= 0, "TCP socket");
        CHECK(2, setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0, "TCP_NODELAY");
        close(fd);
        CHECK(3, fastopen_send(port, FASTOPEN_SENDTO) == -EPERM, "sendto(MSG_FASTOPEN)");
        CHECK(4, fastopen_send(port, FASTOPEN_SENDMSG) == -EPERM, "sendmsg(MSG_FASTOPEN)");
        CHECK(5, fastopen_send(port, FASTOPEN_SENDMMSG) == -EPERM, "sendmmsg(MSG_FASTOPEN)");
        CHECK(6, fastopen_connect(port, IPPROTO_TCP) == -EPERM, "TCP_FASTOPEN_CONNECT");
        CHECK(7, fastopen_connect(port, HIGH_BITS | IPPROTO_TCP) == -EPERM,
              "TCP_FASTOPEN_CONNECT, level with high bits");
        return 0;
}

static void test_fast_open(void)
{
        uint16_t port = 0;
        int listener = loopback_socket(SOCK_STREAM, &port);

        CU_ASSERT_FATAL(listener >= 0);
        CU_ASSERT_EQUAL(run_plain(child_fastopen_control, &port), 0);
        CU_ASSERT_EQUAL(drain_connections(listener), 3);
        /* Block mode: Landlock alone lets Fast Open past its connect rule. */
        CU_ASSERT_EQUAL(run_in_mode(NONO_NETWORK_BLOCK, child_fastopen, &port), 0);
        CU_ASSERT_EQUAL(drain_connections(listener), 0);
        /* Denied with an unrestricted network too. */
        CU_ASSERT_EQUAL(run_in_mode(NONO_NETWORK_ALLOW, child_fastopen, &port), 0);
        CU_ASSERT_EQUAL(drain_connections(listener), 0);
        close(listener);
}

/* ---- ptrace and process_vm_* ----------------------------------------------------------- */

static int vm_read_result(pid_t pid)
{
        static int source = 42;
        int target = 0;
        struct iovec local = {&target, sizeof(target)}, remote = {&source, sizeof(source)};

        return result(process_vm_readv(pid, &local, 1, &remote, 1, 0));
}

static int vm_write_result(pid_t pid)
{
        static int target;
        int source = 7;
        struct iovec local = {&source, sizeof(source)}, remote = {&target, sizeof(target)};

        return result(process_vm_writev(pid, &local, 1, &remote, 1, 0));
}

static int child_ptrace_control(void *arg)
{
        CHECK(1, vm_read_result(getpid()) == 0, "process_vm_readv on itself");
        CHECK(2, vm_write_result(getpid()) == 0, "process_vm_writev on itself");
        CHECK(3, vm_read_result(getppid()) == 0, "process_vm_readv on the parent");
        /* Last: the test process becomes this child's tracer until it exits. */
        CHECK(4, result(ptrace(PTRACE_TRACEME, 0, NULL, NULL)) == 0, "PTRACE_TRACEME");
        return 0;
}

static int child_ptrace(void *arg)
{
        CHECK(1, getppid() > 1, "getppid");
        /* Landlock allows these on the process itself: only the filter denies them. */
        CHECK(2, vm_read_result(getpid()) == -EPERM, "process_vm_readv on itself");
        CHECK(3, vm_write_result(getpid()) == -EPERM, "process_vm_writev on itself");
        CHECK(4, vm_read_result(getppid()) == -EPERM, "process_vm_readv on the parent");
        CHECK(5, vm_write_result(getppid()) == -EPERM, "process_vm_writev on the parent");
        CHECK(6, result(ptrace(PTRACE_TRACEME, 0, NULL, NULL)) == -EPERM, "PTRACE_TRACEME");
        CHECK(7, result(ptrace(PTRACE_ATTACH, getppid(), NULL, NULL)) == -EPERM,
              "PTRACE_ATTACH to the parent");
        return 0;
}

static void test_ptrace(void)
{
        CU_ASSERT_EQUAL(run_plain(child_ptrace_control, NULL), 0);
        CU_ASSERT_EQUAL(run_in_mode(NONO_NETWORK_ALLOW, child_ptrace, NULL), 0);
}

/* ---- the kernel: modules, kexec, bpf, perf --------------------------------------------- */

static int perf_result(void)
{
        struct perf_event_attr attr;

        memset(&attr, 0, sizeof(attr));
        attr.size = sizeof(attr);
        attr.type = PERF_TYPE_SOFTWARE;
        attr.config = PERF_COUNT_SW_TASK_CLOCK;
        attr.exclude_kernel = 1;
        attr.exclude_hv = 1;
        return closed(syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0UL));
}

/*
 * Calls with arguments the kernel refuses before acting (no image, bad fds, a flag no
 * kernel knows), so that the control does nothing even as root.  One result per name in
 * kernel_call_names.
 */
static void kernel_results(int *res)
{
        static const char image[4] = {0};

        res[0] = result(syscall(SYS_init_module, image, sizeof(image), ""));
        res[1] = result(syscall(SYS_finit_module, -1, "", 0));
        res[2] = result(syscall(SYS_delete_module, "nono_no_such_module", O_NONBLOCK));
        res[3] = result(syscall(SYS_kexec_load, 0UL, 0UL, NULL, 0x8000UL));
        res[4] = result(syscall(SYS_kexec_file_load, -1, -1, 0UL, "", 0x8000UL));
        res[5] = result(syscall(SYS_bpf, 0 /* BPF_MAP_CREATE */, NULL, 0u));
}

static const char *const kernel_call_names[] = {
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "bpf",
};
#define N_KERNEL_CALLS (sizeof(kernel_call_names) / sizeof(kernel_call_names[0]))

static int child_kernel_control(void *arg)
{
        int res[N_KERNEL_CALLS];

        CHECK(1, perf_result() == 0, "perf_event_open");
        kernel_results(res);
        for (size_t i = 0; i < N_KERNEL_CALLS; i++)
                CHECK(2 + (int)i, res[i] != -EPERM, "%s", kernel_call_names[i]);
        return 0;
}

static int child_kernel(void *arg)
{
        int res[N_KERNEL_CALLS];

        CHECK(1, getpid() > 1, "getpid");
        CHECK(2, perf_result() == -EPERM, "perf_event_open");
        kernel_results(res);
        for (size_t i = 0; i < N_KERNEL_CALLS; i++)
                CHECK(3 + (int)i, res[i] == -EPERM, "%s", kernel_call_names[i]);
        return 0;
}

static void test_kernel_calls(void)
{
        /* Without the capabilities these calls fail with EPERM anyway. */
        if (is_root())
                CU_ASSERT_EQUAL(run_plain(child_kernel_control, NULL), 0);
        CU_ASSERT_EQUAL(run_in_mode(NONO_NETWORK_ALLOW, child_kernel, NULL), 0);
}

/* ---- what keeps working ---------------------------------------------------------------- */

static void *thread_main(void *arg)
{
        return arg;
}

static int child_ordinary(void *arg)
{
        pthread_t thread;
        void *ret = NULL;
        int sv[2], n = -1, one = 1, fd;
        pid_t pid;
        char c;

        CHECK(1, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair");
        CHECK(2, sendto(sv[0], "x", 1, 0, NULL, 0) == 1, "sendto without MSG_FASTOPEN");
        CHECK(3, ioctl(sv[1], FIONREAD, &n) == 0 && n == 1, "ioctl FIONREAD");
        CHECK(4, read(sv[1], &c, 1) == 1 && c == 'x', "read");
        close(sv[0]);
        close(sv[1]);
        pid = fork();
        if (pid == 0)
                _exit(0);
        CHECK(5, pid > 0 && waitpid(pid, NULL, 0) == pid, "fork");
        /* glibc tries clone3 first, gets ENOSYS and falls back to clone. */
        CHECK(6, pthread_create(&thread, NULL, thread_main, &one) == 0, "pthread_create");
        CHECK(7, pthread_join(thread, &ret) == 0 && ret == &one, "pthread_join");
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        CHECK(8, fd >= 0, "TCP socket");
        CHECK(9, setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) == 0, "TCP_NODELAY");
        close(fd);
        CHECK(10, result(unshare(0)) == 0, "unshare(0)");
        return 0;
}

static void test_ordinary_calls(void)
{
        CU_ASSERT_EQUAL(run_in_mode(NONO_NETWORK_BLOCK, child_ordinary, NULL), 0);
        CU_ASSERT_EQUAL(run_in_mode(NONO_NETWORK_ALLOW, child_ordinary, NULL), 0);
}

/* ---- sockets in block mode ------------------------------------------------------------- */

struct socket_case {
        const char *name;
        unsigned long family, type, protocol;
        bool allowed;    /* in block/proxy mode */
        bool needs_root; /* the control fails without capabilities */
};

static const struct socket_case socket_cases[] = {
    {"TCP", AF_INET, SOCK_STREAM, 0, true, false},
    {"TCP, IPPROTO_TCP, flags", AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP,
     true, false},
    {"TCP over IPv6", AF_INET6, SOCK_STREAM, 0, true, false},
    {"TCP over IPv6, IPPROTO_TCP", AF_INET6, SOCK_STREAM, IPPROTO_TCP, true, false},
    {"Unix stream", AF_UNIX, SOCK_STREAM, 0, true, false},
    {"Unix datagram", AF_UNIX, SOCK_DGRAM, 0, true, false},
    {"Unix seqpacket", AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, true, false},
    {"UDP", AF_INET, SOCK_DGRAM, 0, false, false},
    {"UDP, IPPROTO_UDP", AF_INET, SOCK_DGRAM, IPPROTO_UDP, false, false},
    {"UDP over IPv6", AF_INET6, SOCK_DGRAM, 0, false, false},
    {"UDP, flags", AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, false, false},
    {"ICMP ping socket", AF_INET, SOCK_DGRAM, IPPROTO_ICMP, false, false},
    {"raw ICMP", AF_INET, SOCK_RAW, IPPROTO_ICMP, false, true},
    {"raw IPv6", AF_INET6, SOCK_RAW, IPPROTO_ICMPV6, false, true},
    {"packet", AF_PACKET, SOCK_RAW, 0x0300 /* htons(ETH_P_ALL) */, false, true},
    {"MPTCP", AF_INET, SOCK_STREAM, IPPROTO_MPTCP, false, false},
    {"MPTCP over IPv6", AF_INET6, SOCK_STREAM, IPPROTO_MPTCP, false, false},
    {"SCTP stream", AF_INET, SOCK_STREAM, IPPROTO_SCTP, false, false},
    {"stream with IPPROTO_UDP", AF_INET, SOCK_STREAM, IPPROTO_UDP, false, false},
    {"seqpacket", AF_INET, SOCK_SEQPACKET, 0, false, false},
    {"netlink route", AF_NETLINK, SOCK_RAW, 0 /* NETLINK_ROUTE */, false, false},
    {"vsock", AF_VSOCK, SOCK_STREAM, 0, false, false},
    {"AF_UNSPEC", AF_UNSPEC, SOCK_STREAM, 0, false, false},
    /* The kernel reads family, type and protocol as int: high bits must not hide them. */
    {"packet, family with high bits", HIGH_BITS | AF_PACKET, SOCK_RAW, 0x0300, false, true},
    {"UDP, family with high bits", HIGH_BITS | AF_INET, SOCK_DGRAM, 0, false, false},
    {"UDP, type with high bits", AF_INET, HIGH_BITS | SOCK_DGRAM, 0, false, false},
    {"MPTCP, protocol with high bits", AF_INET, SOCK_STREAM, HIGH_BITS | IPPROTO_MPTCP, false,
     false},
    /* Plain TCP in disguise: denied too rather than decoded. */
    {"TCP, family with high bits", HIGH_BITS | AF_INET, SOCK_STREAM, 0, false, false},
    {"TCP, protocol with high bits", AF_INET, SOCK_STREAM, HIGH_BITS | IPPROTO_TCP, false, false},
};
#define N_SOCKET_CASES (sizeof(socket_cases) / sizeof(socket_cases[0]))

static int socket_result(const struct socket_case *c)
{
        return closed(syscall(SYS_socket, c->family, c->type, c->protocol));
}

static int socketpair_result(unsigned long family, int type)
{
        int sv[2];
        int r = result(syscall(SYS_socketpair, family, (unsigned long)type, 0UL, sv));

        if (r == 0) {
                close(sv[0]);
                close(sv[1]);
        }
        return r;
}

/* Unconfined: allowed cases work; denied ones do not fail with EPERM by themselves. */
static int child_sockets_control(void *arg)
{
        for (size_t i = 0; i < N_SOCKET_CASES; i++) {
                const struct socket_case *c = &socket_cases[i];
                int r = socket_result(c);

                if (c->allowed)
                        CHECK(1, r == 0, "socket: %s", c->name);
                else if (!c->needs_root || is_root())
                        CHECK(2, r != -EPERM, "socket: %s", c->name);
        }
        CHECK(3, socketpair_result(AF_INET, SOCK_STREAM) != -EPERM, "socketpair(AF_INET)");
        return 0;
}

static int child_sockets_blocked(void *arg)
{
        CHECK(1, socketpair_result(AF_UNIX, SOCK_STREAM) == 0, "socketpair(AF_UNIX, stream)");
        CHECK(2, socketpair_result(AF_UNIX, SOCK_DGRAM) == 0, "socketpair(AF_UNIX, dgram)");
        CHECK(3, socketpair_result(AF_INET, SOCK_STREAM) == -EPERM, "socketpair(AF_INET)");
        CHECK(4, socketpair_result(AF_TIPC, SOCK_STREAM) == -EPERM, "socketpair(AF_TIPC)");
        CHECK(5, socketpair_result(HIGH_BITS | AF_UNIX, SOCK_STREAM) == -EPERM,
              "socketpair, family with high bits");
        for (size_t i = 0; i < N_SOCKET_CASES; i++) {
                const struct socket_case *c = &socket_cases[i];
                int r = socket_result(c);

                CHECK(10 + (int)i, c->allowed ? r == 0 : r == -EPERM, "socket: %s: got %d", c->name,
                      r);
        }
        return 0;
}

/* An unrestricted network: no socket is denied by the filter. */
static int child_sockets_allowed(void *arg)
{
        CHECK(1, socketpair_result(AF_UNIX, SOCK_STREAM) == 0, "socketpair(AF_UNIX)");
        for (size_t i = 0; i < N_SOCKET_CASES; i++) {
                const struct socket_case *c = &socket_cases[i];
                int r = socket_result(c);

                if (c->allowed)
                        CHECK(10 + (int)i, r == 0, "socket: %s", c->name);
                else if (!c->needs_root || is_root())
                        CHECK(10 + (int)i, r != -EPERM, "socket: %s", c->name);
        }
        return 0;
}

static void test_sockets_block(void)
{
        CU_ASSERT_EQUAL(run_plain(child_sockets_control, NULL), 0);
        CU_ASSERT_EQUAL(run_in_mode(NONO_NETWORK_BLOCK, child_sockets_blocked, NULL), 0);
}

static void test_sockets_proxy(void)
{
        CU_ASSERT_EQUAL(run_in_mode(NONO_NETWORK_PROXY, child_sockets_blocked, NULL), 0);
        /* An unknown mode restricts too: fail closed. */
        CU_ASSERT_EQUAL(run_in_mode(77, child_sockets_blocked, NULL), 0);
}

static void test_sockets_allow(void)
{
        CU_ASSERT_EQUAL(run_in_mode(NONO_NETWORK_ALLOW, child_sockets_allowed, NULL), 0);
}

/* ---- UDP datagrams --------------------------------------------------------------------- */

/* 0 when a datagram with `text` went to 127.0.0.1:port, else -errno. */
static int send_datagram(uint16_t port, const char *text)
{
        struct sockaddr_in sa = loopback(port);
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r;

        if (fd < 0)
                return -errno;
        r = result(sendto(fd, text, strlen(text), 0, (struct sockaddr *)&sa, sizeof(sa)));
        close(fd);
        return r;
}

/* The next datagram waiting on the non-blocking socket, or "" when none. */
static void receive_datagram(int fd, char *buf, size_t size)
{
        ssize_t n = recv(fd, buf, size - 1, 0);

        buf[n > 0 ? n : 0] = '\0';
}

static int child_udp_control(void *arg)
{
        CHECK(1, send_datagram(*(const uint16_t *)arg, "control") == 0, "send a datagram");
        return 0;
}

static int child_udp_blocked(void *arg)
{
        CHECK(1, closed(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == 0, "TCP socket");
        CHECK(2, send_datagram(*(const uint16_t *)arg, "escaped") == -EPERM, "send a datagram");
        return 0;
}

static int child_udp_allowed(void *arg)
{
        CHECK(1, send_datagram(*(const uint16_t *)arg, "allowed") == 0, "send a datagram");
        return 0;
}

static void test_udp_datagram(void)
{
        uint16_t port = 0;
        int fd = loopback_socket(SOCK_DGRAM, &port);
        char got[64];

        CU_ASSERT_FATAL(fd >= 0);
        CU_ASSERT_EQUAL(run_plain(child_udp_control, &port), 0);
        receive_datagram(fd, got, sizeof(got));
        CU_ASSERT_STRING_EQUAL(got, "control");

        CU_ASSERT_EQUAL(run_in_mode(NONO_NETWORK_BLOCK, child_udp_blocked, &port), 0);
        receive_datagram(fd, got, sizeof(got));
        CU_ASSERT_STRING_EQUAL(got, "");

        CU_ASSERT_EQUAL(run_in_mode(NONO_NETWORK_ALLOW, child_udp_allowed, &port), 0);
        receive_datagram(fd, got, sizeof(got));
        CU_ASSERT_STRING_EQUAL(got, "allowed");
        close(fd);
}

/* ---- foreign ABIs ---------------------------------------------------------------------- */

#if defined(__x86_64__)
/* An x32 getpid: x86-64's number with bit 30 set. */
static int child_x32(void *arg)
{
        int *ready = arg;
        long r;

        if (ready && write(ready[1], "r", 1) != 1)
                return 1;
        r = syscall(X32_SYSCALL_BIT | SYS_getpid);
        return r == getpid() || (r < 0 && errno == ENOSYS) ? 0 : 2;
}

/* getpid through the i386 entry point (number 20 there). */
static int child_i386(void *arg)
{
        int *ready = arg;
        long r = 20;

        /* Where the entry point is off, int $0x80 faults: die quietly (no ASan report). */
        signal(SIGSEGV, SIG_DFL);
        if (ready && write(ready[1], "r", 1) != 1)
                return 1;
        __asm__ volatile("int $0x80"
                         : "+a"(r)
                         :
                         : "rbx", "rcx", "rdx", "r8", "r9", "r10", "r11", "memory", "cc");
        return r == getpid() ? 0 : 2;
}

/* The child must get as far as the call (it writes to the pipe), then die of SIGSYS. */
static void assert_killed(child_fn fn)
{
        struct nono_plan plan = make_plan(NONO_NETWORK_ALLOW, 0);
        int ready[2], status;
        char c = 0;

        CU_ASSERT_FATAL(pipe2(ready, O_CLOEXEC) == 0);
        status = run_sandboxed_status(&plan, fn, ready);
        CU_ASSERT(read(ready[0], &c, 1) == 1 && c == 'r');
        CU_ASSERT(status >= 0 && WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS);
        close(ready[0]);
        close(ready[1]);
}
#endif

static void test_foreign_abi(void)
{
#if defined(__x86_64__)
        int status;

        /* Unconfined: ENOSYS without CONFIG_X86_X32_ABI, else getpid. */
        CU_ASSERT_EQUAL(run_plain(child_x32, NULL), 0);
        assert_killed(child_x32);

        /* Some hosts (and hypervisors) disable the i386 entry point: test where it works. */
        status = run_plain_status(child_i386, NULL);
        if (status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
                assert_killed(child_i386);
        else
                fprintf(stderr, "(i386 system calls do not work here; that part is skipped) ");
#endif
}

/* ---- a kernel without seccomp ---------------------------------------------------------- */

/* Stands for a kernel without seccomp: seccomp(2) answers ENOSYS from now on. */
static int hide_seccomp(void)
{
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
        int r;

        if (!ctx)
                return -ENOMEM;
        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(seccomp), 0);
        if (r == 0)
                r = seccomp_load(ctx);
        seccomp_release(ctx);
        return r;
}

static int child_no_seccomp(void *arg)
{
        struct nono_plan plan = make_plan(NONO_NETWORK_BLOCK, 0);
        struct plugin p;
        void *prepared = NULL;
        char *text = NULL;

        CHECK(1, hide_seccomp() == 0, "install the outer filter");
        CHECK(2, plugin_open(&p) == 0, "open the plugin");
        CHECK(3, p.ops->prepare(p.state, &plan, &prepared) == -ENOTSUP, "prepare refuses");
        CHECK(4, strstr(fake.error, "seccomp is unavailable") != NULL, "message: %s", fake.error);
        CHECK(5, strstr(fake.error, "CONFIG_SECCOMP") != NULL, "message: %s", fake.error);
        CHECK(6, strstr(fake.error, "--best-effort") != NULL, "message: %s", fake.error);
        CHECK(7, p.ops->render(p.state, &plan, &text) == 0, "render");
        CHECK(8, strstr(text, "seccomp: unavailable") && strstr(text, "refused"), "render: %s",
              text);
        free(text);

        plan.flags = NONO_PLAN_BEST_EFFORT;
        CHECK(9, p.ops->prepare(p.state, &plan, &prepared) == 0, "best effort: %s", fake.error);
        CHECK(10, strstr(fake.warnings, "BEST EFFORT: seccomp is unavailable") != NULL,
              "warnings: %s", fake.warnings);
        CHECK(11, strstr(fake.warnings, "io_uring") != NULL, "warnings: %s", fake.warnings);
        CHECK(12, p.ops->apply(p.state, prepared) == 0, "apply: %s", fake.error);
        /* Best effort really runs without the filter: io_uring is there. */
        CHECK(13, io_uring_setup_result() == 0, "io_uring_setup");
        p.ops->release(p.state, prepared);
        plugin_close(&p);
        return 0;
}

static void test_no_seccomp(void)
{
        CU_ASSERT_EQUAL(run_plain(child_no_seccomp, NULL), 0);
}

/* ---- stacking -------------------------------------------------------------------------- */

/* Applying twice stacks a second filter; both layers hold. */
static int child_stacked(void *arg)
{
        const struct plugin *p = arg;

        CHECK(1, p->ops->apply(p->state, p->prepared) == 0, "second apply: %s", fake.error);
        CHECK(2, io_uring_setup_result() == -EPERM, "io_uring_setup");
        CHECK(3, result(unshare(CLONE_NEWUSER)) == -EPERM, "unshare(CLONE_NEWUSER)");
        return 0;
}

static void test_stacked_apply(void)
{
        struct nono_plan plan = make_plan(NONO_NETWORK_BLOCK, 0);
        struct plugin p;
        pid_t pid;

        CU_ASSERT_FATAL(plugin_open(&p) == 0);
        CU_ASSERT_FATAL(plugin_prepare(&p, &plan) == 0);
        pid = fork_applied(&p, child_stacked, &p);
        plugin_close(&p);
        CU_ASSERT_FATAL(pid > 0);
        CU_ASSERT_EQUAL(wait_exit(pid), 0);
}

/* ---- render ---------------------------------------------------------------------------- */

static void test_render(void)
{
        struct nono_plan plan = make_plan(NONO_NETWORK_ALLOW, 0);
        struct plugin p;
        char *text = NULL;

        CU_ASSERT_FATAL(plugin_open(&p) == 0);
        CU_ASSERT_FATAL(p.ops->render(p.state, &plan, &text) == 0);
        CU_ASSERT_PTR_NOT_NULL(
            strstr(text, "\n  seccomp: EPERM for io_uring, new user namespaces"));
        CU_ASSERT_PTR_NOT_NULL(strstr(text, "TIOCSTI"));
        CU_ASSERT_PTR_NOT_NULL(strstr(text, "clone3 ENOSYS"));
        CU_ASSERT_PTR_NULL(strstr(text, "seccomp sockets"));
        free(text);

        plan = make_plan(NONO_NETWORK_BLOCK, 0);
        CU_ASSERT_FATAL(p.ops->render(p.state, &plan, &text) == 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(text, "\n  seccomp sockets: AF_UNIX and TCP "));
        CU_ASSERT_PTR_NOT_NULL(strstr(text, "MPTCP"));
        free(text);
        plugin_close(&p);
}

int main(void)
{
        static const struct test_case tests[] = {
            {"io_uring denied", test_io_uring},
            {"user namespaces: unshare, clone, clone3 (ENOSYS), setns", test_user_namespaces},
            {"TIOCSTI and TIOCLINUX, also with high bits", test_terminal_injection},
            {"TCP Fast Open: MSG_FASTOPEN, TCP_FASTOPEN_CONNECT", test_fast_open},
            {"ptrace and process_vm_readv/writev", test_ptrace},
            {"modules, kexec, bpf, perf_event_open", test_kernel_calls},
            {"fork, threads, Unix sockets, TCP keep working", test_ordinary_calls},
            {"network block: only AF_UNIX and TCP sockets", test_sockets_block},
            {"network proxy/unknown mode: same sockets as block", test_sockets_proxy},
            {"network allow: every socket", test_sockets_allow},
            {"UDP datagram: blocked in block mode, delivered in allow", test_udp_datagram},
            {"foreign ABIs kill the process", test_foreign_abi},
            {"no seccomp: refused, best effort warns", test_no_seccomp},
            {"apply twice stacks the filters", test_stacked_apply},
            {"render", test_render},
        };
        return RUN_CUNIT("landlock seccomp", suite_init, suite_cleanup, tests);
}
