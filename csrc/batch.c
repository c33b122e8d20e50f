/* batch.c - many addresses per call: symbolization into index/offset
 * arrays and the kernel's %pS / %ps / %pB text (issue #6).
 *
 * Same answers as ksym_lookup_addr, one address at a time, through the
 * shared ksym__upper_bound / ksym__resolve (lookup.c).  Sorted input takes
 * a merge walk: a cursor that only moves forward (galloping over gaps), and
 * the previous answer reused while addresses stay inside one symbol, which
 * is what dense sampled profiles look like.
 *
 * No allocation, no locking: callers (cffi) drop the GIL around the loop.
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

/* Large batches use a second thread where POSIX threads exist (build with
 * -pthread); -DKSYM_NO_THREADS keeps them on one. */
#if !defined(KSYM_NO_THREADS) && (defined(__unix__) || defined(__APPLE__))
#define KSYM_THREADS 1
#include <pthread.h>
#endif

#include "ksym.h"
#include "table.h"

static int is_sorted(const uint64_t *a, size_t n)
{
    for (size_t k = 1; k < n; k++)
        if (a[k] < a[k - 1])
            return 0;
    return 1;
}

/* A two-level search for unsorted batches: every 2^shift-th address in a
 * small array that stays in the L1 cache (struct ksym_top), searched
 * first, so that the search of the big address array touches one block of
 * 2^shift entries instead of a cache line per halving.  The table's
 * address index keeps one; without an index a batch builds its own, on
 * the stack.  Addresses the index's buckets cover skip it. */
struct finder {
    const struct ksym_table *t;
    const struct ksym_addr_index *ix; /* searched first when not NULL (addrindex.c) */
    const struct ksym_top *top;       /* &ix->top, or &own */
    struct ksym_top own;
};

/* Batches at least this long build the table's address index (a pass over
 * the addresses and about 4 bytes per symbol, kept with the table); shorter
 * ones use it only when an earlier batch built it. */
#define INDEX_MIN_BATCH 4096

/* f is not copied once initialised: f->top may point into it. */
static void finder_init(struct finder *f, const struct ksym_table *t, size_t batch)
{
    f->t = t;
    f->ix = batch >= INDEX_MIN_BATCH ? ksym__addr_index(t) : ksym__addr_index_if_built(t);
    if (f->ix) {
        f->top = &f->ix->top;
    } else {
        ksym__top_fill(t, &f->own);
        f->top = &f->own;
    }
}

/* Step 1 of a finder search: the block of addr (top index), or -1 when
 * addr is below the first symbol.  Branch-free (a conditional move per
 * step): random addresses would mispredict half the branches of a plain
 * binary search. */
static int64_t finder_block(const struct finder *f, uint64_t addr)
{
    const uint64_t *top = f->top->addr;
    uint32_t base = 0, n = f->top->ntop;
    while (n > 1) {
        uint32_t half = n / 2;
        base = top[base + half] <= addr ? base + half : base;
        n -= half;
    }
    return top[base] > addr ? -1 : (int64_t)base;
}

/* Step 2: addresses[block << shift] <= addr < addresses[(block + 1) << shift],
 * so search that block the same way. */
static uint32_t finder_in_block(const struct finder *f, uint32_t block, uint64_t addr)
{
    const struct ksym_table *t = f->t;
    uint32_t lo = block << f->top->shift, end = (block + 1) << f->top->shift;
    if (end > t->count)
        end = t->count;
    uint32_t n = end - lo;
    while (n > 1) {
        uint32_t half = n / 2;
        lo = ksym_addr_at(t, lo + half) <= addr ? lo + half : lo;
        n -= half;
    }
    return lo + 1;
}

/* Start loading the address block of a search before it is needed. */
static void finder_prefetch(const struct finder *f, int64_t block)
{
    if (block < 0)
        return;
    const struct ksym_table *t = f->t;
    size_t width = t->addr_wide ? 8 : 4;
    const uint8_t *p = t->addresses + ((size_t)block << f->top->shift) * width;
    size_t bytes = ((size_t)1 << f->top->shift) * width;
    for (size_t o = 0; o < bytes && o < 256; o += 64)
        PREFETCH(p + o);
}

/* Number of symbols at or below addr, knowing it is at least ub (the
 * answer for a smaller address): gallop forward from ub, then search the
 * last step. */
static uint32_t advance(const struct ksym_table *t, uint32_t ub, uint64_t addr)
{
    uint32_t n = t->count, step = 1, lo = ub;
    if (lo >= n || ksym_addr_at(t, lo) > addr)
        return lo;
    /* addresses[lo] <= addr: find hi with addresses[hi] > addr (or n) */
    uint32_t hi = lo + 1;
    while (hi < n && ksym_addr_at(t, hi) <= addr) {
        lo = hi;
        step *= 2;
        hi = n - lo > step ? lo + step : n;
    }
    /* addresses[lo] <= addr < addresses[hi] (hi may be n) */
    lo++;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (ksym_addr_at(t, mid) <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The answer for one address, with the previous answer as a cache: an
 * address in [cache_lo, cache_hi) resolves to the cached symbol. */
struct cursor {
    uint32_t ub;
    uint64_t lo, hi; /* the cached symbol covers [lo, hi); empty when lo == hi */
    int64_t index;
    uint64_t address;
};

static void resolve_sorted(const struct ksym_table *t, struct cursor *c, uint64_t addr,
                           int64_t *index, uint64_t *offset)
{
    if (addr >= c->lo && addr < c->hi) {
        *index = c->index;
        *offset = addr - c->address;
        return;
    }
    c->ub = advance(t, c->ub, addr);
    uint32_t idx;
    uint64_t a, size;
    if (ksym__resolve(t, c->ub, addr, &idx, &a, &size)) {
        *index = idx;
        *offset = addr - a;
        c->index = idx;
        c->address = a;
        c->lo = a;
        c->hi = size ? a + size : a + 1; /* size 0: only a itself resolves */
        if (c->hi < c->lo)                /* wrapped at the top of the space */
            c->hi = UINT64_MAX;
        if (c->ub < t->count && c->hi > ksym_addr_at(t, c->ub))
            c->hi = ksym_addr_at(t, c->ub); /* a sized symbol overlapping the next */
    } else {
        *index = -1;
        *offset = 0;
    }
}

/* Symbols at or below addr among [lo, hi), knowing every one below lo is
 * and none from hi on: halve while the range is long, then count the
 * window of WINDOW addresses from lo without a branch (the addresses are
 * sorted, so those past hi are above addr and add nothing). */
enum { WINDOW = 8 };
static uint32_t upper_bound_in(const struct ksym_table *t, uint32_t lo, uint32_t hi, uint64_t addr)
{
    while (hi - lo > WINDOW) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (ksym_addr_at(t, mid) <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (t->count - lo < WINDOW) {
        while (lo < hi && ksym_addr_at(t, lo) <= addr)
            lo++;
        return lo;
    }
    uint32_t below = 0;
    if (t->addr_wide) {
        const uint8_t *p = t->addresses + (size_t)lo * 8;
        for (int k = 0; k < WINDOW; k++)
            below += ksym_rd64(p + 8 * k) <= addr;
    } else {
        /* addr >= base here: the bucket's symbols below lo are <= addr */
        uint64_t d = addr - t->base;
        uint32_t q = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
        const uint8_t *p = t->addresses + (size_t)lo * 4;
        for (int k = 0; k < WINDOW; k++)
            below += ksym_rd32(p + 4 * k) <= q;
    }
    return lo + below;
}

/* Up to GROUP lookups at once, in stages that each start the memory loads
 * of the next for the whole group, so that the cache misses of a group
 * overlap instead of following one another: the query's bucket of the
 * address index (else its block of the small top array), then the
 * addresses the bucket names, then the search.  ok[j] says whether
 * query[j] resolved: to symbol idx[j] at a[j], of size[j]. */
enum { GROUP = 8 };
static void resolve_group(const struct finder *f, const uint64_t *query, size_t m, int *ok, uint32_t *idx,
                          uint64_t *a, uint64_t *size)
{
    const struct ksym_table *t = f->t;
    const size_t width = t->addr_wide ? 8 : 4;
    const uint32_t *bucket[GROUP];
    int64_t block[GROUP];
    for (size_t j = 0; j < m; j++) {
        bucket[j] = f->ix ? ksym__bucket_of(f->ix, query[j]) : NULL;
        if (bucket[j]) {
            PREFETCH(bucket[j]);
        } else {
            block[j] = finder_block(f, query[j]);
            finder_prefetch(f, block[j]);
        }
    }
    const uint8_t *run_start = f->ix ? f->ix->run_start : NULL;
    for (size_t j = 0; j < m; j++) {
        if (!bucket[j])
            continue;
        uint32_t lo = bucket[j][0];
        PREFETCH(t->addresses + (size_t)lo * width);
        if (t->count - lo >= WINDOW) /* the window may end in the next line */
            PREFETCH(t->addresses + (size_t)(lo + WINDOW - 1) * width);
        if (run_start)
            PREFETCH(run_start + lo / 8);
    }
    for (size_t j = 0; j < m; j++) {
        uint32_t ub = bucket[j]    ? upper_bound_in(t, bucket[j][0], bucket[j][1], query[j])
                    : block[j] < 0 ? 0
                                   : finder_in_block(f, (uint32_t)block[j], query[j]);
        ok[j] = ksym__resolve(t, ub, query[j], &idx[j], &a[j], &size[j]);
    }
}

/* One contiguous part of a batch. */
struct part {
    const struct ksym_table *t;
    const struct finder *f; /* NULL: the input is sorted */
    const uint64_t *addrs;
    size_t n;
    int64_t *indexes;
    uint64_t *offsets;
};

static void *symbolize_part(void *arg)
{
    const struct part *p = arg;
    const struct ksym_table *t = p->t;
    if (!p->f) {
        struct cursor c = {0, 0, 0, -1, 0};
        for (size_t k = 0; k < p->n; k++)
            resolve_sorted(t, &c, p->addrs[k], &p->indexes[k], &p->offsets[k]);
        return NULL;
    }
    for (size_t k = 0; k < p->n; k += GROUP) {
        size_t m = p->n - k < GROUP ? p->n - k : GROUP;
        int ok[GROUP];
        uint32_t idx[GROUP];
        uint64_t a[GROUP], size[GROUP];
        resolve_group(p->f, p->addrs + k, m, ok, idx, a, size);
        for (size_t j = 0; j < m; j++) {
            p->indexes[k + j] = ok[j] ? (int64_t)idx[j] : -1;
            p->offsets[k + j] = ok[j] ? p->addrs[k + j] - a[j] : 0;
        }
    }
    return NULL;
}

/* Batches at least this long are split between the calling thread and one
 * more (the machines this targets have two cores or more). */
#define SPLIT_MIN 65536

int64_t ksym_symbolize(const struct ksym_table *t, const uint64_t *addrs, size_t n,
                       int64_t *indexes, uint64_t *offsets)
{
    if (!t || (n && (!addrs || !indexes || !offsets)))
        return KSYM_EINVAL;
    if (t->count == 0) {
        for (size_t k = 0; k < n; k++)
            indexes[k] = -1, offsets[k] = 0;
        return (int64_t)n;
    }
    struct finder f;
    const struct finder *fp = NULL;
    if (!is_sorted(addrs, n)) {
        finder_init(&f, t, n);
        fp = &f;
    }
    struct part whole = {t, fp, addrs, n, indexes, offsets};
#ifdef KSYM_THREADS
    if (n >= SPLIT_MIN) {
        size_t h = n / 2;
        struct part first = {t, fp, addrs, h, indexes, offsets};
        struct part second = {t, fp, addrs + h, n - h, indexes + h, offsets + h};
        pthread_t thr;
        if (pthread_create(&thr, NULL, symbolize_part, &second) == 0) {
            symbolize_part(&first);
            pthread_join(thr, NULL);
            return (int64_t)n;
        }
    }
#endif
    symbolize_part(&whole);
    return (int64_t)n;
}

/* "0x" and v in lower-case hex, as the kernel's %#lx prints it (0 is
 * "0x0": the kernel's vsprintf, unlike C's, keeps the prefix). */
static size_t put_hex(char *out, uint64_t v)
{
    static const char digits[] = "0123456789abcdef";
    char tmp[16];
    size_t n = 0;
    do {
        tmp[n++] = digits[v & 15];
        v >>= 4;
    } while (v);
    out[0] = '0';
    out[1] = 'x';
    for (size_t k = 0; k < n; k++)
        out[2 + k] = tmp[n - 1 - k];
    return n + 2;
}

/* The symbol of the previous line, so that runs of addresses in one
 * function (a profile's hot spots) copy its name instead of expanding it. */
struct last_name {
    int64_t index;
    const char *name;
    size_t len;
};

/* One line of text in the given style (no newline) for addr, which
 * resolved (ok) to symbol idx at address a with the given size; returns its
 * length.  out has room for KSYM_FORMAT_MAX bytes. */
static size_t format_line(const struct ksym_table *t, int ok, uint32_t idx, uint64_t a, uint64_t size,
                          uint64_t addr, int style, char *out, struct last_name *last)
{
    if (!ok)
        return put_hex(out, addr);
    size_t o;
    if (last->index == (int64_t)idx) {
        memcpy(out, last->name, last->len);
        o = last->len;
    } else {
        int len = ksym_name(t, idx, out, KSYM_NAME_MAX + 1);
        o = len > 0 ? (size_t)len : 0;
    }
    last->index = idx;
    last->name = out;
    last->len = o;
    if (style != KSYM_STYLE_NAME) {
        out[o++] = '+';
        o += put_hex(out + o, addr - a);
        out[o++] = '/';
        o += put_hex(out + o, size);
    }
    int32_t m = ksym_module(t, idx);
    if (m >= 0) {
        const char *mod = ksym_module_name(t, (uint32_t)m);
        size_t ml = strlen(mod);
        out[o++] = ' ';
        out[o++] = '[';
        memcpy(out + o, mod, ml);
        o += ml;
        out[o++] = ']';
    }
    return o;
}

/* Lines for up to GROUP addresses at once, in stages that each start the
 * memory loads of the next for the whole group (the address blocks, then
 * the fine offsets, then the name records), so that the cache misses of
 * random addresses overlap instead of following one another.  Returns the
 * bytes written (every line ends in '\n'); out has room for m lines. */
static size_t format_group(const struct finder *f, const uint64_t *addrs, size_t m, int style, char *out,
                           struct last_name *last)
{
    const struct ksym_table *t = f->t;
    uint64_t query[GROUP], a[GROUP], size[GROUP];
    uint32_t idx[GROUP];
    int ok[GROUP];
    /* %pB: the return address may be one past the end of its caller, so
     * look up addr - 1 and report the offset of addr (the kernel's
     * sprint_backtrace). */
    for (size_t j = 0; j < m; j++)
        query[j] = style == KSYM_STYLE_BACKTRACE && addrs[j] ? addrs[j] - 1 : addrs[j];
    resolve_group(f, query, m, ok, idx, a, size);
    for (size_t j = 0; j < m; j++)
        if (ok[j])
            PREFETCH(t->fine + (size_t)(idx[j] / KSYM_FINE_STRIDE) * 4);
    for (size_t j = 0; j < m; j++) {
        if (!ok[j])
            continue;
        /* the record's fine entry starts its walk of up to 15 records */
        size_t off = ksym_rd32(t->fine + (size_t)(idx[j] / KSYM_FINE_STRIDE) * 4);
        for (size_t ahead = 0; ahead < 192 && off + ahead < t->names_len; ahead += 64)
            PREFETCH(t->names + off + ahead);
    }
    size_t used = 0;
    for (size_t j = 0; j < m; j++) {
        used += format_line(t, ok[j], idx[j], a[j], size[j], addrs[j], style, out + used, last);
        out[used++] = '\n';
    }
    return used;
}

int64_t ksym_format(const struct ksym_table *t, const uint64_t *addrs, size_t n, int style,
                    char *buf, size_t buflen, size_t *written)
{
    if (written)
        *written = 0;
    if (!t || (n && !addrs) || (!buf && buflen) ||
        (style != KSYM_STYLE_SYMBOL && style != KSYM_STYLE_NAME && style != KSYM_STYLE_BACKTRACE))
        return KSYM_EINVAL;
    struct last_name last = {-1, NULL, 0};
    struct finder f;
    finder_init(&f, t, n);
    size_t used = 0, k = 0;
    while (k < n) {
        size_t room = (buflen - used) / (KSYM_FORMAT_MAX + 1); /* whole lines that surely fit */
        size_t m = n - k < GROUP ? n - k : GROUP;
        if (room < m)
            m = room;
        if (m == 0)
            break;
        used += format_group(&f, addrs + k, m, style, buf + used, &last);
        k += m;
    }
    if (written)
        *written = used;
    if (k == 0 && n)
        return KSYM_ENOSPC;
    return (int64_t)k;
}
