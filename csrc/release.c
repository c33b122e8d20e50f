/* release.c - giving a finished build's memory back off the caller's time.
 *
 * A build from /proc/kallsyms leaves some 60 MB behind: the bank, the
 * compression's strings, the records and their names.  Unmapping them
 * took 4-9 ms of each build, after the table was complete.  A detached
 * thread does it instead, while the caller goes on with the table.  (So a
 * program that dlopen()s the C core must not dlclose() it right after a
 * build: the thread may still be running its code.)
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#if !defined(KSYM_NO_THREADS) && (defined(__unix__) || defined(__APPLE__))
#define KSYM_THREADS 1
#include <pthread.h>
#endif

#include "builder.h"
#include "compress.h"

/* Below this, a thread costs more than the freeing it saves. */
#define RELEASE_LATER_MIN ((size_t)4 << 20)

static void release_now(struct ksym_leftovers *l)
{
    for (size_t k = 0; k < KSYM_LEFTOVER_BLOCKS; k++)
        free(l->block[k]);
    ksym__comp_free(l->comp);
    ksym__bank_free(&l->bank);
    memset(l, 0, sizeof *l);
}

#ifdef KSYM_THREADS
static void *release_thread(void *arg)
{
    release_now(arg);
    free(arg);
    return NULL;
}

/* 0 when a detached thread took *l (then emptied), -1 when none could. */
static int release_detached(struct ksym_leftovers *l)
{
    struct ksym_leftovers *copy = malloc(sizeof *copy);
    if (!copy)
        return -1;
    *copy = *l;
    pthread_attr_t attr;
    pthread_t thr;
    int ok = pthread_attr_init(&attr) == 0;
    if (ok) {
        ok = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0 &&
             pthread_create(&thr, &attr, release_thread, copy) == 0;
        pthread_attr_destroy(&attr);
    }
    if (!ok) {
        free(copy);
        return -1;
    }
    memset(l, 0, sizeof *l);
    return 0;
}
#endif

void ksym__release(struct ksym_leftovers *l, size_t bytes)
{
#ifdef KSYM_THREADS
    if (bytes >= RELEASE_LATER_MIN && release_detached(l) == 0)
        return;
#else
    (void)bytes;
#endif
    release_now(l);
}
