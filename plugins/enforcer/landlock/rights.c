/* SPDX-License-Identifier: Apache-2.0 */
#include "rights.h"

#include <nono/plan.h>

#include <stdio.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct feature_desc {
        uint32_t feature;
        int abi;
        const char *word;
        const char *name;
        const char *consequence;
};

/* In ABI order: entry i is the feature of ABI i+1. */
static const struct feature_desc features[] = {
    {LL_FEATURE_FS, 1, "filesystem", "filesystem rules", "the filesystem is not restricted"},
    {LL_FEATURE_REFER, 2, "refer", "cross-directory rename and link control",
     "renames and links across directories are always denied"},
    {LL_FEATURE_TRUNCATE, 3, "truncate", "truncate control",
     "any reachable file can be truncated, also outside the write grants"},
    {LL_FEATURE_TCP, 4, "tcp", "TCP rules", "TCP connect and bind are not restricted"},
    {LL_FEATURE_IOCTL_DEV, 5, "ioctl-dev", "device ioctl control",
     "ioctls on device files are not restricted"},
    {LL_FEATURE_SCOPES, 6, "scopes", "signal and abstract-socket scopes",
     "signals and abstract Unix sockets can reach processes outside the sandbox"},
    {LL_FEATURE_LOGGING, 7, "logging", "denial logging flags",
     "denials cannot be tuned for audit logging"},
};

_Static_assert(ARRAY_SIZE(features) == LL_ABI_KNOWN, "one feature per known ABI");

static const struct feature_desc *feature_find(uint32_t feature)
{
        for (size_t i = 0; i < ARRAY_SIZE(features); i++)
                if (features[i].feature == feature)
                        return &features[i];
        return NULL;
}

static int abi_clamp(int abi)
{
        if (abi < 0)
                return 0;
        return abi > LL_ABI_KNOWN ? LL_ABI_KNOWN : abi;
}

uint32_t ll_features_at_abi(int abi)
{
        /* Features accumulate: ABI n has the first n of them. */
        return (uint32_t)((1ull << abi_clamp(abi)) - 1);
}

uint32_t ll_features_needed(bool restrict_network)
{
        /*
         * REFER is not needed: without it cross-directory renames are always denied,
         * which is stricter.  LOGGING changes nothing that is enforced.
         */
        uint32_t needed =
            LL_FEATURE_FS | LL_FEATURE_TRUNCATE | LL_FEATURE_IOCTL_DEV | LL_FEATURE_SCOPES;

        if (restrict_network)
                needed |= LL_FEATURE_TCP;
        return needed;
}

int ll_feature_abi(uint32_t feature)
{
        const struct feature_desc *f = feature_find(feature);

        return f ? f->abi : 0;
}

const char *ll_feature_word(uint32_t feature)
{
        const struct feature_desc *f = feature_find(feature);

        return f ? f->word : "unknown feature";
}

const char *ll_feature_name(uint32_t feature)
{
        const struct feature_desc *f = feature_find(feature);

        return f ? f->name : "unknown feature";
}

const char *ll_feature_consequence(uint32_t feature)
{
        const struct feature_desc *f = feature_find(feature);

        return f ? f->consequence : "unknown consequences";
}

uint64_t ll_fs_rights_at_abi(int abi)
{
        abi = abi_clamp(abi);
        if (abi < 1)
                return 0;

        uint64_t rights = LL_ACCESS_FS_EXECUTE | LL_ACCESS_FS_WRITE_FILE | LL_ACCESS_FS_READ_FILE |
                          LL_ACCESS_FS_READ_DIR | LL_ACCESS_FS_REMOVE_DIR |
                          LL_ACCESS_FS_REMOVE_FILE | LL_ACCESS_FS_MAKE_CHAR |
                          LL_ACCESS_FS_MAKE_DIR | LL_ACCESS_FS_MAKE_REG | LL_ACCESS_FS_MAKE_SOCK |
                          LL_ACCESS_FS_MAKE_FIFO | LL_ACCESS_FS_MAKE_BLOCK | LL_ACCESS_FS_MAKE_SYM;
        if (abi >= 2)
                rights |= LL_ACCESS_FS_REFER;
        if (abi >= 3)
                rights |= LL_ACCESS_FS_TRUNCATE;
        if (abi >= 5)
                rights |= LL_ACCESS_FS_IOCTL_DEV;
        return rights;
}

uint64_t ll_net_rights_at_abi(int abi)
{
        return abi_clamp(abi) >= 4 ? LL_ACCESS_NET_BIND_TCP | LL_ACCESS_NET_CONNECT_TCP : 0;
}

uint64_t ll_scopes_at_abi(int abi)
{
        return abi_clamp(abi) >= 6 ? LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL : 0;
}

uint64_t ll_access_to_rights(uint32_t access, bool is_file, int abi)
{
        uint64_t rights = 0;

        if (access & NONO_ACCESS_READ)
                rights |= LL_RIGHTS_READ;
        if (access & NONO_ACCESS_WRITE)
                rights |= LL_RIGHTS_WRITE;
        rights &= ll_fs_rights_at_abi(abi);
        if (is_file)
                rights &= LL_RIGHTS_FILE;
        return rights;
}

struct right_name {
        uint64_t bit;
        const char *name;
};

static const char *right_name_find(const struct right_name *table, size_t n, uint64_t bit)
{
        for (size_t i = 0; i < n; i++)
                if (table[i].bit == bit)
                        return table[i].name;
        return NULL;
}

const char *ll_fs_right_name(uint64_t right)
{
        static const struct right_name names[] = {
            {LL_ACCESS_FS_EXECUTE, "execute"},       {LL_ACCESS_FS_WRITE_FILE, "write-file"},
            {LL_ACCESS_FS_READ_FILE, "read-file"},   {LL_ACCESS_FS_READ_DIR, "read-dir"},
            {LL_ACCESS_FS_REMOVE_DIR, "remove-dir"}, {LL_ACCESS_FS_REMOVE_FILE, "remove-file"},
            {LL_ACCESS_FS_MAKE_CHAR, "make-char"},   {LL_ACCESS_FS_MAKE_DIR, "make-dir"},
            {LL_ACCESS_FS_MAKE_REG, "make-reg"},     {LL_ACCESS_FS_MAKE_SOCK, "make-sock"},
            {LL_ACCESS_FS_MAKE_FIFO, "make-fifo"},   {LL_ACCESS_FS_MAKE_BLOCK, "make-block"},
            {LL_ACCESS_FS_MAKE_SYM, "make-sym"},     {LL_ACCESS_FS_REFER, "refer"},
            {LL_ACCESS_FS_TRUNCATE, "truncate"},     {LL_ACCESS_FS_IOCTL_DEV, "ioctl-dev"},
        };

        return right_name_find(names, ARRAY_SIZE(names), right);
}

const char *ll_net_right_name(uint64_t right)
{
        static const struct right_name names[] = {
            {LL_ACCESS_NET_BIND_TCP, "bind-tcp"},
            {LL_ACCESS_NET_CONNECT_TCP, "connect-tcp"},
        };

        return right_name_find(names, ARRAY_SIZE(names), right);
}

const char *ll_scope_name(uint64_t scope)
{
        static const struct right_name names[] = {
            {LL_SCOPE_ABSTRACT_UNIX_SOCKET, "abstract-unix-socket"},
            {LL_SCOPE_SIGNAL, "signal"},
        };

        return right_name_find(names, ARRAY_SIZE(names), scope);
}

/* Appends like snprintf at buf+*len, keeping *len the full length even when truncated. */
static void append(char *buf, size_t size, size_t *len, const char *word)
{
        int n =
            snprintf(*len < size ? buf + *len : NULL, *len < size ? size - *len : 0, "%s", word);

        if (n > 0)
                *len += (size_t)n;
}

size_t ll_format_mask(uint64_t mask, const char *(*name_of)(uint64_t), char *buf, size_t size)
{
        size_t len = 0;

        if (size > 0)
                buf[0] = '\0';
        if (mask == 0) {
                append(buf, size, &len, "none");
                return len;
        }
        for (unsigned i = 0; i < 64; i++) {
                uint64_t bit = 1ull << i;
                const char *name;

                if (!(mask & bit))
                        continue;
                name = name_of(bit);
                if (len > 0)
                        append(buf, size, &len, " ");
                append(buf, size, &len, name ? name : "unknown");
        }
        return len;
}
