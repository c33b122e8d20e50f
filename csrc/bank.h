/* bank.h - private: memory for ksym_builder_finish, faulted in ahead of it.
 * Not installed, not part of the API.
 *
 * Finishing a table of 120k symbols writes about 30 MB of fresh arrays, and
 * the first write to each 4 KiB page costs a page fault: about 4 us on the
 * machines this targets, 7k faults, 25-30 ms of finish's CPU time.  While
 * the kernel produces /proc/kallsyms, the parsing thread waits for it
 * (readfd.c); it grows the builder's bank in step with the records read and
 * faults its pages in then.  Finish takes its arrays from the bank, and
 * from malloc when the bank has no room left, so a bank that nobody faulted
 * in (records added another way) only costs what malloc would have.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PYSYMS_BANK_H
#define PYSYMS_BANK_H

#include <stddef.h>
#include <stdint.h>

struct ksym_bank {
    uint8_t *mem;   /* one malloc block: realloc keeps its faulted pages */
    size_t cap;     /* bytes in mem */
    size_t touched; /* bytes [0, touched) are faulted in */
    size_t used;    /* bytes [0, used) are handed out */
};

/* Grow the bank to at least bytes, before anything is taken from it; 0, or
 * -1 (out of memory; the bank is unchanged). */
int ksym__bank_reserve(struct ksym_bank *k, size_t bytes);

/* Fault in the bank's pages up to target bytes (clamped to its size), at
 * most max_bytes more of them, before anything is taken from it (it writes
 * to them); returns how many bytes below target are still to do. */
size_t ksym__bank_touch(struct ksym_bank *k, size_t target, size_t max_bytes);

/* Fault in the pages of [p, p + bytes) without writing to them, so that
 * another thread may write there meanwhile; 0, or -1 where the system has
 * no way to (nothing is done then). */
int ksym__populate(void *p, size_t bytes);

/* bytes from the bank (64-byte aligned, contents undefined), or from
 * malloc when it has no room; NULL when out of memory. */
void *ksym__bank_alloc(struct ksym_bank *k, size_t bytes);

/* Free p (from ksym__bank_alloc, or any malloc block, or NULL): the bank's
 * own memory is only freed with the bank. */
void ksym__bank_release(const struct ksym_bank *k, void *p);

/* Grow the array *p of *cap elements of size sz to hold need, keeping its
 * first keep elements, whether it lies in the bank (which cannot grow it in
 * place: it moves to malloc) or not; 0, or -1 (out of memory; *p
 * unchanged). */
int ksym__bank_grow(const struct ksym_bank *k, void **p, size_t *cap, size_t need, size_t keep,
                    size_t sz);

/* Free the bank's memory: everything taken from it goes with it. */
void ksym__bank_free(struct ksym_bank *k);

#endif
