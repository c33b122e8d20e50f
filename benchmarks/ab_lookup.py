"""Before/after ratio of SymbolTable.lookup_name's hot path, in one process.

    python benchmarks/ab_lookup.py [rounds]

"before" is the previous hot path, kept here: one call of the four-argument
ksym_lookup_address (cffi builds an argument tuple for it).  "after" is
lookup_name itself, one call of the one-argument ksym_lookup_query.  The two
alternate round by round over the same 1,000 names of the running kernel's
table, so the machine's fast and slow states fall on both; prints the
medians and the median of the per-round ratios.

SPDX-License-Identifier: MIT
"""

import random
import statistics
import sys
import time

import pysyms
from pysyms._native import lib
from pysyms.names import encode_name

_lookup_address = lib.ksym_lookup_address
_NO_ADDRESS = lib.KSYM_NO_ADDRESS
_SUFFIX_NONE = lib.KSYM_SUFFIX_NONE


def before(table, name):
    """lookup_name as it was: name, length and policy as three more arguments."""
    if name.__class__ is str:
        try:
            name = name.encode()
        except UnicodeEncodeError:
            name = name.encode("utf-8", "surrogateescape")
    elif name.__class__ is not bytes:
        name = encode_name(name)
    address = _lookup_address(table._table, name, len(name), _SUFFIX_NONE)
    if address != _NO_ADDRESS:
        return address
    return table._found_at_no_address(name, _SUFFIX_NONE)


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    table = pysyms.SymbolTable.from_kallsyms()
    rng = random.Random(7)
    names = [table[rng.randrange(len(table))].name for _ in range(1000)]
    after = table.lookup_name
    assert all(before(table, n) == after(n) for n in names)

    def run_before():
        for n in names:
            before(table, n)

    def run_after():
        for n in names:
            after(n)

    times = {run_before: [], run_after: []}
    for _ in range(rounds):
        for run in (run_before, run_after):
            t0 = time.perf_counter()
            run()
            times[run].append((time.perf_counter() - t0) / len(names) * 1e9)
    b, a = times[run_before], times[run_after]
    print(f"{len(table)} symbols, {len(names)} names, {rounds} alternated rounds")
    print(f"before: median {statistics.median(b):.0f} ns, fastest {min(b):.0f} ns")
    print(f"after:  median {statistics.median(a):.0f} ns, fastest {min(a):.0f} ns")
    print(f"ratio of medians {statistics.median(b) / statistics.median(a):.2f}, "
          f"median of per-round ratios {statistics.median(x / y for x, y in zip(b, a)):.2f}")


if __name__ == "__main__":
    main()
