/* SPDX-License-Identifier: Apache-2.0 */
#include "profile.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error.h"
#include "jsonc.h"
#include "names.h"
#include "paths.h"

/*
 * The schema, as one table that drives parsing, merging, writing and freeing, so the
 * four cannot drift apart.  Aliases (legacy spellings) are read into the canonical
 * field and skipped by everything else.
 */
enum field_kind {
        FIELD_IGNORED,     /* accepted and not kept ($schema) */
        FIELD_SECTION,     /* an object described by `members` */
        FIELD_STRING,      /* char * */
        FIELD_BOOL,        /* int: PROFILE_UNSET, 0 or 1 */
        FIELD_STRINGS,     /* struct strv of non-empty strings */
        FIELD_EXTENDS,     /* a profile name or an array of them */
        FIELD_HOSTS,       /* host names and *.suffix patterns, lower-cased */
        FIELD_ENV_NAMES,   /* environment variable names */
        FIELD_ENV_SET,     /* object NAME -> string, kept as NAME=value */
        FIELD_PORTS,       /* TCP ports 1-65535, kept as decimal strings */
        FIELD_JSON_OBJECT, /* any object, kept as compact JSON text */
        FIELD_WORKDIR,     /* uint32_t: "none", "read", "write" or "readwrite" */
        FIELD_COUNT,       /* long long: PROFILE_UNSET or a positive integer */
};

struct field {
        const char *key;
        enum field_kind kind;
        size_t offset;
        const struct field *members; /* FIELD_SECTION */
        int alias;                   /* read only: stored under the canonical key */
};

/* One line per initializer reads best. */
/* clang-format off */
#define FIELD(key, kind, member) {key, kind, offsetof(struct profile, member), NULL, 0}
#define ALIAS(key, kind, member) {key, kind, offsetof(struct profile, member), NULL, 1}
#define SECTION(key, members) {key, FIELD_SECTION, 0, members, 0}
#define SECTION_ALIAS(key, members) {key, FIELD_SECTION, 0, members, 1}
#define FIELDS_END {NULL, FIELD_IGNORED, 0, NULL, 0}
/* clang-format on */

static const struct field meta_fields[] = {
    FIELD("name", FIELD_STRING, name),
    FIELD("version", FIELD_STRING, version),
    FIELD("description", FIELD_STRING, description),
    FIELD("author", FIELD_STRING, author),
    FIELDS_END,
};

static const struct field groups_fields[] = {
    FIELD("include", FIELD_STRINGS, groups_include),
    FIELD("exclude", FIELD_STRINGS, groups_exclude),
    FIELDS_END,
};

/* Legacy: security.groups is groups.include. */
static const struct field security_fields[] = {
    FIELD("groups", FIELD_STRINGS, groups_include),
    FIELDS_END,
};

static const struct field filesystem_fields[] = {
    FIELD("allow", FIELD_STRINGS, fs.allow),
    FIELD("read", FIELD_STRINGS, fs.read),
    FIELD("write", FIELD_STRINGS, fs.write),
    FIELD("allow_file", FIELD_STRINGS, fs.allow_file),
    FIELD("read_file", FIELD_STRINGS, fs.read_file),
    FIELD("write_file", FIELD_STRINGS, fs.write_file),
    FIELD("deny", FIELD_STRINGS, fs.deny),
    FIELD("bypass_protection", FIELD_STRINGS, fs.bypass_protection),
    FIELD("allow_unix_socket", FIELD_STRINGS, fs.allow_unix_socket),
    FIELD("allow_unix_datagrams", FIELD_BOOL, fs.allow_unix_datagrams),
    FIELD("share_tmp", FIELD_BOOL, fs.share_tmp),
    FIELDS_END,
};

static const struct field limits_fields[] = {
    FIELD("max_processes", FIELD_COUNT, limits.max_processes),
    FIELD("max_memory_mb", FIELD_COUNT, limits.max_memory_mb),
    FIELD("max_open_files", FIELD_COUNT, limits.max_open_files),
    FIELD("max_file_size_mb", FIELD_COUNT, limits.max_file_size_mb),
    FIELD("cpu_seconds", FIELD_COUNT, limits.cpu_seconds),
    FIELDS_END,
};

static const struct field network_fields[] = {
    FIELD("block", FIELD_BOOL, net.block),
    FIELD("network_profile", FIELD_STRING, net.network_profile),
    FIELD("allow_domain", FIELD_HOSTS, net.allow_domain),
    ALIAS("allow_hosts", FIELD_HOSTS, net.allow_domain),
    FIELD("credentials", FIELD_STRINGS, net.credentials),
    FIELD("custom_credentials", FIELD_JSON_OBJECT, net.custom_credentials_json),
    FIELD("open_port", FIELD_PORTS, net.open_port),
    FIELD("listen_port", FIELD_PORTS, net.listen_port),
    FIELD("connect_port", FIELD_PORTS, net.connect_port),
    FIELD("upstream_proxy", FIELD_STRING, net.upstream_proxy),
    FIELDS_END,
};

static const struct field environment_fields[] = {
    FIELD("allow_vars", FIELD_ENV_NAMES, env.allow_vars),
    FIELD("deny_vars", FIELD_ENV_NAMES, env.deny_vars),
    FIELD("set_vars", FIELD_ENV_SET, env.set_vars),
    FIELDS_END,
};

static const struct field workdir_fields[] = {
    FIELD("access", FIELD_WORKDIR, workdir_access),
    FIELDS_END,
};

static const struct field rollback_fields[] = {
    FIELD("exclude_patterns", FIELD_STRINGS, rollback.exclude_patterns),
    FIELD("exclude_globs", FIELD_STRINGS, rollback.exclude_globs),
    FIELDS_END,
};

static const struct field profile_fields[] = {
    {"$schema", FIELD_IGNORED, 0, NULL, 0},
    FIELD("extends", FIELD_EXTENDS, extends_chain),
    SECTION("meta", meta_fields),
    SECTION("groups", groups_fields),
    SECTION_ALIAS("security", security_fields),
    SECTION("filesystem", filesystem_fields),
    SECTION("network", network_fields),
    SECTION("environment", environment_fields),
    SECTION("workdir", workdir_fields),
    SECTION("rollback", rollback_fields),
    SECTION_ALIAS("undo", rollback_fields),
    SECTION("limits", limits_fields),
    FIELD("interactive", FIELD_BOOL, interactive),
    FIELDS_END,
};

static const struct {
        const char *name;
        uint32_t access;
} workdir_modes[] = {
    {"none", PROFILE_WORKDIR_NONE},
    {"read", NONO_ACCESS_READ},
    {"write", NONO_ACCESS_WRITE},
    {"readwrite", NONO_ACCESS_READWRITE},
};

#define N_WORKDIR_MODES (sizeof(workdir_modes) / sizeof(workdir_modes[0]))

static void *field_ptr(struct profile *p, const struct field *f)
{
        return (char *)p + f->offset;
}

static const void *field_cptr(const struct profile *p, const struct field *f)
{
        return (const char *)p + f->offset;
}

static const struct field *field_find(const struct field *fields, const char *key)
{
        for (const struct field *f = fields; f->key; f++)
                if (strcmp(f->key, key) == 0)
                        return f;
        return NULL;
}

/* ---- small shared helpers ---- */

static int push_unique(struct strv *v, const char *s)
{
        return strv_contains(v, s) ? 0 : strv_push(v, s);
}

static int union_strv(struct strv *dst, const struct strv *src)
{
        for (size_t i = 0; i < src->n; i++) {
                int r = push_unique(dst, src->items[i]);

                if (r < 0)
                        return r;
        }
        return 0;
}

static size_t env_name_len(const char *assignment)
{
        const char *eq = strchr(assignment, '=');

        return eq ? (size_t)(eq - assignment) : strlen(assignment);
}

/* Sets NAME=value in `set`, replacing an earlier value of NAME: a later one wins. */
static int env_set_put(struct strv *set, const char *assignment)
{
        size_t len = env_name_len(assignment);

        for (size_t i = 0; i < set->n; i++) {
                if (env_name_len(set->items[i]) == len &&
                    strncmp(set->items[i], assignment, len) == 0) {
                        char *copy = nono_strdup(assignment);

                        if (!copy)
                                return -ENOMEM;
                        free(set->items[i]);
                        set->items[i] = copy;
                        return 0;
                }
        }
        return strv_push(set, assignment);
}

static int valid_profile_name(const char *s)
{
        if (!*s)
                return 0;
        for (; *s; s++)
                if (!name_is_alnum(*s) && *s != '_' && *s != '-')
                        return 0;
        return 1;
}

/* ---- parsing ---- */

static int parse_members(struct jsonc_path *jp, json_t *obj, const struct field *fields,
                         struct profile *p);

static int parse_extends(const struct jsonc_path *jp, json_t *value, struct strv *out)
{
        if (json_is_string(value) && json_string_length(value) > 0)
                return push_unique(out, json_string_value(value));
        if (!json_is_array(value))
                return jsonc_path_error(jp, "\"%s\" must be a profile name or an array of them",
                                        jsonc_path_dotted(jp));
        return jsonc_get_strings(jp, value, out);
}

static int parse_hosts(const struct jsonc_path *jp, const json_t *value, struct strv *out)
{
        struct strv hosts = STRV_INIT;
        int r = jsonc_get_strings(jp, value, &hosts);

        for (size_t i = 0; r == 0 && i < hosts.n; i++) {
                char *h = hosts.items[i];

                if (!name_is_host_pattern(h)) {
                        r = jsonc_path_error(
                            jp,
                            "\"%s\": bad host \"%s\" (want a name, *.suffix "
                            "or an IP address, optionally :PORT; no scheme or path)",
                            jsonc_path_dotted(jp), h);
                        break;
                }
                /* Host names are case-insensitive; keep one spelling. */
                name_lower(h);
                r = push_unique(out, h);
        }
        strv_free(&hosts);
        return r;
}

static int parse_env_names(const struct jsonc_path *jp, const json_t *value, struct strv *out)
{
        struct strv names = STRV_INIT;
        int r = jsonc_get_strings(jp, value, &names);

        for (size_t i = 0; r == 0 && i < names.n; i++) {
                if (!name_is_env_var(names.items[i]))
                        r = jsonc_path_error(jp, "\"%s\": bad variable name \"%s\"",
                                             jsonc_path_dotted(jp), names.items[i]);
                else
                        r = push_unique(out, names.items[i]);
        }
        strv_free(&names);
        return r;
}

static int parse_env_set(const struct jsonc_path *jp, json_t *value, struct strv *out)
{
        const char *name;
        json_t *v;

        if (!json_is_object(value))
                return jsonc_path_error(jp, "\"%s\" must be an object of NAME: \"value\"",
                                        jsonc_path_dotted(jp));
        json_object_foreach(value, name, v)
        {
                char *assignment;
                int r;

                if (!name_is_env_var(name))
                        return jsonc_path_error(jp, "\"%s\": bad variable name \"%s\"",
                                                jsonc_path_dotted(jp), name);
                if (!json_is_string(v))
                        return jsonc_path_error(jp, "\"%s.%s\" must be a string",
                                                jsonc_path_dotted(jp), name);
                assignment = nono_asprintf("%s=%s", name, json_string_value(v));
                if (!assignment)
                        return -ENOMEM;
                r = env_set_put(out, assignment);
                free(assignment);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_ports(const struct jsonc_path *jp, const json_t *value, struct strv *out)
{
        size_t i;
        json_t *item;

        if (!json_is_array(value))
                return jsonc_path_error(jp, "\"%s\" must be an array of port numbers",
                                        jsonc_path_dotted(jp));
        json_array_foreach(value, i, item)
        {
                json_int_t port = json_integer_value(item);
                char num[8];
                int r;

                if (!json_is_integer(item) || port < 1 || port > 65535)
                        return jsonc_path_error(jp,
                                                "\"%s\" must be an array of port numbers "
                                                "(1-65535)",
                                                jsonc_path_dotted(jp));
                snprintf(num, sizeof(num), "%d", (int)port);
                r = push_unique(out, num);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_json_object(const struct jsonc_path *jp, const json_t *value, char **out)
{
        if (!json_is_object(value))
                return jsonc_path_error(jp, "\"%s\" must be an object", jsonc_path_dotted(jp));
        free(*out);
        *out = json_dumps(value, JSON_COMPACT);
        return *out ? 0 : -ENOMEM;
}

static int parse_workdir(const struct jsonc_path *jp, const json_t *value, uint32_t *out)
{
        const char *s = json_string_value(value);

        for (size_t i = 0; s && i < N_WORKDIR_MODES; i++) {
                if (strcmp(s, workdir_modes[i].name) == 0) {
                        *out = workdir_modes[i].access;
                        return 0;
                }
        }
        return jsonc_path_error(jp, "\"%s\" must be \"none\", \"read\", \"write\" or \"readwrite\"",
                                jsonc_path_dotted(jp));
}

static int parse_count(const struct jsonc_path *jp, const json_t *value, long long *out)
{
        if (!json_is_integer(value) || json_integer_value(value) < 1 ||
            json_integer_value(value) > (1LL << 40))
                return jsonc_path_error(jp, "\"%s\" must be a positive integer",
                                        jsonc_path_dotted(jp));
        *out = json_integer_value(value);
        return 0;
}

static int parse_field(struct jsonc_path *jp, const struct field *f, json_t *value,
                       struct profile *p)
{
        void *dst = field_ptr(p, f);

        switch (f->kind) {
        case FIELD_IGNORED:
                return 0;
        case FIELD_SECTION:
                return parse_members(jp, value, f->members, p);
        case FIELD_STRING:
                return jsonc_get_string(jp, value, dst);
        case FIELD_BOOL:
                return jsonc_get_bool(jp, value, dst);
        case FIELD_STRINGS:
                return jsonc_get_strings(jp, value, dst);
        case FIELD_EXTENDS:
                return parse_extends(jp, value, dst);
        case FIELD_HOSTS:
                return parse_hosts(jp, value, dst);
        case FIELD_ENV_NAMES:
                return parse_env_names(jp, value, dst);
        case FIELD_ENV_SET:
                return parse_env_set(jp, value, dst);
        case FIELD_PORTS:
                return parse_ports(jp, value, dst);
        case FIELD_JSON_OBJECT:
                return parse_json_object(jp, value, dst);
        case FIELD_WORKDIR:
                return parse_workdir(jp, value, dst);
        case FIELD_COUNT:
                return parse_count(jp, value, dst);
        }
        return -EINVAL;
}

static int parse_members(struct jsonc_path *jp, json_t *obj, const struct field *fields,
                         struct profile *p)
{
        const char *key;
        json_t *value;

        if (!json_is_object(obj)) {
                if (jp->depth == 0)
                        return jsonc_path_error(jp, "a profile must be a JSON object");
                return jsonc_path_error(jp, "\"%s\" must be an object", jsonc_path_dotted(jp));
        }
        json_object_foreach(obj, key, value)
        {
                const struct field *f = field_find(fields, key);
                int r = jsonc_path_push(jp, key);

                if (r < 0)
                        return r;
                if (!f)
                        return jsonc_path_error(jp, "unknown key \"%s\"", jsonc_path_dotted(jp));
                r = parse_field(jp, f, value, p);
                if (r < 0)
                        return r;
                jsonc_path_pop(jp);
        }
        return 0;
}

/* "dir/python-dev.json" -> "python-dev" */
static char *name_from_path(const char *path)
{
        const char *base = strrchr(path, '/');
        size_t len;

        base = base ? base + 1 : path;
        len = strlen(base);
        if (len > 5 && strcmp(base + len - 5, ".json") == 0)
                len -= 5;
        return nono_asprintf("%.*s", (int)len, base);
}

static int parse_doc(const struct jsonc_doc *doc, const char *path, struct profile *ret)
{
        struct jsonc_path jp;
        int r;

        jsonc_path_init(&jp, doc);
        r = parse_members(&jp, doc->root, profile_fields, ret);
        if (r < 0)
                return r;
        if (!ret->name)
                ret->name = name_from_path(path);
        ret->path = nono_strdup(path);
        return ret->name && ret->path ? 0 : -ENOMEM;
}

int profile_parse_file(const char *path, struct profile *ret)
{
        struct jsonc_doc doc;
        int r;

        profile_init(ret);
        r = jsonc_load_file(path, &doc);
        if (r == 0) {
                r = parse_doc(&doc, path, ret);
                jsonc_doc_free(&doc);
        }
        if (r < 0) {
                profile_free(ret);
                return nono_error_prefix(r, "cannot read profile %s: ", path);
        }
        return 0;
}

/* ---- init, free ---- */

static void fields_init(struct profile *p, const struct field *fields)
{
        for (const struct field *f = fields; f->key; f++) {
                if (f->kind == FIELD_SECTION && !f->alias)
                        fields_init(p, f->members);
                else if (f->kind == FIELD_BOOL)
                        *(int *)field_ptr(p, f) = PROFILE_UNSET;
                else if (f->kind == FIELD_COUNT)
                        *(long long *)field_ptr(p, f) = PROFILE_UNSET;
        }
}

void profile_init(struct profile *p)
{
        memset(p, 0, sizeof(*p));
        fields_init(p, profile_fields);
}

static void fields_free(struct profile *p, const struct field *fields)
{
        for (const struct field *f = fields; f->key; f++) {
                if (f->alias)
                        continue;
                switch (f->kind) {
                case FIELD_SECTION:
                        fields_free(p, f->members);
                        break;
                case FIELD_STRING:
                case FIELD_JSON_OBJECT:
                        free(*(char **)field_ptr(p, f));
                        break;
                case FIELD_STRINGS:
                case FIELD_EXTENDS:
                case FIELD_HOSTS:
                case FIELD_ENV_NAMES:
                case FIELD_ENV_SET:
                case FIELD_PORTS:
                        strv_free(field_ptr(p, f));
                        break;
                case FIELD_IGNORED:
                case FIELD_BOOL:
                case FIELD_WORKDIR:
                case FIELD_COUNT:
                        break;
                }
        }
}

void profile_free(struct profile *p)
{
        fields_free(p, profile_fields);
        free(p->path);
        profile_init(p);
}

/* ---- merging ---- */

static int merge_string(char **dst, const char *src)
{
        char *copy;

        if (!src)
                return 0;
        copy = nono_strdup(src);
        if (!copy)
                return -ENOMEM;
        free(*dst);
        *dst = copy;
        return 0;
}

/* Objects merge key by key; an entry of the derived profile replaces the base's. */
static int merge_json_object(char **dst, const char *src)
{
        json_t *base, *derived;
        char *text;

        if (!src)
                return 0;
        if (!*dst)
                return merge_string(dst, src);
        base = json_loads(*dst, 0, NULL);
        derived = json_loads(src, 0, NULL);
        text = base && derived && json_object_update(base, derived) == 0
                   ? json_dumps(base, JSON_COMPACT)
                   : NULL;
        json_decref(base);
        json_decref(derived);
        if (!text)
                return -ENOMEM;
        free(*dst);
        *dst = text;
        return 0;
}

static int merge_env_set(struct strv *dst, const struct strv *src)
{
        for (size_t i = 0; i < src->n; i++) {
                int r = env_set_put(dst, src->items[i]);

                if (r < 0)
                        return r;
        }
        return 0;
}

static int merge_fields(struct profile *base, const struct profile *derived,
                        const struct field *fields);

static int merge_field(struct profile *base, const struct profile *derived, const struct field *f)
{
        void *dst = field_ptr(base, f);
        const void *src = field_cptr(derived, f);

        switch (f->kind) {
        case FIELD_IGNORED:
                return 0;
        case FIELD_SECTION:
                return merge_fields(base, derived, f->members);
        case FIELD_STRING:
                return merge_string(dst, *(char *const *)src);
        case FIELD_JSON_OBJECT:
                return merge_json_object(dst, *(char *const *)src);
        case FIELD_BOOL:
                if (*(const int *)src != PROFILE_UNSET)
                        *(int *)dst = *(const int *)src;
                return 0;
        case FIELD_WORKDIR:
                if (*(const uint32_t *)src)
                        *(uint32_t *)dst = *(const uint32_t *)src;
                return 0;
        case FIELD_COUNT:
                if (*(const long long *)src != PROFILE_UNSET)
                        *(long long *)dst = *(const long long *)src;
                return 0;
        case FIELD_ENV_SET:
                return merge_env_set(dst, src);
        case FIELD_STRINGS:
        case FIELD_EXTENDS:
        case FIELD_HOSTS:
        case FIELD_ENV_NAMES:
        case FIELD_PORTS:
                return union_strv(dst, src);
        }
        return -EINVAL;
}

static int merge_fields(struct profile *base, const struct profile *derived,
                        const struct field *fields)
{
        for (const struct field *f = fields; f->key; f++) {
                int r = f->alias ? 0 : merge_field(base, derived, f);

                if (r < 0)
                        return r;
        }
        return 0;
}

int profile_merge(struct profile *base, const struct profile *derived)
{
        int r = merge_fields(base, derived, profile_fields);

        return r < 0 ? r : merge_string(&base->path, derived->path);
}

/* ---- lookup and loading ---- */

/* Data files that live next to the built-in profiles but are not profiles. */
static const char *const not_profiles[] = {"groups", "network-policy"};

static int is_profile_name(const char *name)
{
        for (size_t i = 0; i < sizeof(not_profiles) / sizeof(not_profiles[0]); i++)
                if (strcmp(name, not_profiles[i]) == 0)
                        return 0;
        return valid_profile_name(name);
}

static int is_path(const char *s)
{
        size_t len = strlen(s);

        return strchr(s, '/') || (len >= 5 && strcmp(s + len - 5, ".json") == 0);
}

static int same_file(const char *a, const char *b)
{
        struct stat sa, sb;

        return b && stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
               sa.st_ino == sb.st_ino;
}

/*
 * Looks `name` up in the user's then the built-in directory.  `extending` (may be
 * NULL) is the file whose `extends` names it: a user profile that extends its own
 * name (~/.config/nono/profiles/python-dev.json: "extends": "python-dev") means the
 * next one in the lookup order, so it is skipped.
 */
static int find_by_name(const char *name, const char *builtin_dir, const char *user_dir,
                        const char *extending, char **ret_path)
{
        const char *dirs[] = {user_dir, builtin_dir};

        if (!valid_profile_name(name))
                return nono_error(-EINVAL,
                                  "bad profile name \"%s\": use letters, digits, _ and -, "
                                  "or give a path",
                                  name);
        for (size_t i = 0; is_profile_name(name) && i < 2; i++) {
                char *file;

                if (!dirs[i])
                        continue;
                file = nono_asprintf("%s/%s.json", dirs[i], name);
                if (!file)
                        return -ENOMEM;
                if (access(file, F_OK) == 0 && !same_file(file, extending)) {
                        *ret_path = file;
                        return 0;
                }
                free(file);
        }
        return nono_error(-ENOENT, "unknown profile \"%s\" (looked in %s%s%s)", name,
                          user_dir ? user_dir : "", user_dir && builtin_dir ? " and " : "",
                          builtin_dir ? builtin_dir : "");
}

/* A relative path is taken from the extending file's directory, so that a profile
 * and its bases can move together; at the top level, from the cwd. */
static char *resolve_relative(const char *path, const char *extending)
{
        char *copy, *joined;

        if (path[0] == '/' || !extending)
                return nono_strdup(path);
        copy = nono_strdup(extending);
        joined = copy ? nono_path_join(dirname(copy), path) : NULL;
        free(copy);
        return joined;
}

static int find_from(const char *name, const char *extending, const char *builtin_dir,
                     const char *user_dir, char **ret_path)
{
        if (!is_path(name))
                return find_by_name(name, builtin_dir, user_dir, extending, ret_path);
        *ret_path = resolve_relative(name, extending);
        return *ret_path ? 0 : -ENOMEM;
}

int profile_find(const char *name_or_path, const char *builtin_dir, const char *user_dir,
                 char **ret_path)
{
        return find_from(name_or_path, NULL, builtin_dir, user_dir, ret_path);
}

struct load_ctx {
        const char *builtin_dir, *user_dir;
        /* The chain being loaded, outermost first: names as written, real paths. */
        const char *names[PROFILE_EXTENDS_MAX_DEPTH + 1];
        const char *files[PROFILE_EXTENDS_MAX_DEPTH + 1];
        size_t depth;
        /* Real paths already merged: a base reached twice (a diamond) is merged once,
         * so it cannot override what a profile merged after it set. */
        struct strv merged;
};

/* "a extends b extends c" for the chain plus `next`. */
static char *chain_text(const struct load_ctx *lc, const char *next)
{
        char *text = nono_strdup(lc->names[0]);

        for (size_t i = 1; text && i <= lc->depth; i++) {
                char *longer =
                    nono_asprintf("%s extends %s", text, i < lc->depth ? lc->names[i] : next);

                free(text);
                text = longer;
        }
        return text;
}

static int chain_error(const struct load_ctx *lc, const char *next, const char *what)
{
        char *chain = chain_text(lc, next);
        int r;

        if (!chain)
                return -ENOMEM;
        r = nono_error(-ELOOP, "profile %s: %s", chain, what);
        free(chain);
        return r;
}

static int check_chain(const struct load_ctx *lc, const char *name, const char *file)
{
        for (size_t i = 0; i < lc->depth; i++)
                if (strcmp(lc->files[i], file) == 0)
                        return chain_error(lc, name, "extends form a cycle");
        if (lc->depth > PROFILE_EXTENDS_MAX_DEPTH) {
                char what[64];

                snprintf(what, sizeof(what), "more than %d levels of extends",
                         PROFILE_EXTENDS_MAX_DEPTH);
                return chain_error(lc, name, what);
        }
        return 0;
}

static int load_one(struct load_ctx *lc, const char *name, const char *extending,
                    struct profile *acc);

/* Loads the bases of `p` (its extends list) into `acc`, then merges `p` itself. */
static int merge_with_bases(struct load_ctx *lc, struct profile *p, const char *path,
                            struct profile *acc)
{
        struct strv bases = p->extends_chain;
        int r = 0;

        /* extends_chain of the result lists what was merged, not what was asked for. */
        memset(&p->extends_chain, 0, sizeof(p->extends_chain));
        for (size_t i = 0; r == 0 && i < bases.n; i++)
                r = load_one(lc, bases.items[i], path, acc);
        if (r == 0)
                r = profile_merge(acc, p);
        if (r == 0)
                r = push_unique(&acc->extends_chain, p->name);
        strv_free(&bases);
        return r;
}

static int load_one(struct load_ctx *lc, const char *name, const char *extending,
                    struct profile *acc)
{
        struct profile p;
        char *path = NULL, *real = NULL;
        int r = find_from(name, extending, lc->builtin_dir, lc->user_dir, &path);

        if (r < 0)
                return r;
        real = realpath(path, NULL);
        if (!real)
                r = nono_error(-errno, "cannot read profile %s: %s", path, strerror(errno));
        if (r == 0)
                r = check_chain(lc, name, real);
        if (r == 0 && !strv_contains(&lc->merged, real)) {
                r = profile_parse_file(path, &p);
                if (r == 0) {
                        lc->names[lc->depth] = name;
                        lc->files[lc->depth++] = real;
                        r = merge_with_bases(lc, &p, path, acc);
                        lc->depth--;
                        profile_free(&p);
                }
                if (r == 0)
                        r = strv_push(&lc->merged, real);
        }
        free(real);
        free(path);
        return r;
}

int profile_load(const char *name_or_path, const char *builtin_dir, const char *user_dir,
                 struct profile *ret)
{
        struct load_ctx lc = {.builtin_dir = builtin_dir, .user_dir = user_dir};
        int r;

        profile_init(ret);
        r = load_one(&lc, name_or_path, NULL, ret);
        strv_free(&lc.merged);
        if (r < 0)
                profile_free(ret);
        return r;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_dir(const char *dir, struct strv *names)
{
        DIR *d = opendir(dir);
        struct dirent *de;
        int r = 0;

        if (!d)
                return errno == ENOENT
                           ? 0
                           : nono_error(-errno, "cannot list %s: %s", dir, strerror(errno));
        while (r == 0 && (de = readdir(d))) {
                size_t len = strlen(de->d_name);
                char *name;

                if (len <= 5 || strcmp(de->d_name + len - 5, ".json") != 0)
                        continue;
                name = nono_asprintf("%.*s", (int)(len - 5), de->d_name);
                if (!name)
                        r = -ENOMEM;
                else if (is_profile_name(name))
                        r = push_unique(names, name);
                free(name);
        }
        closedir(d);
        return r;
}

int profile_list(const char *builtin_dir, const char *user_dir, struct strv *ret_names)
{
        const char *dirs[] = {user_dir, builtin_dir};
        struct strv names = STRV_INIT;

        for (size_t i = 0; i < 2; i++) {
                int r = dirs[i] ? list_dir(dirs[i], &names) : 0;

                if (r < 0) {
                        strv_free(&names);
                        return r;
                }
        }
        if (names.n)
                qsort(names.items, names.n, sizeof(names.items[0]), cmp_str);
        *ret_names = names;
        return 0;
}

/* ---- applying to a plan ---- */

static int check_excludes(const struct profile *prof, const struct groups *groups)
{
        for (size_t i = 0; i < prof->groups_exclude.n; i++) {
                const char *name = prof->groups_exclude.items[i];
                const struct group *g = groups_find(groups, name);

                if (!g)
                        return nono_error(-EINVAL, "unknown group \"%s\" in profile %s", name,
                                          prof->name);
                if (g->required)
                        return nono_error(-EPERM,
                                          "profile %s cannot exclude group \"%s\": it is "
                                          "required",
                                          prof->name, name);
        }
        return 0;
}

/* Required groups are protections: they apply to every profile, listed or not, so a
 * user profile shadowing `default` cannot drop them by omission either. */
static int apply_required_groups(const struct profile *prof, const struct groups *groups,
                                 const struct vars *vars, struct plan *plan)
{
        for (size_t i = 0; i < groups->n; i++) {
                const struct group *g = &groups->items[i];
                int r;

                if (!g->required || !group_applies(g) ||
                    strv_contains(&prof->groups_include, g->name))
                        continue;
                r = group_apply(g, vars, plan);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int apply_groups(const struct profile *prof, const struct groups *groups,
                        const struct vars *vars, struct plan *plan)
{
        int r = check_excludes(prof, groups);

        for (size_t i = 0; r == 0 && i < prof->groups_include.n; i++) {
                const char *name = prof->groups_include.items[i];
                const struct group *g = groups_find(groups, name);

                if (!g)
                        return nono_error(-EINVAL, "unknown group \"%s\" in profile %s", name,
                                          prof->name);
                if (!strv_contains(&prof->groups_exclude, name) && group_applies(g))
                        r = group_apply(g, vars, plan);
        }
        return r == 0 ? apply_required_groups(prof, groups, vars, plan) : r;
}

static int apply_filesystem(const struct profile *prof, const struct vars *vars, struct plan *plan,
                            const char *origin)
{
        const struct {
                const struct strv *paths;
                uint32_t access;
                int want_file;
        } grants[] = {
            {&prof->fs.allow, NONO_ACCESS_READWRITE, 0},
            {&prof->fs.read, NONO_ACCESS_READ, 0},
            {&prof->fs.write, NONO_ACCESS_WRITE, 0},
            {&prof->fs.allow_file, NONO_ACCESS_READWRITE, 1},
            {&prof->fs.read_file, NONO_ACCESS_READ, 1},
            {&prof->fs.write_file, NONO_ACCESS_WRITE, 1},
        };
        int r = 0;

        for (size_t g = 0; r == 0 && g < sizeof(grants) / sizeof(grants[0]); g++)
                for (size_t i = 0; r == 0 && i < grants[g].paths->n; i++)
                        r = paths_grant(plan, vars, grants[g].paths->items[i], grants[g].access,
                                        grants[g].want_file, origin);
        for (size_t i = 0; r == 0 && i < prof->fs.deny.n; i++)
                r = paths_deny(plan, vars, prof->fs.deny.items[i], origin);
        for (size_t i = 0; r == 0 && i < prof->fs.allow_unix_socket.n; i++)
                r = paths_unix_socket(plan, vars, prof->fs.allow_unix_socket.items[i]);
        /* Last, so that it lifts denies from groups and from this profile alike. */
        for (size_t i = 0; r == 0 && i < prof->fs.bypass_protection.n; i++)
                r = paths_bypass(plan, vars, prof->fs.bypass_protection.items[i]);
        return r;
}

static int add_ports(struct plan *plan, const struct strv *ports, int bind)
{
        for (size_t i = 0; i < ports->n; i++) {
                /* Validated as 1-65535 when the profile was parsed. */
                int r = plan_add_port(plan, bind, (uint16_t)strtoul(ports->items[i], NULL, 10));

                if (r < 0)
                        return r;
        }
        return 0;
}

static int apply_network_mode(const struct profile *prof, struct plan *plan)
{
        int filtered = prof->net.allow_domain.n > 0 || prof->net.network_profile;

        if (prof->net.block == 1 && filtered)
                return nono_error(-EINVAL,
                                  "profile %s: network.block cannot be combined with "
                                  "allow_domain or network_profile",
                                  prof->name);
        if (prof->net.block == 1) {
                plan->network_mode = NONO_NETWORK_BLOCK;
        } else if (filtered) {
                /* A named network profile alone also selects the proxy: until its hosts
                 * are added the proxy lets nothing through, which fails closed. */
                plan->network_mode = NONO_NETWORK_PROXY;
        } else if (prof->net.block == 0) {
                plan->network_mode = NONO_NETWORK_ALLOW;
        } else {
                return 0;
        }
        plan->network_mode_set = 1;
        return union_strv(&plan->allowed_hosts, &prof->net.allow_domain);
}

static int apply_network(const struct profile *prof, struct plan *plan)
{
        int r = apply_network_mode(prof, plan);

        if (r == 0)
                r = add_ports(plan, &prof->net.connect_port, 0);
        if (r == 0)
                r = add_ports(plan, &prof->net.listen_port, 1);
        /* open_port: both directions, for local IPC. */
        if (r == 0)
                r = add_ports(plan, &prof->net.open_port, 0);
        if (r == 0)
                r = add_ports(plan, &prof->net.open_port, 1);
        return r;
}

static int apply_environment(const struct profile *prof, struct plan *plan)
{
        int r = union_strv(&plan->env_allow, &prof->env.allow_vars);

        if (r == 0)
                r = union_strv(&plan->env_deny, &prof->env.deny_vars);
        if (r == 0)
                r = merge_env_set(&plan->env_set, &prof->env.set_vars);
        return r;
}

int profile_apply(const struct profile *prof, const struct groups *groups, const struct vars *vars,
                  struct plan *plan)
{
        char *origin = nono_asprintf("profile %s", prof->name);
        int r;

        if (!origin)
                return -ENOMEM;
        r = apply_groups(prof, groups, vars, plan);
        if (r == 0)
                r = apply_filesystem(prof, vars, plan, origin);
        if (r == 0)
                r = apply_network(prof, plan);
        if (r == 0)
                r = apply_environment(prof, plan);
        if (prof->fs.share_tmp == 1)
                plan->flags |= NONO_PLAN_SHARE_TMP;
        if (prof->fs.allow_unix_datagrams == 1)
                plan->allow_unix_datagrams = 1;
        limits_override(&plan->limits, &prof->limits);
        free(origin);
        return r;
}

/* ---- writing ---- */

static int fields_to_json(const struct profile *p, const struct field *fields, json_t **ret);

static int field_is_set(const struct profile *p, const struct field *f)
{
        const void *src = field_cptr(p, f);

        /* Written profiles are merged: their bases are already in them. */
        if (f->alias || f->kind == FIELD_IGNORED || f->kind == FIELD_EXTENDS)
                return 0;
        if (f->kind == FIELD_STRING || f->kind == FIELD_JSON_OBJECT)
                return *(char *const *)src != NULL;
        if (f->kind == FIELD_BOOL)
                return *(const int *)src != PROFILE_UNSET;
        if (f->kind == FIELD_WORKDIR)
                return *(const uint32_t *)src != 0;
        if (f->kind == FIELD_COUNT)
                return *(const long long *)src != PROFILE_UNSET;
        if (f->kind == FIELD_SECTION)
                return 1; /* decided by its members */
        return ((const struct strv *)src)->n > 0;
}

static json_t *strings_to_json(const struct strv *v, int as_ints)
{
        json_t *arr = json_array();

        for (size_t i = 0; arr && i < v->n; i++) {
                json_t *item = as_ints ? json_integer(strtol(v->items[i], NULL, 10))
                                       : json_string(v->items[i]);

                if (json_array_append_new(arr, item) < 0) {
                        json_decref(arr);
                        return NULL;
                }
        }
        return arr;
}

static json_t *env_set_to_json(const struct strv *v)
{
        json_t *obj = json_object();

        for (size_t i = 0; obj && i < v->n; i++) {
                size_t len = env_name_len(v->items[i]);
                char *name = nono_asprintf("%.*s", (int)len, v->items[i]);
                int r =
                    name ? json_object_set_new(obj, name, json_string(v->items[i] + len + 1)) : -1;

                free(name);
                if (r < 0) {
                        json_decref(obj);
                        return NULL;
                }
        }
        return obj;
}

static json_t *workdir_to_json(uint32_t access)
{
        for (size_t i = 0; i < N_WORKDIR_MODES; i++)
                if (workdir_modes[i].access == access)
                        return json_string(workdir_modes[i].name);
        return NULL;
}

static json_t *value_to_json(const struct profile *p, const struct field *f)
{
        const void *src = field_cptr(p, f);

        switch (f->kind) {
        case FIELD_STRING:
                return json_string(*(char *const *)src);
        case FIELD_JSON_OBJECT:
                return json_loads(*(char *const *)src, 0, NULL);
        case FIELD_BOOL:
                return json_boolean(*(const int *)src);
        case FIELD_WORKDIR:
                return workdir_to_json(*(const uint32_t *)src);
        case FIELD_COUNT:
                return json_integer(*(const long long *)src);
        case FIELD_ENV_SET:
                return env_set_to_json(src);
        case FIELD_PORTS:
                return strings_to_json(src, 1);
        case FIELD_STRINGS:
        case FIELD_HOSTS:
        case FIELD_ENV_NAMES:
                return strings_to_json(src, 0);
        case FIELD_SECTION:
        case FIELD_IGNORED:
        case FIELD_EXTENDS:
                break;
        }
        return NULL;
}

/* *ret: the field as JSON, or NULL for a section with nothing set. */
static int field_to_json(const struct profile *p, const struct field *f, json_t **ret)
{
        if (f->kind == FIELD_SECTION)
                return fields_to_json(p, f->members, ret);
        *ret = value_to_json(p, f);
        return *ret ? 0 : -ENOMEM;
}

/* *ret: an object of the members that are set, or NULL when none is. */
static int fields_to_json(const struct profile *p, const struct field *fields, json_t **ret)
{
        json_t *obj = json_object();

        if (!obj)
                return -ENOMEM;
        for (const struct field *f = fields; f->key; f++) {
                json_t *value = NULL;
                int r = field_is_set(p, f) ? field_to_json(p, f, &value) : 0;

                if (r == 0 && value && json_object_set_new(obj, f->key, value) < 0)
                        r = -ENOMEM;
                if (r < 0) {
                        json_decref(obj);
                        return r;
                }
        }
        if (json_object_size(obj) == 0) {
                json_decref(obj);
                obj = NULL;
        }
        *ret = obj;
        return 0;
}

int profile_write_json(const struct profile *p, FILE *out)
{
        json_t *root;
        int r = fields_to_json(p, profile_fields, &root);

        if (r < 0)
                return r;
        if (!root)
                root = json_object();
        if (!root)
                return -ENOMEM;
        r = json_dumpf(root, out, JSON_INDENT(2));
        json_decref(root);
        if (r < 0 || fputc('\n', out) == EOF)
                return nono_error(-EIO, "cannot write the profile: %s", strerror(errno));
        return 0;
}
