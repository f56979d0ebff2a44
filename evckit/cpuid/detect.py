"""Read CPU data from a file or text, recognising its format from the content (never the file name).

Formats understood: libvirt CPU XML, ``cpuid -r``, AIDA64/InstLatx64 and libcpuid dumps, vSphere
HostCpuIdInfo JSON and featureCapability JSON, Linux ``/proc/cpuinfo``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping

from evckit._files import read_regular_file
from evckit.cpuid._dump import CpuidDump, NamedFeatures
from evckit.cpuid.aida64 import parse_aida64
from evckit.cpuid.capability import capability_from_data
from evckit.cpuid.cpuid_tool import parse_cpuid_r
from evckit.cpuid.hostcpuid import hostcpuid_from_data
from evckit.cpuid.libvirt import parse_libvirt
from evckit.cpuid.procfs import parse_cpuinfo
from evckit.errors import InputError

__all__ = ["FORMATS_UNDERSTOOD", "parse_cpu_data", "read_cpu_data"]

#: Human-readable list used in "unrecognised format" messages.
FORMATS_UNDERSTOOD = (
    "libvirt CPU XML (<cpudata>), cpuid -r output, AIDA64/InstLatx64 or libcpuid CPUID dump, "
    "vSphere HostCpuIdInfo JSON, vSphere featureCapability JSON, Linux /proc/cpuinfo"
)

_CPUID_R = re.compile(r"^\s*0x[0-9a-fA-F]+\s+0x[0-9a-fA-F]+:\s+eax=", re.MULTILINE)
_CPU_HEADER = re.compile(r"^CPU(?:\s+\d+)?:\s*$", re.MULTILINE)
_AIDA = re.compile(r"^\s*(?:CPUID\s+[0-9A-Fa-f]{8}:|basic_cpuid\[)", re.MULTILINE)
_PROCFS = re.compile(r"^(?:processor|vendor_id)\s*:", re.MULTILINE)


#: The largest CPU data file evckit reads: real dumps are a few kB to a few hundred kB.
MAX_CPU_DATA_BYTES = 16 * 1024 * 1024


def read_cpu_data(path: str | os.PathLike[str]) -> CpuidDump | NamedFeatures:
    """Read a CPU data file of any understood format; raise InputError (one line) if it cannot."""
    source = os.fspath(path)
    raw = read_regular_file(source, MAX_CPU_DATA_BYTES, "a CPU data file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{source}: not UTF-8 text (binary file?): bad byte at offset {exc.start}") from None
    return parse_cpu_data(text, source)


def parse_cpu_data(text: str, source: str) -> CpuidDump | NamedFeatures:
    """Recognise the format of ``text`` and parse it; ``source`` names it in every message."""
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise InputError(f"{source}: empty file: no CPU data")
    if "\x00" in text:
        raise InputError(f"{source}: binary data, not a CPU data text file")
    head = text.lstrip()
    if head[0] in "[{":
        return _parse_json(text, source)
    if "<cpudata" in text:
        return parse_libvirt(text, source)
    if _CPUID_R.search(text) or (_CPU_HEADER.search(text) and "eax=" in text):
        return parse_cpuid_r(text, source)
    if _AIDA.search(text):
        return parse_aida64(text, source)
    if _PROCFS.search(text):
        return parse_cpuinfo(text, source)
    if head.startswith("<"):
        msg = f"{source}: XML without <cpudata>: not libvirt CPU data; formats understood: {FORMATS_UNDERSTOOD}"
        raise InputError(msg)
    raise InputError(f"{source}: unrecognised CPU data format; formats understood: {FORMATS_UNDERSTOOD}")


def _parse_json(text: str, source: str) -> CpuidDump | NamedFeatures:
    """Decode JSON and hand it to the HostCpuIdInfo or featureCapability reader by its shape."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InputError(f"{source}: invalid JSON: {exc}") from None
    if isinstance(data, Mapping):
        keys = {str(k).lower() for k in data}
        if "cpufeature" in keys:
            return hostcpuid_from_data(data, source)
        if "featurecapability" in keys:
            return capability_from_data(data, source)
    elif isinstance(data, list) and data and isinstance(data[0], Mapping):
        keys = {str(k).lower() for k in data[0]}
        if "level" in keys:
            return hostcpuid_from_data(data, source)
        if "key" in keys or "featurename" in keys:
            return capability_from_data(data, source)
    msg = (
        f"{source}: JSON of unrecognised shape: expected a list of HostCpuIdInfo objects (with 'level') "
        "or of featureCapability objects (with 'key'), or an object holding 'cpuFeature' or 'featureCapability'"
    )
    raise InputError(msg)
