/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The child's environment: nono's own, scrubbed.  Variables that change how programs
 * load code (LD_PRELOAD, PYTHONSTARTUP, NODE_OPTIONS, BASH_ENV, ...) and variables
 * that look like secrets (*_API_KEY, *_TOKEN, *SECRET*, AWS_*, ...) are removed
 * unless the plan allows them by name (profile environment.allow_vars, --allow-env);
 * environment.deny_vars removes more; environment.set_vars sets values.
 */
#ifndef NONO_CORE_CHILDENV_H
#define NONO_CORE_CHILDENV_H

#include <stddef.h>

#include "plan.h"
#include "strv.h"

/* Why a variable is removed by default; 0 when it is not. */
enum env_risk {
        ENV_RISK_NONE = 0,
        ENV_RISK_INJECTION = 1, /* changes what code a program loads or runs */
        ENV_RISK_SECRET = 2,    /* its name says it holds a credential */
};

/* Classifies a variable by its name (`len` bytes of `name`). */
enum env_risk env_risk_of(const char *name, size_t len);

/*
 * Builds the child's environment from `environ`.  `ret_removed` (optional) receives
 * the names removed by default, for a verbose report; never values.
 */
int childenv_build(const struct plan *p, char *const *environ_in, struct strv *ret,
                   struct strv *ret_removed);

#endif
