"""What validating a snapshot with the shipped JSON Schema costs, as a share of loading it.

    python benchmarks/schema_cost.py            # 100,000 VMs / 10,000 hosts
    python benchmarks/schema_cost.py --vms 10000 --hosts 1000

Loading is what `evckit check FILE` does before analysing: read the file, decode the JSON, validate
it with the schema, build the inventory. The validation share must stay under 10 % (issue #11);
the figure is reported, not asserted (timings are the best of several runs on the same machine).
The loader's check leaves the VMs to its VM reader (``vms=False``); the full check is reported too.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from generate import estate  # noqa: E402

from evckit._schema import snapshot_problems  # noqa: E402
from evckit.catalog import Catalog  # noqa: E402
from evckit.inventory import load_snapshot  # noqa: E402


def best(fn: object, repeat: int) -> float:
    """The best wall time of ``repeat`` calls."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    """Measure and print the share."""
    ap = argparse.ArgumentParser(allow_abbrev=False)
    ap.add_argument("--vms", type=int, default=100_000)
    ap.add_argument("--hosts", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    Catalog.builtin()
    doc = estate(args.vms, args.hosts)
    assert snapshot_problems(doc) == []
    with tempfile.TemporaryDirectory(prefix="evckit-bench-") as tmp:
        path = Path(tmp) / "estate.json"
        path.write_text(json.dumps(doc), encoding="utf-8")
        load = best(lambda: load_snapshot(path), args.repeat)
    schema = best(lambda: snapshot_problems(doc, vms=False), args.repeat)
    full = best(lambda: snapshot_problems(doc), args.repeat)
    print(json.dumps({"vms": args.vms, "hosts": args.hosts, "load_seconds": round(load, 3),
                      "schema_seconds": round(schema, 3), "schema_share": round(schema / load, 3),
                      "full_schema_seconds": round(full, 3)}))


if __name__ == "__main__":
    main()
