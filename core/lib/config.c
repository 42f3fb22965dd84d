/* SPDX-License-Identifier: Apache-2.0 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "nono-build-config.h"

#define CONFIG_FILE "nono/nono.conf"

/* One file being applied on top of what earlier files set. */
struct source {
        const char *path;
        int is_user;
        /* Policy modules named by the system file: the user file may not drop them, nor
         * point plugin_dir elsewhere and so replace them with its own. */
        size_t n_system_policy;
};

/* "audit.keep_sessions": the name as the user would look it up, not just its last part. */
static void qualified_name(const config_setting_t *s, char *buf, size_t size)
{
        const config_setting_t *parent = config_setting_parent(s);
        const char *name = config_setting_name(s);

        buf[0] = '\0';
        if (parent && config_setting_name(parent))
                qualified_name(parent, buf, size);
        if (buf[0])
                strncat(buf, ".", size - strlen(buf) - 1);
        strncat(buf, name ? name : "?", size - strlen(buf) - 1);
}

static int setting_error(const struct source *src, const config_setting_t *s, const char *what)
{
        char name[128];

        qualified_name(s, name, sizeof(name));
        return nono_error(-EINVAL, "cannot read configuration %s: line %u: %s must be %s",
                          src->path, config_setting_source_line(s), name, what);
}

static int get_string(const struct source *src, const config_setting_t *s, char **ret)
{
        const char *v = config_setting_get_string(s);
        char *copy;

        if (!v)
                return setting_error(src, s, "a string");
        copy = nono_strdup(v);
        if (!copy)
                return -ENOMEM;
        free(*ret);
        *ret = copy;
        return 0;
}

/* Appends the strings of an array or list; `skip_known` leaves out ones already there. */
static int get_string_list(const struct source *src, const config_setting_t *s, struct strv *out,
                           int skip_known)
{
        int n = config_setting_length(s);

        if (!config_setting_is_array(s) && !config_setting_is_list(s))
                return setting_error(src, s, "a list of strings");
        for (int i = 0; i < n; i++) {
                const char *v = config_setting_get_string_elem(s, i);
                int r;

                if (!v)
                        return setting_error(src, s, "a list of strings");
                if (skip_known && strv_contains(out, v))
                        continue;
                r = strv_push(out, v);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int set_plugin_dir(struct host_config *c, const struct source *src,
                          const config_setting_t *s)
{
        const char *v = config_setting_get_string(s);

        if (!v || v[0] != '/')
                return setting_error(src, s, "an absolute path");
        if (src->is_user && src->n_system_policy > 0) {
                nono_warn("%s: line %u: plugin_dir ignored: the system configuration "
                          "requires policy modules, which load from the system's plugin "
                          "directory",
                          src->path, config_setting_source_line(s));
                return 0;
        }
        return get_string(src, s, &c->plugin_dir);
}

static int set_credential_sources(struct host_config *c, const struct source *src,
                                  const config_setting_t *s)
{
        struct strv v = STRV_INIT;
        int r = get_string_list(src, s, &v, 0);

        if (r < 0) {
                strv_free(&v);
                return r;
        }
        /* The user's order replaces the system's as a whole. */
        strv_free(&c->credential_sources);
        c->credential_sources = v;
        return 0;
}

static int set_policy_modules(struct host_config *c, const struct source *src,
                              const config_setting_t *s)
{
        /* Both files add; nothing ever removes a module, so the system's stay first. */
        return get_string_list(src, s, &c->policy_modules, 1);
}

static int check_group(const struct source *src, const config_setting_t *s)
{
        return config_setting_is_group(s) ? 0 : setting_error(src, s, "a group { ... }");
}

static int set_store_member(struct host_config *c, const struct source *src,
                            const config_setting_t *s)
{
        const char *name = config_setting_name(s);
        const char *v = config_setting_get_string(s);

        if (strcmp(name, "backend") == 0)
                return get_string(src, s, &c->store_backend);
        if (strcmp(name, "path") == 0)
                return v && v[0] == '/' ? get_string(src, s, &c->store_path)
                                        : setting_error(src, s, "an absolute path");
        if (strcmp(name, "keep") == 0) {
                if (config_setting_type(s) != CONFIG_TYPE_INT || config_setting_get_int(s) < 0)
                        return setting_error(src, s, "a number of sessions (>= 0)");
                c->store_keep = config_setting_get_int(s);
                return 0;
        }
        nono_warn("%s: line %u: unknown setting \"store.%s\" ignored", src->path,
                  config_setting_source_line(s), name);
        return 0;
}

static int set_store(struct host_config *c, const struct source *src, const config_setting_t *s)
{
        int n = config_setting_length(s);
        int r = check_group(src, s);

        for (int i = 0; i < n && r >= 0; i++)
                r = set_store_member(c, src, config_setting_get_elem(s, (unsigned)i));
        return r;
}

static int check_plugins(const struct source *src, const config_setting_t *s)
{
        int n = config_setting_length(s);
        int r = check_group(src, s);

        for (int i = 0; i < n && r >= 0; i++)
                r = check_group(src, config_setting_get_elem(s, (unsigned)i));
        return r;
}

static int get_bool(const struct source *src, const config_setting_t *group, const char *name,
                    int *ret)
{
        const config_setting_t *s = config_setting_get_member(group, name);

        if (!s)
                return 0;
        if (config_setting_type(s) != CONFIG_TYPE_BOOL)
                return setting_error(src, s, "true or false");
        *ret = config_setting_get_bool(s);
        return 1;
}

/* Retention limits: 0 is none, so it keeps more than any number. */
static int keeps_at_least(long limit, long other)
{
        return limit == 0 || (other != 0 && limit >= other);
}

/*
 * audit.keep_sessions / audit.max_age_days (0: no limit).  Like the switches below, the
 * system file's value binds the user: a user file may keep more, never less.
 */
static int set_retention(const struct source *src, const config_setting_t *group, const char *name,
                         long *limit, int *by_system)
{
        const config_setting_t *s = config_setting_get_member(group, name);
        long v;

        if (!s)
                return 0;
        if (config_setting_type(s) != CONFIG_TYPE_INT || config_setting_get_int(s) < 0)
                return setting_error(src, s, "a whole number >= 0 (0: no limit)");
        v = config_setting_get_int(s);
        if (src->is_user && *by_system && !keeps_at_least(v, *limit)) {
                nono_warn("%s: line %u: audit.%s ignored: the system configuration keeps "
                          "more (%ld; 0 is no limit)",
                          src->path, config_setting_source_line(s), name, *limit);
                return 0;
        }
        *limit = v;
        *by_system = !src->is_user;
        return 0;
}

/*
 * The system file's choices bind the user: a user file may switch the audit log and its
 * syslog mirror on, but not off when the system file switched them on.
 */
static int set_audit(struct host_config *c, const struct source *src, const config_setting_t *s)
{
        int enabled = 1, mirror = 0;
        int have_enabled, have_mirror;
        int r = check_group(src, s);

        if (r >= 0)
                r = set_retention(src, s, "keep_sessions", &c->audit_keep_sessions,
                                  &c->audit_keep_by_system);
        if (r >= 0)
                r = set_retention(src, s, "max_age_days", &c->audit_max_age_days,
                                  &c->audit_age_by_system);
        if (r < 0)
                return r;
        have_enabled = get_bool(src, s, "enabled", &enabled);
        have_mirror = have_enabled < 0 ? have_enabled : get_bool(src, s, "syslog", &mirror);
        if (have_mirror < 0)
                return have_mirror;
        if (have_mirror)
                c->audit_syslog = mirror || (src->is_user && c->audit_syslog);
        if (!have_enabled)
                return 0;
        if (src->is_user && !enabled && c->audit_enabled_by_system) {
                nono_warn("%s: line %u: audit.enabled ignored: the system configuration "
                          "enables the audit log",
                          src->path, config_setting_source_line(s));
                return 0;
        }
        c->audit_disabled = !enabled;
        c->audit_enabled_by_system = !src->is_user && enabled;
        return 0;
}

static int apply_setting(struct host_config *c, const struct source *src, const config_setting_t *s)
{
        const char *name = config_setting_name(s);

        if (strcmp(name, "plugin_dir") == 0)
                return set_plugin_dir(c, src, s);
        if (strcmp(name, "enforcer") == 0)
                return get_string(src, s, &c->enforcer);
        if (strcmp(name, "credential_sources") == 0)
                return set_credential_sources(c, src, s);
        if (strcmp(name, "policy_modules") == 0)
                return set_policy_modules(c, src, s);
        if (strcmp(name, "store") == 0)
                return set_store(c, src, s);
        if (strcmp(name, "plugins") == 0)
                return check_plugins(src, s);
        if (strcmp(name, "audit") == 0)
                return set_audit(c, src, s);
        /* A newer nono's setting, or a typo: say so, but keep running. */
        nono_warn("%s: line %u: unknown setting \"%s\" ignored", src->path,
                  config_setting_source_line(s), name);
        return 0;
}

static int apply_file(struct host_config *c, const config_t *cfg, const struct source *src)
{
        const config_setting_t *root = config_root_setting(cfg);
        int n = config_setting_length(root);

        for (int i = 0; i < n; i++) {
                int r = apply_setting(c, src, config_setting_get_elem(root, (unsigned)i));

                if (r < 0)
                        return r;
        }
        return 0;
}

/* A missing file is not an error: most machines have no nono.conf at all. */
static int read_file(config_t *cfg, const char *path, int *ret_have)
{
        FILE *f = fopen(path, "re");
        int ok;

        *ret_have = 0;
        if (!f) {
                if (errno == ENOENT || errno == ENOTDIR)
                        return 0;
                return nono_error(-errno, "cannot read configuration %s: %s", path,
                                  strerror(errno));
        }
        ok = config_read(cfg, f);
        fclose(f);
        if (ok != CONFIG_TRUE)
                return nono_error(-EINVAL, "cannot read configuration %s: line %d: %s", path,
                                  config_error_line(cfg), config_error_text(cfg));
        *ret_have = 1;
        return 0;
}

static int load_files(struct host_config *c, const char *system_path, const char *user_path)
{
        struct source sys = {system_path, 0, 0};
        struct source usr = {user_path, 1, 0};
        int r;

        r = read_file(&c->system, system_path, &c->have_system);
        if (r >= 0 && c->have_system)
                r = apply_file(c, &c->system, &sys);
        if (r < 0 || !user_path)
                return r;
        r = read_file(&c->user, user_path, &c->have_user);
        usr.n_system_policy = c->policy_modules.n;
        if (r >= 0 && c->have_user)
                r = apply_file(c, &c->user, &usr);
        return r;
}

int host_config_load_files(struct host_config *c, const char *system_path, const char *user_path)
{
        int r;

        memset(c, 0, sizeof(*c));
        c->store_keep = -1;
        c->audit_keep_sessions = AUDIT_DEFAULT_KEEP_SESSIONS;
        c->audit_max_age_days = AUDIT_DEFAULT_MAX_AGE_DAYS;
        config_init(&c->system);
        config_init(&c->user);
        r = load_files(c, system_path, user_path);
        if (r < 0)
                host_config_free(c);
        return r;
}

/*
 * secure_getenv: should nono ever be installed set-id, the caller's environment must
 * not choose the configuration (and with it the plugin directory).
 */
static char *user_config_path(void)
{
        const char *xdg = secure_getenv("XDG_CONFIG_HOME");
        const char *home = secure_getenv("HOME");

        /* The XDG spec says a relative value is invalid and must be ignored. */
        if (xdg && xdg[0] == '/')
                return nono_path_join(xdg, CONFIG_FILE);
        if (home && home[0] == '/')
                return nono_asprintf("%s/.config/" CONFIG_FILE, home);
        return NULL;
}

int host_config_load(struct host_config *c)
{
        const char *only = secure_getenv("NONO_CONFIG");
        char *user;
        int r;

        if (only && only[0] != '\0') {
                r = host_config_load_files(c, only, NULL);
                /* Unlike the default locations, a file named explicitly must exist. */
                if (r >= 0 && !c->have_system) {
                        host_config_free(c);
                        r = nono_error(-ENOENT, "cannot read configuration %s (NONO_CONFIG): %s",
                                       only, strerror(ENOENT));
                }
                return r;
        }
        user = user_config_path();
        r = host_config_load_files(c, NONO_SYSCONFDIR "/" CONFIG_FILE, user);
        free(user);
        return r;
}

void host_config_free(struct host_config *c)
{
        /* Safe on a zeroed struct: callers free after a failed or skipped load. */
        if (config_root_setting(&c->system))
                config_destroy(&c->system);
        if (config_root_setting(&c->user))
                config_destroy(&c->user);
        free(c->plugin_dir);
        free(c->enforcer);
        free(c->store_backend);
        free(c->store_path);
        strv_free(&c->credential_sources);
        strv_free(&c->policy_modules);
        memset(c, 0, sizeof(*c));
}

static const config_setting_t *plugin_section_in(const config_t *cfg, const char *name)
{
        const config_setting_t *plugins = config_lookup(cfg, "plugins");

        return plugins ? config_setting_get_member(plugins, name) : NULL;
}

const config_setting_t *host_config_plugin_section(const struct host_config *c, const char *name)
{
        const config_setting_t *s = NULL;

        if (c->have_user)
                s = plugin_section_in(&c->user, name);
        if (!s && c->have_system)
                s = plugin_section_in(&c->system, name);
        return s;
}
