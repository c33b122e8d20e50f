/* compress.c - the kernel's greedy token compression: pair counts, the
 * substitution rounds, and the input prepared while records arrive.
 *
 * Written from the algorithm as described in DESIGN.md and
 * shared/notes/kernel-kallsyms.md; no kernel code is used.
 *
 * The kernel's greedy pair substitution with exact overlapping pair counts.
 *
 * A round visits only the symbols listed for the chosen pair, so every pair
 * that can be chosen needs a list of the symbols containing it (a superset:
 * entries go stale when a neighbour's substitution destroys an occurrence,
 * and a visit then finds nothing).  Lists come from two places:
 *  - a pair of two literals is never created, only destroyed, so the lists
 *    made when the records are prepared hold every one of its occurrences.
 *    They are made one batch of records at a time (a counting sort within
 *    the batch), which keeps the scatter inside the cache and lets the
 *    parser of a source that is still being read do it;
 *  - a pair that involves a code made in round c (and otherwise older codes
 *    or literals) is only ever created in round c: occurrences of c appear
 *    only in round c, and any later change of a neighbour of c makes a pair
 *    with a newer code.  So each round logs, per occurrence it replaces, the
 *    pairs it creates ((left, c) and (c, right)) with the symbol, and sorts
 *    that log into one list per new pair (file_log).
 * Lists are in ascending buffer order (a symbol may repeat, in adjacent
 * entries only), so visits walk the buffer forward.  A substitution updates
 * the counts of the pairs around each occurrence only, so counts stay exact
 * without recounting.  Counts are kept in blocks of 256 with a per-block
 * maximum, so picking the best pair does not scan all 65536.
 *
 * The compression does not depend on the order of the symbols (each string
 * is rewritten on its own, and counts are sums), so the strings are kept in
 * the order records arrive, before the table's order is known.
 *
 * Large rounds are shared with a second thread (ksym__helper_serve, the
 * name index's thread once that is built): it rewrites the back half of
 * the round's list with a log and count changes of its own, which the
 * owner merges.  Each thread files its own log, at the same time, as a
 * part of the new lists of its own: parts are visited owner's first, so
 * every list stays in buffer order.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "builder.h"
#include "compress.h"
#include "ksym.h"
#include "table.h"

#define NPAIRS KSYM_NPAIRS

#ifdef KSYM_PROFILE
static size_t prof_visits, prof_rewrites, prof_logged;
#define STAT(x) ((void)(x))
#else
#define STAT(x) ((void)0)
#endif

static inline size_t sym_len(const uint8_t *x)
{
    return x[-2] | ((size_t)x[-1] << 8);
}

/* The rounds' hot functions take the lane they run for and whether it is
 * the helper's, a constant that inlining folds (HOT): the owner changes the
 * counts, the helper only notes its changes for the owner to merge. */
#if defined(__GNUC__)
#define HOT static inline __attribute__((always_inline))
#else
#define HOT static inline
#endif

HOT void note_change(struct ksym_lane *l, uint32_t p, int d)
{
    if (!l->mark[p]) {
        l->mark[p] = 1;
        l->touched[l->ntouched++] = (uint16_t)p;
    }
    l->delta[p] += d;
}

HOT void pair_inc(struct ksym_comp *c, struct ksym_lane *l, const int helper, uint32_t p)
{
    if (helper) {
        note_change(l, p, 1);
        return;
    }
    uint32_t v = ++c->cnt[p];
    if (v > c->bmax[p >> 8])
        c->bmax[p >> 8] = v;
}

HOT void pair_dec(struct ksym_comp *c, struct ksym_lane *l, const int helper, uint32_t p)
{
    if (helper) {
        note_change(l, p, -1);
        return;
    }
    if (c->cnt[p] == c->bmax[p >> 8])
        c->dirty[p >> 8] = 1;
    c->cnt[p]--;
}

HOT void log_new(struct ksym_lane *l, unsigned key)
{
    l->log_sym[l->nlog] = l->cur;
    l->log_key[l->nlog++] = (uint16_t)key;
    l->keycnt[key]++;
}

/* The counts and the log around one occurrence of (a, b) becoming code,
 * between the codes left and right (-1: the string ends there). */
HOT void count_occurrence(struct ksym_comp *c, struct ksym_lane *l, const int helper, int left,
                          unsigned a, unsigned b, int right, unsigned code)
{
    if (left >= 0) {
        pair_dec(c, l, helper, (uint32_t)left | (a << 8));
        pair_inc(c, l, helper, (uint32_t)left | (code << 8));
        log_new(l, (unsigned)left);
    }
    pair_dec(c, l, helper, a | (b << 8));
    if (right >= 0) {
        pair_dec(c, l, helper, b | ((uint32_t)right << 8));
        pair_inc(c, l, helper, code | ((uint32_t)right << 8));
        log_new(l, 256 + (unsigned)right);
    }
}

/* Occurrence at r of (a, b) -> code.  The current string is out[0..w) +
 * x[r..L) (out may be x itself).  Updates the counts of the pairs around it
 * and logs the new ones, returns the new w. */
HOT size_t replace_one(struct ksym_comp *c, struct ksym_lane *l, const int helper, uint8_t *out,
                       const uint8_t *x, size_t L, size_t w, size_t r, unsigned a, unsigned b,
                       unsigned code)
{
    count_occurrence(c, l, helper, w > 0 ? out[w - 1] : -1, a, b, r + 2 < L ? x[r + 2] : -1, code);
    out[w] = (uint8_t)code;
    return w + 1;
}

static inline void set_len(uint8_t *x, size_t w)
{
    x[-2] = (uint8_t)w;
    x[-1] = (uint8_t)(w >> 8);
}

#if defined(__SSE2__)
/* Masks of the positions where (a, b) starts in the symbol x of length L
 * (L >= 2): bit j of mask[k] is position 16k + j.  Returns their union.
 * Loads may read up to 16 bytes past L (buf has slack). */
static inline unsigned pair_masks(const uint8_t *x, size_t L, __m128i va, __m128i vb,
                                  uint16_t *mask, size_t *nblk)
{
    if (L <= 17) { /* one block: the common case */
        __m128i x0 = _mm_loadu_si128((const __m128i *)(const void *)x);
        __m128i x1 = _mm_loadu_si128((const __m128i *)(const void *)(x + 1));
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x0, va)) &
                     (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x1, vb)) &
                     (0xFFFFu >> (17 - L));
        mask[0] = (uint16_t)m;
        *nblk = 1;
        return m;
    }
    size_t nb = (L - 1 + 15) / 16;
    unsigned any = 0;
    for (size_t k = 0; k < nb; k++) {
        __m128i x0 = _mm_loadu_si128((const __m128i *)(const void *)(x + 16 * k));
        __m128i x1 = _mm_loadu_si128((const __m128i *)(const void *)(x + 16 * k + 1));
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x0, va)) &
                     (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x1, vb));
        mask[k] = (uint16_t)m;
        any |= m;
    }
    /* Positions >= L - 1 start no pair of this symbol. */
    size_t valid = L - 1 - 16 * (nb - 1); /* 1..16 */
    unsigned last = mask[nb - 1] & (0xFFFFu >> (16 - valid));
    if (last != mask[nb - 1]) {
        mask[nb - 1] = (uint16_t)last;
        any = 0;
        for (size_t k = 0; k < nb; k++)
            any |= mask[k];
    }
    *nblk = nb;
    return any;
}

/* Replace the occurrences of (a, b) given by mask in symbol x with code,
 * non-overlapping, left to right, keeping the pair counts exact. */
HOT void rewrite(struct ksym_comp *c, struct ksym_lane *l, const int helper, uint8_t *x, size_t L,
                 const uint16_t *mask, size_t nblk, unsigned a, unsigned b, unsigned code)
{
    /* Rewrite into out with 16-byte moves (reads past L stay inside buf's
     * slack or the next symbol; writes stay inside out), then copy back. */
    uint8_t out[KSYM_NAME_MAX + 1 + 32];
    size_t r = 0, w = 0;
    for (size_t k = 0; k < nblk; k++) {
        unsigned m = mask[k];
        while (m) {
            size_t pos = 16 * k + (size_t)__builtin_ctz(m);
            m &= m - 1;
            if (pos < r)
                continue; /* overlaps the previous occurrence (a == b) */
            for (size_t i = 0; i < pos - r; i += 16)
                _mm_storeu_si128((__m128i *)(void *)(out + w + i),
                                 _mm_loadu_si128((const __m128i *)(const void *)(x + r + i)));
            w += pos - r;
            w = replace_one(c, l, helper, out, x, L, w, pos, a, b, code);
            r = pos + 2;
        }
    }
    for (size_t i = 0; i < L - r; i += 16)
        _mm_storeu_si128((__m128i *)(void *)(out + w + i),
                         _mm_loadu_si128((const __m128i *)(const void *)(x + r + i)));
    w += L - r;
    /* Copy back: x[w..L) is dead now, so whole 16-byte chunks may run up
     * to L; the last chunk ends at w exactly (overlapping). */
    if (w >= 16) {
        for (size_t i = 0; i + 16 < w; i += 16)
            _mm_storeu_si128((__m128i *)(void *)(x + i),
                             _mm_loadu_si128((const __m128i *)(const void *)(out + i)));
        _mm_storeu_si128((__m128i *)(void *)(x + w - 16),
                         _mm_loadu_si128((const __m128i *)(const void *)(out + w - 16)));
    } else if (w >= 8) {
        memcpy(x, out, 8);
        memcpy(x + w - 8, out + w - 8, 8);
    } else {
        for (size_t i = 0; i < w; i++)
            x[i] = out[i];
    }
    set_len(x, w);
}

/* The common case of rewrite(): a symbol of at most 17 codes with one
 * occurrence, at pos.  Rewritten in place with one 16-byte blend; bytes
 * from L on (the next symbol) are stored back unchanged. */
HOT void rewrite_short1(struct ksym_comp *c, struct ksym_lane *l, const int helper, uint8_t *x,
                        size_t L, __m128i x0, __m128i x1, unsigned pos, unsigned a, unsigned b,
                        unsigned code)
{
    count_occurrence(c, l, helper, pos > 0 ? x[pos - 1] : -1, a, b, pos + 2 < L ? x[pos + 2] : -1,
                     code);
    const __m128i iota = _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    /* j < pos: x0; j == pos: code; pos < j < L: x1 (x[j + 1]); else x0. */
    __m128i vpos = _mm_set1_epi8((char)pos);
    __m128i is_pos = _mm_cmpeq_epi8(iota, vpos);
    __m128i after = _mm_and_si128(_mm_cmpgt_epi8(iota, vpos),
                                  _mm_cmplt_epi8(iota, _mm_set1_epi8((char)(L - 1))));
    __m128i v = _mm_or_si128(_mm_andnot_si128(_mm_or_si128(is_pos, after), x0),
                             _mm_or_si128(_mm_and_si128(after, x1),
                                          _mm_and_si128(is_pos, _mm_set1_epi8((char)code))));
    _mm_storeu_si128((__m128i *)(void *)x, v);
    set_len(x, L - 1);
}
#else
/* Replace the non-overlapping occurrences of (a, b) in symbol x with code,
 * left to right, keeping the pair counts exact. */
HOT void replace_in(struct ksym_comp *c, struct ksym_lane *l, const int helper, uint8_t *x,
                    unsigned a, unsigned b, unsigned code)
{
    const size_t L = sym_len(x);
    /* Compare two bytes at a time: only real occurrences branch. */
    const uint8_t ab[2] = {(uint8_t)a, (uint8_t)b};
    uint16_t pat, v;
    memcpy(&pat, ab, 2);
    size_t r = 0;
    for (;; r++) {
        if (r + 1 >= L)
            return;
        memcpy(&v, x + r, 2);
        if (v == pat)
            break;
    }
    size_t w = r;
    for (;;) {
        w = replace_one(c, l, helper, x, x, L, w, r, a, b, code);
        r += 2;
        for (;;) {
            if (r + 1 >= L) {
                if (r < L)
                    x[w++] = x[r];
                set_len(x, w);
                return;
            }
            memcpy(&v, x + r, 2);
            if (v == pat)
                break;
            x[w++] = x[r++];
        }
    }
}
#endif

/* Recompute the block maxima that may be stale. */
static void fix_bmax(struct ksym_comp *c)
{
    for (int k = 0; k < 256; k++) {
        if (!c->dirty[k])
            continue;
        uint32_t m = 0;
        const uint32_t *v = c->cnt + k * 256;
        for (int j = 0; j < 256; j++)
            m = v[j] > m ? v[j] : m;
        c->bmax[k] = m;
        c->dirty[k] = 0;
    }
}

/* The pair with the highest count, lowest index on ties; NPAIRS if no pair
 * occurs any more. */
static uint32_t best_pair(struct ksym_comp *c)
{
    fix_bmax(c);
    uint32_t best = 0;
    int bk = -1;
    for (int k = 0; k < 256; k++) {
        if (c->bmax[k] > best) {
            best = c->bmax[k];
            bk = k;
        }
    }
    if (bk < 0)
        return NPAIRS;
    const uint32_t *v = c->cnt + bk * 256;
    for (int j = 0;; j++)
        if (v[j] == best)
            return (uint32_t)(bk * 256 + j);
}

/* ---- preparing the input ------------------------------------------------- */

/* Pairs of symbol x (length L >= 1), as p = first | second << 8. */
#define FOR_EACH_PAIR(x, L, p, body)                          \
    do {                                                      \
        uint32_t p = (uint32_t)(x)[0] << 8;                   \
        for (size_t j_ = 1; j_ < (L); j_++) {                 \
            p = (p >> 8) | ((uint32_t)(x)[j_] << 8);          \
            body;                                             \
        }                                                     \
    } while (0)

/* Count and list the literal pairs of records [from, to), whose strings are
 * in buf already: one counting sort by pair within the batch. */
static int list_batch(struct ksym_comp *c, uint32_t from, uint32_t to)
{
    uint32_t *lc = c->scratch;
    for (uint32_t r = from; r < to; r++) {
        const uint8_t *x = c->buf + c->start[r];
        size_t L = sym_len(x);
        c->seen[x[0]] = 1; /* a 1-byte string has no pair to show it */
        FOR_EACH_PAIR(x, L, p, lc[p]++);
    }
    uint32_t ndir = 0;
    for (uint32_t p = 0; p < NPAIRS; p++)
        ndir += lc[p] != 0;
    if (ksym__grow((void **)&c->lit, &c->lit_cap, c->nlit + 1, sizeof *c->lit))
        return -1;
    struct ksym_lit_batch *lb = &c->lit[c->nlit];
    lb->ndir = ndir;
    lb->dpair = malloc((ndir ? ndir : 1) * sizeof *lb->dpair);
    lb->doff = malloc((ndir + 1) * sizeof *lb->doff);
    lb->ent = NULL;
    if (!lb->dpair || !lb->doff) {
        free(lb->dpair);
        free(lb->doff);
        return -1;
    }
    uint32_t k = 0, o = 0;
    for (uint32_t p = 0; p < NPAIRS; p++) {
        uint32_t v = lc[p];
        if (!v)
            continue;
        lb->dpair[k] = (uint16_t)p;
        lb->doff[k++] = o;
        c->cnt[p] += v;
        c->seen[p & 0xFF] = c->seen[p >> 8] = 1;
        lc[p] = o; /* now the fill position */
        o += v;
    }
    lb->doff[k] = o;
    lb->ent = malloc((o ? o : 1) * sizeof *lb->ent);
    if (!lb->ent) {
        free(lb->dpair);
        free(lb->doff);
        return -1;
    }
    c->nlit++;
    uint32_t *ent = lb->ent;
    for (uint32_t r = from; r < to; r++) {
        uint32_t s = c->start[r];
        const uint8_t *x = c->buf + s;
        size_t L = sym_len(x);
        FOR_EACH_PAIR(x, L, p, ent[lc[p]++] = s);
    }
    for (k = 0; k < ndir; k++)
        lc[lb->dpair[k]] = 0;
    return 0;
}

/* Append the strings of records [c->n, to) and list their pairs. */
static int prepare_records(struct ksym_comp *c, const struct ksym_builder *b, size_t to)
{
    size_t more = 0;
    for (size_t r = c->n; r < to; r++)
        more += 3u + b->recs[r].name_len;
    /* Offsets are 32 bits. */
    if (c->buf_len + more > UINT32_MAX)
        return KSYM_E2BIG;
    if (ksym__grow((void **)&c->buf, &c->buf_cap, c->buf_len + more + 32, 1) ||
        ksym__grow((void **)&c->start, &c->start_cap, to, sizeof *c->start))
        return KSYM_ENOMEM;
    size_t o = c->buf_len;
    for (size_t r = c->n; r < to; r++) {
        const struct ksym_rec *rec = &b->recs[r];
        size_t L = rec->name_len + 1u;
        c->buf[o] = (uint8_t)L;
        c->buf[o + 1] = (uint8_t)(L >> 8);
        o += 2;
        c->start[r] = (uint32_t)o;
        c->buf[o] = rec->type;
        memcpy(c->buf + o + 1, b->names + rec->name_off, rec->name_len);
        o += L;
    }
    memset(c->buf + o, 0, 32);
    c->buf_len = o;
    if (list_batch(c, c->n, (uint32_t)to))
        return KSYM_ENOMEM;
    c->n = (uint32_t)to;
    return KSYM_OK;
}

int ksym__comp_prepare(struct ksym_builder *b, size_t min_batch)
{
    size_t have = b->comp ? b->comp->n : 0;
    if (min_batch && b->nrecs - have < min_batch)
        return KSYM_OK;
    if (!b->comp) {
        b->comp = calloc(1, sizeof *b->comp);
        if (!b->comp || !(b->comp->scratch = calloc(NPAIRS, sizeof *b->comp->scratch))) {
            ksym__comp_free(b->comp);
            b->comp = NULL;
            return KSYM_ENOMEM;
        }
    }
    if (b->nrecs == have)
        return KSYM_OK;
    int err = prepare_records(b->comp, b, b->nrecs);
    if (err) {
        ksym__comp_free(b->comp);
        b->comp = NULL;
    }
    return err;
}

void ksym__comp_drop_lists(struct ksym_comp *c)
{
    for (size_t k = 0; k < c->nlit; k++) {
        free(c->lit[k].ent);
        free(c->lit[k].dpair);
        free(c->lit[k].doff);
    }
    free(c->lit);
    c->lit = NULL;
    c->nlit = c->lit_cap = 0;
    free(c->scratch);
    c->scratch = NULL;
    for (int h = 0; h < 2; h++) {
        struct ksym_lane *l = &c->lane[h];
        ksym__bank_release(c->bank, l->pool);
        ksym__bank_release(c->bank, l->log_sym);
        ksym__bank_release(c->bank, l->log_key);
        free(l->delta);
        free(l->mark);
        free(l->touched);
        memset(l, 0, sizeof *l);
    }
}

void ksym__comp_free(struct ksym_comp *c)
{
    if (!c)
        return;
    ksym__comp_drop_lists(c);
    free(c->buf);
    free(c->start);
    free(c);
}

/* ---- a round's visits -------------------------------------------------------- */

/* Visit the symbols list[0..m) for one round, logging the new pairs.  The
 * caller made room in the log. */
HOT void visit_lane(struct ksym_comp *c, struct ksym_lane *l, const int helper,
                   const uint32_t *list, size_t m, unsigned a, unsigned b, unsigned code)
{
#if defined(__SSE2__)
    const __m128i va = _mm_set1_epi8((char)a), vb = _mm_set1_epi8((char)b);
    uint16_t mask[(KSYM_NAME_MAX + 1 + 15) / 16];
#endif
    for (size_t i = 0; i < m; i++) {
        if (i + 16 < m)
            PREFETCH(c->buf + list[i + 16]);
        uint32_t s = list[i];
        if (i && s == list[i - 1])
            continue;
        uint8_t *x = c->buf + s;
        l->cur = s;
        STAT(prof_visits++);
#if defined(__SSE2__)
        size_t L = sym_len(x), nblk;
        if (L <= 17) {
            if (L < 2)
                continue;
            __m128i x0 = _mm_loadu_si128((const __m128i *)(const void *)x);
            __m128i x1 = _mm_loadu_si128((const __m128i *)(const void *)(x + 1));
            unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x0, va)) &
                         (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x1, vb)) &
                         (0xFFFFu >> (17 - L));
            if (!m)
                continue;
            STAT(prof_rewrites++);
            if (!(m & (m - 1))) {
                rewrite_short1(c, l, helper, x, L, x0, x1, (unsigned)__builtin_ctz(m), a, b, code);
                continue;
            }
            mask[0] = (uint16_t)m;
            rewrite(c, l, helper, x, L, mask, 1, a, b, code);
            continue;
        }
        if (!pair_masks(x, L, va, vb, mask, &nblk))
            continue;
        STAT(prof_rewrites++);
        rewrite(c, l, helper, x, L, mask, nblk, a, b, code);
#else
        replace_in(c, l, helper, x, a, b, code);
#endif
    }
}

static void visit_owner(struct ksym_comp *c, const uint32_t *list, size_t m, unsigned a,
                        unsigned b, unsigned code)
{
    visit_lane(c, &c->lane[0], 0, list, m, a, b, code);
}

static void visit_helper(struct ksym_comp *c, const uint32_t *list, size_t m, unsigned a,
                         unsigned b, unsigned code)
{
    visit_lane(c, &c->lane[1], 1, list, m, a, b, code);
}

/* Sort lane l's log into one list per new pair, as part `part` of the
 * lists of the pairs made with code (the owner reserved the room). */
static void file_log(struct ksym_comp *c, struct ksym_lane *l, int part, unsigned code)
{
    uint32_t off[512];
    size_t o = l->npool;
    for (unsigned k = 0; k < 512; k++) {
        off[k] = (uint32_t)o;
        uint32_t n = l->keycnt[k];
        if (n) { /* (code, code) has key code only */
            uint32_t p = k < 256 ? k | (code << 8) : code | ((k - 256) << 8);
            c->lst_off[part][p] = (uint32_t)o;
            c->lst_len[part][p] = n;
        }
        o += n;
        l->keycnt[k] = 0;
    }
    uint32_t *pool = l->pool;
    for (size_t i = 0; i < l->nlog; i++)
        pool[off[l->log_key[i]]++] = l->log_sym[i];
    STAT(prof_logged += l->nlog);
    l->nlog = 0;
    l->npool = o;
}

/* The helper's count changes, into the counts. */
static void merge_changes(struct ksym_comp *c)
{
    struct ksym_lane *l = &c->lane[1];
    for (size_t k = 0; k < l->ntouched; k++) {
        uint32_t p = l->touched[k];
        int32_t d = l->delta[p];
        l->delta[p] = 0;
        l->mark[p] = 0;
        if (d > 0) {
            uint32_t v = c->cnt[p] += (uint32_t)d;
            if (v > c->bmax[p >> 8])
                c->bmax[p >> 8] = v;
        } else if (d < 0) {
            if (c->cnt[p] == c->bmax[p >> 8])
                c->dirty[p >> 8] = 1;
            c->cnt[p] -= (uint32_t)-d;
        }
    }
    l->ntouched = 0;
}

/* ---- the second thread's share --------------------------------------------- */

/* A round's list is a few runs (one per literal batch, or one per list
 * part), each ascending, together in buffer order. */
struct run {
    const uint32_t *list;
    size_t m;
};

/* Hand the helper the back part of a round's runs only when there is this
 * much to visit: below it, waking the helper costs more than it saves. */
#define HELP_MIN 1024

struct ksym_helper {
    /* Written by the owner before it bumps go; read by the helper after. */
    struct ksym_comp *c;
    struct run *runs; /* room for one per literal batch */
    size_t nruns;
    unsigned a, b, code;
    unsigned go;    /* round number handed out (atomic) */
    unsigned done;  /* round number finished (atomic) */
    int ready;      /* the helper is waiting for rounds (atomic) */
    int quit;       /* no more rounds (atomic) */
};

static inline void cpu_relax(void)
{
#if defined(__SSE2__)
    _mm_pause();
#endif
}

struct ksym_helper *ksym__helper_new(void)
{
    return calloc(1, sizeof(struct ksym_helper));
}

void ksym__helper_free(struct ksym_helper *h)
{
    if (h)
        free(h->runs);
    free(h);
}

void ksym__helper_serve(struct ksym_helper *h)
{
    unsigned seen = 0;
    __atomic_store_n(&h->ready, 1, __ATOMIC_RELEASE);
    for (;;) {
        unsigned go;
        while ((go = __atomic_load_n(&h->go, __ATOMIC_ACQUIRE)) == seen) {
            if (__atomic_load_n(&h->quit, __ATOMIC_ACQUIRE))
                return;
            cpu_relax();
        }
        seen = go;
        for (size_t k = 0; k < h->nruns; k++)
            visit_helper(h->c, h->runs[k].list, h->runs[k].m, h->a, h->b, h->code);
        file_log(h->c, &h->c->lane[1], KSYM_PART_HELPER, h->code);
        __atomic_store_n(&h->done, go, __ATOMIC_RELEASE);
    }
}

void ksym__helper_stop(struct ksym_helper *h)
{
    if (h)
        __atomic_store_n(&h->quit, 1, __ATOMIC_RELEASE);
}

/* Split runs[0..n) at about half their entries, into the owner's part
 * (left in runs, *n shrunk) and the helper's (h->runs), never between a
 * symbol's repeated entries. */
static void split_runs(struct run *runs, size_t *n, struct ksym_helper *h)
{
    size_t total = 0;
    for (size_t k = 0; k < *n; k++)
        total += runs[k].m;
    size_t want = total / 2, k = 0;
    while (k < *n && want >= runs[k].m)
        want -= runs[k++].m;
    h->nruns = 0;
    if (k == *n)
        return;
    size_t i = want;
    while (i > 0 && i < runs[k].m && runs[k].list[i] == runs[k].list[i - 1])
        i++;
    if (i == runs[k].m) { /* a run holds whole symbols: the next starts anew */
        k++;
        i = 0;
    }
    if (k == *n)
        return;
    h->runs[h->nruns].list = runs[k].list + i;
    h->runs[h->nruns++].m = runs[k].m - i;
    for (size_t j = k + 1; j < *n; j++)
        h->runs[h->nruns++] = runs[j];
    runs[k].m = i;
    *n = k + (i > 0);
}

/* How far past a symbol's start its rewrite may load or store: its length,
 * then up to 16 bytes more for 16-byte moves (and some margin). */
#define SPILL (KSYM_NAME_MAX + 1 + 64)

/* Entries of list[0..m) below offset limit. */
static size_t count_below(const uint32_t *list, size_t m, uint32_t limit)
{
    size_t lo = 0, hi = m;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (list[mid] < limit)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* ---- the rounds ------------------------------------------------------------ */

/* The run of batch lb listed for literal pair p, or an empty one. */
static struct run literal_run(const struct ksym_lit_batch *lb, uint32_t p)
{
    struct run r = {NULL, 0};
    uint32_t lo = 0, hi = lb->ndir;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (lb->dpair[mid] < p)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < lb->ndir && lb->dpair[lo] == p) {
        r.list = lb->ent + lb->doff[lo];
        r.m = lb->doff[lo + 1] - lb->doff[lo];
    }
    return r;
}

/* Room for need more log entries and need more list entries in lane l. */
static int reserve_lane(const struct ksym_comp *c, struct ksym_lane *l, size_t need)
{
    size_t cs = l->log_cap, ck = l->log_cap;
    if (ksym__bank_grow(c->bank, (void **)&l->pool, &l->pool_cap, l->npool + need, l->npool,
                        sizeof *l->pool) ||
        ksym__bank_grow(c->bank, (void **)&l->log_sym, &cs, need, 0, sizeof *l->log_sym) ||
        ksym__bank_grow(c->bank, (void **)&l->log_key, &ck, need, 0, sizeof *l->log_key))
        return -1;
    l->log_cap = cs < ck ? cs : ck;
    return 0;
}

/* List entries per symbol that the owner's lane files over all rounds and
 * the helper's: about 16-18 and 6-8 on /proc/kallsyms, 27 and 6 on the
 * synthetic million (benchmarks/synthetic.py), as the helper joins earlier
 * or later.  A pool that outgrows its room moves out of the bank, at the
 * cost of a copy. */
#define POOL_PER_SYM_OWNER 32
#define POOL_PER_SYM_HELPER 12

/* A lane's log in the bank has room for a round of up to LOG_PER_SYM
 * entries per symbol (two per replaced pair; /proc/kallsyms needs 1.5): a
 * round that needs more moves it to malloc. */
#define LOG_PER_SYM 2

size_t ksym__comp_bank_bytes(size_t n)
{
    return n * ((POOL_PER_SYM_OWNER + POOL_PER_SYM_HELPER) * sizeof(uint32_t) +
                2 * LOG_PER_SYM * (sizeof(uint32_t) + sizeof(uint16_t))) + 8 * 64;
}

/* Start lane l's log in the bank, for the largest round (cnt_max pairs) as
 * far as the bank's share allows; 0 or -1. */
static int bank_log(const struct ksym_comp *c, struct ksym_bank *bank, struct ksym_lane *l,
                    uint32_t cnt_max)
{
    size_t cap = 2 * (size_t)cnt_max;
    if (cap > LOG_PER_SYM * (size_t)c->n)
        cap = LOG_PER_SYM * (size_t)c->n;
    l->log_sym = ksym__bank_alloc(bank, cap * sizeof *l->log_sym);
    l->log_key = ksym__bank_alloc(bank, cap * sizeof *l->log_key);
    l->log_cap = l->log_sym && l->log_key ? cap : 0;
    return l->log_sym && l->log_key ? 0 : -1;
}

/* Start lane l's pool in the bank, with room for per_sym list entries per
 * symbol; 0 or -1. */
static int bank_pool(const struct ksym_comp *c, struct ksym_bank *bank, struct ksym_lane *l,
                     size_t per_sym)
{
    l->pool = ksym__bank_alloc(bank, per_sym * c->n * sizeof *l->pool);
    l->pool_cap = l->pool ? per_sym * c->n : 0;
    return l->pool ? 0 : -1;
}

static int helper_lane_init(struct ksym_lane *l)
{
    if (l->delta)
        return 0;
    l->delta = calloc(NPAIRS, sizeof *l->delta);
    l->mark = calloc(NPAIRS, 1);
    l->touched = malloc(NPAIRS * sizeof *l->touched);
    return l->delta && l->mark && l->touched ? 0 : -1;
}

int ksym__compress(struct ksym_comp *c, struct ksym_helper *h, struct ksym_bank *bank,
                   uint32_t *progress)
{
    /* No more records come. */
    free(c->scratch);
    c->scratch = NULL;
    if (bank) {
        /* A round logs at most two new pairs per occurrence it replaces.
         * The largest count never grows: a new pair's occurrences each
         * neighbour a different replaced one, so it occurs at most as often
         * as the pair replaced.  So the first largest count bounds every
         * round's log, and the log that holds it never grows. */
        uint32_t cnt_max = 0;
        for (size_t p = 0; p < NPAIRS; p++)
            cnt_max = c->cnt[p] > cnt_max ? c->cnt[p] : cnt_max;
        c->bank = bank;
        /* The owner's pool last: the bank is faulted in from its start
         * (bank.h), and the end of that pool is the part least used. */
        if (bank_log(c, bank, &c->lane[0], cnt_max) ||
            (h && (bank_log(c, bank, &c->lane[1], cnt_max) ||
                   bank_pool(c, bank, &c->lane[1], POOL_PER_SYM_HELPER))) ||
            bank_pool(c, bank, &c->lane[0], POOL_PER_SYM_OWNER))
            return -1;
    }
    /* A round's runs: one per literal batch, or one per list part. */
    size_t max_runs = c->nlit + KSYM_NPARTS;
    struct run *runs = malloc(max_runs * sizeof *runs);
    if (!runs)
        return -1;
    if (h && !(h->runs = malloc(max_runs * sizeof *h->runs)))
        h = NULL; /* no help then */
    for (int k = 0; k < 256; k++) {
        uint32_t m = 0;
        for (int j = 0; j < 256; j++)
            m = c->cnt[k * 256 + j] > m ? c->cnt[k * 256 + j] : m;
        c->bmax[k] = m;
        c->kind[k] = c->seen[k] ? 1 : 0;
    }
    if (h)
        h->c = c;
    set_progress(progress, PROGRESS_COMP_INIT);
    unsigned rounds = 0, done = 0;
    for (int code = 0; code < 256; code++)
        rounds += !c->kind[code];
    for (int code = 255; code >= 0; code--) {
        if (c->kind[code])
            continue;
        uint32_t p = best_pair(c);
        if (p == NPAIRS)
            break;
        unsigned a = p & 0xFF, b = p >> 8;
        int literal = c->kind[a] == 1 && c->kind[b] == 1;
        c->kind[code] = 2;
        c->tok_a[code] = (uint8_t)a;
        c->tok_b[code] = (uint8_t)b;
        /* Each replaced occurrence logs at most two new pairs.  Pools
         * grow now, before any list in them is handed out. */
        size_t need = 2 * (size_t)c->cnt[p];
        if (reserve_lane(c, &c->lane[0], need))
            goto fail;
        int help = h && c->cnt[p] >= HELP_MIN && __atomic_load_n(&h->ready, __ATOMIC_ACQUIRE);
        if (help && (helper_lane_init(&c->lane[1]) || reserve_lane(c, &c->lane[1], need)))
            goto fail;
        /* The symbols to visit. */
        size_t nruns = 0;
        if (literal) {
            for (size_t k = 0; k < c->nlit; k++) {
                runs[nruns] = literal_run(&c->lit[k], p);
                nruns += runs[nruns].m > 0;
            }
        } else {
            for (int part = 0; part < KSYM_NPARTS; part++) {
                if (!c->lst_len[part][p])
                    continue;
                runs[nruns].list = c->lane[part / 2].pool + c->lst_off[part][p];
                runs[nruns++].m = c->lst_len[part][p];
            }
        }
        int helped = 0;
        if (help) {
            split_runs(runs, &nruns, h);
            if (h->nruns) {
                h->a = a;
                h->b = b;
                h->code = (unsigned)code;
                __atomic_store_n(&h->go, h->go + 1, __ATOMIC_RELEASE);
                helped = 1;
            }
        }
        if (!helped) {
            for (size_t k = 0; k < nruns; k++)
                visit_owner(c, runs[k].list, runs[k].m, a, b, (unsigned)code);
            file_log(c, &c->lane[0], KSYM_PART_OWNER, (unsigned)code);
        } else {
            /* The owner's symbols that lie close before the helper's first
             * wait until the helper is done: their rewrites may touch the
             * bytes after them. */
            uint32_t first = h->runs[0].list[0];
            uint32_t limit = first > SPILL ? first - SPILL : 0;
            /* Entries ascend across runs (none is empty), so those from
             * limit on are a suffix: from entry m0 of run k0. */
            size_t k0 = nruns, m0 = 0;
            while (k0 > 0 && runs[k0 - 1].list[runs[k0 - 1].m - 1] >= limit)
                k0--;
            if (k0 < nruns)
                m0 = count_below(runs[k0].list, runs[k0].m, limit);
            for (size_t k = 0; k < k0; k++)
                visit_owner(c, runs[k].list, runs[k].m, a, b, (unsigned)code);
            if (k0 < nruns)
                visit_owner(c, runs[k0].list, m0, a, b, (unsigned)code);
            /* Filed while the helper may still be visiting (and then
             * filing its own). */
            file_log(c, &c->lane[0], KSYM_PART_OWNER, (unsigned)code);
            while (__atomic_load_n(&h->done, __ATOMIC_ACQUIRE) != h->go)
                cpu_relax();
            for (size_t k = k0; k < nruns; k++) {
                size_t from = k == k0 ? m0 : 0;
                visit_owner(c, runs[k].list + from, runs[k].m - from, a, b, (unsigned)code);
            }
            file_log(c, &c->lane[0], KSYM_PART_DEFERRED, (unsigned)code);
            merge_changes(c);
        }
        set_progress(progress,
                     PROGRESS_COMP_INIT + (PROGRESS_ROUNDS - PROGRESS_COMP_INIT) * ++done / rounds);
    }
    free(runs);
#ifdef KSYM_PROFILE
    fprintf(stderr, "  stats: visits %zu rewrites %zu logged %zu\n", prof_visits, prof_rewrites,
            prof_logged);
    prof_visits = prof_rewrites = prof_logged = 0;
#endif
    return 0;
fail:
    free(runs);
    return -1;
}
