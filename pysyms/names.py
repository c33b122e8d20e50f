"""Names and indexes as both table implementations take them.

Kernel symbol names are bytes; Python users hold ``str``.  Bytes that are not
UTF-8 round-trip through ``surrogateescape``.
"""

__all__ = ["encode_name", "decode_name", "check_index"]


def encode_name(name):
    """A name as bytes: ``str`` is encoded UTF-8 with surrogateescape, ``bytes`` pass."""
    if name.__class__ is bytes:
        return name
    if isinstance(name, str):
        return name.encode("utf-8", "surrogateescape")
    if isinstance(name, (bytes, bytearray, memoryview)):
        return bytes(name)
    raise TypeError(f"a symbol name must be str or bytes, not {type(name).__name__}")


def decode_name(raw):
    """A name's bytes as ``str`` (UTF-8, surrogateescape)."""
    return raw.decode("utf-8", "surrogateescape")


def check_index(i, count):
    """``i`` as an index into a table of ``count`` symbols (negative counts from
    the end); TypeError or IndexError otherwise."""
    if not isinstance(i, int):
        raise TypeError(f"symbol index must be an int, not {type(i).__name__}")
    if i < 0:
        i += count
    if not 0 <= i < count:
        raise IndexError("symbol index out of range")
    return i
