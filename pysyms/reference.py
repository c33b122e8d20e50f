"""Pure-Python reference implementation of the kernel's kallsyms table.

Same builder, same bytes, same lookups as the C core (csrc/, wrapped by
``pysyms.SymbolTable``): it is the oracle of the differential tests and the
baseline of the benchmarks.  Everything follows the kernel's algorithms
(scripts/kallsyms.c to build, kernel/kallsyms.c to search) as described in
shared/notes/kernel-kallsyms.md; no kernel code is copied.

The table keeps exactly the kernel's arrays as ``bytes`` (``names``,
``markers``, ``token_table``, ``token_index``, ``seqs_of_names``), plus the
addresses (``array('Q')``) and module ids; lookups read those arrays the way
the kernel does.
"""

import copy
import os
import struct
import sys
from array import array
from bisect import bisect_left, bisect_right
from collections import Counter
from heapq import heapify, heappop, heappush
from itertools import accumulate, chain
from operator import itemgetter

from . import _format, batch, container, elf
from .errors import Error, InvalidSymbolError
from .names import check_index, decode_name, encode_name, unpack_record
from .matching import (ANY_MODULE, Match, glob_literal_prefix, glob_regex, match_kind, parse_query,
                       policy_code, select_match)
from .perfmap import is_perf_map_path, parse_perf_map
from .sources import parse_text, read_fd, read_file
from .symbol import AddressInfo, Symbol
from .tablefile import (build_provenance, encode_provenance, is_live, live_region_ends, staleness,
                        write_atomically)

__all__ = [
    "SymbolTable",
    "address_section",
    "build_arrays",
    "check_record",
    "compress_symbols",
    "kernel_order",
    "may_be_linker_script_provided",
    "module_sections",
    "names_and_markers",
    "read_tokens",
    "record_offsets",
    "seqs_of_names",
    "token_table_and_index",
]

_U64_MAX = (1 << 64) - 1
_U16_MAX = 0xFFFF
_U32_MAX = 0xFFFFFFFF

# C isspace() plus NUL: never inside a name.  Module names also exclude brackets
# because /proc/kallsyms prints them as "[module]".
_BAD_NAME_BYTES = b"\0 \t\n\x0b\x0c\r"
_BAD_MODULE_BYTES = _BAD_NAME_BYTES + b"[]"
_BAD_NAME_BYTES_BUT_SPACE = _BAD_NAME_BYTES.replace(b" ", b"")

_WEAK_TYPES = frozenset(b"wW")
_BIG_ENDIAN_HOST = sys.byteorder == "big"


# ---- record validation (mirrors ksym_builder_add) ---------------------------


def _type_byte(type_):
    """The type letter of a record as an int, or None if it is not one
    printable, non-space ASCII character."""
    if isinstance(type_, str):
        if len(type_) != 1:
            return None
        value = ord(type_)
    elif isinstance(type_, (bytes, bytearray)):
        if len(type_) != 1:
            return None
        value = type_[0]
    else:
        return None
    return value if 0x21 <= value <= 0x7E else None


def _has_any(data, forbidden):
    return len(data.translate(None, forbidden)) != len(data)


def check_record(record, position, allow_spaces=False):
    """Validate one ``(address, type, name, module[, size])`` record as
    ``ksym_builder_add_sized`` does.

    Returns ``(address, type byte, name bytes, module bytes or None, size)``;
    ``None`` is the core kernel, size 0 unknown.  Raises
    :class:`InvalidSymbolError` naming ``position``.  ``allow_spaces`` lets
    names hold the space character (perf maps; ksym_builder_allow_spaces).
    """
    address, type_, name, module, size = unpack_record(record, position)
    letter = _type_byte(type_)
    if letter is None:
        raise InvalidSymbolError(f"type {type_!r} is not one printable, non-space ASCII character",
                                 position)
    try:
        name = encode_name(name)
        module = None if module is None else encode_name(module)
    except (TypeError, UnicodeEncodeError) as exc:
        raise InvalidSymbolError(str(exc), position) from None
    if not name:
        raise InvalidSymbolError("empty name", position)
    if len(name) > _format.NAME_MAX:
        raise InvalidSymbolError(f"name longer than {_format.NAME_MAX} bytes", position)
    if _has_any(name, _BAD_NAME_BYTES_BUT_SPACE if allow_spaces else _BAD_NAME_BYTES):
        raise InvalidSymbolError("name contains whitespace or NUL", position)
    if module is not None:
        # None is the core kernel; an empty name is an error, not a synonym
        # (module_len == 0 means "no module" only at the C level).
        if not module:
            raise InvalidSymbolError("empty module name", position)
        if len(module) > _format.MODULE_NAME_MAX:
            raise InvalidSymbolError(f"module name longer than {_format.MODULE_NAME_MAX} bytes",
                                     position)
        if _has_any(module, _BAD_MODULE_BYTES):
            raise InvalidSymbolError("module name contains whitespace, NUL or brackets", position)
    return address, letter, name, module, size


# ---- address order (scripts/kallsyms.c compare_symbols) ---------------------


def may_be_linker_script_provided(name):
    """True for names a linker script may define next to a real symbol at the
    same address (``__start_*``, ``__stop_*``, ``__end_*``, ``__*_start``,
    ``__*_end``, at least 8 bytes): they sort after the real one."""
    if len(name) < 8 or not name.startswith(b"__"):
        return False
    return name.startswith((b"__start_", b"__stop_", b"__end_")) or name.endswith((b"_start", b"_end"))


def kernel_order(addresses, types, names):
    """Input positions in the kernel's table order.

    By address; at one address non-weak before weak, real before linker-script
    provided, fewer leading underscores first, then input order (the sort is
    stable, which is the kernel's final tie-break on the input sequence).
    """
    keys = [
        (address, letter in _WEAK_TYPES,
         name[:2] == b"__" and may_be_linker_script_provided(name),
         len(name) - len(name.lstrip(b"_")))  # leading underscores
        for address, letter, name in zip(addresses, types, names)
    ]
    return sorted(range(len(keys)), key=keys.__getitem__)


# ---- token compression (scripts/kallsyms.c optimize_token_table) ------------


def _u16_pairs(blob):
    """Every adjacent byte pair of ``blob`` as the index first + 256 * second,
    overlapping: the pairs at even offsets, then those at odd offsets.

    A little-endian u16 read at offset k is exactly pair k's index, so the
    array module does the work in C."""
    n = len(blob)
    even = array("H", blob[: n & ~1])
    odd = array("H", blob[1 : 1 + ((n - 1) & ~1)]) if n > 1 else array("H")
    if _BIG_ENDIAN_HOST:
        even.byteswap()
        odd.byteswap()
    return even, odd


class _PairCompressor:
    """The kernel's greedy pair substitution, kept exact but done in bulk.

    All symbol strings live in one ``blob``, each preceded and followed by a
    separator byte that occurs in no symbol (the lowest free code, whose round
    comes last).  No pair and no occurrence can then span two symbols, so one
    ``blob.split(pair)`` per round finds, left to right and non-overlapping,
    exactly the occurrences the kernel's compress_symbols replaces in each
    symbol, and ``code.join(pieces)`` is the substituted table.

    ``counts[p]`` is kept equal to the kernel's ``token_profit[p]``: the
    overlapping occurrences of pair ``p`` over all symbols.  Only pairs that
    touch a replaced occurrence change, and the pieces tell which they are.
    A heap of ``(-count, pair)`` with lazy invalidation gives the best pair
    without scanning all 65536 counts each round.
    """

    def __init__(self, strings):
        present = set(b"".join(strings))
        self.literals = sorted(present)
        free = [code for code in range(_format.TOKENS) if code not in present]
        self.counts = [0] * 65536
        self.heap = []
        self.syms = None  # the blob holds the symbols until symbols() splits it
        if not free or not strings:
            self.separator = None
            self.syms = list(strings)
            return
        self.separator = free[0]
        sep = bytes((self.separator,))
        self.blob = sep + sep.join(strings) + sep
        counts = self.counts
        for pairs in _u16_pairs(self.blob):
            for pair, count in Counter(pairs).items():
                counts[pair] += count
        # Pairs with the separator are seams between symbols, not symbol pairs.
        for other in range(256):
            counts[other | (self.separator << 8)] = 0
            counts[self.separator | (other << 8)] = 0
        self.heap = [(-count, pair) for pair, count in enumerate(counts) if count]
        heapify(self.heap)

    def find_best_pair(self):
        """The pair with the highest count, ties to the lowest index; None
        when no pair occurs any more."""
        heap, counts = self.heap, self.counts
        while heap:
            negative, pair = heap[0]
            if counts[pair] == -negative:
                return pair
            heappop(heap)  # stale: the count changed since this entry was pushed
        return None

    def _change(self, pair, change):
        count = self.counts[pair] + change
        self.counts[pair] = count
        if count:
            heappush(self.heap, (-count, pair))

    def substitute(self, pair, code):
        """Replace the non-overlapping occurrences of ``pair``, left to right,
        with ``code`` in every symbol, keeping the counts exact."""
        first, second = pair & 0xFF, pair >> 8
        pattern, token = bytes((first, second)), bytes((code,))
        if code == self.separator:
            # The last round (the separator is the lowest free code): split the
            # symbols out before ``code`` becomes ambiguous; no count is read
            # after this round.
            self.syms = [sym.replace(pattern, token) for sym in self._split_symbols()]
            self.separator = None
            return
        # bytes.split scans left to right and resumes after each match: the
        # kernel's replacement order, even when first == second ("aaa" -> code "a").
        pieces = self.blob.split(pattern)
        self.blob = token.join(pieces)
        occurrences = len(pieces) - 1
        # The blob starts and ends with the separator, so the first and last
        # pieces are never empty; an empty inner piece is two adjacent
        # occurrences: their (second, first) pair becomes (code, code).
        filled = list(filter(None, pieces))
        adjacent = len(pieces) - len(filled)
        befores = Counter(bytes(map(itemgetter(-1), filled[:-1])))  # byte before an occurrence
        afters = Counter(bytes(map(itemgetter(0), filled[1:])))  # byte after an occurrence
        self._change(pair, -occurrences)
        if adjacent:
            self._change(second | (first << 8), -adjacent)
            self._change(code | (code << 8), adjacent)
        separator = self.separator
        for byte, n in befores.items():
            if byte != separator:
                self._change(byte | (first << 8), -n)
                self._change(byte | (code << 8), n)
        for byte, n in afters.items():
            if byte != separator:
                self._change(second | (byte << 8), -n)
                self._change(code | (byte << 8), n)

    def _split_symbols(self):
        return self.blob[1:-1].split(bytes((self.separator,)))

    def symbols(self):
        """The compressed symbol strings, in input order."""
        if self.separator is not None:
            self.syms = self._split_symbols()
            self.separator = None
        return self.syms


def compress_symbols(strings):
    """Compress symbol strings (type letter + name) as scripts/kallsyms.c does.

    Every byte value that occurs becomes a literal token; then each still
    free code from 255 down to 0 takes the most frequent adjacent pair (ties
    to the lowest ``first + 256 * second``) until no pair is left.  Returns
    ``(compressed strings, expansions)`` where ``expansions[c]`` is the full
    text of code ``c`` (``b""`` for a code that got no token).
    """
    state = _PairCompressor(strings)
    expansions = [b""] * _format.TOKENS
    for code in state.literals:
        expansions[code] = bytes((code,))
    # Slot 0 is filled last, as in the kernel (keeps string functions happy).
    for code in range(_format.TOKENS - 1, -1, -1):
        if expansions[code]:
            continue
        pair = state.find_best_pair()
        if pair is None:
            break
        expansions[code] = expansions[pair & 0xFF] + expansions[pair >> 8]
        state.substitute(pair, code)
    return state.symbols(), expansions


# ---- the kernel's arrays ----------------------------------------------------


def _length_prefix(length):
    """The 1- or 2-byte record prefix of a compressed length (kernel >= 6.1)."""
    if length <= _format.LEN_1BYTE_MAX:
        return bytes((length,))
    return bytes(((length & 0x7F) | 0x80, length >> 7))


def names_and_markers(compressed):
    """``kallsyms_names`` and the record offsets ``kallsyms_markers`` keeps."""
    # A compressed record is never longer than its type letter + name.
    prefixes = [_length_prefix(length) for length in range(_format.NAME_MAX + 2)]
    records = [prefixes[len(codes)] + codes for codes in compressed]
    offsets = list(accumulate(map(len, records), initial=0))
    marker_offsets = offsets[: len(records)][:: _format.MARKER_STRIDE]
    if marker_offsets and marker_offsets[-1] > _U32_MAX:
        raise Error("names array too large for 32-bit markers")
    return b"".join(records), struct.pack(f"<{len(marker_offsets)}I", *marker_offsets)


def token_table_and_index(expansions):
    """``kallsyms_token_table`` (NUL-terminated strings in code order) and
    ``kallsyms_token_index`` (u16 little-endian offsets)."""
    offsets = []
    parts = []
    offset = 0
    for text in expansions:
        offsets.append(offset)
        parts.append(text + b"\0")
        offset += len(text) + 1
    if offsets[-1] > _U16_MAX:
        raise Error("token table would exceed its 16-bit offsets")
    return b"".join(parts), struct.pack(f"<{len(offsets)}H", *offsets)


def seqs_of_names(names):
    """``kallsyms_seqs_of_names``: per name-order position the address-order
    index, 3 bytes big-endian.  Name order: bytewise name (without the type
    letter), then address, then index; ``names`` must be in table order."""
    # Indexes already run in (address, index) order, so a stable sort by name
    # alone gives (name, address, index).
    order = sorted(range(len(names)), key=names.__getitem__)
    width = _format.SEQ_BYTES
    return b"".join([i.to_bytes(width, "big") for i in order])


def build_arrays(strings, names):
    """All five kernel arrays for symbols already in table order.

    ``strings`` are type letter + name, ``names`` the bare names.
    """
    compressed, expansions = compress_symbols(strings)
    names_bytes, markers = names_and_markers(compressed)
    token_table, token_index = token_table_and_index(expansions)
    seqs = seqs_of_names(names)
    return {
        "names": names_bytes,
        "markers": markers,
        "token_table": token_table,
        "token_index": token_index,
        "seqs_of_names": seqs,
    }


def read_tokens(token_table, token_index):
    """The 256 expansions, read as the kernel reads them:
    ``token_table + token_index[c]`` up to the NUL."""
    offsets = struct.unpack(f"<{_format.TOKENS}H", token_index)
    return tuple(token_table[start : token_table.index(b"\0", start)] for start in offsets)


# ---- table files (docs/format.md) --------------------------------------------

# The kernel arrays and the file sections that hold them.
_ARRAY_SECTIONS = (
    ("names", _format.SEC_NAMES),
    ("markers", _format.SEC_MARKERS),
    ("token_table", _format.SEC_TOKEN_TABLE),
    ("token_index", _format.SEC_TOKEN_INDEX),
    ("seqs_of_names", _format.SEC_SEQS),
)


def record_offsets(names, count, stride):
    """Offsets in ``names`` of records 0, ``stride``, 2 * ``stride``, ...
    (below ``count``): one walk over the length prefixes."""
    offsets = []
    offset = 0
    for i in range(count):
        if i % stride == 0:
            offsets.append(offset)
        length = names[offset]
        if length & 0x80:
            offset += 2 + ((length & 0x7F) | (names[offset + 1] << 7))
        else:
            offset += 1 + length
    return offsets


def address_section(addresses):
    """``(section bytes, flags, base)`` for sorted addresses: u32 offsets
    from the lowest when the span fits 32 bits, else u64 addresses with
    ``ADDR_WIDE`` and base 0."""
    n = len(addresses)
    if n and addresses[-1] - addresses[0] > _U32_MAX:
        return struct.pack(f"<{n}Q", *addresses), _format.FILE_FLAG_ADDR_WIDE, 0
    base = addresses[0] if n else 0
    return struct.pack(f"<{n}I", *[address - base for address in addresses]), 0, base


def module_sections(module_ids, module_names):
    """The module sections ({id: bytes}) for per-symbol module ids (-1 =
    core kernel) and the names (bytes) by id; none without modules.

    Membership is stored as the maximal runs of one module value in table
    order when they number at most count / 8 (modules are contiguous in
    /proc/kallsyms), else as one u16 value per symbol (0 = core, k =
    module k - 1)."""
    if not module_names:
        return {}
    values = [module_id + 1 for module_id in module_ids]
    runs = [(i, value) for i, value in enumerate(values) if i == 0 or value != values[i - 1]]
    if len(runs) <= len(values) // 8:
        membership = {_format.SEC_MODULE_RUNS: struct.pack(f"<{2 * len(runs)}I", *chain.from_iterable(runs))}
    else:
        membership = {_format.SEC_MODULE_IDS: struct.pack(f"<{len(values)}H", *values)}
    offsets = list(accumulate((len(name) + 1 for name in module_names[:-1]), initial=0))
    return {
        **membership,
        _format.SEC_MODULE_OFFSETS: struct.pack(f"<{len(offsets)}I", *offsets),
        _format.SEC_MODULE_NAMES: b"".join(name + b"\0" for name in module_names),
    }


def _region_ends(region_ends, module_ids):
    """``(core end, [end of module k])`` from a ``{module or None: end}``
    mapping, for modules numbered as in ``module_ids`` ({name bytes: id})."""
    core, ends = 0, [0] * len(module_ids)
    for module, end in (region_ends or {}).items():
        if not isinstance(end, int) or not 0 < end <= _U64_MAX:
            raise Error(f"region end {end!r} of {module!r} is not an address above 0")
        if module is None:
            core = end
            continue
        key = encode_name(module)
        if key not in module_ids:
            raise Error(f"module {decode_name(key)!r} has no symbols")
        ends[module_ids[key]] = end
    return core, ends


# ---- the table --------------------------------------------------------------


class SymbolTable:
    """A kernel-style compressed symbol table, in pure Python.

    Same API and answers as the C-backed :class:`pysyms.SymbolTable`.  Index
    ``i`` is the i-th symbol in kernel order (address, then the kernel's
    alias tie-breaks).  Build one with :meth:`from_kallsyms`,
    :meth:`from_file`, :meth:`from_text` or :meth:`from_records`.
    """

    __slots__ = ("_names", "_markers", "_token_table", "_token_index", "_seqs", "_addresses",
                 "_module_ids", "_module_names", "_tokens", "_count", "_provenance",
                 "_core_end", "_module_ends", "_sizes")

    def __init__(self, arrays, addresses, module_ids, module_names, provenance=None, region_ends=None,
                 sizes=None):
        """Wrap finished arrays (use the ``from_*`` constructors): ``arrays``
        as :meth:`kernel_arrays` returns them, ``addresses`` an ``array('Q')``
        and ``module_ids`` an ``array('i')`` in table order (-1 for the core
        kernel), ``module_names`` the module names (bytes) by id,
        ``provenance`` where the table came from (a dict; None: built now
        from records), ``region_ends`` ``(core end, [end of module k])``
        with 0 where unknown (None: none known), ``sizes`` every symbol's
        size in table order, 0 where unknown (None: no symbol has one)."""
        self._names = arrays["names"]
        self._markers = arrays["markers"]
        self._token_table = arrays["token_table"]
        self._token_index = arrays["token_index"]
        self._seqs = arrays["seqs_of_names"]
        self._addresses = addresses
        self._module_ids = module_ids
        self._module_names = [decode_name(raw) for raw in module_names]
        self._count = len(addresses)
        # Derived once from the two token arrays (not from the builder), so a
        # lookup still reads what the arrays say.
        self._tokens = read_tokens(self._token_table, self._token_index)
        self._provenance = build_provenance(None) if provenance is None else dict(provenance)
        core_end, module_ends = region_ends or (0, [0] * len(self._module_names))
        self._core_end = core_end
        self._module_ends = list(module_ends)
        self._sizes = None if sizes is None else array("Q", sizes)

    # ---- construction --------------------------------------------------------

    @classmethod
    def from_records(cls, records, region_ends=None):
        """Build from an iterable of ``(address, type, name, module_or_None)``
        or ``(address, type, name, module_or_None, size)`` records.

        Names and modules may be ``str`` (UTF-8, surrogateescape) or
        ``bytes``.  A size (0 = unknown) makes the symbol cover exactly
        ``[address, address + size)``.  A bad record raises :class:`InvalidSymbolError` naming
        its position.  ``region_ends`` maps a module name (None: the core
        kernel) to the end of its memory: the last symbol of each run of
        that region's symbols then covers up to it (DESIGN.md "Address
        lookup"); a module without symbols there raises :class:`Error`.
        """
        return cls._from_records(records, None, region_ends)

    @classmethod
    def _from_records(cls, records, source, region_ends=None, allow_spaces=False):
        """Build from records read from ``source`` (a path, or None)."""
        addresses, types, names, modules, sizes = [], [], [], [], []
        module_ids = {}
        for position, record in enumerate(records):
            if position >= _format.MAX_SYMBOLS:
                raise InvalidSymbolError(f"more than {_format.MAX_SYMBOLS} symbols", position)
            address, letter, name, module, size = check_record(record, position, allow_spaces)
            sizes.append(size)
            addresses.append(address)
            types.append(letter)
            names.append(name)
            # Module ids in order of first appearance among the records added.
            if module is not None and module not in module_ids and len(module_ids) >= _format.MAX_MODULES:
                raise InvalidSymbolError(f"more than {_format.MAX_MODULES} distinct modules", position)
            modules.append(-1 if module is None else module_ids.setdefault(module, len(module_ids)))
        order = kernel_order(addresses, types, names)
        addresses = [addresses[i] for i in order]
        names = [names[i] for i in order]
        strings = [bytes((types[i],)) + name for i, name in zip(order, names)]
        arrays = build_arrays(strings, names)
        ends = _region_ends(region_ends, module_ids)
        # A table holds sizes only when some symbol has one (as ksym_builder_finish).
        sizes = [sizes[i] for i in order] if any(sizes) else None
        return cls(arrays, array("Q", addresses), array("i", [modules[i] for i in order]),
                   list(module_ids), build_provenance(source), ends, sizes)

    @classmethod
    def from_text(cls, data, path=None, region_ends=None):
        """Build from the bytes of a kallsyms, System.map or nm listing."""
        return cls._from_records(parse_text(data, path), path, region_ends)

    @classmethod
    def from_file(cls, path, region_ends=None):
        """Build from a file in ``/proc/kallsyms``, System.map or ``nm`` format,
        a ``perf-<pid>.map`` (by its name: :meth:`from_perf_map`) or an ELF
        file (by its first bytes: :meth:`from_elf`).

        A bad line raises :class:`ParseError` with the file and line number.
        The running kernel's ``/proc/kallsyms`` takes its module ends from
        ``/proc/modules`` unless ``region_ends`` is given.
        """
        if is_perf_map_path(path):
            return cls.from_perf_map(path)
        if elf.file_is_elf(path):
            return cls.from_elf(path)
        if region_ends is None and is_live(path):
            region_ends = live_region_ends()
        return cls.from_text(read_file(path), os.fspath(path), region_ends)

    @classmethod
    def from_fd(cls, fd, path=None, region_ends=None):
        """Build from the text read from file descriptor ``fd`` to its end;
        ``path`` names the source in errors.  ``fd`` stays open."""
        return cls.from_text(read_fd(fd, path), path, region_ends)

    @classmethod
    def from_elf(cls, path, *, which="auto", module=None):
        """Build from the symbol table of an ELF file, read by the pure-Python
        reader of :mod:`pysyms.elf` (same rules, warnings and errors as the
        C table's ``from_elf``)."""
        path = os.fspath(path)
        data = read_file(path)
        try:
            symbols = elf.read_symbols(data, which)
        except elf.ElfError as exc:
            raise elf.ElfError(exc.reason, exc.offset, path) from None
        if module is None:
            module = elf.module_of_path(path)
        records, skipped = elf.table_records(symbols, module)
        if not records:
            raise elf.no_symbols_error(path, which, skipped)
        elf.warn_skipped(path, skipped)
        return cls._from_records(records, path)

    @classmethod
    def from_perf_map(cls, path):
        """Build from a JIT's ``perf-<pid>.map`` (:mod:`pysyms.perfmap`):
        sized symbols whose names may hold spaces."""
        records = parse_perf_map(read_file(path), os.fspath(path))
        return cls._from_records(records, os.fspath(path), allow_spaces=True)

    @classmethod
    def from_image(cls, data, *, slide=0, path=None, **hints):
        """Build from the kernel's kallsyms tables inside a kernel image with
        the pure-Python locator and decoder: the reference of the C
        ``from_image``.  Boot images are decompressed by the same
        :mod:`pysyms.bootimage` as the C table's (its own pure-Python lz4
        block decoder is tested against the C one separately)."""
        from . import kimage

        payload, arch = kimage._kernel_payload(data)
        if arch in kimage._WORD_OF_ARCH and "word" not in hints:
            hints["word"] = kimage._WORD_OF_ARCH[arch]
        records, _ = kimage.decode_image(payload, impl="python", slide=slide, **hints)
        return cls._from_records([(a, t, n, None) for a, t, n in records], path)

    @classmethod
    def from_vmlinux(cls, path, *, slide=0, **hints):
        """:meth:`from_image` of the file at ``path``."""
        with open(path, "rb") as f:
            data = f.read()
        return cls.from_image(data, slide=slide, path=os.fspath(path), **hints)

    @classmethod
    def from_kallsyms(cls, path="/proc/kallsyms", region_ends=None):
        """Build from the running kernel's ``/proc/kallsyms`` (or a copy of one)."""
        return cls.from_file(path, region_ends)

    # ---- reading the arrays like the kernel ------------------------------------

    def _marker(self, k):
        return struct.unpack_from("<I", self._markers, 4 * k)[0]

    def get_symbol_offset(self, pos):
        """Offset in ``names`` of record ``pos``: jump to its marker, then skip
        the records in between (at most MARKER_STRIDE - 1)."""
        names = self._names
        stride = _format.MARKER_STRIDE
        offset = self._marker(pos // stride)
        for _ in range(pos % stride):
            length = names[offset]
            if length & 0x80:
                offset += 2 + ((length & 0x7F) | (names[offset + 1] << 7))
            else:
                offset += 1 + length
        return offset

    def expand_symbol(self, offset):
        """``(type letter + name, offset of the next record)`` of the record at
        ``offset``: read the length prefix, expand every code."""
        names = self._names
        length = names[offset]
        if length & 0x80:
            length = (length & 0x7F) | (names[offset + 1] << 7)
            offset += 2
        else:
            offset += 1
        end = offset + length
        return b"".join(map(self._tokens.__getitem__, names[offset:end])), end

    def get_symbol_seq(self, pos):
        """Address-order index of the symbol at name-order position ``pos``."""
        width = _format.SEQ_BYTES
        return int.from_bytes(self._seqs[pos * width : (pos + 1) * width], "big")

    def _name_at_position(self, pos):
        """Name (without type) of the symbol at name-order position ``pos``."""
        return self.expand_symbol(self.get_symbol_offset(self.get_symbol_seq(pos)))[0][1:]

    def _name_run(self, name, want_end):
        """Name-order positions ``(start, end)`` of the symbols named exactly
        ``name``, or None: the kernel's kallsyms_lookup_names.  Binary search
        over seqs_of_names, then walk left to the first equal name (and right
        to the last when ``want_end``)."""
        low, high = 0, self._count - 1
        while low <= high:
            mid = low + (high - low) // 2
            probe = self._name_at_position(mid)
            if name > probe:
                low = mid + 1
            elif name < probe:
                high = mid - 1
            else:
                break
        else:
            return None
        start = mid
        while start > 0 and self._name_at_position(start - 1) == name:
            start -= 1
        end = mid
        if want_end:
            while end < self._count - 1 and self._name_at_position(end + 1) == name:
                end += 1
        return start, end

    def _module_of(self, i):
        module_id = self._module_ids[i]
        return None if module_id < 0 else self._module_names[module_id]

    # ---- symbols ---------------------------------------------------------------

    def __len__(self):
        return self._count

    def _symbol(self, i, text):
        return Symbol(self._addresses[i], chr(text[0]), decode_name(text[1:]), self._module_of(i))

    def __getitem__(self, i):
        """Symbol ``i`` in table order (negative indexes count from the end)."""
        i = check_index(i, self._count)
        text, _ = self.expand_symbol(self.get_symbol_offset(i))
        return self._symbol(i, text)

    def __iter__(self):
        """Every symbol in table order: one sequential walk over ``names``."""
        offset = 0
        expand = self.expand_symbol
        for i in range(self._count):
            text, offset = expand(offset)
            yield self._symbol(i, text)

    def __repr__(self):
        return f"<pysyms.reference.SymbolTable of {self._count} symbols>"

    def names(self):
        """Every name in table order, as a list of ``str``."""
        return [symbol.name for symbol in self]

    @property
    def modules(self):
        """Names of the modules that own symbols, in module-id order."""
        return list(self._module_names)

    @property
    def has_sizes(self):
        """Whether the source gave symbols sizes (ELF, perf maps, ``nm -S``)."""
        return self._sizes is not None

    def size_of(self, i):
        """The size symbol ``i`` was given by its source, 0 when unknown."""
        i = check_index(i, self._count)
        return 0 if self._sizes is None else self._sizes[i]

    # ---- lookups ---------------------------------------------------------------

    def lookup_name_index(self, name):
        """Index of the lowest-address symbol named exactly ``name``, or None."""
        run = self._name_run(encode_name(name), want_end=False)
        return None if run is None else self.get_symbol_seq(run[0])

    def lookup_name(self, name):
        """Address of the lowest-address symbol named exactly ``name``, or None.

        Exact bytewise match, as the kernel's ``kallsyms_lookup_name`` (>= 6.11).
        """
        i = self.lookup_name_index(name)
        return None if i is None else self._addresses[i]

    def lookup_all(self, name):
        """Indexes of every symbol named exactly ``name``, in address order
        (the kernel's ``kallsyms_on_each_match_symbol``)."""
        run = self._name_run(encode_name(name), want_end=True)
        if run is None:
            return []
        return [self.get_symbol_seq(pos) for pos in range(run[0], run[1] + 1)]

    def lookup_addr(self, address):
        """The symbol covering ``address`` as an :class:`AddressInfo`, or None.

        The greatest symbol address <= ``address``; among aliases the first in
        table order.  When that first alias has a size, it covers exactly
        ``[start, start + size)``.  Otherwise the region rule of
        docs/semantics.md: ``size`` runs to the next strictly higher address
        in its region; the last symbol of a run reaches its region's end
        when known, else answers only at its own address (size 0).
        """
        if not 0 <= address <= _U64_MAX:
            return None
        addresses = self._addresses
        last = bisect_right(addresses, address) - 1
        if last < 0:
            return None
        start = addresses[last]
        first = bisect_left(addresses, start, 0, last)  # first alias at that address
        following = last + 1  # bisect_right already gave the first strictly higher one
        module = self._module_ids[last]
        own = self._sizes[first] if self._sizes is not None else 0
        if own:
            if address - start >= own:
                return None
            size = own
        elif following < self._count and self._module_ids[following] == module:
            size = addresses[following] - start  # inside one region
        else:
            # the last symbol of a run of its region: up to the region's end
            # when known (but not past the next region's first symbol)
            end = self._core_end if module < 0 else self._module_ends[module]
            if end > start:
                if following < self._count and end > addresses[following]:
                    end = addresses[following]
                elif address >= end:
                    return None
                size = end - start
            elif address == start:
                size = 0
            else:
                return None
        text, _ = self.expand_symbol(self.get_symbol_offset(first))
        return AddressInfo(decode_name(text[1:]), start, address - start, size, self._module_of(first), first)

    # ---- batches (issue #6) ------------------------------------------------------

    def symbolize(self, addresses, out=None):
        """``(indexes, offsets)`` of many addresses: ``lookup_addr`` one by one
        (-1 and 0 where no symbol covers an address); same types as the C
        table's."""
        view, numpy_in = batch.address_view(addresses)
        n = len(view)
        indexes, offsets = batch.new_results(n, numpy_in) if out is None else batch.check_out(out, n)
        for k, address in enumerate(view):
            info = self.lookup_addr(address)
            indexes[k], offsets[k] = (-1, 0) if info is None else (info.index, info.offset)
        return indexes, offsets

    def format(self, addresses, style="%pS"):
        """The kernel's ``%pS`` / ``%ps`` / ``%pB`` text of each address."""
        if style not in batch.STYLES:
            raise ValueError(f"style must be one of {', '.join(batch.STYLES)}, not {style!r}")
        view, _ = batch.address_view(addresses)
        return [batch.format_line(self.lookup_addr, address, style) for address in view]

    def format_bytes(self, addresses, style="%pS"):
        """The lines of :meth:`format` as one ``bytes``, each ending in ``\n``."""
        return "".join(line + "\n" for line in self.format(addresses, style)).encode("utf-8", "surrogateescape")

    # ---- the kernel's arrays ---------------------------------------------------

    def kernel_arrays(self):
        """The kernel's arrays as ``bytes``, byte for byte as scripts/kallsyms.c
        lays them out: ``names``, ``markers``, ``token_table``, ``token_index``,
        ``seqs_of_names``."""
        return {
            "names": self._names,
            "markers": self._markers,
            "token_table": self._token_table,
            "token_index": self._token_index,
            "seqs_of_names": self._seqs,
        }

    def _names_figures(self):
        """``(prefix_bytes, name_bytes)`` of the names array, as
        ``ksym_names_figures`` computes them: the bytes its length prefixes
        take, and the bytes its names expand to (each without the type letter
        its expansion starts with)."""
        prefixes = name_bytes = offset = 0
        for _ in range(self._count):
            prefixes += 2 if self._names[offset] & 0x80 else 1
            text, offset = self.expand_symbol(offset)
            name_bytes += max(len(text) - 1, 0)
        return prefixes, name_bytes

    def memory_size(self):
        """Bytes of the arrays this table holds (not Python object overhead)."""
        arrays = (self._names, self._markers, self._token_table, self._token_index, self._seqs)
        return (sum(map(len, arrays)) + len(self._addresses) * self._addresses.itemsize
                + len(self._module_ids) * self._module_ids.itemsize
                + sum(len(m.encode("utf-8", "surrogateescape")) + 1 for m in self._module_names)
                + (0 if self._sizes is None else (8 if max(self._sizes) > 0xFFFFFFFF else 4) * self._count))

    # ==== table files (issue #4, docs/format.md) ==============================

    @property
    def provenance(self):
        """Where this table came from, as a dict (a copy): ``source``,
        ``created``, ``pysyms_version`` and, for the running kernel's
        /proc/kallsyms, what :meth:`is_stale` compares."""
        return copy.deepcopy(self._provenance)

    def is_stale(self):
        """False when the table was built from this boot's /proc/kallsyms
        with the same modules loaded, True when the running kernel has moved
        on, None when that cannot be told (not built from /proc/kallsyms)."""
        return staleness(self._provenance)[0]

    def _name_sample(self):
        """The first 16 bytes, zero-padded, of every 16th name in name order."""
        width = _format.SAMPLE_BYTES
        return b"".join(self._name_at_position(pos)[:width].ljust(width, b"\0")
                        for pos in range(0, self._count, _format.NAME_SAMPLE))

    def to_bytes(self):
        """This table as the bytes of a table file (docs/format.md): what
        :meth:`save` writes, byte for byte what the C writer makes of the
        same table and provenance."""
        provenance = encode_provenance(self._provenance)
        if len(provenance) > _format.FILE_MAX_PROVENANCE:
            raise Error(f"provenance is {len(provenance)} bytes, more than {_format.FILE_MAX_PROVENANCE}")
        addresses, flags, base = address_section(self._addresses)
        fine = record_offsets(self._names, self._count, _format.FINE_STRIDE)
        modules = [encode_name(name) for name in self._module_names]
        sections = {section_id: self.kernel_arrays()[key] for key, section_id in _ARRAY_SECTIONS}
        sections.update({
            _format.SEC_ADDRESSES: addresses,
            _format.SEC_FINE: struct.pack(f"<{len(fine)}I", *fine),
            _format.SEC_NAME_SAMPLE: self._name_sample(),
            _format.SEC_PROVENANCE: provenance,
            **module_sections(self._module_ids, modules),
        })
        if any(self._module_ends):
            sections[_format.SEC_MODULE_ENDS] = struct.pack(f"<{len(modules)}Q", *self._module_ends)
        if self._sizes is not None:
            width = "Q" if max(self._sizes) > 0xFFFFFFFF else "I"
            sections[_format.SEC_SIZES] = struct.pack(f"<{self._count}{width}", *self._sizes)
        if self._core_end:
            flags |= _format.FILE_FLAG_HAS_END
        return container.write(sections, count=self._count, module_count=len(modules), flags=flags,
                               base=base, end_address=self._core_end)

    def save(self, path):
        """Write this table to ``path`` as a table file, atomically (the old
        file, if any, stays whole until the new one replaces it)."""
        write_atomically(path, self.to_bytes())

    @classmethod
    def from_bytes(cls, data, path=None):
        """The table held in the bytes of a table file.  Every check of
        docs/format.md "Validation at open" runs first; a file that fails
        one raises :class:`CorruptTableError` (``path`` names it)."""
        header, sections = container.read(data, path)
        arrays = {key: bytes(sections[section_id]) for key, section_id in _ARRAY_SECTIONS}
        addresses = array("Q", container.addresses(header, sections))
        module_ids = array("i", [value - 1 for value in container.module_values(header, sections)])
        provenance = header["provenance"]
        return cls(arrays, addresses, module_ids, container.module_names(sections),
                   {} if provenance is None else provenance, container.region_ends(header, sections),
                   container.sizes(header, sections))

    @classmethod
    def open(cls, path):
        """The table saved in the file ``path`` (see :meth:`from_bytes`).
        The reference reads the whole file; the C table maps it."""
        with open(path, "rb") as f:
            data = f.read()
        return cls.from_bytes(data, os.fspath(path))

    # ==== end of table files ====================================================

    # ==== suffix-aware matching and globs (issue #3) ==========================
    # Semantics: pysyms/matching.py.  Candidates come from a range search over
    # seqs_of_names (the kernel's binary search, for a prefix); each one is
    # then checked against the strip rules by their definitions.

    def _prefix_range(self, prefix):
        """Name-order positions ``(lo, hi)`` of the names beginning with ``prefix``."""
        low, high = 0, self._count
        while low < high:  # first name not < prefix
            mid = (low + high) // 2
            if self._name_at_position(mid) < prefix:
                low = mid + 1
            else:
                high = mid
        start, high = low, self._count
        while low < high:  # first name after every name beginning with prefix
            mid = (low + high) // 2
            probe = self._name_at_position(mid)
            if probe < prefix or probe.startswith(prefix):
                low = mid + 1
            else:
                high = mid
        return start, low

    def _match(self, i, kind):
        text, _ = self.expand_symbol(self.get_symbol_offset(i))
        return Match(self._addresses[i], decode_name(text[1:]), chr(text[0]), self._module_of(i), i, kind)

    def _matches(self, name, suffix, module):
        query, module_filter = parse_query(name, module)
        policy_code(suffix)
        q = encode_name(query)
        if not q or len(q) > _format.NAME_MAX:
            return query, module_filter, []

        def keep(i):
            return module_filter is ANY_MODULE or self._module_of(i) == module_filter

        exact = [i for i in self.lookup_all(q) if keep(i)]
        if exact or suffix == "none":
            return query, module_filter, [self._match(i, "exact") for i in exact]
        low, high = self._prefix_range(q + b".")
        found = []
        for pos in range(low, high):
            i = self.get_symbol_seq(pos)
            if keep(i):
                kind = match_kind(self._name_at_position(pos), q, suffix)
                if kind is not None:
                    found.append((i, kind))
        found.sort()
        return query, module_filter, [self._match(i, kind) for i, kind in found]

    def matches(self, name, suffix="none", module=None):
        """Every symbol matching ``name`` as :class:`~pysyms.Match` objects in
        address order; see :meth:`pysyms.SymbolTable.matches`."""
        return self._matches(name, suffix, module)[2]

    def lookup(self, name, suffix="none", sympos=0, module=None):
        """One symbol as a :class:`~pysyms.Match`; see :meth:`pysyms.SymbolTable.lookup`."""
        query, module_filter, found = self._matches(name, suffix, module)
        return select_match(found, query, module_filter, suffix, sympos)

    def lookup_name_without_suffix(self, name):
        """Address of the lowest-address symbol named exactly ``name``; if there
        is none, of the lowest-address one whose name cut at its first
        ``.llvm.`` is ``name``; else None."""
        found = self.matches(encode_name(name), "llvm", module=None)
        return found[0].address if found else None

    def glob(self, pattern):
        """Iterator of the :class:`Symbol` objects whose names match the
        ftrace-style glob ``pattern``, in table order."""
        pattern = encode_name(pattern)
        return (self._symbol(i, text) for i, text in self._glob(glob_regex(pattern), glob_literal_prefix(pattern)))

    def glob_indexes(self, pattern):
        """The table indexes of the symbols :meth:`glob` yields, as an
        ``array('I')``: the matching without a Python object per symbol."""
        pattern = encode_name(pattern)
        return array("I", [i for i, _ in self._glob(glob_regex(pattern), glob_literal_prefix(pattern))])

    def _glob(self, regex, prefix):
        """``(index, expanded text)`` of every match, in table order."""
        fullmatch = regex.fullmatch
        if prefix:
            low, high = self._prefix_range(prefix)
            for i in sorted(self.get_symbol_seq(pos) for pos in range(low, high)):
                text, _ = self.expand_symbol(self.get_symbol_offset(i))
                if fullmatch(text, 1):
                    yield i, text
            return
        offset = 0
        expand = self.expand_symbol
        for i in range(self._count):
            text, offset = expand(offset)
            if fullmatch(text, 1):
                yield i, text

    # ==== end of suffix-aware matching ==========================================
