/* SPDX-License-Identifier: Apache-2.0 */
/* `nono setup --check-only [--backend NAME]`: what this machine offers a sandbox. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "machine.h"

int cmd_setup(int argc, char **argv)
{
        const char *backend = NULL;
        int check_only = 0;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--check-only") == 0) {
                        check_only = 1;
                } else if (strcmp(argv[i], "--backend") == 0 && i + 1 < argc) {
                        backend = argv[++i];
                } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
                        printf("usage: nono setup --check-only [--backend NAME]\n\n"
                               "Reports the enforcer's kernel features, seccomp, namespaces and\n"
                               "the plugin directory, each with what nono does without it.\n"
                               "Exits 1 when nono run could not start here.\n");
                        return 0;
                } else {
                        fprintf(stderr, "nono: setup: unknown option \"%s\"\n", argv[i]);
                        return 1;
                }
        }
        if (!check_only) {
                fprintf(stderr, "nono: setup changes nothing yet; use nono setup --check-only\n");
                return 1;
        }
        return machine_report(stdout, backend) ? 1 : 0;
}
