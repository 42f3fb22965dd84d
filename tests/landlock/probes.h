/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small probes of the filesystem and the loopback network, shared by the landlock
 * enforcer's tests: used by the children to test the sandbox, and by the parent to
 * build fixtures and to check effects from outside.
 */
#ifndef NONO_TEST_LANDLOCK_PROBES_H
#define NONO_TEST_LANDLOCK_PROBES_H

#include <netinet/in.h>
#include <stdint.h>

/* buf = dir/name, in a PATH_MAX buffer; aborts rather than test a truncated path. */
void join(char *buf, const char *dir, const char *name);

/* 0 when the file can be opened with `flags` (created 0644), else -errno. */
int try_open(const char *path, int flags);
/* 0 when `text` was written to the file, created 0644 or truncated, else -errno. */
int try_write(const char *path, const char *text);
/* 0 when the file holds exactly `text` (up to 255 bytes), else -errno. */
int file_has(const char *path, const char *text);
/* Removes the tree below and including `path`, without following links. */
int remove_tree(const char *path);

/* 127.0.0.1:port. */
struct sockaddr_in loopback(uint16_t port);
/*
 * A non-blocking socket of `type` bound to 127.0.0.1 with an ephemeral port, listening
 * when it is a stream; -1 when that fails.
 */
int loopback_socket(int type, uint16_t *ret_port);

#endif
