"""Reader of libvirt's CPU test data (``tests/cputestdata/*-cpuid-*.xml``): one ``<cpuid>`` per leaf.

Format: an optional XML comment (normally the brand string), then ``<cpudata arch='x86'>`` holding
``<cpuid eax_in= ecx_in= eax= ebx= ecx= edx=/>`` elements and, in newer files, ``<msr>`` elements
that this reader ignores.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from evckit.cpuid._dump import CpuidDump, Regs
from evckit.cpuid.identity import require_leaf0
from evckit.errors import InputError

__all__ = ["FORMAT", "parse_libvirt"]

#: Reader name stored in ``CpuidDump.format``.
FORMAT = "libvirt-xml"

_COMMENT = re.compile(r"\A\s*(?:<\?xml[^>]*\?>\s*)?<!--(.*?)-->", re.DOTALL)
_ATTRS = ("eax_in", "ecx_in", "eax", "ebx", "ecx", "edx")


def _one_line(text: str) -> str:
    """Collapse whitespace so an embedded parser message stays on one line."""
    return " ".join(text.split())


def _hex32(source: str, where: str, name: str, text: str) -> int:
    """Parse a ``0x…`` attribute as an unsigned 32-bit value or raise InputError naming it."""
    try:
        value = int(text, 16)
    except ValueError:
        value = -1
    if not 0 <= value <= 0xFFFFFFFF:
        msg = f"{source}: {where}: attribute {name}={text!r} is not a 32-bit hex number"
        raise InputError(_one_line(msg))
    return value


def parse_libvirt(text: str, source: str) -> CpuidDump:
    """Parse libvirt CPU test data XML into a dump of one logical CPU; raise InputError if malformed."""
    try:
        root = ET.fromstring(text)
    except (ET.ParseError, ValueError) as exc:
        if "</cpudata>" not in text:
            msg = f"{source}: truncated libvirt CPU data: XML ends before </cpudata>"
        else:
            msg = f"{source}: malformed libvirt CPU data XML: {exc}"
        raise InputError(_one_line(msg)) from None
    if root.tag != "cpudata":
        msg = f"{source}: not libvirt CPU data: root element is <{root.tag}>, expected <cpudata>"
        raise InputError(_one_line(msg))
    arch = root.get("arch", "x86")
    if arch != "x86":
        raise InputError(_one_line(f"{source}: libvirt CPU data for arch {arch!r}; only 'x86' is supported"))

    leaves: dict[tuple[int, int], Regs] = {}
    for index, elem in enumerate(root.iter("cpuid"), start=1):
        where = f"<cpuid> element {index}"
        values: list[int] = []
        for name in _ATTRS:
            raw = elem.get(name)
            if raw is None:
                raise InputError(f"{source}: {where}: missing attribute {name!r}")
            values.append(_hex32(source, where, name, raw))
        key = (values[0], values[1])
        regs: Regs = (values[2], values[3], values[4], values[5])
        if key in leaves and leaves[key] != regs:
            msg = f"{source}: leaf {key[0]:#x} subleaf {key[1]:#x} appears twice with different values"
            raise InputError(msg)
        leaves[key] = regs

    if not leaves:
        raise InputError(f"{source}: libvirt CPU data holds no <cpuid> elements")
    require_leaf0(leaves, source, "libvirt CPU data")
    match = _COMMENT.match(text)
    comment = match.group(1).strip() if match else None
    return CpuidDump(source=source, format=FORMAT, leaves=leaves, comment=comment or None)
