/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `nono credential set|get|delete|list`: manage the entries of credential sources.
 * Secrets come from standard input, never from the command line, and are never
 * printed: `get` only says where a credential is and how long it is.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "config.h"
#include "credentials.h"
#include "error.h"
#include "loader.h"

static void usage(FILE *out)
{
        fprintf(out, "usage: nono credential set NAME [--source SOURCE]\n"
                     "       nono credential get NAME\n"
                     "       nono credential delete NAME [--source SOURCE]\n"
                     "       nono credential list [--source SOURCE] [--json]\n"
                     "\n"
                     "NAME is a bare name, looked up in the sources of nono.conf's\n"
                     "credential_sources in order (default: env, libsecret), or SOURCE://NAME\n"
                     "(env://OPENAI_API_KEY, libsecret://openai).\n"
                     "\n"
                     "  set     store the secret read from standard input (on a terminal: a\n"
                     "          prompt without echo) in SOURCE, else in the first configured\n"
                     "          source that can store; one trailing newline is removed\n"
                     "  get     say which source holds NAME and the secret's length (never the\n"
                     "          secret); exit 1 when no source holds it\n"
                     "  delete  remove NAME from SOURCE (default: as for set)\n"
                     "  list    the names the sources hold (never the secrets)\n"
                     "\n"
                     "  --source SOURCE  a credential plugin (env, libsecret, ...)\n"
                     "  --json           list as JSON\n"
                     "  -h, --help       show this help\n");
}

struct args {
        const char *name;
        const char *source;
        int json;
};

/* What each subcommand accepts. */
struct syntax {
        const char *command;
        int takes_name;
        int takes_source;
        int takes_json;
};

static int usage_error(const char *command, const char *what, const char *arg)
{
        return nono_error(-EINVAL, "credential %s: %s \"%s\" (see nono credential --help)", command,
                          what, arg);
}

/* 0, 1 when --help was shown, or a negative errno. */
static int parse_args(int argc, char **argv, const struct syntax *syn, struct args *a)
{
        *a = (struct args){0};
        for (int i = 1; i < argc; i++) {
                const char *arg = argv[i];

                if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
                        usage(stdout);
                        return 1;
                } else if (syn->takes_json && strcmp(arg, "--json") == 0) {
                        a->json = 1;
                } else if (syn->takes_source && strncmp(arg, "--source=", 9) == 0) {
                        a->source = arg + 9;
                } else if (syn->takes_source && strcmp(arg, "--source") == 0) {
                        if (i + 1 == argc)
                                return nono_error(-EINVAL, "credential %s: --source needs a value",
                                                  syn->command);
                        a->source = argv[++i];
                } else if (arg[0] == '-' && arg[1] != '\0') {
                        return usage_error(syn->command, "unknown option", arg);
                } else if (syn->takes_name && !a->name) {
                        a->name = arg;
                } else {
                        return usage_error(syn->command, "unexpected argument", arg);
                }
        }
        if (syn->takes_name && !a->name)
                return nono_error(-EINVAL,
                                  "credential %s: missing NAME (see nono credential --help)",
                                  syn->command);
        return 0;
}

/* ---- subcommands ---------------------------------------------------------------------- */

static int do_set(struct plugin_registry *reg, const struct host_config *cfg, const struct args *a)
{
        struct credential_ref ref;
        const char *source;
        char *secret;
        size_t len;
        int r = credential_parse_ref(a->name, &ref);

        /* A bad name is refused before the user types the secret. */
        if (r >= 0)
                r = credential_read_secret(STDIN_FILENO, a->name, &secret, &len);
        if (r < 0)
                return r;
        r = credential_store(reg, cfg, a->source, a->name, secret, len, &source);
        credential_free(secret);
        if (r >= 0)
                printf("%s: stored in %s\n", a->name, source);
        return r;
}

static int do_get(struct plugin_registry *reg, const struct host_config *cfg, const struct args *a)
{
        const char *source;
        char *secret;
        size_t len;
        int r = credential_resolve(reg, cfg, a->name, &secret, &len, &source);

        if (r < 0)
                return r;
        credential_free(secret);
        printf("%s: found in %s (%zu bytes)\n", a->name, source, len);
        return 0;
}

static int do_delete(struct plugin_registry *reg, const struct host_config *cfg,
                     const struct args *a)
{
        const char *source;
        int r = credential_remove(reg, cfg, a->source, a->name, &source);

        if (r >= 0)
                printf("%s: deleted from %s\n", a->name, source);
        return r;
}

static int collect_entry(const char *source, const char *name, void *userdata)
{
        json_t *entry = json_pack("{s:s, s:s}", "source", source, "name", name);

        if (!entry || json_array_append_new(userdata, entry) < 0)
                return nono_error(-ENOMEM, "out of memory");
        return 0;
}

static const char *entry_field(json_t *entry, const char *key)
{
        return json_string_value(json_object_get(entry, key));
}

static void print_table(json_t *entries)
{
        int width = (int)strlen("SOURCE");
        size_t i;
        json_t *e;

        json_array_foreach(entries, i, e) if ((int)strlen(entry_field(e, "source")) > width) width =
            (int)strlen(entry_field(e, "source"));
        printf("%-*s  %s\n", width, "SOURCE", "NAME");
        json_array_foreach(entries, i, e)
            printf("%-*s  %s\n", width, entry_field(e, "source"), entry_field(e, "name"));
}

static int print_json(json_t *entries)
{
        json_t *root = json_pack("{s:O}", "credentials", entries);
        int ok = root && json_dumpf(root, stdout, JSON_INDENT(2)) == 0;

        json_decref(root);
        if (!ok)
                return nono_error(-ENOMEM, "cannot write the credential list");
        putchar('\n');
        return 0;
}

static int do_list(struct plugin_registry *reg, const struct host_config *cfg, const struct args *a)
{
        json_t *entries = json_array();
        int r;

        if (!entries)
                return nono_error(-ENOMEM, "out of memory");
        r = credential_list(reg, cfg, a->source, collect_entry, entries);
        if (r >= 0 && a->json)
                r = print_json(entries);
        else if (r >= 0)
                print_table(entries);
        json_decref(entries);
        return r;
}

/* ---- dispatch -------------------------------------------------------------------------- */

struct subcommand {
        struct syntax syntax;
        int (*fn)(struct plugin_registry *reg, const struct host_config *cfg, const struct args *a);
};

static const struct subcommand subcommands[] = {
    {{"set", 1, 1, 0}, do_set},
    {{"get", 1, 0, 0}, do_get},
    {{"delete", 1, 1, 0}, do_delete},
    {{"list", 0, 1, 1}, do_list},
};

static int run_subcommand(const struct subcommand *sub, int argc, char **argv)
{
        struct plugin_registry reg;
        struct host_config config;
        struct args a;
        int r = parse_args(argc, argv, &sub->syntax, &a);

        if (r != 0)
                return r > 0 ? 0 : cli_fail();
        if (host_config_load(&config) < 0)
                return cli_fail();
        plugin_registry_init(&reg, NULL, &config);
        r = sub->fn(&reg, &config, &a);
        if (r < 0)
                cli_fail();
        plugin_registry_free(&reg);
        host_config_free(&config);
        return r < 0 ? 1 : 0;
}

int cmd_credential(int argc, char **argv)
{
        if (argc < 2) {
                usage(stderr);
                return 1;
        }
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
                usage(stdout);
                return 0;
        }
        for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
                if (strcmp(argv[1], subcommands[i].syntax.command) == 0)
                        return run_subcommand(&subcommands[i], argc - 1, argv + 1);
        nono_error(-EINVAL, "unknown credential command \"%s\" (see nono credential --help)",
                   argv[1]);
        return cli_fail();
}
