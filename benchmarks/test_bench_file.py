"""Table files (issue #4): opening a saved table of the running kernel and
answering one lookup, against building it from /proc/kallsyms; lookups on
the opened table; resident memory after opening.

Run: pytest benchmarks/test_bench_file.py --benchmark-only --benchmark-json=benchmarks/results/<name>.json
``python benchmarks/ratios.py`` lists the medians; the open/build ratio is
test_build_and_lookup over test_open_and_lookup.
"""

import json
import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import pysyms

BATCH = 1000


@pytest.fixture(scope="module")
def saved(kallsyms_path, tmp_path_factory):
    """The running kernel's table, saved once; (path, its in-memory table)."""
    table = pysyms.SymbolTable.from_file(kallsyms_path)
    path = tmp_path_factory.mktemp("tables") / "kallsyms.pysyms"
    table.save(path)
    return str(path), table


@pytest.fixture(scope="module")
def probe_name(saved):
    _, table = saved
    return table[len(table) // 2].name


def test_build_and_lookup(benchmark, kallsyms_path, probe_name):
    """What a tool without table files pays at every start."""
    def run():
        return pysyms.SymbolTable.from_file(kallsyms_path).lookup_name(probe_name)

    assert benchmark.pedantic(run, rounds=5, iterations=1) is not None


def test_open_and_lookup(benchmark, saved, probe_name):
    """Map, validate (checksum and every section) and answer one lookup."""
    path, _ = saved

    def run():
        return pysyms.SymbolTable.open(path).lookup_name(probe_name)

    assert benchmark.pedantic(run, rounds=200, iterations=1, warmup_rounds=5) is not None


@pytest.mark.parametrize("where", ["memory", "file"])
def test_lookup_name_where(benchmark, saved, where):
    """Exact lookups: the in-memory name hash against the file's binary search."""
    path, table = saved
    if where == "file":
        table = pysyms.SymbolTable.open(path)
    rng = random.Random(7)
    names = [table[rng.randrange(len(table))].name for _ in range(BATCH)]
    lookup = table.lookup_name

    def run():
        for name in names:
            lookup(name)

    benchmark.extra_info["batch"] = len(names)
    benchmark(run)


_RSS_CHILD = textwrap.dedent("""
    import json, os, sys
    import pysyms
    def rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    path, name = sys.argv[1], sys.argv[2]
    before = rss()
    table = pysyms.SymbolTable.open(path)
    assert table.lookup_name(name) is not None
    after = rss()
    print(json.dumps({"rss_growth": after - before, "symbols": len(table)}))
""")


def test_rss_after_open(benchmark, saved, probe_name):
    """Resident memory an opened table adds to a fresh process (issue #4:
    under 25 bytes per symbol).  Measured in a child; the benchmarked call
    is the child's whole run."""
    path, _ = saved
    env = dict(os.environ, PYTHONPATH=str(Path(pysyms.__file__).resolve().parent.parent))

    def run():
        out = subprocess.run([sys.executable, "-c", _RSS_CHILD, path, probe_name], env=env,
                             capture_output=True, text=True, check=True, cwd=os.path.dirname(path))
        return json.loads(out.stdout)

    result = benchmark.pedantic(run, rounds=3, iterations=1)
    per_symbol = result["rss_growth"] / result["symbols"]
    benchmark.extra_info.update(rss_growth=result["rss_growth"], symbols=result["symbols"],
                                rss_bytes_per_symbol=round(per_symbol, 2),
                                file_bytes_per_symbol=round(os.path.getsize(path) / result["symbols"], 2))
