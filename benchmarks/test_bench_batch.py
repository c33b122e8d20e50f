"""Batch symbolization and formatting (issue #6) on the running kernel's
table: 1,000,000 addresses inside the symbols' span, random and sorted;
against a plain Python ``bisect`` loop (what a profiler would write) and the
pure-Python reference.  Per-address figures: median / extra_info["batch"].

Targets (issue #6): random >= 10 M/s, sorted >= 50 M/s, >= 50x the bisect
loop; formatting >= 2 M strings/s.
"""

import random
from array import array
from bisect import bisect_right

import pytest

import pysyms
import pysyms.reference

N = 1_000_000


@pytest.fixture(scope="module")
def kernel(kallsyms_path):
    return pysyms.SymbolTable.from_file(kallsyms_path)


@pytest.fixture(scope="module")
def addresses(kernel):
    """Sampled program counters: a random symbol of the core kernel, a
    random offset inside it."""
    rng = random.Random(7)
    starts = sorted({s.address for s in kernel if s.module is None})
    picks = array("Q")
    for _ in range(N):
        k = rng.randrange(len(starts) - 1)
        picks.append(rng.randrange(starts[k], starts[k + 1]))
    return {"random": picks, "sorted": array("Q", sorted(picks))}


@pytest.mark.parametrize("order", ["random", "sorted"])
def test_symbolize(benchmark, kernel, addresses, order):
    """New result arrays per call (their page faults included)."""
    data = addresses[order]
    benchmark.extra_info["batch"] = len(data)
    benchmark.pedantic(kernel.symbolize, args=(data,), rounds=10, iterations=1, warmup_rounds=1)


@pytest.mark.parametrize("order", ["random", "sorted"])
def test_symbolize_into(benchmark, kernel, addresses, order):
    """Result arrays reused between calls (``out=``), as a profiler would."""
    data = addresses[order]
    out = (array("q", [0]) * len(data), array("Q", [0]) * len(data))
    benchmark.extra_info["batch"] = len(data)
    benchmark.pedantic(kernel.symbolize, args=(data,), kwargs={"out": out}, rounds=10, iterations=1,
                       warmup_rounds=1)


@pytest.mark.parametrize("order", ["random", "sorted"])
def test_bisect_loop(benchmark, kernel, addresses, order):
    """The baseline: a Python bisect per address over a list of addresses
    (100,000 addresses per round)."""
    starts = [s.address for s in kernel]
    data = addresses[order][:100_000]

    def run():
        out = []
        for a in data:
            i = bisect_right(starts, a) - 1
            out.append((i, a - starts[i]))
        return out

    benchmark.extra_info["batch"] = len(data)
    benchmark.pedantic(run, rounds=3, iterations=1)


def test_symbolize_reference(benchmark, kallsyms_path, addresses):
    ref = pysyms.reference.SymbolTable.from_file(kallsyms_path)
    data = addresses["random"][:20_000]
    benchmark.extra_info["batch"] = len(data)
    benchmark.pedantic(ref.symbolize, args=(data,), rounds=1, iterations=1)


@pytest.mark.parametrize("order", ["random", "sorted"])
def test_format(benchmark, kernel, addresses, order):
    """%pS strings for 1,000,000 addresses, built in C, as a list of str."""
    data = addresses[order]
    benchmark.extra_info["batch"] = len(data)
    benchmark.pedantic(kernel.format, args=(data,), rounds=3, iterations=1)


@pytest.mark.parametrize("order", ["random", "sorted"])
def test_format_bytes(benchmark, kernel, addresses, order):
    """The same text as one bytes object (``format_bytes``): what ``pysyms
    addr`` writes out, without a str per address."""
    data = addresses[order]
    benchmark.extra_info["batch"] = len(data)
    benchmark.pedantic(kernel.format_bytes, args=(data,), rounds=3, iterations=1)


@pytest.mark.parametrize("order", ["random", "sorted"])
def test_bisect_ratio(benchmark, kernel, addresses, order):
    """The 50x target as one measurement: the bisect loop (100,000 addresses)
    and ``symbolize(out=)`` (1,000,000) timed in alternation, round by round,
    per address; extra_info["ratio"] is the ratio of their medians (two
    separate benchmarks a minute apart can differ 1.5x on a noisy machine)."""
    import statistics
    import time

    starts = [s.address for s in kernel]
    data = addresses[order]
    head = data[:100_000]
    out = (array("q", [0]) * len(data), array("Q", [0]) * len(data))
    times = {"bisect": [], "symbolize": []}

    def run():
        start = time.perf_counter()
        result = []  # as test_bisect_loop: what a profiler would write
        for a in head:
            i = bisect_right(starts, a) - 1
            result.append((i, a - starts[i]))
        times["bisect"].append((time.perf_counter() - start) / len(head))
        start = time.perf_counter()
        kernel.symbolize(data, out=out)
        times["symbolize"].append((time.perf_counter() - start) / len(data))

    benchmark.pedantic(run, rounds=7, iterations=1, warmup_rounds=1)
    base, op = statistics.median(times["bisect"]), statistics.median(times["symbolize"])
    benchmark.extra_info.update({"base": "bisect loop", "base_ns": base * 1e9, "op_ns": op * 1e9,
                                 "ratio": op / base, "speedup": base / op})
