"""``--explain`` at scale: an unfiltered report of a large estate states each verdict and target once
for the VMs that share it, and says exactly what the per-VM listing says; the CSV of every VM and
target it cannot fully reach is what `csv.writer` writes, line by line."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from functools import cache
from pathlib import Path

import pytest

from evckit import report
from evckit.analysis import Analysis, VMResult, analyze
from evckit.inventory import load_inventories, parse_snapshot

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from generate import estate


@cache
def generated() -> Analysis:
    """1,200 VMs in 30 clusters of both CPU vendors: VMs that share verdicts, partial targets, reasons."""
    return analyze(parse_snapshot(estate(1200, 300, seed=13), "gen-explain"))


def expected(a: Analysis, v: VMResult) -> dict[str, str]:
    """What --explain says of one VM at each target, from its verdict (not from the renderer's grouping):
    each target it cannot fully reach with every reason (the hosts that take it where only some do; the
    other CPU vendor's in one sentence), each target it can reach with what the analysis checked."""
    g = v.verdict
    out = {}
    for t, reasons in g.blocked.items():
        if t not in g.partial and all(r.kind == "vendor" for r in reasons):
            out[t] = f"other CPU vendor (the VM runs on {v.vendor})"
            continue
        why = "; ".join(r.message for r in reasons)
        out[t] = f"only {report._short(list(g.partial[t]), 3)} can take it; {why}" if t in g.partial else why
    for t in g.live_targets if v.vm.running else g.cold_targets:
        out[t] = report._why_yes(v.evidence(a.cluster(t)))
    return out


def test_each_vm_and_target_is_explained_once_by_its_group() -> None:
    """Expanded over its VMs, the grouped explanation states, for every VM and every target, exactly
    what that VM's own verdict says there: nothing lost, nothing said twice, nothing said of a VM it
    does not hold for."""
    a = generated()
    view = report.select(a, explain=True)
    groups = report.explain_groups(view)
    assert sum(len(grp.vms) for grp in groups) == len(a.vms)
    assert len(groups) < len(a.vms) / 10  # grouped: far fewer groups than VMs
    said: dict[tuple[str, str], str] = {}
    for grp in groups:
        members = {id(v) for v in grp.vms}
        for targets, why, these in grp.lines:
            assert {id(v) for v in these} <= members
            for v in these:
                for t in targets:
                    assert (v.vm.name, t) not in said, (v.vm.name, t)
                    said[(v.vm.name, t)] = why
    want = {(v.vm.name, t): why for v in a.vms for t, why in expected(a, v).items()}
    assert said == want
    assert report._explain_statements(a.vms) == sum(len(expected(a, v)) for v in a.vms)


def test_grouped_and_per_vm_listings_state_the_same_reasons(monkeypatch: pytest.MonkeyPatch) -> None:
    """The report's two forms of --explain state the same explanations: the per-VM listing (filtered,
    here to every cluster) and the grouped one (unfiltered, above EXPLAIN_ROWS)."""
    monkeypatch.setattr(report, "EXPLAIN_ROWS", 0)
    a = generated()
    per_vm = report.render_check(report.select(a, (), ["*"], explain=True), "markdown")
    rows = section_rows(per_vm, "VM verdicts\n")
    listed = {r[2] for r in rows}
    grouped = report.render_check(report.select(a, explain=True), "markdown")
    assert "## VM verdicts\n" not in grouped
    bullets = [line[2:] for line in grouped[grouped.index("## VM verdicts, each"):].splitlines()
               if line.startswith("- ")]
    stated = set()
    for b in bullets:
        target, _, why = b.partition(": ")
        if re.fullmatch(r"\d+ clusters", target):
            why = why.rsplit(": ", 1)[0]
        stated.add(re.sub(r"^for \d+ VMs? of them \([^)]*\): ", "", why))
    assert {re.sub(r"<br>", " ", x) for x in listed} == stated
    # Each group is one heading, its VMs counted; each line of the group one bullet.
    groups = report.explain_groups(report.select(a, explain=True))
    heads = re.findall(r"^### (\d+) VMs? ", grouped, flags=re.M)
    assert [int(n) for n in heads] == [len(grp.vms) for grp in groups]
    assert len(bullets) == sum(len(grp.lines) for grp in groups)


def section_rows(text: str, title: str) -> list[list[str]]:
    """The rows (cells) of the Markdown table under ``## title``."""
    start = text.index("## " + title)
    end = text.find("\n## ", start + 1)
    body = text[start:end if end >= 0 else None]
    return [[c.strip() for c in line.strip("|").split(" | ")] for line in body.splitlines()
            if line.startswith("|") and not line.startswith("|--")][1:]


def test_a_large_unfiltered_explain_is_grouped_and_says_how_to_list_per_vm(monkeypatch: pytest.MonkeyPatch) -> None:
    """Above EXPLAIN_ROWS statements an unfiltered --explain states each verdict once; filtered views
    (--cluster, --vm) keep every VM's listing; small estates keep the per-VM listing."""
    a = generated()
    statements = report._explain_statements(a.vms)
    monkeypatch.setattr(report, "EXPLAIN_ROWS", statements - 1)
    text = report.render_check(report.select(a, explain=True), "table")
    assert "VM verdicts, each stated once for the VMs that share it" in text
    assert f"Per VM, these are {statements:,} statements" in text
    note = " ".join(text[text.index("Per VM, these are"):].split("\n\n")[0].split())
    assert all(how in note for how in ("--vm NAME", "--cluster NAME", "--format csv --explain", "--format json"))
    assert len(text.splitlines()) < statements / 4
    # Filtered: the per-VM listing, whatever its size.
    cluster = a.clusters[0].label
    for view in (report.select(a, (), [cluster], explain=True), report.select(a, [a.vms[0].vm.name], explain=True,
                                                                              estate=True)):
        filtered = report.render_check(view, "table")
        assert "each stated once" not in filtered and "\nVM verdicts\n" in filtered
    # At the threshold, the listing per VM (the grouped form only above it).
    monkeypatch.setattr(report, "EXPLAIN_ROWS", statements)
    assert "each stated once" not in report.render_check(report.select(a, explain=True), "table")


def test_the_example_keeps_its_per_vm_explain() -> None:
    """The default threshold leaves small estates' --explain as it was: a row per VM situation and target."""
    a = analyze(load_inventories([], example=True))
    assert report._explain_statements(a.vms) <= report.EXPLAIN_ROWS
    text = report.render_check(report.select(a, explain=True), "table")
    assert "\nVM verdicts\n" in text and "each stated once" not in text


HOSTILE = {"vm": '=cmd|"x",y\nz', "cluster": "a,b \"c\"\x1b[31m"}


def test_targets_csv_is_what_csv_writer_writes(tmp_path: Path) -> None:
    """The targets table (--explain) is assembled from encoded fragments; it is byte for byte what
    `csv.writer` writes for the sanitised cells, with names that need quoting, escaping and neutralising."""
    doc = json.loads(Path(load_inventories([], example=True).source).read_text(encoding="utf-8"))
    vc = doc["vcenters"][0]
    old = vc["clusters"][0]["name"]
    text = json.dumps(doc).replace(json.dumps(old), json.dumps(HOSTILE["cluster"]))
    doc = json.loads(text)
    doc["vcenters"][0]["vms"][0]["name"] = HOSTILE["vm"]
    a = analyze(parse_snapshot(doc, "hostile"))
    buf = io.StringIO()
    report.write_check(report.select(a, explain=True), "csv", buf)
    ref = io.StringIO()
    w = csv.writer(ref, lineterminator="\n")
    w.writerow(["vm", "vcenter", "cluster", "power_state", "hardware_version", "target", "status", "reason_kinds",
                "reasons", "hosts_that_can"])
    from evckit.writers import _cell  # noqa: PLC0415

    for v in a.vms:
        g = v.verdict
        for c in a.clusters:
            st = g.status(c.label, v.vm.running)
            if st in ("live", "cold"):
                continue
            reasons = g.blocked.get(c.label, ())
            w.writerow([_cell(x) for x in (v.vm.name, v.vm.vcenter, v.cluster_label or "")]
                       + [v.vm.power_state, f"vmx-{v.vm.hardware_version}"]
                       + [_cell(x) for x in (c.label, st, "; ".join(dict.fromkeys(r.kind for r in reasons)),
                                              " | ".join(r.message for r in reasons),
                                              "; ".join(g.partial.get(c.label, ())))])
    assert buf.getvalue() == ref.getvalue()
    assert "'=cmd" in buf.getvalue() and "\x1b" not in buf.getvalue()
    assert any(v.vm.name == HOSTILE["vm"] for v in a.vms)
    assert len(list(csv.reader(io.StringIO(buf.getvalue())))) == ref.getvalue().count("\n") - sum(
        cell.count("\n") for row in csv.reader(io.StringIO(ref.getvalue())) for cell in row)
