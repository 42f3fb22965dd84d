/* SPDX-License-Identifier: Apache-2.0 */
/* Host configuration: nono.conf parsing, and how the user file combines with the system's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "cunit-main.h"
#include "error.h"

/* Every test writes its files here; removed at the end of main. */
static char tmpdir[] = "/tmp/nono-test-config-XXXXXX";

static char *write_file(const char *name, const char *text)
{
        char *path = nono_path_join(tmpdir, name);
        FILE *f = fopen(path, "w");

        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        fputs(text, f);
        fclose(f);
        return path;
}

static void load_pair(struct host_config *c, const char *system_text, const char *user_text,
                      int expect)
{
        char *sys = write_file("system.conf", system_text);
        char *usr = write_file("user.conf", user_text);

        CU_ASSERT_EQUAL(host_config_load_files(c, sys, usr), expect);
        free(sys);
        free(usr);
}

static void test_parses_settings(void)
{
        struct host_config c;
        char *path = write_file("all.conf", "plugin_dir = \"/opt/nono/plugins\";\n"
                                            "enforcer = \"landlock\";\n"
                                            "credential_sources = [\"env\", \"libsecret\"];\n"
                                            "policy_modules = (\"org\");\n"
                                            "store = { backend = \"lmdb\"; keep = 10; "
                                            "path = \"/srv/nono-store\"; };\n"
                                            "plugins = { landlock = { x = 1; }; };\n");

        setenv("NONO_CONFIG", path, 1);
        CU_ASSERT_EQUAL_FATAL(host_config_load(&c), 0);
        CU_ASSERT_TRUE(c.have_system);
        CU_ASSERT_FALSE(c.have_user);
        CU_ASSERT_STRING_EQUAL(c.plugin_dir, "/opt/nono/plugins");
        CU_ASSERT_STRING_EQUAL(c.enforcer, "landlock");
        CU_ASSERT_EQUAL(c.credential_sources.n, 2);
        CU_ASSERT_STRING_EQUAL(c.credential_sources.items[1], "libsecret");
        CU_ASSERT_EQUAL(c.policy_modules.n, 1);
        CU_ASSERT_STRING_EQUAL(c.policy_modules.items[0], "org");
        CU_ASSERT_STRING_EQUAL(c.store_backend, "lmdb");
        CU_ASSERT_STRING_EQUAL(c.store_path, "/srv/nono-store");
        CU_ASSERT_EQUAL(c.store_keep, 10);
        host_config_free(&c);
        free(path);
}

static void test_store_path_must_be_absolute(void)
{
        struct host_config c;
        char *path = write_file("store.conf", "store = { path = \"relative/store\"; };\n");

        setenv("NONO_CONFIG", path, 1);
        CU_ASSERT_EQUAL(host_config_load(&c), -EINVAL);
        CU_ASSERT_PTR_NOT_NULL(strstr(nono_errmsg(), "absolute path"));
        free(path);
}

static void test_empty_and_missing(void)
{
        struct host_config c;
        char *empty = write_file("empty.conf", "# nothing\n");
        char *absent = nono_path_join(tmpdir, "absent.conf");

        CU_ASSERT_EQUAL(host_config_load_files(&c, absent, absent), 0);
        CU_ASSERT_FALSE(c.have_system);
        CU_ASSERT_FALSE(c.have_user);
        CU_ASSERT_PTR_NULL(c.plugin_dir);
        CU_ASSERT_PTR_NULL(host_config_plugin_section(&c, "landlock"));
        host_config_free(&c);

        CU_ASSERT_EQUAL(host_config_load_files(&c, empty, NULL), 0);
        CU_ASSERT_TRUE(c.have_system);
        CU_ASSERT_PTR_NULL(c.enforcer);
        CU_ASSERT_EQUAL(c.policy_modules.n, 0);
        host_config_free(&c);
        /* Freeing twice, or a struct never loaded, is harmless. */
        host_config_free(&c);

        /* A file named by NONO_CONFIG must exist. */
        setenv("NONO_CONFIG", absent, 1);
        CU_ASSERT_EQUAL(host_config_load(&c), -ENOENT);
        CU_ASSERT_TRUE(strstr(nono_errmsg(), absent) != NULL);
        free(empty);
        free(absent);
}

static void test_nono_config_is_the_only_file(void)
{
        struct host_config c;
        char *only = write_file("only.conf", "enforcer = \"only\";\n");
        char *xdg = nono_path_join(tmpdir, "xdg");
        char *nono_dir = nono_path_join(xdg, "nono");
        char *user;

        mkdir(xdg, 0700);
        mkdir(nono_dir, 0700);
        user = write_file("xdg/nono/nono.conf", "enforcer = \"user\";\n");
        setenv("XDG_CONFIG_HOME", xdg, 1);

        setenv("NONO_CONFIG", only, 1);
        CU_ASSERT_EQUAL_FATAL(host_config_load(&c), 0);
        CU_ASSERT_FALSE(c.have_user);
        CU_ASSERT_STRING_EQUAL(c.enforcer, "only");
        host_config_free(&c);

        /* Without NONO_CONFIG the user's file is found through XDG_CONFIG_HOME. */
        unsetenv("NONO_CONFIG");
        CU_ASSERT_EQUAL_FATAL(host_config_load(&c), 0);
        CU_ASSERT_TRUE(c.have_user);
        CU_ASSERT_STRING_EQUAL(c.enforcer, "user");
        host_config_free(&c);

        unlink(user);
        rmdir(nono_dir);
        rmdir(xdg);
        unsetenv("XDG_CONFIG_HOME");
        free(user);
        free(nono_dir);
        free(xdg);
        free(only);
}

static void test_syntax_error_names_file_and_line(void)
{
        struct host_config c;
        char *path = write_file("bad.conf", "enforcer = \"landlock\";\n"
                                            "# a comment\n"
                                            "plugin_dir = = \"/x\";\n");
        char *want = nono_asprintf("cannot read configuration %s: line 3: syntax error", path);

        CU_ASSERT_EQUAL(host_config_load_files(&c, path, NULL), -EINVAL);
        CU_ASSERT_STRING_EQUAL(nono_errmsg(), want);
        /* Left freed: nothing from the file before the error survives. */
        CU_ASSERT_PTR_NULL(c.enforcer);
        free(want);
        free(path);
}

static void expect_type_error(const char *text, const char *fragment)
{
        struct host_config c;
        char *path = write_file("type.conf", text);

        CU_ASSERT_EQUAL(host_config_load_files(&c, path, NULL), -EINVAL);
        CU_ASSERT_TRUE(strstr(nono_errmsg(), path) != NULL);
        CU_ASSERT_TRUE(strstr(nono_errmsg(), fragment) != NULL);
        free(path);
}

static void test_type_errors(void)
{
        expect_type_error("plugin_dir = 5;\n", "line 1: plugin_dir must be an absolute path");
        expect_type_error("plugin_dir = \"relative\";\n", "plugin_dir must be an absolute path");
        expect_type_error("enforcer = true;\n", "enforcer must be a string");
        expect_type_error("\ncredential_sources = \"env\";\n",
                          "line 2: credential_sources must be a list of strings");
        expect_type_error("policy_modules = [1, 2];\n", "policy_modules must be a list of strings");
        expect_type_error("plugins = 3;\n", "plugins must be a group");
        expect_type_error("plugins = { landlock = 1; };\n", "plugins.landlock must be a group");
}

static void test_unknown_setting_is_a_warning(void)
{
        struct host_config c;
        char *path = write_file("unknown.conf", "enforcer = \"x\";\nfuture_setting = 1;\n");

        /* Not fatal: a newer nono's file still works with this one. */
        CU_ASSERT_EQUAL(host_config_load_files(&c, path, NULL), 0);
        CU_ASSERT_STRING_EQUAL(c.enforcer, "x");
        host_config_free(&c);
        free(path);
}

static void test_user_overrides_scalars_and_sources(void)
{
        struct host_config c;

        load_pair(&c,
                  "plugin_dir = \"/sys/plugins\"; enforcer = \"a\"; "
                  "credential_sources = [\"env\", \"libsecret\"];",
                  "plugin_dir = \"/user/plugins\"; enforcer = \"b\"; "
                  "credential_sources = [\"keychain\"];",
                  0);
        CU_ASSERT_STRING_EQUAL(c.plugin_dir, "/user/plugins");
        CU_ASSERT_STRING_EQUAL(c.enforcer, "b");
        CU_ASSERT_EQUAL(c.credential_sources.n, 1);
        CU_ASSERT_STRING_EQUAL(c.credential_sources.items[0], "keychain");
        host_config_free(&c);
}

static void test_user_policy_modules_only_add(void)
{
        struct host_config c;

        /* An empty user list does not switch the system's module off. */
        load_pair(&c, "policy_modules = [\"org\"];", "policy_modules = [];", 0);
        CU_ASSERT_EQUAL(c.policy_modules.n, 1);
        CU_ASSERT_STRING_EQUAL(c.policy_modules.items[0], "org");
        host_config_free(&c);

        load_pair(&c, "policy_modules = [\"org\"];", "policy_modules = [\"mine\", \"org\"];", 0);
        CU_ASSERT_EQUAL(c.policy_modules.n, 2);
        CU_ASSERT_STRING_EQUAL(c.policy_modules.items[0], "org");
        CU_ASSERT_STRING_EQUAL(c.policy_modules.items[1], "mine");
        host_config_free(&c);

        /* Nor can the user swap the module for their own through plugin_dir. */
        load_pair(&c, "policy_modules = [\"org\"];", "plugin_dir = \"/home/u/plugins\";", 0);
        CU_ASSERT_PTR_NULL(c.plugin_dir);
        host_config_free(&c);
}

static void test_plugin_sections(void)
{
        struct host_config c;
        const config_setting_t *s;
        const char *v = NULL;

        load_pair(&c,
                  "plugins = { landlock = { from = \"system\"; }; proxy = { from = \"system\"; "
                  "}; };",
                  "plugins = { landlock = { from = \"user\"; }; };", 0);
        s = host_config_plugin_section(&c, "landlock");
        CU_ASSERT_PTR_NOT_NULL_FATAL(s);
        CU_ASSERT_TRUE(config_setting_lookup_string(s, "from", &v));
        CU_ASSERT_STRING_EQUAL(v, "user");
        s = host_config_plugin_section(&c, "proxy");
        CU_ASSERT_PTR_NOT_NULL_FATAL(s);
        CU_ASSERT_TRUE(config_setting_lookup_string(s, "from", &v));
        CU_ASSERT_STRING_EQUAL(v, "system");
        CU_ASSERT_PTR_NULL(host_config_plugin_section(&c, "absent"));
        host_config_free(&c);
}

static void test_audit_settings(void)
{
        struct host_config c;

        load_pair(&c, "", "", 0);
        CU_ASSERT_FALSE(c.audit_disabled); /* on by default */
        CU_ASSERT_FALSE(c.audit_syslog);
        host_config_free(&c);
        load_pair(&c, "", "audit = { enabled = false; syslog = true; };\n", 0);
        CU_ASSERT_TRUE(c.audit_disabled);
        CU_ASSERT_TRUE(c.audit_syslog);
        host_config_free(&c);
        /* What the system file switches on, the user file cannot switch off. */
        load_pair(&c, "audit = { enabled = true; syslog = true; };\n",
                  "audit = { enabled = false; syslog = false; };\n", 0);
        CU_ASSERT_FALSE(c.audit_disabled);
        CU_ASSERT_TRUE(c.audit_syslog);
        host_config_free(&c);
        load_pair(&c, "audit = { enabled = 1; };\n", "", -EINVAL);
}

static void expect_retention(const char *system_text, const char *user_text, long keep, long age)
{
        struct host_config c;

        load_pair(&c, system_text, user_text, 0);
        CU_ASSERT_EQUAL(c.audit_keep_sessions, keep);
        CU_ASSERT_EQUAL(c.audit_max_age_days, age);
        host_config_free(&c);
}

static void test_audit_retention(void)
{
        expect_retention("", "", AUDIT_DEFAULT_KEEP_SESSIONS, AUDIT_DEFAULT_MAX_AGE_DAYS);
        /* Without a system value, the user chooses freely, also less than the default. */
        expect_retention("", "audit = { keep_sessions = 5; max_age_days = 0; };", 5, 0);
        /* The system's limits bind: the user may keep more (0: all), never less. */
        expect_retention("audit = { keep_sessions = 500; max_age_days = 60; };",
                         "audit = { keep_sessions = 20; max_age_days = 7; };", 500, 60);
        expect_retention("audit = { keep_sessions = 500; max_age_days = 60; };",
                         "audit = { keep_sessions = 0; max_age_days = 365; };", 0, 365);
        expect_retention("audit = { keep_sessions = 0; };", "audit = { keep_sessions = 9; };", 0,
                         AUDIT_DEFAULT_MAX_AGE_DAYS);
        expect_type_error("audit = { keep_sessions = -1; };",
                          "line 1: audit.keep_sessions must be a whole number >= 0 (0: no limit)");
        expect_type_error("audit = {\n max_age_days = \"30d\"; };",
                          "line 2: audit.max_age_days must be a whole number >= 0");
}

int main(void)
{
        static const struct test_case cases[] = {
            {"parses every setting (NONO_CONFIG)", test_parses_settings},
            {"store.path must be absolute", test_store_path_must_be_absolute},
            {"empty and missing files are fine", test_empty_and_missing},
            {"NONO_CONFIG is the only file read", test_nono_config_is_the_only_file},
            {"a syntax error names file and line", test_syntax_error_names_file_and_line},
            {"wrong types are errors naming the setting", test_type_errors},
            {"an unknown setting is a warning", test_unknown_setting_is_a_warning},
            {"the user file overrides scalars and sources",
             test_user_overrides_scalars_and_sources},
            {"the user file can only add policy modules", test_user_policy_modules_only_add},
            {"plugin sections: user first, then system", test_plugin_sections},
            {"audit settings; the system file's bind the user", test_audit_settings},
            {"audit retention; the system file's limits bind the user", test_audit_retention},
        };
        int r;

        if (!mkdtemp(tmpdir))
                return 2;
        r = RUN_CUNIT("config", NULL, NULL, cases);
        /* The files are few and known: remove them one by one rather than recursively. */
        for (const char *const *f = (const char *const[]){"all.conf", "empty.conf", "only.conf",
                                                          "bad.conf", "type.conf", "unknown.conf",
                                                          "system.conf", "user.conf", NULL};
             *f; f++) {
                char *path = nono_path_join(tmpdir, *f);

                unlink(path);
                free(path);
        }
        rmdir(tmpdir);
        return r;
}
