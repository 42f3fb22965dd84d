/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mount-namespace layer of the landlock enforcer.
 *
 * In a private mount namespace (made with CAP_SYS_ADMIN, or in a new user namespace
 * that maps the caller to itself) the child sees the whole filesystem read-only except
 * its write grants, which closes chmod, chown, utime and xattr changes everywhere
 * else (none of them is a Landlock right).  On top of that:
 *
 *   - a protected path inside a grant is masked: a directory by an empty read-only
 *     tmpfs directory, anything else by an empty read-only file;
 *   - each of plan->readonly_paths (persistence paths inside write grants) gets a
 *     read-only bind mount of itself;
 *   - the directories between a write grant and such a path are pinned (bind-mounted
 *     onto themselves) so that renaming a parent away (`mv .git g2`) fails;
 *   - /tmp and /dev/shm, when they are write grants, are fresh tmpfs of the child's own
 *     (not shared with the host or other sandboxes; NONO_PLAN_SHARE_TMP keeps the
 *     host's), the user's grants below them bound in at the same paths, a group's
 *     ($TMPDIR) made again empty; and the child gets a private IPC namespace.
 *
 * A protected path that does not exist inside a writable grant cannot be covered by a
 * mount, and the child could create it: the plan is refused, or with seal_missing = 1
 * the directories above it are sealed with Landlock (nothing can be created, removed
 * or renamed in them; see mntns_sealed).  A missing read-only path is refused.
 *
 * Everything is computed in the parent (prepare); the child (apply) only makes system
 * calls on prepared paths and data, allocates nothing and writes no shared memory but
 * the host's error buffer.
 */
#ifndef NONO_LANDLOCK_MOUNTNS_H
#define NONO_LANDLOCK_MOUNTNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <nono/plan.h>
#include <nono/plugin.h>

enum mntns_mode {
        MNTNS_UNPROBED = -1,
        MNTNS_UNAVAILABLE = 0,
        MNTNS_PRIVILEGED = 1, /* CAP_SYS_ADMIN: unshare(CLONE_NEWNS) alone */
        MNTNS_USERNS = 2,     /* a user namespace mapping the caller to itself */
};

/* What the kernel (and the mount_namespace knob) allow, probed once. */
struct mntns_state {
        int mode;            /* enum mntns_mode */
        bool disabled;       /* mount_namespace = 0 in nono.conf */
        bool refuse_missing; /* seal_missing = 0 (the default): refuse, do not seal */
        char reason[320];    /* why it is unavailable */
        pid_t trial_pid;     /* the probe's child, until mntns_reap_trial */
};

/*
 * Reads the knobs: mount_namespace (0 off, 1 when available, the default) and
 * seal_missing (0 refuse plans with a missing protected path inside a writable grant,
 * the default; 1 seal the directories above it instead).
 */
int mntns_init(const struct nono_host *host, struct mntns_state *ms);

/* Probes once (a short-lived child tries it); returns the mode. */
int mntns_probe(const struct nono_host *host, struct mntns_state *ms);
/* Waits for the probe's child, if it has not been yet: before the sandbox is prepared
 * (which may end in an exec that would make the command its parent) and at the end. */
void mntns_reap_trial(struct mntns_state *ms);

/* A prepared namespace; NULL when none is used. */
struct mntns;

/*
 * Computes the namespace (and the seals) for `plan` in *ret; without a namespace
 * apply does nothing.  Refuses (negative errno, message) a plan that needs one where
 * there is none, and a read-only path that is missing inside a writable grant.
 */
int mntns_prepare(const struct nono_host *host, struct mntns_state *ms,
                  const struct nono_plan *plan, struct mntns **ret);

/*
 * Child side, async-signal-safe: builds the namespace.  0 or a negative errno.  A
 * private /tmp or /dev/shm is a new inode: its rule is added to `ruleset_fd` here (the
 * ruleset the parent built, before the child enforces it).
 */
int mntns_apply(const struct nono_host *host, const struct mntns *m, int ruleset_fd);

/*
 * The private tmp dirs (/tmp, /dev/shm as write grants, unless NONO_PLAN_SHARE_TMP):
 * the enforcer turns each one's grant access into Landlock rights for mntns_apply.
 */
size_t mntns_n_private_tmp(const struct mntns *m);
uint32_t mntns_private_tmp_access(const struct mntns *m, size_t i);
void mntns_set_private_tmp_rights(struct mntns *m, size_t i, uint64_t rights);

/* Frees what prepare made; NULL is fine.  Closes nothing the child opened. */
void mntns_release(const struct nono_host *host, struct mntns *m);

/* The --dry-run lines (each "  ...\n"), handed to `emit` one by one.  Probe first. */
void mntns_render(const struct nono_host *host, const struct mntns_state *ms,
                  const struct nono_plan *plan, void (*emit)(void *ctx, const char *line),
                  void *ctx);

/*
 * Landlock's part (seal_missing = 1): a protected path missing inside a writable grant
 * is not refused but sealed off.  A grant on a sealed directory loses the make-* and remove-dir
 * rights; the existing subdirectories of sealed directories get rules of their own with the listed
 * access.  m may be NULL (nothing sealed).
 */
bool mntns_sealed(const struct mntns *m, const char *path);
size_t mntns_n_open_dirs(const struct mntns *m);
const char *mntns_open_dir(const struct mntns *m, size_t i, uint32_t *ret_access);

/* Component-wise: `path` is `dir` or lies below it. */
bool mntns_path_within(const char *path, const char *dir);

#endif /* NONO_LANDLOCK_MOUNTNS_H */
