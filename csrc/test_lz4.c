/* test_lz4.c - checks of ksym_lz4_block_decode (csrc/lz4.c), meant to run
 * under AddressSanitizer/UBSan (tests/test_bootimage.py builds and runs it).
 *
 *   test_lz4 [FILE...]
 *
 * Built-in cases first: hand-made blocks, round trips through a small greedy
 * encoder below, and many random and corrupted inputs decoded into buffers
 * of exactly the capacity given (so that any overrun is caught).  Each FILE
 * is lz4 in the kernel's legacy framing (as `lz4 -l` writes, or a bzImage
 * payload): every block is decoded, then corrupted copies of each.
 * Prints "all tests passed" and exits 0 on success.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksym.h"

static int failures;

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (!(cond)) {                                                     \
            failures++;                                                    \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                  \
            fputc('\n', stderr);                                           \
        }                                                                  \
    } while (0)

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

/* ---- a small greedy encoder (valid blocks, with overlapping matches) ---- */

static size_t put_len(uint8_t *out, size_t o, size_t rest)
{
    while (rest >= 255) {
        out[o++] = 255;
        rest -= 255;
    }
    out[o++] = (uint8_t)rest;
    return o;
}

static size_t put_seq(uint8_t *out, size_t o, const uint8_t *lit, size_t nlit, size_t offset, size_t mlen)
{
    size_t tok = o++;
    size_t ml = mlen ? mlen - 4 : 0;
    out[tok] = (uint8_t)(((nlit >= 15 ? 15 : nlit) << 4) | (mlen ? (ml >= 15 ? 15 : ml) : 0));
    if (nlit >= 15)
        o = put_len(out, o, nlit - 15);
    memcpy(out + o, lit, nlit);
    o += nlit;
    if (mlen) {
        out[o++] = (uint8_t)(offset & 0xff);
        out[o++] = (uint8_t)(offset >> 8);
        if (ml >= 15)
            o = put_len(out, o, ml - 15);
    }
    return o;
}

/* Worst case output size of encode(). */
static size_t encode_bound(size_t n)
{
    return n + n / 255 + 16;
}

/* Greedy: a 4-byte hash table of last positions; the last match ends at
 * least 5 bytes before the end and starts at least 12 before it, as the
 * format asks of encoders. */
static size_t encode(const uint8_t *in, size_t n, uint8_t *out)
{
    static uint32_t table[4096];
    size_t i = 0, anchor = 0, o = 0;
    for (size_t k = 0; k < 4096; k++)
        table[k] = UINT32_MAX;
    while (n >= 13 && i + 12 < n) {
        uint32_t v;
        memcpy(&v, in + i, 4);
        uint32_t h = (v * 2654435761u) >> 20;
        uint32_t cand = table[h];
        table[h] = (uint32_t)i;
        if (cand != UINT32_MAX && i - cand <= 65535 && memcmp(in + cand, in + i, 4) == 0) {
            size_t m = 4;
            while (i + m + 5 < n && in[cand + m] == in[i + m])
                m++;
            o = put_seq(out, o, in + anchor, i - anchor, i - cand, m);
            i += m;
            anchor = i;
        } else {
            i++;
        }
    }
    return put_seq(out, o, in + anchor, n - anchor, 0, 0);
}

/* ---- helpers --------------------------------------------------------- */

/* Decode src (copied into a buffer of exactly its size) into a buffer of
 * exactly cap bytes; the result must be an error code or fit. */
static int64_t decode_exact(const uint8_t *src, size_t n, size_t cap, uint8_t **outp)
{
    uint8_t *s = xmalloc(n);
    uint8_t *d = xmalloc(cap);
    if (n)
        memcpy(s, src, n);
    int64_t r = ksym_lz4_block_decode(n ? s : NULL, n, cap ? d : NULL, cap);
    CHECK(r == KSYM_ECORRUPT || r == KSYM_ENOSPC || (r >= 0 && (size_t)r <= cap),
          "unexpected result %lld", (long long)r);
    free(s);
    if (outp)
        *outp = d;
    else
        free(d);
    return r;
}

static void roundtrip(const uint8_t *data, size_t n)
{
    uint8_t *enc = xmalloc(encode_bound(n));
    size_t m = encode(data, n, enc);
    uint8_t *dec = NULL;
    int64_t r = decode_exact(enc, m, n, &dec);
    CHECK(r == (int64_t)n, "round trip of %zu bytes gave %lld", n, (long long)r);
    if (r == (int64_t)n)
        CHECK(n == 0 || memcmp(dec, data, n) == 0, "round trip of %zu bytes differs", n);
    free(dec);
    if (n > 0) {
        r = decode_exact(enc, m, n - 1, NULL);
        CHECK(r == KSYM_ENOSPC, "one byte short gave %lld", (long long)r);
    }
    /* every strict prefix of a valid block is invalid or shorter */
    if (m > 1) {
        size_t cut = (size_t)(rnd() % (m - 1)) + 1;
        r = decode_exact(enc, cut, n, NULL);
        CHECK(r < 0 || (size_t)r <= n, "prefix");
    }
    free(enc);
}

static void fill_random(uint8_t *buf, size_t n)
{
    int mode = (int)(rnd() % 4);
    size_t alphabet = 1 + rnd() % 6;
    for (size_t i = 0; i < n; i++) {
        switch (mode) {
        case 0: buf[i] = (uint8_t)rnd(); break;                        /* incompressible */
        case 1: buf[i] = (uint8_t)('a' + rnd() % alphabet); break;     /* small alphabet */
        case 2: buf[i] = (uint8_t)(rnd() % 64 ? (i ? buf[i - 1] : 0) : rnd()); break; /* runs */
        default: buf[i] = (uint8_t)(i % (1 + alphabet * 3)); break;     /* periodic */
        }
    }
}

static void mutate(uint8_t *buf, size_t *n, size_t cap)
{
    int k = 1 + (int)(rnd() % 4);
    while (k--) {
        switch (rnd() % 5) {
        case 0: if (*n) buf[rnd() % *n] ^= (uint8_t)(1u << (rnd() % 8)); break;
        case 1: if (*n) buf[rnd() % *n] = (uint8_t)rnd(); break;
        case 2: if (*n) *n = (size_t)(rnd() % *n); break;
        case 3: if (*n < cap) buf[(*n)++] = (uint8_t)rnd(); break;
        default: if (*n) buf[rnd() % *n] = (uint8_t)(rnd() % 2 ? 0xff : 0x00); break;
        }
    }
}

/* ---- a reference decoder: the format's rules, one byte at a time ------- */

/* The same checks in the same order as ksym_lz4_block_decode, with every
 * byte copied on its own and nothing written past the output: the decoder's
 * chunked copies must give the same verdict and the same bytes. */
static int64_t ref_decode(const uint8_t *src, size_t srclen, uint8_t *dst, size_t dstcap)
{
    size_t ip = 0, op = 0;
    for (;;) {
        size_t lit, mlen, offset;
        if (ip >= srclen)
            return KSYM_ECORRUPT;
        uint8_t token = src[ip++];
        lit = token >> 4;
        if (lit == 15) {
            uint8_t b;
            do {
                if (ip >= srclen)
                    return KSYM_ECORRUPT;
                b = src[ip++];
                lit += b;
            } while (b == 255);
        }
        if (lit > srclen - ip)
            return KSYM_ECORRUPT;
        if (lit > dstcap - op)
            return KSYM_ENOSPC;
        for (size_t i = 0; i < lit; i++)
            dst[op++] = src[ip++];
        if (ip == srclen)
            return (int64_t)op;
        if (srclen - ip < 2)
            return KSYM_ECORRUPT;
        offset = (size_t)src[ip] | (size_t)src[ip + 1] << 8;
        ip += 2;
        if (offset == 0 || offset > op)
            return KSYM_ECORRUPT;
        mlen = token & 15u;
        if (mlen == 15) {
            uint8_t b;
            do {
                if (ip >= srclen)
                    return KSYM_ECORRUPT;
                b = src[ip++];
                mlen += b;
            } while (b == 255);
        }
        mlen += 4;
        if (mlen > dstcap - op)
            return KSYM_ENOSPC;
        for (size_t i = 0; i < mlen; i++, op++)
            dst[op] = dst[op - offset];
    }
}

/* Decode src with both decoders, each from an exact-size copy of src into
 * an exact-size buffer of cap bytes (ASan sees any overrun): same result,
 * and the same bytes when it is a length. */
static void same_as_ref(const uint8_t *src, size_t n, size_t cap, const char *what)
{
    uint8_t *want = xmalloc(cap);
    int64_t r_ref = ref_decode(src, n, want, cap);
    uint8_t *got = NULL;
    int64_t r = decode_exact(src, n, cap, &got);
    CHECK(r == r_ref, "%s: %zu-byte block into %zu bytes: %lld, reference %lld", what, n, cap, (long long)r,
          (long long)r_ref);
    if (r == r_ref && r > 0)
        CHECK(memcmp(got, want, (size_t)r) == 0, "%s: %zu-byte block into %zu bytes: output differs", what, n, cap);
    free(got);
    free(want);
}

/* Lengths around the chunk sizes (8, 16, 32) and the nibble limits. */
static size_t edge_len(size_t lo)
{
    static const size_t lens[] = {0,  1,  2,  3,  4,  5,  7,  8,  9,  12, 13, 14, 15, 16, 17, 18, 19,
                                  20, 23, 24, 25, 31, 32, 33, 47, 48, 49, 63, 64, 65, 66, 80, 200, 270};
    size_t k;
    do
        k = lens[rnd() % (sizeof lens / sizeof lens[0])];
    while (k < lo);
    return k;
}

/* A valid block of random sequences with edge-case lengths and offsets
 * 1..20 mostly (then any); returns its size and the output length. */
static size_t edge_block(uint8_t *out, size_t *outlen, uint8_t *lits)
{
    size_t o = 0, op = 0;
    int nseq = (int)(rnd() % 6);
    for (size_t i = 0; i < 300; i++)
        lits[i] = (uint8_t)rnd();
    for (int s = 0; s < nseq; s++) {
        size_t nlit = edge_len(op ? 0 : 1);
        size_t mlen = edge_len(4);
        size_t reach = op + nlit;
        size_t offset = rnd() % 4 ? 1 + rnd() % 20 : 1 + rnd() % reach;
        if (offset > reach)
            offset = reach;
        o = put_seq(out, o, lits, nlit, offset, mlen);
        op += nlit + mlen;
    }
    size_t last = rnd() % 3 ? edge_len(0) : 0;
    o = put_seq(out, o, lits, last, 0, 0);
    *outlen = op + last;
    return o;
}

/* Chunk boundaries: outputs whose length is near the capacity (matches and
 * literals ending exactly at dstcap, a few bytes short of it, a chunk past
 * it), literals ending at srclen, offsets 1..20, against the reference;
 * and a corrupted copy of each. */
static void chunk_edges(int rounds)
{
    uint8_t *blk = xmalloc(8192), *lits = xmalloc(300);
    for (int r = 0; r < rounds; r++) {
        size_t n;
        size_t m = edge_block(blk, &n, lits);
        for (size_t cap = n > 3 ? n - 3 : 0; cap <= n + 40; cap++)
            same_as_ref(blk, m, cap, "edge block");
        same_as_ref(blk, m, n + 64 + rnd() % 64, "edge block, room");
        size_t mm = m;
        mutate(blk, &mm, 8192);
        same_as_ref(blk, mm, n, "corrupted edge block");
        same_as_ref(blk, mm, n + rnd() % 80, "corrupted edge block");
    }

    /* every offset 1..40 with every match length 4..70, alone after the
     * literals it needs and with a final literal run of 0..20 bytes */
    for (size_t offset = 1; offset <= 40; offset++)
        for (size_t mlen = 4; mlen <= 70; mlen++) {
            size_t last = rnd() % 21, n;
            for (size_t i = 0; i < 300; i++)
                lits[i] = (uint8_t)rnd();
            size_t m = put_seq(blk, 0, lits, offset, offset, mlen);
            m = put_seq(blk, m, lits + 100, last, 0, 0);
            n = offset + mlen + last;
            same_as_ref(blk, m, n, "offset sweep");      /* ends exactly at dstcap */
            same_as_ref(blk, m, n + 15, "offset sweep"); /* less than a chunk after it */
            same_as_ref(blk, m, n - 1, "offset sweep");  /* one byte short */
            same_as_ref(blk, m, offset + mlen - 1, "offset sweep"); /* the match one byte short */
        }

    /* one short sequence (the decoder's fast path when there is room)
     * after 104 bytes of output, then 0..48 literals: every distance from the
     * sequence to the end of the input and of the output near the limits */
    static const size_t nlits[] = {0, 1, 7, 8, 13, 14};
    static const size_t mlens[] = {4, 5, 11, 12, 17, 18};
    static const size_t offsets[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 100};
    for (size_t i = 0; i < 300; i++)
        lits[i] = (uint8_t)rnd();
    for (size_t a = 0; a < sizeof nlits / sizeof nlits[0]; a++)
        for (size_t b = 0; b < sizeof mlens / sizeof mlens[0]; b++)
            for (size_t c = 0; c < sizeof offsets / sizeof offsets[0]; c++)
                for (size_t last = 0; last <= 48; last++) {
                    size_t m = put_seq(blk, 0, lits, 100, 100, 4);
                    m = put_seq(blk, m, lits + 100, nlits[a], offsets[c], mlens[b]);
                    m = put_seq(blk, m, lits + 150, last, 0, 0);
                    size_t n = 104 + nlits[a] + mlens[b] + last;
                    same_as_ref(blk, m, n, "short sequence");
                    same_as_ref(blk, m, n + 1, "short sequence");
                }
    free(blk);
    free(lits);
}

/* ---- built-in cases ---------------------------------------------------- */

static void hand_made(void)
{
    uint8_t d[64];
    static const uint8_t empty_lit[] = {0x00};
    static const uint8_t hello[] = {0x50, 'h', 'e', 'l', 'l', 'o'};
    /* "ab" then a match of 6 at offset 2 (overlapping), then "!" */
    static const uint8_t overlap[] = {0x22, 'a', 'b', 0x02, 0x00, 0x10, '!'};
    /* offset 1: "x" repeated 20 times more */
    static const uint8_t run[] = {0x1f, 'x', 0x01, 0x00, 0x01, 0x00};
    static const uint8_t zero_offset[] = {0x10, 'a', 0x00, 0x00, 0x00};
    static const uint8_t far_offset[] = {0x10, 'a', 0x02, 0x00, 0x00};
    static const uint8_t ends_after_match[] = {0x10, 'a', 0x01, 0x00};
    static const uint8_t half_offset[] = {0x10, 'a', 0x01};
    static const uint8_t long_lit_cut[] = {0xf0, 0xff};
    static const uint8_t lit_past_end[] = {0x30, 'a', 'b'};

    CHECK(ksym_lz4_block_decode(NULL, 0, d, sizeof d) == KSYM_ECORRUPT, "empty block");
    CHECK(ksym_lz4_block_decode(NULL, 1, d, sizeof d) == KSYM_EINVAL, "NULL src");
    CHECK(ksym_lz4_block_decode(hello, sizeof hello, NULL, 5) == KSYM_EINVAL, "NULL dst");
    CHECK(ksym_lz4_block_decode(empty_lit, 1, NULL, 0) == 0, "a lone empty literal run");
    CHECK(ksym_lz4_block_decode(hello, sizeof hello, d, sizeof d) == 5 && memcmp(d, "hello", 5) == 0, "hello");
    CHECK(ksym_lz4_block_decode(hello, sizeof hello, d, 4) == KSYM_ENOSPC, "hello in 4");
    CHECK(ksym_lz4_block_decode(overlap, sizeof overlap, d, sizeof d) == 9 &&
              memcmp(d, "abababab!", 9) == 0, "overlap");
    CHECK(ksym_lz4_block_decode(run, sizeof run, d, sizeof d) == 21 && d[0] == 'x' && d[20] == 'x', "run");
    CHECK(ksym_lz4_block_decode(zero_offset, sizeof zero_offset, d, sizeof d) == KSYM_ECORRUPT, "offset 0");
    CHECK(ksym_lz4_block_decode(far_offset, sizeof far_offset, d, sizeof d) == KSYM_ECORRUPT, "offset too far");
    CHECK(ksym_lz4_block_decode(ends_after_match, sizeof ends_after_match, d, sizeof d) == KSYM_ECORRUPT,
          "ends after a match");
    CHECK(ksym_lz4_block_decode(half_offset, sizeof half_offset, d, sizeof d) == KSYM_ECORRUPT, "half offset");
    CHECK(ksym_lz4_block_decode(long_lit_cut, sizeof long_lit_cut, d, sizeof d) == KSYM_ECORRUPT,
          "length bytes cut");
    CHECK(ksym_lz4_block_decode(lit_past_end, sizeof lit_past_end, d, sizeof d) == KSYM_ECORRUPT,
          "literals past the end");

    /* a match length made of many 255 bytes that ends in the input's end */
    uint8_t many[300];
    many[0] = 0x1f;
    many[1] = 'z';
    many[2] = 1;
    many[3] = 0;
    memset(many + 4, 255, sizeof many - 4);
    CHECK(decode_exact(many, sizeof many, 1 << 20, NULL) == KSYM_ECORRUPT, "unterminated match length");
    many[sizeof many - 1] = 0;
    CHECK(decode_exact(many, sizeof many, 16, NULL) == KSYM_ENOSPC, "huge match into a small buffer");
}

static void random_cases(int rounds)
{
    size_t maxn = 1 << 16;
    uint8_t *data = xmalloc(maxn);
    uint8_t *enc = xmalloc(encode_bound(maxn) + 64);
    for (int r = 0; r < rounds; r++) {
        size_t n = (size_t)(rnd() % (r % 16 == 0 ? maxn : 600));
        fill_random(data, n);
        roundtrip(data, n);

        size_t m = encode(data, n, enc);
        mutate(enc, &m, encode_bound(maxn) + 64);
        size_t cap = (size_t)(rnd() % 3 == 0 ? rnd() % (n + 1) : n + rnd() % 64);
        decode_exact(enc, m, cap, NULL);

        size_t k = (size_t)(rnd() % 200);
        for (size_t i = 0; i < k; i++)
            enc[i] = (uint8_t)rnd();
        decode_exact(enc, k, (size_t)(rnd() % 4096), NULL);
    }
    free(data);
    free(enc);
}

/* ---- legacy files ------------------------------------------------------ */

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int check_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *data = len >= 0 ? xmalloc((size_t)len) : NULL;
    if (len < 0 || fread(data, 1, (size_t)len, f) != (size_t)len) {
        fclose(f);
        free(data);
        fprintf(stderr, "%s: read failed\n", path);
        return -1;
    }
    fclose(f);
    size_t n = (size_t)len, pos = 4, blocks = 0;
    uint64_t total = 0;
    CHECK(n >= 4 && le32(data) == 0x184C2102u, "%s: no legacy lz4 magic", path);
    uint8_t *out = xmalloc(KSYM_LZ4_LEGACY_BLOCK_MAX);
    while (n >= 4 && pos + 4 <= n) {
        uint32_t size = le32(data + pos);
        if (size == 0x184C2102u) {
            pos += 4;
            continue;
        }
        if (size == 0 || size > n - pos - 4)
            break;
        /* an exact-size copy of the block, so that an overread is caught */
        uint8_t *blk = xmalloc(size);
        memcpy(blk, data + pos + 4, size);
        int64_t r = ksym_lz4_block_decode(blk, size, out, KSYM_LZ4_LEGACY_BLOCK_MAX);
        CHECK(r >= 0, "%s: block %zu at %zu failed: %lld", path, blocks, pos, (long long)r);
        if (r >= 0) {
            total += (uint64_t)r;
            /* the same into a buffer of exactly its size, and one byte less */
            CHECK(decode_exact(blk, size, (size_t)r, NULL) == r, "%s: exact capacity", path);
            if (r > 0)
                CHECK(decode_exact(blk, size, (size_t)r - 1, NULL) == KSYM_ENOSPC, "%s: short capacity", path);
        }
        for (int k = 0; k < 24; k++) {
            size_t m = size;
            mutate(blk, &m, size);
            decode_exact(blk, m, (size_t)(r > 0 ? r : 4096), NULL);
            memcpy(blk, data + pos + 4, size);
        }
        free(blk);
        pos += 4 + (size_t)size;
        blocks++;
    }
    const char *trailer = "";
    if (n - pos >= 4 && le32(data + pos) == (uint32_t)total)
        trailer = ", size trailer matches";
    printf("%s: %zu blocks, %llu bytes%s\n", path, blocks, (unsigned long long)total, trailer);
    CHECK(blocks > 0, "%s: no block", path);
    free(out);
    free(data);
    return 0;
}

int main(int argc, char **argv)
{
    hand_made();
    random_cases(getenv("PYSYMS_SLOW_TESTS") ? 20000 : 3000);
    chunk_edges(getenv("PYSYMS_SLOW_TESTS") ? 20000 : 2000);
    for (int i = 1; i < argc; i++)
        if (check_file(argv[i]) != 0)
            failures++;
    if (failures) {
        printf("%d checks failed\n", failures);
        return 1;
    }
    printf("all tests passed\n");
    return 0;
}
