"""Readers of CPU data: raw CPUID dumps in several formats, vSphere and Linux feature lists."""
