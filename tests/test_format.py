"""kernel_arrays() against DESIGN.md "The table", independent of both
implementations: hand-derived tables, structural checks (oracle.check_arrays)
and an independent compressor (oracle.expected_arrays)."""

import random
import struct

import pytest
from hypothesis import given, settings

import oracle
from strategies import NAME_BYTES, SeededRecords, symbol_lists


def token_table_from(entries):
    """The 256-string token table with ``entries`` {code: text}, others empty."""
    return b"".join(entries.get(c, b"") + b"\0" for c in range(256))


# ---- hand-derived examples ----------------------------------------------------------------
#
# Example 1, records given as B, C, A:
#   (0x1010, T, aab) (0x1000, t, ba) (0x1008, T, aaa)
# Table order: "tba" (0x1000), "Taaa" (0x1008), "Taab" (0x1010).
# Literals: T=0x54 a=0x61 b=0x62 t=0x74.  Pair index = first + 256 * second.
# Overlapping counts: (T,a) 2, (a,a) 3 ("aaa" holds two), (a,b) 1, (t,b) 1, (b,a) 1.
#   0xff = "aa"    (a,a) count 3.  Taaa -> T ff a; Taab -> T ff b
#   0xfe = "Taa"   (T,ff) count 2. -> fe a; fe b
#   0xfd = "ba"    all count 1: (fe,a)=0x61fe (fe,b)=0x62fe (t,b)=0x6274 (b,a)=0x6162 -> lowest 0x6162
#                  tba -> t fd
#   0xfc = "Taaa"  (fe,a)=0x61fe lowest of 0x61fe, 0x62fe, 0xfd74
#   0xfb = "Taab"  (fe,b)=0x62fe
#   0xfa = "tba"   (t,fd); then no pair is left: stop.
EXAMPLE_1 = [(0x1010, "T", "aab", None), (0x1000, "t", "ba", None), (0x1008, "T", "aaa", None)]
EXAMPLE_1_ARRAYS = {
    "names": bytes([0x01, 0xFA, 0x01, 0xFC, 0x01, 0xFB]),
    "markers": bytes([0, 0, 0, 0]),
    "token_table": (b"\0" * 0x54 + b"T\0" + b"\0" * 12 + b"a\0b\0" + b"\0" * 17 + b"t\0"
                    + b"\0" * 133 + b"tba\0Taab\0Taaa\0ba\0Taa\0aa\0"),
    # codes 0..0x54 at c; 0x55..0x61 at c+1; 0x62 at c+2; 0x63..0x74 at c+3;
    # 0x75..0xfa at c+4; then 0x102, 0x107, 0x10c, 0x10f, 0x113
    "token_index": struct.pack(
        "<256H",
        *([c for c in range(0x55)] + [c + 1 for c in range(0x55, 0x62)] + [0x64]
          + [c + 3 for c in range(0x63, 0x75)] + [c + 4 for c in range(0x75, 0xFB)]
          + [0x102, 0x107, 0x10C, 0x10F, 0x113])),
    # name order: aaa (index 1), aab (index 2), ba (index 0)
    "seqs_of_names": bytes([0, 0, 1, 0, 0, 2, 0, 0, 0]),
}

# Example 2 pins the tie rule (lowest first + 256 * second, i.e. the second
# byte decides first), every pair occurring once:
#   strings "Taa", "tab", "Tba"
#   0xff = "Ta"   (T,a)=0x6154 beats (a,a)=0x6161 (t,a)=0x6174 (b,a)=0x6162 (T,b)=0x6254 (a,b)=0x6261
#   0xfe = "ba"   (b,a)=0x6162 beats (t,a)=0x6174, (ff,a)=0x61ff, and (T,b)=0x6254
#   0xfd = "ta"   (t,a)=0x6174 beats (ff,a)=0x61ff
#   0xfc = "Taa"  (ff,a)=0x61ff beats (fd,b)=0x62fd, (T,fe)=0xfe54
#   0xfb = "tab", 0xfa = "Tba"
EXAMPLE_2 = [(0x10, "T", "aa", None), (0x20, "t", "ab", None), (0x30, "T", "ba", None)]
EXAMPLE_2_ARRAYS = {
    "names": bytes([0x01, 0xFC, 0x01, 0xFB, 0x01, 0xFA]),
    "markers": bytes(4),
    "token_table": token_table_from({0x54: b"T", 0x61: b"a", 0x62: b"b", 0x74: b"t", 0xFA: b"Tba",
                                     0xFB: b"tab", 0xFC: b"Taa", 0xFD: b"ta", 0xFE: b"ba", 0xFF: b"Ta"}),
    "seqs_of_names": bytes([0, 0, 0, 0, 0, 1, 0, 0, 2]),
}

# Example 3 pins overlapping counts and non-overlapping, left-to-right
# replacement: "taaa" holds (a,a) twice for counting, but "aa" replaces once:
#   0xff = "aa"   count 3.  taaa -> t ff a; txaa -> t x ff
#   0xfe = "aaa"  (ff,a)=0x61ff lowest of (t,ff)=0xff74 (t,x)=0x7874 (x,ff)=0xff78
#   0xfd = "tx"   (t,x)=0x7874; txaa -> fd ff
#   0xfc = "taaa" (t,fe)=0xfe74 before (fd,ff)=0xfffd;  0xfb = "txaa"
EXAMPLE_3 = [(0x10, "t", "aaa", None), (0x20, "t", "xaa", None)]
EXAMPLE_3_ARRAYS = {
    "names": bytes([0x01, 0xFC, 0x01, 0xFB]),
    "markers": bytes(4),
    "token_table": token_table_from({0x61: b"a", 0x74: b"t", 0x78: b"x", 0xFB: b"txaa", 0xFC: b"taaa",
                                     0xFD: b"tx", 0xFE: b"aaa", 0xFF: b"aa"}),
    "seqs_of_names": bytes([0, 0, 0, 0, 0, 1]),
}


def token_index_of(table):
    offsets, off = [], 0
    for text in table.split(b"\0")[:256]:
        offsets.append(off)
        off += len(text) + 1
    return struct.pack("<256H", *offsets)


@pytest.mark.parametrize("records,arrays", [(EXAMPLE_1, EXAMPLE_1_ARRAYS), (EXAMPLE_2, EXAMPLE_2_ARRAYS),
                                            (EXAMPLE_3, EXAMPLE_3_ARRAYS)], ids=["ex1", "ex2", "ex3"])
def test_hand_derived_tables(impl, records, arrays):
    expected = dict(arrays)
    expected.setdefault("token_index", token_index_of(expected["token_table"]))
    got = impl.from_records(records).kernel_arrays()
    assert set(got) == {"names", "markers", "token_table", "token_index", "seqs_of_names"}
    for key in expected:
        assert got[key] == expected[key], key


def test_hand_derived_tables_match_independent_compressor():
    """The oracle compressor agrees with the derivations above (so both are
    checked against each other, and the oracle can be trusted below)."""
    for records, arrays in ((EXAMPLE_1, EXAMPLE_1_ARRAYS), (EXAMPLE_2, EXAMPLE_2_ARRAYS),
                            (EXAMPLE_3, EXAMPLE_3_ARRAYS)):
        got = oracle.expected_arrays(records)
        for key, value in arrays.items():
            assert got[key] == value, key


def test_example_1_token_index_literal():
    index = struct.unpack("<256H", EXAMPLE_1_ARRAYS["token_index"])
    assert index[0x54] == 0x54 and index[0x61] == 0x62 and index[0x74] == 0x77 and index[0xFA] == 0xFE
    assert index[0xFF] == 0x113 and len(EXAMPLE_1_ARRAYS["token_table"]) == 0x116
    assert EXAMPLE_1_ARRAYS["token_index"] == token_index_of(EXAMPLE_1_ARRAYS["token_table"])


# ---- 2-byte length prefixes -------------------------------------------------------------------


def long_incompressible_name(length=511, seed=0):
    """Bytes cycling through many distinct values: few pairs repeat, and the
    literals leave few free codes, so the record stays > 127 codes."""
    rng = random.Random(seed)
    pool = list(NAME_BYTES)
    rng.shuffle(pool)
    return bytes(pool[k % len(pool)] for k in range(length))


def test_two_byte_prefix(impl):
    name = long_incompressible_name()
    records = [(0x1000, "T", name, None), (0x2000, "t", b"short", None), (0x3000, "T", name[:200], None)]
    table = impl.from_records(records)
    arrays = table.kernel_arrays()
    recs, _ = oracle.check_arrays(arrays, records)
    off, plen, codes = recs[0]
    assert plen == 2 and len(codes) > 300
    assert arrays["names"][0] == (len(codes) & 0x7F) | 0x80
    assert arrays["names"][1] == len(codes) >> 7
    assert recs[1][1] == 1 and recs[2][1] == 2
    assert [s.name.encode("utf-8", "surrogateescape") for s in table] == [name, b"short", name[:200]]
    assert table.lookup_name(name) == 0x1000
    assert table.lookup_name(name[:200]) == 0x3000
    assert arrays == oracle.expected_arrays(records)


def test_prefix_boundary_127_128(impl):
    """Names whose records compress to exactly around 127/128 codes use the
    right prefix width (structural check decides by the actual length)."""
    records = [(0x1000 + 16 * k, "T", long_incompressible_name(110 + k, seed=k), None) for k in range(40)]
    table = impl.from_records(records)
    recs, _ = oracle.check_arrays(table.kernel_arrays(), records)
    assert {plen for _, plen, _ in recs} == {1, 2}, "the examples should straddle the 1/2-byte boundary"


# ---- structural checks and the independent compressor ------------------------------------------


@pytest.mark.parametrize("size", [1, 2, 255, 256, 257, 512, 513, 1000])
def test_marker_boundaries(impl, size):
    records = SeededRecords(seed=size, size=size)
    arrays = impl.from_records(records).kernel_arrays()
    oracle.check_arrays(arrays, records)
    assert len(arrays["markers"]) == 4 * ((size + 255) // 256)
    assert arrays["markers"][:4] == bytes(4)
    assert arrays == oracle.expected_arrays(records)


@settings(max_examples=50)
@given(records=symbol_lists())
def test_structure(impl, records):
    table = impl.from_records(records)
    oracle.check_arrays(table.kernel_arrays(), records)


@settings(max_examples=30)
@given(records=symbol_lists(max_size=1000))
def test_equals_independent_compressor(impl, records):
    assert impl.from_records(records).kernel_arrays() == oracle.expected_arrays(records)


def test_token_table_runs_out_of_codes(impl):
    """Many distinct symbols: every code gets a token (no empty string left)."""
    records = SeededRecords(seed=99, size=3000)
    arrays = impl.from_records(records).kernel_arrays()
    _, tokens = oracle.check_arrays(arrays, records)
    assert all(tokens), "expected all 256 codes in use"
    assert arrays == oracle.expected_arrays(records)
