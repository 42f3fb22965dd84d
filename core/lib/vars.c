/* SPDX-License-Identifier: Apache-2.0 */
#include "vars.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "strv.h"

/* Longest variable name we look up; every known one is far shorter. */
#define VAR_NAME_MAX 64

/* An environment directory is used only when absolute: the XDG spec says relative
 * values are invalid, and a relative HOME or TMPDIR would depend on the cwd. */
static const char *env_dir(const char *name)
{
        const char *v = getenv(name);

        return v && v[0] == '/' ? v : NULL;
}

static char *xdg_dir(const char *env, const char *home, const char *fallback)
{
        const char *v = env_dir(env);

        return v ? nono_strdup(v) : nono_path_join(home, fallback);
}

static int home_from_passwd(struct vars *v)
{
        struct passwd *pw = getpwuid(getuid());

        if (!pw || !pw->pw_dir || pw->pw_dir[0] != '/')
                return nono_error(-ENOENT,
                                  "cannot find the home directory: HOME is not set "
                                  "and user %u has no passwd entry",
                                  (unsigned)getuid());
        /* getpwuid's storage is reused by the next call, so keep a copy. */
        v->home_owned = nono_strdup(pw->pw_dir);
        if (!v->home_owned)
                return -ENOMEM;
        v->home = v->home_owned;
        return 0;
}

int vars_init(struct vars *v, const char *workdir)
{
        const char *tmpdir = env_dir("TMPDIR");
        int r;

        memset(v, 0, sizeof(*v));
        v->home = env_dir("HOME");
        if (!v->home) {
                r = home_from_passwd(v);
                if (r < 0)
                        return r;
        }
        v->workdir = workdir;
        v->tmpdir = tmpdir ? tmpdir : "/tmp";
        v->uid = nono_asprintf("%u", (unsigned)getuid());
        v->xdg_config_home = xdg_dir("XDG_CONFIG_HOME", v->home, ".config");
        v->xdg_cache_home = xdg_dir("XDG_CACHE_HOME", v->home, ".cache");
        v->xdg_data_home = xdg_dir("XDG_DATA_HOME", v->home, ".local/share");
        v->xdg_state_home = xdg_dir("XDG_STATE_HOME", v->home, ".local/state");
        v->xdg_runtime_dir = nono_strdup(env_dir("XDG_RUNTIME_DIR"));
        if (!v->uid || !v->xdg_config_home || !v->xdg_cache_home || !v->xdg_data_home ||
            !v->xdg_state_home || (env_dir("XDG_RUNTIME_DIR") && !v->xdg_runtime_dir)) {
                vars_free(v);
                return -ENOMEM;
        }
        return 0;
}

void vars_free(struct vars *v)
{
        free(v->uid);
        free(v->xdg_config_home);
        free(v->xdg_cache_home);
        free(v->xdg_data_home);
        free(v->xdg_state_home);
        free(v->xdg_runtime_dir);
        free(v->home_owned);
        memset(v, 0, sizeof(*v));
}

/*
 * The value of a known variable.  Returns 1 with *ret set (NULL when the variable is
 * known but unset, e.g. XDG_RUNTIME_DIR), or 0 for an unknown name.
 */
static int var_value(const struct vars *v, const char *name, const char **ret)
{
        const struct {
                const char *name;
                const char *value;
        } known[] = {
            {"HOME", v->home},
            {"WORKDIR", v->workdir},
            {"TMPDIR", v->tmpdir},
            {"UID", v->uid},
            {"XDG_CONFIG_HOME", v->xdg_config_home},
            {"XDG_CACHE_HOME", v->xdg_cache_home},
            {"XDG_DATA_HOME", v->xdg_data_home},
            {"XDG_STATE_HOME", v->xdg_state_home},
            {"XDG_RUNTIME_DIR", v->xdg_runtime_dir},
        };

        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
                if (strcmp(known[i].name, name) == 0) {
                        *ret = known[i].value;
                        return 1;
                }
        }
        return 0;
}

static int is_name_start(char c)
{
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int is_name_char(char c)
{
        return is_name_start(c) || (c >= '0' && c <= '9');
}

/*
 * Reads the variable name after the '$' at *pp ($NAME or ${NAME}) into `name` and
 * moves *pp past the reference.  Returns 0, 1 when the '$' starts no reference (kept
 * literally), or -EINVAL.
 */
static int read_var_name(const char *in, const char **pp, char *name, size_t size)
{
        const char *p = *pp + 1;
        int braced = *p == '{';
        size_t n = 0;

        if (braced)
                p++;
        else if (!is_name_start(*p))
                return 1;
        while (is_name_char(p[n]))
                n++;
        if (braced && p[n] != '}')
                return nono_error(-EINVAL, "bad variable reference in \"%s\": expected ${NAME}",
                                  in);
        if (n == 0 || !is_name_start(p[0]))
                return nono_error(-EINVAL, "bad variable name in \"%s\"", in);
        if (n >= size)
                return nono_error(-EINVAL, "variable name too long in \"%s\"", in);
        memcpy(name, p, n);
        name[n] = '\0';
        *pp = p + n + (braced ? 1 : 0);
        return 0;
}

/*
 * The expansion's output: paths are at most PATH_MAX long, so a fixed buffer is enough
 * (and much cheaper than a memstream on nono's startup path); overflow is an error.
 */
struct expansion {
        char buf[PATH_MAX];
        size_t len;
        int overflow;
};

static void out_putn(struct expansion *out, const char *s, size_t n)
{
        if (out->len + n >= sizeof(out->buf)) {
                out->overflow = 1;
                return;
        }
        memcpy(out->buf + out->len, s, n);
        out->len += n;
        out->buf[out->len] = '\0';
}

static void out_puts(struct expansion *out, const char *s)
{
        out_putn(out, s, strlen(s));
}

/* Writes the value of the reference at *pp, or a literal '$'. */
static int expand_reference(const struct vars *v, const char *in, const char **pp,
                            struct expansion *out)
{
        char name[VAR_NAME_MAX];
        const char *value;
        int r = read_var_name(in, pp, name, sizeof(name));

        if (r < 0)
                return r;
        if (r == 1) {
                out_putn(out, "$", 1);
                (*pp)++;
                return 0;
        }
        if (!var_value(v, name, &value))
                return nono_error(-EINVAL, "unknown variable $%s in \"%s\"", name, in);
        if (!value)
                return nono_error(-EINVAL, "variable $%s is not set (in \"%s\")", name, in);
        out_puts(out, value);
        return 0;
}

static int expand_into(const struct vars *v, const char *in, struct expansion *out)
{
        const char *p = in;

        if (p[0] == '~') {
                if (p[1] != '\0' && p[1] != '/')
                        return nono_error(-EINVAL, "\"%s\": ~user is not supported, write the path",
                                          in);
                if (!v->home)
                        return nono_error(-EINVAL, "variable $HOME is not set (in \"%s\")", in);
                out_puts(out, v->home);
                p++;
        }
        while (*p) {
                if (*p == '$') {
                        int r = expand_reference(v, in, &p, out);

                        if (r < 0)
                                return r;
                } else {
                        out_putn(out, p++, 1);
                }
        }
        return 0;
}

int vars_expand(const struct vars *v, const char *in, char **ret)
{
        struct expansion out;
        int r;

        out.len = 0;
        out.overflow = 0;
        out.buf[0] = '\0';
        r = expand_into(v, in, &out);
        if (r < 0)
                return r;
        if (out.overflow)
                return nono_error(-ENAMETOOLONG, "\"%s\" expands to a path that is too long", in);
        *ret = nono_strdup(out.buf);
        return *ret ? 0 : -ENOMEM;
}
