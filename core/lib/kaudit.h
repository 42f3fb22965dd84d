/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Landlock's own denials, as the kernel reports them: audit records on the netlink
 * multicast group AUDIT_NLGRP_READLOG (read-only, best effort; auditd need not run).
 *
 * Readable only when kernel audit is enabled (nono never enables it) and nono may read
 * it (CAP_AUDIT_CONTROL to ask, CAP_AUDIT_READ to subscribe: root).  Landlock writes
 * two record types (Documentation/admin-guide/LSM/landlock.rst):
 *
 *   LANDLOCK_ACCESS  domain=1a6fdc679 blockers=fs.write_file path="/etc/passwd" dev="vda2" ino=1
 *   LANDLOCK_DOMAIN  domain=1a6fdc679 status=allocated mode=enforcing pid=289 uid=0
 *                    exe="/usr/bin/nono" comm="nono"
 *
 * The domain record follows the first access record of a domain, once; it names the
 * process that called landlock_restrict_self.  Every process of the machine can be in
 * the stream, so a denial counts only when its domain was created by a process nono
 * started (kaudit_log_creator) running nono's own executable: other domains, and
 * denials whose domain record was never seen, are dropped.  So is the signal to nono
 * itself with which the Unix-socket mediator's helper checks that Landlock's signal
 * scope holds (nono's code, not the command's).  Strings the kernel got from
 * user space (paths, exe, comm) come quoted, or hex-encoded when they hold a space, a
 * quote or a byte outside printable ASCII; they are decoded here.
 *
 * The record parsing and correlation (kaudit_log_*) do no I/O, for the unit tests; the
 * socket side (kaudit_open ...) feeds them.
 */
#ifndef NONO_CORE_KAUDIT_H
#define NONO_CORE_KAUDIT_H

#include <arpa/inet.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Debian 12's <linux/audit.h> predates Landlock's record types (Linux 6.15). */
#define KAUDIT_LANDLOCK_ACCESS 1423
#define KAUDIT_LANDLOCK_DOMAIN 1424

#define KAUDIT_MAX_DENIALS  8  /* distinct denials kept; all are counted */
#define KAUDIT_MAX_CREATORS 4  /* processes that may create the sandbox's domain */
#define KAUDIT_MAX_OURS     8  /* domains learnt to be ours */
#define KAUDIT_MAX_FOREIGN  32 /* domains learnt to be someone else's (oldest forgotten) */
#define KAUDIT_MAX_PENDING  16 /* denials whose domain is not known yet (oldest dropped) */

enum kaudit_object {
        KAUDIT_OBJECT_NONE = 0, /* the blockers alone (fs.change_topology) */
        KAUDIT_OBJECT_PATH,     /* path=: a file, a directory; "@name": abstract socket */
        KAUDIT_OBJECT_TCP,      /* daddr= dest= (connect) or saddr= src= (bind) */
        KAUDIT_OBJECT_PROCESS,  /* opid= ocomm=: the target of a signal or ptrace */
};

struct kaudit_denial {
        char blockers[128]; /* "fs.write_file,fs.truncate", as the kernel lists them */
        int object;         /* enum kaudit_object */
        char path[PATH_MAX];
        char addr[INET6_ADDRSTRLEN]; /* "" when the kernel left it out (any address) */
        unsigned port;
        int pid;
        char comm[64];
};

struct kaudit_pending {
        uint64_t domain;
        struct kaudit_denial denial;
};

/* The correlation state.  Plain data: zero it, then kaudit_log_init. */
struct kaudit_log {
        char exe[PATH_MAX]; /* nono's executable; "" accepts any */
        pid_t self;         /* nono, whom the mediator's helper signals (see unixmed.c) */
        pid_t creators[KAUDIT_MAX_CREATORS];
        size_t n_creators;
        uint64_t ours[KAUDIT_MAX_OURS];
        size_t n_ours;
        uint64_t foreign[KAUDIT_MAX_FOREIGN];
        size_t n_foreign; /* grows past the array: index modulo its size */
        struct kaudit_pending pending[KAUDIT_MAX_PENDING];
        size_t n_pending; /* likewise */
        struct kaudit_denial denials[KAUDIT_MAX_DENIALS];
        size_t n_denials;
        uint64_t total; /* every denial of ours, also the repeated and unlisted ones */
        int lost;       /* the kernel dropped records for this socket (ENOBUFS) */
};

void kaudit_log_init(struct kaudit_log *l, const char *exe, pid_t self);
/* A process that may create the domain (the sandboxed child).  -ENOSPC when full. */
int kaudit_log_creator(struct kaudit_log *l, pid_t pid);
/* One record's text ("audit(T:S): key=value ..."), of any record type. */
void kaudit_log_record(struct kaudit_log *l, int type, const char *text, size_t len);

/* ---- the socket --------------------------------------------------------------------- */

struct kaudit;

/*
 * Whether kernel audit is enabled: 1 or 0, or a negative errno when the kernel would
 * not say (-EPERM: no CAP_AUDIT_CONTROL; -EPROTONOSUPPORT: no audit in this kernel).
 */
int kaudit_enabled(void);

/*
 * Subscribes to the audit records, when this process may read them (root).  Whether
 * kernel audit is on is not asked here (see kaudit_drain): while it is off, no record
 * comes.  Returns 0, or a negative errno with a message saying why not (nono_error).
 */
int kaudit_open(struct kaudit **ret);
/* For nono setup: 0 when a run would read the records now, else why not (nono_error). */
int kaudit_check(void);
void kaudit_free(struct kaudit *k);

/* The descriptor to poll for records. */
int kaudit_fd(const struct kaudit *k);
struct kaudit_log *kaudit_log(struct kaudit *k);
/* Reads the records queued now, without waiting. */
void kaudit_read(struct kaudit *k);
/*
 * Reads the records still on their way: until none came for `quiet_ms`, at most
 * `max_ms` in all.  The kernel sends them from its own thread, a little after the
 * denial, so the last ones may arrive after the command exited.  Returns 0, or a
 * negative errno with a message when none can come (kernel audit is off): asked only
 * now, and only when no record of the sandbox came, since the kernel's answer costs up
 * to milliseconds.
 */
int kaudit_drain(struct kaudit *k, int quiet_ms, int max_ms);

#endif
