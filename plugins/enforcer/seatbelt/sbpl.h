/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SBPL renderer: a plan as a Seatbelt profile (the Scheme dialect sandbox_init
 * compiles).  Plain C with no macOS dependency, so that the profile is built, printed
 * (--dry-run) and tested on every platform; only applying it needs a Mac.
 */
#ifndef NONO_SEATBELT_SBPL_H
#define NONO_SEATBELT_SBPL_H

#include <nono/plan.h>

#include <stddef.h>

/* The longest path the renderer takes (macOS's own limit is 1024 bytes). */
#define SBPL_PATH_MAX 4096

/*
 * Checks that `plan` can be rendered: well formed (sizes, arrays), absolute paths
 * without control characters (an SBPL string could not carry them safely), known
 * access modes.  0, or -EINVAL with one line in `why` (never the whole offending
 * path: it may hold terminal escapes).
 */
int sbpl_check(const struct nono_plan *plan, char *why, size_t why_size);

/*
 * Writes the profile of a checked plan into buf (at most size bytes, NUL-terminated
 * when size > 0) and returns its full length, as snprintf does: call it with size 0
 * to measure.
 */
size_t sbpl_render(const struct nono_plan *plan, char *buf, size_t size);

/* The plan's proxy port; 0 when it has none (or predates the field). */
uint16_t sbpl_proxy_port(const struct nono_plan *plan);

#endif
