"""Suffix-aware matching (issue #3): ``matches``, ``lookup``,
``lookup_name_without_suffix`` and ``glob``, C against the reference against
a brute force written here from the definitions (DESIGN.md "Without
suffix", "Clone suffixes", "Ambiguity"), on hand-made cases, real compiler
output (Clang ThinLTO nm sample, the machine's GCC-built /proc/kallsyms, a
GCC LTO build made here) and hypothesis-generated tables."""

import random
import re
import shutil
import subprocess
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pysyms
from pysyms import AmbiguousSymbolError, SymbolNotFoundError
from pysyms.matching import glob_regex

POLICIES = ("none", "llvm", "clone")


# ---- the brute force: every name, the definitions, nothing shared ------------------------


def brute_matches(symbols, query, policy, module="*any*"):
    """[(index, kind)] for ``query`` over ``symbols`` (a list of Symbol in
    table order), from the definitions alone: restrict to the module, exact
    names win, else names cut at the first '.llvm.' (kind llvm) or, for
    'clone', at the first '.' (kind clone)."""
    if not query:
        return []
    pool = [(i, s.name) for i, s in enumerate(symbols) if module == "*any*" or s.module == module]
    exact = [(i, "exact") for i, name in pool if name == query]
    if exact or policy == "none":
        return exact
    out = []
    for i, name in pool:
        if name.partition(".llvm.")[0] == query:
            out.append((i, "llvm"))
        elif policy == "clone" and name.partition(".")[0] == query:
            out.append((i, "clone"))
    return out


class BruteIndex:
    """The brute force for every query at once: one pass over all names."""

    def __init__(self, symbols):
        self.symbols = symbols
        self.by_name, self.by_llvm, self.by_dot = {}, {}, {}
        for i, s in enumerate(symbols):
            self.by_name.setdefault(s.name, []).append(i)
            self.by_llvm.setdefault(s.name.partition(".llvm.")[0], []).append(i)
            self.by_dot.setdefault(s.name.partition(".")[0], []).append(i)

    def matches(self, query, policy):
        if not query:
            return []
        exact = self.by_name.get(query, [])
        if exact or policy == "none":
            return [(i, "exact") for i in exact]
        llvm = [i for i in self.by_llvm.get(query, []) if self.symbols[i].name != query]
        found = {i: "llvm" for i in llvm}
        if policy == "clone":
            for i in self.by_dot.get(query, []):
                found.setdefault(i, "clone")
        return sorted(found.items())


def as_pairs(matches):
    return [(m.index, m.kind) for m in matches]


def check_match_objects(table, matches):
    for m in matches:
        symbol = table[m.index]
        assert (m.address, m.type, m.name, m.module) == tuple(symbol)


# ---- seed cases -------------------------------------------------------------------------

SEED = [
    (0x1000, "t", "ping_table.llvm.15394922576589127018", None),
    (0x2000, "t", "c_start", None),
    (0x2100, "t", "c_start.llvm.111", None),
    (0x1800, "t", "c_start.llvm.222", None),
    (0x3000, "T", "foo_bar", None),
    (0x3100, "t", "foo.bar", None),
    (0x4000, "t", "dup.isra.0", None),
    (0x4100, "t", "dup.constprop.0", None),
    (0x4200, "t", "dup.llvm.9", None),
    (0x5000, "t", "modonly.isra.0", "ext4"),
    (0x5100, "t", "modonly", None),
    (0x5200, "t", "modonly.part.0", "xfs"),
    (0x6000, "t", "x.__uniq.12.llvm.34", None),
    (0x6100, "t", "tcp_show", None),
    (0x6200, "t", "tcp_v4_rcv", None),
    (0x6300, "t", "udp_show", "ext4"),
]


@pytest.fixture(scope="module")
def seed(impl):
    return impl.from_records(SEED)


def test_ping_table(seed):
    assert seed.lookup_name("ping_table") is None
    assert seed.lookup_name_without_suffix("ping_table") == 0x1000
    m = seed.lookup("ping_table", suffix="llvm")
    assert (m.name, m.kind, m.address) == ("ping_table.llvm.15394922576589127018", "llvm", 0x1000)
    assert seed.matches("ping_table") == []
    with pytest.raises(SymbolNotFoundError):
        seed.lookup("ping_table")


def test_exact_wins(seed):
    for policy in POLICIES:
        found = seed.matches("c_start", policy)
        assert [(m.name, m.kind) for m in found] == [("c_start", "exact")]
    assert seed.lookup_name_without_suffix("c_start") == 0x2000


def test_llvm_does_not_reach_other_names(seed):
    assert seed.matches("foo", "llvm") == []
    assert [(m.name, m.kind) for m in seed.matches("foo", "clone")] == [("foo.bar", "clone")]
    assert seed.lookup_name_without_suffix("foo") is None


def test_kinds_and_order(seed):
    found = seed.matches("dup", "clone")
    assert [(m.name, m.kind) for m in found] == [
        ("dup.isra.0", "clone"), ("dup.constprop.0", "clone"), ("dup.llvm.9", "llvm")]
    assert [m.address for m in found] == sorted(m.address for m in found)
    assert [(m.name, m.kind) for m in seed.matches("dup", "llvm")] == [("dup.llvm.9", "llvm")]
    check_match_objects(seed, found)


def test_clone_is_a_superset_of_llvm(seed):
    # a query with a dot: 'clone' still reaches what 'llvm' reaches
    for policy in ("llvm", "clone"):
        assert [(m.name, m.kind) for m in seed.matches("x.__uniq.12", policy)] == [
            ("x.__uniq.12.llvm.34", "llvm")]
    assert [(m.name, m.kind) for m in seed.matches("x", "clone")] == [("x.__uniq.12.llvm.34", "clone")]


def test_ambiguous(seed):
    with pytest.raises(AmbiguousSymbolError) as info:
        seed.lookup("dup", suffix="clone")
    err = info.value
    assert isinstance(err, pysyms.Error) and isinstance(err, LookupError)
    assert [c.name for c in err.candidates] == ["dup.isra.0", "dup.constprop.0", "dup.llvm.9"]
    for c in err.candidates:
        assert c.name in str(err) and f"{c.address:#x}" in str(err) and c.kind in str(err)
    assert "vmlinux" in str(err)


def test_sympos(seed):
    assert seed.lookup("dup", "clone", sympos=1).name == "dup.isra.0"
    assert seed.lookup("dup", "clone", sympos=3).name == "dup.llvm.9"
    with pytest.raises(SymbolNotFoundError) as info:
        seed.lookup("dup", "clone", sympos=4)
    assert isinstance(info.value, pysyms.Error) and isinstance(info.value, LookupError)
    with pytest.raises(ValueError):
        seed.lookup("dup", "clone", sympos=-1)
    with pytest.raises(TypeError):
        seed.lookup("dup", "clone", sympos="1")
    with pytest.raises(ValueError):
        seed.matches("dup", "weird")


def test_module_filter_applies_first(seed):
    # core kernel has plain 'modonly': exact wins overall ...
    assert [m.name for m in seed.matches("modonly", "clone")] == ["modonly"]
    # ... but within ext4 there is no exact name, so its clone answers
    for found in (seed.matches("modonly", "clone", module="ext4"), seed.matches("ext4:modonly", "clone")):
        assert [(m.name, m.module, m.kind) for m in found] == [("modonly.isra.0", "ext4", "clone")]
    assert seed.lookup("xfs:modonly", "clone").name == "modonly.part.0"
    assert seed.lookup("vmlinux:modonly", "clone").name == "modonly"
    assert seed.lookup("modonly", "clone", module="vmlinux").module is None
    assert seed.matches("ext4:modonly") == []
    assert seed.matches("nosuchmod:modonly", "clone") == []
    assert seed.matches(b"ext4:modonly", "clone")[0].name == "modonly.isra.0"
    with pytest.raises(SymbolNotFoundError):
        seed.lookup("nosuchmod:modonly", "clone")


def test_bytes_and_odd_queries(seed):
    assert seed.matches(b"dup", "llvm")[0].name == "dup.llvm.9"
    for query in ("", ".", "dup.", "dup.llvm", "dup.llvm.", "x" * 600):
        for policy in POLICIES:
            assert as_pairs(seed.matches(query, policy)) == brute_matches(list(seed), query, policy)
    assert seed.lookup_name_without_suffix("") is None


def test_c_and_reference_same_errors(c_impl, ref_impl):
    tables = [cls.from_records(SEED) for cls in (c_impl, ref_impl)]
    messages = []
    for t in tables:
        with pytest.raises(AmbiguousSymbolError) as info:
            t.lookup("dup", "clone")
        messages.append(str(info.value))
    assert messages[0] == messages[1]


# ---- glob -------------------------------------------------------------------------------


GLOB_CASES = [
    ("tcp_*", ["tcp_show", "tcp_v4_rcv"]),
    ("*_show", ["tcp_show", "udp_show"]),
    ("?cp_*", ["tcp_show", "tcp_v4_rcv"]),
    ("[tu]*_show", ["tcp_show", "udp_show"]),
    ("[!t]*_show", ["udp_show"]),
    ("[^t]*_show", ["udp_show"]),
    ("[a-t]cp*", ["tcp_show", "tcp_v4_rcv"]),
    ("dup.*", ["dup.isra.0", "dup.constprop.0", "dup.llvm.9"]),
    ("c_start", ["c_start"]),
    ("c_start*", ["c_start.llvm.222", "c_start", "c_start.llvm.111"]),
    ("*", None),
    ("nothing*", []),
    ("[", []),
]


@pytest.mark.parametrize("pattern,expected", GLOB_CASES)
def test_glob_cases(seed, pattern, expected):
    got = list(seed.glob(pattern))
    symbols = list(seed)
    if expected is None:
        assert got == symbols
        return
    assert [s.name for s in got] == expected
    order = [symbols.index(s) for s in got]
    assert order == sorted(order)


MATCHER_CASES = [
    (b"a*b", b"ab", True), (b"a*b", b"axxb", True), (b"a*b", b"axxbc", False),
    (b"a?c", b"abc", True), (b"a?c", b"ac", False), (b"[]]", b"]", True), (b"[]a]x", b"ax", True),
    (b"[!]]", b"a", True), (b"[!]]", b"]", False), (b"[a-]", b"-", True), (b"[z-a]", b"m", False),
    (b"[!z-a]", b"m", True), (b"[ab", b"[ab", True), (b"a\\*", b"a*", True), (b"a\\*", b"ab", False),
    (b"a\\", b"a\\", True), (b"*", b"", True), (b"", b"", True), (b"", b"a", False),
    (b"**a**", b"bab", True), (b"[a-c]*[0-9]", b"b_x7", True), (b"[\\]", b"\\", True),
]


@pytest.mark.parametrize("pattern,name,expected", MATCHER_CASES)
def test_glob_matcher(pattern, name, expected):
    from pysyms._native import lib
    assert bool(lib.ksym_glob_match(pattern, len(pattern), name, len(name))) == expected
    assert bool(glob_regex(pattern).fullmatch(name)) == expected


GLOB_ALPHABET = b"ab._*?[]!^-\\x"


@settings(max_examples=400)
@given(st.binary(max_size=10).map(lambda b: bytes(GLOB_ALPHABET[x % len(GLOB_ALPHABET)] for x in b)),
       st.binary(max_size=12).map(lambda b: bytes(b"ab._x-]["[x % 8] for x in b)))
def test_glob_matcher_vs_regex(pattern, name):
    from pysyms._native import lib
    assert bool(lib.ksym_glob_match(pattern, len(pattern), name, len(name))) == bool(
        glob_regex(pattern).fullmatch(name))


# ---- property: random names with real suffix shapes --------------------------------------

STEMS = ["foo", "foo_bar", "bar", "ping_table", "c_start", "x", "tcp_v4", ".str", ".str.1", "a.b"]
SUFFIXES = ["", "", ".isra.0", ".isra.1", ".constprop.0", ".part.3", ".cold", ".lto_priv.0",
            ".lto_priv.12", ".__uniq.4242", ".specialized.1", ".argelim", ".llvm.15394922576589127018",
            ".llvm.7", ".llvm.", ".isra.0.llvm.5", ".cold.llvm.6", ".llvm.1.llvm.2", "_x", ".", "-y"]


@st.composite
def suffix_tables(draw):
    n = draw(st.integers(1, 60))
    records = []
    for _ in range(n):
        name = draw(st.sampled_from(STEMS)) + draw(st.sampled_from(SUFFIXES))
        if draw(st.integers(0, 9)) == 0:
            name += draw(st.sampled_from(SUFFIXES))
        records.append((draw(st.integers(0, 40)) * 16, draw(st.sampled_from("tTdb")), name,
                        draw(st.sampled_from([None, None, None, "ext4", "xfs"]))))
    return records


QUERIES = STEMS + ["foo.isra", "foo.isra.0", "ping", "foo.", "x.llvm", "", "c_start.llvm.7", ".str.1.llvm"]


@given(suffix_tables(), st.sampled_from(QUERIES), st.sampled_from(POLICIES),
       st.sampled_from([None, "ext4", "xfs", "vmlinux"]))
def test_indexed_equals_brute_force(c_impl, ref_impl, records, query, policy, module):
    c_table, ref_table = c_impl.from_records(records), ref_impl.from_records(records)
    symbols = list(c_table)
    want_module = "*any*" if module is None else (None if module == "vmlinux" else module)
    expected = brute_matches(symbols, query, policy, want_module)
    for table in (c_table, ref_table):
        got = table.matches(query, policy, module=module)
        assert as_pairs(got) == expected
        check_match_objects(table, got)
    llvm = brute_matches(symbols, query, "llvm")
    # lowest address = lowest index: the table is in address order
    want = symbols[llvm[0][0]].address if llvm else None
    assert c_table.lookup_name_without_suffix(query) == want
    assert ref_table.lookup_name_without_suffix(query) == want


@given(suffix_tables(), st.sampled_from([b"foo*", b"*.isra.*", b"*.llvm.?", b"[fx]*", b"[!f]*", b"*",
                                         b"foo", b"c_start.llvm.*", b"?", b"*_*", b".str*"]))
def test_glob_c_vs_reference_vs_regex(c_impl, ref_impl, records, pattern):
    c_table, ref_table = c_impl.from_records(records), ref_impl.from_records(records)
    regex = re.compile(glob_regex(pattern).pattern, re.DOTALL)
    expected = [s for s in c_table if regex.fullmatch(s.name.encode("utf-8", "surrogateescape"))]
    assert list(c_table.glob(pattern)) == expected
    assert list(ref_table.glob(pattern)) == expected
    indexes = [i for i, s in enumerate(c_table) if regex.fullmatch(s.name.encode("utf-8", "surrogateescape"))]
    assert list(c_table.glob_indexes(pattern)) == indexes
    assert list(ref_table.glob_indexes(pattern)) == indexes


# ---- real compiler output ------------------------------------------------------------------


def stems_of(names):
    stems = set()
    for name in names:
        if "." in name:
            stems.add(name.partition(".")[0])
            stems.add(name.partition(".llvm.")[0])
            head = name
            while "." in head:  # every dot-prefix: foo.isra, foo.isra.0, ...
                head = head.rpartition(".")[0]
                stems.add(head)
    stems.discard("")
    return sorted(stems)


def check_stems(tables, stems):
    brute = BruteIndex(list(tables[0]))
    checked = 0
    for stem in stems:
        for policy in POLICIES:
            expected = brute.matches(stem, policy)
            for table in tables:
                assert as_pairs(table.matches(stem, policy)) == expected, (stem, policy)
            checked += bool(expected)
    return checked


def test_clang_thinlto_sample(c_impl, ref_impl, shared_data):
    path = shared_data / "clang-thinlto-redis.nm"
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    tables = [c_impl.from_file(path), ref_impl.from_file(path)]
    names = tables[0].names()
    llvm_names = [n for n in names if ".llvm." in n]
    assert len(llvm_names) > 1000
    stems = stems_of(names)
    assert check_stems(tables, stems) > 400
    # every .llvm. name is reachable from its stem, and .str.1 style stems work
    for name in llvm_names[:200]:
        stem = name.partition(".llvm.")[0]
        found = tables[0].matches(stem, "llvm")
        assert name in [m.name for m in found] or tables[0].lookup_name(stem) is not None


def test_kallsyms_gcc_clones(c_kallsyms, ref_kallsyms):
    names = c_kallsyms.names()
    stems = stems_of(names)
    assert sum(".isra." in n or ".constprop." in n or ".cold" in n for n in names) > 0
    # C on every stem; the reference (slow) on a sample
    assert check_stems([c_kallsyms], stems) > 100
    sample = random.Random(3).sample(stems, min(150, len(stems)))
    check_stems([c_kallsyms, ref_kallsyms], sample)
    for pattern in ("tcp_*", "*_show", "?cp_v4_*", "[a-c]*_init"):
        regex = glob_regex(pattern.encode())
        expected = [s for s in c_kallsyms if regex.fullmatch(s.name.encode("utf-8", "surrogateescape"))]
        assert list(c_kallsyms.glob(pattern)) == expected
        assert [c_kallsyms[i] for i in c_kallsyms.glob_indexes(pattern)] == expected
    assert list(ref_kallsyms.glob("tcp_v4_*")) == list(c_kallsyms.glob("tcp_v4_*"))
    assert ref_kallsyms.glob_indexes("tcp_v4_*") == c_kallsyms.glob_indexes("tcp_v4_*")


# ---- a GCC LTO build: .lto_priv.N, .isra, .constprop --------------------------------------

LTO_SOURCES = {
    "a.c": """
        #include <stdlib.h>
        static int counter;
        __attribute__((noinline)) static int helper(int x) { counter += x; return counter * 3; }
        __attribute__((noinline)) static int scale(int k, int x) { return k * x + counter; }
        __attribute__((noinline)) static int unused_arg(int *p, int unused) { return *p * 7 + counter; }
        int a_entry(int v) { int z = v; return helper(v) + scale(5, v) + unused_arg(&z, 0); }
    """,
    "b.c": """
        static int counter;
        __attribute__((noinline)) static int helper(int x) { counter -= x; return counter * 5; }
        __attribute__((noinline)) static int scale(int k, int x) { return k * x - counter; }
        int b_entry(int v) { return helper(v) + scale(9, v) + scale(9, v + 1); }
    """,
    "main.c": """
        #include <stdio.h>
        #include <stdlib.h>
        int a_entry(int); int b_entry(int);
        int main(int argc, char **argv) {
            int v = argc > 1 ? atoi(argv[1]) : 2;
            printf("%d\\n", a_entry(v) + b_entry(v));
            return 0;
        }
    """,
}


@pytest.fixture(scope="module")
def gcc_lto_nm(tmp_path_factory):
    gcc, nm = shutil.which("gcc"), shutil.which("nm")
    if not gcc or not nm:
        pytest.skip("gcc or nm is not installed")
    work = tmp_path_factory.mktemp("lto")
    for name, text in LTO_SOURCES.items():
        (work / name).write_text(textwrap.dedent(text))
    exe = work / "prog"
    build = subprocess.run([gcc, "-O2", "-flto", "-o", str(exe), *sorted(LTO_SOURCES)], cwd=work,
                           capture_output=True, text=True, timeout=300)
    if build.returncode != 0:
        pytest.skip(f"gcc -flto failed: {build.stderr[-2000:]}")
    listing = subprocess.run([nm, "-n", str(exe)], capture_output=True, timeout=60, check=True).stdout
    out = work / "prog.nm"
    out.write_bytes(listing)
    return out


def test_gcc_lto_build(c_impl, ref_impl, gcc_lto_nm):
    text = gcc_lto_nm.read_text()
    assert ".lto_priv." in text, text
    clones = [n for n in ("scale", "unused_arg") if f" {n}.constprop." in text or f" {n}.isra." in text]
    tables = [c_impl.from_file(gcc_lto_nm), ref_impl.from_file(gcc_lto_nm)]
    names = tables[0].names()
    assert check_stems(tables, stems_of(names)) > 0
    for t in tables:
        found = t.matches("helper", "clone")
        assert len(found) == 2 and {m.kind for m in found} == {"clone"}
        assert all(m.name.startswith("helper.lto_priv.") for m in found)
        assert t.matches("helper", "llvm") == []
        with pytest.raises(AmbiguousSymbolError):
            t.lookup("helper", "clone")
        assert t.lookup("helper", "clone", sympos=2).address > t.lookup("helper", "clone", sympos=1).address
        # static data renamed by LTO too (counter.lto_priv.N), and GCC's IPA clones when present
        assert [m.name.split(".")[1] for m in t.matches("counter", "clone")] == ["lto_priv", "lto_priv"]
        for stem in clones:
            found = t.matches(stem, "clone")
            assert found and all(m.kind == "clone" and m.name.startswith(stem + ".") for m in found)
