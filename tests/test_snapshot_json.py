"""The snapshot decoder (`evckit._snapshot_json.loads`) is ``json.loads``: same values, same key order,
same exception and message for a broken text; only equal repeated arrays become one shared list.

Checked on the example, on generated estates, and on texts built to confuse a text-level search:
the key inside strings, ``]`` inside strings, nested arrays, repeated keys, the key elsewhere than a
VM or a host's CPU, and random one-character damage to all of these.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evckit._resources import data_dir
from evckit._schema import snapshot_problems
from evckit._snapshot_json import KEYS, loads
from evckit.errors import SnapshotError
from evckit.inventory import load_snapshot, parse_snapshot

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from generate import estate

EXAMPLE_TEXT = (data_dir() / "examples" / "estate.json").read_text(encoding="utf-8")
ENTRIES = [{"key": f"cpuid.F{i}", "featureName": f"f{i}", "value": "Bool:Min:1"} for i in range(6)]


def outcome(fn: Any, text: str) -> tuple[str, str]:
    """What decoding ``text`` gives: the document written back with its key order, or the exception."""
    try:
        return "ok", json.dumps(fn(text))
    except (ValueError, RecursionError) as exc:
        return type(exc).__name__, str(exc)


def assert_same(text: str) -> None:
    """`loads` decides ``text`` exactly as json.loads does."""
    assert outcome(loads, text) == outcome(json.loads, text)


def test_example_and_generated_estates_decode_as_json_loads() -> None:
    """The shipped example and generated estates (indented or not) decode to the same document."""
    assert_same(EXAMPLE_TEXT)
    doc = estate(2000, 200, seed=3)
    for indent in (None, 1):
        assert_same(json.dumps(doc, indent=indent))


def test_equal_arrays_are_shared() -> None:
    """VMs with equal requirement lists get one list object; the document is otherwise json.loads'."""
    doc = estate(2000, 200, seed=3)
    text = json.dumps(doc)
    got = loads(text)
    lists = [v["feature_requirement"] for vc in got["vcenters"] for v in vc["vms"] if "feature_requirement" in v]
    assert len(lists) > 20 and len({id(x) for x in lists}) < len(lists)
    assert len({id(x) for x in lists}) == len({json.dumps(x) for x in lists})


def test_host_capabilities_are_shared() -> None:
    """Hosts' CPU capability lists (a collected snapshot) are decoded once per distinct text too."""
    doc = json.loads(EXAMPLE_TEXT)
    for host in doc["vcenters"][0]["hosts"][:3]:
        host["cpu"]["feature_capability"] = ENTRIES
    got = loads(json.dumps(doc))
    caps = [h["cpu"]["feature_capability"] for h in got["vcenters"][0]["hosts"][:3]]
    assert caps[0] == ENTRIES and caps[0] is caps[1] is caps[2]


def _vm(name: str, fr: Any) -> dict[str, Any]:
    return {"name": name, "host": "h", "power_state": "poweredOn", "hardware_version": "vmx-19",
            "feature_requirement": fr}


TRICKY_STRINGS = ['"feature_requirement": [', "]", "[", '\\"', "\\", ',"feature_mask":[1,2,3]', "{", "}",
                  "feature_requirement", "é\u2028", "\x00"]
tricky_text = st.one_of(st.sampled_from(TRICKY_STRINGS), st.text(max_size=6))
entry = st.fixed_dictionaries({"key": tricky_text, "value": st.one_of(tricky_text, st.integers())},
                              optional={"featureName": st.one_of(tricky_text, st.lists(st.integers(), max_size=2))})
array = st.one_of(st.just(ENTRIES), st.lists(entry, max_size=4))


@st.composite
def tricky_texts(draw: st.DrawFn) -> str:
    """A snapshot-like text with KEYS arrays in VMs, hosts and elsewhere, strings that look like them,
    repeated keys and JSON whitespace; sometimes damaged by one character."""
    vms = [_vm(draw(tricky_text) or "v", draw(array)) for _ in range(draw(st.integers(1, 4)))]
    doc: dict[str, Any] = {"evckit_snapshot": 1, "vcenters": [{
        "name": draw(tricky_text), "clusters": [{"name": "c", draw(st.sampled_from(KEYS)): draw(array)}],
        "hosts": [{"name": "h", "cpu": {"model": draw(tricky_text), "feature_capability": draw(array)}}],
        "vms": vms}]}
    text = json.dumps(doc, indent=draw(st.sampled_from([None, 0, 2])), ensure_ascii=draw(st.booleans()))
    if draw(st.booleans()):  # a repeated key: json.loads keeps the last value
        text = text.replace('"feature_requirement":', '"feature_requirement": [], "feature_requirement":', 1)
    if draw(st.booleans()) and text:
        at = draw(st.integers(0, len(text) - 1))
        text = text[:at] + draw(st.sampled_from(["", "]", "[", '"', ",", "\\", " ", "}"])) + text[at + 1:]
    return text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tricky_texts())
def test_tricky_texts_decode_as_json_loads(text: str) -> None:
    """Whatever the text, `loads` gives json.loads' document, or its exception and message."""
    assert_same(text)


@pytest.mark.parametrize("text", [
    # the key inside a string value, with and without a real array after it
    '{"a": "x, \\"feature_requirement\\": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19]"}',
    # an array whose first "]" is inside a string, and one with a nested array
    '{"vcenters": [{"vms": [{"feature_requirement": [{"key": "]", "value": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}]}]}]}',
    '{"vcenters": [{"vms": [{"feature_requirement": [[1], {"key": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}]}]}]}',
    # a repeated key, and the key in a cluster (not where arrays are restored)
    '{"vcenters": [{"vms": [{"feature_requirement": [{"key": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}],'
    ' "feature_requirement": [{"key": "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}]}]}]}',
    '{"vcenters": [{"clusters": [{"feature_mask": [{"key": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}]}]}]}',
    # broken documents: the error and its position are json.loads'
    '{"vcenters": [{"vms": [{"feature_requirement": [{"key": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}]}]}]',
    '{"vcenters": [{"vms": [{"feature_requirement": [{"key": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}] "x": 1}]}]}',
    '{"vcenters": [{"vms": [{"feature_requirement": [{"key": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},]}]}]}',
    # a VM that is not an object beside one whose array is replaced
    '{"vcenters": [{"vms": [1, {"feature_requirement": [{"key": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}]}]}]}',
])
def test_confusing_texts_decode_as_json_loads(text: str) -> None:
    """Texts built against a text-level search decode exactly as json.loads decodes them."""
    assert_same(text)


def test_loading_shared_lists_matches_loading_separate_ones(tmp_path: Path) -> None:
    """The inventory read from a file (shared lists) equals the one parsed from json.loads' document,
    and a broken entry in a repeated list is reported at every VM that has it."""
    doc = estate(1500, 150, seed=9)
    path = tmp_path / "estate.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    assert load_snapshot(path).vms == parse_snapshot(json.loads(path.read_text()), str(path)).vms
    vms = [v for v in doc["vcenters"][0]["vms"] if "feature_requirement" in v]
    bad = [{"key": "cpuid.SSE3", "value": "Bool:Least:1"}, *vms[0]["feature_requirement"]]
    for v in vms[:2]:
        v["feature_requirement"] = bad
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(SnapshotError) as info:
        load_snapshot(path)
    with pytest.raises(SnapshotError) as plain:
        parse_snapshot(json.loads(path.read_text()), str(path))
    assert str(info.value) == str(plain.value) and str(info.value).count("Bool:Least:1") == 2


def test_schema_checks_a_shared_invalid_list_at_each_place() -> None:
    """The schema check skips an array object it already found valid at the same place, never an
    invalid one: a shared bad list is reported at every VM, as when the lists are separate."""
    doc = json.loads(EXAMPLE_TEXT)
    vms = doc["vcenters"][0]["vms"]
    good, bad = ENTRIES, [*ENTRIES, {"key": "cpuid.X", "value": True}]
    vms[0]["feature_requirement"] = vms[1]["feature_requirement"] = good
    vms[2]["feature_requirement"] = vms[3]["feature_requirement"] = bad
    problems = snapshot_problems(doc)
    assert problems == snapshot_problems(copy.deepcopy(doc))
    assert [p for p, _ in problems] == [("vcenters", 0, "vms", i, "feature_requirement", 6, "value") for i in (2, 3)]


@settings(max_examples=200, deadline=None)
@given(words=st.lists(st.sampled_from(["[1]", "[2]", "[10]", "[1, 2]", "[2, 1]", "[12]", "[]"]), max_size=30))
def test_equal_array_texts_are_found_in_place(words: list[str]) -> None:
    """`_first_alike` (equal texts found by length, then compared in place) names for each span the
    first span with the same text, as comparing the texts themselves does."""
    from evckit._snapshot_json import _first_alike  # noqa: PLC0415

    text, found = "", []
    for w in words:
        found.append((len(text) + 1, len(text) + 1 + len(w)))
        text += " " + w
    spans = [text[a:b] for a, b in found]
    assert _first_alike(text, found) == [spans.index(s) for s in spans]


def test_many_distinct_arrays_of_one_length_are_compared_a_few_times_and_decode_as_json_loads() -> None:
    """Past `_MAX_ALIKE` distinct texts of one length, a text is taken as met once (not shared): the
    document is still exactly json.loads's."""
    from evckit import _snapshot_json  # noqa: PLC0415

    n = _snapshot_json._MAX_ALIKE + 5
    entries = [[{"key": f"cpuid.K{i:03d}", "value": "Bool:Min:1"}] * 3 for i in range(n)]
    vms = [{"name": f"vm{i}-{j}", "host": "h", "power_state": "poweredOn", "hardware_version": "vmx-19",
            "feature_requirement": entries[i]} for i in range(n) for j in range(2)]
    text = json.dumps({"evckit_snapshot": 1, "vcenters": [{"name": "vc", "vms": vms}]})
    found, _ = _snapshot_json._arrays(text)
    first = _snapshot_json._first_alike(text, found)
    assert first[:2 * _snapshot_json._MAX_ALIKE:2] == first[1:2 * _snapshot_json._MAX_ALIKE:2]  # shared
    assert first[-2:] == [len(found) - 2, len(found) - 1]  # past the limit: each its own
    doc = loads(text)
    assert doc == json.loads(text)
    got = doc["vcenters"][0]["vms"]
    assert got[0]["feature_requirement"] is got[1]["feature_requirement"]
    assert got[-1]["feature_requirement"] is not got[-2]["feature_requirement"]
