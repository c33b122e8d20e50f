/* fuzz_elf.c - a fuzz target for the ELF symbol table reader (csrc/elf.c,
 * issue #6).
 *
 * The promise under test: no input bytes make ksym_elf_symbols or
 * ksym_elf_add read outside the file or write outside the caller's array.
 * Each input is copied into a buffer of exactly its size (so
 * AddressSanitizer sees a read past it) and read as each kind of table
 * (auto, .symtab, .dynsym): first counted (cap 0), then into an array of
 * exactly that many entries, then into one entry short of that (the
 * count must not change, the last entry must not be written); every
 * symbol returned must name a NUL-terminated string inside the file and
 * carry a printable letter; an error must come with a message and the
 * offset of a field of the file.  The symbols are then fed to a builder
 * (ksym_elf_add: added + skipped = count, or nothing added on error) and,
 * when there are few enough, built into a table.
 *
 * Build modes (csrc/Makefile: make fuzz_elf_asan, make fuzz_elf):
 *   -DKSYM_FUZZ_ELF             the target plus a small mutation driver with main():
 *       fuzz_elf [-seconds=N] [-runs=N] [-seed=N] SEED...
 *         runs each SEED (a file or a directory of files) once, then mutates
 *         seeds until N seconds or N runs are used (default 10 s); prints
 *         "fuzz_elf: S of N seed inputs have symbols" and
 *         "fuzz_elf: runs=R read=K symbols=M" (K = readings that succeeded).
 *         The mutations know the ELF layout: besides byte flips, truncation
 *         and spans moved, they set fields of the header, of a section
 *         header and of a symbol to edge values.  A crashing input is saved
 *         to /tmp/fuzz-elf-crash-<hash>.bin; pass it as a SEED with -runs=0
 *         to replay it.
 *   -DKSYM_FUZZ_ELF_LIBFUZZER   LLVMFuzzerTestOneInput alone (clang -fsanitize=fuzzer).
 *   neither: an empty translation unit (the Python extension compiles every
 *   C file of csrc/ that is not a test_ program, this one included).
 *
 * SPDX-License-Identifier: MIT
 */
#if defined(KSYM_FUZZ_ELF) || defined(KSYM_FUZZ_ELF_LIBFUZZER)

#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE /* clock_gettime, dirent */
#endif
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksym.h"

#define FE_CHECK(cond)                                                               \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "fuzz_elf.c:%d: check failed: %s\n", __LINE__, #cond);   \
            abort();                                                                 \
        }                                                                            \
    } while (0)

#define FE_BUILD_MAX 4000 /* tables built only from this many symbols or fewer (time) */

static uint64_t fe_read, fe_symbols;

static void check_symbols(const uint8_t *d, size_t n, const struct ksym_elf_symbol *s, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        FE_CHECK(s[i].name_off < n && s[i].name_len < n - s[i].name_off);
        FE_CHECK(d[s[i].name_off + s[i].name_len] == 0);
        FE_CHECK(memchr(d + s[i].name_off, 0, s[i].name_len) == NULL);
        FE_CHECK(s[i].type >= 0x21 && s[i].type <= 0x7E);
    }
}

/* An error: a known code, a message, the offset of a field of the file
 * (the class and encoding bytes may lie past the end of a short one). */
static void check_error(int64_t rc, const char *msg, uint64_t where, size_t n)
{
    FE_CHECK(rc == KSYM_ECORRUPT);
    FE_CHECK(memchr(msg, 0, 256) != NULL && msg[0] != 0);
    FE_CHECK(where < n || where <= 5);
}

static void add_to_builder(const uint8_t *d, size_t n, int which, int64_t count)
{
    struct ksym_builder *b = ksym_builder_new();
    FE_CHECK(b);
    FE_CHECK(ksym_builder_add(b, 0x1000, 'T', "before", 6, NULL, 0) == 0);
    char msg[256];
    uint64_t where, skipped;
    int64_t added = ksym_elf_add(d, n, which, b, "mod", 3, &skipped, msg, sizeof msg, &where);
    if (count < 0) {
        FE_CHECK(added == count);
        FE_CHECK(ksym_builder_count(b) == 1); /* nothing kept */
    } else {
        FE_CHECK(added >= 0 && added + (int64_t)skipped == count);
        FE_CHECK(ksym_builder_count(b) == 1 + (size_t)added);
        if (count <= FE_BUILD_MAX) {
            struct ksym_table *t = NULL;
            FE_CHECK(ksym_builder_finish(b, &t) == 0);
            FE_CHECK(ksym_count(t) == 1 + (uint32_t)added);
            ksym_table_free(t);
        }
    }
    ksym_builder_free(b);
}

static void read_as(const uint8_t *d, size_t n, int which)
{
    char msg[256];
    uint64_t where = 0;
    memset(msg, 'x', sizeof msg);
    int64_t count = ksym_elf_symbols(d, n, which, NULL, 0, msg, sizeof msg, &where);
    if (count < 0) {
        check_error(count, msg, where, n);
        FE_CHECK(ksym_elf_symbols(d, n, which, NULL, 0, NULL, 0, NULL) == count);
        add_to_builder(d, n, which, count);
        return;
    }
    FE_CHECK(where == UINT64_MAX);
    fe_read++;
    fe_symbols += (uint64_t)count;
    if (count == 0) {
        add_to_builder(d, n, which, 0);
        return;
    }
    struct ksym_elf_symbol *all = malloc(sizeof *all * (size_t)count);
    FE_CHECK(all);
    FE_CHECK(ksym_elf_symbols(d, n, which, all, (size_t)count, msg, sizeof msg, &where) == count);
    check_symbols(d, n, all, (size_t)count);
    /* one short: the same count, nothing written past the array (ASan) */
    if (count > 1) {
        struct ksym_elf_symbol *part = malloc(sizeof *part * (size_t)(count - 1));
        FE_CHECK(part);
        FE_CHECK(ksym_elf_symbols(d, n, which, part, (size_t)(count - 1), NULL, 0, NULL) == count);
        for (int64_t i = 0; i < count - 1; i++)
            FE_CHECK(part[i].address == all[i].address && part[i].size == all[i].size &&
                     part[i].name_off == all[i].name_off && part[i].name_len == all[i].name_len &&
                     part[i].type == all[i].type);
        free(part);
    }
    free(all);
    add_to_builder(d, n, which, count);
}

static int fe_one(const uint8_t *data, size_t size)
{
    uint8_t *d = malloc(size ? size : 1);
    FE_CHECK(d);
    if (size)
        memcpy(d, data, size);
    read_as(d, size, KSYM_ELF_AUTO);
    read_as(d, size, KSYM_ELF_SYMTAB);
    read_as(d, size, KSYM_ELF_DYNSYM);
    FE_CHECK(ksym_elf_symbols(d, size, 3, NULL, 0, NULL, 0, NULL) == KSYM_EINVAL);
    free(d);
    return 0;
}

#ifdef KSYM_FUZZ_ELF_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fe_one(data, size);
}
#else

#include "fuzz_driver.h"

/* ---- ELF-aware mutations ------------------------------------------------------ */

/* The mutator's own loose view of the layout (the reader under test is not
 * trusted to find it): every read bounds-checked, 0 outside. */
struct view {
    uint8_t *b;
    size_t n;
    int wide, big;
};

static uint64_t vget(const struct view *v, uint64_t pos, unsigned size)
{
    if (pos > v->n || size > v->n - pos)
        return 0;
    uint64_t x = 0;
    for (unsigned i = 0; i < size; i++)
        x |= (uint64_t)v->b[pos + i] << (8 * (v->big ? size - 1 - i : i));
    return x;
}

static void vput(struct view *v, uint64_t pos, unsigned size, uint64_t x)
{
    if (pos > v->n || size > v->n - pos)
        return;
    for (unsigned i = 0; i < size; i++)
        v->b[pos + i] = (uint8_t)(x >> (8 * (v->big ? size - 1 - i : i)));
}

/* An edge value for a field of size bytes that held old, in a file of n bytes. */
static uint64_t edge_value(uint64_t old, size_t n, unsigned size)
{
    uint64_t mask = size == 8 ? UINT64_MAX : (1ull << (8 * size)) - 1;
    switch (rnd() % 12) {
    case 0: return 0;
    case 1: return 1;
    case 2: return mask;
    case 3: return (uint64_t)n & mask;
    case 4: return (uint64_t)(n - 1) & mask;
    case 5: return (uint64_t)(n + 1) & mask;
    case 6: return (old + 1) & mask;
    case 7: return (old - 1) & mask;
    case 8: return (old + rnd() % 64) & mask;
    case 9: return (0xFF00 + rnd() % 256) & mask; /* reserved section indexes */
    case 10: return (old ^ (1ull << (rnd() % (8 * size)))) & mask;
    default: return rnd() & mask;
    }
}

/* Set a field of the header, of a section header or of a symbol to an
 * edge value. */
static void mutate_elf(uint8_t *buf, size_t size)
{
    if (size < 52 || memcmp(buf, "\177ELF", 4) != 0)
        return;
    struct view v = {buf, size, buf[4] == 2, buf[5] == 2};
    uint64_t shoff = vget(&v, v.wide ? 0x28 : 0x20, v.wide ? 8 : 4);
    uint64_t shsz = v.wide ? 64 : 40, symsz = v.wide ? 24 : 16;
    uint64_t shnum = vget(&v, v.wide ? 0x3C : 0x30, 2);
    if (shnum == 0)
        shnum = vget(&v, shoff + (v.wide ? 32 : 20), v.wide ? 8 : 4);
    if (shnum > 1u << 20)
        shnum = 1u << 20;
    /* field offsets in a section header: name, type, flags, addr, offset, size, link, info, entsize */
    static const unsigned sh64[][2] = {{0, 4}, {4, 4}, {8, 8}, {16, 8}, {24, 8}, {32, 8}, {40, 4}, {44, 4}, {56, 8}};
    static const unsigned sh32[][2] = {{0, 4}, {4, 4}, {8, 4}, {12, 4}, {16, 4}, {20, 4}, {24, 4}, {28, 4}, {36, 4}};
    /* in a symbol: name, info, shndx, value, size */
    static const unsigned st64[][2] = {{0, 4}, {4, 1}, {6, 2}, {8, 8}, {16, 8}};
    static const unsigned st32[][2] = {{0, 4}, {12, 1}, {14, 2}, {4, 4}, {8, 4}};
    switch (rnd() % 3) {
    case 0: { /* header: type, machine, shoff, shentsize, shnum, shstrndx */
        static const unsigned h64[][2] = {{16, 2}, {18, 2}, {0x28, 8}, {0x3A, 2}, {0x3C, 2}, {0x3E, 2}};
        static const unsigned h32[][2] = {{16, 2}, {18, 2}, {0x20, 4}, {0x2E, 2}, {0x30, 2}, {0x32, 2}};
        const unsigned *f = v.wide ? h64[rnd() % 6] : h32[rnd() % 6];
        vput(&v, f[0], f[1], edge_value(vget(&v, f[0], f[1]), size, f[1]));
        break;
    }
    case 1: {
        if (shnum == 0)
            return;
        uint64_t at = shoff + (rnd() % shnum) * shsz;
        const unsigned *f = v.wide ? sh64[rnd() % 9] : sh32[rnd() % 9];
        vput(&v, at + f[0], f[1], edge_value(vget(&v, at + f[0], f[1]), size, f[1]));
        break;
    }
    default: { /* a symbol of some SHT_SYMTAB / SHT_DYNSYM section */
        for (int tries = 0; tries < 8 && shnum; tries++) {
            uint64_t at = shoff + (rnd() % shnum) * shsz;
            uint64_t type = vget(&v, at + 4, 4);
            if (type != 2 && type != 11)
                continue;
            uint64_t off = vget(&v, at + (v.wide ? 24 : 16), v.wide ? 8 : 4);
            uint64_t len = vget(&v, at + (v.wide ? 32 : 20), v.wide ? 8 : 4);
            if (len < symsz)
                return;
            uint64_t sym = off + (rnd() % (len / symsz)) * symsz;
            const unsigned *f = v.wide ? st64[rnd() % 5] : st32[rnd() % 5];
            vput(&v, sym + f[0], f[1], edge_value(vget(&v, sym + f[0], f[1]), size, f[1]));
            return;
        }
    }
    }
}

/* Mutations that keep most of the structure: ELF fields set to edge
 * values, bit flips, small integer changes, truncation, duplicated or
 * removed spans. */
static size_t mutate(uint8_t *buf, size_t size, size_t cap)
{
    int rounds = 1 + (int)(rnd() % 4);
    for (int r = 0; r < rounds && size; r++) {
        size_t pos = (size_t)(rnd() % size);
        switch (rnd() % 9) {
        case 0:
        case 1:
        case 2:
            mutate_elf(buf, size);
            break;
        case 3:
            buf[pos] ^= (uint8_t)(1u << (rnd() % 8));
            break;
        case 4:
            buf[pos] = (uint8_t)(buf[pos] + (rnd() % 5) - 2);
            break;
        case 5:
            size = pos + 1;
            break;
        case 6:
            size = fuzz_remove_span(buf, size, pos);
            break;
        case 7:
            size = fuzz_repeat_span(buf, size, cap, pos);
            break;
        default: {
            static const uint8_t special[] = {0, 0x80, 0xFF, 0x7F, 1, ' ', 0xF1, 0xF2};
            buf[pos] = special[rnd() % sizeof special];
            break;
        }
        }
    }
    return size;
}

static uint64_t fe_symbol_count(void)
{
    return fe_symbols;
}

static void fe_report(uint64_t runs)
{
    printf("fuzz_elf: runs=%llu read=%llu symbols=%llu\n", (unsigned long long)runs, (unsigned long long)fe_read,
           (unsigned long long)fe_symbols);
}

int main(int argc, char **argv)
{
    static const struct fuzz_target target = {"fuzz_elf", fe_one, mutate, fe_symbol_count, "have symbols",
                                              fe_report};
    return fuzz_main(argc, argv, &target);
}
#endif /* libFuzzer */

#endif /* KSYM_FUZZ_ELF */
