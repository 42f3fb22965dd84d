/* SPDX-License-Identifier: Apache-2.0 */
#include "kaudit.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "error.h"

/* ---- fields of a record ------------------------------------------------------------- */

/* One key=value of a record; `val` is without the quotes of a quoted value. */
struct field {
        const char *key, *val;
        size_t key_len, val_len;
        int quoted;
};

/* A quoted value runs to the closing quote: the kernel quotes only strings without
 * spaces and quotes (others it hex-encodes). */
static const char *value_end(const char *p, const char *end, int quoted)
{
        const char *q;

        if (quoted) {
                q = memchr(p, '"', (size_t)(end - p));
                return q ? q : end;
        }
        while (p < end && *p != ' ')
                p++;
        return p;
}

/*
 * The next key=value from *pos; 0 at the end.  Words without '=' (the "audit(T:S):"
 * stamp in front) are skipped.
 */
static int next_field(const char **pos, const char *end, struct field *f)
{
        const char *p = *pos, *eq;

        for (;;) {
                while (p < end && *p == ' ')
                        p++;
                if (p >= end)
                        return 0;
                for (eq = p; eq < end && *eq != '=' && *eq != ' '; eq++)
                        ;
                if (eq < end && *eq == '=')
                        break;
                p = eq;
        }
        f->key = p;
        f->key_len = (size_t)(eq - p);
        p = eq + 1;
        f->quoted = p < end && *p == '"';
        f->val = p + f->quoted;
        p = value_end(f->val, end, f->quoted);
        f->val_len = (size_t)(p - f->val);
        *pos = p < end && f->quoted ? p + 1 : p;
        return 1;
}

static int is_key(const struct field *f, const char *key)
{
        return strlen(key) == f->key_len && memcmp(f->key, key, f->key_len) == 0;
}

/* The value as it stands, cut to fit. */
static void copy_value(const struct field *f, char *buf, size_t size)
{
        size_t n = f->val_len < size - 1 ? f->val_len : size - 1;

        memcpy(buf, f->val, n);
        buf[n] = '\0';
}

static int hex_digit(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

static int is_hex(const struct field *f)
{
        if (f->quoted || f->val_len == 0 || f->val_len % 2)
                return 0;
        for (size_t i = 0; i < f->val_len; i++)
                if (hex_digit(f->val[i]) < 0)
                        return 0;
        return 1;
}

/*
 * A string the kernel got from user space: quoted as it is, or hex when it holds a
 * space, a quote or a byte outside printable ASCII.  A NUL byte (an abstract socket's
 * name starts with one) becomes '@', as ss(8) shows those names.
 */
static void decode_untrusted(const struct field *f, char *buf, size_t size)
{
        size_t n = 0;

        if (!is_hex(f)) {
                copy_value(f, buf, size);
                return;
        }
        for (size_t i = 0; i + 1 < f->val_len && n + 1 < size; i += 2) {
                char c = (char)(hex_digit(f->val[i]) << 4 | hex_digit(f->val[i + 1]));

                buf[n++] = c ? c : '@';
        }
        buf[n] = '\0';
}

/* A number in `base`; 0 when the value is not one. */
static int parse_number(const struct field *f, int base, unsigned long long *ret)
{
        char buf[32], *end;

        if (f->quoted || f->val_len == 0 || f->val_len >= sizeof(buf))
                return 0;
        copy_value(f, buf, sizeof(buf));
        errno = 0;
        *ret = strtoull(buf, &end, base);
        return errno == 0 && *end == '\0';
}

/* ---- the two Landlock records ------------------------------------------------------- */

/* The TCP endpoint fields; which pair counts depends on the blocker. */
struct tcp_fields {
        char daddr[INET6_ADDRSTRLEN], saddr[INET6_ADDRSTRLEN];
        unsigned long long dest, src;
        int seen;
};

static void tcp_field(const struct field *f, struct tcp_fields *t)
{
        if (is_key(f, "daddr"))
                copy_value(f, t->daddr, sizeof(t->daddr));
        else if (is_key(f, "saddr"))
                copy_value(f, t->saddr, sizeof(t->saddr));
        else if (!(is_key(f, "dest") && parse_number(f, 10, &t->dest)) &&
                 !(is_key(f, "src") && parse_number(f, 10, &t->src)))
                return;
        t->seen = 1;
}

/* The object fields of an access record: what was refused. */
static void object_field(const struct field *f, struct kaudit_denial *d, struct tcp_fields *t)
{
        unsigned long long pid;

        if (is_key(f, "path")) {
                d->object = KAUDIT_OBJECT_PATH;
                decode_untrusted(f, d->path, sizeof(d->path));
        } else if (is_key(f, "opid") && parse_number(f, 10, &pid)) {
                d->object = KAUDIT_OBJECT_PROCESS;
                d->pid = (int)pid;
        } else if (is_key(f, "ocomm")) {
                decode_untrusted(f, d->comm, sizeof(d->comm));
        } else {
                tcp_field(f, t);
        }
}

/* A bind reports the local end (saddr, src), a connect the remote one (daddr, dest). */
static void set_tcp(struct kaudit_denial *d, const struct tcp_fields *t)
{
        int bind = strncmp(d->blockers, "net.bind", 8) == 0;

        if (!t->seen || d->object != KAUDIT_OBJECT_NONE)
                return;
        d->object = KAUDIT_OBJECT_TCP;
        strcpy(d->addr, bind ? t->saddr : t->daddr);
        d->port = (unsigned)(bind ? t->src : t->dest);
}

/* LANDLOCK_ACCESS: 0, or -EINVAL when the domain or the blockers are missing. */
static int parse_access(const char *text, size_t len, uint64_t *ret_domain, struct kaudit_denial *d)
{
        const char *pos = text, *end = text + len;
        struct tcp_fields t = {0};
        unsigned long long id = 0;
        struct field f;

        memset(d, 0, sizeof(*d));
        while (next_field(&pos, end, &f)) {
                if (is_key(&f, "domain"))
                        parse_number(&f, 16, &id);
                else if (is_key(&f, "blockers"))
                        copy_value(&f, d->blockers, sizeof(d->blockers));
                else
                        object_field(&f, d, &t);
        }
        set_tcp(d, &t);
        *ret_domain = id;
        return id && d->blockers[0] ? 0 : -EINVAL;
}

/* What a LANDLOCK_DOMAIN record says about who created the domain. */
struct domain_record {
        unsigned long long id, pid;
        int allocated;
        char exe[PATH_MAX];
};

static void parse_domain(const char *text, size_t len, struct domain_record *r)
{
        const char *pos = text, *end = text + len;
        struct field f;

        memset(r, 0, sizeof(*r));
        while (next_field(&pos, end, &f)) {
                if (is_key(&f, "domain"))
                        parse_number(&f, 16, &r->id);
                else if (is_key(&f, "pid"))
                        parse_number(&f, 10, &r->pid);
                else if (is_key(&f, "status"))
                        r->allocated = f.val_len == 9 && memcmp(f.val, "allocated", 9) == 0;
                else if (is_key(&f, "exe"))
                        decode_untrusted(&f, r->exe, sizeof(r->exe));
        }
}

/* ---- correlation ---------------------------------------------------------------------- */

/* Only the counts are zeroed: every table is read up to its count, and leaving the
 * 100 KiB of tables untouched spares nono's start their page faults. */
void kaudit_log_init(struct kaudit_log *l, const char *exe, pid_t self)
{
        snprintf(l->exe, sizeof(l->exe), "%s", exe ? exe : "");
        l->self = self;
        l->n_creators = l->n_ours = l->n_foreign = l->n_pending = l->n_denials = 0;
        l->total = 0;
        l->lost = 0;
}

int kaudit_log_creator(struct kaudit_log *l, pid_t pid)
{
        if (l->n_creators == KAUDIT_MAX_CREATORS)
                return -ENOSPC;
        l->creators[l->n_creators++] = pid;
        return 0;
}

static int contains(const uint64_t *ids, size_t n, uint64_t id)
{
        for (size_t i = 0; i < n; i++)
                if (ids[i] == id)
                        return 1;
        return 0;
}

static size_t filled(size_t count, size_t size)
{
        return count < size ? count : size;
}

/* Made by a process nono started, still running nono (before it exec'd the command). */
static int created_by_us(const struct kaudit_log *l, const struct domain_record *r)
{
        int pid_ok = 0;

        for (size_t i = 0; i < l->n_creators; i++)
                pid_ok |= (unsigned long long)l->creators[i] == r->pid;
        return pid_ok && (!l->exe[0] || strcmp(l->exe, r->exe) == 0);
}

static int same_denial(const struct kaudit_denial *a, const struct kaudit_denial *b)
{
        return a->object == b->object && a->port == b->port && a->pid == b->pid &&
               strcmp(a->blockers, b->blockers) == 0 && strcmp(a->path, b->path) == 0 &&
               strcmp(a->addr, b->addr) == 0;
}

/* Counts every denial; lists the first KAUDIT_MAX_DENIALS different ones. */
static void count_denial(struct kaudit_log *l, const struct kaudit_denial *d)
{
        l->total++;
        for (size_t i = 0; i < l->n_denials; i++)
                if (same_denial(&l->denials[i], d))
                        return;
        if (l->n_denials < KAUDIT_MAX_DENIALS)
                l->denials[l->n_denials++] = *d;
}

/* Held until the domain's record says whose it is; the oldest give way. */
static void hold(struct kaudit_log *l, uint64_t domain, const struct kaudit_denial *d)
{
        struct kaudit_pending *p = &l->pending[l->n_pending++ % KAUDIT_MAX_PENDING];

        p->domain = domain;
        p->denial = *d;
}

/* The held denials of a domain whose owner is now known, oldest first. */
static void settle(struct kaudit_log *l, uint64_t domain, int ours)
{
        size_t n = filled(l->n_pending, KAUDIT_MAX_PENDING);
        size_t first = l->n_pending - n;

        for (size_t i = first; i < l->n_pending; i++) {
                struct kaudit_pending *p = &l->pending[i % KAUDIT_MAX_PENDING];

                if (p->domain != domain)
                        continue;
                if (ours)
                        count_denial(l, &p->denial);
                p->domain = 0; /* the kernel never uses 0 */
        }
}

/* The mediator's helper checks the signal scope with kill(nono, 0) (unixmed.c). */
static int is_scope_check(const struct kaudit_log *l, const struct kaudit_denial *d)
{
        return d->object == KAUDIT_OBJECT_PROCESS && d->pid == l->self &&
               strcmp(d->blockers, "scope.signal") == 0;
}

static void on_access(struct kaudit_log *l, const char *text, size_t len)
{
        struct kaudit_denial d;
        uint64_t domain;

        if (parse_access(text, len, &domain, &d) < 0 || is_scope_check(l, &d) ||
            contains(l->foreign, filled(l->n_foreign, KAUDIT_MAX_FOREIGN), domain))
                return;
        if (contains(l->ours, l->n_ours, domain))
                count_denial(l, &d);
        else
                hold(l, domain, &d);
}

static void on_domain(struct kaudit_log *l, const char *text, size_t len)
{
        struct domain_record r;
        int ours;

        parse_domain(text, len, &r);
        if (!r.allocated || !r.id || contains(l->ours, l->n_ours, r.id))
                return;
        ours = created_by_us(l, &r) && l->n_ours < KAUDIT_MAX_OURS;
        if (ours)
                l->ours[l->n_ours++] = r.id;
        else
                l->foreign[l->n_foreign++ % KAUDIT_MAX_FOREIGN] = r.id;
        settle(l, r.id, ours);
}

void kaudit_log_record(struct kaudit_log *l, int type, const char *text, size_t len)
{
        len = strnlen(text, len);
        if (type == KAUDIT_LANDLOCK_ACCESS)
                on_access(l, text, len);
        else if (type == KAUDIT_LANDLOCK_DOMAIN)
                on_domain(l, text, len);
}

/* ---- the socket ----------------------------------------------------------------------- */

/*
 * The kernel answers AUDIT_GET from a thread it creates for the purpose: allow it a
 * moment.  Creating it takes from a tenth of a millisecond to several on a busy
 * machine, inside sendto(): why a run does not ask unless it has to (kaudit_drain).
 */
#define STATUS_REPLY_MS 1000
/* A record is at most MAX_AUDIT_MESSAGE_LENGTH (8970) bytes with its header. */
#define RECV_BUF_SIZE 9216

struct kaudit {
        int fd;
        char buf[RECV_BUF_SIZE];
        struct kaudit_log log;
};

static int audit_socket(void)
{
        int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_AUDIT);

        return fd < 0 ? -errno : fd;
}

/* One reply to AUDIT_GET: 1 when it was the status, 0 for another message. */
static int status_reply(const struct nlmsghdr *h, struct audit_status *ret, int *ret_err)
{
        if (h->nlmsg_type == NLMSG_ERROR && h->nlmsg_len >= NLMSG_LENGTH(sizeof(int))) {
                *ret_err = ((const struct nlmsgerr *)NLMSG_DATA(h))->error;
                return *ret_err < 0;
        }
        if (h->nlmsg_type != AUDIT_GET || h->nlmsg_len < NLMSG_LENGTH(sizeof(uint32_t) * 2))
                return 0;
        memset(ret, 0, sizeof(*ret));
        memcpy(ret, NLMSG_DATA(h),
               h->nlmsg_len - NLMSG_HDRLEN < sizeof(*ret) ? h->nlmsg_len - NLMSG_HDRLEN
                                                          : sizeof(*ret));
        return 1;
}

/* Waits for the answer to AUDIT_GET; 0 or a negative errno (-EPERM: not allowed). */
static int receive_status(int fd, struct audit_status *ret)
{
        union {
                struct nlmsghdr h;
                char b[RECV_BUF_SIZE];
        } u;
        struct pollfd p = {fd, POLLIN, 0};
        int err = 0;

        while (poll(&p, 1, STATUS_REPLY_MS) > 0) {
                ssize_t n = recv(fd, &u, sizeof(u), 0);

                if (n < 0 && errno != EAGAIN && errno != EINTR)
                        return -errno;
                /* n < 0 (EAGAIN, EINTR) fails NLMSG_OK: poll again. */
                for (struct nlmsghdr *h = &u.h; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n))
                        if (status_reply(h, ret, &err))
                                return err;
        }
        return -ETIMEDOUT;
}

static int get_status(int fd, struct audit_status *ret)
{
        struct nlmsghdr req = {NLMSG_LENGTH(0), AUDIT_GET, NLM_F_REQUEST, 1, 0};
        struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};

        if (sendto(fd, &req, req.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
                return -errno;
        return receive_status(fd, ret);
}

int kaudit_enabled(void)
{
        struct audit_status st;
        int fd = audit_socket();
        int r;

        if (fd < 0)
                return fd;
        r = get_status(fd, &st);
        close(fd);
        return r < 0 ? r : st.enabled != 0;
}

/*
 * Every audit record of the machine goes to the group; the kernel keeps all but
 * Landlock's out of this socket, so the supervisor wakes for those only.
 */
static int keep_landlock_records(int fd)
{
        struct sock_filter code[] = {
            BPF_STMT(BPF_LD | BPF_H | BPF_ABS, offsetof(struct nlmsghdr, nlmsg_type)),
            /* Loads are in network byte order. */
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, htons(KAUDIT_LANDLOCK_ACCESS), 1, 0),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, htons(KAUDIT_LANDLOCK_DOMAIN), 0, 1),
            BPF_STMT(BPF_RET | BPF_K, 0xffffffffu),
            BPF_STMT(BPF_RET | BPF_K, 0),
        };
        struct sock_fprog prog = {sizeof(code) / sizeof(code[0]), code};

        return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0 ? -errno : 0;
}

/* Binding gives the socket an address of its own, without which no multicast reaches
 * it, and joins the group (CAP_AUDIT_READ). */
static int subscribe(int fd)
{
        struct sockaddr_nl sa = {.nl_family = AF_NETLINK,
                                 .nl_groups = 1u << (AUDIT_NLGRP_READLOG - 1)};

        return bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
}

#define NEEDS_ROOT "reading kernel audit records needs root (CAP_AUDIT_CONTROL, CAP_AUDIT_READ)"

static int effective(const struct __user_cap_data_struct *d, int cap)
{
        return (d[cap / 32].effective >> (cap % 32)) & 1;
}

/* Without both capabilities the kernel refuses: no need to ask it (a round trip on
 * every unprivileged run).  When capget itself fails, the kernel is asked anyway. */
static int may_read_audit(void)
{
        struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
        struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];

        if (syscall(SYS_capget, &h, d) < 0)
                return 1;
        return effective(d, CAP_AUDIT_CONTROL) && effective(d, CAP_AUDIT_READ);
}

static int open_socket(int *ret)
{
        int fd, r;

        if (!may_read_audit())
                return nono_error(-EPERM, NEEDS_ROOT);
        fd = audit_socket();
        if (fd == -EPROTONOSUPPORT)
                return nono_error(fd, "this kernel has no audit support");
        if (fd < 0)
                return nono_error(fd, "cannot open the kernel audit socket: %s", strerror(-fd));
        r = keep_landlock_records(fd);
        if (r < 0)
                nono_error(r, "cannot filter kernel audit records: %s", strerror(-r));
        if (r >= 0 && (r = subscribe(fd)) < 0)
                nono_error(r, r == -EPERM ? NEEDS_ROOT : "cannot subscribe to kernel audit: %s",
                           strerror(-r));
        if (r < 0) {
                close(fd);
                return r;
        }
        *ret = fd;
        return 0;
}

int kaudit_open(struct kaudit **ret)
{
        char exe[PATH_MAX];
        struct kaudit *k;
        ssize_t n;
        int fd = -1, r = open_socket(&fd);

        if (r < 0)
                return r;
        /* Without our own executable's name, other programs' domains could pass. */
        n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        k = n > 0 ? malloc(sizeof(*k)) : NULL;
        if (!k) {
                r = n > 0 ? -ENOMEM
                          : nono_error(-errno, "cannot read /proc/self/exe: %s", strerror(errno));
                close(fd);
                return r;
        }
        exe[n] = '\0';
        k->fd = fd;
        kaudit_log_init(&k->log, exe, getpid());
        *ret = k;
        return 0;
}

/* Whether kernel audit is on: 0, or why no record can come (nono_error). */
static int audit_is_on(void)
{
        int r = kaudit_enabled();

        if (r == -EPERM || r == -ECONNREFUSED)
                return nono_error(r, NEEDS_ROOT);
        if (r < 0)
                return nono_error(r, "cannot ask the kernel whether audit is on: %s", strerror(-r));
        if (r == 0)
                return nono_error(-ENODATA, "kernel audit is off (nono never turns it on)");
        return 0;
}

int kaudit_check(void)
{
        struct kaudit *k;
        int r = kaudit_open(&k);

        if (r < 0)
                return r;
        kaudit_free(k);
        return audit_is_on();
}

void kaudit_free(struct kaudit *k)
{
        if (!k)
                return;
        close(k->fd);
        free(k);
}

int kaudit_fd(const struct kaudit *k)
{
        return k->fd;
}

struct kaudit_log *kaudit_log(struct kaudit *k)
{
        return &k->log;
}

/* One datagram: 1 when there may be more, 0 when the queue is empty. */
static int receive_records(struct kaudit *k)
{
        ssize_t n = recv(k->fd, k->buf, sizeof(k->buf), MSG_DONTWAIT);

        if (n < 0 && errno == ENOBUFS)
                k->log.lost = 1; /* the socket overflowed; what is queued now is still good */
        if (n < 0)
                return errno == ENOBUFS || errno == EINTR;
        for (struct nlmsghdr *h = (struct nlmsghdr *)k->buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n))
                kaudit_log_record(&k->log, h->nlmsg_type, NLMSG_DATA(h),
                                  h->nlmsg_len - NLMSG_HDRLEN);
        return n > 0;
}

void kaudit_read(struct kaudit *k)
{
        while (receive_records(k))
                ;
}

static long long monotonic_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What the sandbox's records change: denials counted, held, domains learnt. */
static uint64_t progress(const struct kaudit_log *l)
{
        return l->total + l->n_pending + l->n_ours;
}

/*
 * Until nothing of the sandbox's came for quiet_ms, max_ms at most.  Other sandboxes
 * on the machine keep writing records, which must not keep nono waiting.
 */
static void read_until_quiet(struct kaudit *k, int quiet_ms, int max_ms)
{
        long long now = monotonic_ms(), deadline = now + max_ms, quiet_until = now + quiet_ms;
        struct pollfd p = {k->fd, POLLIN, 0};

        for (;;) {
                uint64_t before = progress(&k->log);
                long long until;

                kaudit_read(k);
                now = monotonic_ms();
                if (progress(&k->log) != before)
                        quiet_until = now + quiet_ms;
                until = quiet_until < deadline ? quiet_until : deadline;
                if (until <= now || (poll(&p, 1, (int)(until - now)) < 0 && errno != EINTR))
                        return;
        }
}

int kaudit_drain(struct kaudit *k, int quiet_ms, int max_ms)
{
        kaudit_read(k);
        /* A record of our domain came: audit is on, no need to ask. */
        if (k->log.n_ours == 0) {
                int r = audit_is_on();

                if (r < 0)
                        return r;
        }
        read_until_quiet(k, quiet_ms, max_ms);
        return 0;
}
