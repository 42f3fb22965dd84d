/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Credential references against the real env plugin (build/plugins) and three plugins
 * built into this program: "vault" (an in-memory store with every operation),
 * "broken" (always fails with a message) and "flaky" (sets a message only once).
 */
#define NONO_PLUGIN_BUILTIN /* the descriptors below get their own query names */

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "credentials.h"
#include "cunit-main.h"
#include "error.h"
#include "loader.h"
#include "nono-build-config.h"

#define SECRET     "sk-unit-4f1d9c2b7e"
#define VAULT_SLOT 4

/* ---- the built-in test sources --------------------------------------------------------- */

struct vault_entry {
        char name[64];
        char *secret;
        size_t len;
};

static struct vault_entry vault[VAULT_SLOT];
static const struct nono_host *vault_host;

static int vault_init(const struct nono_host *host, void **ret_state)
{
        vault_host = host;
        *ret_state = NULL;
        return 0;
}

static struct vault_entry *vault_find(const char *name)
{
        for (size_t i = 0; i < VAULT_SLOT; i++)
                if (vault[i].secret && strcmp(vault[i].name, name) == 0)
                        return &vault[i];
        return NULL;
}

static void vault_clear(struct vault_entry *e)
{
        vault_host->secret_free(vault_host->ctx, e->secret);
        memset(e, 0, sizeof(*e));
}

static void vault_fini(void *state)
{
        for (size_t i = 0; i < VAULT_SLOT; i++)
                if (vault[i].secret)
                        vault_clear(&vault[i]);
}

static int vault_lookup(void *state, const char *ref, char **ret_secret, size_t *ret_len)
{
        const struct vault_entry *e = vault_find(ref);

        if (!e)
                return NONO_DECLINED;
        *ret_secret = vault_host->secret_alloc(vault_host->ctx, e->len + 1);
        if (!*ret_secret)
                return -ENOMEM;
        memcpy(*ret_secret, e->secret, e->len);
        *ret_len = e->len;
        return 0;
}

static int vault_store(void *state, const char *ref, const char *secret, size_t len)
{
        struct vault_entry *e = vault_find(ref);

        for (size_t i = 0; !e && i < VAULT_SLOT; i++)
                if (!vault[i].secret)
                        e = &vault[i];
        if (!e || strlen(ref) >= sizeof(e->name))
                return -ENOSPC;
        if (e->secret)
                vault_clear(e);
        e->secret = vault_host->secret_alloc(vault_host->ctx, len + 1);
        if (!e->secret)
                return -ENOMEM;
        memcpy(e->secret, secret, len);
        e->len = len;
        strcpy(e->name, ref);
        return 0;
}

static int vault_remove(void *state, const char *ref)
{
        struct vault_entry *e = vault_find(ref);

        if (!e)
                return NONO_DECLINED;
        vault_clear(e);
        return 0;
}

/* In slot order, not sorted: sorting is the core's job. */
static int vault_list(void *state, int (*each)(const char *ref, void *userdata), void *userdata)
{
        int r = 0;

        for (size_t i = VAULT_SLOT; i-- > 0 && r == 0;)
                if (vault[i].secret)
                        r = each(vault[i].name, userdata);
        return r;
}

static const struct nono_credential_ops vault_ops = {
    .size = sizeof(struct nono_credential_ops),
    .lookup = vault_lookup,
    .store = vault_store,
    .remove = vault_remove,
    .list = vault_list,
};

NONO_PLUGIN_DEFINE(vault, NONO_PLUGIN_CREDENTIAL, "vault", "1", "test store", vault_init,
                   vault_fini, &vault_ops)

static const struct nono_host *broken_host;
static int flaky_calls;

static int broken_init(const struct nono_host *host, void **ret_state)
{
        broken_host = host;
        *ret_state = NULL;
        return 0;
}

static int broken_lookup(void *state, const char *ref, char **ret_secret, size_t *ret_len)
{
        broken_host->set_error(broken_host->ctx, "backend down");
        return -EIO;
}

static const struct nono_credential_ops broken_ops = {
    .size = sizeof(struct nono_credential_ops),
    .lookup = broken_lookup,
};

NONO_PLUGIN_DEFINE(broken, NONO_PLUGIN_CREDENTIAL, "broken", "1", "always fails", broken_init, NULL,
                   &broken_ops)

static const struct nono_host *flaky_host;

static int flaky_init(const struct nono_host *host, void **ret_state)
{
        flaky_host = host;
        *ret_state = NULL;
        return 0;
}

/* Explains its first failure only. */
static int flaky_lookup(void *state, const char *ref, char **ret_secret, size_t *ret_len)
{
        if (flaky_calls++ == 0)
                flaky_host->set_error(flaky_host->ctx, "first failure");
        return -EIO;
}

static const struct nono_credential_ops flaky_ops = {
    .size = sizeof(struct nono_credential_ops),
    .lookup = flaky_lookup,
};

NONO_PLUGIN_DEFINE(flaky, NONO_PLUGIN_CREDENTIAL, "flaky", "1", "fails", flaky_init, NULL,
                   &flaky_ops)

/* ---- fixtures ------------------------------------------------------------------------- */

static struct plugin_registry reg;
static struct host_config cfg;

static int setup(void)
{
        plugin_registry_init(&reg, NONO_BUILD_PLUGINDIR, &cfg);
        if (plugin_register_builtin(&reg, nono_plugin_query_vault(), NULL) < 0 ||
            plugin_register_builtin(&reg, nono_plugin_query_broken(), NULL) < 0 ||
            plugin_register_builtin(&reg, nono_plugin_query_flaky(), NULL) < 0)
                return 1;
        setenv("NONO_TEST_SECRET", SECRET, 1);
        unsetenv("NONO_TEST_ABSENT");
        return 0;
}

static int teardown(void)
{
        plugin_registry_free(&reg);
        host_config_free(&cfg);
        return 0;
}

/* The configured order: a NULL-terminated list of source names. */
static void set_order_(const char *const *sources)
{
        strv_free(&cfg.credential_sources);
        for (const char *const *s = sources; *s; s++)
                CU_ASSERT_EQUAL_FATAL(strv_push(&cfg.credential_sources, *s), 0);
}

#define set_order(...) set_order_((const char *const[]){__VA_ARGS__, NULL})

static int contains(const char *haystack, const char *needle)
{
        if (strstr(haystack, needle))
                return 1;
        fprintf(stderr, "\n  message: %s\n  lacks:   %s\n", haystack, needle);
        return 0;
}

/* Resolves `ref`; on success checks the secret and the source, then frees it. */
static int resolve_expect(const char *ref, const char *secret, const char *source)
{
        const char *from = NULL;
        char *got = NULL;
        size_t len = 0;
        int r = credential_resolve(&reg, &cfg, ref, &got, &len, &from);

        if (r < 0)
                return r;
        CU_ASSERT_PTR_NOT_NULL_FATAL(got);
        CU_ASSERT_STRING_EQUAL(got, secret);
        CU_ASSERT_EQUAL(len, strlen(secret));
        CU_ASSERT_STRING_EQUAL(from, source);
        credential_free(got);
        return r;
}

static void vault_put(const char *name, const char *secret)
{
        CU_ASSERT_EQUAL_FATAL(
            credential_store(&reg, &cfg, "vault", name, secret, strlen(secret), NULL), 0);
}

/* ---- resolving ------------------------------------------------------------------------ */

static void test_scheme_routes_to_its_plugin(void)
{
        set_order("vault");
        vault_put("NONO_TEST_SECRET", "from-vault");
        CU_ASSERT_EQUAL(resolve_expect("env://NONO_TEST_SECRET", SECRET, "env"), 0);
        CU_ASSERT_EQUAL(resolve_expect("vault://NONO_TEST_SECRET", "from-vault", "vault"), 0);
        CU_ASSERT_EQUAL(credential_remove(&reg, &cfg, NULL, "vault://NONO_TEST_SECRET", NULL), 0);
}

static void test_bare_name_follows_configured_order(void)
{
        vault_put("NONO_TEST_SECRET", "from-vault");
        set_order("env", "vault");
        CU_ASSERT_EQUAL(resolve_expect("NONO_TEST_SECRET", SECRET, "env"), 0);
        set_order("vault", "env");
        CU_ASSERT_EQUAL(resolve_expect("NONO_TEST_SECRET", "from-vault", "vault"), 0);
        /* Declined by env (unset), found by the next source. */
        vault_put("shared", "shared-value");
        set_order("env", "vault");
        CU_ASSERT_EQUAL(resolve_expect("shared", "shared-value", "vault"), 0);
        CU_ASSERT_EQUAL(credential_remove(&reg, &cfg, "vault", "shared", NULL), 0);
        CU_ASSERT_EQUAL(credential_remove(&reg, &cfg, "vault", "NONO_TEST_SECRET", NULL), 0);
}

static void test_default_order(void)
{
        const char *const *order = credential_source_order(NULL);

        CU_ASSERT_STRING_EQUAL(order[0], "env");
        CU_ASSERT_STRING_EQUAL(order[1], "libsecret");
        CU_ASSERT_PTR_NULL(order[2]);
        set_order("vault");
        CU_ASSERT_STRING_EQUAL(credential_source_order(&cfg)[0], "vault");
}

static void test_env_declines_what_it_cannot_hold(void)
{
        setenv("NONO_TEST_EMPTY", "", 1);
        CU_ASSERT_EQUAL(resolve_expect("env://NONO_TEST_EMPTY", "", "env"), -ENOENT);
        CU_ASSERT_STRING_EQUAL(nono_errmsg(), "credential \"NONO_TEST_EMPTY\" not found in env");
        CU_ASSERT_EQUAL(resolve_expect("env://not-a-variable", "", "env"), -ENOENT);
        CU_ASSERT_EQUAL(resolve_expect("env://NONO_TEST_ABSENT", "", "env"), -ENOENT);
        unsetenv("NONO_TEST_EMPTY");
}

static void test_unknown_scheme_names_the_sources(void)
{
        CU_ASSERT_EQUAL(resolve_expect("nosuch://x", "", ""), -ENOENT);
        CU_ASSERT_TRUE(contains(nono_errmsg(), "unknown credential source \"nosuch\""));
        CU_ASSERT_TRUE(contains(nono_errmsg(), "(available: env"));
}

static void test_not_found_names_every_source(void)
{
        set_order("env", "vault");
        CU_ASSERT_EQUAL(resolve_expect("NONO_TEST_ABSENT", "", ""), -ENOENT);
        CU_ASSERT_STRING_EQUAL(nono_errmsg(),
                               "credential \"NONO_TEST_ABSENT\" not found in env, vault");
}

static void test_explicit_source_fails_closed(void)
{
        CU_ASSERT_EQUAL(resolve_expect("broken://NONO_TEST_SECRET", "", ""), -EIO);
        CU_ASSERT_STRING_EQUAL(nono_errmsg(), "cannot look up credential \"NONO_TEST_SECRET\" in "
                                              "broken: backend down");
}

static void test_bare_name_skips_a_failed_source(void)
{
        set_order("broken", "env");
        CU_ASSERT_EQUAL(resolve_expect("NONO_TEST_SECRET", SECRET, "env"), 0);
        set_order("env", "broken", "vault");
        CU_ASSERT_EQUAL(resolve_expect("NONO_TEST_ABSENT", "", ""), -ENOENT);
        CU_ASSERT_STRING_EQUAL(nono_errmsg(), "credential \"NONO_TEST_ABSENT\" not found in env, "
                                              "vault; broken failed: backend down");
        set_order("broken", "keychain-missing");
        CU_ASSERT_EQUAL(resolve_expect("NONO_TEST_ABSENT", "", ""), -ENOENT);
        CU_ASSERT_TRUE(contains(nono_errmsg(), "credential \"NONO_TEST_ABSENT\" not found: broken "
                                               "failed: backend down; keychain-missing failed: "
                                               "unknown credential source"));
}

static void test_old_plugin_message_is_not_reused(void)
{
        flaky_calls = 0;
        CU_ASSERT_EQUAL(resolve_expect("flaky://x", "", ""), -EIO);
        CU_ASSERT_TRUE(contains(nono_errmsg(), "first failure"));
        CU_ASSERT_EQUAL(resolve_expect("flaky://x", "", ""), -EIO);
        CU_ASSERT_STRING_EQUAL(nono_errmsg(), "cannot look up credential \"x\" in flaky: "
                                              "Input/output error");
}

/* Runs fn at debug verbosity with stderr in a file; returns what it printed. */
static char *capture_stderr(void (*fn)(void))
{
        char path[] = "/var/tmp/nono-cred-XXXXXX";
        int fd = mkstemp(path);
        int saved = dup(STDERR_FILENO);
        static char text[4096];
        ssize_t n;

        CU_ASSERT_FATAL(fd >= 0 && saved >= 0);
        unlink(path);
        fflush(stderr);
        dup2(fd, STDERR_FILENO);
        nono_set_verbosity(NONO_VERBOSITY_DEBUG);
        fn();
        nono_set_verbosity(NONO_VERBOSITY_NORMAL);
        fflush(stderr);
        dup2(saved, STDERR_FILENO);
        close(saved);
        n = pread(fd, text, sizeof(text) - 1, 0);
        text[n > 0 ? n : 0] = '\0';
        close(fd);
        return text;
}

static void resolve_after_broken_source(void)
{
        set_order("broken", "env");
        CU_ASSERT_EQUAL(resolve_expect("NONO_TEST_SECRET", SECRET, "env"), 0);
}

static void test_debug_output_has_no_secret(void)
{
        const char *out = capture_stderr(resolve_after_broken_source);

        /* The note was printed, and it names the sources, not the secret. */
        CU_ASSERT_TRUE(contains(out, "found in env after broken failed: backend down"));
        CU_ASSERT_PTR_NULL(strstr(out, SECRET));
}

/* ---- secret memory -------------------------------------------------------------------- */

/*
 * Sees every munmap of this program (the static core is linked in, so host.c's call
 * binds here): when the mapping holding the watched secret goes, records whether it had
 * been wiped first.
 */
static const char *watched_secret;
static int watched_was_wiped = -1;

int munmap(void *addr, size_t len)
{
        const char *start = addr;

        if (watched_secret && watched_secret >= start && watched_secret < start + len) {
                size_t i = 0;

                while (i < len && start[i] == 0)
                        i++;
                watched_was_wiped = i == len;
        }
        return (int)syscall(SYS_munmap, addr, len);
}

/* The VmFlags line of the mapping that holds p, from /proc/self/smaps. */
static int mapping_flags(const void *p, char *flags, size_t size)
{
        FILE *f = fopen("/proc/self/smaps", "re");
        int in_mapping = 0, found = 0;
        char line[512];

        while (f && !found && fgets(line, sizeof(line), f)) {
                uintptr_t lo, hi;

                /* A mapping's first line starts with its range; its fields never do. */
                if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " ", &lo, &hi) == 2)
                        in_mapping = (uintptr_t)p >= lo && (uintptr_t)p < hi;
                else if (in_mapping && strncmp(line, "VmFlags:", 8) == 0) {
                        snprintf(flags, size, "%s", line + 8);
                        found = 1;
                }
        }
        if (f)
                fclose(f);
        return found;
}

static void test_secret_lives_in_secret_memory(void)
{
        char *secret = NULL;
        char flags[512];
        size_t len;

        CU_ASSERT_EQUAL_FATAL(
            credential_resolve(&reg, &cfg, "env://NONO_TEST_SECRET", &secret, &len, NULL), 0);
        /* Not in the environment's memory: a copy in a mapping excluded from core dumps. */
        CU_ASSERT_PTR_NOT_EQUAL(secret, getenv("NONO_TEST_SECRET"));
        CU_ASSERT_TRUE_FATAL(mapping_flags(secret, flags, sizeof(flags)));
        CU_ASSERT_TRUE(contains(flags, " dd"));
        watched_secret = secret;
        watched_was_wiped = -1;
        credential_free(secret);
        watched_secret = NULL;
        CU_ASSERT_EQUAL(watched_was_wiped, 1);
}

/* ---- management ----------------------------------------------------------------------- */

/* Copies: the names live only during the call. */
static char listed[8][64];
static size_t n_listed;

static int record_listed(const char *source, const char *name, void *userdata)
{
        CU_ASSERT_STRING_EQUAL(source, "vault");
        if (n_listed < 8)
                snprintf(listed[n_listed++], sizeof(listed[0]), "%s", name);
        return 0;
}

static void test_store_list_remove(void)
{
        const char *source = NULL;

        set_order("env", "vault");
        /* env cannot store: the default is the first source that can. */
        CU_ASSERT_EQUAL(credential_store(&reg, &cfg, NULL, "beta", "b", 1, &source), 0);
        CU_ASSERT_STRING_EQUAL(source, "vault");
        CU_ASSERT_EQUAL(credential_store(&reg, &cfg, NULL, "vault://alpha", "a", 1, NULL), 0);
        n_listed = 0;
        /* env cannot list and is skipped; the names come sorted. */
        CU_ASSERT_EQUAL(credential_list(&reg, &cfg, NULL, record_listed, NULL), 0);
        CU_ASSERT_EQUAL_FATAL(n_listed, 2);
        CU_ASSERT_STRING_EQUAL(listed[0], "alpha");
        CU_ASSERT_STRING_EQUAL(listed[1], "beta");
        CU_ASSERT_EQUAL(credential_remove(&reg, &cfg, NULL, "alpha", &source), 0);
        CU_ASSERT_EQUAL(credential_remove(&reg, &cfg, NULL, "alpha", &source), -ENOENT);
        CU_ASSERT_STRING_EQUAL(nono_errmsg(), "credential \"alpha\" not found in vault");
        CU_ASSERT_EQUAL(credential_remove(&reg, &cfg, NULL, "beta", &source), 0);
        n_listed = 0;
        CU_ASSERT_EQUAL(credential_list(&reg, &cfg, "vault", record_listed, NULL), 0);
        CU_ASSERT_EQUAL(n_listed, 0);
}

static void test_management_refusals(void)
{
        CU_ASSERT_EQUAL(credential_store(&reg, &cfg, "env", "X", "x", 1, NULL), -EOPNOTSUPP);
        CU_ASSERT_STRING_EQUAL(nono_errmsg(), "credential source \"env\" cannot store credentials");
        CU_ASSERT_EQUAL(credential_list(&reg, &cfg, "env", record_listed, NULL), -EOPNOTSUPP);
        CU_ASSERT_EQUAL(credential_store(&reg, &cfg, "vault", "env://X", "x", 1, NULL), -EINVAL);
        CU_ASSERT_TRUE(contains(nono_errmsg(), "names source \"env\", not \"vault\""));
        set_order("env");
        CU_ASSERT_EQUAL(credential_store(&reg, &cfg, NULL, "X", "x", 1, NULL), -EOPNOTSUPP);
        CU_ASSERT_STRING_EQUAL(nono_errmsg(),
                               "no configured credential source can store credentials (env)");
        set_order("broken", "vault");
        CU_ASSERT_EQUAL(credential_list(&reg, &cfg, NULL, record_listed, NULL), 0);
}

/* ---- references and input ------------------------------------------------------------- */

static void test_parse_ref(void)
{
        struct credential_ref r;
        char long_name[CREDENTIAL_NAME_MAX + 2];

        CU_ASSERT_EQUAL(credential_parse_ref("libsecret://openai", &r), 0);
        CU_ASSERT_STRING_EQUAL(r.source, "libsecret");
        CU_ASSERT_STRING_EQUAL(r.name, "openai");
        CU_ASSERT_EQUAL(credential_parse_ref("openai", &r), 0);
        CU_ASSERT_STRING_EQUAL(r.source, "");
        CU_ASSERT_STRING_EQUAL(r.name, "openai");
        /* Only the first separator splits. */
        CU_ASSERT_EQUAL(credential_parse_ref("env://a://b", &r), 0);
        CU_ASSERT_STRING_EQUAL(r.name, "a://b");
        CU_ASSERT_EQUAL(credential_parse_ref("", &r), -EINVAL);
        CU_ASSERT_EQUAL(credential_parse_ref("env://", &r), -EINVAL);
        CU_ASSERT_TRUE(contains(nono_errmsg(), "has no name"));
        CU_ASSERT_EQUAL(credential_parse_ref("://x", &r), -EINVAL);
        CU_ASSERT_EQUAL(credential_parse_ref("Env://x", &r), -EINVAL);
        CU_ASSERT_TRUE(contains(nono_errmsg(), "invalid credential source in \"Env://x\""));
        CU_ASSERT_EQUAL(credential_parse_ref("a\nb", &r), -EINVAL);
        memset(long_name, 'a', sizeof(long_name) - 1);
        long_name[sizeof(long_name) - 1] = '\0';
        CU_ASSERT_EQUAL(credential_parse_ref(long_name, &r), -EINVAL);
        long_name[CREDENTIAL_NAME_MAX] = '\0';
        CU_ASSERT_EQUAL(credential_parse_ref(long_name, &r), 0);
}

/* credential_read_secret on a pipe holding `input` (of `len` bytes). */
static int read_from_pipe(const char *input, size_t len, char **ret, size_t *ret_len)
{
        int fds[2];
        int r;

        CU_ASSERT_FATAL(pipe(fds) == 0);
        CU_ASSERT_FATAL(write(fds[1], input, len) == (ssize_t)len);
        close(fds[1]);
        r = credential_read_secret(fds[0], "test", ret, ret_len);
        close(fds[0]);
        return r;
}

static void expect_read(const char *input, const char *secret)
{
        char *got = NULL;
        size_t len = 0;

        CU_ASSERT_EQUAL_FATAL(read_from_pipe(input, strlen(input), &got, &len), 0);
        CU_ASSERT_STRING_EQUAL(got, secret);
        CU_ASSERT_EQUAL(len, strlen(secret));
        credential_free(got);
}

static void test_read_secret(void)
{
        static char big[CREDENTIAL_SECRET_MAX + 2];
        char *got = NULL;
        size_t len;

        expect_read("abc", "abc");
        expect_read("abc\n", "abc");
        expect_read("abc\r\n", "abc");
        expect_read("abc\n\n", "abc\n");
        expect_read("two\nlines\n", "two\nlines");
        CU_ASSERT_EQUAL(read_from_pipe("\n", 1, &got, &len), -EINVAL);
        CU_ASSERT_STRING_EQUAL(nono_errmsg(), "empty secret for \"test\"");
        memset(big, 'x', CREDENTIAL_SECRET_MAX);
        big[CREDENTIAL_SECRET_MAX] = '\n';
        CU_ASSERT_EQUAL(read_from_pipe(big, CREDENTIAL_SECRET_MAX + 1, &got, &len), 0);
        CU_ASSERT_EQUAL(len, CREDENTIAL_SECRET_MAX);
        credential_free(got);
        big[CREDENTIAL_SECRET_MAX] = 'x';
        big[CREDENTIAL_SECRET_MAX + 1] = '\n';
        CU_ASSERT_EQUAL(read_from_pipe(big, CREDENTIAL_SECRET_MAX + 2, &got, &len), -E2BIG);
}

int main(void)
{
        static const struct test_case cases[] = {
            {"scheme routes to its plugin", test_scheme_routes_to_its_plugin},
            {"bare name follows configured order", test_bare_name_follows_configured_order},
            {"default order", test_default_order},
            {"env declines what it cannot hold", test_env_declines_what_it_cannot_hold},
            {"unknown scheme names the sources", test_unknown_scheme_names_the_sources},
            {"not found names every source", test_not_found_names_every_source},
            {"explicit source fails closed", test_explicit_source_fails_closed},
            {"bare name skips a failed source", test_bare_name_skips_a_failed_source},
            {"old plugin message is not reused", test_old_plugin_message_is_not_reused},
            {"debug output has no secret", test_debug_output_has_no_secret},
            {"secret lives in secret memory", test_secret_lives_in_secret_memory},
            {"store, list, remove", test_store_list_remove},
            {"management refusals", test_management_refusals},
            {"parse references", test_parse_ref},
            {"read a secret", test_read_secret},
        };

        return RUN_CUNIT("credentials", setup, teardown, cases);
}
