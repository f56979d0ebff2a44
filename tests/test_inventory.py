"""Snapshots: the documented format loads; bad snapshots fail with every problem, its place, status 2."""

from __future__ import annotations

import collections
import copy
import json
from typing import Any, cast
from pathlib import Path

import attrs
import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evckit import inventory
from evckit._resources import data_dir
from evckit._schema import snapshot_problems
from evckit.catalog import Catalog
from evckit.cli import main
from evckit.errors import EvckitError, InputError, SnapshotError
from evckit.inventory import VM, load_inventories, load_snapshot, merge_inventories, parse_snapshot
from tests.estate_strategies import estates

EXAMPLE = json.loads((data_dir() / "examples" / "estate.json").read_text())
SCHEMA = json.loads((data_dir() / "snapshot.schema.json").read_text())
CATALOG = Catalog.builtin()


def write(tmp_path: Path, obj: object, name: str = "snap.json") -> Path:
    """Write a snapshot object to a file."""
    p = tmp_path / name
    p.write_text(obj if isinstance(obj, str) else json.dumps(obj))
    return p


def test_example_matches_schema() -> None:
    """The shipped example validates against the shipped JSON Schema."""
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.validate(EXAMPLE, SCHEMA)


def test_example_loads() -> None:
    """The example estate loads into hosts, clusters and VMs."""
    inv = parse_snapshot(copy.deepcopy(EXAMPLE), "example")
    assert len(inv.hosts) == 13 and len(inv.clusters) == 6 and len(inv.vms) == 10
    assert all(h.cpu.assumed for h in inv.hosts)
    db = next(v for v in inv.vms if v.name == "db-01")
    assert db.per_vm_evc == "intel-skylake" and db.requirement.source == "perVmEvc"


def test_feature_requirement_parsing() -> None:
    """featureRequirement values Bool:Min:1 / Num:Min:N are parsed; unknown keys are kept visible."""
    snap = copy.deepcopy(EXAMPLE)
    vm = snap["vcenters"][0]["vms"][5]
    vm["feature_requirement"] += [{"key": "cpuid.FUTURE_THING", "value": "Bool:Min:1"},
                                  {"key": "cpuid.HLE", "value": "Bool:Min:0"}]
    inv = parse_snapshot(snap, "x")
    r = next(v for v in inv.vms if v.name == vm["name"]).requirement
    assert "avx512bw" in r.features and "hle" not in r.features
    assert r.vendor == "intel" and r.unevaluated == ("cpuid.FUTURE_THING",)


def _vm_like(snap: dict[str, Any], index: int, name: str, **changes: Any) -> dict[str, Any]:
    """A copy of VM ``index`` of the first vCenter, renamed, added to it (its lists are copies too)."""
    vm = copy.deepcopy(snap["vcenters"][0]["vms"][index]) | {"name": name} | changes
    snap["vcenters"][0]["vms"].append(vm)
    return cast("dict[str, Any]", vm)


def test_equal_requirement_lists_share_one_decision() -> None:
    """VMs whose featureRequirement lists are equal (separate lists in the document) get one shared
    requirement, the same as a lone VM with that list gets; a VM on a host of another vendor whose list
    names no vendor gets its own."""
    lone = parse_snapshot(copy.deepcopy(EXAMPLE), "x")
    snap = copy.deepcopy(EXAMPLE)
    _vm_like(snap, 5, "report-02")
    no_vendor = _vm_like(snap, 5, "report-03", host="esx-epyc-1")
    no_vendor["feature_requirement"] = [e for e in no_vendor["feature_requirement"] if e["key"] != "cpuid.Intel"]
    _vm_like(snap, 5, "report-04", host="esx-epyc-2")
    _vm_like(snap, 0, "web-02")
    inv = parse_snapshot(snap, "x")
    vm = {v.name: v for v in inv.vms}
    assert vm["report-01"].requirement is vm["report-02"].requirement
    assert vm["report-01"].requirement == next(v for v in lone.vms if v.name == "report-01").requirement
    assert vm["report-01"].requirement.vendor == vm["report-04"].requirement.vendor == "intel"
    assert vm["report-03"].requirement.vendor == "amd"
    assert vm["report-03"].requirement.features == vm["report-01"].requirement.features
    assert vm["web-01"].requirement is vm["web-02"].requirement  # one object per minimum EVC mode


def test_malformed_entry_of_a_known_list_has_its_own_place() -> None:
    """A list equal to a valid one but for one malformed entry is read entry by entry: the problem names
    that VM and that entry; two VMs with the same malformed list are both reported."""
    snap = copy.deepcopy(EXAMPLE)
    for name in ("report-02", "report-03"):
        _vm_like(snap, 5, name)["feature_requirement"][4]["value"] = "Bool:Least:1"
    with pytest.raises(SnapshotError) as info:
        parse_snapshot(snap, "x")
    assert info.value.problems == [
        f"vcenters[0] (vc-prod).vms[{i}] ({name}).feature_requirement[4]: "
        "value 'Bool:Least:1' is not like Bool:Min:1 or Num:Min:13"
        for i, name in ((10, "report-02"), (11, "report-03"))]


def bad_snapshot() -> dict[str, Any]:
    """The example with five problems in it."""
    snap = copy.deepcopy(EXAMPLE)
    vc = snap["vcenters"][0]
    vc["clusters"][0]["evc_mode"] = "intel-cascadelak"
    vc["vms"][0]["host"] = "esx-nowhere"
    vc["vms"][1]["name"] = vc["vms"][2]["name"]
    vc["hosts"][1]["cluster"] = "no-such-cluster"
    vc["vms"][3]["hardware_version"] = "version nineteen"
    return cast("dict[str, Any]", snap)


def test_every_problem_with_its_place() -> None:
    """Unknown mode key, unknown host, duplicate name, unknown cluster, bad version: all listed at once."""
    with pytest.raises(SnapshotError) as info:
        parse_snapshot(bad_snapshot(), "bad.json")
    problems = info.value.problems
    assert len(problems) == 5
    text = str(info.value)
    assert text.startswith("bad.json: ")
    assert "vcenters[0] (vc-prod).clusters[0] (gold).evc_mode: unknown EVC mode 'intel-cascadelak'" in text
    assert "did you mean intel-cascadelake" in text
    assert "host 'esx-nowhere' is not a host of this vCenter" in text
    assert "duplicate VM name 'db-01'" in text
    assert "no-such-cluster" in text and "version nineteen" in text
    assert "\n" not in text


@pytest.mark.parametrize(("content", "needle"), [
    ("{not json", "invalid JSON"),
    ('{"evckit_snapshot": 2, "vcenters": []}', "unsupported snapshot version 2"),
    ('{"evckit_snapshot": 1}', "top level: missing 'vcenters'"),
    ("[1, 2]", "top level must be a JSON object"),
])
def test_bad_files(tmp_path: Path, content: str, needle: str) -> None:
    """Malformed JSON, wrong version and wrong shape name the file and the problem."""
    p = write(tmp_path, content)
    with pytest.raises(SnapshotError, match=needle) as info:
        load_snapshot(p)
    assert str(p) in str(info.value)


def test_missing_snapshot() -> None:
    """A missing file is an InputError naming it."""
    with pytest.raises(InputError, match="nope.json: no such file"):
        load_snapshot("nope.json")


def test_check_bad_snapshot_exit_2_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`evckit check BAD` prints one line naming the file and problems, exits 2, prints nothing else."""
    p = write(tmp_path, bad_snapshot())
    assert main(["check", str(p)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and str(p) in err and "intel-cascadelak" in err


def test_several_snapshots_merge(tmp_path: Path) -> None:
    """Two snapshots of different vCenters analyse as one estate; the same vCenter twice is an error."""
    other = copy.deepcopy(EXAMPLE)
    other["vcenters"][0]["name"] = "vc-dr"
    inv = load_inventories([write(tmp_path, other, "dr.json")], example=True)
    assert {vc.name for vc in inv.vcenters} == {"vc-prod", "vc-dr"}
    assert inv.cluster_label(inv.clusters[0]) == "vc-prod/gold"
    with pytest.raises(SnapshotError, match="vc-prod"):
        load_inventories([write(tmp_path, EXAMPLE, "same.json")], example=True)


def test_merge_inventories_in_memory() -> None:
    """Inventories merge without a file round trip: every object kept in order, one source; duplicates fail."""
    other = copy.deepcopy(EXAMPLE)
    other["vcenters"][0]["name"] = "vc-dr"
    a, b = parse_snapshot(EXAMPLE, "a.json"), parse_snapshot(other, "vCenter dr")
    merged = merge_inventories([a, b])
    assert merged.source == "a.json + vCenter dr"
    assert merged.hosts == a.hosts + b.hosts and merged.vms == a.vms + b.vms
    assert merged.clusters == a.clusters + b.clusters
    assert merge_inventories([a]) is a
    with pytest.raises(SnapshotError, match="'vc-prod' is in both a.json and again"):
        merge_inventories([a, parse_snapshot(EXAMPLE, "again")])


def test_cpu_data_from_files_and_inline(tmp_path: Path, samples: Path) -> None:
    """A host's CPU can be a CPUID file (relative to the snapshot), inline text, or vSphere capabilities."""
    dump = (samples / "libvirt/x86_64-cpuid-Xeon-Gold-6130.xml").read_text()
    (tmp_path / "dumps").mkdir()
    (tmp_path / "dumps" / "h1.xml").write_text(dump)
    snap = {"evckit_snapshot": 1, "vcenters": [{"name": "vc", "clusters": [{"name": "c"}], "hosts": [
        {"name": "h1", "cluster": "c", "esxi_version": "8.0.2", "cpu": {"cpuid_file": "dumps/h1.xml"}},
        {"name": "h2", "cluster": "c", "esxi_version": "8.0.2", "cpu": {"cpuid_text": dump}},
        {"name": "h3", "cluster": "c", "esxi_version": "8.0.2",
         "cpu": {"feature_capability": [{"key": "cpuid.Intel", "value": "1"}, {"key": "cpuid.SSE3", "value": "1"}]}},
    ], "vms": []}]}
    inv = load_snapshot(write(tmp_path, snap))
    h1, h2, h3 = inv.hosts
    assert not h1.cpu.assumed and h1.cpu.present == h2.cpu.present
    assert "sse3" in h3.cpu.present and "avx" in h3.cpu.unknown


def test_vcenter_mode_definitions_take_precedence(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A vCenter's own supportedEVCMode governs its objects instead of the shipped table, and the report says so."""
    snap = copy.deepcopy(EXAMPLE)
    vc = snap["vcenters"][0]
    # This vCenter's Cascade Lake mode (say, an older build) lacks AVX-512 VNNI.
    from evckit.catalog import Catalog  # noqa: PLC0415

    cat = Catalog.builtin()
    feats = [n for n in cat.mode("intel-cascadelake").features if n != "avx512vnni"]
    vc["evc_modes"] = [{"key": "intel-cascadelake", "vendor": "intel", "vendorTier": 9, "track": ["intel"],
                        "featureCapability": [{"key": cat.features[n].vsphere_keys[0], "value": "1"} for n in feats]}]
    vc["vms"].append({"name": "vnni-vm", "host": "esx-spr-1", "power_state": "poweredOn", "hardware_version": "vmx-19",
                      "feature_requirement": [{"key": "cpuid.AVX512VNNI", "value": "Bool:Min:1"},
                                              {"key": "cpuid.Intel", "value": "Bool:Min:1"}]})
    inv = parse_snapshot(snap, "vc-modes.json")
    mode = inv.mode("vc-prod", "intel-cascadelake")
    assert mode.origin == "vc-prod" and "avx512vnni" not in mode.features and mode.confidence == "confirmed"
    assert main(["check", str(write(tmp_path, snap)), "--format", "json-expanded"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert any("vc-prod" in n and "supportedEVCMode" in n for n in doc["notes"])
    vm = next(v for v in doc["vms"] if v["name"] == "vnni-vm")
    assert any("avx512vnni" in r["features"] for r in vm["blocked"]["gold"])
    del vc["evc_modes"]  # with the shipped definition, Cascade Lake guarantees VNNI
    assert "gold" in parse_and_check(snap)["vnni-vm"]


def parse_and_check(snap: dict[str, Any]) -> dict[str, list[str]]:
    """VM name -> live targets, analysing a snapshot dict."""
    from evckit.analysis import analyze  # noqa: PLC0415

    return {v.vm.name: list(v.verdict.live_targets) for v in analyze(parse_snapshot(snap, "x")).vms}


def test_malformed_vcenter_modes_are_reported() -> None:
    """A malformed supportedEVCMode list is a snapshot problem with its place."""
    snap = copy.deepcopy(EXAMPLE)
    snap["vcenters"][0]["evc_modes"] = [{"key": "intel-x", "vendor": "via"}]
    with pytest.raises(SnapshotError, match=r"vcenters\[0\] \(vc-prod\)\.evc_modes: .*vendor 'via'"):
        parse_snapshot(snap, "x")


def test_cluster_key_and_merge_at_package_level() -> None:
    """`evckit.ClusterKey` and `evckit.merge_inventories` are the model's, importable lazily from the package."""
    import evckit  # noqa: PLC0415
    from evckit.inventory import ClusterKey  # noqa: PLC0415

    assert evckit.ClusterKey is ClusterKey and evckit.merge_inventories is merge_inventories
    key = ClusterKey("vc-dr", "gold")
    assert key == ("vc-dr", "gold") and str(key) == "vc-dr/gold"
    assert str(ClusterKey("a", "b/c")) != str(ClusterKey("a/b", "c"))  # separators escaped: one name, one cluster


def test_model_imports_no_analysis_code() -> None:
    """The model (inventory, profiles) loads without the analysis, assessment, what-if or renderers."""
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    code = ("import sys, evckit.inventory, evckit.profiles; "
            "print(' '.join(m for m in sys.modules if m.startswith('evckit.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert "evckit.inventory" in out
    assert not set(out) & {"evckit.analysis", "evckit.assess", "evckit.recommend", "evckit.whatif", "evckit.report"}


def test_unknown_esxi_release_is_reported_at_every_host() -> None:
    """Whether an ESXi version is a known release is decided once per (version, build); every host
    with an unknown one is still reported with its own place."""
    snap = copy.deepcopy(EXAMPLE)
    hosts = snap["vcenters"][0]["hosts"]
    for h in hosts[:2]:
        h["esxi_version"] = "1.0"
    with pytest.raises(SnapshotError) as info:
        parse_snapshot(snap, "x")
    assert [p.split(": ")[0] for p in info.value.problems] == [
        f"vcenters[0] (vc-prod).hosts[{i}] ({hosts[i]['name']}).esxi_version" for i in (0, 1)]


def test_repeated_bad_vm_values_are_reported_at_every_vm() -> None:
    """Hardware versions and EVC mode keys are remembered only once known to be valid: a bad one that
    several VMs share is reported at each of them, after a good one was remembered."""
    snap = copy.deepcopy(EXAMPLE)
    vms = snap["vcenters"][0]["vms"]
    for name in ("web-02", "web-03"):
        _vm_like(snap, 0, name, min_required_evc_mode="intel-cascadelak")
    _vm_like(snap, 0, "web-04", per_vm_evc="intel-skylake", hardware_version="vmx-13")
    _vm_like(snap, 0, "web-05", per_vm_evc="intel-skylake", hardware_version="vmx-13")
    with pytest.raises(SnapshotError) as info:
        parse_snapshot(snap, "x")
    assert [p.split(": ")[0] for p in info.value.problems] == [
        f"vcenters[0] (vc-prod).vms[{i}] ({vms[i]['name']}).{field}"
        for i, field in ((10, "min_required_evc_mode"), (11, "min_required_evc_mode"), (12, "per_vm_evc"),
                         (13, "per_vm_evc"))]


def _read_one_by_one(monkeypatch: pytest.MonkeyPatch, doc: Any) -> Any:
    """``parse_snapshot(doc)`` with every VM read by `_parse_vm` (the whole-vCenter reader stands aside)."""
    with monkeypatch.context() as m:
        m.setattr(inventory, "_read_vms", lambda vms, reader: None)
        return parse_snapshot(copy.deepcopy(doc), "x", CATALOG)


@st.composite
def _estates_with_extras(draw: st.DrawFn) -> dict[str, Any]:
    """Random estates whose VMs also carry guest fields, an explicit cluster, null or empty values."""
    doc = draw(estates())
    for vc in doc["vcenters"]:
        cluster_of = {h["name"]: h["cluster"] for h in vc["hosts"]}
        for vm in vc["vms"]:
            for key in ("guest_id", "guest_os", "guest_os_tools"):
                if draw(st.booleans()):
                    vm[key] = draw(st.sampled_from(["", "windows2019srv_64Guest", "Ubuntu Linux (64-bit)"]))
            if "host" in vm and draw(st.booleans()):
                vm["cluster"] = cluster_of[vm["host"]]
            if draw(st.integers(0, 5)) == 0:
                vm["min_required_evc_mode"] = draw(st.sampled_from(["", None]))
            if draw(st.integers(0, 5)) == 0:
                vm["template"] = False
    return doc


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=_estates_with_extras())
def test_vms_read_at_once_are_those_read_one_by_one(doc: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole-vCenter VM reader builds exactly the VMs `_parse_vm` builds, field for field and type
    for type, sharing requirement objects the same way (the analysis groups VMs by them)."""
    fast = parse_snapshot(copy.deepcopy(doc), "x", CATALOG)
    slow = _read_one_by_one(monkeypatch, doc)
    assert fast.vms == slow.vms and all(type(vm) is VM for vm in fast.vms)
    assert [hash(vm) for vm in fast.vms] == [hash(vm) for vm in slow.vms]
    for a, b in zip(fast.vms, slow.vms, strict=True):
        assert [type(getattr(a, f.name)) for f in attrs.fields(VM)] == [type(getattr(b, f.name)) for f in attrs.fields(VM)]
    same = {(id(a.requirement), id(b.requirement)) for a, b in zip(fast.vms, slow.vms, strict=True)}
    assert len({x for x, _ in same}) == len(same) == len({y for _, y in same})


@pytest.mark.parametrize("change", [
    {"host": "no-such-host"}, {"cluster": "no-such-cluster"}, {"hardware_version": "vmx-13", "per_vm_evc": "intel-skylake"},
    {"min_required_evc_mode": "intel-nosuchmode"}, {"feature_requirement": [{"key": "cpuid.SSE3", "value": "Bool:Mix:1"}]},
    {"name": "web-01"},
])
def test_a_bad_vm_after_good_ones_is_reported_as_before(change: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """A VM the whole-vCenter reader cannot accept sends every VM back to `_parse_vm`: the same problems,
    in the same order, as reading them one by one (and nothing the first attempt recorded is left)."""
    snap = copy.deepcopy(EXAMPLE)
    _vm_like(snap, 0, **{"name": "zz-bad"} | change)
    with pytest.raises(SnapshotError) as fast:
        parse_snapshot(copy.deepcopy(snap), "x", CATALOG)
    with pytest.raises(SnapshotError) as slow:
        _read_one_by_one(monkeypatch, snap)
    assert fast.value.problems == slow.value.problems and fast.value.problems[0].startswith("vcenters[0] (vc-prod).vms[10] (")


def test_vms_built_without_the_frozen_setattr_are_vms() -> None:
    """The loader's builder (`_VMSlots`, then ``__class__``) is in use, and what it makes is a `VM` like
    any other: equal, same hash and repr, still frozen, evolvable."""
    assert inventory._VM_BUILDER is inventory._VMSlots
    inv = parse_snapshot(copy.deepcopy(EXAMPLE), "x", CATALOG)
    vm = inv.vms[0]
    twin = VM(*(getattr(vm, f.name) for f in attrs.fields(VM)))
    assert type(vm) is VM and vm == twin and hash(vm) == hash(twin) and repr(vm) == repr(twin)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        vm.name = "other"  # type: ignore[misc]
    assert attrs.evolve(vm, name="other").name == "other"


# --- The VM reader stands in for the schema check of the VMs (parse_snapshot runs the schema check
# without them, `snapshot_problems(doc, vms=False)`): it must accept only VMs the schema accepts.

VM_VALIDATOR = jsonschema.Draft202012Validator({"$ref": "#/$defs/vm", "$defs": SCHEMA["$defs"]})
_ENTRY = {"key": "cpuid.SSE3", "value": "Bool:Min:1"}
_LISTS: list[Any] = [
    [], None, 0, False, {}, "", "x", [_ENTRY], [_ENTRY, _ENTRY], [{"key": "cpuid.SSE3", "value": 1}],
    [{"key": "cpuid.SSE3", "value": True}], [{"key": "cpuid.SSE3", "value": 1.0}], [{"key": "cpuid.SSE3", "value": 1.5}],
    [{"key": "cpuid.SSE3", "value": None}], [{"key": "cpuid.SSE3"}], [{"value": "Bool:Min:1"}], [{"key": 5, "value": "x"}],
    [_ENTRY | {"featureName": 5}], [_ENTRY | {"featureName": "SSE3"}], [_ENTRY | {"other": [[1]]}], ["cpuid.SSE3"],
    [[_ENTRY]], [_ENTRY, None], [{"key": "cpuid.SSE3", "value": "Bool:Mix:1"}], [{"key": "cpuid.Nope", "value": "Bool:Min:1"}],
]
#: Values each field of a VM is set to: valid ones, and ones at every edge of what the schema admits.
VM_FIELD_VALUES: dict[str, list[Any]] = {
    "name": ["zz-new", "", "web-01", 5, None, True, ["a"], {"a": 1}, 1.5],
    "host": ["esx-gold-1", "esx-epyc-2", "esx-old-1", None, "", "no-such-host", 5, True, ["esx-gold-1"], {}],
    "cluster": ["gold", "epyc", "old", None, "", "no-such-cluster", 5, False, ["gold"]],
    "power_state": ["poweredOn", "poweredOff", "suspended", "poweredon", "on", "", 1, None, True, ["poweredOn"]],
    "hardware_version": ["vmx-13", "vmx-14", "vmx-21", "vmx-99", "vmx-13\n", "13", 13, 13.0, "vmx-013", "vmx-0",
                         "VMX-13", "vmx-100", " vmx-13", "vmx-", None, "", True, ["vmx-13"]],
    "per_vm_evc": ["intel-skylake", "intel-broadwell", "amd-zen3", "intel-skylake\n", "intel_skylake", "intel", "",
                   None, 5, False, "Intel-Skylake", "INTEL-SKYLAKE", "intel-nosuch", "-intel", ["intel-skylake"],
                   "intel-s\u212aylake"],  # a Kelvin sign: a known key once lower-cased, but not the pattern
    "min_required_evc_mode": ["intel-skylake", "amd-zen2", "", None, 0, 0.0, False, True, [], {}, 5, "nope",
                              "intel-skylake\n", "Intel Skylake", ["intel-skylake"]],
    "feature_requirement": _LISTS,
    "feature_mask": _LISTS,
    "template": [True, False, 0, 1, "true", "", None, []],
    "guest_id": ["windows2019srv_64Guest", "", 5, None, False, ["x"]],
    "guest_os": ["Ubuntu Linux (64-bit)", "", 5, None, True, {}],
    "guest_os_tools": ["Ubuntu Linux (64-bit)", "", 0, None, ["x"]],
    "uuid": ["4212-abcd", "", 5, None, {}],
    "notes": ["any", 5, None, [[[]]], {"a": {"b": 1}}],  # not a VM field: anything goes
}


def _schema_first(doc: Any) -> Any:
    """``parse_snapshot(doc)`` as it was before the VM reader stood in for the schema: the whole
    document checked against the schema first (the VMs too), then read."""
    with pytest.MonkeyPatch.context() as m:
        m.setattr(inventory, "snapshot_problems", lambda obj, vms=True: snapshot_problems(obj))
        return _outcome(doc)


def _outcome(doc: Any) -> Any:
    """What ``parse_snapshot`` makes of (a copy of) ``doc``: the estate it reads, or its error."""
    try:
        inv = parse_snapshot(copy.deepcopy(doc), "x.json", CATALOG)
    except SnapshotError as exc:
        return str(exc)
    return inv.vcenters, inv.clusters, inv.hosts, inv.vms, inv.notes


def _accepted_vm_lists(doc: Any) -> list[list[Any]]:
    """The VM lists (copies) that the whole-vCenter reader accepted while ``doc`` was parsed."""
    accepted: list[list[Any]] = []
    read_vms = inventory._read_vms

    def spy(vms: list[Any], reader: Any) -> Any:
        result = read_vms(vms, reader)
        if result is not None:
            accepted.append(copy.deepcopy(vms))
        return result
    with pytest.MonkeyPatch.context() as m:
        m.setattr(inventory, "_read_vms", spy)
        _outcome(doc)
    return accepted


def _check_vm_reader(doc: Any) -> None:
    for vms in _accepted_vm_lists(doc):
        for vm in vms:
            assert VM_VALIDATOR.is_valid(vm), vm  # accepted by the reader => accepted by the schema
    assert _outcome(doc) == _schema_first(doc)


_ODD_VMS: tuple[Any, ...] = (None, "web-01", [], 5, "mapping")
_VM_CHANGES: list[tuple[str, Any]] = [(f, v) for f, vs in VM_FIELD_VALUES.items() for v in vs] + \
    [("<delete>", f) for f in VM_FIELD_VALUES] + [("<vm>", v) for v in _ODD_VMS]


@pytest.mark.parametrize(("field", "value"), _VM_CHANGES)
@pytest.mark.parametrize("index", [0, 2, 5])  # a minimum EVC mode, a per-VM EVC mode, a featureRequirement list
def test_vm_reader_accepts_only_what_the_schema_accepts(field: str, value: Any, index: int) -> None:
    """Each field of a VM set to each value of `VM_FIELD_VALUES` (or removed, or the VM not an object):
    the whole-vCenter reader accepts only VMs the reference validator (jsonschema) accepts, and loading
    gives exactly what checking the whole document against the schema first gives (the same estate,
    or the same error: the same problems, in the same order, with the same wording)."""
    doc = copy.deepcopy(EXAMPLE)
    vms = doc["vcenters"][0]["vms"]
    if field == "<delete>":
        vms[index].pop(value, None)
    elif field == "<vm>":  # not an object; "mapping": a Mapping that is not a dict (not a JSON object either)
        vms[index] = collections.UserDict(vms[index]) if value == "mapping" else value
    else:
        vms[index][field] = copy.deepcopy(value)
    _check_vm_reader(doc)


def test_the_vm_reader_knows_every_field_of_the_schema() -> None:
    """`_read_vms` confirms the constraints of the VM definition as it is pinned here: a change to that
    definition in the schema fails this test until the reader (and `VM_FIELD_VALUES`) follow it."""
    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k != "description"}
        return [strip(v) for v in node] if isinstance(node, list) else node
    entry = {"type": "object", "required": ["key", "value"], "properties": {
        "key": {"type": "string"}, "featureName": {"type": "string"}, "value": {"type": ["string", "integer"]}}}
    assert strip(SCHEMA["$defs"]["vm"]) == {
        "type": "object", "required": ["name", "power_state", "hardware_version"],
        "properties": {
            "name": {"type": "string", "minLength": 1}, "host": {"type": ["string", "null"]},
            "cluster": {"type": ["string", "null"]}, "power_state": {"enum": ["poweredOn", "poweredOff", "suspended"]},
            "hardware_version": {"type": "string", "pattern": "^vmx-[1-9][0-9]?$"}, "guest_id": {"type": "string"},
            "guest_os": {"type": "string"}, "guest_os_tools": {"type": "string"}, "template": {"type": "boolean"},
            "feature_requirement": {"type": "array", "items": entry},
            "min_required_evc_mode": {"type": ["string", "null"]},
            "per_vm_evc": {"oneOf": [{"type": "string", "pattern": "^[A-Za-z]+(-[A-Za-z0-9]+)+$"}, {"type": "null"}]},
            "feature_mask": {"type": "array", "items": entry}, "uuid": {"type": "string"}}}
    assert set(SCHEMA["$defs"]["vm"]["properties"]) == inventory.VM_SCHEMA_FIELDS == set(VM_FIELD_VALUES) - {"notes"}
    assert _refs_to(SCHEMA, "#/$defs/vm") == ["$defs/vcenter/properties/vms/items"]  # a VM is nothing else


def _refs_to(node: Any, ref: str, path: str = "") -> list[str]:
    """Where the schema refers to the definition ``ref``."""
    if isinstance(node, dict):
        if node.get("$ref") == ref:
            return [path]
        return [p for k, v in node.items() for p in _refs_to(v, ref, f"{path}/{k}".lstrip("/"))]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _refs_to(v, ref, f"{path}/{i}")]
    return []


_ANY_JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-3, 30), st.floats(allow_nan=False), st.text(max_size=6)),
    lambda inner: st.one_of(st.lists(inner, max_size=2),
                            st.dictionaries(st.sampled_from(["key", "value", "x"]), inner, max_size=2)),
    max_leaves=4)


@st.composite
def _vm_mutations(draw: st.DrawFn) -> dict[str, Any]:
    """The example estate with one to five VM fields set (to a value of `VM_FIELD_VALUES` or any JSON
    value) or removed, and feature lists shared by several VMs as the snapshot decoder shares them."""
    doc = copy.deepcopy(EXAMPLE)
    vms = doc["vcenters"][0]["vms"]
    for _ in range(draw(st.integers(1, 5))):
        vm = vms[draw(st.integers(0, len(vms) - 1))]
        field = draw(st.sampled_from(sorted(VM_FIELD_VALUES)))
        kind = draw(st.sampled_from(["set", "set", "delete", "share"]))
        if kind == "set":
            vm[field] = copy.deepcopy(draw(st.sampled_from(VM_FIELD_VALUES[field]) | _ANY_JSON))
        elif kind == "delete":
            vm.pop(field, None)
        else:  # one list object at two VMs
            key = draw(st.sampled_from(["feature_requirement", "feature_mask"]))
            other = vms[draw(st.integers(0, len(vms) - 1))]
            other[key] = vm.setdefault(key, copy.deepcopy(draw(st.sampled_from(_LISTS))))
    return cast("dict[str, Any]", doc)


@settings(max_examples=150, deadline=None)
@given(doc=_vm_mutations())
def test_vm_reader_accepts_only_what_the_schema_accepts_mutated(doc: dict[str, Any]) -> None:
    """Several VMs changed at once, lists shared: still only schema-valid VMs accepted by the reader,
    and the same estate or the same error as checking the whole document against the schema first."""
    _check_vm_reader(doc)


@settings(max_examples=30, deadline=None)
@given(doc=_estates_with_extras())
def test_random_estates_load_as_when_checked_schema_first(doc: dict[str, Any]) -> None:
    """Random valid estates: the reader accepts them (no second reading) and they load as before."""
    assert _accepted_vm_lists(doc)
    _check_vm_reader(doc)


#: Values of a host's fields (by which `_read_hosts` remembers hosts): valid ones of several types...
HOST_FIELD_VALUES: dict[str, list[Any]] = {
    "cluster": ["gold", "epyc", None],
    "esxi_version": ["8.0.3"],
    "esxi_build": ["24022510", " build 24022510 ", 24022510, 24022510.0, None],
    "build": ["24022510", 24022510, 24022510.0],
    "connection_state": ["connected", "disconnected", "notResponding"],
    "maintenance": [True, False],
    "max_evc_mode": ["intel-skylake", "INTEL-SKYLAKE", None],
    "cpu": [{"model": "Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz"}, {"model": "Intel(R) Xeon(R) Gold 6430"},
            {"model": "Intel(R) Xeon(R) Gold 6430", "max_evc_mode": "intel-icelake"}, {"max_evc_mode": "intel-skylake"}],
}
#: ... and values that are a problem.
HOST_BAD_VALUES: dict[str, list[Any]] = {
    "cluster": ["no-such-cluster"], "esxi_version": ["9.9.9", "8.0"], "esxi_build": ["1", "x"],
    "max_evc_mode": ["intel-nosuch"], "cpu": [{"model": "Nonesuch CPU 9000"}, {"model": ""}, {}],
}


@st.composite
def _host_variants(draw: st.DrawFn) -> dict[str, Any]:
    """The example estate with up to 12 more hosts, each a copy of one of its hosts with a few fields set
    to values of `HOST_FIELD_VALUES` (so that several hosts share every value but their name), now and
    then one of `HOST_BAD_VALUES` or a duplicate name."""
    doc = copy.deepcopy(EXAMPLE)
    hosts = doc["vcenters"][0]["hosts"]
    bases = hosts[:3]  # Intel hosts on ESXi 8 (the values above fit them)
    for n in range(draw(st.integers(0, 12))):
        host = copy.deepcopy(draw(st.sampled_from(bases))) | {"name": f"zz-{n}"}
        for field in draw(st.lists(st.sampled_from(sorted(HOST_FIELD_VALUES)), max_size=3)):
            host[field] = copy.deepcopy(draw(st.sampled_from(HOST_FIELD_VALUES[field])))
        if draw(st.integers(0, 15)) == 0:
            field = draw(st.sampled_from(sorted(HOST_BAD_VALUES)))
            host[field] = copy.deepcopy(draw(st.sampled_from(HOST_BAD_VALUES[field])))
        hosts.append(host)
    if draw(st.integers(0, 15)) == 0:
        hosts.append(copy.deepcopy(draw(st.sampled_from(hosts))))  # a duplicate name
    return cast("dict[str, Any]", doc)


@settings(max_examples=150, deadline=None)
@given(doc=_host_variants())
def test_hosts_read_at_once_are_those_read_one_by_one(doc: dict[str, Any]) -> None:
    """The whole-vCenter host reader (hosts that differ only by name read once) gives exactly the hosts,
    or exactly the problems, that reading each host by itself gives."""
    def one_by_one() -> Any:
        with pytest.MonkeyPatch.context() as m:
            m.setattr(inventory, "_read_hosts", lambda *args: None)
            return _outcome(doc)
    fast = _outcome(doc)
    assert fast == one_by_one()
    if not isinstance(fast, str):
        hosts = fast[2]
        assert [[type(getattr(h, f.name)) for f in attrs.fields(inventory.Host)] for h in hosts] == \
            [[type(getattr(h, f.name)) for f in attrs.fields(inventory.Host)] for h in one_by_one()[2]]


@pytest.mark.parametrize(("first", "second"), [(24022510, 24022510.0), (24022510.0, 24022510), ("24022510", 24022510),
                                               (False, 0), (None, "")])
@pytest.mark.parametrize("field", ["esxi_build", "build", "maintenance", "cluster"])
def test_hosts_are_remembered_by_values_of_the_same_type(first: Any, second: Any, field: str) -> None:
    """Two hosts alike but for a value that equals the other's without being the same (a number and its
    float, false and 0): each is read by itself, as one by one (the float build is not a build number)."""
    doc = copy.deepcopy(EXAMPLE)
    hosts = doc["vcenters"][0]["hosts"]
    hosts += [hosts[2] | {"name": "zz-1", "esxi_version": "8.0.3", field: first},
              hosts[2] | {"name": "zz-2", "esxi_version": "8.0.3", field: second}]
    with pytest.MonkeyPatch.context() as m:
        m.setattr(inventory, "_read_hosts", lambda *args: None)
        slow = _outcome(doc)
    assert _outcome(doc) == slow


def test_vms_are_built_by_vm_itself_when_the_fast_builder_does_not_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Were `_VMSlots` not to build what `VM` does (a change of attrs or of `VM`), the VM reader makes
    each VM with `VM` itself: the same VMs."""
    fast = parse_snapshot(copy.deepcopy(EXAMPLE), "x", CATALOG).vms
    monkeypatch.setattr(inventory, "_VM_BUILDER", VM)
    slow = parse_snapshot(copy.deepcopy(EXAMPLE), "x", CATALOG).vms
    assert slow == fast and all(type(vm) is VM for vm in slow) and len(slow) == len(EXAMPLE["vcenters"][0]["vms"])


@pytest.mark.parametrize("raw", [b'\xef\xbb\xbf{"evckit_snapshot": 1, "vcenters": [\xff]}', b'{"evckit_snapshot": 1, \xc3(}',
                                 b"\xef\xbb", b"\xef\xbb\xbf\xef\xbb\xbf{}", b"\xef\xbb\xbf", b""])
def test_snapshot_text_is_decoded_as_utf8_sig(raw: bytes, tmp_path: Path) -> None:
    """A snapshot is UTF-8 with an optional BOM: a bad byte is named at the offset the utf-8-sig codec
    gives (counted after a BOM), and text that decodes is read as that codec reads it."""
    path = tmp_path / "snap.json"
    path.write_bytes(raw)
    with pytest.raises(EvckitError) as info:
        load_snapshot(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        assert str(info.value) == f"{path}: not UTF-8 text: bad byte at offset {exc.start}"
    else:
        assert "not UTF-8" not in str(info.value)
        with pytest.raises(json.JSONDecodeError) as decoded:
            json.loads(text)
        assert str(info.value).endswith(f"invalid JSON: {decoded.value.msg}")


def test_checks_compiled_ahead_are_those_of_the_shipped_schema() -> None:
    """``evckit/_schema_checks.py`` is what ``python -m evckit._schema`` writes of the shipped schema
    today (run it after changing the schema), and the loader uses it."""
    from evckit import _schema, _schema_checks  # noqa: PLC0415

    path = Path(_schema_checks.__file__)
    assert path.read_text(encoding="utf-8") == _schema.generated_module(_schema._schema_text()), \
        "evckit/_schema_checks.py is stale: run python -m evckit._schema"
    _schema._snapshot_check.cache_clear()
    try:
        assert _schema._snapshot_check(False).__closure__[0].cell_contents is _schema_checks.no_vms_ROOT  # type: ignore[index]
    finally:
        _schema._snapshot_check.cache_clear()


def test_stale_checks_compiled_ahead_are_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """Checks generated from another schema text are ignored: the schema is compiled in the process."""
    from evckit import _schema, _schema_checks  # noqa: PLC0415

    monkeypatch.setattr(_schema_checks, "SCHEMA_TEXT", "{}")
    _schema._snapshot_check.cache_clear()
    try:
        doc = copy.deepcopy(EXAMPLE)
        doc["vcenters"][0]["vms"][0]["name"] = 5
        assert snapshot_problems(doc) == [(("vcenters", 0, "vms", 0, "name"), "must be a string, not 5")]
        assert _schema._snapshot_check(True).__closure__[0].cell_contents is not _schema_checks.all_ROOT  # type: ignore[index]
    finally:
        _schema._snapshot_check.cache_clear()


@pytest.mark.parametrize("vms", [True, False])
def test_constants_of_generated_checks_are_written_as_they_are(vms: bool) -> None:
    """Each constant of the generated checks is written as Python that makes the same value."""
    import re  # noqa: PLC0415

    from evckit import _schema  # noqa: PLC0415

    prefix, assume = _schema._VARIANTS[vms]
    gen = _schema._Generator(SCHEMA, assume, prefix)
    gen.build()
    made = eval(_schema._literal(gen.consts), {"re": re})

    def same(a: Any, b: Any) -> bool:
        if isinstance(a, re.Pattern):
            return isinstance(b, re.Pattern) and (a.pattern, a.flags) == (b.pattern, b.flags)
        if isinstance(a, list):
            return isinstance(b, list) and len(a) == len(b) and all(map(same, a, b))
        return type(a) is type(b) and a == b
    assert same(gen.consts, made)
