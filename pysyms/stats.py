"""Size figures of a table, computed from its kernel arrays (works for the C
table and the reference alike)."""

__all__ = ["table_stats"]


def _length_prefix_bytes(names):
    """Bytes of ``names`` taken by the records' length prefixes."""
    total = offset = 0
    while offset < len(names):
        length = names[offset]
        if length & 0x80:
            length = (length & 0x7F) | (names[offset + 1] << 7)
            prefix = 2
        else:
            prefix = 1
        total += prefix
        offset += prefix + length
    return total


def table_stats(table):
    """A dict of counts and sizes, with the kernel selftest's compression ratio.

    ``compressed`` follows kernel/kallsyms_selftest.c: name codes without
    length prefixes, plus the token table, plus the 512-byte token index;
    ``original`` is the sum of the name lengths; ``ratio`` is their quotient.
    """
    arrays = table.kernel_arrays()
    names = arrays["names"]
    original = sum(len(symbol.name.encode("utf-8", "surrogateescape")) for symbol in table)
    compressed = (len(names) - _length_prefix_bytes(names)
                  + len(arrays["token_table"]) + len(arrays["token_index"]))
    return {
        "symbols": len(table),
        "original": original,
        "compressed": compressed,
        "ratio": compressed / original if original else 0.0,
        "kernel_arrays": sum(len(a) for a in arrays.values()),
    }
