/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nono-policy-org: an organisation's policy module, built out of tree against the
 * installed SDK (pkg-config nono-plugin).  Named in the system nono.conf
 *
 *     policy_modules = ["org"];
 *
 * it reviews every plan (nono run, nono wrap, the SDK) and no user file or flag can
 * switch it off.  Two rules:
 *
 *   - no unrestricted network: unrestricted is nono's default, so under this policy
 *     every plan must block the network or go through the filtering proxy;
 *   - ~/.aws is always protected, whatever a profile's bypass_protection says.
 */
#include <errno.h>
#include <nono/policy.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

struct org {
        const struct nono_host *host;
};

static int org_init(const struct nono_host *host, void **ret_state)
{
        struct org *o = host->alloc(host->ctx, sizeof(*o));

        if (!o)
                return -ENOMEM;
        o->host = host;
        *ret_state = o;
        return 0;
}

static void org_fini(void *state)
{
        struct org *o = state;

        o->host->free(o->host->ctx, o);
}

/* ~/.aws of `home`, protected through the editor (which resolves it). */
static int deny_aws_under(const struct org *o, const struct nono_plan_editor *ed, const char *home)
{
        char path[4096];
        int r;

        if (!home || home[0] != '/')
                return 0;
        if (snprintf(path, sizeof(path), "%s/.aws", home) >= (int)sizeof(path))
                return 0;
        r = ed->add_deny(ed->ctx, path, "policy org");
        if (r < 0)
                o->host->set_error(o->host->ctx, "org: cannot protect %s", path);
        return r;
}

static int org_review(void *state, const struct nono_plan *plan, const struct nono_plan_editor *ed)
{
        const struct org *o = state;
        const struct passwd *pw = getpwuid(getuid());
        int r;

        if (plan->network_mode == NONO_NETWORK_ALLOW) {
                o->host->set_error(o->host->ctx,
                                   "org: unrestricted network is not allowed here; block the "
                                   "network or allow hosts through the proxy");
                return -EPERM;
        }
        /* Both the account's home and $HOME, should the caller have pointed it elsewhere. */
        r = deny_aws_under(o, ed, pw ? pw->pw_dir : NULL);
        if (r == 0)
                r = deny_aws_under(o, ed, getenv("HOME"));
        return r < 0 ? r : NONO_POLICY_NARROWED;
}

static const struct nono_policy_ops org_ops = {
    .size = sizeof(struct nono_policy_ops),
    .review = org_review,
};

NONO_PLUGIN_DEFINE(org, NONO_PLUGIN_POLICY, "org", "1.0.0",
                   "organisation policy: no unrestricted network, ~/.aws always protected",
                   org_init, org_fini, &org_ops)
