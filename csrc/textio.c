/* textio.c - text in and out of the command line's hot paths (issue #6):
 * whitespace-separated hex addresses parsed in bulk, chunk by chunk, and a
 * line scan over formatted output.
 *
 * Every read is bounded by the caller's length: a chunk may end anywhere,
 * inside a token included, and tokens may hold any byte.  No allocation,
 * no global state.
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "ksym.h"

/* ASCII whitespace as C's isspace() in the "C" locale: space, \t \n \v \f \r. */
static int is_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Value of a hex digit, or -1. */
static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20; /* 'A'..'F' -> 'a'..'f'; no other byte lands in 'a'..'f' */
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Check the token p[0..n): KSYM_OK with its value in *value, else the
 * error.  When partial (the token may go on in the next chunk) only what
 * no later byte can change is judged, so that the answer never depends on
 * where chunks end: a bad byte among the first KSYM_ADDR_TOKEN_MAX + 1, or
 * a token already too long.  The checks run in that order (bad byte, too
 * long, too large) for the same reason. */
static int parse_token(const unsigned char *p, size_t n, int partial, uint64_t *value)
{
    size_t k = 0, end = n > KSYM_ADDR_TOKEN_MAX ? KSYM_ADDR_TOKEN_MAX + 1 : n;
    if (n >= 2 && p[0] == '0' && (p[1] | 0x20) == 'x')
        k = 2;
    size_t digits = k;
    uint64_t v = 0;
    int range = 0;
    for (; k < end; k++) {
        int d = hex_value(p[k]);
        if (d < 0)
            return KSYM_EPARSE;
        if (v >> 60)
            range = 1;
        v = (v << 4) | (uint64_t)d;
    }
    if (n > KSYM_ADDR_TOKEN_MAX)
        return KSYM_E2BIG;
    if (partial)
        return KSYM_OK;
    if (digits == n)
        return KSYM_EPARSE; /* empty, or a bare "0x" */
    if (range)
        return KSYM_ERANGE;
    *value = v;
    return KSYM_OK;
}

int64_t ksym_parse_addresses(const char *text, size_t len, int final, uint64_t *out, size_t cap,
                             size_t *consumed, uint64_t *newlines, int *error)
{
    if ((!text && len) || (!out && cap) || !consumed || !newlines || !error)
        return KSYM_EINVAL;
    const unsigned char *p = (const unsigned char *)text;
    size_t i = 0, count = 0;
    uint64_t nl = 0;
    *error = KSYM_OK;
    for (;;) {
        while (i < len && is_space(p[i])) {
            nl += p[i] == '\n';
            i++;
        }
        if (i == len || count == cap)
            break;
        size_t start = i;
        size_t limit = len - start > KSYM_ADDR_TOKEN_MAX + 1 ? start + KSYM_ADDR_TOKEN_MAX + 1 : len;
        while (i < limit && !is_space(p[i]))
            i++;
        int partial = i == len && !final;
        uint64_t v = 0;
        int rc = parse_token(p + start, i - start, partial, &v);
        if (rc != KSYM_OK) {
            *error = rc;
            i = start;
            break;
        }
        if (partial) {
            i = start; /* the rest of the token comes with the next chunk */
            break;
        }
        out[count++] = v;
    }
    *consumed = i;
    *newlines = nl;
    return (int64_t)count;
}

size_t ksym_count_lines_without(const char *text, size_t len, int c)
{
    if (!text)
        return 0;
    size_t lines = 0, i = 0;
    while (i < len) {
        const char *end = memchr(text + i, '\n', len - i);
        size_t line_end = end ? (size_t)(end - text) : len;
        if (!memchr(text + i, c, line_end - i))
            lines++;
        i = line_end + 1;
    }
    return lines;
}
