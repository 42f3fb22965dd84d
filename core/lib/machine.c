/* SPDX-License-Identifier: Apache-2.0 */
#include "machine.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/netlink.h>
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

/* Kernel audit: Landlock reports its denials only there (AUDIT_GET needs privilege). */
static int kernel_audit_enabled(void)
{
        struct {
                struct nlmsghdr h;
                struct audit_status s;
        } req = {{NLMSG_LENGTH(0), AUDIT_GET, NLM_F_REQUEST, 1, 0}, {0}}, reply;
        struct sockaddr_nl nl = {.nl_family = AF_NETLINK};
        int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
        int enabled = -1;

        if (fd < 0)
                return -1;
        if (sendto(fd, &req, req.h.nlmsg_len, 0, (struct sockaddr *)&nl, sizeof(nl)) > 0 &&
            recv(fd, &reply, sizeof(reply), MSG_DONTWAIT) >= (ssize_t)sizeof(reply.h) &&
            reply.h.nlmsg_type == AUDIT_GET)
                enabled = reply.s.enabled != 0;
        close(fd);
        return enabled;
}

static void report_audit(FILE *out, const struct host_config *config)
{
        char *root = NULL;
        char detail[512];
        int kernel = kernel_audit_enabled();

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
             kernel > 0    ? "Landlock can report each denial (needs CAP_AUDIT_READ to read)"
             : kernel == 0 ? "off: denial reports name refused Unix sockets only; nono why "
                             "answers for paths and hosts"
                           : "unknown (needs privilege to ask): denial reports may name "
                             "refused Unix sockets only");
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
