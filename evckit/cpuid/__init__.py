"""Readers of CPU data: raw CPUID dumps in several formats, vSphere and Linux feature lists."""

from __future__ import annotations

from evckit.cpuid._dump import CpuidDump, NamedFeatures
from evckit.cpuid.detect import parse_cpu_data, read_cpu_data

__all__ = ["CpuidDump", "NamedFeatures", "parse_cpu_data", "read_cpu_data"]
