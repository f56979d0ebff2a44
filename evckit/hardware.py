"""Virtual hardware versions (``vmx-NN``) and the ESXi releases that run them.

"Can hardware version N run on ESXi X" is one lookup: ``min_hw <= N <= max_hw`` of X's release.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import attrs

from evckit.errors import InputError

__all__ = ["EsxiRelease", "HardwareTable", "HardwareVersion", "parse_hw_version"]

_VMX = re.compile(r"^\s*(?:vmx-?)?(\d{1,3})\s*$", re.IGNORECASE)
_ESXI = re.compile(
    r"^\s*(?:vmware\s+)?(?:esxi?\s*)?v?(\d{1,4})(?:\.(\d{1,4}))?(?:\.(\d{1,4}))?"  # bounded: no 5,000-digit ints
    r"(?:\s*(?:u|update\s*)(\d{1,4}))?[a-z]?(?:\s+.*)?$",
    re.IGNORECASE,
)


def parse_hw_version(text: str | int) -> int:
    """``"vmx-19"``, ``"19"`` or ``19`` -> 19; anything else raises `InputError`."""
    if isinstance(text, int):
        return text
    m = _VMX.match(text)
    if not m:
        raise InputError(f"not a virtual hardware version: {text!r} (expected vmx-NN)")
    return int(m.group(1))


def parse_esxi_version(text: str) -> tuple[int, int, int]:
    """``"8.0.2"``, ``"8.0 U2"``, ``"ESXi 8.0 Update 2"``, ``"VMware ESXi 8.0.2 build-…"`` -> (8, 0, 2).

    ESXi reports updates as the third number of its version (``8.0.2`` is 8.0 Update 2); 6.7 updates
    kept ``6.7.0`` and are told apart only by build number, so ``6.7.0`` means 6.7 GA here.
    """
    m = _ESXI.match(text)
    if not m:
        raise InputError(f"not an ESXi version: {text!r} (expected e.g. 8.0.2 or 8.0 U2)")
    major, minor, patch, update = (int(g) if g else 0 for g in m.groups())
    return major, minor, max(patch, update)


@attrs.frozen
class HardwareVersion:
    """One virtual hardware version, the release that introduced it, and whether ESX(i) runs it."""

    version: int
    introduced_in: str | None
    esx: bool
    sources: tuple[str, ...]
    confidence: str
    note: str | None = None

    @property
    def key(self) -> str:
        """The vSphere spelling, ``vmx-NN``."""
        return f"vmx-{self.version}"


@attrs.frozen
class EsxiRelease:
    """An ESX/ESXi release and the range of hardware versions it runs."""

    release: str
    label: str
    version: tuple[int, int, int]
    max_hw_version: int
    min_hw_version: int | None
    sources: tuple[str, ...]
    confidence: str

    def runs(self, hw_version: int) -> bool:
        """True when a VM of ``hw_version`` can run on this release."""
        low = self.min_hw_version or 0
        return low <= hw_version <= self.max_hw_version


class HardwareTable:
    """Hardware versions and ESXi releases, with the version lookups the analysis needs."""

    __slots__ = ("releases", "versions")

    def __init__(self, versions: Iterable[HardwareVersion], releases: Iterable[EsxiRelease]) -> None:
        self.versions = {v.version: v for v in versions}
        self.releases = tuple(sorted(releases, key=lambda r: r.version))

    def release(self, text: str) -> EsxiRelease:
        """The release an ESXi version string belongs to: the newest known release not after it.

        A version newer than every known release maps to the newest known one, which is a lower
        bound (ESXi never drops support for a hardware version it once ran).
        """
        version = parse_esxi_version(text)
        best = None
        for r in self.releases:
            if r.version <= version:
                best = r
        if best is None:
            raise InputError(f"ESXi version {text!r} is older than every release evckit knows")
        return best

    def max_hw_version(self, esxi: str) -> int:
        """The highest hardware version an ESXi version runs."""
        return self.release(esxi).max_hw_version

    def can_run(self, hw_version: int | str, esxi: str) -> bool:
        """Can a VM of this hardware version run on this ESXi version?"""
        return self.release(esxi).runs(parse_hw_version(hw_version))
