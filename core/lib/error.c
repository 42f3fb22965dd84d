/* SPDX-License-Identifier: Apache-2.0 */
#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define ERROR_MAX 1024

static _Thread_local char error_message[ERROR_MAX];
static _Thread_local int error_code;
static int verbosity = NONO_VERBOSITY_NORMAL;
static void (*before_message)(void);

int nono_verror(int err, const char *fmt, va_list ap)
{
        vsnprintf(error_message, sizeof(error_message), fmt, ap);
        error_code = err;
        return err;
}

int nono_error(int err, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        nono_verror(err, fmt, ap);
        va_end(ap);
        return err;
}

int nono_error_prefix(int err, const char *fmt, ...)
{
        char old[ERROR_MAX];
        va_list ap;
        int n;

        snprintf(old, sizeof(old), "%s", nono_errmsg());
        va_start(ap, fmt);
        n = vsnprintf(error_message, sizeof(error_message), fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < sizeof(error_message))
                snprintf(error_message + n, sizeof(error_message) - (size_t)n, "%s", old);
        error_code = err;
        return err;
}

const char *nono_errmsg(void)
{
        if (error_message[0] == '\0' && error_code < 0)
                return strerror(-error_code);
        if (error_message[0] == '\0')
                return "unknown error";
        return error_message;
}

void nono_error_clear(void)
{
        error_message[0] = '\0';
        error_code = 0;
}

void nono_set_verbosity(int v)
{
        verbosity = v;
}

int nono_verbosity(void)
{
        return verbosity;
}

static int level_visible(int level)
{
        switch (level) {
        case NONO_LOG_ERROR:
                return 1;
        case NONO_LOG_WARNING:
                return verbosity >= NONO_VERBOSITY_NORMAL;
        case NONO_LOG_INFO:
                return verbosity >= NONO_VERBOSITY_VERBOSE;
        default:
                return verbosity >= NONO_VERBOSITY_DEBUG;
        }
}

void nono_vlog(int level, const char *prefix, const char *fmt, va_list ap)
{
        static const char *const labels[] = {"error: ", "warning: ", "", "debug: "};
        const char *label = level >= 0 && level <= NONO_LOG_DEBUG ? labels[level] : "";

        if (!level_visible(level))
                return;
        if (before_message)
                before_message();
        fprintf(stderr, "nono: %s", label);
        if (prefix)
                fprintf(stderr, "[%s] ", prefix);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
}

void nono_set_before_message(void (*fn)(void))
{
        before_message = fn;
}

void nono_warn(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        nono_vlog(NONO_LOG_WARNING, NULL, fmt, ap);
        va_end(ap);
}

void nono_info(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        nono_vlog(NONO_LOG_INFO, NULL, fmt, ap);
        va_end(ap);
}

void nono_debug(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        nono_vlog(NONO_LOG_DEBUG, NULL, fmt, ap);
        va_end(ap);
}
