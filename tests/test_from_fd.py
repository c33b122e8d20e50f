"""Text read from a file descriptor and parsed while a second thread reads
(csrc/readfd.c, ``SymbolTable.from_fd``; ``from_file`` uses it): the same
table, errors and line numbers as parsing the whole text at once
(``from_text``), wherever the reader's 256 KiB chunks cut the lines, for
files and for pipes that deliver a few bytes at a time."""

import os
import random
import threading

import pytest

import pysyms
import pysyms.reference

CHUNK = 256 << 10  # csrc/readfd.c CHUNK_BYTES


def outcome(build):
    try:
        table = build()
    except pysyms.Error as exc:
        return type(exc), str(exc), getattr(exc, "line", None)
    return table.kernel_arrays(), [tuple(s) for s in table]


def listing(rng, lines, newline=b"\n", last_newline=True):
    out = []
    for k in range(lines):
        name = b"sym_%d_%s" % (k, b"x" * rng.randrange(0, 80))
        module = b"\t[mod%d]" % rng.randrange(3) if rng.random() < 0.2 else b""
        out.append(b"%016x %c %s%s" % (0x1000 + 16 * k, rng.choice(b"tTdD"), name, module))
    text = newline.join(out)
    return text + newline if last_newline else text


def via_pipe(data, piece):
    """A read end that delivers data in writes of piece bytes, and the
    thread writing them."""
    r, w = os.pipe()

    def feed():
        with os.fdopen(w, "wb", buffering=0) as out:
            try:
                for k in range(0, len(data), piece):
                    out.write(data[k:k + piece])
            except BrokenPipeError:
                pass  # the reader stopped at a bad line and closed its end

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    return r, writer


CASES = {
    "lines across chunk ends": lambda rng: listing(rng, 20000),
    "CRLF lines": lambda rng: listing(rng, 15000, newline=b"\r\n"),
    "no final newline": lambda rng: listing(rng, 12000, last_newline=False),
    "one line longer than a chunk": lambda rng: listing(rng, 5000) + b"ffff T " + b"y" * (CHUNK + 77) + b"\n",
    "bad line in the third chunk": lambda rng: (lambda t: t[:3 * CHUNK - 10] + b"zz" + t[3 * CHUNK - 8:])(
        listing(rng, 20000)),
    "NUL byte past the first chunk": lambda rng: (lambda t: t[:CHUNK + 5] + b"\0" + t[CHUNK + 6:])(listing(rng, 9000)),
    "all addresses zero": lambda rng: b"".join(b"0000000000000000 T f%d\n" % k for k in range(30000)),
    "empty": lambda rng: b"",
    "blank lines only": lambda rng: b"\n\n  \n",
    "CR at a chunk end": lambda rng: (lambda t: t[:CHUNK - 1] + b"\r" + t[CHUNK - 1:])(listing(rng, 9000)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_fd_equals_whole_text(tmp_path, case):
    data = CASES[case](random.Random(case))
    want = outcome(lambda: pysyms.SymbolTable.from_text(data, "src"))
    path = tmp_path / "src"
    path.write_bytes(data)
    fd = os.open(path, os.O_RDONLY)
    try:
        assert outcome(lambda: pysyms.SymbolTable.from_fd(fd, "src")) == want
    finally:
        os.close(fd)
    for piece in (1000, 70001):
        fd, writer = via_pipe(data, piece)
        try:
            assert outcome(lambda: pysyms.SymbolTable.from_fd(fd, "src")) == want
        finally:
            os.close(fd)
            writer.join()
    fd = os.open(path, os.O_RDONLY)
    try:  # the reference reads the same bytes the same way
        ref = outcome(lambda: pysyms.reference.SymbolTable.from_fd(fd, "src"))
    finally:
        os.close(fd)
    if isinstance(want[0], dict):
        assert ref == want
    else:  # the same error at the same line (the two cores word some messages differently)
        assert (ref[0], ref[2]) == (want[0], want[2])


def test_read_error_is_clear():
    r, w = os.pipe()
    os.close(w)
    os.close(r)
    with pytest.raises(pysyms.ParseError, match="cannot read: Bad file descriptor"):
        pysyms.SymbolTable.from_fd(r, "closed")
    with pytest.raises(pysyms.ParseError, match="cannot read: Bad file descriptor"):
        pysyms.reference.SymbolTable.from_fd(r, "closed")


def test_directory_is_a_clear_error(tmp_path):
    for impl in (pysyms.SymbolTable, pysyms.reference.SymbolTable):
        with pytest.raises(pysyms.ParseError, match="cannot read"):
            impl.from_file(tmp_path)


def test_builder_is_unchanged_after_an_error(tmp_path):
    """A failed from_fd adds nothing: the next build from the same bytes
    minus the bad line gives the table from_text gives."""
    rng = random.Random(3)
    good = listing(rng, 12000)
    bad = good + b"not a line\n"
    path = tmp_path / "bad"
    path.write_bytes(bad)
    with pytest.raises(pysyms.ParseError, match=":12001"):
        pysyms.SymbolTable.from_file(path)
    path.write_bytes(good)
    assert pysyms.SymbolTable.from_file(path).kernel_arrays() == pysyms.SymbolTable.from_text(good).kernel_arrays()
