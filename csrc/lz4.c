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
 * SPDX-License-Identifier: MIT
 */
#include <stdint.h>
#include <string.h>

#include "ksym.h"

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

        lit = token >> 4;
        if (lit == 15 && read_more(src, srclen, &ip, &lit) != 0)
            return KSYM_ECORRUPT;
        if (lit > srclen - ip)
            return KSYM_ECORRUPT;
        if (lit > dstcap - op)
            return KSYM_ENOSPC;
        if (lit) {
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

        if (offset >= mlen) {
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
