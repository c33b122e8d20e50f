/* fuzz_file.c - a fuzz target for the table file loader (csrc/file.c) and
 * everything a loaded table answers (csrc/lookup.c, csrc/match.c).
 *
 * The promise under test (docs/format.md "Validation at open"): after
 * ksym_file_load succeeds, no lookup reads outside the file's bytes,
 * whatever they hold.  The target copies each input into a buffer of
 * exactly its size (so AddressSanitizer sees any read past it), fixes the
 * checksum field (so inputs reach the structural checks), loads it, and
 * when that succeeds drives every lookup over the table, checking the
 * answers against each other (not against a model: a valid but lying file
 * may answer wrongly, never out of bounds).
 *
 * Build modes (csrc/Makefile):
 *   -DKSYM_FUZZ_STANDALONE   the target plus a small mutation driver with
 *                            main() (make fuzz_file_asan, make fuzz):
 *     fuzz_file_asan -make-seeds DIR [TEXT...]
 *         write seed tables to DIR: hand-made ones, plus one per TEXT file
 *         (kallsyms, System.map or nm text; default /proc/kallsyms when it
 *         shows real addresses)
 *     fuzz_file_asan [-seconds=N] [-runs=N] [-seed=N] [-artifact_prefix=P] SEED...
 *         run each SEED (a file, or a directory of files) once as is, then
 *         mutate seeds until N seconds or N runs are used (default 10 s);
 *         prints "fuzz_file: runs=R loaded=L ..." (L = inputs that loaded).
 *         An input that crashes or trips a check is saved to P<hash>.bin
 *         (default P = /tmp/fuzz-crash-); pass it as a SEED with -runs=0
 *         to replay it.
 *   -DKSYM_FUZZ_LIBFUZZER (or FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)
 *                            the target alone, for clang -fsanitize=fuzzer.
 *   neither: an empty translation unit.  The Python extension and the
 *   sanitizer tests compile every .c file of csrc/ not named test_*, this file
 *   included; it adds nothing to them.
 *
 * SPDX-License-Identifier: MIT
 */
#if defined(KSYM_FUZZ_STANDALONE) || defined(KSYM_FUZZ_LIBFUZZER) || \
    defined(FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)

#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE /* clock_gettime, dirent, sigaction, alarm */
#endif
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksym.h"

/* ==== the target ========================================================= */

#define FZ_NAME_BUF (KSYM_NAME_MAX + 1) /* a name and its NUL always fit */
#define FZ_EXPAND_CAP 20000             /* names expanded per table */
#define FZ_DUMP_BUF 16384               /* ksym_dump_range buffer */
#define FZ_DUMP_CHUNK 1024              /* symbols asked per ksym_dump_range call */
#define FZ_SAMPLES 16                   /* sampled symbol indexes */
#define FZ_MAX_QUERIES 160
#define FZ_RUN_CHECK 64                 /* members of a name run checked one by one */
#define FZ_QUERY_SAMPLES 8              /* sampled names turned into queries */
#define FZ_GLOB_SPAN 256                /* symbols a glob walks in chunks (the last ones) */

#define FZ_CHECK(cond)                                                             \
    do {                                                                           \
        if (!(cond))                                                               \
            fz_fail(__LINE__, #cond);                                              \
    } while (0)

static void fz_fail(int line, const char *what)
{
    fprintf(stderr, "fuzz_file.c:%d: check failed: %s\n", line, what);
    fflush(stderr);
    abort();
}

/* xorshift64 */
struct fz_rng {
    uint64_t s;
};

static void fz_seed(struct fz_rng *r, uint64_t seed)
{
    r->s = seed ? seed : 0x9E3779B97F4A7C15ull;
}

static uint64_t fz_next(struct fz_rng *r)
{
    uint64_t x = r->s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return r->s = x;
}

static uint64_t fz_below(struct fz_rng *r, uint64_t n)
{
    return n ? fz_next(r) % n : 0;
}

static uint32_t fz_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static uint64_t fz_rd64(const uint8_t *p)
{
    return (uint64_t)fz_rd32(p) | ((uint64_t)fz_rd32(p + 4) << 32);
}

static void fz_wr64(uint8_t *p, uint64_t v)
{
    for (int j = 0; j < 8; j++)
        p[j] = (uint8_t)(v >> (8 * j));
}

/* malloc that never returns NULL for a nonzero size (the target checks
 * nothing about allocation failures) and returns a unique block for 0. */
static void *fz_alloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "fuzz_file: out of memory (%zu bytes)\n", n);
        abort();
    }
    return p;
}

/* The checksum field (bytes 56..63) made right: the checksum of the file
 * with that field read as zero (docs/format.md "Checksum"). */
static void fz_fix_checksum(uint8_t *buf, size_t size)
{
    if (size < KSYM_FILE_HEADER_SIZE)
        return;
    memset(buf + KSYM_FILE_CHECKSUM_OFFSET, 0, 8);
    fz_wr64(buf + KSYM_FILE_CHECKSUM_OFFSET, ksym_checksum64(buf, size));
}

/* Everything the target needs while it exercises one loaded table. */
struct fz {
    const struct ksym_table *t;
    const uint8_t *data; /* the loaded bytes: every array must lie inside */
    size_t size;
    uint32_t n, m;
    struct fz_rng rng;
    char *name;  /* FZ_NAME_BUF bytes */
    char *name2; /* FZ_NAME_BUF bytes */
    uint32_t sample[FZ_SAMPLES];
    size_t nsample;
};

/* Name of symbol i (valid index) into buf (FZ_NAME_BUF bytes): its length. */
static size_t fz_name(const struct fz *f, uint32_t i, char *buf)
{
    int l = ksym_name(f->t, i, buf, FZ_NAME_BUF);
    FZ_CHECK(l >= 0 && l <= KSYM_NAME_MAX);
    FZ_CHECK(buf[l] == 0);
    return (size_t)l;
}

static int fz_name_is(const struct fz *f, uint32_t i, const char *q, size_t qlen)
{
    size_t l = fz_name(f, i, f->name2);
    return l == qlen && memcmp(f->name2, q, qlen) == 0;
}

/* p[0..len) lies inside the loaded bytes. */
static int fz_inside(const struct fz *f, const void *p, size_t len)
{
    const uint8_t *b = p;
    if (!b)
        return len == 0;
    return b >= f->data && b <= f->data + f->size && len <= (size_t)(f->data + f->size - b);
}

/* Read every byte of an array a getter returned: ASan checks each read. */
static uint64_t fz_touch(const uint8_t *p, size_t len)
{
    uint64_t h = 0;
    for (size_t k = 0; k < len; k++)
        h = h * 31 + p[k];
    return h;
}

static void fz_check_module(const struct fz *f, int32_t mod)
{
    FZ_CHECK(mod >= -1 && (int64_t)mod < (int64_t)f->m);
    if (mod >= 0) {
        const char *mn = ksym_module_name(f->t, (uint32_t)mod);
        FZ_CHECK(mn != NULL);
        size_t ml = strlen(mn);
        FZ_CHECK(ml >= 1 && ml <= KSYM_MODULE_NAME_MAX);
        FZ_CHECK(fz_inside(f, mn, ml + 1));
    }
}

/* -- 1. every name (up to FZ_EXPAND_CAP): ksym_dump_range against ksym_name,
 *    ksym_symbol and the getters. */
static void fz_expand_all(struct fz *f)
{
    const struct ksym_table *t = f->t;
    uint32_t lim = f->n < FZ_EXPAND_CAP ? f->n : FZ_EXPAND_CAP;
    char *buf = fz_alloc(FZ_DUMP_BUF);
    uint64_t *addrs = fz_alloc(FZ_DUMP_CHUNK * sizeof *addrs);
    char *types = fz_alloc(FZ_DUMP_CHUNK);
    int32_t *mods = fz_alloc(FZ_DUMP_CHUNK * sizeof *mods);
    uint32_t start = 0;
    while (start < lim) {
        uint32_t want = lim - start < FZ_DUMP_CHUNK ? lim - start : FZ_DUMP_CHUNK;
        size_t written = SIZE_MAX;
        int64_t k = ksym_dump_range(t, start, want, addrs, types, mods, buf, FZ_DUMP_BUF, &written);
        FZ_CHECK(k >= 1 && k <= want && written <= FZ_DUMP_BUF);
        size_t p = 0;
        for (uint32_t j = 0; j < (uint32_t)k; j++) {
            uint32_t i = start + j;
            size_t l = fz_name(f, i, f->name);
            FZ_CHECK(p + l + 1 <= written);
            FZ_CHECK(memcmp(buf + p, f->name, l) == 0 && buf[p + l] == '\n');
            p += l + 1;
            uint64_t a = ksym_address(t, i);
            FZ_CHECK(addrs[j] == a);
            /* ksym_type reads the first token alone, the others the first byte
             * of the expansion: the same since the first token may not be empty */
            FZ_CHECK(types[j] == ksym_type(t, i) && types[j] != 0);
            FZ_CHECK(mods[j] == ksym_module(t, i));
            fz_check_module(f, mods[j]);
            if (i + 1 < f->n)
                FZ_CHECK(a <= ksym_address(t, i + 1)); /* checked at open */
            uint64_t sa = 0;
            char sty = 0;
            int32_t smod = -7;
            int sl = ksym_symbol(t, i, &sa, &sty, &smod, f->name2, FZ_NAME_BUF);
            FZ_CHECK(sl == (int)l && memcmp(f->name2, f->name, l) == 0 && f->name2[l] == 0);
            FZ_CHECK(sa == a && sty == types[j] && smod == mods[j]);
            FZ_CHECK(ksym_symbol(t, i, NULL, NULL, NULL, NULL, 0) == (int)l);
            FZ_CHECK(ksym_strip_llvm(f->name, l) <= l && ksym_strip_clone(f->name, l) <= l);
            uint32_t s = ksym_seq(t, i);
            FZ_CHECK(s < f->n);
        }
        FZ_CHECK(p == written);
        start += (uint32_t)k;
    }
    /* small buffers: one symbol always fits in KSYM_NAME_MAX + 1 bytes */
    if (f->n) {
        char *small = fz_alloc(KSYM_NAME_MAX + 1);
        uint32_t s0 = (uint32_t)fz_below(&f->rng, f->n);
        size_t w = 0;
        int64_t k = ksym_dump_range(t, s0, f->n - s0 < 4 ? f->n - s0 : 4, NULL, NULL, NULL, small,
                                    KSYM_NAME_MAX + 1, &w);
        FZ_CHECK(k >= 1 && w <= KSYM_NAME_MAX + 1);
        free(small);
        for (size_t len = 1; len <= 3; len++) {
            char *tiny = fz_alloc(len);
            k = ksym_dump_range(t, s0, 1, NULL, NULL, NULL, tiny, len, &w);
            FZ_CHECK((k == 1 && w <= len) || (k == KSYM_ENOSPC && w == 0));
            free(tiny);
        }
        FZ_CHECK(ksym_dump_range(t, 0, 1, NULL, NULL, NULL, NULL, 0, &w) == KSYM_ENOSPC);
    }
    FZ_CHECK(ksym_dump_range(t, f->n, 0, NULL, NULL, NULL, buf, FZ_DUMP_BUF, NULL) == 0);
    FZ_CHECK(ksym_dump_range(t, f->n, 1, NULL, NULL, NULL, buf, FZ_DUMP_BUF, NULL) == KSYM_ERANGE);
    FZ_CHECK(ksym_dump_range(t, 0, f->n + 1, NULL, NULL, NULL, buf, FZ_DUMP_BUF, NULL) ==
             KSYM_ERANGE);
    FZ_CHECK(ksym_dump_range(t, UINT32_MAX, 2, NULL, NULL, NULL, buf, FZ_DUMP_BUF, NULL) ==
             KSYM_ERANGE);
    free(buf);
    free(addrs);
    free(types);
    free(mods);
}

/* -- 2. sampled indexes: exact-size buffers, and indexes out of range */
static void fz_indexes(struct fz *f)
{
    const struct ksym_table *t = f->t;
    for (size_t s = 0; s < f->nsample; s++) {
        uint32_t i = f->sample[s];
        size_t l = fz_name(f, i, f->name);
        char *exact = fz_alloc(l + 1);
        FZ_CHECK(ksym_name(t, i, exact, l + 1) == (int)l && exact[l] == 0);
        FZ_CHECK(memcmp(exact, f->name, l) == 0);
        FZ_CHECK(ksym_name(t, i, exact, l) == KSYM_ENOSPC);
        uint64_t a;
        char ty;
        int32_t mod;
        FZ_CHECK(ksym_symbol(t, i, &a, &ty, &mod, exact, l + 1) == (int)l);
        FZ_CHECK(ksym_symbol(t, i, &a, &ty, &mod, exact, l) == KSYM_ENOSPC);
        FZ_CHECK(ksym_symbol(t, i, &a, &ty, &mod, exact, 0) == KSYM_ENOSPC);
        free(exact);
        FZ_CHECK(ksym_name(t, i, NULL, 0) == KSYM_ENOSPC);
        mod = ksym_module(t, i);
        fz_check_module(f, mod);
        (void)ksym_type(t, i);
    }
    const uint32_t bad[] = {f->n, f->n + 1, f->n + 17, UINT32_MAX - 1, UINT32_MAX};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        uint32_t i = bad[k];
        if (i < f->n) /* f->n + 1 wrapped: cannot happen (count < 2^24) */
            continue;
        FZ_CHECK(ksym_name(t, i, f->name, FZ_NAME_BUF) == KSYM_ERANGE);
        uint64_t a;
        char ty;
        int32_t mod;
        FZ_CHECK(ksym_symbol(t, i, &a, &ty, &mod, f->name, FZ_NAME_BUF) == KSYM_ERANGE);
        FZ_CHECK(ksym_type(t, i) == 0);
        FZ_CHECK(ksym_module(t, i) == -1);
        FZ_CHECK(ksym_address(t, i) == 0);
        FZ_CHECK(ksym_seq(t, i) == UINT32_MAX);
    }
    const uint32_t badm[] = {f->m, f->m + 1, UINT32_MAX};
    for (size_t k = 0; k < sizeof badm / sizeof badm[0]; k++)
        FZ_CHECK(ksym_module_name(t, badm[k]) == NULL);
    for (uint32_t id = 0; id < f->m && id < 64; id++)
        fz_check_module(f, (int32_t)id);
    if (f->m > 64)
        fz_check_module(f, (int32_t)(f->m - 1));
}

/* -- 3. name queries */
struct fz_query {
    char *s; /* exactly len bytes (at least 1 allocated) */
    size_t len;
};

struct fz_queries {
    struct fz_query q[FZ_MAX_QUERIES];
    size_t n;
};

static void fz_add_query(struct fz_queries *qs, const void *s, size_t len)
{
    if (qs->n == FZ_MAX_QUERIES)
        return;
    struct fz_query *q = &qs->q[qs->n++];
    q->s = fz_alloc(len);
    if (len)
        memcpy(q->s, s, len);
    q->len = len;
}

static void fz_add_str(struct fz_queries *qs, const char *s)
{
    fz_add_query(qs, s, strlen(s));
}

static void fz_make_queries(struct fz *f, struct fz_queries *qs)
{
    static const char *const fixed[] = {
        "a", "foo", "foo.llvm.123", "foo.isra.0", "foo.constprop.0", "bar", "_text",
        "_stext", "startup_64", "do_sys_open", "__pfx_", ".", "..", ".llvm.", "x.llvm.",
        "llvm", "sym_1", "mod_sym_3", "\xff", "\x01", "~", "zzzzzzzzzzzzzzzzzzzz",
        "0123456789abcdef", "0123456789abcdef0", "aaaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaaa",
    };
    qs->n = 0;
    for (size_t k = 0; k < sizeof fixed / sizeof fixed[0]; k++)
        fz_add_str(qs, fixed[k]);
    fz_add_query(qs, "", 0);
    fz_add_query(qs, "a\0b", 3);
    fz_add_query(qs, "\0", 1);
    char longq[KSYM_NAME_MAX + 2];
    memset(longq, 'a', sizeof longq);
    fz_add_query(qs, longq, KSYM_NAME_MAX);     /* the longest valid name */
    fz_add_query(qs, longq, KSYM_NAME_MAX + 1); /* one too long */
    /* names from the table itself, and what a suffix-aware lookup makes of them */
    for (size_t s = 0; s < f->nsample && s < FZ_QUERY_SAMPLES; s++) {
        size_t l = fz_name(f, f->sample[s], f->name);
        const char *nm = f->name;
        fz_add_query(qs, nm, l);
        size_t cut = ksym_strip_clone(nm, l);
        if (cut < l)
            fz_add_query(qs, nm, cut);
        size_t lcut = ksym_strip_llvm(nm, l);
        if (lcut < l && lcut != cut)
            fz_add_query(qs, nm, lcut);
        if (l > 1)
            fz_add_query(qs, nm, l / 2);
        if (l + 8 <= KSYM_NAME_MAX + 1) {
            char ext[FZ_NAME_BUF + 8];
            memcpy(ext, nm, l);
            memcpy(ext + l, ".llvm.1", 7);
            fz_add_query(qs, ext, l + 7);
            ext[l] = 'x';
            fz_add_query(qs, ext, l + 1);
        }
    }
    /* bytes of the input */
    for (int k = 0; k < 6 && f->size; k++) {
        size_t len = 1 + (size_t)fz_below(&f->rng, k == 5 ? 600 : 24);
        size_t at = (size_t)fz_below(&f->rng, f->size);
        if (len > f->size - at)
            len = f->size - at;
        fz_add_query(qs, f->data + at, len);
    }
}

static void fz_check_match_answer(struct fz *f, const struct fz_query *q, int policy,
                                  int32_t module, const uint32_t *idx, const uint8_t *kinds,
                                  size_t cap)
{
    size_t exact = 0;
    for (size_t k = 0; k < cap; k++) {
        FZ_CHECK(idx[k] < f->n);
        FZ_CHECK(kinds[k] <= KSYM_MATCH_CLONE);
        exact += kinds[k] == KSYM_MATCH_EXACT;
        /* stripped matches are sorted; exact ones come in seqs order, which
         * is address order unless the file lies */
        if (kinds[k] != KSYM_MATCH_EXACT)
            FZ_CHECK(k == 0 || idx[k - 1] <= idx[k]);
        if (policy == KSYM_SUFFIX_NONE)
            FZ_CHECK(kinds[k] == KSYM_MATCH_EXACT);
        if (module != KSYM_MODULE_ANY)
            FZ_CHECK(ksym_module(f->t, idx[k]) == module);
        if (kinds[k] == KSYM_MATCH_EXACT && k < 4)
            FZ_CHECK(fz_name_is(f, idx[k], q->s, q->len));
    }
    FZ_CHECK(exact == 0 || exact == cap); /* exact matches, when any, are the whole answer */
}

/* ksym_match into a buffer of FZ_MATCH_CAP (exactly sized), then, when
 * there were more, into one of exactly the count. */
#define FZ_MATCH_CAP 8
static void fz_check_matches(struct fz *f, const struct fz_query *q, int policy, int32_t module)
{
    const struct ksym_table *t = f->t;
    uint32_t *idx = fz_alloc(FZ_MATCH_CAP * sizeof *idx);
    uint8_t *kinds = fz_alloc(FZ_MATCH_CAP);
    int64_t c = ksym_match(t, q->s, q->len, policy, module, idx, kinds, FZ_MATCH_CAP);
    FZ_CHECK(c >= 0 && c <= (int64_t)f->n);
    if (c <= FZ_MATCH_CAP) {
        fz_check_match_answer(f, q, policy, module, idx, kinds, (size_t)c);
    } else {
        for (size_t k = 0; k < FZ_MATCH_CAP; k++)
            FZ_CHECK(idx[k] < f->n && kinds[k] <= KSYM_MATCH_CLONE);
        size_t cap = (size_t)c;
        uint32_t *all = fz_alloc(cap * sizeof *all);
        uint8_t *allk = fz_alloc(cap);
        FZ_CHECK(ksym_match(t, q->s, q->len, policy, module, all, allk, cap) == c);
        fz_check_match_answer(f, q, policy, module, all, allk, cap);
        free(all);
        free(allk);
    }
    FZ_CHECK(ksym_match(t, q->s, q->len, policy, module, idx, NULL, FZ_MATCH_CAP) == KSYM_EINVAL);
    free(idx);
    free(kinds);
}

static void fz_names(struct fz *f)
{
    const struct ksym_table *t = f->t;
    struct fz_queries *qs = fz_alloc(sizeof *qs);
    fz_make_queries(f, qs);
    const int32_t modules[] = {-1, 0, KSYM_MODULE_ANY, (int32_t)f->m - 1, (int32_t)f->m + 3};
    for (size_t k = 0; k < qs->n; k++) {
        const struct fz_query *q = &qs->q[k];
        uint64_t a = 0xdeadull;
        int64_t li = ksym_lookup_name(t, q->s, q->len, &a);
        FZ_CHECK(li >= -1 && li < (int64_t)f->n);
        FZ_CHECK(ksym_lookup_name(t, q->s, q->len, NULL) == li);
        if (li >= 0) {
            FZ_CHECK(a == ksym_address(t, (uint32_t)li));
            FZ_CHECK(fz_name_is(f, (uint32_t)li, q->s, q->len));
        }
        uint32_t first = UINT32_MAX;
        int64_t run = ksym_name_run(t, q->s, q->len, &first);
        FZ_CHECK(run >= 0 && run <= (int64_t)f->n);
        FZ_CHECK((run > 0) == (li >= 0));
        if (run > 0) {
            FZ_CHECK(first < f->n && run <= (int64_t)(f->n - first));
            FZ_CHECK(ksym_seq(t, first) == (uint32_t)li);
            for (int64_t r = 0; r < run && r < FZ_RUN_CHECK; r++)
                FZ_CHECK(fz_name_is(f, ksym_seq(t, first + (uint32_t)r), q->s, q->len));
        }
        FZ_CHECK(ksym_name_run(t, q->s, q->len, NULL) == run);
        for (int policy = KSYM_SUFFIX_NONE; policy <= KSYM_SUFFIX_CLONE; policy++) {
            /* the last two module filters (a module id, none) with CLONE only */
            size_t nmod = policy == KSYM_SUFFIX_CLONE ? sizeof modules / sizeof modules[0] : 3;
            for (size_t mi = 0; mi < nmod; mi++)
                fz_check_matches(f, q, policy, modules[mi]);
            uint64_t sa = 0xbeefull;
            int64_t si = ksym_lookup_name_suffix(t, q->s, q->len, policy, &sa);
            FZ_CHECK(si >= -1 && si < (int64_t)f->n);
            if (si >= 0)
                FZ_CHECK(sa == ksym_address(t, (uint32_t)si));
            if (li >= 0 || policy == KSYM_SUFFIX_NONE)
                FZ_CHECK(si == li);
            FZ_CHECK(ksym_lookup_name_suffix(t, q->s, q->len, policy, NULL) == si);
        }
        FZ_CHECK(ksym_lookup_name_suffix(t, q->s, q->len, 3, NULL) == -1);
        FZ_CHECK(ksym_lookup_name_suffix(t, q->s, q->len, -1, NULL) == -1);
        FZ_CHECK(ksym_match(t, q->s, q->len, 3, KSYM_MODULE_ANY, NULL, NULL, 0) == KSYM_EINVAL);
        FZ_CHECK(ksym_match(t, q->s, q->len, 0, -3, NULL, NULL, 0) == KSYM_EINVAL);
        first = UINT32_MAX;
        int64_t pc = ksym_prefix_range(t, q->s, q->len, &first);
        FZ_CHECK(pc >= 0 && first <= f->n && pc <= (int64_t)(f->n - first));
        if (li >= 0 && q->len <= KSYM_NAME_MAX)
            FZ_CHECK(pc >= 1); /* the name itself begins with the name */
        FZ_CHECK(ksym_prefix_range(t, q->s, q->len, NULL) == pc);
        FZ_CHECK(ksym_strip_llvm(q->s, q->len) <= q->len);
        FZ_CHECK(ksym_strip_clone(q->s, q->len) <= q->len);
    }
    uint32_t first = UINT32_MAX;
    FZ_CHECK(ksym_prefix_range(t, "", 0, &first) == f->n && first == 0);
    FZ_CHECK(ksym_prefix_range(t, NULL, 0, &first) == f->n && first == 0);
    FZ_CHECK(ksym_prefix_range(t, NULL, 1, &first) == KSYM_EINVAL);
    FZ_CHECK(ksym_match(t, NULL, 0, 1, -1, NULL, NULL, 0) == 0);
    FZ_CHECK(ksym_match(t, NULL, 1, 1, -1, NULL, NULL, 0) == KSYM_EINVAL);
    FZ_CHECK(ksym_lookup_name(t, NULL, 0, NULL) == -1);
    FZ_CHECK(ksym_lookup_name_suffix(t, NULL, 3, 2, NULL) == -1);
    FZ_CHECK(ksym_name_run(t, NULL, 0, NULL) == 0);
    for (size_t k = 0; k < qs->n; k++)
        free(qs->q[k].s);
    free(qs);
}

/* -- 4. address lookups */
static void fz_check_addr(struct fz *f, uint64_t q)
{
    const struct ksym_table *t = f->t;
    struct ksym_addr_info info, info2;
    memset(&info, 0xA5, sizeof info);
    char *nb = fz_alloc(KSYM_NAME_MAX + 1);
    int r = ksym_lookup_addr(t, q, &info, nb, KSYM_NAME_MAX + 1);
    FZ_CHECK(r == 0 || r == 1);
    if (r == 1) {
        FZ_CHECK(info.index < f->n);
        uint32_t i = (uint32_t)info.index;
        FZ_CHECK(info.address == ksym_address(t, i));
        FZ_CHECK(info.address <= q && info.offset == q - info.address);
        FZ_CHECK(i == 0 || ksym_address(t, i - 1) < info.address); /* the first alias */
        FZ_CHECK(info.module == ksym_module(t, i));
        FZ_CHECK(info.size == 0 || q - info.address < info.size);
        FZ_CHECK(ksym_size(t, i) == 0 || info.size == ksym_size(t, i)); /* a sized symbol's own size */
        size_t l = fz_name(f, i, f->name);
        FZ_CHECK(info.name_len == l && memcmp(nb, f->name, l) == 0 && nb[l] == 0);
        memset(&info2, 0x5A, sizeof info2);
        FZ_CHECK(ksym_lookup_addr(t, q, &info2, NULL, 0) == 1);
        FZ_CHECK(info2.index == info.index && info2.address == info.address &&
                 info2.size == info.size && info2.offset == info.offset &&
                 info2.module == info.module && info2.name_len == 0);
    }
    FZ_CHECK(ksym_lookup_addr(t, q, NULL, NULL, 0) == r);
    FZ_CHECK(ksym_lookup_addr(t, q, NULL, nb, KSYM_NAME_MAX + 1) == r);
    FZ_CHECK(ksym_lookup_addr(t, q, &info, nb, KSYM_NAME_MAX) == KSYM_ENOSPC);
    free(nb);
}

static void fz_addresses(struct fz *f)
{
    uint64_t lo = f->n ? ksym_address(f->t, 0) : 0;
    uint64_t hi = f->n ? ksym_address(f->t, f->n - 1) : 0;
    const uint64_t fixed[] = {0, 1, UINT64_MAX, UINT64_MAX - 1, lo, lo - 1, lo + 1, hi, hi - 1,
                              hi + 1, hi + 4096, lo / 2 + hi / 2, 0xffffffff81000000ull,
                              0x7fffffffffffffffull, 0x8000000000000000ull};
    for (size_t k = 0; k < sizeof fixed / sizeof fixed[0]; k++)
        fz_check_addr(f, fixed[k]);
    for (size_t s = 0; s < f->nsample; s++) {
        uint64_t a = ksym_address(f->t, f->sample[s]);
        fz_check_addr(f, a);
        fz_check_addr(f, a + 1);
        fz_check_addr(f, a - 1);
    }
    for (int k = 0; k < 8; k++) {
        fz_check_addr(f, fz_next(&f->rng));
        fz_check_addr(f, lo + fz_below(&f->rng, hi - lo + 1));
    }
}

/* -- 5. globs */
/* Walk a pattern's matches in chunks of cap from symbol start to the end. */
static void fz_glob_walk(struct fz *f, const char *p, size_t plen, uint32_t *out, size_t cap,
                         uint32_t start)
{
    const struct ksym_table *t = f->t;
    uint32_t next = start, calls = 0;
    while (next < f->n) {
        uint32_t before = next;
        int64_t c = ksym_glob(t, p, plen, &next, out, cap);
        FZ_CHECK(c >= 0 && (size_t)c <= cap);
        FZ_CHECK(next > before && next <= f->n);
        for (int64_t k = 0; k < c; k++) {
            FZ_CHECK(out[k] >= before && out[k] < next);
            FZ_CHECK(k == 0 || out[k - 1] <= out[k]);
            if (k < 2) {
                size_t l = fz_name(f, out[k], f->name);
                (void)ksym_glob_match(p, plen, f->name, l);
            }
        }
        FZ_CHECK(++calls <= f->n);
    }
}

/* One pattern: from symbol 0 with room for every symbol (a literal prefix
 * is then answered from the name index), and over the last `span` symbols
 * in chunks of cap. */
static void fz_glob_one(struct fz *f, const char *pat, size_t plen, size_t cap, uint32_t span)
{
    const struct ksym_table *t = f->t;
    char *p = fz_alloc(plen); /* exactly sized */
    if (plen)
        memcpy(p, pat, plen);
    uint32_t start = f->n > span ? f->n - span : 0;
    if (start && ksym_glob_prefix(p, plen)) {
        uint32_t *all = fz_alloc((size_t)f->n * sizeof *all);
        fz_glob_walk(f, p, plen, all, f->n, 0);
        free(all);
    }
    uint32_t *out = fz_alloc(cap * sizeof *out);
    fz_glob_walk(f, p, plen, out, cap, start);
    uint32_t z = start;
    FZ_CHECK(ksym_glob(t, p, plen, &z, NULL, 0) == 0);
    z = f->n;
    FZ_CHECK(ksym_glob(t, p, plen, &z, out, cap) == 0 && z == f->n);
    z = UINT32_MAX;
    FZ_CHECK(ksym_glob(t, p, plen, &z, out, cap) == 0 && z == f->n);
    FZ_CHECK(ksym_glob(t, p, plen, NULL, out, cap) == KSYM_EINVAL);
    FZ_CHECK(ksym_glob_prefix(p, plen) <= plen);
    free(out);
    free(p);
}

static void fz_globs(struct fz *f)
{
    static const char *const pats[] = {"*", "a*", "*_?", "[a-c]*x", "?", "", "*.llvm.*",
                                       "[!a-z]*", "\\", "[", "[]]*", "s*[0-9]", "*a*b*c*",
                                       "foo*", "_*", "\\*"};
    for (size_t k = 0; k < sizeof pats / sizeof pats[0]; k++)
        fz_glob_one(f, pats[k], strlen(pats[k]), (size_t)1 << (2 * (k % 6)),
                    k == 0 ? FZ_GLOB_SPAN * 8 : FZ_GLOB_SPAN);
    for (size_t s = 0; s < f->nsample && s < 3; s++) {
        size_t l = fz_name(f, f->sample[s], f->name);
        char pat[FZ_NAME_BUF + 2];
        memcpy(pat, f->name, l);
        fz_glob_one(f, pat, l, 4096, FZ_GLOB_SPAN); /* the name itself, maybe with specials */
        size_t half = l / 2;
        pat[half] = '*';
        fz_glob_one(f, pat, half + 1, 1 + s * 50, FZ_GLOB_SPAN);
        pat[half] = '?';
        pat[half + 1] = '*';
        fz_glob_one(f, pat, half + 2, 64, FZ_GLOB_SPAN);
    }
    if (f->size) {
        size_t len = 1 + (size_t)fz_below(&f->rng, 12);
        size_t at = (size_t)fz_below(&f->rng, f->size);
        if (len > f->size - at)
            len = f->size - at;
        fz_glob_one(f, (const char *)f->data + at, len, 16, FZ_GLOB_SPAN);
    }
}

/* -- 6. ksym_symbols_at */
static void fz_symbols_at(struct fz *f)
{
    const struct ksym_table *t = f->t;
    size_t n = f->nsample;
    uint32_t *idx = fz_alloc((n + 1) * sizeof *idx);
    for (size_t k = 0; k < n; k++)
        idx[k] = f->sample[k];
    size_t buflen = n * (KSYM_NAME_MAX + 2);
    char *buf = fz_alloc(buflen);
    uint64_t *addrs = fz_alloc((n + 1) * sizeof *addrs);
    char *types = fz_alloc(n + 1);
    int32_t *mods = fz_alloc((n + 1) * sizeof *mods);
    size_t w = SIZE_MAX;
    int64_t c = ksym_symbols_at(t, idx, n, addrs, types, mods, buf, buflen, &w);
    FZ_CHECK(c == (int64_t)n && w <= buflen);
    size_t p = 0;
    for (size_t k = 0; k < n; k++) {
        size_t l = fz_name(f, idx[k], f->name);
        FZ_CHECK(p + l + 1 <= w && memcmp(buf + p, f->name, l) == 0 && buf[p + l] == '\n');
        p += l + 1;
        char ty = 0;
        FZ_CHECK(ksym_symbol(t, idx[k], NULL, &ty, NULL, NULL, 0) == (int)l);
        FZ_CHECK(addrs[k] == ksym_address(t, idx[k]) && types[k] == ty &&
                 ty == ksym_type(t, idx[k]) && mods[k] == ksym_module(t, idx[k]));
    }
    FZ_CHECK(p == w);
    if (n) {
        char *small = fz_alloc(KSYM_NAME_MAX + 1);
        FZ_CHECK(ksym_symbols_at(t, idx, n, NULL, NULL, NULL, small, KSYM_NAME_MAX + 1, &w) ==
                 KSYM_ENOSPC);
        free(small);
        small = fz_alloc(KSYM_NAME_MAX + 2);
        FZ_CHECK(ksym_symbols_at(t, idx, n, NULL, NULL, NULL, small, KSYM_NAME_MAX + 2, &w) == 1);
        free(small);
    }
    idx[n] = f->n; /* out of range */
    FZ_CHECK(ksym_symbols_at(t, idx, n + 1, NULL, NULL, NULL, buf, buflen, &w) == KSYM_ERANGE);
    FZ_CHECK(ksym_symbols_at(t, idx, 0, NULL, NULL, NULL, buf, buflen, &w) == 0);
    FZ_CHECK(ksym_symbols_at(t, NULL, 1, NULL, NULL, NULL, buf, buflen, &w) == KSYM_EINVAL);
    free(idx);
    free(buf);
    free(addrs);
    free(types);
    free(mods);
}

/* ksym_file_provenance without the offset, shaped like the array getters. */
static const uint8_t *fz_provenance(const struct ksym_table *t, size_t *len)
{
    return ksym_file_provenance(t, len, NULL);
}

/* -- 7. the kernel's arrays and the other getters: inside the file */
static void fz_arrays(struct fz *f)
{
    const struct ksym_table *t = f->t;
    const uint8_t *(*const getters[])(const struct ksym_table *, size_t *) = {
        ksym_names_bytes, ksym_markers_bytes, ksym_token_table_bytes, ksym_token_index_bytes,
        ksym_seqs_bytes, fz_provenance};
    volatile uint64_t sink = 0;
    for (size_t k = 0; k < sizeof getters / sizeof getters[0]; k++) {
        size_t len = SIZE_MAX;
        const uint8_t *p = getters[k](t, &len);
        FZ_CHECK(fz_inside(f, p, len));
        sink += fz_touch(p, len);
        FZ_CHECK(getters[k](t, NULL) == p);
    }
    size_t len;
    ksym_token_index_bytes(t, &len);
    FZ_CHECK(len == (size_t)KSYM_TOKENS * 2);
    ksym_seqs_bytes(t, &len);
    FZ_CHECK(len == (size_t)f->n * KSYM_SEQ_BYTES);
    ksym_markers_bytes(t, &len);
    FZ_CHECK(len == (size_t)(f->n + KSYM_MARKER_STRIDE - 1) / KSYM_MARKER_STRIDE * 4);
    uint64_t poff = UINT64_MAX;
    const uint8_t *prov = ksym_file_provenance(t, &len, &poff);
    FZ_CHECK(len <= KSYM_FILE_MAX_PROVENANCE);
    FZ_CHECK(prov ? poff <= f->size && prov == f->data + poff : len == 0 && poff == 0);
    FZ_CHECK(ksym_memory_size(t) >= f->size);
    FZ_CHECK(ksym_module_count(t) == f->m);
    /* A loaded table's names hold its count records (the loader checked). */
    uint64_t prefix_bytes = 0, name_bytes = 0;
    ksym_names_bytes(t, &len);
    FZ_CHECK(ksym_names_figures(t, &prefix_bytes, &name_bytes) == KSYM_OK);
    FZ_CHECK(prefix_bytes >= f->n && prefix_bytes <= len);
    for (uint32_t pos = 0; pos < f->n && pos < FZ_EXPAND_CAP; pos++)
        FZ_CHECK(ksym_seq(t, pos) < f->n);
    (void)sink;
}

/* -- 8. write the table and load what was written: valid, and the same */
static void fz_round_trip(struct fz *f)
{
    const struct ksym_table *t = f->t;
    size_t plen;
    const uint8_t *prov = ksym_file_provenance(t, &plen, NULL);
    size_t size = ksym_file_size(t, plen);
    FZ_CHECK(size >= KSYM_FILE_HEADER_SIZE);
    uint8_t *buf = fz_alloc(size);
    FZ_CHECK(ksym_file_write(t, prov, plen, buf, size) == (int64_t)size);
    if (size > KSYM_FILE_HEADER_SIZE)
        FZ_CHECK(ksym_file_write(t, prov, plen, buf, size - 1) == KSYM_ENOSPC);
    FZ_CHECK(fz_rd64(buf + 48) == size);
    struct ksym_table *t2 = NULL;
    char msg[256];
    uint64_t where = 0;
    int rc = ksym_file_load(buf, size, &t2, msg, sizeof msg, &where);
    if (rc != KSYM_OK) {
        fprintf(stderr, "fuzz_file: a rewritten table does not load: %s (byte %llu)\n", msg,
                (unsigned long long)where);
        FZ_CHECK(rc == KSYM_OK);
    }
    FZ_CHECK(ksym_count(t2) == f->n && ksym_module_count(t2) == f->m);
    const uint8_t *(*const getters[])(const struct ksym_table *, size_t *) = {
        ksym_names_bytes, ksym_markers_bytes, ksym_token_table_bytes, ksym_token_index_bytes,
        ksym_seqs_bytes, fz_provenance};
    for (size_t k = 0; k < sizeof getters / sizeof getters[0]; k++) {
        size_t l1, l2;
        const uint8_t *p1 = getters[k](t, &l1), *p2 = getters[k](t2, &l2);
        FZ_CHECK(l1 == l2 && (l1 == 0 || memcmp(p1, p2, l1) == 0));
    }
    for (size_t s = 0; s < f->nsample; s++) {
        uint32_t i = f->sample[s];
        size_t l = fz_name(f, i, f->name);
        FZ_CHECK(ksym_name(t2, i, f->name2, FZ_NAME_BUF) == (int)l);
        FZ_CHECK(memcmp(f->name, f->name2, l) == 0);
        FZ_CHECK(ksym_address(t2, i) == ksym_address(t, i));
        FZ_CHECK(ksym_type(t2, i) == ksym_type(t, i));
        FZ_CHECK(ksym_module(t2, i) == ksym_module(t, i));
        FZ_CHECK(ksym_lookup_name(t2, f->name, l, NULL) == ksym_lookup_name(t, f->name, l, NULL));
    }
    for (uint32_t id = 0; id < f->m && id < 64; id++)
        FZ_CHECK(strcmp(ksym_module_name(t, id), ksym_module_name(t2, id)) == 0);
    /* the same bytes again */
    size_t size2 = ksym_file_size(t2, plen);
    FZ_CHECK(size2 == size);
    uint8_t *buf2 = fz_alloc(size2);
    size_t plen2;
    const uint8_t *prov2 = ksym_file_provenance(t2, &plen2, NULL);
    FZ_CHECK(plen2 == plen);
    FZ_CHECK(ksym_file_write(t2, prov2, plen2, buf2, size2) == (int64_t)size2);
    FZ_CHECK(memcmp(buf, buf2, size) == 0);
    FZ_CHECK(ksym_file_write(t, NULL, 1, buf, size) == KSYM_EINVAL);
    FZ_CHECK(ksym_file_write(t, prov, KSYM_FILE_MAX_PROVENANCE + 1, buf, size) == KSYM_EINVAL);
    free(buf2);
    ksym_table_free(t2);
    free(buf);
}

static void fz_exercise(const struct ksym_table *t, const uint8_t *data, size_t size)
{
    struct fz f;
    memset(&f, 0, sizeof f);
    f.t = t;
    f.data = data;
    f.size = size;
    f.n = ksym_count(t);
    f.m = ksym_module_count(t);
    FZ_CHECK(f.n <= KSYM_MAX_SYMBOLS && f.m <= KSYM_MAX_MODULES);
    fz_seed(&f.rng, ksym_checksum64(data, size));
    f.name = fz_alloc(FZ_NAME_BUF);
    f.name2 = fz_alloc(FZ_NAME_BUF);
    if (f.n) {
        const uint32_t fixed[] = {0, f.n - 1, f.n / 2, f.n > 16 ? 16 : 0, f.n > 256 ? 255 : 0};
        for (size_t k = 0; k < sizeof fixed / sizeof fixed[0]; k++)
            f.sample[f.nsample++] = fixed[k];
        while (f.nsample < FZ_SAMPLES)
            f.sample[f.nsample++] = (uint32_t)fz_below(&f.rng, f.n);
    }
    fz_expand_all(&f);
    fz_indexes(&f);
    fz_names(&f);
    fz_addresses(&f);
    fz_globs(&f);
    fz_symbols_at(&f);
    fz_arrays(&f);
    fz_round_trip(&f);
    free(f.name);
    free(f.name2);
}

/* One input: returns 1 when it loaded as a table, else 0. */
static int fz_run_one(const uint8_t *data, size_t size)
{
    uint8_t *buf = fz_alloc(size); /* exactly sized: ASan sees a read past the end */
    if (size)
        memcpy(buf, data, size);
    fz_fix_checksum(buf, size);
    struct ksym_table *t = NULL;
    char msg[256];
    uint64_t where = 0;
    int rc = ksym_file_load(buf, size, &t, msg, sizeof msg, &where);
    FZ_CHECK(rc == KSYM_OK || rc == KSYM_ECORRUPT);
    FZ_CHECK(memchr(msg, 0, sizeof msg) != NULL);
    if (rc != KSYM_OK) {
        FZ_CHECK(t == NULL && msg[0] != 0);
        FZ_CHECK(where == UINT64_MAX || where <= size);
        /* the same verdict with a short message buffer and no where */
        char *shortmsg = fz_alloc(7);
        FZ_CHECK(ksym_file_load(buf, size, &t, shortmsg, 7, NULL) == rc);
        FZ_CHECK(memchr(shortmsg, 0, 7) != NULL);
        free(shortmsg);
        free(buf);
        return 0;
    }
    FZ_CHECK(t != NULL && msg[0] == 0 && where == UINT64_MAX);
    fz_exercise(t, buf, size);
    ksym_table_free(t);
    free(buf);
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_run_one(data, size);
    return 0;
}


/* ==== the standalone driver ============================================== */
#ifdef KSYM_FUZZ_STANDALONE

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define FZD_TIMEOUT 60          /* seconds one input may take before it counts as a hang */
/* A seed of n > FZD_BIG_SEED bytes is picked FZD_BIG_SEED / n times as often as
 * a small one: its runs take time in proportion to its size. */
#define FZD_BIG_SEED (1u << 18)
#define FZD_MAX_GROWTH 65536    /* bytes insertions may add to a seed */

static void fz_wr32(uint8_t *p, uint32_t v)
{
    for (int j = 0; j < 4; j++)
        p[j] = (uint8_t)(v >> (8 * j));
}

/* ---- the input being run, saved when the process dies ------------------- */

/* The driver's only global state: what a signal handler or the sanitizer's
 * death callback needs to save the input that killed the process. */
static const uint8_t *volatile fzd_cur;
static volatile size_t fzd_cur_len;
static volatile sig_atomic_t fzd_saved;
static char fzd_prefix[512] = "/tmp/fuzz-crash-";

static void fzd_puts(const char *s)
{
    size_t n = strlen(s);
    while (n) {
        ssize_t w = write(2, s, n);
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

static void fzd_putu(uint64_t v)
{
    char d[24];
    int k = 23;
    d[k] = 0;
    do {
        d[--k] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    fzd_puts(d + k);
}

/* Async-signal-safe: write the current input to <prefix><hash>.bin. */
static void fzd_save_current(const char *why)
{
    if (fzd_saved)
        return;
    fzd_saved = 1;
    const uint8_t *p = fzd_cur;
    size_t len = fzd_cur_len;
    if (!p)
        return;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t k = 0; k < len; k++)
        h = (h ^ p[k]) * 0x100000001b3ull;
    char path[sizeof fzd_prefix + 24];
    size_t pl = strlen(fzd_prefix);
    memcpy(path, fzd_prefix, pl);
    for (int j = 0; j < 16; j++)
        path[pl + j] = "0123456789abcdef"[(h >> (60 - 4 * j)) & 15];
    memcpy(path + pl + 16, ".bin", 5);
    fzd_puts("fuzz_file: ");
    fzd_puts(why);
    fzd_puts(": the input (");
    fzd_putu(len);
    fzd_puts(" bytes, before its checksum fix) is saved in ");
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        fzd_puts("(nothing: cannot create it) ");
    } else {
        size_t off = 0;
        while (off < len) {
            ssize_t w = write(fd, p + off, len - off);
            if (w <= 0)
                break;
            off += (size_t)w;
        }
        close(fd);
    }
    fzd_puts(path);
    fzd_puts("\n");
}

static void fzd_on_death(void)
{
    fzd_save_current("sanitizer report");
}

static void fzd_on_signal(int sig)
{
    fzd_save_current(sig == SIGALRM ? "timeout" : sig == SIGABRT ? "abort" : "crash");
    signal(SIGABRT, SIG_DFL);
    if (sig == SIGABRT || sig == SIGALRM)
        abort();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Present when the program runs with a sanitizer runtime. */
extern void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

/* gcc links UBSan as a runtime of its own, which does not call ASan's death
 * callback: make its fatal reports abort (UBSAN_OPTIONS may still say
 * otherwise), so that the SIGABRT handler saves the input. */
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void)
{
    return "abort_on_error=1";
}

static void fzd_install_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fzd_on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGABRT, &sa, NULL);
    sigaction(SIGALRM, &sa, NULL);
    if (__sanitizer_set_death_callback) {
        __sanitizer_set_death_callback(fzd_on_death); /* it handles SIGSEGV itself */
    } else {
        sigaction(SIGSEGV, &sa, NULL);
        sigaction(SIGBUS, &sa, NULL);
        sigaction(SIGFPE, &sa, NULL);
    }
}

static int fzd_run(const uint8_t *data, size_t len)
{
    fzd_cur_len = len;
    fzd_cur = data;
    alarm(FZD_TIMEOUT);
    int ok = fz_run_one(data, len);
    alarm(0);
    fzd_cur = NULL;
    return ok;
}

static double fzd_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- inputs --------------------------------------------------------------- */

struct fzd_input {
    uint8_t *data;
    size_t len;
};

struct fzd_corpus {
    struct fzd_input *v;
    size_t n, cap;
};

/* The whole file (reads until EOF, so /proc files work too); NULL on error. */
static uint8_t *fzd_read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    size_t cap = 1 << 16, n = 0, r;
    uint8_t *buf = fz_alloc(cap);
    while ((r = fread(buf + n, 1, cap - n, fp)) > 0) {
        n += r;
        if (n == cap) {
            uint8_t *bigger = realloc(buf, cap *= 2);
            if (!bigger) {
                free(buf);
                fclose(fp);
                return NULL;
            }
            buf = bigger;
        }
    }
    int err = ferror(fp);
    fclose(fp);
    if (err) {
        free(buf);
        return NULL;
    }
    *len = n;
    return buf;
}

static void fzd_add_file(struct fzd_corpus *c, const char *path)
{
    size_t len = 0;
    uint8_t *data = fzd_read_file(path, &len);
    if (!data) {
        fprintf(stderr, "fuzz_file: cannot read %s: %s\n", path, strerror(errno));
        exit(2);
    }
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 16;
        c->v = realloc(c->v, c->cap * sizeof *c->v);
        if (!c->v)
            abort();
    }
    c->v[c->n].data = data;
    c->v[c->n].len = len;
    c->n++;
}

static int fzd_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A file, or every regular file in a directory (in name order). */
static void fzd_add_path(struct fzd_corpus *c, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "fuzz_file: %s: %s\n", path, strerror(errno));
        exit(2);
    }
    if (!S_ISDIR(st.st_mode)) {
        fzd_add_file(c, path);
        return;
    }
    DIR *d = opendir(path);
    if (!d) {
        fprintf(stderr, "fuzz_file: %s: %s\n", path, strerror(errno));
        exit(2);
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        size_t need = strlen(path) + strlen(e->d_name) + 2;
        char *full = fz_alloc(need);
        snprintf(full, need, "%s/%s", path, e->d_name);
        if (stat(full, &st) != 0 || !S_ISREG(st.st_mode)) {
            free(full);
            continue;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            names = realloc(names, cap * sizeof *names);
            if (!names)
                abort();
        }
        names[n++] = full;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, fzd_cmp_str);
    for (size_t k = 0; k < n; k++) {
        fzd_add_file(c, names[k]);
        free(names[k]);
    }
    free(names);
}

/* ---- mutations ------------------------------------------------------------ */

struct fzd_buf {
    uint8_t *p;
    size_t len, cap;
};

static void fzd_reserve(struct fzd_buf *b, size_t len)
{
    if (len <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < len)
        cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p)
        abort();
    b->p = p;
    b->cap = cap;
}

static void fzd_set(struct fzd_buf *b, const uint8_t *data, size_t len)
{
    fzd_reserve(b, len);
    if (len)
        memcpy(b->p, data, len);
    b->len = len;
}

/* The directory as far as it lies inside the buffer. */
struct fzd_sec {
    uint32_t id;
    uint64_t off, len; /* in the buffer */
};

struct fzd_layout {
    struct fzd_sec s[KSYM_FILE_MAX_SECTIONS];
    uint32_t ns;     /* entries inside the buffer (in bounds or not) */
    int by_id[KSYM_SEC_MAX + 1]; /* index in s of a section inside the buffer, or -1 */
    uint32_t count, mcount, flags;
};

static void fzd_parse(const struct fzd_buf *b, struct fzd_layout *L)
{
    memset(L, 0, sizeof *L);
    for (int id = 0; id <= KSYM_SEC_MAX; id++)
        L->by_id[id] = -1;
    if (b->len < KSYM_FILE_HEADER_SIZE)
        return;
    L->flags = fz_rd32(b->p + 16);
    L->count = fz_rd32(b->p + 20);
    L->mcount = fz_rd32(b->p + 24);
    uint32_t ns = fz_rd32(b->p + 28);
    size_t fit = (b->len - KSYM_FILE_HEADER_SIZE) / KSYM_FILE_ENTRY_SIZE;
    if (ns > KSYM_FILE_MAX_SECTIONS)
        ns = KSYM_FILE_MAX_SECTIONS;
    if (ns > fit)
        ns = (uint32_t)fit;
    L->ns = ns;
    for (uint32_t k = 0; k < ns; k++) {
        const uint8_t *e = b->p + KSYM_FILE_HEADER_SIZE + (size_t)k * KSYM_FILE_ENTRY_SIZE;
        struct fzd_sec *s = &L->s[k];
        s->id = fz_rd32(e);
        s->off = fz_rd64(e + 8);
        s->len = fz_rd64(e + 16);
        if (s->off <= b->len && s->len <= b->len - s->off && s->id >= 1 && s->id <= KSYM_SEC_MAX &&
            L->by_id[s->id] < 0)
            L->by_id[s->id] = (int)k;
    }
}

/* Section id inside the buffer: its bytes and length, or NULL. */
static uint8_t *fzd_section(struct fzd_buf *b, const struct fzd_layout *L, int id, size_t *len)
{
    int k = L->by_id[id];
    if (k < 0)
        return NULL;
    *len = (size_t)L->s[k].len;
    return b->p + L->s[k].off;
}

static uint64_t fzd_interesting(struct fz_rng *r, const struct fzd_buf *b,
                                const struct fzd_layout *L)
{
    static const uint64_t fixed[] = {
        0, 1, 2, 3, 4, 7, 8, 15, 16, 17, 24, 32, 63, 64, 88, 0x7f, 0x80, 0xff, 0x100, 0x1ff,
        0x200, 0x201, 0x7fff, 0x8000, 0xffff, 0x10000, 0x10001, 0xfffffe, 0xffffff, 0x1000000,
        0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 0x100000000ull, 0x7fffffffffffffffull,
        0x8000000000000000ull, UINT64_MAX - 8, UINT64_MAX - 7, UINT64_MAX - 1, UINT64_MAX,
        0xffffffff81000000ull, 0xffffffffc0000000ull};
    uint64_t v;
    switch (fz_below(r, 6)) {
    case 0:
    case 1:
    case 2:
        return fixed[fz_below(r, sizeof fixed / sizeof fixed[0])];
    case 3:
        v = b->len;
        break;
    case 4:
        v = fz_below(r, 2) ? L->count : L->mcount;
        if (fz_below(r, 2))
            v *= 1 + fz_below(r, 16);
        break;
    default:
        if (!L->ns)
            return fixed[fz_below(r, sizeof fixed / sizeof fixed[0])];
        {
            const struct fzd_sec *s = &L->s[fz_below(r, L->ns)];
            v = fz_below(r, 3) == 0 ? s->len : fz_below(r, 2) ? s->off : s->off + s->len;
        }
        break;
    }
    static const int64_t delta[] = {0, 0, 0, 1, -1, 8, -8, 2, -2, 16, 3, 24};
    return v + (uint64_t)delta[fz_below(r, sizeof delta / sizeof delta[0])];
}

/* Write v (width 1, 2, 4 or 8 bytes, little-endian) at off, as far as it fits. */
static void fzd_put(struct fzd_buf *b, size_t off, uint64_t v, unsigned width)
{
    for (unsigned j = 0; j < width && off + j < b->len; j++)
        b->p[off + j] = (uint8_t)(v >> (8 * j));
}

static unsigned fzd_width(struct fz_rng *r)
{
    return 1u << fz_below(r, 4);
}

static void fzd_fix_size(struct fzd_buf *b, struct fz_rng *r)
{
    if (b->len >= KSYM_FILE_HEADER_SIZE && fz_below(r, 4) != 0)
        fz_wr64(b->p + 48, b->len);
}

static void fzd_truncate(struct fzd_buf *b, struct fz_rng *r, size_t len)
{
    if (len < b->len) {
        b->len = len;
        fzd_fix_size(b, r);
    }
}

static void fzd_insert(struct fzd_buf *b, struct fz_rng *r, size_t limit)
{
    if (b->len >= limit)
        return;
    size_t n = 1 + (size_t)fz_below(r, fz_below(r, 4) ? 16 : 512);
    if (n > limit - b->len)
        n = limit - b->len;
    size_t at = (size_t)fz_below(r, b->len + 1);
    /* at a section boundary, or the end of the file, half the time */
    struct fzd_layout L;
    fzd_parse(b, &L);
    if (fz_below(r, 2) && L.ns) {
        const struct fzd_sec *s = &L.s[fz_below(r, L.ns)];
        uint64_t o = fz_below(r, 2) ? s->off : s->off + s->len;
        if (o <= b->len)
            at = (size_t)o;
    } else if (fz_below(r, 3) == 0) {
        at = b->len;
    }
    fzd_reserve(b, b->len + n);
    memmove(b->p + at + n, b->p + at, b->len - at);
    size_t old = b->len;
    b->len += n;
    if (old && fz_below(r, 2)) { /* a copy of another chunk */
        size_t from = (size_t)fz_below(r, old);
        for (size_t k = 0; k < n; k++) {
            size_t src = from + k < old ? from + k : from + k - old;
            b->p[at + k] = b->p[src < at ? src : src + n];
        }
    } else {
        uint8_t fill = fz_below(r, 2) ? 0 : (uint8_t)fz_next(r);
        memset(b->p + at, fill, n);
    }
    fzd_fix_size(b, r);
}

static void fzd_erase(struct fzd_buf *b, struct fz_rng *r)
{
    if (!b->len)
        return;
    size_t at = (size_t)fz_below(r, b->len);
    size_t n = 1 + (size_t)fz_below(r, fz_below(r, 4) ? 16 : 512);
    if (n > b->len - at)
        n = b->len - at;
    memmove(b->p + at, b->p + at + n, b->len - at - n);
    b->len -= n;
    fzd_fix_size(b, r);
}

enum {
    /* structural: most of these make the file invalid */
    M_FLIP, M_BYTE, M_RUN, M_INT_ANY, M_INT_HEADER, M_INT_DIR, M_INT_SECTION, M_TRUNC_ANY,
    M_TRUNC_SECTION, M_INSERT, M_ERASE, M_COPY,
    /* semantic: the file stays valid (mostly) but lies */
    M_PADDING, M_SAMPLE, M_SEQS, M_CODE, M_TOKEN_BYTE, M_TOKEN_INDEX, M_ADDRESS, M_MODULE,
    M_END, M_MODULE_NAME, M_LONG_TOKEN,
    M_KINDS
};
#define M_SEMANTIC M_PADDING

/* Bytes of the buffer outside every section, the header and the directory
 * (alignment padding, anything after the last section): a random one of
 * them, or SIZE_MAX when there is none. */
static size_t fzd_padding_byte(const struct fzd_buf *b, const struct fzd_layout *L,
                               struct fz_rng *r)
{
    size_t start = KSYM_FILE_HEADER_SIZE + (size_t)L->ns * KSYM_FILE_ENTRY_SIZE;
    for (int tries = 0; tries < 8 && start < b->len; tries++) {
        size_t at = start + (size_t)fz_below(r, b->len - start);
        int inside = 0;
        for (uint32_t k = 0; k < L->ns && !inside; k++)
            inside = at >= L->s[k].off && at - L->s[k].off < L->s[k].len;
        if (!inside)
            return at;
    }
    return SIZE_MAX;
}

/* One mutation; returns 0 when the kind found nothing to change. */
static int fzd_mutate_kind(struct fzd_buf *b, struct fz_rng *r, int kind, size_t limit)
{
    struct fzd_layout L;
    fzd_parse(b, &L);
    size_t len = 0;
    uint8_t *s;
    uint32_t n = L.count;
    switch (kind) {
    case M_FLIP:
        if (!b->len)
            return 0;
        b->p[fz_below(r, b->len)] ^= (uint8_t)(1u << fz_below(r, 8));
        return 1;
    case M_BYTE:
        if (!b->len)
            return 0;
        b->p[fz_below(r, b->len)] = (uint8_t)fz_next(r);
        return 1;
    case M_RUN: {
        if (!b->len)
            return 0;
        size_t at = (size_t)fz_below(r, b->len), k = 1 + (size_t)fz_below(r, 16);
        if (k > b->len - at)
            k = b->len - at;
        memset(b->p + at, fz_below(r, 2) ? 0x00 : 0xFF, k);
        return 1;
    }
    case M_INT_ANY:
        if (!b->len)
            return 0;
        fzd_put(b, (size_t)fz_below(r, b->len), fzd_interesting(r, b, &L), fzd_width(r));
        return 1;
    case M_INT_HEADER: {
        static const uint8_t field[] = {16, 20, 24, 28, 32, 40, 48};
        if (b->len < KSYM_FILE_HEADER_SIZE)
            return 0;
        size_t k = (size_t)fz_below(r, sizeof field + 2);
        if (k < sizeof field)
            fzd_put(b, field[k], fzd_interesting(r, b, &L), field[k] < 32 ? 4 : 8);
        else
            fzd_put(b, 16 + (size_t)fz_below(r, 40), fzd_interesting(r, b, &L), fzd_width(r));
        return 1;
    }
    case M_INT_DIR: {
        if (b->len < KSYM_FILE_HEADER_SIZE)
            return 0;
        size_t k = (size_t)fz_below(r, L.ns + 1);
        static const uint8_t part[] = {0, 4, 8, 16};
        size_t p = part[fz_below(r, 4)];
        size_t at = KSYM_FILE_HEADER_SIZE + k * KSYM_FILE_ENTRY_SIZE + p;
        uint64_t v = fzd_interesting(r, b, &L);
        if (p == 0 && fz_below(r, 2))
            v = fz_below(r, KSYM_SEC_MAX + 2);
        fzd_put(b, at, v, p < 8 ? 4 : 8);
        return 1;
    }
    case M_INT_SECTION: {
        if (!L.ns)
            return 0;
        const struct fzd_sec *sec = &L.s[fz_below(r, L.ns)];
        static const uint8_t step[] = {0, 0, 0, 1, 2, 3, 4, 8, 16};
        size_t at = (size_t)(sec->off + step[fz_below(r, sizeof step)] * (fz_below(r, 4) + 1));
        if (at >= b->len)
            return 0;
        fzd_put(b, at, fzd_interesting(r, b, &L), fzd_width(r));
        return 1;
    }
    case M_TRUNC_ANY:
        if (!b->len)
            return 0;
        if (fz_below(r, 4)) /* near the end */
            fzd_truncate(b, r, b->len - 1 - (size_t)fz_below(r, b->len < 64 ? b->len : 64));
        else
            fzd_truncate(b, r, (size_t)fz_below(r, b->len));
        return 1;
    case M_TRUNC_SECTION: {
        if (!L.ns)
            return 0;
        const struct fzd_sec *sec = &L.s[fz_below(r, L.ns)];
        uint64_t at = fz_below(r, 2) ? sec->off : sec->off + sec->len;
        at += (uint64_t)(int64_t)((int)fz_below(r, 3) - 1);
        if (at >= b->len)
            return 0;
        fzd_truncate(b, r, (size_t)at);
        return 1;
    }
    case M_INSERT:
        fzd_insert(b, r, limit);
        return 1;
    case M_ERASE:
        fzd_erase(b, r);
        return 1;
    case M_COPY: {
        if (b->len < 2)
            return 0;
        size_t k = 1 + (size_t)fz_below(r, 64);
        if (k >= b->len)
            k = b->len - 1;
        size_t from = (size_t)fz_below(r, b->len - k + 1), to = (size_t)fz_below(r, b->len - k + 1);
        memmove(b->p + to, b->p + from, k);
        return 1;
    }
    case M_PADDING: {
        size_t prov_len = 0;
        s = fzd_section(b, &L, KSYM_SEC_PROVENANCE, &prov_len);
        if (s && prov_len && fz_below(r, 2)) {
            size_t k = 1 + (size_t)fz_below(r, 8);
            while (k--)
                s[fz_below(r, prov_len)] = (uint8_t)fz_next(r);
            return 1;
        }
        size_t at = fzd_padding_byte(b, &L, r);
        if (at == SIZE_MAX)
            return 0;
        b->p[at] = (uint8_t)fz_next(r);
        return 1;
    }
    case M_SAMPLE: /* any bytes are valid there */
        s = fzd_section(b, &L, KSYM_SEC_NAME_SAMPLE, &len);
        if (!s || !len)
            return 0;
        if (fz_below(r, 2)) {
            s[fz_below(r, len)] = (uint8_t)fz_next(r);
        } else { /* swap two entries */
            size_t e = len / KSYM_SAMPLE_BYTES;
            size_t x = (size_t)fz_below(r, e), y = (size_t)fz_below(r, e);
            uint8_t tmp[KSYM_SAMPLE_BYTES];
            memcpy(tmp, s + x * KSYM_SAMPLE_BYTES, KSYM_SAMPLE_BYTES);
            memcpy(s + x * KSYM_SAMPLE_BYTES, s + y * KSYM_SAMPLE_BYTES, KSYM_SAMPLE_BYTES);
            memcpy(s + y * KSYM_SAMPLE_BYTES, tmp, KSYM_SAMPLE_BYTES);
        }
        return 1;
    case M_SEQS: { /* any entry below the count is valid */
        s = fzd_section(b, &L, KSYM_SEC_SEQS, &len);
        size_t e = len / KSYM_SEQ_BYTES;
        if (!s || !e || !n)
            return 0;
        size_t x = (size_t)fz_below(r, e), y = (size_t)fz_below(r, e);
        if (fz_below(r, 2)) {
            uint32_t v = (uint32_t)fz_below(r, n);
            s[3 * x] = (uint8_t)(v >> 16);
            s[3 * x + 1] = (uint8_t)(v >> 8);
            s[3 * x + 2] = (uint8_t)v;
        } else {
            uint8_t tmp[3];
            memcpy(tmp, s + 3 * x, 3);
            memcpy(s + 3 * x, s + 3 * y, 3);
            memcpy(s + 3 * y, tmp, 3);
        }
        return 1;
    }
    case M_CODE: { /* a token code of some record: any value is valid */
        size_t flen = 0;
        uint8_t *fine = fzd_section(b, &L, KSYM_SEC_FINE, &flen);
        s = fzd_section(b, &L, KSYM_SEC_NAMES, &len);
        if (!s || !fine || flen < 4 || !len)
            return 0;
        size_t off = fz_rd32(fine + 4 * (size_t)fz_below(r, flen / 4));
        for (uint64_t k = fz_below(r, KSYM_FINE_STRIDE); k && off < len; k--) {
            size_t l = s[off], pre = 1;
            if ((l & 0x80) && off + 1 < len)
                l = (l & 0x7F) | ((size_t)s[off + 1] << 7), pre = 2;
            off += pre + l;
        }
        if (off >= len)
            return 0;
        size_t l = s[off], pre = 1;
        if ((l & 0x80) && off + 1 < len)
            l = (l & 0x7F) | ((size_t)s[off + 1] << 7), pre = 2;
        if (!l || off + pre >= len)
            return 0;
        size_t at = off + pre + (size_t)fz_below(r, l);
        if (at >= len)
            return 0;
        s[at] = (uint8_t)fz_next(r);
        return 1;
    }
    case M_TOKEN_BYTE: /* usually another non-NUL byte: the same token lengths */
        s = fzd_section(b, &L, KSYM_SEC_TOKEN_TABLE, &len);
        if (!s || !len)
            return 0;
        for (int tries = 0; tries < 8; tries++) {
            size_t at = (size_t)fz_below(r, len);
            if (s[at] || fz_below(r, 8) == 0) {
                s[at] = fz_below(r, 8) ? (uint8_t)(1 + fz_below(r, 255)) : 0;
                return 1;
            }
        }
        return 0;
    case M_TOKEN_INDEX: { /* another token's offset, or any offset inside the table */
        size_t tlen = 0;
        uint8_t *tt = fzd_section(b, &L, KSYM_SEC_TOKEN_TABLE, &tlen);
        s = fzd_section(b, &L, KSYM_SEC_TOKEN_INDEX, &len);
        if (!s || len < 2 * KSYM_TOKENS || !tt || !tlen)
            return 0;
        size_t c = (size_t)fz_below(r, KSYM_TOKENS);
        uint32_t v = fz_below(r, 2) ? (uint32_t)(s[2 * fz_below(r, KSYM_TOKENS)] |
                                                 (s[2 * fz_below(r, KSYM_TOKENS) + 1] << 8))
                                    : (uint32_t)fz_below(r, tlen < 65536 ? tlen : 65536);
        if (fz_below(r, 2)) { /* copy a whole entry */
            size_t d = (size_t)fz_below(r, KSYM_TOKENS);
            v = (uint32_t)(s[2 * d] | (s[2 * d + 1] << 8));
        }
        s[2 * c] = (uint8_t)v;
        s[2 * c + 1] = (uint8_t)(v >> 8);
        return 1;
    }
    case M_ADDRESS: { /* an entry moved between its neighbours, or aliases made */
        s = fzd_section(b, &L, KSYM_SEC_ADDRESSES, &len);
        int wide = (L.flags & KSYM_FILE_FLAG_ADDR_WIDE) != 0;
        size_t w = wide ? 8 : 4, e = len / w;
        if (!s || !e)
            return 0;
        size_t i = (size_t)fz_below(r, e);
#define FZD_ADDR(k) (wide ? fz_rd64(s + (k) * 8) : (uint64_t)fz_rd32(s + (k) * 4))
        uint64_t lo = i ? FZD_ADDR(i - 1) : 0;
        uint64_t hi = i + 1 < e ? FZD_ADDR(i + 1) : (wide ? UINT64_MAX : UINT32_MAX);
        if (i == 0 && fz_below(r, 2))
            lo = FZD_ADDR(0); /* keep base + offset the lowest address */
        if (fz_below(r, 3) == 0) { /* aliases: the next few take this one's address */
            uint64_t a = FZD_ADDR(i);
            for (size_t k = i + 1; k < e && k <= i + 1 + fz_below(r, 20); k++)
                fzd_put(b, (size_t)(s - b->p) + k * w, a, (unsigned)w);
        } else if (hi >= lo) {
            uint64_t span = hi - lo;
            uint64_t v = lo + (span == UINT64_MAX ? fz_next(r) : fz_below(r, span + 1));
            fzd_put(b, (size_t)(s - b->p) + i * w, v, (unsigned)w);
        }
#undef FZD_ADDR
        return 1;
    }
    case M_MODULE: { /* a module value in 0..module_count */
        uint32_t m = L.mcount;
        if ((s = fzd_section(b, &L, KSYM_SEC_MODULE_IDS, &len)) && len >= 2) {
            size_t i = (size_t)fz_below(r, len / 2);
            uint32_t v = (uint32_t)fz_below(r, (uint64_t)m + 1);
            s[2 * i] = (uint8_t)v;
            s[2 * i + 1] = (uint8_t)(v >> 8);
            return 1;
        }
        if ((s = fzd_section(b, &L, KSYM_SEC_MODULE_RUNS, &len)) && len >= 8) {
            size_t k = (size_t)fz_below(r, len / 8);
            fz_wr32(s + 8 * k + 4, (uint32_t)fz_below(r, (uint64_t)m + 1));
            if (k && fz_below(r, 3) == 0) { /* move a run start between its neighbours */
                uint32_t a = fz_rd32(s + 8 * (k - 1)) + 1;
                uint32_t z = k + 1 < len / 8 ? fz_rd32(s + 8 * (k + 1)) : n;
                if (z > a)
                    fz_wr32(s + 8 * k, a + (uint32_t)fz_below(r, z - a));
            }
            return 1;
        }
        return 0;
    }
    case M_END: { /* toggle HAS_END; an end_address at or above the last address */
        s = fzd_section(b, &L, KSYM_SEC_ADDRESSES, &len);
        if (b->len < KSYM_FILE_HEADER_SIZE)
            return 0;
        int wide = (L.flags & KSYM_FILE_FLAG_ADDR_WIDE) != 0;
        uint64_t last = 0;
        if (s && len >= (wide ? 8u : 4u))
            last = wide ? fz_rd64(s + len - 8) : fz_rd64(b->p + 32) + fz_rd32(s + len - 4);
        uint32_t flags = L.flags ^ KSYM_FILE_FLAG_HAS_END;
        if (!(L.flags & KSYM_FILE_FLAG_HAS_END) || fz_below(r, 3) == 0)
            flags = L.flags | KSYM_FILE_FLAG_HAS_END;
        fz_wr32(b->p + 16, flags);
        uint64_t end = 0;
        if (flags & KSYM_FILE_FLAG_HAS_END) {
            static const uint64_t add[] = {0, 1, 16, 4096, 1u << 20};
            end = last + add[fz_below(r, 5)];
            if (end < last || fz_below(r, 8) == 0)
                end = UINT64_MAX;
        }
        fz_wr64(b->p + 40, end);
        return 1;
    }
    case M_LONG_TOKEN: { /* one token made up to 512 bytes long: names past KSYM_NAME_MAX */
        size_t ilen = 0;
        uint8_t *ti = fzd_section(b, &L, KSYM_SEC_TOKEN_INDEX, &ilen);
        s = fzd_section(b, &L, KSYM_SEC_TOKEN_TABLE, &len);
        if (!s || !ti || ilen < 2 * KSYM_TOKENS)
            return 0;
        size_t c = (size_t)fz_below(r, KSYM_TOKENS);
        size_t off = (size_t)(ti[2 * c] | (ti[2 * c + 1] << 8));
        size_t want = 1 + (size_t)fz_below(r, fz_below(r, 2) ? KSYM_NAME_MAX + 1 : 64);
        if (off >= len || want >= len - off)
            return 0;
        for (size_t k = off; k < off + want; k++)
            if (!s[k])
                s[k] = (uint8_t)('a' + fz_below(r, 26));
        s[off + want] = 0;
        return 1;
    }
    case M_MODULE_NAME: { /* a byte of a module name, or an offset of another name */
        size_t olen = 0;
        uint8_t *offs = fzd_section(b, &L, KSYM_SEC_MODULE_OFFSETS, &olen);
        s = fzd_section(b, &L, KSYM_SEC_MODULE_NAMES, &len);
        if (!s || !len || !offs || olen < 4)
            return 0;
        if (fz_below(r, 2)) {
            size_t at = (size_t)fz_below(r, len);
            if (!s[at])
                return 0;
            s[at] = (uint8_t)(1 + fz_below(r, 255));
        } else {
            size_t x = (size_t)fz_below(r, olen / 4), y = (size_t)fz_below(r, olen / 4);
            uint32_t v = fz_rd32(offs + 4 * y);
            if (fz_below(r, 2) && (size_t)v + 1 < len && s[v] && s[v + 1])
                v++; /* the tail of a name is a name */
            fz_wr32(offs + 4 * x, v);
        }
        return 1;
    }
    }
    return 0;
}

/* 1 to 8 mutations: semantic ones only (the file usually still loads), or
 * any kind. */
static void fzd_mutate(struct fzd_buf *b, struct fz_rng *r, int semantic, size_t limit)
{
    unsigned count = 1 + (unsigned)fz_below(r, 8);
    for (unsigned k = 0; k < count; k++) {
        for (int tries = 0; tries < 4; tries++) {
            int kind = semantic ? M_SEMANTIC + (int)fz_below(r, M_KINDS - M_SEMANTIC)
                                : (int)fz_below(r, M_KINDS);
            if (fzd_mutate_kind(b, r, kind, limit))
                break;
        }
    }
}

/* ---- seeds ------------------------------------------------------------------ */

static void fzd_add(struct ksym_builder *b, uint64_t addr, char type, const char *name,
                    const char *module)
{
    int rc = ksym_builder_add(b, addr, type, name, strlen(name), module,
                              module ? strlen(module) : 0);
    if (rc) {
        fprintf(stderr, "fuzz_file: seed record %s: %s (%s)\n", name, ksym_strerror(rc),
                ksym_builder_message(b));
        exit(2);
    }
}

/* Finish the builder and write the table to dir/name.pysyms; 1 when written. */
static int fzd_write_seed(const char *dir, const char *name, struct ksym_builder *b,
                          const char *prov)
{
    struct ksym_table *t = NULL;
    int rc = ksym_builder_finish(b, &t);
    if (rc) {
        fprintf(stderr, "fuzz_file: seed %s: %s (%s)\n", name, ksym_strerror(rc),
                ksym_builder_message(b));
        exit(2);
    }
    size_t plen = prov ? strlen(prov) : 0;
    size_t size = ksym_file_size(t, plen);
    uint8_t *buf = fz_alloc(size);
    if (ksym_file_write(t, prov, plen, buf, size) != (int64_t)size) {
        fprintf(stderr, "fuzz_file: seed %s: ksym_file_write failed\n", name);
        exit(2);
    }
    size_t need = strlen(dir) + strlen(name) + 16;
    char *path = fz_alloc(need);
    snprintf(path, need, "%s/%s.pysyms", dir, name);
    FILE *fp = fopen(path, "wb");
    if (!fp || fwrite(buf, 1, size, fp) != size || fclose(fp) != 0) {
        fprintf(stderr, "fuzz_file: cannot write %s: %s\n", path, strerror(errno));
        exit(2);
    }
    printf("fuzz_file: seed %s: %u symbols, %u modules, %zu bytes\n", path, ksym_count(t),
           ksym_module_count(t), size);
    free(path);
    free(buf);
    ksym_table_free(t);
    return 1;
}

/* A random identifier-like name of len bytes. */
static void fzd_random_name(struct fz_rng *r, char *out, size_t len)
{
    static const char chars[] = "abcdefghijklmnopqrstuvwxyz_0123456789ABCDEFXYZ";
    for (size_t k = 0; k < len; k++)
        out[k] = chars[fz_below(r, sizeof chars - 1)];
    out[len] = 0;
}

static int fzd_make_seeds(const char *dir, int ntext, char **texts)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "fuzz_file: cannot create %s: %s\n", dir, strerror(errno));
        return 2;
    }
    const char *prov = "{\"pysyms_version\": \"fuzz\", \"source\": null}";
    struct fz_rng r;
    fz_seed(&r, 42);
    char name[KSYM_NAME_MAX + 1], mod[KSYM_MODULE_NAME_MAX + 1];
    const uint64_t K = 0xffffffff81000000ull, M = 0xffffffffc0000000ull;
    int written = 0;
    struct ksym_builder *b = ksym_builder_new();
    if (!b)
        abort();

    written += fzd_write_seed(dir, "00-empty", b, NULL);

    fzd_add(b, K, 'T', "_text", NULL);
    written += fzd_write_seed(dir, "01-one", b, prov);

    /* 40 symbols, modules as runs (module_runs) */
    for (int i = 0; i < 28; i++) {
        snprintf(name, sizeof name, i % 9 == 0 ? "common_name" : "sym_%d", i);
        fzd_add(b, K + (uint64_t)(i - i % 5 / 4) * 0x40, "TtDdbr"[i % 6], name, NULL);
    }
    for (int i = 0; i < 6; i++) {
        snprintf(name, sizeof name, i == 3 ? "common_name" : "ext4_fn_%d", i);
        fzd_add(b, M + (uint64_t)i * 0x20, "tT"[i % 2], name, "ext4");
        snprintf(name, sizeof name, "nft_%d", i);
        fzd_add(b, M + 0x100000 + (uint64_t)i * 0x20, "td"[i % 2], name, "nf_tables");
    }
    written += fzd_write_seed(dir, "02-runs40", b, prov);

    /* 300 symbols, interleaved modules (module_ids), aliases */
    static const char *const fam[] = {"__pfx_", "trace_event_raw_", "do_", "sys_", "ext4_",
                                      "__SCT__", "", "x"};
    static const char *const sfx[] = {"", "", "", ".llvm.123456", ".isra.0", ".cold",
                                      ".constprop.0", ".part.0.llvm.77"};
    for (int i = 0; i < 300; i++) {
        char word[24];
        fzd_random_name(&r, word, 3 + (size_t)fz_below(&r, 10));
        snprintf(name, sizeof name, "%s%s%s", fam[fz_below(&r, 8)], word, sfx[fz_below(&r, 8)]);
        static const char *const mods[] = {NULL, "mod_a", "mod_b", NULL, "mod_c"};
        fzd_add(b, K + (uint64_t)(i - (i % 10 == 3)) * 16, "TtDdBbRrWV"[i % 10], name,
                mods[(i * 7) % 5]);
    }
    written += fzd_write_seed(dir, "03-mixed300", b, prov);

    /* a 64-bit address span (u64 addresses) */
    for (int i = 0; i < 50; i++) {
        uint64_t a = i == 49 ? UINT64_MAX : (uint64_t)i * (UINT64_MAX / 49);
        snprintf(name, sizeof name, "wide_%d", i);
        fzd_add(b, a, "Tt"[i % 2], name, i % 7 == 6 ? "wmod" : NULL);
    }
    written += fzd_write_seed(dir, "04-wide", b, NULL);

    /* long names (2-byte length prefixes) up to KSYM_NAME_MAX bytes, a long module name */
    static const size_t lens[] = {1, 2, 3, 100, 126, 127, 128, 129, 200, 255, 256, 300, 400, 500,
                                  510, KSYM_NAME_MAX};
    memset(mod, 'm', KSYM_MODULE_NAME_MAX);
    mod[KSYM_MODULE_NAME_MAX] = 0;
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        for (int copy = 0; copy < 2; copy++) {
            fzd_random_name(&r, name, lens[k]);
            fzd_add(b, K + k * 0x100 + (uint64_t)copy * 8, 't', name, copy ? mod : NULL);
        }
        memset(name, 'a', lens[k]); /* compresses well: few codes */
        name[lens[k]] = 0;
        fzd_add(b, K + k * 0x100 + 0x80, 'T', name, NULL);
    }
    written += fzd_write_seed(dir, "05-long", b, prov);

    /* clone and LLVM suffixes, duplicates, aliases */
    static const char *const dots[] = {
        "foo", "foo.llvm.123", "foo.llvm.456", "foo.isra.0", "foo.constprop.0.isra.0",
        "foo.cold", "foo_bar", "foo.", "bar.llvm.456", "bar.llvm.789", "bar.part.1.llvm.77",
        "baz.part.0", "qux.llvm.1.llvm.2", "x.llvm.", ".llvm.5", ".hidden", "a.b.c",
        "__pfx_foo", "__pfx_foo.llvm.9", "foo.llvm", "llvm.foo", "zed.llvm.llvm.1"};
    for (size_t k = 0; k < sizeof dots / sizeof dots[0]; k++) {
        fzd_add(b, K + k * 0x10, "tT"[k % 2], dots[k], NULL);
        if (k % 3 == 0)
            fzd_add(b, K + k * 0x10, 't', dots[k], NULL); /* alias of itself */
        if (k % 4 == 1)
            fzd_add(b, M + k * 0x10, 't', dots[k], k % 8 == 1 ? "dmod" : "emod");
    }
    written += fzd_write_seed(dir, "06-dots", b, prov);

    /* 2000 kernel-like symbols: 5 markers, module runs at the end */
    for (int i = 0; i < 2000; i++) {
        char word[24];
        fzd_random_name(&r, word, 2 + (size_t)fz_below(&r, 12));
        snprintf(name, sizeof name, "%s%s%s", fam[fz_below(&r, 8)], word, sfx[fz_below(&r, 8)]);
        const char *m = NULL;
        if (i >= 1500) {
            snprintf(mod, sizeof mod, "module_%d", (i - 1500) / 50);
            m = mod;
        }
        fzd_add(b, (i >= 1500 ? M : K) + (uint64_t)i * 32 + fz_below(&r, 2) * 8,
                "TtDdBbRr"[fz_below(&r, 8)], name, m);
    }
    char bigprov[2048];
    snprintf(bigprov, sizeof bigprov, "{\"pysyms_version\": \"fuzz\", \"note\": \"%0*d\"}",
             1500, 0);
    written += fzd_write_seed(dir, "07-kernelish2000", b, bigprov);

    /* sizes (ELF, perf maps): u32 and u64 size sections, unsized and
     * overlapping symbols among them */
    for (int wide = 0; wide < 2; wide++) {
        for (int i = 0; i < 120; i++) {
            snprintf(name, sizeof name, "sized_%d", i);
            uint64_t size = i % 4 == 0 ? 0 : i % 4 == 1 ? 0x10 : i % 4 == 2 ? 0x80 : 0x28;
            if (wide && i == 60)
                size = (uint64_t)1 << 40;
            int rc = ksym_builder_add_sized(b, K + (uint64_t)i * 0x40, size, "Tt"[i % 2], name,
                                            strlen(name), i % 30 == 29 ? "smod" : NULL,
                                            i % 30 == 29 ? 4 : 0);
            if (rc) {
                fprintf(stderr, "fuzz_file: sized seed: %s\n", ksym_strerror(rc));
                exit(2);
            }
        }
        written += fzd_write_seed(dir, wide ? "08-sized64" : "08-sized32", b, prov);
    }

    /* the text sources given, or /proc/kallsyms */
    char *def[] = {"/proc/kallsyms"};
    int from_default = ntext == 0;
    if (from_default) {
        ntext = 1;
        texts = def;
    }
    for (int k = 0; k < ntext; k++) {
        size_t len = 0;
        uint8_t *text = fzd_read_file(texts[k], &len);
        if (!text) {
            if (!from_default) {
                fprintf(stderr, "fuzz_file: cannot read %s: %s\n", texts[k], strerror(errno));
                return 2;
            }
            continue;
        }
        int rc = ksym_builder_add_text(b, (const char *)text, len);
        free(text);
        if (rc) {
            fprintf(stderr, "fuzz_file: no seed from %s: %s (%s)\n", texts[k], ksym_strerror(rc),
                    ksym_builder_message(b));
            if (rc == KSYM_EZEROADDR || rc == KSYM_EEMPTY)
                continue;
            return 2;
        }
        char sname[64];
        const char *base = strrchr(texts[k], '/');
        base = base ? base + 1 : texts[k];
        int pl = snprintf(sname, sizeof sname, "10-text%d-", k);
        for (size_t j = 0; base[j] && (size_t)pl + 1 < sizeof sname; j++)
            sname[pl++] = (char)(strchr("-_.", base[j]) || (base[j] >= '0' && base[j] <= '9') ||
                                         ((base[j] | 32) >= 'a' && (base[j] | 32) <= 'z')
                                     ? base[j]
                                     : '_');
        sname[pl] = 0;
        written += fzd_write_seed(dir, sname, b, prov);
    }
    ksym_builder_free(b);
    printf("fuzz_file: wrote %d seeds to %s\n", written, dir);
    return 0;
}

/* ---- main --------------------------------------------------------------------- */

static int fzd_option(const char *arg, const char *name, uint64_t *value)
{
    size_t n = strlen(name);
    if (strncmp(arg, name, n) != 0 || arg[n] != '=')
        return 0;
    char *end;
    errno = 0;
    *value = strtoull(arg + n + 1, &end, 10);
    if (errno || end == arg + n + 1 || *end) {
        fprintf(stderr, "fuzz_file: bad value in %s\n", arg);
        exit(2);
    }
    return 1;
}

static void fzd_usage(void)
{
    fprintf(stderr, "usage: fuzz_file -make-seeds DIR [TEXT...]\n"
                    "       fuzz_file [-seconds=N] [-runs=N] [-seed=N] [-artifact_prefix=P] "
                    "SEED...\n");
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "-make-seeds") == 0) {
        if (argc < 3)
            fzd_usage();
        return fzd_make_seeds(argv[2], argc - 3, argv + 3);
    }
    uint64_t seconds = 10, max_runs = UINT64_MAX, seed = 0;
    int seconds_given = 0;
    struct fzd_corpus corpus = {0};
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int k = 1; k < argc; k++) {
        const char *a = argv[k];
        uint64_t v;
        if (fzd_option(a, "-seconds", &v)) {
            seconds = v;
            seconds_given = 1;
        } else if (fzd_option(a, "-runs", &v)) {
            max_runs = v;
        } else if (fzd_option(a, "-seed", &v)) {
            seed = v;
        } else if (strncmp(a, "-artifact_prefix=", 17) == 0) {
            snprintf(fzd_prefix, sizeof fzd_prefix, "%s", a + 17);
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "fuzz_file: unknown option %s\n", a);
            fzd_usage();
        } else {
            fzd_add_path(&corpus, a);
        }
    }
    if (max_runs != UINT64_MAX && !seconds_given)
        seconds = UINT64_MAX / 4;
    if (!seed)
        seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    fzd_install_handlers();
    printf("fuzz_file: %zu seed inputs, seed=%llu\n", corpus.n, (unsigned long long)seed);

    double t0 = fzd_now();
    uint64_t runs = 0, loaded = 0, seeds_loaded = 0;
    for (size_t k = 0; k < corpus.n; k++) {
        int ok = fzd_run(corpus.v[k].data, corpus.v[k].len);
        runs++;
        loaded += (uint64_t)ok;
        seeds_loaded += (uint64_t)ok;
    }
    printf("fuzz_file: %llu of %zu seed inputs load as they are\n",
           (unsigned long long)seeds_loaded, corpus.n);

    struct fz_rng r;
    fz_seed(&r, seed);
    struct fzd_buf buf = {0}, last = {0};
    uint64_t mutated = 0, semantic_runs = 0, semantic_loaded = 0;
    double deadline = t0 + (double)seconds;
    while (corpus.n && mutated < max_runs && fzd_now() < deadline) {
        const struct fzd_input *in;
        for (;;) {
            in = &corpus.v[fz_below(&r, corpus.n)];
            if (in->len <= FZD_BIG_SEED || fz_below(&r, in->len) < FZD_BIG_SEED)
                break;
        }
        size_t limit = in->len + FZD_MAX_GROWTH;
        if (last.len && fz_below(&r, 4) == 0) /* build on the last input that loaded */
            fzd_set(&buf, last.p, last.len);
        else
            fzd_set(&buf, in->data, in->len);
        if (limit < buf.len + FZD_MAX_GROWTH)
            limit = buf.len + FZD_MAX_GROWTH;
        int semantic = fz_below(&r, 2) == 0;
        fzd_mutate(&buf, &r, semantic, limit);
        int ok = fzd_run(buf.p, buf.len);
        runs++;
        mutated++;
        loaded += (uint64_t)ok;
        semantic_runs += (uint64_t)semantic;
        semantic_loaded += (uint64_t)(semantic && ok);
        if (ok)
            fzd_set(&last, buf.p, buf.len);
    }
    double secs = fzd_now() - t0;
    printf("fuzz_file: runs=%llu loaded=%llu (%.1f%%) mutated=%llu semantic_loaded=%llu/%llu "
           "seconds=%.1f runs_per_sec=%.0f\n",
           (unsigned long long)runs, (unsigned long long)loaded,
           runs ? 100.0 * (double)loaded / (double)runs : 0.0, (unsigned long long)mutated,
           (unsigned long long)semantic_loaded, (unsigned long long)semantic_runs, secs,
           secs > 0 ? (double)runs / secs : 0.0);
    for (size_t k = 0; k < corpus.n; k++)
        free(corpus.v[k].data);
    free(corpus.v);
    free(buf.p);
    free(last.p);
    return 0;
}

#endif /* KSYM_FUZZ_STANDALONE */

#else
/* ISO C wants a declaration in every translation unit. */
typedef int ksym_fuzz_file_not_built;
#endif /* a fuzz build */
