/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SDK's capability set (struct nono_caps of <nono/nono.h>): what the caller
 * granted, kept resolved, turned into a plan when it is used.  The plan adds the
 * system files every program needs (group system_read_linux_core) and the protected
 * paths of every run (the required deny groups, nono's own state).
 */
#ifndef NONO_CORE_CAPS_H
#define NONO_CORE_CAPS_H

#include <nono/nono.h>

#include "plan.h"
#include "run.h"
#include "strv.h"

struct caps_grant {
        char *path; /* resolved, absolute */
        uint32_t access;
        uint32_t flags; /* NONO_GRANT_FILE */
        const char *origin;
};

struct nono_caps {
        struct caps_grant *grants;
        size_t n_grants;
        struct strv groups;
        struct strv denies; /* resolved, absolute */
        int block_network;
        struct strv env_allow, env_deny, env_set;
        /* nono_caps_use_proxy: the proxy's port (0: none) and its client variables;
         * the variables its credentials were read from are kept from the child. */
        uint16_t proxy_port;
        struct strv proxy_env, proxy_secret_vars;
};

/*
 * The per-thread error state of the nono.h entry points: sdk_begin clears it,
 * sdk_failed records the kind (enum nono_error_kind) of a failure r < 0 and returns r.
 */
void sdk_begin(void);
int sdk_failed(int r, int kind);
/* The error kind of a failure at `stage` of a session. */
int sdk_kind_of_stage(enum run_stage stage);

/* The plan for `caps` with `workdir` (absolute, resolved) as working directory. */
int caps_build_plan(const struct nono_caps *caps, const char *workdir, struct plan *ret);

/* The verdicts of nono_query_path / nono_query_host on a built plan. */
void caps_judge_path(const struct plan *p, const char *resolved, uint32_t access,
                     struct nono_verdict *ret);
void caps_judge_host(const struct plan *p, const char *host, uint16_t port,
                     struct nono_verdict *ret);

#endif
