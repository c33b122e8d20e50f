/* fuzz_driver.h - the standalone driver shared by fuzz_kimage.c and
 * fuzz_elf.c: runs the fuzz target over seed files, then over mutations of
 * them for a time, without libFuzzer; saves the input that crashed.
 *
 *   DRIVER [-seconds=N] [-runs=N] [-seed=N] FILE|DIR...
 *
 * Include it where the target's standalone part starts; the target gives
 * fuzz_main() its one-input function, its mutator (which may use rnd())
 * and how to count and report what its inputs did.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PYSYMS_FUZZ_DRIVER_H
#define PYSYMS_FUZZ_DRIVER_H

#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* AddressSanitizer calls this before it exits on an error (weak: absent
 * without ASan). */
extern void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

struct fuzz_target {
    const char *name;                                     /* "fuzz_elf": messages, crash files */
    int (*one)(const uint8_t *data, size_t size);         /* the target */
    size_t (*mutate)(uint8_t *buf, size_t size, size_t cap);
    uint64_t (*outcomes)(void);  /* a counter of the inputs that did what seeds should do */
    const char *seed_outcome;    /* "are found as they are": said of the seeds that did */
    void (*report)(uint64_t runs); /* the last line */
};

static void fuzz_need(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz driver: %s\n", what);
        abort();
    }
}

struct fuzz_seed {
    uint8_t *data;
    size_t size;
};

static struct fuzz_seed *fuzz_seeds;
static size_t fuzz_nseeds, fuzz_capseeds;

static void fuzz_add_seed(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    if (len < 0 || len > (64l << 20)) {
        fclose(f);
        return;
    }
    uint8_t *buf = malloc((size_t)len + 1);
    fuzz_need(buf != NULL, "out of memory");
    if (fread(buf, 1, (size_t)len, f) != (size_t)len) {
        free(buf);
        fclose(f);
        return;
    }
    fclose(f);
    if (fuzz_nseeds == fuzz_capseeds) {
        fuzz_capseeds = fuzz_capseeds ? 2 * fuzz_capseeds : 16;
        fuzz_seeds = realloc(fuzz_seeds, fuzz_capseeds * sizeof *fuzz_seeds);
        fuzz_need(fuzz_seeds != NULL, "out of memory");
    }
    fuzz_seeds[fuzz_nseeds++] = (struct fuzz_seed){buf, (size_t)len};
}

/* A file, or every file of a directory (not recursively). */
static void fuzz_add_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return;
    if (!S_ISDIR(st.st_mode)) {
        fuzz_add_seed(path);
        return;
    }
    DIR *dir = opendir(path);
    if (!dir)
        return;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char full[4096];
        snprintf(full, sizeof full, "%s/%s", path, e->d_name);
        fuzz_add_seed(full);
    }
    closedir(dir);
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

/* xorshift64: the mutators' randomness, reproducible with -seed=N. */
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Mutations for any format: remove 1 to 16 bytes at pos, or repeat the
 * 1 to 16 bytes at pos (within cap); each returns the new size. */
static size_t fuzz_remove_span(uint8_t *buf, size_t size, size_t pos)
{
    size_t len = (size_t)(rnd() % 16) + 1;
    if (pos + len <= size) {
        memmove(buf + pos, buf + pos + len, size - pos - len);
        size -= len;
    }
    return size;
}

static size_t fuzz_repeat_span(uint8_t *buf, size_t size, size_t cap, size_t pos)
{
    size_t len = (size_t)(rnd() % 16) + 1;
    if (size + len <= cap && pos + len <= size) {
        memmove(buf + pos + len, buf + pos, size - pos);
        size += len;
    }
    return size;
}

static double fuzz_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The input being run, saved when it crashes. */
static const char *fuzz_name;
static const uint8_t *fuzz_cur;
static size_t fuzz_cur_size;

static void fuzz_save_crash(void)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a: one file per input */
    for (size_t i = 0; i < fuzz_cur_size; i++)
        h = (h ^ fuzz_cur[i]) * 1099511628211ull;
    const char *stem = strncmp(fuzz_name, "fuzz_", 5) == 0 ? fuzz_name + 5 : fuzz_name;
    char path[128];
    snprintf(path, sizeof path, "/tmp/fuzz-%s-crash-%016llx.bin", stem, (unsigned long long)h);
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(fuzz_cur, 1, fuzz_cur_size, f);
        fclose(f);
        fprintf(stderr, "%s: input saved to %s\n", fuzz_name, path);
    }
}

static void fuzz_on_signal(int sig)
{
    fuzz_save_crash();
    signal(sig, SIG_DFL);
    raise(sig);
}

static int fuzz_main(int argc, char **argv, const struct fuzz_target *t)
{
    fuzz_name = t->name;
    double seconds = 10;
    uint64_t runs_max = UINT64_MAX;
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "-seconds=", 9) == 0)
            seconds = atof(argv[i] + 9);
        else if (strncmp(argv[i], "-runs=", 6) == 0)
            runs_max = strtoull(argv[i] + 6, NULL, 10);
        else if (strncmp(argv[i], "-seed=", 6) == 0)
            rng_state = strtoull(argv[i] + 6, NULL, 10) * 2654435761ull + 1;
        else
            fuzz_add_path(argv[i]);
    }
    if (fuzz_nseeds == 0) {
        fprintf(stderr, "%s: no seed inputs\n", t->name);
        return 2;
    }
    signal(SIGABRT, fuzz_on_signal);
    signal(SIGSEGV, fuzz_on_signal);
    if (__sanitizer_set_death_callback)
        __sanitizer_set_death_callback(fuzz_save_crash);
    uint64_t runs = 0, seeds_did = 0;
    for (size_t i = 0; i < fuzz_nseeds; i++) {
        fuzz_cur = fuzz_seeds[i].data;
        fuzz_cur_size = fuzz_seeds[i].size;
        uint64_t before = t->outcomes();
        t->one(fuzz_cur, fuzz_cur_size);
        seeds_did += t->outcomes() > before;
        runs++;
    }
    printf("%s: %llu of %zu seed inputs %s\n", t->name, (unsigned long long)seeds_did, fuzz_nseeds,
           t->seed_outcome);
    fflush(stdout);
    double start = fuzz_now();
    size_t cap = 0;
    for (size_t i = 0; i < fuzz_nseeds; i++)
        cap = fuzz_seeds[i].size + 64 > cap ? fuzz_seeds[i].size + 64 : cap;
    uint8_t *buf = malloc(cap);
    fuzz_need(buf != NULL, "out of memory");
    while (runs < runs_max && fuzz_now() - start < seconds) {
        const struct fuzz_seed *s = &fuzz_seeds[rnd() % fuzz_nseeds];
        memcpy(buf, s->data, s->size);
        size_t size = t->mutate(buf, s->size, cap);
        fuzz_cur = buf;
        fuzz_cur_size = size;
        t->one(buf, size);
        runs++;
    }
    free(buf);
    t->report(runs);
    for (size_t i = 0; i < fuzz_nseeds; i++)
        free(fuzz_seeds[i].data);
    free(fuzz_seeds);
    return 0;
}

#endif
