/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nono why [SANDBOX OPTIONS] --path PATH [--op read|write] [--json]
 * nono why [SANDBOX OPTIONS] --host HOST [--port N] [--json]
 * nono why --self ...: for the sandbox this command runs in.
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "error.h"
#include "paths.h"
#include "planfd.h"
#include "why.h"

enum {
        OPT_PATH = SANDBOX_OPTION_MAX + 1,
        OPT_OP,
        OPT_HOST,
        OPT_PORT,
        OPT_JSON,
        OPT_SELF,
};

const struct option why_options[] = {
    {"path", required_argument, NULL, OPT_PATH},
    {"op", required_argument, NULL, OPT_OP},
    {"host", required_argument, NULL, OPT_HOST},
    {"port", required_argument, NULL, OPT_PORT},
    {"json", no_argument, NULL, OPT_JSON},
    {"self", no_argument, NULL, OPT_SELF},
    {NULL, 0, NULL, 0},
};

/* Exit codes: 0 allowed, WHY_EXIT_DENIED denied, 1 bad input or error. */
#define WHY_EXIT_DENIED 2

struct why_args {
        const char *path, *op, *host, *port;
        int json, self;
};

static int why_option(int opt, const char *arg, void *userdata)
{
        struct why_args *a = userdata;

        switch (opt) {
        case OPT_PATH:
                a->path = arg;
                return 0;
        case OPT_OP:
                a->op = arg;
                return 0;
        case OPT_HOST:
                a->host = arg;
                return 0;
        case OPT_PORT:
                a->port = arg;
                return 0;
        case OPT_JSON:
                a->json = 1;
                return 0;
        case OPT_SELF:
                a->self = 1;
                return 0;
        default:
                return 2;
        }
}

static void why_usage(const char *cmd, FILE *out)
{
        fprintf(out,
                "usage: nono why [OPTIONS] --path PATH [--op read|write] [--json]\n"
                "       nono why [OPTIONS] --host HOST [--port N] [--json]\n"
                "       nono why --self (--path PATH [--op ...] | --host HOST) [--json]\n\n"
                "Would `nono run` with the same OPTIONS allow it?  Names the rule or group that\n"
                "decides and the flag that would change the answer.  Exits 0 when allowed,\n"
                "%d when denied.  --self answers inside a sandbox, for that sandbox\n"
                "(sandbox options are then ignored: the plan is the one nono ran it with).\n\n"
                "      --path PATH         a file or directory\n"
                "      --op read|write     what to do with it (default: read)\n"
                "      --host HOST         a host name or IP address to connect to\n"
                "      --port N            the port (an allow-list entry without one covers 443 "
                "and 80)\n"
                "      --json              one JSON object\n"
                "      --self              the plan of the sandbox this runs in\n\n",
                WHY_EXIT_DENIED);
        sandbox_options_usage(out);
}

static int bad(const char *msg)
{
        fprintf(stderr, "nono: why: %s\n", msg);
        return 1;
}

static int check_args(const struct why_args *a, int operands)
{
        if (operands)
                return bad("takes no command (see nono why --help)");
        if (!a->path == !a->host)
                return bad("needs either --path PATH or --host HOST");
        if (a->op && (!a->path || (strcmp(a->op, "read") != 0 && strcmp(a->op, "write") != 0)))
                return bad("--op is read or write, with --path");
        if (a->port && !a->host)
                return bad("--port goes with --host");
        return 0;
}

static int parse_port(const char *s, int *ret)
{
        char *end;
        long port;

        *ret = 0;
        if (!s)
                return 0;
        errno = 0;
        port = strtol(s, &end, 10);
        if (errno || *end || port < 1 || port > 65535)
                return nono_error(-EINVAL, "why: --port %s is not a port number", s);
        *ret = (int)port;
        return 0;
}

static int load_plan(const struct why_args *a, const struct run_request *req, struct plan *ret)
{
        char *text = NULL;
        int r;

        if (!a->self)
                return run_build_plan(req, ret, NULL);
        r = planfd_read(&text);
        if (r >= 0)
                r = plan_from_json(text, ret);
        free(text);
        return r;
}

/* The path as the plan would resolve it (variables, relative to here, symlinks). */
static int resolve_query_path(const struct plan *p, const char *raw, char **ret, int *missing)
{
        struct stat st;
        struct vars v;
        int r = vars_init(&v, p->workdir);

        if (r >= 0)
                r = paths_resolve_raw(&v, raw, ret);
        vars_free(&v);
        *missing = r >= 0 && lstat(*ret, &st) < 0;
        return r;
}

static int answer(const struct why_args *a, const struct plan *p, const struct why_query *q)
{
        struct why_verdict v;
        int r = why_decide(p, q, &v);

        if (r < 0)
                return cli_fail();
        if (a->json) {
                json_t *o = why_to_json(q, &v);
                char *text = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;

                if (text)
                        printf("%s\n", text);
                free(text);
                json_decref(o);
        } else {
                why_print(q, &v, stdout);
        }
        r = v.allowed ? 0 : WHY_EXIT_DENIED;
        why_verdict_free(&v);
        return r;
}

static int why_with(const struct why_args *a, const struct run_request *req)
{
        struct why_query q = {0};
        struct plan plan;
        char *path = NULL;
        int r = parse_port(a->port, &q.port);

        if (r < 0)
                return cli_fail();
        r = load_plan(a, req, &plan);
        if (r < 0)
                return cli_fail();
        if (a->path)
                r = resolve_query_path(&plan, a->path, &path, &q.path_missing);
        if (r >= 0) {
                q.path = path;
                q.op = a->op && strcmp(a->op, "write") == 0 ? WHY_OP_WRITE : WHY_OP_READ;
                q.host = a->host;
                r = answer(a, &plan, &q);
        } else {
                r = cli_fail();
        }
        free(path);
        plan_free(&plan);
        return r;
}

int cmd_why(int argc, char **argv)
{
        struct why_args a = {0};
        struct run_request req;
        struct command_options own = {"why", why_options, why_option, &a, why_usage};
        int first, r;

        run_request_init(&req);
        r = parse_sandbox_options(argc, argv, &req, &own, &first);
        if (r != 0) {
                run_request_free(&req);
                return r - 1;
        }
        r = check_args(&a, first < argc);
        if (r == 0)
                r = why_with(&a, &req);
        run_request_free(&req);
        return r;
}
