"""The machine's own /proc/kallsyms (a snapshot per session, see conftest):
round trip, name and address lookups against plain computations over the
file, and the C table against the reference (one reference build per
session)."""

import os
import random
from bisect import bisect_right
from collections import defaultdict

import pytest

import oracle

U64_MAX = (1 << 64) - 1


@pytest.fixture(scope="module")
def file_records(kallsyms_data):
    """The file's records in file order, parsed plainly."""
    return oracle.split_kallsyms_lines(kallsyms_data)


@pytest.fixture(scope="module")
def file_oracle(file_records):
    return oracle.Oracle(file_records)


@pytest.fixture(scope="module")
def addresses_by_name(file_records):
    out = defaultdict(list)
    for r in file_records:
        out[r.name].append(r.address)
    return out


def test_file_is_in_kernel_order(file_records, file_oracle):
    """/proc/kallsyms lists core symbols in the kernel's table order, module
    symbols after them: the oracle's sort keeps the core part as it is (this
    checks the oracle's sort against the kernel's own)."""
    core = [r for r in file_records if r.module is None]
    assert [r for r in file_oracle.recs if r.module is None] == core


def test_count(c_kallsyms, file_records):
    assert len(c_kallsyms) == len(file_records)
    assert len(file_records) > 1000


def test_round_trip_in_order(c_kallsyms, file_oracle):
    got = [tuple(s) for s in c_kallsyms]
    want = file_oracle.symbols()
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        assert g == w, f"symbol {i}"


def test_getitem(c_kallsyms, file_oracle):
    want = file_oracle.symbols()
    rng = random.Random(1)
    for i in [0, 1, 255, 256, 257, len(want) - 1] + rng.sample(range(len(want)), 2000):
        assert tuple(c_kallsyms[i]) == want[i]
        assert tuple(c_kallsyms[i - len(want)]) == want[i]
    with pytest.raises(IndexError):
        c_kallsyms[len(want)]


def test_lookup_name_every_name(c_kallsyms, addresses_by_name):
    for name, addresses in addresses_by_name.items():
        assert c_kallsyms.lookup_name(name) == min(addresses), name


def test_lookup_all_every_name(c_kallsyms, addresses_by_name):
    for name, addresses in addresses_by_name.items():
        indexes = c_kallsyms.lookup_all(name)
        assert indexes == sorted(indexes), name
        assert [c_kallsyms[i].address for i in indexes] == sorted(addresses), name
        assert all(c_kallsyms[i].name.encode("utf-8", "surrogateescape") == name for i in indexes[:5])
        assert c_kallsyms.lookup_name_index(name) == indexes[0]


def test_lookup_absent_names(c_kallsyms, addresses_by_name):
    rng = random.Random(2)
    for name in rng.sample(sorted(addresses_by_name), 2000):
        for variant in (name + b"\x01", name[:-1], b"~" + name):
            if variant and variant not in addresses_by_name:
                assert c_kallsyms.lookup_name(variant) is None, variant
                assert c_kallsyms.lookup_all(variant) == []


def bisect_answer(model, q):
    """Plain bisect over the file's sorted addresses: (name, address, offset,
    size).  DESIGN.md "Address lookup": the next symbol bounds a symbol
    inside its region (one module, or the core kernel); the last symbol of a
    region's run covers only its own address (no region ends known here)."""
    sorted_addrs, modules, first_name_at = model
    if q < sorted_addrs[0] or q > sorted_addrs[-1]:
        return None
    k = bisect_right(sorted_addrs, q) - 1
    start = sorted_addrs[k]
    following = k + 1
    if following < len(sorted_addrs) and modules[following] == modules[k]:
        size = sorted_addrs[following] - start
    elif q == start:
        size = 0
    else:
        return None
    return first_name_at[start], start, q - start, size


@pytest.fixture(scope="module")
def address_model(file_oracle):
    """(addresses, modules) in kernel order (sorted by address) and the
    first alias's name at every address."""
    addrs = [r.address for r in file_oracle.recs]
    assert addrs == sorted(addrs)
    modules = [r.module for r in file_oracle.recs]
    first_name_at = {}
    for r in file_oracle.recs:  # kernel order: the first alias wins
        first_name_at.setdefault(r.address, oracle.to_str(r.name))
    return addrs, modules, first_name_at


def random_probes(addrs, count=10_000, seed=3):
    rng = random.Random(seed)
    return [rng.randint(addrs[0], addrs[-1]) for _ in range(count)]


def test_random_addresses(c_kallsyms, address_model):
    addrs = address_model[0]
    probes = random_probes(addrs) + [addrs[0], addrs[-1], addrs[0] - 1, addrs[-1] + 1, 0, U64_MAX]
    for q in probes:
        info = c_kallsyms.lookup_addr(q)
        want = bisect_answer(address_model, q)
        if want is None:
            assert info is None, hex(q)
        else:
            assert info is not None, hex(q)
            assert (info.name, info.address, info.offset, info.size) == want, hex(q)
            assert c_kallsyms[info.index].address == info.address
            assert c_kallsyms[info.index].name == info.name


def test_every_symbol_address(c_kallsyms, file_oracle):
    def answer(q):
        info = c_kallsyms.lookup_addr(q)
        return None if info is None else tuple(info)

    for q in sorted(set(file_oracle.addresses)):
        assert answer(q) == file_oracle.lookup_addr(q), hex(q)
        if q > file_oracle.addresses[0]:
            assert answer(q - 1) == file_oracle.lookup_addr(q - 1), hex(q - 1)


def test_structure(c_kallsyms, file_records):
    oracle.check_arrays(c_kallsyms.kernel_arrays(), file_records)


def test_names_figures(c_kallsyms, file_records):
    prefixes = sum(plen for _, plen, _ in oracle.split_names(c_kallsyms.kernel_arrays()["names"]))
    name_bytes = sum(len(oracle.normalise(r).name) for r in file_records)
    assert c_kallsyms._names_figures() == (prefixes, name_bytes)


def test_c_equals_reference(c_kallsyms, ref_kallsyms):
    assert len(c_kallsyms) == len(ref_kallsyms)
    c_arrays, ref_arrays = c_kallsyms.kernel_arrays(), ref_kallsyms.kernel_arrays()
    for key in ref_arrays:
        assert c_arrays[key] == ref_arrays[key], key
    assert list(c_kallsyms) == list(ref_kallsyms)
    assert c_kallsyms._names_figures() == ref_kallsyms._names_figures()


def test_reference_lookups(ref_kallsyms, file_oracle, address_model):
    """The reference's lookups on a sample (they are slow in pure Python)."""
    rng = random.Random(4)
    names = rng.sample(sorted(file_oracle.by_name), 300)
    for name in names:
        assert ref_kallsyms.lookup_all(name) == file_oracle.lookup_all(name), name
        assert ref_kallsyms.lookup_name(name) == file_oracle.lookup_name(name), name
    for q in random_probes(address_model[0], 2000, seed=5):
        info = ref_kallsyms.lookup_addr(q)
        got = None if info is None else (info.name, info.address, info.offset, info.size)
        assert got == bisect_answer(address_model, q), hex(q)


def test_from_kallsyms_default_path(c_impl):
    """from_kallsyms() with no argument reads /proc/kallsyms itself (the
    count may move if BPF programs load meanwhile: retry once)."""
    try:
        with open("/proc/kallsyms", "rb") as f:
            data = f.read()
    except OSError as exc:
        pytest.skip(f"cannot read /proc/kallsyms: {exc}")
    if not any(int(line.split()[0], 16) for line in data.splitlines() if line.strip()):
        pytest.skip("/proc/kallsyms shows zero addresses")
    for attempt in range(2):
        table = c_impl.from_kallsyms()
        with open("/proc/kallsyms", "rb") as f:
            lines = len(oracle.split_kallsyms_lines(f.read()))
        if len(table) == lines or attempt:
            break
    assert len(table) == lines
    assert table.lookup_name(oracle.split_kallsyms_lines(data)[0].name) is not None


@pytest.mark.skipif(not os.environ.get("PYSYMS_SLOW_TESTS"),
                    reason="~100 s in pure Python: set PYSYMS_SLOW_TESTS=1")
def test_independent_compressor(c_kallsyms, file_records):
    """The real table against tests/oracle.py's plain compressor (slow)."""
    assert c_kallsyms.kernel_arrays() == oracle.expected_arrays(file_records)
