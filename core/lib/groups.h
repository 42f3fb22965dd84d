/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Security groups: named, auditable sets of paths (profiles/groups.json).  Each group
 * has a description, an optional platform ("linux", "macos"), allow lists by access
 * mode and a deny list of protected paths.
 */
#ifndef NONO_CORE_GROUPS_H
#define NONO_CORE_GROUPS_H

#include <stdint.h>

#include "plan.h"
#include "strv.h"
#include "vars.h"

struct group {
        char *name;
        char *description;
        char *platform; /* NULL: every platform */
        int required;   /* a protection profiles cannot exclude */
        struct strv read, write, readwrite, deny;
};

struct groups {
        struct group *items;
        size_t n;
};

/* Loads groups.json.  Errors name the file and line. */
int groups_load(const char *path, struct groups *ret);
/* Loads the built-in groups.json from the layout's profile directory. */
int groups_load_builtin(struct groups *ret);
void groups_free(struct groups *g);
const struct group *groups_find(const struct groups *g, const char *name);
/* True when the group applies to this platform (Linux here). */
int group_applies(const struct group *grp);
/* Adds the group's grants and denies to the plan, origin "group <name>". */
int group_apply(const struct group *grp, const struct vars *vars, struct plan *plan);

#endif
