/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Redaction of command arguments before they are written to the audit log: values of
 * secret-named options and variables (--token=..., --api-key VALUE, OPENAI_API_KEY=...),
 * passwords in URLs (https://user:pass@host), well-known token formats (sk-..., ghp_...,
 * AKIA..., xoxb-..., JWTs) and long high-entropy words.  Over-redacting is preferred to
 * leaking: a hash or identifier may occasionally be replaced too.
 */
#ifndef NONO_CORE_REDACT_H
#define NONO_CORE_REDACT_H

#include <jansson.h>

#define REDACTED "[REDACTED]"

/*
 * A copy of `arg` with secret-looking parts replaced by REDACTED.  `prev` is the
 * argument before it (NULL for the first): after "--token" the whole argument is a
 * secret.  NULL on allocation failure.
 */
char *redact_arg(const char *arg, const char *prev);

/* The NULL-terminated argv as a JSON array of redacted strings; NULL on failure. */
json_t *redact_argv_json(char *const *argv);

#endif
