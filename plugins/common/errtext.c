/* SPDX-License-Identifier: Apache-2.0 */
#include "errtext.h"

#include <errno.h>

/*
 * Static strings only in the child: strerror may allocate or take the locale lock,
 * and a lock held by another parent thread at fork time is never released there.
 */
const char *errno_text(int err)
{
        switch (err) {
        case EPERM:
                return "operation not permitted";
        case EACCES:
                return "permission denied";
        case ENOENT:
                return "no such file or directory";
        case ENOTDIR:
                return "not a directory";
        case EISDIR:
                return "is a directory";
        case EINVAL:
                return "invalid argument";
        case EBUSY:
                return "device or resource busy";
        case ENOSYS:
                return "not implemented by this kernel";
        case EROFS:
                return "read-only file system";
        case ENOMEM:
                return "out of memory";
        case ENOSPC:
                return "no space left (or too many mounts: see fs.mount-max)";
        case ELOOP:
                return "a symbolic link was found in the path";
        case EMFILE:
        case ENFILE:
                return "too many open files";
        case EUSERS:
                return "too many user namespaces (user.max_user_namespaces)";
        case ESTALE:
                return "the path changed since the plan was made";
        case EOVERFLOW:
                return "the id is not mapped in the user namespace";
        default:
                return "unexpected error";
        }
}
