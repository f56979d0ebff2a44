"""evckit's version, read from the installed package metadata on first use (importlib.metadata is slow
to import, and only JSON reports need the version)."""

from __future__ import annotations

import functools

__all__ = ["version"]


@functools.cache
def version() -> str:
    """The installed evckit version, or ``0.0.0`` when running from a checkout without installing."""
    from importlib.metadata import PackageNotFoundError, version as dist_version  # noqa: PLC0415

    try:
        return dist_version("evckit")
    except PackageNotFoundError:
        return "0.0.0"
