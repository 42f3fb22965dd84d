/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The denial report printed after a run: what the sandbox refused, as exactly as the
 * kernel tells nono, with the flag that would allow it.
 *
 * Exact sources on Linux: the Unix-socket mediator's refusals (seccomp user
 * notifications: nono itself decided, so it knows path and flag).  Landlock's own
 * denials reach user space only as kernel audit records (Landlock ABI 7), which need
 * the audit subsystem enabled system-wide and CAP_AUDIT_READ; nono does not switch
 * audit on for the machine, so on most machines (this project's test machine included)
 * file and TCP refusals are not reported individually: the footer names `nono why`,
 * which answers for a given path or host.  The child's stderr is passed through
 * untouched, so nono never guesses from it.
 */
#ifndef NONO_CORE_DIAGNOSTICS_H
#define NONO_CORE_DIAGNOSTICS_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

struct unixmed;

struct diag_denial {
        const char *kind; /* "unix-socket", "unix-datagram" */
        const char *op;   /* "connect", "sendto"; "socket", "socketpair" */
        char *target;     /* printable: control and non-ASCII bytes replaced */
        char *flag;       /* what would allow it */
};

struct diagnostics {
        int exit_code;
        struct diag_denial *denials; /* the most recent ones */
        size_t n_denials;
        uint64_t denied_total; /* all refusals, also those no longer listed */
};

/* Collects the mediator's refusals (m may be NULL). */
int diagnostics_collect(struct diagnostics *d, int exit_code, const struct unixmed *m);
void diagnostics_free(struct diagnostics *d);

/* The denials as a JSON array (for the audit log and --diagnostics-json). */
json_t *diagnostics_denials_json(const struct diagnostics *d);

/*
 * The footer: nothing after a clean exit without refusals; the refusals when there
 * were any; after a non-zero exit without any, one line pointing at `nono why`.
 * `json`: one JSON object on one line instead, after every run.
 */
void diagnostics_print(const struct diagnostics *d, int json, FILE *out);

#endif
