"""pysyms.kimage: the kernel's own kallsyms tables, found and decoded in a
kernel image (issue 5), by the C locator (csrc/kimage.c) and the
pure-Python reference (pysyms/kimage.py).

- Every layout the kernel shipped (tests/kernel_image.py: shipped_layouts):
  a table written in that layout decodes, with both implementations, to
  exactly the symbols written, at exactly the offsets written; the two
  implementations find the same layout; the decoded records fed to our
  builder give the arrays in the blob byte for byte.  The same inside an ELF
  file with a symbol table (hints) and without one (structure only).
- The Clang LTO orders of seqs_of_names (6.2 .. 6.10) are detected and
  reported; the table built from the image is in full-name order anyway.
- Corrupted and random inputs: never a crash; the C and Python decoders give
  the same records or both raise pysyms.Error; changes outside the tables
  change nothing.  Under ASan/UBSan: the fuzz target csrc/fuzz_kimage.c.
- Real Debian kernels when tools/fetch_debian_kernel.py has cached them
  (skipped otherwise): counts, the System.map, byte compatibility, C vs
  Python.
"""

import importlib.util
import os
import struct
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pysyms
import pysyms.reference
from pysyms import kimage
from pysyms.kimage import KernelImageError

import kernel_image as ki

REPO = Path(__file__).resolve().parents[1]
LAYOUTS = ki.shipped_layouts()
LAYOUT_IDS = [name for name, _ in LAYOUTS]


def records_for(layout, n=700, seed=3, **kw):
    return ki.sample_records(n, seed=seed, word=layout.word,
                             percpu=20 if layout.addresses == "absolute-percpu" else 0,
                             long_names=3 if layout.long_prefixes else 0, **kw)


@pytest.fixture(scope="module", params=LAYOUTS, ids=LAYOUT_IDS)
def written(request):
    name, layout = request.param
    table = pysyms.SymbolTable.from_records(records_for(layout, seed=len(name)))
    return name, layout, table, ki.write(table, layout)


def blob_arrays(data, report, base=0):
    """The kernel arrays found in an image, in kernel_arrays() form
    (markers as u32 and token_index as u16 little-endian, like our builder)."""
    off, size = report["offsets"], report["sizes"]
    e = "<" if report["endianness"] == "little" else ">"

    def raw(name):
        return bytes(data[base + off[name]:base + off[name] + size[name]])

    mw = report["marker_bytes"]
    markers = raw("kallsyms_markers")
    values = struct.unpack(f"{e}{len(markers) // mw}{'I' if mw == 4 else 'Q'}", markers)
    return {
        "names": raw("kallsyms_names"),
        "markers": struct.pack(f"<{len(values)}I", *values),
        "token_table": raw("kallsyms_token_table"),
        "token_index": struct.pack("<256H", *struct.unpack(f"{e}256H", raw("kallsyms_token_index"))),
        "seqs_of_names": raw("kallsyms_seqs_of_names") if "kallsyms_seqs_of_names" in off else None,
    }


def check_byte_compatible(records, data, report, base=0):
    rebuilt = pysyms.SymbolTable.from_records([(a, t, n, None) for a, t, n in records]).kernel_arrays()
    found = blob_arrays(data, report, base)
    for key, value in found.items():
        if value is not None:
            assert rebuilt[key] == value, key


# ---- every shipped layout --------------------------------------------------------

@pytest.mark.parametrize("impl", ["c", "python"])
def test_shipped_layout_decodes(written, impl):
    name, layout, table, blob = written
    records, report = kimage.decode_image(blob.data, impl=impl, vaddr=blob.vaddr)
    assert records == blob.records
    assert report["offsets"] == blob.offsets
    assert report["num_syms"] == len(table)
    assert report["order"] == layout.order
    assert report["address_kind"] == layout.addresses
    assert report["endianness"] == layout.endian
    assert report["alignment"] == layout.alignment
    assert report["marker_bytes"] == layout.counts
    assert report["seqs_of_names"] == layout.seqs
    assert report["seqs_order"] == ("full" if layout.seqs else None)
    if layout.order != "7.0" or layout.addresses == "absolute32":
        assert report["word_size"] == layout.word  # 7.0 has no pointer-sized field: see test_word_hint
    if layout.addresses in ("base-relative", "absolute-percpu"):
        assert report["relative_base"] == blob.records[0 if layout.addresses == "base-relative" else 20][0]
    if layout.long_prefixes:
        assert report["long_prefixes"] == 3


def test_c_and_python_find_the_same_layout(written):
    _, _, _, blob = written
    c = kimage.locate(blob.data, impl="c", vaddr=blob.vaddr)
    py = kimage.locate(blob.data, impl="python", vaddr=blob.vaddr)
    assert c["layout"] == py["layout"]


def test_byte_compatible(written):
    _, _, table, blob = written
    records, report = kimage.decode_image(blob.data, vaddr=blob.vaddr)
    check_byte_compatible(records, blob.data, report)
    assert pysyms.SymbolTable.from_records([(a, t, n, None) for a, t, n in records]).kernel_arrays() \
        == table.kernel_arrays()


def test_without_vaddr(written):
    """The blob's offsets are aligned like its virtual addresses, so nothing
    but place-relative addresses needs the vaddr; those come out relative to
    the buffer's first byte."""
    _, layout, _, blob = written
    records, report = kimage.decode_image(blob.data)
    assert report["offsets"] == blob.offsets
    if layout.addresses == "place-relative":
        mask = (1 << 64) - 1 if report["word_size"] == 8 else 0xFFFFFFFF
        assert [((a + blob.vaddr) & mask, t, n) for a, t, n in records] == blob.records
        assert report["vaddr"] is None
    else:
        assert records == blob.records


@pytest.mark.parametrize("symtab", [True, False], ids=["symtab", "stripped"])
@pytest.mark.parametrize("impl", ["c", "python"])
def test_inside_elf(written, symtab, impl):
    _, layout, _, blob = written
    elf, file_offsets = ki.wrap_elf(blob, symtab=symtab)
    records, report = kimage.decode_image(elf, impl=impl)
    assert records == blob.records  # place-relative: vaddr from the PT_LOAD segment
    assert report["offsets"] == file_offsets
    assert report["word_size"] == layout.word  # from the ELF header
    assert report["vaddr"] is not None
    assert (report["elf"]["symbols"] != []) == symtab
    table, report2 = kimage.table_from_image(elf, impl=impl, report=True)
    assert [(s.address, s.type, s.name) for s in table] == blob.records
    assert report2["layout"] == report["layout"]


def test_offset_hints(written):
    """Offsets from an ELF symbol table narrow the search; wrong ones make it fail."""
    _, _, _, blob = written
    records, report = kimage.decode_image(blob.data, vaddr=blob.vaddr, offsets=blob.offsets)
    assert records == blob.records
    wrong = dict(blob.offsets, kallsyms_names=blob.offsets["kallsyms_names"] + 8)
    for impl in ("c", "python"):
        with pytest.raises(KernelImageError, match="failed"):
            kimage.decode_image(blob.data, impl=impl, vaddr=blob.vaddr, offsets=wrong)


def test_era_hints(written):
    _, layout, _, blob = written
    records, _ = kimage.decode_image(blob.data, vaddr=blob.vaddr, order=layout.order, addresses=layout.addresses,
                                     endian=layout.endian, word=layout.word,
                                     prefix=2 if layout.long_prefixes else 1)
    assert records == blob.records
    other = "big" if layout.endian == "little" else "little"
    with pytest.raises(KernelImageError):
        kimage.decode_image(blob.data, vaddr=blob.vaddr, endian=other)


def test_word_hint_for_7_0():
    """7.0 has no pointer-sized field: a 32-bit place-relative table reads
    as 64-bit without a hint (same addresses below 4 GiB) and as 32-bit
    with word=4 (an ELF header gives it)."""
    layout = ki.Layout(order="7.0", addresses="place-relative", word=4, endian="little", vaddr=0xC1000000)
    table = pysyms.SymbolTable.from_records(records_for(layout))
    blob = ki.write(table, layout)
    for impl in ("c", "python"):
        records, report = kimage.decode_image(blob.data, impl=impl, vaddr=blob.vaddr)
        assert records == blob.records and report["word_size"] == 8
        records, report = kimage.decode_image(blob.data, impl=impl, vaddr=blob.vaddr, word=4)
        assert records == blob.records and report["word_size"] == 4
        assert report["address_kind"] == "place-relative"


def test_slide_and_relative_base_override(written):
    _, layout, _, blob = written
    mask = (1 << (8 * layout.word)) - 1
    records, report = kimage.decode_image(blob.data, vaddr=blob.vaddr, slide=0x200000)
    assert records == [((a + 0x200000) & mask, t, n) for a, t, n in blob.records]
    assert report["slide"] == 0x200000
    if layout.addresses == "base-relative":
        records, report = kimage.decode_image(blob.data, vaddr=blob.vaddr, relative_base=0)
        assert report["relative_base_source"] == "hint"
        assert records[0][0] == 0


def test_small_tables():
    """One marker, a handful of symbols, in every order."""
    for name, layout in LAYOUTS:
        percpu = 2 if layout.addresses == "absolute-percpu" else 0
        table = pysyms.SymbolTable.from_records(ki.sample_records(6, seed=9, word=layout.word, percpu=percpu))
        blob = ki.write(table, layout)
        for impl in ("c", "python"):
            records, report = kimage.decode_image(blob.data, impl=impl, vaddr=blob.vaddr)
            assert records == blob.records, (name, impl)
            assert report["offsets"] == blob.offsets, (name, impl)


def test_marker_boundaries():
    """Exactly 256 and 257 symbols (the last chunk full, or of one record)."""
    layout = ki.Layout(order="old", seqs=True)
    for n in (255, 256, 257, 512, 513):
        recs = ki.sample_records(n, seed=n)
        blob = ki.write(pysyms.SymbolTable.from_records(recs), layout)
        for impl in ("c", "python"):
            records, report = kimage.decode_image(blob.data, impl=impl)
            assert records == blob.records and report["num_syms"] == len(recs)


def test_weird_names():
    """Names with bytes >= 0x80 (not UTF-8 too) and punctuation."""
    layout = ki.Layout()
    recs = ki.sample_records(600, seed=5, weird=True, long_names=2)
    blob = ki.write(pysyms.SymbolTable.from_records(recs), layout)
    for impl in ("c", "python"):
        records, _ = kimage.decode_image(blob.data, impl=impl)
        assert records == blob.records
    assert any("\udcff" in n for _, _, n in blob.records)


def test_one_byte_prefix_era_rejects_long_records():
    layout = ki.Layout(order="old", seqs=False, long_prefixes=False)
    table = pysyms.SymbolTable.from_records(ki.sample_records(300, long_names=1))
    with pytest.raises(ValueError, match="two-byte"):
        ki.write(table, layout)


# ---- Clang LTO orders of seqs_of_names ------------------------------------------------

LTO_RECORDS = [
    (0xFFFFFFFF81000100, "t", "foo.cold", None),          # .text.unlikely before .text
    (0xFFFFFFFF81000200, "T", "foo", None),
    (0xFFFFFFFF81000050, "t", "bar.llvm.4242", None),
    (0xFFFFFFFF81000300, "T", "bar", None),
    (0xFFFFFFFF81000400, "T", "bar_helper", None),
    (0xFFFFFFFF81000500, "T", "digits_0123456789", None),
    (0xFFFFFFFF81000600, "T", "zap", None),
]


@pytest.mark.parametrize("order", ["lto-dot", "lto-llvm"])
@pytest.mark.parametrize("impl", ["c", "python"])
def test_lto_seqs_order_detected(order, impl):
    table = pysyms.SymbolTable.from_records(LTO_RECORDS * 1)
    for era in ("old", "6.4"):
        layout = ki.Layout(order=era, seqs_order=order)
        blob = ki.write(table, layout)
        records, report = kimage.decode_image(blob.data, impl=impl)
        assert records == blob.records
        assert report["seqs_order"] == order
        assert report["seqs_trustworthy"] is False
        rebuilt, report2 = kimage.table_from_image(blob.data, impl=impl, report=True)
        assert report2["seqs_order"] == order
        # our index is in full-name order whatever the image's was
        assert rebuilt.kernel_arrays()["seqs_of_names"] == table.kernel_arrays()["seqs_of_names"]
        assert rebuilt.lookup_name("foo") == 0xFFFFFFFF81000200
        assert rebuilt.lookup_name("bar") == 0xFFFFFFFF81000300


def test_lto_orders_differ():
    """The fixture really distinguishes the three orders."""
    table = pysyms.SymbolTable.from_records(LTO_RECORDS)
    symbols = list(table)
    full = table.kernel_arrays()["seqs_of_names"]
    assert len({full, ki.lto_seqs(symbols, "lto-dot"), ki.lto_seqs(symbols, "lto-llvm")}) == 3


def test_unsorted_seqs_reported():
    table = pysyms.SymbolTable.from_records(LTO_RECORDS)
    blob = ki.write(table, ki.Layout())
    data = bytearray(blob.data)
    off = blob.offsets["kallsyms_seqs_of_names"]
    # swap bar_helper and digits_0123456789 (name positions 2 and 3): no order has that
    data[off + 6:off + 12] = data[off + 9:off + 12] + data[off + 6:off + 9]
    for impl in ("c", "python"):
        _, report = kimage.decode_image(bytes(data), impl=impl)
        assert report["seqs_order"] == "unsorted"


# ---- errors and corrupted input ------------------------------------------------------

@pytest.mark.parametrize("impl", ["c", "python"])
def test_no_tables(impl):
    with pytest.raises(KernelImageError, match="no kallsyms token table found"):
        kimage.decode_image(b"\0" * 4096, impl=impl)
    with pytest.raises(KernelImageError, match="no kallsyms token table found"):
        kimage.decode_image(b"", impl=impl)
    assert issubclass(KernelImageError, pysyms.Error)


@pytest.mark.parametrize("impl", ["c", "python"])
def test_failure_messages_name_the_check(impl):
    layout = ki.Layout()
    blob = ki.write(pysyms.SymbolTable.from_records(ki.sample_records(600)), layout)
    data = bytearray(blob.data)
    # a marker that disagrees with the names
    m = blob.offsets["kallsyms_markers"]
    data[m + 4] ^= 0x01
    with pytest.raises(KernelImageError, match=r"candidate markers at byte \d+ .*markers disagree with names"):
        kimage.decode_image(bytes(data), impl=impl)
    # an index entry that disagrees with the token table
    data = bytearray(blob.data)
    data[blob.offsets["kallsyms_token_index"] + 2 * 0x41] ^= 0x01
    with pytest.raises(KernelImageError, match="no kallsyms_token_index matches it"):
        kimage.decode_image(bytes(data), impl=impl)
    # addresses out of order
    data = bytearray(blob.data)
    a = blob.offsets["kallsyms_offsets"]
    data[a + 4 * 100 + 3] = 0xFF
    with pytest.raises(KernelImageError, match="no address table"):
        kimage.decode_image(bytes(data), impl=impl)


def test_messages_agree():
    layout = ki.Layout(order="old", seqs=True)
    blob = ki.write(pysyms.SymbolTable.from_records(ki.sample_records(600)), layout)
    for pos in (blob.offsets["kallsyms_markers"] + 4, blob.offsets["kallsyms_num_syms"],
                blob.offsets["kallsyms_seqs_of_names"] + 10, blob.offsets["kallsyms_token_index"] + 100):
        data = bytearray(blob.data)
        data[pos] ^= 0x40
        outcomes = []
        for impl in ("c", "python"):
            try:
                outcomes.append(kimage.decode_image(bytes(data), impl=impl)[0])
            except KernelImageError as exc:
                outcomes.append(str(exc))
        assert outcomes[0] == outcomes[1]


def _seed_blobs():
    blobs = []
    for name, layout in LAYOUTS[::4] + [LAYOUTS[-1]]:
        recs = ki.sample_records(300, seed=11, word=layout.word,
                                 percpu=10 if layout.addresses == "absolute-percpu" else 0,
                                 long_names=1 if layout.long_prefixes else 0)
        blobs.append(ki.write(pysyms.SymbolTable.from_records(recs), layout))
    return blobs


SEED_BLOBS = _seed_blobs()


def both(data, **hints):
    """The outcome of both implementations: records, or the error message
    (never empty: it names the check that failed)."""
    out = []
    for impl in ("c", "python"):
        try:
            out.append(kimage.decode_image(data, impl=impl, **hints)[0])
        except KernelImageError as exc:
            assert str(exc)
            out.append(str(exc))
    return out


def test_every_failure_has_a_message():
    """A markers candidate whose last entry lies beyond the markers' own start
    (found by fuzzing: the failure used to carry no message)."""
    layout = ki.Layout(order="old", seqs=False)
    blob = ki.write(pysyms.SymbolTable.from_records(ki.sample_records(300)), layout)
    data = bytearray(blob.data)
    m = blob.offsets["kallsyms_markers"]
    data[m + 4:m + 8] = (blob.offsets["kallsyms_markers"] + 600).to_bytes(4, "little")
    c, py = both(bytes(data), prefix=1)
    assert c == py and "markers disagree with names" in c


@settings(max_examples=150)
@given(which=st.integers(0, len(SEED_BLOBS) - 1), edits=st.lists(
    st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), min_size=1, max_size=6))
def test_corrupted_blobs_c_and_python_agree(which, edits):
    blob = SEED_BLOBS[which]
    data = bytearray(blob.data)
    for where, value in edits:
        data[int(where * len(data))] = value
    c, py = both(bytes(data), vaddr=blob.vaddr)
    assert c == py


@settings(max_examples=60)
@given(which=st.integers(0, len(SEED_BLOBS) - 1), cut=st.floats(0, 1), keep_start=st.booleans())
def test_truncated_blobs(which, cut, keep_start):
    blob = SEED_BLOBS[which]
    k = int(cut * len(blob.data))
    data = blob.data[:k] if keep_start else blob.data[k:]
    c, py = both(data)
    assert c == py


@settings(max_examples=60)
@given(which=st.integers(0, len(SEED_BLOBS) - 1), lead=st.binary(max_size=64), trail=st.binary(max_size=64))
def test_changes_outside_the_tables_change_nothing(which, lead, trail):
    blob = SEED_BLOBS[which]
    first = min(blob.offsets.values())
    last = max(blob.offsets[k] + blob.sizes[k] for k in blob.offsets)
    # keep alignment: replace the unrelated bytes, pad the lead to a multiple of 8
    lead = lead + b"\x01" * (-len(lead) % 8)
    head = bytearray(blob.data[:first])
    head[:len(lead)] = lead[:len(head)]
    data = bytes(head) + blob.data[first:last] + trail
    c, py = both(data, vaddr=blob.vaddr)
    assert c == py == blob.records


@settings(max_examples=40)
@given(st.binary(max_size=3000), st.integers(0, 2000))
def test_random_bytes_around_a_digit_run(noise, pos):
    digits = b"".join(bytes((c, 0)) for c in b"0123456789")
    pos = min(pos, len(noise))
    data = noise[:pos] + digits + noise[pos:]
    c, py = both(data)
    assert c == py


def test_lying_layout_is_bounds_checked():
    """ksym_kimage_symbols / ksym_kimage_add check every read against the
    image whatever the layout says."""
    from pysyms._native import ffi, lib
    blob = SEED_BLOBS[0]
    layout = kimage.locate(blob.data)["layout"]
    for change in ({"num_syms": layout["num_syms"] + 1000}, {"offsets": [len(blob.data) - 3] * 8},
                   {"prefix_bytes": 3 - layout["prefix_bytes"]}, {"addr_kind": 9}, {"word": 5},
                   {"text_bytes": 10}):
        bad = dict(layout, **change)
        c = kimage._layout_to_c(ffi, bad)
        n = bad["num_syms"]
        addresses = ffi.new("uint64_t[]", n)
        types = ffi.new("char[]", n)
        buf = ffi.new("char[]", max(bad["text_bytes"], 1))
        written = ffi.new("size_t *")
        rc = lib.ksym_kimage_symbols(ffi.from_buffer(blob.data), len(blob.data), c, 0, addresses, types, buf,
                                     bad["text_bytes"], written)
        assert rc < 0 or rc == n
        assert written[0] <= bad["text_bytes"]


# ---- the fuzz target under ASan/UBSan -----------------------------------------------

FUZZ_SECONDS = float(os.environ.get("PYSYMS_FUZZ_SECONDS", "15"))


def test_fuzz_kimage_asan(tmp_path_factory):
    from test_c_sanitizers import CSRC, build_fuzz_driver, run_sanitized

    binary = build_fuzz_driver(tmp_path_factory, CSRC / "fuzz_kimage.c", "KSYM_FUZZ_KIMAGE")
    seeds = tmp_path_factory.mktemp("kimage_seeds")
    for i, (name, layout) in enumerate(LAYOUTS):
        recs = ki.sample_records(300, seed=i, word=layout.word,
                                 percpu=10 if layout.addresses == "absolute-percpu" else 0,
                                 long_names=2 if layout.long_prefixes else 0)
        (seeds / f"{name}.bin").write_bytes(ki.write(pysyms.SymbolTable.from_records(recs), layout).data)
    result = run_sanitized(binary, f"-seconds={FUZZ_SECONDS:g}", seeds)
    assert f"{len(LAYOUTS)} of {len(LAYOUTS)} seed inputs are found" in result.stdout, result.stdout
    runs = int(result.stdout.split("runs=")[1].split()[0])
    assert runs >= 100, result.stdout
    print(result.stdout.strip().splitlines()[-1])


# ---- real Debian kernels ------------------------------------------------------------

def _fetcher():
    path = REPO / "tools" / "fetch_debian_kernel.py"
    if not path.is_file():
        pytest.skip("tools/fetch_debian_kernel.py is absent")
    spec = importlib.util.spec_from_file_location("fetch_debian_kernel", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module", params=["amd64", "arm64", "s390x"])
def debian(request):
    arch = request.param
    paths = _fetcher().cached(arch=arch)
    if paths is None:
        pytest.skip(f"no cached Debian {arch} kernel: run tools/fetch_debian_kernel.py --arch {arch}")
    try:
        from pysyms.bootimage import inspect_image
    except ImportError:
        pytest.skip("pysyms.bootimage is absent")
    image = inspect_image(paths["vmlinuz"].read_bytes())
    return arch, paths, image


def test_debian_kernel(debian):
    arch, paths, image = debian
    data = image.payload
    t0 = time.perf_counter()
    records, report = kimage.decode_image(data)
    t_c = time.perf_counter() - t0
    assert report["num_syms"] == len(records) > 30000
    assert report["order"] == "old" and report["seqs_of_names"] and report["seqs_order"] == "full"
    assert report["word_size"] == 8
    assert report["endianness"] == ("big" if arch == "s390x" else "little")
    assert report["address_kind"] == ("absolute-percpu" if arch == "amd64" else "base-relative")
    assert all(records[i][0] <= records[i + 1][0] for i in range(len(records) - 1))
    names = {n for _, _, n in records}
    assert {"_stext", "_etext", "schedule", "printk" if arch == "s390x" else "_printk"} & names
    # byte compatibility: our builder rebuilds the kernel's own arrays
    check_byte_compatible(records, data, report)
    if arch == "arm64":
        assert report["relative_base_source"] == "relocations"
        assert report["relative_base"] == 0xFFFF800008010000  # _stext of a 48-bit VA arm64 6.1
    # the reference finds the same
    t0 = time.perf_counter()
    records_py, report_py = kimage.decode_image(data, impl="python")
    t_py = time.perf_counter() - t0
    assert records_py == records and report_py["layout"] == report["layout"]
    print(f"{arch}: {len(records)} symbols, C {t_c * 1000:.0f} ms, Python {t_py * 1000:.0f} ms "
          f"({t_py / t_c:.0f}x)")


def test_debian_system_map(debian):
    """Ground truth from the -dbg package: every decoded (address, name) is
    in the real System.map (for arm64 this checks the relative base found in
    the image's relocations), types agree but for per-cpu symbols."""
    arch, paths, image = debian
    if "system_map" not in paths:
        pytest.skip(f"no {arch} System.map cached: run tools/fetch_debian_kernel.py --arch {arch} "
                    "--with-system-map")
    if arch == "s390x":
        pytest.skip("the s390x relative base is relocated at boot (not in the image): see report notes")
    known = {}
    for line in paths["system_map"].read_text().splitlines():
        address, type_, name = line.split()
        known.setdefault((int(address, 16), name), type_)
    table, report = kimage.table_from_image(paths["vmlinuz"].read_bytes(), report=True)
    assert len(table) == report["num_syms"]
    differ = []
    for sym in table:
        assert (sym.address, sym.name) in known, sym
        if known[(sym.address, sym.name)] != sym.type:
            differ.append(sym)
    assert all(s.type == "A" for s in differ)  # per-cpu symbols are stored as 'A'
    if arch == "amd64":
        assert differ  # x86 has per-cpu symbols (absolute-percpu layout)
    assert table.lookup_name("schedule") == next(a for (a, n) in known if n == "schedule")


def test_symbol_table_from_vmlinux(debian):
    """The public entry points: SymbolTable.from_vmlinux on the boot image
    itself (decompression included), C against the reference."""
    arch, paths, _ = debian
    if arch != "amd64":
        pytest.skip("one architecture is enough for the API; the decoding is checked above")
    table = pysyms.SymbolTable.from_vmlinux(paths["vmlinuz"])
    assert table.provenance["source"] == str(paths["vmlinuz"])
    ref = pysyms.reference.SymbolTable.from_vmlinux(paths["vmlinuz"])
    assert table.kernel_arrays() == ref.kernel_arrays()
    assert list(table) == list(ref)
    schedule = table.lookup_name("schedule")
    assert table.lookup_addr(schedule + 1).name == "schedule"
    with pytest.raises(pysyms.KernelImageError):
        pysyms.SymbolTable.from_image(b"\x00" * 4096)


def test_table_over_the_kernels_own_arrays(written):
    """table_from_image takes the image's arrays as they are when it can
    (csrc/arrays.c) and rebuilds them otherwise: either way the table
    equals the one our builder makes from the decoded records."""
    _, _, table, blob = written
    records, _ = kimage.decode_image(blob.data, vaddr=blob.vaddr)
    got = kimage.table_from_image(blob.data, vaddr=blob.vaddr)
    assert got.kernel_arrays() == table.kernel_arrays()
    assert [(s.address, s.type, s.name) for s in got] == records
    for address, _, name in records[::37]:
        assert got.lookup_name(name) == table.lookup_name(name)
        assert got.lookup_addr(address) == table.lookup_addr(address)


@settings(max_examples=200)
@given(st.binary(min_size=0, max_size=600), st.binary(min_size=1, max_size=300), st.integers(0, 40),
       st.integers(0, 2**32 - 1))
def test_table_from_arrays_rejects_garbage(names, token_table, count, seed):
    """ksym_table_from_arrays on arbitrary arrays: a table or ECORRUPT, never
    a crash."""
    from pysyms._native import ffi, lib
    import random as _random
    rng = _random.Random(seed)
    token_index = bytes(rng.randrange(256) for _ in range(512))
    seqs = bytes(rng.randrange(256) for _ in range(3 * count))
    addresses = ffi.new("uint64_t[]", sorted(rng.randrange(2**64) for _ in range(max(count, 1))))
    out = ffi.new("struct ksym_table **")
    msg = ffi.new("char[]", 128)
    rc = lib.ksym_table_from_arrays(names, len(names), token_table, len(token_table), token_index, seqs,
                                    addresses, count, out, msg, 128)
    if rc == 0:
        table = pysyms.SymbolTable(ffi.gc(out[0], lib.ksym_table_free))
        assert len(table) == count
        list(table)
    else:
        assert rc in (lib.KSYM_ECORRUPT, lib.KSYM_ETOOMANY) and ffi.string(msg)


def test_cli_build_vmlinux(debian, tmp_path):
    arch, paths, _ = debian
    if arch != "amd64":
        pytest.skip("one architecture is enough for the command line")
    from cli_process import run_pysyms_process
    out = tmp_path / "debian.pysyms"
    done = run_pysyms_process(["build", "--vmlinux", str(paths["vmlinuz"]), "-o", str(out), "--json"])
    assert done.returncode == 0, done.stderr
    import json
    report = json.loads(done.stdout)
    assert report["symbols"] > 50000 and report["output"] == str(out) and report["file_bytes"] > 0
    done = run_pysyms_process(["lookup", "-t", str(out), "schedule"])
    assert done.returncode == 0 and " schedule" in done.stdout
    bad = tmp_path / "not-a-kernel"
    bad.write_bytes(b"\x00" * 10000)
    done = run_pysyms_process(["build", "--vmlinux", str(bad)])
    assert done.returncode == 2 and "Traceback" not in done.stderr
