"""Microcode-dependent features and the witness rule (issue #10, parts 2 and 3).

A running VM fits the host it runs on: where evckit's data says otherwise, the analysis lists a data
conflict and no verdict refuses the VM there. Microcode-dependent bits (speculative-execution controls)
are decided by measured host data only: unknown on hosts known by name or mode, and a reason of their own
(``microcode``) where a measured host lacks them.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings

from evckit import report
from evckit.analysis import analyze
from evckit.hosts import profile_from_mode, profile_from_name

from .estate_strategies import CATALOG, KEY_OF, REG, estates
from .test_analysis import (
    MITIGATIONS, caps, estate, host, host_failures, kinds, mode_names, names, parse, running, vm,
)

MICROCODE = frozenset(f.name for f in REG if f.kind == "microcode")


def req(*features: str) -> list[dict[str, str]]:
    """A featureRequirement list as vCenter writes it: each feature's vSphere key, ``Bool:Min:1``."""
    return [{"key": KEY_OF[n], "value": "Bool:Min:1"} for n in features]


# --- the microcode kind --------------------------------------------------------------------------


def test_microcode_kind_holds_the_speculation_controls_and_no_baseline_has_them() -> None:
    """The kind marks the speculative-execution controls (and firmware-hidden MWAIT); no shipped mode holds one."""
    assert {"mdclear", "fcmd", "ibrs", "ibpb", "stibp", "ssbd", "psfd", "mwait"} <= MICROCODE
    assert frozenset(CATALOG.mitigations.names()) == MICROCODE == MITIGATIONS
    for m in CATALOG.modes:
        assert not names(m.features) & MICROCODE, m.key
    for name in MICROCODE:
        f = REG[name]
        assert f.cpuid, name  # still a CPUID bit that dumps are read for
        assert f.sources and f.note and "microcode" in f.note.lower(), name


def test_hosts_known_by_name_or_mode_leave_microcode_bits_unknown() -> None:
    """A model name or mode key cannot tell the host's microcode: those bits are unknown, never absent."""
    for p in (profile_from_name("Xeon Gold 6248", CATALOG), profile_from_mode("intel-cascadelake", CATALOG)):
        assert p.assumed
        assert MICROCODE <= names(p.unknown)
        assert not names(p.present) & MICROCODE


def test_measured_host_lacking_a_mitigation_is_reason_microcode() -> None:
    """A measured host without MD_CLEAR refuses a VM that needs it for reason microcode, naming the fix."""
    bw = mode_names("intel-broadwell")
    a = estate({"home": None, "old-ucode": "intel-broadwell", "new-ucode": "intel-broadwell"},
               [host("h", "home", cpu={"feature_capability": caps(bw | {"mdclear"})}),
                host("o", "old-ucode", cpu={"feature_capability": caps(bw)}),
                host("n", "new-ucode", cpu={"feature_capability": caps(bw | {"mdclear"})})],
               [vm("v", "h", feature_requirement=req("avx2", "mdclear"))])
    assert kinds(a, "v", "old-ucode") == ["microcode"]
    (r,) = a.vm("v").verdict.blocked["old-ucode"]
    assert r.features == ("mdclear",) and r.hosts == ("o",)
    assert "microcode" in r.message and "BIOS" in r.message and "missing CPU features" not in r.message
    assert "new-ucode" in a.vm("v").verdict.live_targets
    assert a.data_conflicts == ()


def test_assumed_hosts_make_a_mitigation_undetermined_not_missing() -> None:
    """Hosts known only by model name or mode: a needed mitigation is undetermined, stated, never missing."""
    a = estate({"home": None, "named": "intel-broadwell", "moded": None},
               [host("h", "home", cpu={"feature_capability": caps(mode_names("intel-broadwell") | {"fcmd"})}),
                host("x", "named", cpu={"model": "Xeon E5-2686 v4"}),
                host("y", "moded", "intel-skylake")],
               [vm("v", "h", feature_requirement=req("avx2", "fcmd"))])
    for target in ("named", "moded"):
        assert kinds(a, "v", target) == ["undetermined"], target
        assert a.vm("v").verdict.blocked[target][0].features == ("fcmd",)


# --- the witness rule ----------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(estates())
def test_no_running_vm_is_refused_on_its_own_host(obj: dict[str, Any]) -> None:
    """Over random estates: a running VM's own host never refuses it, and a conflict is listed exactly
    where evckit's data alone would have refused it (unknown data is filled in, not a conflict)."""
    inv = parse(obj)
    a = analyze(inv)
    conflicts: dict[tuple[str, str], set[str]] = {}
    for c in a.data_conflicts:
        conflicts.setdefault((c.vcenter, c.vm), set()).add(c.source)
    by_name = {(h.vcenter, h.name): h for h in inv.hosts}
    for v in a.vms:
        key = (v.vm.vcenter, v.vm.name)
        if not running(v.vm) or v.vm.host is None or v.cluster_label is None:
            assert key not in conflicts
            continue
        for r in v.verdict.blocked.get(v.cluster_label, ()):
            assert r.kind == "no_hosts" or v.vm.host not in r.hosts, (v.vm.name, r)
        own = by_name[(v.vm.vcenter, v.vm.host)]
        cluster = next(c for c in inv.clusters if (c.vcenter, c.name) == (own.vcenter, own.cluster))
        mode = inv.mode(cluster.vcenter, cluster.evc_mode) if cluster.evc_mode else None
        data_says = set(host_failures(v, own, mode)) - {"undetermined"}
        assert bool(data_says) == (key in conflicts), (v.vm.name, data_says, conflicts.get(key))
        if "hardware_version" in data_says:
            assert "hardware_version" in conflicts[key]
        if "vendor" in data_says:
            assert "vendor" in conflicts[key]
        if data_says & {"features", "per_vm_evc", "microcode"}:
            assert conflicts[key] & {"evc_mode", "host_cpu"}


def test_stale_measured_data_is_a_conflict_not_a_refusal() -> None:
    """A VM needing MD_CLEAR runs on a host whose (old) dump lacks it: conflict host_cpu, own host takes it."""
    bw = mode_names("intel-broadwell")
    a = estate({"c": "intel-broadwell"},
               [host("stale", "c", cpu={"feature_capability": caps(bw)}),
                host("fresh", "c", cpu={"feature_capability": caps(bw | {"mdclear"})})],
               [vm("v", "stale", feature_requirement=req("avx2", "mdclear")),
                vm("w", "fresh", feature_requirement=req("avx2", "mdclear"))])
    assert "c" in a.vm("v").verdict.live_targets
    (dc,) = a.data_conflicts
    assert (dc.vm, dc.host, dc.cluster, dc.source, tuple(dc.features)) == ("v", "stale", "c", "host_cpu", ("mdclear",))
    assert "microcode" in dc.message
    # v proved that "stale" has MD_CLEAR now, so w may move there too.
    assert "c" in a.vm("w").verdict.live_targets


def test_evc_table_missing_a_feature_is_a_conflict_and_the_cluster_stays_a_target() -> None:
    """A running VM needs a feature evckit's table leaves out of its cluster's EVC mode: conflict evc_mode;
    its own cluster (every host exposes the same baseline) stays a live target; other clusters are unchanged."""
    wsm = mode_names("intel-westmere")
    a = estate({"c": "intel-westmere", "other": "intel-westmere"},
               [host("h1", "c", "intel-haswell"), host("h2", "c", "intel-haswell"),
                host("o1", "other", "intel-haswell")],
               [vm("v", "h1", feature_requirement=req(*sorted(wsm), "avx"))])
    assert "c" in a.vm("v").verdict.live_targets
    assert kinds(a, "v", "other") == ["features"]
    (dc,) = a.data_conflicts
    assert dc.source == "evc_mode" and tuple(dc.features) == ("avx",)
    assert "intel-westmere" in dc.message and "evckit's tables" in dc.message


def test_hardware_version_above_the_tables_cap_is_a_conflict() -> None:
    """A vmx-15 VM runs on an ESXi 6.7.0 host (GA caps at vmx-14): conflict hardware_version, not refused."""
    a = estate({"c": None, "d": None},
               [host("h", "c", "intel-skylake", esxi="6.7.0"), host("h2", "c", "intel-skylake", esxi="6.7.0"),
                host("d1", "d", "intel-skylake", esxi="6.7.0")],
               [vm("v", "h", hw=15, min_required_evc_mode="intel-skylake")])
    g = a.vm("v").verdict
    assert g.partial["c"] == ("h",)
    assert kinds(a, "v", "c") == ["hardware_version"]
    assert g.blocked["c"][0].hosts == ("h2",)
    (dc,) = a.data_conflicts
    assert dc.source == "hardware_version" and dc.host == "h" and "vmx-14" in dc.message


def test_conflicts_in_json_and_table(capsys: Any) -> None:
    """``data_conflicts`` is in the JSON (per conflict, and counted in the summary) and in the table."""
    bw = mode_names("intel-broadwell")
    a = estate({"c": None},
               [host("stale", "c", cpu={"feature_capability": caps(bw)})],
               [vm("v", "stale", feature_requirement=req("avx2", "ssbd"))])
    view = report.select(a)
    doc = json.loads(report.render_check(view, "json"))
    assert doc["data_conflicts"] == [{"vm": "v", "vcenter": "vc", "host": "stale", "cluster": "c", "source": "host_cpu",
                                      "features": ["ssbd"], "message": a.data_conflicts[0].message}]
    assert doc["summary"]["data_conflicts"] == 1
    assert json.loads(report.render_check(view, "json-groups"))["data_conflicts"] == doc["data_conflicts"]
    text = report.render_check(view, "table")
    assert "Data conflicts" in text and "host_cpu" in text and "ssbd" in text
    assert report.check_json(report.select(a, vm_patterns=["nothing"]))["data_conflicts"] == []
