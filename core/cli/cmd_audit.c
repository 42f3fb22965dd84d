/* SPDX-License-Identifier: Apache-2.0 */
/* nono audit list [--json] | show ID [--json] | verify ID | cleanup [--keep N] [--older-than D] */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "commands.h"
#include "error.h"

enum {
        OPT_JSON = 256,
        OPT_KEEP,
        OPT_OLDER_THAN,
};

const struct option audit_options[] = {
    {"json", no_argument, NULL, OPT_JSON},
    {"keep", required_argument, NULL, OPT_KEEP},
    {"older-than", required_argument, NULL, OPT_OLDER_THAN},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

const char *const audit_words[] = {"list", "show", "verify", "cleanup", NULL};

/* Without options, cleanup keeps this many sessions. */
#define DEFAULT_KEEP 100

static const char audit_usage[] =
    "usage: nono audit list [--json]                 sessions, oldest first\n"
    "       nono audit show ID [--json]              the events of a session\n"
    "       nono audit verify ID                     check its SHA-256 chain\n"
    "       nono audit cleanup [--keep N] [--older-than DAYS]\n"
    "                                                remove old sessions (default: keep 100)\n\n"
    "ID is a session id, a unique prefix of one, or \"last\".  Sessions live in\n"
    "$XDG_STATE_HOME/nono/audit (default ~/.local/state/nono/audit); as sessions start,\n"
    "old ones are removed by nono.conf's audit.keep_sessions and audit.max_age_days\n"
    "(default 1000 sessions, 90 days; see nono.conf(5)).\n";

struct audit_args {
        int json;
        long keep, older_than;
        const char *id;
};

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        fprintf(stderr, "nono: audit: ");
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
        return 1;
}

static int parse_count(const char *s, long *ret)
{
        char *end;

        errno = 0;
        *ret = strtol(s, &end, 10);
        return errno || *end || *ret < 0 ? -1 : 0;
}

/* Returns 0 to go on, or an exit code + 1. */
static int parse_args(int argc, char **argv, struct audit_args *a)
{
        int opt;

        a->keep = a->older_than = -1;
        optind = 1;
        opterr = 0;
        while ((opt = getopt_long(argc, argv, "h", audit_options, NULL)) != -1) {
                if (opt == OPT_JSON)
                        a->json = 1;
                else if (opt == OPT_KEEP && parse_count(optarg, &a->keep) == 0)
                        continue;
                else if (opt == OPT_OLDER_THAN && parse_count(optarg, &a->older_than) == 0)
                        continue;
                else if (opt == 'h')
                        return fputs(audit_usage, stdout) < 0 ? 2 : 1;
                else if (opt == OPT_KEEP || opt == OPT_OLDER_THAN)
                        return bad("%s is not a number of sessions or days", optarg) + 1;
                else
                        return bad("unknown or incomplete option \"%s\" (see --help)",
                                   argv[optind - 1]) +
                               1;
        }
        if (optind < argc)
                a->id = argv[optind++];
        if (optind < argc)
                return bad("unexpected argument \"%s\"", argv[optind]) + 1;
        return 0;
}

static void print_json(json_t *j)
{
        char *text = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;

        if (text)
                printf("%s\n", text);
        free(text);
        json_decref(j);
}

/* The command line as recorded (already redacted), on one line: control characters
 * the command chose never reach the terminal. */
static void print_argv(const json_t *argv)
{
        size_t i;
        json_t *arg;

        json_array_foreach(argv, i, arg)
        {
                const char *s = json_string_value(arg);

                if (i)
                        putchar(' ');
                for (; s && *s; s++)
                        putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
        }
}

/* Why a wrap session has no end, wherever one is looked for. */
#define WRAP_NO_END "nono wrap exec'd the command and has no supervisor to record how it ended"

static json_t *summary_json(const struct audit_summary *s)
{
        return json_pack("{s:s, s:s, s:s?, s:O?, s:b, s:o, s:I}", "id", s->id, "mode",
                         s->wrap ? "wrap" : "run", "start", s->start_time, "argv", s->argv, "ended",
                         s->ended, "exit_code", s->ended ? json_integer(s->exit_code) : json_null(),
                         "events", (json_int_t)s->events);
}

/* The status column: the exit code, else why there is none. */
static void print_status(const struct audit_summary *s)
{
        if (s->ended)
                printf("exit %-4d ", s->exit_code);
        else
                printf("%-9s ", s->wrap ? "wrap" : "no end");
}

static int list_cmd(const char *root, const struct audit_args *a)
{
        struct audit_summary *list;
        int any_wrap_without_end = 0;
        size_t n;
        json_t *all;

        if (audit_list(root, &list, &n) < 0)
                return cli_fail();
        all = a->json ? json_array() : NULL;
        for (size_t i = 0; i < n; i++) {
                if (all) {
                        json_array_append_new(all, summary_json(&list[i]));
                        continue;
                }
                printf("%-32s ", list[i].id);
                print_status(&list[i]);
                print_argv(list[i].argv);
                putchar('\n');
                any_wrap_without_end |= list[i].wrap && !list[i].ended;
        }
        if (all)
                print_json(all);
        if (any_wrap_without_end)
                printf("(wrap: no end recorded: " WRAP_NO_END ")\n");
        audit_summaries_free(list, n);
        return 0;
}

static void print_event(json_t *e)
{
        const char *key;
        json_t *value;

        printf("%-4lld %s %s", (long long)json_integer_value(json_object_get(e, "seq")),
               json_string_value(json_object_get(e, "time")),
               json_string_value(json_object_get(e, "type")));
        json_object_foreach(e, key, value)
        {
                char *text;

                if (!strcmp(key, "seq") || !strcmp(key, "time") || !strcmp(key, "type") ||
                    !strcmp(key, "prev") || !strcmp(key, "plan"))
                        continue;
                text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
                printf(" %s=%s", key, text ? text : "?");
                free(text);
        }
        if (json_object_get(e, "plan"))
                printf(" (the plan: nono audit show --json)");
        putchar('\n');
}

/* A wrap session without session.end: nono failed before exec would have written one. */
static int wrap_without_end(const json_t *events)
{
        const json_t *last = json_array_get(events, json_array_size(events) - 1);

        return audit_event_is(json_array_get(events, 0), "mode", "wrap") &&
               !audit_event_is(last, "type", "session.end");
}

static int show_cmd(const char *dir, const struct audit_args *a)
{
        json_t *events;
        size_t i;
        json_t *e;

        if (audit_load_events(dir, &events) < 0)
                return cli_fail();
        if (a->json) {
                print_json(events);
                return 0;
        }
        json_array_foreach(events, i, e) print_event(e);
        if (wrap_without_end(events))
                printf("(no session.end: " WRAP_NO_END ")\n");
        json_decref(events);
        return 0;
}

static int verify_cmd(const char *dir, const char *id)
{
        struct audit_verify_result res;
        int r = audit_verify(dir, &res);

        if (r < 0) {
                fprintf(stderr, "nono: audit %s: %s\n", id, nono_errmsg());
                return 1;
        }
        printf("%s: intact, %zu events%s\n", id, res.events,
               res.ended  ? ""
               : res.wrap ? "; no session.end: " WRAP_NO_END
                          : "; no session.end (the run is still going, or nono was killed "
                            "before it ended)");
        return 0;
}

static int with_session(const char *root, const char *sub, const struct audit_args *a)
{
        char *dir = NULL;
        int r;

        if (!a->id)
                return bad("%s needs a session ID (see nono audit list)", sub);
        if (audit_find(root, a->id, &dir) < 0)
                return cli_fail();
        r = strcmp(sub, "show") == 0 ? show_cmd(dir, a) : verify_cmd(dir, a->id);
        free(dir);
        return r;
}

static int cleanup_cmd(const char *root, const struct audit_args *a)
{
        long keep = a->keep < 0 && a->older_than < 0 ? DEFAULT_KEEP : a->keep;
        struct audit_cleanup_result res;

        if (a->id)
                return bad("cleanup takes no session ID (%s)", a->id);
        if (audit_cleanup(root, keep, a->older_than, &res) < 0)
                return cli_fail();
        printf("removed %zu session(s)\n", res.removed);
        return 0;
}

static int dispatch(const char *root, const char *sub, const struct audit_args *a)
{
        if (strcmp(sub, "list") == 0)
                return a->id ? bad("list takes no session ID (%s)", a->id) : list_cmd(root, a);
        if (strcmp(sub, "show") == 0 || strcmp(sub, "verify") == 0)
                return with_session(root, sub, a);
        if (strcmp(sub, "cleanup") == 0)
                return cleanup_cmd(root, a);
        return bad("unknown subcommand \"%s\" (list, show, verify, cleanup)", sub);
}

int cmd_audit(int argc, char **argv)
{
        struct audit_args a = {0};
        char *root = NULL;
        int r;

        if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
                fputs(audit_usage, argc < 2 ? stderr : stdout);
                return argc < 2 ? 1 : 0;
        }
        r = parse_args(argc - 1, argv + 1, &a);
        if (r != 0)
                return r - 1;
        if (audit_root(&root) < 0)
                return cli_fail();
        r = dispatch(root, argv[1], &a);
        free(root);
        return r;
}
