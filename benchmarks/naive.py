"""The straightforward baseline: every VM against every host of every cluster, with frozensets of
feature names, as libraries such as archspec compare CPU targets. Same rules as evckit, no grouping."""

from __future__ import annotations

from evckit.catalog import Catalog
from evckit.inventory import Inventory


def analyze_naive(inv: Inventory, vm_limit: int | None = None) -> dict[str, dict[str, str]]:
    """VM name -> cluster name -> ``live``/``partial``/``blocked`` (running) or ``cold``/``blocked``.

    ``vm_limit`` analyses only the first VMs; the cost per VM is the same for every VM, so a sample
    times the whole linearly.
    """
    catalog: Catalog = inv.catalog
    names = catalog.features.names
    any_names = frozenset(names(catalog.features.any_mask))
    mitigations = frozenset(catalog.mitigations)
    hosts_by_cluster: dict[tuple[str, str], list] = {}
    for h in inv.hosts:
        if h.cluster is not None:
            hosts_by_cluster.setdefault((h.vcenter, h.cluster), []).append(h)
    guarantee = {}
    max_hw = {}
    for h in inv.hosts:
        mode = None
        for c in inv.clusters:
            if c.vcenter == h.vcenter and c.name == h.cluster and c.evc_mode:
                mode = inv.mode(c.vcenter, c.evc_mode)
        present = frozenset(h.cpu.present)
        guarantee[h.name] = (frozenset(mode.features) | (present & mitigations)) if mode else present
        max_hw[h.name] = catalog.hardware.release(h.esxi_version).max_hw_version if h.esxi_version else 99
    exposed_by_hw: dict[int, frozenset[str]] = {}

    def exposed(hw: int) -> frozenset[str]:
        if hw not in exposed_by_hw:
            exposed_by_hw[hw] = frozenset(f.name for f in catalog.features if f.hw_version is None or f.hw_version <= hw)
        return exposed_by_hw[hw]

    def required(vm: object) -> frozenset[str]:
        req = frozenset(vm.requirement.features) - any_names  # type: ignore[attr-defined]
        if vm.requirement.source in ("perVmEvc", "minRequiredEVCModeKey"):  # type: ignore[attr-defined]
            req &= exposed(vm.hardware_version)  # type: ignore[attr-defined]  # what a VM of this hardware sees
        return req

    # The witness rule: a running VM proves its own host has what it needs (and, under EVC, that its
    # cluster's baseline has the non-microcode part), runs its hardware version and is of its vendor.
    clustered = {h.name: h for h in inv.hosts if h.cluster is not None}
    evc = {(c.vcenter, c.name) for c in inv.clusters if c.evc_mode}
    doubt: set[str] = set()
    baseline_proof: dict[tuple[str, str], frozenset[str]] = {}
    for vm in inv.vms:
        h = clustered.get(vm.host or "")
        if not vm.running or h is None:
            continue
        req = required(vm)
        guarantee[h.name] |= req
        max_hw[h.name] = max(max_hw[h.name], vm.hardware_version)
        if vm.requirement.vendor not in (None, h.cpu.vendor):
            doubt.add(h.name)
        key = (h.vcenter, str(h.cluster))
        if key in evc:  # EVC: one baseline on every host; microcode bits exposed only once all hosts have them
            baseline_proof[key] = baseline_proof.get(key, frozenset()) | req
    for key, proof in baseline_proof.items():
        for other in hosts_by_cluster[key]:
            guarantee[other.name] |= (proof - mitigations) | (proof & frozenset(other.cpu.unknown))

    out: dict[str, dict[str, str]] = {}
    for vm in inv.vms[:vm_limit]:
        req = required(vm)
        vendor = vm.requirement.vendor
        row = {}
        for c in inv.clusters:
            ok = 0
            hosts = [h for h in hosts_by_cluster.get((c.vcenter, c.name), []) if h.available]
            for h in hosts:
                if vm.hardware_version > max_hw[h.name]:
                    continue
                wrong_vendor = vendor not in (None, h.cpu.vendor) and h.name not in doubt
                if vm.running and (wrong_vendor or not req <= guarantee[h.name]):
                    continue
                ok += 1
            if not vm.running:
                row[c.name] = "cold" if ok else "blocked"
            else:
                row[c.name] = "live" if hosts and ok == len(hosts) else "partial" if ok else "blocked"
        out[vm.name] = row
    return out
