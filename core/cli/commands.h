/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The nono command line: each subcommand parses its own arguments (argv[0] is the
 * subcommand name) and returns the process exit code.  Errors are printed once, as
 * "nono: <message>", by the subcommand.
 */
#ifndef NONO_CLI_COMMANDS_H
#define NONO_CLI_COMMANDS_H

int cmd_run(int argc, char **argv);      /* run, wrap, shell */
int cmd_profile(int argc, char **argv);  /* profile list|show|validate|groups */
int cmd_profiles(int argc, char **argv); /* profiles export NAME */
int cmd_plugins(int argc, char **argv);  /* plugins list */
int cmd_setup(int argc, char **argv);    /* setup --check-only */
int cmd_rollback(int argc, char **argv); /* rollback list|show|restore|verify|cleanup */

/* Prints "nono: <msg>" for the current libnono error; returns 1. */
int cli_fail(void);

#endif
