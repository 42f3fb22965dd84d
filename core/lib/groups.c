/* SPDX-License-Identifier: Apache-2.0 */
#include "groups.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "jsonc.h"
#include "layout.h"
#include "paths.h"

static int valid_group_name(const char *s)
{
        if (!*s)
                return 0;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
                        return 0;
        return 1;
}

/* Group paths must not depend on the working directory. */
static int check_paths_absolute(const struct jsonc_path *p, const struct strv *paths)
{
        for (size_t i = 0; i < paths->n; i++) {
                char c = paths->items[i][0];

                if (c != '/' && c != '~' && c != '$')
                        return jsonc_path_error(p,
                                                "\"%s\": path \"%s\" must be absolute or start "
                                                "with ~ or a variable",
                                                jsonc_path_dotted(p), paths->items[i]);
        }
        return 0;
}

static int parse_path_list(const struct jsonc_path *p, const json_t *value, struct strv *out)
{
        int r = jsonc_get_strings(p, value, out);

        return r < 0 ? r : check_paths_absolute(p, out);
}

static struct strv *allow_list(struct group *g, const char *mode)
{
        if (strcmp(mode, "read") == 0)
                return &g->read;
        if (strcmp(mode, "write") == 0)
                return &g->write;
        if (strcmp(mode, "readwrite") == 0)
                return &g->readwrite;
        return NULL;
}

static int parse_allow(struct jsonc_path *p, json_t *allow, struct group *g)
{
        const char *mode;
        json_t *value;

        if (!json_is_object(allow))
                return jsonc_path_error(p, "\"%s\" must be an object", jsonc_path_dotted(p));
        json_object_foreach(allow, mode, value)
        {
                struct strv *list = allow_list(g, mode);
                int r = jsonc_path_push(p, mode);

                if (r < 0)
                        return r;
                if (!list)
                        return jsonc_path_error(p, "unknown key \"%s\"", jsonc_path_dotted(p));
                r = parse_path_list(p, value, list);
                if (r < 0)
                        return r;
                jsonc_path_pop(p);
        }
        return 0;
}

static int parse_platform(const struct jsonc_path *p, const json_t *value, struct group *g)
{
        const char *s = json_string_value(value);

        if (!s || (strcmp(s, "linux") != 0 && strcmp(s, "macos") != 0))
                return jsonc_path_error(p, "\"%s\" must be \"linux\" or \"macos\"",
                                        jsonc_path_dotted(p));
        return jsonc_get_string(p, value, &g->platform);
}

static int parse_member(struct jsonc_path *p, const char *key, json_t *value, struct group *g)
{
        if (strcmp(key, "description") == 0)
                return jsonc_get_string(p, value, &g->description);
        if (strcmp(key, "platform") == 0)
                return parse_platform(p, value, g);
        if (strcmp(key, "required") == 0)
                return jsonc_get_bool(p, value, &g->required);
        if (strcmp(key, "allow") == 0)
                return parse_allow(p, value, g);
        if (strcmp(key, "deny") == 0)
                return parse_path_list(p, value, &g->deny);
        return jsonc_path_error(p, "unknown key \"%s\"", jsonc_path_dotted(p));
}

static int parse_group(struct jsonc_path *p, const char *name, json_t *obj, struct group *g)
{
        const char *key;
        json_t *value;

        if (!valid_group_name(name))
                return jsonc_path_error(p, "bad group name \"%s\": use a-z, 0-9 and _", name);
        if (!json_is_object(obj))
                return jsonc_path_error(p, "\"%s\" must be an object", jsonc_path_dotted(p));
        g->name = nono_strdup(name);
        if (!g->name)
                return -ENOMEM;
        json_object_foreach(obj, key, value)
        {
                int r = jsonc_path_push(p, key);

                if (r < 0)
                        return r;
                r = parse_member(p, key, value, g);
                if (r < 0)
                        return r;
                jsonc_path_pop(p);
        }
        /* Groups exist to be audited: each says what it is for. */
        if (!g->description)
                return jsonc_path_error(p, "\"%s\" needs a description", jsonc_path_dotted(p));
        return 0;
}

static int parse_groups(struct jsonc_path *p, json_t *obj, struct groups *ret)
{
        const char *name;
        json_t *value;

        if (!json_is_object(obj))
                return jsonc_path_error(p, "\"%s\" must be an object", jsonc_path_dotted(p));
        ret->items = calloc(json_object_size(obj) + 1, sizeof(*ret->items));
        if (!ret->items)
                return -ENOMEM;
        json_object_foreach(obj, name, value)
        {
                int r = jsonc_path_push(p, name);

                if (r < 0)
                        return r;
                /* Counted before parsing so that groups_free releases a half-built one. */
                r = parse_group(p, name, value, &ret->items[ret->n++]);
                if (r < 0)
                        return r;
                jsonc_path_pop(p);
        }
        return 0;
}

static int parse_root(const struct jsonc_doc *doc, struct groups *ret)
{
        struct jsonc_path p;
        const char *key;
        json_t *value;

        jsonc_path_init(&p, doc);
        if (!json_is_object(doc->root))
                return jsonc_path_error(&p, "the top level must be an object");
        json_object_foreach(doc->root, key, value)
        {
                int r = jsonc_path_push(&p, key);

                if (r < 0)
                        return r;
                if (strcmp(key, "groups") == 0)
                        r = parse_groups(&p, value, ret);
                else if (strcmp(key, "$schema") != 0)
                        r = jsonc_path_error(&p, "unknown key \"%s\"", jsonc_path_dotted(&p));
                if (r < 0)
                        return r;
                jsonc_path_pop(&p);
        }
        return 0;
}

int groups_load(const char *path, struct groups *ret)
{
        struct jsonc_doc doc;
        int r;

        memset(ret, 0, sizeof(*ret));
        r = jsonc_load_file(path, &doc);
        if (r == 0) {
                r = parse_root(&doc, ret);
                jsonc_doc_free(&doc);
        }
        if (r < 0) {
                groups_free(ret);
                return nono_error_prefix(r, "cannot read groups file %s: ", path);
        }
        return 0;
}

static void group_free(struct group *g)
{
        free(g->name);
        free(g->description);
        free(g->platform);
        strv_free(&g->read);
        strv_free(&g->write);
        strv_free(&g->readwrite);
        strv_free(&g->deny);
}

void groups_free(struct groups *g)
{
        for (size_t i = 0; i < g->n; i++)
                group_free(&g->items[i]);
        free(g->items);
        g->items = NULL;
        g->n = 0;
}

const struct group *groups_find(const struct groups *g, const char *name)
{
        for (size_t i = 0; i < g->n; i++)
                if (strcmp(g->items[i].name, name) == 0)
                        return &g->items[i];
        return NULL;
}

int group_applies(const struct group *grp)
{
#if defined(__linux__)
        const char *here = "linux";
#elif defined(__APPLE__)
        const char *here = "macos";
#else
        const char *here = "";
#endif
        return !grp->platform || strcmp(grp->platform, here) == 0;
}

static int grant_list(struct plan *plan, const struct vars *vars, const struct strv *list,
                      uint32_t access, const char *origin)
{
        for (size_t i = 0; i < list->n; i++) {
                /* paths_grant skips quietly a group path missing on this machine. */
                int r = paths_grant(plan, vars, list->items[i], access, 0, origin);

                if (r < 0)
                        return r;
        }
        return 0;
}

static int apply_lists(const struct group *grp, const struct vars *vars, struct plan *plan,
                       const char *origin)
{
        int r = grant_list(plan, vars, &grp->read, NONO_ACCESS_READ, origin);

        if (r == 0)
                r = grant_list(plan, vars, &grp->write, NONO_ACCESS_WRITE, origin);
        if (r == 0)
                r = grant_list(plan, vars, &grp->readwrite, NONO_ACCESS_READWRITE, origin);
        for (size_t i = 0; r == 0 && i < grp->deny.n; i++)
                r = paths_deny(plan, vars, grp->deny.items[i], origin);
        return r;
}

int group_apply(const struct group *grp, const struct vars *vars, struct plan *plan)
{
        char *origin = nono_asprintf("group %s", grp->name);
        int r;

        if (!origin)
                return -ENOMEM;
        r = apply_lists(grp, vars, plan, origin);
        free(origin);
        return r;
}

int groups_load_builtin(struct groups *ret)
{
        char *path = nono_path_join(layout_get()->profile_dir, "groups.json");
        int r;

        if (!path)
                return -ENOMEM;
        r = groups_load(path, ret);
        free(path);
        return r;
}
