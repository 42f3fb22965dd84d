/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Which paths of a snapshot root are left out of snapshots and untouched by restores:
 *
 *   - VCS directories (.git, .hg, .svn, .jj) always;
 *   - with use_gitignore: every .gitignore of the tree (nested ones too), and in a git
 *     work tree also .git/info/exclude and the user's global excludes file (through
 *     libgit2); outside a git work tree the same .gitignore semantics still apply;
 *   - explicit patterns (--rollback-exclude, profile rollback.exclude_patterns and
 *     exclude_globs), with .gitignore syntax.
 *
 * The caller walks the tree top-down and does not descend into an excluded directory
 * (as git, nothing below an excluded directory can be re-included).
 */
#ifndef NONO_CORE_EXCLUDE_H
#define NONO_CORE_EXCLUDE_H

#include <stddef.h>

struct exclude_options {
        int use_gitignore;
        const char *const *patterns; /* .gitignore syntax */
        size_t n_patterns;
};

struct exclude_rules;

/* `root` is an absolute directory.  The options are copied. */
int exclude_open(const char *root, const struct exclude_options *opt, struct exclude_rules **ret);

/*
 * 1 when `rel` (relative to the root, '/'-separated, no leading "./") is excluded,
 * 0 when not, a negative errno on failure.  `is_dir` tells whether it is a directory.
 */
int exclude_match(struct exclude_rules *r, const char *rel, int is_dir);

/* Safe on NULL. */
void exclude_free(struct exclude_rules *r);

#endif
