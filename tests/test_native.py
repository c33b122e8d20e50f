"""The cffi build script's choices, checked against the module it built."""

import importlib.util
from pathlib import Path

from pysyms._native import lib

BUILD_SCRIPT = Path(__file__).resolve().parent.parent / "pysyms" / "_build_ffi.py"


def load_build_script():
    spec = importlib.util.spec_from_file_location("pysyms_build_ffi", BUILD_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_calls_that_keep_the_gil_exist():
    """A misspelt name would match no wrapper and silently release the GIL."""
    build = load_build_script()
    assert build.HOLD_GIL
    for name in build.HOLD_GIL:
        assert callable(getattr(lib, name, None)), name

