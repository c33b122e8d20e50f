"""The ``pysyms`` command.

    pysyms build [SOURCE] [-o TABLE]
                                   build a table, report what it holds, save it
    pysyms lookup NAME...          name lookups (every match, with how it matched)
                                   [--suffix none|llvm|clone] [--unique] [--sympos N]
    pysyms grep PATTERN...         symbols whose names match ftrace-style globs
    pysyms addr [ADDR...]          address lookups, %pS style; stdin if no ADDR
    pysyms info                    symbol count, compressed size, ratio
    pysyms check TABLE             does a saved table still match the running kernel?

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
"""

import argparse
import json
import os
import sys
import time

from . import tablefile
from .errors import AmbiguousSymbolError, Error, SymbolNotFoundError
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
    source = args.source_arg or args.source
    start = time.perf_counter()
    table = SymbolTable.from_file(source)
    elapsed = time.perf_counter() - start
    stats = table_stats(table)
    memory = table.memory_size()
    per_symbol = memory / len(table) if len(table) else 0.0
    obj = {"source": source, "symbols": len(table), "modules": len(table.modules),
           "build_ms": round(elapsed * 1e3, 3), "memory_bytes": memory,
           "compressed": stats["compressed"], "original": stats["original"],
           "ratio": round(stats["ratio"], 4)}
    text = (f"built {len(table)} symbols ({len(table.modules)} modules) from {source} in "
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


def _parse_address(text):
    try:
        value = int(text, 16)
    except ValueError:
        raise Error(f"not a hex address: {text!r}") from None
    if not 0 <= value < 1 << 64:
        raise Error(f"address out of range: {text!r}")
    return value


def _stdin_addresses():
    for line in sys.stdin:
        yield from line.split()


def cmd_addr(args):
    table = _load(args)
    status = EXIT_FOUND
    for text in args.addresses or _stdin_addresses():
        address = _parse_address(text)
        info = table.lookup_addr(address)
        if info is None:
            status = EXIT_NOT_FOUND
            _emit(args, {"query": _hex(address), "found": False}, _hex(address))
            continue
        _emit(args, {"query": _hex(address), "found": True, "name": info.name,
                     "address": _hex(info.address), "offset": _hex(info.offset),
                     "size": _hex(info.size), "module": info.module, "index": info.index},
              info.format())
    return status


def build_parser():
    """The argparse parser of the ``pysyms`` command."""
    output = argparse.ArgumentParser(add_help=False)
    output.add_argument("--json", action="store_true", help="print one JSON object per line")
    source = argparse.ArgumentParser(add_help=False, parents=[output])
    source.add_argument("--source", default=DEFAULT_SOURCE, metavar="FILE",
                        help="kallsyms, System.map or nm listing (default: %(default)s)")
    common = argparse.ArgumentParser(add_help=False, parents=[source])
    common.add_argument("-t", "--table", metavar="TABLE",
                        help="read a table file saved by 'build -o' instead of --source")

    parser = argparse.ArgumentParser(prog="pysyms", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = commands.add_parser("build", parents=[source], help="build a table, report on it, save it")
    build.add_argument("source_arg", nargs="?", metavar="SOURCE",
                       help="input listing (default: --source, i.e. /proc/kallsyms)")
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
