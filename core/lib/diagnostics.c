/* SPDX-License-Identifier: Apache-2.0 */
#include "diagnostics.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kaudit.h"
#include "strv.h"
#include "unixmed.h"
#include "why.h"

#define MAX_LISTED 8
#define WHY_HINT                                                                                   \
        "`nono why --path PATH [--op write]` or `nono why --host HOST`, with the same "            \
        "options, names the rule and the flag that would allow it"

/* The program chose these bytes: never print them raw to the user's terminal. */
static char *printable(const char *s)
{
        char *out = nono_strdup(s);

        for (char *c = out; c && *c; c++)
                if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
                        *c = '?';
        return out;
}

/* Takes the strings; a NULL target means out of memory. */
static int add_denial(struct diagnostics *d, const char *kind, const char *op, char *target,
                      char *blockers, char *flag)
{
        struct diag_denial *x = &d->denials[d->n_denials];

        *x = (struct diag_denial){kind, op, target, blockers, flag};
        if (!target) {
                free(blockers);
                free(flag);
                return -ENOMEM;
        }
        d->n_denials++;
        return 0;
}

/* socket() or socketpair() of a Unix datagram socket: no path, one flag. */
static int add_dgram_denial(struct diagnostics *d, const struct unixmed_denial *u)
{
        char *flag = nono_strdup("--allow-unix-datagrams");

        return add_denial(d, "unix-datagram",
                          u->op == UNIXMED_OP_SOCKETPAIR ? "socketpair" : "socket",
                          flag ? nono_strdup("AF_UNIX SOCK_DGRAM") : NULL, NULL, flag);
}

static int add_unix_denial(struct diagnostics *d, const struct unixmed_denial *u)
{
        const char *path = u->resolved[0] ? u->resolved : u->requested;
        char *target = printable(path);
        char *flag = target ? nono_asprintf("--allow-unix-socket %s", target) : NULL;

        if (target && !flag) {
                free(target);
                return -ENOMEM;
        }
        return add_denial(d, "unix-socket", u->op == UNIXMED_OP_SENDTO ? "sendto" : "connect",
                          target, NULL, flag);
}

/* ---- Landlock's denials ------------------------------------------------------------- */

/* The flag `nono why` names for the query; NULL when the plan allows it already (a right
 * no grant of nono carries, like fs.make_char) or nothing would. */
static char *flag_for(const struct plan *p, const struct why_query *q)
{
        struct why_verdict v;
        char *flag = NULL;

        if (!p || why_decide(p, q, &v) < 0)
                return NULL;
        if (!v.allowed && v.change)
                flag = nono_strdup(v.change);
        why_verdict_free(&v);
        return flag;
}

/* nono's grants speak of reading (files, directories, executing) and writing. */
static int fs_op(const char *blockers)
{
        static const char *const reads[] = {"fs.read_file", "fs.read_dir", "fs.execute"};
        const char *b = blockers;

        while (*b) {
                size_t len = strcspn(b, ",");
                int is_read = 0;

                for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++)
                        is_read |= strlen(reads[i]) == len && strncmp(b, reads[i], len) == 0;
                if (!is_read)
                        return WHY_OP_WRITE;
                b += len + (b[len] == ',');
        }
        return WHY_OP_READ;
}

static int add_path_denial(struct diagnostics *d, const struct kaudit_denial *k,
                           const struct plan *p)
{
        struct why_query q = {.path = k->path, .op = fs_op(k->blockers)};

        /* Landlock keeps abstract sockets in the sandbox's domain: no grant opens them. */
        if (strncmp(k->blockers, "fs.", 3) != 0)
                return add_denial(d, "unix-socket", "connect", printable(k->path),
                                  nono_strdup(k->blockers), NULL);
        return add_denial(d, "file", q.op == WHY_OP_READ ? "read" : "write", printable(k->path),
                          nono_strdup(k->blockers), flag_for(p, &q));
}

/* "127.0.0.1:9", "[::1]:443", or "port 8080" when the kernel named no address. */
static char *tcp_target(const struct kaudit_denial *k)
{
        if (!k->addr[0])
                return nono_asprintf("port %u", k->port);
        return nono_asprintf(strchr(k->addr, ':') ? "[%s]:%u" : "%s:%u", k->addr, k->port);
}

static int add_tcp_denial(struct diagnostics *d, const struct kaudit_denial *k,
                          const struct plan *p)
{
        struct why_query q = {.tcp_port = (int)k->port,
                              .tcp_bind = strncmp(k->blockers, "net.bind", 8) == 0};

        return add_denial(d, "tcp", q.tcp_bind ? "bind" : "connect", tcp_target(k),
                          nono_strdup(k->blockers), flag_for(p, &q));
}

/* Signals and ptrace across the sandbox's boundary: Landlock's scopes, no flag. */
static int add_process_denial(struct diagnostics *d, const struct kaudit_denial *k)
{
        char *comm = printable(k->comm);
        char *target = comm ? nono_asprintf("%d (%s)", k->pid, comm) : NULL;

        free(comm);
        return add_denial(d, "process",
                          strcmp(k->blockers, "scope.signal") == 0 ? "signal" : "ptrace", target,
                          nono_strdup(k->blockers), NULL);
}

static int add_landlock_denial(struct diagnostics *d, const struct kaudit_denial *k,
                               const struct plan *p)
{
        switch (k->object) {
        case KAUDIT_OBJECT_PATH:
                return add_path_denial(d, k, p);
        case KAUDIT_OBJECT_TCP:
                return add_tcp_denial(d, k, p);
        case KAUDIT_OBJECT_PROCESS:
                return add_process_denial(d, k);
        default:
                return add_denial(d, "other", "access", nono_strdup(""), nono_strdup(k->blockers),
                                  NULL);
        }
}

/* ---- collecting --------------------------------------------------------------------- */

static int collect_mediator(struct diagnostics *d, const struct unixmed *m)
{
        struct unixmed_denial u[MAX_LISTED];
        size_t n = unixmed_denials(m, u, MAX_LISTED);
        int r = 0;

        d->denied_total += unixmed_denied_total(m);
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = u[i].op == UNIXMED_OP_SOCKET || u[i].op == UNIXMED_OP_SOCKETPAIR
                        ? add_dgram_denial(d, &u[i])
                        : add_unix_denial(d, &u[i]);
        return r;
}

/* After the mediator's: the list holds MAX_LISTED in all. */
static int collect_landlock(struct diagnostics *d, const struct kaudit_log *l, const struct plan *p)
{
        int r = 0;

        d->landlock_audit = 1;
        d->records_lost = l->lost;
        d->denied_total += l->total;
        for (size_t i = 0; r >= 0 && i < l->n_denials && d->n_denials < MAX_LISTED; i++)
                r = add_landlock_denial(d, &l->denials[i], p);
        return r;
}

int diagnostics_collect(struct diagnostics *d, int exit_code, const struct diag_sources *src)
{
        int r = 0;

        memset(d, 0, sizeof(*d));
        d->exit_code = exit_code;
        d->denials = calloc(MAX_LISTED, sizeof(*d->denials));
        if (!d->denials)
                return -ENOMEM;
        if (src->mediator)
                r = collect_mediator(d, src->mediator);
        if (r >= 0 && src->landlock)
                r = collect_landlock(d, src->landlock, src->plan);
        return r;
}

void diagnostics_free(struct diagnostics *d)
{
        for (size_t i = 0; i < d->n_denials; i++) {
                free(d->denials[i].target);
                free(d->denials[i].blockers);
                free(d->denials[i].flag);
        }
        free(d->denials);
        memset(d, 0, sizeof(*d));
}

/* ---- output ------------------------------------------------------------------------- */

json_t *diagnostics_denials_json(const struct diagnostics *d)
{
        json_t *a = json_array();

        for (size_t i = 0; a && i < d->n_denials; i++) {
                const struct diag_denial *x = &d->denials[i];

                json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:s?, s:s?}", "kind", x->kind,
                                                   "op", x->op, "target", x->target, "blockers",
                                                   x->blockers, "allow_with", x->flag));
        }
        return a;
}

static void print_json(const struct diagnostics *d, FILE *out)
{
        json_t *o = json_pack("{s:i, s:o, s:I, s:b, s:b, s:s}", "exit_code", d->exit_code,
                              "denials", diagnostics_denials_json(d), "denied_total",
                              (json_int_t)d->denied_total, "landlock_audit", d->landlock_audit,
                              "records_lost", d->records_lost, "hint", WHY_HINT);
        char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;

        if (text)
                fprintf(out, "%s\n", text);
        free(text);
        json_decref(o);
}

/* How a line names the target of each kind. */
static const char *target_words(const char *kind)
{
        static const char *const words[][2] = {
            {"unix-socket", " to the Unix socket "},
            {"file", " access to "},
            {"tcp", " to TCP "},
            {"process", " to process "},
        };

        for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
                if (strcmp(kind, words[i][0]) == 0)
                        return words[i][1];
        return "";
}

/* "nono: the sandbox refused write access to /x (fs.write_file; allow it with --allow /x)" */
static void print_denial(const struct diag_denial *x, FILE *out)
{
        if (strcmp(x->kind, "unix-datagram") == 0) {
                fprintf(out,
                        "nono: the sandbox refused %s(AF_UNIX, SOCK_DGRAM): a Unix datagram "
                        "socket could send to any datagram socket on the host (allow it with "
                        "%s)\n",
                        x->op, x->flag);
                return;
        }
        fprintf(out, "nono: the sandbox refused %s%s%s (%s%s", x->op, target_words(x->kind),
                x->target, x->blockers ? x->blockers : "", x->blockers ? "; " : "");
        if (x->flag)
                fprintf(out, "allow it with %s)\n", x->flag);
        else
                fprintf(out, "no flag of nono allows it)\n");
}

static void print_text(const struct diagnostics *d, FILE *out)
{
        if (d->n_denials == 0) {
                fprintf(out,
                        "nono: the command exited with status %d; if the sandbox refused "
                        "something it needed, " WHY_HINT "\n",
                        d->exit_code);
                return;
        }
        for (size_t i = 0; i < d->n_denials; i++)
                print_denial(&d->denials[i], out);
        if (d->denied_total > d->n_denials || d->records_lost)
                fprintf(out, "nono: ... %s%llu refusals in all\n",
                        d->records_lost ? "more than " : "", (unsigned long long)d->denied_total);
}

void diagnostics_print(const struct diagnostics *d, int json, FILE *out)
{
        /* A program asked for JSON: it always gets its object. */
        if (json)
                print_json(d, out);
        else if (d->exit_code != 0 || d->denied_total != 0)
                print_text(d, out);
}
