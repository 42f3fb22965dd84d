/* SPDX-License-Identifier: Apache-2.0 */
/*
 * <nono/nono.h>: applying a capability set to the calling process or to a child,
 * and queries.  Every entry point clears this thread's error, validates its
 * arguments and records a message and a kind on failure.
 */
#include <nono/nono.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "caps.h"
#include "error.h"
#include "nono-build-config.h"
#include "paths.h"
#include "run.h"
#include "unixmed.h"

extern char **environ;

#define DEFAULT_MAX_OUTPUT ((size_t)64 << 20)

static _Thread_local int last_kind;

const char *nono_version(void)
{
        return NONO_VERSION;
}

const char *nono_last_error(void)
{
        return last_kind == NONO_ERROR_NONE ? "" : nono_errmsg();
}

int nono_last_error_kind(void)
{
        return last_kind;
}

void sdk_begin(void)
{
        nono_error_clear();
        last_kind = NONO_ERROR_NONE;
}

int sdk_failed(int r, int kind)
{
        if (r >= 0)
                return r;
        if (r == -ENOMEM) {
                nono_error(r, "out of memory");
                kind = NONO_ERROR_SYSTEM;
        }
        last_kind = kind;
        return r;
}

int sdk_kind_of_stage(enum run_stage stage)
{
        switch (stage) {
        case RUN_STAGE_CREDENTIAL:
                return NONO_ERROR_CREDENTIAL;
        case RUN_STAGE_CONFIG:
                return NONO_ERROR_CONFIG;
        case RUN_STAGE_PLUGIN:
                return NONO_ERROR_PLUGIN;
        case RUN_STAGE_POLICY:
                return NONO_ERROR_POLICY;
        case RUN_STAGE_EXEC:
                return NONO_ERROR_EXEC;
        default:
                return NONO_ERROR_SANDBOX;
        }
}

static int current_dir(char **ret)
{
        char buf[PATH_MAX];

        if (!getcwd(buf, sizeof(buf)))
                return nono_error(-errno, "cannot determine the current directory: %s",
                                  strerror(errno));
        *ret = nono_strdup(buf);
        return *ret ? 0 : -ENOMEM;
}

static int resolve_dir(const char *dir, char **ret)
{
        char *resolved;

        if (!dir)
                return current_dir(ret);
        resolved = realpath(dir, NULL);
        if (!resolved)
                return nono_error(-errno, "cannot use working directory %s: %s", dir,
                                  strerror(errno));
        *ret = resolved;
        return 0;
}

/*
 * The plan for caps, reviewed and prepared: a session ready to apply.  `mediated`: the
 * command will run under the Unix-socket mediator (sandboxed_exec), whose helper the
 * sandbox must be able to start.
 */
static int open_session(const nono_caps *caps, const char *workdir, int mediated,
                        struct session **ret)
{
        enum run_stage stage = RUN_STAGE_PLAN;
        struct plan plan;
        int r = caps_build_plan(caps, workdir, &plan);

        if (r < 0)
                return sdk_failed(r, NONO_ERROR_INVALID);
        r = mediated ? unixmed_grant_helper(&plan) : 0;
        if (r < 0) {
                plan_free(&plan);
                return sdk_failed(r, NONO_ERROR_SYSTEM);
        }
        r = run_session_open(&plan, NULL, ret, &stage);
        return sdk_failed(r, sdk_kind_of_stage(stage));
}

/* ---- apply ------------------------------------------------------------------------------ */

/* The number of threads of this process, from /proc/self/status. */
static long count_threads(void)
{
        FILE *f = fopen("/proc/self/status", "re");
        char line[256];
        long n = -1;

        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "Threads: %ld", &n) == 1)
                        break;
        fclose(f);
        return n;
}

/* Waits until joined threads are gone: a thread the caller has joined (Python's
 * Thread.join returns when its state is released) may still exist for a moment. */
#define THREAD_EXIT_WAIT_MS 200

static int check_single_threaded(void)
{
        struct timespec tick = {0, 10 * 1000000L};
        long n = count_threads();

        for (int waited = 0; n > 1 && waited < THREAD_EXIT_WAIT_MS; waited += 10) {
                nanosleep(&tick, NULL);
                n = count_threads();
        }

        if (n < 0)
                return nono_error(-EIO, "cannot count this process's threads (/proc/self/status)");
        if (n > 1)
                return nono_error(-EBUSY,
                                  "cannot apply the sandbox: the process has %ld threads and "
                                  "Landlock would confine only the calling one; apply before "
                                  "starting threads, or use sandboxed_exec",
                                  n);
        return 0;
}

int nono_apply(const nono_caps *caps)
{
        struct session *s = NULL;
        char *workdir = NULL;
        int r;

        sdk_begin();
        if (!caps)
                return sdk_failed(nono_error(-EINVAL, "caps must not be NULL"), NONO_ERROR_INVALID);
        r = check_single_threaded();
        if (r < 0)
                return sdk_failed(r, NONO_ERROR_SANDBOX);
        r = current_dir(&workdir);
        if (r < 0)
                return sdk_failed(r, NONO_ERROR_SYSTEM);
        r = open_session(caps, workdir, 0, &s);
        if (r >= 0)
                r = sdk_failed(run_session_apply_self(s), NONO_ERROR_SANDBOX);
        run_session_free(s);
        free(workdir);
        return r;
}

/* ---- sandboxed_exec ------------------------------------------------------------------- */

static int copy_options(const struct nono_exec_options *in, struct nono_exec_options *out)
{
        memset(out, 0, sizeof(*out));
        if (!in)
                return nono_error(-EINVAL, "options must not be NULL");
        if (in->size < offsetof(struct nono_exec_options, argv) + sizeof(in->argv))
                return nono_error(-EINVAL,
                                  "options->size is %u: set it to "
                                  "sizeof(struct nono_exec_options)",
                                  in->size);
        memcpy(out, in, in->size < sizeof(*out) ? in->size : sizeof(*out));
        if (!out->argv || !out->argv[0] || !out->argv[0][0])
                return nono_error(-EINVAL, "argv must name a command");
        if (out->timeout_ms > INT_MAX)
                return nono_error(-EINVAL, "timeout_ms is too large (%u)", out->timeout_ms);
        if (!out->max_output)
                out->max_output = DEFAULT_MAX_OUTPUT;
        return 0;
}

/* Takes the captured stream; an empty one becomes "" so callers need no NULL check. */
static int take_stream(struct captured_stream *c, char **ret, size_t *ret_len)
{
        *ret = c->data ? c->data : nono_strdup("");
        *ret_len = c->len;
        c->data = NULL;
        return *ret ? 0 : -ENOMEM;
}

/* exec failed inside the sandbox: exit code 127 and the reason on stderr, as nono run. */
static int append_exec_failure(struct captured_stream *err, const struct child_error *e)
{
        char *line = nono_asprintf("%snono: %s: %s\n", err->data ? err->data : "", e->message,
                                   strerror(e->err));

        if (!line)
                return -ENOMEM;
        free(err->data);
        err->data = line;
        err->len = strlen(line);
        return 0;
}

static int make_result(struct captured_result *cap, int code, struct nono_exec_result **ret)
{
        struct nono_exec_result *res = calloc(1, sizeof(*res));
        int r;

        if (!res)
                return -ENOMEM;
        res->size = sizeof(*res);
        res->exit_code = code == NONO_EXIT_EXEC ? NONO_EXIT_EXEC : cap->exit_code;
        res->timed_out = cap->timed_out;
        res->stdout_truncated = cap->out[0].truncated;
        res->stderr_truncated = cap->out[1].truncated;
        r = code == NONO_EXIT_EXEC ? append_exec_failure(&cap->out[1], &cap->child_error) : 0;
        if (r >= 0)
                r = take_stream(&cap->out[0], &res->stdout_data, &res->stdout_len);
        if (r >= 0)
                r = take_stream(&cap->out[1], &res->stderr_data, &res->stderr_len);
        if (r < 0) {
                nono_exec_result_free(res);
                return r;
        }
        *ret = res;
        return 0;
}

static int run_captured(const nono_caps *caps, const struct nono_exec_options *o,
                        struct nono_exec_result **ret)
{
        struct captured_result cap;
        struct session *s = NULL;
        enum run_stage stage = RUN_STAGE_EXEC;
        char *workdir = NULL;
        int r = resolve_dir(o->cwd, &workdir);

        memset(&cap, 0, sizeof(cap));
        if (r < 0)
                return sdk_failed(r, NONO_ERROR_INVALID);
        r = open_session(caps, workdir, 1, &s);
        if (r >= 0) {
                r = run_session_exec(s, (char *const *)o->argv,
                                     o->envp ? (char *const *)o->envp : environ, (int)o->timeout_ms,
                                     o->max_output, &cap, &stage);
                r = sdk_failed(r, sdk_kind_of_stage(stage));
        }
        if (r == NONO_EXIT_SETUP)
                r = sdk_failed(nono_error(-(cap.child_error.err ? cap.child_error.err : EPERM),
                                          "sandbox setup failed: %s%s%s", cap.child_error.message,
                                          cap.child_error.err ? ": " : "",
                                          cap.child_error.err ? strerror(cap.child_error.err) : ""),
                               NONO_ERROR_SANDBOX);
        if (r >= 0)
                r = sdk_failed(make_result(&cap, r, ret), NONO_ERROR_SYSTEM);
        captured_result_free(&cap);
        run_session_free(s);
        free(workdir);
        return r;
}

int nono_sandboxed_exec(const nono_caps *caps, const struct nono_exec_options *options,
                        struct nono_exec_result **ret)
{
        struct nono_exec_options o;
        int r;

        sdk_begin();
        if (ret)
                *ret = NULL;
        if (!caps || !ret)
                return sdk_failed(nono_error(-EINVAL, "caps and ret must not be NULL"),
                                  NONO_ERROR_INVALID);
        r = copy_options(options, &o);
        if (r < 0)
                return sdk_failed(r, NONO_ERROR_INVALID);
        return run_captured(caps, &o, ret);
}

void nono_exec_result_free(struct nono_exec_result *result)
{
        if (!result)
                return;
        free(result->stdout_data);
        free(result->stderr_data);
        free(result);
}

/* ---- queries ------------------------------------------------------------------------------ */

static int check_verdict(const nono_caps *caps, struct nono_verdict *ret)
{
        if (!caps || !ret)
                return nono_error(-EINVAL, "caps and ret must not be NULL");
        if (ret->size < sizeof(*ret))
                return nono_error(-EINVAL,
                                  "verdict->size is %u: set it to "
                                  "sizeof(struct nono_verdict)",
                                  ret->size);
        return 0;
}

static int resolve_query_path(const char *path, const char *cwd, char **ret)
{
        char *abs;
        int r;

        if (!path || !*path)
                return nono_error(-EINVAL, "path must be a non-empty string");
        abs = path[0] == '/' ? nono_strdup(path) : nono_path_join(cwd, path);
        if (!abs)
                return -ENOMEM;
        r = paths_resolve_lenient(abs, ret);
        free(abs);
        return r;
}

int nono_query_path(const nono_caps *caps, const char *path, uint32_t access,
                    struct nono_verdict *ret)
{
        char *cwd = NULL, *resolved = NULL;
        struct plan plan;
        int r;

        sdk_begin();
        r = check_verdict(caps, ret);
        if (r >= 0 && (access == 0 || (access & ~(uint32_t)NONO_ACCESS_READWRITE)))
                r = nono_error(-EINVAL,
                               "access must be NONO_ACCESS_READ, NONO_ACCESS_WRITE or "
                               "both (got %#x)",
                               access);
        if (r >= 0)
                r = current_dir(&cwd);
        if (r >= 0)
                r = resolve_query_path(path, cwd, &resolved);
        if (r < 0) {
                free(cwd);
                return sdk_failed(r, NONO_ERROR_INVALID);
        }
        r = caps_build_plan(caps, cwd, &plan);
        if (r >= 0) {
                caps_judge_path(&plan, resolved, access, ret);
                plan_free(&plan);
        }
        free(cwd);
        free(resolved);
        return sdk_failed(r, NONO_ERROR_INVALID);
}

int nono_query_host(const nono_caps *caps, const char *host, uint16_t port,
                    struct nono_verdict *ret)
{
        struct plan plan;
        char *cwd = NULL;
        int r;

        sdk_begin();
        r = check_verdict(caps, ret);
        if (r >= 0 && (!host || !*host))
                r = nono_error(-EINVAL, "host must be a non-empty string");
        if (r >= 0)
                r = current_dir(&cwd);
        if (r >= 0)
                r = caps_build_plan(caps, cwd, &plan);
        if (r >= 0) {
                caps_judge_host(&plan, host, port, ret);
                plan_free(&plan);
        }
        free(cwd);
        return sdk_failed(r, NONO_ERROR_INVALID);
}
