/* SPDX-License-Identifier: Apache-2.0 */
#include "engine.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "content.h"
#include "digest.h"
#include "error.h"

#define META_FORMAT 1
/* Timestamps within this much of a snapshot may hide a later change of the same tick
 * (coarse file system clocks): such files are hashed again next time. */
#define RACY_NS        (100 * 1000000ll)
#define SESSION_PREFIX "session/"

static int64_t now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- taking a snapshot ----------------------------------------------------------------- */

static int reusable(const struct mentry *e, const struct manifest *prev)
{
        const struct mentry *p = prev ? manifest_find(prev, e->path) : NULL;

        return p && p->type == ENTRY_FILE && p->size == e->size && p->mtime_ns == e->mtime_ns &&
               p->ctime_ns == e->ctime_ns && p->ino == e->ino &&
               p->ctime_ns < prev->time_ns - RACY_NS;
}

static void set_stat(struct mentry *e, const struct stat *st)
{
        e->mode = st->st_mode & 07777;
        e->size = (uint64_t)st->st_size;
        e->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
        e->ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
        e->ino = st->st_ino;
}

/* 0, or 1 when the file cannot be read (left out, with a warning). */
static int hash_file(struct objstore *os, int rootfd, struct mentry *e)
{
        int fd = open_beneath(rootfd, e->path, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0);
        struct stat st;
        int r;

        if (fd < 0) {
                nono_warn("snapshot: %s left out: %s", e->path, strerror(-fd));
                return 1;
        }
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                close(fd);
                nono_warn("snapshot: %s left out: changed while read", e->path);
                return 1;
        }
        set_stat(e, &st);
        r = content_store(os, fd, e->size, e);
        close(fd);
        os->stats.files_hashed++;
        os->stats.bytes_hashed += e->size;
        return r;
}

/* Removes the entries marked with type 0, keeping the order. */
static void drop_marked(struct manifest *m)
{
        size_t j = 0;

        m->files = m->bytes = 0;
        for (size_t i = 0; i < m->n; i++) {
                if (!m->e[i].type) {
                        free(m->e[i].path);
                        free(m->e[i].target);
                        continue;
                }
                m->e[j++] = m->e[i];
                if (m->e[i].type == ENTRY_FILE) {
                        m->files++;
                        m->bytes += m->e[i].size;
                }
        }
        m->n = j;
}

int snapshot_take(struct objstore *os, int rootfd, const struct walk_options *wo,
                  const struct manifest *prev, struct manifest *ret, struct nono_digest *ret_record)
{
        uint64_t done = 0;
        int r, dropped = 0;

        memset(ret, 0, sizeof(*ret));
        ret->time_ns = now_ns();
        r = walk_tree(rootfd, wo, ret);
        for (size_t i = 0; r >= 0 && i < ret->n; i++) {
                struct mentry *e = &ret->e[i];
                const struct mentry *p;

                if (e->type != ENTRY_FILE)
                        continue;
                snapshot_report(wo->progress, wo->stage, done++, ret->files);
                if (reusable(e, prev)) {
                        p = manifest_find(prev, e->path);
                        e->digest = p->digest;
                        e->flags = p->flags;
                        continue;
                }
                r = hash_file(os, rootfd, e);
                if (r == 1) {
                        e->type = 0;
                        dropped = 1;
                        r = 0;
                }
        }
        if (r >= 0 && dropped)
                drop_marked(ret);
        os->stats.files = ret->files;
        if (r >= 0 && !os->hash_only)
                r = manifest_store(os, ret, prev, ret_record);
        if (r < 0)
                manifest_free(ret);
        return r;
}

/* ---- sessions -------------------------------------------------------------------------- */

void session_meta_free(struct session_meta *m)
{
        free(m->id);
        free(m->root);
        strv_free(&m->patterns);
        memset(m, 0, sizeof(*m));
}

char *session_ref(const char *id, unsigned index)
{
        return nono_asprintf(SESSION_PREFIX "%s/%u", id, index);
}

/* Ids are ours (see new_id); anything else could reach other refs. */
static int check_id(const char *id)
{
        size_t len = strlen(id);

        if (len == 0 || len > 64 || strspn(id, "0123456789abcdef-") != len)
                return nono_error(-EINVAL, "\"%s\" is not a session id (see nono rollback list)",
                                  id);
        return 0;
}

static int meta_to_json(const struct session_meta *m, char **ret)
{
        json_t *o = json_pack("{s:i, s:s, s:I, s:s, s:b, s:[]}", "format", META_FORMAT, "id", m->id,
                              "time", (json_int_t)m->time, "root", m->root, "use_gitignore",
                              m->use_gitignore, "exclude_patterns");
        json_t *pats = o ? json_object_get(o, "exclude_patterns") : NULL;

        for (size_t i = 0; pats && i < m->patterns.n; i++)
                json_array_append_new(pats, json_string(m->patterns.items[i]));
        *ret = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        json_decref(o);
        return *ret ? 0 : -ENOMEM;
}

static int meta_from_json(const char *text, size_t len, struct session_meta *m)
{
        json_t *o = json_loadb(text, len, 0, NULL), *pats = NULL;
        const char *id = NULL, *root = NULL;
        json_int_t time = 0, format = 0;
        int gi = 0, r = 0;

        if (!o ||
            json_unpack(o, "{s:I, s:s, s:I, s:s, s:b, s:o}", "format", &format, "id", &id, "time",
                        &time, "root", &root, "use_gitignore", &gi, "exclude_patterns",
                        &pats) < 0 ||
            format != META_FORMAT || !json_is_array(pats) || root[0] != '/') {
                json_decref(o);
                return nono_error(-EBADMSG, "the session's description is malformed");
        }
        m->id = nono_strdup(id);
        m->root = nono_strdup(root);
        m->time = time;
        m->use_gitignore = gi;
        for (size_t i = 0; i < json_array_size(pats) && r >= 0; i++) {
                const char *p = json_string_value(json_array_get(pats, i));

                r = p ? strv_push(&m->patterns, p) : -EBADMSG;
        }
        json_decref(o);
        if (r >= 0 && (!m->id || !m->root))
                r = -ENOMEM;
        return r;
}

struct count_ctx {
        size_t prefix_len;
        unsigned n;
};

static int count_snapshot(const char *name, const struct nono_digest *d, void *userdata)
{
        struct count_ctx *c = userdata;
        const char *rest = name + c->prefix_len;
        char *end;
        unsigned long i = strtoul(rest, &end, 10);

        if (*rest >= '0' && *rest <= '9' && !*end && i + 1 > c->n)
                c->n = (unsigned)i + 1;
        return 0;
}

int session_meta_load(struct objstore *os, const char *id, struct session_meta *ret)
{
        char *name, *prefix;
        struct nono_digest d;
        struct count_ctx c = {0, 0};
        void *text;
        size_t len;
        int r = check_id(id);

        memset(ret, 0, sizeof(*ret));
        if (r < 0)
                return r;
        name = nono_asprintf(SESSION_PREFIX "%s/meta", id);
        if (!name)
                return -ENOMEM;
        r = objstore_ref_get(os, name, &d);
        free(name);
        if (r == -ENOENT)
                return nono_error(-ENOENT, "no session %s (see nono rollback list)", id);
        if (r >= 0)
                r = objstore_get(os, &d, &text, &len);
        if (r < 0)
                return r;
        r = meta_from_json(text, len, ret);
        free(text);
        prefix = nono_asprintf(SESSION_PREFIX "%s/", id);
        if (r >= 0 && !prefix)
                r = -ENOMEM;
        c.prefix_len = prefix ? strlen(prefix) : 0;
        if (r >= 0)
                r = objstore_ref_list(os, prefix, count_snapshot, &c);
        free(prefix);
        ret->n_snapshots = c.n;
        if (r < 0)
                session_meta_free(ret);
        return r;
}

int session_index(const struct session_meta *m, int index, unsigned *ret)
{
        long i = index < 0 ? (long)m->n_snapshots + index : index;

        if (i < 0 || i >= (long)m->n_snapshots)
                return nono_error(-ENOENT, "session %s has no snapshot %d (it has %u)", m->id,
                                  index, m->n_snapshots);
        *ret = (unsigned)i;
        return 0;
}

int session_load(struct objstore *os, const char *id, unsigned index, const struct manifest *hint,
                 struct manifest *ret)
{
        char *name = session_ref(id, index);
        struct nono_digest d;
        int r;

        memset(ret, 0, sizeof(*ret));
        if (!name)
                return -ENOMEM;
        r = objstore_ref_get(os, name, &d);
        free(name);
        if (r == -ENOENT)
                return nono_error(-ENOENT, "session %s has no snapshot %u", id, index);
        if (r >= 0)
                r = manifest_load(os, &d, hint, ret);
        if (r < 0)
                nono_error_prefix(r, "snapshot %u of session %s: ", index, id);
        return r;
}

int session_root_open(struct objstore *os, const struct session_meta *m, struct session_root *ret)
{
        struct exclude_options eo = {m->use_gitignore, (const char *const *)m->patterns.items,
                                     m->patterns.n};
        struct stat st;
        int r;

        memset(ret, 0, sizeof(*ret));
        ret->fd = open(m->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (ret->fd < 0)
                return nono_error(-errno, "cannot open %s: %s", m->root, strerror(errno));
        r = exclude_open(m->root, &eo, &ret->rules);
        if (r < 0) {
                close(ret->fd);
                ret->fd = -1;
                return r;
        }
        ret->walk.rules = ret->rules;
        if (stat(os->location, &st) == 0) {
                ret->walk.skip_dev = st.st_dev;
                ret->walk.skip_ino = st.st_ino;
        }
        return 0;
}

void session_root_close(struct session_root *r)
{
        if (r->fd >= 0)
                close(r->fd);
        exclude_free(r->rules);
        memset(r, 0, sizeof(*r));
        r->fd = -1;
}

/* ---- the session API ------------------------------------------------------------------- */

struct snapshot_session {
        struct session_meta meta;
        struct manifest last;
        struct snapshot_stats stats;
};

/* "20261128-185200-123-1a2b": UTC time to the millisecond, so that the store's sorted
 * refs list sessions in the order they were taken, then a random part. */
static int new_id(char **ret)
{
        struct timespec ts;
        uint16_t rnd = 0;
        char stamp[32];
        struct tm tm;

        clock_gettime(CLOCK_REALTIME, &ts);
        if (getrandom(&rnd, sizeof(rnd), 0) < 0)
                rnd = (uint16_t)getpid();
        strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", gmtime_r(&ts.tv_sec, &tm));
        *ret = nono_asprintf("%s-%03ld-%04x", stamp, ts.tv_nsec / 1000000, rnd);
        return *ret ? 0 : -ENOMEM;
}

static int meta_init(struct session_meta *m, const struct snapshot_options *opt)
{
        int r = 0;

        memset(m, 0, sizeof(*m));
        if (!opt->root || opt->root[0] != '/')
                return nono_error(-EINVAL, "the snapshot root must be an absolute path");
        m->time = time(NULL);
        m->root = nono_strdup(opt->root);
        m->use_gitignore = opt->use_gitignore;
        for (size_t i = 0; i < opt->n_exclude_patterns && r >= 0; i++)
                r = strv_push(&m->patterns, opt->exclude_patterns[i]);
        if (r >= 0 && !m->root)
                r = -ENOMEM;
        if (r >= 0)
                r = new_id(&m->id);
        return r;
}

static int meta_store(struct objstore *os, const struct session_meta *m)
{
        struct nono_digest d;
        char *text, *name;
        int r = meta_to_json(m, &text);

        if (r < 0)
                return r;
        r = objstore_put(os, text, strlen(text), &d);
        free(text);
        name = nono_asprintf(SESSION_PREFIX "%s/meta", m->id);
        if (r >= 0 && !name)
                r = -ENOMEM;
        if (r >= 0)
                r = objstore_ref_set(os, name, &d);
        free(name);
        return r;
}

/*
 * Takes the session's next snapshot; commits it with its ref (the store's last write,
 * so a crash before it leaves the earlier snapshots as they were).
 */
static int take_next(struct snapshot_session *s, const struct snapshot_progress *progress,
                     struct snapshot_changes *changes)
{
        struct session_root root;
        struct nono_digest record;
        struct manifest m = {0};
        struct objstore os;
        char *name = NULL;
        int r = objstore_open(&os, OBJSTORE_SHARED);

        if (r < 0)
                return r;
        r = session_root_open(&os, &s->meta, &root);
        root.walk.progress = progress;
        root.walk.stage = "snapshot";
        if (r >= 0)
                r = snapshot_take(&os, root.fd, &root.walk, s->meta.n_snapshots ? &s->last : NULL,
                                  &m, &record);
        session_root_close(&root);
        if (r >= 0 && s->meta.n_snapshots == 0)
                r = meta_store(&os, &s->meta);
        if (r >= 0 && !(name = session_ref(s->meta.id, s->meta.n_snapshots)))
                r = -ENOMEM;
        if (r >= 0)
                r = objstore_ref_set(&os, name, &record);
        free(name);
        s->stats = os.stats;
        objstore_close(&os);
        if (r >= 0 && changes)
                r = manifest_diff(&s->last, &m, changes);
        if (r < 0) {
                manifest_free(&m);
                return r;
        }
        manifest_free(&s->last);
        s->last = m;
        s->meta.n_snapshots++;
        return 0;
}

static void session_close(struct snapshot_session *s)
{
        session_meta_free(&s->meta);
        manifest_free(&s->last);
        free(s);
}

static int api_baseline(const struct snapshot_options *opt,
                        const struct snapshot_progress *progress, struct snapshot_session **ret)
{
        struct snapshot_session *s = calloc(1, sizeof(*s));
        int r = s ? meta_init(&s->meta, opt) : -ENOMEM;

        if (r >= 0)
                r = take_next(s, progress, NULL);
        if (r < 0) {
                if (s)
                        session_close(s);
                return r == -ENOMEM ? nono_error(r, "out of memory") : r;
        }
        *ret = s;
        return 0;
}

static int api_incremental(struct snapshot_session *s, const struct snapshot_progress *progress,
                           struct snapshot_changes *ret)
{
        return take_next(s, progress, ret);
}

static int api_open_session(const char *id, struct snapshot_session **ret)
{
        struct snapshot_session *s = calloc(1, sizeof(*s));
        struct objstore os;
        int r = s ? objstore_open(&os, OBJSTORE_SHARED) : -ENOMEM;

        if (r < 0) {
                free(s);
                return r;
        }
        r = session_meta_load(&os, id, &s->meta);
        if (r >= 0 && s->meta.n_snapshots)
                r = session_load(&os, id, s->meta.n_snapshots - 1, NULL, &s->last);
        objstore_close(&os);
        if (r < 0) {
                session_close(s);
                return r;
        }
        *ret = s;
        return 0;
}

static const char *api_session_id(const struct snapshot_session *s)
{
        return s->meta.id;
}

static void api_session_stats(const struct snapshot_session *s, struct snapshot_stats *ret)
{
        *ret = s->stats;
}

/* ---- list, show, diff ------------------------------------------------------------------ */

struct list_ctx {
        struct strv ids;
};

static int collect_id(const char *name, const struct nono_digest *d, void *userdata)
{
        struct list_ctx *c = userdata;
        const char *id = name + strlen(SESSION_PREFIX);
        const char *slash = strchr(id, '/');
        char *copy;
        int r;

        if (!slash || strcmp(slash, "/meta") != 0)
                return 0;
        copy = strndup(id, (size_t)(slash - id));
        if (!copy)
                return -ENOMEM;
        r = strv_push(&c->ids, copy);
        free(copy);
        return r;
}

static int list_ids(struct objstore *os, struct strv *ret)
{
        struct list_ctx c = {STRV_INIT};
        int r = objstore_ref_list(os, SESSION_PREFIX, collect_id, &c);

        if (r < 0)
                strv_free(&c.ids);
        *ret = c.ids;
        return r;
}

static int api_list(struct snapshot_sessions *ret)
{
        struct strv ids = STRV_INIT;
        struct objstore os;
        int r = objstore_open(&os, OBJSTORE_SHARED);

        memset(ret, 0, sizeof(*ret));
        if (r >= 0)
                r = list_ids(&os, &ids);
        if (r >= 0 && ids.n && !(ret->items = calloc(ids.n, sizeof(*ret->items))))
                r = -ENOMEM;
        /* Ids start with the time: the store's sorted refs list them oldest first. */
        for (size_t i = 0; r >= 0 && i < ids.n; i++) {
                struct session_meta m;
                struct snapshot_session_info *info = &ret->items[ret->n];

                r = session_meta_load(&os, ids.items[i], &m);
                if (r < 0)
                        break;
                *info = (struct snapshot_session_info){m.id, m.time, m.root, m.n_snapshots};
                m.id = m.root = NULL;
                session_meta_free(&m);
                ret->n++;
        }
        strv_free(&ids);
        if (os.plugin)
                objstore_close(&os);
        if (r < 0)
                snapshot_sessions_free(ret);
        return r;
}

static int api_show(const char *id, struct snapshot_history *ret)
{
        struct session_meta m;
        struct objstore os;
        int r = objstore_open(&os, OBJSTORE_SHARED);

        memset(ret, 0, sizeof(*ret));
        if (r < 0)
                return r;
        r = session_meta_load(&os, id, &m);
        if (r >= 0 && m.n_snapshots &&
            !(ret->snapshots = calloc(m.n_snapshots, sizeof(*ret->snapshots))))
                r = -ENOMEM;
        for (unsigned i = 0; r >= 0 && i < m.n_snapshots; i++) {
                struct snapshot_info *info = &ret->snapshots[i];
                char *name = session_ref(id, i);
                struct nono_digest d;
                struct manifest rec;

                r = name ? objstore_ref_get(&os, name, &d) : -ENOMEM;
                free(name);
                if (r >= 0)
                        r = manifest_load_record(&os, &d, &rec);
                if (r < 0)
                        break;
                *info = (struct snapshot_info){i, rec.time_ns, "", rec.files, rec.bytes};
                digest_hex(&rec.root, info->root_digest);
                ret->n++;
        }
        objstore_close(&os);
        if (r >= 0) {
                ret->session = (struct snapshot_session_info){m.id, m.time, m.root, m.n_snapshots};
                ret->use_gitignore = m.use_gitignore;
                ret->exclude_patterns = m.patterns.items;
                ret->n_exclude_patterns = m.patterns.n;
                return 0;
        }
        session_meta_free(&m);
        snapshot_history_free(ret);
        return r;
}

static int api_diff(const char *id, int from, int to, struct snapshot_changes *ret)
{
        struct manifest a = {0}, b = {0};
        struct session_meta m = {0};
        unsigned ia = 0, ib = 0;
        struct objstore os;
        int r = objstore_open(&os, OBJSTORE_SHARED);

        memset(ret, 0, sizeof(*ret));
        if (r < 0)
                return r;
        r = session_meta_load(&os, id, &m);
        if (r >= 0)
                r = session_index(&m, from, &ia);
        if (r >= 0)
                r = session_index(&m, to, &ib);
        if (r >= 0)
                r = session_load(&os, id, ia, NULL, &a);
        if (r >= 0)
                r = session_load(&os, id, ib, &a, &b);
        if (r >= 0)
                r = manifest_diff(&a, &b, ret);
        manifest_free(&a);
        manifest_free(&b);
        session_meta_free(&m);
        objstore_close(&os);
        return r;
}

/* ---- verify ---------------------------------------------------------------------------- */

static int verify_snapshot(struct objstore *os, const struct session_meta *m, unsigned i,
                           struct digest_set *seen, struct snapshot_problems *ret)
{
        struct manifest man;
        int r = session_load(os, m->id, i, NULL, &man);

        if (r < 0)
                return r == -ENOMEM ? r : snapshot_problems_add(ret, "%s", nono_errmsg());
        for (size_t k = 0; r >= 0 && k < man.n; k++) {
                if (man.e[k].type != ENTRY_FILE)
                        continue;
                r = content_objects(os, &man.e[k], 1, seen);
                if (r < 0 && r != -ENOMEM)
                        r = snapshot_problems_add(ret, "snapshot %u: %s: %s", i, man.e[k].path,
                                                  nono_errmsg());
        }
        manifest_free(&man);
        return r;
}

static int api_verify(const char *id, struct snapshot_problems *ret)
{
        struct digest_set seen = {0};
        struct session_meta m;
        struct objstore os;
        int r = objstore_open(&os, OBJSTORE_SHARED);

        memset(ret, 0, sizeof(*ret));
        if (r < 0)
                return r;
        r = session_meta_load(&os, id, &m);
        for (unsigned i = 0; r >= 0 && i < m.n_snapshots; i++)
                r = verify_snapshot(&os, &m, i, &seen, ret);
        ret->objects_checked = seen.n;
        digest_set_free(&seen);
        session_meta_free(&m);
        objstore_close(&os);
        if (r < 0)
                snapshot_problems_free(ret);
        return r;
}

/* ---- cleanup --------------------------------------------------------------------------- */

static int add_ref_target(const char *name, const struct nono_digest *d, void *userdata)
{
        return digest_set_add(userdata, d) < 0 ? -ENOMEM : 0;
}

/* Every object a remaining ref reaches: metas, records, directories, contents. */
static int mark_live(struct objstore *os, struct digest_set *live)
{
        struct strv ids = STRV_INIT;
        int r = objstore_ref_list(os, SESSION_PREFIX, add_ref_target, live);

        if (r >= 0)
                r = list_ids(os, &ids);
        for (size_t i = 0; r >= 0 && i < ids.n; i++) {
                struct session_meta m;

                r = session_meta_load(os, ids.items[i], &m);
                for (unsigned k = 0; r >= 0 && k < m.n_snapshots; k++) {
                        struct manifest man;

                        r = session_load(os, m.id, k, NULL, &man);
                        for (size_t j = 0; r >= 0 && j < man.n; j++) {
                                if (man.e[j].type == ENTRY_DIR)
                                        r = digest_set_add(live, &man.e[j].digest);
                                else if (man.e[j].type == ENTRY_FILE)
                                        r = content_objects(os, &man.e[j], 0, live);
                        }
                        r = r < 0 ? r : digest_set_add(live, &man.root);
                        manifest_free(&man);
                }
                session_meta_free(&m);
        }
        strv_free(&ids);
        return r < 0 ? r : 0;
}

struct sweep_ctx {
        const struct digest_set *live;
        struct nono_digest *dead;
        size_t n, cap;
};

static int note_dead(const struct nono_digest *d, void *userdata)
{
        struct sweep_ctx *c = userdata;

        if (digest_set_contains(c->live, d))
                return 0;
        if (c->n == c->cap) {
                size_t cap = c->cap ? c->cap * 2 : 256;
                struct nono_digest *bigger = realloc(c->dead, cap * sizeof(*bigger));

                if (!bigger)
                        return -ENOMEM;
                c->dead = bigger;
                c->cap = cap;
        }
        c->dead[c->n++] = *d;
        return 0;
}

static int collect_garbage(struct objstore *os, uint64_t *ret_removed)
{
        struct digest_set live = {0};
        struct sweep_ctx c = {&live, NULL, 0, 0};
        int r = mark_live(os, &live);

        if (r >= 0)
                r = objstore_object_list(os, note_dead, &c);
        for (size_t i = 0; r >= 0 && i < c.n; i++)
                r = objstore_remove(os, &c.dead[i]);
        if (r >= 0)
                r = objstore_sync(os);
        *ret_removed = r >= 0 ? c.n : 0;
        free(c.dead);
        digest_set_free(&live);
        return r;
}

struct delete_ctx {
        struct objstore *os;
        struct strv names;
};

static int collect_ref(const char *name, const struct nono_digest *d, void *userdata)
{
        return strv_push(&((struct delete_ctx *)userdata)->names, name);
}

static int delete_session(struct objstore *os, const char *id)
{
        struct delete_ctx c = {os, STRV_INIT};
        char *prefix = nono_asprintf(SESSION_PREFIX "%s/", id);
        int r = prefix ? objstore_ref_list(os, prefix, collect_ref, &c) : -ENOMEM;

        /* The meta goes last: a session interrupted here is still listed. */
        for (size_t i = c.names.n; r >= 0 && i > 0; i--)
                if (!strstr(c.names.items[i - 1], "/meta"))
                        r = objstore_ref_delete(os, c.names.items[i - 1]);
        for (size_t i = 0; r >= 0 && i < c.names.n; i++)
                if (strstr(c.names.items[i], "/meta"))
                        r = objstore_ref_delete(os, c.names.items[i]);
        strv_free(&c.names);
        free(prefix);
        return r < 0 && r != -ENOENT ? r : 0;
}

static int doomed(const struct snapshot_cleanup_options *opt, const struct session_meta *m,
                  size_t index, size_t total, long keep)
{
        int64_t cutoff = (int64_t)time(NULL) - (int64_t)opt->older_than_days * 86400;

        if (keep >= 0 && total - index > (size_t)keep)
                return 1;
        return opt->older_than_days >= 0 && m->time <= cutoff;
}

static int api_cleanup(const struct snapshot_cleanup_options *opt,
                       struct snapshot_cleanup_report *ret)
{
        struct strv ids = STRV_INIT;
        struct objstore os;
        long keep = opt->keep;
        int r = objstore_open(&os, OBJSTORE_EXCLUSIVE);

        memset(ret, 0, sizeof(*ret));
        if (r < 0)
                return r;
        /* Neither limit given: nono.conf's store.keep, else 10. */
        if (keep < 0 && opt->older_than_days < 0)
                keep = os.config.store_keep >= 0 ? (long)os.config.store_keep : 10;
        r = list_ids(&os, &ids);
        for (size_t i = 0; r >= 0 && i < ids.n; i++) {
                struct session_meta m;

                r = session_meta_load(&os, ids.items[i], &m);
                if (r >= 0 && doomed(opt, &m, i, ids.n, keep)) {
                        ret->sessions_removed++;
                        r = opt->dry_run ? 0 : delete_session(&os, m.id);
                }
                session_meta_free(&m);
        }
        if (r >= 0 && !opt->dry_run)
                r = collect_garbage(&os, &ret->objects_removed);
        strv_free(&ids);
        objstore_close(&os);
        return r;
}

/* ---- the table libnono's façade calls -------------------------------------------------- */

static const struct snapshot_engine engine = {
    .version = SNAPSHOT_ENGINE_VERSION,
    .size = sizeof(struct snapshot_engine),
    .baseline = api_baseline,
    .incremental = api_incremental,
    .open_session = api_open_session,
    .session_id = api_session_id,
    .session_stats = api_session_stats,
    .session_close = session_close,
    .list = api_list,
    .show = api_show,
    .diff = api_diff,
    .restore = engine_restore,
    .verify = api_verify,
    .cleanup = api_cleanup,
};

const struct snapshot_engine *nono_snapshot_engine(void);

const struct snapshot_engine *nono_snapshot_engine(void)
{
        return &engine;
}
