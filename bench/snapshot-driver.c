/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench/snapshot's helper: takes one snapshot through libnono's façade, as nono run
 * --rollback does, and prints what it cost as JSON (wall time, bytes added to the
 * store, peak memory).
 *
 *   snapshot-driver baseline ROOT
 *   snapshot-driver incremental SESSION-ID
 */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "error.h"
#include "snapshot.h"

static double now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int take(const char *mode, const char *arg, struct snapshot_session **s)
{
        struct snapshot_options opt = {arg, 1, NULL, 0};
        struct snapshot_changes c = {0};
        int r;

        if (strcmp(mode, "baseline") == 0)
                return snapshot_baseline(&opt, s);
        r = snapshot_open_session(arg, s);
        if (r >= 0)
                r = snapshot_incremental(*s, &c);
        snapshot_changes_free(&c);
        return r;
}

int main(int argc, char **argv)
{
        struct snapshot_session *s = NULL;
        struct snapshot_stats st;
        struct rusage ru;
        double t0;

        if (argc != 3 || (strcmp(argv[1], "baseline") && strcmp(argv[1], "incremental"))) {
                fprintf(stderr, "usage: snapshot-driver baseline ROOT | incremental ID\n");
                return 2;
        }
        t0 = now();
        if (take(argv[1], argv[2], &s) < 0) {
                fprintf(stderr, "snapshot-driver: %s\n", nono_errmsg());
                return 1;
        }
        t0 = now() - t0;
        snapshot_session_stats(s, &st);
        getrusage(RUSAGE_SELF, &ru);
        printf("{\"id\": \"%s\", \"seconds\": %.6f, \"files\": %llu, \"files_hashed\": %llu, "
               "\"bytes_added\": %llu, \"objects_added\": %llu, \"maxrss_kb\": %ld}\n",
               snapshot_session_id(s), t0, (unsigned long long)st.files,
               (unsigned long long)st.files_hashed, (unsigned long long)st.bytes_added,
               (unsigned long long)st.objects_added, ru.ru_maxrss);
        snapshot_session_close(s);
        return 0;
}
