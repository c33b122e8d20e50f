"""``pysyms lookup --suffix/--unique/--sympos`` and ``pysyms grep`` (issue #3)."""

import json

import pytest

from cli_process import run_pysyms_process
from pysyms import cli

SOURCE = (
    b"ffffffff81000100 t ping_table.llvm.15394922576589127018\n"
    b"ffffffff81000200 t c_start\n"
    b"ffffffff81000300 t c_start.llvm.1\n"
    b"ffffffff81000400 t dup.isra.0\n"
    b"ffffffff81000500 t dup.constprop.0\n"
    b"ffffffff81000600 T tcp_show\n"
    b"ffffffff81000700 T tcp_v4_rcv\n"
    b"ffffffffc0201000 t udp_show\t[ext4]\n"
    b"ffffffffc0202000 t dup.part.0\t[ext4]\n"
)


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "kallsyms"
    path.write_bytes(SOURCE)
    return str(path)


def run(argv, capsys):
    try:
        status = cli.main(argv)
    except SystemExit as exc:
        status = exc.code
    out, err = capsys.readouterr()
    return status, out.splitlines(), err


def test_lookup_default_is_exact(source, capsys):
    status, out, err = run(["lookup", "--source", source, "ping_table"], capsys)
    assert status == 1 and out == [] and "ping_table" in err


def test_lookup_llvm(source, capsys):
    status, out, _ = run(["lookup", "--source", source, "--suffix", "llvm", "ping_table", "c_start"], capsys)
    assert status == 0
    assert out == ["ffffffff81000100 t ping_table.llvm.15394922576589127018\t(llvm)",
                   "ffffffff81000200 t c_start"]


def test_lookup_clone_every_match(source, capsys):
    status, out, _ = run(["lookup", "--source", source, "--suffix", "clone", "dup"], capsys)
    assert status == 0
    assert out == ["ffffffff81000400 t dup.isra.0\t(clone)", "ffffffff81000500 t dup.constprop.0\t(clone)",
                   "ffffffffc0202000 t dup.part.0\t[ext4]\t(clone)"]


def test_lookup_unique_ambiguous(source, capsys):
    status, out, err = run(["lookup", "--source", source, "--suffix", "clone", "--unique", "dup"], capsys)
    assert status == 3 and out == []
    for name in ("dup.isra.0", "dup.constprop.0", "dup.part.0"):
        assert name in err
    assert "0xffffffff81000400" in err and "clone" in err and "ext4" in err


def test_lookup_unique_ok_and_module(source, capsys):
    status, out, _ = run(["lookup", "--source", source, "--suffix", "clone", "--unique", "ext4:dup",
                          "vmlinux:c_start"], capsys)
    assert status == 0
    assert out == ["ffffffffc0202000 t dup.part.0\t[ext4]\t(clone)", "ffffffff81000200 t c_start"]


def test_lookup_sympos(source, capsys):
    status, out, _ = run(["lookup", "--source", source, "--suffix", "clone", "--sympos", "2", "dup"], capsys)
    assert status == 0 and out == ["ffffffff81000500 t dup.constprop.0\t(clone)"]
    status, out, err = run(["lookup", "--source", source, "--suffix", "clone", "--sympos", "9", "dup"], capsys)
    assert status == 1 and out == [] and "sympos" in err
    status, _, err = run(["lookup", "--source", source, "--sympos", "-1", "dup"], capsys)
    assert status == 2


def test_lookup_json_kinds(source, capsys):
    status, out, _ = run(["lookup", "--json", "--source", source, "--suffix", "llvm", "ping_table"], capsys)
    assert status == 0
    obj = json.loads(out[0])
    assert obj["kind"] == "llvm" and obj["name"].startswith("ping_table.llvm.")
    status, out, _ = run(["lookup", "--json", "--source", source, "--suffix", "clone", "--unique", "dup"],
                         capsys)
    assert status == 3
    obj = json.loads(out[0])
    assert obj["ambiguous"] and [c["name"] for c in obj["candidates"]] == [
        "dup.isra.0", "dup.constprop.0", "dup.part.0"]


def test_grep(source, capsys):
    status, out, _ = run(["grep", "--source", source, "tcp_*", "*_show"], capsys)
    assert status == 0
    assert out == ["ffffffff81000600 T tcp_show", "ffffffff81000700 T tcp_v4_rcv",
                   "ffffffff81000600 T tcp_show", "ffffffffc0201000 t udp_show\t[ext4]"]
    status, out, err = run(["grep", "--source", source, "nothing*"], capsys)
    assert status == 1 and out == [] and "nothing*" in err


def test_grep_json(source, capsys):
    status, out, _ = run(["grep", "--json", "--source", source, "[!t]*_show"], capsys)
    assert status == 0 and [json.loads(line)["name"] for line in out] == ["udp_show"]


def test_exit_code_through_process(source):
    result = run_pysyms_process(["lookup", "--source", source, "--suffix", "clone", "--unique", "dup"])
    assert result.returncode == 3 and "dup.isra.0" in result.stderr
