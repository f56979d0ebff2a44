"""Virtual hardware versions (``vmx-NN``), ESXi versions and builds, and the releases that run them.

"Can hardware version N run on ESXi X" is one lookup: ``min_hw <= N <= max_hw`` of X's update release.
An ESXi version is parsed once into an `EsxiVersion` by `parse_esxi`, which also reads the build: ESXi
6.x reports ``6.7.0`` for every update, so only the build (``data/esxi_builds.json``, from VMware KB
2143832) tells 6.7 U3 (vmx-15) from 6.7 GA (vmx-14). A version without a build is taken as the GA
release, with a note that its hardware-version cap may be too low.
"""

from __future__ import annotations

import bisect
import functools
import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from evckit._resources import data_dir
from evckit._problems import ProblemCollector
from evckit.errors import DataError, InputError

__all__ = [
    "BuildRow",
    "BuildTable",
    "EsxiRelease",
    "EsxiVersion",
    "EsxiVersionError",
    "HardwareTable",
    "HardwareVersion",
    "parse_esxi",
    "parse_esxi_version",
    "parse_hw_version",
]

BUILDS_FILE = "esxi_builds.json"

_VMX = re.compile(r"^\s*(?:vmx-?)?(\d{1,3})\s*$", re.IGNORECASE)
# "VMware ESXi 6.7.0 build-14320388", "6.7U3", "6.7.0 U3", "ESXi 8.0 Update 2", "8.0.3-0.70.24674464",
# "9.0.1.0101.12345678", "8.0e", "8.0U3e", "7.0.3 (build 21930508)".
_PREFIX = re.compile(r"^(?:vmware\s+)?(?:vsphere\s+)?(?:esxi?|hypervisor)?\s*v?", re.IGNORECASE)
_CORE = re.compile(
    r"(?P<major>\d{1,2})\.(?P<minor>\d{1,2})(?:\.(?P<patch>\d{1,2}))?(?:\.(?P<fourth>\d{1,4}))?"
    r"(?:-(?P<quarter>\d+)\.(?P<patchid>\d+)\.(?P<fullbuild>\d{4,10}))?"
    r"(?:\.(?P<vcfbuild>\d{6,10}))?"
    r"(?:\s*(?:u|update|upd)\s*(?P<update>\d{1,2}))?(?P<letter>[a-z])?",
    re.IGNORECASE,
)
_BUILD_IN_TEXT = re.compile(r"[\s,;(]*(?:release)?build[\s:#-]*(?P<build>\d{1,10})\s*\)?", re.IGNORECASE)
_BUILD = re.compile(r"^\s*(?:(?:release)?build[\s:#-]*)?(\d{1,10})\s*$", re.IGNORECASE)
_TAIL_OK = re.compile(r"^[\s,;()]*(?:ga)?[\s,;()]*$", re.IGNORECASE)


class EsxiVersionError(InputError):
    """An ESXi version or build that cannot be read, or a build that belongs to another release."""


def parse_hw_version(text: str | int) -> int:
    """``"vmx-19"``, ``"19"`` or ``19`` -> 19; anything else raises `InputError`."""
    if isinstance(text, int):
        return text
    m = _VMX.match(text)
    if not m:
        raise InputError(f"not a virtual hardware version: {text!r} (expected vmx-NN)")
    return int(m.group(1))


@attrs.frozen
class BuildRow:
    """One ESXi build from VMware KB 2143832: its release line, update release, name and date."""

    line: tuple[int, int]
    update: int
    name: str
    build: int
    date: str | None
    kind: str
    sources: tuple[str, ...]
    confidence: str


class BuildTable:
    """ESXi builds -> update releases: exact builds, and each line's first build of every update."""

    __slots__ = ("by_build", "firsts", "revision", "sources", "version_reports_update_from")

    def __init__(self, rows: Iterable[BuildRow], version_reports_update_from: tuple[int, int] = (7, 0),
                 sources: Mapping[str, Any] | None = None, revision: str = "") -> None:
        rows = tuple(rows)
        self.by_build = {r.build: r for r in rows}
        firsts: dict[tuple[int, int], list[tuple[int, int]]] = {}
        for r in rows:
            if r.kind == "update":
                firsts.setdefault(r.line, []).append((r.build, r.update))
        self.firsts = {line: sorted(v) for line, v in firsts.items()}
        self.version_reports_update_from = version_reports_update_from
        self.sources = dict(sources or {})
        self.revision = revision

    @classmethod
    def from_json(cls, obj: Any, file: str = BUILDS_FILE) -> BuildTable:
        """Build and check the table; a broken table raises one `DataError` listing every problem."""
        problems = ProblemCollector()
        if not isinstance(obj, dict) or not isinstance(obj.get("builds"), list):
            raise DataError([f"{file}: expected an object with a 'builds' list"])
        known = obj.get("sources") or {}
        rows: list[BuildRow] = []
        seen: dict[int, int] = {}
        for i, row in enumerate(obj["builds"]):
            where = f"{file}: builds[{i}]"
            try:
                major, minor = (int(x) for x in str(row["line"]).split("."))
                build, update = int(row["build"]), int(row["update"])
            except (KeyError, TypeError, ValueError):
                problems.add(f"{where}: needs line 'X.Y', integer build and update")
                continue
            if build in seen:
                problems.add(f"{where}: build {build} is also builds[{seen[build]}]")
            seen[build] = i
            if row.get("kind") not in ("update", "patch"):
                problems.add(f"{where}: kind must be 'update' or 'patch'")
            if row.get("confidence") not in ("confirmed", "unconfirmed"):
                problems.add(f"{where}: confidence must be confirmed or unconfirmed")
            srcs = tuple(row.get("sources") or ())
            if not srcs or any(s not in known for s in srcs):
                problems.add(f"{where}: sources must name sources defined in 'sources'")
            rows.append(BuildRow((major, minor), update, str(row.get("name") or ""), build, row.get("date"),
                                 str(row.get("kind")), srcs, str(row.get("confidence"))))
        rules = obj.get("rules") or {}
        frm = str(rules.get("version_reports_update_from") or "7.0").split(".")
        table = cls(rows, (int(frm[0]), int(frm[1])), known, str(obj.get("revision") or ""))
        for line, firsts in table.firsts.items():
            updates = [u for _, u in firsts]
            if len(set(updates)) != len(updates):
                problems.add(f"{file}: line {line[0]}.{line[1]} lists an update release twice")
            if updates != sorted(updates):
                problems.add(f"{file}: line {line[0]}.{line[1]}: update releases' first builds are not in order")
        for r in rows:
            first = {u: b for b, u in table.firsts.get(r.line, [])}
            if r.update not in first:
                problems.add(f"{file}: build {r.build}: {r.line[0]}.{r.line[1]} U{r.update} has no 'update' row")
            elif r.build < first[r.update]:
                problems.add(f"{file}: build {r.build} is older than the first build of its update release")
        problems.raise_if_any(DataError)
        return table

    def update_of(self, line: tuple[int, int], build: int) -> tuple[int | None, BuildRow | None, str]:
        """(update, exact row or None, how): ``how`` is ``exact``, ``range``, ``before-ga`` or ``unknown-line``."""
        row = self.by_build.get(build)
        if row is not None:
            return row.update, row, "exact"
        firsts = self.firsts.get(line)
        if not firsts:
            return None, None, "unknown-line"
        i = bisect.bisect_right(firsts, (build, 1 << 30)) - 1
        if i < 0:
            return None, None, "before-ga"
        return firsts[i][1], None, "range"


@functools.cache
def builtin_builds() -> BuildTable:
    """The build table shipped with evckit, loaded once per process."""
    path = data_dir() / BUILDS_FILE
    return load_builds(path)


def load_builds(path: str | Path) -> BuildTable:
    """Load and check a build table file (``DataError`` lists every problem)."""
    path = Path(path)
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError([f"{path.name}: cannot read: {exc}"]) from exc
    return BuildTable.from_json(obj, path.name)


@attrs.frozen
class EsxiVersion:
    """One parsed ESXi version: release line, update release, build, and how sure the update is.

    Attributes:
        major, minor: the release line (``6.7``, ``8.0``, ``9.0``).
        patch: the third number as written (``7.0.3`` -> 3; ESXi 6.x always writes 0; 9.x: maintenance).
        update: the update release (``6.7.0`` build 14320388 -> 3); 0 for GA.
        build: the build number, when known.
        update_known: False when nothing said which update it is (a 6.x version or a bare ``7.0`` without
            a build): it is then taken as GA, whose hardware-version cap may be too low.
        update_from: ``version`` (the text said it), ``build`` (a build of KB 2143832), ``build-range``
            (an unlisted build placed between two update releases' first builds) or ``assumed``.
        release_name: the KB's name of an exactly known build (``ESXi 6.7 P01 (Update 3b)``).
        note: what the reader should know about the update (assumed GA, inferred, disagreement).
        text: the version as given, for messages.
    """

    major: int
    minor: int
    patch: int
    update: int
    build: int | None = None
    update_known: bool = True
    update_from: str = "version"
    release_name: str | None = attrs.field(default=None, eq=False)
    note: str | None = attrs.field(default=None, eq=False)
    text: str = attrs.field(default="", eq=False)

    @property
    def key(self) -> tuple[int, int, int]:
        """(major, minor, update): what hardware-version and EVC-mode caps are compared with."""
        return (self.major, self.minor, self.update)

    @property
    def label(self) -> str:
        """``6.7 U3``, ``8.0 GA``, ``9.0.1``: the update release in VMware's words."""
        if self.major >= 9:
            return f"{self.major}.{self.minor}.{self.patch}"
        return f"{self.major}.{self.minor} " + (f"U{self.update}" if self.update else "GA")

    def __str__(self) -> str:
        return self.label + (f" (build {self.build})" if self.build is not None else "")


def _parse_build(build: str | int | None, where: str) -> int | None:
    if build is None or build == "":
        return None
    if isinstance(build, bool):
        raise EsxiVersionError(f"{where}: not an ESXi build number: {build!r}")
    if isinstance(build, int):
        value = build
    else:
        m = _BUILD.match(str(build))
        if not m:
            raise EsxiVersionError(f"{where}: not an ESXi build number: {build!r} (expected digits, e.g. 14320388)")
        value = int(m.group(1))
    if not 0 < value < 10**10:
        raise EsxiVersionError(f"{where}: not an ESXi build number: {build!r}")
    return value


@functools.lru_cache(maxsize=4096)
def _parse_esxi_cached(version: str, build: str | int | None, table: BuildTable | None) -> EsxiVersion:
    text = version.strip()
    m = _PREFIX.match(text)
    rest = text[m.end():] if m else text
    core = _CORE.match(rest)
    if not core or not text:
        raise EsxiVersionError(f"not an ESXi version: {version!r} (expected e.g. 8.0.2, 6.7U3 or "
                               "'VMware ESXi 6.7.0 build-14320388')")
    tail = rest[core.end():]
    embedded = None
    bm = _BUILD_IN_TEXT.match(tail)
    if bm:
        embedded = int(bm.group("build"))
        tail = tail[bm.end():]
    if not _TAIL_OK.match(tail):
        raise EsxiVersionError(f"not an ESXi version: {version!r} (unexpected {tail.strip()!r})")
    g = core.groupdict()
    major, minor = int(g["major"]), int(g["minor"])
    patch = int(g["patch"] or 0)
    full = g["fullbuild"] or (g["vcfbuild"] if g["vcfbuild"] else None)
    if full is None and g["fourth"] and major >= 9 and len(g["fourth"]) >= 6:
        full = g["fourth"]
    if full is not None:
        embedded = embedded or int(full)
    if not 2 <= major <= 30:
        raise EsxiVersionError(f"not an ESXi version: {version!r} (major version {major} out of range)")
    given = _parse_build(build, f"build of ESXi {version!r}")
    if given is not None and embedded is not None and given != embedded:
        raise EsxiVersionError(f"ESXi {version!r}: the version names build {embedded}, but the build given is {given}")
    bnum = given if given is not None else embedded
    explicit = int(g["update"]) if g["update"] is not None else None
    if explicit is not None and patch and explicit != patch:
        raise EsxiVersionError(f"ESXi {version!r}: version {major}.{minor}.{patch} is not Update {explicit}")
    table = table or builtin_builds()
    line = (major, minor)
    update: int | None = None
    src = "version"
    notes: list[str] = []
    if explicit is not None:
        update = explicit
    elif patch:
        update = patch
    elif g["patch"] is not None and line >= table.version_reports_update_from:
        update = 0  # 7.0 and later write the update into the version: 8.0.0 is the GA line
    elif g["letter"]:
        update = 0  # "8.0e", "6.5.0d": a patch named on the GA line
    name = None
    if bnum is not None:
        b_update, row, how = table.update_of(line, bnum)
        if row is not None and row.line != line:
            raise EsxiVersionError(f"ESXi {version!r}: build {bnum} is {row.name}, not ESXi {major}.{minor}")
        if row is not None:
            name = row.name
        if update is None and b_update is not None:
            update, src = b_update, ("build" if how == "exact" else "build-range")
            if how == "range":
                notes.append(f"build {bnum} is not in evckit's build table: taken as Update {b_update} "
                             "or a patch on it, from the builds around it")
        elif update is not None and b_update is not None and b_update != update and how == "exact":
            notes.append(f"build {bnum} is {row.name if row else '?'}, but the version says "
                         f"{'GA' if not update else f'Update {update}'}: the version is used")
        elif update is None and how == "before-ga":
            notes.append(f"build {bnum} is older than ESXi {major}.{minor} GA in evckit's build table")
    known = update is not None
    if update is None:
        update, src = 0, "assumed"
        why = "without a build" if bnum is None else "with a build evckit cannot place"
        notes.append(f"ESXi {major}.{minor} {why} is taken as the GA release; an update release may run a "
                     "higher virtual hardware version, so the cap used may be too low")
    return EsxiVersion(major, minor, patch, update, bnum, known, src, name, "; ".join(notes) or None, text)


def parse_esxi(version: str | EsxiVersion, build: str | int | None = None,
               table: BuildTable | None = None) -> EsxiVersion:
    """Parse an ESXi version and build into one `EsxiVersion`; nonsense raises `EsxiVersionError`.

    Understands ``6.7.0``, ``6.7``, ``6.7U3``, ``6.7.0 U3``, ``ESXi 8.0 Update 2``, ``8.0.2``,
    ``VMware ESXi 6.7.0 build-14320388``, ``8.0.3-0.70.24674464`` and ``9.0.1.0.24957456``. The build
    (given apart, as vCenter's ``summary.config.product.build``, or inside the text) decides the update
    release where the version does not say it. ``table`` defaults to the shipped build table.
    """
    if isinstance(version, EsxiVersion):
        return version
    if not isinstance(version, str):
        raise EsxiVersionError(f"not an ESXi version: {version!r} (expected text such as 8.0.2)")
    if isinstance(build, str):
        build = build.strip()
    return _parse_esxi_cached(version, build, table)


def parse_esxi_version(text: str | EsxiVersion) -> tuple[int, int, int]:
    """``"8.0.2"``, ``"8.0 U2"``, ``"ESXi 8.0 Update 2"`` -> (8, 0, 2): the update-release key.

    Kept for callers that hold only a version string; `parse_esxi` also reads the build.
    """
    return parse_esxi(text).key


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
    """A row of the hardware table: an ESX/ESXi (update) release and the hardware versions it runs."""

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

    def release(self, text: str | EsxiVersion) -> EsxiRelease:
        """The release an ESXi version belongs to: the newest known update release not after it.

        A version newer than every known release maps to the newest known one, which is a lower
        bound (ESXi never drops support for a hardware version it once ran). Pass an `EsxiVersion`
        (`parse_esxi` with the build) so that 6.x update releases are told apart.
        """
        version = parse_esxi(text).key
        best = None
        for r in self.releases:
            if r.version <= version:
                best = r
        if best is None:
            raise InputError(f"ESXi version {text!r} is older than every release evckit knows")
        return best

    def max_hw_version(self, esxi: str | EsxiVersion) -> int:
        """The highest hardware version an ESXi version runs."""
        return self.release(esxi).max_hw_version

    def can_run(self, hw_version: int | str, esxi: str | EsxiVersion) -> bool:
        """Can a VM of this hardware version run on this ESXi version?"""
        return self.release(esxi).runs(parse_hw_version(hw_version))
