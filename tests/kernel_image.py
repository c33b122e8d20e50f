"""A writer of kernel-image-like blobs holding kallsyms tables, for tests.

Given a :class:`pysyms.SymbolTable` (its ``kernel_arrays()`` and addresses)
and a :class:`Layout` (kernel era, word size, byte order, address
encoding), :func:`write` lays the arrays out the way scripts/kallsyms.c's
assembler output ends up in ``.rodata`` of that era: labels in the era's
order, each aligned (``.balign``, zero fill), integers in the target's byte
order, with unrelated bytes before and after.  :func:`wrap_elf` puts such a
blob into a minimal ELF file (one PROGBITS section, optionally a symbol
table with the ``kallsyms_*`` symbols).

Facts used (research note kernel-kallsyms.md, sections 1.1-1.9; checked
against scripts/kallsyms.c at 010a0aad39fc (6.2), the 6.4 reordering patch
"scripts/kallsyms: change the output order" and the 7.0 patch "kallsyms: Get
rid of kallsyms relative base"):

- order "old" (<= 6.3): addresses or offsets [+ relative_base], num_syms,
  names, markers, [seqs_of_names: 6.2, 6.3 and 6.1.y backports], token_table,
  token_index;
- order "6.4" (6.4 .. 6.19): num_syms, names, markers, token_table,
  token_index, addresses or offsets [+ relative_base], seqs_of_names;
- order "7.0": the same without relative_base; every label ``.balign 4``;
- before 7.0 labels are aligned to the word size (8 on 64-bit, 4 on 32-bit);
- num_syms and markers are ``.long`` since 4.20, pointer-sized before;
- name lengths take two bytes above 127 since 6.1;
- addresses: "absolute" (``kallsyms_addresses``, pointer-sized), "base-relative"
  (u32 offsets from ``kallsyms_relative_base`` = the first symbol's address),
  "absolute-percpu" (x86_64 4.6 .. 6.14: symbols typed 'A' stored as their
  value, the others as ``relative_base - 1 - address``, relative_base = the
  first symbol not typed 'A'), "place-relative" (7.0: s32 ``address -
  address of the entry``), "absolute32" (7.0, 32-bit non-relocatable: the
  u32 address).
"""

from __future__ import annotations

import random
import struct
from dataclasses import dataclass, field, replace

__all__ = ["Layout", "Blob", "write", "wrap_elf", "ERAS", "shipped_layouts", "sample_records", "ARRAY_NAMES"]

ARRAY_NAMES = ("kallsyms_num_syms", "kallsyms_names", "kallsyms_markers", "kallsyms_token_table",
               "kallsyms_token_index", "kallsyms_addresses", "kallsyms_offsets", "kallsyms_relative_base",
               "kallsyms_seqs_of_names")
ADDRESS_KINDS = ("absolute", "base-relative", "absolute-percpu", "place-relative", "absolute32")


@dataclass(frozen=True)
class Layout:
    """How the kernel of some era, word size and byte order lays out kallsyms."""

    order: str = "6.4"               # "old" (<= 6.3), "6.4" (6.4 .. 6.19), "7.0" (7.0+)
    seqs: bool = True                # kallsyms_seqs_of_names present (6.2+, 6.1.y backports)
    long_prefixes: bool = True       # two-byte name lengths (6.1+); else a longer record is an error
    addresses: str = "base-relative"  # one of ADDRESS_KINDS
    counts: int = 4                  # bytes of num_syms and of each marker: 4 (4.20+) or the word size
    word: int = 8                    # bytes per pointer
    endian: str = "little"
    align: int | None = None         # label alignment; None: 4 for 7.0, else the word size
    vaddr: int = 0xFFFFFFFF82000000  # virtual address of the blob's first byte
    lead: int = 200                  # about this many unrelated bytes before the tables
    trail: int = 200                 # ... and after
    seed: int = 0                    # for the unrelated bytes
    seqs_order: str = "full"         # "full", or the Clang LTO orders of 6.2 .. 6.10: "lto-dot", "lto-llvm"

    @property
    def alignment(self):
        if self.align is not None:
            return self.align
        return 4 if self.order == "7.0" else self.word

    def check(self):
        if self.order not in ("old", "6.4", "7.0"):
            raise ValueError(f"order {self.order!r}")
        if self.word not in (4, 8) or self.endian not in ("little", "big") or self.alignment not in (4, 8):
            raise ValueError("word, endian or align")
        if self.addresses not in ADDRESS_KINDS:
            raise ValueError(f"addresses {self.addresses!r}")
        if self.counts not in (4, self.word):
            raise ValueError("counts must be 4 or the word size")
        if self.order == "7.0" and self.addresses not in ("place-relative", "absolute32"):
            raise ValueError("7.0 stores place-relative offsets or (32-bit) absolute32 values")
        if self.order != "7.0" and self.addresses in ("place-relative", "absolute32"):
            raise ValueError(f"{self.addresses} exists only in 7.0+")
        if self.addresses == "absolute32" and self.word != 4:
            raise ValueError("absolute32 is for 32-bit kernels")
        if self.order != "old" and not self.seqs:
            raise ValueError("every 6.4+ kernel has seqs_of_names")
        if self.seqs_order not in ("full", "lto-dot", "lto-llvm"):
            raise ValueError(f"seqs_order {self.seqs_order!r}")


@dataclass
class Blob:
    """A written blob: its bytes, each array's byte offset (the values an ELF
    symbol table would give, relative to the blob), its layout and vaddr."""

    data: bytes
    offsets: dict
    sizes: dict
    layout: Layout
    vaddr: int
    records: list = field(default_factory=list)  # (address, type, name) in table order


def _int(value, size, endian):
    return value.to_bytes(size, endian)


def _pad_to(buf, alignment, vaddr):
    while (vaddr + len(buf)) % alignment:
        buf.append(0)


def _encode_addresses(layout, addresses, types, pos_vaddr):
    """(array bytes, relative_base or None) of an address encoding; pos_vaddr
    is the virtual address of the array (place-relative)."""
    e, w = layout.endian, layout.word
    kind = layout.addresses
    out = bytearray()
    if kind == "absolute":
        for a in addresses:
            if a >= 1 << (8 * w):
                raise ValueError(f"address {a:#x} does not fit {w} bytes")
            out += _int(a, w, e)
        return bytes(out), None
    if kind == "absolute32":
        for a in addresses:
            if a >= 1 << 32:
                raise ValueError(f"address {a:#x} does not fit 32 bits")
            out += _int(a, 4, e)
        return bytes(out), None
    if kind == "base-relative":
        base = addresses[0]
        for a in addresses:
            off = a - base
            if not 0 <= off <= 0xFFFFFFFF:
                raise ValueError(f"address {a:#x} out of range of the relative base {base:#x}")
            out += _int(off, 4, e)
        return bytes(out), base
    if kind == "absolute-percpu":
        relative = [a for a, t in zip(addresses, types) if t != "A"]
        if not relative:
            raise ValueError("absolute-percpu needs a symbol not typed 'A'")
        base = relative[0]
        for a, t in zip(addresses, types):
            if t == "A":
                if not 0 <= a <= 0x7FFFFFFF:
                    raise ValueError(f"per-cpu address {a:#x} above INT_MAX")
                value = a
            else:
                value = base - a - 1
                if not -(1 << 31) <= value < 0:
                    raise ValueError(f"address {a:#x} out of range of the relative base {base:#x}")
            out += _int(value & 0xFFFFFFFF, 4, e)
        return bytes(out), base
    # place-relative: the linker stores address - address of the entry
    mask = (1 << (8 * w)) - 1
    for i, a in enumerate(addresses):
        value = (a - (pos_vaddr + 4 * i)) & mask
        if value >= 1 << (8 * w - 1):
            value -= 1 << (8 * w)
        if not -(1 << 31) <= value < 1 << 31:
            raise ValueError(f"address {a:#x} out of s32 range of its entry")
        out += _int(value & 0xFFFFFFFF, 4, e)
    return bytes(out), None


def write(table, layout=Layout()):
    """The blob for a pysyms.SymbolTable (core-kernel symbols only) in a layout."""
    layout.check()
    arrays = table.kernel_arrays()
    symbols = list(table)
    n = len(symbols)
    if n == 0:
        raise ValueError("an empty table")
    addresses = [s.address for s in symbols]
    types = [s.type for s in symbols]
    e, w, a, cw = layout.endian, layout.word, layout.alignment, layout.counts

    names = arrays["names"]
    if not layout.long_prefixes:
        pos = 0
        for _ in range(n):
            if names[pos] & 0x80:
                raise ValueError("a record needs a two-byte length, which this era lacks")
            pos += 1 + names[pos]
    marker_values = struct.unpack(f"<{len(arrays['markers']) // 4}I", arrays["markers"])
    markers = b"".join(_int(m, cw, e) for m in marker_values)
    token_index = b"".join(_int(v, 2, e) for v in struct.unpack("<256H", arrays["token_index"]))
    token_table = arrays["token_table"]
    seqs = arrays["seqs_of_names"]
    if layout.seqs_order != "full":
        seqs = lto_seqs(symbols, layout.seqs_order)
    addr_label = "kallsyms_addresses" if layout.addresses == "absolute" else "kallsyms_offsets"

    rng = random.Random(layout.seed)
    buf = bytearray(rng.randbytes(layout.lead + rng.randrange(8)))
    offsets = {}
    sizes = {}

    def put(label, data):
        _pad_to(buf, a, layout.vaddr)
        offsets[label] = len(buf)
        sizes[label] = len(data)
        buf.extend(data)

    def put_addresses():
        _pad_to(buf, a, layout.vaddr)
        encoded, base = _encode_addresses(layout, addresses, types, layout.vaddr + len(buf))
        put(addr_label, encoded)
        if base is not None:
            put("kallsyms_relative_base", _int(base, w, e))

    head = [("kallsyms_num_syms", _int(n, cw, e)), ("kallsyms_names", names), ("kallsyms_markers", markers)]
    tokens = [("kallsyms_token_table", token_table), ("kallsyms_token_index", token_index)]
    if layout.order == "old":
        put_addresses()
        for label, data in head:
            put(label, data)
        if layout.seqs:
            put("kallsyms_seqs_of_names", seqs)
        for label, data in tokens:
            put(label, data)
    else:
        for label, data in head + tokens:
            put(label, data)
        put_addresses()
        put("kallsyms_seqs_of_names", seqs)
    buf += rng.randbytes(layout.trail + rng.randrange(8))
    records = [(s.address, s.type, s.name) for s in symbols]
    return Blob(bytes(buf), offsets, sizes, layout, layout.vaddr, records)


def _cut(name, order):
    raw = name.encode("utf-8", "surrogateescape")
    i = raw.find(b"." if order == "lto-dot" else b".llvm.")
    return raw if i < 0 else raw[:i]


def lto_seqs(symbols, order):
    """kallsyms_seqs_of_names as 6.2 .. 6.10 built it with CONFIG_LTO_CLANG:
    sorted by the name cut at the first '.' ("lto-dot", 6.2 .. 6.4) or at
    the first ".llvm." ("lto-llvm", later), then address, then index."""
    keys = sorted(range(len(symbols)), key=lambda i: (_cut(symbols[i].name, order), symbols[i].address, i))
    return b"".join(i.to_bytes(3, "big") for i in keys)


# ---- ELF ----------------------------------------------------------------------

MACHINES = {(8, "little"): 62, (8, "big"): 22, (4, "little"): 40, (4, "big"): 8}  # x86_64, s390, arm, mips


def wrap_elf(blob, *, symtab=True, machine=None):
    """A minimal ELF file (class and byte order from the blob's layout) with
    the blob as its one PROGBITS section ".rodata" at the blob's vaddr, one
    PT_LOAD segment for it, and (symtab=True) .symtab/.strtab holding the
    kallsyms_* symbols.  Returns (elf bytes, {array name: file offset})."""
    lay = blob.layout
    w, e = lay.word, "<" if lay.endian == "little" else ">"
    machine = machine if machine is not None else MACHINES[(w, lay.endian)]
    ehsize, phentsize, shentsize = (64, 56, 64) if w == 8 else (52, 32, 40)
    data_off = 0x1000 + blob.vaddr % 0x1000
    shstr = bytearray(b"\0")

    def sname(name):
        off = len(shstr)
        shstr.extend(name.encode() + b"\0")
        return off

    out = bytearray(data_off)
    out[data_off:] = blob.data
    sections = [(0, 0, 0, 0, 0, 0, 0, 0, 0, 0)]  # name, type, flags, addr, offset, size, link, info, align, entsize
    sections.append((sname(".rodata"), 1, 2, blob.vaddr, data_off, len(blob.data), 0, 0, 64, 0))
    if symtab:
        strtab = bytearray(b"\0")
        syms = [b"\0" * (24 if w == 8 else 16)]
        for label in sorted(blob.offsets, key=blob.offsets.get):
            name_off = len(strtab)
            strtab.extend(label.encode() + b"\0")
            value, size = blob.vaddr + blob.offsets[label], blob.sizes[label]
            if w == 8:
                syms.append(struct.pack(e + "IBBHQQ", name_off, 0x11, 0, 1, value, size))
            else:
                syms.append(struct.pack(e + "IIIBBH", name_off, value, size, 0x11, 0, 1))
        while len(out) % 8:
            out.append(0)
        symtab_off = len(out)
        out += b"".join(syms)
        strtab_off = len(out)
        out += strtab
        n_sections = len(sections)
        sections.append((sname(".symtab"), 2, 0, 0, symtab_off, len(out) - symtab_off - len(strtab),
                         n_sections + 1, 1, 8, 24 if w == 8 else 16))
        sections.append((sname(".strtab"), 3, 0, 0, strtab_off, len(strtab), 0, 0, 1, 0))
    shstrndx = len(sections)
    shstr_name = sname(".shstrtab")
    shstr_off = len(out)
    out += shstr
    sections.append((shstr_name, 3, 0, 0, shstr_off, len(shstr), 0, 0, 1, 0))
    while len(out) % 8:
        out.append(0)
    shoff = len(out)
    for s in sections:
        if w == 8:
            out += struct.pack(e + "IIQQQQIIQQ", *s)
        else:
            out += struct.pack(e + "IIIIIIIIII", *s)
    phoff = ehsize
    ident = b"\x7fELF" + bytes([2 if w == 8 else 1, 1 if lay.endian == "little" else 2, 1, 0]) + b"\0" * 8
    if w == 8:
        header = ident + struct.pack(e + "HHIQQQIHHHHHH", 2, machine, 1, blob.vaddr, phoff, shoff, 0, ehsize,
                                     phentsize, 1, shentsize, len(sections), shstrndx)
        phdr = struct.pack(e + "IIQQQQQQ", 1, 4, data_off, blob.vaddr, blob.vaddr, len(blob.data),
                           len(blob.data), 0x1000)
    else:
        header = ident + struct.pack(e + "HHIIIIIHHHHHH", 2, machine, 1, blob.vaddr, phoff, shoff, 0, ehsize,
                                     phentsize, 1, shentsize, len(sections), shstrndx)
        phdr = struct.pack(e + "IIIIIIII", 1, data_off, blob.vaddr, blob.vaddr, len(blob.data), len(blob.data),
                           4, 0x1000)
    out[0:len(header)] = header
    out[phoff:phoff + len(phdr)] = phdr
    return bytes(out), {label: data_off + off for label, off in blob.offsets.items()}


# ---- the layouts the kernel shipped ------------------------------------------------

ARCHES = {  # word, endian -> (name, 32-bit non-relocatable kernels exist)
    (8, "little"): "x86_64/arm64/riscv64",
    (8, "big"): "s390x/ppc64",
    (4, "little"): "arm/x86_32",
    (4, "big"): "mips/ppc32",
}

# era -> (order, seqs, long_prefixes, counts are pointer-sized, address kinds)
ERAS = {
    "2.6.10-4.5": ("old", False, False, True, ("absolute",)),
    "4.6-4.19": ("old", False, False, True, ("absolute", "base-relative", "absolute-percpu")),
    "4.20-6.0": ("old", False, False, False, ("absolute", "base-relative", "absolute-percpu")),
    "6.1": ("old", False, True, False, ("absolute", "base-relative", "absolute-percpu")),
    "6.2-6.3": ("old", True, True, False, ("absolute", "base-relative", "absolute-percpu")),  # and 6.1.y backports
    "6.4-6.10": ("6.4", True, True, False, ("absolute", "base-relative", "absolute-percpu")),
    "6.11-6.14": ("6.4", True, True, False, ("base-relative", "absolute-percpu")),
    "6.15-6.19": ("6.4", True, True, False, ("base-relative",)),
    "7.0": ("7.0", True, True, False, ("place-relative", "absolute32")),
}


def shipped_layouts():
    """(id, Layout) for every combination of era, address encoding, word size
    and byte order the kernel shipped: absolute-percpu only on x86_64 (64-bit
    little-endian), absolute32 only on 32-bit kernels (not relocatable),
    place-relative on 64-bit and on relocatable 32-bit kernels."""
    out = []
    for era, (order, seqs, long_prefixes, ptr_counts, kinds) in ERAS.items():
        for (word, endian), arch in ARCHES.items():
            for kind in kinds:
                if kind == "absolute-percpu" and (word, endian) != (8, "little"):
                    continue
                if kind == "absolute32" and word != 4:
                    continue
                if kind == "absolute" and era != "2.6.10-4.5" and (word, endian) != (8, "little"):
                    continue  # after 4.6 only ia64 (and 64-bit tile) kept absolute addresses
                vaddr = 0xFFFFFFFF82000000 if word == 8 else 0xC1000000
                lay = Layout(order=order, seqs=seqs, long_prefixes=long_prefixes, addresses=kind,
                             counts=word if ptr_counts else 4, word=word, endian=endian, vaddr=vaddr,
                             seed=len(out))
                out.append((f"{era}-{kind}-{word * 8}{'le' if endian == 'little' else 'be'}", lay))
    return out


# ---- sample symbols -------------------------------------------------------------------

_WORDS = ("sched", "irq", "mem", "page", "alloc", "free", "lock", "init", "exit", "vfs", "read", "write", "net",
          "dev", "tcp", "udp", "ip4", "ip6", "x86", "cpu", "timer", "hrtimer", "work", "queue", "rcu", "kvm",
          "bpf", "trace", "event", "perf", "probe", "ext4", "btrfs", "xfs", "nfs", "usb", "pci", "acpi", "efi",
          "crypto", "sha256", "aes", "md5", "crc32", "zstd", "lz4", "blk", "mq", "nvme", "scsi", "sd", "tty")
_SUFFIXES = ("", "", "", "", ".isra.0", ".constprop.0", ".part.0", ".cold", ".llvm.1234567890123", "_1", "_64")
_TYPES = "TTTTtttttDdRrBbW"


def sample_records(n=700, seed=1, *, word=8, percpu=0, long_names=0, base=None, weird=False):
    """About n records (address, type, name, None) that look like a kernel's:
    addresses rising from base with gaps and aliases, every digit in some
    name, a few duplicate names, ``percpu`` symbols typed 'A' at small
    addresses, ``long_names`` names long enough to need two-byte lengths
    (6.1+), and with ``weird`` names with bytes >= 0x80 and punctuation."""
    rng = random.Random(seed)
    if base is None:
        base = 0xFFFFFFFF81000000 if word == 8 else 0xC0008000
    records = []
    for i in range(percpu):
        records.append((0x1000 * i, "A", f"percpu_var_{i}", None))
    addr = base
    names = set()
    for i in range(n - percpu - long_names):
        parts = [rng.choice(_WORDS) for _ in range(rng.randrange(1, 4))]
        name = "_" * rng.choice((0, 0, 0, 1, 2)) + "_".join(parts) + rng.choice(_SUFFIXES)
        if rng.random() < 0.3:
            name += str(rng.randrange(100))
        if weird and rng.random() < 0.05:
            name += rng.choice(("\u00e9t\u00e9", "$x", "@plt", "[0]", "\udcff"))
        if name in names and rng.random() < 0.5:
            name += f"_{i}"
        names.add(name)
        records.append((addr, rng.choice(_TYPES), name, None))
        addr += rng.choice((0, 0x10, 0x20, 0x40, 0x80, 0x100, 0x1000))
    for i in range(long_names):
        text = "".join(rng.choice("abcdefghijklmnopqrstuvwxyzQJXZ0123456789_") for _ in range(rng.randrange(200, 500)))
        records.append((addr, "t", f"long_{i}_{text}", None))
        addr += 0x40
    records.append((addr, "T", "digits_0123456789", None))  # every digit occurs, as in real kernels
    records.append((addr + 0x10, "T", "_etext", None))
    return records


def layout_for(layout, **changes):
    return replace(layout, **changes)
