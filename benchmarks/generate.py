"""Seeded generator of realistic synthetic estates, written as evckit snapshots.

Both vendors, mixed CPU generations, EVC on some clusters, a few dozen distinct VM requirements
(VMs carry what vSphere reports: the minimum EVC mode they need, some a full featureRequirement
list, a few per-VM EVC), powered-off VMs, mixed hardware versions and ESXi releases.

    python benchmarks/generate.py --vms 10000 --hosts 1000 -o estate-10k.json
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any

from evckit.catalog import Catalog

#: (CPU name, vendor, its maximum mode) of the hosts the generator buys.
CPUS = [
    ("Intel(R) Xeon(R) CPU E5-2690 v4 @ 2.60GHz", "intel", "intel-broadwell"),
    ("Intel(R) Xeon(R) Gold 6130 CPU @ 2.10GHz", "intel", "intel-skylake"),
    ("Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz", "intel", "intel-cascadelake"),
    ("Intel(R) Xeon(R) Gold 6348 CPU @ 2.60GHz", "intel", "intel-icelake"),
    ("Intel(R) Xeon(R) Gold 6430", "intel", "intel-sapphirerapids"),
    ("AMD EPYC 7502 32-Core Processor", "amd", "amd-zen2"),
    ("AMD EPYC 7713 64-Core Processor", "amd", "amd-zen3"),
    ("AMD EPYC 9354 32-Core Processor", "amd", "amd-zen4"),
]
ESXI = ["7.0.3", "8.0.1", "8.0.2", "8.0.3"]
HW = [13, 14, 15, 17, 18, 19, 20, 21]


def estate(vms: int, hosts: int, clusters: int | None = None, seed: int = 42) -> dict[str, Any]:
    """A snapshot dict with about ``vms`` VMs and ``hosts`` hosts in ``hosts/10`` clusters."""
    rng = random.Random(seed)
    catalog = Catalog.builtin()
    n_clusters = clusters or max(1, hosts // 10)
    vcenters = []
    per_vc = 2500  # hosts per vCenter, as vCenter's limits allow
    host_i = vm_i = cl_i = 0
    while host_i < hosts:
        vc = {"name": f"vc{len(vcenters) + 1:02d}", "version": "8.0.3", "clusters": [], "hosts": [], "vms": []}
        vc_hosts = min(per_vc, hosts - host_i)
        vc_clusters = max(1, round(n_clusters * vc_hosts / hosts))
        sizes = [vc_hosts // vc_clusters + (1 if k < vc_hosts % vc_clusters else 0) for k in range(vc_clusters)]
        for size in sizes:
            cl_i += 1
            name = f"cl{cl_i:05d}"
            vendor = "amd" if rng.random() < 0.25 else "intel"
            pool = [c for c in CPUS if c[1] == vendor]
            gens = rng.sample(pool, k=min(len(pool), rng.choice([1, 1, 2])))  # some mixed generations
            lowest = min(gens, key=lambda c: catalog.mode(c[2]).tier)
            evc = lowest[2] if rng.random() < 0.5 else None
            vc["clusters"].append({"name": name, "evc_mode": evc})
            members = []
            for _ in range(size):
                host_i += 1
                cpu = rng.choice(gens)
                h = {"name": f"esx{host_i:06d}", "cluster": name, "esxi_version": rng.choice(ESXI),
                     "cpu": {"model": cpu[0]}}
                if rng.random() < 0.01:
                    h["maintenance"] = True
                vc["hosts"].append(h)
                members.append(h)
            for _ in range(round(vms * size / hosts)):
                vm_i += 1
                host = rng.choice(members)
                vm: dict[str, Any] = {"name": f"vm{vm_i:07d}", "host": host["name"],
                                      "power_state": "poweredOff" if rng.random() < 0.15 else "poweredOn",
                                      "hardware_version": f"vmx-{rng.choice(HW)}"}
                mode = evc or lowest[2]
                r = rng.random()
                if r < 0.05 and int(vm["hardware_version"][4:]) >= 14:
                    vm["per_vm_evc"] = rng.choice([c[2] for c in pool if catalog.mode(c[2]).tier <= catalog.mode(mode).tier])
                elif r < 0.10:
                    feats = catalog.mode(mode).features
                    vm["feature_requirement"] = [{"key": catalog.features[n].vsphere_keys[0], "value": "Bool:Min:1"}
                                                 for n in feats]
                else:
                    vm["min_required_evc_mode"] = rng.choice(
                        [c[2] for c in pool if catalog.mode(c[2]).tier <= catalog.mode(mode).tier])
                vc["vms"].append(vm)
        vcenters.append(vc)
    return {"evckit_snapshot": 1, "description": f"synthetic estate seed={seed}", "vcenters": vcenters}


def main() -> None:
    """Write a synthetic estate snapshot."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--vms", type=int, default=10_000)
    p.add_argument("--hosts", type=int, default=1_000)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("-o", "--output", type=Path, required=True)
    a = p.parse_args()
    a.output.write_text(json.dumps(estate(a.vms, a.hosts, seed=a.seed)))


if __name__ == "__main__":
    main()
