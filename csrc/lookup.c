/* lookup.c - reading a finished table: expansion, getters, name lookups
 * through the name index, address lookups, the kernel's arrays.
 *
 * Lookups never allocate or lock; any number of threads may share a table.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdlib.h>
#include <string.h>

#include "ksym.h"
#include "table.h"

void ksym__decode_tokens(struct ksym_table *t)
{
    for (int c = 0; c < KSYM_TOKENS; c++) {
        size_t off = ksym_rd16(t->token_index + c * 2);
        size_t len = 0;
        if (off < t->token_table_len) {
            const uint8_t *z = memchr(t->token_table + off, 0, t->token_table_len - off);
            len = z ? (size_t)(z - (t->token_table + off)) : t->token_table_len - off;
        } else {
            off = 0;
        }
        t->tok_off[c] = (uint16_t)off;
        t->tok_len[c] = (uint16_t)len;
        memset(t->tok8[c], 0, 8);
        memcpy(t->tok8[c], t->token_table + off, len < 8 ? len : 8);
    }
}

void ksym_table_free(struct ksym_table *t)
{
    if (!t)
        return;
    ksym__addr_index_free(t);
    free(t->block);
    ksym__unmap(t);
    free(t);
}

uint32_t ksym_count(const struct ksym_table *t)
{
    return t ? t->count : 0;
}

uint64_t ksym_address(const struct ksym_table *t, uint32_t i)
{
    if (!t || i >= t->count)
        return 0;
    return ksym_addr_at(t, i);
}

uint64_t ksym_size(const struct ksym_table *t, uint32_t i)
{
    if (!t || i >= t->count)
        return 0;
    return ksym_size_at(t, i);
}

int ksym_has_sizes(const struct ksym_table *t)
{
    return t && t->sizes;
}

/* First code of a record. */
static inline unsigned first_code(const uint8_t *rec)
{
    unsigned len, pre = ksym_rec_len(rec, &len);
    return rec[pre];
}

/* The module run holding symbol i: the last run starting at or before i
 * (the first starts at 0). */
static uint32_t run_of(const struct ksym_table *t, uint32_t i)
{
    const uint8_t *r = t->module_runs;
    uint32_t lo = 0, n = t->module_nruns;
    while (n > 1) {
        uint32_t half = n / 2;
        lo = ksym_rd32(r + (size_t)(lo + half) * 8) <= i ? lo + half : lo;
        n -= half;
    }
    return lo;
}

char ksym_type(const struct ksym_table *t, uint32_t i)
{
    if (!t || i >= t->count)
        return 0;
    unsigned c = first_code(t->names + ksym_rec_offset(t, i));
    return t->tok_len[c] ? (char)t->token_table[t->tok_off[c]] : 0;
}

int32_t ksym_module(const struct ksym_table *t, uint32_t i)
{
    if (!t || i >= t->count)
        return -1;
    uint32_t id;
    if (t->module_runs) {
        id = ksym_rd32(t->module_runs + (size_t)run_of(t, i) * 8 + 4);
    } else if (t->module_ids) {
        id = ksym_rd16(t->module_ids + (size_t)i * 2);
    } else {
        return -1;
    }
    return id ? (int32_t)id - 1 : -1;
}

uint32_t ksym_module_count(const struct ksym_table *t)
{
    return t ? t->module_count : 0;
}

const char *ksym_module_name(const struct ksym_table *t, uint32_t id)
{
    if (!t || id >= t->module_count)
        return NULL;
    return (const char *)t->module_names + ksym_rd32(t->module_offs + (size_t)id * 4);
}

/* Expand the codes p[0..len) into out (type first), writing 8 bytes per
 * token (out needs 8 bytes of slack), stopping once more than limit bytes
 * are out.  Returns the expanded length (> limit when stopped early). */
static inline size_t expand_codes(const struct ksym_table *t, const uint8_t *p, unsigned len,
                                  uint8_t *out, size_t limit)
{
    size_t o = 0;
    for (unsigned k = 0; k < len; k++) {
        unsigned c = p[k];
        size_t l = t->tok_len[c];
        if (l <= 8)
            memcpy(out + o, t->tok8[c], 8);
        else
            memcpy(out + o, t->token_table + t->tok_off[c], l);
        o += l;
        if (o > limit)
            return o;
    }
    return o;
}

/* Expand the record at rec: the type into *type (0 if the record is
 * empty), the name into buf (at most cap bytes written).  Returns the name
 * length, which may exceed cap: then buf holds a truncated name.
 * *recsize receives the size of the record. */
static size_t expand(const struct ksym_table *t, const uint8_t *rec, char *buf, size_t cap,
                     char *type, size_t *recsize)
{
    unsigned len, pre = ksym_rec_len(rec, &len);
    const uint8_t *p = rec + pre;
    *recsize = pre + len;
    uint8_t tmp[2 * (KSYM_NAME_MAX + 1) + 8];
    /* A valid record expands to at most KSYM_NAME_MAX + 1 bytes; stop past
     * that in any case. */
    size_t o = expand_codes(t, p, len, tmp, KSYM_NAME_MAX + 1);
    if (o > KSYM_NAME_MAX + 1)
        o = KSYM_NAME_MAX + 1;
    if (type)
        *type = o ? (char)tmp[0] : 0;
    size_t l = o ? o - 1 : 0;
    if (cap)
        memcpy(buf, tmp + 1, l < cap ? l : cap);
    return l;
}

int ksym_name(const struct ksym_table *t, uint32_t i, char *buf, size_t buflen)
{
    if (!t || i >= t->count)
        return KSYM_ERANGE;
    if (!buf || buflen == 0)
        return KSYM_ENOSPC;
    size_t rs;
    size_t l = expand(t, t->names + ksym_rec_offset(t, i), buf, buflen - 1, NULL, &rs);
    if (l >= buflen)
        return KSYM_ENOSPC;
    buf[l] = 0;
    return (int)l;
}

int ksym_symbol(const struct ksym_table *t, uint32_t i, uint64_t *address,
                char *type, int32_t *module, char *name, size_t namelen)
{
    if (!t || i >= t->count)
        return KSYM_ERANGE;
    if (name && namelen == 0)
        return KSYM_ENOSPC;
    size_t rs;
    char ty;
    size_t l = expand(t, t->names + ksym_rec_offset(t, i), name, name ? namelen - 1 : 0, &ty, &rs);
    if (name) {
        if (l >= namelen)
            return KSYM_ENOSPC;
        name[l] = 0;
    }
    if (address)
        *address = ksym_addr_at(t, i);
    if (type)
        *type = ty;
    if (module)
        *module = ksym_module(t, i);
    return (int)l;
}

int64_t ksym_dump_range(const struct ksym_table *t, uint32_t start, uint32_t count,
                        uint64_t *addresses, char *types, int32_t *modules,
                        char *buf, size_t buflen, size_t *written)
{
    if (written)
        *written = 0;
    if (!t || (!buf && buflen))
        return KSYM_EINVAL;
    if (start > t->count || count > t->count - start)
        return KSYM_ERANGE;
    if (count == 0)
        return 0;
    if (!buf)
        return KSYM_ENOSPC;
    size_t off = ksym_rec_offset(t, start);
    size_t used = 0;
    uint32_t k;
    for (k = 0; k < count; k++) {
        uint32_t i = start + k;
        size_t rs;
        char ty;
        size_t room = buflen - used;
        size_t l = expand(t, t->names + off, buf + used, room, &ty, &rs);
        if (l + 1 > room)
            break;
        buf[used + l] = '\n';
        used += l + 1;
        off += rs;
        if (addresses)
            addresses[k] = ksym_addr_at(t, i);
        if (types)
            types[k] = ty;
        if (modules)
            modules[k] = ksym_module(t, i);
    }
    if (written)
        *written = used;
    if (k == 0)
        return KSYM_ENOSPC;
    return k;
}

/* ---- name lookups ---------------------------------------------------------- */

/* Does the record at rec spell exactly q (after its type)? */
static inline int rec_equals(const struct ksym_table *t, const uint8_t *rec,
                             const uint8_t *q, size_t qlen)
{
    unsigned len, pre = ksym_rec_len(rec, &len);
    uint8_t buf[2 * (KSYM_NAME_MAX + 1) + 8]; /* limit + one token + slack */
    size_t o = expand_codes(t, rec + pre, len, buf, qlen + 1);
    return o == qlen + 1 && memcmp(buf + 1, q, qlen) == 0;
}

static inline int pos_equals(const struct ksym_table *t, uint32_t pos, const uint8_t *q,
                             size_t qlen)
{
    uint32_t idx = ksym_rdseq(t->seqs + (size_t)pos * 3);
    return rec_equals(t, t->names + ksym_rec_offset(t, idx), q, qlen);
}

int ksym__index_has_name(const struct ksym_table *t, uint32_t idx, const uint8_t *q, size_t qlen)
{
    return rec_equals(t, t->names + ksym_rec_offset(t, idx), q, qlen);
}

int64_t ksym__find_first(const struct ksym_table *t, const uint8_t *q, size_t qlen, int *unique)
{
    if (qlen == 0 || qlen > KSYM_NAME_MAX)
        return -1;
    if (!t->hash_slots)
        return ksym__find_first_sorted(t, q, qlen, unique);
    uint64_t h = ksym_hash(q, qlen);
    uint32_t fp = (uint32_t)(h >> 57);
    uint32_t s = ksym_hash_slot(h, t->hash_slots);
    for (;;) {
        const uint8_t *slot = t->hash + (size_t)s * 8;
        uint32_t v = ksym_rd32(slot);
        if (!v)
            return -1;
        if ((v >> 25) == fp) {
            uint32_t pos = (v & 0xFFFFFF) - 1;
#if defined(__GNUC__)
            __builtin_prefetch(t->seqs + (size_t)pos * 3); /* what callers read next */
#endif
            if (rec_equals(t, t->names + ksym_rd32(slot + 4), q, qlen)) {
                if (unique)
                    *unique = (v >> 24) & 1;
                return pos;
            }
        }
        if (++s == t->hash_slots)
            s = 0;
    }
}

int64_t ksym_lookup_name(const struct ksym_table *t, const char *name, size_t len,
                         uint64_t *address)
{
    if (!t || !name)
        return -1;
    int64_t pos = ksym__find_first(t, (const uint8_t *)name, len, NULL);
    if (pos < 0)
        return -1;
    uint32_t idx = ksym_rdseq(t->seqs + (size_t)pos * 3);
    if (address)
        *address = ksym_addr_at(t, idx);
    return idx;
}

int64_t ksym_name_run(const struct ksym_table *t, const char *name, size_t len,
                      uint32_t *first)
{
    if (!t || !name)
        return 0;
    int unique;
    int64_t p = ksym__find_first(t, (const uint8_t *)name, len, &unique);
    if (p < 0)
        return 0;
    uint32_t pos = (uint32_t)p, end = pos + 1;
    if (!unique)
        while (end < t->count && pos_equals(t, end, (const uint8_t *)name, len))
            end++;
    if (first)
        *first = pos;
    return end - pos;
}

uint32_t ksym_seq(const struct ksym_table *t, uint32_t pos)
{
    if (!t || pos >= t->count)
        return UINT32_MAX;
    return ksym_rdseq(t->seqs + (size_t)pos * 3);
}

/* ---- address lookup --------------------------------------------------------- */

/* First index whose address is > q (n if none); requires n > 0.  Branchless,
 * prefetching both candidates of the next step. */
static inline uint32_t upper_bound32(const uint8_t *a, uint32_t n, uint32_t q)
{
    uint32_t base = 0;
    while (n > 1) {
        uint32_t half = n / 2, rest = n - half;
        PREFETCH(a + (size_t)(base + rest / 2) * 4);
        PREFETCH(a + (size_t)(base + half + rest / 2) * 4);
        base = ksym_rd32(a + (size_t)(base + half) * 4) <= q ? base + half : base;
        n = rest;
    }
    return base + (ksym_rd32(a + (size_t)base * 4) <= q);
}

static inline uint32_t upper_bound64(const uint8_t *a, uint32_t n, uint64_t q)
{
    uint32_t base = 0;
    while (n > 1) {
        uint32_t half = n / 2, rest = n - half;
        PREFETCH(a + (size_t)(base + rest / 2) * 8);
        PREFETCH(a + (size_t)(base + half + rest / 2) * 8);
        base = ksym_rd64(a + (size_t)(base + half) * 8) <= q ? base + half : base;
        n = rest;
    }
    return base + (ksym_rd64(a + (size_t)base * 8) <= q);
}

/* Do symbols i and i + 1 (i + 1 < count) belong to one region (the same
 * module, or both to the core kernel)?  A bit of the address index once a
 * batch built it, else a search of the module runs. */
static int same_region(const struct ksym_table *t, uint32_t i)
{
    if (t->module_runs) {
        const struct ksym_addr_index *x = ksym__addr_index_if_built(t);
        if (x && x->run_start)
            return !(x->run_start[(i + 1) / 8] >> ((i + 1) % 8) & 1);
        uint32_t r = run_of(t, i) + 1; /* the next run, which starts after i */
        return r >= t->module_nruns || ksym_rd32(t->module_runs + (size_t)r * 8) > i + 1;
    }
    if (t->module_ids)
        return ksym_rd16(t->module_ids + (size_t)i * 2) == ksym_rd16(t->module_ids + (size_t)(i + 1) * 2);
    return 1;
}

uint32_t ksym__upper_bound(const struct ksym_table *t, uint64_t addr)
{
    uint32_t n = t->count;
    if (n == 0)
        return 0;
    if (t->addr_wide)
        return upper_bound64(t->addresses, n, addr);
    if (addr < t->base)
        return 0;
    uint64_t d = addr - t->base;
    return d > UINT32_MAX ? n : upper_bound32(t->addresses, n, (uint32_t)d);
}

/* The first alias (table order) of symbol i, which is at address a. */
static uint32_t first_alias(const struct ksym_table *t, uint32_t i, uint64_t a)
{
    for (int k = 0; k < 8 && i > 0 && ksym_addr_at(t, i - 1) == a; k++)
        i--;
    if (i > 0 && ksym_addr_at(t, i - 1) == a) {
        uint32_t lo = 0, hi = i; /* lower_bound(a) in [lo, hi] */
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (ksym_addr_at(t, mid) < a)
                lo = mid + 1;
            else
                hi = mid;
        }
        i = lo;
    }
    return i;
}

/* The extent of an unsized symbol at a (the last of the ub symbols at or
 * below addr) by the region rule: within a region (a run of one module's
 * symbols, or the core kernel's) it runs to the next higher address; the
 * last symbol of a run, to the region's end when known, else only its own
 * address.  0 when it does not cover addr. */
static int region_size(const struct ksym_table *t, uint32_t ub, uint64_t a, uint64_t addr,
                       uint64_t *size)
{
    uint32_t n = t->count;
    if (ub < n && same_region(t, ub - 1)) {
        *size = ksym_addr_at(t, ub) - a;
        return 1;
    }
    int32_t m = ksym_module(t, ub - 1);
    uint64_t end = m < 0 ? t->core_end
                 : t->module_ends ? ksym_rd64(t->module_ends + (size_t)m * 8) : 0;
    if (end > a && (ub == n || end <= ksym_addr_at(t, ub))) {
        if (addr >= end)
            return 0;
        *size = end - a;
    } else if (end > a) {
        /* a region end past the next region's first symbol: stop there */
        *size = ksym_addr_at(t, ub) - a;
    } else {
        if (addr != a)
            return 0;
        *size = 0;
    }
    return 1;
}

int ksym__resolve(const struct ksym_table *t, uint32_t ub, uint64_t addr, uint32_t *index,
                  uint64_t *address, uint64_t *size)
{
    if (ub == 0)
        return 0;
    uint64_t a = ksym_addr_at(t, ub - 1);
    uint32_t idx = ub - 1;
    if (t->sizes) {
        /* A sized first alias covers exactly [a, a + size). */
        idx = first_alias(t, idx, a);
        uint64_t own = ksym_size_at(t, idx);
        if (own) {
            if (addr - a >= own)
                return 0;
            *size = own;
        } else if (!region_size(t, ub, a, addr, size)) {
            return 0;
        }
    } else {
        if (!region_size(t, ub, a, addr, size))
            return 0;
        idx = first_alias(t, idx, a);
    }
    *index = idx;
    *address = a;
    return 1;
}

int ksym_lookup_addr(const struct ksym_table *t, uint64_t addr, struct ksym_addr_info *info,
                     char *name, size_t namelen)
{
    if (name && namelen <= KSYM_NAME_MAX)
        return KSYM_ENOSPC;
    if (!t || !t->count)
        return 0;
    uint32_t idx;
    uint64_t a, size;
    if (!ksym__resolve(t, ksym__upper_bound(t, addr), addr, &idx, &a, &size))
        return 0;
    if (info) {
        info->index = idx;
        info->module = ksym_module(t, idx);
        info->address = a;
        info->offset = addr - a;
        info->size = size;
        info->name_len = 0;
        if (name) {
            int len = ksym_name(t, idx, name, namelen);
            if (len < 0)
                return len;
            info->name_len = (uint64_t)len;
        }
    } else if (name) {
        int len = ksym_name(t, idx, name, namelen);
        if (len < 0)
            return len;
    }
    return 1;
}

/* ---- the kernel's arrays ---------------------------------------------------- */

const uint8_t *ksym_names_bytes(const struct ksym_table *t, size_t *len)
{
    if (len)
        *len = t ? t->names_len : 0;
    return t ? t->names : NULL;
}

const uint8_t *ksym_markers_bytes(const struct ksym_table *t, size_t *len)
{
    if (len)
        *len = t ? t->markers_len : 0;
    return t ? t->markers : NULL;
}

const uint8_t *ksym_token_table_bytes(const struct ksym_table *t, size_t *len)
{
    if (len)
        *len = t ? t->token_table_len : 0;
    return t ? t->token_table : NULL;
}

const uint8_t *ksym_token_index_bytes(const struct ksym_table *t, size_t *len)
{
    if (len)
        *len = t ? KSYM_TOKENS * 2 : 0;
    return t ? t->token_index : NULL;
}

const uint8_t *ksym_seqs_bytes(const struct ksym_table *t, size_t *len)
{
    if (len)
        *len = t ? t->seqs_len : 0;
    return t ? t->seqs : NULL;
}

int ksym_names_figures(const struct ksym_table *t, uint64_t *prefix_bytes, uint64_t *name_bytes)
{
    if (!t || !prefix_bytes || !name_bytes)
        return KSYM_EINVAL;
    /* The names hold count records: the builder writes them so, and the
     * loaders (arrays.c, file.c) check it. */
    uint64_t prefixes = 0, expanded = 0;
    size_t o = 0;
    for (uint32_t i = 0; i < t->count; i++) {
        unsigned len, pre = ksym_rec_len(t->names + o, &len);
        uint64_t sym = 0;
        for (unsigned k = 0; k < len; k++)
            sym += t->tok_len[t->names[o + pre + k]];
        expanded += sym ? sym - 1 : 0; /* the type letter */
        prefixes += pre;
        o += pre + len;
    }
    *prefix_bytes = prefixes;
    *name_bytes = expanded;
    return KSYM_OK;
}

size_t ksym_memory_size(const struct ksym_table *t)
{
    if (!t)
        return 0;
    const struct ksym_addr_index *x = ksym__addr_index_if_built(t);
    return sizeof *t + t->block_size + (x ? x->bytes : 0);
}
