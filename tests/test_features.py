"""FeatureSet: every operation agrees with a frozenset-of-names oracle."""

from __future__ import annotations

import pytest
from hypothesis import given

from evckit.errors import InputError
from evckit.features import FeatureSet, iter_bits

from .strategies import NAMES, REG, feature_sets, masks, name_lists


def oracle(fs: FeatureSet) -> frozenset[str]:
    """The frozenset of names a feature set stands for."""
    return frozenset(fs)


@given(feature_sets, feature_sets)
def test_binary_operators_match_frozenset(a: FeatureSet, b: FeatureSet) -> None:
    """&, |, - and ^ give the same names as the frozenset operators."""
    assert oracle(a & b) == oracle(a) & oracle(b)
    assert oracle(a | b) == oracle(a) | oracle(b)
    assert oracle(a - b) == oracle(a) - oracle(b)
    assert oracle(a ^ b) == oracle(a) ^ oracle(b)


@given(feature_sets, feature_sets)
def test_comparisons_match_frozenset(a: FeatureSet, b: FeatureSet) -> None:
    """Subset, superset, strict variants, disjointness and equality follow frozenset."""
    sa, sb = oracle(a), oracle(b)
    assert (a <= b) == (sa <= sb)
    assert (a < b) == (sa < sb)
    assert (a >= b) == (sa >= sb)
    assert (a > b) == (sa > sb)
    assert a.issubset(b) == sa.issubset(sb)
    assert a.issuperset(b) == sa.issuperset(sb)
    assert a.isdisjoint(b) == sa.isdisjoint(sb)
    assert (a == b) == (sa == sb)


@given(feature_sets)
def test_len_membership_iteration(a: FeatureSet) -> None:
    """len is the popcount, membership and iteration give the same names, in catalog order."""
    names = list(a)
    assert len(a) == len(names) == bin(a.mask).count("1")
    assert names == [n for n in NAMES if n in a]
    assert bool(a) == bool(names)


@given(name_lists)
def test_names_round_trip(names: list[str]) -> None:
    """Names -> FeatureSet -> names gives the same set back."""
    assert set(REG.from_names(names)) == set(names)


@given(name_lists)
def test_vsphere_keys_in_any_case(names: list[str]) -> None:
    """vSphere keys are matched case-insensitively (cpuid.AES == cpuid.aes)."""
    upper = REG.from_vsphere_keys(f"cpuid.{n.upper()}" for n in names)
    lower = REG.from_vsphere_keys(f"CPUID.{n.lower()}" for n in names)
    assert upper == lower == REG.from_names(names)


@given(masks)
def test_registers_round_trip(mask: int) -> None:
    """A FeatureSet read from raw register values has exactly the bits that were set."""
    fs = REG.from_registers({(1, 0): (0, 0, mask, 0)})
    assert fs.mask == mask


@given(feature_sets, feature_sets)
def test_de_morgan(a: FeatureSet, b: FeatureSet) -> None:
    """Complements within the universe obey De Morgan's laws."""
    universe = FeatureSet(REG, (1 << len(NAMES)) - 1)
    assert universe - (a | b) == (universe - a) & (universe - b)
    assert universe - (a & b) == (universe - a) | (universe - b)


@given(masks)
def test_iter_bits(mask: int) -> None:
    """iter_bits lists set bits lowest first."""
    assert list(iter_bits(mask)) == [i for i in range(mask.bit_length()) if mask >> i & 1]


def test_unknown_names_are_errors() -> None:
    """An unknown feature name or vSphere key is an InputError naming it."""
    with pytest.raises(InputError, match="'nosuch'"):
        REG.from_names(["nosuch"])
    with pytest.raises(InputError, match="cpuid.NOSUCH"):
        REG.from_vsphere_keys(["cpuid.NOSUCH"])


def test_hash_and_repr() -> None:
    """Equal sets hash equal; repr lists names."""
    a, b = REG.from_names(["avx", "aes"]), REG.from_names(["aes", "avx"])
    assert hash(a) == hash(b) and {a, b} == {a}
    assert repr(a) == "FeatureSet(['aes', 'avx'])"
