"""The benchmark harness stays runnable, and its naive baseline computes what evckit computes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from generate import estate  # noqa: E402
from naive import analyze_naive  # noqa: E402

from evckit.analysis import analyze  # noqa: E402
from evckit.inventory import parse_snapshot  # noqa: E402


def test_naive_baseline_agrees_with_evckit() -> None:
    """On a generated estate, the frozenset baseline gives each VM the same status per cluster."""
    inv = parse_snapshot(estate(400, 40, seed=7), "gen")
    ours = analyze(inv)
    theirs = analyze_naive(inv)
    for v in ours.vms:
        g = v.verdict
        for c in ours.clusters:
            label = c.label
            if v.vm.running:
                got = "live" if label in g.live_targets else "partial" if label in g.partial else "blocked"
            else:
                got = "cold" if label in g.cold_targets else "blocked"
            assert theirs[v.vm.name][c.cluster.name] == got, (v.vm.name, label)


def test_generator_is_seeded_and_realistic() -> None:
    """The same seed gives the same estate; it mixes vendors, EVC on and off, powered-off VMs."""
    a, b = estate(1000, 100, seed=3), estate(1000, 100, seed=3)
    assert a == b
    inv = parse_snapshot(a, "gen")
    assert {h.cpu.vendor for h in inv.hosts} == {"intel", "amd"}
    assert any(c.evc_mode for c in inv.clusters) and any(not c.evc_mode for c in inv.clusters)
    assert any(not v.running for v in inv.vms) and len({v.hardware_version for v in inv.vms}) > 4


@pytest.mark.slow
def test_quick_run_prints_the_json_contract() -> None:
    """`python benchmarks/run.py --quick --json` runs and prints every benchmark with its baseline."""
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--json"],
                         capture_output=True, text=True, check=True, timeout=300).stdout
    doc = json.loads(out)
    assert doc["peak_rss_mb"] > 0
    names = {b["name"] for b in doc["benchmarks"]}
    assert {"analysis-10k", "single-vm-cluster-check", "evckit-check-example-process"} <= names
    commands = {b["name"]: b for b in doc["benchmarks"] if b["name"].startswith("command-1k-")}
    assert {"command-1k-table", "command-1k-json", "command-1k-csv", "command-1k-what-if", "command-1k-explain",
            "command-1k-explain-csv"} <= set(commands)
    assert all(b["output_bytes"] > 0 and b["peak_rss_mb"] > 0 for n, b in commands.items() if "analyze" not in n)
    for b in doc["benchmarks"]:
        assert {"name", "seconds", "baseline", "baseline_seconds", "ratio"} <= set(b)


def test_large_estate_table_is_a_summary() -> None:
    """On a large estate the readable report prints one line per situation and no per-host list."""
    from evckit import report  # noqa: PLC0415

    inv = parse_snapshot(estate(3000, 400, seed=5), "gen")
    out = report.render_check(report.select(analyze(inv)), "table")
    assert "Hosts: 400 (listed with --explain" in out
    assert "VMs that cannot move everywhere (summary:" in out
    assert out.count("\n") < 3000  # fewer lines than VMs: situations, not VMs x targets
