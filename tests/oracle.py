"""Independent oracles for the test suite.

Nothing here imports pysyms: these are plain-Python restatements of
DESIGN.md ("The table", "Semantics") and docs/sources.md, written from the
spec rather than from either implementation, so that a bug shared by the C
core and the reference still shows up.

Records are normalised to ``Rec(address, type, name, module, size)`` with
``type`` a one-character str, ``name`` bytes, ``module`` bytes or None and
``size`` an int (0, unknown, for 4-field records).
"""

import struct
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict, namedtuple

NAME_MAX = 511
MODULE_NAME_MAX = 255
MARKER_STRIDE = 256
TOKENS = 256

Rec = namedtuple("Rec", "address type name module size")


def to_bytes(value):
    if value is None:
        return None
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    return bytes(value)


def to_str(value):
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return bytes(value).decode("utf-8", "surrogateescape")


def normalise(record):
    address, type_, name, module, size = record if len(record) == 5 else (*record, 0)
    if isinstance(type_, (bytes, bytearray)):
        type_ = type_.decode("latin-1")
    module = to_bytes(module)
    return Rec(address, type_, to_bytes(name), module if module else None, size)


def as_symbol_tuple(rec):
    """The (address, type, name, module) tuple a ``Symbol`` of ``rec`` equals."""
    return (rec.address, rec.type, to_str(rec.name), to_str(rec.module))


# ---- DESIGN.md "Order" --------------------------------------------------------


def is_weak(type_):
    return type_ in ("w", "W")


def is_linker_provided(name):
    """At least 8 bytes, starts with ``__``, and is ``__start_*``,
    ``__stop_*``, ``__end_*``, ``*_start`` or ``*_end``."""
    if len(name) < 8 or name[:2] != b"__":
        return False
    return (name[2:8] == b"start_" or name[2:7] == b"stop_" or name[2:6] == b"end_"
            or name[-6:] == b"_start" or name[-4:] == b"_end")


def leading_underscores(name):
    n = 0
    while n < len(name) and name[n] == 0x5F:
        n += 1
    return n


def kernel_sort(records):
    """Records (normalised) in the kernel's table order."""
    recs = [normalise(r) for r in records]
    keyed = []
    for position, r in enumerate(recs):
        keyed.append(((r.address, 1 if is_weak(r.type) else 0, 1 if is_linker_provided(r.name) else 0,
                       leading_underscores(r.name), position), r))
    keyed.sort(key=lambda kv: kv[0])
    return [r for _, r in keyed]


class Oracle:
    """Brute-force answers over a sorted record list (DESIGN.md "Semantics")."""

    def __init__(self, records):
        self.recs = kernel_sort(records)
        self.addresses = [r.address for r in self.recs]
        self.by_name = defaultdict(list)
        for i, r in enumerate(self.recs):
            self.by_name[r.name].append(i)

    def __len__(self):
        return len(self.recs)

    def symbols(self):
        return [as_symbol_tuple(r) for r in self.recs]

    def lookup_all(self, name):
        indexes = self.by_name.get(to_bytes(name), [])
        # address order; equal addresses by index
        return sorted(indexes, key=lambda i: (self.addresses[i], i))

    def lookup_name_index(self, name):
        matches = self.lookup_all(name)
        return matches[0] if matches else None

    def lookup_name(self, name):
        i = self.lookup_name_index(name)
        return None if i is None else self.addresses[i]

    def lookup_addr(self, q):
        """``(name, address, offset, size, module, index)`` or None."""
        addrs = self.addresses
        if not addrs or q < addrs[0]:
            return None
        last = bisect_right(addrs, q) - 1
        start = addrs[last]
        first = bisect_left(addrs, start)
        nxt = last + 1
        # DESIGN.md "Address lookup": a first alias with a size covers
        # exactly that many bytes; otherwise the next symbol bounds the size
        # inside one region (the same module), and the last symbol of a
        # region's run (no region ends here) covers only its own address.
        if self.recs[first].size:
            size = self.recs[first].size
            if q - start >= size:
                return None
        elif nxt < len(addrs) and self.recs[nxt].module == self.recs[last].module:
            size = addrs[nxt] - start
        elif q == start:
            size = 0
        else:
            return None
        r = self.recs[first]
        return (to_str(r.name), start, q - start, size, to_str(r.module), first)

    def name_order(self):
        """Indexes sorted by (name bytes, address, index)."""
        return sorted(range(len(self.recs)), key=lambda i: (self.recs[i].name, self.addresses[i], i))

    def probe_addresses(self):
        """Addresses at, just around, between, below and above the symbols."""
        out = {0, (1 << 64) - 1}
        addrs = sorted(set(self.addresses))
        for a in addrs:
            out.update(x for x in (a - 1, a, a + 1) if 0 <= x < 1 << 64)
        for r in self.recs:  # both sides of a sized symbol's end
            if r.size:
                out.update(x for x in (r.address + r.size - 1, r.address + r.size) if x < 1 << 64)
        for a, b in zip(addrs, addrs[1:]):
            out.add((a + b) // 2)
            out.add(b - 1)
        return sorted(out)


# ---- DESIGN.md "The table": an independent compressor and encoder -----------


def greedy_compress(strings):
    """The kernel's greedy pair substitution, written plainly.

    Returns (compressed strings as bytes of codes, 256 token expansions).
    """
    syms = [bytes(s) for s in strings]
    tokens = [b""] * TOKENS
    for s in syms:
        for b in s:
            tokens[b] = bytes((b,))

    def pairs(s):
        return Counter(s[k:k + 2] for k in range(len(s) - 1))

    counts = Counter()
    for s in syms:
        counts.update(pairs(s))
    for code in range(TOKENS - 1, -1, -1):
        if tokens[code]:
            continue
        best, best_count = None, 0
        for pair, count in counts.items():
            if count <= 0:
                continue
            index = pair[0] + 256 * pair[1]
            if count > best_count or (count == best_count and index < best[0] + 256 * best[1]):
                best, best_count = pair, count
        if best is None:
            break
        tokens[code] = tokens[best[0]] + tokens[best[1]]
        new = bytes((code,))
        for k, s in enumerate(syms):
            if best in s:
                counts.subtract(pairs(s))
                s = s.replace(best, new)  # non-overlapping, left to right
                counts.update(pairs(s))
                syms[k] = s
        counts = +counts
    return syms, tokens


def length_prefix(n):
    if n < 0x80:
        return bytes((n,))
    assert n >> 7 <= 0x7F
    return bytes(((n & 0x7F) | 0x80, n >> 7))


def expected_arrays(records):
    """All five kernel arrays for ``records``, computed from the spec only."""
    oracle = Oracle(records)
    strings = [r.type.encode("latin-1") + r.name for r in oracle.recs]
    compressed, tokens = greedy_compress(strings)
    names = bytearray()
    markers = []
    for i, codes in enumerate(compressed):
        if i % MARKER_STRIDE == 0:
            markers.append(len(names))
        names += length_prefix(len(codes)) + codes
    table = bytearray()
    index = []
    for t in tokens:
        index.append(len(table))
        table += t + b"\0"
    seqs = b"".join(i.to_bytes(3, "big") for i in oracle.name_order())
    return {
        "names": bytes(names),
        "markers": struct.pack(f"<{len(markers)}I", *markers),
        "token_table": bytes(table),
        "token_index": struct.pack("<256H", *index),
        "seqs_of_names": seqs,
    }


# ---- reading kernel arrays -----------------------------------------------------


def read_tokens(arrays):
    index = struct.unpack("<256H", arrays["token_index"])
    table = arrays["token_table"]
    return [table[off:table.index(b"\0", off)] for off in index], index


def split_names(names):
    """Records of ``names``: list of (offset, prefix length, codes)."""
    out = []
    off = 0
    while off < len(names):
        n = names[off]
        if n & 0x80:
            assert off + 1 < len(names), "truncated 2-byte prefix"
            hi = names[off + 1]
            assert hi <= 0x7F, f"third length byte at {off}"
            n = (n & 0x7F) | (hi << 7)
            plen = 2
        else:
            plen = 1
        codes = names[off + plen: off + plen + n]
        assert len(codes) == n, f"record at {off} runs past the end"
        out.append((off, plen, codes))
        off += plen + n
    return out


def check_arrays(arrays, records):
    """Structural checks of ``kernel_arrays()`` against DESIGN.md "The table",
    independent of both implementations.  Raises AssertionError on the first
    violation."""
    oracle = Oracle(records)
    n = len(oracle)
    expected_strings = [r.type.encode("latin-1") + r.name for r in oracle.recs]

    # token_table / token_index
    assert len(arrays["token_index"]) == 2 * TOKENS
    tokens, index = read_tokens(arrays)
    table = arrays["token_table"]
    assert table.count(b"\0") == TOKENS, "token table must hold exactly 256 NUL-terminated strings"
    assert index[0] == 0
    for c in range(TOKENS - 1):
        assert index[c + 1] == index[c] + len(tokens[c]) + 1, f"token_index[{c + 1}]"
    assert len(table) == index[-1] + len(tokens[-1]) + 1

    occurring = set()
    for s in expected_strings:
        occurring.update(s)
    for c in range(TOKENS):
        if c in occurring:
            assert tokens[c] == bytes((c,)), f"code {c:#x} occurs literally but its token is {tokens[c]!r}"
        else:
            assert len(tokens[c]) != 1, f"code {c:#x} never occurs but is a 1-byte token"
    # every pair token splits into two tokens that existed before it
    # (literals, or codes assigned earlier = higher codes)
    for c in range(TOKENS):
        t = tokens[c]
        if len(t) < 2:
            continue
        assert any(
            tokens[x] + tokens[y] == t
            for x in range(TOKENS) if (x in occurring or x > c) and tokens[x] and t.startswith(tokens[x])
            for y in range(TOKENS) if (y in occurring or y > c) and tokens[y]
        ), f"token {c:#x} = {t!r} is not the pair of two earlier tokens"
    # slots are filled from the top: an empty free code means every lower free code is empty
    empty = [c for c in range(TOKENS) if not tokens[c]]
    if empty:
        top = max(empty)
        for c in range(top):
            assert c in occurring or not tokens[c], f"code {c:#x} filled below empty code {top:#x}"

    # names
    recs = split_names(arrays["names"])
    assert len(recs) == n, f"{len(recs)} records in names, {n} symbols"
    for i, (off, plen, codes) in enumerate(recs):
        assert len(codes) > 0
        assert (plen == 2) == (len(codes) > 0x7F), f"record {i}: prefix of {plen} bytes for {len(codes)} codes"
        text = b"".join(tokens[c] for c in codes)
        assert all(tokens[c] for c in codes), f"record {i} uses an empty token"
        assert text == expected_strings[i], f"record {i} decodes to {text!r}, expected {expected_strings[i]!r}"
    if empty:
        # compression stopped for lack of pairs: no record has two codes left
        assert all(len(codes) == 1 for _, _, codes in recs)

    # markers
    markers = arrays["markers"]
    assert len(markers) == 4 * ((n + MARKER_STRIDE - 1) // MARKER_STRIDE)
    for k, m in enumerate(struct.unpack(f"<{len(markers) // 4}I", markers)):
        assert m == recs[k * MARKER_STRIDE][0], f"marker {k}"

    # seqs_of_names
    seqs = arrays["seqs_of_names"]
    assert len(seqs) == 3 * n
    order = [int.from_bytes(seqs[3 * j:3 * j + 3], "big") for j in range(n)]
    assert sorted(order) == list(range(n)), "seqs_of_names is not a permutation"
    keys = [(oracle.recs[i].name, oracle.addresses[i], i) for i in order]
    assert all(a < b for a, b in zip(keys, keys[1:])), "seqs_of_names not in (name, address, index) order"
    return recs, tokens


# ---- docs/sources.md: the text grammar ------------------------------------------


def split_kallsyms_lines(data):
    """Plain parse of well-formed text (kallsyms / nm output) for real-data
    tests: ``(address, type, name, module)`` records in file order, nm's
    address-less lines skipped."""
    out = []
    for line in data.split(b"\n"):
        if line.endswith(b"\r"):
            line = line[:-1]
        fields = line.replace(b"\t", b" ").split(b" ")
        fields = [f for f in fields if f]
        if not fields or (len(fields) == 2 and len(fields[0]) == 1):
            continue
        if len(fields) == 3:
            out.append(Rec(int(fields[0], 16), fields[1].decode("ascii"), fields[2], None, 0))
        elif len(fields) == 4 and fields[3].startswith(b"["):
            out.append(Rec(int(fields[0], 16), fields[1].decode("ascii"), fields[2], fields[3][1:-1], 0))
        elif len(fields) == 4:
            out.append(Rec(int(fields[0], 16), fields[2].decode("ascii"), fields[3], None,
                           int(fields[1], 16)))
        else:
            raise ValueError(f"unexpected line {line!r}")
    return out
