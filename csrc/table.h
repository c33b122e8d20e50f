/* table.h - private: the layout of struct ksym_table and the small readers
 * shared by the C core's .c files.  Not installed, not part of the API.
 *
 * Every array of a table is a const pointer plus a length, so a table may
 * point into one malloc block (ksym_builder_finish) or, later, into a file
 * mapping.  Multi-byte values are stored little-endian (the kernel's layout
 * on the machines that matter) except seqs_of_names (3 bytes big-endian, as
 * the kernel writes it) and name_sample (u64s big-endian, so prefixes compare
 * as integers); all reads go through memcpy-based readers, so no
 * array needs any alignment.
 *
 * Arrays beyond the kernel's own (little-endian but for name_sample):
 *   addresses     count x u32 offsets from `base` (addr_wide == 0), or
 *                 count x u64 full addresses (addr_wide == 1).
 *   module_runs   module_nruns x (u32 first index, u32 module value): the
 *                 maximal runs of equal module value in table order, by
 *                 first index; value 0 = core kernel, k = module k - 1.
 *                 Used when those runs number at most count / 8 (modules
 *                 are contiguous in /proc/kallsyms); else NULL and
 *   module_ids    count x u16 module values.  Both NULL when no symbol
 *                 has a module.
 *   module_offs   module_count x u32 offsets into module_names, which holds
 *                 every module name once, NUL-terminated, numbered in order
 *                 of first appearance among the records as they were added
 *                 (input order, as pysyms/reference.py numbers them).
 *   module_ends   module_count x u64: the end of module k's memory, 0 when
 *                 unknown; NULL when no module's end is known.  With
 *                 core_end these are the region ends of DESIGN.md
 *                 "Address lookup" (see ksym__resolve in lookup.c).
 *   sizes         count x u32, or count x u64 when sizes_len == 8 * count:
 *                 each symbol's size (ELF st_size, perf map SIZE, nm -S),
 *                 0 = unknown; NULL when no symbol has a size.  A sized
 *                 symbol covers exactly [address, address + size)
 *                 (ksym__resolve).
 *   fine          ceil(count / KSYM_FINE_STRIDE) x u32: offset in names of
 *                 the record of symbol k * KSYM_FINE_STRIDE.
 *   hash          hash_slots x (u32, u32) (NULL, hash_slots 0, in a table
 *                 read from a file: names are then found by binary search),
 *                 open addressing with linear probing over the DISTINCT
 *                 names.  First word = (fingerprint << 25) | (unique << 24)
 *                 | (pos + 1), 0 = empty, where pos is the name-order
 *                 position (in seqs_of_names) of the first, lowest-address,
 *                 symbol of that name, and unique says no other symbol has
 *                 the name; second word = the offset in names of that
 *                 symbol's record, so that checking a candidate reads the
 *                 record at once (no seqs_of_names, fine offsets or walk
 *                 first).  Query it only through ksym__find_first()
 *                 (lookup.c).
 *                 For h = ksym_hash(name): home slot =
 *                 (uint32_t)(((uint64_t)(uint32_t)h * hash_slots) >> 32),
 *                 fingerprint = h >> 57 (7 bits).  Names are inserted in name
 *                 order.  hash_slots = D + D / 4 + 1 for D distinct names (0
 *                 if D = 0).
 *   llvm_stems    llvm_stem_bits / 8 bytes (NULL, 0 bits, in a table read
 *                 from a file): a Bloom filter of the stems of the names
 *                 that hold ".llvm." (each name cut at its first ".llvm."),
 *                 bits h % m and (h >> 32) % m set for h = ksym_hash(stem),
 *                 m = llvm_stem_bits (a power of two, >= 16 per such name,
 *                 >= 64).  Lets an 'llvm' suffix query for a stem no name
 *                 has skip the range search (match.c); on a GCC kernel no
 *                 name has one, so every such query is answered at once.
 *   name_sample   ceil(count / KSYM_NAME_SAMPLE) x KSYM_SAMPLE_BYTES (16):
 *                 entry k holds the first 16 bytes of the name at name-order
 *                 position k * KSYM_NAME_SAMPLE, zero-padded, as two u64s
 *                 stored BIG-endian (bytes 0-7, then 8-15), so comparing the
 *                 pairs as integers is comparing the prefixes bytewise
 *                 (names hold no NUL, so padding sorts before any byte).
 *                 Lets a prefix search narrow its range without touching
 *                 the records (match.c).  16 bytes, not 8: kernel names
 *                 share long prefixes (__pfx___, trace_event_raw_...).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PYSYMS_TABLE_H
#define PYSYMS_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ksym.h"

struct ksym_table {
    uint32_t count;
    uint32_t module_count;
    uint32_t hash_slots;
    uint32_t addr_wide;      /* 0: u32 offsets from base; 1: u64 addresses */
    uint64_t base;           /* lowest address (0 for an empty table) */
    uint64_t core_end;       /* end of the core kernel's memory, 0 = unknown */

    const uint8_t *names;       size_t names_len;
    const uint8_t *markers;     size_t markers_len;
    const uint8_t *token_table; size_t token_table_len;
    const uint8_t *token_index; /* KSYM_TOKENS x u16 */
    const uint8_t *seqs;        size_t seqs_len;
    const uint8_t *addresses;   size_t addresses_len;
    const uint8_t *module_ids;  /* count x u16 or NULL */
    const uint8_t *module_runs; /* module_nruns x (u32, u32) or NULL */
    uint32_t module_nruns;
    const uint8_t *module_offs; /* module_count x u32 */
    const uint8_t *module_names; size_t module_names_len;
    const uint8_t *module_ends; /* module_count x u64 end of module k's memory (0 = unknown), or NULL */
    const uint8_t *sizes;       size_t sizes_len; /* count x u32 or u64, or NULL */
    const uint8_t *fine;        size_t fine_len;
    const uint8_t *hash;        /* hash_slots x u32 */
    const uint8_t *name_sample; size_t name_sample_len; /* 2 x big-endian u64 each */
    const uint8_t *llvm_stems;  uint64_t llvm_stem_bits;  /* Bloom filter, or NULL */

    void *block;                /* the one malloc block behind the arrays, or NULL */
    size_t block_size;          /* its size, or the size of the file read in place */
    void *map;                  /* a file mapping the arrays point into (file.c), or NULL */
    size_t map_len;
    const uint8_t *provenance;  /* a table file's provenance section, or NULL */
    size_t provenance_len;
    uint64_t provenance_offset; /* ... its byte offset in the file */

    /* The address index of batches (addrindex.c), built on first use and
     * published atomically; NULL until then.  Read it through
     * ksym__addr_index() / ksym__addr_index_if_built(). */
    struct ksym_addr_index *addr_index;

    /* Decoded token table (derived from token_table/token_index): offset,
     * length and the first 8 bytes (zero-padded) of every token. */
    uint16_t tok_off[KSYM_TOKENS];
    uint16_t tok_len[KSYM_TOKENS];
    uint8_t tok8[KSYM_TOKENS][8];
};

/* A hint to start loading what a loop will read a few steps on. */
#if defined(__GNUC__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)0)
#endif

/* ---- byte readers ------------------------------------------------------- */

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define KSYM_BIG_ENDIAN 1
#else
#define KSYM_BIG_ENDIAN 0
#endif

static inline uint16_t ksym_rd16(const uint8_t *p)
{
#if KSYM_BIG_ENDIAN
    return (uint16_t)(p[0] | (p[1] << 8));
#else
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
#endif
}

static inline uint32_t ksym_rd32(const uint8_t *p)
{
#if KSYM_BIG_ENDIAN
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
#else
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
#endif
}

static inline uint64_t ksym_rd64(const uint8_t *p)
{
#if KSYM_BIG_ENDIAN
    return (uint64_t)ksym_rd32(p) | ((uint64_t)ksym_rd32(p + 4) << 32);
#else
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
#endif
}

/* Big-endian u64 (name_sample entries). */
static inline uint64_t ksym_rd64be(const uint8_t *p)
{
#if KSYM_BIG_ENDIAN
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
#elif defined(__GNUC__)
    uint64_t v;
    memcpy(&v, p, 8);
    return __builtin_bswap64(v);
#else
    uint64_t v = 0;
    for (int j = 0; j < 8; j++)
        v = (v << 8) | p[j];
    return v;
#endif
}

static inline void ksym_wr64be(uint8_t *p, uint64_t v)
{
    for (int j = 7; j >= 0; j--) {
        p[j] = (uint8_t)v;
        v >>= 8;
    }
}

static inline void ksym_wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void ksym_wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline void ksym_wr64(uint8_t *p, uint64_t v)
{
    ksym_wr32(p, (uint32_t)v);
    ksym_wr32(p + 4, (uint32_t)(v >> 32));
}

/* kallsyms_seqs_of_names entry: 3 bytes, big-endian. */
static inline uint32_t ksym_rdseq(const uint8_t *p)
{
    return ((uint32_t)p[0] << 16) | ((uint32_t)p[1] << 8) | p[2];
}

/* ---- the string hash of the name index ---------------------------------- */

static inline uint64_t ksym_rotl64(uint64_t x, unsigned r)
{
    return (x << r) | (x >> (64 - r));
}

/* murmur3's 64-bit finalizer: a bijection that spreads every input bit
 * (the name hash and the table file checksum end with it). */
static inline uint64_t ksym_fmix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDull;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ull;
    h ^= h >> 33;
    return h;
}

#define KSYM_HASH_K1 0x87C37B91114253D5ull
#define KSYM_HASH_K2 0x4CF5AD432745937Full

static inline uint64_t ksym_hash_word(uint64_t h, uint64_t w)
{
    w *= KSYM_HASH_K1;
    w = ksym_rotl64(w, 31);
    w *= KSYM_HASH_K2;
    h ^= w;
    return ksym_rotl64(h, 27) * 5 + 0x52DCE729u;
}

/* 64-bit hash of a byte string: h = 0x9E3779B97F4A7C15 ^ (len * 0xC2B2AE3D27D4EB4F);
 * each full 8-byte little-endian word w, then the zero-padded tail (if any), is
 * mixed by w *= K1, w = rotl(w, 31), w *= K2, h ^= w, h = rotl(h, 27) * 5 +
 * 0x52DCE729; finally murmur3's fmix64.  All arithmetic mod 2^64. */
static inline uint64_t ksym_hash(const void *data, size_t len)
{
    const uint8_t *s = (const uint8_t *)data;
    uint64_t h = 0x9E3779B97F4A7C15ull ^ ((uint64_t)len * 0xC2B2AE3D27D4EB4Full);
    while (len >= 8) {
        h = ksym_hash_word(h, ksym_rd64(s));
        s += 8;
        len -= 8;
    }
    if (len) {
        uint64_t w = 0;
        for (size_t i = 0; i < len; i++)
            w |= (uint64_t)s[i] << (8 * i);
        h = ksym_hash_word(h, w);
    }
    return ksym_fmix64(h);
}

static inline uint32_t ksym_hash_slot(uint64_t h, uint32_t slots)
{
    return (uint32_t)(((uint64_t)(uint32_t)h * slots) >> 32);
}

/* ---- table accessors ---------------------------------------------------- */

static inline uint64_t ksym_addr_at(const struct ksym_table *t, uint32_t i)
{
    if (t->addr_wide)
        return ksym_rd64(t->addresses + (size_t)i * 8);
    return t->base + ksym_rd32(t->addresses + (size_t)i * 4);
}

/* Size of symbol i, 0 when unknown. */
static inline uint64_t ksym_size_at(const struct ksym_table *t, uint32_t i)
{
    if (!t->sizes)
        return 0;
    if (t->sizes_len == (size_t)t->count * 8)
        return ksym_rd64(t->sizes + (size_t)i * 8);
    return ksym_rd32(t->sizes + (size_t)i * 4);
}

/* Length prefix of the record at p: stores the payload length, returns the
 * prefix size (1 or 2). */
static inline unsigned ksym_rec_len(const uint8_t *p, unsigned *len)
{
    unsigned l = p[0];
    if (l & 0x80) {
        *len = (l & 0x7F) | ((unsigned)p[1] << 7);
        return 2;
    }
    *len = l;
    return 1;
}

/* Offset in names of the record of symbol i (i < count). */
static inline size_t ksym_rec_offset(const struct ksym_table *t, uint32_t i)
{
    size_t off = ksym_rd32(t->fine + (size_t)(i / KSYM_FINE_STRIDE) * 4);
    for (uint32_t k = i % KSYM_FINE_STRIDE; k; k--) {
        unsigned len, pre = ksym_rec_len(t->names + off, &len);
        off += pre + len;
    }
    return off;
}

/* May some name, cut at its first ".llvm.", be exactly q?  0 only when
 * none is (the filter has no false negatives); 1 for tables without one. */
static inline int ksym__llvm_stem_may_exist(const struct ksym_table *t, const void *q, size_t qlen)
{
    if (!t->llvm_stems)
        return 1;
    uint64_t h = ksym_hash(q, qlen), m = t->llvm_stem_bits - 1;
    uint64_t a = h & m, b = (h >> 32) & m;
    return (t->llvm_stems[a >> 3] >> (a & 7) & 1) && (t->llvm_stems[b >> 3] >> (b & 7) & 1);
}

/* ---- the address index of batches (addrindex.c) -------------------------- */

#define KSYM_CLUSTERS_MAX 8
/* Addresses [lo, lo + len) cut into nb buckets of 2^shift bytes: first[b]
 * (b <= nb) symbols of the table lie below lo + (b << shift). */
struct ksym_cluster {
    uint64_t lo, len;
    uint32_t shift, nb;
    uint32_t *first;
};
/* The top array of a two-level search: every 2^shift-th address (ntop of
 * them, at most KSYM_TOP_MAX), small enough to stay in the L1 cache. */
#define KSYM_TOP_MAX 4096
struct ksym_top {
    uint32_t ntop, shift;
    uint64_t addr[KSYM_TOP_MAX];
};
void ksym__top_fill(const struct ksym_table *t, struct ksym_top *top);

struct ksym_addr_index {
    struct ksym_top top; /* for addresses outside the clusters */
    uint32_t nclusters;
    struct ksym_cluster c[KSYM_CLUSTERS_MAX];
    uint8_t *run_start; /* bit i: symbol i starts a module run (not the first); NULL without runs */
    size_t bytes;       /* memory held, this struct included */
};

/* The table's address index, built now if it is not yet; NULL when the
 * table is empty or memory ran out (search without it then). */
const struct ksym_addr_index *ksym__addr_index(const struct ksym_table *t);
void ksym__addr_index_free(struct ksym_table *t);

static inline const struct ksym_addr_index *ksym__addr_index_if_built(const struct ksym_table *t)
{
    return __atomic_load_n(&t->addr_index, __ATOMIC_ACQUIRE);
}

/* The bucket of addr: entries [0] and [1] of the result bound the symbols
 * at or below addr (every one below [0] is, none from [1] on); NULL when
 * addr is in no indexed cluster. */
static inline const uint32_t *ksym__bucket_of(const struct ksym_addr_index *x, uint64_t addr)
{
    for (uint32_t k = 0; k < x->nclusters; k++) {
        const struct ksym_cluster *c = &x->c[k];
        uint64_t d = addr - c->lo;
        if (d < c->len)
            return c->first + (d >> c->shift);
    }
    return NULL;
}

/* Internal functions shared between the .c files. */
void ksym__decode_tokens(struct ksym_table *t);
/* Release the file mapping t reads from, if any (file.c). */
void ksym__unmap(struct ksym_table *t);

/* The name index, the one way to query it: the name-order position of the
 * first (lowest-address) symbol named exactly q, or -1 if there is none.
 * Its address-order index is ksym_rdseq(t->seqs + 3 * pos).  *unique (if
 * not NULL) says whether no other symbol has the name; when it is 0, the
 * other symbols of the name follow at positions pos + 1, pos + 2, ... */
int64_t ksym__find_first(const struct ksym_table *t, const uint8_t *q, size_t qlen, int *unique);

/* The same by binary search over seqs, for tables without a hash (match.c). */
int64_t ksym__find_first_sorted(const struct ksym_table *t, const uint8_t *q, size_t qlen,
                                int *unique);

/* Address lookups (lookup.c): the number of symbols at or below addr; and,
 * given it (ub), the answer of ksym_lookup_addr for addr: 1 with the first
 * alias's index, its address and size, or 0 when no symbol covers addr. */
uint32_t ksym__upper_bound(const struct ksym_table *t, uint64_t addr);
int ksym__resolve(const struct ksym_table *t, uint32_t ub, uint64_t addr, uint32_t *index,
                  uint64_t *address, uint64_t *size);

/* Does the symbol at address-order index idx have exactly the name q? */
int ksym__index_has_name(const struct ksym_table *t, uint32_t idx, const uint8_t *q, size_t qlen);

#endif
