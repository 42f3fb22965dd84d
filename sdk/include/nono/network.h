/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Network plugins implement a network mode (block, filter-proxy).
 *
 *   parent: prepare(plan) -> child_env / enforcer_rules
 *   child:  child_setup(prepared)  (after fork, before the enforcers apply;
 *                                   async-signal-safe code only)
 *   parent: release(prepared)       (after the child exited)
 */
#ifndef NONO_NETWORK_H
#define NONO_NETWORK_H

#include <nono/plan.h>
#include <nono/plugin.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A rule the network plugin needs the enforcer to add. */
struct nono_network_rule {
        uint32_t size;
        uint32_t kind; /* NONO_NETWORK_RULE_* */
        uint16_t port;
};

#define NONO_NETWORK_RULE_TCP_CONNECT 1
#define NONO_NETWORK_RULE_TCP_BIND    2

struct nono_network_ops {
        uint32_t size;

        /* Mandatory.  Starts what the mode needs (e.g. the proxy). */
        int (*prepare)(void *state, const struct nono_plan *plan, void **ret_prepared);
        /*
         * Optional.  Variables for the child, as a NULL-terminated array of
         * "NAME=value" strings allocated with host->alloc (array and strings), freed by
         * the host.  Never the real credential: phantom tokens only.
         */
        int (*child_env)(void *state, void *prepared, char ***ret_env);
        /*
         * Optional.  Rules for the enforcer: fills at most `max` entries of `rules`
         * and stores the count.
         */
        int (*enforcer_rules)(void *state, void *prepared, struct nono_network_rule *rules,
                              size_t max, size_t *ret_count);
        /* Optional.  Runs in the child before the enforcers; async-signal-safe only. */
        int (*child_setup)(void *state, void *prepared);
        /* Mandatory. */
        void (*release)(void *state, void *prepared);
};

#ifdef __cplusplus
}
#endif

#endif /* NONO_NETWORK_H */
