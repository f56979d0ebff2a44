"""Pre-purchase what-if: add, replace or retire hosts by CPU model and see what changes.

A `Scenario` is a list of changes applied to an `Inventory`; `run_scenario` analyses the estate before
and after and reports, per affected cluster, the maximum EVC mode before and after, whether each new
host can join at the cluster's current mode (and why not), the VMs that gain or lose the cluster as a
live target, and the running VMs that would need a power cycle to use a raised mode.
`compare_cpus` ranks candidate CPUs for one cluster.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

import attrs

from evckit.analysis import Analysis, ClusterResult, HostResult, analyze
from evckit.catalog import Catalog
from evckit.errors import InputError
from evckit.features import FeatureSet
from evckit.profiles import CpuProfile, profile_from_data, profile_from_mode, profile_from_name
from evckit.inventory import ClusterKey, Host, Inventory
from evckit.modes import EvcMode

__all__ = [
    "AddHosts",
    "Applied",
    "Candidate",
    "ClusterChange",
    "NewHost",
    "RemoveHost",
    "ReplaceHosts",
    "Scenario",
    "ScenarioResult",
    "apply",
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
    cluster: ClusterKey
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


@attrs.frozen
class Applied:
    """An inventory with a scenario applied: the estate after it, the hosts added, the hosts retired."""

    inventory: Inventory
    added: tuple[Host, ...]
    removed: Mapping[ClusterKey, tuple[str, ...]]


def apply(inventory: Inventory, scenario: Scenario) -> Applied:
    """The estate after the scenario, as an inventory the analysis reads like any other.

    Clusters and hosts named by the user are resolved once: ``vcenter/name`` picks one, a bare name
    that several vCenters share is an `InputError` listing the candidates.
    """
    catalog = inventory.catalog
    hosts = list(inventory.hosts)
    names = {h.name for h in hosts}
    added: list[Host] = []
    removed: dict[ClusterKey, list[str]] = {}
    counter = 0
    newest: str | None = None
    decided = False  # the estate's newest ESXi is looked up once, when a host is first added
    for change in scenario.changes:
        if isinstance(change, RemoveHost):
            victim = attrs.evolve(inventory, hosts=tuple(hosts)).resolve_host(change.host, "--remove-host")
            hosts.remove(victim)
            if victim.cluster_key is not None:
                removed.setdefault(victim.cluster_key, []).append(victim.name)
            continue
        option = "--replace-hosts" if isinstance(change, ReplaceHosts) else "--add-host"
        cluster = inventory.resolve_cluster(change.cluster, option)
        if isinstance(change, ReplaceHosts):
            for h in [h for h in hosts if h.cluster_key == cluster.key]:
                hosts.remove(h)
                if h in added:
                    added.remove(h)
                else:
                    removed.setdefault(cluster.key, []).append(h.name)
        profile = resolve_cpu(change.cpu, catalog)
        if not scenario.esxi_version and not decided:
            newest, decided = _newest_esxi(inventory), True
        esxi = scenario.esxi_version or newest
        for _ in range(change.count):
            counter += 1
            while f"{scenario.prefix}{counter}" in names:
                counter += 1
            name = f"{scenario.prefix}{counter}"
            names.add(name)
            host = Host(name=name, vcenter=cluster.vcenter, cluster=cluster.name,
                        cpu=attrs.evolve(profile, source=name), esxi_version=esxi, cpu_model=change.cpu)
            hosts.append(host)
            added.append(host)
    after = attrs.evolve(inventory, hosts=tuple(hosts), source=inventory.source + " (what-if)")
    return Applied(after, tuple(added), {k: tuple(v) for k, v in removed.items()})


def _newest_esxi(inventory: Inventory) -> str | None:
    """The newest ESXi version any host of the estate runs."""
    catalog = inventory.catalog
    # Each distinct version once, in the order hosts first run it: the first newest wins, as among all hosts.
    versions = list(dict.fromkeys(h.esxi_version for h in inventory.hosts if h.esxi_version))
    return max(versions, key=lambda v: catalog.hardware.release(v).version) if versions else None


def _new_host(host: Host, hr: HostResult, cluster: ClusterResult) -> NewHost:
    """A new host as the analysis of the estate after the scenario judges it (``hr``): its maximum mode
    and whether it is admitted to its cluster's current EVC mode (and if not, why)."""
    top = hr.verdict.max_mode.key if hr.verdict.max_mode else None
    mode = cluster.evc_mode

    def new(joins: bool | None, missing: tuple[str, ...] = (), reason: str | None = None) -> NewHost:
        return NewHost(name=host.name, cluster=cluster.key, cpu=host.cpu_model or host.cpu.source,
                       assumed=host.cpu.assumed, max_evc_mode=top, joins_current_mode=joins,
                       missing_for_current=missing, reason=reason)

    if mode is None:
        return new(None)
    refused = next((x for x in cluster.not_admitted if x.host == host.name), None)
    if refused is None:
        return new(True)
    if refused.vendor is not None:
        return new(False, reason=f"a {refused.vendor} CPU cannot run {mode.key}, an EVC mode for {mode.vendor} CPUs")
    missing = (refused.missing | refused.undetermined).names()
    why = (f"lacks features of {mode.key}: {', '.join(missing)}" if refused.missing
           else f"cannot tell: CPU data does not show {', '.join(missing)}")
    return new(False, missing, why)


def run_scenario(inventory: Inventory, scenario: Scenario, before: Analysis | None = None) -> ScenarioResult:
    """Analyse the estate before and after a scenario and describe the changes per affected cluster.

    The estate after is ``analyze(apply(inventory, scenario).inventory)``, computed reusing the
    decisions of ``before`` for every VM group and destination class the scenario leaves unchanged.
    """
    before = before or analyze(inventory)
    applied = apply(inventory, scenario)
    after = analyze(applied.inventory, reuse=before)
    affected = {h.cluster_key for h in applied.added} | set(applied.removed)
    targets = [ca for ca in after.clusters if ca.key in affected]
    # The VMs are the same, in the same order, before and after; a VM gains or loses a cluster only where
    # its verdict changed, so each distinct pair of verdicts is compared once.
    gaining: dict[str, list[str]] = {ca.label: [] for ca in targets}
    losing: dict[str, list[str]] = {ca.label: [] for ca in targets}
    moves: dict[tuple[int, int], list[tuple[bool, str]]] = {}
    for vb, va in zip(before.vms, after.vms):
        if va.verdict is vb.verdict or not va.vm.running:
            continue
        pair = (id(vb.verdict), id(va.verdict))
        found = moves.get(pair)
        if found is None:
            was, now = set(vb.verdict.live_targets), set(va.verdict.live_targets)
            found = moves[pair] = [(label in now, label) for label in gaining if (label in was) != (label in now)]
        for gained, label in found:
            (gaining if gained else losing)[label].append(va.vm.name)
    # The VMs on retired hosts, per cluster the hosts left.
    gone: dict[tuple[str, str], list[ClusterKey]] = {}
    for key, names in applied.removed.items():
        for name in set(names):
            gone.setdefault((key.vcenter, name), []).append(key)
    evacuate: dict[ClusterKey, list[str]] = {}
    if gone:
        for v in after.vms:
            for k in gone.get((v.vm.vcenter, v.vm.host), ()) if v.vm.host is not None else ():
                evacuate.setdefault(k, []).append(v.vm.name)
    results = {id(hr.host): hr for hr in after.hosts} if applied.added else {}
    added: dict[ClusterKey | None, list[Host]] = {}
    for h in applied.added:
        added.setdefault(h.cluster_key, []).append(h)
    clusters_before = {cb.key: cb for cb in before.clusters}
    changes = []
    for ca in targets:
        cb = clusters_before[ca.key]
        new = tuple(_new_host(h, results[id(h)], ca) for h in added.get(ca.key, ()))
        changes.append(ClusterChange(
            cluster=ca.label, evc_mode=ca.evc_mode.key if ca.evc_mode else None,
            max_evc_mode_before=_key(cb.max_evc_mode), max_evc_mode_after=_key(ca.max_evc_mode),
            new_hosts=new, removed_hosts=tuple(sorted(set(applied.removed.get(ca.key, ())))),
            vms_gaining=tuple(gaining[ca.label]), vms_losing=tuple(losing[ca.label]),
            power_cycle_mode=_key(ca.raise_mode), vms_needing_power_cycle=ca.power_cycle_to_raise,
            vms_to_evacuate=tuple(evacuate.get(ca.key, ())),
        ))
    return ScenarioResult(before=before, after=after, changes=tuple(changes))


def _key(mode: EvcMode | None) -> str | None:
    return mode.key if mode else None


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


def compare_cpus(inventory: Inventory, cluster: str, cpus: Sequence[str],
                 before: Analysis | None = None) -> list[Candidate]:
    """Rank candidate CPUs for a cluster: the mode the cluster would reach with one such host, how many
    of today's running VMs (of that vendor) could live-migrate onto it there (none, if the cluster does
    not admit it), and which of its features the cluster's mode would hide. A CPU of another vendor than the cluster's hosts cannot join: it
    ranks last and hides nothing. Best first.

    The estate is analysed once; each candidate's estate reuses those decisions and decides only the
    new host's destination class.
    """
    catalog = inventory.catalog
    target = inventory.resolve_cluster(cluster, "--cluster")
    before = before or analyze(inventory)
    vendors = {v for v in before.cluster(target.key).vendors if v != "unknown"}
    out: list[Candidate] = []
    for cpu in cpus:
        # The estate with one such host added, analysed reusing the estate's decisions; what changes for
        # the VMs (run_scenario's lists) is not needed here.
        applied = apply(inventory, Scenario((AddHosts(str(target.key), cpu, 1),), prefix="candidate-"))
        after = analyze(applied.inventory, reuse=before)
        added = applied.added[0]
        ca = after.cluster(target.key)
        host = _new_host(added, next(hr for hr in reversed(after.hosts) if hr.host is added), ca)
        profile = added.cpu
        joins, reason = host.joins_current_mode, host.reason
        foreign = bool(vendors) and profile.vendor not in vendors
        if foreign and joins is not False:
            joins, reason = False, (f"CPU vendor {profile.vendor or 'unknown'}: the cluster's hosts are "
                                    f"{'/'.join(sorted(vendors))}, and VMs never live-migrate between vendors")
        # A host the cluster does not admit takes no VM there; otherwise the analysis says which VMs
        # it takes (at the cluster's EVC mode, if any): decided once per verdict.
        vendor = profile.vendor
        shared = [v.verdict for v in after.vms if v.vendor == vendor and v.vm.running]
        fits = 0
        if joins is not False:
            of = dict(zip(map(id, shared), shared))
            fits = sum(n for i, n in Counter(map(id, shared)).items()
                       if ca.label in of[i].live_targets or host.name in of[i].partial.get(ca.label, ()))
        guard = ca.evc_mode or ca.max_evc_mode
        hidden = 0
        if guard is not None and not foreign and guard.vendor == profile.vendor:
            hidden = profile.present.mask & ~guard.features.mask & ~catalog.mitigations.mask
            hidden &= ~sum(f.bit for f in catalog.features if f.kind == "vendor" or f.monitor_support != "YES")
        out.append(Candidate(
            cpu=cpu, vendor=profile.vendor, generation=profile.generation.label if profile.generation else None,
            assumed=profile.assumed, max_evc_mode=host.max_evc_mode, cluster_max_evc_mode=_key(ca.max_evc_mode),
            joins_current_mode=joins, missing_for_current=host.missing_for_current, vms_that_fit=fits,
            vms_considered=len(shared), hidden=catalog.features.feature_set(hidden), reason=reason,
        ))

    def size(key: str | None) -> int:
        return len(catalog.modes.get(key).features) if key else -1

    def rank(c: Candidate) -> tuple[bool, bool, int, int, int]:
        # Its vendor and joining at all first, then the mode the cluster reaches, the VMs it can take,
        # its own headroom.
        return (c.vendor in vendors or not vendors, c.joins_current_mode is not False, size(c.cluster_max_evc_mode),
                c.vms_that_fit, size(c.max_evc_mode))

    return sorted(out, key=rank, reverse=True)
