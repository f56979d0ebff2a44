"""``python -m evckit``: the same as the ``evckit`` command."""

import sys

from evckit.cli import main

sys.exit(main())
