/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Unix-socket mediator: pathname Unix sockets outside the grants stay out of reach
 * although Landlock (ABI < 9) does not restrict connect() on them.
 *
 * The child loads a seccomp filter that turns every connect(2), and every sendto(2) with
 * a destination address, into a user notification for nono.  For each one nono
 *   - copies the address out of the child's memory (the copy is what gets used: the
 *     child cannot change it afterwards),
 *   - takes the child's socket itself with pidfd_getfd (the file, not the number: the
 *     child cannot swap another socket in under the same number),
 *   - for a pathname on an AF_UNIX socket, opens the socket file O_PATH exactly as the
 *     child would reach it (relative to its cwd, inside its root and mount namespace,
 *     following symlinks with RESOLVE_IN_ROOT), decides on the real path of what it
 *     opened (an allowed socket, or under an allowed directory), and connects to that
 *     very inode through /proc/self/fd/N -- what was checked is what gets connected;
 *   - and never answers SECCOMP_USER_NOTIF_FLAG_CONTINUE: letting the kernel re-run the
 *     call would re-read the address and the descriptor, both of which another thread of
 *     the child can change in between.
 *
 * Who performs the connect: the helper, a small static executable (nono-unix-helper,
 * core/unixhelper; found through layout.h) that the child starts with vfork + execveat
 * after the sandbox was applied, before the filter is loaded.  It is inside the child's
 * sandbox (same Landlock domain, credentials, dropped capabilities, no_new_privs,
 * seccomp layer), so every connect it makes on the child's behalf is checked by the
 * kernel exactly as the child's own would be: Landlock's TCP rules and abstract-socket
 * scope, file permissions on the socket.  nono itself only decides about pathnames.  The
 * helper is a child of nono (not of the sandboxed program, which never sees it), in a
 * process group of its own from before its execve, holding only its channel to nono;
 * it makes itself not dumpable first thing (before the command is executed) and exits
 * when nono closes its end or dies.  Being an execve and not a fork of nono, starting it
 * copies nothing of nono's address space.  The plan grants read and execute on that one
 * file (unixmed_grant_helper).
 *
 * nono wrap has no supervisor: nono itself becomes the command.  unixmed_start_detached
 * then starts the mediator (the part nono run's supervisor plays, unixserve.c) as a
 * process of its own, the small static executable nono-unixmed, before the sandbox is
 * applied; see there for its lifetime.
 *
 * Not mediated: sendmsg/sendmmsg (the address lies in memory seccomp cannot read), so an
 * AF_UNIX SOCK_DGRAM socket could send datagrams to any pathname datagram socket outside
 * the grants (/dev/log, the journal, a daemon's control socket).  UNIXMED_DENY_UNIX_DGRAM
 * (nono's default) refuses to create such sockets instead; see docs/unix-sockets.md.
 */
#ifndef NONO_CORE_UNIXMED_H
#define NONO_CORE_UNIXMED_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct unixmed;

/* unixmed_prepare flags. */
enum {
        /*
         * Also refuse (EPERM) to create AF_UNIX SOCK_DGRAM sockets, with socket() and
         * socketpair(): closes the sendmsg() gap above at the cost of programs that use
         * Unix datagram sockets.  The calls come to nono as notifications, answered at
         * once and recorded as refusals (UNIXMED_OP_SOCKET, UNIXMED_OP_SOCKETPAIR).
         */
        UNIXMED_DENY_UNIX_DGRAM = 1u << 0,
};

enum unixmed_op {
        UNIXMED_OP_CONNECT = 1,
        UNIXMED_OP_SENDTO = 2,
        UNIXMED_OP_SOCKET = 3,     /* socket(AF_UNIX, SOCK_DGRAM): no paths */
        UNIXMED_OP_SOCKETPAIR = 4, /* socketpair(AF_UNIX, SOCK_DGRAM): no paths */
};

/* One refusal, for the report printed after the run.  `requested` is whatever bytes the
 * program passed: escape it before printing.  Identical refusals in a row share one. */
struct unixmed_denial {
        pid_t pid;               /* the thread that asked, in nono's pid namespace */
        int op;                  /* enum unixmed_op */
        char requested[109];     /* the path as the program wrote it */
        char resolved[PATH_MAX]; /* the socket file it named, as nono opened it */
};

/*
 * Parent, before the child is spawned.  Builds the filter program, the channels to the
 * child and to the helper, and the policy: sockets under `allowed_dirs` (component-wise:
 * the write grants, where the child makes its own sockets) and the exact socket paths in
 * `allowed_sockets` (--allow-unix-socket) may be connected.  Absolute paths only; they
 * are canonicalised (realpath, or of the parent directory when the socket does not exist
 * yet) and copied.  Returns 0 or a negative errno with a message (nono_error).
 */
int unixmed_prepare(struct unixmed **ret, const char *const *allowed_dirs, size_t n_dirs,
                    const char *const *allowed_sockets, size_t n_sockets, unsigned flags);

/* The origin of the grant unixmed_grant_helper adds. */
#define UNIXMED_HELPER_ORIGIN "nono's Unix-socket helper"

struct plan;

/*
 * Adds to the plan, before the enforcer prepares it, what the child needs to start the
 * helper inside its sandbox: read and execute on the file nono-unix-helper, and nothing
 * else.  It gives the sandboxed program nothing new: the helper only makes the calls
 * its channel to nono asks for, and started by the program it has no such channel and
 * carries the program's sandbox and filter like anything else the program executes.
 * Returns 0, or a negative errno with a message (the helper is missing).
 */
int unixmed_grant_helper(struct plan *p);

/*
 * nono wrap, in the process that will become the command, after unixmed_prepare and
 * before the sandbox is applied.  Starts the mediator, nono-unixmed (vfork + execveat:
 * nothing of this process is copied): it receives the listener, answers the
 * notifications and talks to the helper exactly as nono run's supervisor does.
 *
 * Lifetime, and who holds what:
 *   - Its parent is an intermediate that exits at once (reaped here): it is orphaned
 *     to the nearest subreaper or init, never a child the command can see or reap.  The
 *     helper is started the same way from the sandboxed process (see
 *     unixmed_child_install), so a `wait` in the command does not wait for either.
 *   - Session and process group of its own (from before its execve), not dumpable, cwd
 *     "/", stdio on /dev/null, and of the descriptors only its two ends (the hand-over
 *     and the helper's channel): it keeps no terminal and no pipe of the command's open
 *     (`nono wrap cmd | cat` ends when cmd does).
 *   - It alone holds the listener (the command closes its copy before execve).  The
 *     kernel hangs the listener up when no process carries the filter any more: the
 *     command and every descendant have exited and been reaped.  The mediator exits
 *     then, and not before: a background process of the command is still served.
 *   - It exits too when the hand-over never comes (every copy of the command's end
 *     closed: nono wrap failed before execve).
 *   - The helper has no supervisor parent to die with: it exits when the mediator's
 *     end of their channel closes, i.e. when the mediator exits or is killed.
 *   - If the mediator is killed, the listener closes with it: every connect, addressed
 *     sendto and datagram socket in the sandbox then fails (ENOSYS).  Fails closed.
 *   - No report after the run: nothing of nono is left to print it.
 * Where Yama's ptrace_scope keeps a non-ancestor from the command's descriptors (1 or 2
 * without CAP_SYS_PTRACE, 3), no mediator can work: socket(AF_UNIX) is refused instead
 * (socketpair stays), with a warning, and a plan naming --allow-unix-socket paths is
 * refused.  Returns 0, or a negative errno with a message (nono_error).
 */
int unixmed_start_detached(struct unixmed *m);

/*
 * Child, after every enforcer and the process hygiene were applied (no_new_privs set,
 * capabilities dropped), right before execve.  Async-signal-safe: system calls only.
 * Starts the helper (a child of nono, CLONE_PARENT; detached: orphaned through a vfork
 * that exits), loads the filter with a new listener and sends the listener to nono
 * without blocking (nono may be suspended until the child execs).  Returns 0, or a
 * negative errno with a static message in msg; 1 when another nono already listens and
 * the fallback (socket(AF_UNIX) refused) was loaded instead, msg saying so.
 */
int unixmed_child_install(const struct unixmed *m, char *msg, size_t len);

/*
 * Parent, once the child has exec'd (or exited).  Receives the listener without
 * blocking: -EAGAIN when the child failed before sending it.
 */
int unixmed_parent_attach(struct unixmed *m);

/* One descriptor (epoll) to poll for POLLIN; unixmed_handle when it is readable. */
int unixmed_fd(const struct unixmed *m);

/*
 * Handles what is pending: new notifications (answered at once when refused, otherwise
 * handed to the helper) and the helper's results.  Never blocks; never kills the child.
 */
void unixmed_handle(struct unixmed *m);

/* The most recent refusals (at most max, oldest first) into out; returns how many. */
size_t unixmed_denials(const struct unixmed *m, struct unixmed_denial *out, size_t max);
/* How many calls were refused in total. */
uint64_t unixmed_denied_total(const struct unixmed *m);

/* The helper's pid (0 before attach or when there is none). */
pid_t unixmed_helper_pid(const struct unixmed *m);

/*
 * Closes everything and kills the helper (SIGKILL through its pidfd).  It is not waited
 * for: it is a child of the caller, reaped by nono's sweep of leftover children (or with
 * waitpid on unixmed_helper_pid by other callers).  NULL is fine.
 */
void unixmed_free(struct unixmed *m);

#endif
