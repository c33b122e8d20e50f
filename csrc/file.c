/* file.c - table files: write a finished table as one file, and open a file
 * as a table that reads it in place (docs/format.md; issue #4).
 *
 * Opening validates everything a lookup will later trust: every section
 * inside the file, every count, every record, token, marker, fine offset,
 * seq and module value.  The lookups in lookup.c and match.c do no bounds
 * checks of their own, so this file is where "no read outside the mapping,
 * whatever the file holds" is kept.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE /* mmap, fstat */
#endif
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "ksym.h"
#include "table.h"

/* ---- checksum ------------------------------------------------------------------ */

#define CK_P1 0x9E3779B97F4A7C15ull
#define CK_P2 0xC2B2AE3D27D4EB4Full

struct checksum {
    uint64_t v[4];
};

static void checksum_init(struct checksum *c)
{
    for (int j = 0; j < 4; j++)
        c->v[j] = CK_P1 * (uint64_t)(j + 1);
}

/* Mix whole 32-byte blocks of p[0..len); a last partial block is zero-padded,
 * so only the final call may pass a length that is not a multiple of 32. */
static void checksum_blocks(struct checksum *c, const uint8_t *p, size_t len)
{
    uint64_t v0 = c->v[0], v1 = c->v[1], v2 = c->v[2], v3 = c->v[3];
    size_t full = len / 32 * 32;
    for (size_t i = 0; i < full; i += 32) {
        v0 = ksym_rotl64((v0 ^ ksym_rd64(p + i)) * CK_P2, 31);
        v1 = ksym_rotl64((v1 ^ ksym_rd64(p + i + 8)) * CK_P2, 31);
        v2 = ksym_rotl64((v2 ^ ksym_rd64(p + i + 16)) * CK_P2, 31);
        v3 = ksym_rotl64((v3 ^ ksym_rd64(p + i + 24)) * CK_P2, 31);
    }
    if (len > full) {
        uint8_t last[32] = {0};
        memcpy(last, p + full, len - full);
        v0 = ksym_rotl64((v0 ^ ksym_rd64(last)) * CK_P2, 31);
        v1 = ksym_rotl64((v1 ^ ksym_rd64(last + 8)) * CK_P2, 31);
        v2 = ksym_rotl64((v2 ^ ksym_rd64(last + 16)) * CK_P2, 31);
        v3 = ksym_rotl64((v3 ^ ksym_rd64(last + 24)) * CK_P2, 31);
    }
    c->v[0] = v0, c->v[1] = v1, c->v[2] = v2, c->v[3] = v3;
}

static uint64_t checksum_final(const struct checksum *c, uint64_t len)
{
    uint64_t h = len * CK_P1;
    for (int j = 0; j < 4; j++)
        h = ksym_rotl64(h ^ c->v[j], 27) * CK_P1;
    return ksym_fmix64(h);
}

uint64_t ksym_checksum64(const uint8_t *data, size_t len)
{
    struct checksum c;
    checksum_init(&c);
    checksum_blocks(&c, data, data ? len : 0);
    return checksum_final(&c, data ? len : 0);
}

/* The checksum of a whole file: its bytes with the checksum field read as 0.
 * The header is 64 bytes, two whole blocks, so it can be mixed separately. */
static uint64_t file_checksum(const uint8_t *data, size_t len)
{
    uint8_t head[KSYM_FILE_HEADER_SIZE];
    memcpy(head, data, KSYM_FILE_HEADER_SIZE);
    memset(head + KSYM_FILE_CHECKSUM_OFFSET, 0, 8);
    struct checksum c;
    checksum_init(&c);
    checksum_blocks(&c, head, KSYM_FILE_HEADER_SIZE);
    checksum_blocks(&c, data + KSYM_FILE_HEADER_SIZE, len - KSYM_FILE_HEADER_SIZE);
    return checksum_final(&c, len);
}

/* ---- the sections of a table ------------------------------------------------- */

struct section {
    const uint8_t *data;
    size_t len;
    int present;
    uint64_t offset; /* in the file (load) */
};

static const char *const section_names[KSYM_SEC_MAX + 1] = {
    [KSYM_SEC_NAMES] = "names",
    [KSYM_SEC_MARKERS] = "markers",
    [KSYM_SEC_TOKEN_TABLE] = "token_table",
    [KSYM_SEC_TOKEN_INDEX] = "token_index",
    [KSYM_SEC_SEQS] = "seqs",
    [KSYM_SEC_ADDRESSES] = "addresses",
    [KSYM_SEC_MODULE_RUNS] = "module_runs",
    [KSYM_SEC_MODULE_IDS] = "module_ids",
    [KSYM_SEC_MODULE_OFFSETS] = "module_offsets",
    [KSYM_SEC_MODULE_NAMES] = "module_names",
    [KSYM_SEC_FINE] = "fine",
    [KSYM_SEC_NAME_SAMPLE] = "name_sample",
    [KSYM_SEC_PROVENANCE] = "provenance",
    [KSYM_SEC_MODULE_ENDS] = "module_ends",
    [KSYM_SEC_SIZES] = "sizes",
};

/* The sections a table writes, in id order (absent ones not present). */
static void table_sections(const struct ksym_table *t, const void *prov, size_t plen,
                           struct section s[KSYM_SEC_MAX + 1])
{
    memset(s, 0, sizeof(struct section) * (KSYM_SEC_MAX + 1));
#define SET(id, p, l) (s[id].data = (p), s[id].len = (l), s[id].present = 1)
    SET(KSYM_SEC_NAMES, t->names, t->names_len);
    SET(KSYM_SEC_MARKERS, t->markers, t->markers_len);
    SET(KSYM_SEC_TOKEN_TABLE, t->token_table, t->token_table_len);
    SET(KSYM_SEC_TOKEN_INDEX, t->token_index, (size_t)KSYM_TOKENS * 2);
    SET(KSYM_SEC_SEQS, t->seqs, t->seqs_len);
    SET(KSYM_SEC_ADDRESSES, t->addresses, t->addresses_len);
    if (t->module_count) {
        if (t->module_runs)
            SET(KSYM_SEC_MODULE_RUNS, t->module_runs, (size_t)t->module_nruns * 8);
        else
            SET(KSYM_SEC_MODULE_IDS, t->module_ids, (size_t)t->count * 2);
        SET(KSYM_SEC_MODULE_OFFSETS, t->module_offs, (size_t)t->module_count * 4);
        SET(KSYM_SEC_MODULE_NAMES, t->module_names, t->module_names_len);
        if (t->module_ends)
            SET(KSYM_SEC_MODULE_ENDS, t->module_ends, (size_t)t->module_count * 8);
    }
    if (t->sizes)
        SET(KSYM_SEC_SIZES, t->sizes, t->sizes_len);
    SET(KSYM_SEC_FINE, t->fine, t->fine_len);
    SET(KSYM_SEC_NAME_SAMPLE, t->name_sample, t->name_sample_len);
    SET(KSYM_SEC_PROVENANCE, (const uint8_t *)prov, plen);
#undef SET
}

static size_t align8(size_t v)
{
    return (v + (KSYM_FILE_ALIGN - 1)) & ~(size_t)(KSYM_FILE_ALIGN - 1);
}

/* Offsets of the sections in the written file; returns the file size. */
static size_t layout(const struct section s[KSYM_SEC_MAX + 1], uint64_t offs[KSYM_SEC_MAX + 1],
                     uint32_t *nsec)
{
    uint32_t n = 0;
    for (int id = 1; id <= KSYM_SEC_MAX; id++)
        n += (uint32_t)s[id].present;
    size_t o = KSYM_FILE_HEADER_SIZE + (size_t)n * KSYM_FILE_ENTRY_SIZE, end = o;
    for (int id = 1; id <= KSYM_SEC_MAX; id++) {
        if (!s[id].present)
            continue;
        o = align8(o);
        offs[id] = o;
        o += s[id].len;
        end = o;
    }
    *nsec = n;
    return end;
}

size_t ksym_file_size(const struct ksym_table *t, size_t plen)
{
    if (!t)
        return 0;
    struct section s[KSYM_SEC_MAX + 1];
    uint64_t offs[KSYM_SEC_MAX + 1];
    uint32_t n;
    table_sections(t, NULL, plen, s);
    return layout(s, offs, &n);
}

int64_t ksym_file_write(const struct ksym_table *t, const void *provenance, size_t plen,
                        uint8_t *buf, size_t buflen)
{
    if (!t || !buf || (plen && !provenance) || plen > KSYM_FILE_MAX_PROVENANCE)
        return KSYM_EINVAL;
    struct section s[KSYM_SEC_MAX + 1];
    uint64_t offs[KSYM_SEC_MAX + 1];
    uint32_t nsec;
    table_sections(t, provenance, plen, s);
    size_t size = layout(s, offs, &nsec);
    if (buflen < size)
        return KSYM_ENOSPC;
    memset(buf, 0, size);
    ksym_wr64(buf, KSYM_FILE_MAGIC);
    ksym_wr32(buf + 8, KSYM_FILE_VERSION);
    ksym_wr32(buf + 12, KSYM_FILE_BYTE_ORDER);
    ksym_wr32(buf + 16, (t->addr_wide ? KSYM_FILE_FLAG_ADDR_WIDE : 0) |
                            (t->core_end ? KSYM_FILE_FLAG_HAS_END : 0));
    ksym_wr32(buf + 20, t->count);
    ksym_wr32(buf + 24, t->module_count);
    ksym_wr32(buf + 28, nsec);
    ksym_wr64(buf + 32, t->addr_wide ? 0 : t->base);
    ksym_wr64(buf + 40, t->core_end);
    ksym_wr64(buf + 48, size);
    uint8_t *e = buf + KSYM_FILE_HEADER_SIZE;
    for (int id = 1; id <= KSYM_SEC_MAX; id++) {
        if (!s[id].present)
            continue;
        ksym_wr32(e, (uint32_t)id);
        ksym_wr64(e + 8, offs[id]);
        ksym_wr64(e + 16, s[id].len);
        e += KSYM_FILE_ENTRY_SIZE;
        if (s[id].len)
            memcpy(buf + offs[id], s[id].data, s[id].len);
    }
    ksym_wr64(buf + KSYM_FILE_CHECKSUM_OFFSET, file_checksum(buf, size));
    return (int64_t)size;
}

/* ---- validation --------------------------------------------------------------- */

struct loader {
    const uint8_t *data;
    size_t len;
    char *msg;
    size_t msglen;
    uint64_t *where;
    struct section sec[KSYM_SEC_MAX + 1];
    uint32_t count, module_count, flags;
    uint64_t base, end_address;
};

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int corrupt(struct loader *L, uint64_t where, const char *fmt, ...)
{
    if (L->msg && L->msglen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(L->msg, L->msglen, fmt, ap);
        va_end(ap);
    }
    if (L->where)
        *L->where = where;
    return KSYM_ECORRUPT;
}

#define NOWHERE UINT64_MAX

static uint64_t ceil_div(uint64_t a, uint64_t b)
{
    return (a + b - 1) / b;
}

/* 1. the header */
static int check_header(struct loader *L)
{
    const uint8_t *d = L->data;
    if (L->len < KSYM_FILE_HEADER_SIZE)
        return corrupt(L, NOWHERE, "file is %zu bytes, shorter than the %d-byte header",
                       L->len, KSYM_FILE_HEADER_SIZE);
    if (ksym_rd64(d) != KSYM_FILE_MAGIC)
        return corrupt(L, 0, "not a pysyms table file (bad magic)");
    uint32_t version = ksym_rd32(d + 8);
    if (version != KSYM_FILE_VERSION)
        return corrupt(L, 8, "format version %u, this pysyms reads version %d", version,
                       KSYM_FILE_VERSION);
    uint32_t bom = ksym_rd32(d + 12);
    if (bom != KSYM_FILE_BYTE_ORDER)
        return corrupt(L, 12, "byte order mark 0x%08x, expected 0x%08x (little-endian)", bom,
                       KSYM_FILE_BYTE_ORDER);
    L->flags = ksym_rd32(d + 16);
    if (L->flags & ~(KSYM_FILE_FLAG_ADDR_WIDE | KSYM_FILE_FLAG_HAS_END))
        return corrupt(L, 16, "unknown flags 0x%x", L->flags);
    L->count = ksym_rd32(d + 20);
    if (L->count > KSYM_MAX_SYMBOLS)
        return corrupt(L, 20, "symbol count %u exceeds %d", L->count, KSYM_MAX_SYMBOLS);
    L->module_count = ksym_rd32(d + 24);
    if (L->module_count > KSYM_MAX_MODULES)
        return corrupt(L, 24, "module count %u exceeds %d", L->module_count, KSYM_MAX_MODULES);
    L->base = ksym_rd64(d + 32);
    if ((L->flags & KSYM_FILE_FLAG_ADDR_WIDE) && L->base)
        return corrupt(L, 32, "base is not 0 in a file with 64-bit addresses");
    L->end_address = ksym_rd64(d + 40);
    if (!(L->flags & KSYM_FILE_FLAG_HAS_END) && L->end_address)
        return corrupt(L, 40, "end_address set without the HAS_END flag");
    uint64_t size = ksym_rd64(d + 48);
    if (size != L->len)
        return corrupt(L, 48, "header says the file is %llu bytes, it is %zu (truncated or "
                       "extended)", (unsigned long long)size, L->len);
    return KSYM_OK;
}

/* 2. the directory */
static int check_directory(struct loader *L)
{
    const uint8_t *d = L->data;
    uint32_t nsec = ksym_rd32(d + 28);
    if (nsec > KSYM_FILE_MAX_SECTIONS)
        return corrupt(L, 28, "section count %u exceeds %d", nsec, KSYM_FILE_MAX_SECTIONS);
    uint64_t dir_end = KSYM_FILE_HEADER_SIZE + (uint64_t)nsec * KSYM_FILE_ENTRY_SIZE;
    if (dir_end > L->len)
        return corrupt(L, KSYM_FILE_HEADER_SIZE, "directory of %u sections runs past the end "
                       "of the file", nsec);
    /* entries by offset, to find overlaps (at most 32: insertion sort) */
    uint32_t order[KSYM_FILE_MAX_SECTIONS], nonempty = 0;
    for (uint32_t k = 0; k < nsec; k++) {
        const uint8_t *e = d + KSYM_FILE_HEADER_SIZE + (size_t)k * KSYM_FILE_ENTRY_SIZE;
        uint64_t at = KSYM_FILE_HEADER_SIZE + (uint64_t)k * KSYM_FILE_ENTRY_SIZE;
        uint32_t id = ksym_rd32(e);
        uint64_t off = ksym_rd64(e + 8), len = ksym_rd64(e + 16);
        if (id < 1 || id > KSYM_SEC_MAX)
            return corrupt(L, at, "directory entry %u: unknown section id %u", k, id);
        const char *nm = section_names[id];
        if (ksym_rd32(e + 4))
            return corrupt(L, at + 4, "directory entry %u (%s): reserved field is not 0", k, nm);
        if (L->sec[id].present)
            return corrupt(L, at, "section %s (id %u) appears twice in the directory", nm, id);
        if (off % KSYM_FILE_ALIGN)
            return corrupt(L, at + 8, "section %s (id %u) at byte %llu is not %d-byte aligned",
                           nm, id, (unsigned long long)off, KSYM_FILE_ALIGN);
        if (off < dir_end || off > L->len || len > L->len - off)
            return corrupt(L, at + 8, "section %s (id %u) at byte %llu, %llu bytes long, lies "
                           "outside the file's data (bytes %llu to %zu)", nm, id,
                           (unsigned long long)off, (unsigned long long)len,
                           (unsigned long long)dir_end, L->len);
        L->sec[id].present = 1;
        L->sec[id].data = d + off;
        L->sec[id].len = (size_t)len;
        L->sec[id].offset = off;
        if (len == 0)
            continue; /* holds no byte, so overlaps nothing */
        uint32_t j = nonempty++;
        while (j > 0 && L->sec[order[j - 1]].offset > off) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = id;
    }
    for (uint32_t k = 1; k < nonempty; k++) {
        const struct section *a = &L->sec[order[k - 1]], *b = &L->sec[order[k]];
        if (a->offset + a->len > b->offset)
            return corrupt(L, b->offset, "sections %s and %s overlap at byte %llu",
                           section_names[order[k - 1]], section_names[order[k]],
                           (unsigned long long)b->offset);
    }
    return KSYM_OK;
}

/* 3. the checksum */
static int check_checksum(struct loader *L)
{
    uint64_t want = ksym_rd64(L->data + KSYM_FILE_CHECKSUM_OFFSET);
    uint64_t got = file_checksum(L->data, L->len);
    if (want != got)
        return corrupt(L, KSYM_FILE_CHECKSUM_OFFSET, "checksum mismatch (file says %016llx, "
                       "contents give %016llx): the file was changed or damaged",
                       (unsigned long long)want, (unsigned long long)got);
    return KSYM_OK;
}

static int need(struct loader *L, int id)
{
    if (!L->sec[id].present)
        return corrupt(L, NOWHERE, "required section %s (id %d) is missing", section_names[id],
                       id);
    return KSYM_OK;
}

static int need_len(struct loader *L, int id, uint64_t want)
{
    const struct section *s = &L->sec[id];
    if (s->len != want)
        return corrupt(L, s->offset, "section %s (id %d) is %zu bytes, expected %llu",
                       section_names[id], id, s->len, (unsigned long long)want);
    return KSYM_OK;
}

/* 4. lengths and presence */
static int check_lengths(struct loader *L)
{
    static const int required[] = {KSYM_SEC_NAMES, KSYM_SEC_MARKERS, KSYM_SEC_TOKEN_TABLE,
                                   KSYM_SEC_TOKEN_INDEX, KSYM_SEC_SEQS, KSYM_SEC_ADDRESSES,
                                   KSYM_SEC_FINE, KSYM_SEC_NAME_SAMPLE};
    int rc;
    for (size_t k = 0; k < sizeof required / sizeof required[0]; k++)
        if ((rc = need(L, required[k])))
            return rc;
    uint64_t n = L->count;
    int wide = (L->flags & KSYM_FILE_FLAG_ADDR_WIDE) != 0;
    if ((rc = need_len(L, KSYM_SEC_MARKERS, 4 * ceil_div(n, KSYM_MARKER_STRIDE))) ||
        (rc = need_len(L, KSYM_SEC_TOKEN_INDEX, 2 * KSYM_TOKENS)) ||
        (rc = need_len(L, KSYM_SEC_SEQS, KSYM_SEQ_BYTES * n)) ||
        (rc = need_len(L, KSYM_SEC_ADDRESSES, (wide ? 8 : 4) * n)) ||
        (rc = need_len(L, KSYM_SEC_FINE, 4 * ceil_div(n, KSYM_FINE_STRIDE))) ||
        (rc = need_len(L, KSYM_SEC_NAME_SAMPLE, KSYM_SAMPLE_BYTES * ceil_div(n, KSYM_NAME_SAMPLE))))
        return rc;
    if (L->sec[KSYM_SEC_TOKEN_TABLE].len == 0)
        return corrupt(L, L->sec[KSYM_SEC_TOKEN_TABLE].offset, "section token_table (id %d) "
                       "is empty", KSYM_SEC_TOKEN_TABLE);
    const struct section *runs = &L->sec[KSYM_SEC_MODULE_RUNS], *ids = &L->sec[KSYM_SEC_MODULE_IDS];
    if (L->module_count) {
        if ((rc = need(L, KSYM_SEC_MODULE_OFFSETS)) || (rc = need(L, KSYM_SEC_MODULE_NAMES)) ||
            (rc = need_len(L, KSYM_SEC_MODULE_OFFSETS, 4 * (uint64_t)L->module_count)))
            return rc;
        if (runs->present == ids->present)
            return corrupt(L, NOWHERE, "a table with modules needs exactly one of the sections "
                           "module_runs (id %d) and module_ids (id %d)", KSYM_SEC_MODULE_RUNS,
                           KSYM_SEC_MODULE_IDS);
        if (ids->present && (rc = need_len(L, KSYM_SEC_MODULE_IDS, 2 * n)))
            return rc;
        if (L->sec[KSYM_SEC_MODULE_ENDS].present &&
            (rc = need_len(L, KSYM_SEC_MODULE_ENDS, 8 * (uint64_t)L->module_count)))
            return rc;
        if (runs->present && (runs->len == 0 || runs->len % 8 || runs->len / 8 > n))
            return corrupt(L, runs->offset, "section module_runs (id %d) is %zu bytes, not 8 "
                           "bytes for each of 1 to %llu runs", KSYM_SEC_MODULE_RUNS, runs->len,
                           (unsigned long long)n);
    } else {
        static const int module_sections[] = {KSYM_SEC_MODULE_RUNS, KSYM_SEC_MODULE_IDS,
                                              KSYM_SEC_MODULE_OFFSETS, KSYM_SEC_MODULE_NAMES,
                                              KSYM_SEC_MODULE_ENDS};
        for (size_t k = 0; k < sizeof module_sections / sizeof module_sections[0]; k++) {
            int id = module_sections[k];
            if (L->sec[id].present)
                return corrupt(L, L->sec[id].offset, "section %s (id %d) in a table without "
                               "modules", section_names[id], id);
        }
    }
    const struct section *prov = &L->sec[KSYM_SEC_PROVENANCE];
    if (prov->present && prov->len > KSYM_FILE_MAX_PROVENANCE)
        return corrupt(L, prov->offset, "section provenance (id %d) is %zu bytes, more than %d",
                       KSYM_SEC_PROVENANCE, prov->len, KSYM_FILE_MAX_PROVENANCE);
    const struct section *sizes = &L->sec[KSYM_SEC_SIZES];
    if (sizes->present && (n == 0 || (sizes->len != 4 * n && sizes->len != 8 * n)))
        return corrupt(L, sizes->offset, "section sizes (id %d) is %zu bytes, not 4 or 8 for "
                       "each of 1 or more symbols (%llu)", KSYM_SEC_SIZES, sizes->len,
                       (unsigned long long)n);
    return KSYM_OK;
}

/* 5. tokens: every one inside token_table, NUL-terminated there, short
 * enough that expanding any valid-length record stays within the buffers
 * lookup.c and match.c size for a name. */
static int check_tokens(struct loader *L)
{
    const struct section *tt = &L->sec[KSYM_SEC_TOKEN_TABLE], *ti = &L->sec[KSYM_SEC_TOKEN_INDEX];
    for (int c = 0; c < KSYM_TOKENS; c++) {
        size_t off = ksym_rd16(ti->data + c * 2);
        uint64_t at = ti->offset + (uint64_t)c * 2;
        if (off >= tt->len)
            return corrupt(L, at, "section token_index (id %d): token %d at offset %zu lies "
                           "past the token table (%zu bytes)", KSYM_SEC_TOKEN_INDEX, c, off,
                           tt->len);
        const uint8_t *z = memchr(tt->data + off, 0, tt->len - off);
        if (!z)
            return corrupt(L, at, "section token_index (id %d): token %d at offset %zu has no "
                           "terminating NUL in the token table", KSYM_SEC_TOKEN_INDEX, c, off);
        if ((size_t)(z - (tt->data + off)) > KSYM_NAME_MAX + 1)
            return corrupt(L, tt->offset + off, "section token_table (id %d): token %d is "
                           "longer than %d bytes", KSYM_SEC_TOKEN_TABLE, c, KSYM_NAME_MAX + 1);
    }
    return KSYM_OK;
}

/* 6. names: n records inside the section, each with at least one code, and
 * the markers and fine offsets of every 256th and 16th. */
static int check_names(struct loader *L)
{
    const struct section *nm = &L->sec[KSYM_SEC_NAMES], *mk = &L->sec[KSYM_SEC_MARKERS],
                         *fi = &L->sec[KSYM_SEC_FINE];
    const struct section *tt = &L->sec[KSYM_SEC_TOKEN_TABLE], *ti = &L->sec[KSYM_SEC_TOKEN_INDEX];
    uint16_t tok_len[KSYM_TOKENS]; /* check_tokens() made these safe to compute */
    for (int c = 0; c < KSYM_TOKENS; c++) {
        size_t o = ksym_rd16(ti->data + c * 2);
        tok_len[c] = (uint16_t)((const uint8_t *)memchr(tt->data + o, 0, tt->len - o) - (tt->data + o));
    }
    size_t off = 0;
    for (uint32_t i = 0; i < L->count; i++) {
        if (i % KSYM_MARKER_STRIDE == 0) {
            size_t k = i / KSYM_MARKER_STRIDE;
            if (ksym_rd32(mk->data + k * 4) != off)
                return corrupt(L, mk->offset + k * 4, "section markers (id %d): marker %zu is "
                               "%u, record %u starts at %zu", KSYM_SEC_MARKERS, k,
                               ksym_rd32(mk->data + k * 4), i, off);
        }
        if (i % KSYM_FINE_STRIDE == 0) {
            size_t k = i / KSYM_FINE_STRIDE;
            if (ksym_rd32(fi->data + k * 4) != off)
                return corrupt(L, fi->offset + k * 4, "section fine (id %d): entry %zu is %u, "
                               "record %u starts at %zu", KSYM_SEC_FINE, k,
                               ksym_rd32(fi->data + k * 4), i, off);
        }
        uint64_t at = nm->offset + off;
        if (off >= nm->len)
            return corrupt(L, at, "section names (id %d): record %u starts past the end of the "
                           "section", KSYM_SEC_NAMES, i);
        size_t pre = 1, len = nm->data[off];
        if (len & 0x80) {
            if (off + 1 >= nm->len)
                return corrupt(L, at, "section names (id %d): record %u's 2-byte length runs "
                               "past the end of the section", KSYM_SEC_NAMES, i);
            len = (len & 0x7F) | ((size_t)nm->data[off + 1] << 7);
            pre = 2;
        }
        if (len == 0)
            return corrupt(L, at, "section names (id %d): record %u is empty", KSYM_SEC_NAMES, i);
        if (len > nm->len - off - pre)
            return corrupt(L, at, "section names (id %d): record %u (%zu codes) runs past the "
                           "end of the section", KSYM_SEC_NAMES, i, len);
        if (!tok_len[nm->data[off + pre]])
            return corrupt(L, at, "section names (id %d): record %u's first code expands to "
                           "nothing (no type letter)", KSYM_SEC_NAMES, i);
        off += pre + len;
    }
    if (off != nm->len)
        return corrupt(L, nm->offset + off, "section names (id %d): %zu bytes follow the last "
                       "of the %u records", KSYM_SEC_NAMES, nm->len - off, L->count);
    if (off > UINT32_MAX)
        return corrupt(L, nm->offset, "section names (id %d) is longer than 4 GiB",
                       KSYM_SEC_NAMES);
    return KSYM_OK;
}

/* 7. seqs_of_names: every entry a symbol index */
static int check_seqs(struct loader *L)
{
    const struct section *s = &L->sec[KSYM_SEC_SEQS];
    for (uint32_t p = 0; p < L->count; p++) {
        uint32_t v = ksym_rdseq(s->data + (size_t)p * KSYM_SEQ_BYTES);
        if (v >= L->count)
            return corrupt(L, s->offset + (uint64_t)p * KSYM_SEQ_BYTES, "section seqs (id %d): "
                           "entry %u is %u, not below the symbol count %u", KSYM_SEC_SEQS, p, v,
                           L->count);
    }
    return KSYM_OK;
}

/* 8. addresses: sorted, and base + offset never wraps */
static int check_addresses(struct loader *L)
{
    const struct section *s = &L->sec[KSYM_SEC_ADDRESSES];
    int wide = (L->flags & KSYM_FILE_FLAG_ADDR_WIDE) != 0;
    uint64_t prev = 0, last = 0;
    for (uint32_t i = 0; i < L->count; i++) {
        uint64_t a = wide ? ksym_rd64(s->data + (size_t)i * 8) : ksym_rd32(s->data + (size_t)i * 4);
        if (i && a < prev)
            return corrupt(L, s->offset + (uint64_t)i * (wide ? 8 : 4), "section addresses (id "
                           "%d): entry %u is below entry %u", KSYM_SEC_ADDRESSES, i, i - 1);
        prev = a;
    }
    if (L->count) {
        if (!wide && prev > UINT64_MAX - L->base)
            return corrupt(L, 32, "base 0x%llx plus the last offset 0x%llx exceeds 64 bits",
                           (unsigned long long)L->base, (unsigned long long)prev);
        last = wide ? prev : L->base + prev;
    }
    (void)last;
    if ((L->flags & KSYM_FILE_FLAG_HAS_END) && L->end_address == 0)
        return corrupt(L, 40, "HAS_END flag with an end_address of 0");
    return KSYM_OK;
}

/* 9. modules */
static int check_modules(struct loader *L)
{
    if (!L->module_count)
        return KSYM_OK;
    const struct section *runs = &L->sec[KSYM_SEC_MODULE_RUNS], *ids = &L->sec[KSYM_SEC_MODULE_IDS],
                         *offs = &L->sec[KSYM_SEC_MODULE_OFFSETS],
                         *names = &L->sec[KSYM_SEC_MODULE_NAMES];
    if (runs->present) {
        uint32_t nr = (uint32_t)(runs->len / 8);
        for (uint32_t r = 0; r < nr; r++) {
            uint32_t first = ksym_rd32(runs->data + (size_t)r * 8);
            uint32_t value = ksym_rd32(runs->data + (size_t)r * 8 + 4);
            uint64_t at = runs->offset + (uint64_t)r * 8;
            if (r == 0 ? first != 0
                       : first <= ksym_rd32(runs->data + (size_t)(r - 1) * 8) || first >= L->count)
                return corrupt(L, at, "section module_runs (id %d): run %u starts at symbol %u "
                               "(runs start at 0, increase and stay below %u)",
                               KSYM_SEC_MODULE_RUNS, r, first, L->count);
            if (value > L->module_count)
                return corrupt(L, at + 4, "section module_runs (id %d): run %u has module value "
                               "%u, above the module count %u", KSYM_SEC_MODULE_RUNS, r, value,
                               L->module_count);
        }
    } else {
        for (uint32_t i = 0; i < L->count; i++) {
            uint32_t value = ksym_rd16(ids->data + (size_t)i * 2);
            if (value > L->module_count)
                return corrupt(L, ids->offset + (uint64_t)i * 2, "section module_ids (id %d): "
                               "symbol %u has module value %u, above the module count %u",
                               KSYM_SEC_MODULE_IDS, i, value, L->module_count);
        }
    }
    for (uint32_t m = 0; m < L->module_count; m++) {
        size_t off = ksym_rd32(offs->data + (size_t)m * 4);
        uint64_t at = offs->offset + (uint64_t)m * 4;
        if (off >= names->len)
            return corrupt(L, at, "section module_offsets (id %d): module %u's name at offset "
                           "%zu lies past module_names (%zu bytes)", KSYM_SEC_MODULE_OFFSETS, m,
                           off, names->len);
        const uint8_t *z = memchr(names->data + off, 0, names->len - off);
        size_t len = z ? (size_t)(z - (names->data + off)) : 0;
        if (!z || len == 0 || len > KSYM_MODULE_NAME_MAX)
            return corrupt(L, names->offset + off, "section module_names (id %d): module %u's "
                           "name is not 1 to %d bytes ending in a NUL", KSYM_SEC_MODULE_NAMES, m,
                           KSYM_MODULE_NAME_MAX);
    }
    return KSYM_OK;
}

/* The table reading the validated sections in place. */
static struct ksym_table *make_table(const struct loader *L)
{
    struct ksym_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    const struct section *s = L->sec;
    t->count = L->count;
    t->module_count = L->module_count;
    t->addr_wide = (L->flags & KSYM_FILE_FLAG_ADDR_WIDE) != 0;
    t->base = L->base;
    t->core_end = L->end_address;
    t->names = s[KSYM_SEC_NAMES].data;
    t->names_len = s[KSYM_SEC_NAMES].len;
    t->markers = s[KSYM_SEC_MARKERS].data;
    t->markers_len = s[KSYM_SEC_MARKERS].len;
    t->token_table = s[KSYM_SEC_TOKEN_TABLE].data;
    t->token_table_len = s[KSYM_SEC_TOKEN_TABLE].len;
    t->token_index = s[KSYM_SEC_TOKEN_INDEX].data;
    t->seqs = s[KSYM_SEC_SEQS].data;
    t->seqs_len = s[KSYM_SEC_SEQS].len;
    t->addresses = s[KSYM_SEC_ADDRESSES].data;
    t->addresses_len = s[KSYM_SEC_ADDRESSES].len;
    if (L->module_count) {
        if (s[KSYM_SEC_MODULE_RUNS].present) {
            t->module_runs = s[KSYM_SEC_MODULE_RUNS].data;
            t->module_nruns = (uint32_t)(s[KSYM_SEC_MODULE_RUNS].len / 8);
        } else {
            t->module_ids = s[KSYM_SEC_MODULE_IDS].data;
        }
        t->module_offs = s[KSYM_SEC_MODULE_OFFSETS].data;
        t->module_names = s[KSYM_SEC_MODULE_NAMES].data;
        t->module_names_len = s[KSYM_SEC_MODULE_NAMES].len;
        if (s[KSYM_SEC_MODULE_ENDS].present)
            t->module_ends = s[KSYM_SEC_MODULE_ENDS].data;
    }
    if (s[KSYM_SEC_SIZES].present) {
        t->sizes = s[KSYM_SEC_SIZES].data;
        t->sizes_len = s[KSYM_SEC_SIZES].len;
    }
    t->fine = s[KSYM_SEC_FINE].data;
    t->fine_len = s[KSYM_SEC_FINE].len;
    t->name_sample = s[KSYM_SEC_NAME_SAMPLE].data;
    t->name_sample_len = s[KSYM_SEC_NAME_SAMPLE].len;
    t->hash = NULL; /* files carry no name hash: names are found by binary search */
    t->hash_slots = 0;
    if (s[KSYM_SEC_PROVENANCE].present) {
        t->provenance = s[KSYM_SEC_PROVENANCE].data;
        t->provenance_len = s[KSYM_SEC_PROVENANCE].len;
        t->provenance_offset = s[KSYM_SEC_PROVENANCE].offset;
    }
    t->block_size = L->len;
    ksym__decode_tokens(t);
    return t;
}

int ksym_file_load(const uint8_t *data, size_t len, struct ksym_table **out, char *msg,
                   size_t msglen, uint64_t *where)
{
    if (msg && msglen)
        msg[0] = 0;
    if (where)
        *where = NOWHERE;
    if (!out || (!data && len))
        return KSYM_EINVAL;
    *out = NULL;
    struct loader L;
    memset(&L, 0, sizeof L);
    L.data = data;
    L.len = len;
    L.msg = msg;
    L.msglen = msglen;
    L.where = where;
    int rc;
    if ((rc = check_header(&L)) || (rc = check_directory(&L)) || (rc = check_checksum(&L)) ||
        (rc = check_lengths(&L)) || (rc = check_tokens(&L)) || (rc = check_names(&L)) ||
        (rc = check_seqs(&L)) || (rc = check_addresses(&L)) || (rc = check_modules(&L)))
        return rc;
    struct ksym_table *t = make_table(&L);
    if (!t)
        return KSYM_ENOMEM;
    *out = t;
    return KSYM_OK;
}

int ksym_file_map(int fd, struct ksym_table **out, char *msg, size_t msglen, uint64_t *where)
{
    if (msg && msglen)
        msg[0] = 0;
    if (where)
        *where = NOWHERE;
    if (!out)
        return KSYM_EINVAL;
    *out = NULL;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        if (msg && msglen)
            snprintf(msg, msglen, "fstat: %s", strerror(errno));
        return KSYM_EIO;
    }
    if (!S_ISREG(st.st_mode)) {
        if (msg && msglen)
            snprintf(msg, msglen, "not a regular file");
        return KSYM_EIO;
    }
    size_t len = (size_t)st.st_size;
    if (len == 0)
        return ksym_file_load((const uint8_t *)"", 0, out, msg, msglen, where);
    void *map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
        if (msg && msglen)
            snprintf(msg, msglen, "mmap: %s", strerror(errno));
        return KSYM_EIO;
    }
    int rc = ksym_file_load(map, len, out, msg, msglen, where);
    if (rc) {
        munmap(map, len);
        return rc;
    }
    (*out)->map = map;
    (*out)->map_len = len;
    return KSYM_OK;
}

void ksym__unmap(struct ksym_table *t)
{
    if (t && t->map) {
        munmap(t->map, t->map_len);
        t->map = NULL;
    }
}

const uint8_t *ksym_file_provenance(const struct ksym_table *t, size_t *len, uint64_t *offset)
{
    if (len)
        *len = t && t->provenance ? t->provenance_len : 0;
    if (offset)
        *offset = t && t->provenance ? t->provenance_offset : 0;
    return t ? t->provenance : NULL;
}
