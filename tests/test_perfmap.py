"""perf-PID.map files (issue #6): the reader of pysyms/perfmap.py, sized
JIT symbols with spaces in their names, C against the reference."""

import random

import pytest

import pysyms
from pysyms import perfmap

MAP = b"""\
7f3a1c000000 40 JS:~render /srv/app.js:12
7f3a1c000040 0x80 LazyCompile:*main node:internal/main:3
7f3a1c000100 20 py::compute:/usr/lib/x.py

7f3a1c000120 0 stub_without_size\r
7f3a1c000200 10 [OptimizedTier1] System.String::Concat(string,string)
"""


@pytest.fixture
def map_path(tmp_path):
    path = tmp_path / "perf-4242.map"
    path.write_bytes(MAP)
    return path


def test_records():
    records = perfmap.parse_perf_map(MAP)
    assert records[0] == (0x7f3a1c000000, "T", b"JS:~render /srv/app.js:12", None, 0x40)
    assert records[1][4] == 0x80 and records[3] == (0x7f3a1c000120, "T", b"stub_without_size", None, 0)
    assert len(records) == 5


def test_lookups(impl, map_path):
    table = impl.from_perf_map(map_path)
    assert table.has_sizes
    info = table.lookup_addr(0x7f3a1c000045)
    assert (info.name, info.offset, info.size) == ("LazyCompile:*main node:internal/main:3", 5, 0x80)
    assert table.lookup_addr(0x7f3a1c0000c0) is None            # past main's 0x80 bytes: a gap
    assert table.lookup_addr(0x7f3a1c000119).name == "py::compute:/usr/lib/x.py"
    assert table.lookup_addr(0x7f3a1c000150).name == "stub_without_size"  # unsized: to the next
    assert table.lookup_addr(0x7f3a1c000210) is None
    assert table.lookup_name("JS:~render /srv/app.js:12") == 0x7f3a1c000000
    assert table.format([0x7f3a1c000205]) == ["[OptimizedTier1] System.String::Concat(string,string)+0x5/0x10"]


def test_from_file_knows_the_name(impl, map_path, tmp_path):
    assert [tuple(s) for s in impl.from_file(map_path)] == [tuple(s) for s in impl.from_perf_map(map_path)]
    other = tmp_path / "jit.txt"
    other.write_bytes(MAP)
    with pytest.raises(pysyms.ParseError):
        impl.from_file(other)  # not named like a perf map: read as nm text, which it is not


def test_c_and_reference_agree_on_a_random_map(c_impl, ref_impl, tmp_path):
    rng = random.Random(5)
    lines, start = [], 0x7f0000000000
    words = ["JS:~f", "LazyCompile:*g", "py::h:/x.py", "Interpreter", "[Tier0] A::B(int)", "stub"]
    for k in range(3000):
        start += rng.choice([0, 0x10, 0x40, 0x100, 0x1000])
        lines.append(f"{start:x} {rng.choice([0, 8, 0x40, 0x200]):x} {rng.choice(words)} {k}.js:{k % 97}")
    path = tmp_path / "perf-1.map"
    path.write_text("\n".join(lines) + "\n")
    c_table, r_table = c_impl.from_perf_map(path), ref_impl.from_perf_map(path)
    assert list(c_table) == list(r_table)
    assert c_table.kernel_arrays() == r_table.kernel_arrays()
    probes = [rng.randrange(0x7f0000000000 - 10, start + 0x300) for _ in range(3000)]
    for q in probes:
        assert c_table.lookup_addr(q) == r_table.lookup_addr(q), hex(q)
    r_table._provenance = c_table.provenance
    data = c_table.to_bytes()
    assert data == r_table.to_bytes()
    opened = c_impl.from_bytes(data)
    assert all(opened.lookup_addr(q) == c_table.lookup_addr(q) for q in probes[:500])


@pytest.mark.parametrize("text,line,what", [
    (b"7f00 10\n", 1, "START SIZE NAME"),
    (b"7f00 10 ok\nzz 10 bad\n", 2, "start address"),
    (b"7f00 1g name\n", 1, "size"),
    (b"7f00 10 a\tb\n", 1, "tab"),
    (b"7f00 10  leading\n", 1, "space"),
    (b"7f00 10 " + b"x" * 512 + b"\n", 1, "longer"),
    (b"\n\n", 0, "no symbols"),
    (b"10000000000000000 10 big\n", 1, "start address"),
])
def test_bad_maps_name_the_line(impl, tmp_path, text, line, what):
    path = tmp_path / "perf-7.map"
    path.write_bytes(text)
    with pytest.raises(pysyms.ParseError) as info:
        impl.from_perf_map(path)
    assert info.value.line == line and what in info.value.reason
    assert info.value.path == str(path)


def test_spaces_only_for_perf_maps(impl):
    with pytest.raises(pysyms.InvalidSymbolError):
        impl.from_records([(0x10, "T", "a b", None)])


def test_cli_reads_a_perf_map(map_path):
    from cli_process import run_pysyms_process

    result = run_pysyms_process(["addr", "--source", str(map_path), "0x7f3a1c000045", "0x7f3a1c0000c0"])
    assert result.returncode == 1  # the second address lies in a gap
    assert result.stdout.splitlines() == ["LazyCompile:*main node:internal/main:3+0x5/0x80", "0x7f3a1c0000c0"]
