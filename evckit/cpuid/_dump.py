"""What a CPU data reader returns: raw CPUID registers, or named feature flags with an identity.

Readers never decide which features a CPU has; they only report what their input says, and what it
leaves unknown. Turning that into a `FeatureSet` is the catalog's job (`evckit.profiles`).
"""

from __future__ import annotations

from collections.abc import Mapping

import attrs

__all__ = ["REGISTERS", "CpuidDump", "NamedFeatures", "Regs"]

#: Register order of every 4-tuple in a dump.
REGISTERS = ("eax", "ebx", "ecx", "edx")

#: (eax, ebx, ecx, edx) of one CPUID leaf/subleaf.
Regs = tuple[int, int, int, int]


@attrs.frozen
class CpuidDump:
    """Raw CPUID output of one logical CPU.

    Attributes:
        source: where it came from (a path or a label), used in every message.
        format: reader name, e.g. ``"libvirt-xml"``, ``"cpuid-r"``, ``"aida64"``, ``"vsphere-cpuidinfo"``.
        leaves: ``(leaf, subleaf) -> (eax, ebx, ecx, edx)``. A leaf without subleaves is stored at
            subleaf 0. A leaf/subleaf absent from this mapping was not captured: unknown, not zero.
        unknown_bits: ``(leaf, subleaf) -> masks`` of bits whose value the input does not give
            (vSphere writes ``-`` for them). Bits not masked here are known.
        notes: facts about the input a user should see, e.g. that a source has no subleaf data.
        comment: free text that came with the dump (libvirt's first-line comment), if any.
    """

    source: str
    format: str
    leaves: Mapping[tuple[int, int], Regs]
    unknown_bits: Mapping[tuple[int, int], Regs] = attrs.field(factory=dict)
    notes: tuple[str, ...] = ()
    comment: str | None = None


@attrs.frozen
class NamedFeatures:
    """Feature flags by name, as vSphere or Linux report them, plus what the input says of identity.

    Attributes:
        source: where it came from (a path or a label).
        format: reader name, ``"vsphere-capability"`` or ``"proc-cpuinfo"``.
        namespace: ``"vsphere"`` (keys like ``cpuid.aes``, lower-cased) or ``"linux"`` (``/proc/cpuinfo``
            flags).
        values: key or flag -> integer value (flags are 1). Keys are lower-case.
        vendor: ``"intel"``, ``"amd"``, ``"hygon"``, other lower-case vendor word, or None if unknown.
        family / model / stepping: display values, or None.
        brand: the model-name string, or None.
        hypervisor: True when the data says it was taken inside a VM, None if it does not say.
        notes: facts about the input a user should see.
    """

    source: str
    format: str
    namespace: str
    values: Mapping[str, int]
    vendor: str | None = None
    family: int | None = None
    model: int | None = None
    stepping: int | None = None
    brand: str | None = None
    hypervisor: bool | None = None
    notes: tuple[str, ...] = ()
