"""Table files (issue #4): save, open in place, provenance, atomic writes.

The C writer and loader (csrc/file.c) against the pure-Python reference
(pysyms/container.py): each opens what the other saved, and both write the
same bytes for the same table.  Corrupt files: tests/corrupt.py's cases
against the C loader (test_container.py runs them against the reference).
"""

import os
import random
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import example, given, settings

import oracle
import pysyms
from cli_process import run_pysyms_process
from strategies import SeededRecords, symbol_lists

U64_MAX = (1 << 64) - 1


def assert_same_table(a, b, probes=2000):
    """Two tables answer alike: arrays, symbols, modules and lookups."""
    assert len(a) == len(b)
    assert a.kernel_arrays() == b.kernel_arrays()
    assert a.modules == b.modules
    assert list(a) == list(b)
    rng = random.Random(len(a))
    symbols = list(a)
    for sym in rng.sample(symbols, min(probes, len(symbols))):
        assert a.lookup_all(sym.name) == b.lookup_all(sym.name), sym.name
        assert a.lookup_name(sym.name) == b.lookup_name(sym.name), sym.name
        for q in (sym.address, sym.address + 1, sym.address - 1 if sym.address else 0):
            assert a.lookup_addr(q) == b.lookup_addr(q), hex(q)
        stem = sym.name.split(".")[0]
        if ":" in stem:  # a module:name query, not a name
            continue
        for suffix in ("llvm", "clone"):
            assert a.matches(stem, suffix=suffix) == b.matches(stem, suffix=suffix), stem
    for name in ("", "zz_not_there", "a" * 600):
        assert a.lookup_name(name) == b.lookup_name(name)


# ---- round trips -----------------------------------------------------------------------


@settings(max_examples=40)
@given(symbol_lists())
@example(SeededRecords(seed=3, size=5000))
@example([(0x1000, "T", "foo", None)])
@example([(0, "T", "low", None), (U64_MAX, "T", "high", "mod")])  # 64-bit span: u64 addresses
def test_c_save_open_round_trip(c_impl, tmp_path_factory, records):
    table = c_impl.from_records(records)
    path = tmp_path_factory.mktemp("rt") / "t.pysyms"
    table.save(path)
    opened = c_impl.open(path)
    assert_same_table(table, opened, probes=300)
    assert opened.provenance == table.provenance
    assert c_impl.from_bytes(path.read_bytes()).kernel_arrays() == table.kernel_arrays()


@settings(max_examples=25)
@given(symbol_lists(max_size=800))
@example([(0, "T", "low", None), (U64_MAX, "T", "high", "mod")])
def test_c_and_reference_write_the_same_bytes(c_impl, ref_impl, records):
    c = c_impl.from_records(records)
    ref = ref_impl.from_records(records)
    ref._provenance = c.provenance  # the same provenance, so the same file
    assert c.to_bytes() == ref.to_bytes()


@settings(max_examples=15)
@given(symbol_lists(max_size=800))
def test_each_opens_what_the_other_saved(c_impl, ref_impl, tmp_path_factory, records):
    directory = tmp_path_factory.mktemp("cross")
    c = c_impl.from_records(records)
    ref = ref_impl.from_records(records)
    c.save(directory / "c.pysyms")
    ref.save(directory / "ref.pysyms")
    assert_same_table(ref_impl.open(directory / "c.pysyms"), c, probes=100)
    assert_same_table(c_impl.open(directory / "ref.pysyms"), ref, probes=100)


def test_region_ends_round_trip(c_impl, ref_impl, tmp_path):
    """Region ends (core end in the header, module ends in section 14) survive
    a save in either implementation, and both write the same bytes."""
    records = [(0x1000, "T", "core_fn", None), (0x1100, "T", "core_last", None),
               (0x5000, "t", "a_fn", "moda"), (0x6000, "t", "b_fn", "modb"), (0x6100, "t", "b_last", "modb")]
    ends = {None: 0x1200, "modb": 0x6180}
    c = c_impl.from_records(records, region_ends=ends)
    ref = ref_impl.from_records(records, region_ends=ends)
    ref._provenance = c.provenance
    assert c.to_bytes() == ref.to_bytes()
    c.save(tmp_path / "t.pysyms")
    probes = [0x1104, 0x1200, 0x5004, 0x6104, 0x6180, 0x617f]
    for table in (c, c_impl.open(tmp_path / "t.pysyms"), ref_impl.open(tmp_path / "t.pysyms")):
        assert table.format(probes) == ["core_last+0x4/0x100", "0x1200", "0x5004",
                                        "b_last+0x4/0x80 [modb]", "0x6180", "b_last+0x7f/0x80 [modb]"]


def test_real_kallsyms_round_trip(c_kallsyms, c_impl, tmp_path):
    path = tmp_path / "kallsyms.pysyms"
    c_kallsyms.save(path)
    opened = c_impl.open(path)
    assert_same_table(c_kallsyms, opened, probes=5000)
    # every name of the running kernel, found by binary search in the file
    # exactly as the in-memory hash finds it
    for name in c_kallsyms.names():
        assert opened.lookup_name(name) == c_kallsyms.lookup_name(name), name


def test_real_kallsyms_reference_reads_c_file(c_kallsyms, ref_impl, tmp_path):
    path = tmp_path / "kallsyms.pysyms"
    c_kallsyms.save(path)
    assert_same_table(ref_impl.open(path), c_kallsyms, probes=300)


def test_real_kallsyms_file_size_per_symbol(c_kallsyms, tmp_path):
    """Issue #4: the running kernel's table costs at most 22 bytes per symbol on disk."""
    path = tmp_path / "kallsyms.pysyms"
    c_kallsyms.save(path)
    assert path.stat().st_size / len(c_kallsyms) <= 22.0


def test_open_reads_in_place(c_kallsyms, c_impl, tmp_path):
    """An opened table holds the mapping, not a copy: its memory is the file."""
    path = tmp_path / "kallsyms.pysyms"
    c_kallsyms.save(path)
    opened = c_impl.open(path)
    assert opened.memory_size() < path.stat().st_size + 8192


# ---- provenance ---------------------------------------------------------------------


def test_provenance_of_a_live_table(c_impl, kallsyms_data):
    table = c_impl.from_kallsyms()
    prov = table.provenance
    assert prov["source"] == "/proc/kallsyms"
    assert prov["kernel_release"] == os.uname().release
    with open("/proc/sys/kernel/random/boot_id") as f:
        assert prov["boot_id"] == f.read().strip()
    assert prov["pysyms_version"] == pysyms.__version__
    assert "created" in prov and "modules_digest" in prov
    assert table.is_stale() is False


def test_provenance_of_a_copy_cannot_tell(c_impl, kallsyms_path):
    table = c_impl.from_kallsyms(str(kallsyms_path))
    assert table.provenance["source"] == str(kallsyms_path)
    assert "boot_id" not in table.provenance
    assert table.is_stale() is None


def test_stale_after_another_boot(c_impl, tmp_path, kallsyms_data):
    table = c_impl.from_kallsyms()
    table._provenance = dict(table.provenance, boot_id="00000000-0000-0000-0000-000000000000")
    table.save(tmp_path / "t.pysyms")
    opened = c_impl.open(tmp_path / "t.pysyms")
    assert opened.is_stale() is True
    other_kernel = dict(table.provenance, kernel_release="1.0.0-other")
    assert pysyms.tablefile.staleness(other_kernel)[0] is True
    other_modules = dict(table.provenance, boot_id=c_impl.from_kallsyms().provenance["boot_id"],
                         modules_digest="0" * 64)
    assert pysyms.tablefile.staleness(other_modules) == (
        True, "modules were loaded or unloaded since the table was built")


# ---- bad files against the C loader -----------------------------------------------------


@pytest.fixture(scope="module")
def small_file(c_impl):
    records = [(0xffffffff81000000 + 0x40 * i, "tT"[i % 2], f"sym_{i}.llvm.{i * 7}", None)
               for i in range(300)]
    records += [(0xffffffffc0000000 + 0x10 * i, "t", f"mod_fn_{i}", f"mod{i % 3}") for i in range(40)]
    return c_impl.from_records(records).to_bytes()


def test_corrupt_cases_raise_in_c(c_impl, small_file):
    import corrupt

    applied = 0
    for name, make in corrupt.CASES:
        try:
            bad = make(small_file)
        except corrupt.NotApplicable:
            continue
        applied += 1
        with pytest.raises(pysyms.CorruptTableError) as info:
            c_impl.from_bytes(bad, path="case.pysyms")
        assert info.value.reason, name
        assert info.value.path == "case.pysyms"
    assert applied > len(corrupt.CASES) // 2


def test_truncation_at_every_section_boundary(c_impl, ref_impl, small_file):
    import corrupt

    cuts = corrupt.truncations(small_file) + [(str(n), small_file[:n]) for n in (0, 1, 63, len(small_file) - 1)]
    for name, cut in cuts:
        for impl in (c_impl, ref_impl):
            with pytest.raises(pysyms.CorruptTableError):
                impl.from_bytes(cut)


def test_random_byte_flips(c_impl, small_file):
    rng = random.Random(7)
    for _ in range(400):
        bad = bytearray(small_file)
        bad[rng.randrange(len(bad))] ^= 1 << rng.randrange(8)
        with pytest.raises(pysyms.CorruptTableError):
            c_impl.from_bytes(bytes(bad))


def test_c_and_reference_agree_on_lying_files(c_impl, ref_impl, small_file):
    """Checksum-correct files with random edits: both accept or both reject."""
    import corrupt

    rng = random.Random(11)
    accepted = 0
    for _ in range(150):
        bad = bytearray(small_file)
        for _ in range(rng.randint(1, 3)):
            bad[rng.randrange(len(bad))] = rng.randrange(256)
        bad = corrupt.reseal(bytes(bad))
        outcomes = []
        for impl in (c_impl, ref_impl):
            try:
                impl.from_bytes(bad)
                outcomes.append(True)
            except pysyms.CorruptTableError:
                outcomes.append(False)
        assert outcomes[0] == outcomes[1]
        accepted += outcomes[0]
    assert accepted < 150


def test_error_names_file_and_offset(c_impl, small_file, tmp_path):
    path = tmp_path / "cut.pysyms"
    path.write_bytes(small_file[:1000])
    with pytest.raises(pysyms.CorruptTableError) as info:
        c_impl.open(path)
    assert info.value.path == str(path)
    assert info.value.offset == 48  # the header's file_size field
    assert str(path) in str(info.value) and "truncated" in str(info.value)


def test_not_a_table_file(c_impl, kallsyms_path):
    with pytest.raises(pysyms.CorruptTableError, match="not a pysyms table"):
        c_impl.open(kallsyms_path)


def test_empty_and_missing_files(c_impl, tmp_path):
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    with pytest.raises(pysyms.CorruptTableError, match="shorter than"):
        c_impl.open(empty)
    with pytest.raises(FileNotFoundError):
        c_impl.open(tmp_path / "missing")


# ---- atomic save -------------------------------------------------------------------------

_SAVER = textwrap.dedent("""
    import os, sys, time
    import pysyms
    path, marker = sys.argv[1], sys.argv[2]
    table = pysyms.SymbolTable.from_records(
        [(0x1000 + 16 * i, "T", f"{marker}_{i}", None) for i in range(20000)])
    def stall(fd):  # the data is written, the rename has not happened
        print("in-fsync", flush=True)
        time.sleep(120)
    os.fsync = stall
    table.save(path)
""")


def _kill_mid_save(path, marker):
    env = dict(os.environ, PYTHONPATH=str(Path(pysyms.__file__).resolve().parent.parent))
    # run from the file's directory: a source checkout in the current
    # directory (no compiled module) must not shadow the package under test
    child = subprocess.Popen([sys.executable, "-c", _SAVER, str(path), marker],
                             stdout=subprocess.PIPE, text=True, env=env, cwd=path.parent)
    try:
        assert child.stdout.readline().strip() == "in-fsync"
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL


def test_killed_save_leaves_the_old_file(c_impl, tmp_path):
    path = tmp_path / "t.pysyms"
    old = c_impl.from_records([(0x2000, "T", "old_symbol", None)])
    old.save(path)
    before = path.read_bytes()
    _kill_mid_save(path, "new")
    assert path.read_bytes() == before
    assert c_impl.open(path).lookup_name("old_symbol") == 0x2000


def test_killed_first_save_leaves_no_file(tmp_path):
    path = tmp_path / "t.pysyms"
    _kill_mid_save(path, "new")
    assert not path.exists()
    # the abandoned temporary file is recognisable, and never the target name
    assert all(p.name.startswith(".t.pysyms.") and p.name.endswith(".tmp") for p in tmp_path.iterdir())


def test_save_replaces_and_keeps_no_temporary(c_impl, tmp_path):
    path = tmp_path / "t.pysyms"
    c_impl.from_records([(0x2000, "T", "first", None)]).save(path)
    c_impl.from_records([(0x3000, "T", "second", None)]).save(path)
    assert c_impl.open(path).lookup_name("second") == 0x3000
    assert [p.name for p in tmp_path.iterdir()] == ["t.pysyms"]


def test_failed_save_leaves_nothing(c_impl, tmp_path):
    table = c_impl.from_records([(0x2000, "T", "first", None)])
    with pytest.raises(OSError):
        table.save(tmp_path / "no-such-dir" / "t.pysyms")
    assert list(tmp_path.iterdir()) == []


# ---- command line -------------------------------------------------------------------------


def test_cli_build_output_then_query_with_table(tmp_path):
    source = tmp_path / "kallsyms"
    source.write_bytes(b"ffffffff81000000 T _stext\nffffffff81000100 t helper\n"
                       b"ffffffff81000200 T do_work.isra.0\nffffffffc0001000 t mfn\t[mod]\n")
    table = tmp_path / "t.pysyms"
    done = run_pysyms_process(["build", str(source), "-o", str(table)])
    assert done.returncode == 0, done.stderr
    assert f"wrote {table}" in done.stdout
    source.unlink()  # the queries below read only the table file
    done = run_pysyms_process(["lookup", "-t", str(table), "--suffix", "clone", "do_work"])
    assert done.returncode == 0, done.stderr
    assert "do_work.isra.0" in done.stdout and "(clone)" in done.stdout
    done = run_pysyms_process(["addr", "-t", str(table), "ffffffff81000105"])
    assert done.stdout.strip() == "helper+0x5/0x100"
    done = run_pysyms_process(["grep", "-t", str(table), "m*"])
    assert "mfn" in done.stdout and "[mod]" in done.stdout
    done = run_pysyms_process(["info", "-t", str(table), "--json"])
    assert done.returncode == 0
    done = run_pysyms_process(["check", str(table)])
    assert done.returncode == 4 and "unknown" in done.stdout


def test_cli_check_live_table(tmp_path, kallsyms_data):
    table = tmp_path / "live.pysyms"
    assert run_pysyms_process(["build", "-o", str(table)]).returncode == 0
    done = run_pysyms_process(["check", str(table)])
    assert done.returncode == 0 and "current" in done.stdout, done.stdout + done.stderr


def test_cli_bad_source_writes_nothing(tmp_path):
    source = tmp_path / "bad"
    source.write_bytes(b"ffffffff81000000 T ok\nnot a symbol line at all\n")
    table = tmp_path / "t.pysyms"
    done = run_pysyms_process(["build", str(source), "-o", str(table)])
    assert done.returncode == 2 and f"{source}:2" in done.stderr
    assert not table.exists()


def test_cli_corrupt_table_is_a_clear_error(tmp_path):
    table = tmp_path / "t.pysyms"
    table.write_bytes(b"PYSYMTAB" + bytes(100))
    done = run_pysyms_process(["lookup", "-t", str(table), "x"])
    assert done.returncode == 2
    assert str(table) in done.stderr and "Traceback" not in done.stderr
    done = run_pysyms_process(["lookup", "-t", str(tmp_path / "missing"), "x"])
    assert done.returncode == 2 and "No such file" in done.stderr
