/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where nono's files are: the plugin directory, the built-in profiles, the snapshot
 * engine and the Unix-socket helper and mediator.  When libnono runs from its build tree these are
 * the build tree's (so build/nono works in place, without installing); otherwise the
 * installed paths chosen at configure time.
 * nono.conf's plugin_dir overrides the plugin directory.
 */
#ifndef NONO_CORE_LAYOUT_H
#define NONO_CORE_LAYOUT_H

struct layout {
        const char *plugin_dir;
        const char *profile_dir;
        const char *snapshot_lib;  /* libnono-snapshot.so.0, loaded by snapshot.c */
        const char *unix_helper;   /* nono-unix-helper, started by unixmed.c */
        const char *unix_mediator; /* nono-unixmed, started by unixmed.c for nono wrap */
        int in_build_tree;
};

/* Computed once per process; never NULL. */
const struct layout *layout_get(void);

#endif
