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
#include <nono/enforcer.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

const struct nono_plugin_desc *nono_plugin_query_landlock(void);

#define NO_MAX_ABI LLONG_MIN /* the knob is absent from the configuration */

/* ---- fake host ------------------------------------------------------------------------ */

static struct {
        char error[1024];
        char warnings[4096];
        long long max_abi;
} fake;

static void fake_log(void *ctx, int level, const char *fmt, ...) NONO_PRINTF(3, 4);
static void fake_log(void *ctx, int level, const char *fmt, ...)
{
        size_t len = strlen(fake.warnings);
        va_list ap;

        if (level != NONO_LOG_WARNING || len + 1 >= sizeof(fake.warnings))
                return;
        va_start(ap, fmt);
        vsnprintf(fake.warnings + len, sizeof(fake.warnings) - len, fmt, ap);
        va_end(ap);
        len = strlen(fake.warnings);
        if (len + 1 < sizeof(fake.warnings))
                strcat(fake.warnings, "\n");
}

static void fake_set_error(void *ctx, const char *fmt, ...) NONO_PRINTF(2, 3);
static void fake_set_error(void *ctx, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(fake.error, sizeof(fake.error), fmt, ap);
        va_end(ap);
}

static void *fake_alloc(void *ctx, size_t size)
{
        return malloc(size);
}

static void fake_free(void *ctx, void *ptr)
{
        free(ptr);
}

static int fake_config_int(void *ctx, const char *key, long long *ret_value)
{
        /* Landlock alone: its EACCES would hide behind the namespace's EROFS
         * (the mount namespace has its own tests, test_mountns.c). */
        if (strcmp(key, "mount_namespace") == 0) {
                *ret_value = 0;
                return 0;
        }
        if (strcmp(key, "max_abi") != 0 || fake.max_abi == NO_MAX_ABI)
                return -ENOENT;
        *ret_value = fake.max_abi;
        return 0;
}

static const struct nono_host host = {
    .size = sizeof(struct nono_host),
    .abi_major = NONO_PLUGIN_ABI_MAJOR,
    .abi_minor = NONO_PLUGIN_ABI_MINOR,
    .log = fake_log,
    .set_error = fake_set_error,
    .alloc = fake_alloc,
    .free = fake_free,
    .config_int = fake_config_int,
};

/* ---- the plugin under test ------------------------------------------------------------- */

struct plugin {
        const struct nono_enforcer_ops *ops;
        void *state;
};

static int plugin_open(long long max_abi, struct plugin *p)
{
        const struct nono_plugin_desc *d = nono_plugin_query_landlock();

        memset(&fake, 0, sizeof(fake));
        fake.max_abi = max_abi;
        p->ops = d->ops;
        p->state = NULL;
        return d->init(&host, &p->state);
}

static void plugin_close(struct plugin *p)
{
        nono_plugin_query_landlock()->fini(p->state);
}

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

static void join(char *buf, const char *dir, const char *name)
{
        int n = snprintf(buf, PATH_MAX, "%s/%s", dir, name);

        /* Our paths are short; a truncated one would test the wrong file. */
        if (n < 0 || n >= PATH_MAX)
                abort();
}

static int write_file(const char *path, const char *text)
{
        FILE *f = fopen(path, "w");

        if (!f)
                return -1;
        fputs(text, f);
        return fclose(f);
}

/* 0 when the file holds exactly `text`. */
static int file_has(const char *path, const char *text)
{
        char buf[256] = {0};
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return -errno;
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n < 0)
                return -EIO;
        return strcmp(buf, text) == 0 ? 0 : -EBADMSG;
}

static int suite_init(void)
{
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
        if (write_file(t.ro_file, FILE_TEXT) || write_file(t.rw_file, FILE_TEXT) ||
            write_file(t.secret, "secret\n") || write_file(t.file_a, FILE_TEXT) ||
            write_file(t.file_b, FILE_TEXT))
                return -1;
        return symlink(t.ro, t.link);
}

static int remove_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
        return remove(path);
}

static int suite_cleanup(void)
{
        return nftw(t.root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- plans ----------------------------------------------------------------------------- */

#define MAX_GRANTS 8
#define MAX_PORTS  4

struct test_plan {
        struct nono_plan plan;
        struct nono_grant grants[MAX_GRANTS];
        const struct nono_grant *grant_ptrs[MAX_GRANTS];
        struct nono_deny deny;
        const struct nono_deny *deny_ptr;
        uint16_t connect[MAX_PORTS];
        uint16_t bind[MAX_PORTS];
};

static void plan_init(struct test_plan *tp, uint32_t network_mode)
{
        memset(tp, 0, sizeof(*tp));
        tp->plan.size = sizeof(tp->plan);
        tp->plan.grants = tp->grant_ptrs;
        tp->plan.network_mode = network_mode;
        tp->plan.tcp_connect_ports = tp->connect;
        tp->plan.tcp_bind_ports = tp->bind;
        tp->plan.workdir = t.root;
}

static void plan_grant(struct test_plan *tp, const char *path, uint32_t access, uint32_t flags)
{
        struct nono_grant *g = &tp->grants[tp->plan.n_grants];

        *g = (struct nono_grant){sizeof(*g), access, flags, path, "test"};
        tp->grant_ptrs[tp->plan.n_grants++] = g;
}

static void plan_deny(struct test_plan *tp, const char *path)
{
        tp->deny = (struct nono_deny){sizeof(tp->deny), path, "test"};
        tp->deny_ptr = &tp->deny;
        tp->plan.denies = &tp->deny_ptr;
        tp->plan.n_denies = 1;
}

static void plan_connect(struct test_plan *tp, uint16_t port)
{
        tp->connect[tp->plan.n_tcp_connect_ports++] = port;
}

/* ---- running a check in a sandboxed child ---------------------------------------------- */

typedef int (*child_fn)(void *arg);

#define CHILD_APPLY_FAILED 100

/* Inside a child: report and return `code` unless `cond` holds. */
#define CHECK(code, cond, ...)                                                                     \
        do {                                                                                       \
                if (!(cond)) {                                                                     \
                        fprintf(stderr, "child check %d failed (errno %d): ", code, errno);        \
                        fprintf(stderr, __VA_ARGS__);                                              \
                        fputc('\n', stderr);                                                       \
                        return code;                                                               \
                }                                                                                  \
        } while (0)

static void child_run(struct plugin *p, void *prepared, child_fn fn, void *arg)
{
        if (p->ops->apply(p->state, prepared) < 0) {
                fprintf(stderr, "apply failed: %s\n", fake.error);
                _exit(CHILD_APPLY_FAILED);
        }
        _exit(fn(arg));
}

/*
 * Prepares `plan`, applies it in a child which then runs `fn`; returns the child's exit
 * code, or -1 when preparing, forking or the child itself failed.
 */
static int run_sandboxed(const struct nono_plan *plan, long long max_abi, child_fn fn, void *arg)
{
        struct plugin p;
        void *prepared = NULL;
        int status;
        pid_t pid;

        if (plugin_open(max_abi, &p) < 0)
                return -1;
        if (p.ops->prepare(p.state, plan, &prepared) < 0) {
                fprintf(stderr, "prepare failed: %s\n", fake.error);
                plugin_close(&p);
                return -1;
        }
        fflush(NULL);
        pid = fork();
        if (pid == 0)
                child_run(&p, prepared, fn, arg);
        p.ops->release(p.state, prepared);
        plugin_close(&p);
        if (pid < 0 || waitpid(pid, &status, 0) != pid)
                return -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* ---- probes used inside children -------------------------------------------------------- */

/* 0 when the file can be opened with `flags`, else -errno. */
static int try_open(const char *path, int flags)
{
        int fd = open(path, flags | O_CLOEXEC, 0644);

        if (fd < 0)
                return -errno;
        close(fd);
        return 0;
}

static int tcp_socket(void)
{
        return socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

static struct sockaddr_in loopback(uint16_t port)
{
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};

        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return sa;
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

/* A listener on 127.0.0.1 with an ephemeral port (parent side). */
static int tcp_listener(uint16_t *ret_port)
{
        struct sockaddr_in sa = loopback(0);
        socklen_t len = sizeof(sa);
        int fd = tcp_socket();

        if (fd < 0)
                return -1;
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0 ||
            getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
                close(fd);
                return -1;
        }
        *ret_port = ntohs(sa.sin_port);
        return fd;
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

        plan_init(&tp, NONO_NETWORK_ALLOW);
        plan_grant(&tp, t.ro, NONO_ACCESS_READ, 0);
        CU_ASSERT_EQUAL(run_sandboxed(&tp.plan, NO_MAX_ABI, child_read_grant, NULL), 0);
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

        plan_init(&tp, NONO_NETWORK_ALLOW);
        plan_grant(&tp, t.ro, NONO_ACCESS_READ, 0);
        CU_ASSERT_EQUAL(run_sandboxed(&tp.plan, NO_MAX_ABI, child_write_read_only, NULL), 0);
        CU_ASSERT_EQUAL(file_has(t.ro_file, FILE_TEXT), 0);
}

#define CREATED_TEXT "made inside\n"

static int child_create(void *arg)
{
        const char *path = arg;

        CHECK(1, file_has(t.rw_file, FILE_TEXT) == 0, "read %s", t.rw_file);
        CHECK(2, write_file(path, CREATED_TEXT) == 0, "create %s", path);
        CHECK(3, file_has(path, CREATED_TEXT) == 0, "read back %s", path);
        return 0;
}

static void test_create_under_write_grant(void)
{
        struct test_plan tp;
        char created[PATH_MAX];

        join(created, t.rw, "created");
        plan_init(&tp, NONO_NETWORK_ALLOW);
        plan_grant(&tp, t.rw, NONO_ACCESS_READWRITE, 0);
        CU_ASSERT_EQUAL(run_sandboxed(&tp.plan, NO_MAX_ABI, child_create, created), 0);
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

        plan_init(&tp, NONO_NETWORK_ALLOW);
        plan_grant(&tp, t.ro, NONO_ACCESS_READ, 0);
        plan_grant(&tp, t.rw, NONO_ACCESS_READWRITE, 0);
        CU_ASSERT_EQUAL(run_sandboxed(&tp.plan, NO_MAX_ABI, child_truncate, NULL), 0);
        CU_ASSERT_EQUAL(file_has(t.ro_file, FILE_TEXT), 0);
        CU_ASSERT_EQUAL(file_has(t.rw_file, ""), 0);
        write_file(t.rw_file, FILE_TEXT);
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
        plan_init(&tp, NONO_NETWORK_ALLOW);
        plan_grant(&tp, t.rw, NONO_ACCESS_READWRITE, 0);
        CU_ASSERT_EQUAL(run_sandboxed(&tp.plan, NO_MAX_ABI, child_mknod, NULL), 0);
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

        plan_init(&tp, NONO_NETWORK_ALLOW);
        plan_grant(&tp, t.file_a, NONO_ACCESS_READ, NONO_GRANT_FILE);
        CU_ASSERT_EQUAL(run_sandboxed(&tp.plan, NO_MAX_ABI, child_file_grant, NULL), 0);
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

        plan_init(&tp, NONO_NETWORK_ALLOW);
        plan_grant(&tp, t.file_a, NONO_ACCESS_READWRITE, NONO_GRANT_FILE);
        /* Without the flag: the path's type decides. */
        plan_grant(&tp, t.file_a, NONO_ACCESS_READ, 0);
        CU_ASSERT_EQUAL(run_sandboxed(&tp.plan, NO_MAX_ABI, child_file_grant_rw, NULL), 0);
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
        int fd = tcp_listener(&ports.unlisted);

        CU_ASSERT_FATAL(fd >= 0);
        /* The listener works from outside: a refusal inside is the sandbox's. */
        CU_ASSERT_EQUAL(tcp_connect(ports.unlisted), 0);
        plan_init(&tp, NONO_NETWORK_BLOCK);
        plan_grant(&tp, t.ro, NONO_ACCESS_READ, 0);
        CU_ASSERT_EQUAL(run_sandboxed(&tp.plan, NO_MAX_ABI, child_tcp_blocked, &ports), 0);
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
        int listed = tcp_listener(&ports.listed);
        int unlisted = tcp_listener(&ports.unlisted);

        CU_ASSERT_FATAL(listed >= 0 && unlisted >= 0);
        plan_init(&tp, NONO_NETWORK_BLOCK);
        plan_connect(&tp, ports.listed);
        CU_ASSERT_EQUAL(run_sandboxed(&tp.plan, NO_MAX_ABI, child_tcp_listed, &ports), 0);
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
        plan_init(&tp, NONO_NETWORK_ALLOW);
        CU_ASSERT_EQUAL(run_sandboxed(&tp.plan, NO_MAX_ABI, child_scopes, &outside), 0);
        close(fd);
}

/* ---- fail closed ----------------------------------------------------------------------- */

/* Prepares `plan` and returns prepare's result, keeping the message in fake.error. */
static int prepare_only(const struct nono_plan *plan, long long max_abi)
{
        struct plugin p;
        void *prepared = NULL;
        int r = plugin_open(max_abi, &p);

        if (r < 0)
                return r;
        r = p.ops->prepare(p.state, plan, &prepared);
        p.ops->release(p.state, r < 0 ? NULL : prepared);
        plugin_close(&p);
        return r;
}

static void test_old_abi_refuses_network_block(void)
{
        struct test_plan tp;

        plan_init(&tp, NONO_NETWORK_BLOCK);
        plan_grant(&tp, t.ro, NONO_ACCESS_READ, 0);
        CU_ASSERT_EQUAL(prepare_only(&tp.plan, 3), -ENOTSUP);
        CU_ASSERT_PTR_NOT_NULL(strstr(fake.error, "TCP"));
        CU_ASSERT_PTR_NOT_NULL(strstr(fake.error, "ABI 4"));
        CU_ASSERT_PTR_NOT_NULL(strstr(fake.error, "--best-effort"));
        /* ABI 6 lacks nothing the plan needs. */
        CU_ASSERT_EQUAL(prepare_only(&tp.plan, 6), 0);
        CU_ASSERT_EQUAL(prepare_only(&tp.plan, 5), -ENOTSUP);
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
        int fd = tcp_listener(&ports.unlisted);

        CU_ASSERT_FATAL(fd >= 0);
        plan_init(&tp, NONO_NETWORK_BLOCK);
        tp.plan.flags = NONO_PLAN_BEST_EFFORT;
        plan_grant(&tp, t.ro, NONO_ACCESS_READ, 0);
        CU_ASSERT_EQUAL(run_sandboxed(&tp.plan, 3, child_best_effort, &ports), 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(fake.warnings, "BEST EFFORT"));
        CU_ASSERT_PTR_NOT_NULL(strstr(fake.warnings, "TCP"));
        close(fd);
}

static void test_symlink_grant_refused(void)
{
        struct test_plan tp;

        plan_init(&tp, NONO_NETWORK_ALLOW);
        plan_grant(&tp, t.link, NONO_ACCESS_READ, 0);
        CU_ASSERT_EQUAL(prepare_only(&tp.plan, NO_MAX_ABI), -ELOOP);
        CU_ASSERT_PTR_NOT_NULL(strstr(fake.error, t.link));
        CU_ASSERT_PTR_NOT_NULL(strstr(fake.error, "symbolic link"));

        /* A link in the middle of the path is refused too. */
        plan_init(&tp, NONO_NETWORK_ALLOW);
        plan_grant(&tp, t.via_link, NONO_ACCESS_READ, NONO_GRANT_FILE);
        CU_ASSERT_EQUAL(prepare_only(&tp.plan, NO_MAX_ABI), -ELOOP);
        CU_ASSERT_PTR_NOT_NULL(strstr(fake.error, t.via_link));
}

static void test_bad_grants_refused(void)
{
        struct test_plan tp;
        char missing[PATH_MAX];

        join(missing, t.root, "missing");
        plan_init(&tp, NONO_NETWORK_ALLOW);
        plan_grant(&tp, missing, NONO_ACCESS_READ, 0);
        CU_ASSERT_EQUAL(prepare_only(&tp.plan, NO_MAX_ABI), -ENOENT);
        CU_ASSERT_PTR_NOT_NULL(strstr(fake.error, missing));

        /* A single-file grant must not turn into a whole tree. */
        plan_init(&tp, NONO_NETWORK_ALLOW);
        plan_grant(&tp, t.ro, NONO_ACCESS_READ, NONO_GRANT_FILE);
        CU_ASSERT_EQUAL(prepare_only(&tp.plan, NO_MAX_ABI), -EINVAL);
        CU_ASSERT_PTR_NOT_NULL(strstr(fake.error, t.ro));

        plan_init(&tp, NONO_NETWORK_ALLOW);
        plan_grant(&tp, "tmp", NONO_ACCESS_READ, 0);
        CU_ASSERT_EQUAL(prepare_only(&tp.plan, NO_MAX_ABI), -EINVAL);

        plan_init(&tp, NONO_NETWORK_ALLOW);
        plan_grant(&tp, t.ro, 0, 0);
        CU_ASSERT_EQUAL(prepare_only(&tp.plan, NO_MAX_ABI), -EINVAL);
        plan_init(&tp, NONO_NETWORK_ALLOW);
        plan_grant(&tp, t.ro, NONO_ACCESS_READ | (1u << 7), 0);
        CU_ASSERT_EQUAL(prepare_only(&tp.plan, NO_MAX_ABI), -EINVAL);

        /* A plan from a host that does not fill in sizes. */
        plan_init(&tp, NONO_NETWORK_ALLOW);
        tp.plan.size = 8;
        CU_ASSERT_EQUAL(prepare_only(&tp.plan, NO_MAX_ABI), -EINVAL);
}

static void test_apply_without_ruleset_fails(void)
{
        struct plugin p;

        CU_ASSERT_FATAL(plugin_open(NO_MAX_ABI, &p) == 0);
        /* Returns before touching the process, so it is safe in the test process. */
        CU_ASSERT_EQUAL(p.ops->apply(p.state, NULL), -EINVAL);
        CU_ASSERT_PTR_NOT_NULL(strstr(fake.error, "landlock"));
        plugin_close(&p);
}

struct nesting {
        struct plugin *plugin;
        void *prepared;
};

/* Stacks the same ruleset until the kernel refuses: apply must report it, not crash. */
static int child_nesting(void *arg)
{
        const struct nesting *n = arg;
        int layers = 1, r = 0; /* child_run applied the first */

        while (layers < 32 && (r = n->plugin->ops->apply(n->plugin->state, n->prepared)) == 0)
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
        struct nesting n = {&p, NULL};
        int status;
        pid_t pid;

        plan_init(&tp, NONO_NETWORK_ALLOW);
        plan_grant(&tp, t.ro, NONO_ACCESS_READ, 0);
        CU_ASSERT_FATAL(plugin_open(NO_MAX_ABI, &p) == 0);
        CU_ASSERT_FATAL(p.ops->prepare(p.state, &tp.plan, &n.prepared) == 0);
        fflush(NULL);
        pid = fork();
        if (pid == 0)
                child_run(&p, n.prepared, child_nesting, &n);
        p.ops->release(p.state, n.prepared);
        plugin_close(&p);
        CU_ASSERT_FATAL(pid > 0 && waitpid(pid, &status, 0) == pid);
        CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* ---- probe and render ------------------------------------------------------------------ */

static void test_probe(void)
{
        struct nono_enforcer_info info = {.size = sizeof(info)};
        struct plugin p;

        CU_ASSERT_FATAL(plugin_open(NO_MAX_ABI, &p) == 0);
        CU_ASSERT_EQUAL(p.ops->probe(p.state, &info), 0);
        CU_ASSERT(info.abi >= 1);
        CU_ASSERT(info.features & 1u);
        CU_ASSERT_EQUAL(strncmp(info.summary, "Landlock ABI ", 13), 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(info.summary, "filesystem"));
        plugin_close(&p);

        memset(&info, 0, sizeof(info));
        info.size = sizeof(info);
        CU_ASSERT_FATAL(plugin_open(2, &p) == 0);
        CU_ASSERT_EQUAL(p.ops->probe(p.state, &info), 0);
        CU_ASSERT_EQUAL(info.abi, 2);
        CU_ASSERT_PTR_NOT_NULL(strstr(info.summary, "refer"));
        CU_ASSERT_PTR_NULL(strstr(info.summary, "truncate"));
        plugin_close(&p);

        CU_ASSERT_FATAL(plugin_open(0, &p) == 0);
        CU_ASSERT_EQUAL(p.ops->probe(p.state, &info), -ENOTSUP);
        CU_ASSERT_PTR_NOT_NULL(strstr(fake.error, "max_abi"));
        plugin_close(&p);

        CU_ASSERT_EQUAL(plugin_open(-1, &p), -EINVAL);
        CU_ASSERT_PTR_NOT_NULL(strstr(fake.error, "max_abi"));
}

static void test_render(void)
{
        struct test_plan tp;
        struct plugin p;
        char *text = NULL;
        char line[2 * PATH_MAX + 64];

        plan_init(&tp, NONO_NETWORK_BLOCK);
        plan_grant(&tp, t.ro, NONO_ACCESS_READ, 0);
        plan_grant(&tp, t.file_a, NONO_ACCESS_READWRITE, NONO_GRANT_FILE);
        plan_connect(&tp, 443);
        plan_deny(&tp, t.secret);
        CU_ASSERT_FATAL(plugin_open(NO_MAX_ABI, &p) == 0);
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
        plan_init(&tp, NONO_NETWORK_BLOCK);
        plan_grant(&tp, t.ro, NONO_ACCESS_READ, 0);
        plan_deny(&tp, t.ro_file);
        CU_ASSERT_FATAL(plugin_open(3, &p) == 0);
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
