/* SPDX-License-Identifier: Apache-2.0 */
/* The nono command line: dispatch to a subcommand.  All logic lives in libnono. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "error.h"
#include "nono-build-config.h"

static const struct option *const run_tables[] = {sandbox_options, run_only_options, NULL};
static const struct option *const why_tables[] = {sandbox_options, why_options, NULL};
static const struct option *const audit_tables[] = {audit_options, NULL};
static const struct option *const setup_tables[] = {setup_options, NULL};
static const char *const profile_words[] = {"list", "show", "validate", "groups", NULL};
static const char *const profiles_words[] = {"export", NULL};
static const char *const plugins_words[] = {"list", NULL};
static const char *const credential_words[] = {"set", "get", "delete", "list", NULL};

static const struct command commands[] = {
    {"run", cmd_run, "run a command in a sandbox (supervised)", run_tables, NULL},
    {"wrap", cmd_run, "apply the sandbox to nono itself and exec the command", run_tables, NULL},
    {"shell", cmd_run, "start an interactive shell in a sandbox", run_tables, NULL},
    {"proxy", cmd_run, "run the filtering proxy alone and print its environment", run_tables, NULL},
    {"why", cmd_why, "would the sandbox allow a path or host, and why", why_tables, NULL},
    {"profile", cmd_profile, "list, show, validate profiles; list groups", NULL, profile_words},
    {"profiles", cmd_profiles, "export a resolved profile as JSON", NULL, profiles_words},
    {"plugins", cmd_plugins, "list the plugins nono can load", NULL, plugins_words},
    {"audit", cmd_audit, "list, show, verify and clean up session audit logs", audit_tables,
     audit_words},
    {"credential", cmd_credential, "set, get, delete, list stored credentials", NULL,
     credential_words},
    {"setup", cmd_setup, "check what this machine offers a sandbox (--check-only)", setup_tables,
     NULL},
    {"completions", cmd_completions, "print a shell completion script (bash, zsh, fish)", NULL,
     completion_shells},
};

const struct command *cli_commands(size_t *ret_n)
{
        *ret_n = sizeof(commands) / sizeof(commands[0]);
        return commands;
}

int cli_fail(void)
{
        fprintf(stderr, "nono: %s\n", nono_errmsg());
        return 1;
}

static void usage(FILE *out)
{
        fprintf(out, "usage: nono COMMAND [OPTIONS] [-- PROGRAM [ARGS...]]\n\ncommands:\n");
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
                fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
        fprintf(out, "\n`nono COMMAND --help` describes each command's options.\n");
}

int main(int argc, char **argv)
{
        const char *name = argc > 1 ? argv[1] : NULL;

        if (!name) {
                usage(stderr);
                return 1;
        }
        if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
                usage(stdout);
                return 0;
        }
        if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0) {
                printf("nono %s\n", NONO_VERSION);
                return 0;
        }
        for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
                if (strcmp(name, commands[i].name) == 0)
                        return commands[i].fn(argc - 1, argv + 1);
        fprintf(stderr, "nono: unknown command \"%s\" (see nono --help)\n", name);
        return 1;
}
