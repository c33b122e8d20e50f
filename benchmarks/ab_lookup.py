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
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pysyms
from pysyms._native import lib
from pysyms.names import encode_name

from alternate import alternate, per_item, ratio_line

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

    b, a = alternate(per_item(run_before, len(names)), per_item(run_after, len(names)), rounds)
    print(f"{len(table)} symbols, {len(names)} names, {rounds} alternated rounds")
    print(ratio_line(b, a))

if __name__ == "__main__":
    main()
