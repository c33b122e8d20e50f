"""pysyms: the Linux kernel's compressed symbol table (kallsyms), built and
searched in C, with a pure-Python reference of the same semantics.

    import pysyms
    table = pysyms.SymbolTable.from_kallsyms()      # /proc/kallsyms, as root
    table.lookup_name("schedule")                   # address, or None
    table.lookup_addr(0xffffffff81000010).format()  # 'name+0x10/0x30'

``pysyms.reference.SymbolTable`` has the same API in pure Python.
"""

from .errors import (AmbiguousSymbolError, CorruptTableError, Error, InvalidSymbolError, ParseError,
                     SymbolNotFoundError, ZeroAddressesError)
from .kimage import KernelImageError
from .matching import Match
from .progress import reporting_progress
from .symbol import AddressInfo, Symbol
from .table import SymbolTable

__version__ = "0.1.0"

__all__ = [
    "SymbolTable",
    "Symbol",
    "AddressInfo",
    "Error",
    "ParseError",
    "ZeroAddressesError",
    "InvalidSymbolError",
    "SymbolNotFoundError",
    "AmbiguousSymbolError",
    "CorruptTableError",
    "KernelImageError",
    "Match",
    "reporting_progress",
    "__version__",
]
