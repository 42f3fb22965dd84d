/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mount-namespace layer of the landlock enforcer (see mountns.h).
 *
 * Child-side sequence (mntns_apply), every step on paths computed in prepare:
 *
 *   1. enter: unshare(CLONE_NEWNS), or unshare(CLONE_NEWUSER | CLONE_NEWNS) and map the
 *      caller's uid and gid to themselves (with CLONE_NEWIPC either way); then make
 *      every mount private so that nothing propagates back to the host;
 *   2. bind: each write grant that is not a mount of its own, and each pinned parent
 *      directory, gets a recursive bind mount of itself (open_tree + move_mount);
 *   3. freeze: MOUNT_ATTR_RDONLY on every mount (mount_setattr(AT_RECURSIVE) on "/");
 *   4. thaw: RDONLY cleared again, one mount at a time, on the write grants' mounts and
 *      on the mounts below them, but only where the mount was writable before: a
 *      read-only host mount stays read-only (and in a user namespace the kernel would
 *      refuse anyway: such mounts are locked);
 *   5. read-only paths: a recursive read-only bind mount of each, onto itself;
 *   6. masks: one small tmpfs holds an empty directory "d" and an empty file "f"
 *      (mode 000, mount read-only, nosuid, nodev, noexec); it is attached for a moment
 *      to a directory no mask touches, each mask is a bind of d or f from it, and it
 *      is detached again;
 *   7. private tmp dirs: the grants below /tmp (and /dev/shm) are copied (open_tree,
 *      recursive: their masks and read-only paths come along), a fresh tmpfs goes on
 *      top, the copies are attached again at their paths, and the tmpfs root gets a
 *      Landlock rule (it is an inode the parent's rules do not cover);
 *   8. the working directory is entered again, so that it is seen through the new
 *      mounts rather than the frozen one underneath.
 *
 * nosuid, nodev and noexec are never changed: mount_setattr only touches RDONLY.
 * Landlock rules hold on inodes, and bind mounts show the same inodes, so the rules
 * the parent built still apply; a mask shows new inodes, which Landlock judges by the
 * grant they sit in, and which are read-only and empty.
 */
#include "mountns.h"
#include "errtext.h"
#include "userns.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "landlock-uapi.h"

/* ---- the new mount API (Debian 12's headers predate some of it; carry our own) ------ */

#ifdef SYS_open_tree
#define MNS_NR_open_tree SYS_open_tree
#else
#define MNS_NR_open_tree 428
#endif
#ifdef SYS_move_mount
#define MNS_NR_move_mount SYS_move_mount
#else
#define MNS_NR_move_mount 429
#endif
#ifdef SYS_fsopen
#define MNS_NR_fsopen SYS_fsopen
#else
#define MNS_NR_fsopen 430
#endif
#ifdef SYS_fsconfig
#define MNS_NR_fsconfig SYS_fsconfig
#else
#define MNS_NR_fsconfig 431
#endif
#ifdef SYS_fsmount
#define MNS_NR_fsmount SYS_fsmount
#else
#define MNS_NR_fsmount 432
#endif
#ifdef SYS_mount_setattr
#define MNS_NR_mount_setattr SYS_mount_setattr
#else
#define MNS_NR_mount_setattr 442
#endif

#define MNS_OPEN_TREE_CLONE         1u
#define MNS_AT_EMPTY_PATH           0x1000u
#define MNS_AT_RECURSIVE            0x8000u
#define MNS_MOVE_MOUNT_F_EMPTY_PATH 0x04u
#define MNS_MOVE_MOUNT_T_EMPTY_PATH 0x40u
#define MNS_FSOPEN_CLOEXEC          1u
#define MNS_FSCONFIG_SET_STRING     1u
#define MNS_FSCONFIG_CMD_CREATE     6u
#define MNS_FSMOUNT_CLOEXEC         1u
#define MNS_MOUNT_ATTR_RDONLY       0x01u
#define MNS_MOUNT_ATTR_NOSUID       0x02u
#define MNS_MOUNT_ATTR_NODEV        0x04u
#define MNS_MOUNT_ATTR_NOEXEC       0x08u

struct mns_mount_attr {
        uint64_t attr_set;
        uint64_t attr_clr;
        uint64_t propagation;
        uint64_t userns_fd;
};

_Static_assert(sizeof(struct mns_mount_attr) == 32, "mount_attr layout (MOUNT_ATTR_SIZE_VER0)");

static int sys_open_tree(int dfd, const char *path, unsigned flags)
{
        return (int)syscall(MNS_NR_open_tree, dfd, path, flags);
}

static int sys_move_mount(int from_dfd, const char *from, int to_dfd, const char *to,
                          unsigned flags)
{
        return (int)syscall(MNS_NR_move_mount, from_dfd, from, to_dfd, to, flags);
}

static int sys_mount_setattr(int dfd, const char *path, unsigned flags, uint64_t set, uint64_t clr)
{
        struct mns_mount_attr attr = {.attr_set = set, .attr_clr = clr};

        return (int)syscall(MNS_NR_mount_setattr, dfd, path, flags, &attr, sizeof(attr));
}

static int sys_fsopen(const char *fs, unsigned flags)
{
        return (int)syscall(MNS_NR_fsopen, fs, flags);
}

static int sys_fsconfig(int fd, unsigned cmd, const char *key, const char *value)
{
        return (int)syscall(MNS_NR_fsconfig, fd, cmd, key, value, 0);
}

static int sys_fsmount(int fd, unsigned flags, unsigned attrs)
{
        return (int)syscall(MNS_NR_fsmount, fd, flags, attrs);
}

/* ---- the prepared namespace ------------------------------------------------------------ */

enum op_kind {
        OP_BIND,        /* a write grant: recursive bind of itself, thawed if it was writable */
        OP_PIN,         /* a parent of a mask or read-only path: the same, so it cannot move */
        OP_THAW,        /* a write grant that is a mount root: thawed (must work) */
        OP_SUBMOUNT,    /* a writable mount below a write grant: thawed (best effort) */
        OP_READONLY,    /* a persistence path: read-only recursive bind of itself */
        OP_MASK_DIR,    /* a protected directory: an empty read-only directory on top */
        OP_MASK_FILE,   /* a protected file (or other non-directory): an empty file on top */
        OP_PRIVATE_TMP, /* /tmp or /dev/shm: a fresh tmpfs of the child's own on top */
        OP_CARRY,       /* a grant below a private tmp dir: bound into the new tmpfs */
        OP_TMP_DIR,     /* a group's grant below it ($TMPDIR): an empty directory there */
};

struct mntns_op {
        int kind;    /* enum op_kind */
        bool thaw;   /* OP_BIND, OP_PIN: clear RDONLY after the freeze */
        bool rdonly; /* OP_CARRY: a grant without write access, carried read-only */
        bool dir;    /* OP_CARRY: a directory (else a file is made to mount it on) */
        dev_t dev;   /* what the path was in prepare; the child checks it again */
        ino_t ino;
        char *path;
        char *within; /* the grant it lies in, for messages and --dry-run */
};

/* A directory in which nothing may be created (see seal_missing). */
struct mntns_seal {
        char *path;
        char *because; /* the missing protected path that needs it */
};

/* An existing subdirectory of a sealed one: keeps the rights of its write grant. */
struct mntns_open {
        char *path;
        uint32_t access; /* NONO_ACCESS_* */
};

struct mntns {
        int mode;    /* enum mntns_mode */
        bool needed; /* masks or read-only paths: no running without the namespace */
        struct mntns_seal *seals;
        size_t n_seals;
        size_t cap_seals;
        struct mntns_open *open;
        size_t n_open;
        size_t cap_open;
        struct userns_maps maps;
        struct mntns_op *ops;
        size_t n_ops;
        size_t cap_ops;
        char *staging; /* where the mask source is attached for a moment */
        /* The private tmp dirs (OP_PRIVATE_TMP ops), with their grant's Landlock rights. */
        struct mntns_tmp {
                const char *path; /* the op's */
                uint32_t access;  /* NONO_ACCESS_* of the grant on it */
                uint64_t rights;  /* set by the enforcer: mntns_set_private_tmp_rights */
        } tmps[2];
        size_t n_tmps;
};

/* ---- small helpers ---------------------------------------------------------------------- */

bool mntns_path_within(const char *path, const char *dir)
{
        size_t n = strlen(dir);

        if (n == 1 && dir[0] == '/')
                return path[0] == '/';
        if (strncmp(path, dir, n) != 0)
                return false;
        return path[n] == '/' || path[n] == '\0';
}

static bool path_below(const char *path, const char *dir)
{
        return mntns_path_within(path, dir) && strcmp(path, dir) != 0;
}

static const char *origin_text(const char *origin)
{
        return origin ? origin : "the plan";
}

static char *dup_str(const struct nono_host *h, const char *s)
{
        size_t n = strlen(s) + 1;
        char *p = h->alloc(h->ctx, n);

        if (p)
                memcpy(p, s, n);
        return p;
}

/* Grows an array of `size`-byte elements to hold one more; 0 or -ENOMEM. */
static int grow(const struct nono_host *h, void **items, size_t n, size_t *cap, size_t size)
{
        size_t new_cap;
        void *p;

        if (n < *cap)
                return 0;
        new_cap = *cap ? 2 * *cap : 16;
        p = h->alloc(h->ctx, new_cap * size);
        if (!p)
                return -ENOMEM;
        if (n)
                memcpy(p, *items, n * size);
        h->free(h->ctx, *items);
        *items = p;
        *cap = new_cap;
        return 0;
}

/* Child side: records the failure and returns the negative errno. */
static int child_fail(const struct nono_host *h, const char *what, const char *path, int err)
{
        /* The probe's trial passes no host: its failures are not errors. */
        if (h)
                h->set_error(h->ctx, "landlock: mount namespace: %s%s%s: %s (errno %d)", what,
                             path ? " " : "", path ? path : "", errno_text(err), err);
        return -err;
}

/* ---- init and the knobs -------------------------------------------------------------------- */

/* A 0/1 knob: *ret keeps its default when the key is absent. */
static int read_switch(const struct nono_host *host, const char *key, const char *meaning,
                       bool *ret)
{
        long long value;
        int r;

        if (host->size < offsetof(struct nono_host, config_int) + sizeof(host->config_int) ||
            !host->config_int)
                return 0;
        r = host->config_int(host->ctx, key, &value);
        if (r == -ENOENT)
                return 0;
        if (r < 0 || (value != 0 && value != 1)) {
                host->set_error(host->ctx, "landlock: %s in nono.conf must be 0 or 1 (%s)", key,
                                meaning);
                return r < 0 ? r : -EINVAL;
        }
        *ret = value == 1;
        return 0;
}

int mntns_init(const struct nono_host *host, struct mntns_state *ms)
{
        bool enabled = true, seal = false;
        int r;

        *ms = (struct mntns_state){.mode = MNTNS_UNPROBED};
        r = read_switch(host, "mount_namespace", "1: use one when available, the default",
                        &enabled);
        if (r == 0)
                r = read_switch(host, "seal_missing",
                                "0: refuse a plan with a missing protected path inside a write "
                                "grant, the default; 1: seal the directories above it",
                                &seal);
        ms->disabled = !enabled;
        ms->refuse_missing = !seal;
        return r;
}

/* ---- entering the namespace (probe child and apply) ------------------------------------- */

/*
 * Enters a new mount namespace (and user namespace).  A positive errno when the
 * namespace could not be made (nothing was changed), 0 when inside, a negative errno
 * on a failure that leaves the process unfit to go on (a user namespace without id
 * maps).
 */
static int enter_namespace(const struct nono_host *h, int mode, const struct userns_maps *maps)
{
        /* A private IPC namespace too: SysV IPC and POSIX queues are not the host's (E07). */
        int flags =
            (mode == MNTNS_USERNS ? CLONE_NEWUSER | CLONE_NEWNS : CLONE_NEWNS) | CLONE_NEWIPC;
        int r;

        if (unshare(flags) < 0) {
                int err = errno;

                child_fail(h,
                           mode == MNTNS_USERNS ? "cannot create a user and mount namespace"
                                                : "cannot create a mount namespace",
                           NULL, err);
                return err;
        }
        if (mode == MNTNS_USERNS) {
                const char *path;

                r = userns_write_maps(maps, &path);
                if (r < 0)
                        return child_fail(h, "cannot write", path, -r);
        }
        /*
         * Private: nothing made here reaches the host, nothing of the host's comes in.
         * Failing here (inside a Landlock domain, which denies mount calls) leaves a copy
         * of the same mounts, changed in nothing: as good as no namespace.
         */
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                int err = errno;

                child_fail(h, "cannot make the mounts private", NULL, err);
                return err;
        }
        return 0;
}

/* ---- probe -------------------------------------------------------------------------------- */

static bool has_cap_sys_admin(void)
{
        struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
        struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

        memset(data, 0, sizeof(data));
        if (syscall(SYS_capget, &header, data) < 0)
                return false;
        return data[CAP_TO_INDEX(CAP_SYS_ADMIN)].effective & CAP_TO_MASK(CAP_SYS_ADMIN);
}

struct trial {
        int mode;
        struct userns_maps maps;
        int step; /* which step failed, 0 when none */
        int err;
        int done; /* the child got to the end */
};

/* A tmpfs can be made and changed with mount_setattr: what masks and freezing need. */
static int trial_mount_api(void)
{
        int fs = sys_fsopen("tmpfs", MNS_FSOPEN_CLOEXEC), mnt, r = 0;

        if (fs < 0)
                return -errno;
        if (sys_fsconfig(fs, MNS_FSCONFIG_CMD_CREATE, NULL, NULL) < 0) {
                r = -errno;
                close(fs);
                return r;
        }
        mnt = sys_fsmount(fs, MNS_FSMOUNT_CLOEXEC, MNS_MOUNT_ATTR_NOSUID | MNS_MOUNT_ATTR_NODEV);
        if (mnt < 0)
                r = -errno;
        else if (sys_mount_setattr(mnt, "", MNS_AT_EMPTY_PATH, MNS_MOUNT_ATTR_RDONLY, 0) < 0)
                r = -errno;
        if (mnt >= 0)
                close(mnt);
        close(fs);
        return r;
}

/*
 * Runs in a child sharing our memory (CLONE_VM | CLONE_VFORK): the parent sleeps
 * until it exits, and the only memory it writes is *t and the host's error buffer.
 */
static int trial_child(void *arg)
{
        struct trial *t = arg;
        int r = enter_namespace(NULL, t->mode, &t->maps);

        if (r != 0) {
                t->step = 1;
                t->err = r > 0 ? r : -r;
                _exit(1);
        }
        r = trial_mount_api();
        if (r < 0) {
                t->step = 2;
                t->err = -r;
                _exit(2);
        }
        t->done = 1;
        _exit(0);
}

#define TRIAL_STACK_SIZE (64 * 1024)

/*
 * Tries the real thing in a short-lived child; 0 or a message in ms->reason.
 *
 * The answer is in *t once clone returns: with CLONE_VFORK that is when the child has
 * let go of our memory, on its way out.  Its exit is not waited for here: the last
 * process of a mount namespace waits out an RCU grace period tearing it down, about
 * half a millisecond that nono spends preparing the sandbox instead.  mntns_reap_trial
 * collects it.
 */
static int run_trial(const struct nono_host *host, struct mntns_state *ms, int mode)
{
        struct trial t = {.mode = mode};
        char *stack = host->alloc(host->ctx, TRIAL_STACK_SIZE);
        pid_t pid;

        if (!stack) {
                snprintf(ms->reason, sizeof(ms->reason), "out of memory");
                return -ENOMEM;
        }
        userns_maps_for_self(&t.maps);
        pid = clone(trial_child, stack + TRIAL_STACK_SIZE, CLONE_VM | CLONE_VFORK | SIGCHLD, &t);
        if (pid < 0) {
                t.step = 3;
                t.err = errno;
        }
        ms->trial_pid = pid > 0 ? pid : 0;
        host->free(host->ctx, stack);
        if (t.done && t.step == 0)
                return 0;
        if (t.step == 1 && mode == MNTNS_USERNS &&
            (t.err == EPERM || t.err == ENOSPC || t.err == EUSERS || t.err == EINVAL))
                snprintf(ms->reason, sizeof(ms->reason),
                         "cannot create a user namespace: %s (unprivileged user namespaces are "
                         "off: user.max_user_namespaces, kernel.unprivileged_userns_clone, "
                         "kernel.apparmor_restrict_unprivileged_userns; or a sandbox around "
                         "nono forbids them)",
                         strerror(t.err));
        else if (t.step == 1)
                snprintf(ms->reason, sizeof(ms->reason), "cannot create a %s: %s",
                         mode == MNTNS_USERNS ? "user and mount namespace" : "mount namespace",
                         strerror(t.err));
        else if (t.step == 2)
                snprintf(ms->reason, sizeof(ms->reason),
                         "the new mount API (fsopen, mount_setattr: Linux 5.12) does not work "
                         "here: %s",
                         strerror(t.err));
        else
                snprintf(ms->reason, sizeof(ms->reason), "cannot start the trial child: %s",
                         strerror(t.err ? t.err : ECHILD));
        return -ENOTSUP;
}

void mntns_reap_trial(struct mntns_state *ms)
{
        if (ms->trial_pid <= 0)
                return;
        while (waitpid(ms->trial_pid, NULL, 0) < 0 && errno == EINTR)
                ;
        ms->trial_pid = 0;
}

int mntns_probe(const struct nono_host *host, struct mntns_state *ms)
{
        int mode;

        if (ms->mode != MNTNS_UNPROBED)
                return ms->mode;
        if (ms->disabled) {
                snprintf(ms->reason, sizeof(ms->reason), "mount_namespace = 0 in nono.conf");
                ms->mode = MNTNS_UNAVAILABLE;
                return ms->mode;
        }
        mode = has_cap_sys_admin() ? MNTNS_PRIVILEGED : MNTNS_USERNS;
        ms->mode = run_trial(host, ms, mode) == 0 ? mode : MNTNS_UNAVAILABLE;
        return ms->mode;
}

/* ---- the mount table (parent) ------------------------------------------------------------ */

struct mount_entry {
        char *point; /* the mount point, unescaped */
        bool rw;     /* the mount (not the superblock) was writable */
};

struct mounts {
        struct mount_entry *v;
        size_t n;
        size_t cap;
};

static void mounts_free(const struct nono_host *h, struct mounts *mt)
{
        for (size_t i = 0; i < mt->n; i++)
                h->free(h->ctx, mt->v[i].point);
        h->free(h->ctx, mt->v);
        *mt = (struct mounts){0};
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
        char *out = s;

        for (; *s; s++) {
                if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
                    s[3] >= '0' && s[3] <= '7') {
                        *out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
                        s += 3;
                } else {
                        *out++ = *s;
                }
        }
        *out = '\0';
}

/* One line: "id parent maj:min root point options ...".  Later lines win a mount point:
 * a mount stacked on another is listed after it. */
static int parse_mount_line(const struct nono_host *h, char *line, struct mounts *mt)
{
        char *field[6];
        char *save = NULL;
        char *point;
        size_t i;

        for (i = 0; i < 6; i++) {
                field[i] = strtok_r(i ? NULL : line, " ", &save);
                if (!field[i])
                        return 0;
        }
        unescape(field[4]);
        for (i = 0; i < mt->n; i++)
                if (strcmp(mt->v[i].point, field[4]) == 0)
                        break;
        if (i == mt->n) {
                if (grow(h, (void **)&mt->v, mt->n, &mt->cap, sizeof(*mt->v)) < 0)
                        return -ENOMEM;
                point = dup_str(h, field[4]);
                if (!point)
                        return -ENOMEM;
                mt->v[mt->n++].point = point;
        }
        mt->v[i].rw = strncmp(field[5], "rw", 2) == 0 && (field[5][2] == ',' || !field[5][2]);
        return 0;
}

static int read_mounts(const struct nono_host *h, struct mounts *mt)
{
        size_t len = 0, cap = 0;
        char *buf = NULL;
        int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
        int r = 0;

        *mt = (struct mounts){0};
        if (fd < 0)
                return -errno;
        for (;;) {
                ssize_t n;

                if (len + 4096 + 1 > cap) {
                        size_t new_cap = cap ? 2 * cap : 16384;
                        char *p = h->alloc(h->ctx, new_cap);

                        if (!p) {
                                r = -ENOMEM;
                                break;
                        }
                        if (len)
                                memcpy(p, buf, len);
                        h->free(h->ctx, buf);
                        buf = p;
                        cap = new_cap;
                }
                n = read(fd, buf + len, cap - len - 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        r = -errno;
                if (n <= 0)
                        break;
                len += (size_t)n;
        }
        close(fd);
        if (r == 0) {
                char *save = NULL;

                buf[len] = '\0';
                for (char *line = strtok_r(buf, "\n", &save); r == 0 && line;
                     line = strtok_r(NULL, "\n", &save))
                        r = parse_mount_line(h, line, mt);
        }
        h->free(h->ctx, buf);
        if (r < 0)
                mounts_free(h, mt);
        return r;
}

/* The mount a path lies on (longest mount point containing it), or NULL. */
static const struct mount_entry *mount_of(const struct mounts *mt, const char *path)
{
        const struct mount_entry *best = NULL;

        for (size_t i = 0; i < mt->n; i++)
                if (mntns_path_within(path, mt->v[i].point) &&
                    (!best || strlen(mt->v[i].point) > strlen(best->point)))
                        best = &mt->v[i];
        return best;
}

static bool is_mount_root(const struct mounts *mt, const char *path)
{
        for (size_t i = 0; i < mt->n; i++)
                if (strcmp(mt->v[i].point, path) == 0)
                        return true;
        return false;
}

/* ---- the analysis (parent: prepare and render) ---------------------------------------------- */

struct analysis {
        const struct nono_host *h;
        const struct nono_plan *plan;
        struct mounts mounts;
        /* The write grants that are not inside another write grant. */
        const struct nono_grant **writable;
        size_t n_writable;
        struct mntns *m;
        char *why; /* the refusal, without the "landlock: " prefix */
        size_t why_size;
        int refused;         /* negative errno once refused */
        bool refuse_missing; /* seal_missing = 0, the default */
};

static int refuse(struct analysis *a, int err, const char *fmt, ...) NONO_PRINTF(3, 4);

static int refuse(struct analysis *a, int err, const char *fmt, ...)
{
        va_list ap;

        if (a->refused)
                return a->refused;
        va_start(ap, fmt);
        vsnprintf(a->why, a->why_size, fmt, ap);
        va_end(ap);
        a->refused = err;
        return err;
}

static int add_op(struct analysis *a, int kind, const char *path, const char *within,
                  const struct stat *sb, bool thaw)
{
        struct mntns *m = a->m;
        struct mntns_op op = {.kind = kind, .thaw = thaw};

        if (grow(a->h, (void **)&m->ops, m->n_ops, &m->cap_ops, sizeof(*m->ops)) < 0)
                return -ENOMEM;
        op.path = dup_str(a->h, path);
        op.within = within ? dup_str(a->h, within) : NULL;
        if (!op.path || (within && !op.within)) {
                a->h->free(a->h->ctx, op.path);
                a->h->free(a->h->ctx, op.within);
                return -ENOMEM;
        }
        if (sb) {
                op.dev = sb->st_dev;
                op.ino = sb->st_ino;
        }
        m->ops[m->n_ops++] = op;
        return 0;
}

static const struct nono_grant *grant_containing(const struct nono_plan *plan, const char *path)
{
        for (size_t i = 0; i < plan->n_grants; i++)
                if (mntns_path_within(path, plan->grants[i]->path))
                        return plan->grants[i];
        return NULL;
}

static const struct nono_grant *writable_containing(const struct analysis *a, const char *path)
{
        for (size_t i = 0; i < a->n_writable; i++)
                if (mntns_path_within(path, a->writable[i]->path))
                        return a->writable[i];
        return NULL;
}

static bool op_covers(const struct analysis *a, const char *path, int kind)
{
        for (size_t i = 0; i < a->m->n_ops; i++)
                if (a->m->ops[i].kind == kind && mntns_path_within(path, a->m->ops[i].path))
                        return true;
        return false;
}

/* A path a mask or a read-only directory already keeps out of reach. */
static bool covered(const struct analysis *a, const char *path)
{
        return op_covers(a, path, OP_MASK_DIR) || op_covers(a, path, OP_MASK_FILE) ||
               op_covers(a, path, OP_READONLY);
}

static int find_writable(struct analysis *a)
{
        const struct nono_plan *plan = a->plan;

        a->writable = a->h->alloc(a->h->ctx, (plan->n_grants + 1) * sizeof(*a->writable));
        if (!a->writable)
                return -ENOMEM;
        for (size_t i = 0; i < plan->n_grants; i++) {
                const struct nono_grant *g = plan->grants[i];
                bool inside = false;

                if (!(g->access & NONO_ACCESS_WRITE) || g->path[0] != '/')
                        continue;
                for (size_t j = 0; j < plan->n_grants && !inside; j++) {
                        const struct nono_grant *o = plan->grants[j];

                        if (j == i || !(o->access & NONO_ACCESS_WRITE))
                                continue;
                        /* Inside another, or the same path granted twice (keep the first). */
                        inside = path_below(g->path, o->path) ||
                                 (strcmp(g->path, o->path) == 0 && j < i);
                }
                if (!inside)
                        a->writable[a->n_writable++] = g;
        }
        return 0;
}

/* Step 2 and 4 of the child: the write grants' own mounts. */
static int plan_write_mounts(struct analysis *a)
{
        for (size_t i = 0; i < a->n_writable; i++) {
                const char *path = a->writable[i]->path;
                const struct mount_entry *me = mount_of(&a->mounts, path);
                struct stat sb;
                int r = 0;

                /* Missing grants are the ruleset's to report; devices, fifos and sockets
                 * are written without a writable mount. */
                if (lstat(path, &sb) < 0 || S_ISCHR(sb.st_mode) || S_ISBLK(sb.st_mode) ||
                    S_ISFIFO(sb.st_mode) || S_ISSOCK(sb.st_mode))
                        continue;
                if (is_mount_root(&a->mounts, path)) {
                        if (me && me->rw)
                                r = add_op(a, OP_THAW, path, NULL, &sb, true);
                } else {
                        r = add_op(a, OP_BIND, path, NULL, &sb, me && me->rw);
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool readonly_paths_present(const struct nono_plan *plan)
{
        return plan->size >=
                   offsetof(struct nono_plan, n_readonly_paths) + sizeof(plan->n_readonly_paths) &&
               plan->n_readonly_paths;
}

/*
 * Masks for the protected paths that exist inside a grant.  Directories first, so that
 * a protected path inside a masked directory is seen as covered.
 */
static int plan_masks(struct analysis *a)
{
        const struct nono_plan *plan = a->plan;

        for (int pass = 0; pass < 2; pass++) {
                for (size_t i = 0; i < plan->n_denies; i++) {
                        const struct nono_deny *d = plan->denies[i];
                        const struct nono_grant *g = grant_containing(plan, d->path);
                        struct stat sb;
                        int r;

                        /* Outside every grant Landlock denies it already. */
                        if (d->path[0] != '/' || !g || covered(a, d->path) ||
                            lstat(d->path, &sb) < 0 || (pass == 0) != S_ISDIR(sb.st_mode))
                                continue;
                        r = add_op(a, S_ISDIR(sb.st_mode) ? OP_MASK_DIR : OP_MASK_FILE, d->path,
                                   g->path, &sb, false);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

/* Read-only bind mounts for the persistence paths that exist inside a write grant. */
static int plan_readonly(struct analysis *a)
{
        const struct nono_plan *plan = a->plan;

        if (!readonly_paths_present(plan))
                return 0;
        if (!plan->readonly_paths)
                return refuse(a, -EINVAL, "malformed plan: readonly_paths is NULL");
        for (int pass = 0; pass < 2; pass++) {
                for (size_t i = 0; i < plan->n_readonly_paths; i++) {
                        const char *path = plan->readonly_paths[i];
                        const struct nono_grant *w;
                        struct stat sb;
                        int r;

                        if (!path || path[0] != '/')
                                return refuse(a, -EINVAL,
                                              "malformed plan: a read-only path is not absolute");
                        w = writable_containing(a, path);
                        /* Outside the write grants everything is read-only already. */
                        if (!w || covered(a, path) || lstat(path, &sb) < 0 ||
                            (pass == 0) != S_ISDIR(sb.st_mode))
                                continue;
                        r = add_op(a, OP_READONLY, path, w->path, &sb, false);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static bool is_sealed(const struct mntns *m, const char *path)
{
        for (size_t i = 0; m && i < m->n_seals; i++)
                if (strcmp(m->seals[i].path, path) == 0)
                        return true;
        return false;
}

static int add_seal(struct analysis *a, const char *path, size_t len, const char *because)
{
        struct mntns *m = a->m;
        struct mntns_seal seal;

        for (size_t i = 0; i < m->n_seals; i++)
                if (strlen(m->seals[i].path) == len && strncmp(m->seals[i].path, path, len) == 0)
                        return 0;
        if (grow(a->h, (void **)&m->seals, m->n_seals, &m->cap_seals, sizeof(*m->seals)) < 0)
                return -ENOMEM;
        seal.path = a->h->alloc(a->h->ctx, len + 1);
        seal.because = dup_str(a->h, because);
        if (!seal.path || !seal.because) {
                a->h->free(a->h->ctx, seal.path);
                a->h->free(a->h->ctx, seal.because);
                return -ENOMEM;
        }
        memcpy(seal.path, path, len);
        seal.path[len] = '\0';
        m->seals[m->n_seals++] = seal;
        return 0;
}

/*
 * A protected path that does not exist cannot be covered by a mount, and inside a
 * writable grant the sandbox could create it (a new ~/.ssh/authorized_keys, a
 * ~/.aws/config with a credential_process).  Instead of refusing the plan, seal its
 * nearest existing directory and every directory from the write grant down to it:
 * their Landlock rules lose the make-* and remove-dir rights, so no entry can be
 * created in them, and none of them can be renamed or removed (which would let a
 * fresh, unsealed one take its place).  Existing files in them stay writable; their
 * existing subdirectories get rules of their own with the grant's full rights (see
 * plan_open_dirs).  This needs no namespace.
 */
static int seal_missing(struct analysis *a, const char *path, const struct nono_grant *w)
{
        size_t wlen = strlen(w->path), len = strlen(path);
        struct stat sb;
        int r = 0;

        if (len >= PATH_MAX)
                return refuse(a, -ENAMETOOLONG, "the protected path %s is too long", path);
        /* The nearest existing directory above the path (the grant itself at worst). */
        for (;;) {
                char parent[PATH_MAX];

                while (len > 0 && path[len - 1] != '/')
                        len--;
                if (len > 1)
                        len--; /* drop the slash, except the root's */
                if (len <= wlen)
                        break;
                memcpy(parent, path, len);
                parent[len] = '\0';
                if (lstat(parent, &sb) == 0) {
                        /* A file in the way can be removed, and a directory made there. */
                        if (S_ISDIR(sb.st_mode))
                                break;
                        continue;
                }
                if (errno != ENOENT && errno != ENOTDIR)
                        return refuse(a, -errno, "cannot inspect %s: %s", parent, strerror(errno));
        }
        if (len < wlen)
                len = wlen;
        /* The grant, each directory between, and the nearest existing one. */
        r = add_seal(a, w->path, wlen, path);
        for (size_t k = wlen + 1; r == 0 && k < len; k++)
                if (path[k] == '/')
                        r = add_seal(a, path, k, path);
        if (r == 0 && len > wlen)
                r = add_seal(a, path, len, path);
        return r;
}

/*
 * A protected or read-only path that does not exist.  Inside a read-only grant nothing
 * can create it.  Inside a writable one: protected paths are sealed off (above);
 * read-only paths are listed by the host only when they exist, so a missing one
 * vanished since, and the plan is refused.
 */
static int check_missing(struct analysis *a, const char *path, const char *origin, bool persistence)
{
        const struct nono_grant *w = writable_containing(a, path);
        struct stat sb;
        int err;

        if (!w || covered(a, path) || lstat(path, &sb) == 0)
                return 0;
        err = errno;
        if (err != ENOENT && err != ENOTDIR)
                return refuse(a, -err, "cannot inspect %s (%s): %s", path, origin, strerror(err));
        if (persistence)
                return refuse(a, -EPERM,
                              "cannot keep %s read-only inside the writable grant %s (%s): it "
                              "does not exist, so no mount can cover it, and the sandbox could "
                              "create it; create it, or pass --allow-persistence %s",
                              path, w->path, origin_text(w->origin), path);
        if (a->refuse_missing)
                return refuse(a, -EPERM,
                              "cannot protect %s (%s) inside the writable grant %s (%s): it does "
                              "not exist, so no mount can hide it, and the sandbox could create "
                              "it; create it, grant narrower paths than %s, or set seal_missing = "
                              "1 for the landlock plugin in nono.conf (nothing can then be "
                              "created in the directories above it)",
                              path, origin, w->path, origin_text(w->origin), w->path);
        return seal_missing(a, path, w);
}

static int check_all_missing(struct analysis *a)
{
        const struct nono_plan *plan = a->plan;
        int r = 0;

        for (size_t i = 0; r == 0 && i < plan->n_denies; i++)
                if (plan->denies[i]->path[0] == '/' &&
                    grant_containing(plan, plan->denies[i]->path))
                        r = check_missing(a, plan->denies[i]->path,
                                          origin_text(plan->denies[i]->origin), false);
        for (size_t i = 0; r == 0 && readonly_paths_present(plan) && i < plan->n_readonly_paths;
             i++)
                r = check_missing(a, plan->readonly_paths[i], "a persistence path", true);
        return r;
}

static bool is_mask(const struct analysis *a, const char *path)
{
        for (size_t i = 0; i < a->m->n_ops; i++)
                if ((a->m->ops[i].kind == OP_MASK_DIR || a->m->ops[i].kind == OP_MASK_FILE) &&
                    strcmp(a->m->ops[i].path, path) == 0)
                        return true;
        return false;
}

/* The existing subdirectories of each sealed directory keep their grant's rights. */
static int plan_open_dirs(struct analysis *a)
{
        struct mntns *m = a->m;
        int r = 0;

        for (size_t i = 0; r == 0 && i < m->n_seals; i++) {
                const char *dir = m->seals[i].path;
                const struct nono_grant *w = writable_containing(a, dir);
                DIR *d = opendir(dir);
                struct dirent *e;

                /* Unlistable: its subdirectories stay sealed too (stricter, not looser). */
                if (!d || !w) {
                        if (d)
                                closedir(d);
                        continue;
                }
                while (r == 0 && (e = readdir(d))) {
                        char child[PATH_MAX];
                        struct stat sb;
                        int n;

                        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                                continue;
                        n = snprintf(child, sizeof(child), "%s%s%s", dir,
                                     strcmp(dir, "/") == 0 ? "" : "/", e->d_name);
                        if (n < 0 || (size_t)n >= sizeof(child) || lstat(child, &sb) < 0 ||
                            !S_ISDIR(sb.st_mode) || is_sealed(m, child) || is_mask(a, child))
                                continue;
                        if (grow(a->h, (void **)&m->open, m->n_open, &m->cap_open,
                                 sizeof(*m->open)) < 0) {
                                r = -ENOMEM;
                                break;
                        }
                        m->open[m->n_open].path = dup_str(a->h, child);
                        m->open[m->n_open].access = w->access;
                        if (!m->open[m->n_open].path)
                                r = -ENOMEM;
                        else
                                m->n_open++;
                }
                closedir(d);
        }
        return r;
}

static int compare_strings(const void *x, const void *y)
{
        return strcmp(*(char *const *)x, *(char *const *)y);
}

static bool is_target(const struct analysis *a, const char *path)
{
        for (size_t i = 0; i < a->m->n_ops; i++)
                if (strcmp(a->m->ops[i].path, path) == 0)
                        return true;
        return false;
}

/*
 * Pins: the directories strictly between a write grant and a mask or read-only path.
 * A directory with a mount on it cannot be renamed or removed, so `mv .git g2` and
 * `rm -rf .git` fail instead of carrying the protected path away (and leaving room to
 * create a new, unprotected one).
 */
static int plan_pins(struct analysis *a)
{
        size_t n = 0, cap = 0, n_targets = a->m->n_ops;
        char **pins = NULL;
        int r = 0;

        for (size_t i = 0; r == 0 && i < n_targets; i++) {
                const struct mntns_op *op = &a->m->ops[i];
                const struct nono_grant *w;
                size_t start;

                if (op->kind != OP_READONLY && op->kind != OP_MASK_DIR && op->kind != OP_MASK_FILE)
                        continue;
                w = writable_containing(a, op->path);
                if (!w)
                        continue;
                start = strlen(w->path);
                for (size_t k = start + 1; r == 0 && op->path[k]; k++) {
                        char *pin;

                        if (op->path[k] != '/')
                                continue;
                        r = grow(a->h, (void **)&pins, n, &cap, sizeof(*pins));
                        pin = r == 0 ? a->h->alloc(a->h->ctx, k + 1) : NULL;
                        if (!pin) {
                                r = -ENOMEM;
                                break;
                        }
                        memcpy(pin, op->path, k);
                        pin[k] = '\0';
                        pins[n++] = pin;
                }
        }
        if (r == 0 && n)
                qsort(pins, n, sizeof(*pins), compare_strings);
        for (size_t i = 0; r == 0 && i < n; i++) {
                const struct mount_entry *me = mount_of(&a->mounts, pins[i]);
                struct stat sb;

                /* Duplicates, mount roots (pinned already), and paths we mount anyway. */
                if ((i > 0 && strcmp(pins[i], pins[i - 1]) == 0) ||
                    is_mount_root(&a->mounts, pins[i]) || is_target(a, pins[i]))
                        continue;
                if (lstat(pins[i], &sb) < 0 || !S_ISDIR(sb.st_mode)) {
                        r = refuse(a, -ESTALE, "%s changed while the plan was made", pins[i]);
                        break;
                }
                r = add_op(a, OP_PIN, pins[i], NULL, &sb, me && me->rw);
        }
        for (size_t i = 0; i < n; i++)
                a->h->free(a->h->ctx, pins[i]);
        a->h->free(a->h->ctx, pins);
        return r;
}

/* Writable mounts below the write grants: thawed after the freeze, like the grants. */
static int plan_submounts(struct analysis *a)
{
        for (size_t i = 0; i < a->mounts.n; i++) {
                const struct mount_entry *me = &a->mounts.v[i];
                bool below = false;
                struct stat sb;
                int r;

                for (size_t j = 0; j < a->n_writable && !below; j++)
                        below = path_below(me->point, a->writable[j]->path);
                if (!me->rw || !below || covered(a, me->point) || is_target(a, me->point) ||
                    lstat(me->point, &sb) < 0)
                        continue;
                r = add_op(a, OP_SUBMOUNT, me->point, NULL, &sb, true);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A directory to attach the mask source to for a moment: one no mask is in or over. */
static int plan_staging(struct analysis *a)
{
        static const char *const candidates[] = {"/dev", "/proc", "/run", "/tmp", "/var",
                                                 "/usr", "/etc",  "/mnt", "/opt", "/srv"};
        bool masks = false;
        struct stat sb;

        for (size_t i = 0; i < a->m->n_ops; i++)
                masks |= a->m->ops[i].kind == OP_MASK_DIR || a->m->ops[i].kind == OP_MASK_FILE;
        if (!masks)
                return 0;
        for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
                const char *c = candidates[i];
                bool clash = false;

                for (size_t j = 0; j < a->m->n_ops && !clash; j++) {
                        const struct mntns_op *op = &a->m->ops[j];

                        clash = (op->kind == OP_MASK_DIR || op->kind == OP_MASK_FILE) &&
                                (mntns_path_within(op->path, c) || mntns_path_within(c, op->path));
                }
                if (clash || lstat(c, &sb) < 0 || !S_ISDIR(sb.st_mode))
                        continue;
                a->m->staging = dup_str(a->h, c);
                return a->m->staging ? 0 : -ENOMEM;
        }
        return refuse(a, -ENOTSUP, "no directory to stage the masks in: every candidate is masked");
}

static void mntns_free(const struct nono_host *h, struct mntns *m)
{
        if (!m)
                return;
        for (size_t i = 0; i < m->n_ops; i++) {
                h->free(h->ctx, m->ops[i].path);
                h->free(h->ctx, m->ops[i].within);
        }
        for (size_t i = 0; i < m->n_seals; i++) {
                h->free(h->ctx, m->seals[i].path);
                h->free(h->ctx, m->seals[i].because);
        }
        for (size_t i = 0; i < m->n_open; i++)
                h->free(h->ctx, m->open[i].path);
        h->free(h->ctx, m->seals);
        h->free(h->ctx, m->open);
        h->free(h->ctx, m->ops);
        h->free(h->ctx, m->staging);
        h->free(h->ctx, m);
}

/* ---- private /tmp and /dev/shm ------------------------------------------------------------- */

/* Directories every sandbox and the host would otherwise share (A35); see mntns->tmps. */
static const char *const shared_tmp_dirs[2] = {"/tmp", "/dev/shm"};

/* The most grants below one private tmp dir: the child keeps their mounts on its stack. */
#define MAX_CARRIED 32

/* A group's grant ($TMPDIR from system_write_linux) is replaced, not carried over. */
static bool origin_is_group(const char *origin)
{
        return origin && strncmp(origin, "group ", 6) == 0;
}

/*
 * Whether `dir` gets a private tmpfs: it is a write grant (so the host's would be
 * shared), the plan does not ask to share it, and it is not the working directory
 * (`cd /tmp && nono run --allow-cwd` works in the host's /tmp, as asked).
 */
static const struct nono_grant *wants_private_tmp(const struct nono_plan *plan, const char *dir)
{
        struct stat sb;

        if (plan->flags & (NONO_PLAN_SHARE_TMP | NONO_PLAN_NO_CHILD))
                return NULL;
        if (plan->workdir && strcmp(plan->workdir, dir) == 0)
                return NULL;
        if (lstat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode))
                return NULL;
        for (size_t i = 0; i < plan->n_grants; i++)
                if ((plan->grants[i]->access & NONO_ACCESS_WRITE) &&
                    strcmp(plan->grants[i]->path, dir) == 0)
                        return plan->grants[i];
        return NULL;
}

/* A grant below `dir` that lies inside another one below it is carried with that one. */
static bool carried_by_another(const struct nono_plan *plan, size_t i, const char *dir)
{
        const char *path = plan->grants[i]->path;

        for (size_t j = 0; j < plan->n_grants; j++) {
                const struct nono_grant *o = plan->grants[j];

                if (j == i || origin_is_group(o->origin) || !path_below(o->path, dir))
                        continue;
                if (path_below(path, o->path) || (strcmp(path, o->path) == 0 && j < i))
                        return true;
        }
        return false;
}

/* The grants below a private tmp dir: carried over (the user's) or recreated empty. */
static int plan_carried(struct analysis *a, const char *dir)
{
        const struct nono_plan *plan = a->plan;
        size_t n = 0;
        int r = 0;

        for (size_t i = 0; r == 0 && i < plan->n_grants; i++) {
                const struct nono_grant *g = plan->grants[i];
                struct stat sb;

                if (g->path[0] != '/' || !path_below(g->path, dir) || lstat(g->path, &sb) < 0)
                        continue;
                if (origin_is_group(g->origin)) {
                        if (S_ISDIR(sb.st_mode))
                                r = add_op(a, OP_TMP_DIR, g->path, dir, &sb, false);
                        continue;
                }
                if (carried_by_another(plan, i, dir))
                        continue;
                if (++n > MAX_CARRIED)
                        return refuse(a, -E2BIG,
                                      "more than %d grants below %s: pass --share-tmp to use the "
                                      "host's %s",
                                      MAX_CARRIED, dir, dir);
                r = add_op(a, OP_CARRY, g->path, dir, &sb, false);
                if (r == 0) {
                        a->m->ops[a->m->n_ops - 1].rdonly = !(g->access & NONO_ACCESS_WRITE);
                        a->m->ops[a->m->n_ops - 1].dir = S_ISDIR(sb.st_mode);
                }
        }
        return r;
}

/* /tmp and /dev/shm of the child's own, with the user's grants below them carried in. */
static int plan_private_tmp(struct analysis *a)
{
        int r = 0;

        if (a->m->mode == MNTNS_UNAVAILABLE)
                return 0;

        for (size_t i = 0; r == 0 && i < sizeof(shared_tmp_dirs) / sizeof(shared_tmp_dirs[0]);
             i++) {
                const char *dir = shared_tmp_dirs[i];
                const struct nono_grant *g = wants_private_tmp(a->plan, dir);
                struct stat sb;

                if (!g || lstat(dir, &sb) < 0)
                        continue;
                r = add_op(a, OP_PRIVATE_TMP, dir, NULL, &sb, false);
                if (r == 0) {
                        a->m->tmps[a->m->n_tmps].path = a->m->ops[a->m->n_ops - 1].path;
                        a->m->tmps[a->m->n_tmps++].access = g->access;
                        r = plan_carried(a, dir);
                }
        }
        return r;
}

/* Without a namespace the host's /tmp stays shared: say so, once. */
static void note_shared_tmp(const struct nono_host *host, const struct mntns_state *ms,
                            const struct nono_plan *plan)
{
        if (!host->log)
                return;
        for (size_t i = 0; i < sizeof(shared_tmp_dirs) / sizeof(shared_tmp_dirs[0]); i++)
                if (wants_private_tmp(plan, shared_tmp_dirs[i])) {
                        host->log(host->ctx, NONO_LOG_INFO,
                                  "landlock: /tmp and /dev/shm are shared with the host and "
                                  "other sandboxes (no mount namespace: %s)",
                                  ms->reason);
                        return;
                }
}

/* The first path that needs the namespace, in words, for the refusal without one. */
static int refuse_unavailable(struct analysis *a, const struct mntns_state *ms)
{
        for (size_t i = 0; i < a->m->n_ops; i++) {
                const struct mntns_op *op = &a->m->ops[i];

                if (op->kind == OP_READONLY)
                        return refuse(a, -ENOTSUP,
                                      "cannot keep %s read-only inside the writable grant %s: that "
                                      "needs a mount namespace, and there is none here (%s); pass "
                                      "--allow-persistence %s to let the sandbox write it",
                                      op->path, op->within, ms->reason, op->path);
                if (op->kind == OP_MASK_DIR || op->kind == OP_MASK_FILE)
                        return refuse(a, -ENOTSUP,
                                      "cannot hide the protected path %s inside the grant %s: that "
                                      "needs a mount namespace, and there is none here (%s); grant "
                                      "narrower paths than %s",
                                      op->path, op->within, ms->reason, op->within);
        }
        return 0;
}

/* m->needed: masks or read-only paths, which no running without the namespace can keep. */
static int mark_needed(struct analysis *a)
{
        for (size_t i = 0; i < a->m->n_ops; i++)
                a->m->needed |= a->m->ops[i].kind == OP_READONLY ||
                                a->m->ops[i].kind == OP_MASK_DIR ||
                                a->m->ops[i].kind == OP_MASK_FILE;
        return 0;
}

/* The steps of the analysis, in order; each returns 0 or what analyse returns. */
static int (*const analysis_steps[])(struct analysis *a) = {
    find_writable,     plan_write_mounts, plan_masks,       plan_readonly,
    check_all_missing, plan_open_dirs,    mark_needed,      plan_pins,
    plan_submounts,    plan_staging,      plan_private_tmp,
};

/* An analysis of `plan`, its refusal to be written into `why`. */
static struct analysis analysis_of(const struct nono_host *host, const struct mntns_state *ms,
                                   const struct nono_plan *plan, char *why, size_t why_size)
{
        return (struct analysis){.h = host,
                                 .plan = plan,
                                 .why = why,
                                 .why_size = why_size,
                                 .refuse_missing = ms->refuse_missing};
}

/*
 * Computes the namespace for the plan into a->m, in `mode`; a plan that needs one is
 * refused where there is none.  Returns 0, a refusal (message in a->why), or -ENOMEM.
 */
static int analyse(struct analysis *a, const struct mntns_state *ms, int mode)
{
        int r;

        a->m = a->h->alloc(a->h->ctx, sizeof(*a->m));
        if (!a->m)
                return -ENOMEM;
        *a->m = (struct mntns){.mode = mode};
        userns_maps_for_self(&a->m->maps);
        r = read_mounts(a->h, &a->mounts);
        /* Without a namespace the table only informs --dry-run. */
        if (r < 0 && (r == -ENOMEM || mode != MNTNS_UNAVAILABLE))
                return refuse(a, r, "cannot read /proc/self/mountinfo: %s", strerror(-r));
        r = 0;
        for (size_t i = 0; r == 0 && i < sizeof(analysis_steps) / sizeof(analysis_steps[0]); i++)
                r = analysis_steps[i](a);
        if (r == 0 && mode == MNTNS_UNAVAILABLE && a->m->needed)
                r = refuse_unavailable(a, ms);
        return r;
}

static void analysis_done(struct analysis *a)
{
        mounts_free(a->h, &a->mounts);
        a->h->free(a->h->ctx, a->writable);
        a->writable = NULL;
}

/* Sealed directories surprise (a file cannot be created there): say so once, loudly. */
static void warn_seals(const struct nono_host *host, const struct mntns *m)
{
        char list[1024] = "";
        size_t len = 0;

        if (!m->n_seals || !host->log)
                return;
        for (size_t i = 0; i < m->n_seals && len < sizeof(list); i++) {
                int n = snprintf(list + len, sizeof(list) - len, "%s%s (%s missing)", i ? ", " : "",
                                 m->seals[i].path, m->seals[i].because);

                if (n < 0)
                        break;
                len += (size_t)n;
        }
        if (len >= sizeof(list))
                memcpy(list + sizeof(list) - 4, "...", 4);
        host->log(host->ctx, NONO_LOG_WARNING,
                  "landlock: protected paths that do not exist inside write grants cannot be "
                  "masked, so nothing can be created, removed or renamed in these directories "
                  "(their files and subdirectories stay writable): %s; create the missing paths "
                  "to lift this",
                  list);
}

int mntns_prepare(const struct nono_host *host, struct mntns_state *ms,
                  const struct nono_plan *plan, struct mntns **ret)
{
        char why[1024] = "";
        struct analysis a = analysis_of(host, ms, plan, why, sizeof(why));
        int r = analyse(&a, ms, mntns_probe(host, ms));

        analysis_done(&a);
        if (r == -ENOMEM && !a.refused)
                snprintf(why, sizeof(why), "out of memory");
        if (r < 0) {
                host->set_error(host->ctx, "landlock: %s", why);
                mntns_free(host, a.m);
                return r;
        }
        warn_seals(host, a.m);
        if (a.m->mode == MNTNS_UNAVAILABLE)
                note_shared_tmp(host, ms, plan);
        /* Without a namespace only the seals (Landlock's part) remain. */
        *ret = a.m;
        return 0;
}

void mntns_release(const struct nono_host *host, struct mntns *m)
{
        mntns_free(host, m);
}

size_t mntns_n_private_tmp(const struct mntns *m)
{
        return m ? m->n_tmps : 0;
}

uint32_t mntns_private_tmp_access(const struct mntns *m, size_t i)
{
        return m->tmps[i].access;
}

void mntns_set_private_tmp_rights(struct mntns *m, size_t i, uint64_t rights)
{
        m->tmps[i].rights = rights;
}

bool mntns_sealed(const struct mntns *m, const char *path)
{
        return is_sealed(m, path);
}

size_t mntns_n_open_dirs(const struct mntns *m)
{
        return m ? m->n_open : 0;
}

const char *mntns_open_dir(const struct mntns *m, size_t i, uint32_t *ret_access)
{
        *ret_access = m->open[i].access;
        return m->open[i].path;
}

/* ---- apply (child) ------------------------------------------------------------------------ */

static int open_path(const char *path)
{
        struct ll_open_how how = {
            .flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
            .resolve = LL_RESOLVE_NO_SYMLINKS,
        };
        long fd = syscall(LL_NR_openat2, AT_FDCWD, path, &how, sizeof(how));

        if (fd >= 0)
                return (int)fd;
        if (errno != ENOSYS)
                return -errno;
        fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        return fd < 0 ? -errno : (int)fd;
}

/* Opens an op's path without following links; -ESTALE when it is not what prepare saw. */
static int open_op(const struct mntns_op *op)
{
        struct stat sb;
        int fd = open_path(op->path);

        if (fd < 0)
                return fd;
        if (fstat(fd, &sb) < 0 || sb.st_dev != op->dev || sb.st_ino != op->ino) {
                close(fd);
                return -ESTALE;
        }
        return fd;
}

/* Step 2: a recursive bind mount of the path onto itself. */
static int bind_self(const struct nono_host *h, const struct mntns_op *op, bool readonly)
{
        int fd = open_op(op), tree, r = 0;

        if (fd < 0)
                return child_fail(h, "cannot open", op->path, -fd);
        tree = sys_open_tree(
            fd, "", MNS_AT_EMPTY_PATH | MNS_OPEN_TREE_CLONE | MNS_AT_RECURSIVE | O_CLOEXEC);
        if (tree < 0) {
                r = child_fail(h, "cannot copy the mount at", op->path, errno);
                close(fd);
                return r;
        }
        if (readonly && sys_mount_setattr(tree, "", MNS_AT_EMPTY_PATH | MNS_AT_RECURSIVE,
                                          MNS_MOUNT_ATTR_RDONLY, 0) < 0)
                r = child_fail(h, "cannot make read-only", op->path, errno);
        else if (sys_move_mount(tree, "", fd, "",
                                MNS_MOVE_MOUNT_F_EMPTY_PATH | MNS_MOVE_MOUNT_T_EMPTY_PATH) < 0)
                r = child_fail(h, "cannot bind-mount", op->path, errno);
        close(tree);
        close(fd);
        return r;
}

/* Step 4: clears RDONLY on the mount at the path (not below it). */
static int thaw(const struct nono_host *h, const struct mntns_op *op)
{
        int fd = open_op(op), r = 0;

        if (fd < 0)
                return op->kind == OP_SUBMOUNT ? 0 : child_fail(h, "cannot open", op->path, -fd);
        if (sys_mount_setattr(fd, "", MNS_AT_EMPTY_PATH, 0, MNS_MOUNT_ATTR_RDONLY) < 0 &&
            op->kind != OP_SUBMOUNT)
                r = child_fail(h, "cannot make writable", op->path, errno);
        close(fd);
        return r;
}

/* The mask source: a detached tmpfs holding an empty directory "d" and file "f". */
static int make_mask_source(const struct nono_host *h)
{
        int fs = sys_fsopen("tmpfs", MNS_FSOPEN_CLOEXEC), mnt = -1, fd, err = 0;
        const char *what = "cannot create the tmpfs for masks";

        if (fs < 0)
                return child_fail(h, what, NULL, errno);
        if (sys_fsconfig(fs, MNS_FSCONFIG_SET_STRING, "size", "16k") < 0 ||
            sys_fsconfig(fs, MNS_FSCONFIG_SET_STRING, "nr_inodes", "16") < 0 ||
            sys_fsconfig(fs, MNS_FSCONFIG_SET_STRING, "mode", "0755") < 0 ||
            sys_fsconfig(fs, MNS_FSCONFIG_CMD_CREATE, NULL, NULL) < 0)
                err = errno;
        else if ((mnt = sys_fsmount(fs, MNS_FSMOUNT_CLOEXEC,
                                    MNS_MOUNT_ATTR_NOSUID | MNS_MOUNT_ATTR_NODEV |
                                        MNS_MOUNT_ATTR_NOEXEC)) < 0)
                err = errno;
        close(fs);
        if (err)
                return child_fail(h, what, NULL, err);
        if (mkdirat(mnt, "d", 0) < 0 ||
            (fd = openat(mnt, "f", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0)) < 0) {
                err = errno;
                close(mnt);
                return child_fail(h, "cannot fill the tmpfs for masks", NULL, err);
        }
        close(fd);
        if (sys_mount_setattr(mnt, "", MNS_AT_EMPTY_PATH, MNS_MOUNT_ATTR_RDONLY, 0) < 0) {
                err = errno;
                close(mnt);
                return child_fail(h, "cannot make the tmpfs for masks read-only", NULL, err);
        }
        return mnt;
}

static int attach(int tree, int target)
{
        return sys_move_mount(tree, "", target, "",
                              MNS_MOVE_MOUNT_F_EMPTY_PATH | MNS_MOVE_MOUNT_T_EMPTY_PATH);
}

static int mask_one(const struct nono_host *h, int source, const struct mntns_op *op)
{
        int fd = open_op(op), copy, r = 0;

        if (fd < 0)
                return child_fail(h, "cannot open the protected path", op->path, -fd);
        /* open_tree needs the source attached to our namespace (see mask_all). */
        copy = sys_open_tree(source, op->kind == OP_MASK_DIR ? "d" : "f",
                             MNS_OPEN_TREE_CLONE | O_CLOEXEC);
        if (copy < 0)
                r = child_fail(h, "cannot copy the mask for", op->path, errno);
        else if (attach(copy, fd) < 0)
                r = child_fail(h, "cannot mask", op->path, errno);
        if (copy >= 0)
                close(copy);
        close(fd);
        return r;
}

/*
 * Step 6.  Until Linux 6.15 open_tree cannot copy from a detached mount, so the source
 * is attached to a directory that no mask is in or over, copied from, and detached.
 */
static int mask_all(const struct nono_host *h, const struct mntns *m)
{
        bool masks = false;
        int source, stage, r = 0;

        for (size_t i = 0; i < m->n_ops; i++)
                masks |= m->ops[i].kind == OP_MASK_DIR || m->ops[i].kind == OP_MASK_FILE;
        if (!masks)
                return 0;
        /* Never skip a mask: prepare chose a staging directory whenever there is one. */
        if (!m->staging)
                return child_fail(h, "no staging directory for the masks", NULL, EINVAL);
        source = make_mask_source(h);
        if (source < 0)
                return source;
        stage = open_path(m->staging);
        if (stage < 0) {
                close(source);
                return child_fail(h, "cannot open", m->staging, -stage);
        }
        if (attach(source, stage) < 0)
                r = child_fail(h, "cannot attach the tmpfs for masks at", m->staging, errno);
        close(stage);
        for (size_t i = 0; r == 0 && i < m->n_ops; i++)
                if (m->ops[i].kind == OP_MASK_DIR || m->ops[i].kind == OP_MASK_FILE)
                        r = mask_one(h, source, &m->ops[i]);
        if (r == 0 && umount2(m->staging, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
                r = child_fail(h, "cannot detach the tmpfs for masks from", m->staging, errno);
        close(source);
        return r;
}

/* A fresh tmpfs like the host's /tmp: empty, world-writable and sticky, nosuid, nodev. */
static int make_private_tmpfs(const struct nono_host *h, const char *path)
{
        int fs = sys_fsopen("tmpfs", MNS_FSOPEN_CLOEXEC), mnt = -1, err = 0;

        if (fs < 0)
                return child_fail(h, "cannot create a private tmpfs for", path, errno);
        /* size=50%: the kernel's default, said aloud; the page cache is charged as usual. */
        if (sys_fsconfig(fs, MNS_FSCONFIG_SET_STRING, "size", "50%") < 0 ||
            sys_fsconfig(fs, MNS_FSCONFIG_SET_STRING, "mode", "1777") < 0 ||
            sys_fsconfig(fs, MNS_FSCONFIG_CMD_CREATE, NULL, NULL) < 0)
                err = errno;
        else if ((mnt = sys_fsmount(fs, MNS_FSMOUNT_CLOEXEC,
                                    MNS_MOUNT_ATTR_NOSUID | MNS_MOUNT_ATTR_NODEV)) < 0)
                err = errno;
        close(fs);
        return err ? child_fail(h, "cannot create a private tmpfs for", path, err) : mnt;
}

/* One component below `dirfd`, made if missing; an O_PATH descriptor or a negative errno. */
static int make_one(int dirfd, const char *name, bool is_dir, mode_t mode)
{
        int fd;

        if (is_dir) {
                if (mkdirat(dirfd, name, mode) < 0 && errno != EEXIST)
                        return -errno;
        } else {
                fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, mode);
                if (fd < 0)
                        return -errno;
                close(fd);
        }
        fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

/*
 * Makes the directories of `rel` below `dirfd` (the tmpfs is new and only ours: no
 * symlink can be in the way), the last component a directory or an empty file.
 * Returns an O_PATH descriptor of it, or a negative errno.
 */
static int make_below(int dirfd, const char *rel, bool last_is_dir, mode_t last_mode)
{
        char part[NAME_MAX + 1];
        int fd = dup(dirfd);

        if (fd < 0)
                return -errno;
        while (fd >= 0 && *rel) {
                size_t n = strcspn(rel, "/");
                bool last = rel[n] == '\0';
                int next;

                if (n == 0 || n >= sizeof(part)) {
                        close(fd);
                        return -EINVAL;
                }
                memcpy(part, rel, n);
                part[n] = '\0';
                next = make_one(fd, part, !last || last_is_dir, last ? last_mode : 0755);
                close(fd);
                fd = next;
                rel += last ? n : n + 1;
        }
        return fd;
}

/* A recursive copy of a carried grant's mounts (its masks and read-only paths too). */
static int copy_carried(const struct nono_host *h, const struct mntns_op *op)
{
        int fd = open_op(op), tree;

        if (fd < 0)
                return child_fail(h, "cannot open", op->path, -fd);
        tree = sys_open_tree(
            fd, "", MNS_AT_EMPTY_PATH | MNS_OPEN_TREE_CLONE | MNS_AT_RECURSIVE | O_CLOEXEC);
        close(fd);
        if (tree < 0)
                return child_fail(h, "cannot copy the mount at", op->path, errno);
        if (op->rdonly && sys_mount_setattr(tree, "", MNS_AT_EMPTY_PATH | MNS_AT_RECURSIVE,
                                            MNS_MOUNT_ATTR_RDONLY, 0) < 0) {
                close(tree);
                return child_fail(h, "cannot make read-only", op->path, errno);
        }
        return tree;
}

/* Puts a carried grant's copy (or an empty $TMPDIR) at its path in the new tmpfs. */
static int place_below(const struct nono_host *h, int tmpfs, const struct mntns_op *op, int tree)
{
        const char *rel = op->path + strlen(op->within) + 1;
        int target = make_below(tmpfs, rel, op->kind == OP_TMP_DIR || op->dir,
                                op->kind == OP_TMP_DIR ? 0700 : 0755);

        if (target < 0)
                return child_fail(h, "cannot make", op->path, -target);
        if (tree >= 0 && attach(tree, target) < 0) {
                int err = errno;

                close(target);
                return child_fail(h, "cannot carry into the private tmpfs:", op->path, err);
        }
        close(target);
        return 0;
}

/*
 * The new tmpfs root is an inode no rule of the parent's covers (Landlock does not look
 * at the directory it is mounted on): it gets the rights of the grant it replaces.
 */
static int allow_private_tmp(const struct nono_host *h, const struct mntns *m,
                             const struct mntns_op *tmp, int mnt, int ruleset_fd)
{
        struct ll_path_beneath_attr attr = {.parent_fd = mnt};

        for (size_t i = 0; i < m->n_tmps; i++)
                if (m->tmps[i].path == tmp->path)
                        attr.allowed_access = m->tmps[i].rights;
        if (!attr.allowed_access)
                return child_fail(h, "no Landlock rights for the private", tmp->path, EINVAL);
        if (syscall(LL_NR_add_rule, ruleset_fd, LL_RULE_PATH_BENEATH, &attr, 0u) < 0)
                return child_fail(h, "cannot allow the private", tmp->path, errno);
        return 0;
}

/* Step 7: one private tmp dir, with the grants below it carried over. */
static int private_tmp(const struct nono_host *h, const struct mntns *m, const struct mntns_op *tmp,
                       int ruleset_fd)
{
        int trees[MAX_CARRIED], mnt = -1, target, r = 0;
        size_t n = 0;

        for (size_t i = 0; r == 0 && i < m->n_ops; i++)
                if (m->ops[i].kind == OP_CARRY && strcmp(m->ops[i].within, tmp->path) == 0 &&
                    n < MAX_CARRIED) {
                        r = trees[n] = copy_carried(h, &m->ops[i]);
                        r = r < 0 ? r : (n++, 0);
                }
        if (r == 0)
                r = mnt = make_private_tmpfs(h, tmp->path);
        if (r >= 0) {
                target = open_op(tmp);
                r = target < 0 ? child_fail(h, "cannot open", tmp->path, -target)
                    : attach(mnt, target) < 0
                        ? child_fail(h, "cannot mount a private tmpfs on", tmp->path, errno)
                        : 0;
                if (target >= 0)
                        close(target);
        }
        if (r == 0)
                r = allow_private_tmp(h, m, tmp, mnt, ruleset_fd);
        for (size_t i = 0, k = 0; r == 0 && i < m->n_ops; i++) {
                const struct mntns_op *op = &m->ops[i];

                if ((op->kind != OP_CARRY && op->kind != OP_TMP_DIR) ||
                    strcmp(op->within, tmp->path) != 0 || (op->kind == OP_CARRY && k >= n))
                        continue;
                r = place_below(h, mnt, op, op->kind == OP_CARRY ? trees[k++] : -1);
        }
        for (size_t i = 0; i < n; i++)
                close(trees[i]);
        if (mnt >= 0)
                close(mnt);
        return r;
}

static int private_tmp_all(const struct nono_host *h, const struct mntns *m, int ruleset_fd)
{
        int r = 0;

        for (size_t i = 0; r == 0 && i < m->n_ops; i++)
                if (m->ops[i].kind == OP_PRIVATE_TMP)
                        r = private_tmp(h, m, &m->ops[i], ruleset_fd);
        return r;
}

int mntns_apply(const struct nono_host *h, const struct mntns *m, int ruleset_fd)
{
        char cwd[PATH_MAX];
        bool have_cwd;
        int r;

        if (!m || m->mode == MNTNS_UNAVAILABLE)
                return 0;
        /* The working directory, to be entered again through the new mounts. */
        have_cwd = syscall(SYS_getcwd, cwd, sizeof(cwd)) > 0 && cwd[0] == '/';
        r = enter_namespace(h, m->mode, &m->maps);
        if (r > 0)
                /* Not even unshare worked: fatal only for a plan that needs it. */
                return m->needed ? -r : 0;
        if (r < 0)
                return r;
        for (size_t i = 0; i < m->n_ops; i++)
                if (m->ops[i].kind == OP_BIND || m->ops[i].kind == OP_PIN)
                        if ((r = bind_self(h, &m->ops[i], false)) < 0)
                                return r;
        if (sys_mount_setattr(AT_FDCWD, "/", MNS_AT_RECURSIVE, MNS_MOUNT_ATTR_RDONLY, 0) < 0)
                return child_fail(h, "cannot make the filesystem read-only", NULL, errno);
        for (size_t i = 0; i < m->n_ops; i++) {
                const struct mntns_op *op = &m->ops[i];

                if ((op->kind == OP_BIND || op->kind == OP_PIN || op->kind == OP_THAW ||
                     op->kind == OP_SUBMOUNT) &&
                    op->thaw && (r = thaw(h, op)) < 0)
                        return r;
        }
        for (size_t i = 0; i < m->n_ops; i++)
                if (m->ops[i].kind == OP_READONLY && (r = bind_self(h, &m->ops[i], true)) < 0)
                        return r;
        r = mask_all(h, m);
        if (r == 0)
                r = private_tmp_all(h, m, ruleset_fd);
        if (r < 0)
                return r;
        if (have_cwd && chdir(cwd) < 0)
                return child_fail(h, "cannot enter the working directory again:", cwd, errno);
        return 0;
}

/* ---- render -----------------------------------------------------------------------------------
 */

static void emitf(void (*emit)(void *, const char *), void *ctx, const char *fmt, ...)
    NONO_PRINTF(3, 4);

static void emitf(void (*emit)(void *, const char *), void *ctx, const char *fmt, ...)
{
        char line[2 * PATH_MAX + 1280];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        emit(ctx, line);
}

static void render_op(const struct mntns_op *op, void (*emit)(void *, const char *), void *ctx)
{
        switch (op->kind) {
        case OP_BIND:
                emitf(emit, ctx, "  writable %s (bind mount%s)\n", op->path,
                      op->thaw ? "" : "; read-only on the host, stays so");
                break;
        case OP_THAW:
                emitf(emit, ctx, "  writable %s (its own mount)\n", op->path);
                break;
        case OP_SUBMOUNT:
                emitf(emit, ctx, "  writable mount %s below a write grant\n", op->path);
                break;
        case OP_PIN:
                emitf(emit, ctx, "  pinned %s (bind mount: cannot be renamed or removed)\n",
                      op->path);
                break;
        case OP_READONLY:
                emitf(emit, ctx, "  read-only %s inside the write grant %s\n", op->path,
                      op->within);
                break;
        case OP_MASK_DIR:
                emitf(emit, ctx, "  masked %s: an empty read-only directory, inside grant %s\n",
                      op->path, op->within);
                break;
        case OP_MASK_FILE:
                emitf(emit, ctx, "  masked %s: an empty read-only file, inside grant %s\n",
                      op->path, op->within);
                break;
        case OP_PRIVATE_TMP:
                emitf(emit, ctx,
                      "  private %s: an empty tmpfs of the sandbox's own (--share-tmp: the "
                      "host's)\n",
                      op->path);
                break;
        case OP_CARRY:
                emitf(emit, ctx, "  %s %s (the host's, inside the private %s)\n",
                      op->rdonly ? "read-only" : "writable", op->path, op->within);
                break;
        case OP_TMP_DIR:
                emitf(emit, ctx, "  empty directory %s inside the private %s\n", op->path,
                      op->within);
                break;
        default:
                break;
        }
}

void mntns_render(const struct nono_host *host, const struct mntns_state *ms,
                  const struct nono_plan *plan, void (*emit)(void *ctx, const char *line),
                  void *ctx)
{
        char why[1024] = "";
        struct analysis a = analysis_of(host, ms, plan, why, sizeof(why));
        int mode = ms->mode == MNTNS_UNPROBED ? MNTNS_UNAVAILABLE : ms->mode;
        int r;

        if (mode == MNTNS_PRIVILEGED)
                emitf(emit, ctx,
                      "  mount namespace: privileged (CAP_SYS_ADMIN); the filesystem "
                      "is read-only outside the write grants\n");
        else if (mode == MNTNS_USERNS)
                emitf(emit, ctx,
                      "  mount namespace: in a user namespace (uid %u and gid %u mapped to "
                      "themselves); the filesystem is read-only outside the write grants\n",
                      (unsigned)geteuid(), (unsigned)getegid());
        else
                emitf(emit, ctx,
                      "  mount namespace: unavailable (%s); chmod, chown, utime and xattr "
                      "changes outside the write grants are not blocked\n",
                      ms->reason);
        r = analyse(&a, ms, mode);
        if (mode != MNTNS_UNAVAILABLE && a.m)
                for (size_t i = 0; i < a.m->n_ops; i++)
                        render_op(&a.m->ops[i], emit, ctx);
        for (size_t i = 0; a.m && i < a.m->n_seals; i++)
                emitf(emit, ctx,
                      "  sealed %s: nothing can be created, removed or renamed in it (Landlock), "
                      "since %s does not exist; its existing subdirectories keep their rights\n",
                      a.m->seals[i].path, a.m->seals[i].because);
        if (r < 0)
                emitf(emit, ctx, "  refused: %s\n", a.refused ? why : "out of memory");
        analysis_done(&a);
        mntns_free(host, a.m);
}
