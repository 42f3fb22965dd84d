/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Host configuration (libconfig): /etc/nono/nono.conf, then ~/.config/nono/nono.conf.
 * NONO_CONFIG, when set, names the only file read (tests).  Settings:
 *
 *   plugin_dir = "/usr/lib/nono/plugins";
 *   enforcer = "landlock";                 # default --backend
 *   credential_sources = ["env", "libsecret"];
 *   policy_modules = ["org"];              # from the system file: cannot be removed
 *   store = { backend = "lmdb"; path = "..."; keep = 10; };
 *   plugins = { landlock = { ... }; };     # one section per plugin
 *   audit = { enabled = true; syslog = false;      # the session log (audit.h)
 *             keep_sessions = 1000; max_age_days = 90; };  # pruned as sessions start
 */
#ifndef NONO_CORE_CONFIG_H
#define NONO_CORE_CONFIG_H

#include <libconfig.h>

#include "strv.h"

/* Without nono.conf settings: a thousand sessions, none older than about three months. */
#define AUDIT_DEFAULT_KEEP_SESSIONS 1000
#define AUDIT_DEFAULT_MAX_AGE_DAYS  90

struct host_config {
        config_t system; /* /etc/nono/nono.conf (or NONO_CONFIG) */
        config_t user;   /* ~/.config/nono/nono.conf */
        int have_system, have_user;

        char *plugin_dir; /* NULL: the layout's */
        char *enforcer;   /* NULL: "landlock" */
        struct strv credential_sources;
        struct strv policy_modules;  /* system modules first; the user may only add */
        int audit_disabled;          /* audit.enabled = false: no session log */
        int audit_syslog;            /* audit.syslog = true: mirror events to syslog */
        int audit_enabled_by_system; /* the system file said enabled = true: binding */
        /* Audit sessions kept (audit_retain); 0: no limit.  Set by the system file,
         * a limit binds the user's to keep at least as much. */
        long audit_keep_sessions, audit_max_age_days;
        int audit_keep_by_system, audit_age_by_system;
        /* store = { ... }: the snapshot store (the user file's settings win). */
        char *store_backend;  /* NULL: "lmdb" */
        char *store_path;     /* absolute; NULL: $XDG_STATE_HOME/nono/store */
        long long store_keep; /* sessions `rollback cleanup` keeps; -1: unset */
};

/*
 * Reads the files that exist; a syntax error names the file and line.  Unknown
 * top-level settings are warnings.  On failure *c is left freed (zeroed).
 */
int host_config_load(struct host_config *c);
/*
 * The same with explicit paths (user_path may be NULL): host_config_load uses it, and
 * tests use it to check how a user file combines with a system file.  A user file's
 * plugin_dir is ignored (with a warning) when the system file names policy modules:
 * otherwise the user could replace a mandatory module with a module of their own.
 */
int host_config_load_files(struct host_config *c, const char *system_path, const char *user_path);
/* Safe on a zeroed struct. */
void host_config_free(struct host_config *c);

/*
 * The section plugins.<name> (user file first, then system), or NULL.  The setting
 * lives as long as the config.
 */
const config_setting_t *host_config_plugin_section(const struct host_config *c, const char *name);

#endif
