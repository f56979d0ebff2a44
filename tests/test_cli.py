"""The command line: `evckit modes` and error handling common to every command."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from evckit.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the CLI in-process; return (status, stdout, stderr)."""
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_modes_json_contract(capsys: pytest.CaptureFixture[str]) -> None:
    """`evckit modes --format json` lists every mode with the documented keys."""
    status, out, _ = run(capsys, "modes", "--format", "json")
    modes = json.loads(out)["modes"]
    assert status == 0
    assert sum(m["vendor"] == "intel" for m in modes) >= 12 and sum(m["vendor"] == "amd" for m in modes) >= 10
    for m in modes:
        assert {"key", "vendor", "label", "features", "confidence", "sources"} <= set(m)
        assert m["confidence"] in ("confirmed", "unconfirmed")


def test_modes_table_shows_confidence(capsys: pytest.CaptureFixture[str]) -> None:
    """The table marks unconfirmed baselines as such."""
    status, out, _ = run(capsys, "modes", "--vendor", "intel")
    assert status == 0 and "intel-sapphirerapids" in out and "unconfirmed" in out and "amd-zen" not in out


def test_one_mode(capsys: pytest.CaptureFixture[str]) -> None:
    """`evckit modes KEY` shows the complete baseline with positions and membership confidence."""
    status, out, _ = run(capsys, "modes", "intel-icelake")
    assert status == 0 and "CPUID 0x7.0 ECX" in out and "avx512vbmi2" in out and "sse3" in out


def test_diff(capsys: pytest.CaptureFixture[str]) -> None:
    """`--diff A B` lists added and removed features."""
    status, out, _ = run(capsys, "modes", "--diff", "intel-cascadelake", "intel-icelake", "--format", "json")
    diff = json.loads(out)["diff"]
    assert status == 0 and "sha" in diff["added"] and diff["removed"] == [] and diff["relation"] == "superset"
    status, out, _ = run(capsys, "modes", "--diff", "amd-steamroller", "amd-zen", "--format", "json")
    diff = json.loads(out)["diff"]
    assert {"xop", "fma4", "tbm"} <= set(diff["removed"]) and diff["relation"] == "incomparable"


def test_unknown_mode_is_one_line_status_2(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown key: one line on stderr with a suggestion, exit 2, nothing on stdout."""
    status, out, err = run(capsys, "modes", "intel-cascadelak")
    assert status == 2 and out == ""
    assert err.startswith("evckit: error: unknown EVC mode 'intel-cascadelak'; did you mean intel-cascadelake")
    assert err.count("\n") == 1


def test_python_dash_m(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`python -m evckit` runs the same command in a fresh process without a traceback on bad input."""
    proc = subprocess.run([sys.executable, "-m", "evckit", "modes", "nope"], capture_output=True, text=True,
                          check=False, cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and proc.stderr.startswith("evckit: error:")


def test_import_is_light() -> None:
    """`import evckit` imports neither pyVmomi nor tabulate."""
    code = "import sys, evckit; print(any(m.startswith(('pyVmomi', 'tabulate')) for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_collector_defaults_match() -> None:
    """The command line offers the collector's own defaults, without importing the collector."""
    import evckit.cli as cli  # noqa: PLC0415
    import evckit.vsphere as vsphere  # noqa: PLC0415

    assert (cli.DEFAULT_TIMEOUT, cli.DEFAULT_PAGE_SIZE, cli.DEFAULT_TOTAL_TIMEOUT) == (
        vsphere.DEFAULT_TIMEOUT, vsphere.DEFAULT_PAGE_SIZE, vsphere.DEFAULT_TOTAL_TIMEOUT)
    code = "import sys, evckit.cli as c; c._parser(); print('evckit.vsphere' in sys.modules, 'ssl' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
