/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The seccomp layer of the landlock enforcer: what Landlock does not see (io_uring,
 * user namespaces, TIOCSTI, TCP Fast Open, module/kexec/bpf/perf calls, ptrace, and in
 * block/proxy modes every socket that is not AF_UNIX or plain TCP).
 *
 * The filter is built with libseccomp in the parent (prepare) and exported to a BPF
 * program in memory; the child (apply) loads that program with one system call and
 * no libseccomp code.
 *
 * Named seccomp-layer.h, not seccomp.h: the tests put this directory on the include
 * path, where a seccomp.h would hide libseccomp's <seccomp.h>.
 */
#ifndef NONO_LANDLOCK_SECCOMP_LAYER_H
#define NONO_LANDLOCK_SECCOMP_LAYER_H

#include <stddef.h>

#include <nono/plan.h>
#include <nono/plugin.h>

/* A finished BPF program, in host->alloc memory. */
struct ll_seccomp;

/*
 * Builds the filter for `plan` in *ret.  When the kernel has no usable seccomp: an
 * error naming it (-ENOTSUP), or with NONO_PLAN_BEST_EFFORT a warning and *ret NULL.
 * Other failures: a negative errno with a message.
 */
int ll_seccomp_prepare(const struct nono_host *host, const struct nono_plan *plan,
                       struct ll_seccomp **ret);

/* Child side, async-signal-safe: loads the program into the calling thread. */
int ll_seccomp_apply(const struct nono_host *host, const struct ll_seccomp *filter);

/* Frees what prepare made; NULL is fine. */
void ll_seccomp_release(const struct nono_host *host, struct ll_seccomp *filter);

/*
 * The --dry-run lines for `plan` (each starting with two spaces and ending with a
 * newline) into buf, snprintf-style: returns the length the full text needs.
 */
size_t ll_seccomp_render(const struct nono_plan *plan, char *buf, size_t size);

#endif /* NONO_LANDLOCK_SECCOMP_LAYER_H */
