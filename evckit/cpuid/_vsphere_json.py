"""What the two vSphere JSON readers share: finding the list of objects, case-insensitive keys."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from evckit.errors import InputError

__all__ = ["loads", "lower_keys", "object_list"]


def loads(text: str, source: str) -> Any:
    """Decoded JSON, or an `InputError` naming the source."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InputError(f"{source}: invalid JSON: {exc}") from None


def lower_keys(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The entry with lower-cased keys: pyvmomi, PowerCLI and govc spell field names differently."""
    return {str(k).lower(): v for k, v in entry.items()}


def object_list(data: object, key: str, what: str, source: str) -> list[Any]:
    """The non-empty list of objects given bare or under ``{key: [...]}`` (any case); else `InputError`."""
    if isinstance(data, Mapping):
        lowered = lower_keys(data)
        if key.lower() not in lowered:
            raise InputError(f"{source}: JSON object has no '{key}' list of {what}")
        data = lowered[key.lower()]
    if not isinstance(data, list):
        raise InputError(f"{source}: {what} data must be a JSON list of objects")
    if not data:
        raise InputError(f"{source}: {what} list is empty")
    return data
