"""Build, exact name lookup, address lookup and full iteration: C against the
pure-Python reference, on the running kernel's table and a synthetic table of
1,000,000 kernel-like names.

Run: pytest benchmarks --benchmark-only --benchmark-json=benchmarks/results/<name>.json
Per-call figures: divide the median by the batch size noted in each test.
"""

import os
import statistics
import time

from conftest import IMPLS

BATCH = 1000  # lookups per benchmark round


def test_build_kallsyms(benchmark, impl, kallsyms_path):
    """Read /proc/kallsyms and build the table (everything a user waits for)."""
    cls = IMPLS[impl]
    rounds = 5 if impl == "c" else 1
    table = benchmark.pedantic(cls.from_file, args=(kallsyms_path,), rounds=rounds, iterations=1)
    assert len(table) > 1000


def _read_only(path):
    """What the kernel alone costs: the file read to its end, nothing parsed."""
    fd = os.open(path, os.O_RDONLY)
    try:
        while os.read(fd, 1 << 20):
            pass
    finally:
        os.close(fd)


def test_build_vs_read_kallsyms(benchmark, kallsyms_path):
    """The build's time over the plain read's, the two alternated round by
    round (extra_info["ratio"], of the medians).  The kernel renders the file
    as it is read, on one core, and that time moves with the machine's state
    as much as the build's does; the ratio says how much the build adds."""
    cls = IMPLS["c"]
    times = {"read": [], "build": []}

    def run():
        start = time.perf_counter()
        _read_only(kallsyms_path)
        middle = time.perf_counter()
        cls.from_file(kallsyms_path)
        times["read"].append(middle - start)
        times["build"].append(time.perf_counter() - middle)

    benchmark.pedantic(run, rounds=15, iterations=1, warmup_rounds=1)
    read, build = statistics.median(times["read"]), statistics.median(times["build"])
    benchmark.extra_info.update({"base": "plain read", "base_ns": read * 1e9, "op_ns": build * 1e9,
                                 "ratio": build / read})


def test_build_synthetic(benchmark, impl, synthetic_records):
    cls = IMPLS[impl]
    rounds = 3 if impl == "c" else 1
    table = benchmark.pedantic(cls.from_records, args=(synthetic_records,), rounds=rounds, iterations=1)
    assert len(table) == len(synthetic_records)


def test_lookup_name(benchmark, table, impl, queries):
    """BATCH exact lookups of present names per round."""
    names = queries["names"] if impl == "c" else queries["names"][:50]
    lookup = table.lookup_name

    def run():
        for name in names:
            lookup(name)

    benchmark.extra_info["batch"] = len(names)
    benchmark(run)


def test_lookup_addr(benchmark, table, impl, queries):
    addresses = queries["addresses"] if impl == "c" else queries["addresses"][:50]
    lookup = table.lookup_addr

    def run():
        for address in addresses:
            lookup(address)

    benchmark.extra_info["batch"] = len(addresses)
    benchmark(run)


def test_iterate(benchmark, table, impl):
    """Every symbol, as Symbol objects, in table order."""
    rounds = 5 if impl == "c" else 1
    count = benchmark.pedantic(lambda: sum(1 for _ in table), rounds=rounds, iterations=1)
    assert count == len(table)
