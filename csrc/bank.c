/* bank.c - memory for finish, faulted in ahead of it (bank.h).
 *
 * Under AddressSanitizer the bank keeps the checks that separate malloc
 * blocks would have: what is not handed out is poisoned, arrays are kept
 * apart by a red zone, and each is filled with garbage when handed out, so
 * that nothing comes to rely on the zeros of fresh pages.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE /* madvise */
#endif
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/mman.h>
#if !defined(MADV_POPULATE_WRITE)
#define MADV_POPULATE_WRITE 23 /* Linux 5.14; older kernels refuse it: EINVAL */
#endif
#endif

#include "bank.h"
#include "builder.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KSYM_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define KSYM_ASAN 1
#endif

#ifdef KSYM_ASAN
#include <sanitizer/asan_interface.h>
#define REDZONE 64u
#else
#define ASAN_POISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#define ASAN_UNPOISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#define REDZONE 0u
#endif

#define PAGE 4096u
#define ALIGN 64u

int ksym__bank_reserve(struct ksym_bank *k, size_t bytes)
{
    if (bytes <= k->cap)
        return 0;
    /* Doubling: the read grows the bank a little at a time. */
    size_t cap = k->cap ? k->cap : (size_t)1 << 20;
    while (cap < bytes) {
        if (cap > SIZE_MAX / 2)
            return -1;
        cap *= 2;
    }
    ASAN_UNPOISON_MEMORY_REGION(k->mem, k->cap);
    uint8_t *m = realloc(k->mem, cap);
    if (!m) {
        ASAN_POISON_MEMORY_REGION(k->mem, k->cap);
        return -1;
    }
    k->mem = m;
    k->cap = cap;
    ASAN_POISON_MEMORY_REGION(k->mem, k->cap);
    return 0;
}

int ksym__populate(void *p, size_t bytes)
{
#ifdef MADV_POPULATE_WRITE
    uintptr_t from = (uintptr_t)p / PAGE * PAGE;
    uintptr_t to = ((uintptr_t)p + bytes + PAGE - 1) / PAGE * PAGE;
    return bytes && madvise((void *)from, to - from, MADV_POPULATE_WRITE) == 0 ? 0 : -1;
#else
    (void)p;
    (void)bytes;
    return -1;
#endif
}

size_t ksym__bank_touch(struct ksym_bank *k, size_t target, size_t max_bytes)
{
    if (target > k->cap)
        target = k->cap;
    if (k->touched >= target)
        return 0;
    size_t end = target - k->touched > max_bytes ? k->touched + max_bytes : target;
    uintptr_t base = (uintptr_t)k->mem;
    size_t o = k->touched;
    /* The kernel faults a range in about 20% cheaper than writes do. */
    if (ksym__populate(k->mem + o, end - o) == 0)
        o = ((base + end + PAGE - 1) / PAGE * PAGE) - base;
#ifdef KSYM_ASAN
    o = end; /* the bank is poisoned: no writes (the pages fault in later) */
#endif
    /* One write per page faults it in (a read would only map the zero
     * page); o steps from page start to page start. */
    volatile uint8_t *m = k->mem;
    while (o < end) {
        m[o] = 0;
        o = ((base + o) / PAGE + 1) * PAGE - base;
    }
    k->touched = o < target ? o : target;
    return target - k->touched;
}

void *ksym__bank_alloc(struct ksym_bank *k, size_t bytes)
{
    size_t o = (k->used + REDZONE + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    if (k->mem && o <= k->cap && bytes <= k->cap - o) {
        k->used = o + bytes;
        ASAN_UNPOISON_MEMORY_REGION(k->mem + o, bytes);
#ifdef KSYM_ASAN
        memset(k->mem + o, 0xA5, bytes);
#endif
        return k->mem + o;
    }
    return malloc(bytes ? bytes : 1);
}

static int bank_owns(const struct ksym_bank *k, const void *p)
{
    return k && k->mem && (const uint8_t *)p >= k->mem && (const uint8_t *)p < k->mem + k->cap;
}

void ksym__bank_release(const struct ksym_bank *k, void *p)
{
    if (!bank_owns(k, p))
        free(p);
}

int ksym__bank_grow(const struct ksym_bank *k, void **p, size_t *cap, size_t need, size_t keep,
                    size_t sz)
{
    if (need <= *cap || !bank_owns(k, *p))
        return ksym__grow(p, cap, need, sz);
    void *q = NULL;
    size_t qcap = 0;
    if (ksym__grow(&q, &qcap, need, sz))
        return -1;
    memcpy(q, *p, keep * sz);
    *p = q;
    *cap = qcap;
    return 0;
}

void ksym__bank_free(struct ksym_bank *k)
{
    ASAN_UNPOISON_MEMORY_REGION(k->mem, k->cap);
    free(k->mem);
    memset(k, 0, sizeof *k);
}
