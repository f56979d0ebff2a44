"""Real-CPU conformance on evckit's own table of real processors' CPUID registers (tests/fixtures/real_cpus.json).

Runs everywhere, with no files beside the checkout. Where the development dumps are present
(``../shared/cpuid-samples``), a second test checks the table still says what they say.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from evckit.catalog import Catalog
from evckit.cpuid import CpuidDump, read_cpu_data
from evckit.cpuid.identity import brand_string, hypervisor, signature, vendor_string
from evckit.assess import assess
from evckit.profiles import profile_from_data

from .conftest import SAMPLES

TABLE = json.loads((Path(__file__).resolve().parent / "fixtures" / "real_cpus.json").read_text(encoding="utf-8"))
CPUS: dict[str, dict[str, Any]] = {c["id"]: c for c in TABLE["cpus"]}


def as_dump(cpu: dict[str, Any]) -> CpuidDump:
    """A table entry as the CpuidDump a reader would have produced."""
    leaves = {}
    for key, regs in cpu["leaves"].items():
        leaf, sub = key.split(".")
        eax, ebx, ecx, edx = (int(r, 16) for r in regs.split())
        leaves[(int(leaf, 16), int(sub))] = (eax, ebx, ecx, edx)
    return CpuidDump(source=cpu["id"], format="real-cpu-table", leaves=leaves)


def test_table_covers_both_vendors_and_every_generation_family() -> None:
    """34 real processors, Intel and AMD, each with its source and an expected mode."""
    assert len(CPUS) == 34
    assert {c["vendor"] for c in CPUS.values()} >= {"GenuineIntel", "AuthenticAMD"}
    for cpu in CPUS.values():
        assert cpu["source"]["repository"] and cpu["source"]["path"] and len(cpu["source"]["commit"]) == 40


@pytest.mark.parametrize("cpu_id", sorted(CPUS))
def test_real_cpu_reaches_expected_mode(catalog: Catalog, cpu_id: str) -> None:
    """Each real processor's registers give the maximum EVC mode its generation and its own bits call for."""
    cpu = CPUS[cpu_id]
    verdict = assess(profile_from_data(as_dump(cpu), catalog), catalog)
    assert verdict.max_mode is not None
    assert verdict.max_mode.key == cpu["expected_max_evc_mode"]


@pytest.mark.parametrize("cpu_id", sorted(CPUS))
def test_real_cpu_identity(cpu_id: str) -> None:
    """Vendor, family/model/stepping and brand decode from the registers as the source names them."""
    cpu = CPUS[cpu_id]
    dump = as_dump(cpu)
    assert vendor_string(dump) == cpu["vendor"]
    assert signature(dump) == tuple(int(x, 16) for x in cpu["family_model_stepping"].split("/"))
    assert brand_string(dump) == cpu["brand"]
    assert hypervisor(dump) is False


@pytest.mark.skipif(not (SAMPLES / "MANIFEST.tsv").is_file(),
                    reason=f"development CPUID dumps not present at {SAMPLES} (the table above still runs)")
@pytest.mark.parametrize("cpu_id", sorted(CPUS))
def test_table_matches_the_source_dumps(cpu_id: str) -> None:
    """Where the dumps are at hand, the table holds exactly the registers evckit reads from each."""
    dump = read_cpu_data(SAMPLES / cpu_id)
    assert isinstance(dump, CpuidDump)
    assert dict(dump.leaves) == dict(as_dump(CPUS[cpu_id]).leaves)
