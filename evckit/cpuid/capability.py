"""Reader of vSphere feature capability lists (``config.featureCapability``) as JSON.

Each entry is ``{"key": "cpuid.AES", "featureName": "cpuid.AES", "value": "1"}``. The list names only
what vSphere chose to report, so a missing key means unknown.
"""

from __future__ import annotations

from collections.abc import Mapping

from evckit.cpuid._dump import NamedFeatures
from evckit.cpuid._vsphere_json import loads, lower_keys, object_list
from evckit.errors import InputError

__all__ = ["FORMAT", "capability_from_data", "parse_capability", "parse_value"]

#: Reader name stored in ``NamedFeatures.format``.
FORMAT = "vsphere-capability"

_VENDOR_KEYS = (("cpuid.intel", "intel"), ("cpuid.amd", "amd"), ("cpuid.hygon", "hygon"))


def parse_value(text: str) -> int:
    """Parse a capability value: decimal, ``0x`` hex, or ``TRUE``/``FALSE``; raise ValueError if not."""
    word = text.strip()
    if word.lower() == "true":
        return 1
    if word.lower() == "false":
        return 0
    if word.lower().startswith(("0x", "-0x")):
        return int(word, 16)
    return int(word, 10)


def parse_capability(text: str, source: str) -> NamedFeatures:
    """Parse featureCapability JSON text (a list, or an object with ``featureCapability``)."""
    return capability_from_data(loads(text, source), source)


def capability_from_data(data: object, source: str) -> NamedFeatures:
    """Build named vSphere features from decoded featureCapability JSON; keys are lower-cased."""
    values: dict[str, int] = {}
    for index, raw in enumerate(object_list(data, "featureCapability", "featureCapability", source)):
        if not isinstance(raw, Mapping):
            raise InputError(f"{source}: entry {index} is not a JSON object")
        entry = lower_keys(raw)
        key = entry.get("key") or entry.get("featurename")
        if not isinstance(key, str) or not key.strip():
            raise InputError(f"{source}: entry {index} has no 'key' or 'featureName' string")
        key = key.strip().lower()
        value = entry.get("value")
        if isinstance(value, bool):
            number = int(value)
        elif isinstance(value, int):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str):
            try:
                number = parse_value(value)
            except ValueError:
                raise InputError(f"{source}: {key}: value {value!r} is not a number or TRUE/FALSE") from None
        else:
            raise InputError(f"{source}: {key}: value {value!r} is not a string or number")
        if key in values and values[key] != number:
            raise InputError(f"{source}: {key} appears twice with different values")
        values[key] = number

    vendor = next((name for key, name in _VENDOR_KEYS if values.get(key) == 1), None)
    return NamedFeatures(
        source=source,
        format=FORMAT,
        namespace="vsphere",
        values=values,
        vendor=vendor,
        family=values.get("cpuid.family"),
        model=values.get("cpuid.model"),
        stepping=values.get("cpuid.stepping"),
    )
