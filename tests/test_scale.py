"""Work done once instead of per VM: compiled filters, per-verdict facts, parsing memos, the GC policy.
Each fast path is checked against the straightforward definition it replaces."""

from __future__ import annotations

import fnmatch
import gc
import json
from contextlib import contextmanager
import sys
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

import pytest

from evckit import output, report
from evckit.analysis import Analysis, VMResult, analyze
from evckit.cli import main
from evckit.errors import SnapshotError
from evckit.inventory import load_inventories, parse_snapshot

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from generate import estate


@cache
def generated() -> Analysis:
    return analyze(parse_snapshot(estate(3000, 300, seed=5), "gen"))


def naive_select(a: Analysis, vm_patterns: list[str], cluster_patterns: list[str]) -> tuple[list[str], list[str]]:
    def match(name: str, patterns: list[str]) -> bool:
        return not patterns or any(fnmatch.fnmatchcase(name, p) for p in patterns)

    clusters = [c.label for c in a.clusters if match(c.label, cluster_patterns) or match(c.cluster.name, cluster_patterns)]
    vms = [v.vm.name for v in a.vms if match(v.vm.name, vm_patterns)
           and (not cluster_patterns or match(v.cluster_label or "", cluster_patterns))]
    return vms, clusters


@pytest.mark.parametrize(("vm_patterns", "cluster_patterns"), [
    ([], []),
    (["vm00001*"], []),
    ([f"vm{i:07d}" for i in range(1, 3000, 15)], []),  # 200 exact names: a set lookup
    (["vm000[0-1]?[05]", "*7", "vm0002000", "nothing"], ["cl0000[1-9]", "cl00011"]),
    (["[!v]*", "v?00001*"], []),
    ([], ["*"]),
])
def test_compiled_filters_match_fnmatch(vm_patterns: list[str], cluster_patterns: list[str]) -> None:
    """The compiled patterns select exactly what fnmatchcase pattern by pattern selects."""
    a = generated()
    view = report.select(a, vm_patterns, cluster_patterns)
    assert ([v.vm.name for v in view.vms], [c.label for c in view.clusters]) == \
        naive_select(a, vm_patterns, cluster_patterns)


def test_special_characters_in_names_are_matched_literally() -> None:
    """Regex metacharacters in a pattern are plain text to a shell pattern (and to the compiled one)."""
    names = ["a.b", "a+b", "a(b)", "a$b", "a^b", "a|b", "a{1}", "a\\b"]
    matcher = report._matcher(["a.b", "a(b)", "a|b", "a\\b", "a{1}*"])
    assert [n for n in names if matcher(n)] == [n for n in names if any(
        fnmatch.fnmatchcase(n, p) for p in ["a.b", "a(b)", "a|b", "a\\b", "a{1}*"])]


def naive_incompatible(a: Analysis) -> list[VMResult]:
    vendor_of = {c.label: c.vendors for c in a.clusters}
    return [v for v in a.vms if v.vm.running and v.vendor is not None and any(
        t != v.cluster_label and vendor_of.get(t) == (v.vendor,) and t not in v.verdict.partial
        for t in v.verdict.blocked)]


def test_incompatible_per_verdict_equals_per_vm() -> None:
    """--fail-on's test, decided once per verdict, finds exactly the VMs the per-VM walk finds."""
    for a in (generated(), analyze(load_inventories([], example=True))):
        assert list(a.incompatible) == naive_incompatible(a)


def test_requirement_entries_memo_keeps_places(tmp_path: Path) -> None:
    """Repeated requirement entries are decided once, yet a bad one is still reported at its place."""
    snap = json.loads(Path(load_inventories([], example=True).source).read_text(encoding="utf-8"))
    vms = snap["vcenters"][0]["vms"]
    entries = [{"key": "cpuid.AVX2", "value": "Bool:Min:1"}, {"key": "cpuid.Intel", "value": "Bool:Min:1"}]
    vms[0]["feature_requirement"] = entries
    vms[1]["feature_requirement"] = [*entries, {"key": "cpuid.SSE3", "value": "Bool:Sometimes:1"}]
    vms[1].pop("min_required_evc_mode", None)
    with pytest.raises(SnapshotError) as err:
        parse_snapshot(snap, "s.json")
    assert f"vms[1] ({vms[1]['name']}).feature_requirement[2]" in str(err.value)
    vms[1]["feature_requirement"] = list(entries)
    inv = parse_snapshot(snap, "s.json")
    a, b = (next(v for v in inv.vms if v.name == vms[i]["name"]) for i in (0, 1))
    assert a.requirement == b.requirement and "avx2" in a.requirement.features and a.requirement.vendor == "intel"


def test_hosts_with_one_model_share_one_profile() -> None:
    """Hosts known by the same model name get the same (immutable) profile object."""
    inv = parse_snapshot(estate(50, 40, seed=2), "gen")
    by_model: dict[str | None, set[int]] = {}
    for h in inv.hosts:
        by_model.setdefault(h.cpu_model, set()).add(id(h.cpu))
    assert all(len(ids) == 1 for ids in by_model.values()) and len(by_model) > 1


def test_gc_policy_is_restored(capsys: pytest.CaptureFixture[str]) -> None:
    """The command's GC policy (paused while loading, frozen and a higher threshold after) ends with it."""
    before = gc.get_threshold(), gc.isenabled(), gc.get_freeze_count()
    assert main(["check", "--example", "--format", "json"]) == 0
    assert main(["check", "--example", "--vm", "no-such-vm"]) == 2
    capsys.readouterr()
    assert (gc.get_threshold(), gc.isenabled(), gc.get_freeze_count()) == before


def test_loaded_inventory_is_frozen_before_the_collector_runs_again(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """`evckit check` freezes what it read while the collector is still paused: enabled first, the
    collector's next pass would scan the whole inventory once for nothing."""
    real = output.bulk_gc
    enabled_at_freeze: list[bool] = []

    @contextmanager
    def spy() -> Iterator[Callable[[], None]]:
        with real() as loaded:
            def record() -> None:
                enabled_at_freeze.append(gc.isenabled())
                loaded()
            yield record

    monkeypatch.setattr(output, "bulk_gc", spy)
    assert main(["check", "--example", "--format", "json"]) == 0
    capsys.readouterr()
    assert enabled_at_freeze == [False]


@pytest.mark.parametrize("args", [["--format", "json"], ["--format", "csv"], ["--format", "table"],
                                  ["--add-host", "cl00001=Xeon Gold 6430x2"]])
def test_cyclic_garbage_does_not_grow_with_vms(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch, args: list[str]) -> None:
    """What the GC policy's high threshold relies on: analysing and writing make (almost) no reference
    cycles, and none per VM, so leaving them uncollected until the report is written keeps memory
    bounded by what is live (`output.BULK_GC_THRESHOLD`). The cyclic garbage a command leaves is
    counted at two estate sizes."""
    real = output.bulk_gc
    left: list[int] = []

    @contextmanager
    def spy() -> Iterator[Callable[[], None]]:
        with real() as loaded:
            yield loaded
            left.append(gc.collect())

    monkeypatch.setattr(output, "bulk_gc", spy)
    for vms in (400, 400, 2400):  # the first run also imports modules (their garbage is not the command's)
        snap = tmp_path / f"e{vms}.json"
        snap.write_text(json.dumps(estate(vms, 40, seed=3)), encoding="utf-8")
        gc.collect()
        assert main(["check", str(snap), *args, "-o", str(tmp_path / "out")]) == 0
    capsys.readouterr()
    assert left[2] <= left[1] + 50 and left[2] < 1000, left


def test_no_collection_once_the_report_is_written(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Restoring the default GC threshold when the command ends must not start a collection of all the
    objects the analysis and the writer made (at 100,000 VMs, 0.13 s after the report is written):
    they join the oldest generation instead, and the rest of the command allocates too little for one."""
    real = output.bulk_gc
    written: list[bool] = []
    after: list[int] = []

    def collected(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and written:
            after.append(info["generation"])

    @contextmanager
    def spy() -> Iterator[Callable[[], None]]:
        with real() as loaded:
            yield loaded
            written.append(True)

    monkeypatch.setattr(output, "bulk_gc", spy)
    snap = tmp_path / "e.json"
    snap.write_text(json.dumps(estate(3000, 40, seed=3)), encoding="utf-8")
    gc.callbacks.append(collected)
    try:
        assert main(["check", str(snap), "--format", "json", "-o", str(tmp_path / "out")]) == 0
    finally:
        gc.callbacks.remove(collected)
    capsys.readouterr()
    assert written == [True] and after == [], after
