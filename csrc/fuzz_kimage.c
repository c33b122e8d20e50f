/* fuzz_kimage.c - a fuzz target for the kernel image locator and decoder
 * (csrc/kimage.c, issue #5).
 *
 * The promise under test: no input bytes, and no layout a caller passes,
 * make ksym_kimage_locate / ksym_kimage_symbols / ksym_kimage_add read
 * outside the image.  Each input is copied into a buffer of exactly its
 * size (so AddressSanitizer sees a read past it) and searched without
 * hints, then with hints taken from the first byte (word size, byte order,
 * prefix width); a layout that is found is decoded into buffers of exactly
 * the advertised sizes, checked for consistency (n symbols, sorted
 * addresses for every encoding but place-relative with wrap), fed to a
 * builder, and decoded again after a few of its fields were changed (a
 * lying layout may fail, never read out of bounds).
 *
 * Build modes:
 *   -DKSYM_FUZZ_KIMAGE             the target plus a small mutation driver with main():
 *       fuzz_kimage [-seconds=N] [-runs=N] [-seed=N] SEED...
 *         runs each SEED (a file or a directory of files) once, then mutates
 *         seeds until N seconds or N runs are used (default 10 s); prints
 *         "fuzz_kimage: runs=R found=F" (F = inputs whose tables were found).
 *         A crashing input is saved to /tmp/fuzz-kimage-crash-<hash>.bin.
 *   -DKSYM_FUZZ_KIMAGE_LIBFUZZER   LLVMFuzzerTestOneInput alone (clang -fsanitize=fuzzer).
 *   neither: an empty translation unit (the Python extension compiles every
 *   C file of csrc/ that is not a test_ program, this one included).
 *
 * SPDX-License-Identifier: MIT
 */
#if defined(KSYM_FUZZ_KIMAGE) || defined(KSYM_FUZZ_KIMAGE_LIBFUZZER)

#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE /* clock_gettime, dirent */
#endif
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ksym.h"

#define FK_CHECK(cond)                                                             \
    do {                                                                           \
        if (!(cond)) {                                                             \
            fprintf(stderr, "fuzz_kimage.c:%d: check failed: %s\n", __LINE__, #cond); \
            abort();                                                               \
        }                                                                          \
    } while (0)

static uint64_t fk_found;

static void fk_decode(const uint8_t *d, size_t n, const struct ksym_kimage_layout *l, int exact)
{
    uint32_t count = l->num_syms;
    if (count == 0 || count > 1000000 || l->text_bytes > 64u << 20)
        return;
    uint64_t *addresses = malloc(sizeof *addresses * count);
    char *types = malloc(count);
    size_t buflen = (size_t)l->text_bytes;
    char *buf = malloc(buflen ? buflen : 1);
    FK_CHECK(addresses && types && buf);
    size_t written = 0;
    int64_t r = ksym_kimage_symbols(d, n, l, 0, addresses, types, buf, buflen, &written);
    if (exact) {
        FK_CHECK(r == (int64_t)count);
        FK_CHECK(written == buflen);
        size_t lines = 0;
        for (size_t i = 0; i < written; i++)
            lines += buf[i] == '\n';
        FK_CHECK(lines == count);
        if (l->addr_kind != KSYM_ADDR_PLACE)
            for (uint32_t i = 1; i < count; i++)
                FK_CHECK(addresses[i - 1] <= addresses[i]);
        struct ksym_builder *b = ksym_builder_new();
        FK_CHECK(b);
        FK_CHECK(ksym_kimage_add(d, n, l, 0, b) == 0);
        FK_CHECK(ksym_builder_count(b) == count);
        ksym_builder_free(b);
    } else {
        FK_CHECK(r < 0 || written <= buflen);
    }
    free(addresses);
    free(types);
    free(buf);
}

static int fk_one(const uint8_t *data, size_t size)
{
    uint8_t *d = malloc(size ? size : 1);
    FK_CHECK(d);
    if (size)
        memcpy(d, data, size);
    char msg[256];
    for (int pass = 0; pass < 2; pass++) {
        struct ksym_kimage_hints h;
        ksym_kimage_hints_init(&h);
        if (pass == 1) {
            if (size == 0)
                break;
            uint8_t c = d[0];
            h.word = (c & 1) ? 4 : 8;
            h.endian = (c & 2) ? 2 : 1;
            h.prefix_bytes = (c & 4) ? 1 : 2;
            if (c & 8) {
                h.has_vaddr = 1;
                h.vaddr = 0xFFFFFFFF80000000ull + (c >> 4);
            }
        }
        struct ksym_kimage_layout l;
        memset(&l, 0, sizeof l);
        int rc = ksym_kimage_locate(d, size, &h, &l, msg, sizeof msg);
        FK_CHECK(rc == 0 || rc == KSYM_ECORRUPT);
        FK_CHECK(memchr(msg, 0, sizeof msg) != NULL);
        if (rc != 0) {
            FK_CHECK(msg[0] != 0);
            continue;
        }
        fk_found++;
        FK_CHECK(l.num_syms >= 1);
        for (int i = 0; i < KSYM_KA_COUNT; i++)
            FK_CHECK(l.offsets[i] == KSYM_KA_ABSENT || (l.offsets[i] <= size && l.sizes[i] <= size - l.offsets[i]));
        fk_decode(d, size, &l, 1);
        /* a layout that lies: shifted arrays, another encoding, more symbols */
        struct ksym_kimage_layout bad = l;
        bad.offsets[KSYM_KA_NAMES] += 1;
        bad.offsets[KSYM_KA_ADDRESSES] += 3;
        bad.addr_kind = bad.addr_kind % KSYM_ADDR_ABSOLUTE32 + 1;
        bad.num_syms = l.num_syms + 7;
        bad.text_bytes = l.text_bytes + 4096;
        fk_decode(d, size, &bad, 0);
        bad = l;
        bad.offsets[KSYM_KA_TOKEN_INDEX] = size > 100 ? size - 100 : 0;
        bad.prefix_bytes = 3 - l.prefix_bytes;
        fk_decode(d, size, &bad, 0);
    }
    free(d);
    return 0;
}

#ifdef KSYM_FUZZ_KIMAGE_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fk_one(data, size);
}
#else

#include "fuzz_driver.h"

/* Mutations that keep most of the structure: flips in the tables, small
 * integer changes, truncation, duplicated or removed spans. */
static size_t mutate(uint8_t *buf, size_t size, size_t cap)
{
    int rounds = 1 + (int)(rnd() % 4);
    for (int r = 0; r < rounds && size; r++) {
        size_t pos = (size_t)(rnd() % size);
        switch (rnd() % 7) {
        case 0:
            buf[pos] ^= (uint8_t)(1u << (rnd() % 8));
            break;
        case 1:
            buf[pos] = (uint8_t)rnd();
            break;
        case 2:
            buf[pos] = (uint8_t)(buf[pos] + (rnd() % 5) - 2);
            break;
        case 3:
            size = pos + 1;
            break;
        case 4:
            size = fuzz_remove_span(buf, size, pos);
            break;
        case 5:
            size = fuzz_repeat_span(buf, size, cap, pos);
            break;
        default: {
            static const uint8_t special[] = {0, 0x80, 0xFF, 0x7F, 1, '0', '9'};
            buf[pos] = special[rnd() % sizeof special];
            break;
        }
        }
    }
    return size;
}

static uint64_t fk_found_count(void)
{
    return fk_found;
}

static void fk_report(uint64_t runs)
{
    printf("fuzz_kimage: runs=%llu found=%llu\n", (unsigned long long)runs, (unsigned long long)fk_found);
}

int main(int argc, char **argv)
{
    static const struct fuzz_target target = {"fuzz_kimage", fk_one, mutate, fk_found_count,
                                               "are found as they are", fk_report};
    return fuzz_main(argc, argv, &target);
}
#endif /* libFuzzer */

#endif /* KSYM_FUZZ_KIMAGE */
