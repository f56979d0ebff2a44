"""Shared fixtures: the shipped catalog and the third-party CPUID samples beside the checkout."""

from __future__ import annotations

from pathlib import Path

import pytest

from evckit.catalog import Catalog

#: Third-party CPUID dumps; read at test time from ../shared, never copied into the repository.
SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "cpuid-samples"


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    """The shipped tables."""
    return Catalog.builtin()


@pytest.fixture(scope="session")
def samples() -> Path:
    """The folder of real CPUID dumps; fails loudly when the checkout has no ../shared beside it."""
    if not (SAMPLES / "README.md").is_file():
        pytest.fail(f"CPUID samples not found at {SAMPLES}: tests need ../shared/cpuid-samples")
    return SAMPLES
