"""EVC modes: their baselines, their order, and which modes a set of CPU features can run.

Modes are compared by their features, never by a total order per vendor: AMD has a 3DNow! line
(Rev E, Rev F, Greyhound) and two lines that start at ``amd-greyhound-no3dnow`` (the Opteron line and
the Zen line, which has no XOP/FMA4/TBM). ``tier`` only orders modes for display, like vSphere's
``vendorTier``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Sequence
from typing import Literal

import attrs

from evckit.errors import UnknownModeError
from evckit.features import FeatureRegistry, FeatureSet

__all__ = ["CheckStatus", "EvcMode", "FeatureGroup", "ModeCheck", "ModeTable"]

#: Whether a CPU runs a mode: it does, it lacks a feature, or its data leaves a needed feature unknown.
CheckStatus = Literal["yes", "no", "unknown"]


@attrs.frozen
class FeatureGroup:
    """Features a mode adds (or removes) over its base mode, with the evidence for them."""

    features: FeatureSet
    confidence: str
    sources: tuple[str, ...]
    evidence: str


@attrs.frozen
class EvcMode:
    """One EVC mode (baseline): key, label, vendor, order, tracks, complete feature list, evidence.

    Attributes:
        features: the complete baseline (base mode's features + added - removed).
        required: the features a host must have to run the mode: ``features`` without those VMware
            can expose without host support (``ANY``).
        unconfirmed: the baseline features whose membership no source confirms.
        confidence: ``confirmed`` only when every feature and removal is confirmed.
        esxi_min: the first ESXi release that offers the mode, where a source says so: a host on an
            older release cannot run it whatever its CPU (e.g. Sapphire Rapids hosts on ESXi 7.0 top
            out at Ice Lake).
        origin: ``builtin`` for the shipped tables, or the vCenter a definition came from.
    """

    key: str
    label: str
    vendor: str
    tier: int
    tracks: tuple[str, ...]
    features: FeatureSet
    required: int
    unconfirmed: FeatureSet
    confidence: str
    sources: tuple[str, ...]
    base: str | None = None
    added: tuple[FeatureGroup, ...] = ()
    removed: tuple[FeatureGroup, ...] = ()
    label_confidence: str = "unconfirmed"
    kb_level: str | None = None
    key_sources: tuple[str, ...] = ()
    introduced: str | None = None
    introduced_confidence: str = "unconfirmed"
    introduced_sources: tuple[str, ...] = ()
    esxi_min: tuple[int, int, int] | None = None
    note: str | None = None
    origin: str = "builtin"

    def __str__(self) -> str:
        return self.key

    def offered_by(self, esxi: tuple[int, int, int] | None) -> bool:
        """Does an ESXi release (None: unknown) offer this mode? Unknown releases are not held against it."""
        return esxi is None or self.esxi_min is None or esxi >= self.esxi_min

    @property
    def esxi_min_text(self) -> str:
        """``8.0``, ``7.0 U2``: the first ESXi release that offers the mode, for messages."""
        if self.esxi_min is None:
            return "?"
        major, minor, update = self.esxi_min
        return f"{major}.{minor}" + (f" U{update}" if update else "")


@attrs.frozen
class ModeCheck:
    """Whether a CPU can run one mode: ``yes``, ``no`` (``missing`` names the reason) or ``unknown``.

    ``unknown`` means nothing known is missing but some required features are unknown in the data
    (``undetermined``): the answer is limited by the data, never guessed.
    """

    mode: EvcMode
    status: CheckStatus
    missing: int = 0
    undetermined: int = 0


class ModeTable:
    """All EVC modes of a catalog, with lookups and the support computations."""

    __slots__ = ("_by_key", "_by_vendor", "modes", "registry")

    def __init__(self, registry: FeatureRegistry, modes: Iterable[EvcMode]) -> None:
        self.registry = registry
        self.modes: tuple[EvcMode, ...] = tuple(sorted(modes, key=lambda m: (m.vendor, m.tier)))
        self._by_key = {m.key: m for m in self.modes}
        by_vendor: dict[str, list[EvcMode]] = {}
        for m in self.modes:
            by_vendor.setdefault(m.vendor, []).append(m)
        self._by_vendor = {v: tuple(ms) for v, ms in by_vendor.items()}

    def __iter__(self) -> Iterator[EvcMode]:
        return iter(self.modes)

    def __len__(self) -> int:
        return len(self.modes)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._by_key

    def get(self, key: str) -> EvcMode:
        """The mode of a key (case-insensitive); an unknown key raises `UnknownModeError` with hints."""
        mode = self._by_key.get(key.lower())
        if mode is None:
            close = difflib.get_close_matches(key.lower(), list(self._by_key), n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(close)}?" if close else f"; known modes: {self.keys_hint()}"
            raise UnknownModeError(f"unknown EVC mode {key!r}{hint}")
        return mode

    def keys_hint(self) -> str:
        """A short list of valid keys for error messages."""
        firsts = [ms[0].key + " … " + ms[-1].key for ms in self._by_vendor.values()]
        return ", ".join(firsts)

    def for_vendor(self, vendor: str | None) -> tuple[EvcMode, ...]:
        """The modes of one vendor, lowest tier first (empty for a vendor without EVC)."""
        return self._by_vendor.get(vendor or "", ())

    def check(self, mode: EvcMode, present: int, unknown: int = 0) -> ModeCheck:
        """Can a CPU with features ``present`` (and ``unknown`` ones) run ``mode``? Vendor not checked."""
        lacking = mode.required & ~present
        if not lacking:
            return ModeCheck(mode, "yes")
        missing = lacking & ~unknown
        if missing:
            return ModeCheck(mode, "no", missing, lacking & unknown)
        return ModeCheck(mode, "unknown", 0, lacking)

    def maximal(self, modes: Sequence[EvcMode]) -> list[EvcMode]:
        """The modes of ``modes`` that no other mode of ``modes`` strictly contains, highest tier first."""
        out = []
        for m in modes:
            if not any(o is not m and m.features.mask & ~o.features.mask == 0
                       and o.features.mask != m.features.mask for o in modes):
                out.append(m)
        return sorted(out, key=lambda m: -m.tier)

    def best(self, modes: Sequence[EvcMode]) -> EvcMode | None:
        """The single highest mode of a set of supported modes (highest tier among the maximal ones)."""
        top = self.maximal(modes)
        return top[0] if top else None

    def next_modes(self, supported: Sequence[EvcMode], vendor: str | None) -> list[EvcMode]:
        """The next steps up: in each track, the mode right above the highest supported one.

        A step that is not above the best supported mode's tier is left out: an EPYC host that runs
        ``amd-zen3`` is not told that it lacks XOP for ``amd-bulldozer``.
        """
        have = {m.key for m in supported}
        best = max((m.tier for m in supported), default=-1)
        out: list[EvcMode] = []
        for track in self._tracks(vendor):
            reached = [m for m in track if m.key in have]
            if not reached:
                continue
            idx = track.index(reached[-1])
            if idx + 1 < len(track):
                nxt = track[idx + 1]
                if nxt.key not in have and nxt.tier > best and nxt not in out:
                    out.append(nxt)
        return out

    def _tracks(self, vendor: str | None) -> list[list[EvcMode]]:
        names: dict[str, list[EvcMode]] = {}
        for m in self.for_vendor(vendor):
            for t in m.tracks:
                names.setdefault(t, []).append(m)
        return [sorted(ms, key=lambda m: m.tier) for ms in names.values()]
