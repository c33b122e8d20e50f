/* parse.c - ksym_builder_add_text: the text grammar of docs/sources.md
 * (/proc/kallsyms, System.map, nm and nm -S output), in one pass.
 *
 * Line forms, by field count (fields split at runs of spaces and tabs):
 *   0                      blank: skipped
 *   2, first is 1 byte     nm symbol without an address: skipped
 *   3                      ADDR TYPE NAME
 *   4, 4th starts with '[' and 2nd is 1 byte
 *                          ADDR TYPE NAME [MODULE]
 *   4, otherwise           ADDR SIZE TYPE NAME (nm -S)
 *   anything else          error
 * Fields quoted in messages are cut to 64 bytes plus "...".
 *
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "builder.h"
#include "ksym.h"

#define QUOTE_MAX 64

/* Hex digit values; 0xFF = not a hex digit. */
static const uint8_t hexval[256] = {
    ['0'] = 0, ['1'] = 1, ['2'] = 2, ['3'] = 3, ['4'] = 4,
    ['5'] = 5, ['6'] = 6, ['7'] = 7, ['8'] = 8, ['9'] = 9,
    ['a'] = 10, ['b'] = 11, ['c'] = 12, ['d'] = 13, ['e'] = 14, ['f'] = 15,
    ['A'] = 10, ['B'] = 11, ['C'] = 12, ['D'] = 13, ['E'] = 14, ['F'] = 15,
};

static int is_hex(unsigned char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/* 1 to 16 hex digits; returns 0 on success. */
static int parse_hex(const char *s, size_t len, uint64_t *out)
{
    if (len == 0 || len > 16)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!is_hex(c))
            return -1;
        v = (v << 4) | hexval[c];
    }
    *out = v;
    return 0;
}

static int quoted_error(struct ksym_builder *b, uint64_t line, const char *what,
                        const char *s, size_t len)
{
    return ksym__error(b, KSYM_EPARSE, line, -1, "%s '%.*s%s'", what,
                       (int)(len > QUOTE_MAX ? QUOTE_MAX : len), s,
                       len > QUOTE_MAX ? "..." : "");
}

int ksym_builder_add_text(struct ksym_builder *b, const char *text, size_t len)
{
    if (!b)
        return KSYM_EINVAL;
    if (!text && len)
        return ksym__error(b, KSYM_EINVAL, 0, -1, "NULL text with a length");

    struct ksym_mark mark;
    ksym__mark(b, &mark);
    /* Typical lines are ~45 bytes with ~30-byte names. */
    ksym__reserve(b, len / 40 + 16, len - len / 4);

    const char *p = text, *end = text + len;
    const char *nul = len ? memchr(text, 0, len) : NULL;
    uint64_t line = 0;
    size_t added = 0;
    int all_zero = 1;
    int err;

    while (p < end) {
        line++;
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *next = nl ? nl + 1 : end;
        if (nul && nul < le) {
            err = ksym__error(b, KSYM_EPARSE, line, -1, "NUL byte in line");
            goto fail;
        }
        if (le > p && le[-1] == '\r')
            le--;

        const char *f[4];
        size_t fl[4];
        unsigned nf = 0;
        const char *q = p;
        for (;;) {
            while (q < le && (*q == ' ' || *q == '\t'))
                q++;
            if (q == le)
                break;
            const char *s = q;
            while (q < le && *q != ' ' && *q != '\t')
                q++;
            if (nf < 4) {
                f[nf] = s;
                fl[nf] = (size_t)(q - s);
            }
            nf++;
        }
        p = next;
        if (nf == 0 || (nf == 2 && fl[0] == 1))
            continue;
        if (nf < 3 || nf > 4) {
            err = ksym__error(b, KSYM_EPARSE, line, -1,
                              "expected 'ADDRESS TYPE NAME [MODULE]', got %u field%s", nf,
                              nf == 1 ? "" : "s");
            goto fail;
        }
        uint64_t addr, size;
        if (parse_hex(f[0], fl[0], &addr)) {
            err = quoted_error(b, line, "bad address", f[0], fl[0]);
            goto fail;
        }
        unsigned ti = 1;
        const char *mod = NULL;
        size_t modlen = 0;
        if (nf == 4) {
            if (f[3][0] == '[' && fl[1] == 1) {
                if (fl[3] < 2 || f[3][fl[3] - 1] != ']') {
                    err = quoted_error(b, line, "bad module field", f[3], fl[3]);
                    goto fail;
                }
                mod = f[3] + 1;
                modlen = fl[3] - 2;
                if (modlen == 0) {
                    err = ksym__error(b, KSYM_EBADMODULE, line, -1, "module name is empty");
                    goto fail;
                }
            } else {
                if (parse_hex(f[1], fl[1], &size)) {
                    err = quoted_error(b, line, "bad size", f[1], fl[1]);
                    goto fail;
                }
                ti = 2;
            }
        }
        if (fl[ti] != 1) {
            err = ksym__error(b, KSYM_EPARSE, line, -1, "type '%.*s%s' is not one character",
                              (int)(fl[ti] > QUOTE_MAX ? QUOTE_MAX : fl[ti]), f[ti],
                              fl[ti] > QUOTE_MAX ? "..." : "");
            goto fail;
        }
        err = ksym__add(b, addr, (unsigned char)f[ti][0], f[ti + 1], fl[ti + 1], mod, modlen);
        if (err) {
            b->err_line = line;
            b->err_record = -1;
            goto fail;
        }
        added++;
        all_zero &= (addr == 0);
    }
    if (added == 0)
        return ksym__error(b, KSYM_EEMPTY, 0, -1, "no symbols");
    if (all_zero) {
        ksym__rollback(b, &mark);
        return ksym__error(b, KSYM_EZEROADDR, 0, -1,
                           "all %zu addresses are zero: the kernel hides them (kptr_restrict); "
                           "read /proc/kallsyms as root",
                           added);
    }
    return KSYM_OK;

fail:
    ksym__rollback(b, &mark);
    return err;
}
