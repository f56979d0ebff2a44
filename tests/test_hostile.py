"""Hostile and malformed snapshots: each case of issue #11 fails with one line, or is read right."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from evckit.analysis import analyze
from evckit.cli import main
from evckit.inventory import load_inventories, parse_snapshot


def host(name: str, cluster: str | None, **extra: Any) -> dict[str, Any]:
    """A host with an assumed Cascade Lake CPU."""
    return {"name": name, "cluster": cluster, "esxi_version": "8.0.2",
            "cpu": {"model": "Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz"}, **extra}


def vm(name: str, host_name: str, **extra: Any) -> dict[str, Any]:
    """A running vmx-19 VM."""
    return {"name": name, "host": host_name, "power_state": "poweredOn", "hardware_version": "vmx-19", **extra}


def snapshot(*vcenters: dict[str, Any]) -> dict[str, Any]:
    """A version-1 snapshot of these vCenters."""
    return {"evckit_snapshot": 1, "vcenters": list(vcenters)}


def vcenter(name: str, clusters: list[str], hosts: list[dict[str, Any]], vms: list[dict[str, Any]]) -> dict[str, Any]:
    """One vCenter, its clusters without EVC."""
    return {"name": name, "clusters": [{"name": c} for c in clusters], "hosts": hosts, "vms": vms}


def write(tmp_path: Path, doc: object, name: str = "snap.json") -> Path:
    """Write a document as a snapshot file."""
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_cluster_labels_across_vcenters_cannot_collide() -> None:
    """vCenter `a` + cluster `b/c` and vCenter `a/b` + cluster `c` are two labels, and a VM is not both
    a live target and blocked in one of them."""
    doc = snapshot(vcenter("a", ["b/c"], [host("h1", "b/c")], [vm("v1", "h1")]),
                   vcenter("a/b", ["c"], [host("h2", "c")], [vm("v2", "h2")]))
    analysis = analyze(parse_snapshot(doc))
    labels = [c.label for c in analysis.clusters]
    assert labels == ["a/b\\/c", "a\\/b/c"] and len(set(labels)) == 2
    for v in analysis.vms:
        g = v.verdict
        assert not set(g.live_targets) & set(g.blocked)
        assert set(g.live_targets) == set(labels)


def test_cluster_labels_with_a_single_vcenter_are_plain_names() -> None:
    """With one vCenter the label is the cluster's name, slashes and all."""
    analysis = analyze(parse_snapshot(snapshot(vcenter("a", ["b/c"], [host("h1", "b/c")], []))))
    assert [c.label for c in analysis.clusters] == ["b/c"]


def test_cluster_labels_across_two_files(tmp_path: Path) -> None:
    """The same holds when the two vCenters come from two snapshot files."""
    one = write(tmp_path, snapshot(vcenter("a", ["b/c"], [host("h1", "b/c")], [])), "one.json")
    two = write(tmp_path, snapshot(vcenter("a/b", ["c"], [host("h2", "c")], [])), "two.json")
    inv = load_inventories([one, two])
    assert len({inv.cluster_label(c) for c in inv.clusters}) == 2


def test_hostile_snapshot_cli_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """Sanity: a snapshot with an unknown host reference is one line, status 2."""
    path = write(tmp_path, snapshot(vcenter("vc", ["c"], [host("h", "c")], [vm("v", "nowhere")])))
    assert main(["check", str(path)]) == 2
    assert capsys.readouterr().err.count("\n") == 1
