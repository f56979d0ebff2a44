"""Reader of ``cpuid -r`` output (Debian's ``cpuid`` tool): raw leaves per logical CPU.

Format: a ``CPU n:`` header per logical CPU, then ``   0xLLLLLLLL 0xSS: eax=0x… ebx=0x… ecx=0x… edx=0x…``
lines (leaf, subleaf, registers). Only the first CPU is read; other lines are tolerated.
"""

from __future__ import annotations

import re

from evckit.cpuid._dump import CpuidDump, Regs
from evckit.cpuid.identity import require_leaf0
from evckit.errors import InputError

__all__ = ["FORMAT", "parse_cpuid_r"]

#: Reader name stored in ``CpuidDump.format``.
FORMAT = "cpuid-r"

_HEADER = re.compile(r"^CPU(?:\s+\d+)?:\s*$")
_LOOKS_LIKE_REGS = re.compile(r"^\s*0x[0-9a-fA-F]")
# The tool prints every register as exactly 8 hex digits: a shorter one means a cut line.
_REGS = re.compile(
    r"^\s*0x(?P<leaf>[0-9a-fA-F]{8})\s+0x(?P<sub>[0-9a-fA-F]{2,8}):"
    r"\s+eax=0x(?P<eax>[0-9a-fA-F]{8})\s+ebx=0x(?P<ebx>[0-9a-fA-F]{8})"
    r"\s+ecx=0x(?P<ecx>[0-9a-fA-F]{8})\s+edx=0x(?P<edx>[0-9a-fA-F]{8})\s*$"
)


def parse_cpuid_r(text: str, source: str) -> CpuidDump:
    """Parse ``cpuid -r`` text into the dump of its first logical CPU; raise InputError if malformed."""
    leaves: dict[tuple[int, int], Regs] = {}
    headers = 0
    for lineno, line in enumerate(text.splitlines(), start=1):
        if _HEADER.match(line):
            headers += 1
            if headers > 1 and leaves:
                break  # the next logical CPU: only the first one is read
            continue
        if not _LOOKS_LIKE_REGS.match(line):
            continue  # "(multiprocessing synth)", blank lines and other decorations
        match = _REGS.match(line)
        if match is None:
            msg = f"{source}: line {lineno}: malformed or truncated cpuid -r register line: {line.strip()!r}"
            raise InputError(msg)
        key = (int(match["leaf"], 16), int(match["sub"], 16))
        regs: Regs = (
            int(match["eax"], 16),
            int(match["ebx"], 16),
            int(match["ecx"], 16),
            int(match["edx"], 16),
        )
        if key in leaves and leaves[key] != regs:
            msg = (
                f"{source}: line {lineno}: leaf {key[0]:#x} subleaf {key[1]:#x} appears twice "
                "with different values"
            )
            raise InputError(msg)
        leaves[key] = regs

    if not leaves:
        raise InputError(f"{source}: no cpuid -r register lines found (truncated?)")
    require_leaf0(leaves, source, "cpuid -r output")
    return CpuidDump(source=source, format=FORMAT, leaves=leaves)
