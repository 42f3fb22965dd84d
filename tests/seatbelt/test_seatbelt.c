/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The seatbelt enforcer on any platform: the SBPL renderer against golden files, the
 * order and escaping of its rules, the plugin's probe/render/prepare where Seatbelt
 * cannot run, and `nono run --backend seatbelt` (the built-in profiles rendered by
 * --dry-run; a real run refused).
 *
 *   test_seatbelt GOLDEN_DIR NONO EMPTY_CONF
 *
 * A golden mismatch leaves the actual text in NAME.sb.actual in the working
 * directory.  After an intended change, regenerate every golden file with
 *
 *   UPDATE_GOLDEN=1 meson test -C build seatbelt
 *
 * and review the diff (git diff tests/seatbelt/golden) before committing it.
 */
#include "cunit-main.h"

#include <nono/enforcer.h>
#include <nono/plan.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sbpl.h"

#ifndef NONO_SEATBELT_APPLY
#define NONO_SEATBELT_APPLY 0
#endif

static const char *golden_dir, *nono_path, *empty_conf;

/* ---- plans ------------------------------------------------------------------------------ */

#define PLAN_MAX 8

struct test_plan {
        struct nono_plan plan;
        struct nono_grant grants[PLAN_MAX];
        const struct nono_grant *grant_ptrs[PLAN_MAX];
        struct nono_deny denies[PLAN_MAX];
        const struct nono_deny *deny_ptrs[PLAN_MAX];
        const char *readonly[PLAN_MAX];
        uint16_t connect[PLAN_MAX], bind[PLAN_MAX];
};

static void plan_init(struct test_plan *tp, uint32_t network_mode)
{
        memset(tp, 0, sizeof(*tp));
        tp->plan.size = sizeof(tp->plan);
        tp->plan.network_mode = network_mode;
        tp->plan.grants = tp->grant_ptrs;
        tp->plan.denies = tp->deny_ptrs;
        tp->plan.readonly_paths = tp->readonly;
        tp->plan.tcp_connect_ports = tp->connect;
        tp->plan.tcp_bind_ports = tp->bind;
        tp->plan.workdir = "/work";
}

static void plan_grant(struct test_plan *tp, const char *path, uint32_t access, uint32_t flags)
{
        struct nono_grant *g = &tp->grants[tp->plan.n_grants];

        *g = (struct nono_grant){sizeof(*g), access, flags, path, "test"};
        tp->grant_ptrs[tp->plan.n_grants++] = g;
}

static void plan_deny(struct test_plan *tp, const char *path)
{
        struct nono_deny *d = &tp->denies[tp->plan.n_denies];

        *d = (struct nono_deny){sizeof(*d), path, "test deny"};
        tp->deny_ptrs[tp->plan.n_denies++] = d;
}

static void plan_readonly(struct test_plan *tp, const char *path)
{
        tp->readonly[tp->plan.n_readonly_paths++] = path;
}

/* The profile of a plan that must pass the checks; the caller frees it. */
static char *render(const struct test_plan *tp)
{
        char why[512] = "";
        size_t len;
        char *text;

        if (sbpl_check(&tp->plan, why, sizeof(why)) != 0) {
                fprintf(stderr, "plan refused: %s\n", why);
                return NULL;
        }
        len = sbpl_render(&tp->plan, NULL, 0);
        text = malloc(len + 1);
        if (text && sbpl_render(&tp->plan, text, len + 1) != len) {
                free(text);
                return NULL;
        }
        return text;
}

/* ---- golden files ------------------------------------------------------------------------ */

static char *read_file(const char *path)
{
        FILE *f = fopen(path, "rb");
        char *buf = NULL;
        long n;

        if (!f)
                return NULL;
        if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
                buf = malloc((size_t)n + 1);
                if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n)
                        buf[n] = '\0';
                else {
                        free(buf);
                        buf = NULL;
                }
        }
        fclose(f);
        return buf;
}

static bool write_file(const char *path, const char *text)
{
        FILE *f = fopen(path, "wb");
        bool ok = f && fputs(text, f) >= 0;

        if (f && fclose(f) != 0)
                ok = false;
        return ok;
}

static unsigned first_different_line(const char *a, const char *b)
{
        unsigned line = 1;

        for (; *a && *a == *b; a++, b++)
                line += *a == '\n';
        return line;
}

/* Compares `text` with golden/NAME.sb, or writes it there under UPDATE_GOLDEN=1. */
static void check_golden(const char *name, const char *text)
{
        char path[4096], actual[512];
        char *want;

        CU_ASSERT_PTR_NOT_NULL_FATAL(text);
        snprintf(path, sizeof(path), "%s/%s.sb", golden_dir, name);
        if (getenv("UPDATE_GOLDEN")) {
                CU_ASSERT(write_file(path, text));
                return;
        }
        want = read_file(path);
        if (!want) {
                fprintf(stderr, "\n  missing golden file %s (UPDATE_GOLDEN=1 creates it)\n", path);
                CU_FAIL("missing golden file");
                return;
        }
        if (strcmp(want, text) != 0) {
                snprintf(actual, sizeof(actual), "%s.sb.actual", name);
                write_file(actual, text);
                fprintf(stderr, "\n  %s differs from %s from line %u: diff -u %s %s\n", name, path,
                        first_different_line(want, text), path, actual);
                CU_FAIL("output differs from the golden file");
        }
        free(want);
}

static void check_plan_golden(const char *name, const struct test_plan *tp)
{
        char *text = render(tp);

        check_golden(name, text);
        free(text);
}

/* ---- a small SBPL reader: the profile's top-level forms ---------------------------------- */

/*
 * Counts the top-level forms of `text`, each of which must start with
 * version/allow/deny; -1 when a string or list is left open, a parenthesis is
 * unmatched, or a form starts otherwise.  Enough to see a path break out of its string.
 */
static int count_forms(const char *text)
{
        int depth = 0, forms = 0;

        for (const char *c = text; *c; c++) {
                if (*c == ';') {
                        c = strchr(c, '\n');
                        if (!c)
                                break;
                } else if (*c == '"') {
                        for (c++; *c && *c != '"'; c++)
                                if (*c == '\\' && c[1])
                                        c++;
                        if (!*c)
                                return -1;
                } else if (*c == '(') {
                        if (depth++ == 0) {
                                forms++;
                                if (strncmp(c, "(version ", 9) != 0 &&
                                    strncmp(c, "(allow ", 7) != 0 && strncmp(c, "(deny ", 6) != 0)
                                        return -1;
                        }
                } else if (*c == ')' && --depth < 0) {
                        return -1;
                }
        }
        return depth == 0 ? forms : -1;
}

/* ---- the renderer: golden files ---------------------------------------------------------- */

static void test_golden_empty(void)
{
        struct test_plan tp;

        plan_init(&tp, NONO_NETWORK_BLOCK);
        check_plan_golden("empty", &tp);
}

static void test_golden_quotes_spaces_backslash(void)
{
        struct test_plan tp;

        plan_init(&tp, NONO_NETWORK_BLOCK);
        plan_grant(&tp, "/Users/a b/say \"hi\"", NONO_ACCESS_READWRITE, 0);
        plan_grant(&tp, "/Users/a b/back\\slash\\", NONO_ACCESS_READ, 0);
        plan_grant(&tp, "/Users/a b/notes (old).txt", NONO_ACCESS_READ, NONO_GRANT_FILE);
        plan_deny(&tp, "/Users/a b/say \"hi\"/.ssh");
        check_plan_golden("quotes-spaces-backslash", &tp);
}

static void test_golden_non_ascii(void)
{
        struct test_plan tp;

        plan_init(&tp, NONO_NETWORK_BLOCK);
        plan_grant(&tp, "/Users/zoë/プロジェクト", NONO_ACCESS_READWRITE, 0);
        plan_grant(&tp, "/Users/zoë/données.csv", NONO_ACCESS_READ, NONO_GRANT_FILE);
        plan_deny(&tp, "/Users/zoë/プロジェクト/.env");
        check_plan_golden("non-ascii", &tp);
}

static void test_golden_private_aliases(void)
{
        struct test_plan tp;

        plan_init(&tp, NONO_NETWORK_BLOCK);
        plan_grant(&tp, "/tmp", NONO_ACCESS_READWRITE, 0);
        plan_grant(&tp, "/private/var/folders/xy/T", NONO_ACCESS_READWRITE, 0);
        plan_grant(&tp, "/etc/hosts", NONO_ACCESS_READ, NONO_GRANT_FILE);
        /* Not an alias: only whole components count. */
        plan_grant(&tp, "/etcetera", NONO_ACCESS_READ, 0);
        plan_deny(&tp, "/private/tmp/secrets");
        plan_readonly(&tp, "/var/folders/xy/T/repo/.git/hooks");
        check_plan_golden("private-aliases", &tp);
}

static void test_golden_file_and_dir_grants(void)
{
        struct test_plan tp;

        plan_init(&tp, NONO_NETWORK_BLOCK);
        plan_grant(&tp, "/usr/lib", NONO_ACCESS_READ, 0);
        plan_grant(&tp, "/usr/bin/env", NONO_ACCESS_READ, NONO_GRANT_FILE);
        plan_grant(&tp, "/dev/null", NONO_ACCESS_READWRITE, NONO_GRANT_FILE);
        plan_grant(&tp, "/srv/out", NONO_ACCESS_WRITE, 0);
        plan_grant(&tp, "/srv/out.log", NONO_ACCESS_WRITE, NONO_GRANT_FILE);
        check_plan_golden("file-and-dir-grants", &tp);
}

/* The plan of `--allow ~` with protected paths and a workspace's persistence paths. */
static void plan_home(struct test_plan *tp)
{
        plan_init(tp, NONO_NETWORK_BLOCK);
        plan_grant(tp, "/usr", NONO_ACCESS_READ, 0);
        plan_grant(tp, "/Users/u", NONO_ACCESS_READWRITE, 0);
        plan_deny(tp, "/Users/u/.ssh");
        plan_deny(tp, "/Users/u/.config/gcloud");
        plan_deny(tp, "/Users/u/.gnupg");
        plan_deny(tp, "/Library/Keychains");
        plan_readonly(tp, "/Users/u/proj/.git/hooks");
        plan_readonly(tp, "/Users/u/proj/.git/config");
}

static void test_golden_deny_inside_allow(void)
{
        struct test_plan tp;

        plan_home(&tp);
        check_plan_golden("deny-inside-allow", &tp);
}

/* One read-write workspace, the network in `mode`. */
static void plan_network(struct test_plan *tp, uint32_t mode)
{
        plan_init(tp, mode);
        plan_grant(tp, "/Users/u/proj", NONO_ACCESS_READWRITE, 0);
}

static void test_golden_network_allow(void)
{
        struct test_plan tp;

        plan_network(&tp, NONO_NETWORK_ALLOW);
        check_plan_golden("network-allow", &tp);
}

static void test_golden_network_block(void)
{
        struct test_plan tp;

        plan_network(&tp, NONO_NETWORK_BLOCK);
        check_plan_golden("network-block", &tp);
}

static void test_golden_network_block_ports(void)
{
        struct test_plan tp;

        plan_network(&tp, NONO_NETWORK_BLOCK);
        tp.connect[tp.plan.n_tcp_connect_ports++] = 5432;
        tp.bind[tp.plan.n_tcp_bind_ports++] = 8000;
        check_plan_golden("network-block-ports", &tp);
}

static void test_golden_network_proxy(void)
{
        struct test_plan tp;

        plan_network(&tp, NONO_NETWORK_PROXY);
        tp.plan.proxy_port = 41234;
        check_plan_golden("network-proxy", &tp);
}

static void test_golden_network_proxy_port_unknown(void)
{
        struct test_plan tp;

        plan_network(&tp, NONO_NETWORK_PROXY);
        check_plan_golden("network-proxy-port-unknown", &tp);
}

/* ---- the renderer: properties ------------------------------------------------------------ */

static const char *find_after(const char *text, const char *what, const char *after)
{
        const char *a = strstr(text, after);

        return a ? strstr(a, what) : NULL;
}

static void test_deny_after_allow(void)
{
        struct test_plan tp;
        char *text;
        const char *allow;

        plan_home(&tp);
        text = render(&tp);
        CU_ASSERT_PTR_NOT_NULL_FATAL(text);
        allow = strstr(text, "file-write* file-ioctl (subpath \"/Users/u\"))");
        CU_ASSERT_PTR_NOT_NULL_FATAL(allow);
        /* The protected paths, their sockets, the read-only paths and the directories
         * above them all come after the grant they carve into. */
        CU_ASSERT_PTR_NOT_NULL(find_after(
            text, "(deny file-read* file-write* process-exec* (subpath \"/Users/u/.ssh\"))",
            allow));
        CU_ASSERT_PTR_NOT_NULL(find_after(
            text,
            "(deny file-read* file-write* process-exec* (subpath \"/Users/u/.config/gcloud\"))",
            allow));
        CU_ASSERT_PTR_NOT_NULL(
            find_after(text, "(remote unix-socket (subpath \"/Users/u/.gnupg\"))", allow));
        CU_ASSERT_PTR_NOT_NULL(
            find_after(text, "(deny file-write* (subpath \"/Users/u/proj/.git/hooks\"))", allow));
        CU_ASSERT_PTR_NOT_NULL(find_after(text, "(literal \"/Users/u/.config\")", allow));
        CU_ASSERT_PTR_NOT_NULL(find_after(text, "(literal \"/Users/u/proj/.git\")", allow));
        /* ...and nothing is allowed after the first deny of the final section. */
        CU_ASSERT_PTR_NULL(find_after(text, "(allow ", strstr(text, "(deny file-read*")));
        free(text);
}

static void test_protected_sockets_only_in_write_grants(void)
{
        struct test_plan tp;
        char *text;

        plan_home(&tp);
        text = render(&tp);
        CU_ASSERT_PTR_NOT_NULL_FATAL(text);
        /* /Library/Keychains lies in no write grant: no socket rule could reach it. */
        CU_ASSERT_PTR_NULL(strstr(text, "(remote unix-socket (subpath \"/Library/Keychains\"))"));
        CU_ASSERT_PTR_NOT_NULL(strstr(text, "(subpath \"/Library/Keychains\"))"));
        free(text);
}

/* A path that would close its string and add a rule if it were not escaped. */
#define EVIL "/tmp/x\")) (allow file-read* (subpath \"/\")) (deny (\""

static void test_escaping_keeps_rules_whole(void)
{
        struct test_plan benign, hostile;
        char *b, *h;

        plan_init(&benign, NONO_NETWORK_BLOCK);
        plan_grant(&benign, "/tmp/x", NONO_ACCESS_READWRITE, 0);
        plan_deny(&benign, "/tmp/x/.ssh");
        plan_init(&hostile, NONO_NETWORK_BLOCK);
        plan_grant(&hostile, EVIL, NONO_ACCESS_READWRITE, 0);
        plan_deny(&hostile, EVIL "/.ssh");
        b = render(&benign);
        h = render(&hostile);
        CU_ASSERT_PTR_NOT_NULL_FATAL(b);
        CU_ASSERT_PTR_NOT_NULL_FATAL(h);
        CU_ASSERT(count_forms(b) > 10);
        /* The same rules, the path inside its strings; the injected rule is text. */
        CU_ASSERT_EQUAL(count_forms(h), count_forms(b));
        CU_ASSERT_PTR_NOT_NULL(strstr(h, "(subpath \"/private/tmp/x\\\")) (allow file-read* "
                                         "(subpath \\\"/\\\")) (deny (\\\"\")"));
        CU_ASSERT_PTR_NOT_NULL(strstr(h, "(deny (\\\"/.ssh\")"));
        free(b);
        free(h);
}

static void test_control_characters_refused(void)
{
        static const char *const paths[] = {"/srv/a\nb", "/srv/a\rb", "/srv/a\tb", "/srv/a\x1b[2Jb",
                                            "/srv/a\x7f"};
        char why[512];

        for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
                struct test_plan tp;

                plan_init(&tp, NONO_NETWORK_BLOCK);
                plan_grant(&tp, "/srv", NONO_ACCESS_READ, 0);
                if (i % 2)
                        plan_deny(&tp, paths[i]);
                else
                        plan_readonly(&tp, paths[i]);
                why[0] = '\0';
                CU_ASSERT_EQUAL(sbpl_check(&tp.plan, why, sizeof(why)), -EINVAL);
                CU_ASSERT_PTR_NOT_NULL(strstr(why, "control character"));
                /* The message stops before the byte: no escape sequence reaches a terminal. */
                CU_ASSERT_PTR_NOT_NULL(strstr(why, "\"/srv/a...\""));
                CU_ASSERT_PTR_NULL(strchr(why, paths[i][6]));
        }
}

static void test_malformed_plans_refused(void)
{
        struct test_plan tp;
        char why[512];

        plan_init(&tp, NONO_NETWORK_BLOCK);
        plan_grant(&tp, "relative/path", NONO_ACCESS_READ, 0);
        CU_ASSERT_EQUAL(sbpl_check(&tp.plan, why, sizeof(why)), -EINVAL);
        CU_ASSERT_PTR_NOT_NULL(strstr(why, "not an absolute path"));

        plan_init(&tp, NONO_NETWORK_BLOCK);
        plan_grant(&tp, "/srv", 1u << 5, 0);
        CU_ASSERT_EQUAL(sbpl_check(&tp.plan, why, sizeof(why)), -EINVAL);

        plan_init(&tp, NONO_NETWORK_BLOCK);
        tp.plan.n_grants = 1;
        tp.plan.grants = NULL;
        CU_ASSERT_EQUAL(sbpl_check(&tp.plan, why, sizeof(why)), -EINVAL);

        plan_init(&tp, NONO_NETWORK_BLOCK);
        tp.plan.size = 8;
        CU_ASSERT_EQUAL(sbpl_check(&tp.plan, why, sizeof(why)), -EINVAL);
        CU_ASSERT_EQUAL(sbpl_check(NULL, why, sizeof(why)), -EINVAL);
}

/* A plan from before readonly_paths and the proxy fields: rendered without them. */
static void test_older_plan(void)
{
        struct test_plan tp;
        char *text;

        plan_home(&tp);
        tp.plan.size = offsetof(struct nono_plan, readonly_paths);
        text = render(&tp);
        CU_ASSERT_PTR_NOT_NULL_FATAL(text);
        CU_ASSERT_PTR_NULL(strstr(text, ".git/hooks"));
        CU_ASSERT_PTR_NOT_NULL(strstr(text, "/Users/u/.ssh"));
        free(text);
}

static void test_unknown_network_mode_blocks(void)
{
        struct test_plan tp;
        char *text;

        plan_network(&tp, 7);
        text = render(&tp);
        CU_ASSERT_PTR_NOT_NULL_FATAL(text);
        CU_ASSERT_PTR_NOT_NULL(strstr(text, "unknown mode, blocked"));
        CU_ASSERT_PTR_NULL(strstr(text, "(allow network*)"));
        CU_ASSERT_PTR_NULL(strstr(text, "(remote tcp"));
        free(text);
}

static void test_measure_and_truncate(void)
{
        struct test_plan tp;
        char small[64];
        size_t len;

        plan_home(&tp);
        len = sbpl_render(&tp.plan, NULL, 0);
        CU_ASSERT(len > sizeof(small));
        memset(small, 'x', sizeof(small));
        CU_ASSERT_EQUAL(sbpl_render(&tp.plan, small, sizeof(small)), len);
        CU_ASSERT_EQUAL(small[sizeof(small) - 1], '\0');
        CU_ASSERT_EQUAL(strncmp(small, "(version 1)\n(deny default)\n", 27), 0);
}

/* ---- the plugin, linked in, on a minimal host -------------------------------------------- */

const struct nono_plugin_desc *nono_plugin_query_seatbelt(void);

static char host_error[1024];

static void host_log(void *ctx, int level, const char *fmt, ...)
{
}

static void host_set_error(void *ctx, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(host_error, sizeof(host_error), fmt, ap);
        va_end(ap);
}

static void *host_alloc(void *ctx, size_t size)
{
        return calloc(1, size);
}

static void host_free(void *ctx, void *ptr)
{
        free(ptr);
}

static const struct nono_host host = {
    .size = sizeof(struct nono_host),
    .abi_major = NONO_PLUGIN_ABI_MAJOR,
    .abi_minor = NONO_PLUGIN_ABI_MINOR,
    .log = host_log,
    .set_error = host_set_error,
    .alloc = host_alloc,
    .free = host_free,
    .secret_alloc = host_alloc,
    .secret_free = host_free,
};

static void test_plugin_where_seatbelt_cannot_run(void)
{
        const struct nono_plugin_desc *desc = nono_plugin_query_seatbelt();
        const struct nono_enforcer_ops *ops = desc->ops;
        struct nono_enforcer_info info = {.size = sizeof(info)};
        struct test_plan tp;
        void *state = NULL, *prepared = NULL;
        char *text = NULL;

        CU_ASSERT_EQUAL_FATAL(desc->init(&host, &state), 0);
        plan_home(&tp);
        host_error[0] = '\0';
        if (NONO_SEATBELT_APPLY) {
                CU_ASSERT_EQUAL(ops->probe(state, &info), 0);
        } else {
                /* Unavailable, saying why, yet with what it offers where it runs. */
                CU_ASSERT_EQUAL(ops->probe(state, &info), -ENOTSUP);
                CU_ASSERT_PTR_NOT_NULL(strstr(host_error, "not macOS"));
                CU_ASSERT_EQUAL(ops->prepare(state, &tp.plan, &prepared), -ENOTSUP);
                CU_ASSERT_PTR_NULL(prepared);
                CU_ASSERT_EQUAL(ops->apply(state, NULL), -EINVAL);
        }
        CU_ASSERT(info.capabilities & NONO_ENFORCER_CAP_MASK_PROTECTED);
        /* Rendering works everywhere. */
        CU_ASSERT_EQUAL(ops->render(state, &tp.plan, &text), 0);
        CU_ASSERT_PTR_NOT_NULL_FATAL(text);
        CU_ASSERT_EQUAL(strncmp(text, "SBPL profile", 12), 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(text, "\n(version 1)\n(deny default)\n"));
        free(text);
        /* ...except a plan it cannot express, with the reason. */
        plan_deny(&tp, "/Users/u/a\nb");
        CU_ASSERT_EQUAL(ops->render(state, &tp.plan, &text), -EINVAL);
        CU_ASSERT_PTR_NOT_NULL(strstr(host_error, "seatbelt: "));
        CU_ASSERT_PTR_NOT_NULL(strstr(host_error, "control character"));
        desc->fini(state);
}

/* ---- nono run --backend seatbelt ----------------------------------------------------------- */

/* A scratch directory under /var/tmp: HOME, a workspace with persistence paths. */
static char scratch[64];

static int make_dirs(const char *base, const char *const *rel, size_t n)
{
        char path[256];

        for (size_t i = 0; i < n; i++) {
                snprintf(path, sizeof(path), "%s/%s", base, rel[i]);
                if (mkdir(path, 0700) < 0 && errno != EEXIST)
                        return -1;
        }
        return 0;
}

static int suite_init(void)
{
        static const char *const dirs[] = {"home", "work", "work/.git", "work/.git/hooks",
                                           "work/.vscode"};

        snprintf(scratch, sizeof(scratch), "/var/tmp/nono-seatbelt-XXXXXX");
        if (!mkdtemp(scratch))
                return -1;
        return make_dirs(scratch, dirs, sizeof(dirs) / sizeof(dirs[0]));
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
        return remove(path);
}

static int suite_cleanup(void)
{
        return nftw(scratch, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Runs nono with `args` (after "run") in a clean environment; exit status or -1. */
static int run_nono(const char *const *args, size_t n, const char *out, const char *err)
{
        char home[128], conf[4096];
        const char *envp[] = {home, conf, "PATH=/usr/bin:/bin", "LC_ALL=C", NULL};
        const char *argv[32] = {nono_path, "run"};
        int status;
        pid_t pid;

        if (n + 3 > sizeof(argv) / sizeof(argv[0]))
                return -1;
        for (size_t i = 0; i < n; i++)
                argv[2 + i] = args[i];
        snprintf(home, sizeof(home), "HOME=%s/home", scratch);
        snprintf(conf, sizeof(conf), "NONO_CONFIG=%s", empty_conf);
        pid = fork();
        if (pid == 0) {
                int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
                int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);

                if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
                        _exit(120);
                execve(nono_path, (char *const *)argv, (char *const *)envp);
                _exit(121);
        }
        if (pid < 0 || waitpid(pid, &status, 0) != pid)
                return -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Replaces every `from` in `text` (in place: `to` is not longer). */
static void replace_all(char *text, const char *from, const char *to)
{
        size_t nf = strlen(from), nt = strlen(to);
        char *p;

        while ((p = strstr(text, from))) {
                memcpy(p, to, nt);
                memmove(p + nt, p + nf, strlen(p + nf) + 1);
        }
}

/* The enforcer's part of a dry run: from the last "seatbelt: " line on. */
static const char *rendered_part(const char *out)
{
        const char *part = NULL;

        for (const char *p = out; (p = strstr(p, "seatbelt: ")); p++)
                if (p == out || p[-1] == '\n')
                        part = p;
        return part;
}

static void check_profile_golden(const char *profile)
{
        char workdir[128], out[128], err[128], name[64];
        const char *const args[] = {"--backend", "seatbelt", "--dry-run",   "--profile", profile,
                                    "--workdir", workdir,    "--allow-cwd", "--",        "true"};
        char *text;
        const char *part;

        snprintf(workdir, sizeof(workdir), "%s/work", scratch);
        snprintf(out, sizeof(out), "%s/out", scratch);
        snprintf(err, sizeof(err), "%s/err", scratch);
        snprintf(name, sizeof(name), "profile-%s", profile);
        CU_ASSERT_EQUAL_FATAL(run_nono(args, sizeof(args) / sizeof(args[0]), out, err), 0);
        text = read_file(out);
        CU_ASSERT_PTR_NOT_NULL_FATAL(text);
        part = rendered_part(text);
        CU_ASSERT_PTR_NOT_NULL(part);
        if (part) {
                char *copy = strdup(part);

                CU_ASSERT_PTR_NOT_NULL_FATAL(copy);
                replace_all(copy, scratch, "@TMP@");
                check_golden(name, copy);
                free(copy);
        }
        free(text);
        /* The one-line note that it cannot be applied here. */
        text = read_file(err);
        CU_ASSERT_PTR_NOT_NULL_FATAL(text);
        if (!NONO_SEATBELT_APPLY)
                CU_ASSERT_PTR_NOT_NULL(strstr(text, "enforcer seatbelt cannot be applied on this "
                                                    "machine"));
        free(text);
}

static void test_profile_default(void)
{
        check_profile_golden("default");
}

static void test_profile_python_dev(void)
{
        check_profile_golden("python-dev");
}

static void test_profile_node_dev(void)
{
        check_profile_golden("node-dev");
}

static void test_profile_python_agent(void)
{
        check_profile_golden("python-agent");
}

static void test_real_run_refused(void)
{
        char marker[128], out[128], err[128];
        const char *const args[] = {"--backend", "seatbelt", "--allow", scratch,
                                    "--",        "touch",    marker};
        struct stat st;
        char *text;

        if (NONO_SEATBELT_APPLY)
                return;
        snprintf(marker, sizeof(marker), "%s/ran", scratch);
        snprintf(out, sizeof(out), "%s/out", scratch);
        snprintf(err, sizeof(err), "%s/err", scratch);
        CU_ASSERT_EQUAL(run_nono(args, sizeof(args) / sizeof(args[0]), out, err), 1);
        CU_ASSERT_EQUAL(stat(marker, &st), -1);
        text = read_file(err);
        CU_ASSERT_PTR_NOT_NULL_FATAL(text);
        CU_ASSERT_PTR_NOT_NULL(strstr(text, "nono: enforcer seatbelt is not usable here: "
                                            "seatbelt: Seatbelt is the macOS sandbox"));
        free(text);
}

int main(int argc, char **argv)
{
        static const struct test_case cases[] = {
            {"golden: empty plan", test_golden_empty},
            {"golden: quotes, spaces, backslashes", test_golden_quotes_spaces_backslash},
            {"golden: non-ASCII paths", test_golden_non_ascii},
            {"golden: /tmp, /var, /etc and /private", test_golden_private_aliases},
            {"golden: file and directory grants", test_golden_file_and_dir_grants},
            {"golden: denies inside a granted home", test_golden_deny_inside_allow},
            {"golden: network allowed", test_golden_network_allow},
            {"golden: network blocked", test_golden_network_block},
            {"golden: network blocked, loopback ports", test_golden_network_block_ports},
            {"golden: network through the proxy", test_golden_network_proxy},
            {"golden: proxy port not known yet", test_golden_network_proxy_port_unknown},
            {"denies come after the allows they carve into", test_deny_after_allow},
            {"socket denies only where a grant reaches",
             test_protected_sockets_only_in_write_grants},
            {"escaping keeps every rule whole", test_escaping_keeps_rules_whole},
            {"control characters are refused", test_control_characters_refused},
            {"malformed plans are refused", test_malformed_plans_refused},
            {"an older, shorter plan renders", test_older_plan},
            {"an unknown network mode blocks", test_unknown_network_mode_blocks},
            {"measuring, and a short buffer", test_measure_and_truncate},
            {"plugin: probe, prepare, render here", test_plugin_where_seatbelt_cannot_run},
            {"dry run: profile default", test_profile_default},
            {"dry run: profile python-dev", test_profile_python_dev},
            {"dry run: profile node-dev", test_profile_node_dev},
            {"dry run: profile python-agent", test_profile_python_agent},
            {"a real run fails where Seatbelt cannot run", test_real_run_refused},
        };

        if (argc != 4) {
                fprintf(stderr, "usage: %s GOLDEN_DIR NONO EMPTY_CONF\n", argv[0]);
                return 2;
        }
        golden_dir = argv[1];
        nono_path = argv[2];
        empty_conf = argv[3];
        return RUN_CUNIT("seatbelt", suite_init, suite_cleanup, cases);
}
