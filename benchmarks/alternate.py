"""Alternated before/after timing, shared by the ab_*.py scripts.

The test machine switches between a fast and a slow state about 2x apart;
running the two versions in turn, round by round, makes both meet the same
states, and the median of the per-round ratios is the figure to quote.

SPDX-License-Identifier: MIT
"""

import statistics
import time


def per_item(loop, items):
    """A callable that runs ``loop()`` once and returns ns per item."""
    def run():
        t0 = time.perf_counter()
        loop()
        return (time.perf_counter() - t0) / items * 1e9
    return run


def alternate(before, after, rounds):
    """Run ``before`` and ``after`` (each returning ns per item) in turn,
    ``rounds`` times; the two lists of figures."""
    b, a = [], []
    for _ in range(rounds):
        b.append(before())
        a.append(after())
    return b, a


def ratio_line(b, a):
    """Medians, fastest runs, ratio of medians and median per-round ratio (above 1: after is faster)."""
    return (f"before {statistics.median(b):7.0f} ns (fastest {min(b):.0f})  "
            f"after {statistics.median(a):7.0f} ns (fastest {min(a):.0f})  "
            f"ratio of medians {statistics.median(b) / statistics.median(a):.2f}  "
            f"median per-round ratio {statistics.median(x / y for x, y in zip(b, a)):.2f}")
