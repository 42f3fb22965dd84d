/* SPDX-License-Identifier: Apache-2.0 */
#include "loader.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "host.h"
#include "layout.h"
#include "strv.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define PLUGIN_NAME_MAX 64
#define FILE_PREFIX     "nono-"
#define FILE_SUFFIX     ".so"

/* The descriptor as ABI 1.0 defined it: everything up to and including `ops`. */
#define DESC_V1_0_SIZE (offsetof(struct nono_plugin_desc, ops) + sizeof(void *))

/* ---- kinds ------------------------------------------------------------------------ */

struct mandatory_op {
        size_t offset;
        const char *name;
};

#define OP(type, field)                                                                            \
        {                                                                                          \
                offsetof(struct type, field), #field                                               \
        }

static const struct mandatory_op enforcer_mandatory[] = {
    OP(nono_enforcer_ops, probe),
    OP(nono_enforcer_ops, prepare),
    OP(nono_enforcer_ops, apply),
    OP(nono_enforcer_ops, release),
};
static const struct mandatory_op network_mandatory[] = {
    OP(nono_network_ops, prepare),
    OP(nono_network_ops, release),
};
static const struct mandatory_op credential_mandatory[] = {
    OP(nono_credential_ops, lookup),
};
static const struct mandatory_op store_mandatory[] = {
    OP(nono_store_ops, open),    OP(nono_store_ops, put),   OP(nono_store_ops, get),
    OP(nono_store_ops, exists),  OP(nono_store_ops, close), OP(nono_store_ops, ref_set),
    OP(nono_store_ops, ref_get),
};
static const struct mandatory_op policy_mandatory[] = {
    OP(nono_policy_ops, review),
};

struct kind_info {
        const char *name;
        size_t ops_size; /* the host's ops struct */
        const struct mandatory_op *mandatory;
        size_t n_mandatory;
};

#define KIND(name, type, mandatory)                                                                \
        {                                                                                          \
                name, sizeof(struct type), mandatory, ARRAY_SIZE(mandatory)                        \
        }

static const struct kind_info kinds[] = {
    [NONO_PLUGIN_ENFORCER] = KIND("enforcer", nono_enforcer_ops, enforcer_mandatory),
    [NONO_PLUGIN_NETWORK] = KIND("network", nono_network_ops, network_mandatory),
    [NONO_PLUGIN_CREDENTIAL] = KIND("credential", nono_credential_ops, credential_mandatory),
    [NONO_PLUGIN_STORE] = KIND("store", nono_store_ops, store_mandatory),
    [NONO_PLUGIN_POLICY] = KIND("policy", nono_policy_ops, policy_mandatory),
};

static const struct kind_info *kind_info(uint32_t kind)
{
        return kind < ARRAY_SIZE(kinds) && kinds[kind].name ? &kinds[kind] : NULL;
}

uint32_t plugin_kind_from_name(const char *kind)
{
        for (uint32_t k = 0; k < ARRAY_SIZE(kinds); k++)
                if (kinds[k].name && strcmp(kinds[k].name, kind) == 0)
                        return k;
        return 0;
}

const char *plugin_kind_name(uint32_t kind)
{
        const struct kind_info *k = kind_info(kind);

        return k ? k->name : NULL;
}

/* An ops table must reach at least to the end of its last mandatory method. */
static size_t min_ops_size(const struct kind_info *k)
{
        size_t end = 0;

        for (size_t i = 0; i < k->n_mandatory; i++)
                if (k->mandatory[i].offset + sizeof(void (*)(void)) > end)
                        end = k->mandatory[i].offset + sizeof(void (*)(void));
        return end;
}

/* Names end up in file names, config sections and messages: keep them boring. */
static int valid_name(const char *name)
{
        size_t len = name ? strlen(name) : 0;

        return len > 0 && len <= PLUGIN_NAME_MAX &&
               strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-") == len;
}

/* ---- registry --------------------------------------------------------------------- */

void plugin_registry_init(struct plugin_registry *r, const char *dir,
                          const struct host_config *config)
{
        if (!dir)
                dir = config && config->plugin_dir ? config->plugin_dir : layout_get()->plugin_dir;
        r->dir = dir;
        r->config = config;
        r->head = NULL;
}

static void plugin_destroy(struct plugin *pl)
{
        free(pl->path);
        free(pl->name);
        free(pl);
}

/* Last loaded, first finished: a plugin may rely on one loaded before it. */
static void finish_chain(struct plugin *pl)
{
        if (!pl)
                return;
        finish_chain(pl->next);
        if (pl->desc.fini)
                pl->desc.fini(pl->state);
        plugin_destroy(pl);
}

void plugin_registry_free(struct plugin_registry *r)
{
        finish_chain(r->head);
        r->head = NULL;
}

static struct plugin *find_plugin(const struct plugin_registry *r, uint32_t kind, const char *name)
{
        for (struct plugin *pl = r->head; pl; pl = pl->next)
                if (pl->kind == kind && strcmp(pl->name, name) == 0)
                        return pl;
        return NULL;
}

static void append_plugin(struct plugin_registry *r, struct plugin *pl)
{
        struct plugin **tail = &r->head;

        while (*tail)
                tail = &(*tail)->next;
        *tail = pl;
}

const char *plugin_error(const struct plugin *pl, int err)
{
        if (pl && pl->error[0] != '\0')
                return pl->error;
        return err < 0 ? strerror(-err) : "unexpected result";
}

/* ---- descriptor checks ------------------------------------------------------------ */

/* The four fields that never move, checked before anything else is read. */
static int check_header(const struct nono_plugin_desc *d)
{
        if (!d)
                return nono_error(-ENOEXEC, "%s() returned no descriptor",
                                  NONO_PLUGIN_QUERY_SYMBOL);
        if (d->magic != NONO_PLUGIN_MAGIC)
                return nono_error(-ENOEXEC,
                                  "bad magic 0x%08x (expected 0x%08x): not a nono "
                                  "plugin descriptor",
                                  d->magic, NONO_PLUGIN_MAGIC);
        if (d->abi_major != NONO_PLUGIN_ABI_MAJOR)
                return nono_error(-EPROTO,
                                  "plugin ABI %u.%u, host ABI %u.%u: the major versions "
                                  "differ",
                                  d->abi_major, d->abi_minor, NONO_PLUGIN_ABI_MAJOR,
                                  NONO_PLUGIN_ABI_MINOR);
        if (d->abi_minor > NONO_PLUGIN_ABI_MINOR)
                return nono_error(-EPROTO,
                                  "plugin ABI %u.%u, host ABI %u.%u: the plugin needs "
                                  "a newer nono",
                                  d->abi_major, d->abi_minor, NONO_PLUGIN_ABI_MAJOR,
                                  NONO_PLUGIN_ABI_MINOR);
        if (d->size < DESC_V1_0_SIZE)
                return nono_error(-EPROTO,
                                  "descriptor of %u bytes is shorter than ABI 1.0's %zu "
                                  "(plugin ABI %u.%u, host ABI %u.%u)",
                                  d->size, DESC_V1_0_SIZE, d->abi_major, d->abi_minor,
                                  NONO_PLUGIN_ABI_MAJOR, NONO_PLUGIN_ABI_MINOR);
        return 0;
}

static int check_identity(const struct nono_plugin_desc *d)
{
        if (!kind_info(d->kind))
                return nono_error(-EINVAL, "unknown plugin kind %u", d->kind);
        if (d->flags & ~NONO_PLUGIN_FLAGS_KNOWN)
                return nono_error(-EINVAL, "unknown flag bits 0x%x (this nono knows 0x%x)",
                                  d->flags & ~NONO_PLUGIN_FLAGS_KNOWN, NONO_PLUGIN_FLAGS_KNOWN);
        if (!valid_name(d->name))
                return nono_error(-EINVAL, "invalid plugin name \"%.*s\" (1 to %d of a-z, 0-9, -)",
                                  PLUGIN_NAME_MAX, d->name ? d->name : "", PLUGIN_NAME_MAX);
        return 0;
}

/* The file name is what `--backend` and nono.conf select by: it must not lie. */
static int check_matches_file(const struct nono_plugin_desc *d, uint32_t file_kind,
                              const char *file_name)
{
        if (d->kind != file_kind)
                return nono_error(-EINVAL,
                                  "plugin kind \"%s\" does not match the file name "
                                  "(\"%s\")",
                                  plugin_kind_name(d->kind), plugin_kind_name(file_kind));
        if (strcmp(d->name, file_name) != 0)
                return nono_error(-EINVAL,
                                  "plugin name \"%s\" does not match the file name "
                                  "(\"%s\")",
                                  d->name, file_name);
        return 0;
}

static int check_mandatory(const struct plugin *pl, const struct kind_info *k)
{
        for (size_t i = 0; i < k->n_mandatory; i++) {
                void (*fn)(void);

                memcpy(&fn, (const char *)&pl->ops + k->mandatory[i].offset, sizeof(fn));
                if (!fn)
                        return nono_error(-EINVAL, "mandatory %s operation \"%s\" is missing",
                                          k->name, k->mandatory[i].name);
        }
        return 0;
}

/* Copies the plugin's ops table into the zeroed union: fields the plugin's (older)
 * table lacks stay NULL, fields the host does not know are not copied. */
static int copy_ops(struct plugin *pl)
{
        const struct kind_info *k = kind_info(pl->kind);
        uint32_t size;

        if (!pl->desc.ops)
                return nono_error(-EINVAL, "no operations table");
        memcpy(&size, pl->desc.ops, sizeof(size));
        if (size < min_ops_size(k))
                return nono_error(-EINVAL,
                                  "%s operations table of %u bytes is shorter than "
                                  "ABI 1.0's %zu",
                                  k->name, size, min_ops_size(k));
        memcpy(&pl->ops, pl->desc.ops, size < k->ops_size ? size : k->ops_size);
        return check_mandatory(pl, k);
}

static int check_duplicate(const struct plugin_registry *r, const struct plugin *pl)
{
        const struct plugin *other = find_plugin(r, pl->kind, pl->name);

        if (!other)
                return 0;
        return nono_error(-EEXIST, "%s plugin \"%s\" is already loaded from %s",
                          plugin_kind_name(pl->kind), pl->name,
                          other->path ? other->path : "the nono binary (built in)");
}

static int init_plugin(struct plugin *pl)
{
        int r;

        host_bind(pl);
        if (!pl->desc.init)
                return 0;
        r = pl->desc.init(&pl->host, &pl->state);
        if (r < 0)
                return nono_error(r, "init failed: %s", plugin_error(pl, r));
        if (r > 0)
                return nono_error(-EPROTO, "init returned %d, not 0 or a negative errno", r);
        return 0;
}

static int fill_plugin(struct plugin *pl, const struct plugin_registry *r, const char *path)
{
        pl->name = nono_strdup(pl->desc.name);
        if (!pl->name || (path && !(pl->path = nono_strdup(path))))
                return nono_error(-ENOMEM, "out of memory");
        pl->config = r->config ? host_config_plugin_section(r->config, pl->name) : NULL;
        return 0;
}

/*
 * Everything after the descriptor has been obtained, shared by files and built-in
 * plugins (file_kind 0: no file name to match).  On success the plugin is initialised
 * and in the registry.
 */
static int admit(struct plugin_registry *r, const struct nono_plugin_desc *d, const char *path,
                 uint32_t file_kind, const char *file_name, struct plugin **ret)
{
        struct plugin *pl;
        int err = check_header(d);

        if (err < 0)
                return err;
        pl = calloc(1, sizeof(*pl));
        if (!pl)
                return nono_error(-ENOMEM, "out of memory");
        /* A newer plugin's extra fields are cut off, an older one's missing ones zero. */
        memcpy(&pl->desc, d, d->size < sizeof(pl->desc) ? d->size : sizeof(pl->desc));
        pl->kind = pl->desc.kind;
        err = check_identity(&pl->desc);
        if (err >= 0 && file_kind)
                err = check_matches_file(&pl->desc, file_kind, file_name);
        if (err >= 0)
                err = copy_ops(pl);
        if (err >= 0)
                err = fill_plugin(pl, r, path);
        if (err >= 0)
                err = check_duplicate(r, pl);
        if (err >= 0)
                err = init_plugin(pl);
        if (err < 0) {
                plugin_destroy(pl);
                return err;
        }
        append_plugin(r, pl);
        if (ret)
                *ret = pl;
        return 0;
}

/* ---- files ------------------------------------------------------------------------ */

static int is_plugin_file_name(const char *name)
{
        size_t len = strlen(name);

        return strncmp(name, FILE_PREFIX, strlen(FILE_PREFIX)) == 0 &&
               len > strlen(FILE_PREFIX) + strlen(FILE_SUFFIX) &&
               strcmp(name + len - strlen(FILE_SUFFIX), FILE_SUFFIX) == 0;
}

/* Splits a base name "nono-<kind>-<name>.so"; the name goes to `name`. */
static int parse_file_name(const char *base, uint32_t *ret_kind, char *name, size_t size)
{
        const char *kind = base + strlen(FILE_PREFIX);
        const char *dash;
        size_t middle, kind_len;
        char kind_buf[16];

        if (!is_plugin_file_name(base))
                return nono_error(-EINVAL, "file name does not follow nono-<kind>-<name>.so");
        middle = strlen(kind) - strlen(FILE_SUFFIX); /* "<kind>-<name>" */
        dash = memchr(kind, '-', middle);
        kind_len = dash ? (size_t)(dash - kind) : 0;
        if (!dash || kind_len >= sizeof(kind_buf) || middle - kind_len - 1 >= size)
                return nono_error(-EINVAL, "file name does not follow nono-<kind>-<name>.so");
        memcpy(kind_buf, kind, kind_len);
        kind_buf[kind_len] = '\0';
        *ret_kind = plugin_kind_from_name(kind_buf);
        if (!*ret_kind)
                return nono_error(-EINVAL, "unknown plugin kind \"%s\" in the file name", kind_buf);
        memcpy(name, dash + 1, middle - kind_len - 1);
        name[middle - kind_len - 1] = '\0';
        if (!valid_name(name))
                return nono_error(-EINVAL, "invalid plugin name \"%s\" in the file name", name);
        return 0;
}

/*
 * A plugin runs with all of nono's privileges, so whoever can write the file or the
 * directory (and so swap the file) could run code as the user: only root and the
 * user themselves may own them, and neither may be writable by group or others.
 */
static int check_owner_mode(const struct stat *st, const char *what, const char *path)
{
        uid_t me = geteuid();

        if (st->st_uid != 0 && st->st_uid != me)
                return nono_error(-EPERM, "%s %s is owned by uid %u, not by root or uid %u", what,
                                  path, (unsigned)st->st_uid, (unsigned)me);
        if (st->st_mode & S_IWOTH)
                return nono_error(-EPERM, "%s %s is writable by others (mode %04o)", what, path,
                                  (unsigned)(st->st_mode & 07777));
        if (st->st_mode & S_IWGRP)
                return nono_error(-EPERM, "%s %s is writable by its group (mode %04o)", what, path,
                                  (unsigned)(st->st_mode & 07777));
        return 0;
}

static int open_dir_checked(const char *dir)
{
        struct stat st;
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r;

        if (fd < 0)
                return nono_error(-errno, "cannot open plugin directory %s: %s", dir,
                                  strerror(errno));
        r = fstat(fd, &st) < 0 ? nono_error(-errno, "cannot stat %s: %s", dir, strerror(errno))
                               : check_owner_mode(&st, "plugin directory", dir);
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}

/*
 * Opens the file relative to the checked directory and checks what was opened, so that
 * the object loaded is the object checked.  O_NOFOLLOW: a symlink could lead anywhere,
 * past the directory check.  O_NONBLOCK: a FIFO must not hang nono (fstat refuses it).
 */
static int open_file_checked(int dirfd, const char *base, const char *path)
{
        struct stat st;
        int fd = openat(dirfd, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        int r;

        if (fd < 0 && errno == ELOOP)
                return nono_error(-ELOOP, "%s is a symbolic link", path);
        if (fd < 0)
                return nono_error(-errno, "cannot open %s: %s", path, strerror(errno));
        if (fstat(fd, &st) < 0)
                r = nono_error(-errno, "cannot stat %s: %s", path, strerror(errno));
        else if (!S_ISREG(st.st_mode))
                r = nono_error(-EINVAL, "%s is not a regular file", path);
        else
                r = check_owner_mode(&st, "plugin file", path);
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}

/*
 * Loads the checked file through its descriptor, never by path again (the path could
 * be swapped in between).  The descriptor is deliberately left open for the life of
 * the process, like the mapping (plugins are never unloaded): glibc recognises loaded
 * objects by name first, and a later plugin opened on a reused descriptor number
 * would carry the same name "/proc/self/fd/N" and be taken for this one.
 */
static int dlopen_fd(int fd, void **ret)
{
        char proc[64];
        void *handle;

        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        handle = dlopen(proc, RTLD_NOW | RTLD_LOCAL);
        if (!handle && access("/proc/self/fd", F_OK) < 0) {
                close(fd);
                return nono_error(-ENOSYS, "cannot load plugins without /proc (they are loaded "
                                           "through /proc/self/fd)");
        }
        if (!handle) {
                close(fd);
                return nono_error(-ENOEXEC, "dlopen failed: %s", dlerror());
        }
        *ret = handle;
        return 0;
}

static int query_descriptor(void *handle, const struct nono_plugin_desc **ret)
{
        void *sym = dlsym(handle, NONO_PLUGIN_QUERY_SYMBOL);
        nono_plugin_query_fn query;

        if (!sym)
                return nono_error(-ENOEXEC, "no %s symbol: not a nono plugin",
                                  NONO_PLUGIN_QUERY_SYMBOL);
        /* POSIX makes dlsym's object pointer usable as a function pointer; ISO C has no
         * cast for it. */
        memcpy(&query, &sym, sizeof(query));
        *ret = query();
        return 0;
}

/* Loads dirfd/base (dirfd already checked); `path` is its full name for messages. */
static int load_at(struct plugin_registry *r, int dirfd, const char *path, const char *base,
                   struct plugin **ret)
{
        const struct nono_plugin_desc *desc = NULL;
        char name[PLUGIN_NAME_MAX + 2];
        void *handle = NULL;
        uint32_t kind = 0;
        struct plugin *pl;
        int fd, err;

        err = parse_file_name(base, &kind, name, sizeof(name));
        if (err < 0)
                return err;
        pl = find_plugin(r, kind, name);
        if (pl && pl->path && strcmp(pl->path, path) == 0) {
                if (ret)
                        *ret = pl;
                return 0;
        }
        fd = open_file_checked(dirfd, base, path);
        if (fd < 0)
                return fd;
        err = dlopen_fd(fd, &handle);
        if (err < 0)
                return err;
        err = query_descriptor(handle, &desc);
        if (err < 0)
                return err;
        return admit(r, desc, path, kind, name, ret);
}

static int load_file(struct plugin_registry *r, const char *path, struct plugin **ret)
{
        const char *slash = strrchr(path, '/');
        char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
        int dirfd, err;

        if (!dir)
                return nono_error(-ENOMEM, "out of memory");
        dirfd = open_dir_checked(dir);
        free(dir);
        if (dirfd < 0)
                return dirfd;
        err = load_at(r, dirfd, path, slash ? slash + 1 : path, ret);
        close(dirfd);
        return err;
}

int plugin_load_file(struct plugin_registry *r, const char *path, struct plugin **ret)
{
        int err = load_file(r, path, ret);

        return err < 0 ? nono_error_prefix(err, "cannot load plugin %s: ", path) : 0;
}

int plugin_load(struct plugin_registry *r, uint32_t kind, const char *name, struct plugin **ret)
{
        const char *kname = plugin_kind_name(kind);
        struct plugin *pl;
        char *path;
        int err;

        if (!kname)
                return nono_error(-EINVAL, "unknown plugin kind %u", kind);
        /* Checked before the name becomes part of a path. */
        if (!valid_name(name))
                return nono_error(-EINVAL, "invalid %s plugin name \"%s\" (1 to %d of a-z, 0-9, -)",
                                  kname, name ? name : "", PLUGIN_NAME_MAX);
        pl = find_plugin(r, kind, name);
        if (pl) {
                if (ret)
                        *ret = pl;
                return 0;
        }
        path = nono_asprintf("%s/" FILE_PREFIX "%s-%s" FILE_SUFFIX, r->dir, kname, name);
        if (!path)
                return nono_error(-ENOMEM, "out of memory");
        err = load_file(r, path, ret);
        if (err == -ENOENT)
                err = nono_error(err, "no %s plugin \"%s\" in %s (looked for %s)", kname, name,
                                 r->dir, path);
        else if (err < 0)
                err = nono_error_prefix(err, "cannot load plugin %s: ", path);
        free(path);
        return err;
}

static int compare_strings(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The nono-*.so names of the directory, sorted so that loading order is stable. */
static int list_plugin_files(int dirfd, const char *dir, struct strv *ret)
{
        int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        struct dirent *e;
        DIR *d;
        int r = 0;

        d = fd < 0 ? NULL : fdopendir(fd);
        if (!d) {
                r = nono_error(-errno, "cannot read plugin directory %s: %s", dir, strerror(errno));
                if (fd >= 0)
                        close(fd);
                return r;
        }
        while (r >= 0 && (e = readdir(d)))
                if (is_plugin_file_name(e->d_name))
                        r = strv_push(ret, e->d_name);
        closedir(d);
        if (r < 0)
                return nono_error(r, "out of memory");
        if (ret->n > 1)
                qsort(ret->items, ret->n, sizeof(*ret->items), compare_strings);
        return 0;
}

int plugin_load_all(struct plugin_registry *r,
                    void (*on_error)(const char *file, const char *msg, void *userdata),
                    void *userdata)
{
        struct strv names = STRV_INIT;
        int dirfd = open_dir_checked(r->dir);
        int refused = 0, err;

        if (dirfd < 0)
                return dirfd;
        err = list_plugin_files(dirfd, r->dir, &names);
        for (size_t i = 0; err >= 0 && i < names.n; i++) {
                char *path = nono_path_join(r->dir, names.items[i]);

                if (!path) {
                        err = nono_error(-ENOMEM, "out of memory");
                        break;
                }
                if (load_at(r, dirfd, path, names.items[i], NULL) < 0) {
                        refused++;
                        if (on_error)
                                on_error(path, nono_errmsg(), userdata);
                }
                free(path);
        }
        strv_free(&names);
        close(dirfd);
        return err < 0 ? err : refused;
}

int plugin_register_builtin(struct plugin_registry *r, const struct nono_plugin_desc *desc,
                            struct plugin **ret)
{
        int err = admit(r, desc, NULL, 0, NULL, ret);

        return err < 0 ? nono_error_prefix(err, "cannot register built-in plugin: ") : 0;
}
