/* builder.h - private: struct ksym_builder and the helpers parse.c shares
 * with build.c.  Not installed, not part of the API.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PYSYMS_BUILDER_H
#define PYSYMS_BUILDER_H

#include <stddef.h>
#include <stdint.h>

#include "bank.h"
#include "ksym.h"

struct ksym_comp;

struct ksym_rec {
    uint64_t addr;
    uint64_t name_off;  /* into builder names */
    uint32_t module;    /* 0 = core kernel, k = builder module k - 1 */
    uint16_t name_len;
    uint8_t type;
};

struct ksym_builder {
    struct ksym_rec *recs;
    size_t nrecs, recs_cap;

    char *names;        /* all names, back to back, no separators */
    size_t names_len, names_cap;

    /* Module names interned in input order (the table renumbers them). */
    char *mods;         /* module names back to back */
    size_t mods_len, mods_cap;
    struct ksym_mod {
        uint64_t off;   /* into mods */
        uint32_t len;
    } *modv;
    size_t nmods, nmods_cap;
    uint32_t *mod_hash; /* id + 1 per slot, 0 = empty; power-of-two size */
    size_t mod_hash_slots;
    uint32_t last_mod;  /* cache: module value of the last record */
    uint64_t *region_end; /* by module value (0 = core): end of its memory, 0 = unknown */
    size_t region_end_cap;
    /* Sizes by record (parallel to recs), NULL until a record has a
     * nonzero size: kallsyms-like sources never pay for them. */
    uint64_t *sizes;
    size_t sizes_cap;
    int allow_spaces;   /* names may hold ' ' (ksym_builder_allow_spaces) */
    /* How far ksym_builder_finish has got, in thousandths: written with
     * atomic stores, since other threads poll it (ksym_builder_progress). */
    uint32_t progress;
    /* The compression's input, prepared as records arrive (compress.h);
     * NULL until the first preparation. */
    struct ksym_comp *comp;
    /* Memory for finish, faulted in while the text is read (bank.h). */
    struct ksym_bank bank;

    char msg[256];
    uint64_t err_line;
    int64_t err_record;
};

/* Where finish's phases end, in thousandths of the whole (their shares of
 * the time on a kernel's symbols): compression rounds fill the span from
 * PROGRESS_COMP_INIT to PROGRESS_ROUNDS one round at a time. */
enum {
    PROGRESS_SETUP = 50,
    PROGRESS_COMP_INIT = 250,
    PROGRESS_ROUNDS = 900,
    PROGRESS_NAMES = 950,
};

static inline void set_progress(uint32_t *progress, unsigned permille)
{
    __atomic_store_n(progress, permille, __ATOMIC_RELAXED);
}

/* State to roll back to (ksym_builder_add_text on error). */
struct ksym_mark {
    size_t nrecs, names_len, nmods, mods_len;
};

void ksym__mark(const struct ksym_builder *b, struct ksym_mark *m);
void ksym__rollback(struct ksym_builder *b, const struct ksym_mark *m);

/* Text parsed in pieces of whole lines (parse.c; readfd.c feeds it): the
 * last line number reached, the records added, whether all addresses so
 * far were zero.  Start at {0, 0, 1}. */
struct ksym_text_state {
    uint64_t line;
    size_t added;
    int all_zero;
};
int ksym__parse_lines(struct ksym_builder *b, const char *text, size_t len, struct ksym_text_state *st);
int ksym__text_checks(struct ksym_builder *b, const struct ksym_mark *mark,
                      const struct ksym_text_state *st);

/* The bytes ksym_builder_finish takes from the bank for n records. */
size_t ksym__finish_bank_bytes(size_t n);

/* Grow *p (elements of size sz) to hold at least need elements; 0 or -1. */
int ksym__grow(void **p, size_t *cap, size_t need, size_t sz);

/* Make room for more records and name bytes (a hint: failures are ignored
 * here and reported by the add that runs out). */
void ksym__reserve(struct ksym_builder *b, size_t more_recs, size_t more_name_bytes);

/* What a finished build leaves to free (release.c): malloc blocks, the
 * compression's input (its lists dropped, its bank pointer cleared) and
 * the bank. */
#define KSYM_LEFTOVER_BLOCKS 4
struct ksym_leftovers {
    void *block[KSYM_LEFTOVER_BLOCKS];
    struct ksym_comp *comp;
    struct ksym_bank bank;
};

/* Free everything in *l, which is emptied: on a detached thread when it
 * holds some megabytes (bytes, about) and a thread can be started, here
 * otherwise.  Nothing in *l may be used after. */
void ksym__release(struct ksym_leftovers *l, size_t bytes);

/* Set the message (printf-style), line and record of an error; returns err. */
int ksym__error(struct ksym_builder *b, int err, uint64_t line, int64_t record,
                const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/* Add with validation; on error sets the message with line 0 and the record
 * number, like ksym_builder_add. */
int ksym__add(struct ksym_builder *b, uint64_t address, uint64_t size, unsigned char type,
              const char *name, size_t name_len, const char *module, size_t module_len);

/* The same without the validation: for callers that checked the record. */
int ksym__add_valid(struct ksym_builder *b, uint64_t address, uint64_t size, unsigned char type,
                    const char *name, size_t name_len, const char *module, size_t module_len);

#endif
