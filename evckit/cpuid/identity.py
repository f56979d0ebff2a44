"""Identity facts decoded from raw CPUID: vendor, brand, display family/model/stepping, hypervisor.

Shared by every raw-dump reader and by callers that need to name a CPU. Each function returns None
when the leaves it needs were not captured (or hold unknown bits), never a guess.
"""

from __future__ import annotations

from collections.abc import Mapping

from evckit.cpuid._dump import CpuidDump, Regs
from evckit.errors import InputError

__all__ = [
    "brand_string",
    "hypervisor",
    "hypervisor_vendor",
    "require_leaf0",
    "signature",
    "vendor_string",
]

_ALL = 0xFFFFFFFF


def _known(dump: CpuidDump, key: tuple[int, int], regs: tuple[int, ...]) -> Regs | None:
    """Return the registers of ``key`` if captured and the registers at ``regs`` are fully known."""
    value = dump.leaves.get(key)
    if value is None:
        return None
    unknown = dump.unknown_bits.get(key)
    if unknown is not None and any(unknown[i] for i in regs):
        return None
    return value


def _text(words: list[int]) -> str:
    """Decode little-endian 32-bit words as the bytes CPUID packs text into."""
    raw = b"".join((w & _ALL).to_bytes(4, "little") for w in words)
    return raw.decode("latin-1")


def vendor_string(dump: CpuidDump) -> str | None:
    """Return the 12-character vendor string of leaf 0 (EBX, EDX, ECX), e.g. ``"GenuineIntel"``."""
    regs = _known(dump, (0, 0), (1, 2, 3))
    if regs is None:
        return None
    return _text([regs[1], regs[3], regs[2]]).strip("\x00")


def brand_string(dump: CpuidDump) -> str | None:
    """Return the brand string of leaves 0x80000002-4, cut at the first NUL and stripped of spaces.

    Returns ``""`` when those leaves are present but empty (pre-production parts), None when the CPU
    does not implement them or the dump did not capture them.
    """
    top = _known(dump, (0x80000000, 0), (0,))
    if top is not None and not 0x80000004 <= top[0] <= 0x8000FFFF:
        return None
    words: list[int] = []
    for leaf in (0x80000002, 0x80000003, 0x80000004):
        regs = _known(dump, (leaf, 0), (0, 1, 2, 3))
        if regs is None:
            return None
        words.extend(regs)
    return _text(words).split("\x00", 1)[0].strip(" ")


def signature(dump: CpuidDump) -> tuple[int, int, int] | None:
    """Return the display (family, model, stepping) decoded from leaf 1 EAX, as vendors print them.

    Family adds the extended family when the base family is 0xF; model adds the extended model
    when the base family is 6 or 0xF (Intel's and AMD's rules agree on every shipped part).
    """
    regs = _known(dump, (1, 0), (0,))
    if regs is None:
        return None
    eax = regs[0]
    base_family = (eax >> 8) & 0xF
    family = base_family + ((eax >> 20) & 0xFF) if base_family == 0xF else base_family
    model = (eax >> 4) & 0xF
    if base_family in (0x6, 0xF):
        model += ((eax >> 16) & 0xF) << 4
    return family, model, eax & 0xF


def hypervisor(dump: CpuidDump) -> bool | None:
    """Return leaf 1 ECX bit 31 (set by hypervisors for their guests), None when it is unknown."""
    regs = dump.leaves.get((1, 0))
    if regs is None:
        return None
    unknown = dump.unknown_bits.get((1, 0))
    if unknown is not None and unknown[2] >> 31 & 1:
        return None
    return bool(regs[2] >> 31 & 1)


def hypervisor_vendor(dump: CpuidDump) -> str | None:
    """Return the hypervisor signature of leaf 0x40000000 (e.g. ``"KVMKVMKVM"``, ``"VMwareVMware"``).

    Only trusted when the hypervisor bit is set: on bare metal, out-of-range leaves return the
    data of another leaf, which would read as a bogus signature.
    """
    if not hypervisor(dump):
        return None
    regs = _known(dump, (0x40000000, 0), (1, 2, 3))
    if regs is None:
        return None
    name = _text([regs[1], regs[2], regs[3]]).strip("\x00 ")
    if not name or not name.isprintable():
        return None
    return name


def require_leaf0(leaves: Mapping[tuple[int, int], Regs], source: str, kind: str) -> None:
    """Raise InputError unless ``leaves`` holds leaf 0, which every dump needs (vendor, max leaf)."""
    if (0, 0) not in leaves:
        msg = (
            f"{source}: {kind} has no CPUID leaf 0 (vendor and maximum leaf): "
            "the dump is truncated or incomplete"
        )
        raise InputError(msg)
