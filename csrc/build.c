/* build.c - the builder: records, validation, kernel order, and the
 * arrays of a finished table (the token compression is compress.c).
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

/* The name side of finish runs on a second thread where POSIX threads
 * exist (build with -pthread); -DKSYM_NO_THREADS keeps it on one. */
#if !defined(KSYM_NO_THREADS) && (defined(__unix__) || defined(__APPLE__))
#define KSYM_THREADS 1
#include <pthread.h>
#endif

#include "builder.h"
#include "compress.h"
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
    case KSYM_ECORRUPT: return "corrupt table file";
    case KSYM_EIO: return "input/output error";
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

/* About the bytes of b's big blocks and of the compression's input c (or
 * NULL): what giving them back costs. */
static size_t leftover_bytes(const struct ksym_builder *b, const struct ksym_comp *c)
{
    size_t bytes = b->bank.cap + b->recs_cap * sizeof *b->recs + b->names_cap;
    if (c)
        bytes += sizeof *c + c->buf_cap + c->start_cap * sizeof *c->start;
    return bytes;
}

void ksym_builder_free(struct ksym_builder *b)
{
    if (!b)
        return;
    struct ksym_leftovers left = {{b->recs, b->names, b->sizes, NULL}, b->comp, b->bank};
    size_t left_bytes = leftover_bytes(b, b->comp);
    free(b->mods);
    free(b->modv);
    free(b->mod_hash);
    free(b->region_end);
    free(b);
    ksym__release(&left, left_bytes);
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

int ksym__grow(void **p, size_t *cap, size_t need, size_t sz)
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
        ksym__grow((void **)&b->recs, &b->recs_cap, b->nrecs + more_recs, sizeof *b->recs);
    if (b->names_len + more_name_bytes > b->names_len)
        ksym__grow((void **)&b->names, &b->names_cap, b->names_len + more_name_bytes, 1);
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
    if (b->comp && b->comp->n > b->nrecs) { /* prepared dropped records */
        ksym__comp_free(b->comp);
        b->comp = NULL;
    }
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
        if (s[i] == ' ' && b->allow_spaces)
            continue;
        if (is_space(s[i]))
            return ksym__error(b, KSYM_EBADNAME, 0, rec, "name contains whitespace at byte %zu", i);
    }
    return 0;
}

void ksym_builder_allow_spaces(struct ksym_builder *b, int allow)
{
    if (b)
        b->allow_spaces = allow != 0;
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

/* The module value (id + 1) of a module name already interned, or 0. */
static uint32_t mod_find(const struct ksym_builder *b, const char *s, size_t len)
{
    if (!b->mod_hash_slots)
        return 0;
    size_t mask = b->mod_hash_slots - 1;
    for (size_t i = (size_t)ksym_hash(s, len) & mask; b->mod_hash[i]; i = (i + 1) & mask) {
        const struct ksym_mod *m = &b->modv[b->mod_hash[i] - 1];
        if (m->len == len && memcmp(b->mods + m->off, s, len) == 0)
            return b->mod_hash[i];
    }
    return 0;
}

int ksym_builder_set_region_end(struct ksym_builder *b, const char *module, size_t module_len,
                                uint64_t end)
{
    if (!b || (module_len && !module))
        return KSYM_EINVAL;
    if (end == 0)
        return ksym__error(b, KSYM_EINVAL, 0, -1, "a region end of 0");
    uint32_t value = 0;
    if (module && module_len && !(value = mod_find(b, module, module_len)))
        return ksym__error(b, KSYM_EINVAL, 0, -1, "module '%.*s' has no symbols",
                           (int)(module_len > 64 ? 64 : module_len), module);
    size_t old = b->region_end_cap;
    if (ksym__grow((void **)&b->region_end, &b->region_end_cap, (size_t)value + 1,
                   sizeof *b->region_end))
        return ksym__error(b, KSYM_ENOMEM, 0, -1, "out of memory");
    if (b->region_end_cap > old)
        memset(b->region_end + old, 0, (b->region_end_cap - old) * sizeof *b->region_end);
    b->region_end[value] = end;
    return KSYM_OK;
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
    if (ksym__grow((void **)&b->modv, &b->nmods_cap, b->nmods + 1, sizeof *b->modv) ||
        ksym__grow((void **)&b->mods, &b->mods_cap, b->mods_len + len, 1) ||
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

int ksym__add(struct ksym_builder *b, uint64_t address, uint64_t size, unsigned char type,
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
    return ksym__add_valid(b, address, size, type, name, name_len, module, module_len);
}

/* Record the size of record b->nrecs (about to be added): the sizes array
 * appears with the first nonzero size, zeros for the records before it. */
static int note_size(struct ksym_builder *b, uint64_t size)
{
    if (!b->sizes && !size)
        return 0;
    size_t old = b->sizes ? b->sizes_cap : 0;
    if (ksym__grow((void **)&b->sizes, &b->sizes_cap, b->nrecs + 1, sizeof *b->sizes))
        return -1;
    if (b->sizes_cap > old)
        memset(b->sizes + old, 0, (b->sizes_cap - old) * sizeof *b->sizes);
    b->sizes[b->nrecs] = size;
    return 0;
}

int ksym__add_valid(struct ksym_builder *b, uint64_t address, uint64_t size, unsigned char type,
                    const char *name, size_t name_len, const char *module, size_t module_len)
{
    int err;
    if (b->nrecs >= KSYM_MAX_SYMBOLS)
        return ksym__error(b, KSYM_ETOOMANY, 0, (int64_t)b->nrecs, "more than %d symbols",
                           KSYM_MAX_SYMBOLS);
    if (ksym__grow((void **)&b->recs, &b->recs_cap, b->nrecs + 1, sizeof *b->recs) ||
        ksym__grow((void **)&b->names, &b->names_cap, b->names_len + name_len, 1) ||
        note_size(b, size))
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
    return ksym_builder_add_sized(b, address, 0, type, name, name_len, module, module_len);
}

int ksym_builder_add_sized(struct ksym_builder *b, uint64_t address, uint64_t size, char type,
                           const char *name, size_t name_len,
                           const char *module, size_t module_len)
{
    if (!b)
        return KSYM_EINVAL;
    if ((!name && name_len) || (!module && module_len))
        return ksym__error(b, KSYM_EINVAL, 0, (int64_t)b->nrecs, "NULL pointer with a length");
    return ksym__add(b, address, size, (unsigned char)type, name, name_len, module, module_len);
}

/* The next of the NUL-separated strings in [*p, end): its start and length;
 * *p moves past it and its separator.  -1 when none is left. */
static int next_field(const char **p, const char *end, const char **s, size_t *len)
{
    if (!*p)
        return -1;
    const char *nul = memchr(*p, '\0', (size_t)(end - *p));
    *s = *p;
    *len = (size_t)((nul ? nul : end) - *p);
    *p = nul ? nul + 1 : NULL; /* NULL: that was the last */
    return 0;
}

int ksym_builder_add_many(struct ksym_builder *b, size_t n, const uint64_t *addresses,
                          const char *types, const char *names, size_t names_len,
                          const char *modules, size_t modules_len, size_t *done)
{
    if (done)
        *done = 0;
    if (!b || !done)
        return KSYM_EINVAL;
    if (n && (!addresses || !types || !names))
        return ksym__error(b, KSYM_EINVAL, 0, (int64_t)b->nrecs, "NULL pointer with a length");
    ksym__reserve(b, n, names_len);
    const char *np = names, *mp = modules;
    for (size_t i = 0; i < n; i++) {
        const char *name, *module = NULL;
        size_t name_len, module_len = 0;
        if (next_field(&np, names + names_len, &name, &name_len) ||
            (modules && next_field(&mp, modules + modules_len, &module, &module_len)))
            return ksym__error(b, KSYM_EINVAL, 0, (int64_t)b->nrecs,
                               "fewer names or modules than records");
        int err = ksym__add(b, addresses[i], 0, (unsigned char)types[i], name, name_len, module,
                            module_len);
        if (err)
            return err;
        *done = i + 1;
    }
    return KSYM_OK;
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

/* ---- progress ----------------------------------------------------------------- */

unsigned ksym_builder_progress(const struct ksym_builder *b)
{
    return b ? __atomic_load_n(&b->progress, __ATOMIC_RELAXED) : 0;
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
    if (d + 8 <= len)
        return ksym_rd64be(s + d);
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

/* Stable merge sort of it[] by key; tmp has n entries.  For groups too
 * small to repay a radix sort's 8 x 256 counters (and for any group when
 * those cannot be allocated). */
static void merge_sort_keys(struct nitem *it, struct nitem *tmp, size_t n)
{
    if (n <= 16) {
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
    size_t h = n / 2;
    merge_sort_keys(it, tmp, h);
    merge_sort_keys(it + h, tmp + h, n - h);
    if (it[h - 1].key <= it[h].key)
        return; /* already in order */
    memcpy(tmp, it, h * sizeof *it);
    size_t a = 0, b = h, o = 0;
    while (a < h && b < n)
        it[o++] = it[b].key < tmp[a].key ? it[b++] : tmp[a++];
    while (a < h)
        it[o++] = tmp[a++];
}

/* Stable LSD radix sort of it[] by key; tmp has n entries. */
static void radix_sort_keys(struct nitem *it, struct nitem *tmp, size_t n)
{
    size_t (*cnt)[256] = calloc(8, sizeof *cnt);
    if (!cnt) { /* no room for the counters: the same order another way */
        merge_sort_keys(it, tmp, n);
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

/* Groups up to this size are sorted by merge sort, larger by radix sort. */
#define MERGE_SORT_MAX 512

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
    if (n <= MERGE_SORT_MAX)
        merge_sort_keys(it, tmp, n);
    else
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
    free(b->sizes);
    b->sizes = NULL;
    b->sizes_cap = 0;
    if (b->region_end)
        memset(b->region_end, 0, b->region_end_cap * sizeof *b->region_end);
    if (b->mod_hash)
        memset(b->mod_hash, 0, b->mod_hash_slots * sizeof *b->mod_hash);
}

static int names_equal(const struct nsrc *src, uint32_t x, uint32_t y)
{
    return src->len[x] == src->len[y] && memcmp(src->ptr[x], src->ptr[y], src->len[x]) == 0;
}

/* The name side of a table: kernel order, name order (seqs_of_names) and
 * the name index.  Independent of the compression (which keeps records in
 * the order they came), so it runs on a second thread.  The caller
 * allocates the n-entry arrays; the builder's records are only read. */
struct name_job {
    size_t n;
    const struct ksym_builder *b;
    struct skey *keys, *ktmp; /* out: keys in kernel order (ktmp: scratch) */
    uint32_t *perm;           /* out: table index -> record */
    struct nsrc src;          /* out: the names in table order, */
    uint16_t *nlen;           /* src.len, writable */
    struct nitem *items, *itmp; /* the name sort's (n each); items may be
                                 * ktmp, itmp then holds slot_idx */
    uint64_t *hv;    /* n name hashes */
    uint8_t *seqs;   /* out: n x 3 bytes, big-endian */
    uint8_t *hash;   /* out: slots x u32, the first words of the table's slots;
                      * room for n + n / 4 + 1 */
    uint32_t *slot_idx; /* out: per filled slot, its symbol's table index */
    uint8_t *sample; /* out: ceil(n / KSYM_NAME_SAMPLE) x KSYM_SAMPLE_BYTES */
    uint32_t slots;
    uint8_t *stems;      /* out: the .llvm. stems' Bloom filter (table.h) */
    uint64_t stem_bits;
    int err;
    /* Once the job is done, its thread helps with the compression rounds
     * (compress.h) until they end; NULL: it just ends. */
    struct ksym_helper *helper;
};

/* Kernel order (keys, perm) and the names in table order (src). */
static void order_records(struct name_job *j)
{
    const struct ksym_builder *b = j->b;
    const size_t n = j->n;
    for (size_t i = 0; i < n; i++) {
        j->keys[i].addr = b->recs[i].addr;
        j->keys[i].key = order_key(b, (uint32_t)i);
    }
    sort_kernel_order(j->keys, j->ktmp, n);
    for (size_t i = 0; i < n; i++) {
        uint32_t r = (uint32_t)(j->keys[i].key & 0xFFFFFF);
        j->perm[i] = r;
        j->src.ptr[i] = (const uint8_t *)b->names + b->recs[r].name_off;
        j->nlen[i] = b->recs[r].name_len;
    }
}

/* The Bloom filter of the stems of the names that hold ".llvm." (each cut
 * at its first), 16+ bits per such name; 0 or -1 (out of memory). */
static int llvm_stems(struct name_job *j)
{
    const struct nsrc *src = &j->src;
    size_t nllvm = 0;
    for (size_t i = 0; i < j->n; i++)
        nllvm += ksym_strip_llvm((const char *)src->ptr[i], src->len[i]) < src->len[i];
    uint64_t bits = 64;
    while (bits < 16 * (uint64_t)nllvm)
        bits <<= 1;
    j->stem_bits = bits;
    j->stems = calloc(1, (size_t)(bits / 8));
    if (!j->stems)
        return -1;
    for (size_t i = 0; nllvm && i < j->n; i++) {
        size_t cut = ksym_strip_llvm((const char *)src->ptr[i], src->len[i]);
        if (cut == src->len[i])
            continue;
        uint64_t h = ksym_hash(src->ptr[i], cut), a = h & (bits - 1), c = (h >> 32) & (bits - 1);
        j->stems[a >> 3] |= (uint8_t)(1u << (a & 7));
        j->stems[c >> 3] |= (uint8_t)(1u << (c & 7));
    }
    return 0;
}

static void *name_job_run(void *arg)
{
    struct name_job *j = arg;
    const size_t n = j->n;
    const struct nsrc *src = &j->src;
    order_records(j);
    struct nitem *items = j->items, *itmp = j->itmp;
    uint64_t *hv = j->hv;
    size_t nsamp = (n + KSYM_NAME_SAMPLE - 1) / KSYM_NAME_SAMPLE;
    j->sample = malloc(nsamp ? nsamp * KSYM_SAMPLE_BYTES : 1);
    j->err = -1;
    if (!j->sample)
        return NULL;
    /* Hashes first, in table order: the names are then read about in the
     * order they lie in memory, not in name order. */
    for (size_t i = 0; i < n; i++) {
        items[i].idx = (uint32_t)i;
        items[i].pad = 0;
        hv[i] = ksym_hash(src->ptr[i], src->len[i]);
    }
    sort_names(items, itmp, n, 0, src);
    /* Distinct names in name order: each run of equal names gets one slot
     * holding the position of its first entry. */
    uint32_t *first = (uint32_t *)(void *)itmp; /* itmp is free now */
    size_t nd = 0;
    uint64_t prev = 0;
    for (size_t p = 0; p < n; p++) {
        uint32_t x = items[p].idx;
        /* hv is read in name order, at random: ask for it early. */
        if (p + 16 < n)
            PREFETCH(&hv[items[p + 16].idx]);
        uint64_t hx = hv[x];
        /* The sort is done with the keys: they hold the hashes from here on,
         * in name order, for the index below to read in sequence. */
        items[p].key = hx;
        uint8_t *q = j->seqs + p * 3;
        q[0] = (uint8_t)(x >> 16);
        q[1] = (uint8_t)(x >> 8);
        q[2] = (uint8_t)x;
        if (p % KSYM_NAME_SAMPLE == 0) {
            uint8_t *e = j->sample + (p / KSYM_NAME_SAMPLE) * KSYM_SAMPLE_BYTES;
            ksym_wr64be(e, name_key(src->ptr[x], src->len[x], 0));
            ksym_wr64be(e + 8, name_key(src->ptr[x], src->len[x], 8));
        }
        /* Different hashes settle most neighbours without reading names. */
        if (p == 0 || prev != hx || !names_equal(src, items[p - 1].idx, x))
            first[nd++] = (uint32_t)p;
        prev = hx;
    }
    uint32_t slots = nd ? (uint32_t)(nd + nd / 4 + 1) : 0;
    j->slots = slots;
    uint32_t *h = (uint32_t *)(void *)j->hash;
    memset(h, 0, (size_t)slots * sizeof *h);
    /* Per slot its symbol's index, in itmp after first: itmp holds
     * 4 max(n, 1) words, first nd <= n, slots <= n + n / 4 + 1. */
    uint32_t *slot_idx = (uint32_t *)(void *)itmp + n;
    for (size_t k = 0; k < nd; k++) {
        uint32_t pos = first[k];
        uint32_t next = k + 1 < nd ? first[k + 1] : (uint32_t)n;
        uint64_t hk = items[pos].key;
        if (k + 8 < nd) /* the slots are visited at random */
            PREFETCH(&h[ksym_hash_slot(items[first[k + 8]].key, slots)]);
        uint32_t v = ((uint32_t)(hk >> 57) << 25) | ((uint32_t)(next - pos == 1) << 24) |
                     (pos + 1);
        uint32_t sl = ksym_hash_slot(hk, slots);
        while (h[sl])
            if (++sl == slots)
                sl = 0;
        h[sl] = v;
        slot_idx[sl] = items[pos].idx;
    }
#if KSYM_BIG_ENDIAN
    for (uint32_t k = 0; k < slots; k++)
        ksym_wr32((uint8_t *)&h[k], h[k]);
#endif
    j->slot_idx = slot_idx;
    if (llvm_stems(j))
        return NULL;
    j->err = 0;
    return NULL;
}

#ifdef KSYM_THREADS
static void *name_thread(void *arg)
{
    struct name_job *j = arg;
    name_job_run(j);
    if (j->helper)
        ksym__helper_serve(j->helper);
    return NULL;
}
#endif

#ifdef KSYM_THREADS
/* Pages to fault in on a second thread. */
struct populate_job {
    uint8_t *p;
    size_t bytes;
};

static void *populate_thread(void *arg)
{
    struct populate_job *pj = arg;
    (void)ksym__populate(pj->p, pj->bytes);
    return NULL;
}
#endif

/* Finish's arrays, taken from the builder's bank in this order: the bank
 * is faulted in from its start, and recoff is written when only one thread
 * is left. */
enum {
    ARR_RECOFF,
    ARR_KEYS,
    ARR_KTMP, /* the kernel-order sort's scratch, then the name sort's items */
    ARR_PERM,
    ARR_NPTR,
    ARR_NLEN,
    ARR_ITMP,
    ARR_HV,
    ARR_SEQS,
    ARR_HASH,
    NARRAYS
};

static size_t array_bytes(int a, size_t n)
{
    switch (a) {
    case ARR_KEYS:
        return n * sizeof(struct skey);
    case ARR_KTMP:
        return n * (sizeof(struct skey) > sizeof(struct nitem) ? sizeof(struct skey)
                                                               : sizeof(struct nitem));
    case ARR_PERM:
    case ARR_RECOFF:
        return n * sizeof(uint32_t);
    case ARR_NPTR:
        return n * sizeof(const uint8_t *);
    case ARR_NLEN:
        return n * sizeof(uint16_t);
    case ARR_ITMP:
        return n * sizeof(struct nitem);
    case ARR_HV:
        return n * sizeof(uint64_t);
    case ARR_SEQS:
        return n * KSYM_SEQ_BYTES;
    default: /* ARR_HASH: slots for at most n distinct names */
        return (n + n / 4 + 1) * sizeof(uint32_t);
    }
}

size_t ksym__finish_bank_bytes(size_t n)
{
    size_t sum = ksym__comp_bank_bytes(n);
    for (int a = 0; a < NARRAYS; a++)
        sum += array_bytes(a, n) + 64; /* 64: alignment */
    return sum;
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
    uint32_t *perm = NULL;
    struct ksym_comp *c = NULL;
    const uint8_t **nptr = NULL;
    uint16_t *nlen = NULL;
    struct ksym_table *t = NULL;
    uint8_t *blk = NULL;
    uint32_t *recoff = NULL; /* per symbol: its record's offset in names */
    void *arr[NARRAYS] = {NULL};
    struct name_job job;
    memset(&job, 0, sizeof job);
    int threaded = 0;
#ifdef KSYM_THREADS
    pthread_t thr;
#endif

    set_progress(&b->progress, 0);
    PROF_START;
    /* 1. Modules keep the builder's numbering: order of first appearance
     * among the records added. */
    uint32_t nmods = (uint32_t)b->nmods;
    size_t modnames_len = 0;
    for (size_t m = 0; m < b->nmods; m++)
        modnames_len += b->modv[m].len + 1;
    int any_module = nmods > 0;

    /* 2. Kernel order, the names in table order, name order and the name
     * index, on a second thread when there is enough work, while this one
     * compresses (which needs none of them). */
    /* The bank may have been faulted in while the records were read; a
     * bank too small for all only means malloc for the rest. */
    (void)ksym__bank_reserve(&b->bank, ksym__finish_bank_bytes(n));
    for (int a = 0; a < NARRAYS; a++)
        if (!(arr[a] = ksym__bank_alloc(&b->bank, array_bytes(a, n))))
            goto fail;
    keys = arr[ARR_KEYS];
    ktmp = arr[ARR_KTMP];
    perm = arr[ARR_PERM];
    nptr = arr[ARR_NPTR];
    nlen = arr[ARR_NLEN];
    recoff = arr[ARR_RECOFF];
    job.n = n;
    job.b = b;
    job.keys = keys;
    job.ktmp = ktmp;
    job.perm = perm;
    job.src.ptr = nptr;
    job.src.len = job.nlen = nlen;
    job.items = arr[ARR_KTMP]; /* order_records is done with ktmp by then */
    job.itmp = arr[ARR_ITMP];
    job.hv = arr[ARR_HV];
    job.seqs = arr[ARR_SEQS];
    job.hash = arr[ARR_HASH];
    PROF("setup");
    set_progress(&b->progress, PROGRESS_SETUP);
#ifdef KSYM_THREADS
    if (n >= 4096) {
        job.helper = ksym__helper_new();
        if (pthread_create(&thr, NULL, name_thread, &job) == 0)
            threaded = 1;
    }
#endif

    /* 3. Compression: the records not prepared yet, then the rounds, which
     * rewrite the strings in place (a copy of them: the builder's names,
     * which the other thread reads, stay). */
    err = ksym__comp_prepare(b, 0);
    if (err == KSYM_E2BIG) {
        ksym__error(b, err, 0, -1, "symbol names exceed 4 GiB in total");
        goto fail_msg;
    }
    if (err)
        goto fail;
    err = KSYM_ENOMEM;
    c = b->comp;
    b->comp = NULL;
    PROF("prepare");
    if (ksym__compress(c, threaded ? job.helper : NULL, &b->bank, &b->progress))
        goto fail;
    ksym__helper_stop(job.helper);
    ksym__comp_drop_lists(c);

    /* Join the name side. */
    if (threaded) {
#ifdef KSYM_THREADS
        pthread_join(thr, NULL);
#endif
        threaded = 0;
    } else {
        name_job_run(&job);
    }
    PROF("names(wait)");
    set_progress(&b->progress, PROGRESS_NAMES);
    if (job.err)
        goto fail;

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
    PROF("compress");
    set_progress(&b->progress, PROGRESS_ROUNDS);
    if (tt_len > 65535) {
        err = ksym__error(b, KSYM_E2BIG, 0, -1,
                          "token table is %zu bytes, more than 65535", tt_len);
        goto fail_msg;
    }

    /* Module membership: maximal runs of equal module values in table
     * order, or one u16 per symbol when runs would not be smaller. */
    size_t nruns = 0;
    if (any_module) {
        for (size_t i = 0; i < n; i++)
            if (i == 0 || b->recs[perm[i]].module != b->recs[perm[i - 1]].module)
                nruns++;
    }
    int mod_as_runs = any_module && nruns <= n / 8;

    /* 4. Layout of the one block. */
    size_t names_len = 0;
    for (size_t i = 0; i < n; i++) {
        size_t L;
        ksym__comp_codes(c, perm[i], &L);
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
    size_t o_modids = align_up(o_seqs + n * KSYM_SEQ_BYTES, 4);
    size_t modids_len = !any_module ? 0 : mod_as_runs ? nruns * 8 : n * 2;
    size_t o_modoffs = align_up(o_modids + modids_len, 4);
    size_t o_modnames = o_modoffs + (size_t)nmods * 4;
    int any_module_end = 0;
    for (size_t v = 1; v <= nmods && v < b->region_end_cap; v++)
        any_module_end |= b->region_end[v] != 0;
    size_t o_modends = align_up(o_modnames + modnames_len, 8);
    size_t modends_len = any_module_end ? (size_t)nmods * 8 : 0;
    /* Sizes: only when some record has one; u32 unless one needs more. */
    int any_size = 0, sizes_wide = 0;
    for (size_t i = 0; b->sizes && i < n; i++) {
        any_size |= b->sizes[i] != 0;
        sizes_wide |= b->sizes[i] > UINT32_MAX;
    }
    size_t o_sizes = align_up(o_modends + modends_len, 8);
    size_t sizes_len = any_size ? n * (sizes_wide ? 8 : 4) : 0;
    size_t nsamp = (n + KSYM_NAME_SAMPLE - 1) / KSYM_NAME_SAMPLE;
    size_t o_fine = align_up(o_sizes + sizes_len, 4);
    size_t o_sample = align_up(o_fine + nfine * 4, 8);
    size_t o_hash = o_sample + nsamp * KSYM_SAMPLE_BYTES;
    /* The hash size depends on the distinct names: known after the join,
     * so the block is allocated then. */

    t = calloc(1, sizeof *t);
    if (!t)
        goto fail;

    uint32_t slots = job.slots;
    uint64_t stem_bits = job.stem_bits;
    size_t o_stems = align_up(o_hash + (size_t)slots * 8, 8);
    size_t total_size = align_up(o_stems + (size_t)(stem_bits / 8), 8);
    blk = calloc(1, total_size ? total_size : 8);
    if (!blk)
        goto fail;
#ifdef KSYM_THREADS
    /* While this thread writes the names, a second one faults in the pages
     * after them (about 500 of 120k symbols' 940): they are written last,
     * alone. */
    struct populate_job pj = {blk + o_addr, total_size - o_addr};
    pthread_t pthr;
    int populating = n >= 4096 && pthread_create(&pthr, NULL, populate_thread, &pj) == 0;
#endif

    /* names, markers, fine offsets */
    {
        size_t o = 0;
        for (size_t i = 0; i < n; i++) {
            if (i % KSYM_MARKER_STRIDE == 0)
                ksym_wr32(blk + o_markers + (i / KSYM_MARKER_STRIDE) * 4, (uint32_t)o);
            if (i % KSYM_FINE_STRIDE == 0)
                ksym_wr32(blk + o_fine + (i / KSYM_FINE_STRIDE) * 4, (uint32_t)o);
            size_t L;
            const uint8_t *x = ksym__comp_codes(c, perm[i], &L);
            recoff[i] = (uint32_t)o;
            if (L > KSYM_LEN_1BYTE_MAX) {
                blk[o++] = (uint8_t)((L & 0x7F) | 0x80);
                blk[o++] = (uint8_t)(L >> 7);
            } else {
                blk[o++] = (uint8_t)L;
            }
            memcpy(blk + o, x, L);
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
    memcpy(blk + o_seqs, job.seqs, n * KSYM_SEQ_BYTES);
    /* modules */
    if (any_module) {
        if (mod_as_runs) {
            size_t r = 0;
            for (size_t i = 0; i < n; i++) {
                uint32_t m = b->recs[perm[i]].module;
                if (i == 0 || m != b->recs[perm[i - 1]].module) {
                    ksym_wr32(blk + o_modids + r * 8, (uint32_t)i);
                    ksym_wr32(blk + o_modids + r * 8 + 4, m);
                    r++;
                }
            }
        } else {
            for (size_t i = 0; i < n; i++)
                ksym_wr16(blk + o_modids + i * 2, (uint16_t)b->recs[perm[i]].module);
        }
        size_t o = 0;
        for (uint32_t id = 0; id < nmods; id++) {
            const struct ksym_mod *m = &b->modv[id];
            ksym_wr32(blk + o_modoffs + (size_t)id * 4, (uint32_t)o);
            memcpy(blk + o_modnames + o, b->mods + m->off, m->len);
            o += m->len;
            blk[o_modnames + o++] = 0;
        }
    }
    /* region ends */
    for (size_t v = 1; any_module_end && v <= nmods; v++)
        ksym_wr64(blk + o_modends + (v - 1) * 8, v < b->region_end_cap ? b->region_end[v] : 0);
    /* sizes, in table order */
    for (size_t i = 0; any_size && i < n; i++) {
        uint64_t size = b->sizes[perm[i]];
        if (sizes_wide)
            ksym_wr64(blk + o_sizes + i * 8, size);
        else
            ksym_wr32(blk + o_sizes + i * 4, (uint32_t)size);
    }
    /* the name sample and the name hash */
    memcpy(blk + o_sample, job.sample, nsamp * KSYM_SAMPLE_BYTES);
    /* name hash: each slot's word, and the record offset of its symbol */
    for (size_t k = 0; k < slots; k++) {
        uint32_t v = ksym_rd32(job.hash + k * 4);
        if (!v)
            continue;
        ksym_wr32(blk + o_hash + k * 8, v);
        ksym_wr32(blk + o_hash + k * 8 + 4, recoff[job.slot_idx[k]]);
    }
    memcpy(blk + o_stems, job.stems, (size_t)(stem_bits / 8));

#ifdef KSYM_THREADS
    if (populating)
        pthread_join(pthr, NULL);
#endif
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
    t->module_ids = any_module && !mod_as_runs ? blk + o_modids : NULL;
    t->module_runs = mod_as_runs ? blk + o_modids : NULL;
    t->module_nruns = mod_as_runs ? (uint32_t)nruns : 0;
    t->module_offs = blk + o_modoffs;
    t->module_names = blk + o_modnames;
    t->module_names_len = modnames_len;
    t->module_ends = any_module_end ? blk + o_modends : NULL;
    t->core_end = b->region_end_cap ? b->region_end[0] : 0;
    t->sizes = any_size ? blk + o_sizes : NULL;
    t->sizes_len = sizes_len;
    t->fine = blk + o_fine;
    t->fine_len = nfine * 4;
    t->hash = blk + o_hash;
    t->llvm_stems = blk + o_stems;
    t->llvm_stem_bits = stem_bits;
    t->name_sample = blk + o_sample;
    t->name_sample_len = nsamp * KSYM_SAMPLE_BYTES;
    t->block = blk;
    t->block_size = total_size;
    ksym__decode_tokens(t);
    *out = t;
    t = NULL;
    blk = NULL;
    /* The rest is memory to give back, which the caller need not wait for:
     * the arrays taken from malloc now, the bank and the big blocks later. */
    for (int a = 0; a < NARRAYS; a++) {
        ksym__bank_release(&b->bank, arr[a]);
        arr[a] = NULL;
    }
    c->bank = NULL;
    struct ksym_leftovers left = {{b->recs, b->names, job.stems, job.sample}, c, b->bank};
    size_t left_bytes = leftover_bytes(b, c);
    c = NULL;
    job.stems = NULL;
    job.sample = NULL;
    b->recs = NULL;
    b->recs_cap = 0;
    b->names = NULL;
    b->names_cap = 0;
    memset(&b->bank, 0, sizeof b->bank);
    ksym__release(&left, left_bytes);
    builder_reset(b);
    set_progress(&b->progress, KSYM_PROGRESS_DONE);
    err = KSYM_OK;
    goto done;

fail:
    ksym__error(b, err, 0, -1, "out of memory");
fail_msg:
done:
    ksym__helper_stop(job.helper);
    if (threaded) {
#ifdef KSYM_THREADS
        pthread_join(thr, NULL);
#endif
    }
    ksym__helper_free(job.helper);
    free(job.stems);
    free(job.sample);
    ksym__comp_free(c); /* its lists may lie in the bank */
    for (int a = 0; a < NARRAYS; a++)
        ksym__bank_release(&b->bank, arr[a]);
    ksym__bank_free(&b->bank);
    free(t);
    free(blk);
    return err;
}
