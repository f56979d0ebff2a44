"""Reading an RVTools export into an inventory, against the reading library's own raw read, same run.

    python benchmarks/bench_rvtools.py                 # 100k VMs / 10k hosts, xlsx and CSV
    python benchmarks/bench_rvtools.py --vms 10000 --hosts 1000 --json

A generated estate (benchmarks/generate.py) is written as an RVTools-shaped export with all of
vInfo's and vHost's columns (tests/rvtools_export.py; the .xlsx with benchmarks/xlsx_writer.py,
strings shared as spreadsheet programs save them). Each measurement runs in its own process, so its
peak RSS is its own:

- ``raw-xlsx``: python-calamine reads every row of vInfo and vHost (the library's own read);
- ``evckit-xlsx``: ``evckit.load_inventories([export.xlsx])``, the import as ``evckit check`` runs it
  (reading, mapping, building and checking the snapshot document, the `Inventory`);
- ``raw-csv`` / ``evckit-csv``: the same for the CSV export folder (the raw read is Python's csv module).

Target: evckit at most 1.5x the raw read, and under 1 GB. Nothing is asserted (see README.md).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]

from generate import estate  # noqa: E402
from xlsx_writer import write_workbook  # noqa: E402

from tests.rvtools_export import VHOST_HEADERS, VINFO_HEADERS, _table, export_rows, write_csv  # noqa: E402

_RAW_XLSX = """
import sys
from python_calamine import CalamineWorkbook
wb = CalamineWorkbook.from_path(sys.argv[1])
n = 0
for tab in ("vInfo", "vHost"):
    for row in wb.get_sheet_by_name(tab).iter_rows():
        n += 1
print(n)
"""
_RAW_CSV = """
import csv, sys
from pathlib import Path
n = 0
for tab in ("vInfo", "vHost"):
    with open(Path(sys.argv[1]) / f"RVTools_tab{tab}.csv", encoding="utf-8-sig", newline="") as f:
        for row in csv.reader(f):
            n += 1
print(n)
"""
_EVCKIT = """
import sys
from evckit.inventory import load_inventories
inv = load_inventories([sys.argv[1]])
print(len(inv.vms) + len(inv.hosts))
"""
# Peak RSS from /proc/self/status VmHWM (this process's own memory): getrusage's ru_maxrss would carry
# over the peak of the benchmark process that forked it, which holds the generated estate.
_WRAP = """
import sys, time
t = time.perf_counter()
exec(compile(sys.argv.pop(1), "<bench>", "exec"))
seconds = time.perf_counter() - t
with open("/proc/self/status") as f:
    hwm = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
sys.stderr.write(f"{seconds} {hwm}\\n")
"""


def measure(code: str, arg: Path) -> tuple[float, float]:
    """(seconds inside the process, peak RSS in MiB) of one run of ``code`` with ``arg``."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    res = subprocess.run([sys.executable, "-c", _WRAP, code, str(arg)], capture_output=True, text=True,
                         check=True, env=env)
    seconds, rss_kib = res.stderr.strip().splitlines()[-1].split()
    return float(seconds), int(rss_kib) / 1024


def write_exports(vms: int, hosts: int, folder: Path) -> tuple[Path, Path]:
    """The generated estate as an .xlsx export and as a CSV export folder."""
    snap = estate(vms, hosts)
    host_rows, vm_rows = export_rows(snap)
    xlsx = write_workbook(folder / "RVTools_export_all.xlsx",
                          [("vInfo", _table(VINFO_HEADERS, vm_rows)), ("vHost", _table(VHOST_HEADERS, host_rows))])
    return xlsx, write_csv(snap, folder / "csv")


def main() -> None:
    """Write the exports, then time each read in its own process."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--vms", type=int, default=100_000)
    p.add_argument("--hosts", type=int, default=10_000)
    p.add_argument("--repeat", type=int, default=1, help="runs per measurement; the best is kept")
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="evckit-rvtools-") as tmp:
        t = time.perf_counter()
        xlsx, folder = write_exports(a.vms, a.hosts, Path(tmp))
        written = time.perf_counter() - t
        for fmt, path, raw, raw_name in (("xlsx", xlsx, _RAW_XLSX, "python-calamine iter_rows of vInfo + vHost"),
                                          ("csv", folder, _RAW_CSV, "csv.reader of vInfo + vHost")):
            base = min(measure(raw, path) for _ in range(a.repeat))
            mine = min(measure(_EVCKIT, path) for _ in range(a.repeat))
            rows.append({"name": f"rvtools-{fmt}-{a.vms}", "seconds": mine[0], "peak_rss_mb": round(mine[1]),
                         "baseline": raw_name, "baseline_seconds": base[0], "baseline_peak_rss_mb": round(base[1]),
                         "ratio": mine[0] / base[0], "size_mb": round(_size(path) / 2**20, 1)})
    if a.json:
        print(json.dumps({"benchmarks": rows, "export_written_seconds": written}, indent=2))
        return
    print(f"exports of {a.vms} VMs / {a.hosts} hosts written in {written:.1f} s")
    for r in rows:
        print(f"{r['name']}: evckit {r['seconds']:.2f} s, {r['peak_rss_mb']} MiB; {r['baseline']}: "
              f"{r['baseline_seconds']:.2f} s, {r['baseline_peak_rss_mb']} MiB; ratio {r['ratio']:.2f} "
              f"({r['size_mb']} MB on disk)")


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.iterdir()) if path.is_dir() else path.stat().st_size


if __name__ == "__main__":
    main()
