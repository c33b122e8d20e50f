/* fresh_build.c - one build from /proc/kallsyms in a new process, as the
 * CLI does it: a new process pays for every page it touches, where a
 * process that has built before reuses freed memory.
 *
 *   gcc -O2 -std=c11 -pthread -Icsrc -o fresh_build benchmarks/fresh_build.c <the .c
 *       files of csrc but test_ and fuzz_ ones>
 *   ./fresh_build [FILE]
 *
 * Prints read + parse (ksym_builder_add_fd) and finish times in ms and the
 * page faults (minor) of each; benchmarks/ab_fresh.py alternates two such
 * binaries.
 *
 * SPDX-License-Identifier: MIT
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "ksym.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static long minor_faults(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_minflt;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "/proc/kallsyms";
    long f0 = minor_faults();
    double t0 = now_ms();
    struct ksym_builder *b = ksym_builder_new();
    int fd = open(path, O_RDONLY);
    if (!b || fd < 0 || ksym_builder_add_fd(b, fd)) {
        fprintf(stderr, "cannot read %s\n", path);
        return 1;
    }
    close(fd);
    double t1 = now_ms();
    long f1 = minor_faults();
    struct ksym_table *t;
    if (ksym_builder_finish(b, &t)) {
        fprintf(stderr, "%s\n", ksym_builder_message(b));
        return 1;
    }
    double t2 = now_ms();
    long f2 = minor_faults();
    printf("read %.1f finish %.1f total %.1f ms faults read %ld finish %ld\n", t1 - t0, t2 - t1,
           t2 - t0, f1 - f0, f2 - f1);
    ksym_table_free(t);
    ksym_builder_free(b);
    return 0;
}
