/* SPDX-License-Identifier: Apache-2.0 */
/* nono run | wrap | shell: parse the sandbox options into a run_request. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "error.h"
#include "run.h"

enum {
        OPT_ALLOW_FILE = 256,
        OPT_READ_FILE,
        OPT_WRITE_FILE,
        OPT_ALLOW_CWD,
        OPT_WORKDIR,
        OPT_BACKEND,
        OPT_DRY_RUN,
        OPT_BEST_EFFORT,
        OPT_ALLOW_ENV,
        OPT_ALLOW_PERSISTENCE,
        OPT_ALLOW_UNIX_SOCKET,
        OPT_ROLLBACK,
        OPT_NO_ROLLBACK_PROMPT,
        OPT_ROLLBACK_EXCLUDE,
};

static const struct option run_options[] = {
    {"allow", required_argument, NULL, 'a'},
    {"read", required_argument, NULL, 'r'},
    {"write", required_argument, NULL, 'w'},
    {"allow-file", required_argument, NULL, OPT_ALLOW_FILE},
    {"read-file", required_argument, NULL, OPT_READ_FILE},
    {"write-file", required_argument, NULL, OPT_WRITE_FILE},
    {"allow-cwd", no_argument, NULL, OPT_ALLOW_CWD},
    {"workdir", required_argument, NULL, OPT_WORKDIR},
    {"profile", required_argument, NULL, 'p'},
    {"backend", required_argument, NULL, OPT_BACKEND},
    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
    {"best-effort", no_argument, NULL, OPT_BEST_EFFORT},
    {"allow-env", required_argument, NULL, OPT_ALLOW_ENV},
    {"allow-persistence", required_argument, NULL, OPT_ALLOW_PERSISTENCE},
    {"allow-unix-socket", required_argument, NULL, OPT_ALLOW_UNIX_SOCKET},
    {"rollback", no_argument, NULL, OPT_ROLLBACK},
    {"no-rollback-prompt", no_argument, NULL, OPT_NO_ROLLBACK_PROMPT},
    {"rollback-exclude", required_argument, NULL, OPT_ROLLBACK_EXCLUDE},
    {"verbose", no_argument, NULL, 'v'},
    {"silent", no_argument, NULL, 's'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static void usage(const char *cmd, FILE *out)
{
        fprintf(out,
                "usage: nono %s [OPTIONS]%s\n\n"
                "  -a, --allow PATH        read and write PATH (directory or file)\n"
                "  -r, --read PATH         read PATH\n"
                "  -w, --write PATH        write PATH\n"
                "      --allow-file FILE   read and write one file\n"
                "      --read-file FILE    read one file\n"
                "      --write-file FILE   write one file\n"
                "      --allow-cwd         grant the working directory (access from the "
                "profile, else read-write)\n"
                "      --workdir DIR       run in DIR (default: the current directory)\n"
                "  -p, --profile NAME      start from profile NAME (or $NONO_PROFILE)\n"
                "      --backend NAME      enforcer plugin (default: landlock)\n"
                "      --dry-run           print the plan and the rules, run nothing\n"
                "      --best-effort       run even if the kernel lacks a feature the plan "
                "needs (warns)\n"
                "      --allow-env NAME    pass variable NAME although it looks like a secret "
                "or an injection vector\n"
                "      --allow-persistence PATH\n"
                "                          let the sandbox write PATH (.git/hooks, .bashrc, ...)"
                "\n"
                "      --allow-unix-socket PATH\n"
                "                          let the sandbox connect to the Unix socket PATH\n"
                "      --rollback          snapshot the working directory before and after, "
                "list\n"
                "                          the changes and offer to undo them (nono rollback)\n"
                "      --no-rollback-prompt\n"
                "                          do not offer to undo (still snapshots)\n"
                "      --rollback-exclude PATTERN\n"
                "                          leave PATTERN (.gitignore syntax) out of snapshots\n"
                "  -v, --verbose           say more (twice: debug)\n"
                "  -s, --silent            print errors only\n\n"
                "NONO_ALLOW adds comma-separated --allow paths.\n",
                cmd, strcmp(cmd, "shell") == 0 ? "" : " [--] COMMAND [ARGS...]");
}

/* NONO_ALLOW="a,b" is --allow a --allow b. */
static int add_env_allows(struct run_request *req)
{
        const char *list = getenv("NONO_ALLOW");
        char *copy, *save = NULL;
        int r = 0;

        if (!list || !*list)
                return 0;
        copy = strdup(list);
        if (!copy)
                return -ENOMEM;
        for (char *tok = strtok_r(copy, ",", &save); tok && r >= 0;
             tok = strtok_r(NULL, ",", &save))
                if (*tok)
                        r = strv_push(&req->allow, tok);
        free(copy);
        return r;
}

static struct strv *list_for(struct run_request *req, int opt)
{
        switch (opt) {
        case 'a':
                return &req->allow;
        case 'r':
                return &req->read;
        case 'w':
                return &req->write;
        case OPT_ALLOW_FILE:
                return &req->allow_file;
        case OPT_READ_FILE:
                return &req->read_file;
        case OPT_WRITE_FILE:
                return &req->write_file;
        case OPT_ALLOW_ENV:
                return &req->allow_env;
        case OPT_ALLOW_PERSISTENCE:
                return &req->allow_persistence;
        case OPT_ALLOW_UNIX_SOCKET:
                return &req->allow_unix_socket;
        case OPT_ROLLBACK_EXCLUDE:
                return &req->rollback_exclude;
        default:
                return NULL;
        }
}

/* Returns 0 to go on, or an exit code + 1 (so that --help can exit 0). */
static int parse_one(struct run_request *req, int opt, const char *arg, const char *cmd,
                     int *verbosity)
{
        struct strv *list = list_for(req, opt);

        if (list)
                return strv_push(list, arg) < 0 ? 2 : 0;
        switch (opt) {
        case OPT_ALLOW_CWD:
                req->allow_cwd = 1;
                return 0;
        case OPT_WORKDIR:
                req->workdir = arg;
                return 0;
        case 'p':
                req->profile = arg;
                return 0;
        case OPT_BACKEND:
                req->backend = arg;
                return 0;
        case OPT_DRY_RUN:
                req->dry_run = 1;
                return 0;
        case OPT_BEST_EFFORT:
                req->best_effort = 1;
                return 0;
        case OPT_ROLLBACK:
                req->rollback = 1;
                return 0;
        case OPT_NO_ROLLBACK_PROMPT:
                req->no_rollback_prompt = 1;
                return 0;
        case 'v':
                (*verbosity)++;
                return 0;
        case 's':
                *verbosity = NONO_VERBOSITY_SILENT;
                return 0;
        case 'h':
                usage(cmd, stdout);
                return 1;
        default:
                return 2;
        }
}

static int report_bad_option(char **argv, int index)
{
        const char *arg = index > 0 && argv[index - 1] ? argv[index - 1] : "?";

        if (optopt && optopt < 256 && strchr("arwp", optopt))
                fprintf(stderr, "nono: option -%c needs a value\n", optopt);
        else
                fprintf(stderr, "nono: unknown or incomplete option \"%s\" (see --help)\n", arg);
        return 1;
}

static char *shell_argv[3];

/* `nono shell` runs the user's shell, interactive. */
static char *const *shell_command(void)
{
        const char *sh = getenv("SHELL");

        shell_argv[0] = (char *)(sh && *sh ? sh : "/bin/sh");
        shell_argv[1] = (char *)"-i";
        shell_argv[2] = NULL;
        return shell_argv;
}

int cmd_run(int argc, char **argv)
{
        const char *cmd = argv[0];
        int verbosity = NONO_VERBOSITY_NORMAL;
        struct run_request req;
        int opt, r = 0;

        run_request_init(&req);
        req.profile = getenv("NONO_PROFILE");
        if (req.profile && !*req.profile)
                req.profile = NULL;
        if (add_env_allows(&req) < 0)
                return cli_fail();
        optind = 1;
        opterr = 0;
        while (r == 0 && (opt = getopt_long(argc, argv, "+a:r:w:p:vsh", run_options, NULL)) != -1)
                r = opt == '?' || opt == ':' ? report_bad_option(argv, optind) + 1
                                             : parse_one(&req, opt, optarg, cmd, &verbosity);
        if (r != 0) {
                run_request_free(&req);
                return r - 1;
        }
        nono_set_verbosity(verbosity);
        if (strcmp(cmd, "shell") == 0) {
                if (optind < argc) {
                        fprintf(stderr, "nono: shell takes no command (use nono run)\n");
                        run_request_free(&req);
                        return 1;
                }
                req.argv = shell_command();
        } else {
                if (optind >= argc) {
                        fprintf(stderr, "nono: no command given (nono %s [OPTIONS] -- COMMAND)\n",
                                cmd);
                        run_request_free(&req);
                        return 1;
                }
                req.argv = argv + optind;
        }
        r = strcmp(cmd, "wrap") == 0 ? run_wrap(&req) : run_command(&req);
        run_request_free(&req);
        return r;
}
