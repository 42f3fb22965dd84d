/* SPDX-License-Identifier: Apache-2.0 */
/* `nono plugins list [--json]`: what the plugin directory holds, and what nono refuses. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "config.h"
#include "error.h"
#include "loader.h"

static void usage(FILE *out)
{
        fprintf(out, "usage: nono plugins list [--json]\n"
                     "\n"
                     "Loads every nono-<kind>-<name>.so of the plugin directory (nono.conf's\n"
                     "plugin_dir, else the built-in one) and lists them; each file nono\n"
                     "refuses to load is reported with the reason.  Exits 1 when a file is\n"
                     "refused or the directory is unusable.\n"
                     "\n"
                     "  --json      print a JSON object instead of a table\n"
                     "  -h, --help  show this help\n");
}

/* Refusals go to stderr as they happen; with --json they are also collected. */
static void on_refused(const char *file, const char *msg, void *userdata)
{
        json_t *refused = userdata;

        fprintf(stderr, "nono: refused %s: %s\n", file, msg);
        if (refused)
                json_array_append_new(refused,
                                      json_pack("{s:s, s:s}", "file", file, "message", msg));
}

static const char *file_of(const struct plugin *pl)
{
        return pl->path ? pl->path : "(built in)";
}

static const char *or_empty(const char *s)
{
        return s ? s : "";
}

static int column_width(const struct plugin *head, const char *title,
                        const char *(*field)(const struct plugin *))
{
        size_t w = strlen(title);

        for (const struct plugin *pl = head; pl; pl = pl->next)
                if (strlen(field(pl)) > w)
                        w = strlen(field(pl));
        return (int)w;
}

static const char *kind_of(const struct plugin *pl)
{
        return plugin_kind_name(pl->kind);
}

static const char *name_of(const struct plugin *pl)
{
        return pl->name;
}

static const char *version_of(const struct plugin *pl)
{
        return or_empty(pl->desc.version);
}

static void print_table(const struct plugin_registry *r)
{
        int wk = column_width(r->head, "KIND", kind_of);
        int wn = column_width(r->head, "NAME", name_of);
        int wv = column_width(r->head, "VERSION", version_of);

        printf("%-*s  %-*s  %-*s  %-4s  %s\n", wk, "KIND", wn, "NAME", wv, "VERSION", "ABI",
               "FILE");
        for (const struct plugin *pl = r->head; pl; pl = pl->next)
                printf("%-*s  %-*s  %-*s  %u.%-2u  %s\n", wk, kind_of(pl), wn, name_of(pl), wv,
                       version_of(pl), pl->desc.abi_major, pl->desc.abi_minor, file_of(pl));
}

static json_t *plugin_json(const struct plugin *pl)
{
        char abi[16];

        snprintf(abi, sizeof(abi), "%u.%u", pl->desc.abi_major, pl->desc.abi_minor);
        return json_pack("{s:s, s:s, s:s?, s:s?, s:s, s:s?, s:b}", "kind", kind_of(pl), "name",
                         pl->name, "version", pl->desc.version, "description", pl->desc.description,
                         "abi", abi, "file", pl->path, "required",
                         (pl->desc.flags & NONO_PLUGIN_FLAG_REQUIRED) != 0);
}

static int print_json(const struct plugin_registry *r, json_t *refused)
{
        json_t *plugins = json_array();
        json_t *root;
        int ok;

        for (const struct plugin *pl = r->head; pl; pl = pl->next)
                json_array_append_new(plugins, plugin_json(pl));
        root = json_pack("{s:s, s:o, s:O}", "plugin_dir", r->dir, "plugins", plugins, "refused",
                         refused);
        ok = root && json_dumpf(root, stdout, JSON_INDENT(2)) == 0;
        json_decref(root);
        if (!ok)
                return nono_error(-ENOMEM, "cannot write the plugin list");
        putchar('\n');
        return 0;
}

static int list_plugins(int as_json)
{
        json_t *refused = as_json ? json_array() : NULL;
        struct plugin_registry reg;
        struct host_config config;
        int n;

        if (host_config_load(&config) < 0)
                return cli_fail();
        plugin_registry_init(&reg, NULL, &config);
        n = plugin_load_all(&reg, on_refused, refused);
        if (n >= 0 && as_json && print_json(&reg, refused) < 0)
                n = -ENOMEM;
        else if (n >= 0 && !as_json)
                print_table(&reg);
        if (n < 0)
                cli_fail();
        plugin_registry_free(&reg);
        host_config_free(&config);
        json_decref(refused);
        return n == 0 ? 0 : 1;
}

static int list_main(int argc, char **argv)
{
        int as_json = 0;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--json") == 0) {
                        as_json = 1;
                } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
                        usage(stdout);
                        return 0;
                } else {
                        nono_error(-EINVAL,
                                   "plugins list: unknown argument \"%s\" (see nono "
                                   "plugins --help)",
                                   argv[i]);
                        return cli_fail();
                }
        }
        return list_plugins(as_json);
}

int cmd_plugins(int argc, char **argv)
{
        if (argc < 2) {
                usage(stderr);
                return 1;
        }
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
                usage(stdout);
                return 0;
        }
        if (strcmp(argv[1], "list") == 0)
                return list_main(argc - 1, argv + 1);
        nono_error(-EINVAL, "unknown plugins command \"%s\" (see nono plugins --help)", argv[1]);
        return cli_fail();
}
