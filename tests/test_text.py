"""Untrusted names in output: control characters escaped, CSV formulas neutralised (issue #11)."""

from __future__ import annotations

import copy
import csv
import io
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evckit._resources import data_dir
from evckit._text import csv_safe, json_safe, printable
from evckit.cli import main


def test_printable_escapes_controls_only() -> None:
    """Newlines, ESC, DEL, C1 (8-bit CSI), line separators and bidi overrides are escaped; letters are not."""
    assert printable("web-01") == "web-01"
    assert printable("Zürich ВМ 東京") == "Zürich ВМ 東京"
    assert printable("a\nb") == "a\\x0ab"
    assert printable("\x1b[31mred") == "\\x1b[31mred"
    assert printable("x\x7f\x9by") == "x\\x7f\\x9by"
    assert printable("a\u2028b\u202ec") == "a\\u2028b\\u202ec"


@given(st.text())
def test_printable_is_one_line_without_controls(text: str) -> None:
    """Whatever the input, the result is one line with no C0/C1 control character."""
    out = printable(text)
    assert "\n" not in out and "\r" not in out
    assert not any(ord(ch) < 0x20 or 0x7f <= ord(ch) <= 0x9f for ch in out)


@pytest.mark.parametrize(("cell", "expected"), [
    ('=cmd|"/c calc"!A1', '\'=cmd|"/c calc"!A1'),
    ("+1+2", "'+1+2"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("web-01", "web-01"), ("", ""), ("-5", "-5"), ("-inf", "'-inf"), (17, 17), (None, None),
])
def test_csv_safe(cell: object, expected: object) -> None:
    """OWASP's rule: a leading =, +, -, @, tab or CR gets a quote; plain numbers and other text stay."""
    assert csv_safe(cell) == expected


HOSTILE_VM = '=cmd|"/c calc"!A1'
HOSTILE_CLUSTER = "gold\n\x1b[2Jfake\x9b2J\u202e"


@pytest.fixture
def hostile_snapshot(tmp_path: Path) -> Path:
    """The example estate with a formula VM name and a cluster name carrying a newline and ANSI escape."""
    doc = json.loads((data_dir() / "examples" / "estate.json").read_text(encoding="utf-8"))
    doc = copy.deepcopy(doc)
    vc = doc["vcenters"][0]
    vc["vms"][0]["name"] = HOSTILE_VM
    old = vc["clusters"][0]["name"]
    vc["clusters"][0]["name"] = HOSTILE_CLUSTER
    for obj in vc["hosts"] + vc["vms"]:
        if obj.get("cluster") == old:
            obj["cluster"] = HOSTILE_CLUSTER
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_csv_neutralises_formulas(capsys: pytest.CaptureFixture[str], hostile_snapshot: Path) -> None:
    """A VM named like a formula is written as text (leading quote) in the CSV report."""
    assert main(["check", str(hostile_snapshot), "--format", "csv", "--explain"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    names = {r["vm"] for r in rows}
    assert "'" + HOSTILE_VM in names and HOSTILE_VM not in names
    assert not any(cell.startswith(("=", "+", "@")) for r in rows for cell in r.values())


@pytest.mark.parametrize("fmt", ["table", "markdown", "csv"])
def test_names_cannot_break_lines_or_reach_the_terminal(capsys: pytest.CaptureFixture[str], hostile_snapshot: Path,
                                                        fmt: str) -> None:
    """Tables, Markdown and CSV escape control characters in names: no ESC, no extra line."""
    assert main(["check", str(hostile_snapshot), "--format", fmt, "--explain"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x9b" not in out and "gold\\x0a\\x1b[2Jfake\\x9b2J\\u202e" in out
    assert not any(line.startswith("\x1b[2Jfake") or line == "fake" for line in out.splitlines())


@pytest.mark.parametrize("fmt", ["json", "json-expanded"])
def test_json_keeps_names_exact(capsys: pytest.CaptureFixture[str], hostile_snapshot: Path, fmt: str) -> None:
    """JSON is data: names round-trip exactly, and no raw control character (C0, C1, bidi) is printed."""
    assert main(["check", str(hostile_snapshot), "--format", fmt]) == 0
    out = capsys.readouterr().out
    doc = json.loads(out)
    assert HOSTILE_CLUSTER in {c["name"] for c in doc["clusters"]}
    assert not any(ord(ch) < 0x20 and ch != "\n" or 0x7f <= ord(ch) <= 0x9f or ch in "\u202e\u2028" for ch in out)


def test_json_safe_keeps_the_document() -> None:
    """json_safe writes C1 and bidi characters as \\u escapes: the same JSON document."""
    text = json.dumps({"a": "x\x9by\u202ez\u2028"}, ensure_ascii=False)
    assert json.loads(json_safe(text)) == json.loads(text) and "\x9b" not in json_safe(text)


def test_errors_naming_a_hostile_name_stay_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A bad snapshot whose object names carry newlines still fails with exactly one line."""
    doc = {"evckit_snapshot": 1, "vcenters": [{"name": "vc\none", "clusters": [], "hosts": [],
                                               "vms": [{"name": "vm\n\x1b[31mtwo", "host": "nowhere",
                                                        "power_state": "poweredOn", "hardware_version": "vmx-19"}]}]}
    path = tmp_path / "bad\nname.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "\x1b" not in err and "vm\\x0a\\x1b[31mtwo" in err
