/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The audit log: one directory per `nono run` / `nono wrap` session under
 * $XDG_STATE_HOME/nono/audit/<id>/ (mode 0700; nono's own state, denied to every
 * sandbox), holding
 *
 *   events.jsonl  one JSON object per line:
 *                 {"seq":N,"time":"...Z","type":"session.start", ...fields..., "prev":H}
 *                 where H is the hex SHA-256 of the previous line's bytes (for the first
 *                 line: of "nono-audit-v1:" + the session id);
 *   head          "<seq> <hex SHA-256 of the last line>": the end of the chain.
 *
 * Session ids are the start time plus a random part ("20261128T185201.123Z-1a2b3c4d"),
 * so that they sort by time.
 *
 * What `audit_verify` detects: an edited line (the next line's prev, or the head for the
 * last line, no longer matches), a deleted, inserted or moved line (seq and prev), lines
 * cut off the end (the head records more), a log moved to another session (the first
 * prev is bound to the id), a session that never ended (no session.end: still running
 * or nono was killed).  What it cannot detect: someone able to write the directory who
 * rewrites the whole chain and the head consistently -- the hashes carry no key.  The
 * syslog mirror (nono.conf audit.syslog) records every line, and with it the final
 * hash, outside the user's reach.
 *
 * A `nono wrap` session (session.start's mode "wrap") has no supervisor: its last event
 * is `exec`, written just before the command replaces nono, unless nono failed first
 * (then session.end records the failure).
 *
 * Several processes may append to one session (the supervisor and a proxy it forked):
 * every append takes an exclusive flock on events.jsonl, reads the head, appends one
 * line with one write(2), updates the head, and unlocks.  Nothing is fsync'ed: the log
 * records what a sandbox did, it is not a database.
 */
#ifndef NONO_CORE_AUDIT_H
#define NONO_CORE_AUDIT_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

struct audit_session;

/* The audit root, $XDG_STATE_HOME/nono/audit (XDG default ~/.local/state); malloc'ed. */
int audit_root(char **ret);

/*
 * Creates a new session directory under `root` (created 0700 when missing).
 * `syslog_mirror`: also send every event to syslog(3) (journald reads it).
 */
int audit_session_open(const char *root, int syslog_mirror, struct audit_session **ret);
const char *audit_session_id(const struct audit_session *s);
const char *audit_session_dir(const struct audit_session *s);
/*
 * Appends one event.  `fields` (a JSON object, may be NULL) is only read; its keys seq,
 * time, type and prev are reserved and skipped.  Safe in a process forked after open (it
 * reopens the files for a lock of its own).  NULL session: does nothing.
 */
int audit_event(struct audit_session *s, const char *type, json_t *fields);
/* Closes the files (the directory stays).  NULL is fine. */
void audit_session_close(struct audit_session *s);

/* What audit_verify found out about an intact log. */
struct audit_verify_result {
        size_t events;
        int ended; /* the last event is session.end */
        int wrap;  /* session.start's mode is "wrap": no supervisor records the end */
};

/*
 * Checks the chain of the session in `dir`.  0 when intact; -EBADMSG with a message
 * naming the first bad line when not; another negative errno when unreadable.
 */
int audit_verify(const char *dir, struct audit_verify_result *ret);

/* One session, for `nono audit list`. */
struct audit_summary {
        char *id;
        char *start_time; /* of session.start; NULL when unreadable */
        json_t *argv;     /* of session.start (redacted); NULL when unreadable */
        int ended;
        int exit_code; /* of session.end; -1 without one */
        size_t events;
        pid_t pid; /* of the supervisor (wrap: of the command), from session.start; 0 when
                      unknown */
        int wrap;  /* nono wrap: no supervisor records the end once the command runs */
};

/* Every session under root, oldest first.  A missing root is an empty list. */
int audit_list(const char *root, struct audit_summary **ret, size_t *ret_n);
void audit_summaries_free(struct audit_summary *list, size_t n);

/*
 * The directory of the session `id` under root; a unique prefix of an id (or "last",
 * the newest session) is accepted.  Errors name the id.
 */
int audit_find(const char *root, const char *id, char **ret_dir);

/* The events of the session in `dir` as a JSON array (unverified). */
int audit_load_events(const char *dir, json_t **ret);
/* 1 if the event's `key` is the string `value` (type "session.end", mode "wrap"). */
int audit_event_is(const json_t *event, const char *key, const char *value);

struct audit_cleanup_result {
        size_t removed, left;
        int partial; /* stopped at a maximum: more sessions are past a limit */
};

/*
 * Removes sessions: all but the `keep` newest (keep < 0: no limit by count) and those
 * that started more than `older_than_days` ago (< 0: no limit by age).  A session in
 * progress is never removed: its supervisor (or wrap's command) is still running, or it
 * is being opened.  Only the logs of sessions past a limit are read.
 */
int audit_cleanup(const char *root, long keep, long older_than_days,
                  struct audit_cleanup_result *ret);

/*
 * nono.conf's retention (audit.keep_sessions, audit.max_age_days; 0: no limit), applied
 * as a session starts.  Cheap on every call: a stamp file in root counts the sessions
 * opened since the last prune, which runs only when the count limit is exceeded by a
 * batch (20, or a tenth of a smaller limit), or a day after the last one for the age
 * limit, and removes at most 100 sessions (the next session goes on with a backlog).
 * Call it after session.start is written: the caller's own session is then in progress.
 */
int audit_retain(const char *root, long keep, long max_age_days);

#endif
