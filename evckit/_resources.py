"""Where the shipped tables live: ``data/`` in a checkout, ``evckit/_data`` in an installed wheel."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["data_dir"]


def data_dir() -> Path:
    """Return the directory holding the shipped tables, for a checkout, editable install or wheel."""
    packaged = Path(str(resources.files("evckit"))) / "_data"
    if packaged.is_dir():
        return packaged
    # A checkout or an editable install: the tables sit beside the package at the top level.
    checkout = Path(__file__).resolve().parent.parent / "data"
    if checkout.is_dir():
        return checkout
    msg = f"evckit data tables not found (looked in {packaged} and {checkout})"
    raise FileNotFoundError(msg)
