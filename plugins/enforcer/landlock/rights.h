/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pure functions of the landlock plugin: which rights and features an ABI offers, how
 * a plan's access modes map to Landlock rights, and their names.  No system calls, so
 * they are unit-tested directly.
 */
#ifndef NONO_LANDLOCK_RIGHTS_H
#define NONO_LANDLOCK_RIGHTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "landlock-uapi.h"

/* The newest ABI this plugin knows; a newer kernel is used at this level. */
#define LL_ABI_KNOWN 7

/*
 * Features, one per ABI step, reported in nono_enforcer_info.features.  Bit n is the
 * feature that ABI n+1 brought.
 */
#define LL_FEATURE_FS        (1u << 0) /* ABI 1: filesystem rules */
#define LL_FEATURE_REFER     (1u << 1) /* ABI 2: cross-directory link/rename */
#define LL_FEATURE_TRUNCATE  (1u << 2) /* ABI 3: truncate control */
#define LL_FEATURE_TCP       (1u << 3) /* ABI 4: TCP bind/connect rules */
#define LL_FEATURE_IOCTL_DEV (1u << 4) /* ABI 5: device ioctl control */
#define LL_FEATURE_SCOPES    (1u << 5) /* ABI 6: signal and abstract-socket scopes */
#define LL_FEATURE_LOGGING   (1u << 6) /* ABI 7: audit logging flags */

/* Rights an access mode grants, before masking by ABI and file type. */
#define LL_RIGHTS_READ (LL_ACCESS_FS_READ_FILE | LL_ACCESS_FS_READ_DIR | LL_ACCESS_FS_EXECUTE)
/* Never MAKE_CHAR or MAKE_BLOCK: a sandbox never creates device nodes. */
#define LL_RIGHTS_WRITE                                                                            \
        (LL_ACCESS_FS_WRITE_FILE | LL_ACCESS_FS_REMOVE_DIR | LL_ACCESS_FS_REMOVE_FILE |            \
         LL_ACCESS_FS_MAKE_DIR | LL_ACCESS_FS_MAKE_REG | LL_ACCESS_FS_MAKE_SOCK |                  \
         LL_ACCESS_FS_MAKE_FIFO | LL_ACCESS_FS_MAKE_SYM | LL_ACCESS_FS_REFER |                     \
         LL_ACCESS_FS_TRUNCATE | LL_ACCESS_FS_IOCTL_DEV)
/* The only rights a rule on a non-directory may carry (others make add_rule fail). */
#define LL_RIGHTS_FILE                                                                             \
        (LL_ACCESS_FS_EXECUTE | LL_ACCESS_FS_WRITE_FILE | LL_ACCESS_FS_READ_FILE |                 \
         LL_ACCESS_FS_TRUNCATE | LL_ACCESS_FS_IOCTL_DEV)

/* The features ABI `abi` offers (abi <= 0: none; above LL_ABI_KNOWN: as LL_ABI_KNOWN). */
uint32_t ll_features_at_abi(int abi);
/* The features a sandbox needs; TCP rules only when the network is restricted. */
uint32_t ll_features_needed(bool restrict_network);

/* For one LL_FEATURE_* bit: the ABI that brought it, 0 for an unknown bit. */
int ll_feature_abi(uint32_t feature);
/* For one LL_FEATURE_* bit: a short word for summaries ("tcp"). */
const char *ll_feature_word(uint32_t feature);
/* For one LL_FEATURE_* bit: a name for error messages ("TCP rules"). */
const char *ll_feature_name(uint32_t feature);
/* For one LL_FEATURE_* bit: what running without it lets through. */
const char *ll_feature_consequence(uint32_t feature);

/* Everything ABI `abi` can handle, per rule type. */
uint64_t ll_fs_rights_at_abi(int abi);
uint64_t ll_net_rights_at_abi(int abi);
uint64_t ll_scopes_at_abi(int abi);

/*
 * The rights for a grant of NONO_ACCESS_* `access` at ABI `abi`; `is_file` masks them
 * to what applies to a non-directory.  0 when `access` grants nothing.
 */
uint64_t ll_access_to_rights(uint32_t access, bool is_file, int abi);

/* Names of single rights ("read-file", "connect-tcp", "signal"); NULL if unknown. */
const char *ll_fs_right_name(uint64_t right);
const char *ll_net_right_name(uint64_t right);
const char *ll_scope_name(uint64_t scope);

/*
 * Writes the names of the bits in `mask` separated by spaces, "none" for 0, using
 * `name_of` for each bit.  Truncates to `size`; returns the length the whole text
 * needs, as snprintf does.
 */
size_t ll_format_mask(uint64_t mask, const char *(*name_of)(uint64_t), char *buf, size_t size);

#endif /* NONO_LANDLOCK_RIGHTS_H */
