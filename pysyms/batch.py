"""Batch inputs and outputs shared by both SymbolTable implementations
(issue #6): any buffer of unsigned 64-bit addresses in, index and offset
arrays out, numpy when numpy came in, else ``array`` objects.

numpy is optional: it is imported only when the caller passed a numpy array.
"""

from array import array

from .errors import Error

__all__ = ["address_view", "new_results", "check_out", "format_line", "STYLES"]

# printk style -> the C constant's name suffix (KSYM_STYLE_*)
STYLES = {"%pS": "SYMBOL", "%ps": "NAME", "%pB": "BACKTRACE"}

_U64_FORMATS = {"Q", "L", "q", "l", "=Q", "<Q", "@Q", "=q", "<q"}
_BYTE_FORMATS = {"B", "b", "c"}


def _is_numpy(obj):
    return type(obj).__module__ == "numpy"


def address_view(addresses):
    """``(view, numpy_in)``: a C-contiguous memoryview of ``addresses`` as
    native unsigned 64-bit integers, without copying, and whether the input
    was a numpy array.  Lists and other iterables of ints are converted
    (one copy).  Anything else raises :class:`pysyms.Error`."""
    numpy_in = _is_numpy(addresses)
    try:
        view = memoryview(addresses)
    except TypeError:
        try:
            view = memoryview(array("Q", addresses))
        except (TypeError, OverflowError) as exc:
            raise Error(f"addresses must be a buffer of u64 or an iterable of ints 0..2**64-1: {exc}") from None
    if not view.c_contiguous:
        raise Error("address buffer is not contiguous")
    if view.itemsize == 8 and view.format in _U64_FORMATS:
        return view.cast("B").cast("Q"), numpy_in
    if view.format in _BYTE_FORMATS and view.itemsize == 1:
        if view.nbytes % 8:
            raise Error(f"address bytes: length {view.nbytes} is not a multiple of 8")
        return view.cast("B").cast("Q"), numpy_in
    raise Error(f"address buffer holds {view.format!r} items of {view.itemsize} bytes, not 64-bit integers")


def new_results(n, numpy_out):
    """Empty ``(indexes, offsets)`` of length ``n``: int64 and uint64."""
    if numpy_out:
        import numpy

        return numpy.empty(n, dtype=numpy.int64), numpy.empty(n, dtype=numpy.uint64)
    return array("q", [0]) * n, array("Q", [0]) * n


def check_out(out, n):
    """``out`` as ``(indexes, offsets)`` to fill in place: two writable,
    contiguous buffers of ``n`` 64-bit integers each (reused between calls,
    they save a profiler the page faults of fresh result arrays)."""
    try:
        indexes, offsets = out
    except (TypeError, ValueError):
        raise Error("out must be a pair (indexes, offsets)") from None
    for name, buf in (("indexes", indexes), ("offsets", offsets)):
        try:
            view = memoryview(buf)
        except TypeError:
            raise Error(f"out {name} is not a buffer") from None
        if view.readonly or not view.c_contiguous or view.itemsize != 8 or view.nbytes != 8 * n:
            raise Error(f"out {name} must be a writable, contiguous buffer of {n} 64-bit integers")
    return indexes, offsets


def format_line(lookup_addr, address, style):
    """The kernel's text for one address, from a ``lookup_addr`` function:
    what ``format`` builds in C, written out plainly (the reference's)."""
    query = address - 1 if style == "%pB" and address else address
    info = lookup_addr(query)
    if info is None:
        return f"{address:#x}"
    text = info.name
    if style != "%ps":
        text += f"+{address - info.address:#x}/{info.size:#x}"
    if info.module is not None:
        text += f" [{info.module}]"
    return text
