/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nono's side of the Unix-socket mediator, the half that serves (unixmed.h): receives
 * the listener, judges the notifications, hands the calls to the helper and answers.
 * Compiled into libnono, for nono run's supervisor and the SDK's reaper, and into
 * nono-unixmed, the mediator executable of nono wrap (core/unixhelper/unixmed-main.c),
 * which is linked statically: this half uses nothing but the C library, the kernel's
 * headers, error.c and strv.c.  unixmed.c prepares, starts and installs.
 */
#ifndef NONO_CORE_UNIXSERVE_H
#define NONO_CORE_UNIXSERVE_H

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <unistd.h>

#include "unixmed.h"

/*
 * The architectures mediation supports, as the notifications name them: those without
 * socketcall(2), where connect and sendto are always their own system calls with their
 * arguments in registers.  0 elsewhere (unixmed_prepare refuses).
 */
#if defined(__x86_64__) && !defined(__ILP32__)
#define UNIXSERVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define UNIXSERVE_ARCH AUDIT_ARCH_AARCH64
#elif defined(__riscv)
#if __riscv_xlen == 64
#define UNIXSERVE_ARCH AUDIT_ARCH_RISCV64
#endif
#endif
#ifndef UNIXSERVE_ARCH
#define UNIXSERVE_ARCH 0
#endif

#define MAX_PENDING 256 /* requests the helper has not answered yet */
#define MAX_REPLAY  8   /* results whose notification was withdrawn (see replay_*) */
#define N_DENIALS   16  /* refusals kept for the report */
#define BATCH       64  /* events handled per unixmed_handle call */

/* What the child's side sends with the listener. */
struct xfer_msg {
        int32_t helper;
};

struct pending {
        bool used;
        uint64_t req; /* the request's id, as the helper answers it */
        uint64_t id;  /* the notification to answer (a restart takes the request over) */
        int op;       /* enum unixmed_op */
        pid_t tid;    /* the notifying thread */
        int fd;       /* its descriptor number */
        int sock;     /* our reference to the socket, until the result is delivered */
        dev_t dev;    /* the socket's identity */
        ino_t ino;
};

/*
 * A connect whose result could not be delivered because the child's thread was
 * interrupted by a signal and the notification withdrawn.  The kernel restarts (or the
 * program retries) the call; it must then see the result, not EISCONN from a second
 * connect.  Matched on thread, descriptor number and socket inode; the held reference
 * keeps the inode from being reused meanwhile.
 */
struct replay {
        bool used;
        pid_t tid;
        int fd;
        int sock;
        dev_t dev;
        ino_t ino;
        int64_t val;
};

struct unixmed {
        struct sock_fprog prog; /* filter program; insns allocated */
        /* Inside another nono (whose filter already holds the one listener a process
         * may have): deny creating Unix sockets instead.  Built only then. */
        struct sock_fprog deny_prog;
        unsigned flags;
        /* nono wrap: the mediator is a process of its own and the helper nobody's child
         * (unixmed_start_detached); or, where that cannot work, no mediation at all:
         * socket(AF_UNIX) is refused (deny_prog). */
        bool detached, refuse_unix;

        int xfer[2]; /* [0] nono's end, [1] the child's: the listener arrives here */
        int chan[2]; /* [0] nono's end, [1] the helper's */
        int listener;
        int epfd;
        int helper_pidfd;
        pid_t helper;
        int helper_exe; /* O_PATH descriptor of nono-unix-helper */
        /* Its command line: name, channel descriptor, supervisor pid (unixproto.h). */
        char helper_chan[16], helper_parent[16];
        char *helper_argv[4];
        bool helper_dead, listener_done, warned;

        char **dirs;
        size_t n_dirs;
        char **socks;
        size_t n_socks;

        struct seccomp_notif_sizes sizes;
        struct seccomp_notif *notif;
        struct seccomp_notif_resp *resp;
        unsigned char *buf; /* nono's request being built: header + payload */

        struct pending pending[MAX_PENDING];
        struct replay replay[MAX_REPLAY];
        size_t replay_next;
        uint64_t n_kept;   /* entries written to denials[] (a ring) */
        uint64_t n_denied; /* refusals, repeats included */
        /* Last: read only up to n_kept, so unixserve_new leaves its 70 KiB uncleared. */
        struct unixmed_denial denials[N_DENIALS];
};

static inline void close_fd(int *fd)
{
        if (*fd >= 0) {
                close(*fd);
                *fd = -1;
        }
}

/*
 * What serving needs (nono run's supervisor, the SDK's reaper, the mediator of nono
 * wrap): the policy (sockets under `allowed_dirs`, the exact `allowed_sockets`; absolute
 * paths, canonicalised and copied), the buffers, the epoll set.  No descriptor to the
 * child or the helper yet.  Returns 0 or a negative errno with a message; *ret is to be
 * freed with unixmed_free either way.
 */
int unixserve_new(struct unixmed **ret, const char *const *allowed_dirs, size_t n_dirs,
                  const char *const *allowed_sockets, size_t n_sockets);

#endif
