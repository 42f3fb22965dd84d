/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Profiles: JSON files (comments allowed) in nono's schema, see docs/profiles.md.
 * Loading resolves `extends` (several bases, depth limit, cycle error) into one merged
 * profile: lists concatenate base-first, scalars set by a derived profile win.
 *
 * Lookup of a name: a path (contains '/' or ends in .json) -> the user's
 * ~/.config/nono/profiles/NAME.json -> the built-in profiles directory.
 */
#ifndef NONO_CORE_PROFILE_H
#define NONO_CORE_PROFILE_H

#include <stdint.h>
#include <stdio.h>

#include "groups.h"
#include "reslimits.h"
#include "plan.h"
#include "strv.h"
#include "vars.h"

#define PROFILE_EXTENDS_MAX_DEPTH 8

/* Integers that a profile may leave unset. */
#define PROFILE_UNSET (-1)

struct profile {
        char *name;                /* meta.name, else the file's base name */
        char *version;             /* meta.version */
        char *description;         /* meta.description */
        char *author;              /* meta.author */
        char *path;                /* the file it was read from */
        struct strv extends_chain; /* names of every profile merged, base first */

        struct strv groups_include, groups_exclude;

        struct {
                struct strv allow, read, write;
                struct strv allow_file, read_file, write_file;
                struct strv deny, bypass_protection;
                struct strv allow_unix_socket; /* sockets the child may connect to */
                int allow_unix_datagrams;      /* PROFILE_UNSET, 0 or 1: AF_UNIX SOCK_DGRAM */
                int share_tmp;                 /* PROFILE_UNSET, 0 or 1: the host's /tmp */
        } fs;

        struct {
                int block; /* PROFILE_UNSET, 0 or 1 */
                char *network_profile;
                struct strv allow_domain; /* allow_domain and allow_hosts, merged */
                struct strv credentials;
                char *custom_credentials_json; /* kept as JSON text for the network issue */
                struct strv open_port, listen_port, connect_port; /* decimal strings */
                char *upstream_proxy;
        } net;

        struct {
                struct strv allow_vars, deny_vars, set_vars; /* set_vars as NAME=value */
        } env;

        /* workdir.access: 0 unset, else NONO_ACCESS_* or PROFILE_WORKDIR_NONE */
        uint32_t workdir_access;
        int interactive; /* PROFILE_UNSET, 0 or 1 */

        struct limits limits; /* LIMIT_UNSET (== PROFILE_UNSET) or a positive count */

        struct {
                struct strv exclude_patterns, exclude_globs;
        } rollback;
};

#define PROFILE_WORKDIR_NONE 0x80u

void profile_init(struct profile *p);
void profile_free(struct profile *p);

/*
 * Finds and loads the profile `name_or_path` with everything it extends.
 * `builtin_dir` is the built-in profiles directory; `user_dir` the user's
 * (~/.config/nono/profiles), may be NULL.  Errors name the file and, for JSON or
 * schema errors, the line: "cannot read profile ./p.json: line 4: unknown key
 * \"filesytem\"".
 */
int profile_load(const char *name_or_path, const char *builtin_dir, const char *user_dir,
                 struct profile *ret);

/*
 * Finds the file of profile `name_or_path` by the lookup order above; *ret_path is
 * malloc'ed.  Unknown profile: "unknown profile \"x\" (looked in ...)".
 */
int profile_find(const char *name_or_path, const char *builtin_dir, const char *user_dir,
                 char **ret_path);

/* Parses one file, without following `extends` (they are listed in extends_chain). */
int profile_parse_file(const char *path, struct profile *ret);

/* Merges `derived` onto `base` in place (base becomes the result). */
int profile_merge(struct profile *base, const struct profile *derived);

/*
 * Adds the profile's groups, paths, denies, network and environment rules to the
 * plan.  Group names are checked against `groups` (unknown group: error).
 */
int profile_apply(const struct profile *prof, const struct groups *groups, const struct vars *vars,
                  struct plan *plan);

/* Lists the profile names found in the user and built-in directories. */
int profile_list(const char *builtin_dir, const char *user_dir, struct strv *ret_names);

/* Writes the merged profile as canonical JSON (nono profiles export). */
int profile_write_json(const struct profile *p, FILE *out);

#endif
