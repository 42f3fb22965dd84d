/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Which paths of a snapshot root are left out of snapshots and untouched by restores
 * (docs/snapshots.md, "Exclusions"):
 *
 *   - VCS directories (.git, .hg, .svn, .jj), at any depth, always;
 *   - with use_gitignore, git's rules through libgit2: every .gitignore (nested ones
 *     too), the user's global excludes (core.excludesFile, by default
 *     $XDG_CONFIG_HOME/git/ignore) and, in a git work tree, .git/info/exclude.  In a
 *     work tree the .gitignore files above the root (up to the top of the work tree)
 *     apply too; outside one they are read from the root down only;
 *   - explicit patterns (--rollback-exclude, profile rollback.exclude_patterns and
 *     exclude_globs), with .gitignore syntax, relative to the root as if they were a
 *     .gitignore at the root that takes precedence over the others.
 *
 * The caller walks the tree top-down and does not descend into an excluded directory:
 * exclude_match answers for a path whose parent directories are not excluded (as in
 * git, nothing below an excluded directory can be re-included).
 *
 * Each .gitignore is read once, the first time a path of its directory is matched; open
 * new rules to see later changes.  Nothing is written to the tree: libgit2 matches
 * against repositories that exist only in memory (exclude_open writes a two-line git
 * configuration to $TMPDIR and removes it at once).  A rules object is used by one
 * thread at a time.  libgit2 is linked into libnono-snapshot only, never into libnono;
 * the first exclude_open initialises it for the rest of the process (that loads the
 * system's TLS certificates, several milliseconds, so it is not repeated).
 */
#ifndef NONO_CORE_EXCLUDE_H
#define NONO_CORE_EXCLUDE_H

#include <stddef.h>

struct exclude_options {
        int use_gitignore;
        const char *const *patterns; /* .gitignore syntax, one pattern each */
        size_t n_patterns;
};

struct exclude_rules;

/* `root` is an absolute directory.  The options are copied. */
int exclude_open(const char *root, const struct exclude_options *opt, struct exclude_rules **ret);

/*
 * 1 when `rel` (relative to the root, '/'-separated, no leading "./") is excluded,
 * 0 when not, a negative errno on failure.  `is_dir` tells whether it is a directory.
 * No system call once the directory's rules are known (about a microsecond).
 */
int exclude_match(struct exclude_rules *r, const char *rel, int is_dir);

/* Safe on NULL. */
void exclude_free(struct exclude_rules *r);

#endif
