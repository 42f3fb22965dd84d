/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Credential source plugins look secrets up by reference: for `env://OPENAI_API_KEY`
 * the host asks the plugin named "env" for "OPENAI_API_KEY"; a bare name is offered
 * to each configured source in order until one does not decline.
 */
#ifndef NONO_CREDENTIAL_H
#define NONO_CREDENTIAL_H

#include <nono/plugin.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nono_credential_ops {
        uint32_t size;

        /*
         * Mandatory.  On success *ret_secret points to host secret memory
         * (host->secret_alloc, NUL-terminated), owned by the caller, and
         * *ret_len is its length.  NONO_DECLINED when the source does not hold it.
         */
        int (*lookup)(void *state, const char *ref, char **ret_secret, size_t *ret_len);

        /* Optional management operations (`nono credential set|delete|list`). */
        int (*store)(void *state, const char *ref, const char *secret, size_t len);
        int (*remove)(void *state, const char *ref);
        /* Calls `each` for every reference the source holds; stops on non-zero. */
        int (*list)(void *state, int (*each)(const char *ref, void *userdata), void *userdata);
};

#ifdef __cplusplus
}
#endif

#endif /* NONO_CREDENTIAL_H */
