/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Enforcer plugins turn a plan into kernel restrictions (Landlock, Seatbelt).
 *
 * Order of calls in `nono run`:
 *   parent: probe -> prepare(plan)         (may allocate, open files, fail with a message)
 *   child:  apply(prepared)                (after fork: no allocation, no locks, no stdio;
 *                                           returns 0 or a negative errno; irrevocable)
 *   parent: release(prepared)              (after the child has exec'd or failed)
 */
#ifndef NONO_ENFORCER_H
#define NONO_ENFORCER_H

#include <nono/plan.h>
#include <nono/plugin.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What the running kernel offers, as found by probe. */
struct nono_enforcer_info {
        uint32_t size;
        uint32_t abi;          /* backend-specific version (the Landlock ABI), 0 if none */
        uint64_t features;     /* backend-specific feature bits */
        char summary[128];     /* one human line: "Landlock ABI 7: fs, refer, truncate, ..." */
        uint32_t capabilities; /* NONO_ENFORCER_CAP_* */
};

/*
 * The enforcer can hide a protected path that lies inside a grant (e.g. with a mount
 * namespace), so the host need not refuse such plans.  Without it, the host refuses
 * any grant that contains a protected path.
 */
#define NONO_ENFORCER_CAP_MASK_PROTECTED (1u << 0)
/*
 * With NONO_PLAN_LOG_DENIALS, the kernel writes an audit record for each denial of the
 * command (Landlock ABI 7: after execve, which Landlock does not record by default).
 */
#define NONO_ENFORCER_CAP_AUDIT_RECORDS (1u << 1)

struct nono_enforcer_ops {
        uint32_t size;

        /*
         * Mandatory.  0 when usable, -ENOTSUP (with a message) when not; then it may
         * still fill *ret_info with what the backend offers where it runs, which
         * --dry-run uses to render the plan anyway.
         */
        int (*probe)(void *state, struct nono_enforcer_info *ret_info);
        /* Mandatory.  Builds everything apply needs; *ret_prepared is the plugin's. */
        int (*prepare)(void *state, const struct nono_plan *plan, void **ret_prepared);
        /* Mandatory.  Runs in the child; async-signal-safe code only. */
        int (*apply)(void *state, void *prepared);
        /* Mandatory.  Frees what prepare made; prepared may be NULL. */
        void (*release)(void *state, void *prepared);

        /*
         * Optional.  The text form of what would be applied (a Seatbelt profile, a
         * Landlock rule list), for --dry-run.  *ret_text is allocated with
         * host->alloc and freed by the host.
         */
        int (*render)(void *state, const struct nono_plan *plan, char **ret_text);
};

#ifdef __cplusplus
}
#endif

#endif /* NONO_ENFORCER_H */
