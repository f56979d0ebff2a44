"""Reading an RVTools export into an inventory, against the reading library's own raw read, same run.

    python benchmarks/bench_rvtools.py                 # 100k VMs / 10k hosts, xlsx and CSV
    python benchmarks/bench_rvtools.py --vms 10000 --hosts 1000 --json
    python benchmarks/bench_rvtools.py --dir /tmp/rvtools-exports --repeat 3   # exports kept for the next run

A generated estate (benchmarks/generate.py) is written as an RVTools-shaped export with all of
vInfo's and vHost's columns (tests/rvtools_export.py; the .xlsx with benchmarks/xlsx_writer.py,
strings shared as spreadsheet programs save them). Each measurement runs in its own process, so its
peak RSS is its own:

- ``raw-xlsx``: python-calamine reads every row of vInfo and vHost (the library's own read);
- ``evckit-xlsx``: ``evckit.load_inventories([export.xlsx])`` exactly as ``evckit check`` runs it:
  under the command's GC policy (``output.bulk_gc``), the cyclic garbage collector paused while
  reading, and what was read frozen before the collector runs again (reading the rows and building
  the `Inventory` from them, `evckit.rvtools.read_inventory`), the time to import evckit included;
- ``raw-csv`` / ``evckit-csv``: the same for the CSV export folder (the raw read is Python's csv module).

Each process reports its wall-clock and CPU seconds (on a busy machine the CPU ratio is the steadier
one; on a quiet one they agree); with ``--repeat N`` the raw read and evckit's import alternate, N runs
each, and the least time of each is kept. Byte-code is compiled once, before the timed runs, for all of them
(as for an installed package). ``--dir DIR`` keeps the exports there and reuses them on the next run.

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
# The import exactly as `evckit check` runs it (cli._run_check / _check_into): the command's GC policy
# (`bulk_gc`), the collector paused while the sources are read, and what was read frozen (``loaded()``)
# before the collector is enabled again. Without ``loaded()`` the first allocation after reading starts
# a collection scanning every object read (0.05-0.06 s at 100,000 VMs), a cost the command never pays.
_EVCKIT = """
import sys
from evckit.inventory import load_inventories
from evckit.output import bulk_gc, paused_gc
with bulk_gc() as loaded:
    with paused_gc():
        inv = load_inventories([sys.argv[1]])
        loaded()
    print(len(inv.vms) + len(inv.hosts))
"""
# Peak RSS from /proc/self/status VmHWM (this process's own memory): getrusage's ru_maxrss would carry
# over the peak of the benchmark process that forked it, which holds the generated estate.
_WRAP = """
import sys, time
t, c = time.perf_counter(), time.process_time()
exec(compile(sys.argv.pop(1), "<bench>", "exec"))
seconds, cpu = time.perf_counter() - t, time.process_time() - c
with open("/proc/self/status") as f:
    hwm = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
sys.stderr.write(f"{seconds} {cpu} {hwm}\\n")
"""


def child_env(pycache: Path) -> dict[str, str]:
    """The measured processes' environment: this tree first on the path, and byte-code written (to
    ``pycache``, not into the tree) and reused, as an installed package's is. Without it, an environment
    with PYTHONDONTWRITEBYTECODE set (this machine's) would make each evckit run compile every module
    changed since its __pycache__ was written, a cost the raw read (the standard library's) never has."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(PYTHONPATH=str(ROOT), PYTHONPYCACHEPREFIX=str(pycache))
    return env


def measure(code: str, arg: Path, env: dict[str, str]) -> tuple[float, float, float]:
    """(wall-clock seconds, CPU seconds, peak RSS in MiB) of one run of ``code`` with ``arg``, in its own process."""
    res = subprocess.run([sys.executable, "-c", _WRAP, code, str(arg)], capture_output=True, text=True,
                         check=True, env=env)
    seconds, cpu, rss_kib = res.stderr.strip().splitlines()[-1].split()
    return float(seconds), float(cpu), int(rss_kib) / 1024


def best(runs: list[tuple[float, float, float]]) -> tuple[float, float, float]:
    """Of several runs: the least wall-clock and CPU time, and the highest peak RSS (each on its own)."""
    return min(r[0] for r in runs), min(r[1] for r in runs), max(r[2] for r in runs)


def write_exports(vms: int, hosts: int, folder: Path) -> tuple[Path, Path]:
    """The generated estate as an .xlsx export and as a CSV export folder."""
    snap = estate(vms, hosts)
    host_rows, vm_rows = export_rows(snap)
    xlsx = write_workbook(folder / "RVTools_export_all.xlsx",
                          [("vInfo", _table(VINFO_HEADERS, vm_rows)), ("vHost", _table(VHOST_HEADERS, host_rows))])
    return xlsx, write_csv(snap, folder / "csv")


def main() -> None:
    """Write the exports (or reuse those of ``--dir``), then time each read in its own process."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--vms", type=int, default=100_000)
    p.add_argument("--hosts", type=int, default=10_000)
    p.add_argument("--repeat", type=int, default=1, help="runs per measurement; the best is kept")
    p.add_argument("--dir", type=Path, help="keep the exports in DIR/VMS-HOSTS and reuse them when there")
    p.add_argument("--json", action="store_true")
    a = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="evckit-rvtools-") as tmp:
        folder = a.dir / f"{a.vms}-{a.hosts}" if a.dir else Path(tmp)
        xlsx, csv_folder = folder / "RVTools_export_all.xlsx", folder / "csv"
        written = None
        if not (xlsx.is_file() and (csv_folder / "RVTools_tabvInfo.csv").is_file()):
            folder.mkdir(parents=True, exist_ok=True)
            t = time.perf_counter()
            write_exports(a.vms, a.hosts, folder)
            written = time.perf_counter() - t
        # One untimed run of each measurement on a small export: every module either imports is
        # byte-compiled before the timed runs.
        env = child_env(Path(tmp) / "pycache")
        (Path(tmp) / "warm-up").mkdir()
        small_xlsx, small_csv = write_exports(20, 4, Path(tmp) / "warm-up")
        for code, small in ((_RAW_XLSX, small_xlsx), (_EVCKIT, small_xlsx), (_RAW_CSV, small_csv), (_EVCKIT, small_csv)):
            measure(code, small, env)
        rows = [_row(fmt, path, raw, raw_name, a, env)
                for fmt, path, raw, raw_name in (("xlsx", xlsx, _RAW_XLSX, "python-calamine iter_rows of vInfo + vHost"),
                                                 ("csv", csv_folder, _RAW_CSV, "csv.reader of vInfo + vHost"))]
    if a.json:
        print(json.dumps({"benchmarks": rows, "export_written_seconds": written}, indent=2))
        return
    print(f"exports of {a.vms} VMs / {a.hosts} hosts " + (f"written in {written:.1f} s" if written is not None
                                                          else f"reused from {folder}"))
    for r in rows:
        print(f"{r['name']}: evckit {r['seconds']:.2f} s ({r['cpu_seconds']:.2f} s CPU), {r['peak_rss_mb']} MiB; "
              f"{r['baseline']}: {r['baseline_seconds']:.2f} s ({r['baseline_cpu_seconds']:.2f} s CPU), "
              f"{r['baseline_peak_rss_mb']} MiB; ratio {r['ratio']:.2f} (CPU {r['cpu_ratio']:.2f}; "
              f"{r['size_mb']} MB on disk)")


def _row(fmt: str, path: Path, raw: str, raw_name: str, a: argparse.Namespace, env: dict[str, str],
         ) -> dict[str, Any]:
    # The raw read and evckit's import alternate, run by run: on a shared machine whose speed drifts
    # over minutes, the best runs of each then come from the same minutes.
    raw_runs, evckit_runs = [], []
    for _ in range(a.repeat):
        raw_runs.append(measure(raw, path, env))
        evckit_runs.append(measure(_EVCKIT, path, env))
    base, mine = best(raw_runs), best(evckit_runs)
    return {"name": f"rvtools-{fmt}-{a.vms}", "seconds": mine[0], "cpu_seconds": mine[1],
            "peak_rss_mb": round(mine[2]), "baseline": raw_name, "baseline_seconds": base[0],
            "baseline_cpu_seconds": base[1], "baseline_peak_rss_mb": round(base[2]),
            "ratio": mine[0] / base[0], "cpu_ratio": mine[1] / base[1], "size_mb": round(_size(path) / 2**20, 1)}


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.iterdir()) if path.is_dir() else path.stat().st_size


if __name__ == "__main__":
    main()
