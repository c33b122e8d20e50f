/* build.c - the builder: records, validation, kernel order, the kernel's
 * greedy token compression, and the arrays of a finished table.
 *
 * Written from the algorithm as described in DESIGN.md and
 * shared/notes/kernel-kallsyms.md; no kernel code is used.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "builder.h"
#include "ksym.h"
#include "table.h"

#ifdef KSYM_PROFILE
#include <time.h>
static double prof_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}
#define PROF(label)                                                     \
    do {                                                                \
        double now_ = prof_ms();                                        \
        fprintf(stderr, "  %-10s %7.2f ms\n", label, now_ - prof_last_); \
        prof_last_ = now_;                                              \
    } while (0)
#define PROF_START double prof_last_ = prof_ms()
#else
#define PROF(label) ((void)0)
#define PROF_START ((void)0)
#endif

/* ---- errors ------------------------------------------------------------- */

const char *ksym_strerror(int err)
{
    switch (err) {
    case KSYM_OK: return "success";
    case KSYM_ENOMEM: return "out of memory";
    case KSYM_EINVAL: return "invalid argument";
    case KSYM_EBADNAME: return "invalid symbol name";
    case KSYM_EBADTYPE: return "invalid symbol type";
    case KSYM_EBADMODULE: return "invalid module name";
    case KSYM_EPARSE: return "malformed symbol line";
    case KSYM_EEMPTY: return "no symbols";
    case KSYM_EZEROADDR: return "all addresses are zero";
    case KSYM_ERANGE: return "index out of range";
    case KSYM_ETOOMANY: return "too many symbols";
    case KSYM_ENOSPC: return "buffer too small";
    case KSYM_E2BIG: return "token table too large";
    default: return "unknown error";
    }
}

int ksym__error(struct ksym_builder *b, int err, uint64_t line, int64_t record,
                const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->msg, sizeof b->msg, fmt, ap);
    va_end(ap);
    b->err_line = line;
    b->err_record = record;
    return err;
}

/* ---- builder basics ----------------------------------------------------- */

struct ksym_builder *ksym_builder_new(void)
{
    struct ksym_builder *b = calloc(1, sizeof *b);
    if (b)
        b->err_record = -1;
    return b;
}

void ksym_builder_free(struct ksym_builder *b)
{
    if (!b)
        return;
    free(b->recs);
    free(b->names);
    free(b->mods);
    free(b->modv);
    free(b->mod_hash);
    free(b);
}

size_t ksym_builder_count(const struct ksym_builder *b)
{
    return b ? b->nrecs : 0;
}

const char *ksym_builder_message(const struct ksym_builder *b)
{
    return b ? b->msg : "";
}

uint64_t ksym_builder_error_line(const struct ksym_builder *b)
{
    return b ? b->err_line : 0;
}

int64_t ksym_builder_error_record(const struct ksym_builder *b)
{
    return b ? b->err_record : -1;
}

/* Grow *p (elements of size sz) to hold at least need elements. */
static int grow(void **p, size_t *cap, size_t need, size_t sz)
{
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : 64;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2 / sz)
            return -1;
        ncap *= 2;
    }
    void *q = realloc(*p, ncap * sz);
    if (!q)
        return -1;
    *p = q;
    *cap = ncap;
    return 0;
}

void ksym__reserve(struct ksym_builder *b, size_t more_recs, size_t more_name_bytes)
{
    if (b->nrecs + more_recs > b->nrecs)
        grow((void **)&b->recs, &b->recs_cap, b->nrecs + more_recs, sizeof *b->recs);
    if (b->names_len + more_name_bytes > b->names_len)
        grow((void **)&b->names, &b->names_cap, b->names_len + more_name_bytes, 1);
}

void ksym__mark(const struct ksym_builder *b, struct ksym_mark *m)
{
    m->nrecs = b->nrecs;
    m->names_len = b->names_len;
    m->nmods = b->nmods;
    m->mods_len = b->mods_len;
}

static int mod_rehash(struct ksym_builder *b, size_t slots);

void ksym__rollback(struct ksym_builder *b, const struct ksym_mark *m)
{
    b->nrecs = m->nrecs;
    b->names_len = m->names_len;
    b->last_mod = 0;
    if (b->nmods != m->nmods) {
        b->nmods = m->nmods;
        b->mods_len = m->mods_len;
        /* Rebuild the intern hash without the dropped modules (same size,
         * so this cannot fail). */
        mod_rehash(b, b->mod_hash_slots);
    }
}

/* ---- validation ---------------------------------------------------------- */

static int is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int check_name(struct ksym_builder *b, const unsigned char *s, size_t len)
{
    int64_t rec = (int64_t)b->nrecs;
    if (len == 0)
        return ksym__error(b, KSYM_EBADNAME, 0, rec, "name is empty");
    if (len > KSYM_NAME_MAX)
        return ksym__error(b, KSYM_EBADNAME, 0, rec, "name is %zu bytes, longer than %d",
                           len, KSYM_NAME_MAX);
    for (size_t i = 0; i < len; i++) {
        if (s[i] > ' ')
            continue;
        if (s[i] == 0)
            return ksym__error(b, KSYM_EBADNAME, 0, rec, "name contains a NUL byte at byte %zu", i);
        if (is_space(s[i]))
            return ksym__error(b, KSYM_EBADNAME, 0, rec, "name contains whitespace at byte %zu", i);
    }
    return 0;
}

static int check_module(struct ksym_builder *b, const unsigned char *s, size_t len)
{
    int64_t rec = (int64_t)b->nrecs;
    if (len > KSYM_MODULE_NAME_MAX)
        return ksym__error(b, KSYM_EBADMODULE, 0, rec,
                           "module name is %zu bytes, longer than %d", len, KSYM_MODULE_NAME_MAX);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];
        if (c == 0)
            return ksym__error(b, KSYM_EBADMODULE, 0, rec,
                               "module name contains a NUL byte at byte %zu", i);
        if (is_space(c))
            return ksym__error(b, KSYM_EBADMODULE, 0, rec,
                               "module name contains whitespace at byte %zu", i);
        if (c == '[' || c == ']')
            return ksym__error(b, KSYM_EBADMODULE, 0, rec,
                               "module name contains '%c' at byte %zu", c, i);
    }
    return 0;
}

/* ---- module interning ---------------------------------------------------- */

static int mod_rehash(struct ksym_builder *b, size_t slots)
{
    uint32_t *h = calloc(slots, sizeof *h);
    if (!h)
        return -1;
    for (size_t id = 0; id < b->nmods; id++) {
        uint64_t hv = ksym_hash(b->mods + b->modv[id].off, b->modv[id].len);
        size_t i = (size_t)hv & (slots - 1);
        while (h[i])
            i = (i + 1) & (slots - 1);
        h[i] = (uint32_t)id + 1;
    }
    free(b->mod_hash);
    b->mod_hash = h;
    b->mod_hash_slots = slots;
    return 0;
}

/* Stores the module value (id + 1) for a name in *out, interning it.
 * Returns 0 or an error (message set). */
static int mod_intern(struct ksym_builder *b, const char *s, size_t len, uint32_t *out)
{
    if (b->last_mod) {
        const struct ksym_mod *m = &b->modv[b->last_mod - 1];
        if (m->len == len && memcmp(b->mods + m->off, s, len) == 0) {
            *out = b->last_mod;
            return 0;
        }
    }
    uint64_t hv = ksym_hash(s, len);
    if (b->mod_hash_slots) {
        size_t mask = b->mod_hash_slots - 1;
        for (size_t i = (size_t)hv & mask; b->mod_hash[i]; i = (i + 1) & mask) {
            const struct ksym_mod *m = &b->modv[b->mod_hash[i] - 1];
            if (m->len == len && memcmp(b->mods + m->off, s, len) == 0) {
                *out = b->last_mod = b->mod_hash[i];
                return 0;
            }
        }
    }
    int64_t rec = (int64_t)b->nrecs;
    if (b->nmods >= KSYM_MAX_MODULES)
        return ksym__error(b, KSYM_ETOOMANY, 0, rec, "more than %d distinct modules",
                           KSYM_MAX_MODULES);
    if (grow((void **)&b->modv, &b->nmods_cap, b->nmods + 1, sizeof *b->modv) ||
        grow((void **)&b->mods, &b->mods_cap, b->mods_len + len, 1) ||
        ((b->nmods + 1) * 2 > b->mod_hash_slots &&
         mod_rehash(b, b->mod_hash_slots ? b->mod_hash_slots * 2 : 64)))
        return ksym__error(b, KSYM_ENOMEM, 0, rec, "out of memory");
    size_t id = b->nmods++;
    b->modv[id].off = b->mods_len;
    b->modv[id].len = (uint32_t)len;
    memcpy(b->mods + b->mods_len, s, len);
    b->mods_len += len;
    size_t mask = b->mod_hash_slots - 1;
    size_t i = (size_t)hv & mask;
    while (b->mod_hash[i])
        i = (i + 1) & mask;
    b->mod_hash[i] = (uint32_t)id + 1;
    *out = b->last_mod = (uint32_t)id + 1;
    return 0;
}

/* ---- adding records ------------------------------------------------------ */

int ksym__add(struct ksym_builder *b, uint64_t address, unsigned char type,
              const char *name, size_t name_len, const char *module, size_t module_len)
{
    int err = check_name(b, (const unsigned char *)name, name_len);
    if (err)
        return err;
    if (type < 0x21 || type > 0x7E)
        return ksym__error(b, KSYM_EBADTYPE, 0, (int64_t)b->nrecs,
                           "type 0x%02x is not a printable, non-space ASCII character", type);
    if (module_len) {
        err = check_module(b, (const unsigned char *)module, module_len);
        if (err)
            return err;
    }
    return ksym__add_valid(b, address, type, name, name_len, module, module_len);
}

int ksym__add_valid(struct ksym_builder *b, uint64_t address, unsigned char type,
                    const char *name, size_t name_len, const char *module, size_t module_len)
{
    int err;
    if (b->nrecs >= KSYM_MAX_SYMBOLS)
        return ksym__error(b, KSYM_ETOOMANY, 0, (int64_t)b->nrecs, "more than %d symbols",
                           KSYM_MAX_SYMBOLS);
    if (grow((void **)&b->recs, &b->recs_cap, b->nrecs + 1, sizeof *b->recs) ||
        grow((void **)&b->names, &b->names_cap, b->names_len + name_len, 1))
        return ksym__error(b, KSYM_ENOMEM, 0, (int64_t)b->nrecs, "out of memory");
    uint32_t mod = 0;
    if (module_len && (err = mod_intern(b, module, module_len, &mod)))
        return err;
    struct ksym_rec *r = &b->recs[b->nrecs++];
    r->addr = address;
    r->name_off = b->names_len;
    r->name_len = (uint16_t)name_len;
    r->type = type;
    r->module = mod;
    memcpy(b->names + b->names_len, name, name_len);
    b->names_len += name_len;
    return KSYM_OK;
}

int ksym_builder_add(struct ksym_builder *b, uint64_t address, char type,
                     const char *name, size_t name_len,
                     const char *module, size_t module_len)
{
    if (!b)
        return KSYM_EINVAL;
    if ((!name && name_len) || (!module && module_len))
        return ksym__error(b, KSYM_EINVAL, 0, (int64_t)b->nrecs, "NULL pointer with a length");
    return ksym__add(b, address, (unsigned char)type, name, name_len, module, module_len);
}

/* ---- kernel order -------------------------------------------------------- */

struct skey {
    uint64_t addr;
    uint64_t key; /* weak << 63 | provided << 62 | underscores << 24 | input index */
};

static int is_provided(const unsigned char *s, size_t n)
{
    if (n < 8 || s[0] != '_' || s[1] != '_')
        return 0;
    if (!memcmp(s, "__start_", 8) || !memcmp(s, "__stop_", 7) || !memcmp(s, "__end_", 6))
        return 1;
    if (!memcmp(s + n - 6, "_start", 6) || !memcmp(s + n - 4, "_end", 4))
        return 1;
    return 0;
}

static uint64_t order_key(const struct ksym_builder *b, uint32_t i)
{
    const struct ksym_rec *r = &b->recs[i];
    const unsigned char *s = (const unsigned char *)b->names + r->name_off;
    uint64_t us = 0;
    while (us < r->name_len && s[us] == '_')
        us++;
    uint64_t weak = (r->type == 'w' || r->type == 'W');
    return (weak << 63) | ((uint64_t)is_provided(s, r->name_len) << 62) | (us << 24) | i;
}

/* Stable LSD radix sort of k[] by addr - lo over the bytes where addresses
 * differ, then the runs of equal addresses by key.  tmp has n entries. */
static void sort_kernel_order(struct skey *k, struct skey *tmp, size_t n)
{
    if (n < 2)
        return;
    int sorted = 1;
    uint64_t lo = k[0].addr, hi = k[0].addr;
    for (size_t i = 1; i < n; i++) {
        if (k[i].addr < k[i - 1].addr)
            sorted = 0;
        if (k[i].addr < lo)
            lo = k[i].addr;
        if (k[i].addr > hi)
            hi = k[i].addr;
    }
    if (!sorted) {
        uint64_t span = hi - lo;
        struct skey *src = k, *dst = tmp;
        for (unsigned shift = 0; shift < 64 && (span >> shift); shift += 8) {
            size_t cnt[256] = {0};
            for (size_t i = 0; i < n; i++)
                cnt[((src[i].addr - lo) >> shift) & 0xFF]++;
            size_t sum = 0;
            for (int d = 0; d < 256; d++) {
                size_t c = cnt[d];
                cnt[d] = sum;
                sum += c;
            }
            for (size_t i = 0; i < n; i++)
                dst[cnt[((src[i].addr - lo) >> shift) & 0xFF]++] = src[i];
            struct skey *t = src;
            src = dst;
            dst = t;
        }
        if (src != k)
            memcpy(k, src, n * sizeof *k);
    }
    /* Runs of equal addresses: insertion sort by key. */
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && k[j].addr == k[i].addr)
            j++;
        for (size_t x = i + 1; x < j; x++) {
            struct skey v = k[x];
            size_t y = x;
            while (y > i && k[y - 1].key > v.key) {
                k[y] = k[y - 1];
                y--;
            }
            k[y] = v;
        }
        i = j;
    }
}

/* ---- token compression --------------------------------------------------- */

/* The kernel's greedy pair substitution with exact overlapping pair counts.
 *
 * A round only visits symbols that may contain the chosen pair:
 *  - a pair of two literals can only be an initial pair (every pair a
 *    substitution creates contains the new code), so the symbols containing
 *    it are listed once at the start (`csr`);
 *  - a pair containing a code c made in round c can only occur in a symbol
 *    where round c made a substitution, because occurrences of c are only
 *    created in round c and new neighbours of c always involve a newer
 *    code; so each round records the symbols it changed (`hits`), and a
 *    pair (x, y) visits the shorter of hits(x) and hits(y).
 * Lists may hold symbols that no longer contain the pair; a visit finds
 * nothing there.  All lists are in ascending buffer order, so visits walk
 * the buffer forward.  A substitution updates the counts of the pairs
 * around each occurrence only, so counts stay exact without recounting.
 * Counts are kept in blocks of 256 with a per-block maximum, so picking the
 * best pair does not scan all 65536. */

#define NPAIRS 65536

struct comp {
    /* Symbol strings (type + name) in table order, compressed in place.  A
     * symbol is named by the offset of its codes in buf; the two bytes
     * before hold its current length (little-endian). */
    uint8_t *buf;
    uint32_t *start; /* per symbol: offset of its codes */
    uint32_t n;

    uint32_t cnt[NPAIRS]; /* overlapping occurrences over all symbols, exact */
    uint32_t bmax[256];   /* per block of 256 pairs: the largest count */
    uint8_t dirty[256];   /* bmax may be too large: recompute */

    uint32_t *csr_start; /* NPAIRS + 1: symbols containing each initial pair */
    uint32_t *csr;
    uint32_t *hits;      /* symbols changed by each round, back to back */
    size_t nhits, hits_cap;
    size_t hit_lo[256], hit_hi[256]; /* per code: its round's range in hits */

    uint8_t tok_a[256], tok_b[256];
    uint8_t kind[256]; /* 0 unused, 1 literal, 2 pair */
    /* Expansions: each is a substring of a symbol string, so at most
     * KSYM_NAME_MAX + 1 bytes; stored back to back. */
    uint8_t tokbuf[256 * (KSYM_NAME_MAX + 1)];
};

#if defined(__GNUC__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)0)
#endif

static inline size_t sym_len(const uint8_t *x)
{
    return x[-2] | ((size_t)x[-1] << 8);
}

static inline void pair_inc(struct comp *c, uint32_t p)
{
    uint32_t v = ++c->cnt[p];
    if (v > c->bmax[p >> 8])
        c->bmax[p >> 8] = v;
}

static inline void pair_dec(struct comp *c, uint32_t p)
{
    if (c->cnt[p] == c->bmax[p >> 8])
        c->dirty[p >> 8] = 1;
    c->cnt[p]--;
}

/* Occurrence at r of (a, b) -> code.  The current string is out[0..w) +
 * x[r..L) (out may be x itself).  Updates the counts of the pairs around it,
 * returns the new w. */
static inline size_t replace_one(struct comp *c, uint8_t *out, const uint8_t *x, size_t L,
                                 size_t w, size_t r, unsigned a, unsigned b, unsigned code)
{
    if (w > 0) {
        uint32_t left = out[w - 1];
        pair_dec(c, left | (a << 8));
        pair_inc(c, left | (code << 8));
    }
    pair_dec(c, a | (b << 8));
    if (r + 2 < L) {
        uint32_t right = x[r + 2];
        pair_dec(c, b | (right << 8));
        pair_inc(c, code | (right << 8));
    }
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
static void rewrite(struct comp *c, uint8_t *x, size_t L, const uint16_t *mask, size_t nblk,
                    unsigned a, unsigned b, unsigned code)
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
            w = replace_one(c, out, x, L, w, pos, a, b, code);
            r = pos + 2;
        }
    }
    for (size_t i = 0; i < L - r; i += 16)
        _mm_storeu_si128((__m128i *)(void *)(out + w + i),
                         _mm_loadu_si128((const __m128i *)(const void *)(x + r + i)));
    w += L - r;
    memcpy(x, out, w);
    set_len(x, w);
}
#else
/* Replace the non-overlapping occurrences of (a, b) in symbol x with code,
 * left to right, keeping the pair counts exact.  Returns 1 if x changed. */
static int replace_in(struct comp *c, uint8_t *x, unsigned a, unsigned b, unsigned code)
{
    const size_t L = sym_len(x);
    /* Compare two bytes at a time: only real occurrences branch. */
    const uint8_t ab[2] = {(uint8_t)a, (uint8_t)b};
    uint16_t pat, v;
    memcpy(&pat, ab, 2);
    size_t r = 0;
    for (;; r++) {
        if (r + 1 >= L)
            return 0;
        memcpy(&v, x + r, 2);
        if (v == pat)
            break;
    }
    size_t w = r;
    for (;;) {
        w = replace_one(c, x, x, L, w, r, a, b, code);
        r += 2;
        for (;;) {
            if (r + 1 >= L) {
                if (r < L)
                    x[w++] = x[r];
                set_len(x, w);
                return 1;
            }
            memcpy(&v, x + r, 2);
            if (v == pat)
                break;
            x[w++] = x[r++];
        }
    }
}
#endif

/* The pair with the highest count, lowest index on ties; NPAIRS if no pair
 * occurs any more. */
static uint32_t best_pair(struct comp *c)
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

/* Initial pair counts, literals, and the symbols containing each pair: a
 * symbol is listed once per occurrence, so a list may repeat a symbol, but
 * only in adjacent entries (visit() skips those). */
static int comp_init(struct comp *c)
{
    uint8_t seen[256] = {0};
    for (uint32_t i = 0; i < c->n; i++) {
        const uint8_t *x = c->buf + c->start[i];
        size_t L = sym_len(x);
        seen[x[0]] = 1;
        for (size_t j = 0; j + 1 < L; j++) {
            seen[x[j + 1]] = 1;
            c->cnt[x[j] | ((uint32_t)x[j + 1] << 8)]++;
        }
    }
    uint32_t *first = malloc((NPAIRS + 1) * sizeof *first);
    uint32_t *fill = malloc(NPAIRS * sizeof *fill);
    if (!first || !fill) {
        free(first);
        free(fill);
        return -1;
    }
    c->csr_start = first;
    size_t total = 0;
    for (uint32_t p = 0; p < NPAIRS; p++) {
        first[p] = fill[p] = (uint32_t)total;
        total += c->cnt[p];
    }
    first[NPAIRS] = (uint32_t)total;
    c->csr = malloc((total ? total : 1) * sizeof *c->csr);
    if (!c->csr) {
        free(fill);
        return -1;
    }
    for (uint32_t i = 0; i < c->n; i++) {
        uint32_t s = c->start[i];
        const uint8_t *x = c->buf + s;
        size_t L = sym_len(x);
        for (size_t j = 0; j + 1 < L; j++)
            c->csr[fill[x[j] | ((uint32_t)x[j + 1] << 8)]++] = s;
    }
    free(fill);
    for (int k = 0; k < 256; k++) {
        uint32_t m = 0;
        for (int j = 0; j < 256; j++)
            m = c->cnt[k * 256 + j] > m ? c->cnt[k * 256 + j] : m;
        c->bmax[k] = m;
        c->kind[k] = seen[k] ? 1 : 0;
    }
    return 0;
}

/* Visit the symbols list[0..m) for one round; appends changed ones to hits.
 * The caller made room for m more hits. */
static void visit(struct comp *c, const uint32_t *list, size_t m, unsigned a, unsigned b,
                  unsigned code)
{
    uint32_t *out = c->hits + c->nhits;
    size_t k = 0;
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
#if defined(__SSE2__)
        size_t L = sym_len(x), nblk;
        if (L < 2 || !pair_masks(x, L, va, vb, mask, &nblk))
            continue;
        rewrite(c, x, L, mask, nblk, a, b, code);
#else
        if (!replace_in(c, x, a, b, code))
            continue;
#endif
        out[k++] = s;
    }
    c->nhits += k;
}

static int compress(struct comp *c)
{
    PROF_START;
    if (comp_init(c))
        return -1;
    PROF("comp_init");
    for (int code = 255; code >= 0; code--) {
        if (c->kind[code])
            continue;
        uint32_t p = best_pair(c);
        if (p == NPAIRS)
            break;
        unsigned a = p & 0xFF, b = p >> 8;
        c->kind[code] = 2;
        c->tok_a[code] = (uint8_t)a;
        c->tok_b[code] = (uint8_t)b;
        /* Which list to walk: the initial pair's, or the shorter of the
         * rounds that made a and b.  hits may move when it grows, so the
         * list is located after making room. */
        int initial = c->kind[a] == 1 && c->kind[b] == 1;
        unsigned x = a;
        if (c->kind[a] != 2 ||
            (c->kind[b] == 2 && c->hit_hi[b] - c->hit_lo[b] < c->hit_hi[a] - c->hit_lo[a]))
            x = b;
        size_t m = initial ? c->csr_start[p + 1] - c->csr_start[p] : c->hit_hi[x] - c->hit_lo[x];
        if (grow((void **)&c->hits, &c->hits_cap, c->nhits + m, sizeof *c->hits))
            return -1;
        const uint32_t *list = initial ? c->csr + c->csr_start[p] : c->hits + c->hit_lo[x];
        c->hit_lo[code] = c->nhits;
        visit(c, list, m, a, b, (unsigned)code);
        c->hit_hi[code] = c->nhits;
    }
    PROF("rounds");
    return 0;
}

/* ---- name order ----------------------------------------------------------- */

struct nitem {
    uint64_t key;
    uint32_t idx; /* table index */
    uint32_t pad;
};

struct nsrc {
    const uint8_t **ptr; /* per table index: name bytes */
    const uint16_t *len;
};

static inline uint64_t name_key(const uint8_t *s, size_t len, size_t d)
{
    if (d + 8 <= len) {
        uint64_t v = 0;
        for (int j = 0; j < 8; j++)
            v = (v << 8) | s[d + j];
        return v;
    }
    uint64_t v = 0;
    for (size_t j = d; j < d + 8; j++)
        v = (v << 8) | (j < len ? s[j] : 0);
    return v;
}

/* Compare two names from byte d on: bytewise, shorter first on a tie. */
static int name_cmp_from(const struct nsrc *src, uint32_t x, uint32_t y, size_t d)
{
    size_t lx = src->len[x], ly = src->len[y];
    size_t m = (lx < ly ? lx : ly);
    int r = m > d ? memcmp(src->ptr[x] + d, src->ptr[y] + d, m - d) : 0;
    if (r)
        return r;
    return (lx > ly) - (lx < ly);
}

/* Stable LSD radix sort of it[] by key; tmp has n entries. */
static void radix_sort_keys(struct nitem *it, struct nitem *tmp, size_t n)
{
    size_t (*cnt)[256] = calloc(8, sizeof *cnt);
    if (!cnt) { /* fall back: stable insertion sort (slow, but correct) */
        for (size_t x = 1; x < n; x++) {
            struct nitem v = it[x];
            size_t y = x;
            while (y > 0 && it[y - 1].key > v.key) {
                it[y] = it[y - 1];
                y--;
            }
            it[y] = v;
        }
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t k = it[i].key;
        for (int d = 0; d < 8; d++)
            cnt[d][(k >> (8 * d)) & 0xFF]++;
    }
    struct nitem *src = it, *dst = tmp;
    for (int d = 0; d < 8; d++) {
        size_t *c = cnt[d];
        int skip = 0;
        for (int v = 0; v < 256; v++)
            if (c[v] == n) {
                skip = 1;
                break;
            }
        if (skip)
            continue;
        size_t sum = 0;
        for (int v = 0; v < 256; v++) {
            size_t t = c[v];
            c[v] = sum;
            sum += t;
        }
        unsigned sh = 8 * (unsigned)d;
        for (size_t i = 0; i < n; i++)
            dst[c[(src[i].key >> sh) & 0xFF]++] = src[i];
        struct nitem *t = src;
        src = dst;
        dst = t;
    }
    if (src != it)
        memcpy(it, src, n * sizeof *it);
    free(cnt);
}

/* Sort it[] (names sharing their first d bytes, in table-index order on
 * entry) by name from byte d; stable, so equal names stay in index order. */
static void sort_names(struct nitem *it, struct nitem *tmp, size_t n, size_t d,
                       const struct nsrc *src)
{
    if (n < 2)
        return;
    if (n <= 32) {
        for (size_t x = 1; x < n; x++) {
            struct nitem v = it[x];
            size_t y = x;
            while (y > 0 && name_cmp_from(src, it[y - 1].idx, v.idx, d) > 0) {
                it[y] = it[y - 1];
                y--;
            }
            it[y] = v;
        }
        return;
    }
    for (size_t i = 0; i < n; i++)
        it[i].key = name_key(src->ptr[it[i].idx], src->len[it[i].idx], d);
    radix_sort_keys(it, tmp, n);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && it[j].key == it[i].key)
            j++;
        /* A zero last key byte means every name of the run ended inside
         * these 8 bytes: they are all the same name. */
        if (j - i > 1 && (it[i].key & 0xFF))
            sort_names(it + i, tmp + i, j - i, d + 8, src);
        i = j;
    }
}

/* ---- finish --------------------------------------------------------------- */

static size_t align_up(size_t v, size_t a)
{
    return (v + a - 1) & ~(a - 1);
}

static void builder_reset(struct ksym_builder *b)
{
    b->nrecs = 0;
    b->names_len = 0;
    b->nmods = 0;
    b->mods_len = 0;
    b->last_mod = 0;
    if (b->mod_hash)
        memset(b->mod_hash, 0, b->mod_hash_slots * sizeof *b->mod_hash);
}

static int names_equal(const struct nsrc *src, uint32_t x, uint32_t y)
{
    return src->len[x] == src->len[y] && memcmp(src->ptr[x], src->ptr[y], src->len[x]) == 0;
}

/* On success the builder is emptied (and may be reused); on failure its
 * records are kept and the message says what went wrong. */
int ksym_builder_finish(struct ksym_builder *b, struct ksym_table **out)
{
    if (!b || !out)
        return KSYM_EINVAL;
    *out = NULL;
    int err = KSYM_ENOMEM;
    const size_t n = b->nrecs;

    struct skey *keys = NULL, *ktmp = NULL;
    uint32_t *perm = NULL, *distinct = NULL;
    uint64_t *hv = NULL;
    struct comp *c = NULL;
    const uint8_t **nptr = NULL;
    uint16_t *nlen = NULL;
    struct nitem *items = NULL, *itmp = NULL;
    struct ksym_table *t = NULL;
    uint8_t *blk = NULL;

    PROF_START;
    /* 1. Kernel order. */
    keys = malloc((n ? n : 1) * sizeof *keys);
    ktmp = malloc((n ? n : 1) * sizeof *ktmp);
    perm = malloc((n ? n : 1) * sizeof *perm);
    if (!keys || !ktmp || !perm)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        keys[i].addr = b->recs[i].addr;
        keys[i].key = order_key(b, (uint32_t)i);
    }
    sort_kernel_order(keys, ktmp, n);
    for (size_t i = 0; i < n; i++)
        perm[i] = (uint32_t)(keys[i].key & 0xFFFFFF);
    free(ktmp);
    ktmp = NULL;
    PROF("sort");

    /* 2. Modules keep the builder's numbering: order of first appearance
     * among the records added. */
    uint32_t nmods = (uint32_t)b->nmods;
    size_t modnames_len = 0;
    for (size_t m = 0; m < b->nmods; m++)
        modnames_len += b->modv[m].len + 1;
    int any_module = nmods > 0;

    /* 3. Compression over the symbol strings in table order. */
    c = calloc(1, sizeof *c);
    if (!c)
        goto fail;
    /* Per symbol: a 2-byte length, the type, the name. */
    uint64_t total = 3 * (uint64_t)n + b->names_len;
    if (total > UINT32_MAX) {
        err = ksym__error(b, KSYM_E2BIG, 0, -1, "symbol names exceed 4 GiB in total");
        goto fail_msg;
    }
    c->n = (uint32_t)n;
    c->buf = calloc((size_t)total + 32, 1); /* slack for 16-byte loads */
    c->start = malloc((n ? n : 1) * sizeof *c->start);
    nptr = malloc((n ? n : 1) * sizeof *nptr);
    nlen = malloc((n ? n : 1) * sizeof *nlen);
    if (!c->buf || !c->start || !nptr || !nlen)
        goto fail;
    {
        size_t o = 0;
        for (size_t i = 0; i < n; i++) {
            const struct ksym_rec *r = &b->recs[perm[i]];
            size_t L = r->name_len + 1u;
            c->buf[o] = (uint8_t)L;
            c->buf[o + 1] = (uint8_t)(L >> 8);
            o += 2;
            c->start[i] = (uint32_t)o;
            c->buf[o] = r->type;
            memcpy(c->buf + o + 1, b->names + r->name_off, r->name_len);
            nptr[i] = (const uint8_t *)b->names + r->name_off;
            nlen[i] = r->name_len;
            o += L;
        }
    }
    PROF("setup");
    if (compress(c))
        goto fail;
    free(c->csr);
    c->csr = NULL;
    free(c->csr_start);
    c->csr_start = NULL;
    free(c->hits);
    c->hits = NULL;

    /* Token expansions. */
    uint8_t *tokbuf = c->tokbuf;
    uint16_t tlen[256];
    size_t toff[256];
    size_t tt_len = 0;
    {
        /* Literals first; then pairs in assignment order (255 down): a pair
         * is made of literals and codes assigned before it. */
        size_t o = 0;
        for (int code = 0; code < 256; code++) {
            tlen[code] = 0;
            toff[code] = o;
            if (c->kind[code] == 1) {
                tokbuf[o++] = (uint8_t)code;
                tlen[code] = 1;
            }
        }
        for (int code = 255; code >= 0; code--) {
            if (c->kind[code] != 2)
                continue;
            unsigned a = c->tok_a[code], bb = c->tok_b[code];
            toff[code] = o;
            memcpy(tokbuf + o, tokbuf + toff[a], tlen[a]);
            memcpy(tokbuf + o + tlen[a], tokbuf + toff[bb], tlen[bb]);
            tlen[code] = (uint16_t)(tlen[a] + tlen[bb]);
            o += tlen[code];
        }
        for (int code = 0; code < 256; code++)
            tt_len += tlen[code] + 1u;
    }
    if (tt_len > 65535) {
        err = ksym__error(b, KSYM_E2BIG, 0, -1,
                          "token table is %zu bytes, more than 65535", tt_len);
        goto fail_msg;
    }

    /* 4. Name order. */
    items = malloc((n ? n : 1) * sizeof *items);
    itmp = malloc((n ? n : 1) * sizeof *itmp);
    if (!items || !itmp)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        items[i].idx = (uint32_t)i;
        items[i].pad = 0;
    }
    struct nsrc src = {nptr, nlen};
    PROF("compress");
    sort_names(items, itmp, n, 0, &src);
    PROF("name sort");
    free(itmp);
    itmp = NULL;
    /* Distinct names, in name order; hashes computed in table order. */
    hv = malloc((n ? n : 1) * sizeof *hv);
    distinct = malloc((n ? n : 1) * sizeof *distinct);
    if (!hv || !distinct)
        goto fail;
    for (size_t i = 0; i < n; i++)
        hv[i] = ksym_hash(nptr[i], nlen[i]);
    size_t ndistinct = 0;
    for (size_t j = 0; j < n; j++) {
        uint32_t x = items[j].idx;
        if (j == 0 || hv[items[j - 1].idx] != hv[x] || !names_equal(&src, items[j - 1].idx, x))
            distinct[ndistinct++] = (uint32_t)j;
    }
    uint32_t slots = ndistinct ? (uint32_t)(ndistinct + ndistinct / 4 + 1) : 0;

    /* 5. Layout of the one block. */
    size_t names_len = 0;
    for (size_t i = 0; i < n; i++) {
        size_t L = sym_len(c->buf + c->start[i]);
        names_len += L + (L > KSYM_LEN_1BYTE_MAX ? 2u : 1u);
    }
    uint64_t lo = n ? keys[0].addr : 0, hi = n ? keys[n - 1].addr : 0;
    int wide = (hi - lo) > UINT32_MAX;
    size_t nmarkers = (n + KSYM_MARKER_STRIDE - 1) / KSYM_MARKER_STRIDE;
    size_t nfine = (n + KSYM_FINE_STRIDE - 1) / KSYM_FINE_STRIDE;

    size_t o_names = 0;
    size_t o_markers = align_up(o_names + names_len, 4);
    size_t o_tt = o_markers + nmarkers * 4;
    size_t o_ti = align_up(o_tt + tt_len, 2);
    size_t o_addr = align_up(o_ti + KSYM_TOKENS * 2, 8);
    size_t addr_len = n * (wide ? 8 : 4);
    size_t o_seqs = o_addr + addr_len;
    size_t o_modids = align_up(o_seqs + n * KSYM_SEQ_BYTES, 2);
    size_t modids_len = any_module ? n * 2 : 0;
    size_t o_modoffs = align_up(o_modids + modids_len, 4);
    size_t o_modnames = o_modoffs + (size_t)nmods * 4;
    size_t o_fine = align_up(o_modnames + modnames_len, 4);
    size_t o_npos = o_fine + nfine * 4;
    size_t o_hash = align_up(o_npos + n * 3, 4);
    size_t total_size = align_up(o_hash + (size_t)slots * 4, 8);

    t = calloc(1, sizeof *t);
    blk = calloc(1, total_size ? total_size : 8);
    if (!t || !blk)
        goto fail;

    /* names, markers, fine offsets */
    {
        size_t o = 0;
        for (size_t i = 0; i < n; i++) {
            if (i % KSYM_MARKER_STRIDE == 0)
                ksym_wr32(blk + o_markers + (i / KSYM_MARKER_STRIDE) * 4, (uint32_t)o);
            if (i % KSYM_FINE_STRIDE == 0)
                ksym_wr32(blk + o_fine + (i / KSYM_FINE_STRIDE) * 4, (uint32_t)o);
            size_t L = sym_len(c->buf + c->start[i]);
            if (L > KSYM_LEN_1BYTE_MAX) {
                blk[o++] = (uint8_t)((L & 0x7F) | 0x80);
                blk[o++] = (uint8_t)(L >> 7);
            } else {
                blk[o++] = (uint8_t)L;
            }
            memcpy(blk + o, c->buf + c->start[i], L);
            o += L;
        }
    }
    /* token table and index */
    {
        size_t o = 0;
        for (int code = 0; code < 256; code++) {
            ksym_wr16(blk + o_ti + code * 2, (uint16_t)o);
            memcpy(blk + o_tt + o, tokbuf + toff[code], tlen[code]);
            o += tlen[code];
            blk[o_tt + o++] = 0;
        }
    }
    /* addresses */
    for (size_t i = 0; i < n; i++) {
        if (wide)
            ksym_wr64(blk + o_addr + i * 8, keys[i].addr);
        else
            ksym_wr32(blk + o_addr + i * 4, (uint32_t)(keys[i].addr - lo));
    }
    /* seqs_of_names */
    for (size_t j = 0; j < n; j++) {
        uint32_t v = items[j].idx;
        uint8_t *p = blk + o_seqs + j * 3;
        p[0] = (uint8_t)(v >> 16);
        p[1] = (uint8_t)(v >> 8);
        p[2] = (uint8_t)v;
    }
    /* modules */
    if (any_module) {
        for (size_t i = 0; i < n; i++)
            ksym_wr16(blk + o_modids + i * 2, (uint16_t)b->recs[perm[i]].module);
        size_t o = 0;
        for (uint32_t id = 0; id < nmods; id++) {
            const struct ksym_mod *m = &b->modv[id];
            ksym_wr32(blk + o_modoffs + (size_t)id * 4, (uint32_t)o);
            memcpy(blk + o_modnames + o, b->mods + m->off, m->len);
            o += m->len;
            blk[o_modnames + o++] = 0;
        }
    }
    /* name positions and the name hash */
    for (size_t j = 0; j < n; j++) {
        uint32_t i = items[j].idx;
        uint8_t *p = blk + o_npos + (size_t)i * 3;
        p[0] = (uint8_t)(j >> 16);
        p[1] = (uint8_t)(j >> 8);
        p[2] = (uint8_t)j;
    }
    for (size_t k = 0; k < ndistinct; k++) {
        uint32_t pos = distinct[k];
        uint32_t next = k + 1 < ndistinct ? distinct[k + 1] : (uint32_t)n;
        uint32_t idx = items[pos].idx;
        uint64_t h = hv[idx];
        uint32_t v = ((uint32_t)(h >> 57) << 25) | ((uint32_t)(next - pos == 1) << 24) | (idx + 1);
        uint32_t s = ksym_hash_slot(h, slots);
        for (;;) {
            uint8_t *p = blk + o_hash + (size_t)s * 4;
            if (!ksym_rd32(p)) {
                ksym_wr32(p, v);
                break;
            }
            if (++s == slots)
                s = 0;
        }
    }

    PROF("write");
    t->count = (uint32_t)n;
    t->module_count = nmods;
    t->hash_slots = slots;
    t->addr_wide = (uint32_t)wide;
    t->base = wide ? 0 : lo;
    t->names = blk + o_names;
    t->names_len = names_len;
    t->markers = blk + o_markers;
    t->markers_len = nmarkers * 4;
    t->token_table = blk + o_tt;
    t->token_table_len = tt_len;
    t->token_index = blk + o_ti;
    t->seqs = blk + o_seqs;
    t->seqs_len = n * KSYM_SEQ_BYTES;
    t->addresses = blk + o_addr;
    t->addresses_len = addr_len;
    t->module_ids = any_module ? blk + o_modids : NULL;
    t->module_offs = blk + o_modoffs;
    t->module_names = blk + o_modnames;
    t->module_names_len = modnames_len;
    t->fine = blk + o_fine;
    t->fine_len = nfine * 4;
    t->name_pos = blk + o_npos;
    t->hash = blk + o_hash;
    t->block = blk;
    t->block_size = total_size;
    ksym__decode_tokens(t);
    *out = t;
    t = NULL;
    blk = NULL;
    builder_reset(b);
    err = KSYM_OK;
    goto done;

fail:
    ksym__error(b, err, 0, -1, "out of memory");
fail_msg:
done:
    free(keys);
    free(ktmp);
    free(perm);
    free(distinct);
    free(hv);
    if (c) {
        free(c->buf);
        free(c->start);
        free(c->csr_start);
        free(c->csr);
        free(c->hits);
        free(c);
    }
    free(nptr);
    free(nlen);
    free(items);
    free(itmp);
    free(t);
    free(blk);
    return err;
}
