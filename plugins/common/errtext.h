/* SPDX-License-Identifier: Apache-2.0 */
#ifndef NONO_PLUGINS_ERRTEXT_H
#define NONO_PLUGINS_ERRTEXT_H

/*
 * strerror for code that runs in the sandboxed child between fork and exec: static
 * strings only (strerror may allocate or take the locale lock, and a lock held by
 * another thread at fork time is never released in the child).
 */
const char *errno_text(int err);

#endif
