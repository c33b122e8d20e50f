"""Before/after ratios of SymbolTable's Python paths against a git revision.

    python benchmarks/ab_rev.py REV [rounds] [synthetic_count]

Loads ``pysyms/table.py`` as it was at REV (with today's C core), wraps the
same C tables in both classes and alternates them round by round, so the
machine's fast and slow states fall on both.  Measures, per call or per
symbol: ``lookup_addr`` over the benchmarks' 1,000 addresses (queries.py),
``table[i]`` over 1,000 indexes, ``iter`` (each Symbol dropped as it comes,
as ``for s in table`` does), ``list(table)`` and ``names()``, on the
running kernel's table and a synthetic one.  Prints the medians and the
median of the per-round ratios (before / after: above 1 is faster now).

SPDX-License-Identifier: MIT
"""

import importlib.util
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pysyms
import pysyms.table

from alternate import alternate, per_item, ratio_line
from queries import sample_queries
from synthetic import kernel_like_records

ROOT = Path(__file__).resolve().parent.parent


def table_class_at(rev):
    """SymbolTable as pysyms/table.py defined it at ``rev``."""
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:pysyms/table.py"],
                            check=True, capture_output=True, text=True).stdout
    spec = importlib.util.spec_from_loader("pysyms._table_before", loader=None)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "pysyms"
    exec(compile(source, f"{rev}:pysyms/table.py", "exec"), module.__dict__)
    return module.SymbolTable


def operations(table, addresses, indexes):
    """Each operation as a callable returning ns per call or per symbol."""
    lookup = table.lookup_addr

    def lookup_addr():
        for a in addresses:
            lookup(a)

    def getitem():
        for i in indexes:
            table[i]

    def iterate():
        for _ in table:
            pass

    return {"lookup_addr": per_item(lookup_addr, len(addresses)), "getitem": per_item(getitem, len(indexes)),
            "iter": per_item(iterate, len(table)), "list": per_item(lambda: list(table), len(table)),
            "names": per_item(table.names, len(table))}


def compare(label, after, before, rounds):
    queries = sample_queries(after)
    addresses = queries["addresses"]
    indexes = [after.lookup_name_index(name) for name in queries["names"]]
    assert [before.lookup_addr(a) for a in addresses] == [after.lookup_addr(a) for a in addresses]
    assert list(before) == list(after)
    ops_after, ops_before = operations(after, addresses, indexes), operations(before, addresses, indexes)
    for name in ops_after:
        b, a = alternate(ops_before[name], ops_after[name], rounds)
        print(f"{label:9} {name:12} {ratio_line(b, a)}")


def main():
    rev = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 1_000_000
    Before = table_class_at(rev)
    print(f"pysyms/table.py at {rev} against the working tree; {rounds} alternated rounds")
    tables = [("kallsyms", pysyms.SymbolTable.from_kallsyms()),
              ("synthetic", pysyms.SymbolTable.from_records(kernel_like_records(count)))]
    for label, after in tables:
        before = Before(after._table)  # the same C table; `after` keeps owning it
        compare(label, after, before, rounds)


if __name__ == "__main__":
    main()
