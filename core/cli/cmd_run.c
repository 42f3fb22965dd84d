/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nono run | wrap | shell: parse the sandbox options into a run_request.  The sandbox
 * options (everything that shapes the plan) are shared with `nono why`, which must see
 * the plan `run` would build from the same command line.
 */
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
        OPT_BEST_EFFORT,
        OPT_ALLOW_ENV,
        OPT_ALLOW_PERSISTENCE,
        OPT_ALLOW_UNIX_SOCKET,
        OPT_ALLOW_UNIX_DATAGRAMS,
        OPT_BLOCK_NET,
        OPT_NETWORK_PROFILE,
        OPT_ALLOW_DOMAIN,
        OPT_CREDENTIAL,
        OPT_ALLOW_ENDPOINT,
        OPT_PROXY_PORT,
        OPT_LISTEN_PORT,
        OPT_OPEN_PORT,
        OPT_CONNECT_PORT,
        OPT_UPSTREAM_PROXY,
        OPT_UPSTREAM_BYPASS,
        OPT_ROLLBACK,
        OPT_NO_ROLLBACK_PROMPT,
        OPT_ROLLBACK_EXCLUDE,
        OPT_SHARE_TMP,
        OPT_CHECK_HARDLINKS,
        OPT_MAX_PROCESSES,
        OPT_MAX_MEMORY,
        OPT_MAX_OPEN_FILES,
        OPT_MAX_FILE_SIZE,
        OPT_CPU_SECONDS,
};

/* run's own options, numbered above the sandbox options (see commands.h). */
enum {
        OPT_DRY_RUN = SANDBOX_OPTION_MAX + 1,
        OPT_NO_DIAGNOSTICS,
        OPT_DIAGNOSTICS_JSON,
};

const struct option sandbox_options[] = {
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
    {"best-effort", no_argument, NULL, OPT_BEST_EFFORT},
    {"allow-env", required_argument, NULL, OPT_ALLOW_ENV},
    {"allow-persistence", required_argument, NULL, OPT_ALLOW_PERSISTENCE},
    {"allow-unix-socket", required_argument, NULL, OPT_ALLOW_UNIX_SOCKET},
    {"allow-unix-datagrams", no_argument, NULL, OPT_ALLOW_UNIX_DATAGRAMS},
    {"block-net", no_argument, NULL, OPT_BLOCK_NET},
    {"network-profile", required_argument, NULL, OPT_NETWORK_PROFILE},
    {"allow-domain", required_argument, NULL, OPT_ALLOW_DOMAIN},
    {"credential", required_argument, NULL, OPT_CREDENTIAL},
    {"proxy-credential", required_argument, NULL, OPT_CREDENTIAL},
    {"allow-endpoint", required_argument, NULL, OPT_ALLOW_ENDPOINT},
    {"proxy-port", required_argument, NULL, OPT_PROXY_PORT},
    {"listen-port", required_argument, NULL, OPT_LISTEN_PORT},
    {"open-port", required_argument, NULL, OPT_OPEN_PORT},
    {"allow-connect-port", required_argument, NULL, OPT_CONNECT_PORT},
    {"upstream-proxy", required_argument, NULL, OPT_UPSTREAM_PROXY},
    {"upstream-bypass", required_argument, NULL, OPT_UPSTREAM_BYPASS},
    {"rollback", no_argument, NULL, OPT_ROLLBACK},
    {"no-rollback-prompt", no_argument, NULL, OPT_NO_ROLLBACK_PROMPT},
    {"rollback-exclude", required_argument, NULL, OPT_ROLLBACK_EXCLUDE},
    {"share-tmp", no_argument, NULL, OPT_SHARE_TMP},
    {"check-hardlinks", no_argument, NULL, OPT_CHECK_HARDLINKS},
    {"max-processes", required_argument, NULL, OPT_MAX_PROCESSES},
    {"max-memory", required_argument, NULL, OPT_MAX_MEMORY},
    {"max-open-files", required_argument, NULL, OPT_MAX_OPEN_FILES},
    {"max-file-size", required_argument, NULL, OPT_MAX_FILE_SIZE},
    {"cpu-seconds", required_argument, NULL, OPT_CPU_SECONDS},
    {"verbose", no_argument, NULL, 'v'},
    {"silent", no_argument, NULL, 's'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* run, wrap and shell only: what to do with the plan, and the report afterwards. */
const struct option run_only_options[] = {
    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
    {"no-diagnostics", no_argument, NULL, OPT_NO_DIAGNOSTICS},
    {"diagnostics-json", no_argument, NULL, OPT_DIAGNOSTICS_JSON},
    {NULL, 0, NULL, 0},
};

void sandbox_options_usage(FILE *out)
{
        fprintf(out,
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
                "      --best-effort       run even if the kernel lacks a feature the plan "
                "needs (warns)\n"
                "      --allow-env NAME    pass variable NAME although it looks like a secret "
                "or an injection vector\n"
                "      --allow-persistence PATH\n"
                "                          let the sandbox write or create PATH (.git/hooks, "
                ".bashrc, ...)"
                "\n"
                "      --allow-unix-socket PATH\n"
                "                          let the sandbox connect to the Unix socket PATH\n"
                "      --allow-unix-datagrams\n"
                "                          let the sandbox create Unix datagram sockets "
                "(default: EPERM);\n"
                "                          gives up the grants for them: they can send to any "
                "datagram\n"
                "                          socket on the host (/dev/log, the journal, daemons)\n"
                "      --rollback          snapshot the working directory before and after, "
                "list\n"
                "                          the changes and offer to undo them (nono rollback)\n"
                "      --no-rollback-prompt\n"
                "                          do not offer to undo (still snapshots)\n"
                "      --rollback-exclude PATTERN\n"
                "                          leave PATTERN (.gitignore syntax) out of snapshots\n"
                "      --share-tmp         use the host's /tmp and /dev/shm (default: private, "
                "empty ones)\n"
                "      --check-hardlinks   warn about workspace files with other hard links\n"
                "\nlimits (default: none; per process unless said):\n"
                "      --max-processes N   processes of the sandbox in all\n"
                "      --max-memory MB     private writable memory (RLIMIT_DATA)\n"
                "      --max-open-files N  open descriptors\n"
                "      --max-file-size MB  the largest file written\n"
                "      --cpu-seconds N     CPU time\n"
                "\nnetwork (default: unrestricted):\n"
                "      --block-net         no network at all\n"
                "      --network-profile NAME\n"
                "                          only the hosts of network profile NAME (minimal, "
                "developer, enterprise), through nono's proxy\n"
                "      --allow-domain HOST[:PORT]\n"
                "                          only HOST (or *.suffix) through nono's proxy, on "
                "ports 443 and 80\n"
                "                          unless PORT is given; repeatable\n"
                "      --credential SERVICE\n"
                "                          route SERVICE (openai, anthropic, gemini, github, "
                "gitlab, or the\n"
                "                          profile's custom_credentials) through the proxy, "
                "which adds the\n"
                "                          real key; the sandbox sees a phantom token "
                "(alias --proxy-credential)\n"
                "      --allow-endpoint SERVICE:METHOD:/path/glob\n"
                "                          limit what a credential may be used for\n"
                "      --proxy-port PORT   the proxy's port (default: any free port)\n"
                "      --allow-connect-port PORT\n"
                "                          let the sandbox connect to TCP PORT (local "
                "services)\n"
                "      --listen-port PORT  let the sandbox listen on TCP PORT\n"
                "      --open-port PORT    both of the above\n"
                "      --upstream-proxy HOST:PORT\n"
                "                          send the proxy's outgoing connections through "
                "HOST:PORT\n"
                "      --upstream-bypass HOST\n"
                "                          reach HOST directly, not through the upstream "
                "proxy\n\n"
                "  -v, --verbose           say more (twice: debug)\n"
                "  -s, --silent            print errors only\n\n"
                "NONO_ALLOW adds comma-separated --allow paths.\n");
}

static void run_usage(const char *cmd, FILE *out)
{
        fprintf(out,
                "usage: nono %s [OPTIONS]%s\n\n"
                "      --dry-run           print the plan and the rules, run nothing\n"
                "      --no-diagnostics    no report of what the sandbox refused\n"
                "      --diagnostics-json  that report as one JSON object on stderr\n",
                cmd, strcmp(cmd, "shell") == 0 ? "" : " [--] COMMAND [ARGS...]");
        sandbox_options_usage(out);
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
        case OPT_ALLOW_DOMAIN:
                return &req->net.allow_domain;
        case OPT_CREDENTIAL:
                return &req->net.credentials;
        case OPT_ALLOW_ENDPOINT:
                return &req->net.allow_endpoint;
        case OPT_LISTEN_PORT:
                return &req->net.listen_port;
        case OPT_OPEN_PORT:
                return &req->net.open_port;
        case OPT_CONNECT_PORT:
                return &req->net.connect_port;
        case OPT_UPSTREAM_BYPASS:
                return &req->net.upstream_bypass;
        case OPT_ROLLBACK_EXCLUDE:
                return &req->rollback_exclude;
        default:
                return NULL;
        }
}

/* "--max-memory" for its option value, for messages. */
static const char *option_name(int opt)
{
        static char name[40];

        for (const struct option *o = sandbox_options; o->name; o++)
                if (o->val == opt) {
                        snprintf(name, sizeof(name), "--%s", o->name);
                        return name;
                }
        return "option";
}

static long long *limit_for(struct run_request *req, int opt)
{
        switch (opt) {
        case OPT_MAX_PROCESSES:
                return &req->limits.max_processes;
        case OPT_MAX_MEMORY:
                return &req->limits.max_memory_mb;
        case OPT_MAX_OPEN_FILES:
                return &req->limits.max_open_files;
        case OPT_MAX_FILE_SIZE:
                return &req->limits.max_file_size_mb;
        case OPT_CPU_SECONDS:
                return &req->limits.cpu_seconds;
        default:
                return NULL;
        }
}

/* Returns 0 to go on, or an exit code + 1 (so that --help can exit 0). */
static int parse_one(struct run_request *req, int opt, const char *arg, int *verbosity,
                     const struct command_options *own)
{
        struct strv *list = list_for(req, opt);
        long long *limit = limit_for(req, opt);

        if (list)
                return strv_push(list, arg) < 0 ? 2 : 0;
        if (limit)
                return limits_parse(option_name(opt), arg, limit) < 0 ? cli_fail() + 1 : 0;
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
        case OPT_BEST_EFFORT:
                req->best_effort = 1;
                return 0;
        case OPT_SHARE_TMP:
                req->share_tmp = 1;
                return 0;
        case OPT_ALLOW_UNIX_DATAGRAMS:
                req->allow_unix_datagrams = 1;
                return 0;
        case OPT_CHECK_HARDLINKS:
                req->check_hardlinks = 1;
                return 0;
        case OPT_BLOCK_NET:
                req->net.block = 1;
                return 0;
        case OPT_NETWORK_PROFILE:
                req->net.network_profile = arg;
                return 0;
        case OPT_PROXY_PORT:
                req->net.proxy_port = arg;
                return 0;
        case OPT_UPSTREAM_PROXY:
                req->net.upstream_proxy = arg;
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
                own->usage(own->cmd, stdout);
                return 1;
        default:
                return opt > SANDBOX_OPTION_MAX ? own->handle(opt, arg, own->userdata) : 2;
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

/* sandbox_options followed by the command's own, for getopt_long; malloc'ed. */
static struct option *merge_options(const struct option *own)
{
        size_t a = 0, b = 0;
        struct option *all;

        while (sandbox_options[a].name)
                a++;
        while (own && own[b].name)
                b++;
        all = calloc(a + b + 1, sizeof(*all));
        if (!all)
                return NULL;
        memcpy(all, sandbox_options, a * sizeof(*all));
        if (b)
                memcpy(all + a, own, b * sizeof(*all));
        return all;
}

int parse_sandbox_options(int argc, char **argv, struct run_request *req,
                          const struct command_options *own, int *ret_optind)
{
        struct option *options = merge_options(own->options);
        int verbosity = NONO_VERBOSITY_NORMAL;
        int opt, r = 0;

        if (!options)
                return 2;
        req->profile = getenv("NONO_PROFILE");
        if (req->profile && !*req->profile)
                req->profile = NULL;
        if (add_env_allows(req) < 0) {
                free(options);
                return cli_fail() + 1;
        }
        optind = 1;
        opterr = 0;
        while (r == 0 && (opt = getopt_long(argc, argv, "+a:r:w:p:vsh", options, NULL)) != -1)
                r = opt == '?' || opt == ':' ? report_bad_option(argv, optind) + 1
                                             : parse_one(req, opt, optarg, &verbosity, own);
        free(options);
        nono_set_verbosity(verbosity);
        *ret_optind = optind;
        return r;
}

static int run_only_option(int opt, const char *arg, void *userdata)
{
        struct run_request *req = userdata;

        switch (opt) {
        case OPT_DRY_RUN:
                req->dry_run = 1;
                return 0;
        case OPT_NO_DIAGNOSTICS:
                req->no_diagnostics = 1;
                return 0;
        case OPT_DIAGNOSTICS_JSON:
                req->diagnostics_json = 1;
                return 0;
        default:
                return 2;
        }
}

int cmd_run(int argc, char **argv)
{
        const char *cmd = argv[0];
        struct run_request req;
        struct command_options own = {cmd, run_only_options, run_only_option, &req, run_usage};
        int first, r;

        run_request_init(&req);
        r = parse_sandbox_options(argc, argv, &req, &own, &first);
        if (r != 0) {
                run_request_free(&req);
                return r - 1;
        }
        if (strcmp(cmd, "proxy") == 0) {
                if (first < argc) {
                        fprintf(stderr, "nono: proxy takes no command\n");
                        run_request_free(&req);
                        return 1;
                }
                r = run_proxy(&req);
                run_request_free(&req);
                return r;
        }
        if (strcmp(cmd, "shell") == 0) {
                if (first < argc) {
                        fprintf(stderr, "nono: shell takes no command (use nono run)\n");
                        run_request_free(&req);
                        return 1;
                }
                req.argv = shell_command();
        } else {
                if (first >= argc) {
                        fprintf(stderr, "nono: no command given (nono %s [OPTIONS] -- COMMAND)\n",
                                cmd);
                        run_request_free(&req);
                        return 1;
                }
                req.argv = argv + first;
        }
        r = strcmp(cmd, "wrap") == 0 ? run_wrap(&req) : run_command(&req);
        run_request_free(&req);
        return r;
}
