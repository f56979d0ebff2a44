"""Recommendations per cluster (enable, raise, keep, lower, none; blockers; cost) and guest-OS floors."""

from __future__ import annotations

from typing import Any

import attrs
import pytest
from hypothesis import given, settings

from evckit.analysis import Analysis, ClusterResult, analyze
from evckit.catalog import Catalog
from evckit.errors import DataError
from evckit.guests import GuestFloors
from evckit.assess import assess
from evckit.profiles import profile_from_name
from evckit.inventory import load_inventories, parse_snapshot
from evckit.modes import EvcMode
from evckit.recommend import Recommendation, recommend

from .estate_strategies import estates

CATALOG = Catalog.builtin()
FLOORS = GuestFloors.for_catalog(CATALOG)


def estate(clusters: list[dict[str, Any]], hosts: list[dict[str, Any]], vms: list[dict[str, Any]]) -> Analysis:
    """Analyse a one-vCenter snapshot built from plain dicts."""
    return analyze(parse_snapshot({"evckit_snapshot": 1, "vcenters": [
        {"name": "vc", "clusters": clusters, "hosts": hosts, "vms": vms}]}))


def host(name: str, cluster: str, cpu: str, esxi: str = "8.0.3") -> dict[str, Any]:
    return {"name": name, "cluster": cluster, "esxi_version": esxi, "cpu": {"model": cpu}}


def rec(a: Analysis, cluster: str) -> Recommendation:
    r = a.cluster(cluster).recommendation
    assert r is not None
    return r


def test_example_legacy_enable_at_broadwell_with_report01_first() -> None:
    """The EVC-disabled legacy cluster: enable Broadwell after report-01 (AVX-512 in use) is powered off or
    moved; the Skylake host gives up AVX-512, the Broadwell host nothing."""
    r = rec(analyze(load_inventories([], example=True)), "legacy")
    assert (r.action, r.mode.key if r.mode else None) == ("enable", "intel-broadwell")
    assert [a.vm for a in r.evacuate] == ["report-01"]
    assert set(r.evacuate[0].features.names()) == {"avx512f", "avx512bw"}
    cost = {h.host: h.hidden for h in r.cost}
    assert len(cost["esx-legacy-1"]) == 0
    assert {"avx512f", "avx512bw", "avx512vl", "clwb"} <= set(cost["esx-legacy-2"].names())
    assert "avx2" not in cost["esx-legacy-2"]  # Broadwell keeps AVX2
    assert [x.host for x in r.held_back_by] == ["esx-legacy-1"]
    assert r.held_back_by[0].mode == "intel-skylake"


def test_example_keep_and_mixed_vendor_exclusion() -> None:
    """gold keeps Cascade Lake (every host runs it, one holds it back); the mixed cluster would enable
    the AMD mode of its AMD host once the Intel host leaves (the running VM is AMD)."""
    a = analyze(load_inventories([], example=True))
    gold = rec(a, "gold")
    assert gold.summary == "keep intel-cascadelake"
    assert not gold.evacuate and not gold.power_cycle
    mixed = rec(a, "mixed")
    assert mixed.summary == "enable amd-zen3"
    assert [(x.host, x.kind) for x in mixed.excluded_hosts] == [("esx-mixed-1", "vendor")]


def test_raise_lists_vms_needing_a_power_cycle() -> None:
    """Hosts all run Skylake but the cluster is at Haswell: raise; a VM powered on at Haswell needs a
    power cycle to use the new mode; a per-VM EVC VM never does."""
    a = estate([{"name": "c", "evc_mode": "intel-haswell"}],
               [host("h1", "c", "Xeon Gold 6130"), host("h2", "c", "Xeon Gold 6148")],
               [{"name": "old-vm", "host": "h1", "power_state": "poweredOn", "hardware_version": "vmx-19",
                 "min_required_evc_mode": "intel-haswell"},
                {"name": "pinned", "host": "h2", "power_state": "poweredOn", "hardware_version": "vmx-19",
                 "per_vm_evc": "intel-haswell"}])
    r = rec(a, "c")
    assert r.summary == "raise intel-skylake"
    assert [x.vm for x in r.power_cycle] == ["old-vm"]
    assert "avx512f" in r.power_cycle[0].features
    assert not r.evacuate


def test_lower_when_a_host_cannot_run_the_mode_and_the_vms_to_evacuate() -> None:
    """A Broadwell host in a Skylake cluster: lower to Broadwell; a running VM using AVX-512 blocks it."""
    a = estate([{"name": "c", "evc_mode": "intel-skylake"}],
               [host("new", "c", "Xeon Gold 6130"), host("old", "c", "E5-2690 v4")],
               [{"name": "avx", "host": "new", "power_state": "poweredOn", "hardware_version": "vmx-19",
                 "min_required_evc_mode": "intel-skylake"},
                {"name": "plain", "host": "new", "power_state": "poweredOn", "hardware_version": "vmx-19",
                 "min_required_evc_mode": "intel-haswell"},
                {"name": "off", "host": "new", "power_state": "poweredOff", "hardware_version": "vmx-19"}])
    r = rec(a, "c")
    assert r.summary == "lower intel-broadwell"
    assert [x.vm for x in r.evacuate] == ["avx"]
    assert {"avx512f", "avx512bw"} <= set(r.evacuate[0].features.names())
    assert not r.power_cycle  # lowering never asks for a power cycle to use more


def test_none_without_hosts_and_without_an_evc_vendor() -> None:
    """No hosts, or only a CPU vendor without EVC modes: no mode, with the reason."""
    inv = parse_snapshot({"evckit_snapshot": 1, "vcenters": [{"name": "vc", "clusters": [{"name": "empty"}, {"name": "odd"}],
                          "hosts": [host("h", "odd", "EPYC 7543")]}]})
    hygon = attrs.evolve(inv.hosts[0], cpu=attrs.evolve(inv.hosts[0].cpu, vendor="hygon"))
    a = analyze(attrs.evolve(inv, hosts=(hygon,)))
    assert rec(a, "empty").action == "none"
    odd = rec(a, "odd")
    assert odd.action == "none" and odd.mode is None
    assert odd.excluded_hosts and odd.excluded_hosts[0].kind == "no_mode"


@pytest.mark.parametrize(("guest_id", "name", "key"), [
    ("windows11_64Guest", None, "windows-11"),
    ("windows2022srvNext_64Guest", None, "windows-server-2025"),
    ("rhel9_64Guest", None, "rhel-9"),
    ("rhel10_64Guest", None, "rhel-10"),
    ("sles16_64Guest", None, "sles-16"),
    ("vmkernel8Guest", None, "esxi-8"),
    (None, "Microsoft Windows Server 2025 (64-bit)", "windows-server-2025"),
    (None, "Microsoft Windows 11 (64-bit)", "windows-11"),
    (None, "Red Hat Enterprise Linux 9 (64-bit)", "rhel-9"),
    (None, "Red Hat Enterprise Linux 10 (64-bit)", "rhel-10"),
    (None, "Red Hat Enterprise Linux 9.4 (Plow)", "rhel-9"),
    (None, "SUSE Linux Enterprise 16 (64-bit)", "sles-16"),
    (None, "VMware ESXi 8.0 or later", "esxi-8"),
    ("windows9Server64Guest", "Microsoft Windows Server 2016 (64-bit)", None),
    (None, "Red Hat Enterprise Linux 8 (64-bit)", None),
    (None, "Microsoft Windows Server 2022 (64-bit)", None),
])
def test_guest_floor_lookup_by_guest_id_and_rvtools_name(guest_id: str | None, name: str | None,
                                                          key: str | None) -> None:
    """Floors are found by vSphere guestId and by the guest OS names vSphere/RVTools show; others have none."""
    floor = FLOORS.lookup(guest_id, name)
    assert (floor.key if floor else None) == key


def test_floor_contents_and_mode_levels() -> None:
    """Windows Server 2025 needs SSE4.2+POPCNT, RHEL 10 x86-64-v3; Merom is v1, Nehalem v2, Haswell v3,
    Skylake v4 (each level contains the one below)."""
    ws = FLOORS.lookup("windows2022srvNext_64Guest")
    assert ws is not None and set(ws.features.names()) == {"sse42", "popcnt"}
    rhel10 = FLOORS.lookup("rhel10_64Guest")
    assert rhel10 is not None and rhel10.level == "x86-64-v3" and {"avx2", "sse42", "cmov"} <= set(rhel10.features)
    levels = {k: FLOORS.mode_level(CATALOG.mode(k)) for k in
              ("intel-merom", "intel-nehalem", "intel-haswell", "intel-skylake", "amd-zen3", "amd-zen4")}
    assert {k: lv.key if lv else None for k, lv in levels.items()} == {
        "intel-merom": "x86-64-v1", "intel-nehalem": "x86-64-v2", "intel-haswell": "x86-64-v3",
        "intel-skylake": "x86-64-v4", "amd-zen3": "x86-64-v3", "amd-zen4": "x86-64-v4"}
    for low, high in zip(FLOORS.levels, FLOORS.levels[1:]):
        assert low.features.mask & ~high.features.mask == 0


def test_every_floor_row_is_sourced_and_bad_rows_fail() -> None:
    """Every guest row names known sources; a row with an unknown feature or source is refused."""
    assert all(f.sources and set(f.sources) <= set(FLOORS.sources) for f in FLOORS.floors)
    bad = {"sources": {"S": {}}, "levels": [], "guests": [
        {"key": "x", "label": "X", "guest_ids": ["x"], "features": ["nosuchfeature"], "sources": ["S", "T"]}]}
    with pytest.raises(DataError, match="nosuchfeature") as info:
        GuestFloors.from_json(bad, CATALOG)
    assert "unknown source 'T'" in str(info.value)


def test_guest_floor_broken_by_recommended_mode() -> None:
    """Old hosts (Penryn-class Merom mode) with a Windows Server 2025 guest: the plan says it would not
    boot, after its next power cycle when running, in this cluster when powered off."""
    a = estate([{"name": "c"}],
               [host("h1", "c", "Xeon E5420", "6.5.0")],
               [{"name": "ws25", "host": "h1", "power_state": "poweredOn", "hardware_version": "vmx-13",
                 "guest_id": "windows2022srvNext_64Guest"},
                {"name": "w11-off", "host": "h1", "power_state": "poweredOff", "hardware_version": "vmx-13",
                 "guest_os": "Microsoft Windows 11 (64-bit)"},
                {"name": "ws22", "host": "h1", "power_state": "poweredOn", "hardware_version": "vmx-13",
                 "guest_id": "windows2019srvNext_64Guest"}])
    r = rec(a, "c")
    assert r.mode is not None and "sse42" not in r.mode.features
    breaks = {b.vm: b for b in r.guest_floors}
    assert set(breaks) == {"ws25", "w11-off"}
    assert "after its next power cycle" in breaks["ws25"].message
    assert "in this cluster" in breaks["w11-off"].message


def test_cold_target_below_a_powered_off_guests_floor() -> None:
    """A powered-off Windows Server 2025 VM cannot be cold-migrated into a Merom-mode cluster (it would
    not boot there) but can go to a Nehalem-or-later one; a guest without a known floor can go to both."""
    a = estate([{"name": "low", "evc_mode": "intel-merom"}, {"name": "high", "evc_mode": "intel-broadwell"}],
               [host("h1", "low", "Xeon Gold 6130"), host("h2", "high", "Xeon Gold 6130")],
               [{"name": "ws25", "host": "h2", "power_state": "poweredOff", "hardware_version": "vmx-19",
                 "guest_id": "windows2022srvNext_64Guest"},
                {"name": "ws22", "host": "h2", "power_state": "poweredOff", "hardware_version": "vmx-19",
                 "guest_os": "Microsoft Windows Server 2022 (64-bit)"},
                {"name": "rhel9-on", "host": "h2", "power_state": "poweredOn", "hardware_version": "vmx-19",
                 "guest_id": "rhel9_64Guest", "min_required_evc_mode": "intel-merom"}])
    ws25 = a.vm("ws25").verdict
    assert ws25.cold_targets == ("high",)
    (reason,) = ws25.blocked["low"]
    assert reason.kind == "guest_os" and "would not boot" in reason.message
    assert set(reason.features) == {"sse42", "popcnt"}
    assert a.vm("ws22").verdict.cold_targets == ("low", "high")
    # A running RHEL 9 guest: live targets follow its recorded features; cold ones its floor.
    rhel = a.vm("rhel9-on").verdict
    assert "low" in rhel.live_targets and "low" not in rhel.cold_targets


def test_host_without_a_mode_lists_what_it_lacks_for_the_lowest_mode_of_every_track() -> None:
    """An AMD CPU without SVM (a guest's view) runs no mode: it is told what it lacks for Rev E (3DNow!
    line) and for Greyhound-no3DNow (the other lines), svm among them."""
    p = profile_from_name("EPYC 9354", CATALOG)
    p = attrs.evolve(p, present=p.present - CATALOG.features.from_names(["svm"]))
    v = assess(p, CATALOG)
    assert v.max_mode is None
    assert {"amd-rev-e", "amd-greyhound-no3dnow"} <= set(v.missing_for_next)
    assert "svm" in v.missing_for_next["amd-greyhound-no3dnow"]


def test_wrong_vendor_host_not_admitted_for_its_vendor_not_every_feature() -> None:
    """An AMD host in an Intel EVC cluster is not admitted because of its vendor; no feature list."""
    a = estate([{"name": "c", "evc_mode": "intel-broadwell"}],
               [host("i", "c", "Xeon Gold 6130"), host("a", "c", "EPYC 7543")], [])
    (x,) = a.cluster("c").not_admitted
    assert (x.host, x.vendor, len(x.missing)) == ("a", "amd", 0)


def test_guest_os_from_vmware_tools_when_the_configuration_name_is_missing() -> None:
    """RVTools' 'OS according to the VMware Tools' (guest_os_tools) sets the floor when nothing else does."""
    a = estate([{"name": "c"}], [host("h1", "c", "Xeon E5420", "6.5.0")],
               [{"name": "rhel", "host": "h1", "power_state": "poweredOff", "hardware_version": "vmx-13",
                 "guest_os_tools": "Red Hat Enterprise Linux 9.4 (Plow)"}])
    assert a.vm("rhel").vm.guest_os == "Red Hat Enterprise Linux 9.4 (Plow)"
    (b,) = rec(a, "c").guest_floors
    assert b.guest.key == "rhel-9" and "sse42" in b.missing


# --- one decision: which running VMs a mode change acts on -----------------------------------------

#: Features VMware can show a VM, counted independently of the library: monitor support YES (shown when
#: the host or baseline has them; ANY ones are shown anyway, NO ones never), without the vendor and the
#: microcode-dependent mitigations (passed through whatever the mode, KB 52085).
VISIBLE = sum(f.bit for f in CATALOG.features if f.monitor_support == "YES" and f.kind not in ("vendor", "microcode"))


def _exposed(hw: int) -> int:
    return sum(f.bit for f in CATALOG.features if f.hw_version is None or f.hw_version <= hw)


def _acted_on(a: Analysis, c: ClusterResult, mode: EvcMode, evacuate: bool) -> tuple[list[str], list[str]]:
    """The running VMs of ``c`` to move out, and to power-cycle, for ``mode``: the rule spelt out on masks."""
    out: list[str] = []
    cycle: list[str] = []
    for v in a.vms:
        if not v.vm.running or v.cluster_key != c.key or v.vendor not in (None, mode.vendor):
            continue
        req = v.requirement.mask
        if evacuate and req & ~mode.features.mask & VISIBLE:
            out.append(v.vm.name)
        elif (v.vm.per_vm_evc is None and v.requirement_source in ("featureRequirement", "minRequiredEVCModeKey")
              and mode.features.mask & _exposed(v.vm.hardware_version) & VISIBLE & ~req):
            cycle.append(v.vm.name)
    return out, cycle


@settings(max_examples=150, deadline=None)
@given(estates())
def test_cluster_result_and_recommendation_decide_power_cycles_and_evacuations_alike(obj: dict[str, Any]) -> None:
    """Over random estates: a cluster's ``power_cycle_to_raise`` and ``blocking_lower``, each VM's
    ``power_cycle`` and the recommendation's ``power_cycle`` and ``evacuate`` lists follow one rule, so
    where the recommendation moves to the cluster's raise mode both name the same VMs."""
    inv = parse_snapshot(obj, "<estate>", CATALOG)
    a = analyze(inv)
    for c in a.clusters:
        modes = inv.modes_for(c.cluster.vcenter)
        r = c.recommendation
        assert r is not None
        if c.raise_mode is not None:
            enabling = c.evc_mode is None  # enabling moves out the VMs above the mode first; raising does not
            assert list(c.power_cycle_to_raise) == _acted_on(a, c, c.raise_mode, enabling)[1], c.label
        for key, names in c.blocking_lower.items():
            assert list(names) == _acted_on(a, c, modes.get(key), True)[0], (c.label, key)
        if r.mode is None or r.action == "keep":
            assert not r.evacuate and not r.power_cycle
            continue
        out, cycle = _acted_on(a, c, r.mode, r.action in ("enable", "lower"))
        assert [x.vm for x in r.evacuate] == (out if r.action in ("enable", "lower") else [])
        assert [x.vm for x in r.power_cycle] == (cycle if r.action in ("enable", "raise") else [])
        if r.action in ("enable", "raise") and c.raise_mode is not None and r.mode.key == c.raise_mode.key:
            assert list(c.power_cycle_to_raise) == [x.vm for x in r.power_cycle], c.label
        if r.action == "lower" and r.mode.key in c.blocking_lower:
            assert list(c.blocking_lower[r.mode.key]) == [x.vm for x in r.evacuate], c.label
    for v in a.vms:
        evc = a.cluster(v.cluster_key).evc_mode if v.cluster_key is not None else None
        expected = 0
        if v.vm.running and evc is not None and v.vendor in (None, evc.vendor) \
                and v.vm.per_vm_evc is None and v.requirement_source in ("featureRequirement", "minRequiredEVCModeKey"):
            expected = evc.features.mask & _exposed(v.vm.hardware_version) & VISIBLE & ~v.requirement.mask
        assert (v.power_cycle.missing.mask if v.power_cycle is not None else 0) == expected, v.vm.name


def _measured(cpu: str, extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """A host's ``cpu`` object measured as the features of a shipped mode plus ``extra`` (vSphere keys)."""
    mode = CATALOG.mode(cpu)
    keys = ["cpuid.Intel", *(CATALOG.features[n].vsphere_keys[0] for n in mode.features.names()), *extra]
    return {"feature_capability": [{"key": k, "value": "1"} for k in keys]}


def test_a_feature_vmware_never_shows_a_vm_needs_no_power_cycle_anywhere() -> None:
    """A vCenter whose own Skylake baseline lists STIBP (a microcode-dependent mitigation EVC passes
    through whatever the mode, KB 52085): a running VM using all of the shipped Skylake features but not
    STIBP lacks nothing a power cycle would bring. Neither its own ``power_cycle`` (cluster at that mode),
    nor the cluster's ``power_cycle_to_raise``, nor the recommendation's list names it, and the summary
    counts no VM needing a power cycle."""
    sky = CATALOG.mode("intel-skylake")
    baseline = [CATALOG.features[n].vsphere_keys[0] for n in sky.features.names()]
    requirement = [{"key": k, "value": "Bool:Min:1"} for k in ["cpuid.Intel", *baseline]]
    vcenter_sky = {"key": "intel-skylake", "vendor": "intel", "vendorTier": sky.tier, "track": ["intel"],
                   "featureCapability": [{"key": k, "value": "1"} for k in [*baseline, "cpuid.STIBP"]]}
    hosts = [{"name": f"h{c}{i}", "cluster": c, "esxi_version": "8.0.3", "cpu": _measured("intel-skylake", ("cpuid.STIBP",))}
             for c in ("off", "on") for i in (1, 2)]
    vms = [{"name": f"vm-{c}", "host": f"h{c}1", "power_state": "poweredOn", "hardware_version": "vmx-19",
            "feature_requirement": requirement} for c in ("off", "on")]
    inv = parse_snapshot({"evckit_snapshot": 1, "vcenters": [{
        "name": "vc", "evc_modes": [vcenter_sky], "hosts": hosts, "vms": vms,
        "clusters": [{"name": "off"}, {"name": "on", "evc_mode": "intel-skylake"}]}]}, "<stibp>", CATALOG)
    mode = inv.mode("vc", "intel-skylake")
    assert "stibp" in mode.features and mode.origin == "vc"  # the vCenter's baseline holds the mitigation
    a = analyze(inv)
    off, on = a.cluster("off"), a.cluster("on")
    assert off.raise_mode is not None and off.raise_mode.key == "intel-skylake"
    assert rec(a, "off").summary == "enable intel-skylake"
    assert off.power_cycle_to_raise == () and rec(a, "off").power_cycle == () and rec(a, "off").evacuate == ()
    assert a.vm("vm-on").power_cycle is None and a.vm("vm-off").power_cycle is None
    assert rec(a, "on").summary == "keep intel-skylake" and on.power_cycle_to_raise == ()
    assert a.summary.vms_needing_power_cycle == 0
    # Without STIBP in the VM's view the features it lacks are still visible ones: a real gap is still found.
    gap = [e for e in requirement if e["key"] != "cpuid.AVX512F"]
    for v in vms:
        v["feature_requirement"] = gap
    a = analyze(parse_snapshot({"evckit_snapshot": 1, "vcenters": [{
        "name": "vc", "evc_modes": [vcenter_sky], "hosts": hosts, "vms": vms,
        "clusters": [{"name": "off"}, {"name": "on", "evc_mode": "intel-skylake"}]}]}, "<stibp>", CATALOG))
    cycle = a.vm("vm-on").power_cycle
    assert cycle is not None and set(cycle.missing.names()) == {"avx512f"}
    assert list(a.cluster("off").power_cycle_to_raise) == [x.vm for x in rec(a, "off").power_cycle] == ["vm-off"]


@settings(max_examples=60, deadline=None)
@given(estates())
def test_recommend_without_the_analysis_plans_decides_the_same(obj: dict[str, Any]) -> None:
    """`recommend` called on its own (its plans built from the VM results) gives the recommendations the
    analysis made with its own plans."""
    inv = parse_snapshot(obj, "<estate>", CATALOG)
    a = analyze(inv)
    alone = recommend(inv, a.clusters, a.vms)
    assert {k: c.recommendation for k, c in ((c.key, c) for c in a.clusters)} == {
        c.key: alone[(c.cluster.vcenter, c.cluster.name)] for c in a.clusters}
