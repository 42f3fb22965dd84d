/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cunit-main.h"
#include "error.h"
#include "vars.h"

/* A known environment: nothing here touches the real home directory. */
static void set_env(void)
{
        setenv("HOME", "/home/tester", 1);
        unsetenv("TMPDIR");
        unsetenv("XDG_CONFIG_HOME");
        unsetenv("XDG_CACHE_HOME");
        unsetenv("XDG_DATA_HOME");
        unsetenv("XDG_STATE_HOME");
        unsetenv("XDG_RUNTIME_DIR");
}

/* Expands `in` with a fresh vars and checks the result. */
static void check(const char *in, const char *want)
{
        struct vars v;
        char *out = NULL;

        CU_ASSERT_EQUAL_FATAL(vars_init(&v, "/work/dir"), 0);
        CU_ASSERT_EQUAL(vars_expand(&v, in, &out), 0);
        if (out)
                CU_ASSERT_STRING_EQUAL(out, want);
        free(out);
        vars_free(&v);
}

/* Expands `in` expecting an error whose message contains `needle`. */
static void check_error(const char *in, const char *needle)
{
        struct vars v;
        char *out = NULL;

        CU_ASSERT_EQUAL_FATAL(vars_init(&v, "/work/dir"), 0);
        CU_ASSERT_EQUAL(vars_expand(&v, in, &out), -EINVAL);
        CU_ASSERT_PTR_NULL(out);
        CU_ASSERT_PTR_NOT_NULL(strstr(nono_errmsg(), needle));
        vars_free(&v);
}

static void test_home_and_tilde(void)
{
        set_env();
        check("~", "/home/tester");
        check("~/.pyenv", "/home/tester/.pyenv");
        check("$HOME/.cache/pip", "/home/tester/.cache/pip");
        check("${HOME}/x", "/home/tester/x");
        check("/a/~b", "/a/~b"); /* only a leading ~ expands */
        check_error("~root/x", "~user is not supported");
}

static void test_workdir_tmpdir_uid(void)
{
        char uid[32];

        set_env();
        snprintf(uid, sizeof(uid), "/run/user/%u", (unsigned)getuid());
        check("$WORKDIR/src", "/work/dir/src");
        check("$TMPDIR", "/tmp");
        check("/run/user/$UID", uid);
        setenv("TMPDIR", "/var/tmp/t", 1);
        check("${TMPDIR}/x", "/var/tmp/t/x");
        /* A relative TMPDIR would depend on the cwd: ignored. */
        setenv("TMPDIR", "rel", 1);
        check("$TMPDIR", "/tmp");
}

static void test_xdg(void)
{
        set_env();
        check("$XDG_CONFIG_HOME/nono", "/home/tester/.config/nono");
        check("$XDG_CACHE_HOME", "/home/tester/.cache");
        check("$XDG_DATA_HOME", "/home/tester/.local/share");
        check("$XDG_STATE_HOME", "/home/tester/.local/state");
        setenv("XDG_CONFIG_HOME", "/cfg", 1);
        setenv("XDG_DATA_HOME", "relative/data", 1);
        check("$XDG_CONFIG_HOME/nono", "/cfg/nono");
        check("$XDG_DATA_HOME", "/home/tester/.local/share");
        check_error("$XDG_RUNTIME_DIR/bus", "$XDG_RUNTIME_DIR is not set");
        setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1);
        check("${XDG_RUNTIME_DIR}/bus", "/run/user/1000/bus");
}

static void test_bad_references(void)
{
        set_env();
        check_error("$HOEM/x", "unknown variable $HOEM");
        check_error("${NOPE}", "unknown variable $NOPE");
        check_error("${}", "bad variable name");
        check_error("${HOME", "expected ${NAME}");
        check_error("${1X}", "bad variable name");
        /* A '$' that starts no reference is kept. */
        check("/a$/b$-c$", "/a$/b$-c$");
}

static void test_unset_workdir(void)
{
        struct vars v;
        char *out = NULL;

        set_env();
        CU_ASSERT_EQUAL_FATAL(vars_init(&v, NULL), 0);
        CU_ASSERT_EQUAL(vars_expand(&v, "$WORKDIR", &out), -EINVAL);
        CU_ASSERT_PTR_NOT_NULL(strstr(nono_errmsg(), "$WORKDIR is not set"));
        vars_free(&v);
}

static void test_home_from_passwd(void)
{
        struct passwd *pw = getpwuid(getuid());
        struct vars v;

        set_env();
        unsetenv("HOME");
        if (!pw || !pw->pw_dir || pw->pw_dir[0] != '/')
                return; /* no passwd entry here: nothing to compare with */
        CU_ASSERT_EQUAL_FATAL(vars_init(&v, NULL), 0);
        CU_ASSERT_STRING_EQUAL(v.home, pw->pw_dir);
        vars_free(&v);
        /* A relative HOME is not trusted either. */
        setenv("HOME", "relative", 1);
        CU_ASSERT_EQUAL_FATAL(vars_init(&v, NULL), 0);
        CU_ASSERT_STRING_EQUAL(v.home, pw->pw_dir);
        vars_free(&v);
}

int main(void)
{
        static const struct test_case cases[] = {
            {"home and tilde", test_home_and_tilde},
            {"workdir, tmpdir, uid", test_workdir_tmpdir_uid},
            {"xdg directories", test_xdg},
            {"bad references", test_bad_references},
            {"unset workdir", test_unset_workdir},
            {"home from passwd", test_home_from_passwd},
        };

        return RUN_CUNIT("vars", NULL, NULL, cases);
}
