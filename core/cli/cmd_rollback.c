/* SPDX-License-Identifier: Apache-2.0 */
/* `nono rollback list|show|restore|verify|cleanup`: the snapshot sessions of the store. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "commands.h"
#include "error.h"
#include "progress.h"
#include "snapshot.h"

static void usage(FILE *out)
{
        fprintf(out, "usage: nono rollback COMMAND [OPTIONS]\n"
                     "\n"
                     "Sessions are taken by `nono run --rollback`: snapshot 0 before the command,\n"
                     "1 after it.\n"
                     "\n"
                     "  list [--json]                       every session: id, time, workspace\n"
                     "  show ID [--diff] [--json]           the snapshots of a session (--diff: "
                     "what each changed)\n"
                     "  restore ID [--snapshot N] [--dry-run]\n"
                     "                                      make the workspace what snapshot N "
                     "recorded\n"
                     "                                      (default 0: before the command ran)\n"
                     "  verify ID                           check every object of the session\n"
                     "  cleanup [--keep N] [--older-than DAYS] [--dry-run]\n"
                     "                                      remove old sessions (default: keep\n"
                     "                                      nono.conf's store.keep, else 10)\n");
}

enum {
        OPT_JSON = 256,
        OPT_DIFF,
        OPT_SNAPSHOT,
        OPT_DRY_RUN,
        OPT_KEEP,
        OPT_OLDER_THAN,
};

static const struct option options[] = {
    {"json", no_argument, NULL, OPT_JSON},
    {"diff", no_argument, NULL, OPT_DIFF},
    {"snapshot", required_argument, NULL, OPT_SNAPSHOT},
    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
    {"keep", required_argument, NULL, OPT_KEEP},
    {"older-than", required_argument, NULL, OPT_OLDER_THAN},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

struct args {
        const char *id;
        int json, diff, dry_run, help;
        int snapshot;
        long keep, older_than;
        unsigned allowed; /* which options the subcommand takes: 1 << (opt - OPT_JSON) */
};

#define ALLOW(opt) (1u << ((opt)-OPT_JSON))

static int parse_number(const char *arg, const char *what, long min, long *ret)
{
        char *end;
        long v = strtol(arg, &end, 10);

        if (!*arg || *end || v < min) {
                fprintf(stderr, "nono: %s must be a number >= %ld, not \"%s\"\n", what, min, arg);
                return -1;
        }
        *ret = v;
        return 0;
}

static int parse_option(struct args *a, int opt, const char *arg)
{
        long v;

        if (opt == 'h')
                return a->help = 1, 0;
        if (opt < OPT_JSON || !(a->allowed & ALLOW(opt)))
                return -1;
        switch (opt) {
        case OPT_JSON:
                return a->json = 1, 0;
        case OPT_DIFF:
                return a->diff = 1, 0;
        case OPT_DRY_RUN:
                return a->dry_run = 1, 0;
        case OPT_SNAPSHOT:
                if (parse_number(arg, "--snapshot", -1000000, &v) < 0)
                        return -2;
                return a->snapshot = (int)v, 0;
        case OPT_KEEP:
                return parse_number(arg, "--keep", 0, &a->keep) < 0 ? -2 : 0;
        case OPT_OLDER_THAN:
                return parse_number(arg, "--older-than", 0, &a->older_than) < 0 ? -2 : 0;
        default:
                return -1;
        }
}

/* 0 to go on, else exit code + 1. */
static int parse_args(int argc, char **argv, int want_id, struct args *a)
{
        int opt, r;

        optind = 1;
        opterr = 0;
        while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
                r = parse_option(a, opt, optarg);
                if (r == -1)
                        fprintf(stderr,
                                "nono: unknown or incomplete option \"%s\" (see nono "
                                "rollback --help)\n",
                                argv[optind - 1]);
                if (r < 0)
                        return 2;
        }
        if (a->help) {
                usage(stdout);
                return 1;
        }
        if (want_id && optind < argc)
                a->id = argv[optind++];
        if ((want_id && !a->id) || optind < argc) {
                fprintf(stderr, "nono: rollback %s %s (see nono rollback --help)\n", argv[0],
                        want_id && !a->id ? "needs a session id" : "takes no more arguments");
                return 2;
        }
        return 0;
}

static const char *format_time(int64_t secs, char *buf, size_t size)
{
        time_t t = (time_t)secs;
        struct tm tm;

        strftime(buf, size, "%Y-%m-%d %H:%M:%S", localtime_r(&t, &tm));
        return buf;
}

static int print_json(json_t *o)
{
        int r = o ? json_dumpf(o, stdout, JSON_INDENT(2)) : -1;

        json_decref(o);
        putchar('\n');
        return r < 0 ? 1 : 0;
}

/* ---- list ------------------------------------------------------------------------------ */

static int list_json(const struct snapshot_sessions *s)
{
        json_t *arr = json_array();

        for (size_t i = 0; arr && i < s->n; i++)
                json_array_append_new(arr, json_pack("{s:s, s:I, s:s, s:I}", "id", s->items[i].id,
                                                     "time", (json_int_t)s->items[i].time,
                                                     "workspace", s->items[i].root, "snapshots",
                                                     (json_int_t)s->items[i].n_snapshots));
        return print_json(arr);
}

static int cmd_list(int argc, char **argv)
{
        struct args a = {.allowed = ALLOW(OPT_JSON)};
        struct snapshot_sessions s;
        char when[32];
        int r = parse_args(argc, argv, 0, &a);

        if (r)
                return r - 1;
        if (snapshot_list(&s) < 0)
                return cli_fail();
        if (a.json) {
                r = list_json(&s);
        } else {
                if (s.n)
                        printf("%-24s  %-19s  %9s  %s\n", "ID", "TIME", "SNAPSHOTS", "WORKSPACE");
                for (size_t i = 0; i < s.n; i++)
                        printf("%-24s  %-19s  %9zu  %s\n", s.items[i].id,
                               format_time(s.items[i].time, when, sizeof(when)),
                               s.items[i].n_snapshots, s.items[i].root);
        }
        snapshot_sessions_free(&s);
        return r;
}

/* ---- show ------------------------------------------------------------------------------ */

static const char *kind_name(char kind)
{
        return kind == SNAPSHOT_CREATED   ? "created"
               : kind == SNAPSHOT_DELETED ? "deleted"
                                          : "modified";
}

static void print_changes(const struct snapshot_changes *c, const char *indent)
{
        for (size_t i = 0; i < c->n; i++)
                printf("%s%c %s%s\n", indent, c->items[i].kind, c->items[i].path,
                       c->items[i].type == 'd' ? "/" : "");
}

static json_t *changes_json(const struct snapshot_changes *c)
{
        json_t *arr = json_array();

        for (size_t i = 0; arr && i < c->n; i++)
                json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "change",
                                                     kind_name(c->items[i].kind), "type",
                                                     c->items[i].type == 'd'   ? "directory"
                                                     : c->items[i].type == 'l' ? "symlink"
                                                                               : "file",
                                                     "path", c->items[i].path));
        return arr;
}

static int show_snapshot(const struct args *a, const struct snapshot_info *si, json_t *arr)
{
        struct snapshot_changes c = {0};
        char when[32];
        json_t *o;

        if (a->diff && si->index > 0 &&
            snapshot_diff(a->id, (int)si->index - 1, (int)si->index, &c) < 0)
                return -1;
        if (!arr) {
                printf("  #%u  %s  %llu files, %llu bytes  root %.16s\n", si->index,
                       format_time(si->time_ns / 1000000000, when, sizeof(when)),
                       (unsigned long long)si->files, (unsigned long long)si->bytes,
                       si->root_digest);
                print_changes(&c, "       ");
        } else {
                o = json_pack("{s:I, s:I, s:I, s:I, s:s}", "index", (json_int_t)si->index, "time",
                              (json_int_t)(si->time_ns / 1000000000), "files",
                              (json_int_t)si->files, "bytes", (json_int_t)si->bytes, "merkle_root",
                              si->root_digest);
                if (o && a->diff && si->index > 0)
                        json_object_set_new(o, "changes", changes_json(&c));
                json_array_append_new(arr, o);
        }
        snapshot_changes_free(&c);
        return 0;
}

static json_t *history_json(const struct snapshot_history *h)
{
        json_t *pats = json_array();

        for (size_t i = 0; pats && i < h->n_exclude_patterns; i++)
                json_array_append_new(pats, json_string(h->exclude_patterns[i]));
        return json_pack("{s:s, s:I, s:s, s:b, s:o, s:[]}", "id", h->session.id, "time",
                         (json_int_t)h->session.time, "workspace", h->session.root, "use_gitignore",
                         h->use_gitignore, "exclude_patterns", pats, "snapshots");
}

static int cmd_show(int argc, char **argv)
{
        struct args a = {.allowed = ALLOW(OPT_JSON) | ALLOW(OPT_DIFF)};
        struct snapshot_history h;
        json_t *o = NULL;
        char when[32];
        int r = parse_args(argc, argv, 1, &a);

        if (r)
                return r - 1;
        if (snapshot_show(a.id, &h) < 0)
                return cli_fail();
        if (a.json)
                o = history_json(&h);
        else
                printf("session %s\n  workspace %s\n  started   %s\n  snapshots %zu\n",
                       h.session.id, h.session.root,
                       format_time(h.session.time, when, sizeof(when)), h.n);
        for (size_t i = 0; r == 0 && i < h.n; i++)
                r = show_snapshot(&a, &h.snapshots[i], o ? json_object_get(o, "snapshots") : NULL);
        snapshot_history_free(&h);
        if (r < 0) {
                json_decref(o);
                return cli_fail();
        }
        return a.json ? print_json(o) : 0;
}

/* ---- restore, verify, cleanup ---------------------------------------------------------- */

static int cmd_restore(int argc, char **argv)
{
        struct args a = {.allowed = ALLOW(OPT_SNAPSHOT) | ALLOW(OPT_DRY_RUN)};
        struct snapshot_changes c;
        struct progress bar;
        int r = parse_args(argc, argv, 1, &a);

        if (r)
                return r - 1;
        r = snapshot_restore(a.id, a.snapshot, a.dry_run, progress_snapshot(&bar, 0), &c);
        progress_finish(&bar);
        if (r < 0)
                return cli_fail();
        print_changes(&c, "  ");
        printf("%s snapshot %d of %s: %zu created, %zu modified, %zu deleted%s\n",
               a.dry_run ? "would restore" : "restored", a.snapshot, a.id, c.created, c.modified,
               c.deleted, a.dry_run ? " (dry run: nothing changed)" : "");
        snapshot_changes_free(&c);
        return 0;
}

static int cmd_verify(int argc, char **argv)
{
        struct args a = {0};
        struct snapshot_problems p;
        int r = parse_args(argc, argv, 1, &a);

        if (r)
                return r - 1;
        if (snapshot_verify(a.id, &p) < 0)
                return cli_fail();
        for (size_t i = 0; i < p.n; i++)
                fprintf(stderr, "nono: %s\n", p.items[i]);
        printf("session %s: %llu objects checked, %s\n", a.id,
               (unsigned long long)p.objects_checked, p.n ? "DAMAGED" : "all intact");
        r = p.n ? 1 : 0;
        snapshot_problems_free(&p);
        return r;
}

static int cmd_cleanup(int argc, char **argv)
{
        struct args a = {.allowed = ALLOW(OPT_KEEP) | ALLOW(OPT_OLDER_THAN) | ALLOW(OPT_DRY_RUN),
                         .keep = -1,
                         .older_than = -1};
        struct snapshot_cleanup_options opt;
        struct snapshot_cleanup_report rep;
        int r = parse_args(argc, argv, 0, &a);

        if (r)
                return r - 1;
        opt = (struct snapshot_cleanup_options){a.keep, a.older_than, a.dry_run};
        if (snapshot_cleanup(&opt, &rep) < 0)
                return cli_fail();
        printf("%s %zu session(s), %llu unreferenced object(s)\n",
               a.dry_run ? "would remove" : "removed", rep.sessions_removed,
               (unsigned long long)rep.objects_removed);
        return 0;
}

int cmd_rollback(int argc, char **argv)
{
        static const struct {
                const char *name;
                int (*fn)(int argc, char **argv);
        } sub[] = {
            {"list", cmd_list},     {"show", cmd_show},       {"restore", cmd_restore},
            {"verify", cmd_verify}, {"cleanup", cmd_cleanup},
        };

        if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
                usage(argc < 2 ? stderr : stdout);
                return argc < 2 ? 1 : 0;
        }
        for (size_t i = 0; i < sizeof(sub) / sizeof(sub[0]); i++)
                if (strcmp(argv[1], sub[i].name) == 0)
                        return sub[i].fn(argc - 1, argv + 1);
        fprintf(stderr, "nono: unknown rollback command \"%s\" (see nono rollback --help)\n",
                argv[1]);
        return 1;
}
