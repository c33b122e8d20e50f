"""ELF symbol tables (issue 6): csrc/elf.c (``ksym_elf_symbols``,
``ksym_elf_add``) and the pure-Python reference pysyms/elf.py, against GNU
``nm -S --defined-only``.

- A small C program (static, global, weak and IFUNC functions, static and
  global data, bss, rodata, common, thread-locals, a .text.hot function, a
  unique object, absolute symbols, versioned definitions) compiled by gcc in
  several flavours (-O0 / -O2, PIE / no-PIE, shared library, relocatable
  object, -m32 and -mx32 when gcc can, stripped), plus copies made
  big-endian, with an SHT_SYMTAB_SHNDX table, with extended section
  numbering: the C reader, the Python reader and nm give the same sorted
  (address, size, type, name) lists; .dynsym against ``nm -D
  --without-symbol-versions`` (nm appends versions to .dynsym names by
  default, the table does not hold them).
- The letter rules, one by one, on an assembly file and on copies with
  fields changed (symbols in sections BFD makes no section of, reserved
  indexes, odd bindings, section addresses in a relocatable file, ...):
  against nm.
- Real files on this machine (python3, libc.so.6, kernel modules, a
  vmlinux), each skipped when absent.
- Malformed files (truncated at every boundary, tables past the end, names
  outside the string table, a string table without its final NUL, bad
  entry sizes, ...): both readers raise ElfError with the same message and
  offset; random damage: the same answer or the same error, never a crash.
- ksym_elf_add: the symbols with their sizes in a builder, names it cannot
  hold skipped and counted, nothing kept from a corrupt file.

Skipped when gcc or nm is missing.  What nm does that a plain reading of
the ELF fields would not (all reproduced, documented in pysyms/elf.py): a
common symbol's address is its size; a relocatable file's addresses include
the section's sh_addr; binutils 2.40 letters .text, .data, ... by their
flags, not by name (older releases did by name); symbols in sections BFD
makes no section of are absolute; nm -D appends versions to .dynsym names.
"""

import os
import random
import shutil
import struct
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from pysyms import elf
from pysyms.elf import ElfError

GCC = shutil.which("gcc")
NM = shutil.which("nm")
AS = shutil.which("as")
needs_tools = pytest.mark.skipif(GCC is None or NM is None, reason="needs gcc and nm (binutils)")

PROGRAM = r"""
static __attribute__((used)) int s_data = 1;
int g_data = 2;
static __attribute__((used)) int s_bss;
int g_bss;                            /* common with -fcommon, .bss once linked */
int g_common;
const int g_ro = 5;
static const char s_ro[] = "hello";
__thread int tls_data = 3;
__thread int tls_bss;
static __attribute__((noinline)) int s_func(int x) { return x + s_data + s_ro[x & 3]; }
int g_func(int x) { s_data += x; return s_func(x) + g_bss + s_bss++; }
__attribute__((weak)) int w_func(void) { return 1; }
__attribute__((weak)) int w_data = 4;
__attribute__((section(".text.hot"), noinline)) int hot_func(void) { return 7; }
static int ifunc_impl(void) { return 1; }
static void *ifunc_resolver(void) { return (void *)ifunc_impl; }
int ifunc_sym(void) __attribute__((ifunc("ifunc_resolver")));
int old_api(void) { return 1; }
int new_api(void) { return 2; }
__asm__(".symver old_api,api@VERS_1");
__asm__(".symver new_api,api@@VERS_2");
__asm__(".globl abs_global\n.set abs_global, 0x1234\n.set abs_local, 0x42");
__asm__(".section .data.unique,\"aw\",@progbits\n.globl unique_obj\n.type unique_obj, @gnu_unique_object\n"
        "unique_obj: .long 9\n.size unique_obj, 4\n.previous");
int main(int argc, char **argv) {
    (void)argv;
    return g_func(argc) + w_func() + hot_func() + ifunc_sym() + g_common + tls_data + tls_bss + w_data + g_ro
           + old_api() + new_api();
}
"""
VERSION_SCRIPT = "VERS_1 { global: *; };\nVERS_2 { global: api; } VERS_1;\n"

# name: gcc arguments after the source ("-c" for objects); the library also gets the version script
FLAVOURS = {
    "O0-exe": ["-O0"],
    "O2-exe": ["-O2"],
    "pie": ["-O1", "-fPIE", "-pie"],
    "no-pie": ["-O1", "-fno-pie", "-no-pie"],
    "shared": ["-O2", "-shared", "-fPIC"],
    "object": ["-O2", "-c"],
    "m32-object": ["-O2", "-m32", "-c"],
    "m32-exe": ["-O2", "-m32", "-nostdlib", "-static", "-Wl,-e,main"],
    "x32-object": ["-O2", "-mx32", "-c"],
}
OPTIONAL = {"m32-object", "m32-exe", "x32-object"}  # skipped when gcc here cannot build them


# ---- helpers -------------------------------------------------------------------

def nm_symbols(path, dynamic=False):
    """``nm -S --defined-only`` (with -D: of .dynsym, names without versions)
    as a sorted list of (address, size, type, name bytes); size 0 when nm
    prints none."""
    cmd = [NM, "-S", "--defined-only"]
    if dynamic:
        cmd += ["-D", "--without-symbol-versions"]
    result = subprocess.run(cmd + [str(path)], capture_output=True, timeout=300)
    if dynamic and result.returncode and b"without-symbol-versions" in result.stderr:  # older nm
        result = subprocess.run([NM, "-S", "--defined-only", "-D", str(path)], capture_output=True, timeout=300)
    assert result.returncode == 0 or b"no symbols" in result.stderr, result.stderr
    out = []
    for line in result.stdout.split(b"\n"):
        if not line.strip():
            continue
        parts = line.split(b" ", 3)
        if len(parts[1]) == 1:  # "address type name": no size
            address, letter, name = line.split(b" ", 2)
            out.append((int(address, 16), 0, letter.decode(), name))
        else:
            address, size, letter, name = parts
            out.append((int(address, 16), int(size, 16), letter.decode(), name))
    return sorted(out)


def has_symtab(data):
    return elf.ElfFile(data).first(elf.SHT_SYMTAB) is not None


def nm_for(path, which="auto"):
    """What nm prints for the table ``which`` reads."""
    data = Path(path).read_bytes()
    dynamic = which == "dynsym" or (which == "auto" and not has_symtab(data))
    return nm_symbols(path, dynamic)


def both(data, which="auto"):
    """read_symbols and read_symbols_c: the same list, or the same error."""
    outcomes = []
    for read in (elf.read_symbols, elf.read_symbols_c):
        try:
            outcomes.append(read(data, which))
        except ElfError as exc:
            outcomes.append(("ElfError", exc.reason, exc.offset))
    assert outcomes[0] == outcomes[1], f"python {str(outcomes[0])[:600]}\nc      {str(outcomes[1])[:600]}"
    return outcomes[0]


def rejected(data, which="auto"):
    """The ElfError both readers raise (the same message and offset)."""
    outcome = both(data, which)
    assert isinstance(outcome, tuple), f"accepted: {outcome[:5]}"
    with pytest.raises(ElfError):
        elf.read_symbols(data, which)
    with pytest.raises(ElfError):
        elf.read_symbols_c(data, which)
    return outcome[1], outcome[2]


def check_against_nm(path, which="auto"):
    data = Path(path).read_bytes()
    ours = both(data, which)
    assert not isinstance(ours, tuple), ours
    expected = nm_for(path, which)
    got = sorted(ours)
    if got != expected:
        mine, theirs = Counter(got), Counter(expected)
        pytest.fail(f"{path} ({which}): only ours {sorted((mine - theirs).elements())[:15]}\n"
                    f"only nm {sorted((theirs - mine).elements())[:15]}")
    return got


class Elf:
    """A mutable copy of an ELF file, for changing fields by name."""

    def __init__(self, data):
        self.d = bytearray(data)
        self.f = elf.ElfFile(bytes(data))
        self.lay = self.f.lay
        self.e = self.f.e
        self.index = {name: i for i, name in enumerate(self.f.names)}

    def bytes(self):
        return bytes(self.d)

    def put(self, at, fmt, value):
        struct.pack_into(self.e + fmt, self.d, at, value)

    def get(self, at, fmt):
        return struct.unpack_from(self.e + fmt, self.d, at)[0]

    def word(self):
        return "Q" if self.lay.wide else "I"

    def shdr(self, name_or_index):
        i = self.index[name_or_index] if isinstance(name_or_index, bytes) else name_or_index
        return i, self.f.shdr_at(i), self.f.sections[i]

    # section header fields: byte offsets inside the header
    def sh_field(self, i, field):
        wide = self.lay.wide
        offsets = {"name": (0, "I"), "type": (4, "I"), "flags": (8, self.word()),
                   "addr": (16 if wide else 12, self.word()), "offset": (24 if wide else 16, self.word()),
                   "size": (32 if wide else 20, self.word()),
                   "link": (40 if wide else 24, "I"), "info": (44 if wide else 28, "I"),
                   "entsize": (56 if wide else 36, self.word())}
        off, fmt = offsets[field]
        return self.f.shdr_at(i) + off, fmt

    def set_sh(self, i, field, value):
        at, fmt = self.sh_field(i, field)
        self.put(at, fmt, value)

    def symtab(self):
        return self.shdr(self.f.first(elf.SHT_SYMTAB))

    def symbol_at(self, name):
        """Byte offset of the .symtab entry named name."""
        i, _, s = self.symtab()
        strtab = self.f.sections[s[elf.SHDR_LINK]]
        for k in range(1, s[elf.SHDR_SIZE] // self.lay.sym_size):
            at = s[elf.SHDR_OFFSET] + k * self.lay.sym_size
            start = strtab[elf.SHDR_OFFSET] + self.get(at, "I")
            if bytes(self.d[start:self.d.index(0, start)]) == name:
                return at
        raise KeyError(name)

    def sym_field(self, name, field):
        wide = self.lay.wide
        off, fmt = {"name": (0, "I"), "info": (4 if wide else 12, "B"), "shndx": (6 if wide else 14, "H"),
                    "value": (8 if wide else 4, self.word())}[field]
        return self.symbol_at(name) + off, fmt

    def set_sym(self, name, field, value):
        at, fmt = self.sym_field(name, field)
        self.put(at, fmt, value)


UNSWAPPED_TYPES = (6, 0x6FFFFFFD, 0x6FFFFFFE, 0x6FFFFFFF)  # SHT_DYNAMIC, SHT_GNU_verdef, _verneed, _versym


def to_big_endian(data, machine=None):
    """The same file big-endian: header, section headers, symbol tables and
    extended index tables swapped (nm reads it with its generic ELF target;
    nothing else is needed to list symbols).  The dynamic section and the
    symbol version sections, which nm would read in the wrong byte order,
    become SHT_PROGBITS (no symbol lives in them)."""
    f = elf.ElfFile(data)
    assert f.e == "<"
    out = bytearray(data)
    word = "Q" if f.lay.wide else "I"
    header = "HHI" + word * 3 + "IHHHHHH"
    fields = list(struct.unpack_from("<" + header, data, 16))
    if machine is not None:
        fields[1] = machine
    struct.pack_into(">" + header, out, 16, *fields)
    out[elf.EI_DATA] = elf.ELFDATA2MSB
    for i, s in enumerate(f.sections):
        if s[elf.SHDR_TYPE] in UNSWAPPED_TYPES:
            s = (s[0], elf.SHT_PROGBITS) + s[2:]
        struct.pack_into(">" + f.lay.shdr_fmt, out, f.shdr_at(i), *s)
    sym = "IBBHQQ" if f.lay.wide else "IIIBBH"
    for s in f.sections:
        if s[elf.SHDR_TYPE] in (elf.SHT_SYMTAB, elf.SHT_DYNSYM):
            for k in range(s[elf.SHDR_SIZE] // f.lay.sym_size):
                at = s[elf.SHDR_OFFSET] + k * f.lay.sym_size
                struct.pack_into(">" + sym, out, at, *struct.unpack_from("<" + sym, data, at))
        elif s[elf.SHDR_TYPE] == elf.SHT_SYMTAB_SHNDX:
            for k in range(s[elf.SHDR_SIZE] // 4):
                at = s[elf.SHDR_OFFSET] + 4 * k
                struct.pack_into(">I", out, at, *struct.unpack_from("<I", data, at))
    return bytes(out)


def with_shndx_table(data, names, extended_numbering=False):
    """A copy with an SHT_SYMTAB_SHNDX table appended (a new section, after a
    copy of the section header table moved to the end) and the .symtab
    symbols in names pointing at their sections through SHN_XINDEX;
    optionally with extended numbering (e_shnum and e_shstrndx in section 0)."""
    f = elf.ElfFile(data)
    lay, e = f.lay, f.e
    symtab = f.first(elf.SHT_SYMTAB)
    s = f.sections[symtab]
    count = s[elf.SHDR_SIZE] // lay.sym_size
    out = bytearray(data)
    table = bytearray(4 * count)
    m = Elf(data)
    for name in names:
        at = m.symbol_at(name)
        shndx_at = at + lay.st_shndx_at
        (shndx,) = struct.unpack_from(e + "H", data, shndx_at)
        assert 0 < shndx < elf.SHN_LORESERVE
        struct.pack_into(e + "I", table, 4 * ((at - s[elf.SHDR_OFFSET]) // lay.sym_size), shndx)
        struct.pack_into(e + "H", out, shndx_at, elf.SHN_XINDEX)
    out += b"\0" * (-len(out) % 8)
    table_off = len(out)
    out += table + b"\0" * (-len(table) % 8)
    shoff = len(out)
    sections = list(f.sections) + [(0, elf.SHT_SYMTAB_SHNDX, 0, 0, table_off, len(table), symtab, 0, 4, 4)]
    if extended_numbering:
        first = list(sections[0])
        first[elf.SHDR_SIZE], first[elf.SHDR_LINK] = len(sections), f.shstrndx
        sections[0] = tuple(first)
    for sec in sections:
        out += struct.pack(e + lay.shdr_fmt, *sec)
    struct.pack_into(e + ("Q" if lay.wide else "I"), out, lay.shoff_at, shoff)
    shnum, shstrndx = (0, elf.SHN_XINDEX) if extended_numbering else (len(sections), f.shstrndx)
    struct.pack_into(e + "HH", out, lay.shentsize_at + 2, shnum, shstrndx)
    return bytes(out)


def _compile(out_dir, name, args):
    src = out_dir / "prog.c"
    if not src.exists():
        src.write_text(PROGRAM)
        (out_dir / "prog.map").write_text(VERSION_SCRIPT)
    out = out_dir / (name + (".o" if "-c" in args else ".so" if "-shared" in args else ""))
    extra = [f"-Wl,--version-script={out_dir / 'prog.map'}"] if "-shared" in args else []
    result = subprocess.run([GCC, "-fcommon", "-w", *args, str(src), "-o", str(out), *extra],
                            capture_output=True, text=True, timeout=300)
    return out if result.returncode == 0 else result.stderr


def build_programs(out_dir):
    """Every flavour that builds here: {name: path}.  Raises when a flavour
    that must build does not."""
    built = {}
    for name, args in FLAVOURS.items():
        out = _compile(out_dir, name, args)
        if isinstance(out, str):
            assert name in OPTIONAL, f"gcc failed for {name}:\n{out}"
            continue
        built[name] = out
    strip = shutil.which("strip")
    if strip:
        stripped = out_dir / "O2-exe-stripped"
        shutil.copy(built["O2-exe"], stripped)
        subprocess.run([strip, str(stripped)], check=True)
        built["stripped"] = stripped
    for name in ("object", "O2-exe", "shared"):
        path = out_dir / f"{name}-big-endian"
        path.write_bytes(to_big_endian(built[name].read_bytes(), machine=22))  # EM_S390, for nm's generic target
        built[path.name] = path
    obj = built["object"].read_bytes()
    for flag, suffix in ((False, "xindex"), (True, "xindex-extnum")):
        path = out_dir / f"object-{suffix}"
        path.write_bytes(with_shndx_table(obj, [b"g_func", b"s_data", b"hot_func", b"tls_bss"], flag))
        built[path.name] = path
    return built


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    if GCC is None or NM is None:
        pytest.skip("needs gcc and nm (binutils)")
    return build_programs(tmp_path_factory.mktemp("elf_programs"))


FLAVOUR_NAMES = list(FLAVOURS) + ["stripped", "object-big-endian", "O2-exe-big-endian", "shared-big-endian",
                                  "object-xindex", "object-xindex-extnum"]


# ---- compiled programs: C == Python == nm -----------------------------------------

@needs_tools
@pytest.mark.parametrize("flavour", FLAVOUR_NAMES)
def test_compiled_program(programs, flavour):
    if flavour not in programs:
        pytest.skip(f"gcc cannot build {flavour} here")
    path = programs[flavour]
    got = check_against_nm(path, "auto")
    names = {name for _, _, _, name in got}
    if flavour != "stripped" and "shared" not in flavour:
        assert {b"g_func", b"s_data", b"hot_func", b"g_common", b"tls_bss"} <= names
    data = path.read_bytes()
    if elf.ElfFile(data).first(elf.SHT_DYNSYM) is not None:
        check_against_nm(path, "dynsym")
    else:
        assert both(data, "dynsym") == []
    if has_symtab(data):
        assert both(data, "symtab") == both(data, "auto")
    else:
        assert both(data, "symtab") == []


@needs_tools
def test_letters_of_the_object(programs):
    """The program's symbols get the letters nm gives them: every rule of the
    common cases is exercised (so the comparison with nm is not vacuous)."""
    got = {name: (address, size, letter) for address, size, letter, name in both(programs["object"].read_bytes())}
    expected = {b"s_func": "t", b"g_func": "T", b"w_func": "W", b"w_data": "V", b"ifunc_sym": "i", b"s_data": "d",
                b"g_data": "D", b"s_bss": "b", b"g_bss": "C", b"g_ro": "R", b"s_ro": "r", b"g_common": "C",
                b"tls_data": "D", b"tls_bss": "B", b"hot_func": "T", b"unique_obj": "u", b"abs_global": "A",
                b"abs_local": "a", b"api@VERS_1": "T", b"api@@VERS_2": "T"}
    assert {name: got[name][2] for name in expected} == expected
    assert got[b"g_common"][:2] == (4, 4)  # address shown as the size, as nm does
    assert got[b"abs_global"][0] == 0x1234


@needs_tools
def test_shared_library_versions(programs):
    """.dynsym names hold no versions; .symtab names of versioned definitions do."""
    data = programs["shared"].read_bytes()
    dynsym = {name for _, _, _, name in both(data, "dynsym")}
    symtab = {name for _, _, _, name in both(data, "symtab")}
    assert {b"api", b"VERS_1", b"VERS_2", b"g_func"} <= dynsym
    assert {b"api@VERS_1", b"api@@VERS_2"} <= symtab
    assert b"s_func" in symtab and b"s_func" not in dynsym


@needs_tools
def test_input_types(programs):
    data = programs["object"].read_bytes()
    expected = elf.read_symbols(data)
    for form in (bytearray(data), memoryview(data)):
        assert elf.read_symbols(form) == expected
        assert elf.read_symbols_c(form) == expected
    for read in (elf.read_symbols, elf.read_symbols_c):
        with pytest.raises(ValueError):
            read(data, "both")


# ---- the letter rules, one by one, against nm ---------------------------------------

RULES_ASM = r"""
    .set abs_local, 0x1234
    .globl abs_global
    .set abs_global, 0x5678
    .data
    .globl uobj
    .type uobj, @gnu_unique_object
uobj: .long 1
    .size uobj, 4
    .weak wobj
    .type wobj, @object
wobj: .long 2
    .weak wcommon_type
    .type wcommon_type, @common
wcommon_type: .long 3
    .text
    .weak wifn
    .type wifn, @gnu_indirect_function
wifn: ret
    .globl gifn
    .type gifn, @gnu_indirect_function
gifn: ret
    .weak wfn
    .type wfn, @function
wfn: ret
    .weak wnotype
wnotype: ret
    .globl gfn
    .type gfn, @function
gfn: call wfn
    ret
    .section .debug_foo,"",@progbits
dbg: .byte 0
    .globl dbg_g
dbg_g: .byte 0
    .section .line_x,"",@progbits
line_sym: .byte 0
    .section .qtabx,"",@progbits
stab_sym: .byte 0
    .section .gdb_index,"",@progbits
gdbidx: .byte 0
    .section .gdb_indexx,"",@progbits
gdbidxx: .byte 0
    .section .comment_x,"",@progbits
cmt: .byte 0
    .section .nw,"w",@progbits
nw: .byte 0
    .section .nb,"",@nobits
nb: .byte 0
    .section .nbx,"ax",@nobits
nbx: .byte 0
    .section .note.foo,"a",@note
note: .byte 0
    .section .idata$2,"aw",@progbits
idata: .byte 0
    .globl gidata
gidata: .byte 0
    .section .edata5,"a",@progbits
edata: .byte 0
    .section .pdata.x,"ax",@progbits
pdata: .byte 0
    .section .drectve,"",@progbits
drectve: .byte 0
    .section .idatax,"aw",@progbits
idatax: .byte 0
    .section .zdebug_x,"",@progbits
zdebug: .byte 0
    .section .gnu.debuglto_.debug_x,"",@progbits
dlto: .byte 0
    .section .gnu.linkonce.wi.x,"",@progbits
lowi: .byte 0
    .section .debugfoo,"w",@progbits
debugw: .byte 0
    .section .wx,"awx",@progbits
wx: .byte 0
    .section .tdata,"awT",@progbits
    .type tdat, @object
tdat: .long 0
    .section .rodata
    .globl gro
gro: .long 0
    .section .lbss,"aw",@nobits
lbss_sym: .zero 8
    .local lcm
    .comm lcm,8,8
    .comm gcm,16,16
"""
LARGE_COMMON = "    .largecomm lc, 100000, 32\n"


@pytest.fixture(scope="module")
def rules_objects(tmp_path_factory):
    """The rules assembled for x86-64 (with a large common), i386 and x32
    (those skipped when as cannot): {name: path}."""
    if AS is None or NM is None:
        pytest.skip("needs as and nm (binutils)")
    out = tmp_path_factory.mktemp("elf_rules")
    built = {}
    for name, flags, extra in (("x86-64", [], LARGE_COMMON), ("i386", ["--32"], ""), ("x32", ["--x32"], LARGE_COMMON)):
        src = out / f"{name}.s"
        src.write_text(RULES_ASM + extra)
        result = subprocess.run([AS, *flags, str(src), "-o", str(out / f"{name}.o")], capture_output=True, text=True)
        if result.returncode == 0:
            built[name] = out / f"{name}.o"
        else:
            assert name != "x86-64", result.stderr
    return built


def test_rules_as_assembled(rules_objects):
    for path in rules_objects.values():
        got = {name: letter for _, _, letter, name in check_against_nm(path)}
        assert got[b"nw"] == "?" and got[b"dbg"] == "N" and got[b"cmt"] == "n" and got[b"gidata"] == "I"


def _changed(tmp_path, source, name, change):
    m = Elf(source.read_bytes())
    change(m)
    path = tmp_path / name
    path.write_bytes(m.bytes())
    return path


CHANGES = {
    # a symbol in a section BFD makes no section of is absolute
    "in-symtab": lambda m: m.set_sym(b"cmt", "shndx", m.f.first(elf.SHT_SYMTAB)),
    "in-strtab": lambda m: m.set_sym(b"dbg", "shndx", m.symtab()[2][elf.SHDR_LINK]),
    "in-shstrtab": lambda m: m.set_sym(b"dbg_g", "shndx", m.f.shstrndx),
    "in-null-section": lambda m: (m.set_sh(m.index[b".nw"], "type", elf.SHT_NULL), None)[1],
    "in-relocations": lambda m: m.set_sym(b"cmt", "shndx", m.index[b".rela.text"]),
    "in-relocations-without-target": lambda m: (m.set_sym(b"cmt", "shndx", m.index[b".rela.text"]),
                                                m.set_sh(m.index[b".rela.text"], "info", 0)),
    "in-relocations-of-relocations": lambda m: (m.set_sym(b"cmt", "shndx", m.index[b".rela.text"]),
                                                m.set_sh(m.index[b".rela.text"], "info", m.index[b".rela.text"])),
    "reserved-index": lambda m: m.set_sym(b"dlto", "shndx", 0xFF05),
    "large-common-index": lambda m: m.set_sym(b"edata", "shndx", elf.SHN_X86_64_LCOMMON),
    "index-past-the-sections": lambda m: m.set_sym(b"drectve", "shndx", 0x7000),
    "binding-3": lambda m: m.set_sym(b"wx", "info", 0x31),
    "binding-11": lambda m: m.set_sym(b"gro", "info", 0xB1),
    "weak-ifunc": lambda m: m.set_sym(b"idatax", "info", 0x2A),
    "unique-function": lambda m: m.set_sym(b"tdat", "info", 0xA2),
    "osabi-none": lambda m: m.d.__setitem__(7, 0),
    "other-machine": lambda m: m.put(18, "H", 0xBEEF),
    "section-addresses": lambda m: [m.set_sh(m.index[n], "addr", 0x100000 + m.index[n])
                                    for n in (b".data", b".text", b".debug_foo")],
    "renamed-stab": lambda m: _rename(m, b".qtabx", b".stabx"),
    "renamed-line": lambda m: _rename(m, b".comment_x", b".lineXXXXX"),
}
# the same changes in a file of another e_type
E_TYPES = {"exec": elf.ET_EXEC, "dyn": elf.ET_DYN}


def _rename(m, old, new):
    assert len(old) == len(new)
    at = m.f.sections[m.f.shstrndx][elf.SHDR_OFFSET] + m.f.sections[m.index[old]][elf.SHDR_NAME]
    m.d[at:at + len(old)] = new


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_rules_changed_fields(rules_objects, tmp_path, change):
    source = rules_objects["x86-64"]
    if "relocations" in change:  # rules.o has .rela.text: gfn calls the weak wfn
        assert b".rela.text" in Elf(source.read_bytes()).index
    check_against_nm(_changed(tmp_path, source, "changed.o", CHANGES[change]))
    for e_type, value in E_TYPES.items():
        def both_changes(m, value=value):
            CHANGES[change](m)
            m.put(16, "H", value)
        check_against_nm(_changed(tmp_path, source, f"changed-{e_type}.o", both_changes))


def test_rules_big_endian(rules_objects, tmp_path):
    """Big-endian copies: nm reads them with its generic target, which knows
    no x86-64 large common (the large common is then absolute)."""
    for name, path in rules_objects.items():
        for machine in (None, 43):  # as assembled (x86-64 / i386 big-endian: no such target), SPARC V9
            big = tmp_path / f"{name}-{machine}.o"
            big.write_bytes(to_big_endian(path.read_bytes(), machine))
            check_against_nm(big)


def test_many_sections(tmp_path):
    """More than 65280 sections: extended numbering in section 0, SHN_XINDEX
    through the SHT_SYMTAB_SHNDX table, as the assembler writes them."""
    if AS is None or NM is None:
        pytest.skip("needs as and nm (binutils)")
    lines = [f'.section .s{i},"a"' for i in range(65300)]
    lines.append('.section .text.high,"ax",@progbits\n.globl high\nhigh: ret\n.section .data.high,"aw"\n'
                 'low: .long 1\n.comm common_sym,8,8\n.section .s3,"a"\nthird: .byte 1\n')
    src = tmp_path / "many.s"
    src.write_text("\n".join(lines))
    subprocess.run([AS, str(src), "-o", str(tmp_path / "many.o")], check=True)
    data = (tmp_path / "many.o").read_bytes()
    assert struct.unpack_from("<H", data, 0x3C)[0] == 0  # e_shnum: extended
    got = check_against_nm(tmp_path / "many.o")
    assert {name: letter for _, _, letter, name in got} == {b"high": "T", b"low": "d", b"common_sym": "C",
                                                            b"third": "r"}
    m = Elf(data)
    m.set_sh(m.f.first(elf.SHT_SYMTAB_SHNDX), "size", 4)  # too short for the symbols that use it
    reason, offset = rejected(m.bytes())
    assert "no entry in the extended section index table" in reason


# ---- real files on this machine ------------------------------------------------------

def _real_files():
    found = []
    for pattern in ("/usr/bin/python3*", "/usr/local/bin/python3*"):
        for p in sorted(Path("/").glob(pattern.lstrip("/")))[:2]:
            if p.is_file():
                found.append(("python", p.resolve()))
    for p in ("/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/lib64/libc.so.6",
              "/usr/lib64/libc.so.6", "/lib/aarch64-linux-gnu/libc.so.6"):
        if Path(p).is_file():
            found.append(("libc", Path(p).resolve()))
            break
    modules = sorted(Path("/lib/modules").glob("*/kernel/**/*.ko")) if Path("/lib/modules").is_dir() else []
    rng = random.Random(6)
    for p in rng.sample(modules, min(5, len(modules))):
        found.append(("module", p))
    for pattern in ("boot/vmlinux-*", "usr/lib/debug/boot/vmlinux-*", "usr/lib/debug/lib/modules/*/vmlinux",
                    "lib/modules/*/build/vmlinux"):
        for p in sorted(Path("/").glob(pattern))[:1]:
            if p.is_file() and p.read_bytes()[:4] == b"\x7fELF":
                found.append(("vmlinux", p))
    return found


REAL_KINDS = ["python", "libc", "module", "vmlinux"]


@needs_tools
@pytest.mark.parametrize("kind", REAL_KINDS)
def test_real_files(kind):
    paths = [p for k, p in _real_files() if k == kind]
    if not paths:
        pytest.skip(f"no {kind} ELF file on this machine")
    for path in paths:
        with open(path, "rb") as f:
            if f.read(4) != b"\x7fELF":
                continue
        check_against_nm(path, "auto")
        if elf.ElfFile(path.read_bytes()).first(elf.SHT_DYNSYM) is not None:
            check_against_nm(path, "dynsym")


# ---- malformed files -----------------------------------------------------------------

@pytest.fixture(scope="module")
def samples(programs):
    """Small valid files of each class and byte order."""
    chosen = ["object", "O2-exe", "shared", "object-big-endian", "object-xindex"]
    chosen += [n for n in ("m32-object", "m32-exe") if n in programs]
    return {name: programs[name].read_bytes() for name in chosen}


def boundaries(data):
    """Lengths at which a truncation cuts a structure: around the header, each
    section header, and each section's start and end."""
    f = elf.ElfFile(data)
    points = set(range(0, 70))
    for i, s in enumerate(f.sections):
        for at in (f.shdr_at(i), f.shdr_at(i) + f.lay.shdr_size, s[elf.SHDR_OFFSET],
                   s[elf.SHDR_OFFSET] + s[elf.SHDR_SIZE]):
            points.update((at - 1, at, at + 1))
    return sorted(p for p in points if 0 <= p < len(data))


@needs_tools
def test_truncated(samples):
    """Every truncation is rejected (the section headers come last in these
    files) by both readers with the same message and offset."""
    for name, data in samples.items():
        lengths = set(boundaries(data)) | set(random.Random(name).sample(range(len(data)), 200))
        for n in sorted(lengths):
            reason, offset = rejected(data[:n])
            assert offset is not None and (offset < max(n, 6)), (name, n, reason, offset)


MALFORMED = {
    # name: (change, words the message holds, offset of the bad field)
    "bad-magic": (lambda m: m.d.__setitem__(0, 0x7E), "bad magic", lambda m: 0),
    "bad-class": (lambda m: m.d.__setitem__(4, 3), "class", lambda m: 4),
    "bad-encoding": (lambda m: m.d.__setitem__(5, 0), "data encoding", lambda m: 5),
    "shentsize": (lambda m: m.put(m.lay.shentsize_at, "H", m.lay.shdr_size + 1), "entry size",
                  lambda m: m.lay.shentsize_at),
    "section-headers-past-the-end": (lambda m: m.put(m.lay.shoff_at, m.word(), len(m.d)), "section header table",
                                     lambda m: m.lay.shoff_at),
    "section-count-past-the-end": (lambda m: m.put(m.lay.shentsize_at + 2, "H", 0xFEFF), "section header table",
                                   lambda m: m.lay.shoff_at),
    "shstrndx-out-of-range": (lambda m: m.put(m.lay.shentsize_at + 4, "H", len(m.f.sections)), "out of range",
                              lambda m: m.lay.shentsize_at + 4),
    "shstrtab-not-strings": (lambda m: m.set_sh(m.f.shstrndx, "type", elf.SHT_PROGBITS), "not a string table",
                             lambda m: m.sh_field(m.f.shstrndx, "type")[0]),
    "shstrtab-past-the-end": (lambda m: m.set_sh(m.f.shstrndx, "size", len(m.d)), "runs past the end",
                              lambda m: m.sh_field(m.f.shstrndx, "offset")[0]),
    "section-name-outside": (lambda m: m.set_sh(1, "name", m.f.sections[m.f.shstrndx][elf.SHDR_SIZE]),
                             "outside the section name string table", lambda m: m.f.shdr_at(1)),
    "section-name-unterminated": (lambda m: (m.set_sh(1, "name", m.f.sections[m.f.shstrndx][elf.SHDR_SIZE] - 1),
                                             m.d.__setitem__(m.f.sections[m.f.shstrndx][elf.SHDR_OFFSET]
                                                             + m.f.sections[m.f.shstrndx][elf.SHDR_SIZE] - 1, 0x41)),
                                  "NUL", lambda m: m.f.shdr_at(1)),
    "symtab-entsize": (lambda m: m.set_sh(m.symtab()[0], "entsize", m.lay.sym_size - 1), "entry size",
                       lambda m: m.sh_field(m.symtab()[0], "entsize")[0]),
    "symtab-size": (lambda m: m.set_sh(m.symtab()[0], "size", m.symtab()[2][elf.SHDR_SIZE] + 1), "not a multiple",
                    lambda m: m.sh_field(m.symtab()[0], "size")[0]),
    "symtab-past-the-end": (lambda m: m.set_sh(m.symtab()[0], "offset", len(m.d) - m.lay.sym_size),
                            "symbol table", lambda m: m.sh_field(m.symtab()[0], "offset")[0]),
    "symtab-link-out-of-range": (lambda m: m.set_sh(m.symtab()[0], "link", len(m.f.sections)), "out of range",
                                 lambda m: m.sh_field(m.symtab()[0], "link")[0]),
    "symtab-link-zero": (lambda m: m.set_sh(m.symtab()[0], "link", 0), "out of range",
                         lambda m: m.sh_field(m.symtab()[0], "link")[0]),
    "strtab-not-strings": (lambda m: m.set_sh(m.symtab()[2][elf.SHDR_LINK], "type", elf.SHT_PROGBITS),
                           "not a string table", lambda m: m.sh_field(m.symtab()[2][elf.SHDR_LINK], "type")[0]),
    "strtab-past-the-end": (lambda m: m.set_sh(m.symtab()[2][elf.SHDR_LINK], "offset", len(m.d) - 1),
                            "string table", lambda m: m.sh_field(m.symtab()[2][elf.SHDR_LINK], "offset")[0]),
    "strtab-empty": (lambda m: m.set_sh(m.symtab()[2][elf.SHDR_LINK], "size", 0), "empty",
                     lambda m: m.sh_field(m.symtab()[2][elf.SHDR_LINK], "size")[0]),
    "strtab-without-final-nul": (lambda m: m.d.__setitem__(_strtab_end(m) - 1, 0x41), "does not end with a NUL",
                                 lambda m: _strtab_end(m) - 1),
    "name-outside-strtab": (lambda m: m.set_sym(b"g_func", "name", _strtab_size(m)), "outside the string table",
                            lambda m: m.symbol_at(b"g_func")),
    "xindex-without-table": (lambda m: m.set_sym(b"g_func", "shndx", elf.SHN_XINDEX), "SHT_SYMTAB_SHNDX",
                             lambda m: m.sym_field(b"g_func", "shndx")[0]),
}


def _strtab_size(m):
    return m.f.sections[m.symtab()[2][elf.SHDR_LINK]][elf.SHDR_SIZE]


def _strtab_end(m):
    s = m.f.sections[m.symtab()[2][elf.SHDR_LINK]]
    return s[elf.SHDR_OFFSET] + s[elf.SHDR_SIZE]


@needs_tools
@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed(samples, case):
    change, words, where = MALFORMED[case]
    for name in ("object", "O2-exe", "object-big-endian", "m32-object"):
        if name not in samples:
            continue
        m = Elf(samples[name])
        expected_offset = where(m)
        change(m)
        reason, offset = rejected(m.bytes())
        assert words in reason, (name, reason)
        assert offset == expected_offset, (name, reason)
        # the ElfError carries both, and its text says them
        with pytest.raises(ElfError, match=str(offset)):
            elf.read_symbols_c(m.bytes())


def test_not_elf():
    for data in (b"", b"\x7fEL", b"\x7fELF", b"\x7fELF\x02", b"\x7fELF\x02\x01" + b"\0" * 10, b"MZ" + b"\0" * 100):
        rejected(data)
    assert both(b"\x7fELF\x02\x01\x01" + b"\0" * 57) == []  # a bare 64-bit header: no section headers


@needs_tools
def test_damaged_files_same_answer(samples):
    """Random damage (fields of the headers, bytes anywhere, truncation): the
    two readers give the same symbols or the same error."""
    rng = random.Random(66)
    datas = list(samples.values())
    errors = 0
    for _ in range(int(os.environ.get("PYSYMS_ELF_DAMAGE_RUNS", "1500"))):
        d = bytearray(rng.choice(datas))
        for _ in range(rng.randint(1, 4)):
            r = rng.random()
            if r < 0.15:
                d = d[:rng.randrange(len(d) + 1)]
                continue
            if not d:
                break
            if r < 0.4:
                pos = rng.randrange(min(len(d), 64))
            elif r < 0.8:
                pos = len(d) - 1 - rng.randrange(min(len(d), 4096))  # the section headers
            else:
                pos = rng.randrange(len(d))
            d[pos] = rng.choice([0, 0xFF, rng.randrange(256), d[pos] ^ (1 << rng.randrange(8))])
        which = rng.choice(["auto", "symtab", "dynsym"])
        errors += isinstance(both(bytes(d), which), tuple)
    assert errors > 100  # the damage reaches the checks


# ---- ksym_elf_add --------------------------------------------------------------------

def _native():
    try:
        from pysyms._native import ffi, lib
    except ImportError as exc:
        pytest.skip(f"pysyms C extension not importable: {exc}")
    return ffi, lib


def _add(ffi, lib, data, builder, module=None, which="auto"):
    code = {"auto": lib.KSYM_ELF_AUTO, "symtab": lib.KSYM_ELF_SYMTAB, "dynsym": lib.KSYM_ELF_DYNSYM}[which]
    skipped = ffi.new("uint64_t *")
    where = ffi.new("uint64_t *")
    msg = ffi.new("char[]", 256)
    mod = module.encode() if module else ffi.NULL
    rc = lib.ksym_elf_add(ffi.from_buffer(data), len(data), code, builder, mod, len(module or ""), skipped,
                          msg, 256, where)
    return rc, skipped[0], ffi.string(msg).decode(), where[0]


def _table_records(ffi, lib, builder):
    out = ffi.new("struct ksym_table **")
    assert lib.ksym_builder_finish(builder, out) == 0
    t = out[0]
    records = []
    addr, letter, module = ffi.new("uint64_t *"), ffi.new("char *"), ffi.new("int32_t *")
    name = ffi.new("char[]", 600)
    for i in range(lib.ksym_count(t)):
        n = lib.ksym_symbol(t, i, addr, letter, module, name, 600)
        size = lib.ksym_size(t, i) if hasattr(lib, "ksym_size") else None
        mod = ffi.string(lib.ksym_module_name(t, module[0])).decode() if module[0] >= 0 else None
        records.append((addr[0], size, letter[0].decode(), ffi.unpack(name, n), mod))
    lib.ksym_table_free(t)
    return sorted(records, key=lambda r: (r[0], r[3], r[2]))


@needs_tools
def test_elf_add(programs):
    ffi, lib = _native()
    data = programs["O2-exe"].read_bytes()
    m = Elf(data)
    # names the builder cannot hold: empty, with a space
    m.set_sym(b"s_func", "name", 0)
    name_at = m.f.sections[m.symtab()[2][elf.SHDR_LINK]][elf.SHDR_OFFSET] + m.get(m.sym_field(b"g_bss", "name")[0],
                                                                                   "I")
    m.d[name_at + 1] = ord(" ")
    data = m.bytes()
    symbols = elf.read_symbols(data)
    kept = [s for s in symbols if s[3] and b" " not in s[3]]
    assert len(symbols) - len(kept) >= 2
    b = lib.ksym_builder_new()
    try:
        rc, skipped, msg, where = _add(ffi, lib, data, b, module="prog")
        assert (rc, skipped, where) == (len(kept), len(symbols) - len(kept), 0xFFFFFFFFFFFFFFFF), msg
        assert lib.ksym_builder_count(b) == len(kept)
        records = _table_records(ffi, lib, b)
    finally:
        lib.ksym_builder_free(b)
    has_sizes = hasattr(lib, "ksym_size")
    expected = sorted(((a, s if has_sizes else None, t, n, "prog") for a, s, t, n in kept),
                      key=lambda r: (r[0], r[3], r[2]))
    assert records == expected


@needs_tools
def test_elf_add_corrupt_keeps_nothing(programs):
    ffi, lib = _native()
    m = Elf(programs["object"].read_bytes())
    main_at = m.symbol_at(b"main")
    m.set_sym(b"main", "name", _strtab_size(m))  # a late symbol: the error comes after many good ones
    b = lib.ksym_builder_new()
    try:
        assert lib.ksym_builder_add(b, 0x10, b"T", b"first", 5, ffi.NULL, 0) == 0
        rc, skipped, msg, where = _add(ffi, lib, m.bytes(), b)
        assert rc == lib.KSYM_ECORRUPT and "outside the string table" in msg
        assert where == main_at
        assert lib.ksym_builder_count(b) == 1
        # a module name the builder refuses: its error, nothing kept
        rc, _, msg, _ = _add(ffi, lib, programs["object"].read_bytes(), b, module="bad module")
        assert rc == lib.KSYM_EBADMODULE and msg
        assert lib.ksym_builder_count(b) == 1
        # a table the file does not have adds nothing
        assert _add(ffi, lib, programs["object"].read_bytes(), b, which="dynsym")[:2] == (0, 0)
        assert lib.ksym_builder_count(b) == 1
    finally:
        lib.ksym_builder_free(b)


def test_c_arguments():
    ffi, lib = _native()
    out = ffi.new("struct ksym_elf_symbol[]", 1)
    assert lib.ksym_elf_symbols(ffi.NULL, 5, lib.KSYM_ELF_AUTO, out, 1, ffi.NULL, 0, ffi.NULL) == lib.KSYM_EINVAL
    assert lib.ksym_elf_symbols(b"\x7fELF", 4, 7, out, 1, ffi.NULL, 0, ffi.NULL) == lib.KSYM_EINVAL
    assert lib.ksym_elf_symbols(b"\x7fELF", 4, lib.KSYM_ELF_AUTO, ffi.NULL, 1, ffi.NULL, 0,
                                ffi.NULL) == lib.KSYM_EINVAL
    assert lib.ksym_elf_add(b"\x7fELF", 4, lib.KSYM_ELF_AUTO, ffi.NULL, ffi.NULL, 0, ffi.NULL, ffi.NULL, 0,
                            ffi.NULL) == lib.KSYM_EINVAL
    # no message buffer, no where: the error code alone
    assert lib.ksym_elf_symbols(b"junk", 4, lib.KSYM_ELF_AUTO, ffi.NULL, 0, ffi.NULL, 0,
                                ffi.NULL) == lib.KSYM_ECORRUPT
    # a short message buffer is NUL-terminated
    msg = ffi.new("char[]", 8)
    assert lib.ksym_elf_symbols(b"junk", 4, lib.KSYM_ELF_AUTO, ffi.NULL, 0, msg, 8, ffi.NULL) == lib.KSYM_ECORRUPT
    assert len(ffi.string(msg)) == 7
