/* test_match.c - checks of csrc/match.c (suffix-aware matching, globs)
 * against naive loops over every expanded name.
 *
 * Usage: test_match [FILE...]   (e.g. /proc/kallsyms, an nm listing)
 * Without files only the hand-made cases run.
 *
 * SPDX-License-Identifier: MIT
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ksym.h"
#include "test_util.h"

/* Every name of a table, expanded once (the naive side). */
struct names {
    uint32_t n;
    char **name;
    size_t *len;
    int32_t *module;
};

static void names_load(struct names *a, const struct ksym_table *t)
{
    a->n = ksym_count(t);
    a->name = calloc(a->n + 1, sizeof *a->name);
    a->len = calloc(a->n + 1, sizeof *a->len);
    a->module = calloc(a->n + 1, sizeof *a->module);
    char buf[KSYM_NAME_MAX + 1];
    for (uint32_t i = 0; i < a->n; i++) {
        int l = ksym_name(t, i, buf, sizeof buf);
        CHECK(l >= 0);
        a->name[i] = strndup(buf, l < 0 ? 0 : (size_t)l);
        a->len[i] = l < 0 ? 0 : (size_t)l;
        a->module[i] = ksym_module(t, i);
    }
}

static void names_free(struct names *a)
{
    for (uint32_t i = 0; i < a->n; i++)
        free(a->name[i]);
    free(a->name);
    free(a->len);
    free(a->module);
}

/* Naive cut lengths, written independently of match.c. */
static size_t cut_llvm(const char *s, size_t n)
{
    for (size_t i = 0; i + 6 <= n; i++)
        if (strncmp(s + i, ".llvm.", 6) == 0)
            return i;
    return n;
}

static size_t cut_dot(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '.')
            return i;
    return n;
}

/* The naive answer: indexes and kinds in index order; returns the count. */
static size_t naive_match(const struct names *a, const char *q, size_t qlen, int policy,
                          int32_t module, uint32_t *idx, uint8_t *kind)
{
    size_t n = 0;
    if (qlen == 0)
        return 0;
    for (uint32_t i = 0; i < a->n; i++)
        if ((module == KSYM_MODULE_ANY || a->module[i] == module) && a->len[i] == qlen &&
            memcmp(a->name[i], q, qlen) == 0) {
            idx[n] = i;
            kind[n++] = KSYM_MATCH_EXACT;
        }
    if (n || policy == KSYM_SUFFIX_NONE)
        return n;
    for (uint32_t i = 0; i < a->n; i++) {
        if (module != KSYM_MODULE_ANY && a->module[i] != module)
            continue;
        const char *s = a->name[i];
        size_t l = a->len[i];
        if (cut_llvm(s, l) == qlen && memcmp(s, q, qlen) == 0) {
            idx[n] = i;
            kind[n++] = KSYM_MATCH_LLVM;
        } else if (policy == KSYM_SUFFIX_CLONE && cut_dot(s, l) == qlen && memcmp(s, q, qlen) == 0) {
            idx[n] = i;
            kind[n++] = KSYM_MATCH_CLONE;
        }
    }
    return n;
}

static void check_query(const struct ksym_table *t, const struct names *a, const char *q, size_t qlen,
                        int32_t module, uint32_t *i1, uint8_t *k1, uint32_t *i2, uint8_t *k2)
{
    for (int policy = KSYM_SUFFIX_NONE; policy <= KSYM_SUFFIX_CLONE; policy++) {
        size_t want = naive_match(a, q, qlen, policy, module, i1, k1);
        int64_t got = ksym_match(t, q, qlen, policy, module, i2, k2, a->n + 1);
        if (got != (int64_t)want) {
            fprintf(stderr, "query '%.*s' policy %d module %d: %lld matches, want %zu\n", (int)qlen, q,
                    policy, (int)module, (long long)got, want);
            failures++;
            continue;
        }
        CHECK(memcmp(i1, i2, want * sizeof *i1) == 0);
        CHECK(memcmp(k1, k2, want) == 0);
        if (module == KSYM_MODULE_ANY) {
            uint64_t addr = 0;
            int64_t first = ksym_lookup_name_suffix(t, q, qlen, policy, &addr);
            CHECK(first == (want ? (int64_t)i1[0] : -1));
            if (want)
                CHECK(addr == ksym_address(t, i1[0]));
            uint64_t expect = want ? addr : KSYM_NO_ADDRESS;
            CHECK(ksym_lookup_address(t, q, qlen, policy) == expect);
            if (!memchr(q, 0, qlen) && qlen <= KSYM_NAME_MAX + 16) {
                /* the one-argument form: table pointer, policy, name, NUL */
                char query[KSYM_QUERY_HEAD + KSYM_NAME_MAX + 17];
                memcpy(query, &t, sizeof t);
                query[sizeof t] = (char)policy;
                memcpy(query + KSYM_QUERY_HEAD, q, qlen);
                query[KSYM_QUERY_HEAD + qlen] = 0;
                CHECK(ksym_lookup_query(query) == expect);
                query[sizeof t] = (char)(KSYM_SUFFIX_CLONE + 1); /* no such policy */
                CHECK(ksym_lookup_query(query) == KSYM_NO_ADDRESS);
            }
        }
        /* a buffer too small still reports the count */
        if (want > 1)
            CHECK(ksym_match(t, q, qlen, policy, module, i2, k2, 1) == (int64_t)want);
    }
}

static void check_glob(const struct ksym_table *t, const struct names *a, const char *pat,
                       uint32_t *want, uint32_t *got, size_t cap)
{
    size_t plen = strlen(pat), n = 0, m = 0;
    for (uint32_t i = 0; i < a->n; i++)
        if (ksym_glob_match(pat, plen, a->name[i], a->len[i]))
            want[n++] = i;
    uint32_t next = 0;
    int calls = 0;
    while (next < a->n && calls++ < 1000000) {
        int64_t r = ksym_glob(t, pat, plen, &next, got + m, cap);
        CHECK(r >= 0);
        if (r < 0)
            break;
        m += (size_t)r;
    }
    if (m != n || memcmp(want, got, n * sizeof *want) != 0) {
        fprintf(stderr, "glob '%s': %zu symbols, want %zu\n", pat, m, n);
        failures++;
    }
}

static void check_table(const struct ksym_table *t, int sample, const char *label)
{
    struct names a;
    names_load(&a, t);
    uint32_t *i1 = malloc((a.n + 1) * sizeof *i1), *i2 = malloc((a.n + 1) * sizeof *i2);
    uint8_t *k1 = malloc(a.n + 1), *k2 = malloc(a.n + 1);
    size_t queries = 0;
    double start = now_ms();
    for (uint32_t i = 0; i < a.n; i++) {
        if (sample > 1 && i % (uint32_t)sample)
            continue;
        const char *s = a.name[i];
        size_t l = a.len[i];
        /* the name, and every prefix of it that ends before a '.' */
        check_query(t, &a, s, l, KSYM_MODULE_ANY, i1, k1, i2, k2);
        check_query(t, &a, s, l, a.module[i], i1, k1, i2, k2);
        queries += 2;
        for (size_t k = 0; k < l; k++)
            if (s[k] == '.' && k > 0) {
                check_query(t, &a, s, k, KSYM_MODULE_ANY, i1, k1, i2, k2);
                check_query(t, &a, s, k, a.module[i], i1, k1, i2, k2);
                queries += 2;
            }
    }
    double mid = now_ms();
    static const char *globs[] = {"tcp_*", "*_show", "?cp_*", "[a-c]*_init", "*.isra.*", "*.llvm.*",
                                  "[!_]*", "__*", "*", "no_such_symbol*", "s*", "[", "\\_*"};
    /* the glob walk in chunks of 7 and in one go */
    for (size_t g = 0; g < sizeof globs / sizeof *globs; g++) {
        check_glob(t, &a, globs[g], i1, i2, 7);
        check_glob(t, &a, globs[g], i1, i2, a.n + 1);
    }
    printf("%s: %u symbols, %zu match queries (%.0f ms), globs (%.0f ms)\n", label, a.n, queries,
           mid - start, now_ms() - mid);
    free(i1);
    free(i2);
    free(k1);
    free(k2);
    names_free(&a);
}

static struct ksym_table *build(const char *const *names, const uint64_t *addrs,
                                const char *const *mods, size_t n)
{
    struct ksym_builder *b = ksym_builder_new();
    for (size_t i = 0; i < n; i++)
        CHECK(ksym_builder_add(b, addrs[i], 't', names[i], strlen(names[i]), mods ? mods[i] : NULL,
                               mods && mods[i] ? strlen(mods[i]) : 0) == KSYM_OK);
    struct ksym_table *t = NULL;
    CHECK(ksym_builder_finish(b, &t) == KSYM_OK);
    ksym_builder_free(b);
    return t;
}

static void test_cases(void)
{
    static const char *const names[] = {
        "ping_table.llvm.15394922576589127018", "c_start", "c_start.llvm.1", "c_start.llvm.2",
        "foo_bar", "foo.bar", "dup.isra.0", "dup.constprop.0", "dup.llvm.9", "x.__uniq.1.llvm.2",
        "a.llvm.llvm.3", "m.isra.0", "m", "tcp_show", "udp_show", ".str.1.llvm.5"};
    static const uint64_t addrs[] = {0x10, 0x20, 0x30, 0x18, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90,
                                     0xa0, 0xb0, 0xc0, 0xd0, 0xe0, 0xf0};
    static const char *const mods[] = {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
                                       NULL, "ext4", NULL, NULL, "ext4", NULL};
    size_t n = sizeof names / sizeof *names;
    struct ksym_table *t = build(names, addrs, mods, n);
    uint32_t idx[16];
    uint8_t kind[16];
    char buf[KSYM_NAME_MAX + 1];
    uint64_t addr;

    CHECK(ksym_lookup_name_suffix(t, "ping_table", 10, KSYM_SUFFIX_LLVM, &addr) >= 0 && addr == 0x10);
    CHECK(ksym_lookup_name_suffix(t, "ping_table", 10, KSYM_SUFFIX_NONE, &addr) == -1);
    CHECK(ksym_match(t, "c_start", 7, KSYM_SUFFIX_LLVM, KSYM_MODULE_ANY, idx, kind, 16) == 1 &&
          kind[0] == KSYM_MATCH_EXACT);
    CHECK(ksym_match(t, "foo", 3, KSYM_SUFFIX_LLVM, KSYM_MODULE_ANY, idx, kind, 16) == 0);
    CHECK(ksym_match(t, "foo", 3, KSYM_SUFFIX_CLONE, KSYM_MODULE_ANY, idx, kind, 16) == 1 &&
          kind[0] == KSYM_MATCH_CLONE && ksym_name(t, idx[0], buf, sizeof buf) == 7 &&
          strcmp(buf, "foo.bar") == 0);
    CHECK(ksym_match(t, "dup", 3, KSYM_SUFFIX_CLONE, KSYM_MODULE_ANY, idx, kind, 16) == 3 &&
          idx[0] < idx[1] && idx[1] < idx[2] && kind[2] == KSYM_MATCH_LLVM);
    CHECK(ksym_match(t, "x.__uniq.1", 10, KSYM_SUFFIX_CLONE, KSYM_MODULE_ANY, idx, kind, 16) == 1 &&
          kind[0] == KSYM_MATCH_LLVM);
    /* "a.llvm" + ".llvm." has an earlier ".llvm.": strip("a.llvm.llvm.3") is "a" */
    CHECK(ksym_match(t, "a.llvm", 6, KSYM_SUFFIX_LLVM, KSYM_MODULE_ANY, idx, kind, 16) == 0);
    CHECK(ksym_match(t, "a", 1, KSYM_SUFFIX_LLVM, KSYM_MODULE_ANY, idx, kind, 16) == 1);
    CHECK(ksym_match(t, ".str.1", 6, KSYM_SUFFIX_LLVM, KSYM_MODULE_ANY, idx, kind, 16) == 1);
    /* module filter first, exact-first inside it */
    CHECK(ksym_match(t, "m", 1, KSYM_SUFFIX_CLONE, KSYM_MODULE_ANY, idx, kind, 16) == 1 &&
          kind[0] == KSYM_MATCH_EXACT);
    CHECK(ksym_match(t, "m", 1, KSYM_SUFFIX_CLONE, 0, idx, kind, 16) == 1 && kind[0] == KSYM_MATCH_CLONE);
    CHECK(ksym_match(t, "m", 1, KSYM_SUFFIX_CLONE, 5, idx, kind, 16) == 0);
    CHECK(ksym_match(t, "", 0, KSYM_SUFFIX_CLONE, KSYM_MODULE_ANY, idx, kind, 16) == 0);
    CHECK(ksym_match(t, "m", 1, 7, KSYM_MODULE_ANY, idx, kind, 16) == KSYM_EINVAL);
    CHECK(ksym_match(t, "m", 1, 0, -3, idx, kind, 16) == KSYM_EINVAL);
    CHECK(ksym_match(NULL, "m", 1, 0, KSYM_MODULE_ANY, idx, kind, 16) == KSYM_EINVAL);
    CHECK(ksym_match(t, "m", 1, 0, KSYM_MODULE_ANY, NULL, NULL, 0) == 1);
    uint32_t first;
    CHECK(ksym_prefix_range(t, "c_start", 7, &first) == 3);
    CHECK(ksym_prefix_range(t, "", 0, &first) == (int64_t)n && first == 0);
    CHECK(ksym_prefix_range(t, "zzz", 3, &first) == 0);
    CHECK(ksym_strip_llvm("a.b.llvm.c", 10) == 3 && ksym_strip_clone("a.b.llvm.c", 10) == 1);
    CHECK(ksym_glob_prefix("tcp_*", 5) == 4 && ksym_glob_prefix("a\\b", 3) == 1);
    check_table(t, 1, "hand-made");
    ksym_table_free(t);

    /* an empty table */
    struct ksym_builder *b = ksym_builder_new();
    struct ksym_table *e = NULL;
    if (ksym_builder_finish(b, &e) == KSYM_OK) {
        CHECK(ksym_match(e, "a", 1, KSYM_SUFFIX_CLONE, KSYM_MODULE_ANY, idx, kind, 16) == 0);
        CHECK(ksym_lookup_name_suffix(e, "a", 1, KSYM_SUFFIX_CLONE, NULL) == -1);
        uint32_t next = 0;
        CHECK(ksym_glob(e, "*", 1, &next, idx, 16) == 0);
        ksym_table_free(e);
    }
    ksym_builder_free(b);
}

static void bench(const struct ksym_table *t)
{
    uint32_t n = ksym_count(t);
    char buf[KSYM_NAME_MAX + 1];
    enum { Q = 2000 };
    static char stems[Q][KSYM_NAME_MAX + 1];
    static size_t lens[Q];
    size_t q = 0;
    for (uint32_t i = 0; i < n && q < Q; i += 7) {
        int l = ksym_name(t, i, buf, sizeof buf);
        char *dot = l > 1 ? memchr(buf + 1, '.', (size_t)l - 1) : NULL;
        if (!dot)
            continue;
        lens[q] = (size_t)(dot - buf);
        memcpy(stems[q], buf, lens[q]);
        q++;
    }
    if (!q)
        return;
    uint64_t addr, sink = 0;
    double t0 = now_ms();
    for (int r = 0; r < 20; r++)
        for (size_t k = 0; k < q; k++)
            sink += (uint64_t)ksym_lookup_name_suffix(t, stems[k], lens[k], KSYM_SUFFIX_CLONE, &addr);
    double t1 = now_ms();
    for (int r = 0; r < 20; r++)
        for (size_t k = 0; k < q; k++)
            sink += (uint64_t)ksym_lookup_name(t, stems[k], lens[k], &addr);
    double t2 = now_ms();
    printf("  %zu clone stems: suffix lookup %.0f ns, exact lookup (miss) %.0f ns (sink %llu)\n", q,
           (t1 - t0) * 1e6 / (20.0 * q), (t2 - t1) * 1e6 / (20.0 * q), (unsigned long long)(sink & 1));
}

int main(int argc, char **argv)
{
    test_cases();
    for (int k = 1; k < argc; k++) {
        size_t len;
        char *text = read_file(argv[k], &len);
        if (!text) {
            printf("%s: skipped (unreadable)\n", argv[k]);
            continue;
        }
        struct ksym_builder *b = ksym_builder_new();
        int rc = ksym_builder_add_text(b, text, len);
        struct ksym_table *t = NULL;
        if (rc == KSYM_OK)
            rc = ksym_builder_finish(b, &t);
        ksym_builder_free(b);
        free(text);
        if (rc != KSYM_OK) {
            printf("%s: skipped (%s)\n", argv[k], ksym_strerror(rc));
            continue;
        }
        /* every name is checked on small tables; a sample on large ones */
        uint32_t n = ksym_count(t);
        int sample = n > 20000 ? (int)(n / 300) : n > 2000 ? (int)(n / 500) : 1;
        const char *env = getenv("PYSYMS_MATCH_SAMPLE");
        if (env)
            sample = atoi(env);
        check_table(t, sample, argv[k]);
        bench(t);
        ksym_table_free(t);
    }
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("test_match: all checks passed\n");
    return 0;
}
