/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `nono why`: would the plan allow this path operation or this host, which rule decides,
 * and which flag would change the answer.  A pure function of the plan and the query,
 * mirroring how the plan is enforced: protected paths win over grants, persistence paths
 * stay read-only inside write grants, rights of nested grants add up (Landlock), and the
 * network follows the plan's mode.
 */
#ifndef NONO_CORE_WHY_H
#define NONO_CORE_WHY_H

#include <jansson.h>

#include "plan.h"

enum why_op {
        WHY_OP_READ = 1, /* = NONO_ACCESS_READ */
        WHY_OP_WRITE = 2,
};

struct why_query {
        const char *path; /* resolved absolute path (paths_resolve_raw), or NULL */
        int op;           /* enum why_op, for path */
        int path_missing; /* the path does not exist: a grant must name its directory */
        const char *host; /* or a host name / IP literal */
        int port;         /* 0: any */
        /* Or a TCP port as Landlock's own rules see it (below the proxy): for the denial
         * report; why_to_json and why_print take path and host queries only. */
        int tcp_port;
        int tcp_bind; /* listen on it, rather than connect to it */
};

/* What decided, for messages and JSON. */
enum why_rule {
        WHY_RULE_NONE = 0,  /* nothing grants it */
        WHY_RULE_GRANT,     /* a grant (allows, or covers with too few rights) */
        WHY_RULE_PROTECTED, /* a protected path (deny) */
        WHY_RULE_READONLY,  /* a persistence path kept read-only */
        WHY_RULE_NETWORK,   /* the network mode */
        WHY_RULE_HOST,      /* an allow-listed host of the proxy */
        WHY_RULE_METADATA,  /* cloud-metadata / link-local: always refused by the proxy */
        WHY_RULE_PORT,      /* the TCP ports the sandbox may connect to or listen on */
};

struct why_verdict {
        int allowed;
        enum why_rule rule;
        char *rule_target; /* the grant's or deny's path, the host pattern; may be NULL */
        char *origin;      /* "--allow", "group deny_credentials", "profile x"; may be NULL */
        char *reason;      /* one sentence */
        char *change;      /* the flag or setting that would change the answer; may be NULL */
};

/* Fills *ret (free with why_verdict_free).  -EINVAL when the query names nothing. */
int why_decide(const struct plan *p, const struct why_query *q, struct why_verdict *ret);
void why_verdict_free(struct why_verdict *v);

/* The query and verdict as one JSON object (nono why --json). */
json_t *why_to_json(const struct why_query *q, const struct why_verdict *v);
/* "denied: write /x\n  why: ...\n  change: ...\n" */
void why_print(const struct why_query *q, const struct why_verdict *v, FILE *out);

#endif
