/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Process hygiene for the sandboxed child, after the enforcers have applied and just
 * before execve (DESIGN.md §4, layer 3).  Async-signal-safe: syscalls only.
 */
#ifndef NONO_CORE_HYGIENE_H
#define NONO_CORE_HYGIENE_H

#include "supervisor.h"

/*
 * Replaces the session keyring with a fresh anonymous one (keys the user's session
 * holds stay out of reach), then drops every capability: bounding set, ambient,
 * inheritable, permitted and effective — also when nono runs as root.
 */
int hygiene_apply(struct child_error *err);

#endif
