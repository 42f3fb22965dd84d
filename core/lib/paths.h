/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Turning user-written paths into plan entries: expansion, making absolute against
 * the working directory, resolving symlinks once, and refusing resolutions that leave
 * the directory the path was written under (a symlink planted by an earlier run).
 */
#ifndef NONO_CORE_PATHS_H
#define NONO_CORE_PATHS_H

#include <stdint.h>

#include "plan.h"
#include "vars.h"

/*
 * Resolves `raw` (variables allowed) and adds it as a grant.  A path that does not
 * exist is skipped with a warning (returns 0).  `want_file`: the grant must be a single
 * file (--allow-file); otherwise a directory or a file, decided by what is there.
 */
int paths_grant(struct plan *p, const struct vars *v, const char *raw, uint32_t access,
                int want_file, const char *origin);
/* Resolves `raw` and adds it as a protected path (it need not exist). */
int paths_deny(struct plan *p, const struct vars *v, const char *raw, const char *origin);
/* Resolves `raw` like paths_deny and removes matching denies (bypass_protection). */
int paths_bypass(struct plan *p, const struct vars *v, const char *raw);

/*
 * Resolves an absolute path without requiring it to exist: the longest existing
 * prefix is realpath'ed and the rest appended.  *ret is malloc'ed.
 */
int paths_resolve_lenient(const char *abs, char **ret);

/* Resolves `raw` (it need not exist yet) and allows connecting to that Unix socket. */
int paths_unix_socket(struct plan *p, const struct vars *v, const char *raw);

/* Expands and resolves `raw` like a protected path (it need not exist). */
int paths_resolve_raw(const struct vars *v, const char *raw, char **ret);

/* Drops remembered resolutions; called at the start of every plan. */
void paths_forget(void);

#endif
