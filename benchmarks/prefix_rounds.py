"""How many compression rounds a prefix of the input already decides.

    python benchmarks/prefix_rounds.py [SOURCE] [PERCENT ...]

Builds the table from the first PERCENT of SOURCE's lines (default
/proc/kallsyms; 50 90 99 99.9) and from all of them, and prints how many of
the greedy compression's rounds, in order, chose the same pair.  The rounds
could start while the kernel still produces /proc/kallsyms only if a prefix
decided them; it does not: the leading pairs of a round are often a few
occurrences apart, so the last lines still change the rounds.
"""

import sys

import pysyms


def rounds(table):
    """The tokens the rounds made, in the order they made them (code 255 down)."""
    tokens = table.kernel_arrays()["token_table"].split(b"\0")[:256]
    # A literal is a one-byte token equal to its own code; the rounds made the rest.
    return [(code, tok) for code, tok in reversed(list(enumerate(tokens)))
            if tok and tok != bytes([code])]


def agreeing(a, b):
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return n


def main(argv):
    source = argv[1] if len(argv) > 1 else "/proc/kallsyms"
    percents = [float(p) for p in argv[2:]] or [50, 90, 99, 99.9]
    with open(source, "rb") as f:
        lines = f.read().splitlines(keepends=True)
    full = rounds(pysyms.SymbolTable.from_text(b"".join(lines)))
    print(f"{source}: {len(lines)} lines, {len(full)} rounds")
    for pct in percents:
        k = int(len(lines) * pct / 100)
        part = rounds(pysyms.SymbolTable.from_text(b"".join(lines[:k])))
        print(f"first {pct:g}% ({k} lines, all but {len(lines) - k}): "
              f"the first {agreeing(part, full)} rounds agree")


if __name__ == "__main__":
    main(sys.argv)
