"""Large readable reports summarise: the largest situations with their counts, then one line saying how
many were left out and how to see them; a filtered report (--cluster, --vm, --explain) lists all."""

from __future__ import annotations

import re
import sys
from functools import cache
from pathlib import Path

import pytest

from evckit import report
from evckit.analysis import Analysis, analyze
from evckit.inventory import load_inventories, parse_snapshot

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from generate import estate

HOW = ("--cluster NAME", "--vm NAME", "--format csv", "--format json")


@cache
def generated() -> Analysis:
    """30 clusters, 1,500 VMs: more than `report.DETAIL_ROWS` VM situations."""
    return analyze(parse_snapshot(estate(1500, 300, seed=5), "gen"))


def section(text: str, title: str) -> tuple[list[list[str]], list[str]]:
    """The rows of a Markdown section (cells) and the paragraphs after its table."""
    start = text.index("## " + title)
    end = text.find("\n## ", start + 1)
    body = text[start:end if end >= 0 else None]
    rows = [[c.strip() for c in line.strip("|").split(" | ")] for line in body.splitlines()
            if line.startswith("|") and not line.startswith("|--")][1:]
    after = [p for p in body.split("\n\n")[1:] if not p.startswith("|")]
    return rows, after


def left_out(lines: list[str], noun: str) -> tuple[int, int | None]:
    """How many rows (and VMs) the "N more" line says were left out; (0, 0) without one."""
    for line in lines:
        m = re.match(rf"(\d+) more {noun}s?(?: \((\d+) VMs?\))? not shown: ", line)
        if m:
            return int(m.group(1)), int(m.group(2)) if m.group(2) else None
    return 0, 0


@pytest.mark.parametrize("title", ["VMs that cannot move everywhere", "VMs needing a power cycle"])
def test_a_large_vm_table_shows_the_largest_situations_and_counts_the_rest(monkeypatch: pytest.MonkeyPatch,
                                                                           title: str) -> None:
    monkeypatch.setattr(report, "DETAIL_ROWS", 20)
    monkeypatch.setattr(report, "TOP_ROWS", 4)
    a = generated()
    top, after = section(report.render_check(report.select(a), "markdown"), title)
    everything, rest = section(report.render_check(report.select(a, (), ["*"]), "markdown"), title)
    assert len(everything) > 4 and left_out(rest, "situation") == (0, 0)  # filtered: every situation listed
    more, vms = left_out(after, "situation")
    assert len(top) == 4 and more == len(everything) - 4
    counts = [int(r[0]) for r in everything]
    assert counts == sorted(counts, reverse=True)  # the most VMs first
    assert [int(r[0]) for r in top] == counts[:4]
    assert vms == sum(counts[4:])  # the counts add up
    line = next(p for p in after if " more situation" in p)
    assert all(how in line for how in HOW)


def test_the_vm_counts_add_up_to_the_vms_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every VM that cannot move everywhere or needs a power cycle is counted in exactly one situation."""
    monkeypatch.setattr(report, "DETAIL_ROWS", 20)
    a = generated()
    rows, _ = section(report.render_check(report.select(a, (), ["*"]), "markdown"), "VMs that cannot move everywhere")
    expected = sum(1 for v in a.vms if v.power_cycle is not None
                   or not all(v.verdict.other_vendor_only(t) for t in v.verdict.blocked))
    assert sum(int(r[0]) for r in rows) == expected
    cycles, _ = section(report.render_check(report.select(a, (), ["*"]), "markdown"), "VMs needing a power cycle")
    assert sum(int(r[0]) for r in cycles) == sum(v.power_cycle is not None for v in a.vms)


def test_large_cluster_tables_show_those_that_ask_most(monkeypatch: pytest.MonkeyPatch) -> None:
    """Above DETAIL_ROWS clusters: TOP_ROWS rows, the clusters with something to do first, the rest counted."""
    monkeypatch.setattr(report, "DETAIL_ROWS", 3)
    monkeypatch.setattr(report, "TOP_ROWS", 2)
    a = analyze(load_inventories([], example=True))
    text = report.render_check(report.select(a), "markdown")
    recs, after = section(text, "Recommended EVC mode per cluster")
    assert len(recs) == 2 and left_out(after, "cluster")[0] == len(a.clusters) - 2
    assert "--cluster NAME" in after[0] and "--format json" in after[0]
    acting = {c.label for c in a.clusters if c.recommendation is not None and report._acts(c.recommendation)}
    shown = {r[0] for r in recs}
    assert shown <= acting or acting <= shown
    # The rest counted by action (every one of them once), and how many of them ask for something.
    by_action = {k: int(n) for k, n in re.findall(r"\b(enable|raise|keep|lower) (\d+)\b", after[0])}
    assert sum(by_action.values()) == len(a.clusters) - 2
    assert f"({len(acting - shown)} of them with a change or VMs or hosts to act on)" in after[0]
    clusters, after = section(text, "Clusters")
    assert len(clusters) == 2 and left_out(after, "cluster")[0] == len(a.clusters) - 2
    assert "--csv-table clusters" in after[0]
    problems = sorted((report._cluster_problems(c) for c in a.clusters), reverse=True)
    assert sorted((report._cluster_problems(c) for c in a.clusters if c.label in {r[0] for r in clusters}),
                  reverse=True) == problems[:2]
    # Filtered (every cluster selected by a pattern), with --explain, or --vm with --estate: all rows.
    for view in (report.select(a, (), ["*"]), report.select(a, explain=True), report.select(a, ["*"], estate=True)):
        full = report.render_check(view, "markdown")
        assert len(section(full, "Recommended EVC mode per cluster")[0]) == len(a.clusters)
        assert len(section(full, "Clusters")[0]) == len(a.clusters)
        assert " more cluster" not in full


def test_small_estates_keep_their_full_listing() -> None:
    """Under the thresholds nothing is summarised: the example lists each VM's reasons per target."""
    a = analyze(load_inventories([], example=True))
    text = report.render_check(report.select(a), "table")
    assert " not shown: " not in text and "(summary:" not in text
    assert "VMs that cannot move everywhere\n" in text
