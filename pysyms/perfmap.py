"""perf-PID.map files: the symbol maps JIT compilers write for perf.

A JIT (V8, the JVM through perf-map-agent, CPython 3.12's perf trampoline,
.NET, LuaJIT) writes ``/tmp/perf-<pid>.map``, one line per piece of
generated code (perf's Documentation/jit-interface.txt)::

    START SIZE NAME

``START`` and ``SIZE`` are hex (perf writes them bare; a ``0x`` prefix is
accepted too), each followed by one space; ``NAME`` is the rest of the line
and may hold spaces (``JS:~render app.js:12``).  Blank lines are skipped and
a final ``\\r`` is dropped.  Each line becomes the record ``(START, "T",
NAME, None, SIZE)``: a global text symbol of SIZE bytes (0 = unknown), so
an address past a symbol's end but before the next symbol has no answer.
When a JIT reuses an address, every entry is kept; the first in the file
answers for that address (table order keeps input order among aliases).

The same reader serves the C table and the reference
(``SymbolTable.from_perf_map``); only the table building differs.
"""

import re

from . import _format
from .errors import ParseError

__all__ = ["parse_perf_map", "is_perf_map_path"]

_HEX = re.compile(rb"(?:0[xX])?([0-9A-Fa-f]{1,16})\Z")
_PATH = re.compile(r"perf-\d+\.map\Z")
# Whitespace other than the space, and NUL: never part of a name.
_BAD_NAME_BYTES = b"\0\t\n\x0b\x0c\r"


def is_perf_map_path(path):
    """Whether a file name looks like perf's ``perf-<pid>.map``."""
    return _PATH.search(str(path).replace("\\", "/").rsplit("/", 1)[-1]) is not None


def _hex_field(field, what, path, lineno):
    match = _HEX.match(field)
    if match is None:
        raise ParseError(f"bad {what} {field[:40]!r} (expected hex)", path, lineno)
    return int(match.group(1), 16)


def parse_perf_map(data, path=None):
    """The records of a perf map's bytes, in file order:
    ``(start, "T", name bytes, None, size)``.  A malformed line raises
    :class:`ParseError` naming it; a map without symbols raises
    ``ParseError("no symbols")`` (line 0)."""
    records = []
    for lineno, line in enumerate(bytes(data).split(b"\n"), 1):
        if line[-1:] == b"\r":
            line = line[:-1]
        if not line.strip(b" \t"):
            continue
        parts = line.split(b" ", 2)
        if len(parts) < 3 or not parts[2]:
            raise ParseError("expected 'START SIZE NAME'", path, lineno)
        start = _hex_field(parts[0], "start address", path, lineno)
        size = _hex_field(parts[1], "size", path, lineno)
        name = parts[2]
        if len(name) > _format.NAME_MAX:
            raise ParseError(f"name longer than {_format.NAME_MAX} bytes", path, lineno)
        if len(name.translate(None, _BAD_NAME_BYTES)) != len(name):
            raise ParseError("name holds a tab, NUL or other control whitespace", path, lineno)
        if name.strip(b" ") != name:
            raise ParseError("name starts or ends with a space", path, lineno)
        records.append((start, "T", name, None, size))
    if not records:
        raise ParseError("no symbols", path, 0)
    return records
