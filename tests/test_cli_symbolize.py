"""``pysyms addr`` from stdin (addresses parsed in C, csrc/textio.c, formatted in
batches) and ``pysyms symbolize`` (pysyms/stacks.py): perf script output and
folded stacks into symbolized folded stacks; the build progress line."""

import io
import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from cli_process import run_pysyms_process
import pysyms
from pysyms import cli, stacks
from pysyms._native import ffi, lib

CSRC = Path(__file__).resolve().parents[1] / "csrc"
MAX = lib.KSYM_ADDR_TOKEN_MAX
WS = b" \t\n\v\f\r"

# ---- the C address parser ---------------------------------------------------------------------


def parse(data, final=True, cap=1024):
    """ksym_parse_addresses over data: (addresses, consumed, newlines, error)."""
    out = ffi.new("uint64_t[]", max(cap, 1))
    consumed = ffi.new("size_t *")
    newlines = ffi.new("uint64_t *")
    error = ffi.new("int *")
    n = lib.ksym_parse_addresses(ffi.from_buffer(data), len(data), final, out, cap, consumed,
                                 newlines, error)
    assert n >= 0
    assert 0 <= consumed[0] <= len(data)
    assert newlines[0] == data[:consumed[0]].count(b"\n")
    return list(out[0:n]), consumed[0], newlines[0], error[0]


def model(data):
    """The grammar of ksym_parse_addresses written out plainly (whole input,
    final): (addresses, error, offset of the bad token)."""
    addresses = []
    for m in re.finditer(rb"[^ \t\n\v\f\r]+", data):
        token = m.group()
        head = token[:MAX + 1]
        body = head[2:] if len(head) >= 2 and head[:1] == b"0" and head[1:2] in b"xX" else head
        if not re.fullmatch(rb"[0-9a-fA-F]*", body):
            return addresses, lib.KSYM_EPARSE, m.start()
        if len(token) > MAX:
            return addresses, lib.KSYM_E2BIG, m.start()
        if not body:
            return addresses, lib.KSYM_EPARSE, m.start()
        value = int(body, 16)
        if value >= 1 << 64:
            return addresses, lib.KSYM_ERANGE, m.start()
        addresses.append(value)
    return addresses, lib.KSYM_OK, len(data)


def test_parse_valid_tokens():
    data = b"1 0x2\t0X3 ffFF\r\n  DEADbeef\n\n0xffffffffffffffff\v0\f00 \n"
    addresses, consumed, newlines, error = parse(data)
    assert addresses == [1, 2, 3, 0xFFFF, 0xDEADBEEF, (1 << 64) - 1, 0, 0]
    assert (consumed, newlines, error) == (len(data), 4, lib.KSYM_OK)


def test_parse_leading_zeros_and_limits():
    assert parse(b"0x" + b"0" * (MAX - 3) + b"1")[0] == [1]  # MAX bytes with the prefix
    assert parse(b"0" * MAX)[0] == [0]
    assert parse(b"0" * (MAX + 1))[3] == lib.KSYM_E2BIG
    assert parse(b"0" * 1000 + b"g")[3] == lib.KSYM_E2BIG  # a bad byte beyond MAX + 1 is not seen
    assert parse(b"0" * 10 + b"g")[3] == lib.KSYM_EPARSE
    assert parse(b"1" + b"0" * 16)[3] == lib.KSYM_ERANGE  # 2^64
    assert parse(b"0x1" + b"0" * 16)[3] == lib.KSYM_ERANGE
    assert parse(b"0" * 20 + b"f" * 16)[0] == [(1 << 64) - 1]


@pytest.mark.parametrize("token", [b"zz", b"0x", b"0X", b"x10", b"12g", b"-1", b"+1", b"1_0", b"0x0x1",
                                   b"ff\x00", b"\xff", b"\xc3\xa9", b"0x-1", b"1.5", b"1,"])
def test_parse_bad_token_position_and_line(token):
    data = b"10 20\n  30\n40 " + token + b" 50\n"
    addresses, consumed, newlines, error = parse(data)
    assert addresses == [0x10, 0x20, 0x30, 0x40]
    assert error == lib.KSYM_EPARSE
    assert consumed == data.index(token, 12) and newlines == 2  # line 3


def test_parse_bad_token_after_overflow_is_a_parse_error():
    # the verdict never depends on how much of a token was seen
    assert parse(b"1" + b"0" * 20 + b"z")[3] == lib.KSYM_EPARSE


def test_parse_partial_token_left_for_the_next_chunk():
    assert parse(b"12 34", final=False) == ([0x12], 3, 0, lib.KSYM_OK)
    assert parse(b"12 34 ", final=False) == ([0x12, 0x34], 6, 0, lib.KSYM_OK)
    assert parse(b"12\n0", final=False) == ([0x12], 3, 1, lib.KSYM_OK)  # "0" may become "0x..."
    assert parse(b"12\n0x", final=False) == ([0x12], 3, 1, lib.KSYM_OK)
    assert parse(b"12 34", final=True) == ([0x12, 0x34], 5, 0, lib.KSYM_OK)
    # what no later byte can repair is an error at once, so the carry stays bounded
    assert parse(b"12 3z", final=False) == ([0x12], 3, 0, lib.KSYM_EPARSE)
    assert parse(b"12 " + b"0" * (MAX + 1), final=False)[3] == lib.KSYM_E2BIG
    assert parse(b"12 " + b"0" * MAX, final=False) == ([0x12], 3, 0, lib.KSYM_OK)
    # too large so far, but a later byte could make it a parse error: wait
    assert parse(b"1" + b"0" * 20, final=False) == ([], 0, 0, lib.KSYM_OK)


def test_parse_cap():
    data = b"1 2 3\n4 5"
    assert parse(data, cap=2) == ([1, 2], 4, 0, lib.KSYM_OK)
    assert parse(data[4:], cap=2) == ([3, 4], 4, 1, lib.KSYM_OK)
    assert parse(b"   \n", cap=0) == ([], 4, 1, lib.KSYM_OK)
    assert parse(b" 1", cap=0) == ([], 1, 0, lib.KSYM_OK)


def test_parse_bad_arguments():
    consumed, newlines, error = ffi.new("size_t *"), ffi.new("uint64_t *"), ffi.new("int *")
    out = ffi.new("uint64_t[]", 4)
    assert lib.ksym_parse_addresses(ffi.NULL, 3, 1, out, 4, consumed, newlines, error) == lib.KSYM_EINVAL
    assert lib.ksym_parse_addresses(b"1", 1, 1, ffi.NULL, 4, consumed, newlines, error) == lib.KSYM_EINVAL
    assert lib.ksym_parse_addresses(b"1", 1, 1, out, 4, ffi.NULL, newlines, error) == lib.KSYM_EINVAL
    assert lib.ksym_parse_addresses(ffi.NULL, 0, 1, out, 4, consumed, newlines, error) == 0


def test_count_lines_without():
    text = b"a+b\n0x10\nc+\n\n0x20"
    assert lib.ksym_count_lines_without(text, len(text), ord("+")) == 3  # "0x10", "", "0x20"
    assert lib.ksym_count_lines_without(b"x+\n", 3, ord("+")) == 0
    assert lib.ksym_count_lines_without(b"", 0, ord("+")) == 0
    assert lib.ksym_count_lines_without(ffi.NULL, 5, ord("+")) == 0


TOKENS = st.sampled_from([b"0", b"1", b"f", b"F", b"a", b"0x", b"0X", b"x", b"g", b"ffffffff81", b"0000",
                          b"\x00", b"\xff", b"-", b" ", b"\t", b"\n", b"\r\n", b"\v", b"\f", b"  \n"])


def batches_of(chunks, cap):
    """Every address cli.address_batches yields from chunks, and its error."""
    got = []
    try:
        for ptr, n in cli.address_batches(chunks, cap=cap):
            assert 1 <= n <= cap
            got += ffi.unpack(ptr, n)
    except pysyms.ParseError as exc:
        return got, exc.line
    return got, None


@given(st.lists(TOKENS, max_size=60).map(b"".join), st.lists(st.integers(1, 9), min_size=1, max_size=8),
       st.integers(1, 5))
def test_parse_matches_model_for_any_chunking(data, sizes, cap):
    addresses, error, offset = model(data)
    one = parse(data, cap=len(data) + 1)
    assert one[0] == addresses and one[3] == error and (error == lib.KSYM_OK or one[1] == offset)
    expected_line = data[:offset].count(b"\n") + 1 if error else None
    chunks, pos, k = [], 0, 0
    while pos < len(data):
        size = sizes[k % len(sizes)]
        chunks.append(data[pos:pos + size])
        pos, k = pos + size, k + 1
    assert batches_of(chunks, cap) == (addresses, expected_line)


def test_parse_every_split_of_a_long_token():
    data = b"0x00000000000000000000ffffffff81000000 fffFFFFF81000001\n0X10 "
    expected = [0xFFFFFFFF81000000, 0xFFFFFFFF81000001, 0x10]
    for i in range(len(data) + 1):
        for j in range(i, len(data) + 1):
            assert batches_of([data[:i], data[i:j], data[j:]], 2) == (expected, None), (i, j)


def test_parse_error_line_across_chunks():
    data = b"1\n2\n\n3 4 0x1" + b"0" * 16 + b"\n5\n"
    for size in (1, 2, 3, 5, 100):
        chunks = [data[k:k + size] for k in range(0, len(data), size)]
        assert batches_of(chunks, 2) == ([1, 2, 3, 4], 4)


HARNESS = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ksym.h"

/* Records on stdin: u32 length, bytes.  Each is parsed from a buffer of
 * exactly its length (so ASan sees any over-read), whole and in chunks of
 * 1..7 bytes, every way must agree; one line of output per record. */
static int parse_chunked(const char *text, size_t len, size_t step, size_t cap, uint64_t *got,
                         size_t *ngot, int *err, uint64_t *lines)
{
    char carry[256 + 16];
    size_t carried = 0, pos = 0;
    *ngot = 0;
    *lines = 0;
    uint64_t out[8];
    for (;;) {
        size_t take = len - pos < step ? len - pos : step;
        int final = take == 0;
        char *buf = malloc(carried + take + 1);
        memcpy(buf, carry, carried);
        memcpy(buf + carried, text + pos, take);
        size_t blen = carried + take, at = 0;
        pos += take;
        for (;;) {
            size_t consumed;
            uint64_t nl;
            int64_t n = ksym_parse_addresses(buf + at, blen - at, final, out, cap, &consumed, &nl, err);
            if (n < 0 || (size_t)n > cap || consumed > blen - at)
                return 1;
            memcpy(got + *ngot, out, (size_t)n * 8);
            *ngot += (size_t)n;
            at += consumed;
            *lines += nl;
            if (*err) {
                free(buf);
                return 0;
            }
            if ((size_t)n < cap)
                break;
        }
        carried = blen - at;
        if (carried > KSYM_ADDR_TOKEN_MAX) {
            free(buf);
            return 1;
        }
        memcpy(carry, buf + at, carried);
        free(buf);
        if (final)
            return carried ? 1 : 0;
    }
}

int main(void)
{
    uint32_t len;
    static uint64_t all[1 << 16], chunked[1 << 16];
    while (fread(&len, 4, 1, stdin) == 1) {
        char *text = malloc(len ? len : 1);
        if (len && fread(text, 1, len, stdin) != len)
            return 2;
        size_t consumed;
        uint64_t nl;
        int err;
        int64_t n = ksym_parse_addresses(text, len, 1, all, 1 << 16, &consumed, &nl, &err);
        if (n < 0)
            return 3;
        /* the same text as a non-final chunk */
        uint64_t tmp[4];
        size_t c2;
        uint64_t nl2;
        int e2;
        if (ksym_parse_addresses(text, len, 0, tmp, 4, &c2, &nl2, &e2) < 0 || c2 > len)
            return 4;
        for (size_t step = 1; step <= 7; step++)
            for (size_t cap = 1; cap <= 3; cap++) {
                size_t ngot;
                int cerr;
                uint64_t lines;
                if (parse_chunked(text, len, step, cap, chunked, &ngot, &cerr, &lines) ||
                    ngot != (size_t)n || cerr != err || (err && lines != nl) ||
                    memcmp(chunked, all, ngot * 8))
                    return 5;
            }
        size_t without = ksym_count_lines_without(text, len, '+');
        printf("%d %zu %llu %zu", err, consumed, (unsigned long long)nl, without);
        for (int64_t k = 0; k < n; k++)
            printf(" %llx", (unsigned long long)all[k]);
        printf("\n");
        free(text);
    }
    return 0;
}
"""


def _random_inputs(rng, count):
    alphabet = [b"0", b"1", b"9", b"a", b"F", b"x", b"X", b"0x", b"g", b"\x00", b"\xff", b"+", b"-", b" ",
                b"\t", b"\n", b"\r", b"\v", b"\f", b"ffffffff81000000", b"0" * 40, b"f" * 17]
    inputs = [b"", b" ", b"\n", b"0", b"0x", b"0" * (MAX + 1), b"0" * MAX, b"f" * 16, b"1" + b"0" * 16]
    while len(inputs) < count:
        inputs.append(b"".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 40))))
    return inputs


def test_parser_under_sanitizers(tmp_path):
    """textio.c compiled with ASan/UBSan and fed inputs from buffers of
    their exact length, whole and in chunks of every small size."""
    gcc = shutil.which("gcc")
    if gcc is None:
        pytest.skip("gcc is not installed")
    harness = tmp_path / "harness.c"
    harness.write_text(HARNESS)
    binary = tmp_path / "harness"
    cmd = [gcc, "-std=c11", "-O1", "-g", "-Wall", "-Wextra", "-Werror", "-fsanitize=address,undefined",
           "-fno-sanitize-recover=undefined", "-I", str(CSRC), "-o", str(binary),
           str(CSRC / "textio.c"), str(harness)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    inputs = _random_inputs(random.Random(6), 400)
    stdin = b"".join(struct.pack("=I", len(x)) + x for x in inputs)
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:halt_on_error=1",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    result = subprocess.run([str(binary)], input=stdin, capture_output=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-4000:]
    lines = result.stdout.decode().splitlines()
    assert len(lines) == len(inputs)
    for data, line in zip(inputs, lines):
        err, consumed, newlines, without, *values = line.split()
        addresses, error, offset = model(data)
        assert int(err) == error and [int(v, 16) for v in values] == addresses, data
        assert int(consumed) == offset and int(newlines) == data[:offset].count(b"\n")
        expected_without = sum(1 for part in (data.split(b"\n")[:-1] if data.endswith(b"\n") else
                                              data.split(b"\n")) if b"+" not in part) if data else 0
        assert int(without) == expected_without


# ---- pysyms addr from stdin -----------------------------------------------------------------------


def run(argv):
    try:
        return cli.main(argv)
    except SystemExit as exc:
        return exc.code


def run_stdin(monkeypatch, argv, data):
    """cli.main(argv) with data as stdin: (status, stdout bytes)."""
    stdin = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")
    stdout = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", stdin)
    monkeypatch.setattr(sys, "stdout", stdout)
    status = run(argv)
    stdout.flush()
    return status, stdout.buffer.getvalue()


def old_addr(table, addresses):
    """What the per-address `addr` loop printed: (status, output bytes)."""
    status, lines = 0, []
    for a in addresses:
        info = table.lookup_addr(a)
        if info is None:
            status = 1
            lines.append(f"{a:#x}")
        else:
            lines.append(info.format())
    return status, ("".join(line + "\n" for line in lines)).encode("utf-8", "surrogateescape")


def generated_source(rng):
    """kallsyms text of a few thousand kernel-like symbols: aliases, a core
    kernel and three modules."""
    lines, addresses = [], []
    a = 0xFFFFFFFF81000000
    for i in range(4000):
        lines.append(f"{a:016x} {rng.choice('TtDdRrBbWw')} fn_{i}_{rng.randrange(99)}")
        addresses.append(a)
        a += rng.choice([0, 3, 0x10, 0x40, 0x100, 0x1000])
    a = 0xFFFFFFFFC0000000
    for m in range(3):
        for i in range(300):
            lines.append(f"{a:016x} t mod{m}_fn{i}\t[mod{m}]")
            addresses.append(a)
            a += rng.choice([0, 8, 0x40, 0x200])
        a += 0x10000
    return "\n".join(lines) + "\n", addresses


def random_addresses(rng, symbols, n):
    lo, hi = min(symbols), max(symbols)
    out = []
    for _ in range(n):
        kind = rng.random()
        if kind < 0.4:
            out.append(rng.choice(symbols) + rng.randrange(0x200))
        elif kind < 0.5:
            out.append(rng.choice(symbols))
        elif kind < 0.9:
            out.append(rng.randrange(lo - 0x1000, hi + 0x20000))
        else:
            out.append(rng.choice([0, 1, lo - 1, hi, hi + 1, (1 << 64) - 1, rng.randrange(1 << 64)]))
    return [min(max(a, 0), (1 << 64) - 1) for a in out]


def address_text(rng, addresses):
    """The addresses as a person or a script might write them: 0x or not,
    either case, one or several per line, blanks and CRLF."""
    parts = []
    for a in addresses:
        text = rng.choice(["{:x}", "{:#x}", "{:X}", "0X{:X}", "{:016x}"]).format(a)
        parts.append(text + rng.choice(["\n", "\n", " ", "\t", "\r\n", "  \n\n"]))
    return "".join(parts).encode()


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    text, symbols = generated_source(random.Random(66))
    path = tmp_path_factory.mktemp("gen") / "kallsyms"
    path.write_text(text)
    return str(path), pysyms.SymbolTable.from_file(str(path)), symbols


def test_addr_stdin_equals_per_address_generated(generated, monkeypatch):
    path, table, symbols = generated
    rng = random.Random(1)
    addresses = random_addresses(rng, symbols, 100_000)
    status, out = run_stdin(monkeypatch, ["addr", "--source", path], address_text(rng, addresses))
    assert (status, out) == old_addr(table, addresses)


def test_addr_stdin_equals_per_address_kallsyms(kallsyms_path, c_kallsyms, monkeypatch):
    symbols = [s.address for s in c_kallsyms]
    rng = random.Random(2)
    addresses = random_addresses(rng, symbols, 100_000)
    status, out = run_stdin(monkeypatch, ["addr", "--source", str(kallsyms_path)], address_text(rng, addresses))
    assert (status, out) == old_addr(c_kallsyms, addresses)
    # every address covered: exit 0
    covered = [a for a in addresses if c_kallsyms.lookup_addr(a) is not None][:5000]
    status, out = run_stdin(monkeypatch, ["addr", "--source", str(kallsyms_path)],
                            "".join(f"{a:x}\n" for a in covered).encode())
    assert (status, out) == old_addr(c_kallsyms, covered) and status == 0


def test_addr_stdin_tiny_chunks_and_batches(generated, monkeypatch):
    path, table, symbols = generated
    rng = random.Random(3)
    addresses = random_addresses(rng, symbols, 3000)
    data = address_text(rng, addresses)
    monkeypatch.setattr(cli, "READ_CHUNK", 7)
    monkeypatch.setattr(cli, "ADDRESS_BATCH", 3)
    assert run_stdin(monkeypatch, ["addr", "--source", path], data) == old_addr(table, addresses)


def test_addr_stdin_found_exit_0_and_empty_input(generated, monkeypatch):
    path, table, symbols = generated
    assert run_stdin(monkeypatch, ["addr", "--source", path], b"") == (0, b"")
    assert run_stdin(monkeypatch, ["addr", "--source", path], b"\n \n") == (0, b"")
    status, out = run_stdin(monkeypatch, ["addr", "--source", path], f"{symbols[5]:x}\n".encode())
    assert status == 0 and out == old_addr(table, [symbols[5]])[1]


def test_addr_stdin_bad_token_line_number(generated, monkeypatch, capsys):
    path, table, symbols = generated
    data = f"{symbols[1]:x}\n{symbols[2]:x} 10\n\n{symbols[3]:x} zz {symbols[4]:x}\n".encode()
    status, out = run_stdin(monkeypatch, ["addr", "--source", path], data)
    assert status == 2
    assert out == old_addr(table, [symbols[1], symbols[2], 0x10, symbols[3]])[1]  # the answers before it
    err = capsys.readouterr().err
    assert "<stdin>:4:" in err and "not a hex address: 'zz'" in err
    status, _ = run_stdin(monkeypatch, ["addr", "--source", path], b"1\n1" + b"0" * 16 + b"\n")
    assert status == 2 and "<stdin>:2: address out of range" in capsys.readouterr().err
    status, _ = run_stdin(monkeypatch, ["addr", "--source", path], b"0" * 200)
    assert status == 2 and "longer than" in capsys.readouterr().err


def test_addr_stdin_json_equals_arguments(generated, monkeypatch, capsys):
    path, table, symbols = generated
    rng = random.Random(4)
    addresses = random_addresses(rng, symbols, 300)
    status, out = run_stdin(monkeypatch, ["addr", "--json", "--source", path], address_text(rng, addresses))
    monkeypatch.undo()
    status2 = run(["addr", "--json", "--source", path] + [f"{a:#x}" for a in addresses])
    assert status == status2 and out.decode() == capsys.readouterr().out
    objs = [json.loads(line) for line in out.decode().splitlines()]
    assert [int(o["query"], 16) for o in objs] == addresses


def test_addr_stdin_plain_text_streams(generated, monkeypatch, capsys):
    """stdin/stdout without a binary buffer (StringIO) still work."""
    path, table, symbols = generated
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{symbols[7]:x}\n0x1\n"))
    assert run(["addr", "--source", path]) == 1
    assert capsys.readouterr().out.encode() == old_addr(table, [symbols[7], 1])[1]
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{symbols[7]:x}\n"))
    monkeypatch.setattr(sys, "stdout", out)
    assert run(["addr", "--source", path]) == 0
    assert out.getvalue().encode() == old_addr(table, [symbols[7]])[1]


def test_addr_argument_grammar(generated, capsys):
    path, table, symbols = generated
    for bad in ["zz", "0x", "-1", "+1", "1_0", " 10", "1" + "0" * 16, "0" * (MAX + 1)]:
        assert run(["addr", "--source", path, bad]) == 2, bad
    assert run(["addr", "--source", path, f"0X{symbols[0]:X}", "0" * (MAX - 16) + f"{symbols[1]:x}"]) == 0


# ---- a hand-made table for stacks --------------------------------------------------------------------

STACK_SOURCE = """\
ffffffff81000000 T _stext
ffffffff81000100 t native_safe_halt
ffffffff81000180 T default_idle
ffffffff81000200 T do_idle
ffffffff81000400 T cpu_startup_entry
ffffffff81000480 T secondary_startup_64
ffffffff81000600 T _etext
ffffffffc0a00000 t ext4_readpage\t[ext4]
ffffffffc0a00100 t ext4_mpage_readpages\t[ext4]
ffffffffc0a00200 t ext4_end\t[ext4]
"""
# sizes: native_safe_halt 0x80, default_idle 0x80, do_idle 0x200, cpu_startup_entry 0x80,
# secondary_startup_64 0x180; _etext and ext4_end (the last of their regions, no known
# end) answer only at their own address


@pytest.fixture(scope="module")
def stack_table(tmp_path_factory):
    path = tmp_path_factory.mktemp("stacks") / "kallsyms"
    path.write_text(STACK_SOURCE)
    return str(path), pysyms.SymbolTable.from_file(str(path))


FOLDED = """\
ffffffff81000481;ffffffff81000410;0xffffffff81000250;ffffffff81000111 5
0xFFFFFFFF81000482;ffffffff81000411;ffffffff81000251;ffffffff81000112 2
main;ffffffffc0a00010;ffffffffc0a00180 3

main;ffffffffc0a00020;ffffffffc0a00190 1
[unknown];ffffffff81000610 4
java;deadbeef 1
java;cafe 2
"""


def folded(result):
    return [f"{';'.join(frames)} {count}" for frames, count in result]


def test_folded_default(stack_table):
    _, table = stack_table
    assert folded(stacks.collapse(FOLDED.splitlines(True), table)) == [
        "[unknown];[unknown] 4",          # a name frame stays; 0x...610 is past _etext
        "java;[unknown] 1",               # 8 hex digits: an address, below every symbol
        "java;cafe 2",                    # 4 hex digits without 0x: a name
        "main;ext4_readpage;ext4_mpage_readpages 4",  # 3 + 1 merged
        "secondary_startup_64;cpu_startup_entry;do_idle;native_safe_halt 7",  # 5 + 2 merged
    ]


def test_folded_modules_offsets_keep_unknown(stack_table):
    _, table = stack_table
    lines = FOLDED.splitlines(True)
    assert folded(stacks.collapse(lines, table, modules=True)) == [
        "[unknown];[unknown] 4",
        "java;[unknown] 1",
        "java;cafe 2",
        "main;ext4_readpage [ext4];ext4_mpage_readpages [ext4] 4",
        "secondary_startup_64;cpu_startup_entry;do_idle;native_safe_halt 7",
    ]
    assert folded(stacks.collapse(lines, table, offsets=True, keep_unknown=True)) == [
        "[unknown];0xffffffff81000610 4",
        "java;0xdeadbeef 1",
        "java;cafe 2",
        "main;ext4_readpage+0x10;ext4_mpage_readpages+0x80 3",
        "main;ext4_readpage+0x20;ext4_mpage_readpages+0x90 1",
        "secondary_startup_64+0x1;cpu_startup_entry+0x10;do_idle+0x50;native_safe_halt+0x11 5",
        "secondary_startup_64+0x2;cpu_startup_entry+0x11;do_idle+0x51;native_safe_halt+0x12 2",
    ]


def test_folded_merges_raw_and_symbolized_frames(stack_table):
    _, table = stack_table
    lines = ["a;ffffffff81000111 1\n", "a;native_safe_halt 2\n", "a;0xffffffff81000101 3\n",
             "a;ffffffff81000111 10\n"]
    assert folded(stacks.collapse(lines, table)) == ["a;native_safe_halt 16"]


def test_folded_bad_line(stack_table):
    _, table = stack_table
    with pytest.raises(pysyms.ParseError) as info:
        stacks.collapse(["a;b 1\n", "\n", "a;b\n"], table, input_format="folded", name="in.folded")
    assert info.value.line == 3 and "in.folded:3:" in str(info.value)
    with pytest.raises(ValueError):
        stacks.collapse([], table, input_format="nope")


PERF_SCRIPT = """\
# ========
# captured on    : Tue Nov 25 10:12:01 2026
# hostname : build-2
# cmdline : /usr/bin/perf record -F 4000 -a -g -- sleep 1
# ========
#
swapper     0 [001] 12345.678901:     250000 cpu-clock:ppp: \n\
\tffffffff81000111 native_safe_halt+0x11 ([kernel.kallsyms])
\tffffffff81000190 [unknown] ([kernel.kallsyms])
\tffffffff81000250 do_idle+0x50 ([kernel.kallsyms])
\tffffffff81000410 cpu_startup_entry+0x10 ([kernel.kallsyms])
\tffffffff81000500 secondary_startup_64+0x80 ([kernel.kallsyms])

swapper     0 [000] 12345.679150:     250000 cpu-clock:ppp: \n\
\tffffffff81000112 native_safe_halt+0x12 ([kernel.kallsyms])
\tffffffff81000191 default_idle+0x11 ([kernel.kallsyms])
\tffffffff81000251 do_idle+0x51 ([kernel.kallsyms])
\tffffffff81000411 cpu_startup_entry+0x11 ([kernel.kallsyms])
\tffffffff81000501 secondary_startup_64+0x81 ([kernel.kallsyms])

kworker/u8:2-ev   117/117   [001] 12345.680001:     250000 cpu-clock:ppp: \n\
\tffffffffc0a00110 [unknown] ([ext4])
\tffffffffc0a00020 ext4_readpage+0x20 ([ext4])
\tffffffff81000200 do_idle+0x0 ([kernel.kallsyms])
\tffffffff81000600 _etext+0x0 ([kernel.kallsyms])

Web Content  4242/4250  [000] 12345.690000:     250000 cpu-clock:ppp: \n\
\tffffffff81000111 native_safe_halt+0x11 ([kernel.kallsyms])
\tffffffff81000700 [unknown] ([kernel.kallsyms])
\t    7f1c2a3b4c5d __libc_read+0x1d (/usr/lib/x86_64-linux-gnu/libc.so.6)
\t    55d0c0ffee12 main+0x42 (/usr/lib/firefox/firefox)
\t    7f1c2a200000 [unknown] (/usr/lib/x86_64-linux-gnu/libc.so.6)

perf  4321 [001] 12345.700000:     250000 cpu-clock:ppp: \n\

bash   999 [000] 12345.710000:          1 cycles:P:  ffffffff81000412 cpu_startup_entry+0x12 ([kernel.kallsyms])
"""

# Expected by hand: leaves looked up at their address, callers (return addresses) at
# address - 1: ffffffff81000190 -> default_idle (perf had [unknown]); ffffffff81000200
# (do_idle+0x0 to perf) -> default_idle, whose last instruction was the call;
# ffffffff81000600 (_etext to perf) -> secondary_startup_64; ffffffff81000700 (past
# _etext) and the user-space frames have no symbol in the table: perf's names, without
# offsets, or [unknown].  "Web Content" -> Web_Content.  perf's sample has no stack.
PERF_EXPECTED = [
    "Web_Content;[unknown];main;__libc_read;[unknown];native_safe_halt 1",
    "bash;cpu_startup_entry 1",
    "kworker/u8:2-ev;secondary_startup_64;default_idle;ext4_readpage;ext4_mpage_readpages 1",
    "perf 1",
    "swapper;secondary_startup_64;cpu_startup_entry;do_idle;default_idle;native_safe_halt 2",
]


def test_perf_script(stack_table):
    _, table = stack_table
    lines = PERF_SCRIPT.splitlines(True)
    assert stacks.detect_format(lines) == "perf"
    assert folded(stacks.collapse(lines, table)) == PERF_EXPECTED
    assert folded(stacks.collapse(lines, table, input_format="perf")) == PERF_EXPECTED


def test_perf_script_options(stack_table):
    _, table = stack_table
    lines = PERF_SCRIPT.splitlines(True)
    assert folded(stacks.collapse(lines, table, comm=False)) == [
        "[unknown];main;__libc_read;[unknown];native_safe_halt 1",
        "cpu_startup_entry 1",
        "secondary_startup_64;cpu_startup_entry;do_idle;default_idle;native_safe_halt 2",
        "secondary_startup_64;default_idle;ext4_readpage;ext4_mpage_readpages 1",
    ]
    assert folded(stacks.collapse(lines, table, modules=True, keep_unknown=True)) == [
        "Web_Content;0x7f1c2a200000;main;__libc_read;0xffffffff81000700;native_safe_halt 1",
        "bash;cpu_startup_entry 1",
        "kworker/u8:2-ev;secondary_startup_64;default_idle;ext4_readpage [ext4];ext4_mpage_readpages [ext4] 1",
        "perf 1",
        "swapper;secondary_startup_64;cpu_startup_entry;do_idle;default_idle;native_safe_halt 2",
    ]
    # offsets: of the address itself (for callers too), so the two swapper samples differ
    assert folded(stacks.collapse(lines, table, offsets=True)) == [
        "Web_Content;[unknown];main+0x42;__libc_read+0x1d;[unknown];native_safe_halt+0x11 1",
        "bash;cpu_startup_entry+0x12 1",
        "kworker/u8:2-ev;secondary_startup_64+0x180;default_idle+0x80;ext4_readpage+0x20;"
        "ext4_mpage_readpages+0x10 1",
        "perf 1",
        "swapper;secondary_startup_64+0x80;cpu_startup_entry+0x10;do_idle+0x50;default_idle+0x10;"
        "native_safe_halt+0x11 1",
        "swapper;secondary_startup_64+0x81;cpu_startup_entry+0x11;do_idle+0x51;default_idle+0x11;"
        "native_safe_halt+0x12 1",
    ]


def test_perf_script_liberal(stack_table):
    """Address-only stack lines, no blank line between samples, CRLF, srcline
    lines, stack lines before any header, a header without a pid."""
    _, table = stack_table
    text = ("\tffffffff81000111\n"                      # before any header: ignored
            "swapper 0 [000] 1.0: cpu-clock:\r\n"
            "\tffffffff81000111\r\n"
            "\t  native_safe_halt.c:12\n"              # --srcline output: skipped
            "\t0xffffffff81000201 do_idle+0x1\n"
            "sh 5 [001] 2.0: cpu-clock:\n"           # no blank line before this header
            "\tffffffff81000112 native_safe_halt+0x12 ([kernel.kallsyms])\n"
            "\tffffffff81000201\n"
            "idle\n"                                 # a header that is only a name
            "\tffffffff81000190\n")
    assert folded(stacks.collapse(text.splitlines(True), table)) == [
        "idle;default_idle 1",
        "sh;do_idle;native_safe_halt 1",
        "swapper;do_idle;native_safe_halt 1",
    ]


def test_detect_format():
    assert stacks.detect_format(["a;b 1\n", "c 2\n"]) == "folded"
    assert stacks.detect_format(["\n", "a;b 1\n"]) == "folded"
    assert stacks.detect_format(["swapper 0\n", "\tffffffff81000111\n"]) == "perf"
    assert stacks.detect_format(["# header\n", "swapper 0 [000] 1.0: cycles:\n"]) == "perf"
    assert stacks.detect_format([]) == "folded"


def test_empty_inputs(stack_table):
    _, table = stack_table
    assert stacks.collapse([], table) == []
    assert stacks.collapse(["\n", "# c\n"], table, input_format="perf") == []


# ---- pysyms symbolize on the command line ------------------------------------------------------------


def run_with_stdin(args, data, timeout=120):
    """Like cli_process.run_pysyms_process, with data on stdin (bytes out)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(Path(pysyms.__file__).resolve().parent.parent) + os.pathsep + env.get("PYTHONPATH", "")
    with tempfile.TemporaryDirectory() as cwd:
        return subprocess.run([sys.executable, "-m", "pysyms", *args], input=data, capture_output=True,
                              env=env, cwd=cwd, timeout=timeout)


def test_symbolize_process_file(stack_table, tmp_path):
    source, _ = stack_table
    perf = tmp_path / "perf.txt"
    perf.write_text(PERF_SCRIPT)
    result = run_pysyms_process(["symbolize", "--source", source, str(perf)])
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == PERF_EXPECTED
    result = run_pysyms_process(["symbolize", "--source", source, "--json", str(perf)])
    assert [json.loads(line) for line in result.stdout.splitlines()] == [
        {"stack": line.rsplit(" ", 1)[0].split(";"), "count": int(line.rsplit(" ", 1)[1])}
        for line in PERF_EXPECTED]


def test_symbolize_process_stdin(stack_table):
    source, _ = stack_table
    result = run_with_stdin(["symbolize", "--source", source, "--modules"], FOLDED.encode())
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().splitlines() == [
        "[unknown];[unknown] 4", "java;[unknown] 1", "java;cafe 2",
        "main;ext4_readpage [ext4];ext4_mpage_readpages [ext4] 4",
        "secondary_startup_64;cpu_startup_entry;do_idle;native_safe_halt 7"]
    result = run_with_stdin(["symbolize", "--source", source, "-"], b"a;b 1\nbroken\n")
    assert result.returncode == 2 and b"<stdin>:2:" in result.stderr


def test_symbolize_saved_table_and_no_comm(stack_table, tmp_path, monkeypatch, capsys):
    source, table = stack_table
    saved = tmp_path / "t.pysyms"
    table.save(str(saved))
    perf = tmp_path / "perf.txt"
    perf.write_text(PERF_SCRIPT)
    assert run(["symbolize", "-t", str(saved), "--no-comm", "--input", "perf", str(perf)]) == 0
    assert capsys.readouterr().out.splitlines()[1] == "cpu_startup_entry 1"
    assert run(["symbolize", "--source", source, str(tmp_path / "absent")]) == 2


def test_addr_process_stdin(stack_table):
    source, table = stack_table
    data = b"ffffffff81000111\n0x10 FFFFFFFF81000412\nffffffffc0a00104\n"
    result = run_with_stdin(["addr", "--source", source], data)
    assert result.returncode == 1, result.stderr
    assert result.stdout == old_addr(table, [0xFFFFFFFF81000111, 0x10, 0xFFFFFFFF81000412,
                                             0xFFFFFFFFC0A00104])[1]
    result = run_with_stdin(["addr", "--source", source], b"ffffffff81000111\n")
    assert result.returncode == 0 and result.stdout == b"native_safe_halt+0x11/0x80\n"


# ---- build progress ----------------------------------------------------------------------------------


class FakeTTY(io.StringIO):
    def isatty(self):
        return True


def test_build_progress_on_a_terminal(stack_table, monkeypatch, capsys):
    source, _ = stack_table
    tty = FakeTTY()
    monkeypatch.setattr(sys, "stderr", tty)
    monkeypatch.setattr(cli, "PROGRESS_DELAY", 0.0)
    real = pysyms.SymbolTable.from_file

    def slow(path, *a, **k):
        import time
        time.sleep(0.25)
        return real(path, *a, **k)

    monkeypatch.setattr(cli.SymbolTable, "from_file", staticmethod(slow))
    assert run(["build", "--source", source]) == 0
    text = tty.getvalue()
    assert text.startswith(f"\rbuilding table from {source} ... ")
    assert re.search(r"\r\x1b\[Kbuilding table from .* \.\.\. done in \d+ ms\n$", text)
    assert capsys.readouterr().out.startswith("built 10 symbols")


def test_build_progress_quiet_when_fast_or_not_a_terminal(stack_table, monkeypatch):
    source, _ = stack_table
    tty = FakeTTY()
    monkeypatch.setattr(sys, "stderr", tty)
    assert run(["build", "--source", source]) == 0  # well under PROGRESS_DELAY
    assert tty.getvalue() == ""
    plain = io.StringIO()
    monkeypatch.setattr(sys, "stderr", plain)
    monkeypatch.setattr(cli, "PROGRESS_DELAY", 0.0)
    with cli.Progress("x", delay=0.0):
        import time
        time.sleep(0.05)
    assert plain.getvalue() == ""


def _many_records(n):
    return [(0x1000 + 16 * i, "tT"[i % 2], f"{('do_', 'sys_', '__x64_')[i % 3]}thing_{i}_{i % 977}", None)
            for i in range(n)]


def test_build_reports_its_progress():
    """The C build's own progress (phases, then compression rounds) reaches
    the callback: rising fractions from 0 to 1, the last one 1.0."""
    records = _many_records(150_000)
    seen = []
    with pysyms.reporting_progress(seen.append, interval=0.002):
        table = pysyms.SymbolTable.from_records(records)
    assert len(table) == len(records)
    assert seen[-1] == 1.0
    assert seen == sorted(seen) and 0.0 <= seen[0]
    assert len(set(seen)) >= 3, seen  # several steps were seen on the way
    # a build that fails in C (its token table would pass 64 KiB) is not done
    alphabet = "abcdefghijklmnopqrstuvwxyz"
    too_long = [(0x1000 + 16 * k, "T", "a" * 509 + c1 + c2, None)
                for k, (c1, c2) in enumerate((x, y) for x in alphabet[:20] for y in alphabet[:15])]
    failed = []
    with pysyms.reporting_progress(failed.append, interval=0.0001):
        with pytest.raises(pysyms.Error, match="token table"):
            pysyms.SymbolTable.from_records(too_long)
    assert 1.0 not in failed
    # outside a block nothing is reported
    before = len(seen)
    pysyms.SymbolTable.from_records(records[:1000])
    assert len(seen) == before


def test_progress_bar_on_a_terminal():
    tty = FakeTTY()
    with cli.Progress("building table from big", stream=tty, delay=0.0, interval=0.005) as bar, \
            pysyms.reporting_progress(bar.update, interval=0.002):
        pysyms.SymbolTable.from_records(_many_records(150_000))
    text = tty.getvalue()
    assert re.search(r"building table from big \.\.\. \[[#-]{24}\] +\d+% \d+\.\d s", text), text[-300:]
    assert text.endswith("ms\n") and "done in" in text


def test_progress_reports_failure():
    tty = FakeTTY()
    with pytest.raises(RuntimeError):
        with cli.Progress("building table from y", stream=tty, delay=0.0, interval=0.01):
            import time
            time.sleep(0.05)
            raise RuntimeError("boom")
    assert "building table from y ... failed in" in tty.getvalue()
    assert re.search(r"building table from y \.\.\. [|/\\-] \d+\.\d s", tty.getvalue())  # spinner, time so far
