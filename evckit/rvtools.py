"""RVTools exports as an inventory source: an ``.xlsx`` workbook, or a folder of the CSV export's tabs.

`read_export` gives the snapshot document (a dict) that ``evckit convert`` writes, `read_inventory`
the `Inventory` that `evckit.inventory.parse_snapshot` builds of that document, built from the rows
without the document (see benchmarks/README.md for its cost against the reading library's own),
so ``evckit check`` analyses exactly what ``evckit convert`` writes, and everything downstream
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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import chain, repeat
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, cast

from evckit._problems import ProblemCollector
from evckit.catalog import Catalog
from evckit.errors import EvckitError, InputError
from evckit.hardware import parse_esxi

if TYPE_CHECKING:
    from evckit.inventory import VM, Cluster, Host, Inventory, PowerState, Requirement, VCenterBuilder

__all__ = ["INSTALL_HINT", "ExportError", "MissingReaderError", "convert", "detect", "read_export", "read_inventory"]

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


def _empty(row: Sequence[object]) -> bool:
    """Whether a row is empty: the reading stops there (openpyxl can report a million rows of a formatted
    sheet). The callers test ``not row or row[0] in _EMPTY`` first, so that a row with a first cell costs
    nothing more."""
    return all(v in _EMPTY for v in row)


_EMPTY = ("", None)


def _picked(rows: Iterable[Sequence[object]], pick: Callable[[Sequence[object]], tuple[object, ...]],
            pick_short: Callable[[Sequence[object]], tuple[object, ...]]) -> Iterator[tuple[int, tuple[object, ...]]]:
    """Each data row's number (the header is row 1) and its cells picked by `_picker`, up to the first
    empty row (a spreadsheet may report a million rows after the data)."""
    for n, row in enumerate(rows, 2):
        if not row or (row[0] in _EMPTY and _empty(row)):
            return
        try:
            cells = pick(row)
        except IndexError:
            cells = pick_short(row)
        yield n, cells


class _Workbook:
    """An export's tabs: ``rows(tab)`` yields the header row, then the data rows (to the end of the tab:
    the reader stops at the first empty row)."""

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
        rows: Iterator[Sequence[object]] = sheet.iter_rows()
        return rows

    def close(self) -> None:
        self.wb.close()


class _CsvFolder(_Workbook):
    def __init__(self, path: Path, fallback: str | None = None) -> None:
        super().__init__(path)
        self.fallback = fallback
        self.files: list[TextIO] = []
        self.reading: tuple[Path, str] | None = None  # the file being read and its encoding

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
        """The csv module's reader itself (its C loop, no generator around it): a byte sequence the
        encoding cannot decode raises UnicodeDecodeError from the reading, which `decode_failed` answers."""
        path = Path(tab)
        encoding = _csv_encoding(path)
        if encoding == "utf-8" and self.fallback:
            encoding = self.fallback
        self.reading = (path, encoding)
        # A UTF-8 byte-order mark is dropped here, not by the "utf-8-sig" codec, whose decoder adds a
        # Python call to each 8 KiB the file reads (10,000 of them for a 100,000-VM vInfo). The messages
        # still name the encoding as "utf-8-sig".
        bom = encoding == "utf-8-sig"
        try:
            f = open(path, encoding="utf-8" if bom else encoding, newline="")  # closed by close()
        except OSError as exc:
            raise ExportError(f"{path}: cannot read: {_one_line(exc)}") from None
        self.files.append(f)
        first = f.readline()
        if bom:
            first = first[1:]  # the mark, read as U+FEFF
        return csv.reader(chain((first,), f), delimiter=_delimiter(first))

    def decode_failed(self) -> str:
        """The encoding to read the whole export again with, after a UnicodeDecodeError; `ExportError` if none."""
        assert self.reading is not None
        path, encoding = self.reading
        if encoding != "utf-8":
            raise ExportError(f"{path}: cannot decode as {encoding}") from None
        # Not UTF-8 and no byte-order mark: RVTools on Windows may write the ANSI code page.
        # The whole export is read again (into a fresh document) with that encoding.
        return "cp1252"

    def close(self) -> None:
        for f in self.files:
            f.close()
        self.files.clear()


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


_POWER: dict[str, PowerState] = {"poweredon": "poweredOn", "poweredoff": "poweredOff", "suspended": "suspended"}


# --- reading the rows -----------------------------------------------------------------------------

#: A VM on no vHost host, as read: (name, power state, hardware version ``vmx-NN``, host, cluster,
#: template, min Required EVC mode key, guest OS), a `VMRow`. It is placed in its cluster once every
#: row is read (`_settle`); the VMs on vHost hosts are `VM` objects from the start.
_Rec = tuple[str, str, str, "str | None", "str | None", bool, "str | None", "str | None"]


class _VCenter:
    """One vCenter's objects as they are read, then (`_settle`) named and placed."""

    def __init__(self, server: str | None, uuid: str | None) -> None:
        self.server = server
        self.uuid = uuid
        self.name = server or uuid or ""
        self.version: str | None = None
        self.build: str | None = None
        self.hosts: dict[str, dict[str, Any]] = {}  # the snapshot document's host objects
        self.host_cluster: dict[str, tuple[str | None, str] | None] = {}  # host -> (datacenter, cluster) or None
        self.current_evc: dict[tuple[str | None, str], list[tuple[str, str | None]]] = {}
        self.vms: list[VM | _Rec] = []  # in row order: VM objects on vHost hosts, _Rec tuples for the others
        #: Each VM name -> the VM ID cell of its first VM; vm_dups: the index in vms of each VM whose name
        #: was used before -> its VM ID cell (names used twice are told apart by their VM ID). A dict of
        #: names instead of a set of them and a list of every VM ID: 100,000 VMs hold 5 MiB less.
        self.vm_names: dict[str, object] = {}
        self.vm_dups: dict[int, object] = {}
        self.vm_uuids: list[object] | None = []  # each VM's VM UUID cell, beside vms; None: not read
        self.loose: list[tuple[int, object, object]] = []  # (index in vms of a VM not on a vHost host, its Datacenter and Cluster cells)
        self.clusters: dict[str, str | None] = {}  # settled: cluster name -> EVC mode
        self._modes: dict[tuple[str | None, str], tuple[str | None, list[str]]] = {}
        #: Its clusters and hosts as objects, named as they stand once vHost is read (`_frame`).
        self.builder: VCenterBuilder | None = None
        #: Host cell -> (host, its cluster, the requirement of a VM on it that records none).
        self.placed: dict[object, tuple[str, str | None, Requirement]] = {}
        #: (Powerstate, HW version, Template, min Required EVC Mode Key) cells -> what a VM of them is.
        self.kinds: dict[tuple[object, object, object, object], tuple[PowerState, int, bool, str | None, Requirement | None] | None] = {}

    def common_mode(self, key: tuple[str | None, str]) -> tuple[str | None, list[str]]:
        """`_common_mode` of the hosts of a (datacenter, cluster) of vHost, decided once (for `_frame`
        and `_settle`: vInfo adds no host)."""
        decided = self._modes.get(key)
        if decided is None:
            decided = self._modes[key] = _common_mode(self.current_evc[key])
        return decided


class _Export:
    """What an export's vHost and vInfo tabs say, settled: its vCenters and the notes."""

    def __init__(self, source: str, name: str, notes: list[str], vcenters: list[_VCenter], exact: bool) -> None:
        self.source = source
        self.description = f"imported from the RVTools export {name}"
        self.notes = notes
        self.vcenters = vcenters
        #: False when a VM is not what a snapshot may hold (its document's parse then says why).
        self.exact = exact


def read_export(path: str | Path, catalog: Catalog | None = None) -> dict[str, Any]:
    """Read an RVTools export (``.xlsx`` file or CSV folder) into a snapshot document.

    The document is what `evckit.inventory.parse_snapshot` reads (``evckit convert`` writes it); its
    ``notes`` say what the export did not tell and what was assumed instead. Raises `ExportError`
    (one line) on a missing tab or column, or a value RVTools does not write.
    """
    return _document(_read(Path(path), catalog or Catalog.builtin(), uuids=True))


def read_inventory(path: str | Path, catalog: Catalog | None = None) -> Inventory:
    """Read an RVTools export into an `Inventory`: the one `parse_snapshot` builds of `read_export`'s document.

    It is built from the rows, without the document: clusters and hosts once vHost is read, each VM as
    its row is read, all with the snapshot parser's decisions (`evckit.inventory.VCenterBuilder`).
    When anything would be a problem of the document (or a name is settled differently once every
    row is read), the document is built and parsed instead: the same inventory, or the same
    `SnapshotError` with the same places.
    """
    catalog = catalog or Catalog.builtin()
    try:
        export = _read(Path(path), catalog, uuids=False)  # an inventory holds no VM UUID: 100,000 strings less
    except _NeedUuids:
        export = _read(Path(path), catalog, uuids=True)
    return _inventory(export, catalog)


class _NeedUuids(Exception):
    """A VM name used twice is told apart by the VM's UUID (its VM ID is empty), which was not read."""


def _read(path: Path, catalog: Catalog, uuids: bool) -> _Export:
    """An export's vCenters, settled (``uuids``: keep the VMs' VM UUID cells, for the document)."""
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
            return _build(book, tabs, source, path, catalog, uuids)
        except UnicodeDecodeError:
            if not isinstance(book, _CsvFolder):
                raise
            fallback = book.decode_failed()
        finally:
            book.close()


def _build(book: _Workbook, tabs: Mapping[str, str], source: str, path: Path, catalog: Catalog,
           uuids: bool) -> _Export:
    """The vCenters of an export's vHost and vInfo tabs, settled.

    The rows are read once, in order; each column evckit reads is picked by one `itemgetter` per row.
    What a VM's power state, hardware version, template flag and minimum EVC mode make of it is
    decided once per distinct combination of those cells, what its host makes of it once per host, so
    that a VM costs little more than its `VM` object beyond the reading library's own time.
    """

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

    mode_keys: dict[object, str | None] = {}

    def mode_key(value: object, where: str) -> str | None:
        key = mode_keys.get(value, "")  # "" is never a mode key: not seen yet
        if key != "":
            return key
        s = _text(value)
        try:
            key = table.get(s).key if s is not None else None
        except EvckitError as exc:
            raise ExportError(f"{where}: {exc}") from None
        if value.__class__ is str:
            mode_keys[value] = key
        return key

    # vHost
    rows = book.rows(tabs["vHost"])
    header = next(rows, None)
    if header is None or _empty(header):
        raise ExportError(f"{source}: the vHost tab is empty")
    col = _columns("vHost", header, _HOST_COLUMNS, source, notes)
    has_maintenance = "maintenance" in col
    pick, pick_short = _picker(tuple(_HOST_COLUMNS), col)
    duplicate_hosts: list[str] = []
    versions: dict[object, tuple[str | None, str | None]] = {}
    flags: dict[object, bool] = {}
    vc: _VCenter | None = None
    host_server: object = _UNSEEN
    host_vcuuid: object = _UNSEEN
    # As for vInfo below: cells are text in a CSV export (and mostly in an .xlsx), so they are stripped
    # here rather than by a call to `_text` each; a row's place is worded only for a problem.
    for n, cells in _picked(rows, pick, pick_short):
        name_v, dc_v, cluster_v, maint_v, model_v, current_v, max_v, esx_v, server_v, vcuuid_v = cells
        name = (name_v.strip() or None) if name_v.__class__ is str else _text(name_v)
        if name is None:
            raise ExportError(f"{source}: vHost row {n}: no Host name")
        if vc is None or server_v != host_server or vcuuid_v != host_vcuuid:
            host_server, host_vcuuid = server_v, vcuuid_v
            vc = vcenter(server_v, vcuuid_v)
        if name in vc.hosts:
            duplicate_hosts.append(name)
            continue
        datacenter = (dc_v.strip() or None) if dc_v.__class__ is str else _text(dc_v)
        cluster = (cluster_v.strip() or None) if cluster_v.__class__ is str else _text(cluster_v)
        version_build = versions.get(esx_v) if esx_v.__class__ is str else None
        if version_build is None:
            version_build = _esx(esx_v, f"{source}: vHost row {n} ({name}) ESX Version")
            if esx_v.__class__ is str:
                versions[esx_v] = version_build
        version, build = version_build
        host: dict[str, Any] = {"name": name, "cluster": cluster}
        if version is not None:
            host["esxi_version"] = version
        if build is not None:
            host["esxi_build"] = build
        if has_maintenance:
            flag = flags.get(maint_v)
            if flag is None:
                flag = flags[maint_v] = _bool(maint_v, f"{source}: vHost row {n} ({name}) in Maintenance Mode")
            host["maintenance"] = flag
        max_evc = mode_keys.get(max_v, "")
        if max_evc == "":
            max_evc = mode_key(max_v, f"{source}: vHost row {n} ({name}) Max EVC")
        if max_evc is not None:
            host["max_evc_mode"] = max_evc
        current = mode_keys.get(current_v, "")
        if current == "":
            current = mode_key(current_v, f"{source}: vHost row {n} ({name}) Current EVC")
        if current is not None:
            host["current_evc_mode"] = current
        model = (model_v.strip() or None) if model_v.__class__ is str else _text(model_v)
        host["cpu"] = {"model": model} if model else {}
        if max_evc is None and model is None:
            raise ExportError(f"{source}: vHost row {n} ({name}): neither Max EVC nor CPU Model: nothing tells its CPU")
        vc.hosts[name] = host
        if cluster is None:
            vc.host_cluster[name] = None
        else:
            group = (datacenter, cluster)
            members = vc.current_evc.get(group)
            if members is None:
                members = vc.current_evc[group] = []
            members.append((name, current))
            vc.host_cluster[name] = group
    if duplicate_hosts:
        notes.append(f"{source}: vHost lists {_few(duplicate_hosts, 'host')} more than once: the first row is used")
    for vc in _named(vcs.values()):  # named as they stand: vInfo may still add vCenters
        _frame(vc, catalog, fallback_name if len(vcs) == 1 else "")

    # vInfo
    rows = book.rows(tabs["vInfo"])
    header = next(rows, None)
    if header is None or _empty(header):
        raise ExportError(f"{source}: the vInfo tab is empty")
    col = _columns("vInfo", header, _VM_COLUMNS, source, notes)
    pick, pick_short = _picker(("vm", "power", "hw", "host", "datacenter", "cluster", "vm_id", "template", "min_evc",
                    "os_config", "os_tools", "vm_uuid", "vc_server", "vc_uuid", "vc_type"), col)
    has_template = "template" in col
    exact = True
    unplaced: list[str] = []
    no_version: list[str] = []
    cur: _VCenter | None = None
    last_server: object = _UNSEEN
    last_vcuuid: object = _UNSEEN
    cur_hosts: Mapping[str, object] = {}
    cur_vms: list[VM | _Rec] = []
    cur_dups: dict[int, object] = {}
    cur_uuids: list[object] | None = []
    guests: dict[object, str | None] = {}
    cur_names: dict[str, object] = {}
    cur_loose: list[tuple[int, object, object]] = []
    placed: dict[object, tuple[str, str | None, Requirement]] = {}
    kinds: dict[tuple[object, object, object, object], tuple[PowerState, int, bool, str | None, Requirement | None] | None] = {}
    builder: VCenterBuilder | None = None
    vc_name = ""
    new_vm: Any = None
    slots: Any = None
    new = object.__new__
    versionless = True
    powers: dict[object, PowerState] = {}
    hws: dict[object, str | None] = {}

    def kind(power_v: object, hw_v: object, template_v: object, min_v: object, n: int, name: str,
             ) -> tuple[PowerState, int, bool, str | None, Requirement | None] | None:
        """What a VM of these cells is: (power state, hardware version, template, min Required EVC mode
        key and its requirement); None without a hardware version. `ExportError` for a value RVTools
        does not write, in the order of the columns as before."""
        nonlocal exact
        assert builder is not None
        power = powers.get(power_v)
        if power is None:
            power = _POWER.get((_text(power_v) or "").lower())
            if power is None:
                raise ExportError(f"{source}: vInfo row {n} ({name}): Powerstate {power_v!r} is not poweredOn, "
                                  "poweredOff or suspended")
            if power_v.__class__ is str:
                powers[power_v] = power
        hw = hws.get(hw_v, "")
        if hw == "":
            hw = _hw(hw_v, f"{source}: vInfo row {n} ({name}) HW version")
            if isinstance(hw_v, (str, int, float)):
                hws[hw_v] = hw
        if hw is None:
            return None
        number = builder.hardware(hw)
        if number is None:  # vmx-0 or vmx-100: not a version a snapshot holds
            exact, number = False, int(hw[4:])
        template = False
        if has_template:
            flag = flags.get(template_v)
            if flag is None:
                flag = flags[template_v] = _bool(template_v, f"{source}: vInfo row {n} ({name}) Template")
            template = flag
        min_evc = None
        min_req = None
        if min_v:
            min_evc = mode_keys.get(min_v, "")
            if min_evc == "":
                min_evc = mode_key(min_v, f"{source}: vInfo row {n} ({name}) min Required EVC Mode Key")
            if min_evc is not None:
                decided = builder.min_required(min_evc)
                if decided is None:
                    exact = False
                else:
                    min_evc, min_req = decided
        return power, number, template, min_evc, min_req

    # `_picked`'s loop, written out: at 100,000 rows a generator between the reader and this loop costs
    # more than all the tests below. An empty VM name is either the first empty row (the end) or an error.
    for n, row in enumerate(rows, 2):
        try:
            (name_v, power_v, hw_v, host_v, dc_v, cluster_v, id_v, template_v, min_v, os_v, tools_v, uuid_v,
             server_v, vcuuid_v, type_v) = pick(row)
        except IndexError:
            (name_v, power_v, hw_v, host_v, dc_v, cluster_v, id_v, template_v, min_v, os_v, tools_v, uuid_v,
             server_v, vcuuid_v, type_v) = pick_short(row)
        name = name_v.strip() if name_v.__class__ is str else _text(name_v)
        if not name:
            if _empty(row):
                break
            raise ExportError(f"{source}: vInfo row {n}: no VM name")
        if cur is None or server_v != last_server or vcuuid_v != last_vcuuid:
            last_server, last_vcuuid = server_v, vcuuid_v
            cur = vcenter(server_v, vcuuid_v)
            if cur.builder is None:  # a vCenter vHost does not list
                _frame(cur, catalog, fallback_name if len(vcs) == 1 else "")
            if not uuids:
                cur.vm_uuids = None
            cur_hosts, cur_vms, cur_dups, cur_names, cur_loose = cur.hosts, cur.vms, cur.vm_dups, cur.vm_names, cur.loose
            cur_uuids = cur.vm_uuids
            placed, kinds, builder = cur.placed, cur.kinds, cur.builder
            assert builder is not None
            vc_name, new_vm, slots, versionless = builder.name, builder.new_vm, builder.vm_slots, cur.version is None
        if versionless and type_v:
            m = _VCSERVER.search(str(type_v))
            if m:
                cur.version, cur.build = m.group(1), m.group(2)
                versionless = False
        key = (power_v, hw_v, template_v, min_v)
        made = kinds.get(key, _UNSEEN)
        if made is _UNSEEN:
            made = kind(power_v, hw_v, template_v, min_v, n, name)
            kinds[key] = made
        if made is None:
            no_version.append(name)
            continue
        state, hw, template, min_evc, min_req = made
        # The guest OS, one string per distinct name (they are few; the cells are 100,000 strings).
        guest = guests.get(os_v, _UNSEEN)
        if guest is _UNSEEN:
            guest = _text(os_v)
            if os_v.__class__ is str:
                guests[os_v] = guest
        if guest is None:
            guest = guests.get(tools_v, _UNSEEN)
            if guest is _UNSEEN:
                guest = _text(tools_v)
                if tools_v.__class__ is str:
                    guests[tools_v] = guest
        on_host = placed.get(host_v)
        if on_host is None:
            on = (host_v.strip() if host_v.__class__ is str else _text(host_v)) or None
            if on is None or on not in cur_hosts:
                if name in cur_names:
                    cur_dups[len(cur_vms)] = id_v
                else:
                    cur_names[name] = id_v
                cur_loose.append((len(cur_vms), dc_v, cluster_v))
                cur_vms.append((name, state, f"vmx-{hw}", on, None, template, min_evc, guest))
                if cur_uuids is not None:
                    cur_uuids.append(uuid_v)
                continue
            assert builder is not None
            host_obj = builder.hosts.get(on)
            on_host = (on, host_obj.cluster, builder.no_requirement(host_obj.cpu.vendor)) if host_obj else \
                (on, None, builder.no_requirement(None))  # a host the builder refused: the document says why
            if host_v.__class__ is str:
                placed[host_v] = on_host
        on, cluster, none_req = on_host
        if name in cur_names:
            cur_dups[len(cur_vms)] = id_v
        else:
            cur_names[name] = id_v
        if cur_uuids is not None:
            cur_uuids.append(uuid_v)
        if slots is None:
            cur_vms.append(new_vm(name, vc_name, on, cluster, state, hw, min_req or none_req, min_evc, None, template,
                                  None, guest))
            continue
        # What new_vm(...) makes, its fields stored here (the snapshot parser's VM reader does the same).
        vm = new(slots)
        vm.name = name
        vm.vcenter = vc_name
        vm.host = on
        vm.cluster = cluster
        vm.power_state = state
        vm.hardware_version = hw
        vm.requirement = min_req or none_req
        vm.min_required_evc_mode = min_evc
        vm.per_vm_evc = None
        vm.template = template
        vm.guest_id = None
        vm.guest_os = guest
        cur_vms.append(vm)
    if no_version:
        notes.append(f"{source}: {_few(no_version)} without HW version (inaccessible or orphaned?) left out")
    for vc in vcs.values():
        assert vc.builder is not None
        vc.builder.made(vc.vms, mixed=bool(vc.loose))

    settled = _named(vcs.values())
    for vc in settled:
        _settle(vc, source, fallback_name, len(vcs), notes, unplaced)
    if unplaced:
        notes.append(f"{source}: {_few(unplaced)} with no host or cluster of vHost left out")
    if not settled:
        raise ExportError(f"{source}: no hosts and no VMs")
    return _Export(source, path.name, notes, settled, exact)


_UNSEEN: Any = object()


def _picker(fields: Sequence[str], col: Mapping[str, int],
            ) -> tuple[Callable[[Sequence[object]], Any], Callable[[Sequence[object]], Any]]:
    """(``pick``, ``pick_short``): a row's cells of ``fields``, in that order.

    ``pick`` is one `itemgetter` when the tab has every column (it raises IndexError on a row shorter
    than the header, which ``pick_short`` then reads); a field whose column is missing, or a cell
    beyond the end of a short row, reads as None.
    """
    getter = itemgetter(*(col.get(f, 0) for f in fields))
    width = max(col.values()) + 1
    absent = {i for i, f in enumerate(fields) if f not in col}

    def pick_short(row: Sequence[object]) -> tuple[object, ...]:
        cells: tuple[object, ...] = getter(row if len(row) >= width else [*row, *([None] * (width - len(row)))])
        if absent:
            cells = tuple(None if i in absent else v for i, v in enumerate(cells))
        return cells

    return (pick_short if absent else getter), pick_short


def _named(vcs: Sequence[_VCenter] | Any) -> list[_VCenter]:
    """vCenters named by their VI SDK Server; one name used by two UUIDs gets the UUID appended."""
    out = list(vcs)
    count = Counter(vc.server for vc in out)
    for vc in out:
        vc.name = vc.server or vc.uuid or ""
        if vc.server and count[vc.server] > 1 and vc.uuid:
            vc.name = f"{vc.server} ({vc.uuid})"
    return out


def _few(names: Sequence[str], what: str = "VM", n: int = 3) -> str:
    shown = ", ".join(names[:n]) + (f" and {len(names) - n} more" if len(names) > n else "")
    return f"{len(names)} {what}{'s' if len(names) != 1 else ''} ({shown})"


def _cluster_namer(vc: _VCenter, loose: Sequence[tuple[int, str | None, str | None]]) -> Callable[[str | None, str], str]:
    """How the vCenter's clusters are named: one name in two datacenters becomes "name (datacenter)"."""
    dcs: dict[str, set[str | None]] = {}
    for dc, cl in vc.current_evc:
        dcs.setdefault(cl, set()).add(dc)
    for _, vm_dc, vm_cl in loose:
        if vm_cl is not None:
            dcs.setdefault(vm_cl, set()).add(vm_dc)

    def cname(dc: str | None, cl: str) -> str:
        return f"{cl} ({dc})" if len(dcs.get(cl, ())) > 1 and dc else cl

    return cname


def _cluster_names(vc: _VCenter, loose: Sequence[tuple[int, str | None, str | None]],
                   cname: Callable[[str | None, str], str] | None = None) -> dict[tuple[str | None, str], str]:
    """The name of each (datacenter, cluster) of vHost (`_cluster_namer`), worded once per cluster, not per host."""
    cname = cname or _cluster_namer(vc, loose)
    return {key: cname(*key) for key in vc.current_evc}


def _common_mode(members: Sequence[tuple[str, str | None]]) -> tuple[str | None, list[str]]:
    """A cluster's EVC mode, the Current EVC of most of its hosts, and the hosts that disagree (``host: mode``)."""
    modes = Counter(m for _, m in members if m)
    evc = modes.most_common(1)[0][0] if modes else None
    return evc, [f"{h}: {m or 'none'}" for h, m in members if m != evc]


def _frame(vc: _VCenter, catalog: Catalog, fallback: str) -> None:
    """The vCenter's clusters and hosts as objects (``vc.builder``), named as they stand once vHost is
    read (``fallback``: the name of a vCenter without one, if it is the only one), so that each VM
    becomes a `VM` as its row is read; `_inventory` checks that the names held."""
    from evckit.inventory import VCenterBuilder  # noqa: PLC0415

    builder = vc.builder = VCenterBuilder(vc.name or fallback, catalog)
    names = _cluster_names(vc, ())
    for key, members in vc.current_evc.items():
        builder.cluster(names[key], vc.common_mode(key)[0])
    host_cluster = vc.host_cluster
    for h in vc.hosts.values():
        group = host_cluster[h["name"]]
        h["cluster"] = names[group] if group is not None else None
        builder.host(h)


def _settle(vc: _VCenter, source: str, fallback: str, n_vcs: int, notes: list[str], unplaced: list[str]) -> None:
    """Name and place one vCenter's objects: clusters named, names used twice told apart, VMs on hosts
    vHost does not list placed in their cluster (the others are final as read)."""
    if not vc.name:
        vc.name = fallback if n_vcs == 1 else f"{fallback}-{len(unplaced)}"
        notes.append(f"{source}: no VI SDK Server column or value: the vCenter is named {vc.name!r}")
    loose = [(i, _text(dc), _text(cl)) for i, dc, cl in vc.loose]
    cname = _cluster_namer(vc, loose)
    cluster_names = _cluster_names(vc, loose, cname)
    clusters = vc.clusters
    for key in vc.current_evc:
        name = cluster_names[key]
        evc, odd = vc.common_mode(key)
        if odd:
            shown = ", ".join(odd[:3]) + (f" and {len(odd) - 3} more" if len(odd) > 3 else "")
            notes.append(f"{source}: cluster {name!r} of {vc.name}: hosts disagree on Current EVC ({shown}); "
                         f"taken as {evc or 'disabled'}, the mode of most hosts")
        clusters[name] = evc
    host_cluster = vc.host_cluster
    for h in vc.hosts.values():
        group = host_cluster[h["name"]]
        h["cluster"] = cluster_names[group] if group is not None else None
    vms = vc.vms
    renamed: list[str] = []
    if vc.vm_dups:
        import attrs  # noqa: PLC0415

        names = Counter(vm[0] if isinstance(vm, tuple) else vm.name for vm in vms)
        for i, vm in enumerate(vms):
            old = vm[0] if isinstance(vm, tuple) else vm.name
            if names[old] > 1:
                told = _text(vc.vm_dups[i] if i in vc.vm_dups else vc.vm_names[old])
                if told is None:
                    if vc.vm_uuids is None:
                        raise _NeedUuids
                    told = _text(vc.vm_uuids[i])
                name = f"{old} ({told or len(renamed) + 1})"
                vms[i] = (name, *vm[1:]) if isinstance(vm, tuple) else attrs.evolve(vm, name=name)
                renamed.append(name)
    foreign: list[str] = []
    left_out: set[int] = set()
    for i, vm_dc, vm_cl in loose:
        rec = vms[i]
        assert isinstance(rec, tuple)
        name, power, hw, on, _, template, min_evc, guest = rec
        if on is not None:
            foreign.append(on)
        if vm_cl is None:
            unplaced.append(name)
            left_out.add(i)
            continue
        cluster = cname(vm_dc, vm_cl)  # the VM is placed in its cluster only
        clusters.setdefault(cluster, None)
        vms[i] = (name, power, hw, None, cluster, template, min_evc, guest)
    if left_out:
        vc.vms = [vm for i, vm in enumerate(vms) if i not in left_out]
        if vc.vm_uuids is not None:
            vc.vm_uuids = [vm_uuid for i, vm_uuid in enumerate(vc.vm_uuids) if i not in left_out]
    if foreign:
        distinct = sorted(set(foreign))
        notes.append(f"{source}: {len(foreign)} VM(s) of {vc.name} run on hosts vHost does not list "
                     f"({', '.join(distinct[:3])}{' …' if len(distinct) > 3 else ''}): placed in their cluster only")
    if renamed:
        notes.append(f"{source}: VM names used more than once in {vc.name} get their VM ID appended "
                     f"({', '.join(renamed[:3])}{' …' if len(renamed) > 3 else ''})")


# --- the snapshot document and the inventory ------------------------------------------------------


def _document(export: _Export) -> dict[str, Any]:
    """The snapshot document of an export (what ``evckit convert`` writes)."""
    vcenters = []
    for vc in export.vcenters:
        doc: dict[str, Any] = {"name": vc.name}
        if vc.version:
            doc["version"] = vc.version
        if vc.build:
            doc["build"] = vc.build
        doc.update(clusters=[{"name": name, "evc_mode": evc} for name, evc in vc.clusters.items()],
                   hosts=list(vc.hosts.values()),
                   vms=[_vm_doc(vm, vm_uuid) for vm, vm_uuid in zip(vc.vms, vc.vm_uuids or repeat(None))])
        vcenters.append(doc)
    return {"evckit_snapshot": 1, "description": export.description, "notes": export.notes, "vcenters": vcenters}


def _vm_doc(vm: VM | _Rec, uuid_cell: object) -> dict[str, Any]:
    """One VM of the document: a VM on a vHost host names its host, one on no vHost host its cluster."""
    if isinstance(vm, tuple):
        name, power, hw, on, cluster, template, min_evc, guest = vm
    else:
        name, power, hw, on, cluster = vm.name, vm.power_state, f"vmx-{vm.hardware_version}", vm.host, None
        template, min_evc, guest = vm.template, vm.min_required_evc_mode, vm.guest_os
    doc: dict[str, Any] = {"name": name, "power_state": power, "hardware_version": hw}
    if cluster is None:
        doc["host"] = on
    if template:
        doc["template"] = True
    if min_evc is not None:
        doc["min_required_evc_mode"] = min_evc
    if guest:
        doc["guest_os"] = guest
    uuid = _text(uuid_cell)
    if uuid:
        doc["uuid"] = uuid
    if cluster is not None:
        doc["cluster"] = cluster
    return doc


def _inventory(export: _Export, catalog: Catalog) -> Inventory:
    """The `Inventory` `parse_snapshot` builds of the export's document, without the document when the
    objects built as the rows were read hold: every name as settled, nothing a problem. Otherwise the
    document is parsed, for the same inventory or the same problems in the same places."""
    from evckit.inventory import Inventory, VCenter, parse_snapshot  # noqa: PLC0415

    vcenters: list[VCenter] = []
    clusters: list[Cluster] = []
    hosts: list[Host] = []
    vms: list[VM] = []
    for vc in export.vcenters if export.exact else ():
        builder = vc.builder
        if builder is None or builder.name != vc.name:
            break
        for name, evc in vc.clusters.items():
            if name not in builder.clusters:
                builder.cluster(name, evc)  # a cluster only VMs on no vHost host name
            elif builder.clusters[name].evc_mode != evc:
                break
        else:
            if len(builder.clusters) == len(vc.clusters) and len(builder.hosts) == len(vc.hosts) and all(
                    builder.hosts[h["name"]].cluster == h["cluster"] for h in vc.hosts.values()):
                # Without VMs on hosts vHost does not list (vc.loose), every VM is a `VM` already.
                loose = builder.vms(vm for vm in vc.vms if isinstance(vm, tuple)) if vc.loose else []
                if loose is not None and builder.ok:
                    if len(vc.vms) > len(vc.vm_names):  # names told apart: each must now be used once
                        if len({vm[0] if isinstance(vm, tuple) else vm.name for vm in vc.vms}) < len(vc.vms):
                            break
                    if vc.loose:
                        placed = iter(loose)
                        vms += [next(placed) if isinstance(vm, tuple) else vm for vm in vc.vms]
                    else:
                        vms += cast("list[VM]", vc.vms)
                    vcenters.append(VCenter(vc.name, vc.version, vc.build))
                    clusters += builder.clusters.values()
                    hosts += builder.hosts.values()
                    continue
        break
    else:
        if export.exact and len({vc.name for vc in vcenters}) == len(vcenters):
            return Inventory(tuple(vcenters), tuple(clusters), tuple(hosts), tuple(vms), catalog, export.source,
                             tuple(export.notes))
    return parse_snapshot(_document(export), export.source, catalog)


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
