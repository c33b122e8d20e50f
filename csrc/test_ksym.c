/* test_ksym.c - tests of the C core against naive re-implementations.
 *
 * Usage: test_ksym [FILE...]   (e.g. /proc/kallsyms, an nm listing)
 * Without files only the hand-made cases run.
 *
 * SPDX-License-Identifier: MIT
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bank.h"
#include "ksym.h"
#include "test_util.h"

/* ---- naive model ----------------------------------------------------------- */

struct mrec {
    uint64_t addr;
    char type;
    char *name;
    size_t len;
    char *module; /* NULL = core */
    size_t input;
};

struct model {
    struct mrec *r;
    size_t n, cap;
};

static void model_add(struct model *m, uint64_t addr, char type, const char *name, size_t len,
                      const char *mod, size_t modlen)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 256;
        m->r = realloc(m->r, m->cap * sizeof *m->r);
    }
    struct mrec *r = &m->r[m->n];
    r->addr = addr;
    r->type = type;
    r->name = strndup(name, len);
    r->len = len;
    r->module = mod && modlen ? strndup(mod, modlen) : NULL;
    r->input = m->n++;
}

static void model_free(struct model *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->r[i].name);
        free(m->r[i].module);
    }
    free(m->r);
    m->r = NULL;
    m->n = m->cap = 0;
}

static int provided(const struct mrec *r)
{
    const char *s = r->name;
    size_t n = r->len;
    if (n < 8 || strncmp(s, "__", 2))
        return 0;
    if (!strncmp(s, "__start_", 8) || !strncmp(s, "__stop_", 7) || !strncmp(s, "__end_", 6))
        return 1;
    return !strcmp(s + n - 6, "_start") || !strcmp(s + n - 4, "_end");
}

static size_t underscores(const struct mrec *r)
{
    size_t k = 0;
    while (k < r->len && r->name[k] == '_')
        k++;
    return k;
}

/* The kernel's compare_symbols, written out plainly. */
static int cmp_kernel(const void *pa, const void *pb)
{
    const struct mrec *a = pa, *b = pb;
    if (a->addr != b->addr)
        return a->addr < b->addr ? -1 : 1;
    int wa = a->type == 'w' || a->type == 'W', wb = b->type == 'w' || b->type == 'W';
    if (wa != wb)
        return wa - wb;
    int pa_ = provided(a), pb_ = provided(b);
    if (pa_ != pb_)
        return pa_ - pb_;
    size_t ua = underscores(a), ub = underscores(b);
    if (ua != ub)
        return ua < ub ? -1 : 1;
    return a->input < b->input ? -1 : a->input > b->input;
}

/* The classic compressor: recount every pair each round. */
struct naive_out {
    uint8_t *names;
    size_t names_len;
    uint8_t tt[70000];
    size_t tt_len;
    uint8_t ti[512];
};

static void naive_compress(const struct mrec *r, size_t n, struct naive_out *o)
{
    uint8_t **s = malloc((n ? n : 1) * sizeof *s);
    size_t *len = malloc((n ? n : 1) * sizeof *len);
    int kind[256] = {0};
    int ta[256], tb[256];
    for (size_t i = 0; i < n; i++) {
        s[i] = malloc(r[i].len + 1);
        s[i][0] = (uint8_t)r[i].type;
        memcpy(s[i] + 1, r[i].name, r[i].len);
        len[i] = r[i].len + 1;
        for (size_t j = 0; j < len[i]; j++)
            kind[s[i][j]] = 1;
    }
    static uint64_t cnt[65536];
    for (int c = 255; c >= 0; c--) {
        if (kind[c])
            continue;
        memset(cnt, 0, sizeof cnt);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j + 1 < len[i]; j++)
                cnt[s[i][j] | (s[i][j + 1] << 8)]++;
        uint64_t best = 0;
        int bi = 0;
        for (int p = 0; p < 65536; p++)
            if (cnt[p] > best) {
                best = cnt[p];
                bi = p;
            }
        if (!best)
            break;
        int a = bi & 255, b = bi >> 8;
        kind[c] = 2;
        ta[c] = a;
        tb[c] = b;
        for (size_t i = 0; i < n; i++) {
            size_t w = 0, rr = 0;
            while (rr < len[i]) {
                if (rr + 1 < len[i] && s[i][rr] == a && s[i][rr + 1] == b) {
                    s[i][w++] = (uint8_t)c;
                    rr += 2;
                } else {
                    s[i][w++] = s[i][rr++];
                }
            }
            len[i] = w;
        }
    }
    /* expansions */
    static char exp[256][1024];
    static size_t el[256];
    for (int c = 0; c < 256; c++) {
        el[c] = kind[c] == 1;
        exp[c][0] = (char)c;
    }
    for (int c = 255; c >= 0; c--) {
        if (kind[c] == 2) {
            memcpy(exp[c], exp[ta[c]], el[ta[c]]);
            memcpy(exp[c] + el[ta[c]], exp[tb[c]], el[tb[c]]);
            el[c] = el[ta[c]] + el[tb[c]];
        }
    }
    o->tt_len = 0;
    for (int c = 0; c < 256; c++) {
        o->ti[2 * c] = (uint8_t)o->tt_len;
        o->ti[2 * c + 1] = (uint8_t)(o->tt_len >> 8);
        memcpy(o->tt + o->tt_len, exp[c], el[c]);
        o->tt_len += el[c];
        o->tt[o->tt_len++] = 0;
    }
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += len[i] + 2;
    o->names = malloc(total + 1);
    o->names_len = 0;
    for (size_t i = 0; i < n; i++) {
        if (len[i] > 127) {
            o->names[o->names_len++] = (uint8_t)((len[i] & 0x7F) | 0x80);
            o->names[o->names_len++] = (uint8_t)(len[i] >> 7);
        } else {
            o->names[o->names_len++] = (uint8_t)len[i];
        }
        memcpy(o->names + o->names_len, s[i], len[i]);
        o->names_len += len[i];
        free(s[i]);
    }
    free(s);
    free(len);
}

static const struct mrec *g_sorted;
static int cmp_name_pos(const void *pa, const void *pb)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    const struct mrec *x = &g_sorted[a], *y = &g_sorted[b];
    size_t m = x->len < y->len ? x->len : y->len;
    int r = memcmp(x->name, y->name, m);
    if (r)
        return r;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return a < b ? -1 : a > b;
}

/* Build m into a table and compare everything with the naive model.
 * naive: also run the classic compressor (slow for big inputs). */
static struct ksym_table *check_model(struct model *m, int naive, const char *label)
{
    struct ksym_builder *b = ksym_builder_new();
    for (size_t i = 0; i < m->n; i++) {
        const struct mrec *r = &m->r[i];
        int e = ksym_builder_add(b, r->addr, r->type, r->name, r->len, r->module,
                                 r->module ? strlen(r->module) : 0);
        CHECK_EQ(e, 0);
    }
    struct ksym_table *t = NULL;
    int e = ksym_builder_finish(b, &t);
    CHECK_EQ(e, 0);
    CHECK_EQ(ksym_builder_count(b), 0);
    ksym_builder_free(b);
    if (!t)
        return NULL;
    size_t n = m->n;
    struct mrec *s = malloc((n ? n : 1) * sizeof *s);
    memcpy(s, m->r, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_kernel);
    CHECK_EQ(ksym_count(t), n);

    /* Modules are numbered in order of first appearance in the input. */
    char **mods = calloc(n + 1, sizeof *mods);
    size_t nm = 0;
    for (size_t i = 0; i < n; i++) {
        if (!m->r[i].module)
            continue;
        size_t k = 0;
        while (k < nm && strcmp(mods[k], m->r[i].module))
            k++;
        if (k == nm)
            mods[nm++] = m->r[i].module;
    }
    /* Round trip of every symbol. */
    char buf[600];
    for (size_t i = 0; i < n; i++) {
        uint64_t a;
        char ty;
        int32_t mo;
        int l = ksym_symbol(t, (uint32_t)i, &a, &ty, &mo, buf, sizeof buf);
        if (l != (int)s[i].len || memcmp(buf, s[i].name, s[i].len) || a != s[i].addr ||
            ty != s[i].type) {
            fprintf(stderr, "%s: symbol %zu: got %d '%s' %c %llx, want '%s' %c %llx\n", label, i,
                    l, buf, ty, (unsigned long long)a, s[i].name, s[i].type,
                    (unsigned long long)s[i].addr);
            failures++;
            if (failures > 20)
                exit(1);
        }
        CHECK_EQ(ksym_type(t, (uint32_t)i), s[i].type);
        CHECK_EQ(ksym_address(t, (uint32_t)i), s[i].addr);
        if (!s[i].module) {
            CHECK_EQ(mo, -1);
        } else {
            size_t k = 0;
            while (k < nm && strcmp(mods[k], s[i].module))
                k++;
            CHECK_EQ(mo, k);
            const char *mn = ksym_module_name(t, (uint32_t)mo);
            CHECK(mn && !strcmp(mn, s[i].module));
        }
    }
    CHECK_EQ(ksym_module_count(t), nm);
    free(mods);
    CHECK_EQ(ksym_name(t, (uint32_t)n, buf, sizeof buf), KSYM_ERANGE);

    /* Kernel arrays against the classic compressor. */
    size_t len;
    const uint8_t *names = ksym_names_bytes(t, &len);
    if (naive) {
        struct naive_out *o = malloc(sizeof *o);
        naive_compress(s, n, o);
        size_t ttl, til;
        const uint8_t *tt = ksym_token_table_bytes(t, &ttl);
        const uint8_t *ti = ksym_token_index_bytes(t, &til);
        CHECK_EQ(len, o->names_len);
        CHECK(len == o->names_len && !memcmp(names, o->names, len));
        CHECK_EQ(ttl, o->tt_len);
        CHECK(ttl == o->tt_len && !memcmp(tt, o->tt, ttl));
        CHECK_EQ(til, 512);
        CHECK(!memcmp(ti, o->ti, 512));
        free(o->names);
        free(o);
    }
    /* markers */
    {
        size_t ml;
        const uint8_t *mk = ksym_markers_bytes(t, &ml);
        CHECK_EQ(ml, (n + 255) / 256 * 4);
        size_t off = 0;
        for (size_t i = 0; i < n; i++) {
            if (i % 256 == 0) {
                uint32_t v = mk[i / 256 * 4] | mk[i / 256 * 4 + 1] << 8 |
                             mk[i / 256 * 4 + 2] << 16 | (uint32_t)mk[i / 256 * 4 + 3] << 24;
                CHECK_EQ(v, off);
            }
            size_t L = names[off];
            size_t pre = 1;
            if (L & 0x80) {
                L = (L & 0x7F) | (names[off + 1] << 7);
                pre = 2;
            }
            off += pre + L;
        }
        CHECK_EQ(off, len);
    }
    /* seqs_of_names against a plain qsort */
    uint32_t *pos = malloc((n ? n : 1) * sizeof *pos);
    for (size_t i = 0; i < n; i++)
        pos[i] = (uint32_t)i;
    g_sorted = s;
    qsort(pos, n, sizeof *pos, cmp_name_pos);
    {
        size_t sl;
        const uint8_t *sq = ksym_seqs_bytes(t, &sl);
        CHECK_EQ(sl, 3 * n);
        for (size_t j = 0; j < n; j++) {
            uint32_t v = (uint32_t)sq[3 * j] << 16 | sq[3 * j + 1] << 8 | sq[3 * j + 2];
            if (v != pos[j]) {
                fprintf(stderr, "%s: seq %zu = %u, want %u\n", label, j, v, pos[j]);
                failures++;
                break;
            }
            CHECK_EQ(ksym_seq(t, (uint32_t)j), pos[j]);
        }
    }
    /* Every name: lookup gives the lowest index, the run covers them all. */
    for (size_t j = 0; j < n;) {
        size_t k = j + 1;
        while (k < n && s[pos[k]].len == s[pos[j]].len &&
               !memcmp(s[pos[k]].name, s[pos[j]].name, s[pos[j]].len))
            k++;
        const struct mrec *r = &s[pos[j]];
        int64_t idx = ksym_lookup_name(t, r->name, r->len, NULL);
        if (idx != pos[j]) {
            fprintf(stderr, "%s: lookup '%s' = %lld, want %u\n", label, r->name, (long long)idx,
                    pos[j]);
            failures++;
        }
        uint32_t first = 12345;
        int64_t cnt = ksym_name_run(t, r->name, r->len, &first);
        CHECK_EQ(cnt, k - j);
        CHECK_EQ(first, j);
        j = k;
    }
    CHECK_EQ(ksym_lookup_name(t, "", 0, NULL), -1);
    CHECK_EQ(ksym_lookup_name(t, "no such symbol at all", 21, NULL), -1);
    free(pos);

    /* Address lookups against a linear scan. */
    int rounds = n ? 3000 : 10;
    for (int k = 0; k < rounds; k++) {
        uint64_t q;
        if (!n)
            q = rnd();
        else {
            size_t i = rnd() % n;
            switch (rnd() % 4) {
            case 0: q = s[i].addr; break;
            case 1: q = s[i].addr + rnd() % 256; break;
            case 2: q = s[i].addr - rnd() % 64; break;
            default: q = s[0].addr + rnd() % (s[n - 1].addr - s[0].addr + 2); break;
            }
        }
        struct ksym_addr_info info;
        int got = ksym_lookup_addr(t, q, &info, NULL, 0);
        /* brute force */
        int want = 0;
        size_t wi = 0;
        for (size_t i = 0; i < n; i++)
            if (s[i].addr <= q)
                wi = i, want = 1;
        uint64_t size = 0;
        if (want) {
            /* DESIGN.md "Address lookup": the next symbol bounds the size
             * only inside one region (same module); no region ends are
             * known here, so the last symbol of a region covers only its
             * own address. */
            size_t last = wi;
            uint64_t a = s[wi].addr;
            while (wi > 0 && s[wi - 1].addr == a)
                wi--;
            size_t nx = last + 1;
            const char *m1 = s[last].module, *m2 = nx < n ? s[nx].module : NULL;
            int same = nx < n && ((!m1 && !m2) || (m1 && m2 && strcmp(m1, m2) == 0));
            if (same)
                size = s[nx].addr - a;
            else if (q != a)
                want = 0;
        }
        CHECK_EQ(got, want);
        if (got && want) {
            CHECK_EQ(info.index, wi);
            CHECK_EQ(info.address, s[wi].addr);
            CHECK_EQ(info.offset, q - s[wi].addr);
            CHECK_EQ(info.size, size);
        }
    }

    /* dump_range in pieces with a small buffer */
    if (n) {
        char *db = malloc(4096);
        uint64_t *ad = malloc(n * sizeof *ad);
        char *ty = malloc(n);
        int32_t *mo = malloc(n * sizeof *mo);
        size_t i = 0;
        while (i < n) {
            size_t w;
            uint32_t want = (uint32_t)(n - i < 1000 ? n - i : 1000);
            int64_t got = ksym_dump_range(t, (uint32_t)i, want, ad + i, ty + i, mo + i, db,
                                          4096, &w);
            CHECK(got > 0);
            if (got <= 0)
                break;
            size_t o = 0;
            for (int64_t k = 0; k < got; k++) {
                const struct mrec *r = &s[i + k];
                CHECK(o + r->len < w && !memcmp(db + o, r->name, r->len) &&
                      db[o + r->len] == '\n');
                o += r->len + 1;
                CHECK_EQ(ad[i + k], r->addr);
                CHECK_EQ(ty[i + k], r->type);
            }
            CHECK_EQ(o, w);
            i += (size_t)got;
        }
        size_t w;
        CHECK_EQ(ksym_dump_range(t, 0, (uint32_t)n + 1, NULL, NULL, NULL, db, 4096, &w),
                 KSYM_ERANGE);
        CHECK_EQ(ksym_dump_range(t, (uint32_t)n, 0, NULL, NULL, NULL, db, 4096, &w), 0);
        CHECK_EQ(ksym_dump_range(t, 0, 1, NULL, NULL, NULL, db, 0, &w), KSYM_ENOSPC);
        free(db);
        free(ad);
        free(ty);
        free(mo);
    }
    free(s);
    return t;
}

/* ---- hand-made cases ---------------------------------------------------------- */

static void test_validation(void)
{
    struct ksym_builder *b = ksym_builder_new();
    char longname[600];
    memset(longname, 'a', sizeof longname);
    CHECK_EQ(ksym_builder_add(b, 1, 'T', "ok", 2, NULL, 0), 0);
    CHECK_EQ(ksym_builder_add(b, 1, 'T', longname, 600, NULL, 0), KSYM_EBADNAME);
    CHECK(!strcmp(ksym_builder_message(b), "name is 600 bytes, longer than 511"));
    CHECK_EQ(ksym_builder_error_record(b), 1);
    CHECK_EQ(ksym_builder_add(b, 1, 'T', longname, 511, NULL, 0), 0);
    CHECK_EQ(ksym_builder_add(b, 1, 'T', "", 0, NULL, 0), KSYM_EBADNAME);
    CHECK_EQ(ksym_builder_add(b, 1, 'T', "abc def", 7, NULL, 0), KSYM_EBADNAME);
    CHECK(!strcmp(ksym_builder_message(b), "name contains whitespace at byte 3"));
    CHECK_EQ(ksym_builder_error_record(b), 2);
    CHECK_EQ(ksym_builder_add(b, 1, 'T', "ab\vc", 4, NULL, 0), KSYM_EBADNAME);
    CHECK_EQ(ksym_builder_add(b, 1, 'T', "ab\0c", 4, NULL, 0), KSYM_EBADNAME);
    CHECK(strstr(ksym_builder_message(b), "NUL"));
    CHECK_EQ(ksym_builder_add(b, 1, 'T', "a\x01\x7f\xff", 4, NULL, 0), 0);
    CHECK_EQ(ksym_builder_add(b, 1, ' ', "x", 1, NULL, 0), KSYM_EBADTYPE);
    CHECK_EQ(ksym_builder_add(b, 1, 0x7f, "x", 1, NULL, 0), KSYM_EBADTYPE);
    CHECK_EQ(ksym_builder_add(b, 1, (char)0x80, "x", 1, NULL, 0), KSYM_EBADTYPE);
    CHECK_EQ(ksym_builder_add(b, 1, '!', "x", 1, NULL, 0), 0);
    CHECK_EQ(ksym_builder_add(b, 1, '~', "x", 1, NULL, 0), 0);
    CHECK_EQ(ksym_builder_add(b, 1, 't', "x", 1, "[m]", 3), KSYM_EBADMODULE);
    CHECK_EQ(ksym_builder_add(b, 1, 't', "x", 1, "m m", 3), KSYM_EBADMODULE);
    CHECK_EQ(ksym_builder_add(b, 1, 't', "x", 1, longname, 256), KSYM_EBADMODULE);
    CHECK_EQ(ksym_builder_add(b, 1, 't', "x", 1, longname, 255), 0);
    CHECK_EQ(ksym_builder_add(b, 1, 't', "x", 1, NULL, 3), KSYM_EINVAL);
    CHECK_EQ(ksym_builder_count(b), 6);
    ksym_builder_free(b);
}

/* The bank (bank.h): arrays are apart and aligned, a full bank hands out
 * malloc blocks, an array that outgrows the bank keeps what it held, and
 * faulting pages in reports what is left to do. */
static void test_bank(void)
{
    struct ksym_bank k = {0};
    CHECK(ksym__bank_reserve(&k, 10000) == 0 && k.cap >= 10000);
    size_t cap = k.cap;
    size_t left = ksym__bank_touch(&k, cap, 4096);
    CHECK(left > 0 && left < cap);
    while (left)
        left = ksym__bank_touch(&k, cap, 4096);
    CHECK(k.touched == cap && ksym__bank_touch(&k, cap + 1, 4096) == 0);

    uint32_t *a = ksym__bank_alloc(&k, 100 * sizeof *a);
    uint8_t *b = ksym__bank_alloc(&k, 3);
    CHECK(a && b && (uint8_t *)(a + 100) <= b && ((uintptr_t)b - (uintptr_t)a) % 64 == 0);
    for (uint32_t i = 0; i < 100; i++)
        a[i] = i * 7;
    b[0] = b[1] = b[2] = 9;
    uint8_t *big = ksym__bank_alloc(&k, cap); /* no room left: malloc */
    CHECK(big && (big + cap <= k.mem || big >= k.mem + k.cap));
    big[cap - 1] = 1;
    ksym__bank_release(&k, big);

    size_t acap = 100;
    CHECK(ksym__bank_grow(&k, (void **)&a, &acap, 50, 100, sizeof *a) == 0 && acap == 100);
    CHECK(ksym__bank_grow(&k, (void **)&a, &acap, 5000, 60, sizeof *a) == 0 && acap >= 5000);
    CHECK((uint8_t *)a + 5000 * sizeof *a <= k.mem || (uint8_t *)a >= k.mem + k.cap);
    int kept = 1;
    for (uint32_t i = 0; i < 60; i++)
        kept &= a[i] == i * 7;
    CHECK(kept);
    a[4999] = 1;
    CHECK(b[0] == 9 && b[1] == 9 && b[2] == 9);
    ksym__bank_release(&k, a);
    ksym__bank_release(&k, b);
    ksym__bank_free(&k);
    CHECK(k.mem == NULL && k.cap == 0);
}

/* ksym_names_figures: one prefix byte per record, two for a record of more
 * than 127 codes; the names' own lengths. */
static void test_names_figures(void)
{
    char longname[500];
    uint32_t x = 12345; /* pseudo-random bytes: their pairs seldom repeat */
    for (size_t i = 0; i < sizeof longname; i++) {
        x = x * 1103515245u + 12345u;
        longname[i] = (char)('!' + (x >> 16) % 90);
    }
    struct ksym_builder *b = ksym_builder_new();
    CHECK_EQ(ksym_builder_add(b, 0x1000, 'T', "short", 5, NULL, 0), 0);
    CHECK_EQ(ksym_builder_add(b, 0x2000, 't', longname, sizeof longname, NULL, 0), 0);
    CHECK_EQ(ksym_builder_add(b, 0x3000, 'D', "x", 1, "mod", 3), 0);
    struct ksym_table *t = NULL;
    CHECK_EQ(ksym_builder_finish(b, &t), 0);
    uint64_t prefix_bytes = 0, name_bytes = 0;
    CHECK_EQ(ksym_names_figures(t, &prefix_bytes, &name_bytes), 0);
    CHECK_EQ(prefix_bytes, 4);
    CHECK_EQ(name_bytes, 5 + sizeof longname + 1);
    CHECK_EQ(ksym_names_figures(t, NULL, &name_bytes), KSYM_EINVAL);
    ksym_table_free(t);
    ksym_builder_free(b);
}

static void test_empty(void)
{
    struct ksym_builder *b = ksym_builder_new();
    struct ksym_table *t = NULL;
    CHECK_EQ(ksym_builder_finish(b, &t), 0);
    CHECK(t != NULL);
    CHECK_EQ(ksym_count(t), 0);
    size_t l;
    ksym_names_bytes(t, &l);
    CHECK_EQ(l, 0);
    ksym_markers_bytes(t, &l);
    CHECK_EQ(l, 0);
    const uint8_t *tt = ksym_token_table_bytes(t, &l);
    CHECK_EQ(l, 256);
    CHECK(tt[0] == 0 && tt[255] == 0);
    const uint8_t *ti = ksym_token_index_bytes(t, &l);
    CHECK_EQ(ti[2 * 255], 255);
    struct ksym_addr_info info;
    CHECK_EQ(ksym_lookup_addr(t, 0, &info, NULL, 0), 0);
    CHECK_EQ(ksym_lookup_name(t, "a", 1, NULL), -1);
    CHECK_EQ(ksym_name_run(t, "a", 1, NULL), 0);
    CHECK_EQ(ksym_module(t, 0), -1);
    ksym_table_free(t);
    /* reuse after finish */
    CHECK_EQ(ksym_builder_add(b, 5, 'T', "x", 1, "mod", 3), 0);
    CHECK_EQ(ksym_builder_finish(b, &t), 0);
    CHECK_EQ(ksym_count(t), 1);
    CHECK_EQ(ksym_lookup_name(t, "x", 1, NULL), 0);
    CHECK_EQ(ksym_module(t, 0), 0);
    CHECK(!strcmp(ksym_module_name(t, 0), "mod"));
    CHECK_EQ(ksym_lookup_addr(t, 5, &info, NULL, 0), 1);
    CHECK_EQ(info.size, 0);
    CHECK_EQ(ksym_lookup_addr(t, 6, &info, NULL, 0), 0);
    CHECK_EQ(ksym_lookup_addr(t, 4, &info, NULL, 0), 0);
    ksym_table_free(t);
    ksym_builder_free(b);
}

static void test_order(void)
{
    struct model m = {0};
    /* all at one address: kernel order puts these in a fixed order */
    const char *names[] = {"__end_foo", "weakling", "___x", "_x", "x", "__start_abc",
                           "__a_start", "__b_end", "__c_en", "__abcdef", "__s_end"};
    char types[] = {'T', 'w', 'T', 'T', 'T', 'T', 'T', 'T', 'T', 'T', 'W'};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        model_add(&m, 0x1000, types[i], names[i], strlen(names[i]), NULL, 0);
    model_add(&m, 0x0fff, 't', "before", 6, "modA", 4);
    model_add(&m, 0x2000, 't', "after", 5, "modB", 4);
    model_add(&m, 0x1800, 't', "mid", 3, "modA", 4);
    struct ksym_table *t = check_model(&m, 1, "order");
    char buf[64];
    ksym_name(t, 1, buf, sizeof buf);
    CHECK(!strcmp(buf, "x"));
    ksym_table_free(t);
    model_free(&m);

    /* wide addresses and aliases at the ends */
    model_add(&m, 0, 'T', "zero", 4, NULL, 0);
    model_add(&m, UINT64_MAX, 'T', "top", 3, NULL, 0);
    model_add(&m, UINT64_MAX, 'T', "top2", 4, NULL, 0);
    model_add(&m, 1ull << 40, 'T', "mid", 3, NULL, 0);
    t = check_model(&m, 1, "wide");
    struct ksym_addr_info info;
    CHECK_EQ(ksym_lookup_addr(t, UINT64_MAX, &info, NULL, 0), 1);
    CHECK_EQ(info.index, 2);
    CHECK_EQ(info.size, 0);
    ksym_table_free(t);
    model_free(&m);
}

static void test_compression_cases(void)
{
    struct model m = {0};
    /* overlapping pairs, long names (2-byte prefixes), odd bytes */
    const char *names[] = {"aaa", "aaaa", "aaaaa", "abab", "ababab", "ba", "a", "b"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        model_add(&m, 0x100 + i, 'a', names[i], strlen(names[i]), NULL, 0);
    struct ksym_table *t = check_model(&m, 1, "overlap");
    ksym_table_free(t);
    model_free(&m);

    /* random names over a small alphabet, with duplicates; long ones */
    for (int round = 0; round < 20; round++) {
        size_t n = 1 + rnd() % 700;
        for (size_t i = 0; i < n; i++) {
            char nm[520];
            size_t len = 1 + rnd() % (round % 3 == 0 ? 511 : 12);
            for (size_t j = 0; j < len; j++)
                nm[j] = "ab_c.\x01\xff"[rnd() % (round % 2 ? 3 : 7)];
            char ty = "tTdDbBrRwWaA"[rnd() % 12];
            const char *mod = rnd() % 3 ? NULL : (rnd() % 2 ? "m1" : "m2");
            uint64_t addr = round % 5 == 0 ? rnd() : 0xffffffff81000000ull + rnd() % 5000;
            model_add(&m, addr, ty, nm, len, mod, mod ? 2 : 0);
            if (rnd() % 5 == 0) /* duplicate name */
                model_add(&m, addr + rnd() % 100, ty, nm, len, NULL, 0);
        }
        t = check_model(&m, 1, "random");
        ksym_table_free(t);
        model_free(&m);
    }
}

static void test_text(void)
{
    struct ksym_builder *b = ksym_builder_new();
    const char *ok =
        "ffffffff81000000 T _stext\n"
        "\n"
        "   \t \r\n"
        "                 U malloc\n"
        "ffffffffc0201000 t ftrace_trampoline\t[__builtin__ftrace]\r\n"
        "0000000000001139 0000000000000017 T main\n"
        "0000000000001000 d   data_thing";
    CHECK_EQ(ksym_builder_add_text(b, ok, strlen(ok)), 0);
    CHECK_EQ(ksym_builder_count(b), 4);
    struct {
        const char *text;
        size_t len; /* 0: strlen */
        int err;
        uint64_t line;
        const char *msg;
    } bad[] = {
        {"", 0, KSYM_EEMPTY, 0, "no symbols"},
        {"\n\n   U foo\n", 0, KSYM_EEMPTY, 0, "no symbols"},
        {"0000 T a\n0 t b\n", 0, KSYM_EZEROADDR, 0, NULL},
        {"1 T a\nxyz T b\n", 0, KSYM_EPARSE, 2, "bad address 'xyz'"},
        {"1 T a\n1 T b c d\n", 0, KSYM_EPARSE, 2,
         "expected 'ADDRESS TYPE NAME [MODULE]', got 5 fields"},
        {"1 T a\nfoo\n", 0, KSYM_EPARSE, 2, "expected 'ADDRESS TYPE NAME [MODULE]', got 1 field"},
        {"1 T a\n12 foo\n", 0, KSYM_EPARSE, 2,
         "expected 'ADDRESS TYPE NAME [MODULE]', got 2 fields"},
        {"1 T a\n1 T b\0\n", 13, KSYM_EPARSE, 2, "NUL byte in line"},
        {"1 TT a\n", 0, KSYM_EPARSE, 1, "type 'TT' is not one character"},
        {"1 T a [mod\n", 0, KSYM_EPARSE, 1, "bad module field '[mod'"},
        {"1 T a []\n", 0, KSYM_EBADMODULE, 1, "module name is empty"},
        {"1 T a [a]b]\n", 0, KSYM_EBADMODULE, 1, NULL},
        {"1 xyz T a\n", 0, KSYM_EPARSE, 1, "bad size 'xyz'"},
        {"11111111111111111 T a\n", 0, KSYM_EPARSE, 1, NULL},
        {"1 \x7f a\n", 0, KSYM_EBADTYPE, 1, NULL},
        {"1 T a\vb\n", 0, KSYM_EBADNAME, 1, "name contains whitespace at byte 1"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        size_t len = bad[i].len ? bad[i].len : strlen(bad[i].text);
        int e = ksym_builder_add_text(b, bad[i].text, len);
        if (e != bad[i].err || ksym_builder_error_line(b) != bad[i].line ||
            (bad[i].msg && strcmp(ksym_builder_message(b), bad[i].msg))) {
            fprintf(stderr, "text case %zu: got %d line %llu '%s'\n", i, e,
                    (unsigned long long)ksym_builder_error_line(b), ksym_builder_message(b));
            failures++;
        }
        CHECK_EQ(ksym_builder_count(b), 4);
    }
    char big[700];
    int l = snprintf(big, sizeof big, "1 T ");
    memset(big + l, 'x', 600);
    big[l + 600] = 0;
    CHECK_EQ(ksym_builder_add_text(b, big, strlen(big)), KSYM_EBADNAME);
    CHECK(!strcmp(ksym_builder_message(b), "name is 600 bytes, longer than 511"));
    CHECK_EQ(ksym_builder_error_line(b), 1);
    /* a module interned by a failed text must not survive */
    const char *modfail = "5 t q [newmod]\nzz T r\n";
    CHECK_EQ(ksym_builder_add_text(b, modfail, strlen(modfail)), KSYM_EPARSE);
    struct ksym_table *t;
    CHECK_EQ(ksym_builder_finish(b, &t), 0);
    CHECK_EQ(ksym_count(t), 4);
    CHECK_EQ(ksym_module_count(t), 1);
    CHECK(!strcmp(ksym_module_name(t, 0), "__builtin__ftrace"));
    CHECK_EQ(ksym_lookup_name(t, "main", 4, NULL), 1);
    ksym_table_free(t);
    ksym_builder_free(b);
}

/* ---- a real text file ------------------------------------------------------------ */

/* Independent, simple reader for the model. */
static void model_from_text(struct model *m, char *text, size_t len)
{
    char *p = text, *end = text + len;
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *le = nl ? nl : end;
        char *f[6];
        size_t fl[6];
        int nf = 0;
        char *q = p;
        while (q < le && nf < 6) {
            while (q < le && (*q == ' ' || *q == '\t' || *q == '\r'))
                q++;
            if (q == le)
                break;
            f[nf] = q;
            while (q < le && *q != ' ' && *q != '\t' && *q != '\r')
                q++;
            fl[nf] = (size_t)(q - f[nf]);
            nf++;
        }
        if (nf == 3)
            model_add(m, strtoull(f[0], NULL, 16), f[1][0], f[2], fl[2], NULL, 0);
        else if (nf == 4 && f[3][0] == '[')
            model_add(m, strtoull(f[0], NULL, 16), f[1][0], f[2], fl[2], f[3] + 1, fl[3] - 2);
        else if (nf == 4)
            model_add(m, strtoull(f[0], NULL, 16), f[2][0], f[3], fl[3], NULL, 0);
        p = nl ? nl + 1 : end;
    }
}

/* ksym_table_from_arrays (csrc/arrays.c) over a table's own kernel arrays:
 * the same symbols, names found the same way. */
static void check_from_arrays(const struct ksym_table *t)
{
    size_t nl, tl, il, sl;
    const uint8_t *names = ksym_names_bytes(t, &nl), *tt = ksym_token_table_bytes(t, &tl);
    const uint8_t *ti = ksym_token_index_bytes(t, &il), *seqs = ksym_seqs_bytes(t, &sl);
    uint32_t n = ksym_count(t);
    uint64_t *addrs = malloc((n ? n : 1) * sizeof *addrs);
    for (uint32_t i = 0; i < n; i++)
        addrs[i] = ksym_address(t, i);
    struct ksym_table *u = NULL;
    char msg[128];
    CHECK_EQ(ksym_table_from_arrays(names, nl, tt, tl, ti, seqs, addrs, n, &u, msg, sizeof msg), 0);
    if (u) {
        CHECK_EQ(ksym_count(u), n);
        char a[KSYM_NAME_MAX + 1], b[KSYM_NAME_MAX + 1];
        for (uint32_t i = 0; i < n; i++) {
            int la = ksym_name(t, i, a, sizeof a), lb = ksym_name(u, i, b, sizeof b);
            CHECK_EQ(la, lb);
            CHECK(la >= 0 && memcmp(a, b, (size_t)la) == 0);
            CHECK_EQ(ksym_address(u, i), addrs[i]);
            CHECK_EQ(ksym_type(u, i), ksym_type(t, i));
            if (i % 7 == 0 && la > 0) {
                uint64_t x = 0, y = 0;
                CHECK_EQ(ksym_lookup_name(u, a, (size_t)la, &x), ksym_lookup_name(t, a, (size_t)la, &y));
                CHECK_EQ(x, y);
            }
        }
        ksym_table_free(u);
    }
    /* damaged copies: a table or an error, never a bad read (ASan) */
    uint8_t *nb = malloc(nl + 1), *sb = malloc(sl + 1), *ib = malloc(il + 1);
    for (int round = 0; round < 200; round++) {
        memcpy(nb, names, nl);
        memcpy(sb, seqs, sl);
        memcpy(ib, ti, il);
        uint8_t *which = round % 3 == 0 ? nb : round % 3 == 1 ? sb : ib;
        size_t wl = round % 3 == 0 ? nl : round % 3 == 1 ? sl : il;
        for (int k = 0; k < 1 + round % 4 && wl; k++)
            which[rnd() % wl] = (uint8_t)rnd();
        size_t cut = round % 5 == 0 && nl ? rnd() % nl : nl;
        u = NULL;
        int rc = ksym_table_from_arrays(nb, cut, tt, tl, ib, sb, addrs, n, &u, msg, sizeof msg);
        CHECK(rc == 0 || rc == KSYM_ECORRUPT);
        if (u) {
            char x[KSYM_NAME_MAX + 1];
            for (uint32_t i = 0; i < n; i += 1 + n / 64)
                ksym_name(u, i, x, sizeof x);
            ksym_table_free(u);
        }
    }
    free(nb);
    free(sb);
    free(ib);
    free(addrs);
}

static void test_file(const char *path)
{
    size_t len;
    char *text = read_file(path, &len);
    if (!text) {
        fprintf(stderr, "cannot read %s\n", path);
        failures++;
        return;
    }
    struct ksym_builder *b = ksym_builder_new();
    double best_parse = 1e9, best_finish = 1e9;
    struct ksym_table *t = NULL;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now_ms();
        int e = ksym_builder_add_text(b, text, len);
        double t1 = now_ms();
        if (e) {
            fprintf(stderr, "%s: error %d line %llu: %s\n", path, e,
                    (unsigned long long)ksym_builder_error_line(b), ksym_builder_message(b));
            failures++;
            ksym_builder_free(b);
            free(text);
            return;
        }
        ksym_table_free(t);
        t = NULL;
        e = ksym_builder_finish(b, &t);
        double t2 = now_ms();
        CHECK_EQ(e, 0);
        if (t1 - t0 < best_parse)
            best_parse = t1 - t0;
        if (t2 - t1 < best_finish)
            best_finish = t2 - t1;
    }
    uint32_t n = ksym_count(t);
    printf("%s: %zu bytes, %u symbols, %u modules\n", path, len, n, ksym_module_count(t));
    printf("  parse  %.2f ms (best of 5)\n", best_parse);
    printf("  finish %.2f ms (best of 5)\n", best_finish);
    printf("  memory %zu bytes = %.1f bytes/symbol\n", ksym_memory_size(t),
           (double)ksym_memory_size(t) / (n ? n : 1));
    size_t nl;
    ksym_names_bytes(t, &nl);
    printf("  names  %zu bytes = %.2f bytes/symbol\n", nl, (double)nl / (n ? n : 1));

    /* Timings: exact lookups of every name, in random order; the query
     * names packed back to back in that order. */
    size_t nl_total = 0;
    for (uint32_t i = 0; i < n; i++)
        nl_total += (size_t)ksym_name(t, i, (char[600]){0}, 600) + 1;
    char *qbuf = malloc(nl_total + 1);
    size_t *qoff = malloc(((size_t)n + 1) * sizeof *qoff);
    uint32_t *order = malloc((size_t)n * sizeof *order);
    for (uint32_t i = 0; i < n; i++)
        order[i] = i;
    for (uint32_t i = n; i > 1; i--) {
        uint32_t j = (uint32_t)(rnd() % i), x = order[i - 1];
        order[i - 1] = order[j];
        order[j] = x;
    }
    size_t qo = 0;
    for (uint32_t k = 0; k < n; k++) {
        qoff[k] = qo;
        qo += (size_t)ksym_name(t, order[k], qbuf + qo, nl_total + 1 - qo) + 1;
    }
    qoff[n] = qo;
    int64_t sink = 0;
    double best = 1e9;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now_ms();
        for (uint32_t k = 0; k < n; k++)
            sink += ksym_lookup_name(t, qbuf + qoff[k], qoff[k + 1] - qoff[k] - 1, NULL);
        double t1 = now_ms();
        if (t1 - t0 < best)
            best = t1 - t0;
    }
    printf("  lookup_name   %.1f ns/lookup (all names, random order, best of 5)\n",
           best * 1e6 / (n ? n : 1));
    best = 1e9;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now_ms();
        for (uint32_t k = 0; k < n; k++)
            sink += ksym_lookup_name(t, qbuf + qoff[k], qoff[k + 1] - qoff[k] - 2, NULL);
        double t1 = now_ms();
        if (t1 - t0 < best)
            best = t1 - t0;
    }
    printf("  lookup_name   %.1f ns/lookup (names cut by one byte: mostly misses)\n",
           best * 1e6 / (n ? n : 1));
    best = 1e9;
    char buf[600];
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now_ms();
        for (uint32_t k = 0; k < n; k++)
            sink += ksym_name(t, order[k], buf, sizeof buf);
        double t1 = now_ms();
        if (t1 - t0 < best)
            best = t1 - t0;
    }
    printf("  ksym_name     %.1f ns/name (random order)\n", best * 1e6 / (n ? n : 1));
    /* address lookups */
    size_t nq = 1000000;
    uint64_t *qs = malloc(nq * sizeof *qs);
    for (size_t k = 0; k < nq; k++)
        qs[k] = ksym_address(t, (uint32_t)(rnd() % n)) + rnd() % 64;
    struct ksym_addr_info info;
    best = 1e9;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now_ms();
        for (size_t k = 0; k < nq; k++)
            sink += ksym_lookup_addr(t, qs[k], &info, NULL, 0) + info.index;
        double t1 = now_ms();
        if (t1 - t0 < best)
            best = t1 - t0;
    }
    printf("  lookup_addr   %.1f ns/lookup (random symbol + 0..63, best of 3)\n",
           best * 1e6 / nq);
    if (sink == 42)
        printf(" ");
    free(qs);
    free(qbuf);
    free(qoff);
    free(order);

    /* Correctness against the naive model (the classic compressor too). */
    struct model m = {0};
    model_from_text(&m, text, len);
    CHECK_EQ(m.n, n);
    double c0 = now_ms();
    struct ksym_table *t2 = check_model(&m, 1, path);
    printf("  checked against the naive model in %.0f ms\n", now_ms() - c0);
    /* identical bytes for both build paths */
    size_t l1, l2;
    const uint8_t *a1 = ksym_names_bytes(t, &l1), *a2 = ksym_names_bytes(t2, &l2);
    CHECK(l1 == l2 && !memcmp(a1, a2, l1));
    ksym_table_free(t2);
    model_free(&m);
    double a0 = now_ms();
    check_from_arrays(t);
    printf("  table over its own kernel arrays checked in %.0f ms\n", now_ms() - a0);
    ksym_table_free(t);
    ksym_builder_free(b);
    free(text);
}

/* Unsorted batches search the address index (addrindex.c) the first big
 * batch builds: clusters of addresses, one at the top of the address
 * space, module runs, sizes.  Answers before the index exists (one by one)
 * must equal the batch's and the one-by-one answers after it. */
static void test_address_index(void)
{
    struct ksym_builder *b = ksym_builder_new();
    const uint64_t bases[3] = {0x1000, 0xffffffffc0000000ull, UINT64_MAX - 3 * 1200 * 64};
    const char *mods[3] = {NULL, "ext4", "kvm"};
    uint64_t seed = 12345;
    char name[32];
    for (int c = 0; c < 3; c++) {
        uint64_t a = bases[c];
        for (int k = 0; k < 1200 * (c + 1); k++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            const char *m = mods[(seed >> 40) % 3 == 0 ? (seed >> 50) % 3 : 0];
            uint64_t size = (seed >> 20) % 4 == 0 ? (seed >> 30) % 100 : 0;
            int n = snprintf(name, sizeof name, "s%d_%d", c, k);
            CHECK(ksym_builder_add_sized(b, a, size, 't', name, (size_t)n, m, m ? strlen(m) : 0) == 0);
            a += (seed >> 33) % 64;
        }
    }
    struct ksym_table *t;
    CHECK(ksym_builder_finish(b, &t) == 0);
    ksym_builder_free(b);
    enum { N = 6000 };
    uint64_t *q = malloc(N * sizeof *q), *off = malloc(N * sizeof *off);
    int64_t *idx = malloc(N * sizeof *idx), *want = malloc(N * sizeof *want);
    uint64_t *want_off = malloc(N * sizeof *want_off);
    for (size_t k = 0; k < N; k++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        uint64_t base = bases[(seed >> 60) % 3];
        q[k] = k % 97 == 0 ? seed : base + (seed >> 8) % (3 * 1200 * 64 + 4096) - 64;
        struct ksym_addr_info info;
        int hit = ksym_lookup_addr(t, q[k], &info, NULL, 0);
        want[k] = hit ? (int64_t)info.index : -1;
        want_off[k] = hit ? info.offset : 0;
    }
    size_t before = ksym_memory_size(t);
    CHECK(ksym_symbolize(t, q, N, idx, off) == N);
    CHECK(ksym_memory_size(t) > before); /* the index was built */
    for (size_t k = 0; k < N; k++) {
        CHECK_EQ(idx[k], want[k]);
        CHECK_EQ(off[k], want_off[k]);
        struct ksym_addr_info info;
        int hit = ksym_lookup_addr(t, q[k], &info, NULL, 0);
        CHECK_EQ(hit ? (int64_t)info.index : -1, want[k]);
    }
    CHECK(ksym_symbolize(t, q + 7, 100, idx, off) == 100); /* short: uses the built index */
    for (size_t k = 0; k < 100; k++)
        CHECK_EQ(idx[k], want[k + 7]);
    free(q), free(off), free(idx), free(want), free(want_off);
    ksym_table_free(t);
}

/* ksym_builder_add_fd (readfd.c) equals ksym_builder_add_text on the same
 * bytes: lines cut by the reader's 256 KiB chunks, a last line without
 * '\n', and an error past the first chunk at the same line. */
static int build_fd(const char *text, size_t len, struct ksym_table **t, uint64_t *line)
{
    FILE *f = tmpfile();
    if (!f || fwrite(text, 1, len, f) != len || fflush(f) || fseek(f, 0, SEEK_SET))
        return -100;
    struct ksym_builder *b = ksym_builder_new();
    int rc = ksym_builder_add_fd(b, fileno(f));
    *line = ksym_builder_error_line(b);
    if (rc == 0)
        rc = ksym_builder_finish(b, t);
    ksym_builder_free(b);
    fclose(f);
    return rc;
}

static void test_add_fd(void)
{
    size_t cap = 3u << 20, len = 0;
    char *text = malloc(cap);
    for (int k = 0; len + 128 < cap; k++)
        len += (size_t)snprintf(text + len, cap - len, "%016llx t fd_sym_%d_%.*s\n",
                                0x1000ull + 16u * (unsigned)k, k, k % 50, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    uint64_t line;
    /* with and without a final newline (a read ending on a line end) */
    for (size_t cut = 0; cut < 2; cut++) {
        struct ksym_builder *b = ksym_builder_new();
        struct ksym_table *want, *got;
        CHECK(ksym_builder_add_text(b, text, len - cut) == 0);
        CHECK(ksym_builder_finish(b, &want) == 0);
        ksym_builder_free(b);
        CHECK(build_fd(text, len - cut, &got, &line) == 0);
        size_t l1, l2;
        const uint8_t *n1 = ksym_names_bytes(want, &l1), *n2 = ksym_names_bytes(got, &l2);
        CHECK(ksym_count(want) == ksym_count(got) && l1 == l2 && !memcmp(n1, n2, l1));
        ksym_table_free(want);
        ksym_table_free(got);
    }
    len--;
    /* a bad line in the middle of the second chunk */
    size_t at = (256u << 10) + 1000;
    while (text[at] != '\n')
        at++;
    text[at + 1] = 'z';
    struct ksym_builder *b = ksym_builder_new();
    int rc = ksym_builder_add_text(b, text, len);
    uint64_t want_line = ksym_builder_error_line(b);
    ksym_builder_free(b);
    CHECK(rc == KSYM_EPARSE && want_line > 1000);
    struct ksym_table *got;
    CHECK(build_fd(text, len, &got, &line) == KSYM_EPARSE);
    CHECK_EQ(line, want_line);
    free(text);
}

static int same_arrays(const struct ksym_table *x, const struct ksym_table *y)
{
    size_t l1, l2, t1, t2;
    const uint8_t *n1 = ksym_names_bytes(x, &l1), *n2 = ksym_names_bytes(y, &l2);
    const uint8_t *tt1 = ksym_token_table_bytes(x, &t1), *tt2 = ksym_token_table_bytes(y, &t2);
    return ksym_count(x) == ksym_count(y) && l1 == l2 && !memcmp(n1, n2, l1) && t1 == t2 &&
           !memcmp(tt1, tt2, t1);
}

/* The compression's input is prepared while an fd is read (compress.h):
 * records rolled back after being prepared, and a builder reused after
 * finish, must not leave prepared strings behind. */
static void test_prepare_rollback(void)
{
    size_t cap = 2u << 20, len = 0;
    char *text = malloc(cap);
    for (int k = 0; len + 128 < cap; k++)
        len += (size_t)snprintf(text + len, cap - len, "%016llx T prep_%d_%s\n",
                                0x2000ull + 16u * (unsigned)k, k, k % 3 ? "alpha" : "beta_gamma");
    /* A bad line far past the first batches. */
    char *bad = malloc(len + 32);
    size_t at = len - 4096;
    while (text[at - 1] != '\n')
        at++;
    memcpy(bad, text, at);
    memcpy(bad + at, "zz\n", 3);
    size_t bad_len = at + 3;

    struct ksym_builder *want_b = ksym_builder_new();
    CHECK(ksym_builder_add(want_b, 0x10, 't', "early_one", 9, NULL, 0) == 0);
    CHECK(ksym_builder_add_text(want_b, "0000000000000020 t tail_x\n", 26) == 0);
    struct ksym_table *want;
    CHECK(ksym_builder_finish(want_b, &want) == 0);

    FILE *f = tmpfile();
    CHECK(f && fwrite(bad, 1, bad_len, f) == bad_len && fflush(f) == 0 && fseek(f, 0, SEEK_SET) == 0);
    struct ksym_builder *b = ksym_builder_new();
    CHECK(ksym_builder_add(b, 0x10, 't', "early_one", 9, NULL, 0) == 0);
    CHECK(ksym_builder_add_fd(b, fileno(f)) == KSYM_EPARSE);
    CHECK(ksym_builder_count(b) == 1);
    CHECK(ksym_builder_add_text(b, "0000000000000020 t tail_x\n", 26) == 0);
    struct ksym_table *got;
    CHECK(ksym_builder_finish(b, &got) == 0);
    CHECK(same_arrays(want, got));
    ksym_table_free(got);
    fclose(f);

    /* The same builder again, after finish emptied it. */
    f = tmpfile();
    CHECK(f && fwrite(text, 1, len, f) == len && fflush(f) == 0 && fseek(f, 0, SEEK_SET) == 0);
    CHECK(ksym_builder_add_fd(b, fileno(f)) == 0);
    CHECK(ksym_builder_finish(b, &got) == 0);
    struct ksym_builder *fresh = ksym_builder_new();
    struct ksym_table *want2;
    CHECK(ksym_builder_add_text(fresh, text, len) == 0);
    CHECK(ksym_builder_finish(fresh, &want2) == 0);
    CHECK(same_arrays(want2, got));
    ksym_table_free(got);
    ksym_table_free(want2);
    ksym_table_free(want);
    ksym_builder_free(fresh);
    ksym_builder_free(want_b);
    ksym_builder_free(b);
    fclose(f);
    free(bad);
    free(text);
}

/* ksym_builder_add_many: the columns give the records add would, and a
 * bad one stops the batch with *done records added. */
static void test_add_many(void)
{
    const uint64_t addrs[4] = {0x30, 0x10, 0x20, 0x40};
    const char names[] = "gamma\0alpha\0beta\0delta";
    const char mods[] = "\0m1\0\0m2";
    size_t done;
    struct ksym_builder *b = ksym_builder_new(), *one = ksym_builder_new();
    CHECK(ksym_builder_add_many(b, 4, addrs, "TtDd", names, sizeof names - 1, mods, sizeof mods - 1,
                                &done) == 0);
    CHECK_EQ(done, 4);
    CHECK(ksym_builder_add(one, 0x30, 'T', "gamma", 5, NULL, 0) == 0);
    CHECK(ksym_builder_add(one, 0x10, 't', "alpha", 5, "m1", 2) == 0);
    CHECK(ksym_builder_add(one, 0x20, 'D', "beta", 4, NULL, 0) == 0);
    CHECK(ksym_builder_add(one, 0x40, 'd', "delta", 5, "m2", 2) == 0);
    struct ksym_table *x, *y;
    CHECK(ksym_builder_finish(b, &x) == 0 && ksym_builder_finish(one, &y) == 0);
    CHECK(same_arrays(x, y));
    for (uint32_t i = 0; i < ksym_count(x); i++)
        CHECK(ksym_module(x, i) == ksym_module(y, i) && ksym_address(x, i) == ksym_address(y, i));
    ksym_table_free(x);
    ksym_table_free(y);
    /* A bad third record: two added. */
    const char bad[] = "ok1\0ok2\0bad name\0ok3";
    CHECK(ksym_builder_add_many(b, 4, addrs, "TTTT", bad, sizeof bad - 1, NULL, 0, &done) ==
          KSYM_EBADNAME);
    CHECK_EQ(done, 2);
    CHECK_EQ(ksym_builder_count(b), 2);
    /* Fewer names than records: an error, nothing read past the names. */
    const char three[] = "a\0b\0c";
    CHECK(ksym_builder_add_many(b, 4, addrs, "TTTT", three, sizeof three - 1, NULL, 0, &done) ==
          KSYM_EINVAL);
    CHECK_EQ(done, 3);
    CHECK(ksym_builder_add_many(b, 0, NULL, NULL, NULL, 0, NULL, 0, &done) == 0 && done == 0);
    CHECK(ksym_builder_add_many(b, 1, addrs, "T", "x", 1, NULL, 0, NULL) == KSYM_EINVAL);
    ksym_builder_free(b);
    ksym_builder_free(one);
}

/* test_ksym --build FILE: only build FILE's table, from the text at once
 * and through ksym_builder_add_fd, and compare (for the thread sanitizer:
 * large builds run on two threads, and add_fd on two more). */
static int build_only(const char *path)
{
    size_t len;
    char *text = read_file(path, &len);
    if (!text) {
        fprintf(stderr, "cannot read %s\n", path);
        return 1;
    }
    struct ksym_builder *b = ksym_builder_new();
    struct ksym_table *whole = NULL, *piecewise = NULL;
    CHECK(ksym_builder_add_text(b, text, len) == 0);
    CHECK(ksym_builder_finish(b, &whole) == 0);
    uint64_t line;
    CHECK(build_fd(text, len, &piecewise, &line) == 0);
    if (whole && piecewise)
        CHECK(same_arrays(whole, piecewise));
    ksym_table_free(whole);
    ksym_table_free(piecewise);
    ksym_builder_free(b);
    free(text);
    printf(failures ? "FAILED\n" : "built alike\n");
    return failures != 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--build"))
        return build_only(argv[2]);
    test_validation();
    test_bank();
    test_names_figures();
    test_empty();
    test_order();
    test_compression_cases();
    test_text();
    test_address_index();
    test_add_fd();
    test_prepare_rollback();
    test_add_many();
    for (int i = 1; i < argc; i++)
        test_file(argv[i]);
    if (failures) {
        printf("FAILED: %d checks\n", failures);
        return 1;
    }
    printf("all tests passed\n");
    return 0;
}
