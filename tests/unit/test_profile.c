/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cunit-main.h"
#include "error.h"
#include "nono-build-config.h"
#include "paths.h"
#include "profile.h"

#define BUILTIN_DIR NONO_SOURCE_PROFILEDIR

/*
 * Every test runs in a scratch directory outside /tmp (system_write_linux grants /tmp,
 * which would contain a protected path under HOME), used as HOME, with profiles in
 * HOME/p and a user profile directory HOME/user.
 */
static char home[64];
static char tmpdir[64];
static char dir[128], user_dir[128];

static void setup(void)
{
        snprintf(home, sizeof(home), "/var/tmp/nono-profile-XXXXXX");
        snprintf(tmpdir, sizeof(tmpdir), "/tmp/nono-profile-tmp-XXXXXX");
        CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(home));
        CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(tmpdir));
        snprintf(dir, sizeof(dir), "%s/p", home);
        snprintf(user_dir, sizeof(user_dir), "%s/user", home);
        CU_ASSERT_EQUAL(mkdir(dir, 0755), 0);
        CU_ASSERT_EQUAL(mkdir(user_dir, 0755), 0);
        setenv("HOME", home, 1);
        setenv("TMPDIR", tmpdir, 1);
        unsetenv("XDG_CONFIG_HOME");
        unsetenv("XDG_CACHE_HOME");
        unsetenv("XDG_DATA_HOME");
        unsetenv("XDG_STATE_HOME");
}

static void teardown(void)
{
        char cmd[200];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", home, tmpdir);
        CU_ASSERT_EQUAL(system(cmd), 0);
}

/* Writes `text` as IN_DIR/NAME.json. */
static void write_profile(const char *in_dir, const char *name, const char *text)
{
        char path[PATH_MAX];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s.json", in_dir, name);
        f = fopen(path, "w");
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        fputs(text, f);
        fclose(f);
}

static int load(const char *name, struct profile *p)
{
        return profile_load(name, dir, user_dir, p);
}

static void assert_strv(const struct strv *v, ...)
{
        va_list ap;
        size_t i = 0;
        const char *want;

        va_start(ap, v);
        while ((want = va_arg(ap, const char *))) {
                CU_ASSERT_TRUE_FATAL(i < v->n);
                CU_ASSERT_STRING_EQUAL(v->items[i], want);
                i++;
        }
        va_end(ap);
        CU_ASSERT_EQUAL(v->n, i);
}

static const char full_profile[] =
    "{\n"
    "  \"$schema\": \"https://example.com/schema.json\",\n"
    "  // every key of the schema\n"
    "  \"meta\": {\"name\": \"full\", \"version\": \"2.0\", \"description\": \"all keys\",\n"
    "           \"author\": \"tester\"},\n"
    "  \"groups\": {\"include\": [\"python_runtime\"], \"exclude\": [\"user_tools\"]},\n"
    "  \"filesystem\": {\n"
    "    \"allow\": [\"~/a\"], \"read\": [\"~/r\"], \"write\": [\"~/w\"],\n"
    "    \"allow_file\": [\"~/af\"], \"read_file\": [\"~/rf\"], \"write_file\": [\"~/wf\"],\n"
    "    \"deny\": [\"~/d\"], \"bypass_protection\": [\"~/.docker\"], \"share_tmp\": true,\n"
    "    \"allow_unix_datagrams\": true\n"
    "  },\n"
    "  \"network\": {\n"
    "    \"block\": false, \"network_profile\": \"developer\",\n"
    "    \"allow_domain\": [\"Example.COM\", \"*.github.com\", \"::1\"],\n"
    "    \"allow_hosts\": [\"example.com\", \"10.0.0.1\"],\n"
    "    \"credentials\": [\"openai\"],\n"
    "    \"custom_credentials\": {\"svc\": {\"upstream\": \"https://svc.example.com\"}},\n"
    "    \"open_port\": [3000], \"listen_port\": [8080, 8081], \"connect_port\": [443],\n"
    "    \"upstream_proxy\": \"proxy.corp:3128\"\n"
    "  },\n"
    "  \"environment\": {\"allow_vars\": [\"PATH\", \"LANG\"], \"deny_vars\": [\"AWS_SECRET\"],\n"
    "                  \"set_vars\": {\"PAGER\": \"cat\", \"EMPTY\": \"\"}},\n"
    "  \"workdir\": {\"access\": \"read\"},\n"
    "  \"rollback\": {\"exclude_patterns\": [\"node_modules\"], \"exclude_globs\": [\"*.tmp\"]},\n"
    "  \"interactive\": true,\n"
    "  \"limits\": {\"max_processes\": 50, \"max_memory_mb\": 512, \"max_open_files\": 256,\n"
    "             \"max_file_size_mb\": 100, \"cpu_seconds\": 60}\n"
    "}\n";

static void check_full(const struct profile *p)
{
        CU_ASSERT_STRING_EQUAL(p->name, "full");
        CU_ASSERT_STRING_EQUAL(p->version, "2.0");
        CU_ASSERT_STRING_EQUAL(p->description, "all keys");
        CU_ASSERT_STRING_EQUAL(p->author, "tester");
        assert_strv(&p->groups_include, "python_runtime", NULL);
        assert_strv(&p->groups_exclude, "user_tools", NULL);
        assert_strv(&p->fs.allow, "~/a", NULL);
        assert_strv(&p->fs.read, "~/r", NULL);
        assert_strv(&p->fs.write, "~/w", NULL);
        assert_strv(&p->fs.allow_file, "~/af", NULL);
        CU_ASSERT_EQUAL(p->fs.share_tmp, 1);
        CU_ASSERT_EQUAL(p->fs.allow_unix_datagrams, 1);
        CU_ASSERT_EQUAL(p->limits.max_processes, 50);
        CU_ASSERT_EQUAL(p->limits.max_memory_mb, 512);
        CU_ASSERT_EQUAL(p->limits.max_open_files, 256);
        CU_ASSERT_EQUAL(p->limits.max_file_size_mb, 100);
        CU_ASSERT_EQUAL(p->limits.cpu_seconds, 60);
        assert_strv(&p->fs.read_file, "~/rf", NULL);
        assert_strv(&p->fs.write_file, "~/wf", NULL);
        assert_strv(&p->fs.deny, "~/d", NULL);
        assert_strv(&p->fs.bypass_protection, "~/.docker", NULL);
        CU_ASSERT_EQUAL(p->net.block, 0);
        CU_ASSERT_STRING_EQUAL(p->net.network_profile, "developer");
        assert_strv(&p->net.allow_domain, "example.com", "*.github.com", "::1", "10.0.0.1", NULL);
        assert_strv(&p->net.credentials, "openai", NULL);
        CU_ASSERT_STRING_EQUAL(p->net.custom_credentials_json,
                               "{\"svc\":{\"upstream\":\"https://svc.example.com\"}}");
        assert_strv(&p->net.open_port, "3000", NULL);
        assert_strv(&p->net.listen_port, "8080", "8081", NULL);
        assert_strv(&p->net.connect_port, "443", NULL);
        CU_ASSERT_STRING_EQUAL(p->net.upstream_proxy, "proxy.corp:3128");
        assert_strv(&p->env.allow_vars, "PATH", "LANG", NULL);
        assert_strv(&p->env.deny_vars, "AWS_SECRET", NULL);
        assert_strv(&p->env.set_vars, "PAGER=cat", "EMPTY=", NULL);
        CU_ASSERT_EQUAL(p->workdir_access, NONO_ACCESS_READ);
        assert_strv(&p->rollback.exclude_patterns, "node_modules", NULL);
        assert_strv(&p->rollback.exclude_globs, "*.tmp", NULL);
        CU_ASSERT_EQUAL(p->interactive, 1);
}

static void test_parse_every_key(void)
{
        struct profile p;
        char path[PATH_MAX];

        setup();
        write_profile(dir, "full", full_profile);
        snprintf(path, sizeof(path), "%s/full.json", dir);
        CU_ASSERT_EQUAL_FATAL(profile_parse_file(path, &p), 0);
        check_full(&p);
        CU_ASSERT_STRING_EQUAL(p.path, path);
        profile_free(&p);
        teardown();
}

static void test_unset_and_legacy_keys(void)
{
        struct profile p;

        setup();
        write_profile(dir, "legacy",
                      "{\"security\": {\"groups\": [\"a\"]},\n"
                      " \"groups\": {\"include\": [\"a\", \"b\"]},\n"
                      " \"undo\": {\"exclude_patterns\": [\"target\"]},\n"
                      " \"workdir\": {\"access\": \"none\"}}\n");
        CU_ASSERT_EQUAL_FATAL(load("legacy", &p), 0);
        CU_ASSERT_STRING_EQUAL(p.name, "legacy"); /* from the file name */
        assert_strv(&p.groups_include, "a", "b", NULL);
        assert_strv(&p.rollback.exclude_patterns, "target", NULL);
        CU_ASSERT_EQUAL(p.workdir_access, PROFILE_WORKDIR_NONE);
        CU_ASSERT_EQUAL(p.net.block, PROFILE_UNSET);
        CU_ASSERT_EQUAL(p.interactive, PROFILE_UNSET);
        CU_ASSERT_EQUAL(p.fs.share_tmp, PROFILE_UNSET);
        CU_ASSERT_EQUAL(p.fs.allow_unix_datagrams, PROFILE_UNSET);
        CU_ASSERT_EQUAL(p.limits.max_processes, LIMIT_UNSET);
        CU_ASSERT_PTR_NULL(p.description);
        profile_free(&p);
        teardown();
}

/* Loads DIR/bad.json with `text` and checks the whole message. */
static void check_error(const char *text, const char *want_suffix)
{
        char want[PATH_MAX + 256];
        struct profile p;

        write_profile(dir, "bad", text);
        snprintf(want, sizeof(want), "cannot read profile %s/bad.json: %s", dir, want_suffix);
        CU_ASSERT_TRUE(load("bad", &p) < 0);
        CU_ASSERT_STRING_EQUAL(nono_errmsg(), want);
}

static void test_schema_errors(void)
{
        setup();
        check_error(
            "{\n  \"meta\": {\"name\": \"p\"},\n  // a typo below\n  \"filesytem\": {}\n}\n",
            "line 4: unknown key \"filesytem\"");
        check_error("{\"filesystem\": {\n  \"alow\": []}}",
                    "line 2: unknown key \"filesystem.alow\"");
        check_error("{\"network\": {\n \"block\": \"yes\"}}",
                    "line 2: \"network.block\" must be true or false");
        check_error("{\"filesystem\": {\"read\": \"~/x\"}}",
                    "line 1: \"filesystem.read\" must be an array of strings");
        check_error("{\"network\": {\n\n \"listen_port\": [80, 70000]}}",
                    "line 3: \"network.listen_port\" must be an array of port numbers (1-65535)");
        check_error("{\"network\": {\"connect_port\": [0]}}",
                    "line 1: \"network.connect_port\" must be an array of port numbers (1-65535)");
        check_error("{\"network\": {\"allow_domain\": [\"https://api.openai.com\"]}}",
                    "line 1: \"network.allow_domain\": bad host \"https://api.openai.com\" (want a "
                    "name, *.suffix or an IP address, optionally :PORT; no scheme or path)");
        check_error("{\"network\": {\"allow_hosts\": [\"example.com/x\"]}}",
                    "line 1: \"network.allow_hosts\": bad host \"example.com/x\" (want a name, "
                    "*.suffix or an IP address, optionally :PORT; no scheme or path)");
        check_error("{\"environment\": {\"allow_vars\": [\"OK\", \"NOT-OK\"]}}",
                    "line 1: \"environment.allow_vars\": bad variable name \"NOT-OK\"");
        check_error("{\"environment\": {\"set_vars\": {\"A\": 1}}}",
                    "line 1: \"environment.set_vars.A\" must be a string");
        check_error(
            "{\"workdir\": {\"access\": \"rw\"}}",
            "line 1: \"workdir.access\" must be \"none\", \"read\", \"write\" or \"readwrite\"");
        check_error("{\"limits\": {\"max_processes\": 0}}",
                    "line 1: \"limits.max_processes\" must be a positive integer");
        check_error("{\"limits\": {\"max_memory_mb\": \"1G\"}}",
                    "line 1: \"limits.max_memory_mb\" must be a positive integer");
        check_error("{\"extends\": 3}",
                    "line 1: \"extends\" must be a profile name or an array of them");
        check_error("{\"meta\": []}", "line 1: \"meta\" must be an object");
        check_error("[1]", "a profile must be a JSON object");
        check_error("{\"network\": {\"custom_credentials\": []}}",
                    "line 1: \"network.custom_credentials\" must be an object");
        check_error("{\n  \"a\": 1,\n}", "line 3: string or '}' expected near '}'");
        teardown();
}

static void test_extends_merge_order(void)
{
        struct profile p;

        setup();
        write_profile(dir, "base",
                      "{\"meta\": {\"description\": \"base\", \"version\": \"1\"},\n"
                      " \"filesystem\": {\"read\": [\"/a\", \"/shared\"]},\n"
                      " \"network\": {\"block\": true},\n"
                      " \"environment\": {\"set_vars\": {\"A\": \"base\", \"B\": \"base\"}},\n"
                      " \"workdir\": {\"access\": \"read\"}, \"interactive\": true}");
        write_profile(dir, "child",
                      "{\"extends\": \"base\",\n"
                      " \"meta\": {\"description\": \"child\"},\n"
                      " \"filesystem\": {\"read\": [\"/shared\", \"/b\"]},\n"
                      " \"environment\": {\"set_vars\": {\"B\": \"child\"}},\n"
                      " \"interactive\": false}");
        CU_ASSERT_EQUAL_FATAL(load("child", &p), 0);
        CU_ASSERT_STRING_EQUAL(p.name, "child");
        CU_ASSERT_STRING_EQUAL(p.description, "child"); /* derived wins */
        CU_ASSERT_STRING_EQUAL(p.version, "1");         /* inherited */
        assert_strv(&p.fs.read, "/a", "/shared", "/b", NULL);
        CU_ASSERT_EQUAL(p.net.block, 1);
        CU_ASSERT_EQUAL(p.interactive, 0);
        CU_ASSERT_EQUAL(p.workdir_access, NONO_ACCESS_READ);
        assert_strv(&p.env.set_vars, "A=base", "B=child", NULL);
        assert_strv(&p.extends_chain, "base", "child", NULL);
        profile_free(&p);
        teardown();
}

static void test_several_bases_and_diamond(void)
{
        struct profile p;

        setup();
        write_profile(
            dir, "root",
            "{\"meta\": {\"version\": \"root\"}, \"filesystem\": {\"read\": [\"/root\"]}}");
        write_profile(dir, "b1",
                      "{\"extends\": \"root\", \"meta\": {\"version\": \"b1\"},\n"
                      " \"filesystem\": {\"read\": [\"/b1\"]}}");
        write_profile(dir, "b2",
                      "{\"extends\": [\"root\"], \"meta\": {\"version\": \"b2\"},\n"
                      " \"filesystem\": {\"read\": [\"/b2\"]}}");
        write_profile(dir, "d",
                      "{\"extends\": [\"b1\", \"b2\"], \"filesystem\": {\"read\": [\"/d\"]}}");
        CU_ASSERT_EQUAL_FATAL(load("d", &p), 0);
        /* root is merged once, so it cannot undo what b1 set; b2 wins over b1. */
        assert_strv(&p.extends_chain, "root", "b1", "b2", "d", NULL);
        assert_strv(&p.fs.read, "/root", "/b1", "/b2", "/d", NULL);
        CU_ASSERT_STRING_EQUAL(p.version, "b2");
        profile_free(&p);
        teardown();
}

static void test_extends_by_path(void)
{
        struct profile p;
        char sub[128], path[PATH_MAX];

        setup();
        snprintf(sub, sizeof(sub), "%s/sub", home);
        CU_ASSERT_EQUAL(mkdir(sub, 0755), 0);
        write_profile(sub, "base", "{\"filesystem\": {\"read\": [\"/base\"]}}");
        /* Relative to the extending file's directory, not the cwd. */
        write_profile(sub, "top", "{\"extends\": \"./base.json\"}");
        snprintf(path, sizeof(path), "%s/top.json", sub);
        CU_ASSERT_EQUAL_FATAL(load(path, &p), 0);
        assert_strv(&p.fs.read, "/base", NULL);
        profile_free(&p);
        teardown();
}

static void test_cycle_and_depth(void)
{
        struct profile p;
        char name[16], text[64];

        setup();
        write_profile(dir, "a", "{\"extends\": \"b\"}");
        write_profile(dir, "b", "{\"extends\": [\"a\"]}");
        CU_ASSERT_EQUAL(load("a", &p), -ELOOP);
        CU_ASSERT_STRING_EQUAL(nono_errmsg(),
                               "profile a extends b extends a: extends form a cycle");
        write_profile(dir, "self", "{\"extends\": \"./self.json\"}");
        CU_ASSERT_EQUAL(load("self", &p), -ELOOP);
        CU_ASSERT_STRING_EQUAL(nono_errmsg(),
                               "profile self extends ./self.json: extends form a cycle");

        /* p0 extends p1 ... extends pN: PROFILE_EXTENDS_MAX_DEPTH levels load, one more fails. */
        for (int i = 0; i <= PROFILE_EXTENDS_MAX_DEPTH + 1; i++) {
                snprintf(name, sizeof(name), "p%d", i);
                snprintf(text, sizeof(text), "{\"extends\": \"p%d\"}", i + 1);
                write_profile(dir, name, text);
        }
        snprintf(name, sizeof(name), "p%d", PROFILE_EXTENDS_MAX_DEPTH);
        write_profile(dir, name, "{}");
        CU_ASSERT_EQUAL(load("p0", &p), 0);
        CU_ASSERT_EQUAL(p.extends_chain.n, PROFILE_EXTENDS_MAX_DEPTH + 1);
        profile_free(&p);
        snprintf(name, sizeof(name), "p%d", PROFILE_EXTENDS_MAX_DEPTH);
        snprintf(text, sizeof(text), "{\"extends\": \"p%d\"}", PROFILE_EXTENDS_MAX_DEPTH + 1);
        write_profile(dir, name, text);
        CU_ASSERT_EQUAL(load("p0", &p), -ELOOP);
        CU_ASSERT_PTR_NOT_NULL(strstr(nono_errmsg(), "profile p0 extends p1 extends p2"));
        CU_ASSERT_PTR_NOT_NULL(strstr(nono_errmsg(), "more than 8 levels of extends"));
        teardown();
}

static void test_lookup(void)
{
        struct profile p;
        char want[PATH_MAX * 2];
        char *path = NULL;

        setup();
        write_profile(dir, "shared", "{\"meta\": {\"description\": \"built-in\"}}");
        write_profile(user_dir, "shared", "{\"meta\": {\"description\": \"user\"}}");
        CU_ASSERT_EQUAL_FATAL(load("shared", &p), 0);
        CU_ASSERT_STRING_EQUAL(p.description, "user");
        profile_free(&p);

        /* A user profile extending its own name extends the next one in the order. */
        write_profile(user_dir, "shared",
                      "{\"extends\": \"shared\",\n"
                      " \"filesystem\": {\"read\": [\"/mine\"]}}");
        CU_ASSERT_EQUAL_FATAL(load("shared", &p), 0);
        CU_ASSERT_STRING_EQUAL(p.description, "built-in");
        assert_strv(&p.fs.read, "/mine", NULL);
        profile_free(&p);
        write_profile(dir, "lonely", "{\"extends\": \"lonely\"}");
        CU_ASSERT_EQUAL(load("lonely", &p), -ENOENT);

        CU_ASSERT_EQUAL(profile_find("x", dir, user_dir, &path), -ENOENT);
        snprintf(want, sizeof(want), "unknown profile \"x\" (looked in %s and %s)", user_dir, dir);
        CU_ASSERT_STRING_EQUAL(nono_errmsg(), want);
        CU_ASSERT_EQUAL(profile_find("a b", dir, user_dir, &path), -EINVAL);
        CU_ASSERT_PTR_NOT_NULL(strstr(nono_errmsg(), "bad profile name \"a b\""));
        /* groups.json sits next to the profiles but is not one. */
        CU_ASSERT_EQUAL(profile_find("groups", BUILTIN_DIR, NULL, &path), -ENOENT);
        CU_ASSERT_EQUAL(profile_find("python-dev", BUILTIN_DIR, NULL, &path), 0);
        CU_ASSERT_STRING_EQUAL(path, BUILTIN_DIR "/python-dev.json");
        free(path);
        teardown();
}

static void test_list(void)
{
        struct strv names = STRV_INIT;

        setup();
        write_profile(user_dir, "mine", "{}");
        write_profile(user_dir, "python-dev", "{}");
        write_profile(user_dir, "not a profile", "{}");
        CU_ASSERT_EQUAL_FATAL(profile_list(BUILTIN_DIR, user_dir, &names), 0);
        assert_strv(&names, "default", "mine", "node-dev", "python-agent", "python-dev", NULL);
        strv_free(&names);
        teardown();
}

static const char python_agent_text[] =
    "{\n"
    "  \"meta\": {\"name\": \"python-agent\", \"version\": \"1.0.0\",\n"
    "           \"description\": \"Python AI agent with controlled access\"},\n"
    "  \"security\": {\"groups\": [\"python_runtime\"]},\n"
    "  \"filesystem\": {\"allow\": [\"$HOME/.cache/pip\"], \"read_file\": "
    "[\"$HOME/.gitconfig\"]},\n"
    "  \"network\": {\"allow_hosts\": [\"api.openai.com\", \"api.anthropic.com\"]},\n"
    "  \"workdir\": {\"access\": \"readwrite\"},\n"
    "  \"interactive\": false\n"
    "}";

static void test_python_agent_text(void)
{
        char buf[4096];
        FILE *f = fopen(BUILTIN_DIR "/python-agent.json", "r");
        size_t n;

        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        if (n > 0 && buf[n - 1] == '\n')
                buf[n - 1] = '\0';
        CU_ASSERT_STRING_EQUAL(buf, python_agent_text);
}

static void test_python_agent_fields(void)
{
        struct profile p;

        CU_ASSERT_EQUAL_FATAL(profile_load("python-agent", BUILTIN_DIR, NULL, &p), 0);
        CU_ASSERT_STRING_EQUAL(p.name, "python-agent");
        CU_ASSERT_STRING_EQUAL(p.version, "1.0.0");
        CU_ASSERT_STRING_EQUAL(p.description, "Python AI agent with controlled access");
        assert_strv(&p.groups_include, "python_runtime", NULL);
        assert_strv(&p.fs.allow, "$HOME/.cache/pip", NULL);
        assert_strv(&p.fs.read_file, "$HOME/.gitconfig", NULL);
        assert_strv(&p.net.allow_domain, "api.openai.com", "api.anthropic.com", NULL);
        CU_ASSERT_EQUAL(p.net.block, PROFILE_UNSET);
        CU_ASSERT_EQUAL(p.workdir_access, NONO_ACCESS_READWRITE);
        CU_ASSERT_EQUAL(p.interactive, 0);
        profile_free(&p);
}

static void test_write_json_round_trip(void)
{
        struct profile p, again;
        char path[PATH_MAX], first[8192], second[8192];
        FILE *f;

        setup();
        write_profile(dir, "full", full_profile);
        CU_ASSERT_EQUAL_FATAL(load("full", &p), 0);
        snprintf(path, sizeof(path), "%s/exported.json", dir);
        f = fopen(path, "w+");
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        CU_ASSERT_EQUAL(profile_write_json(&p, f), 0);
        rewind(f);
        first[fread(first, 1, sizeof(first) - 1, f)] = '\0';
        fclose(f);
        CU_ASSERT_PTR_NULL(strstr(first, "allow_hosts")); /* canonical keys only */
        CU_ASSERT_PTR_NULL(strstr(first, "security"));
        CU_ASSERT_PTR_NOT_NULL(strstr(first, "\"listen_port\": [\n      8080,"));

        CU_ASSERT_EQUAL_FATAL(profile_load(path, NULL, NULL, &again), 0);
        check_full(&again);
        f = tmpfile();
        CU_ASSERT_EQUAL(profile_write_json(&again, f), 0);
        rewind(f);
        second[fread(second, 1, sizeof(second) - 1, f)] = '\0';
        fclose(f);
        CU_ASSERT_STRING_EQUAL(first, second);
        profile_free(&again);
        profile_free(&p);
        teardown();
}

/* Creates `rel` under HOME: a directory, or a file when `file`. */
static void make_in_home(const char *rel, int file)
{
        char path[512], cmd[2 * sizeof(path) + 64];

        snprintf(path, sizeof(path), "%s/%s", home, rel);
        snprintf(cmd, sizeof(cmd), "mkdir -p '%s'", path);
        if (file)
                snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\" && touch '%s'", path,
                         path);
        CU_ASSERT_EQUAL(system(cmd), 0);
}

static int load_groups(struct groups *g)
{
        return groups_load(BUILTIN_DIR "/groups.json", g);
}

/* default + `name`, as `nono run -p NAME` composes them, applied to `plan`. */
static int resolve_builtin(const char *name, struct plan *plan)
{
        struct profile base, chosen;
        struct groups groups;
        struct vars v;
        int r;

        CU_ASSERT_EQUAL_FATAL(load_groups(&groups), 0);
        CU_ASSERT_EQUAL_FATAL(vars_init(&v, home), 0);
        CU_ASSERT_EQUAL_FATAL(profile_load("default", BUILTIN_DIR, NULL, &base), 0);
        CU_ASSERT_EQUAL_FATAL(profile_load(name, BUILTIN_DIR, NULL, &chosen), 0);
        CU_ASSERT_EQUAL_FATAL(profile_merge(&base, &chosen), 0);
        paths_forget(); /* as the run code does for every plan */
        plan_init(plan);
        r = profile_apply(&base, &groups, &v, plan);
        /* The run code protects nono's own state too; no profile may reach it. */
        if (r == 0)
                r = paths_deny(plan, &v, "$XDG_CONFIG_HOME/nono", "test");
        if (r == 0)
                r = paths_deny(plan, &v, "$XDG_STATE_HOME/nono", "test");
        if (r == 0)
                r = plan_check_protected(plan, 0);
        profile_free(&chosen);
        profile_free(&base);
        vars_free(&v);
        groups_free(&groups);
        return r;
}

static int has_grant(const struct plan *plan, const char *rel, uint32_t access)
{
        char path[PATH_MAX];

        snprintf(path, sizeof(path), "%s/%s", home, rel);
        for (size_t i = 0; i < plan->n_grants; i++)
                if (strcmp(plan->grants[i]->path, path) == 0)
                        return plan->grants[i]->access == access;
        return 0;
}

/* A home where every path the built-in groups name exists, so each grant lands. */
static void populate_home(void)
{
        struct groups g;
        struct vars v;

        CU_ASSERT_EQUAL_FATAL(load_groups(&g), 0);
        CU_ASSERT_EQUAL_FATAL(vars_init(&v, home), 0);
        for (size_t i = 0; i < g.n; i++) {
                const struct strv *lists[] = {&g.items[i].read, &g.items[i].write,
                                              &g.items[i].readwrite, &g.items[i].deny};

                for (size_t l = 0; l < 4; l++) {
                        for (size_t k = 0; k < lists[l]->n; k++) {
                                char *path = NULL;

                                CU_ASSERT_EQUAL_FATAL(vars_expand(&v, lists[l]->items[k], &path),
                                                      0);
                                /* python-agent reads ~/.gitconfig with read_file. */
                                if (strncmp(path, home, strlen(home)) == 0)
                                        make_in_home(path + strlen(home) + 1,
                                                     strstr(path, "/.gitconfig") != NULL);
                                free(path);
                        }
                }
        }
        make_in_home(".cache/pip", 0);
        vars_free(&v);
        groups_free(&g);
}

static void test_builtin_profiles_resolve(void)
{
        struct strv names = STRV_INIT;
        struct plan plan;

        setup();
        populate_home();
        CU_ASSERT_EQUAL_FATAL(profile_list(BUILTIN_DIR, NULL, &names), 0);
        CU_ASSERT_EQUAL(names.n, 4);
        for (size_t i = 0; i < names.n; i++) {
                int r = resolve_builtin(names.items[i], &plan);

                if (r < 0)
                        fprintf(stderr, "\n  %s: %s\n", names.items[i], nono_errmsg());
                CU_ASSERT_EQUAL(r, 0);
                CU_ASSERT_TRUE(plan.n_denies > 10);
                plan_free(&plan);
        }
        CU_ASSERT_EQUAL_FATAL(resolve_builtin("python-dev", &plan), 0);
        CU_ASSERT_TRUE(has_grant(&plan, ".pyenv", NONO_ACCESS_READ));
        CU_ASSERT_TRUE(has_grant(&plan, ".cache/pip", NONO_ACCESS_READWRITE));
        CU_ASSERT_FALSE(has_grant(&plan, ".nvm", NONO_ACCESS_READ));
        plan_free(&plan);
        CU_ASSERT_EQUAL_FATAL(resolve_builtin("python-agent", &plan), 0);
        CU_ASSERT_TRUE(has_grant(&plan, ".cache/pip", NONO_ACCESS_READWRITE));
        CU_ASSERT_TRUE(has_grant(&plan, ".gitconfig", NONO_ACCESS_READ));
        CU_ASSERT_EQUAL(plan.network_mode, NONO_NETWORK_PROXY);
        assert_strv(&plan.allowed_hosts, "api.openai.com", "api.anthropic.com", NULL);
        plan_free(&plan);
        strv_free(&names);
        teardown();
}

/* Loads DIR/NAME and applies it with the built-in groups. */
static int apply_test_profile(const char *name, struct plan *plan)
{
        struct profile p;
        struct groups groups;
        struct vars v;
        int r;

        CU_ASSERT_EQUAL_FATAL(load_groups(&groups), 0);
        CU_ASSERT_EQUAL_FATAL(vars_init(&v, home), 0);
        CU_ASSERT_EQUAL_FATAL(load(name, &p), 0);
        paths_forget(); /* as the run code does for every plan */
        plan_init(plan);
        r = profile_apply(&p, &groups, &v, plan);
        profile_free(&p);
        vars_free(&v);
        groups_free(&groups);
        return r;
}

static void test_apply_group_errors(void)
{
        struct plan plan;

        setup();
        write_profile(dir, "excl",
                      "{\"groups\": {\"include\": [\"deny_credentials\"],\n"
                      "            \"exclude\": [\"deny_credentials\"]}}");
        CU_ASSERT_EQUAL(apply_test_profile("excl", &plan), -EPERM);
        CU_ASSERT_STRING_EQUAL(nono_errmsg(), "profile excl cannot exclude group "
                                              "\"deny_credentials\": it is required");
        plan_free(&plan);
        write_profile(dir, "unk", "{\"groups\": {\"include\": [\"pyton_runtime\"]}}");
        CU_ASSERT_EQUAL(apply_test_profile("unk", &plan), -EINVAL);
        CU_ASSERT_STRING_EQUAL(nono_errmsg(), "unknown group \"pyton_runtime\" in profile unk");
        plan_free(&plan);
        write_profile(dir, "unkx", "{\"groups\": {\"exclude\": [\"nope\"]}}");
        CU_ASSERT_EQUAL(apply_test_profile("unkx", &plan), -EINVAL);
        CU_ASSERT_STRING_EQUAL(nono_errmsg(), "unknown group \"nope\" in profile unkx");
        plan_free(&plan);
        /* Required groups apply even when a profile does not list them. */
        write_profile(dir, "bare", "{}");
        CU_ASSERT_EQUAL(apply_test_profile("bare", &plan), 0);
        CU_ASSERT_TRUE(plan.n_denies > 10);
        CU_ASSERT_EQUAL(plan.n_grants, 0);
        plan_free(&plan);
        /* Excluding an optional group drops it. */
        make_in_home(".nvm", 0);
        write_profile(dir, "ok",
                      "{\"groups\": {\"include\": [\"node_runtime\"],\n"
                      "            \"exclude\": [\"node_runtime\"]}}");
        CU_ASSERT_EQUAL(apply_test_profile("ok", &plan), 0);
        CU_ASSERT_EQUAL(plan.n_grants, 0);
        plan_free(&plan);
        teardown();
}

static void test_apply_paths_network_env(void)
{
        struct plan plan;
        char path[PATH_MAX];

        setup();
        make_in_home("rw", 0);
        make_in_home("file", 1);
        make_in_home(".docker", 0);
        write_profile(dir, "x",
                      "{\"groups\": {\"include\": [\"deny_credentials\"]},\n"
                      " \"filesystem\": {\"allow\": [\"~/rw\"], \"read_file\": [\"~/file\"],\n"
                      "                \"deny\": [\"~/private\"],\n"
                      "                \"bypass_protection\": [\"~/.docker\"]},\n"
                      " \"network\": {\"allow_domain\": [\"pypi.org\"], \"connect_port\": [443],\n"
                      "             \"listen_port\": [8000], \"open_port\": [9000]},\n"
                      " \"environment\": {\"allow_vars\": [\"LANG\"], \"deny_vars\": [\"TOKEN\"],\n"
                      "                 \"set_vars\": {\"A\": \"1\"}}}");
        CU_ASSERT_EQUAL_FATAL(apply_test_profile("x", &plan), 0);
        CU_ASSERT_TRUE(has_grant(&plan, "rw", NONO_ACCESS_READWRITE));
        CU_ASSERT_TRUE(has_grant(&plan, "file", NONO_ACCESS_READ));
        CU_ASSERT_STRING_EQUAL(plan.grants[0]->origin, "profile x");
        snprintf(path, sizeof(path), "%s/private", home);
        CU_ASSERT_STRING_EQUAL(plan.denies[plan.n_denies - 1]->path, path);
        for (size_t i = 0; i < plan.n_denies; i++)
                CU_ASSERT_PTR_NULL(strstr(plan.denies[i]->path, ".docker"));
        CU_ASSERT_EQUAL(plan.network_mode, NONO_NETWORK_PROXY);
        CU_ASSERT_TRUE(plan.network_mode_set);
        assert_strv(&plan.allowed_hosts, "pypi.org", NULL);
        CU_ASSERT_EQUAL_FATAL(plan.n_connect_ports, 2);
        CU_ASSERT_EQUAL(plan.connect_ports[0], 443);
        CU_ASSERT_EQUAL(plan.connect_ports[1], 9000);
        CU_ASSERT_EQUAL_FATAL(plan.n_bind_ports, 2);
        CU_ASSERT_EQUAL(plan.bind_ports[0], 8000);
        CU_ASSERT_EQUAL(plan.bind_ports[1], 9000);
        assert_strv(&plan.env_allow, "LANG", NULL);
        assert_strv(&plan.env_deny, "TOKEN", NULL);
        assert_strv(&plan.env_set, "A=1", NULL);
        plan_free(&plan);

        write_profile(dir, "blocked", "{\"network\": {\"block\": true}}");
        CU_ASSERT_EQUAL(apply_test_profile("blocked", &plan), 0);
        CU_ASSERT_EQUAL(plan.network_mode, NONO_NETWORK_BLOCK);
        CU_ASSERT_TRUE(plan.network_mode_set);
        plan_free(&plan);
        write_profile(dir, "silent", "{}");
        CU_ASSERT_EQUAL(apply_test_profile("silent", &plan), 0);
        CU_ASSERT_FALSE(plan.network_mode_set);
        plan_free(&plan);
        write_profile(dir, "both",
                      "{\"network\": {\"block\": true, \"allow_domain\": [\"a.com\"]}}");
        CU_ASSERT_EQUAL(apply_test_profile("both", &plan), -EINVAL);
        CU_ASSERT_PTR_NOT_NULL(strstr(nono_errmsg(), "network.block cannot be combined"));
        plan_free(&plan);
        teardown();
}

int main(void)
{
        static const struct test_case cases[] = {
            {"parse every key", test_parse_every_key},
            {"unset and legacy keys", test_unset_and_legacy_keys},
            {"schema errors name file, line and key", test_schema_errors},
            {"extends merge order", test_extends_merge_order},
            {"several bases and a diamond", test_several_bases_and_diamond},
            {"extends by relative path", test_extends_by_path},
            {"cycle and depth errors", test_cycle_and_depth},
            {"lookup order", test_lookup},
            {"list", test_list},
            {"python-agent.json text", test_python_agent_text},
            {"python-agent fields", test_python_agent_fields},
            {"write json round trip", test_write_json_round_trip},
            {"built-in profiles resolve", test_builtin_profiles_resolve},
            {"apply: group errors", test_apply_group_errors},
            {"apply: paths, network, environment", test_apply_paths_network_env},
        };

        return RUN_CUNIT("profile", NULL, NULL, cases);
}
