"""Fixtures for the benchmarks: the running kernel's table and a synthetic
table of 1,000,000 kernel-like names, each built once per session."""

import os
import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/ helpers, under --import-mode=importlib

import pysyms
import pysyms.reference

from synthetic import kernel_like_records

KALLSYMS = "/proc/kallsyms"
SYNTHETIC_COUNT = int(os.environ.get("PYSYMS_BENCH_SYNTHETIC", "1000000"))
IMPLS = {"c": pysyms.SymbolTable, "reference": pysyms.reference.SymbolTable}


def _kallsyms_readable():
    try:
        with open(KALLSYMS, "rb") as f:
            head = f.read(4096)
    except OSError:
        return False
    return any(line.split(b" ")[0].strip(b"0") for line in head.splitlines() if line)


@pytest.fixture(scope="session")
def kallsyms_path():
    if not _kallsyms_readable():
        pytest.skip("/proc/kallsyms is unreadable or hides addresses (run as root)")
    return KALLSYMS


@pytest.fixture(scope="session")
def synthetic_records():
    return kernel_like_records(SYNTHETIC_COUNT)


_tables = {}


def table_for(dataset, impl, kallsyms_path=None, records=None):
    """One table per (dataset, implementation) for the whole session."""
    key = (dataset, impl)
    if key not in _tables:
        cls = IMPLS[impl]
        if dataset == "kallsyms":
            _tables[key] = cls.from_file(kallsyms_path)
        else:
            _tables[key] = cls.from_records(records)
    return _tables[key]


@pytest.fixture(params=["kallsyms", "synthetic"])
def dataset(request):
    return request.param


@pytest.fixture(params=["c", "reference"])
def impl(request):
    return request.param


@pytest.fixture
def table(request, dataset, impl):
    if dataset == "kallsyms":
        return table_for(dataset, impl, kallsyms_path=request.getfixturevalue("kallsyms_path"))
    return table_for(dataset, impl, records=request.getfixturevalue("synthetic_records"))


@pytest.fixture
def queries(table):
    """Fixed random samples of names and addresses present in the table."""
    rng = random.Random(7)
    c_table = table  # names and addresses are the same in both implementations
    picks = [rng.randrange(len(c_table)) for _ in range(1000)]
    symbols = [c_table[i] for i in picks]
    lo, hi = c_table[0].address, c_table[len(c_table) - 1].address
    return {
        "names": [s.name for s in symbols],
        "addresses": [rng.randrange(lo, hi) for _ in range(1000)],
    }
