/* SPDX-License-Identifier: Apache-2.0 */
/* Files in the workspace with other hard links (see hardlinks.h). */
#include "hardlinks.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error.h"

struct walk {
        struct hardlinks_report *rep;
        dev_t dev; /* the root's filesystem: mounts below are not walked */
        struct timespec deadline;
        char rel[PATH_MAX]; /* the directory being walked, relative to the root */
};

static int past_deadline(const struct walk *w)
{
        struct timespec now;

        clock_gettime(CLOCK_MONOTONIC, &now);
        return now.tv_sec > w->deadline.tv_sec ||
               (now.tv_sec == w->deadline.tv_sec && now.tv_nsec >= w->deadline.tv_nsec);
}

/* Directories whose hard links are expected and harmless, or too common to report. */
static int skipped_dir(const char *rel, const char *name)
{
        return strcmp(name, "node_modules") == 0 ||
               (strcmp(name, "objects") == 0 &&
                (strcmp(rel, ".git") == 0 ||
                 (strlen(rel) > 5 && strcmp(rel + strlen(rel) - 5, "/.git") == 0)));
}

static void note(struct walk *w, const char *name)
{
        struct hardlinks_report *rep = w->rep;

        if (rep->found < HARDLINKS_NAMED)
                snprintf(rep->named[rep->found], sizeof(rep->named[0]), "%s%s%s", w->rel,
                         w->rel[0] ? "/" : "", name);
        rep->found++;
}

/* Walks the open directory `fd` (closed here); w->rel names it. */
static void walk_dir(struct walk *w, int fd)
{
        DIR *d = fdopendir(fd);
        struct dirent *e;
        size_t len = strlen(w->rel);

        if (!d) {
                close(fd);
                return;
        }
        while (!w->rep->truncated && (e = readdir(d))) {
                struct stat sb;
                unsigned char type;
                int child;

                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                        continue;
                if (++w->rep->scanned > HARDLINKS_MAX_ENTRIES ||
                    (w->rep->scanned % 1024 == 0 && past_deadline(w))) {
                        w->rep->truncated = 1;
                        break;
                }
                /* d_type saves a stat for every directory and most symlinks. */
                type = e->d_type;
                if (type == DT_UNKNOWN &&
                    fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0)
                        type = S_ISDIR(sb.st_mode) ? DT_DIR : DT_REG;
                if (type == DT_DIR) {
                        if (skipped_dir(w->rel, e->d_name) ||
                            len + strlen(e->d_name) + 2 >= sizeof(w->rel))
                                continue;
                        child = openat(dirfd(d), e->d_name,
                                       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (child < 0 || fstat(child, &sb) < 0 || sb.st_dev != w->dev) {
                                if (child >= 0)
                                        close(child);
                                continue;
                        }
                        snprintf(w->rel + len, sizeof(w->rel) - len, "%s%s", len ? "/" : "",
                                 e->d_name);
                        walk_dir(w, child);
                        w->rel[len] = '\0';
                } else if (type == DT_REG &&
                           fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
                           S_ISREG(sb.st_mode) && sb.st_nlink > 1) {
                        note(w, e->d_name);
                }
        }
        closedir(d);
}

int hardlinks_scan(const char *root, struct hardlinks_report *rep)
{
        struct walk w = {.rep = rep};
        struct stat sb;
        int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0 || fstat(fd, &sb) < 0) {
                int r = -errno;

                if (fd >= 0)
                        close(fd);
                return r;
        }
        w.dev = sb.st_dev;
        clock_gettime(CLOCK_MONOTONIC, &w.deadline);
        w.deadline.tv_sec += HARDLINKS_MAX_MS / 1000;
        w.deadline.tv_nsec += (long)(HARDLINKS_MAX_MS % 1000) * 1000000L;
        if (w.deadline.tv_nsec >= 1000000000L) {
                w.deadline.tv_sec++;
                w.deadline.tv_nsec -= 1000000000L;
        }
        walk_dir(&w, fd);
        return 0;
}

/* A write grant that is the workdir or lies below it: the workspace. */
static int in_workspace(const struct plan *p, const struct nono_grant *g)
{
        return (g->access & NONO_ACCESS_WRITE) && p->workdir && path_is_within(g->path, p->workdir);
}

void hardlinks_check_plan(const struct plan *p)
{
        struct hardlinks_report rep;
        char list[3 * PATH_MAX + 16] = "";
        size_t len = 0;

        memset(&rep, 0, sizeof(rep));
        for (size_t i = 0; i < p->n_grants && !rep.truncated; i++) {
                const struct nono_grant *g = p->grants[i];
                struct stat sb;

                if (!in_workspace(p, g))
                        continue;
                if (g->flags & NONO_GRANT_FILE) {
                        if (stat(g->path, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_nlink > 1 &&
                            rep.found++ < HARDLINKS_NAMED)
                                snprintf(rep.named[rep.found - 1], sizeof(rep.named[0]), "%s",
                                         g->path);
                } else {
                        hardlinks_scan(g->path, &rep);
                }
        }
        if (!rep.found && !rep.truncated)
                return;
        for (size_t i = 0; i < rep.found && i < HARDLINKS_NAMED; i++)
                len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "",
                                        rep.named[i]);
        if (rep.found)
                nono_warn("%zu file%s in the workspace %s other hard links (%s%s): writing %s "
                          "changes the linked file too%s",
                          rep.found, rep.found == 1 ? "" : "s", rep.found == 1 ? "has" : "have",
                          list, rep.found > HARDLINKS_NAMED ? ", ..." : "",
                          rep.found == 1 ? "it" : "them",
                          rep.truncated ? " (the scan stopped early: there may be more)" : "");
        else
                nono_warn("the hard-link check stopped after %zu entries without finding any; "
                          "the rest of the workspace was not checked",
                          rep.scanned);
}
