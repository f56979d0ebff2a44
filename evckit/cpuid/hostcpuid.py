"""Reader of vSphere ``HostCpuIdInfo`` lists (``hardware.cpuFeature``, ``hardware.cpuPkg[].cpuFeature``).

Each entry is ``{"level": int, "vendor": str|null, "eax": "0000:0000:…", "ebx", "ecx", "edx"}``.
``level`` is a signed 32-bit int (extended leaves are negative); each register is 32 characters,
bit 31 first, in groups of 4 separated by ``:``; ``-`` marks a bit whose value is not given.
The API has no subleaf, so leaves that have subleaves cannot be attributed and are left unknown.
"""

from __future__ import annotations

from collections.abc import Mapping

from evckit.catalog import VENDORS
from evckit.cpuid._dump import REGISTERS, CpuidDump, Regs
from evckit.cpuid._vsphere_json import loads, lower_keys, object_list
from evckit.cpuid.identity import require_leaf0
from evckit.errors import InputError

__all__ = ["FORMAT", "SUBLEAF_LEAVES", "hostcpuid_from_data", "parse_hostcpuid", "parse_register_string"]

#: Reader name stored in ``CpuidDump.format``.
FORMAT = "vsphere-cpuidinfo"

#: Leaves whose data depends on ECX (the subleaf): their HostCpuIdInfo entries are dropped.
SUBLEAF_LEAVES = frozenset(
    {0x4, 0x7, 0xB, 0xD, 0xF, 0x10, 0x12, 0x14, 0x17, 0x18, 0x1D, 0x1F, 0x20, 0x23, 0x24}
    | {0x8000001D, 0x80000020, 0x80000026}
)



def parse_register_string(text: str) -> tuple[int, int]:
    """Decode a 32-bit vSphere register string into (value, unknown mask); raise ValueError if bad.

    Used by the reader and by anything else that meets vSphere's ``0000:…:----`` notation.
    """
    bits = text.replace(":", "")
    if len(bits) != 32 or any(c not in "01-" for c in bits):
        raise ValueError(text)
    value = int(bits.replace("-", "0"), 2)
    unknown = int("".join("1" if c == "-" else "0" for c in bits), 2)
    return value, unknown


def _level(value: object, source: str, index: int) -> int:
    """Return the unsigned leaf number of a signed 32-bit ``level`` value."""
    if isinstance(value, str):
        try:
            value = int(value, 0)
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, int) or not -(2**31) <= value <= 0xFFFFFFFF:
        raise InputError(f"{source}: entry {index}: 'level' {value!r} is not a 32-bit integer")
    return value & 0xFFFFFFFF


def parse_hostcpuid(text: str, source: str) -> CpuidDump:
    """Parse HostCpuIdInfo JSON text (a list, or an object with ``cpuFeature``) into a dump."""
    return hostcpuid_from_data(loads(text, source), source)


def hostcpuid_from_data(data: object, source: str) -> CpuidDump:
    """Build a dump from decoded HostCpuIdInfo JSON (a list, or an object with ``cpuFeature``).

    Entries with a vendor other than the CPU's own (leaf 0) are masks for another vendor and are
    skipped; subleaf leaves are left unknown with one note each.
    """
    entries = object_list(data, "cpuFeature", "HostCpuIdInfo", source)
    parsed: list[tuple[int, str, Regs, Regs]] = []
    for index, raw in enumerate(entries):
        if not isinstance(raw, Mapping):
            raise InputError(f"{source}: entry {index} is not a JSON object")
        entry = lower_keys(raw)
        if "level" not in entry:
            raise InputError(f"{source}: entry {index} has no 'level'")
        leaf = _level(entry["level"], source, index)
        vendor = entry.get("vendor") or ""
        if not isinstance(vendor, str):
            raise InputError(f"{source}: entry {index}: 'vendor' {vendor!r} is not a string")
        values: list[int] = []
        masks: list[int] = []
        for reg in REGISTERS:
            text = entry.get(reg)
            if text is None:
                values.append(0)
                masks.append(0xFFFFFFFF)
                continue
            if not isinstance(text, str):
                raise InputError(f"{source}: entry {index} (level {leaf:#x}): {reg} {text!r} is not a string")
            try:
                value, unknown = parse_register_string(text)
            except ValueError:
                msg = (
                    f"{source}: entry {index} (level {leaf:#x}): {reg} {text!r} is not 32 characters "
                    "of 0, 1 or - in groups of 4 (truncated?)"
                )
                raise InputError(msg) from None
            values.append(value)
            masks.append(unknown)
        regs: Regs = (values[0], values[1], values[2], values[3])
        mask: Regs = (masks[0], masks[1], masks[2], masks[3])
        parsed.append((leaf, vendor.strip().lower(), regs, mask))

    own_vendor = _own_vendor(parsed)
    leaves: dict[tuple[int, int], Regs] = {}
    unknown_bits: dict[tuple[int, int], Regs] = {}
    notes: list[str] = []
    for leaf, vendor, regs, mask in parsed:
        if vendor and own_vendor is not None and vendor != own_vendor:
            continue
        if leaf in SUBLEAF_LEAVES:
            note = (
                f"vSphere HostCpuIdInfo has no subleaf: leaf {leaf:#x} data cannot be attributed "
                "and is left unknown"
            )
            if note not in notes:
                notes.append(note)
            continue
        key = (leaf, 0)
        if key in leaves and (leaves[key], unknown_bits.get(key)) != (regs, mask if any(mask) else None):
            raise InputError(f"{source}: level {leaf:#x} appears twice with different values")
        leaves[key] = regs
        if any(mask):
            unknown_bits[key] = mask

    require_leaf0(leaves, source, "HostCpuIdInfo list")
    return CpuidDump(
        source=source, format=FORMAT, leaves=leaves, unknown_bits=unknown_bits, notes=tuple(notes)
    )


def _own_vendor(parsed: list[tuple[int, str, Regs, Regs]]) -> str | None:
    """Return ``intel``/``amd``/``hygon`` from a fully known generic leaf 0 entry, if there is one."""
    for leaf, vendor, regs, mask in parsed:
        if leaf == 0 and not vendor and not any(mask[1:]):
            text = b"".join(r.to_bytes(4, "little") for r in (regs[1], regs[3], regs[2]))
            return VENDORS.get(text.decode("latin-1"))
    return None
