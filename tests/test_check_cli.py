"""`evckit check` output formats, filters and exit statuses."""

from __future__ import annotations

import copy
import csv
import io
import json
from pathlib import Path

import pytest

from evckit._resources import data_dir
from evckit.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run the CLI in-process; return (status, stdout, stderr)."""
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_table_sections(capsys: pytest.CaptureFixture[str]) -> None:
    """The default output has the summary, clusters, hosts, blocked VMs and power-cycle sections."""
    status, out, err = run(capsys, "check", "--example")
    assert status == 0 and err == ""
    for title in ("Clusters", "Hosts", "VMs that cannot move everywhere", "needing a power cycle"):
        assert title in out
    assert "other CPU vendor" in out and "only esx-legacy-2 can take it" in out


def test_markdown_and_csv(capsys: pytest.CaptureFixture[str]) -> None:
    """Markdown has headings and pipe tables; CSV has one row per VM, and per VM and non-live target
    with --explain."""
    status, out, _ = run(capsys, "check", "--example", "--format", "markdown")
    assert status == 0 and "## Clusters" in out and "| cluster" in out
    status, out, _ = run(capsys, "check", "--example", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert status == 0 and [r["vm"] for r in rows][:2] == ["web-01", "app-02"] and len(rows) == 10
    status, out, _ = run(capsys, "check", "--example", "--format", "csv", "--explain")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert status == 0 and rows
    assert {r["status"] for r in rows} <= {"partial", "blocked"}
    db = [r for r in rows if r["vm"] == "db-01" and r["target"] == "legacy"]
    assert db and db[0]["status"] == "partial" and db[0]["hosts_that_can"] == "esx-legacy-2"


def test_explain_explains_the_yes_verdicts(capsys: pytest.CaptureFixture[str]) -> None:
    """--explain shows the targets that work too (the readable report)."""
    _, out, _ = run(capsys, "check", "--example", "--explain")
    assert "live migration possible" in out and "cold migration possible" in out


def test_filters(capsys: pytest.CaptureFixture[str]) -> None:
    """--vm and --cluster restrict the VMs and clusters reported (shell patterns)."""
    _, out, _ = run(capsys, "check", "--example", "--format", "json", "--vm", "web-*", "--vm", "db-01")
    doc = json.loads(out)
    assert [v["name"] for v in doc["vms"]] == ["web-01", "db-01"]
    _, out, _ = run(capsys, "check", "--example", "--format", "json", "--cluster", "epyc")
    doc = json.loads(out)
    assert [c["name"] for c in doc["clusters"]] == ["epyc"] and [v["name"] for v in doc["vms"]] == ["epyc-db"]
    status, out, err = run(capsys, "check", "--example", "--vm", "nothing-like-this")
    assert status == 2 and out == "" and "no VM or cluster matches" in err


def test_fail_on_incompatible(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """--fail-on incompatible exits 1 when a running VM cannot reach another cluster of its vendor, else 0."""
    status, out, _ = run(capsys, "check", "--example", "--fail-on", "incompatible", "--format", "json")
    assert status == 1 and json.loads(out)["summary"]["vms_not_movable_everywhere"] > 0
    snap = json.loads((data_dir() / "examples" / "estate.json").read_text())
    vc = snap["vcenters"][0]
    vc["clusters"] = [c for c in vc["clusters"] if c["name"] in ("gold", "spr")]
    vc["hosts"] = [h for h in vc["hosts"] if h["cluster"] in ("gold", "spr")]
    vc["vms"] = [{"name": "small", "host": "esx-gold-1", "power_state": "poweredOn", "hardware_version": "vmx-19",
                  "min_required_evc_mode": "intel-haswell"}]
    path = tmp_path / "ok.json"
    path.write_text(json.dumps(snap))
    status, _, _ = run(capsys, "check", str(path), "--fail-on", "incompatible")
    assert status == 0


def test_nothing_to_check_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """`evckit check` without input says what to give and exits 2."""
    status, out, err = run(capsys, "check")
    assert status == 2 and out == "" and err.startswith("evckit: error: ") and err.count("\n") == 1


def test_json_is_stable_and_diagnostics_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    """JSON output is the whole stdout (parseable), identical across runs; nothing on stderr."""
    _, a, err = run(capsys, "check", "--example", "--format", "json")
    _, b, _ = run(capsys, "check", "--example", "--format", "json")
    assert a == b and err == "" and json.loads(a)["summary"]["vms"] == 10


def test_vm_without_requirement_is_assumed(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A running VM with no recorded requirement is assumed to use its cluster's mode, and says so."""
    snap = copy.deepcopy(json.loads((data_dir() / "examples" / "estate.json").read_text()))
    path = tmp_path / "s.json"
    path.write_text(json.dumps(snap))
    _, out, _ = run(capsys, "check", str(path), "--format", "json", "--vm", "build-01")
    vm = json.loads(out)["vms"][0]
    assert vm["requirement"]["source"] == "assumed" and "assumed" in vm["notes"][0]


def test_json_groups_is_json(capsys: pytest.CaptureFixture[str]) -> None:
    """--format json-groups, the former name of the grouped document, prints --format json."""
    _, plain, _ = run(capsys, "check", "--example", "--format", "json")
    _, grouped, _ = run(capsys, "check", "--example", "--format", "json-groups")
    assert plain == grouped and json.loads(plain)["form"] == "grouped"
    status, out, _ = run(capsys, "check", "--example", "--add-host", "gold=Xeon Gold 6430", "--format", "json-groups")
    assert status == 0 and json.loads(out)["changes"]


def test_renderers_import_no_mode_or_host_logic() -> None:
    """report.py formats: at run time it imports the analysis results, never the mode or host logic."""
    import ast  # noqa: PLC0415

    import evckit.report  # noqa: PLC0415

    tree = ast.parse(Path(evckit.report.__file__).read_text(encoding="utf-8"))
    runtime = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    modules = {n.module for n in runtime if isinstance(n, ast.ImportFrom)}
    assert "evckit.analysis" in modules
    assert not modules & {"evckit.modes", "evckit.assess", "evckit.profiles", "evckit.catalog", "evckit.inventory", "evckit.whatif"}
