"""The address index of unsorted batches (csrc/addrindex.c): bucket tables
over clusters of addresses, built on the first batch of at least 4,096
addresses, and the module-run bits that then answer every region question.

Tables here have clusters of 1,024 symbols and more (the index skips smaller
ones), gaps wider than a cluster's 16 MiB, clusters at the top of the
address space, module runs, aliases and sizes.  Answers come from the
brute-force oracle (tests/oracle.py), for the batch and for one-by-one
lookups after the index exists."""

import random
from array import array

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import oracle
import pysyms

U64_MAX = (1 << 64) - 1
INDEX_MIN_BATCH = 4096  # csrc/batch.c
BIG_GAP = (1 << 24) + 1  # wider than csrc/addrindex.c's CLUSTER_GAP


def cluster_records(rng, base, count, max_gap, modules, sized, tag):
    """count symbols from base up, gaps 0 (aliases) to max_gap, in module
    runs drawn from modules."""
    out, address = [], base
    module = rng.choice(modules)
    for k in range(count):
        if rng.random() < 0.02:
            module = rng.choice(modules)
        size = rng.choice([0, 0, 1, rng.randrange(1, 2 * max_gap + 2)]) if sized else 0
        out.append((address, rng.choice("tTdD"), f"{tag}_{k}", module, size))
        address += rng.choice([0, 1, rng.randrange(1, max_gap + 1)])
    return out, address


def layout_records(rng, clusters, sized):
    """Clusters one after another, BIG_GAP or more apart; a base of None
    puts the cluster right below the top of the address space."""
    records, address = [], 0x1000
    for n, (count, max_gap, top) in enumerate(clusters):
        if top:
            base = U64_MAX - count * max_gap - 1
            if base < address:
                continue
        else:
            base = address
        recs, address = cluster_records(rng, base, count, max_gap, [None, "ext4", "kvm"], sized, f"c{n}")
        records += recs
        if top:
            break  # nothing fits above it
        address += BIG_GAP + rng.randrange(0, 1 << 30)
    return records


def probes(records, rng, count):
    """Batch addresses: at, around and between symbols, in gaps, at the ends."""
    addresses = sorted({r[0] for r in records})
    picks = [0, U64_MAX, addresses[0], addresses[-1]]
    for _ in range(count):
        a = rng.choice(addresses)
        kind = rng.random()
        if kind < 0.5:
            picks.append(min(a + rng.randrange(0, 4096), U64_MAX))
        elif kind < 0.7:
            picks.append(max(a - rng.randrange(1, 64), 0))
        elif kind < 0.9:
            picks.append(a)
        else:
            picks.append(rng.randrange(0, U64_MAX + 1))
    rng.shuffle(picks)
    return picks


def expected(orc, addresses):
    indexes, offsets = [], []
    for a in addresses:
        hit = orc.lookup_addr(a)
        indexes.append(-1 if hit is None else hit[5])
        offsets.append(0 if hit is None else hit[2])
    return indexes, offsets


def check(records, rng, batch=INDEX_MIN_BATCH + 500):
    table = pysyms.SymbolTable.from_records(records)
    orc = oracle.Oracle(records)
    addresses = probes(records, rng, batch)
    before = table.memory_size()
    indexes, offsets = table.symbolize(array("Q", addresses))
    want = expected(orc, addresses)
    assert list(indexes) == want[0]
    assert list(offsets) == want[1]
    # The index stays with the table: counted, and used by later batches,
    # short ones too, and by one-by-one lookups through its module bits.
    assert table.memory_size() > before
    short = addresses[:100]
    indexes, offsets = table.symbolize(array("Q", short))
    assert (list(indexes), list(offsets)) == (want[0][:100], want[1][:100])
    for a, i in zip(addresses[:1500], want[0]):
        info = table.lookup_addr(a)
        assert (-1 if info is None else info.index) == i
    text = table.format(addresses[:2000] + addresses[:INDEX_MIN_BATCH], "%pS")
    assert text[:2000] == text[2000:4000]


@settings(max_examples=15, deadline=None)
@given(
    st.lists(st.tuples(st.integers(900, 1400), st.sampled_from([1, 16, 700, 5000, 1 << 20]), st.booleans()),
             min_size=1, max_size=11),
    st.booleans(),
    st.integers(0, 2**32),
)
def test_batches_match_the_oracle(clusters, sized, seed):
    rng = random.Random(seed)
    records = layout_records(rng, clusters, sized)
    if not records:
        return
    check(records, rng)


def test_more_clusters_than_the_index_holds():
    """Eleven clusters of different sizes: the index keeps the 8 largest and
    the others are searched without it."""
    rng = random.Random(5)
    clusters = [(1024 + 37 * k, 300, False) for k in (3, 9, 1, 7, 10, 0, 5, 2, 8, 4, 6)]
    check(layout_records(rng, clusters, sized=False), rng)


def test_cluster_ending_at_the_top_of_the_address_space():
    rng = random.Random(9)
    records = [(U64_MAX - 2000 + 2 * k, "t", f"top_{k}", None, 0) for k in range(1001)]
    records += [(0x10000 + 64 * k, "T", f"low_{k}", "mod" if k % 500 < 40 else None, 0) for k in range(3000)]
    check(records, rng)


def test_one_dense_run_of_aliases():
    """Thousands of symbols at one address share one bucket: the in-bucket
    search halves before it counts."""
    rng = random.Random(2)
    records = [(0x5000, "T", f"alias_{k}", None, 0) for k in range(3000)]
    records += [(0x5000 + 16 * k, "t", f"after_{k}", None, 0) for k in range(1, 2000)]
    check(records, rng)


def test_real_kallsyms_after_the_index(c_kallsyms, ref_kallsyms):
    """The running kernel: one big batch builds the index; then one-by-one
    lookups (which use its module bits) still equal the reference's."""
    rng = random.Random(11)
    lo, hi = c_kallsyms[0].address, c_kallsyms[len(c_kallsyms) - 1].address
    sample = [c_kallsyms[rng.randrange(len(c_kallsyms))].address + rng.randrange(0, 256) for _ in range(20000)]
    sample += [rng.randrange(lo, hi + 1) for _ in range(5000)]
    indexes, offsets = c_kallsyms.symbolize(array("Q", sample))
    ref_indexes, ref_offsets = ref_kallsyms.symbolize(array("Q", sample))
    assert list(indexes) == list(ref_indexes)
    assert list(offsets) == list(ref_offsets)
    for a in sample[:3000]:
        got, want = c_kallsyms.lookup_addr(a), ref_kallsyms.lookup_addr(a)
        assert (got and tuple(got)) == (want and tuple(want))
