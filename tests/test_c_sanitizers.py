"""The C core's own test program (csrc/test_ksym.c) built with AddressSanitizer
and UndefinedBehaviorSanitizer: it must exit 0 without a sanitizer report.

test_ksym takes the text files to check as arguments (``test_ksym [FILE...]``)
and always runs its built-in cases first.  For each file it also runs its
benchmarks and a naive-model check, which under ASan take minutes on a full
/proc/kallsyms (~330 s for 122k symbols on 2 cores): by default the run gets
a slice of it (the first 20,000 lines plus every module line); set
PYSYMS_SLOW_TESTS=1 for the whole file."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

CSRC = Path(__file__).resolve().parents[1] / "csrc"
TEST_PROGRAM = CSRC / "test_ksym.c"
CFLAGS = ["-std=c11", "-O1", "-g", "-Wall", "-Wextra", "-Werror", "-fsanitize=address,undefined",
          "-fno-sanitize-recover=undefined", "-fno-omit-frame-pointer"]
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                   "SUMMARY: UndefinedBehaviorSanitizer", "SUMMARY: AddressSanitizer")
SAN_ENV = {
    "ASAN_OPTIONS": "detect_leaks=1:halt_on_error=1:abort_on_error=0:strict_string_checks=1:"
                    "detect_stack_use_after_return=1:check_initialization_order=1",
    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
}


def build_sanitized(tmp_path_factory, program, cflags=CFLAGS):
    """Compile the C core with one of its test programs under ASan/UBSan
    (or the sanitizer cflags name); skip when the program or gcc is missing."""
    if not program.is_file():
        pytest.skip(f"{program} does not exist yet")
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc is not installed")
    sources = sorted(str(p) for p in CSRC.glob("*.c") if not p.name.startswith("test_"))
    out = tmp_path_factory.mktemp("san") / f"{program.stem}_san"
    cmd = [gcc, *cflags, "-I", str(CSRC), "-o", str(out), *sources, str(program)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, f"compile failed:\n{' '.join(cmd)}\n{result.stderr}"
    return out


@pytest.fixture(scope="module")
def asan_binary(tmp_path_factory):
    return build_sanitized(tmp_path_factory, TEST_PROGRAM)


def build_fuzz_driver(tmp_path_factory, source, switch):
    """A fuzz target (csrc/fuzz_*.c, an empty translation unit by default)
    built under ASan/UBSan with its standalone driver turned on: every core
    source plus a two-line file that defines ``switch`` and includes it."""
    if not source.is_file():
        pytest.skip(f"{source} does not exist yet")
    program = tmp_path_factory.mktemp(f"{source.stem}_src") / f"{source.stem}_driver.c"
    program.write_text(f'#define {switch} 1\n#include "{source.name}"\n')
    return build_sanitized(tmp_path_factory, program)


def run_sanitized(binary, *args):
    env = dict(os.environ, **SAN_ENV)
    result = subprocess.run([str(binary), *map(str, args)], capture_output=True, text=True,
                            errors="replace", env=env, timeout=900)
    report = result.stdout + result.stderr
    assert not any(mark in report for mark in SANITIZER_MARKS), report[-6000:]
    assert result.returncode == 0, report[-6000:]
    return result


SLICE_LINES = 20_000


def kallsyms_snapshot(tmp_path, whole):
    """A copy of /proc/kallsyms with real addresses (or a slice of it), or None."""
    try:
        data = Path("/proc/kallsyms").read_bytes()
    except OSError:
        return None
    lines = data.splitlines(keepends=True)
    if not any(int(line.split()[0], 16) for line in lines if line.strip()):
        return None
    if not whole:
        lines = lines[:SLICE_LINES] + [line for line in lines[SLICE_LINES:] if b"[" in line]
    path = tmp_path / "kallsyms"
    path.write_bytes(b"".join(lines))
    return path


def test_asan_ubsan(asan_binary, tmp_path):
    snapshot = kallsyms_snapshot(tmp_path, whole=bool(os.environ.get("PYSYMS_SLOW_TESTS")))
    result = run_sanitized(asan_binary, *([snapshot] if snapshot else []))
    assert "all tests passed" in result.stdout
    if snapshot:
        assert f"{snapshot}: " in result.stdout  # the file was really checked


def test_asan_ubsan_on_sample_data(asan_binary, shared_data):
    sample = shared_data / "clang-thinlto-redis.nm"
    if not sample.is_file():
        pytest.skip(f"{sample} is absent")
    run_sanitized(asan_binary, sample)


# ---- threads -----------------------------------------------------------------------------------

TSAN_CFLAGS = ["-std=c11", "-O1", "-g", "-Wall", "-Wextra", "-Werror", "-fsanitize=thread",
               "-fno-omit-frame-pointer", "-pthread"]


@pytest.fixture(scope="module")
def tsan_binary(tmp_path_factory):
    probe = tmp_path_factory.mktemp("tsan_probe")
    (probe / "p.c").write_text("int main(void) { return 0; }\n")
    gcc = shutil.which("gcc")
    if gcc is None or subprocess.run([gcc, "-fsanitize=thread", "-o", str(probe / "p"), str(probe / "p.c")],
                                     capture_output=True).returncode != 0:
        pytest.skip("gcc cannot build with -fsanitize=thread here (libtsan missing)")
    return build_sanitized(tmp_path_factory, TEST_PROGRAM, TSAN_CFLAGS)


def test_build_threads_under_tsan(tsan_binary, tmp_path):
    """A build large enough for the compression's helper thread, from the
    text at once and through add_fd's reader thread, without a data race."""
    from kernelish import kallsyms_text, kernelish_records
    path = tmp_path / "syms.txt"
    path.write_text(kallsyms_text(kernelish_records(120_000)))
    env = dict(os.environ, TSAN_OPTIONS="halt_on_error=1:exitcode=66")
    result = subprocess.run([str(tsan_binary), "--build", str(path)], capture_output=True,
                            text=True, errors="replace", env=env, timeout=900)
    report = result.stdout + result.stderr
    assert "ThreadSanitizer" not in report, report[-6000:]
    assert result.returncode == 0 and "built alike" in result.stdout, report[-6000:]
