"""Guest-OS floors: the CPU features a guest operating system needs to boot, so that an EVC decision
never hides them (Windows 11 and Server 2025 need SSE4.2 and POPCNT, RHEL 9 x86-64-v2, …).

The table is ``data/guest_os.json``; every row names its sources. A guest is recognised by its vSphere
``guestId`` (``config.guestId``) or by the names vSphere and RVTools show (``Microsoft Windows Server
2025 (64-bit)``). Floors and x86-64 micro-architecture levels are bitsets over the feature catalog.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from evckit._problems import ProblemCollector
from evckit.catalog import Catalog
from evckit.errors import DataError
from evckit.features import FeatureSet
from evckit.modes import EvcMode

__all__ = ["GUEST_OS_FILE", "GuestFloor", "GuestFloors", "Level"]

GUEST_OS_FILE = "guest_os.json"


@attrs.frozen
class Level:
    """An x86-64 micro-architecture level (``x86-64-v2``): every feature it needs, cumulative."""

    key: str
    features: FeatureSet


@attrs.frozen
class GuestFloor:
    """A guest OS family/version and the CPU features it needs (its floor).

    Attributes:
        level: the x86-64 level the floor comes from, if it is stated as one.
        features: the complete floor (the level's features plus any named ones).
    """

    key: str
    label: str
    features: FeatureSet
    level: str | None
    confidence: str
    sources: tuple[str, ...]
    guest_ids: tuple[str, ...]
    note: str | None = None

    def describe(self) -> str:
        """``Windows 11 (needs sse42, popcnt)``, ``RHEL 9 (x86-64-v2)``: for messages."""
        return f"{self.label} ({self.level or 'needs ' + ', '.join(self.features.names())})"


class GuestFloors:
    """The guest-OS table of one catalog, with lookups by guestId and by name."""

    def __init__(self, catalog: Catalog, levels: Sequence[Level], floors: Sequence[GuestFloor],
                 patterns: Sequence[tuple[re.Pattern[str], GuestFloor]], sources: Mapping[str, Any]) -> None:
        self.catalog = catalog
        self.levels: tuple[Level, ...] = tuple(levels)
        self.floors: tuple[GuestFloor, ...] = tuple(floors)
        self.sources = dict(sources)
        self._by_id = {gid.lower(): f for f in self.floors for gid in f.guest_ids}
        self._patterns = tuple(patterns)
        self._cache: dict[tuple[str | None, str | None], GuestFloor | None] = {}

    @classmethod
    def for_catalog(cls, catalog: Catalog) -> GuestFloors:
        """The shipped table read against ``catalog``'s features (loaded once per catalog)."""
        return _load(catalog)

    @classmethod
    def from_json(cls, obj: Mapping[str, Any], catalog: Catalog, source: str = GUEST_OS_FILE) -> GuestFloors:
        """Build the table from parsed JSON; raise `DataError` listing every problem."""
        problems = ProblemCollector()
        reg = catalog.features
        known_sources = set(obj.get("sources") or {})

        def mask(names: object, where: str) -> int:
            if not isinstance(names, list):
                problems.add(where, "features must be a list")
                return 0
            out = 0
            for n in names:
                f = reg.get(str(n))
                if f is None:
                    problems.add(where, f"unknown feature {n!r}")
                else:
                    out |= f.bit
            return out

        def check_sources(row: Mapping[str, Any], where: str) -> tuple[str, ...]:
            srcs = tuple(str(s) for s in row.get("sources") or ())
            if not srcs:
                problems.add(where, "no sources")
            for s in srcs:
                if s not in known_sources:
                    problems.add(where, f"unknown source {s!r}")
            return srcs

        levels: dict[str, Level] = {}
        for i, row in enumerate(obj.get("levels") or ()):
            where = f"{source} levels[{i}]"
            key = str(row.get("key"))
            check_sources(row, where)
            m = mask(row.get("features"), where)
            base = row.get("base")
            if base is not None:
                if base not in levels:
                    problems.add(where, f"base {base!r} must be listed before it")
                else:
                    m |= levels[base].features.mask
            levels[key] = Level(key, reg.feature_set(m))
        floors: list[GuestFloor] = []
        patterns: list[tuple[re.Pattern[str], GuestFloor]] = []
        for i, row in enumerate(obj.get("guests") or ()):
            where = f"{source} guests[{i}] ({row.get('key')})"
            srcs = check_sources(row, where)
            m = mask(row.get("features") or [], where)
            level = row.get("level")
            if level is not None:
                if level not in levels:
                    problems.add(where, f"unknown level {level!r}")
                else:
                    m |= levels[level].features.mask
            if not m:
                problems.add(where, "neither features nor level")
            floor = GuestFloor(str(row.get("key")), str(row.get("label")), reg.feature_set(m), level,
                               str(row.get("confidence", "unconfirmed")), srcs,
                               tuple(str(g) for g in row.get("guest_ids") or ()), row.get("note"))
            floors.append(floor)
            for p in row.get("names") or ():
                try:
                    patterns.append((re.compile(str(p), re.IGNORECASE), floor))
                except re.error as exc:
                    problems.add(where, f"bad name pattern {p!r}: {exc}")
        problems.raise_if_any(DataError)
        return cls(catalog, tuple(levels.values()), floors, patterns, obj.get("sources") or {})

    def lookup(self, guest_id: str | None, name: str | None = None) -> GuestFloor | None:
        """The floor of a guest known by its vSphere ``guestId`` and/or a guest OS name (None: no floor known)."""
        key = (guest_id, name)
        if key in self._cache:
            return self._cache[key]
        found = self._by_id.get(guest_id.lower()) if guest_id else None
        if found is None and name:
            text = name.strip()
            for pattern, floor in self._patterns:
                if pattern.search(text):
                    found = floor
                    break
        self._cache[key] = found
        return found

    def level_of(self, mask: int) -> Level | None:
        """The highest x86-64 level whose features are all in ``mask`` (None: not even x86-64-v1)."""
        best = None
        for lv in self.levels:
            if lv.features.mask & ~mask == 0:
                best = lv
        return best

    def mode_level(self, mode: EvcMode) -> Level | None:
        """The x86-64 level an EVC mode's baseline reaches."""
        return self.level_of(mode.features.mask)


@functools.lru_cache(maxsize=8)
def _load(catalog: Catalog) -> GuestFloors:
    path = Path(catalog.directory) / GUEST_OS_FILE
    if not path.is_file():
        from evckit._resources import data_dir  # noqa: PLC0415 - a catalog loaded from elsewhere

        path = data_dir() / GUEST_OS_FILE
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError([f"{path}: cannot read: {exc}"]) from None
    return GuestFloors.from_json(obj, catalog, GUEST_OS_FILE)
