/* SPDX-License-Identifier: Apache-2.0 */
#include "machine.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit.h"
#include "config.h"
#include "error.h"
#include "kaudit.h"
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

/* Fills *ret_caps with the enforcer's NONO_ENFORCER_CAP_* (0 when it is not usable). */
static int report_enforcer(FILE *out, struct plugin_registry *reg, const char *backend,
                           uint32_t *ret_caps)
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
        *ret_caps = info.capabilities;
        line(out, info.capabilities & NONO_ENFORCER_CAP_MASK_PROTECTED ? "ok" : "no",
             "masking protected paths",
             info.capabilities & NONO_ENFORCER_CAP_MASK_PROTECTED
                 ? "a grant containing ~/.ssh etc. hides them (mount namespace)"
                 : "a grant containing a protected path is refused instead");
        return 0;
}

/* ok-or-no with the text for each case. */
static void check(FILE *out, int ok, const char *what, const char *if_ok, const char *if_not)
{
        line(out, ok ? "ok" : "no", what, ok ? if_ok : if_not);
}

/*
 * The Secret Service (gnome-keyring, KWallet) lives on the D-Bus session bus: without a
 * reachable bus, libsecret:// credentials cannot be looked up.  Whether a keyring answers
 * on it is only known when a credential is asked for.
 */
static int session_bus_reachable(void)
{
        const char *addr = getenv("DBUS_SESSION_BUS_ADDRESS");
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        const char *path;
        size_t len;
        int fd, ok;

        if (!addr || strncmp(addr, "unix:path=", 10) != 0)
                return addr && strncmp(addr, "unix:", 5) == 0; /* abstract: assume so */
        path = addr + 10;
        len = strcspn(path, ",");
        if (len >= sizeof(sa.sun_path))
                return 0;
        memcpy(sa.sun_path, path, len);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
        if (fd >= 0)
                close(fd);
        return ok;
}

/*
 * Landlock's own denials in the footer: the enforcer has them audited, and nono reads
 * the records (kernel audit on, root), exactly as nono run would try.
 */
static void report_denial_records(FILE *out, uint32_t enforcer_caps)
{
        static const char without[] = "the footer after a failed run lists only Unix-socket "
                                      "refusals and points at nono why";
        char detail[512];
        int readable = 0;

        if (!(enforcer_caps & NONO_ENFORCER_CAP_AUDIT_RECORDS))
                snprintf(detail, sizeof(detail), "the enforcer cannot have them written here: %s",
                         without);
        else if (kaudit_check() < 0)
                snprintf(detail, sizeof(detail), "%s: %s", nono_errmsg(), without);
        else
                readable = snprintf(detail, sizeof(detail),
                                    "readable: the footer after a failed run lists each file "
                                    "and TCP denial with its flag");
        line(out, readable ? "ok" : "no", "Landlock audit records", detail);
}

static void report_audit(FILE *out, const struct host_config *config)
{
        char *root = NULL;
        char detail[512];
        int kernel = kaudit_enabled();

        if (config->audit_disabled) {
                line(out, "off", "audit log", "audit.enabled = false in nono.conf");
        } else if (audit_root(&root) >= 0) {
                snprintf(detail, sizeof(detail), "one directory per run in %s%s", root,
                         config->audit_syslog ? ", mirrored to syslog" : "");
                line(out, "ok", "audit log", detail);
        }
        free(root);
        line(out,
             kernel > 0    ? "ok"
             : kernel == 0 ? "no"
                           : "?",
             "kernel audit",
             kernel > 0    ? "on: Landlock writes a record of each denial"
             : kernel == 0 ? "off: Landlock's denials are not recorded (nono never turns audit "
                             "on)"
                           : "unknown (needs privilege to ask)");
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
        uint32_t caps = 0;
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
                                                      : "landlock",
                                    &caps);
        line(out, seccomp_available() ? "ok" : "FAIL", "seccomp",
             seccomp_available() ? "io_uring, user namespaces, TIOCSTI, TCP Fast Open... denied"
                                 : "missing: nono run refuses to start (--best-effort warns)");
        check(out, can_unshare(CLONE_NEWUSER | CLONE_NEWNS), "user namespaces",
              "masking works without root",
              "without root, a grant containing a protected path is refused (no masking)");
        check(out, can_unshare(CLONE_NEWNET) || can_unshare(CLONE_NEWUSER | CLONE_NEWNET),
              "network namespaces", "exact network modes (loopback-only child)",
              "network modes fall back to Landlock TCP port rules and the seccomp socket filter");
        check(out, session_bus_reachable(), "Secret Service",
              "D-Bus session bus reachable: libsecret:// credentials can be looked up",
              "no D-Bus session bus: use env:// (or another source) for credentials");
        report_audit(out, &config);
        report_denial_records(out, caps);
        r = plugin_load_all(&reg, on_refused, out);
        if (r < 0)
                line(out, "FAIL", "plugin directory", nono_errmsg());
        else
                check(out, r == 0, "plugin directory", "every plugin loads",
                      "some plugins were refused (see above): runs that need them fail");
        failures += r < 0;
        plugin_registry_free(&reg);
        host_config_free(&config);
        return failures;
}
