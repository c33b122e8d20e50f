"""Synthetic symbol lists shaped like a kernel's, big enough for the C
builder's threads (tests/test_build_threads.py, the thread sanitizer run in
tests/test_c_sanitizers.py)."""

import random

WORDS = ["tcp", "udp", "sock", "alloc", "free", "init", "exit", "read", "write", "show", "store",
         "event", "trace", "raw", "irq", "page", "fault", "lock", "unlock", "x64", "sys", "do"]
PREFIXES = ["", "", "__pfx_", "__SCT__", "trace_event_raw_event_", "__bpf_trace_", "_", "__"]


def kernelish_records(n, seed=7):
    """Names built from few words (long, frequent pairs: many large rounds),
    some with a piece repeated (a symbol listed more than once for a pair),
    repeated names at other addresses, a few modules, and compiler suffixes."""
    rng = random.Random(seed)
    records = []
    address = 0xFFFF_FFFF_8100_0000
    for i in range(n):
        words = [rng.choice(WORDS) for _ in range(rng.randint(1, 4))]
        name = rng.choice(PREFIXES) + "_".join(words)
        if i % 11 == 0:
            name += "_" + "ab" * rng.randint(2, 30)
        if i % 17 == 0:
            name += rng.choice([".isra.0", ".constprop.0", ".cold", f".llvm.{rng.randint(1, 10**9)}"])
        if i % 23 == 0 and records:
            name = records[rng.randrange(len(records))][2]
        address += rng.choice([0, 16, 32, 64, 4096])
        module = f"mod{i % 4}" if i % 9 == 0 else None
        records.append((address, rng.choice("tTdDbBrR"), name, module))
    return records


def kallsyms_text(records):
    """The records as /proc/kallsyms lines."""
    return "".join(f"{address:016x} {type_} {name}" + (f"\t[{module}]\n" if module else "\n")
                   for address, type_, name, module in records)
