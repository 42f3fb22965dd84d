/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Credentials by reference.  `<source>://<name>` asks the credential plugin named
 * <source> (env://OPENAI_API_KEY, libsecret://openai); a bare name is offered to each
 * configured source in order (nono.conf credential_sources, else "env" then the
 * platform's keyring) until one does not decline.
 *
 * Secrets only ever live in host secret memory (locked, excluded from core dumps,
 * wiped on free): release them with credential_free.  No message, log line or
 * output written here contains a secret; names and source names may appear.
 */
#ifndef NONO_CORE_CREDENTIALS_H
#define NONO_CORE_CREDENTIALS_H

#include <stddef.h>

#include "config.h"
#include "loader.h"

#define CREDENTIAL_SOURCE_MAX 64  /* a plugin name */
#define CREDENTIAL_NAME_MAX   255 /* bytes */
#define CREDENTIAL_SECRET_MAX 16384

struct credential_ref {
        char source[CREDENTIAL_SOURCE_MAX + 1]; /* "" for a bare name */
        const char *name;                       /* points into the parsed string */
};

/*
 * Splits "source://name" or a bare "name".  The source is [a-z0-9-]; the name is 1 to
 * CREDENTIAL_NAME_MAX printable bytes (no control characters).  -EINVAL otherwise.
 */
int credential_parse_ref(const char *ref, struct credential_ref *ret);

/* The sources bare names are offered to, in order; NULL-terminated.  cfg may be NULL. */
const char *const *credential_source_order(const struct host_config *cfg);

/*
 * Looks `ref` up.  On success *ret_secret is NUL-terminated host secret memory of
 * *ret_len bytes (free it with credential_free) and *ret_source (may be NULL) names the
 * source that held it; the name lives as long as the registry.
 *
 * An explicit source fails closed: its plugin's error is the error.  For a bare name a
 * source that fails (not installed, Secret Service down) is skipped, with a debug note,
 * when a later source holds the name; otherwise every reason is reported.  Not found
 * anywhere: -ENOENT, "credential \"openai\" not found in env, libsecret".
 */
int credential_resolve(struct plugin_registry *reg, const struct host_config *cfg, const char *ref,
                       char **ret_secret, size_t *ret_len, const char **ret_source);

/* Wipes and releases a secret from credential_resolve or credential_read_secret. */
void credential_free(char *secret);

/*
 * Stores, replacing any previous value.  The source is `source` if not NULL, else the
 * ref's scheme, else the first configured source that can store.  *ret_source (may be
 * NULL) names the source used.
 */
int credential_store(struct plugin_registry *reg, const struct host_config *cfg, const char *source,
                     const char *ref, const char *secret, size_t len, const char **ret_source);

/* Removes from the source chosen as for credential_store; -ENOENT when it holds no such
 * name. */
int credential_remove(struct plugin_registry *reg, const struct host_config *cfg,
                      const char *source, const char *ref, const char **ret_source);

/*
 * Calls `each` with the names `source` holds (NULL: every configured source that can
 * list), sorted per source; stops at the first non-zero return, which is returned.
 * `each` gets no secrets.
 */
typedef int (*credential_list_fn)(const char *source, const char *name, void *userdata);
int credential_list(struct plugin_registry *reg, const struct host_config *cfg, const char *source,
                    credential_list_fn each, void *userdata);

/*
 * Reads a secret for `name` from fd into secret memory.  On a terminal it prompts on
 * stderr ("Secret for NAME: ") with echo off and reads one line; otherwise it reads to
 * end of file.  One trailing newline (\n or \r\n) is removed.  An empty secret or one
 * longer than CREDENTIAL_SECRET_MAX bytes is refused; SIGINT/SIGTERM/SIGHUP during the
 * prompt restore the terminal and return -ECANCELED.
 */
int credential_read_secret(int fd, const char *name, char **ret_secret, size_t *ret_len);

#endif
