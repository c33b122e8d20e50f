"""Shared fixtures of the pysyms test suite.

- ``impl``: both implementations, the C-backed ``pysyms.SymbolTable`` and the
  pure-Python ``pysyms.reference.SymbolTable`` (ids ``c`` and ``ref``).
- ``c_impl`` / ``ref_impl``: one of them each (skip if it cannot be imported).
- ``kallsyms_path``: a snapshot of the machine's /proc/kallsyms (skips when
  unreadable or read without privilege); ``kallsyms_data`` its bytes.
- ``c_kallsyms`` / ``ref_kallsyms``: tables built once per session from it.
- ``shared_data``: ``../shared/data`` beside the project (skips when absent).
"""

import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings

# The suite runs with --import-mode=importlib: make the helper modules
# (strategies.py, oracle.py) beside this file importable.
TESTS = Path(__file__).resolve().parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

REPO = TESTS.parent
KALLSYMS = "/proc/kallsyms"

settings.register_profile(
    "pysyms",
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    # the explain phase re-runs a failing example under coverage tracing many
    # times: minutes with the pure-Python reference, for little insight here
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "pysyms"))


def _c_table():
    try:
        import pysyms
    except ImportError as exc:  # the extension is not built
        pytest.skip(f"pysyms C extension not importable: {exc}")
    return pysyms.SymbolTable


def _ref_table():
    try:
        from pysyms import reference
    except ImportError as exc:
        pytest.skip(f"pysyms.reference not importable: {exc}")
    return reference.SymbolTable


@pytest.fixture(scope="session")
def c_impl():
    return _c_table()


@pytest.fixture(scope="session")
def ref_impl():
    return _ref_table()


@pytest.fixture(scope="session", params=["c", "ref"])
def impl(request):
    """Each implementation of the SymbolTable API in turn."""
    return _c_table() if request.param == "c" else _ref_table()


# ---- the machine's /proc/kallsyms ------------------------------------------------


def _kallsyms_skip_reason(data):
    lines = [line for line in data.split(b"\n") if line.strip()]
    if not lines:
        return f"{KALLSYMS} is empty"
    if all(int(line.split()[0], 16) == 0 for line in lines):
        return f"{KALLSYMS} shows only zero addresses (not root, or kptr_restrict)"
    return None


@pytest.fixture(scope="session")
def kallsyms_data():
    """The bytes of one read of /proc/kallsyms (skip if unusable)."""
    try:
        with open(KALLSYMS, "rb") as f:
            data = f.read()
    except OSError as exc:
        pytest.skip(f"cannot read {KALLSYMS}: {exc}")
    reason = _kallsyms_skip_reason(data)
    if reason:
        pytest.skip(reason)
    return data


@pytest.fixture(scope="session")
def kallsyms_path(kallsyms_data, tmp_path_factory):
    """A snapshot of /proc/kallsyms on disk, so every table of the session
    and every expectation read the same symbols (BPF programs and modules
    may come and go while the suite runs)."""
    path = tmp_path_factory.mktemp("kallsyms") / "kallsyms"
    path.write_bytes(kallsyms_data)
    return path


@pytest.fixture(scope="session")
def c_kallsyms(c_impl, kallsyms_path):
    return c_impl.from_kallsyms(str(kallsyms_path))


@pytest.fixture(scope="session")
def ref_kallsyms(ref_impl, kallsyms_path):
    """The reference table of the real symbols: built once (it takes seconds)."""
    return ref_impl.from_kallsyms(str(kallsyms_path))


# ---- ../shared/data ---------------------------------------------------------------


@pytest.fixture(scope="session")
def shared_data():
    path = Path(__file__).resolve().parents[1].parent / "shared" / "data"
    if not path.is_dir():
        pytest.skip(f"{path} is absent (sample data lives beside the project, not in it)")
    return path
