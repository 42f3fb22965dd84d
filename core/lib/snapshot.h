/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Snapshots and rollback, as libnono offers them to the CLI and the SDK.
 *
 * The engine (hashing, compression, chunking, exclusions: OpenSSL, zstd, libgit2) lives in
 * libnono-snapshot.so, which this façade dlopen()s on the first call: a plain `nono run`
 * never maps those libraries.  The engine exports one function, nono_snapshot_engine(),
 * returning the versioned table below.
 *
 * A session is one workspace root snapshotted over time: snapshot 0 is the baseline,
 * 1, 2, ... the incremental ones.  Sessions live in the user's store
 * ($XDG_STATE_HOME/nono/store, or nono.conf's store.path), shared by every workspace.
 */
#ifndef NONO_CORE_SNAPSHOT_H
#define NONO_CORE_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

struct snapshot_options {
        const char *root; /* absolute directory */
        int use_gitignore;
        const char *const *exclude_patterns; /* .gitignore syntax */
        size_t n_exclude_patterns;
};

/* One path that differs between two trees, seen from the older one. */
enum snapshot_change_kind {
        SNAPSHOT_CREATED = '+',
        SNAPSHOT_MODIFIED = '~',
        SNAPSHOT_DELETED = '-',
};

struct snapshot_change {
        char kind; /* enum snapshot_change_kind */
        char type; /* 'f' file, 'l' symlink, 'd' directory (of the newer side if any) */
        char *path;
};

struct snapshot_changes {
        struct snapshot_change *items;
        size_t n, cap;
        size_t created, modified, deleted;
};

struct snapshot_session_info {
        char *id;
        int64_t time; /* seconds since the epoch, of the baseline */
        char *root;
        size_t n_snapshots;
};

struct snapshot_sessions {
        struct snapshot_session_info *items;
        size_t n;
};

struct snapshot_info {
        unsigned index;
        int64_t time_ns;
        char root_digest[65]; /* Merkle root, hex */
        uint64_t files, bytes;
};

/* A session and its snapshots, for `rollback show`. */
struct snapshot_history {
        struct snapshot_session_info session;
        int use_gitignore;
        char **exclude_patterns;
        size_t n_exclude_patterns;
        struct snapshot_info *snapshots;
        size_t n;
};

/* What verify found wrong: one line per damaged snapshot, path or object. */
struct snapshot_problems {
        char **items;
        size_t n;
        uint64_t objects_checked;
};

struct snapshot_cleanup_options {
        long keep;            /* keep the newest `keep` sessions; < 0: no limit */
        long older_than_days; /* remove sessions older than this; < 0: no limit */
        int dry_run;
};

struct snapshot_cleanup_report {
        size_t sessions_removed;
        uint64_t objects_removed;
};

/* Figures of the last snapshot taken, for the benchmark and `--verbose`. */
struct snapshot_stats {
        uint64_t files, files_hashed, bytes_hashed;
        uint64_t objects_added, bytes_added; /* as stored: compressed */
};

/*
 * How far a long call has got, for a progress line: `done` of `total` files (total 0:
 * not known yet) in the named stage ("snapshot", "restore: scan", "restore: verify",
 * "restore").  The engine calls it often, from the calling thread; what it shows, and
 * where, is the caller's business: the engine knows nothing of terminals.
 */
struct snapshot_progress {
        void (*update)(void *userdata, const char *stage, uint64_t done, uint64_t total);
        void *userdata;
};

/* The engine's one way to report: nothing without a callback. */
static inline void snapshot_report(const struct snapshot_progress *p, const char *stage,
                                   uint64_t done, uint64_t total)
{
        if (p && p->update)
                p->update(p->userdata, stage, done, total);
}

struct snapshot_session;

#define SNAPSHOT_ENGINE_VERSION 2

struct snapshot_engine {
        uint32_t version;
        uint32_t size;
        int (*baseline)(const struct snapshot_options *opt,
                        const struct snapshot_progress *progress, struct snapshot_session **ret);
        int (*incremental)(struct snapshot_session *s, const struct snapshot_progress *progress,
                           struct snapshot_changes *ret);
        int (*open_session)(const char *id, struct snapshot_session **ret);
        const char *(*session_id)(const struct snapshot_session *s);
        void (*session_stats)(const struct snapshot_session *s, struct snapshot_stats *ret);
        void (*session_close)(struct snapshot_session *s);
        int (*list)(struct snapshot_sessions *ret);
        int (*show)(const char *id, struct snapshot_history *ret);
        int (*diff)(const char *id, int from, int to, struct snapshot_changes *ret);
        int (*restore)(const char *id, int index, int dry_run,
                       const struct snapshot_progress *progress, struct snapshot_changes *ret);
        int (*verify)(const char *id, struct snapshot_problems *ret);
        int (*cleanup)(const struct snapshot_cleanup_options *opt,
                       struct snapshot_cleanup_report *ret);
};

#define SNAPSHOT_ENGINE_SYMBOL "nono_snapshot_engine"
typedef const struct snapshot_engine *(*snapshot_engine_fn)(void);

/*
 * The façade.  Every function returns 0 or a negative errno with the message set.
 * `index` / `from` / `to` < 0 count from the end (-1: the newest snapshot).  `progress`
 * may be NULL.
 */
/* Takes snapshot 0 of a new session. */
int snapshot_baseline(const struct snapshot_options *opt, const struct snapshot_progress *progress,
                      struct snapshot_session **ret);
/* Takes the next snapshot; *ret lists what changed since the previous one. */
int snapshot_incremental(struct snapshot_session *s, const struct snapshot_progress *progress,
                         struct snapshot_changes *ret);
/* Opens an existing session to add snapshots to it. */
int snapshot_open_session(const char *id, struct snapshot_session **ret);
const char *snapshot_session_id(const struct snapshot_session *s);
void snapshot_session_stats(const struct snapshot_session *s, struct snapshot_stats *ret);
/* Safe on NULL. */
void snapshot_session_close(struct snapshot_session *s);

/* Every session of the store, oldest first. */
int snapshot_list(struct snapshot_sessions *ret);
int snapshot_show(const char *id, struct snapshot_history *ret);
/* What changed from snapshot `from` to snapshot `to`. */
int snapshot_diff(const char *id, int from, int to, struct snapshot_changes *ret);
/*
 * Makes the root what it was at snapshot `index` (0: the baseline).  *ret lists what
 * the restore changes (or would change, with dry_run), seen from the current tree.
 */
int snapshot_restore(const char *id, int index, int dry_run,
                     const struct snapshot_progress *progress, struct snapshot_changes *ret);
/* Checks every object of every snapshot of the session; problems are not an error. */
int snapshot_verify(const char *id, struct snapshot_problems *ret);
int snapshot_cleanup(const struct snapshot_cleanup_options *opt,
                     struct snapshot_cleanup_report *ret);

int snapshot_changes_add(struct snapshot_changes *c, char kind, char type, const char *path);
void snapshot_changes_free(struct snapshot_changes *c);
void snapshot_sessions_free(struct snapshot_sessions *s);
void snapshot_session_info_free(struct snapshot_session_info *i);
void snapshot_history_free(struct snapshot_history *h);
void snapshot_problems_free(struct snapshot_problems *p);
int snapshot_problems_add(struct snapshot_problems *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
