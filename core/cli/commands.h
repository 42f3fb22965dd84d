/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The nono command line: each subcommand parses its own arguments (argv[0] is the
 * subcommand name) and returns the process exit code.  Errors are printed once, as
 * "nono: <message>", by the subcommand.
 */
#ifndef NONO_CLI_COMMANDS_H
#define NONO_CLI_COMMANDS_H

#include <getopt.h>
#include <stdio.h>

#include "run.h"

int cmd_run(int argc, char **argv);         /* run, wrap, shell */
int cmd_profile(int argc, char **argv);     /* profile list|show|validate|groups */
int cmd_profiles(int argc, char **argv);    /* profiles export NAME */
int cmd_plugins(int argc, char **argv);     /* plugins list */
int cmd_setup(int argc, char **argv);       /* setup --check-only */
int cmd_why(int argc, char **argv);         /* why --path P [--op read|write] | --host H */
int cmd_credential(int argc, char **argv);  /* credential set|get|delete|list */
int cmd_audit(int argc, char **argv);       /* audit list|show|verify|cleanup */
int cmd_completions(int argc, char **argv); /* completions bash|zsh|fish */

/* One entry of the command table (main.c); completions are generated from it. */
struct command {
        const char *name;
        int (*fn)(int argc, char **argv);
        const char *summary;
        const struct option *const *options; /* getopt tables, NULL-terminated; or NULL */
        const char *const *words;            /* subcommands or arguments; or NULL */
};

/* The command table and its length. */
const struct command *cli_commands(size_t *ret_n);

/*
 * The options that shape the sandbox plan (-a/--allow, --profile, ...), shared by
 * run/wrap/shell and why so that both see the same plan.  A command's own options use
 * values above SANDBOX_OPTION_MAX.
 */
#define SANDBOX_OPTION_MAX 511
extern const struct option sandbox_options[];
extern const struct option run_only_options[]; /* --dry-run, --no-diagnostics, ... */

struct command_options {
        const char *cmd;              /* for usage: "run", "why" */
        const struct option *options; /* the command's own; NULL-terminated */
        /* Handles one of them: 0 to go on, else an exit code + 1. */
        int (*handle)(int opt, const char *arg, void *userdata);
        void *userdata;
        void (*usage)(const char *cmd, FILE *out); /* --help */
};

/*
 * Parses the sandbox options and the command's own into req (NONO_PROFILE and
 * NONO_ALLOW included) and sets the verbosity.  Returns 0 with *ret_optind at the first
 * operand, or an exit code + 1 (bad input has been reported; --help printed).
 */
int parse_sandbox_options(int argc, char **argv, struct run_request *req,
                          const struct command_options *own, int *ret_optind);
/* The other commands' option tables and words, for the command table. */
extern const struct option why_options[];
extern const struct option audit_options[];
extern const char *const audit_words[];
extern const struct option setup_options[];
extern const char *const completion_shells[];

/* The sandbox options' lines of --help. */
void sandbox_options_usage(FILE *out);

/* Prints "nono: <msg>" for the current libnono error; returns 1. */
int cli_fail(void);

#endif
