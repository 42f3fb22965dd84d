/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nono.h — embedding nono: a capability set, applied to the calling process
 * (nono_apply) or to a child (nono_sandboxed_exec), and asked what it allows
 * (nono_query_path, nono_query_host); the filtering proxy (nono_proxy_*); snapshots
 * of a directory tree (nono_snapshot_*).  Link with libnono (pkg-config nono).
 *
 * Conventions for every function below:
 *   - Errors: a negative errno; nono_last_error() then holds one human line and
 *     nono_last_error_kind() says which kind of failure it was.  Nothing here prints
 *     the error, exits or aborts; bad arguments (NULL, a relative path where an
 *     absolute one is needed, unknown bits) are -EINVAL, never a crash.
 *   - Ownership: a pointer argument is borrowed for the call only, unless its
 *     description says otherwise; what a function returns through a pointer belongs to
 *     the caller and is freed with the matching *_free function.
 *   - Threads: a nono_caps may be used from any thread, but not from two at once
 *     (read-only calls on a set no one modifies may run concurrently).  Error state is
 *     per thread.  nono_apply has its own rule (see there).
 *   - Structs the caller passes in start with `size` (set it to sizeof the struct):
 *     they only ever grow by appending fields, so a program built against this header
 *     keeps working with a newer libnono.
 *
 * What a capability set grants: exactly the paths and files added to it, plus the
 * read-only system files every program needs to start (the `system_read_linux_core`
 * security group: /usr, /lib, /etc, /proc, ...).  The credential paths that every
 * nono run protects (the `required` deny groups: ~/.ssh, ~/.aws, keyrings, browser
 * data, shell history and configuration) stay out of reach even inside a granted
 * directory.  Policy modules named in nono.conf review the set before it is applied,
 * as they review `nono run`'s plans.  The network is unrestricted unless blocked.
 */
#ifndef NONO_NONO_H
#define NONO_NONO_H

#include <stddef.h>
#include <stdint.h>

#include <nono/plan.h> /* NONO_ACCESS_READ, NONO_ACCESS_WRITE, NONO_ACCESS_READWRITE */

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this header; nono_version() gives the library's.  libnono's soname
 * is libnono.so.NONO_SONAME_MAJOR: it changes only when this API breaks. */
#define NONO_VERSION_MAJOR  0
#define NONO_VERSION_MINOR  1
#define NONO_VERSION_PATCH  0
#define NONO_VERSION_STRING "0.1.0"
#define NONO_SONAME_MAJOR   0
/* For compile-time checks: NONO_VERSION_AT_LEAST(0, 1, 0). */
#define NONO_VERSION_AT_LEAST(major, minor, patch)                                                 \
        ((NONO_VERSION_MAJOR << 16 | NONO_VERSION_MINOR << 8 | NONO_VERSION_PATCH) >=              \
         ((major) << 16 | (minor) << 8 | (patch)))

/* The library's version, "MAJOR.MINOR.PATCH".  Static string.  Thread-safe. */
const char *nono_version(void);

/* ---- errors -------------------------------------------------------------------------- */

enum nono_error_kind {
        NONO_ERROR_NONE = 0,
        NONO_ERROR_INVALID = 1,    /* a bad argument: NULL, unknown bits, a missing path */
        NONO_ERROR_CONFIG = 2,     /* nono.conf cannot be read */
        NONO_ERROR_PLUGIN = 3,     /* a plugin cannot be loaded, or the enforcer is unusable */
        NONO_ERROR_POLICY = 4,     /* a policy module refused the capability set */
        NONO_ERROR_SANDBOX = 5,    /* the sandbox cannot be built or applied here */
        NONO_ERROR_EXEC = 6,       /* the command cannot be found or started */
        NONO_ERROR_SYSTEM = 7,     /* out of memory, fork or pipe failed */
        NONO_ERROR_CREDENTIAL = 8, /* a credential cannot be found in its sources */
        NONO_ERROR_SNAPSHOT = 9,   /* the snapshot store or the tree cannot be read or written */
};

/*
 * The message of the last failed nono_* call in this thread ("" when the last call
 * succeeded).  Owned by the library, valid until the next nono_* call in this thread.
 * Never contains a secret.  Thread-safe (per-thread state).
 */
const char *nono_last_error(void);
/* enum nono_error_kind of the last nono_* call in this thread.  Thread-safe. */
int nono_last_error_kind(void);

/* ---- capability sets ------------------------------------------------------------------ */

typedef struct nono_caps nono_caps;

/* A new, empty set (see "What a capability set grants" above).  Free it with
 * nono_caps_free.  NULL only when out of memory.  Thread-safe. */
nono_caps *nono_caps_new(void);
/* Frees the set; NULL is fine.  The set must not be in use by another thread. */
void nono_caps_free(nono_caps *caps);

/*
 * Grants a directory tree (nono_caps_allow_path) or one file (nono_caps_allow_file)
 * with `access`, a non-zero combination of NONO_ACCESS_READ and NONO_ACCESS_WRITE.
 * The path must exist (a directory, resp. not a directory); a relative path is taken
 * from the current directory; symlinks are resolved now, so later changes to them do
 * not change the grant.  Granting the same path again widens its access.  -EINVAL
 * for a bad argument, -ENOENT, -ENOTDIR or -EISDIR for the path.
 * Ownership: `path` is copied.  Threads: modifies caps (one thread at a time).
 */
int nono_caps_allow_path(nono_caps *caps, const char *path, uint32_t access);
int nono_caps_allow_file(nono_caps *caps, const char *path, uint32_t access);

/* Adds a built-in security group by name (`nono profile groups` lists them:
 * "python_runtime", "system_write_linux", ...).  -ENOENT for an unknown group.
 * Ownership: `group` is copied.  Threads: modifies caps (one thread at a time). */
int nono_caps_add_group(nono_caps *caps, const char *group);

/* Protects a path (absolute; it need not exist): it stays unreachable even inside a
 * granted directory; a grant inside it is refused when the set is used.
 * Ownership: `path` is copied.  Threads: modifies caps (one thread at a time). */
int nono_caps_deny_path(nono_caps *caps, const char *path);

/* No network at all: no TCP connect or bind, no non-TCP sockets but Unix ones.
 * Threads: modifies caps (one thread at a time). */
int nono_caps_block_network(nono_caps *caps);

/*
 * Environment rules for nono_sandboxed_exec (nono_apply leaves the calling process's
 * environment alone).  The child's environment is the given one scrubbed as in
 * `nono run`: variables that inject code (LD_PRELOAD, PYTHONSTARTUP, ...) and those
 * that look like secrets (*_API_KEY, *_TOKEN, AWS_*, ...) are removed unless allowed
 * by name; deny removes more; set adds NAME=value.  Names: [A-Za-z_][A-Za-z0-9_]*.
 * Ownership: `name` and `value` are copied (a value never appears in a message).
 * Threads: modifies caps (one thread at a time).
 */
int nono_caps_allow_env(nono_caps *caps, const char *name);
int nono_caps_deny_env(nono_caps *caps, const char *name);
int nono_caps_set_env(nono_caps *caps, const char *name, const char *value);

/* ---- applying ---------------------------------------------------------------------------- */

/*
 * Confines the calling process with `caps`, irrevocably: from now on it and every
 * process it starts can reach only what the set grants.  Also drops every
 * capability (also as root) and joins a fresh session keyring.  The process's
 * descriptors, environment and signal handlers are left as they are.
 *
 * Threads: Landlock confines the calling thread and threads created after it, not
 * threads that already run, so nono_apply refuses (-EBUSY, NONO_ERROR_SANDBOX) while
 * the process has more than one thread.  Call it before starting threads (or use
 * nono_sandboxed_exec).  The working directory stays as it is.
 *
 * On failure before anything was applied the process is unchanged; a failure while
 * applying (rare: the kernel refusing a prepared step) leaves it partly confined,
 * never less than before.  Returns 0 or a negative errno.  Ownership: caps is only
 * read; free it whenever you like.
 */
int nono_apply(const nono_caps *caps);

/* Options of nono_sandboxed_exec.  Zero every field you do not set. */
struct nono_exec_options {
        uint32_t size; /* sizeof(struct nono_exec_options) */
        /* The command, NULL-terminated; argv[0] is looked up in the caller's PATH
         * (getenv), not in envp's.  Required. */
        const char *const *argv;
        /* Its working directory; NULL: the caller's current directory. */
        const char *cwd;
        /* Its environment before the scrub (NAME=value, NULL-terminated); NULL: the
         * caller's environment. */
        const char *const *envp;
        /* Kill the command and everything it started after this many milliseconds;
         * 0: no limit. */
        uint32_t timeout_ms;
        /* Keep at most this many bytes of stdout and of stderr each (the rest is
         * read and dropped); 0: 64 MiB. */
        size_t max_output;
};

/* What a sandboxed command did.  Allocated by nono_sandboxed_exec, freed with
 * nono_exec_result_free. */
struct nono_exec_result {
        uint32_t size;
        /* The command's exit status; 128+N when killed by signal N; 127 when the
         * sandbox did not let it execute (stderr says why). */
        int exit_code;
        int timed_out; /* killed because timeout_ms passed */
        /* Captured output, NUL-terminated (also when empty); may hold NUL bytes. */
        char *stdout_data;
        size_t stdout_len;
        char *stderr_data;
        size_t stderr_len;
        int stdout_truncated, stderr_truncated; /* more than max_output was written */
};

/*
 * Runs a command in a sandboxed child and waits for it: stdin is /dev/null, stdout
 * and stderr are captured.  Nothing process-wide changes in the caller: the child is
 * supervised by a helper process of its own, which also makes sure nothing the
 * command started outlives it (a daemon it forked is killed when it exits).  As under
 * `nono run`, connecting to a pathname Unix socket outside the write grants fails with
 * EACCES (docker.sock, the ssh agent, D-Bus).
 *
 * Returns 0 and *ret (the caller's, free with nono_exec_result_free) when the command
 * ran, whatever its exit code; a negative errno when it could not: a policy refusal
 * (NONO_ERROR_POLICY), a sandbox that cannot be built or applied (NONO_ERROR_SANDBOX),
 * a command not found (NONO_ERROR_EXEC, -ENOENT).  Thread-safe: concurrent calls
 * (on different caps, or on the same unmodified caps) are fine.  Blocks the calling
 * thread; signals that interrupt it are retried.
 */
int nono_sandboxed_exec(const nono_caps *caps, const struct nono_exec_options *options,
                        struct nono_exec_result **ret);
/* Frees a result and its buffers; NULL is fine.  Any thread. */
void nono_exec_result_free(struct nono_exec_result *result);

/* ---- queries ------------------------------------------------------------------------------ */

enum nono_verdict_reason {
        NONO_VERDICT_GRANTED = 1,         /* a grant covers the path with the access */
        NONO_VERDICT_NOT_GRANTED = 2,     /* no grant covers the path */
        NONO_VERDICT_INSUFFICIENT = 3,    /* a grant covers it, with less access */
        NONO_VERDICT_PROTECTED = 4,       /* a protected path: never reachable */
        NONO_VERDICT_NETWORK_ALLOWED = 5, /* the network is unrestricted */
        NONO_VERDICT_NETWORK_BLOCKED = 6, /* the network is blocked */
        NONO_VERDICT_NETWORK_PROXY = 7,   /* only through a proxy (nono_caps_use_proxy) */
};

/* The answer of a query.  Set `size` before the call. */
struct nono_verdict {
        uint32_t size; /* sizeof(struct nono_verdict) */
        int allowed;   /* 1 allowed, 0 refused */
        int reason;    /* enum nono_verdict_reason */
        /* The grant or protected path that decided, resolved ("" when none). */
        char rule_path[4096];
        /* Where that rule came from ("nono_caps_allow_path", "group deny_credentials"). */
        char origin[256];
        /* One human line: "read+write granted by /work (nono_caps_allow_path)". */
        char message[1024];
};

/*
 * Would a process confined by `caps` be allowed `access` (NONO_ACCESS_*) on `path`?
 * `path` is absolute or relative to the current directory; it need not exist.  The
 * answer reflects the set as given (policy modules are not consulted) and the
 * kernel's view of paths (symlinks resolved).  Returns 0 and fills *ret.  Read-only
 * on caps.
 * Threads: concurrent queries on an unmodified caps are fine.  Ownership: only *ret
 * is written.
 */
int nono_query_path(const nono_caps *caps, const char *path, uint32_t access,
                    struct nono_verdict *ret);

/*
 * Would a connection to `host`:`port` be allowed?  With the network unrestricted or
 * blocked the answer does not depend on the host.  Returns 0 and fills *ret.
 * Threads and ownership as nono_query_path.
 */
int nono_query_host(const nono_caps *caps, const char *host, uint16_t port,
                    struct nono_verdict *ret);

/* ---- the filtering proxy ------------------------------------------------------------------ */

/*
 * nono's filtering proxy (docs/proxy.md) as a service of the calling program: it lets
 * through the allowed hosts only, injects real credentials into requests on credential
 * routes (a client holds a phantom token instead of the key) and records every
 * decision as an audit event.  It runs in a process of its own, started by
 * nono_proxy_start, listening on 127.0.0.1 (a random port).  That process is killed
 * when the thread that started it exits (PR_SET_PDEATHSIG), so it never outlives the
 * caller, even one that forgets nono_proxy_shutdown — start it from a thread that
 * lives as long as the proxy should (the main thread, typically).
 */
typedef struct nono_proxy_config nono_proxy_config;
typedef struct nono_proxy nono_proxy;

/* A credential route.  Zero every field you do not set. */
struct nono_route {
        uint32_t size; /* sizeof(struct nono_route) */
        /* The route is http://127.0.0.1:PORT/<prefix>/...; [a-z0-9_-], a leading '/' is
         * allowed.  Required. */
        const char *prefix;
        /* Where requests go: https://host[:port][/base], or http:// to loopback only.
         * Required. */
        const char *upstream;
        /* The secret's reference, resolved when the proxy starts: env://VAR,
         * libsecret://name, or a bare name offered to nono.conf's credential_sources.
         * Required. */
        const char *credential_key;
        /* NONO_INJECT_HEADER (0), NONO_INJECT_QUERY_PARAM or NONO_INJECT_BASIC_AUTH
         * (<nono/plan.h>). */
        int inject_mode;
        const char *inject_header;     /* NULL: "Authorization" */
        const char *credential_format; /* one {}; NULL: "Bearer {}" for Authorization, else "{}" */
        const char *env_var;           /* the phantom's variable; NULL: <PREFIX>_API_KEY */
        const char *base_url_var;      /* the route's URL variable; NULL: <PREFIX>_BASE_URL */
        const char *tls_ca;            /* an absolute CA file for https; NULL: the system's */
        /* "METHOD:/path/glob" rules (NULL-terminated; NULL: every request allowed). */
        const char *const *endpoint_rules;
};

/* A new, empty configuration; free it with nono_proxy_config_free.  NULL only when
 * out of memory.  Thread-safe. */
nono_proxy_config *nono_proxy_config_new(void);
/* Frees it; NULL is fine.  Not while another thread uses it. */
void nono_proxy_config_free(nono_proxy_config *config);

/*
 * Lets the proxy through to `host`: a name, "*.suffix" (names under suffix, not suffix
 * itself) or an IP address; no scheme, port or path.  -EINVAL for anything else.
 * Ownership: copied.  Threads: modifies config (one thread at a time).
 */
int nono_proxy_config_allow_host(nono_proxy_config *config, const char *host);

/*
 * Adds a credential route, validated now: -EINVAL for a bad prefix, upstream (plain
 * http to a host that is not loopback), inject mode, format, variable name, tls_ca or
 * endpoint rule; -EEXIST for a second route with the same prefix.  The credential
 * itself is looked up by nono_proxy_start.  Ownership: every string is copied.
 * Threads: modifies config (one thread at a time).
 */
int nono_proxy_config_add_route(nono_proxy_config *config, const struct nono_route *route);

/*
 * Starts a proxy serving `config` (it needs at least one host or route): reads
 * nono.conf, loads the filter-proxy plugin, resolves every route's credential (a
 * missing one: -ENOENT, NONO_ERROR_CREDENTIAL; the message names the reference, never
 * a value) and starts the proxy process.  *ret is the caller's; stop it with
 * nono_proxy_shutdown, release it with nono_proxy_free.  Ownership: config is only
 * read and may be freed or reused right away.  Thread-safe.
 */
int nono_proxy_start(const nono_proxy_config *config, nono_proxy **ret);

/*
 * What a client of the proxy needs, as "NAME=value" strings (NULL-terminated array;
 * free with nono_strings_free):
 *   nono_proxy_env: HTTP_PROXY, HTTPS_PROXY, ALL_PROXY (and lower-case forms) with the
 *     proxy's token, NO_PROXY, and each route's variables;
 *   nono_proxy_credential_env: only each route's variables, <PREFIX>_BASE_URL (the
 *     route's URL on the proxy) and <PREFIX>_API_KEY (the phantom token).
 * The token and phantoms are only good for this proxy; no real secret is in them.
 * Threads: any thread, concurrently with the other nono_proxy_* calls.
 */
int nono_proxy_env(nono_proxy *proxy, char ***ret_env);
int nono_proxy_credential_env(nono_proxy *proxy, char ***ret_env);

/* The proxy's TCP port on 127.0.0.1.  Threads: any. */
int nono_proxy_port(nono_proxy *proxy, uint16_t *ret_port);

/*
 * The audit events the proxy recorded since the last drain, oldest first, as JSON
 * objects (NULL-terminated array; free with nono_strings_free):
 *   {"type":"proxy.decision","plugin":"filter-proxy","time":"...Z","host":"...",
 *    "port":443,"method":"GET","decision":"allow"|"deny"|"error","reason":"..."}
 * They never hold a secret, phantom or token.  Events wait in a 1 MiB pipe (thousands
 * of events); when it is full the proxy drops events rather than stall, and the next
 * one that fits is {"type":"audit.lost","events":N}.  After nono_proxy_shutdown the
 * last events can still be drained.  Threads: any (one drain at a time gets each
 * event once).
 */
int nono_proxy_drain_audit(nono_proxy *proxy, char ***ret_events);

/*
 * Stops the proxy process (SIGTERM) and waits for it; later calls do nothing (0).
 * Open connections are cut.  env, port and drain keep working on the stopped handle.
 * Threads: any.
 */
int nono_proxy_shutdown(nono_proxy *proxy);

/*
 * Routes the sandboxed children of `caps` through `proxy` (nono_sandboxed_exec only):
 * their network is restricted to the proxy's port on 127.0.0.1 (no other TCP
 * connection, no UDP or DNS), their environment gets nono_proxy_env's variables, and
 * the variables the proxy's credentials were read from (env://VAR) are removed from
 * it.  nono_caps_block_network wins over it.  The port and variables are copied now:
 * the set stays valid after the proxy is freed (its children then reach nothing).
 * Threads: modifies caps (one thread at a time); proxy may be in use elsewhere.
 */
int nono_caps_use_proxy(nono_caps *caps, nono_proxy *proxy);

/* Shuts the proxy down if needed and frees the handle; NULL is fine.  No other thread
 * may use it any more. */
void nono_proxy_free(nono_proxy *proxy);

/* Frees a NULL-terminated array of strings returned by nono_proxy_*; NULL is fine. */
void nono_strings_free(char **strings);

/* ---- snapshots ---------------------------------------------------------------------------- */

/*
 * Snapshots of a directory tree (docs/snapshots.md), as `nono run --rollback` takes
 * them: snapshot 0 is the baseline, 1, 2, ... incremental ones, all kept in the user's
 * store ($XDG_STATE_HOME/nono/store, or nono.conf's store.path) as one session that
 * `nono rollback` also sees.  A restore makes the tree what it was at a snapshot.
 * Excluded paths (VCS directories, git's ignore rules, explicit patterns) are neither
 * saved nor touched by a restore.
 */
typedef struct nono_snapshot_manager nono_snapshot_manager;

/* What snapshots leave out.  Zero every field you do not set. */
struct nono_exclusions {
        uint32_t size; /* sizeof(struct nono_exclusions) */
        /* Non-zero: git's ignore rules apply (every .gitignore, the global excludes,
         * .git/info/exclude), as `git check-ignore --no-index` reads them. */
        int use_gitignore;
        /* .gitignore-syntax patterns read as a .gitignore at the root that wins over
         * the others ("*.tmp", "/cache", "build/", "!keep.log"); NULL-terminated, NULL
         * for none.  No pattern may be empty or hold a newline. */
        const char *const *patterns;
};

enum nono_change_type {
        NONO_CHANGE_CREATED = 1,  /* the path will be (was) created */
        NONO_CHANGE_MODIFIED = 2, /* its content, mode or target will be (was) rewritten */
        NONO_CHANGE_DELETED = 3,  /* the path will be (was) removed */
};

/* One path a restore changes.  A fixed layout: it never grows. */
struct nono_snapshot_change {
        int change_type; /* enum nono_change_type */
        char *path;      /* relative to the root, e.g. "src/main.c" */
};

/*
 * A manager of snapshots of `root`, an absolute path to an existing directory
 * (symlinks are resolved now).  `exclusions` may be NULL: no gitignore rules, no
 * patterns.  Nothing is read or written before nono_snapshot_create_baseline.
 * -EINVAL for a relative root or a bad exclusion, -ENOENT or -ENOTDIR for the root
 * (NONO_ERROR_INVALID).  Ownership: everything is copied; *ret is the caller's, free
 * it with nono_snapshot_manager_free.  Thread-safe.
 */
int nono_snapshot_manager_new(const char *root, const struct nono_exclusions *exclusions,
                              nono_snapshot_manager **ret);

/*
 * Takes snapshot 0 of a new session (a manager that had one starts another; the old
 * session stays in the store).  *ret_index (may be NULL) is 0.  A store that cannot be
 * opened or written, or a tree that cannot be read: NONO_ERROR_SNAPSHOT.
 * Threads: modifies the manager (one thread at a time); managers of different roots,
 * or other processes, may snapshot concurrently.
 */
int nono_snapshot_create_baseline(nono_snapshot_manager *manager, unsigned *ret_index);

/*
 * Takes the session's next snapshot; *ret_index (may be NULL) is its number (1, 2,
 * ...).  Only files whose size, times or inode changed are read again.  -ENOENT
 * (NONO_ERROR_SNAPSHOT) before a baseline.  Threads: as nono_snapshot_create_baseline.
 */
int nono_snapshot_create_incremental(nono_snapshot_manager *manager, unsigned *ret_index);

/*
 * What restoring snapshot `snapshot_number` would change in the tree as it is now,
 * without touching it: CREATED for paths it would bring back, MODIFIED for those it
 * would rewrite, DELETED for those it would remove, sorted by path (directories
 * included).  *ret (NULL when there are none) and *ret_n are the caller's: free with
 * nono_snapshot_changes_free.  -ENOENT (NONO_ERROR_SNAPSHOT) before a baseline,
 * -ERANGE (NONO_ERROR_INVALID) for a number the session does not have.
 * Threads: as nono_snapshot_create_baseline.
 */
int nono_snapshot_restore_diff(nono_snapshot_manager *manager, unsigned snapshot_number,
                               struct nono_snapshot_change **ret, size_t *ret_n);

/*
 * Makes the tree what it was at snapshot `snapshot_number` (0: the baseline): content,
 * modes, symlinks and directories; paths created since are removed; excluded paths are
 * left alone.  Every object is checked before anything is written (a damaged store
 * changes nothing) and each file is replaced atomically.  The session gets no new
 * snapshot.  ret and ret_n may both be NULL; otherwise they receive what was changed,
 * as nono_snapshot_restore_diff.  Errors as nono_snapshot_restore_diff.
 * Threads: as nono_snapshot_create_baseline.
 */
int nono_snapshot_restore_to(nono_snapshot_manager *manager, unsigned snapshot_number,
                             struct nono_snapshot_change **ret, size_t *ret_n);

/* The session's id (as `nono rollback list` shows it), NULL before a baseline or for a
 * NULL manager.  Owned by the manager: valid until its next baseline or its free.
 * Threads: as nono_snapshot_create_baseline. */
const char *nono_snapshot_session_id(const nono_snapshot_manager *manager);

/* Frees `n` changes returned by nono_snapshot_restore_diff / _restore_to; NULL is
 * fine.  Any thread. */
void nono_snapshot_changes_free(struct nono_snapshot_change *changes, size_t n);

/* Frees the manager; NULL is fine.  The session stays in the store.  No other thread
 * may use it any more. */
void nono_snapshot_manager_free(nono_snapshot_manager *manager);

#ifdef __cplusplus
}
#endif

#endif /* NONO_NONO_H */
