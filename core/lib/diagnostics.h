/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The denial report printed after a run: what the sandbox refused, as exactly as the
 * kernel tells nono, with the flag that would allow it.
 *
 * Exact sources on Linux:
 *   - the Unix-socket mediator's refusals (seccomp user notifications: nono itself
 *     decided, so it knows path and flag), Unix datagram sockets included;
 *   - Landlock's own denials (files, TCP ports, scopes), from the kernel's audit
 *     records (kaudit.h), after a run that exited non-zero.  Those are readable only
 *     when kernel audit is enabled machine-wide and nono runs as root (CAP_AUDIT_READ);
 *     nono never switches audit on, so on most machines (this project's test machine
 *     included) file and TCP refusals are not listed one by one and the footer names
 *     `nono why`, which answers for a given path or host.  Writes outside the grants
 *     that the mount namespace refuses (EROFS) leave no record either.
 * The flag for a file or port is the one `nono why` names (why.h).  The child's stderr
 * is passed through untouched, so nono never guesses from it.
 */
#ifndef NONO_CORE_DIAGNOSTICS_H
#define NONO_CORE_DIAGNOSTICS_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

struct kaudit_log;
struct plan;
struct unixmed;

struct diag_denial {
        const char *kind; /* "unix-socket", "unix-datagram", "file", "tcp", "process", "other" */
        const char *op;   /* "connect", "sendto", "socket", "read", "write", "bind"... */
        char *target;     /* printable: control and non-ASCII bytes replaced; may be "" */
        char *blockers;   /* Landlock's names of the missing rights; NULL from the mediator */
        char *flag;       /* what would allow it; NULL when no flag does */
};

struct diagnostics {
        int exit_code;
        int landlock_audit;          /* Landlock's audit records were read for it */
        struct diag_denial *denials; /* the mediator's most recent, then Landlock's first */
        size_t n_denials;
        uint64_t denied_total; /* all refusals, also those not listed */
        int records_lost;      /* the kernel dropped audit records: denied_total is less */
};

/* Where the refusals come from; NULL: that source is not there. */
struct diag_sources {
        const struct unixmed *mediator;
        const struct kaudit_log *landlock; /* records read from the kernel */
        const struct plan *plan;           /* for the flags; NULL: none named */
};

int diagnostics_collect(struct diagnostics *d, int exit_code, const struct diag_sources *src);
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
