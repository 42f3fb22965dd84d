/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The `block` network mode: no network at all.  The enforcer already refuses every TCP
 * port (Landlock) and every socket that is not TCP or AF_UNIX (seccomp); this plugin
 * adds a private network namespace where the kernel allows one, so that not a single
 * address of the host exists for the child — whatever a future kernel or an unfiltered
 * path lets a socket do, there is nothing to reach.
 *
 * Knob (nono.conf): plugins = { block = { network_namespace = 0; }; } (see netns.h).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <nono/network.h>

#include "errtext.h"
#include "netns.h"

struct block_prepared {
        bool enter;
        struct netns_plan netns;
};

static int block_prepare(void *state, const struct nono_plan *plan, void **ret_prepared)
{
        struct netns_plugin_state *st = state;
        struct block_prepared *bp = st->host->alloc(st->host->ctx, sizeof(*bp));
        char why[160];

        if (!bp)
                return -ENOMEM;
        memset(bp, 0, sizeof(*bp));
        if (netns_wanted(st, plan)) {
                if (netns_plan_for_self(&bp->netns, why, sizeof(why)) == 0)
                        bp->enter = true;
                else
                        st->host->log(st->host->ctx, NONO_LOG_INFO,
                                      "no network namespace (%s): the enforcer alone blocks "
                                      "the network",
                                      why);
        }
        *ret_prepared = bp;
        return 0;
}

static int block_child_setup(void *state, void *prepared)
{
        struct netns_plugin_state *st = state;
        struct block_prepared *bp = prepared;
        const char *step;
        int r;

        if (!bp->enter)
                return 0;
        r = netns_enter(&bp->netns, &step);
        if (r < 0)
                st->host->set_error(st->host->ctx, "block: %s: %s", step, errno_text(-r));
        return r;
}

static void block_release(void *state, void *prepared)
{
        struct netns_plugin_state *st = state;

        st->host->free(st->host->ctx, prepared);
}

static const struct nono_network_ops ops = {
    .size = sizeof(struct nono_network_ops),
    .prepare = block_prepare,
    .child_setup = block_child_setup,
    .release = block_release,
};

NONO_PLUGIN_DEFINE(block, NONO_PLUGIN_NETWORK, "block", "0.1.0",
                   "no network: a private network namespace on top of the enforcer's rules",
                   netns_plugin_init, netns_plugin_fini, &ops)
