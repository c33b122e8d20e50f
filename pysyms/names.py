"""Names, indexes and records as both table implementations take them.

Kernel symbol names are bytes; Python users hold ``str``.  Bytes that are not
UTF-8 round-trip through ``surrogateescape``.
"""

from .errors import InvalidSymbolError

__all__ = ["encode_name", "decode_name", "check_index", "unpack_record"]


def encode_name(name):
    """A name as bytes: ``str`` is encoded UTF-8 with surrogateescape, ``bytes`` pass."""
    if name.__class__ is bytes:
        return name
    if isinstance(name, str):
        try:
            return name.encode()  # the fast path: no error handler to look up
        except UnicodeEncodeError:
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


_U64_MAX = (1 << 64) - 1


def unpack_record(record, position):
    """``(address, type, name, module, size)`` of a ``from_records`` record,
    ``(address, type, name, module)`` or with a fifth field, the size (0 =
    unknown); the address and size checked as unsigned 64-bit integers, the
    other fields left to the caller.  Raises InvalidSymbolError naming
    ``position``."""
    try:
        if len(record) == 5:
            address, type_, name, module, size = record
            if not isinstance(size, int) or not 0 <= size <= _U64_MAX:
                raise InvalidSymbolError(f"size {size!r} is not an unsigned 64-bit integer", position)
        else:
            (address, type_, name, module), size = record, 0
    except (TypeError, ValueError):
        raise InvalidSymbolError("expected (address, type, name, module[, size])", position) from None
    if not isinstance(address, int) or not 0 <= address <= _U64_MAX:
        raise InvalidSymbolError(f"address {address!r} is not an unsigned 64-bit integer", position)
    return address, type_, name, module, size
