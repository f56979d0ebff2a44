"""Estate analysis: what EVC mode each cluster can reach and what holds it back, and where each VM can
be live-migrated (vMotion) and, where not, every reason why.

Requirements repeat heavily across an estate, so the work is grouped: VMs with equal requirements form
one *VM group*, hosts that look the same to a VM form one *destination class*, each pair of (VM group,
destination class) is decided once, each (VM group, cluster) verdict is assembled once from its
clusters' classes, and VMs then share their group's verdicts. The cost grows with VMs + clusters
(times the few dozen distinct requirements), not with VMs x clusters.

Witnesses: a running VM fits the host it runs on (vCenter admitted it there). Before the destination
classes are formed, each running VM's group is checked against its own host's class (once per distinct
pair); where evckit's data says the host refuses it, the data is wrong for that host: the conflict is
recorded (`DataConflict`) and the host's destination is corrected with what the VM proves, so no verdict
ever refuses a running VM on its own host.
"""

from __future__ import annotations

import bisect
import operator
from itertools import compress, repeat
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Literal, NamedTuple, TypeVar, cast

import attrs

from evckit.catalog import Catalog
from evckit.features import FeatureRegistry, FeatureSet
from evckit.assess import CommonModes, HostVerdict, assess, common_modes
from evckit.guests import GuestFloors
from evckit.hardware import EsxiVersion
from evckit.inventory import VM, Cluster, ClusterKey, Host, Inventory, RequirementSource
from evckit.modes import EvcMode, ModeTable

if TYPE_CHECKING:
    from evckit.recommend import Recommendation

__all__ = [
    "Analysis",
    "ClusterResult",
    "DataConflict",
    "Evidence",
    "GroupVerdict",
    "HostResult",
    "LimitingHost",
    "PowerCycle",
    "Reason",
    "ReasonKind",
    "Summary",
    "TargetStatus",
    "VMPlan",
    "VMPlans",
    "VMResult",
    "analyze",
    "summarize",
]

#: Why a VM cannot move to a cluster (or some of its hosts): see `Reason`.
ReasonKind = Literal["features", "vendor", "hardware_version", "per_vm_evc", "undetermined", "microcode", "guest_os",
                     "no_hosts"]
#: Where the requirement a VM is judged by came from: its recorded one, or ``assumed`` from its
#: cluster's EVC mode or its host's CPU when nothing is recorded.
VMRequirementSource = RequirementSource | Literal["assumed"]

#: How a VM stands towards one target cluster: every available host takes it live (``live``), it can
#: move there powered off (``cold``), only some hosts take it (``partial``), or none (``blocked``).
TargetStatus = Literal["live", "cold", "partial", "blocked"]

_V = TypeVar("_V")
_LIST = 5  # names shown in one message before "and N more"
_X86 = ("intel", "amd")  # vendors whose hosts guest-OS floors are judged on


def _names(items: Sequence[str]) -> str:
    shown = ", ".join(items[:_LIST])
    return shown + (f" and {len(items) - _LIST} more" if len(items) > _LIST else "")


@attrs.frozen(cache_hash=True)
class Reason:
    """Why a VM cannot move to a cluster (or to some of its hosts).

    ``kind`` is one of ``features``, ``microcode`` (the host's measured CPU data lacks microcode-dependent
    features such as speculative-execution controls: a microcode or firmware update fixes it, not new
    hardware), ``vendor``, ``hardware_version``, ``per_vm_evc``, ``undetermined`` (the CPU data leaves
    needed features unknown), ``guest_os`` (a powered-off VM's guest OS needs features the destination
    hides: it would not boot there) or ``no_hosts`` (no connected host out of maintenance).
    """

    kind: ReasonKind
    message: str
    features: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()

    def as_json(self) -> dict[str, object]:
        """The JSON form: kind, message, and the features and hosts concerned."""
        return {"kind": self.kind, "message": self.message, "features": list(self.features),
                "hosts": list(self.hosts)}


@attrs.frozen
class DataConflict:
    """A running VM that evckit's data says cannot run on the host it runs on: the data is wrong there.

    vCenter admitted the VM on that host, so reality beats the tables: the verdicts treat the host as
    taking the VM (and what it requires), and this record says which source disagreed.

    Attributes:
        source: what disagrees: ``evc_mode`` (the cluster's EVC mode baseline, from evckit's tables or
            the vCenter's own definitions, lacks ``features``), ``host_cpu`` (the host's CPU data, measured
            but possibly stale or assumed from a name or mode, lacks ``features``), ``hardware_version``
            (the ESXi release's highest hardware version in evckit's tables is below the VM's) or
            ``vendor`` (the host's CPU vendor is not the VM's).
        features: the features concerned (empty for ``hardware_version`` and ``vendor``).
    """

    vm: str
    vcenter: str
    host: str
    cluster: str | None
    source: str
    features: FeatureSet
    message: str

    def as_json(self) -> dict[str, object]:
        """The JSON form: VM, vCenter, host, cluster, the disagreeing source, features and message."""
        return {"vm": self.vm, "vcenter": self.vcenter, "host": self.host, "cluster": self.cluster,
                "source": self.source, "features": list(self.features.names()), "message": self.message}


@attrs.frozen
class HostResult:
    """A host with its EVC verdict and the highest hardware version its ESXi runs."""

    host: Host
    verdict: HostVerdict
    max_hw_version: int | None
    min_hw_version: int | None


@attrs.frozen
class LimitingHost:
    """A host that keeps its cluster from reaching ``mode``: the features it lacks for it, or the newer
    ESXi release it would need (``needs_esxi``); ``vendor`` is the host's CPU vendor when it is not the
    mode's (then it can never run it, whatever its features)."""

    host: str
    mode: str
    missing: FeatureSet
    undetermined: FeatureSet
    needs_esxi: str | None = None
    vendor: str | None = None


@attrs.frozen
class ClusterResult:
    """What a cluster runs and could run.

    Attributes:
        max_evc_mode: the highest mode every host supports (None: mixed vendors, no hosts, or a host
            without any mode).
        limiting_hosts: hosts lacking features of the next mode(s) up, with what they lack.
        not_admitted: hosts that do not support the cluster's current EVC mode.
        blocking_lower: lower mode -> running VMs using features it hides (to move out before lowering;
            decided by `VMPlans`, as the recommendation's ``evacuate``).
        max_hw_version: the highest hardware version every available host runs.
        raise_mode: the mode the cluster could be set to that adds features over its current one (its
            max mode; with EVC off, the mode enabling EVC would reach), or None.
        power_cycle_to_raise: the running VMs of that mode's vendor that would need a power cycle to
            use the features ``raise_mode`` adds (judged by what their hardware version exposes; decided
            by `VMPlans`, as the recommendation's ``power_cycle``: with EVC off, VMs moved out before
            enabling it are not listed).
        supported_modes: every mode all its hosts run (on their ESXi releases), lowest first.
        recommendation: the EVC mode to run, with its plan and cost (`evckit.recommend`).
    """

    cluster: Cluster
    label: str
    hosts: tuple[HostResult, ...]
    vendors: tuple[str, ...]
    evc_mode: EvcMode | None
    max_evc_mode: EvcMode | None
    max_evc_modes: tuple[EvcMode, ...]
    reason: str | None
    limiting_hosts: tuple[LimitingHost, ...]
    not_admitted: tuple[LimitingHost, ...]
    blocking_lower: Mapping[str, tuple[str, ...]]
    undetermined: Mapping[str, FeatureSet]
    max_hw_version: int | None
    assumed_hosts: tuple[str, ...]
    raise_mode: EvcMode | None = None
    power_cycle_to_raise: tuple[str, ...] = ()
    supported_modes: tuple[EvcMode, ...] = ()
    recommendation: Recommendation | None = None

    @property
    def key(self) -> ClusterKey:
        """The cluster's identity (its label is only how reports name it)."""
        return self.cluster.key


@attrs.frozen
class GroupVerdict:
    """The migration verdicts shared by every VM of one group (equal requirement, hardware, state)."""

    live_targets: tuple[str, ...]
    cold_targets: tuple[str, ...]
    partial: Mapping[str, tuple[str, ...]]
    blocked: Mapping[str, tuple[Reason, ...]]

    def status(self, target: str, running: bool) -> TargetStatus:
        """How a VM of this group (running or not) stands towards one target cluster, by its label."""
        if target in self.blocked:
            return "partial" if target in self.partial else "blocked"
        if running and target in self.live_targets:
            return "live"
        if not running and target in self.cold_targets:
            return "cold"
        return "blocked"

    def other_vendor_only(self, target: str) -> bool:
        """True when the only thing that stops the group at ``target`` is another CPU vendor on every host."""
        reasons = self.blocked.get(target)
        return bool(reasons) and target not in self.partial and all(r.kind == "vendor" for r in reasons or ())


@attrs.frozen
class PowerCycle:
    """A running VM whose features are below its cluster's EVC mode: a power cycle exposes ``missing``
    (features VMware can show a VM only, as `VMPlans` decides).

    ``hidden`` are the mode's features its hardware version cannot expose at all (upgrade it first).
    """

    mode: str
    missing: FeatureSet
    hidden: FeatureSet


class VMResult(NamedTuple):
    """One VM's verdicts: where it can go live or cold, where only some hosts take it, where not and why.

    ``not_movable_everywhere``: a running VM that no host of some other cluster of its CPU vendor can
    take (what ``check --fail-on incompatible`` fails on).

    An immutable named tuple, equal to another when every field is: an estate has one per VM, and a
    tuple is made at C speed (an attrs frozen class took 1.3 µs per VM, 0.13 s at 100,000 VMs, setting
    its nine fields one by one).
    """

    vm: VM
    cluster_label: str | None
    requirement: FeatureSet
    requirement_source: VMRequirementSource
    vendor: str | None
    verdict: GroupVerdict
    power_cycle: PowerCycle | None
    notes: tuple[str, ...] = ()
    not_movable_everywhere: bool = False

    @property
    def cluster_key(self) -> ClusterKey | None:
        """The key of the VM's cluster (None: on a standalone host)."""
        return self.vm.cluster_key

    def evidence(self, target: ClusterResult) -> Evidence:
        """What holds for this VM at a target it can go to (a "yes" explained the way a "no" is)."""
        return Evidence(migration="live" if self.vm.running else "cold", vendor=self.vendor,
                        features=len(self.requirement), evc_mode=target.evc_mode.key if target.evc_mode else None,
                        hardware_version=self.vm.hardware_version, max_hw_version=target.max_hw_version)

    @property
    def migration(self) -> str:
        """``live`` for a running VM (vMotion), ``cold`` for a powered-off VM or template."""
        return "live" if self.vm.running else "cold"


@attrs.frozen(eq=False)
class Analysis:
    """The whole estate's verdicts, plus how much grouping saved."""

    inventory: Inventory
    hosts: tuple[HostResult, ...]
    clusters: tuple[ClusterResult, ...]
    vms: tuple[VMResult, ...]
    vm_groups: int
    destination_classes: int
    notes: tuple[str, ...] = ()
    data_conflicts: tuple[DataConflict, ...] = ()
    _memo: _Memo | None = attrs.field(default=None, repr=False)

    def cluster(self, which: ClusterKey | str) -> ClusterResult:
        """The result of one cluster by its key or its label (``name``, ``vcenter/name`` with several vCenters)."""
        for c in self.clusters:
            if (c.key == which) if isinstance(which, ClusterKey) else c.label == which:
                return c
        raise KeyError(which)

    def vm(self, name: str) -> VMResult:
        """The result of one VM by name (the first one, if several vCenters share the name)."""
        for v in self.vms:
            if v.vm.name == name:
                return v
        raise KeyError(name)

    @property
    def incompatible(self) -> tuple[VMResult, ...]:
        """Running VMs that no host of some other cluster of their CPU vendor can take."""
        return tuple(v for v in self.vms if v.not_movable_everywhere)

    @property
    def summary(self) -> Summary:
        """The estate's counts."""
        return summarize(self)


@attrs.frozen
class Evidence:
    """Why a VM can go to a cluster: its vendor matches, its ``features`` required CPU features are
    guaranteed by ``evc_mode`` (None: every host has them), its hardware version runs on every available
    host (up to ``max_hw_version``). A cold move checks the hardware version only."""

    migration: Literal["live", "cold"]
    vendor: str | None
    features: int
    evc_mode: str | None
    hardware_version: int
    max_hw_version: int | None


@attrs.frozen
class Summary:
    """The counts of a report's summary line and JSON ``summary`` object."""

    hosts: int
    clusters: int
    vms: int
    running_vms: int
    vms_not_movable_everywhere: int
    vms_needing_power_cycle: int
    vm_groups: int
    destination_classes: int
    data_conflicts: int

    def as_dict(self) -> dict[str, int]:
        """The JSON ``summary`` object, keys in contract order."""
        return attrs.asdict(self)


def summarize(analysis: Analysis, vms: Sequence[VMResult] | None = None,
              clusters: Sequence[ClusterResult] | None = None) -> Summary:
    """Counts over the whole analysis, or over the VMs and clusters a filter kept (hosts: all)."""
    vms = analysis.vms if vms is None else vms
    clusters = analysis.clusters if clusters is None else clusters
    alike = vm_profiles(analysis, vms)
    if alike is None:
        running = sum(1 for v in vms if v.vm.running)
        stuck = sum(1 for v in vms if v.not_movable_everywhere)
        cycle = sum(1 for v in vms if v.power_cycle is not None)
    else:  # the VMs of one profile count alike: once per profile, times its VMs
        running = stuck = cycle = 0
        count = Counter(alike[0])
        for p, v in alike[1].items():
            n = count[p]
            running += n if v.vm.running else 0
            stuck += n if v.not_movable_everywhere else 0
            cycle += n if v.power_cycle is not None else 0
    return Summary(
        hosts=len(analysis.hosts), clusters=len(clusters), vms=len(vms), running_vms=running,
        vms_not_movable_everywhere=stuck, vms_needing_power_cycle=cycle,
        vm_groups=analysis.vm_groups, destination_classes=analysis.destination_classes,
        data_conflicts=len(analysis.data_conflicts),
    )


_FIRST, _SECOND = operator.itemgetter(0), operator.itemgetter(1)
_ARGS, _HELD = operator.attrgetter("args"), operator.attrgetter("held")


def vm_profiles(analysis: Analysis, vms: Sequence[VMResult]) -> tuple[Sequence[Hashable], dict[Hashable, VMResult]] | None:
    """Each VM's profile, and each profile's first VM result in VM order, when ``vms`` are the results
    of `analyze` itself (None otherwise: a filtered view, an analysis built by hand or by a what-if).

    VMs of one profile are alike in every field of the VM but its name and host, and their results in
    every field but the VM (the same objects), so what they share can be worked out once per profile:
    a few tens of thousands of profiles among 100,000 VMs, while the VMs' own fields are read at C speed.
    """
    memo = analysis._memo
    if memo is None or memo.results is None or memo.results is not vms:
        return None
    if memo.firsts is None:
        memo.firsts = {p: vms[p.first] for p in memo.profiles}
    return memo.of_vm, cast("dict[Hashable, VMResult]", memo.firsts)


#: Requirement sources that record what a running VM was powered on with: only those tell which of a
#: mode's features it does not use yet (an assumed requirement is a guess, a per-VM EVC mode is pinned).
_RECORDED = ("featureRequirement", "minRequiredEVCModeKey")


@attrs.frozen
class VMPlan:
    """The running VMs of one cluster that a change to one EVC mode acts on, each with its features.

    ``evacuate``: VMs using features the mode hides, to power off or move out before EVC is enabled or
    lowered to it (with those features). ``power_cycle``: VMs that do not use all of the mode yet, which
    a power cycle exposes (with the features they would gain).
    """

    mode: EvcMode
    evacuate: tuple[tuple[VMResult, int], ...] = ()
    power_cycle: tuple[tuple[VMResult, int], ...] = ()


class VMPlans:
    """Which running VMs an EVC mode change acts on: the one decision behind a cluster's
    ``blocking_lower`` and ``power_cycle_to_raise``, each VM's ``power_cycle`` and the recommendation's
    ``evacuate`` and ``power_cycle`` lists (`evckit.recommend`).

    Only features VMware can show a VM count (``visible``): those with monitor support ``YES`` in
    VMware's CPUID table (shown to the guest when the host, or the EVC baseline, has them), without the
    CPU vendor and the microcode-dependent mitigations. ``ANY`` features are shown whatever the host or
    mode, ``NO`` features never (VMMON-CPUID in data/SOURCES.md); EVC passes the mitigations through
    whatever the mode, once every host has them (KB 52085), and no baseline holds them. So none of
    these is given or taken by changing the mode: none makes a VM need a power cycle or an evacuation.

    A VM of another CPU vendor than the mode's takes no part (it leaves with its host). Decisions are
    made once per distinct VM kind (requirement, hardware version, vendor, ...) and per mode.
    """

    def __init__(self, catalog: Catalog, vms: Iterable[VMResult] = (), exposed: dict[int, int] | None = None) -> None:
        """Plans over ``vms`` (more can be added with `add`); ``exposed`` shares a cache of the features
        each hardware version exposes."""
        reg = catalog.features
        self.reg = reg
        self.any_mask = reg.any_mask
        self.mitigations = catalog.mitigations.mask
        self.visible = sum(f.bit for f in reg if f.kind != "vendor" and f.monitor_support == "YES") & ~self.mitigations
        self._exposed = exposed if exposed is not None else {}
        self.running: dict[tuple[str, str], list[VMResult]] = {}
        self._plans: dict[tuple[tuple[str, str], int, bool], VMPlan] = {}
        # Per cluster, the kind of each of its running VMs (side by side with ``running``); per (mode,
        # evacuate), each kind's decision.
        self._kinds: dict[tuple[str, str], list[object]] = {}
        self._decided: dict[tuple[int, bool], tuple[EvcMode, dict[object, tuple[int, int]]]] = {}
        self._sets: dict[int, FeatureSet] = {}
        for v in vms:
            if v.vm.running and v.vm.cluster is not None:
                self.add(v, (v.requirement.mask, v.vm.hardware_version, v.vendor, v.vm.per_vm_evc is None,
                             v.requirement_source))

    def feature_set(self, mask: int) -> FeatureSet:
        """The `FeatureSet` of a mask, one object per distinct mask (for the analysis and its
        recommendations alike: the masks they report repeat across an estate)."""
        fs = self._sets.get(mask)
        if fs is None:
            fs = self._sets[mask] = self.reg.feature_set(mask)
        return fs

    def add(self, v: VMResult, kind: object) -> None:
        """Count a running VM of a cluster; ``kind`` is equal for VMs the plans decide alike (same
        requirement mask and source, hardware version, vendor, per-VM EVC or not)."""
        running, kinds = self.slot((v.vm.vcenter, v.vm.cluster or ""))
        running.append(v)
        kinds.append(kind)

    def slot(self, cluster: tuple[str, str]) -> tuple[list[VMResult], list[object]]:
        """The running VMs of a cluster and, side by side, their kinds (to append a VM to each)."""
        running = self.running.get(cluster)
        if running is None:
            running = self.running[cluster] = []
            self._kinds[cluster] = []
        return running, self._kinds[cluster]

    def exposed(self, hw: int) -> int:
        """Features a VM of hardware version ``hw`` can see (VMware's first HWV per feature)."""
        mask = self._exposed.get(hw)
        if mask is None:
            mask = self._exposed[hw] = sum(f.bit for f in self.reg if f.hw_version is None or f.hw_version <= hw)
        return mask

    def beyond(self, req: int, mode: EvcMode) -> int:
        """The features a running VM with requirement ``req`` uses that ``mode`` hides (visible ones only)."""
        return req & ~mode.features.mask & self.visible

    def missing(self, req: int, hw: int, mode: EvcMode) -> int:
        """The features of ``mode`` a running VM (requirement ``req``, hardware version ``hw``) could see
        but does not use yet: a power cycle exposes them."""
        return mode.features.mask & self.exposed(hw) & self.visible & ~req

    def cycles(self, vendor: str | None, per_vm_evc: str | None, source: str, mode: EvcMode) -> bool:
        """Can a power cycle change what a running VM uses of ``mode``? Not for another CPU vendor's VM,
        a per-VM EVC mode (pinned), or a requirement that is not recorded."""
        return (vendor is None or vendor == mode.vendor) and per_vm_evc is None and source in _RECORDED

    def plan(self, cluster: tuple[str, str], mode: EvcMode, evacuate: bool) -> VMPlan:
        """The running VMs of ``cluster`` that moving it to ``mode`` acts on. With ``evacuate`` (EVC being
        enabled or lowered), VMs using features the mode hides must leave first; they come back at the
        mode, so they are not also listed for a power cycle."""
        pk = (cluster, id(mode), evacuate)  # modes live as long as the plans: identity is enough
        found = self._plans.get(pk)
        if found is not None and found.mode is mode:
            return found
        running = self.running.get(cluster, [])
        kinds = self._kinds.get(cluster, [])
        dk = (id(mode), evacuate)
        decided = self._decided.get(dk)
        if decided is None or decided[0] is not mode:
            decided = self._decided[dk] = (mode, {})
        memo = decided[1]
        for kind in dict.fromkeys(kinds):
            if kind not in memo:
                beyond, missing = self._decide(running[kinds.index(kind)], mode, evacuate)
                memo[kind] = (beyond, 0 if beyond else missing)  # a VM to move out needs no power cycle
        # Each VM's decision by its kind, then the VMs with something to do, in VM order: at C speed.
        decisions = list(map(memo.__getitem__, kinds))
        evac, cycle = list(map(_FIRST, decisions)), list(map(_SECOND, decisions))
        found = self._plans[pk] = VMPlan(mode, tuple(compress(zip(running, evac), evac)),
                                         tuple(compress(zip(running, cycle), cycle)))
        return found

    def _decide(self, v: VMResult, mode: EvcMode, evacuate: bool) -> tuple[int, int]:
        if v.vendor is not None and v.vendor != mode.vendor:
            return 0, 0  # an other-vendor host's VMs leave with their host
        req = v.requirement.mask
        if evacuate:
            beyond = self.beyond(req, mode)
            if beyond:
                return beyond, 0
        if self.cycles(v.vendor, v.vm.per_vm_evc, v.requirement_source, mode):
            return 0, self.missing(req, v.vm.hardware_version, mode)
        return 0, 0


# --- the computation -----------------------------------------------------------------------------


@attrs.frozen(cache_hash=True)
class _Dest:
    """What a VM meets on one host of one cluster: a destination class (hosts alike for every VM)."""

    vendor: str | None
    guarantee: int
    unknown: int
    max_hw: int | None
    min_hw: int | None
    available: bool
    evc_mode: str | None


@attrs.frozen(cache_hash=True)
class _Group:
    """A VM group: what decides every migration verdict of its VMs."""

    vendor: str | None
    requirement: int
    hardware_version: int
    running: bool
    per_vm_evc: str | None
    floor: int = 0  # CPU features its guest OS needs to boot (data/guest_os.json)
    floor_label: str | None = None


class _Witnessed:
    """What running VMs prove about one host: features it has, hardware versions it runs, vendor doubts."""

    __slots__ = ("features", "max_hw", "min_hw", "vendors")

    def __init__(self) -> None:
        self.features = 0
        self.max_hw: int | None = None
        self.min_hw: int | None = None
        self.vendors: set[str] = set()


class _Base:
    """What VMs alike in all but their place share: requirement, its source, vendor, notes, power state,
    group (and its index and witness memo), the requirement's feature set and its microcode-dependent
    part. A base is also the kind `VMPlans` decides alike (by identity)."""

    __slots__ = ("found", "fs", "group", "group_index", "microcode", "notes", "req", "running", "source", "vendor")

    req: int
    source: VMRequirementSource
    vendor: str | None
    notes: tuple[str, ...]
    running: bool
    group: _Group
    group_index: int
    found: dict[int, tuple[int, int, tuple[_Contradiction, ...], str | None]]
    fs: FeatureSet
    microcode: int


class _Profile:
    """What the VMs alike in all but their name and host share: their `_Base`, cluster, power cycle.

    ``args`` are their `VMResult` fields after the VM itself; ``held`` their cluster's running VMs and
    those VMs' kinds in `VMPlans`, and their own kind (None: not running in a cluster); ``found`` and
    ``microcode`` (the base's) are what the witness step reads for every running VM.
    """

    __slots__ = ("args", "base", "ck", "cycle", "first", "found", "held", "hosts", "label", "microcode")

    base: _Base
    found: dict[int, tuple[int, int, tuple[_Contradiction, ...], str | None]]
    microcode: int
    ck: tuple[str, str] | None
    label: str | None
    cycle: PowerCycle | None
    hosts: Mapping[str, int] | None
    held: tuple[list[VMResult], list[object], object] | None
    first: int  # the position of its first VM (set by `_Analyzer.run`)
    args: tuple[str | None, FeatureSet, VMRequirementSource, str | None, GroupVerdict, PowerCycle | None,
                tuple[str, ...], bool]


class _Context:
    """The lookups `_Analyzer._profile` needs, the VM groups found so far (first-seen order), and what
    the witness step found: conflicts, corrections per host and per EVC cluster."""

    __slots__ = ("bases", "by_host", "cluster_fix", "cluster_of", "conflict_vms", "conflicts", "cycles", "evc_of", "found",
                 "group_index", "groups", "host_cid", "host_fix", "labels", "places", "sets")

    def __init__(self, by_host: Mapping[tuple[str, str], HostResult], cluster_of: Mapping[tuple[str, str], Cluster],
                 labels: Mapping[tuple[str, str], str], evc_of: Mapping[tuple[str, str], EvcMode],
                 host_cid: Mapping[str, Mapping[str, int]]) -> None:
        self.by_host, self.cluster_of, self.labels, self.evc_of, self.host_cid = by_host, cluster_of, labels, evc_of, host_cid
        self.groups: dict[tuple[object, ...], _Group] = {}
        self.group_index: dict[tuple[object, ...], int] = {}
        self.found: dict[tuple[object, ...], dict[int, tuple[int, int, tuple[_Contradiction, ...], str | None]]] = {}
        self.sets: dict[int, FeatureSet] = {}
        self.bases: dict[tuple[object, ...], _Base] = {}
        #: (base, EVC mode) -> the power cycle of a running VM of that base in a cluster at that mode.
        self.cycles: dict[tuple[int, int], PowerCycle | None] = {}
        #: (vCenter, cluster) -> the cluster's key, label, EVC mode and its vCenter's host classes.
        self.places: dict[tuple[str, str | None], tuple[tuple[str, str] | None, str | None, EvcMode | None,
                                                        Mapping[str, int] | None]] = {}
        self.conflicts: list[DataConflict] = []
        self.conflict_vms: list[VM] = []  # the VM of each conflict
        self.host_fix: dict[tuple[str, str], _Witnessed] = {}
        self.cluster_fix: dict[tuple[str, str], tuple[int, int]] = {}


class _Shape:
    """How one cluster's hosts fall into destination classes: the available classes in order and their
    hosts, and each outcome decided for it so far.

    A group's outcome at a cluster depends only on its decisions for the cluster's available classes, so
    groups that decide those alike share one outcome (and its merged, host-naming reasons). ``fixed`` is
    the cluster's answer for every group when it has no host that can take VMs (``get`` is None then).
    """

    __slots__ = ("classes", "fixed", "get", "hosts", "label", "live", "merged", "named", "still")

    def __init__(self, label: str, members: Mapping[int, list[str]], dests: Sequence[_Dest]) -> None:
        self.label = label
        self.classes = tuple(cls for cls in members if dests[cls].available)
        self.hosts = tuple(members[cls] for cls in self.classes)
        self.get = operator.itemgetter(*self.classes) if self.classes else None
        self.fixed: tuple[Reason, ...] = ()
        if not members:
            self.fixed = (Reason("no_hosts", "the cluster has no hosts"),)
        elif not self.classes:
            away = tuple(sorted(h for hs in members.values() for h in hs))
            self.fixed = (Reason("no_hosts", "no host can take VMs: all are disconnected or in maintenance mode "
                                 f"({_names(away)})", (), away),)
        #: The group's decisions for the classes -> its outcome here (`_Outcome`), running or not.
        self.live: dict[object, _Outcome] = {}
        self.still: dict[object, _Outcome] = {}
        if self.get is None:  # one answer for every group: no host can take VMs
            self.live[None] = self.still[None] = (False, None, self.fixed, True, False)
        #: (reason id, class positions) -> the reason naming those classes' hosts.
        self.merged: dict[tuple[int, ...], Reason] = {}
        #: class positions -> their hosts, sorted, and how a reason names them.
        self.named: dict[tuple[int, ...], tuple[tuple[str, ...], str]] = {}


#: A group's outcome at one cluster: whether it goes there (live, or cold for a powered-off group), the
#: hosts that take it when only some do (None: no host, or all), the reasons it cannot go (empty when it
#: goes), whether it is blocked there (some host refuses it) and whether partially.
_Outcome = tuple[bool, "tuple[str, ...] | None", "tuple[Reason, ...]", bool, bool]
_LIVE: _Outcome = (True, None, (), False, False)
_GOES, _PARTIAL, _REASONS, _BLOCKED, _HAS_PARTIAL = (operator.itemgetter(i) for i in range(5))


def _none(_ids: Sequence[int]) -> None:
    """The key of a cluster without a host that can take VMs: the same for every group."""
    return None


class _Table:
    """Clusters side by side for `_Analyzer._group_verdict`: labels, class pickers, outcome caches."""

    __slots__ = ("gets", "labels", "live", "shapes", "still")

    def __init__(self, shapes: Sequence[_Shape]) -> None:
        self.shapes = shapes
        self.labels = [s.label for s in shapes]
        self.gets: list[Callable[[Sequence[int]], object]] = [s.get if s.get is not None else _none for s in shapes]
        self.live = [s.live for s in shapes]
        self.still = [s.still for s in shapes]


#: One disagreement found by the witness step: source, features concerned, and the message for the
#: host the VM runs on. The disagreement is decided once per (VM group, host class), but hosts of one
#: class may differ in what a message names (their CPU data's source, their ESXi version's spelling).
_Contradiction = tuple[str, int, Callable[[Host], str]]

def _nowhere(verdict: GroupVerdict, vendor: str, vendors_of: Mapping[str, tuple[str, ...]]) -> frozenset[str]:
    """The clusters of a running VM's own vendor (only that vendor's hosts) that no host of takes it."""
    return frozenset(t for t in verdict.blocked if t not in verdict.partial and vendors_of.get(t) == (vendor,))


class _Stuck:
    """Whether a running VM cannot move everywhere: a cluster of its vendor it cannot reach is not its
    own. The clusters it cannot reach (`_nowhere`) are worked out once per verdict and vendor."""

    def __init__(self, vendors_of: Mapping[str, tuple[str, ...]]) -> None:
        self.vendors_of = vendors_of
        self.nowhere: dict[tuple[int, str], frozenset[str]] = {}

    def __call__(self, verdict: GroupVerdict, vendor: str, own: str | None) -> bool:
        key = (id(verdict), vendor)
        nowhere = self.nowhere.get(key)
        if nowhere is None:
            nowhere = self.nowhere[key] = _nowhere(verdict, vendor, self.vendors_of)
        return len(nowhere) > 1 or (len(nowhere) == 1 and own not in nowhere)


def _vendors(hosts: Iterable[HostResult]) -> tuple[str, ...]:
    """A cluster's CPU vendors, sorted (``unknown`` for a host whose vendor is not known)."""
    return tuple(sorted({hr.host.cpu.vendor or "unknown" for hr in hosts}))


def _index_hosts(host_results: Iterable[HostResult]) -> tuple[dict[tuple[str, str], HostResult],
                                                               dict[tuple[str, str], list[HostResult]]]:
    """Host results by (vCenter, host name), and by (vCenter, cluster name) for clustered hosts.

    Keyed by plain tuples, which hash and compare equal to `ClusterKey` and cost less to build."""
    by_host: dict[tuple[str, str], HostResult] = {}
    by_cluster: dict[tuple[str, str], list[HostResult]] = {}
    for hr in host_results:
        by_host[(hr.host.vcenter, hr.host.name)] = hr
        if hr.host.cluster is not None:
            by_cluster.setdefault((hr.host.vcenter, hr.host.cluster), []).append(hr)
    return by_host, by_cluster


#: What a running VM proves against data that agrees with it: nothing (one object, compared by identity).
_CLEAN: tuple[int, int, tuple[_Contradiction, ...], str | None] = (0, 0, (), None)


class _Memo:
    """The decisions of one analysis, kept for the next analysis of a changed copy of the estate.

    A decision depends only on the values of a VM group and a destination class, so an analysis of the
    estate after a what-if asks only about the groups and classes that are new; everything else is
    taken from here. Host verdicts are kept by CPU, mode table and ESXi release for the same reason.
    """

    __slots__ = ("assess", "by_cluster", "catalog", "cluster_classes", "conflict_vms", "decisions", "dests", "exposed",
                 "firsts", "group_index", "groups", "interned", "interned_reason", "of_vm", "profiles", "results",
                 "verdicts", "vm_index")

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.assess: dict[tuple[object, ...], HostVerdict] = {}
        self.exposed: dict[int, int] = {}
        # Equal decisions become the same objects, so later steps compare and merge them by identity.
        self.interned: dict[tuple[Reason, ...], tuple[Reason, ...]] = {}
        self.interned_reason: dict[Reason, Reason] = {}
        #: The destination classes of the analysis, and each group's decisions against them in that order.
        self.dests: tuple[_Dest, ...] = ()
        self.decisions: dict[_Group, tuple[tuple[Reason, ...], ...]] = {}
        # What `_Analyzer.rerun` reads to redo only the clusters a what-if changed: each VM's profile, the
        # groups (by key, with their index) and each one's verdict, each cluster's hosts and destination
        # classes, the VM of each data conflict, and the VMs per cluster and per host (built on demand).
        self.of_vm: list[_Profile] = []
        self.groups: dict[tuple[object, ...], _Group] = {}
        self.group_index: dict[tuple[object, ...], int] = {}
        self.verdicts: Sequence[GroupVerdict | None] = []  # None: a group no VM has any more
        self.by_cluster: dict[tuple[str, str], list[HostResult]] = {}
        self.cluster_classes: list[tuple[Cluster, str, dict[int, list[str]]]] = []
        self.conflict_vms: list[VM] = []
        #: The VM results whose profiles ``of_vm`` are (`vm_profiles`): those of `_Analyzer.run` (a rerun
        #: keeps some results of the previous analysis while their profiles change: None).
        self.results: tuple[VMResult, ...] | None = None
        self.profiles: list[_Profile] = []  # in the order of their first VMs
        self.firsts: dict[_Profile, VMResult] | None = None
        self.vm_index: _VMIndex | None = None


class _VMIndex:
    """Where an estate's VMs are: the positions of those of given clusters or on given hosts."""

    __slots__ = ("clusters", "hosts", "position", "unique", "vms")

    def __init__(self, vms: Sequence[VM]) -> None:
        self.vms = vms
        self.unique = len(set(map(id, vms))) == len(vms)  # no VM object twice
        self.position: dict[int, int] | None = None
        # Each VM's (vCenter, cluster) and (vCenter, host), read at C speed; the positions of the VMs of
        # given clusters or hosts are found by one scan when asked (a what-if asks about a few).
        self.clusters: list[tuple[str, str | None]] = list(map(_VM_CLUSTER, vms))
        self.hosts: list[tuple[str, str | None]] = list(map(_VM_HOST, vms))

    @staticmethod
    def _where(column: Sequence[tuple[str, str | None]],
               wanted: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[int]]:
        out: dict[tuple[str, str], list[int]] = {k: [] for k in wanted}
        for i, k in enumerate(column):
            if k in out:
                out[k].append(i)
        return out

    def in_clusters(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[int]]:
        """The positions of the VMs of each of these clusters (ascending; empty lists for none)."""
        return self._where(self.clusters, keys)

    def on_hosts(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[int]]:
        """The positions of the VMs on each of these hosts (ascending; empty lists for none)."""
        return self._where(self.hosts, keys)

    def positions(self) -> dict[int, int]:
        """Each VM's position by its identity (built once, on demand)."""
        if self.position is None:
            self.position = dict(zip(map(id, self.vms), range(len(self.vms))))
        return self.position


_VM_CLUSTER = operator.attrgetter("vcenter", "cluster")
_VM_HOST = operator.attrgetter("vcenter", "host")


def _splice_seq(old: tuple[str, ...], new: tuple[str, ...], changed: set[str], pos: Mapping[str, int]) -> tuple[str, ...]:
    """``old`` without the ``changed`` labels, with ``new``'s put in cluster order (linear in their sizes)."""
    if len(changed) <= _FEW:
        out = list(old)
        for t in changed:  # a few labels: removed at C speed
            if t in out:
                out.remove(t)
    else:
        out = [t for t in old if t not in changed]
    if len(new) <= _FEW:
        for t in new:
            out.insert(bisect.bisect_left(out, pos[t], key=pos.__getitem__), t)
    else:
        out += new
        out.sort(key=pos.__getitem__)  # two sorted runs: merged in linear time
    return tuple(out)


def _splice_map(old: Mapping[str, _V], new: Mapping[str, _V], changed: set[str], pos: Mapping[str, int]) -> dict[str, _V]:
    """``old`` without the ``changed`` labels, with ``new``'s entries put in cluster order."""
    if len(changed) <= _FEW:
        out = dict(old)
        for t in changed:
            out.pop(t, None)
    else:
        out = {t: v for t, v in old.items() if t not in changed}
    if not new:
        return out
    items = list(out.items())
    if len(new) <= _FEW:
        for it in new.items():
            items.insert(bisect.bisect_left(items, pos[it[0]], key=lambda x: pos[x[0]]), it)
    else:
        items += new.items()
        items.sort(key=lambda x: pos[x[0]])
    return dict(items)


#: Up to this many changed clusters, verdict entries are spliced one by one.
_FEW = 8


class _Analyzer:
    def __init__(self, inventory: Inventory, reuse: _Memo | None = None) -> None:
        self.inv = inventory
        self.catalog = inventory.catalog
        self.reg: FeatureRegistry = self.catalog.features
        self.any_mask = self.reg.any_mask
        self.mitigations = self.catalog.mitigations.mask
        self.microcode = self.reg.microcode_mask
        if reuse is not None and reuse.catalog is not self.catalog:
            reuse = None
        memo = _Memo(self.catalog)
        if reuse is not None:
            memo.assess, memo.exposed = reuse.assess, reuse.exposed
            memo.interned, memo.interned_reason = reuse.interned, reuse.interned_reason
        self.memo = memo
        self._previous = reuse
        self._remap: list[int | None] | None = None
        self._exposed = memo.exposed
        self._assess_cache = memo.assess
        self._interned = memo.interned
        self._interned_reason = memo.interned_reason
        self._cold_cache: dict[tuple[int, int], tuple[tuple[Reason, ...], ...]] = {}
        self._colds: dict[tuple[int, int], tuple[tuple[tuple[Reason, ...], ...], Sequence[_Shape], tuple[str, ...]]] = {}
        self._vendor_reasons: dict[tuple[str, str], tuple[Reason, ...]] = {}
        self._tables: dict[int, _Table] = {}
        self._answers: dict[tuple[object, ...], tuple[Reason, ...]] = {}
        self._limits: dict[tuple[int, int, int, tuple[int, int, int] | None],
                           tuple[FeatureSet, FeatureSet, str | None] | None] = {}
        #: A group's decisions for a cluster's classes -> the positions that take it, and each reason
        #: with the positions it applies to (`_failures`).
        self._layouts: dict[object, tuple[tuple[int, ...], tuple[tuple[Reason, tuple[int, ...]], ...]]] = {}
        # Alike hosts share one destination object (hashed once, compared by identity first).
        self._dests: dict[tuple[object, ...], _Dest] = {}
        self._fixed: dict[tuple[object, ...], _Dest] = {}
        self.floors = GuestFloors.for_catalog(self.catalog)
        self._cycle_cache: dict[tuple[int, int, int], PowerCycle | None] = {}
        self._esxi: dict[tuple[str, str | None], tuple[EsxiVersion | None, int | None, int | None]] = {}
        self._modes_for: dict[str, ModeTable] = {}
        self.plans = VMPlans(self.catalog, exposed=self._exposed)
        self.feature_set = self.plans.feature_set
        # Clusters repeat: their common modes, and what follows from them, are worked out once.
        self._common: dict[tuple[object, ...], CommonModes] = {}
        self._derived: dict[int, tuple[CommonModes, dict[str, FeatureSet], list[EvcMode], list[EvcMode]]] = {}

    def exposed(self, hw: int) -> int:
        """Features a VM of hardware version ``hw`` can see (VMware's first HWV per feature)."""
        mask = self._exposed.get(hw)
        if mask is None:
            mask = sum(f.bit for f in self.reg if f.hw_version is None or f.hw_version <= hw)
            self._exposed[hw] = mask
        return mask

    def host_result(self, host: Host) -> HostResult:
        p = host.cpu
        modes = self._modes_for.get(host.vcenter)
        if modes is None:
            modes = self._modes_for[host.vcenter] = self.inv.modes_for(host.vcenter)
        esxi: EsxiVersion | None = None
        hi = lo = None
        if host.esxi_version:
            ek = (host.esxi_version, host.esxi_build)
            known = self._esxi.get(ek)
            if known is None:
                esxi = _esxi(host)
                rel = self.catalog.hardware.release(esxi) if esxi is not None else None
                known = self._esxi[ek] = (esxi, rel.max_hw_version if rel else None, rel.min_hw_version if rel else None)
            esxi, hi, lo = known
        key = (p.vendor, p.present.mask, p.unknown.mask, p.assumed, modes, esxi)
        verdict = self._assess_cache.get(key)
        if verdict is None:
            verdict = assess(p, self.catalog, modes, esxi)
            self._assess_cache[key] = verdict
        elif verdict.profile is not p:
            verdict = attrs.evolve(verdict, profile=p)
        return HostResult(host=host, verdict=verdict, max_hw_version=hi, min_hw_version=lo)

    def run(self) -> Analysis:
        inv = self.inv
        host_results = tuple(self.host_result(h) for h in inv.hosts)
        by_host, by_cluster = _index_hosts(host_results)
        cluster_of: dict[tuple[str, str], Cluster] = {c.key: c for c in inv.clusters}
        labels: dict[tuple[str, str], str] = {c.key: inv.cluster_label(c) for c in inv.clusters}
        evc_of: dict[tuple[str, str], EvcMode] = {c.key: inv.mode(c.vcenter, c.evc_mode) for c in inv.clusters if c.evc_mode}

        # What each clustered host looks like from the data alone (before the witness step's corrections),
        # and the raw class of each host, by vCenter and host name.
        host_cid, raw_dests = self._raw_classes(inv.clusters, by_cluster, evc_of)

        # One pass over the VMs. VMs alike in everything but their name and host share a profile (their
        # requirement, group, cluster, power cycle, ...), decided once (and their results are alike: see
        # `vm_profiles`); a running VM is then checked
        # against its own host (the witness step), once per distinct (VM group, host data) pair.
        ctx = _Context(by_host, cluster_of, labels, evc_of, host_cid)
        profiles: dict[tuple[object, ...], _Profile] = {}
        of_vm: list[_Profile] = []
        add = of_vm.append
        witness = self._witness
        for vm in inv.vms:
            r = vm.requirement  # immutable, and shared by the VMs of equal requirements: its identity is a key
            pk = (id(r), vm.hardware_version, vm.power_state, vm.template, vm.per_vm_evc, vm.guest_id, vm.guest_os,
                  vm.min_required_evc_mode, vm.vcenter, vm.cluster, vm.host if r.source == "none" else None)
            p = profiles.get(pk)
            if p is None:
                p = profiles[pk] = self._profile(vm, ctx)
                p.first = len(of_vm)
            add(p)
            hosts = p.hosts
            if hosts is not None:  # `_witness_on_host`, inline: once per running VM
                cid = hosts.get(vm.host)  # type: ignore[arg-type]  # None is no host name: not found
                if cid is not None and (p.microcode or p.found.get(cid) is not _CLEAN):
                    witness(vm, p, cid, raw_dests[cid], ctx)
        conflicts, host_fix, cluster_fix = ctx.conflicts, ctx.host_fix, ctx.cluster_fix

        # Destination classes per cluster: hosts that look alike to every VM.
        classes: dict[_Dest, int] = {}
        cluster_classes: list[tuple[Cluster, str, dict[int, list[str]]]] = []
        for c in inv.clusters:
            members: dict[int, list[str]] = {}
            cfix = cluster_fix.get(c.key)
            for hr in by_cluster.get(c.key, []):
                hk = (hr.host.vcenter, hr.host.name)
                d = raw_dests[host_cid[hr.host.vcenter][hr.host.name]]
                fix = host_fix.get(hk)
                if fix is not None or cfix is not None:
                    d = self._corrected(d, fix, cfix or (0, 0))
                members.setdefault(classes.setdefault(d, len(classes)), []).append(hr.host.name)
            cluster_classes.append((c, labels[c.key], members))
        dests = list(classes)
        self.memo.dests = tuple(dests)
        if self._previous is not None:
            old = {d: i for i, d in enumerate(self._previous.dests)}
            self._remap = [old.get(d) for d in dests]

        # Each VM group's verdicts, from the decision of each (group, destination class) pair, made once.
        vectors: dict[tuple[int, ...], GroupVerdict] = {}
        shapes = [_Shape(label, members, dests) for _c, label, members in cluster_classes]
        verdicts = [self._group_verdict(g, dests, shapes, vectors) for g in ctx.groups.values()]

        # Each profile's result fields, then one result per VM.
        stuck_at = _Stuck({label: _vendors(by_cluster.get(c.key, [])) for c, label, _ in cluster_classes})
        for p in profiles.values():
            b = p.base
            verdict = verdicts[b.group_index]
            vendor = b.vendor
            stuck = b.running and vendor is not None and stuck_at(verdict, vendor, p.label)
            p.args = (p.label, b.fs, b.source, vendor, verdict, p.cycle, b.notes, stuck)
            if b.running and p.ck is not None:
                p.held = (*self.plans.slot(p.ck), b)  # VMs of one base are alike to the plans: it is their kind
        # `VMResult(vm, *p.args)` at C speed, without the Python-level __new__ of a named tuple; then each
        # running VM of a cluster joins its cluster's plans.
        vm_results = list(map(tuple.__new__, repeat(VMResult), map(operator.add, zip(inv.vms), map(_ARGS, of_vm))))
        for result, held in zip(vm_results, map(_HELD, of_vm)):
            if held is not None:
                held[0].append(result)
                held[1].append(held[2])

        cluster_results = tuple(self._cluster_result(c, label, by_cluster.get(c.key, []))
                                for c, label, _ in cluster_classes)
        notes = inv.notes + tuple(f"EVC modes {', '.join(m.key for m in vc.modes if m.origin == vc.name)} of vCenter "
                      f"{vc.name} come from its own definitions (capability.supportedEVCMode), not the shipped tables"
                      for vc in inv.vcenters if vc.modes is not None)
        memo = self.memo
        memo.of_vm, memo.groups, memo.group_index, memo.verdicts = of_vm, ctx.groups, ctx.group_index, verdicts
        memo.by_cluster, memo.cluster_classes, memo.conflict_vms = by_cluster, cluster_classes, ctx.conflict_vms
        memo.results = results = tuple(vm_results)
        memo.profiles = list(profiles.values())
        return Analysis(inv, host_results, cluster_results, results, len(ctx.groups), len(dests), notes,
                        data_conflicts=tuple(conflicts), memo=memo)

    def rerun(self, previous: Analysis) -> Analysis | None:
        """The analysis of an estate that differs from ``previous``'s in its hosts only (a what-if), redoing
        only the clusters whose hosts changed and the VMs on added or retired hosts; the rest is taken
        from ``previous``. None when the estates differ otherwise (VMs, clusters, vCenters, notes) or a
        condition below fails: then `run` analyses the whole estate.

        What may be taken, and why: a host's verdict depends on the host alone; a VM's requirement and
        group on its own host and cluster; a destination class on its host, its cluster's EVC mode and
        what the running VMs on the host and in its cluster prove (the witness step); a group's verdict
        towards one cluster on the group's decisions against that cluster's classes; a cluster's result
        and recommendation on its hosts and its VMs. That holds while every VM of a changed cluster, or on
        a host of one, is in its host's cluster (parsed inventories guarantee it), and VMs, hosts and
        cluster keys are unique; otherwise the witness step of one cluster could read another's hosts.
        """
        from evckit.recommend import recommend  # noqa: PLC0415 - recommend builds on this module's results

        memo, inv, before = self._previous, self.inv, previous.inventory
        vms = inv.vms
        if (memo is None or previous._memo is not memo or len(memo.of_vm) != len(vms)
                or before.vcenters != inv.vcenters or before.clusters != inv.clusters or before.notes != inv.notes
                or (vms is not before.vms and (len(vms) != len(before.vms)
                                               or any(a is not b for a, b in zip(vms, before.vms))))):
            return None
        clusters = inv.clusters
        if len({c.key for c in clusters}) != len(clusters):
            return None
        index = memo.vm_index
        if index is None:
            index = memo.vm_index = _VMIndex(vms)
        if not index.unique:
            return None

        # Hosts: the verdicts of those that stay are kept; which came and went; which clusters changed.
        old_result = {id(hr.host): hr for hr in previous.hosts}
        host_results = [old_result.get(id(h)) or self.host_result(h) for h in inv.hosts]
        staying = {id(h) for h in inv.hosts}
        moved = [hr.host for hr in host_results if id(hr.host) not in old_result]
        moved += [hr.host for hr in previous.hosts if id(hr.host) not in staying]
        by_host, by_cluster = _index_hosts(host_results)
        host_before = {(h.vcenter, h.name): h for h in before.hosts}
        if len(by_host) != len(inv.hosts) or len(host_before) != len(before.hosts):
            return None
        old_members = memo.by_cluster
        changed = {c.key for c in clusters
                   if len(a := by_cluster.get(c.key, [])) != len(b := old_members.get(c.key, []))
                   or any(x is not y for x, y in zip(a, b))}

        # VMs whose witness step is redone (those of changed clusters and on their hosts), and VMs on
        # hosts that came or went (their requirement, and so their group, may change).
        in_changed = index.in_clusters(changed)
        changed_hosts = {(hr.host.vcenter, hr.host.name) for k in changed
                         for hr in (*by_cluster.get(k, ()), *old_members.get(k, ()))}
        moved_hosts = {(h.vcenter, h.name) for h in moved}
        on = index.on_hosts(changed_hosts | moved_hosts)
        relevant: set[int] = set()
        for at in in_changed.values():
            relevant.update(at)
        for hk in changed_hosts:
            relevant.update(on[hk])
        for i in relevant:
            vm = vms[i]
            if vm.host is not None:
                hk = (vm.vcenter, vm.host)
                now, then = by_host.get(hk), host_before.get(hk)
                if (now is not None and now.host.cluster != vm.cluster) or (then is not None and then.cluster != vm.cluster):
                    return None
        affected = {i for hk in moved_hosts for i in on[hk]}

        labels: dict[tuple[str, str], str] = {c.key: label for c, label, _ in memo.cluster_classes}
        cluster_of: dict[tuple[str, str], Cluster] = {c.key: c for c in clusters}
        evc_of: dict[tuple[str, str], EvcMode] = {c.key: inv.mode(c.vcenter, c.evc_mode) for c in clusters if c.evc_mode}
        host_cid, raw_dests = self._raw_classes([c for c in clusters if c.key in changed], by_cluster, evc_of)
        ctx = _Context(by_host, cluster_of, labels, evc_of, host_cid)
        ctx.groups, ctx.group_index = dict(memo.groups), dict(memo.group_index)
        ctx.found = {k: {} for k in ctx.groups}
        of_vm = memo.of_vm
        fresh: dict[int, _Profile] = {}
        found: list[tuple[int, DataConflict]] = []
        for i in sorted(relevant | affected):
            vm = vms[i]
            p = fresh[i] = self._profile(vm, ctx)
            hosts = p.hosts
            if hosts is None or vm.host is None:
                continue
            n = len(ctx.conflicts)
            self._witness_on_host(vm, p, hosts, raw_dests, ctx)
            found.extend((i, c) for c in ctx.conflicts[n:])
        if fresh:
            of_vm = list(of_vm)
            for i, p in fresh.items():
                of_vm[i] = p
        # The data conflicts of the VMs not redone stay, in VM order with the new ones.
        redone = {id(vms[i]) for i in relevant}
        staying_conflicts = [(v, c) for v, c in zip(memo.conflict_vms, previous.data_conflicts) if id(v) not in redone]
        if found:
            position = index.positions()
            conflicts = sorted([(position[id(v)], c) for v, c in staying_conflicts] + found, key=operator.itemgetter(0))
            conflict_vms = [vms[i] for i, _ in conflicts]
        else:
            conflicts, conflict_vms = [(0, c) for _, c in staying_conflicts], [v for v, _ in staying_conflicts]

        # Destination classes: the changed clusters' from their hosts and the witness step, the others' kept.
        classes: dict[_Dest, int] = {}
        cluster_classes: list[tuple[Cluster, str, dict[int, list[str]]]] = []
        old_dests = memo.dests
        for c, label, old in memo.cluster_classes:
            if c.key not in changed:
                cluster_classes.append((c, label, {classes.setdefault(old_dests[j], len(classes)): hosts
                                                   for j, hosts in old.items()}))
                continue
            members: dict[int, list[str]] = {}
            cfix = ctx.cluster_fix.get(c.key)
            for hr in by_cluster.get(c.key, []):
                hk = (hr.host.vcenter, hr.host.name)
                d = raw_dests[host_cid[hr.host.vcenter][hr.host.name]]
                fix = ctx.host_fix.get(hk)
                if fix is not None or cfix is not None:
                    d = self._corrected(d, fix, cfix or (0, 0))
                members.setdefault(classes.setdefault(d, len(classes)), []).append(hr.host.name)
            cluster_classes.append((c, label, members))
        dests = list(classes)
        self.memo.dests = tuple(dests)
        old_index = {d: i for i, d in enumerate(old_dests)}
        self._remap = [old_index.get(d) for d in dests]

        # Group verdicts: the changed clusters' entries decided anew and put in place, the others' kept.
        redo = [cc for cc in cluster_classes if cc[0].key in changed]
        redo_shapes = [_Shape(label, members, dests) for _c, label, members in redo]
        redo_labels = {label for _, label, _ in redo}
        pos = {label: i for i, (_, label, _) in enumerate(cluster_classes)}
        present = ({p.base.group_index for p in of_vm} if affected
                   else {gi for gi, v in enumerate(memo.verdicts) if v is not None})
        all_shapes: list[_Shape] | None = None
        vectors: dict[tuple[int, ...], GroupVerdict] = {}
        verdicts: list[GroupVerdict | None] = [None] * len(ctx.group_index)
        for key, g in ctx.groups.items():
            gi = ctx.group_index[key]
            if gi not in present:
                continue
            was = memo.verdicts[gi] if gi < len(memo.verdicts) else None
            if was is None:
                if all_shapes is None:
                    all_shapes = [_Shape(label, members, dests) for _c, label, members in cluster_classes]
                verdicts[gi] = self._group_verdict(g, dests, all_shapes, vectors)
                continue
            pairs = self._decide(g, dests)
            cold = pairs if not g.running else self._cold(g.hardware_version, dests, g)
            vector = (int(g.running), *map(id, pairs), *map(id, cold))
            verdict = vectors.get(vector)
            if verdict is None:
                part = self._group_verdict(g, dests, redo_shapes, {})
                if all((t in part.live_targets) == (t in was.live_targets)
                       and (t in part.cold_targets) == (t in was.cold_targets)
                       and part.partial.get(t) == was.partial.get(t) and part.blocked.get(t) == was.blocked.get(t)
                       for t in redo_labels):
                    verdict = was  # nothing changed for this group: its verdict object stays
                else:
                    verdict = GroupVerdict(
                        live_targets=_splice_seq(was.live_targets, part.live_targets, redo_labels, pos),
                        cold_targets=_splice_seq(was.cold_targets, part.cold_targets, redo_labels, pos),
                        partial=_splice_map(was.partial, part.partial, redo_labels, pos),
                        blocked=_splice_map(was.blocked, part.blocked, redo_labels, pos))
                vectors[vector] = verdict
            verdicts[gi] = verdict

        # VM results: kept where their verdict, and so whether they are stuck, stayed.
        vendors_of = {c.label: c.vendors for c in previous.clusters}
        for c, label, _ in redo:
            vendors_of[label] = _vendors(by_cluster.get(c.key, []))
        same_vendors = all(vendors_of[c.label] == c.vendors for c in previous.clusters if c.label in redo_labels)
        old_vendors = {c.label: c.vendors for c in previous.clusters}

        # A group's VMs keep their results when its verdict stayed and so did the clusters its running VMs
        # are stuck on (a running group has one vendor); the others' results are made anew.
        keep = [False] * len(verdicts)
        for key, g in ctx.groups.items():
            gi = ctx.group_index[key]
            verdict = verdicts[gi]
            if verdict is None or gi >= len(memo.verdicts) or verdict is not memo.verdicts[gi]:
                continue
            keep[gi] = (same_vendors or not g.running or g.vendor is None
                        or _nowhere(verdict, g.vendor, vendors_of) == _nowhere(verdict, g.vendor, old_vendors))
        pending = [i for i, p in enumerate(of_vm) if not keep[p.base.group_index]]
        if affected:
            pending = sorted(set(pending) | affected)
        vm_results = list(previous.vms)
        stuck_at = _Stuck(vendors_of)
        for i in pending:
            p = of_vm[i]
            pb = p.base
            verdict = verdicts[pb.group_index]
            assert verdict is not None  # every group of a VM is present
            vendor = pb.vendor
            flag = pb.running and vendor is not None and stuck_at(verdict, vendor, p.label)
            vm = vms[i]
            if i in affected:
                vm_results[i] = VMResult(vm, p.label, pb.fs, pb.source, vendor, verdict, p.cycle, pb.notes, flag)
                continue
            r = vm_results[i]
            if verdict is not r.verdict or flag != r.not_movable_everywhere:
                vm_results[i] = VMResult(vm, r.cluster_label, r.requirement, r.requirement_source, r.vendor, verdict,
                                         r.power_cycle, r.notes, flag)

        # Cluster results: the changed ones analysed and recommended anew, their running VMs in the plans.
        cluster_results = list(previous.clusters)
        for j, (c, label, _) in enumerate(cluster_classes):
            if c.key not in changed:
                continue
            mine = in_changed.get(c.key, [])
            for i in mine:
                pb = of_vm[i].base
                if pb.running:
                    held, kinds = self.plans.slot(c.key)
                    held.append(vm_results[i])
                    kinds.append(pb)
            result = self._cluster_result(c, label, by_cluster.get(c.key, []))
            rec = recommend(inv, [result], [vm_results[i] for i in mine], self.plans)[(c.vcenter, c.name)]
            cluster_results[j] = attrs.evolve(result, recommendation=rec)

        out = self.memo
        out.of_vm, out.groups, out.group_index, out.verdicts = of_vm, ctx.groups, ctx.group_index, verdicts
        out.by_cluster, out.cluster_classes, out.vm_index = by_cluster, cluster_classes, index
        out.conflict_vms = conflict_vms
        return Analysis(inv, tuple(host_results), tuple(cluster_results), tuple(vm_results), len(present), len(dests),
                        previous.notes, data_conflicts=tuple(c for _, c in conflicts), memo=out)

    def _profile(self, vm: VM, ctx: _Context) -> _Profile:
        """What every VM alike to ``vm`` (all but name and host, unless the host decides its requirement) shares."""
        r = vm.requirement
        running = vm.running
        # What does not depend on the VM's place is decided once for all clusters.
        bk = (id(r), vm.hardware_version, running, vm.per_vm_evc, vm.guest_id, vm.guest_os)
        placeless = r.source != "none" or not running
        base = ctx.bases.get(bk) if placeless else None
        if base is None:
            base = self._base(vm, ctx)
            if placeless:
                ctx.bases[bk] = base
        p = _Profile()
        p.base, p.found, p.microcode = base, base.found, base.microcode
        place = ctx.places.get((vm.vcenter, vm.cluster))
        if place is None:
            ck = (vm.vcenter, vm.cluster) if vm.cluster is not None else None
            place = ctx.places[(vm.vcenter, vm.cluster)] = (
                ck, ctx.labels.get(ck) if ck is not None else None, ctx.evc_of.get(ck) if ck is not None else None,
                ctx.host_cid.get(vm.vcenter) if ck is not None else None)
        p.ck, p.label, evc, hosts = place
        p.cycle = None
        if running and evc is not None:
            ek = (id(base), id(evc))  # bases live as long as the context, modes longer
            if ek in ctx.cycles:
                p.cycle = ctx.cycles[ek]
            else:
                if self.plans.cycles(base.vendor, vm.per_vm_evc, base.source, evc):
                    p.cycle = self.power_cycle(base.req, vm.hardware_version, evc)
                ctx.cycles[ek] = p.cycle
        p.hosts = hosts if running else None
        p.held = None
        return p

    def _base(self, vm: VM, ctx: _Context) -> _Base:
        """The requirement, group and feature set of a VM (by its place only when its host or cluster
        decides its requirement)."""
        req, source, vendor, notes = self._requirement(vm, ctx.by_host, ctx.cluster_of)
        running = vm.running
        floor = self.floors.lookup(vm.guest_id, vm.guest_os) if vm.guest_id or vm.guest_os else None
        fmask = floor.features.mask if floor is not None else 0
        gkey: tuple[object, ...] = ((vendor, req, vm.hardware_version, vm.per_vm_evc, fmask) if running
                                    else (vm.hardware_version, fmask))
        group = ctx.groups.get(gkey)
        if group is None:
            group = ctx.groups[gkey] = _Group(vendor if running else None, req if running else 0, vm.hardware_version,
                                              running, vm.per_vm_evc if running else None, fmask,
                                              floor.label if floor is not None else None)
            ctx.group_index[gkey] = len(ctx.group_index)
            ctx.found[gkey] = {}
        fs = ctx.sets.get(req)
        if fs is None:
            fs = ctx.sets[req] = self.reg.feature_set(req)
        base = _Base()
        base.req, base.source, base.vendor, base.notes, base.running = req, source, vendor, notes, running
        base.group, base.group_index, base.found, base.fs = group, ctx.group_index[gkey], ctx.found[gkey], fs
        base.microcode = group.requirement & self.microcode
        return base

    # --- the witness step ----------------------------------------------------------------------------

    def _raw_classes(self, clusters: Iterable[Cluster], by_cluster: Mapping[tuple[str, str], Sequence[HostResult]],
                     evc_of: Mapping[tuple[str, str], EvcMode]) -> tuple[dict[str, dict[str, int]], list[_Dest]]:
        """What each host of ``clusters`` looks like from the data alone (before the witness step's
        corrections): the raw class of each host by vCenter and host name, and the classes."""
        ids: dict[_Dest, int] = {}
        host_cid: dict[str, dict[str, int]] = {}
        for c in clusters:
            mode = evc_of.get(c.key)
            for hr in by_cluster.get(c.key, []):
                host_cid.setdefault(hr.host.vcenter, {})[hr.host.name] = ids.setdefault(self._dest(hr, mode), len(ids))
        return host_cid, list(ids)

    def _witness_on_host(self, vm: VM, p: _Profile, hosts: Mapping[str, int], raw_dests: Sequence[_Dest],
                         ctx: _Context) -> None:
        """The witness step for a running VM of profile ``p`` on its host, if that host is clustered and
        the (group, host class) pair is not already known to agree with the data."""
        cid = hosts.get(vm.host or "")
        if cid is None or (not p.microcode and p.found.get(cid) is _CLEAN):
            return
        self._witness(vm, p, cid, raw_dests[cid], ctx)

    def _witness(self, vm: VM, p: _Profile, cid: int, d: _Dest, ctx: _Context) -> None:
        """Check a running VM against its own host (of raw class ``cid``, ``d``), once per distinct
        (VM group, host data) pair.

        Records the conflicts, what running VMs prove about their hosts (host -> corrections), and what
        they prove about their EVC clusters (cluster -> (baseline features, microcode features)). Under
        EVC every host exposes the same baseline, so a baseline feature a running VM needs there is
        guaranteed on every host of the cluster; and an EVC cluster exposes a microcode-dependent feature
        only once every host has it (VMware KB 52085), so those a running VM needs are present on every
        host of the cluster where the data leaves them unknown (measured absence stays as measured).
        """
        ck = p.ck
        assert ck is not None  # only clustered VMs have hosts to check
        cluster_fix, host_fix = ctx.cluster_fix, ctx.host_fix
        microcode = p.microcode
        if microcode and d.evc_mode is not None:
            base, mc = cluster_fix.get(ck, (0, 0))
            cluster_fix[ck] = (base, mc | microcode)
        entry = p.found.get(cid)
        if entry is None:
            entry = p.found[cid] = self._contradictions(p.base.group, d, ctx.by_host[(vm.vcenter, vm.host or "")])
        host_part, table_part, contradictions, vendor = entry
        if not host_part and not table_part and not contradictions:
            return
        g = p.base.group
        hk = (vm.vcenter, vm.host or "")
        fix = host_fix.get(hk)
        if fix is None:
            fix = host_fix[hk] = _Witnessed()
        fix.features |= host_part
        if d.max_hw is not None and g.hardware_version > d.max_hw:
            fix.max_hw = max(fix.max_hw or 0, g.hardware_version)
        if d.min_hw is not None and g.hardware_version < d.min_hw:
            fix.min_hw = min(fix.min_hw or g.hardware_version, g.hardware_version)
        if vendor is not None:
            fix.vendors.add(vendor)
        if table_part:
            base, mc = cluster_fix.get(ck, (0, 0))
            cluster_fix[ck] = (base | table_part, mc)
        host = ctx.by_host[hk].host
        for source, mask, message in contradictions:
            ctx.conflicts.append(DataConflict(vm=vm.name, vcenter=vm.vcenter, host=vm.host or "", cluster=p.label,
                                          source=source, features=self.feature_set(mask), message=message(host)))
            ctx.conflict_vms.append(vm)

    def _contradictions(self, g: _Group, d: _Dest, hr: HostResult) -> tuple[int, int, tuple[_Contradiction, ...], str | None]:
        """What a running VM of group ``g`` on a host of class ``d`` proves against evckit's data.

        Returns the features proven on the host itself, those proven on every host of its EVC cluster,
        the contradictions (features the data says are absent, a hardware version or vendor it says the
        host cannot run) and the vendor to believe when the data's is not the VM's. Features the data
        leaves unknown are proven present without contradicting anything.
        """
        if not self._pair(g, d):
            return _CLEAN
        out: list[_Contradiction] = []
        host = hr.host
        vendor = None
        hw, max_hw, min_hw = g.hardware_version, d.max_hw, d.min_hw
        if g.vendor is not None and d.vendor is not None and g.vendor != d.vendor:
            vendor = g.vendor
            says = f"the VM ({g.vendor}) runs on this host, yet its CPU data says {d.vendor}"
            out.append(("vendor", 0, lambda h: says))
        if max_hw is not None and hw > max_hw:
            out.append(("hardware_version", 0,
                        lambda h: (f"the VM (vmx-{hw}) runs on this host, yet evckit's tables give ESXi "
                                   f"{h.esxi_version} only up to vmx-{max_hw}: the host runs a later ESXi release "
                                   "or update than the data records (its build tells the update)")))
        elif min_hw is not None and hw < min_hw:
            out.append(("hardware_version", 0,
                        lambda h: (f"the VM (vmx-{hw}) runs on this host, yet evckit's tables give ESXi "
                                   f"{h.esxi_version} vmx-{min_hw} and later only")))
        lacking = g.requirement & ~d.guarantee & ~self.any_mask
        missing = lacking & ~d.unknown
        host_part, table_part = lacking, 0
        if d.evc_mode is not None:
            table_part = missing & ~self.microcode
            host_part = lacking & ~table_part
            if table_part:
                mode = self.inv.mode(host.vcenter, d.evc_mode)
                origin = "evckit's tables" if mode.origin == "builtin" else f"vCenter {mode.origin}'s own definitions"
                incomplete = (f"the VM runs in this EVC cluster, yet EVC mode {d.evc_mode} in {origin} lacks "
                              f"{_names(self.reg.names(table_part))}: that baseline is incomplete")
                out.append(("evc_mode", table_part, lambda h: incomplete))
        if missing & host_part:
            names = _names(self.reg.names(missing & host_part))
            stale = bool(missing & host_part & ~self.microcode)

            def lacks(h: Host) -> str:
                if h.cpu.assumed:
                    what = f"its CPU data, assumed from {h.cpu.source}, lacks {names}"
                elif stale:
                    what = f"its measured CPU data lacks {names}: the data is stale or incomplete"
                else:
                    what = (f"its measured CPU data lacks {names}: the data predates a microcode or firmware "
                            "update; collect it again")
                return f"the VM runs on this host, yet {what}"

            out.append(("host_cpu", missing & host_part, lacks))
        return host_part, table_part, tuple(out), vendor

    def _corrected(self, d: _Dest, fix: _Witnessed | None, cluster: tuple[int, int]) -> _Dest:
        """A destination with what running VMs proved about it: features, hardware versions, vendor.

        ``cluster`` is what they proved about its EVC cluster: baseline features, and microcode features
        that settle what this host's data leaves unknown.
        """
        key = (d, cluster, None if fix is None else (fix.features, fix.max_hw, fix.min_hw, bool(fix.vendors)))
        found = self._fixed.get(key)
        if found is None:
            found = self._fixed[key] = self._correct(d, fix, cluster)
        return found

    @staticmethod
    def _correct(d: _Dest, fix: _Witnessed | None, cluster: tuple[int, int]) -> _Dest:
        baseline, microcode = cluster
        extra = baseline | (microcode & d.unknown) | (fix.features if fix is not None else 0)
        max_hw, min_hw, vendor = d.max_hw, d.min_hw, d.vendor
        if fix is not None:
            if fix.max_hw is not None and max_hw is not None:
                max_hw = max(max_hw, fix.max_hw)
            if fix.min_hw is not None and min_hw is not None:
                min_hw = min(min_hw, fix.min_hw)
            if fix.vendors:
                vendor = None  # running VMs contradict the host's vendor: the data cannot say which it is
        return _Dest(vendor=vendor, guarantee=d.guarantee | extra, unknown=d.unknown & ~extra, max_hw=max_hw,
                     min_hw=min_hw, available=d.available, evc_mode=d.evc_mode)

    def _dest(self, hr: HostResult, mode: EvcMode | None) -> _Dest:
        """What a VM meets on one host (under its cluster's EVC ``mode``); alike hosts share one object."""
        p = hr.host.cpu
        key = (id(mode), p.vendor, p.present.mask, p.unknown.mask, hr.max_hw_version, hr.min_hw_version,
               hr.host.available)  # modes live as long as the analysis: identity is enough
        d = self._dests.get(key)
        if d is None:
            if mode is not None:
                # EVC on: every host exposes exactly the mode's baseline, plus the microcode-dependent
                # mitigation bits the shipped baselines leave out, where this host has them.
                guarantee = mode.features.mask | (p.present.mask & self.mitigations)
                d = _Dest(mode.vendor, guarantee, p.unknown.mask & self.mitigations, hr.max_hw_version,
                          hr.min_hw_version, hr.host.available, mode.key)
            else:
                d = _Dest(p.vendor, p.present.mask, p.unknown.mask, hr.max_hw_version, hr.min_hw_version,
                          hr.host.available, None)
            self._dests[key] = d
        return d

    def _requirement(
        self, vm: VM, by_host: Mapping[tuple[str, str], HostResult], clusters: Mapping[tuple[str, str], Cluster],
    ) -> tuple[int, VMRequirementSource, str | None, tuple[str, ...]]:
        """The features a VM needs at its destination, where that came from, its vendor, notes."""
        r = vm.requirement
        source = r.source
        notes: list[str] = []
        if r.unevaluated:
            notes.append(f"requirement keys evckit cannot evaluate: {', '.join(r.unevaluated)}")
        if source == "featureRequirement":  # what the VM was powered on with: taken as recorded
            return r.features.mask, source, r.vendor, tuple(notes) if notes else ()
        exposed = self._exposed.get(vm.hardware_version) or self.exposed(vm.hardware_version)
        if source == "perVmEvc" or source == "minRequiredEVCModeKey":
            return r.features.mask & exposed, source, r.vendor, tuple(notes) if notes else ()
        # No recorded requirement: a running VM is assumed to use what its cluster guarantees
        # (EVC mode) or, without EVC, what its current host has.
        if not vm.running:
            return 0, "none", r.vendor, tuple(notes)
        cluster = clusters.get((vm.vcenter, vm.cluster)) if vm.cluster else None
        host = by_host.get((vm.vcenter, vm.host)) if vm.host else None
        if cluster is not None and cluster.evc_mode:
            mode = self.inv.mode(vm.vcenter, cluster.evc_mode)
            notes.append(f"no recorded CPU requirement: assumed to use its cluster's EVC mode {mode.key}")
            return mode.features.mask & exposed, "assumed", mode.vendor, tuple(notes)
        if host is not None:
            notes.append(f"no recorded CPU requirement: assumed to use every feature of its host {host.host.name}")
            mask = host.host.cpu.present.mask & exposed & ~self.any_mask
            return mask, "assumed", host.host.cpu.vendor, tuple(notes)
        notes.append("no recorded CPU requirement and no host: only vendor and hardware version are checked")
        return 0, "none", r.vendor, tuple(notes)

    def power_cycle(self, req: int, hw: int, mode: EvcMode) -> PowerCycle | None:
        """What a running VM with requirement ``req`` and hardware version ``hw`` would gain from a power
        cycle under ``mode`` (None: nothing); decided once per (requirement, version, mode)."""
        key = (req, hw, id(mode))  # modes live as long as the analysis: identity is enough, and cheap
        if key in self._cycle_cache:
            return self._cycle_cache[key]
        cycle = self._cycle_cache[key] = self._power_cycle(req, hw, mode)
        return cycle

    def _power_cycle(self, req: int, hw: int, mode: EvcMode) -> PowerCycle | None:
        missing = self.plans.missing(req, hw, mode)
        if not missing:
            return None
        hidden = mode.features.mask & ~self.exposed(hw)
        return PowerCycle(mode=mode.key, missing=self.reg.feature_set(missing), hidden=self.reg.feature_set(hidden))

    def _pair(self, g: _Group, d: _Dest) -> tuple[Reason, ...]:
        """Why a VM of group ``g`` cannot go to a host of class ``d`` (empty: it can). Hosts unnamed.

        A running group's answer depends only on the vendors, the hardware versions, the features it
        lacks there (and which of them are unknown), its per-VM EVC mode and the cluster's EVC mode:
        worked out once per distinct combination."""
        if not g.running:
            return self._answer(g, d)
        lacking = g.requirement & ~d.guarantee & ~self.any_mask
        key = (g.vendor, d.vendor, g.hardware_version, d.max_hw, d.min_hw, lacking, lacking & d.unknown, g.per_vm_evc,
               d.evc_mode)
        found = self._answers.get(key)
        if found is None:
            found = self._answers[key] = self._answer(g, d)
        return found

    def _answer(self, g: _Group, d: _Dest) -> tuple[Reason, ...]:
        reasons: list[Reason] = []
        if g.running and g.vendor is not None and d.vendor is not None and g.vendor != d.vendor:
            # Another vendor's host can never take a running VM: nothing else about it matters.
            found = self._vendor_reasons.get((g.vendor, d.vendor))
            if found is None:
                found = self._vendor_reasons[(g.vendor, d.vendor)] = (
                    Reason("vendor", f"VM runs on {g.vendor} CPUs, the host is {d.vendor}"),)
            return found
        if d.max_hw is not None and g.hardware_version > d.max_hw:
            reasons.append(Reason("hardware_version",
                                  f"hardware version vmx-{g.hardware_version} is newer than its ESXi runs "
                                  f"(up to vmx-{d.max_hw})"))
        elif d.min_hw is not None and g.hardware_version < d.min_hw:
            reasons.append(Reason("hardware_version",
                                  f"hardware version vmx-{g.hardware_version} is older than its ESXi runs "
                                  f"(vmx-{d.min_hw} and later)"))
        if not g.running:
            short = g.floor & ~d.guarantee & ~d.unknown if g.floor and (d.vendor is None or d.vendor in _X86) else 0
            if short:
                names = self.reg.names(short)
                where = f"the cluster's EVC mode {d.evc_mode} hides" if d.evc_mode else "the host lacks"
                reasons.append(Reason("guest_os", f"guest OS {g.floor_label} would not boot: needs "
                                      f"{_names(names)}, {where} them", names))
            return tuple(reasons)
        lacking = g.requirement & ~d.guarantee & ~self.any_mask
        missing, unknown = lacking & ~d.unknown, lacking & d.unknown
        microcode = missing & self.microcode
        missing &= ~microcode
        if missing:
            names = self.reg.names(missing)
            if g.per_vm_evc and d.evc_mode:
                msg = f"per-VM EVC mode {g.per_vm_evc} is above the cluster's EVC mode {d.evc_mode}"
                reasons.append(Reason("per_vm_evc", msg + f" (lacks {_names(names)})", names))
            elif d.evc_mode:
                reasons.append(Reason("features", f"missing CPU features: {_names(names)} "
                                      f"(not in the cluster's EVC mode {d.evc_mode})", names))
            else:
                reasons.append(Reason("features", f"missing CPU features: {_names(names)}", names))
        if microcode:
            # The host's measured data lacks bits its microcode or firmware sets: new hardware is not the fix.
            names = self.reg.names(microcode)
            reasons.append(Reason("microcode", f"the host's microcode or firmware lacks {_names(names)} "
                                  "(speculative-execution controls): update its BIOS, or the ESXi patch that "
                                  "carries the CPU microcode, then collect its CPU data again", names))
        if unknown:
            names = self.reg.names(unknown)
            reasons.append(Reason("undetermined", f"cannot tell: CPU data does not show {_names(names)}", names))
        return tuple(reasons)

    def _decide(self, g: _Group, dests: Sequence[_Dest]) -> tuple[tuple[Reason, ...], ...]:
        """The decision of one group against every destination class, with equal answers shared.

        With a previous analysis to reuse, only the classes it did not have are decided anew.
        """
        one, many = self._interned_reason, self._interned
        before = self._previous.decisions.get(g) if self._previous is not None else None
        out = []
        if before is not None and self._remap is not None:
            for d, j in zip(dests, self._remap):
                if j is not None:
                    out.append(before[j])
                else:
                    reasons = self._pair(g, d)
                    if reasons:
                        reasons = tuple([one.setdefault(r, r) for r in reasons])
                    out.append(many.setdefault(reasons, reasons))
        else:
            for d in dests:
                reasons = self._pair(g, d)
                if reasons:
                    reasons = tuple([one.setdefault(r, r) for r in reasons])
                out.append(many.setdefault(reasons, reasons))
        decided = tuple(out)
        self.memo.decisions[g] = decided
        return decided

    def _group_verdict(self, g: _Group, dests: Sequence[_Dest], shapes: Sequence[_Shape],
                       vectors: dict[tuple[int, ...], GroupVerdict]) -> GroupVerdict:
        """Assemble one group's verdict per cluster from its per-class decisions.

        Groups whose decisions coincide for every destination class share one verdict object, and at
        each cluster, groups whose decisions coincide for its classes share one outcome; a running
        group's cold targets depend only on its cold-move decisions, shared by its hardware version.
        """
        pairs = self._decide(g, dests)
        cold_pairs = pairs if not g.running else self._cold(g.hardware_version, dests, g)
        live_ids = list(map(id, pairs))
        cold_ids = live_ids if not g.running else list(map(id, cold_pairs))
        vector = (int(g.running), *live_ids, *cold_ids)
        shared = vectors.get(vector)
        if shared is not None:
            return shared
        # Each cluster's outcome for this group, looked up by the group's decisions for its classes (an
        # outcome new to a cluster is worked out there); then the verdict is read off the outcomes in
        # cluster order, every pass at C speed.
        table = self._table(shapes)
        keys = [get(live_ids) for get in table.gets]
        found: list[_Outcome | None] = list(map(dict.get, table.still if not g.running else table.live, keys))
        if None in found:
            work = self._still if not g.running else self._live
            for i, o in enumerate(found):
                if o is None:
                    shape = shapes[i]
                    cache = shape.still if not g.running else shape.live
                    key = keys[i]
                    found[i] = cache[key] = work(shape, pairs, key)
        outcomes = cast("list[_Outcome]", found)
        labels = table.labels
        goes = tuple(compress(labels, map(_GOES, outcomes)))
        blocked = dict(compress(zip(labels, map(_REASONS, outcomes)), map(_BLOCKED, outcomes)))
        if g.running:
            partial = dict(compress(zip(labels, map(_PARTIAL, outcomes)), map(_HAS_PARTIAL, outcomes)))
            live, cold_targets = goes, self._cold_targets(cold_pairs, shapes)
        else:
            partial, live, cold_targets = {}, (), goes
        verdict = GroupVerdict(live_targets=live, cold_targets=cold_targets, partial=partial, blocked=blocked)
        vectors[vector] = verdict
        return verdict

    def _table(self, shapes: Sequence[_Shape]) -> _Table:
        """The clusters' labels, class pickers and outcome caches, side by side (one per list of shapes)."""
        found = self._tables.get(id(shapes))
        if found is None or found.shapes is not shapes:
            found = self._tables[id(shapes)] = _Table(shapes)
        return found

    def _cold_targets(self, cold_pairs: tuple[tuple[Reason, ...], ...], shapes: Sequence[_Shape]) -> tuple[str, ...]:
        """The clusters a running group could move to powered off: some available host takes it cold."""
        key = (id(cold_pairs), id(shapes))  # both kept alive by the entry: identity is enough
        found = self._colds.get(key)
        if found is None or found[0] is not cold_pairs or found[1] is not shapes:
            targets = tuple(shape.label for shape in shapes
                            if shape.get is not None and any(not cold_pairs[cls] for cls in shape.classes))
            found = self._colds[key] = (cold_pairs, shapes, targets)
        return found[2]

    def _failures(self, shape: _Shape, pairs: Sequence[tuple[Reason, ...]],
                  key: object) -> tuple[list[str], tuple[Reason, ...]]:
        """The hosts of a cluster that take a group (by its per-class decisions), and one reason per
        distinct per-class reason, naming every host it applies to.

        ``key`` is the group's decisions for the cluster's classes (their identities, `_Shape.get`):
        which class positions take the group and which reasons apply where follow from it alone, so
        that is worked out once for every cluster and group alike; only the naming of hosts is the
        cluster's own."""
        layout = self._layouts.get(key)
        if layout is None:
            ok_at: list[int] = []
            failures: dict[int, tuple[Reason, list[int]]] = {}
            for j, cls in enumerate(shape.classes):
                reasons = pairs[cls]
                if not reasons:
                    ok_at.append(j)
                    continue
                for r in reasons:
                    entry = failures.get(id(r))
                    if entry is None:
                        failures[id(r)] = (r, [j])
                    else:
                        entry[1].append(j)
            # Reasons are interned for the analysis: identity is enough to key them.
            layout = self._layouts[key] = (tuple(ok_at), tuple([(r, (id(r), *at)) for r, at in failures.values()]))
        ok_at_, failing = layout
        hosts = shape.hosts
        ok_hosts = [h for j in ok_at_ for h in hosts[j]]
        merged = shape.merged
        out = []
        for r, mk in failing:
            m = merged.get(mk)
            if m is None:
                at = mk[1:]
                named = shape.named.get(at)
                if named is None:
                    hs = tuple(sorted(h for j in at for h in hosts[j]))
                    named = shape.named[at] = (hs, f" on {_names(hs)}")
                m = merged[mk] = Reason(r.kind, r.message + named[1], r.features, named[0])
            out.append(m)
        return ok_hosts, tuple(out)

    def _live(self, shape: _Shape, pairs: Sequence[tuple[Reason, ...]], key: object) -> _Outcome:
        """A running group at one cluster: live everywhere, or the hosts that take it and why the others not."""
        ok_hosts, failures = self._failures(shape, pairs, key)
        if not failures:
            return _LIVE
        return False, tuple(ok_hosts) if ok_hosts else None, failures, True, bool(ok_hosts)

    def _still(self, shape: _Shape, pairs: Sequence[tuple[Reason, ...]], key: object) -> _Outcome:
        """A powered-off group at one cluster: can it move there cold, and if not, why."""
        if any(not pairs[cls] for cls in shape.classes):
            return _LIVE
        return False, None, self._failures(shape, pairs, key)[1], True, False

    def _cold(self, hw: int, dests: Sequence[_Dest], g: _Group) -> tuple[tuple[Reason, ...], ...]:
        """Cold-migration decisions depend only on the hardware version and the guest OS floor: decided
        once per pair."""
        cached = self._cold_cache.get((hw, g.floor))
        if cached is None:
            cached = self._decide(_Group(None, 0, hw, False, None, g.floor, g.floor_label), dests)
            self._cold_cache[(hw, g.floor)] = cached
        return cached

    def _cluster_result(
        self, c: Cluster, label: str, hosts: list[HostResult],
    ) -> ClusterResult:
        """One cluster's verdict (its running VMs are in ``self.plans``)."""
        inv = self.inv
        modes: ModeTable = inv.modes_for(c.vcenter)
        evc = modes.get(c.evc_mode) if c.evc_mode else None
        vendors = _vendors(hosts)
        assumed = tuple(hr.host.name for hr in hosts if hr.host.cpu.assumed)
        his = [hr.max_hw_version for hr in hosts if hr.host.available and hr.max_hw_version is not None]
        max_hw = min(his) if his else None
        if not hosts:
            return ClusterResult(cluster=c, label=label, hosts=(), vendors=(), evc_mode=evc, max_evc_mode=None,
                                 max_evc_modes=(), reason="the cluster has no hosts", limiting_hosts=(),
                                 not_admitted=(), blocking_lower={}, undetermined={}, max_hw_version=max_hw,
                                 assumed_hosts=())
        releases = [_release(hr.host) for hr in hosts]
        common = common_modes([hr.host.cpu for hr in hosts], modes, [e for e in releases if e is not None], self._common)
        supported, reason = list(common.supported), common.reason
        derived = self._derived.get(id(common))
        if derived is None or derived[0] is not common:
            derived = self._derived[id(common)] = (
                common, {k: self.feature_set(v) for k, v in common.undetermined.items()}, modes.maximal(supported),
                modes.next_modes(supported, vendors[0]) if supported else [])
        undetermined, top = dict(derived[1]), derived[2]
        limiting = (limiting_hosts(hosts, derived[3], self.reg, self.feature_set, releases, self._limits)
                    if supported else [])
        not_admitted: list[LimitingHost] = []
        blocking: dict[str, tuple[str, ...]] = {}
        if evc is not None:
            for hr in hosts:
                p = hr.host.cpu
                lacking = evc.required & ~p.present.mask
                other_vendor = p.vendor if p.vendor and p.vendor != evc.vendor else None
                if lacking or other_vendor:
                    if other_vendor:
                        lacking = 0  # another vendor's CPU: the vendor is the reason, not every feature
                    not_admitted.append(LimitingHost(host=hr.host.name, mode=evc.key,
                                                     missing=self.reg.feature_set(lacking & ~p.unknown.mask),
                                                     undetermined=self.reg.feature_set(lacking & p.unknown.mask),
                                                     vendor=other_vendor))
            for low in self._lower_modes(modes, evc):
                blocking[low.key] = tuple([v.vm.name for v, _ in self.plans.plan(c.key, low, True).evacuate])
        raise_mode = top[0] if top and (evc is None or top[0].features.mask & ~evc.features.mask) else None
        cycling: tuple[str, ...] = ()
        if raise_mode is not None:
            # Enabling EVC first moves out the VMs above the mode (they come back at it); raising it does not.
            plan = self.plans.plan(c.key, raise_mode, evc is None)
            cycling = tuple([v.vm.name for v, _ in plan.power_cycle])
        return ClusterResult(cluster=c, label=label, hosts=tuple(hosts), vendors=vendors, evc_mode=evc,
                             max_evc_mode=top[0] if top else None, max_evc_modes=tuple(top), reason=reason,
                             limiting_hosts=tuple(limiting), not_admitted=tuple(not_admitted), blocking_lower=blocking,
                             undetermined=undetermined, max_hw_version=max_hw, assumed_hosts=assumed,
                             raise_mode=raise_mode, power_cycle_to_raise=cycling, supported_modes=tuple(supported))

    @staticmethod
    def _lower_modes(modes: ModeTable, mode: EvcMode) -> list[EvcMode]:
        """The modes right below ``mode`` in each of its tracks."""
        out: list[EvcMode] = []
        for track in mode.tracks:
            below = [m for m in modes.for_vendor(mode.vendor) if track in m.tracks and m.tier < mode.tier]
            if below:
                m = max(below, key=lambda m: m.tier)
                if m not in out:
                    out.append(m)
        return out


_ESXI: dict[tuple[str, str | None], EsxiVersion] = {}


def _release(host: Host) -> tuple[int, int, int] | None:
    """The host's ESXi update release (major, minor, update), parsed once per (version, build) text."""
    parsed = _esxi(host)
    return None if parsed is None else parsed.key


def _esxi(host: Host) -> EsxiVersion | None:
    """The host's parsed ESXi version and build, parsed once per distinct (version, build) text."""
    if not host.esxi_version:
        return None
    key = (host.esxi_version, host.esxi_build)
    parsed = _ESXI.get(key)
    if parsed is None:
        parsed = host.esxi
        if parsed is not None and len(_ESXI) < 4096:  # a handful of releases in any real estate
            _ESXI[key] = parsed
    return parsed


def limiting_hosts(hosts: Sequence[HostResult], targets: Iterable[EvcMode], registry: FeatureRegistry,
                   feature_set: Callable[[int], FeatureSet] | None = None,
                   releases: Sequence[tuple[int, int, int] | None] | None = None,
                   memo: dict[tuple[int, int, int, tuple[int, int, int] | None],
                              tuple[FeatureSet, FeatureSet, str | None] | None] | None = None) -> list[LimitingHost]:
    """The hosts that keep a cluster from each mode of ``targets``: the features each lacks (known
    lacking apart from unknown) or the newer ESXi release it needs (its update release, from its build).
    ``feature_set`` may share `FeatureSet` objects between calls (default: ``registry.feature_set``);
    ``releases``, each host's `_release`, when the caller has them; ``memo``, kept by the caller while
    the modes live, shares what a mode asks of one CPU data and release between hosts and clusters."""
    fs = feature_set or registry.feature_set
    if releases is None:
        releases = [_release(hr.host) for hr in hosts]
    out: list[LimitingHost] = []
    for mode in targets:
        for hr, release in zip(hosts, releases):
            p = hr.host.cpu
            key = (id(mode), p.present.mask, p.unknown.mask, release)  # modes outlive the memo
            found: tuple[FeatureSet, FeatureSet, str | None] | None
            if memo is not None and key in memo:
                found = memo[key]
            else:
                lacking = mode.required & ~p.present.mask
                too_old = not mode.offered_by(release)
                found = None
                if lacking or too_old:
                    found = (fs(lacking & ~p.unknown.mask), fs(lacking & p.unknown.mask),
                             mode.esxi_min_text if too_old else None)
                if memo is not None:
                    memo[key] = found
            if found is not None:
                out.append(LimitingHost(hr.host.name, mode.key, *found))
    return out


def analyze(inventory: Inventory, reuse: Analysis | None = None) -> Analysis:
    """Analyse a whole estate: host, cluster and VM verdicts with every reason, and a recommended EVC
    mode per cluster (``ClusterResult.recommendation``, `evckit.recommend`).

    ``reuse``, the analysis of an estate this one was derived from (a what-if), lends its decisions:
    when only hosts differ, only the clusters whose hosts changed and the VMs on added or retired hosts
    are analysed anew (`_Analyzer.rerun`); otherwise only the VM groups and destination classes it did
    not have are decided anew. The result is the same as without it.
    """
    from evckit.recommend import recommend  # noqa: PLC0415 - recommend builds on this module's results

    analyzer = _Analyzer(inventory, reuse._memo if reuse is not None else None)
    if reuse is not None:
        again = analyzer.rerun(reuse)
        if again is not None:
            return again
    a = analyzer.run()
    # Recommendations read the VMs only for their guest OS floors: the VMs of profiles with a floor
    # (a profile's VMs share their guest OS), none when no profile has one.
    vms: Sequence[VMResult] = a.vms
    alike = vm_profiles(a, vms)
    if alike is not None:
        floor = analyzer.floors.lookup
        floored = {p for p, v in alike[1].items()
                   if (v.vm.guest_id or v.vm.guest_os) and floor(v.vm.guest_id, v.vm.guest_os) is not None}
        vms = [v for v, p in zip(vms, alike[0]) if p in floored] if floored else ()
    recs = recommend(inventory, a.clusters, vms, analyzer.plans)
    clusters = tuple(attrs.evolve(c, recommendation=recs[(c.cluster.vcenter, c.cluster.name)]) for c in a.clusters)
    return attrs.evolve(a, clusters=clusters)
