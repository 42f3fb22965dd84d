/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The keychain credential source: generic passwords of service "nono" in the user's
 * macOS keychain, through the Security framework; the account is the reference
 * (keychain://openai is the item with service "nono", account "openai").
 *
 *   security add-generic-password -s nono -a openai -w     # what `store` does
 *
 * Secrets leave the framework only into host secret memory.  The framework's own
 * copy (an immutable CFData) cannot be wiped before it is released; storing hands
 * the caller's buffer over without a copy (CFDataCreateWithBytesNoCopy).
 *
 * macOS only (plugins/meson.build builds it on darwin).  It has not been compiled or
 * run on a Mac yet: see docs/platforms.md.
 */
#include <nono/credential.h>
#include <nono/plugin.h>

#include <CoreFoundation/CoreFoundation.h>
#include <Security/Security.h>

#include <errno.h>
#include <limits.h>
#include <string.h>

#define KEYCHAIN_SERVICE "nono"
#define REF_MAX          255

struct kc_state {
        const struct nono_host *host;
};

static int kc_init(const struct nono_host *host, void **ret_state)
{
        struct kc_state *st = host->alloc(host->ctx, sizeof(*st));

        if (!st) {
                host->set_error(host->ctx, "keychain: out of memory");
                return -ENOMEM;
        }
        st->host = host;
        *ret_state = st;
        return 0;
}

static void kc_fini(void *state)
{
        struct kc_state *st = state;

        if (st)
                st->host->free(st->host->ctx, st);
}

/* ---- helpers ------------------------------------------------------------------------------- */

static int out_of_memory(const struct kc_state *st)
{
        st->host->set_error(st->host->ctx, "keychain: out of memory");
        return -ENOMEM;
}

/* A reference goes into messages: printable, short, UTF-8 (checked by CFString). */
static int check_ref(const struct kc_state *st, const char *ref)
{
        size_t n = ref ? strlen(ref) : 0;

        if (n == 0 || n > REF_MAX) {
                st->host->set_error(st->host->ctx, "keychain: a reference must have 1 to %d bytes",
                                    REF_MAX);
                return -EINVAL;
        }
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)ref[i] < 0x20 || ref[i] == 0x7f) {
                        st->host->set_error(st->host->ctx,
                                            "keychain: a reference contains a control character");
                        return -EINVAL;
                }
        return 0;
}

static int make_account(const struct kc_state *st, const char *ref, CFStringRef *ret)
{
        int r = check_ref(st, ref);

        if (r < 0)
                return r;
        *ret = CFStringCreateWithCString(kCFAllocatorDefault, ref, kCFStringEncodingUTF8);
        if (!*ret) {
                st->host->set_error(st->host->ctx, "keychain: reference %s is not UTF-8", ref);
                return -EINVAL;
        }
        return 0;
}

/* The generic-password items of service "nono", of one account when `account` is set. */
static CFMutableDictionaryRef item_query(CFStringRef account)
{
        CFMutableDictionaryRef q =
            CFDictionaryCreateMutable(kCFAllocatorDefault, 0, &kCFTypeDictionaryKeyCallBacks,
                                      &kCFTypeDictionaryValueCallBacks);

        if (!q)
                return NULL;
        CFDictionarySetValue(q, kSecClass, kSecClassGenericPassword);
        CFDictionarySetValue(q, kSecAttrService, CFSTR(KEYCHAIN_SERVICE));
        if (account)
                CFDictionarySetValue(q, kSecAttrAccount, account);
        return q;
}

/* The framework's explanation of `status`, never the secret. */
static int keychain_error(const struct kc_state *st, OSStatus status, const char *what,
                          const char *ref)
{
        char text[256] = "";
        CFStringRef msg = SecCopyErrorMessageString(status, NULL);

        if (msg) {
                if (!CFStringGetCString(msg, text, sizeof(text), kCFStringEncodingUTF8))
                        text[0] = '\0';
                CFRelease(msg);
        }
        st->host->set_error(st->host->ctx, "keychain: cannot %s %s: %s (OSStatus %d)", what, ref,
                            text[0] ? text : "unknown error", (int)status);
        switch (status) {
        case errSecAuthFailed:
        case errSecInteractionNotAllowed:
        case errSecUserCanceled:
                return -EACCES;
        default:
                return -EIO;
        }
}

/* ---- lookup -------------------------------------------------------------------------------- */

static int copy_secret(const struct kc_state *st, CFDataRef data, char **ret_secret,
                       size_t *ret_len)
{
        CFIndex n = CFDataGetLength(data);
        char *secret;

        if (n < 0)
                return -EIO;
        /* Zeroed by the host, so the copy is NUL-terminated. */
        secret = st->host->secret_alloc(st->host->ctx, (size_t)n + 1);
        if (!secret)
                return out_of_memory(st);
        memcpy(secret, CFDataGetBytePtr(data), (size_t)n);
        *ret_secret = secret;
        *ret_len = (size_t)n;
        return 0;
}

static int kc_lookup(void *state, const char *ref, char **ret_secret, size_t *ret_len)
{
        struct kc_state *st = state;
        CFStringRef account = NULL;
        CFMutableDictionaryRef q;
        CFTypeRef result = NULL;
        OSStatus status;
        int r = make_account(st, ref, &account);

        if (r < 0)
                return r;
        q = item_query(account);
        CFRelease(account);
        if (!q)
                return out_of_memory(st);
        CFDictionarySetValue(q, kSecReturnData, kCFBooleanTrue);
        CFDictionarySetValue(q, kSecMatchLimit, kSecMatchLimitOne);
        status = SecItemCopyMatching(q, &result);
        CFRelease(q);
        if (status == errSecItemNotFound)
                return NONO_DECLINED;
        if (status != errSecSuccess)
                return keychain_error(st, status, "read", ref);
        if (!result || CFGetTypeID(result) != CFDataGetTypeID()) {
                if (result)
                        CFRelease(result);
                st->host->set_error(st->host->ctx, "keychain: item %s holds no password data", ref);
                return -EIO;
        }
        r = copy_secret(st, (CFDataRef)result, ret_secret, ret_len);
        CFRelease(result);
        return r;
}

/* ---- store, remove ------------------------------------------------------------------------- */

/* Replaces the password of an existing item. */
static OSStatus update_item(CFStringRef account, CFDataRef value)
{
        CFMutableDictionaryRef match = item_query(account);
        CFMutableDictionaryRef attrs =
            CFDictionaryCreateMutable(kCFAllocatorDefault, 0, &kCFTypeDictionaryKeyCallBacks,
                                      &kCFTypeDictionaryValueCallBacks);
        OSStatus status = errSecAllocate;

        if (match && attrs) {
                CFDictionarySetValue(attrs, kSecValueData, value);
                status = SecItemUpdate(match, attrs);
        }
        if (match)
                CFRelease(match);
        if (attrs)
                CFRelease(attrs);
        return status;
}

static OSStatus add_or_update(CFStringRef account, CFDataRef value)
{
        CFMutableDictionaryRef q = item_query(account);
        OSStatus status;

        if (!q)
                return errSecAllocate;
        CFDictionarySetValue(q, kSecValueData, value);
        CFDictionarySetValue(q, kSecAttrDescription, CFSTR("nono credential"));
        status = SecItemAdd(q, NULL);
        CFRelease(q);
        return status == errSecDuplicateItem ? update_item(account, value) : status;
}

static int kc_store(void *state, const char *ref, const char *secret, size_t len)
{
        struct kc_state *st = state;
        CFStringRef account = NULL;
        CFDataRef value;
        OSStatus status;
        int r = make_account(st, ref, &account);

        if (r < 0)
                return r;
        if (len > (size_t)LONG_MAX) {
                CFRelease(account);
                st->host->set_error(st->host->ctx, "keychain: the secret for %s is too long", ref);
                return -EINVAL;
        }
        /* No copy of the secret in ordinary memory: the framework reads the caller's. */
        value = CFDataCreateWithBytesNoCopy(kCFAllocatorDefault, (const UInt8 *)secret,
                                            (CFIndex)len, kCFAllocatorNull);
        if (!value) {
                CFRelease(account);
                return out_of_memory(st);
        }
        status = add_or_update(account, value);
        CFRelease(value);
        CFRelease(account);
        return status == errSecSuccess ? 0 : keychain_error(st, status, "store", ref);
}

static int kc_remove(void *state, const char *ref)
{
        struct kc_state *st = state;
        CFStringRef account = NULL;
        CFMutableDictionaryRef q;
        OSStatus status;
        int r = make_account(st, ref, &account);

        if (r < 0)
                return r;
        q = item_query(account);
        CFRelease(account);
        if (!q)
                return out_of_memory(st);
        status = SecItemDelete(q);
        CFRelease(q);
        if (status == errSecItemNotFound) {
                st->host->set_error(st->host->ctx, "keychain: no credential %s (service %s)", ref,
                                    KEYCHAIN_SERVICE);
                return -ENOENT;
        }
        return status == errSecSuccess ? 0 : keychain_error(st, status, "delete", ref);
}

/* ---- list ---------------------------------------------------------------------------------- */

/* Calls `each` with the account of one item's attributes; items without one are skipped. */
static int visit_item(CFTypeRef item, int (*each)(const char *ref, void *userdata), void *userdata)
{
        char ref[REF_MAX * 4 + 1];
        CFTypeRef account;

        if (CFGetTypeID(item) != CFDictionaryGetTypeID())
                return 0;
        account = CFDictionaryGetValue((CFDictionaryRef)item, kSecAttrAccount);
        if (!account || CFGetTypeID(account) != CFStringGetTypeID() ||
            !CFStringGetCString((CFStringRef)account, ref, sizeof(ref), kCFStringEncodingUTF8))
                return 0;
        return each(ref, userdata);
}

static int kc_list(void *state, int (*each)(const char *ref, void *userdata), void *userdata)
{
        struct kc_state *st = state;
        CFMutableDictionaryRef q = item_query(NULL);
        CFTypeRef result = NULL;
        OSStatus status;
        int r = 0;

        if (!q)
                return out_of_memory(st);
        /* Attributes only: no password is read, so the keychain does not prompt. */
        CFDictionarySetValue(q, kSecReturnAttributes, kCFBooleanTrue);
        CFDictionarySetValue(q, kSecMatchLimit, kSecMatchLimitAll);
        status = SecItemCopyMatching(q, &result);
        CFRelease(q);
        if (status == errSecItemNotFound)
                return 0;
        if (status != errSecSuccess)
                return keychain_error(st, status, "list", "the credentials");
        if (result && CFGetTypeID(result) == CFArrayGetTypeID()) {
                CFArrayRef items = (CFArrayRef)result;

                for (CFIndex i = 0; r == 0 && i < CFArrayGetCount(items); i++)
                        r = visit_item(CFArrayGetValueAtIndex(items, i), each, userdata);
        }
        if (result)
                CFRelease(result);
        return r < 0 ? r : 0;
}

static const struct nono_credential_ops ops = {
    .size = sizeof(struct nono_credential_ops),
    .lookup = kc_lookup,
    .store = kc_store,
    .remove = kc_remove,
    .list = kc_list,
};

NONO_PLUGIN_DEFINE(keychain, NONO_PLUGIN_CREDENTIAL, "keychain", "0.1.0",
                   "macOS keychain: generic passwords of service \"nono\" (Security framework)",
                   kc_init, kc_fini, &ops)
