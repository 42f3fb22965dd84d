/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What this machine offers a sandbox: the enforcer's probe, seccomp, user and
 * network namespaces, the plugin directory.  `nono setup --check-only` prints it.
 */
#ifndef NONO_CORE_MACHINE_H
#define NONO_CORE_MACHINE_H

#include <stdio.h>

/* One line per check with what nono does without it; returns the number of
 * checks that failed in a way that stops `nono run` (0: ready). */
int machine_report(FILE *out, const char *backend);

#endif
