"""The catalog: every shipped table, loaded and cross-checked once into one explicit object.

``Catalog.builtin()`` loads the tables shipped with evckit (cached: they never change at run time);
``Catalog.load(directory)`` loads another copy, e.g. tables under review. A broken table raises one
`DataError` that lists every problem with its file and location.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from evckit._resources import data_dir
from evckit._problems import ProblemCollector
from evckit.errors import DataError, InputError
from evckit.features import REGISTER_INDEX, CpuidPosition, Feature, FeatureRegistry, FeatureSet
from evckit.hardware import EsxiRelease, HardwareTable, HardwareVersion, parse_esxi_version
from evckit.identify import GenerationTable
from evckit.modes import EvcMode, FeatureGroup, ModeTable

#: CPUID vendor strings (leaf 0, vSphere's ``cpuid.Intel``-style vendor features) -> evckit's vendor
#: words. The one vendor table: readers, CPU profiles and VM requirements all read it. EVC modes exist
#: for "intel" and "amd" only.
VENDORS: Mapping[str, str] = {
    "GenuineIntel": "intel",
    "AuthenticAMD": "amd",
    "HygonGenuine": "hygon",
    "CentaurHauls": "centaur",
    "  Shanghai  ": "zhaoxin",
    "CyrixInstead": "cyrix",
    "VIA VIA VIA ": "via",
}


def vendor_word(vendor_string: str | None) -> str | None:
    """The vendor word of a CPUID vendor string (``GenuineIntel`` -> ``intel``); a string the table does
    not list is lower-cased, an empty one is None."""
    if vendor_string is None:
        return None
    return VENDORS.get(vendor_string, vendor_string.strip().lower() or None)

__all__ = ["Catalog"]

FEATURES_FILE = "features.json"
MODES_FILE = "evc_modes.json"
HARDWARE_FILE = "hardware_versions.json"
GENERATIONS_FILE = "cpu_generations.json"

CONFIDENCE = ("confirmed", "unconfirmed")
KINDS = ("cpuid", "microcode", "xcr0", "xss", "vendor")
_NAME = re.compile(r"^[a-z0-9_]+$")
_KEY = re.compile(r"^[a-z]+(-[a-z0-9]+)+$")


def _read_json(path: Path, problems: ProblemCollector) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.add(path.name, "", "file missing")
    except (OSError, UnicodeDecodeError) as exc:
        problems.add(path.name, "", f"cannot read: {exc}")
    except json.JSONDecodeError as exc:
        problems.add(path.name, f"line {exc.lineno} column {exc.colno}", f"invalid JSON: {exc.msg}")
    return None


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value, 0)
        except ValueError:
            return None
    return None


def _sources(
    row: Mapping[str, Any], field: str, known: Mapping[str, Any], problems: ProblemCollector, file: str, where: str
) -> tuple[str, ...]:
    ids = row.get(field) or []
    if not isinstance(ids, list):
        problems.add(file, where, f"{field} must be a list of source ids")
        return ()
    for s in ids:
        if s not in known:
            problems.add(file, where, f"source {s!r} is not defined in 'sources'")
    return tuple(ids)


def _load_features(obj: Any, problems: ProblemCollector) -> FeatureRegistry:
    file = FEATURES_FILE
    if not isinstance(obj, dict) or not isinstance(obj.get("features"), list):
        problems.add(file, "", "expected an object with a 'features' list")
        return FeatureRegistry(())
    known = obj.get("sources") or {}
    features: list[Feature] = []
    seen_keys: dict[str, str] = {}
    positions: dict[tuple[int, int, str, int], list[tuple[str, str | None]]] = {}
    shares: dict[str, str] = {}
    for i, row in enumerate(obj["features"]):
        where = f"features[{i}]"
        if not isinstance(row, dict):
            problems.add(file, where, "expected an object")
            continue
        name = row.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            problems.add(file, where, f"bad or missing name {name!r}")
            continue
        where = f"features[{i}] ({name})"
        kind = row.get("kind")
        if kind not in KINDS:
            problems.add(file, where, f"kind {kind!r} is not one of {', '.join(KINDS)}")
        keys = row.get("vsphere_keys") or []
        if not keys or not all(isinstance(k, str) for k in keys):
            problems.add(file, where, "vsphere_keys must list at least one key")
            keys = []
        for k in keys:
            prev = seen_keys.setdefault(k.lower(), name)
            if prev != name:
                problems.add(file, where, f"vSphere key {k!r} is also given to {prev!r}")
        cpuid: list[CpuidPosition] = []
        for j, pos in enumerate(row.get("cpuid") or []):
            pw = f"{where} cpuid[{j}]"
            leaf, sub, bit = _int(pos.get("leaf")), _int(pos.get("subleaf")), _int(pos.get("bit"))
            reg, vendor = pos.get("register"), pos.get("vendor")
            if leaf is None or sub is None or bit is None or not 0 <= bit <= 31 or reg not in REGISTER_INDEX:
                problems.add(file, pw, f"bad CPUID position {pos!r}")
                continue
            if vendor not in (None, "intel", "amd"):
                problems.add(file, pw, f"vendor must be null, 'intel' or 'amd', not {vendor!r}")
                continue
            cpuid.append(CpuidPosition(leaf, sub, reg, bit, vendor))
        component = row.get("xsave_component")
        if kind in ("xcr0", "xss"):
            comp = _int(component)
            if comp is None or not 0 <= comp <= 63:
                problems.add(file, where, "an XSAVE state component needs an integer xsave_component 0..63")
            else:
                # CPUID leaf 0xD enumerates the supported components: subleaf 0 for XCR0, subleaf 1
                # (ECX/EDX) for IA32_XSS. That is where a dump says whether the CPU has the state.
                sub, reg = (0, "eax" if comp < 32 else "edx") if kind == "xcr0" else (1, "ecx" if comp < 32 else "edx")
                cpuid.append(CpuidPosition(0xD, sub, reg, comp % 32, None))
        elif kind in ("cpuid", "microcode") and not cpuid:
            problems.add(file, where, "a cpuid feature needs at least one CPUID position")
        if kind == "vendor" and not isinstance(row.get("vendor_string"), str):
            problems.add(file, where, "a vendor feature needs vendor_string")
        if row.get("monitor_support") not in (None, "YES", "ANY", "NO"):
            problems.add(file, where, f"monitor_support {row.get('monitor_support')!r} is not YES, ANY, NO or null")
        if row.get("confidence") not in CONFIDENCE:
            problems.add(file, where, f"confidence must be one of {CONFIDENCE}")
        srcs = _sources(row, "sources", known, problems, file, where)
        if not srcs:
            problems.add(file, where, "no source given")
        if isinstance(row.get("shares_bit_with"), str):
            shares[name] = row["shares_bit_with"]
        for p in cpuid:
            positions.setdefault((p.leaf, p.subleaf, p.register, p.bit), []).append((name, p.vendor))
        features.append(
            Feature(
                name=name,
                index=len(features),
                label=str(row.get("label") or name),
                kind=str(kind),
                vsphere_keys=tuple(keys),
                linux=row.get("linux"),
                libvirt=row.get("libvirt"),
                cpuid=tuple(cpuid),
                xsave_component=_int(component),
                vendor_string=row.get("vendor_string"),
                monitor_support=row.get("monitor_support"),
                hw_version=_int(row.get("hw_version")),
                sources=srcs,
                confidence=str(row.get("confidence")),
                note=row.get("note"),
            )
        )
    names = [f.name for f in features]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        problems.add(file, "", f"feature name {dup!r} is used more than once")
    for (leaf, sub, reg, bit), owners in sorted(positions.items()):
        for a in range(len(owners)):
            for b in range(a + 1, len(owners)):
                (na, va), (nb, vb) = owners[a], owners[b]
                overlap = va is None or vb is None or va == vb
                declared = shares.get(na) == nb or shares.get(nb) == na
                if na != nb and overlap and not declared:
                    problems.add(file, "", f"{na!r} and {nb!r} share CPUID {leaf:#x}.{sub} {reg.upper()}[{bit}]")
    for name, other in shares.items():
        if other not in names:
            problems.add(file, name, f"shares_bit_with names unknown feature {other!r}")
    return FeatureRegistry(features)


def _load_modes(obj: Any, registry: FeatureRegistry, problems: ProblemCollector) -> ModeTable:
    file = MODES_FILE
    if not isinstance(obj, dict) or not isinstance(obj.get("modes"), list):
        problems.add(file, "", "expected an object with a 'modes' list")
        return ModeTable(registry, ())
    known = obj.get("sources") or {}
    rows: dict[str, tuple[int, dict[str, Any]]] = {}
    for i, row in enumerate(obj["modes"]):
        key = row.get("key") if isinstance(row, dict) else None
        if not isinstance(key, str) or not _KEY.match(key):
            problems.add(file, f"modes[{i}]", f"bad or missing key {key!r}")
            continue
        if key in rows:
            problems.add(file, f"modes[{i}]", f"duplicate mode key {key!r}")
            continue
        rows[key] = (i, row)

    def names_mask(names: object, where: str) -> int:
        if not isinstance(names, list):
            problems.add(file, where, "features must be a list of feature names")
            return 0
        mask = 0
        for n in names:
            f = registry.get(n) if isinstance(n, str) else None
            if f is None:
                problems.add(file, where, f"unknown feature {n!r}")
            else:
                mask |= f.bit
        return mask

    built: dict[str, EvcMode] = {}
    building: set[str] = set()

    def build(key: str) -> EvcMode | None:
        if key in built:
            return built[key]
        if key in building:
            problems.add(file, key, "base chain loops back to itself")
            return None
        building.add(key)
        i, row = rows[key]
        where = f"modes[{i}] ({key})"
        vendor = row.get("vendor")
        if vendor not in ("intel", "amd"):
            problems.add(file, where, f"vendor {vendor!r} is not 'intel' or 'amd'")
        features = unconfirmed = 0
        base_key = row.get("base")
        if base_key is not None:
            base = build(base_key) if base_key in rows else None
            if base_key not in rows:
                problems.add(file, where, f"base {base_key!r} is not a mode")
            if base is not None:
                if base.vendor != vendor:
                    problems.add(file, where, f"base {base_key!r} is of another vendor")
                features, unconfirmed = base.features.mask, base.unconfirmed.mask
        groups: dict[str, list[FeatureGroup]] = {"add": [], "remove": []}
        confirmed = True
        for part in ("add", "remove"):
            for j, grp in enumerate(row.get(part) or []):
                gw = f"{where} {part}[{j}]"
                mask = names_mask(grp.get("features"), gw)
                conf = grp.get("confidence")
                if conf not in CONFIDENCE:
                    problems.add(file, gw, f"confidence must be one of {CONFIDENCE}")
                srcs = _sources(grp, "sources", known, problems, file, gw)
                if not srcs:
                    problems.add(file, gw, "no source given")
                if part == "add":
                    if mask & features:
                        problems.add(file, gw, f"adds features already in the base: {', '.join(registry.names(mask & features))}")
                    features |= mask
                    if conf != "confirmed":
                        unconfirmed |= mask
                else:
                    if mask & ~features:
                        problems.add(file, gw, f"removes features not in the base: {', '.join(registry.names(mask & ~features))}")
                    features &= ~mask
                    unconfirmed &= ~mask
                    confirmed = confirmed and conf == "confirmed"
                groups[part].append(FeatureGroup(FeatureSet(registry, mask), str(conf), srcs, str(grp.get("evidence") or "")))
        intro = row.get("introduced") or {}
        sources = set(_sources(row, "key_sources", known, problems, file, where))
        for grp in groups["add"] + groups["remove"]:
            sources.update(grp.sources)
        intro_sources = _sources(intro, "sources", known, problems, file, f"{where} introduced")
        esxi_min = None
        if intro.get("esxi") is not None:
            try:
                esxi_min = parse_esxi_version(str(intro["esxi"]))
            except InputError:
                problems.add(file, f"{where} introduced", f"bad ESXi version {intro['esxi']!r}")
        tier = _int(row.get("tier"))
        if tier is None:
            problems.add(file, where, "tier must be an integer")
        tracks = row.get("tracks")
        if not isinstance(tracks, list) or not tracks:
            problems.add(file, where, "tracks must list at least one track")
            tracks = []
        mode = EvcMode(
            key=key,
            label=str(row.get("label") or key),
            vendor=str(vendor),
            tier=tier or 0,
            tracks=tuple(tracks),
            features=FeatureSet(registry, features),
            required=features & ~registry.any_mask,
            unconfirmed=FeatureSet(registry, unconfirmed),
            confidence="confirmed" if confirmed and not unconfirmed else "unconfirmed",
            sources=tuple(sorted(sources)),
            base=base_key,
            added=tuple(groups["add"]),
            removed=tuple(groups["remove"]),
            label_confidence=str(row.get("label_confidence") or "unconfirmed"),
            kb_level=row.get("kb_level"),
            key_sources=tuple(row.get("key_sources") or ()),
            introduced=intro.get("release"),
            introduced_confidence=str(intro.get("confidence") or "unconfirmed"),
            introduced_sources=intro_sources,
            esxi_min=esxi_min,
            note=row.get("note"),
        )
        built[key] = mode
        building.discard(key)
        return mode

    for key in rows:
        build(key)
    tiers: dict[tuple[str, int], str] = {}
    for m in built.values():
        other = tiers.setdefault((m.vendor, m.tier), m.key)
        if other != m.key:
            problems.add(file, m.key, f"tier {m.tier} is also used by {other!r}")
    excluded = obj.get("not_in_baselines") or {}
    excl_mask = names_mask(excluded.get("features") or [], "not_in_baselines")
    microcode = registry.microcode_mask
    for name in registry.names(excl_mask & ~microcode):
        problems.add(file, "not_in_baselines", f"{name!r} is not of kind microcode in {FEATURES_FILE}")
    for m in built.values():
        if m.features.mask & excl_mask:
            problems.add(file, m.key, f"contains {', '.join(registry.names(m.features.mask & excl_mask))}, listed in not_in_baselines")
        if m.features.mask & microcode & ~excl_mask:
            problems.add(file, m.key, f"contains {', '.join(registry.names(m.features.mask & microcode & ~excl_mask))}: "
                         "microcode decides them, no EVC baseline holds them")
    return ModeTable(registry, built.values())


def _load_hardware(obj: Any, problems: ProblemCollector) -> HardwareTable:
    file = HARDWARE_FILE
    if not isinstance(obj, dict):
        problems.add(file, "", "expected an object")
        return HardwareTable((), ())
    known = obj.get("sources") or {}
    versions = []
    for i, row in enumerate(obj.get("hardware_versions") or []):
        where = f"hardware_versions[{i}]"
        v = _int(row.get("version"))
        if v is None:
            problems.add(file, where, "version must be an integer")
            continue
        versions.append(
            HardwareVersion(v, row.get("introduced_in"), bool(row.get("esx")),
                            _sources(row, "sources", known, problems, file, where),
                            str(row.get("confidence")), row.get("note"))
        )
    releases = []
    for i, row in enumerate(obj.get("releases") or []):
        where = f"releases[{i}]"
        try:
            version = parse_esxi_version(str(row.get("release")))
        except Exception:  # noqa: BLE001 - reported as a data problem
            problems.add(file, where, f"bad release {row.get('release')!r}")
            continue
        hi, lo = _int(row.get("max_hw_version")), row.get("min_hw_version")
        if hi is None:
            problems.add(file, where, "max_hw_version must be an integer")
            continue
        releases.append(
            EsxiRelease(str(row["release"]), str(row.get("label")), version, hi, _int(lo),
                        _sources(row, "sources", known, problems, file, where), str(row.get("confidence")))
        )
    table = HardwareTable(versions, releases)
    nums = [v.version for v in versions]
    if len(set(nums)) != len(nums):
        problems.add(file, "hardware_versions", "a version is listed twice")
    if nums != sorted(nums):
        problems.add(file, "hardware_versions", "versions are not in increasing order")
    prev = None
    for r in table.releases:
        hv = table.versions.get(r.max_hw_version)
        if hv is None or not hv.esx:
            problems.add(file, r.release, f"max_hw_version {r.max_hw_version} is not an ESX hardware version")
        if prev is not None and r.max_hw_version < prev.max_hw_version:
            problems.add(file, r.release, "a later release runs a lower maximum hardware version")
        prev = r
    return table


@attrs.frozen(eq=False)
class Catalog:
    """Every table evckit knows: features, EVC modes, hardware versions, CPU generations.

    Attributes:
        directory: where the tables were read from.
        features: the feature registry (one bit per feature).
        modes: the EVC modes.
        hardware: virtual hardware versions and ESXi releases.
        generations: CPU identification (signatures and product names to generation).
        mitigations: the microcode-dependent features (kind ``microcode`` in features.json:
            speculative-execution controls such as MD_CLEAR, IBRS/IBPB, STIBP, SSBD, L1D flush, and
            firmware-hidden MONITOR/MWAIT). A host's microcode and firmware decide them, not its CPU model,
            so no shipped baseline holds them and an EVC cluster passes them through.
        revisions: each table's own data revision, by file name.
    """

    directory: Path
    features: FeatureRegistry
    modes: ModeTable
    hardware: HardwareTable
    generations: GenerationTable
    mitigations: FeatureSet
    revisions: Mapping[str, str]
    sources: Mapping[str, Mapping[str, Any]]

    @classmethod
    @functools.cache
    def builtin(cls) -> Catalog:
        """The tables shipped with evckit, loaded once per process."""
        return cls.load(data_dir())

    @classmethod
    def load(cls, directory: str | Path) -> Catalog:
        """Load and cross-check the tables in ``directory``; raise `DataError` listing every problem."""
        directory = Path(directory)
        problems = ProblemCollector()
        raw = {name: _read_json(directory / name, problems)
               for name in (FEATURES_FILE, MODES_FILE, HARDWARE_FILE, GENERATIONS_FILE)}
        registry = _load_features(raw[FEATURES_FILE], problems)
        modes = _load_modes(raw[MODES_FILE], registry, problems) if raw[FEATURES_FILE] else ModeTable(registry, ())
        hardware = _load_hardware(raw[HARDWARE_FILE], problems)
        generations = GenerationTable("", {}, (), (), ())
        if raw[GENERATIONS_FILE] is not None:
            try:
                generations = GenerationTable.from_json(raw[GENERATIONS_FILE], GENERATIONS_FILE,
                                                        mode_keys=[m.key for m in modes])
            except DataError as exc:
                problems.extend(exc.problems)
        for gen in generations:
            if gen.expected_max_evc is not None and gen.expected_max_evc not in modes:
                problems.add(GENERATIONS_FILE, gen.key, f"expected_max_evc {gen.expected_max_evc!r} is not a mode")
        problems.raise_if_any(DataError)
        mitigations = registry.feature_set(registry.microcode_mask)
        revisions = {n: str(o.get("revision")) for n, o in raw.items() if isinstance(o, dict)}
        sources: dict[str, Mapping[str, Any]] = {}
        for o in raw.values():
            if isinstance(o, dict):
                sources.update(o.get("sources") or {})
        return cls(directory, registry, modes, hardware, generations, mitigations, revisions, sources)

    def mode(self, key: str) -> EvcMode:
        """The EVC mode of a key; raises `UnknownModeError` with close matches."""
        return self.modes.get(key)
