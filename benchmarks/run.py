"""Speed and memory of evckit at estate scale, each measured against a baseline in the same run.

    python benchmarks/run.py            # everything, up to 100k VMs / 10k hosts / 1,000 clusters
    python benchmarks/run.py --quick    # small sizes only, within a minute
    python benchmarks/run.py --json     # {"benchmarks": [{name, seconds, baseline, baseline_seconds, ratio}], "peak_rss_mb"}
    python benchmarks/run.py --commands # only the whole `evckit check` processes at 10k and 100k VMs

The HTML report rows need Debian's chromium for the browser part (left out without it).

``ratio`` is ``seconds / baseline_seconds``: below 1 evckit is faster than the baseline, and
``1 / ratio`` is the speed-up. Timings are the best of several runs (noise on a shared machine only
ever adds time). Nothing here is asserted: targets are reported, see benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import estate  # noqa: E402
from naive import analyze_naive  # noqa: E402

from evckit.analysis import analyze  # noqa: E402
from evckit.catalog import Catalog  # noqa: E402
from evckit.assess import common_modes  # noqa: E402
from evckit.profiles import profile_from_name  # noqa: E402
from evckit.inventory import Inventory, parse_snapshot  # noqa: E402

SIZES = {"1k": (1_000, 100), "10k": (10_000, 1_000), "100k": (100_000, 10_000)}


def best(fn: Callable[[], object], repeat: int = 3) -> float:
    """Best wall time of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def row(name: str, seconds: float, baseline: str, baseline_seconds: float, **extra: Any) -> dict[str, Any]:
    """One benchmark result."""
    return {"name": name, "seconds": seconds, "baseline": baseline, "baseline_seconds": baseline_seconds,
            "ratio": seconds / baseline_seconds if baseline_seconds else None, **extra}


def inventory(size: str) -> Inventory:
    """The synthetic estate of one size, parsed."""
    vms, hosts = SIZES[size]
    return parse_snapshot(estate(vms, hosts), f"synthetic-{size}")


def bench_analysis(size: str, sample: int) -> dict[str, Any]:
    """Full analysis (every VM x every cluster, reasons included) vs the pair-by-pair frozenset baseline."""
    inv = inventory(size)
    seconds = best(lambda: analyze(inv))
    n = min(sample, len(inv.vms))
    naive = best(lambda: analyze_naive(inv, n), repeat=1) * len(inv.vms) / n
    return row(f"analysis-{size}", seconds, f"frozenset pair-by-pair ({n} VMs timed, scaled linearly)", naive,
               vms=len(inv.vms), hosts=len(inv.hosts), clusters=len(inv.clusters))


def bench_cluster_max(n_hosts: int) -> dict[str, Any]:
    """A cluster's max EVC mode over N hosts: AND of masks vs intersection of frozensets of names."""
    catalog = Catalog.builtin()
    names = ["Xeon Gold 6130", "Xeon Gold 6248", "Xeon Gold 6348", "Xeon Gold 6430"]
    profiles = [profile_from_name(names[i % len(names)], catalog) for i in range(n_hosts)]
    modes = catalog.modes.for_vendor("intel")  # the baseline checks these

    def fast() -> object:
        return common_modes(profiles, catalog.modes).best

    sets = [frozenset(p.present) for p in profiles]
    mode_sets = [(m, frozenset(catalog.features.names(m.required))) for m in modes]

    def slow() -> object:
        common = frozenset.intersection(*sets)
        ok = [m for m, req in mode_sets if req <= common]
        return ok[-1] if ok else None

    assert fast().key == slow().key  # type: ignore[attr-defined]
    return row(f"cluster-max-evc-{n_hosts}-hosts", best(fast, 5), "frozenset intersection", best(slow, 5))


def bench_single_check() -> dict[str, Any]:
    """One VM-versus-cluster feature check, in nanoseconds: int masks vs frozenset subset."""
    catalog = Catalog.builtin()
    req = catalog.mode("intel-cascadelake").required
    guar = catalog.mode("intel-icelake").features.mask
    any_mask = catalog.features.any_mask
    fs_req = frozenset(catalog.features.names(req))
    fs_guar = frozenset(catalog.features.names(guar))
    n = 1_000_000
    fast = min(timeit.repeat(lambda: req & ~guar & ~any_mask == 0, number=n, repeat=5)) / n
    slow = min(timeit.repeat(lambda: fs_req <= fs_guar, number=n, repeat=5)) / n
    return row("single-vm-cluster-check", fast, "frozenset <=", slow, nanoseconds=fast * 1e9,
               baseline_nanoseconds=slow * 1e9)


def bench_process(args: list[str], name: str) -> dict[str, Any]:
    """A whole process (interpreter start-up included) vs a bare interpreter.

    The package is byte-compiled first, as pip does when it installs a wheel: with
    PYTHONDONTWRITEBYTECODE set (as on this project's machines) a checkout would otherwise be
    compiled from source at every start, which no installed user sees.
    """
    import compileall  # noqa: PLC0415
    import evckit  # noqa: PLC0415

    compileall.compile_dir(Path(evckit.__file__).parent, quiet=1)
    def run(cmd: list[str]) -> float:
        times = []
        for _ in range(5):
            t = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
            times.append(time.perf_counter() - t)
        return min(times)

    return row(name, run([sys.executable, *args]), "python -c pass", run([sys.executable, "-c", "pass"]))


def bench_memory(size: str) -> tuple[list[dict[str, Any]], float]:
    """Peak RSS of a process that builds, parses and analyses the estate, and the analysis's own
    allocations (tracemalloc peak) against those of parsing the snapshot it analyses."""
    code = ("import sys, gc, resource, tracemalloc; sys.path.insert(0, {here!r}); from generate import estate; "
            "from evckit.inventory import parse_snapshot; from evckit.analysis import analyze; "
            "obj = estate({vms}, {hosts}); gc.collect(); tracemalloc.start(); inv = parse_snapshot(obj, 'x'); "
            "parse_peak = tracemalloc.get_traced_memory()[1]; tracemalloc.reset_peak(); "
            "base = tracemalloc.get_traced_memory()[0]; a = analyze(inv); "
            "analysis_peak = tracemalloc.get_traced_memory()[1] - base; tracemalloc.stop(); "
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, parse_peak, analysis_peak)")
    vms, hosts = SIZES[size]
    out = subprocess.run([sys.executable, "-c", code.format(here=str(HERE), vms=vms, hosts=hosts)],
                         check=True, capture_output=True, text=True).stdout.split()
    rss_mb, parse_mb, analysis_mb = int(out[0]) / 1024, int(out[1]) / 2**20, int(out[2]) / 2**20
    rows = [
        row(f"memory-analysis-{size}", analysis_mb, "allocations of parsing its snapshot", parse_mb, unit="MiB"),
    ]
    return rows, rss_mb


def bench_scaling(sizes: list[str]) -> list[dict[str, Any]]:
    """Time per VM at each size, against the smallest size's: flat means linear in VMs + clusters."""
    per_vm = {}
    out = []
    for size in sizes:
        inv = inventory(size)
        s = best(lambda inv=inv: analyze(inv))
        per_vm[size] = s / len(inv.vms)
        out.append(row(f"scaling-{size}-per-vm", per_vm[size], f"per VM at {sizes[0]}", per_vm[sizes[0]],
                       total_seconds=s, vms=len(inv.vms), clusters=len(inv.clusters)))
    return out


def bench_html(size: str) -> list[dict[str, Any]]:
    """The HTML report of an estate, as a user makes and opens it: the whole `evckit check SNAPSHOT
    --format html -o FILE` process against the same command writing `--format json-groups`; the file's
    size against that JSON's; and headless Chromium loading and painting it against an empty page in the
    same browser (Debian's chromium; left out when none is installed)."""
    sys.path.insert(0, str(HERE.parent))
    from tests import chromium  # noqa: PLC0415 - the browser tests' DevTools driver

    vms, hosts = SIZES[size]
    out: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="evckit-bench-html-") as tmp:
        snap, html, js, empty = (Path(tmp) / n for n in ("estate.json", "report.html", "report.json", "empty.html"))
        snap.write_text(json.dumps(estate(vms, hosts)))
        empty.write_text("<!DOCTYPE html><title>empty</title><p>empty</p>")

        def command(fmt: str, target: Path) -> float:
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "evckit", "check", str(snap), "--format", fmt, "-o", str(target)],
                           check=True, stdout=subprocess.DEVNULL)
            return time.perf_counter() - t

        seconds = min(command("html", html) for _ in range(2))
        baseline = min(command("json-groups", js) for _ in range(2))
        out.append(row(f"html-report-{size}-command", seconds, "same command, --format json-groups", baseline,
                       vms=vms, clusters=hosts // 10))
        mb, json_mb = html.stat().st_size / 1e6, js.stat().st_size / 1e6
        out.append(row(f"html-report-{size}-size", mb, "json-groups of the same estate", json_mb, unit="MB"))
        exe = chromium.find()
        if exe is not None:
            with chromium.browser(exe, width=1400, height=1000) as b:
                b.call("Performance.enable")
                base = min(b.load(empty) for _ in range(3))
                loads = []
                for _ in range(3):
                    loads.append(b.load(html))
                metrics = {m["name"]: m["value"] for m in b.call("Performance.getMetrics")["metrics"]}
                nodes = b.evaluate("(() => { const w = document.createTreeWalker(document, NodeFilter.SHOW_ALL);"
                                   " let n = 0; while (w.nextNode()) n++; return n; })()")
            out.append(row(f"html-report-{size}-chromium-load-and-paint", min(loads), "an empty page, same browser",
                           base, dom_nodes=nodes,
                           layout_seconds=metrics.get("LayoutDuration"), style_seconds=metrics.get("RecalcStyleDuration")))
    return out


def bench_archspec() -> dict[str, Any] | None:
    """archspec's compatibility test of two targets vs evckit's single check (when archspec is installed)."""
    try:
        from archspec.cpu import TARGETS  # noqa: PLC0415
    except ImportError:
        return None
    a, b = TARGETS["icelake"], TARGETS["cascadelake"]
    n = 100_000
    peer = min(timeit.repeat(lambda: b <= a, number=n, repeat=5)) / n
    catalog = Catalog.builtin()
    req, guar = catalog.mode("intel-cascadelake").required, catalog.mode("intel-icelake").features.mask
    ours = min(timeit.repeat(lambda: req & ~guar == 0, number=n, repeat=5)) / n
    return row("peer-archspec-target-check", ours, "archspec Microarchitecture <=", peer,
               nanoseconds=ours * 1e9, baseline_nanoseconds=peer * 1e9)


def bench_virsh(n_hosts: int) -> dict[str, Any] | None:
    """libvirt's `virsh cpu-baseline` over N CPUs vs evckit's max_evc_mode over N hosts (when installed)."""
    virsh = shutil.which("virsh")
    if virsh is None:
        return None
    catalog = Catalog.builtin()
    cpus = ["Skylake-Server", "Cascadelake-Server", "Icelake-Server", "Broadwell"]
    xml = "".join(f"<cpu><arch>x86_64</arch><model>{cpus[i % len(cpus)]}</model><vendor>Intel</vendor></cpu>\n"
                  for i in range(n_hosts))
    with tempfile.NamedTemporaryFile("w", suffix=".xml", delete=False) as f:
        f.write(xml)
    try:
        def peer() -> None:
            subprocess.run([virsh, "-c", "test:///default", "cpu-baseline", f.name], check=True,
                           capture_output=True)
        peer_s = best(peer)
    except subprocess.CalledProcessError:
        return None
    finally:
        os.unlink(f.name)
    names = ["Xeon Gold 6130", "Xeon Gold 6248", "Xeon Gold 6348", "E5-2690 v4"]
    profiles = [profile_from_name(names[i % len(names)], catalog) for i in range(n_hosts)]

    def ours() -> object:
        return common_modes(profiles, catalog.modes).best

    return row(f"peer-virsh-cpu-baseline-{n_hosts}", best(ours), "virsh -c test:///default cpu-baseline", peer_s)


#: Whole-command rows: (name, arguments after the snapshot path). The command as a user types it.
COMMANDS = [
    ("table", []),
    ("markdown", ["--format", "markdown"]),
    ("json", ["--format", "json"]),
    ("csv", ["--format", "csv"]),
    ("csv-verdicts", ["--format", "csv", "--csv-table", "verdicts"]),
    ("what-if", ["--add-host", "cl00001=Xeon Gold 6430x2", "--format", "json"]),
    ("compare-4-cpus", ["--compare-cpus", "Xeon Gold 6430", "EPYC 9354", "Xeon Gold 6348", "EPYC 7713",
                        "--cluster", "cl00001"]),
    ("vm-filter-200", [x for i in range(200) for x in ("--vm", f"vm{i * 97 + 1:07d}")] + ["--format", "json"]),
    ("explain", ["--explain"]),
    ("explain-csv", ["--explain", "--format", "csv"]),
]
#: Rows run only at some sizes: the CSV of --explain (a line per VM and target it cannot fully reach)
#: is about 10 GB at 100k VMs in 1,000 clusters; it streams, but writing that is not seconds.
COMMAND_ONLY_AT = {"explain-csv": {"1k", "10k"}}
#: Estates of the command rows: VMs, hosts (in clusters of 10). 1k is the smoke test of --quick.
COMMAND_SIZES = {"1k": (1_000, 1_000), "10k": (10_000, 10_000), "100k": (100_000, 10_000)}
#: Targets of issue #13 per row at 100k VMs: (seconds, peak RSS MiB); JSON output under 150 MB.
TARGETS: dict[str, tuple[float, float] | None] = {"what-if": (5.0, 1024.0), "compare-4-cpus": (5.0, 1024.0),
                                                  "explain": None}
DEFAULT_TARGET = (3.0, 500.0)


def _child(cmd: list[str], out: Path | None = None) -> tuple[float, float, float, str]:
    """Run one process; its wall time, CPU time (user + system), peak RSS (MiB) and stdout."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    stdout = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{cmd[:6]}... exited {proc.returncode}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, stdout


def bench_commands(sizes: list[str], repeat: int = 3) -> list[dict[str, Any]]:
    """Whole ``evckit check`` processes on generated estates of 10k and 100k VMs in 1,000 clusters.

    Each row: the best wall time of ``repeat`` runs (and the spread, to show the machine's noise),
    CPU time, peak RSS and output bytes (written with ``-o``). The baseline, timed in the same run on
    the same estate: ``analyze()`` alone on the loaded inventory, in a process of its own; a second
    reference is the process that only loads and analyses (no output).
    """
    import compileall  # noqa: PLC0415
    import evckit  # noqa: PLC0415

    compileall.compile_dir(Path(evckit.__file__).parent, quiet=1)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="evckit-bench-") as tmp:
        for size in sizes:
            vms, hosts = COMMAND_SIZES[size]
            snap = Path(tmp) / f"estate-{size}.json"
            snap.write_text(json.dumps(estate(vms, hosts)), encoding="utf-8")  # clusters of 10 hosts
            # The same GC policy as `evckit check` (evckit.output.bulk_gc): with the default one, the
            # collector's passes over the loaded estate made analyze() alone slower than the command.
            code = ("import sys, time; from evckit.inventory import load_inventories; from evckit.analysis import analyze; "
                    "from evckit.output import bulk_gc, paused_gc\n"
                    "with bulk_gc() as loaded:\n"
                    f"    with paused_gc(): inv = load_inventories([{str(snap)!r}]); loaded()\n"
                    "    t = time.perf_counter(); analyze(inv); print(time.perf_counter() - t)")
            base = []
            for _ in range(repeat):
                wall, cpu, rss, stdout = _child([sys.executable, "-c", code])
                base.append((float(stdout.strip()), wall, cpu, rss))
            analyze_s = min(b[0] for b in base)
            load_wall = min(b[1] for b in base)
            rows.append(row(f"command-{size}-load-and-analyze", load_wall, "analyze() alone", analyze_s,
                            cpu_seconds=min(b[2] for b in base), peak_rss_mb=max(b[3] for b in base),
                            analyze_spread=[min(b[0] for b in base), max(b[0] for b in base)], vms=vms))
            for name, extra in COMMANDS:
                if size not in COMMAND_ONLY_AT.get(name, {size}):
                    continue
                out = Path(tmp) / f"out-{name}"
                cmd = [sys.executable, "-m", "evckit", "check", str(snap), *extra, "-o", str(out)]
                runs = [_child(cmd) for _ in range(repeat)]
                walls = [r[0] for r in runs]
                target = TARGETS.get(name, DEFAULT_TARGET)
                rss = max(r[2] for r in runs)
                size_b = out.stat().st_size
                r = row(f"command-{size}-{name}", min(walls), "analyze() alone", analyze_s,
                        wall_spread=[min(walls), max(walls)], cpu_seconds=min(r[1] for r in runs),
                        peak_rss_mb=rss, output_bytes=size_b, vms=vms, argv=["evckit", "check", "SNAPSHOT", *extra])
                if size == "100k" and target is not None:
                    r["target"] = {"seconds": target[0], "peak_rss_mb": target[1],
                                   **({"output_bytes": 150_000_000} if name == "json" else {})}
                rows.append(r)
    return rows


def main() -> int:
    """Run the benchmarks and print a table or JSON."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small sizes only (about a minute)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--commands", action="store_true", help="only the whole `evckit check` processes")
    p.add_argument("--repeat", type=int, default=3, help="runs of each command (best is reported)")
    a = p.parse_args()
    sizes = ["1k", "10k"] if a.quick else ["1k", "10k", "100k"]
    results: list[dict[str, Any]] = []
    if a.commands:
        results.extend(bench_commands(["1k"] if a.quick else ["10k", "100k"], a.repeat))
        _print(results, None, a.json)
        return 0
    results.append(bench_analysis(sizes[-1], sample=200 if a.quick else 1000))
    results.append(bench_cluster_max(1_000 if a.quick else 10_000))
    results.append(bench_single_check())
    results.append(bench_process(["-m", "evckit", "check", "--example"], "evckit-check-example-process"))
    results.append(bench_process(["-c", "import evckit"], "import-evckit-process"))
    mem, peak = bench_memory(sizes[-1])
    results.extend(mem)
    results.extend(bench_scaling(sizes))
    results.extend(bench_html("1k" if a.quick else sizes[-1]))
    for peer in (bench_archspec(), bench_virsh(100 if a.quick else 1000)):
        if peer is not None:
            results.append(peer)
    results.extend(bench_commands(["1k"] if a.quick else ["10k", "100k"], 1 if a.quick else a.repeat))
    _print(results, peak, a.json)
    return 0


def _print(results: list[dict[str, Any]], peak: float | None, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"benchmarks": results, "peak_rss_mb": peak}, indent=2))
        return
    for r in results:
        speed = f"{1 / r['ratio']:.1f}x faster" if r["ratio"] and r["ratio"] < 1 else f"ratio {r['ratio']:.2f}"
        extra = ""
        if "peak_rss_mb" in r:
            extra = f"  RSS {r['peak_rss_mb']:.0f} MiB"
        if "output_bytes" in r:
            extra += f", {r['output_bytes'] / 1e6:.1f} MB out, CPU {r['cpu_seconds']:.2f} s"
        print(f"{r['name']:<36} {r['seconds']:>12.6f}  vs {r['baseline']}: {r['baseline_seconds']:.6f}  ({speed}){extra}")
    if peak is not None:
        print(f"peak RSS of the process that builds, parses and analyses the largest estate: {peak:.0f} MiB")


if __name__ == "__main__":
    raise SystemExit(main())
