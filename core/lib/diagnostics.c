/* SPDX-License-Identifier: Apache-2.0 */
#include "diagnostics.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "strv.h"
#include "unixmed.h"

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

/* socket() or socketpair() of a Unix datagram socket: no path, one flag. */
static void describe_dgram(struct diag_denial *x, const struct unixmed_denial *u)
{
        x->kind = "unix-datagram";
        x->op = u->op == UNIXMED_OP_SOCKETPAIR ? "socketpair" : "socket";
        x->target = nono_strdup("AF_UNIX SOCK_DGRAM");
        x->flag = nono_strdup("--allow-unix-datagrams");
}

static void describe_connect(struct diag_denial *x, const struct unixmed_denial *u)
{
        const char *path = u->resolved[0] ? u->resolved : u->requested;

        x->kind = "unix-socket";
        x->op = u->op == UNIXMED_OP_SENDTO ? "sendto" : "connect";
        x->target = printable(path);
        x->flag = x->target ? nono_asprintf("--allow-unix-socket %s", x->target) : NULL;
}

static int add_unix_denial(struct diagnostics *d, const struct unixmed_denial *u)
{
        struct diag_denial *x = &d->denials[d->n_denials];

        if (u->op == UNIXMED_OP_SOCKET || u->op == UNIXMED_OP_SOCKETPAIR)
                describe_dgram(x, u);
        else
                describe_connect(x, u);
        if (!x->target || !x->flag) {
                free(x->target);
                free(x->flag);
                return -ENOMEM;
        }
        d->n_denials++;
        return 0;
}

int diagnostics_collect(struct diagnostics *d, int exit_code, const struct unixmed *m)
{
        struct unixmed_denial u[MAX_LISTED];
        size_t n = m ? unixmed_denials(m, u, MAX_LISTED) : 0;
        int r = 0;

        memset(d, 0, sizeof(*d));
        d->exit_code = exit_code;
        d->denied_total = m ? unixmed_denied_total(m) : 0;
        if (n == 0)
                return 0;
        d->denials = calloc(n, sizeof(*d->denials));
        if (!d->denials)
                return -ENOMEM;
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = add_unix_denial(d, &u[i]);
        return r;
}

void diagnostics_free(struct diagnostics *d)
{
        for (size_t i = 0; i < d->n_denials; i++) {
                free(d->denials[i].target);
                free(d->denials[i].flag);
        }
        free(d->denials);
        memset(d, 0, sizeof(*d));
}

json_t *diagnostics_denials_json(const struct diagnostics *d)
{
        json_t *a = json_array();

        for (size_t i = 0; a && i < d->n_denials; i++) {
                const struct diag_denial *x = &d->denials[i];

                json_array_append_new(a,
                                      json_pack("{s:s, s:s, s:s, s:s}", "kind", x->kind, "op",
                                                x->op, "target", x->target, "allow_with", x->flag));
        }
        return a;
}

static void print_json(const struct diagnostics *d, FILE *out)
{
        json_t *o = json_pack("{s:i, s:o, s:I, s:s}", "exit_code", d->exit_code, "denials",
                              diagnostics_denials_json(d), "denied_total",
                              (json_int_t)d->denied_total, "hint", WHY_HINT);
        char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;

        if (text)
                fprintf(out, "%s\n", text);
        free(text);
        json_decref(o);
}

static void print_denial(const struct diag_denial *x, FILE *out)
{
        if (strcmp(x->kind, "unix-datagram") == 0)
                fprintf(out,
                        "nono: the sandbox refused %s(AF_UNIX, SOCK_DGRAM): a Unix datagram "
                        "socket could send to any datagram socket on the host (allow it with "
                        "%s)\n",
                        x->op, x->flag);
        else
                fprintf(out,
                        "nono: the sandbox refused %s to the Unix socket %s (allow it with %s)\n",
                        x->op, x->target, x->flag);
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
        if (d->denied_total > d->n_denials)
                fprintf(out, "nono: ... %llu refusals in all\n",
                        (unsigned long long)d->denied_total);
}

void diagnostics_print(const struct diagnostics *d, int json, FILE *out)
{
        /* A program asked for JSON: it always gets its object. */
        if (json)
                print_json(d, out);
        else if (d->exit_code != 0 || d->denied_total != 0)
                print_text(d, out);
}
