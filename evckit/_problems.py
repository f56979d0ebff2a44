"""One problem collector for every reader of input or data: find all problems, then raise once.

In the manner of packaging's error collector: a reader records each problem with its place and keeps
going, so that one error lists everything wrong with a file instead of the first thing only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import NoReturn

__all__ = ["ProblemCollector"]


class ProblemCollector:
    """Problems found in one input, each a line ``place: place: message`` (empty places left out).

    ``prefix`` (a file name, say) starts every line it records.
    """

    def __init__(self, prefix: str = "") -> None:
        """Start an empty list; ``prefix`` starts every recorded line."""
        self.prefix = prefix
        self.items: list[str] = []

    def add(self, *parts: str) -> None:
        """Record one problem: any number of places (outermost first), then the message."""
        *places, message = parts
        where = [p for p in (self.prefix, *places) if p]
        self.items.append(": ".join((*where, message)))

    def extend(self, lines: Iterable[str]) -> None:
        """Record problems already formatted as lines (from a nested reader)."""
        self.items.extend(lines)

    def __bool__(self) -> bool:
        """True when a problem was recorded."""
        return bool(self.items)

    def __len__(self) -> int:
        """How many problems were recorded."""
        return len(self.items)

    def raise_if_any(self, error: Callable[[list[str]], Exception]) -> None:
        """Raise ``error(items)`` when a problem was recorded."""
        if self.items:
            self.fail(error)

    def fail(self, error: Callable[[list[str]], Exception]) -> NoReturn:
        """Raise ``error(items)``."""
        raise error(self.items)
