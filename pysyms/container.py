"""The table file container in pure Python: the reference writer and reader
of docs/format.md.

:func:`write` lays sections out behind a header and a directory;
:func:`read` accepts bytes only after every check of "Validation at open",
in that order, and raises :class:`CorruptTableError` naming the check, the
section and the file offset otherwise.  csrc/file.c is the C twin: for the
same sections both write the same bytes.  What the sections mean to a
table (how a ``SymbolTable`` fills and reads them) is in
``pysyms.reference``; the small decoders here are shared by the checks and
by that reader.
"""

import struct

from . import _format as F
from .errors import CorruptTableError
from .tablefile import decode_provenance

__all__ = ["checksum64", "file_checksum", "write", "read", "section_name", "addresses",
           "module_values", "module_names", "MAGIC"]

MAGIC = F.FILE_MAGIC.to_bytes(8, "little")  # b"PYSYMTAB"

_M64 = (1 << 64) - 1
_P1 = 0x9E3779B97F4A7C15
_P2 = 0xC2B2AE3D27D4EB4F
_BLOCK = 32

# magic, version, byte order mark, flags, count, module_count, section_count,
# base, end_address, file_size, checksum
_HEADER = struct.Struct("<8s6I4Q")
_ENTRY = struct.Struct("<IIQQ")
assert _HEADER.size == F.FILE_HEADER_SIZE and _ENTRY.size == F.FILE_ENTRY_SIZE

_KNOWN_FLAGS = F.FILE_FLAG_ADDR_WIDE | F.FILE_FLAG_HAS_END
_MAX_TOKEN = F.NAME_MAX + 1  # a whole name plus its type letter

_SECTION_NAMES = {
    F.SEC_NAMES: "names",
    F.SEC_MARKERS: "markers",
    F.SEC_TOKEN_TABLE: "token_table",
    F.SEC_TOKEN_INDEX: "token_index",
    F.SEC_SEQS: "seqs",
    F.SEC_ADDRESSES: "addresses",
    F.SEC_MODULE_RUNS: "module_runs",
    F.SEC_MODULE_IDS: "module_ids",
    F.SEC_MODULE_OFFSETS: "module_offsets",
    F.SEC_MODULE_NAMES: "module_names",
    F.SEC_FINE: "fine",
    F.SEC_NAME_SAMPLE: "name_sample",
    F.SEC_PROVENANCE: "provenance",
    F.SEC_MODULE_ENDS: "module_ends",
    F.SEC_SIZES: "sizes",
}
_REQUIRED = (F.SEC_NAMES, F.SEC_MARKERS, F.SEC_TOKEN_TABLE, F.SEC_TOKEN_INDEX, F.SEC_SEQS,
             F.SEC_ADDRESSES, F.SEC_FINE, F.SEC_NAME_SAMPLE)
_MODULE_SECTIONS = (F.SEC_MODULE_RUNS, F.SEC_MODULE_IDS, F.SEC_MODULE_OFFSETS, F.SEC_MODULE_NAMES,
                    F.SEC_MODULE_ENDS)


def section_name(section_id):
    """``"section names (id 1)"``: how messages name a section."""
    return f"section {_SECTION_NAMES.get(section_id, 'unknown')} (id {section_id})"


def _ceil_div(a, b):
    return -(-a // b)


def _align(offset):
    return _ceil_div(offset, F.FILE_ALIGN) * F.FILE_ALIGN


# ---- checksum ---------------------------------------------------------------------


def checksum64(data):
    """The format's 64-bit checksum of ``data`` (bytes-like), exactly as
    docs/format.md "Checksum" defines it."""
    view = memoryview(data).cast("B")
    size = len(view)
    whole = size - size % _BLOCK
    v0, v1, v2, v3 = (_P1 * j & _M64 for j in (1, 2, 3, 4))
    blocks = struct.iter_unpack("<4Q", view[:whole])
    if whole != size:
        tail = bytes(view[whole:]).ljust(_BLOCK, b"\0")
        blocks = _chain(blocks, struct.unpack("<4Q", tail))
    # Four lanes written out: this loop is the whole cost of open in Python.
    for w0, w1, w2, w3 in blocks:
        x = (v0 ^ w0) * _P2 & _M64
        v0 = (x << 31 | x >> 33) & _M64
        x = (v1 ^ w1) * _P2 & _M64
        v1 = (x << 31 | x >> 33) & _M64
        x = (v2 ^ w2) * _P2 & _M64
        v2 = (x << 31 | x >> 33) & _M64
        x = (v3 ^ w3) * _P2 & _M64
        v3 = (x << 31 | x >> 33) & _M64
    h = size * _P1 & _M64
    for v in (v0, v1, v2, v3):
        x = h ^ v
        h = (x << 27 | x >> 37) * _P1 & _M64
    h ^= h >> 33
    h = h * 0xFF51AFD7ED558CCD & _M64
    h ^= h >> 33
    h = h * 0xC4CEB9FE1A85EC53 & _M64
    return h ^ h >> 33


def _chain(blocks, last):
    yield from blocks
    yield last


def file_checksum(data):
    """The checksum a table file must hold: :func:`checksum64` of ``data``
    with the 8 checksum bytes read as zero."""
    at = F.FILE_CHECKSUM_OFFSET
    view = memoryview(data).cast("B")
    return checksum64(b"".join((view[:at], bytes(8), view[at + 8:])))


# ---- writing ----------------------------------------------------------------------


def write(sections, *, count, module_count=0, flags=0, base=0, end_address=0):
    """The bytes of a table file holding ``sections`` ({id: bytes-like}).

    The directory lists the sections in id order and they follow it in
    that order, each at the next multiple of 8 (zero bytes between); the
    file ends where the last section ends.  The header fields are given
    here; ``section_count``, ``file_size`` and the checksum are computed.
    Only the layout is checked here, not what the sections hold."""
    ids = sorted(sections)
    for section_id in ids:
        if section_id not in _SECTION_NAMES:
            raise ValueError(f"unknown section id {section_id}")
    if len(ids) > F.FILE_MAX_SECTIONS:
        raise ValueError(f"more than {F.FILE_MAX_SECTIONS} sections")
    offset = F.FILE_HEADER_SIZE + F.FILE_ENTRY_SIZE * len(ids)
    placed = []
    for section_id in ids:
        offset = _align(offset)
        length = len(memoryview(sections[section_id]).cast("B"))
        placed.append((section_id, offset, length))
        offset += length
    buf = bytearray(offset)
    _HEADER.pack_into(buf, 0, MAGIC, F.FILE_VERSION, F.FILE_BYTE_ORDER, flags, count, module_count,
                      len(ids), base, end_address, len(buf), 0)
    for k, (section_id, offset, length) in enumerate(placed):
        _ENTRY.pack_into(buf, F.FILE_HEADER_SIZE + k * F.FILE_ENTRY_SIZE, section_id, 0, offset, length)
        buf[offset:offset + length] = memoryview(sections[section_id]).cast("B")
    # The checksum field is still zero, so this is the file checksum.
    struct.pack_into("<Q", buf, F.FILE_CHECKSUM_OFFSET, checksum64(buf))
    return bytes(buf)


# ---- decoding validated sections ---------------------------------------------------


def _unpack(fmt, data):
    """Every little-endian ``fmt`` item of ``data`` as a tuple."""
    size = struct.calcsize(fmt)
    return struct.unpack(f"<{len(data) // size}{fmt}", data)


def addresses(header, sections):
    """Every symbol's address, from the addresses section and the header's
    base and flags."""
    data = sections[F.SEC_ADDRESSES]
    if header["flags"] & F.FILE_FLAG_ADDR_WIDE:
        return list(_unpack("Q", data))
    base = header["base"]
    return [base + offset for offset in _unpack("I", data)]


def module_values(header, sections):
    """Every symbol's module value (0 = core kernel, k = module id k - 1),
    from module_runs or module_ids; all 0 without module sections."""
    count = header["count"]
    if F.SEC_MODULE_IDS in sections:
        return list(_unpack("H", sections[F.SEC_MODULE_IDS]))
    if F.SEC_MODULE_RUNS not in sections:
        return [0] * count
    runs = _unpack("I", sections[F.SEC_MODULE_RUNS])
    starts, values = runs[0::2], runs[1::2]
    result = []
    for start, end, value in zip(starts, starts[1:] + (count,), values):
        result += [value] * (end - start)
    return result


def sizes(header, sections):
    """Every symbol's size (0 = unknown), or None when the file has no
    section sizes (u32 each, or u64 when the section is 8 bytes a symbol)."""
    if F.SEC_SIZES not in sections:
        return None
    wide = len(sections[F.SEC_SIZES]) == 8 * header["count"]
    return list(_unpack("Q" if wide else "I", sections[F.SEC_SIZES]))


def region_ends(header, sections):
    """``(core end, [end of module k])``, 0 where unknown (docs/format.md:
    the header's end_address and section module_ends)."""
    core = header["end_address"] if header["flags"] & F.FILE_FLAG_HAS_END else 0
    if F.SEC_MODULE_ENDS not in sections:
        return core, [0] * header["module_count"]
    return core, list(_unpack("Q", sections[F.SEC_MODULE_ENDS]))


def module_names(sections):
    """The module names (bytes) by id; empty without module sections."""
    if F.SEC_MODULE_OFFSETS not in sections:
        return []
    blob = bytes(sections[F.SEC_MODULE_NAMES])
    return [blob[offset:blob.index(b"\0", offset)] for offset in _unpack("I", sections[F.SEC_MODULE_OFFSETS])]


# ---- reading ----------------------------------------------------------------------


def read(data, path=None):
    """Validate a table file held in ``data`` and return ``(header,
    sections)``.

    ``header`` is a dict of the header fields (``version``, ``flags``,
    ``count``, ``module_count``, ``section_count``, ``base``,
    ``end_address``, ``file_size``, ``checksum``) plus ``directory`` (the
    ``(id, offset, length)`` entries as listed) and ``provenance`` (the
    decoded dict, or None without that section).  ``sections`` maps each id
    to a memoryview of its bytes.  Every check of docs/format.md
    "Validation at open" runs, in that order; the first that fails raises
    :class:`CorruptTableError` with ``path`` and the file offset concerned.
    """
    return _Reader(data, path).read()


class _Reader:
    """One validation of one file: the steps of "Validation at open" as
    methods, each relying on the ones before it."""

    def __init__(self, data, path):
        self.view = memoryview(data).cast("B")
        self.path = path
        self.header = None
        self.entries = {}   # id -> (offset, length)
        self.sections = {}  # id -> memoryview

    def fail(self, reason, offset=None):
        raise CorruptTableError(reason, self.path, offset)

    def read(self):
        self.check_header()
        self.check_directory()
        self.check_checksum()
        self.check_lengths()
        self.check_tokens()
        self.check_names()
        self.check_seqs()
        self.check_addresses()
        self.check_modules()
        self.header["provenance"] = self.decode_provenance()
        return self.header, self.sections

    def at(self, section_id, relative=0):
        """File offset of byte ``relative`` of a section."""
        return self.entries[section_id][0] + relative

    # 1. the header
    def check_header(self):
        size = len(self.view)
        if size < F.FILE_HEADER_SIZE:
            self.fail(f"file is {size} bytes, shorter than the {F.FILE_HEADER_SIZE}-byte header")
        fields = _HEADER.unpack_from(self.view, 0)
        (magic, version, bom, flags, count, module_count, section_count,
         base, end_address, file_size, checksum) = fields
        if magic != MAGIC:
            self.fail("not a pysyms table file (bad magic)", 0)
        if version != F.FILE_VERSION:
            self.fail(f"header: format version {version}, this pysyms reads version {F.FILE_VERSION}", 8)
        if bom != F.FILE_BYTE_ORDER:
            self.fail(f"header: byte order mark 0x{bom:08x}, expected 0x{F.FILE_BYTE_ORDER:08x} "
                      "(little-endian)", 12)
        if flags & ~_KNOWN_FLAGS:
            self.fail(f"header: unknown flags 0x{flags & ~_KNOWN_FLAGS:x}", 16)
        if count > F.MAX_SYMBOLS:
            self.fail(f"header: symbol count {count} exceeds {F.MAX_SYMBOLS}", 20)
        if module_count > F.MAX_MODULES:
            self.fail(f"header: module count {module_count} exceeds {F.MAX_MODULES}", 24)
        if section_count > F.FILE_MAX_SECTIONS:
            self.fail(f"header: section count {section_count} exceeds {F.FILE_MAX_SECTIONS}", 28)
        if file_size != size:
            self.fail(f"header: file_size says {file_size} bytes, the file has {size} "
                      "(truncated or extended)", 48)
        if flags & F.FILE_FLAG_ADDR_WIDE and base:
            self.fail(f"header: base 0x{base:x} is not 0 with 64-bit addresses (ADDR_WIDE)", 32)
        # The header table's rule "end_address ... else 0": checked like
        # the other fixed values, so that no header bit goes unexamined.
        if not flags & F.FILE_FLAG_HAS_END and end_address:
            self.fail(f"header: end_address 0x{end_address:x} without the HAS_END flag", 40)
        self.header = dict(version=version, flags=flags, count=count, module_count=module_count,
                           section_count=section_count, base=base, end_address=end_address,
                           file_size=file_size, checksum=checksum)

    # 2. the directory
    def check_directory(self):
        size = len(self.view)
        count = self.header["section_count"]
        directory_end = F.FILE_HEADER_SIZE + F.FILE_ENTRY_SIZE * count
        if directory_end > size:
            self.fail(f"directory: {count} entries end at byte {directory_end}, past the end of "
                      f"the file ({size} bytes)", F.FILE_HEADER_SIZE)
        listed = []
        for k in range(count):
            entry = F.FILE_HEADER_SIZE + F.FILE_ENTRY_SIZE * k
            section_id, reserved, offset, length = _ENTRY.unpack_from(self.view, entry)
            if section_id not in _SECTION_NAMES:
                self.fail(f"directory entry {k}: unknown section id {section_id}", entry)
            name = section_name(section_id)
            if section_id in self.entries:
                self.fail(f"directory entry {k}: {name} listed twice", entry)
            if reserved:
                self.fail(f"directory entry {k}: reserved field of {name} is {reserved}, not 0", entry + 4)
            if offset % F.FILE_ALIGN:
                self.fail(f"directory entry {k}: {name} at byte {offset} is not "
                          f"{F.FILE_ALIGN}-byte aligned", entry + 8)
            if offset < directory_end or offset + length > size:
                self.fail(f"directory entry {k}: {name} at byte {offset}, {length} bytes long, lies "
                          f"outside the file's data (bytes {directory_end} to {size})", entry + 8)
            self.entries[section_id] = (offset, length)
            listed.append((section_id, offset, length))
        self.check_overlaps()
        self.header["directory"] = listed
        self.sections = {sid: self.view[offset:offset + length]
                         for sid, (offset, length) in self.entries.items()}

    def check_overlaps(self):
        # An empty section holds no byte, so it overlaps nothing (a writer
        # places one at the same offset as the next section).
        spans = sorted((offset, length, sid) for sid, (offset, length) in self.entries.items() if length)
        for (a_offset, a_length, a_id), (b_offset, _, b_id) in zip(spans, spans[1:]):
            if a_offset + a_length > b_offset:
                self.fail(f"directory: {section_name(b_id)} at byte {b_offset} overlaps "
                          f"{section_name(a_id)} (bytes {a_offset} to {a_offset + a_length})", b_offset)

    # 3. the checksum
    def check_checksum(self):
        stored = self.header["checksum"]
        computed = file_checksum(self.view)
        if stored != computed:
            self.fail(f"checksum mismatch (file says {stored:016x}, contents give {computed:016x}): "
                      "the file was changed or damaged", F.FILE_CHECKSUM_OFFSET)

    # 4. section presence and lengths
    def check_lengths(self):
        n = self.header["count"]
        m = self.header["module_count"]
        for section_id in _REQUIRED:
            if section_id not in self.entries:
                self.fail(f"{section_name(section_id)}: required, missing")
        self.check_module_presence(m)
        wide = self.header["flags"] & F.FILE_FLAG_ADDR_WIDE
        exact = {
            F.SEC_MARKERS: 4 * _ceil_div(n, F.MARKER_STRIDE),
            F.SEC_TOKEN_INDEX: 2 * F.TOKENS,
            F.SEC_SEQS: F.SEQ_BYTES * n,
            F.SEC_ADDRESSES: (8 if wide else 4) * n,
            F.SEC_MODULE_IDS: 2 * n,
            F.SEC_MODULE_OFFSETS: 4 * m,
            F.SEC_MODULE_ENDS: 8 * m,
            F.SEC_FINE: 4 * _ceil_div(n, F.FINE_STRIDE),
            F.SEC_NAME_SAMPLE: F.SAMPLE_BYTES * _ceil_div(n, F.NAME_SAMPLE),
        }
        for section_id in sorted(self.entries):
            length = self.entries[section_id][1]
            problem = None
            if section_id in exact and length != exact[section_id]:
                problem = f"expected {exact[section_id]}"
            elif section_id == F.SEC_TOKEN_TABLE and length < 1:
                problem = "expected at least 1"
            elif section_id == F.SEC_MODULE_RUNS and (length % 8 or not 1 <= length // 8 <= n):
                # runs start at 0 and increase below n: 1 to n of them
                problem = f"expected 8 for each of 1 to {n} runs"
            elif section_id == F.SEC_PROVENANCE and length > F.FILE_MAX_PROVENANCE:
                problem = f"expected at most {F.FILE_MAX_PROVENANCE}"
            elif section_id == F.SEC_SIZES and (n == 0 or length not in (4 * n, 8 * n)):
                problem = f"expected 4 or 8 for each of 1 or more symbols ({n})"
            if problem:
                self.fail(f"{section_name(section_id)}: {length} bytes, {problem}", self.at(section_id))

    def check_module_presence(self, m):
        if not m:
            for section_id in _MODULE_SECTIONS:
                if section_id in self.entries:
                    self.fail(f"{section_name(section_id)}: present in a table without modules "
                              "(module_count 0)", self.at(section_id))
            return
        for section_id in (F.SEC_MODULE_OFFSETS, F.SEC_MODULE_NAMES):
            if section_id not in self.entries:
                self.fail(f"{section_name(section_id)}: missing, module_count is {m}")
        if (F.SEC_MODULE_RUNS in self.entries) == (F.SEC_MODULE_IDS in self.entries):
            self.fail(f"{section_name(F.SEC_MODULE_RUNS)} and {section_name(F.SEC_MODULE_IDS)}: a "
                      "table with modules needs exactly one of them")

    # 5. token_index
    def check_tokens(self):
        table = bytes(self.sections[F.SEC_TOKEN_TABLE])
        offsets = _unpack("H", self.sections[F.SEC_TOKEN_INDEX])
        name = section_name(F.SEC_TOKEN_INDEX)
        self.token_lengths = []
        for code, offset in enumerate(offsets):
            entry = self.at(F.SEC_TOKEN_INDEX, 2 * code)
            if offset >= len(table):
                self.fail(f"{name}: token {code} at offset {offset} lies past token_table "
                          f"({len(table)} bytes)", entry)
            end = table.find(b"\0", offset)
            if end < 0:
                self.fail(f"{name}: token {code} at offset {offset} has no NUL after it in token_table",
                          entry)
            if end - offset > _MAX_TOKEN:
                self.fail(f"{section_name(F.SEC_TOKEN_TABLE)}: token {code} is {end - offset} bytes, "
                          f"longer than {_MAX_TOKEN}", self.at(F.SEC_TOKEN_TABLE, offset))
            self.token_lengths.append(end - offset)

    # 6. names, markers, fine
    def check_names(self):
        starts = self.walk_names()
        self.check_offsets(F.SEC_MARKERS, starts, F.MARKER_STRIDE)
        self.check_offsets(F.SEC_FINE, starts, F.FINE_STRIDE)

    def walk_names(self):
        """The offset of every record, after checking each lies inside the
        section and the last ends exactly at its end."""
        names = self.sections[F.SEC_NAMES]
        size = len(names)
        label = section_name(F.SEC_NAMES)
        starts = []
        offset = 0
        for i in range(self.header["count"]):
            starts.append(offset)
            where = self.at(F.SEC_NAMES, offset)
            if offset >= size:
                self.fail(f"{label}: record {i} at offset {offset} starts past the end of the section", where)
            length = names[offset]
            prefix = 1
            if length & 0x80:
                if offset + 1 >= size:
                    self.fail(f"{label}: record {i} at offset {offset}: its 2-byte length runs past "
                              "the end of the section", where)
                length = (length & 0x7F) | names[offset + 1] << 7
                prefix = 2
            if not length:
                self.fail(f"{label}: record {i} at offset {offset} has length 0", where)
            if offset + prefix + length > size:
                self.fail(f"{label}: record {i} at offset {offset} ({length} codes) runs past the end "
                          "of the section", where)
            if not self.token_lengths[names[offset + prefix]]:
                self.fail(f"{label}: record {i} at offset {offset}: its first code expands to nothing "
                          "(no type letter)", where)
            offset += prefix + length
        if offset != size:
            self.fail(f"{label}: {size - offset} bytes follow the last of the {self.header['count']} "
                      "records", self.at(F.SEC_NAMES, offset))
        return starts

    def check_offsets(self, section_id, starts, stride):
        """markers / fine: entry k is the offset of record k * stride."""
        for k, value in enumerate(_unpack("I", self.sections[section_id])):
            want = starts[k * stride]
            if value != want:
                self.fail(f"{section_name(section_id)}: entry {k} is {value}, record {k * stride} "
                          f"starts at {want}", self.at(section_id, 4 * k))

    # 7. seqs
    def check_seqs(self):
        n = self.header["count"]
        seqs = self.sections[F.SEC_SEQS]
        width = F.SEQ_BYTES
        for pos in range(n):
            value = int.from_bytes(seqs[pos * width:(pos + 1) * width], "big")
            if value >= n:
                self.fail(f"{section_name(F.SEC_SEQS)}: entry {pos} is {value}, not below the symbol "
                          f"count {n}", self.at(F.SEC_SEQS, pos * width))

    # 8. addresses
    def check_addresses(self):
        flags = self.header["flags"]
        wide = flags & F.FILE_FLAG_ADDR_WIDE
        values = _unpack("Q" if wide else "I", self.sections[F.SEC_ADDRESSES])
        width = 8 if wide else 4
        for i in range(1, len(values)):
            if values[i] < values[i - 1]:
                self.fail(f"{section_name(F.SEC_ADDRESSES)}: entry {i} is below entry {i - 1}",
                          self.at(F.SEC_ADDRESSES, i * width))
        if flags & F.FILE_FLAG_HAS_END and not self.header["end_address"]:
            self.fail("header: HAS_END flag with an end_address of 0", 40)
        if not values:
            return
        base = self.header["base"]
        last = values[-1] if wide else base + values[-1]
        if last > _M64:
            self.fail(f"{section_name(F.SEC_ADDRESSES)}: base 0x{base:x} plus the last offset "
                      f"0x{values[-1]:x} exceeds 64 bits", 32)

    # 9. modules
    def check_modules(self):
        m = self.header["module_count"]
        if not m:
            return
        if F.SEC_MODULE_RUNS in self.sections:
            self.check_runs(m)
        else:
            self.check_module_ids(m)
        self.check_module_names()

    def check_runs(self, m):
        n = self.header["count"]
        label = section_name(F.SEC_MODULE_RUNS)
        runs = _unpack("I", self.sections[F.SEC_MODULE_RUNS])
        previous = -1
        for r, (start, value) in enumerate(zip(runs[0::2], runs[1::2])):
            where = self.at(F.SEC_MODULE_RUNS, 8 * r)
            if r == 0 and start != 0:
                self.fail(f"{label}: run 0 starts at symbol {start}, not 0", where)
            if start <= previous or start >= n:
                self.fail(f"{label}: run {r} starts at symbol {start} (runs start at 0, increase "
                          f"and stay below {n})", where)
            if value > m:
                self.fail(f"{label}: run {r} has module value {value}, above the module count {m}",
                          where + 4)
            previous = start

    def check_module_ids(self, m):
        for i, value in enumerate(_unpack("H", self.sections[F.SEC_MODULE_IDS])):
            if value > m:
                self.fail(f"{section_name(F.SEC_MODULE_IDS)}: symbol {i} has module value {value}, "
                          f"above the module count {m}", self.at(F.SEC_MODULE_IDS, 2 * i))

    def check_module_names(self):
        blob = bytes(self.sections[F.SEC_MODULE_NAMES])
        offsets = _unpack("I", self.sections[F.SEC_MODULE_OFFSETS])
        for module, offset in enumerate(offsets):
            if offset >= len(blob):
                self.fail(f"{section_name(F.SEC_MODULE_OFFSETS)}: module {module}'s name at offset "
                          f"{offset} lies past module_names ({len(blob)} bytes)",
                          self.at(F.SEC_MODULE_OFFSETS, 4 * module))
            end = blob.find(b"\0", offset)
            if not 1 <= end - offset <= F.MODULE_NAME_MAX:  # end == -1 fails too
                self.fail(f"{section_name(F.SEC_MODULE_NAMES)}: module {module}'s name at offset "
                          f"{offset} is not 1 to {F.MODULE_NAME_MAX} bytes ending in a NUL",
                          self.at(F.SEC_MODULE_NAMES, offset))

    # 10. provenance
    def decode_provenance(self):
        if F.SEC_PROVENANCE not in self.sections:
            return None
        return decode_provenance(self.sections[F.SEC_PROVENANCE], self.path, self.at(F.SEC_PROVENANCE))
