"""Decoding a snapshot's JSON text, with the arrays an estate repeats decoded once and shared.

At 100,000 VMs a snapshot is mostly ``featureRequirement`` lists: 5,000 VMs carry one of about 80
entries, but a handful of distinct lists, and decoding their 400,000 small objects is two thirds of
``json.loads`` (then validating and freeing them costs as much again). `loads` finds those arrays in
the text, decodes each one met more than once a single time, and decodes the rest of the document
with those arrays replaced by placeholders, which it then replaces by the decoded (shared) lists.
A snapshot whose arrays never repeat costs one search of its text more than ``json.loads``.

The result is exactly ``json.loads(text)`` (same values, same key order), except that equal arrays
are one list object; any exception (a JSON error and its position) is the one ``json.loads(text)``
raises. Why that holds:

- An array is replaced only where ``"KEY"`` follows ``{`` or ``,`` (JSON whitespace between) and is
  followed by ``:`` and ``[``. Inside a JSON string a ``"`` is always escaped, so that quote opens a
  string token, and in valid JSON a string after ``{`` or ``,`` and before ``:`` is an object key.
- The array's text is taken up to the first ``]``; it is used only if it decodes on its own. A text
  cut at a ``]`` inside a string or a nested array ends inside an open string or array, so it never
  decodes: a text that decodes is the whole array value.
- Each placeholder is a string holding a random 128-bit nonce (absent from the text) and its own
  number. The decoded document must hold every placeholder exactly once, as the value of one of
  `KEYS` in a VM or a host's ``cpu``; otherwise (a broken document, a key elsewhere, a repeated key)
  the text is decoded again plainly, and whatever ``json.loads(text)`` says is the answer.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from itertools import compress, count, repeat
from typing import Any

__all__ = ["KEYS", "loads"]

#: Where a snapshot repeats whole arrays: VMs' requirements and masks, hosts' CPU capabilities.
VM_KEYS = ("feature_requirement", "feature_mask")
CPU_KEYS = ("cpu_feature", "feature_capability", "masked_feature_capability")
KEYS = VM_KEYS + CPU_KEYS

_JSON_SPACE = " \t\n\r"
_COLON_BRACKET = re.compile(r"[ \t\n\r]*:[ \t\n\r]*\[")
#: Arrays shorter than this are left to the plain decoder (replacing them gains nothing).
_MIN_ARRAY = 64


def loads(text: str) -> Any:
    """``json.loads(text)``, with repeated `KEYS` arrays decoded once (see the module docstring)."""
    found, keys = _arrays(text)
    first = _first_alike(text, found)
    repeats = Counter(first)
    nonce = os.urandom(16).hex()  # secrets.token_hex(16), without importing secrets (hashlib, random...)
    if not found or max(repeats.values()) < 2 or nonce in text:  # the nonce: never in practice
        return json.loads(text)
    pieces: list[str] = []
    decoded: dict[int, list[Any]] = {}  # an array text (its first place in `found`) -> its (shared) list
    broken: set[int] = set()  # array texts that do not decode on their own
    lists: list[list[Any]] = []  # placeholder number -> list
    pos = 0
    for (start, end), alike in zip(found, first, strict=True):
        if start < pos or repeats[alike] < 2:  # an array met once is left to the plain decoder
            continue
        value = decoded.get(alike)
        if value is None:
            if alike in broken:
                continue
            try:
                value = json.loads(text[start:end])
            except (ValueError, RecursionError):  # not the whole array: leave it to the plain decoder
                broken.add(alike)
                continue
            decoded[alike] = value
        pieces += [text[pos:start], f'"{nonce}{len(lists)}"']
        lists.append(value)
        pos = end
    if not lists:
        return json.loads(text)
    pieces.append(text[pos:])
    try:
        doc = json.loads("".join(pieces))
    except (ValueError, RecursionError):
        return json.loads(text)
    if not _restore(doc, nonce, lists, keys):
        return json.loads(text)
    return doc


#: How many distinct texts of one length `_first_alike` compares a text with; a text equal to none of
#: them is taken as met once (fewer arrays shared, never another document), so that many distinct
#: arrays of one length cost no more than a few comparisons each.
_MAX_ALIKE = 16


def _first_alike(text: str, found: list[tuple[int, int]]) -> list[int]:
    """For each (start, end) of ``found``, the index in ``found`` of the first one with the same text:
    of the same length, then compared in place (no copy and no hash of each text: 20 MB at 100,000 VMs)."""
    by_length: dict[int, list[tuple[str, int]]] = {}
    out: list[int] = []
    append = out.append
    for i, (start, end) in enumerate(found):
        alike = by_length.get(end - start)
        if alike is None:
            alike = by_length[end - start] = []
        for span, j in alike:
            if text.startswith(span, start):
                append(j)
                break
        else:
            if len(alike) < _MAX_ALIKE:
                alike.append((text[start:end], i))
            append(i)
    return out


#: Each key of `KEYS` with the offset of ``feature`` in its quoted form: one search finds them all.
_NEEDLES = tuple((f'"{key}"', f'"{key}"'.index("feature")) for key in KEYS)


def _arrays(text: str) -> tuple[list[tuple[int, int]], set[str]]:
    """The (start, end) of each array text that may be the value of one of `KEYS`, in text order, and
    the keys they follow."""
    found: list[tuple[int, int]] = []
    keys: set[str] = set()
    at = text.find("feature")
    while at >= 0:
        resume = at + 7
        for needle, offset in _NEEDLES:
            key_at = at - offset
            if key_at >= 0 and text.startswith(needle, key_at):
                before = key_at - 1
                while before >= 0 and text[before] in _JSON_SPACE:
                    before -= 1
                m = _COLON_BRACKET.match(text, key_at + len(needle))
                if before >= 0 and text[before] in "{," and m:
                    start = m.end() - 1
                    end = text.find("]", start) + 1
                    if end - start >= _MIN_ARRAY:
                        found.append((start, end))
                        keys.add(needle[1:-1])
                        resume = end  # not inside the array (its entries' "featureName" keys)
                break
        at = text.find("feature", resume)
    return found, keys


def _restore(doc: Any, nonce: str, lists: list[list[Any]], keys: set[str]) -> bool:
    """Put each decoded list where its placeholder is; False unless every placeholder is found exactly
    once, as the value of one of ``keys`` (of `KEYS`) in a VM or a host's ``cpu`` (or when a VM or a
    host is not an object: the plain decoder reads such a document, the schema check then says what
    is wrong)."""
    vm_keys = [k for k in VM_KEYS if k in keys]
    cpu_keys = [k for k in CPU_KEYS if k in keys]
    seen = [False] * len(lists)
    vcenters = doc.get("vcenters") if isinstance(doc, dict) else None
    try:
        for vc in vcenters if isinstance(vcenters, list) else ():
            vms, hosts = vc.get("vms", []), vc.get("hosts", [])  # AttributeError: not an object
            if not isinstance(vms, list) or not isinstance(hosts, list):
                continue
            cpus = [c for c in map(dict.get, hosts, repeat("cpu")) if isinstance(c, dict)] if cpu_keys else []
            for objects, names in ((vms, vm_keys), (cpus, cpu_keys)):
                for key in names:  # dict.get on a VM or host that is not an object: TypeError
                    # Passes in C over 100,000 VMs: each one's value, then where a value is text.
                    values: list[Any] = list(map(dict.get, objects, repeat(key)))
                    for i in compress(count(), map(isinstance, values, repeat(str))):
                        text: str = values[i]
                        if not text.startswith(nonce):
                            continue
                        number = text[len(nonce):]
                        if not (number.isascii() and number.isdigit()) or int(number) >= len(lists) or seen[int(number)]:
                            return False
                        seen[int(number)] = True
                        objects[i][key] = lists[int(number)]
    except (AttributeError, TypeError):
        return False
    return all(seen)
