"""EVC mode definitions as a vCenter itself reports them (``capability.supportedEVCMode``).

When a snapshot carries them they govern that vCenter's objects instead of the shipped tables: they are
first-hand data for that vCenter build, where the shipped baselines are partly unconfirmed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from evckit.catalog import Catalog
from evckit.errors import InputError
from evckit.modes import EvcMode, ModeTable

__all__ = ["modes_from_vcenter"]


def modes_from_vcenter(defs: Sequence[Any], catalog: Catalog, vcenter: str) -> ModeTable:
    """Build a `ModeTable` from vCenter ``EVCMode`` objects (as JSON: key, label, vendor, vendorTier,
    track, featureCapability, featureRequirement), over the shipped modes it does not redefine.
    Raises `InputError` on a malformed definition."""
    if not isinstance(defs, list):
        raise InputError("must be a list of EVCMode objects")
    reg = catalog.features
    modes: list[EvcMode] = []
    for i, d in enumerate(defs):
        if not isinstance(d, dict) or not isinstance(d.get("key"), str):
            raise InputError(f"[{i}]: needs at least 'key'")
        key = d["key"].lower()
        entries = d.get("featureCapability") or d.get("featureRequirement") or []
        if not isinstance(entries, list):
            raise InputError(f"[{i}] ({key}): featureCapability must be a list")
        mask = 0
        for e in entries:
            if not isinstance(e, dict) or "key" not in e:
                raise InputError(f"[{i}] ({key}): feature entries need 'key' and 'value'")
            f = reg.by_vsphere_key(str(e["key"]))
            value = str(e.get("value", "")).rsplit(":", 1)[-1]
            try:
                on = int(value, 0) != 0
            except ValueError:
                on = value.upper() == "TRUE"
            if f is not None and f.kind != "vendor" and on:
                mask |= f.bit
        builtin = catalog.modes.get(key) if key in catalog.modes else None
        vendor = str(d.get("vendor") or (builtin.vendor if builtin else "")).lower()
        if vendor not in ("intel", "amd"):
            raise InputError(f"[{i}] ({key}): vendor {d.get('vendor')!r} is not intel or amd")
        tier = d.get("vendorTier")
        # Order and tracks stay those of the shipped mode of the same key, so that modes from both
        # sources sort and step up consistently; a key evckit does not ship keeps vCenter's own.
        modes.append(EvcMode(
            key=key,
            label=str(d.get("label") or (builtin.label if builtin else key)),
            vendor=vendor,
            tier=builtin.tier if builtin else (int(tier) if isinstance(tier, int) else 100 + i),
            tracks=builtin.tracks if builtin else tuple(d.get("track") or ("vcenter",)),
            features=reg.feature_set(mask),
            required=mask & ~reg.any_mask,
            unconfirmed=reg.feature_set(0),
            confidence="confirmed",
            sources=(f"vCenter {vcenter} capability.supportedEVCMode",),
            label_confidence="confirmed",
            origin=vcenter,
        ))
    defined = {m.key for m in modes}
    # Keys the vCenter does not define keep the shipped definition (a snapshot may carry only some).
    return ModeTable(reg, [*modes, *(m for m in catalog.modes if m.key not in defined)])
