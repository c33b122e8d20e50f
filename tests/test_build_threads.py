"""Large builds run the compression rounds on two threads (csrc/compress.c:
a helper takes the back half of every large round) and, from a file,
prepare the compression's input while the file is still being read
(csrc/readfd.c).  Tables big enough for both must equal the pure-Python
reference's, byte for byte, whatever the machine's own symbols are."""

import pytest

import pysyms
from pysyms import reference

from kernelish import kallsyms_text, kernelish_records

@pytest.fixture(scope="module")
def records():
    return kernelish_records(120_000)


@pytest.fixture(scope="module")
def ref_arrays(records):
    return reference.SymbolTable.from_records(records).kernel_arrays()


def test_records_build_equals_reference(records, ref_arrays):
    table = pysyms.SymbolTable.from_records(records)
    assert table.kernel_arrays() == ref_arrays


def test_file_build_equals_reference(records, ref_arrays, tmp_path):
    path = tmp_path / "syms.txt"
    path.write_text(kallsyms_text(records))
    table = pysyms.SymbolTable.from_file(path)
    assert table.kernel_arrays() == ref_arrays
    assert [tuple(s) for s in table] == [tuple(s) for s in reference.SymbolTable.from_records(records)]
