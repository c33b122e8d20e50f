"""Bad input: text sources (docs/sources.md) through the C reader
(``pysyms.SymbolTable.from_file``) and the Python reader
(``pysyms.reference.SymbolTable.from_file``, i.e. ``pysyms.sources``), and bad
records given to ``from_records``."""

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import oracle
import pysyms
from pysyms import InvalidSymbolError, ParseError, ZeroAddressesError

GOOD = b"ffffffff81000000 T _stext\nffffffff81000010 t foo\n"
L3 = b"ffffffff81000020 "

# (id, content, line the error names)
BAD_LINES = [
    ("truncated-2-fields", GOOD + L3 + b"T\n", 3),
    ("truncated-1-field", GOOD + b"ffffffff81000020\n", 3),
    ("truncated-last-line", GOOD + b"ffffffff810", 3),
    ("two-fields-long-first", GOOD + b"TT foo\n", 3),
    ("non-hex-address", GOOD + b"ffffffff8100002g T bar\n", 3),
    ("0x-prefix", GOOD + b"0x81000020 T bar\n", 3),
    ("17-digit-address", GOOD + b"0ffffffff81000020 T bar\n", 3),
    ("17-digit-zero-address", GOOD + b"00000000000000000 T bar\n", 3),
    ("signed-address", GOOD + b"+1000 T bar\n", 3),
    ("name-512-bytes", GOOD + L3 + b"T " + b"n" * 512 + b"\n", 3),
    ("type-two-chars", GOOD + L3 + b"TT bar\n", 3),
    ("type-control-char", GOOD + L3 + b"\x01 bar\n", 3),
    ("type-high-byte", GOOD + L3 + b"\xe9 bar\n", 3),
    ("too-many-fields-module", GOOD + L3 + b"T bar [mod] extra\n", 3),
    ("too-many-fields-5", GOOD + L3 + b"T bar baz qux\n", 3),
    ("four-fields-not-nm-S", GOOD + L3 + b"T bar baz\n", 3),
    ("nm-S-bad-size", GOOD + L3 + b"00x7 T bar\n", 3),
    ("nm-S-17-digit-size", GOOD + L3 + b"00000000000000017 T bar\n", 3),
    ("module-unclosed", GOOD + L3 + b"t bar\t[mod\n", 3),
    ("module-empty", GOOD + L3 + b"t bar\t[]\n", 3),
    ("module-inner-bracket", GOOD + L3 + b"t bar\t[a]b]\n", 3),
    ("module-inner-open", GOOD + L3 + b"t bar\t[a[b]\n", 3),
    ("module-256-bytes", GOOD + L3 + b"t bar\t[" + b"m" * 256 + b"]\n", 3),
    ("module-no-open", GOOD + L3 + b"t bar mod]\n", 3),
    ("nul-in-name", GOOD + L3 + b"T ba\x00r\n", 3),
    ("nul-after-fields", GOOD + L3 + b"T bar \x00\n", 3),
    ("vertical-tab-in-name", GOOD + L3 + b"T ba\x0br\n", 3),
    ("inner-cr-in-name", GOOD + L3 + b"T ba\rr\n", 3),
    ("first-bad-line-wins", GOOD + b"bad\n" + L3 + b"T \x00\n", 3),
    ("garbage-first-line", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", 1),
    ("garbage-with-nul", b"\x00\x01\x02\x03 \xff\xfe", 1),
    ("garbage-after-good", GOOD + bytes(range(256)), 3),
]

# (id, content) that are errors about the whole source (line 0)
NO_SYMBOLS = [
    ("empty", b""),
    ("whitespace-only", b"  \n\t\n\n   \t \n\r\n"),
    ("only-undefined", b"                 U malloc\n                 w __gmon_start__\n"),
]
ZERO = [
    ("kallsyms-unprivileged", b"0000000000000000 T _stext\n0000000000000000 t foo\n"
                              b"0000000000000000 t bar\t[mod]\n"),
    ("single-zero", b"0 T x\n"),
    ("nm-S-zero", b"0000000000000000 0000000000000017 T main\n"),
]


def read_with(impl, tmp_path, content, name="source.txt"):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ParseError) as info:
        impl.from_file(str(path))
    return str(path), info.value


@pytest.mark.parametrize("content,line", [c[1:] for c in BAD_LINES], ids=[c[0] for c in BAD_LINES])
def test_bad_line(impl, tmp_path, content, line):
    path, exc = read_with(impl, tmp_path, content)
    assert not isinstance(exc, ZeroAddressesError)
    assert isinstance(exc, pysyms.Error) and isinstance(exc, ValueError)
    assert exc.path == path
    assert exc.line == line
    assert str(exc).startswith(f"{path}:{line}: ")


@pytest.mark.parametrize("content", [c[1] for c in NO_SYMBOLS], ids=[c[0] for c in NO_SYMBOLS])
def test_no_symbols(impl, tmp_path, content):
    path, exc = read_with(impl, tmp_path, content)
    assert not isinstance(exc, ZeroAddressesError)
    assert exc.path == path and exc.line == 0
    assert str(exc).startswith(f"{path}: ")


@pytest.mark.parametrize("content", [c[1] for c in ZERO], ids=[c[0] for c in ZERO])
def test_all_zero_addresses(impl, tmp_path, content):
    path, exc = read_with(impl, tmp_path, content)
    assert isinstance(exc, ZeroAddressesError)
    assert exc.path == path and exc.line == 0


def test_zero_addresses_beside_real_ones_are_fine(impl, tmp_path):
    path = tmp_path / "ok"
    path.write_bytes(b"0000000000000000 A zero\nffffffff81000000 T _stext\n")
    t = impl.from_file(str(path))
    assert [tuple(s) for s in t] == [(0, "A", "zero", None), (0xFFFFFFFF81000000, "T", "_stext", None)]


def test_bad_line_beats_zero_addresses(impl, tmp_path):
    path, exc = read_with(impl, tmp_path, b"0 T a\n0 T b c d e\n")
    assert not isinstance(exc, ZeroAddressesError) and exc.line == 2


def test_path_objects(impl, tmp_path):
    """from_file takes a pathlib.Path too; the error names it as a str."""
    path = tmp_path / "source"
    path.write_bytes(GOOD + b"bad line here now\n")
    with pytest.raises(ParseError) as info:
        impl.from_file(path)
    assert info.value.path == str(path) and info.value.line == 3
    path.write_bytes(GOOD)
    assert [s.name for s in impl.from_file(path)] == ["_stext", "foo"]


def test_missing_file(impl, tmp_path):
    path = tmp_path / "does-not-exist"
    with pytest.raises(ParseError) as info:
        impl.from_file(str(path))
    assert str(info.value.path) == str(path)


def test_readers_agree_on_failing_line(c_impl, ref_impl, tmp_path):
    for name, content, _ in BAD_LINES:
        _, c_exc = read_with(c_impl, tmp_path, content)
        _, ref_exc = read_with(ref_impl, tmp_path, content)
        assert (type(c_exc), c_exc.line) == (type(ref_exc), ref_exc.line), name


# ---- accepted text: the grammar's corners ------------------------------------------------------

GOOD_SOURCES = [
    ("kallsyms", b"ffffffff81000000 T _stext\nffffffffc0201000 t ftrace_trampoline\t[__builtin__ftrace]\n",
     [(0xFFFFFFFF81000000, "T", "_stext", None), (0xFFFFFFFFC0201000, "t", "ftrace_trampoline", "__builtin__ftrace")]),
    ("nm-S", b"0000000000001139 0000000000000017 T main\n0000000000001000 0 t _init\n",
     [(0x1000, "t", "_init", None), (0x1139, "T", "main", None)]),
    ("nm-undefined-skipped", b"                 U malloc\n                 w _ITM_x\n0000000000001139 T main\n",
     [(0x1139, "T", "main", None)]),
    ("crlf-tabs-blanks", b"\r\n  1000\tT\t\tfoo  \r\n\n\t\n2000 t bar\t[m]\r\n",
     [(0x1000, "T", "foo", None), (0x2000, "t", "bar", "m")]),
    ("short-and-mixed-case-hex", b"aBc T x\n1 t y\nFFFFFFFFFFFFFFFF ? z\n",
     [(1, "t", "y", None), (0xABC, "T", "x", None), ((1 << 64) - 1, "?", "z", None)]),
    ("511-byte-name-255-byte-module", b"10 T " + b"n" * 511 + b" [" + b"m" * 255 + b"]\n",
     [(0x10, "T", "n" * 511, "m" * 255)]),
    ("non-utf8-and-controls-kept", b"10 T \xff\xfe\x01name\n",
     [(0x10, "T", "\udcff\udcfe\x01name", None)]),
    ("punctuation-type", b"10 ~ a\n20 ! b\n", [(0x10, "~", "a", None), (0x20, "!", "b", None)]),
]


@pytest.mark.parametrize("content,expected", [c[1:] for c in GOOD_SOURCES], ids=[c[0] for c in GOOD_SOURCES])
def test_good_sources(impl, tmp_path, content, expected):
    path = tmp_path / "good"
    path.write_bytes(content)
    t = impl.from_file(str(path))
    assert [tuple(s) for s in t] == expected


# ---- byte soup: never a crash, and both readers agree ------------------------------------------

ADDR = st.sampled_from([b"ffffffff81000000", b"0", b"1", b"abc", b"ABCDEF0123456789", b"ffffffffffffffff",
                        b"00000000000000000", b"0x10", b"g1", b"-1", b"+1", b"1_0"])
SIZE = st.sampled_from([b"0000000000000017", b"0", b"F", b"00000000000000017", b"x", b"0x1"])
TYPE = st.sampled_from([b"T", b"t", b"W", b"w", b"U", b"?", b"~", b"TT", b"\x01", b"\x7f", b"\x80", b"["])
NAME = st.one_of(
    st.sampled_from([b"foo", b"foo.isra.0", b"_start", b"a" * 511, b"a" * 512, b"\xff\xfe", b"x\x00y",
                     b"x\x0by", b"x\ry", b"x\x0cy", b"[x]", b"]", b"\x01"]),
    st.binary(min_size=1, max_size=6),
)
MODULE = st.sampled_from([b"[mod]", b"[__builtin__ftrace]", b"[]", b"[a[b]", b"[a]b]", b"[x", b"y]", b"[",
                          b"[" + b"m" * 255 + b"]", b"[" + b"m" * 256 + b"]", b"[a\x0bb]", b"[\xff]"])
TEMPLATES = [(ADDR, TYPE, NAME), (ADDR, TYPE, NAME, MODULE), (ADDR, SIZE, TYPE, NAME), (TYPE, NAME), ()]
FIELD = st.one_of(ADDR, SIZE, TYPE, NAME, MODULE, st.binary(max_size=6))
SEP = st.sampled_from([b" ", b"\t", b"  ", b" \t ", b"\x0b", b"\x0c", b"\r", b""])
GAP = st.sampled_from([b" ", b"\t", b" \t", b"   "])


@st.composite
def soup_line(draw):
    if draw(st.integers(0, 3)) == 0:
        # free-form: any fields, any separators (including none and \v, \f, \r)
        parts = [draw(SEP) if draw(st.booleans()) else b""]
        for _ in range(draw(st.integers(0, 5))):
            parts += [draw(FIELD), draw(SEP)]
    else:
        # one of the grammar's line shapes, with mostly valid fields
        template = draw(st.sampled_from(TEMPLATES))
        parts = [draw(GAP) if draw(st.integers(0, 4)) == 0 else b""]
        for k, field in enumerate(template):
            parts += [draw(GAP) if k else b"", draw(field)]
        if draw(st.integers(0, 4)) == 0:
            parts.append(draw(GAP))
    line = b"".join(parts)
    if draw(st.integers(0, 4)) == 0:
        line += b"\r"
    return line


@st.composite
def soup(draw):
    if draw(st.integers(0, 4)) == 0:
        return draw(st.binary(max_size=400))
    lines = draw(st.lists(soup_line(), max_size=10))
    return b"\n".join(lines) + (b"\n" if draw(st.booleans()) else b"")


def c_outcome(c_impl, data):
    try:
        table = c_impl.from_text(data, "<soup>")
    except ParseError as exc:
        return ("error", type(exc).__name__, exc.line)
    return ("ok", [tuple(s) for s in table])


def python_outcome(data):
    from pysyms import sources
    try:
        records = sources.parse_text(data, "<soup>")
    except ParseError as exc:
        return ("error", type(exc).__name__, exc.line)
    return ("ok", [oracle.as_symbol_tuple(r) for r in oracle.kernel_sort(records)])


@settings(max_examples=500)
@given(soup())
@example(b"")
@example(b"\x00")
@example(b"0 T a\n")
@example(b"1 T a\x0b\n")
@example(b"1 T a\r\r\n")
@example(b"1 0 T a\n")
@example(b"1 b c [x]\n")
@example(b"T\n")
@example(b"1 T a [\xff]\n")
def test_soup_never_crashes_and_readers_agree(c_impl, ref_impl, data):
    got = c_outcome(c_impl, data)
    assert python_outcome(data) == got
    if got[0] == "error":
        assert got[2] >= 0 and got[2] <= data.count(b"\n") + 1


# ---- bad records for from_records -------------------------------------------------------------

OK_RECORDS = [(0x1000, "T", "a", None), (0x1010, "t", "b", "mod")]

BAD_RECORDS = [
    ("empty-name", (0x1020, "T", "", None)),
    ("empty-name-bytes", (0x1020, "T", b"", None)),
    ("name-512", (0x1020, "T", "n" * 512, None)),
    ("name-512-multibyte", (0x1020, "T", "é" * 256, None)),
    ("name-space", (0x1020, "T", "a b", None)),
    ("name-tab", (0x1020, "T", "a\tb", None)),
    ("name-newline", (0x1020, "T", "a\n", None)),
    ("name-cr", (0x1020, "T", "a\rb", None)),
    ("name-vt", (0x1020, "T", b"a\x0bb", None)),
    ("name-ff", (0x1020, "T", b"a\x0cb", None)),
    ("name-nul", (0x1020, "T", "a\x00b", None)),
    ("name-not-text", (0x1020, "T", 5, None)),
    ("name-none", (0x1020, "T", None, None)),
    ("type-empty", (0x1020, "", "a", None)),
    ("type-two", (0x1020, "TT", "a", None)),
    ("type-space", (0x1020, " ", "a", None)),
    ("type-del", (0x1020, "\x7f", "a", None)),
    ("type-nul", (0x1020, "\x00", "a", None)),
    ("type-non-ascii", (0x1020, "é", "a", None)),
    ("type-int", (0x1020, 84, "a", None)),
    ("type-none", (0x1020, None, "a", None)),
    ("module-256", (0x1020, "T", "a", "m" * 256)),
    ("module-space", (0x1020, "T", "a", "m m")),
    ("module-tab", (0x1020, "T", "a", "m\t")),
    ("module-brackets", (0x1020, "T", "a", "[m]")),
    ("module-close-bracket", (0x1020, "T", "a", "m]")),
    ("module-open-bracket", (0x1020, "T", "a", "m[")),
    ("module-nul", (0x1020, "T", "a", "m\x00")),
    ("address-negative", (-1, "T", "a", None)),
    ("address-too-big", (1 << 64, "T", "a", None)),
    ("address-str", ("0x10", "T", "a", None)),
    ("address-float", (16.0, "T", "a", None)),
    ("address-none", (None, "T", "a", None)),
    ("three-fields", (0x1020, "T", "a")),
    ("five-fields", (0x1020, "T", "a", None, None)),
    ("not-a-tuple", 42),
]


@pytest.mark.parametrize("bad", [c[1] for c in BAD_RECORDS], ids=[c[0] for c in BAD_RECORDS])
def test_bad_record(impl, bad):
    with pytest.raises(InvalidSymbolError) as info:
        impl.from_records(OK_RECORDS + [bad] + OK_RECORDS)
    assert info.value.record == 2
    assert str(info.value).startswith("record 2: ")
    assert isinstance(info.value, pysyms.Error) and isinstance(info.value, ValueError)
    with pytest.raises(InvalidSymbolError) as info:
        impl.from_records(iter([bad]))
    assert info.value.record == 0


def test_empty_module_rejected(impl):
    """DESIGN/brief: a module name is 1 to 255 bytes; '' is not None."""
    with pytest.raises(InvalidSymbolError) as info:
        impl.from_records(OK_RECORDS + [(0x1020, "T", "a", "")])
    assert info.value.record == 2


def test_limits_accepted(impl):
    t = impl.from_records([(0, "!", "n" * 511, "m" * 255), (1, "~", b"\xff" * 511, None),
                           (2, "T", "é" * 255, "é" * 127)])
    assert [tuple(s) for s in t] == [(0, "!", "n" * 511, "m" * 255), (1, "~", "\udcff" * 511, None),
                                     (2, "T", "é" * 255, "é" * 127)]


NAME_SPACE = b" \t\n\r\x0b\x0c"


def test_name_bytes_accepted_exactly(impl):
    """Every byte but NUL and the six ASCII whitespace bytes may be in a name."""
    for b in range(256):
        name = b"a" + bytes([b]) + b"z"
        if b == 0 or b in NAME_SPACE:
            with pytest.raises(InvalidSymbolError):
                impl.from_records([(0x10, "T", name, None)])
        else:
            t = impl.from_records([(0x10, "T", name, None)])
            assert t[0].name.encode("utf-8", "surrogateescape") == name


def test_type_chars_accepted_exactly(impl):
    for b in range(256):
        letter = chr(b)
        if 0x21 <= b <= 0x7E:
            assert impl.from_records([(0x10, letter, "a", None)])[0].type == letter
        else:
            with pytest.raises(InvalidSymbolError):
                impl.from_records([(0x10, letter, "a", None)])


def test_module_bytes_accepted_exactly(impl):
    for b in range(256):
        module = b"m" + bytes([b])
        if b == 0 or b in NAME_SPACE or b in b"[]":
            with pytest.raises(InvalidSymbolError):
                impl.from_records([(0x10, "T", "a", module)])
        else:
            t = impl.from_records([(0x10, "T", "a", module)])
            assert t[0].module.encode("utf-8", "surrogateescape") == module
