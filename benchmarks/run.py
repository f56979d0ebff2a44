"""Speed and memory of evckit at estate scale, each measured against a baseline in the same run.

    python benchmarks/run.py            # everything, up to 100k VMs / 10k hosts / 1,000 clusters
    python benchmarks/run.py --quick    # small sizes only, within a minute
    python benchmarks/run.py --json     # {"benchmarks": [{name, seconds, baseline, baseline_seconds, ratio}], "peak_rss_mb"}

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
from evckit.hosts import common_modes, profile_from_name  # noqa: E402
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


def main() -> int:
    """Run the benchmarks and print a table or JSON."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small sizes only (about a minute)")
    p.add_argument("--json", action="store_true", help="print JSON")
    a = p.parse_args()
    sizes = ["1k", "10k"] if a.quick else ["1k", "10k", "100k"]
    results: list[dict[str, Any]] = []
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
    if a.json:
        print(json.dumps({"benchmarks": results, "peak_rss_mb": peak}, indent=2))
        return 0
    for r in results:
        speed = f"{1 / r['ratio']:.1f}x faster" if r["ratio"] and r["ratio"] < 1 else f"ratio {r['ratio']:.2f}"
        print(f"{r['name']:<36} {r['seconds']:>12.6f}  vs {r['baseline']}: {r['baseline_seconds']:.6f}  ({speed})")
    print(f"peak RSS of the process that builds, parses and analyses the largest estate: {peak:.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
