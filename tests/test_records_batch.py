"""from_records hands plain records to C a chunk at a time
(``ksym_builder_add_many``): the table and every error must be what the
one-by-one path gives, wherever in a chunk the record sits."""

import pytest

import pysyms
from pysyms import InvalidSymbolError
from pysyms import reference
from pysyms.table import _RECORD_CHUNK

N = 2 * _RECORD_CHUNK + 1000  # three chunks, the last one partial


def plain_records(n=N, modules=False):
    out = []
    for i in range(n):
        module = f"mod{i % 5}" if modules and i % 3 == 0 else None
        out.append((0xFFFF_0000_0000 + 16 * (i % 9000), "tTdD"[i % 4], f"sym_{i % 7000}_x{i % 13}", module))
    return out


def arrays_and_symbols(t):
    return t.kernel_arrays(), [tuple(s) for s in t]


@pytest.mark.parametrize("modules", [False, True])
def test_plain_chunks_equal_reference(modules):
    records = plain_records(modules=modules)
    assert arrays_and_symbols(pysyms.SymbolTable.from_records(records)) == \
        arrays_and_symbols(reference.SymbolTable.from_records(records))


def test_generator_and_odd_records_equal_reference():
    """A generator, a sized record in the middle chunk (that chunk goes one
    by one), bytes names and names that are not UTF-8."""
    records = plain_records()
    records[_RECORD_CHUNK + 5] = records[_RECORD_CHUNK + 5] + (32,)
    records[7] = (records[7][0], "T", b"bytes_name\xff", None)
    records[N - 3] = (records[N - 3][0], "T", "surrogate_\udcfe", "m\udcfa")
    c = pysyms.SymbolTable.from_records(r for r in records)
    ref = reference.SymbolTable.from_records(records)
    assert arrays_and_symbols(c) == arrays_and_symbols(ref)
    assert c.lookup_name(b"bytes_name\xff") == records[7][0]


BAD = [
    ("empty-name", (0x10, "T", "", None)),
    ("name-space", (0x10, "T", "a b", None)),
    ("name-nul", (0x10, "T", "a\0b", None)),
    ("name-512", (0x10, "T", "n" * 512, None)),
    ("type-space", (0x10, " ", "a", None)),
    ("type-two", (0x10, "TT", "a", None)),
    ("type-empty", (0x10, "", "a", None)),
    ("type-non-ascii", (0x10, "é", "a", None)),
    ("module-bracket", (0x10, "T", "a", "m]")),
    ("module-empty", (0x10, "T", "a", "")),
    ("module-nul", (0x10, "T", "a", "m\0")),
    ("address-negative", (-1, "T", "a", None)),
    ("address-float", (1.0, "T", "a", None)),
    ("three-fields", (0x10, "T", "a")),
]


@pytest.mark.parametrize("at", [0, 1, _RECORD_CHUNK - 1, _RECORD_CHUNK, N - 1])
@pytest.mark.parametrize("bad", [b for _, b in BAD], ids=[name for name, _ in BAD])
def test_bad_record_position(bad, at):
    records = plain_records()
    records[at] = bad
    with pytest.raises(InvalidSymbolError) as info:
        pysyms.SymbolTable.from_records(records)
    assert info.value.record == at
    with pytest.raises(InvalidSymbolError) as ref_info:
        reference.SymbolTable.from_records(records)
    assert ref_info.value.record == at
