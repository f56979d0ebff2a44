"""The estate model (`Host`, `Cluster`, `VM`, `Inventory`) and its versioned JSON snapshot format.

A snapshot can hold several vCenters. Every reader (snapshot file, vCenter collector) produces the same
`Inventory`; the analysis never knows where data came from. `load_snapshot` checks the whole file and
raises one `SnapshotError` that lists every problem with its place.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from evckit.catalog import Catalog
from evckit.errors import EvckitError, InputError, SnapshotError
from evckit.features import FeatureSet
from evckit.hardware import parse_esxi_version, parse_hw_version
from evckit.hosts import VENDORS, CpuProfile, profile_from_data, profile_from_mode, profile_from_name
from evckit.modes import EvcMode, ModeTable
from evckit.vcmodes import modes_from_vcenter

__all__ = [
    "SNAPSHOT_VERSION",
    "Cluster",
    "Host",
    "Inventory",
    "VCenter",
    "VM",
    "Requirement",
    "load_inventories",
    "load_snapshot",
    "merge_inventories",
    "parse_snapshot",
]

#: The snapshot format version this evckit reads and writes.
SNAPSHOT_VERSION = 1

POWER_STATES = {"poweredon": "poweredOn", "poweredoff": "poweredOff", "suspended": "suspended",
                "on": "poweredOn", "off": "poweredOff"}
CONNECTION_STATES = ("connected", "disconnected", "notResponding")
_REQ = re.compile(r"^(?:(Bool|Num|Str):)?(Min|Max|Match):(.+)$", re.IGNORECASE)


@attrs.frozen
class VCenter:
    """One vCenter of the snapshot, and its own EVC mode definitions when the snapshot carries them."""

    name: str
    version: str | None = None
    build: str | None = None
    modes: ModeTable | None = None


@attrs.frozen
class Cluster:
    """A cluster: its name, its vCenter, and its current EVC mode (None: EVC disabled)."""

    name: str
    vcenter: str
    evc_mode: str | None = None


@attrs.frozen
class Host:
    """An ESXi host: where it is, what it runs, and its CPU profile (measured or assumed).

    Attributes:
        cpu: the CPU profile; ``cpu.assumed`` tells whether it was measured or inferred from a name or
            mode key.
        vcenter_max_evc_mode: vCenter's own ``summary.maxEVCModeKey`` for the host, if recorded.
    """

    name: str
    vcenter: str
    cluster: str | None
    cpu: CpuProfile
    esxi_version: str | None = None
    connection_state: str = "connected"
    maintenance: bool = False
    cpu_model: str | None = None
    vcenter_max_evc_mode: str | None = None

    @property
    def available(self) -> bool:
        """True when the host can receive VMs: connected and not in maintenance mode."""
        return self.connection_state == "connected" and not self.maintenance


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
    source: str
    vendor: str | None = None
    unevaluated: tuple[str, ...] = ()


@attrs.frozen
class VM:
    """A virtual machine: where it runs, its power state and hardware version, what it requires."""

    name: str
    vcenter: str
    host: str | None
    cluster: str | None
    power_state: str
    hardware_version: int
    requirement: Requirement
    min_required_evc_mode: str | None = None
    per_vm_evc: str | None = None
    template: bool = False
    guest_id: str | None = None

    @property
    def running(self) -> bool:
        """Powered on or suspended: it carries CPU features and needs a live (vMotion) target."""
        return self.power_state in ("poweredOn", "suspended") and not self.template


@attrs.frozen(eq=False)
class Inventory:
    """An estate: vCenters, clusters, hosts and VMs, checked for consistency."""

    vcenters: tuple[VCenter, ...]
    clusters: tuple[Cluster, ...]
    hosts: tuple[Host, ...]
    vms: tuple[VM, ...]
    catalog: Catalog
    source: str = "<inventory>"

    def modes_for(self, vcenter: str) -> ModeTable:
        """The EVC modes that govern one vCenter's objects: its own definitions if known, else shipped."""
        for vc in self.vcenters:
            if vc.name == vcenter and vc.modes is not None:
                return vc.modes
        return self.catalog.modes

    def mode(self, vcenter: str, key: str) -> EvcMode:
        """An EVC mode as one vCenter defines it."""
        return self.modes_for(vcenter).get(key)

    def cluster_label(self, cluster: Cluster | tuple[str, str]) -> str:
        """How reports name a cluster: ``name``, or ``vcenter/name`` when the snapshot has several vCenters.

        In the two-part form a ``/`` or ``\\`` inside either name is written ``\\/`` or ``\\\\``, so
        that two clusters never share a label (vCenter ``a`` with cluster ``b/c`` is ``a/b\\/c``,
        vCenter ``a/b`` with cluster ``c`` is ``a\\/b/c``).
        """
        vc, name = (cluster.vcenter, cluster.name) if isinstance(cluster, Cluster) else cluster
        return f"{_label_part(vc)}/{_label_part(name)}" if len(self.vcenters) > 1 else name


def _label_part(name: str) -> str:
    """One part of a two-part cluster label, with the separator escaped."""
    return name.replace("\\", "\\\\").replace("/", "\\/")


# --- loading -------------------------------------------------------------------------------------


class _Problems:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.items.append(f"{where}: {message}" if where else message)


def load_snapshot(path: str | Path, catalog: Catalog | None = None) -> Inventory:
    """Read and check a snapshot file; raise `SnapshotError` (one line per problem) when it is bad."""
    path = Path(path)
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{source}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{source}: is a directory, not a snapshot file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{source}: cannot read: {exc}") from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SnapshotError(source, [f"line {exc.lineno} column {exc.colno}: invalid JSON: {exc.msg}"]) from None
    return parse_snapshot(obj, source, catalog, base_dir=path.parent)


def parse_snapshot(
    obj: object, source: str = "<snapshot>", catalog: Catalog | None = None, base_dir: Path | None = None
) -> Inventory:
    """Build an `Inventory` from a parsed snapshot; raise `SnapshotError` listing every problem."""
    catalog = catalog or Catalog.builtin()
    problems = _Problems()
    if not isinstance(obj, dict):
        raise SnapshotError(source, ["top level must be a JSON object"])
    version = obj.get("evckit_snapshot")
    if version != SNAPSHOT_VERSION:
        raise SnapshotError(source, [f"evckit_snapshot: unsupported snapshot version {version!r} "
                                     f"(this evckit reads version {SNAPSHOT_VERSION})"])
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
        _parse_vcenter(vc, name, where, table, catalog, base_dir, problems, clusters, hosts, vms)
    if problems.items:
        raise SnapshotError(source, problems.items)
    return Inventory(tuple(vcenters), tuple(clusters), tuple(hosts), tuple(vms), catalog, source)


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
    base_dir: Path | None, problems: _Problems, clusters: list[Cluster], hosts: list[Host], vms: list[VM],
) -> None:
    cluster_names: set[str] = set()
    for c, cw in _named(vc, "clusters", "cluster", where, problems):
        cluster_names.add(c["name"])
        evc = c.get("evc_mode")
        if evc is not None:
            evc = _mode_key(evc, table, cw + ".evc_mode", problems)
        clusters.append(Cluster(c["name"], vc_name, evc))

    host_by_name: dict[str, Host] = {}
    for h, hw in _named(vc, "hosts", "host", where, problems):
        cluster = h.get("cluster")
        if cluster is not None and cluster not in cluster_names:
            problems.add(hw, f"cluster {cluster!r} is not a cluster of this vCenter")
        esxi = h.get("esxi_version")
        if esxi is not None:
            try:
                parse_esxi_version(str(esxi))
            except InputError as exc:
                problems.add(hw + ".esxi_version", str(exc))
                esxi = None
        state = h.get("connection_state", "connected")
        if state not in CONNECTION_STATES:
            problems.add(hw + ".connection_state", f"{state!r} is not one of {', '.join(CONNECTION_STATES)}")
            state = "disconnected"
        vc_max = h.get("max_evc_mode")
        if vc_max is not None:
            vc_max = _mode_key(vc_max, table, hw + ".max_evc_mode", problems)
        cpu = _host_cpu(h, hw, vc_max, table, catalog, base_dir, problems)
        if cpu is None:
            continue
        host = Host(h["name"], vc_name, cluster, cpu, _str(esxi), state, bool(h.get("maintenance", False)),
                    _str((h.get("cpu") or {}).get("model")) if isinstance(h.get("cpu"), dict) else None, vc_max)
        host_by_name[host.name] = host
        hosts.append(host)

    for v, vw in _named(vc, "vms", "VM", where, problems):
        vm = _parse_vm(v, vc_name, vw, host_by_name, cluster_names, table, catalog, problems)
        if vm is not None:
            vms.append(vm)


def _named(vc: Mapping[str, Any], key: str, what: str, where: str,
           problems: _Problems) -> Iterator[tuple[Mapping[str, Any], str]]:
    """The objects of one list that have a non-empty, not yet seen 'name', with their place."""
    seen: set[str] = set()
    for i, obj in enumerate(_list(vc, key, where, problems)):
        place = f"{where}.{key}[{i}]"
        if not isinstance(obj, dict) or not _str(obj.get("name")):
            problems.add(place, "needs a non-empty 'name'")
            continue
        place += f" ({obj['name']})"
        if obj["name"] in seen:
            problems.add(place, f"duplicate {what} name {obj['name']!r}")
            continue
        seen.add(obj["name"])
        yield obj, place


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
    base_dir: Path | None, problems: _Problems,
) -> CpuProfile | None:
    cpu = h.get("cpu") or {}
    if not isinstance(cpu, dict):
        problems.add(where + ".cpu", "must be an object")
        return None
    measured: list[CpuProfile] = []
    src = f"{where}.cpu"
    if {"cpuid_file", "cpuid_text", "cpu_feature", "feature_capability"} & cpu.keys():
        from evckit.cpuid import parse_cpu_data, read_cpu_data  # noqa: PLC0415 - readers load only when needed
    try:
        if "cpuid_file" in cpu:
            path = Path(str(cpu["cpuid_file"]))
            if not path.is_absolute() and base_dir is not None:
                path = base_dir / path
            measured.append(profile_from_data(read_cpu_data(path), catalog))
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
    mode_key = cpu.get("max_evc_mode") or vc_max
    try:
        if mode_key:
            return profile_from_mode(table.get(str(mode_key)).key, catalog, source=f"{h['name']} (maxEVCModeKey)",
                                     modes=table)
        if cpu.get("model"):
            return profile_from_name(str(cpu["model"]), catalog)
    except EvckitError as exc:
        problems.add(src, str(exc))
        return None
    problems.add(src, "no CPU data: give cpuid_file, cpuid_text, cpu_feature, feature_capability, "
                      "max_evc_mode or model")
    return None


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


def _parse_vm(  # noqa: PLR0913
    v: Mapping[str, Any], vc_name: str, where: str, hosts: Mapping[str, Host], clusters: Iterable[str],
    table: ModeTable, catalog: Catalog, problems: _Problems,
) -> VM | None:
    bad = len(problems.items)
    host, cluster = v.get("host"), v.get("cluster")
    if host is not None:
        if host not in hosts:
            problems.add(where, f"host {host!r} is not a host of this vCenter")
        elif cluster is None:
            cluster = hosts[host].cluster
        elif hosts[host].cluster != cluster:
            problems.add(where, f"host {host!r} is in cluster {hosts[host].cluster!r}, not {cluster!r}")
    if cluster is not None and cluster not in set(clusters):
        problems.add(where, f"cluster {cluster!r} is not a cluster of this vCenter")
    if host is None and cluster is None:
        problems.add(where, "needs 'host' or 'cluster'")
    state = POWER_STATES.get(str(v.get("power_state", "")).lower())
    if state is None:
        problems.add(where + ".power_state", f"{v.get('power_state')!r} is not poweredOn, poweredOff or suspended")
    try:
        hw = parse_hw_version(v.get("hardware_version", ""))
    except InputError as exc:
        problems.add(where + ".hardware_version", str(exc))
        hw = 0
    per_vm = v.get("per_vm_evc")
    if per_vm is not None:
        per_vm = _mode_key(per_vm, table, where + ".per_vm_evc", problems)
        if hw and hw < 14:
            problems.add(where + ".per_vm_evc", f"per-VM EVC needs hardware version 14 or later, VM is vmx-{hw}")
    min_req = v.get("min_required_evc_mode") or None
    if min_req is not None:
        min_req = _mode_key(min_req, table, where + ".min_required_evc_mode", problems)
    if len(problems.items) > bad:
        return None
    host_vendor = hosts[host].cpu.vendor if isinstance(host, str) and host in hosts else None
    req = _requirement(v, where, per_vm, min_req, host_vendor, table, catalog, problems)
    if req is None:
        return None
    return VM(v["name"], vc_name, host, cluster, str(state), hw, req, min_req, per_vm,
              bool(v.get("template", False)), _str(v.get("guest_id")))


def _requirement(  # noqa: PLR0913
    v: Mapping[str, Any], where: str, per_vm: str | None, min_req: str | None, host_vendor: str | None,
    table: ModeTable, catalog: Catalog, problems: _Problems,
) -> Requirement | None:
    reg = catalog.features
    if per_vm is not None:
        # Per-VM EVC pins the VM's CPU features to the mode, whatever host it runs on.
        mode = table.get(per_vm)
        return Requirement(mode.features, "perVmEvc", mode.vendor)
    entries = v.get("feature_requirement")
    if entries:
        if not isinstance(entries, list):
            problems.add(where + ".feature_requirement", "must be a list of {key, value}")
            return None
        mask, vendor, unevaluated = 0, None, []
        for j, e in enumerate(entries):
            ew = f"{where}.feature_requirement[{j}]"
            if not isinstance(e, dict) or not isinstance(e.get("key"), str):
                problems.add(ew, "needs 'key' and 'value'")
                continue
            key, value = e["key"], str(e.get("value", ""))
            m = _REQ.match(value)
            if not m:
                problems.add(ew, f"value {value!r} is not like Bool:Min:1 or Num:Min:13")
                continue
            try:
                num = int(m.group(3), 0)
            except ValueError:
                num = 1 if m.group(3).upper() == "TRUE" else 0
            f = reg.by_vsphere_key(key)
            if f is None:
                unevaluated.append(key)
                continue
            if f.kind == "vendor":
                if num:
                    vendor = _vendor_of(f.vendor_string)
                continue
            if m.group(2).lower() in ("min", "match") and num >= 1:
                mask |= f.bit
        return Requirement(reg.feature_set(mask), "featureRequirement", vendor or host_vendor, tuple(unevaluated))
    if min_req is not None:
        mode = table.get(min_req)
        return Requirement(mode.features, "minRequiredEVCModeKey", mode.vendor)
    return Requirement(reg.feature_set(0), "none", host_vendor)


def _vendor_of(vendor_string: str | None) -> str | None:
    return VENDORS.get(vendor_string or "")


def example_path() -> Path:
    """The embedded example estate shipped with evckit."""
    from evckit._resources import data_dir  # noqa: PLC0415

    return data_dir() / "examples" / "estate.json"


def load_inventories(paths: Sequence[str | Path], example: bool = False,
                     catalog: Catalog | None = None) -> Inventory:
    """Load one or more snapshots (and/or the example) into one inventory of all their vCenters."""
    catalog = catalog or Catalog.builtin()
    sources = [Path(p) for p in paths]
    if example:
        sources.insert(0, example_path())
    return merge_inventories([load_snapshot(p, catalog) for p in sources], catalog)


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
    problems = []
    for inv in inventories:
        for vc in inv.vcenters:
            if vc.name in seen:
                problems.append(f"vCenter {vc.name!r} is in both {seen[vc.name]} and {inv.source}")
            seen.setdefault(vc.name, inv.source)
    source = " + ".join(i.source for i in inventories)
    if problems:
        raise SnapshotError(source, problems)
    return Inventory(
        tuple(vc for i in inventories for vc in i.vcenters), tuple(c for i in inventories for c in i.clusters),
        tuple(h for i in inventories for h in i.hosts), tuple(v for i in inventories for v in i.vms), catalog,
        source,
    )
