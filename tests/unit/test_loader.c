/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The plugin loader against the mock plugins of tests/mock-plugins (one .so per case,
 * built into NONO_BUILD_ROOT/tests/mock-plugins), the host services, and the layout.
 */
#define NONO_PLUGIN_BUILTIN /* the built-in descriptor below gets its own query name */

#include <errno.h>
#include <fcntl.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cunit-main.h"
#include "error.h"
#include "host.h"
#include "layout.h"
#include "loader.h"
#include "nono-build-config.h"

#define MOCK_DIR NONO_BUILD_ROOT "/tests/mock-plugins"

/* ---- helpers ---------------------------------------------------------------------- */

static struct plugin_registry reg;

static char *mock_path(const char *file)
{
        return nono_path_join(MOCK_DIR, file);
}

static int load_mock(const char *file, struct plugin **ret)
{
        char *path = mock_path(file);
        int r = plugin_load_file(&reg, path, ret);

        free(path);
        return r;
}

static int contains(const char *haystack, const char *needle)
{
        if (strstr(haystack, needle))
                return 1;
        fprintf(stderr, "\n  message: %s\n  lacks:   %s\n", haystack, needle);
        return 0;
}

/* Loading `file` fails; the message names the file and holds every fragment. */
static void expect_refused_(const char *file, const char *const *fragments)
{
        struct plugin *pl = NULL;
        char *path = mock_path(file);

        plugin_registry_init(&reg, MOCK_DIR, NULL);
        CU_ASSERT_TRUE(plugin_load_file(&reg, path, &pl) < 0);
        CU_ASSERT_PTR_NULL(pl);
        CU_ASSERT_PTR_NULL(reg.head);
        CU_ASSERT_TRUE(contains(nono_errmsg(), path));
        for (const char *const *f = fragments; *f; f++)
                CU_ASSERT_TRUE(contains(nono_errmsg(), *f));
        plugin_registry_free(&reg);
        free(path);
}

#define expect_refused(file, ...) expect_refused_(file, (const char *const[]){__VA_ARGS__, NULL})

/* Audit events reach the test through this sink. */
static char last_event[256];
static int n_events;

static int record_event(const char *plugin, const char *type, const char *json_fields,
                        void *userdata)
{
        snprintf(last_event, sizeof(last_event), "%s %s %s", plugin, type, json_fields);
        n_events++;
        return 0;
}

/*
 * Sees every munmap of this program (the static core is linked in, so host.c's call
 * binds here): when the watched block is unmapped, records whether it had been wiped.
 */
static void *watched_block;
static int watched_was_wiped = -1;

int munmap(void *addr, size_t len)
{
        if (watched_block && addr == watched_block) {
                const unsigned char *p = addr;
                size_t i = 0;

                while (i < len && p[i] == 0)
                        i++;
                watched_was_wiped = i == len;
        }
        return (int)syscall(SYS_munmap, addr, len);
}

/* ---- refusals --------------------------------------------------------------------- */

static void test_refuses_non_plugin(void)
{
        expect_refused("nono-enforcer-no-query.so", "no nono_plugin_query symbol");
        expect_refused("nono-enforcer-null-desc.so", "returned no descriptor");
        expect_refused("nono-enforcer-bad-magic.so", "bad magic 0x12345678");
}

static void test_refuses_versions(void)
{
        expect_refused("nono-enforcer-major.so", "plugin ABI 2.0", "host ABI 1.0",
                       "major versions differ");
        expect_refused("nono-enforcer-newer-minor.so", "plugin ABI 1.1", "host ABI 1.0",
                       "needs a newer nono");
        expect_refused("nono-enforcer-short-desc.so", "shorter than ABI 1.0",
                       "plugin ABI 1.0, host ABI 1.0");
}

static void test_refuses_identity(void)
{
        expect_refused("nono-enforcer-unknown-kind.so", "unknown plugin kind 99");
        expect_refused("nono-enforcer-unknown-flags.so", "unknown flag bits 0x80");
        expect_refused("nono-enforcer-invalid-name.so", "invalid plugin name \"Invalid_Name\"");
        expect_refused("nono-enforcer-name-mismatch.so",
                       "plugin name \"other\" does not match the file name (\"name-mismatch\")");
        expect_refused("nono-enforcer-kind-mismatch.so",
                       "plugin kind \"network\" does not match the file name (\"enforcer\")");
}

static void test_refuses_ops(void)
{
        expect_refused("nono-enforcer-null-ops.so", "no operations table");
        expect_refused("nono-enforcer-small-ops.so", "enforcer operations table of 8 bytes");
        expect_refused("nono-enforcer-missing-op.so",
                       "mandatory enforcer operation \"apply\" is missing");
}

static void test_refuses_failing_init(void)
{
        expect_refused("nono-enforcer-init-fails.so",
                       "init failed: mock init failed: no backend here");
}

static void test_refuses_bad_file_names(void)
{
        expect_refused("nono-bogus.so", "does not follow nono-<kind>-<name>.so");
        expect_refused("nono-frobnicator-x.so", "unknown plugin kind \"frobnicator\"");
        expect_refused("nono-enforcer-Upper.so", "invalid plugin name \"Upper\"");
}

static void test_refuses_duplicate_file(void)
{
        struct plugin *pl;

        plugin_registry_init(&reg, MOCK_DIR, NULL);
        CU_ASSERT_EQUAL(load_mock("nono-enforcer-good.so", &pl), 0);
        CU_ASSERT_TRUE(load_mock("dup/nono-enforcer-good.so", &pl) < 0);
        CU_ASSERT_TRUE(contains(nono_errmsg(), "dup/nono-enforcer-good.so"));
        CU_ASSERT_TRUE(contains(nono_errmsg(),
                                "enforcer plugin \"good\" is already loaded from " MOCK_DIR
                                "/nono-enforcer-good.so"));
        plugin_registry_free(&reg);
}

/* ---- acceptance ------------------------------------------------------------------- */

static void expect_loads(const char *file, uint32_t kind, const char *name)
{
        struct plugin *pl = NULL;

        plugin_registry_init(&reg, MOCK_DIR, NULL);
        CU_ASSERT_EQUAL(load_mock(file, &pl), 0);
        CU_ASSERT_PTR_NOT_NULL_FATAL(pl);
        CU_ASSERT_EQUAL(pl->kind, kind);
        CU_ASSERT_STRING_EQUAL(pl->name, name);
        CU_ASSERT_PTR_NOT_NULL(pl->state);
        plugin_registry_free(&reg);
}

static void test_accepts_good_plugins(void)
{
        expect_loads("nono-enforcer-good.so", NONO_PLUGIN_ENFORCER, "good");
        expect_loads("nono-network-good.so", NONO_PLUGIN_NETWORK, "good");
        expect_loads("nono-credential-good.so", NONO_PLUGIN_CREDENTIAL, "good");
        expect_loads("nono-store-good.so", NONO_PLUGIN_STORE, "good");
        expect_loads("nono-policy-good.so", NONO_PLUGIN_POLICY, "good");
}

static void test_accepts_other_descriptor_sizes(void)
{
        struct plugin *pl = NULL;

        expect_loads("nono-enforcer-older-minor.so", NONO_PLUGIN_ENFORCER, "older-minor");
        plugin_registry_init(&reg, MOCK_DIR, NULL);
        CU_ASSERT_EQUAL(load_mock("nono-enforcer-long-desc.so", &pl), 0);
        CU_ASSERT_PTR_NOT_NULL_FATAL(pl);
        /* The copy is cut to the host's size; the plugin's own size is kept. */
        CU_ASSERT_TRUE(pl->desc.size > sizeof(struct nono_plugin_desc));
        CU_ASSERT_PTR_NOT_NULL(pl->ops.enforcer.apply);
        plugin_registry_free(&reg);
}

static void test_load_by_kind_and_name(void)
{
        struct plugin *a = NULL, *b = NULL;

        plugin_registry_init(&reg, MOCK_DIR, NULL);
        CU_ASSERT_EQUAL(plugin_load(&reg, NONO_PLUGIN_POLICY, "good", &a), 0);
        CU_ASSERT_PTR_NOT_NULL_FATAL(a);
        CU_ASSERT_STRING_EQUAL(a->path, MOCK_DIR "/nono-policy-good.so");
        /* A second request returns the plugin already loaded. */
        CU_ASSERT_EQUAL(plugin_load(&reg, NONO_PLUGIN_POLICY, "good", &b), 0);
        CU_ASSERT_PTR_EQUAL(a, b);
        CU_ASSERT_PTR_NULL(a->next);

        CU_ASSERT_EQUAL(plugin_load(&reg, NONO_PLUGIN_ENFORCER, "absent", &b), -ENOENT);
        CU_ASSERT_STRING_EQUAL(nono_errmsg(), "no enforcer plugin \"absent\" in " MOCK_DIR
                                              " (looked for " MOCK_DIR "/nono-enforcer-absent.so)");
        CU_ASSERT_EQUAL(plugin_load(&reg, NONO_PLUGIN_ENFORCER, "../good", &b), -EINVAL);
        CU_ASSERT_TRUE(contains(nono_errmsg(), "invalid enforcer plugin name \"../good\""));
        CU_ASSERT_EQUAL(plugin_load(&reg, 42, "good", &b), -EINVAL);
        plugin_registry_free(&reg);
}

struct refusal_log {
        int n;
        int saw_major;
};

static void on_refused(const char *file, const char *msg, void *userdata)
{
        struct refusal_log *log = userdata;

        log->n++;
        if (strcmp(file, MOCK_DIR "/nono-enforcer-major.so") == 0)
                log->saw_major = strstr(msg, "plugin ABI 2.0, host ABI 1.0") != NULL;
}

static void test_load_all(void)
{
        static const char *const loaded[] = {
            "credential good", "enforcer good", "enforcer long-desc", "enforcer older-minor",
            "network good",    "policy good",   "store good",
        };
        struct refusal_log log = {0, 0};
        size_t i = 0;

        plugin_registry_init(&reg, MOCK_DIR, NULL);
        CU_ASSERT_EQUAL(plugin_load_all(&reg, on_refused, &log), 15);
        CU_ASSERT_EQUAL(log.n, 15);
        CU_ASSERT_TRUE(log.saw_major);
        /* In file name order. */
        for (const struct plugin *pl = reg.head; pl; pl = pl->next, i++) {
                char what[64];

                snprintf(what, sizeof(what), "%s %s", plugin_kind_name(pl->kind), pl->name);
                CU_ASSERT_TRUE(i < sizeof(loaded) / sizeof(loaded[0]) &&
                               strcmp(what, loaded[i]) == 0);
        }
        CU_ASSERT_EQUAL(i, sizeof(loaded) / sizeof(loaded[0]));
        plugin_registry_free(&reg);

        plugin_registry_init(&reg, MOCK_DIR "/absent", NULL);
        CU_ASSERT_EQUAL(plugin_load_all(&reg, on_refused, &log), -ENOENT);
        CU_ASSERT_TRUE(contains(nono_errmsg(), "cannot open plugin directory " MOCK_DIR "/absent"));
}

/* ---- built-in plugins ------------------------------------------------------------- */

static int builtin_probe(void *state, struct nono_enforcer_info *ret_info)
{
        return 0;
}

static int builtin_prepare(void *state, const struct nono_plan *plan, void **ret_prepared)
{
        return 0;
}

static int builtin_apply(void *state, void *prepared)
{
        return 0;
}

static void builtin_release(void *state, void *prepared)
{
}

static const struct nono_enforcer_ops builtin_ops = {
    sizeof(builtin_ops), builtin_probe, builtin_prepare, builtin_apply, builtin_release, NULL,
};

NONO_PLUGIN_DEFINE(builtin_good, NONO_PLUGIN_ENFORCER, "good", "1", "built-in test plugin", NULL,
                   NULL, &builtin_ops)

static void test_builtin(void)
{
        struct plugin *pl = NULL;
        struct nono_plugin_desc bad = *nono_plugin_query_builtin_good();

        plugin_registry_init(&reg, MOCK_DIR, NULL);
        CU_ASSERT_EQUAL(plugin_register_builtin(&reg, nono_plugin_query_builtin_good(), &pl), 0);
        CU_ASSERT_PTR_NOT_NULL_FATAL(pl);
        CU_ASSERT_PTR_NULL(pl->path);
        /* A file cannot take the name of a built-in plugin. */
        CU_ASSERT_TRUE(load_mock("nono-enforcer-good.so", NULL) < 0);
        CU_ASSERT_TRUE(contains(nono_errmsg(), "already loaded from the nono binary"));
        /* The same checks as for files, minus the file name. */
        bad.abi_major = 3;
        CU_ASSERT_TRUE(plugin_register_builtin(&reg, &bad, NULL) < 0);
        CU_ASSERT_TRUE(contains(nono_errmsg(), "built-in plugin: plugin ABI 3.0, host ABI 1.0"));
        CU_ASSERT_TRUE(plugin_register_builtin(&reg, NULL, NULL) < 0);
        plugin_registry_free(&reg);
}

/* ---- ownership and mode ----------------------------------------------------------- */

static int copy_file(const char *from, const char *to)
{
        char buf[65536];
        int in = open(from, O_RDONLY | O_CLOEXEC);
        int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        ssize_t n = 0;

        while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof(buf))) > 0)
                if (write(out, buf, (size_t)n) != n)
                        n = -1;
        if (in >= 0)
                close(in);
        if (out >= 0)
                close(out);
        return in >= 0 && out >= 0 && n == 0 ? 0 : -1;
}

static void expect_dir_refused(const char *dir, const char *fragment)
{
        struct plugin_registry r;

        plugin_registry_init(&r, dir, NULL);
        CU_ASSERT_TRUE(plugin_load(&r, NONO_PLUGIN_ENFORCER, "good", NULL) < 0);
        CU_ASSERT_TRUE(contains(nono_errmsg(), fragment));
        plugin_registry_free(&r);
}

static void test_ownership_and_mode(void)
{
        char dir[] = "/tmp/nono-test-loader-XXXXXX";
        char *file, *link, *src = mock_path("nono-enforcer-good.so");
        struct plugin *pl = NULL;

        CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
        file = nono_path_join(dir, "nono-enforcer-good.so");
        link = nono_path_join(dir, "nono-enforcer-link.so");
        CU_ASSERT_EQUAL_FATAL(copy_file(src, file), 0);

        chmod(file, 0664);
        expect_dir_refused(dir, "plugin file");
        CU_ASSERT_TRUE(contains(nono_errmsg(), "nono-enforcer-good.so is writable by its group"));
        chmod(file, 0646);
        expect_dir_refused(dir, "is writable by others (mode 0646)");
        chmod(file, 0644);
        chmod(dir, 0775);
        expect_dir_refused(dir, "plugin directory");
        CU_ASSERT_TRUE(contains(nono_errmsg(), "is writable by its group (mode 0775)"));
        chmod(dir, 0700);
        if (geteuid() == 0) {
                CU_ASSERT_EQUAL(chown(file, 12345, 0), 0);
                expect_dir_refused(dir, "is owned by uid 12345, not by root or uid 0");
                CU_ASSERT_EQUAL(chown(file, 0, 0), 0);
        }
        /* A symlink could lead out of the checked directory. */
        CU_ASSERT_EQUAL(symlink(src, link), 0);
        plugin_registry_init(&reg, dir, NULL);
        CU_ASSERT_TRUE(plugin_load(&reg, NONO_PLUGIN_ENFORCER, "link", NULL) < 0);
        CU_ASSERT_TRUE(contains(nono_errmsg(), "nono-enforcer-link.so is a symbolic link"));
        /* Once owner and modes are right, the same file loads. */
        CU_ASSERT_EQUAL(plugin_load(&reg, NONO_PLUGIN_ENFORCER, "good", &pl), 0);
        CU_ASSERT_PTR_NOT_NULL(pl);
        plugin_registry_free(&reg);

        unlink(link);
        unlink(file);
        rmdir(dir);
        free(link);
        free(file);
        free(src);
}

/* ---- host services ---------------------------------------------------------------- */

static const char test_conf[] = "plugins = {\n"
                                "  good = {\n"
                                "    summary = \"from nono.conf\";\n"
                                "    abi = 7;\n"
                                "    nested = { key = \"deep\"; };\n"
                                "  };\n"
                                "};\n";

static int write_conf(char *dir, struct host_config *config)
{
        char *path;
        FILE *f;
        int r;

        if (!mkdtemp(dir))
                return -errno;
        path = nono_path_join(dir, "nono.conf");
        f = fopen(path, "w");
        if (!f) {
                free(path);
                return -errno;
        }
        fputs(test_conf, f);
        fclose(f);
        r = host_config_load_files(config, path, NULL);
        unlink(path);
        rmdir(dir);
        free(path);
        return r;
}

static void test_host_config(void)
{
        char dir[] = "/tmp/nono-test-loader-XXXXXX";
        struct nono_enforcer_info info = {sizeof(info), 0, 0, "", 0};
        struct host_config config;
        struct plugin *pl = NULL;
        long long v = 0;

        CU_ASSERT_EQUAL_FATAL(write_conf(dir, &config), 0);
        plugin_registry_init(&reg, MOCK_DIR, &config);
        CU_ASSERT_EQUAL_FATAL(load_mock("nono-enforcer-good.so", &pl), 0);
        /* The plugin reads its own section through the host. */
        CU_ASSERT_EQUAL(pl->ops.enforcer.probe(pl->state, &info), 0);
        CU_ASSERT_STRING_EQUAL(info.summary, "from nono.conf");
        CU_ASSERT_EQUAL(info.abi, 7);
        CU_ASSERT_STRING_EQUAL(pl->host.config_string(pl->host.ctx, "nested.key"), "deep");
        CU_ASSERT_PTR_NULL(pl->host.config_string(pl->host.ctx, "absent"));
        CU_ASSERT_PTR_NULL(pl->host.config_string(pl->host.ctx, "abi"));
        CU_ASSERT_EQUAL(pl->host.config_int(pl->host.ctx, "abi", &v), 0);
        CU_ASSERT_EQUAL(v, 7);
        CU_ASSERT_EQUAL(pl->host.config_int(pl->host.ctx, "summary", &v), -EINVAL);
        CU_ASSERT_EQUAL(pl->host.config_int(pl->host.ctx, "absent", &v), -ENOENT);
        plugin_registry_free(&reg);
        host_config_free(&config);
}

static void test_host_set_error(void)
{
        struct plugin *pl = NULL;
        char longer[PLUGIN_ERROR_MAX * 2];

        plugin_registry_init(&reg, MOCK_DIR, NULL);
        CU_ASSERT_EQUAL_FATAL(load_mock("nono-enforcer-good.so", &pl), 0);
        CU_ASSERT_EQUAL(pl->host.abi_major, NONO_PLUGIN_ABI_MAJOR);
        CU_ASSERT_PTR_EQUAL(pl->host.ctx, pl);
        CU_ASSERT_STRING_EQUAL(plugin_error(pl, -EIO), strerror(EIO));
        /* The mock's apply explains its failure through set_error. */
        CU_ASSERT_EQUAL(pl->ops.enforcer.apply(pl->state, NULL), -EPERM);
        CU_ASSERT_STRING_EQUAL(plugin_error(pl, -EPERM), "mock apply refused");
        pl->host.set_error(pl->host.ctx, "code %d", 42);
        CU_ASSERT_STRING_EQUAL(pl->error, "code 42");
        /* Truncated to the preallocated buffer, never reallocated. */
        memset(longer, 'x', sizeof(longer) - 1);
        longer[sizeof(longer) - 1] = '\0';
        pl->host.set_error(pl->host.ctx, "%s", longer);
        CU_ASSERT_EQUAL(strlen(pl->error), PLUGIN_ERROR_MAX - 1);
        plugin_registry_free(&reg);
}

static void test_host_secret_memory(void)
{
        struct plugin *pl = NULL;
        unsigned char *s;
        char *secret = NULL;
        size_t len = 0, i;

        plugin_registry_init(&reg, MOCK_DIR, NULL);
        CU_ASSERT_EQUAL_FATAL(load_mock("nono-credential-good.so", &pl), 0);
        s = pl->host.secret_alloc(pl->host.ctx, 5000);
        CU_ASSERT_PTR_NOT_NULL_FATAL(s);
        CU_ASSERT_EQUAL((uintptr_t)s % alignof(max_align_t), 0);
        for (i = 0; i < 5000 && s[i] == 0; i++)
                ;
        CU_ASSERT_EQUAL(i, 5000);
        memset(s, 0xa5, 5000);
        /* The block is wiped before it is unmapped. */
        watched_block = (void *)((uintptr_t)s & ~(uintptr_t)(sysconf(_SC_PAGESIZE) - 1));
        pl->host.secret_free(pl->host.ctx, s);
        CU_ASSERT_EQUAL(watched_was_wiped, 1);
        watched_block = NULL;
        pl->host.secret_free(pl->host.ctx, NULL);

        /* A credential plugin hands its secret over in host secret memory. */
        CU_ASSERT_EQUAL(pl->ops.credential.lookup(pl->state, "mock-key", &secret, &len), 0);
        CU_ASSERT_STRING_EQUAL(secret, "mock-secret");
        CU_ASSERT_EQUAL(len, strlen("mock-secret"));
        host_secret_free(secret);
        CU_ASSERT_EQUAL(pl->ops.credential.lookup(pl->state, "other", &secret, &len),
                        NONO_DECLINED);
        plugin_registry_free(&reg);
}

static void test_host_audit(void)
{
        struct plugin *pl = NULL;
        int (*emit)(void *, const char *, const char *);

        host_set_audit_sink(record_event, NULL);
        n_events = 0;
        plugin_registry_init(&reg, MOCK_DIR, NULL);
        CU_ASSERT_EQUAL_FATAL(load_mock("nono-enforcer-good.so", &pl), 0);
        emit = pl->host.audit_event;
        CU_ASSERT_EQUAL(emit(pl->host.ctx, "proxy.decision", "{\"host\": \"a.example\"}"), 0);
        CU_ASSERT_STRING_EQUAL(last_event, "good proxy.decision {\"host\": \"a.example\"}");
        CU_ASSERT_EQUAL(emit(pl->host.ctx, "proxy.decision", "not json"), -EINVAL);
        CU_ASSERT_EQUAL(emit(pl->host.ctx, "proxy.decision", "[1, 2]"), -EINVAL);
        CU_ASSERT_EQUAL(emit(pl->host.ctx, "proxy.decision", "{\"a\": 1} trailing"), -EINVAL);
        CU_ASSERT_EQUAL(emit(pl->host.ctx, "proxy.decision", NULL), -EINVAL);
        CU_ASSERT_EQUAL(emit(pl->host.ctx, "Bad Type", "{}"), -EINVAL);
        CU_ASSERT_EQUAL(emit(pl->host.ctx, "", "{}"), -EINVAL);
        CU_ASSERT_EQUAL(n_events, 1);
        /* fini runs at registry_free; the mock reports it with an event. */
        plugin_registry_free(&reg);
        CU_ASSERT_EQUAL(n_events, 2);
        CU_ASSERT_STRING_EQUAL(last_event, "good mock.fini {\"name\": \"good\"}");
        host_set_audit_sink(NULL, NULL);
}

/* ---- layout ----------------------------------------------------------------------- */

static void test_layout_in_build_tree(void)
{
        const struct layout *l = layout_get();

        /* This program links the static core and lives under the build root. */
        CU_ASSERT_TRUE(l->in_build_tree);
        CU_ASSERT_STRING_EQUAL(l->plugin_dir, NONO_BUILD_PLUGINDIR);
        CU_ASSERT_STRING_EQUAL(l->profile_dir, NONO_SOURCE_PROFILEDIR);
        CU_ASSERT_PTR_EQUAL(layout_get(), l);
}

int main(void)
{
        static const struct test_case cases[] = {
            {"refuses files that are not plugins", test_refuses_non_plugin},
            {"refuses ABI versions and short descriptors", test_refuses_versions},
            {"refuses bad kind, flags, names", test_refuses_identity},
            {"refuses bad operations tables", test_refuses_ops},
            {"refuses a plugin whose init fails", test_refuses_failing_init},
            {"refuses bad file names", test_refuses_bad_file_names},
            {"refuses a duplicate", test_refuses_duplicate_file},
            {"accepts a good plugin of each kind", test_accepts_good_plugins},
            {"accepts older and longer descriptors", test_accepts_other_descriptor_sizes},
            {"loads by kind and name", test_load_by_kind_and_name},
            {"loads a whole directory", test_load_all},
            {"registers built-in plugins", test_builtin},
            {"checks ownership and mode", test_ownership_and_mode},
            {"hands plugins their config section", test_host_config},
            {"set_error formats into the plugin", test_host_set_error},
            {"secret memory is zeroed and wiped", test_host_secret_memory},
            {"audit events are checked and sunk", test_host_audit},
            {"layout finds the build tree", test_layout_in_build_tree},
        };
        return RUN_CUNIT("loader", NULL, NULL, cases);
}
