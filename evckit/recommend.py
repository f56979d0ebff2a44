"""A recommendation per cluster: the EVC mode to run, and the plan and cost of getting there.

For each cluster the analysis already knows the modes every host supports. This module turns that into
an answer: **enable** EVC (the cluster has none), **raise** it, **keep** it, or **lower** it (a host cannot
run the current mode), at the highest mode the hosts share, with

- the hosts that cannot join that mode and why (another CPU vendor, no EVC mode at all), and the hosts
  that keep the cluster from the next mode up (features they lack, the ESXi release they would need);
- the running VMs that must be powered off or moved out before EVC can be enabled or lowered: those
  using CPU features above the mode (vSphere refuses to enable or lower EVC under them);
- the running VMs that need a power cycle to use a higher mode (a VM keeps the features it was
  powered on with);
- the guest operating systems whose floor the mode would break (``data/guest_os.json``);
- the cost: per host, the CPU features the mode hides from VMs.

Everything is computed on int bitsets; renderers only format the result.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import attrs

from evckit.features import FeatureSet
from evckit.guests import GuestFloor, GuestFloors
from evckit.assess import common_modes
from evckit.modes import EvcMode

if TYPE_CHECKING:
    from evckit.analysis import ClusterResult, HostResult, LimitingHost, VMPlan, VMPlans, VMResult
    from evckit.catalog import Catalog
    from evckit.inventory import Inventory

__all__ = ["ACTIONS", "ExcludedHost", "GuestFloorBreak", "HostCost", "Recommendation", "VMAction", "recommend"]

#: What a recommendation asks for: the four EVC changes, or ``none`` when no mode fits (``reason`` says why).
ACTIONS = ("enable", "raise", "keep", "lower", "none")


@attrs.frozen
class ExcludedHost:
    """A host that cannot join the recommended mode: ``kind`` is ``vendor`` or ``no_mode``."""

    host: str
    kind: str
    reason: str


@attrs.frozen
class VMAction:
    """A running VM the plan must act on, with the features concerned (beyond the mode, or not used yet)."""

    vm: str
    features: FeatureSet
    reason: str


@attrs.frozen
class GuestFloorBreak:
    """A VM whose guest OS needs features the mode hides: it would not boot at that mode."""

    vm: str
    guest: GuestFloor
    running: bool
    missing: FeatureSet

    @property
    def message(self) -> str:
        """What happens to it, in words."""
        when = "after its next power cycle" if self.running else "in this cluster"
        return (f"{self.vm} ({self.guest.label}) would not boot {when}: the mode hides "
                f"{', '.join(self.missing.names())}")


@attrs.frozen
class HostCost:
    """What the mode costs one host: the CPU features it has that VMs will no longer see."""

    host: str
    hidden: FeatureSet
    assumed: bool


@attrs.frozen
class Recommendation:
    """The EVC mode a cluster should run, and the plan and cost of running it.

    Attributes:
        action: ``enable``, ``raise``, ``keep``, ``lower`` or ``none`` (no mode fits; see ``reason``).
        mode: the recommended mode (None with ``none``).
        current: the cluster's EVC mode today (None: EVC disabled).
        reason: one sentence: why this mode.
        excluded_hosts: hosts that must leave the cluster for the mode to apply (vendor, no EVC mode).
        held_back_by: hosts that keep the cluster from the next mode up, and what they lack or need.
        evacuate: running VMs to power off or move out before EVC is enabled or lowered.
        power_cycle: running VMs that need a power cycle to use the (higher) mode.
        guest_floors: VMs whose guest OS needs features the mode hides.
        cost: per host, the features the mode hides.
        undetermined: higher modes the hosts might share if unknown CPU data were known -> those features.
    """

    action: str
    mode: EvcMode | None
    current: EvcMode | None
    reason: str
    excluded_hosts: tuple[ExcludedHost, ...] = ()
    held_back_by: tuple[LimitingHost, ...] = ()
    evacuate: tuple[VMAction, ...] = ()
    power_cycle: tuple[VMAction, ...] = ()
    guest_floors: tuple[GuestFloorBreak, ...] = ()
    cost: tuple[HostCost, ...] = ()
    undetermined: Mapping[str, FeatureSet] = attrs.field(factory=dict)

    @property
    def summary(self) -> str:
        """``enable intel-broadwell``, ``keep intel-cascadelake``, ``none``: the answer in two words."""
        return f"{self.action} {self.mode.key}" if self.mode is not None else self.action


class _Recommender:
    def __init__(self, inventory: Inventory, plans: VMPlans) -> None:
        self.inv = inventory
        self.catalog: Catalog = inventory.catalog
        self.reg = self.catalog.features
        self.floors = GuestFloors.for_catalog(self.catalog)
        # Which running VMs a mode change acts on is the analysis' decision; this module words it.
        self.plans = plans
        self.visible = plans.visible
        # Requirements repeat across an estate: each distinct (mask, mode, …) is worded once (its
        # features and the sentence).
        self._evac: dict[tuple[int, str, str, bool], tuple[FeatureSet, str]] = {}
        self._cycle: dict[tuple[int, str], tuple[FeatureSet, str]] = {}
        self.feature_set = plans.feature_set  # one FeatureSet per mask, shared with the analysis

    def floor(self, v: VMResult) -> GuestFloor | None:
        return self.floors.lookup(v.vm.guest_id, v.vm.guest_os)

    def cluster(self, c: ClusterResult, vms: Sequence[VMResult]) -> Recommendation:
        current = c.evc_mode
        if not c.hosts:
            return Recommendation("none", None, current, c.reason or "the cluster has no hosts")
        modes = self.inv.modes_for(c.cluster.vcenter)
        running = self.plans.running.get(c.key, [])
        # Hosts that can never share a mode with the others: another vendor, or no EVC mode at all.
        by_vendor: dict[str, list[HostResult]] = {}
        excluded: list[ExcludedHost] = []
        for hr in c.hosts:
            vendor = hr.host.cpu.vendor
            if vendor is None or not modes.for_vendor(vendor):
                excluded.append(ExcludedHost(hr.host.name, "no_mode",
                                             f"CPU vendor {vendor or 'unknown'} has no EVC modes"))
            else:
                by_vendor.setdefault(vendor, []).append(hr)
        if not by_vendor:
            return Recommendation("none", None, current, "no host has a CPU vendor with EVC modes", tuple(excluded))
        vendor = self._vendor(by_vendor, running, current)
        for other, hrs in by_vendor.items():
            if other != vendor:
                excluded += [ExcludedHost(hr.host.name, "vendor",
                                          f"{other} CPU in a cluster of {vendor} hosts: EVC never mixes vendors")
                             for hr in hrs]
        members = []
        for hr in by_vendor[vendor]:
            if hr.verdict.max_mode is None and not hr.verdict.undetermined:
                excluded.append(ExcludedHost(hr.host.name, "no_mode",
                                             f"supports no EVC mode: {hr.verdict.reason or 'lacks the lowest mode'}"))
            else:
                members.append(hr)
        if not members:
            return Recommendation("none", None, current, "no host of the cluster supports an EVC mode", tuple(excluded))
        if excluded:  # the hosts that stay share other modes than the whole cluster
            releases = [hr.host.esxi.key for hr in members if hr.host.esxi is not None]  # update release (build)
            common = common_modes([hr.host.cpu for hr in members], modes, releases)
            supported, common_reason = common.supported, common.reason
            undetermined = {k: self.reg.feature_set(m) for k, m in common.undetermined.items()}
        else:  # every host stays: the analysis has decided the cluster's common modes already
            supported, common_reason, undetermined = c.supported_modes, c.reason, dict(c.undetermined)
        if not supported:
            why = "the CPU data leaves the lowest mode undetermined" if undetermined else (common_reason or "no common mode")
            return Recommendation("none", None, current, why, tuple(excluded), undetermined=undetermined)
        # Every host stays: the analysis has the maximal modes of the same supported modes already.
        top = modes.maximal(list(supported)) if excluded else list(c.max_evc_modes)
        target = top[0]
        if current is not None and current in supported:
            # Never trade the current mode for an incomparable one (AMD tracks): stay on its line.
            above = [m for m in top if current.features.mask & ~m.features.mask == 0]
            target = above[0] if above else current
        if current is None:
            action = "enable"
        elif target.key == current.key:
            action = "keep"
        elif current.features.mask & ~target.features.mask == 0:
            action = "raise"
        else:
            action = "lower"
        held = self._held_back(members, modes.next_modes(list(supported), vendor)) if excluded else c.limiting_hosts
        # Enabling or lowering EVC moves out the VMs above the mode first; enabling and raising it leave
        # the others to a power cycle (an evacuated VM comes back at the mode: no cycle of its own).
        plan = self.plans.plan(c.key, target, action in ("enable", "lower")) if action != "keep" else None
        evacuate = self._evacuate(action, plan) if plan is not None and action in ("enable", "lower") else ()
        cycle = self._power_cycle(plan) if plan is not None and action in ("enable", "raise") else ()
        breaks = self._floors(target, vms)
        cost = tuple(HostCost(hr.host.name, self.feature_set(self._hidden(hr, target)), hr.host.cpu.assumed)
                     for hr in members)
        reason = self._reason(action, target, current, excluded, held)
        return Recommendation(action, target, current, reason, tuple(excluded), held, evacuate, cycle, breaks,
                              cost, undetermined)

    @staticmethod
    def _vendor(by_vendor: Mapping[str, list[HostResult]], running: Sequence[VMResult], current: EvcMode | None) -> str:
        """The vendor the cluster should keep: the current mode's, else most hosts, then most running VMs."""
        if current is not None and current.vendor in by_vendor:
            return current.vendor
        if len(by_vendor) == 1:
            return next(iter(by_vendor))
        vms = {v: sum(1 for x in running if x.vendor == v) for v in by_vendor}
        return max(sorted(by_vendor), key=lambda v: (len(by_vendor[v]), vms[v]))

    def _held_back(self, members: Sequence[HostResult], nxt: Sequence[EvcMode]) -> tuple[LimitingHost, ...]:
        from evckit.analysis import limiting_hosts  # noqa: PLC0415 - analysis imports this module lazily

        return tuple(limiting_hosts(members, nxt, self.reg))

    def _evacuate(self, action: str, plan: VMPlan) -> tuple[VMAction, ...]:
        """Running VMs using features above the mode: power them off or move them out first."""
        mode = plan.mode
        verb = "enabling" if action == "enable" else "lowering"
        out = []
        for v, beyond in plan.evacuate:
            assumed = v.requirement_source == "assumed"
            key = (beyond, mode.key, verb, assumed)
            said = self._evac.get(key)
            if said is None:
                where = "its host's" if assumed else "its"
                said = self._evac[key] = (self.feature_set(beyond), (
                    f"uses {where} {_few(self.reg.names(beyond))} above {mode.key}: power it "
                    f"off or move it out before {verb} EVC (it comes back at {mode.key})"))
            out.append(VMAction(v.vm.name, *said))
        return tuple(out)

    def _power_cycle(self, plan: VMPlan) -> tuple[VMAction, ...]:
        """Running VMs that do not use the whole mode yet: a power cycle exposes the rest."""
        mode = plan.mode
        out = []
        for v, missing in plan.power_cycle:
            key = (missing, mode.key)
            said = self._cycle.get(key)
            if said is None:
                names = self.reg.names(missing)
                said = self._cycle[key] = (self.feature_set(missing), (
                    f"needs a power cycle to use {mode.key} ({len(names)} features it does not use yet: {_few(names)})"))
            out.append(VMAction(v.vm.name, *said))
        return tuple(out)

    def _floors(self, mode: EvcMode, vms: Sequence[VMResult]) -> tuple[GuestFloorBreak, ...]:
        out = []
        for v in vms:
            if not (v.vm.guest_id or v.vm.guest_os):
                continue
            floor = self.floor(v)
            if floor is None:
                continue
            missing = floor.features.mask & ~mode.features.mask
            if missing:
                out.append(GuestFloorBreak(v.vm.name, floor, v.vm.running, self.reg.feature_set(missing)))
        return tuple(out)

    def _hidden(self, hr: HostResult, mode: EvcMode) -> int:
        return hr.host.cpu.present.mask & self.visible & ~self.plans.any_mask & ~mode.features.mask

    @staticmethod
    def _reason(action: str, mode: EvcMode, current: EvcMode | None, excluded: Sequence[ExcludedHost],
                held: Sequence[LimitingHost]) -> str:
        if action == "keep":
            why = f"{mode.key} is already the highest mode every host supports"
        elif action == "raise":
            why = f"every host supports {mode.key}, above the current {current.key if current else '-'}"
        elif action == "lower":
            why = f"not every host runs the current {current.key if current else '-'}; {mode.key} is the highest they share"
        else:
            why = f"{mode.key} is the highest mode every host supports"
        if excluded:
            why += f", once {_few([x.host for x in excluded], 3)} {_verb(len(excluded), 'leaves', 'leave')} the cluster"
        if held:
            nxt = sorted({x.mode for x in held})
            hosts = sorted({x.host for x in held})
            why += f"; {_few(hosts, 3)} {_verb(len(hosts), 'keeps', 'keep')} it from {', '.join(nxt)}"
        return why


def _verb(n: int, one: str, many: str) -> str:
    return one if n == 1 else many


def _few(names: Sequence[str], limit: int = 4) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def recommend(inventory: Inventory, clusters: Sequence[ClusterResult], vms: Sequence[VMResult],
              plans: VMPlans | None = None) -> dict[tuple[str, str], Recommendation]:
    """A recommendation for each cluster, keyed by (vCenter, cluster name).

    ``plans``, the analysis' decision of which running VMs a mode change acts on (`evckit.analysis.VMPlans`
    over ``vms``), is made from ``vms`` when not given.
    """
    from evckit.analysis import VMPlans  # noqa: PLC0415 - analysis imports this module lazily

    if plans is None:
        plans = VMPlans(inventory.catalog, vms)
    r = _Recommender(inventory, plans)
    # Guest-OS floors concern only the VMs whose guest OS has a known floor.
    floored: dict[tuple[str, str | None], list[VMResult]] = {}
    for v in vms:
        if (v.vm.guest_id or v.vm.guest_os) and r.floor(v) is not None:
            floored.setdefault((v.vm.vcenter, v.vm.cluster), []).append(v)
    return {(c.cluster.vcenter, c.cluster.name): r.cluster(c, floored.get((c.cluster.vcenter, c.cluster.name), []))
            for c in clusters}
