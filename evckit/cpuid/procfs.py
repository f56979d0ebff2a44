"""Reader of Linux ``/proc/cpuinfo`` (x86): identity and the kernel's flag list of the first processor.

The kernel prints every flag it knows that the CPU has, so a flag missing from the list is absent
(a flag it does not list is absent). Inside a VM the list shows what the hypervisor exposes, flagged ``hypervisor``.
"""

from __future__ import annotations

from evckit.catalog import vendor_word
from evckit.cpuid._dump import NamedFeatures
from evckit.errors import InputError

__all__ = ["FORMAT", "parse_cpuinfo"]

#: Reader name stored in ``NamedFeatures.format``.
FORMAT = "proc-cpuinfo"



def _first_block(text: str) -> dict[str, str]:
    """Return the ``key: value`` fields of the first processor block (keys stripped, first wins)."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if fields:
                break
            continue
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key = key.strip()
        if key == "processor" and "processor" in fields:
            break  # next block without a blank line in between
        fields.setdefault(key, value.strip())
    return fields


def _number(fields: dict[str, str], name: str, source: str) -> int | None:
    """Return a decimal field as int, None if absent or ``unknown``; raise InputError if garbled."""
    text = fields.get(name)
    if text is None or text.lower() in ("", "unknown"):
        return None
    try:
        return int(text, 10)
    except ValueError:
        raise InputError(f"{source}: /proc/cpuinfo field {name!r} = {text!r} is not a number") from None


def parse_cpuinfo(text: str, source: str) -> NamedFeatures:
    """Parse the first processor block of ``/proc/cpuinfo``; raise InputError if it has no flags line."""
    fields = _first_block(text)
    if not fields:
        raise InputError(f"{source}: no processor block found in /proc/cpuinfo text")
    if "flags" not in fields:
        raise InputError(f"{source}: first processor block has no 'flags' line (truncated or not x86)")
    flags = {flag.lower(): 1 for flag in fields["flags"].split()}
    vendor_id = fields.get("vendor_id")
    vendor = vendor_word(vendor_id) if vendor_id else None
    return NamedFeatures(
        source=source,
        format=FORMAT,
        namespace="linux",
        values=flags,
        vendor=vendor,
        family=_number(fields, "cpu family", source),
        model=_number(fields, "model", source),
        stepping=_number(fields, "stepping", source),
        brand=fields.get("model name") or None,
        hypervisor="hypervisor" in flags,
    )
