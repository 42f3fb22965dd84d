/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A private network namespace for the sandboxed child (DESIGN.md §5): only a loopback
 * interface, so no address of the host or the outside exists for it — UDP, DNS and
 * every IP included.  The network plugins enter it in their child_setup, before the
 * enforcers apply; everything here runs in the child and is async-signal-safe.
 */
#ifndef NONO_PLUGINS_NETNS_H
#define NONO_PLUGINS_NETNS_H

#include <stdbool.h>
#include <stdint.h>

#include "userns.h"

/* What the parent decides before the fork. */
struct netns_plan {
        bool with_userns; /* not privileged: make a user namespace first */
        struct userns_maps maps;
};

/*
 * Parent: whether this process can make a network namespace (CAP_SYS_ADMIN, or
 * unprivileged user namespaces allowed by the kernel's knobs), and the plan for the
 * child.  Returns 0, or -EPERM with a reason in `why` (size `len`).
 */
int netns_plan_for_self(struct netns_plan *plan, char *why, unsigned len);

/*
 * Child: enters a new network namespace (and user namespace) and brings loopback up.
 * 0, or a negative errno with *ret_step naming what failed.
 */
int netns_enter(const struct netns_plan *plan, const char **ret_step);

/* Child: a TCP socket listening on 127.0.0.1:port; 0 and *ret_fd, or a negative errno. */
int netns_listen_loopback(uint16_t port, int *ret_fd);

/* Passes `fd` over the Unix socket `sock` (SCM_RIGHTS).  0 or a negative errno. */
int netns_send_fd(int sock, int fd);

/* Receives a descriptor sent by netns_send_fd; 0 and *ret_fd, or a negative errno
 * (-ECONNRESET when the peer closed without sending). */
int netns_recv_fd(int sock, int *ret_fd);

#endif
