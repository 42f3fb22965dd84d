/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A fake host for testing the landlock enforcer alone, shared by the functional tests
 * that link the plugin in statically (-DNONO_PLUGIN_BUILTIN):
 *
 *   - the host: it keeps the plugin's last error and its warnings in `fake`, and
 *     answers config_int from knobs the tests set (fake_host_set_int);
 *   - plans, built in place the way the host hands them over;
 *   - the plugin under test, opened on that host;
 *   - children: each check runs in a forked child, unconfined (the control) or after
 *     applying a prepared plan, and reports through its exit status (CHECK).
 */
#ifndef NONO_TEST_LANDLOCK_FAKE_HOST_H
#define NONO_TEST_LANDLOCK_FAKE_HOST_H

#include <nono/enforcer.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* ---- the host ---------------------------------------------------------------------------- */

/* What the plugin said since the last plugin_open. */
struct fake_host {
        char error[2048];    /* its last set_error */
        char warnings[4096]; /* its NONO_LOG_WARNING lines, each ending in '\n' */
};

extern struct fake_host fake;

/*
 * The knobs config_int answers: `key` set to `value`, or left out (-ENOENT, as for a
 * key absent from nono.conf).  A knob set while a test runs holds until that test ends;
 * one set outside any test (in the suite's init) holds for every test of the suite.
 */
void fake_host_set_int(const char *key, long long value);
/* Forgets the knobs the running test set: back to the suite's. */
void fake_host_reset(void);

/* ---- plans --------------------------------------------------------------------------------- */

#define PLAN_MAX 8 /* grants, denies, read-only paths, ports */

struct test_plan {
        struct nono_plan plan;
        struct nono_grant grants[PLAN_MAX];
        const struct nono_grant *grant_ptrs[PLAN_MAX];
        struct nono_deny denies[PLAN_MAX];
        const struct nono_deny *deny_ptrs[PLAN_MAX];
        const char *readonly[PLAN_MAX];
        uint16_t connect[PLAN_MAX];
};

/* An empty plan: no grants, nothing protected, no ports. */
void plan_init(struct test_plan *tp, uint32_t network_mode, const char *workdir);
/* Origin "test". */
void plan_grant(struct test_plan *tp, const char *path, uint32_t access, uint32_t flags);
/* Origin "test deny". */
void plan_deny(struct test_plan *tp, const char *path);
void plan_readonly(struct test_plan *tp, const char *path);
void plan_connect(struct test_plan *tp, uint16_t port);

/* ---- the plugin under test ------------------------------------------------------------------- */

const struct nono_plugin_desc *nono_plugin_query_landlock(void);

struct plugin {
        const struct nono_enforcer_ops *ops;
        void *state;
        void *prepared;      /* by plugin_prepare, released by plugin_close */
        const char *workdir; /* the prepared plan's */
};

/* Opens the plugin on the fake host with the knobs set now; empties `fake` first. */
int plugin_open(struct plugin *p);
/* Prepares `plan` into p->prepared; says why on stderr when it cannot. */
int plugin_prepare(struct plugin *p, const struct nono_plan *plan);
/* Releases what plugin_prepare made, then the plugin. */
void plugin_close(struct plugin *p);

/* Opens the plugin and prepares `plan`: prepare's result, its message in fake.error. */
int prepare_only(const struct nono_plan *plan);

/* ---- children ------------------------------------------------------------------------------- */

typedef int (*child_fn)(void *arg);

/* What a child that did not get to its own checks reports (they use small codes). */
#define RUN_PREPARE_FAILED 201 /* the plan was refused, or the plugin did not open */
#define RUN_APPLY_FAILED   202
#define RUN_CHILD_DIED     203 /* killed by a signal, or it could not be forked or waited for */
#define RUN_SETUP_FAILED   204 /* the test's own preparation failed */

/* Inside a child: report and return `code` unless `cond` holds. */
#define CHECK(code, cond, ...)                                                                     \
        do {                                                                                       \
                if (!(cond)) {                                                                     \
                        fprintf(stderr, "child check %d failed (errno %d): ", code, errno);        \
                        fprintf(stderr, __VA_ARGS__);                                              \
                        fputc('\n', stderr);                                                       \
                        return code;                                                               \
                }                                                                                  \
        } while (0)

/* Forks a child that exits with fn(arg); its pid, or -1. */
pid_t fork_child(child_fn fn, void *arg);
/*
 * Forks a child that enters the plan's working directory, as nono's supervisor does,
 * applies p->prepared, then exits with fn(arg); its pid, or -1.
 */
pid_t fork_applied(const struct plugin *p, child_fn fn, void *arg);

/* The child's wait status, or -1. */
int wait_status(pid_t pid);
/* The exit code in a wait status, else RUN_CHILD_DIED (also for -1), saying why. */
int exit_code(int status);
/* exit_code(wait_status(pid)). */
int wait_exit(pid_t pid);

/* Runs `fn` in an unconfined child, the control: its wait status or exit code. */
int run_plain_status(child_fn fn, void *arg);
int run_plain(child_fn fn, void *arg);

/*
 * Opens the plugin, prepares `plan` and runs `fn` in a child that applies it
 * (fork_applied): the child's wait status (-1 when preparing failed) or exit code.
 */
int run_sandboxed_status(const struct nono_plan *plan, child_fn fn, void *arg);
int run_sandboxed(const struct nono_plan *plan, child_fn fn, void *arg);

#endif
