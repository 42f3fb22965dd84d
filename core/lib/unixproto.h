/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What nono's Unix-socket mediator (unixmed.c) and its helper (core/unixhelper, the
 * executable nono-unix-helper) say to each other over their SOCK_SEQPACKET pair.
 *
 * A request is one message: a struct req_hdr, the sendto payload (datalen bytes) after
 * it, and as SCM_RIGHTS the socket and, for the PATH operations, the O_PATH descriptor
 * of the socket file nono checked.  A result is one struct reply.
 *
 * The helper is started as
 *     nono-unix-helper CHANNEL SUPERVISOR
 * with CHANNEL the number of its end of the pair (its only descriptor) and SUPERVISOR
 * the pid of its parent, nono run's supervisor, or 0 when it has none (nono wrap: it
 * ends with the mediator's end of the channel).
 */
#ifndef NONO_CORE_UNIXPROTO_H
#define NONO_CORE_UNIXPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#define UNIXPROTO_MAX_DATA 65536 /* largest sendto payload carried to the helper */
#define SUN_PATH_LEN       sizeof(((struct sockaddr_un *)0)->sun_path)
#define SUN_PATH_OFF       offsetof(struct sockaddr_un, sun_path)
#define ADDR_MAX           sizeof(struct sockaddr_storage) /* the kernel's limit on addrlen */

enum req_op {
        REQ_CONNECT_PATH = 1, /* connect to the O_PATH descriptor sent along */
        REQ_CONNECT_ADDR,     /* connect to the address bytes (never an AF_UNIX pathname) */
        REQ_SENDTO_PATH,
        REQ_SENDTO_ADDR,
};

struct req_hdr {
        uint64_t id; /* the notification's */
        uint32_t op;
        int32_t flags;    /* sendto flags */
        uint32_t addrlen; /* bytes of addr used (ADDR ops) */
        uint32_t datalen; /* payload bytes after the header (SENDTO ops) */
        unsigned char addr[ADDR_MAX];
};

struct reply {
        uint64_t id;
        int64_t val; /* result, or -errno */
};

#define REQ_BUF_SIZE (sizeof(struct req_hdr) + UNIXPROTO_MAX_DATA)

/* An AF_UNIX address naming a filesystem path (the only kind nono decides about). */
static inline bool is_pathname(const void *addr, size_t len)
{
        const struct sockaddr_un *sun = addr;

        return len > SUN_PATH_OFF && sun->sun_family == AF_UNIX && sun->sun_path[0] != '\0';
}

#endif
