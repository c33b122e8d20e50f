"""cffi build script (API mode, out-of-line): compiles csrc/ into pysyms._native.

The cdef is csrc/ksym.h itself, minus the preprocessor lines cffi does not
parse; each ``#define`` constant becomes ``#define NAME ...`` so the compiler
supplies its value.  Set PYSYMS_SANITIZE=1 to build with ASan/UBSan.
"""

import os
import re
from pathlib import Path

from cffi import FFI

ROOT = Path(__file__).resolve().parent.parent
CSRC = ROOT / "csrc"
HEADER = CSRC / "ksym.h"
SOURCES = sorted(str(p.relative_to(ROOT)) for p in CSRC.glob("*.c") if not p.name.startswith("test_"))

CFLAGS = ["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-pthread"]
if os.environ.get("PYSYMS_SANITIZE"):
    CFLAGS += ["-O1", "-g", "-fno-omit-frame-pointer", "-fsanitize=address,undefined",
               "-fno-sanitize-recover=undefined"]


def header_cdef(text):
    """ksym.h as cffi wants it: declarations, and constants valued by the compiler."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    lines = []
    for line in text.splitlines():
        define = re.match(r"\s*#\s*define\s+(KSYM_\w+)\s+\S", line)
        if define:
            lines.append(f"#define {define.group(1)} ...")
        elif not line.lstrip().startswith("#"):
            lines.append(line)
    return "\n".join(lines)


# The per-symbol calls that keep the GIL.  cffi releases and retakes it around
# every call, which costs ~90 ns: a third of lookup_name's whole C call.  These
# return in well under a microsecond (no loop over the table; no I/O but the
# first touch of a mapped table file's page), as a hand-written extension's
# would without releasing it; every other call still lets other threads run.
HOLD_GIL = ["ksym_lookup_query", "ksym_lookup_addr", "ksym_lookup_name", "ksym_symbol",
            "ksym_name_run", "ksym_seq", "ksym_size"]


def preamble(hold_gil):
    """The C that precedes cffi's wrappers: ksym.h, then Python's GIL macros,
    which the wrappers use, redefined to skip the release in the wrappers of
    ``hold_gil`` (told apart by ``__func__``, which the compiler folds)."""
    held = " || ".join(f'!strcmp(__func__, "_cffi_f_{name}")' for name in hold_gil)
    return f"""#include <string.h>
#include "ksym.h"
#define KSYM__HOLDS_GIL() ({held})
#undef Py_BEGIN_ALLOW_THREADS
#undef Py_END_ALLOW_THREADS
#define Py_BEGIN_ALLOW_THREADS {{ PyThreadState *_save = KSYM__HOLDS_GIL() ? NULL : PyEval_SaveThread();
#define Py_END_ALLOW_THREADS if (_save) PyEval_RestoreThread(_save); }}
"""


ffibuilder = FFI()
ffibuilder.cdef(header_cdef(HEADER.read_text()))
ffibuilder.set_source(
    "pysyms._native",
    preamble(HOLD_GIL),
    sources=SOURCES,
    include_dirs=[str(CSRC.relative_to(ROOT))],
    extra_compile_args=CFLAGS,
    extra_link_args=["-pthread"] + (["-fsanitize=address,undefined"] if os.environ.get("PYSYMS_SANITIZE") else []),
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
