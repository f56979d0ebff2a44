"""Exceptions: one base class for everything evckit raises on bad input, a few specific ones.

Every message is one line that names the input and the problem, so the command can print it as is.
"""

from __future__ import annotations

from evckit._text import printable

__all__ = [
    "DataError",
    "EvckitError",
    "InputError",
    "OutputError",
    "SnapshotError",
    "UnknownCpuError",
    "UnknownModeError",
]


class EvckitError(Exception):
    """Base class of every error evckit raises because of its input or its data.

    Its text is always one line: control characters that came from the input (a VM named with a
    newline or a terminal escape sequence) are escaped, never printed.
    """

    def __str__(self) -> str:
        return printable(super().__str__())


class DataError(EvckitError, ValueError):
    """The shipped (or user-supplied) data tables are inconsistent; lists every problem found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        head = f"{len(self.problems)} problem(s) in the data tables"
        super().__init__(head + ": " + "; ".join(self.problems))


class InputError(EvckitError, ValueError):
    """A file or value given by the user cannot be read: missing, malformed, truncated, unrecognised."""


class OutputError(EvckitError):
    """A report or file evckit was asked to write cannot be written (missing directory, no permission,
    disk full); nothing is left half-written."""


class UnknownModeError(EvckitError, KeyError):
    """An EVC mode key that the catalog does not know."""

    def __str__(self) -> str:  # KeyError would quote the whole message
        return printable(str(self.args[0])) if self.args else ""


class UnknownCpuError(EvckitError, ValueError):
    """A CPU product name or codename that evckit cannot resolve to a generation."""


class SnapshotError(InputError):
    """An inventory snapshot is invalid; lists every problem with its place."""

    #: At most this many problems are written in the message (`problems` has them all).
    SHOWN = 20

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = list(problems)
        shown = self.problems[: self.SHOWN]
        more = len(self.problems) - len(shown)
        super().__init__(f"{source}: " + "; ".join(shown) + (f"; and {more} more problem(s)" if more else ""))
