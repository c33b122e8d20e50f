/* kimage.c - find and decode the kernel's own kallsyms tables in a kernel
 * image (issue #5).
 *
 * scripts/kallsyms.c emits, into .rodata, these arrays (docs: the research
 * note "kernel-kallsyms.md", sections 1.x and 5):
 *
 *   kallsyms_num_syms       count of symbols (u32; pointer-sized before 4.20)
 *   kallsyms_names          per symbol a length prefix (1 byte, or 2 bytes for
 *                           lengths > 127 since 6.1) and that many token codes
 *   kallsyms_markers        offset in names of every 256th record (u32;
 *                           pointer-sized before 4.20)
 *   kallsyms_token_table    256 NUL-terminated token texts in code order
 *   kallsyms_token_index    256 u16: offset of each token text
 *   kallsyms_addresses /    the addresses in one of five encodings
 *   kallsyms_offsets (+ kallsyms_relative_base)
 *   kallsyms_seqs_of_names  3-byte big-endian address-order indexes in name
 *                           order (6.2+)
 *
 * in one of three label orders (<= 6.3, 6.4 .. 6.19, 7.0+), every label
 * aligned to 8 (64-bit before 7.0) or 4 bytes, integers in the target's
 * byte order.
 *
 * The search, in this order (the first candidate that passes every check
 * wins; the pure-Python reference pysyms/kimage.py makes the same choices):
 *
 *  1. token table: every run of the tokens "0".."9" (digits always occur in
 *     kernel symbols, so their codes 0x30..0x39 hold them literally); walk
 *     the tokens 0x3a..0xff after it, read a token index right after the
 *     table (aligned), derive the table's start from the index entry of
 *     "0" and check that all 256 offsets agree with the texts.  With a hint
 *     the table starts at the hinted offset.
 *  2. markers: right before the token table (padding only), or, for 6.2 and
 *     6.3 (and 6.1.y backports), before seqs_of_names which sits between
 *     the markers and the token table: an aligned run of entries rising
 *     from 0 in steps of one 256-record chunk (512 .. 256 * 514 bytes).
 *  3. names and num_syms: names start at an aligned offset right after
 *     num_syms, whose value needs exactly that many markers; walking that
 *     many records must meet every marker and end where the markers begin
 *     (after padding); every record must expand to a printable type letter
 *     and a name of 1 .. 511 bytes without whitespace.
 *  4. addresses (and seqs_of_names): at the places the era gives, in each
 *     encoding; the decoded addresses must be sorted (and not all equal);
 *     seqs_of_names must be a permutation of 0 .. n-1.  Its order (full
 *     names, or the Clang LTO orders of 6.2 .. 6.10) is reported.
 *
 * Every read goes through a bounds-checked accessor: no input makes this
 * read outside data[0..len).
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksym.h"

#define KI_TEXT_MAX (1 + KSYM_NAME_MAX)                            /* type letter + name */
#define KI_CHUNK_MIN (KSYM_MARKER_STRIDE * 2)                      /* 256 records of >= 2 bytes */
#define KI_CHUNK_MAX ((uint64_t)KSYM_MARKER_STRIDE * (2 + KI_TEXT_MAX)) /* 256 records of <= 514 bytes */
#define KI_MAX_MARKERS ((KSYM_MAX_SYMBOLS + KSYM_MARKER_STRIDE - 1) / KSYM_MARKER_STRIDE)
#define KI_INDEX_BYTES (KSYM_TOKENS * 2)

/* Failure stages: the message of the deepest one reached is reported. */
enum { ST_NONE, ST_TOKENS, ST_INDEX, ST_MARKERS, ST_NAMES, ST_ADDRESSES };
enum { PLACE_ANY, PLACE_NONE, PLACE_ONLY };

struct ki {
    const uint8_t *d;
    uint64_t n;
    uint64_t base; /* vaddr of d[0] modulo 8, for alignment */
    const struct ksym_kimage_hints *h;
    int big;
    uint32_t word, align;
    int place; /* PLACE_ANY, PLACE_NONE (no place-relative reading), PLACE_ONLY */
    int stage;
    char *msg;
    size_t msglen;
    uint8_t *types; /* type letter per symbol of the names candidate being checked */
    uint32_t types_cap;
    struct ksym_kimage_layout *out; /* filled by the candidate that passes */
    uint64_t budget; /* steps left for the scans for seqs_of_names (bounds the work on any input) */
};

struct ki_tokens {
    uint64_t start, end, index;
    uint32_t off[KSYM_TOKENS];
    uint16_t len[KSYM_TOKENS];
    uint8_t first[KSYM_TOKENS];   /* first character (the type when a record starts with it) */
    uint8_t ws_any[KSYM_TOKENS];  /* some character is whitespace */
    uint8_t ws_tail[KSYM_TOKENS]; /* some character after the first is whitespace */
};

/* ---- helpers ------------------------------------------------------------ */

static void fail(struct ki *k, int stage, const char *fmt, ...)
{
    if (stage <= k->stage)
        return;
    k->stage = stage;
    if (k->msg && k->msglen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(k->msg, k->msglen, fmt, ap);
        va_end(ap);
    }
}

/* The size-byte integer at pos in the image's byte order; 0 when it does not fit. */
static int rd(const struct ki *k, uint64_t pos, unsigned size, uint64_t *v)
{
    if (pos > k->n || size > k->n - pos)
        return 0;
    const uint8_t *p = k->d + pos;
    uint64_t x = 0;
    if (k->big) {
        for (unsigned i = 0; i < size; i++)
            x = (x << 8) | p[i];
    } else {
        for (unsigned i = size; i-- > 0;)
            x = (x << 8) | p[i];
    }
    *v = x;
    return 1;
}

static uint64_t rd_or_max(const struct ki *k, uint64_t pos, unsigned size)
{
    uint64_t v;
    return rd(k, pos, size, &v) ? v : UINT64_MAX;
}

static int is_aligned(const struct ki *k, uint64_t pos, uint32_t a)
{
    return (k->base + pos) % a == 0;
}

/* pos rounded up to the alignment; UINT64_MAX past the image. */
static uint64_t align_up(const struct ki *k, uint64_t pos, uint32_t a)
{
    uint64_t r = (k->base + pos) % a;
    if (r == 0)
        return pos;
    if (pos > k->n)
        return UINT64_MAX;
    return pos + (a - r);
}

/* Bytes [from, to) are inside the image and all zero (alignment padding). */
static int zeros(const struct ki *k, uint64_t from, uint64_t to)
{
    if (from > to || to > k->n)
        return 0;
    for (uint64_t i = from; i < to; i++)
        if (k->d[i])
            return 0;
    return 1;
}

static int is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int hint_ok(const struct ki *k, int array, uint64_t pos)
{
    return k->h->offsets[array] == KSYM_KA_ABSENT || k->h->offsets[array] == pos;
}

/* ---- 1. token table and index ------------------------------------------- */

/* Walk the 256 token texts from start; 0 when one is longer than
 * KSYM_KIMAGE_TOKEN_MAX, runs off the image, or the table outgrows u16 offsets. */
static int token_walk(const struct ki *k, uint64_t start, struct ki_tokens *t)
{
    uint64_t pos = start;
    for (int c = 0; c < KSYM_TOKENS; c++) {
        if (pos - start > 0xFFFF)
            return 0;
        uint64_t avail = pos < k->n ? k->n - pos : 0;
        uint64_t lim = avail < KSYM_KIMAGE_TOKEN_MAX + 1 ? avail : KSYM_KIMAGE_TOKEN_MAX + 1;
        const uint8_t *p = lim ? memchr(k->d + pos, 0, (size_t)lim) : NULL;
        if (!p)
            return 0;
        uint64_t len = (uint64_t)(p - (k->d + pos));
        t->off[c] = (uint32_t)(pos - start);
        t->len[c] = (uint16_t)len;
        t->first[c] = len ? k->d[pos] : 0;
        t->ws_any[c] = t->ws_tail[c] = 0;
        for (uint64_t i = 0; i < len; i++) {
            if (is_space(k->d[pos + i])) {
                t->ws_any[c] = 1;
                if (i)
                    t->ws_tail[c] = 1;
            }
        }
        pos += len + 1;
    }
    t->start = start;
    t->end = pos;
    return 1;
}

/* The token index right after the table (aligned): every entry equal to the
 * walked offsets. */
static int token_index_ok(const struct ki *k, struct ki_tokens *t, uint32_t a)
{
    uint64_t i = align_up(k, t->end, a);
    if (i == UINT64_MAX || !zeros(k, t->end, i) || i > k->n || k->n - i < KI_INDEX_BYTES)
        return 0;
    for (int c = 0; c < KSYM_TOKENS; c++) {
        uint64_t v;
        if (!rd(k, i + 2 * (uint64_t)c, 2, &v) || v != t->off[c])
            return 0;
    }
    t->index = i;
    return 1;
}

static const uint8_t DIGITS[20] = {'0', 0, '1', 0, '2', 0, '3', 0, '4', 0,
                                   '5', 0, '6', 0, '7', 0, '8', 0, '9', 0};

/* Next run of the digit tokens at or after from, or UINT64_MAX. */
static uint64_t next_digits(const struct ki *k, uint64_t from)
{
    while (from < k->n && k->n - from >= sizeof DIGITS) {
        const uint8_t *p = memchr(k->d + from, '0', (size_t)(k->n - from - sizeof DIGITS + 1));
        if (!p)
            break;
        uint64_t pos = (uint64_t)(p - k->d);
        if (memcmp(p, DIGITS, sizeof DIGITS) == 0)
            return pos;
        from = pos + 1;
    }
    return UINT64_MAX;
}

/* The token table start implied by a digit run at p: walk the tokens after
 * "9" to find the table's end, read the index entry of "0" right after it. */
static uint64_t start_from_digits(const struct ki *k, uint64_t p, uint32_t a)
{
    if (p == 0 || k->d[p - 1] != 0)
        return UINT64_MAX;
    uint64_t pos = p;
    for (int c = '0'; c < KSYM_TOKENS; c++) {
        uint64_t avail = pos < k->n ? k->n - pos : 0;
        uint64_t lim = avail < KSYM_KIMAGE_TOKEN_MAX + 1 ? avail : KSYM_KIMAGE_TOKEN_MAX + 1;
        const uint8_t *q = lim ? memchr(k->d + pos, 0, (size_t)lim) : NULL;
        if (!q)
            return UINT64_MAX;
        pos = (uint64_t)(q - k->d) + 1;
    }
    uint64_t i = align_up(k, pos, a), v;
    if (i == UINT64_MAX || !rd(k, i + 2 * '0', 2, &v) || v > p)
        return UINT64_MAX;
    return p - v;
}

/* ---- 4. addresses and seqs_of_names --------------------------------------- */

struct ki_addr {
    int order, kind;
    uint64_t pos, base_pos, seqs_pos;
};

static uint64_t wrap(uint64_t v, uint32_t word)
{
    return word == 8 ? v : (v & 0xFFFFFFFFull);
}

/* Decoded address i of an encoding (place-relative: relative to the array's
 * position plus vaddr).  Assumes the entry is inside the image. */
static uint64_t address_at(const struct ki *k, int kind, uint64_t pos, uint64_t i, uint64_t rbase,
                           uint64_t vaddr)
{
    uint64_t v = 0;
    switch (kind) {
    case KSYM_ADDR_ABSOLUTE:
        rd(k, pos + i * k->word, k->word, &v);
        return v;
    case KSYM_ADDR_RELATIVE:
        rd(k, pos + 4 * i, 4, &v);
        return wrap(rbase + v, k->word);
    case KSYM_ADDR_PERCPU: {
        rd(k, pos + 4 * i, 4, &v);
        int64_t s = (int32_t)(uint32_t)v;
        if (s >= 0)
            return (uint64_t)s;
        return wrap(rbase + (uint64_t)(-1 - s), k->word);
    }
    case KSYM_ADDR_PLACE: {
        rd(k, pos + 4 * i, 4, &v);
        int64_t s = (int32_t)(uint32_t)v;
        return wrap(vaddr + pos + 4 * i + (uint64_t)s, k->word);
    }
    default: /* KSYM_ADDR_ABSOLUTE32 */
        rd(k, pos + 4 * i, 4, &v);
        return v;
    }
}

/* The encoding's entries are in the image and decode to sorted, not all
 * equal addresses (plus the encoding's own rules). */
static int addresses_ok(const struct ki *k, const struct ki_addr *c, uint32_t n, uint64_t *rbase)
{
    uint64_t esize = c->kind == KSYM_ADDR_ABSOLUTE ? k->word : 4;
    if (c->pos > k->n || (k->n - c->pos) / esize < n)
        return 0;
    *rbase = 0;
    if (c->kind == KSYM_ADDR_RELATIVE || c->kind == KSYM_ADDR_PERCPU) {
        if (!rd(k, c->base_pos, k->word, rbase))
            return 0;
    }
    if (c->kind == KSYM_ADDR_RELATIVE && rd_or_max(k, c->pos, 4) != 0)
        return 0; /* the base is the first symbol's address */
    if (c->kind == KSYM_ADDR_PERCPU) {
        int negative = 0;
        for (uint32_t i = 0; i < n; i++) {
            int64_t s = (int32_t)(uint32_t)rd_or_max(k, c->pos + 4 * (uint64_t)i, 4);
            if (s < 0) {
                if (!negative && s != -1)
                    return 0; /* the base is the first relative symbol */
                negative = 1;
            } else if (k->types[i] != 'A') {
                return 0; /* the generator types per-cpu (absolute) symbols 'A' */
            }
        }
        if (!negative)
            return 0;
    }
    if (c->kind == KSYM_ADDR_PLACE) {
        int64_t prev = 0;
        for (uint32_t i = 0; i < n; i++) {
            int64_t r = 4 * (int64_t)i + (int32_t)(uint32_t)rd_or_max(k, c->pos + 4 * (uint64_t)i, 4);
            if (i && r < prev)
                return 0;
            prev = r;
        }
        return n < 2 || prev != (int32_t)(uint32_t)rd_or_max(k, c->pos, 4);
    }
    uint64_t first = address_at(k, c->kind, c->pos, 0, *rbase, 0), prev = first;
    for (uint32_t i = 1; i < n; i++) {
        uint64_t a = address_at(k, c->kind, c->pos, i, *rbase, 0);
        if (a < prev)
            return 0;
        prev = a;
    }
    return n < 2 || prev != first;
}

/* seqs_of_names: n big-endian 3-byte values, a permutation of 0..n-1. */
static int seqs_ok(const struct ki *k, uint64_t pos, uint32_t n)
{
    if (pos > k->n || (k->n - pos) / 3 < n)
        return 0;
    uint8_t *seen = calloc((size_t)n / 8 + 1, 1);
    if (!seen)
        return -1;
    int ok = 1;
    for (uint32_t j = 0; j < n && ok; j++) {
        const uint8_t *p = k->d + pos + 3 * (uint64_t)j;
        uint32_t v = ((uint32_t)p[0] << 16) | ((uint32_t)p[1] << 8) | p[2];
        if (v >= n || (seen[v / 8] & (1u << (v % 8))))
            ok = 0;
        else
            seen[v / 8] |= (uint8_t)(1u << (v % 8));
    }
    free(seen);
    return ok;
}

/* ---- names ------------------------------------------------------------- */

/* Read a record's length prefix at pos (limit: end of the names area).
 * Returns the prefix size (1 or 2), 0 on failure; *len = payload length. */
static int prefix_at(const uint8_t *d, uint64_t pos, uint64_t limit, int mode, uint32_t *len)
{
    if (pos >= limit)
        return 0;
    uint8_t b0 = d[pos];
    if (mode == 2 && (b0 & 0x80)) {
        if (pos + 1 >= limit)
            return 0;
        uint8_t b1 = d[pos + 1];
        if (b1 & 0x80)
            return 0;
        *len = (uint32_t)(b0 & 0x7F) | ((uint32_t)b1 << 7);
        return 2;
    }
    *len = b0;
    return 1;
}

struct ki_names {
    uint64_t start, end, text_bytes;
    uint32_t n, long_prefixes;
    int mode;
};

/* Walk n records from x: each 256th at its marker, all inside [x, markers),
 * each a valid symbol; the last ends where the markers begin (after
 * padding).  Records the type letters in k->types. */
static int names_walk(struct ki *k, const struct ki_tokens *t, uint64_t x, uint32_t n, uint64_t mstart,
                      uint32_t mbytes, int mode, struct ki_names *out, int *saw_long)
{
    uint64_t pos = x, text = 0;
    uint32_t longs = 0;
    *saw_long = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (i % KSYM_MARKER_STRIDE == 0) {
            uint64_t m = rd_or_max(k, mstart + (uint64_t)(i / KSYM_MARKER_STRIDE) * mbytes, mbytes);
            if (m == UINT64_MAX || pos - x != m)
                return 0;
        }
        uint32_t len;
        if (mode == 2 && pos < mstart && (k->d[pos] & 0x80))
            *saw_long = 1; /* a one-byte reading could differ from here on */
        int hdr = prefix_at(k->d, pos, mstart, mode, &len);
        if (!hdr)
            return 0;
        if (hdr == 2)
            longs++;
        if (len == 0 || len > KI_TEXT_MAX || mstart - (pos + hdr) < len)
            return 0;
        pos += hdr;
        uint32_t chars = 0;
        for (uint32_t j = 0; j < len; j++) {
            uint8_t c = k->d[pos + j];
            if (t->len[c] == 0)
                return 0;
            if (j == 0) {
                if (t->first[c] < 0x21 || t->first[c] > 0x7E || t->ws_tail[c])
                    return 0;
                k->types[i] = t->first[c];
            } else if (t->ws_any[c]) {
                return 0;
            }
            chars += t->len[c];
            if (chars > KI_TEXT_MAX)
                return 0;
        }
        if (chars < 2)
            return 0;
        pos += len;
        text += chars;
    }
    if (align_up(k, pos, k->align) != mstart || !zeros(k, pos, mstart))
        return 0;
    out->start = x;
    out->end = pos;
    out->n = n;
    out->text_bytes = text;
    out->long_prefixes = longs;
    out->mode = mode;
    return 1;
}

/* ---- the search --------------------------------------------------------- */

struct ki_markers {
    uint64_t start, end;
    uint32_t count, bytes;
    int seqs_between; /* 6.2/6.3: seqs_of_names between the markers and the token table */
    uint64_t seqs_pos;
    uint32_t n_min, n_max;
};

struct ki_found {
    struct ki_tokens *t;
    struct ki_markers m;
    struct ki_names names;
    uint64_t num_pos;
    uint32_t num_bytes;
    struct ki_addr a;
    uint64_t rbase;
};

static int ensure_types(struct ki *k, uint32_t n)
{
    if (n <= k->types_cap)
        return 1;
    uint8_t *p = realloc(k->types, n);
    if (!p)
        return 0;
    k->types = p;
    k->types_cap = n;
    return 1;
}

static void fill_layout(struct ki *k, const struct ki_found *f, struct ksym_kimage_layout *l)
{
    memset(l, 0, sizeof *l);
    for (int i = 0; i < KSYM_KA_COUNT; i++)
        l->offsets[i] = KSYM_KA_ABSENT;
    uint32_t n = f->names.n;
    l->offsets[KSYM_KA_NUM_SYMS] = f->num_pos;
    l->sizes[KSYM_KA_NUM_SYMS] = f->num_bytes;
    l->offsets[KSYM_KA_NAMES] = f->names.start;
    l->sizes[KSYM_KA_NAMES] = f->names.end - f->names.start;
    l->offsets[KSYM_KA_MARKERS] = f->m.start;
    l->sizes[KSYM_KA_MARKERS] = (uint64_t)f->m.count * f->m.bytes;
    l->offsets[KSYM_KA_TOKEN_TABLE] = f->t->start;
    l->sizes[KSYM_KA_TOKEN_TABLE] = f->t->end - f->t->start;
    l->offsets[KSYM_KA_TOKEN_INDEX] = f->t->index;
    l->sizes[KSYM_KA_TOKEN_INDEX] = KI_INDEX_BYTES;
    l->offsets[KSYM_KA_ADDRESSES] = f->a.pos;
    l->sizes[KSYM_KA_ADDRESSES] = (uint64_t)n * (f->a.kind == KSYM_ADDR_ABSOLUTE ? k->word : 4);
    if (f->a.base_pos != KSYM_KA_ABSENT) {
        l->offsets[KSYM_KA_RELATIVE_BASE] = f->a.base_pos;
        l->sizes[KSYM_KA_RELATIVE_BASE] = k->word;
    }
    if (f->a.seqs_pos != KSYM_KA_ABSENT) {
        l->offsets[KSYM_KA_SEQS] = f->a.seqs_pos;
        l->sizes[KSYM_KA_SEQS] = (uint64_t)3 * n;
    }
    l->relative_base = f->rbase;
    l->vaddr = k->h->has_vaddr ? k->h->vaddr : 0;
    l->has_vaddr = k->h->has_vaddr ? 1 : 0;
    l->text_bytes = f->names.text_bytes;
    l->num_syms = n;
    l->word = k->word;
    l->endian = k->big ? 2 : 1;
    l->align = k->align;
    l->order = (uint32_t)f->a.order;
    l->addr_kind = (uint32_t)f->a.kind;
    l->count_bytes = f->num_bytes;
    l->marker_bytes = f->m.bytes;
    l->prefix_bytes = (uint32_t)f->names.mode;
    l->long_prefixes = f->names.long_prefixes;
    l->seqs_order = KSYM_SEQS_ABSENT;
}

/* Try the address encodings the era allows; 1 found, 0 none, -1 no memory. */
static int try_addresses(struct ki *k, struct ki_found *f)
{
    const struct ksym_kimage_hints *h = k->h;
    uint32_t n = f->names.n, w = k->word, a = k->align;
    struct ki_addr cands[8];
    int nc = 0;
    uint64_t y = f->num_pos;

    if (w == a && f->m.seqs_between) {
        if (y >= w) {
            uint64_t rb = y - w, span = ((uint64_t)4 * n + a - 1) / a * a;
            if (rb >= span) {
                cands[nc++] = (struct ki_addr){KSYM_ORDER_OLD, KSYM_ADDR_PERCPU, rb - span, rb, f->m.seqs_pos};
                cands[nc++] = (struct ki_addr){KSYM_ORDER_OLD, KSYM_ADDR_RELATIVE, rb - span, rb, f->m.seqs_pos};
            }
        }
        if (y / w >= n)
            cands[nc++] = (struct ki_addr){KSYM_ORDER_OLD, KSYM_ADDR_ABSOLUTE, y - (uint64_t)w * n,
                                           KSYM_KA_ABSENT, f->m.seqs_pos};
    } else if (!f->m.seqs_between) {
        uint64_t idx_end = f->t->index + KI_INDEX_BYTES;
        if (w == a) {
            uint64_t p0 = align_up(k, idx_end, a);
            uint64_t rb = p0 == UINT64_MAX ? UINT64_MAX : align_up(k, p0 + (uint64_t)4 * n, a);
            if (rb != UINT64_MAX) {
                uint64_t sq = align_up(k, rb + w, a);
                if (sq != UINT64_MAX) {
                    cands[nc++] = (struct ki_addr){KSYM_ORDER_6_4, KSYM_ADDR_PERCPU, p0, rb, sq};
                    cands[nc++] = (struct ki_addr){KSYM_ORDER_6_4, KSYM_ADDR_RELATIVE, p0, rb, sq};
                }
                sq = align_up(k, p0 + (uint64_t)w * n, a);
                if (sq != UINT64_MAX && w == 8) /* absolute after 6.4: ia64 only */
                    cands[nc++] = (struct ki_addr){KSYM_ORDER_6_4, KSYM_ADDR_ABSOLUTE, p0, KSYM_KA_ABSENT, sq};
            }
        }
        if (a == 4) {
            uint64_t p0 = align_up(k, idx_end, 4);
            if (p0 != UINT64_MAX) {
                if (w == 4)
                    cands[nc++] = (struct ki_addr){KSYM_ORDER_7_0, KSYM_ADDR_ABSOLUTE32, p0, KSYM_KA_ABSENT,
                                                   p0 + (uint64_t)4 * n};
                cands[nc++] = (struct ki_addr){KSYM_ORDER_7_0, KSYM_ADDR_PLACE, p0, KSYM_KA_ABSENT,
                                               p0 + (uint64_t)4 * n};
            }
        }
        if (w == a) {
            if (y >= w) {
                uint64_t rb = y - w, span = ((uint64_t)4 * n + a - 1) / a * a;
                if (rb >= span) {
                    cands[nc++] = (struct ki_addr){KSYM_ORDER_OLD, KSYM_ADDR_PERCPU, rb - span, rb, KSYM_KA_ABSENT};
                    cands[nc++] = (struct ki_addr){KSYM_ORDER_OLD, KSYM_ADDR_RELATIVE, rb - span, rb, KSYM_KA_ABSENT};
                }
            }
            if (y / w >= n)
                cands[nc++] = (struct ki_addr){KSYM_ORDER_OLD, KSYM_ADDR_ABSOLUTE, y - (uint64_t)w * n,
                                               KSYM_KA_ABSENT, KSYM_KA_ABSENT};
        }
    }

    for (int i = 0; i < nc; i++) {
        struct ki_addr *c = &cands[i];
        int with_base = c->kind == KSYM_ADDR_RELATIVE || c->kind == KSYM_ADDR_PERCPU;
        if ((h->order && h->order != (uint32_t)c->order) || (h->addr_kind && h->addr_kind != (uint32_t)c->kind))
            continue;
        if ((k->place == PLACE_NONE && c->kind == KSYM_ADDR_PLACE) ||
            (k->place == PLACE_ONLY && c->kind != KSYM_ADDR_PLACE))
            continue;
        if (!hint_ok(k, KSYM_KA_ADDRESSES, c->pos) || !hint_ok(k, KSYM_KA_SEQS, c->seqs_pos))
            continue;
        if (with_base ? !hint_ok(k, KSYM_KA_RELATIVE_BASE, c->base_pos)
                      : h->offsets[KSYM_KA_RELATIVE_BASE] != KSYM_KA_ABSENT)
            continue;
        /* the padding between the arrays */
        uint64_t esize = c->kind == KSYM_ADDR_ABSOLUTE ? w : 4;
        uint64_t aend = c->pos + esize * n;
        if (c->order != KSYM_ORDER_OLD) {
            if (!zeros(k, f->t->index + KI_INDEX_BYTES, c->pos))
                continue;
            if (with_base && !zeros(k, aend, c->base_pos))
                continue;
            if (c->order == KSYM_ORDER_6_4 && !zeros(k, with_base ? c->base_pos + w : aend, c->seqs_pos))
                continue;
        } else if (with_base && !zeros(k, aend, c->base_pos)) {
            continue;
        }
        uint64_t rbase;
        if (!addresses_ok(k, c, n, &rbase))
            continue;
        if (c->seqs_pos != KSYM_KA_ABSENT) {
            int s = seqs_ok(k, c->seqs_pos, n);
            if (s < 0)
                return -1;
            if (!s)
                continue;
        }
        f->a = *c;
        f->rbase = rbase;
        fill_layout(k, f, k->out);
        return 1;
    }
    fail(k, ST_ADDRESSES,
         "candidate names at byte %llu (%u symbols) failed: no address table (absolute, base-relative, "
         "absolute-percpu or place-relative, with seqs_of_names where the era has it) matches them",
         (unsigned long long)f->names.start, n);
    return 0;
}

/* Try names + num_syms for a markers candidate; 1 found, 0 none, -1 no memory. */
static int try_names(struct ki *k, struct ki_found *f)
{
    const struct ki_markers *m = &f->m;
    uint32_t a = k->align;
    uint64_t last = rd_or_max(k, m->start + (uint64_t)(m->count - 1) * m->bytes, m->bytes);
    if (last == UINT64_MAX || m->start < last + 2)
        goto failed; /* the last chunk would start before the names */
    uint64_t x_hi = m->start - last - 2;
    uint64_t span = last + KI_CHUNK_MAX + a;
    uint64_t x_lo = m->start + 1 > span ? m->start + 1 - span : 0;
    uint64_t x = x_hi - (k->base + x_hi) % a;
    uint32_t widths[2] = {4, k->word};
    int nwidths = k->word == 4 ? 1 : 2;

    for (;;) {
        if (x < x_lo)
            break;
        for (int wi = 0; wi < nwidths; wi++) {
            uint32_t nb = widths[wi];
            uint64_t hdr = (nb + a - 1) / a * a;
            if (x < hdr)
                continue;
            uint64_t y = x - hdr, nv;
            if (!rd(k, y, nb, &nv) || nv < 1 || nv > KSYM_MAX_SYMBOLS)
                continue;
            uint32_t n = (uint32_t)nv;
            if ((n + KSYM_MARKER_STRIDE - 1) / KSYM_MARKER_STRIDE != m->count)
                continue;
            if (m->seqs_between && (n < m->n_min || n > m->n_max))
                continue;
            if (!zeros(k, y + nb, x) || !hint_ok(k, KSYM_KA_NAMES, x) || !hint_ok(k, KSYM_KA_NUM_SYMS, y))
                continue;
            if (!ensure_types(k, n))
                return -1;
            int modes[2], nmodes = 0;
            if (k->h->prefix_bytes == 1 || k->h->prefix_bytes == 2)
                modes[nmodes++] = (int)k->h->prefix_bytes;
            else {
                modes[nmodes++] = 2;
                modes[nmodes++] = 1;
            }
            for (int mi = 0; mi < nmodes; mi++) {
                int saw_long;
                if (!names_walk(k, f->t, x, n, m->start, m->bytes, modes[mi], &f->names, &saw_long)) {
                    if (!saw_long)
                        break; /* a one-byte reading would fail the same way */
                    continue;
                }
                f->num_pos = y;
                f->num_bytes = nb;
                int r = try_addresses(k, f);
                if (r)
                    return r;
            }
        }
        if (x < a)
            break;
        x -= a;
    }
failed:
    fail(k, ST_NAMES,
         "candidate markers at byte %llu (%u entries) failed: markers disagree with names "
         "(no kallsyms_num_syms and names ending at the markers)",
         (unsigned long long)m->start, m->count);
    return 0;
}

/* Markers ending at q (entries of mb bytes): a run rising from 0 in chunk
 * steps.  Fills start and count; 0 when none. */
static int marker_chain(const struct ki *k, uint64_t q, uint32_t mb, struct ki_markers *m)
{
    if (q < mb)
        return 0;
    uint64_t pos = q - mb, v;
    if (!rd(k, pos, mb, &v))
        return 0;
    uint32_t count = 1;
    while (v != 0) {
        if (pos < mb || count >= KI_MAX_MARKERS)
            return 0;
        uint64_t prev = v;
        pos -= mb;
        if (!rd(k, pos, mb, &v) || v >= prev || prev - v < KI_CHUNK_MIN || prev - v > KI_CHUNK_MAX)
            return 0;
        count++;
    }
    m->start = pos;
    m->end = q;
    m->count = count;
    m->bytes = mb;
    return 1;
}

static int try_markers(struct ki *k, struct ki_tokens *t)
{
    const struct ksym_kimage_hints *h = k->h;
    uint64_t tt = t->start;
    uint32_t a = k->align;
    uint32_t widths[2] = {4, k->word};
    int nwidths = k->word == 4 || a != k->word ? 1 : 2; /* pointer-sized markers: before 4.20 */
    int found_any = 0;
    struct ki_found f;
    memset(&f, 0, sizeof f);
    f.t = t;

    /* markers right before the token table */
    for (int wi = 0; wi < nwidths; wi++) {
        for (uint32_t back = 0; back < a; back += 4) {
            if (tt < back || !zeros(k, tt - back, tt))
                continue;
            memset(&f.m, 0, sizeof f.m);
            if (!marker_chain(k, tt - back, widths[wi], &f.m) || !is_aligned(k, f.m.start, a) ||
                !hint_ok(k, KSYM_KA_MARKERS, f.m.start))
                continue;
            found_any = 1;
            int r = try_names(k, &f);
            if (r)
                return r;
        }
    }

    /* 6.2, 6.3 (and backports): seqs_of_names between markers and token table */
    if (k->word == a && (!h->order || h->order == KSYM_ORDER_OLD) &&
        (h->offsets[KSYM_KA_SEQS] == KSYM_KA_ABSENT || h->offsets[KSYM_KA_SEQS] < tt)) {
        uint64_t lowest = tt > (uint64_t)3 * KSYM_MAX_SYMBOLS + 2 * a ? tt - (uint64_t)3 * KSYM_MAX_SYMBOLS - 2 * a : 0;
        if (tt >= 3) {
            uint64_t q = tt - 3;
            q -= (k->base + q) % 4;
            for (; q >= lowest && q >= 4 && k->budget; q -= 4) {
                k->budget--;
                uint64_t ss = align_up(k, q, a);
                if (ss == UINT64_MAX || ss >= tt)
                    continue;
                /* seqs fill [ss, ss + 3n) and padding up to the token table */
                uint64_t room = tt - ss;
                uint64_t n_max = room / 3, n_min = room >= a ? (room - a) / 3 + 1 : 1;
                if (n_min < 1)
                    n_min = 1;
                if (n_max < n_min || n_max > KSYM_MAX_SYMBOLS)
                    continue;
                uint64_t lastm = rd_or_max(k, q - 4, 4);
                if (lastm == UINT64_MAX)
                    continue;
                /* cheap bounds: count M satisfies 256(M-1) < n <= 256M, and the
                 * last marker lies between (M-1) * CHUNK_MIN and (M-1) * CHUNK_MAX */
                uint64_t m_hi = lastm / KI_CHUNK_MIN + 1;
                if (n_min > m_hi * KSYM_MARKER_STRIDE)
                    continue;
                if (lastm > (n_max / KSYM_MARKER_STRIDE + 1) * KI_CHUNK_MAX)
                    continue;
                memset(&f.m, 0, sizeof f.m);
                if (!marker_chain(k, q, 4, &f.m) || !is_aligned(k, f.m.start, a) || !zeros(k, q, ss) ||
                    !hint_ok(k, KSYM_KA_MARKERS, f.m.start) || !hint_ok(k, KSYM_KA_SEQS, ss))
                    continue;
                uint64_t lo = (uint64_t)(f.m.count - 1) * KSYM_MARKER_STRIDE + 1;
                uint64_t hi = (uint64_t)f.m.count * KSYM_MARKER_STRIDE;
                if (lo < n_min)
                    lo = n_min;
                if (hi > n_max)
                    hi = n_max;
                if (lo > hi)
                    continue;
                /* the padding after the seqs must be zeros: keep the n that allow it */
                while (lo <= hi && !zeros(k, ss + 3 * lo, tt))
                    lo++;
                while (hi >= lo && !zeros(k, ss + 3 * hi, tt))
                    hi--;
                if (lo > hi)
                    continue;
                f.m.seqs_between = 1;
                f.m.seqs_pos = ss;
                f.m.n_min = (uint32_t)lo;
                f.m.n_max = (uint32_t)hi;
                found_any = 1;
                int r = try_names(k, &f);
                if (r)
                    return r;
            }
        }
    }
    if (!found_any)
        fail(k, ST_MARKERS, "candidate token table at byte %llu failed: no kallsyms_markers before it",
             (unsigned long long)tt);
    return 0;
}

/* ---- seqs order --------------------------------------------------------- */

struct ki_sym {
    uint64_t addr;
    uint32_t off, len; /* name (without type) in the text buffer */
};

static size_t cut_dot(const char *s, size_t len)
{
    const char *p = memchr(s, '.', len);
    return p ? (size_t)(p - s) : len;
}

static size_t cut_llvm(const char *s, size_t len)
{
    for (size_t i = 0; i + 6 <= len; i++)
        if (memcmp(s + i, ".llvm.", 6) == 0)
            return i;
    return len;
}

static int name_cmp(const char *a, size_t la, const char *b, size_t lb)
{
    size_t l = la < lb ? la : lb;
    int c = memcmp(a, b, l);
    if (c)
        return c;
    return la < lb ? -1 : la > lb;
}

/* Does (name cut by policy, address, index) rise along seqs_of_names? */
static int seqs_sorted(const struct ki *k, uint64_t seqs, uint32_t n, const struct ki_sym *syms,
                       const char *text, int policy)
{
    uint32_t prev = 0;
    for (uint32_t j = 0; j < n; j++) {
        const uint8_t *p = k->d + seqs + 3 * (uint64_t)j;
        uint32_t cur = ((uint32_t)p[0] << 16) | ((uint32_t)p[1] << 8) | p[2];
        if (j) {
            const struct ki_sym *x = &syms[prev], *y = &syms[cur];
            size_t lx = x->len, ly = y->len;
            if (policy == KSYM_SEQS_LTO_DOT) {
                lx = cut_dot(text + x->off, lx);
                ly = cut_dot(text + y->off, ly);
            } else if (policy == KSYM_SEQS_LTO_LLVM) {
                lx = cut_llvm(text + x->off, lx);
                ly = cut_llvm(text + y->off, ly);
            }
            int c = name_cmp(text + x->off, lx, text + y->off, ly);
            if (c > 0)
                return 0;
            if (c == 0 && (x->addr > y->addr || (x->addr == y->addr && prev > cur)))
                return 0;
        }
        prev = cur;
    }
    return 1;
}

/* ---- decoding --------------------------------------------------------------- */

/* Token texts of a layout, read through the index with bounds checks. */
static int layout_tokens(const struct ki *k, const struct ksym_kimage_layout *l, struct ki_tokens *t)
{
    uint64_t ts = l->offsets[KSYM_KA_TOKEN_TABLE], ti = l->offsets[KSYM_KA_TOKEN_INDEX];
    if (ts >= k->n || ti > k->n || k->n - ti < KI_INDEX_BYTES)
        return 0;
    for (int c = 0; c < KSYM_TOKENS; c++) {
        uint64_t off = 0, pos;
        if (!rd(k, ti + 2 * (uint64_t)c, 2, &off))
            return 0;
        pos = ts + off;
        uint64_t avail = pos < k->n ? k->n - pos : 0;
        uint64_t lim = avail < KSYM_KIMAGE_TOKEN_MAX + 1 ? avail : KSYM_KIMAGE_TOKEN_MAX + 1;
        const uint8_t *p = lim ? memchr(k->d + pos, 0, (size_t)lim) : NULL;
        if (!p)
            return 0;
        t->off[c] = (uint32_t)(pos - ts);
        t->len[c] = (uint16_t)(p - (k->d + pos));
    }
    t->start = ts;
    return 1;
}

/* Calls emit(ctx, i, address, type, name, len) for every symbol. */
typedef int (*ki_emit)(void *ctx, uint32_t i, uint64_t addr, char type, const char *name, size_t len);

static int decode_all(const uint8_t *data, size_t len, const struct ksym_kimage_layout *l, uint64_t slide,
                      ki_emit emit, void *ctx)
{
    static const struct ksym_kimage_hints nohints; /* unused by decoding */
    struct ki k = {data, len, 0, &nohints, l->endian == 2, l->word, l->align, PLACE_ANY, 0, NULL, 0, NULL, 0, NULL, 0};
    struct ki_tokens t;
    char text[KI_TEXT_MAX + 1];
    if (!data || (l->word != 4 && l->word != 8) || l->num_syms == 0 || l->num_syms > KSYM_MAX_SYMBOLS ||
        (l->prefix_bytes != 1 && l->prefix_bytes != 2) || l->addr_kind < KSYM_ADDR_ABSOLUTE ||
        l->addr_kind > KSYM_ADDR_ABSOLUTE32)
        return KSYM_EINVAL;
    if (!layout_tokens(&k, l, &t))
        return KSYM_ECORRUPT;
    uint32_t n = l->num_syms;
    uint64_t ap = l->offsets[KSYM_KA_ADDRESSES];
    uint64_t esize = l->addr_kind == KSYM_ADDR_ABSOLUTE ? l->word : 4;
    if (ap > k.n || (k.n - ap) / esize < n)
        return KSYM_ECORRUPT;
    uint64_t pos = l->offsets[KSYM_KA_NAMES], limit = k.n;
    if (pos > limit)
        return KSYM_ECORRUPT;
    uint64_t vaddr = l->has_vaddr ? l->vaddr : 0;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t rlen;
        int hdr = prefix_at(data, pos, limit, (int)l->prefix_bytes, &rlen);
        if (!hdr || limit - (pos + hdr) < rlen || rlen == 0)
            return KSYM_ECORRUPT;
        pos += hdr;
        size_t tl = 0;
        for (uint32_t j = 0; j < rlen; j++) {
            uint8_t c = data[pos + j];
            uint32_t cl = t.len[c];
            if (tl + cl > KI_TEXT_MAX)
                return KSYM_ECORRUPT;
            const uint8_t *src = data + t.start + t.off[c];
            for (uint32_t x = 0; x < cl; x++) /* tokens are short: a loop beats memcpy */
                text[tl + x] = (char)src[x];
            tl += cl;
        }
        pos += rlen;
        if (tl < 2)
            return KSYM_ECORRUPT;
        uint64_t addr = address_at(&k, (int)l->addr_kind, ap, i, l->relative_base, vaddr);
        addr = wrap(addr + slide, l->word);
        int rc = emit(ctx, i, addr, text[0], text + 1, tl - 1);
        if (rc < 0)
            return rc;
    }
    return 0;
}

struct ki_out {
    uint64_t *addresses;
    char *types, *buf;
    size_t buflen, used;
};

static int emit_out(void *ctx, uint32_t i, uint64_t addr, char type, const char *name, size_t len)
{
    struct ki_out *o = ctx;
    if (o->buflen - o->used < len + 1)
        return KSYM_ENOSPC;
    if (o->addresses)
        o->addresses[i] = addr;
    if (o->types)
        o->types[i] = type;
    memcpy(o->buf + o->used, name, len);
    o->buf[o->used + len] = '\n';
    o->used += len + 1;
    return 0;
}

int64_t ksym_kimage_symbols(const uint8_t *data, size_t len, const struct ksym_kimage_layout *layout,
                            uint64_t slide, uint64_t *addresses, char *types, char *buf, size_t buflen,
                            size_t *written)
{
    if (!layout || (!buf && buflen))
        return KSYM_EINVAL;
    struct ki_out o = {addresses, types, buf, buflen, 0};
    int rc = decode_all(data, len, layout, slide, emit_out, &o);
    if (written)
        *written = o.used;
    return rc < 0 ? rc : (int64_t)layout->num_syms;
}

static int emit_builder(void *ctx, uint32_t i, uint64_t addr, char type, const char *name, size_t len)
{
    (void)i;
    return ksym_builder_add(ctx, addr, type, name, len, NULL, 0);
}

int ksym_kimage_add(const uint8_t *data, size_t len, const struct ksym_kimage_layout *layout,
                    uint64_t slide, struct ksym_builder *b)
{
    if (!layout || !b)
        return KSYM_EINVAL;
    return decode_all(data, len, layout, slide, emit_builder, b);
}

/* ---- the entry point -------------------------------------------------------- */

void ksym_kimage_hints_init(struct ksym_kimage_hints *h)
{
    memset(h, 0, sizeof *h);
    for (int i = 0; i < KSYM_KA_COUNT; i++)
        h->offsets[i] = KSYM_KA_ABSENT;
}

struct ki_sym_ctx {
    struct ki_sym *syms;
    char *text;
    size_t used, cap;
    uint32_t n;
};

static int emit_sym(void *ctx, uint32_t i, uint64_t addr, char type, const char *name, size_t len)
{
    struct ki_sym_ctx *s = ctx;
    (void)type;
    if (i >= s->n || s->cap - s->used < len)
        return KSYM_ECORRUPT;
    s->syms[i].addr = addr;
    s->syms[i].off = (uint32_t)s->used;
    s->syms[i].len = (uint32_t)len;
    memcpy(s->text + s->used, name, len);
    s->used += len;
    return 0;
}

/* Order of seqs_of_names, by expanding every name. */
static int classify_seqs(const uint8_t *data, size_t len, struct ksym_kimage_layout *l)
{
    struct ki k = {data, len, 0, NULL, l->endian == 2, l->word, l->align, PLACE_ANY, 0, NULL, 0, NULL, 0, NULL, 0};
    uint32_t n = l->num_syms;
    struct ki_sym_ctx s = {malloc(sizeof(struct ki_sym) * n), malloc(l->text_bytes + 1), 0, l->text_bytes, n};
    int rc = 0;
    if (!s.syms || !s.text) {
        rc = KSYM_ENOMEM;
        goto out;
    }
    /* place-relative addresses compare the same with any vaddr */
    rc = decode_all(data, len, l, 0, emit_sym, &s);
    if (rc < 0)
        goto out;
    uint64_t sp = l->offsets[KSYM_KA_SEQS];
    static const int policies[3] = {KSYM_SEQS_FULL, KSYM_SEQS_LTO_DOT, KSYM_SEQS_LTO_LLVM};
    l->seqs_order = KSYM_SEQS_UNSORTED;
    for (int i = 0; i < 3; i++) {
        if (seqs_sorted(&k, sp, n, s.syms, s.text, policies[i])) {
            l->seqs_order = (uint32_t)policies[i];
            break;
        }
    }
out:
    free(s.syms);
    free(s.text);
    return rc;
}

/* Word size, alignment and place-relative readings, in the order tried:
 * 64-bit before 7.0; 32-bit (a 7.0 table read as absolute32 only: a
 * place-relative table has aliases or gaps under 4 bytes, which absolute32
 * rejects, while an absolute32 table also reads as place-relative); 64-bit
 * 7.0+; 32-bit place-relative (reached only with a word-size hint of 4,
 * since the 64-bit reading accepts the same bytes). */
static const uint32_t COMBOS[4][3] = {{8, 8, PLACE_ANY}, {4, 4, PLACE_NONE}, {8, 4, PLACE_ANY}, {4, 4, PLACE_ONLY}};

int ksym_kimage_locate(const uint8_t *data, size_t len, const struct ksym_kimage_hints *hints,
                       struct ksym_kimage_layout *out, char *msg, size_t msglen)
{
    struct ksym_kimage_hints none;
    if ((!data && len) || !out)
        return KSYM_EINVAL;
    if (msg && msglen)
        msg[0] = 0;
    if (!hints) {
        ksym_kimage_hints_init(&none);
        hints = &none;
    }
    if ((hints->word && hints->word != 4 && hints->word != 8) || hints->endian > 2 ||
        (hints->align && hints->align != 4 && hints->align != 8) || hints->prefix_bytes > 2 ||
        hints->order > KSYM_ORDER_7_0 || hints->addr_kind > KSYM_ADDR_ABSOLUTE32)
        return KSYM_EINVAL;

    /* the scans for seqs_of_names may take len / 2 + 2^16 steps in all */
    struct ki k = {data, len, hints->has_vaddr ? hints->vaddr % 8 : 0, hints, 0, 0, 0, PLACE_ANY, ST_NONE, msg,
                   msglen, NULL, 0, out, (uint64_t)len / 2 + 65536};
    struct ki_tokens *t = malloc(sizeof *t);
    if (!t)
        return KSYM_ENOMEM;
    int endians[2], nend = 0, rc = KSYM_ECORRUPT, r = 0;
    if (hints->endian)
        endians[nend++] = (int)hints->endian - 1;
    else {
        endians[nend++] = 0;
        endians[nend++] = 1;
    }
    uint64_t hint_tt = hints->offsets[KSYM_KA_TOKEN_TABLE];
    uint64_t p = hint_tt != KSYM_KA_ABSENT ? hint_tt : next_digits(&k, 0);
    if (p == UINT64_MAX)
        fail(&k, ST_TOKENS, "no kallsyms token table found: no run of the digit tokens \"0\" .. \"9\" in "
                            "the image");
    while (p != UINT64_MAX) {
        for (int ei = 0; ei < nend; ei++) {
            k.big = endians[ei];
            for (int ci = 0; ci < 4; ci++) {
                k.word = COMBOS[ci][0];
                k.align = COMBOS[ci][1];
                k.place = (int)COMBOS[ci][2];
                if ((hints->word && hints->word != k.word) || (hints->align && hints->align != k.align))
                    continue;
                if (k.word != k.align && hints->order && hints->order != KSYM_ORDER_7_0)
                    continue;
                uint64_t s = hint_tt != KSYM_KA_ABSENT ? hint_tt : start_from_digits(&k, p, k.align);
                if (s == UINT64_MAX || !is_aligned(&k, s, k.align) || !token_walk(&k, s, t) ||
                    !token_index_ok(&k, t, k.align) || !hint_ok(&k, KSYM_KA_TOKEN_INDEX, t->index)) {
                    fail(&k, ST_INDEX, "candidate token table at byte %llu failed: no kallsyms_token_index "
                                       "matches it", (unsigned long long)(s == UINT64_MAX ? p : s));
                    continue;
                }
                r = try_markers(&k, t);
                if (r)
                    goto done;
            }
        }
        if (hint_tt != KSYM_KA_ABSENT)
            break;
        p = next_digits(&k, p + 1);
    }
done:
    free(t);
    free(k.types);
    if (r < 0)
        return KSYM_ENOMEM;
    if (r == 0) {
        if (k.stage == ST_NONE)
            fail(&k, ST_TOKENS, "no kallsyms tables found");
        return rc;
    }
    if (out->offsets[KSYM_KA_SEQS] != KSYM_KA_ABSENT) {
        rc = classify_seqs(data, len, out);
        if (rc < 0)
            return rc;
    }
    if (msg && msglen)
        msg[0] = 0;
    return 0;
}
