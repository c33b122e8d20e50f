"""csrc/fuzz_elf.c: the ELF symbol table reader (csrc/elf.c) fuzzed for a
bounded time under AddressSanitizer and UndefinedBehaviorSanitizer.

The promise: no input makes ksym_elf_symbols / ksym_elf_add read outside
the file or write outside the caller's array, and their answers hold
together (fuzz_elf.c's checks).  Seeds: the programs tests/test_elf.py
compiles (objects, executables, a shared library, 32-bit, big-endian,
extended section numbering) and the letter-rules assembly file.  The
driver mutates them, ELF fields first, for PYSYMS_FUZZ_SECONDS (default
10) seconds; any sanitizer report fails the test.  A crashing input is
saved as /tmp/fuzz-elf-crash-<hash>.bin; replay it with the driver and
``-runs=0 FILE``.
"""

import os
import re
import subprocess

import pytest

from pysyms import elf
from test_c_sanitizers import CSRC, build_fuzz_driver, run_sanitized
from test_elf import AS, GCC, RULES_ASM, build_programs

FUZZ_SOURCE = CSRC / "fuzz_elf.c"
SECONDS = float(os.environ.get("PYSYMS_FUZZ_SECONDS", "10"))
MIN_RUNS_PER_SECOND = 10  # 250 to 300 seen under these sanitizer options on a 2-core VM


@pytest.fixture(scope="module")
def fuzz_binary(tmp_path_factory):
    """The driver under ASan/UBSan (fuzz_elf.c with KSYM_FUZZ_ELF)."""
    return build_fuzz_driver(tmp_path_factory, FUZZ_SOURCE, "KSYM_FUZZ_ELF")


@pytest.fixture(scope="module")
def seed_dir(fuzz_binary, tmp_path_factory):
    if GCC is None:
        pytest.skip("gcc is not installed")
    seeds = tmp_path_factory.mktemp("elf_seeds")
    programs = build_programs(seeds)
    for path in seeds.iterdir():
        if path.name not in {p.name for p in programs.values()}:
            path.unlink()  # the C source and the version script
    if AS:
        src = tmp_path_factory.mktemp("elf_rules_src") / "rules.s"
        src.write_text(RULES_ASM)
        subprocess.run([AS, str(src), "-o", str(seeds / "rules.o")], check=True)
    return seeds


def test_fuzz_elf_reader(fuzz_binary, seed_dir):
    seeds = list(seed_dir.iterdir())
    with_symbols = sum(1 for p in seeds if elf.read_symbols(p.read_bytes()))  # not the stripped executable
    assert with_symbols >= len(seeds) - 1
    result = run_sanitized(fuzz_binary, f"-seconds={SECONDS:g}", seed_dir)
    out = result.stdout
    assert f"{with_symbols} of {len(seeds)} seed inputs have symbols" in out, out
    stats = re.search(r"runs=(\d+) read=(\d+) symbols=(\d+)", out)
    assert stats, out
    runs, read = int(stats[1]), int(stats[2])
    print(out.strip().splitlines()[-1])  # shown with pytest -s
    assert runs >= max(100, MIN_RUNS_PER_SECOND * SECONDS), out
    assert read >= runs // 10, out  # enough mutated inputs still read, so the symbol walk is reached


def test_replay_crash_file(fuzz_binary, tmp_path):
    """A saved input replays with -runs=0 (how a crash is reproduced)."""
    sample = tmp_path / "input.bin"
    sample.write_bytes(b"\x7fELF\x02\x01\x01" + b"\0" * 57)
    result = run_sanitized(fuzz_binary, "-runs=0", sample)
    assert "0 of 1 seed inputs have symbols" in result.stdout
