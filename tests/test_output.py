"""`evckit check -o FILE`: the report is written whole or not at all."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from evckit import report
from evckit.cli import main
from evckit.errors import OutputError
from evckit.output import atomic_output


def test_output_file_holds_what_stdout_would(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """-o FILE writes the same report as stdout would get, and nothing goes to stdout."""
    assert main(["check", "--example", "--format", "json"]) == 0
    expected = capsys.readouterr().out
    out = tmp_path / "report.json"
    assert main(["check", "--example", "--format", "json", "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    assert out.read_text(encoding="utf-8") == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]  # no temporary file left


def test_new_file_gets_umask_permissions(tmp_path: Path) -> None:
    """The temporary file's private mode is not what the user gets: a new report follows the umask."""
    old = os.umask(0o027)
    try:
        assert main(["check", "--example", "-o", str(tmp_path / "r.txt")]) == 0
    finally:
        os.umask(old)
    assert (tmp_path / "r.txt").stat().st_mode & 0o777 == 0o640


def test_bad_input_leaves_previous_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A bad snapshot fails with status 2 and one line; the previous report stays as it was."""
    out = tmp_path / "report.txt"
    out.write_text("previous\n", encoding="utf-8")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    assert main(["check", str(bad), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.json" in err
    assert out.read_text(encoding="utf-8") == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json", "report.txt"]


def test_failure_while_writing_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An error in the middle of writing (here: the renderer breaks) leaves no file and no temporary."""
    def broken(view: report.CheckView, fmt: str) -> str:
        raise RuntimeError("renderer broke")

    monkeypatch.setattr(report, "render_check", broken)
    out = tmp_path / "report.txt"
    assert main(["check", "--example", "-o", str(out)]) == 70  # an internal error, reported in one line
    assert list(tmp_path.iterdir()) == []


def test_partial_write_is_never_visible(tmp_path: Path) -> None:
    """Half of the content written when the error strikes never reaches the target."""
    out = tmp_path / "r.csv"
    with pytest.raises(KeyboardInterrupt), atomic_output(out) as stream:
        stream.write("half of it")
        assert not out.exists()
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_unwritable_place_fails_before_the_work(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A missing directory or a directory as target: status 2, one line naming the file."""
    target = tmp_path / "missing" / "r.txt"
    assert main(["check", "--example", "-o", str(target)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("evckit: error: cannot write") and str(target) in err and err.count("\n") == 1
    assert main(["check", "--example", "-o", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err
    with pytest.raises(OutputError):
        with atomic_output(tmp_path / "nope" / "x"):
            pass


def test_dash_is_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    """-o - writes to standard output."""
    assert main(["check", "--example", "-o", "-"]) == 0
    assert "Clusters" in capsys.readouterr().out
