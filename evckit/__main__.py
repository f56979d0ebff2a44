"""``python -m evckit``: the same as the ``evckit`` command."""

from evckit.cli import run

run()
