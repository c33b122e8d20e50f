/* lz4.c - decoding one LZ4 block, for kernels compressed with lz4 (issue #5).
 *
 * Written from the LZ4 block format description (lz4's doc/lz4_Block_format.md):
 * a block is a run of sequences; each begins with a token byte whose high
 * nibble is the literal length and low nibble the match length minus 4 (a
 * nibble of 15 continues in the following bytes, each added, until one is
 * not 255), then the literals, then a 2-byte little-endian offset (1..65535,
 * back from the current output position) and the match length bytes.  The
 * last sequence has literals only: the block ends right after them.
 *
 * Every length is accumulated with saturation and compared with what is left
 * of the input or the output before anything is copied, so no input can make
 * this read or write outside src[0..srclen) or dst[0..dstcap).
 *
 * Speed: the checks above decide the verdict; how the bytes are copied does
 * not.  When both buffers have enough slack past the end of a copy, it goes
 * in fixed 8- or 16-byte chunks ("wild copy": it may write up to 28 bytes
 * past its end, still inside dst, which the following sequences overwrite,
 * and read up to 16 bytes past the literals, still inside src).  A match
 * closer than its length overlaps its own output; chunks then copy from at
 * least 8 bytes back, so each reads only bytes already written: for offsets
 * 1..7 the first 8 bytes are copied so that the distance becomes a multiple
 * of the offset that is >= 8 (the lz4 reference decoder's trick).  Near the
 * ends of the buffers, and for long copies, the exact byte counts go to
 * memcpy/memset.  csrc/test_lz4.c checks every one of these limits to the
 * byte under ASan, against a byte-at-a-time reference decoder.
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdint.h>
#include <string.h>

#include "ksym.h"

/* Slack a chunked copy needs after its end, in both buffers. */
#define WILD 16
/* Longest copy done in chunks; longer ones go to memcpy. */
#define CHUNKED_MAX 64
/* Room in dst for the fast path of a sequence (see below). */
#define FAST_DST 64

/* a + b, stuck at SIZE_MAX instead of wrapping */
static inline size_t add_sat(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

/* Read the continuation bytes of a length whose nibble was 15.  Returns 0,
 * or -1 when the input ends before the byte that is not 255. */
static inline int read_more(const uint8_t *src, size_t srclen, size_t *ip, size_t *len)
{
    uint8_t b;
    do {
        if (*ip >= srclen)
            return -1;
        b = src[(*ip)++];
        *len = add_sat(*len, b);
    } while (b == 255);
    return 0;
}

static inline void copy8(uint8_t *d, const uint8_t *s)
{
    memcpy(d, s, 8);
}

static inline void copy16(uint8_t *d, const uint8_t *s)
{
    memcpy(d, s, 16);
}

/* Copy n >= 1 bytes from s to d in 16-byte chunks: writes d[0..n rounded up
 * to 16), reads as much of s; the two must not overlap within that. */
static inline void wild16(uint8_t *d, const uint8_t *s, size_t n)
{
    uint8_t *e = d + n;
    do {
        copy16(d, s);
        d += 16;
        s += 16;
    } while (d < e);
}

/* The match of n >= 4 bytes at d, offset bytes back (1 <= offset <= the
 * bytes before d), in chunks: writes d[0..n + 15) at most. */
static inline void wild_match(uint8_t *d, size_t offset, size_t n)
{
    /* for an offset below 8: the smallest multiples of it that are >= 4
     * and >= 8 */
    static const uint8_t back4[8] = {0, 4, 4, 6, 4, 5, 6, 7};
    static const uint8_t back8[8] = {0, 8, 8, 9, 8, 10, 12, 14};
    uint8_t *e = d + n;
    const uint8_t *m = d - offset;

    if (offset >= 16) {
        wild16(d, m, n); /* each chunk ends at or before the one it writes */
        return;
    }
    if (offset >= 8) {
        copy8(d, m);
        m += 8;
    } else {
        /* the first 4 bytes one at a time (they may overlap), the next 4
         * from a whole number of periods back, at least 4 (all written by
         * now); then go on from a whole number of periods, at least 8, back */
        d[0] = m[0];
        d[1] = m[1];
        d[2] = m[2];
        d[3] = m[3];
        memcpy(d + 4, d + 4 - back4[offset], 4);
        m = d + 8 - back8[offset];
    }
    d += 8;
    while (d < e) {
        copy8(d, m);
        d += 8;
        m += 8;
    }
}

int64_t ksym_lz4_block_decode(const uint8_t *src, size_t srclen, uint8_t *dst, size_t dstcap)
{
    size_t ip = 0, op = 0;

    if ((src == NULL && srclen != 0) || (dst == NULL && dstcap != 0))
        return KSYM_EINVAL;
    if (dstcap > (size_t)INT64_MAX)
        dstcap = (size_t)INT64_MAX; /* the return value must hold the count */

    for (;;) {
        uint8_t token;
        size_t lit, mlen, offset;

        /* a block never ends after a match, nor is it empty */
        if (ip >= srclen)
            return KSYM_ECORRUPT;
        token = src[ip++];

        /* The common case, far from both ends: no length continues past
         * its nibble (so lit <= 14, mlen <= 18) and there is room for what
         * the chunks write, up to op + 14 + 32.  Of the checks below, only
         * the offset's can fail. */
        if (token < 0xF0 && (token & 15u) != 15 && srclen - ip >= 16 && dstcap - op >= FAST_DST) {
            lit = token >> 4;
            copy16(dst + op, src + ip);
            ip += lit;
            op += lit;
            offset = (size_t)src[ip] | ((size_t)src[ip + 1] << 8); /* ip + 2 <= srclen */
            ip += 2;
            if (offset == 0 || offset > op)
                return KSYM_ECORRUPT;
            mlen = (token & 15u) + 4;
            if (offset >= 16) {
                copy16(dst + op, dst + op - offset);
                copy16(dst + op + 16, dst + op + 16 - offset);
            } else {
                wild_match(dst + op, offset, mlen);
            }
            op += mlen;
            continue;
        }

        lit = token >> 4;
        if (lit == 15 && read_more(src, srclen, &ip, &lit) != 0)
            return KSYM_ECORRUPT;
        if (lit > srclen - ip)
            return KSYM_ECORRUPT;
        if (lit > dstcap - op)
            return KSYM_ENOSPC;
        if (lit) {
            /* lit <= srclen - ip and lit <= dstcap - op: no wrap below */
            if (lit <= CHUNKED_MAX && srclen - ip - lit >= WILD && dstcap - op - lit >= WILD)
                wild16(dst + op, src + ip, lit);
            else
                memcpy(dst + op, src + ip, lit);
            ip += lit;
            op += lit;
        }
        if (ip == srclen)
            return (int64_t)op; /* the last sequence: literals only */

        if (srclen - ip < 2)
            return KSYM_ECORRUPT;
        offset = (size_t)src[ip] | ((size_t)src[ip + 1] << 8);
        ip += 2;
        if (offset == 0 || offset > op)
            return KSYM_ECORRUPT;

        mlen = token & 15u;
        if (mlen == 15 && read_more(src, srclen, &ip, &mlen) != 0)
            return KSYM_ECORRUPT;
        mlen = add_sat(mlen, 4);
        if (mlen > dstcap - op)
            return KSYM_ENOSPC;

        if (mlen <= CHUNKED_MAX && offset != 1 && dstcap - op - mlen >= WILD) {
            wild_match(dst + op, offset, mlen);
            op += mlen;
        } else if (offset >= mlen) {
            memcpy(dst + op, dst + op - offset, mlen); /* no overlap */
            op += mlen;
        } else if (offset == 1) {
            memset(dst + op, dst[op - 1], mlen);
            op += mlen;
        } else {
            /* Overlapping: the output repeats with period offset.  Copy from
             * the match start in chunks as long as what is already written
             * after it; each chunk is a multiple of offset, so the pattern
             * stays in phase, and source and target never overlap. */
            size_t start = op - offset;
            while (mlen) {
                size_t n = op - start;
                if (n > mlen)
                    n = mlen;
                memcpy(dst + op, dst + start, n);
                op += n;
                mlen -= n;
            }
        }
    }
}
