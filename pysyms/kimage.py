"""The kernel's own kallsyms tables, read from a kernel image (issue #5).

A kernel image (an ELF ``vmlinux``, with or without a symbol table, or a raw
image such as an arm64 ``Image``) carries the compressed tables that
scripts/kallsyms.c generated.  This module finds them and decodes every
symbol (address, type letter, name)::

    from pysyms import kimage
    records, report = kimage.decode_image(image_bytes)      # C
    records, report = kimage.decode_image(image_bytes, impl="python")
    table = kimage.table_from_image(boot_image_bytes)       # a pysyms.SymbolTable

Two implementations with the same semantics: the C locator/decoder
(csrc/kimage.c, through cffi) and a pure-Python reference here, used as the
oracle and as the benchmark baseline.  Both search in the same order and
accept the first candidate that passes every check (see csrc/kimage.c for
the checks); hints narrow the search:

- ``offsets``: ``{"kallsyms_names": byte_offset, ...}``, e.g. from an ELF
  symbol table (done automatically for ELF input that has one);
- ``word`` (4 or 8), ``endian`` ("little"/"big"), ``align`` (4 or 8),
  ``prefix`` (1: one-byte name lengths only, before 6.1; 2: one or two);
- ``order`` ("old" for <= 6.3, "6.4", "7.0"), ``addresses`` (one of
  :data:`ADDRESS_KINDS`);
- ``vaddr``: the virtual address of the first byte of ``data`` (needed for
  the place-relative addresses of 7.0+ when ``data`` is not an ELF file);
- ``slide``: added to every address (KASLR); by default the link-time
  addresses are reported.

Errors are :class:`KernelImageError` (a :class:`pysyms.Error`) saying which
check failed, e.g. "candidate markers at byte 123 (5 entries) failed: markers
disagree with names ...".
"""

from __future__ import annotations

import re
import struct

from .errors import Error
from .names import decode_name

__all__ = ["KernelImageError", "decode_image", "decode", "locate", "table_from_image", "ARRAYS",
           "ADDRESS_KINDS", "ORDERS", "SEQS_ORDERS", "elf_info"]


class KernelImageError(Error, ValueError):
    """No kallsyms tables were found in a kernel image, or every candidate
    failed a check (the message says which)."""


# ---- constants: csrc/ksym.h is the one place they are written down -----------

from ._native import lib as _lib  # noqa: E402  (constants only; the reference runs in Python)

ARRAYS = ("kallsyms_num_syms", "kallsyms_names", "kallsyms_markers", "kallsyms_token_table",
          "kallsyms_token_index", "kallsyms_offsets", "kallsyms_relative_base", "kallsyms_seqs_of_names")
NUM_SYMS, NAMES, MARKERS, TOKEN_TABLE, TOKEN_INDEX, ADDRESSES, RELATIVE_BASE, SEQS = (
    _lib.KSYM_KA_NUM_SYMS, _lib.KSYM_KA_NAMES, _lib.KSYM_KA_MARKERS, _lib.KSYM_KA_TOKEN_TABLE,
    _lib.KSYM_KA_TOKEN_INDEX, _lib.KSYM_KA_ADDRESSES, _lib.KSYM_KA_RELATIVE_BASE, _lib.KSYM_KA_SEQS)
ABSENT = _lib.KSYM_KA_ABSENT

ORDER_OLD, ORDER_6_4, ORDER_7_0 = _lib.KSYM_ORDER_OLD, _lib.KSYM_ORDER_6_4, _lib.KSYM_ORDER_7_0
ORDERS = {ORDER_OLD: "old", ORDER_6_4: "6.4", ORDER_7_0: "7.0"}
ADDR_ABSOLUTE, ADDR_RELATIVE, ADDR_PERCPU, ADDR_PLACE, ADDR_ABSOLUTE32 = (
    _lib.KSYM_ADDR_ABSOLUTE, _lib.KSYM_ADDR_RELATIVE, _lib.KSYM_ADDR_PERCPU, _lib.KSYM_ADDR_PLACE,
    _lib.KSYM_ADDR_ABSOLUTE32)
ADDRESS_KINDS = {ADDR_ABSOLUTE: "absolute", ADDR_RELATIVE: "base-relative", ADDR_PERCPU: "absolute-percpu",
                 ADDR_PLACE: "place-relative", ADDR_ABSOLUTE32: "absolute32"}
SEQS_ABSENT, SEQS_FULL, SEQS_LTO_DOT, SEQS_LTO_LLVM, SEQS_UNSORTED = (
    _lib.KSYM_SEQS_ABSENT, _lib.KSYM_SEQS_FULL, _lib.KSYM_SEQS_LTO_DOT, _lib.KSYM_SEQS_LTO_LLVM,
    _lib.KSYM_SEQS_UNSORTED)
SEQS_ORDERS = {SEQS_ABSENT: None, SEQS_FULL: "full", SEQS_LTO_DOT: "lto-dot", SEQS_LTO_LLVM: "lto-llvm",
               SEQS_UNSORTED: "unsorted"}

TOKENS = _lib.KSYM_TOKENS
STRIDE = _lib.KSYM_MARKER_STRIDE      # one marker per this many records
NAME_MAX = _lib.KSYM_NAME_MAX
TEXT_MAX = 1 + NAME_MAX               # type letter + name
TOKEN_MAX = _lib.KSYM_KIMAGE_TOKEN_MAX
MAX_SYMBOLS = _lib.KSYM_MAX_SYMBOLS
CHUNK_MIN = STRIDE * 2                # 256 records of >= 2 bytes
CHUNK_MAX = STRIDE * (2 + TEXT_MAX)   # 256 records of <= 514 bytes
MAX_MARKERS = (MAX_SYMBOLS + STRIDE - 1) // STRIDE
INDEX_BYTES = TOKENS * 2
DIGITS = b"".join(bytes((c, 0)) for c in b"0123456789")
PLACE_ANY, PLACE_NONE, PLACE_ONLY = range(3)
# word size, alignment, place-relative readings: the order tried (see csrc/kimage.c COMBOS)
COMBOS = ((8, 8, PLACE_ANY), (4, 4, PLACE_NONE), (8, 4, PLACE_ANY), (4, 4, PLACE_ONLY))
SPACES = frozenset(b" \t\n\r\v\f")
ST_NONE, ST_TOKENS, ST_INDEX, ST_MARKERS, ST_NAMES, ST_ADDRESSES = range(6)

LAYOUT_FIELDS = ("offsets", "sizes", "relative_base", "vaddr", "text_bytes", "num_syms", "word", "endian",
                 "align", "order", "addr_kind", "count_bytes", "marker_bytes", "prefix_bytes",
                 "long_prefixes", "seqs_order", "has_vaddr")


# ---- hints ------------------------------------------------------------------

def _array_index(name):
    if name in ("kallsyms_addresses", "kallsyms_offsets", "addresses", "offsets"):
        return ADDRESSES
    for i, full in enumerate(ARRAYS):
        if name in (full, full[len("kallsyms_"):]):
            return i
    raise ValueError(f"unknown kallsyms array {name!r}")


def _lookup(table, value, what):
    if value is None:
        return 0
    for code, name in table.items():
        if value in (code, name):
            return code
    raise ValueError(f"{what} must be one of {sorted(table.values())}, not {value!r}")


def make_hints(*, offsets=None, word=None, endian=None, align=None, prefix=None, order=None, addresses=None,
               vaddr=None):
    """The hints as a plain dict with the C struct's fields."""
    h = {"offsets": [ABSENT] * 8, "vaddr": 0, "has_vaddr": 0, "word": 0, "endian": 0, "align": 0,
         "prefix_bytes": 0, "order": 0, "addr_kind": 0}
    for name, off in (offsets or {}).items():
        if off is not None:
            h["offsets"][_array_index(name)] = int(off)
    if word not in (None, 4, 8):
        raise ValueError(f"word must be 4 or 8, not {word!r}")
    if align not in (None, 4, 8):
        raise ValueError(f"align must be 4 or 8, not {align!r}")
    if prefix not in (None, 1, 2):
        raise ValueError(f"prefix must be 1 or 2, not {prefix!r}")
    h["word"] = word or 0
    h["align"] = align or 0
    h["prefix_bytes"] = prefix or 0
    h["endian"] = _lookup({1: "little", 2: "big"}, endian, "endian")
    h["order"] = _lookup(ORDERS, order, "order")
    h["addr_kind"] = _lookup(ADDRESS_KINDS, addresses, "addresses")
    if vaddr is not None:
        h["vaddr"] = int(vaddr) & ABSENT
        h["has_vaddr"] = 1
    return h


# ---- the pure-Python reference locator --------------------------------------

class _Tokens:
    __slots__ = ("start", "end", "index", "off", "len", "first", "ws_any", "ws_tail")


class _Found:
    pass


class _Search:
    """State of one search: the image, the hints, the current byte order,
    word size and alignment, and the deepest failure so far."""

    def __init__(self, data, hints):
        self.d = data
        self.n = len(data)
        self.h = hints
        self.base = hints["vaddr"] % 8 if hints["has_vaddr"] else 0
        self.big = False
        self.word = self.align = 0
        self.place = PLACE_ANY
        self.stage = ST_NONE
        self.msg = ""
        self.types = None
        self.out = None
        self.budget = len(data) // 2 + 65536  # steps of the scans for seqs_of_names, as in C

    # helpers
    def fail(self, stage, msg):
        if stage > self.stage:
            self.stage = stage
            self.msg = msg

    def rd(self, pos, size):
        if pos > self.n or size > self.n - pos:
            return None
        return int.from_bytes(self.d[pos:pos + size], "big" if self.big else "little")

    def rd_or_max(self, pos, size):
        v = self.rd(pos, size)
        return ABSENT if v is None else v

    def is_aligned(self, pos, a):
        return (self.base + pos) % a == 0

    def align_up(self, pos, a):
        r = (self.base + pos) % a
        if r == 0:
            return pos
        if pos > self.n:
            return ABSENT
        return pos + (a - r)

    def zeros(self, start, end):
        if start > end or end > self.n:
            return False
        return not any(self.d[start:end])

    def hint_ok(self, array, pos):
        h = self.h["offsets"][array]
        return h == ABSENT or h == pos

    # 1. token table and index
    def _token_end(self, pos):
        """Position of the NUL ending the token at pos, or None."""
        lim = min(self.n - pos if pos < self.n else 0, TOKEN_MAX + 1)
        if lim <= 0:
            return None
        q = self.d.find(b"\0", pos, pos + lim)
        return None if q < 0 else q

    def token_walk(self, start):
        t = _Tokens()
        t.off, t.len, t.first, t.ws_any, t.ws_tail = [], [], [], [], []
        pos = start
        for _ in range(TOKENS):
            if pos - start > 0xFFFF:
                return None
            q = self._token_end(pos)
            if q is None:
                return None
            text = self.d[pos:q]
            t.off.append(pos - start)
            t.len.append(len(text))
            t.first.append(text[0] if text else 0)
            ws = [c in SPACES for c in text]
            t.ws_any.append(any(ws))
            t.ws_tail.append(any(ws[1:]))
            pos = q + 1
        t.start, t.end, t.index = start, pos, None
        return t

    def token_index_ok(self, t, a):
        i = self.align_up(t.end, a)
        if i == ABSENT or not self.zeros(t.end, i) or i > self.n or self.n - i < INDEX_BYTES:
            return False
        fmt = (">" if self.big else "<") + "256H"
        if list(struct.unpack_from(fmt, self.d, i)) != t.off:
            return False
        t.index = i
        return True

    def next_digits(self, start):
        if start >= self.n:
            return ABSENT
        p = self.d.find(DIGITS, start)
        return ABSENT if p < 0 else p

    def start_from_digits(self, p, a):
        if p == 0 or self.d[p - 1] != 0:
            return ABSENT
        pos = p
        for _ in range(ord("0"), TOKENS):
            q = self._token_end(pos)
            if q is None:
                return ABSENT
            pos = q + 1
        i = self.align_up(pos, a)
        if i == ABSENT:
            return ABSENT
        v = self.rd(i + 2 * ord("0"), 2)
        if v is None or v > p:
            return ABSENT
        return p - v

    # 4. addresses and seqs_of_names
    def wrap(self, v):
        return v & ABSENT if self.word == 8 else v & 0xFFFFFFFF

    def s32(self, pos):
        v = self.rd_or_max(pos, 4)
        return v - (1 << 32) if v >= 1 << 31 else v

    def address_at(self, kind, pos, i, rbase, vaddr):
        if kind == ADDR_ABSOLUTE:
            return self.rd(pos + i * self.word, self.word) or 0
        if kind == ADDR_RELATIVE:
            return self.wrap(rbase + self.rd(pos + 4 * i, 4))
        if kind == ADDR_PERCPU:
            s = self.s32(pos + 4 * i)
            return s if s >= 0 else self.wrap(rbase + (-1 - s))
        if kind == ADDR_PLACE:
            return self.wrap(vaddr + pos + 4 * i + self.s32(pos + 4 * i))
        return self.rd(pos + 4 * i, 4)

    def addresses_ok(self, c, n):
        order, kind, pos, base_pos, seqs_pos = c
        esize = self.word if kind == ADDR_ABSOLUTE else 4
        if pos > self.n or (self.n - pos) // esize < n:
            return None
        rbase = 0
        if kind in (ADDR_RELATIVE, ADDR_PERCPU):
            rbase = self.rd(base_pos, self.word)
            if rbase is None:
                return None
        if kind == ADDR_RELATIVE and self.rd_or_max(pos, 4) != 0:
            return None
        if kind == ADDR_PERCPU:
            negative = False
            for i in range(n):
                s = self.s32(pos + 4 * i)
                if s < 0:
                    if not negative and s != -1:
                        return None
                    negative = True
                elif self.types[i] != ord("A"):
                    return None
            if not negative:
                return None
        if kind == ADDR_PLACE:
            prev = 0
            for i in range(n):
                r = 4 * i + self.s32(pos + 4 * i)
                if i and r < prev:
                    return None
                prev = r
            return rbase if n < 2 or prev != self.s32(pos) else None
        first = prev = self.address_at(kind, pos, 0, rbase, 0)
        for i in range(1, n):
            a = self.address_at(kind, pos, i, rbase, 0)
            if a < prev:
                return None
            prev = a
        return rbase if n < 2 or prev != first else None

    def seqs_ok(self, pos, n):
        if pos > self.n or (self.n - pos) // 3 < n:
            return False
        raw = self.d[pos:pos + 3 * n]
        seen = bytearray(n)
        for j in range(0, 3 * n, 3):
            v = (raw[j] << 16) | (raw[j + 1] << 8) | raw[j + 2]
            if v >= n or seen[v]:
                return False
            seen[v] = 1
        return True

    # names
    def names_walk(self, t, x, n, mstart, mbytes, mode):
        """(ok, saw_long, names dict)."""
        d = self.d
        pos, text, longs, saw_long = x, 0, 0, False
        types = self.types
        tlen, first, ws_any, ws_tail = t.len, t.first, t.ws_any, t.ws_tail
        for i in range(n):
            if i % STRIDE == 0:
                m = self.rd_or_max(mstart + (i // STRIDE) * mbytes, mbytes)
                if m == ABSENT or pos - x != m:
                    return False, saw_long, None
            if pos >= mstart:
                return False, saw_long, None
            b0 = d[pos]
            if mode == 2 and b0 & 0x80:
                saw_long = True
                if pos + 1 >= mstart or d[pos + 1] & 0x80:
                    return False, saw_long, None
                length, hdr = (b0 & 0x7F) | (d[pos + 1] << 7), 2
                longs += 1
            else:
                length, hdr = b0, 1
            if length == 0 or length > TEXT_MAX or mstart - (pos + hdr) < length:
                return False, saw_long, None
            pos += hdr
            codes = d[pos:pos + length]
            c = codes[0]
            if tlen[c] == 0 or first[c] < 0x21 or first[c] > 0x7E or ws_tail[c]:
                return False, saw_long, None
            types[i] = first[c]
            chars = tlen[c]
            for c in codes[1:]:
                if tlen[c] == 0 or ws_any[c]:
                    return False, saw_long, None
                chars += tlen[c]
            if chars > TEXT_MAX or chars < 2:
                return False, saw_long, None
            pos += length
            text += chars
        if self.align_up(pos, self.align) != mstart or not self.zeros(pos, mstart):
            return False, saw_long, None
        return True, saw_long, {"start": x, "end": pos, "n": n, "text_bytes": text, "long_prefixes": longs,
                                "mode": mode}

    # the search
    def fill_layout(self, f):
        n = f.names["n"]
        w = self.word
        offsets, sizes = [ABSENT] * 8, [0] * 8
        offsets[NUM_SYMS], sizes[NUM_SYMS] = f.num_pos, f.num_bytes
        offsets[NAMES], sizes[NAMES] = f.names["start"], f.names["end"] - f.names["start"]
        offsets[MARKERS], sizes[MARKERS] = f.m["start"], f.m["count"] * f.m["bytes"]
        offsets[TOKEN_TABLE], sizes[TOKEN_TABLE] = f.t.start, f.t.end - f.t.start
        offsets[TOKEN_INDEX], sizes[TOKEN_INDEX] = f.t.index, INDEX_BYTES
        order, kind, pos, base_pos, seqs_pos = f.a
        offsets[ADDRESSES], sizes[ADDRESSES] = pos, n * (w if kind == ADDR_ABSOLUTE else 4)
        if base_pos != ABSENT:
            offsets[RELATIVE_BASE], sizes[RELATIVE_BASE] = base_pos, w
        if seqs_pos != ABSENT:
            offsets[SEQS], sizes[SEQS] = seqs_pos, 3 * n
        self.out = {
            "offsets": offsets, "sizes": sizes, "relative_base": f.rbase,
            "vaddr": self.h["vaddr"] if self.h["has_vaddr"] else 0, "text_bytes": f.names["text_bytes"],
            "num_syms": n, "word": w, "endian": 2 if self.big else 1, "align": self.align, "order": order,
            "addr_kind": kind, "count_bytes": f.num_bytes, "marker_bytes": f.m["bytes"],
            "prefix_bytes": f.names["mode"], "long_prefixes": f.names["long_prefixes"],
            "seqs_order": SEQS_ABSENT, "has_vaddr": 1 if self.h["has_vaddr"] else 0,
        }

    def try_addresses(self, f):
        h = self.h
        n, w, a = f.names["n"], self.word, self.align
        y = f.num_pos
        cands = []
        if w == a and f.m["seqs_between"]:
            if y >= w:
                rb, span = y - w, (4 * n + a - 1) // a * a
                if rb >= span:
                    cands.append((ORDER_OLD, ADDR_PERCPU, rb - span, rb, f.m["seqs_pos"]))
                    cands.append((ORDER_OLD, ADDR_RELATIVE, rb - span, rb, f.m["seqs_pos"]))
            if y // w >= n:
                cands.append((ORDER_OLD, ADDR_ABSOLUTE, y - w * n, ABSENT, f.m["seqs_pos"]))
        elif not f.m["seqs_between"]:
            idx_end = f.t.index + INDEX_BYTES
            if w == a:
                p0 = self.align_up(idx_end, a)
                rb = ABSENT if p0 == ABSENT else self.align_up(p0 + 4 * n, a)
                if rb != ABSENT:
                    sq = self.align_up(rb + w, a)
                    if sq != ABSENT:
                        cands.append((ORDER_6_4, ADDR_PERCPU, p0, rb, sq))
                        cands.append((ORDER_6_4, ADDR_RELATIVE, p0, rb, sq))
                    sq = self.align_up(p0 + w * n, a)
                    if sq != ABSENT and w == 8:  # absolute after 6.4: ia64 only
                        cands.append((ORDER_6_4, ADDR_ABSOLUTE, p0, ABSENT, sq))
            if a == 4:
                p0 = self.align_up(idx_end, 4)
                if p0 != ABSENT:
                    if w == 4:
                        cands.append((ORDER_7_0, ADDR_ABSOLUTE32, p0, ABSENT, p0 + 4 * n))
                    cands.append((ORDER_7_0, ADDR_PLACE, p0, ABSENT, p0 + 4 * n))
            if w == a:
                if y >= w:
                    rb, span = y - w, (4 * n + a - 1) // a * a
                    if rb >= span:
                        cands.append((ORDER_OLD, ADDR_PERCPU, rb - span, rb, ABSENT))
                        cands.append((ORDER_OLD, ADDR_RELATIVE, rb - span, rb, ABSENT))
                if y // w >= n:
                    cands.append((ORDER_OLD, ADDR_ABSOLUTE, y - w * n, ABSENT, ABSENT))

        for c in cands:
            order, kind, pos, base_pos, seqs_pos = c
            with_base = kind in (ADDR_RELATIVE, ADDR_PERCPU)
            if (h["order"] and h["order"] != order) or (h["addr_kind"] and h["addr_kind"] != kind):
                continue
            if (self.place == PLACE_NONE and kind == ADDR_PLACE) or (self.place == PLACE_ONLY and kind != ADDR_PLACE):
                continue
            if not self.hint_ok(ADDRESSES, pos) or not self.hint_ok(SEQS, seqs_pos):
                continue
            if (not self.hint_ok(RELATIVE_BASE, base_pos)) if with_base else h["offsets"][RELATIVE_BASE] != ABSENT:
                continue
            esize = w if kind == ADDR_ABSOLUTE else 4
            aend = pos + esize * n
            if order != ORDER_OLD:
                if not self.zeros(f.t.index + INDEX_BYTES, pos):
                    continue
                if with_base and not self.zeros(aend, base_pos):
                    continue
                if order == ORDER_6_4 and not self.zeros(base_pos + w if with_base else aend, seqs_pos):
                    continue
            elif with_base and not self.zeros(aend, base_pos):
                continue
            rbase = self.addresses_ok(c, n)
            if rbase is None:
                continue
            if seqs_pos != ABSENT and not self.seqs_ok(seqs_pos, n):
                continue
            f.a, f.rbase = c, rbase
            self.fill_layout(f)
            return True
        self.fail(ST_ADDRESSES,
                  f"candidate names at byte {f.names['start']} ({n} symbols) failed: no address table (absolute, "
                  f"base-relative, absolute-percpu or place-relative, with seqs_of_names where the era has it) "
                  f"matches them")
        return False

    def try_names(self, f):
        m = f.m
        a = self.align
        last = self.rd_or_max(m["start"] + (m["count"] - 1) * m["bytes"], m["bytes"])
        if last == ABSENT or m["start"] < last + 2:  # the last chunk would start before the names
            return self._names_failed(m)
        x_hi = m["start"] - last - 2
        span = last + CHUNK_MAX + a
        x_lo = m["start"] + 1 - span if m["start"] + 1 > span else 0
        x = x_hi - (self.base + x_hi) % a
        widths = (4,) if self.word == 4 else (4, self.word)
        if self.h["prefix_bytes"] in (1, 2):
            modes = (self.h["prefix_bytes"],)
        else:
            modes = (2, 1)
        while x >= x_lo:
            for nb in widths:
                hdr = (nb + a - 1) // a * a
                if x < hdr:
                    continue
                y = x - hdr
                n = self.rd(y, nb)
                if n is None or n < 1 or n > MAX_SYMBOLS:
                    continue
                if (n + STRIDE - 1) // STRIDE != m["count"]:
                    continue
                if m["seqs_between"] and not m["n_min"] <= n <= m["n_max"]:
                    continue
                if not self.zeros(y + nb, x) or not self.hint_ok(NAMES, x) or not self.hint_ok(NUM_SYMS, y):
                    continue
                if self.types is None or len(self.types) < n:
                    self.types = bytearray(n)
                for mode in modes:
                    ok, saw_long, names = self.names_walk(f.t, x, n, m["start"], m["bytes"], mode)
                    if not ok:
                        if not saw_long:
                            break
                        continue
                    f.names, f.num_pos, f.num_bytes = names, y, nb
                    if self.try_addresses(f):
                        return True
            if x < a:
                break
            x -= a
        return self._names_failed(m)

    def _names_failed(self, m):
        self.fail(ST_NAMES, f"candidate markers at byte {m['start']} ({m['count']} entries) failed: markers "
                            f"disagree with names (no kallsyms_num_syms and names ending at the markers)")
        return False

    def marker_chain(self, q, mb):
        if q < mb:
            return None
        pos = q - mb
        v = self.rd(pos, mb)
        if v is None:
            return None
        count = 1
        while v != 0:
            if pos < mb or count >= MAX_MARKERS:
                return None
            prev = v
            pos -= mb
            v = self.rd(pos, mb)
            if v is None or v >= prev or prev - v < CHUNK_MIN or prev - v > CHUNK_MAX:
                return None
            count += 1
        return {"start": pos, "end": q, "count": count, "bytes": mb, "seqs_between": False,
                "seqs_pos": ABSENT, "n_min": 0, "n_max": 0}

    def try_markers(self, t):
        h = self.h
        tt, a = t.start, self.align
        widths = (4,) if self.word == 4 or a != self.word else (4, self.word)
        found_any = False
        f = _Found()
        f.t = t
        for mb in widths:
            for back in range(0, a, 4):
                if tt < back or not self.zeros(tt - back, tt):
                    continue
                m = self.marker_chain(tt - back, mb)
                if m is None or not self.is_aligned(m["start"], a) or not self.hint_ok(MARKERS, m["start"]):
                    continue
                f.m = m
                found_any = True
                if self.try_names(f):
                    return True

        if (self.word == a and (not h["order"] or h["order"] == ORDER_OLD)
                and (h["offsets"][SEQS] == ABSENT or h["offsets"][SEQS] < tt)):
            lowest = tt - 3 * MAX_SYMBOLS - 2 * a if tt > 3 * MAX_SYMBOLS + 2 * a else 0
            if tt >= 3:
                q = tt - 3
                q -= (self.base + q) % 4
                while q >= lowest and q >= 4 and self.budget:
                    self.budget -= 1
                    cur, q = q, q - 4
                    ss = self.align_up(cur, a)
                    if ss == ABSENT or ss >= tt:
                        continue
                    room = tt - ss
                    n_max = room // 3
                    n_min = max((room - a) // 3 + 1 if room >= a else 1, 1)
                    if n_max < n_min or n_max > MAX_SYMBOLS:
                        continue
                    lastm = self.rd_or_max(cur - 4, 4)
                    if lastm == ABSENT:
                        continue
                    m_hi = lastm // CHUNK_MIN + 1
                    if n_min > m_hi * STRIDE:
                        continue
                    if lastm > (n_max // STRIDE + 1) * CHUNK_MAX:
                        continue
                    m = self.marker_chain(cur, 4)
                    if (m is None or not self.is_aligned(m["start"], a) or not self.zeros(cur, ss)
                            or not self.hint_ok(MARKERS, m["start"]) or not self.hint_ok(SEQS, ss)):
                        continue
                    lo = max((m["count"] - 1) * STRIDE + 1, n_min)
                    hi = min(m["count"] * STRIDE, n_max)
                    if lo > hi:
                        continue
                    while lo <= hi and not self.zeros(ss + 3 * lo, tt):
                        lo += 1
                    while hi >= lo and not self.zeros(ss + 3 * hi, tt):
                        hi -= 1
                    if lo > hi:
                        continue
                    m.update(seqs_between=True, seqs_pos=ss, n_min=lo, n_max=hi)
                    f.m = m
                    found_any = True
                    if self.try_names(f):
                        return True
        if not found_any:
            self.fail(ST_MARKERS, f"candidate token table at byte {tt} failed: no kallsyms_markers before it")
        return False

    def locate(self):
        h = self.h
        endians = [h["endian"] - 1] if h["endian"] else [0, 1]
        hint_tt = h["offsets"][TOKEN_TABLE]
        p = hint_tt if hint_tt != ABSENT else self.next_digits(0)
        if p == ABSENT:
            self.fail(ST_TOKENS, 'no kallsyms token table found: no run of the digit tokens "0" .. "9" in the image')
        while p != ABSENT:
            for big in endians:
                self.big = bool(big)
                for word, align, place in COMBOS:
                    self.word, self.align, self.place = word, align, place
                    if (h["word"] and h["word"] != word) or (h["align"] and h["align"] != align):
                        continue
                    if word != align and h["order"] and h["order"] != ORDER_7_0:
                        continue
                    s = hint_tt if hint_tt != ABSENT else self.start_from_digits(p, align)
                    t = None
                    if s != ABSENT and self.is_aligned(s, align):
                        t = self.token_walk(s)
                    if t is None or not self.token_index_ok(t, align) or not self.hint_ok(TOKEN_INDEX, t.index):
                        self.fail(ST_INDEX, f"candidate token table at byte {p if s == ABSENT else s} failed: "
                                            f"no kallsyms_token_index matches it")
                        continue
                    if self.try_markers(t):
                        return self.out
            if hint_tt != ABSENT:
                break
            p = self.next_digits(p + 1)
        if self.stage == ST_NONE:
            self.fail(ST_TOKENS, "no kallsyms tables found")
        raise KernelImageError(self.msg)


# ---- decoding (reference) ------------------------------------------------------

def _layout_tokens(data, layout):
    ts, ti = layout["offsets"][TOKEN_TABLE], layout["offsets"][TOKEN_INDEX]
    n = len(data)
    if ts >= n or ti > n or n - ti < INDEX_BYTES:
        raise KernelImageError("the layout's token table does not fit the image")
    fmt = (">" if layout["endian"] == 2 else "<") + "256H"
    tokens = []
    for off in struct.unpack_from(fmt, data, ti):
        pos = ts + off
        lim = min(n - pos if pos < n else 0, TOKEN_MAX + 1)
        q = data.find(b"\0", pos, pos + lim) if lim > 0 else -1
        if q < 0:
            raise KernelImageError("the layout's token table does not fit the image")
        tokens.append(bytes(data[pos:q]))
    return tokens


def _decode_py(data, layout, slide=0):
    """[(address, type, name)] in table order, like ksym_kimage_symbols."""
    n = layout["num_syms"]
    word, kind = layout["word"], layout["addr_kind"]
    if (word not in (4, 8) or not 1 <= n <= MAX_SYMBOLS or layout["prefix_bytes"] not in (1, 2)
            or kind not in ADDRESS_KINDS):
        raise KernelImageError("invalid layout")
    tokens = _layout_tokens(data, layout)
    ap = layout["offsets"][ADDRESSES]
    esize = word if kind == ADDR_ABSOLUTE else 4
    if ap > len(data) or (len(data) - ap) // esize < n:
        raise KernelImageError("the layout's address table does not fit the image")
    s = _Search(data, make_hints())
    s.big, s.word = layout["endian"] == 2, word
    vaddr = layout["vaddr"] if layout["has_vaddr"] else 0
    mask = ABSENT if word == 8 else 0xFFFFFFFF
    rbase = layout["relative_base"]
    pos, limit, mode = layout["offsets"][NAMES], len(data), layout["prefix_bytes"]
    if pos > limit:
        raise KernelImageError("the layout's names do not fit the image")
    out = []
    for i in range(n):
        if pos >= limit:
            raise KernelImageError(f"record {i} runs past the image")
        b0 = data[pos]
        if mode == 2 and b0 & 0x80:
            if pos + 1 >= limit or data[pos + 1] & 0x80:
                raise KernelImageError(f"record {i} has a bad length")
            length, pos = (b0 & 0x7F) | (data[pos + 1] << 7), pos + 2
        else:
            length, pos = b0, pos + 1
        if length == 0 or limit - pos < length:
            raise KernelImageError(f"record {i} runs past the image")
        text = b"".join([tokens[c] for c in data[pos:pos + length]])
        if len(text) > TEXT_MAX or len(text) < 2:
            raise KernelImageError(f"record {i} expands to {len(text)} bytes")
        pos += length
        address = (s.address_at(kind, ap, i, rbase, vaddr) + slide) & mask
        out.append((address, chr(text[0]), decode_name(text[1:])))
    return out


def _cut_dot(name):
    i = name.find(b".")
    return name if i < 0 else name[:i]


def _cut_llvm(name):
    i = name.find(b".llvm.")
    return name if i < 0 else name[:i]


def _classify_seqs(data, layout, records):
    records = [(a, t, n.encode("utf-8", "surrogateescape")) for a, t, n in records]
    sp, n = layout["offsets"][SEQS], layout["num_syms"]
    raw = data[sp:sp + 3 * n]
    seqs = [(raw[j] << 16) | (raw[j + 1] << 8) | raw[j + 2] for j in range(0, 3 * n, 3)]
    for policy, cut in ((SEQS_FULL, None), (SEQS_LTO_DOT, _cut_dot), (SEQS_LTO_LLVM, _cut_llvm)):
        keys = [((cut(records[i][2]) if cut else records[i][2]), records[i][0], i) for i in seqs]
        if all(keys[j] < keys[j + 1] for j in range(n - 1)):
            return policy
    return SEQS_UNSORTED


def _locate_py(data, hints):
    layout = _Search(data, hints).locate()
    if layout["offsets"][SEQS] != ABSENT:
        layout["seqs_order"] = _classify_seqs(data, layout, _decode_py(data, layout))
    return layout


# ---- the C implementation ---------------------------------------------------------

def _c():
    from ._native import ffi, lib
    return ffi, lib


def _c_hints(ffi, lib, hints):
    h = ffi.new("struct ksym_kimage_hints *")
    lib.ksym_kimage_hints_init(h)
    for i, off in enumerate(hints["offsets"]):
        h.offsets[i] = off
    for key in ("vaddr", "has_vaddr", "word", "endian", "align", "prefix_bytes", "order", "addr_kind"):
        setattr(h, key, hints[key])
    return h


def _layout_from_c(c):
    return {key: (list(getattr(c, key)) if key in ("offsets", "sizes") else int(getattr(c, key)))
            for key in LAYOUT_FIELDS}


def _layout_to_c(ffi, layout):
    c = ffi.new("struct ksym_kimage_layout *")
    for key in LAYOUT_FIELDS:
        value = layout[key]
        if key in ("offsets", "sizes"):
            for i, v in enumerate(value):
                getattr(c, key)[i] = v
        else:
            setattr(c, key, value)
    return c


def _locate_c(data, hints):
    ffi, lib = _c()
    out = ffi.new("struct ksym_kimage_layout *")
    msg = ffi.new("char[]", 512)
    buf = ffi.from_buffer(data)
    rc = lib.ksym_kimage_locate(buf, len(data), _c_hints(ffi, lib, hints), out, msg, 512)
    if rc == lib.KSYM_ENOMEM:
        raise MemoryError("out of memory while searching the kernel image")
    if rc == lib.KSYM_EINVAL:
        raise ValueError("invalid hints")
    if rc < 0:
        raise KernelImageError(ffi.string(msg).decode("utf-8", "replace") or "no kallsyms tables found")
    return _layout_from_c(out)


def _decode_c(data, layout, slide=0):
    ffi, lib = _c()
    n = layout["num_syms"]
    addresses = ffi.new("uint64_t[]", n)
    types = ffi.new("char[]", n)
    size = layout["text_bytes"]
    names = ffi.new("char[]", max(size, 1))
    written = ffi.new("size_t *")
    rc = lib.ksym_kimage_symbols(ffi.from_buffer(data), len(data), _layout_to_c(ffi, layout),
                                 slide & ABSENT, addresses, types, names, size, written)
    if rc < 0:
        raise KernelImageError(f"cannot decode the symbols: {ffi.string(lib.ksym_strerror(rc)).decode()}")
    text = decode_name(ffi.unpack(names, written[0]))  # '\n' never joins a UTF-8 sequence
    names = text[:-1].split("\n") if text else []
    return list(zip(ffi.unpack(addresses, n), ffi.unpack(types, n).decode("latin-1"), names))


# ---- ELF ----------------------------------------------------------------------------

# The ELF constants live in pysyms/elf.py (the checked symbol table reader);
# this section keeps its own lenient reading of headers and segments, which
# gives up quietly (None) where that reader would raise.
from . import elf as _elf  # noqa: E402  (a parameter of the public API is named elf)

def elf_info(data):
    """What an ELF file tells: word size, byte order, sections, PT_LOAD
    segments, and the values of its ``kallsyms_*`` symbols (empty without a
    symbol table).  None when data is not a readable ELF file."""
    try:
        return _elf_info(data)
    except (struct.error, IndexError, ValueError):
        return None


def _elf_info(data):
    if bytes(data[:4]) != _elf.ELFMAG or len(data) < 0x34:
        return None
    cls, enc = data[4], data[5]
    if cls not in (_elf.ELFCLASS32, _elf.ELFCLASS64) or enc not in (_elf.ELFDATA2LSB, _elf.ELFDATA2MSB):
        return None
    e = "<" if enc == _elf.ELFDATA2LSB else ">"
    word = 4 if cls == _elf.ELFCLASS32 else 8
    if word == 8:
        phoff, shoff = struct.unpack_from(e + "QQ", data, 0x20)
        phentsize, phnum, shentsize, shnum, shstrndx = struct.unpack_from(e + "HHHHH", data, 0x36)
    else:
        phoff, shoff = struct.unpack_from(e + "II", data, 0x1C)
        phentsize, phnum, shentsize, shnum, shstrndx = struct.unpack_from(e + "HHHHH", data, 0x2A)
    segments = []
    for i in range(phnum if phentsize else 0):
        off = phoff + i * phentsize
        if word == 8:
            p_type, _flags, p_offset, p_vaddr, _paddr, p_filesz, p_memsz = struct.unpack_from(e + "IIQQQQQ", data, off)
        else:
            p_type, p_offset, p_vaddr, _paddr, p_filesz, p_memsz = struct.unpack_from(e + "IIIIII", data, off)
        if p_type == _elf.PT_LOAD:
            segments.append((p_offset, p_vaddr, p_filesz, p_memsz))
    sections = []
    for i in range(shnum if shentsize else 0):
        off = shoff + i * shentsize
        if word == 8:
            name, sh_type, flags, addr, offset, size, link, _info, _align, entsize = struct.unpack_from(
                e + "IIQQQQIIQQ", data, off)
        else:
            name, sh_type, flags, addr, offset, size, link, _info, _align, entsize = struct.unpack_from(
                e + "IIIIIIIIII", data, off)
        sections.append({"name_off": name, "type": sh_type, "flags": flags, "addr": addr, "offset": offset,
                         "size": size, "link": link, "entsize": entsize})
    if sections and shstrndx < len(sections):
        strtab = sections[shstrndx]
        for s in sections:
            s["name"] = _cstr(data, strtab["offset"] + s["name_off"])
    symbols = {}
    for s in sections:
        if s["type"] != _elf.SHT_SYMTAB or s["link"] >= len(sections):
            continue
        strtab = sections[s["link"]]
        entsize = s["entsize"] or (16 if word == 4 else 24)
        for k in range(s["size"] // entsize):
            off = s["offset"] + k * entsize
            if word == 8:
                st_name, _info, _other, _shndx, st_value, _size = struct.unpack_from(e + "IBBHQQ", data, off)
            else:
                st_name, st_value, _size, _info, _other, _shndx = struct.unpack_from(e + "IIIBBH", data, off)
            name = _cstr(data, strtab["offset"] + st_name)
            if name.startswith("kallsyms_"):
                symbols.setdefault(name, st_value)
    return {"word": word, "endian": "little" if enc == _elf.ELFDATA2LSB else "big", "segments": segments,
            "sections": sections, "symbols": symbols}


def _cstr(data, off):
    end = data.index(b"\0", off, off + 4096)
    return bytes(data[off:end]).decode("latin-1")


def _allocated_bits(section):
    """An SHT_PROGBITS section with SHF_ALLOC: file bytes at a virtual address."""
    return section["type"] == _elf.SHT_PROGBITS and section["flags"] & _elf.SHF_ALLOC


def _file_offset(info, vaddr):
    """File offset of a virtual address: through the allocated section
    holding it, else a PT_LOAD segment; None when neither holds it."""
    for s in info["sections"]:
        if _allocated_bits(s) and s["addr"] <= vaddr < s["addr"] + s["size"]:
            return s["offset"] + vaddr - s["addr"]
    for offset, start, filesz, _memsz in info["segments"]:
        if start <= vaddr < start + filesz:
            return offset + vaddr - start
    return None


def _vaddr_of(info, offset):
    """Virtual address of a file offset, through the PT_LOAD segments."""
    for seg_off, start, filesz, _memsz in info["segments"]:
        if seg_off <= offset < seg_off + filesz:
            return start + offset - seg_off
    for s in info["sections"]:
        if _allocated_bits(s) and s["offset"] <= offset < s["offset"] + s["size"]:
            return s["addr"] + offset - s["offset"]
    return None


# ---- the public API ----------------------------------------------------------------

def _prepare(data, hints, elf):
    """Hints completed from an ELF file's header and symbol table."""
    info = elf_info(data) if elf else None
    hint_args = dict(hints)
    if info:
        hint_args.setdefault("word", info["word"])
        hint_args.setdefault("endian", info["endian"])
        offsets = dict(hint_args.get("offsets") or {})
        for name, value in info["symbols"].items():
            if name in ARRAYS or name == "kallsyms_addresses":
                off = _file_offset(info, value)
                if off is not None:
                    offsets.setdefault(name, off)
        hint_args["offsets"] = offsets
    return make_hints(**hint_args), info


def locate(data, *, impl="c", elf=True, **hints):
    """The layout report of :func:`decode_image` without decoding the symbols."""
    return decode_image(data, impl=impl, elf=elf, _symbols=False, **hints)[1]


def decode_image(data, *, impl="c", slide=0, elf=True, _symbols=True, **hints):
    """Find and decode the kallsyms tables of a kernel image.

    Returns ``(records, report)``: ``records`` is a list of ``(address,
    type, name)`` in the kernel's table order (addresses ascending), names
    as ``str`` (surrogateescape for bytes that are not UTF-8); ``report`` a
    dict describing the layout found (see :func:`report_of`).  ``impl`` is
    ``"c"`` or ``"python"`` (the reference).  Raises
    :class:`KernelImageError` when no candidate passes every check.
    """
    data, layout, info, notes = _find(data, impl, elf, hints)
    records = []
    if _symbols:
        records = (_decode_c if impl == "c" else _decode_py)(data, layout, slide)
    return records, report_of(layout, impl=impl, elf=info, slide=slide, notes=notes)


def _find(data, impl, elf, hints):
    """(data, layout, ELF info, notes): the search, then what the image
    itself tells about virtual addresses (ELF segments, relocations)."""
    if impl not in ("c", "python"):
        raise ValueError(f"impl must be 'c' or 'python', not {impl!r}")
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes-like, not {type(data).__name__}")
    if isinstance(data, memoryview):
        data = data.cast("B")
    if impl == "python" and not isinstance(data, bytes):
        data = bytes(data)
    hints = dict(hints)
    base_override = hints.pop("relative_base", None)
    h, info = _prepare(data, hints, elf)
    layout = (_locate_c if impl == "c" else _locate_py)(data, h)
    notes = {"relative_base_source": None}
    if layout["offsets"][RELATIVE_BASE] != ABSENT:
        notes["relative_base_source"] = "image"
        if base_override is not None:
            layout["relative_base"] = int(base_override) & ABSENT
            notes["relative_base_source"] = "hint"
        elif layout["relative_base"] == 0 and not info:
            found = _relocated_base(data, layout)
            if found:
                layout["relative_base"], vaddr = found
                notes["relative_base_source"] = "relocations"
                if not layout["has_vaddr"]:
                    layout["vaddr"], layout["has_vaddr"] = vaddr, 1
            else:
                notes["relative_base_source"] = ("image (0, and no relocation of it was found: if the boot code "
                                                 "relocates it, addresses are offsets from the first symbol; "
                                                 "pass relative_base= or slide=)")
    if info and not layout["has_vaddr"]:
        v = _vaddr_of(info, layout["offsets"][ADDRESSES])
        if v is not None:
            layout["vaddr"] = (v - layout["offsets"][ADDRESSES]) & ABSENT
            layout["has_vaddr"] = 1
    return data, layout, info, notes


# Relocation types meaning "add the load offset" (r_info of an Elf64_Rela
# with symbol 0), by byte order: aarch64, x86_64, riscv/loongarch; s390, ppc64.
RELATIVE_RELOCS = {1: (1027, 8, 3), 2: (12, 22)}
_MIN_RELA_RUN = 64


def _relocated_base(data, layout):
    """(relative_base, vaddr of byte 0) from the relocation table of a raw
    64-bit image whose kallsyms_relative_base still reads 0 (arm64 links with
    --no-apply-dynamic-relocs: the boot code fills such words from its
    R_*_RELATIVE relocations), or None.  The table is the longest run of
    Elf64_Rela entries of one RELATIVE type; the image's link address V is
    the one (aligned to 4 KiB, every relocated place inside the image) at
    which an entry relocates the relative base's own word: that entry's
    addend is the base.  Several link addresses may have such an entry; the
    one kept makes far more relocated pointers land on symbol addresses than
    any other."""
    if layout["word"] != 8:
        return None
    e = ">" if layout["endian"] == 2 else "<"
    rb_pos = layout["offsets"][RELATIVE_BASE]
    for rtype in RELATIVE_RELOCS[layout["endian"]]:
        info = re.escape(struct.pack(e + "Q", rtype))
        # _MIN_RELA_RUN consecutive entries (found from their r_info fields), then the whole run
        first = re.compile(info + b"(?:.{16}" + info + b"){%d}" % (_MIN_RELA_RUN - 1), re.S)
        run = re.compile(b"(?:.{8}" + info + b".{8})+", re.S)
        best = (0, 0)
        m = first.search(data, 8)
        while m:
            start = m.start() - 8
            end = run.match(data, start).end()
            if end - start > best[1] - best[0]:
                best = (start, end)
            m = first.search(data, end + 8)
        start, end = best
        if (end - start) // 24 < _MIN_RELA_RUN:
            continue
        entries = {}
        for r_offset, _info, r_addend in struct.iter_unpack(e + "QQQ", data[start:end]):
            entries[r_offset] = r_addend
        lo, hi = max(entries) - len(data) + 1, min(entries)
        cands = [off for off in entries if lo <= off - rb_pos <= hi and (off - rb_pos) % 0x1000 == 0]
        if not cands or len(cands) > 4096 or layout["addr_kind"] != ADDR_RELATIVE:
            continue
        # the right link address makes many relocated pointers land on symbols
        n, ap = layout["num_syms"], layout["offsets"][ADDRESSES]
        offsets = set(struct.unpack_from(f"{e}{n}I", data, ap))
        addends = list(entries.values())
        sample = addends[::max(1, len(addends) // 1024)]
        scores = sorted(((sum((a - entries[c]) & ABSENT in offsets for a in sample), c) for c in cands),
                        reverse=True)
        best_score, best = scores[0]
        if best_score >= max(16, len(sample) // 20) and (len(scores) == 1 or scores[1][0] * 2 < best_score):
            return entries[best] & ABSENT, (best - rb_pos) & ABSENT
    return None


decode = decode_image


def report_of(layout, *, impl="c", elf=None, slide=0, notes=None):
    """A layout as a readable dict: where each array is (``offsets``, the
    ELF symbol names), ``order`` and the kernel releases it implies,
    ``address_kind``, ``word_size``, ``endianness``, ``alignment``,
    ``num_syms``, ``relative_base``, widths, ``seqs_order`` ("full",
    "lto-dot", "lto-llvm", "unsorted" or None when absent)."""
    kind = layout["addr_kind"]
    names = list(ARRAYS)
    if kind == ADDR_ABSOLUTE:
        names[ADDRESSES] = "kallsyms_addresses"
    offsets = {names[i]: off for i, off in enumerate(layout["offsets"]) if off != ABSENT}
    sizes = {names[i]: layout["sizes"][i] for i, off in enumerate(layout["offsets"]) if off != ABSENT}
    seqs = layout["offsets"][SEQS] != ABSENT
    return {
        "impl": impl,
        "num_syms": layout["num_syms"],
        "offsets": offsets,
        "sizes": sizes,
        "order": ORDERS[layout["order"]],
        "era": _era(layout),
        "address_kind": ADDRESS_KINDS[kind],
        "word_size": layout["word"],
        "endianness": "big" if layout["endian"] == 2 else "little",
        "alignment": layout["align"],
        "relative_base": layout["relative_base"] if layout["offsets"][RELATIVE_BASE] != ABSENT else None,
        "count_bytes": layout["count_bytes"],
        "marker_bytes": layout["marker_bytes"],
        "prefix_bytes": layout["prefix_bytes"],
        "long_prefixes": layout["long_prefixes"],
        "text_bytes": layout["text_bytes"],
        "seqs_of_names": seqs,
        "seqs_order": SEQS_ORDERS[layout["seqs_order"]],
        "seqs_trustworthy": layout["seqs_order"] == SEQS_FULL,
        "vaddr": layout["vaddr"] if layout["has_vaddr"] else None,
        "slide": slide,
        "elf": None if elf is None else {"word": elf["word"], "endian": elf["endian"],
                                         "symbols": sorted(elf["symbols"])},
        "relative_base_source": (notes or {}).get("relative_base_source"),
        "layout": layout,
    }


def _era(layout):
    """Kernel releases this layout fits (a best reading of the structure)."""
    order, kind = layout["order"], layout["addr_kind"]
    if order == ORDER_7_0:
        return ">= 7.0"
    if order == ORDER_6_4:
        if kind == ADDR_ABSOLUTE:
            return "6.4 .. 6.10"
        if kind == ADDR_PERCPU:
            return "6.4 .. 6.14"
        return "6.4 .. 6.19"
    if layout["offsets"][SEQS] != ABSENT:
        return "6.2 .. 6.3 (or a 6.1.y with the seqs_of_names backport)"
    lo = "4.6" if kind != ADDR_ABSOLUTE else "2.6.10"
    if layout["count_bytes"] != 4 or layout["marker_bytes"] != 4:
        return f"{lo} .. 4.19"
    if layout["long_prefixes"]:
        return "6.1"
    return "4.20 .. 6.1"


def table_from_image(data, *, impl="c", slide=0, elf=True, report=False, **hints):
    """A :class:`pysyms.SymbolTable` of the kallsyms tables of a kernel image
    or boot image (bzImage, arm64 Image[.gz], EFI zboot, s390; decompressed
    with :mod:`pysyms.bootimage` when that recognises a container).  With
    ``report=True``, ``(table, report)`` (the report of :func:`decode_image`).
    The table is built by pysyms' builder from the decoded records, so its
    name index is always in full-name order, whatever order the image's
    kallsyms_seqs_of_names had (see ``report["seqs_order"]``)."""
    payload, arch = _kernel_payload(data)
    if arch in _WORD_OF_ARCH and "word" not in hints:
        hints["word"] = _WORD_OF_ARCH[arch]
    from .table import SymbolTable, _new_builder
    if impl == "python":
        records, report_ = decode_image(payload, impl="python", slide=slide, elf=elf, **hints)
        table = SymbolTable.from_records([(a, t, n, None) for a, t, n in records])
    else:
        ffi, lib = _c()
        payload, layout, info, notes = _find(payload, "c", elf, hints)
        table = _table_from_kernel_arrays(ffi, lib, payload, layout, slide)
        if table is not None:
            report_ = report_of(layout, impl="c", elf=info, slide=slide, notes=notes)
            return (table, report_) if report else table
        builder = _new_builder()
        rc = lib.ksym_kimage_add(ffi.from_buffer(payload), len(payload), _layout_to_c(ffi, layout),
                                 slide & ABSENT, builder)
        if rc == lib.KSYM_ENOMEM:
            raise MemoryError("out of memory")
        if rc < 0:
            message = ffi.string(lib.ksym_builder_message(builder)).decode("utf-8", "replace")
            raise KernelImageError(message or f"cannot decode the symbols: "
                                              f"{ffi.string(lib.ksym_strerror(rc)).decode()}")
        table = SymbolTable._finish(builder)
        report_ = report_of(layout, impl="c", elf=info, slide=slide, notes=notes)
    return (table, report_) if report else table


def _table_from_kernel_arrays(ffi, lib, payload, layout, slide):
    """The SymbolTable over the image's own arrays (csrc/arrays.c: no
    re-compression), when they are in the form pysyms' tables use: names
    with 1- or 2-byte length prefixes read as 2-byte-capable (6.1+, or no
    record of 128 codes or more) and seqs_of_names in full-name order.
    None otherwise: the caller rebuilds the table from the decoded records.
    Byte compatibility (tests/test_kimage.py) says both give the same table."""
    from .table import SymbolTable

    offsets, sizes = layout["offsets"], layout["sizes"]
    if layout["seqs_order"] != lib.KSYM_SEQS_FULL or layout["prefix_bytes"] != 2:
        return None
    n = layout["num_syms"]
    view = memoryview(payload).cast("B")

    def array_bytes(which):
        return bytes(view[offsets[which]:offsets[which] + sizes[which]])

    token_index = array_bytes(TOKEN_INDEX)
    if layout["endian"] == 2:  # our tables hold little-endian integers
        token_index = b"".join(token_index[i:i + 2][::-1] for i in range(0, len(token_index), 2))
    addresses = ffi.new("uint64_t[]", max(n, 1))
    types = ffi.new("char[]", max(n, 1))
    text = ffi.new("char[]", max(layout["text_bytes"], 1))
    written = ffi.new("size_t *")
    got = lib.ksym_kimage_symbols(ffi.from_buffer(payload), len(payload), _layout_to_c(ffi, layout),
                                  slide & ABSENT, addresses, types, text, max(layout["text_bytes"], 1), written)
    if got != n:
        return None
    out = ffi.new("struct ksym_table **")
    msg = ffi.new("char[]", 256)
    names, token_table, seqs = array_bytes(NAMES), array_bytes(TOKEN_TABLE), array_bytes(SEQS)
    rc = lib.ksym_table_from_arrays(names, len(names), token_table, len(token_table), token_index, seqs,
                                    addresses, n, out, msg, 256)
    if rc < 0:
        return None
    return SymbolTable(ffi.gc(out[0], lib.ksym_table_free))


_WORD_OF_ARCH = {"x86_64": 8, "arm64": 8, "s390x": 8, "ppc64": 8, "i386": 4, "arm": 4, "ppc": 4}


def _kernel_payload(data):
    """(kernel image, architecture or None): the kernel image inside a boot
    image; data itself when pysyms.bootimage does not recognise a container."""
    if bytes(data[:4]) == b"\x7fELF":
        return data, None
    try:
        from .bootimage import BootImageError, inspect_image
    except ImportError:
        return data, None
    try:
        image = inspect_image(data)
    except BootImageError:
        return data, None
    return image.payload, image.arch
