/* SPDX-License-Identifier: Apache-2.0 */
/*
 * User namespaces that map the caller to itself, shared by the plugins that need one to
 * make other namespaces without privilege (the landlock enforcer's mount namespace, the
 * network plugins' network namespace).  The maps are formatted in the parent; writing
 * them happens in the child and is async-signal-safe.
 */
#ifndef NONO_PLUGINS_USERNS_H
#define NONO_PLUGINS_USERNS_H

struct userns_maps {
        char uid_map[48];
        char gid_map[48];
};

/* Parent: "euid euid 1" and "egid egid 1". */
void userns_maps_for_self(struct userns_maps *m);

/* Writes `text` to the /proc file `path`; 0 or a negative errno.  Async-signal-safe. */
int userns_write_proc(const char *path, const char *text);

/*
 * Child, right after unshare(CLONE_NEWUSER): denies setgroups and writes the maps.
 * Returns 0, or a negative errno with *ret_path naming the file that failed.
 * Async-signal-safe.
 */
int userns_write_maps(const struct userns_maps *m, const char **ret_path);

#endif
