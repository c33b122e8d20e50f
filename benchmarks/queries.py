"""The benchmarks' fixed random queries of a table.

SPDX-License-Identifier: MIT
"""

import random


def sample_queries(table, count=1000, seed=7):
    """``count`` names present in ``table``, and ``count`` addresses inside
    its symbols, as sampled instruction pointers are.  (Addresses drawn from
    the table's whole span would mostly miss: in the running kernel's table
    96% fall in the gap between the kernel's end and the modules.)  The same
    for both implementations, which answer alike."""
    rng = random.Random(seed)
    symbols = [table[rng.randrange(len(table))] for _ in range(count)]
    addresses = []
    for s in symbols:
        size = table.lookup_addr(s.address).size
        addresses.append(s.address + (rng.randrange(size) if size else 0))
    return {"names": [s.name for s in symbols], "addresses": addresses}
