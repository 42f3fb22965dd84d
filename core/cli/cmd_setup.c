/* SPDX-License-Identifier: Apache-2.0 */
/* `nono setup --check-only [--backend NAME]`: what this machine offers a sandbox. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "machine.h"

enum {
        OPT_CHECK_ONLY = 256,
        OPT_BACKEND,
};

const struct option setup_options[] = {
    {"check-only", no_argument, NULL, OPT_CHECK_ONLY},
    {"backend", required_argument, NULL, OPT_BACKEND},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int cmd_setup(int argc, char **argv)
{
        const char *backend = NULL;
        int check_only = 0;
        int opt;

        optind = 1;
        opterr = 0;
        while ((opt = getopt_long(argc, argv, "+h", setup_options, NULL)) != -1) {
                if (opt == OPT_CHECK_ONLY) {
                        check_only = 1;
                } else if (opt == OPT_BACKEND) {
                        backend = optarg;
                } else if (opt == 'h') {
                        printf("usage: nono setup --check-only [--backend NAME]\n\n"
                               "Reports the enforcer's kernel features, seccomp, namespaces,\n"
                               "the Secret Service and the plugin directory, each with what\n"
                               "nono does without it.  Exits 1 when nono run could not start "
                               "here.\n");
                        return 0;
                } else {
                        fprintf(stderr, "nono: setup: unknown or incomplete option \"%s\"\n",
                                argv[optind - 1]);
                        return 1;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "nono: setup: unexpected argument \"%s\"\n", argv[optind]);
                return 1;
        }
        if (!check_only) {
                fprintf(stderr, "nono: setup changes nothing yet; use nono setup --check-only\n");
                return 1;
        }
        return machine_report(stdout, backend) ? 1 : 0;
}
