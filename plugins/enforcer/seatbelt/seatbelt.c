/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The seatbelt enforcer: the plan as an SBPL profile (sbpl.c), applied with macOS's
 * sandbox_init.
 *
 * The plugin builds everywhere so that `nono run --backend seatbelt --dry-run`
 * prints the profile on any machine; applying it is compiled in only on macOS
 * (NONO_SEATBELT_APPLY, from the Meson feature `seatbelt`).  Elsewhere probe says
 * why it is unavailable and prepare refuses, so a real run fails closed.
 */
#include <nono/enforcer.h>
#include <nono/plan.h>
#include <nono/plugin.h>

#include <errno.h>
#include <string.h>

#include "sbpl.h"

#ifndef NONO_SEATBELT_APPLY
#define NONO_SEATBELT_APPLY 0
#endif

#if NONO_SEATBELT_APPLY
/*
 * libsandbox.  <sandbox.h> marks these deprecated (warnings are errors here) but
 * they are what sandbox-exec, Chromium and Firefox use, and the only public way to
 * apply a profile text; flags 0 means `profile` is SBPL, not a named profile.
 */
int sandbox_init(const char *profile, uint64_t flags, char **errorbuf);
void sandbox_free_error(char *errorbuf);
#endif

struct sb_state {
        const struct nono_host *host;
};

/* What prepare hands to apply: the profile text. */
struct sb_prepared {
        char *profile;
};

static int sb_init(const struct nono_host *host, void **ret_state)
{
        struct sb_state *st = host->alloc(host->ctx, sizeof(*st));

        if (!st) {
                host->set_error(host->ctx, "seatbelt: out of memory");
                return -ENOMEM;
        }
        st->host = host;
        *ret_state = st;
        return 0;
}

static void sb_fini(void *state)
{
        struct sb_state *st = state;

        if (st)
                st->host->free(st->host->ctx, st);
}

/* ---- probe ----------------------------------------------------------------------------------- */

static int report_unavailable(const struct sb_state *st)
{
#if defined(__APPLE__)
        st->host->set_error(st->host->ctx, "seatbelt: this build has no Seatbelt support "
                                           "(built with -Dseatbelt=disabled)");
#else
        st->host->set_error(st->host->ctx,
                            "seatbelt: Seatbelt is the macOS sandbox and this is not macOS; "
                            "use the landlock backend here (--dry-run still shows the profile)");
#endif
        return -ENOTSUP;
}

static int sb_probe(void *state, struct nono_enforcer_info *ret_info)
{
        struct sb_state *st = state;
        struct nono_enforcer_info info = {.size = sizeof(info)};
        size_t n;

        /* Rules name paths, so a deny holds inside a grant, created later or not. */
        info.capabilities = NONO_ENFORCER_CAP_MASK_PROTECTED;
        strcpy(info.summary, NONO_SEATBELT_APPLY ? "Seatbelt (sandbox_init): SBPL profile"
                                                 : "Seatbelt: not available on this machine");
        /*
         * Filled in also when unavailable: what the backend offers where it runs, for
         * --dry-run.  No more than the host's struct holds (it may be older).
         */
        n = ret_info->size && ret_info->size < sizeof(info) ? ret_info->size : sizeof(info);
        info.size = (uint32_t)n;
        memcpy(ret_info, &info, n);
        return NONO_SEATBELT_APPLY ? 0 : report_unavailable(st);
}

/* ---- rendering ------------------------------------------------------------------------------- */

static int check_plan(const struct sb_state *st, const struct nono_plan *plan)
{
        char why[512];
        int r = sbpl_check(plan, why, sizeof(why));

        if (r < 0)
                st->host->set_error(st->host->ctx, "seatbelt: %s", why);
        return r;
}

/* The profile in host memory, after `heading` (may be ""). */
static int render_text(const struct sb_state *st, const struct nono_plan *plan, const char *heading,
                       char **ret_text)
{
        size_t hlen = strlen(heading), len;
        char *text;
        int r = check_plan(st, plan);

        if (r < 0)
                return r;
        len = sbpl_render(plan, NULL, 0);
        text = st->host->alloc(st->host->ctx, hlen + len + 1);
        if (!text) {
                st->host->set_error(st->host->ctx, "seatbelt: out of memory");
                return -ENOMEM;
        }
        memcpy(text, heading, hlen);
        sbpl_render(plan, text + hlen, len + 1);
        *ret_text = text;
        return 0;
}

static int sb_render(void *state, const struct nono_plan *plan, char **ret_text)
{
        /* The host prefixes the plugin's name: "seatbelt: SBPL profile ...". */
        return render_text(state, plan, "SBPL profile, applied with sandbox_init:\n", ret_text);
}

/* ---- prepare, apply, release ----------------------------------------------------------------- */

/* A proxy whose port is not known would leave the child with no network and no word why. */
static int check_proxy_port(const struct sb_state *st, const struct nono_plan *plan)
{
        if (plan->network_mode != NONO_NETWORK_PROXY || sbpl_proxy_port(plan))
                return 0;
        st->host->set_error(st->host->ctx, "seatbelt: the plan restricts the network to the "
                                           "proxy but names no proxy port");
        return -EINVAL;
}

static int sb_prepare(void *state, const struct nono_plan *plan, void **ret_prepared)
{
        struct sb_state *st = state;
        struct sb_prepared *p;
        char *profile = NULL;
        int r;

        if (!NONO_SEATBELT_APPLY)
                return report_unavailable(st);
        r = render_text(st, plan, "", &profile);
        if (r == 0)
                r = check_proxy_port(st, plan);
        if (r < 0) {
                if (profile)
                        st->host->free(st->host->ctx, profile);
                return r;
        }
        p = st->host->alloc(st->host->ctx, sizeof(*p));
        if (!p) {
                st->host->free(st->host->ctx, profile);
                st->host->set_error(st->host->ctx, "seatbelt: out of memory");
                return -ENOMEM;
        }
        p->profile = profile;
        *ret_prepared = p;
        return 0;
}

/*
 * In the child.  sandbox_init compiles the profile, which allocates: Seatbelt has no
 * public way to compile in one process and install in another.  macOS's libSystem
 * registers fork handlers that leave malloc usable in the child of fork, which is
 * what this relies on; set_error formats into memory the host preallocated.
 */
static int sb_apply(void *state, void *prepared)
{
        struct sb_state *st = state;
        struct sb_prepared *p = prepared;

        /* Applying nothing would run the child unconfined. */
        if (!p || !p->profile) {
                st->host->set_error(st->host->ctx, "seatbelt: nothing prepared");
                return -EINVAL;
        }
#if NONO_SEATBELT_APPLY
        {
                char *err = NULL;

                if (sandbox_init(p->profile, 0, &err) == 0)
                        return 0;
                st->host->set_error(st->host->ctx, "seatbelt: sandbox_init refused the profile: %s",
                                    err ? err : "no reason given");
                if (err)
                        sandbox_free_error(err);
                return -EPERM;
        }
#else
        return report_unavailable(st);
#endif
}

static void sb_release(void *state, void *prepared)
{
        struct sb_state *st = state;
        struct sb_prepared *p = prepared;

        if (!p)
                return;
        st->host->free(st->host->ctx, p->profile);
        st->host->free(st->host->ctx, p);
}

static const struct nono_enforcer_ops ops = {
    .size = sizeof(struct nono_enforcer_ops),
    .probe = sb_probe,
    .prepare = sb_prepare,
    .apply = sb_apply,
    .release = sb_release,
    .render = sb_render,
};

NONO_PLUGIN_DEFINE(seatbelt, NONO_PLUGIN_ENFORCER, "seatbelt", "0.1.0",
                   "macOS Seatbelt (sandbox_init) with an SBPL profile rendered from the plan",
                   sb_init, sb_fini, &ops)
