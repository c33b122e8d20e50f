/* ksym.h - pysyms C core: the Linux kernel's compressed symbol table (kallsyms).
 *
 * The one public header. A table is built from records (address, nm type
 * letter, name, optional module) and holds exactly the arrays the kernel's
 * scripts/kallsyms.c emits, plus a small name index for fast lookups.
 *
 * Conventions: no global state; functions that can fail return a negative
 * KSYM_E* code (ksym_strerror() names it) and leave details in the builder's
 * message; lookups never allocate or lock, so any number of threads may read
 * one table at once.  Index i always means the i-th symbol in kernel order
 * (address order, see DESIGN.md "Order").  Names are bytes without NUL.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef PYSYMS_KSYM_H
#define PYSYMS_KSYM_H

#include <stddef.h>
#include <stdint.h>

/* Format constants: the only place they are written down.  The pure-Python
 * reference reads them through the compiled module. */
#define KSYM_NAME_MAX 511        /* longest name in bytes (kernel KSYM_NAME_LEN - 1) */
#define KSYM_MODULE_NAME_MAX 255 /* longest module name in bytes */
#define KSYM_MARKER_STRIDE 256   /* one kallsyms_markers entry per this many symbols */
#define KSYM_TOKENS 256          /* token codes in token_table / token_index */
#define KSYM_SEQ_BYTES 3         /* bytes per kallsyms_seqs_of_names entry, big-endian */
#define KSYM_MAX_SYMBOLS 16777215 /* 2^24 - 1: what 3-byte seqs can address */
#define KSYM_MAX_MODULES 65535   /* distinct module names a table can hold (u16 ids, 0 = core) */
#define KSYM_LEN_1BYTE_MAX 127   /* compressed lengths above this take a 2-byte prefix */
#define KSYM_FINE_STRIDE 16      /* the name index keeps the offset of every 16th record */
#define KSYM_NAME_SAMPLE 16      /* name_sample keeps the prefix of every 16th name in name order */
#define KSYM_SAMPLE_BYTES 16     /* ... its first 16 bytes, as two big-endian u64s */

/* Error codes (negative return values). */
#define KSYM_OK 0
#define KSYM_ENOMEM (-1)     /* out of memory */
#define KSYM_EINVAL (-2)     /* bad argument from the caller */
#define KSYM_EBADNAME (-3)   /* name empty, longer than KSYM_NAME_MAX, or has whitespace/NUL */
#define KSYM_EBADTYPE (-4)   /* type letter not a printable, non-space ASCII character */
#define KSYM_EBADMODULE (-5) /* module name empty, too long, or has whitespace/NUL/brackets */
#define KSYM_EPARSE (-6)     /* malformed text: a symbol line, or an address token */
#define KSYM_EEMPTY (-7)     /* a text source holds no symbols */
#define KSYM_EZEROADDR (-8)  /* every address in a text source is zero (kptr_restrict) */
#define KSYM_ERANGE (-9)     /* index out of range, or a value that does not fit */
#define KSYM_ETOOMANY (-10)  /* more than KSYM_MAX_SYMBOLS symbols or KSYM_MAX_MODULES modules */
#define KSYM_ENOSPC (-11)    /* caller's buffer too small */
#define KSYM_E2BIG (-12)     /* too long: a token table past its 16-bit offsets, an address token */

const char *ksym_strerror(int err);

/* ---- Builder ------------------------------------------------------------ */

struct ksym_builder;
struct ksym_table;

struct ksym_builder *ksym_builder_new(void);
void ksym_builder_free(struct ksym_builder *b);

/* Add one record.  module == NULL (or module_len == 0) means the core kernel.
 * On error nothing is added; the message names the record (its 0-based
 * number among the records added so far). */
int ksym_builder_add(struct ksym_builder *b, uint64_t address, char type,
                     const char *name, size_t name_len,
                     const char *module, size_t module_len);

/* The same with the symbol's size in bytes (ELF st_size, a perf map's
 * SIZE, nm -S), 0 = unknown.  A sized symbol covers exactly
 * [address, address + size) (DESIGN.md "Address lookup"); a table has a
 * size array only when some record has a nonzero size. */
int ksym_builder_add_sized(struct ksym_builder *b, uint64_t address, uint64_t size, char type,
                           const char *name, size_t name_len,
                           const char *module, size_t module_len);

/* Let names hold the space character (0x20) from now on: JIT names in perf
 * maps do ("JS:~foo app.js:12").  Other whitespace and NUL stay errors.  Text
 * sources (ksym_builder_add_text) never produce such names. */
void ksym_builder_allow_spaces(struct ksym_builder *b, int allow);

/* Parse a whole text source (/proc/kallsyms, System.map, nm or nm -S output)
 * and add its records.  Lines without an address (nm's undefined symbols)
 * and blank lines are skipped.  On error nothing from this text is kept and
 * ksym_builder_error_line() gives the 1-based line.  A text with no symbols
 * gives KSYM_EEMPTY; one whose addresses are all zero KSYM_EZEROADDR. */
int ksym_builder_add_text(struct ksym_builder *b, const char *text, size_t len);

/* The end (exclusive) of the memory of the core kernel (module NULL) or of
 * a module that has symbols in the builder: the last symbol of each run of
 * that region's symbols then covers the addresses up to it (DESIGN.md
 * "Address lookup"); without it, only its own address.  KSYM_EINVAL for
 * end 0 or a module without symbols. */
int ksym_builder_set_region_end(struct ksym_builder *b, const char *module, size_t module_len,
                                uint64_t end);

/* Number of records added so far. */
size_t ksym_builder_count(const struct ksym_builder *b);

/* ksym_builder_add_text for all the bytes of fd, read to its end (fd is
 * not closed): a second thread reads while this one parses the lines
 * already read, which hides the parse behind a slow source such as
 * /proc/kallsyms.  Same lines, checks and errors as ksym_builder_add_text;
 * a failed read gives KSYM_EIO ("cannot read: ...") and adds nothing. */
int ksym_builder_add_fd(struct ksym_builder *b, int fd);

/* Sort, compress and index the records into a new table.  The builder is
 * left empty and may be reused or freed. */
int ksym_builder_finish(struct ksym_builder *b, struct ksym_table **out);

/* How far the running (or last) ksym_builder_finish has got, 0 to
 * KSYM_PROGRESS_DONE, by its phases and its compression rounds.  Safe to
 * call from another thread while finish runs: a progress bar polls it. */
#define KSYM_PROGRESS_DONE 1000
unsigned ksym_builder_progress(const struct ksym_builder *b);

/* Add n records given as columns, for callers that pay per call (Python):
 * addresses[n]; types[n], one byte each; names: the n names joined by NUL
 * bytes (names_len bytes, no NUL at the end); modules: NULL (all in the
 * core kernel) or the n module names joined the same way, an empty one
 * meaning the core kernel.  Stops at the first bad record, as
 * ksym_builder_add would have: the records before it stay added, *done
 * says how many. */
int ksym_builder_add_many(struct ksym_builder *b, size_t n, const uint64_t *addresses,
                          const char *types, const char *names, size_t names_len,
                          const char *modules, size_t modules_len, size_t *done);

/* Details of the last error: a message without location, the 1-based text
 * line (0 if none) and the 0-based record number (-1 if none). */
const char *ksym_builder_message(const struct ksym_builder *b);
uint64_t ksym_builder_error_line(const struct ksym_builder *b);
int64_t ksym_builder_error_record(const struct ksym_builder *b);

/* ---- Table: symbols ----------------------------------------------------- */

void ksym_table_free(struct ksym_table *t);

uint32_t ksym_count(const struct ksym_table *t);
uint64_t ksym_address(const struct ksym_table *t, uint32_t i);
/* Size of symbol i as its source gave it (ksym_builder_add_sized), 0 when
 * unknown; ksym_has_sizes says whether the table holds sizes at all. */
uint64_t ksym_size(const struct ksym_table *t, uint32_t i);
int ksym_has_sizes(const struct ksym_table *t);
char ksym_type(const struct ksym_table *t, uint32_t i);
/* Module id of symbol i, or -1 for the core kernel. */
int32_t ksym_module(const struct ksym_table *t, uint32_t i);
uint32_t ksym_module_count(const struct ksym_table *t);
/* NUL-terminated module name for an id in [0, ksym_module_count). */
const char *ksym_module_name(const struct ksym_table *t, uint32_t id);

/* Expand the name of symbol i into buf (NUL-terminated).  Returns the name
 * length, KSYM_ERANGE, or KSYM_ENOSPC when buflen <= the length. */
int ksym_name(const struct ksym_table *t, uint32_t i, char *buf, size_t buflen);

/* Everything about symbol i in one call; returns the name length or < 0. */
int ksym_symbol(const struct ksym_table *t, uint32_t i, uint64_t *address,
                char *type, int32_t *module, char *name, size_t namelen);

/* Symbols [start, start + count) in order: addresses, types and module ids
 * into the arrays (any may be NULL), names into buf each followed by '\n'.
 * Returns the number of symbols written, which is fewer than count when buf
 * fills up (at least one symbol always fits in KSYM_NAME_MAX + 1 bytes), or
 * < 0.  *written receives the bytes used in buf. */
int64_t ksym_dump_range(const struct ksym_table *t, uint32_t start, uint32_t count,
                        uint64_t *addresses, char *types, int32_t *modules,
                        char *buf, size_t buflen, size_t *written);

/* ---- Table: lookups ----------------------------------------------------- */

/* Exact name lookup (kernel >= 6.11): index of the lowest-address symbol
 * named exactly name, or -1.  Its address goes to *address unless NULL (one
 * call instead of two on the hot path from Python). */
int64_t ksym_lookup_name(const struct ksym_table *t, const char *name, size_t len,
                         uint64_t *address);

/* All symbols named exactly name: positions [*first, *first + return) in
 * name order; ksym_seq() turns them into indexes, which come out in address
 * order.  Returns the number of matches (0 if none). */
int64_t ksym_name_run(const struct ksym_table *t, const char *name, size_t len,
                      uint32_t *first);

/* Address-order index of the symbol at name-order position pos. */
uint32_t ksym_seq(const struct ksym_table *t, uint32_t pos);

/* All fields are 64-bit so that a caller may read the whole answer as one
 * array of KSYM_ADDR_INFO_WORDS u64 (the Python wrapper does). */
struct ksym_addr_info {
    uint64_t address;  /* the symbol's address */
    uint64_t offset;   /* query - address */
    uint64_t size;     /* next strictly higher address - address; 0 if unknown */
    uint64_t index;    /* first alias at the symbol's address */
    int64_t module;    /* its module id, -1 for the core kernel */
    uint64_t name_len; /* bytes written to the name buffer, when one is given */
};
#define KSYM_ADDR_INFO_WORDS 6

/* Address lookup (DESIGN.md "Address lookup").  Returns 1 and fills *info
 * when a symbol covers addr, else 0.  When name is not NULL the symbol's
 * name is expanded into it (NUL-terminated; namelen must exceed
 * KSYM_NAME_MAX, else KSYM_ENOSPC). */
int ksym_lookup_addr(const struct ksym_table *t, uint64_t addr, struct ksym_addr_info *info,
                     char *name, size_t namelen);

/* ---- Table: the kernel's arrays, byte for byte -------------------------- */

/* Each returns a pointer into the table and stores the length in bytes. */
const uint8_t *ksym_names_bytes(const struct ksym_table *t, size_t *len);
const uint8_t *ksym_markers_bytes(const struct ksym_table *t, size_t *len);
const uint8_t *ksym_token_table_bytes(const struct ksym_table *t, size_t *len);
const uint8_t *ksym_token_index_bytes(const struct ksym_table *t, size_t *len);
const uint8_t *ksym_seqs_bytes(const struct ksym_table *t, size_t *len);

/* Bytes held by the table in memory, all arrays and indexes included. */
size_t ksym_memory_size(const struct ksym_table *t);

/* Figures of the names array, for size reports: *prefix_bytes, the bytes of
 * its records' length prefixes, and *name_bytes, the bytes the names expand
 * to (each without the type letter its expansion starts with).  0, or
 * KSYM_EINVAL for a NULL argument. */
int ksym_names_figures(const struct ksym_table *t, uint64_t *prefix_bytes, uint64_t *name_bytes);

/* ==== Suffix-aware matching and globs (csrc/match.c, issue #3) ============ */

/* Suffix policies (DESIGN.md "Without suffix", "Clone suffixes"). */
#define KSYM_SUFFIX_NONE 0  /* exact names only */
#define KSYM_SUFFIX_LLVM 1  /* else names whose cut at the first ".llvm." is the query */
#define KSYM_SUFFIX_CLONE 2 /* else also names whose cut at the first '.' is the query */
/* How a symbol matched. */
#define KSYM_MATCH_EXACT 0
#define KSYM_MATCH_LLVM 1  /* its name cut at the first ".llvm." equals the query */
#define KSYM_MATCH_CLONE 2 /* its name cut at the first '.' equals the query (and not llvm) */
/* Module filter value meaning "any module, the core kernel included". */
#define KSYM_MODULE_ANY (-2)

/* Name-order positions [*first, *first + return) of every name that begins
 * with prefix (two binary searches over seqs_of_names); < 0 on bad input. */
int64_t ksym_prefix_range(const struct ksym_table *t, const char *prefix, size_t len,
                          uint32_t *first);

/* Length of the name cut at its first ".llvm." / at its first '.'. */
size_t ksym_strip_llvm(const char *name, size_t len);
size_t ksym_strip_clone(const char *name, size_t len);

/* Every symbol matching name under policy (KSYM_SUFFIX_*), restricted to one
 * module first (module id, -1 = core kernel, KSYM_MODULE_ANY = no filter):
 * exact matches when there are any, else the stripped ones (LLVM: names
 * cut at the first ".llvm." equal to name; CLONE: those, plus the names cut
 * at the first '.' equal to name).  Indexes and KSYM_MATCH_* kinds go to
 * the caller's arrays in address (index) order.  Returns the number of
 * matches; when it exceeds cap only cap of them were written, in no
 * particular choice, so call again with a larger buffer.  An empty or
 * over-long name matches nothing.  < 0 on bad arguments. */
int64_t ksym_match(const struct ksym_table *t, const char *name, size_t len, int policy,
                   int32_t module, uint32_t *indexes, uint8_t *kinds, size_t cap);

/* The lowest-address match of ksym_match (any module): its index, or -1;
 * the address goes to *address unless NULL.  With KSYM_SUFFIX_LLVM this is
 * lookup_name_without_suffix. */
int64_t ksym_lookup_name_suffix(const struct ksym_table *t, const char *name, size_t len,
                                int policy, uint64_t *address);

/* The address of what ksym_lookup_name_suffix finds, as the return value,
 * or KSYM_NO_ADDRESS when it finds nothing: for callers that pay per
 * argument and per output buffer (each costs Python about 100 ns through
 * cffi).  A symbol at KSYM_NO_ADDRESS itself gives the same value;
 * ksym_lookup_name_suffix tells the two apart. */
#define KSYM_NO_ADDRESS UINT64_MAX
uint64_t ksym_lookup_address(const struct ksym_table *t, const char *name, size_t len,
                             int policy);

/* ksym_lookup_address in one argument: cffi passes a lone argument
 * straight through but packs two or more into a tuple first, and
 * lookup_name from Python is 1.2x faster this way.  query is
 * KSYM_QUERY_HEAD bytes, the table pointer's own bytes and then the
 * policy as one byte, followed by the name and a NUL (so a name holding a
 * NUL cannot be asked this way).  KSYM_NO_ADDRESS for a bad policy or a
 * NULL table. */
#define KSYM_QUERY_HEAD (sizeof(void *) + 1)
uint64_t ksym_lookup_query(const char *query);

/* ftrace-style glob: '*' any run, '?' one byte, '[...]' a class of bytes and
 * ranges a-b (a leading '!' or '^' negates it, a ']' right after the opening
 * or the negation is a member, a '-' first or last is a member, a range
 * with a > b is empty, no escapes inside), '\' makes the next byte literal
 * (a trailing one is itself literal), an unclosed '[' is a literal.  Bytes,
 * whole name.  Returns 1 on a match, else 0. */
int ksym_glob_match(const char *pattern, size_t plen, const char *name, size_t nlen);

/* Bytes before the first of * ? [ ] \ in pattern: every match begins with them. */
size_t ksym_glob_prefix(const char *pattern, size_t plen);

/* Symbols whose names match pattern, in table order, in chunks: start with
 * *next = 0; each call writes up to cap indexes to out, returns how many and
 * advances *next; done when *next == ksym_count().  When the pattern has a
 * literal prefix and the name index shows at most cap candidates, the first
 * call answers from that range (sorted into table order) and finishes.
 * < 0 on bad arguments. */
int64_t ksym_glob(const struct ksym_table *t, const char *pattern, size_t plen, uint32_t *next,
                  uint32_t *out, size_t cap);

/* Symbols indexes[0..n) (any order) like ksym_dump_range: addresses, types
 * and module ids into the arrays (any may be NULL), names into buf each
 * followed by '\n'.  Stops early while buf has less than KSYM_NAME_MAX + 2
 * bytes left; returns the number of symbols written (< n when buf filled),
 * KSYM_ERANGE for an index out of range, KSYM_ENOSPC when none fit. */
int64_t ksym_symbols_at(const struct ksym_table *t, const uint32_t *indexes, size_t n,
                        uint64_t *addresses, char *types, int32_t *modules, char *buf,
                        size_t buflen, size_t *written);

/* ==== end of suffix-aware matching ========================================= */

/* ==== Table files (csrc/file.c, issue #4; layout in docs/format.md) ======== */

/* A table file: a 64-byte header, a directory of sections, the sections.
 * All integers little-endian.  These constants are the format. */
#define KSYM_FILE_MAGIC 0x4241544D59535950ull /* "PYSYMTAB" read as a little-endian u64 */
#define KSYM_FILE_VERSION 1
#define KSYM_FILE_BYTE_ORDER 0x01020304u    /* stored as 04 03 02 01 by a little-endian writer */
#define KSYM_FILE_HEADER_SIZE 64
#define KSYM_FILE_ENTRY_SIZE 24             /* directory entry: u32 id, u32 0, u64 offset, u64 length */
#define KSYM_FILE_MAX_SECTIONS 32
#define KSYM_FILE_ALIGN 8                   /* every section starts at a multiple of this */
#define KSYM_FILE_CHECKSUM_OFFSET 56        /* u64 checksum of the file, this field read as 0 */
#define KSYM_FILE_MAX_PROVENANCE 65536      /* longest provenance section in bytes */
#define KSYM_FILE_FLAG_ADDR_WIDE 1u         /* addresses are u64, not u32 offsets from base */
#define KSYM_FILE_FLAG_HAS_END 2u           /* end_address is the end of the core kernel's memory */
/* Section ids. */
#define KSYM_SEC_NAMES 1
#define KSYM_SEC_MARKERS 2
#define KSYM_SEC_TOKEN_TABLE 3
#define KSYM_SEC_TOKEN_INDEX 4
#define KSYM_SEC_SEQS 5
#define KSYM_SEC_ADDRESSES 6
#define KSYM_SEC_MODULE_RUNS 7
#define KSYM_SEC_MODULE_IDS 8
#define KSYM_SEC_MODULE_OFFSETS 9
#define KSYM_SEC_MODULE_NAMES 10
#define KSYM_SEC_FINE 11
#define KSYM_SEC_NAME_SAMPLE 12
#define KSYM_SEC_PROVENANCE 13
#define KSYM_SEC_MODULE_ENDS 14
#define KSYM_SEC_SIZES 15
#define KSYM_SEC_MAX 15
/* Errors of the file functions. */
#define KSYM_ECORRUPT (-13) /* not a valid table file; the message says what and where */
#define KSYM_EIO (-14)      /* the operating system refused (mmap, fstat) */

/* The file's checksum function (docs/format.md "Checksum"). */
uint64_t ksym_checksum64(const uint8_t *data, size_t len);

/* Size in bytes of the file ksym_file_write() makes for t with a
 * provenance section of plen bytes. */
size_t ksym_file_size(const struct ksym_table *t, size_t plen);

/* Serialize t, with provenance (opaque bytes, JSON by convention, at most
 * KSYM_FILE_MAX_PROVENANCE), into buf.  Returns the bytes written (the
 * ksym_file_size()) or < 0 (KSYM_ENOSPC, KSYM_EINVAL). */
int64_t ksym_file_write(const struct ksym_table *t, const void *provenance, size_t plen,
                        uint8_t *buf, size_t buflen);

/* Validate a table file held in data[0..len) and make a table that reads
 * it in place (no copy: data must outlive the table).  On KSYM_ECORRUPT a
 * NUL-terminated message goes to msg (what is wrong, naming the section)
 * and the byte offset it concerns to *where (UINT64_MAX when none).  After
 * a successful load no lookup reads outside data[0..len). */
int ksym_file_load(const uint8_t *data, size_t len, struct ksym_table **out, char *msg,
                   size_t msglen, uint64_t *where);

/* Like ksym_file_load on a read-only private mapping of the open file fd
 * (the caller may close fd afterwards); the table owns the mapping and
 * ksym_table_free() unmaps it. */
int ksym_file_map(int fd, struct ksym_table **out, char *msg, size_t msglen, uint64_t *where);

/* The provenance section of a table made by ksym_file_load/map, its length
 * and its byte offset in the file; NULL (*len = 0) for a table built in
 * memory or a file without one. */
const uint8_t *ksym_file_provenance(const struct ksym_table *t, size_t *len, uint64_t *offset);

/* ==== end of table files ==================================================== */

/* ==== LZ4 block decoding (csrc/lz4.c, issue #5) ============================ */

/* The most one block of the kernel's legacy lz4 framing decompresses to
 * (lib/decompress_unlz4.c: 8 MiB); a caller sizes its buffer with it. */
#define KSYM_LZ4_LEGACY_BLOCK_MAX 8388608

/* Decode one raw LZ4 block (the lz4 "block format": sequences of a token,
 * literal length, literals, 2-byte little-endian offset, match length)
 * from src[0..srclen) into dst[0..dstcap).  Returns the bytes written, or
 * KSYM_ECORRUPT when src is not one complete, valid block (empty, truncated
 * inside a sequence, an offset of 0 or reaching before the start of the
 * output, or ending right after a match instead of with a literal run),
 * KSYM_ENOSPC when the output would exceed dstcap, KSYM_EINVAL for a NULL
 * pointer with a non-zero length.  Sequences are decoded in order and in
 * each the input is checked before the output, so the first fault found
 * decides the code.  Lenient where the format only constrains encoders (the
 * last 5 bytes being literals, the last match starting 12 bytes before the
 * end).  Never reads or writes outside the two buffers, on any input; but
 * any byte of dst may be written, also past the count returned (copies go
 * in 16-byte chunks where there is room) and when an error is returned.
 * An output is never more than 255 bytes per input byte. */
int64_t ksym_lz4_block_decode(const uint8_t *src, size_t srclen, uint8_t *dst, size_t dstcap);

/* ==== end of LZ4 block decoding ============================================ */

/* ==== Kernel images: the kernel's own kallsyms tables (csrc/kimage.c, issue #5) ==== */

/* The arrays scripts/kallsyms.c emits: indexes into the offsets[] of
 * struct ksym_kimage_hints and struct ksym_kimage_layout. */
#define KSYM_KA_NUM_SYMS 0
#define KSYM_KA_NAMES 1
#define KSYM_KA_MARKERS 2
#define KSYM_KA_TOKEN_TABLE 3
#define KSYM_KA_TOKEN_INDEX 4
#define KSYM_KA_ADDRESSES 5     /* kallsyms_addresses or kallsyms_offsets */
#define KSYM_KA_RELATIVE_BASE 6
#define KSYM_KA_SEQS 7          /* kallsyms_seqs_of_names */
#define KSYM_KA_COUNT 8
#define KSYM_KA_ABSENT UINT64_MAX /* offset of an array unknown (hints) or absent (layout) */
/* Order of the labels (KSYM_KA_*), by kernel release. */
#define KSYM_ORDER_OLD 1 /* <= 6.3: addresses [base] num_syms names markers [seqs] tokens index */
#define KSYM_ORDER_6_4 2 /* 6.4 .. 6.19: num_syms names markers tokens index addresses [base] seqs */
#define KSYM_ORDER_7_0 3 /* 7.0+: num_syms names markers tokens index offsets seqs, .balign 4 */
/* Address encodings. */
#define KSYM_ADDR_ABSOLUTE 1   /* kallsyms_addresses[]: pointer-sized values */
#define KSYM_ADDR_RELATIVE 2   /* u32 kallsyms_offsets[] + kallsyms_relative_base (4.6 .. 6.19) */
#define KSYM_ADDR_PERCPU 3     /* s32 offsets, >= 0 absolute, < 0 base - 1 - value (x86_64 4.6 .. 6.14) */
#define KSYM_ADDR_PLACE 4      /* s32 offsets from each entry's own address (7.0+) */
#define KSYM_ADDR_ABSOLUTE32 5 /* u32 addresses (7.0+, 32-bit kernels that are not relocatable) */
/* Order found in kallsyms_seqs_of_names. */
#define KSYM_SEQS_ABSENT 0
#define KSYM_SEQS_FULL 1     /* full names, then address, then index (all kernels without Clang LTO, >= 6.11) */
#define KSYM_SEQS_LTO_DOT 2  /* names cut at the first '.' (Clang LTO, 6.2 .. 6.4) */
#define KSYM_SEQS_LTO_LLVM 3 /* names cut at the first ".llvm." (Clang LTO, 6.5 .. 6.10, 6.1.y) */
#define KSYM_SEQS_UNSORTED 4 /* a permutation, in none of these orders */
/* Limits of the structural search. */
#define KSYM_KIMAGE_TOKEN_MAX 512 /* longest token text: a token is part of one symbol's text */

/* What the caller knows (from an ELF symbol table, the ELF header, the
 * architecture).  ksym_kimage_hints_init() sets everything to "unknown". */
struct ksym_kimage_hints {
    uint64_t offsets[8];   /* byte offset of each KSYM_KA_* array in the image, or KSYM_KA_ABSENT */
    uint64_t vaddr;        /* virtual address of image byte 0 (alignment, place-relative) */
    uint32_t has_vaddr;
    uint32_t word;         /* 4 or 8 bytes per pointer; 0 = try 8, then 4 */
    uint32_t endian;       /* 1 little, 2 big; 0 = try little, then big */
    uint32_t align;        /* label alignment 4 or 8; 0 = by era and word size */
    uint32_t prefix_bytes; /* 1: one-byte name lengths only (< 6.1); 2: one or two (6.1+); 0 = 2, then 1 */
    uint32_t order;        /* KSYM_ORDER_*, 0 = any */
    uint32_t addr_kind;    /* KSYM_ADDR_*, 0 = any */
    uint32_t reserved;
};

/* Where the tables are and how they are encoded. */
struct ksym_kimage_layout {
    uint64_t offsets[8];    /* byte offset of each KSYM_KA_* array, KSYM_KA_ABSENT when the layout has none */
    uint64_t sizes[8];      /* its length in bytes (0 when absent) */
    uint64_t relative_base; /* value of kallsyms_relative_base as stored (0 when absent) */
    uint64_t vaddr;         /* virtual address of image byte 0 when has_vaddr (place-relative addresses) */
    uint64_t text_bytes;    /* sum over symbols of 1 + name length: the names buffer ksym_kimage_symbols needs */
    uint32_t num_syms;
    uint32_t word;          /* 4 or 8 */
    uint32_t endian;        /* 1 little, 2 big */
    uint32_t align;         /* 4 or 8 */
    uint32_t order;         /* KSYM_ORDER_* */
    uint32_t addr_kind;     /* KSYM_ADDR_* */
    uint32_t count_bytes;   /* width of kallsyms_num_syms: 4, or the word size (< 4.20) */
    uint32_t marker_bytes;  /* width of each kallsyms_markers entry: 4, or the word size (< 4.20) */
    uint32_t prefix_bytes;  /* 1 or 2: how name lengths were read */
    uint32_t long_prefixes; /* records with a two-byte length */
    uint32_t seqs_order;    /* KSYM_SEQS_* */
    uint32_t has_vaddr;
};

void ksym_kimage_hints_init(struct ksym_kimage_hints *h);

/* Find the kallsyms tables in a kernel image (an ELF vmlinux or a raw image,
 * data[0..len)) by their structure, constrained by the hints (NULL: none),
 * and verify every array before accepting it: the token table and its index
 * agree entry for entry, the markers point at every 256th record of names,
 * names end where markers begin, num_syms matches, the addresses are sorted,
 * seqs_of_names is a permutation.  Returns 0 and fills *out, or
 * KSYM_ECORRUPT with a message naming the deepest check that failed (e.g.
 * "candidate token table at byte N failed: markers disagree with names"),
 * KSYM_EINVAL, KSYM_ENOMEM.  Never reads outside data[0..len). */
int ksym_kimage_locate(const uint8_t *data, size_t len, const struct ksym_kimage_hints *hints,
                       struct ksym_kimage_layout *out, char *msg, size_t msglen);

/* Decode every symbol of a located layout, in table (address) order:
 * addresses (plus slide, wrapping at the word size), type letters, and the
 * names into buf each followed by '\n' (buflen >= layout->text_bytes).
 * Returns the number of symbols, or KSYM_ENOSPC, KSYM_ECORRUPT when the
 * layout does not fit the data, KSYM_EINVAL.  Bounds-checked whatever the
 * layout says. */
int64_t ksym_kimage_symbols(const uint8_t *data, size_t len, const struct ksym_kimage_layout *layout,
                            uint64_t slide, uint64_t *addresses, char *types, char *buf, size_t buflen,
                            size_t *written);

/* The same symbols fed to a builder (ksym_builder_add, core kernel). */
int ksym_kimage_add(const uint8_t *data, size_t len, const struct ksym_kimage_layout *layout,
                    uint64_t slide, struct ksym_builder *b);

/* ==== end of kernel images ================================================== */

/* ==== Batch symbolization and formatting (csrc/batch.c, issue #6) ========= */

/* Text styles of ksym_format, after the kernel's printk formats. */
#define KSYM_STYLE_SYMBOL 0    /* %pS: name+0xoff/0xsize [module] */
#define KSYM_STYLE_NAME 1      /* %ps: name [module] */
#define KSYM_STYLE_BACKTRACE 2 /* %pB: %pS of a return address (looks up addr - 1) */
#define KSYM_FORMAT_MAX 816    /* longest line ksym_format writes, without its newline */

/* For every addrs[k], k < n: the index of the symbol ksym_lookup_addr would
 * report (first alias) into indexes[k] and addrs[k] minus its address into
 * offsets[k]; -1 and 0 where no symbol covers the address.  Sorted input
 * (non-decreasing, checked here) takes a merge walk instead of a binary
 * search per address.  Returns n, or KSYM_EINVAL. */
int64_t ksym_symbolize(const struct ksym_table *t, const uint64_t *addrs, size_t n,
                       int64_t *indexes, uint64_t *offsets);

/* The kernel's text for addrs[0..n) in style (KSYM_STYLE_*), each line
 * followed by '\n', into buf; an address no symbol covers prints as 0x<hex>
 * as the kernel does.  Stops while buf has less than KSYM_FORMAT_MAX + 1
 * bytes left; returns the number of addresses written (KSYM_ENOSPC if none
 * fit, KSYM_EINVAL), *written the bytes used. */
int64_t ksym_format(const struct ksym_table *t, const uint64_t *addrs, size_t n, int style,
                    char *buf, size_t buflen, size_t *written);

/* ==== end of batch symbolization ============================================ */

/* ==== Address text for the command line (csrc/textio.c, issue #6) ========== */

#define KSYM_ADDR_TOKEN_MAX 128 /* longest address token in bytes, "0x" and leading zeros included */

/* Parse whitespace-separated hex addresses from text[0..len) into out[0..cap).
 * Whitespace is ASCII space, \t \n \v \f \r; a token is an optional 0x/0X
 * then one or more hex digits (either case), value below 2^64, at most
 * KSYM_ADDR_TOKEN_MAX bytes.  Stops at the end of the text, when cap
 * addresses are stored, or at a bad token; unless final, a token that runs
 * to the end of the text is left for the next chunk (it may go on there).
 * Returns the number of addresses stored (KSYM_EINVAL on bad arguments);
 * *consumed is where to resume (the start of the next token, the end of the
 * text, or the start of the bad token), *newlines the '\n' bytes in
 * text[0..*consumed), *error KSYM_OK, or KSYM_EPARSE (a byte that is not a
 * hex digit, an empty "0x"), KSYM_E2BIG (token too long), KSYM_ERANGE (value
 * does not fit in 64 bits).  The answer never depends on where chunks end. */
int64_t ksym_parse_addresses(const char *text, size_t len, int final, uint64_t *out, size_t cap,
                             size_t *consumed, uint64_t *newlines, int *error);

/* Lines of text[0..len) (each ended by '\n', the last one perhaps not) in
 * which byte c does not occur.  With c = '+' over ksym_format's %pS or %pB
 * text: the addresses no symbol covers (only their lines, "0x<hex>", lack
 * the "+0x" of an offset). */
size_t ksym_count_lines_without(const char *text, size_t len, int c);

/* ==== end of address text ================================================== */

/* ==== Tables from the kernel's own arrays (csrc/arrays.c, issue #5) ======= */

/* A table over the arrays scripts/kallsyms.c emitted, as found in a kernel
 * image, without re-compressing the names: names (1- or 2-byte length
 * prefixes), token_table, token_index (256 little-endian u16),
 * seqs_of_names (3-byte big-endian, in full-name order), and the decoded
 * addresses (count sorted u64).  Markers, fine offsets, the name sample
 * and the address encoding are pysyms' own; the whole is validated as a
 * table file (ksym_file_load) and owned by the table.  Like an opened file
 * it has no name hash: names are found by binary search.  KSYM_ECORRUPT
 * with a message when the arrays do not form a table. */
int ksym_table_from_arrays(const uint8_t *names, size_t names_len, const uint8_t *token_table,
                           size_t token_table_len, const uint8_t *token_index,
                           const uint8_t *seqs, const uint64_t *addresses, uint32_t count,
                           struct ksym_table **out, char *msg, size_t msglen);

/* ==== end of tables from the kernel's arrays ================================ */

/* ==== ELF symbol tables (csrc/elf.c, issue #6) ============================== */

/* One defined symbol of an ELF symbol table, as GNU nm -S prints it (the
 * rules: pysyms/elf.py's docstring). */
struct ksym_elf_symbol {
    uint64_t address;  /* st_value, as nm shows it: plus the section's sh_addr in a file that is
                        * neither ET_EXEC nor ET_DYN, st_size for a common symbol ('C') */
    uint64_t size;     /* st_size */
    uint64_t name_off; /* byte offset in the file of the name (NUL-terminated there) */
    uint32_t name_len;
    char type;         /* nm's letter */
};
/* Which symbol table. */
#define KSYM_ELF_AUTO 0   /* .symtab when the file has one, else .dynsym */
#define KSYM_ELF_SYMTAB 1 /* the first SHT_SYMTAB section */
#define KSYM_ELF_DYNSYM 2 /* the first SHT_DYNSYM section */

/* The defined symbols of an ELF file (32/64-bit, little/big-endian, any
 * e_type) in symbol-table order: every symbol but symbol 0, undefined ones
 * and STT_SECTION / STT_FILE ones (what nm -S --defined-only prints).
 * Writes at most cap of them to out and returns how many there are (so a
 * caller can size out; 0 when the file has no such table or no section
 * headers), or KSYM_ECORRUPT with a NUL-terminated message in msg (what is
 * wrong) and *where = the byte offset of the bad field (UINT64_MAX when
 * none); KSYM_EINVAL for bad arguments.  Checked before use: the header,
 * the section header table and every section name, the symbol table, its
 * string table (ending with a NUL), the SHT_SYMTAB_SHNDX entries used,
 * every returned name.  Never reads outside data[0..len), whatever the
 * file holds. */
int64_t ksym_elf_symbols(const uint8_t *data, size_t len, int which, struct ksym_elf_symbol *out,
                         size_t cap, char *msg, size_t msglen, uint64_t *where);

/* The same symbols fed to a builder with their sizes (ksym_builder_add_sized),
 * all with the given module (NULL/0 = core).  Symbols the builder cannot
 * hold (empty names, names longer than KSYM_NAME_MAX, names holding
 * whitespace) are skipped and counted in *skipped.  Returns the number
 * added, or a negative error as ksym_elf_symbols (or the builder's error,
 * its message also in msg); on error nothing from this file is kept. */
int64_t ksym_elf_add(const uint8_t *data, size_t len, int which, struct ksym_builder *b,
                     const char *module, size_t module_len, uint64_t *skipped,
                     char *msg, size_t msglen, uint64_t *where);

/* ==== end of ELF symbol tables ============================================== */

#endif
