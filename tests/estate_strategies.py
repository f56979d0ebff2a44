"""Hypothesis strategies that build small random estates as snapshot dicts (for `parse_snapshot`).

Host CPUs are given either as a mode key (``max_evc_mode``) or as a vSphere ``featureCapability`` list
built around a random mode baseline with a few features dropped and added; some lists leave features
unlisted, which makes them unknown. VM requirements are a minimum EVC mode, a ``featureRequirement``
list, a per-VM EVC mode (hardware version 14 and later) or nothing.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from evckit.catalog import Catalog

CATALOG = Catalog.builtin()
REG = CATALOG.features
VENDORS = ("intel", "amd")
VENDOR_KEY = {"intel": "cpuid.Intel", "amd": "cpuid.AMD"}
ESXI_VERSIONS = ("6.7.0", "7.0.2", "7.0.3", "8.0.2", "8.0.3", "9.0.0")
HW_VERSIONS = (11, 13, 14, 15, 17, 18, 19, 20, 21, 22)
POWER_STATES = ("poweredOn", "poweredOff", "suspended")

#: Mode keys of each vendor, lowest tier first.
MODE_KEYS = {v: tuple(m.key for m in CATALOG.modes.for_vendor(v)) for v in VENDORS}
#: Every non-vendor feature, in catalog order, with its vSphere key.
CPU_FEATURES = tuple(f for f in REG if f.kind != "vendor")
KEY_OF = {f.name: f.vsphere_keys[0] for f in REG}
#: The features worth adding or dropping for a vendor: its modes' baselines and the mitigations.
POOL = {
    v: tuple(sorted(
        {n for m in CATALOG.modes.for_vendor(v) for n in m.features.names()} | set(CATALOG.mitigations.names())
    ))
    for v in VENDORS
}


def _often(draw: st.DrawFn, one_in: int) -> bool:
    """True except about once in ``one_in`` draws."""
    return draw(st.integers(0, one_in - 1)) != 0


@st.composite
def feature_names(draw: st.DrawFn, vendor: str) -> frozenset[str]:
    """A feature set around a random mode baseline of ``vendor``: a few features dropped and added."""
    base = CATALOG.mode(draw(st.sampled_from(MODE_KEYS[vendor])))
    names = set(base.features.names())
    drop = draw(st.lists(st.sampled_from(sorted(names)), max_size=3, unique=True))
    add = draw(st.lists(st.sampled_from(POOL[vendor]), max_size=4, unique=True))
    return frozenset((names - set(drop)) | set(add))


@st.composite
def host_cpus(draw: st.DrawFn, vendor: str) -> dict[str, Any]:
    """A host's ``cpu`` object: a mode key, or a featureCapability list (complete, gappy or sparse)."""
    style = draw(st.sampled_from(("mode", "complete", "gappy", "sparse")))
    if style == "mode":
        return {"max_evc_mode": draw(st.sampled_from(MODE_KEYS[vendor]))}
    present = draw(feature_names(vendor))
    unknown: set[str] = set()
    if style == "gappy":
        unknown = set(draw(st.lists(st.sampled_from(POOL[vendor]), min_size=1, max_size=3, unique=True)))
    entries = [{"key": VENDOR_KEY[vendor], "value": "1"}]
    for f in CPU_FEATURES:
        if f.name in present:
            entries.append({"key": KEY_OF[f.name], "value": "1"})
        elif style != "sparse" and f.name not in unknown:
            entries.append({"key": KEY_OF[f.name], "value": "0"})
    return {"feature_capability": entries}


@st.composite
def vm_requirements(draw: st.DrawFn, vendor: str, hw: int) -> dict[str, Any]:
    """The requirement part of a VM object: min_required_evc_mode, feature_requirement, per_vm_evc or none."""
    kind = draw(st.sampled_from(("min", "features", "per_vm", "none")))
    if kind == "per_vm" and hw < 14:
        kind = "none"
    if kind == "min":
        return {"min_required_evc_mode": draw(st.sampled_from(MODE_KEYS[vendor]))}
    if kind == "per_vm":
        return {"per_vm_evc": draw(st.sampled_from(MODE_KEYS[vendor]))}
    if kind == "features":
        if draw(st.booleans()):
            names = draw(feature_names(vendor))
        else:
            names = frozenset(draw(st.lists(st.sampled_from(POOL[vendor]), max_size=8, unique=True)))
        entries = [{"key": KEY_OF[n], "value": "Bool:Min:1"} for n in sorted(names)]
        if draw(st.booleans()):
            entries.append({"key": VENDOR_KEY[vendor], "value": "Bool:Min:1"})
        if not entries:
            return {}
        return {"feature_requirement": entries}
    return {}


@st.composite
def vcenters(draw: st.DrawFn, index: int, max_clusters: int = 5, max_hosts: int = 4,
             max_vms: int = 6) -> dict[str, Any]:
    """One vCenter with 1..max_clusters clusters, their hosts and VMs (names unique estate-wide)."""
    clusters: list[dict[str, Any]] = []
    hosts: list[dict[str, Any]] = []
    vms: list[dict[str, Any]] = []
    for ci in range(draw(st.integers(1, max_clusters))):
        cname = f"c{index}{ci}"
        vendor = draw(st.sampled_from(VENDORS))
        evc = draw(st.none() | st.sampled_from(MODE_KEYS[vendor]))
        clusters.append({"name": cname, "evc_mode": evc})
        members: list[tuple[str, str]] = []
        for hi in range(draw(st.integers(0, max_hosts))):
            hvendor = vendor if _often(draw, 6) else VENDORS[1 - VENDORS.index(vendor)]
            hname = f"h{index}{ci}{hi}"
            state = draw(st.integers(0, 9))
            hosts.append({
                "name": hname, "cluster": cname, "esxi_version": draw(st.sampled_from(ESXI_VERSIONS)),
                "connection_state": {0: "disconnected", 1: "notResponding"}.get(state, "connected"),
                "maintenance": not _often(draw, 8),
                "cpu": draw(host_cpus(hvendor)),
            })
            members.append((hname, hvendor))
        for vi in range(draw(st.integers(0, max_vms))):
            hw = draw(st.sampled_from(HW_VERSIONS))
            vm: dict[str, Any] = {"name": f"vm{index}{ci}{vi}", "power_state": draw(st.sampled_from(POWER_STATES)),
                                  "hardware_version": f"vmx-{hw}"}
            if members:
                hname, vvendor = draw(st.sampled_from(members))
                vm["host"] = hname
            else:
                vm["cluster"], vvendor = cname, vendor
            if not _often(draw, 10):
                vm["template"] = True
            vm.update(draw(vm_requirements(vvendor, hw)))
            vms.append(vm)
    return {"name": f"vc{index}", "clusters": clusters, "hosts": hosts, "vms": vms}


@st.composite
def estates(draw: st.DrawFn, max_vcenters: int = 2, max_clusters: int = 5, max_hosts: int = 4,
            max_vms: int = 6) -> dict[str, Any]:
    """A snapshot dict of 1..max_vcenters vCenters (parse it with ``parse_snapshot(obj, src, CATALOG)``)."""
    n = draw(st.integers(1, max_vcenters))
    return {"evckit_snapshot": 1,
            "vcenters": [draw(vcenters(i, max_clusters, max_hosts, max_vms)) for i in range(n)]}
