"""Summarize a pytest-benchmark JSON run: per-operation medians and C/reference ratios.

    python benchmarks/ratios.py benchmarks/results/<run>.json

Lookup benchmarks run a batch per round (``extra_info['batch']``); figures
are per call.
"""

import json
import sys
from collections import defaultdict


def per_call(bench):
    batch = bench.get("extra_info", {}).get("batch", 1)
    return bench["stats"]["median"] / batch


def summarize(path):
    with open(path) as f:
        run = json.load(f)
    rows = defaultdict(dict)
    for bench in run["benchmarks"]:
        params = bench.get("params") or {}
        impl = params.get("impl", "c")
        op = bench["name"].split("[")[0].removeprefix("test_")
        variant = "-".join(str(v) for k, v in sorted(params.items()) if k != "impl")
        rows[(op, variant)][impl] = per_call(bench)
    machine = run.get("machine_info", {})
    print(f"machine: {machine.get('node')} {machine.get('machine')} {machine.get('cpu', {}).get('brand_raw', '')}"
          f" python {machine.get('python_version')}")
    print(f"{'operation':18} {'variant':24} {'C median':>12} {'reference':>12} {'ratio':>8}")
    for (op, variant), impls in sorted(rows.items()):
        c, ref = impls.get("c"), impls.get("reference")
        ratio = f"{ref / c:8.1f}" if c and ref else " " * 8
        print(f"{op:18} {variant:24} {_fmt(c):>12} {_fmt(ref):>12} {ratio}")
    for bench in run["benchmarks"]:  # ratios measured in alternation (test_suffix_ratio)
        info = bench.get("extra_info", {})
        if "ratio" in info:
            how = f"{info['speedup']:.1f}x faster" if "speedup" in info else f"{info['ratio']:.2f}x"
            print(f"{bench['name']}: {_fmt(info['op_ns'] * 1e-9)} vs {info['base']}"
                  f" {_fmt(info['base_ns'] * 1e-9)} = {how}")


def _fmt(seconds):
    if seconds is None:
        return "-"
    for unit, scale in (("s", 1), ("ms", 1e-3), ("us", 1e-6), ("ns", 1e-9)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


if __name__ == "__main__":
    summarize(sys.argv[1])
