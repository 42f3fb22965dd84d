/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The plan handed to the sandboxed command, read-only, for `nono why --self`: a memfd
 * holding plan_to_json's text (paths, origins, network rules, variable names -- no
 * secrets), sealed against every write, shrink and grow, and against new seals.  The
 * child inherits it at the number named by $NONO_PLAN_FD.
 *
 * The seals make the content immutable for everyone, the child included.  The child can
 * still close the descriptor and put another sealed memfd in its place: what `why --self`
 * reads is only as trustworthy as the process asking, which is the process it describes.
 */
#ifndef NONO_CORE_PLANFD_H
#define NONO_CORE_PLANFD_H

#define PLANFD_ENV "NONO_PLAN_FD"

#include <jansson.h>

#include "strv.h"

/* A sealed close-on-exec memfd holding `text`; *ret_fd is the descriptor. */
int planfd_create(const char *text, int *ret_fd);

/*
 * The plan as compact JSON in a sealed memfd numbered above 2 (the child keeps only
 * such descriptors), named in the child's environment `env` as PLANFD_ENV (replacing
 * one inherited from an outer nono).  The caller closes *ret_fd.
 */
int planfd_publish(json_t *plan, struct strv *env, int *ret_fd);

/* The text of the plan this process runs under ($NONO_PLAN_FD); malloc'ed.  -ENOENT
 * with a message when not inside a nono sandbox. */
int planfd_read(char **ret_text);

#endif
