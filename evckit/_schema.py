"""The shipped snapshot JSON Schema, compiled once into plain Python checks and run on every load.

The schema (``data/snapshot.schema.json``) is the one source of truth for the types of a snapshot: the
loader validates each document with it before reading it, so the schema and the parser cannot drift
(the VMs excepted, ``snapshot_problems(doc, vms=False)``: the loader's VM reader confirms each VM's
constraints itself, and a document it is not sure of is checked in full).
jsonschema is not a runtime dependency, so this module implements the part of JSON Schema 2020-12
the shipped schema uses (and refuses to compile any other keyword, so a schema change that needs more
fails loudly in the tests): ``type``, ``const``, ``enum``, ``pattern``, ``minLength``, ``maxLength``,
``minimum``, ``maximum``, ``minItems``, ``maxItems``, ``required``, ``properties``,
``additionalProperties``, ``items``, ``$ref`` (local), ``oneOf``, ``anyOf``. The tests check that it
decides exactly as the reference implementation (jsonschema) does on mutated snapshots.

A compiled check returns None when the value is valid (the fast path allocates nothing) or the list
of problems as ``(path, message)``, the path a tuple of keys and indexes from the document's root.
Its cost at 100,000 VMs is measured by ``benchmarks/schema_cost.py``.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable, Mapping, Set
from typing import Any

__all__ = ["VM_REF", "Problem", "compile_schema", "snapshot_problems"]

Path = tuple[str | int, ...]
Problem = tuple[Path, str]
Check = Callable[[Any], "list[Problem] | None"]

_SUPPORTED = frozenset({
    "type", "const", "enum", "pattern", "minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems",
    "required", "properties", "additionalProperties", "items", "$ref", "oneOf", "anyOf",
    # annotations, no effect on validity
    "$schema", "$id", "$defs", "title", "description", "default", "examples", "$comment",
})

_TYPE_WORDS = {"object": "an object", "array": "a list", "string": "a string", "boolean": "true or false",
               "null": "null", "integer": "a whole number", "number": "a number"}


def _describe(value: Any) -> str:
    """A value in a problem message: short, one line, never the whole (possibly huge) value."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):  # not a JSON value (a document built in memory): its type's name
        text = type(value).__name__
    return text if len(text) <= 40 else text[:37] + "..."


def _json_equal(a: Any, b: Any) -> bool:
    """Equality as JSON Schema means it: true is not 1, 1.0 is 1, and containers compare deeply."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and a == b


class _Generator:
    """Writes the schema as Python source: one function per definition, every other check inlined.

    Generated code is several times faster than a tree of closures (no call per keyword, no
    allocation unless a problem is found), which keeps validation a small part of loading.
    """

    def __init__(self, root: Mapping[str, Any], assume: Set[str] = frozenset(), prefix: str = "") -> None:
        self.root = root
        self.prefix = prefix  # of the functions' names and of their constants' list (``{prefix}C``)
        self.assume = assume  # $refs whose values are taken as valid (their caller checks them)
        self.consts: list[Any] = []
        self.functions: dict[str, str] = {}  # $ref or node id -> function name
        self.pending: list[tuple[str, Mapping[str, Any] | bool]] = []
        self.counter = 0
        self.expanding: set[str] = set()  # definitions being inlined (a recursive one becomes a function)
        self.memos: list[str] = []  # the current function's memos of arrays found valid
        self.matched: list[str] = []  # the current function's memos of text found to match a pattern

    def const(self, value: Any) -> str:
        self.consts.append(value)
        return f"C[{len(self.consts) - 1}]"

    def var(self) -> str:
        self.counter += 1
        return f"x{self.counter}"

    def function_for(self, schema: Mapping[str, Any] | bool, key: str | None = None) -> str:
        key = key or f"id{id(schema)}"
        if key not in self.functions:
            self.functions[key] = f"{self.prefix}f{len(self.functions)}"
            self.pending.append((self.functions[key], schema))
        return self.functions[key]

    def resolve(self, ref: str) -> Mapping[str, Any]:
        if not ref.startswith("#/"):
            raise ValueError(f"only local $ref is supported, not {ref!r}")
        node: Any = self.root
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node  # type: ignore[no-any-return]

    def build(self) -> str:
        for ref in self.assume:
            self.resolve(ref)  # a definition the schema lacks: KeyError, not a check that assumes nothing
        self.function_for(self.root, "#")
        source: list[str] = []
        while self.pending:
            name, schema = self.pending.pop()
            self.memos = []
            self.matched = []
            body = self.node(schema, "v", "()")
            # Globals bound as defaults: local lookups in the hot loops.
            source += [f"def {name}(v, isinstance=isinstance, type=type, str=str, dict=dict, list=list, "
                       "bool=bool, int=int, float=float, len=len, enumerate=enumerate, id=id, set=set, "
                       f"C={self.prefix}C):",
                       "    out = []", *[f"    {m} = {{}}" for m in self.memos],
                       *[f"    {m} = set()" for m in self.matched], *_indent(body, 1), "    return out", ""]
        return "\n".join(source)

    def node(self, schema: Mapping[str, Any] | bool, x: str, p: str) -> list[str]:
        """The statements (indented from 0) that check value ``x`` at path expression ``p``."""
        if schema is True:
            return []
        if schema is False:
            return [f"out.append(({p}, 'is not allowed here'))"]
        unknown = set(schema) - _SUPPORTED
        if unknown:
            raise ValueError(f"unsupported JSON Schema keyword(s): {', '.join(sorted(unknown))}")
        out: list[str] = []
        if "$ref" in schema and schema["$ref"] not in self.assume:
            ref = schema["$ref"]
            if ref not in self.expanding:  # inlined: no call, no allocation per object
                self.expanding.add(ref)
                out += self.node(self.resolve(ref), x, p)
                self.expanding.discard(ref)
            else:  # a recursive definition: a function, whose paths the caller prefixes on a problem
                fn = self.function_for(self.resolve(ref), ref)
                r = self.var()
                out += [f"{r} = {fn}({x})", f"if {r}:", f"    out.extend([({p} + q, m) for q, m in {r}])"]
        for key in ("oneOf", "anyOf"):
            if key in schema:
                out += self.alternatives(schema[key], key == "oneOf", x, p)
        body: list[str] = []
        # Inside the branch where a single "type" holds, the other keywords need not test it again.
        known = schema.get("type") if isinstance(schema.get("type"), str) else None

        def guard(kind: str, test: str) -> str:
            return "" if known == kind else f"{test} and "
        if "const" in schema:
            c = self.const(schema["const"])
            body += [f"if not _json_equal({x}, {c}):",
                     f"    out.append(({p}, 'must be ' + _describe({c}) + ', not ' + _describe({x})))"]
        if "enum" in schema:
            words = self.const(", ".join(_describe(o) for o in schema["enum"]))
            if all(isinstance(o, str) for o in schema["enum"]):  # the common case: one set lookup
                c = self.const(frozenset(schema["enum"]))
                test = f"isinstance({x}, str) and {x} in {c}"
            else:
                c = self.const(list(schema["enum"]))
                test = f"any(_json_equal({x}, o) for o in {c})"
            body += [f"if not ({test}):",
                     f"    out.append(({p}, 'must be one of ' + {words} + ', not ' + _describe({x})))"]
        if "pattern" in schema:
            # Text found to match is remembered for the call (100,000 VMs share a dozen hardware
            # versions); only exact str is, so that a subclass's own equality is never trusted.
            r, text = self.const(re.compile(schema["pattern"])), self.const(schema["pattern"])
            matched = self.var()
            self.matched.append(matched)
            body += [f"if {guard('string', f'isinstance({x}, str)')}not (type({x}) is str and {x} in {matched}):",
                     f"    if not {r}.search({x}):",
                     f"        out.append(({p}, _describe({x}) + ' does not match ' + {text}))",
                     f"    elif type({x}) is str:",
                     f"        {matched}.add({x})"]
        for key, op, kind, word in (("minLength", "<", "str", "must be at least {n} characters long"),
                                    ("maxLength", ">", "str", "must be at most {n} characters long"),
                                    ("minItems", "<", "list", "must have at least {n} item(s)"),
                                    ("maxItems", ">", "list", "must have at most {n} item(s)")):
            if key in schema:
                n = schema[key]
                kind_name = "string" if kind == "str" else "array"
                body += [f"if {guard(kind_name, f'isinstance({x}, {kind})')}len({x}) {op} {n!r}:",
                         f"    out.append(({p}, {word.format(n=n)!r}))"]
        for key, op, word in (("minimum", "<", ">="), ("maximum", ">", "<=")):
            if key in schema:
                n = schema[key]
                body += [f"if isinstance({x}, (int, float)) and not isinstance({x}, bool) and {x} {op} {n!r}:",
                         f"    out.append(({p}, 'must be {word} {n}, not ' + _describe({x})))"]
        if "required" in schema:
            lines = []
            for k in schema["required"]:
                lines += [f"if {k!r} not in {x}:", f"    out.append(({p}, {'missing ' + repr(k)!r}))"]
            body += lines if known == "object" else [f"if isinstance({x}, dict):", *_indent(lines, 1)]
        if "properties" in schema or "additionalProperties" in schema:
            props = schema.get("properties", {})
            extra = schema.get("additionalProperties", True)
            lines = []
            for k, sub in props.items():
                y = self.var()
                checks = self.node(sub, y, f"{p} + ({k!r},)")
                if checks:  # an absent property costs one ``in`` (most of a VM's are absent), no call
                    lines += [f"if {k!r} in {x}:", f"    {y} = {x}[{k!r}]", *_indent(checks, 1)]
            if extra is not True:
                k, y = self.var(), self.var()
                known = self.const(frozenset(props))
                checks = self.node(extra, y, f"{p} + ({k},)")
                lines += [f"for {k}, {y} in {x}.items():", f"    if {k} not in {known}:",
                          *(_indent(checks, 2) or ["        pass"])]
            if lines:
                body += lines if known == "object" else [f"if isinstance({x}, dict):", *_indent(lines, 1)]
        if "items" in schema:
            i, y = self.var(), self.var()
            checks = self.node(schema["items"], y, f"{p} + ({i},)")
            if checks:
                # An array object met again at this place (a snapshot decoder shares equal arrays) and
                # found valid before is valid again: its items are not checked twice in one call. An
                # invalid one is checked each time, so each place gets its own problems.
                memo, n = self.var(), self.var()
                self.memos.append(memo)
                loop = [f"if id({x}) not in {memo}:", f"    {n} = len(out)",
                        f"    for {i}, {y} in enumerate({x}):", *_indent(checks, 2),
                        f"    if len(out) == {n}:", f"        {memo}[id({x})] = {x}"]
                body += loop if known == "array" else [f"if isinstance({x}, list):", *_indent(loop, 1)]
        if "type" in schema:
            names = [schema["type"]] if isinstance(schema["type"], str) else list(schema["type"])
            test = " or ".join(_TYPE_TESTS[n].format(x=x) for n in names)
            want = " or ".join(_TYPE_WORDS[n] for n in names)
            out += [f"if not ({test}):", f"    out.append(({p}, 'must be {want}, not ' + _describe({x})))"]
            if body:  # a value of the wrong type gets that one problem, not one per keyword
                out += ["else:", *_indent(body, 1)]
        else:
            out += body
        return out


    def alternatives(self, subs: list[Any], one: bool, x: str, p: str) -> list[str]:
        """oneOf/anyOf. Alternatives told apart by their JSON type alone (``string`` or ``null``) are
        a type dispatch; others run each alternative and count."""
        types = [sub.get("type") if isinstance(sub, dict) else None for sub in subs]
        if all(isinstance(t, str) for t in types) and len(set(types)) == len(types) and \
                not {"integer", "number"} <= set(types):
            lines: list[str] = []
            for i, (t, sub) in enumerate(zip(types, subs, strict=True)):
                lines += [f"{'if' if i == 0 else 'elif'} {_TYPE_TESTS[str(t)].format(x=x)}:",
                          *(_indent(self.node(sub, x, p), 1) or ["    pass"])]
            want = " or ".join(_TYPE_WORDS[str(t)] for t in types)
            return [*lines, "else:", f"    out.append(({p}, 'must be {want}, not ' + _describe({x})))"]
        fns = [self.function_for(sub) for sub in subs]
        return [f"_alternatives({x}, {p}, out, ({', '.join(fns)},), {one})"]


def _indent(lines: list[str], levels: int) -> list[str]:
    return ["    " * levels + line for line in lines]


_TYPE_TESTS = {
    # isinstance, as JSON Schema validators do: documents built in memory may hold str or dict
    # subclasses (pyVmomi's enum values are str subclasses).
    "object": "isinstance({x}, dict)", "array": "isinstance({x}, list)", "string": "isinstance({x}, str)",
    "boolean": "isinstance({x}, bool)", "null": "{x} is None",
    # JSON Schema: 1.0 is an integer; true is not a number.
    "integer": "(isinstance({x}, int) and not isinstance({x}, bool)) or (isinstance({x}, float) and _integral({x}))",
    "number": "isinstance({x}, (int, float)) and not isinstance({x}, bool)",
}


def _integral(value: float) -> bool:
    return math.isfinite(value) and value.is_integer()


def _alternatives(v: Any, p: Path, out: list[Problem], fns: tuple[Callable[[Any], list[Problem]], ...],
                  one: bool) -> None:
    """oneOf / anyOf: exactly one (or at least one) alternative holds; else the closest one's problems."""
    results = [[(p + q, m) for q, m in fn(v)] for fn in fns]
    passed = sum(not r for r in results)
    if passed == 1 or (passed > 1 and not one):
        return
    if passed > 1:
        out.append((p, "matches more than one allowed form"))
        return
    out.extend(max(results, key=lambda r: max(len(q) for q, _ in r)))


def compile_schema(schema: Mapping[str, Any], assume: Set[str] = frozenset()) -> Check:
    """A check function for ``schema`` (the subset of JSON Schema described in the module docstring).

    ``assume``: local ``$ref``s (``#/$defs/vm``) whose values the check takes as valid without looking
    at them, for a caller that checks them itself (`snapshot_problems` with ``vms=False``).
    """
    gen = _Generator(schema, assume)
    source = gen.build()
    namespace: dict[str, Any] = {"C": gen.consts, "_describe": _describe,
                                 "_json_equal": _json_equal, "_alternatives": _alternatives, "_integral": _integral}
    exec(compile(source, "<snapshot.schema.json>", "exec"), namespace)  # noqa: S102 - our own generated code
    root = namespace[gen.functions["#"]]

    def check(doc: Any) -> list[Problem] | None:
        return root(doc) or None
    return check


#: The definition of one VM in the shipped schema.
VM_REF = "#/$defs/vm"
#: The shipped schema's checks, as `snapshot_problems` runs them: (prefix of the generated names, $refs
#: assumed valid), for ``vms=True`` and ``vms=False``.
_VARIANTS = {True: ("all_", frozenset()), False: ("no_vms_", frozenset({VM_REF}))}


def _literal(value: Any) -> str:
    """Python source that makes ``value`` (a constant of generated checks), the same in every process."""
    if isinstance(value, re.Pattern):
        return f"re.compile({value.pattern!r}, {int(value.flags)})"
    if isinstance(value, frozenset):
        return "frozenset((" + "".join(_literal(v) + ", " for v in sorted(value, key=repr)) + "))"
    if isinstance(value, list):
        return "[" + ", ".join(map(_literal, value)) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in value.items()) + "}"
    if value is None or isinstance(value, (str, int, float, bool)):
        return repr(value)
    raise ValueError(f"no literal for a constant of type {type(value).__name__}")


def generated_module(schema_text: str) -> str:
    """The source of ``evckit/_schema_checks.py``: the shipped schema's checks compiled ahead of time
    (both variants of `snapshot_problems`), so that a command imports them (byte-compiled) instead of
    generating and compiling them (15-20 ms of every load). Used only while it was generated from the
    schema text it records; ``python -m evckit._schema`` writes it again, and a test says when to."""
    schema = json.loads(schema_text)
    out = ['"""The shipped snapshot schema\'s checks, generated by ``python -m evckit._schema`` from',
           "data/snapshot.schema.json (whose text is SCHEMA_TEXT below): do not edit.", '"""',
           "# ruff: noqa", "# mypy: ignore-errors", "import re", "",
           "from evckit._schema import _alternatives, _describe, _integral, _json_equal", "",
           f"SCHEMA_TEXT = {schema_text!r}", ""]
    for vms, (prefix, assume) in _VARIANTS.items():
        gen = _Generator(schema, assume, prefix)
        source = gen.build()
        out += [f"# snapshot_problems(doc, vms={vms})", f"{prefix}C = {_literal(gen.consts)}", "", source,
                f"{prefix}ROOT = {gen.functions['#']}", ""]
    return "\n".join(out).rstrip("\n") + "\n"


def _schema_text() -> str:
    from evckit._resources import data_dir  # noqa: PLC0415

    return (data_dir() / "snapshot.schema.json").read_text(encoding="utf-8")


@functools.cache
def _snapshot_check(vms: bool = True) -> Check:
    text = _schema_text()
    prefix, assume = _VARIANTS[vms]
    try:
        from evckit import _schema_checks  # noqa: PLC0415 - generated; checked against the schema first
    except ImportError:
        pass
    else:
        if _schema_checks.SCHEMA_TEXT == text:
            root = getattr(_schema_checks, f"{prefix}ROOT")

            def check(doc: Any) -> list[Problem] | None:
                return root(doc) or None
            return check
    return compile_schema(json.loads(text), assume)


def snapshot_problems(doc: Any, vms: bool = True) -> list[Problem]:
    """Every place where ``doc`` breaks the shipped snapshot schema (empty when it is valid).

    ``vms=False``: every place but the VMs themselves (each item of a vCenter's ``vms``, `VM_REF`), for
    the loader, whose whole-vCenter VM reader confirms every constraint of a VM as it reads it
    (``vms`` must still be a list). At 100,000 VMs that is most of the check's work, done twice.
    """
    return _snapshot_check(vms)(doc) or []


def place(doc: Any, path: Path) -> str:
    """A path as the loader names places: ``vcenters[0] (vc-prod).hosts[2] (esx01).maintenance``."""
    out = ""
    node = doc
    for key in path:
        if isinstance(key, int):
            out += f"[{key}]"
            node = node[key] if isinstance(node, list) and key < len(node) else None
            if isinstance(node, dict) and isinstance(node.get("name"), str) and node["name"]:
                name = node["name"]
                out += f" ({name if len(name) <= 80 else name[:77] + '...'})"
        else:
            out += ("." if out else "") + key
            node = node.get(key) if isinstance(node, dict) else None
    return out


if __name__ == "__main__":  # python -m evckit._schema: write evckit/_schema_checks.py again
    import pathlib

    pathlib.Path(__file__).with_name("_schema_checks.py").write_text(generated_module(_schema_text()), encoding="utf-8")
