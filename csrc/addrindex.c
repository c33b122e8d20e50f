/* addrindex.c - the address index that batches of unsorted addresses search
 * first (issue #6), built once per table on the first large batch.
 *
 * A bucket table per cluster of addresses: the sorted addresses split where
 * two neighbours lie more than CLUSTER_GAP apart (a kernel: the core
 * kernel, the modules, the per-CPU symbols at 0), and each large cluster
 * cut into 2^shift-byte buckets, about one per symbol.  first[b] counts the
 * symbols (of the whole table) below bucket b's start, so an address in
 * bucket b has between first[b] and first[b + 1] symbols at or below it:
 * one load from the bucket table and a scan of a cache line or two of
 * addresses, instead of a binary search.
 *
 * It also marks where module runs start, so that telling whether two
 * neighbours share a region is one bit instead of a search of the runs,
 * and keeps the top array of the two-level search (batch.c) for addresses
 * outside the clusters, which batches would otherwise build each call.
 *
 * The table is otherwise immutable; the index is published with one atomic
 * compare-and-swap, so concurrent batches (cffi drops the GIL) either build
 * it and lose the race (their copy is freed) or use the winner's.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "ksym.h"
#include "table.h"

/* Neighbours further apart than this start a new cluster. */
#define CLUSTER_GAP ((uint64_t)1 << 24)
/* Clusters with fewer symbols are left to the caller's binary search. */
#define CLUSTER_MIN 1024

/* Bucket shift of a cluster of count symbols spanning span bytes (span >=
 * 1): the smallest with at most count buckets. */
static uint32_t bucket_shift(uint64_t span, uint32_t count)
{
    uint32_t shift = 0;
    while (((span - 1) >> shift) >= count)
        shift++;
    return shift;
}

/* first[0 .. nb] of a cluster starting at lo: symbols (from index i on,
 * which are all below lo) whose address is below each bucket's start. */
static void fill_buckets(const struct ksym_table *t, struct ksym_cluster *c, uint32_t i)
{
    for (uint32_t b = 0; b <= c->nb; b++) {
        uint64_t off = (uint64_t)b << c->shift;
        if (off > UINT64_MAX - c->lo) { /* past the top of the address space */
            c->first[b] = t->count;
            continue;
        }
        uint64_t edge = c->lo + off;
        while (i < t->count && ksym_addr_at(t, i) < edge)
            i++;
        c->first[b] = i;
    }
}

/* The CLUSTERS_MAX largest clusters of at least CLUSTER_MIN symbols, in
 * address order: their first symbol and count. */
static uint32_t find_clusters(const struct ksym_table *t, uint32_t *start, uint32_t *count)
{
    uint32_t k = 0, s = 0;
    for (uint32_t i = 1; i <= t->count; i++) {
        if (i < t->count && ksym_addr_at(t, i) - ksym_addr_at(t, i - 1) <= CLUSTER_GAP)
            continue;
        uint32_t c = i - s;
        if (c >= CLUSTER_MIN) {
            if (k < KSYM_CLUSTERS_MAX) {
                start[k] = s, count[k++] = c;
            } else { /* replace the smallest if this one is larger */
                uint32_t m = 0;
                for (uint32_t j = 1; j < k; j++)
                    if (count[j] < count[m])
                        m = j;
                if (c > count[m]) {
                    memmove(start + m, start + m + 1, (k - 1 - m) * sizeof *start);
                    memmove(count + m, count + m + 1, (k - 1 - m) * sizeof *count);
                    start[k - 1] = s, count[k - 1] = c;
                }
            }
        }
        s = i;
    }
    return k;
}

void ksym__top_fill(const struct ksym_table *t, struct ksym_top *top)
{
    top->shift = 0;
    while (((uint64_t)t->count + (1u << top->shift) - 1) >> top->shift > KSYM_TOP_MAX)
        top->shift++;
    top->ntop = (uint32_t)(((uint64_t)t->count + (1u << top->shift) - 1) >> top->shift);
    for (uint32_t j = 0; j < top->ntop; j++)
        top->addr[j] = ksym_addr_at(t, j << top->shift);
}

/* Bit i set: symbol i starts a module run other than the first. */
static uint8_t *mark_run_starts(const struct ksym_table *t)
{
    uint8_t *bits = calloc((size_t)t->count / 8 + 1, 1);
    if (!bits)
        return NULL;
    for (uint32_t r = 1; r < t->module_nruns; r++) {
        uint32_t s = ksym_rd32(t->module_runs + (size_t)r * 8);
        if (s < t->count)
            bits[s / 8] |= (uint8_t)(1u << (s % 8));
    }
    return bits;
}

static void index_free(struct ksym_addr_index *x)
{
    if (!x)
        return;
    for (uint32_t k = 0; k < x->nclusters; k++)
        free(x->c[k].first);
    free(x->run_start);
    free(x);
}

static struct ksym_addr_index *index_build(const struct ksym_table *t)
{
    struct ksym_addr_index *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    x->bytes = sizeof *x;
    ksym__top_fill(t, &x->top);
    uint32_t start[KSYM_CLUSTERS_MAX], count[KSYM_CLUSTERS_MAX];
    uint32_t k = find_clusters(t, start, count);
    for (uint32_t j = 0; j < k; j++) {
        struct ksym_cluster *c = &x->c[x->nclusters];
        c->lo = ksym_addr_at(t, start[j]);
        uint64_t span = ksym_addr_at(t, start[j] + count[j] - 1) - c->lo + 1;
        c->shift = bucket_shift(span, count[j]);
        c->nb = (uint32_t)((span - 1) >> c->shift) + 1;
        c->len = (uint64_t)c->nb << c->shift;
        c->first = malloc(((size_t)c->nb + 1) * sizeof *c->first);
        if (!c->first)
            goto fail;
        x->nclusters++;
        fill_buckets(t, c, start[j]);
        x->bytes += ((size_t)c->nb + 1) * sizeof *c->first;
    }
    if (t->module_runs) {
        x->run_start = mark_run_starts(t);
        if (!x->run_start)
            goto fail;
        x->bytes += (size_t)t->count / 8 + 1;
    }
    return x;
fail:
    index_free(x);
    return NULL;
}

const struct ksym_addr_index *ksym__addr_index(const struct ksym_table *t)
{
    struct ksym_addr_index *x = __atomic_load_n(&t->addr_index, __ATOMIC_ACQUIRE);
    if (x || t->count == 0)
        return x;
    x = index_build(t);
    if (!x)
        return NULL; /* out of memory: callers search without it */
    struct ksym_addr_index *none = NULL;
    /* The cache is the one field a lookup may set: cast away the const. */
    struct ksym_table *w = (struct ksym_table *)(uintptr_t)t;
    if (!__atomic_compare_exchange_n(&w->addr_index, &none, x, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        index_free(x);
        return none; /* another thread's, published first */
    }
    return x;
}

void ksym__addr_index_free(struct ksym_table *t)
{
    index_free(t->addr_index);
    t->addr_index = NULL;
}
