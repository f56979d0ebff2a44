"""Hypothesis strategies over a small test registry, so shrunk examples stay readable."""

from __future__ import annotations

from hypothesis import strategies as st

from evckit.features import CpuidPosition, Feature, FeatureRegistry, FeatureSet

NAMES = ("sse3", "ssse3", "sse41", "sse42", "popcnt", "aes", "avx", "avx2", "bmi1", "bmi2", "adx", "sha")


def _feature(i: int, name: str) -> Feature:
    return Feature(
        name=name, index=i, label=name.upper(), kind="cpuid", vsphere_keys=(f"cpuid.{name.upper()}",),
        linux=name, libvirt=name, cpuid=(CpuidPosition(1, 0, "ecx", i),), xsave_component=None,
        vendor_string=None, monitor_support="YES", hw_version=4, sources=("TEST",), confidence="confirmed",
    )


REG = FeatureRegistry(_feature(i, n) for i, n in enumerate(NAMES))

masks = st.integers(min_value=0, max_value=(1 << len(NAMES)) - 1)
feature_sets = st.builds(FeatureSet, st.just(REG), masks)
name_lists = st.lists(st.sampled_from(NAMES), unique=True)
