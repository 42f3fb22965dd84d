/* SPDX-License-Identifier: Apache-2.0 */
#include "layout.h"

#include <dlfcn.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nono-build-config.h"

static struct layout layout;
static pthread_once_t layout_once = PTHREAD_ONCE_INIT;

/*
 * The file holding this code: libnono.so for the CLI and SDK users, the executable
 * itself when the static core is linked in (unit tests).  dladdr reports the main
 * program as argv[0], which may be relative or a bare name, so that case is asked of
 * the kernel instead.
 */
static int own_object_path(char *buf, size_t size)
{
        struct link_map *map = NULL;
        Dl_info info;
        ssize_t n;

        /* A data address of this file: ISO C has no cast from a function pointer. */
        if (dladdr1(&layout, &info, (void **)&map, RTLD_DL_LINKMAP) == 0 || !map)
                return -1;
        if (map->l_name[0] != '\0')
                return realpath(map->l_name, buf) ? 0 : -1;
        n = readlink("/proc/self/exe", buf, size - 1);
        if (n < 0)
                return -1;
        buf[n] = '\0';
        return 0;
}

/* Component-wise: /build-foo is not under /build. */
static int path_is_under(const char *path, const char *dir)
{
        size_t len = strlen(dir);

        return strncmp(path, dir, len) == 0 && (path[len] == '/' || path[len] == '\0');
}

static int running_from_build_tree(void)
{
        char self[PATH_MAX], root[PATH_MAX];

        if (own_object_path(self, sizeof(self)) < 0)
                return 0;
        /* The build directory may have been reached through a symlink (/tmp on some
         * systems); both sides are compared resolved. */
        if (!realpath(NONO_BUILD_ROOT, root))
                return 0;
        return path_is_under(self, root);
}

static void layout_compute(void)
{
        layout.in_build_tree = running_from_build_tree();
        if (layout.in_build_tree) {
                layout.plugin_dir = NONO_BUILD_PLUGINDIR;
                layout.profile_dir = NONO_SOURCE_PROFILEDIR;
                layout.snapshot_lib = NONO_BUILD_SNAPSHOT_LIB;
                layout.unix_helper = NONO_BUILD_UNIX_HELPER;
                layout.unix_mediator = NONO_BUILD_UNIX_MEDIATOR;
        } else {
                layout.plugin_dir = NONO_PLUGINDIR;
                layout.profile_dir = NONO_PROFILEDIR;
                layout.snapshot_lib = NONO_LIBDIR "/" NONO_SNAPSHOT_LIB;
                layout.unix_helper = NONO_UNIX_HELPER;
                layout.unix_mediator = NONO_UNIX_MEDIATOR;
        }
}

const struct layout *layout_get(void)
{
        pthread_once(&layout_once, layout_compute);
        return &layout;
}
