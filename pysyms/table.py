"""SymbolTable: the C-backed kernel symbol table.

A thin wrapper over csrc/ksym.h.  The C table owns every array; this object
owns the C table through ``ffi.gc`` and turns C results into Python values.
"""

import contextlib
import mmap
import os
import queue
import sys
import threading
from array import array
from itertools import chain, islice, repeat
from operator import itemgetter

from ._native import ffi, lib
from . import batch, elf, perfmap, progress, tablefile
from .errors import CorruptTableError, Error, InvalidSymbolError, ParseError, ZeroAddressesError
from .names import check_index, decode_name, encode_name, unpack_record
from .matching import ANY_MODULE, KINDS, Match, parse_query, policy_code, select_match
from .sources import read_file
from .symbol import AddressInfo, Symbol

__all__ = ["SymbolTable"]

_U64_MAX = (1 << 64) - 1
_DUMP_CHUNK = 8192  # symbols expanded per C call while iterating

_NAME_BUFLEN = lib.KSYM_NAME_MAX + 1
_lookup_addr = lib.ksym_lookup_addr
_new_tuple = tuple.__new__


class _Scratch(threading.local):
    """Per-thread output buffers for the C calls: the GIL is released during
    most calls (all but _build_ffi.HOLD_GIL's), so threads must not share one."""

    def __init__(self):
        name = ffi.new("char[]", _NAME_BUFLEN)
        # Each call's buffers in one tuple, fetched in one attribute read.
        self.symbol_out = (ffi.new("uint64_t[1]"), ffi.new("char[1]"), ffi.new("int32_t[1]"), name)
        info = ffi.new("struct ksym_addr_info *")
        # For lookup_addr, a view of the answer's words too: memoryview.tolist()
        # reads the six in a third of ffi.unpack's time.
        self.addr_out = (info, name, memoryview(ffi.buffer(info)).cast("Q"))


_scratch = _Scratch()

# The name lookups' hot path: one C call with one argument that returns the
# address itself: no output buffer to fetch (a threading.local read and an
# index cost more than the lookup's C code), no argument tuple to build.
_lookup_query = lib.ksym_lookup_query
_QUERY_HEAD = lib.KSYM_QUERY_HEAD
_NO_ADDRESS = lib.KSYM_NO_ADDRESS
_SUFFIX_NONE = lib.KSYM_SUFFIX_NONE
_SUFFIX_LLVM = lib.KSYM_SUFFIX_LLVM


def _builder_message(builder):
    return ffi.string(lib.ksym_builder_message(builder)).decode("utf-8", "replace")


def _raise_text_error(builder, rc, path):
    message = _builder_message(builder) or ffi.string(lib.ksym_strerror(rc)).decode()
    line = int(lib.ksym_builder_error_line(builder))
    if rc == lib.KSYM_EZEROADDR:
        raise ZeroAddressesError(message, path, line)
    if rc == lib.KSYM_ENOMEM:
        raise MemoryError(message)
    raise ParseError(message, path, line)


def _raise_build_error(builder, rc):
    message = _builder_message(builder) or ffi.string(lib.ksym_strerror(rc)).decode()
    if rc == lib.KSYM_ENOMEM:
        raise MemoryError(message)
    raise Error(message)


def _new_builder():
    builder = lib.ksym_builder_new()
    if builder == ffi.NULL:
        raise MemoryError("cannot allocate a symbol table builder")
    return ffi.gc(builder, lib.ksym_builder_free)


def _check_record(record, position):
    """Python-side checks that C cannot make on a record (types, ranges,
    encodability); C checks the bytes.  Returns C-ready values."""
    address, type_, name, module, size = unpack_record(record, position)
    if isinstance(type_, str) and len(type_) == 1 and type_.isascii():
        type_ = type_.encode("ascii")
    elif not (isinstance(type_, (bytes, bytearray)) and len(type_) == 1):
        raise InvalidSymbolError(f"type {type_!r} is not one ASCII character", position)
    try:
        name = encode_name(name)
        if module is None:
            return address, size, bytes(type_), name, ffi.NULL, 0
        module = encode_name(module)
        if not module:
            raise InvalidSymbolError("module name is empty (use None for the core kernel)", position)
    except (TypeError, UnicodeError) as exc:
        raise InvalidSymbolError(str(exc), position) from None
    return address, size, bytes(type_), name, module, len(module)


# from_records hands C this many records per call when they are plain.
_RECORD_CHUNK = 4096
_FIELDS = [itemgetter(k) for k in range(4)]


def _joined(strings):
    """``strings`` (all str) joined by NUL bytes as UTF-8 with
    surrogateescape, or None when one is not a str or holds a NUL: such
    records take the one-by-one path, which names the error."""
    try:
        raw = "\0".join(strings).encode("utf-8", "surrogateescape")
    except (TypeError, UnicodeError):
        return None
    return raw if raw.count(b"\0") == len(strings) - 1 else None


def _add_plain_records(builder, chunk, position):
    """Add ``chunk`` through one C call (ksym_builder_add_many) when every
    record is an ``(int, str, str, str | None)`` 4-tuple; returns False,
    having added nothing, for any other chunk.  C still checks every
    record (names, letters, modules) and a bad one raises here."""
    try:
        if set(map(len, chunk)) != {4}:
            return False
        # Columns by itemgetter: zip(*chunk) would make an iterator per
        # record, enough allocations to set off full garbage collections.
        addresses, types, names, modules = (list(map(_FIELDS[k], chunk)) for k in range(4))
        addresses = array("Q", addresses)
        letters = "".join(types)
    except (TypeError, ValueError, OverflowError):
        return False
    n = len(chunk)
    if len(letters) != n or not letters.isascii() or "" in types:
        return False
    raw_names = _joined(names)
    if raw_names is None:
        return False
    raw_modules, modules_len = ffi.NULL, 0
    if modules.count(None) != n:
        if "" in modules:  # an error the one-by-one path words
            return False
        raw_modules = _joined(["" if m is None else m for m in modules])  # "": the core kernel
        if raw_modules is None:
            return False
        modules_len = len(raw_modules)
    done = ffi.new("size_t *")
    rc = lib.ksym_builder_add_many(builder, n, ffi.from_buffer("uint64_t[]", addresses),
                                   letters.encode("ascii"), raw_names, len(raw_names),
                                   raw_modules, modules_len, done)
    if rc < 0:
        raise InvalidSymbolError(_builder_message(builder), position + done[0])
    return True


@contextlib.contextmanager
def _mapped(f):
    """The file's bytes, mapped read-only (empty bytes for an empty file)."""
    size = os.fstat(f.fileno()).st_size
    if size == 0:
        yield b""
        return
    with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        yield m


class SymbolTable:
    """A kernel-style compressed symbol table, built and searched in C.

    Index ``i`` is the i-th symbol in kernel order (address, then the
    kernel's alias tie-breaks).  Build one with :meth:`from_kallsyms`,
    :meth:`from_file` or :meth:`from_records`, or open a saved one with
    :meth:`open`.
    """

    __slots__ = ("_table", "_count", "_modules", "_module_by_id", "_module_of_word", "_provenance",
                 "_keepalive", "_query_exact", "_query_llvm")

    def __init__(self, _table, _provenance=None, _keepalive=None):
        self._table = _table
        self._provenance = _provenance if _provenance is not None else {}
        self._keepalive = _keepalive  # the bytes a table from from_bytes() reads in place
        self._count = int(lib.ksym_count(_table))
        self._modules = [
            decode_name(ffi.string(lib.ksym_module_name(_table, k)))
            for k in range(lib.ksym_module_count(_table))
        ]
        self._module_by_id = self._modules + [None]  # index -1 is the core kernel
        self._module_of_word = dict(enumerate(self._modules))  # u64-read module id -> name; core: missing
        # Heads of ksym_lookup_query's one-argument queries: the table pointer, then the policy.
        pointer = int(ffi.cast("uintptr_t", _table)).to_bytes(_QUERY_HEAD - 1, sys.byteorder)
        self._query_exact = pointer + bytes((_SUFFIX_NONE,))
        self._query_llvm = pointer + bytes((_SUFFIX_LLVM,))

    # ---- construction ----------------------------------------------------

    @classmethod
    def _finish(cls, builder, source=None, region_ends=None):
        for module, end in (region_ends or {}).items():
            if not isinstance(end, int) or not 0 < end <= _U64_MAX:
                raise Error(f"region end {end!r} of {module!r} is not an address above 0")
            name = ffi.NULL if module is None else encode_name(module)
            rc = lib.ksym_builder_set_region_end(builder, name, 0 if module is None else len(name), end)
            if rc < 0:
                _raise_build_error(builder, rc)
        out = ffi.new("struct ksym_table **")
        rc = progress.finish(builder, out)
        if rc < 0:
            _raise_build_error(builder, rc)
        return cls(ffi.gc(out[0], lib.ksym_table_free), tablefile.build_provenance(source))

    @classmethod
    def from_records(cls, records, region_ends=None):
        """Build from an iterable of ``(address, type, name, module_or_None)``
        or ``(address, type, name, module_or_None, size)`` records.

        Names and modules may be ``str`` or ``bytes``.  A size (0 =
        unknown) makes the symbol cover exactly ``[address, address +
        size)`` (DESIGN.md "Address lookup").  A bad record raises
        :class:`InvalidSymbolError` naming its position.  ``region_ends``
        maps a module name (None: the core kernel) to the end of its memory:
        the last symbol of each run of that region's symbols then covers up
        to it (DESIGN.md "Address lookup"); without an end it covers only
        its own address.  A module without symbols raises :class:`Error`.
        """
        return cls._from_records(records, None, region_ends)

    @classmethod
    def _from_records(cls, records, source, region_ends=None, allow_spaces=False):
        """Build from records read from ``source`` (a path, or None);
        ``allow_spaces`` lets names hold spaces (perf maps)."""
        builder = _new_builder()
        lib.ksym_builder_allow_spaces(builder, allow_spaces)
        add = lib.ksym_builder_add_sized
        records = iter(records)
        position = 0
        while True:
            chunk = list(islice(records, _RECORD_CHUNK))
            if not chunk:
                break
            if not _add_plain_records(builder, chunk, position):
                for offset, record in enumerate(chunk):
                    address, size, type_, name, module, module_len = _check_record(record, position + offset)
                    rc = add(builder, address, size, type_, name, len(name), module, module_len)
                    if rc < 0:
                        raise InvalidSymbolError(_builder_message(builder), position + offset)
            position += len(chunk)
        return cls._finish(builder, source, region_ends)

    @classmethod
    def from_elf(cls, path, *, which="auto", module=None):
        """Build from the symbol table of an ELF file (vmlinux, a ``.ko``
        module, a program or shared library), read in C: ``.symtab``, else
        ``.dynsym`` (``which="symtab"`` / ``"dynsym"`` picks one), the symbols
        and letters GNU ``nm -S --defined-only`` prints, with their sizes
        (:mod:`pysyms.elf` has the rules).  ``module`` names the module of
        every symbol (default: ``foo`` for a ``foo.ko``, else the core).
        Names a table cannot hold (over 511 bytes, or with whitespace) are
        skipped with a warning.  A malformed file raises
        :class:`pysyms.elf.ElfError` with the file and byte offset; one
        without symbols, :class:`ParseError`."""
        path = os.fspath(path)
        code = elf.c_which(which)
        if module is None:
            module = elf.module_of_path(path)
        mod = ffi.NULL if module is None else encode_name(module)
        builder = _new_builder()
        skipped = ffi.new("uint64_t *")
        msg = ffi.new("char[]", 512)
        where = ffi.new("uint64_t *")
        with open(path, "rb") as f, _mapped(f) as data:
            buf = ffi.from_buffer(data)
            n = lib.ksym_elf_add(buf, len(data), code, builder, mod, 0 if module is None else len(mod),
                                 skipped, msg, len(msg), where)
            del buf  # the mapping closes only without exports
        if n < 0:
            elf.raise_c_error(ffi, lib, n, msg, where, path)
        if n == 0:
            raise elf.no_symbols_error(path, which, skipped[0])
        elf.warn_skipped(path, skipped[0])
        return cls._finish(builder, path)

    @classmethod
    def from_perf_map(cls, path):
        """Build from a JIT's ``perf-<pid>.map`` (:mod:`pysyms.perfmap`):
        sized symbols whose names may hold spaces."""
        records = perfmap.parse_perf_map(read_file(path), os.fspath(path))
        return cls._from_records(records, os.fspath(path), allow_spaces=True)

    @classmethod
    def from_text(cls, data, path=None, region_ends=None):
        """Build from the bytes of a kallsyms, System.map or nm listing."""
        builder = _new_builder()
        rc = lib.ksym_builder_add_text(builder, data, len(data))
        if rc < 0:
            _raise_text_error(builder, rc, path)
        return cls._finish(builder, path, region_ends)

    @classmethod
    def from_file(cls, path, region_ends=None):
        """Build from a file in ``/proc/kallsyms``, System.map or ``nm`` format,
        a ``perf-<pid>.map`` (by its name: :meth:`from_perf_map`) or an ELF
        file (by its first bytes: :meth:`from_elf`).

        A bad line raises :class:`ParseError` with the file and line number.
        The running kernel's ``/proc/kallsyms`` takes its module ends from
        ``/proc/modules`` unless ``region_ends`` is given.
        """
        if perfmap.is_perf_map_path(path):
            return cls.from_perf_map(path)
        if elf.file_is_elf(path):
            return cls.from_elf(path)
        if region_ends is None and tablefile.is_live(path):
            region_ends = tablefile.live_region_ends()
        try:
            source = open(path, "rb")
        except OSError as exc:
            raise ParseError(f"cannot read: {exc.strerror}", os.fspath(path)) from exc
        with source:
            return cls.from_fd(source.fileno(), os.fspath(path), region_ends)

    @classmethod
    def from_fd(cls, fd, path=None, region_ends=None):
        """Build from the text read from file descriptor ``fd`` to its end
        (kallsyms, System.map or nm format, as :meth:`from_text`), parsed in
        C while a second thread reads: the parse of a slow source such as
        ``/proc/kallsyms`` hides behind its reading.  ``path`` names the
        source in errors.  ``fd`` stays open."""
        builder = _new_builder()
        rc = lib.ksym_builder_add_fd(builder, fd)
        if rc < 0:
            _raise_text_error(builder, rc, path)
        return cls._finish(builder, path, region_ends)

    @classmethod
    def from_kallsyms(cls, path="/proc/kallsyms", region_ends=None):
        """Build from the running kernel's ``/proc/kallsyms`` (or a copy of one)."""
        return cls.from_file(path, region_ends)

    @classmethod
    def from_image(cls, data, *, slide=0, path=None, **hints):
        """Build from the kernel's own kallsyms tables inside a kernel image:
        an ELF vmlinux (with or without a symtab), a raw kernel, or a boot
        image (x86 bzImage with any kernel compressor, arm64 Image[.gz], EFI
        zboot, s390), found by their structure and verified in C
        (:mod:`pysyms.kimage`).  Addresses are link-time addresses plus
        ``slide`` (a KASLR offset); ``hints`` override what the search
        assumes (see :func:`pysyms.kimage.decode_image`).  No tables, or
        none that passes every check, raises :class:`pysyms.kimage.KernelImageError`."""
        from . import kimage

        table = kimage.table_from_image(data, slide=slide, **hints)
        table._provenance = tablefile.build_provenance(path)
        return table

    @classmethod
    def from_vmlinux(cls, path, *, slide=0, **hints):
        """:meth:`from_image` of the file at ``path`` (vmlinux, vmlinuz, Image)."""
        with open(path, "rb") as f:
            data = f.read()
        return cls.from_image(data, slide=slide, path=os.fspath(path), **hints)

    # ---- batches (issue #6; csrc/batch.c) -----------------------------------

    def symbolize(self, addresses, out=None):
        """Resolve many addresses in one C call, without the GIL.

        ``addresses``: any buffer of unsigned 64-bit integers (numpy array,
        ``array('Q')``, ``bytes`` in native byte order, memoryview), read in
        place, or an iterable of ints.  Returns ``(indexes, offsets)``: the
        symbol index ``lookup_addr`` would report (-1 where no symbol covers
        the address) and the offset from that symbol (0 there).  numpy in,
        numpy out (int64, uint64); otherwise ``array('q')`` and ``array('Q')``.
        Sorted input is detected and resolved by a merge walk.  ``out``, a
        pair of writable 64-bit buffers of the same length, receives the
        results instead of new arrays (and is returned).
        """
        view, numpy_in = batch.address_view(addresses)
        n = len(view)
        indexes, offsets = batch.new_results(n, numpy_in) if out is None else batch.check_out(out, n)
        if n:
            rc = lib.ksym_symbolize(self._table, ffi.from_buffer("uint64_t[]", view), n,
                                    ffi.from_buffer("int64_t[]", indexes, require_writable=True),
                                    ffi.from_buffer("uint64_t[]", offsets, require_writable=True))
            if rc < 0:
                raise Error(ffi.string(lib.ksym_strerror(rc)).decode())
        return indexes, offsets

    _FORMAT_CHUNK = 4096  # addresses formatted per C call

    def format(self, addresses, style="%pS"):
        """The kernel's text for each address, built in C, as a list of str:
        ``'%pS'`` ``name+0xoff/0xsize [module]``, ``'%ps'`` ``name [module]``,
        ``'%pB'`` as ``%pS`` for a return address (looks up ``addr - 1``).
        An address no symbol covers prints as ``0x<hex>``, as the kernel's.
        Long batches format their next chunk on a second thread while this
        one makes the str objects of the current chunk."""
        lines = []
        # each chunk's text decoded straight from the C buffer while it is
        # still in cache: no joined copy of the whole text
        for buf, size in self._format_chunks(addresses, style, ahead=True):
            lines += str(ffi.buffer(buf, size - 1), "utf-8", "surrogateescape").split("\n")
        return lines

    def format_bytes(self, addresses, style="%pS"):
        """The lines of :meth:`format` as one ``bytes``, each ending in
        ``\n``: what a tool writes out, without a str per address."""
        parts = [ffi.unpack(buf, size) for buf, size in self._format_chunks(addresses, style)]
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def _format_chunks(self, addresses, style, ahead=False):
        """``(char buffer, bytes used)`` per C call of ksym_format; a buffer
        is reused by a later chunk, so use it before asking for more.  With
        ``ahead``, batches of more than one chunk are formatted on a second
        thread (cffi drops the GIL in C), one chunk ahead of the caller."""
        try:
            code = getattr(lib, "KSYM_STYLE_" + batch.STYLES[style])
        except KeyError:
            raise ValueError(f"style must be one of {', '.join(batch.STYLES)}, not {style!r}") from None
        view, _ = batch.address_view(addresses)
        n = len(view)
        src = ffi.from_buffer("uint64_t[]", view)
        try:
            chunk = min(self._FORMAT_CHUNK, max(n, 1))
            buflen = chunk * (lib.KSYM_FORMAT_MAX + 1)
            if ahead and n > chunk:
                yield from self._format_ahead(src, n, chunk, code, buflen)
                return
            buf = self._new_uncleared("char[]", buflen)
            written = ffi.new("size_t *")
            done = 0
            while done < n:
                k = self._format_into(src + done, min(chunk, n - done), code, buf, buflen, written)
                yield buf, written[0]
                done += k
        finally:
            # End the export of the caller's buffer now: an exception's
            # traceback may hold this frame in a cycle, and the garbage
            # collector must not clear the memoryview while it is exported.
            ffi.release(src)

    def _format_into(self, src, count, code, buf, buflen, written):
        k = lib.ksym_format(self._table, src, count, code, buf, buflen, written)
        if k <= 0:
            raise Error(ffi.string(lib.ksym_strerror(k)).decode())
        return k

    def _format_ahead(self, src, n, chunk, code, buflen):
        """_format_chunks on a producer thread with two buffers: each goes
        back to the producer once the caller asks for the next chunk."""
        free, ready = queue.SimpleQueue(), queue.SimpleQueue()
        for _ in range(2):
            free.put((self._new_uncleared("char[]", buflen), ffi.new("size_t *")))

        def produce():
            done = 0
            try:
                while done < n:
                    item = free.get()
                    if item is None:  # the caller stopped early
                        return
                    buf, written = item
                    done += self._format_into(src + done, min(chunk, n - done), code, buf, buflen, written)
                    ready.put(item)
            except BaseException as exc:  # raised again in the caller's thread
                ready.put(exc)
            ready.put(None)

        producer = threading.Thread(target=produce, name="pysyms-format", daemon=True)
        producer.start()
        try:
            while (item := ready.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                yield item[0], item[1][0]
                free.put(item)
        finally:
            free.put(None)
            producer.join()

    # ---- table files (docs/format.md; csrc/file.c) ------------------------

    @classmethod
    def open(cls, path):
        """Open a table file written by :meth:`save`: the file is mapped
        read-only and validated in C, and lookups read it in place (no copy
        of the arrays, no per-symbol objects).  A file that is not a valid
        table raises :class:`CorruptTableError` saying what and where."""
        path = os.fspath(path)
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        try:
            return cls._load(lambda out, msg, where: lib.ksym_file_map(fd, out, msg, len(msg), where),
                             path, None)
        finally:
            os.close(fd)

    @classmethod
    def from_bytes(cls, data, path=None):
        """A table reading the bytes of a table file in place (``data`` is
        kept alive by the table); ``path`` only labels errors."""
        data = bytes(data)
        buf = ffi.from_buffer("uint8_t[]", data)
        return cls._load(lambda out, msg, where: lib.ksym_file_load(buf, len(data), out, msg, len(msg), where),
                         path, data)

    @classmethod
    def _load(cls, load, path, keepalive):
        out = ffi.new("struct ksym_table **")
        msg = ffi.new("char[]", 512)
        where = ffi.new("uint64_t *")
        rc = load(out, msg, where)
        text = ffi.string(msg).decode("utf-8", "replace") or ffi.string(lib.ksym_strerror(rc)).decode()
        if rc == lib.KSYM_ECORRUPT:
            raise CorruptTableError(text, path, None if where[0] == _U64_MAX else int(where[0]))
        if rc == lib.KSYM_ENOMEM:
            raise MemoryError(text)
        if rc < 0:
            raise Error(f"{path}: {text}")
        table = ffi.gc(out[0], lib.ksym_table_free)
        size = ffi.new("size_t *")
        offset = ffi.new("uint64_t *")
        section = lib.ksym_file_provenance(table, size, offset)
        provenance = {}
        if section != ffi.NULL:
            provenance = tablefile.decode_provenance(ffi.buffer(section, size[0]), path, int(offset[0]))
        return cls(table, provenance, keepalive)

    def to_bytes(self):
        """The bytes of this table's file (docs/format.md)."""
        prov = tablefile.encode_provenance(self._provenance)
        size = lib.ksym_file_size(self._table, len(prov))
        buf = bytearray(size)
        n = lib.ksym_file_write(self._table, prov, len(prov), ffi.from_buffer("uint8_t[]", buf), size)
        if n < 0:
            raise Error(ffi.string(lib.ksym_strerror(n)).decode())
        return bytes(buf) if n == size else bytes(buf[:n])

    def save(self, path):
        """Write this table to ``path`` atomically: ``path`` holds either its
        old contents or the whole new file, whatever happens mid-save."""
        tablefile.write_atomically(path, self.to_bytes())

    @property
    def provenance(self):
        """Where the table came from (a dict, docs/format.md "Provenance"):
        ``source``, ``created``, ``pysyms_version`` and, for a table of the
        running kernel, ``kernel_release``, ``boot_id``, ``modules_digest``."""
        return dict(self._provenance)

    def is_stale(self):
        """Whether the table no longer matches the running kernel (another
        release, another boot, other modules); None when it was not built
        from the running kernel's /proc/kallsyms."""
        return tablefile.staleness(self._provenance)[0]

    # ---- symbols -----------------------------------------------------------

    def __len__(self):
        return self._count

    def __repr__(self):
        return f"<pysyms.SymbolTable of {self._count} symbols>"

    def _fields(self, i):
        """``(address, type, name, module)`` of symbol ``i``, in one C call."""
        address, letter, module, name = _scratch.symbol_out
        n = lib.ksym_symbol(self._table, i, address, letter, module, name, _NAME_BUFLEN)
        if n < 0:
            raise Error(ffi.string(lib.ksym_strerror(n)).decode())
        return (address[0], letter[0].decode("latin-1"), decode_name(ffi.unpack(name, n)),
                self._module_by_id[module[0]])

    def __getitem__(self, i):
        """Symbol ``i`` in table order (negative indexes count from the end)."""
        return _new_tuple(Symbol, self._fields(check_index(i, self._count)))

    def _dump_chunks(self, fields=True):
        """Symbols in table order, a chunk per C call: lists of addresses,
        type letters (a str), names and module ids (-1: the core kernel).
        With ``fields`` false only the names come (the rest is None), and C
        fills only them."""
        table, count = self._table, self._count
        chunk = min(_DUMP_CHUNK, max(count, 1))
        buflen = chunk * _NAME_BUFLEN
        buf = ffi.new("char[]", buflen)
        written = ffi.new("size_t *")
        # tolist() and str() over views of the buffers: a chunk's Python work took 2.4x less
        # time than with ffi.unpack (and a bytes copy of the names).
        text = memoryview(ffi.buffer(buf))
        if fields:
            addresses = ffi.new("uint64_t[]", chunk)
            types = ffi.new("char[]", chunk)
            modules = ffi.new("int32_t[]", chunk)
            address_words = memoryview(ffi.buffer(addresses)).cast("Q")
            module_words = memoryview(ffi.buffer(modules)).cast("i")
        else:
            addresses = types = modules = ffi.NULL
        start = 0
        while start < count:
            n = lib.ksym_dump_range(table, start, min(chunk, count - start), addresses, types,
                                    modules, buf, buflen, written)
            if n <= 0:
                raise Error(ffi.string(lib.ksym_strerror(n)).decode())
            names = str(text[:written[0] - 1], "utf-8", "surrogateescape").split("\n")  # drop the last '\n'
            if fields:
                yield (address_words[:n].tolist(), ffi.unpack(types, n).decode("latin-1"), names,
                       module_words[:n].tolist())
            else:
                yield None, None, names, None
            start += n

    def __iter__(self):
        """Every symbol in table order, expanded by C a chunk at a time.

        Symbols are made one at a time as the caller takes them: a caller that
        drops each one keeps the collector's counts flat (a chunk's list of
        Symbols cost the cyclic GC a quarter to a half of the iteration)."""
        module_of = self._module_by_id.__getitem__
        for addresses, letters, names, modules in self._dump_chunks():
            yield from map(_new_tuple, repeat(Symbol), zip(addresses, letters, names, map(module_of, modules)))

    def names(self):
        """Every name in table order, as a list of ``str`` (no Symbol objects)."""
        names = []
        for chunk in self._dump_chunks(fields=False):
            names += chunk[2]
        return names

    # ---- lookups -----------------------------------------------------------

    def lookup_name_index(self, name):
        """Index of the lowest-address symbol named exactly ``name``, or None."""
        name = encode_name(name)
        i = lib.ksym_lookup_name(self._table, name, len(name), ffi.NULL)
        return None if i < 0 else i

    def lookup_name(self, name):
        """Address of the lowest-address symbol named exactly ``name``, or None.

        Exact bytewise match, as the kernel's ``kallsyms_lookup_name`` (>= 6.11).
        """
        if name.__class__ is str:
            try:
                name = name.encode()  # the fast path: no error handler to look up
            except UnicodeEncodeError:
                name = name.encode("utf-8", "surrogateescape")
        elif name.__class__ is not bytes:
            name = encode_name(name)
        if 0 in name:
            return None  # no symbol name holds a NUL (and the query ends at one)
        address = _lookup_query(self._query_exact + name)
        if address != _NO_ADDRESS:
            return address
        return self._found_at_no_address(name, _SUFFIX_NONE)

    def lookup_all(self, name):
        """Indexes of every symbol named exactly ``name``, in address order
        (the kernel's ``kallsyms_on_each_match_symbol``)."""
        name = encode_name(name)
        first = ffi.new("uint32_t *")
        n = lib.ksym_name_run(self._table, name, len(name), first)
        return [lib.ksym_seq(self._table, pos) for pos in range(first[0], first[0] + n)]

    def lookup_addr(self, address):
        """The symbol covering ``address`` as an :class:`AddressInfo`, or None.

        The greatest symbol address <= ``address``; among aliases the first in
        table order; ``size`` runs to the next higher address (0 if unknown).
        """
        if not 0 <= address <= _U64_MAX:
            return None
        info, name, words = _scratch.addr_out
        if _lookup_addr(self._table, address, info, name, _NAME_BUFLEN) <= 0:
            return None
        found, offset, size, index, module, name_len = words.tolist()
        name = ffi.unpack(name, name_len)
        try:
            name = name.decode()  # the fast path: no error handler to look up
        except UnicodeDecodeError:
            name = name.decode("utf-8", "surrogateescape")
        return _new_tuple(AddressInfo, (name, found, offset, size, self._module_of_word.get(module), index))

    # ---- the kernel's arrays ------------------------------------------------

    def kernel_arrays(self):
        """The kernel's arrays as ``bytes``, byte for byte as scripts/kallsyms.c
        lays them out: ``names``, ``markers``, ``token_table``, ``token_index``,
        ``seqs_of_names``."""
        getters = {
            "names": lib.ksym_names_bytes,
            "markers": lib.ksym_markers_bytes,
            "token_table": lib.ksym_token_table_bytes,
            "token_index": lib.ksym_token_index_bytes,
            "seqs_of_names": lib.ksym_seqs_bytes,
        }
        size = ffi.new("size_t *")
        arrays = {}
        for key, getter in getters.items():
            pointer = getter(self._table, size)
            arrays[key] = ffi.unpack(ffi.cast("char *", pointer), size[0]) if size[0] else b""
        return arrays

    def memory_size(self):
        """Bytes the C table holds in memory, arrays and indexes included."""
        return int(lib.ksym_memory_size(self._table))

    def _names_figures(self):
        """``(prefix_bytes, name_bytes)`` of the names array: the bytes its
        length prefixes take, and the bytes its names expand to (each without
        the type letter its expansion starts with); ``ksym_names_figures``."""
        figures = ffi.new("uint64_t[2]")
        err = lib.ksym_names_figures(self._table, figures, figures + 1)
        if err:
            raise Error(ffi.string(lib.ksym_strerror(err)).decode())
        return int(figures[0]), int(figures[1])

    @property
    def modules(self):
        """Names of the modules that own symbols, in module-id order."""
        return list(self._modules)

    @property
    def has_sizes(self):
        """Whether the source gave symbols sizes (ELF, perf maps, ``nm -S``)."""
        return bool(lib.ksym_has_sizes(self._table))

    def size_of(self, i):
        """The size symbol ``i`` was given by its source, 0 when unknown."""
        return int(lib.ksym_size(self._table, check_index(i, self._count)))

    # ==== suffix-aware matching and globs (issue #3; csrc/match.c) =========
    # Semantics: pysyms/matching.py.  Everything below is one block so that
    # it merges cleanly with other work on this class.

    class _MatchScratch(threading.local):
        """Per-thread result buffers of ksym_match (cffi drops the GIL)."""

        CAP = 64

        def __init__(self):
            self.indexes = ffi.new("uint32_t[]", self.CAP)
            self.kinds = ffi.new("uint8_t[]", self.CAP)

    _match_scratch = _MatchScratch()
    _GLOB_CHUNK = 8192
    _NAMES_BATCH = 1024  # names expanded per ksym_symbols_at call
    _new_uncleared = staticmethod(ffi.new_allocator(should_clear_after_alloc=False))

    def _module_filter_id(self, module):
        """C module filter of a parsed filter, or None for a module this table lacks."""
        if module is ANY_MODULE:
            return lib.KSYM_MODULE_ANY
        if module is None:
            return -1
        try:
            return self._modules.index(module)
        except ValueError:
            return None

    def _match_object(self, index, kind):
        address, type_, name, module = self._fields(index)
        return _new_tuple(Match, (address, name, type_, module, index, kind))

    def _matches(self, name, suffix, module):
        query, module_filter = parse_query(name, module)
        policy = policy_code(suffix)
        raw = encode_name(query)
        module_id = self._module_filter_id(module_filter)
        if module_id is None:
            return query, module_filter, []
        scratch = self._match_scratch
        indexes, kinds, cap = scratch.indexes, scratch.kinds, scratch.CAP
        n = lib.ksym_match(self._table, raw, len(raw), policy, module_id, indexes, kinds, cap)
        if n > cap:
            cap = n
            indexes = ffi.new("uint32_t[]", cap)
            kinds = ffi.new("uint8_t[]", cap)
            n = lib.ksym_match(self._table, raw, len(raw), policy, module_id, indexes, kinds, cap)
        if n < 0:
            raise Error(ffi.string(lib.ksym_strerror(n)).decode())
        found = [self._match_object(i, KINDS[k])
                 for i, k in zip(ffi.unpack(indexes, n), ffi.unpack(kinds, n))]
        return query, module_filter, found

    def matches(self, name, suffix="none", module=None):
        """Every symbol matching ``name`` as :class:`~pysyms.Match` objects in
        address order.  ``suffix``: ``'none'`` (exact only), ``'llvm'`` or
        ``'clone'`` (see :mod:`pysyms.matching`); exact matches, when there are
        any, are the whole answer.  ``module='x'`` or a name ``'x:name'``
        restricts to module ``x`` (``'vmlinux'``: the core kernel) before that."""
        return self._matches(name, suffix, module)[2]

    def lookup(self, name, suffix="none", sympos=0, module=None):
        """One symbol as a :class:`~pysyms.Match`: ``sympos=0`` requires a unique
        match (else :class:`~pysyms.AmbiguousSymbolError` listing the
        candidates), ``sympos=N`` picks the N-th in address order; no match
        raises :class:`~pysyms.SymbolNotFoundError`.  Arguments as :meth:`matches`."""
        query, module_filter, found = self._matches(name, suffix, module)
        return select_match(found, query, module_filter, suffix, sympos)

    def lookup_name_without_suffix(self, name):
        """Address of the lowest-address symbol named exactly ``name``; if there
        is none, of the lowest-address one whose name cut at its first
        ``.llvm.`` is ``name``; else None."""
        if name.__class__ is str:
            try:
                name = name.encode()  # the fast path: no error handler to look up
            except UnicodeEncodeError:
                name = name.encode("utf-8", "surrogateescape")
        elif name.__class__ is not bytes:
            name = encode_name(name)
        if 0 in name:
            return None  # no symbol name holds a NUL (and the query ends at one)
        address = _lookup_query(self._query_llvm + name)
        if address != _NO_ADDRESS:
            return address
        return self._found_at_no_address(name, _SUFFIX_LLVM)

    def _found_at_no_address(self, name, policy):
        """The rare answer KSYM_NO_ADDRESS: a symbol at that very address, or none."""
        if lib.ksym_lookup_name_suffix(self._table, name, len(name), policy, ffi.NULL) < 0:
            return None
        return _NO_ADDRESS

    def glob(self, pattern):
        """Iterator of the :class:`Symbol` objects whose names match the
        ftrace-style glob ``pattern`` (``*``, ``?``, ``[...]`` with ranges and
        ``!``/``^``), in table order; matched in C over the compressed names."""
        return chain.from_iterable(self._symbols_at(out, n) for out, n in self._glob(encode_name(pattern)))

    def glob_indexes(self, pattern):
        """The table indexes of the symbols :meth:`glob` yields, as an
        ``array('I')``: the C matching without a Python object per symbol
        (``t[i]``, ``t.symbolize`` and friends take it from there)."""
        result = array("I")
        for out, n in self._glob(encode_name(pattern)):
            result.frombytes(ffi.buffer(out, 4 * n))
        return result

    def _symbols_at(self, indexes, n):
        """Symbol objects for the first n indexes of a cdata array, names
        expanded by C in batches."""
        new = self._new_uncleared
        addresses = new("uint64_t[]", n)
        types = new("char[]", n)
        modules = new("int32_t[]", n)
        buflen = min(n, self._NAMES_BATCH) * (lib.KSYM_NAME_MAX + 2)
        buf = new("char[]", buflen)
        written = ffi.new("size_t *")
        module_by_id = self._module_by_id
        done = 0
        out = []
        while done < n:
            k = lib.ksym_symbols_at(self._table, indexes + done, n - done, addresses + done,
                                    types + done, modules + done, buf, buflen, written)
            if k <= 0:
                raise Error(ffi.string(lib.ksym_strerror(k)).decode())
            names = ffi.unpack(buf, written[0] - 1).decode("utf-8", "surrogateescape").split("\n")
            out += names
            done += k
        # map() over C iterators: no bytecode per symbol (this is most of a
        # prefix glob's time: a few hundred ns per tuple subclass instance)
        return list(map(_new_tuple, repeat(Symbol, n),
                        zip(ffi.unpack(addresses, n), ffi.unpack(types, n).decode("latin-1"), out,
                            map(module_by_id.__getitem__, ffi.unpack(modules, n)))))

    def _glob(self, pattern):
        """Chunks of matches: ``(uint32_t[] of indexes, count)``; a chunk's
        array is reused for the next, so use it before asking for more."""
        table = self._table
        chunk = self._GLOB_CHUNK
        out = self._new_uncleared("uint32_t[]", chunk)
        next_index = ffi.new("uint32_t *")
        while next_index[0] < self._count:
            n = lib.ksym_glob(table, pattern, len(pattern), next_index, out, chunk)
            if n < 0:
                raise Error(ffi.string(lib.ksym_strerror(n)).decode())
            if n:
                yield out, n

    # ==== end of suffix-aware matching =======================================
