"""Write RVTools-shaped exports (``.xlsx`` with openpyxl, or a folder of CSV tabs) from snapshot dicts.

The tests and the benchmark build their own exports with this, from the project's example estate
and from generated estates, so no third-party export is ever copied into the project. The header
names are those of RVTools 4.x exports of vCenter 8.0 (vInfo and vHost as in the public kubev2v
migration-planner example export, plus ``ESX Version``, ``VI SDK Server`` and ``VI SDK UUID`` which
that anonymised file lacks; see ../shared/rvtools-samples/README.md). Columns evckit does not read
get filler values, so that the files are as wide as real ones.

`exportable` states what an export can carry: the snapshot an import of the export must equal.
"""

from __future__ import annotations

import copy
import csv
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import openpyxl  # type: ignore[import-untyped,unused-ignore]

#: vInfo headers of an RVTools 4.x export, in RVTools' order (VI SDK Server/UUID appended).
VINFO_HEADERS = (
    "VM", "Powerstate", "Template", "SRM Placeholder", "Config status", "Connection state", "Guest state",
    "Heartbeat", "Consolidation Needed", "PowerOn", "Suspended To Memory", "Suspend time", "Suspend Interval",
    "Creation date", "Change Version", "CPUs", "Overall Cpu Readiness", "Memory", "Active Memory", "NICs", "Disks",
    "Total disk capacity MiB", "Fixed Passthru HotPlug", "min Required EVC Mode Key", "Latency Sensitivity",
    "Op Notification Timeout", "EnableUUID", "CBT", "Primary IP Address", "Network #1", "Network #2", "Network #3",
    "Network #4", "Network #5", "Network #6", "Network #7", "Network #8", "Num Monitors", "Video Ram KiB",
    "Resource pool", "Folder ID", "Folder", "vApp", "DAS protection", "FT State", "FT Role", "FT Latency",
    "FT Bandwidth", "FT Sec. Latency", "Vm Failover In Progress", "Provisioned MiB", "In Use MiB", "Unshared MiB",
    "HA Restart Priority", "HA Isolation Response", "HA VM Monitoring", "Cluster rule(s)", "Cluster rule name(s)",
    "Boot Required", "Boot delay", "Boot retry delay", "Boot retry enabled", "Boot BIOS setup", "Reboot PowerOff",
    "EFI Secure boot", "Firmware", "HW version", "HW upgrade status", "Datacenter", "Cluster", "Host",
    "OS according to the configuration file", "OS according to the VMware Tools", "Customization Info",
    "Guest Detailed Data", "VM ID", "VM UUID", "VI SDK Server type", "VI SDK API Version", "VI SDK Server",
    "VI SDK UUID",
)

#: vHost headers of an RVTools 4.x export (ESX Version, VI SDK Server/UUID added).
VHOST_HEADERS = (
    "Host", "Datacenter", "Cluster", "Config status", "Compliance Check State", "in Maintenance Mode",
    "in Quarantine Mode", "vSAN Fault Domain Name", "CPU Model", "Speed", "HT Available", "HT Active", "# CPU",
    "Cores per CPU", "# Cores", "CPU usage %", "# Memory", "Memory Tiering Type", "Memory usage %", "Console",
    "# NICs", "# HBAs", "# VMs total", "# VMs", "VMs per Core", "# vCPUs", "vCPUs per Core", "vRAM",
    "VM Used memory", "VM Memory Swapped", "VM Memory Ballooned", "VMotion support", "Storage VMotion support",
    "Current EVC", "Max EVC", "ATS Heartbeat", "ATS Locking", "Current CPU power man. policy",
    "Supported CPU power man.", "Host Power Policy", "Boot time", "DNS Servers", "DHCP", "NTPD running",
    "Time Zone", "Time Zone Name", "GMT Offset", "Vendor", "Model", "ESX Version", "VI SDK Server", "VI SDK UUID",
)

#: Guest OS full names (vSphere's ``config.guestFullName`` spellings) given to VMs in turn.
GUESTS = ("Microsoft Windows Server 2019 (64-bit)", "Red Hat Enterprise Linux 8 (64-bit)",
          "Ubuntu Linux (64-bit)", "Microsoft Windows Server 2022 (64-bit)")

#: A build number per ESXi version, for ``ESX Version`` cells (``VMware ESXi 8.0.3 build-NNN``).
BUILDS = {"6.7.0": "8169922", "7.0.2": "17630552", "7.0.3": "18644231", "8.0.1": "21495797",
          "8.0.2": "22380479", "8.0.3": "24022510", "9.0.0": "24755229"}


def _filler(header: str, i: int) -> object:
    """A plausible value for a column evckit does not read (numbers for counts, text otherwise)."""
    if header.startswith("#") or header.endswith(("MiB", "KiB", "%")) or header in ("CPUs", "Memory", "NICs", "Disks"):
        return (i * 7919) % 4096
    return f"{header[:6]}-{i % 97}"


def vc_uuid(name: str) -> str:
    """A stable instance UUID for a vCenter name."""
    return str(uuid.uuid5(uuid.NAMESPACE_DNS, name))


def export_rows(snapshot: dict[str, Any], hw_style: str = "int", datacenter: str = "dc1",
                ) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """The vHost and vInfo rows (header -> value) that RVTools would write for this estate.

    ``hw_style`` is ``int`` (``21``, RVTools 4.x) or ``vmx`` (``vmx-21``). Hosts of a cluster with
    EVC report its mode as their ``Current EVC``; ``Max EVC`` is the host's ``max_evc_mode`` (the
    snapshot's vCenter key, or ``cpu.max_evc_mode``); ``CPU Model`` its ``cpu.model``.
    """
    hosts: list[dict[str, object]] = []
    vms: list[dict[str, object]] = []
    for vc in snapshot["vcenters"]:
        evc = {c["name"]: c.get("evc_mode") for c in vc.get("clusters", [])}
        cluster_of = {}
        for h in vc.get("hosts", []):
            cpu = h.get("cpu") or {}
            cluster_of[h["name"]] = h.get("cluster")
            version = h.get("esxi_version")
            build = h.get("esxi_build") or BUILDS.get(version or "")
            hosts.append({
                "Host": h["name"], "Datacenter": datacenter, "Cluster": h.get("cluster") or "",
                "in Maintenance Mode": "True" if h.get("maintenance") else "False",
                "CPU Model": cpu.get("model") or "",
                "Current EVC": (evc.get(h.get("cluster")) or "") if h.get("cluster") else "",
                "Max EVC": h.get("max_evc_mode") or cpu.get("max_evc_mode") or "",
                "ESX Version": (f"VMware ESXi {version}" + (f" build-{build}" if build else "")) if version else "",
                "VI SDK Server": vc["name"], "VI SDK UUID": vc_uuid(vc["name"]),
            })
        for i, v in enumerate(vc.get("vms", [])):
            hw = str(v["hardware_version"]).removeprefix("vmx-")
            host = v.get("host")
            cluster = v.get("cluster") or (cluster_of.get(host) if host else None)
            vms.append({
                "VM": v["name"], "Powerstate": v["power_state"], "Template": "True" if v.get("template") else "False",
                "min Required EVC Mode Key": v.get("min_required_evc_mode") or "",
                "HW version": int(hw) if hw_style == "int" else f"vmx-{hw}",
                "Datacenter": datacenter, "Cluster": cluster or "", "Host": host or "",
                "OS according to the configuration file": v.get("guest_os") or GUESTS[i % len(GUESTS)],
                "OS according to the VMware Tools": "",
                "VM ID": f"vm-{1000 + i}", "VM UUID": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{vc['name']}/{v['name']}")),
                "VI SDK Server type": f"VMware vCenter Server {vc.get('version', '8.0.3')} build-24022515",
                "VI SDK API Version": vc.get("version", "8.0.3"),
                "VI SDK Server": vc["name"], "VI SDK UUID": vc_uuid(vc["name"]),
            })
    return hosts, vms


def _table(headers: Sequence[str], rows: Iterable[dict[str, object]], drop: Iterable[str] = (),
           rename: dict[str, str] | None = None, reverse: bool = False) -> Iterator[list[object]]:
    gone = set(drop)
    cols = [h for h in headers if h not in gone]
    if reverse:
        cols.reverse()
    rename = rename or {}
    yield [rename.get(h, h) for h in cols]
    for i, r in enumerate(rows):
        yield [r[h] if h in r else _filler(h, i) for h in cols]


def write_xlsx(snapshot: dict[str, Any], path: Path, *,  # noqa: PLR0913 - keyword options of one writer
               hw_style: str = "int", drop: Iterable[str] = (),
               rename: dict[str, str] | None = None, sheets: Sequence[str] = ("vInfo", "vHost"),
               trailing_rows: Iterable[Sequence[object]] = (), reverse: bool = False) -> Path:
    """Write an RVTools-shaped workbook (openpyxl, write-only); ``drop`` leaves columns out.

    ``rename`` respells headers, ``reverse`` writes the columns in reverse order, ``trailing_rows``
    are appended to vInfo after one empty row (the reader must stop before them).
    """
    hosts, vms = export_rows(snapshot, hw_style)
    wb = openpyxl.Workbook(write_only=True)
    tabs = {"vInfo": (VINFO_HEADERS, vms), "vHost": (VHOST_HEADERS, hosts)}
    for name in sheets:
        ws = wb.create_sheet(name)
        if name not in tabs:
            ws.append(["Name", "Value"])
            continue
        for row in _table(*tabs[name], drop=drop, rename=rename, reverse=reverse):
            ws.append(row)
        if name == "vInfo" and trailing_rows:
            ws.append([])
            for extra in trailing_rows:
                ws.append(extra)
    wb.save(path)
    return path


def write_csv(snapshot: dict[str, Any], folder: Path, *,  # noqa: PLR0913 - keyword options of one writer
               hw_style: str = "int", drop: Iterable[str] = (),
              encoding: str = "utf-8-sig", delimiter: str = ",", prefix: str = "RVTools_tab",
              tabs: Sequence[str] = ("vInfo", "vHost")) -> Path:
    """Write an RVTools CSV export: one ``RVTools_tabvInfo.csv`` … file per tab, BOM and comma by default."""
    folder.mkdir(parents=True, exist_ok=True)
    hosts, vms = export_rows(snapshot, hw_style)
    data = {"vInfo": (VINFO_HEADERS, vms), "vHost": (VHOST_HEADERS, hosts)}
    for name in tabs:
        with open(folder / f"{prefix}{name}.csv", "w", encoding=encoding, newline="") as f:
            w = csv.writer(f, delimiter=delimiter)
            for row in _table(*data[name], drop=drop):
                w.writerow(["" if v is None else v for v in row])
    return folder


def exportable(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The snapshot as an RVTools export carries it: what an import of `export_rows` must equal.

    An export has no CPUID data (a host is its ``Max EVC`` or its model name), no per-VM EVC, no VM
    ``featureRequirement`` (only ``min Required EVC Mode Key``), no host connection state, and a
    cluster's EVC mode only through its hosts' ``Current EVC`` (a cluster without hosts has none).
    """
    snap = copy.deepcopy(snapshot)
    for vc in snap["vcenters"]:
        with_hosts = {h.get("cluster") for h in vc.get("hosts", [])}
        for c in vc.get("clusters", []):
            if c["name"] not in with_hosts:
                c["evc_mode"] = None
        for h in vc.get("hosts", []):
            cpu = h.get("cpu") or {}
            h.pop("connection_state", None)
            if h.get("esxi_version") and not h.get("esxi_build") and h["esxi_version"] in BUILDS:
                h["esxi_build"] = BUILDS[h["esxi_version"]]  # export_rows writes it with the version
            if cpu.get("max_evc_mode"):
                h["max_evc_mode"] = cpu["max_evc_mode"]
            h["cpu"] = {"model": cpu["model"]} if cpu.get("model") else {}
        for v in vc.get("vms", []):
            v.pop("per_vm_evc", None)
            v.pop("feature_requirement", None)
    return snap


def write_tabs(path: Path, tabs: Mapping[str, Sequence[Sequence[object]]]) -> Path:
    """Write a workbook of literal rows (header first) per sheet, for hand-made corner cases."""
    wb = openpyxl.Workbook(write_only=True)
    for name, rows in tabs.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)
    return path
