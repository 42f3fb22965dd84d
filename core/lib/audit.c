/* SPDX-License-Identifier: Apache-2.0 */
#include "audit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

/*
 * SHA-256 from libmd, not OpenSSL: linking libcrypto into libnono costs every nono
 * process about 2.7 ms of start-up (measured), libmd about 0.3 ms; the chain needs
 * nothing but the digest.
 */
#include <sha2.h>

#include "error.h"
#include "strv.h"
#include "vars.h"

#define EVENTS_FILE "events.jsonl"
#define HEAD_FILE   "head"
#define GENESIS_TAG "nono-audit-v1:"
#define HEX_LEN     (SHA256_DIGEST_LENGTH * 2)
/* "<seq, 20 digits> <hash>\n": fixed width, so rewriting it never needs a truncate. */
#define HEAD_LEN (20 + 1 + HEX_LEN + 1)

struct audit_session {
        char *id;
        char *dir;
        int events_fd;
        int head_fd;
        pid_t owner; /* the process that opened the files (and owns their flock) */
        int syslog_mirror;
};

/* ---- small helpers ---------------------------------------------------------------- */

static void sha256_hex(const char *data, size_t len, char hex[HEX_LEN + 1])
{
        SHA256Data((const uint8_t *)data, len, hex);
}

static void genesis_of(const char *id, char hex[HEX_LEN + 1])
{
        char *seed = nono_asprintf(GENESIS_TAG "%s", id);

        if (!seed) {
                hex[0] = '\0';
                return;
        }
        sha256_hex(seed, strlen(seed), hex);
        free(seed);
}

/* Ids are made by nono: a leading digit, then [0-9A-Za-z.-] -- never a path. */
static int is_session_id(const char *name)
{
        size_t len = strlen(name);

        if (len == 0 || len > 64 || name[0] < '0' || name[0] > '9')
                return 0;
        return strspn(name, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                            "abcdefghijklmnopqrstuvwxyz.-") == len;
}

/*
 * UTC: ISO 8601 with milliseconds for events; compact with microseconds for session
 * ids, which sort by start time ("last" is the greatest), also for runs started in the
 * same millisecond.  snprintf rather than strftime, which reads /etc/localtime on every
 * call for a time zone UTC never needs.
 */
static int format_now(char *buf, size_t size, int compact)
{
        struct timespec ts;
        struct tm tm;

        clock_gettime(CLOCK_REALTIME, &ts);
        if (!gmtime_r(&ts.tv_sec, &tm))
                return -EINVAL;
        snprintf(buf, size,
                 compact ? "%04d%02d%02dT%02d%02d%02d.%06ldZ"
                         : "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 compact ? ts.tv_nsec / 1000 : ts.tv_nsec / 1000000);
        return 0;
}

/* mkdir -p, creating what is missing with `mode`. */
static int make_dirs(const char *path, mode_t mode)
{
        char buf[PATH_MAX];
        size_t len = strlen(path);

        if (len >= sizeof(buf))
                return nono_error(-ENAMETOOLONG, "audit directory name too long: %s", path);
        memcpy(buf, path, len + 1);
        for (char *p = buf + 1;; p++) {
                if (*p != '/' && *p != '\0')
                        continue;
                char saved = *p;

                *p = '\0';
                if (mkdir(buf, mode) < 0 && errno != EEXIST)
                        return nono_error(-errno, "cannot create %s: %s", buf, strerror(errno));
                *p = saved;
                if (!saved)
                        return 0;
        }
}

int audit_root(char **ret)
{
        struct vars v;
        int r = vars_init(&v, NULL);

        if (r < 0)
                return r;
        *ret = nono_path_join(v.xdg_state_home, "nono/audit");
        vars_free(&v);
        return *ret ? 0 : -ENOMEM;
}

/* ---- writing ---------------------------------------------------------------------- */

static int open_files(struct audit_session *s)
{
        char *events = nono_path_join(s->dir, EVENTS_FILE);
        char *head = nono_path_join(s->dir, HEAD_FILE);
        int r = 0;

        if (!events || !head) {
                r = -ENOMEM;
                goto out;
        }
        s->events_fd = open(events, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (s->events_fd < 0) {
                r = nono_error(-errno, "cannot open %s: %s", events, strerror(errno));
                goto out;
        }
        s->head_fd = open(head, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (s->head_fd < 0)
                r = nono_error(-errno, "cannot open %s: %s", head, strerror(errno));
        s->owner = getpid();
out:
        free(events);
        free(head);
        return r;
}

static void close_files(struct audit_session *s)
{
        if (s->events_fd >= 0)
                close(s->events_fd);
        if (s->head_fd >= 0)
                close(s->head_fd);
        s->events_fd = s->head_fd = -1;
}

/* A fresh directory named by the time and a random number; retried on a collision. */
static int make_session_dir(struct audit_session *s, const char *root)
{
        int r;

        for (int attempt = 0; attempt < 8; attempt++) {
                char stamp[48];
                uint32_t rnd = 0;

                if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd) ||
                    format_now(stamp, sizeof(stamp), 1) < 0)
                        return nono_error(-EIO, "cannot name an audit session");
                /* format_now ends in "Z" after the milliseconds. */
                s->id = nono_asprintf("%s-%08x", stamp, rnd);
                s->dir = s->id ? nono_path_join(root, s->id) : NULL;
                if (!s->dir)
                        return -ENOMEM;
                if (mkdir(s->dir, 0700) == 0)
                        return 0;
                r = errno == EEXIST
                        ? 0
                        : nono_error(-errno, "cannot create %s: %s", s->dir, strerror(errno));
                /* Free the name either way: the caller may try again (ENOENT). */
                free(s->id);
                free(s->dir);
                s->id = s->dir = NULL;
                if (r < 0)
                        return r;
        }
        return nono_error(-EEXIST, "cannot name an audit session in %s", root);
}

int audit_session_open(const char *root, int syslog_mirror, struct audit_session **ret)
{
        struct audit_session *s = calloc(1, sizeof(*s));
        int r;

        if (!s)
                return -ENOMEM;
        s->events_fd = s->head_fd = -1;
        s->syslog_mirror = syslog_mirror;
        /* The root exists after the first run: create it only when the session's
         * directory cannot be made. */
        r = make_session_dir(s, root);
        if (r == -ENOENT) {
                r = make_dirs(root, 0700);
                if (r >= 0)
                        r = make_session_dir(s, root);
        }
        if (r >= 0)
                r = open_files(s);
        if (r < 0) {
                audit_session_close(s);
                return r;
        }
        if (syslog_mirror)
                openlog("nono", LOG_PID, LOG_USER);
        *ret = s;
        return 0;
}

const char *audit_session_id(const struct audit_session *s)
{
        return s ? s->id : NULL;
}

const char *audit_session_dir(const struct audit_session *s)
{
        return s ? s->dir : NULL;
}

void audit_session_close(struct audit_session *s)
{
        if (!s)
                return;
        close_files(s);
        free(s->id);
        free(s->dir);
        free(s);
}

/* The head under the lock: the last sequence number and hash, or the genesis. */
static int read_head(const struct audit_session *s, unsigned long long *seq, char hash[HEX_LEN + 1])
{
        char buf[HEAD_LEN + 1];
        ssize_t n = pread(s->head_fd, buf, HEAD_LEN, 0);

        if (n == 0) {
                *seq = 0;
                genesis_of(s->id, hash);
                return 0;
        }
        if (n != HEAD_LEN)
                return nono_error(-EBADMSG, "audit head of %s is damaged", s->id);
        buf[HEAD_LEN] = '\0';
        if (sscanf(buf, "%20llu %64s", seq, hash) != 2 || strlen(hash) != HEX_LEN)
                return nono_error(-EBADMSG, "audit head of %s is damaged", s->id);
        return 0;
}

static int write_head(const struct audit_session *s, unsigned long long seq,
                      const char hash[HEX_LEN + 1])
{
        char buf[HEAD_LEN + 1];

        snprintf(buf, sizeof(buf), "%020llu %s\n", seq, hash);
        return pwrite(s->head_fd, buf, HEAD_LEN, 0) == HEAD_LEN ? 0 : -EIO;
}

static int is_reserved(const char *key)
{
        return strcmp(key, "seq") == 0 || strcmp(key, "time") == 0 || strcmp(key, "type") == 0 ||
               strcmp(key, "prev") == 0;
}

/* The line for event number `seq`, without its newline; malloc'ed. */
static char *format_line(unsigned long long seq, const char *type, json_t *fields, const char *prev)
{
        json_t *o = json_object();
        const char *key;
        json_t *value;
        char now[48];
        char *line;

        if (!o || format_now(now, sizeof(now), 0) < 0) {
                json_decref(o);
                return NULL;
        }
        json_object_set_new(o, "seq", json_integer((json_int_t)seq));
        json_object_set_new(o, "time", json_string(now));
        json_object_set_new(o, "type", json_string(type));
        if (json_is_object(fields)) {
                json_object_foreach(fields, key, value)
                {
                        if (!is_reserved(key))
                                json_object_set(o, key, value);
                }
        }
        json_object_set_new(o, "prev", json_string(prev));
        line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(o);
        return line;
}

static int append_locked(struct audit_session *s, const char *type, json_t *fields)
{
        char prev[HEX_LEN + 1], hash[HEX_LEN + 1];
        unsigned long long seq;
        char *line;
        size_t len;
        int r = read_head(s, &seq, prev);

        if (r < 0)
                return r;
        line = format_line(seq + 1, type, fields, prev);
        if (!line)
                return -ENOMEM;
        len = strlen(line);
        sha256_hex(line, len, hash);
        line[len] = '\n'; /* json_dumps' terminator becomes the newline: one write */
        r = write(s->events_fd, line, len + 1) == (ssize_t)(len + 1) ? 0 : -EIO;
        line[len] = '\0';
        if (r >= 0)
                r = write_head(s, seq + 1, hash);
        if (r >= 0 && s->syslog_mirror)
                syslog(LOG_INFO, "audit %s %s", s->id, line);
        free(line);
        if (r < 0)
                return nono_error(r, "cannot write the audit log %s: %s", s->dir, strerror(-r));
        return 0;
}

int audit_event(struct audit_session *s, const char *type, json_t *fields)
{
        int r;

        if (!s)
                return 0;
        /* A forked process shares the parent's open files, and with them its flock:
         * it needs files of its own to be excluded by (and exclude) the parent. */
        if (s->owner != getpid()) {
                close_files(s);
                r = open_files(s);
                if (r < 0)
                        return r;
        }
        if (flock(s->events_fd, LOCK_EX) < 0)
                return nono_error(-errno, "cannot lock the audit log: %s", strerror(errno));
        r = append_locked(s, type, fields);
        flock(s->events_fd, LOCK_UN);
        return r;
}

/* ---- reading ---------------------------------------------------------------------- */

struct line_reader {
        FILE *f;
        char *buf;
        size_t cap;
        size_t number;
};

static int reader_open(struct line_reader *lr, const char *dir, const char *name)
{
        char *path = nono_path_join(dir, name);

        memset(lr, 0, sizeof(*lr));
        if (!path)
                return -ENOMEM;
        lr->f = fopen(path, "re");
        if (!lr->f) {
                int r = nono_error(-errno, "cannot read %s: %s", path, strerror(errno));

                free(path);
                return r;
        }
        free(path);
        return 0;
}

/* The next line without its newline; 0 at the end; -EBADMSG for a cut-off line. */
static ssize_t reader_next(struct line_reader *lr)
{
        ssize_t n = getline(&lr->buf, &lr->cap, lr->f);

        if (n < 0)
                return 0;
        lr->number++;
        if (lr->buf[n - 1] != '\n')
                return -EBADMSG;
        lr->buf[--n] = '\0';
        return n;
}

static void reader_close(struct line_reader *lr)
{
        if (lr->f)
                fclose(lr->f);
        free(lr->buf);
}

static const char *base_name(const char *dir)
{
        const char *slash = strrchr(dir, '/');

        return slash ? slash + 1 : dir;
}

static int bad_line(size_t line, const char *what)
{
        return nono_error(-EBADMSG, "line %zu: %s", line, what);
}

/* One line against the chain so far: seq, prev, and the first line's type. */
static int check_line(const char *line, size_t number, const char *expected_prev)
{
        json_t *o = json_loads(line, JSON_REJECT_DUPLICATES, NULL);
        const char *prev = json_string_value(json_object_get(o, "prev"));
        const char *type = json_string_value(json_object_get(o, "type"));
        json_int_t seq = json_integer_value(json_object_get(o, "seq"));
        int r = 0;

        if (!json_is_object(o) || !prev || !type)
                r = bad_line(number, "not an audit event (edited)");
        else if (seq != (json_int_t)number)
                r = nono_error(-EBADMSG,
                               "line %zu: sequence number %lld where %zu was expected (lines "
                               "were deleted, inserted or moved)",
                               number, (long long)seq, number);
        else if (strcmp(prev, expected_prev) != 0)
                r = nono_error(-EBADMSG,
                               "line %zu: does not follow line %zu (an earlier line was edited, "
                               "or lines were moved)",
                               number, number - 1);
        else if (number == 1 && strcmp(type, "session.start") != 0)
                r = bad_line(number, "the log does not begin with session.start");
        json_decref(o);
        return r;
}

int audit_event_is(const json_t *event, const char *key, const char *value)
{
        const char *v = json_string_value(json_object_get(event, key));

        return v && strcmp(v, value) == 0;
}

static int line_says(const char *line, const char *key, const char *value)
{
        json_t *o = json_loads(line, 0, NULL);
        int says = audit_event_is(o, key, value);

        json_decref(o);
        return says;
}

/* The head must name the last line: otherwise the end was cut off or edited. */
static int check_head(const char *dir, size_t events, const char *last_hash)
{
        struct line_reader lr;
        unsigned long long seq = 0;
        char hash[HEX_LEN + 1] = "";
        int r = reader_open(&lr, dir, HEAD_FILE);

        if (r < 0)
                return r == -ENOENT ? nono_error(-EBADMSG, "the head file is missing") : r;
        if (reader_next(&lr) <= 0 || sscanf(lr.buf, "%20llu %64s", &seq, hash) != 2)
                r = nono_error(-EBADMSG, "the head file is damaged");
        else if (seq != events)
                r = nono_error(-EBADMSG,
                               "the log ends at line %zu but its head records %llu lines "
                               "(lines were removed from the end, or added)",
                               events, seq);
        else if (strcmp(hash, last_hash) != 0)
                r = bad_line(events, "the last line was edited");
        reader_close(&lr);
        return r;
}

int audit_verify(const char *dir, struct audit_verify_result *ret)
{
        struct line_reader lr;
        char expected[HEX_LEN + 1];
        ssize_t n;
        int r = reader_open(&lr, dir, EVENTS_FILE);

        memset(ret, 0, sizeof(*ret));
        if (r < 0)
                return r;
        genesis_of(base_name(dir), expected);
        while ((n = reader_next(&lr)) > 0) {
                r = check_line(lr.buf, lr.number, expected);
                if (r < 0)
                        break;
                sha256_hex(lr.buf, (size_t)n, expected);
                ret->ended = line_says(lr.buf, "type", "session.end");
                if (lr.number == 1)
                        ret->wrap = line_says(lr.buf, "mode", "wrap");
                ret->events = lr.number;
        }
        if (r >= 0 && n < 0)
                r = bad_line(lr.number, "cut off in the middle");
        if (r >= 0 && ret->events == 0)
                r = nono_error(-EBADMSG, "the log is empty");
        if (r >= 0)
                r = check_head(dir, ret->events, expected);
        reader_close(&lr);
        return r;
}

int audit_load_events(const char *dir, json_t **ret)
{
        struct line_reader lr;
        ssize_t n;
        int r = reader_open(&lr, dir, EVENTS_FILE);

        if (r < 0)
                return r;
        *ret = json_array();
        while (*ret && (n = reader_next(&lr)) != 0) {
                json_t *o = n > 0 ? json_loads(lr.buf, 0, NULL) : NULL;

                /* Shown as found; `nono audit verify` is what judges them. */
                if (!o)
                        o = json_pack("{s:I, s:s}", "line", (json_int_t)lr.number, "unreadable",
                                      lr.buf);
                json_array_append_new(*ret, o);
        }
        reader_close(&lr);
        return *ret ? 0 : -ENOMEM;
}

/* ---- listing and cleanup ---------------------------------------------------------- */

static int compare_names(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The session ids under root, sorted (oldest first). */
static int list_ids(const char *root, struct strv *ret)
{
        DIR *d = opendir(root);
        struct dirent *e;
        int r = 0;

        if (!d)
                return errno == ENOENT
                           ? 0
                           : nono_error(-errno, "cannot read %s: %s", root, strerror(errno));
        while (r >= 0 && (e = readdir(d)))
                if (e->d_type == DT_DIR && is_session_id(e->d_name))
                        r = strv_push(ret, e->d_name);
        closedir(d);
        if (r >= 0 && ret->n)
                qsort(ret->items, ret->n, sizeof(ret->items[0]), compare_names);
        return r;
}

static void summarize(const char *dir, struct audit_summary *s)
{
        json_t *events = NULL;
        json_t *first, *last;

        s->exit_code = -1;
        if (audit_load_events(dir, &events) < 0)
                return;
        s->events = json_array_size(events);
        first = json_array_get(events, 0);
        last = json_array_get(events, s->events ? s->events - 1 : 0);
        s->start_time = nono_strdup(json_string_value(json_object_get(first, "time")));
        s->argv = json_incref(json_object_get(first, "argv"));
        s->pid = (pid_t)json_integer_value(json_object_get(first, "pid"));
        s->wrap = audit_event_is(first, "mode", "wrap");
        if (audit_event_is(last, "type", "session.end")) {
                s->ended = 1;
                s->exit_code = (int)json_integer_value(json_object_get(last, "exit_code"));
        }
        json_decref(events);
}

int audit_list(const char *root, struct audit_summary **ret, size_t *ret_n)
{
        struct strv ids = STRV_INIT;
        int r = list_ids(root, &ids);

        *ret = NULL;
        *ret_n = 0;
        if (r >= 0 && ids.n) {
                *ret = calloc(ids.n, sizeof(**ret));
                r = *ret ? 0 : -ENOMEM;
        }
        for (size_t i = 0; r >= 0 && i < ids.n; i++) {
                char *dir = nono_path_join(root, ids.items[i]);

                if (!dir) {
                        r = -ENOMEM;
                        break;
                }
                (*ret)[i].id = nono_strdup(ids.items[i]);
                summarize(dir, &(*ret)[i]);
                *ret_n = i + 1;
                free(dir);
        }
        strv_free(&ids);
        if (r < 0) {
                audit_summaries_free(*ret, *ret_n);
                *ret = NULL;
                *ret_n = 0;
        }
        return r;
}

static void summary_clear(struct audit_summary *s)
{
        free(s->id);
        free(s->start_time);
        json_decref(s->argv);
}

void audit_summaries_free(struct audit_summary *list, size_t n)
{
        for (size_t i = 0; list && i < n; i++)
                summary_clear(&list[i]);
        free(list);
}

static const char *match_id(const struct strv *ids, const char *id, int *ambiguous)
{
        const char *found = NULL;
        size_t len = strlen(id);

        *ambiguous = 0;
        if (strcmp(id, "last") == 0)
                return ids->n ? ids->items[ids->n - 1] : NULL;
        for (size_t i = 0; i < ids->n; i++) {
                if (strcmp(ids->items[i], id) == 0)
                        return ids->items[i];
                if (strncmp(ids->items[i], id, len) == 0) {
                        *ambiguous = found != NULL;
                        found = ids->items[i];
                }
        }
        return *ambiguous ? NULL : found;
}

int audit_find(const char *root, const char *id, char **ret_dir)
{
        struct strv ids = STRV_INIT;
        const char *found = NULL;
        int ambiguous = 0;
        int r;

        if (strcmp(id, "last") != 0 && !is_session_id(id))
                return nono_error(-EINVAL, "\"%s\" is not an audit session id", id);
        r = list_ids(root, &ids);
        if (r >= 0)
                found = match_id(&ids, id, &ambiguous);
        if (r >= 0 && !found)
                r = nono_error(-ENOENT,
                               ambiguous ? "audit session id %s is ambiguous"
                                         : "no audit session %s in %s",
                               id, root);
        if (r >= 0) {
                *ret_dir = nono_path_join(root, found);
                r = *ret_dir ? 0 : -ENOMEM;
        }
        strv_free(&ids);
        return r;
}

/* The start time of a session, from its id ("20261128T185201.123Z-..."). */
static time_t id_time(const char *id)
{
        struct tm tm;

        memset(&tm, 0, sizeof(tm));
        if (!strptime(id, "%Y%m%dT%H%M%S", &tm))
                return 0;
        return timegm(&tm);
}

/*
 * A session nono may still write to: its supervisor (or, for wrap, the command) is
 * alive, or it is being opened right now -- made within the last minute, session.start
 * not written yet.
 */
static int in_progress(const char *dir, const char *id, time_t now)
{
        struct audit_summary s = {0};
        int running;

        summarize(dir, &s);
        if (s.ended)
                running = 0;
        else if (s.pid > 0)
                running = kill(s.pid, 0) == 0 || errno == EPERM;
        else
                running = s.events == 0 && now - id_time(id) < 60;
        summary_clear(&s);
        return running;
}

static int remove_session(const char *root, const char *id)
{
        char *dir = nono_path_join(root, id);
        int dfd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW) : -1;
        DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
        struct dirent *e;
        int r = 0;

        if (!d) {
                /* ENOENT: another nono removed it meanwhile. */
                r = !dir ? -ENOMEM
                    : errno == ENOENT
                        ? 0
                        : nono_error(-errno, "cannot remove %s: %s", dir, strerror(errno));
                if (dfd >= 0)
                        close(dfd);
                free(dir);
                return r;
        }
        while ((e = readdir(d)))
                if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
                    unlinkat(dfd, e->d_name, 0) < 0 && r == 0)
                        r = nono_error(-errno, "cannot remove %s/%s: %s", dir, e->d_name,
                                       strerror(errno));
        closedir(d);
        if (r == 0 && rmdir(dir) < 0 && errno != ENOENT)
                r = nono_error(-errno, "cannot remove %s: %s", dir, strerror(errno));
        free(dir);
        return r;
}

/* Past a limit, going by the id alone: reading a log costs more than naming it. */
static int past_limits(const char *id, size_t index, size_t n, long keep, time_t cutoff)
{
        return (keep >= 0 && index + (size_t)keep < n) || (cutoff && id_time(id) < cutoff);
}

/* Removes the session unless it is in progress: 1 removed, 0 kept, or an error. */
static int remove_unless_in_progress(const char *root, const char *id, time_t now)
{
        char *dir = nono_path_join(root, id);
        int r = 0;

        if (!dir)
                return -ENOMEM;
        if (!in_progress(dir, id, now)) {
                r = remove_session(root, id);
                r = r < 0 ? r : 1;
        }
        free(dir);
        return r;
}

/* audit_cleanup, removing at most `max_removed` sessions. */
static int prune(const char *root, long keep, long older_than_days, size_t max_removed,
                 struct audit_cleanup_result *ret)
{
        struct strv ids = STRV_INIT;
        time_t now = time(NULL);
        time_t cutoff = older_than_days >= 0 ? now - older_than_days * 86400 : 0;
        int r = list_ids(root, &ids);

        memset(ret, 0, sizeof(*ret));
        for (size_t i = 0; r >= 0 && i < ids.n && !ret->partial; i++) {
                if (!past_limits(ids.items[i], i, ids.n, keep, cutoff))
                        continue;
                r = remove_unless_in_progress(root, ids.items[i], now);
                ret->removed += r > 0;
                ret->partial = ret->removed == max_removed;
        }
        ret->left = ids.n - ret->removed;
        strv_free(&ids);
        return r < 0 ? r : 0;
}

int audit_cleanup(const char *root, long keep, long older_than_days,
                  struct audit_cleanup_result *ret)
{
        return prune(root, keep, older_than_days, SIZE_MAX, ret);
}

/* ---- retention at session start ----------------------------------------------------- */

/*
 * <root>/.retention: "<sessions left> <time>\n" as the last prune wrote it, then one
 * byte per session opened since -- what it costs a session to know whether a prune is
 * due: open, a one-byte append, fstat, pread, close.
 */
#define RETENTION_FILE  ".retention"
#define RETENTION_EVERY 86400 /* seconds: age limits are in days */
/*
 * Removing a session costs a few file-system operations (milliseconds on a slow disk):
 * a prune waits for a batch of them, and leaves a backlog (a first run over thousands of
 * old sessions) to the next runs rather than make one run wait for all of it.
 */
#define RETENTION_BATCH 20
#define RETENTION_MAX   100

struct retention_stamp {
        long left;      /* sessions the last prune left; -1: unknown (prune now) */
        long long when; /* when it ran; 0: it stopped at RETENTION_MAX */
        long since;     /* sessions opened since */
};

static void read_stamp(int fd, struct retention_stamp *st)
{
        char buf[64];
        struct stat sb;
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
        int len = 0;

        st->left = -1;
        if (n <= 0 || fstat(fd, &sb) < 0)
                return;
        buf[n] = '\0';
        if (sscanf(buf, "%ld %lld\n%n", &st->left, &st->when, &len) != 2 || len == 0 ||
            st->left < 0) {
                st->left = -1;
                return;
        }
        st->since = (long)sb.st_size - len;
}

/*
 * Due once the sessions exceed the count limit by a batch (a tenth of a limit under
 * 200), or a day after the last prune for the age limit, or at once when the stamp is
 * missing or unreadable or the last prune left a backlog.
 */
static int prune_due(const struct retention_stamp *st, long keep, long max_age_days, time_t now)
{
        long batch = keep / 10 < 1 ? 1 : keep / 10 > RETENTION_BATCH ? RETENTION_BATCH : keep / 10;

        if (st->left < 0)
                return 1;
        if (keep > 0 && st->left + st->since > keep + batch)
                return 1;
        return max_age_days > 0 && (now < st->when || now - st->when >= RETENTION_EVERY);
}

/*
 * Prunes under the stamp's lock (another nono pruning: nothing to do), and restarts the
 * stamp also after a failed prune: the next try waits for the next batch or day, not
 * the next session.
 */
static int prune_locked(int fd, const char *root, long keep, long max_age_days, time_t now)
{
        struct audit_cleanup_result res;
        char header[64];
        int len, r;

        if (flock(fd, LOCK_EX | LOCK_NB) < 0)
                return errno == EWOULDBLOCK
                           ? 0
                           : nono_error(-errno, "cannot lock %s/" RETENTION_FILE ": %s", root,
                                        strerror(errno));
        r = prune(root, keep > 0 ? keep : -1, max_age_days > 0 ? max_age_days : -1, RETENTION_MAX,
                  &res);
        len = snprintf(header, sizeof(header), "%zu %lld\n", res.left,
                       res.partial ? 0 : (long long)now);
        /* O_APPEND: after the truncate, the header is written at the start. */
        if ((ftruncate(fd, 0) < 0 || write(fd, header, (size_t)len) != len) && r >= 0)
                r = nono_error(-EIO, "cannot write %s/" RETENTION_FILE, root);
        flock(fd, LOCK_UN);
        return r;
}

int audit_retain(const char *root, long keep, long max_age_days)
{
        struct retention_stamp st = {0};
        time_t now = time(NULL);
        char *path;
        int fd, r = 0;

        if (keep <= 0 && max_age_days <= 0)
                return 0;
        path = nono_path_join(root, RETENTION_FILE);
        if (!path)
                return -ENOMEM;
        fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                r = nono_error(-errno, "cannot open %s: %s", path, strerror(errno));
        else if (write(fd, ".", 1) != 1)
                r = nono_error(-errno, "cannot write %s: %s", path, strerror(errno));
        free(path);
        if (r < 0) {
                if (fd >= 0)
                        close(fd);
                return r;
        }
        read_stamp(fd, &st);
        if (prune_due(&st, keep, max_age_days, now))
                r = prune_locked(fd, root, keep, max_age_days, now);
        close(fd);
        return r;
}
