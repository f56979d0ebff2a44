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
from evckit.profiles import profile_from_mode, profile_from_name

from .estate_strategies import CATALOG, KEY_OF, REG, estates
from .test_analysis import (
    ANY,
    MITIGATIONS,
    caps,
    estate,
    host,
    host_failures,
    kinds,
    mode_names,
    names,
    parse,
    running,
    vm,
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


def test_each_conflict_names_its_own_host_when_hosts_look_alike() -> None:
    """Hosts that look alike to every VM are judged once, but a conflict's message is about the VM's own
    host: the model name its CPU data is assumed from, its ESXi version as spelt (found by the what-if
    reuse property). Hosts assumed from vCenter's max EVC mode say so, without a host name, so the
    summary table groups them into one row."""
    a = estate({"c": None, "d": None, "e": None},
               [host("h1", "c", esxi="6.7.0", cpu={"model": "Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz"}),
                host("h2", "d", esxi="6.7", cpu={"model": "Intel(R) Xeon(R) Gold 6230 CPU @ 2.10GHz"}),
                host("m1", "e", "intel-cascadelake"), host("m2", "e", "intel-cascadelake")],
               [vm("v", "h1", hw=15, feature_requirement=req("avx2", "avx512ifma")),
                vm("w", "h2", hw=15, feature_requirement=req("avx2", "avx512ifma")),
                vm("x", "m1", feature_requirement=req("avx2", "avx512ifma")),
                vm("y", "m2", feature_requirement=req("avx2", "avx512ifma"))])
    by = {(dc.vm, dc.source): dc.message for dc in a.data_conflicts}
    assert "assumed from Intel(R) Xeon(R) Gold 6248" in by[("v", "host_cpu")]
    assert "assumed from Intel(R) Xeon(R) Gold 6230" in by[("w", "host_cpu")]
    assert "ESXi 6.7.0 only" in by[("v", "hardware_version")]
    assert "ESXi 6.7 only" in by[("w", "hardware_version")]
    assert "assumed from vCenter's maxEVCModeKey intel-cascadelake" in by[("x", "host_cpu")]
    assert by[("x", "host_cpu")] == by[("y", "host_cpu")]


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


# --- real requirement lists ----------------------------------------------------------------------

#: DUMP-BDW (data/evc_modes.json sources): the runtime.featureRequirement of a real running vmx-14 VM with
#: minRequiredEVCModeKey intel-broadwell, keys exactly as that vCenter wrote them (lower case), each Bool:Min:1.
DUMP_BDW = ["3dnprefetch", "abm", "adx", "aes", "avx", "avx2", "bmi1", "bmi2", "cmpxchg16b", "enfstrg", "f16c",
            "fcmd", "fma", "fsgsbase", "ibpb", "ibrs", "intel", "invpcid", "lahf64", "lm", "mdclear", "movbe", "nx",
            "pcid", "pclmulqdq", "pdpe1gb", "popcnt", "rdrand", "rdseed", "rdtscp", "smap", "smep", "ss", "ssbd",
            "sse3", "sse41", "sse42", "ssse3", "stibp", "xcr0_master_sse", "xcr0_master_ymm_h", "xsave", "xsaveopt"]
#: Lists built for later generations: the ISA each generation adds (../shared/reference evc-modes-evidence,
#: expected additions per mode, limited to what the VM's hardware version exposes) plus the mitigation
#: keys current microcode brings; written in vCenter's mixed case (cpuid.Intel, cpuid.MDCLEAR, cpuid.avx2).
_SKX = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl", "xcr0_master_opmask", "xcr0_master_zmm_h",
        "xcr0_master_hi16_zmm", "clflushopt", "clwb", "pku", "xcr0_master_pkru", "xsavec", "xsaves"]
_CLX = [*_SKX, "avx512vnni", "xgetbv_ecx1"]
_ICX = [*_CLX, *["sha", "vaes", "vpclmulqdq", "gfni", "avx512ifma", "avx512vbmi", "avx512vbmi2", "avx512bitalg",
        "avx512vpopcntdq", "umip", "rdpid", "wbnoinvd", "fast_short_repmov"]]
_SPR = [*_ICX, *["amx_tile", "amx_int8", "amx_bf16", "xcr0_master_xtilecfg", "xcr0_master_xtiledata", "xfd",
        "avx512fp16", "avx512bf16", "avx_vnni", "serialize", "cldemote", "movdiri", "movdir64b", "fast_zero_movsb",
        "fast_short_stosb", "fast_short_cmpsb_scasb", "psfd"]]
_ZEN = ["sse3", "ssse3", "sse41", "sse42", "popcnt", "aes", "pclmulqdq", "cmpxchg16b", "lahf64", "lm", "nx", "rdtscp",
        "abm", "sse4a", "misaligned_sse", "3dnprefetch", "mmxext", "ffxsr", "avx", "xsave", "xcr0_master_sse",
        "xcr0_master_ymm_h", "fma", "bmi1", "f16c", "xsaveopt", "fsgsbase", "rdrand", "smep", "avx2", "bmi2", "movbe",
        "adx", "rdseed", "smap", "clflushopt", "xsaves", "xsavec", "sha", "clzero", "ibpb", "ibrs", "stibp"]
_ZEN2 = [*_ZEN, *["clwb", "umip", "rdpid", "xgetbv_ecx1", "wbnoinvd"]]
_ZEN3 = [*_ZEN2, *["invpcid", "pku", "xcr0_master_pkru", "vaes", "vpclmulqdq", "fast_short_repmov", "enfstrg"]]
_ZEN4 = [*_ZEN3, *["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl", "avx512ifma", "avx512vbmi",
         "avx512vbmi2", "avx512vnni", "avx512bitalg", "avx512vpopcntdq", "avx512bf16", "xcr0_master_opmask",
         "xcr0_master_zmm_h", "xcr0_master_hi16_zmm", "gfni", "amd_fast_short_stosb", "amd_fast_short_cmpsb",
         "upper_address_ignore", "leaf88_ssbd_spec_ctrl", "leaf88_psfd"]]
_BDW_ISA = [n for n in DUMP_BDW if n != "intel"]

#: name -> (vendor, the EVC mode of the VM's cluster, hardware version, requirement features)
LISTS: dict[str, tuple[str, str, int, list[str]]] = {
    "DUMP-BDW": ("intel", "intel-broadwell", 14, _BDW_ISA),
    "Cascade Lake": ("intel", "intel-cascadelake", 17, [*_BDW_ISA, *_CLX]),
    "Ice Lake": ("intel", "intel-icelake", 19, [*_BDW_ISA, *_ICX]),
    "Sapphire Rapids": ("intel", "intel-sapphirerapids", 20, [*_BDW_ISA, *_SPR]),
    "Zen 2": ("amd", "amd-zen2", 17, _ZEN2),
    "Zen 3": ("amd", "amd-zen3", 19, _ZEN3),
    "Zen 4": ("amd", "amd-zen4", 20, _ZEN4),
}
#: The microcode bits a host with current microcode shows, per vendor.
CURRENT_MICROCODE = {"intel": {"mdclear", "fcmd", "ibrs", "ibpb", "stibp", "ssbd", "arch_capabilities", "psfd",
                               "mwait"},
                     "amd": {"ibrs", "ibpb", "stibp", "leaf88_ssbd_spec_ctrl", "leaf88_psfd", "verw_clear", "mwait"}}


def vcenter_keys(name: str, vendor: str, features: list[str]) -> list[dict[str, str]]:
    """A requirement list as vCenter writes it: the real dump verbatim, the built ones in mixed case."""
    if name == "DUMP-BDW":
        return [{"key": f"cpuid.{n}", "value": "Bool:Min:1"} for n in DUMP_BDW]
    out = [{"key": "cpuid.Intel" if vendor == "intel" else "cpuid.AMD", "value": "Bool:Min:1"}]
    for i, n in enumerate(features):
        key = KEY_OF[n]  # vSphere's own spelling: cpuid.MDCLEAR, cpuid.AVX512F, cpuid.XCR0_MASTER_SSE
        out.append({"key": key if i % 2 or REG[n].kind == "microcode" else key.lower(), "value": "Bool:Min:1"})
    return out


def higher_modes(key: str) -> list[str]:
    """Every shipped mode whose baseline contains ``key``'s (the clusters a VM of ``key`` may always join)."""
    base = CATALOG.mode(key)
    return [m.key for m in CATALOG.modes.for_vendor(base.vendor)
            if m.key != key and names(base.features) <= names(m.features)]


def test_real_lists_are_live_targets_of_own_and_every_higher_mode_cluster() -> None:
    """The real DUMP-BDW list and built Cascade Lake, Ice Lake, Sapphire Rapids, Zen 2-4 lists (mitigation keys,
    mixed-case keys) go live to their own cluster of measured hosts and to every higher-mode cluster whose hosts
    have current microcode; hosts with old microcode refuse them for reason microcode, hosts known only by a
    mode leave the mitigations undetermined, and no data conflict arises (the tables agree with the lists)."""
    for name, (vendor, mode_key, hw, features) in LISTS.items():
        mitigations = CURRENT_MICROCODE[vendor]
        higher = higher_modes(mode_key)
        assert higher or mode_key in ("intel-graniterapids", "amd-zen5"), name
        clusters: dict[str, str | None] = {"own": mode_key}
        hosts = [host(f"own-{i}", "own", esxi="9.0.0",
                      cpu={"feature_capability": caps(set(features) | names(CATALOG.mode(mode_key).features)
                                                      | mitigations, vendor=vendor)}) for i in (1, 2)]
        for m in higher:
            clusters[m] = m
            clusters[f"old-ucode-{m}"] = m
            clusters[f"assumed-{m}"] = m
            base = names(CATALOG.mode(m).features)
            hosts += [host(f"{m}-{i}", m, esxi="9.0.0",
                           cpu={"feature_capability": caps(base | mitigations, vendor=vendor)}) for i in (1, 2)]
            hosts.append(host(f"old-{m}", f"old-ucode-{m}", esxi="9.0.0",
                              cpu={"feature_capability": caps(base, vendor=vendor)}))
            hosts.append(host(f"assumed-{m}", f"assumed-{m}", m, esxi="9.0.0"))
        vms = [vm("v", "own-1", hw=hw, feature_requirement=vcenter_keys(name, vendor, features))]
        a = estate(clusters, hosts, vms)
        v = a.vm("v")
        assert v.vendor == vendor, name
        assert v.notes == (), (name, v.notes)  # every key understood, whatever its case
        assert names(v.requirement) == set(features), name
        assert set(v.verdict.live_targets) == {"own", *higher}, (name, dict(v.verdict.blocked))
        needed = set(features) & MICROCODE - ANY  # ANY bits (IBRS/IBPB) the hypervisor can always expose
        for m in higher:
            assert kinds(a, "v", f"old-ucode-{m}") == ["microcode"], (name, m)
            assert set(v.verdict.blocked[f"old-ucode-{m}"][0].features) == needed, (name, m)
            assert kinds(a, "v", f"assumed-{m}") == ["undetermined"], (name, m)
        assert a.data_conflicts == (), (name, a.data_conflicts)


def test_issue_10_dump_bdw_in_its_broadwell_cluster_of_named_hosts() -> None:
    """The issue's case: the DUMP-BDW VM runs in an intel-broadwell cluster whose hosts are known by name.
    It stays in its cluster: EVC exposed MD_CLEAR, FCMD, STIBP, SSBD to it, which it does only once every
    host has them (KB 52085), and pdpe1gb is in the Broadwell baseline; without EVC the other named hosts
    leave the mitigations undetermined, never missing."""
    keys = vcenter_keys("DUMP-BDW", "intel", _BDW_ISA)
    a = estate({"bdw": "intel-broadwell", "plain": None},
               [host("b1", "bdw", cpu={"model": "Xeon E5-2686 v4"}),
                host("b2", "bdw", cpu={"model": "Xeon E5-2686 v4"}),
                host("p1", "plain", cpu={"model": "Xeon E5-2686 v4"}),
                host("p2", "plain", cpu={"model": "E5-2650 v4"})],
               [vm("v", "b1", hw=14, min_required_evc_mode="intel-broadwell", feature_requirement=keys),
                vm("w", "p1", hw=14, feature_requirement=keys)])
    v, w = a.vm("v"), a.vm("w")
    assert "bdw" in v.verdict.live_targets and "bdw" not in v.verdict.blocked
    assert w.verdict.partial["plain"] == ("p1",)
    assert kinds(a, "w", "plain") == ["undetermined"]
    assert set(w.verdict.blocked["plain"][0].features) == {"fcmd", "mdclear", "ssbd", "stibp"}
    assert a.data_conflicts == ()



def test_many_conflicts_are_summarised_in_the_table() -> None:
    """Above DETAIL_ROWS hosts with conflicts the table gives one row per kind of disagreement; --explain lists each."""
    n = report.DETAIL_ROWS + 1
    a = estate({"c": None}, [host(f"h{i:03}", "c", "intel-skylake", esxi="6.7.0") for i in range(n)],
               [vm(f"v{i:03}", f"h{i:03}", hw=15, min_required_evc_mode="intel-skylake") for i in range(n)])
    assert len(a.data_conflicts) == n
    text = report.render_check(report.select(a), "table")
    section = text[text.index("Data conflicts"):]
    assert f"{n} VMs" in section and f"{n} hosts" in section and "summary" in section
    assert section.count("hardware_version") == 1
    detailed = report.render_check(report.select(a, explain=True), "table")
    assert detailed[detailed.index("Data conflicts"):].count("hardware_version") == n
