/* SPDX-License-Identifier: Apache-2.0 */
/* The audit channel: one JSON line per event, partial reads, and events dropped (then
 * counted) rather than blocking when nobody drains. */
#include <errno.h>
#include <jansson.h>
#include <string.h>
#include <unistd.h>

#include "auditchan.h"
#include "cunit-main.h"

static json_t *parse(const char *line)
{
        json_t *j = json_loads(line, 0, NULL);

        CU_ASSERT_FATAL(json_is_object(j));
        return j;
}

static void test_events_become_lines(void)
{
        struct auditchan c;
        struct strv out = STRV_INIT;
        json_t *e;

        CU_ASSERT_EQUAL_FATAL(auditchan_open(&c), 0);
        CU_ASSERT_EQUAL(auditchan_sink("filter-proxy", "proxy.decision",
                                       "{\"host\":\"a.example\",\"type\":\"forged\"}", &c),
                        0);
        CU_ASSERT_EQUAL(auditchan_sink("filter-proxy", "proxy.decision", "{\"port\":443}", &c), 0);
        auditchan_close_writer(&c);
        CU_ASSERT_EQUAL(auditchan_drain(&c, &out), 0);
        CU_ASSERT_EQUAL_FATAL(out.n, 2);
        e = parse(out.items[0]);
        /* The host's type and plugin win over the event's own fields. */
        CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(e, "type")), "proxy.decision");
        CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(e, "plugin")), "filter-proxy");
        CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(e, "host")), "a.example");
        CU_ASSERT_EQUAL(strlen(json_string_value(json_object_get(e, "time"))),
                        strlen("2026-01-02T03:04:05.678Z"));
        json_decref(e);
        e = parse(out.items[1]);
        CU_ASSERT_EQUAL(json_integer_value(json_object_get(e, "port")), 443);
        json_decref(e);
        strv_free(&out);
        CU_ASSERT_EQUAL(auditchan_drain(&c, &out), 0); /* end of stream: nothing more */
        CU_ASSERT_EQUAL(out.n, 0);
        auditchan_free(&c);
}

/* A line that arrives in pieces is returned once it is complete. */
static void test_partial_lines(void)
{
        struct auditchan c;
        struct strv out = STRV_INIT;

        CU_ASSERT_EQUAL_FATAL(auditchan_open(&c), 0);
        CU_ASSERT_EQUAL(write(c.write_fd, "{\"a\":", 5), 5);
        CU_ASSERT_EQUAL(auditchan_drain(&c, &out), 0);
        CU_ASSERT_EQUAL(out.n, 0);
        CU_ASSERT_EQUAL(write(c.write_fd, "1}\n{\"b\"", 7), 7);
        CU_ASSERT_EQUAL(auditchan_drain(&c, &out), 0);
        CU_ASSERT_EQUAL_FATAL(out.n, 1);
        CU_ASSERT_STRING_EQUAL(out.items[0], "{\"a\":1}");
        strv_free(&out);
        auditchan_free(&c);
}

/* Events of `out` and the events "audit.lost" lines count; how many lost lines. */
static size_t account(const struct strv *out, size_t *ret_lost_lines)
{
        size_t total = 0;

        for (size_t i = 0; i < out->n; i++) {
                json_t *e = parse(out->items[i]);
                const char *type = json_string_value(json_object_get(e, "type"));

                if (strcmp(type, "audit.lost") == 0) {
                        total += (size_t)json_integer_value(json_object_get(e, "events"));
                        (*ret_lost_lines)++;
                } else {
                        total++;
                }
                json_decref(e);
        }
        return total;
}

/* A full pipe never blocks the writer: events are dropped, then counted, so that every
 * event is either delivered or counted. */
static void test_full_channel_drops_and_counts(void)
{
        struct auditchan c;
        struct strv out = STRV_INIT;
        size_t calls = 0, seen, lost_lines = 0;
        json_t *last;

        CU_ASSERT_EQUAL_FATAL(auditchan_open(&c), 0);
        for (; c.lost == 0 && calls < 100000; calls++)
                CU_ASSERT_EQUAL(auditchan_sink("p", "proxy.decision", "{\"n\":1}", &c), 0);
        CU_ASSERT_FATAL(c.lost > 0); /* the pipe filled up without blocking */
        for (int i = 0; i < 5; i++, calls++)
                CU_ASSERT_EQUAL(auditchan_sink("p", "proxy.decision", "{\"n\":2}", &c), 0);
        CU_ASSERT(c.lost > 0);
        CU_ASSERT_EQUAL(auditchan_drain(&c, &out), 0);
        seen = account(&out, &lost_lines);
        strv_free(&out);
        /* Room again: the count goes out first, then the event. */
        CU_ASSERT_EQUAL(auditchan_sink("p", "proxy.decision", "{\"n\":3}", &c), 0);
        calls++;
        CU_ASSERT_EQUAL(c.lost, 0);
        CU_ASSERT_EQUAL(auditchan_drain(&c, &out), 0);
        seen += account(&out, &lost_lines);
        CU_ASSERT_EQUAL(seen, calls);
        CU_ASSERT(lost_lines >= 1);
        CU_ASSERT_FATAL(out.n >= 1);
        last = parse(out.items[out.n - 1]);
        CU_ASSERT_EQUAL(json_integer_value(json_object_get(last, "n")), 3);
        json_decref(last);
        strv_free(&out);
        auditchan_free(&c);
}

int main(void)
{
        static const struct test_case cases[] = {
            {"events_become_lines", test_events_become_lines},
            {"partial_lines", test_partial_lines},
            {"full_channel_drops_and_counts", test_full_channel_drops_and_counts},
        };

        return RUN_CUNIT("auditchan", NULL, NULL, cases);
}
