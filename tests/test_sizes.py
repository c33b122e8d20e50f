"""Symbol sizes (issue #6): records with a size, ``nm -S`` text, table files
with section sizes, and the address rule for sized symbols (DESIGN.md
"Address lookup": a sized first alias covers exactly [address, address +
size); an unsized one keeps the region rule).  C and reference against the
oracle of tests/oracle.py."""

import random
from array import array

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import corrupt
import oracle
import pysyms
from pysyms import _format as F
from strategies import small_symbol_lists, symbol_lists

U64 = (1 << 64) - 1


def with_sizes(records, sizes):
    return [(*r, s) for r, s in zip(records, sizes)]


def sizes_for(n):
    """n sizes: mostly 0 (unknown) or small, some overlapping the next
    symbol, a few past 4 GiB (the u64 section)."""
    small = st.integers(1, 0x400)
    return st.lists(st.one_of(st.just(0), st.just(0), small, small, st.integers(1, 1 << 40),
                              st.sampled_from([1, 0xFFFFFFFF, 1 << 32, U64])),
                    min_size=n, max_size=n)


@st.composite
def sized_symbol_lists(draw, max_size=5000):
    records = draw(symbol_lists(max_size) if max_size > 40 else small_symbol_lists(max_size))
    return with_sizes(records, draw(sizes_for(len(records))))


def info_tuple(info):
    return None if info is None else (info.name, info.address, info.offset, info.size, info.module,
                                      info.index)


def assert_addr_lookups(table, orc, probes):
    for q in probes:
        assert info_tuple(table.lookup_addr(q)) == orc.lookup_addr(q), hex(q)


@settings(max_examples=60, deadline=None)
@given(records=sized_symbol_lists())
def test_sized_lookups_match_oracle(impl, records):
    table = impl.from_records(records)
    orc = oracle.Oracle(records)
    assert [tuple(s) for s in table] == orc.symbols()
    assert table.has_sizes == any(r.size for r in orc.recs)
    assert [table.size_of(i) for i in range(len(table))] == [r.size for r in orc.recs]
    probes = orc.probe_addresses()
    if len(probes) > 3000:
        probes = sorted(random.Random(len(probes)).sample(probes, 3000))
    assert_addr_lookups(table, orc, probes)


@settings(max_examples=40, deadline=None)
@given(records=sized_symbol_lists(max_size=600))
def test_sized_files_same_bytes_and_round_trip(c_impl, ref_impl, records):
    c_table, r_table = c_impl.from_records(records), ref_impl.from_records(records)
    r_table._provenance = c_table.provenance  # the same provenance ("created"), so the same file
    data = c_table.to_bytes()
    assert data == r_table.to_bytes()
    orc = oracle.Oracle(records)
    probes = orc.probe_addresses()[:1500]
    for impl in (c_impl, ref_impl):
        opened = impl.from_bytes(data)
        assert [opened.size_of(i) for i in range(len(opened))] == [r.size for r in orc.recs]
        assert_addr_lookups(opened, orc, probes)


@settings(max_examples=40, deadline=None)
@given(records=sized_symbol_lists(max_size=2000))
def test_sized_batches_equal_one_by_one(c_impl, records):
    table = c_impl.from_records(records)
    orc = oracle.Oracle(records)
    probes = orc.probe_addresses()
    shuffled = probes[:]
    random.Random(1).shuffle(shuffled)
    for batch in (probes, shuffled):
        indexes, offsets = table.symbolize(array("Q", batch))
        for q, i, off in zip(batch, indexes, offsets):
            info = table.lookup_addr(q)
            assert (i, off) == ((-1, 0) if info is None else (info.index, info.offset)), hex(q)
        assert table.format(array("Q", batch)) == [
            info.format() if info is not None else f"0x{q:x}"
            for q, info in ((q, table.lookup_addr(q)) for q in batch)]


def test_sized_rule_by_hand(impl):
    table = impl.from_records([
        (0x1000, "T", "a", None, 0x10),   # sized: [0x1000, 0x1010)
        (0x1010, "T", "b", None, 0),      # unsized: to the next symbol
        (0x1020, "t", "c", None, 8),      # sized, a gap after it
        (0x1030, "t", "big", None, 0x40), # overlaps d: d wins from 0x1040
        (0x1040, "t", "d", None, 0),      # last and unsized: only itself
    ])
    got = {q: info_tuple(table.lookup_addr(q)) for q in
           (0xfff, 0x1000, 0x100f, 0x1010, 0x101f, 0x1027, 0x1028, 0x102f, 0x1030, 0x103f, 0x1040, 0x1041)}
    assert got == {
        0xfff: None,
        0x1000: ("a", 0x1000, 0, 0x10, None, 0),
        0x100f: ("a", 0x1000, 0xf, 0x10, None, 0),
        0x1010: ("b", 0x1010, 0, 0x10, None, 1),
        0x101f: ("b", 0x1010, 0xf, 0x10, None, 1),
        0x1027: ("c", 0x1020, 7, 8, None, 2),
        0x1028: None,
        0x102f: None,
        0x1030: ("big", 0x1030, 0, 0x40, None, 3),
        0x103f: ("big", 0x1030, 0xf, 0x40, None, 3),
        0x1040: ("d", 0x1040, 0, 0, None, 4),
        0x1041: None,
    }
    assert table.format([0x1027, 0x1028]) == ["c+0x7/0x8", "0x1028"]


def test_the_first_alias_decides(impl):
    # "b" sorts after "a" at one address (input order): a's size counts
    table = impl.from_records([(0x100, "T", "a", None, 4), (0x100, "T", "b", None, 0x100)])
    assert table.lookup_addr(0x103).name == "a"
    assert table.lookup_addr(0x104) is None


def test_no_sizes_no_section(impl):
    table = impl.from_records([(0x100, "T", "a", None, 0), (0x200, "T", "b", None)])
    assert not table.has_sizes and table.size_of(1) == 0 and table.size_of(-1) == 0
    assert F.SEC_SIZES not in {sid for _, sid, _, _ in corrupt.directory(table.to_bytes())}
    with pytest.raises(IndexError):
        table.size_of(2)


def test_bad_sizes_are_errors_naming_the_record(impl):
    for bad in (-1, 1 << 64, "8", 1.5):
        with pytest.raises(pysyms.InvalidSymbolError) as info:
            impl.from_records([(0x100, "T", "a", None), (0x200, "T", "b", None, bad)])
        assert info.value.record == 1 and "size" in info.value.reason


NM_S = b"""\
0000000000001139 0000000000000016 T main
0000000000001120 0000000000000019 t helper
0000000000004010 0000000000000004 D counter
0000000000004014 B __bss_start
0000000000002000 0000000000000004 R _IO_stdin_used
                 U puts@GLIBC_2.2.5
"""


def test_nm_dash_s_keeps_sizes(impl):
    table = impl.from_text(NM_S)
    by_name = {s.name: i for i, s in enumerate(table)}
    assert table.size_of(by_name["main"]) == 0x16
    assert table.size_of(by_name["__bss_start"]) == 0
    assert table.lookup_addr(0x1139 + 0x15).name == "main"
    assert table.lookup_addr(0x1139 + 0x16) is None  # past main's end: a gap
    assert table.lookup_addr(0x1120 + 0x18).format() == "helper+0x18/0x19"


def sized_file(c_impl):
    records = [(0xffffffff81000000 + 0x40 * i, "t", f"f{i}", None, 0x20 if i % 3 else 0) for i in range(300)]
    return c_impl.from_records(records).to_bytes()


@pytest.mark.parametrize("change", [-4, -1, 1, 4])
def test_sizes_section_of_the_wrong_length_is_corrupt(c_impl, ref_impl, change):
    data = sized_file(c_impl)
    _, offset, length = corrupt.entry(data, F.SEC_SIZES)
    bad = corrupt.set_entry(data, F.SEC_SIZES, length=length + change)
    for impl in (c_impl, ref_impl):
        with pytest.raises(pysyms.CorruptTableError) as info:
            impl.from_bytes(bad)
        assert "sizes" in str(info.value)


def test_sizes_are_read_back_from_a_file(c_impl, ref_impl):
    data = sized_file(c_impl)
    for impl in (c_impl, ref_impl):
        table = impl.from_bytes(data)
        assert [table.size_of(i) for i in range(6)] == [0, 0x20, 0x20, 0, 0x20, 0x20]
