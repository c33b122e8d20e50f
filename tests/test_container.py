"""Table files in pure Python (docs/format.md): pysyms/container.py and
``reference.SymbolTable.save/open/to_bytes/from_bytes``.

Round trips on generated and real tables, the layout and section contents
against the format's rules, the checksum against the doc's pseudo-code, and
the rejection of damaged and lying files (tests/corrupt.py) with
CorruptTableError and nothing else.  Only the reference and the format
constants are used: the C file functions are tested elsewhere.
"""

import json
import random
import re
import struct

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import corrupt
from pysyms import _format as F
from pysyms import container, reference, tablefile
from pysyms.errors import CorruptTableError, Error
from strategies import SeededRecords, symbol_lists

Table = reference.SymbolTable
U64_MAX = (1 << 64) - 1
SAMPLES = [("runs", False), ("runs", True), ("ids", False), ("ids", True), (None, False), (None, True)]


@pytest.fixture(scope="module")
def sample_files():
    """The bytes of a saved sample table per (modules, wide)."""
    return {key: Table.from_records(corrupt.sample_records(*key)).to_bytes() for key in SAMPLES}


@pytest.fixture(scope="module")
def sample_file(sample_files):
    return sample_files[("runs", False)]


# ---- comparing tables ------------------------------------------------------------------


def address_probes(table, limit=300):
    addresses = sorted({symbol.address for symbol in table})
    if len(addresses) > limit:
        addresses = random.Random(len(addresses)).sample(addresses, limit)
    probes = {0, 1, U64_MAX}
    for address in addresses:
        probes.update(a for a in (address - 1, address, address + 1) if 0 <= a <= U64_MAX)
    return sorted(probes)


def assert_same_table(got, want, sample_names=None):
    """Everything a table answers is the same."""
    assert len(got) == len(want)
    assert got.kernel_arrays() == want.kernel_arrays()
    assert list(got) == list(want)
    assert got.modules == want.modules
    assert got.provenance == want.provenance
    names = sorted(set(want.names()))
    if sample_names is not None and len(names) > sample_names:
        names = random.Random(len(names)).sample(names, sample_names)
    for name in names + ["", "not_a_symbol_at_all"]:
        assert got.lookup_all(name) == want.lookup_all(name), name
        assert got.lookup_name(name) == want.lookup_name(name), name
    for address in address_probes(want):
        assert got.lookup_addr(address) == want.lookup_addr(address), hex(address)


def section_ids(data):
    return [section_id for _, section_id, _, _ in corrupt.directory(data)]


# ---- round trips -----------------------------------------------------------------------


@settings(max_examples=40)
@given(symbol_lists())
@example(SeededRecords(seed=7, size=5000))
@example([(0x1000, "T", "foo", None)])
@example([(0x1000, "T", "foo", "mod"), (0x1000, "t", "foo", "mod")])
def test_round_trip_generated(records):
    table = Table.from_records(records)
    data = table.to_bytes()
    opened = Table.from_bytes(data)
    assert_same_table(opened, table, sample_names=200)
    assert opened.to_bytes() == data  # saving an opened table changes nothing


def test_save_then_open(tmp_path, sample_files):
    for key, data in sample_files.items():
        path = tmp_path / f"{key[0]}-{key[1]}.pysyms"
        table = Table.from_bytes(data)
        table.save(path)
        assert path.read_bytes() == data
        assert_same_table(Table.open(path), table, sample_names=50)
        assert list(Table.open(str(path))) == list(table)


def test_save_replaces_a_file(tmp_path):
    path = tmp_path / "t.pysyms"
    path.write_bytes(b"old contents")
    table = Table.from_records(corrupt.sample_records(size=20))
    table.save(path)
    assert path.read_bytes() == table.to_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.pysyms"]  # no temporary file left


def test_real_kallsyms_round_trip(ref_kallsyms, tmp_path):
    path = tmp_path / "kallsyms.pysyms"
    ref_kallsyms.save(path)
    opened = Table.open(path)
    assert_same_table(opened, ref_kallsyms, sample_names=400)
    assert opened.provenance["source"] == ref_kallsyms.provenance["source"]
    header, sections = container.read(path.read_bytes())
    assert header["count"] == len(ref_kallsyms)
    assert header["module_count"] == len(ref_kallsyms.modules)


def test_empty_table():
    table = Table.from_records([])
    data = table.to_bytes()
    header, sections = container.read(data)
    assert (header["count"], header["module_count"], header["flags"], header["base"]) == (0, 0, 0, 0)
    for section_id in (F.SEC_NAMES, F.SEC_MARKERS, F.SEC_SEQS, F.SEC_ADDRESSES, F.SEC_FINE,
                       F.SEC_NAME_SAMPLE):
        assert len(sections[section_id]) == 0
    opened = Table.from_bytes(data)
    assert len(opened) == 0 and list(opened) == []
    assert opened.lookup_name("x") is None and opened.lookup_addr(0) is None
    assert opened.kernel_arrays() == table.kernel_arrays()
    assert opened.to_bytes() == data


# ---- addresses and modules: which layout --------------------------------------------------


@pytest.mark.parametrize("span, wide", [(0, False), (0xFFFFFFFF, False), (0x100000000, True),
                                        (U64_MAX, True)])
def test_address_width(span, wide):
    low = 0 if span == U64_MAX else 0xFFFF000000000000
    table = Table.from_records([(low, "T", "a", None), (low + span, "T", "b", None)])
    data = table.to_bytes()
    header, sections = container.read(data)
    assert bool(header["flags"] & F.FILE_FLAG_ADDR_WIDE) == wide
    if wide:
        assert header["base"] == 0
        assert struct.unpack("<2Q", sections[F.SEC_ADDRESSES]) == (low, low + span)
    else:
        assert header["base"] == low
        assert struct.unpack("<2I", sections[F.SEC_ADDRESSES]) == (0, span)
    assert [s.address for s in Table.from_bytes(data)] == [low, low + span]


def records_with_runs(count, runs):
    """``count`` records at increasing addresses whose module changes
    ``runs - 1`` times (core kernel and module ``m`` alternating)."""
    return [(0x1000 + i, "T", f"s{i}", "m" if (i * runs // count) % 2 else None) for i in range(count)]


@pytest.mark.parametrize("runs, stored_as", [(1, None), (2, "runs"), (8, "runs"), (9, "ids"), (64, "ids")])
def test_module_layout(runs, stored_as):
    # 64 symbols: runs are stored while they number at most 64 // 8 = 8
    table = Table.from_records(records_with_runs(64, runs))
    data = table.to_bytes()
    ids = section_ids(data)
    module_sections = [i for i in ids if F.SEC_MODULE_RUNS <= i <= F.SEC_MODULE_NAMES]
    if stored_as is None:  # one run: every symbol in the core kernel
        assert module_sections == []
    elif stored_as == "runs":
        assert module_sections == [F.SEC_MODULE_RUNS, F.SEC_MODULE_OFFSETS, F.SEC_MODULE_NAMES]
    else:
        assert module_sections == [F.SEC_MODULE_IDS, F.SEC_MODULE_OFFSETS, F.SEC_MODULE_NAMES]
    assert_same_table(Table.from_bytes(data), table)


def test_module_sections_contents():
    records = [(0x1000, "T", "a", "first"), (0x1010, "T", "b", None), (0x1020, "T", "c", "second"),
               (0x1030, "T", "d", "second")] + [(0x2000 + i, "T", f"x{i}", None) for i in range(28)]
    data = Table.from_records(records).to_bytes()
    header, sections = container.read(data)
    assert header["module_count"] == 2
    assert bytes(sections[F.SEC_MODULE_NAMES]) == b"first\0second\0"
    assert struct.unpack("<2I", sections[F.SEC_MODULE_OFFSETS]) == (0, 6)
    # 4 runs (first, core, second, core) of 32 symbols: 4 <= 32 // 8, so runs
    assert struct.unpack("<8I", sections[F.SEC_MODULE_RUNS]) == (0, 1, 1, 0, 2, 2, 4, 0)


def test_module_ids_contents():
    records = [(0x1000 + i, "T", f"s{i}", ["a", None, "b"][i % 3]) for i in range(12)]
    _, sections = container.read(Table.from_records(records).to_bytes())
    assert struct.unpack("<12H", sections[F.SEC_MODULE_IDS]) == (1, 0, 2) * 4


# ---- layout and section contents -----------------------------------------------------------


@pytest.mark.parametrize("key", SAMPLES)
def test_layout(sample_files, key):
    data = sample_files[key]
    header = corrupt.header(data)
    entries = corrupt.directory(data)
    assert header["magic"] == b"PYSYMTAB" and data[:8] == b"PYSYMTAB"
    assert data[8:16] == b"\x01\0\0\0\x04\x03\x02\x01"
    assert header["file_size"] == len(data)
    assert header["end_address"] == 0 and not header["flags"] & F.FILE_FLAG_HAS_END
    listed = [section_id for _, section_id, _, _ in entries]
    assert listed == sorted(listed)
    position = F.FILE_HEADER_SIZE + F.FILE_ENTRY_SIZE * len(entries)
    for at, _, offset, length in entries:
        assert data[at + 4:at + 8] == bytes(4)  # reserved
        assert offset == -(-position // 8) * 8  # the next multiple of 8
        assert data[position:offset] == bytes(offset - position)  # zero padding
        position = offset + length
    assert position == len(data)  # the file ends with the last section
    assert header["checksum"] == container.file_checksum(data)


def test_fine_and_name_sample(sample_files):
    table = Table.from_bytes(sample_files[("runs", False)])
    _, sections = container.read(sample_files[("runs", False)])
    fine = struct.unpack(f"<{len(sections[F.SEC_FINE]) // 4}I", sections[F.SEC_FINE])
    assert len(fine) == -(-len(table) // F.FINE_STRIDE)
    for k, offset in enumerate(fine):
        text, _ = table.expand_symbol(offset)
        assert text[1:].decode() == table[k * F.FINE_STRIDE].name
    markers = bytes(sections[F.SEC_MARKERS])
    assert markers == table.kernel_arrays()["markers"]
    every_marker = fine[::F.MARKER_STRIDE // F.FINE_STRIDE]
    assert struct.unpack(f"<{len(markers) // 4}I", markers) == every_marker
    # name order computed here from the names: bytewise, then index
    names = [name.encode() for name in table.names()]
    order = sorted(range(len(names)), key=lambda i: (names[i], i))
    want = b"".join(names[i][:16].ljust(16, b"\0") for i in order[::F.NAME_SAMPLE])
    assert bytes(sections[F.SEC_NAME_SAMPLE]) == want


def test_kernel_arrays_are_the_sections(sample_file):
    table = Table.from_bytes(sample_file)
    _, sections = container.read(sample_file)
    arrays = table.kernel_arrays()
    assert bytes(sections[F.SEC_NAMES]) == arrays["names"]
    assert bytes(sections[F.SEC_TOKEN_TABLE]) == arrays["token_table"]
    assert bytes(sections[F.SEC_TOKEN_INDEX]) == arrays["token_index"]
    assert bytes(sections[F.SEC_SEQS]) == arrays["seqs_of_names"]


def test_write_without_sections():
    data = container.write({}, count=0)
    assert len(data) == F.FILE_HEADER_SIZE == corrupt.header(data)["file_size"]
    with pytest.raises(ValueError):
        container.write({F.SEC_MAX + 1: b""}, count=0)


# ---- provenance -----------------------------------------------------------------------------


def test_provenance_of_each_constructor(tmp_path):
    text = b"0000000000001000 T foo\n0000000000001010 t bar [mod]\n"
    path = tmp_path / "kallsyms"
    path.write_bytes(text)
    for table, source in [(Table.from_records([(0x1000, "T", "foo", None)]), None),
                          (Table.from_text(text), None),
                          (Table.from_text(text, "some/where"), "some/where"),
                          (Table.from_file(path), str(path)),
                          (Table.from_kallsyms(str(path)), str(path))]:
        provenance = table.provenance
        assert provenance["source"] == source
        assert provenance["pysyms_version"]
        assert provenance["created"].endswith("+00:00")
        assert "boot_id" not in provenance  # a copy, not the running kernel's /proc/kallsyms
        assert table.is_stale() is None


def test_provenance_is_a_copy():
    table = Table.from_records([(0x1000, "T", "foo", None)])
    table.provenance["source"] = "changed"
    assert table.provenance["source"] is None


def test_provenance_survives_the_file(sample_file):
    table = Table.from_bytes(sample_file)
    provenance = dict(table.provenance, extra={"nested": [1, 2]}, text="ünïcode")
    arrays = table.kernel_arrays()
    modules = [name.encode() for name in table.modules]
    changed = Table(arrays, table._addresses, table._module_ids, modules, provenance)
    data = changed.to_bytes()
    _, sections = container.read(data)
    assert bytes(sections[F.SEC_PROVENANCE]) == tablefile.encode_provenance(provenance)
    assert Table.from_bytes(data).provenance == provenance


def live_table(provenance):
    table = Table.from_records([(0x1000, "T", "foo", None)])
    return Table(table.kernel_arrays(), table._addresses, table._module_ids, [], provenance)


def test_is_stale_for_the_running_kernel():
    provenance = tablefile.build_provenance(tablefile.LIVE_KALLSYMS)
    if not provenance.get("boot_id"):
        pytest.skip("no boot id on this system")
    table = Table.from_bytes(live_table(provenance).to_bytes())
    assert table.is_stale() is False
    assert live_table(dict(provenance, boot_id="another boot")).is_stale() is True
    assert live_table(dict(provenance, kernel_release="0.0.0")).is_stale() is True
    assert live_table(dict(provenance, modules_digest="0" * 64)).is_stale() is True


def test_file_without_provenance(sample_file):
    _, sections = container.read(sample_file)
    header = corrupt.header(sample_file)
    del sections[F.SEC_PROVENANCE]
    data = container.write(sections, count=header["count"], module_count=header["module_count"],
                           flags=header["flags"], base=header["base"])
    table = Table.from_bytes(data)
    assert table.provenance == {}
    assert table.is_stale() is None
    assert list(table) == list(Table.from_bytes(sample_file))


def test_provenance_too_long():
    big = {"padding": "x" * F.FILE_MAX_PROVENANCE}
    with pytest.raises(Error, match="provenance"):
        live_table(big).to_bytes()


def test_provenance_section_too_long(sample_file):
    _, sections = container.read(sample_file)
    header = corrupt.header(sample_file)
    sections[F.SEC_PROVENANCE] = json.dumps({"p": "x" * F.FILE_MAX_PROVENANCE}).encode()
    data = container.write(sections, count=header["count"], module_count=header["module_count"],
                           flags=header["flags"], base=header["base"])
    with pytest.raises(CorruptTableError, match="provenance"):
        container.read(data)


# ---- the checksum ------------------------------------------------------------------------------


P1 = 0x9E3779B97F4A7C15
P2 = 0xC2B2AE3D27D4EB4F


def doc_checksum(data):
    """docs/format.md "Checksum", line by line, with plain ints."""
    mask = U64_MAX

    def rotl(x, r):
        return ((x << r) | (x >> (64 - r))) & mask

    v = [P1 * (j + 1) & mask for j in range(4)]
    padded = data + bytes(-len(data) % 32)
    for block in range(0, len(padded), 32):
        for j in range(4):
            w = int.from_bytes(padded[block + 8 * j:block + 8 * j + 8], "little")
            v[j] = rotl((v[j] ^ w) * P2 & mask, 31)
    h = len(data) * P1 & mask
    for j in range(4):
        h = rotl(h ^ v[j], 27) * P1 & mask
    h ^= h >> 33
    h = h * 0xFF51AFD7ED558CCD & mask
    h ^= h >> 33
    h = h * 0xC4CEB9FE1A85EC53 & mask
    h ^= h >> 33
    return h


@pytest.mark.parametrize("length", [0, 1, 7, 8, 31, 32, 33, 63, 64, 100, 1000])
def test_checksum_is_the_doc_pseudo_code(length):
    data = bytes(random.Random(length).randrange(256) for _ in range(length))
    assert container.checksum64(data) == doc_checksum(data)
    assert container.checksum64(bytearray(data)) == container.checksum64(memoryview(data))


def test_checksum_zero_padding_is_not_ambiguous():
    # the length enters the hash: a short tail and its zero padding differ
    assert len({container.checksum64(bytes(n)) for n in range(0, 65)}) == 65


@settings(max_examples=200)
@given(st.binary(min_size=1, max_size=300), st.data())
def test_checksum_sees_every_byte(data, draw):
    at = draw.draw(st.integers(0, len(data) - 1))
    flip = draw.draw(st.integers(1, 255))
    changed = bytearray(data)
    changed[at] ^= flip
    assert container.checksum64(bytes(changed)) != container.checksum64(data)


@settings(max_examples=100)
@given(st.binary(min_size=8, max_size=200), st.data())
def test_checksum_sees_every_word(data, draw):
    at = draw.draw(st.integers(0, len(data) - 8))
    word = draw.draw(st.binary(min_size=8, max_size=8))
    changed = data[:at] + word + data[at + 8:]
    assert (container.checksum64(changed) == container.checksum64(data)) == (changed == data)


def test_file_checksum_ignores_its_own_field(sample_file):
    other = corrupt.put(sample_file, F.FILE_CHECKSUM_OFFSET, "Q", 12345)
    assert container.file_checksum(other) == container.file_checksum(sample_file)
    zeroed = corrupt.put(sample_file, F.FILE_CHECKSUM_OFFSET, "Q", 0)
    assert container.file_checksum(sample_file) == container.checksum64(zeroed)


# ---- corruption ----------------------------------------------------------------------------------


def assert_rejected(data, path="some.pysyms", allow_checksum=True):
    """Both the container reader and the table reject ``data`` with a
    CorruptTableError that says why and where."""
    with pytest.raises(CorruptTableError) as caught:
        container.read(data, path)
    error = caught.value
    assert isinstance(error.reason, str) and error.reason
    assert error.path == path
    assert error.offset is None or 0 <= error.offset <= max(len(data), F.FILE_HEADER_SIZE)
    if not allow_checksum:
        assert "checksum" not in error.reason, error.reason
    with pytest.raises(CorruptTableError) as again:
        Table.from_bytes(data, path)
    assert again.value.reason == error.reason and again.value.offset == error.offset
    return error


# The check that must catch each case (a regular expression over the
# reason): proves every check of "Validation at open" exists, rather than
# some later check stumbling over the damage.
CAUGHT_BY = {
    "bad_magic": "bad magic", "bad_version": "format version", "bad_byte_order": "byte order mark",
    "unknown_flag": "unknown flags", "huge_count": "symbol count", "count_plus_one": "bytes, expected",
    "count_minus_one": "bytes, expected", "huge_module_count": "module count",
    "huge_section_count": "section count", "section_count_33": "section count",
    "section_count_plus_one": "outside the file", "file_size_lies": "file_size",
    "extended_by_8": "file_size", "wide_with_base": "base .* not 0", "end_without_has_end": "HAS_END",
    "has_end_with_zero_end": "end_address of 0",
    "unknown_section_id": "unknown section id", "section_id_zero": "unknown section id",
    "duplicate_section_id": "twice", "reserved_not_zero": "reserved", "misaligned_section": "aligned",
    "section_offset_past_end": "outside the file", "section_offset_huge": "outside the file",
    "section_length_huge": "outside the file", "section_length_past_end": "outside the file",
    "section_inside_directory": "outside the file", "section_inside_header": "outside the file",
    "overlapping_sections": "overlaps", "overlapping_tail": "overlaps",
    "missing_module_runs": "exactly one", "missing_module_ids": "exactly one",
    "names_length_minus_1": "runs past the end", "module_runs_length_minus_4": "runs",
    "modules_without_module_count": "without modules",
    "both_runs_and_ids": "exactly one|without modules", "module_count_without_modules": "missing",
    "token_table_empty": "at least 1", "module_runs_empty": "runs",
    "token_offset_past_table": "past token_table", "token_without_nul": "no NUL",
    "token_too_long": "longer than", "names_last_record_past_end": "runs past the end",
    "names_zero_length_record": "length 0", "names_two_byte_length_cut": "2-byte length",
    "names_last_record_shorter": "follow the last", "names_padding_included": "follow the last",
    "names_record_0_shorter": "section (names|markers|fine)", "marker_wrong": "section markers",
    "marker_zero_not_zero": "section markers", "fine_wrong": "section fine",
    "fine_past_names": "section fine", "seq_equals_count": "not below the symbol count",
    "seq_max": "not below the symbol count", "addresses_decreasing": "is below entry",
    "addresses_decreasing_at_end": "is below entry", "base_overflow": "exceeds 64 bits",
    "module_value_above_count": "above the module count", "module_value_max": "above the module count",
    "run_zero_not_at_zero": "not 0", "runs_not_increasing": "runs start at 0",
    "run_past_last_symbol": "runs start at 0", "module_name_offset_past_names": "past module_names",
    "module_name_empty": "ending in a NUL", "module_name_without_nul": "ending in a NUL",
    "provenance_not_json": "not UTF-8 JSON", "provenance_not_utf8": "not UTF-8 JSON",
    "provenance_not_object": "not a JSON object", "checksum_flipped": "checksum mismatch",
    "checksum_body_byte_flipped": "checksum mismatch", "empty_file": "shorter than",
    "header_only": "file_size", "truncated_header": "shorter than", "truncated_last_byte": "file_size",
    "truncated_and_resized": "outside the file",
}


def caught_by(name):
    if name.startswith("missing_"):
        return CAUGHT_BY.get(name, "missing")
    if "_length_" in name:
        return CAUGHT_BY.get(name, "bytes, expected")
    return CAUGHT_BY[name]


def test_every_case_says_what_catches_it():
    for name, _ in corrupt.CASES:
        assert caught_by(name)


@pytest.mark.parametrize("name, case", corrupt.CASES, ids=[name for name, _ in corrupt.CASES])
def test_corruption_case(sample_files, name, case):
    applied = 0
    for key, data in sample_files.items():
        try:
            bad = case(data)
        except corrupt.NotApplicable:
            continue
        applied += 1
        assert bad != data
        # a resealed lie must be caught by the check it aims at, not by the checksum
        error = assert_rejected(bad, allow_checksum=name.startswith("checksum_"))
        assert re.search(caught_by(name), error.reason), (key, error.reason)
    assert applied, f"{name} applies to none of the sample files"


@pytest.mark.parametrize("key", [("runs", False), ("ids", True)])
def test_truncations(sample_files, key):
    data = sample_files[key]
    for name, bad in corrupt.truncations(data, random_points=20, seed=len(data)):
        assert_rejected(bad)


def test_truncation_of_the_empty_table():
    data = Table.from_records([]).to_bytes()
    for point in range(len(data)):
        assert_rejected(data[:point])


@pytest.mark.parametrize("key", SAMPLES)
def test_byte_flips(sample_files, key):
    for _, bad in corrupt.byte_flips(sample_files[key], count=40, seed=SAMPLES.index(key)):
        assert_rejected(bad)


@settings(max_examples=150)
@given(st.data())
def test_any_single_byte_change_is_rejected(sample_file, data):
    at = data.draw(st.integers(0, len(sample_file) - 1))
    flip = data.draw(st.integers(1, 255))
    bad = bytearray(sample_file)
    bad[at] ^= flip
    assert_rejected(bytes(bad))


@settings(max_examples=100)
@given(st.binary(max_size=400))
@example(b"PYSYMTAB")
@example(b"PYSYMTAB" + bytes(56))
def test_garbage_is_rejected(garbage):
    assert_rejected(garbage)
    assert_rejected(b"PYSYMTAB\x01\0\0\0\x04\x03\x02\x01" + garbage)


@settings(max_examples=300)
@given(st.data())
def test_resealed_lies_never_crash(sample_files, data):
    """Random bytes written over any part of a file, checksum fixed up:
    the reader either rejects it with CorruptTableError or accepts a table
    (that may give wrong answers); no other exception ever escapes."""
    key = data.draw(st.sampled_from(SAMPLES))
    original = sample_files[key]
    at = data.draw(st.one_of(st.integers(0, F.FILE_HEADER_SIZE + 24 * 13),
                             st.integers(0, len(original) - 1)))
    patch = data.draw(st.binary(min_size=1, max_size=12))
    bad = corrupt.reseal((original[:at] + patch + original[at + len(patch):])[:len(original)])
    try:
        table = Table.from_bytes(bad)
    except CorruptTableError as error:
        assert error.reason
    else:
        assert len(table) == corrupt.header(bad)["count"]
