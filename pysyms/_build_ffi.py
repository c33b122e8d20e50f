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


ffibuilder = FFI()
ffibuilder.cdef(header_cdef(HEADER.read_text()))
ffibuilder.set_source(
    "pysyms._native",
    '#include "ksym.h"',
    sources=SOURCES,
    include_dirs=[str(CSRC.relative_to(ROOT))],
    extra_compile_args=CFLAGS,
    extra_link_args=["-pthread"] + (["-fsanitize=address,undefined"] if os.environ.get("PYSYMS_SANITIZE") else []),
)

if __name__ == "__main__":
    ffibuilder.compile(verbose=True)
