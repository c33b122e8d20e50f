"""Batch symbolization and formatting (issue #6): ``symbolize`` and
``format`` against one-by-one ``lookup_addr`` and the pure-Python reference,
on generated tables and on the running kernel's."""

import random
import threading
from array import array

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pysyms
from strategies import symbol_lists

U64_MAX = (1 << 64) - 1
STYLES = ("%pS", "%ps", "%pB")


def probes(table, count, rng):
    """Addresses below, at, inside, between and beyond the symbols."""
    if not len(table):
        return [0, 1, U64_MAX]
    lo, hi = table[0].address, table[len(table) - 1].address
    picks = [0, U64_MAX, lo, hi, max(lo - 1, 0), min(hi + 1, U64_MAX)]
    for _ in range(count):
        kind = rng.random()
        if kind < 0.4:
            sym = table[rng.randrange(len(table))]
            picks.append(min(sym.address + rng.randrange(0, 64), U64_MAX))
        elif kind < 0.8:
            picks.append(rng.randrange(lo, hi + 1))
        elif kind < 0.9:
            picks.append(rng.randrange(0, lo + 1))
        else:
            picks.append(rng.randrange(hi, U64_MAX + 1))
    return picks


def one_by_one(table, addresses):
    indexes, offsets = [], []
    for address in addresses:
        info = table.lookup_addr(address)
        indexes.append(-1 if info is None else info.index)
        offsets.append(0 if info is None else info.offset)
    return indexes, offsets


def kernel_text(table, address, style):
    """What the kernel's vsprintf prints, from lookup_addr (DESIGN.md)."""
    query = address - 1 if style == "%pB" and address else address
    info = table.lookup_addr(query)
    if info is None:
        return f"{address:#x}"
    text = info.name if style == "%ps" else f"{info.name}+{address - info.address:#x}/{info.size:#x}"
    return text + (f" [{info.module}]" if info.module is not None else "")


# ---- generated tables: C == reference == one by one ---------------------------------------


@settings(max_examples=40)
@given(symbol_lists(max_size=600), st.integers(0, 2**32), st.booleans())
def test_symbolize_and_format_match_reference(c_impl, ref_impl, records, seed, sort):
    c = c_impl.from_records(records)
    ref = ref_impl.from_records(records)
    addresses = probes(c, 300, random.Random(seed))
    if sort:
        addresses.sort()
    want = one_by_one(c, addresses)
    for table in (c, ref):
        indexes, offsets = table.symbolize(array("Q", addresses))
        assert (list(indexes), list(offsets)) == want
    for style in STYLES:
        text = c.format(addresses, style)
        assert text == ref.format(addresses, style)
        assert text == [kernel_text(c, a, style) for a in addresses]
        as_bytes = "".join(line + "\n" for line in text).encode("utf-8", "surrogateescape")
        assert c.format_bytes(array("Q", addresses), style) == as_bytes
        assert ref.format_bytes(addresses, style) == as_bytes


def test_empty_table_and_empty_input(c_impl, ref_impl):
    for impl in (c_impl, ref_impl):
        empty = impl.from_records([])
        indexes, offsets = empty.symbolize([1, 2, 3])
        assert list(indexes) == [-1, -1, -1] and list(offsets) == [0, 0, 0]
        full = impl.from_records([(0x1000, "T", "f", None)])
        assert [list(x) for x in full.symbolize([])] == [[], []]
        assert full.format([]) == [] and full.format_bytes([]) == b""


def test_module_and_unknown_formatting(c_impl):
    table = c_impl.from_records([(0x1000, "T", "core_fn", None), (0x1100, "T", "end_marker", None),
                                 (0x5000, "t", "mod_fn", "ext4"), (0x5040, "t", "mod_fn2", "ext4")])
    assert table.format([0x1010, 0x5004, 0x10, 0x5040], "%pS") == [
        "core_fn+0x10/0x100", "mod_fn+0x4/0x40 [ext4]", "0x10", "mod_fn2+0x0/0x0 [ext4]"]
    assert table.format([0x5004], "%ps") == ["mod_fn [ext4]"]
    # %pB: a return address just past the end of core_fn still names core_fn
    assert table.format([0x1100], "%pB") == ["core_fn+0x100/0x100"]
    # end_marker ends the core kernel's run: without a known end it covers
    # only its own address, and the gap before ext4 has no symbol
    assert table.format([0x1100, 0x1104], "%pS") == ["end_marker+0x0/0x0", "0x1104"]
    ended = c_impl.from_records([(0x1000, "T", "core_fn", None), (0x1100, "T", "end_marker", None),
                                 (0x5000, "t", "mod_fn", "ext4")], region_ends={None: 0x1200, "ext4": 0x5100})
    assert ended.format([0x1104, 0x1200, 0x50ff, 0x5100]) == [
        "end_marker+0x4/0x100", "0x1200", "mod_fn+0xff/0x100 [ext4]", "0x5100"]
    with pytest.raises(ValueError):
        table.format([0x1000], "%pF")


# ---- input and output types -------------------------------------------------------------


@pytest.fixture(scope="module")
def small(c_impl):
    return c_impl.from_records([(0x1000 + 0x10 * i, "T", f"f{i}", None) for i in range(100)])


def test_buffer_kinds(small):
    addresses = [0x1000, 0x1015, 0x0, 0x1632, 0x1fff]
    want = one_by_one(small, addresses)
    for given_ in (addresses, array("Q", addresses), array("q", addresses),
                   array("Q", addresses).tobytes(), memoryview(array("Q", addresses)),
                   bytearray(array("Q", addresses).tobytes())):
        indexes, offsets = small.symbolize(given_)
        assert isinstance(indexes, array) and indexes.typecode == "q"
        assert isinstance(offsets, array) and offsets.typecode == "Q"
        assert (list(indexes), list(offsets)) == want


def test_bad_inputs(small):
    with pytest.raises(pysyms.Error, match="multiple of 8"):
        small.symbolize(b"\x00" * 7)
    with pytest.raises(pysyms.Error, match="64-bit"):
        small.symbolize(array("I", [1, 2]))
    with pytest.raises(pysyms.Error):
        small.symbolize([-1])
    with pytest.raises(pysyms.Error):
        small.symbolize([1, 2], out=(array("q", [0]), array("Q", [0, 0])))
    with pytest.raises(pysyms.Error):
        small.symbolize([1], out=(b"\x00" * 8, array("Q", [0])))


def test_out_is_filled_in_place(small):
    indexes, offsets = array("q", [7, 7, 7]), array("Q", [7, 7, 7])
    got = small.symbolize([0x1004, 0x1, 0x1010], out=(indexes, offsets))
    assert got[0] is indexes and got[1] is offsets
    assert list(indexes) == [0, -1, 1] and list(offsets) == [4, 0, 0]


def test_numpy_in_numpy_out(small):
    numpy = pytest.importorskip("numpy")
    addresses = numpy.array([0x1004, 0x1, 0x1010], dtype=numpy.uint64)
    indexes, offsets = small.symbolize(addresses)
    assert isinstance(indexes, numpy.ndarray) and indexes.dtype == numpy.int64
    assert offsets.dtype == numpy.uint64
    assert indexes.tolist() == [0, -1, 1] and offsets.tolist() == [4, 0, 0]
    assert small.format(addresses) == ["f0+0x4/0x10", "0x1", "f1+0x0/0x10"]


# ---- long batches: the next chunk formatted on a second thread ---------------------------


def _formatter_threads():
    return [t for t in threading.enumerate() if t.name == "pysyms-format"]


def test_long_format_on_two_threads(c_impl, ref_impl, small):
    """More addresses than one C call formats (table.py's _FORMAT_CHUNK):
    the chunks come from a producer thread, in order, and it ends."""
    rng = random.Random(4)
    addresses = [rng.randrange(0xF00, 0x1700) for _ in range(3 * c_impl._FORMAT_CHUNK + 123)]
    text = small.format(addresses, "%pS")
    assert len(text) == len(addresses)
    assert text == [kernel_text(small, a, "%pS") for a in addresses]
    ref = ref_impl.from_records([(0x1000 + 0x10 * i, "T", f"f{i}", None) for i in range(100)])
    assert text == ref.format(addresses, "%pS")
    assert small.format_bytes(addresses) == "".join(line + "\n" for line in text).encode()
    assert not _formatter_threads()


def test_long_format_error_and_early_stop(small, monkeypatch):
    """An error in the producer reaches the caller; a caller that stops
    early ends the producer too."""
    addresses = array("Q", [0x1000]) * (3 * small._FORMAT_CHUNK)
    chunks = small._format_chunks(addresses, "%ps", ahead=True)
    buf, size = next(chunks)
    assert size > 0
    chunks.close()
    assert not _formatter_threads()
    calls = []
    real = type(small)._format_into

    def failing(self, *args):
        calls.append(1)
        if len(calls) == 2:
            raise pysyms.Error("injected")
        return real(self, *args)

    monkeypatch.setattr(type(small), "_format_into", failing)
    with pytest.raises(pysyms.Error, match="injected"):
        small.format(addresses)
    assert not _formatter_threads()


# ---- the running kernel's table --------------------------------------------------------


@pytest.fixture(scope="module")
def kernel_probes(c_kallsyms):
    rng = random.Random(2026)
    return array("Q", probes(c_kallsyms, 1_000_000, rng))


@pytest.mark.parametrize("order", ["random", "sorted"])
def test_real_kallsyms_million_addresses(c_kallsyms, kernel_probes, order):
    addresses = kernel_probes if order == "random" else array("Q", sorted(kernel_probes))
    indexes, offsets = c_kallsyms.symbolize(addresses)
    assert (list(indexes), list(offsets)) == one_by_one(c_kallsyms, addresses)


def test_real_kallsyms_reference_and_format(c_kallsyms, ref_kallsyms, kernel_probes):
    sample = kernel_probes[:100_000]
    c_result = [list(x) for x in c_kallsyms.symbolize(sample)]
    assert c_result == [list(x) for x in ref_kallsyms.symbolize(sample)]
    for style in STYLES:
        text = c_kallsyms.format(sample[:20_000], style)
        assert text == [kernel_text(c_kallsyms, a, style) for a in sample[:20_000]]
        assert text[:2000] == ref_kallsyms.format(sample[:2000], style)
