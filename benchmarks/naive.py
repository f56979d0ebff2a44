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

    out: dict[str, dict[str, str]] = {}
    for vm in inv.vms[:vm_limit]:
        req = frozenset(vm.requirement.features) - any_names
        if vm.requirement.source in ("perVmEvc", "minRequiredEVCModeKey"):
            req &= exposed(vm.hardware_version)  # a mode's features a VM of this hardware can see
        vendor = vm.requirement.vendor
        row = {}
        for c in inv.clusters:
            ok = 0
            hosts = [h for h in hosts_by_cluster.get((c.vcenter, c.name), []) if h.available]
            for h in hosts:
                if vm.hardware_version > max_hw[h.name]:
                    continue
                if vm.running and (vendor not in (None, h.cpu.vendor) or not req <= guarantee[h.name]):
                    continue
                ok += 1
            if not vm.running:
                row[c.name] = "cold" if ok else "blocked"
            else:
                row[c.name] = "live" if hosts and ok == len(hosts) else "partial" if ok else "blocked"
        out[vm.name] = row
    return out
