/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Policy modules review the resolved plan before anything is applied.  They may
 * accept it, narrow it (only ever remove rights) through the editor, or refuse it
 * with a message.  A policy module named in the system nono.conf cannot be disabled
 * by the user.
 */
#ifndef NONO_POLICY_H
#define NONO_POLICY_H

#include <nono/plan.h>
#include <nono/plugin.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NONO_POLICY_OK       0
#define NONO_POLICY_NARROWED 2 /* accepted after narrowing through the editor */
/* Refusal is a negative errno (normally -EPERM) with a message via host->set_error. */

/* Narrowing operations; each can only take rights away. */
struct nono_plan_editor {
        uint32_t size;
        void *ctx;
        /* Removes grant number `index` of the plan under review. */
        int (*drop_grant)(void *ctx, size_t index);
        /* Adds a protected path; a grant that contains it is then refused or masked. */
        int (*add_deny)(void *ctx, const char *path, const char *origin);
        /* Switches the network to blocked. */
        int (*block_network)(void *ctx);
};

struct nono_policy_ops {
        uint32_t size;

        /* Mandatory. */
        int (*review)(void *state, const struct nono_plan *plan,
                      const struct nono_plan_editor *editor);
};

#ifdef __cplusplus
}
#endif

#endif /* NONO_POLICY_H */
