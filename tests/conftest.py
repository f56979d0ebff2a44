"""Shared fixtures: the shipped catalog and the third-party CPUID samples beside the checkout."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from evckit.catalog import Catalog

# No wall-clock limits in tests: these machines are shared and noisy, so Hypothesis's per-example
# deadline is off everywhere (a slow example is not a failure). In CI the examples are derived from
# each test's name (derandomize), so a submission's run is repeatable; elsewhere they vary per run.
settings.register_profile("evckit", deadline=None)
settings.register_profile("evckit-ci", deadline=None, derandomize=True)
settings.load_profile("evckit-ci" if os.environ.get("CI") else "evckit")

#: Third-party CPUID dumps beside the checkout (development machines and CI); never copied here.
SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "cpuid-samples"


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    """The shipped tables."""
    return Catalog.builtin()


@pytest.fixture(scope="session")
def samples() -> Path:
    """The folder of real CPUID dumps beside the checkout; the test skips, saying so, where it is absent.

    Real-CPU conformance does not depend on it: tests/test_real_cpus.py runs on evckit's own table
    of real processors' registers (tests/fixtures/real_cpus.json).
    """
    if not (SAMPLES / "README.md").is_file():
        pytest.skip(f"development CPUID dumps not present at {SAMPLES}")
    return SAMPLES
