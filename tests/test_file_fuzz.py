"""csrc/fuzz_file.c: the table file loader fuzzed for a bounded time under
AddressSanitizer and UndefinedBehaviorSanitizer.

The promise (docs/format.md "Validation at open"): after ksym_file_load
succeeds no lookup reads outside the file, whatever it holds.  The fuzz
target loads each mutated input from a buffer of exactly its size (with the
checksum field recomputed, so the structural checks are reached) and, when
it loads, drives every lookup over it.  Its standalone driver builds seed
tables (hand-made ones, a slice of /proc/kallsyms, the Clang ThinLTO nm
sample) and mutates them for PYSYMS_FUZZ_SECONDS (default 20) seconds; a
crashing input is saved as /tmp/fuzz-crash-<hash>.bin and can be replayed
with ``fuzz_file_driver_asan -runs=0 FILE``.
"""

import os
import re
from pathlib import Path

import pytest

from test_c_sanitizers import CSRC, build_fuzz_driver, kallsyms_snapshot, run_sanitized

FUZZ_SOURCE = CSRC / "fuzz_file.c"
SECONDS = float(os.environ.get("PYSYMS_FUZZ_SECONDS", "20"))
REPO = Path(__file__).resolve().parents[1]
NM_SAMPLE = REPO.parent / "shared" / "data" / "clang-thinlto-redis.nm"
HAND_MADE_SEEDS = 10  # fuzz_file.c's -make-seeds tables besides the text sources
MIN_RUNS_PER_SECOND = 20  # 70 to 130 seen under these sanitizer options on a busy 2-core VM
MIN_LOADED_FRACTION = 0.05


@pytest.fixture(scope="module")
def fuzz_binary(tmp_path_factory):
    """The driver under ASan/UBSan (fuzz_file.c with KSYM_FUZZ_STANDALONE)."""
    return build_fuzz_driver(tmp_path_factory, FUZZ_SOURCE, "KSYM_FUZZ_STANDALONE")


@pytest.fixture(scope="module")
def seed_dir(fuzz_binary, tmp_path_factory):
    texts = []
    snapshot = kallsyms_snapshot(tmp_path_factory.mktemp("kallsyms"), whole=False)
    if snapshot:
        texts.append(snapshot)
    if NM_SAMPLE.is_file():
        texts.append(NM_SAMPLE)
    seeds = tmp_path_factory.mktemp("fuzz") / "seeds"
    result = run_sanitized(fuzz_binary, "-make-seeds", seeds, *texts)
    written = sorted(seeds.glob("*.pysyms"))
    assert len(written) >= HAND_MADE_SEEDS + len(texts), result.stdout
    return seeds


def test_fuzz_file_loader(fuzz_binary, seed_dir):
    result = run_sanitized(fuzz_binary, f"-seconds={SECONDS:g}", seed_dir)
    out = result.stdout
    seeds = re.search(r"(\d+) of (\d+) seed inputs load as they are", out)
    assert seeds and seeds[1] == seeds[2], out  # every seed is a valid table
    stats = re.search(r"runs=(\d+) loaded=(\d+)", out)
    assert stats, out
    runs, loaded = int(stats[1]), int(stats[2])
    print(out.strip().splitlines()[-1])  # shown with pytest -s
    # many inputs, and enough of them valid tables that the lookups were driven
    assert runs >= max(100, MIN_RUNS_PER_SECOND * SECONDS), out
    assert loaded >= MIN_LOADED_FRACTION * runs, out
