/* SPDX-License-Identifier: Apache-2.0 */
#include "credentials.h"

#include <errno.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "error.h"
#include "host.h"
#include "strv.h"

#define SCHEME_SEPARATOR   "://"
#define PLUGIN_FILE_PREFIX "nono-credential-"
#define PLUGIN_FILE_SUFFIX ".so"

/*
 * Bare names when nono.conf does not say: the environment first (set per shell, so it
 * overrides), then the platform's keyring.
 */
static const char *const default_order[] = {
    "env",
#ifdef __APPLE__
    "keychain",
#else
    "libsecret",
#endif
    NULL,
};

/* ---- references ------------------------------------------------------------------- */

static int valid_source(const char *s, size_t len)
{
        return len > 0 && len <= CREDENTIAL_SOURCE_MAX &&
               strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == len;
}

/* Names end up in messages and listings: one line each, no terminal escapes. */
static int printable(const char *s)
{
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                if (*p < 0x20 || *p == 0x7f)
                        return 0;
        return 1;
}

int credential_parse_ref(const char *ref, struct credential_ref *ret)
{
        const char *sep = ref ? strstr(ref, SCHEME_SEPARATOR) : NULL;
        size_t source_len = sep ? (size_t)(sep - ref) : 0;

        if (!ref || !*ref)
                return nono_error(-EINVAL, "empty credential reference");
        if (!printable(ref))
                return nono_error(-EINVAL, "credential reference with control characters");
        if (sep && !valid_source(ref, source_len))
                return nono_error(-EINVAL,
                                  "invalid credential source in \"%s\" (1 to %d of a-z, 0-9, - "
                                  "before \"" SCHEME_SEPARATOR "\")",
                                  ref, CREDENTIAL_SOURCE_MAX);
        ret->source[0] = '\0';
        ret->name = ref;
        if (sep) {
                memcpy(ret->source, ref, source_len);
                ret->source[source_len] = '\0';
                ret->name = sep + strlen(SCHEME_SEPARATOR);
        }
        if (!*ret->name)
                return nono_error(-EINVAL, "credential reference \"%s\" has no name", ref);
        if (strlen(ret->name) > CREDENTIAL_NAME_MAX)
                return nono_error(-EINVAL, "credential name longer than %d bytes",
                                  CREDENTIAL_NAME_MAX);
        return 0;
}

const char *const *credential_source_order(const struct host_config *cfg)
{
        if (cfg && cfg->credential_sources.n > 0)
                return (const char *const *)cfg->credential_sources.items;
        return default_order;
}

/* ---- messages ---------------------------------------------------------------------- */

/* "a, b, c"; NULL on allocation failure. */
static char *join(const struct strv *v, const char *sep)
{
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);

        if (!f)
                return NULL;
        for (size_t i = 0; i < v->n; i++)
                fprintf(f, "%s%s", i ? sep : "", v->items[i]);
        if (fclose(f) != 0) {
                free(text);
                return NULL;
        }
        return text;
}

/* What each source said when it did not deliver: for the message if none did. */
struct misses {
        struct strv declined; /* source names */
        struct strv failed;   /* "source failed: reason" */
};

static int miss_declined(struct misses *m, const char *source)
{
        return strv_push(&m->declined, source);
}

/* Takes the reason from the current error. */
static int miss_failed(struct misses *m, const char *source)
{
        return strv_push_owned(&m->failed, nono_asprintf("%s failed: %s", source, nono_errmsg()));
}

/* "env, keychain; libsecret failed: <reason>" */
static char *describe_misses(const struct misses *m)
{
        char *declined = join(&m->declined, ", ");
        char *failed = join(&m->failed, "; ");
        char *text = NULL;

        if (declined && failed)
                text = nono_asprintf("%s%s%s", declined, *declined && *failed ? "; " : "", failed);
        free(declined);
        free(failed);
        return text;
}

static void misses_free(struct misses *m)
{
        strv_free(&m->declined);
        strv_free(&m->failed);
}

static int unknown_source(const struct plugin_registry *reg, const char *source)
{
        struct strv names = STRV_INIT;
        char *pattern = nono_path_join(reg->dir, PLUGIN_FILE_PREFIX "*" PLUGIN_FILE_SUFFIX);
        char *available = NULL;
        glob_t g;
        int r;

        if (pattern && glob(pattern, 0, NULL, &g) == 0) {
                for (size_t i = 0; i < g.gl_pathc; i++) {
                        const char *name =
                            strrchr(g.gl_pathv[i], '/') + strlen("/" PLUGIN_FILE_PREFIX);

                        strv_push_owned(&names,
                                        strndup(name, strlen(name) - strlen(PLUGIN_FILE_SUFFIX)));
                }
                globfree(&g);
        }
        free(pattern);
        available = join(&names, ", ");
        if (available && names.n > 0)
                r = nono_error(-ENOENT, "unknown credential source \"%s\" (available: %s)", source,
                               available);
        else
                r = nono_error(-ENOENT,
                               "unknown credential source \"%s\" (no credential plugins in %s)",
                               source, reg->dir);
        free(available);
        strv_free(&names);
        return r;
}

/* ---- talking to the sources -------------------------------------------------------- */

static int load_source(struct plugin_registry *reg, const char *source, struct plugin **ret)
{
        int r = plugin_load(reg, NONO_PLUGIN_CREDENTIAL, source, ret);

        return r == -ENOENT ? unknown_source(reg, source) : r;
}

/*
 * Turns an operation's return value into 0, NONO_DECLINED or a negative errno with the
 * plugin's own message as the current error.  The plugin's message buffer is cleared
 * before each call (start_op), so an old message never explains a new failure.
 */
static void start_op(struct plugin *pl)
{
        pl->error[0] = '\0';
}

static int op_result(const struct plugin *pl, int r)
{
        if (r > 0 && r != NONO_DECLINED)
                return nono_error(-EPROTO,
                                  "plugin returned %d, not 0, NONO_DECLINED or a "
                                  "negative errno",
                                  r);
        if (r < 0)
                return nono_error(r, "%s", plugin_error(pl, r));
        return r;
}

static int source_lookup(struct plugin *pl, const char *name, char **ret_secret, size_t *ret_len)
{
        char *secret = NULL;
        size_t len = 0;
        int r;

        start_op(pl);
        r = op_result(pl, pl->ops.credential.lookup(pl->state, name, &secret, &len));
        if (r == 0 && !secret)
                return nono_error(-EPROTO, "plugin reported success without a secret");
        if (r != 0)
                return r;
        *ret_secret = secret;
        *ret_len = len;
        return 0;
}

static int resolve_in(struct plugin_registry *reg, const char *source, const char *name,
                      char **ret_secret, size_t *ret_len, const char **ret_source)
{
        struct plugin *pl;
        int r = load_source(reg, source, &pl);

        if (r < 0)
                return r;
        r = source_lookup(pl, name, ret_secret, ret_len);
        if (r == NONO_DECLINED)
                return nono_error(-ENOENT, "credential \"%s\" not found in %s", name, source);
        if (r < 0)
                return nono_error_prefix(r, "cannot look up credential \"%s\" in %s: ", name,
                                         source);
        if (ret_source)
                *ret_source = pl->name;
        return 0;
}

static int try_source(struct plugin_registry *reg, const char *source, const char *name,
                      char **ret_secret, size_t *ret_len, struct plugin **ret_pl)
{
        int r = load_source(reg, source, ret_pl);

        return r < 0 ? r : source_lookup(*ret_pl, name, ret_secret, ret_len);
}

static int not_found(const char *name, const struct misses *m)
{
        char *why = describe_misses(m);
        int r;

        if (!why)
                r = nono_error(-ENOMEM, "out of memory");
        else
                r = nono_error(-ENOENT, "credential \"%s\" not found%s%s", name,
                               m->declined.n > 0 ? " in " : ": ", why);
        free(why);
        return r;
}

/* A source that failed was skipped because a later one had the name: worth a note. */
static void note_skipped(const char *name, const char *source, const struct misses *m)
{
        char *why = join(&m->failed, "; ");

        nono_debug("credential \"%s\" found in %s after %s", name, source, why ? why : "failures");
        free(why);
}

static int resolve_bare(struct plugin_registry *reg, const struct host_config *cfg,
                        const char *name, char **ret_secret, size_t *ret_len,
                        const char **ret_source)
{
        struct misses m = {STRV_INIT, STRV_INIT};
        struct plugin *pl = NULL;
        int r = NONO_DECLINED;

        for (const char *const *s = credential_source_order(cfg); *s; s++) {
                r = try_source(reg, *s, name, ret_secret, ret_len, &pl);
                if (r == 0)
                        break;
                if ((r == NONO_DECLINED ? miss_declined(&m, *s) : miss_failed(&m, *s)) < 0) {
                        misses_free(&m);
                        return nono_error(-ENOMEM, "out of memory");
                }
        }
        if (r == 0 && m.failed.n > 0)
                note_skipped(name, pl->name, &m);
        if (r == 0 && ret_source)
                *ret_source = pl->name;
        if (r != 0)
                r = not_found(name, &m);
        misses_free(&m);
        return r;
}

int credential_resolve(struct plugin_registry *reg, const struct host_config *cfg, const char *ref,
                       char **ret_secret, size_t *ret_len, const char **ret_source)
{
        struct credential_ref cr;
        int r = credential_parse_ref(ref, &cr);

        if (r < 0)
                return r;
        *ret_secret = NULL;
        *ret_len = 0;
        if (cr.source[0])
                return resolve_in(reg, cr.source, cr.name, ret_secret, ret_len, ret_source);
        return resolve_bare(reg, cfg, cr.name, ret_secret, ret_len, ret_source);
}

void credential_free(char *secret)
{
        host_secret_free(secret);
}

/* ---- management -------------------------------------------------------------------- */

static int first_store_source(struct plugin_registry *reg, const struct host_config *cfg,
                              struct plugin **ret)
{
        struct misses m = {STRV_INIT, STRV_INIT};
        char *why;
        int r = 0;

        for (const char *const *s = credential_source_order(cfg); *s && r >= 0; s++) {
                if (load_source(reg, *s, ret) < 0)
                        r = miss_failed(&m, *s);
                else if ((*ret)->ops.credential.store)
                        break;
                else
                        r = miss_declined(&m, *s);
        }
        if (r < 0 || !*ret || !(*ret)->ops.credential.store) {
                why = describe_misses(&m);
                r = why ? nono_error(-EOPNOTSUPP,
                                     "no configured credential source can store credentials (%s)",
                                     why)
                        : nono_error(-ENOMEM, "out of memory");
                free(why);
        }
        misses_free(&m);
        return r < 0 ? r : 0;
}

/* Explicit (argument or the ref's scheme, which must agree), else the first configured
 * source that can store. */
static int pick_source(struct plugin_registry *reg, const struct host_config *cfg,
                       const char *source, const struct credential_ref *cr, struct plugin **ret)
{
        *ret = NULL;
        if (source && cr->source[0] && strcmp(source, cr->source) != 0)
                return nono_error(-EINVAL, "the reference names source \"%s\", not \"%s\"",
                                  cr->source, source);
        if (!source && cr->source[0])
                source = cr->source;
        if (source)
                return load_source(reg, source, ret);
        return first_store_source(reg, cfg, ret);
}

int credential_store(struct plugin_registry *reg, const struct host_config *cfg, const char *source,
                     const char *ref, const char *secret, size_t len, const char **ret_source)
{
        struct credential_ref cr;
        struct plugin *pl;
        int r = credential_parse_ref(ref, &cr);

        if (r >= 0)
                r = pick_source(reg, cfg, source, &cr, &pl);
        if (r < 0)
                return r;
        if (!pl->ops.credential.store)
                return nono_error(-EOPNOTSUPP, "credential source \"%s\" cannot store credentials",
                                  pl->name);
        start_op(pl);
        r = op_result(pl, pl->ops.credential.store(pl->state, cr.name, secret, len));
        if (r == NONO_DECLINED)
                r = nono_error(-EPROTO, "the source declined");
        if (r < 0)
                return nono_error_prefix(r, "cannot store credential \"%s\" in %s: ", cr.name,
                                         pl->name);
        if (ret_source)
                *ret_source = pl->name;
        return 0;
}

int credential_remove(struct plugin_registry *reg, const struct host_config *cfg,
                      const char *source, const char *ref, const char **ret_source)
{
        struct credential_ref cr;
        struct plugin *pl;
        int r = credential_parse_ref(ref, &cr);

        if (r >= 0)
                r = pick_source(reg, cfg, source, &cr, &pl);
        if (r < 0)
                return r;
        if (!pl->ops.credential.remove)
                return nono_error(-EOPNOTSUPP, "credential source \"%s\" cannot delete credentials",
                                  pl->name);
        start_op(pl);
        r = op_result(pl, pl->ops.credential.remove(pl->state, cr.name));
        if (r == NONO_DECLINED)
                return nono_error(-ENOENT, "credential \"%s\" not found in %s", cr.name, pl->name);
        if (r < 0)
                return nono_error_prefix(r, "cannot delete credential \"%s\" from %s: ", cr.name,
                                         pl->name);
        if (ret_source)
                *ret_source = pl->name;
        return 0;
}

static int collect_name(const char *ref, void *userdata)
{
        return strv_push(userdata, ref);
}

static int compare_strings(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted and without duplicates (a name may live in several collections); names a
 * message could not show on one line are left out. */
static int list_source(struct plugin *pl, credential_list_fn each, void *userdata)
{
        struct strv names = STRV_INIT;
        int r;

        start_op(pl);
        r = op_result(pl, pl->ops.credential.list(pl->state, collect_name, &names));
        if (r == NONO_DECLINED)
                r = nono_error(-EPROTO, "the source declined");
        if (r < 0)
                r = nono_error_prefix(r, "cannot list credentials in %s: ", pl->name);
        if (names.n > 0)
                qsort(names.items, names.n, sizeof(*names.items), compare_strings);
        for (size_t i = 0; i < names.n && r == 0; i++)
                if ((i == 0 || strcmp(names.items[i], names.items[i - 1]) != 0) &&
                    printable(names.items[i]))
                        r = each(pl->name, names.items[i], userdata);
        strv_free(&names);
        return r;
}

int credential_list(struct plugin_registry *reg, const struct host_config *cfg, const char *source,
                    credential_list_fn each, void *userdata)
{
        struct plugin *pl;
        int r;

        if (source) {
                r = load_source(reg, source, &pl);
                if (r < 0)
                        return r;
                if (!pl->ops.credential.list)
                        return nono_error(-EOPNOTSUPP,
                                          "credential source \"%s\" cannot list its credentials",
                                          source);
                return list_source(pl, each, userdata);
        }
        /* Every source that can list, or an error: a partial listing would mislead. */
        for (const char *const *s = credential_source_order(cfg); *s; s++) {
                r = load_source(reg, *s, &pl);
                if (r == 0 && pl->ops.credential.list)
                        r = list_source(pl, each, userdata);
                if (r != 0)
                        return r;
        }
        return 0;
}

/* ---- reading a secret -------------------------------------------------------------- */

static volatile sig_atomic_t prompt_signal;

static void on_prompt_signal(int sig)
{
        prompt_signal = sig;
}

/* The signals that would otherwise leave the terminal without echo. */
static const int prompt_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
#define N_PROMPT_SIGNALS (sizeof(prompt_signals) / sizeof(prompt_signals[0]))

struct quiet_terminal {
        struct termios saved;
        struct sigaction old[N_PROMPT_SIGNALS];
};

static void restore_signals(struct quiet_terminal *q)
{
        for (size_t i = 0; i < N_PROMPT_SIGNALS; i++)
                sigaction(prompt_signals[i], &q->old[i], NULL);
}

/* Echo off (the newline still echoes); the signals interrupt read() instead of killing
 * nono with echo off. */
static int quiet_begin(int fd, struct quiet_terminal *q)
{
        struct sigaction sa = {.sa_handler = on_prompt_signal}; /* no SA_RESTART */
        struct termios t;

        if (tcgetattr(fd, &q->saved) < 0)
                return nono_error(-errno, "cannot read the terminal settings: %s", strerror(errno));
        prompt_signal = 0;
        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < N_PROMPT_SIGNALS; i++)
                sigaction(prompt_signals[i], &sa, &q->old[i]);
        t = q->saved;
        t.c_lflag &= ~(tcflag_t)ECHO;
        t.c_lflag |= ECHONL;
        if (tcsetattr(fd, TCSAFLUSH, &t) < 0) {
                int err = errno;

                restore_signals(q);
                return nono_error(-err, "cannot turn off the terminal echo: %s", strerror(err));
        }
        return 0;
}

static void quiet_end(int fd, struct quiet_terminal *q)
{
        tcsetattr(fd, TCSAFLUSH, &q->saved);
        restore_signals(q);
}

/* Reads until end of file, or the end of the first line when `one_line`. */
static int read_all(int fd, char *buf, size_t cap, int one_line, size_t *ret_len)
{
        size_t len = 0;

        while (len < cap) {
                ssize_t n;

                if (prompt_signal)
                        return nono_error(-ECANCELED, "cancelled");
                n = read(fd, buf + len, cap - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return nono_error(-errno, "cannot read the secret: %s", strerror(errno));
                if (n == 0)
                        break;
                len += (size_t)n;
                if (one_line && buf[len - 1] == '\n')
                        break;
        }
        *ret_len = len;
        return 0;
}

static size_t strip_newline(const char *buf, size_t len)
{
        if (len == 0 || buf[len - 1] != '\n')
                return len;
        len--;
        return len > 0 && buf[len - 1] == '\r' ? len - 1 : len;
}

int credential_read_secret(int fd, const char *name, char **ret_secret, size_t *ret_len)
{
        /* Room for the longest secret, "\r\n", and one byte that proves it is too long. */
        size_t cap = CREDENTIAL_SECRET_MAX + 3;
        char *buf = host_secret_alloc(cap + 1);
        int tty = isatty(fd);
        struct quiet_terminal q;
        size_t len = 0;
        int r;

        if (!buf)
                return nono_error(-ENOMEM, "cannot allocate secret memory");
        r = tty ? quiet_begin(fd, &q) : 0;
        if (r >= 0 && tty) {
                fprintf(stderr, "Secret for %s: ", name);
                fflush(stderr);
        }
        if (r >= 0) {
                r = read_all(fd, buf, cap, tty, &len);
                if (tty)
                        quiet_end(fd, &q);
        }
        if (r >= 0)
                len = strip_newline(buf, len);
        if (r >= 0 && len == 0)
                r = nono_error(-EINVAL, "empty secret for \"%s\"", name);
        if (r >= 0 && len > CREDENTIAL_SECRET_MAX)
                r = nono_error(-E2BIG, "the secret for \"%s\" is longer than %d bytes", name,
                               CREDENTIAL_SECRET_MAX);
        if (r < 0) {
                host_secret_free(buf);
                return r;
        }
        buf[len] = '\0';
        *ret_secret = buf;
        *ret_len = len;
        return 0;
}
