"""Exit statuses and one-line errors of the `evckit` command (issue #11).

0 ran; 1 only for --fail-on findings; 2 bad input or usage; 70 an internal error; 130 interrupted.
Every error is exactly one line on stderr, with no traceback unless --debug asks for it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import evckit.analysis
import evckit.cli
from evckit.cli import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USAGE, main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the CLI in-process; return (status, stdout, stderr)."""
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def one_line_error(err: str) -> bool:
    """stderr is exactly one line starting with the program name, and no traceback."""
    return err.count("\n") == 1 and err.endswith("\n") and err.startswith("evckit") and "Traceback" not in err


@pytest.mark.parametrize("argv", [
    ("check",),                                  # no input
    ("check", "--exa"),                          # abbreviation: never accepted
    ("check", "--example", "--format", "xml"),   # bad choice
    ("modes", "a", "b", "c"),                    # leftovers
    ("nope",),                                   # unknown command
    ("check", "--example", "--timeout", "inf"),
    ("check", "--example", "--timeout", "nan"),
    ("check", "--example", "--timeout", "-1"),
    ("check", "--example", "--page-size", "0"),
    ("collect", "--server", "vc", "-o", "x.json", "--timeout", "nan"),
])
def test_usage_errors_are_one_line_status_2(capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]) -> None:
    """Usage errors (argparse's too) exit 2 with one line and nothing on stdout."""
    status, out, err = run(capsys, *argv)
    assert status == EXIT_USAGE and out == "" and one_line_error(err), err


def test_help_is_status_0(capsys: pytest.CaptureFixture[str]) -> None:
    """--help is not an error; it documents the internal-error and interrupt statuses."""
    status, out, _ = run(capsys, "--help")
    assert status == 0 and "70 internal error" in " ".join(out.split()) and "130" in out


@pytest.mark.parametrize("argv", [
    ("collect", "--server", "vc", "-o", "x.json", "--password", "S3cr3t"),
    ("collect", "--server", "vc", "-o", "x.json", "--password=S3cr3t"),
    ("collect", "--server", "vc", "-o", "x.json", "--pass", "S3cr3t"),
    ("collect", "--server", "vc", "-o", "x.json", "--passw=S3cr3t"),
    ("check", "--server", "vc", "--password", "S3cr3t"),
])
def test_password_in_argv_is_refused_and_never_echoed(capsys: pytest.CaptureFixture[str],
                                                      argv: tuple[str, ...]) -> None:
    """`--password S3cr3t` (or an abbreviation of --password-env) fails without quoting the secret."""
    status, out, err = run(capsys, *argv)
    assert status == EXIT_USAGE and one_line_error(err), err
    assert "S3cr3t" not in out + err


def test_debug_is_accepted_before_and_after_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    """`--debug` is an option of every command, wherever it is written."""
    assert run(capsys, "--debug", "modes")[0] == 0
    assert run(capsys, "modes", "--debug")[0] == 0


def _boom(message: str, exc: type[BaseException]) -> object:
    def boom(*_args: object, **_kwargs: object) -> object:
        raise exc(message)
    return boom


def test_internal_error_is_one_line_status_70(capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug is not bad input and not a finding: one line, status 70, a hint at --debug."""
    monkeypatch.setattr(evckit.analysis, "analyze", _boom("bug\nsecond line", TypeError))
    status, out, err = run(capsys, "check", "--example", "--fail-on", "incompatible")
    assert status == EXIT_INTERNAL == 70 and out == "" and one_line_error(err), err
    assert "internal error: TypeError: bug\\x0asecond line" in err and "--debug" in err


def test_debug_shows_the_traceback_and_keeps_the_status(capsys: pytest.CaptureFixture[str],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """--debug prints the traceback, then the same one line; the status stays 70."""
    monkeypatch.setattr(evckit.analysis, "analyze", _boom("bug", TypeError))
    status, _, err = run(capsys, "check", "--example", "--debug")
    assert status == EXIT_INTERNAL and "Traceback" in err and err.endswith("internal error: TypeError: bug; "
                                                                          "run with --debug for the traceback\n")


def test_ctrl_c_is_one_line_status_130(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C prints `evckit: interrupted` and exits 130, not a 61-line KeyboardInterrupt."""
    monkeypatch.setattr(evckit.analysis, "analyze", _boom("", KeyboardInterrupt))
    status, out, err = run(capsys, "check", "--example")
    assert status == EXIT_INTERRUPTED == 130 and out == "" and err == "evckit: interrupted\n"


def test_fail_on_is_the_only_status_1(capsys: pytest.CaptureFixture[str]) -> None:
    """1 means a finding: the example estate has a running VM that cannot move; without --fail-on it is 0."""
    assert run(capsys, "check", "--example", "--fail-on", "incompatible")[0] == 1
    assert run(capsys, "check", "--example")[0] == 0


def test_broken_pipe_is_quiet(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader that goes away (`| head`) is not an error."""
    def broken(_text: str) -> None:
        raise BrokenPipeError
    monkeypatch.setattr(evckit.cli, "_out", broken)
    status, _, err = run(capsys, "modes")
    assert status == 0 and err == ""


# The `evckit` command itself (`evckit.cli.run`, also `python -m evckit`) ends the process with
# os._exit once the report is out: these run it as a user does, in a child process.

def _command(*argv: str, stdout: object = subprocess.PIPE) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "evckit", *argv], stdout=stdout, stderr=subprocess.PIPE,
                          check=False, timeout=120)


def test_the_command_writes_the_whole_report_before_it_ends(capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast exit loses nothing: the command's report is the in-process one, byte for byte."""
    monkeypatch.setenv("COLUMNS", "100")  # the same table width in this process and the child
    for fmt in ("table", "json"):
        status, expected, _ = run(capsys, "check", "--example", "--format", fmt)
        proc = _command("check", "--example", "--format", fmt)
        assert (proc.returncode, proc.stderr) == (status, b"")
        assert proc.stdout.decode() == expected


def test_the_command_keeps_its_exit_statuses(tmp_path: Path) -> None:
    """Statuses 1 and 2 survive the fast exit; -o FILE is complete when the process has ended."""
    assert _command("check", "--example", "--fail-on", "incompatible").returncode == 1
    bad = _command("check", str(tmp_path / "missing.json"))
    assert bad.returncode == EXIT_USAGE and bad.stderr.decode().count("\n") == 1
    report = tmp_path / "report.json"
    assert _command("check", "--example", "--format", "json", "-o", str(report)).returncode == 0
    assert json.loads(report.read_text())["summary"]["vms"] == 10
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]  # no temporary file left behind


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs Linux's /dev/full (a device that is always full)")
@pytest.mark.parametrize("argv", [("check", "--example"), ("modes",), ("check", "--example", "--format", "json")])
def test_a_full_standard_output_is_one_line_status_2(argv: tuple[str, ...]) -> None:
    """Where the report goes is full: an error of the environment (status 2), not a bug (70)."""
    with open("/dev/full", "wb") as full:
        proc = _command(*argv, stdout=full)
    err = proc.stderr.decode()
    assert proc.returncode == EXIT_USAGE and one_line_error(err), err
    assert "No space left on device" in err
