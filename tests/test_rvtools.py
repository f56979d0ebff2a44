"""RVTools exports (.xlsx and CSV folders) as an inventory source, and `evckit convert`.

The exports are written here (openpyxl or csv) from the example estate and from generated estates:
estate -> RVTools-shaped export -> import must give the same analysis as the snapshot, except what an
export cannot carry (`tests.rvtools_export.exportable`).
"""

from __future__ import annotations

import copy
import csv
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from evckit._resources import data_dir
from evckit.analysis import analyze
from evckit.catalog import Catalog
from evckit.cli import main
from evckit import inventory as inventory_module
from evckit.errors import SnapshotError
from evckit.inventory import Inventory, load_inventories, load_snapshot, parse_snapshot
from evckit.report import check_json, select
from evckit.rvtools import ExportError, MissingReaderError, read_export, read_inventory

from .rvtools_export import exportable, write_csv, write_tabs, write_xlsx

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "rvtools-samples"
SAMPLE = SHARED / "kubev2v-migration-planner-example1.xlsx"
CATALOG = Catalog.builtin()


def example() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((data_dir() / "examples" / "estate.json").read_text())
    return doc


def generated(vms: int, hosts: int, seed: int) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from generate import estate  # noqa: PLC0415
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return estate(vms, hosts, seed=seed)


def verdicts(inv: Inventory) -> dict[str, Any]:
    """The analysis as the JSON report states it, without the source's name and notes."""
    doc = check_json(select(analyze(inv)))
    doc.pop("snapshot")
    doc.pop("notes")
    return doc


def expected(snapshot: dict[str, Any]) -> dict[str, Any]:
    return verdicts(parse_snapshot(exportable(snapshot), "expected", CATALOG))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


# --- round trips ----------------------------------------------------------------------------------


@pytest.mark.parametrize("hw_style", ["int", "vmx"])
def test_example_round_trip_xlsx(tmp_path: Path, hw_style: str) -> None:
    """The example estate written as an .xlsx export and imported gives the snapshot's analysis."""
    path = write_xlsx(example(), tmp_path / "RVTools_export_all.xlsx", hw_style=hw_style)
    inv = load_inventories([path])
    assert verdicts(inv) == expected(example())
    assert inv.notes == ()  # every column present: nothing assumed beyond what the data says
    assert {h.vcenter_max_evc_mode for h in inv.hosts} == {None}  # the example gives model names only


def test_what_the_export_drops_changes_the_analysis() -> None:
    """`exportable` is not a no-op on the example: per-VM EVC and featureRequirement are what it loses."""
    assert expected(example()) != verdicts(parse_snapshot(example(), "example", CATALOG))


@pytest.mark.parametrize(("encoding", "delimiter"), [("utf-8-sig", ","), ("utf-8", ";"), ("utf-16", "\t"),
                                                     ("cp1252", ",")])
def test_example_round_trip_csv(tmp_path: Path, encoding: str, delimiter: str) -> None:
    """A CSV export folder: byte-order mark or not, comma, semicolon or tab, UTF-8/16 or the ANSI code page."""
    snap = example()
    snap["vcenters"][0]["vms"][0]["name"] = "web-01-Zürich"  # not ASCII: the encoding matters
    folder = write_csv(snap, tmp_path / "export", encoding=encoding, delimiter=delimiter)
    inv = load_inventories([folder])
    assert verdicts(inv) == expected(snap)
    assert any(v.name == "web-01-Zürich" for v in inv.vms)


def test_generated_estates_round_trip(tmp_path: Path) -> None:
    """Generated estates (both vendors, EVC on and off, mixed generations, two vCenters in one export)."""
    for seed in (1, 2):
        snap = generated(300, 40, seed)
        other = generated(200, 30, seed + 10)
        other["vcenters"][0]["name"] = "vc-other"
        snap["vcenters"] += other["vcenters"]
        for vc in snap["vcenters"]:  # a few maintenance hosts and templates
            vc["hosts"][0]["maintenance"] = True
            vc["vms"][1]["template"] = True
        xlsx = load_inventories([write_xlsx(snap, tmp_path / f"e{seed}.xlsx", reverse=seed == 2)])
        csvs = load_inventories([write_csv(snap, tmp_path / f"csv{seed}")])
        want = expected(snap)
        assert verdicts(xlsx) == want
        assert verdicts(csvs) == want
        assert {vc.name for vc in xlsx.vcenters} == {"vc01", "vc-other"}


def test_format_from_content_not_name(tmp_path: Path) -> None:
    """An export is recognised by its content: an .xlsx saved under another name, a CSV folder of any name."""
    path = write_xlsx(example(), tmp_path / "e.xlsx")
    renamed = path.rename(tmp_path / "customer-estate.json")
    folder = write_csv(example(), tmp_path / "whatever.xlsx")
    want = expected(example())
    assert verdicts(load_inventories([renamed])) == want
    assert verdicts(load_inventories([folder])) == want


def test_headers_by_name_case_and_spacing(tmp_path: Path) -> None:
    """Headers are found by name whatever their case, spacing and order; RVTools' internal names too."""
    rename = {"min Required EVC Mode Key": "MIN REQUIRED EVC  MODE KEY", "HW version": "HW_Version",
              "Max EVC": "max evc", "in Maintenance Mode": "In maintenance mode", "VM": "vInfoVMName"}
    snap = example()
    snap["vcenters"][0]["hosts"][3]["maintenance"] = True
    path = write_xlsx(snap, tmp_path / "e.xlsx", rename=rename, reverse=True)
    assert verdicts(load_inventories([path])) == expected(snap)


# --- what the export tells and does not tell --------------------------------------------------------


def test_max_evc_is_the_host_capability(tmp_path: Path) -> None:
    """vCenter's Max EVC is used before the CPU Model; the model name only where Max EVC is empty, assumed."""
    snap = example()
    hosts = snap["vcenters"][0]["hosts"]
    hosts[0]["max_evc_mode"] = "intel-skylake"  # vCenter measured less than the name suggests (Gold 6248)
    inv = load_inventories([write_xlsx(snap, tmp_path / "e.xlsx")])
    a = analyze(inv)
    by_name = {h.host.name: h for h in a.hosts}
    gold1 = by_name["esx-gold-1"].verdict.max_mode
    assert gold1 is not None and gold1.key == "intel-skylake"
    assert by_name["esx-gold-1"].host.vcenter_max_evc_mode == "intel-skylake"
    assert by_name["esx-gold-1"].host.cpu.input_format == "evc-mode"
    assert by_name["esx-gold-2"].host.cpu.input_format == "cpu-name" and by_name["esx-gold-2"].host.cpu.assumed


def test_esx_version_carries_the_build(tmp_path: Path) -> None:
    """``VMware ESXi 8.0.3 build-NNN``: version and build both reach the snapshot."""
    doc = read_export(write_xlsx(example(), tmp_path / "e.xlsx"))
    host = doc["vcenters"][0]["hosts"][0]
    assert (host["esxi_version"], host["esxi_build"]) == ("8.0.2", "22380479")
    assert doc["vcenters"][0]["vms"][0]["guest_os"] == "Microsoft Windows Server 2019 (64-bit)"
    assert doc["vcenters"][0]["vms"][0]["uuid"]


def test_missing_optional_columns_are_notes(tmp_path: Path) -> None:
    """An RVTools 3.x export without min Required EVC Mode Key: VMs assumed, and the notes say so."""
    path = write_xlsx(example(), tmp_path / "old.xlsx", drop=["min Required EVC Mode Key", "ESX Version",
                                                             "VI SDK Server", "VI SDK UUID"])
    inv = load_inventories([path])
    notes = " | ".join(inv.notes)
    assert "'min Required EVC Mode Key' column: running VMs' CPU requirements are unknown" in notes
    assert "'ESX Version' column" in notes and "named 'old'" in notes
    a = analyze(inv)
    assert a.notes[: len(inv.notes)] == inv.notes
    web = next(v for v in a.vms if v.vm.name == "web-01")
    assert web.requirement_source == "assumed" and any("no recorded CPU requirement" in n for n in web.notes)
    assert {vc.name for vc in inv.vcenters} == {"old"}


def test_cluster_evc_from_hosts_and_disagreement(tmp_path: Path) -> None:
    """A cluster's EVC mode is its hosts' common Current EVC; hosts that disagree are a note."""
    hdr: list[object] = ["Host", "Cluster", "CPU Model", "Current EVC", "Max EVC", "ESX Version"]
    hosts: list[list[object]] = [hdr, ["h1", "c1", "", "intel-broadwell", "intel-icelake", "VMware ESXi 8.0.2 build-22380479"],
             ["h2", "c1", "", "intel-broadwell", "intel-cascadelake", "VMware ESXi 8.0.2 build-22380479"],
             ["h3", "c1", "", None, "intel-cascadelake", "VMware ESXi 8.0.2 build-22380479"],
             ["h4", "c2", "Intel(R) Xeon(R) Gold 6348 CPU @ 2.60GHz", None, None, None]]
    vms: list[list[object]] = [["VM", "Powerstate", "HW version", "Host", "Cluster"], ["v1", "poweredOn", 19, "h1", "c1"]]
    inv = load_inventories([write_tabs(tmp_path / "e.xlsx", {"vHost": hosts, "vInfo": vms})])
    assert {c.name: c.evc_mode for c in inv.clusters} == {"c1": "intel-broadwell", "c2": None}
    assert any("hosts disagree on Current EVC (h3: none)" in n and "taken as intel-broadwell" in n
               for n in inv.notes)


def test_names_vms_and_placement(tmp_path: Path) -> None:
    """Duplicate VM names get their VM ID; one cluster name in two datacenters stays two clusters;
    a VM on a host vHost lacks is placed in its cluster; one with neither is left out, with notes."""
    hosts = [["Host", "Datacenter", "Cluster", "Max EVC"], ["h1", "dc1", "prod", "intel-icelake"],
             ["h2", "dc2", "prod", "amd-zen3"]]
    vms = [["VM", "Powerstate", "Template", "HW version", "Datacenter", "Cluster", "Host", "VM ID"],
           ["app", "poweredOn", "False", "vmx-19", "dc1", "prod", "h1", "vm-1"],
           ["app", "poweredOff", "True", "vmx-19", "dc2", "prod", "h2", "vm-2"],
           ["lost", "poweredOn", "False", "19", "dc1", "prod", "h9", "vm-3"],
           ["orphan", "poweredOn", "False", "19", "", "", "", "vm-4"]]
    inv = load_inventories([write_tabs(tmp_path / "e.xlsx", {"vInfo": vms, "vHost": hosts})])
    assert sorted(c.name for c in inv.clusters) == ["prod (dc1)", "prod (dc2)"]
    vm = {v.name: v for v in inv.vms}
    assert set(vm) == {"app (vm-1)", "app (vm-2)", "lost"}
    assert vm["app (vm-2)"].template and not vm["app (vm-2)"].running
    assert (vm["lost"].host, vm["lost"].cluster) == (None, "prod (dc1)")
    notes = " | ".join(inv.notes)
    assert "hosts vHost does not list (h9)" in notes and "1 VM (orphan) with no host or cluster" in notes


def test_name_used_three_times(tmp_path: Path) -> None:
    """Each VM of a name used three times gets its own VM ID, the first one's too, whether it runs on a
    vHost host or not; CSV and xlsx alike."""
    hosts = [["Host", "Datacenter", "Cluster", "Max EVC"], ["h1", "dc1", "prod", "intel-icelake"]]
    vms = [["VM", "Powerstate", "Template", "HW version", "Datacenter", "Cluster", "Host", "VM ID"],
           ["app", "poweredOn", "False", "19", "dc1", "prod", "h1", "vm-1"],
           ["web", "poweredOn", "False", "19", "dc1", "prod", "h1", "vm-2"],
           ["app", "poweredOff", "False", "19", "dc1", "prod", "h9", "vm-3"],
           ["app", "poweredOn", "False", "19", "dc1", "prod", "h1", "vm-4"]]
    folder = tmp_path / "csv"
    folder.mkdir()
    for tab, rows in (("vInfo", vms), ("vHost", hosts)):
        with open(folder / f"RVTools_tab{tab}.csv", "w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerows(rows)
    for path in (folder, write_tabs(tmp_path / "e.xlsx", {"vInfo": vms, "vHost": hosts})):
        inv = load_inventories([path])
        assert [(v.name, v.host) for v in inv.vms] == [("app (vm-1)", "h1"), ("web", "h1"), ("app (vm-3)", None),
                                                       ("app (vm-4)", "h1")]
        assert parts(inv) == parts(parse_snapshot(read_export(path), str(path), CATALOG))


def test_stops_at_first_empty_row(tmp_path: Path) -> None:
    """Rows after the first empty one are not read (a formatted sheet can report a million rows)."""
    junk = [["not-a-vm", "bogus-state", "x", "y"]]
    path = write_xlsx(example(), tmp_path / "e.xlsx", trailing_rows=junk)
    inv = load_inventories([path])
    assert "not-a-vm" not in {v.name for v in inv.vms} and len(inv.vms) == 10


@pytest.mark.parametrize("separator", ["\r\n", ",,,,\r\n"])
def test_csv_quoted_cells_and_first_empty_row(tmp_path: Path, separator: str) -> None:
    """CSV cells as RVTools writes them: a number with a thousands separator, a name with a comma and a
    note over several lines are quoted; the reading stops at the first empty line (or one of only commas)."""
    snap = example()
    snap["vcenters"][0]["vms"][0]["name"] = "web, 01"
    folder = write_csv(snap, tmp_path / "export")
    path = folder / "RVTools_tabvInfo.csv"
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    for row in rows[1:]:
        row[header.index("Memory")] = "16,384"
        row[header.index("Folder")] = 'Notes: "moved"\r\nfrom, the old site\n'
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        csv.writer(f).writerows(rows)
        f.write(separator + "not-a-vm,bogus-state,x,y\r\n")
    inv = load_inventories([folder])
    assert verdicts(inv) == expected(snap)
    assert "web, 01" in {v.name for v in inv.vms} and len(inv.vms) == 10


# --- the inventory built from the rows ------------------------------------------------------------


def parts(inv: Inventory) -> tuple[object, ...]:
    """Everything an inventory holds (`Inventory` compares by identity)."""
    return inv.vcenters, inv.clusters, inv.hosts, inv.vms, inv.source, inv.notes


def built_from_rows(path: Path, monkeypatch: pytest.MonkeyPatch) -> Inventory:
    """`read_inventory` of an export, which must be built without parsing a document."""
    def refuse(*args: object, **kwargs: object) -> Inventory:
        raise AssertionError("the document was parsed")
    with monkeypatch.context() as m:
        m.setattr(inventory_module, "parse_snapshot", refuse)
        return read_inventory(path)


def test_inventory_from_rows_is_the_documents(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The inventory built from the rows is the one `parse_snapshot` builds of `read_export`'s document
    (the same objects, requirements, names and notes), for exports as varied as the round trips'."""
    snap = generated(300, 40, 7)
    other = generated(200, 30, 17)
    other["vcenters"][0]["name"] = "vc-other"
    snap["vcenters"] += other["vcenters"]
    for vc in snap["vcenters"]:
        vc["hosts"][0]["maintenance"] = True
        vc["vms"][1]["template"] = True
    exports = [write_xlsx(snap, tmp_path / "e.xlsx", reverse=True), write_csv(snap, tmp_path / "csv"),
               write_xlsx(example(), tmp_path / "x.xlsx", hw_style="vmx"),
               write_xlsx(example(), tmp_path / "old.xlsx", drop=["min Required EVC Mode Key", "Template",
                                                                  "in Maintenance Mode", "ESX Version"])]
    for path in exports:
        inv = built_from_rows(path, monkeypatch)
        assert parts(inv) == parts(parse_snapshot(read_export(path), str(path), CATALOG))
        assert verdicts(inv) == verdicts(parse_snapshot(read_export(path), str(path), CATALOG))
        with monkeypatch.context() as m:  # VMs built by new_vm(...), as when VM's layout is not _VMSlots'
            m.setattr(inventory_module.VCenterBuilder, "vm_slots", None)
            assert parts(built_from_rows(path, monkeypatch)) == parts(inv)


def test_inventory_from_rows_names_and_placement(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Names told apart once every row is read (a VM name used twice, a cluster name in two datacenters,
    a VM on a host vHost lacks, in its cluster): the same inventory as the document's."""
    hosts = [["Host", "Datacenter", "Cluster", "Max EVC", "Current EVC"], ["h1", "dc1", "prod", "intel-icelake", ""],
             ["h2", "dc1", "prod", "intel-icelake", ""], ["h3", "dc1", "test", "amd-zen3", "amd-zen2"]]
    vms = [["VM", "Powerstate", "Template", "HW version", "Datacenter", "Cluster", "Host", "VM ID",
            "min Required EVC Mode Key"],
           ["app", "poweredOn", "False", "vmx-19", "dc1", "prod", "h1", "vm-1", "intel-broadwell"],
           ["app", "poweredOff", "True", "vmx-19", "dc1", "prod", "h2", "vm-2", ""],
           ["db", "poweredOn", "False", "19", "dc1", "test", "h3", "vm-3", ""],
           ["lost", "poweredOn", "False", "19", "dc1", "prod", "h9", "vm-4", "intel-skylake"],
           ["far", "suspended", "False", "19", "dc2", "prod", "h8", "vm-5", ""]]
    path = write_tabs(tmp_path / "e.xlsx", {"vInfo": vms, "vHost": hosts})
    want = parse_snapshot(read_export(path), str(path), CATALOG)
    assert parts(read_inventory(path)) == parts(want)  # "prod" became "prod (dc1)": the document is parsed
    assert sorted(c.name for c in want.clusters) == ["prod (dc1)", "prod (dc2)", "test"]
    del vms[-1]  # without the VM of dc2, every name holds as it stood once vHost was read
    path = write_tabs(tmp_path / "f.xlsx", {"vInfo": vms, "vHost": hosts})
    inv = built_from_rows(path, monkeypatch)
    assert parts(inv) == parts(parse_snapshot(read_export(path), str(path), CATALOG))
    assert {v.name: (v.host, v.cluster) for v in inv.vms} == {
        "app (vm-1)": ("h1", "prod"), "app (vm-2)": ("h2", "prod"), "db": ("h3", "test"), "lost": (None, "prod")}
    assert {v.name: v.requirement.source for v in inv.vms} == {
        "app (vm-1)": "minRequiredEVCModeKey", "app (vm-2)": "none", "db": "none", "lost": "minRequiredEVCModeKey"}
    for row in vms[1:3]:  # no VM ID: the names are told apart by the VM UUID (read again for it)
        row[vms[0].index("VM ID")] = ""
    vms[0].append("VM UUID")
    vms[1].append("4203e6a1-0001")
    vms[2].append("4203e6a1-0002")
    path = write_tabs(tmp_path / "g.xlsx", {"vInfo": vms, "vHost": hosts})
    inv = built_from_rows(path, monkeypatch)
    assert parts(inv) == parts(parse_snapshot(read_export(path), str(path), CATALOG))
    assert {v.name for v in inv.vms} == {"app (4203e6a1-0001)", "app (4203e6a1-0002)", "db", "lost"}


@pytest.mark.parametrize(("column", "value"), [("HW version", "vmx-0"), ("HW version", "100"),
                                               ("CPU Model", "Foo Bar CPU")])
def test_inventory_from_rows_problems_are_the_documents(tmp_path: Path, column: str, value: str) -> None:
    """A value RVTools may write but a snapshot may not hold (a hardware version beyond vmx-1…99, a CPU
    name evckit cannot read): the same SnapshotError as the document's."""
    snap = example()
    path = write_xlsx(snap, tmp_path / "e.xlsx", hw_style="vmx")
    hosts, vms = (json.loads(json.dumps(t)) for t in _tabs(path))
    table, rows = (hosts, 0) if column == "CPU Model" else (vms, 1)
    table[1 + rows][table[0].index(column)] = value
    path = write_tabs(tmp_path / "f.xlsx", {"vHost": hosts, "vInfo": vms})
    with pytest.raises(SnapshotError) as want:
        parse_snapshot(read_export(path), str(path), CATALOG)
    with pytest.raises(SnapshotError) as got:
        read_inventory(path)
    assert str(got.value) == str(want.value)


def _tabs(path: Path) -> tuple[list[list[object]], list[list[object]]]:
    """The vHost and vInfo tabs of an .xlsx export, as lists of rows."""
    from python_calamine import CalamineWorkbook  # noqa: PLC0415

    wb = CalamineWorkbook.from_path(str(path))
    return ([list(r) for r in wb.get_sheet_by_name("vHost").to_python()],
            [list(r) for r in wb.get_sheet_by_name("vInfo").to_python()])


# --- errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("sheets", "missing"), [(("vInfo",), "without vHost tab"),
                                                 (("vHost", "vCPU"), "without vInfo tab"),
                                                 (("vCPU",), "without vInfo and vHost tabs")])
def test_missing_tab_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], sheets: tuple[str, ...],
                                 missing: str) -> None:
    path = write_xlsx(example(), tmp_path / "e.xlsx", sheets=sheets)
    with pytest.raises(ExportError, match=missing):
        read_export(path)
    status, out, err = run(capsys, "check", str(path))
    assert status == 2 and out == "" and err.count("\n") == 1 and missing in err and str(path) in err


def test_missing_csv_tab_and_required_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_csv(example(), tmp_path / "only-info", tabs=("vInfo",))
    status, _, err = run(capsys, "check", str(folder))
    assert status == 2 and "a folder without vHost tab" in err and err.count("\n") == 1
    path = write_xlsx(example(), tmp_path / "e.xlsx", drop=["HW version"])
    status, _, err = run(capsys, "check", str(path))
    assert status == 2 and "vInfo tab has no 'HW version' column" in err


@pytest.mark.parametrize(("column", "value", "message"), [
    ("Max EVC", "intel-cascadelak", "vHost row 2 (esx-gold-1) Max EVC: unknown EVC mode 'intel-cascadelak'; "
                                    "did you mean intel-cascadelake"),
    ("HW version", "twenty", "vInfo row 2 (web-01) HW version: 'vmx-twenty' is not a virtual hardware version"),
    ("Powerstate", "sleeping", "vInfo row 2 (web-01): Powerstate 'sleeping' is not poweredOn"),
    ("ESX Version", "8.0.2", "vHost row 2 (esx-gold-1) ESX Version: "),
])
def test_bad_values_name_row_and_column(tmp_path: Path, capsys: pytest.CaptureFixture[str], column: str,
                                        value: str, message: str) -> None:
    snap = example()
    if column == "Max EVC":
        snap["vcenters"][0]["hosts"][0]["max_evc_mode"] = value
    elif column == "HW version":
        snap["vcenters"][0]["vms"][0]["hardware_version"] = value
    elif column == "ESX Version":  # a build of another release line (6.7 GA's) under 8.0.2
        snap["vcenters"][0]["hosts"][0]["esxi_build"] = "8169922"
    else:
        snap["vcenters"][0]["vms"][0]["power_state"] = value
    path = write_xlsx(snap, tmp_path / "e.xlsx", hw_style="vmx")
    status, _, err = run(capsys, "check", str(path))
    assert status == 2 and message in err and err.count("\n") == 1


def test_csv_encoding_failures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file with a UTF-8 byte-order mark is UTF-8 (no fallback): bytes it cannot decode are one line
    naming the file and "utf-8-sig"; without the mark, the same bytes are read as the ANSI code page."""
    folder = write_csv(example(), tmp_path / "export", encoding="utf-8-sig")
    path = folder / "RVTools_tabvInfo.csv"
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    path.write_bytes(raw.replace(b"web-01", b"web-\xfc1", 1))  # "ü" in cp1252, not UTF-8
    status, out, err = run(capsys, "check", str(folder))
    assert status == 2 and out == "" and err.count("\n") == 1 and f"{path}: cannot decode as utf-8-sig" in err
    path.write_bytes(raw[3:].replace(b"web-01", b"web-\xfc1", 1))
    assert "web-\u00fc1" in {v.name for v in load_inventories([folder]).vms}


def test_not_an_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A zip that is not a workbook and a folder without tabs fail in one line."""
    import zipfile  # noqa: PLC0415

    bogus = tmp_path / "x.xlsx"
    with zipfile.ZipFile(bogus, "w") as z:
        z.writestr("hello.txt", "hi")
    status, _, err = run(capsys, "check", str(bogus))
    assert status == 2 and "not a readable .xlsx workbook" in err and err.count("\n") == 1
    (tmp_path / "empty").mkdir()
    status, _, err = run(capsys, "check", str(tmp_path / "empty"))
    assert status == 2 and err.count("\n") == 1 and "empty" in err


def test_without_openpyxl(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the reading library, an .xlsx fails in one line that says what to install; CSV still works."""
    path = write_xlsx(example(), tmp_path / "e.xlsx")
    folder = write_csv(example(), tmp_path / "csv")
    monkeypatch.setitem(sys.modules, "python_calamine", None)
    with pytest.raises(MissingReaderError):
        read_export(path)
    status, out, err = run(capsys, "check", str(path))
    assert status == 2 and out == "" and err.count("\n") == 1 and "pip install 'evckit[rvtools]'" in err
    assert run(capsys, "check", str(folder))[0] == 0


def test_check_example_does_not_import_the_reader() -> None:
    """`evckit check --example` stays light: neither evckit.rvtools nor python-calamine is imported."""
    code = ("import sys; from evckit.cli import main; main(['check', '--example']); "
            "print('python_calamine' in sys.modules, 'evckit.rvtools' in sys.modules, file=sys.stderr)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert res.stderr.strip().splitlines()[-1] == "False False"


# --- several sources, convert -----------------------------------------------------------------------


def test_exports_mixed_with_snapshots(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An export and a snapshot of another vCenter are one estate; the same vCenter twice is an error."""
    other = generated(100, 20, 3)
    other["vcenters"][0]["name"] = "vc-rv"
    export = write_xlsx(other, tmp_path / "rv.xlsx")
    snap = tmp_path / "estate.json"
    snap.write_text(json.dumps(example()))
    inv = load_inventories([snap, export])
    assert [vc.name for vc in inv.vcenters] == ["vc-prod", "vc-rv"]
    assert {c.label for c in analyze(inv).clusters} >= {"vc-prod/gold", "vc-rv/cl00001"}
    status, _, err = run(capsys, "check", str(snap), str(write_xlsx(example(), tmp_path / "same.xlsx")))
    assert status == 2 and "vCenter 'vc-prod' is in both" in err


def test_convert_writes_the_same_estate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`evckit convert` writes a snapshot that analyses like the export itself, valid for the schema."""
    jsonschema = pytest.importorskip("jsonschema")
    path = write_xlsx(example(), tmp_path / "e.xlsx", drop=["min Required EVC Mode Key"])
    other = generated(100, 20, 4)
    other["vcenters"][0]["name"] = "vc-csv"
    folder = write_csv(other, tmp_path / "csv")
    out = tmp_path / "estate.json"
    status, stdout, err = run(capsys, "convert", str(path), str(folder), "-o", str(out))
    assert status == 0 and stdout == "" and "note:" in err and "min Required EVC Mode Key" in err
    doc = json.loads(out.read_text())
    jsonschema.validate(doc, json.loads((data_dir() / "snapshot.schema.json").read_text()))
    assert verdicts(load_snapshot(out)) == verdicts(load_inventories([path, folder]))
    assert load_snapshot(out).notes == load_inventories([path, folder]).notes
    # what-if works on the converted estate as on any snapshot
    status, stdout, _ = run(capsys, "check", str(out), "--add-host", "vc-prod/gold=Xeon Gold 6430", "--format", "json")
    assert status == 0 and json.loads(stdout)["changes"]


def test_convert_failure_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write_xlsx(example(), tmp_path / "good.xlsx")
    bad = write_xlsx(example(), tmp_path / "bad.xlsx", sheets=("vInfo",))
    out = tmp_path / "estate.json"
    status, _, err = run(capsys, "convert", str(good), str(bad), "-o", str(out))
    assert status == 2 and not out.exists() and list(tmp_path.iterdir()) == sorted(tmp_path.iterdir())
    assert {p.name for p in tmp_path.iterdir()} == {"good.xlsx", "bad.xlsx"}


def test_convert_keeps_snapshot_cpuid_files(tmp_path: Path) -> None:
    """A snapshot's relative cpuid_file still points at its dump after conversion elsewhere."""
    from evckit.rvtools import convert  # noqa: PLC0415

    src = tmp_path / "in"
    src.mkdir()
    dump = ROOT / "tests" / "fixtures" / "cpu" / "e5-1620-hostcpuidinfo.json"
    (src / "cpu.json").write_text(dump.read_text())
    snap = copy.deepcopy(example())
    snap["vcenters"][0]["hosts"][0]["cpu"] = {"cpuid_file": "cpu.json"}
    (src / "estate.json").write_text(json.dumps(snap))
    out = tmp_path / "out" / "estate.json"
    out.parent.mkdir()
    convert([src / "estate.json"], out)
    assert verdicts(load_snapshot(out)) == verdicts(load_snapshot(src / "estate.json"))


# --- the shared public sample ---------------------------------------------------------------------


@pytest.mark.skipif(not SAMPLE.is_file(), reason=f"third-party RVTools sample not found at {SAMPLE}")
def test_shared_sample() -> None:
    """The public kubev2v export: its hosts reach intel-cascadelake (vCenter's Max EVC), and the VMs'
    requirements are their min Required EVC Mode Key."""
    inv = load_inventories([SAMPLE])
    a = analyze(inv)
    assert len(a.hosts) == 7
    assert {h.verdict.max_mode.key for h in a.hosts if h.verdict.max_mode} == {"intel-cascadelake"}
    assert all(h.host.vcenter_max_evc_mode == "intel-cascadelake" and h.host.cpu.input_format == "evc-mode"
               for h in a.hosts)
    reqs = {v.name: v.min_required_evc_mode for v in inv.vms}
    assert reqs["vm-3"] == "intel-cascadelake" and reqs["vm-8"] == "intel-icelake"
    assert sum(1 for r in reqs.values() if r) == 2
    assert [c.name for c in inv.clusters] == ["Cluster"] and inv.clusters[0].evc_mode is None
    notes = " | ".join(inv.notes)
    assert "vm-9" in notes and "'ESX Version' column" in notes  # the anonymised file lacks both


def test_benchmark_xlsx_writer_matches_openpyxl(tmp_path: Path) -> None:
    """The benchmark's own .xlsx writer gives a workbook openpyxl reads back, and the same import."""
    import openpyxl  # type: ignore[import-untyped,unused-ignore]  # noqa: PLC0415

    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from xlsx_writer import write_workbook  # noqa: PLC0415
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    from .rvtools_export import VHOST_HEADERS, VINFO_HEADERS, _table, export_rows  # noqa: PLC0415

    snap = generated(200, 20, 5)
    hosts, vms = export_rows(snap)
    fast = write_workbook(tmp_path / "fast.xlsx", [("vInfo", _table(VINFO_HEADERS, vms)),
                                                   ("vHost", _table(VHOST_HEADERS, hosts))])
    ref = write_xlsx(snap, tmp_path / "ref.xlsx")
    wb = openpyxl.load_workbook(fast, read_only=True)
    assert [next(wb[t].iter_rows(values_only=True)) for t in ("vInfo", "vHost")] == [VINFO_HEADERS, VHOST_HEADERS]
    wb.close()
    a, b = read_export(fast), read_export(ref)
    a.pop("description")
    b.pop("description")
    assert a == b


def test_builder_hosts_alike_are_the_parsers() -> None:
    """`VCenterBuilder.host` reads a host alike a previous one but for its name and cluster as that host
    under its name and cluster: each is the `Host` `_parse_host` reads of it alone, problems included."""
    builder = inventory_module.VCenterBuilder("vc", CATALOG)
    for c in ("a", "b"):
        builder.cluster(c, None)
    hosts = []
    values = [("8.0.3", "24022510", False, "Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz", None),
              ("8.0.3", "24022510", True, "Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz", None),
              ("7.0.3", None, False, "AMD EPYC 7763 64-Core Processor", "amd-zen3"),
              (None, None, False, None, "intel-icelake")]
    for i in range(24):
        esxi, build, maintenance, model, max_evc = values[i % len(values)]
        h: dict[str, Any] = {"name": f"h{i}", "cluster": ("a", "b", None, "nowhere")[i % 4 if i > 8 else i % 3],
                             "maintenance": maintenance, "cpu": {"model": model} if model else {}}
        if esxi:
            h["esxi_version"] = esxi
        if build:
            h["esxi_build"] = build
        if max_evc:
            h["max_evc_mode"] = max_evc
        hosts.append(h)
        builder.host(h)
    problems = inventory_module._Problems()
    alone = [inventory_module._parse_host(h, "", "vc", {"a", "b"}, CATALOG.modes, CATALOG,
                                          inventory_module._CpuidFiles(None, ()), problems) for h in hosts]
    assert list(builder.hosts.values()) == [h for h in alone if h is not None]
    assert len(builder.problems.items) == len(problems.items) > 0 and not builder.ok  # the "nowhere" cluster
