"""Result objects shared by the C-backed table and the pure-Python reference."""

from collections import namedtuple

__all__ = ["Symbol", "AddressInfo"]


class Symbol(namedtuple("Symbol", "address type name module")):
    """One symbol: ``address`` (int), ``type`` (nm letter, str), ``name`` (str),
    ``module`` (str, or None for the core kernel)."""

    __slots__ = ()


class AddressInfo(namedtuple("AddressInfo", "name address offset size module index")):
    """Answer of ``lookup_addr``: the covering symbol's ``name``, ``address``,
    ``module`` and table ``index``, the query's ``offset`` from it and the
    symbol's ``size`` (0 when unknown)."""

    __slots__ = ()

    def format(self):
        """The kernel's ``%pS`` text: ``name+0xoff/0xsize [module]``."""
        text = f"{self.name}+{self.offset:#x}/{self.size:#x}"
        if self.module is not None:
            text += f" [{self.module}]"
        return text
