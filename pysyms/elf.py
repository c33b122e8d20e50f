"""ELF symbol tables (.symtab / .dynsym), read as GNU ``nm -S`` shows them.

The pure-Python reference of csrc/elf.c (``ksym_elf_symbols``): both give
the same symbols, in symbol-table order, and reject the same malformed
files with the same message and byte offset::

    from pysyms import elf
    elf.read_symbols(data)              # [(address, size, type, name_bytes), ...]
    elf.read_symbols(data, "dynsym")    # "auto" (default), "symtab" or "dynsym"
    elf.read_symbols_c(data)            # the same, through the C reader

Files: 32- and 64-bit, little- and big-endian, any ``e_type``.  ``auto``
reads .symtab (the first SHT_SYMTAB section) when there is one, else
.dynsym (the first SHT_DYNSYM); a file without the table asked for (or
without section headers) has no symbols.  Names are the bytes of the
linked string table, as stored: .symtab names of versioned definitions
hold their ``@VERSION`` / ``@@VERSION`` (nm prints them so), .dynsym names
have none (``nm -D`` appends versions from .gnu.version unless given
``--without-symbol-versions``).

Which symbols: every symbol but symbol 0, undefined ones (section index
SHN_UNDEF, also when reached through SHN_XINDEX), and STT_SECTION and
STT_FILE symbols (nm hides those without ``-a``): what ``nm -S
--defined-only`` prints.  Section indexes SHN_XINDEX are resolved through
the SHT_SYMTAB_SHNDX table linked to the symbol table.

The type letter, as binutils' ``bfd_decode_symclass`` (binutils 2.40)
gives it for ELF, in this order:

1. section index SHN_COMMON (or SHN_X86_64_LCOMMON in a little-endian
   x86-64 file): 'C';
2. type STT_GNU_IFUNC: 'i';
3. binding STB_WEAK: 'V' for STT_OBJECT / STT_COMMON, else 'W';
4. binding STB_GNU_UNIQUE: 'u';
5. a binding other than STB_LOCAL / STB_GLOBAL: '?';
6. otherwise a letter, uppercase for STB_GLOBAL: 'a' for SHN_ABS, for
   another reserved index (0xff00 .. 0xfffe), for an index past the
   section headers, and for a section BFD makes no section of (SHT_NULL,
   SHT_SYMTAB but an allocated one in an ET_DYN file, SHT_SYMTAB_SHNDX, the
   section name string table, the string table of the first SHT_SYMTAB,
   and a SHT_REL / SHT_RELA section that relocates another section with the
   first SHT_SYMTAB's symbols, unless it is allocated in an ET_EXEC /
   ET_DYN file); else the section's letter: by name prefix ".drectve" 'i',
   ".edata" 'e', ".idata" 'i', ".pdata" 'p' (the prefix followed by '.',
   '$', a digit or the end of the name: binutils' coff_section_type table,
   which in 2.40 holds only these; older releases also mapped .text,
   .data, .bss, .rodata, ... by name, so a function placed in a section
   named .data.x is 'T' here and was 'D' there), else by its flags as BFD
   derives them: SHF_EXECINSTR 't'; allocated with contents (not
   SHT_NOBITS): 'r' without SHF_WRITE, else 'd'; no contents (SHT_NOBITS):
   'b'; a debugging section (not allocated, named .debug*, .zdebug*,
   .gnu.debuglto_.debug_*, .gnu.linkonce.wi.*, .line*, .stab* or
   .gdb_index): 'N'; with contents and without SHF_WRITE: 'n'; else '?'.

The address is what nm prints: st_value; plus the section's sh_addr in a
file that is neither ET_EXEC nor ET_DYN (BFD keeps the values of
relocatable files section-relative and adds the section's address;
sections of .o and .ko files have address 0, so there it is st_value); for
a common symbol st_size (ELF keeps the alignment in st_value, BFD and nm
show the size there).  The size is st_size.

Not reproduced: the target-specific symbols nm of a matching target hides
(ARM / AArch64 / RISC-V mapping symbols such as ``$x`` and ``$d``; an
x86-only nm shows them too), the small-data letters 'c', 'g', 's' of
targets that have them (MIPS, PowerPC, ...), ``nm -D`` on files without
section headers (binutils then finds .dynsym through the dynamic section),
and files BFD refuses as a whole (those get symbols here, or an error when
one of the checks below fails).

Checked before use, with :class:`ElfError` (``offset``: the byte offset of
the bad field) when wrong: the identification (magic, class, data
encoding), the header's length, the section header entry size and table
(e_shoff, the count, SHN_XINDEX numbering through section 0), the section
name string table (an SHT_STRTAB in the file) and every section's name in
it (NUL-terminated), the symbol table's entry size, size (a multiple of
it) and place in the file, its string table (an SHT_STRTAB in the file,
ending with a NUL byte), the SHT_SYMTAB_SHNDX table's place and its entry
for every symbol that needs it, and the name of every symbol returned
(inside the string table).
"""

from __future__ import annotations

import struct

from .errors import Error, ParseError

__all__ = ["ElfError", "read_symbols", "read_symbols_c", "ElfFile", "section_letter", "file_is_elf",
           "module_of_path", "table_records"]

# ---- ELF constants (the one place pysyms writes them down in Python) ----------

ELFMAG = b"\x7fELF"
EI_NIDENT = 16
EI_CLASS, EI_DATA = 4, 5
ELFCLASS32, ELFCLASS64 = 1, 2
ELFDATA2LSB, ELFDATA2MSB = 1, 2
ET_REL, ET_EXEC, ET_DYN = 1, 2, 3
EM_X86_64 = 62

PT_LOAD = 1

SHT_NULL = 0
SHT_PROGBITS = 1
SHT_SYMTAB = 2
SHT_STRTAB = 3
SHT_RELA = 4
SHT_NOBITS = 8
SHT_REL = 9
SHT_DYNSYM = 11
SHT_SYMTAB_SHNDX = 18

SHF_WRITE = 0x1
SHF_ALLOC = 0x2
SHF_EXECINSTR = 0x4

SHN_UNDEF = 0
SHN_LORESERVE = 0xFF00
SHN_X86_64_LCOMMON = 0xFF02
SHN_ABS = 0xFFF1
SHN_COMMON = 0xFFF2
SHN_XINDEX = 0xFFFF

STB_LOCAL, STB_GLOBAL, STB_WEAK, STB_GNU_UNIQUE = 0, 1, 2, 10
STT_OBJECT, STT_SECTION, STT_FILE, STT_COMMON, STT_GNU_IFUNC = 1, 3, 4, 5, 10


class _Layout:
    """Sizes and field offsets of one ELF class."""

    def __init__(self, cls):
        wide = cls == ELFCLASS64
        self.wide = wide
        self.ehdr_size = 64 if wide else 52
        self.shoff_at = 0x28 if wide else 0x20       # e_shoff
        self.shentsize_at = 0x3A if wide else 0x2E   # e_shentsize, then e_shnum, e_shstrndx
        self.shdr_size = 64 if wide else 40
        self.sym_size = 24 if wide else 16
        # Elf_Shdr: name, type, flags, addr, offset, size, link, info, addralign, entsize
        self.shdr_fmt = "IIQQQQIIQQ" if wide else "IIIIIIIIII"
        self.sh_type_at = 4
        self.sh_offset_at = 24 if wide else 16
        self.sh_size_at = 32 if wide else 20
        self.sh_link_at = 40 if wide else 24
        self.sh_entsize_at = 56 if wide else 36
        self.st_shndx_at = 6 if wide else 14


SHDR_NAME, SHDR_TYPE, SHDR_FLAGS, SHDR_ADDR, SHDR_OFFSET, SHDR_SIZE, SHDR_LINK, SHDR_INFO, SHDR_ALIGN, \
    SHDR_ENTSIZE = range(10)

_WHICH = ("auto", "symtab", "dynsym")

# binutils' coff_section_type table: a name prefix, then '.', '$', a digit or the end.
_NAME_LETTERS = ((b".drectve", "i"), (b".edata", "e"), (b".idata", "i"), (b".pdata", "p"))
_AFTER_PREFIX = (b"", b".", b"$") + tuple(bytes([c]) for c in b"0123456789")
_DEBUG_PREFIXES = (b".debug", b".gnu.debuglto_.debug_", b".gnu.linkonce.wi.", b".zdebug", b".line", b".stab")


class ElfError(Error, ValueError):
    """A malformed ELF file: ``reason`` says what is wrong, ``offset`` is the
    byte offset in the file of the field concerned, ``path`` the file (None
    for bytes in memory)."""

    def __init__(self, reason, offset=None, path=None):
        self.reason = reason
        self.offset = offset
        self.path = path
        where = [str(path)] if path is not None else []
        if offset is not None:
            where.append(f"byte {offset}")
        super().__init__(": ".join(where + [reason]))


class ElfFile:
    """The checked header and section headers of an ELF file.

    ``sections[i]`` is the tuple of section i's header fields (SHDR_* order);
    ``names[i]`` its name (bytes); ``shdr_at(i)`` the byte offset of its header.
    """

    def __init__(self, data):
        if not isinstance(data, (bytes, bytearray)):
            data = bytes(data)  # find() and index() below; the reference may copy
        self.data = data
        n = len(data)
        if n < 4 or bytes(data[:4]) != ELFMAG:
            raise ElfError("not an ELF file: bad magic", 0)
        if n <= EI_CLASS or data[EI_CLASS] not in (ELFCLASS32, ELFCLASS64):
            raise ElfError(f"bad ELF class {data[EI_CLASS] if n > EI_CLASS else 0}", EI_CLASS)
        if n <= EI_DATA or data[EI_DATA] not in (ELFDATA2LSB, ELFDATA2MSB):
            raise ElfError(f"bad ELF data encoding {data[EI_DATA] if n > EI_DATA else 0}", EI_DATA)
        self.lay = lay = _Layout(data[EI_CLASS])
        self.e = "<" if data[EI_DATA] == ELFDATA2LSB else ">"
        if n < lay.ehdr_size:
            raise ElfError(f"truncated ELF header: {n} bytes, need {lay.ehdr_size}", 0)
        self.e_type, self.e_machine = struct.unpack_from(self.e + "HH", data, 16)
        (self.shoff,) = struct.unpack_from(self.e + ("Q" if lay.wide else "I"), data, lay.shoff_at)
        shentsize, shnum, shstrndx = struct.unpack_from(self.e + "HHH", data, lay.shentsize_at)
        self.sections = []
        self.names = []
        if self.shoff == 0:
            return  # no section headers: no symbol tables
        if shentsize != lay.shdr_size:
            raise ElfError(f"section header entry size {shentsize}, expected {lay.shdr_size}",
                           lay.shentsize_at)
        self._check_table(1)
        first = self._read_shdr(0)
        if shnum == 0:  # 65280 sections or more: the count is section 0's sh_size
            shnum = first[SHDR_SIZE]
        if shnum == 0:
            return
        self._check_table(shnum)
        shstrndx_at = lay.shentsize_at + 4
        if shstrndx == SHN_XINDEX:  # the index is section 0's sh_link
            shstrndx, shstrndx_at = first[SHDR_LINK], self.shoff + lay.sh_link_at
        self.sections = [first] + [self._read_shdr(i) for i in range(1, shnum)]
        if shstrndx >= shnum:
            raise ElfError(f"section name string table index {shstrndx} out of range ({shnum} sections)",
                           shstrndx_at)
        self.shstrndx = shstrndx
        self.names = self._section_names()

    def shdr_at(self, i):
        return self.shoff + i * self.lay.shdr_size

    def _check_table(self, count):
        size = self.lay.shdr_size
        if self.shoff > len(self.data) or count > (len(self.data) - self.shoff) // size:
            raise ElfError(f"section header table at byte {self.shoff} ({count} entries) runs past the end "
                           f"of the file ({len(self.data)} bytes)", self.lay.shoff_at)

    def _read_shdr(self, i):
        return struct.unpack_from(self.e + self.lay.shdr_fmt, self.data, self.shdr_at(i))

    def in_file(self, i):
        """Whether section i's bytes [sh_offset, sh_offset + sh_size) lie in the file."""
        s = self.sections[i]
        return s[SHDR_OFFSET] <= len(self.data) and s[SHDR_SIZE] <= len(self.data) - s[SHDR_OFFSET]

    def _section_names(self):
        if self.shstrndx == SHN_UNDEF:
            return [b""] * len(self.sections)
        k = self.shstrndx
        strtab = self.sections[k]
        if strtab[SHDR_TYPE] != SHT_STRTAB:
            raise ElfError(f"section {k} named by e_shstrndx is not a string table (type {strtab[SHDR_TYPE]})",
                           self.shdr_at(k) + self.lay.sh_type_at)
        if not self.in_file(k):
            raise ElfError(f"section name string table (section {k}) runs past the end of the file",
                           self.shdr_at(k) + self.lay.sh_offset_at)
        start, size = strtab[SHDR_OFFSET], strtab[SHDR_SIZE]
        names = [b""]
        for i in range(1, len(self.sections)):
            off = self.sections[i][SHDR_NAME]
            if off >= size:
                raise ElfError(f"name of section {i} (offset {off}) is outside the section name string table "
                               f"({size} bytes)", self.shdr_at(i))
            end = self.data.find(b"\0", start + off, start + size)
            if end < 0:
                raise ElfError(f"name of section {i} is not NUL-terminated", self.shdr_at(i))
            names.append(bytes(self.data[start + off:end]))
        return names

    def first(self, sh_type):
        """Index of the first section of this type, or None."""
        for i, s in enumerate(self.sections):
            if i and s[SHDR_TYPE] == sh_type:
                return i
        return None


class _SymbolReader:
    """The defined symbols of one symbol table, as nm shows them."""

    def __init__(self, f, index):
        self.f = f
        self.index = index
        lay, s = f.lay, f.sections[index]
        at = f.shdr_at(index)
        what = f"symbol table (section {index})"
        if s[SHDR_ENTSIZE] != lay.sym_size:
            raise ElfError(f"{what} has entry size {s[SHDR_ENTSIZE]}, expected {lay.sym_size}",
                           at + lay.sh_entsize_at)
        if s[SHDR_SIZE] % lay.sym_size:
            raise ElfError(f"{what} size {s[SHDR_SIZE]} is not a multiple of {lay.sym_size}", at + lay.sh_size_at)
        if not f.in_file(index):
            raise ElfError(f"{what} runs past the end of the file", at + lay.sh_offset_at)
        self.count = s[SHDR_SIZE] // lay.sym_size
        link = s[SHDR_LINK]
        if link >= len(f.sections) or link == SHN_UNDEF:
            raise ElfError(f"string table index {link} of {what} is out of range", at + lay.sh_link_at)
        strtab = f.sections[link]
        if strtab[SHDR_TYPE] != SHT_STRTAB:
            raise ElfError(f"section {link} linked by {what} is not a string table (type {strtab[SHDR_TYPE]})",
                           f.shdr_at(link) + lay.sh_type_at)
        if not f.in_file(link):
            raise ElfError(f"string table (section {link}) runs past the end of the file",
                           f.shdr_at(link) + lay.sh_offset_at)
        self.str_start, self.str_size = strtab[SHDR_OFFSET], strtab[SHDR_SIZE]
        if self.str_size == 0:
            raise ElfError(f"string table (section {link}) is empty", f.shdr_at(link) + lay.sh_size_at)
        if f.data[self.str_start + self.str_size - 1] != 0:
            raise ElfError(f"string table (section {link}) does not end with a NUL byte",
                           self.str_start + self.str_size - 1)
        self.link = link
        self.shndx = None  # (start, size, section) of the SHT_SYMTAB_SHNDX table
        for i, t in enumerate(f.sections):
            if i and t[SHDR_TYPE] == SHT_SYMTAB_SHNDX and t[SHDR_LINK] == index:
                if not f.in_file(i):
                    raise ElfError(f"extended section index table (section {i}) runs past the end of the file",
                                   f.shdr_at(i) + lay.sh_offset_at)
                self.shndx = (t[SHDR_OFFSET], t[SHDR_SIZE], i)
                break
        self.relocatable = f.e_type not in (ET_EXEC, ET_DYN)
        # BFD's x86-64 back end (little-endian only; a big-endian file gets the
        # generic one) reads SHN_X86_64_LCOMMON as a common section
        self.x86_64 = f.e_machine == EM_X86_64 and f.e == "<"
        self.symtab = f.first(SHT_SYMTAB)
        self.symtab_strtab = f.sections[self.symtab][SHDR_LINK] if self.symtab is not None else None
        self.letters = {}

    def symbols(self):
        f, lay = self.f, self.f.lay
        data, e = f.data, f.e
        fmt = e + ("IBBHQQ" if lay.wide else "IIIBBH")
        base = f.sections[self.index][SHDR_OFFSET]
        nsec = len(f.sections)
        out = []
        for i in range(1, self.count):
            at = base + i * lay.sym_size
            if lay.wide:
                st_name, info, _other, shndx, value, size = struct.unpack_from(fmt, data, at)
            else:
                st_name, value, size, info, _other, shndx = struct.unpack_from(fmt, data, at)
            stype, bind = info & 0xF, info >> 4
            if stype in (STT_SECTION, STT_FILE):
                continue
            if shndx == SHN_XINDEX:
                shndx = self._extended_index(i, at + lay.st_shndx_at)
                reserved = False
            else:
                reserved = shndx >= SHN_LORESERVE
            if shndx == SHN_UNDEF:
                continue
            if st_name >= self.str_size:
                raise ElfError(f"name of symbol {i} (offset {st_name}) is outside the string table "
                               f"(section {self.link}, {self.str_size} bytes)", at)
            start = self.str_start + st_name
            end = data.index(0, start)  # the table ends with a NUL
            if end - start > 0xFFFFFFFF:
                raise ElfError(f"name of symbol {i} is longer than 4 GiB", at)
            name = bytes(data[start:end])
            common = reserved and (shndx == SHN_COMMON or (shndx == SHN_X86_64_LCOMMON and self.x86_64))
            if common:
                out.append((size, size, "C", name))
                continue
            mapped = not reserved and shndx < nsec and self._is_mapped(shndx)
            if self.relocatable and mapped:
                value = (value + f.sections[shndx][SHDR_ADDR]) & 0xFFFFFFFFFFFFFFFF
            out.append((value, size, self._letter(stype, bind, shndx if mapped else None), name))
        return out

    def _extended_index(self, i, field_at):
        if self.shndx is None:
            raise ElfError(f"symbol {i} uses an extended section index but no SHT_SYMTAB_SHNDX table "
                           f"belongs to the symbol table", field_at)
        start, size, sec = self.shndx
        if (i + 1) * 4 > size:
            raise ElfError(f"symbol {i} has no entry in the extended section index table (section {sec})", field_at)
        return struct.unpack_from(self.f.e + "I", self.f.data, start + 4 * i)[0]

    def _is_mapped(self, k):
        """Whether BFD makes a section of section k (a symbol in one it does
        not make is shown as absolute)."""
        f = self.f
        s = f.sections[k]
        t = s[SHDR_TYPE]
        if t in (SHT_NULL, SHT_SYMTAB_SHNDX):
            return False
        if t == SHT_SYMTAB:
            return k == self.symtab and f.e_type == ET_DYN and bool(s[SHDR_FLAGS] & SHF_ALLOC)
        if t == SHT_STRTAB:
            return k != f.shstrndx and k != self.symtab_strtab
        if t in (SHT_REL, SHT_RELA):
            return not self._is_reloc_section(s)
        return True

    def _is_reloc_section(self, s):
        """Whether BFD reads a SHT_REL / SHT_RELA section as the relocations of
        another section (and makes no section of it)."""
        f = self.f
        if f.e_type in (ET_EXEC, ET_DYN) and s[SHDR_FLAGS] & SHF_ALLOC:
            return False
        link, target = s[SHDR_LINK], s[SHDR_INFO]
        if link == SHN_UNDEF or link != self.symtab or target == SHN_UNDEF or target >= len(f.sections):
            return False
        return f.sections[target][SHDR_TYPE] not in (SHT_REL, SHT_RELA)

    def _letter(self, stype, bind, k):
        if stype == STT_GNU_IFUNC:
            return "i"
        if bind == STB_WEAK:
            return "V" if stype in (STT_OBJECT, STT_COMMON) else "W"
        if bind == STB_GNU_UNIQUE:
            return "u"
        if bind not in (STB_LOCAL, STB_GLOBAL):
            return "?"
        c = "a" if k is None else self._section_letter(k)
        return c.upper() if bind == STB_GLOBAL else c

    def _section_letter(self, k):
        c = self.letters.get(k)
        if c is None:
            c = self.letters[k] = section_letter(self.f.names[k], self.f.sections[k][SHDR_TYPE],
                                                 self.f.sections[k][SHDR_FLAGS])
        return c


def section_letter(name, sh_type, sh_flags):
    """nm's letter for a symbol in a section (lowercase)."""
    for prefix, c in _NAME_LETTERS:
        if name.startswith(prefix) and name[len(prefix):len(prefix) + 1] in _AFTER_PREFIX:
            return c
    contents = sh_type != SHT_NOBITS
    alloc = bool(sh_flags & SHF_ALLOC)
    readonly = not sh_flags & SHF_WRITE
    if sh_flags & SHF_EXECINSTR:
        return "t"
    if alloc and contents:
        return "r" if readonly else "d"
    if not contents:
        return "b"
    if not alloc and (name.startswith(_DEBUG_PREFIXES) or name == b".gdb_index"):
        return "N"
    return "n" if readonly else "?"


def _table_index(f, which):
    if which == "symtab":
        return f.first(SHT_SYMTAB)
    if which == "dynsym":
        return f.first(SHT_DYNSYM)
    k = f.first(SHT_SYMTAB)
    return k if k is not None else f.first(SHT_DYNSYM)


def read_symbols(data, which="auto"):
    """The defined symbols of an ELF file as ``(address, size, type, name)``
    tuples (``name`` bytes), in symbol-table order; see the module docstring.
    Raises :class:`ElfError` for a malformed file."""
    if which not in _WHICH:
        raise ValueError(f"which must be 'auto', 'symtab' or 'dynsym', not {which!r}")
    f = ElfFile(data)
    k = _table_index(f, which)
    if k is None:
        return []
    return _SymbolReader(f, k).symbols()


# ---- symbols for a table (SymbolTable.from_elf) --------------------------------

_NOT_IN_NAMES = b" \t\n\r\x0b\x0c"


def file_is_elf(path):
    """Whether the file at ``path`` starts like an ELF file (False when it
    cannot be read: the caller's reader then says why)."""
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def module_of_path(path):
    """The module a file's symbols belong to by default: a kernel module
    ``foo-bar.ko`` (also ``.ko.xz`` etc. names) is ``foo_bar``, as the kernel
    names it; anything else is None (the core)."""
    name = str(path).replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, rest = name.partition(".ko")
    if not dot or not stem or (rest and not rest.startswith(".")):
        return None
    return stem.replace("-", "_")


def table_records(symbols, module=None):
    """``(records, skipped)``: the symbols of :func:`read_symbols` as
    ``from_records`` records ``(address, type, name, module, size)``, without
    the ones a table cannot hold (names over 511 bytes, or holding
    whitespace: ksym_elf_add skips the same), and how many those were."""
    from ._format import NAME_MAX

    records = [(address, letter, name, module, size) for address, size, letter, name in symbols
               if 0 < len(name) <= NAME_MAX and len(name.translate(None, _NOT_IN_NAMES)) == len(name)]
    return records, len(symbols) - len(records)


def no_symbols_error(path, which, skipped):
    """The ParseError of a file whose table held no symbol a table can take."""
    table = ".symtab or .dynsym" if which == "auto" else "." + which
    return ParseError(f"no symbols in its {table}{f' ({skipped} skipped)' if skipped else ''}", path)


def warn_skipped(path, skipped):
    """Say (warnings.warn) that symbols of an ELF file were left out."""
    if skipped:
        import warnings

        warnings.warn(f"{path}: {skipped} ELF symbol(s) skipped: names longer than 511 bytes or "
                      "holding whitespace cannot be in a table", stacklevel=3)


# ---- the C reader -------------------------------------------------------------

def read_symbols_c(data, which="auto"):
    """:func:`read_symbols` through csrc/elf.c (``ksym_elf_symbols``)."""
    from ._native import ffi, lib

    code = c_which(which)
    buf = ffi.from_buffer(data)
    msg = ffi.new("char[]", 256)
    where = ffi.new("uint64_t *")
    n = lib.ksym_elf_symbols(buf, len(buf), code, ffi.NULL, 0, msg, 256, where)
    out = ffi.new("struct ksym_elf_symbol[]", max(n, 1))
    if n >= 0:
        n = lib.ksym_elf_symbols(buf, len(buf), code, out, n, msg, 256, where)
    if n < 0:
        raise_c_error(ffi, lib, n, msg, where)
    view = memoryview(data).cast("B") if not isinstance(data, bytes) else data
    return [(s.address, s.size, s.type.decode("latin-1"), bytes(view[s.name_off:s.name_off + s.name_len]))
            for s in out[0:n]]


def c_which(which):
    """The KSYM_ELF_* code of ``which`` ("auto", "symtab" or "dynsym")."""
    from ._native import lib

    if which not in _WHICH:
        raise ValueError(f"which must be 'auto', 'symtab' or 'dynsym', not {which!r}")
    return {"auto": lib.KSYM_ELF_AUTO, "symtab": lib.KSYM_ELF_SYMTAB, "dynsym": lib.KSYM_ELF_DYNSYM}[which]


def raise_c_error(ffi, lib, rc, msg, where, path=None):
    """Raise what a negative ksym_elf_symbols / ksym_elf_add result means:
    :class:`ElfError` for a malformed file, else the builder's message."""
    if rc == lib.KSYM_ECORRUPT:
        raise ElfError(ffi.string(msg).decode("utf-8", "replace"),
                       None if where[0] == 0xFFFFFFFFFFFFFFFF else where[0], path)
    text = ffi.string(msg).decode("utf-8", "replace") or ffi.string(lib.ksym_strerror(rc)).decode()
    if rc == lib.KSYM_ENOMEM:
        raise MemoryError(text)
    raise Error(text if path is None else f"{path}: {text}")
