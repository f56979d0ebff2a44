"""Hostile and malformed snapshots: each case of issue #11 fails with one line, or is read right."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from evckit.analysis import analyze
from evckit.cli import main
from evckit.errors import SnapshotError
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


# --- malformed snapshots: each a one-line error naming the file and the place ---------------------


def base() -> dict[str, Any]:
    """A valid one-vCenter snapshot to break in one place."""
    vc = vcenter("vc", ["gold"], [host("esx1", "gold")], [vm("web", "esx1")])
    vc["evc_modes"] = []
    return snapshot(vc)


def _set(doc: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    node: Any = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return doc


HOST = ("vcenters", 0, "hosts", 0)
VM = ("vcenters", 0, "vms", 0)

#: (case, path, value, words the one-line error must contain)
BROKEN = [
    ("host cluster is a list", (*HOST, "cluster"), ["gold"], "hosts[0] (esx1).cluster: must be a string or null"),
    ("host cluster is an object", (*HOST, "cluster"), {"name": "gold"}, "hosts[0] (esx1).cluster"),
    ("VM host is a list", (*VM, "host"), ["esx1"], "vms[0] (web).host: must be a string or null"),
    ("VM cluster is an object", (*VM, "cluster"), {"a": 1}, "vms[0] (web).cluster"),
    ("hardware_version null", (*VM, "hardware_version"), None, "vms[0] (web).hardware_version: must be a string"),
    ("hardware_version 19.0", (*VM, "hardware_version"), 19.0, "vms[0] (web).hardware_version: must be a string"),
    ("hardware_version -5", (*VM, "hardware_version"), -5, "vms[0] (web).hardware_version"),
    ("hardware_version vmx--5", (*VM, "hardware_version"), "vmx--5", "does not match"),
    ("maintenance 'false'", (*HOST, "maintenance"), "false", "hosts[0] (esx1).maintenance: must be true or false"),
    ("template 'false'", (*VM, "template"), "false", "vms[0] (web).template: must be true or false"),
    ("power_state 'on'", (*VM, "power_state"), "on", "vms[0] (web).power_state: must be one of"),
    ("esxi_version of 5,000 digits", (*HOST, "esxi_version"), "9" * 5000, "hosts[0] (esx1).esxi_version"),
    ("esxi_version below 2.0", (*HOST, "esxi_version"), "1.0", "hosts[0] (esx1).esxi_version"),
    ("track entry a list", ("vcenters", 0, "evc_modes"),
     [{"key": "intel-merom", "track": [["intel"]]}], "evc_modes[0].track[0]: must be a string"),
    ("track a string", ("vcenters", 0, "evc_modes"),
     [{"key": "intel-merom", "track": "abc"}], "evc_modes[0].track: must be a list"),
    ("connection_state a number", (*HOST, "connection_state"), 1, "connection_state"),
    ("name a number", (*VM, "name"), 7, "vms[0].name: must be a string"),
    ("cpu a string", (*HOST, "cpu"), "Xeon", "hosts[0] (esx1).cpu: must be an object"),
    ("level a fraction", (*HOST, "cpu"), {"cpu_feature": [{"level": 0.5}]}, "cpu_feature[0].level"),
]


@pytest.mark.parametrize(("case", "path", "value", "words"), BROKEN, ids=[b[0] for b in BROKEN])
def test_malformed_snapshot_is_one_line_status_2(capsys: pytest.CaptureFixture[str], tmp_path: Path, case: str,
                                                 path: tuple[str | int, ...], value: Any, words: str) -> None:
    """Wrong types, out-of-range and misread values: status 2, one line naming the file and the place."""
    file = write(tmp_path, _set(base(), path, value))
    status = main(["check", str(file)])
    out, err = capsys.readouterr()
    assert status == 2 and out == "", case
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert str(file) in err and words in err, err
    assert len(err) < 2000, "a huge value is not quoted whole"


@pytest.mark.parametrize(("version", "ok"), [(1, True), (True, False), ("1", False), (2, False), (None, False)])
def test_snapshot_version_is_a_number(tmp_path: Path, capsys: pytest.CaptureFixture[str], version: Any,
                                      ok: bool) -> None:
    """`"evckit_snapshot": true` is not version 1."""
    doc = base()
    doc["evckit_snapshot"] = version
    assert main(["check", str(write(tmp_path, doc))]) == (0 if ok else 2)
    err = capsys.readouterr().err
    assert ok or ("evckit_snapshot" in err and err.count("\n") == 1)


def test_deeply_nested_json_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """100,000 nested lists (RecursionError inside json) fail as bad input, in one line."""
    for text in ("[" * 100_000 + "]" * 100_000,
                 '{"evckit_snapshot": 1, "vcenters": [{"name": "vc", "x": ' + "[" * 100_000 + "]" * 100_000 + "}]}"):
        path = tmp_path / "deep.json"
        path.write_text(text, encoding="utf-8")
        assert main(["check", str(path)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and str(path) in err


def test_every_schema_problem_is_listed_once(tmp_path: Path) -> None:
    """Problems in two objects are both listed, with their places; a VM on a broken host is not blamed too."""
    doc = _set(base(), (*HOST, "maintenance"), "false")
    doc["vcenters"][0]["vms"].append(vm("db", "esx1", template="no"))
    with pytest.raises(SnapshotError) as info:
        parse_snapshot(doc, "s.json")
    problems = info.value.problems
    assert len(problems) == 2
    assert problems[0].startswith("vcenters[0] (vc).hosts[0] (esx1).maintenance")
    assert problems[1].startswith("vcenters[0] (vc).vms[1] (db).template")


def test_many_problems_make_one_bounded_line() -> None:
    """100 broken VMs: the message shows 20 and counts the rest; `problems` has them all."""
    doc = base()
    doc["vcenters"][0]["vms"] = [vm(f"v{i}", "esx1", template="yes") for i in range(100)]
    with pytest.raises(SnapshotError) as info:
        parse_snapshot(doc, "s.json")
    assert len(info.value.problems) == 100 and str(info.value).endswith("and 80 more problem(s)")


# --- cpuid_file ----------------------------------------------------------------------------------


def _with_cpuid_file(tmp_path: Path, name: str) -> Path:
    doc = base()
    doc["vcenters"][0]["hosts"][0]["cpu"] = {"cpuid_file": name}
    return write(tmp_path, doc)


def test_cpuid_file_must_be_in_the_snapshot_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An absolute path, or ../ out of the folder, is refused unless --allow-cpuid-dir allows its folder."""
    inner = tmp_path / "snap"
    inner.mkdir()
    dump = tmp_path / "dump.txt"
    dump.write_text("CPUID 00000000: 0000000D-756E6547-6C65746E-49656E69\n", encoding="utf-8")
    for name in (str(dump), "../dump.txt", "/etc/passwd"):
        assert main(["check", str(_with_cpuid_file(inner, name))]) == 2
        err = capsys.readouterr().err
        assert "outside the snapshot's folder" in err and err.count("\n") == 1
    snap = _with_cpuid_file(inner, str(dump))
    assert main(["check", str(snap), "--allow-cpuid-dir", str(tmp_path)]) in (0, 2)
    assert "outside the snapshot's folder" not in capsys.readouterr().err


def test_cpuid_file_symlink_out_of_the_folder_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A link inside the folder that points outside it is judged by where it points."""
    inner = tmp_path / "snap"
    inner.mkdir()
    (tmp_path / "outside.txt").write_text("x", encoding="utf-8")
    (inner / "link.txt").symlink_to(tmp_path / "outside.txt")
    assert main(["check", str(_with_cpuid_file(inner, "link.txt"))]) == 2
    assert "outside the snapshot's folder" in capsys.readouterr().err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs (POSIX)")
def test_cpuid_file_fifo_and_devices_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A FIFO would hang and /dev/zero would grow without end: both are refused before reading."""
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "zero").symlink_to("/dev/zero")
    for name in ("fifo", "zero"):
        assert main(["check", str(_with_cpuid_file(tmp_path, name)), "--allow-cpuid-dir", "/dev"]) == 2
        err = capsys.readouterr().err
        assert "not a regular file" in err and err.count("\n") == 1


def test_cpuid_file_size_cap(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file over 16 MiB is refused from its size, unread."""
    big = tmp_path / "big.txt"
    with big.open("wb") as f:
        f.truncate(16 * 1024 * 1024 + 1)  # sparse: no disk used
    assert main(["check", str(_with_cpuid_file(tmp_path, "big.txt"))]) == 2
    assert "more than the 16777216 bytes" in capsys.readouterr().err


def test_cpuid_file_errors_never_quote_its_content(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file that is not CPU data fails without any of its lines in the message."""
    (tmp_path / "secret.txt").write_text("CPUID 00000000: root:SECRET-HASH-LINE\n", encoding="utf-8")
    assert main(["check", str(_with_cpuid_file(tmp_path, "secret.txt"))]) == 2
    err = capsys.readouterr().err
    assert "SECRET" not in err and "secret.txt: not CPU data" in err and err.count("\n") == 1


# --- command-line CPU specs ----------------------------------------------------------------------


@pytest.mark.parametrize("argv", [
    ["check", "--example", "--add-host", "gold=" + "X" * 300],
    ["check", "--example", "--replace-hosts", "gold=" + "X" * 300 + "x2"],
    ["check", "--example", "--compare-cpus", "Y" * 300, "--cluster", "gold"],
    ["check", "--example", "--add-host", "gold=a\x00b"],
])
def test_cpu_spec_longer_than_a_file_name(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    """A CPU spec of 300 characters is a (wrong) CPU name, not an ENAMETOOLONG traceback."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unrecognised CPU name" in err
