"""Format constants, read from the C header ksym.h through the compiled module.

ksym.h is the one place they are written down; the pure-Python reference
imports them from here so both implementations read the same layout.
"""

from ._native import lib as _lib

NAME_MAX = _lib.KSYM_NAME_MAX
MODULE_NAME_MAX = _lib.KSYM_MODULE_NAME_MAX
MARKER_STRIDE = _lib.KSYM_MARKER_STRIDE
TOKENS = _lib.KSYM_TOKENS
SEQ_BYTES = _lib.KSYM_SEQ_BYTES
MAX_SYMBOLS = _lib.KSYM_MAX_SYMBOLS
MAX_MODULES = _lib.KSYM_MAX_MODULES
LEN_1BYTE_MAX = _lib.KSYM_LEN_1BYTE_MAX
