"""Readers of CPU data: raw CPUID dumps in several formats, vSphere and Linux feature lists.

The readers load on first use of `read_cpu_data` / `parse_cpu_data` (PEP 562): an analysis of
snapshots that carry no raw CPU data never pays for them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from evckit.cpuid._dump import CpuidDump, NamedFeatures

if TYPE_CHECKING:
    from evckit.cpuid.detect import parse_cpu_data, read_cpu_data

__all__ = ["CpuidDump", "NamedFeatures", "parse_cpu_data", "read_cpu_data"]


def __getattr__(name: str) -> Any:
    if name in ("parse_cpu_data", "read_cpu_data"):
        from evckit.cpuid import detect  # noqa: PLC0415

        return getattr(detect, name)
    raise AttributeError(f"module 'evckit.cpuid' has no attribute {name!r}")
