"""The estate model (`Host`, `Cluster`, `VM`, `Inventory`) and its versioned JSON snapshot format.

A snapshot can hold several vCenters. Every reader (snapshot file, vCenter collector) produces the same
`Inventory`; the analysis never knows where data came from. `load_snapshot` checks the whole file and
raises one `SnapshotError` that lists every problem with its place.
"""

from __future__ import annotations

import fnmatch
import json
import operator
import re
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence, Set
from itertools import repeat
from pathlib import Path
from typing import Any, Literal, NamedTuple

import attrs

from evckit import _snapshot_json
from evckit._files import read_regular_file
from evckit._problems import ProblemCollector
from evckit._schema import place, snapshot_problems
from evckit.catalog import Catalog, vendor_word
from evckit.errors import EvckitError, InputError, SnapshotError
from evckit.features import FeatureRegistry, FeatureSet
from evckit.hardware import EsxiVersion, parse_esxi, parse_hw_version
from evckit.profiles import CpuProfile, profile_from_data, profile_from_mode, profile_from_name
from evckit.modes import EvcMode, ModeTable
from evckit.vcmodes import modes_from_vcenter

__all__ = [
    "SNAPSHOT_VERSION",
    "Cluster",
    "ClusterKey",
    "Host",
    "Inventory",
    "VCenter",
    "VM",
    "VMRow",
    "VCenterBuilder",
    "Requirement",
    "load_inventories",
    "load_snapshot",
    "merge_inventories",
    "load_source",
    "parse_snapshot",
]

#: The snapshot format version this evckit reads and writes.
SNAPSHOT_VERSION = 1

#: A VM's power state, as vSphere names it.
PowerState = Literal["poweredOn", "poweredOff", "suspended"]
#: A host's connection state, as vSphere names it.
ConnectionState = Literal["connected", "disconnected", "notResponding"]
#: Where a VM's recorded requirement came from (vSphere's property names; ``none``: nothing recorded).
RequirementSource = Literal["featureRequirement", "minRequiredEVCModeKey", "perVmEvc", "none"]

POWER_STATES: dict[str, PowerState] = {"poweredon": "poweredOn", "poweredoff": "poweredOff",
                                       "suspended": "suspended", "on": "poweredOn", "off": "poweredOff"}
CONNECTION_STATES: tuple[ConnectionState, ...] = ("connected", "disconnected", "notResponding")
_REQ = re.compile(r"^(?:(Bool|Num|Str):)?(Min|Max|Match):(.+)$", re.IGNORECASE)


@attrs.frozen
class VCenter:
    """One vCenter of the snapshot, and its own EVC mode definitions when the snapshot carries them."""

    name: str
    version: str | None = None
    build: str | None = None
    modes: ModeTable | None = None


class ClusterKey(NamedTuple):
    """The one identity of a cluster across an estate: its vCenter and its name.

    Cluster names repeat across vCenters (every site has its ``gold``), so a bare name never identifies
    a cluster; every lookup, filter and what-if goes through this key. A tuple, so that building and
    hashing one per VM costs what a plain tuple does.
    """

    vcenter: str
    name: str

    def __str__(self) -> str:
        """``vcenter/name``, with ``/`` and ``\\`` inside either part escaped so that it names one cluster."""
        return f"{_label_part(self.vcenter)}/{_label_part(self.name)}"


@attrs.frozen
class Cluster:
    """A cluster: its name, its vCenter, and its current EVC mode (None: EVC disabled)."""

    name: str
    vcenter: str
    evc_mode: str | None = None

    @property
    def key(self) -> ClusterKey:
        """The cluster's identity across the estate."""
        return ClusterKey(self.vcenter, self.name)


@attrs.frozen
class Host:
    """An ESXi host: where it is, what it runs, and its CPU profile (measured or assumed).

    Attributes:
        cpu: the CPU profile; ``cpu.assumed`` tells whether it was measured or inferred from a name or
            mode key.
        vcenter_max_evc_mode: vCenter's own ``summary.maxEVCModeKey`` for the host, if recorded.
        esxi_build: the ESXi build (``summary.config.product.build``); with ``esxi_version`` it tells the
            update release (`esxi`), which 6.x versions do not say.
    """

    name: str
    vcenter: str
    cluster: str | None
    cpu: CpuProfile
    esxi_version: str | None = None
    connection_state: ConnectionState = "connected"
    maintenance: bool = False
    cpu_model: str | None = None
    vcenter_max_evc_mode: str | None = None
    esxi_build: str | None = None

    @property
    def esxi(self) -> EsxiVersion | None:
        """The ESXi version and build parsed into one value (its update release decides the caps)."""
        return parse_esxi(self.esxi_version, self.esxi_build) if self.esxi_version else None

    @property
    def available(self) -> bool:
        """True when the host can receive VMs: connected and not in maintenance mode."""
        return self.connection_state == "connected" and not self.maintenance

    @property
    def cluster_key(self) -> ClusterKey | None:
        """The key of the host's cluster (None: a standalone host)."""
        return ClusterKey(self.vcenter, self.cluster) if self.cluster is not None else None


@attrs.frozen
class Requirement:
    """What a VM needs of a CPU, and where that knowledge came from.

    Attributes:
        features: the CPU features it needs (its vSphere ``featureRequirement``, a mode's baseline…).
        source: ``featureRequirement``, ``minRequiredEVCModeKey``, ``perVmEvc`` or ``none``.
        vendor: the CPU vendor the VM runs on, when known.
        unevaluated: requirement keys evckit cannot evaluate (unknown or numeric keys), kept visible.
    """

    features: FeatureSet
    source: RequirementSource
    vendor: str | None = None
    unevaluated: tuple[str, ...] = ()


@attrs.frozen(weakref_slot=False)  # no weak references: the fast builder (`_VMSlots`) needs the same layout
class VM:
    """A virtual machine: where it runs, its power state and hardware version, what it requires."""

    name: str
    vcenter: str
    host: str | None
    cluster: str | None
    power_state: PowerState
    hardware_version: int
    requirement: Requirement
    min_required_evc_mode: str | None = None
    per_vm_evc: str | None = None
    template: bool = False
    guest_id: str | None = None
    #: The guest OS name as vSphere or RVTools shows it (``Microsoft Windows Server 2025 (64-bit)``; the
    #: configuration file's, else what VMware Tools reports).
    guest_os: str | None = None

    @property
    def running(self) -> bool:
        """Powered on or suspended: it carries CPU features and needs a live (vMotion) target."""
        return self.power_state in ("poweredOn", "suspended") and not self.template

    @property
    def cluster_key(self) -> ClusterKey | None:
        """The key of the VM's cluster (None: on a standalone host)."""
        return ClusterKey(self.vcenter, self.cluster) if self.cluster is not None else None


@attrs.frozen(eq=False)
class Inventory:
    """An estate: vCenters, clusters, hosts and VMs, checked for consistency."""

    vcenters: tuple[VCenter, ...]
    clusters: tuple[Cluster, ...]
    hosts: tuple[Host, ...]
    vms: tuple[VM, ...]
    catalog: Catalog
    source: str = "<inventory>"
    #: What the source could not tell and what was assumed instead (e.g. an RVTools export's missing columns).
    notes: tuple[str, ...] = ()

    def modes_for(self, vcenter: str) -> ModeTable:
        """The EVC modes that govern one vCenter's objects: its own definitions if known, else shipped."""
        for vc in self.vcenters:
            if vc.name == vcenter and vc.modes is not None:
                return vc.modes
        return self.catalog.modes

    def mode(self, vcenter: str, key: str) -> EvcMode:
        """An EVC mode as one vCenter defines it."""
        return self.modes_for(vcenter).get(key)

    def cluster_label(self, cluster: Cluster | ClusterKey) -> str:
        """How reports name a cluster: ``name``, or ``vcenter/name`` when the snapshot has several vCenters.

        In the two-part form a ``/`` or ``\\`` inside either name is written ``\\/`` or ``\\\\``, so
        that two clusters never share a label (vCenter ``a`` with cluster ``b/c`` is ``a/b\\/c``,
        vCenter ``a/b`` with cluster ``c`` is ``a\\/b/c``).
        """
        vcenter, name = (cluster.vcenter, cluster.name) if isinstance(cluster, Cluster) else cluster
        return str(ClusterKey(vcenter, name)) if len(self.vcenters) > 1 else name

    def match_clusters(self, patterns: Sequence[str]) -> tuple[Cluster, ...]:
        """The clusters whose name, or ``vcenter/name``, matches any of the shell patterns.

        ``gold`` matches the ``gold`` of every vCenter (a filter shows them all); ``vc-dr/gold`` one.
        """
        return tuple(c for c in self.clusters
                     if any(fnmatch.fnmatchcase(c.name, p) or fnmatch.fnmatchcase(str(c.key), p) for p in patterns))

    def resolve_cluster(self, text: str, option: str = "cluster") -> Cluster:
        """The one cluster a user means by ``name`` or ``vcenter/name``.

        Raises `InputError` naming ``option`` when no cluster has that name, or when several vCenters
        have it (the message lists the candidates as ``vcenter/name``, the form that picks one).
        """
        matches = [c for c in self.clusters if text in (c.name, str(c.key))]
        if not matches:
            known = ", ".join(self.cluster_label(c) for c in self.clusters)
            raise InputError(f"{option} {text!r}: unknown cluster {text!r} (clusters: {known})")
        if len(matches) > 1:
            raise InputError(f"{option} {text!r}: cluster {text!r} is in several vCenters: "
                             f"{', '.join(str(c.key) for c in matches)}; name one as VCENTER/CLUSTER")
        return matches[0]

    def resolve_host(self, text: str, option: str = "host") -> Host:
        """The one host a user means by ``name`` or ``vcenter/name``; unknown or ambiguous raises `InputError`."""
        matches = [h for h in self.hosts if text in (h.name, f"{_label_part(h.vcenter)}/{_label_part(h.name)}")]
        if not matches:
            raise InputError(f"{option} {text!r}: no such host")
        if len(matches) > 1:
            raise InputError(f"{option} {text!r}: host {text!r} is in several vCenters: "
                             f"{', '.join(f'{_label_part(h.vcenter)}/{_label_part(h.name)}' for h in matches)}; "
                             "name one as VCENTER/HOST")
        return matches[0]


def _label_part(name: str) -> str:
    """One part of a two-part cluster label, with the separator escaped."""
    return name.replace("\\", "\\\\").replace("/", "\\/")


# --- loading -------------------------------------------------------------------------------------


class _Problems(ProblemCollector):
    """The problems found while reading one snapshot, and what that reading learnt once for all objects.

    ``cpus``, ``releases``, ``entries`` and ``lists`` are memos of decisions that depend only on text the snapshot
    repeats: the profile of a CPU model name (10,000 hosts, a dozen models), whether an ESXi version
    and build is a known release (the same dozen), the meaning of one
    ``featureRequirement`` entry (440,000 entries at 100,000 VMs, a few hundred distinct), and the
    meaning of a whole ``featureRequirement`` list (5,000 lists, a handful distinct), keyed by its
    ``(key, value)`` pairs, and by the list object itself when the decoder shared it. A list is
    remembered only when every entry of it was valid, so a malformed entry is always read, and
    reported with its own place.
    """

    def __init__(self) -> None:
        """No problems yet, empty memos."""
        super().__init__()
        self.cpus: dict[str, CpuProfile] = {}
        self.entries: dict[tuple[str, str], tuple[int, str | None] | None] = {}
        self.lists: dict[tuple[tuple[Any, Any], ...], _Decided] = {}
        #: The same, by list object (the snapshot decoder shares equal lists): id -> (list, decision).
        self.shared: dict[int, tuple[list[Any], _Decided]] = {}
        #: (ESXi version, build) -> why it is not one evckit knows (None: it is).
        self.releases: dict[tuple[str, str | int | None], str | None] = {}
        #: VMs' feature lists (requirements, masks) found valid for the schema by `_read_vms`: id -> list.
        self.valid_lists: dict[int, list[Any]] = {}


class _Decided:
    """What one valid ``featureRequirement`` list asks, and the `Requirement` made of it per host vendor
    (the list's own vendor entry, when it has one, wins over the host's)."""

    __slots__ = ("features", "requirements", "unevaluated", "vendor")

    def __init__(self, features: FeatureSet, vendor: str | None, unevaluated: tuple[str, ...]) -> None:
        self.features = features
        self.vendor = vendor
        self.unevaluated = unevaluated
        self.requirements: dict[str | None, Requirement] = {}

    def requirement(self, host_vendor: str | None) -> Requirement:
        """The (shared, immutable) requirement of a VM with this list on a host of ``host_vendor``."""
        req = self.requirements.get(host_vendor)
        if req is None:
            req = self.requirements[host_vendor] = Requirement(
                self.features, "featureRequirement", self.vendor or host_vendor, self.unevaluated)
        return req


class _VCenterReader:
    """What reading one vCenter's VMs needs, and memos of what its VMs repeat.

    At 100,000 VMs the VMs share a few dozen hardware versions, EVC mode keys and requirements; each
    is decided once here (by the vCenter's own mode table), and VMs built from the same decision share
    one immutable `Requirement`. A VM's place (``vcenters[0] (vc).vms[12] (web-01)``) is spelt out
    only when something about it is wrong.
    """

    __slots__ = ("catalog", "clusters", "hosts", "hw", "modes", "problems", "reqs", "table", "vc_name", "where")

    def __init__(self, vc_name: str, where: str, hosts: Mapping[str, Host], clusters: Set[str],  # noqa: PLR0913
                 table: ModeTable, catalog: Catalog, problems: _Problems) -> None:
        self.vc_name = vc_name
        self.where = where
        self.hosts = hosts
        self.clusters = clusters
        self.table = table
        self.catalog = catalog
        self.problems = problems
        self.hw: dict[str, int] = {}  # hardware version text -> number (valid ones only)
        self.modes: dict[str, str] = {}  # EVC mode key as written -> the table's key (known ones only)
        # requirement by source, then by mode key (per-VM EVC, minimum mode) or host vendor (none)
        self.reqs: dict[str, dict[str | None, Requirement]] = {"perVmEvc": {}, "minRequiredEVCModeKey": {}, "none": {}}

    def place(self, i: int, v: Mapping[str, Any]) -> str:
        """Where VM ``i`` is, as problems name it."""
        return f"{self.where}.vms[{i}] ({v['name']})"

    def mode_key(self, key: object, i: int, v: Mapping[str, Any], field: str) -> str | None:
        """`_mode_key` for one VM field, remembered per key once it is known to be valid."""
        if isinstance(key, str):
            known = self.modes.get(key)
            if known is not None:
                return known
        known = _mode_key(key, self.table, f"{self.place(i, v)}.{field}", self.problems)
        if known is not None and type(key) is str:
            self.modes[key] = known
        return known

    def known_mode(self, key: object) -> str | None:
        """The table's key for an EVC mode key, or None when `mode_key` would report a problem (nothing
        is recorded here)."""
        if not isinstance(key, str) or not key:
            return None
        known = self.modes.get(key)
        if known is None:
            try:
                known = self.table.get(key).key
            except EvckitError:
                return None
            if type(key) is str:
                self.modes[key] = known
        return known

    def hardware(self, text: object, i: int, v: Mapping[str, Any]) -> int:
        """A VM's hardware version number (0 when it is not one, with the problem recorded)."""
        if type(text) is str:
            hw = self.hw.get(text)
            if hw is not None:
                return hw
        try:
            hw = parse_hw_version(text)  # type: ignore[arg-type]  # the schema let only text through
        except InputError as exc:
            self.problems.add(self.place(i, v) + ".hardware_version", str(exc))
            return 0
        if type(text) is str:
            self.hw[text] = hw
        return hw

    def mode_requirement(self, source: Literal["perVmEvc", "minRequiredEVCModeKey"], key: str) -> Requirement:
        """The requirement a (known) EVC mode key stands for, one object per source and key."""
        known = self.reqs[source]
        req = known.get(key)
        if req is None:
            mode = self.table.get(key)
            req = known[key] = Requirement(mode.features, source, mode.vendor)
        return req

    def no_requirement(self, host_vendor: str | None) -> Requirement:
        """The requirement of a VM that records none, one object per host vendor."""
        known = self.reqs["none"]
        req = known.get(host_vendor)
        if req is None:
            req = known[host_vendor] = Requirement(self.catalog.features.feature_set(0), "none", host_vendor)
        return req


#: The largest snapshot file evckit reads (100,000 VMs take about 40 MB).
MAX_SNAPSHOT_BYTES = 2 * 1024**3


def load_snapshot(path: str | Path, catalog: Catalog | None = None,
                  cpuid_dirs: Sequence[str | Path] = ()) -> Inventory:
    """Read and check a snapshot file; raise `SnapshotError` (one line per problem) when it is bad.

    A host's ``cpuid_file`` is read only from the snapshot's folder (and below), or from one of
    ``cpuid_dirs`` that the user allowed explicitly.
    """
    path = Path(path)
    source = str(path)
    raw = read_regular_file(source, MAX_SNAPSHOT_BYTES, "a snapshot file")
    try:
        # What raw.decode("utf-8-sig") does (the same text, the same offset of a bad byte: after a BOM),
        # without importing that codec's module.
        text = raw[3:].decode("utf-8") if raw.startswith(b"\xef\xbb\xbf") else raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{source}: not UTF-8 text: bad byte at offset {exc.start}") from None
    try:
        obj = _snapshot_json.loads(text)  # json.loads, with the arrays VMs repeat decoded once
    except json.JSONDecodeError as exc:
        raise SnapshotError(source, [f"line {exc.lineno} column {exc.colno}: invalid JSON: {exc.msg}"]) from None
    except RecursionError:
        raise SnapshotError(source, ["JSON nested too deeply"]) from None
    return parse_snapshot(obj, source, catalog, base_dir=path.parent, cpuid_dirs=cpuid_dirs)


def parse_snapshot(
    obj: object, source: str = "<snapshot>", catalog: Catalog | None = None, base_dir: Path | None = None,
    cpuid_dirs: Sequence[str | Path] = (),
) -> Inventory:
    """Build an `Inventory` from a parsed snapshot; raise `SnapshotError` listing every problem.

    The document is first validated with the shipped JSON Schema (``snapshot.schema.json``, the one
    definition of the snapshot's types), then read; ``cpuid_file`` paths resolve against ``base_dir``
    and may leave it only into ``cpuid_dirs``. Without ``base_dir``, ``cpuid_file`` is refused.

    The VMs (most of a large document) are left out of the first schema check: the VM reader
    (`_read_vms`) confirms every constraint the schema states for a VM as it reads it. When it
    accepts every VM, the whole document was valid and the estate is what it read; otherwise the
    document is checked in full and read again, so problems are reported exactly as they always were.
    """
    catalog = catalog or Catalog.builtin()
    if not isinstance(obj, dict):
        raise SnapshotError(source, ["top level must be a JSON object"])
    version = obj.get("evckit_snapshot")
    if isinstance(version, bool) or version != SNAPSHOT_VERSION:
        raise SnapshotError(source, [f"evckit_snapshot: unsupported snapshot version {_short_repr(version)} "
                                     f"(this evckit reads version {SNAPSHOT_VERSION})"])
    try:
        frame_valid = not snapshot_problems(obj, vms=False)
    except RecursionError:
        raise SnapshotError(source, ["JSON nested too deeply"]) from None
    if frame_valid:
        # Everything but the VMs is valid: the VM reader confirms each VM's constraints as it reads it.
        # Once it cannot (a VM the schema may reject, or one with any other problem), the document is
        # read again as it always was, schema first: the same problems, in the same order.
        try:
            return _read_snapshot(obj, source, catalog, _CpuidFiles(base_dir, cpuid_dirs), _Problems(), None)
        except _VMsUnchecked:
            pass
    problems = _Problems()
    try:
        invalid = snapshot_problems(obj)
    except RecursionError:
        raise SnapshotError(source, ["JSON nested too deeply"]) from None
    # Objects the schema rejects are reported with their place and left out of the reading below, so
    # that every problem is still listed at once and nothing reads a value of the wrong type.
    bad: set[int] = set()
    for path, message in invalid:
        problems.add(place(obj, path) or "top level", message)
        if len(path) < 3 or path[0] != "vcenters":
            continue  # the document's frame is broken: nothing below can be read
        vc_obj = obj["vcenters"][path[1]]
        if len(path) >= 5 and path[2] in ("clusters", "hosts", "vms"):
            bad.add(id(vc_obj[path[2]][path[3]]))
        else:
            bad.add(id(vc_obj))
    if any(len(path) < 3 or path[0] != "vcenters" for path, _ in invalid):
        raise SnapshotError(source, problems.items)
    return _read_snapshot(obj, source, catalog, _CpuidFiles(base_dir, cpuid_dirs), problems, bad)


class _VMsUnchecked(Exception):
    """A VM that the schema check left to the VM reader is not one it accepts (`_read_snapshot`)."""


def _read_snapshot(
    obj: dict[str, Any], source: str, catalog: Catalog, files: _CpuidFiles, problems: _Problems, bad: set[int] | None,
) -> Inventory:
    """`parse_snapshot` after the schema check: ``bad`` holds the ids of the objects it rejected, or is
    None when it did not look at the VMs (then `_VMsUnchecked` is raised unless `_read_vms` accepts
    every VM of every vCenter, which it does only for VMs the schema accepts)."""
    vcs_raw = obj.get("vcenters")
    if not isinstance(vcs_raw, list) or not vcs_raw:
        raise SnapshotError(source, ["vcenters: must be a non-empty list"])
    vcenters: list[VCenter] = []
    clusters: list[Cluster] = []
    hosts: list[Host] = []
    vms: list[VM] = []
    seen_vc: set[str] = set()
    for i, vc in enumerate(vcs_raw):
        where = f"vcenters[{i}]"
        if not isinstance(vc, dict) or not isinstance(vc.get("name"), str) or not vc["name"]:
            problems.add(where, "needs an object with a non-empty 'name'")
            continue
        if bad is not None and id(vc) in bad:
            continue
        name = vc["name"]
        where = f"vcenters[{i}] ({name})"
        if name in seen_vc:
            problems.add(where, f"duplicate vCenter name {name!r}")
        seen_vc.add(name)
        modes = None
        if vc.get("evc_modes"):
            try:
                modes = modes_from_vcenter(vc["evc_modes"], catalog, name)
            except EvckitError as exc:
                problems.add(f"{where}.evc_modes", str(exc))
        vcenters.append(VCenter(name, _str(vc.get("version")), _str(vc.get("build")), modes))
        table = modes or catalog.modes
        _parse_vcenter(vc, name, where, table, catalog, files, problems, clusters, hosts, vms, bad)
    notes = obj.get("notes", [])
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        problems.add("notes", "must be a list of strings")
        notes = []
    if problems.items:
        raise SnapshotError(source, problems.items)
    return Inventory(tuple(vcenters), tuple(clusters), tuple(hosts), tuple(vms), catalog, source, tuple(notes))


def _short_repr(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


class _CpuidFiles:
    """Where a snapshot's ``cpuid_file`` entries may point: below its folder, or an allowed folder."""

    def __init__(self, base_dir: Path | None, allowed: Sequence[str | Path]) -> None:
        self.base_dir = base_dir
        self.roots = [Path(d).resolve() for d in ([base_dir] if base_dir is not None else []) + list(allowed)]

    def resolve(self, name: str) -> Path:
        """The file a ``cpuid_file`` names; `InputError` if it leaves the allowed folders."""
        path = Path(name)
        if not path.is_absolute():
            if self.base_dir is None:
                raise InputError("cpuid_file needs the snapshot's folder: load the snapshot from a file")
            path = self.base_dir / path
        try:
            real = path.resolve()
        except (OSError, RuntimeError, ValueError):
            raise InputError(f"{name}: not a usable path") from None
        if not any(real.is_relative_to(root) for root in self.roots):
            raise InputError(f"{name}: outside the snapshot's folder; allow its folder with --allow-cpuid-dir DIR "
                             "(Python: cpuid_dirs=[...])")
        return path


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _list(vc: Mapping[str, Any], key: str, where: str, problems: _Problems) -> list[Any]:
    value = vc.get(key, [])
    if not isinstance(value, list):
        problems.add(f"{where}.{key}", "must be a list")
        return []
    return value


def _parse_vcenter(  # noqa: PLR0913 - one pass over one vCenter's objects
    vc: Mapping[str, Any], vc_name: str, where: str, table: ModeTable, catalog: Catalog,
    files: _CpuidFiles, problems: _Problems, clusters: list[Cluster], hosts: list[Host], vms: list[VM],
    bad: set[int] | None,
) -> None:
    """One vCenter's clusters, hosts and VMs (``bad``: as `_read_snapshot` has it)."""
    cluster_names: set[str] = set()
    broken_hosts: set[str] = set()  # named, but already reported as invalid: VMs on them are not judged
    unchecked = bad is None
    if bad is None:
        bad = set()
    for i, c in _named(vc, "clusters", "cluster", where, problems, bad, cluster_names):
        cw = _place(where, "clusters", i, c)
        cluster_names.add(c["name"])
        evc = c.get("evc_mode")
        if evc is not None:
            evc = _mode_key(evc, table, cw + ".evc_mode", problems)
        clusters.append(Cluster(c["name"], vc_name, evc))

    host_by_name: dict[str, Host] = {}
    raw_hosts = vc.get("hosts", [])
    read_hosts = _read_hosts(raw_hosts, where, vc_name, cluster_names, table, catalog, files, problems) \
        if not bad and type(raw_hosts) is list else None
    if read_hosts is not None:
        hosts += read_hosts
        host_by_name = {host.name: host for host in read_hosts}
    for i, h in _named(vc, "hosts", "host", where, problems, bad, broken_hosts) if read_hosts is None else ():
        host = _parse_host(h, _place(where, "hosts", i, h), vc_name, cluster_names, table, catalog, files, problems)
        if host is None:
            broken_hosts.add(h["name"])
            continue
        host_by_name[host.name] = host
        hosts.append(host)

    reader = _VCenterReader(vc_name, where, host_by_name, cluster_names, table, catalog, problems)
    raw_vms = vc.get("vms", [])
    if not bad and not broken_hosts and type(raw_vms) is list:
        # A schema-valid document: all VMs at once, unless one of them has a problem to report.
        read = _read_vms(raw_vms, reader)
        if read is not None:
            vms += read
            return
    if unchecked:  # the VMs one by one, each problem with its place, need the schema's word on each
        raise _VMsUnchecked
    append = vms.append
    for i, v in _named(vc, "vms", "VM", where, problems, bad, set()):
        if broken_hosts and v.get("host") in broken_hosts:
            continue
        vm = _parse_vm(v, i, reader)
        if vm is not None:
            append(vm)


def _parse_host(  # noqa: PLR0913
    h: Mapping[str, Any], hw: str, vc_name: str, cluster_names: Set[str], table: ModeTable, catalog: Catalog,
    files: _CpuidFiles, problems: _Problems, by_mode: dict[str, CpuProfile] | None = None,
) -> Host | None:
    """Host ``h`` (a named object of a vCenter's ``hosts``, at place ``hw``), or None when its CPU cannot be
    told (the problems are recorded); shared by `parse_snapshot` and `VCenterBuilder`.

    ``by_mode``: the profiles of hosts known only by vCenter's maximum EVC mode, by mode key, shared
    by the hosts of one mode (`VCenterBuilder`: 10,000 hosts, a dozen modes).
    """
    cluster = h.get("cluster")
    if cluster is not None and cluster not in cluster_names:
        problems.add(hw, f"cluster {cluster!r} is not a cluster of this vCenter")
    esxi = h.get("esxi_version")
    build = h.get("esxi_build", h.get("build"))  # "build": snapshots written before esxi_build existed
    if build is not None and (isinstance(build, bool) or not isinstance(build, (str, int))):
        problems.add(hw + ".esxi_build", f"{build!r} is not a build number")
        build = None
    if esxi is not None:
        # Readable, and a release evckit knows: decided once per (version, build) of the snapshot.
        release_key = (str(esxi), build)
        wrong = problems.releases.get(release_key, _UNSEEN)
        if wrong is _UNSEEN:
            try:
                catalog.hardware.release(parse_esxi(*release_key))
                wrong = None
            except InputError as exc:
                wrong = str(exc)
            problems.releases[release_key] = wrong
        if wrong is not None:
            problems.add(hw + ".esxi_version", wrong)
            esxi = None
    elif build is not None:
        problems.add(hw + ".esxi_build", "a build needs esxi_version beside it")
    state = h.get("connection_state", "connected")
    if state not in CONNECTION_STATES:
        problems.add(hw + ".connection_state", f"{state!r} is not one of {', '.join(CONNECTION_STATES)}")
        state = "disconnected"
    vc_max = h.get("max_evc_mode")
    if vc_max is not None:
        vc_max = _mode_key(vc_max, table, hw + ".max_evc_mode", problems)
    cpu_data = h.get("cpu")
    if by_mode is not None and vc_max is not None and type(cpu_data) is dict and cpu_data.keys() <= {"model"}:
        cpu = by_mode.get(vc_max)  # the mode alone tells the CPU (_host_cpu then reads no model)
        if cpu is None:
            cpu = _host_cpu(h, hw, vc_max, table, catalog, files, problems)
            if cpu is not None:
                by_mode[vc_max] = cpu
    else:
        cpu = _host_cpu(h, hw, vc_max, table, catalog, files, problems)
    if cpu is None:
        return None
    return Host(h["name"], vc_name, cluster, cpu, _str(esxi), state, bool(h.get("maintenance", False)),
                _str(cpu_data.get("model")) if isinstance(cpu_data, dict) else None, vc_max,
                str(build).strip() if esxi is not None and build is not None else None)


def _read_hosts(  # noqa: PLR0913
    raw: list[Any], where: str, vc_name: str, cluster_names: Set[str], table: ModeTable, catalog: Catalog,
    files: _CpuidFiles, problems: _Problems,
) -> list[Host] | None:
    """The hosts of one vCenter (whose hosts the schema accepts), or None when any of them has a
    problem to report (the caller then reads them one by one, and reports each with its place).

    Hosts that differ only by name and cluster (10,000 hosts, a few dozen CPU models and versions) are
    read once by `_parse_host`: the others are the same `Host` under their own name, in their own
    cluster (one of the vCenter's). Only hosts whose CPU is known by its model alone are remembered,
    by the other values `_parse_host` reads of them (exact text, true or false, null: values that are
    equal are the same); any other host is read by itself.
    """
    mark = len(problems.items)
    made: dict[tuple[Any, ...], Host] = {}  # a host's values but its name and cluster -> the host read of them
    simple = _HOST_VALUE_TYPES
    out: list[Host] = []
    try:
        for i, h in enumerate(raw):
            name = h["name"]
            if type(name) is not str or not name:
                break
            cpu, cluster = h["cpu"], h.get("cluster")
            key = None
            if type(cpu) is dict and len(cpu) == 1 and "model" in cpu and "max_evc_mode" not in h and \
                    (cluster is None or type(cluster) is str):
                key = (h.get("esxi_version"), h.get("esxi_build", h.get("build")),
                       h.get("connection_state", "connected"), h.get("maintenance", False), cpu["model"])
                if not all(map(simple.__contains__, map(type, key))):
                    key = None
            first = made.get(key) if key is not None else None
            if first is None:
                host = _parse_host(h, _place(where, "hosts", i, h), vc_name, cluster_names, table, catalog, files,
                                   problems)
                if host is None or len(problems.items) > mark:
                    break
                if key is not None:
                    made[key] = host
            elif cluster is not None and cluster not in cluster_names:
                break  # a problem (`_parse_host` words it)
            else:
                host = Host(name, vc_name, cluster, first.cpu, first.esxi_version, first.connection_state,
                            first.maintenance, first.cpu_model, first.vcenter_max_evc_mode, first.esxi_build)
            out.append(host)
        else:
            if len(set(map(_NAME, raw))) == len(raw):  # no duplicate name
                return out
    except (KeyError, TypeError):  # not an object with a name and a CPU
        pass
    del problems.items[mark:]
    return None


#: The types of the values by which `_read_hosts` remembers a host (equal values of these are the same).
_HOST_VALUE_TYPES = frozenset({str, bool, type(None)})


def _named(vc: Mapping[str, Any], key: str, what: str, where: str, problems: _Problems,  # noqa: PLR0913
           bad: set[int], bad_names: set[str]) -> Iterator[tuple[int, Mapping[str, Any]]]:
    """The objects of one list that have a non-empty, not yet seen 'name', with their index in the list.

    Objects in ``bad`` (already reported by the schema check) are skipped; their names go to ``bad_names``.
    The place of an object (`_place`) is spelt out only for a problem.
    """
    seen: set[str] = set()
    for i, obj in enumerate(_list(vc, key, where, problems)):
        if id(obj) in bad:
            if isinstance(obj, dict) and isinstance(obj.get("name"), str):
                bad_names.add(obj["name"])
            continue
        name = obj.get("name") if isinstance(obj, dict) else None
        if not isinstance(name, str) or not name:
            problems.add(f"{where}.{key}[{i}]", "needs a non-empty 'name'")
            continue
        if name in seen:
            problems.add(_place(where, key, i, obj), f"duplicate {what} name {name!r}")
            continue
        seen.add(name)
        yield i, obj


def _place(where: str, key: str, i: int, obj: Mapping[str, Any]) -> str:
    """Where object ``i`` of the list ``key`` is: ``vcenters[0] (vc-prod).hosts[2] (esx01)``."""
    return f"{where}.{key}[{i}] ({obj['name']})"


def _mode_key(key: object, table: ModeTable, where: str, problems: _Problems) -> str | None:
    if not isinstance(key, str) or not key:
        problems.add(where, f"must be an EVC mode key, not {key!r}")
        return None
    try:
        return table.get(key).key
    except EvckitError as exc:
        problems.add(where, str(exc))
        return None


def _host_cpu(  # noqa: PLR0913
    h: Mapping[str, Any], where: str, vc_max: str | None, table: ModeTable, catalog: Catalog,
    files: _CpuidFiles, problems: _Problems,
) -> CpuProfile | None:
    """A host's CPU profile, or None (the problem recorded)."""
    cpu = h.get("cpu") or {}
    if not isinstance(cpu, dict):
        problems.add(where + ".cpu", "must be an object")
        return None
    if _MEASURED.isdisjoint(cpu):  # no set built per host
        return _assumed_cpu(cpu, where, vc_max, table, catalog, problems)
    from evckit.cpuid import parse_cpu_data  # noqa: PLC0415 - readers load only when needed

    measured: list[CpuProfile] = []
    src = f"{where}.cpu"
    try:
        if "cpuid_file" in cpu:
            measured.append(_read_cpuid_file(str(cpu["cpuid_file"]), files, catalog))
        if "cpuid_text" in cpu:
            measured.append(profile_from_data(parse_cpu_data(str(cpu["cpuid_text"]), src + ".cpuid_text"), catalog))
        for key in ("cpu_feature", "feature_capability"):
            if key in cpu:
                text = json.dumps(cpu[key])
                measured.append(profile_from_data(parse_cpu_data(text, f"{src}.{key}"), catalog))
    except EvckitError as exc:
        problems.add(src, str(exc))
        return None
    if measured:
        return _combine(measured, catalog)
    return _assumed_cpu(cpu, where, vc_max, table, catalog, problems)


#: The keys of a host's ``cpu`` that carry measured CPU data.
_MEASURED = frozenset({"cpuid_file", "cpuid_text", "cpu_feature", "feature_capability"})


def _assumed_cpu(
    cpu: Mapping[str, Any], where: str, vc_max: str | None, table: ModeTable, catalog: Catalog, problems: _Problems,
) -> CpuProfile | None:
    """A host's CPU profile from its mode key or CPU name (no measured data), or None (the problem recorded)."""
    mode_key = cpu.get("max_evc_mode") or vc_max
    try:
        if mode_key:
            return profile_from_mode(table.get(str(mode_key)).key, catalog, source=f"vCenter's maxEVCModeKey {table.get(str(mode_key)).key}",
                                     modes=table)
        if cpu.get("model"):
            model = str(cpu["model"])
            profile = problems.cpus.get(model)
            if profile is None:
                profile = problems.cpus[model] = profile_from_name(model, catalog)
            return profile
    except EvckitError as exc:
        problems.add(where + ".cpu", str(exc))
        return None
    problems.add(where + ".cpu", "no CPU data: give cpuid_file, cpuid_text, cpu_feature, feature_capability, "
                                 "max_evc_mode or model")
    return None


def _read_cpuid_file(name: str, files: _CpuidFiles, catalog: Catalog) -> CpuProfile:
    """A host's ``cpuid_file``: a regular file in an allowed folder, at most 16 MiB.

    The file is named by the snapshot, not by the user, so a failure says what is wrong with it
    without quoting its content (a reader's message may quote a line of whatever the file is).
    """
    from evckit.cpuid import parse_cpu_data  # noqa: PLC0415
    from evckit.cpuid.detect import MAX_CPU_DATA_BYTES  # noqa: PLC0415

    path = files.resolve(name)
    raw = read_regular_file(str(path), MAX_CPU_DATA_BYTES, "a CPU data file")
    try:
        data = parse_cpu_data(raw.decode("utf-8-sig"), str(path))
    except (EvckitError, UnicodeDecodeError):
        raise InputError(f"{name}: not CPU data evckit can read (`evckit host {name}` says why)") from None
    return profile_from_data(data, catalog)


def _combine(profiles: Sequence[CpuProfile], catalog: Catalog) -> CpuProfile:
    """Merge several measurements of one CPU: present if any shows it, unknown only if none knows."""
    first = profiles[0]
    present = 0
    unknown = -1
    for p in profiles:
        present |= p.present.mask
        unknown &= p.unknown.mask
    unknown &= ~present
    ident = next((p for p in profiles if p.family is not None), first)
    reg = catalog.features
    notes = tuple(n for p in profiles for n in p.notes)
    return attrs.evolve(
        ident, present=reg.feature_set(present), unknown=reg.feature_set(unknown),
        vendor=next((p.vendor for p in profiles if p.vendor), None),
        input_format="+".join(p.input_format for p in profiles), notes=notes,
    )


#: Power states as the schema admits them (the other spellings go through POWER_STATES).
_POWER_STATE_EXACT: dict[object, PowerState] = {s: s for s in ("poweredOn", "poweredOff", "suspended")}
#: A ``featureRequirement`` entry's (key, value): the memo key of a whole list is a tuple of these.
_KEY_VALUE = operator.itemgetter("key", "value")


def _parse_vm(v: Mapping[str, Any], i: int, reader: _VCenterReader) -> VM | None:
    """VM ``i`` of a vCenter, or None when something about it is wrong (the problems are recorded)."""
    problems = reader.problems
    bad = len(problems.items)
    get = v.get
    host, cluster = get("host"), get("cluster")
    hosts = reader.hosts
    host_obj = None
    if host is not None:
        host_obj = hosts.get(host)
        if host_obj is None:
            problems.add(reader.place(i, v), f"host {host!r} is not a host of this vCenter")
        elif cluster is None:
            cluster = host_obj.cluster
        elif host_obj.cluster != cluster:
            problems.add(reader.place(i, v), f"host {host!r} is in cluster {host_obj.cluster!r}, not {cluster!r}")
    if cluster is not None and cluster not in reader.clusters:
        problems.add(reader.place(i, v), f"cluster {cluster!r} is not a cluster of this vCenter")
    if host is None and cluster is None:
        problems.add(reader.place(i, v), "needs 'host' or 'cluster'")
    raw_state = get("power_state", "")
    state = _POWER_STATE_EXACT.get(raw_state) if type(raw_state) is str else None
    if state is None:
        state = POWER_STATES.get(str(raw_state).lower())
        if state is None:
            problems.add(reader.place(i, v) + ".power_state",
                         f"{get('power_state')!r} is not poweredOn, poweredOff or suspended")
    text = get("hardware_version", "")
    hw = reader.hw.get(text) if type(text) is str else None  # the memo, looked up here: 100,000 calls less
    if hw is None:
        hw = reader.hardware(text, i, v)
    per_vm = get("per_vm_evc")
    if per_vm is not None:
        per_vm = reader.mode_key(per_vm, i, v, "per_vm_evc")
        if hw and hw < 14:
            problems.add(reader.place(i, v) + ".per_vm_evc",
                         f"per-VM EVC needs hardware version 14 or later, VM is vmx-{hw}")
    min_req = get("min_required_evc_mode") or None
    if min_req is not None:
        key = reader.modes.get(min_req) if type(min_req) is str else None
        min_req = key if key is not None else reader.mode_key(min_req, i, v, "min_required_evc_mode")
    if state is None or len(problems.items) > bad:
        return None
    req = _requirement(v, i, per_vm, min_req, host_obj.cpu.vendor if host_obj is not None else None, reader)
    if req is None:
        return None
    guest_id, guest_os = get("guest_id"), get("guest_os")
    return VM(v["name"], reader.vc_name, host, cluster, state, hw, req, min_req, per_vm,
              bool(get("template", False)), guest_id if isinstance(guest_id, str) and guest_id else None,
              guest_os if isinstance(guest_os, str) and guest_os else _str(get("guest_os_tools")))


#: A VM's fields the schema types as text and the VM reader only passes on (or not at all).
_VM_TEXT_FIELDS = ("guest_id", "guest_os", "guest_os_tools", "uuid")


def _read_vms(vms: list[Any], reader: _VCenterReader) -> list[VM] | None:
    """The VMs of one vCenter, or None when any of them has a problem to report (`_parse_vm` then reads
    them one by one, after the schema check, and reports each problem with its place, in order).

    The same decisions as `_parse_vm`, from the same memos, in one loop without the per-VM
    bookkeeping that only a problem needs (its place, the count of problems before and after): every
    value a VM repeats (its host, hardware version, mode keys, requirement list) is a dictionary
    lookup once decided. The VMs are exactly those `_parse_vm` builds, sharing the same `Requirement`
    objects.

    It also confirms every constraint the snapshot schema states for a VM (`VM_SCHEMA_FIELDS`: its
    fields' types, the hardware version's and per-VM EVC mode's patterns, the power states, the entries
    of its feature lists; exact types, stricter than the schema), so that `parse_snapshot` need not run
    the schema check over the VMs of a document it accepts: a VM it is not sure of is one it rejects.
    """
    problems = reader.problems
    mark = len(problems.items)
    clusters, hw_of, modes = reader.clusters, reader.hw, reader.modes
    # Each host's cluster and CPU vendor, for the hosts in a cluster of this vCenter (or in none).
    host_rows = {name: (h.cluster, h.cpu.vendor) for name, h in reader.hosts.items()
                 if h.cluster is None or h.cluster in clusters}
    per_vm_reqs, min_reqs, none_reqs = (reader.reqs[k] for k in ("perVmEvc", "minRequiredEVCModeKey", "none"))
    per_vm_keys: dict[str, str] = {}  # per-VM EVC mode text (valid for the schema) -> the table's key
    shared, valid_lists = problems.shared, problems.valid_lists
    vc_name = reader.vc_name
    states = _POWER_STATE_EXACT
    vmx_text, per_vm_text = _VMX_TEXT.fullmatch, _PER_VM_TEXT.fullmatch
    out: list[Any] = []
    append = out.append
    new = object.__new__
    type_, str_, dict_ = type, str, dict  # local names: a cheaper lookup in the loop
    try:
        for v in vms:  # VM number len(out): only a problem names it, and none is kept here
            if type_(v) is not dict_:
                return None
            name, state, text = v["name"], v["power_state"], v["hardware_version"]  # KeyError: one is missing
            if type_(name) is not str_ or not name or type_(state) is not str_ or type_(text) is not str_:
                return None
            state = states[state]
            hw = hw_of.get(text)
            if hw is None:
                if not vmx_text(text):
                    return None
                hw = reader.hardware(text, len(out), v)
            # ``key in v`` first: a VM's absent fields (most of them) cost no call. ``fields``: how many
            # of the VM's fields are read so far (when it is all of them, the rest are absent).
            fields = 3
            host = cluster = vendor = per_vm = min_req = entries = None
            if "host" in v:
                fields += 1
                host = v["host"]
            if "cluster" in v:
                fields += 1
                cluster = v["cluster"]
                if cluster is not None and (type_(cluster) is not str_ or cluster not in clusters):
                    return None
            if host is not None:
                if type_(host) is not str_:
                    return None
                host_cluster, vendor = host_rows[host]  # KeyError: not a host of this vCenter (in one of its clusters)
                if cluster is None:
                    cluster = host_cluster
                elif cluster != host_cluster:
                    return None
            elif cluster is None:
                return None
            if "per_vm_evc" in v:
                fields += 1
                per_vm = v["per_vm_evc"]
                if per_vm is not None:
                    if type_(per_vm) is not str_:
                        return None
                    key = per_vm_keys.get(per_vm)
                    if key is None:
                        key = per_vm_text(per_vm) and reader.known_mode(per_vm)
                        if not key:
                            return None
                        per_vm_keys[per_vm] = key
                    if hw < 14:
                        return None
                    per_vm = key
            if "min_required_evc_mode" in v:
                fields += 1
                min_req = v["min_required_evc_mode"]
                if type_(min_req) is str_:
                    if min_req:
                        min_req = modes.get(min_req) or reader.known_mode(min_req)
                        if min_req is None:
                            return None
                    else:
                        min_req = None
                elif min_req is not None:
                    return None
            if "feature_requirement" in v:
                fields += 1
                entries = v["feature_requirement"]
                if id(entries) not in valid_lists:
                    if type_(entries) is not list or not _valid_entries(entries):
                        return None
                    valid_lists[id(entries)] = entries
            template, guest_id, guest_os = False, None, None
            if len(v) > fields:  # the fields that decide nothing: each is what the schema says, when present
                if "template" in v:
                    template = v["template"]
                    if type_(template) is not bool:
                        return None
                for text_field in _VM_TEXT_FIELDS:
                    if text_field in v and type_(v[text_field]) is not str_:
                        return None
                guest_id = v.get("guest_id") or None
                guest_os = v.get("guest_os") or v.get("guest_os_tools") or None
                if "feature_mask" in v:
                    mask = v["feature_mask"]
                    if id(mask) not in valid_lists:
                        if type_(mask) is not list or not _valid_entries(mask):
                            return None
                        valid_lists[id(mask)] = mask
            if per_vm is not None:
                req = per_vm_reqs.get(per_vm) or reader.mode_requirement("perVmEvc", per_vm)
            elif entries:
                known = shared.get(id(entries))
                decided = known[1] if known is not None else _decide_list(entries, len(out), v, reader)
                if decided is None:
                    break
                req = decided.requirement(vendor)
            elif min_req is not None:
                req = min_reqs.get(min_req) or reader.mode_requirement("minRequiredEVCModeKey", min_req)
            else:
                req = none_reqs.get(vendor) or reader.no_requirement(vendor)
            # A `_VMSlots` object, its fields stored here: no call of a class (its arguments' tuple, the
            # ``__init__`` frame); `_as_vms` then makes them `VM` objects.
            vm = new(_VMSlots)
            vm.name = name
            vm.vcenter = vc_name
            vm.host = host
            vm.cluster = cluster
            vm.power_state = state
            vm.hardware_version = hw
            vm.requirement = req
            vm.min_required_evc_mode = min_req
            vm.per_vm_evc = per_vm
            vm.template = template
            vm.guest_id = guest_id
            vm.guest_os = guest_os
            append(vm)
        else:
            if len(set(map(_NAME, vms))) == len(vms):  # no duplicate name
                if _VM_BUILDER is _VMSlots:
                    return _as_vms(out)
                return [VM(*map(getattr, repeat(vm), _VM_FIELDS)) for vm in out]  # attrs made VM otherwise
    except (KeyError, TypeError, AttributeError):  # a value no memo knows (not a host name, not text...)
        pass
    del problems.items[mark:]  # the VMs are read again one by one, in order, and each problem reported
    return None


#: The fields the snapshot schema defines for a VM, each of which `_read_vms` confirms (a test holds
#: this to the schema: a field added there needs its check here).
VM_SCHEMA_FIELDS = frozenset({
    "name", "host", "cluster", "power_state", "hardware_version", "guest_id", "guest_os", "guest_os_tools",
    "template", "feature_requirement", "min_required_evc_mode", "per_vm_evc", "feature_mask", "uuid"})


def _valid_entries(entries: list[Any]) -> bool:
    """Whether every entry of a VM's ``feature_requirement`` or ``feature_mask`` is as the schema states:
    an object with a text ``key``, a ``value`` that is text or a whole number, and a text
    ``featureName`` when it has one (exact types: stricter than the schema)."""
    for e in entries:
        if type(e) is not dict or type(e.get("key")) is not str:
            return False
        value = e.get("value")
        if type(value) is not str and type(value) is not int:
            return False
        if "featureName" in e and type(e["featureName"]) is not str:
            return False
    return True


_NAME = operator.itemgetter("name")


class _VMSlots:
    """A `VM` under construction: the same slots, but a plain ``__init__`` that stores its fields
    directly instead of calling the frozen class's ``object.__setattr__`` once per field (0.1 s of
    loading 100,000 VMs). `_as_vms` then makes each one a `VM` (same layout: ``__class__`` assignment)."""

    __slots__ = tuple(f.name for f in attrs.fields(VM))
    name: str
    vcenter: str
    host: str | None
    cluster: str | None
    power_state: PowerState
    hardware_version: int
    requirement: Requirement
    min_required_evc_mode: str | None
    per_vm_evc: str | None
    template: bool
    guest_id: str | None
    guest_os: str | None

    def __init__(self, name: str, vcenter: str, host: str | None, cluster: str | None,  # noqa: PLR0913
                 power_state: PowerState, hardware_version: int, requirement: Requirement,
                 min_required_evc_mode: str | None, per_vm_evc: str | None, template: bool,
                 guest_id: str | None, guest_os: str | None) -> None:
        """The fields of `VM`, in its order."""
        self.name = name
        self.vcenter = vcenter
        self.host = host
        self.cluster = cluster
        self.power_state = power_state
        self.hardware_version = hardware_version
        self.requirement = requirement
        self.min_required_evc_mode = min_required_evc_mode
        self.per_vm_evc = per_vm_evc
        self.template = template
        self.guest_id = guest_id
        self.guest_os = guest_os


def _as_vms(built: list[Any]) -> list[VM]:
    """`_VMSlots` objects made `VM` objects, in place (by the ``__class__`` setter itself: what
    ``object.__setattr__(vm, "__class__", VM)`` does, without finding the setter again for each VM)."""
    deque(map(_SET_CLASS, built, repeat(VM)), maxlen=0)
    return built


_SET_CLASS = object.__dict__["__class__"].__set__
_VM_FIELDS = tuple(f.name for f in attrs.fields(VM))


def _vm_builder() -> type[_VMSlots] | type[VM]:
    """`_VMSlots` when it builds exactly what `VM` does (same fields, in order, nothing else run by
    ``VM.__init__``: no validator, converter or post-init hook; the same layout); else `VM` itself."""
    fields = attrs.fields(VM)
    try:
        args = [f"{f.name}-value" for f in fields]
        made = _as_vms([_VMSlots(*args)])[0]  # type: ignore[arg-type]
    except TypeError:  # not the same layout, or not the same fields
        return VM
    if hasattr(VM, "__attrs_post_init__") or any(f.validator or f.converter for f in fields) or \
            made != VM(*args) or [getattr(made, f.name) for f in fields] != args:  # type: ignore[arg-type]
        return VM
    return _VMSlots


_VM_BUILDER = _vm_builder()


def _decide_list(entries: Any, i: int, v: Mapping[str, Any], reader: _VCenterReader) -> _Decided | None:
    """What one VM's (truthy) ``featureRequirement`` asks, remembered by list object and by content;
    None when it is not a valid list (the problems recorded)."""
    if not isinstance(entries, list):
        reader.problems.add(reader.place(i, v) + ".feature_requirement", "must be a list of {key, value}")
        return None
    shared = reader.problems.shared.get(id(entries))
    if shared is not None:
        return shared[1]
    memo = reader.problems.lists
    key: tuple[tuple[Any, Any], ...] | None
    try:
        key = tuple(map(_KEY_VALUE, entries))
        decided = memo.get(key)
    except (KeyError, TypeError):  # an entry that is not an object with both, or an unhashable value
        key = decided = None
    if decided is None:
        decided = _decide_entries(entries, i, v, reader)
        if decided is None:
            return None
        if key is not None:
            memo[key] = decided
    reader.problems.shared[id(entries)] = (entries, decided)
    return decided


def _requirement(
    v: Mapping[str, Any], i: int, per_vm: str | None, min_req: str | None, host_vendor: str | None,
    reader: _VCenterReader,
) -> Requirement | None:
    if per_vm is not None:
        # Per-VM EVC pins the VM's CPU features to the mode, whatever host it runs on.
        return reader.mode_requirement("perVmEvc", per_vm)
    entries = v.get("feature_requirement")
    if entries:
        decided = _decide_list(entries, i, v, reader)
        return decided.requirement(host_vendor) if decided is not None else None
    if min_req is not None:
        return reader.mode_requirement("minRequiredEVCModeKey", min_req)
    return reader.no_requirement(host_vendor)


def _decide_entries(entries: list[Any], i: int, v: Mapping[str, Any], reader: _VCenterReader) -> _Decided | None:
    """What a ``featureRequirement`` list asks; None when an entry is malformed (each one recorded).

    Only a list whose every entry is valid is decided (and so remembered): its values are then text
    like ``Bool:Min:1``, so a list with equal (key, value) pairs is the same list, never a number
    that compares equal to it.
    """
    problems = reader.problems
    reg = reader.catalog.features
    mask, vendor, unevaluated, valid = 0, None, [], True
    memo = problems.entries
    for j, e in enumerate(entries):
        # The place of an entry is spelt out only when it is wrong: valid entries cost a lookup.
        if not isinstance(e, dict) or not isinstance(e.get("key"), str):
            problems.add(f"{reader.place(i, v)}.feature_requirement[{j}]", "needs 'key' and 'value'")
            valid = False
            continue
        key, value = e["key"], str(e.get("value", ""))
        meaning = memo.get((key, value), _UNSEEN)
        if meaning is _UNSEEN:
            meaning = memo[(key, value)] = _entry_meaning(key, value, reg)
        if meaning is None:
            problems.add(f"{reader.place(i, v)}.feature_requirement[{j}]",
                         f"value {value!r} is not like Bool:Min:1 or Num:Min:13")
            valid = False
            continue
        bit, entry_vendor = meaning
        if bit < 0:
            unevaluated.append(key)
        elif entry_vendor is not None:
            vendor = entry_vendor
        else:
            mask |= bit
    return _Decided(reg.feature_set(mask), vendor, tuple(unevaluated)) if valid else None


_UNSEEN: Any = object()


def _entry_meaning(key: str, value: str, reg: FeatureRegistry) -> tuple[int, str | None] | None:
    """What one ``featureRequirement`` entry asks: (feature bit or 0, None), (0, vendor) for a vendor
    entry that is set, (-1, None) for a key evckit does not know; None for a malformed value."""
    m = _REQ.match(value)
    if not m:
        return None
    try:
        num = int(m.group(3), 0)
    except ValueError:
        num = 1 if m.group(3).upper() == "TRUE" else 0
    f = reg.by_vsphere_key(key)
    if f is None:
        return -1, None
    if f.kind == "vendor":
        return 0, vendor_word(f.vendor_string) if num else None
    return (f.bit if m.group(2).lower() in ("min", "match") and num >= 1 else 0), None


#: A VM as a reader that has already typed its values gives it to `VCenterBuilder.vms`: (name, power
#: state, hardware version ``vmx-NN``, host, cluster, template, min_required_evc_mode, guest OS).
VMRow = tuple[str, str, str, "str | None", "str | None", bool, "str | None", "str | None"]
#: The snapshot schema's patterns of a VM's hardware version and per-VM EVC mode key, as full matches
#: (the schema's ``$`` also admits a final newline: a VM with one is left to the schema check).
_VMX_TEXT = re.compile(r"vmx-[1-9][0-9]?")
_PER_VM_TEXT = re.compile(r"[A-Za-z]+(?:-[A-Za-z0-9]+)+")


class VCenterBuilder:
    """One vCenter's clusters, hosts and VMs built from values a reader has already typed, with the
    decisions `parse_snapshot` makes of the same values in a document, without the document.

    For a reader that builds an `Inventory` of its rows (the RVTools import, 100,000 VMs) rather than a
    snapshot document it would then check and parse: clusters' and hosts' values go through the
    snapshot parser's own code (`_mode_key`, `_parse_host`), VMs' hardware versions, mode keys and
    requirements through its `_VCenterReader` (the same memos, the same shared `Requirement` objects).
    Nothing here words a problem for the user: once anything would be a problem of the document,
    `ok` is False and the caller parses its document, whose `SnapshotError` names each problem's place.
    """

    def __init__(self, name: str, catalog: Catalog, table: ModeTable | None = None) -> None:
        """An empty vCenter ``name``, its modes from ``table`` (the catalog's by default)."""
        self.name = name
        self.catalog = catalog
        self.table = table or catalog.modes
        self.problems = _Problems()
        self.clusters: dict[str, Cluster] = {}
        self.hosts: dict[str, Host] = {}
        self._cluster_names: set[str] = set()
        self._reader = _VCenterReader(name, "", self.hosts, self._cluster_names, self.table, catalog, self.problems)
        self._files = _CpuidFiles(None, ())
        self._by_mode: dict[str, CpuProfile] = {}
        self._builds: set[str] = set()  # esxi_build texts that match the schema's pattern
        self._made: dict[tuple[Any, ...], Host] = {}  # a host's values but its name and cluster -> the host read
        self._clean = bool(name)

    @property
    def ok(self) -> bool:
        """Whether everything so far is what `parse_snapshot` would read without a problem."""
        return self._clean and not self.problems.items

    def cluster(self, name: str, evc_mode: str | None) -> Cluster:
        """A cluster (``evc_mode``: an EVC mode key, None when EVC is disabled)."""
        if not name or name in self._cluster_names:
            self._clean = False
        if evc_mode is not None:
            evc_mode = _mode_key(evc_mode, self.table, "", self.problems)
        cluster = self.clusters[name] = Cluster(name, self.name, evc_mode)
        self._cluster_names.add(name)
        return cluster

    def host(self, h: Mapping[str, Any]) -> Host | None:
        """A host from its snapshot object (``name``, ``cluster``, ``esxi_version``, ``cpu``…, no
        ``cpuid_file``), after its cluster; None when its CPU cannot be told."""
        name = h.get("name")
        if not isinstance(name, str) or not name or name in self.hosts or "cpuid_file" in (h.get("cpu") or {}):
            self._clean = False
            return None
        build = h.get("esxi_build")
        if isinstance(build, str) and build not in self._builds:  # the schema's pattern, once per build
            if not _BUILD_TEXT.fullmatch(build):
                self._clean = False
            else:
                self._builds.add(build)
        # As `_read_hosts` does: a host whose values but its name and cluster are a host's read before
        # (exact text, true or false, null; its CPU known by its model or Max EVC alone) is that host
        # under its own name, in its own cluster (one of the vCenter's: else `_parse_host` words why).
        cpu, cluster = h.get("cpu"), h.get("cluster")
        key: tuple[Any, ...] | None = None
        if type(cpu) is dict and (not cpu or (len(cpu) == 1 and "model" in cpu)) and \
                (cluster is None or type(cluster) is str):
            key = (h.get("esxi_version"), h.get("esxi_build", h.get("build")), h.get("connection_state", "connected"),
                   h.get("maintenance", False), cpu.get("model"), h.get("max_evc_mode"))
            if not all(map(_HOST_VALUE_TYPES.__contains__, map(type, key))):
                key = None
        first = self._made.get(key) if key is not None else None
        if first is not None and (cluster is None or cluster in self._cluster_names):
            host: Host | None = Host(name, self.name, cluster, first.cpu, first.esxi_version, first.connection_state,
                                     first.maintenance, first.cpu_model, first.vcenter_max_evc_mode, first.esxi_build)
        else:
            mark = len(self.problems.items)
            host = _parse_host(h, "", self.name, self._cluster_names, self.table, self.catalog, self._files,
                               self.problems, self._by_mode)
            if host is not None and key is not None and len(self.problems.items) == mark:
                self._made[key] = host
        if host is not None:
            self.hosts[name] = host
        return host

    def hardware(self, text: str) -> int | None:
        """A hardware version (``vmx-19``) as its number; None when it is not one a snapshot may hold."""
        hw = self._reader.hw.get(text)
        if hw is None and _VMX_TEXT.fullmatch(text):
            hw = self._reader.hardware(text, 0, {"name": ""})
        return hw or None

    def min_required(self, key: str) -> tuple[str, Requirement] | None:
        """A minimum required EVC mode key: (the table's key, the requirement it stands for); None when
        it is not a key of this vCenter's modes."""
        known = self._reader.mode_key(key, 0, {"name": ""}, "min_required_evc_mode")
        if known is None:
            return None
        return known, self._reader.mode_requirement("minRequiredEVCModeKey", known)

    def no_requirement(self, vendor: str | None) -> Requirement:
        """The requirement of a VM that records none, on a host of ``vendor`` (None: no host)."""
        return self._reader.no_requirement(vendor)

    #: What builds a VM fast, ``new_vm(*fields of VM)`` (the snapshot parser's builder); `made` then
    #: makes the objects `VM` objects.
    new_vm: Any = _VM_BUILDER

    #: The class of `new_vm`'s objects when a reader may make one with ``object.__new__`` and store each
    #: field of `VM` itself (no class call: 0.2 µs a VM); None when only ``new_vm(...)`` builds a VM.
    vm_slots: Any = _VMSlots if _VM_BUILDER is _VMSlots else None

    def made(self, objects: list[Any], mixed: bool = True) -> None:
        """The objects `new_vm` built, in a list that may hold other things (``mixed``; else only
        them), made `VM` objects in place."""
        if _VM_BUILDER is _VMSlots:
            _as_vms([vm for vm in objects if type(vm) is _VMSlots] if mixed else objects)

    def vms(self, rows: Iterable[VMRow]) -> list[VM] | None:
        """VMs as `parse_snapshot` builds them of the same values (a VM on a host takes its cluster and
        vendor); None when any would be a problem (a host or cluster the vCenter lacks, a value that is
        not one). Names are not checked here: each must be used once in the vCenter."""
        out: list[VM] = []
        for name, state, hw_text, host, cluster, template, min_req, guest in rows:
            hw = self.hardware(hw_text)
            if hw is None or state not in _POWER_STATE_EXACT or not name:
                return None
            if host is not None:
                host_obj = self.hosts.get(host)
                if host_obj is None or cluster is not None and cluster != host_obj.cluster:
                    return None
                cluster, vendor = host_obj.cluster, host_obj.cpu.vendor
            elif cluster is None or cluster not in self._cluster_names:
                return None
            else:
                vendor = None
            req = self.no_requirement(vendor)
            if min_req is not None:
                decided = self.min_required(min_req)
                if decided is None:
                    return None
                min_req, req = decided
            out.append(VM(name, self.name, host, cluster, _POWER_STATE_EXACT[state], hw, req, min_req, None,
                          template, None, guest or None))
        return out


_BUILD_TEXT = re.compile(r"\s*(?:(?:[Rr]elease)?[Bb]uild[-:# ]*)?[0-9]{1,10}\s*")  # the snapshot schema's esxi_build


def example_path() -> Path:
    """The embedded example estate shipped with evckit."""
    from evckit._resources import data_dir  # noqa: PLC0415

    return data_dir() / "examples" / "estate.json"


def load_source(path: str | Path, catalog: Catalog | None = None,
                cpuid_dirs: Sequence[str | Path] = ()) -> Inventory:
    """Read one inventory source, its format told by the content: a snapshot (JSON), an RVTools ``.xlsx``
    export, or a folder holding an RVTools CSV export (``RVTools_tabvInfo.csv``, ``RVTools_tabvHost.csv``…)."""
    path = Path(path)
    if path.is_dir() or _is_zip(path):
        from evckit.rvtools import read_inventory  # noqa: PLC0415 - the export reader loads only when needed

        return read_inventory(path, catalog)
    return load_snapshot(path, catalog, cpuid_dirs)


def _is_zip(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"PK\x03\x04"
    except OSError:
        return False  # load_snapshot says why


def load_inventories(paths: Sequence[str | Path], example: bool = False,
                     catalog: Catalog | None = None, cpuid_dirs: Sequence[str | Path] = ()) -> Inventory:
    """Load snapshots and RVTools exports (and/or the example) into one inventory of all their vCenters.

    ``cpuid_dirs``: folders besides each snapshot's own where its ``cpuid_file`` entries may point.
    """
    catalog = catalog or Catalog.builtin()
    sources = [Path(p) for p in paths]
    if example:
        sources.insert(0, example_path())
    return merge_inventories([load_source(p, catalog, cpuid_dirs) for p in sources], catalog)


def merge_inventories(inventories: Sequence[Inventory], catalog: Catalog | None = None) -> Inventory:
    """One inventory holding every vCenter of several (snapshot files, a collection, an RVTools export).

    vCenter names must be unique across them: the same vCenter twice raises `SnapshotError` naming both
    sources. A single inventory is returned as it is.
    """
    if not inventories:
        raise ValueError("merge_inventories needs at least one inventory")
    if len(inventories) == 1:
        return inventories[0]
    catalog = catalog or inventories[0].catalog
    seen: dict[str, str] = {}
    problems = ProblemCollector()
    for inv in inventories:
        for vc in inv.vcenters:
            if vc.name in seen:
                problems.add(f"vCenter {vc.name!r} is in both {seen[vc.name]} and {inv.source}")
            seen.setdefault(vc.name, inv.source)
    source = " + ".join(i.source for i in inventories)
    if problems:
        raise SnapshotError(source, problems.items)
    return Inventory(
        tuple(vc for i in inventories for vc in i.vcenters), tuple(c for i in inventories for c in i.clusters),
        tuple(h for i in inventories for h in i.hosts), tuple(v for i in inventories for v in i.vms), catalog,
        source, tuple(n for i in inventories for n in i.notes),
    )
