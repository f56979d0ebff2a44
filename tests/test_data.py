"""Invariants of the shipped tables: they load, refer to each other correctly and honour EVC semantics."""

from __future__ import annotations

import json
from typing import Any
from itertools import combinations

import pytest

from evckit._resources import data_dir
from evckit.catalog import Catalog

INTEL = ["intel-merom", "intel-penryn", "intel-nehalem", "intel-westmere", "intel-sandybridge",
         "intel-ivybridge", "intel-haswell", "intel-broadwell", "intel-skylake", "intel-cascadelake",
         "intel-icelake", "intel-sapphirerapids", "intel-graniterapids"]
AMD = ["amd-rev-e", "amd-rev-f", "amd-greyhound-no3dnow", "amd-greyhound", "amd-bulldozer", "amd-piledriver",
       "amd-steamroller", "amd-zen", "amd-zen2", "amd-zen3", "amd-zen4", "amd-zen5"]


def test_every_mode_vcenter_shipped_is_present(catalog: Catalog) -> None:
    """Every Intel and AMD mode key vCenter has shipped (through vSphere 9) is in the table."""
    assert [m.key for m in catalog.modes.for_vendor("intel")] == INTEL
    assert [m.key for m in catalog.modes.for_vendor("amd")] == AMD


def test_mode_features_exist_and_modes_have_sources(catalog: Catalog) -> None:
    """Every mode has features, a confidence flag and sources defined in the file."""
    for m in catalog.modes:
        assert len(m.features) > 20, m.key
        assert m.confidence in ("confirmed", "unconfirmed")
        assert m.sources and all(s in catalog.sources for s in m.sources), m.key


def test_each_track_mode_contains_its_predecessor(catalog: Catalog) -> None:
    """Within a track, each mode contains every feature of the mode before it."""
    tracks: dict[str, list[Any]] = {}
    for m in catalog.modes:
        for t in m.tracks:
            tracks.setdefault(t, []).append(m)
    assert set(tracks) == {"intel", "amd-3dnow", "amd-bulldozer", "amd-zen"}
    for name, modes in tracks.items():
        modes.sort(key=lambda m: m.tier)
        for lo, hi in zip(modes, modes[1:]):
            assert lo.features <= hi.features, f"{name}: {lo.key} not within {hi.key}"


def test_amd_lines_branch(catalog: Catalog) -> None:
    """Zen does not extend the Opteron line (no XOP/FMA4/TBM), and no3dnow is below Greyhound, not after it."""
    zen, steam = catalog.mode("amd-zen"), catalog.mode("amd-steamroller")
    assert not steam.features <= zen.features
    assert {"xop", "fma4", "tbm"} <= set(steam.features - zen.features)
    gh, no3d = catalog.mode("amd-greyhound"), catalog.mode("amd-greyhound-no3dnow")
    assert no3d.features < gh.features and set(gh.features - no3d.features) == {"3dnow", "3dnowplus"}
    assert no3d.features < zen.features and no3d.features < catalog.mode("amd-bulldozer").features


@pytest.mark.parametrize("key", INTEL + AMD)
def test_no_mode_requires_tsx(catalog: Catalog, key: str) -> None:
    """TSX (HLE, RTM) is required by no baseline: microcode disables it on many real hosts."""
    assert not {"hle", "rtm"} & set(catalog.mode(key).features)


def test_skylake_and_later_require_avx512_sapphirerapids_requires_amx(catalog: Catalog) -> None:
    """intel-skylake and later need AVX-512; intel-sapphirerapids and later need AMX."""
    for key in INTEL[INTEL.index("intel-skylake"):]:
        assert "avx512f" in catalog.mode(key).features
    for key in INTEL[:INTEL.index("intel-skylake")]:
        assert "avx512f" not in catalog.mode(key).features
    for key in ("intel-sapphirerapids", "intel-graniterapids"):
        assert {"amx_tile", "amx_int8", "amx_bf16"} <= set(catalog.features.names(catalog.mode(key).required))
    assert "amx_tile" not in catalog.mode("intel-icelake").features


def test_unconfirmed_is_marked(catalog: Catalog) -> None:
    """A mode whose baseline is not confirmed by a source says so, feature by feature."""
    m = catalog.mode("intel-icelake")
    assert m.confidence == "unconfirmed" and "sha" in m.unconfirmed
    assert "sse41" not in catalog.mode("intel-penryn").unconfirmed  # the vSphere docs name SSE4.1


def test_feature_keys_and_positions_unique(catalog: Catalog) -> None:
    """No two features share a vSphere key or (except declared aliases) a CPUID position."""
    seen: dict[tuple[Any, ...], str] = {}
    keys: dict[str, str] = {}
    raw = json.loads((data_dir() / "features.json").read_text())
    shares = {f["name"]: f.get("shares_bit_with") for f in raw["features"]}
    for f in catalog.features:
        for k in f.vsphere_keys:
            assert keys.setdefault(k.lower(), f.name) == f.name
        for p in f.cpuid:
            for vendor in ([p.vendor] if p.vendor else ["intel", "amd"]):
                other = seen.setdefault((vendor, p.leaf, p.subleaf, p.register, p.bit), f.name)
                assert other == f.name or shares.get(f.name) == other or shares.get(other) == f.name


def test_non_cpuid_features_are_honest(catalog: Catalog) -> None:
    """XCR0 components and vendor booleans are not forced into unrelated CPUID bits."""
    ymm = catalog.features["xcr0_master_ymm_h"]
    assert ymm.kind == "xcr0" and ymm.xsave_component == 2
    assert [(p.leaf, p.subleaf, p.register, p.bit) for p in ymm.cpuid] == [(0xD, 0, "eax", 2)]
    intel = catalog.features["intel"]
    assert intel.kind == "vendor" and intel.cpuid == () and intel.vendor_string == "GenuineIntel"


def test_vsphere_keys_match_case_insensitively(catalog: Catalog) -> None:
    """cpuid.AVX512F, cpuid.avx512f and CPUID.Avx512F are one feature."""
    f = catalog.features
    assert f.by_vsphere_key("cpuid.AVX512F") is f.by_vsphere_key("CPUID.avx512f") is f["avx512f"]
    assert f["enfstrg"].linux == "erms"


def test_every_section_1_5_feature_present(catalog: Catalog) -> None:
    """The features listed in evc-facts §1.5 are all in the catalog."""
    names = ("sse3 pclmulqdq ssse3 fma cmpxchg16b pcid sse41 sse42 movbe popcnt aes xsave avx f16c rdrand "
             "fsgsbase bmi1 hle avx2 smep bmi2 enfstrg invpcid rtm mpx avx512f avx512dq rdseed adx smap "
             "clflushopt clwb avx512cd sha avx512bw avx512vl umip pku gfni vaes vpclmulqdq avx512vnni "
             "amx_tile amx_int8 amx_bf16 avx512fp16 ibrs ibpb stibp ssbd fcmd mdclear xsaveopt xsavec "
             "xsaves lahf64 abm sse4a 3dnprefetch xop fma4 tbm nx rdtscp lm 3dnow clzero wbnoinvd").split()
    missing = [n for n in names if n not in catalog.features]
    assert not missing


def test_hardware_versions_consistent(catalog: Catalog) -> None:
    """vmx-3..vmx-22 are listed; releases' maxima never decrease; 'can N run on X' is one lookup."""
    hw = catalog.hardware
    assert sorted(hw.versions) == list(range(3, 23))
    assert hw.max_hw_version("8.0.2") == 21 and hw.max_hw_version("8.0 U1") == 20
    assert hw.max_hw_version("ESXi 7.0 Update 3") == 19 and hw.max_hw_version("6.7.0") == 14
    assert hw.can_run("vmx-19", "7.0.2") and not hw.can_run("vmx-20", "7.0.3")
    assert not hw.can_run(3, "6.7.0")  # vmx-3 not supported on ESXi 5.0 and later
    assert hw.max_hw_version("9.0.1") == 22


def test_generations_point_at_modes(catalog: Catalog) -> None:
    """Every CPU generation's expected maximum mode is a mode of its vendor (or none)."""
    for g in catalog.generations:
        if g.expected_max_evc is not None:
            assert catalog.mode(g.expected_max_evc).vendor == g.vendor


def test_tables_are_canonical_json() -> None:
    """Every shipped table is valid JSON, indented with two spaces, ending in a newline."""
    for path in sorted(data_dir().glob("*.json")):
        text = path.read_text(encoding="utf-8")
        assert text.endswith("\n"), path.name
        json.loads(text)


def test_pairwise_modes_of_a_vendor_are_comparable_or_on_other_tracks(catalog: Catalog) -> None:
    """Two modes sharing a track are ordered by inclusion the same way as by tier."""
    for a, b in combinations(catalog.modes, 2):
        if a.vendor == b.vendor and set(a.tracks) & set(b.tracks):
            lo, hi = sorted((a, b), key=lambda m: m.tier)
            assert lo.features <= hi.features


def test_a_containing_mode_never_has_a_lower_tier(catalog: Catalog) -> None:
    """A mode whose baseline contains another's (same vendor) never has a lower tier (vSphere's superset rule)."""
    for a in catalog.modes:
        for b in catalog.modes:
            if a is not b and a.vendor == b.vendor and b.features <= a.features:
                assert a.tier > b.tier, f"{a.key} contains {b.key} but its tier {a.tier} is not above {b.tier}"


def test_amd_kb_levels_follow_kb_1003212(catalog: Catalog) -> None:
    """KB 1003212: A0-A3 on the first three Opteron generations; no-3DNow! is common to both sequences (A2 = B0)."""
    levels = {m.key: m.kb_level for m in catalog.modes.for_vendor("amd")}
    assert [levels[k] for k in ("amd-rev-e", "amd-rev-f", "amd-greyhound-no3dnow", "amd-greyhound")] == ["A0", "A1", "A2/B0", "A3"]
    assert [levels[k] for k in AMD[4:]] == [f"B{i}" for i in range(1, 9)]
    assert catalog.mode("amd-greyhound").tier > catalog.mode("amd-greyhound-no3dnow").tier


def test_pdpe1gb_from_broadwell_up(catalog: Catalog) -> None:
    """1 GB pages are in the real Broadwell-level requirement list, not in the Westmere/Sandy Bridge masks."""
    for key in INTEL:
        has = "pdpe1gb" in catalog.mode(key).features
        assert has == (INTEL.index(key) >= INTEL.index("intel-broadwell")), key
    assert "pdpe1gb" not in catalog.mode("intel-broadwell").unconfirmed


def test_amd_zen_string_and_address_features(catalog: Catalog) -> None:
    """ERMS from Zen 3; AMD fast short STOSB/CMPSB and upper-address-ignore in Zen 4; fast REP SCASB in Zen 5 (unconfirmed); no PCID."""
    def has(key: str, name: str) -> bool:
        return name in catalog.mode(key).features
    assert not has("amd-zen2", "enfstrg") and has("amd-zen3", "enfstrg")
    for name in ("amd_fast_short_stosb", "amd_fast_short_cmpsb", "upper_address_ignore"):
        assert not has("amd-zen3", name) and has("amd-zen4", name) and has("amd-zen5", name)
    assert not has("amd-zen4", "fast_rep_scasb") and has("amd-zen5", "fast_rep_scasb")
    assert "fast_rep_scasb" in catalog.mode("amd-zen5").unconfirmed
    assert not any(has(k, "pcid") for k in AMD)


@pytest.mark.parametrize(("key", "esxi"), [("intel-icelake", (7, 0, 2)), ("amd-zen2", (7, 0, 0)),
                                           ("amd-zen3", (7, 0, 2)), ("amd-zen4", (8, 0, 1))])
def test_modes_introduced_by_a_release_are_capped_by_it(catalog: Catalog, key: str, esxi: tuple[int, int, int]) -> None:
    """A mode whose 'introduced' names an ESXi-era release carries that cap (an older ESXi does not offer it)."""
    assert catalog.mode(key).esxi_min == esxi


def test_every_mode_from_vsphere_7_on_has_an_esxi_cap(catalog: Catalog) -> None:
    """Modes introduced with vCenter 6.7 or later all have an ESXi cap (never null)."""
    for m in catalog.modes:
        rel = m.introduced or ""
        if any(v in rel for v in ("6.7", "7.0", "8.0", "9.0")) and "or" not in rel:
            assert m.esxi_min is not None, m.key


def test_zen5_on_esxi_7_0_3_is_capped_below_zen4(capsys: pytest.CaptureFixture[str]) -> None:
    """`evckit host --cpu "EPYC 9575F" --esxi 7.0.3`: Zen 4 needs ESXi 8.0 U1, so the answer is amd-zen3."""
    from evckit.cli import main  # noqa: PLC0415

    assert main(["host", "--cpu", "EPYC 9575F", "--esxi", "7.0.3", "--format", "json"]) == 0
    host = json.loads(capsys.readouterr().out)["hosts"][0]
    assert host["max_evc_mode"] == "amd-zen3"
    assert set(host["esxi_limited"]) == {"amd-zen4", "amd-zen5"}
