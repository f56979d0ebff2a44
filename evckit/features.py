"""CPU features and `FeatureSet`, an immutable bitset over the feature catalog.

Every feature of the catalog owns one bit; a set of features is a Python ``int``. Comparisons on the
hot path are integer ``&``, ``|`` and ``~``; names are produced only at the edges (reports, errors).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping

import attrs

from evckit.errors import InputError

__all__ = ["CpuidPosition", "Feature", "FeatureRegistry", "FeatureSet", "RegisterRead", "iter_bits"]

REGISTER_INDEX = {"eax": 0, "ebx": 1, "ecx": 2, "edx": 3}


def iter_bits(mask: int) -> Iterator[int]:
    """Yield the indices of the set bits of ``mask``, lowest first."""
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


@attrs.frozen
class CpuidPosition:
    """Where a feature bit lives: CPUID leaf/subleaf, register and bit, optionally for one vendor only."""

    leaf: int
    subleaf: int
    register: str
    bit: int
    vendor: str | None = None

    def __str__(self) -> str:
        vendor = f" ({self.vendor})" if self.vendor else ""
        return f"CPUID {self.leaf:#x}.{self.subleaf} {self.register.upper()}[{self.bit}]{vendor}"


@attrs.frozen
class Feature:
    """One CPU feature of the catalog, with the names other tools give it and where CPUID reports it.

    Attributes:
        name: canonical name, the vSphere key suffix in lower case (``cpuid.AVX512F`` -> ``avx512f``).
        index: its bit in every `FeatureSet`.
        kind: ``cpuid``; ``microcode`` (a CPUID bit that microcode or firmware sets, not the CPU model:
            speculative-execution controls, MONITOR/MWAIT); ``xcr0`` or ``xss`` (XSAVE state components);
            or ``vendor``.
        monitor_support: VMware's ``YES`` (host must have it), ``ANY`` (the hypervisor can expose it
            without host support, so it never decides host compatibility), ``NO``, or None.
        hw_version: first virtual hardware version that exposes it to a guest, if known.
    """

    name: str
    index: int
    label: str
    kind: str
    vsphere_keys: tuple[str, ...]
    linux: str | None
    libvirt: str | None
    cpuid: tuple[CpuidPosition, ...]
    xsave_component: int | None
    vendor_string: str | None
    monitor_support: str | None
    hw_version: int | None
    sources: tuple[str, ...]
    confidence: str
    note: str | None = None

    @property
    def bit(self) -> int:
        """This feature's mask: ``1 << index``."""
        return 1 << self.index


class FeatureRegistry:
    """The features of one catalog, in bit order, with lookups by every name they are known by."""

    __slots__ = ("_by_name", "_by_vsphere", "any_mask", "features", "microcode_mask")

    def __init__(self, features: Iterable[Feature]) -> None:
        self.features: tuple[Feature, ...] = tuple(features)
        self._by_name = {f.name: f for f in self.features}
        self._by_vsphere = {k.lower(): f for f in self.features for k in f.vsphere_keys}
        #: Features the hypervisor can expose without host support (VMware ``ANY``).
        self.any_mask: int = sum(f.bit for f in self.features if f.monitor_support == "ANY")
        #: Features of kind ``microcode``: only measured, current host data can tell whether a host has them.
        self.microcode_mask: int = sum(f.bit for f in self.features if f.kind == "microcode")

    def __len__(self) -> int:
        return len(self.features)

    def __iter__(self) -> Iterator[Feature]:
        return iter(self.features)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __getitem__(self, name: str) -> Feature:
        try:
            return self._by_name[name]
        except KeyError:
            raise InputError(f"unknown CPU feature {name!r}") from None

    def get(self, name: str) -> Feature | None:
        """The feature of that canonical name, or None."""
        return self._by_name.get(name)

    def by_vsphere_key(self, key: str) -> Feature | None:
        """The feature of a vSphere key (``cpuid.AES``, ``cpuid.aes``: case does not matter)."""
        return self._by_vsphere.get(key.lower())

    def mask(self, names: Iterable[str]) -> int:
        """The mask of canonical names; an unknown name raises `InputError`."""
        return self._mask(names, self._by_name.get, "CPU feature")

    @staticmethod
    def _mask(items: Iterable[str], lookup: Callable[[str], Feature | None], what: str) -> int:
        mask = 0
        for item in items:
            feature = lookup(item)
            if feature is None:
                raise InputError(f"unknown {what} {item!r}")
            mask |= feature.bit
        return mask

    def names(self, mask: int) -> tuple[str, ...]:
        """The canonical names of a mask, in catalog order."""
        features = self.features
        return tuple(features[i].name for i in iter_bits(mask))

    def feature_set(self, mask: int = 0) -> FeatureSet:
        """Wrap a mask as a `FeatureSet` of this registry."""
        return FeatureSet(self, mask)

    def from_names(self, names: Iterable[str]) -> FeatureSet:
        """A `FeatureSet` from canonical names."""
        return FeatureSet(self, self.mask(names))

    def from_vsphere_keys(self, keys: Iterable[str]) -> FeatureSet:
        """A `FeatureSet` from vSphere keys (``cpuid.AES``); unknown keys raise `InputError`."""
        return FeatureSet(self, self._mask(keys, self.by_vsphere_key, "vSphere CPU feature key"))

    def from_registers(
        self,
        leaves: Mapping[tuple[int, int], tuple[int, int, int, int]],
        vendor: str | None = None,
    ) -> FeatureSet:
        """A `FeatureSet` of the features raw registers show (``(leaf, subleaf) -> regs``).

        What the registers leave unknown is not in the set; `read_registers` tells it apart.
        """
        return FeatureSet(self, self.read_registers(leaves, vendor).present)

    def read_registers(
        self,
        leaves: Mapping[tuple[int, int], tuple[int, int, int, int]],
        vendor: str | None = None,
        unknown_bits: Mapping[tuple[int, int], tuple[int, int, int, int]] | None = None,
    ) -> RegisterRead:
        """Which features raw CPUID registers show present, which they leave unknown, and why.

        A leaf/subleaf missing from ``leaves`` is absent when the CPU does not implement it (beyond the
        highest leaf of its range, or beyond leaf 7's highest subleaf), otherwise unknown. Bits set in
        ``unknown_bits`` are unknown. A feature with a position per vendor reads the ``vendor``'s one
        (both when the vendor is unknown).
        """
        unknown_bits = unknown_bits or {}
        max_basic = leaves[(0, 0)][0] if (0, 0) in leaves else None
        ext = leaves.get((0x80000000, 0))
        max_ext = None if ext is None else max(ext[0], 0x80000000)
        present = unknown = 0
        lacking: dict[tuple[int, int], None] = {}
        for f in self.features:
            state = None  # None: no applicable position; else "yes"/"no"/"unknown"
            for pos in f.cpuid:
                if pos.vendor is not None and vendor is not None and pos.vendor != vendor:
                    continue
                where = (pos.leaf, pos.subleaf)
                regs = leaves.get(where)
                r = REGISTER_INDEX[pos.register]
                if regs is not None:
                    if unknown_bits.get(where, (0, 0, 0, 0))[r] >> pos.bit & 1:
                        s = "unknown"
                    else:
                        s = "yes" if regs[r] >> pos.bit & 1 else "no"
                else:
                    s = _missing_leaf_state(pos.leaf, pos.subleaf, leaves, max_basic, max_ext)
                    if s == "unknown":
                        lacking[where] = None
                # present if any applicable position shows it; unknown beats absent
                if s == "yes" or state is None or (s == "unknown" and state == "no"):
                    state = s
                if state == "yes":
                    break
            if state == "yes":
                present |= f.bit
            elif state == "unknown":
                unknown |= f.bit
        return RegisterRead(present, unknown, tuple(sorted(lacking)))


def _missing_leaf_state(
    leaf: int, subleaf: int, leaves: Mapping[tuple[int, int], tuple[int, int, int, int]],
    max_basic: int | None, max_ext: int | None,
) -> str:
    """A leaf the dump lacks is absent when the CPU does not implement it, otherwise unknown."""
    top = max_ext if leaf >= 0x80000000 else max_basic
    if top is not None and leaf > top:
        return "no"  # beyond the CPU's highest leaf: the CPU does not have it
    if subleaf and leaf == 7 and (7, 0) in leaves and leaves[(7, 0)][0] < subleaf:
        return "no"  # leaf 7 EAX of subleaf 0 is the highest valid subleaf
    return "unknown"


@attrs.frozen
class RegisterRead:
    """What raw registers say: features present, features unknown, and the leaves that were missing."""

    present: int
    unknown: int
    lacking: tuple[tuple[int, int], ...]


@attrs.frozen(eq=False, repr=False)
class FeatureSet:
    """An immutable set of CPU features: a bitset with a ``frozenset``-like API.

    >>> from evckit.catalog import Catalog
    >>> reg = Catalog.builtin().features
    >>> a = reg.from_names(["sse3", "avx"])
    >>> "avx" in a, len(a), reg.from_names(["avx"]) <= a
    (True, 2, True)
    """

    registry: FeatureRegistry
    mask: int

    def _other(self, other: object) -> int:
        if isinstance(other, FeatureSet):
            if other.registry is not self.registry:
                msg = "cannot combine feature sets of different catalogs"
                raise ValueError(msg)
            return other.mask
        return NotImplemented  # type: ignore[no-any-return]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FeatureSet):
            return NotImplemented
        return self.registry is other.registry and self.mask == other.mask

    def __hash__(self) -> int:
        return hash(self.mask)

    def __and__(self, other: FeatureSet) -> FeatureSet:
        return FeatureSet(self.registry, self.mask & self._other(other))

    def __or__(self, other: FeatureSet) -> FeatureSet:
        return FeatureSet(self.registry, self.mask | self._other(other))

    def __sub__(self, other: FeatureSet) -> FeatureSet:
        return FeatureSet(self.registry, self.mask & ~self._other(other))

    def __xor__(self, other: FeatureSet) -> FeatureSet:
        return FeatureSet(self.registry, self.mask ^ self._other(other))

    def __le__(self, other: FeatureSet) -> bool:
        return self.mask & ~self._other(other) == 0

    def __lt__(self, other: FeatureSet) -> bool:
        o = self._other(other)
        return self.mask != o and self.mask & ~o == 0

    def __ge__(self, other: FeatureSet) -> bool:
        return self._other(other) & ~self.mask == 0

    def __gt__(self, other: FeatureSet) -> bool:
        o = self._other(other)
        return self.mask != o and o & ~self.mask == 0

    def issubset(self, other: FeatureSet) -> bool:
        """True when every feature of this set is in ``other``."""
        return self <= other

    def issuperset(self, other: FeatureSet) -> bool:
        """True when every feature of ``other`` is in this set."""
        return self >= other

    def isdisjoint(self, other: FeatureSet) -> bool:
        """True when the sets share no feature."""
        return self.mask & self._other(other) == 0

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        feature = self.registry.get(name)
        return feature is not None and bool(self.mask & feature.bit)

    def __iter__(self) -> Iterator[str]:
        return iter(self.registry.names(self.mask))

    def __len__(self) -> int:
        return self.mask.bit_count()

    def __bool__(self) -> bool:
        return self.mask != 0

    def names(self) -> tuple[str, ...]:
        """Canonical names in catalog order."""
        return self.registry.names(self.mask)

    def __repr__(self) -> str:
        return f"FeatureSet({list(self.names())!r})"
