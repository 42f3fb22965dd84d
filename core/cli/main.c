/* SPDX-License-Identifier: Apache-2.0 */
/* The nono command line: dispatch to a subcommand.  All logic lives in libnono. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "error.h"
#include "nono-build-config.h"

struct command {
        const char *name;
        int (*fn)(int argc, char **argv);
        const char *summary;
};

static const struct command commands[] = {
    {"run", cmd_run, "run a command in a sandbox (supervised)"},
    {"wrap", cmd_run, "apply the sandbox to nono itself and exec the command"},
    {"shell", cmd_run, "start an interactive shell in a sandbox"},
    {"profile", cmd_profile, "list, show, validate profiles; list groups"},
    {"profiles", cmd_profiles, "export a resolved profile as JSON"},
    {"plugins", cmd_plugins, "list the plugins nono can load"},
    {"rollback", cmd_rollback, "list, show, restore, verify and clean up snapshots"},
    {"setup", cmd_setup, "check what this machine offers a sandbox (--check-only)"},
};

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
