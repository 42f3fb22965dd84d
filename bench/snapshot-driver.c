/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench/snapshot's helper: a snapshot session kept in memory, as nono run --rollback
 * keeps it between the baseline and the snapshot after the command.  Takes the baseline
 * of ROOT, then one incremental snapshot per line read on stdin; prints one JSON line per
 * snapshot with what it cost (wall time, bytes added to the store, peak memory).
 *
 *   snapshot-driver ROOT
 */
#include <stdio.h>
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

static void report(struct snapshot_session *s, double seconds)
{
        struct snapshot_stats st;
        struct rusage ru;

        snapshot_session_stats(s, &st);
        getrusage(RUSAGE_SELF, &ru);
        printf("{\"id\": \"%s\", \"seconds\": %.6f, \"files\": %llu, \"files_hashed\": %llu, "
               "\"bytes_added\": %llu, \"objects_added\": %llu, \"maxrss_kb\": %ld}\n",
               snapshot_session_id(s), seconds, (unsigned long long)st.files,
               (unsigned long long)st.files_hashed, (unsigned long long)st.bytes_added,
               (unsigned long long)st.objects_added, ru.ru_maxrss);
        fflush(stdout);
}

int main(int argc, char **argv)
{
        struct snapshot_options opt = {argc == 2 ? argv[1] : NULL, 1, NULL, 0};
        struct snapshot_session *s = NULL;
        char line[64];
        double t0;

        if (argc != 2) {
                fprintf(stderr, "usage: snapshot-driver ROOT\n");
                return 2;
        }
        t0 = now();
        if (snapshot_baseline(&opt, NULL, &s) < 0) {
                fprintf(stderr, "snapshot-driver: %s\n", nono_errmsg());
                return 1;
        }
        report(s, now() - t0);
        while (fgets(line, sizeof(line), stdin)) {
                struct snapshot_changes c = {0};

                t0 = now();
                if (snapshot_incremental(s, NULL, &c) < 0) {
                        fprintf(stderr, "snapshot-driver: %s\n", nono_errmsg());
                        snapshot_session_close(s);
                        return 1;
                }
                report(s, now() - t0);
                snapshot_changes_free(&c);
        }
        snapshot_session_close(s);
        return 0;
}
