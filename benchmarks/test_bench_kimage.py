"""Kernel images (issue #5): finding and decoding the kernel's own kallsyms
tables in the cached Debian 12 amd64 kernel (tools/fetch_debian_kernel.py;
skipped when it is absent), C against the pure-Python reference.

- decode: the ELF vmlinux already extracted from the bzImage -> records
  (pysyms.kimage.decode_image, impl "c" / "python").
- end_to_end: the vmlinuz bytes -> a SymbolTable.  C: pysyms.kimage.
  table_from_image (bzImage header, C lz4, C locator, C builder).
  Reference: the lz4 blocks through bootimage.lz4_block_decode_py, the
  Python locator/decoder, pysyms.reference.SymbolTable.from_records.

Run: pytest benchmarks/test_bench_kimage.py --benchmark-only --benchmark-json=benchmarks/results/<name>.json
and ``python benchmarks/ratios.py`` for the C/reference ratios.
"""

import importlib.util
from pathlib import Path

import pytest

import pysyms.reference
from pysyms import kimage

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def debian_amd64():
    path = REPO / "tools" / "fetch_debian_kernel.py"
    if not path.is_file():
        pytest.skip("tools/fetch_debian_kernel.py is absent")
    spec = importlib.util.spec_from_file_location("fetch_debian_kernel", path)
    fetcher = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fetcher)
    paths = fetcher.cached(arch="amd64")
    if paths is None:
        pytest.skip("no cached Debian amd64 kernel: run tools/fetch_debian_kernel.py")
    from pysyms.bootimage import inspect_image
    vmlinuz = paths["vmlinuz"].read_bytes()
    image = inspect_image(vmlinuz)
    if image.compressor != "lz4":
        pytest.skip(f"the reference pipeline here expects an lz4 payload, not {image.compressor}")
    return vmlinuz, image


@pytest.mark.parametrize("impl", ["c", "reference"])
def test_decode(benchmark, debian_amd64, impl):
    _, image = debian_amd64
    name = "c" if impl == "c" else "python"
    rounds = 5 if impl == "c" else 1
    records, report = benchmark.pedantic(kimage.decode_image, args=(image.payload,), kwargs={"impl": name},
                                         rounds=rounds, iterations=1)
    assert len(records) == report["num_syms"] > 50000


def _reference_end_to_end(vmlinuz, image):
    from pysyms import bootimage
    payload = vmlinuz[image.payload_offset:image.payload_offset + image.payload_length]
    elf, _ = bootimage.unlz4_legacy(payload, block_decode=bootimage.lz4_block_decode_py)
    records, _ = kimage.decode_image(elf, impl="python")
    return pysyms.reference.SymbolTable.from_records([(a, t, n, None) for a, t, n in records])


@pytest.mark.parametrize("impl", ["c", "reference"])
def test_end_to_end(benchmark, debian_amd64, impl):
    vmlinuz, image = debian_amd64
    if impl == "c":
        table = benchmark.pedantic(kimage.table_from_image, args=(vmlinuz,), rounds=5, iterations=1)
    else:
        table = benchmark.pedantic(_reference_end_to_end, args=(vmlinuz, image), rounds=1, iterations=1)
    assert len(table) > 50000
