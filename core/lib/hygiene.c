/* SPDX-License-Identifier: Apache-2.0 */
#include "hygiene.h"

#include <errno.h>
#include <linux/capability.h>
#include <linux/keyctl.h>
#include <linux/securebits.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Far above any capability the kernel defines; the loop stops at the first EINVAL. */
#define CAP_PROBE_MAX 128

static int fail(struct child_error *err, const char *what)
{
        size_t n = 0;

        err->err = errno;
        for (; what[n] && n + 1 < sizeof(err->message); n++)
                err->message[n] = what[n];
        err->message[n] = '\0';
        return -err->err;
}

static int fresh_session_keyring(struct child_error *err)
{
        if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0 && errno != ENOSYS)
                return fail(err, "cannot join a fresh session keyring");
        return 0;
}

/*
 * Root keeps uid 0 but must gain nothing from it: lock the securebits that would
 * hand capabilities back on execve.  Needs CAP_SETPCAP, so unprivileged callers
 * (which have nothing to lose) skip it.
 */
static void lock_root_securebits(void)
{
        prctl(PR_SET_SECUREBITS,
              SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
                  SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
                  SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED,
              0, 0, 0);
}

/*
 * Empties the bounding set, so that no later execve hands capabilities back.  EPERM
 * means no CAP_SETPCAP: harmless for an unprivileged caller (it has nothing to regain),
 * but root without it would regain its bounding set on execve, so that fails closed.
 */
static int drop_bounding_set(struct child_error *err)
{
        for (int cap = 0; cap < CAP_PROBE_MAX; cap++) {
                int present = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);

                if (present < 0)
                        return 0; /* past the last capability the kernel knows */
                /* Already gone (a nested nono, a container): nothing to drop. */
                if (present == 0 || prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == 0)
                        continue;
                if (errno == EPERM && getuid() != 0 && geteuid() != 0)
                        return 0;
                return fail(err, "cannot drop the capability bounding set");
        }
        return 0;
}

static int drop_capability_sets(struct child_error *err)
{
        struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
        struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {{0, 0, 0}, {0, 0, 0}};

        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return fail(err, "cannot clear ambient capabilities");
        if (syscall(SYS_capset, &header, data) < 0)
                return fail(err, "cannot drop capabilities");
        return 0;
}

int hygiene_apply(struct child_error *err)
{
        int r;

        /* Whatever the enforcer did: no execve may ever gain privileges (setuid,
         * file capabilities).  Enforcers set it too; this keeps it true for any. */
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return fail(err, "cannot set no_new_privs");
        r = fresh_session_keyring(err);

        if (r < 0)
                return r;
        lock_root_securebits();
        r = drop_bounding_set(err);
        if (r < 0)
                return r;
        return drop_capability_sets(err);
}
