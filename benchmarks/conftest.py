"""Fixtures for the benchmarks: the running kernel's table and a synthetic
table of 1,000,000 kernel-like names, each built once per session."""

import os
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # benchmarks/ helpers, under --import-mode=importlib

import pysyms
import pysyms.reference

from queries import sample_queries
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


def _machine_speed_ms():
    """Fastest of three runs of a fixed pure-Python loop, in ms.  The test
    machine (a 2-core VM) switches between a fast and a slow state about 2x
    apart, which this loop shows as plainly as any benchmark; recorded with
    every benchmark so each figure can be read against the state it met."""
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        x = 0
        for i in range(100_000):
            x += i
        best = min(best, time.perf_counter() - t0)
    return round(best * 1e3, 3)


@pytest.fixture(autouse=True)
def machine_speed(request):
    """Adds ``machine_speed_ms`` (before and after) to each benchmark's extra_info."""
    if "benchmark" not in request.fixturenames:
        yield
        return
    bench = request.getfixturevalue("benchmark")
    before = _machine_speed_ms()
    yield
    bench.extra_info["machine_speed_ms"] = [before, _machine_speed_ms()]


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
    """Fixed random names and addresses of the table (benchmarks/queries.py)."""
    return sample_queries(table)
