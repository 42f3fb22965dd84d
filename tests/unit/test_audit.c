/* SPDX-License-Identifier: Apache-2.0 */
/* The audit log: the chain, and that verify catches edits, deletions, reordering and a
 * cut-off tail; appends from a forked process. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "error.h"
#include "cunit-main.h"
#include "strv.h"

static char root[] = "/var/tmp/nono-test-audit-XXXXXX";

/* A session with start, three events and end; returns its directory (malloc'ed). */
static char *make_session(void)
{
        struct audit_session *s = NULL;
        char *dir;

        CU_ASSERT_EQUAL_FATAL(audit_session_open(root, 0, &s), 0);
        CU_ASSERT_EQUAL(audit_event(s, "session.start", NULL), 0);
        for (int i = 0; i < 3; i++) {
                json_t *f = json_pack("{s:i, s:s}", "n", i, "host", "example.com");

                CU_ASSERT_EQUAL(audit_event(s, "proxy.decision", f), 0);
                json_decref(f);
        }
        CU_ASSERT_EQUAL(audit_event(s, "session.end", NULL), 0);
        dir = strdup(audit_session_dir(s));
        audit_session_close(s);
        return dir;
}

static struct strv read_lines(const char *dir)
{
        struct strv lines = STRV_INIT;
        char *path = nono_path_join(dir, "events.jsonl");
        FILE *f = fopen(path, "r");
        char *line = NULL;
        size_t cap = 0;

        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        while (getline(&line, &cap, f) > 0)
                strv_push(&lines, line);
        fclose(f);
        free(line);
        free(path);
        return lines;
}

static void write_lines(const char *dir, const struct strv *lines)
{
        char *path = nono_path_join(dir, "events.jsonl");
        FILE *f = fopen(path, "w");

        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        for (size_t i = 0; i < lines->n; i++)
                fputs(lines->items[i], f);
        fclose(f);
        free(path);
}

/* verify must fail, and its message must contain `needle`. */
static void assert_broken(const char *dir, const char *needle)
{
        struct audit_verify_result res;

        CU_ASSERT_EQUAL(audit_verify(dir, &res), -EBADMSG);
        if (!strstr(nono_errmsg(), needle))
                fprintf(stderr, "\nunexpected message: %s\n", nono_errmsg());
        CU_ASSERT_PTR_NOT_NULL(strstr(nono_errmsg(), needle));
}

static void test_intact_chain_verifies(void)
{
        struct audit_verify_result res;
        char *dir = make_session();
        struct strv lines = read_lines(dir);

        CU_ASSERT_EQUAL(audit_verify(dir, &res), 0);
        CU_ASSERT_EQUAL(res.events, 5);
        CU_ASSERT_TRUE(res.ended);
        CU_ASSERT_EQUAL(lines.n, 5);
        CU_ASSERT_PTR_NOT_NULL(strstr(lines.items[0], "\"seq\":1,"));
        CU_ASSERT_PTR_NOT_NULL(strstr(lines.items[2], "\"host\":\"example.com\""));
        strv_free(&lines);
        free(dir);
}

static void test_edited_line_is_detected(void)
{
        char *dir = make_session();
        struct strv lines = read_lines(dir);
        char *p = strstr(lines.items[2], "example.com");

        CU_ASSERT_PTR_NOT_NULL_FATAL(p);
        p[0] = 'E';
        write_lines(dir, &lines);
        assert_broken(dir, "line 4: does not follow line 3");
        strv_free(&lines);
        free(dir);
}

static void test_edited_last_line_is_detected(void)
{
        char *dir = make_session();
        struct strv lines = read_lines(dir);
        char *p = strstr(lines.items[4], "session.end");

        CU_ASSERT_PTR_NOT_NULL_FATAL(p);
        memcpy(p, "session.END", 11);
        write_lines(dir, &lines);
        assert_broken(dir, "line 5: the last line was edited");
        strv_free(&lines);
        free(dir);
}

static void test_deleted_line_is_detected(void)
{
        char *dir = make_session();
        struct strv lines = read_lines(dir);

        free(lines.items[2]);
        memmove(&lines.items[2], &lines.items[3], 3 * sizeof(char *));
        lines.n--;
        write_lines(dir, &lines);
        assert_broken(dir, "line 3: sequence number 4");
        strv_free(&lines);
        free(dir);
}

static void test_swapped_lines_are_detected(void)
{
        char *dir = make_session();
        struct strv lines = read_lines(dir);
        char *t = lines.items[1];

        lines.items[1] = lines.items[2];
        lines.items[2] = t;
        write_lines(dir, &lines);
        assert_broken(dir, "line 2: sequence number 3");
        strv_free(&lines);
        free(dir);
}

static void test_truncated_tail_is_detected(void)
{
        char *dir = make_session();
        struct strv lines = read_lines(dir);

        lines.n = 3; /* strv_free frees by the NULL terminator: keep items intact */
        write_lines(dir, &lines);
        lines.n = 5;
        assert_broken(dir, "the log ends at line 3 but its head records 5");
        strv_free(&lines);
        free(dir);
}

static void test_cut_off_line_is_detected(void)
{
        char *dir = make_session();
        struct strv lines = read_lines(dir);

        lines.items[4][10] = '\0';
        write_lines(dir, &lines);
        assert_broken(dir, "line 5: cut off");
        strv_free(&lines);
        free(dir);
}

static void test_log_moved_to_another_session_is_detected(void)
{
        char *a = make_session();
        char *b = make_session();
        struct strv lines = read_lines(a);
        char *head_a = nono_path_join(a, "head");
        char *head_b = nono_path_join(b, "head");

        write_lines(b, &lines);
        CU_ASSERT_EQUAL(rename(head_a, head_b), 0);
        assert_broken(b, "line 1: does not follow");
        strv_free(&lines);
        free(head_a);
        free(head_b);
        free(a);
        free(b);
}

static void test_reserved_keys_are_not_overridden(void)
{
        struct audit_session *s = NULL;
        struct audit_verify_result res;
        json_t *f = json_pack("{s:i, s:s, s:s}", "seq", 99, "prev", "forged", "x", "y");
        char *dir;

        CU_ASSERT_EQUAL_FATAL(audit_session_open(root, 0, &s), 0);
        CU_ASSERT_EQUAL(audit_event(s, "session.start", f), 0);
        dir = strdup(audit_session_dir(s));
        audit_session_close(s);
        CU_ASSERT_EQUAL(audit_verify(dir, &res), 0);
        CU_ASSERT_FALSE(res.ended);
        json_decref(f);
        free(dir);
}

/* Parent and a forked child append concurrently: every line lands, the chain holds. */
static void test_appends_from_a_forked_process(void)
{
        struct audit_session *s = NULL;
        struct audit_verify_result res;
        int status = -1;
        pid_t pid;
        char *dir;

        CU_ASSERT_EQUAL_FATAL(audit_session_open(root, 0, &s), 0);
        CU_ASSERT_EQUAL(audit_event(s, "session.start", NULL), 0);
        pid = fork();
        CU_ASSERT_FATAL(pid >= 0);
        if (pid == 0) {
                int failed = 0;

                for (int i = 0; i < 200; i++)
                        failed |= audit_event(s, "proxy.decision", NULL) < 0;
                _exit(failed);
        }
        for (int i = 0; i < 200; i++)
                CU_ASSERT_EQUAL(audit_event(s, "denied", NULL), 0);
        waitpid(pid, &status, 0);
        CU_ASSERT_EQUAL(status, 0);
        CU_ASSERT_EQUAL(audit_event(s, "session.end", NULL), 0);
        dir = strdup(audit_session_dir(s));
        audit_session_close(s);
        CU_ASSERT_EQUAL(audit_verify(dir, &res), 0);
        CU_ASSERT_EQUAL(res.events, 402);
        free(dir);
}

static void test_list_find_and_cleanup(void)
{
        struct audit_cleanup_result res;
        struct audit_summary *list;
        size_t n;
        char *dir = NULL;

        CU_ASSERT_EQUAL(audit_list(root, &list, &n), 0);
        CU_ASSERT_TRUE(n >= 2);
        for (size_t i = 1; i < n; i++)
                CU_ASSERT_TRUE(strcmp(list[i - 1].id, list[i].id) < 0);
        CU_ASSERT_EQUAL(audit_find(root, "last", &dir), 0);
        CU_ASSERT_PTR_NOT_NULL(dir && strstr(dir, list[n - 1].id));
        free(dir);
        CU_ASSERT_EQUAL(audit_find(root, "../etc", &dir), -EINVAL);
        CU_ASSERT_EQUAL(audit_find(root, "1999", &dir), -ENOENT);
        audit_summaries_free(list, n);
        CU_ASSERT_EQUAL(audit_cleanup(root, 1, -1, &res), 0);
        CU_ASSERT_EQUAL(res.removed, n - 1);
        CU_ASSERT_EQUAL(res.left, 1);
        CU_ASSERT_EQUAL(audit_list(root, &list, &n), 0);
        CU_ASSERT_EQUAL(n, 1);
        audit_summaries_free(list, n);
}

/* A session under `dir` with the given id and one event line, as another nono left it. */
static void fake_session(const char *dir, const char *id, const char *line)
{
        char *sdir = nono_path_join(dir, id);
        char *events = nono_path_join(sdir, "events.jsonl");
        FILE *f;

        CU_ASSERT_EQUAL_FATAL(mkdir(sdir, 0700), 0);
        f = fopen(events, "w");
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        fprintf(f, "%s\n", line);
        fclose(f);
        free(events);
        free(sdir);
}

static size_t count_sessions(const char *dir)
{
        struct audit_summary *list;
        size_t n = 0;

        CU_ASSERT_EQUAL(audit_list(dir, &list, &n), 0);
        audit_summaries_free(list, n);
        return n;
}

static int has_session(const char *dir, const char *id)
{
        char *path = nono_path_join(dir, id);
        int found = access(path, F_OK) == 0;

        free(path);
        return found;
}

/* An ended session opened now (a real one: its id sorts after every fake 2020 one). */
static void ended_session(const char *dir)
{
        struct audit_session *s = NULL;

        CU_ASSERT_EQUAL_FATAL(audit_session_open(dir, 0, &s), 0);
        CU_ASSERT_EQUAL(audit_event(s, "session.start", NULL), 0);
        CU_ASSERT_EQUAL(audit_event(s, "session.end", NULL), 0);
        audit_session_close(s);
}

static char *retention_dir(const char *name)
{
        char *dir = nono_path_join(root, name);

        CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0700), 0);
        return dir;
}

#define ENDED "{\"seq\":1,\"type\":\"session.end\"}"

/* By count: pruned only once the limit is exceeded by a tenth (here: one). */
static void test_retention_by_count(void)
{
        char *dir = retention_dir("by-count");

        for (int i = 0; i < 5; i++)
                ended_session(dir);
        /* No stamp yet: the first call prunes. */
        CU_ASSERT_EQUAL(audit_retain(dir, 2, 0), 0);
        CU_ASSERT_EQUAL(count_sessions(dir), 2);
        ended_session(dir);
        CU_ASSERT_EQUAL(audit_retain(dir, 2, 0), 0);
        CU_ASSERT_EQUAL(count_sessions(dir), 3); /* 2 + 1: within the slack */
        ended_session(dir);
        CU_ASSERT_EQUAL(audit_retain(dir, 2, 0), 0);
        CU_ASSERT_EQUAL(count_sessions(dir), 2);
        /* 0 and 0: no limit, and no stamp to keep up. */
        for (int i = 0; i < 3; i++)
                ended_session(dir);
        CU_ASSERT_EQUAL(audit_retain(dir, 0, 0), 0);
        CU_ASSERT_EQUAL(count_sessions(dir), 5);
        free(dir);
}

/* A backlog is removed a hundred sessions per run, not all at once. */
static void test_retention_backlog(void)
{
        char *dir = retention_dir("backlog");

        for (int i = 0; i < 130; i++) {
                char id[48];

                snprintf(id, sizeof(id), "20200101T000000.000000Z-%08d", i);
                fake_session(dir, id, ENDED);
        }
        CU_ASSERT_EQUAL(audit_retain(dir, 5, 0), 0);
        CU_ASSERT_EQUAL(count_sessions(dir), 30);
        CU_ASSERT_EQUAL(audit_retain(dir, 5, 0), 0);
        CU_ASSERT_EQUAL(count_sessions(dir), 5);
        free(dir);
}

/* By age: at most once a day, going by the stamp. */
static void test_retention_by_age(void)
{
        char *dir = retention_dir("by-age");
        char *stamp = nono_path_join(dir, ".retention");
        FILE *f;

        fake_session(dir, "20200101T000000.000000Z-00000001", ENDED);
        ended_session(dir);
        CU_ASSERT_EQUAL(audit_retain(dir, 0, 30), 0);
        CU_ASSERT_FALSE(has_session(dir, "20200101T000000.000000Z-00000001"));
        CU_ASSERT_EQUAL(count_sessions(dir), 1);
        /* Pruned less than a day ago: not read again. */
        fake_session(dir, "20200101T000000.000000Z-00000002", ENDED);
        CU_ASSERT_EQUAL(audit_retain(dir, 0, 30), 0);
        CU_ASSERT_TRUE(has_session(dir, "20200101T000000.000000Z-00000002"));
        /* A day later it is. */
        f = fopen(stamp, "w");
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        fprintf(f, "2 %lld\n", (long long)time(NULL) - 86400);
        fclose(f);
        CU_ASSERT_EQUAL(audit_retain(dir, 0, 30), 0);
        CU_ASSERT_FALSE(has_session(dir, "20200101T000000.000000Z-00000002"));
        free(stamp);
        free(dir);
}

/* Sessions in progress stay, past every limit: a live supervisor, one being opened. */
static void test_retention_spares_sessions_in_progress(void)
{
        char *dir = retention_dir("in-progress");
        char *live =
            nono_asprintf("{\"seq\":1,\"type\":\"session.start\",\"pid\":%d}", (int)getpid());
        struct audit_cleanup_result res;
        struct audit_session *s = NULL;
        char *opening = NULL;

        fake_session(dir, "20200101T000000.000000Z-00000001", live);
        fake_session(dir, "20200101T000000.000000Z-00000002", ENDED);
        /* Opened, session.start not written yet. */
        CU_ASSERT_EQUAL_FATAL(audit_session_open(dir, 0, &s), 0);
        opening = strdup(audit_session_id(s));
        ended_session(dir);
        CU_ASSERT_EQUAL(audit_cleanup(dir, 1, 30, &res), 0);
        CU_ASSERT_EQUAL(res.removed, 1);
        CU_ASSERT_EQUAL(res.left, 3);
        CU_ASSERT_TRUE(has_session(dir, "20200101T000000.000000Z-00000001"));
        CU_ASSERT_FALSE(has_session(dir, "20200101T000000.000000Z-00000002"));
        CU_ASSERT_TRUE(has_session(dir, opening));
        audit_session_close(s);
        free(opening);
        free(live);
        free(dir);
}

static int setup(void)
{
        return mkdtemp(root) ? 0 : -1;
}

static int cleanup(void)
{
        char *cmd = nono_asprintf("rm -rf '%s'", root);
        int r = system(cmd);

        free(cmd);
        return r;
}

int main(void)
{
        static const struct test_case cases[] = {
            {"an intact chain verifies", test_intact_chain_verifies},
            {"an edited line is detected", test_edited_line_is_detected},
            {"an edited last line is detected", test_edited_last_line_is_detected},
            {"a deleted line is detected", test_deleted_line_is_detected},
            {"swapped lines are detected", test_swapped_lines_are_detected},
            {"a truncated tail is detected", test_truncated_tail_is_detected},
            {"a cut-off last line is detected", test_cut_off_line_is_detected},
            {"a log moved to another session is detected",
             test_log_moved_to_another_session_is_detected},
            {"reserved keys cannot be overridden", test_reserved_keys_are_not_overridden},
            {"appends from a forked process keep the chain", test_appends_from_a_forked_process},
            {"list, find and cleanup", test_list_find_and_cleanup},
            {"retention by count, in batches", test_retention_by_count},
            {"retention of a backlog, a hundred per run", test_retention_backlog},
            {"retention by age, once a day", test_retention_by_age},
            {"retention spares sessions in progress", test_retention_spares_sessions_in_progress},
        };
        return RUN_CUNIT("audit", setup, cleanup, cases);
}
