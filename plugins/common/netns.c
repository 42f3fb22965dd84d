/* SPDX-License-Identifier: Apache-2.0 */
#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

int netns_plugin_init(const struct nono_host *host, void **ret_state)
{
        struct netns_plugin_state *st = host->alloc(host->ctx, sizeof(*st));
        long long knob = 1;

        if (!st)
                return -ENOMEM;
        if (host->config_int &&
            host->config_int(host->ctx, "network_namespace", &knob) == -EINVAL) {
                host->set_error(host->ctx, "network_namespace must be 0 or 1");
                host->free(host->ctx, st);
                return -EINVAL;
        }
        st->host = host;
        st->use_netns = knob != 0;
        *ret_state = st;
        return 0;
}

void netns_plugin_fini(void *state)
{
        struct netns_plugin_state *st = state;

        st->host->free(st->host->ctx, st);
}

bool netns_wanted(const struct netns_plugin_state *st, const struct nono_plan *plan)
{
        return st->use_netns && !(plan->flags & NONO_PLAN_NO_CHILD) &&
               plan->n_tcp_connect_ports == 0 && plan->n_tcp_bind_ports == 0;
}

/* The first line of a /proc/sys knob as a number; -1 when it cannot be read. */
static long read_knob(const char *path)
{
        char buf[32];
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return -1;
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n <= 0)
                return -1;
        buf[n] = '\0';
        return strtol(buf, NULL, 10);
}

int netns_plan_for_self(struct netns_plan *plan, char *why, unsigned len)
{
        memset(plan, 0, sizeof(*plan));
        if (geteuid() == 0)
                return 0; /* root: CAP_SYS_ADMIN (hygiene refuses a root without caps) */
        plan->with_userns = true;
        userns_maps_for_self(&plan->maps);
        if (read_knob("/proc/sys/user/max_user_namespaces") == 0) {
                snprintf(why, len, "user namespaces are disabled (user.max_user_namespaces = 0)");
                return -EPERM;
        }
        if (read_knob("/proc/sys/kernel/unprivileged_userns_clone") == 0) {
                snprintf(why, len,
                         "unprivileged user namespaces are disabled "
                         "(kernel.unprivileged_userns_clone = 0)");
                return -EPERM;
        }
        if (read_knob("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == 1) {
                snprintf(why, len,
                         "AppArmor restricts unprivileged user namespaces "
                         "(kernel.apparmor_restrict_unprivileged_userns = 1)");
                return -EPERM;
        }
        return 0;
}

/* A fresh namespace's loopback is down: nothing, not even 127.0.0.1, would answer. */
static int loopback_up(void)
{
        struct ifreq ifr;
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        int r = 0;

        if (fd < 0)
                return -errno;
        memset(&ifr, 0, sizeof(ifr));
        memcpy(ifr.ifr_name, "lo", 3);
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
                r = -errno;
        else {
                ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
                if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
                        r = -errno;
        }
        close(fd);
        return r;
}

int netns_enter(const struct netns_plan *plan, const char **ret_step)
{
        int r;

        *ret_step = plan->with_userns ? "cannot create a user and network namespace"
                                      : "cannot create a network namespace";
        if (unshare(plan->with_userns ? CLONE_NEWUSER | CLONE_NEWNET : CLONE_NEWNET) < 0)
                return -errno;
        if (plan->with_userns) {
                const char *path;

                r = userns_write_maps(&plan->maps, &path);
                if (r < 0) {
                        *ret_step = path;
                        return r;
                }
        }
        *ret_step = "cannot bring up the loopback interface";
        return loopback_up();
}

int netns_listen_loopback(uint16_t port, int *ret_fd)
{
        struct sockaddr_in sin;
        int one = 1;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0)
                return -errno;
        memset(&sin, 0, sizeof(sin));
        sin.sin_family = AF_INET;
        sin.sin_port = htons(port);
        sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 4096) < 0) {
                int err = errno;

                close(fd);
                return -err;
        }
        *ret_fd = fd;
        return 0;
}

int netns_send_fd(int sock, int fd)
{
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } control;
        char byte = 'F';
        struct iovec iov = {.iov_base = &byte, .iov_len = 1};
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
        struct cmsghdr *cmsg;

        memset(&control, 0, sizeof(control));
        msg.msg_control = control.buf;
        msg.msg_controllen = sizeof(control.buf);
        cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
        while (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
                if (errno != EINTR)
                        return -errno;
        return 0;
}

int netns_recv_fd(int sock, int *ret_fd)
{
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } control;
        char byte;
        struct iovec iov = {.iov_base = &byte, .iov_len = 1};
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
        struct cmsghdr *cmsg;
        ssize_t n;

        msg.msg_control = control.buf;
        msg.msg_controllen = sizeof(control.buf);
        while ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0)
                if (errno != EINTR)
                        return -errno;
        if (n == 0)
                return -ECONNRESET;
        cmsg = CMSG_FIRSTHDR(&msg);
        if (!cmsg || cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS ||
            cmsg->cmsg_len != CMSG_LEN(sizeof(int)))
                return -EPROTO;
        memcpy(ret_fd, CMSG_DATA(cmsg), sizeof(int));
        return 0;
}
