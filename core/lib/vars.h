/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Variable expansion in profile paths: a leading "~" or "~/", and $HOME, $WORKDIR,
 * $TMPDIR, $UID, $XDG_CONFIG_HOME, $XDG_CACHE_HOME, $XDG_DATA_HOME, $XDG_STATE_HOME,
 * $XDG_RUNTIME_DIR, written $NAME or ${NAME}.  An unknown variable is an error, so a
 * typo cannot silently become a different path.
 */
#ifndef NONO_CORE_VARS_H
#define NONO_CORE_VARS_H

struct vars {
        const char *home;
        const char *workdir;
        const char *tmpdir;
        /* Derived from the environment with XDG defaults; owned by the struct. */
        char *uid;
        char *xdg_config_home, *xdg_cache_home, *xdg_data_home, *xdg_state_home;
        char *xdg_runtime_dir; /* may be NULL: using it then is an error */
        char *home_owned;      /* backs `home` when it came from the passwd entry */
};

/* Fills from the environment (HOME, TMPDIR, XDG_*) and getuid(). */
int vars_init(struct vars *v, const char *workdir);
void vars_free(struct vars *v);

/* Expands `in`; *ret is malloc'ed.  -EINVAL with a message for unknown variables. */
int vars_expand(const struct vars *v, const char *in, char **ret);

#endif
