"""Reader of AIDA64/InstLatx64 CPUID text and of libcpuid's raw dumps (both occur in libcpuid's tests).

Two layouts, one logical CPU read (the first):

* AIDA64: ``CPUID 00000007: EAX-EBX-ECX-EDX [SL 00]`` lines grouped under
  ``------[ Logical CPU #0 ]------`` (or ``CPUID Registers / Logical CPU #0``, or ``CPU#000 AffMask``).
  ``[SL nn]`` gives the subleaf in hex. Older dumps repeat a leaf without it (x5667: leaf 4 four
  times, leaf 0xB twice); those repeats are the subleaves in order 0, 1, 2…, which is what the
  registers show (leaf 4's cache level/type rises, leaf 0xB's ECX echoes the subleaf).
* libcpuid: ``basic_cpuid[N]=eax ebx ecx edx`` (leaf N, ECX=0), ``ext_cpuid[N]`` (leaf 0x80000000+N,
  ECX=0) and per-subleaf arrays: ``intel_fn4[i]`` (leaf 4), ``intel_fn11[i]`` (0xB), ``intel_fn12h[i]``
  (0x12, SGX), ``intel_fn14h[i]`` (0x14, Processor Trace), ``amd_fn8000001dh[i]`` (0x8000001D),
  ``amd_fn80000026h[i]`` (0x80000026). libcpuid runs every index whether or not the CPU has that leaf;
  above the maximum leaf a CPU answers with another leaf's data, so those entries are dropped.

Everything after a line made only of dashes (libcpuid's expected decode results) is ignored.
"""

from __future__ import annotations

import re

from evckit.cpuid._dump import CpuidDump, Regs
from evckit.cpuid.identity import require_leaf0
from evckit.errors import InputError

__all__ = ["FORMAT_AIDA64", "FORMAT_LIBCPUID", "parse_aida64"]

#: Reader names stored in ``CpuidDump.format``.
FORMAT_AIDA64 = "aida64"
FORMAT_LIBCPUID = "libcpuid"

_END = re.compile(r"^\s*-{5,}\s*$")
_CPU_HEADER = re.compile(r"Logical CPU #\s*\d+|^CPU#\d+\s+AffMask")
_AIDA_CANDIDATE = re.compile(r"^CPUID\s+[0-9A-Fa-f]+\s*(?::|$)")
_AIDA_LINE = re.compile(
    r"^CPUID\s+(?P<leaf>[0-9A-Fa-f]{8}):\s+"
    r"(?P<eax>[0-9A-Fa-f]{8})-(?P<ebx>[0-9A-Fa-f]{8})-(?P<ecx>[0-9A-Fa-f]{8})-(?P<edx>[0-9A-Fa-f]{8})"
    r"(?:\s+\[SL\s+(?P<sub>[0-9A-Fa-f]{1,8})\])?(?:\s.*)?$"
)
_LIBCPUID_CANDIDATE = re.compile(r"^(?P<name>[a-z][a-z0-9_]*)\[(?P<index>\d+)\]\s*=")
_LIBCPUID_LINE = re.compile(
    r"^(?P<name>[a-z][a-z0-9_]*)\[(?P<index>\d+)\]\s*=\s*"
    r"(?P<eax>[0-9A-Fa-f]{8})\s+(?P<ebx>[0-9A-Fa-f]{8})\s+(?P<ecx>[0-9A-Fa-f]{8})\s+(?P<edx>[0-9A-Fa-f]{8})\s*$"
)

#: libcpuid arrays indexed by leaf (value: the first leaf).
_LEAF_ARRAYS = {"basic_cpuid": 0x0, "ext_cpuid": 0x80000000}
#: libcpuid arrays indexed by subleaf (value: the leaf).
_SUBLEAF_ARRAYS = {
    "intel_fn4": 0x4,
    "intel_fn11": 0xB,
    "intel_fn12h": 0x12,
    "intel_fn14h": 0x14,
    "amd_fn8000001dh": 0x8000001D,
    "amd_fn80000026h": 0x80000026,
}

#: Leaves that have subleaves. An unmarked repeat of one of them is its next subleaf.
_SUBLEAF_LEAVES = frozenset(
    {0x4, 0x7, 0xB, 0xD, 0xF, 0x10, 0x12, 0x14, 0x17, 0x18, 0x1D, 0x1F, 0x20, 0x23, 0x24}
    | {0x8000001D, 0x80000020, 0x80000026}
)
#: Leaves whose valid subleaves can skip numbers (they follow a bit mask): an unmarked repeat is
#: attributable by position only up to this subleaf; later ones are dropped.
_POSITION_LIMIT = {0xD: 1, 0xF: 1, 0x10: 0, 0x23: 0, 0x80000020: 0}


def _regs(match: re.Match[str]) -> Regs:
    """Return the four named hex registers of a matched line."""
    return (int(match["eax"], 16), int(match["ebx"], 16), int(match["ecx"], 16), int(match["edx"], 16))


def _first_cpu_lines(text: str) -> list[tuple[int, str]]:
    """Return (line number, line) of the first logical CPU, before any dashes-only end line."""
    lines: list[tuple[int, str]] = []
    headers = 0
    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if _END.match(stripped):
            break
        if _CPU_HEADER.search(stripped):
            headers += 1
            if headers > 1:
                break
            continue
        lines.append((lineno, stripped))
    return lines


def parse_aida64(text: str, source: str) -> CpuidDump:
    """Parse AIDA64-style or libcpuid-style CPUID text (first logical CPU); raise InputError if bad."""
    lines = _first_cpu_lines(text)
    for _, line in lines:
        if _LIBCPUID_CANDIDATE.match(line):
            return _parse_libcpuid(lines, source)
        if _AIDA_CANDIDATE.match(line):
            return _parse_aida(lines, source)
    raise InputError(f"{source}: no CPUID register lines found before the end of the first logical CPU")


def _parse_aida(lines: list[tuple[int, str]], source: str) -> CpuidDump:
    """Parse the ``CPUID llllllll: a-b-c-d [SL nn]`` lines of one logical CPU."""
    leaves: dict[tuple[int, int], Regs] = {}
    last_sub: dict[int, int] = {}
    dropped: set[int] = set()
    for lineno, line in lines:
        if not _AIDA_CANDIDATE.match(line):
            continue
        match = _AIDA_LINE.match(line)
        if match is None:
            raise InputError(f"{source}: line {lineno}: malformed or truncated CPUID register line: {line!r}")
        leaf = int(match["leaf"], 16)
        regs = _regs(match)
        if match["sub"] is not None:
            sub = int(match["sub"], 16)
        elif leaf not in last_sub:
            sub = 0
        elif leaf == 0:
            break  # leaf 0 again without a header: the next logical CPU starts
        elif leaf in _SUBLEAF_LEAVES:
            sub = last_sub[leaf] + 1
            if sub > _POSITION_LIMIT.get(leaf, sub):
                dropped.add(leaf)
                continue
        else:
            if leaves.get((leaf, 0)) == regs:
                continue
            msg = f"{source}: line {lineno}: leaf {leaf:#x} (no subleaves) repeated with different values"
            raise InputError(msg)
        key = (leaf, sub)
        if key in leaves and leaves[key] != regs:
            msg = f"{source}: line {lineno}: leaf {leaf:#x} subleaf {sub:#x} appears twice with different values"
            raise InputError(msg)
        leaves[key] = regs
        last_sub[leaf] = sub

    require_leaf0(leaves, source, "AIDA64 CPUID dump")
    notes = tuple(
        f"AIDA64 dump repeats leaf {leaf:#x} without subleaf marks: subleaves after "
        f"{_POSITION_LIMIT[leaf]:#x} cannot be attributed and are left unknown"
        for leaf in sorted(dropped)
    )
    return CpuidDump(source=source, format=FORMAT_AIDA64, leaves=leaves, notes=notes)


def _parse_libcpuid(lines: list[tuple[int, str]], source: str) -> CpuidDump:
    """Parse libcpuid's ``name[i]=eax ebx ecx edx`` arrays of one logical CPU."""
    arrays: dict[str, dict[int, Regs]] = {}
    ignored: set[str] = set()
    for lineno, line in lines:
        candidate = _LIBCPUID_CANDIDATE.match(line)
        if candidate is None:
            continue  # "version=…" and other header lines
        name = candidate["name"]
        if name not in _LEAF_ARRAYS and name not in _SUBLEAF_ARRAYS:
            ignored.add(name)
            continue
        match = _LIBCPUID_LINE.match(line)
        if match is None:
            raise InputError(f"{source}: line {lineno}: malformed or truncated libcpuid line: {line!r}")
        arrays.setdefault(name, {})[int(match["index"])] = _regs(match)

    basic = arrays.get("basic_cpuid", {})
    if 0 not in basic:
        raise InputError(f"{source}: libcpuid dump has no basic_cpuid[0] (CPUID leaf 0): truncated or incomplete")
    if basic[0] == (0, 0, 0, 0):
        raise InputError(f"{source}: libcpuid dump has an all-zero leaf 0: not x86 CPUID data")
    max_basic = basic[0][0]
    ext = arrays.get("ext_cpuid", {})
    max_ext = ext[0][0] if 0 in ext and 0x80000000 <= ext[0][0] <= 0x8000FFFF else None

    def in_range(leaf: int) -> bool:
        """Tell whether the CPU implements ``leaf`` (entries above the maximum are garbage repeats)."""
        if leaf < 0x80000000:
            return leaf <= max_basic
        return max_ext is not None and leaf <= max_ext

    leaves: dict[tuple[int, int], Regs] = {}
    for name, first in _LEAF_ARRAYS.items():
        for index, regs in arrays.get(name, {}).items():
            if in_range(first + index):
                leaves[(first + index, 0)] = regs
    for name, leaf in _SUBLEAF_ARRAYS.items():
        if not in_range(leaf):
            continue
        for index, regs in arrays.get(name, {}).items():
            leaves[(leaf, index)] = regs

    require_leaf0(leaves, source, "libcpuid dump")
    notes: list[str] = []
    single = [leaf for leaf in (0x7, 0xD) if in_range(leaf)]
    if single:
        names = " and ".join(f"{leaf:#x}" for leaf in single)
        notes.append(f"libcpuid raw dump records only subleaf 0 of leaf {names}: their other subleaves are unknown")
    if ignored:
        notes.append("libcpuid arrays not understood and ignored: " + ", ".join(sorted(ignored)))
    return CpuidDump(source=source, format=FORMAT_LIBCPUID, leaves=leaves, notes=tuple(notes))
