"""pysyms.bootimage: boot images to kernel images (issue 5).

- LZ4: the C block decoder (csrc/lz4.c) against the pure-Python reference
  on blocks from a small encoder below (literal-only blocks and blocks with
  matches, overlapping ones included), on random bytes and on corrupted
  blocks: same bytes or the same verdict, never a crash; under ASan too
  (csrc/test_lz4.c).  The kernel's legacy framing around it.
- Synthetic boot images of every kind: bzImage with gzip/xz/lzma/bzip2/
  zstd/lz4 payloads, arm64 Image (raw, gzip'd, EFI zboot), s390, raw.
- Real Debian kernels when tools/fetch_debian_kernel.py has cached them
  (skipped otherwise): run ``tools/fetch_debian_kernel.py [--with-system-map]``
  and ``--arch arm64`` / ``--arch s390x`` first.
"""

import bz2
import gzip
import importlib.util
import lzma
import os
import random
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import pysyms
from pysyms import bootimage
from pysyms.bootimage import (BootImageError, Lz4Error, extract_kernel, inspect_image, lz4_block_decode,
                              lz4_block_decode_py, unlz4_legacy)

REPO = Path(__file__).resolve().parents[1]
CSRC = REPO / "csrc"
BLOCK_MAX = bootimage.LZ4_LEGACY_BLOCK_MAX
MAGIC = struct.pack("<I", bootimage.LZ4_LEGACY_MAGIC)


# ---- a tiny LZ4 block encoder (test-only) -----------------------------------


def _length_bytes(rest):
    out = bytearray()
    while rest >= 255:
        out.append(255)
        rest -= 255
    out.append(rest)
    return out


def lz4_sequence(literals, offset=0, match=0):
    """One sequence: literals, then (when match) a match of `match` >= 4 bytes
    `offset` bytes back."""
    lit = len(literals)
    ml = match - 4 if match else 0
    out = bytearray([(min(lit, 15) << 4) | (min(ml, 15) if match else 0)])
    if lit >= 15:
        out += _length_bytes(lit - 15)
    out += literals
    if match:
        out += struct.pack("<H", offset)
        if ml >= 15:
            out += _length_bytes(ml - 15)
    return bytes(out)


def lz4_literals_block(data):
    """A block of literals only."""
    return lz4_sequence(data)


def lz4_encode(data, *, max_offset=65535):
    """Greedy encoder: the last position of every 4-byte string; matches may
    overlap their own output (offset < length, e.g. 1 in a run).  Keeps the
    format's end rules (last 5 bytes literals, last match starting 12 bytes
    before the end), so the real lz4 tool accepts its blocks too."""
    data = bytes(data)
    n = len(data)
    out = bytearray()
    last = {}
    i = anchor = 0
    while i + 12 < n:
        key = data[i:i + 4]
        cand = last.get(key)
        last[key] = i
        if cand is not None and i - cand <= max_offset:
            m = 4
            while i + m + 5 < n and data[cand + m] == data[i + m]:
                m += 1
            out += lz4_sequence(data[anchor:i], i - cand, m)
            i += m
            anchor = i
        else:
            i += 1
    out += lz4_sequence(data[anchor:])
    return bytes(out)


def lz4_legacy(data, *, block=BLOCK_MAX, encode=lz4_encode, trailer=False, frames=1):
    """data in the kernel's legacy lz4 framing (optionally split into several
    frames, and with the u32 size trailer the kernel appends)."""
    chunks = [data[i:i + block] for i in range(0, len(data), block)] or [b""]
    out = bytearray()
    per_frame = max(1, -(-len(chunks) // frames))
    for k, chunk in enumerate(chunks):
        if k % per_frame == 0:
            out += MAGIC
        enc = encode(chunk)
        out += struct.pack("<I", len(enc)) + enc
    if trailer:
        out += struct.pack("<I", len(data) & 0xFFFFFFFF)
    return bytes(out)


def verdict(decode, block, capacity):
    try:
        return ("ok", decode(block, capacity))
    except Lz4Error as exc:
        return ("error", exc.code)


# ---- synthetic images -----------------------------------------------------------


def fake_elf(machine=62, size=6000, seed=1):
    """An ELF header (64-bit little-endian, e_machine) and compressible body."""
    rng = random.Random(seed)
    header = bytearray(64)
    header[:4] = b"\x7fELF"
    header[4] = 2
    header[5] = 1
    header[6] = 1
    struct.pack_into("<HH", header, 0x10, 2, machine)
    words = [b"kallsyms_", b"startup_64", b"\x00" * 8, b"Linux version 6.1.0", bytes(range(32))]
    body = bytearray()
    while len(body) < size:
        body += rng.choice(words) if rng.random() < 0.8 else bytes([rng.randrange(256)])
    return bytes(header + body[:size])


def with_size(data, payload):
    return payload + struct.pack("<I", len(data))


def compress(name, data):
    """data compressed as the kernel's build does (size appended except for gzip)."""
    if name == "gzip":
        return gzip.compress(data, mtime=0)
    if name == "xz":
        return with_size(data, lzma.compress(data, format=lzma.FORMAT_XZ, check=lzma.CHECK_CRC32))
    if name == "lzma":
        return with_size(data, lzma.compress(data, format=lzma.FORMAT_ALONE))
    if name == "bzip2":
        return with_size(data, bz2.compress(data))
    if name == "zstd":
        zstandard = pytest.importorskip("zstandard")
        return with_size(data, zstandard.ZstdCompressor(level=19).compress(data))
    if name == "lz4":
        return lz4_legacy(data, block=4096, trailer=True)
    raise ValueError(name)


def bzimage(payload, *, setup_sects=4, version=0x020F, pad_before=300, pad_after=0, length=None):
    """A bzImage: boot sector and setup (setup_sects * 512 + 512 bytes,
    'HdrS' at 0x202), then the protected-mode part: some decompressor bytes,
    the payload, and anything after it."""
    real_sects = setup_sects or 4
    setup = bytearray((real_sects + 1) * 512)
    setup[0:2] = b"MZ"
    setup[0x1F1] = setup_sects
    setup[0x1FE:0x200] = b"\x55\xaa"
    setup[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", setup, 0x206, version)
    struct.pack_into("<II", setup, 0x248, pad_before, len(payload) if length is None else length)
    pm = bytes(random.Random(7).randrange(256) for _ in range(pad_before)) + payload + b"\xcc" * pad_after
    return bytes(setup) + pm


def arm64_image(size=5000, seed=3):
    body = bytearray(fake_elf(size=size, seed=seed))
    body[:0x40] = bytes(0x40)
    body[0:2] = b"MZ"
    body[0x38:0x3C] = b"ARMd"
    return bytes(body)


def zboot(payload, comp="gzip", offset=0x200, trail=b""):
    head = bytearray(offset)
    head[0:2] = b"MZ"
    head[4:8] = b"zimg"
    struct.pack_into("<II", head, 8, offset, len(payload))
    head[0x18:0x18 + len(comp)] = comp.encode()
    head[0x38:0x3C] = b"\xcd\x23\x82\x81"
    return bytes(head) + payload + trail


def s390_image(kernel, name="xz", decoy=True):
    head = bytearray(0x10100)
    head[0:8] = bytes.fromhex("0008000080000200")
    head[0x10008:0x1000E] = b"S390EP"
    if decoy:  # a magic that is not a stream, as in the real decompressor's code
        head[0x10080:0x10086] = b"\xfd7zXZ\x00"
    stream = compress(name, kernel)
    return bytes(head) + stream + bytes(556) + b" zIPL"


# ---- LZ4 blocks ---------------------------------------------------------------------


HAND_BLOCKS = [
    (b"", ("error", "corrupt")),
    (b"\x00", ("ok", b"")),
    (b"\x50hello", ("ok", b"hello")),
    (b"\x22ab\x02\x00\x10!", ("ok", b"abababab!")),  # overlapping, offset 2
    (b"\x1fx\x01\x00\x01\x00", ("ok", b"x" * 21)),  # offset 1, extended match length
    (b"\x10a\x00\x00\x00", ("error", "corrupt")),  # offset 0
    (b"\x10a\x02\x00\x00", ("error", "corrupt")),  # offset before the start
    (b"\x10a\x01\x00", ("error", "corrupt")),  # ends after a match
    (b"\x10a\x01", ("error", "corrupt")),  # half an offset
    (b"\xf0\xff", ("error", "corrupt")),  # literal length cut
    (b"\x30ab", ("error", "corrupt")),  # literals past the end
    (b"\xf0\x00" + b"L" * 15, ("ok", b"L" * 15)),  # 15 literals: one 0 extension byte
    (b"\xf0\xff\x01" + b"L" * 271, ("ok", b"L" * 271)),  # 15 + 255 + 1
]


@pytest.mark.parametrize("block, expected", HAND_BLOCKS, ids=range(len(HAND_BLOCKS)))
def test_hand_made_blocks(block, expected):
    assert verdict(lz4_block_decode, block, 1 << 16) == expected
    assert verdict(lz4_block_decode_py, block, 1 << 16) == expected


def test_capacity_is_exact():
    block = lz4_encode(b"abc" * 100 + b"tail of the block")
    n = len(b"abc" * 100 + b"tail of the block")
    for decode in (lz4_block_decode, lz4_block_decode_py):
        assert len(decode(block, n)) == n
        with pytest.raises(Lz4Error) as info:
            decode(block, n - 1)
        assert info.value.code == "nospace"
        assert isinstance(info.value, pysyms.Error)
    assert lz4_block_decode(b"\x00", 0) == b""


def test_huge_lengths_are_bounded():
    # a match length of ~75 kB from 300 input bytes, into a small buffer; and
    # one whose length bytes never end
    block = b"\x1fz\x01\x00" + b"\xff" * 295 + b"\x00"
    assert verdict(lz4_block_decode, block, 16) == ("error", "nospace")
    assert verdict(lz4_block_decode_py, block, 16) == ("error", "nospace")
    assert verdict(lz4_block_decode, block, 1 << 20) == ("error", "corrupt")  # ends after its match
    assert len(lz4_block_decode(block + b"\x00", 1 << 20)) == 1 + 15 + 255 * 295 + 4
    unterminated = b"\x1fz\x01\x00" + b"\xff" * 296
    assert verdict(lz4_block_decode, unterminated, 1 << 20) == ("error", "corrupt")


def test_encoder_makes_matches():
    data = b"A" * 100 + b"0123456789" * 20 + b"end of data"
    block = lz4_encode(data)
    assert len(block) < len(data) // 3
    assert lz4_block_decode(block, len(data)) == data == lz4_block_decode_py(block, len(data))


def test_literals_only_blocks():
    for n in (0, 1, 14, 15, 16, 269, 270, 271, 525, 70000):
        data = bytes(random.Random(n).randrange(256) for _ in range(n))
        block = lz4_literals_block(data)
        assert lz4_block_decode(block, n) == data == lz4_block_decode_py(block, n)


compressible = st.one_of(
    st.binary(max_size=3000),
    st.lists(st.sampled_from([b"a", b"b", b"ab", b"xyz", b"\x00" * 7, b"kallsyms_"]), max_size=400).map(b"".join),
    st.tuples(st.binary(min_size=1, max_size=9), st.integers(1, 500)).map(lambda t: t[0] * t[1]),
)


@given(compressible)
def test_roundtrip_c_equals_python(data):
    block = lz4_encode(data)
    assert lz4_block_decode(block, len(data)) == data
    assert lz4_block_decode_py(block, len(data)) == data


@given(compressible, st.integers(1, 300))
def test_roundtrip_short_offsets(data, max_offset):
    block = lz4_encode(data, max_offset=max_offset)
    assert lz4_block_decode(block, BLOCK_MAX) == data == lz4_block_decode_py(block, BLOCK_MAX)


@given(st.binary(max_size=400), st.integers(0, 5000))
def test_random_blocks_same_verdict(block, capacity):
    assert verdict(lz4_block_decode, block, capacity) == verdict(lz4_block_decode_py, block, capacity)


@given(compressible, st.lists(st.tuples(st.sampled_from(["flip", "set", "cut", "insert", "delete"]),
                                        st.integers(0, 1 << 16), st.integers(0, 255)), min_size=1, max_size=4),
       st.integers(0, 4000))
def test_corrupted_blocks_same_verdict(data, edits, capacity):
    block = bytearray(lz4_encode(data))
    for op, where, value in edits:
        i = where % (len(block) + 1)
        if op == "flip" and i < len(block):
            block[i] ^= 1 << (value % 8)
        elif op == "set" and i < len(block):
            block[i] = value
        elif op == "cut":
            del block[i:]
        elif op == "insert":
            block[i:i] = bytes([value])
        elif op == "delete" and i < len(block):
            del block[i]
    block = bytes(block)
    for cap in (capacity, len(data)):
        assert verdict(lz4_block_decode, block, cap) == verdict(lz4_block_decode_py, block, cap)


# The C decoder copies in 8- and 16-byte chunks where both buffers have room
# and exactly near their ends: blocks of short sequences with offsets 1..20
# and lengths around the chunk sizes, decoded with capacities around their
# output length (matches and literals ending exactly at the capacity, a few
# bytes before it), against the reference.

EDGE_LENGTHS = [0, 1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 14, 15, 16, 17, 18, 19, 20, 23, 24, 25, 31, 32, 33,
                47, 48, 49, 63, 64, 65, 66, 80, 270]

edge_sequences = st.lists(st.tuples(st.sampled_from(EDGE_LENGTHS), st.integers(1, 20),
                                    st.sampled_from([n for n in EDGE_LENGTHS if n >= 4])), max_size=6)


def edge_block(sequences, last, seed=0):
    """(block, output length): the sequences (literal count, offset, match
    length), offsets clamped to the output so far, then `last` literals."""
    rng = random.Random(seed)
    block = bytearray()
    n = 0
    for nlit, offset, mlen in sequences:
        nlit = max(nlit, 1) if n == 0 else nlit
        block += lz4_sequence(bytes(rng.randrange(256) for _ in range(nlit)), min(offset, n + nlit), mlen)
        n += nlit + mlen
    block += lz4_sequence(bytes(rng.randrange(256) for _ in range(last)))
    return bytes(block), n + last


@given(edge_sequences, st.sampled_from(EDGE_LENGTHS), st.integers(-3, 40), st.integers(0, 1 << 16))
def test_chunk_edges_same_as_python(sequences, last, extra, seed):
    block, n = edge_block(sequences, last, seed)
    capacity = max(0, n + extra)
    assert verdict(lz4_block_decode, block, capacity) == verdict(lz4_block_decode_py, block, capacity)
    assert verdict(lz4_block_decode, block, n) == verdict(lz4_block_decode_py, block, n)
    if extra >= 0:
        assert len(lz4_block_decode(block, capacity)) == n


@pytest.mark.parametrize("offset", range(1, 41))
def test_every_short_offset(offset):
    # a match at each offset 1..40 of each length 4..70, then 0..20 literals:
    # ends exactly at the capacity, within a chunk of it, one byte short
    rng = random.Random(offset)
    for mlen in range(4, 71):
        last = rng.randrange(21)
        head = bytes(rng.randrange(256) for _ in range(offset))
        block = lz4_sequence(head, offset, mlen) + lz4_sequence(bytes(rng.randrange(256) for _ in range(last)))
        n = offset + mlen + last
        for capacity in (n, n + 1, n + 15, n + 16, n - 1, offset + mlen - 1):
            assert verdict(lz4_block_decode, block, capacity) == verdict(lz4_block_decode_py, block, capacity)
        assert lz4_block_decode(block, n)[offset:offset + mlen] == (head * (mlen // offset + 1))[:mlen]


@given(st.binary(max_size=400))
def test_output_at_most_255_per_input_byte(block):
    # the bound unlz4_legacy sizes its buffer with
    try:
        out = lz4_block_decode(block, 1 << 20)
    except Lz4Error:
        return
    assert len(out) <= bootimage.LZ4_MAX_RATIO * len(block)


def test_densest_block_fits_its_bound():
    for k in (0, 1, 10, 1000):
        block = b"\x1fx\x01\x00" + b"\xff" * k + b"\xfe\x00"
        n = 1 + 19 + 255 * k + 254
        assert len(lz4_block_decode(block, 1 << 20)) == n <= bootimage.LZ4_MAX_RATIO * len(block)
        stream = MAGIC + struct.pack("<I", len(block)) + block
        out, consumed = unlz4_legacy(stream)
        assert out == b"x" * n and consumed == len(stream)
        assert unlz4_legacy(stream, n)[0] == out
        with pytest.raises(BootImageError, match=f"more than {n - 1} bytes"):
            unlz4_legacy(stream, n - 1)


# ---- legacy framing ------------------------------------------------------------------


@pytest.mark.parametrize("frames", [1, 3])
@pytest.mark.parametrize("trailer", [False, True])
def test_legacy_framing(frames, trailer):
    data = fake_elf(size=20000)
    stream = lz4_legacy(data, block=3000, trailer=trailer, frames=frames)
    assert stream.count(MAGIC) >= frames
    out, consumed = unlz4_legacy(stream)
    assert out == data
    assert consumed == len(stream) - (4 if trailer else 0)
    assert unlz4_legacy(stream, block_decode=lz4_block_decode_py) == (out, consumed)


def test_legacy_output_is_the_decoders_buffer():
    data = fake_elf(size=30000)
    stream = lz4_legacy(data, block=7000, trailer=True)
    out, _ = unlz4_legacy(stream)
    assert type(out) is bytearray and out == data
    assert type(unlz4_legacy(stream, block_decode=lz4_block_decode_py)[0]) is bytearray
    info = inspect_image(bzimage(compress("lz4", data)))
    assert type(info.payload) is bytearray and info.payload == data
    # bytes-like enough for its users (pysyms.kimage)
    assert info.payload[:4] == b"\x7fELF" and b"kallsyms_" in info.payload
    assert info.payload.find(b"startup_64") == data.find(b"startup_64")


def test_legacy_max_output_at_the_limit():
    data = fake_elf(size=20000)
    stream = lz4_legacy(data, block=3000)
    for decode in (None, lz4_block_decode_py):
        assert unlz4_legacy(stream, len(data), block_decode=decode)[0] == data
        with pytest.raises(BootImageError, match=f"more than {len(data) - 1} bytes"):
            unlz4_legacy(stream, len(data) - 1, block_decode=decode)


def test_legacy_many_small_blocks_allocate_little():
    # the output buffer is sized by what the blocks can give (255 bytes per
    # input byte), not 8 MiB per block
    import tracemalloc
    data = bytes(range(256)) * 40
    stream = lz4_legacy(data, block=10)
    tracemalloc.start()
    try:
        out, _ = unlz4_legacy(stream)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert out == data and peak < 4 << 20


def test_legacy_framing_errors():
    data = fake_elf(size=9000)
    stream = lz4_legacy(data, block=2000, trailer=True)
    with pytest.raises(BootImageError, match="not lz4 legacy"):
        unlz4_legacy(b"\x02\x21\x4c\x19" + stream[4:])
    with pytest.raises(BootImageError, match="no complete block"):
        unlz4_legacy(MAGIC + struct.pack("<I", 100) + b"x" * 10)
    first = struct.unpack_from("<I", stream, 4)[0]
    broken = MAGIC + struct.pack("<I", 5) + b"\x10a\x00\x00\x00" + stream[8 + first:]
    with pytest.raises(Lz4Error, match="block 0 .*corrupt") as info:
        unlz4_legacy(broken)
    assert info.value.code == "corrupt"
    with pytest.raises(BootImageError, match="more than 5000 bytes"):
        unlz4_legacy(stream, max_output=5000)


def test_legacy_block_too_big():
    # a block that decompresses to more than 8 MiB breaks the framing's rule
    big = b"\x1f\x00\x01\x00" + b"\xff" * (BLOCK_MAX // 255 + 10) + b"\x00\x00"
    stream = MAGIC + struct.pack("<I", len(big)) + big
    with pytest.raises(Lz4Error, match="block 0") as info:
        unlz4_legacy(stream)
    assert info.value.code == "nospace"


@pytest.mark.skipif(shutil.which("lz4") is None, reason="the lz4 tool is not installed")
def test_against_the_lz4_tool(tmp_path):
    data = b"".join(p.read_bytes() for p in sorted((REPO / "pysyms").glob("*.py")))
    data += bytes(random.Random(5).randrange(256) for _ in range(5000)) + b"\x00" * 100000
    src = tmp_path / "data"
    src.write_bytes(data)
    # theirs -> ours
    subprocess.run(["lz4", "-l", "-f", "-q", str(src), str(tmp_path / "theirs.lz4")], check=True)
    theirs = (tmp_path / "theirs.lz4").read_bytes()
    assert theirs[:4] == MAGIC
    assert unlz4_legacy(theirs)[0] == data
    # ours -> theirs
    (tmp_path / "ours.lz4").write_bytes(lz4_legacy(data, block=65536))
    subprocess.run(["lz4", "-d", "-f", "-q", str(tmp_path / "ours.lz4"), str(tmp_path / "back")], check=True)
    assert (tmp_path / "back").read_bytes() == data


# ---- boot images ---------------------------------------------------------------------

COMPRESSORS = ["gzip", "xz", "lzma", "bzip2", "zstd", "lz4"]


@pytest.mark.parametrize("name", COMPRESSORS)
def test_bzimage(name):
    kernel = fake_elf()
    image = bzimage(compress(name, kernel))
    assert extract_kernel(image) == ("elf", kernel)
    info = inspect_image(image)
    assert (info.container, info.compressor, info.arch) == ("bzImage", name, "x86_64")
    assert info.payload_offset == 5 * 512 + 300


@pytest.mark.parametrize("setup_sects", [0, 1, 4, 27])
def test_bzimage_setup_sects(setup_sects):
    kernel = fake_elf(machine=3)
    info = inspect_image(bzimage(compress("gzip", kernel), setup_sects=setup_sects, pad_after=64))
    assert info.kind == "elf" and info.payload == kernel and info.arch == "i386"
    assert info.payload_offset == ((setup_sects or 4) + 1) * 512 + 300


def test_bzimage_errors():
    kernel = fake_elf()
    payload = compress("xz", kernel)
    with pytest.raises(BootImageError, match="protocol 2.06"):
        extract_kernel(bzimage(payload, version=0x0206))
    with pytest.raises(BootImageError, match="does not fit"):
        extract_kernel(bzimage(payload, length=len(payload) + 1))
    with pytest.raises(BootImageError, match="unknown compressor: first bytes 11 22 33"):
        extract_kernel(bzimage(b"\x11\x22\x33" + payload))
    with pytest.raises(BootImageError, match="LZO"):
        extract_kernel(bzimage(b"\x89LZO\x00\r\n\x1a\n" + payload))
    with pytest.raises(BootImageError, match="truncated xz"):
        extract_kernel(bzimage(payload[:-40]))
    with pytest.raises(BootImageError, match=f"says {len(kernel) + 1} bytes, but it decompressed to {len(kernel)}"):
        extract_kernel(bzimage(payload[:-4] + struct.pack("<I", len(kernel) + 1)))
    with pytest.raises(BootImageError, match="unexpected bytes"):
        extract_kernel(bzimage(payload + b"garbage!"))
    lz4 = compress("lz4", kernel)
    with pytest.raises(BootImageError):  # a block cut short: framing stops, trailer check fails
        extract_kernel(bzimage(lz4[:-100]))
    with pytest.raises(BootImageError, match="more than 1000 bytes"):
        extract_kernel(bzimage(compress("gzip", kernel)), max_output=1000)


def test_zstd_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "zstandard", None)  # import zstandard -> ImportError
    payload = b"\x28\xb5\x2f\xfd" + bytes(20)
    with pytest.raises(pysyms.Error, match=r"pip install 'pysyms\[zstd\]'"):
        extract_kernel(bzimage(payload))


def test_arm64_images():
    image = arm64_image()
    assert extract_kernel(image) == ("arm64-image", image)
    assert extract_kernel(gzip.compress(image)) == ("arm64-image", image)
    info = inspect_image(gzip.compress(image))
    assert (info.container, info.compressor, info.arch) == ("compressed", "gzip", "arm64")


@pytest.mark.parametrize("name", ["gzip", "xz", "zstd", "lz4"])
def test_zboot(name):
    image = arm64_image()
    stream = compress(name, image)
    # the header's size leaves out the u32 size the kernel appends
    size_field = stream if name == "gzip" else stream[:-4]
    data = zboot(size_field, comp=name, trail=stream[len(size_field):] + b"\x00PE signature")
    info = inspect_image(data)
    assert (info.kind, info.payload, info.container, info.compressor) == ("arm64-image", image, "zboot", name)


def test_s390():
    kernel = b"\xc0\x10\x00\x64" + fake_elf(size=200000)[4:] + b"Linux version 6.1.0-50-s390x"
    info = inspect_image(s390_image(kernel))
    assert (info.kind, info.payload, info.container, info.compressor, info.arch) == (
        "raw", kernel, "s390", "xz", "s390x")
    with pytest.raises(BootImageError, match="no compressed kernel found"):
        inspect_image(s390_image(kernel)[:0x10100])


def test_gzipped_bzimage():
    kernel = fake_elf()
    info = inspect_image(gzip.compress(bzimage(compress("lz4", kernel))))
    assert (info.kind, info.payload, info.container) == ("elf", kernel, "compressed")


def test_elf_and_raw_as_is():
    kernel = fake_elf(machine=183)
    assert extract_kernel(kernel) == ("elf", kernel)
    assert inspect_image(kernel).arch == "arm64"
    raw = bytes(100) + b"Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org)" + bytes(100)
    assert extract_kernel(raw) == ("raw", raw)
    assert extract_kernel(gzip.compress(raw)) == ("raw", raw)


@pytest.mark.parametrize("data", [b"", b"\x7fEL", b"hello world, not a kernel" * 10, bytes(5000)])
def test_unrecognised(data):
    with pytest.raises(pysyms.Error) as info:
        extract_kernel(data)
    message = str(info.value)
    if len(data) >= 4:
        assert data[:8].hex(" ") in message
    else:
        assert "too short" in message


# ---- real Debian kernels ---------------------------------------------------------------


def _fetcher():
    spec = importlib.util.spec_from_file_location("fetch_debian_kernel", REPO / "tools" / "fetch_debian_kernel.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def debian_kernel(arch):
    paths = _fetcher().cached(arch=arch)
    if paths is None:
        pytest.skip(f"no cached Debian {arch} kernel: run tools/fetch_debian_kernel.py --arch {arch}")
    return paths


@pytest.fixture(scope="module")
def amd64():
    paths = debian_kernel("amd64")
    data = paths["vmlinuz"].read_bytes()
    return paths, data, inspect_image(data)


def _elf_sections(elf):
    shoff = struct.unpack_from("<Q", elf, 0x28)[0]
    shnum, shstrndx = struct.unpack_from("<HH", elf, 0x3C)
    strtab = struct.unpack_from("<IIQQQQIIQQ", elf, shoff + 64 * shstrndx)[4]
    names = {}
    for i in range(shnum):
        sh = struct.unpack_from("<IIQQQQIIQQ", elf, shoff + 64 * i)
        name = elf[strtab + sh[0]:elf.index(b"\0", strtab + sh[0])].decode()
        names[name] = sh
    return names


def test_debian_amd64(amd64):
    paths, data, info = amd64
    assert info.container == "bzImage" and info.kind == "elf" and info.arch == "x86_64"
    elf = info.payload
    assert elf[:4] == b"\x7fELF" and struct.unpack_from("<H", elf, 0x12)[0] == 62
    # the kernel appended the uncompressed size after the payload
    payload = data[info.payload_offset:info.payload_offset + info.payload_length]
    assert struct.unpack("<I", payload[-4:])[0] == len(elf)
    sections = _elf_sections(elf)
    assert ".rodata" in sections and ".symtab" not in sections  # vmlinux.bin is stripped
    assert b"Linux version " in elf


def test_debian_amd64_matches_system_map(amd64):
    paths, _, info = amd64
    if "system_map" not in paths:
        pytest.skip("no System.map cached: run tools/fetch_debian_kernel.py --with-system-map")
    symbols = {}
    lines = paths["system_map"].read_text().splitlines()
    for line in lines:
        addr, _, name = line.split()
        symbols.setdefault(name, int(addr, 16))
    assert len(symbols) > 50000
    elf = info.payload
    phoff = struct.unpack_from("<Q", elf, 0x20)[0]
    phnum = struct.unpack_from("<H", elf, 0x38)[0]
    loads = [p for p in (struct.unpack_from("<IIQQQQQQ", elf, phoff + 56 * i) for i in range(phnum)) if p[0] == 1]
    assert loads[0][3] == symbols["_text"]  # the first PT_LOAD's p_vaddr (the per-cpu one is at 0)

    def read(address, size):
        for _, _, offset, vaddr, _, filesz, _, _ in loads:
            if vaddr <= address and address + size <= vaddr + filesz:
                return elf[offset + address - vaddr:offset + address - vaddr + size]
        raise AssertionError(f"{address:#x} is in no PT_LOAD")

    # the kallsyms tables are in the image, where System.map says
    count = struct.unpack("<I", read(symbols["kallsyms_num_syms"], 4))[0]
    assert len(lines) * 0.99 < count <= len(lines)
    token_table = read(symbols["kallsyms_token_table"], 4096)
    assert all(bytes([c]) + b"\0" in token_table for c in b"0123456789")


def test_debian_amd64_c_equals_python_decoder(amd64):
    _, data, info = amd64
    payload = data[info.payload_offset:info.payload_offset + info.payload_length]
    blocks, _ = bootimage._lz4_blocks(memoryview(payload))
    if not os.environ.get("PYSYMS_SLOW_TESTS"):
        blocks = blocks[-2:]  # the smaller ones; all of them take ~6 s in Python
    for pos, size in blocks:
        block = payload[pos:pos + size]
        assert lz4_block_decode(block) == lz4_block_decode_py(block)


def test_debian_arm64():
    paths = debian_kernel("arm64")
    data = paths["vmlinuz"].read_bytes()
    kind, payload = extract_kernel(data)
    assert kind == "arm64-image" and payload[0x38:0x3C] == b"ARMd"
    assert b"Linux version " in payload


def test_debian_s390x():
    paths = debian_kernel("s390x")
    info = inspect_image(paths["vmlinuz"].read_bytes())
    assert (info.kind, info.container, info.arch) == ("raw", "s390", "s390x")
    assert len(info.payload) > 10 << 20
    assert b"Linux version " in info.payload and b"s390x" in info.payload


# ---- the C decoder under AddressSanitizer ------------------------------------------------


def test_lz4_asan(tmp_path_factory, tmp_path):
    from test_c_sanitizers import build_sanitized, run_sanitized

    binary = build_sanitized(tmp_path_factory, CSRC / "test_lz4.c")
    files = []
    sample = tmp_path / "sample.lz4"
    data = b"".join(p.read_bytes() for p in sorted(CSRC.glob("*.[ch]"))) * 3
    sample.write_bytes(lz4_legacy(data, block=50000, frames=2, trailer=True))
    files.append(sample)
    paths = _fetcher().cached(arch="amd64")
    if paths is not None:
        image = inspect_image(paths["vmlinuz"].read_bytes())
        real = tmp_path / "debian.lz4"
        raw = paths["vmlinuz"].read_bytes()
        real.write_bytes(raw[image.payload_offset:image.payload_offset + image.payload_length])
        files.append(real)
    result = run_sanitized(binary, *files)
    assert "all tests passed" in result.stdout
    assert f"{sample}: " in result.stdout
    if paths is not None:
        assert "size trailer matches" in result.stdout.split(str(files[-1]))[1]
