"""The command line's hot paths (issue #6) on the running kernel's table:
``pysyms addr`` over 1,000,000 addresses on stdin (parsed in C, formatted in
batches, written in large writes) against the per-address loop it replaced
(kept below as ``legacy_addr``), ``pysyms symbolize`` over a generated
``perf script`` of 100,000 samples, and the size report of ``pysyms build``
against the Python loop it replaced.

In process: ``cli.main`` with stdin and stdout redirected to memory, the
table opened from a saved file (``-t``, ~2 ms) so that the figures are the
stream's.  extra_info holds the rates (addresses or frames per second, from
the median round).
"""

import io
import random
import sys

import pytest

import pysyms
from pysyms import cli
from pysyms.stats import table_stats

N = 1_000_000
SAMPLES = 100_000
DEPTH = 10


class _Discard(io.RawIOBase):
    def writable(self):
        return True

    def write(self, data):
        return len(data)


def _stdout():
    return io.TextIOWrapper(io.BufferedWriter(_Discard(), 1 << 16), encoding="utf-8")


@pytest.fixture(scope="module")
def kernel(kallsyms_path):
    return pysyms.SymbolTable.from_file(kallsyms_path)


@pytest.fixture(scope="module")
def saved(kernel, tmp_path_factory):
    path = tmp_path_factory.mktemp("bench_cli") / "kernel.pysyms"
    kernel.save(str(path))
    return str(path)


@pytest.fixture(scope="module")
def address_inputs(kernel):
    """Sampled program counters (a random core-kernel symbol, a random offset
    inside it) as `addr` reads them: one hex address per line."""
    rng = random.Random(7)
    starts = sorted({s.address for s in kernel if s.module is None})
    picks = []
    for _ in range(N):
        k = rng.randrange(len(starts) - 1)
        picks.append(rng.randrange(starts[k], starts[k + 1]))
    text = {"random": picks, "sorted": sorted(picks)}
    return {order: "".join(f"{a:x}\n" for a in values).encode() for order, values in text.items()}


def _run_addr(argv, data, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    monkeypatch.setattr(sys, "stdout", _stdout())
    status = cli.main(argv)
    sys.stdout.flush()
    return status


def _rate(benchmark, count, unit):
    median = benchmark.stats.stats.median
    benchmark.extra_info[f"{unit}_per_second"] = round(count / median)
    benchmark.extra_info["count"] = count


@pytest.mark.parametrize("order", ["random", "sorted"])
def test_addr_stdin(benchmark, saved, address_inputs, order, monkeypatch):
    """`pysyms addr -t TABLE < 1M addresses`: the C parser and ksym_format."""
    data = address_inputs[order]
    status = benchmark.pedantic(_run_addr, args=(["addr", "-t", saved], data, monkeypatch),
                                rounds=5, iterations=1, warmup_rounds=1)
    assert status == 0
    _rate(benchmark, N, "addresses")


def legacy_addr(table):
    """The `addr` stdin loop before issue #6: a token at a time, int() and
    lookup_addr per address, a print per answer."""
    status = 0
    for line in sys.stdin:
        for text in line.split():
            address = int(text, 16)
            info = table.lookup_addr(address)
            if info is None:
                status = 1
                print(f"{address:#x}")
                continue
            print(info.format())
    return status


def _run_legacy(saved, data, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    monkeypatch.setattr(sys, "stdout", _stdout())
    status = legacy_addr(pysyms.SymbolTable.open(saved))
    sys.stdout.flush()
    return status


def test_addr_stdin_legacy(benchmark, saved, address_inputs, monkeypatch):
    """The baseline: the per-address loop over the same 1M random addresses."""
    status = benchmark.pedantic(_run_legacy, args=(saved, address_inputs["random"], monkeypatch),
                                rounds=1, iterations=1)
    assert status == 0
    _rate(benchmark, N, "addresses")


@pytest.fixture(scope="module")
def perf_script(kernel):
    """perf script text: SAMPLES samples of DEPTH kernel frames, drawn from
    2,000 distinct stacks over 500 hot functions."""
    rng = random.Random(8)
    core = [s for s in kernel if s.module is None]
    hot = [rng.choice(core) for _ in range(500)]
    shapes = [[rng.choice(hot) for _ in range(DEPTH)] for _ in range(2000)]
    out = []
    for k in range(SAMPLES):
        out.append(f"swapper     0 [{k % 2:03d}] {k / 1000:.6f}:     250000 cpu-clock:ppp: \n")
        for sym in rng.choice(shapes):
            pc = sym.address + rng.randrange(1, 64)
            out.append(f"\t{pc:016x} {sym.name}+{pc - sym.address:#x} ([kernel.kallsyms])\n")
        out.append("\n")
    return "".join(out).encode()


def test_symbolize_perf_script(benchmark, saved, perf_script, monkeypatch):
    """`pysyms symbolize -t TABLE < perf script` (1M frames)."""
    status = benchmark.pedantic(_run_addr, args=(["symbolize", "-t", saved], perf_script, monkeypatch),
                                rounds=3, iterations=1, warmup_rounds=1)
    assert status == 0
    _rate(benchmark, SAMPLES * DEPTH, "frames")


def legacy_table_stats(table):
    """The size figures of `pysyms build` and `info` before ksym_names_figures:
    every symbol expanded to sum the name lengths, and the names array walked
    in Python for its length prefixes."""
    names = table.kernel_arrays()["names"]
    original = sum(len(symbol.name.encode("utf-8", "surrogateescape")) for symbol in table)
    prefixes = offset = 0
    while offset < len(names):
        prefix = 2 if names[offset] & 0x80 else 1
        length = (names[offset] & 0x7F) | (names[offset + 1] << 7) if prefix == 2 else names[offset]
        prefixes += prefix
        offset += prefix + length
    return original, prefixes


@pytest.mark.parametrize("impl", ["c", "legacy"])
def test_build_report(benchmark, kernel, impl):
    """The figures `pysyms build` prints after building: the names' bytes and
    the length prefixes' (pysyms.stats.table_stats), against the Python loop
    they replaced."""
    if impl == "c":
        stats = benchmark(table_stats, kernel)
        got = stats["original"]
    else:
        got = benchmark.pedantic(legacy_table_stats, args=(kernel,), rounds=3, iterations=1)[0]
    assert got == kernel._names_figures()[1]
