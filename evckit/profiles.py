"""CPU profiles: turn CPU data (raw CPUID, vSphere or Linux feature lists, a product name or an EVC
mode key) into what is known about one CPU: its identity, the features present and those unknown.

Unknown is kept apart from absent all the way: a leaf missing from a dump, a ``-`` bit in vSphere's
CPUID strings, or a key a feature list does not mention makes a feature *unknown*. This is the reader
side of the model: judging which EVC modes a profile runs is `evckit.assess`'s job.
"""

from __future__ import annotations

import attrs

from evckit.catalog import Catalog, vendor_word
from evckit.cpuid import CpuidDump, NamedFeatures
from evckit.cpuid.identity import brand_string, hypervisor, hypervisor_vendor, signature, vendor_string
from evckit.features import FeatureSet
from evckit.identify import Generation
from evckit.modes import ModeTable

__all__ = ["CpuProfile", "profile_from_data", "profile_from_mode", "profile_from_name"]


@attrs.frozen
class CpuProfile:
    """What is known about one CPU: identity, features present, features unknown.

    Attributes:
        source: the file, name or label it came from.
        present: features the data shows present.
        unknown: features the data does not tell about (never counted as present or absent).
        assumed: True when the features come from a product name or mode key, not a measurement.
        hypervisor: True when the data was taken inside a VM: a guest's view, not the host's.
    """

    source: str
    input_format: str
    vendor: str | None
    present: FeatureSet
    unknown: FeatureSet
    family: int | None = None
    model: int | None = None
    stepping: int | None = None
    brand: str | None = None
    generation: Generation | None = None
    hypervisor: bool | None = None
    hypervisor_vendor: str | None = None
    assumed: bool = False
    notes: tuple[str, ...] = ()


#: XSAVE state component -> the /proc/cpuinfo flags Linux shows only when the CPU and OS enable it.
XSTATE_FLAGS = {
    "xcr0_master_sse": ("xsave", "sse"),
    "xcr0_master_ymm_h": ("xsave", "avx"),
    "xcr0_master_bndregs": ("xsave", "mpx"),
    "xcr0_master_bndcsr": ("xsave", "mpx"),
    "xcr0_master_opmask": ("xsave", "avx512f"),
    "xcr0_master_zmm_h": ("xsave", "avx512f"),
    "xcr0_master_hi16_zmm": ("xsave", "avx512f"),
    "xcr0_master_pkru": ("xsave", "ospke"),
    "xcr0_master_xtilecfg": ("xsave", "amx_tile"),
    "xcr0_master_xtiledata": ("xsave", "amx_tile"),
}


def _vendor_mask(catalog: Catalog, vendor: str | None) -> int:
    mask = 0
    for f in catalog.features:
        if f.kind == "vendor" and f.vendor_string and vendor_word(f.vendor_string) == vendor:
            mask |= f.bit
    return mask


def profile_from_data(data: CpuidDump | NamedFeatures, catalog: Catalog) -> CpuProfile:
    """Build a profile from whatever a reader returned."""
    if isinstance(data, CpuidDump):
        return _profile_from_dump(data, catalog)
    return _profile_from_named(data, catalog)


def _profile_from_dump(dump: CpuidDump, catalog: Catalog) -> CpuProfile:
    vendor = vendor_word(vendor_string(dump))
    read = catalog.features.read_registers(dump.leaves, vendor, dump.unknown_bits)
    present, unknown = read.present, read.unknown
    lacking = [f"{leaf:#x}.{sub}" for leaf, sub in read.lacking]
    present |= _vendor_mask(catalog, vendor)
    sig = signature(dump)
    family, model, stepping = sig if sig else (None, None, None)
    gen = None
    if vendor and family is not None and model is not None:
        gen = catalog.generations.by_signature(vendor, family, model, stepping)
    notes = list(dump.notes)
    if lacking:
        what = f"leaves {', '.join(lacking)} are" if len(lacking) > 1 else f"leaf {lacking[0]} is"
        notes.append(f"CPUID {what} not in the data: the features there are unknown, not absent")
    hv = hypervisor(dump)
    if hv:
        notes.append("taken inside a virtual machine: this is the guest's view of the CPU, not the host's")
    reg = catalog.features
    return CpuProfile(
        source=dump.source, input_format=dump.format, vendor=vendor,
        present=reg.feature_set(present), unknown=reg.feature_set(unknown & ~present),
        family=family, model=model, stepping=stepping,
        brand=brand_string(dump) or None, generation=gen, hypervisor=hv,
        hypervisor_vendor=hypervisor_vendor(dump) if hv else None, notes=tuple(notes),
    )


def _profile_from_named(data: NamedFeatures, catalog: Catalog) -> CpuProfile:
    reg = catalog.features
    present = unknown = 0
    notes = list(data.notes)
    if data.namespace == "vsphere":
        listed = 0
        for key, value in data.values.items():
            f = reg.by_vsphere_key(key)
            if f is not None:
                listed |= f.bit
                if value:
                    present |= f.bit
        unknown = sum(f.bit for f in reg if not listed & f.bit and f.kind != "vendor")
    else:
        flags = data.values
        for f in reg:
            if f.kind == "vendor":
                continue
            if f.linux is None:
                unknown |= f.bit
            elif f.linux in flags:
                present |= f.bit
        # /proc/cpuinfo lists no XSAVE state components, but Linux clears a flag whose state component
        # the CPU (or the OS) lacks (arch/x86/kernel/fpu/xstate.c, xsave_cpuid_features), so the flag
        # proves the component. Without the flag the component stays unknown.
        for component, needs in XSTATE_FLAGS.items():
            f = reg.get(component)
            if f is not None and all(flag in flags for flag in needs):
                present |= f.bit
        notes.append("from /proc/cpuinfo: a flag the kernel does not list is taken as absent; "
                     "features without a Linux flag are unknown")
    vendor = data.vendor
    present |= _vendor_mask(catalog, vendor)
    gen = None
    if vendor and data.family is not None and data.model is not None:
        gen = catalog.generations.by_signature(vendor, data.family, data.model, data.stepping)
    if data.hypervisor:
        notes.append("taken inside a virtual machine: this is the guest's view of the CPU, not the host's")
    return CpuProfile(
        source=data.source, input_format=data.format, vendor=vendor,
        present=reg.feature_set(present), unknown=reg.feature_set(unknown & ~present),
        family=data.family, model=data.model, stepping=data.stepping, brand=data.brand,
        generation=gen, hypervisor=data.hypervisor, notes=tuple(notes),
    )


#: Said of every assumed profile: what a name or mode key cannot tell.
_MICROCODE_NOTE = ("microcode-dependent features (speculative-execution controls such as MD_CLEAR, SSBD, "
                   "L1D flush; MONITOR/MWAIT) are unknown: only measured host data shows them")


def profile_from_name(name: str, catalog: Catalog) -> CpuProfile:
    """An assumed profile from a product name, brand string or codename (for pre-purchase reviews).

    Its features are the baseline of the generation's expected maximum mode: what the generation is
    expected to guarantee, not a measurement. Microcode-dependent features (speculative-execution
    controls, MONITOR/MWAIT) stay unknown: a model name cannot tell the host's microcode or firmware.
    """
    match = catalog.generations.by_name(name)
    gen = match.generation
    reg = catalog.features
    notes = [f"assumed from the name ({match.matched_form}): features are the expected baseline of "
             f"{gen.label}, not measured", _MICROCODE_NOTE]
    expected = match.expected_max_evc
    if match.max_evc is not None:
        notes.append(match.note or f"this product is expected to reach only {match.max_evc}")
    if expected is None:
        present = _vendor_mask(catalog, gen.vendor)
        notes.append(gen.note or f"{gen.label} has no EVC mode")
    else:
        mode = catalog.mode(expected)
        present = mode.features.mask | _vendor_mask(catalog, gen.vendor)
    return CpuProfile(
        source=name, input_format="cpu-name", vendor=gen.vendor,
        present=reg.feature_set(present), unknown=reg.feature_set(reg.microcode_mask & ~present), brand=name,
        generation=gen, assumed=True, notes=tuple(notes),
    )


def profile_from_mode(key: str, catalog: Catalog, source: str | None = None,
                      modes: ModeTable | None = None) -> CpuProfile:
    """An assumed profile that has exactly one mode's baseline (e.g. vCenter's ``maxEVCModeKey``).

    Microcode-dependent features stay unknown (a mode key cannot tell the host's microcode), except
    those the mode itself holds (a vCenter's own definition, passed as ``modes``, may list them).
    """
    mode = modes.get(key) if modes is not None else catalog.mode(key)
    reg = catalog.features
    present = mode.features.mask | _vendor_mask(catalog, mode.vendor)
    return CpuProfile(
        source=source or key, input_format="evc-mode", vendor=mode.vendor,
        present=reg.feature_set(present), unknown=reg.feature_set(reg.microcode_mask & ~present), assumed=True,
        notes=(f"features assumed from EVC mode {mode.key}", _MICROCODE_NOTE),
    )
