"""Estate analysis: the grouped verdicts agree with an ungrouped oracle, plus properties, rules and goldens."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, cast

import attrs
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from evckit import report
from evckit.analysis import Analysis, VMResult, analyze
from evckit.cli import main
from evckit.hardware import parse_esxi_version
from evckit.inventory import Cluster, ClusterKey, Host, Inventory, parse_snapshot
from evckit.modes import EvcMode

from .estate_strategies import CATALOG, CPU_FEATURES, KEY_OF, REG, VENDOR_KEY, estates, host_cpus

ANY = frozenset(f.name for f in REG if f.monitor_support == "ANY")
MITIGATIONS = frozenset(CATALOG.mitigations.names())
GOLDEN = Path(__file__).parent / "golden"


def names(fs: Iterable[str]) -> frozenset[str]:
    """A feature set (or any iterable of names) as a frozenset of names."""
    return frozenset(fs)


def mode_names(key: str) -> frozenset[str]:
    """The feature names of one mode's baseline."""
    return names(CATALOG.mode(key).features)


def parse(obj: Mapping[str, Any]) -> Inventory:
    """Parse a snapshot dict with the builtin catalog."""
    return parse_snapshot(obj, "<random>", CATALOG)


# --- the oracle ----------------------------------------------------------------------------------


def running(vm: Any) -> bool:
    """Powered on or suspended, and not a template."""
    return vm.power_state in ("poweredOn", "suspended") and not vm.template


@attrs.frozen
class Proof:
    """What the running VMs on one host prove (the witness rule): features, hardware versions, vendors."""

    features: frozenset[str] = frozenset()
    hw: tuple[int, ...] = ()
    vendors: frozenset[str] = frozenset()


def proofs(a: Analysis) -> tuple[dict[tuple[str, str], Proof], dict[tuple[str, str], frozenset[str]]]:
    """Per host, what its running VMs prove; per cluster, every feature its running VMs need (under EVC the
    baseline part holds on every host, and the microcode part wherever a host's data leaves it unknown)."""
    hosts: dict[tuple[str, str], Proof] = {}
    clusters: dict[tuple[str, str], frozenset[str]] = {}
    clustered = {(h.vcenter, h.name) for h in a.inventory.hosts if h.cluster is not None}
    for v in a.vms:
        if not running(v.vm) or v.vm.host is None or (v.vm.vcenter, v.vm.host) not in clustered:
            continue
        k = (v.vm.vcenter, v.vm.host)
        p = hosts.get(k, Proof())
        hosts[k] = Proof(p.features | names(v.requirement), (*p.hw, v.vm.hardware_version),
                         p.vendors | ({v.vendor} if v.vendor else set()))
        ck = (v.vm.vcenter, str(v.vm.cluster))
        clusters[ck] = clusters.get(ck, frozenset()) | names(v.requirement)
    return hosts, clusters


def hw_runs(host: Host, hw: int, proof: Proof | None = None) -> bool:
    """Whether the host's ESXi runs hardware version ``hw`` (unknown ESXi: assume yes; a running VM proves its own)."""
    if host.esxi_version is None:
        return True
    rel = CATALOG.hardware.release(host.esxi_version)
    seen = proof.hw if proof is not None else ()
    return min((rel.min_hw_version or 0, *seen)) <= hw <= max((rel.max_hw_version, *seen))


def host_failures(v: VMResult, host: Host, mode: EvcMode | None, proof: Proof | None = None,
                  cluster_proof: frozenset[str] = frozenset()) -> dict[str, frozenset[str]]:
    """Why one host refuses one VM, as reason kind -> features (empty: it accepts).

    ``proof`` and ``cluster_proof`` are what running VMs prove about the host and its EVC cluster.
    """
    vm = v.vm
    proof = proof or Proof()
    dest_vendor = mode.vendor if mode is not None else host.cpu.vendor
    if any(dest_vendor is not None and w != dest_vendor for w in proof.vendors):
        dest_vendor = None  # a running VM contradicts the host's vendor: the data cannot say
    if running(vm) and v.vendor is not None and dest_vendor is not None and v.vendor != dest_vendor:
        return {"vendor": frozenset()}  # another vendor: nothing else about the host matters
    out: dict[str, frozenset[str]] = {}
    if not hw_runs(host, vm.hardware_version, proof):
        out["hardware_version"] = frozenset()
    if not running(vm):
        return out
    present, unknown = names(host.cpu.present), names(host.cpu.unknown)
    if mode is not None:
        unknown &= MITIGATIONS  # under EVC only the host's own mitigation bits can still be unknown
        guarantee = names(mode.features) | (present & MITIGATIONS) | (cluster_proof - MITIGATIONS)
        guarantee |= cluster_proof & unknown  # EVC exposed them to a running VM: every host has them
        unknown -= cluster_proof
    else:
        guarantee = present
    guarantee |= proof.features
    lacking = names(v.requirement) - ANY - guarantee
    missing, undetermined = lacking - unknown, lacking & unknown
    microcode = missing & MITIGATIONS
    missing -= microcode
    if missing:
        out["per_vm_evc" if vm.per_vm_evc and mode is not None else "features"] = missing
    if microcode:
        out["microcode"] = microcode
    if undetermined:
        out["undetermined"] = undetermined
    return out


@attrs.frozen
class Expected:
    """The oracle's verdict for one VM: targets, partial host sets, and blocked host -> kind -> features."""

    live: frozenset[str]
    cold: frozenset[str]
    partial: dict[str, frozenset[str]]
    blocked: dict[str, dict[str, dict[str, frozenset[str]]]]


def members(inv: Inventory, c: Cluster) -> list[Host]:
    """The hosts of one cluster."""
    return [h for h in inv.hosts if h.vcenter == c.vcenter and h.cluster == c.name]


def oracle(inv: Inventory, v: VMResult, witnessed: tuple[dict[tuple[str, str], Proof],
                                                      dict[tuple[str, str], frozenset[str]]]) -> Expected:
    """Decide one VM against every host of every cluster, one by one, from the documented rules."""
    by_host, by_cluster = witnessed
    live: set[str] = set()
    cold: set[str] = set()
    partial: dict[str, Any] = {}
    blocked: dict[str, Any] = {}
    for c in inv.clusters:
        label = inv.cluster_label(c)
        mode = inv.mode(c.vcenter, c.evc_mode) if c.evc_mode else None
        every = members(inv, c)
        hosts = [h for h in every if h.available]  # disconnected or in maintenance: not destinations
        if every and not hosts:
            blocked[label] = {h.name: {"no_hosts": frozenset()} for h in every}
            continue
        cproof = by_cluster.get((c.vcenter, c.name), frozenset()) if mode is not None else frozenset()
        fails = {h.name: host_failures(v, h, mode, by_host.get((h.vcenter, h.name)), cproof) for h in hosts}
        ok = {n for n, f in fails.items() if not f}
        cold_ok = [h for h in hosts if h.available
                   and hw_runs(h, v.vm.hardware_version, by_host.get((h.vcenter, h.name)))]
        if cold_ok:
            cold.add(label)
        bad = {n: f for n, f in fails.items() if f}
        if running(v.vm):
            if hosts and not bad:
                live.add(label)
            else:
                blocked[label] = bad
                if ok:
                    partial[label] = frozenset(ok)
        elif not cold_ok:
            blocked[label] = bad
    return Expected(frozenset(live), frozenset(cold), partial, blocked)


def reasons_by_host(reasons: Iterable[Any]) -> dict[str, dict[str, frozenset[str]]]:
    """Merged reasons turned back into host -> kind -> features."""
    out: dict[str, dict[str, frozenset[str]]] = {}
    for r in reasons:
        for h in r.hosts:
            assert r.kind not in out.setdefault(h, {}), f"{h} has two {r.kind} reasons"
            out[h][r.kind] = frozenset(r.features)
    return out


def assert_agrees(inv: Inventory, a: Analysis) -> None:
    """Every VM's grouped verdict equals the oracle's, cluster by cluster and host by host."""
    witnessed = proofs(a)
    for v in a.vms:
        exp, got = oracle(inv, v, witnessed), v.verdict
        where = f"VM {v.vm.name}"
        assert set(got.live_targets) == (exp.live if running(v.vm) else set()), where
        assert set(got.cold_targets) == exp.cold, where
        assert {k: set(hs) for k, hs in got.partial.items()} == exp.partial, where
        assert set(got.blocked) == set(exp.blocked), where
        for label, reasons in got.blocked.items():
            assert reasons_by_host(reasons) == exp.blocked[label], f"{where} -> {label}"
            assert reasons, f"{where} -> {label}: blocked without a reason"


def cluster_oracle(inv: Inventory, c: Cluster) -> set[str]:
    """The maximal EVC modes every host of a cluster runs, by feature names (empty: none)."""
    hosts = members(inv, c)
    vendors = {h.cpu.vendor or "unknown" for h in hosts}
    if len(vendors) != 1:
        return set()
    common = frozenset.intersection(*(names(h.cpu.present) for h in hosts))
    # ...and that every host's ESXi release offers (a mode a release does not know is not offered).
    releases = [parse_esxi_version(h.esxi_version) for h in hosts if h.esxi_version]
    ok = [m for m in inv.modes_for(c.vcenter).for_vendor(vendors.pop()) if names(m.features) - ANY <= common
          and (m.esxi_min is None or all(r >= m.esxi_min for r in releases))]
    return {m.key for m in ok if not any(names(m.features) < names(o.features) for o in ok)}


# --- properties over random estates --------------------------------------------------------------


@settings(max_examples=120, deadline=None)
@given(estates())
def test_grouped_verdicts_agree_with_ungrouped_oracle(obj: dict[str, Any]) -> None:
    """Every (VM, cluster) verdict of the grouped analysis equals a host-by-host decision."""
    inv = parse(obj)
    assert_agrees(inv, analyze(inv))


@settings(deadline=None)
@given(estates())
def test_cluster_max_modes_agree_with_oracle(obj: dict[str, Any]) -> None:
    """A cluster's maximal modes are those every host runs that no other such mode contains."""
    inv = parse(obj)
    a = analyze(inv)
    for c in a.clusters:
        expected = cluster_oracle(inv, c.cluster)
        assert {m.key for m in c.max_evc_modes} == expected, c.label
        assert (c.max_evc_mode is None) == (not expected), c.label
        if c.max_evc_mode is not None:
            assert c.max_evc_mode.tier == max(m.tier for m in c.max_evc_modes)


@settings(deadline=None)
@given(estates(), st.data())
def test_adding_a_host_never_raises_max_mode(obj: dict[str, Any], data: st.DataObject) -> None:
    """A cluster with one more host never reaches a mode above what it reached before."""
    spots = [(i, c["name"]) for i, vc in enumerate(obj["vcenters"]) for c in vc["clusters"]
             if any(h["cluster"] == c["name"] for h in vc["hosts"])]
    assume(spots)
    i, cname = data.draw(st.sampled_from(spots))
    before = analyze(parse(obj))
    vc = obj["vcenters"][i]
    new = {"name": "h-new", "cluster": cname, "esxi_version": "8.0.3",
           "cpu": data.draw(host_cpus(data.draw(st.sampled_from(("intel", "amd")))))}
    vc["hosts"] = [*vc["hosts"], new]
    after = analyze(parse(obj))
    label = before.inventory.cluster_label(ClusterKey(vc["name"], cname))
    old, now = before.cluster(label), after.cluster(label)
    if old.max_evc_mode is None:
        assert now.max_evc_mode is None
        return
    for m in now.max_evc_modes:
        assert any(names(m.features) <= names(o.features) for o in old.max_evc_modes), m.key
    if now.max_evc_mode is not None and len(old.max_evc_modes) == 1:
        assert names(now.max_evc_mode.features) <= names(old.max_evc_mode.features)


@settings(deadline=None)
@given(estates())
def test_requirement_within_mode_moves_to_every_cluster_at_or_above_it(obj: dict[str, Any]) -> None:
    """A running VM whose requirement fits mode M is never refused for CPU reasons by an EVC cluster at or above M."""
    inv = parse(obj)
    a = analyze(inv)
    cpu_kinds = {"features", "per_vm_evc", "undetermined", "vendor"}
    for v in a.vms:
        if not running(v.vm):
            continue
        req = names(v.requirement)
        fits = [m for m in CATALOG.modes if req <= names(m.features) and v.vendor in (None, m.vendor)]
        for c in a.clusters:
            evc = c.evc_mode
            if evc is None or not c.hosts:
                continue
            if not any(m.vendor == evc.vendor and names(m.features) <= names(evc.features) for m in fits):
                continue
            kinds = {r.kind for r in v.verdict.blocked.get(c.label, ())}
            assert not kinds & cpu_kinds, (v.vm.name, c.label, kinds)
            if all(hr.host.available and hw_runs(hr.host, v.vm.hardware_version) for hr in c.hosts):
                assert c.label in v.verdict.live_targets, (v.vm.name, c.label)


@settings(deadline=None)
@given(estates())
def test_analysis_is_deterministic(obj: dict[str, Any]) -> None:
    """Analysing the same estate twice (and re-parsing it) gives identical JSON."""
    inv = parse(obj)
    first = report.dumps(report.check_json(report.select(analyze(inv))))
    assert report.dumps(report.check_json(report.select(analyze(inv)))) == first
    assert report.dumps(report.check_json(report.select(analyze(parse(obj))))) == first


@settings(deadline=None)
@given(estates())
def test_grouping_never_exceeds_the_objects(obj: dict[str, Any]) -> None:
    """There are no more VM groups than VMs and no more destination classes than clustered hosts."""
    inv = parse(obj)
    a = analyze(inv)
    assert a.vm_groups <= len(inv.vms)
    assert a.destination_classes <= sum(1 for h in inv.hosts if h.cluster is not None)
    assert (a.vm_groups == 0) == (not inv.vms)


# --- rules on hand-built estates -----------------------------------------------------------------


def caps(present: Iterable[str], unknown: Iterable[str] = (), vendor: str = "intel") -> list[dict[str, str]]:
    """A complete featureCapability list: ``present`` = 1, ``unknown`` left out, everything else 0."""
    present, unknown = set(present), set(unknown)
    out = [{"key": VENDOR_KEY[vendor], "value": "1"}]
    out += [{"key": KEY_OF[f.name], "value": "1" if f.name in present else "0"}
            for f in CPU_FEATURES if f.name not in unknown]
    return out


def host(name: str, cluster: str, mode: str | None = None, esxi: str = "8.0.3", **extra: Any) -> dict[str, Any]:
    """A host object; ``mode`` gives its CPU as a max EVC mode key unless ``cpu`` is passed."""
    out: dict[str, Any] = {"name": name, "cluster": cluster, "esxi_version": esxi}
    if mode is not None:
        out["cpu"] = {"max_evc_mode": mode}
    out.update(extra)
    return out


def vm(name: str, host_name: str, hw: int = 19, state: str = "poweredOn", **extra: Any) -> dict[str, Any]:
    """A VM object on a host."""
    return {"name": name, "host": host_name, "power_state": state, "hardware_version": f"vmx-{hw}", **extra}


def estate(clusters: dict[str, str | None], hosts: list[dict[str, Any]], vms: list[dict[str, Any]]) -> Analysis:
    """Analyse a one-vCenter estate given clusters (name -> EVC mode), hosts and VMs."""
    obj = {"evckit_snapshot": 1, "vcenters": [{
        "name": "vc", "clusters": [{"name": n, "evc_mode": m} for n, m in clusters.items()],
        "hosts": hosts, "vms": vms}]}
    return analyze(parse(obj))


def kinds(a: Analysis, vm_name: str, label: str) -> list[str]:
    """The reason kinds of one VM's block on one cluster."""
    return [r.kind for r in a.vm(vm_name).verdict.blocked.get(label, ())]


def test_vendor_mismatch_is_reason_vendor() -> None:
    """An Intel VM cannot go to an AMD cluster, for reason kind vendor only."""
    a = estate({"i": None, "a": None},
               [host("hi", "i", "intel-haswell"), host("ha", "a", "amd-zen2")],
               [vm("v", "hi", min_required_evc_mode="intel-haswell")])
    v = a.vm("v")
    assert v.vendor == "intel"
    assert v.verdict.live_targets == ("i",)
    assert kinds(a, "v", "a") == ["vendor"]
    assert v.verdict.blocked["a"][0].hosts == ("ha",)


def test_hardware_version_too_new_names_the_hosts() -> None:
    """A vmx-19 VM is refused by ESXi 6.7 hosts, which the hardware_version reason names."""
    a = estate({"new": None, "old": None},
               [host("n1", "new", "intel-haswell"), host("o1", "old", "intel-haswell", esxi="6.7.0"),
                host("o2", "old", "intel-haswell", esxi="6.7.0")],
               [vm("v", "n1", hw=19, min_required_evc_mode="intel-haswell")])
    (r,) = a.vm("v").verdict.blocked["old"]
    assert r.kind == "hardware_version"
    assert r.hosts == ("o1", "o2")
    assert "o1" in r.message and "o2" in r.message and "vmx-14" in r.message
    assert a.vm("v").verdict.cold_targets == ("new",)


def test_per_vm_evc_above_cluster_mode() -> None:
    """A per-VM EVC mode above a cluster's EVC mode is reason per_vm_evc; at or below it the VM moves."""
    a = estate({"home": None, "low": "intel-haswell", "high": "intel-cascadelake"},
               [host("h", "home", "intel-icelake"), host("l", "low", "intel-skylake"),
                host("x", "high", "intel-icelake")],
               [vm("v", "h", hw=17, per_vm_evc="intel-skylake")])
    assert kinds(a, "v", "low") == ["per_vm_evc"]
    assert "avx512f" in a.vm("v").verdict.blocked["low"][0].features
    assert set(a.vm("v").verdict.live_targets) == {"home", "high"}


def test_evc_off_cluster_partial_lists_hosts_with_the_features() -> None:
    """Without EVC, only the hosts that have the VM's features are listed as partial targets."""
    a = estate({"home": None, "mix": None},
               [host("s0", "home", "intel-skylake"), host("m1", "mix", "intel-skylake"),
                host("m2", "mix", "intel-broadwell"), host("m3", "mix", "intel-cascadelake")],
               [vm("v", "s0", min_required_evc_mode="intel-skylake")])
    g = a.vm("v").verdict
    assert set(g.partial["mix"]) == {"m1", "m3"}
    assert kinds(a, "v", "mix") == ["features"]
    assert g.blocked["mix"][0].hosts == ("m2",)
    assert "mix" not in g.live_targets


def test_powered_off_vm_has_only_cold_targets() -> None:
    """A powered-off VM has no live targets; its cold targets are clusters with a host running its hw version."""
    a = estate({"a": None, "b": None, "c": "intel-merom", "d": None},
               [host("a1", "a", "intel-skylake", esxi="8.0.3"), host("b1", "b", "amd-zen2", esxi="7.0.3"),
                host("c1", "c", "intel-merom", esxi="7.0.3"), host("c2", "c", "intel-merom", esxi="9.0.0"),
                host("d1", "d", "amd-zen3", esxi="8.0.2")],
               [vm("off", "a1", hw=21, state="poweredOff", min_required_evc_mode="intel-skylake")])
    v = a.vm("off")
    assert v.migration == "cold"
    assert v.verdict.live_targets == ()
    assert set(v.verdict.cold_targets) == {"a", "c", "d"}
    assert set(v.verdict.blocked) == {"b"}
    assert v.verdict.partial == {}


def test_power_cycle_when_requirement_below_cluster_mode() -> None:
    """A running VM below its cluster's EVC mode needs a power cycle; one at the mode or powered off does not."""
    a = estate({"g": "intel-cascadelake"},
               [host("g1", "g", "intel-cascadelake")],
               [vm("low", "g1", min_required_evc_mode="intel-broadwell"),
                vm("eq", "g1", min_required_evc_mode="intel-cascadelake"),
                vm("off", "g1", state="poweredOff", min_required_evc_mode="intel-broadwell"),
                vm("old", "g1", hw=13, min_required_evc_mode="intel-broadwell")])
    gap = mode_names("intel-cascadelake") - mode_names("intel-broadwell") - ANY
    pc = a.vm("low").power_cycle
    assert pc is not None and pc.mode == "intel-cascadelake"
    assert names(pc.missing) == gap
    assert names(pc.hidden) == frozenset()
    assert a.vm("eq").power_cycle is None
    assert a.vm("off").power_cycle is None
    old = a.vm("old").power_cycle
    assert old is not None
    assert names(old.missing) == {n for n in gap if (REG[n].hw_version or 0) <= 13}
    assert {"avx512vnni", "xgetbv_ecx1"} <= names(old.hidden)


def test_unavailable_hosts_are_not_destinations() -> None:
    """Hosts in maintenance or disconnected are not destinations: they neither take nor refuse a VM."""
    a = estate({"home": None, "c": None, "down": None},
               [host("h0", "home", "intel-skylake"), host("up", "c", "intel-skylake"),
                host("mm", "c", "intel-skylake", maintenance=True),
                host("dc", "c", "intel-skylake", connection_state="disconnected"),
                host("d1", "down", "intel-skylake", maintenance=True, esxi="6.7.0"),
                host("d2", "down", "intel-skylake", connection_state="notResponding")],
               [vm("v", "h0", min_required_evc_mode="intel-haswell"),
                vm("off", "h0", state="poweredOff")])
    g = a.vm("v").verdict
    assert "c" in g.live_targets and "c" not in g.partial and "c" not in g.blocked
    assert reasons_by_host(g.blocked["down"]) == {"d1": {"no_hosts": frozenset()}, "d2": {"no_hosts": frozenset()}}
    assert "down" not in g.partial and "down" not in g.cold_targets
    assert set(a.vm("off").verdict.cold_targets) == {"home", "c"}
    assert a.cluster("down").max_hw_version is None
    assert a.cluster("c").max_hw_version == 21


def test_mixed_vendor_cluster_has_no_max_mode() -> None:
    """A cluster of Intel and AMD hosts has no max EVC mode and says why."""
    a = estate({"m": None}, [host("i", "m", "intel-icelake"), host("a", "m", "amd-zen3")], [])
    c = a.cluster("m")
    assert c.max_evc_mode is None and c.max_evc_modes == ()
    assert c.reason is not None and "mixed" in c.reason
    assert c.vendors == ("amd", "intel")


def test_limiting_hosts_name_the_host_lacking_the_next_mode() -> None:
    """The host without the next mode's features is named with exactly what it lacks."""
    a = estate({"c": None}, [host("sky", "c", "intel-skylake"), host("cas", "c", "intel-cascadelake")], [])
    c = a.cluster("c")
    assert c.max_evc_mode is not None and c.max_evc_mode.key == "intel-skylake"
    assert [(x.host, x.mode) for x in c.limiting_hosts] == [("sky", "intel-cascadelake")]
    expected = mode_names("intel-cascadelake") - ANY - mode_names("intel-skylake")
    assert names(c.limiting_hosts[0].missing) == expected
    assert not c.limiting_hosts[0].undetermined


def test_blocking_lower_lists_running_vms_above_the_lower_mode() -> None:
    """Lowering the cluster's mode is blocked by running VMs whose requirement exceeds the lower mode."""
    a = estate({"c": "intel-skylake"}, [host("h", "c", "intel-skylake")],
               [vm("a", "h", min_required_evc_mode="intel-skylake"),
                vm("b", "h", min_required_evc_mode="intel-broadwell"),
                vm("off", "h", state="poweredOff", min_required_evc_mode="intel-skylake"),
                vm("d", "h", state="suspended", min_required_evc_mode="intel-skylake")])
    assert dict(a.cluster("c").blocking_lower) == {"intel-broadwell": ("a", "d")}


def test_unknown_host_features_are_undetermined_not_missing() -> None:
    """Features the host's data leaves unknown give reason undetermined, never features."""
    bw, sky = mode_names("intel-broadwell"), mode_names("intel-skylake")
    a = estate({"home": None, "u": None},
               [host("s", "home", "intel-skylake"),
                host("x", "u", cpu={"feature_capability": caps(bw, unknown=sky - bw)})],
               [vm("v", "s", min_required_evc_mode="intel-skylake")])
    assert kinds(a, "v", "u") == ["undetermined"]
    assert names(a.vm("v").verdict.blocked["u"][0].features) == sky - bw - ANY
    c = a.cluster("u")
    assert c.max_evc_mode is not None and c.max_evc_mode.key == "intel-broadwell"
    assert "intel-skylake" in c.undetermined


def test_unknown_mitigation_in_evc_cluster_is_undetermined() -> None:
    """In an EVC cluster, a needed mitigation the host's data leaves unknown is undetermined, not missing."""
    a = estate({"home": None, "e": "intel-merom"},
               [host("h", "home", cpu={"feature_capability": caps(mode_names("intel-merom") | {"mdclear"})}),
                host("x", "e", cpu={"feature_capability": caps(mode_names("intel-merom"), unknown={"mdclear"})})],
               [vm("v", "h", feature_requirement=[{"key": KEY_OF["mdclear"], "value": "Bool:Min:1"}])])
    assert kinds(a, "v", "e") == ["undetermined"]


# --- golden: the example estate ------------------------------------------------------------------


def check_json_of_example(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """``evckit check --example --format json-expanded`` (each VM with its verdict inline), parsed."""
    assert main(["check", "--example", "--format", "json-expanded"]) == 0
    return cast("dict[str, Any]", json.loads(capsys.readouterr().out))


def by_name(items: Iterable[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """JSON objects keyed by their ``name``."""
    return {x["name"]: x for x in items}


def test_example_key_facts(capsys: pytest.CaptureFixture[str]) -> None:
    """The example estate's headline verdicts stay what they are."""
    doc = check_json_of_example(capsys)
    clusters, vms = by_name(doc["clusters"]), by_name(doc["vms"])
    gold = clusters["gold"]
    assert gold["evc_mode"] == "intel-cascadelake"
    assert gold["max_evc_mode"] == "intel-cascadelake"
    assert [(x["host"], x["mode"]) for x in gold["limiting_hosts"]] == [("esx-gold-1", "intel-icelake")]
    assert clusters["mixed"]["max_evc_mode"] is None
    assert vms["app-02"]["needs_power_cycle"]["mode"] == "intel-cascadelake"
    assert [r["kind"] for r in vms["ml-01"]["blocked"]["gold"]] == ["per_vm_evc"]
    archive = vms["archive-01"]
    assert archive["migration"] == "cold"
    assert archive["live_targets"] == []
    assert "gold" in archive["cold_targets"]
    assert any(r["kind"] == "hardware_version" for v in vms.values() for r in v["blocked"].get("old", []))


def test_example_table_sections(capsys: pytest.CaptureFixture[str]) -> None:
    """The readable report has its cluster and VM sections."""
    assert main(["check", "--example"]) == 0
    out = capsys.readouterr().out
    assert "Clusters" in out
    assert "VMs that cannot move everywhere" in out


def golden(name: str, actual: object) -> object:
    """The stored golden copy of ``name``; rewritten from ``actual`` only when EVCKIT_REGEN_GOLDEN=1."""
    path = GOLDEN / name
    if os.environ.get("EVCKIT_REGEN_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert path.exists(), f"{path} is missing: run the tests once with EVCKIT_REGEN_GOLDEN=1"
    return json.loads(path.read_text(encoding="utf-8"))


def test_example_json_matches_golden(capsys: pytest.CaptureFixture[str]) -> None:
    """The whole example JSON (expanded form) equals tests/golden/example-check.json (regenerate with
    EVCKIT_REGEN_GOLDEN=1); the grouped form says the same (tests/test_writers.py)."""
    doc = check_json_of_example(capsys)
    doc["evckit"] = "<version>"
    doc["snapshot"] = Path(doc["snapshot"]).name
    assert doc == golden("example-check.json", doc)


@pytest.mark.parametrize(("columns", "name"), [(None, "example-check.txt"), ("80", "example-check-80.txt"),
                                              ("200", "example-check-200.txt")])
def test_example_table_matches_golden(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                      columns: str | None, name: str) -> None:
    """The example's readable report, piped (120 columns) and at COLUMNS=80 and 200, equals its golden copy
    in tests/golden (regenerate with EVCKIT_REGEN_GOLDEN=1); no line is wider than asked."""
    from evckit.inventory import example_path  # noqa: PLC0415

    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    assert main(["check", "--example"]) == 0
    out = capsys.readouterr().out
    width = int(columns or 120)
    assert all(len(line) <= width for line in out.splitlines() if line != str(example_path()) + ":")
    text = out.replace(str(example_path()), "<example>")
    path = GOLDEN / name
    if os.environ.get("EVCKIT_REGEN_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_target_status_summary_and_evidence_are_the_analysis() -> None:
    """What renderers and the exit status read is decided in the analysis: per-target status, the VMs that
    cannot move everywhere, the counts, and the evidence for a yes."""
    from evckit.inventory import load_inventories  # noqa: PLC0415

    a = analyze(load_inventories([], example=True))
    for v in a.vms:
        g = v.verdict
        for c in a.clusters:
            status = g.status(c.label, v.vm.running)
            assert (status == "partial") == (c.label in g.partial)
            assert (status in ("live", "cold")) == (c.label not in g.blocked and c.label in (
                g.live_targets if v.vm.running else g.cold_targets))
        others = [c for c in a.clusters if c.key != v.cluster_key and c.vendors == (v.vendor,)]
        assert v.not_movable_everywhere == (v.vm.running and any(
            g.status(c.label, True) == "blocked" for c in others))
    assert a.summary.vms_not_movable_everywhere == len(a.incompatible) > 0
    assert a.summary.vms == len(a.vms) and a.summary.running_vms == sum(v.vm.running for v in a.vms)
    db = a.vm("db-01")
    e = db.evidence(a.cluster("gold"))
    assert (e.migration, e.evc_mode, e.vendor) == ("live", "intel-cascadelake", "intel")
    assert e.features == len(db.requirement)
