/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nono-credential-file: a third-party credential source, built out of tree against the
 * installed SDK (pkg-config nono-plugin).  Secrets live in one file, a line per secret:
 *
 *     # comment
 *     OPENAI_API_KEY=sk-...
 *
 * named in nono.conf:   plugins = { file = { path = "/home/me/.config/secrets"; }; };
 *
 * The file must be a regular file owned by the user (or root) and readable by nobody
 * else (mode 0600 or 0400): a file others can read is refused, as ssh refuses a private
 * key with wide permissions.  Secrets go only into host secret memory; no message
 * ever contains one.
 */
#include <errno.h>
#include <fcntl.h>
#include <nono/credential.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct source {
        const struct nono_host *host;
        const char *path; /* from nono.conf; owned by the host */
};

static int file_init(const struct nono_host *host, void **ret_state)
{
        struct source *s = host->alloc(host->ctx, sizeof(*s));

        if (!s)
                return -ENOMEM;
        s->host = host;
        s->path = host->config_string(host->ctx, "path");
        *ret_state = s;
        return 0;
}

static void file_fini(void *state)
{
        struct source *s = state;

        s->host->free(s->host->ctx, s);
}

/* The largest secrets file read: a credential list, not a database. */
#define MAX_FILE_SIZE (1024 * 1024)

/* Opens the secrets file, refusing one that others could read or change. */
static int open_checked(const struct source *s, size_t *ret_size)
{
        struct stat st;
        int fd;

        if (!s->path) {
                s->host->set_error(s->host->ctx, "file: no path = \"...\" in plugins.file");
                return -EINVAL;
        }
        fd = open(s->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) {
                int err = errno;

                s->host->set_error(s->host->ctx, "file: cannot open %s: %s", s->path,
                                   strerror(err));
                return -err;
        }
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > MAX_FILE_SIZE) {
                s->host->set_error(s->host->ctx,
                                   "file: %s is not a regular file of at most %d bytes", s->path,
                                   MAX_FILE_SIZE);
                close(fd);
                return -EINVAL;
        }
        if ((st.st_mode & 077) || (st.st_uid != getuid() && st.st_uid != 0)) {
                s->host->set_error(s->host->ctx,
                                   "file: refusing %s: mode %04o, owner %u; it must be owned by "
                                   "you and readable by nobody else (chmod 600)",
                                   s->path, (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid);
                close(fd);
                return -EPERM;
        }
        *ret_size = (size_t)st.st_size;
        return fd;
}

/* Reads the whole file into secret memory (it is all secrets), NUL-terminated. */
static int read_all(const struct source *s, int fd, size_t size, char **ret)
{
        char *buf = s->host->secret_alloc(s->host->ctx, size + 1);
        size_t got = 0;

        if (!buf)
                return -ENOMEM;
        while (got < size) {
                ssize_t n = read(fd, buf + got, size - got);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                got += (size_t)n;
        }
        buf[got] = '\0';
        *ret = buf;
        return 0;
}

/* Copies the value of line "ref=value" into secret memory of its own. */
static int copy_secret(const struct source *s, const char *value, char **ret, size_t *ret_len)
{
        size_t len = strcspn(value, "\r\n");
        char *secret = s->host->secret_alloc(s->host->ctx, len + 1);

        if (!secret)
                return -ENOMEM;
        memcpy(secret, value, len);
        secret[len] = '\0';
        *ret = secret;
        *ret_len = len;
        return 0;
}

static const char *next_line(const char *line)
{
        const char *end = strchr(line, '\n');

        return end && end[1] ? end + 1 : NULL;
}

static int file_lookup(void *state, const char *ref, char **ret_secret, size_t *ret_len)
{
        const struct source *s = state;
        size_t ref_len = strlen(ref), size = 0;
        char *text = NULL;
        int fd = open_checked(s, &size), r;

        if (fd < 0)
                return fd;
        r = read_all(s, fd, size, &text);
        close(fd);
        if (r < 0)
                return r;
        r = NONO_DECLINED;
        for (const char *line = text; line && r == NONO_DECLINED; line = next_line(line))
                if (ref_len && strncmp(line, ref, ref_len) == 0 && line[ref_len] == '=')
                        r = copy_secret(s, line + ref_len + 1, ret_secret, ret_len);
        s->host->secret_free(s->host->ctx, text);
        return r;
}

static const struct nono_credential_ops file_ops = {
    .size = sizeof(struct nono_credential_ops),
    .lookup = file_lookup,
};

NONO_PLUGIN_DEFINE(file, NONO_PLUGIN_CREDENTIAL, "file", "1.0.0",
                   "secrets from a file only you can read (example)", file_init, file_fini,
                   &file_ops)
