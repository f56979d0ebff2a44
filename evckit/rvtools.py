"""RVTools exports as an inventory source: an ``.xlsx`` workbook, or a folder of the CSV export's tabs.

The reader builds the same snapshot document (a dict) that `evckit.inventory.parse_snapshot` reads,
so ``evckit convert`` writes exactly what ``evckit check`` analyses, and everything downstream
(analysis, what-if) is shared with collected estates.

What is read (headers matched by name, case and spacing ignored, never by position):

- vHost: ``Host``, ``Datacenter``, ``Cluster``, ``in Maintenance Mode``, ``CPU Model``, ``Current EVC``,
  ``Max EVC`` (vCenter's own ``summary.maxEVCModeKey``: the host's capability), ``ESX Version``
  (``VMware ESXi 8.0.3 build-24022510``), ``VI SDK Server``, ``VI SDK UUID``;
- vInfo: ``VM``, ``Powerstate``, ``Template``, ``HW version`` (``21`` or ``vmx-21``),
  ``min Required EVC Mode Key``, ``Datacenter``, ``Cluster``, ``Host``, ``OS according to the
  configuration file``, ``OS according to the VMware Tools``, ``VM ID``, ``VM UUID``, ``VI SDK Server``,
  ``VI SDK UUID``, ``VI SDK Server type``.

A cluster's EVC mode is the common ``Current EVC`` of its hosts (vCluster has no EVC column). A
missing optional column is a note naming what is then assumed; a missing vHost or vInfo tab, or a
missing required column, is a one-line `ExportError`. Reading stops at the first empty row.

``.xlsx`` files are read with python-calamine (chosen by measurement against openpyxl's read-only
mode, see benchmarks/README.md), which the ``rvtools`` extra installs and which is imported only
here; the CSV export needs only the standard library.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import Any

from evckit._problems import ProblemCollector
from evckit.catalog import Catalog
from evckit.errors import EvckitError, InputError
from evckit.hardware import parse_esxi

__all__ = ["INSTALL_HINT", "ExportError", "MissingReaderError", "convert", "detect", "read_export"]

#: What to install to read ``.xlsx`` exports.
INSTALL_HINT = "pip install 'evckit[rvtools]'"

#: The xlsx reading library (the ``rvtools`` extra).
XLSX_LIBRARY = "python-calamine"


class ExportError(InputError):
    """An RVTools export cannot be read: a missing tab or column, a value that is not what RVTools writes."""


class MissingReaderError(ExportError, ImportError):
    """Reading an ``.xlsx`` export needs the optional reading library (``evckit[rvtools]``)."""


# --- columns --------------------------------------------------------------------------------------


def _norm(header: object) -> str:
    """Header spelling without case, spaces or punctuation: ``min Required EVC Mode Key`` -> ``minrequiredevcmodekey``."""
    return re.sub(r"[^a-z0-9]+", "", str(header).lower()) if header is not None else ""


# field -> accepted header spellings. Besides the column titles of RVTools' xlsx and CSV exports,
# some exports carry RVTools' internal column names (``vInfoVMName``…, as listed by the RVToolsMerge
# project's SheetConfiguration.cs, github.com/sbroenne/RVToolsMerge).
_HOST_COLUMNS: dict[str, tuple[str, ...]] = {
    "host": ("Host", "vHostName"),
    "datacenter": ("Datacenter", "vHostDatacenter"),
    "cluster": ("Cluster", "vHostCluster"),
    "maintenance": ("in Maintenance Mode", "Maintenance Mode"),
    "cpu_model": ("CPU Model", "vHostCpuModel"),
    "current_evc": ("Current EVC",),
    "max_evc": ("Max EVC",),
    "esx_version": ("ESX Version",),
    "vc_server": ("VI SDK Server",),
    "vc_uuid": ("VI SDK UUID",),
}
_VM_COLUMNS: dict[str, tuple[str, ...]] = {
    "vm": ("VM", "vInfoVMName"),
    "power": ("Powerstate", "Power state", "vInfoPowerstate"),
    "template": ("Template", "vInfoTemplate"),
    "hw": ("HW version", "Hardware version"),
    "min_evc": ("min Required EVC Mode Key",),
    "datacenter": ("Datacenter", "vInfoDataCenter"),
    "cluster": ("Cluster", "vInfoCluster"),
    "host": ("Host", "vInfoHost"),
    "os_config": ("OS according to the configuration file", "vInfoOS"),
    "os_tools": ("OS according to the VMware Tools", "vInfoOSTools"),
    "vm_id": ("VM ID",),
    "vm_uuid": ("VM UUID", "vInfoUUID"),
    "vc_server": ("VI SDK Server", "vInfoVISDKServer"),
    "vc_uuid": ("VI SDK UUID",),
    "vc_type": ("VI SDK Server type", "vInfoVISDKServerType"),
}
_REQUIRED = {"vHost": ("host",), "vInfo": ("vm", "power", "hw")}
#: What a missing optional column means for the analysis (the note the import adds).
_MISSING_MEANS = {
    ("vHost", "cluster"): "hosts are taken as standalone (no cluster)",
    ("vHost", "maintenance"): "hosts are taken as not in maintenance mode",
    ("vHost", "current_evc"): "clusters' EVC modes are unknown and taken as disabled",
    ("vHost", "max_evc"): "host CPUs are assumed from their CPU Model name",
    ("vHost", "cpu_model"): "host CPUs are known only by Max EVC",
    ("vHost", "esx_version"): "hosts' ESXi releases are unknown: hardware-version limits are not checked",
    ("vInfo", "template"): "no VM is taken as a template",
    ("vInfo", "min_evc"): ("running VMs' CPU requirements are unknown: each is assumed to use what its "
                           "cluster's EVC mode (or its host) offers"),
    ("vInfo", "os_config"): "guest OS names are not recorded",
}
_QUIET = {"datacenter", "os_tools", "vm_id", "vm_uuid", "vc_server", "vc_uuid", "vc_type"}


def _columns(tab: str, header: Sequence[object], spec: Mapping[str, tuple[str, ...]], source: str,
             notes: list[str]) -> dict[str, int]:
    """field -> column index, by header name; raise on a missing required column, note missing optional ones."""
    index: dict[str, int] = {}
    for i, h in enumerate(header):
        index.setdefault(_norm(h), i)
    found: dict[str, int] = {}
    for field, names in spec.items():
        for name in names:
            if _norm(name) in index:
                found[field] = index[_norm(name)]
                break
    missing = [spec[f][0] for f in _REQUIRED[tab] if f not in found]
    if tab == "vHost" and "max_evc" not in found and "cpu_model" not in found:
        missing.append("Max EVC or CPU Model")
    if tab == "vInfo" and "host" not in found and "cluster" not in found:
        missing.append("Host or Cluster")
    if missing:
        raise ExportError(f"{source}: {tab} tab has no {', '.join(repr(m) for m in missing)} column")
    for field in spec:
        if field not in found and field not in _QUIET and (tab, field) in _MISSING_MEANS:
            if tab == "vHost" and field in ("max_evc", "cpu_model") and not ({"max_evc", "cpu_model"} & found.keys()):
                continue
            notes.append(f"{source}: {tab} has no {spec[field][0]!r} column: {_MISSING_MEANS[(tab, field)]}")
    return found


# --- reading tabs ---------------------------------------------------------------------------------

_TABS = ("vInfo", "vHost")
_CSV_TAB = re.compile(r"^(?:.*tab)?(vinfo|vhost)$", re.IGNORECASE)


def detect(path: str | Path) -> str | None:
    """``rvtools-xlsx``, ``rvtools-csv`` or None (not an RVTools export), from the content, not the name.

    A folder is a CSV export when it holds a vInfo or vHost tab file; a file is an xlsx export when it
    is a zip archive (the Office Open XML container); the tabs are checked when it is read.
    """
    p = Path(path)
    if p.is_dir():
        return "rvtools-csv" if any(_CSV_TAB.match(f.stem) for f in p.glob("*.[cC][sS][vV]")) else None
    try:
        with open(p, "rb") as f:
            head = f.read(4)
    except OSError:
        return None
    return "rvtools-xlsx" if head == b"PK\x03\x04" else None


def _rows_until_empty(rows: Iterator[Sequence[object]]) -> Iterator[Sequence[object]]:
    """The rows before the first empty one (openpyxl can report a million rows of a formatted sheet)."""
    for row in rows:
        if not row or (row[0] in _EMPTY and all(v in _EMPTY for v in row)):
            return
        yield row


_EMPTY = ("", None)


class _Workbook:
    """An export's tabs: ``rows(tab)`` yields the header row, then the data rows."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def tabs(self) -> dict[str, str]:  # pragma: no cover - overridden
        raise NotImplementedError

    def rows(self, tab: str) -> Iterator[Sequence[object]]:  # pragma: no cover - overridden
        raise NotImplementedError

    def close(self) -> None:
        """Release the file."""


def _tab_key(name: str) -> str | None:
    m = _CSV_TAB.match(name.strip())
    return {"vinfo": "vInfo", "vhost": "vHost"}[m.group(1).lower()] if m else None


class _XlsxWorkbook(_Workbook):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        try:
            import python_calamine  # noqa: PLC0415 - the optional reader loads only for .xlsx exports
        except ImportError:
            raise MissingReaderError(f"{path}: reading an .xlsx export needs {XLSX_LIBRARY}: {INSTALL_HINT}") from None
        self._errors = (python_calamine.CalamineError, OSError, ValueError)
        try:
            self.wb = python_calamine.CalamineWorkbook.from_path(str(path))
        except self._errors as exc:
            raise ExportError(f"{path}: not a readable .xlsx workbook: {_one_line(exc)}") from None

    def tabs(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for name in self.wb.sheet_names:
            key = _tab_key(name)
            if key is not None:
                found.setdefault(key, name)
        return found

    def rows(self, tab: str) -> Iterator[Sequence[object]]:
        try:
            sheet = self.wb.get_sheet_by_name(tab)
        except self._errors as exc:
            raise ExportError(f"{self.path}: cannot read the {tab} tab: {_one_line(exc)}") from None
        # calamine gives "" for an empty cell; the sheet is released once its rows are read.
        return _rows_until_empty(sheet.iter_rows())

    def close(self) -> None:
        self.wb.close()


class _CsvFolder(_Workbook):
    def __init__(self, path: Path, fallback: str | None = None) -> None:
        super().__init__(path)
        self.fallback = fallback

    def tabs(self) -> dict[str, str]:
        found: dict[str, list[Path]] = {}
        for f in sorted(self.path.iterdir()):
            key = _tab_key(f.stem) if f.suffix.lower() == ".csv" and f.is_file() else None
            if key is not None:
                found.setdefault(key, []).append(f)
        for key, files in found.items():
            if len(files) > 1:
                raise ExportError(f"{self.path}: several {key} tabs ({', '.join(f.name for f in files)}): "
                                  "give one export per folder")
        return {k: str(v[0]) for k, v in found.items()}

    def rows(self, tab: str) -> Iterator[Sequence[object]]:
        path = Path(tab)
        encoding = _csv_encoding(path)
        if encoding == "utf-8" and self.fallback:
            encoding = self.fallback
        try:
            with open(path, encoding=encoding, newline="") as f:
                first = f.readline()
                yield from _rows_until_empty(csv.reader(chain((first,), f), delimiter=_delimiter(first)))
        except UnicodeDecodeError:
            if encoding != "utf-8":
                raise ExportError(f"{path}: cannot decode as {encoding}") from None
            # Not UTF-8 and no byte-order mark: RVTools on Windows may write the ANSI code page.
            # The whole export is read again (into a fresh document) with that encoding.
            raise _Restart("cp1252") from None


class _Restart(Exception):
    def __init__(self, encoding: str) -> None:
        self.encoding = encoding


def _csv_encoding(path: Path) -> str:
    """``utf-8-sig`` or ``utf-16`` when the file starts with a byte-order mark, else ``utf-8``."""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError as exc:
        raise ExportError(f"{path}: cannot read: {_one_line(exc)}") from None
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf-8"


def _delimiter(header_line: str) -> str:
    """The delimiter of a CSV export (comma, semicolon or tab), the one its header line uses most."""
    counts = {d: 0 for d in (",", ";", "\t")}
    quoted = False
    for ch in header_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _one_line(exc: object) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


# --- values ---------------------------------------------------------------------------------------


def _text(value: object) -> str | None:
    if value.__class__ is str:
        return value.strip() or None
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    s = str(value).strip()
    return s or None


_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}


def _bool(value: object, where: str) -> bool:
    if isinstance(value, bool):
        return value
    s = (_text(value) or "false").lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise ExportError(f"{where}: {value!r} is not True or False")


_ESX = re.compile(r"(\d+\.\d+(?:\.\d+)?)(?:.*?\bbuild[- ]?(\d+))?", re.IGNORECASE)
_VCSERVER = re.compile(r"(\d+\.\d+(?:\.\d+)?)(?:.*?\bbuild[- ]?(\d+))?", re.IGNORECASE)


def _esx(value: object, where: str) -> tuple[str | None, str | None]:
    """``VMware ESXi 8.0.3 build-24022510`` -> (``8.0.3``, ``24022510``); empty -> (None, None)."""
    s = _text(value)
    if s is None:
        return None, None
    m = _ESX.search(s)
    if not m:
        raise ExportError(f"{where}: {s!r} is not an ESXi version (like VMware ESXi 8.0.3 build-24022510)")
    version = m.group(1) if m.group(1).count(".") == 2 else m.group(1) + ".0"
    try:
        parse_esxi(version, m.group(2))  # the release and update the snapshot will see, checked here
    except InputError as exc:
        raise ExportError(f"{where}: {exc}") from None
    return version, m.group(2)


def _hw(value: object, where: str) -> str | None:
    """``21``, ``21.0`` or ``vmx-21`` -> ``vmx-21``; empty -> None."""
    s = _text(value)
    if s is None:
        return None
    m = re.fullmatch(r"(?:vmx-?)?(\d{1,3})", s, re.IGNORECASE)
    if not m:
        raise ExportError(f"{where}: {s!r} is not a virtual hardware version (like 21 or vmx-21)")
    return f"vmx-{int(m.group(1))}"


_POWER = {"poweredon": "poweredOn", "poweredoff": "poweredOff", "suspended": "suspended"}


# --- building the snapshot ------------------------------------------------------------------------


class _VCenter:
    """One vCenter's objects as they are read, before naming and placement are settled."""

    def __init__(self, server: str | None, uuid: str | None) -> None:
        self.server = server
        self.uuid = uuid
        self.name = server or uuid or ""
        self.version: str | None = None
        self.build: str | None = None
        self.hosts: dict[str, dict[str, Any]] = {}
        self.host_cluster: dict[str, tuple[str | None, str | None]] = {}  # host -> (datacenter, cluster)
        self.current_evc: dict[tuple[str | None, str], list[tuple[str, str | None]]] = {}
        self.vms: list[dict[str, Any]] = []


def read_export(path: str | Path, catalog: Catalog | None = None) -> dict[str, Any]:
    """Read an RVTools export (``.xlsx`` file or CSV folder) into a snapshot document.

    The document is what `evckit.inventory.parse_snapshot` reads (``evckit convert`` writes it); its
    ``notes`` say what the export did not tell and what was assumed instead. Raises `ExportError`
    (one line) on a missing tab or column, or a value RVTools does not write.
    """
    path = Path(path)
    catalog = catalog or Catalog.builtin()
    kind = detect(path)
    if kind is None:
        if not path.exists():
            raise ExportError(f"{path}: no such file or folder")
        raise ExportError(f"{path}: not an RVTools export (neither an .xlsx workbook nor a folder of "
                          "RVTools_tabvInfo.csv / RVTools_tabvHost.csv)")
    source = str(path)
    fallback: str | None = None
    while True:
        book: _Workbook = _XlsxWorkbook(path) if kind == "rvtools-xlsx" else _CsvFolder(path, fallback)
        try:
            tabs = book.tabs()
            absent = [t for t in _TABS if t not in tabs]
            if absent:
                what = "an .xlsx workbook" if kind == "rvtools-xlsx" else "a folder"
                raise ExportError(f"{source}: {what} without {' and '.join(absent)} "
                                  f"tab{'s' if len(absent) > 1 else ''}: not a complete RVTools export")
            return _build(book, tabs, source, path, catalog)
        except _Restart as r:
            fallback = r.encoding
        finally:
            book.close()


def _build(book: _Workbook, tabs: Mapping[str, str], source: str, path: Path, catalog: Catalog) -> dict[str, Any]:
    notes: list[str] = []
    table = catalog.modes
    vcs: dict[tuple[str | None, str | None], _VCenter] = {}
    fallback_name = path.stem if path.is_file() else path.name

    def vcenter(server: object, uuid: object) -> _VCenter:
        key = (_text(server), _text(uuid))
        vc = vcs.get(key)
        if vc is None:
            vc = vcs[key] = _VCenter(*key)
        return vc

    def mode_key(value: object, where: str) -> str | None:
        s = _text(value)
        if s is None:
            return None
        try:
            return table.get(s).key
        except EvckitError as exc:
            raise ExportError(f"{where}: {exc}") from None

    # vHost
    rows = book.rows(tabs["vHost"])
    header = next(rows, None)
    if header is None:
        raise ExportError(f"{source}: the vHost tab is empty")
    col = _columns("vHost", header, _HOST_COLUMNS, source, notes)
    idx = [(f, col[f]) for f in _HOST_COLUMNS if f in col]
    duplicate_hosts: list[str] = []
    for n, row in enumerate(rows, 2):
        r = {f: (row[i] if i < len(row) else None) for f, i in idx}
        name = _text(r.get("host"))
        where = f"{source}: vHost row {n}"
        if name is None:
            raise ExportError(f"{where}: no Host name")
        where += f" ({name})"
        vc = vcenter(r.get("vc_server"), r.get("vc_uuid"))
        if name in vc.hosts:
            duplicate_hosts.append(name)
            continue
        datacenter, cluster = _text(r.get("datacenter")), _text(r.get("cluster"))
        version, build = _esx(r.get("esx_version"), f"{where} ESX Version")
        host: dict[str, Any] = {"name": name, "cluster": cluster}
        if version is not None:
            host["esxi_version"] = version
        if build is not None:
            host["esxi_build"] = build
        if "maintenance" in r:
            host["maintenance"] = _bool(r["maintenance"], f"{where} in Maintenance Mode")
        max_evc = mode_key(r.get("max_evc"), f"{where} Max EVC")
        if max_evc is not None:
            host["max_evc_mode"] = max_evc
        current = mode_key(r.get("current_evc"), f"{where} Current EVC")
        if current is not None:
            host["current_evc_mode"] = current
        model = _text(r.get("cpu_model"))
        host["cpu"] = {"model": model} if model else {}
        if max_evc is None and model is None:
            raise ExportError(f"{where}: neither Max EVC nor CPU Model: nothing tells its CPU")
        vc.hosts[name] = host
        vc.host_cluster[name] = (datacenter, cluster)
        if cluster is not None:
            vc.current_evc.setdefault((datacenter, cluster), []).append((name, current))
    if duplicate_hosts:
        notes.append(f"{source}: vHost lists {_few(duplicate_hosts, 'host')} more than once: the first row is used")

    # vInfo
    rows = book.rows(tabs["vInfo"])
    header = next(rows, None)
    if header is None:
        raise ExportError(f"{source}: the vInfo tab is empty")
    col = _columns("vInfo", header, _VM_COLUMNS, source, notes)
    fields = ("vm", "power", "hw", "host", "datacenter", "cluster", "vm_id", "template", "min_evc", "os_config",
              "os_tools", "vm_uuid", "vc_server", "vc_uuid", "vc_type")
    # One itemgetter picks the columns read; a missing optional column reads as an empty cell.
    width = len(header)
    pick = itemgetter(*(col.get(f, width) for f in fields))
    has_template = "template" in col
    unplaced: list[str] = []
    no_version: list[str] = []
    last_key: tuple[object, object] | None = None
    cur: _VCenter | None = None
    hw_cache: dict[object, str | None] = {}
    mode_cache: dict[object, str | None] = {}
    for n, row in enumerate(rows, 2):
        if len(row) <= width:
            row = [*row, *([None] * (width + 1 - len(row)))]
        (name_v, power_v, hw_v, host_v, dc_v, cluster_v, id_v, template_v, min_v, os_v, tools_v, uuid_v,
         server_v, vcuuid_v, type_v) = pick(row)
        name = _text(name_v)
        if name is None:
            raise ExportError(f"{source}: vInfo row {n}: no VM name")
        if cur is None or (server_v, vcuuid_v) != last_key:
            last_key = (server_v, vcuuid_v)
            cur = vcenter(server_v, vcuuid_v)
        if cur.version is None and type_v:
            m = _VCSERVER.search(str(type_v))
            if m:
                cur.version, cur.build = m.group(1), m.group(2)
        power = _POWER.get((_text(power_v) or "").lower())
        if power is None:
            raise ExportError(f"{source}: vInfo row {n} ({name}): Powerstate {power_v!r} is not poweredOn, "
                              "poweredOff or suspended")
        hw = hw_cache.get(hw_v, "") if isinstance(hw_v, (str, int, float)) else ""
        if hw == "":
            hw = _hw(hw_v, f"{source}: vInfo row {n} ({name}) HW version")
            if isinstance(hw_v, (str, int, float)):
                hw_cache[hw_v] = hw
        if hw is None:
            no_version.append(name)
            continue
        vm: dict[str, Any] = {"name": name, "power_state": power, "hardware_version": hw,
                              "host": _text(host_v), "_dc": _text(dc_v), "_cluster": _text(cluster_v),
                              "_id": _text(id_v)}
        if has_template and _bool(template_v, f"{source}: vInfo row {n} ({name}) Template"):
            vm["template"] = True
        if min_v:
            min_evc = mode_cache.get(min_v, "") if isinstance(min_v, str) else ""
            if min_evc == "":
                min_evc = mode_key(min_v, f"{source}: vInfo row {n} ({name}) min Required EVC Mode Key")
                if isinstance(min_v, str):
                    mode_cache[min_v] = min_evc
            if min_evc is not None:
                vm["min_required_evc_mode"] = min_evc
        guest = _text(os_v) or _text(tools_v)
        if guest is not None:
            vm["guest_os"] = guest
        uuid = _text(uuid_v)
        if uuid is not None:
            vm["uuid"] = uuid
        cur.vms.append(vm)
    if no_version:
        notes.append(f"{source}: {_few(no_version)} without HW version (inaccessible or orphaned?) left out")

    doc_vcs = [_vcenter_doc(vc, source, fallback_name, len(vcs), notes, unplaced) for vc in _named(vcs.values())]
    if unplaced:
        notes.append(f"{source}: {_few(unplaced)} with no host or cluster of vHost left out")
    if not doc_vcs:
        raise ExportError(f"{source}: no hosts and no VMs")
    return {"evckit_snapshot": 1, "description": f"imported from the RVTools export {path.name}",
            "notes": notes, "vcenters": doc_vcs}


def _named(vcs: Sequence[_VCenter] | Any) -> list[_VCenter]:
    """vCenters named by their VI SDK Server; one name used by two UUIDs gets the UUID appended."""
    out = list(vcs)
    count = Counter(vc.server for vc in out)
    for vc in out:
        if vc.server and count[vc.server] > 1 and vc.uuid:
            vc.name = f"{vc.server} ({vc.uuid})"
    return out


def _few(names: Sequence[str], what: str = "VM", n: int = 3) -> str:
    shown = ", ".join(names[:n]) + (f" and {len(names) - n} more" if len(names) > n else "")
    return f"{len(names)} {what}{'s' if len(names) != 1 else ''} ({shown})"


def _vcenter_doc(vc: _VCenter, source: str, fallback: str, n_vcs: int, notes: list[str],
                 unplaced: list[str]) -> dict[str, Any]:
    if not vc.name:
        vc.name = fallback if n_vcs == 1 else f"{fallback}-{len(unplaced)}"
        notes.append(f"{source}: no VI SDK Server column or value: the vCenter is named {vc.name!r}")
    # Cluster names: one name in two datacenters becomes "name (datacenter)".
    dcs: dict[str, set[str | None]] = {}
    for dc, cl in vc.current_evc:
        dcs.setdefault(cl, set()).add(dc)
    for vm in vc.vms:
        if vm["_cluster"] is not None and (vm["host"] is None or vm["host"] not in vc.hosts):
            dcs.setdefault(vm["_cluster"], set()).add(vm["_dc"])

    def cname(dc: str | None, cl: str) -> str:
        return f"{cl} ({dc})" if len(dcs.get(cl, ())) > 1 and dc else cl

    clusters: dict[str, dict[str, Any]] = {}
    for (dc, cl), members in vc.current_evc.items():
        name = cname(dc, cl)
        modes = Counter(m for _, m in members if m)
        evc = modes.most_common(1)[0][0] if modes else None
        odd = [f"{h}: {m or 'none'}" for h, m in members if m != evc]
        if odd:
            shown = ", ".join(odd[:3]) + (f" and {len(odd) - 3} more" if len(odd) > 3 else "")
            notes.append(f"{source}: cluster {name!r} of {vc.name}: hosts disagree on Current EVC ({shown}); "
                         f"taken as {evc or 'disabled'}, the mode of most hosts")
        clusters[name] = {"name": name, "evc_mode": evc}
    hosts = []
    for h in vc.hosts.values():
        host_dc, host_cl = vc.host_cluster[h["name"]]
        h["cluster"] = cname(host_dc, host_cl) if host_cl else None
        hosts.append(h)
    foreign: list[str] = []
    names = Counter(vm["name"] for vm in vc.vms)
    renamed: list[str] = []
    vms = []
    for vm in vc.vms:
        dc, cl, vm_id = vm.pop("_dc"), vm.pop("_cluster"), vm.pop("_id")
        if names[vm["name"]] > 1:
            vm["name"] = f"{vm['name']} ({vm_id or vm.get('uuid') or len(renamed) + 1})"
            renamed.append(vm["name"])
        if vm["host"] is not None and vm["host"] in vc.hosts:
            vms.append(vm)  # the host's cluster is the VM's
            continue
        if vm["host"] is not None:
            foreign.append(vm["host"])
        vm["host"] = None
        if cl is None:
            unplaced.append(vm["name"])
            continue
        name = cname(dc, cl)
        clusters.setdefault(name, {"name": name, "evc_mode": None})
        vm["cluster"] = name
        vms.append(vm)
    for vm in vms:
        if vm["host"] is None:
            del vm["host"]
    if foreign:
        distinct = sorted(set(foreign))
        notes.append(f"{source}: {len(foreign)} VM(s) of {vc.name} run on hosts vHost does not list "
                     f"({', '.join(distinct[:3])}{' …' if len(distinct) > 3 else ''}): placed in their cluster only")
    if renamed:
        notes.append(f"{source}: VM names used more than once in {vc.name} get their VM ID appended "
                     f"({', '.join(renamed[:3])}{' …' if len(renamed) > 3 else ''})")
    doc: dict[str, Any] = {"name": vc.name}
    if vc.version:
        doc["version"] = vc.version
    if vc.build:
        doc["build"] = vc.build
    doc.update(clusters=list(clusters.values()), hosts=hosts, vms=vms)
    return doc


# --- convert --------------------------------------------------------------------------------------


def convert(sources: Sequence[str | Path], output: str | Path, catalog: Catalog | None = None) -> list[str]:
    """Write RVTools exports and snapshots as one snapshot file (``evckit convert``); return its notes.

    Every source is read and the whole estate checked (`parse_snapshot`) before anything is written;
    the file is written to a temporary name and renamed, so a failure leaves no half-written file.
    """
    import json  # noqa: PLC0415

    from evckit.errors import SnapshotError  # noqa: PLC0415
    from evckit.inventory import SNAPSHOT_VERSION, load_snapshot, parse_snapshot  # noqa: PLC0415
    from evckit.vsphere import write_snapshot  # noqa: PLC0415

    catalog = catalog or Catalog.builtin()
    vcenters: list[dict[str, Any]] = []
    notes: list[str] = []
    seen: dict[str, str] = {}
    problems = ProblemCollector()
    for src in map(Path, sources):
        if detect(src) is not None:
            doc = read_export(src, catalog)
        else:
            load_snapshot(src, catalog)  # checks it, with the snapshot's own error messages
            doc = json.loads(src.read_text(encoding="utf-8"))
            _inline_cpuid_files(doc, src.parent)
        notes.extend(doc.get("notes") or ())
        for vc in doc["vcenters"]:
            if vc["name"] in seen:
                problems.add(f"vCenter {vc['name']!r} is in both {seen[vc['name']]} and {src}")
            seen.setdefault(vc["name"], str(src))
            vcenters.append(vc)
    if problems:
        raise SnapshotError(", ".join(map(str, sources)), problems.items)
    names = ", ".join(Path(s).name for s in sources)
    out: dict[str, Any] = {"evckit_snapshot": SNAPSHOT_VERSION, "description": f"converted by evckit from {names}"}
    if notes:
        out["notes"] = notes
    out["vcenters"] = vcenters
    parse_snapshot(out, str(output), catalog)
    write_snapshot(out, output)
    return notes


def _inline_cpuid_files(doc: Any, base: Path) -> None:
    """A snapshot's ``cpuid_file`` dumps, put inline (``cpuid_text``): the output is self-contained
    wherever it is written (a snapshot's ``cpuid_file`` may only point inside its own folder)."""
    for vc in doc.get("vcenters") or ():
        for h in vc.get("hosts") or ():
            cpu = h.get("cpu") if isinstance(h, dict) else None
            if isinstance(cpu, dict) and isinstance(cpu.get("cpuid_file"), str) and "cpuid_text" not in cpu:
                path = Path(cpu.pop("cpuid_file"))
                cpu["cpuid_text"] = (path if path.is_absolute() else base / path).read_text(encoding="utf-8",
                                                                                           errors="replace")
