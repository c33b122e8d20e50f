"""Sample data beside the project (../shared/data, reached only through the
skipping ``shared_data`` fixture): nm -n output of a clang ThinLTO build of
redis-server."""

import random

import pytest

import oracle

NM_FILE = "clang-thinlto-redis.nm"


@pytest.fixture(scope="module")
def nm_path(shared_data):
    path = shared_data / NM_FILE
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    return path


@pytest.fixture(scope="module")
def nm_records(nm_path):
    return oracle.split_kallsyms_lines(nm_path.read_bytes())


@pytest.fixture(scope="module")
def nm_oracle(nm_records):
    return oracle.Oracle(nm_records)


@pytest.fixture(scope="module")
def nm_tables(nm_path, c_impl, ref_impl):
    return {"c": c_impl.from_file(str(nm_path)), "ref": ref_impl.from_file(str(nm_path))}


@pytest.fixture(params=["c", "ref"])
def nm_table(request, nm_tables):
    return nm_tables[request.param]


def test_undefined_lines_skipped(nm_table, nm_path):
    lines = nm_path.read_bytes().splitlines()
    assert len(lines) == 5865
    assert len(nm_table) == 5624
    undefined = {line.split()[1] for line in lines if len(line.split()) == 2}
    assert b"malloc" in undefined
    assert nm_table.lookup_name("malloc") is None
    assert nm_table.lookup_all("_ITM_deregisterTMCloneTable") == []


def test_round_trip(nm_table, nm_oracle):
    assert [tuple(s) for s in nm_table] == nm_oracle.symbols()


def test_lookups(nm_table, nm_oracle):
    for name in sorted(nm_oracle.by_name):
        assert nm_table.lookup_all(name) == nm_oracle.lookup_all(name), name
        assert nm_table.lookup_name(name) == nm_oracle.lookup_name(name), name
    assert len(nm_table.lookup_all("sdslen")) == 10
    addrs = nm_oracle.addresses
    rng = random.Random(6)
    for q in [0, addrs[0], addrs[-1], addrs[-1] + 1] + [rng.randint(addrs[0], addrs[-1]) for _ in range(3000)]:
        info = nm_table.lookup_addr(q)
        want = nm_oracle.lookup_addr(q)
        assert (None if info is None else tuple(info)) == want, hex(q)


def test_llvm_suffixes_are_exact(nm_table, nm_oracle):
    """Exact lookup never strips ``.llvm.<hash>``: a stem without its own
    symbol is not found; each suffixed name finds itself."""
    suffixed = [n for n in nm_oracle.by_name if b".llvm." in n]
    assert len(suffixed) > 400
    stems = {n.split(b".llvm.")[0] for n in suffixed} - set(nm_oracle.by_name)
    assert stems
    for stem in sorted(stems)[:200]:
        assert nm_table.lookup_name(stem) is None, stem
    for name in suffixed[:300]:
        assert nm_table.lookup_name(name) == nm_oracle.lookup_name(name)


def test_c_equals_reference(nm_tables):
    assert nm_tables["c"].kernel_arrays() == nm_tables["ref"].kernel_arrays()
    assert list(nm_tables["c"]) == list(nm_tables["ref"])


def test_structure_and_independent_compressor(nm_tables, nm_records):
    arrays = nm_tables["c"].kernel_arrays()
    oracle.check_arrays(arrays, nm_records)
    assert arrays == oracle.expected_arrays(nm_records)
