/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The libsecret credential source: entries of the Secret Service (GNOME Keyring,
 * KeePassXC, ...) over D-Bus, stored as items of the schema "org.nono.Credential"
 * whose attribute "name" is the reference (`libsecret://openai`), labelled
 * "nono: <name>", in the default collection.
 *
 * Every call runs libsecret's asynchronous API on a private main context, bounded by
 * a timeout (nono.conf: plugins = { libsecret = { timeout = 30; }; }, in seconds),
 * so a Secret Service that never answers is an error, not a hang.  A lookup may make
 * the keyring ask the user to unlock it, as any Secret Service client does; listing
 * never does.  nono never starts a session bus: with none known, GLib would launch
 * one (dbus-launch) behind the user's back, so that case is refused first.
 *
 * Secrets are copied from libsecret's own secure memory into host secret memory;
 * libsecret wipes its copy when the SecretValue is released.
 */
#include <nono/credential.h>
#include <nono/plugin.h>

#include <errno.h>
#include <libsecret/secret.h>
#include <string.h>

#define DEFAULT_TIMEOUT_S 30
#define MAX_TIMEOUT_S     3600
#define LABEL_PREFIX      "nono: "

static const SecretSchema nono_schema = {
    .name = "org.nono.Credential",
    .flags = SECRET_SCHEMA_NONE,
    .attributes = {{"name", SECRET_SCHEMA_ATTRIBUTE_STRING}, {NULL, 0}},
};

struct ls_state {
        const struct nono_host *host;
        unsigned timeout_s;
        /*
         * Every call's callbacks run here, and so do the sources GLib attaches for the
         * D-Bus objects libsecret creates during a call (signal subscriptions and
         * their clean-up): one context for the plugin's life, drained at fini, so that
         * nothing is left on a context nobody runs any more.
         */
        GMainContext *context;
};

/* ---- setup ------------------------------------------------------------------------- */

static int read_timeout(const struct nono_host *host, unsigned *ret)
{
        long long value;
        int r = host->config_int(host->ctx, "timeout", &value);

        if (r == -ENOENT) {
                *ret = DEFAULT_TIMEOUT_S;
                return 0;
        }
        if (r < 0 || value < 1 || value > MAX_TIMEOUT_S) {
                host->set_error(host->ctx,
                                "plugins.libsecret.timeout must be a number of seconds from 1 to "
                                "%d",
                                MAX_TIMEOUT_S);
                return -EINVAL;
        }
        *ret = (unsigned)value;
        return 0;
}

static int ls_init(const struct nono_host *host, void **ret_state)
{
        struct ls_state *st = host->alloc(host->ctx, sizeof(*st));
        int r;

        if (!st) {
                host->set_error(host->ctx, "out of memory");
                return -ENOMEM;
        }
        st->host = host;
        r = read_timeout(host, &st->timeout_s);
        if (r < 0) {
                host->free(host->ctx, st);
                return r;
        }
        st->context = g_main_context_new();
        *ret_state = st;
        return 0;
}

static void ls_fini(void *state)
{
        struct ls_state *st = state;

        if (!st)
                return;
        g_main_context_push_thread_default(st->context);
        secret_service_disconnect();
        while (g_main_context_pending(st->context))
                g_main_context_iteration(st->context, FALSE);
        g_main_context_pop_thread_default(st->context);
        g_main_context_unref(st->context);
        st->host->free(st->host->ctx, st);
}

/*
 * GLib's order: DBUS_SESSION_BUS_ADDRESS, then $XDG_RUNTIME_DIR/bus, then it would
 * autolaunch a bus; that last step is what this refuses.
 */
static int check_session_bus(const struct ls_state *st)
{
        const char *runtime = g_getenv("XDG_RUNTIME_DIR");
        gchar *bus;
        gboolean found;

        if (g_getenv("DBUS_SESSION_BUS_ADDRESS"))
                return 0;
        bus = runtime ? g_build_filename(runtime, "bus", NULL) : NULL;
        found = bus && g_file_test(bus, G_FILE_TEST_EXISTS);
        g_free(bus);
        if (found)
                return 0;
        st->host->set_error(st->host->ctx, "Secret Service not available: no D-Bus session bus "
                                           "(DBUS_SESSION_BUS_ADDRESS is not set)");
        return -ENOTCONN;
}

/* ---- one asynchronous call, bounded in time ------------------------------------------ */

struct call {
        const struct ls_state *st;
        GCancellable *cancellable;
        GAsyncResult *result;
        gboolean timed_out;
};

static void call_done(GObject *source, GAsyncResult *result, gpointer data)
{
        struct call *c = data;

        c->result = g_object_ref(result);
}

/* libsecret then completes the call with G_IO_ERROR_CANCELLED. */
static gboolean call_timeout(gpointer data)
{
        struct call *c = data;

        c->timed_out = TRUE;
        g_cancellable_cancel(c->cancellable);
        return G_SOURCE_REMOVE;
}

static void call_begin(struct call *c, const struct ls_state *st)
{
        *c = (struct call){.st = st, .cancellable = g_cancellable_new()};
        g_main_context_push_thread_default(st->context);
}

static void call_wait(struct call *c)
{
        GSource *timer = g_timeout_source_new_seconds(c->st->timeout_s);

        g_source_set_callback(timer, call_timeout, c, NULL);
        g_source_attach(timer, c->st->context);
        while (!c->result)
                g_main_context_iteration(c->st->context, TRUE);
        g_source_destroy(timer);
        g_source_unref(timer);
}

static void call_end(struct call *c)
{
        g_main_context_pop_thread_default(c->st->context);
        g_clear_object(&c->result);
        g_object_unref(c->cancellable);
}

/* Sets the message for `error` (and frees it); returns the errno. */
static int call_failed(const struct call *c, GError *error)
{
        const struct nono_host *h = c->st->host;
        int r;

        if (c->timed_out && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
                h->set_error(h->ctx, "Secret Service did not answer within %u s", c->st->timeout_s);
                r = -ETIMEDOUT;
        } else if (error->domain == G_DBUS_ERROR || error->domain == G_IO_ERROR) {
                h->set_error(h->ctx, "Secret Service not available: %s", error->message);
                r = -ENOTCONN;
        } else {
                h->set_error(h->ctx, "Secret Service: %s", error->message);
                r = -EIO;
        }
        g_error_free(error);
        return r;
}

/* ---- operations ---------------------------------------------------------------------- */

static int copy_secret(const struct ls_state *st, SecretValue *value, char **ret_secret,
                       size_t *ret_len)
{
        gsize len;
        const gchar *bytes = secret_value_get(value, &len);
        char *secret = st->host->secret_alloc(st->host->ctx, len + 1);

        if (!secret) {
                st->host->set_error(st->host->ctx, "cannot allocate secret memory");
                return -ENOMEM;
        }
        memcpy(secret, bytes, len);
        *ret_secret = secret;
        *ret_len = len;
        return 0;
}

static int ls_lookup(void *state, const char *ref, char **ret_secret, size_t *ret_len)
{
        const struct ls_state *st = state;
        GError *error = NULL;
        SecretValue *value;
        GHashTable *attributes;
        struct call c;
        int r = check_session_bus(st);

        if (r < 0)
                return r;
        attributes = secret_attributes_build(&nono_schema, "name", ref, NULL);
        call_begin(&c, st);
        secret_password_lookupv(&nono_schema, attributes, c.cancellable, call_done, &c);
        call_wait(&c);
        value = secret_password_lookup_binary_finish(c.result, &error);
        if (value)
                r = copy_secret(st, value, ret_secret, ret_len);
        else
                r = error ? call_failed(&c, error) : NONO_DECLINED;
        if (value)
                secret_value_unref(value);
        call_end(&c);
        g_hash_table_unref(attributes);
        return r;
}

static int ls_store(void *state, const char *ref, const char *secret, size_t len)
{
        const struct ls_state *st = state;
        SecretValue *value = NULL;
        GError *error = NULL;
        GHashTable *attributes;
        gchar *label;
        struct call c;
        int r = check_session_bus(st);

        if (r < 0)
                return r;
        if (len > G_MAXSSIZE) {
                st->host->set_error(st->host->ctx, "secret too long");
                return -E2BIG;
        }
        attributes = secret_attributes_build(&nono_schema, "name", ref, NULL);
        label = g_strconcat(LABEL_PREFIX, ref, NULL);
        value = secret_value_new(secret, (gssize)len, "text/plain");
        call_begin(&c, st);
        secret_password_storev_binary(&nono_schema, attributes, SECRET_COLLECTION_DEFAULT, label,
                                      value, c.cancellable, call_done, &c);
        call_wait(&c);
        if (!secret_password_store_finish(c.result, &error))
                r = call_failed(&c, error);
        call_end(&c);
        secret_value_unref(value);
        g_free(label);
        g_hash_table_unref(attributes);
        return r;
}

static int ls_remove(void *state, const char *ref)
{
        const struct ls_state *st = state;
        GError *error = NULL;
        GHashTable *attributes;
        struct call c;
        int r = check_session_bus(st);

        if (r < 0)
                return r;
        attributes = secret_attributes_build(&nono_schema, "name", ref, NULL);
        call_begin(&c, st);
        secret_password_clearv(&nono_schema, attributes, c.cancellable, call_done, &c);
        call_wait(&c);
        if (!secret_password_clear_finish(c.result, &error))
                r = error ? call_failed(&c, error) : NONO_DECLINED;
        call_end(&c);
        g_hash_table_unref(attributes);
        return r;
}

/* Items the keyring will not describe without unlocking are left out: listing never
 * prompts. */
static int each_name(GList *items, int (*each)(const char *ref, void *userdata), void *userdata)
{
        int r = 0;

        for (GList *l = items; l && r == 0; l = l->next) {
                GHashTable *attributes = secret_retrievable_get_attributes(l->data);
                const char *name = attributes ? g_hash_table_lookup(attributes, "name") : NULL;

                if (name)
                        r = each(name, userdata);
                if (attributes)
                        g_hash_table_unref(attributes);
        }
        return r;
}

static int ls_list(void *state, int (*each)(const char *ref, void *userdata), void *userdata)
{
        const struct ls_state *st = state;
        GError *error = NULL;
        GHashTable *attributes;
        GList *items;
        struct call c;
        int r = check_session_bus(st);

        if (r < 0)
                return r;
        attributes = secret_attributes_build(&nono_schema, NULL);
        call_begin(&c, st);
        secret_password_searchv(&nono_schema, attributes, SECRET_SEARCH_ALL, c.cancellable,
                                call_done, &c);
        call_wait(&c);
        items = secret_password_search_finish(c.result, &error);
        if (error)
                r = call_failed(&c, error);
        else
                r = each_name(items, each, userdata);
        g_list_free_full(items, g_object_unref);
        call_end(&c);
        g_hash_table_unref(attributes);
        return r;
}

static const struct nono_credential_ops ops = {
    .size = sizeof(struct nono_credential_ops),
    .lookup = ls_lookup,
    .store = ls_store,
    .remove = ls_remove,
    .list = ls_list,
};

NONO_PLUGIN_DEFINE(libsecret, NONO_PLUGIN_CREDENTIAL, "libsecret", "0.1.0",
                   "credentials in the Secret Service over D-Bus (libsecret://NAME)", ls_init,
                   ls_fini, &ops)
