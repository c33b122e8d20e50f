"""Size figures of a table, from its kernel arrays and its names figures
(``_names_figures``: C for the C table, Python for the reference)."""

__all__ = ["table_stats"]


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
