/* compress.h - private: the kernel's greedy token compression (compress.c),
 * shared with build.c.  Not installed, not part of the API.
 *
 * The input is prepared record by record while records arrive (a reader
 * thread's parser has the time: ksym_builder_add_fd), and compressed when
 * the table is finished.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PYSYMS_COMPRESS_H
#define PYSYMS_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "builder.h"
#include "ksym.h"

#define KSYM_NPAIRS 65536
enum { KSYM_PART_OWNER, KSYM_PART_DEFERRED, KSYM_PART_HELPER, KSYM_NPARTS };

/* The literal pairs of one batch of prepared symbols, grouped by pair: the
 * symbols holding dpair[k] are ent[doff[k] .. doff[k + 1]), ascending,
 * one entry per occurrence. */
struct ksym_lit_batch {
    uint32_t *ent;
    uint16_t *dpair;
    uint32_t *doff; /* ndir + 1 */
    uint32_t ndir;
};

/* What a thread logs and changes while it rewrites its share of a round:
 * the new pairs (symbol, and key = the other code, + 256 when the new code
 * is on the left; keycnt counts them per key) and, for the helper thread,
 * its count changes, which the owner merges (delta, and the pairs whose
 * delta it marked, once each, in touched). */
struct ksym_lane {
    uint32_t *log_sym;
    uint16_t *log_key;
    size_t nlog, log_cap;
    uint32_t cur; /* the symbol being rewritten */
    uint32_t keycnt[512];
    /* The lists this lane files its log into (grown by the owner only,
     * between rounds; so lists are named by offsets). */
    uint32_t *pool;
    size_t npool, pool_cap;
    int32_t *delta;
    uint8_t *mark;
    uint16_t *touched;
    size_t ntouched;
};

struct ksym_comp {
    /* Symbol strings (type + name) in record order, compressed in place
     * when finished.  A symbol is named by the offset of its codes in buf;
     * the two bytes before hold its current length (little-endian).  buf
     * keeps 32 bytes of slack past buf_len for 16-byte loads. */
    uint8_t *buf;
    size_t buf_len, buf_cap;
    uint32_t *start; /* per record: offset of its codes */
    size_t start_cap;
    uint32_t n;      /* records prepared */

    uint32_t cnt[KSYM_NPAIRS]; /* overlapping occurrences over all symbols, exact */
    uint32_t bmax[256];        /* per block of 256 pairs: the largest count */
    uint8_t dirty[256];        /* bmax may be too large: recompute */
    uint8_t seen[256];         /* bytes that occur: the literals */

    /* Every literal pair, listed batch by batch as records are prepared. */
    struct ksym_lit_batch *lit;
    size_t nlit, lit_cap;
    uint32_t *scratch; /* KSYM_NPAIRS zeros between batches */

    /* Per pair with a made code: its symbol list, filed by the round that
     * made the code in up to three parts, together ascending: the owner's
     * symbols, the owner's deferred ones (those close before the helper's
     * first), the helper's.  Part k is lane[k / 2].pool[lst_off[k][p] ..
     * + lst_len[k][p]); each lane files its own while the other works. */
    uint32_t lst_off[KSYM_NPARTS][KSYM_NPAIRS], lst_len[KSYM_NPARTS][KSYM_NPAIRS];

    /* The owner's (0) and the helper's (1) share of a round. */
    struct ksym_lane lane[2];
    /* Where the lanes' pools and logs start out (bank.h), or NULL. */
    const struct ksym_bank *bank;

    uint8_t tok_a[256], tok_b[256];
    uint8_t kind[256]; /* 0 unused, 1 literal, 2 pair */
    /* Expansions: each is a substring of a symbol string, so at most
     * KSYM_NAME_MAX + 1 bytes; stored back to back. */
    uint8_t tokbuf[256 * (KSYM_NAME_MAX + 1)];
};

/* Prepare the builder's records not prepared yet, when at least min_batch
 * are waiting (0: all of them, creating b->comp even for none).  KSYM_OK,
 * KSYM_ENOMEM, or KSYM_E2BIG when the strings would pass 4 GiB; on an
 * error b->comp is dropped, so a later call starts over. */
int ksym__comp_prepare(struct ksym_builder *b, size_t min_batch);

/* A second thread's help with the rounds: a thread that has nothing else
 * to do calls ksym__helper_serve, which takes the back half of each large
 * round from the moment it is called until ksym__helper_stop. */
struct ksym_helper;
struct ksym_helper *ksym__helper_new(void);
void ksym__helper_serve(struct ksym_helper *h);
void ksym__helper_stop(struct ksym_helper *h);
void ksym__helper_free(struct ksym_helper *h);

/* The bytes ksym__compress takes from a bank for n symbols (about: its
 * pools and logs start there and move to malloc if they outgrow it). */
size_t ksym__comp_bank_bytes(size_t n);

/* Run the compression rounds on a prepared input, with h's help when h is
 * not NULL, the lanes' pools and logs starting out in bank (which must
 * outlive c's lists; NULL: malloc); 0 or -1 (out of memory).  progress
 * moves from PROGRESS_COMP_INIT to PROGRESS_ROUNDS.  The caller stops h
 * after. */
int ksym__compress(struct ksym_comp *c, struct ksym_helper *h, struct ksym_bank *bank,
                   uint32_t *progress);

/* Free what only the rounds need (lists, logs), keeping the strings. */
void ksym__comp_drop_lists(struct ksym_comp *c);
void ksym__comp_free(struct ksym_comp *c);

/* The codes of record r and their number. */
static inline const uint8_t *ksym__comp_codes(const struct ksym_comp *c, uint32_t r, size_t *len)
{
    const uint8_t *x = c->buf + c->start[r];
    *len = x[-2] | ((size_t)x[-1] << 8);
    return x;
}

#endif
