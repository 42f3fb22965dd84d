/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tests of the mount-namespace layer of the landlock enforcer (mountns.c), with the
 * plugin linked in statically and driven through a fake host.
 *
 * Each sandboxed check runs in a forked child: the parent prepares, the child applies
 * (mount namespace, then Landlock, then seccomp) and probes, and reports through its
 * exit status; effects are then checked from outside.  Every child starts with a
 * positive check (a write that must work), so a child that failed to apply can never
 * make a test pass.
 *
 * Each scenario runs twice when the tests run as root: as root (a plain mount
 * namespace) and as nobody (65534, dropped after fork and before prepare: a user
 * namespace), the common case for users.  As root the suite first moves into a
 * private mount namespace of its own, so that the tmpfs mounts it makes for the
 * submount tests never reach the host.
 */

#include "cunit-main.h"
#include "fake-host.h"
#include "probes.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#define NOBODY   65534
#define KNOB_OFF 0
#define KNOB_ON  1 /* the default: the knob is absent */

/*
 * The knobs for what follows, until fake_host_reset(): mount_namespace (KNOB_ON leaves
 * it out) and seal_missing = 1 or left out.
 */
static void set_knobs(int knob, bool seal)
{
        fake_host_reset();
        if (knob != KNOB_ON)
                fake_host_set_int("mount_namespace", knob);
        if (seal)
                fake_host_set_int("seal_missing", 1);
}

/* ---- the test tree (made afresh for each run) ------------------------------------------- */

static bool as_root;

static struct {
        char root[64];
        char home[PATH_MAX];    /* a home directory, granted read-write */
        char ssh[PATH_MAX];     /* home/.ssh, protected */
        char key[PATH_MAX];     /* home/.ssh/id_key */
        char netrc[PATH_MAX];   /* home/.netrc, protected (a file) */
        char notes[PATH_MAX];   /* home/notes, an ordinary file */
        char proj[PATH_MAX];    /* home/proj, an ordinary directory */
        char deep[PATH_MAX];    /* home/deep, with deep/other and deep/side */
        char other[PATH_MAX];   /* home/deep/other, with other/keep */
        char keep[PATH_MAX];    /* home/deep/other/keep */
        char side[PATH_MAX];    /* home/deep/side */
        char empty[PATH_MAX];   /* home/deep/empty */
        char ro[PATH_MAX];      /* granted read-only */
        char ro_file[PATH_MAX]; /* ro/f */
        char out[PATH_MAX];     /* never granted */
        char secret[PATH_MAX];  /* out/secret */
        char rwfile[PATH_MAX];  /* out/rwfile, granted read-write as a single file */
        char ws[PATH_MAX];      /* a workspace, granted read-write */
        char git[PATH_MAX];     /* ws/.git */
        char hooks[PATH_MAX];   /* ws/.git/hooks, read-only */
        char hook[PATH_MAX];    /* ws/.git/hooks/pre-commit */
        char config[PATH_MAX];  /* ws/.git/config, read-only */
        char objects[PATH_MAX]; /* ws/.git/objects */
        char sub[PATH_MAX];     /* granted read-write, with two tmpfs mounts below (root) */
        char sub_rw[PATH_MAX];  /* sub/rw: a writable tmpfs */
        char sub_ro[PATH_MAX];  /* sub/ro: a read-only tmpfs */
        bool mounts;
} t;

#define KEY_TEXT    "KEY\n"
#define NETRC_TEXT  "machine x password y\n"
#define HOOK_TEXT   "#!/bin/sh\necho hook\n"
#define CONFIG_TEXT "[core]\n"

static int write_file(const char *path, const char *text, mode_t mode)
{
        int r = try_write(path, text);

        if (r < 0)
                return r;
        return chmod(path, mode) < 0 ? -errno : 0;
}

static bool exists(const char *path)
{
        struct stat sb;

        return lstat(path, &sb) == 0;
}

static mode_t mode_of(const char *path)
{
        struct stat sb;

        return lstat(path, &sb) == 0 ? sb.st_mode & 07777 : (mode_t)-1;
}

static int chown_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
        return lchown(path, NOBODY, NOBODY);
}

static int mkdirs(const char *const *dirs)
{
        for (size_t i = 0; dirs[i]; i++)
                if (mkdir(dirs[i], 0755) < 0)
                        return -1;
        return 0;
}

static int tree_make(void)
{
        memset(&t, 0, sizeof(t));
        strcpy(t.root, "/var/tmp/nono-mntns-test-XXXXXX");
        if (!mkdtemp(t.root) || chmod(t.root, 0755) < 0)
                return -1;
        join(t.home, t.root, "home");
        join(t.ssh, t.home, ".ssh");
        join(t.key, t.ssh, "id_key");
        join(t.netrc, t.home, ".netrc");
        join(t.notes, t.home, "notes");
        join(t.proj, t.home, "proj");
        join(t.deep, t.home, "deep");
        join(t.other, t.deep, "other");
        join(t.keep, t.other, "keep");
        join(t.side, t.deep, "side");
        join(t.empty, t.deep, "empty");
        join(t.ro, t.root, "ro");
        join(t.ro_file, t.ro, "f");
        join(t.out, t.root, "out");
        join(t.secret, t.out, "secret");
        join(t.rwfile, t.out, "rwfile");
        join(t.ws, t.root, "ws");
        join(t.git, t.ws, ".git");
        join(t.hooks, t.git, "hooks");
        join(t.hook, t.hooks, "pre-commit");
        join(t.config, t.git, "config");
        join(t.objects, t.git, "objects");
        join(t.sub, t.root, "sub");
        join(t.sub_rw, t.sub, "rw");
        join(t.sub_ro, t.sub, "ro");
        {
                const char *const dirs[] = {t.home,   t.ssh,    t.proj, t.deep,  t.other,   t.ro,
                                            t.out,    t.ws,     t.git,  t.hooks, t.objects, t.sub,
                                            t.sub_rw, t.sub_ro, t.keep, t.side,  t.empty,   NULL};

                if (mkdirs(dirs) < 0)
                        return -1;
        }
        if (write_file(t.key, KEY_TEXT, 0600) || write_file(t.netrc, NETRC_TEXT, 0600) ||
            write_file(t.notes, "notes\n", 0644) || write_file(t.ro_file, "ro\n", 0644) ||
            write_file(t.secret, "secret\n", 0644) || write_file(t.rwfile, "rw\n", 0644) ||
            write_file(t.hook, HOOK_TEXT, 0755) || write_file(t.config, CONFIG_TEXT, 0644))
                return -1;
        if (as_root) {
                if (nftw(t.root, chown_entry, 16, FTW_PHYS) < 0)
                        return -1;
                /* A shared mount, as on systemd hosts: a mount made in the sandbox that
                 * propagated back would show up here (see no_mounts_leaked). */
                if (mount(t.root, t.root, NULL, MS_BIND, NULL) < 0 ||
                    mount(NULL, t.root, NULL, MS_SHARED, NULL) < 0)
                        return -1;
                t.mounts = true;
                if (mount("tmpfs", t.sub_rw, "tmpfs", 0, "mode=0777") < 0 ||
                    mount("tmpfs", t.sub_ro, "tmpfs", MS_RDONLY, "mode=0777") < 0)
                        return -1;
        }
        return 0;
}

/* No mount of the sandbox's reached our namespace: only the test's own are below root. */
static bool no_mounts_leaked(void)
{
        FILE *f = fopen("/proc/self/mountinfo", "re");
        char line[4096], point[PATH_MAX];
        bool ok = true;

        if (!f)
                return false;
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "%*s %*s %*s %*s %4095s", point) == 1 &&
                    strncmp(point, t.root, strlen(t.root)) == 0 && strcmp(point, t.root) != 0 &&
                    strcmp(point, t.sub_rw) != 0 && strcmp(point, t.sub_ro) != 0) {
                        fprintf(stderr, "leaked mount: %s", line);
                        ok = false;
                }
        fclose(f);
        return ok;
}

static void tree_remove(void)
{
        if (t.mounts) {
                umount2(t.sub_rw, MNT_DETACH);
                umount2(t.sub_ro, MNT_DETACH);
                umount2(t.root, MNT_DETACH);
        }
        remove_tree(t.root);
}

static int suite_init(void)
{
        as_root = geteuid() == 0;
        /* Our own mounts (tmpfs below sub/) stay in a namespace of our own. */
        if (as_root &&
            (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0))
                return -1;
        return 0;
}

/* ---- running a check in a sandboxed child ---------------------------------------------- */

struct scenario {
        child_fn fn;
        void *arg;
};

static int become_nobody(void *arg)
{
        const struct scenario *sc = arg;

        if (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
            setresuid(NOBODY, NOBODY, NOBODY) < 0)
                return RUN_SETUP_FAILED;
        return sc->fn(sc->arg);
}

/* Runs `scenario` as ourselves, or in a child that first becomes nobody. */
static int run_as(bool nobody, child_fn scenario, void *arg)
{
        struct scenario sc = {scenario, arg};

        return nobody ? run_plain(become_nobody, &sc) : scenario(arg);
}

/* Each scenario: as ourselves, then (as root) as nobody, with a fresh tree each time. */
#define FOR_EACH_USER(nobody)                                                                      \
        for (int nobody##_i = 0; nobody##_i < (as_root ? 2 : 1); nobody##_i++)                     \
                for (bool nobody = nobody##_i == 1, nobody##_once = true; nobody##_once;           \
                     nobody##_once = false)

/* A fresh tree (tree_remove() after the checks), and `scenario` passing in it. */
static void run_in_fresh_tree(bool nobody, child_fn scenario, void *arg)
{
        CU_ASSERT_FATAL(tree_make() == 0);
        CU_ASSERT_EQUAL(run_as(nobody, scenario, arg), 0);
}

/* ---- probes used inside children -------------------------------------------------------- */

/* Entries of a directory besides . and ..; -errno when it cannot be listed. */
static int count_entries(const char *path)
{
        DIR *d = opendir(path);
        struct dirent *e;
        int n = 0;

        if (!d)
                return -errno;
        while ((e = readdir(d)))
                if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                        n++;
        closedir(d);
        return n;
}

/* Bytes readable from a file, or -errno. */
static int readable_bytes(const char *path)
{
        char buf[256];
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return -errno;
        n = read(fd, buf, sizeof(buf));
        close(fd);
        return n < 0 ? -errno : (int)n;
}

static bool failed_with(int r, int err)
{
        return r == -1 && errno == err;
}

/* ---- probe ----------------------------------------------------------------------------- */

/* The capabilities probe reports with the knob at `knob`, or -1. */
static int probe_capabilities(int knob)
{
        struct nono_enforcer_info info = {.size = sizeof(info)};
        struct plugin p;
        int r;

        set_knobs(knob, false);
        r = plugin_open(&p);
        fake_host_reset();
        if (r < 0)
                return -1;
        r = p.ops->probe(p.state, &info) < 0 ? -1 : (int)info.capabilities;
        plugin_close(&p);
        return r;
}

static int scenario_probe(void *arg)
{
        int on = probe_capabilities(KNOB_ON), off = probe_capabilities(KNOB_OFF);

        if (on < 0 || off < 0)
                return 1;
        if (!(on & NONO_ENFORCER_CAP_MASK_PROTECTED))
                return 2;
        return off & NONO_ENFORCER_CAP_MASK_PROTECTED ? 3 : 0;
}

static void test_probe(void)
{
        FOR_EACH_USER(nobody)
        {
                CU_ASSERT_EQUAL(run_as(nobody, scenario_probe, NULL), 0);
        }
}

/* ---- masks ------------------------------------------------------------------------------ */

static int child_masks(void *arg)
{
        char ok[PATH_MAX], inside[PATH_MAX], moved[PATH_MAX];
        int n;

        join(ok, t.home, "ok");
        join(inside, t.ssh, "new");
        join(moved, t.home, "ssh2");
        CHECK(1, try_write(ok, "OK\n") == 0, "write %s", ok);
        CHECK(2, try_write("rel", "REL\n") == 0, "write rel in the working directory");
        CHECK(3, try_open(t.key, O_RDONLY) < 0, "read %s", t.key);
        n = count_entries(t.ssh);
        CHECK(4, n == 0 || n == -EACCES, "list %s: %d", t.ssh, n);
        CHECK(5, try_open(inside, O_WRONLY | O_CREAT) < 0, "create %s", inside);
        CHECK(6, rename(t.ssh, moved) < 0, "rename %s", t.ssh);
        n = readable_bytes(t.netrc);
        CHECK(7, n == 0 || n == -EACCES, "read %s: %d", t.netrc, n);
        CHECK(8, try_open(t.netrc, O_WRONLY | O_APPEND) < 0, "append %s", t.netrc);
        CHECK(9, unlink(t.netrc) < 0, "unlink %s", t.netrc);
        CHECK(10, chmod(t.netrc, 0666) < 0, "chmod %s", t.netrc);
        /* Landlock is still there: outside every grant, and read-only grants. */
        CHECK(11, try_open(t.secret, O_RDONLY) == -EACCES, "read %s", t.secret);
        CHECK(12, try_open(t.ro_file, O_WRONLY) < 0, "write %s", t.ro_file);
        CHECK(13, readable_bytes(t.ro_file) == 3, "read %s", t.ro_file);
        return 0;
}

static int scenario_masks(void *arg)
{
        struct test_plan tp;

        plan_init(&tp, NONO_NETWORK_ALLOW, t.home);
        plan_grant(&tp, t.home, NONO_ACCESS_READWRITE, 0);
        plan_grant(&tp, t.ro, NONO_ACCESS_READ, 0);
        plan_deny(&tp, t.ssh);
        plan_deny(&tp, t.netrc);
        plan_deny(&tp, t.secret);
        return run_sandboxed(&tp.plan, child_masks, NULL);
}

static void test_masks(void)
{
        char path[PATH_MAX];

        FOR_EACH_USER(nobody)
        {
                run_in_fresh_tree(nobody, scenario_masks, NULL);
                CU_ASSERT_EQUAL(file_has(t.key, KEY_TEXT), 0);
                CU_ASSERT_EQUAL(file_has(t.netrc, NETRC_TEXT), 0);
                CU_ASSERT_EQUAL(mode_of(t.netrc), 0600);
                join(path, t.ssh, "new");
                CU_ASSERT_FALSE(exists(path));
                join(path, t.home, "ssh2");
                CU_ASSERT_FALSE(exists(path));
                join(path, t.home, "ok");
                CU_ASSERT_EQUAL(file_has(path, "OK\n"), 0);
                join(path, t.home, "rel");
                CU_ASSERT_EQUAL(file_has(path, "REL\n"), 0);
                CU_ASSERT(no_mounts_leaked());
                tree_remove();
        }
}

/* ---- metadata outside the write grants --------------------------------------------------- */

static int child_metadata(void *arg)
{
        char ok[PATH_MAX];
        int fd;

        join(ok, t.home, "ok");
        CHECK(1, try_write(ok, "OK\n") == 0, "write %s", ok);
        CHECK(2, failed_with(chmod(t.ro_file, 0777), EROFS), "chmod %s", t.ro_file);
        CHECK(3, failed_with(utimensat(AT_FDCWD, t.ro_file, NULL, 0), EROFS), "utime %s",
              t.ro_file);
        CHECK(4, failed_with(setxattr(t.ro_file, "user.nono", "x", 1, 0), EROFS), "setxattr %s",
              t.ro_file);
        CHECK(5, failed_with(chown(t.ro_file, getuid(), getgid()), EROFS), "chown %s", t.ro_file);
        /* Outside every grant too: metadata calls are no Landlock right. */
        CHECK(6, failed_with(chmod(t.secret, 0777), EROFS), "chmod %s", t.secret);
        CHECK(7, failed_with(utimensat(AT_FDCWD, t.out, NULL, 0), EROFS), "utime %s", t.out);
        /* Inside the write grant they work. */
        CHECK(8, chmod(t.notes, 0600) == 0, "chmod %s", t.notes);
        /* A single file granted for writing: its own writable mount. */
        CHECK(10, try_write(t.rwfile, "RW\n") == 0, "write %s", t.rwfile);
        CHECK(11, chmod(t.rwfile, 0600) == 0, "chmod %s", t.rwfile);
        /* A device granted for writing needs no writable mount. */
        fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
        CHECK(9, fd >= 0 && write(fd, "x", 1) == 1, "write /dev/null");
        close(fd);
        return 0;
}

static int scenario_metadata(void *arg)
{
        struct test_plan tp;

        plan_init(&tp, NONO_NETWORK_ALLOW, NULL);
        plan_grant(&tp, t.home, NONO_ACCESS_READWRITE, 0);
        plan_grant(&tp, t.ro, NONO_ACCESS_READ, 0);
        plan_grant(&tp, "/dev/null", NONO_ACCESS_READWRITE, NONO_GRANT_FILE);
        plan_grant(&tp, t.rwfile, NONO_ACCESS_READWRITE, NONO_GRANT_FILE);
        return run_sandboxed(&tp.plan, child_metadata, NULL);
}

static void test_metadata(void)
{
        FOR_EACH_USER(nobody)
        {
                run_in_fresh_tree(nobody, scenario_metadata, NULL);
                CU_ASSERT_EQUAL(mode_of(t.ro_file), 0644);
                CU_ASSERT_EQUAL(mode_of(t.secret), 0644);
                CU_ASSERT_EQUAL(mode_of(t.notes), 0600);
                CU_ASSERT_EQUAL(file_has(t.rwfile, "RW\n"), 0);
                CU_ASSERT_EQUAL(mode_of(t.rwfile), 0600);
                tree_remove();
        }
}

/* ---- mounts below a write grant ---------------------------------------------------------- */

static int child_submounts(void *arg)
{
        char top[PATH_MAX], in_rw[PATH_MAX], in_ro[PATH_MAX];

        join(top, t.sub, "top");
        join(in_rw, t.sub_rw, "x");
        join(in_ro, t.sub_ro, "x");
        CHECK(1, try_write(top, "TOP\n") == 0, "write %s", top);
        CHECK(2, try_write(in_rw, "X\n") == 0, "write %s", in_rw);
        /* Read-only on the host stays read-only (also as root). */
        CHECK(3, try_write(in_ro, "X\n") == -EROFS, "write %s", in_ro);
        return 0;
}

static int scenario_submounts(void *arg)
{
        struct test_plan tp;

        plan_init(&tp, NONO_NETWORK_ALLOW, NULL);
        plan_grant(&tp, t.sub, NONO_ACCESS_READWRITE, 0);
        return run_sandboxed(&tp.plan, child_submounts, NULL);
}

static void test_submounts(void)
{
        char path[PATH_MAX];

        if (!as_root) {
                fprintf(stderr, "skipped: mounting the test's tmpfs needs root\n");
                return;
        }
        FOR_EACH_USER(nobody)
        {
                run_in_fresh_tree(nobody, scenario_submounts, NULL);
                join(path, t.sub_rw, "x");
                CU_ASSERT_EQUAL(file_has(path, "X\n"), 0);
                join(path, t.sub, "top");
                CU_ASSERT_EQUAL(file_has(path, "TOP\n"), 0);
                join(path, t.sub_ro, "x");
                CU_ASSERT_FALSE(exists(path));
                tree_remove();
        }
}

/* ---- read-only paths (persistence) --------------------------------------------------------- */

static int child_readonly(void *arg)
{
        char obj[PATH_MAX], lock[PATH_MAX], index[PATH_MAX], new_hook[PATH_MAX], moved[PATH_MAX],
            moved_hooks[PATH_MAX];

        join(obj, t.objects, "o1");
        join(lock, t.git, "index.lock");
        join(index, t.git, "index");
        join(new_hook, t.hooks, "post-checkout");
        join(moved, t.ws, "g2");
        join(moved_hooks, t.git, "h2");
        CHECK(1, try_write(obj, "OBJ\n") == 0, "write %s", obj);
        CHECK(2, try_open(t.hook, O_WRONLY) == -EROFS, "write %s", t.hook);
        CHECK(3, failed_with(unlink(t.hook), EROFS), "unlink %s", t.hook);
        CHECK(4, try_write(new_hook, "x") == -EROFS, "create %s", new_hook);
        CHECK(5, try_open(t.config, O_WRONLY | O_APPEND) == -EROFS, "write %s", t.config);
        /* A13: moving the parent away must fail, not carry the protection off. */
        CHECK(6, failed_with(rename(t.git, moved), EBUSY), "rename %s", t.git);
        CHECK(7, failed_with(rename(t.hooks, moved_hooks), EBUSY), "rename %s", t.hooks);
        CHECK(8, rmdir(t.hooks) < 0, "rmdir %s", t.hooks);
        /* What git does in .git itself still works. */
        CHECK(9, try_write(lock, "INDEX\n") == 0 && rename(lock, index) == 0, "rename %s", lock);
        CHECK(10, failed_with(chmod(t.hook, 0777), EROFS), "chmod %s", t.hook);
        CHECK(11, failed_with(rename(t.config, index), EBUSY), "rename over %s", t.config);
        return 0;
}

static int scenario_readonly(void *arg)
{
        struct test_plan tp;

        plan_init(&tp, NONO_NETWORK_ALLOW, t.ws);
        plan_grant(&tp, t.ws, NONO_ACCESS_READWRITE, 0);
        plan_readonly(&tp, t.hooks);
        plan_readonly(&tp, t.config);
        return run_sandboxed(&tp.plan, child_readonly, NULL);
}

static void test_readonly_paths(void)
{
        char path[PATH_MAX];

        FOR_EACH_USER(nobody)
        {
                run_in_fresh_tree(nobody, scenario_readonly, NULL);
                CU_ASSERT_EQUAL(file_has(t.hook, HOOK_TEXT), 0);
                CU_ASSERT_EQUAL(mode_of(t.hook), 0755);
                CU_ASSERT_EQUAL(file_has(t.config, CONFIG_TEXT), 0);
                join(path, t.objects, "o1");
                CU_ASSERT_EQUAL(file_has(path, "OBJ\n"), 0);
                join(path, t.git, "index");
                CU_ASSERT_EQUAL(file_has(path, "INDEX\n"), 0);
                join(path, t.hooks, "post-checkout");
                CU_ASSERT_FALSE(exists(path));
                join(path, t.ws, "g2");
                CU_ASSERT_FALSE(exists(path));
                CU_ASSERT(no_mounts_leaked());
                tree_remove();
        }
}

/* ---- protected paths that do not exist: sealed ---------------------------------------------- */

static int child_sealed(void *arg)
{
        char aws[PATH_MAX], top[PATH_MAX], in_proj[PATH_MAX], proj_dir[PATH_MAX], other_x[PATH_MAX],
            in_keep[PATH_MAX], in_side[PATH_MAX], deep_moved[PATH_MAX], other_moved[PATH_MAX],
            link[PATH_MAX];

        join(aws, t.home, ".aws");
        join(top, t.home, "new");
        join(in_proj, t.proj, "x");
        join(proj_dir, t.proj, "sub");
        join(other_x, t.other, "x");
        join(in_keep, t.keep, "y");
        join(in_side, t.side, "z");
        join(deep_moved, t.home, "d2");
        join(other_moved, t.deep, "o2");
        join(link, t.home, "link");
        /* Existing directories and files keep their rights. */
        CHECK(1, try_write(in_proj, "X\n") == 0, "write %s", in_proj);
        CHECK(2, mkdir(proj_dir, 0755) == 0, "mkdir %s", proj_dir);
        CHECK(3, try_write(t.notes, "changed\n") == 0, "write %s", t.notes);
        CHECK(4, try_write(in_keep, "Y\n") == 0, "write %s", in_keep);
        CHECK(5, try_write(in_side, "Z\n") == 0, "write %s", in_side);
        /* Nothing can be created where the missing paths would go, nor moved there. */
        CHECK(6, failed_with(mkdir(aws, 0700), EACCES), "mkdir %s", aws);
        CHECK(7, try_write(top, "x") == -EACCES, "create %s", top);
        CHECK(8, failed_with(symlink(t.proj, aws), EACCES), "symlink %s", aws);
        CHECK(9, failed_with(rename(t.proj, aws), EACCES), "rename to %s", aws);
        CHECK(10, failed_with(mkdir(other_x, 0700), EACCES), "mkdir %s", other_x);
        /* Nor can a sealed directory be moved away (and a fresh one made in its place),
         * at any level between the grant and the missing path. */
        CHECK(11, failed_with(rename(t.deep, deep_moved), EACCES), "rename %s", t.deep);
        CHECK(12, failed_with(rename(t.other, other_moved), EACCES), "rename %s", t.other);
        CHECK(13, failed_with(rmdir(t.empty), EACCES), "rmdir %s", t.empty);
        CHECK(14, failed_with(symlink(t.proj, link), EACCES), "symlink %s", link);
        return 0;
}

static int scenario_sealed(void *arg)
{
        const int *knob = arg;
        char aws[PATH_MAX], deep_secret[PATH_MAX];
        struct test_plan tp;
        int r;

        join(aws, t.home, ".aws");
        join(deep_secret, t.other, "x/secret");
        plan_init(&tp, NONO_NETWORK_ALLOW, NULL);
        plan_grant(&tp, t.home, NONO_ACCESS_READWRITE, 0);
        plan_deny(&tp, aws);
        plan_deny(&tp, deep_secret);
        set_knobs(*knob, true);
        r = run_sandboxed(&tp.plan, child_sealed, NULL);
        fake_host_reset();
        return r;
}

static void test_sealed(void)
{
        static const int knobs[] = {KNOB_ON, KNOB_OFF};
        char path[PATH_MAX];

        /* Sealing is Landlock's: it holds with and without the namespace. */
        for (size_t k = 0; k < 2; k++) {
                FOR_EACH_USER(nobody)
                {
                        run_in_fresh_tree(nobody, scenario_sealed, (void *)&knobs[k]);
                        join(path, t.home, ".aws");
                        CU_ASSERT_FALSE(exists(path));
                        join(path, t.other, "x");
                        CU_ASSERT_FALSE(exists(path));
                        CU_ASSERT(exists(t.other));
                        join(path, t.proj, "x");
                        CU_ASSERT_EQUAL(file_has(path, "X\n"), 0);
                        join(path, t.keep, "y");
                        CU_ASSERT_EQUAL(file_has(path, "Y\n"), 0);
                        CU_ASSERT_EQUAL(file_has(t.notes, "changed\n"), 0);
                        tree_remove();
                }
        }
}

/* ---- a path replaced between prepare and apply -------------------------------------------- */

/* Apply must fail, and say which path changed. */
static int child_apply_refused(void *arg)
{
        const struct plugin *p = arg;
        int r = p->ops->apply(p->state, p->prepared);

        CHECK(1, r < 0, "apply returned %d", r);
        CHECK(2, strstr(fake.error, t.ssh) && strstr(fake.error, "changed"), "message: %s",
              fake.error);
        return 0;
}

static int scenario_replaced(void *arg)
{
        char old[PATH_MAX];
        struct test_plan tp;
        struct plugin p;
        int r;

        join(old, t.home, ".ssh-old");
        plan_init(&tp, NONO_NETWORK_ALLOW, NULL);
        plan_grant(&tp, t.home, NONO_ACCESS_READWRITE, 0);
        plan_deny(&tp, t.ssh);
        if (plugin_open(&p) < 0 || plugin_prepare(&p, &tp.plan) < 0)
                return RUN_PREPARE_FAILED;
        /* Another process swaps the directory: the mask must not land on the new one
         * (while the old, with the key, stays reachable elsewhere). */
        if (rename(t.ssh, old) < 0 || mkdir(t.ssh, 0700) < 0)
                return RUN_SETUP_FAILED;
        r = run_plain(child_apply_refused, &p);
        plugin_close(&p);
        return r;
}

static void test_replaced(void)
{
        FOR_EACH_USER(nobody)
        {
                run_in_fresh_tree(nobody, scenario_replaced, NULL);
                tree_remove();
        }
}

/* ---- refusals ------------------------------------------------------------------------------- */

/* prepare_only with these knobs. */
static int prepare_with(const struct nono_plan *plan, int knob, bool seal)
{
        int r;

        set_knobs(knob, seal);
        r = prepare_only(plan);
        fake_host_reset();
        return r;
}

static void test_refusals(void)
{
        char vscode[PATH_MAX], missing_ro[PATH_MAX], aws[PATH_MAX];
        struct test_plan tp;

        CU_ASSERT_FATAL(tree_make() == 0);
        join(aws, t.home, ".aws");
        join(vscode, t.ws, ".vscode");
        join(missing_ro, t.ro, "missing");

        /* A read-only path that vanished: refused, naming it and the way out. */
        plan_init(&tp, NONO_NETWORK_ALLOW, NULL);
        plan_grant(&tp, t.ws, NONO_ACCESS_READWRITE, 0);
        plan_readonly(&tp, vscode);
        CU_ASSERT_EQUAL(prepare_with(&tp.plan, KNOB_ON, false), -EPERM);
        CU_ASSERT_PTR_NOT_NULL(strstr(fake.error, vscode));
        CU_ASSERT_PTR_NOT_NULL(strstr(fake.error, "does not exist"));
        CU_ASSERT_PTR_NOT_NULL(strstr(fake.error, "--allow-persistence"));

        /* A protected path missing inside a writable grant: refused, naming the path,
         * the grant and the ways out... */
        plan_init(&tp, NONO_NETWORK_ALLOW, NULL);
        plan_grant(&tp, t.home, NONO_ACCESS_READWRITE, 0);
        plan_deny(&tp, aws);
        CU_ASSERT_EQUAL(prepare_with(&tp.plan, KNOB_ON, false), -EPERM);
        CU_ASSERT_PTR_NOT_NULL(strstr(fake.error, aws));
        CU_ASSERT_PTR_NOT_NULL(strstr(fake.error, "inside the writable grant"));
        CU_ASSERT_PTR_NOT_NULL(strstr(fake.error, t.home));
        CU_ASSERT_PTR_NOT_NULL(strstr(fake.error, "does not exist"));
        CU_ASSERT_PTR_NOT_NULL(strstr(fake.error, "create it"));
        CU_ASSERT_PTR_NOT_NULL(strstr(fake.error, "seal_missing = 1"));
        /* ...or with seal_missing = 1 sealed, and said so.  Also without a namespace. */
        CU_ASSERT_EQUAL(prepare_with(&tp.plan, KNOB_ON, true), 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(fake.warnings, t.home));
        CU_ASSERT_PTR_NOT_NULL(strstr(fake.warnings, aws));
        CU_ASSERT_PTR_NOT_NULL(strstr(fake.warnings, "nothing can be created"));
        CU_ASSERT_EQUAL(prepare_with(&tp.plan, KNOB_OFF, false), -EPERM);
        CU_ASSERT_EQUAL(prepare_with(&tp.plan, KNOB_OFF, true), 0);

        /* A protected path missing inside a read-only grant: nothing can create it. */
        plan_init(&tp, NONO_NETWORK_ALLOW, NULL);
        plan_grant(&tp, t.ro, NONO_ACCESS_READ, 0);
        plan_deny(&tp, missing_ro);
        CU_ASSERT_EQUAL(prepare_with(&tp.plan, KNOB_ON, true), 0);
        CU_ASSERT_EQUAL(fake.warnings[0], '\0');

        /* Without a namespace: a mask or a read-only path is refused, naming the path. */
        plan_init(&tp, NONO_NETWORK_ALLOW, NULL);
        plan_grant(&tp, t.home, NONO_ACCESS_READWRITE, 0);
        plan_deny(&tp, t.ssh);
        CU_ASSERT_EQUAL(prepare_with(&tp.plan, KNOB_OFF, false), -ENOTSUP);
        CU_ASSERT_PTR_NOT_NULL(strstr(fake.error, t.ssh));
        CU_ASSERT_PTR_NOT_NULL(strstr(fake.error, "mount namespace"));
        CU_ASSERT_PTR_NOT_NULL(strstr(fake.error, "mount_namespace = 0"));

        plan_init(&tp, NONO_NETWORK_ALLOW, NULL);
        plan_grant(&tp, t.ws, NONO_ACCESS_READWRITE, 0);
        plan_readonly(&tp, t.hooks);
        CU_ASSERT_EQUAL(prepare_with(&tp.plan, KNOB_OFF, false), -ENOTSUP);
        CU_ASSERT_PTR_NOT_NULL(strstr(fake.error, t.hooks));
        CU_ASSERT_PTR_NOT_NULL(strstr(fake.error, "--allow-persistence"));

        /* A plan that needs nothing of it runs without. */
        plan_init(&tp, NONO_NETWORK_ALLOW, NULL);
        plan_grant(&tp, t.ws, NONO_ACCESS_READWRITE, 0);
        plan_deny(&tp, t.secret);
        CU_ASSERT_EQUAL(prepare_with(&tp.plan, KNOB_OFF, false), 0);

        /* A bad knob. */
        {
                struct plugin p;

                set_knobs(7, false);
                CU_ASSERT_EQUAL(plugin_open(&p), -EINVAL);
                fake_host_reset();
                CU_ASSERT_PTR_NOT_NULL(strstr(fake.error, "mount_namespace"));
        }
        tree_remove();
}

/* ---- escapes after apply (B01, B02, B03) ----------------------------------------------------- */

/* What nono's supervisor does after apply: drop every capability. */
static int drop_capabilities(void)
{
        struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
        struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

        memset(data, 0, sizeof(data));
        return (int)syscall(SYS_capset, &header, data);
}

static int write_proc(const char *path, const char *text)
{
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return -1;
        n = write(fd, text, strlen(text));
        close(fd);
        return n == (ssize_t)strlen(text) ? 0 : -1;
}

struct mount_attr_v0 {
        uint64_t attr_set, attr_clr, propagation, userns_fd;
};

static int child_escapes(void *arg)
{
        struct mount_attr_v0 clear_ro = {.attr_clr = 1 /* MOUNT_ATTR_RDONLY */};
        char ok[PATH_MAX], map[64];
        uid_t uid = getuid();
        gid_t gid = getgid();

        join(ok, t.objects, "ok");
        CHECK(1, try_write(ok, "OK\n") == 0, "write %s", ok);
        CHECK(2, drop_capabilities() == 0, "drop capabilities");
        /* As nono without its seccomp filter: a new user namespace, full capabilities in
         * it, and the sandbox's mounts copied in, locked. */
        if (unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0) {
                prctl(PR_SET_DUMPABLE, 1L, 0L, 0L, 0L);
                write_proc("/proc/self/setgroups", "deny");
                snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
                write_proc("/proc/self/uid_map", map);
                snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
                write_proc("/proc/self/gid_map", map);
        }
        CHECK(3, umount2(t.ssh, MNT_DETACH) < 0, "umount %s", t.ssh);
        CHECK(4, umount2(t.hooks, MNT_DETACH) < 0, "umount %s", t.hooks);
        CHECK(5, syscall(SYS_mount_setattr, AT_FDCWD, t.hooks, 0, &clear_ro, sizeof(clear_ro)) < 0,
              "mount_setattr %s", t.hooks);
        CHECK(6, syscall(SYS_mount_setattr, AT_FDCWD, "/", 0x8000, &clear_ro, sizeof(clear_ro)) < 0,
              "mount_setattr /");
        CHECK(7, mount("tmpfs", t.ws, "tmpfs", 0, NULL) < 0, "mount over %s", t.ws);
        CHECK(8, mount(t.ws, t.ro, NULL, MS_BIND, NULL) < 0, "bind %s", t.ws);
        CHECK(9, umount2("/proc", MNT_DETACH) < 0, "umount /proc");
        CHECK(10, try_open(t.secret, O_RDONLY) == -EACCES, "read %s", t.secret);
        CHECK(11, try_open(t.hook, O_WRONLY) < 0, "write %s", t.hook);
        CHECK(12, try_open(t.key, O_RDONLY) < 0, "read %s", t.key);
        CHECK(13, failed_with(chmod(t.secret, 0777), EROFS) || errno == EPERM, "chmod %s",
              t.secret);
        return 0;
}

static int scenario_escapes(void *arg)
{
        struct test_plan tp;

        plan_init(&tp, NONO_NETWORK_ALLOW, t.ws);
        plan_grant(&tp, t.ws, NONO_ACCESS_READWRITE, 0);
        plan_grant(&tp, t.home, NONO_ACCESS_READ, 0);
        plan_grant(&tp, t.ro, NONO_ACCESS_READ, 0);
        plan_deny(&tp, t.ssh);
        plan_readonly(&tp, t.hooks);
        return run_sandboxed(&tp.plan, child_escapes, NULL);
}

static void test_escapes(void)
{
        FOR_EACH_USER(nobody)
        {
                run_in_fresh_tree(nobody, scenario_escapes, NULL);
                CU_ASSERT_EQUAL(file_has(t.hook, HOOK_TEXT), 0);
                CU_ASSERT_EQUAL(mode_of(t.secret), 0644);
                tree_remove();
        }
}

/* ---- apply inside an applied sandbox ------------------------------------------------------- */

struct twice {
        struct plugin p;
        bool needed;
};

static int child_twice(void *arg)
{
        const struct twice *tw = arg;
        char ok[PATH_MAX];
        int r;

        join(ok, t.objects, "ok");
        CHECK(1, try_write(ok, "OK\n") == 0, "write %s", ok);
        r = tw->p.ops->apply(tw->p.state, tw->p.prepared);
        if (tw->needed) {
                /* Landlock denies the mounts: a plan that needs them fails, loudly. */
                CHECK(2, r < 0, "second apply returned %d", r);
                CHECK(3, strstr(fake.error, "mount") != NULL, "message: %s", fake.error);
        } else {
                /* One that does not runs on (as inside another nono). */
                CHECK(4, r == 0, "second apply returned %d: %s", r, fake.error);
                CHECK(5, try_write(ok, "OK\n") == 0, "write %s", ok);
        }
        return 0;
}

static int scenario_twice(void *arg)
{
        struct twice tw = {.needed = *(const bool *)arg};
        struct test_plan tp;
        pid_t pid;

        plan_init(&tp, NONO_NETWORK_ALLOW, NULL);
        plan_grant(&tp, t.ws, NONO_ACCESS_READWRITE, 0);
        if (tw.needed)
                plan_readonly(&tp, t.hooks);
        if (plugin_open(&tw.p) < 0 || plugin_prepare(&tw.p, &tp.plan) < 0)
                return RUN_PREPARE_FAILED;
        pid = fork_applied(&tw.p, child_twice, &tw);
        plugin_close(&tw.p);
        return wait_exit(pid);
}

static void test_apply_twice(void)
{
        static const bool needed[] = {false, true};

        for (size_t i = 0; i < 2; i++) {
                FOR_EACH_USER(nobody)
                {
                        run_in_fresh_tree(nobody, scenario_twice, (void *)&needed[i]);
                        tree_remove();
                }
        }
}

/* ---- render ------------------------------------------------------------------------------- */

static char *render(const struct nono_plan *plan, int knob, bool seal)
{
        struct plugin p;
        char *text = NULL;

        set_knobs(knob, seal);
        if (plugin_open(&p) == 0) {
                if (p.ops->render(p.state, plan, &text) < 0)
                        text = NULL;
                plugin_close(&p);
        }
        fake_host_reset();
        return text;
}

static bool has_line(const char *text, const char *fmt, ...) NONO_PRINTF(2, 3);

static bool has_line(const char *text, const char *fmt, ...)
{
        char line[2 * PATH_MAX + 256];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(line, sizeof(line), fmt, ap);
        va_end(ap);
        if (text && strstr(text, line))
                return true;
        fprintf(stderr, "not in the render: %s\n", line);
        return false;
}

static void test_render(void)
{
        char aws[PATH_MAX];
        struct test_plan tp;
        char *text;

        CU_ASSERT_FATAL(tree_make() == 0);
        join(aws, t.home, ".aws");
        plan_init(&tp, NONO_NETWORK_ALLOW, NULL);
        plan_grant(&tp, t.home, NONO_ACCESS_READWRITE, 0);
        plan_grant(&tp, t.ws, NONO_ACCESS_READWRITE, 0);
        plan_deny(&tp, t.ssh);
        plan_deny(&tp, t.netrc);
        plan_deny(&tp, aws);
        plan_readonly(&tp, t.hooks);
        text = render(&tp.plan, KNOB_ON, false);
        CU_ASSERT_PTR_NOT_NULL_FATAL(text);
        CU_ASSERT(has_line(text,
                           "  refused: cannot protect %s (test deny) inside the writable "
                           "grant %s (test): it does not exist",
                           aws, t.home));
        free(text);
        text = render(&tp.plan, KNOB_ON, true);
        CU_ASSERT_PTR_NOT_NULL_FATAL(text);
        CU_ASSERT(has_line(text, "  mount namespace: %s",
                           as_root ? "privileged" : "in a user namespace"));
        CU_ASSERT(has_line(text, "  writable %s (bind mount)\n", t.home));
        CU_ASSERT(has_line(text, "  masked %s: an empty read-only directory, inside grant %s\n",
                           t.ssh, t.home));
        CU_ASSERT(has_line(text, "  masked %s: an empty read-only file, inside grant %s\n", t.netrc,
                           t.home));
        CU_ASSERT(has_line(text, "  read-only %s inside the write grant %s\n", t.hooks, t.ws));
        CU_ASSERT(has_line(text, "  pinned %s (bind mount", t.git));
        CU_ASSERT(has_line(text, "  sealed %s: nothing can be created", t.home));
        CU_ASSERT(has_line(text, "since %s does not exist", aws));
        free(text);

        /* Without the namespace: said so, and what the plan is refused for. */
        text = render(&tp.plan, KNOB_OFF, true);
        CU_ASSERT_PTR_NOT_NULL_FATAL(text);
        CU_ASSERT(
            has_line(text, "  mount namespace: unavailable (mount_namespace = 0 in nono.conf)"));
        CU_ASSERT(has_line(text, "  refused: cannot hide the protected path %s", t.ssh));
        free(text);
        tree_remove();
}

/* /tmp and /dev/shm as write grants become private tmpfs; a user's grant below is carried. */
static void test_render_private_tmp(void)
{
        struct test_plan tp;
        char *text;

        plan_init(&tp, NONO_NETWORK_ALLOW, NULL);
        plan_grant(&tp, "/tmp", NONO_ACCESS_READWRITE, 0);
        plan_grant(&tp, "/dev/shm", NONO_ACCESS_READWRITE, 0);
        plan_grant(&tp, "/dev", NONO_ACCESS_READ, 0);
        text = render(&tp.plan, KNOB_ON, false);
        CU_ASSERT_PTR_NOT_NULL_FATAL(text);
        CU_ASSERT(has_line(text, "  private /tmp: an empty tmpfs of the sandbox's own"));
        CU_ASSERT(has_line(text, "  private /dev/shm: an empty tmpfs of the sandbox's own"));
        free(text);

        /* The working directory itself is /tmp: the user asked for the host's. */
        tp.plan.workdir = "/tmp";
        text = render(&tp.plan, KNOB_ON, false);
        CU_ASSERT_PTR_NOT_NULL_FATAL(text);
        CU_ASSERT_PTR_NULL(strstr(text, "private /tmp"));
        CU_ASSERT(has_line(text, "  private /dev/shm"));
        free(text);

        tp.plan.workdir = NULL;
        tp.plan.flags |= NONO_PLAN_SHARE_TMP;
        text = render(&tp.plan, KNOB_ON, false);
        CU_ASSERT_PTR_NOT_NULL_FATAL(text);
        CU_ASSERT_PTR_NULL(strstr(text, "private /"));
        free(text);
}

int main(void)
{
        static const struct test_case tests[] = {
            {"probe reports masking, and the knob turns it off", test_probe},
            {"protected dir and file inside a grant are masked", test_masks},
            {"chmod, utime, xattr, chown outside write grants: EROFS", test_metadata},
            {"mounts below a write grant: writable ones stay, read-only ones too", test_submounts},
            {"read-only paths: hooks and config kept, .git pinned (A13)", test_readonly_paths},
            {"missing protected paths, seal_missing = 1: directories sealed", test_sealed},
            {"a path replaced after prepare fails apply", test_replaced},
            {"refusals name the path", test_refusals},
            {"escapes after apply: umount, mount_setattr, mount, userns (B01-B03)", test_escapes},
            {"apply inside an applied sandbox", test_apply_twice},
            {"render", test_render},
            {"render: private /tmp and /dev/shm, --share-tmp", test_render_private_tmp},
        };
        return RUN_CUNIT("landlock mount namespace", suite_init, NULL, tests);
}
