/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Functional tests of the landlock enforcer, linked in statically
 * (-DNONO_PLUGIN_BUILTIN) and driven through a fake host.
 *
 * Each sandboxed check runs in a forked child: the parent prepares, the child applies
 * and probes the kernel, and reports through its exit status.  Every child starts with
 * a positive check and exits 0 only when all its checks held, so a child that failed to
 * apply or to run can never make a test pass.  Root bypasses file permissions, so a
 * denial seen here comes from Landlock.
 */

#include "cunit-main.h"
#include "fake-host.h"
#include "probes.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

/* ---- the test tree --------------------------------------------------------------------- */

static struct {
        char root[64];
        char ro[PATH_MAX];       /* granted read-only */
        char ro_file[PATH_MAX];  /* ro/f */
        char rw[PATH_MAX];       /* granted read-write */
        char rw_file[PATH_MAX];  /* rw/t */
        char out[PATH_MAX];      /* never granted */
        char secret[PATH_MAX];   /* out/secret */
        char files[PATH_MAX];    /* never granted as a whole */
        char file_a[PATH_MAX];   /* files/a, granted as a single file */
        char file_b[PATH_MAX];   /* files/b, its sibling */
        char link[PATH_MAX];     /* a symlink to ro */
        char via_link[PATH_MAX]; /* link/f */
} t;

#define FILE_TEXT "hello\n"

static int suite_init(void)
{
        /* Landlock alone: its EACCES would hide behind the namespace's EROFS
         * (the mount namespace has its own tests, test_mountns.c). */
        fake_host_set_int("mount_namespace", 0);
        strcpy(t.root, "/tmp/nono-landlock-test-XXXXXX");
        if (!mkdtemp(t.root))
                return -1;
        join(t.ro, t.root, "ro");
        join(t.ro_file, t.ro, "f");
        join(t.rw, t.root, "rw");
        join(t.rw_file, t.rw, "t");
        join(t.out, t.root, "out");
        join(t.secret, t.out, "secret");
        join(t.files, t.root, "files");
        join(t.file_a, t.files, "a");
        join(t.file_b, t.files, "b");
        join(t.link, t.root, "link");
        join(t.via_link, t.link, "f");
        if (mkdir(t.ro, 0755) || mkdir(t.rw, 0755) || mkdir(t.out, 0755) || mkdir(t.files, 0755))
                return -1;
        if (try_write(t.ro_file, FILE_TEXT) || try_write(t.rw_file, FILE_TEXT) ||
            try_write(t.secret, "secret\n") || try_write(t.file_a, FILE_TEXT) ||
            try_write(t.file_b, FILE_TEXT))
                return -1;
        return symlink(t.ro, t.link);
}

static int suite_cleanup(void)
{
        return remove_tree(t.root);
}

/* ---- probes used inside children -------------------------------------------------------- */

static int tcp_socket(void)
{
        return socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

/* 0 when a TCP connect to 127.0.0.1:port succeeds, else -errno. */
static int tcp_connect(uint16_t port)
{
        struct sockaddr_in sa = loopback(port);
        int fd = tcp_socket(), r = 0;

        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                r = -errno;
        close(fd);
        return r;
}

/* 0 when binding 127.0.0.1 with an ephemeral port succeeds, else -errno. */
static int tcp_bind_any(void)
{
        struct sockaddr_in sa = loopback(0);
        int fd = tcp_socket(), r = 0;

        if (fd < 0)
                return -errno;
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                r = -errno;
        close(fd);
        return r;
}

static socklen_t abstract_addr(struct sockaddr_un *sun, const char *name)
{
        memset(sun, 0, sizeof(*sun));
        sun->sun_family = AF_UNIX;
        /* sun_path[0] stays '\0': an abstract name. */
        snprintf(sun->sun_path + 1, sizeof(sun->sun_path) - 1, "%s-%d", name, (int)getpid());
        return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(sun->sun_path + 1));
}

/* A listening abstract Unix socket named after `name` and this process. */
static int abstract_listener(const char *name, struct sockaddr_un *sun, socklen_t *len)
{
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

        *len = abstract_addr(sun, name);
        if (fd < 0)
                return -1;
        if (bind(fd, (struct sockaddr *)sun, *len) < 0 || listen(fd, 8) < 0) {
                close(fd);
                return -1;
        }
        return fd;
}

static int unix_connect(const struct sockaddr_un *sun, socklen_t len)
{
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), r = 0;

        if (fd < 0)
                return -errno;
        if (connect(fd, (const struct sockaddr *)sun, len) < 0)
                r = -errno;
        close(fd);
        return r;
}

/* ---- filesystem ------------------------------------------------------------------------ */

static int child_read_grant(void *arg)
{
        CHECK(1, file_has(t.ro_file, FILE_TEXT) == 0, "read %s", t.ro_file);
        CHECK(2, try_open(t.ro, O_RDONLY | O_DIRECTORY) == 0, "list %s", t.ro);
        CHECK(3, try_open(t.secret, O_RDONLY) == -EACCES, "read %s", t.secret);
        CHECK(4, try_open(t.out, O_RDONLY | O_DIRECTORY) == -EACCES, "list %s", t.out);
        CHECK(5, try_open(t.root, O_RDONLY | O_DIRECTORY) == -EACCES, "list %s", t.root);
        return 0;
}

static void test_read_grant(void)
{
        struct test_plan tp;

        plan_init(&tp, NONO_NETWORK_ALLOW, t.root);
        plan_grant(&tp, t.ro, NONO_ACCESS_READ, 0);
        CU_ASSERT_EQUAL(run_sandboxed(&tp.plan, child_read_grant, NULL), 0);
}

static int child_write_read_only(void *arg)
{
        char created[PATH_MAX];

        join(created, t.ro, "created");
        CHECK(1, file_has(t.ro_file, FILE_TEXT) == 0, "read %s", t.ro_file);
        CHECK(2, try_open(t.ro_file, O_WRONLY) == -EACCES, "open %s for writing", t.ro_file);
        CHECK(3, try_open(t.ro_file, O_WRONLY | O_APPEND) == -EACCES, "append %s", t.ro_file);
        CHECK(4, try_open(created, O_WRONLY | O_CREAT | O_EXCL) == -EACCES, "create %s", created);
        CHECK(5, unlink(t.ro_file) < 0 && errno == EACCES, "unlink %s", t.ro_file);
        return 0;
}

static void test_write_under_read_grant(void)
{
        struct test_plan tp;

        plan_init(&tp, NONO_NETWORK_ALLOW, t.root);
        plan_grant(&tp, t.ro, NONO_ACCESS_READ, 0);
        CU_ASSERT_EQUAL(run_sandboxed(&tp.plan, child_write_read_only, NULL), 0);
        CU_ASSERT_EQUAL(file_has(t.ro_file, FILE_TEXT), 0);
}

#define CREATED_TEXT "made inside\n"

static int child_create(void *arg)
{
        const char *path = arg;

        CHECK(1, file_has(t.rw_file, FILE_TEXT) == 0, "read %s", t.rw_file);
        CHECK(2, try_write(path, CREATED_TEXT) == 0, "create %s", path);
        CHECK(3, file_has(path, CREATED_TEXT) == 0, "read back %s", path);
        return 0;
}

static void test_create_under_write_grant(void)
{
        struct test_plan tp;
        char created[PATH_MAX];

        join(created, t.rw, "created");
        plan_init(&tp, NONO_NETWORK_ALLOW, t.root);
        plan_grant(&tp, t.rw, NONO_ACCESS_READWRITE, 0);
        CU_ASSERT_EQUAL(run_sandboxed(&tp.plan, child_create, created), 0);
        /* Seen from outside the sandbox. */
        CU_ASSERT_EQUAL(file_has(created, CREATED_TEXT), 0);
}

static int child_truncate(void *arg)
{
        CHECK(1, truncate(t.rw_file, 0) == 0, "truncate %s", t.rw_file);
        CHECK(2, truncate(t.ro_file, 0) < 0 && errno == EACCES, "truncate %s", t.ro_file);
        CHECK(3, try_open(t.ro_file, O_RDONLY | O_TRUNC) == -EACCES, "O_TRUNC %s", t.ro_file);
        return 0;
}

static void test_truncate_read_only(void)
{
        struct test_plan tp;

        plan_init(&tp, NONO_NETWORK_ALLOW, t.root);
        plan_grant(&tp, t.ro, NONO_ACCESS_READ, 0);
        plan_grant(&tp, t.rw, NONO_ACCESS_READWRITE, 0);
        CU_ASSERT_EQUAL(run_sandboxed(&tp.plan, child_truncate, NULL), 0);
        CU_ASSERT_EQUAL(file_has(t.ro_file, FILE_TEXT), 0);
        CU_ASSERT_EQUAL(file_has(t.rw_file, ""), 0);
        try_write(t.rw_file, FILE_TEXT);
}

static int child_mknod(void *arg)
{
        char fifo[PATH_MAX], chr[PATH_MAX], blk[PATH_MAX];

        join(fifo, t.rw, "fifo");
        join(chr, t.rw, "null");
        join(blk, t.rw, "blk");
        CHECK(1, mkfifo(fifo, 0600) == 0, "mkfifo %s", fifo);
        CHECK(2, mknod(chr, S_IFCHR | 0666, makedev(1, 3)) < 0 && errno == EACCES, "mknod %s", chr);
        CHECK(3, mknod(blk, S_IFBLK | 0600, makedev(7, 0)) < 0 && errno == EACCES, "mknod %s", blk);
        return 0;
}

static void test_mknod_char_denied(void)
{
        struct test_plan tp;
        struct stat sb;
        char chr[PATH_MAX];

        join(chr, t.rw, "null");
        plan_init(&tp, NONO_NETWORK_ALLOW, t.root);
        plan_grant(&tp, t.rw, NONO_ACCESS_READWRITE, 0);
        CU_ASSERT_EQUAL(run_sandboxed(&tp.plan, child_mknod, NULL), 0);
        CU_ASSERT(lstat(chr, &sb) < 0 && errno == ENOENT);
}

static int child_file_grant(void *arg)
{
        CHECK(1, file_has(t.file_a, FILE_TEXT) == 0, "read %s", t.file_a);
        CHECK(2, try_open(t.file_b, O_RDONLY) == -EACCES, "read %s", t.file_b);
        CHECK(3, try_open(t.files, O_RDONLY | O_DIRECTORY) == -EACCES, "list %s", t.files);
        CHECK(4, try_open(t.file_a, O_WRONLY) == -EACCES, "write %s", t.file_a);
        return 0;
}

static void test_file_grant(void)
{
        struct test_plan tp;

        plan_init(&tp, NONO_NETWORK_ALLOW, t.root);
        plan_grant(&tp, t.file_a, NONO_ACCESS_READ, NONO_GRANT_FILE);
        CU_ASSERT_EQUAL(run_sandboxed(&tp.plan, child_file_grant, NULL), 0);
}

static int child_file_grant_rw(void *arg)
{
        CHECK(1, file_has(t.file_a, FILE_TEXT) == 0, "read %s", t.file_a);
        CHECK(2, try_open(t.file_a, O_WRONLY | O_APPEND) == 0, "append %s", t.file_a);
        CHECK(3, try_open(t.file_b, O_WRONLY) == -EACCES, "write %s", t.file_b);
        return 0;
}

/* A read-write grant on a file must drop the directory rights, or add_rule fails. */
static void test_file_grant_read_write(void)
{
        struct test_plan tp;

        plan_init(&tp, NONO_NETWORK_ALLOW, t.root);
        plan_grant(&tp, t.file_a, NONO_ACCESS_READWRITE, NONO_GRANT_FILE);
        /* Without the flag: the path's type decides. */
        plan_grant(&tp, t.file_a, NONO_ACCESS_READ, 0);
        CU_ASSERT_EQUAL(run_sandboxed(&tp.plan, child_file_grant_rw, NULL), 0);
}

/* ---- network and scopes ---------------------------------------------------------------- */

struct ports {
        uint16_t listed;   /* in tcp_connect_ports (or 0) */
        uint16_t unlisted; /* never listed */
};

static int child_tcp_blocked(void *arg)
{
        const struct ports *ports = arg;

        CHECK(1, file_has(t.ro_file, FILE_TEXT) == 0, "read %s", t.ro_file);
        CHECK(2, tcp_connect(ports->unlisted) == -EACCES, "connect to port %u",
              (unsigned)ports->unlisted);
        CHECK(3, tcp_bind_any() == -EACCES, "bind an ephemeral port");
        return 0;
}

static void test_tcp_blocked(void)
{
        struct test_plan tp;
        struct ports ports = {0};
        int fd = loopback_socket(SOCK_STREAM, &ports.unlisted);

        CU_ASSERT_FATAL(fd >= 0);
        /* The listener works from outside: a refusal inside is the sandbox's. */
        CU_ASSERT_EQUAL(tcp_connect(ports.unlisted), 0);
        plan_init(&tp, NONO_NETWORK_BLOCK, t.root);
        plan_grant(&tp, t.ro, NONO_ACCESS_READ, 0);
        CU_ASSERT_EQUAL(run_sandboxed(&tp.plan, child_tcp_blocked, &ports), 0);
        close(fd);
}

static int child_tcp_listed(void *arg)
{
        const struct ports *ports = arg;

        CHECK(1, tcp_connect(ports->listed) == 0, "connect to listed port %u",
              (unsigned)ports->listed);
        CHECK(2, tcp_connect(ports->unlisted) == -EACCES, "connect to unlisted port %u",
              (unsigned)ports->unlisted);
        return 0;
}

static void test_tcp_listed_port(void)
{
        struct test_plan tp;
        struct ports ports = {0};
        int listed = loopback_socket(SOCK_STREAM, &ports.listed);
        int unlisted = loopback_socket(SOCK_STREAM, &ports.unlisted);

        CU_ASSERT_FATAL(listed >= 0 && unlisted >= 0);
        plan_init(&tp, NONO_NETWORK_BLOCK, t.root);
        plan_connect(&tp, ports.listed);
        CU_ASSERT_EQUAL(run_sandboxed(&tp.plan, child_tcp_listed, &ports), 0);
        close(listed);
        close(unlisted);
}

struct abstract_name {
        struct sockaddr_un addr;
        socklen_t len;
};

static int child_scopes(void *arg)
{
        const struct abstract_name *outside = arg;
        struct abstract_name inside;
        int fd;

        CHECK(1, kill(getpid(), 0) == 0, "signal myself");
        CHECK(2, kill(getppid(), 0) < 0 && errno == EPERM, "signal the parent");
        fd = abstract_listener("nono-ll-inside", &inside.addr, &inside.len);
        CHECK(3, fd >= 0, "listen on an abstract socket inside");
        CHECK(4, unix_connect(&inside.addr, inside.len) == 0, "connect to the inside socket");
        CHECK(5, unix_connect(&outside->addr, outside->len) == -EPERM,
              "connect to the outside socket");
        close(fd);
        return 0;
}

static void test_scopes(void)
{
        struct test_plan tp;
        struct abstract_name outside;
        int fd = abstract_listener("nono-ll-outside", &outside.addr, &outside.len);

        CU_ASSERT_FATAL(fd >= 0);
        CU_ASSERT_EQUAL(unix_connect(&outside.addr, outside.len), 0);
        plan_init(&tp, NONO_NETWORK_ALLOW, t.root);
        CU_ASSERT_EQUAL(run_sandboxed(&tp.plan, child_scopes, &outside), 0);
        close(fd);
}

/* ---- fail closed ----------------------------------------------------------------------- */

static void test_old_abi_refuses_network_block(void)
{
        struct test_plan tp;

        plan_init(&tp, NONO_NETWORK_BLOCK, t.root);
        plan_grant(&tp, t.ro, NONO_ACCESS_READ, 0);
        fake_host_set_int("max_abi", 3);
        CU_ASSERT_EQUAL(prepare_only(&tp.plan), -ENOTSUP);
        CU_ASSERT_PTR_NOT_NULL(strstr(fake.error, "TCP"));
        CU_ASSERT_PTR_NOT_NULL(strstr(fake.error, "ABI 4"));
        CU_ASSERT_PTR_NOT_NULL(strstr(fake.error, "--best-effort"));
        /* ABI 6 lacks nothing the plan needs. */
        fake_host_set_int("max_abi", 6);
        CU_ASSERT_EQUAL(prepare_only(&tp.plan), 0);
        fake_host_set_int("max_abi", 5);
        CU_ASSERT_EQUAL(prepare_only(&tp.plan), -ENOTSUP);
        CU_ASSERT_PTR_NOT_NULL(strstr(fake.error, "ABI 6"));
        CU_ASSERT_PTR_NULL(strstr(fake.error, "TCP"));
}

static int child_best_effort(void *arg)
{
        const struct ports *ports = arg;

        CHECK(1, file_has(t.ro_file, FILE_TEXT) == 0, "read %s", t.ro_file);
        CHECK(2, try_open(t.secret, O_RDONLY) == -EACCES, "read %s", t.secret);
        /* ABI 3 has no TCP rules: best effort really runs without them. */
        CHECK(3, tcp_connect(ports->unlisted) == 0, "connect to port %u",
              (unsigned)ports->unlisted);
        return 0;
}

static void test_best_effort_runs_loudly(void)
{
        struct test_plan tp;
        struct ports ports = {0};
        int fd = loopback_socket(SOCK_STREAM, &ports.unlisted);

        CU_ASSERT_FATAL(fd >= 0);
        plan_init(&tp, NONO_NETWORK_BLOCK, t.root);
        tp.plan.flags = NONO_PLAN_BEST_EFFORT;
        plan_grant(&tp, t.ro, NONO_ACCESS_READ, 0);
        fake_host_set_int("max_abi", 3);
        CU_ASSERT_EQUAL(run_sandboxed(&tp.plan, child_best_effort, &ports), 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(fake.warnings, "BEST EFFORT"));
        CU_ASSERT_PTR_NOT_NULL(strstr(fake.warnings, "TCP"));
        close(fd);
}

static void test_symlink_grant_refused(void)
{
        struct test_plan tp;

        plan_init(&tp, NONO_NETWORK_ALLOW, t.root);
        plan_grant(&tp, t.link, NONO_ACCESS_READ, 0);
        CU_ASSERT_EQUAL(prepare_only(&tp.plan), -ELOOP);
        CU_ASSERT_PTR_NOT_NULL(strstr(fake.error, t.link));
        CU_ASSERT_PTR_NOT_NULL(strstr(fake.error, "symbolic link"));

        /* A link in the middle of the path is refused too. */
        plan_init(&tp, NONO_NETWORK_ALLOW, t.root);
        plan_grant(&tp, t.via_link, NONO_ACCESS_READ, NONO_GRANT_FILE);
        CU_ASSERT_EQUAL(prepare_only(&tp.plan), -ELOOP);
        CU_ASSERT_PTR_NOT_NULL(strstr(fake.error, t.via_link));
}

static void test_bad_grants_refused(void)
{
        struct test_plan tp;
        char missing[PATH_MAX];

        join(missing, t.root, "missing");
        plan_init(&tp, NONO_NETWORK_ALLOW, t.root);
        plan_grant(&tp, missing, NONO_ACCESS_READ, 0);
        CU_ASSERT_EQUAL(prepare_only(&tp.plan), -ENOENT);
        CU_ASSERT_PTR_NOT_NULL(strstr(fake.error, missing));

        /* A single-file grant must not turn into a whole tree. */
        plan_init(&tp, NONO_NETWORK_ALLOW, t.root);
        plan_grant(&tp, t.ro, NONO_ACCESS_READ, NONO_GRANT_FILE);
        CU_ASSERT_EQUAL(prepare_only(&tp.plan), -EINVAL);
        CU_ASSERT_PTR_NOT_NULL(strstr(fake.error, t.ro));

        plan_init(&tp, NONO_NETWORK_ALLOW, t.root);
        plan_grant(&tp, "tmp", NONO_ACCESS_READ, 0);
        CU_ASSERT_EQUAL(prepare_only(&tp.plan), -EINVAL);

        plan_init(&tp, NONO_NETWORK_ALLOW, t.root);
        plan_grant(&tp, t.ro, 0, 0);
        CU_ASSERT_EQUAL(prepare_only(&tp.plan), -EINVAL);
        plan_init(&tp, NONO_NETWORK_ALLOW, t.root);
        plan_grant(&tp, t.ro, NONO_ACCESS_READ | (1u << 7), 0);
        CU_ASSERT_EQUAL(prepare_only(&tp.plan), -EINVAL);

        /* A plan from a host that does not fill in sizes. */
        plan_init(&tp, NONO_NETWORK_ALLOW, t.root);
        tp.plan.size = 8;
        CU_ASSERT_EQUAL(prepare_only(&tp.plan), -EINVAL);
}

static void test_apply_without_ruleset_fails(void)
{
        struct plugin p;

        CU_ASSERT_FATAL(plugin_open(&p) == 0);
        /* Returns before touching the process, so it is safe in the test process. */
        CU_ASSERT_EQUAL(p.ops->apply(p.state, NULL), -EINVAL);
        CU_ASSERT_PTR_NOT_NULL(strstr(fake.error, "landlock"));
        plugin_close(&p);
}

/* Stacks the same ruleset until the kernel refuses: apply must report it, not crash. */
static int child_nesting(void *arg)
{
        const struct plugin *p = arg;
        int layers = 1, r = 0; /* fork_applied applied the first */

        while (layers < 32 && (r = p->ops->apply(p->state, p->prepared)) == 0)
                layers++;
        CHECK(1, file_has(t.ro_file, FILE_TEXT) == 0, "read %s", t.ro_file);
        CHECK(2, r == -E2BIG, "layer %d: apply returned %d", layers + 1, r);
        CHECK(3, strstr(fake.error, "nested") != NULL, "message: %s", fake.error);
        CHECK(4, try_open(t.secret, O_RDONLY) == -EACCES, "read %s", t.secret);
        return 0;
}

static void test_apply_reports_nesting_limit(void)
{
        struct test_plan tp;
        struct plugin p;
        pid_t pid;

        plan_init(&tp, NONO_NETWORK_ALLOW, t.root);
        plan_grant(&tp, t.ro, NONO_ACCESS_READ, 0);
        CU_ASSERT_FATAL(plugin_open(&p) == 0);
        CU_ASSERT_FATAL(plugin_prepare(&p, &tp.plan) == 0);
        pid = fork_applied(&p, child_nesting, &p);
        plugin_close(&p);
        CU_ASSERT_FATAL(pid > 0);
        CU_ASSERT_EQUAL(wait_exit(pid), 0);
}

/* ---- probe and render ------------------------------------------------------------------ */

static void test_probe(void)
{
        struct nono_enforcer_info info = {.size = sizeof(info)};
        struct plugin p;

        CU_ASSERT_FATAL(plugin_open(&p) == 0);
        CU_ASSERT_EQUAL(p.ops->probe(p.state, &info), 0);
        CU_ASSERT(info.abi >= 1);
        CU_ASSERT(info.features & 1u);
        CU_ASSERT_EQUAL(strncmp(info.summary, "Landlock ABI ", 13), 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(info.summary, "filesystem"));
        /* ABI 7 can have the command's denials audited. */
        CU_ASSERT_EQUAL(!!(info.capabilities & NONO_ENFORCER_CAP_AUDIT_RECORDS), info.abi >= 7);
        plugin_close(&p);

        memset(&info, 0, sizeof(info));
        info.size = sizeof(info);
        fake_host_set_int("max_abi", 2);
        CU_ASSERT_FATAL(plugin_open(&p) == 0);
        CU_ASSERT_EQUAL(p.ops->probe(p.state, &info), 0);
        CU_ASSERT_EQUAL(info.abi, 2);
        CU_ASSERT_PTR_NOT_NULL(strstr(info.summary, "refer"));
        CU_ASSERT_PTR_NULL(strstr(info.summary, "truncate"));
        CU_ASSERT_FALSE(info.capabilities & NONO_ENFORCER_CAP_AUDIT_RECORDS);
        plugin_close(&p);

        fake_host_set_int("max_abi", 0);
        CU_ASSERT_FATAL(plugin_open(&p) == 0);
        CU_ASSERT_EQUAL(p.ops->probe(p.state, &info), -ENOTSUP);
        CU_ASSERT_PTR_NOT_NULL(strstr(fake.error, "max_abi"));
        plugin_close(&p);

        fake_host_set_int("max_abi", -1);
        CU_ASSERT_EQUAL(plugin_open(&p), -EINVAL);
        CU_ASSERT_PTR_NOT_NULL(strstr(fake.error, "max_abi"));
}

static void test_render(void)
{
        struct test_plan tp;
        struct plugin p;
        char *text = NULL;
        char line[2 * PATH_MAX + 64];

        plan_init(&tp, NONO_NETWORK_BLOCK, t.root);
        plan_grant(&tp, t.ro, NONO_ACCESS_READ, 0);
        plan_grant(&tp, t.file_a, NONO_ACCESS_READWRITE, NONO_GRANT_FILE);
        plan_connect(&tp, 443);
        plan_deny(&tp, t.secret);
        CU_ASSERT_FATAL(plugin_open(&p) == 0);
        CU_ASSERT_FATAL(p.ops->render(p.state, &tp.plan, &text) == 0);
        CU_ASSERT_EQUAL(strncmp(text, "Landlock ABI ", 13), 0);
        snprintf(line, sizeof(line), "allow %s: execute read-file read-dir ", t.ro);
        CU_ASSERT_PTR_NOT_NULL(strstr(text, line));
        snprintf(line, sizeof(line), "allow %s: execute write-file read-file truncate ioctl-dev ",
                 t.file_a);
        CU_ASSERT_PTR_NOT_NULL(strstr(text, line));
        CU_ASSERT_PTR_NOT_NULL(strstr(text, "handled network rights: bind-tcp connect-tcp\n"));
        CU_ASSERT_PTR_NOT_NULL(strstr(text, "allow tcp connect to port 443\n"));
        CU_ASSERT_PTR_NOT_NULL(strstr(text, "scopes: abstract-unix-socket signal\n"));
        CU_ASSERT_PTR_NOT_NULL(strstr(text, "protected paths outside every grant: 1, denied\n"));
        free(text);
        plugin_close(&p);

        /* A protected path inside a grant, and what the plan would be refused for. */
        plan_init(&tp, NONO_NETWORK_BLOCK, t.root);
        plan_grant(&tp, t.ro, NONO_ACCESS_READ, 0);
        plan_deny(&tp, t.ro_file);
        fake_host_set_int("max_abi", 3);
        CU_ASSERT_FATAL(plugin_open(&p) == 0);
        CU_ASSERT_FATAL(p.ops->render(p.state, &tp.plan, &text) == 0);
        snprintf(line, sizeof(line), "protected %s: inside grant %s, not enforced", t.ro_file,
                 t.ro);
        CU_ASSERT_PTR_NOT_NULL(strstr(text, line));
        CU_ASSERT_PTR_NOT_NULL(strstr(text, "refused: "));
        CU_ASSERT_PTR_NOT_NULL(strstr(text, "ABI 4"));
        free(text);
        plugin_close(&p);
}

int main(void)
{
        static const struct test_case tests[] = {
            {"read grant: granted dir readable, outside denied", test_read_grant},
            {"write under a read-only grant denied", test_write_under_read_grant},
            {"create under a write grant, visible outside", test_create_under_write_grant},
            {"truncate of a read-only file denied", test_truncate_read_only},
            {"mknod of device nodes denied under a write grant", test_mknod_char_denied},
            {"file grant: the file only, not its sibling", test_file_grant},
            {"read-write file grant gets file rights only", test_file_grant_read_write},
            {"network block: TCP connect and bind denied", test_tcp_blocked},
            {"network block: a listed port is reachable", test_tcp_listed_port},
            {"scopes: signals and abstract sockets stay inside", test_scopes},
            {"max_abi 3: network block refused", test_old_abi_refuses_network_block},
            {"max_abi 3: best effort runs, loudly", test_best_effort_runs_loudly},
            {"symlink grant refused", test_symlink_grant_refused},
            {"bad grants refused", test_bad_grants_refused},
            {"apply without a ruleset fails", test_apply_without_ruleset_fails},
            {"apply reports the nesting limit", test_apply_reports_nesting_limit},
            {"probe and the max_abi knob", test_probe},
            {"render", test_render},
        };
        return RUN_CUNIT("landlock enforcer", suite_init, suite_cleanup, tests);
}
