/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cred-lookup SOURCE REF: asks the credential source plugin SOURCE (loaded through the
 * real loader, from nono.conf's plugin_dir) for REF and compares the answer with
 * $EXPECTED_SECRET.  It prints only the outcome, never the secret:
 *   0 "match", 3 "mismatch", 2 "declined", 1 "error: <message>".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "error.h"
#include "loader.h"

static int lookup(struct plugin *pl, const char *ref, const char *expected)
{
        char *secret = NULL;
        size_t len = 0;
        int r = pl->ops.credential.lookup(pl->state, ref, &secret, &len);

        if (r == NONO_DECLINED) {
                puts("declined");
                return 2;
        }
        if (r < 0) {
                printf("error: %s\n", plugin_error(pl, r));
                return 1;
        }
        r = expected && len == strlen(expected) && memcmp(secret, expected, len) == 0;
        pl->host.secret_free(pl->host.ctx, secret);
        puts(r ? "match" : "mismatch");
        return r ? 0 : 3;
}

int main(int argc, char **argv)
{
        struct plugin_registry reg;
        struct host_config config;
        struct plugin *pl;
        int r;

        if (argc != 3) {
                fprintf(stderr, "usage: cred-lookup SOURCE REF\n");
                return 1;
        }
        r = host_config_load(&config);
        if (r < 0) {
                printf("error: %s\n", nono_errmsg());
                return 1;
        }
        plugin_registry_init(&reg, NULL, &config);
        r = plugin_load(&reg, NONO_PLUGIN_CREDENTIAL, argv[1], &pl);
        if (r < 0) {
                printf("error: %s\n", nono_errmsg());
                r = 1;
        } else {
                r = lookup(pl, argv[2], getenv("EXPECTED_SECRET"));
        }
        plugin_registry_free(&reg);
        host_config_free(&config);
        return r;
}
