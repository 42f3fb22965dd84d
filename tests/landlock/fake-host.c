/* SPDX-License-Identifier: Apache-2.0 */
/* The fake host of the landlock enforcer's tests: see fake-host.h. */

#include "fake-host.h"

#include <CUnit/CUnit.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- the host ---------------------------------------------------------------------------- */

struct fake_host fake;

static void fake_log(void *ctx, int level, const char *fmt, ...) NONO_PRINTF(3, 4);
static void fake_log(void *ctx, int level, const char *fmt, ...)
{
        size_t len = strlen(fake.warnings);
        va_list ap;

        /* Room for at least one character and the newline, or the warning is dropped. */
        if (level != NONO_LOG_WARNING || len + 2 >= sizeof(fake.warnings))
                return;
        va_start(ap, fmt);
        vsnprintf(fake.warnings + len, sizeof(fake.warnings) - len - 1, fmt, ap);
        va_end(ap);
        strcat(fake.warnings, "\n");
}

static void fake_set_error(void *ctx, const char *fmt, ...) NONO_PRINTF(2, 3);
static void fake_set_error(void *ctx, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(fake.error, sizeof(fake.error), fmt, ap);
        va_end(ap);
}

static void *fake_alloc(void *ctx, size_t size)
{
        return malloc(size);
}

static void fake_free(void *ctx, void *ptr)
{
        free(ptr);
}

/* ---- knobs ---------------------------------------------------------------------------------- */

#define MAX_KNOBS 8

static struct knob {
        char key[32];
        long long value;
        CU_pTest test; /* the test that set it; NULL: the suite */
} knobs[MAX_KNOBS];
static size_t n_knobs;

/* Drops the knobs of tests that have ended, and with `all`, the running test's too. */
static void forget_knobs(bool all)
{
        CU_pTest now = CU_get_current_test();
        size_t kept = 0;

        for (size_t i = 0; i < n_knobs; i++)
                if (!knobs[i].test || (knobs[i].test == now && !all))
                        knobs[kept++] = knobs[i];
        n_knobs = kept;
}

/* The knob `key` as the running test sees it: its own, else the suite's; or NULL. */
static struct knob *find_knob(const char *key)
{
        CU_pTest now = CU_get_current_test();
        struct knob *suite = NULL;

        forget_knobs(false);
        for (size_t i = 0; i < n_knobs; i++) {
                if (strcmp(knobs[i].key, key) != 0)
                        continue;
                if (knobs[i].test == now)
                        return &knobs[i];
                if (!knobs[i].test)
                        suite = &knobs[i];
        }
        return suite;
}

void fake_host_set_int(const char *key, long long value)
{
        CU_pTest now = CU_get_current_test();
        struct knob *k = find_knob(key);

        if (!k || k->test != now) {
                /* A test program with more knobs, or longer keys, is wrong: stop. */
                if (n_knobs == MAX_KNOBS || strlen(key) >= sizeof(k->key))
                        abort();
                k = &knobs[n_knobs++];
                strcpy(k->key, key);
                k->test = now;
        }
        k->value = value;
}

void fake_host_reset(void)
{
        forget_knobs(true);
}

static int fake_config_int(void *ctx, const char *key, long long *ret_value)
{
        const struct knob *k = find_knob(key);

        if (!k)
                return -ENOENT;
        *ret_value = k->value;
        return 0;
}

static const struct nono_host host = {
    .size = sizeof(struct nono_host),
    .abi_major = NONO_PLUGIN_ABI_MAJOR,
    .abi_minor = NONO_PLUGIN_ABI_MINOR,
    .log = fake_log,
    .set_error = fake_set_error,
    .alloc = fake_alloc,
    .free = fake_free,
    .config_int = fake_config_int,
};

/* ---- plans --------------------------------------------------------------------------------- */

/* The n-th item of a kind: past PLAN_MAX the test is wrong, so stop there. */
static void room_for(size_t n)
{
        if (n >= PLAN_MAX)
                abort();
}

void plan_init(struct test_plan *tp, uint32_t network_mode, const char *workdir)
{
        memset(tp, 0, sizeof(*tp));
        tp->plan.size = sizeof(tp->plan);
        tp->plan.grants = tp->grant_ptrs;
        tp->plan.denies = tp->deny_ptrs;
        tp->plan.network_mode = network_mode;
        tp->plan.tcp_connect_ports = tp->connect;
        tp->plan.workdir = workdir;
        tp->plan.readonly_paths = tp->readonly;
}

void plan_grant(struct test_plan *tp, const char *path, uint32_t access, uint32_t flags)
{
        size_t n = tp->plan.n_grants++;

        room_for(n);
        tp->grants[n] = (struct nono_grant){sizeof(tp->grants[n]), access, flags, path, "test"};
        tp->grant_ptrs[n] = &tp->grants[n];
}

void plan_deny(struct test_plan *tp, const char *path)
{
        size_t n = tp->plan.n_denies++;

        room_for(n);
        tp->denies[n] = (struct nono_deny){sizeof(tp->denies[n]), path, "test deny"};
        tp->deny_ptrs[n] = &tp->denies[n];
}

void plan_readonly(struct test_plan *tp, const char *path)
{
        size_t n = tp->plan.n_readonly_paths++;

        room_for(n);
        tp->readonly[n] = path;
}

void plan_connect(struct test_plan *tp, uint16_t port)
{
        size_t n = tp->plan.n_tcp_connect_ports++;

        room_for(n);
        tp->connect[n] = port;
}

/* ---- the plugin under test ------------------------------------------------------------------- */

int plugin_open(struct plugin *p)
{
        const struct nono_plugin_desc *d = nono_plugin_query_landlock();

        fake.error[0] = fake.warnings[0] = '\0';
        *p = (struct plugin){.ops = d->ops};
        return d->init(&host, &p->state);
}

int plugin_prepare(struct plugin *p, const struct nono_plan *plan)
{
        int r = p->ops->prepare(p->state, plan, &p->prepared);

        if (r < 0) {
                fprintf(stderr, "prepare failed: %s\n", fake.error);
                p->prepared = NULL;
        }
        p->workdir = plan->workdir;
        return r;
}

void plugin_close(struct plugin *p)
{
        if (p->prepared)
                p->ops->release(p->state, p->prepared);
        p->prepared = NULL;
        nono_plugin_query_landlock()->fini(p->state);
}

int prepare_only(const struct nono_plan *plan)
{
        struct plugin p;
        void *prepared = NULL;
        int r = plugin_open(&p);

        if (r < 0)
                return r;
        r = p.ops->prepare(p.state, plan, &prepared);
        p.ops->release(p.state, r < 0 ? NULL : prepared);
        plugin_close(&p);
        return r;
}

/* ---- children ------------------------------------------------------------------------------- */

pid_t fork_child(child_fn fn, void *arg)
{
        pid_t pid;

        fflush(NULL);
        pid = fork();
        if (pid == 0)
                _exit(fn(arg));
        return pid;
}

struct applied {
        const struct plugin *p;
        child_fn fn;
        void *arg;
};

static int apply_then_run(void *arg)
{
        const struct applied *a = arg;

        if (a->p->workdir && chdir(a->p->workdir) < 0)
                return RUN_SETUP_FAILED;
        if (a->p->ops->apply(a->p->state, a->p->prepared) < 0) {
                fprintf(stderr, "apply failed: %s\n", fake.error);
                return RUN_APPLY_FAILED;
        }
        return a->fn(a->arg);
}

pid_t fork_applied(const struct plugin *p, child_fn fn, void *arg)
{
        struct applied a = {p, fn, arg};

        return fork_child(apply_then_run, &a);
}

int wait_status(pid_t pid)
{
        int status;

        if (pid < 0 || waitpid(pid, &status, 0) != pid)
                return -1;
        return status;
}

int exit_code(int status)
{
        if (status >= 0 && WIFEXITED(status))
                return WEXITSTATUS(status);
        if (status >= 0 && WIFSIGNALED(status))
                fprintf(stderr, "child killed by signal %d\n", WTERMSIG(status));
        return RUN_CHILD_DIED;
}

int wait_exit(pid_t pid)
{
        return exit_code(wait_status(pid));
}

int run_plain_status(child_fn fn, void *arg)
{
        return wait_status(fork_child(fn, arg));
}

int run_plain(child_fn fn, void *arg)
{
        return exit_code(run_plain_status(fn, arg));
}

/* Prepares `plan` and runs `fn` applied: 0 with the wait status, or RUN_PREPARE_FAILED. */
static int sandboxed(const struct nono_plan *plan, child_fn fn, void *arg, int *ret_status)
{
        struct plugin p;
        pid_t pid;

        if (plugin_open(&p) < 0)
                return RUN_PREPARE_FAILED;
        if (plugin_prepare(&p, plan) < 0) {
                plugin_close(&p);
                return RUN_PREPARE_FAILED;
        }
        pid = fork_applied(&p, fn, arg);
        plugin_close(&p);
        *ret_status = wait_status(pid);
        return 0;
}

int run_sandboxed_status(const struct nono_plan *plan, child_fn fn, void *arg)
{
        int status;

        return sandboxed(plan, fn, arg, &status) == 0 ? status : -1;
}

int run_sandboxed(const struct nono_plan *plan, child_fn fn, void *arg)
{
        int status, r = sandboxed(plan, fn, arg, &status);

        return r ? r : exit_code(status);
}
