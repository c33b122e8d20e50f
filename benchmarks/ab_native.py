"""Before/after ratios of the per-symbol C calls between two builds of pysyms._native.

    python benchmarks/ab_native.py BEFORE.so [rounds]

BEFORE.so is another build of ``pysyms/_native.abi3.so`` (say, of an older
commit); "after" is the one ``import pysyms`` finds.  Both run over the same
C table (the running kernel's, built by "after": the table layout is the
same), alternating round by round so the machine's fast and slow states
fall on both.  Times the raw calls, from Python, that lookup_name,
lookup_addr and ``table[i]`` make, and lookup_name as a whole, over the
benchmarks' queries (queries.py); prints medians and the median per-round
ratio.

SPDX-License-Identifier: MIT
"""

import importlib.util
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from alternate import alternate, per_item, ratio_line  # noqa: E402


def load_native(path):
    """The cffi module at ``path``, loaded beside the one pysyms imports."""
    spec = importlib.util.spec_from_file_location("pysyms._native", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def calls(native, table_address, count, queries):
    """Timed loops of the three calls through ``native``; each returns ns per call."""
    ffi, lib = native.ffi, native.lib
    table = ffi.cast("struct ksym_table *", table_address)
    head = table_address.to_bytes(lib.KSYM_QUERY_HEAD - 1, sys.byteorder) + bytes((lib.KSYM_SUFFIX_NONE,))
    name_queries = [head + n.encode("utf-8", "surrogateescape") for n in queries["names"]]
    addresses, indexes = queries["addresses"], range(0, count, max(count // 1000, 1))
    info, name = ffi.new("struct ksym_addr_info *"), ffi.new("char[]", lib.KSYM_NAME_MAX + 1)
    address, letter, module = ffi.new("uint64_t[1]"), ffi.new("char[1]"), ffi.new("int32_t[1]")
    lookup_query, lookup_addr, symbol = lib.ksym_lookup_query, lib.ksym_lookup_addr, lib.ksym_symbol

    def names():
        for q in name_queries:
            lookup_query(q)

    def addrs():
        for a in addresses:
            lookup_addr(table, a, info, name, len(name))

    def symbols():
        for i in indexes:
            symbol(table, i, address, letter, module, name, len(name))

    return {"ksym_lookup_query": per_item(names, len(name_queries)),
            "ksym_lookup_addr": per_item(addrs, len(addresses)),
            "ksym_symbol": per_item(symbols, len(indexes))}


def main():
    before_path = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 150
    before = load_native(before_path)
    sys.modules.pop("pysyms._native", None)
    import pysyms
    import pysyms._native as after
    from queries import sample_queries

    table = pysyms.SymbolTable.from_kallsyms()
    queries = sample_queries(table)
    table_address = int(after.ffi.cast("uintptr_t", table._table))
    runs_before = calls(before, table_address, len(table), queries)
    runs_after = calls(after, table_address, len(table), queries)
    # lookup_name as a whole: its one C call comes from a module global.
    import pysyms.table as module

    def whole_lookup_name(query):
        names, lookup = queries["names"], table.lookup_name

        def loop():
            for n in names:
                lookup(n)
        timed = per_item(loop, len(names))

        def run():
            module._lookup_query = query
            return timed()
        return run

    runs_before["lookup_name (method)"] = whole_lookup_name(before.lib.ksym_lookup_query)
    runs_after["lookup_name (method)"] = whole_lookup_name(after.lib.ksym_lookup_query)
    print(f"{before_path} (before) against {after.__file__} (after); {len(table)} symbols, {rounds} rounds")
    for label in runs_after:
        b, a = alternate(runs_before[label], runs_after[label], rounds)
        print(f"{label:20} {ratio_line(b, a)}")

if __name__ == "__main__":
    main()
