"""The C table and the pure-Python reference against each other and against
a brute-force oracle (tests/oracle.py, plain Python over sorted records)."""

import random

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import oracle
import pysyms
from strategies import SeededRecords, symbol_lists

U64_MAX = (1 << 64) - 1


def absent_names(records):
    present = {oracle.normalise(r).name for r in records}
    candidates = [b"", b"x", b"zzzz_not_here", b"\x00", b"a" * 600, b"\xff\xff\xff"]
    for name in list(present)[:50]:
        candidates += [name + b"_", name[:-1], b"_" + name, name + b".llvm.1", name.upper()]
    return [c for c in candidates if c not in present]


def assert_same_lookups(table, orc, records, sample_names=None):
    names = sorted({oracle.normalise(r).name for r in records})
    if sample_names is not None and len(names) > sample_names:
        names = random.Random(len(names)).sample(names, sample_names)
    for name in names + absent_names(records):
        for query in (name, oracle.to_str(name)):
            assert table.lookup_all(query) == orc.lookup_all(name), name
            assert table.lookup_name_index(query) == orc.lookup_name_index(name), name
            assert table.lookup_name(query) == orc.lookup_name(name), name


def assert_same_addr_lookups(table, orc, probes):
    for q in probes:
        info = table.lookup_addr(q)
        want = orc.lookup_addr(q)
        if want is None:
            assert info is None, hex(q)
        else:
            assert info is not None, hex(q)
            assert tuple(info) == want, hex(q)
            assert (info.name, info.address, info.offset, info.size, info.module, info.index) == want


# ---- C vs reference -------------------------------------------------------------------


@settings(max_examples=60)
@given(symbol_lists())
@example(SeededRecords(seed=1, size=5000))
@example([(0x1000, "T", "foo", None)])
def test_c_equals_reference(c_impl, ref_impl, records):
    c = c_impl.from_records(records)
    ref = ref_impl.from_records(records)
    assert len(c) == len(ref) == len(records)
    assert c.kernel_arrays() == ref.kernel_arrays()
    assert list(c) == list(ref)
    assert c.names() == ref.names() == [symbol.name for symbol in ref]
    assert set(c.modules) == set(ref.modules)

    names = {oracle.normalise(r).name for r in records}
    for name in sorted(names) + absent_names(records):
        assert c.lookup_all(name) == ref.lookup_all(name), name
        assert c.lookup_name_index(name) == ref.lookup_name_index(name), name
        assert c.lookup_name(name) == ref.lookup_name(name), name

    orc = oracle.Oracle(records)
    for q in orc.probe_addresses():
        assert c.lookup_addr(q) == ref.lookup_addr(q), hex(q)

    # The size figures: the prefixes as the oracle splits the array, the
    # names' bytes as the records give them.
    prefixes = sum(plen for _, plen, _ in oracle.split_names(c.kernel_arrays()["names"]))
    name_bytes = sum(len(oracle.normalise(r).name) for r in records)
    assert c._names_figures() == ref._names_figures() == (prefixes, name_bytes)


# ---- each implementation vs the brute-force oracle ------------------------------------------


def sample_probes(orc, limit=3000):
    """Probe addresses around the symbols, at most ``limit`` (extremes kept)."""
    probes = orc.probe_addresses()
    if len(probes) <= limit:
        return probes
    return probes[:50] + sorted(random.Random(len(probes)).sample(probes[50:-50], limit - 100)) + probes[-50:]


@settings(max_examples=50)
@given(records=symbol_lists())
def test_matches_oracle(impl, records):
    # cheap checks first: a failing example (and every shrink step) stops early
    table = impl.from_records(records)
    orc = oracle.Oracle(records)
    assert len(table) == len(orc)
    assert [tuple(s) for s in table] == orc.symbols()
    assert_same_addr_lookups(table, orc, sample_probes(orc))
    assert_same_lookups(table, orc, records, sample_names=100)


@settings(max_examples=40)
@given(records=symbol_lists(max_size=300), data=st.data())
def test_getitem_matches_iteration(impl, records, data):
    table = impl.from_records(records)
    symbols = list(table)
    n = len(symbols)
    for i in data.draw(st.lists(st.integers(-n, n - 1), max_size=20)):
        assert table[i] == symbols[i]
        assert table[i].address == symbols[i][0]
    assert table[0] == symbols[0] and table[-1] == symbols[-1]
    for bad in (n, -n - 1, n + 1000):
        with pytest.raises(IndexError):
            table[bad]


# ---- the sort order, pinned on hand-made examples ------------------------------------------


SORT_CASES = [
    # weak after non-weak at one address, whatever the input order
    ([(0x10, "W", "weak1", None), (0x10, "T", "strong", None), (0x10, "w", "weak2", None)],
     ["strong", "weak1", "weak2"]),
    # linker-provided after real names; short "__x_end" (7 bytes) is not provided
    ([(0x20, "T", "__start_sec", None), (0x20, "T", "__foo_end", None), (0x20, "T", "__x_end", None),
      (0x20, "T", "real", None), (0x20, "T", "__stop_sec", None), (0x20, "T", "__end_xy", None),
      (0x20, "T", "__bss_start", None)],
     ["real", "__x_end", "__start_sec", "__foo_end", "__stop_sec", "__end_xy", "__bss_start"]),
    # fewer leading underscores first, then input order
    ([(0x30, "t", "___c", None), (0x30, "t", "_b", None), (0x30, "t", "a2", None),
      (0x30, "t", "__d", None), (0x30, "t", "a1", None)],
     ["a2", "a1", "_b", "__d", "___c"]),
    # weakness beats underscores, provided beats underscores
    ([(0x40, "W", "a", None), (0x40, "T", "____z", None), (0x40, "T", "__start_q", None)],
     ["____z", "__start_q", "a"]),
    # address first of all
    ([(0x51, "T", "a", None), (0x50, "W", "__start_zzz", None)], ["__start_zzz", "a"]),
    # "_start"/"_end" themselves are too short to be provided: underscores decide
    ([(0x60, "T", "__bss_start", None), (0x60, "T", "_end", None), (0x60, "T", "_start", None)],
     ["_end", "_start", "__bss_start"]),
]


@pytest.mark.parametrize("records,expected", SORT_CASES)
def test_sort_order(impl, records, expected):
    table = impl.from_records(records)
    assert [s.name for s in table] == expected
    assert [s.name for s in table] == [oracle.to_str(r.name) for r in oracle.kernel_sort(records)]


def test_lookup_semantics_pinned(impl):
    records = [
        (0x3000, "t", "dup", "modb"),
        (0x1000, "t", "dup", None),
        (0x2000, "T", "other", None),
        (0x2000, "W", "dup", None),     # alias of "other", weak: after it
        (0x1000, "T", "first", None),   # alias of "dup" at 0x1000, input later
        (0x4000, "T", "last", None),
    ]
    t = impl.from_records(records)
    assert [tuple(s) for s in t] == [
        (0x1000, "t", "dup", None), (0x1000, "T", "first", None), (0x2000, "T", "other", None),
        (0x2000, "W", "dup", None), (0x3000, "t", "dup", "modb"), (0x4000, "T", "last", None),
    ]
    assert t.lookup_name("dup") == 0x1000
    assert t.lookup_name(b"dup") == 0x1000
    assert t.lookup_name_index("dup") == 0
    assert t.lookup_all("dup") == [0, 3, 4]
    assert t.lookup_all("du") == [] and t.lookup_name("du") is None and t.lookup_name_index("du") is None
    assert t.lookup_name("first") == 0x1000 and t.lookup_name_index("first") == 1
    assert t.lookup_addr(0xFFF) is None
    assert tuple(t.lookup_addr(0x1000)) == ("dup", 0x1000, 0, 0x1000, None, 0)
    assert tuple(t.lookup_addr(0x1FFF)) == ("dup", 0x1000, 0xFFF, 0x1000, None, 0)
    # "other" and modb's "dup" end runs of their regions (the next symbol is
    # another module's): without region ends only their own addresses answer
    assert tuple(t.lookup_addr(0x2000)) == ("other", 0x2000, 0, 0, None, 2)
    assert t.lookup_addr(0x2004) is None
    assert tuple(t.lookup_addr(0x3000)) == ("dup", 0x3000, 0, 0, "modb", 4)
    assert t.lookup_addr(0x3010) is None
    assert tuple(t.lookup_addr(0x4000)) == ("last", 0x4000, 0, 0, None, 5)
    assert t.lookup_addr(0x4001) is None
    assert t.lookup_addr(U64_MAX) is None
    assert t.lookup_addr(0) is None
    # with region ends (from /proc/modules, _end): up to the end, never past
    # the next region's first symbol
    t = impl.from_records(records, region_ends={None: 0x5000, "modb": 0x3800})
    assert tuple(t.lookup_addr(0x2004)) == ("other", 0x2000, 4, 0x1000, None, 2)
    assert tuple(t.lookup_addr(0x3010)) == ("dup", 0x3000, 0x10, 0x800, "modb", 4)
    assert t.lookup_addr(0x3010).format() == "dup+0x10/0x800 [modb]"
    assert t.lookup_addr(0x3800) is None
    assert tuple(t.lookup_addr(0x4FFF)) == ("last", 0x4000, 0xFFF, 0x1000, None, 5)
    assert t.lookup_addr(0x5000) is None
    with pytest.raises(pysyms.Error, match="no symbols"):
        impl.from_records(records, region_ends={"nomod": 0x9000})
    with pytest.raises(pysyms.Error):
        impl.from_records(records, region_ends={None: 0})


def test_extreme_addresses(impl):
    t = impl.from_records([(0, "T", "zero", None), (U64_MAX, "T", "top", None), (1 << 63, "t", "mid", None)])
    assert [s.address for s in t] == [0, 1 << 63, U64_MAX]
    assert tuple(t.lookup_addr(0)) == ("zero", 0, 0, 1 << 63, None, 0)
    assert tuple(t.lookup_addr((1 << 63) - 1)) == ("zero", 0, (1 << 63) - 1, 1 << 63, None, 0)
    assert tuple(t.lookup_addr(U64_MAX - 1)) == ("mid", 1 << 63, (1 << 63) - 2, (1 << 63) - 1, None, 1)
    assert tuple(t.lookup_addr(U64_MAX)) == ("top", U64_MAX, 0, 0, None, 2)
    assert t.lookup_name("top") == U64_MAX
    # The C hot path returns U64_MAX for "not found" too, then asks again.
    assert t.lookup_name("topx") is None
    assert t.lookup_name_without_suffix("top") == U64_MAX
    assert t.lookup_name_without_suffix("topx") is None
    t2 = impl.from_records([(U64_MAX, "t", "top.llvm.12", None), (8, "t", "low", None)])
    assert t2.lookup_name_without_suffix("top") == U64_MAX
    assert t2.lookup_name("top") is None
    assert t.lookup_addr(-1) is None
    assert t.lookup_addr(1 << 64) is None


def test_query_with_nul_finds_nothing(impl):
    # No name holds a NUL, so a query that does matches nothing, even where
    # the part before the NUL is a name (the C hot path ends names at NUL).
    t = impl.from_records([(0x1000, "T", "dup", None), (0x2000, "t", "dup.llvm.7", None)])
    for query in ("dup\0", "dup\0x", b"dup\0", "\0dup", "\0"):
        assert t.lookup_name(query) is None, query
        assert t.lookup_name_without_suffix(query) is None, query
    assert t.lookup_name("dup") == 0x1000
    assert t.lookup_name_without_suffix("dup") == 0x1000


def test_non_utf8_names_round_trip(impl):
    raw = [b"\xff\xfeabc", b"caf\xc3\xa9", b"\x80", b"ok"]
    t = impl.from_records([(0x100 + 16 * k, "t", name, None) for k, name in enumerate(raw)])
    assert [s.name.encode("utf-8", "surrogateescape") for s in t] == raw
    assert t[2].name == "\udc80"
    assert t[1].name == "café"
    for k, name in enumerate(raw):
        assert t.lookup_name(name) == 0x100 + 16 * k
        assert t.lookup_name(name.decode("utf-8", "surrogateescape")) == 0x100 + 16 * k
    assert t.lookup_addr(0x120).name == "\udc80"


def test_str_and_bytes_records_build_the_same(impl):
    records = SeededRecords(seed=7, size=300)
    as_bytes = [(a, t, oracle.to_bytes(n), oracle.to_bytes(m)) for a, t, n, m in records]
    as_str = [(a, t, oracle.to_str(n), oracle.to_str(m)) for a, t, n, m in records]
    one, two = impl.from_records(as_bytes), impl.from_records(as_str)
    assert one.kernel_arrays() == two.kernel_arrays()
    assert list(one) == list(two)


def test_from_records_takes_any_iterable(impl):
    def gen():
        yield (0x20, "T", "b", None)
        yield (0x10, "T", "a", None)
    t = impl.from_records(gen())
    assert [s.name for s in t] == ["a", "b"]
    t2 = impl.from_records(iter([(0x10, "T", "a", None), (0x20, "T", "b", None)]))
    assert t.kernel_arrays() == t2.kernel_arrays()


def test_empty_records_agree(c_impl, ref_impl):
    """Not specified: whatever an empty record list does, both do the same."""
    outcomes = []
    for impl in (c_impl, ref_impl):
        try:
            t = impl.from_records([])
        except Exception as exc:  # noqa: BLE001 - compared below
            outcomes.append(type(exc).__name__)
        else:
            outcomes.append((len(t), list(t), t.lookup_name("x"), t.lookup_addr(0), t.kernel_arrays()))
    assert outcomes[0] == outcomes[1]


# ---- edge shapes: long alias and duplicate runs, byte order, address widths ----------------

EDGE_CASES = {
    # 1000 aliases at one address cross several markers and fine strides:
    # every address lookup there must report the first one
    "1000-aliases": [(0x5000, "T", f"alias{i}", None) for i in range(1000)]
                    + [(0x4000, "t", "before", None), (0x6000, "t", "after", None)],
    # one name 1000 times, with near names around it in name order
    "1000-duplicates": [(0x1000 + 8 * i, "t", "same", None) for i in range(1000)]
                       + [(0x0, "t", "samf", None), (0x10, "t", "sam", None), (0x20, "t", "samd", None)],
    # name order is unsigned bytewise: b"\x80x" after b"ax"
    "high-bytes": [(0x1000, "t", n, None) for n in [b"\x80x", b"ax", b"\xffx", b"Ax", b"a", b"aa", b"aaa"]],
    # addresses spanning just under, at and over 2^32 from the lowest one
    "span-u32-max": [(0x1000, "T", "lo", None), (0x1000 + 0xFFFFFFFF, "T", "hi", None),
                     (0x1000 + 0x7FFFFFFF, "t", "mid", None)],
    "span-2^32": [(0x1000, "T", "lo", None), (0x1000 + (1 << 32), "T", "hi", None),
                  (0x1000 + (1 << 31), "t", "mid", None)],
    "top-of-space": [(U64_MAX - 255 + i, "T", f"top{i}", None) for i in range(256)],
    "modules-interleaved": [(0x1000 + 16 * i, "t", f"f{i % 7}", [None, "a", "b", "c"][i % 4]) for i in range(600)],
}


@pytest.mark.parametrize("records", list(EDGE_CASES.values()), ids=list(EDGE_CASES))
def test_edge_shapes(impl, records):
    table = impl.from_records(records)
    orc = oracle.Oracle(records)
    assert [tuple(s) for s in table] == orc.symbols()
    assert_same_lookups(table, orc, records)
    assert_same_addr_lookups(table, orc, orc.probe_addresses())
    oracle.check_arrays(table.kernel_arrays(), records)


def test_high_bytes_name_order(impl):
    t = impl.from_records(EDGE_CASES["high-bytes"])
    seqs = t.kernel_arrays()["seqs_of_names"]
    order = [int.from_bytes(seqs[k:k + 3], "big") for k in range(0, len(seqs), 3)]
    assert [t[i].name.encode("utf-8", "surrogateescape") for i in order] == \
        [b"Ax", b"a", b"aa", b"aaa", b"ax", b"\x80x", b"\xffx"]


def outcome(impl, records):
    try:
        table = impl.from_records(records)
    except Exception as exc:  # noqa: BLE001 - compared between implementations
        return type(exc), getattr(exc, "record", None)
    return len(table), table.kernel_arrays(), list(table)


def test_token_table_overflow_agrees(c_impl, ref_impl):
    """Long names sharing a 509-byte prefix make 300 tokens of ~510 bytes:
    the token table would pass its 16-bit offsets.  Both refuse alike."""
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    records = [(0x1000 + 16 * k, "T", "a" * 509 + c1 + c2, None)
               for k, (c1, c2) in enumerate((x, y) for x in alphabet[:20] for y in alphabet[:15])]
    got = outcome(c_impl, records)
    assert got == outcome(ref_impl, records)
    assert isinstance(got[0], type) and issubclass(got[0], pysyms.Error)


@pytest.mark.parametrize("count", [300, 5000])
def test_pair_commoner_than_symbols(c_impl, ref_impl, count):
    """A pair that occurs many times per name: the first rounds replace more
    occurrences than there are symbols (the compression's logs outgrow the
    room finish sets aside for them), with and without the helper thread."""
    records = [(0x1000 + 16 * k, "T", "ab" * (20 + k % 30) + f"_{k}", None) for k in range(count)]
    c, ref = c_impl.from_records(records), ref_impl.from_records(records)
    assert c.kernel_arrays() == ref.kernel_arrays()
    assert c.names() == [r[2] for r in records]


def test_many_modules_agree(c_impl, ref_impl):
    """65,536 distinct modules: whatever the limit, both implementations agree."""
    records = [(0x1000 + i, "t", f"s{i}", f"m{i}") for i in range(65536)]
    c, ref = outcome(c_impl, records), outcome(ref_impl, records)
    assert c[:2] == ref[:2]
