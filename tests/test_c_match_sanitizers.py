"""csrc/test_match.c (checks of csrc/match.c against naive loops) built with
AddressSanitizer and UndefinedBehaviorSanitizer: it must exit 0 without a
sanitizer report.  Runs the hand-made cases, the Clang ThinLTO nm sample and
a slice of /proc/kallsyms (the first 20,000 lines)."""

import shutil
import subprocess
from pathlib import Path

import pytest

from test_c_sanitizers import CFLAGS, CSRC, SLICE_LINES, run_sanitized

TEST_PROGRAM = CSRC / "test_match.c"


@pytest.fixture(scope="module")
def match_asan_binary(tmp_path_factory):
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc is not installed")
    sources = sorted(str(p) for p in CSRC.glob("*.c") if not p.name.startswith("test_"))
    out = tmp_path_factory.mktemp("asan") / "test_match_asan"
    cmd = [gcc, *CFLAGS, "-I", str(CSRC), "-o", str(out), *sources, str(TEST_PROGRAM)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"compile failed:\n{' '.join(cmd)}\n{result.stderr}"
    return out


def test_match_cases_under_asan(match_asan_binary):
    result = run_sanitized(match_asan_binary)
    assert "all checks passed" in result.stdout


def test_match_real_data_under_asan(match_asan_binary, tmp_path):
    files = []
    nm = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "clang-thinlto-redis.nm"
    if nm.is_file():
        files.append(nm)
    try:
        with open("/proc/kallsyms", "rb") as f:
            lines = f.read().split(b"\n")[:SLICE_LINES]
        if any(line.split(b" ")[0].strip(b"0") for line in lines if line):
            snapshot = tmp_path / "kallsyms"
            snapshot.write_bytes(b"\n".join(lines) + b"\n")
            files.append(snapshot)
    except OSError:
        pass
    if not files:
        pytest.skip("no real symbol file to check")
    result = run_sanitized(match_asan_binary, *files)
    assert "all checks passed" in result.stdout
