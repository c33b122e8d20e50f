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
