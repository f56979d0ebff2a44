"""Pre-purchase what-if: add, replace or retire hosts by CPU model and see what changes.

A `Scenario` is a list of changes applied to an `Inventory`; `run_scenario` analyses the estate before
and after and reports, per affected cluster, the maximum EVC mode before and after, whether each new
host can join at the cluster's current mode (and why not), the VMs that gain or lose the cluster as a
live target, and the running VMs that would need a power cycle to use a raised mode.
`compare_cpus` ranks candidate CPUs for one cluster.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import attrs

from evckit.analysis import Analysis, ClusterResult, analyze
from evckit.catalog import Catalog
from evckit.errors import InputError
from evckit.features import FeatureSet
from evckit.hosts import CpuProfile, assess, profile_from_data, profile_from_mode, profile_from_name
from evckit.inventory import Host, Inventory
from evckit.modes import EvcMode

__all__ = [
    "AddHosts",
    "Candidate",
    "ClusterChange",
    "NewHost",
    "RemoveHost",
    "ReplaceHosts",
    "Scenario",
    "ScenarioResult",
    "compare_cpus",
    "parse_host_spec",
    "resolve_cpu",
    "run_scenario",
]

_COUNT = re.compile(r"^(?P<cpu>.*?)\s*[x×*]\s*(?P<n>\d{1,4})\s*$")


@attrs.frozen
class AddHosts:
    """Add ``count`` hosts with CPU ``cpu`` (a name, codename, EVC mode key or dump path) to a cluster."""

    cluster: str
    cpu: str
    count: int = 1


@attrs.frozen
class ReplaceHosts:
    """Retire every host of a cluster and put ``count`` hosts with CPU ``cpu`` in their place."""

    cluster: str
    cpu: str
    count: int = 1


@attrs.frozen
class RemoveHost:
    """Retire one host by name."""

    host: str


Change = AddHosts | ReplaceHosts | RemoveHost


@attrs.frozen
class Scenario:
    """Changes to apply, in order. New hosts are named ``{prefix}1``, ``{prefix}2``… and run
    ``esxi_version`` (default: the newest ESXi of the estate, as newly bought hosts would)."""

    changes: tuple[Change, ...]
    prefix: str = "new-"
    esxi_version: str | None = None


def parse_host_spec(text: str, option: str) -> tuple[str, str, int]:
    """``"CLUSTER=CPU[xN]"`` -> (cluster, cpu, n); a malformed spec raises `InputError` naming the option."""
    cluster, sep, cpu = text.partition("=")
    if not sep or not cluster.strip() or not cpu.strip():
        raise InputError(f"{option} {text!r}: expected CLUSTER=CPU or CLUSTER=CPUxN, e.g. 'gold=Xeon Gold 6430x2'")
    count = 1
    m = _COUNT.match(cpu)
    if m and m.group("cpu").strip() and not _is_file(cpu.strip()):
        cpu, count = m.group("cpu"), int(m.group("n"))
    if count < 1:
        raise InputError(f"{option} {text!r}: the host count must be at least 1")
    return cluster.strip(), cpu.strip(), count


def _is_file(spec: str) -> bool:
    """Does a CPU spec name an existing path? A name too long to be a path (ENAMETOOLONG) is not one."""
    try:
        return Path(spec).exists()
    except (OSError, ValueError):  # too long, or a NUL byte
        return False


def resolve_cpu(spec: str, catalog: Catalog) -> CpuProfile:
    """A CPU profile from a dump path, an EVC mode key, or a product name / brand string / codename."""
    if _is_file(spec):
        from evckit.cpuid import read_cpu_data  # noqa: PLC0415 - readers load only when needed

        return profile_from_data(read_cpu_data(spec), catalog)
    if spec.lower() in catalog.modes:
        return profile_from_mode(spec.lower(), catalog)
    return profile_from_name(spec, catalog)


@attrs.frozen
class NewHost:
    """A hypothetical host and whether it can join its cluster at the cluster's current EVC mode."""

    name: str
    cluster: str
    cpu: str
    assumed: bool
    max_evc_mode: str | None
    joins_current_mode: bool | None
    missing_for_current: tuple[str, ...]
    reason: str | None


@attrs.frozen
class ClusterChange:
    """What a scenario changes for one cluster."""

    cluster: str
    evc_mode: str | None
    max_evc_mode_before: str | None
    max_evc_mode_after: str | None
    new_hosts: tuple[NewHost, ...]
    removed_hosts: tuple[str, ...]
    vms_gaining: tuple[str, ...]
    vms_losing: tuple[str, ...]
    power_cycle_mode: str | None
    vms_needing_power_cycle: tuple[str, ...]
    vms_to_evacuate: tuple[str, ...]


@attrs.frozen
class ScenarioResult:
    """The estate before and after a scenario, and the changes between them."""

    before: Analysis
    after: Analysis
    changes: tuple[ClusterChange, ...]


def apply(inventory: Inventory, scenario: Scenario) -> tuple[Inventory, list[NewHost], dict[str, list[str]]]:
    """The inventory after the scenario, the new hosts, and the removed hosts per cluster."""
    catalog = inventory.catalog
    hosts = list(inventory.hosts)
    clusters = {(c.vcenter, c.name): c for c in inventory.clusters}
    names = {h.name for h in hosts}
    new: list[NewHost] = []
    removed: dict[str, list[str]] = {}
    counter = 0

    def cluster_of(name: str) -> tuple[str, str]:
        matches = [c for c in inventory.clusters if name in (c.name, inventory.cluster_label(c))]
        if not matches:
            known = ", ".join(inventory.cluster_label(c) for c in inventory.clusters)
            raise InputError(f"unknown cluster {name!r} (clusters: {known})")
        return matches[0].vcenter, matches[0].name

    for change in scenario.changes:
        if isinstance(change, RemoveHost):
            victim = next((h for h in hosts if h.name == change.host), None)
            if victim is None:
                raise InputError(f"--remove-host {change.host!r}: no such host")
            hosts.remove(victim)
            removed.setdefault(victim.cluster or "", []).append(victim.name)
            continue
        vc, cname = cluster_of(change.cluster)
        if isinstance(change, ReplaceHosts):
            for h in [h for h in hosts if h.vcenter == vc and h.cluster == cname]:
                hosts.remove(h)
                removed.setdefault(cname, []).append(h.name)
        profile = resolve_cpu(change.cpu, catalog)
        esxi = scenario.esxi_version or _newest_esxi(inventory)
        mode_key = clusters[(vc, cname)].evc_mode
        for _ in range(change.count):
            counter += 1
            while f"{scenario.prefix}{counter}" in names:
                counter += 1
            name = f"{scenario.prefix}{counter}"
            names.add(name)
            hosts.append(Host(name, vc, cname, attrs.evolve(profile, source=name), esxi, cpu_model=change.cpu))
            new.append(_join(name, cname, change.cpu, profile, mode_key, inventory, vc))
    after = attrs.evolve(inventory, hosts=tuple(hosts), source=inventory.source + " (what-if)")
    return after, new, removed


def _newest_esxi(inventory: Inventory) -> str | None:
    """The newest ESXi version any host of the estate runs."""
    catalog = inventory.catalog
    versions = [h.esxi_version for h in inventory.hosts if h.esxi_version]
    return max(versions, key=lambda v: catalog.hardware.release(v).version) if versions else None


def _join(name: str, cluster: str, cpu: str, profile: CpuProfile, mode_key: str | None, inventory: Inventory,
          vcenter: str) -> NewHost:
    catalog = inventory.catalog
    verdict = assess(profile, catalog, inventory.modes_for(vcenter))
    top = verdict.max_mode.key if verdict.max_mode else None
    if mode_key is None:
        return NewHost(name, cluster, cpu, profile.assumed, top, None, (), None)
    mode = inventory.mode(vcenter, mode_key)
    if profile.vendor != mode.vendor:
        return NewHost(name, cluster, cpu, profile.assumed, top, False, (),
                       f"CPU vendor {profile.vendor} cannot join a {mode.vendor} EVC mode ({mode.key})")
    check = inventory.modes_for(vcenter).check(mode, profile.present.mask, profile.unknown.mask)
    missing = catalog.features.names(check.missing | check.undetermined)
    if check.status == "yes":
        return NewHost(name, cluster, cpu, profile.assumed, top, True, (), None)
    why = (f"lacks features of {mode.key}: {', '.join(missing)}" if check.status == "no"
           else f"cannot tell: CPU data does not show {', '.join(missing)}")
    return NewHost(name, cluster, cpu, profile.assumed, top, check.status == "yes", missing, why)


def run_scenario(inventory: Inventory, scenario: Scenario, before: Analysis | None = None) -> ScenarioResult:
    """Analyse the estate before and after a scenario and describe the changes per affected cluster."""
    before = before or analyze(inventory)
    after_inv, new, removed = apply(inventory, scenario)
    after = analyze(after_inv)
    affected = {n.cluster for n in new} | {c for c in removed if c}
    b_vms = {(v.vm.vcenter, v.vm.name): v for v in before.vms}
    changes = []
    for ca in after.clusters:
        if ca.cluster.name not in affected:
            continue
        cb = next(c for c in before.clusters if c.label == ca.label)
        gaining, losing = [], []
        for va in after.vms:
            vb = b_vms[(va.vm.vcenter, va.vm.name)]
            if not va.vm.running:
                continue
            was, now = ca.label in vb.verdict.live_targets, ca.label in va.verdict.live_targets
            if now and not was:
                gaining.append(va.vm.name)
            elif was and not now:
                losing.append(va.vm.name)
        cycle_mode, cycling = _power_cycle(after, ca)
        gone = set(removed.get(ca.cluster.name, ()))
        evacuate = tuple(v.vm.name for v in after.vms if v.vm.host in gone)
        changes.append(ClusterChange(
            ca.label, ca.evc_mode.key if ca.evc_mode else None, _key(cb.max_evc_mode), _key(ca.max_evc_mode),
            tuple(n for n in new if n.cluster == ca.cluster.name), tuple(sorted(gone)), tuple(gaining),
            tuple(losing), cycle_mode, cycling, evacuate,
        ))
    return ScenarioResult(before, after, tuple(changes))


def _key(mode: EvcMode | None) -> str | None:
    return mode.key if mode else None


def _power_cycle(after: Analysis, cluster: ClusterResult) -> tuple[str | None, tuple[str, ...]]:
    """If the cluster could raise its EVC mode, the running VMs that would need a power cycle to use it."""
    target = cluster.max_evc_mode
    current = cluster.evc_mode
    if target is None or (current is not None and target.features.mask & ~current.features.mask == 0):
        return None, ()
    any_mask = after.inventory.catalog.features.any_mask
    need = []
    for v in after.vms:
        if v.vm.running and v.vm.vcenter == cluster.cluster.vcenter and v.vm.cluster == cluster.cluster.name \
                and v.vm.per_vm_evc is None and target.required & ~any_mask & ~v.requirement.mask:
            need.append(v.vm.name)
    return target.key, tuple(need)


@attrs.frozen
class Candidate:
    """One candidate CPU for a cluster, as `compare_cpus` ranks it."""

    cpu: str
    vendor: str | None
    generation: str | None
    assumed: bool
    max_evc_mode: str | None
    cluster_max_evc_mode: str | None
    joins_current_mode: bool | None
    missing_for_current: tuple[str, ...]
    vms_that_fit: int
    vms_considered: int
    hidden: FeatureSet
    reason: str | None


def compare_cpus(inventory: Inventory, cluster: str, cpus: Sequence[str]) -> list[Candidate]:
    """Rank candidate CPUs for a cluster: the mode the cluster would reach with one such host, how many
    of today's running VMs (of that vendor) could live-migrate onto it, and which of its features the
    cluster's mode would hide. Best first."""
    catalog = inventory.catalog
    out: list[Candidate] = []
    for cpu in cpus:
        result = run_scenario(inventory, Scenario((AddHosts(cluster, cpu, 1),), prefix="candidate-"))
        change = result.changes[0]
        host = change.new_hosts[0]
        new = next(h for h in result.after.hosts if h.host.name == host.name)
        profile = new.host.cpu
        running = [v for v in result.after.vms if v.vm.running and v.vendor == profile.vendor]
        fits = 0
        for v in running:
            lacking = v.requirement.mask & ~profile.present.mask & ~catalog.features.any_mask
            hw_ok = new.max_hw_version is None or v.vm.hardware_version <= new.max_hw_version
            if not lacking and hw_ok:
                fits += 1
        ca = next(c for c in result.after.clusters if c.label == change.cluster)
        guard = ca.evc_mode or ca.max_evc_mode
        hidden = 0
        if guard is not None:  # without a common mode (mixed vendors) nothing is "hidden", it just cannot join
            hidden = profile.present.mask & ~guard.features.mask & ~catalog.mitigations.mask
            hidden &= ~sum(f.bit for f in catalog.features if f.kind == "vendor" or f.monitor_support != "YES")
        out.append(Candidate(
            cpu, profile.vendor, profile.generation.label if profile.generation else None, profile.assumed,
            host.max_evc_mode, change.max_evc_mode_after, host.joins_current_mode, host.missing_for_current,
            fits, len(running), catalog.features.feature_set(hidden), host.reason,
        ))

    def size(key: str | None) -> int:
        return len(catalog.modes.get(key).features) if key else -1

    def rank(c: Candidate) -> tuple[bool, int, int, int]:
        # Joining at all first, then the mode the cluster reaches, the VMs it can take, its own headroom.
        return (c.joins_current_mode is not False, size(c.cluster_max_evc_mode), c.vms_that_fit, size(c.max_evc_mode))

    return sorted(out, key=rank, reverse=True)
