"""The ``pysyms`` command (pysyms.cli.main) over a small generated source."""

import io
import json
import sys

import pytest

import oracle
from cli_process import run_pysyms_process
from pysyms import cli

SOURCE = (
    b"ffffffff81000000 T _stext\n"
    b"ffffffff81000000 T _text\n"
    b"ffffffff81000100 t helper\n"
    b"ffffffff81000200 T do_work\n"
    b"ffffffff81000300 t helper\n"
    b"ffffffffc0201000 t ftrace_trampoline\t[__builtin__ftrace]\n"
)
RECORDS = oracle.split_kallsyms_lines(SOURCE)
NAMES_BYTES = 6 + 5 + 6 + 7 + 6 + 17


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "kallsyms"
    path.write_bytes(SOURCE)
    return str(path)


def run(argv):
    """Exit status of main(argv), whether it returns it or argparse exits."""
    try:
        return cli.main(argv)
    except SystemExit as exc:
        return exc.code


def out_lines(capsys):
    captured = capsys.readouterr()
    return captured.out.splitlines(), captured.err


# ---- build and info ------------------------------------------------------------------------


def expected_compressed():
    arrays = oracle.expected_arrays(RECORDS)
    prefixes = sum(plen for _, plen, _ in oracle.split_names(arrays["names"]))
    return len(arrays["names"]) - prefixes + len(arrays["token_table"]) + len(arrays["token_index"])


def test_build(source, capsys):
    assert run(["build", "--source", source]) == 0
    out, err = out_lines(capsys)
    assert len(out) == 1 and err == ""
    assert out[0].startswith(f"built 6 symbols (1 module) from {source} in ")
    assert f"names {NAMES_BYTES} -> {expected_compressed()} bytes" in out[0]


def test_build_counts_modules_in_words(tmp_path, capsys):
    """One module, or none or several: the summary line's noun agrees."""
    for text, words in ((SOURCE.replace(b"\t[__builtin__ftrace]", b""), "0 modules"),
                        (SOURCE + b"ffffffffc0300000 t init\t[ext4]\n", "2 modules")):
        path = tmp_path / "kallsyms"
        path.write_bytes(text)
        assert run(["build", str(path)]) == 0
        out, _ = out_lines(capsys)
        assert f" symbols ({words}) from " in out[0]


def test_build_positional_source(source, capsys):
    assert run(["build", source]) == 0
    out, _ = out_lines(capsys)
    assert out[0].startswith(f"built 6 symbols (1 module) from {source} in ")


def test_build_json(source, capsys):
    assert run(["build", "--json", "--source", source]) == 0
    out, _ = out_lines(capsys)
    assert len(out) == 1
    obj = json.loads(out[0])
    assert obj["source"] == source and obj["symbols"] == 6 and obj["modules"] == 1
    assert obj["original"] == NAMES_BYTES
    assert obj["compressed"] == expected_compressed()
    assert obj["ratio"] == round(expected_compressed() / NAMES_BYTES, 4)
    assert obj["memory_bytes"] > 0 and obj["build_ms"] >= 0


def test_info(source, capsys):
    assert run(["info", "--source", source]) == 0
    out, _ = out_lines(capsys)
    assert out[0].split() == ["source", source]
    assert out[1].split() == ["symbols", "6"]
    assert out[2].split() == ["modules", "1"]
    assert out[3].split() == ["names", str(NAMES_BYTES), "bytes"]
    assert out[4].split()[:3] == ["compressed", str(expected_compressed()), "bytes"]
    assert out[5].split()[0] == "ratio"


def test_info_json(source, capsys):
    assert run(["info", "--source", source, "--json"]) == 0
    out, _ = out_lines(capsys)
    assert len(out) == 1
    obj = json.loads(out[0])
    assert (obj["symbols"], obj["modules"], obj["original"], obj["compressed"]) == \
        (6, 1, NAMES_BYTES, expected_compressed())


# ---- lookup ---------------------------------------------------------------------------------


def test_lookup_found(source, capsys):
    assert run(["lookup", "--source", source, "do_work"]) == 0
    out, err = out_lines(capsys)
    assert out == ["ffffffff81000200 T do_work"] and err == ""


def test_lookup_every_match_in_address_order(source, capsys):
    assert run(["lookup", "--source", source, "helper", "ftrace_trampoline"]) == 0
    out, _ = out_lines(capsys)
    assert out == ["ffffffff81000100 t helper", "ffffffff81000300 t helper",
                   "ffffffffc0201000 t ftrace_trampoline\t[__builtin__ftrace]"]


def test_lookup_missing(source, capsys):
    assert run(["lookup", "--source", source, "nope"]) == 1
    out, err = out_lines(capsys)
    assert out == [] and "nope" in err


def test_lookup_some_missing(source, capsys):
    assert run(["lookup", "--source", source, "_text", "nope"]) == 1
    out, _ = out_lines(capsys)
    assert out == ["ffffffff81000000 T _text"]


def test_lookup_json(source, capsys):
    assert run(["lookup", "--json", "--source", source, "helper", "nope"]) == 1
    out, _ = out_lines(capsys)
    objs = [json.loads(line) for line in out]
    assert objs == [
        {"query": "helper", "found": True, "index": 2, "address": "0xffffffff81000100", "type": "t",
         "name": "helper", "module": None, "kind": "exact"},
        {"query": "helper", "found": True, "index": 4, "address": "0xffffffff81000300", "type": "t",
         "name": "helper", "module": None, "kind": "exact"},
        {"query": "nope", "found": False},
    ]


# ---- addr -----------------------------------------------------------------------------------


def test_addr(source, capsys):
    argv = ["addr", "--source", source, "ffffffff81000104", "0xffffffff81000000", "FFFFFFFF81000350",
            "ffffffffc0201000"]
    assert run(argv) == 1  # the gap after the core kernel's last symbol has no answer
    out, _ = out_lines(capsys)
    assert out == ["helper+0x4/0x100", "_stext+0x0/0x100", "0xffffffff81000350",
                   "ftrace_trampoline+0x0/0x0 [__builtin__ftrace]"]


def test_addr_not_found(source, capsys):
    assert run(["addr", "--source", source, "1000", "ffffffff81000200", "ffffffffffffffff"]) == 1
    out, _ = out_lines(capsys)
    assert out == ["0x1000", "do_work+0x0/0x100", "0xffffffffffffffff"]


def test_addr_stdin(source, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("ffffffff81000104\n0x1000  ffffffff810001ff\n\n"))
    assert run(["addr", "--source", source]) == 1
    out, _ = out_lines(capsys)
    assert out == ["helper+0x4/0x100", "0x1000", "helper+0xff/0x100"]


def test_addr_json(source, capsys):
    assert run(["addr", "--json", "--source", source, "ffffffffc0201000", "ffffffff81000104", "10"]) == 1
    out, _ = out_lines(capsys)
    objs = [json.loads(line) for line in out]
    assert objs == [
        {"query": "0xffffffffc0201000", "found": True, "name": "ftrace_trampoline",
         "address": "0xffffffffc0201000", "offset": "0x0", "size": "0x0", "module": "__builtin__ftrace",
         "index": 5},
        {"query": "0xffffffff81000104", "found": True, "name": "helper", "address": "0xffffffff81000100",
         "offset": "0x4", "size": "0x100", "module": None, "index": 2},
        {"query": "0x10", "found": False},
    ]


def test_addr_bad_address(source, capsys):
    assert run(["addr", "--source", source, "zz"]) == 2
    _, err = out_lines(capsys)
    assert "zz" in err
    assert run(["addr", "--source", source, "1" + "0" * 16]) == 2


# ---- bad input and usage ------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["info"], ["build"], ["lookup", "x"], ["addr", "10"]])
def test_bad_source_file(tmp_path, capsys, command):
    bad = tmp_path / "bad"
    bad.write_bytes(b"ffffffff81000000 T ok\nnot a kallsyms line at all\n")
    assert run(command + ["--source", str(bad)]) == 2
    out, err = out_lines(capsys)
    assert out == []
    assert f"{bad}:2:" in err


def test_zero_address_source(tmp_path, capsys):
    zero = tmp_path / "zero"
    zero.write_bytes(b"0000000000000000 T _stext\n0000000000000000 T foo\n")
    assert run(["info", "--source", str(zero)]) == 2
    _, err = out_lines(capsys)
    assert str(zero) in err


def test_missing_source_file(tmp_path, capsys):
    assert run(["info", "--source", str(tmp_path / "absent")]) == 2


@pytest.mark.parametrize("argv", [[], ["frobnicate"], ["lookup"], ["info", "--no-such-option"]])
def test_bad_usage(argv, capsys):
    assert run(argv) == 2


# ---- python -m pysyms ----------------------------------------------------------------------------


def test_python_m_pysyms(source):
    result = run_pysyms_process(["info", "--source", source])
    assert result.returncode == 0, result.stderr
    assert ["symbols", "6"] in [line.split() for line in result.stdout.splitlines()]
    result = run_pysyms_process(["lookup", "--source", source, "nope"])
    assert result.returncode == 1
