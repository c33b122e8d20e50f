"""Size figures of a table, computed from its kernel arrays (works for the C
table and the reference alike)."""

__all__ = ["table_stats", "names_figures"]


def names_figures(names, token_table, token_index, count):
    """``(prefix_bytes, name_bytes)`` of a kernel ``names`` array of ``count``
    records: the bytes its length prefixes take, and the bytes its names
    expand to (each without the type letter its expansion starts with).

    The pure-Python form of ``ksym_names_figures``, for the reference table.
    """
    token_len = []
    for code in range(256):
        start = int.from_bytes(token_index[2 * code:2 * code + 2], "little")
        token_len.append(token_table.index(0, start) - start)
    prefixes = expanded = offset = 0
    for _ in range(count):
        length = names[offset]
        if length & 0x80:
            length = (length & 0x7F) | (names[offset + 1] << 7)
            prefix = 2
        else:
            prefix = 1
        codes = names[offset + prefix:offset + prefix + length]
        expanded += max(sum(token_len[code] for code in codes) - 1, 0)
        prefixes += prefix
        offset += prefix + length
    return prefixes, expanded


def table_stats(table):
    """A dict of counts and sizes, with the kernel selftest's compression ratio.

    ``compressed`` follows kernel/kallsyms_selftest.c: name codes without
    length prefixes, plus the token table, plus the 512-byte token index;
    ``original`` is the sum of the name lengths; ``ratio`` is their quotient.
    """
    arrays = table.kernel_arrays()
    prefixes, original = table._names_figures()
    compressed = (len(arrays["names"]) - prefixes
                  + len(arrays["token_table"]) + len(arrays["token_index"]))
    return {
        "symbols": len(table),
        "original": original,
        "compressed": compressed,
        "ratio": compressed / original if original else 0.0,
        "kernel_arrays": sum(len(a) for a in arrays.values()),
    }
