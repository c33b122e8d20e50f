"""Suffix-aware lookups and globs (issue #3) on the running kernel's table.

Targets: a suffix lookup within 1.5x of the exact lookup of the same API
(``lookup_name_without_suffix`` vs ``lookup_name``; ``lookup(suffix=...)``
vs ``lookup(suffix='none')``); ``glob('tcp_*')`` and ``glob('*_show')`` (and
their ``glob_indexes``) over the
whole table >= 50x faster in C than in the reference.

Run: pytest benchmarks/test_bench_match.py --benchmark-only
Per-call figures: divide the median by ``extra_info['batch']``.
"""

import random
import statistics
import time

import pytest

from conftest import table_for

BATCH = 1000


@pytest.fixture(scope="module")
def kallsyms_queries(kallsyms_path):
    """Present full names, and stems of GCC clone names (``foo`` of ``foo.isra.0``)
    that are not themselves names: the queries that need the range search."""
    table = table_for("kallsyms", "c", kallsyms_path=kallsyms_path)
    names = table.names()
    present = set(names)
    stems = sorted({n.partition(".")[0] for n in names if "." in n[1:]} - present - {""})
    rng = random.Random(11)
    return {
        "full": [rng.choice(names) for _ in range(BATCH)],
        "stems": [rng.choice(stems) for _ in range(BATCH)] if stems else [],
    }


OPS = {
    # name: (query set, call)
    "exact_lookup_name": ("full", lambda t, q: t.lookup_name(q)),
    "without_suffix_full": ("full", lambda t, q: t.lookup_name_without_suffix(q)),
    "without_suffix_stems": ("stems", lambda t, q: t.lookup_name_without_suffix(q)),
    "lookup_none_full": ("full", lambda t, q: t.lookup(q, sympos=1)),
    "lookup_llvm_full": ("full", lambda t, q: t.lookup(q, suffix="llvm", sympos=1)),
    "lookup_clone_full": ("full", lambda t, q: t.lookup(q, suffix="clone", sympos=1)),
    "lookup_clone_stems": ("stems", lambda t, q: t.lookup(q, suffix="clone", sympos=1)),
    "matches_llvm_stems": ("stems", lambda t, q: t.matches(q, suffix="llvm")),
    "matches_clone_stems": ("stems", lambda t, q: t.matches(q, suffix="clone")),
}


@pytest.mark.parametrize("op", list(OPS))
def test_suffix_lookup(benchmark, kallsyms_path, kallsyms_queries, op):
    kind, call = OPS[op]
    queries = kallsyms_queries[kind]
    if not queries:
        pytest.skip("no clone stems in this kernel's table")
    table = table_for("kallsyms", "c", kallsyms_path=kallsyms_path)

    def run():
        for q in queries:
            call(table, q)

    benchmark.extra_info["batch"] = len(queries)
    benchmark(run)


# The targets are ratios, and on a noisy machine two benchmarks run a few
# seconds apart can differ 1.5x: these time the suffix call and its exact
# counterpart in alternation, batch by batch, and record the ratio of their
# medians (extra_info["ratio"]).
PAIRS = {
    "without_suffix_full": ("exact_lookup_name", "without_suffix_full"),
    "without_suffix_stems": ("exact_lookup_name", "without_suffix_stems"),
    "lookup_llvm_full": ("lookup_none_full", "lookup_llvm_full"),
    "lookup_clone_full": ("lookup_none_full", "lookup_clone_full"),
    "lookup_clone_stems": ("lookup_none_full", "lookup_clone_stems"),
}


@pytest.mark.parametrize("pair", list(PAIRS))
def test_suffix_ratio(benchmark, kallsyms_path, kallsyms_queries, pair):
    if not kallsyms_queries["stems"]:
        pytest.skip("no clone stems in this kernel's table")
    table = table_for("kallsyms", "c", kallsyms_path=kallsyms_path)
    times = {name: [] for name in PAIRS[pair]}

    def run():
        for name in PAIRS[pair]:
            kind, call = OPS[name]
            queries = kallsyms_queries[kind]
            start = time.perf_counter()
            for q in queries:
                call(table, q)
            times[name].append((time.perf_counter() - start) / len(queries))

    benchmark.pedantic(run, rounds=30, iterations=1, warmup_rounds=2)
    base, op = (statistics.median(times[name]) for name in PAIRS[pair])
    benchmark.extra_info.update({"base": PAIRS[pair][0], "base_ns": base * 1e9, "op_ns": op * 1e9,
                                 "ratio": op / base})


@pytest.mark.parametrize("impl", ["c", "reference"])
@pytest.mark.parametrize("pattern", ["tcp_*", "*_show"])
@pytest.mark.parametrize("result", ["symbols", "indexes"])
def test_glob(benchmark, kallsyms_path, impl, pattern, result):
    """``list(t.glob(p))`` (a Symbol object per match) and ``t.glob_indexes(p)``
    (the matching alone: an array of table indexes)."""
    table = table_for("kallsyms", impl, kallsyms_path=kallsyms_path)
    rounds = 20 if impl == "c" else 3
    run = (lambda: list(table.glob(pattern))) if result == "symbols" else (lambda: table.glob_indexes(pattern))
    found = benchmark.pedantic(run, rounds=rounds, iterations=1, warmup_rounds=1 if impl == "c" else 0)
    benchmark.extra_info["matches"] = len(found)
    assert found


@pytest.mark.parametrize("pattern", ["tcp_*", "*_show"])
@pytest.mark.parametrize("result", ["symbols", "indexes"])
def test_glob_ratio(benchmark, kallsyms_path, pattern, result):
    """The reference's glob time over C's, the two timed in alternation
    (extra_info["ratio"], of the medians), as test_suffix_ratio does.  Each
    C call here follows a reference call that churned the caches, so this
    is C with cold caches; test_glob times C warm."""
    tables = {impl: table_for("kallsyms", impl, kallsyms_path=kallsyms_path) for impl in ("c", "reference")}
    times = {impl: [] for impl in tables}

    def run():
        for impl, table in tables.items():
            start = time.perf_counter()
            found = list(table.glob(pattern)) if result == "symbols" else table.glob_indexes(pattern)
            times[impl].append(time.perf_counter() - start)
            assert found

    benchmark.pedantic(run, rounds=15, iterations=1, warmup_rounds=1)
    c, ref = statistics.median(times["c"]), statistics.median(times["reference"])
    benchmark.extra_info.update({"base": "c", "base_ns": c * 1e9, "op_ns": ref * 1e9, "ratio": ref / c})
