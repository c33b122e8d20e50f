"""SymbolTable.from_elf (issue #6): tables from ELF symbol tables, C against
the reference against ``nm -S``: symbols, sizes, and addresses in gaps
between sized symbols that have no answer."""

import shutil
import subprocess
import warnings

import pytest

import pysyms
from pysyms import elf

GCC = shutil.which("gcc")
NM = shutil.which("nm")

PROGRAM = r"""
static __attribute__((noinline)) int helper(int x) { return x * 3 + 1; }
__attribute__((aligned(64))) int first(int x) { return helper(x) + 2; }
__attribute__((aligned(64))) int second(int x) { return first(x) * 5; }
int table[64];
int main(int argc, char **argv) { (void)argv; table[argc & 63] = second(argc); return table[1]; }
"""


@pytest.fixture(scope="module")
def program(tmp_path_factory):
    if GCC is None or NM is None:
        pytest.skip("needs gcc and nm")
    out = tmp_path_factory.mktemp("from_elf")
    (out / "p.c").write_text(PROGRAM)
    subprocess.run([GCC, "-O2", "-o", str(out / "prog"), str(out / "p.c")], check=True, timeout=300)
    subprocess.run([GCC, "-O2", "-c", "-o", str(out / "my-mod.ko"), str(out / "p.c")], check=True, timeout=300)
    subprocess.run([GCC, "-O2", "-shared", "-fPIC", "-o", str(out / "lib.so"), str(out / "p.c")], check=True,
                   timeout=300)
    return out


def nm_sized(path):
    """(address, size, letter, name) of nm -S --defined-only."""
    lines = subprocess.run([NM, "-S", "--defined-only", str(path)], capture_output=True, check=True,
                           text=True).stdout.splitlines()
    out = []
    for line in lines:
        parts = line.split()
        if len(parts) == 4:
            out.append((int(parts[0], 16), int(parts[1], 16), parts[2], parts[3]))
        elif len(parts) == 3:
            out.append((int(parts[0], 16), 0, parts[1], parts[2]))
    return out


def test_symbols_and_sizes_are_nms(impl, program):
    table = impl.from_elf(program / "prog")
    want = sorted(nm_sized(program / "prog"))
    got = sorted((s.address, table.size_of(i), s.type, s.name) for i, s in enumerate(table))
    assert got == want
    assert table.has_sizes


def test_lookups_use_the_sizes(impl, program):
    table = impl.from_elf(program / "prog")
    symbols = nm_sized(program / "prog")
    by_name = {name: (address, size) for address, size, _, name in symbols}
    for name in ("first", "second", "main"):
        address, size = by_name[name]
        assert size
        info = table.lookup_addr(address + size - 1)
        assert (info.name, info.offset, info.size) == (name, size - 1, size)
    # every address from the first symbol to past the last: answered by the
    # symbol with the greatest address <= it when that one is unsized (and
    # not last) or its size reaches the address; else by nothing
    sized_gaps = 0
    starts = sorted({a for a, _, _, _ in symbols})
    first_alias = {}
    for i, sym in enumerate(table):
        first_alias.setdefault(sym.address, i)
    for q in range(starts[0], starts[-1] + 0x40):
        at = max(a for a in starts if a <= q)
        own = table.size_of(first_alias[at])
        if own:
            covered = q - at < own
        else:
            covered = at != starts[-1] or q == at
        info = table.lookup_addr(q)
        assert (info is not None) == covered, hex(q)
        if info is not None:
            assert (info.address, info.index) == (at, first_alias[at])
            assert info.size == own or own == 0
        sized_gaps += own > 0 and not covered
    assert sized_gaps  # the padding before the 64-byte aligned functions


def test_c_and_reference_agree(c_impl, ref_impl, program):
    for path in (program / "prog", program / "my-mod.ko"):
        c_table, r_table = c_impl.from_elf(path), ref_impl.from_elf(path)
        assert list(c_table) == list(r_table)
        assert c_table.kernel_arrays() == r_table.kernel_arrays()
        lo = min(s.address for s in c_table)
        hi = max(s.address for s in c_table) + 0x100
        for q in range(max(lo - 4, 0), hi, 3):
            assert c_table.lookup_addr(q) == r_table.lookup_addr(q), hex(q)


def test_module_name_of_a_ko(impl, program):
    table = impl.from_elf(program / "my-mod.ko")
    assert table.modules == ["my_mod"] and {s.module for s in table} == {"my_mod"}
    assert impl.from_elf(program / "my-mod.ko", module="other").modules == ["other"]
    assert impl.from_elf(program / "prog").modules == []


def test_from_file_reads_elf(impl, program):
    assert list(impl.from_file(program / "prog")) == list(impl.from_elf(program / "prog"))


def test_dynsym_choice(impl, program):
    dyn = impl.from_elf(program / "lib.so", which="dynsym")
    names = {s.name for s in dyn}
    assert {"first", "second"} <= names and "helper" not in names  # static: only in .symtab
    assert "helper" in {s.name for s in impl.from_elf(program / "lib.so")}
    with pytest.raises(pysyms.ParseError):
        impl.from_elf(program / "prog", which="dynsym")  # an executable's .dynsym: imports only
    with pytest.raises(ValueError):
        impl.from_elf(program / "prog", which="both")


def test_stripped_and_malformed(impl, program, tmp_path):
    strip = shutil.which("strip")
    if strip:
        stripped = tmp_path / "stripped.so"
        shutil.copy(program / "lib.so", stripped)
        subprocess.run([strip, str(stripped)], check=True)
        table = impl.from_elf(stripped)  # .dynsym is what is left
        assert "first" in {s.name for s in table} and all(s.name != "helper" for s in table)
    data = (program / "prog").read_bytes()
    bad = tmp_path / "bad"
    bad.write_bytes(data[:200])
    with pytest.raises(elf.ElfError) as info:
        impl.from_elf(bad)
    assert info.value.path == str(bad) and str(bad) in str(info.value)
    assert info.value.offset is not None


def test_no_symbols(impl, tmp_path):
    # an ELF header and nothing else: no section headers, no symbols
    path = tmp_path / "empty.elf"
    header = bytearray(64)
    header[:7] = b"\x7fELF\x02\x01\x01"
    header[16] = 2  # ET_EXEC
    header[0x34] = 64  # e_ehsize
    path.write_bytes(bytes(header))
    with pytest.raises(pysyms.ParseError) as info:
        impl.from_elf(path)
    assert "no symbols" in str(info.value)


def test_long_names_are_skipped_with_a_warning(c_impl, ref_impl, tmp_path):
    if GCC is None:
        pytest.skip("needs gcc")
    long_name = "f" * 600
    (tmp_path / "l.c").write_text(f"int {long_name}(void) {{ return 1; }}\nint short_one(void) {{ return 2; }}\n")
    subprocess.run([GCC, "-c", "-o", str(tmp_path / "l.o"), str(tmp_path / "l.c")], check=True)
    for impl in (c_impl, ref_impl):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            table = impl.from_elf(tmp_path / "l.o")
        assert "short_one" in {s.name for s in table}
        assert any("1 ELF symbol(s) skipped" in str(w.message) for w in caught)


def test_module_of_path():
    assert elf.module_of_path("/lib/modules/6.1/kernel/fs/ext4/ext4.ko") == "ext4"
    assert elf.module_of_path("snd-hda-intel.ko.xz") == "snd_hda_intel"
    assert elf.module_of_path("vmlinux") is None
    assert elf.module_of_path("a.kox") is None


def test_cli_reads_elf(program, tmp_path):
    from cli_process import run_pysyms_process

    address, size = {name: (a, s) for a, s, _, name in nm_sized(program / "prog")}["second"]
    result = run_pysyms_process(["addr", "--source", str(program / "prog"), hex(address + 1)])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"second+0x1/{size:#x}"
    table = tmp_path / "prog.pysyms"
    result = run_pysyms_process(["build", str(program / "prog"), "-o", str(table)])
    assert result.returncode == 0, result.stderr
    result = run_pysyms_process(["lookup", "-t", str(table), "second"])
    assert result.returncode == 0 and f"{address:016x}" in result.stdout


# ---- real kernel ELF files: the Debian -dbg package's vmlinux and modules -------------------
# (tools/fetch_debian_kernel.py --with-debug-elf caches them; .ci/run fetches them)


@pytest.fixture(scope="module")
def debug_elf():
    import importlib.util
    from pathlib import Path

    tool = Path(__file__).resolve().parent.parent / "tools" / "fetch_debian_kernel.py"
    if not tool.is_file():
        pytest.skip("tools/fetch_debian_kernel.py is absent")
    spec = importlib.util.spec_from_file_location("fetch_debian_kernel", tool)
    fetcher = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fetcher)
    paths = fetcher.cached(with_system_map=True, with_debug_elf=True)
    if paths is None:
        pytest.skip("no cached Debian debug vmlinux: run tools/fetch_debian_kernel.py --with-debug-elf")
    return paths


def test_real_vmlinux_holds_its_system_map(c_impl, debug_elf):
    """System.map is nm's output over this very vmlinux, filtered: every one
    of its (address, type, name) lines must be a symbol of from_elf."""
    table = c_impl.from_elf(debug_elf["vmlinux_elf"])
    ours = {(s.address, s.type, s.name) for s in table}
    system_map = []
    for line in debug_elf["system_map"].read_text().splitlines():
        address, letter, name = line.split()
        system_map.append((int(address, 16), letter, name))
    assert len(system_map) > 50_000
    assert [entry for entry in system_map if entry not in ours] == []
    assert table.has_sizes and table.modules == []


def test_real_vmlinux_matches_nm_and_the_reference(c_impl, ref_impl, debug_elf):
    if NM is None:
        pytest.skip("needs nm")
    path = debug_elf["vmlinux_elf"]
    c_table = c_impl.from_elf(path)
    want = sorted(nm_sized(path))
    assert sorted((s.address, c_table.size_of(i), s.type, s.name) for i, s in enumerate(c_table)) == want
    ref_table = ref_impl.from_elf(path)
    assert list(ref_table) == list(c_table)
    assert ref_table.kernel_arrays() == c_table.kernel_arrays()


def test_real_vmlinux_sizes_answer_like_the_kernel(c_impl, debug_elf):
    """A function's every byte names it, with its ELF size: schedule+0x10/0x...."""
    table = c_impl.from_elf(debug_elf["vmlinux_elf"])
    for name in ("schedule", "do_sys_open", "vfs_read"):
        i = table.lookup_name_index(name)
        if i is None:
            continue
        address, size = table[i].address, table.size_of(i)
        assert size > 0
        assert table.lookup_addr(address + size - 1).format() == f"{name}+{size - 1:#x}/{size:#x}"


def test_real_modules(c_impl, ref_impl, debug_elf):
    modules = [path for key, path in debug_elf.items() if key.startswith("debug_module:")]
    assert modules
    for path in modules:
        c_table, ref_table = c_impl.from_elf(path), ref_impl.from_elf(path)
        assert list(c_table) == list(ref_table)
        assert c_table.modules == [elf.module_of_path(path)]
        names = {s.name for s in c_table}
        assert "init_module" in names or "cleanup_module" in names or "__this_module" in names
        if NM is not None:
            assert sorted((s.address, c_table.size_of(i), s.type, s.name) for i, s in enumerate(c_table)) == \
                sorted(nm_sized(path))
