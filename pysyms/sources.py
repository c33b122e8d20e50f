"""Text symbol sources: /proc/kallsyms, System.map and nm output (pure Python).

This is the reference reader for the grammar in docs/sources.md; the C reader
(csrc/parse.c) implements the same grammar and the two must agree line for
line, including which line an error names.

A source is bytes split at ``\\n``; one trailing ``\\r`` per line is dropped;
fields are separated by runs of spaces and tabs (only those: a vertical tab,
form feed or inner carriage return is part of a field).  Accepted lines::

    <blank>                      skipped
    T NAME                       nm symbol without an address: skipped
    ADDR T NAME                  /proc/kallsyms, System.map, nm
    ADDR T NAME [MODULE]         /proc/kallsyms module symbol
    ADDR SIZE T NAME             nm -S (the size is kept)

A four-field line is a module line when its last field starts with ``[`` and
its second is one byte, and ``nm -S`` output otherwise (as csrc/parse.c).  A name or module that keeps a vertical tab,
form feed or carriage return after the split is an error of its line: no
symbol may hold whitespace (ksym_builder_add rejects it).
"""

import os
import re

from . import _format
from .errors import ParseError, ZeroAddressesError

__all__ = ["parse_text", "read_file"]

# 1 to 16 hex digits, nothing else (int(x, 16) alone would accept "0x", "_", "+").
_HEX = re.compile(rb"[0-9A-Fa-f]{1,16}\Z")
# A field is a run of anything but space and tab.
_FIELD = re.compile(rb"[^ \t]+")
# bytes.split() with no argument also splits at these; the grammar does not.
_OTHER_SPACE = (b"\x0b", b"\x0c")
# Whitespace (C isspace) that can still be inside a field after the split.
_LATE_SPACE = b"\x0b\x0c\r"

# The nm type letter as the str the records carry, or None when the byte is
# not a printable, non-space ASCII character.
_TYPE_STR = [chr(b) if 0x21 <= b <= 0x7E else None for b in range(256)]


def read_file(path):
    """The whole content of ``path`` as bytes (works for /proc files too); a
    file that cannot be read raises :class:`ParseError` naming it."""
    try:
        with open(path, "rb") as source:
            return source.read()
    except OSError as exc:
        raise ParseError(f"cannot read: {exc.strerror}", path) from exc


def read_fd(fd, path=None):
    """Everything file descriptor ``fd`` holds, from its position to its
    end, as bytes; a failed read raises :class:`ParseError` naming ``path``
    (the message of the C reader, ``ksym_builder_add_fd``)."""
    chunks = []
    try:
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
    except OSError as exc:
        raise ParseError(f"cannot read: {exc.strerror}", path) from exc
    return b"".join(chunks)


def _needs_exact_split(data):
    """True when ``bytes.split()`` would split some line differently than the
    grammar: the data holds a vertical tab or form feed, or a carriage return
    that is not the one dropped at a line's end."""
    if any(ch in data for ch in _OTHER_SPACE):
        return True
    return data.count(b"\r") != data.count(b"\r\n")


def _parse_address(field, what, path, lineno):
    """The value of a 1-16 digit hex field, or a ParseError naming the line."""
    if _HEX.match(field) is None:
        raise ParseError(f"bad {what} {field[:40]!r}", path, lineno)
    return int(field, 16)


def _parse_type(field, path, lineno):
    """The nm type letter (str) of a field that must be one printable character."""
    if len(field) != 1:
        raise ParseError(f"type {field[:40]!r} is not one character", path, lineno)
    letter = _TYPE_STR[field[0]]
    if letter is None:
        raise ParseError(f"type {field!r} is not a printable, non-space ASCII character", path, lineno)
    return letter


def _check_name(field, path, lineno):
    """A name field as given, if it is not longer than the kernel allows."""
    if len(field) > _format.NAME_MAX:
        raise ParseError(f"name longer than {_format.NAME_MAX} bytes", path, lineno)
    return field


def _check_no_space(record, path, lineno):
    """Reject a record whose name or module holds a vertical tab, form feed or
    carriage return: such bytes survive the field split but no symbol may
    contain whitespace (ksym_builder_add), so the line is reported here."""
    for field in (record[2], record[3] or b""):
        if len(field.translate(None, _LATE_SPACE)) != len(field):
            raise ParseError("whitespace inside a name or module field", path, lineno)


def _parse_module(field, path, lineno):
    """The module name inside a ``[MODULE]`` field."""
    inner = field[1:-1]
    if len(field) < 3 or field[-1:] != b"]":
        raise ParseError(f"bad module field {field[:40]!r}", path, lineno)
    if b"[" in inner or b"]" in inner:
        raise ParseError(f"bad module field {field[:40]!r}", path, lineno)
    if len(inner) > _format.MODULE_NAME_MAX:
        raise ParseError(f"module name longer than {_format.MODULE_NAME_MAX} bytes", path, lineno)
    return inner


def _parse_fields(fields, path, lineno):
    """One record from the fields of a line, or None for a line to skip."""
    n = len(fields)
    if n == 3:
        address, letter, name = fields
        # The common, valid line without a call per field; anything odd takes
        # the checking path below, which names the problem.
        if len(letter) == 1 and len(name) <= _format.NAME_MAX and _HEX.match(address):
            kind = _TYPE_STR[letter[0]]
            if kind is not None:
                return int(address, 16), kind, name, None
        return (_parse_address(address, "address", path, lineno), _parse_type(letter, path, lineno),
                _check_name(name, path, lineno), None)
    if n == 4:
        if fields[3][:1] == b"[" and len(fields[1]) == 1:
            address, letter, name, module = fields
            return (_parse_address(address, "address", path, lineno), _parse_type(letter, path, lineno),
                    _check_name(name, path, lineno), _parse_module(module, path, lineno))
        address, size, letter, name = fields
        value = _parse_address(address, "address", path, lineno)
        size = _parse_address(size, "size", path, lineno)
        return (value, _parse_type(letter, path, lineno), _check_name(name, path, lineno), None, size)
    if n == 0:
        return None
    if n == 2 and len(fields[0]) == 1:
        return None  # nm's undefined symbols have a type but no address
    if n < 3:
        raise ParseError("too few fields", path, lineno)
    raise ParseError("too many fields", path, lineno)


def parse_text(data, path=None):
    """Parse a kallsyms, System.map or nm listing into records.

    Returns a list of ``(address, type, name, module)`` with ``address`` an
    int, ``type`` a one-character str, ``name`` bytes and ``module`` bytes or
    None, in input order; ``nm -S`` lines give ``(address, type, name, None,
    size)``.  Raises :class:`ParseError` naming the first bad
    line, ``ParseError("no symbols")`` (line 0) when no line holds a symbol,
    and :class:`ZeroAddressesError` when every address is zero.
    """
    data = bytes(data)
    exact = _needs_exact_split(data)
    has_nul = b"\0" in data
    records = []
    append = records.append
    for lineno, line in enumerate(data.split(b"\n"), 1):
        if line[-1:] == b"\r":
            line = line[:-1]
        if has_nul and b"\0" in line:
            raise ParseError("NUL byte in line", path, lineno)
        fields = _FIELD.findall(line) if exact else line.split()
        record = _parse_fields(fields, path, lineno)
        if record is not None:
            if exact:
                _check_no_space(record, path, lineno)
            append(record)
    if not records:
        raise ParseError("no symbols", path, 0)
    if not any(record[0] for record in records):
        raise ZeroAddressesError("every address is zero (read without privilege? see kptr_restrict)",
                                 path, 0)
    return records
