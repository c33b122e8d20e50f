/* match.c - suffix-aware name matching and ftrace-style globs over a
 * finished table (DESIGN.md "Without suffix", "Clone suffixes",
 * "Ambiguity"; issue #3).
 *
 * Candidates for a stripped query q come from a range search in the
 * name-sorted index (seqs_of_names): every name that begins with `q.` (or
 * `q.llvm.`) is in one contiguous run there.  Its start is narrowed by a
 * binary search over the name sample (16-byte prefixes of every
 * KSYM_NAME_SAMPLE-th name, compared as integers), then found by a binary
 * search that compares the query with the compressed records while
 * expanding them; its end by a gallop from its start.
 * No scan over all symbols, no copy of the names.
 *
 * Whether a name of that run matches depends on q alone:
 *   strip_llvm(name) == q   <=>  name starts with q ".llvm." and the first
 *                                ".llvm." of q ".llvm." is the appended one;
 *   strip_clone(name) == q  <=>  name starts with q "." and q has no '.'.
 * So the run's members need no full expansion.
 *
 * Lookups never allocate or lock; any number of threads may share a table.
 * Reads the table only through table.h's readers and the public API.
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "ksym.h"
#include "table.h"

/* ---- reading names -------------------------------------------------------- */

/* Compare the name of symbol idx with p[0..plen) as a prefix, expanding the
 * record only as far as needed: < 0 when the name sorts before every string
 * that begins with p, 0 when it begins with p, > 0 when it sorts after. */
static int cmp_prefix(const struct ksym_table *t, uint32_t idx, const uint8_t *p, size_t plen)
{
    const uint8_t *rec = t->names + ksym_rec_offset(t, idx);
    unsigned len, pre = ksym_rec_len(rec, &len);
    const uint8_t *codes = rec + pre;
    size_t skip = 1; /* the type letter comes first */
    size_t o = 0;    /* bytes of p matched so far */
    for (unsigned k = 0; k < len && o < plen; k++) {
        unsigned c = codes[k];
        size_t tl = t->tok_len[c];
        const uint8_t *s = t->token_table + t->tok_off[c];
        if (skip) {
            size_t d = skip < tl ? skip : tl;
            s += d;
            tl -= d;
            skip -= d;
        }
        size_t n = tl < plen - o ? tl : plen - o;
        if (n) {
            int r = memcmp(s, p + o, n);
            if (r)
                return r;
            o += n;
        }
    }
    return o == plen ? 0 : -1; /* a proper prefix of p sorts before it */
}

static inline uint32_t seq_at(const struct ksym_table *t, uint32_t pos)
{
    return ksym_rdseq(t->seqs + (size_t)pos * KSYM_SEQ_BYTES);
}

/* First name-order position in [lo, hi) whose name is not before p (upper
 * == 0), or not before-or-beginning-with p (upper == 1). */
static uint32_t bound(const struct ksym_table *t, uint32_t lo, uint32_t hi, const uint8_t *p,
                      size_t plen, int upper)
{
    uint32_t n = hi - lo;
    while (n > 0) {
        uint32_t half = n / 2, mid = lo + half;
        int r = cmp_prefix(t, seq_at(t, mid), p, plen);
        if (r < 0 || (upper && r == 0)) {
            lo = mid + 1;
            n -= half + 1;
        } else {
            n = half;
        }
    }
    return lo;
}

/* End of the run of names beginning with p that starts at lo (or the
 * first position after it that is not before p): gallop forward, probing
 * lo, lo + 1, lo + 3, lo + 7, ..., then binary search the last step, so a
 * run of n names costs about 2 log2(n) probes. */
static uint32_t run_end(const struct ksym_table *t, uint32_t lo, uint32_t hi, const uint8_t *p,
                        size_t plen)
{
    uint32_t good = lo, bad = hi, step = 1;
    while (good < hi) {
        uint32_t probe = hi - good > step - 1 ? good + step - 1 : hi - 1;
        if (cmp_prefix(t, seq_at(t, probe), p, plen) > 0) {
            bad = probe;
            break;
        }
        good = probe + 1;
        step *= 2;
    }
    return bound(t, good, bad, p, plen, 1);
}

/* Compare sample entry k (the first 16 bytes of name-order name k * S,
 * zero-padded) with the query key (q0, q1): < 0, 0 or > 0. */
static inline int sample_cmp(const struct ksym_table *t, uint32_t k, uint64_t q0, uint64_t q1)
{
    const uint8_t *e = t->name_sample + (size_t)k * KSYM_SAMPLE_BYTES;
    uint64_t s = ksym_rd64be(e);
    if (s == q0)
        s = ksym_rd64be(e + 8), q0 = q1;
    return (s > q0) - (s < q0);
}

/* First sample index in [lo, hi) whose prefix is > q (upper == 1) or
 * >= q (upper == 0), else hi. */
static uint32_t sample_bound(const struct ksym_table *t, uint32_t lo, uint32_t hi, uint64_t q0,
                             uint64_t q1, int upper)
{
    uint32_t n = hi - lo;
    while (n > 0) {
        uint32_t half = n / 2, mid = lo + half;
        int r = sample_cmp(t, mid, q0, q1);
        if (r < 0 || (upper && r == 0)) {
            lo = mid + 1;
            n -= half + 1;
        } else {
            n = half;
        }
    }
    return lo;
}

/* A range [*lo, *hi] of name-order positions that holds the first name not
 * before p (the result of bound(t, 0, count, p, plen, 0)), found from the
 * name sample alone.  With q = p's first 16 bytes zero-padded and s_k the
 * prefix of sample k (names and, checked here, q hold no NUL):
 *   s_k <  q  =>  name k*S sorts before every string beginning with p;
 *   s_k >  q  =>  name k*S does not sort before p;
 *   s_k == q  =>  name k*S begins with p when plen <= 16, else unknown.
 * So the bound lies after the last sample < q and at or before the first
 * sample > q, or (plen <= 16) the first sample == q. */
static void sample_range(const struct ksym_table *t, const uint8_t *p, size_t plen, uint32_t *lo,
                         uint32_t *hi)
{
    *lo = 0;
    *hi = t->count;
    uint32_t ns = (uint32_t)(t->name_sample_len / KSYM_SAMPLE_BYTES);
    size_t m = plen < KSYM_SAMPLE_BYTES ? plen : KSYM_SAMPLE_BYTES;
    if (ns == 0 || m == 0 || memchr(p, 0, m))
        return;
    uint64_t q0 = 0, q1 = 0;
    for (size_t j = 0; j < 8; j++) {
        q0 = (q0 << 8) | (j < m ? p[j] : 0u);
        q1 = (q1 << 8) | (j + 8 < m ? p[j + 8] : 0u);
    }
    uint32_t a = sample_bound(t, 0, ns, q0, q1, 0);
    uint32_t e = plen <= KSYM_SAMPLE_BYTES ? a : sample_bound(t, a, ns, q0, q1, 1);
    if (a)
        *lo = (a - 1) * KSYM_NAME_SAMPLE + 1;
    if (e < ns)
        *hi = e * KSYM_NAME_SAMPLE;
}

/* Before a search of the few positions [lo, hi): start the memory reads of
 * all their records at once (seq, fine offset, record bytes) so that the
 * probes do not each wait for three dependent cache misses in turn. */
static void warm_range(const struct ksym_table *t, uint32_t lo, uint32_t hi)
{
    uint32_t idx[2 * KSYM_NAME_SAMPLE + 4];
    uint32_t n = hi - lo;
    for (uint32_t k = 0; k < n; k++) {
        idx[k] = seq_at(t, lo + k) / KSYM_FINE_STRIDE;
        PREFETCH(t->fine + (size_t)idx[k] * 4);
    }
    for (uint32_t k = 0; k < n; k++) {
        size_t off = ksym_rd32(t->fine + (size_t)idx[k] * 4);
        for (size_t d = 0; d < 256 && off + d < t->names_len; d += 64)
            PREFETCH(t->names + off + d);
    }
}

/* Name-order positions [*lo, *hi) of the names that begin with p. */
static void prefix_range(const struct ksym_table *t, const uint8_t *p, size_t plen, uint32_t *lo,
                         uint32_t *hi)
{
    uint32_t slo, shi;
    sample_range(t, p, plen, &slo, &shi);
    if (shi - slo <= 2 * KSYM_NAME_SAMPLE) {
        /* the bound and, usually, the short run that follows it */
        uint32_t wend = shi + 4 < t->count ? shi + 4 : t->count;
        warm_range(t, slo, wend);
    }
    *lo = bound(t, slo, shi, p, plen, 0);
    *hi = run_end(t, *lo, t->count, p, plen);
}

/* ksym__find_first for a table without a name hash (one read from a file):
 * the first name not before q, found by binary search, is q's first
 * symbol when q is there at all (names sort bytewise, then by index). */
int64_t ksym__find_first_sorted(const struct ksym_table *t, const uint8_t *q, size_t qlen,
                                int *unique)
{
    uint32_t slo, shi;
    sample_range(t, q, qlen, &slo, &shi);
    if (shi - slo <= 2 * KSYM_NAME_SAMPLE)
        warm_range(t, slo, shi);
    uint32_t pos = bound(t, slo, shi, q, qlen, 0);
    if (pos >= t->count || !ksym__index_has_name(t, seq_at(t, pos), q, qlen))
        return -1;
    if (unique)
        *unique = pos + 1 >= t->count || !ksym__index_has_name(t, seq_at(t, pos + 1), q, qlen);
    return pos;
}

int64_t ksym_prefix_range(const struct ksym_table *t, const char *prefix, size_t len,
                          uint32_t *first)
{
    if (first)
        *first = 0;
    if (!t || (!prefix && len))
        return KSYM_EINVAL;
    uint32_t lo, hi;
    prefix_range(t, (const uint8_t *)prefix, len, &lo, &hi);
    if (first)
        *first = lo;
    return hi - lo;
}

/* ---- strip rules ----------------------------------------------------------- */

static const uint8_t LLVM[] = ".llvm.";
#define LLVM_LEN 6

/* Offset of the first ".llvm." in s[0..n), or n. */
static size_t find_llvm(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i + LLVM_LEN <= n; i++) {
        const uint8_t *d = memchr(s + i, '.', n - i);
        if (!d)
            return n;
        i = (size_t)(d - s);
        if (i + LLVM_LEN <= n && memcmp(d, LLVM, LLVM_LEN) == 0)
            return i;
    }
    return n;
}

size_t ksym_strip_llvm(const char *name, size_t len)
{
    return name ? find_llvm((const uint8_t *)name, len) : 0;
}

size_t ksym_strip_clone(const char *name, size_t len)
{
    const char *d = name ? memchr(name, '.', len) : NULL;
    return d ? (size_t)(d - name) : len;
}

/* ---- sorting matches by index (no allocation) ----------------------------- */

/* Swap entries i and j of the index array and, when given, the kind array. */
static inline void swap_entries(uint32_t *idx, uint8_t *kind, size_t i, size_t j)
{
    uint32_t ti = idx[i];
    idx[i] = idx[j];
    idx[j] = ti;
    if (kind) {
        uint8_t tk = kind[i];
        kind[i] = kind[j];
        kind[j] = tk;
    }
}

static void sift(uint32_t *idx, uint8_t *kind, size_t root, size_t n)
{
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n)
            return;
        if (child + 1 < n && idx[child + 1] > idx[child])
            child++;
        if (idx[root] >= idx[child])
            return;
        swap_entries(idx, kind, root, child);
        root = child;
    }
}

/* Sort idx ascending, carrying kind (which may be NULL) along: insertion
 * sort for the usual handful, heapsort beyond. */
static void sort_matches(uint32_t *idx, uint8_t *kind, size_t n)
{
    if (n < 2)
        return;
    if (n <= 16) {
        for (size_t i = 1; i < n; i++)
            for (size_t j = i; j > 0 && idx[j - 1] > idx[j]; j--)
                swap_entries(idx, kind, j - 1, j);
        return;
    }
    for (size_t r = n / 2; r-- > 0;)
        sift(idx, kind, r, n);
    for (size_t end = n - 1; end > 0; end--) {
        swap_entries(idx, kind, 0, end);
        sift(idx, kind, 0, end);
    }
}

/* ---- suffix-aware matching -------------------------------------------------- */

/* What a stripped query may reach: the prefix runs to search and whether
 * their members match.  Both runs begin at q; `dot` is q ".", `llvm` is
 * q ".llvm." (the second run lies inside the first). */
struct stem {
    uint8_t buf[KSYM_NAME_MAX + LLVM_LEN + 1];
    size_t qlen;
    int llvm_ok;  /* names beginning with q ".llvm." match (kind llvm) */
    int clone_ok; /* names beginning with q "." match (kind clone unless llvm) */
};

static int stem_init(struct stem *s, const char *name, size_t len, int policy)
{
    memcpy(s->buf, name, len);
    memcpy(s->buf + len, LLVM, LLVM_LEN);
    s->qlen = len;
    s->llvm_ok = find_llvm(s->buf, len + LLVM_LEN) == len;
    s->clone_ok = policy == KSYM_SUFFIX_CLONE && !memchr(name, '.', len);
    return s->llvm_ok || s->clone_ok;
}

static inline int module_ok(const struct ksym_table *t, uint32_t idx, int32_t module)
{
    return module == KSYM_MODULE_ANY || ksym_module(t, idx) == module;
}

int64_t ksym_match(const struct ksym_table *t, const char *name, size_t len, int policy,
                   int32_t module, uint32_t *indexes, uint8_t *kinds, size_t cap)
{
    if (!t || (!name && len) || (cap && (!indexes || !kinds)))
        return KSYM_EINVAL;
    if (policy < KSYM_SUFFIX_NONE || policy > KSYM_SUFFIX_CLONE || module < KSYM_MODULE_ANY)
        return KSYM_EINVAL;
    if (len == 0 || len > KSYM_NAME_MAX)
        return 0;
    size_t found = 0;

    /* Exact matches, in address order in any table seqs_of_names sorts
     * right (sorted again below, so that a file that lies about it still
     * gets the promised order); when any pass the module filter they are
     * the whole answer. */
    uint32_t first;
    int64_t n = ksym_name_run(t, name, len, &first);
    for (int64_t k = 0; k < n; k++) {
        uint32_t idx = seq_at(t, first + (uint32_t)k);
        if (!module_ok(t, idx, module))
            continue;
        if (found < cap) {
            indexes[found] = idx;
            kinds[found] = KSYM_MATCH_EXACT;
        }
        found++;
    }
    if (found || policy == KSYM_SUFFIX_NONE) {
        sort_matches(indexes, kinds, found < cap ? found : cap);
        return (int64_t)found;
    }

    struct stem s;
    if (!stem_init(&s, name, len, policy))
        return 0;
    if (!s.clone_ok && !ksym__llvm_stem_may_exist(t, name, len))
        return 0; /* no name cuts to it at ".llvm.": no range to search */
    uint32_t lo, hi, llo, lhi;
    if (s.clone_ok) {
        prefix_range(t, s.buf, len + 1, &lo, &hi);
        if (lo == hi)
            return 0;
        llo = lhi = lo;
        if (s.llvm_ok) {
            llo = bound(t, lo, hi, s.buf, len + LLVM_LEN, 0);
            lhi = run_end(t, llo, hi, s.buf, len + LLVM_LEN);
        }
    } else {
        prefix_range(t, s.buf, len + LLVM_LEN, &lo, &hi);
        llo = lo;
        lhi = hi;
    }
    for (uint32_t pos = lo; pos < hi; pos++) {
        uint32_t idx = seq_at(t, pos);
        if (!module_ok(t, idx, module))
            continue;
        if (found < cap) {
            indexes[found] = idx;
            kinds[found] = pos >= llo && pos < lhi ? KSYM_MATCH_LLVM : KSYM_MATCH_CLONE;
        }
        found++;
    }
    sort_matches(indexes, kinds, found < cap ? found : cap);
    return (int64_t)found;
}

int64_t ksym_lookup_name_suffix(const struct ksym_table *t, const char *name, size_t len,
                                int policy, uint64_t *address)
{
    if (!t || !name || policy < KSYM_SUFFIX_NONE || policy > KSYM_SUFFIX_CLONE)
        return -1;
    int64_t idx = ksym_lookup_name(t, name, len, address);
    if (idx >= 0 || policy == KSYM_SUFFIX_NONE || len == 0 || len > KSYM_NAME_MAX)
        return idx;
    struct stem s;
    if (!stem_init(&s, name, len, policy))
        return -1;
    if (!s.clone_ok && !ksym__llvm_stem_may_exist(t, name, len))
        return -1; /* no name cuts to it at ".llvm." */
    uint32_t lo, hi;
    prefix_range(t, s.buf, s.clone_ok ? len + 1 : len + LLVM_LEN, &lo, &hi);
    if (lo == hi)
        return -1;
    uint32_t best = UINT32_MAX;
    for (uint32_t pos = lo; pos < hi; pos++) {
        uint32_t i = seq_at(t, pos);
        if (i < best)
            best = i;
    }
    if (address)
        *address = ksym_addr_at(t, best);
    return best;
}

uint64_t ksym_lookup_address(const struct ksym_table *t, const char *name, size_t len,
                             int policy)
{
    uint64_t address;
    if (ksym_lookup_name_suffix(t, name, len, policy, &address) < 0)
        return KSYM_NO_ADDRESS;
    return address;
}

uint64_t ksym_lookup_query(const char *query)
{
    if (!query)
        return KSYM_NO_ADDRESS;
    const struct ksym_table *t;
    memcpy(&t, query, sizeof t);
    const char *name = query + KSYM_QUERY_HEAD;
    return ksym_lookup_address(t, name, strlen(name), (uint8_t)query[sizeof t]);
}

/* ---- ftrace-style globs ------------------------------------------------------ */

/* The class that starts at p[i] == '[': returns the offset just past its
 * closing ']' and sets *hit to whether c is in it, or returns 0 when the
 * class is not closed (then the '[' is a literal). */
static size_t glob_class(const uint8_t *p, size_t plen, size_t i, uint8_t c, int *hit)
{
    size_t j = i + 1;
    int negate = 0;
    if (j < plen && (p[j] == '!' || p[j] == '^')) {
        negate = 1;
        j++;
    }
    size_t first = j;
    int in = 0;
    for (;;) {
        if (j >= plen)
            return 0;
        uint8_t a = p[j];
        if (a == ']' && j > first)
            break;
        uint8_t b = a;
        if (j + 2 < plen && p[j + 1] == '-' && p[j + 2] != ']') {
            b = p[j + 2];
            j += 3;
        } else {
            j += 1;
        }
        if (a <= c && c <= b)
            in = 1;
    }
    *hit = in != negate;
    return j + 1;
}

int ksym_glob_match(const char *pattern, size_t plen, const char *name, size_t nlen)
{
    const uint8_t *p = (const uint8_t *)pattern, *s = (const uint8_t *)name;
    size_t pi = 0, si = 0, star_p = SIZE_MAX, star_s = 0;
    while (si < nlen) {
        if (pi < plen) {
            uint8_t d = p[pi];
            size_t step = 1;
            if (d == '*') {
                star_p = ++pi;
                star_s = si;
                continue;
            }
            if (d == '?') {
                pi++;
                si++;
                continue;
            }
            if (d == '[') {
                int hit;
                size_t end = glob_class(p, plen, pi, s[si], &hit);
                if (end) {
                    if (!hit)
                        goto backtrack;
                    pi = end;
                    si++;
                    continue;
                }
            } else if (d == '\\' && pi + 1 < plen) {
                d = p[pi + 1];
                step = 2;
            }
            if (s[si] == d) {
                pi += step;
                si++;
                continue;
            }
        }
backtrack:
        if (star_p == SIZE_MAX)
            return 0;
        pi = star_p;
        si = ++star_s;
    }
    while (pi < plen && p[pi] == '*')
        pi++;
    return pi == plen;
}

static inline int glob_special(uint8_t c)
{
    return c == '*' || c == '?' || c == '[' || c == ']' || c == '\\';
}

/* Bytes every matching name begins with (before the first special byte). */
static size_t glob_prefix_len(const uint8_t *p, size_t plen)
{
    size_t i = 0;
    while (i < plen && !glob_special(p[i]))
        i++;
    return i;
}

size_t ksym_glob_prefix(const char *pattern, size_t plen)
{
    return pattern ? glob_prefix_len((const uint8_t *)pattern, plen) : 0;
}

/* Bytes every matching name ends with (after the last special byte). */
static size_t glob_suffix_len(const uint8_t *p, size_t plen)
{
    size_t n = 0;
    while (n < plen && !glob_special(p[plen - 1 - n]))
        n++;
    return n;
}

/* Does the name of the record with these codes end with suf[0..slen)?
 * Expands tokens from the last one backwards, only as far as needed. */
static int tail_matches(const struct ksym_table *t, const uint8_t *codes, unsigned len,
                        const uint8_t *suf, size_t slen)
{
    size_t need = slen; /* bytes of suf still to compare, from its end */
    for (unsigned k = len; k-- > 0 && need;) {
        unsigned c = codes[k];
        const uint8_t *s = t->token_table + t->tok_off[c];
        size_t tl = t->tok_len[c];
        if (k == 0 && tl) { /* the first token starts with the type letter */
            s++;
            tl--;
        }
        size_t n = tl < need ? tl : need;
        if (memcmp(s + tl - n, suf + need - n, n) != 0)
            return 0;
        need -= n;
    }
    return need == 0;
}

/* Expand the record's codes into out (type letter first), checking the
 * literal prefix as soon as enough of the name is out and the literal
 * suffix before anything else.  Returns the name length, or SIZE_MAX when
 * the name cannot match. */
static size_t expand_checked(const struct ksym_table *t, const uint8_t *codes, unsigned len,
                             uint8_t *out, const uint8_t *prefix, size_t plen,
                             const uint8_t *suffix, size_t slen)
{
    if (slen && !tail_matches(t, codes, len, suffix, slen))
        return SIZE_MAX;
    size_t o = 0;
    int checked = plen == 0;
    for (unsigned k = 0; k < len; k++) {
        unsigned c = codes[k];
        size_t tl = t->tok_len[c];
        if (o + tl > KSYM_NAME_MAX + 1)
            tl = KSYM_NAME_MAX + 1 - o;
        memcpy(out + o, t->token_table + t->tok_off[c], tl);
        o += tl;
        if (!checked && o >= plen + 1) {
            if (memcmp(out + 1, prefix, plen) != 0)
                return SIZE_MAX;
            checked = 1;
        }
    }
    if (!checked || o == 0)
        return SIZE_MAX;
    return o - 1;
}

int64_t ksym_glob(const struct ksym_table *t, const char *pattern, size_t plen, uint32_t *next,
                  uint32_t *out, size_t cap)
{
    if (!t || (!pattern && plen) || !next || (cap && !out))
        return KSYM_EINVAL;
    const uint8_t *p = (const uint8_t *)pattern;
    uint32_t i = *next;
    if (i >= t->count) {
        *next = t->count;
        return 0;
    }
    size_t pre = glob_prefix_len(p, plen), suf = glob_suffix_len(p, plen);
    uint8_t buf[KSYM_NAME_MAX + 2];

    /* A literal prefix: the name index gives the candidates; they come
     * out in table order when they all fit in out. */
    if (i == 0 && pre > 0) {
        uint32_t lo, hi;
        prefix_range(t, p, pre, &lo, &hi);
        if (hi - lo <= cap) {
            size_t found = 0;
            /* literal prefix then only '*': every name of the range matches */
            size_t stars = pre;
            while (stars < plen && p[stars] == '*')
                stars++;
            int all = stars == plen && stars > pre;
            for (uint32_t pos = lo; pos < hi; pos++) {
                uint32_t idx = seq_at(t, pos);
                if (all) {
                    out[found++] = idx;
                    continue;
                }
                const uint8_t *rec = t->names + ksym_rec_offset(t, idx);
                unsigned len, lp = ksym_rec_len(rec, &len);
                size_t nlen = expand_checked(t, rec + lp, len, buf, p, pre, p + plen - suf, suf);
                if (nlen == SIZE_MAX)
                    continue;
                if (ksym_glob_match(pattern, plen, (const char *)buf + 1, nlen))
                    out[found++] = idx;
            }
            sort_matches(out, NULL, found);
            *next = t->count;
            return (int64_t)found;
        }
    }

    /* Otherwise one sequential walk over the records from *next. */
    size_t off = ksym_rec_offset(t, i);
    size_t found = 0;
    for (; i < t->count && found < cap; i++) {
        const uint8_t *rec = t->names + off;
        unsigned len, lp = ksym_rec_len(rec, &len);
        off += lp + len;
        size_t nlen = expand_checked(t, rec + lp, len, buf, p, pre, p + plen - suf, suf);
        if (nlen == SIZE_MAX)
            continue;
        if (ksym_glob_match(pattern, plen, (const char *)buf + 1, nlen))
            out[found++] = i;
    }
    *next = i;
    return (int64_t)found;
}

int64_t ksym_symbols_at(const struct ksym_table *t, const uint32_t *indexes, size_t n,
                        uint64_t *addresses, char *types, int32_t *modules, char *buf,
                        size_t buflen, size_t *written)
{
    if (written)
        *written = 0;
    if (!t || (n && !indexes) || (!buf && buflen))
        return KSYM_EINVAL;
    size_t used = 0, k;
    for (k = 0; k < n; k++) {
        uint32_t i = indexes[k];
        if (i >= t->count)
            return KSYM_ERANGE;
        if (buflen - used < KSYM_NAME_MAX + 2)
            break;
        uint64_t address;
        char type;
        int32_t module;
        int l = ksym_symbol(t, i, &address, &type, &module, buf + used, buflen - used);
        if (l < 0)
            return l;
        buf[used + (size_t)l] = '\n';
        used += (size_t)l + 1;
        if (addresses)
            addresses[k] = address;
        if (types)
            types[k] = type;
        if (modules)
            modules[k] = module;
    }
    if (written)
        *written = used;
    if (k == 0 && n)
        return KSYM_ENOSPC;
    return (int64_t)k;
}
