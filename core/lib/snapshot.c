/* SPDX-License-Identifier: Apache-2.0 */
#include "snapshot.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "layout.h"
#include "strv.h"

static const struct snapshot_engine *engine;
static int engine_err;
static char engine_msg[512];
static pthread_once_t engine_once = PTHREAD_ONCE_INIT;

static void engine_load(void)
{
        const char *path = layout_get()->snapshot_lib;
        void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        snapshot_engine_fn query;

        if (!handle) {
                engine_err = -ENOENT;
                snprintf(engine_msg, sizeof(engine_msg), "cannot load the snapshot engine: %s",
                         dlerror());
                return;
        }
        *(void **)&query = dlsym(handle, SNAPSHOT_ENGINE_SYMBOL);
        engine = query ? query() : NULL;
        if (!engine || engine->version != SNAPSHOT_ENGINE_VERSION ||
            engine->size < sizeof(struct snapshot_engine)) {
                engine = NULL;
                engine_err = -ENOEXEC;
                snprintf(engine_msg, sizeof(engine_msg),
                         "the snapshot engine %s does not match this libnono (version %u)", path,
                         SNAPSHOT_ENGINE_VERSION);
        }
}

/* Loaded once per process, on the first snapshot call; never unloaded. */
static const struct snapshot_engine *engine_get(int *err)
{
        pthread_once(&engine_once, engine_load);
        if (!engine)
                *err = nono_error(engine_err, "%s", engine_msg);
        return engine;
}

#define CALL(expr)                                                                                 \
        do {                                                                                       \
                int err_;                                                                          \
                const struct snapshot_engine *e = engine_get(&err_);                               \
                return e ? (expr) : err_;                                                          \
        } while (0)

int snapshot_baseline(const struct snapshot_options *opt, const struct snapshot_progress *progress,
                      struct snapshot_session **ret)
{
        CALL(e->baseline(opt, progress, ret));
}

int snapshot_incremental(struct snapshot_session *s, const struct snapshot_progress *progress,
                         struct snapshot_changes *ret)
{
        CALL(e->incremental(s, progress, ret));
}

int snapshot_open_session(const char *id, struct snapshot_session **ret)
{
        CALL(e->open_session(id, ret));
}

int snapshot_list(struct snapshot_sessions *ret)
{
        CALL(e->list(ret));
}

int snapshot_show(const char *id, struct snapshot_history *ret)
{
        CALL(e->show(id, ret));
}

int snapshot_diff(const char *id, int from, int to, struct snapshot_changes *ret)
{
        CALL(e->diff(id, from, to, ret));
}

int snapshot_restore(const char *id, int index, int dry_run,
                     const struct snapshot_progress *progress, struct snapshot_changes *ret)
{
        CALL(e->restore(id, index, dry_run, progress, ret));
}

int snapshot_verify(const char *id, struct snapshot_problems *ret)
{
        CALL(e->verify(id, ret));
}

int snapshot_cleanup(const struct snapshot_cleanup_options *opt,
                     struct snapshot_cleanup_report *ret)
{
        CALL(e->cleanup(opt, ret));
}

/* A session exists only if the engine is loaded. */
const char *snapshot_session_id(const struct snapshot_session *s)
{
        return engine->session_id(s);
}

void snapshot_session_stats(const struct snapshot_session *s, struct snapshot_stats *ret)
{
        engine->session_stats(s, ret);
}

void snapshot_session_close(struct snapshot_session *s)
{
        if (s)
                engine->session_close(s);
}

/* ---- result lists ---------------------------------------------------------------------- */

int snapshot_changes_add(struct snapshot_changes *c, char kind, char type, const char *path)
{
        struct snapshot_change *items = c->items;
        char *copy;

        if (c->n == c->cap) {
                size_t cap = c->cap ? c->cap * 2 : 16;

                items = realloc(c->items, cap * sizeof(*items));
                if (!items)
                        return -ENOMEM;
                c->items = items;
                c->cap = cap;
        }
        copy = nono_strdup(path);
        if (!copy)
                return -ENOMEM;
        items[c->n++] = (struct snapshot_change){kind, type, copy};
        c->created += kind == SNAPSHOT_CREATED;
        c->modified += kind == SNAPSHOT_MODIFIED;
        c->deleted += kind == SNAPSHOT_DELETED;
        return 0;
}

void snapshot_changes_free(struct snapshot_changes *c)
{
        for (size_t i = 0; i < c->n; i++)
                free(c->items[i].path);
        free(c->items);
        memset(c, 0, sizeof(*c));
}

void snapshot_session_info_free(struct snapshot_session_info *i)
{
        free(i->id);
        free(i->root);
        memset(i, 0, sizeof(*i));
}

void snapshot_sessions_free(struct snapshot_sessions *s)
{
        for (size_t i = 0; i < s->n; i++)
                snapshot_session_info_free(&s->items[i]);
        free(s->items);
        memset(s, 0, sizeof(*s));
}

void snapshot_history_free(struct snapshot_history *h)
{
        snapshot_session_info_free(&h->session);
        for (size_t i = 0; i < h->n_exclude_patterns; i++)
                free(h->exclude_patterns[i]);
        free(h->exclude_patterns);
        free(h->snapshots);
        memset(h, 0, sizeof(*h));
}

int snapshot_problems_add(struct snapshot_problems *p, const char *fmt, ...)
{
        char **items = realloc(p->items, (p->n + 1) * sizeof(*items));
        va_list ap;
        int n;

        if (!items)
                return -ENOMEM;
        p->items = items;
        va_start(ap, fmt);
        n = vasprintf(&items[p->n], fmt, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        p->n++;
        return 0;
}

void snapshot_problems_free(struct snapshot_problems *p)
{
        for (size_t i = 0; i < p->n; i++)
                free(p->items[i]);
        free(p->items);
        memset(p, 0, sizeof(*p));
}
