"""The ``pysyms`` command.

    pysyms build [SOURCE | --vmlinux IMAGE [--slide N]] [-o TABLE]
                                   build a table, report what it holds, save it
    pysyms lookup NAME...          name lookups (every match, with how it matched)
                                   [--suffix none|llvm|clone] [--unique] [--sympos N]
    pysyms grep PATTERN...         symbols whose names match ftrace-style globs
    pysyms addr [ADDR...]          address lookups, %pS style; stdin if no ADDR
    pysyms symbolize [FILE]        perf script output or folded stacks with raw
                                   addresses -> symbolized folded stacks (flame graphs)
                                   [--input auto|perf|folded] [--modules] [--offsets]
                                   [--no-comm] [--keep-unknown]
    pysyms info                    symbol count, compressed size, ratio
    pysyms check TABLE             does a saved table still match the running kernel?

A source is a kallsyms, System.map or ``nm [-S]`` listing, a JIT's
``perf-<pid>.map`` (by its name) or an ELF file (its .symtab or .dynsym, by
its first bytes); see docs/sources.md.

Every query command takes ``--source FILE`` (default /proc/kallsyms) or
``-t TABLE`` (a file saved by ``build -o``, opened in place), and ``--json``
(one JSON object per line).  Exit status: 0 found, 1 not found, 2 bad usage
or input, 3 ambiguous (``lookup --unique`` matched several symbols; the
candidates go to stderr).  ``check`` exits 0 when the table is current, 1
when it is stale, 4 when it cannot tell (not built from /proc/kallsyms).

``lookup`` takes ``module:name`` queries (``vmlinux:name`` for the core
kernel).  A match found through a suffix policy ends in a tab and its kind,
``(llvm)`` or ``(clone)``; exact matches carry no tag (JSON always has
``"kind"``).

``addr`` without arguments reads whitespace-separated hex addresses (``0x``
optional) from stdin in large chunks, parses them in C and formats them in
batches; a bad token stops it with its line number (exit 2) after the
answers before it.  ``symbolize`` (grammar in :mod:`pysyms.stacks`) exits 0
whatever it could resolve; ``--json`` gives one ``{"stack": [...],
"count": N}`` per stack.  ``build`` on a terminal shows a spinner on stderr
when building takes more than half a second.
"""

import argparse
import io
import json
import os
import re
import sys
import threading
import time

from . import stacks, tablefile
from .progress import reporting_progress
from ._native import ffi, lib
from .errors import AmbiguousSymbolError, Error, ParseError, SymbolNotFoundError
from .stats import table_stats
from .table import SymbolTable

DEFAULT_SOURCE = "/proc/kallsyms"
EXIT_FOUND, EXIT_NOT_FOUND, EXIT_BAD_INPUT, EXIT_AMBIGUOUS = 0, 1, 2, 3
EXIT_UNKNOWN = 4  # check: the table carries nothing to compare with the running kernel


def _hex(value):
    return f"{value:#x}"


def _emit(args, obj, text):
    print(json.dumps(obj) if args.json else text)


def _load(args):
    """The table a query command reads: ``-t TABLE`` opened in place, else
    built from ``--source``."""
    if args.table is not None:
        return SymbolTable.open(args.table)
    return SymbolTable.from_file(args.source)


def cmd_build(args):
    if args.vmlinux is not None and args.source_arg:
        raise Error("give either SOURCE or --vmlinux, not both")
    source = args.vmlinux or args.source_arg or args.source
    start = time.perf_counter()
    with Progress(f"building table from {source}") as bar, reporting_progress(bar.update):
        if args.vmlinux is not None:
            table = SymbolTable.from_vmlinux(args.vmlinux, slide=args.slide)
        else:
            table = SymbolTable.from_file(source)
    elapsed = time.perf_counter() - start
    stats = table_stats(table)
    memory = table.memory_size()
    per_symbol = memory / len(table) if len(table) else 0.0
    obj = {"source": source, "symbols": len(table), "modules": len(table.modules),
           "build_ms": round(elapsed * 1e3, 3), "memory_bytes": memory,
           "compressed": stats["compressed"], "original": stats["original"],
           "ratio": round(stats["ratio"], 4)}
    nmods = len(table.modules)
    text = (f"built {len(table)} symbols ({nmods} module{'' if nmods == 1 else 's'}) from {source} in "
            f"{elapsed * 1e3:.1f} ms; names {stats['original']} -> {stats['compressed']} bytes "
            f"({stats['ratio']:.2%}); {memory} bytes in memory ({per_symbol:.1f} per symbol)")
    if args.output is not None:
        table.save(args.output)
        size = os.path.getsize(args.output)
        obj.update(output=args.output, file_bytes=size)
        text += (f"\nwrote {args.output}: {size} bytes "
                 f"({size / len(table) if len(table) else 0.0:.1f} per symbol)")
    _emit(args, obj, text)
    return EXIT_FOUND


def cmd_info(args):
    table = _load(args)
    stats = table_stats(table)
    source = args.table if args.table is not None else args.source
    obj = dict(stats, source=source, modules=len(table.modules),
               memory_bytes=table.memory_size())
    obj["ratio"] = round(obj["ratio"], 4)
    lines = [f"source      {source}",
             f"symbols     {stats['symbols']}",
             f"modules     {len(table.modules)}",
             f"names       {stats['original']} bytes",
             f"compressed  {stats['compressed']} bytes (names + token table + token index)",
             f"ratio       {stats['ratio']:.2%}",
             f"memory      {obj['memory_bytes']} bytes"]
    if args.table is not None:
        obj["provenance"] = table.provenance
        lines += [f"{key:<11} {value}" for key, value in sorted(table.provenance.items())]
    _emit(args, obj, "\n".join(lines))
    return EXIT_FOUND


def cmd_check(args):
    table = SymbolTable.open(args.table_file)
    stale, reason = tablefile.staleness(table.provenance)
    state = {None: "unknown", False: "current", True: "stale"}[stale]
    _emit(args, {"table": args.table_file, "state": state, "reason": reason},
          f"{args.table_file}: {state}: {reason}")
    return {None: EXIT_UNKNOWN, False: EXIT_FOUND, True: EXIT_NOT_FOUND}[stale]


def _symbol_line(symbol, kind="exact"):
    module = f"\t[{symbol.module}]" if symbol.module is not None else ""
    tag = f"\t({kind})" if kind != "exact" else ""
    return f"{symbol.address:016x} {symbol.type} {symbol.name}{module}{tag}"


def _emit_match(args, query, match):
    _emit(args, {"query": query, "found": True, "index": match.index,
                 "address": _hex(match.address), "type": match.type, "name": match.name,
                 "module": match.module, "kind": match.kind},
          _symbol_line(match, match.kind))


def _not_found(args, query, reason=None):
    if args.json:
        print(json.dumps({"query": query, "found": False}))
    else:
        print(f"{query}: {reason or 'not found'}", file=sys.stderr)


def cmd_lookup(args):
    if args.sympos < 0:
        raise Error(f"--sympos must be >= 0, not {args.sympos}")
    table = _load(args)
    status = EXIT_FOUND
    for query in args.names:
        try:
            if args.sympos or args.unique:
                found = [table.lookup(query, suffix=args.suffix, sympos=args.sympos)]
            else:
                found = table.matches(query, suffix=args.suffix)
        except ValueError as exc:  # a malformed query such as ":name"
            raise Error(str(exc)) from None
        except AmbiguousSymbolError as exc:
            status = max(status, EXIT_AMBIGUOUS)
            if args.json:
                print(json.dumps({"query": query, "found": True, "ambiguous": True,
                                  "candidates": [dict(m._asdict(), address=_hex(m.address))
                                                 for m in exc.candidates]}))
            print(f"pysyms: {exc}", file=sys.stderr)
            continue
        except SymbolNotFoundError as exc:
            found = []
            reason = str(exc)
        else:
            reason = None
        if not found:
            status = max(status, EXIT_NOT_FOUND)
            _not_found(args, query, reason)
            continue
        for match in found:
            _emit_match(args, query, match)
    return status


def cmd_grep(args):
    table = _load(args)
    status = EXIT_FOUND
    for pattern in args.patterns:
        any_found = False
        for symbol in table.glob(pattern):
            any_found = True
            _emit(args, {"pattern": pattern, "address": _hex(symbol.address), "type": symbol.type,
                         "name": symbol.name, "module": symbol.module},
                  _symbol_line(symbol))
        if not any_found:
            status = EXIT_NOT_FOUND
            _not_found(args, pattern, "no symbol matches")
    return status


_ADDRESS_ARG = re.compile(r"(?:0[xX])?[0-9a-fA-F]+")


def _parse_address(text):
    """An ADDR argument: the grammar of the stdin parser (csrc/textio.c)."""
    if not _ADDRESS_ARG.fullmatch(text) or len(text) > lib.KSYM_ADDR_TOKEN_MAX:
        raise Error(f"not a hex address: {text!r}")
    value = int(text, 16)
    if value >= 1 << 64:
        raise Error(f"address out of range: {text!r}")
    return value


# ---- stdin in chunks, addresses parsed in C (csrc/textio.c) ------------------------------------

READ_CHUNK = 1 << 20   # bytes per read of stdin
ADDRESS_BATCH = 1 << 16  # addresses per parse / format batch
_FORMAT_BUFLEN = 1 << 20  # bytes of text per ksym_format call (>= 1283 lines of KSYM_FORMAT_MAX)

_TOKEN_ERRORS = {lib.KSYM_EPARSE: "not a hex address", lib.KSYM_ERANGE: "address out of range",
                 lib.KSYM_E2BIG: f"not a hex address (longer than {lib.KSYM_ADDR_TOKEN_MAX} bytes)"}


def read_chunks(stream, size=None):
    """Chunks of bytes from a binary or text stream (text is encoded UTF-8
    with surrogateescape): its ``buffer`` when it has one, ``read1`` when it
    can (a pipe gives what it holds instead of waiting for ``size`` bytes)."""
    size = size or READ_CHUNK
    raw = getattr(stream, "buffer", stream)
    read = getattr(raw, "read1", None) or raw.read
    while True:
        chunk = read(size)
        if not chunk:
            return
        if isinstance(chunk, str):
            chunk = chunk.encode("utf-8", "surrogateescape")
        yield chunk


def address_batches(chunks, name="<stdin>", cap=None):
    """Parse whitespace-separated hex addresses from an iterable of byte
    chunks (split anywhere) in C.  Yields ``(pointer, n)``: ``n`` addresses
    at a cffi ``uint64_t *`` that the next step of the generator reuses.
    A bad token raises :class:`pysyms.ParseError` naming ``name`` and the
    token's 1-based line, after every address before it was yielded."""
    cap = cap or ADDRESS_BATCH
    if cap < 1:
        raise ValueError("cap must be at least 1")
    out = ffi.new("uint64_t[]", cap)
    consumed = ffi.new("size_t *")
    newlines = ffi.new("uint64_t *")
    error = ffi.new("int *")
    line = 1
    carry = b""
    chunks = iter(chunks)
    final = False
    while not final:
        chunk = next(chunks, None)
        if chunk is None:
            final, data = True, carry
        else:
            data = carry + bytes(chunk) if carry else bytes(chunk)
        src = ffi.from_buffer(data)
        pos = 0
        while True:
            n = lib.ksym_parse_addresses(src + pos, len(data) - pos, final, out, cap,
                                         consumed, newlines, error)
            if n < 0:
                raise Error(ffi.string(lib.ksym_strerror(n)).decode())
            pos += consumed[0]
            line += newlines[0]
            if n:
                yield out, n
            if error[0]:
                token = data[pos:pos + lib.KSYM_ADDR_TOKEN_MAX + 1].split(None, 1)[0]
                shown = token[:40].decode("utf-8", "backslashreplace") + ("..." if len(token) > 40 else "")
                raise ParseError(f"{_TOKEN_ERRORS.get(error[0], 'bad token')}: {shown!r}", name, line)
            if n < cap:
                break
        carry = data[pos:]


class _TextSink:
    """``write(bytes)`` onto a text stream that has no binary buffer."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, data):
        self.stream.write(bytes(data).decode("utf-8", "surrogateescape"))

    def flush(self):
        self.stream.flush()


def _binary_stdout():
    sys.stdout.flush()  # text printed before goes first
    buffer = getattr(sys.stdout, "buffer", None)
    return buffer if buffer is not None else _TextSink(sys.stdout)


def addr_stream(table, batches, out):
    """The ``%pS`` text of every address of ``batches`` (from
    :func:`address_batches`) written to ``out`` (binary) in large writes,
    formatted in C.  Returns EXIT_NOT_FOUND if an address had no symbol,
    else EXIT_FOUND."""
    status = EXIT_FOUND
    plus = ord("+")
    for ptr, n in batches:
        text = table.format_bytes(ffi.buffer(ptr, 8 * n))
        # only an unresolved address's line ("0x<hex>") lacks the '+' of "+0xoff"
        if status == EXIT_FOUND and lib.ksym_count_lines_without(text, len(text), plus):
            status = EXIT_NOT_FOUND
        out.write(text)
        out.flush()
    return status


def _addr_one(args, table, address):
    info = table.lookup_addr(address)
    if info is None:
        _emit(args, {"query": _hex(address), "found": False}, _hex(address))
        return EXIT_NOT_FOUND
    _emit(args, {"query": _hex(address), "found": True, "name": info.name,
                 "address": _hex(info.address), "offset": _hex(info.offset),
                 "size": _hex(info.size), "module": info.module, "index": info.index},
          info.format())
    return EXIT_FOUND


def _stdin_addresses():
    for ptr, n in address_batches(read_chunks(sys.stdin)):
        yield from ffi.unpack(ptr, n)


def cmd_addr(args):
    table = _load(args)
    if not args.addresses and not args.json:
        return addr_stream(table, address_batches(read_chunks(sys.stdin)), _binary_stdout())
    status = EXIT_FOUND
    addresses = (_parse_address(text) for text in args.addresses) if args.addresses else _stdin_addresses()
    for address in addresses:
        status = max(status, _addr_one(args, table, address))
    return status


# ---- symbolize ------------------------------------------------------------------------------------


class _InputLines:
    """``with _InputLines(path) as lines``: the text lines of FILE, or of
    stdin for None or '-' (UTF-8, surrogateescape), as a file object whose
    iteration runs in C."""

    def __init__(self, path):
        self.path = path
        self._file = self._wrapper = None

    def __enter__(self):
        if self.path is not None and self.path != "-":
            self._file = open(self.path, encoding="utf-8", errors="surrogateescape")
            return self._file
        buffer = getattr(sys.stdin, "buffer", None)
        if buffer is None:
            return sys.stdin
        self._wrapper = io.TextIOWrapper(buffer, encoding="utf-8", errors="surrogateescape")
        return self._wrapper

    def __exit__(self, *exc):
        if self._file is not None:
            self._file.close()
        if self._wrapper is not None:
            self._wrapper.detach()  # leave sys.stdin's buffer open
        return False


def cmd_symbolize(args):
    table = _load(args)
    name = "<stdin>" if args.file in (None, "-") else args.file
    with _InputLines(args.file) as lines:
        result = stacks.collapse(lines, table, input_format=args.input, name=name,
                                 modules=args.modules, offsets=args.offsets, comm=not args.no_comm,
                                 keep_unknown=args.keep_unknown)
    out = _binary_stdout()
    pending, size = [], 0
    for frames, count in result:
        if args.json:
            text = json.dumps({"stack": list(frames), "count": count})
        else:
            text = f"{';'.join(frames)} {count}"
        pending.append(text)
        size += len(text)
        if size >= _FORMAT_BUFLEN:
            out.write(("\n".join(pending) + "\n").encode("utf-8", "surrogateescape"))
            pending, size = [], 0
    if pending:
        out.write(("\n".join(pending) + "\n").encode("utf-8", "surrogateescape"))
    out.flush()
    return EXIT_FOUND


# ---- progress on a terminal -------------------------------------------------------------------------

PROGRESS_DELAY = 0.5  # seconds of silence before the spinner shows
_SPINNER = "|/-\\"


class Progress:
    """``with Progress("building table from X") as bar:`` shows, on stderr
    when the block runs longer than PROGRESS_DELAY and stderr is a
    terminal, ``X ... [#####-----]  50% 1.5 s`` once ``bar.update(f)`` has
    given the fraction done (a spinner before that), then ``X ... done in N
    ms``; nothing otherwise."""

    WIDTH = 24  # characters of the bar

    def __init__(self, what, stream=None, delay=None, interval=0.1):
        self.what = what
        self.stream = stream if stream is not None else sys.stderr
        self.delay = PROGRESS_DELAY if delay is None else delay
        self.interval = interval
        self.shown = False
        self.fraction = None
        self._stop = threading.Event()
        self._thread = None

    def update(self, fraction):
        """The fraction of the work done, 0.0 to 1.0 (pysyms.reporting_progress calls it)."""
        self.fraction = min(max(float(fraction), 0.0), 1.0)

    def _isatty(self):
        try:
            return self.stream.isatty()
        except (AttributeError, ValueError):
            return False

    def _line(self, k, elapsed):
        if self.fraction is None:
            return f"{self.what} ... {_SPINNER[k % len(_SPINNER)]} {elapsed:.1f} s"
        filled = int(self.fraction * self.WIDTH)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        return f"{self.what} ... [{bar}] {self.fraction:4.0%} {elapsed:.1f} s"

    def _spin(self):
        if self._stop.wait(self.delay):
            return
        k = 0
        while True:
            self.stream.write("\r" + self._line(k, time.perf_counter() - self._start))
            self.stream.flush()
            self.shown = True
            k += 1
            if self._stop.wait(self.interval):
                return

    def __enter__(self):
        self._start = time.perf_counter()
        if self._isatty():
            self._thread = threading.Thread(target=self._spin, name="pysyms-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, exc_type, exc, tb):
        if self._thread is None:
            return False
        self._stop.set()
        self._thread.join()
        if self.shown:
            ms = (time.perf_counter() - self._start) * 1e3
            # \x1b[K clears the rest of the longer progress line
            self.stream.write(f"\r\x1b[K{self.what} ... {'failed' if exc_type else 'done'} in {ms:.0f} ms\n")
            self.stream.flush()
        return False


def build_parser():
    """The argparse parser of the ``pysyms`` command."""
    output = argparse.ArgumentParser(add_help=False)
    output.add_argument("--json", action="store_true", help="print one JSON object per line")
    source = argparse.ArgumentParser(add_help=False, parents=[output])
    source.add_argument("--source", default=DEFAULT_SOURCE, metavar="FILE",
                        help="kallsyms, System.map, nm [-S] listing, perf-PID.map or ELF file (default: %(default)s)")
    common = argparse.ArgumentParser(add_help=False, parents=[source])
    common.add_argument("-t", "--table", metavar="TABLE",
                        help="read a table file saved by 'build -o' instead of --source")

    parser = argparse.ArgumentParser(prog="pysyms", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = commands.add_parser("build", parents=[source], help="build a table, report on it, save it")
    build.add_argument("source_arg", nargs="?", metavar="SOURCE",
                       help="input: a listing, perf-PID.map or ELF file (default: --source, i.e. /proc/kallsyms)")
    build.add_argument("--vmlinux", metavar="IMAGE",
                       help="read the kernel's own kallsyms tables from a vmlinux, vmlinuz (bzImage), "
                            "arm64 Image or s390 image instead of a listing")
    build.add_argument("--slide", type=lambda text: int(text, 0), default=0, metavar="N",
                       help="with --vmlinux: add this KASLR offset to the link-time addresses")
    build.add_argument("-o", "--output", metavar="TABLE",
                       help="save the table to this file (written atomically; open with -t)")
    build.set_defaults(func=cmd_build)

    lookup = commands.add_parser("lookup", parents=[common], help="name lookups (module:name works)")
    lookup.add_argument("names", nargs="+", metavar="NAME")
    lookup.add_argument("--suffix", choices=("none", "llvm", "clone"), default="none",
                        help="also match compiler-renamed names when no exact one exists: "
                             "name.llvm.<hash> (llvm), or any name.<suffix> (clone)")
    lookup.add_argument("--unique", action="store_true",
                        help="require one match: several exit 3 and list the candidates on stderr")
    lookup.add_argument("--sympos", type=int, default=0, metavar="N",
                        help="print only the N-th match in address order (1-based)")
    lookup.set_defaults(func=cmd_lookup)

    grep = commands.add_parser("grep", parents=[common],
                               help="symbols matching ftrace-style globs (* ? [...]), table order")
    grep.add_argument("patterns", nargs="+", metavar="PATTERN")
    grep.set_defaults(func=cmd_grep)

    addr = commands.add_parser("addr", parents=[common], help="address lookups (%%pS format)")
    addr.add_argument("addresses", nargs="*", metavar="ADDR", help="hex addresses; stdin if none")
    addr.set_defaults(func=cmd_addr)

    symbolize = commands.add_parser(
        "symbolize", parents=[common],
        help="perf script output or folded stacks -> symbolized folded stacks (flame graphs)")
    symbolize.add_argument("file", nargs="?", metavar="FILE", help="input (default: stdin; '-' too)")
    symbolize.add_argument("--input", choices=stacks.INPUT_FORMATS, default="auto",
                           help="input format (default: %(default)s, told by the first lines)")
    symbolize.add_argument("--modules", action="store_true",
                           help="append ' [module]' to module symbols' frames")
    symbolize.add_argument("--offsets", action="store_true",
                           help="keep offsets in frames: name+0x1a")
    symbolize.add_argument("--no-comm", action="store_true",
                           help="perf script: no command-name frame at the root")
    symbolize.add_argument("--keep-unknown", action="store_true",
                           help="unresolved addresses as 0x<hex> instead of [unknown]")
    symbolize.set_defaults(func=cmd_symbolize)

    info = commands.add_parser("info", parents=[common], help="symbol count and compression")
    info.set_defaults(func=cmd_info)

    check = commands.add_parser("check", parents=[output],
                                help="does a saved table still match the running kernel?")
    check.add_argument("table_file", metavar="TABLE")
    check.set_defaults(func=cmd_check)
    return parser


def main(argv=None):
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except Error as exc:
        print(f"pysyms: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            sys.stderr.close()
            return EXIT_FOUND
        print(f"pysyms: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
