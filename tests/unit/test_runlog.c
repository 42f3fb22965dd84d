/* SPDX-License-Identifier: Apache-2.0 */
/* The audit log of one run: what it records, plugin events through the host's audit
 * service, and a run that never started. */
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "cunit-main.h"
#include "host.h"
#include "loader.h"
#include "runlog.h"
#include "strv.h"

static char home[] = "/var/tmp/nono-test-runlog-XXXXXX";

static const char *types_of(json_t *events, char *buf, size_t size)
{
        size_t i;
        json_t *e;

        buf[0] = '\0';
        json_array_foreach(events, i, e)
        {
                strncat(buf, json_string_value(json_object_get(e, "type")), size - strlen(buf) - 2);
                strcat(buf, " ");
        }
        return buf;
}

/* The newest session's events; its chain must verify. */
static json_t *last_session(void)
{
        struct audit_verify_result res;
        char *root = NULL, *dir = NULL;
        json_t *events = NULL;

        CU_ASSERT_EQUAL_FATAL(audit_root(&root), 0);
        CU_ASSERT_EQUAL_FATAL(audit_find(root, "last", &dir), 0);
        CU_ASSERT_EQUAL(audit_verify(dir, &res), 0);
        CU_ASSERT_EQUAL(audit_load_events(dir, &events), 0);
        free(root);
        free(dir);
        return events;
}

static void test_a_run_with_plugin_events(void)
{
        char a0[] = "curl", a1[] = "--token", a2[] = "s3cr3t-value";
        char *argv[] = {a0, a1, a2, NULL};
        json_t *plan = json_pack("{s:s}", "profile", "default");
        struct runlog_start start = {argv, "/usr/bin/curl", "default", home, "landlock", plan, 0};
        struct host_config config = {0};
        struct plugin pl = {0};
        struct runlog log;
        char types[256], *text;
        json_t *events;

        pl.name = (char *)"proxy";
        host_bind(&pl);
        runlog_open(&log, &config, &start);
        CU_ASSERT_PTR_NOT_NULL_FATAL(runlog_session(&log));
        CU_ASSERT_EQUAL(pl.host.audit_event(pl.host.ctx, "proxy.decision",
                                            "{\"host\":\"api.openai.com\",\"decision\":\"allow\"}"),
                        0);
        /* Not an object: refused by the host, never logged. */
        CU_ASSERT_NOT_EQUAL(pl.host.audit_event(pl.host.ctx, "proxy.decision", "[1]"), 0);
        runlog_close(&log, 7, NULL, NULL);
        CU_ASSERT_PTR_NULL(runlog_session(&log));
        events = last_session();
        CU_ASSERT_STRING_EQUAL(types_of(events, types, sizeof(types)),
                               "session.start plan proxy.decision session.end ");
        CU_ASSERT_STRING_EQUAL(
            json_string_value(json_object_get(json_array_get(events, 0), "mode")), "run");
        CU_ASSERT_STRING_EQUAL(
            json_string_value(json_object_get(json_array_get(events, 2), "plugin")), "proxy");
        CU_ASSERT_EQUAL(json_integer_value(json_object_get(json_array_get(events, 3), "exit_code")),
                        7);
        text = json_dumps(events, 0);
        CU_ASSERT_PTR_NULL(strstr(text, "s3cr3t-value"));
        free(text);
        /* After the run, plugin events are no longer the log's. */
        CU_ASSERT_EQUAL(pl.host.audit_event(pl.host.ctx, "proxy.decision", "{}"), 0);
        json_decref(events);
        json_decref(plan);
}

static void test_a_run_that_never_started(void)
{
        char a0[] = "true";
        char *argv[] = {a0, NULL};
        json_t *plan = json_object();
        struct runlog_start start = {argv, "/bin/true", "default", home, "landlock", plan, 0};
        struct host_config config = {0};
        struct runlog log;
        json_t *events, *end;

        runlog_open(&log, &config, &start);
        runlog_close(&log, 1, NULL, "cannot prepare the sandbox");
        events = last_session();
        end = json_array_get(events, json_array_size(events) - 1);
        CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(end, "error")),
                               "cannot prepare the sandbox");
        json_decref(events);
        json_decref(plan);
}

static void test_disabled_by_config(void)
{
        char a0[] = "true";
        char *argv[] = {a0, NULL};
        struct runlog_start start = {argv, "/bin/true", "default", home, "landlock", NULL, 0};
        struct host_config config = {0};
        struct runlog log;

        config.audit_disabled = 1;
        runlog_open(&log, &config, &start);
        CU_ASSERT_PTR_NULL(runlog_session(&log));
        runlog_close(&log, 0, NULL, NULL);
}

static int setup(void)
{
        if (!mkdtemp(home))
                return -1;
        unsetenv("XDG_STATE_HOME");
        return setenv("HOME", home, 1);
}

static int cleanup(void)
{
        char *cmd = nono_asprintf("rm -rf '%s'", home);
        int r = system(cmd);

        free(cmd);
        return r;
}

int main(void)
{
        static const struct test_case cases[] = {
            {"a run with plugin events", test_a_run_with_plugin_events},
            {"a run that never started", test_a_run_that_never_started},
            {"turned off in nono.conf", test_disabled_by_config},
        };
        return RUN_CUNIT("runlog", setup, cleanup, cases);
}
