/* elf.c - the symbols of an ELF file's .symtab / .dynsym, as GNU nm -S
 * shows them (issue #6).
 *
 * The rules (which symbols, which type letter, which address) are those of
 * binutils 2.40's BFD and nm, checked against nm's output; they are written
 * down once, in the docstring of the pure-Python reference pysyms/elf.py,
 * which gives the same symbols and rejects the same files with the same
 * message and byte offset.  In short: every symbol but symbol 0, undefined
 * ones and STT_SECTION / STT_FILE ones; the letter of bfd_decode_symclass
 * (common, ifunc, weak, unique, then absolute or the section's letter from
 * its flags, uppercase when global); the address st_value (plus the
 * section's address in a relocatable file, the size for a common symbol).
 *
 * Every field is read through rd(), which checks the range itself; the
 * structures are checked before their fields are used (header, section
 * header table, section names, symbol table, string table, extended index
 * table, every returned name), so no input makes this read outside
 * data[0..len).
 *
 * SPDX-License-Identifier: MIT
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builder.h"
#include "ksym.h"

/* ---- ELF constants (the ELF specification; the gABI's names) ------------- */

#define EI_NIDENT 16
#define EI_CLASS 4
#define EI_DATA 5
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define ELFDATA2MSB 2
#define ET_EXEC 2
#define ET_DYN 3
#define EM_X86_64 62

#define SHT_NULL 0
#define SHT_SYMTAB 2
#define SHT_STRTAB 3
#define SHT_RELA 4
#define SHT_NOBITS 8
#define SHT_REL 9
#define SHT_DYNSYM 11
#define SHT_SYMTAB_SHNDX 18

#define SHF_WRITE 0x1u
#define SHF_ALLOC 0x2u
#define SHF_EXECINSTR 0x4u

#define SHN_UNDEF 0u
#define SHN_LORESERVE 0xFF00u
#define SHN_X86_64_LCOMMON 0xFF02u
#define SHN_ABS 0xFFF1u
#define SHN_COMMON 0xFFF2u
#define SHN_XINDEX 0xFFFFu

#define STB_LOCAL 0
#define STB_GLOBAL 1
#define STB_WEAK 2
#define STB_GNU_UNIQUE 10
#define STT_OBJECT 1
#define STT_SECTION 3
#define STT_FILE 4
#define STT_COMMON 5
#define STT_GNU_IFUNC 10

#define NOWHERE UINT64_MAX
#define NONE UINT64_MAX /* no such section */

/* ---- the file ------------------------------------------------------------- */

/* Field offsets of one ELF class. */
struct layout {
    uint32_t ehdr_size, shoff_at, shentsize_at, shdr_size, sym_size;
    uint32_t sh_offset_at, sh_size_at, sh_link_at, sh_entsize_at, st_shndx_at;
};

static const struct layout LAYOUT32 = {52, 0x20, 0x2E, 40, 16, 16, 20, 24, 36, 14};
static const struct layout LAYOUT64 = {64, 0x28, 0x3A, 64, 24, 24, 32, 40, 56, 6};

struct elf {
    const uint8_t *d;
    uint64_t n;
    int big, wide;
    const struct layout *lay;
    uint16_t type, machine;
    uint64_t shoff, shnum, shstrndx;
    char *msg;
    size_t msglen;
    uint64_t *where;
};

struct shdr {
    uint32_t name, type, link, info;
    uint64_t flags, addr, offset, size, entsize;
};

static int corrupt(struct elf *e, uint64_t where, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static int corrupt(struct elf *e, uint64_t where, const char *fmt, ...)
{
    if (e->msg && e->msglen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, e->msglen, fmt, ap);
        va_end(ap);
    }
    if (e->where)
        *e->where = where;
    return KSYM_ECORRUPT;
}

/* The size-byte integer at pos in the file's byte order; 0 outside the
 * file (callers check their structures first: this is the last guard). */
static uint64_t rd(const struct elf *e, uint64_t pos, unsigned size)
{
    if (pos > e->n || size > e->n - pos)
        return 0;
    const uint8_t *p = e->d + pos;
    uint64_t x = 0;
    for (unsigned i = 0; i < size; i++)
        x |= (uint64_t)p[i] << (8 * (e->big ? size - 1 - i : i));
    return x;
}

/* A word: 4 bytes in a 32-bit file, 8 in a 64-bit one. */
static uint64_t rdw(const struct elf *e, uint64_t pos)
{
    return rd(e, pos, e->wide ? 8 : 4);
}

/* [off, off + size) lies in the file. */
static int in_file(const struct elf *e, uint64_t off, uint64_t size)
{
    return off <= e->n && size <= e->n - off;
}

static uint64_t shdr_at(const struct elf *e, uint64_t i)
{
    return e->shoff + i * e->lay->shdr_size;
}

/* Section i's header (i < shnum: the table was checked). */
static void read_shdr(const struct elf *e, uint64_t i, struct shdr *s)
{
    uint64_t p = shdr_at(e, i);
    s->name = (uint32_t)rd(e, p, 4);
    s->type = (uint32_t)rd(e, p + 4, 4);
    if (e->wide) {
        s->flags = rd(e, p + 8, 8);
        s->addr = rd(e, p + 16, 8);
        s->offset = rd(e, p + 24, 8);
        s->size = rd(e, p + 32, 8);
        s->link = (uint32_t)rd(e, p + 40, 4);
        s->info = (uint32_t)rd(e, p + 44, 4);
        s->entsize = rd(e, p + 56, 8);
    } else {
        s->flags = rd(e, p + 8, 4);
        s->addr = rd(e, p + 12, 4);
        s->offset = rd(e, p + 16, 4);
        s->size = rd(e, p + 20, 4);
        s->link = (uint32_t)rd(e, p + 24, 4);
        s->info = (uint32_t)rd(e, p + 28, 4);
        s->entsize = rd(e, p + 36, 4);
    }
}

static int check_table(struct elf *e, uint64_t count)
{
    uint64_t size = e->lay->shdr_size;
    if (e->shoff > e->n || count > (e->n - e->shoff) / size)
        return corrupt(e, e->lay->shoff_at,
                       "section header table at byte %llu (%llu entries) runs past the end of the "
                       "file (%llu bytes)",
                       (unsigned long long)e->shoff, (unsigned long long)count,
                       (unsigned long long)e->n);
    return 0;
}

/* The section name string table is a string table in the file, and every
 * section's name is a NUL-terminated string inside it (BFD refuses a file
 * otherwise).  Names are looked up again when a letter needs one. */
static int check_section_names(struct elf *e)
{
    if (e->shstrndx == SHN_UNDEF)
        return 0;
    struct shdr t, s;
    read_shdr(e, e->shstrndx, &t);
    uint64_t at = shdr_at(e, e->shstrndx);
    if (t.type != SHT_STRTAB)
        return corrupt(e, at + 4, "section %llu named by e_shstrndx is not a string table (type %u)",
                       (unsigned long long)e->shstrndx, t.type);
    if (!in_file(e, t.offset, t.size))
        return corrupt(e, at + e->lay->sh_offset_at,
                       "section name string table (section %llu) runs past the end of the file",
                       (unsigned long long)e->shstrndx);
    for (uint64_t i = 1; i < e->shnum; i++) {
        read_shdr(e, i, &s);
        if (s.name >= t.size)
            return corrupt(e, shdr_at(e, i),
                           "name of section %llu (offset %u) is outside the section name string "
                           "table (%llu bytes)",
                           (unsigned long long)i, s.name, (unsigned long long)t.size);
        if (!memchr(e->d + t.offset + s.name, 0, t.size - s.name))
            return corrupt(e, shdr_at(e, i), "name of section %llu is not NUL-terminated",
                           (unsigned long long)i);
    }
    return 0;
}

/* The identification, the header and the section headers (with their
 * names).  A file without section headers has shnum 0. */
static int open_elf(struct elf *e)
{
    const uint8_t *d = e->d;
    uint64_t n = e->n;
    if (n < 4 || memcmp(d, "\177ELF", 4) != 0)
        return corrupt(e, 0, "not an ELF file: bad magic");
    unsigned cls = n > EI_CLASS ? d[EI_CLASS] : 0, data = n > EI_DATA ? d[EI_DATA] : 0;
    if (cls != ELFCLASS32 && cls != ELFCLASS64)
        return corrupt(e, EI_CLASS, "bad ELF class %u", cls);
    if (data != ELFDATA2LSB && data != ELFDATA2MSB)
        return corrupt(e, EI_DATA, "bad ELF data encoding %u", data);
    e->wide = cls == ELFCLASS64;
    e->big = data == ELFDATA2MSB;
    e->lay = e->wide ? &LAYOUT64 : &LAYOUT32;
    const struct layout *lay = e->lay;
    if (n < lay->ehdr_size)
        return corrupt(e, 0, "truncated ELF header: %llu bytes, need %u", (unsigned long long)n,
                       lay->ehdr_size);
    e->type = (uint16_t)rd(e, 16, 2);
    e->machine = (uint16_t)rd(e, 18, 2);
    e->shoff = rdw(e, lay->shoff_at);
    uint64_t shentsize = rd(e, lay->shentsize_at, 2);
    uint64_t shnum = rd(e, lay->shentsize_at + 2, 2);
    uint64_t shstrndx = rd(e, lay->shentsize_at + 4, 2);
    uint64_t shstrndx_at = lay->shentsize_at + 4;
    e->shnum = 0;
    if (e->shoff == 0)
        return 0; /* no section headers: no symbol tables */
    if (shentsize != lay->shdr_size)
        return corrupt(e, lay->shentsize_at, "section header entry size %llu, expected %u",
                       (unsigned long long)shentsize, lay->shdr_size);
    int rc = check_table(e, 1);
    if (rc)
        return rc;
    struct shdr first;
    read_shdr(e, 0, &first);
    if (shnum == 0) /* 65280 sections or more: the count is section 0's sh_size */
        shnum = first.size;
    if (shnum == 0)
        return 0;
    if ((rc = check_table(e, shnum)))
        return rc;
    if (shstrndx == SHN_XINDEX) { /* the index is section 0's sh_link */
        shstrndx = first.link;
        shstrndx_at = e->shoff + lay->sh_link_at;
    }
    if (shstrndx >= shnum)
        return corrupt(e, shstrndx_at, "section name string table index %llu out of range (%llu sections)",
                       (unsigned long long)shstrndx, (unsigned long long)shnum);
    e->shnum = shnum;
    e->shstrndx = shstrndx;
    return check_section_names(e);
}

/* Index of the first section of this type, or NONE. */
static uint64_t first_of_type(const struct elf *e, uint32_t type)
{
    struct shdr s;
    for (uint64_t i = 1; i < e->shnum; i++) {
        read_shdr(e, i, &s);
        if (s.type == type)
            return i;
    }
    return NONE;
}

/* Section i's name (checked by open_elf) and its length. */
static const char *section_name(const struct elf *e, const struct shdr *s, size_t *len)
{
    if (e->shstrndx == SHN_UNDEF) {
        *len = 0;
        return "";
    }
    struct shdr t;
    read_shdr(e, e->shstrndx, &t);
    const char *p = (const char *)e->d + t.offset + s->name;
    const char *end = memchr(p, 0, t.size - s->name);
    *len = end ? (size_t)(end - p) : 0;
    return p;
}

/* ---- type letters ------------------------------------------------------------ */

static int starts_with(const char *s, size_t len, const char *prefix)
{
    size_t p = strlen(prefix);
    return len >= p && memcmp(s, prefix, p) == 0;
}

/* binutils' coff_section_type: these name prefixes, followed by '.', '$',
 * a digit or the end of the name, decide the letter before the flags do. */
static char letter_by_name(const char *s, size_t len)
{
    static const struct {
        const char *prefix;
        char letter;
    } table[] = {{".drectve", 'i'}, {".edata", 'e'}, {".idata", 'i'}, {".pdata", 'p'}};
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        size_t p = strlen(table[i].prefix);
        if (!starts_with(s, len, table[i].prefix))
            continue;
        if (len == p || s[p] == '.' || s[p] == '$' || (s[p] >= '0' && s[p] <= '9'))
            return table[i].letter;
    }
    return 0;
}

/* BFD marks a section that is not allocated as debugging information by
 * its name alone. */
static int is_debug_name(const char *s, size_t len)
{
    static const char *const prefixes[] = {".debug", ".gnu.debuglto_.debug_", ".gnu.linkonce.wi.",
                                           ".zdebug", ".line", ".stab"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (starts_with(s, len, prefixes[i]))
            return 1;
    return len == 10 && memcmp(s, ".gdb_index", 10) == 0;
}

/* nm's letter (lowercase) for a symbol in a section: by name, else by the
 * flags BFD gives the section (code, data, no contents, debugging,
 * read-only). */
static char section_letter(const struct elf *e, const struct shdr *s)
{
    size_t len;
    const char *name = section_name(e, s, &len);
    char c = letter_by_name(name, len);
    if (c)
        return c;
    int contents = s->type != SHT_NOBITS;
    int alloc = (s->flags & SHF_ALLOC) != 0;
    int readonly = (s->flags & SHF_WRITE) == 0;
    if (s->flags & SHF_EXECINSTR)
        return 't';
    if (alloc && contents)
        return readonly ? 'r' : 'd';
    if (!contents)
        return 'b';
    if (!alloc && is_debug_name(name, len))
        return 'N';
    return readonly ? 'n' : '?';
}

/* ---- the symbol table ---------------------------------------------------------- */

struct symtab {
    uint64_t index, off, count;
    uint64_t link, str_off, str_size;
    uint64_t shndx_sec, shndx_off, shndx_size; /* shndx_sec NONE: no SHT_SYMTAB_SHNDX table */
    uint64_t symtab, symtab_strtab;           /* the first SHT_SYMTAB and its string table, or NONE */
    int relocatable, x86_64;
};

/* The symbol table in section index, its string table and its extended
 * index table, checked. */
static int open_symtab(struct elf *e, uint64_t index, struct symtab *t)
{
    const struct layout *lay = e->lay;
    struct shdr s, str;
    read_shdr(e, index, &s);
    uint64_t at = shdr_at(e, index);
    unsigned long long ix = (unsigned long long)index;
    if (s.entsize != lay->sym_size)
        return corrupt(e, at + lay->sh_entsize_at, "symbol table (section %llu) has entry size %llu, expected %u",
                       ix, (unsigned long long)s.entsize, lay->sym_size);
    if (s.size % lay->sym_size)
        return corrupt(e, at + lay->sh_size_at, "symbol table (section %llu) size %llu is not a multiple of %u",
                       ix, (unsigned long long)s.size, lay->sym_size);
    if (!in_file(e, s.offset, s.size))
        return corrupt(e, at + lay->sh_offset_at, "symbol table (section %llu) runs past the end of the file", ix);
    t->index = index;
    t->off = s.offset;
    t->count = s.size / lay->sym_size;
    t->link = s.link;
    if (s.link == SHN_UNDEF || s.link >= e->shnum)
        return corrupt(e, at + lay->sh_link_at, "string table index %u of symbol table (section %llu) is out of range",
                       s.link, ix);
    read_shdr(e, s.link, &str);
    uint64_t str_at = shdr_at(e, s.link);
    if (str.type != SHT_STRTAB)
        return corrupt(e, str_at + 4,
                       "section %u linked by symbol table (section %llu) is not a string table (type %u)", s.link,
                       ix, str.type);
    if (!in_file(e, str.offset, str.size))
        return corrupt(e, str_at + lay->sh_offset_at, "string table (section %u) runs past the end of the file",
                       s.link);
    if (str.size == 0)
        return corrupt(e, str_at + lay->sh_size_at, "string table (section %u) is empty", s.link);
    if (e->d[str.offset + str.size - 1] != 0)
        return corrupt(e, str.offset + str.size - 1, "string table (section %u) does not end with a NUL byte", s.link);
    t->str_off = str.offset;
    t->str_size = str.size;
    t->shndx_sec = NONE;
    t->shndx_off = t->shndx_size = 0;
    struct shdr x;
    for (uint64_t i = 1; i < e->shnum; i++) {
        read_shdr(e, i, &x);
        if (x.type != SHT_SYMTAB_SHNDX || x.link != index)
            continue;
        if (!in_file(e, x.offset, x.size))
            return corrupt(e, shdr_at(e, i) + lay->sh_offset_at,
                           "extended section index table (section %llu) runs past the end of the file",
                           (unsigned long long)i);
        t->shndx_sec = i;
        t->shndx_off = x.offset;
        t->shndx_size = x.size;
        break;
    }
    t->relocatable = e->type != ET_EXEC && e->type != ET_DYN;
    /* BFD's x86-64 back end (little-endian only: a big-endian file gets the
     * generic one) reads SHN_X86_64_LCOMMON as a common section */
    t->x86_64 = e->machine == EM_X86_64 && !e->big;
    t->symtab = first_of_type(e, SHT_SYMTAB);
    t->symtab_strtab = NONE;
    if (t->symtab != NONE) {
        read_shdr(e, t->symtab, &x);
        t->symtab_strtab = x.link;
    }
    return 0;
}

/* Whether BFD reads a SHT_REL / SHT_RELA section as the relocations of
 * another section (and makes no section of it). */
static int is_reloc_section(const struct elf *e, const struct symtab *t, const struct shdr *s)
{
    if ((e->type == ET_EXEC || e->type == ET_DYN) && (s->flags & SHF_ALLOC))
        return 0;
    if (s->link == SHN_UNDEF || s->link != t->symtab || s->info == SHN_UNDEF || s->info >= e->shnum)
        return 0;
    struct shdr target;
    read_shdr(e, s->info, &target);
    return target.type != SHT_REL && target.type != SHT_RELA;
}

/* Whether BFD makes a section of section k (k < shnum): a symbol in one it
 * does not make is shown as absolute. */
static int is_mapped(const struct elf *e, const struct symtab *t, uint64_t k, const struct shdr *s)
{
    switch (s->type) {
    case SHT_NULL:
    case SHT_SYMTAB_SHNDX:
        return 0;
    case SHT_SYMTAB:
        return k == t->symtab && e->type == ET_DYN && (s->flags & SHF_ALLOC);
    case SHT_STRTAB:
        return k != e->shstrndx && k != t->symtab_strtab;
    case SHT_REL:
    case SHT_RELA:
        return !is_reloc_section(e, t, s);
    default:
        return 1;
    }
}

/* What a symbol's section index gives: whether BFD has the section, its
 * letter ('a' when it has not) and its address.  One is kept while symbols
 * of the same section follow each other (the usual order). */
struct section_info {
    uint64_t index; /* NONE: nothing cached */
    int mapped;
    char letter;
    uint64_t addr;
};

/* Fill *c for a (non-common) section index, unless it holds it already. */
static void section_info(const struct elf *e, const struct symtab *t, uint64_t shndx, int reserved,
                         struct section_info *c)
{
    uint64_t key = reserved ? NONE - 1 : shndx; /* every reserved index is absolute */
    if (c->index == key)
        return;
    c->index = key;
    c->mapped = 0;
    c->letter = 'a';
    c->addr = 0;
    if (reserved || shndx >= e->shnum)
        return;
    struct shdr sec;
    read_shdr(e, shndx, &sec);
    if (!is_mapped(e, t, shndx, &sec))
        return;
    c->mapped = 1;
    c->letter = section_letter(e, &sec);
    c->addr = sec.addr;
}

/* The letter of bfd_decode_symclass for a defined symbol that is not
 * common, in a section of letter section_c ('a': absolute). */
static char symbol_letter(unsigned type, unsigned bind, char section_c)
{
    if (type == STT_GNU_IFUNC)
        return 'i';
    if (bind == STB_WEAK)
        return (type == STT_OBJECT || type == STT_COMMON) ? 'V' : 'W';
    if (bind == STB_GNU_UNIQUE)
        return 'u';
    if (bind != STB_LOCAL && bind != STB_GLOBAL)
        return '?';
    char c = section_c;
    if (bind == STB_GLOBAL && c >= 'a' && c <= 'z')
        c = (char)(c - 'a' + 'A');
    return c;
}

typedef int (*emit_fn)(void *ctx, const struct ksym_elf_symbol *sym);

/* Symbol i's section index through the extended index table. */
static int extended_index(struct elf *e, const struct symtab *t, uint64_t i, uint64_t field_at, uint64_t *shndx)
{
    if (t->shndx_sec == NONE)
        return corrupt(e, field_at,
                       "symbol %llu uses an extended section index but no SHT_SYMTAB_SHNDX table "
                       "belongs to the symbol table",
                       (unsigned long long)i);
    if (i >= t->shndx_size / 4)
        return corrupt(e, field_at, "symbol %llu has no entry in the extended section index table (section %llu)",
                       (unsigned long long)i, (unsigned long long)t->shndx_sec);
    *shndx = rd(e, t->shndx_off + 4 * i, 4);
    return 0;
}

/* Every defined symbol of the table, in order, to emit; returns how many,
 * or the first error. */
static int64_t walk_symbols(struct elf *e, const struct symtab *t, emit_fn emit, void *ctx)
{
    const struct layout *lay = e->lay;
    int64_t count = 0;
    struct section_info cache = {NONE, 0, 'a', 0};
    for (uint64_t i = 1; i < t->count; i++) {
        uint64_t at = t->off + i * lay->sym_size;
        uint32_t st_name = (uint32_t)rd(e, at, 4);
        uint64_t value, size;
        unsigned info;
        uint64_t shndx;
        if (e->wide) {
            info = (unsigned)rd(e, at + 4, 1);
            shndx = rd(e, at + 6, 2);
            value = rd(e, at + 8, 8);
            size = rd(e, at + 16, 8);
        } else {
            value = rd(e, at + 4, 4);
            size = rd(e, at + 8, 4);
            info = (unsigned)rd(e, at + 12, 1);
            shndx = rd(e, at + 14, 2);
        }
        unsigned type = info & 0xF, bind = info >> 4;
        if (type == STT_SECTION || type == STT_FILE)
            continue; /* nm shows them only with -a */
        int reserved = shndx >= SHN_LORESERVE;
        if (shndx == SHN_XINDEX) {
            int rc = extended_index(e, t, i, at + lay->st_shndx_at, &shndx);
            if (rc)
                return rc;
            reserved = 0;
        }
        if (shndx == SHN_UNDEF)
            continue;
        if (st_name >= t->str_size)
            return corrupt(e, at,
                           "name of symbol %llu (offset %u) is outside the string table (section %llu, "
                           "%llu bytes)",
                           (unsigned long long)i, st_name, (unsigned long long)t->link,
                           (unsigned long long)t->str_size);
        const char *name = (const char *)e->d + t->str_off + st_name;
        struct ksym_elf_symbol sym;
        sym.name_off = t->str_off + st_name;
        /* the table ends with a NUL (open_symtab), so memchr finds one */
        const char *end = memchr(name, 0, t->str_size - st_name);
        uint64_t name_len = end ? (uint64_t)(end - name) : 0;
        if (name_len > UINT32_MAX)
            return corrupt(e, at, "name of symbol %llu is longer than 4 GiB", (unsigned long long)i);
        sym.name_len = (uint32_t)name_len;
        sym.size = size;
        if (reserved && (shndx == SHN_COMMON || (shndx == SHN_X86_64_LCOMMON && t->x86_64))) {
            sym.address = size; /* ELF keeps the alignment in st_value; nm shows the size */
            sym.type = 'C';
        } else {
            section_info(e, t, shndx, reserved, &cache);
            sym.address = value;
            if (t->relocatable && cache.mapped) /* section-relative: BFD adds the section's address */
                sym.address = value + cache.addr;
            sym.type = symbol_letter(type, bind, cache.letter);
        }
        int rc = emit(ctx, &sym);
        if (rc)
            return rc;
        count++;
    }
    return count;
}

/* The checked file and symbol table for the public functions; *found = 0
 * when the file has no table of the kind asked for (no symbols). */
static int open_table(struct elf *e, const uint8_t *data, size_t len, int which, char *msg, size_t msglen,
                      uint64_t *where, struct symtab *t, int *found)
{
    memset(e, 0, sizeof *e);
    e->d = data;
    e->n = len;
    e->msg = msg;
    e->msglen = msglen;
    e->where = where;
    if (where)
        *where = NOWHERE;
    if (msg && msglen)
        msg[0] = 0;
    *found = 0;
    int rc = open_elf(e);
    if (rc)
        return rc;
    uint64_t index = NONE;
    if (which != KSYM_ELF_DYNSYM)
        index = first_of_type(e, SHT_SYMTAB);
    if (which == KSYM_ELF_DYNSYM || (which == KSYM_ELF_AUTO && index == NONE))
        index = first_of_type(e, SHT_DYNSYM);
    if (index == NONE)
        return 0;
    *found = 1;
    return open_symtab(e, index, t);
}

/* ---- public API -------------------------------------------------------------- */

struct out_ctx {
    struct ksym_elf_symbol *out;
    size_t cap, n;
};

static int emit_out(void *ctx, const struct ksym_elf_symbol *sym)
{
    struct out_ctx *o = ctx;
    if (o->n < o->cap)
        o->out[o->n] = *sym;
    o->n++;
    return 0;
}

static int valid_args(const uint8_t *data, size_t len, int which)
{
    return (data || !len) && (which == KSYM_ELF_AUTO || which == KSYM_ELF_SYMTAB || which == KSYM_ELF_DYNSYM);
}

int64_t ksym_elf_symbols(const uint8_t *data, size_t len, int which, struct ksym_elf_symbol *out, size_t cap,
                         char *msg, size_t msglen, uint64_t *where)
{
    if (where)
        *where = NOWHERE;
    if (!valid_args(data, len, which) || (!out && cap))
        return KSYM_EINVAL;
    struct elf e;
    struct symtab t;
    int found;
    int rc = open_table(&e, data, len, which, msg, msglen, where, &t, &found);
    if (rc || !found)
        return rc;
    struct out_ctx o = {out, cap, 0};
    return walk_symbols(&e, &t, emit_out, &o);
}

/* The builder's rules for a name (ksym_builder_add): 1 .. KSYM_NAME_MAX
 * bytes without whitespace (ELF names hold no NUL). */
static int builder_takes(const char *name, size_t len)
{
    if (len == 0 || len > KSYM_NAME_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f')
            return 0;
    }
    return 1;
}

struct add_ctx {
    struct ksym_builder *b;
    const uint8_t *data;
    const char *module;
    size_t module_len;
    uint64_t skipped;
};

static int emit_builder(void *ctx, const struct ksym_elf_symbol *sym)
{
    struct add_ctx *a = ctx;
    const char *name = (const char *)a->data + sym->name_off;
    if (!builder_takes(name, sym->name_len)) {
        a->skipped++;
        return 0;
    }
    return ksym_builder_add_sized(a->b, sym->address, sym->size, sym->type, name, sym->name_len, a->module,
                                  a->module_len);
}

static int emit_none(void *ctx, const struct ksym_elf_symbol *sym)
{
    (void)ctx;
    (void)sym;
    return 0;
}

int64_t ksym_elf_add(const uint8_t *data, size_t len, int which, struct ksym_builder *b, const char *module,
                     size_t module_len, uint64_t *skipped, char *msg, size_t msglen, uint64_t *where)
{
    if (where)
        *where = NOWHERE;
    if (skipped)
        *skipped = 0;
    if (!valid_args(data, len, which) || !b || (!module && module_len))
        return KSYM_EINVAL;
    struct elf e;
    struct symtab t;
    int found;
    int rc = open_table(&e, data, len, which, msg, msglen, where, &t, &found);
    if (rc || !found)
        return rc;
    /* a first pass checks the whole table, so that a corrupt file adds nothing */
    int64_t n = walk_symbols(&e, &t, emit_none, NULL);
    if (n <= 0)
        return n;
    struct ksym_mark mark;
    ksym__mark(b, &mark);
    ksym__reserve(b, (size_t)n, 0);
    struct add_ctx a = {b, data, module, module ? module_len : 0, 0};
    int64_t r = walk_symbols(&e, &t, emit_builder, &a);
    if (r < 0) {
        ksym__rollback(b, &mark); /* nothing from this file is kept */
        if (msg && msglen)
            snprintf(msg, msglen, "%s", ksym_builder_message(b));
        return r;
    }
    if (skipped)
        *skipped = a.skipped;
    return r - (int64_t)a.skipped;
}
