"""The one exception family of pysyms: everything raised on purpose derives from Error."""

__all__ = ["Error", "ParseError", "ZeroAddressesError", "InvalidSymbolError", "SymbolNotFoundError",
           "AmbiguousSymbolError", "CorruptTableError"]


class Error(Exception):
    """Root of every error pysyms raises on purpose."""


class ParseError(Error, ValueError):
    """A text source (kallsyms, System.map, nm) could not be read.

    ``path`` is the file (or ``None`` for in-memory text) and ``line`` the
    1-based line number (0 when the error concerns the whole source).
    """

    def __init__(self, reason, path=None, line=0):
        self.reason = reason
        self.path = path
        self.line = line
        where = str(path) if path is not None else "<text>"
        if line:
            where = f"{where}:{line}"
        super().__init__(f"{where}: {reason}")


class ZeroAddressesError(ParseError):
    """Every address in a kallsyms source is zero: it was read without privilege."""


class InvalidSymbolError(Error, ValueError):
    """A record given to ``from_records`` is not a valid symbol.

    ``record`` is its 0-based position in the input.
    """

    def __init__(self, reason, record):
        self.reason = reason
        self.record = record
        super().__init__(f"record {record}: {reason}")


class SymbolNotFoundError(Error, LookupError):
    """``lookup`` found no symbol (or fewer than ``sympos``).

    ``name`` is the query as given, ``sympos`` the position asked for.
    """

    def __init__(self, message, name=None, sympos=0):
        self.name = name
        self.sympos = sympos
        super().__init__(message)


class AmbiguousSymbolError(Error, LookupError):
    """``lookup`` with ``sympos=0`` found more than one symbol (the kernel's
    ``EADDRNOTAVAIL`` case).  ``candidates`` lists every match (objects with
    ``name``, ``address``, ``module``, ``kind``, ``index``) in address order;
    the message lists them too."""

    def __init__(self, message, name=None, candidates=()):
        self.name = name
        self.candidates = list(candidates)
        super().__init__(message)


class CorruptTableError(Error, ValueError):
    """A table file (``SymbolTable.open``) is not valid: truncated, changed
    since it was written, or not a pysyms table at all.

    ``path`` is the file (``None`` for in-memory bytes), ``offset`` the byte
    offset in it that the check concerns (``None`` when the whole file is
    concerned) and ``reason`` says which check failed (docs/format.md,
    "Validation at open").  Nothing is read from a file that fails.
    """

    def __init__(self, reason, path=None, offset=None):
        self.reason = reason
        self.path = path
        self.offset = offset
        where = str(path) if path is not None else "<bytes>"
        if offset is not None:
            where = f"{where}: byte {offset}"
        super().__init__(f"{where}: {reason}")
