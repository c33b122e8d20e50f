/* parse.c - ksym_builder_add_text: the text grammar of docs/sources.md
 * (/proc/kallsyms, System.map, nm and nm -S output), in one pass.
 *
 * A line ends at '\n'; one '\r' right before it (or before the end of the
 * text) is dropped.  Fields are split at runs of spaces and tabs.  Line
 * forms, by field count:
 *   0                      blank: skipped
 *   2, first is 1 byte     nm symbol without an address: skipped
 *   3                      ADDR TYPE NAME
 *   4, 4th starts with '[' and 2nd is 1 byte
 *                          ADDR TYPE NAME [MODULE]
 *   4, otherwise           ADDR SIZE TYPE NAME (nm -S)
 *   anything else          error
 * The checks of a line, in order: NUL byte, field count, address, then
 * (4 fields) the module field's brackets or the size, the type's length,
 * then the record checks of ksym_builder_add (name, type, module).
 * Fields quoted in messages are cut to 64 bytes plus "...".
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "builder.h"
#include "ksym.h"

#define QUOTE_MAX 64

/* Hex digit value + 1; 0 = not a hex digit. */
static const uint8_t hexval1[256] = {
    ['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5,
    ['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
    ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
    ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

/* 1 to 16 hex digits; returns 0 on success. */
static inline int parse_hex(const char *s, size_t len, uint64_t *out)
{
    if (len == 0 || len > 16)
        return -1;
    unsigned bad = 0;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned d = (uint8_t)(hexval1[(unsigned char)s[i]] - 1);
        bad |= d;
        v = (v << 4) | (d & 15);
    }
    if (bad & 0x80)
        return -1;
    *out = v;
    return 0;
}

/* First byte <= 0x20 (a separator, line end or control byte) in [p, end). */
static inline const char *next_low(const char *p, const char *end)
{
#if defined(__SSE2__)
    const __m128i lim = _mm_set1_epi8(0x20);
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(v, lim), v));
        if (m)
            return p + __builtin_ctz(m);
        p += 16;
    }
#endif
    while (p < end && (unsigned char)*p > 0x20)
        p++;
    return p;
}

static int quoted_error(struct ksym_builder *b, uint64_t line, int err, const char *fmt1,
                        const char *s, size_t len, const char *fmt2)
{
    return ksym__error(b, err, line, -1, "%s'%.*s%s'%s", fmt1,
                       (int)(len > QUOTE_MAX ? QUOTE_MAX : len), s,
                       len > QUOTE_MAX ? "..." : "", fmt2);
}

struct field {
    const char *s;
    size_t len;
    int odd; /* holds a byte <= 0x20 that is not a separator (\v, \f, \r, ...) */
};

/* Parse whole lines: text[0..len) ends just after a '\n', or is the end of
 * the input.  Lines are numbered on from st->line; st counts what was
 * added.  Returns 0, or the error (with b's message set) of the first bad
 * line; the caller rolls back. */
int ksym__parse_lines(struct ksym_builder *b, const char *text, size_t len, struct ksym_text_state *st)
{
    /* Typical lines are ~45 bytes with ~30-byte names. */
    ksym__reserve(b, len / 40 + 16, len - len / 4);

    const char *p = text, *end = text + len;
    const char *nul = len ? memchr(text, 0, len) : NULL;
    uint64_t line = st->line;
    size_t added = 0;
    int all_zero = 1;
    int err = 0;

    while (p < end) {
        line++;
        struct field f[4];
        unsigned nf = 0;
        const char *q = p;
        for (;;) {
            while (q < end && (*q == ' ' || *q == '\t'))
                q++;
            if (q == end || *q == '\n' || (*q == '\r' && (q + 1 == end || q[1] == '\n')))
                break;
            const char *s = q;
            int odd = 0;
            for (;;) {
                q = next_low(q, end);
                if (q == end || *q == ' ' || *q == '\t' || *q == '\n' ||
                    (*q == '\r' && (q + 1 == end || q[1] == '\n')))
                    break;
                odd = 1;
                q++;
            }
            if (nf < 4) {
                f[nf].s = s;
                f[nf].len = (size_t)(q - s);
                f[nf].odd = odd;
            }
            nf++;
        }
        /* q is at the line's '\n', its trailing '\r', or the end. */
        const char *next = q;
        while (next < end && *next != '\n')
            next++; /* at most the '\r' */
        if (next < end)
            next++;
        if (nul && nul < next) {
            err = ksym__error(b, KSYM_EPARSE, line, -1, "NUL byte in line");
            goto fail;
        }
        p = next;

        if (nf == 0 || (nf == 2 && f[0].len == 1))
            continue;
        if (nf < 3 || nf > 4) {
            err = ksym__error(b, KSYM_EPARSE, line, -1,
                              "expected 'ADDRESS TYPE NAME [MODULE]', got %u field%s", nf,
                              nf == 1 ? "" : "s");
            goto fail;
        }
        uint64_t addr, size = 0;
        if (parse_hex(f[0].s, f[0].len, &addr)) {
            err = quoted_error(b, line, KSYM_EPARSE, "bad address ", f[0].s, f[0].len, "");
            goto fail;
        }
        unsigned ti = 1;
        const char *mod = NULL;
        size_t modlen = 0;
        int mod_odd = 0;
        if (nf == 4) {
            if (f[3].s[0] == '[' && f[1].len == 1) {
                if (f[3].len < 2 || f[3].s[f[3].len - 1] != ']') {
                    err = quoted_error(b, line, KSYM_EPARSE, "bad module field ", f[3].s,
                                       f[3].len, "");
                    goto fail;
                }
                mod = f[3].s + 1;
                modlen = f[3].len - 2;
                if (modlen == 0) {
                    err = ksym__error(b, KSYM_EBADMODULE, line, -1, "module name is empty");
                    goto fail;
                }
                mod_odd = f[3].odd || modlen > KSYM_MODULE_NAME_MAX ||
                          memchr(mod, '[', modlen) || memchr(mod, ']', modlen);
            } else {
                if (parse_hex(f[1].s, f[1].len, &size)) {
                    err = quoted_error(b, line, KSYM_EPARSE, "bad size ", f[1].s, f[1].len, "");
                    goto fail;
                }
                ti = 2;
            }
        }
        if (f[ti].len != 1) {
            err = quoted_error(b, line, KSYM_EPARSE, "type ", f[ti].s, f[ti].len,
                               " is not one character");
            goto fail;
        }
        unsigned char type = (unsigned char)f[ti].s[0];
        const struct field *nm = &f[ti + 1];
        /* Fields hold no NUL (checked above), no space or tab; "odd" flags
         * any other byte <= 0x20.  Anything unusual goes through the full
         * record checks, which also write the message. */
        if (nm->odd || nm->len > KSYM_NAME_MAX || type < 0x21 || type > 0x7E || mod_odd)
            err = ksym__add(b, addr, size, type, nm->s, nm->len, mod, modlen);
        else
            err = ksym__add_valid(b, addr, size, type, nm->s, nm->len, mod, modlen);
        if (err) {
            b->err_line = line;
            b->err_record = -1;
            goto fail;
        }
        added++;
        all_zero &= (addr == 0);
    }
fail:
    st->line = line;
    st->added += added;
    st->all_zero &= all_zero;
    return err;
}

/* The checks of a whole input once its last line is parsed. */
int ksym__text_checks(struct ksym_builder *b, const struct ksym_mark *mark,
                      const struct ksym_text_state *st)
{
    if (st->added == 0)
        return ksym__error(b, KSYM_EEMPTY, 0, -1, "no symbols");
    if (st->all_zero) {
        ksym__rollback(b, mark);
        return ksym__error(b, KSYM_EZEROADDR, 0, -1,
                           "all %zu addresses are zero: the kernel hides them (kptr_restrict); "
                           "read /proc/kallsyms as root",
                           st->added);
    }
    return KSYM_OK;
}

int ksym_builder_add_text(struct ksym_builder *b, const char *text, size_t len)
{
    if (!b)
        return KSYM_EINVAL;
    if (!text && len)
        return ksym__error(b, KSYM_EINVAL, 0, -1, "NULL text with a length");
    struct ksym_mark mark;
    ksym__mark(b, &mark);
    struct ksym_text_state st = {0, 0, 1};
    int err = ksym__parse_lines(b, text, len, &st);
    if (err) {
        ksym__rollback(b, &mark);
        return err;
    }
    return ksym__text_checks(b, &mark, &st);
}
