"""ESXi versions and builds: one parser, the KB 2143832 build table, update releases' hardware caps."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evckit._resources import data_dir
from evckit.catalog import Catalog
from evckit.cli import main
from evckit.errors import DataError, InputError
from evckit.hardware import BuildTable, EsxiVersion, EsxiVersionError, builtin_builds, parse_esxi
from evckit.inventory import parse_snapshot

BUILDS = json.loads((data_dir() / "esxi_builds.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(("version", "build", "label", "known", "source"), [
    ("6.7.0", None, "6.7 GA", False, "assumed"),
    ("6.7.0", 14320388, "6.7 U3", True, "build"),
    ("6.7.0", "14320388", "6.7 U3", True, "build"),
    ("6.7.0", "Releasebuild-14320388", "6.7 U3", True, "build"),
    ("6.7U3", None, "6.7 U3", True, "version"),
    ("6.7.0 U3", None, "6.7 U3", True, "version"),
    ("6.7 Update 3", None, "6.7 U3", True, "version"),
    ("VMware ESXi 6.7.0 build-14320388", None, "6.7 U3", True, "build"),
    ("VMware ESXi 6.7.0 build-13006603", None, "6.7 U2", True, "build"),
    ("6.7.0", 10302608, "6.7 U1", True, "build"),
    ("6.7.0", 8169922, "6.7 GA", True, "build"),
    ("6.5.0", 13932383, "6.5 U3", True, "build"),
    ("7.0.3", None, "7.0 U3", True, "version"),
    ("7.0.0", None, "7.0 GA", True, "version"),
    ("7.0", None, "7.0 GA", False, "assumed"),
    ("7.0", 16850804, "7.0 U1", True, "build"),
    ("7.0", 19324898, "7.0 U1", True, "build"),  # 7.0 U1e, released after 7.0 U3
    ("8.0", 24569005, "8.0 GA", True, "build"),  # 8.0e, released after 8.0 U3
    ("ESXi 8.0 Update 2", None, "8.0 U2", True, "version"),
    ("8.0U3e", None, "8.0 U3", True, "version"),
    ("8.0.3-0.70.24674464", None, "8.0 U3", True, "version"),
    ("9.0.0.0", 24755229, "9.0.0", True, "version"),
    ("  VMware ESXi 7.0.3 build-21930508 ", None, "7.0 U3", True, "version"),
])
def test_versions_and_builds(version: str, build: str | int | None, label: str, known: bool, source: str) -> None:
    """Every spelling a vCenter, RVTools or a person writes parses to the right update release."""
    e = parse_esxi(version, build)
    assert (e.label, e.update_known, e.update_from) == (label, known, source)
    assert (e.note is not None) == (not known)


def test_unlisted_build_is_placed_by_range_and_says_so() -> None:
    """A 6.7 build between U3's first build and the newest listed one is U3 (6.x patches are cumulative)."""
    e = parse_esxi("6.7.0", 19000001)
    assert e.label == "6.7 U3" and e.update_from == "build-range" and e.note and "not in evckit's build table" in e.note


@pytest.mark.parametrize(("version", "build"), [
    ("banana", None), ("", None), ("6.7 banana", None), ("1.0", None), ("6.7.0", "x12"), ("6.7.0", -5),
    ("6.7.0", True), ("7.0.2 U3", None), ("7.0.3", 14320388), ("6.7.0 build-1", 2),
])
def test_nonsense_raises_a_specific_error(version: str, build: Any) -> None:
    """Nonsense is an `EsxiVersionError` (an `InputError`) with one line naming the input."""
    with pytest.raises(EsxiVersionError) as info:
        parse_esxi(version, build)
    assert isinstance(info.value, InputError) and "\n" not in str(info.value)


@given(st.text(max_size=30), st.one_of(st.none(), st.integers(), st.text(max_size=12)))
def test_parser_never_fails_otherwise(version: str, build: Any) -> None:
    """Any text and build either parse or raise `EsxiVersionError`; nothing else escapes."""
    try:
        e = parse_esxi(version, build)
    except EsxiVersionError:
        return
    assert isinstance(e, EsxiVersion) and e.key[0] >= 2


def test_update_releases_raise_the_hardware_cap(catalog: Catalog) -> None:
    """6.7 U2 -> vmx-15, 7.0 U1 -> 18, 7.0 U2 -> 19, 8.0 U2 -> 21, 9.0 -> 22; a 6.7.0 build decides."""
    hw = catalog.hardware
    assert hw.max_hw_version(parse_esxi("6.7.0")) == 14
    assert hw.max_hw_version(parse_esxi("6.7.0", 14320388)) == 15
    assert hw.max_hw_version(parse_esxi("6.7.0", 13006603)) == 15
    assert hw.max_hw_version(parse_esxi("6.7.0", 10302608)) == 14
    assert hw.max_hw_version(parse_esxi("7.0", 16850804)) == 18
    assert hw.max_hw_version(parse_esxi("7.0.2")) == 19
    assert hw.max_hw_version(parse_esxi("8.0", 22380479)) == 21
    assert hw.max_hw_version(parse_esxi("9.0.0.0", 24755229)) == 22


def test_build_table_is_consistent() -> None:
    """Every update release of 6.5 through 9.0 has its first build; every row is sourced; builds are unique."""
    table = builtin_builds()
    for line, updates in {(6, 5): 4, (6, 7): 4, (7, 0): 4, (8, 0): 4, (9, 0): 1}.items():
        assert [u for _, u in table.firsts[line]] == list(range(updates)), line
    assert {s for r in BUILDS["builds"] for s in r["sources"]} <= set(BUILDS["sources"])
    assert table.by_build[14320388].name == "ESXi 6.7 Update 3"


def test_broken_build_table_lists_every_problem() -> None:
    """A duplicate build, a missing source and an update out of order are all reported at once."""
    bad = copy.deepcopy(BUILDS)
    bad["builds"].append(dict(bad["builds"][0]))
    bad["builds"][1]["sources"] = ["NOPE"]
    bad["builds"].append({"line": "6.7", "update": 4, "name": "x", "build": 1, "date": None, "kind": "update",
                          "sources": ["KB395110"], "confidence": "confirmed"})
    with pytest.raises(DataError) as info:
        BuildTable.from_json(bad)
    text = str(info.value)
    assert "is also builds[0]" in text and "sources" in text and "not in order" in text


def _estate(build: str | None) -> dict[str, Any]:
    host = {"cluster": "c67", "esxi_version": "6.7.0", "cpu": {"model": "Intel(R) Xeon(R) CPU E5-2690 v4 @ 2.60GHz"}}
    if build is not None:
        host["esxi_build"] = build
    return {"evckit_snapshot": 1, "vcenters": [{
        "name": "vc", "clusters": [{"name": "c67", "evc_mode": "intel-broadwell"}],
        "hosts": [dict(host, name="esx-1"), dict(host, name="esx-2")],
        "vms": [{"name": "app", "host": "esx-1", "power_state": "poweredOn", "hardware_version": "vmx-15",
                 "min_required_evc_mode": "intel-broadwell"}],
    }]}


def _check(tmp_path: Path, capsys: pytest.CaptureFixture[str], estate: dict[str, Any]) -> dict[str, Any]:
    path = tmp_path / "estate.json"
    path.write_text(json.dumps(estate))
    assert main(["check", str(path), "--format", "json-expanded", "--explain"]) == 0
    doc: dict[str, Any] = json.loads(capsys.readouterr().out)
    return doc


def test_vmx15_vm_on_67u3_hosts_stays_in_its_cluster(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A running vmx-15 VM on ESXi 6.7.0 build 14320388 (6.7 U3) hosts is a live target of its own cluster."""
    doc = _check(tmp_path, capsys, _estate("14320388"))
    vm = doc["vms"][0]
    assert vm["live_targets"] == ["c67"] and not vm["blocked"]
    host = doc["hosts"][0]
    assert (host["esxi_build"], host["esxi_release"], host["max_hw_version"]) == ("14320388", "6.7 U3", 15)
    assert host["esxi_note"] is None


def test_without_a_build_the_cap_is_ga_and_says_it_may_be_too_low(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """Without the build the same hosts are 6.7 GA (vmx-14) and the report says the cap may be too low."""
    doc = _check(tmp_path, capsys, _estate(None))
    host = doc["hosts"][0]
    assert host["esxi_release"] == "6.7 GA" and host["max_hw_version"] == 14 and "may be too low" in host["esxi_note"]
    assert doc["vms"][0]["blocked"]["c67"][0]["kind"] == "hardware_version"


def test_snapshot_build_is_validated_and_legacy_name_read() -> None:
    """`esxi_build` is read (and `build`, its older name); a build of another release is a snapshot error."""
    inv = parse_snapshot(_estate("14320388"), "s")
    assert inv.hosts[0].esxi is not None and inv.hosts[0].esxi.label == "6.7 U3"
    old = _estate(None)
    old["vcenters"][0]["hosts"][0]["build"] = "13006603"
    assert parse_snapshot(old, "s").hosts[0].esxi_build == "13006603"
    bad = _estate("24022510")
    with pytest.raises(InputError) as info:
        parse_snapshot(bad, "s")
    assert "esxi_version" in str(info.value) and "8.0 Update 3" in str(info.value)


def test_host_command_reads_a_version_with_its_build(capsys: pytest.CaptureFixture[str]) -> None:
    """`evckit host --esxi "VMware ESXi 7.0.1 build-16850804"`: 7.0 U1 does not offer amd-zen3 (7.0 U2)."""
    assert main(["host", "--cpu", "EPYC 7763", "--esxi", "VMware ESXi 7.0.1 build-16850804", "--format", "json"]) == 0
    host = json.loads(capsys.readouterr().out)["hosts"][0]
    assert host["max_evc_mode"] == "amd-zen2"
    assert host["esxi_limited"]["amd-zen3"].startswith("ESXi 7.0 U1 (build 16850804) does not offer it")
