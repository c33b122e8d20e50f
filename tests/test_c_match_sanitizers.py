"""csrc/test_match.c (checks of csrc/match.c against naive loops) built with
AddressSanitizer and UndefinedBehaviorSanitizer: it must exit 0 without a
sanitizer report.  Runs the hand-made cases, the Clang ThinLTO nm sample and
a slice of /proc/kallsyms (as test_c_sanitizers.py takes it)."""

from pathlib import Path

import pytest

from test_c_sanitizers import CSRC, build_sanitized, kallsyms_snapshot, run_sanitized

TEST_PROGRAM = CSRC / "test_match.c"


@pytest.fixture(scope="module")
def match_asan_binary(tmp_path_factory):
    return build_sanitized(tmp_path_factory, TEST_PROGRAM)


def test_match_cases_under_asan(match_asan_binary):
    result = run_sanitized(match_asan_binary)
    assert "all checks passed" in result.stdout


def test_match_real_data_under_asan(match_asan_binary, tmp_path):
    files = []
    nm = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "clang-thinlto-redis.nm"
    if nm.is_file():
        files.append(nm)
    snapshot = kallsyms_snapshot(tmp_path, whole=False)
    if snapshot:
        files.append(snapshot)
    if not files:
        pytest.skip("no real symbol file to check")
    result = run_sanitized(match_asan_binary, *files)
    assert "all checks passed" in result.stdout
