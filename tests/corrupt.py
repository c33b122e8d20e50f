"""Damaged and lying table files, for every loader's tests.

``CASES`` lists ``(name, case)``: each ``case`` takes the bytes of a valid
table file and returns bytes that docs/format.md "Validation at open"
must reject with ``CorruptTableError``.  A case that changes what the file
says (a header or directory field, a section's contents) recomputes the
checksum afterwards (:func:`reseal`), so that the check it aims at, not the
checksum, has to catch it; only the ``checksum_*`` cases leave it stale.
A case that needs something the given file lacks (modules stored as runs,
a second marker, ...) raises :class:`NotApplicable`.

The cases are written for files of tables like :func:`sample_records`
makes (a few hundred symbols at distinct addresses, some in modules);
:func:`truncations` and :func:`byte_flips` make further damaged copies of
any file.  Used by tests/test_container.py (the pure-Python reader) and
meant for the C loader's tests too.
"""

import random
import struct

from pysyms import _format as F
from pysyms.container import file_checksum

HEADER = struct.Struct("<8s6I4Q")
ENTRY = struct.Struct("<IIQQ")
KERNEL_BASE = 0xFFFFFFFF81000000
_WORDS = ["sched", "vfs", "read", "write", "kmalloc", "ext4", "inode", "page", "alloc", "free",
          "lock", "irq", "tcp", "rcu", "work", "queue", "init", "exit", "trace", "probe"]


class NotApplicable(Exception):
    """The case needs something this file does not have."""


# ---- sample tables ------------------------------------------------------------------


def sample_records(modules="runs", wide=False, size=600, seed=0):
    """Records of a small table with distinct increasing addresses:
    ``modules`` ``"runs"`` (two contiguous module blocks: stored as runs),
    ``"ids"`` (modules scattered: stored as one value per symbol) or
    ``None``; ``wide`` puts the first symbol 2^40 below the others so the
    addresses need 64 bits."""
    rng = random.Random(seed)
    records = []
    for i in range(size):
        name = "_".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 4))) + f"_{i}"
        address = KERNEL_BASE + 16 * i
        if wide and i == 0:
            address -= 1 << 40
        if modules == "runs":
            module = "ext4" if size // 2 <= i < 3 * size // 4 else "xfs" if i >= 3 * size // 4 else None
        elif modules == "ids":
            module = "ext4" if i % 3 == 0 else "xfs" if i % 5 == 0 else None
        else:
            module = None
        records.append((address, "tT"[i % 2], name, module))
    return records


# ---- reading and editing a file -----------------------------------------------------


def header(data):
    """The header fields as a dict (names as in docs/format.md)."""
    (magic, version, bom, flags, count, module_count, section_count, base, end_address, file_size,
     checksum) = HEADER.unpack_from(data, 0)
    return dict(magic=magic, version=version, bom=bom, flags=flags, count=count,
                module_count=module_count, section_count=section_count, base=base,
                end_address=end_address, file_size=file_size, checksum=checksum)


_HEADER_FIELDS = {"version": (8, "I"), "bom": (12, "I"), "flags": (16, "I"), "count": (20, "I"),
                  "module_count": (24, "I"), "section_count": (28, "I"), "base": (32, "Q"),
                  "end_address": (40, "Q"), "file_size": (48, "Q"), "checksum": (56, "Q")}


def directory(data):
    """The directory as listed: ``[(entry offset, id, offset, length)]``."""
    count = header(data)["section_count"]
    entries = []
    for k in range(count):
        at = HEADER.size + ENTRY.size * k
        section_id, _, offset, length = ENTRY.unpack_from(data, at)
        entries.append((at, section_id, offset, length))
    return entries


def entry(data, section_id):
    """``(entry offset, offset, length)`` of a section; NotApplicable when absent."""
    for at, sid, offset, length in directory(data):
        if sid == section_id:
            return at, offset, length
    raise NotApplicable(f"no section {section_id}")


def section(data, section_id):
    """The bytes of a section."""
    _, offset, length = entry(data, section_id)
    return bytes(data[offset:offset + length])


def reseal(data):
    """``data`` with its checksum field recomputed."""
    buf = bytearray(data)
    struct.pack_into("<Q", buf, F.FILE_CHECKSUM_OFFSET, file_checksum(buf))
    return bytes(buf)


def put(data, offset, fmt, value):
    """``data`` with the little-endian ``fmt`` value at ``offset`` replaced
    (not resealed)."""
    buf = bytearray(data)
    struct.pack_into("<" + fmt, buf, offset, value)
    return bytes(buf)


def set_header(data, **fields):
    """``data`` with header fields replaced, resealed."""
    for name, value in fields.items():
        offset, fmt = _HEADER_FIELDS[name]
        data = put(data, offset, fmt, value)
    return reseal(data)


def set_entry(data, section_id, **fields):
    """``data`` with fields (``id``, ``reserved``, ``offset``, ``length``)
    of a section's directory entry replaced, resealed."""
    at, _, _ = entry(data, section_id)
    where = {"id": (0, "I"), "reserved": (4, "I"), "offset": (8, "Q"), "length": (16, "Q")}
    for name, value in fields.items():
        offset, fmt = where[name]
        data = put(data, at + offset, fmt, value)
    return reseal(data)


def set_in_section(data, section_id, relative, fmt, value):
    """``data`` with a value inside a section replaced, resealed.
    ``fmt`` is a struct code (little-endian) or ``"raw"`` for bytes."""
    _, offset, length = entry(data, section_id)
    size = len(value) if fmt == "raw" else struct.calcsize("<" + fmt)
    if not 0 <= relative <= length - size:
        raise NotApplicable(f"section {section_id} has no byte {relative + size - 1}")
    if fmt == "raw":
        buf = bytearray(data)
        buf[offset + relative:offset + relative + size] = value
        return reseal(bytes(buf))
    return reseal(put(data, offset + relative, fmt, value))


def drop_section(data, section_id):
    """``data`` without a section's directory entry (the later entries move
    up, the freed entry becomes zero bytes), resealed."""
    entries = directory(data)
    kept = [e for e in entries if e[1] != section_id]
    if len(kept) == len(entries):
        raise NotApplicable(f"no section {section_id}")
    buf = bytearray(data)
    start = HEADER.size
    buf[start:start + ENTRY.size * len(entries)] = bytes(ENTRY.size * len(entries))
    for k, (_, sid, offset, length) in enumerate(kept):
        ENTRY.pack_into(buf, start + ENTRY.size * k, sid, 0, offset, length)
    struct.pack_into("<I", buf, 28, len(kept))
    return reseal(bytes(buf))


def record_offsets(data):
    """The offset in names of every record."""
    names = section(data, F.SEC_NAMES)
    offsets, offset = [], 0
    for _ in range(header(data)["count"]):
        offsets.append(offset)
        length = names[offset]
        if length & 0x80:
            offset += 2 + ((length & 0x7F) | names[offset + 1] << 7)
        else:
            offset += 1 + length
    return offsets


def _need(condition, what):
    if not condition:
        raise NotApplicable(what)


# ---- the cases ----------------------------------------------------------------------


def _header_cases():
    def bad_magic(d):
        return reseal(b"PYSYMTAX" + d[8:])

    def bad_version(d):
        return set_header(d, version=F.FILE_VERSION + 1)

    def bad_byte_order(d):
        return set_header(d, bom=0x04030201)

    def unknown_flag(d):
        return set_header(d, flags=header(d)["flags"] | 4)

    def huge_count(d):
        return set_header(d, count=F.MAX_SYMBOLS + 1)

    def count_plus_one(d):
        return set_header(d, count=header(d)["count"] + 1)

    def count_minus_one(d):
        return set_header(d, count=header(d)["count"] - 1)

    def huge_module_count(d):
        return set_header(d, module_count=F.MAX_MODULES + 1)

    def huge_section_count(d):
        return set_header(d, section_count=0xFFFFFFFF)

    def section_count_33(d):
        return set_header(d, section_count=F.FILE_MAX_SECTIONS + 1)

    def section_count_plus_one(d):
        # the extra entry is read from the first section's bytes
        return set_header(d, section_count=header(d)["section_count"] + 1)

    def file_size_lies(d):
        return set_header(d, file_size=len(d) + 8)

    def extended_by_8(d):
        return reseal(d + bytes(8))

    def wide_with_base(d):
        h = header(d)
        return set_header(d, flags=h["flags"] | F.FILE_FLAG_ADDR_WIDE, base=h["base"] | 8)

    def end_without_has_end(d):
        return set_header(d, end_address=1)

    def has_end_with_zero_end(d):
        return set_header(d, flags=header(d)["flags"] | F.FILE_FLAG_HAS_END, end_address=0)

    return [bad_magic, bad_version, bad_byte_order, unknown_flag, huge_count, count_plus_one,
            count_minus_one, huge_module_count, huge_section_count, section_count_33,
            section_count_plus_one, file_size_lies, extended_by_8, wide_with_base, end_without_has_end,
            has_end_with_zero_end]


def _directory_cases():
    def unknown_section_id(d):
        return set_entry(d, F.SEC_NAME_SAMPLE, id=F.SEC_MAX + 1)

    def section_id_zero(d):
        return set_entry(d, F.SEC_NAME_SAMPLE, id=0)

    def duplicate_section_id(d):
        return set_entry(d, F.SEC_MARKERS, id=F.SEC_NAMES)

    def reserved_not_zero(d):
        return set_entry(d, F.SEC_SEQS, reserved=1)

    def misaligned_section(d):
        _, offset, _ = entry(d, F.SEC_TOKEN_INDEX)
        return set_entry(d, F.SEC_TOKEN_INDEX, offset=offset + 4)

    def section_offset_past_end(d):
        return set_entry(d, F.SEC_FINE, offset=len(d) + 8 - len(d) % 8)

    def section_offset_huge(d):
        return set_entry(d, F.SEC_FINE, offset=(1 << 64) - 8)

    def section_length_huge(d):
        return set_entry(d, F.SEC_NAMES, length=(1 << 64) - 1)

    def section_length_past_end(d):
        _, offset, _ = entry(d, F.SEC_PROVENANCE)
        return set_entry(d, F.SEC_PROVENANCE, length=len(d) - offset + 1)

    def section_inside_directory(d):
        return set_entry(d, F.SEC_NAMES, offset=F.FILE_HEADER_SIZE)

    def section_inside_header(d):
        return set_entry(d, F.SEC_NAMES, offset=0)

    def overlapping_sections(d):
        _, names_offset, _ = entry(d, F.SEC_NAMES)
        return set_entry(d, F.SEC_MARKERS, offset=names_offset)

    def overlapping_tail(d):
        # token_index moved 8 bytes back into the end of token_table
        _, offset, _ = entry(d, F.SEC_TOKEN_INDEX)
        return set_entry(d, F.SEC_TOKEN_INDEX, offset=offset - 8)

    return [unknown_section_id, section_id_zero, duplicate_section_id, reserved_not_zero,
            misaligned_section, section_offset_past_end, section_offset_huge, section_length_huge,
            section_length_past_end, section_inside_directory, section_inside_header,
            overlapping_sections, overlapping_tail]


def _presence_and_length_cases():
    def missing(section_id, label):
        def case(d):
            return drop_section(d, section_id)
        case.__name__ = f"missing_{label}"
        return case

    def length_off_by(section_id, label, change):
        def case(d):
            _, _, length = entry(d, section_id)
            _need(length + change >= 0, "section too short")
            return set_entry(d, section_id, length=length + change)
        case.__name__ = f"{label}_length_{'plus' if change > 0 else 'minus'}_{abs(change)}"
        return case

    def modules_without_module_count(d):
        _need(header(d)["module_count"], "no modules")
        return set_header(d, module_count=0)

    def both_runs_and_ids(d):
        # the provenance entry renamed to whichever of the two is absent
        has_runs = any(sid == F.SEC_MODULE_RUNS for _, sid, _, _ in directory(d))
        return set_entry(d, F.SEC_PROVENANCE, id=F.SEC_MODULE_IDS if has_runs else F.SEC_MODULE_RUNS)

    def module_count_without_modules(d):
        _need(not header(d)["module_count"], "has modules")
        return set_header(d, module_count=1)

    def token_table_empty(d):
        return set_entry(d, F.SEC_TOKEN_TABLE, length=0)

    def module_runs_empty(d):
        # (dropping only the last run leaves a valid file that lies)
        return set_entry(d, F.SEC_MODULE_RUNS, length=0)

    cases = [missing(sid, label) for sid, label in (
        (F.SEC_NAMES, "names"), (F.SEC_MARKERS, "markers"), (F.SEC_TOKEN_TABLE, "token_table"),
        (F.SEC_TOKEN_INDEX, "token_index"), (F.SEC_SEQS, "seqs"), (F.SEC_ADDRESSES, "addresses"),
        (F.SEC_FINE, "fine"), (F.SEC_NAME_SAMPLE, "name_sample"),
        (F.SEC_MODULE_OFFSETS, "module_offsets"), (F.SEC_MODULE_NAMES, "module_names"),
        (F.SEC_MODULE_RUNS, "module_runs"), (F.SEC_MODULE_IDS, "module_ids"))]
    cases += [length_off_by(sid, label, change) for sid, label, change in (
        (F.SEC_MARKERS, "markers", -4), (F.SEC_TOKEN_INDEX, "token_index", -2),
        (F.SEC_SEQS, "seqs", -3), (F.SEC_ADDRESSES, "addresses", -4), (F.SEC_FINE, "fine", -4),
        (F.SEC_NAME_SAMPLE, "name_sample", -16), (F.SEC_MODULE_RUNS, "module_runs", -4),
        (F.SEC_MODULE_IDS, "module_ids", -2),
        (F.SEC_MODULE_OFFSETS, "module_offsets", -4), (F.SEC_NAMES, "names", -1))]
    return cases + [modules_without_module_count, both_runs_and_ids, module_count_without_modules,
                    token_table_empty, module_runs_empty]


def _content_cases():
    def token_offset_past_table(d):
        return set_in_section(d, F.SEC_TOKEN_INDEX, 2 * 7, "H", len(section(d, F.SEC_TOKEN_TABLE)))

    def token_without_nul(d):
        table = section(d, F.SEC_TOKEN_TABLE)
        return set_in_section(d, F.SEC_TOKEN_TABLE, len(table) - 1, "B", ord("x"))

    def token_too_long(d):
        table = section(d, F.SEC_TOKEN_TABLE)
        _need(len(table) > F.NAME_MAX + 2, "token table too short")
        # every byte but the last NUL made a letter: token 0 runs to the end
        return set_in_section(d, F.SEC_TOKEN_TABLE, 0, "raw", b"x" * (len(table) - 1))

    def names_last_record_past_end(d):
        last = record_offsets(d)[-1]
        _need(section(d, F.SEC_NAMES)[last] < 0x7F, "last record too long")
        return set_in_section(d, F.SEC_NAMES, last, "B", 0x7F)

    def names_zero_length_record(d):
        return set_in_section(d, F.SEC_NAMES, record_offsets(d)[1], "B", 0)

    def names_two_byte_length_cut(d):
        # the last record's prefix says "2 bytes" and the section ends after the first
        last = record_offsets(d)[-1]
        return set_entry(set_in_section(d, F.SEC_NAMES, last, "B", 0x81), F.SEC_NAMES, length=last + 1)

    def names_last_record_shorter(d):
        # the records end one byte before the section does
        last = record_offsets(d)[-1]
        length = section(d, F.SEC_NAMES)[last]
        _need(1 < length < 0x80, "last record not a short record of 2+ codes")
        return set_in_section(d, F.SEC_NAMES, last, "B", length - 1)

    def names_padding_included(d):
        # the section's length takes in the zero byte after it
        _, offset, length = entry(d, F.SEC_NAMES)
        _need(length % F.FILE_ALIGN, "no padding after names")
        return set_entry(d, F.SEC_NAMES, length=length + 1)

    def names_record_0_shorter(d):
        # record 0 one code shorter: every later record is read one byte early
        first = section(d, F.SEC_NAMES)[0]
        _need(1 < first < 0x80, "record 0 not a short record of 2+ codes")
        return set_in_section(d, F.SEC_NAMES, 0, "B", first - 1)

    def marker_wrong(d):
        _need(len(section(d, F.SEC_MARKERS)) >= 8, "one marker")
        value = struct.unpack_from("<I", section(d, F.SEC_MARKERS), 4)[0]
        return set_in_section(d, F.SEC_MARKERS, 4, "I", value + 1)

    def marker_zero_not_zero(d):
        return set_in_section(d, F.SEC_MARKERS, 0, "I", 1)

    def fine_wrong(d):
        value = struct.unpack_from("<I", section(d, F.SEC_FINE), 4)[0]
        return set_in_section(d, F.SEC_FINE, 4, "I", value - 1)

    def fine_past_names(d):
        return set_in_section(d, F.SEC_FINE, 4, "I", 0xFFFFFFFF)

    def seq_equals_count(d):
        return set_in_section(d, F.SEC_SEQS, 3, "raw", header(d)["count"].to_bytes(3, "big"))

    def seq_max(d):
        return set_in_section(d, F.SEC_SEQS, 3 * (header(d)["count"] - 1), "raw", b"\xff\xff\xff")

    def addresses_decreasing(d):
        if header(d)["flags"] & F.FILE_FLAG_ADDR_WIDE:
            return set_in_section(d, F.SEC_ADDRESSES, 0, "Q", (1 << 64) - 1)
        return set_in_section(d, F.SEC_ADDRESSES, 0, "I", 0xFFFFFFFF)

    def addresses_decreasing_at_end(d):
        wide = header(d)["flags"] & F.FILE_FLAG_ADDR_WIDE
        width = 8 if wide else 4
        return set_in_section(d, F.SEC_ADDRESSES, width * (header(d)["count"] - 1), "Q" if wide else "I", 0)

    def base_overflow(d):
        _need(not header(d)["flags"] & F.FILE_FLAG_ADDR_WIDE, "64-bit addresses")
        return set_header(d, base=(1 << 64) - 1)

    def module_value_above_count(d):
        m = header(d)["module_count"]
        _need(m, "no modules")
        if any(sid == F.SEC_MODULE_RUNS for _, sid, _, _ in directory(d)):
            return set_in_section(d, F.SEC_MODULE_RUNS, 4, "I", m + 1)
        return set_in_section(d, F.SEC_MODULE_IDS, 0, "H", m + 1)

    def module_value_max(d):
        _need(header(d)["module_count"], "no modules")
        if any(sid == F.SEC_MODULE_RUNS for _, sid, _, _ in directory(d)):
            return set_in_section(d, F.SEC_MODULE_RUNS, 4, "I", 0xFFFFFFFF)
        return set_in_section(d, F.SEC_MODULE_IDS, 2 * (header(d)["count"] - 1), "H", 0xFFFF)

    def run_zero_not_at_zero(d):
        return set_in_section(d, F.SEC_MODULE_RUNS, 0, "I", 1)

    def runs_not_increasing(d):
        _need(len(section(d, F.SEC_MODULE_RUNS)) >= 16, "one run")
        return set_in_section(d, F.SEC_MODULE_RUNS, 8, "I", 0)

    def run_past_last_symbol(d):
        runs = section(d, F.SEC_MODULE_RUNS)
        return set_in_section(d, F.SEC_MODULE_RUNS, len(runs) - 8, "I", header(d)["count"])

    def module_name_offset_past_names(d):
        return set_in_section(d, F.SEC_MODULE_OFFSETS, 0, "I", len(section(d, F.SEC_MODULE_NAMES)))

    def module_name_empty(d):
        return set_in_section(d, F.SEC_MODULE_NAMES, 0, "B", 0)

    def module_name_without_nul(d):
        names = section(d, F.SEC_MODULE_NAMES)
        return set_in_section(d, F.SEC_MODULE_NAMES, len(names) - 1, "B", ord("x"))

    def provenance_not_json(d):
        return set_in_section(d, F.SEC_PROVENANCE, 0, "B", ord("x"))

    def provenance_not_utf8(d):
        return set_in_section(d, F.SEC_PROVENANCE, 1, "B", 0xFF)

    def provenance_not_object(d):
        length = len(section(d, F.SEC_PROVENANCE))
        _need(length >= 2, "provenance too short")
        return set_in_section(d, F.SEC_PROVENANCE, 0, "raw", b"[" + b" " * (length - 2) + b"]")

    return [token_offset_past_table, token_without_nul, token_too_long, names_last_record_past_end,
            names_zero_length_record, names_two_byte_length_cut, names_last_record_shorter,
            names_padding_included, names_record_0_shorter,
            marker_wrong, marker_zero_not_zero, fine_wrong, fine_past_names, seq_equals_count, seq_max,
            addresses_decreasing, addresses_decreasing_at_end, base_overflow, module_value_above_count,
            module_value_max, run_zero_not_at_zero, runs_not_increasing, run_past_last_symbol,
            module_name_offset_past_names, module_name_empty, module_name_without_nul,
            provenance_not_json, provenance_not_utf8, provenance_not_object]


def _damage_cases():
    def checksum_flipped(d):
        return put(d, F.FILE_CHECKSUM_OFFSET, "Q", header(d)["checksum"] ^ 1)

    def checksum_body_byte_flipped(d):
        buf = bytearray(d)
        buf[len(buf) // 2] ^= 0x40
        return bytes(buf)

    def empty_file(d):
        return b""

    def header_only(d):
        return d[:F.FILE_HEADER_SIZE]

    def truncated_header(d):
        return d[:F.FILE_HEADER_SIZE - 1]

    def truncated_last_byte(d):
        return d[:-1]

    def truncated_and_resized(d):
        # a file cut short whose header was fixed up to match
        return set_header(d[:len(d) // 2], file_size=len(d) // 2)

    return [checksum_flipped, checksum_body_byte_flipped, empty_file, header_only, truncated_header,
            truncated_last_byte, truncated_and_resized]


CASES = [(case.__name__, case) for case in
         _header_cases() + _directory_cases() + _presence_and_length_cases() + _content_cases()
         + _damage_cases()]
assert len({name for name, _ in CASES}) == len(CASES), "case names must be unique"


# ---- generated damage -----------------------------------------------------------------


def truncations(data, random_points=8, seed=0):
    """``(name, bytes)``: ``data`` cut at the end of the header, of the
    directory, at the start and end of every section, and at a few random
    points."""
    points = {F.FILE_HEADER_SIZE, HEADER.size + ENTRY.size * header(data)["section_count"]}
    for _, sid, offset, length in directory(data):
        points.update((offset, offset + length, offset + length // 2))
    rng = random.Random(seed)
    points.update(rng.randrange(len(data)) for _ in range(random_points))
    return [(f"truncated_at_{point}", data[:point]) for point in sorted(points) if point < len(data)]


def byte_flips(data, count=64, seed=0):
    """``(name, bytes)``: ``count`` copies of ``data`` each with one byte
    xored with a random non-zero value (not resealed)."""
    rng = random.Random(seed)
    flips = []
    for _ in range(count):
        at = rng.randrange(len(data))
        buf = bytearray(data)
        buf[at] ^= rng.randrange(1, 256)
        flips.append((f"byte_{at}_flipped", bytes(buf)))
    return flips
