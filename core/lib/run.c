/* SPDX-License-Identifier: Apache-2.0 */
#include "run.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "childenv.h"
#include "config.h"
#include "audit.h"
#include "credentials.h"
#include "diagnostics.h"
#include "error.h"
#include "groups.h"
#include "hardlinks.h"
#include "hygiene.h"
#include "kaudit.h"
#include "layout.h"
#include "loader.h"
#include "network.h"
#include "paths.h"
#include "persistwatch.h"
#include "planfd.h"
#include "progress.h"
#include "runlog.h"
#include "snapshot.h"
#include "supervisor.h"
#include "unixmed.h"
#include "vars.h"

extern char **environ;

#define DEFAULT_ENFORCER "landlock"
#define DEFAULT_PROFILE  "default"

void run_request_init(struct run_request *req)
{
        memset(req, 0, sizeof(*req));
        limits_init(&req->limits);
}

void run_request_free(struct run_request *req)
{
        strv_free(&req->allow);
        strv_free(&req->read);
        strv_free(&req->write);
        strv_free(&req->allow_file);
        strv_free(&req->read_file);
        strv_free(&req->write_file);
        strv_free(&req->allow_env);
        strv_free(&req->allow_persistence);
        strv_free(&req->allow_unix_socket);
        net_request_free(&req->net);
        strv_free(&req->rollback_exclude);
        run_request_init(req);
}

/* ---- plan building ---------------------------------------------------------------- */

static int resolve_workdir(const struct run_request *req, char **ret)
{
        char buf[PATH_MAX];
        const char *dir = req->workdir;

        if (!dir) {
                if (!getcwd(buf, sizeof(buf)))
                        return nono_error(-errno, "cannot determine the current directory: %s",
                                          strerror(errno));
                dir = buf;
        }
        if (!realpath(dir, buf))
                return nono_error(-errno, "cannot use working directory %s: %s", dir,
                                  strerror(errno));
        *ret = nono_strdup(buf);
        return *ret ? 0 : -ENOMEM;
}

static char *user_profile_dir(const struct vars *v)
{
        return nono_path_join(v->xdg_config_home, "nono/profiles");
}

/* Every run starts from the default profile; a named profile is merged on top. */
static int load_profile(const struct run_request *req, const struct vars *v, struct profile *ret)
{
        const struct layout *lay = layout_get();
        char *user_dir = user_profile_dir(v);
        struct profile chosen;
        int r;

        if (!user_dir)
                return -ENOMEM;
        r = profile_load(DEFAULT_PROFILE, lay->profile_dir, user_dir, ret);
        if (r >= 0 && req->profile && strcmp(req->profile, DEFAULT_PROFILE) != 0) {
                profile_init(&chosen);
                r = profile_load(req->profile, lay->profile_dir, user_dir, &chosen);
                if (r >= 0)
                        r = profile_merge(ret, &chosen);
                profile_free(&chosen);
        }
        free(user_dir);
        return r;
}

static int grant_list(struct plan *p, const struct vars *v, const struct strv *paths,
                      uint32_t access, int want_file, const char *flag)
{
        for (size_t i = 0; i < paths->n; i++) {
                int r = paths_grant(p, v, paths->items[i], access, want_file, flag);

                if (r < 0)
                        return r;
        }
        return 0;
}

static int apply_flags(const struct run_request *req, const struct vars *v, struct plan *p)
{
        int r = 0;

        if (r >= 0)
                r = grant_list(p, v, &req->allow, NONO_ACCESS_READWRITE, 0, "--allow");
        if (r >= 0)
                r = grant_list(p, v, &req->read, NONO_ACCESS_READ, 0, "--read");
        if (r >= 0)
                r = grant_list(p, v, &req->write, NONO_ACCESS_WRITE, 0, "--write");
        if (r >= 0)
                r = grant_list(p, v, &req->allow_file, NONO_ACCESS_READWRITE, 1, "--allow-file");
        if (r >= 0)
                r = grant_list(p, v, &req->read_file, NONO_ACCESS_READ, 1, "--read-file");
        if (r >= 0)
                r = grant_list(p, v, &req->write_file, NONO_ACCESS_WRITE, 1, "--write-file");
        for (size_t i = 0; r >= 0 && i < req->allow_unix_socket.n; i++)
                r = paths_unix_socket(p, v, req->allow_unix_socket.items[i]);
        return r;
}

/* The workdir is granted only when asked (--allow-cwd), at the profile's level. */
static int grant_workdir(const struct run_request *req, const struct profile *prof, struct plan *p)
{
        uint32_t access = NONO_ACCESS_READWRITE;

        if (!req->allow_cwd) {
                if (prof->workdir_access && prof->workdir_access != PROFILE_WORKDIR_NONE)
                        nono_info("the working directory is not granted; pass --allow-cwd");
                return 0;
        }
        if (prof->workdir_access && prof->workdir_access != PROFILE_WORKDIR_NONE)
                access = prof->workdir_access;
        return plan_add_grant(p, p->workdir, access, 0, "--allow-cwd");
}

/*
 * Files and directories that make a later, unsandboxed program run what the agent
 * wrote: git hooks and config, shell startup files, editor and agent settings.
 * Inside a writable grant they stay read-only unless --allow-persistence names them.
 */
static const char *const persistence_names[] = {
    ".git/hooks",
    ".git/config",
    ".git/commondir", /* points git at another config and hooks directory */
    ".git/config.worktree",
    ".git/modules", /* submodules' own config and hooks */
    ".gitmodules",
    ".gitconfig",
    ".bashrc",
    ".bash_profile",
    ".bash_login",
    ".profile",
    ".zshrc",
    ".zprofile",
    ".zshenv",
    ".envrc",
    ".ripgreprc",
    ".mcp.json",
    ".vscode",
    ".idea",
    ".claude/commands",
    ".claude/agents",
    ".claude/settings.json",
    ".codex",
    ".cursor",
};

static int is_denied(const struct plan *p, const char *path)
{
        for (size_t i = 0; i < p->n_denies; i++)
                if (path_is_within(path, p->denies[i]->path))
                        return 1;
        return 0;
}

/*
 * An existing persistence path is held read-only by a bind mount; one that does not
 * exist yet cannot be (nothing to mount over), so it is watched and moved aside if the
 * run creates it (persistwatch.h).  Lifted (--allow-persistence) and protected paths
 * are left alone.
 */
static int add_persistence_path(struct plan *p, const char *path, const struct strv *allowed)
{
        struct stat st;

        if (strv_contains(allowed, path) || is_denied(p, path) ||
            strv_contains(&p->readonly_paths, path) || strv_contains(&p->persistence_watch, path))
                return 0;
        if (lstat(path, &st) == 0)
                return strv_push(&p->readonly_paths, path);
        return strv_push(&p->persistence_watch, path);
}

static int add_persistence_under(struct plan *p, const char *dir, const struct strv *allowed)
{
        int r = 0;

        for (size_t i = 0; r >= 0 && i < sizeof(persistence_names) / sizeof(persistence_names[0]);
             i++) {
                char *path = nono_path_join(dir, persistence_names[i]);

                if (!path)
                        return -ENOMEM;
                r = add_persistence_path(p, path, allowed);
                free(path);
        }
        return r;
}

/* The user's own write grants (the workspace, --allow): the system groups' ones (/tmp,
 * /dev/shm) hold nothing a later program would run. */
static int is_user_write_dir(const struct nono_grant *g)
{
        return (g->access & NONO_ACCESS_WRITE) && !(g->flags & NONO_GRANT_FILE) &&
               !plan_origin_is_group(g->origin);
}

static int add_persistence_paths(const struct run_request *req, const struct vars *v,
                                 struct plan *p)
{
        struct strv allowed = STRV_INIT;
        int r = 0;

        for (size_t i = 0; r >= 0 && i < req->allow_persistence.n; i++) {
                char *resolved = NULL;

                r = paths_resolve_raw(v, req->allow_persistence.items[i], &resolved);
                if (r >= 0)
                        r = strv_push_owned(&allowed, resolved);
        }
        for (size_t i = 0; r >= 0 && i < p->n_grants; i++)
                if (is_user_write_dir(p->grants[i]))
                        r = add_persistence_under(p, p->grants[i]->path, &allowed);
        strv_free(&allowed);
        return r;
}

int run_protect_own_state(const struct vars *v, struct plan *p)
{
        int r = paths_deny(p, v, "$XDG_CONFIG_HOME/nono", "nono's configuration");

        if (r >= 0)
                r = paths_deny(p, v, "$XDG_STATE_HOME/nono", "nono's state");
        return r;
}

int run_build_plan(const struct run_request *req, struct plan *ret, struct profile *ret_profile)
{
        struct profile prof;
        struct groups groups = {0};
        struct vars v;
        int r;

        plan_init(ret);
        profile_init(&prof);
        memset(&v, 0, sizeof(v));
        paths_forget();
        r = resolve_workdir(req, &ret->workdir);
        if (r >= 0)
                r = vars_init(&v, ret->workdir);
        if (r >= 0)
                r = load_profile(req, &v, &prof);
        if (r >= 0)
                r = groups_load_builtin(&groups);
        if (r >= 0) {
                ret->profile_name = nono_strdup(req->profile ? req->profile : DEFAULT_PROFILE);
                r = ret->profile_name ? profile_apply(&prof, &groups, &v, ret) : -ENOMEM;
        }
        if (r >= 0)
                r = apply_flags(req, &v, ret);
        if (r >= 0)
                r = netplan_apply(&req->net, &prof, ret);
        if (r >= 0)
                r = grant_workdir(req, &prof, ret);
        if (r >= 0)
                r = strv_extend(&ret->env_allow, &req->allow_env);
        if (r >= 0)
                r = run_protect_own_state(&v, ret);
        if (r >= 0)
                r = add_persistence_paths(req, &v, ret);
        /* Whether a grant may contain a protected path depends on the enforcer (see
         * check_enforceable); a grant inside one is wrong everywhere. */
        if (r >= 0)
                r = plan_check_protected(ret, 1);
        if (req->best_effort)
                ret->flags |= NONO_PLAN_BEST_EFFORT;
        if (req->share_tmp)
                ret->flags |= NONO_PLAN_SHARE_TMP;
        if (req->allow_unix_datagrams)
                ret->allow_unix_datagrams = 1;
        limits_override(&ret->limits, &req->limits);
        groups_free(&groups);
        vars_free(&v);
        if (r >= 0 && ret_profile)
                *ret_profile = prof;
        else
                profile_free(&prof);
        if (r < 0)
                plan_free(ret);
        return r;
}

/* ---- command resolution ----------------------------------------------------------- */

static int check_executable(const char *path)
{
        struct stat st;

        if (stat(path, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EACCES;
        return access(path, X_OK) < 0 ? -errno : 0;
}

/* Finds the command as execvp would, so that a typo is reported before anything runs. */
static int resolve_command(const char *name, char **ret)
{
        const char *path_env = getenv("PATH");
        const char *p, *end;
        int r, last = -ENOENT;

        if (strchr(name, '/')) {
                r = check_executable(name);
                if (r < 0)
                        return nono_error(r, "cannot execute %s: %s", name, strerror(-r));
                *ret = nono_strdup(name);
                return *ret ? 0 : -ENOMEM;
        }
        if (!path_env)
                path_env = "/usr/local/bin:/usr/bin:/bin";
        for (p = path_env; *p; p = *end ? end + 1 : end) {
                char *candidate;

                end = strchrnul(p, ':');
                candidate = nono_asprintf("%.*s/%s", (int)(end - p), end == p ? "." : p, name);
                if (!candidate)
                        return -ENOMEM;
                r = check_executable(candidate);
                if (r == 0) {
                        *ret = candidate;
                        return 0;
                }
                if (r == -EACCES)
                        last = r;
                free(candidate);
        }
        if (last == -EACCES)
                return nono_error(last, "cannot execute %s: permission denied", name);
        return nono_error(-ENOENT, "command not found: %s", name);
}

/* ---- environment ------------------------------------------------------------------ */

static int build_child_env(const struct plan *p, struct strv *ret)
{
        struct strv removed = STRV_INIT;
        int r = childenv_build(p, environ, ret, &removed);

        /* Names only: the values may be the very secrets being kept out. */
        for (size_t i = 0; r >= 0 && i < removed.n; i++)
                nono_info("environment: %s removed (use --allow-env %s to pass it)",
                          removed.items[i], removed.items[i]);
        strv_free(&removed);
        return r;
}

/* ---- plugins ---------------------------------------------------------------------- */

struct session {
        struct host_config config;
        struct plugin_registry registry;
        struct plan plan;
        struct plugin *enforcer;
        uint32_t enforcer_caps; /* NONO_ENFORCER_CAP_* from probe */
        void *prepared;
        struct network_session net;
        struct unixmed *unix_mediator; /* wrap: served by a process of its own */
        struct persist_watch *persist; /* run only: missing persistence paths */
        struct kaudit *kaudit;         /* run only: Landlock's denials, for the report */
        struct limits_cgroup cgroup;   /* run as root with max_processes: pids.max */
        char *exec_path;
        struct strv env;
        json_t *plan_json;            /* what the child may read (planfd) and the audit log */
        int plan_fd;                  /* the sealed plan for `nono why --self`; > 2 when set */
        struct runlog log;            /* wrap: ends at exec, unless nono fails first */
        struct strv rollback_exclude; /* --rollback-exclude + the profile's */
        struct snapshot_session *snapshot;
};

static const char *plugin_dir_of(const struct host_config *c)
{
        return c->plugin_dir ? c->plugin_dir : layout_get()->plugin_dir;
}

/* --backend (or the SDK's choice), else nono.conf, else landlock. */
static const char *backend_of(const char *requested, const struct host_config *c)
{
        if (requested)
                return requested;
        return c->enforcer ? c->enforcer : DEFAULT_ENFORCER;
}

/*
 * A dry run only renders, so an enforcer that cannot run here (seatbelt on Linux)
 * still shows what it would apply, with the capabilities it reports for where it runs.
 */
static int load_enforcer(struct session *s, const char *name, int dry_run)
{
        struct nono_enforcer_info info;
        int r = plugin_load(&s->registry, NONO_PLUGIN_ENFORCER, name, &s->enforcer);

        if (r < 0)
                return r;
        memset(&info, 0, sizeof(info));
        info.size = sizeof(info);
        r = s->enforcer->ops.enforcer.probe(s->enforcer->state, &info);
        if (r == -ENOTSUP && dry_run) {
                nono_warn("enforcer %s cannot be applied on this machine (%s); showing what it "
                          "would apply",
                          name, plugin_error(s->enforcer, r));
                s->enforcer_caps = info.capabilities;
                return 0;
        }
        if (r < 0)
                return nono_error(r, "enforcer %s is not usable here: %s", name,
                                  plugin_error(s->enforcer, r));
        nono_info("enforcer %s: %s", name, info.summary);
        s->enforcer_caps = info.capabilities;
        return 0;
}

/* The plan editor handed to policy modules: it can only take rights away. */
static int editor_drop_grant(void *ctx, size_t index)
{
        struct plan *p = ctx;

        if (index >= p->n_grants)
                return -EINVAL;
        plan_drop_grant(p, index);
        plan_view(p);
        return 0;
}

static int editor_add_deny(void *ctx, const char *path, const char *origin)
{
        struct plan *p = ctx;
        char *resolved = NULL;
        int r;

        if (!path || path[0] != '/')
                return -EINVAL;
        r = paths_resolve_lenient(path, &resolved);
        if (r < 0)
                return r;
        r = plan_add_deny(p, resolved, origin ? origin : "policy module");
        free(resolved);
        plan_view(p);
        return r;
}

static int editor_block_network(void *ctx)
{
        struct plan *p = ctx;

        p->network_mode = NONO_NETWORK_BLOCK;
        plan_view(p);
        return 0;
}

static int review_with(struct session *s, const char *name)
{
        struct nono_plan_editor ed = {sizeof(ed), &s->plan, editor_drop_grant, editor_add_deny,
                                      editor_block_network};
        struct plugin *pl;
        int r = plugin_load(&s->registry, NONO_PLUGIN_POLICY, name, &pl);

        if (r < 0)
                return r;
        r = pl->ops.policy.review(pl->state, plan_view(&s->plan), &ed);
        if (r < 0)
                return nono_error(r, "policy %s refused the plan: %s", name, plugin_error(pl, r));
        if (r == NONO_POLICY_NARROWED)
                nono_info("policy %s narrowed the plan", name);
        return 0;
}

/* Policy modules may narrow the plan (the protected-path check runs after them). */
static int review_policies(struct session *s)
{
        for (size_t i = 0; i < s->config.policy_modules.n; i++) {
                int r = review_with(s, s->config.policy_modules.items[i]);

                if (r < 0)
                        return r;
        }
        return 0;
}

/*
 * An enforcer that cannot mask (no mount namespace here) cannot hide a protected path
 * inside a grant nor keep a persistence path read-only: such plans are refused, naming
 * the path, never run with the path exposed.
 */
static int check_enforceable(struct session *s)
{
        const struct plan *p = &s->plan;
        int r;

        if (s->enforcer_caps & NONO_ENFORCER_CAP_MASK_PROTECTED)
                return plan_check_protected(p, 1);
        r = plan_check_protected(p, 0);
        if (r < 0)
                return r;
        if (p->readonly_paths.n)
                return nono_error(-EPERM,
                                  "cannot keep %s read-only: enforcer %s cannot mask paths on "
                                  "this machine (no mount namespace); pass "
                                  "--allow-persistence %s to let the sandbox write it",
                                  p->readonly_paths.items[0], s->enforcer->name,
                                  p->readonly_paths.items[0]);
        return 0;
}

/*
 * The real secrets of the credential routes, looked up just before the proxy starts
 * (never for a dry run).  They go to the proxy process only.
 */
static int resolve_credentials(struct session *s)
{
        for (size_t i = 0; i < s->plan.n_routes; i++) {
                struct plan_route *rt = s->plan.routes[i];
                const char *source = NULL;
                int r = credential_resolve(&s->registry, &s->config, rt->credential_key,
                                           &rt->secret, &rt->secret_len, &source);

                if (r < 0)
                        return nono_error_prefix(r, "--credential %s: ", rt->service);
                nono_info("credential %s: secret from %s", rt->service, source ? source : "?");
        }
        plan_view(&s->plan);
        return 0;
}

static void session_free(struct session *s)
{
        limits_cgroup_remove(&s->cgroup);
        if (s->plan_fd > 2)
                close(s->plan_fd);
        json_decref(s->plan_json);
        unixmed_free(s->unix_mediator);
        persist_watch_free(s->persist);
        kaudit_free(s->kaudit);
        network_release(&s->net);
        if (s->enforcer && s->prepared)
                s->enforcer->ops.enforcer.release(s->enforcer->state, s->prepared);
        plugin_registry_free(&s->registry);
        host_config_free(&s->config);
        plan_free(&s->plan);
        strv_free(&s->env);
        strv_free(&s->rollback_exclude);
        snapshot_session_close(s->snapshot);
        free(s->exec_path);
}

static int session_load_config(struct session *s)
{
        int r = host_config_load(&s->config);

        if (r >= 0)
                plugin_registry_init(&s->registry, plugin_dir_of(&s->config), &s->config);
        return r;
}

/* The enforcer, then the policy modules' review of the plan; sets *ret_stage to the
 * step that failed. */
static int session_review(struct session *s, const char *backend, int dry_run,
                          enum run_stage *ret_stage)
{
        int r;

        *ret_stage = RUN_STAGE_PLUGIN;
        r = load_enforcer(s, backend, dry_run);
        if (r >= 0) {
                *ret_stage = RUN_STAGE_POLICY;
                r = review_policies(s);
        }
        if (r >= 0) {
                *ret_stage = RUN_STAGE_PLAN;
                r = check_enforceable(s);
        }
        if (r >= 0) {
                *ret_stage = RUN_STAGE_PLUGIN;
                r = network_load(&s->registry, &s->plan, &s->net);
        }
        return r;
}

/* --rollback-exclude patterns, then the profile's rollback.exclude_patterns and
 * exclude_globs: all of them .gitignore syntax. */
static int rollback_excludes(const struct run_request *req, struct profile *prof, struct strv *ret)
{
        int r = strv_extend(ret, &req->rollback_exclude);

        if (r >= 0)
                r = strv_extend(ret, &prof->rollback.exclude_patterns);
        if (r >= 0)
                r = strv_extend(ret, &prof->rollback.exclude_globs);
        profile_free(prof);
        return r;
}

/* mkdir -p, private to the user. */
static int make_private_dirs(const char *path)
{
        char *copy = nono_strdup(path);
        int r = 0;

        if (!copy)
                return -ENOMEM;
        for (char *p = strchr(copy + 1, '/'); p && r >= 0; p = strchr(p + 1, '/')) {
                *p = '\0';
                if (mkdir(copy, 0700) < 0 && errno != EEXIST)
                        r = -errno;
                *p = '/';
        }
        if (r >= 0 && mkdir(copy, 0700) < 0 && errno != EEXIST)
                r = -errno;
        free(copy);
        return r < 0 ? nono_error(r, "cannot create the store %s: %s", path, strerror(-r)) : 0;
}

/*
 * The store is never reachable from inside, wherever nono.conf puts it (its default
 * place is under nono's state, denied with it).  It is created first: a path that does
 * not exist cannot be masked, and the sandbox could create it with content of its own.
 */
static int protect_store(struct session *s)
{
        struct vars v;
        int r;

        if (!s->config.store_path)
                return 0;
        r = make_private_dirs(s->config.store_path);
        if (r >= 0)
                r = vars_init(&v, s->plan.workdir);
        if (r < 0)
                return r;
        if (r >= 0)
                r = paths_deny(&s->plan, &v, s->config.store_path, "nono's snapshot store");
        vars_free(&v);
        return r;
}

/* The mediator is Linux's (seccomp, pidfd); Seatbelt's profile has its own Unix-socket
 * rules, and its dry run on Linux must show what macOS would get. */
static int uses_unix_mediator(const char *backend)
{
        return strcmp(backend, "seatbelt") != 0;
}

static int session_open(struct session *s, const struct run_request *req)
{
        enum run_stage stage;
        struct profile prof;
        int r;

        memset(s, 0, sizeof(*s));
        if (!req->argv || !req->argv[0])
                return nono_error(-EINVAL, "no command given (nono run [OPTIONS] -- COMMAND)");
        r = session_load_config(s);
        if (r >= 0)
                r = run_build_plan(req, &s->plan, req->rollback ? &prof : NULL);
        if (r >= 0 && req->rollback)
                r = rollback_excludes(req, &prof, &s->rollback_exclude);
        if (r >= 0)
                r = protect_store(s);
        /* Both run and wrap start the Unix-socket mediator's helper in the sandbox. */
        if (r >= 0 && uses_unix_mediator(backend_of(req->backend, &s->config)))
                r = unixmed_grant_helper(&s->plan);
        if (r >= 0)
                r = resolve_command(req->argv[0], &s->exec_path);
        if (r >= 0)
                r = session_review(s, backend_of(req->backend, &s->config), req->dry_run, &stage);
        return r;
}

static int print_dry_run(struct session *s)
{
        const struct nono_enforcer_ops *ops = &s->enforcer->ops.enforcer;
        char *text = NULL;
        int r;

        plan_print(&s->plan, stdout);
        printf("command: %s\n", s->exec_path);
        if (!ops->render)
                return 0;
        r = ops->render(s->enforcer->state, plan_view(&s->plan), &text);
        if (r < 0)
                return nono_error(r, "cannot render the sandbox: %s", plugin_error(s->enforcer, r));
        printf("%s: %s", s->enforcer->name, text);
        s->enforcer->host.free(s->enforcer->host.ctx, text);
        return 0;
}

static int prepare_enforcer(struct session *s)
{
        int r = s->enforcer->ops.enforcer.prepare(s->enforcer->state, plan_view(&s->plan),
                                                  &s->prepared);

        if (r < 0)
                return nono_error(r, "cannot prepare the sandbox: %s",
                                  plugin_error(s->enforcer, r));
        return 0;
}

/* Async-signal-safe: copies the plugin's preallocated error text. */
static int child_failed(const struct plugin *pl, int r, struct child_error *err)
{
        size_t n = 0;

        for (; pl->error[n] && n + 1 < sizeof(err->message); n++)
                err->message[n] = pl->error[n];
        err->message[n] = '\0';
        return r;
}

/* Async-signal-safe: a static message. */
static int limits_failed(int r, struct child_error *err)
{
        static const char msg[] = "cannot apply the resource limits";

        memcpy(err->message, msg, sizeof(msg));
        return r;
}

/*
 * Child side: the network plugin first (a network namespace must be made while the
 * process still may), then the enforcer.  Async-signal-safe: the plugins promise it.
 */
static int apply_sandbox(void *userdata, struct child_error *err)
{
        struct session *s = userdata;
        int r = limits_cgroup_join(&s->cgroup);

        if (r < 0)
                return limits_failed(r, err);
        r = network_child_setup(&s->net);
        if (r < 0)
                return child_failed(s->net.plugin, r, err);
        r = s->enforcer->ops.enforcer.apply(s->enforcer->state, s->prepared);
        if (r < 0)
                return child_failed(s->enforcer, r, err);
        /* Last: inside the user namespace the enforcer may have made, RLIMIT_NPROC counts
         * the sandbox's processes only (see reslimits.h). */
        r = limits_apply(&s->plan.limits);
        return r < 0 ? limits_failed(r, err) : 0;
}

/*
 * Unix sockets: the child may connect to sockets under its write grants (its own) and
 * to those the plan names; every other pathname connect is refused by the mediator, and
 * so, unless the plan allows them, is creating a Unix datagram socket.
 */
static int prepare_unix_mediator(struct session *s)
{
        struct strv dirs = STRV_INIT;
        const struct plan *p = &s->plan;
        int r = 0;

        for (size_t i = 0; r >= 0 && i < p->n_grants; i++)
                if ((p->grants[i]->access & NONO_ACCESS_WRITE) &&
                    !(p->grants[i]->flags & NONO_GRANT_FILE))
                        r = strv_push(&dirs, p->grants[i]->path);
        if (r >= 0)
                r = unixmed_prepare(&s->unix_mediator, (const char *const *)dirs.items, dirs.n,
                                    (const char *const *)p->unix_sockets.items, p->unix_sockets.n,
                                    p->allow_unix_datagrams ? 0 : UNIXMED_DENY_UNIX_DGRAM);
        strv_free(&dirs);
        return r;
}

/*
 * Missing persistence paths, watched while the command runs (run only: it takes a
 * supervisor).  What the sandbox creates there is renamed NAME.nono-blocked-TAG.
 */
static int watch_persistence(struct session *s)
{
        const char *id = audit_session_id(runlog_session(&s->log));
        struct strv roots = STRV_INIT;
        char tag[16];
        int r = 0;

        if (!s->plan.persistence_watch.n)
                return 0;
        /* The session id's random part (it starts with the date). */
        if (id)
                snprintf(tag, sizeof(tag), "%.8s", strrchr(id, '-') ? strrchr(id, '-') + 1 : id);
        else
                snprintf(tag, sizeof(tag), "%ld", (long)getpid());
        for (size_t i = 0; r >= 0 && i < s->plan.n_grants; i++)
                if (is_user_write_dir(s->plan.grants[i]))
                        r = strv_push(&roots, s->plan.grants[i]->path);
        if (r >= 0)
                r = persist_watch_start(&s->persist, &s->plan.persistence_watch, &roots, tag);
        else
                r = nono_error(r, "out of memory");
        strv_free(&roots);
        return r;
}

static void audit_blocked(struct session *s, const struct persist_blocked *b)
{
        json_t *fields = json_pack("{s:s, s:s?, s:s?}", "path", b->path, "moved_to", b->moved_to,
                                   "error", b->err ? strerror(b->err) : NULL);

        if (fields)
                audit_event(runlog_session(&s->log), "persistence.blocked", fields);
        json_decref(fields);
}

/* After the run: what the sandbox created where git, a shell or an editor looks. */
static void report_blocked_persistence(struct session *s)
{
        size_t n;

        persist_watch_finish(s->persist);
        n = persist_watch_n_blocked(s->persist);
        for (size_t i = 0; i < n; i++) {
                const struct persist_blocked *b = persist_watch_blocked(s->persist, i);

                if (!b) {
                        nono_warn("... and %zu more", n - i);
                        break;
                }
                if (b->moved_to)
                        nono_warn("the sandbox created %s, which git, a shell or an editor may "
                                  "run code from; moved it to %s (--allow-persistence %s lets "
                                  "the sandbox keep it)",
                                  b->path, b->moved_to, b->path);
                else
                        nono_warn("the sandbox created %s, which git, a shell or an editor may "
                                  "run code from, and it cannot be moved aside: %s; review it "
                                  "before using this directory outside the sandbox",
                                  b->path, strerror(b->err));
                audit_blocked(s, b);
        }
}

/* Names the run in the network plugin's audit events (proxy decisions). */
static int set_session_id(struct session *s)
{
        const char *id = audit_session_id(runlog_session(&s->log));

        if (!id)
                return 0;
        s->plan.session_id = nono_strdup(id);
        plan_view(&s->plan);
        return s->plan.session_id ? 0 : -ENOMEM;
}

/* The plan, sealed, for `nono why --self`; the audit log. */
static int publish_plan(struct session *s, const struct run_request *req, int supervised)
{
        struct runlog_start start;
        int r;

        s->plan_json = plan_json_value(&s->plan);
        r = s->plan_json ? planfd_publish(s->plan_json, &s->env, &s->plan_fd) : -ENOMEM;
        if (r < 0)
                return r;
        start = (struct runlog_start){.argv = req->argv,
                                      .command = s->exec_path,
                                      .profile = s->plan.profile_name,
                                      .workdir = s->plan.workdir,
                                      .backend = backend_of(req->backend, &s->config),
                                      .plan = s->plan_json,
                                      .wrap = !supervised};
        runlog_open(&s->log, &s->config, &start);
        /* nono run prunes while the command starts (prune_audit_log); wrap never gets
         * the chance after its exec. */
        if (!supervised)
                runlog_prune(&s->log, &s->config);
        return set_session_id(s);
}

/* One line under -v: why the footer lists no file or TCP denial. */
static void say_unlisted(const char *why)
{
        nono_info("the denial report cannot list file and TCP denials: %s", why);
        nono_error_clear();
}

/*
 * Landlock's own denials for the report: subscribed before the child starts, and the
 * enforcer then has the command's denials recorded.  Not with --no-diagnostics.
 */
static void open_denial_reader(struct session *s, const struct run_request *req)
{
        if (req->no_diagnostics)
                return;
        if (!(s->enforcer_caps & NONO_ENFORCER_CAP_AUDIT_RECORDS)) {
                say_unlisted("the enforcer cannot have them audited here (Landlock ABI 7 can)");
                return;
        }
        if (kaudit_open(&s->kaudit) < 0) {
                say_unlisted(nono_errmsg());
                return;
        }
        s->plan.flags |= NONO_PLAN_LOG_DENIALS;
        plan_view(&s->plan);
}

/* How long the last records may take to come after the command exited (kaudit.h). */
#define DENIALS_QUIET_MS 10
#define DENIALS_MAX_MS   50

/* After the run: the denial report (unless turned off) and the end of the audit log. */
static void finish_run(struct session *s, const struct run_request *req, int exit_code)
{
        struct diag_sources src = {.mediator = s->unix_mediator, .plan = &s->plan};
        struct diagnostics d;

        /* A command that exited 0 had what it needed: Landlock's refusals of what it
         * only looked for are no news. */
        if (s->kaudit && exit_code != 0) {
                if (kaudit_drain(s->kaudit, DENIALS_QUIET_MS, DENIALS_MAX_MS) >= 0)
                        src.landlock = kaudit_log(s->kaudit);
                else
                        say_unlisted(nono_errmsg());
        }
        if (diagnostics_collect(&d, exit_code, &src) < 0)
                nono_warn("cannot report what the sandbox refused: out of memory");
        else if (!req->no_diagnostics &&
                 (req->diagnostics_json || nono_verbosity() > NONO_VERBOSITY_SILENT))
                diagnostics_print(&d, req->diagnostics_json, stderr);
        runlog_close(&s->log, exit_code, &d, NULL);
        diagnostics_free(&d);
}

static void prune_audit_log(void *userdata)
{
        struct session *s = userdata;

        runlog_prune(&s->log, &s->config);
}

static void fill_spec(struct session *s, const struct run_request *req, struct child_spec *spec)
{
        memset(spec, 0, sizeof(*spec));
        spec->unix_mediator = s->unix_mediator;
        spec->persist_watch = s->persist;
        spec->kaudit = s->kaudit;
        spec->exec_path = s->exec_path;
        spec->argv = req->argv;
        spec->envp = s->env.items;
        spec->workdir = s->plan.workdir;
        spec->setup = apply_sandbox;
        spec->setup_userdata = s;
        spec->keep_fd = s->plan_fd;
        spec->started = prune_audit_log;
        spec->started_userdata = s;
}

static int fail(void)
{
        fprintf(stderr, "nono: %s\n", nono_errmsg());
        return NONO_EXIT_ERROR;
}

/*
 * Everything up to the point of applying the sandbox, shared by run and wrap.
 * Returns -1 when the caller should go on (the spec is filled), else the exit code
 * nono should exit with (a dry run, or an error already printed).
 */
static int session_ready(struct session *s, const struct run_request *req, struct child_spec *spec,
                         int supervised)
{
        int r = session_open(s, req);

        if (r >= 0 && req->dry_run) {
                r = print_dry_run(s);
                return r < 0 ? fail() : 0;
        }
        if (r >= 0 && !supervised && s->plan.network_mode == NONO_NETWORK_PROXY)
                r = nono_error(-EINVAL, "nono wrap cannot run the filtering proxy (it needs a "
                                        "supervisor); use nono run");
        if (r >= 0 && req->check_hardlinks)
                hardlinks_check_plan(&s->plan);
        if (r >= 0)
                r = build_child_env(&s->plan, &s->env);
        /* The audit log opens before the proxy process forks, so that its decisions
         * are logged in this session too. */
        if (r >= 0)
                r = publish_plan(s, req, supervised);
        if (r >= 0)
                r = resolve_credentials(s);
        if (r >= 0)
                r = network_prepare(&s->net, &s->plan);
        /* The proxy process holds its own copy now; the supervisor keeps none. */
        plan_forget_secrets(&s->plan);
        if (r >= 0)
                r = network_child_env(&s->net, &s->env);
        /* Before prepare: the enforcer reads the plan's NONO_PLAN_LOG_DENIALS. */
        if (r >= 0 && supervised)
                open_denial_reader(s, req);
        if (r >= 0)
                r = prepare_enforcer(s);
        if (r >= 0 && supervised)
                r = limits_cgroup_prepare(&s->plan.limits, &s->cgroup);
        else if (r >= 0 && s->plan.limits.max_processes != LIMIT_UNSET && geteuid() == 0)
                nono_warn("nono wrap as root cannot limit processes (root is exempt from "
                          "RLIMIT_NPROC, and without a supervisor no cgroup can be removed "
                          "afterwards); use nono run");
        if (r >= 0)
                r = prepare_unix_mediator(s);
        if (r >= 0 && supervised)
                r = watch_persistence(s);
        if (r < 0)
                return fail();
        fill_spec(s, req, spec);
        return -1;
}

/* ---- rollback --------------------------------------------------------------------- */

/* Snapshot 0 of a new session: the workdir before the command touches it. */
/* The session's audit log names the snapshots taken during the run. */
static void audit_snapshot(struct session *s, const char *kind)
{
        json_t *fields =
            json_pack("{s:s, s:s}", "id", snapshot_session_id(s->snapshot), "kind", kind);

        if (fields)
                audit_event(runlog_session(&s->log), "snapshot", fields);
        json_decref(fields);
}

static int rollback_begin(struct session *s, const struct run_request *req)
{
        struct snapshot_options opt = {s->plan.workdir, 1,
                                       (const char *const *)s->rollback_exclude.items,
                                       s->rollback_exclude.n};
        struct progress bar;
        int r;

        if (!req->rollback)
                return 0;
        r = snapshot_baseline(&opt, progress_snapshot(&bar, req->diagnostics_json), &s->snapshot);
        progress_finish(&bar);
        if (r < 0)
                return nono_error_prefix(r, "rollback: cannot take the baseline snapshot: ");
        nono_info("rollback: session %s, baseline of %s taken", snapshot_session_id(s->snapshot),
                  s->plan.workdir);
        audit_snapshot(s, "baseline");
        return 0;
}

#define ROLLBACK_LIST_MAX 10

static void print_rollback_summary(const char *id, const struct snapshot_changes *c)
{
        fprintf(stderr, "nono: rollback session %s: %zu created, %zu modified, %zu deleted\n", id,
                c->created, c->modified, c->deleted);
        for (size_t i = 0; i < c->n && i < ROLLBACK_LIST_MAX; i++)
                fprintf(stderr, "  %c %s%s\n", c->items[i].kind, c->items[i].path,
                        c->items[i].type == 'd' ? "/" : "");
        if (c->n > ROLLBACK_LIST_MAX)
                fprintf(stderr, "  ... and %zu more (nono rollback show %s --diff)\n",
                        c->n - ROLLBACK_LIST_MAX, id);
}

/* Only a person at a terminal is asked; anything but y/yes keeps the changes. */
static int ask_restore(const struct run_request *req)
{
        char answer[16];

        if (req->no_rollback_prompt || !isatty(STDIN_FILENO) || !isatty(STDERR_FILENO))
                return 0;
        fprintf(stderr, "nono: undo these changes (restore the baseline)? [y/N] ");
        if (!fgets(answer, sizeof(answer), stdin))
                return 0;
        return strcmp(answer, "y\n") == 0 || strcmp(answer, "yes\n") == 0 ||
               strcmp(answer, "Y\n") == 0;
}

static void rollback_restore_now(const struct run_request *req, const char *id)
{
        struct snapshot_changes c;
        struct progress bar;
        int r = snapshot_restore(id, 0, 0, progress_snapshot(&bar, req->diagnostics_json), &c);

        progress_finish(&bar);
        if (r < 0) {
                fprintf(stderr, "nono: %s\n", nono_errmsg());
                return;
        }
        fprintf(stderr, "nono: restored the baseline: %zu file(s) changed back\n", c.n);
        snapshot_changes_free(&c);
}

/* The incremental snapshot after the command, what it changed, and the offer to undo. */
static void rollback_end(struct session *s, const struct run_request *req)
{
        struct snapshot_changes c;
        struct progress bar;
        const char *id;
        int r;

        if (!s->snapshot)
                return;
        id = snapshot_session_id(s->snapshot);
        r = snapshot_incremental(s->snapshot, progress_snapshot(&bar, req->diagnostics_json), &c);
        progress_finish(&bar);
        if (r < 0) {
                fprintf(stderr, "nono: rollback: cannot take the snapshot after the command: %s\n",
                        nono_errmsg());
                return;
        }
        audit_snapshot(s, "incremental");
        print_rollback_summary(id, &c);
        if (c.n && ask_restore(req))
                rollback_restore_now(req, id);
        else if (c.n)
                fprintf(stderr, "nono: undo with: nono rollback restore %s\n", id);
        snapshot_changes_free(&c);
}

int run_command(const struct run_request *req)
{
        struct child_spec spec;
        struct session s;
        int r = session_ready(&s, req, &spec, 1);

        if (r < 0 && rollback_begin(&s, req) >= 0) {
                r = supervisor_run(&spec);
                if (r < 0)
                        r = fail();
                /* Before the snapshot, which then holds what was moved aside, and before
                 * the log closes, which records both. */
                report_blocked_persistence(&s);
                rollback_end(&s, req);
                finish_run(&s, req, r);
        } else {
                if (r < 0)
                        r = fail();
                runlog_close(&s.log, r, NULL, nono_errmsg());
        }
        session_free(&s);
        return r;
}

/* nono wrap stops before the sandbox (a dry run, an error already printed). */
static int wrap_stopped(struct session *s, int exit_code)
{
        runlog_close(&s->log, exit_code, NULL, nono_errmsg());
        session_free(s);
        return exit_code;
}

/* nono wrap cannot go on: the message, also as the end of its audit log. */
static int wrap_failed(struct session *s, int exit_code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int wrap_failed(struct session *s, int exit_code, const char *fmt, ...)
{
        char message[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(message, sizeof(message), fmt, ap);
        va_end(ap);
        fprintf(stderr, "nono: %s\n", message);
        runlog_close(&s->log, exit_code, NULL, message);
        return exit_code;
}

int run_wrap(const struct run_request *req)
{
        struct child_error err;
        struct child_spec spec;
        struct session s;
        int r;

        /* wrap execs the command: nothing is left to take the snapshot after it. */
        if (req->rollback) {
                nono_error(-EINVAL, "--rollback needs nono run (wrap has no supervisor)");
                return fail();
        }
        r = session_ready(&s, req, &spec, 0);
        if (r >= 0)
                return wrap_stopped(&s, r);
        memset(&err, 0, sizeof(err));
        /* Leave the user's terminal session where possible (fails for a process-group
         * leader, e.g. wrap started by an interactive shell; seccomp still denies
         * TIOCSTI there). */
        setsid();
        /* Outside the sandbox, so before it is applied: the Unix-socket mediator. */
        if (unixmed_start_detached(s.unix_mediator) < 0)
                return wrap_stopped(&s, fail());
        /* Irrevocable from here on: nono itself becomes the sandboxed command. */
        r = supervisor_prepare_self(&spec, &err);
        if (r < 0)
                return wrap_failed(&s, NONO_EXIT_SETUP, "sandbox setup failed: %s: %s", err.message,
                                   strerror(err.err));
        if (r > 0)
                nono_warn("%s", err.message);
        runlog_exec(&s.log, spec.exec_path);
        execve(spec.exec_path, spec.argv, spec.envp);
        return wrap_failed(&s, NONO_EXIT_EXEC, "cannot execute %s: %s", spec.exec_path,
                           strerror(errno));
}

/* ---- nono proxy ----------------------------------------------------------------- */

static int print_proxy_env(struct session *s)
{
        int r = network_child_env(&s->net, &s->env);

        for (size_t i = 0; r >= 0 && i < s->env.n; i++)
                printf("%s\n", s->env.items[i]);
        fflush(stdout);
        return r;
}

/* Serves until SIGINT or SIGTERM; the proxy process does the work. */
static void wait_for_stop(void)
{
        sigset_t stop;
        int sig;

        sigemptyset(&stop);
        sigaddset(&stop, SIGINT);
        sigaddset(&stop, SIGTERM);
        sigaddset(&stop, SIGHUP);
        sigprocmask(SIG_BLOCK, &stop, NULL);
        sigwait(&stop, &sig);
}

/*
 * The standalone proxy's steps once the plan is built: the filter-proxy plugin (its
 * events to `sink` when given), the routes' secrets, the proxy process.  The secrets
 * are wiped here: the proxy process holds its own copy.
 */
static int start_proxy(struct session *s, host_audit_sink_fn sink, void *userdata,
                       enum run_stage *ret_stage)
{
        int r;

        if (s->plan.network_mode != NONO_NETWORK_PROXY)
                return nono_error(-EINVAL, "nono proxy needs hosts or credentials to serve "
                                           "(--allow-domain, --network-profile, --credential)");
        s->plan.flags |= NONO_PLAN_NO_CHILD;
        *ret_stage = RUN_STAGE_PLUGIN;
        r = network_load(&s->registry, &s->plan, &s->net);
        if (r >= 0 && sink)
                host_set_plugin_audit_sink(s->net.plugin, sink, userdata);
        if (r >= 0) {
                *ret_stage = RUN_STAGE_CREDENTIAL;
                r = resolve_credentials(s);
        }
        if (r >= 0) {
                *ret_stage = RUN_STAGE_PREPARE;
                r = network_prepare(&s->net, &s->plan);
        }
        plan_forget_secrets(&s->plan);
        return r;
}

int run_proxy(const struct run_request *req)
{
        enum run_stage stage;
        struct session s;
        int r;

        memset(&s, 0, sizeof(s));
        r = session_load_config(&s);
        if (r >= 0)
                r = run_build_plan(req, &s.plan, NULL);
        if (r >= 0)
                r = start_proxy(&s, NULL, NULL, &stage);
        if (r >= 0)
                r = print_proxy_env(&s);
        if (r >= 0)
                wait_for_stop();
        session_free(&s);
        return r < 0 ? fail() : 0;
}

/* A session of the SDK: it takes the caller's plan (left empty, also on failure) and
 * reads nono.conf. */
static int session_from_plan(struct plan *plan, struct session **ret, enum run_stage *ret_stage)
{
        struct session *s = calloc(1, sizeof(*s));
        int r;

        *ret_stage = RUN_STAGE_CONFIG;
        if (!s) {
                plan_free(plan);
                return -ENOMEM;
        }
        s->plan = *plan;
        plan_init(plan);
        *ret = s;
        r = session_load_config(s);
        if (r < 0) {
                run_session_free(s);
                *ret = NULL;
        }
        return r;
}

int run_proxy_open(struct plan *plan, host_audit_sink_fn sink, void *userdata, struct session **ret,
                   enum run_stage *ret_stage)
{
        struct session *s;
        int r = session_from_plan(plan, &s, ret_stage);

        if (r < 0)
                return r;
        r = start_proxy(s, sink, userdata, ret_stage);
        if (r < 0) {
                run_session_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

int run_session_network_env(struct session *s, struct strv *env)
{
        return network_child_env(&s->net, env);
}

/* ---- plan-based sessions (the SDK) ------------------------------------------------ */

int run_session_open(struct plan *plan, const char *backend, struct session **ret,
                     enum run_stage *ret_stage)
{
        struct session *s;
        int r = session_from_plan(plan, &s, ret_stage);

        if (r < 0)
                return r;
        r = session_review(s, backend_of(backend, &s->config), 0, ret_stage);
        if (r >= 0) {
                *ret_stage = RUN_STAGE_PREPARE;
                r = network_prepare(&s->net, &s->plan);
        }
        if (r >= 0)
                r = prepare_enforcer(s);
        if (r < 0) {
                run_session_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

int run_session_apply_self(struct session *s)
{
        struct child_error err;
        int r;

        memset(&err, 0, sizeof(err));
        r = apply_sandbox(s, &err);
        if (r >= 0)
                r = hygiene_apply(&err);
        if (r < 0)
                return nono_error(r, "cannot apply the sandbox: %s", err.message);
        return 0;
}

/* In sandboxed_exec's reaper (a copy of the session): the mediator it supervises. */
static int prepare_mediator_for(void *userdata, struct unixmed **ret)
{
        struct session *s = userdata;
        int r = prepare_unix_mediator(s);

        *ret = s->unix_mediator;
        return r;
}

int run_session_exec(struct session *s, char *const *argv, char *const *envp, int timeout_ms,
                     size_t max_output, struct captured_result *res, enum run_stage *ret_stage)
{
        struct capture_options opts;
        struct child_spec spec;
        int r;

        memset(res, 0, sizeof(*res));
        *ret_stage = RUN_STAGE_EXEC;
        r = resolve_command(argv[0], &s->exec_path);
        if (r < 0)
                return r;
        *ret_stage = RUN_STAGE_APPLY;
        r = childenv_build(&s->plan, envp, &s->env, NULL);
        if (r < 0)
                return r;
        memset(&spec, 0, sizeof(spec));
        spec.exec_path = s->exec_path;
        spec.argv = argv;
        spec.envp = s->env.items;
        spec.workdir = s->plan.workdir;
        spec.setup = apply_sandbox;
        spec.setup_userdata = s;
        opts.timeout_ms = timeout_ms;
        opts.max_output = max_output;
        opts.prepare_mediator = prepare_mediator_for;
        opts.userdata = s;
        return supervisor_run_captured(&spec, &opts, res);
}

const struct plan *run_session_plan(const struct session *s)
{
        return &s->plan;
}

void run_session_free(struct session *s)
{
        if (!s)
                return;
        session_free(s);
        free(s);
}
