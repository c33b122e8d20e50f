"""Boot images to kernel images: find the bytes that carry the kallsyms tables.

A distribution ships its kernel as a boot image: an x86 ``bzImage`` whose
protected-mode part holds a compressed ELF vmlinux, an arm64 ``Image`` (raw,
or gzip'd, or an EFI zboot image), an s390 image with a compressed raw
kernel inside.  :func:`extract_kernel` turns any of them into the kernel
image itself::

    kind, payload = extract_kernel(Path("/boot/vmlinuz-6.1.0-56-cloud-amd64").read_bytes())
    # kind: 'elf' (an ELF vmlinux), 'arm64-image' (an arm64 Image: raw
    # binary, 'ARMd' at 0x38), or 'raw' (a decompressed kernel that is
    # neither, such as an s390 vmlinux.bin)

:func:`inspect_image` returns the same as a :class:`BootImage` that also
says what it found (container, compressor, where the payload was, the
architecture when known).

Compressors: gzip, xz, lzma and bzip2 through the standard library; zstd
through the optional ``zstandard`` package (``pip install 'pysyms[zstd]'``);
lz4 in the kernel's legacy framing with pysyms' own C block decoder
(csrc/lz4.c), into a ``bytearray`` that is returned without a copy.  The kernel appends the uncompressed size (u32, little-endian)
after the compressed stream for most compressors; it is checked when present.
Anything not recognised raises :class:`BootImageError` (a ``pysyms.Error``)
naming what was found.

Facts used (Documentation/arch/x86/boot.rst, arch/arm64 booting.rst,
lib/decompress_unlz4.c, lz4's block format description):

- bzImage: ``"HdrS"`` at 0x202, boot protocol version (u16) at 0x206,
  ``setup_sects`` at 0x1f1 (0 means 4); the protected-mode part starts at
  ``(setup_sects + 1) * 512``; ``payload_offset`` (u32 at 0x248) and
  ``payload_length`` (u32 at 0x24c, protocol 2.08+) are relative to it.
- arm64 Image: magic ``"ARM\\x64"`` at 0x38 (with or without an EFI stub).
- EFI zboot: ``"MZ"``, ``"zimg"`` at 4, payload offset (u32) at 8 and size
  (u32) at 12 from the start of the file, the compressor's name at 0x18.
- s390: ``"S390EP"`` at 0x10008; the compressed kernel follows the
  decompressor, located here by its compressor's magic.
- lz4 legacy framing: magic ``02 21 4c 18``, then blocks of [u32 LE
  compressed size][lz4 block], each at most 8 MiB decompressed; a size equal
  to the magic starts a new frame; it ends at the end of the data.
"""

from __future__ import annotations

import bz2
import lzma
import re
import struct
import zlib
from dataclasses import dataclass

from ._native import ffi, lib
from .errors import Error

__all__ = ["BootImage", "BootImageError", "Lz4Error", "inspect_image", "extract_kernel", "decompress",
           "lz4_block_decode", "lz4_block_decode_py", "unlz4_legacy", "LZ4_LEGACY_MAGIC",
           "LZ4_LEGACY_BLOCK_MAX", "MAX_OUTPUT"]

MAX_OUTPUT = 1 << 30  # refuse to decompress more than this (a kernel is < 200 MB)
LZ4_LEGACY_MAGIC = 0x184C2102
LZ4_LEGACY_BLOCK_MAX = lib.KSYM_LZ4_LEGACY_BLOCK_MAX  # 8 MiB
LZ4_MAX_RATIO = 255  # an LZ4 block decompresses to at most 255 bytes per byte
ZSTD_HINT = "pip install 'pysyms[zstd]' (or the zstandard package)"

# Compressed-stream magics, most specific first.
MAGICS = (
    ("xz", b"\xfd7zXZ\x00"),
    ("zstd", b"\x28\xb5\x2f\xfd"),
    ("lz4", b"\x02\x21\x4c\x18"),
    ("lzo", b"\x89LZO\x00\r\n\x1a\n"),
    ("gzip", b"\x1f\x8b\x08"),
    ("bzip2", b"BZh"),
    ("lzma", b"\x5d\x00\x00"),
)
ELF_MACHINES = {3: "i386", 62: "x86_64", 40: "arm", 183: "arm64", 22: "s390x", 20: "ppc", 21: "ppc64",
                243: "riscv", 8: "mips", 258: "loongarch"}
BANNER = re.compile(rb"Linux version \d+\.\d+")


class BootImageError(Error, ValueError):
    """Not a kernel image pysyms can read, or a corrupt one; the message
    says what was found and which check failed."""


class Lz4Error(BootImageError):
    """An LZ4 block failed to decode.  ``code`` is ``"corrupt"`` (the input
    is not one valid block) or ``"nospace"`` (its output would exceed the
    capacity given)."""

    def __init__(self, message, code):
        self.code = code
        super().__init__(message)


@dataclass(frozen=True)
class BootImage:
    """What :func:`inspect_image` found.

    ``kind`` and ``payload`` are what :func:`extract_kernel` returns.
    ``container`` is the outer format (``"elf"``, ``"arm64-image"``,
    ``"bzImage"``, ``"zboot"``, ``"s390"``, ``"compressed"`` for a bare
    compressed stream, ``"raw"``), ``compressor`` the payload's compressor
    (``None`` when nothing was decompressed), ``payload_offset`` and
    ``payload_length`` where the compressed payload was in the input,
    ``arch`` the architecture when known (``"x86_64"``, ``"arm64"``,
    ``"s390x"``, ...).  ``payload`` is ``bytes``, except after lz4: a
    ``bytearray``, the decoder's own buffer (a kernel's 50 MB are not
    copied once more to make them bytes)."""

    kind: str
    payload: bytes | bytearray
    container: str
    compressor: str | None = None
    payload_offset: int | None = None
    payload_length: int | None = None
    arch: str | None = None

    def __repr__(self):
        return (f"BootImage(kind={self.kind!r}, {len(self.payload)} bytes, container={self.container!r}, "
                f"compressor={self.compressor!r}, payload_offset={self.payload_offset}, "
                f"payload_length={self.payload_length}, arch={self.arch!r})")


def _hex(data, n=16):
    return bytes(data[:n]).hex(" ") or "(empty)"


def _u16(data, off):
    return struct.unpack_from("<H", data, off)[0]


def _u32(data, off):
    return struct.unpack_from("<I", data, off)[0]


# ---- LZ4 ---------------------------------------------------------------------


def lz4_block_decode(block, capacity=LZ4_LEGACY_BLOCK_MAX):
    """Decode one raw LZ4 block of at most ``capacity`` output bytes with the
    C decoder; :class:`Lz4Error` when it is not valid."""
    buf = bytearray(capacity)
    return bytes(memoryview(buf)[:_lz4_into(block, buf)])


def _lz4_into(block, buf):
    n = lib.ksym_lz4_block_decode(ffi.from_buffer("uint8_t[]", block), len(block),
                                  ffi.from_buffer("uint8_t[]", buf, require_writable=True), len(buf))
    if n >= 0:
        return n
    if n == lib.KSYM_ENOSPC:
        raise Lz4Error(f"lz4 block of {len(block)} bytes decompresses to more than {len(buf)} bytes", "nospace")
    if n == lib.KSYM_ECORRUPT:
        raise Lz4Error(f"corrupt lz4 block ({len(block)} bytes)", "corrupt")
    raise Lz4Error(f"lz4 block decoder failed: {ffi.string(lib.ksym_strerror(n)).decode()} ({n})", "corrupt")


def lz4_block_decode_py(block, capacity=LZ4_LEGACY_BLOCK_MAX):
    """The same as :func:`lz4_block_decode` in pure Python: the reference the
    C decoder is tested against (same verdict on every input), far too slow
    for a whole kernel."""
    src = bytes(block)
    end = len(src)
    out = bytearray()
    ip = 0

    def more(ip, length):  # continuation bytes of a length nibble of 15
        while True:
            if ip >= end:
                raise Lz4Error(f"lz4 block ends inside a length at byte {ip}", "corrupt")
            b = src[ip]
            ip += 1
            length += b
            if b != 255:
                return ip, length

    while True:
        if ip >= end:
            raise Lz4Error("empty lz4 block" if end == 0 else "lz4 block ends after a match", "corrupt")
        token = src[ip]
        ip += 1
        lit = token >> 4
        if lit == 15:
            ip, lit = more(ip, lit)
        if lit > end - ip:
            raise Lz4Error(f"lz4 literals at byte {ip} run past the end of the block", "corrupt")
        if lit > capacity - len(out):
            raise Lz4Error(f"lz4 block decompresses to more than {capacity} bytes", "nospace")
        out += src[ip:ip + lit]
        ip += lit
        if ip == end:
            return bytes(out)
        if end - ip < 2:
            raise Lz4Error(f"lz4 block ends inside a match offset at byte {ip}", "corrupt")
        offset = src[ip] | src[ip + 1] << 8
        ip += 2
        if offset == 0 or offset > len(out):
            raise Lz4Error(f"lz4 match offset {offset} at byte {ip - 2} is 0 or before the start of the output",
                           "corrupt")
        mlen = token & 15
        if mlen == 15:
            ip, mlen = more(ip, mlen)
        mlen += 4
        if mlen > capacity - len(out):
            raise Lz4Error(f"lz4 block decompresses to more than {capacity} bytes", "nospace")
        start = len(out) - offset
        while mlen:  # overlapping copies repeat the last `offset` bytes
            n = min(mlen, len(out) - start)
            out += out[start:start + n]
            mlen -= n


def _lz4_blocks(data):
    """(offset, size) of every block of a legacy lz4 stream, and where the
    stream ends: at the end of the data, or before a size field that is 0
    or larger than what is left (the kernel's size trailer, or padding)."""
    if len(data) < 4 or _u32(data, 0) != LZ4_LEGACY_MAGIC:
        raise BootImageError(f"not lz4 legacy data: first bytes {_hex(data)}")
    blocks = []
    pos = 4
    while len(data) - pos >= 4:
        size = _u32(data, pos)
        if size == LZ4_LEGACY_MAGIC:  # a concatenated frame begins
            pos += 4
            continue
        if size == 0 or size > len(data) - pos - 4:
            break
        blocks.append((pos + 4, size))
        pos += 4 + size
    if not blocks:
        raise BootImageError(f"lz4 legacy data holds no complete block ({len(data)} bytes)")
    return blocks, pos


def unlz4_legacy(data, max_output=MAX_OUTPUT, *, block_decode=None):
    """Decompress lz4 in the kernel's legacy framing.  Returns ``(output,
    consumed)``, output a ``bytearray`` (the buffer the blocks were decoded
    into, not copied again): decoding stops at the end of the data, or
    before a size field that is 0 or larger than what is left (the
    uncompressed-size trailer the kernel appends, or padding); the caller
    checks what follows ``consumed``.  Blocks go to the C decoder, or to
    ``block_decode(block, capacity)`` when given (the Python reference)."""
    data = memoryview(data).cast("B")
    blocks, end = _lz4_blocks(data)

    def failed(i, exc):
        pos, size = blocks[i]
        if exc.code == "nospace" and used + LZ4_LEGACY_BLOCK_MAX > max_output:
            return BootImageError(f"lz4 data decompresses to more than {max_output} bytes")
        return Lz4Error(f"lz4 block {i} (at byte {pos - 4} of the stream, {size} bytes): {exc}", exc.code)

    used = 0
    if block_decode is not None:
        out = bytearray()
        for i, (pos, size) in enumerate(blocks):
            try:
                piece = block_decode(data[pos:pos + size], min(LZ4_LEGACY_BLOCK_MAX, max_output - used))
            except Lz4Error as exc:
                raise failed(i, exc) from None
            out += piece
            used += len(piece)
        return out, end

    # C: every block straight into one bytearray, returned as it is (no copy
    # of the output).  It is sized by what the blocks can produce at most: 8
    # MiB per block, 255 bytes per input byte (a literal byte gives 1, a
    # length byte at most 255, a token with its offset at most 15 + 19), and
    # max_output in all.  No block ever needs more room than its bound, so
    # the bound changes no verdict; it keeps a small stream of many blocks
    # from allocating (and zeroing) 8 MiB per block.
    bounds = [min(LZ4_LEGACY_BLOCK_MAX, LZ4_MAX_RATIO * size) for _, size in blocks]
    capacity = min(sum(bounds), max_output)
    out = bytearray(capacity)
    with ffi.from_buffer("uint8_t[]", data) as src, \
            ffi.from_buffer("uint8_t[]", out, require_writable=True) as buf:
        for i, (pos, size) in enumerate(blocks):
            room = min(bounds[i], capacity - used)
            n = lib.ksym_lz4_block_decode(src + pos, size, buf + used, room)
            if n < 0:
                code = "nospace" if n == lib.KSYM_ENOSPC else "corrupt"
                what = (f"decompresses to more than {min(LZ4_LEGACY_BLOCK_MAX, max_output - used)} bytes"
                        if code == "nospace" else "is corrupt" if n == lib.KSYM_ECORRUPT
                        else ffi.string(lib.ksym_strerror(n)).decode())
                raise failed(i, Lz4Error(what, code)) from None
            used += n
    del out[used:]  # possible now that the buffers are released
    return out, end


# ---- the other compressors -----------------------------------------------------


def _stdlib(name, decompressor, data, max_output, errors):
    try:
        out = decompressor.decompress(data, max_output)
    except errors as exc:
        raise BootImageError(f"corrupt {name} data: {exc}") from None
    if not decompressor.eof:
        if len(out) >= max_output:
            raise BootImageError(f"{name} data decompresses to more than {max_output} bytes")
        raise BootImageError(f"truncated {name} data: the stream ends after {len(out)} bytes of output")
    return out, len(data) - len(decompressor.unused_data)


def _zstd(data, max_output):
    try:
        import zstandard
    except ImportError:
        raise BootImageError(f"the kernel is compressed with zstd, which needs the zstandard package: "
                             f"{ZSTD_HINT}") from None
    try:
        size = zstandard.frame_content_size(bytes(data[:18]))
    except zstandard.ZstdError:
        size = -1
    if size > max_output:
        raise BootImageError(f"zstd data decompresses to {size} bytes, more than {max_output}")
    dobj = zstandard.ZstdDecompressor().decompressobj()
    try:
        out = dobj.decompress(bytes(data))
    except zstandard.ZstdError as exc:
        raise BootImageError(f"corrupt zstd data: {exc}") from None
    if not dobj.eof:
        raise BootImageError(f"truncated zstd data: the stream ends after {len(out)} bytes of output")
    if len(out) > max_output:
        raise BootImageError(f"zstd data decompresses to more than {max_output} bytes")
    return out, len(data) - len(dobj.unused_data)


def decompress(name, data, max_output=MAX_OUTPUT):
    """Decompress one stream of compressor ``name`` (``"gzip"``, ``"xz"``,
    ``"lzma"``, ``"bzip2"``, ``"zstd"``, ``"lz4"`` legacy) from the start
    of data.  Returns ``(output, consumed)``: bytes after ``consumed`` were
    not part of the stream.  output is ``bytes``, or a ``bytearray`` for
    lz4 (see :func:`unlz4_legacy`)."""
    if name == "gzip":
        return _stdlib(name, zlib.decompressobj(wbits=31), data, max_output, zlib.error)
    if name == "xz":
        return _stdlib(name, lzma.LZMADecompressor(lzma.FORMAT_XZ), data, max_output, lzma.LZMAError)
    if name == "lzma":
        return _stdlib(name, lzma.LZMADecompressor(lzma.FORMAT_ALONE), data, max_output, lzma.LZMAError)
    if name == "bzip2":
        return _stdlib(name, bz2.BZ2Decompressor(), data, max_output, (OSError, ValueError))
    if name == "zstd":
        return _zstd(data, max_output)
    if name == "lz4":
        return unlz4_legacy(data, max_output)
    if name == "lzo":
        raise BootImageError("the kernel is compressed with LZO, which pysyms does not decompress "
                             "(the Python standard library has no LZO decoder)")
    raise BootImageError(f"unknown compressor {name!r}")


def _compressor_of(data):
    for name, magic in MAGICS:
        if bytes(data[:len(magic)]) == magic:
            if name == "bzip2" and not (len(data) > 3 and 0x31 <= data[3] <= 0x39):
                continue
            return name
    return None


def _check_trailer(name, data, consumed, out_len, slack=0, tail_ok=False):
    """What follows a compressed stream may be nothing, zero padding, the
    kernel's u32 uncompressed size (which must match) and zeros, or (slack) a
    few bytes a container counts in; with tail_ok, anything may follow a
    matching size (s390's image ends in " zIPL").  Anything else means the
    stream is truncated or not what it seems."""
    rest = bytes(data[consumed:])
    if not rest.strip(b"\0") or len(rest) <= slack:
        return
    if len(rest) >= 4:
        size = _u32(rest, 0)
        if size == out_len & 0xFFFFFFFF and (tail_ok or not rest[4:].strip(b"\0")):
            return
        if not rest[4:].strip(b"\0"):
            raise BootImageError(f"{name} payload: the size appended after the compressed data says {size} "
                                 f"bytes, but it decompressed to {out_len} (truncated or corrupt)")
    raise BootImageError(f"{name} payload: {len(rest)} unexpected bytes after the compressed data "
                         f"(at payload byte {consumed}: {_hex(rest)}); truncated or corrupt")


# ---- recognising images --------------------------------------------------------


def _elf_arch(data):
    if len(data) < 0x14:
        return None
    order = "<" if data[5] == 1 else ">"
    machine = struct.unpack_from(order + "H", data, 0x12)[0]
    return ELF_MACHINES.get(machine, f"EM_{machine}")


def _is_elf(data):
    return bytes(data[:4]) == b"\x7fELF"


def _is_arm64_image(data):
    return len(data) >= 0x40 and bytes(data[0x38:0x3C]) == b"ARMd"


def _is_bzimage(data):
    return len(data) >= 0x250 and bytes(data[0x202:0x206]) == b"HdrS"


def _is_zboot(data):
    return len(data) >= 0x40 and bytes(data[:2]) == b"MZ" and bytes(data[4:8]) == b"zimg"


def _is_s390(data):
    return len(data) >= 0x10010 and bytes(data[0x10008:0x1000E]) == b"S390EP"


def _kernel_kind(out):
    """kind and arch of a decompressed kernel."""
    if _is_elf(out):
        return "elf", _elf_arch(out)
    if _is_arm64_image(out):
        return "arm64-image", "arm64"
    return "raw", None


def _decompressed(container, name, data, offset, length, max_output, arch=None, slack=0, tail_ok=False):
    payload = memoryview(data)[offset:offset + length]  # not a copy of the compressed data
    out, consumed = decompress(name, payload, max_output)
    _check_trailer(name, payload, consumed, len(out), slack, tail_ok)
    if _is_bzimage(out) or _is_zboot(out) or _is_s390(out):  # e.g. a gzip'd vmlinuz
        inner = _inspect(out, max_output, depth=1)
        return BootImage(inner.kind, inner.payload, container, name, offset, length, inner.arch or arch)
    kind, found_arch = _kernel_kind(out)
    return BootImage(kind, out, container, name, offset, length, found_arch or arch)


def _bzimage(data, max_output):
    version = _u16(data, 0x206)
    if version < 0x208:
        raise BootImageError(f"bzImage boot protocol {version >> 8}.{version & 0xFF:02d} predates "
                             f"payload_offset (2.08): too old to read")
    setup_sects = data[0x1F1] or 4
    pm_start = (setup_sects + 1) * 512
    offset = pm_start + _u32(data, 0x248)
    length = _u32(data, 0x24C)
    if length == 0 or offset + length > len(data):
        raise BootImageError(f"bzImage payload [{offset}, {offset + length}) (setup_sects {setup_sects}, "
                             f"payload_offset {_u32(data, 0x248)}, payload_length {length}) does not fit "
                             f"in the {len(data)}-byte image: truncated or not a bzImage")
    name = _compressor_of(data[offset:offset + min(length, 16)])
    if name is None:
        raise BootImageError(f"bzImage payload at byte {offset} has an unknown compressor: first bytes "
                             f"{_hex(data[offset:offset + length])}")
    return _decompressed("bzImage", name, data, offset, length, max_output)


def _zboot(data, max_output):
    offset = _u32(data, 8)
    length = _u32(data, 12)
    declared = bytes(data[0x18:0x38]).split(b"\0")[0].decode("ascii", "replace")
    if length == 0 or offset + length > len(data):
        raise BootImageError(f"EFI zboot payload [{offset}, {offset + length}) does not fit in the "
                             f"{len(data)}-byte image")
    name = _compressor_of(data[offset:offset + min(length, 16)])
    if name is None:
        raise BootImageError(f"EFI zboot payload ({declared!r}) at byte {offset} has an unknown compressor: "
                             f"first bytes {_hex(data[offset:offset + length])}")
    # the size field may leave out the u32 size the kernel appends
    end = min(len(data), offset + length + 4)
    return _decompressed("zboot", name, data, offset, end - offset, max_output, slack=4)


def _scan(container, data, start, max_output, arch=None, min_output=64 << 10, tries=64):
    """Find a compressed kernel by its compressor's magic (the decompressor
    in front of it has no header pointing at it): the first candidate that
    decompresses completely, to at least min_output bytes, wins."""
    candidates = []
    for name, magic in MAGICS:
        if name == "lzo":
            continue
        pos = data.find(magic, start)
        found = 0
        while pos >= 0 and found < tries:
            candidates.append((pos, name))
            found += 1
            pos = data.find(magic, pos + 1)
    failures = []
    for pos, name in sorted(candidates):
        if _compressor_of(data[pos:pos + 16]) != name:
            continue
        try:
            image = _decompressed(container, name, data, pos, len(data) - pos, max_output, arch, tail_ok=True)
        except BootImageError as exc:
            failures.append(f"{name} at {pos}: {exc}")
            continue
        if len(image.payload) >= min_output:
            return image
        failures.append(f"{name} at {pos}: only {len(image.payload)} bytes")
    detail = "; ".join(failures[:6]) or "no compressor magic found"
    raise BootImageError(f"{container} image: no compressed kernel found after byte {start} ({detail})")


def _inspect(data, max_output, depth=0):
    if depth > 2:
        raise BootImageError("boot image nested too deeply")
    if len(data) < 4:
        raise BootImageError(f"too short to be a kernel image ({len(data)} bytes: {_hex(data)})")
    if _is_elf(data):
        return BootImage("elf", bytes(data), "elf", arch=_elf_arch(data))
    if _is_bzimage(data):
        return _bzimage(data, max_output)
    if _is_zboot(data):
        return _zboot(data, max_output)
    if _is_arm64_image(data):
        return BootImage("arm64-image", bytes(data), "arm64-image", arch="arm64")
    if _is_s390(data):
        return _scan("s390", data, 0x10010, max_output, arch="s390x")
    name = _compressor_of(data)
    if name is not None and depth == 0:
        return _decompressed("compressed", name, data, 0, len(data), max_output)
    if BANNER.search(data):
        return BootImage("raw", bytes(data), "raw")
    raise BootImageError(f"not a kernel image pysyms recognises (first bytes {_hex(data)}): expected an ELF "
                         f"vmlinux, an x86 bzImage ('HdrS' at 0x202), an arm64 Image ('ARMd' at 0x38), an EFI "
                         f"zboot or s390 image, a gzip/xz/lzma/bzip2/zstd/lz4 stream, or a raw kernel")


def inspect_image(data, *, max_output=MAX_OUTPUT):
    """Recognise a boot image and extract the kernel image from it (see the
    module's documentation); a :class:`BootImage`."""
    if not isinstance(data, bytes):
        data = bytes(data)
    return _inspect(data, max_output)


def extract_kernel(data, *, max_output=MAX_OUTPUT):
    """``(kind, payload)``: the kernel image inside a boot image.  ``kind`` is
    ``"elf"``, ``"arm64-image"`` or ``"raw"``, ``payload`` bytes (a
    bytearray after lz4: see :class:`BootImage`); :class:`BootImageError` (a
    ``pysyms.Error``) when data is not a kernel image pysyms can read."""
    image = inspect_image(data, max_output=max_output)
    return image.kind, image.payload
