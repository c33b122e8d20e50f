"""Stacks of raw addresses into symbolized folded stacks (``pysyms symbolize``).

Two inputs, told apart by their first lines unless ``input_format`` says
which (``'auto'``, ``'perf'``, ``'folded'``); the output is folded stacks
for flamegraph.pl or speedscope: ``root;...;leaf COUNT``, one line per
distinct stack, identical stacks merged (counts summed), sorted.

**Folded stacks**, one per line::

    FRAME;FRAME;...;FRAME COUNT

``COUNT`` (a non-negative integer) follows the last run of blanks; the
frames, root first, are split at ``;``.  A frame that is a hex address,
``0x`` and 1-16 hex digits or *8 to 16* hex digits without the prefix
(kernel addresses: ``ffffffff81234567``), is symbolized; anything else
is a name and stays as it is (``[unknown]``, ``main``, ``cafe``: shorter
hex-looking frames need the ``0x`` to count as addresses, and names of 8 to
16 hex digits cannot be told from addresses).  Blank lines are skipped;
any other line without a count is an error (its line number is reported).
Addresses are looked up as they are (which of them are return addresses is
not known).

**perf script**, its default text format (``perf record -g``; ``perf
script`` with or without ``-F``)::

    # comments (perf script --header) are skipped
    swapper     0 [001] 12345.678901:     250000 cpu-clock:ppp:
    \tffffffff81b2a5e1 native_safe_halt+0x11 ([kernel.kallsyms])
    \tffffffff81b2a8f3 default_idle+0x13 ([kernel.kallsyms])
    \tffffffff810f4dd8 do_idle+0x1e8 ([kernel.kallsyms])
    \tffffffff810f5032 cpu_startup_entry+0x22 ([kernel.kallsyms])
    \tffffffff81000145 secondary_startup_64+0x145 ([kernel.kallsyms])
    <blank line>

becomes (over a table with these functions; ``--no-comm`` drops ``swapper``)::

    swapper;secondary_startup_64;cpu_startup_entry;do_idle;default_idle;native_safe_halt 1

- A *header* line starts with a non-blank byte.  The command name is what
  precedes the pid (``COMM PID[/TID] ...``; a name may hold blanks, which
  become ``_`` as stackcollapse-perf writes them), else the first word.
- A *stack* line starts with a blank, then a hex address (``0x`` optional);
  the rest, ``sym+off (dso)``, is perf's own symbol.  Stack lines come leaf
  first, so the folded stack is their reverse, with the command name in
  front.  Indented lines that do not start with an address (``--srcline``
  output, ...) are skipped; so is a stack line before any header.
- A sample ends at a blank line, the next header, or the end of the input,
  and counts 1.  A sample without stack lines is its header's own address
  when the header ends like ``... event:  ADDR sym+off (dso)`` (``perf
  script`` without ``-g``), else the command name alone.

Symbolization: every address is resolved with the table, not with perf's
symbol: the leaf at its address, the callers (return addresses) at the
address minus one, as the kernel's ``%pB`` does, so that a call that ends
its function is not attributed to the next one.  Frames are the symbol's
name (``%ps`` without the module); ``modules=True`` appends `` [module]``
for module symbols, ``offsets=True`` appends the address's offset,
``name+0x1a`` (of the address itself, ``%pB``'s offset for callers).

An address that no symbol of the table covers is perf's own symbol name
when perf had one (without its offset unless ``offsets``; user-space frames
in a kernel table's profile), else ``[unknown]`` (stackcollapse-perf's
word), or with ``keep_unknown=True`` the address itself, ``0x<hex>``.
Folded input has no perf symbol, so its unresolved addresses are
``[unknown]`` (or ``0x<hex>``).

Memory: each distinct frame and each distinct stack (a tuple of frame ids)
is held once while the input is read, with up to 2^20 distinct perf stack
lines remembered (a line seen before costs one dict lookup); addresses are
resolved in one batch (``SymbolTable.symbolize`` and ``format``) at the end.
"""

import re
from array import array
from itertools import chain

from .errors import ParseError

__all__ = ["StackCollector", "collapse", "detect_format", "INPUT_FORMATS"]

INPUT_FORMATS = ("auto", "perf", "folded")
UNKNOWN = "[unknown]"

_FOLDED_ADDRESS = re.compile(r"0[xX][0-9a-fA-F]{1,16}|[0-9a-fA-F]{8,16}")
_FOLDED_LINE = re.compile(r"(.*?)\s+(\d+)\s*")
_PERF_COMM = re.compile(r"(\S.*?)\s+\d+(?:/\d+)?(?:\s|$)")
# perf script without a callchain: the sample's address after the event's colon,
# then perf's symbol and "(dso)" (or nothing); the period before the event is
# decimal, and followed by the event name, not by "(dso)"
_PERF_HEADER_IP = re.compile(r".*:\s+(?:0[xX])?([0-9a-fA-F]{1,16})(?:\s+(.*\)))?\s*")
_PERF_STACK = re.compile(r"\s+(?:0[xX])?([0-9a-fA-F]{1,16})(?:\s+(.*?))?\s*")
_PERF_DSO = re.compile(r"\s*\([^()]*\)\s*$")
_SYM_OFFSET = re.compile(r"\+0x[0-9a-fA-F]+$")


def detect_format(lines):
    """``'perf'`` or ``'folded'`` for the first lines of an input: folded
    when its first line (blank and ``#`` lines aside) ends in a count and
    the next line is not indented, else perf script."""
    first = None
    for line in lines:
        if first is None:
            if not line.strip() or line.startswith("#"):
                continue
            if line[:1].isspace():
                return "perf"
            first = line
            continue
        if line[:1].isspace() and line.strip():
            return "perf"
        break
    if first is not None and _FOLDED_LINE.fullmatch(first.rstrip("\r\n")):
        return "folded"
    return "perf" if first is not None else "folded"


class StackCollector:
    """Reads stacks, merges them, resolves their addresses in one batch.

    ``add_folded(lines)`` / ``add_perf(lines)`` take an iterable of text
    lines (any number of calls); ``result(table)`` gives the merged,
    symbolized stacks as a sorted list of ``(frames, count)``.
    """

    def __init__(self, modules=False, offsets=False, comm=True, keep_unknown=False, name="<stdin>"):
        self.modules = modules
        self.offsets = offsets
        self.comm = comm
        self.keep_unknown = keep_unknown
        self.name = name
        # frame key -> id; a key is a str (a name, kept as it is) or a tuple
        # (address, adjust, perf_symbol): look up address - adjust
        self._ids = {}
        self._keys = []
        self._stacks = {}  # tuple of frame ids, root first -> count
        self._folded_cache = {}  # folded frame text -> id
        self._perf_cache = {}  # perf stack line -> (frame id as a leaf, frame id as a caller)

    # ---- frames ------------------------------------------------------------------

    def _frame_id(self, key):
        fid = self._ids.get(key)
        if fid is None:
            fid = self._ids[key] = len(self._keys)
            self._keys.append(key)
        return fid

    def _folded_frame(self, text):
        fid = self._folded_cache.get(text)
        if fid is None:
            if _FOLDED_ADDRESS.fullmatch(text):
                fid = self._frame_id((int(text, 16), 0, None))
            else:
                fid = self._frame_id(text)
            self._folded_cache[text] = fid
        return fid

    def _add(self, ids, count):
        self._stacks[ids] = self._stacks.get(ids, 0) + count

    # ---- folded input ---------------------------------------------------------------

    def add_folded(self, lines, first_line=1):
        for number, line in enumerate(lines, first_line):
            text = line.rstrip("\r\n")
            if not text.strip():
                continue
            m = _FOLDED_LINE.fullmatch(text)
            if m is None:
                raise ParseError(f"not a folded stack (FRAME;...;FRAME COUNT): {text[:80]!r}",
                                 self.name, number)
            frame = self._folded_frame
            self._add(tuple([frame(f) for f in m.group(1).split(";")]), int(m.group(2)))

    # ---- perf script input ------------------------------------------------------------

    def _perf_symbol(self, rest):
        """perf's symbol from ``sym+off (dso)``: None when perf had none."""
        if not rest:
            return None
        sym = _PERF_DSO.sub("", rest)
        if not self.offsets:
            sym = _SYM_OFFSET.sub("", sym)
        if not sym or sym == UNKNOWN:
            return None
        return sym

    def _address_frames(self, address, perf_sym):
        """Frame ids of an address as a leaf and as a caller (a return
        address: looked up at address - 1)."""
        leaf = self._frame_id((address, 0, perf_sym))
        return leaf, (self._frame_id((address, 1, perf_sym)) if address else leaf)

    def _perf_stack_line(self, line):
        """(leaf id, caller id) of a stack line, or None if it has no address."""
        m = _PERF_STACK.fullmatch(line.rstrip("\r\n"))
        if m is None:
            return None
        return self._address_frames(int(m.group(1), 16), self._perf_symbol(m.group(2)))

    def _perf_header(self, line):
        """(comm frame id or None, the header's own frame id or None)."""
        text = line.rstrip("\r\n")
        m = _PERF_COMM.match(text)
        comm = (m.group(1) if m else text.split(None, 1)[0]).replace(" ", "_")
        ip = _PERF_HEADER_IP.fullmatch(text)
        header_leaf = None
        if ip:
            header_leaf = self._frame_id((int(ip.group(1), 16), 0, self._perf_symbol(ip.group(2))))
        return (self._frame_id(comm) if self.comm else None), header_leaf

    def _perf_sample(self, comm, header_leaf, ids):
        """ids: the sample's frame ids, leaf first (the leaf's own, then the
        callers'); consumed."""
        if not ids and header_leaf is not None:
            ids.append(header_leaf)
        if comm is not None:
            ids.append(comm)
        if ids:
            ids.reverse()
            key = tuple(ids)
            self._stacks[key] = self._stacks.get(key, 0) + 1

    def add_perf(self, lines):
        # The hot loop: a stack line seen before is one dict lookup.
        cache = self._perf_cache
        cache_limit = 1 << 20  # distinct stack lines remembered
        in_sample = False
        comm = header_leaf = None
        ids = []
        for line in lines:
            hit = cache.get(line)
            if hit is not None:
                if in_sample:
                    ids.append(hit[1] if ids else hit[0])
                continue
            first = line[:1]
            if first.isspace():
                if not line.strip():  # blank: the end of a sample
                    if in_sample:
                        self._perf_sample(comm, header_leaf, ids)
                        in_sample, ids = False, []
                    continue
                hit = self._perf_stack_line(line)
                if hit is None:
                    continue
                if len(cache) < cache_limit:
                    cache[line] = hit
                if in_sample:
                    ids.append(hit[1] if ids else hit[0])
                continue
            if not first or first == "#":
                continue
            if in_sample:
                self._perf_sample(comm, header_leaf, ids)
                ids = []
            comm, header_leaf = self._perf_header(line)
            in_sample = True
        if in_sample:
            self._perf_sample(comm, header_leaf, ids)

    # ---- the answer -------------------------------------------------------------------

    def _frame_texts(self, table):
        keys = self._keys
        texts = [k if k.__class__ is str else None for k in keys]
        where = [i for i, k in enumerate(keys) if k.__class__ is not str]
        if not where:
            return texts
        queries = array("Q", [keys[i][0] - keys[i][1] for i in where])
        indexes, offsets = table.symbolize(queries)
        names = table.format(queries, "%ps")  # 'name' or 'name [module]'
        for j, i in enumerate(where):
            address, adjust, perf_sym = keys[i]
            if indexes[j] < 0:
                if perf_sym is not None:
                    texts[i] = perf_sym
                else:
                    texts[i] = f"{address:#x}" if self.keep_unknown else UNKNOWN
                continue
            name, _, module = names[j].partition(" ")
            if self.offsets:
                name += f"+{offsets[j] + adjust:#x}"
            if self.modules and module:
                name += " " + module
            texts[i] = name
        return texts

    def result(self, table):
        """The merged stacks, ``[(frames, count)]`` sorted by their folded text."""
        texts = self._frame_texts(table)
        merged = {}
        text_of = texts.__getitem__
        for ids, count in self._stacks.items():
            frames = tuple(map(text_of, ids))
            merged[frames] = merged.get(frames, 0) + count
        return sorted(merged.items(), key=lambda item: ";".join(item[0]))


def collapse(lines, table, input_format="auto", name="<stdin>", **options):
    """Symbolized folded stacks of an input (an iterable of text lines):
    ``[(frames, count)]``, merged and sorted.  ``options``: ``modules``,
    ``offsets``, ``comm``, ``keep_unknown`` (see the module docstring)."""
    if input_format not in INPUT_FORMATS:
        raise ValueError(f"input_format must be one of {', '.join(INPUT_FORMATS)}, not {input_format!r}")
    lines = iter(lines)
    head = []
    if input_format == "auto":
        # enough lines to decide: through the first content line and one more
        content = 0
        for line in lines:
            head.append(line)
            if line.strip() and not line.startswith("#"):
                content += 1
                if content == 2 or line[:1].isspace():
                    break
        input_format = detect_format(head)
    collector = StackCollector(name=name, **options)
    if input_format == "folded":
        collector.add_folded(chain(head, lines))
    else:
        collector.add_perf(chain(head, lines))
    return collector.result(table)
