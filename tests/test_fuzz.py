"""Structural fuzzing, in-process and bounded (issue #11): mutated snapshots and random command lines.

- The compiled schema validator decides every mutated snapshot exactly as the reference JSON Schema
  implementation (jsonschema) does: one definition of the snapshot's types, no drift.
- Loading a mutated snapshot either works or raises `EvckitError` with a one-line message; the
  command exits 0 or 2 with one line on stderr, never a traceback, never 70.
- Random command lines exit 0, 1 or 2, never 70, and every error is one line.
"""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evckit._resources import data_dir
from evckit._schema import snapshot_problems
from evckit.cli import main
from evckit.errors import EvckitError
from evckit.inventory import parse_snapshot

SCHEMA = json.loads((data_dir() / "snapshot.schema.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
EXAMPLE = json.loads((data_dir() / "examples" / "estate.json").read_text(encoding="utf-8"))
BOUNDED = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# JSON values, small: what a hand-edited or hostile snapshot may put anywhere.
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12),
    st.sampled_from(["", "false", "true", "1", "19", "vmx-19", "vmx--5", "8.0.2", "1.0", "poweredOn", "on",
                     "connected", "intel-icelake", "esx-gold-1", "gold", "a\nb", "\x1b[31m", "=cmd|'/c calc'!A1"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                      st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                      max_leaves=8)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*path, i))
    return out


EXAMPLE_PATHS = _paths(EXAMPLE)


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    """The example estate with one to three structural mutations at random places."""
    doc = copy.deepcopy(EXAMPLE)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(EXAMPLE_PATHS))
        parent: Any = None
        node: Any = doc
        try:
            for key in path:
                parent, node = node, node[key]
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed this place
        if parent is not None and not isinstance(parent, (dict, list)):
            continue  # an earlier mutation made it text: "abc"[0] reads, but cannot be assigned to
        kind = draw(st.sampled_from(["replace", "delete", "wrap", "nest", "huge"]))
        if kind == "replace":
            new: Any = draw(values)
        elif kind == "wrap":
            new = [node] if draw(st.booleans()) else {"value": node}
        elif kind == "nest":
            new = node
            for _ in range(draw(st.integers(50, 400))):
                new = [new]
        elif kind == "huge":
            new = draw(st.sampled_from(["9" * 5000, "x" * 100_000, 10**400, -(10**30), 1e308]))
        if parent is None:
            doc = new if kind != "delete" else {}
        elif kind == "delete":
            if isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                del parent[path[-1]]
        else:
            parent[path[-1]] = new
    return doc


@BOUNDED
@given(mutated())
def test_validator_decides_as_jsonschema(doc: Any) -> None:
    """The loader's schema check and the reference implementation accept exactly the same documents."""
    assert (not snapshot_problems(doc)) == VALIDATOR.is_valid(doc)


@BOUNDED
@given(mutated())
def test_validator_without_vms_reports_all_but_the_vms(doc: Any) -> None:
    """``snapshot_problems(doc, vms=False)``, the loader's first check (its VM reader checks the VMs):
    the whole check's problems, in order, but those inside a VM (an item of a vCenter's ``vms``)."""
    def in_a_vm(path: tuple[Any, ...]) -> bool:
        return len(path) >= 4 and path[0] == "vcenters" and path[2] == "vms"
    assert snapshot_problems(doc, vms=False) == [p for p in snapshot_problems(doc) if not in_a_vm(p[0])]


@BOUNDED
@given(mutated())
def test_checks_compiled_ahead_decide_as_compiled_now(doc: Any) -> None:
    """The checks the loader imports (``evckit/_schema_checks.py``, compiled ahead of time) find exactly
    the problems of the checks compiled from the schema in this process, both variants."""
    from evckit._schema import VM_REF, compile_schema  # noqa: PLC0415

    assert snapshot_problems(doc) == (NOW(doc) or [])
    assert snapshot_problems(doc, vms=False) == (compile_schema(SCHEMA, {VM_REF})(doc) or [])


def _now() -> Any:
    from evckit._schema import compile_schema  # noqa: PLC0415

    return compile_schema(SCHEMA)


NOW = _now()


@BOUNDED
@given(mutated())
def test_mutated_snapshot_loads_or_fails_in_one_line(doc: Any) -> None:
    """parse_snapshot: an inventory, or an EvckitError whose message is one line."""
    try:
        parse_snapshot(doc, "fuzz.json")
    except EvckitError as exc:
        text = str(exc)
        assert "\n" not in text and "\r" not in text and text.startswith("fuzz.json")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(doc=mutated())
def test_mutated_snapshot_command_status(doc: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`evckit check FILE` on a mutated snapshot: 0 or 2, and a failure is one line on stderr."""
    path = tmp_path / "fuzz.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    status = main(["check", str(path), "--format", "json"])
    out, err = capsys.readouterr()
    assert status in (0, 2), err
    if status == 2:
        assert out == "" and err.count("\n") == 1 and err.startswith("evckit: error: ")


WORDS = ["modes", "host", "check", "collect", "--example", "--format", "json", "csv", "markdown", "table",
         "--vm", "--cluster", "--explain", "--fail-on", "incompatible", "--add-host", "--replace-hosts",
         "--remove-host", "--compare-cpus", "--new-host-esxi", "--new-host-prefix", "--cpu", "--esxi", "--diff",
         "--vendor", "intel", "amd", "intel-icelake", "amd-zen4", "gold", "gold=Xeon Gold 6430x2", "epyc=EPYC 9354",
         "web-*", "8.0.2", "1.0", "--timeout", "inf", "nan", "--page-size", "-1", "--password", "--pass",
         "S3cr3t", "--debug", "--allow-cpuid-dir", "--", "-", "Xeon Gold 6348", "x" * 300, "a\nb", "\x1b[2J"]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(argv=st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=10)), max_size=7))
def test_random_command_lines(argv: list[str], capsys: pytest.CaptureFixture[str],
                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Any command line: 0, 1 or 2, never an internal error; errors are one line; secrets never echoed."""
    monkeypatch.delenv("EVCKIT_PASSWORD", raising=False)  # collect/--server stop before any network
    if any(a in ("-o", "--output") or a.startswith(("-o", "--output=")) for a in argv):
        return  # writing files is not what this test is about
    status = main(argv)
    err = capsys.readouterr().err
    assert status in (0, 1, 2), err
    if status == 2 and "--debug" in argv:  # --debug adds the traceback; the error itself is still the last line
        assert err.endswith("\n") and err.splitlines()[-1].startswith("evckit"), err
    elif status == 2:
        assert err.count("\n") == 1 and err.startswith("evckit"), err
    after_password = any(a in ("--password", "--password-env") and b == "S3cr3t" for a, b in itertools.pairwise(argv))
    if after_password and argv.count("S3cr3t") == 1 and status == 2:
        assert "S3cr3t" not in err  # a password typed on the command line is never echoed


class _Sly(str):
    """Text that claims to equal any text of its hash: it must not borrow another value's match."""

    def __eq__(self, other: object) -> bool:
        return True

    def __hash__(self) -> int:
        return hash("ab")


def test_pattern_matches_are_remembered_only_for_exact_text() -> None:
    """The compiled check remembers text that matched a pattern (VMs repeat their hardware version) but
    still tests every other value at its own place, a str subclass included."""
    from evckit._schema import compile_schema  # noqa: PLC0415

    check = compile_schema({"type": "array", "items": {"type": "string", "pattern": "^a"}})
    assert check(["ab", "ab", "ac"]) is None
    assert check(["ab", "b", "ab", _Sly("b"), "b"]) == [
        ((1,), '"b" does not match ^a'), ((3,), '"b" does not match ^a'), ((4,), '"b" does not match ^a')]
