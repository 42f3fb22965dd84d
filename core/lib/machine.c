/* SPDX-License-Identifier: Apache-2.0 */
#include "machine.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "error.h"
#include "loader.h"

static void line(FILE *out, const char *state, const char *what, const char *detail)
{
        fprintf(out, "  %-5s %-24s %s\n", state, what, detail);
}

/* Whether a child may create the given namespaces; tried in a throw-away child. */
static int can_unshare(int flags)
{
        int status = 0;
        pid_t pid = fork();

        if (pid < 0)
                return 0;
        if (pid == 0)
                _exit(unshare(flags) == 0 ? 0 : 1);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static int seccomp_available(void)
{
        /* EINVAL: the kernel knows no seccomp; EFAULT (NULL filter): it does. */
        return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, NULL) < 0 && errno == EFAULT;
}

static int report_enforcer(FILE *out, struct plugin_registry *reg, const char *backend)
{
        struct nono_enforcer_info info;
        struct plugin *pl;
        char detail[256];
        int r = plugin_load(reg, NONO_PLUGIN_ENFORCER, backend, &pl);

        if (r < 0) {
                line(out, "FAIL", "enforcer", nono_errmsg());
                return 1;
        }
        memset(&info, 0, sizeof(info));
        info.size = sizeof(info);
        r = pl->ops.enforcer.probe(pl->state, &info);
        if (r < 0) {
                snprintf(detail, sizeof(detail), "%s: %s (nono run refuses to start)", backend,
                         plugin_error(pl, r));
                line(out, "FAIL", "enforcer", detail);
                return 1;
        }
        snprintf(detail, sizeof(detail), "%s: %s", backend, info.summary);
        line(out, "ok", "enforcer", detail);
        line(out, info.capabilities & NONO_ENFORCER_CAP_MASK_PROTECTED ? "ok" : "no",
             "masking protected paths",
             info.capabilities & NONO_ENFORCER_CAP_MASK_PROTECTED
                 ? "a grant containing ~/.ssh etc. hides them (mount namespace)"
                 : "a grant containing a protected path is refused instead");
        return 0;
}

static void on_refused(const char *file, const char *msg, void *userdata)
{
        FILE *out = userdata;
        char detail[512];

        snprintf(detail, sizeof(detail), "%s refused: %s", file, msg);
        line(out, "warn", "plugin", detail);
}

int machine_report(FILE *out, const char *backend)
{
        struct host_config config;
        struct plugin_registry reg;
        int failures = 0;
        int r;

        memset(&config, 0, sizeof(config));
        r = host_config_load(&config);
        if (r < 0) {
                line(out, "FAIL", "configuration", nono_errmsg());
                return 1;
        }
        plugin_registry_init(&reg, NULL, &config);
        fprintf(out, "nono setup check (plugin directory %s)\n", reg.dir ? reg.dir : "?");
        failures += report_enforcer(out, &reg,
                                    backend           ? backend
                                    : config.enforcer ? config.enforcer
                                                      : "landlock");
        line(out, seccomp_available() ? "ok" : "FAIL", "seccomp",
             seccomp_available() ? "io_uring, user namespaces, TIOCSTI, TCP Fast Open... denied"
                                 : "missing: nono run refuses to start (--best-effort warns)");
        line(out, can_unshare(CLONE_NEWUSER | CLONE_NEWNS) ? "ok" : "no", "user namespaces",
             "needed for masking when nono does not run as root");
        line(out,
             can_unshare(CLONE_NEWNET) || can_unshare(CLONE_NEWUSER | CLONE_NEWNET) ? "ok" : "no",
             "network namespaces", "exact network modes (loopback-only child)");
        plugin_load_all(&reg, on_refused, out);
        plugin_registry_free(&reg);
        host_config_free(&config);
        return failures;
}
