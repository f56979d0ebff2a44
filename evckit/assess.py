"""Assessment: which EVC modes a CPU profile runs, its maximum, what it lacks for the next mode up,
and the modes several CPUs (a cluster) have in common.

A mode that needs a feature the profile leaves unknown is reported as undetermined, never as
supported or unsupported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from evckit.catalog import Catalog
from evckit.features import FeatureSet
from evckit.hardware import EsxiVersion, parse_esxi
from evckit.modes import EvcMode, ModeTable
from evckit.profiles import CpuProfile

__all__ = ["CommonModes", "HostVerdict", "assess", "common_modes"]


@attrs.frozen
class HostVerdict:
    """Which EVC modes one CPU runs, its maximum, and why it cannot go higher.

    Attributes:
        supported: every mode the CPU runs, lowest first.
        max_modes: the supported modes no other supported mode contains (usually one).
        max_mode: the highest of ``max_modes``, or None (no mode, e.g. an unsupported vendor).
        missing_for_next: next mode up -> features it needs that the CPU lacks.
        undetermined: modes whose answer depends on unknown features -> those features.
        reason: why there is no mode at all, when there is none.
        esxi_limited: modes the CPU could run but the host's ESXi release does not offer -> why.
    """

    profile: CpuProfile
    supported: tuple[EvcMode, ...]
    max_modes: tuple[EvcMode, ...]
    max_mode: EvcMode | None
    missing_for_next: Mapping[str, FeatureSet]
    undetermined: Mapping[str, FeatureSet]
    reason: str | None = None
    esxi_limited: Mapping[str, str] = attrs.field(factory=dict)


def _track_starts(vendor_modes: Sequence[EvcMode]) -> list[EvcMode]:
    """The lowest mode of every track (AMD: Rev E for the 3DNow! line, Greyhound-no3DNow for the others)."""
    seen: set[str] = set()
    out: list[EvcMode] = []
    for m in sorted(vendor_modes, key=lambda m: m.tier):
        if any(t not in seen for t in m.tracks) and m not in out:
            out.append(m)
        seen.update(m.tracks)
    return out


def assess(profile: CpuProfile, catalog: Catalog, modes: ModeTable | None = None,
           esxi: str | EsxiVersion | None = None) -> HostVerdict:
    """Every EVC mode a CPU runs, its maximum, what it lacks for each next mode, what is undetermined.

    ``modes`` defaults to the catalog's; pass a vCenter's own definitions to judge by those. ``esxi``,
    the host's ESXi version when known, leaves out modes that release does not offer yet.
    """
    modes = modes or catalog.modes
    parsed = parse_esxi(esxi) if esxi else None
    release = parsed.key if parsed is not None else None
    reg = catalog.features
    vendor_modes = modes.for_vendor(profile.vendor)
    if not vendor_modes:
        what = profile.vendor or "unknown"
        why = (f"CPU vendor {what!r} has no EVC modes: vCenter defines EVC for Intel and AMD only"
               if profile.vendor else "CPU vendor unknown: the data has no CPUID leaf 0 or vendor key")
        return HostVerdict(profile, (), (), None, {}, {}, why)
    present, unknown = profile.present.mask, profile.unknown.mask
    supported: list[EvcMode] = []
    undetermined: dict[str, FeatureSet] = {}
    limited: dict[str, str] = {}
    for m in vendor_modes:
        chk = modes.check(m, present, unknown)
        if chk.status == "yes" and not m.offered_by(release):
            limited[m.key] = f"ESXi {parsed} does not offer it (first offered by ESXi {m.esxi_min_text})"
        elif chk.status == "yes":
            supported.append(m)
        elif chk.status == "unknown":
            undetermined[m.key] = reg.feature_set(chk.undetermined)
    top = modes.maximal(supported)
    missing: dict[str, FeatureSet] = {}
    for nxt in modes.next_modes(supported, profile.vendor) if supported else _track_starts(vendor_modes):
        lacking = nxt.required & ~present
        missing[nxt.key] = reg.feature_set(lacking & ~unknown)
        if lacking & unknown:
            undetermined.setdefault(nxt.key, reg.feature_set(lacking & unknown))
    reason: str | None = None
    if not supported:
        reason = "lacks features of the lowest mode of its vendor" if not undetermined else \
            "the data leaves required features unknown"
    return HostVerdict(profile, tuple(supported), tuple(top), top[0] if top else None, missing,
                       undetermined, reason, limited)


@attrs.frozen
class CommonModes:
    """The EVC modes every one of several CPUs can run (a cluster's), or why there are none."""

    supported: tuple[EvcMode, ...]
    best: EvcMode | None
    undetermined: Mapping[str, int]
    reason: str | None


def common_modes(profiles: Sequence[CpuProfile], modes: ModeTable,
                 releases: Sequence[tuple[int, int, int]] = (),
                 memo: dict[tuple[object, ...], CommonModes] | None = None) -> CommonModes:
    """The modes every CPU runs (one AND over their feature masks), limited to those every ESXi
    release in ``releases`` offers; ``best`` is the highest. Mixed vendors have no common mode.

    ``memo``, a dict the caller keeps while ``modes`` lives, shares one answer between groups of CPUs
    that reduce to the same vendor, features and oldest release (the clusters of an estate repeat).
    """
    vendors = sorted({p.vendor or "unknown" for p in profiles})
    if not profiles:
        return CommonModes((), None, {}, "no hosts")
    if len(vendors) > 1:
        return CommonModes((), None, {}, f"mixed CPU vendors ({', '.join(vendors)}): EVC never mixes Intel and AMD")
    vendor_modes = modes.for_vendor(vendors[0])
    if not vendor_modes:
        return CommonModes((), None, {}, f"CPU vendor {vendors[0]!r} has no EVC modes")
    present, unknown = -1, 0
    for p in profiles:
        present &= p.present.mask
        unknown |= p.unknown.mask
    unknown &= ~present
    oldest = min(releases) if releases else None
    if memo is None:
        return _common(vendor_modes, modes, present, unknown, oldest)
    key = (vendors[0], present, unknown, oldest, modes)
    found = memo.get(key)
    if found is None:
        found = memo[key] = _common(vendor_modes, modes, present, unknown, oldest)
    return found


def _common(vendor_modes: Sequence[EvcMode], modes: ModeTable, present: int, unknown: int,
            oldest: tuple[int, int, int] | None) -> CommonModes:
    supported: list[EvcMode] = []
    undetermined: dict[str, int] = {}
    for m in vendor_modes:
        chk = modes.check(m, present, unknown)
        if chk.status == "yes" and m.offered_by(oldest):
            supported.append(m)
        elif chk.status == "unknown":
            undetermined[m.key] = chk.undetermined
    best = modes.best(supported)
    return CommonModes(tuple(supported), best, undetermined, None if supported else "some host supports no EVC mode")
