/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Error reporting inside libnono: functions return a negative errno and record one
 * human message (per thread) that the top level prints as "nono: <message>".
 * Messages never contain secrets.
 */
#ifndef NONO_CORE_ERROR_H
#define NONO_CORE_ERROR_H

#include <nono/plugin.h>
#include <stdarg.h>

/* Records the message and returns `err` (a negative errno), so callers can write
 * `return nono_error(-EINVAL, "unknown group \"%s\"", name);`. */
int nono_error(int err, const char *fmt, ...) NONO_PRINTF(2, 3);
int nono_verror(int err, const char *fmt, va_list ap) NONO_PRINTF(2, 0);

/* Prefixes the current message: "cannot read profile p.json: " + old message. */
int nono_error_prefix(int err, const char *fmt, ...) NONO_PRINTF(2, 3);

/* The last recorded message of this thread, or strerror(-err) text if none. */
const char *nono_errmsg(void);
void nono_error_clear(void);

/* Verbosity of messages printed to stderr. */
enum nono_verbosity {
        NONO_VERBOSITY_SILENT = 0,  /* errors only */
        NONO_VERBOSITY_NORMAL = 1,  /* + warnings */
        NONO_VERBOSITY_VERBOSE = 2, /* + info */
        NONO_VERBOSITY_DEBUG = 3,
};
void nono_set_verbosity(int verbosity);
int nono_verbosity(void);

/* "nono: warning: ..." on stderr unless silent. */
void nono_warn(const char *fmt, ...) NONO_PRINTF(1, 2);
/* "nono: ..." on stderr when verbose. */
void nono_info(const char *fmt, ...) NONO_PRINTF(1, 2);
/* "nono: debug: ..." on stderr at debug verbosity. */
void nono_debug(const char *fmt, ...) NONO_PRINTF(1, 2);
/* Writes at a given NONO_LOG_* level, with an optional "[plugin] " prefix. */
void nono_vlog(int level, const char *prefix, const char *fmt, va_list ap) NONO_PRINTF(3, 0);
/* Runs before each message printed (a progress line erases itself); NULL: nothing. */
void nono_set_before_message(void (*fn)(void));

#endif
