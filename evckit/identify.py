"""CPU identification: from a CPUID signature or a product name to a CPU generation and its expected EVC mode.

The table lives in ``data/cpu_generations.json`` and has four sections besides ``revision``:

- ``sources``: id -> ``{"title", "url", "commit", "note"?}``; every other record cites ids from here.
- ``generations``: one record per codename: ``key``, ``vendor`` (``intel``/``amd``/``hygon``), ``label``,
  ``expected_max_evc``, ``confidence``, ``sources``, ``note``, ``aliases`` (codenames that
  :meth:`GenerationTable.by_name` accepts). ``expected_max_evc`` is the highest EVC mode a typical part of
  the generation reaches, or ``null`` when evckit predicts none (``note`` says why: no EVC support at
  all, as for Hygon, or not determined). ``confidence`` rates that expectation: ``confirmed`` means a
  VMware source, an operator's documentation or a real dump backs it; ``unconfirmed`` means it only
  follows from reasoning (for example "no AVX-512, so no Skylake baseline").
- ``signatures``: ``vendor``, display ``family`` (a decimal number), either ``models`` (hex strings) or
  ``model_ranges`` (inclusive ``[low, high]`` hex pairs), optional ``steppings`` (numbers), and the
  ``generation``. Its ``confidence`` rates the model-to-generation link. No two rows may claim the same
  vendor/family/model/stepping.
- ``product_rules``: how product names map to generations. ``form`` says which fields a rule uses:

  ========================  ==========================================================  ====================
  form                      fields                                                      example
  ========================  ==========================================================  ====================
  ``xeon-e``                ``line`` (3, 5, 7), ``version`` (1 = no "vN", or " 0")       ``E5-2690 v4``
  ``xeon-scalable``         ``digit`` (second digit), optional ``suffixes``              ``Gold 6348``
  ``xeon-6``                ``series`` (first two digits), ``suffixes`` (``P``/``E``)    ``6740P``
  ``xeon-legacy``           ``series`` (first two digits), optional ``numbers``          ``X5670``
  ``epyc``                  ``series`` (first digit), ``digit`` (last digit)             ``EPYC 9354``
  ``opteron``               ``series`` (first two digits)                                ``Opteron 6234``
  ``pattern``               ``pattern`` (regular expression), optional ``max_evc``       ``Core i7-8700``
  ========================  ==========================================================  ====================

  A ``xeon-scalable`` rule with ``suffixes`` wins over the one without (Cooper Lake's ``H``/``HL`` in the
  third generation). ``pattern`` rules (Core i3-i9, Core Ultra, Xeon W/D/E-2xxx/Max, Atom C, Ryzen,
  Threadripper, three-digit Opterons, Hygon, Sapphire Rapids Bronze) are tried first, in table order;
  their ``max_evc`` gives the lower mode of a product whose generation has variants without a mode's
  features (Bronze 3408U: no AMX, ``intel-icelake``). Every rule carries an ``example`` that must
  resolve to its own generation.

A bare ``Xeon 6530`` (no tier word, letter or suffix) is a product only when the number is itself one
(``Xeon 5160``); otherwise, when it reads as products of several generations (Gold 6530, a 6500-series
E/L/X part, 6530P), :class:`AmbiguousCpuError` lists them instead of guessing.

A generation reached from a name is an assumption (``NameMatch.assumed``): the CPUID features of the
host decide. Names no rule covers (Core 2, Pentium, Celeron, A-series APUs) raise
:class:`~evckit.errors.UnknownCpuError` rather than guess.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import Final

import attrs

from evckit._problems import ProblemCollector
from evckit.errors import DataError, UnknownCpuError

__all__ = [
    "AmbiguousCpuError",
    "Generation",
    "GenerationTable",
    "NameMatch",
    "ProductRule",
    "Signature",
    "Source",
    "normalize_name",
]

CONFIDENCES: Final = frozenset({"confirmed", "unconfirmed"})
FORMS: Final = ("xeon-e", "xeon-scalable", "xeon-6", "xeon-legacy", "epyc", "opteron", "pattern")

# The vendor strings of CPUID leaf 0, accepted wherever a vendor is asked for.
_VENDOR_ALIASES: Final = {"genuineintel": "intel", "authenticamd": "amd", "hygongenuine": "hygon"}

_FORM_NAMES: Final = {
    "xeon-e": "a Xeon E3/E5/E7",
    "xeon-scalable": "a Xeon Scalable",
    "xeon-6": "a Xeon 6",
    "xeon-legacy": "an older Xeon",
    "epyc": "an EPYC",
    "opteron": "an Opteron",
    "pattern": "a product",
}
_FORMS_HELP: Final = (
    "expected a Xeon E5/E7 name ('E5-2690 v4'), a Xeon Scalable name ('Gold 6348'), "
    "a Xeon 6 name ('6740P'), an EPYC name ('EPYC 9354'), an older Xeon ('X5670'), "
    "an Opteron ('Opteron 6234'), Xeon W/D/E-2xxx/Max, Core i3-i9/Core Ultra, Atom C, Ryzen, "
    "Threadripper, Hygon, or a codename ('sapphirerapids')"
)


@attrs.frozen
class Source:
    """A cited document: where a fact in the table comes from."""

    key: str
    title: str
    url: str | None
    commit: str | None
    note: str | None = None


@attrs.frozen
class Generation:
    """A CPU generation (codename) and the highest EVC mode its parts are expected to reach."""

    key: str
    vendor: str
    label: str
    expected_max_evc: str | None
    confidence: str
    sources: tuple[str, ...]
    note: str | None
    aliases: tuple[str, ...] = ()


@attrs.frozen
class Signature:
    """A set of CPUID signatures (display family/model, optional steppings) that belong to one generation."""

    vendor: str
    family: int
    models: frozenset[int]
    steppings: frozenset[int] | None
    generation: str
    sources: tuple[str, ...]
    confidence: str
    note: str | None


@attrs.frozen
class ProductRule:
    """One product-name rule; which of the optional fields apply depends on ``form`` (module docstring)."""

    form: str
    generation: str
    example: str
    sources: tuple[str, ...]
    confidence: str
    note: str | None
    line: int | None = None
    version: int | None = None
    digit: int | None = None
    series: tuple[str, ...] = ()
    suffixes: tuple[str, ...] = ()
    pattern: str | None = None
    max_evc: str | None = None
    numbers: tuple[str, ...] = ()


@attrs.frozen
class NameMatch:
    """The generation a product name or codename resolved to, and how; a name never proves the features.

    ``max_evc`` overrides the generation's expected mode for products of a generation whose variants
    lack a mode's features (Sapphire Rapids Bronze parts have no AMX: ``intel-icelake``); ``note``
    says why.
    """

    generation: Generation
    matched_form: str
    text: str
    confidence: str
    assumed: bool = True
    max_evc: str | None = None
    note: str | None = None

    @property
    def expected_max_evc(self) -> str | None:
        """The EVC mode a product of this name is expected to reach (override first, then the generation's)."""
        return self.max_evc or self.generation.expected_max_evc


class AmbiguousCpuError(UnknownCpuError):
    """A CPU name that reads as several products of different generations; lists the candidates."""

    def __init__(self, message: str, candidates: tuple[str, ...]) -> None:
        super().__init__(message)
        self.candidates = candidates


def _codename_key(text: str) -> str:
    """Fold a codename for lookup: lower case, letters and digits only ('Sapphire Rapids' -> 'sapphirerapids')."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _vendor_key(vendor: str) -> str:
    """Accept 'intel'/'amd'/'hygon' in any case, or the CPUID leaf-0 vendor strings."""
    folded = vendor.strip().lower()
    return _VENDOR_ALIASES.get(folded, folded)


# ---------------------------------------------------------------------------------------------------
# Loading and validation


class _Record:
    """Typed access to one JSON object; records a problem for every missing, mistyped or unknown field."""

    def __init__(self, obj: object, where: str, problems: ProblemCollector, fields: Collection[str]) -> None:
        """Wrap ``obj`` (found at ``where``); ``fields`` are the names it may hold."""
        self.where = where
        self.problems = problems
        self.ok = isinstance(obj, dict)
        self.obj: dict[str, object] = obj if isinstance(obj, dict) else {}
        if not self.ok:
            problems.add(where, f"expected an object, got {type(obj).__name__}")
        for name in self.obj:
            if name not in fields:
                problems.add(where, f"unknown field {name!r}")

    def has(self, name: str) -> bool:
        """Whether the field is present (even if null)."""
        return name in self.obj

    def _bad(self, name: str, want: str) -> None:
        """Record that a field is not what it must be."""
        self.problems.add(self.where, f"{name} must be {want}, got {self.obj.get(name)!r}")

    def text(self, name: str) -> str:
        """A required non-empty string ('' after recording a problem)."""
        value = self.obj.get(name)
        if isinstance(value, str) and value:
            return value
        self._bad(name, "a non-empty string")
        return ""

    def opt_text(self, name: str) -> str | None:
        """A non-empty string or null."""
        value = self.obj.get(name)
        if value is None or (isinstance(value, str) and value):
            return value
        self._bad(name, "a non-empty string or null")
        return None

    def number(self, name: str) -> int | None:
        """A required non-negative integer (booleans are rejected)."""
        value = self.obj.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        self._bad(name, "a non-negative integer")
        return None

    def opt_number(self, name: str) -> int | None:
        """A non-negative integer if present, else None."""
        return self.number(name) if name in self.obj else None

    def texts(self, name: str, *, required: bool = True, nonempty: bool = True) -> tuple[str, ...]:
        """A list of non-empty strings; ``required=False`` gives () when absent."""
        if name not in self.obj and not required:
            return ()
        value = self.obj.get(name)
        if (
            isinstance(value, list)
            and all(isinstance(v, str) and v for v in value)
            and (value or not nonempty)
        ):
            return tuple(str(v) for v in value)
        self._bad(name, "a non-empty list of non-empty strings" if nonempty else "a list of strings")
        return ()


_GENERATION_FIELDS: Final = (
    "key", "vendor", "label", "expected_max_evc", "confidence", "sources", "note", "aliases",
)  # fmt: skip
_SIGNATURE_FIELDS: Final = (
    "vendor", "family", "models", "model_ranges", "steppings", "generation", "sources", "confidence", "note",
)  # fmt: skip
_RULE_FIELDS: Final = (
    "form", "line", "version", "digit", "series", "suffixes", "generation", "example", "sources",
    "confidence", "note", "pattern", "max_evc", "numbers",
)  # fmt: skip
# Which optional fields each rule form requires (R), allows (A) or forbids (absent).
_RULE_SHAPE: Final[Mapping[str, Mapping[str, str]]] = {
    "xeon-e": {"line": "R", "version": "R"},
    "xeon-scalable": {"digit": "R", "suffixes": "A"},
    "xeon-6": {"series": "R", "suffixes": "R"},
    "xeon-legacy": {"series": "R", "numbers": "A"},
    "epyc": {"series": "R", "digit": "R"},
    "opteron": {"series": "R"},
    "pattern": {"pattern": "R", "max_evc": "A"},
}
_SERIES_WIDTH: Final = {"xeon-6": 2, "xeon-legacy": 2, "epyc": 1, "opteron": 2}


def _parse_hex(text: str) -> int | None:
    """Parse a model number written as hex ('0x55'); None if it is not one or is out of 0..255."""
    if not re.fullmatch(r"0x[0-9A-Fa-f]{1,2}", text):
        return None
    return int(text, 16)


def _check_confidence(rec: _Record) -> str:
    """Read ``confidence``; it must be 'confirmed' or 'unconfirmed'."""
    value = rec.text("confidence")
    if value and value not in CONFIDENCES:
        rec.problems.add(rec.where, f"confidence must be one of {sorted(CONFIDENCES)}, got {value!r}")
    return value


def _check_sources(rec: _Record, known: Mapping[str, Source], used: set[str]) -> tuple[str, ...]:
    """Read ``sources``; every id must be defined. Records the ids cited, to find uncited sources."""
    ids = rec.texts("sources")
    for sid in ids:
        used.add(sid)
        if sid not in known:
            rec.problems.add(rec.where, f"unknown source {sid!r}")
    return ids


def _parse_sources(obj: object, p: ProblemCollector) -> dict[str, Source]:
    """Read the ``sources`` section; url and commit must be present (null when there is none)."""
    sources: dict[str, Source] = {}
    if not isinstance(obj, dict):
        p.add("sources", "expected an object mapping source ids to sources")
        return sources
    for sid, raw in obj.items():
        rec = _Record(raw, f"sources[{sid!r}]", p, ("title", "url", "commit", "note"))
        for name in ("url", "commit"):
            if not rec.has(name):
                p.add(rec.where, f"missing {name} (use null when there is none)")
        sources[sid] = Source(sid, rec.text("title"), rec.opt_text("url"), rec.opt_text("commit"), rec.opt_text("note"))
    return sources


def _parse_generations(
    items: object, p: ProblemCollector, sources: Mapping[str, Source], used: set[str], mode_keys: Collection[str]
) -> list[Generation]:
    """Read the ``generations`` section; a null expectation needs a note, a mode must be the vendor's."""
    out: list[Generation] = []
    if not isinstance(items, list):
        p.add("generations", "expected a list")
        return out
    keys: set[str] = set()
    for i, raw in enumerate(items):
        rec = _Record(raw, f"generations[{i}]", p, _GENERATION_FIELDS)
        key = rec.text("key")
        if key and not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", key):
            p.add(rec.where, f"key {key!r} must be lower-case words joined by '-'")
        if key in keys:
            p.add(rec.where, f"duplicate generation key {key!r}")
        keys.add(key)
        vendor = rec.text("vendor")
        if not rec.has("expected_max_evc"):
            p.add(rec.where, "missing expected_max_evc (use null when evckit predicts none)")
        evc = rec.opt_text("expected_max_evc")
        note = rec.opt_text("note")
        if evc is not None:
            if evc not in mode_keys:
                p.add(rec.where, f"expected_max_evc {evc!r} is not an EVC mode key")
            elif vendor and not evc.startswith(vendor + "-"):
                p.add(rec.where, f"expected_max_evc {evc!r} is not a mode of vendor {vendor!r}")
        elif note is None:
            p.add(rec.where, "expected_max_evc is null, so note must say why")
        confidence = _check_confidence(rec)
        ids = _check_sources(rec, sources, used)
        aliases = rec.texts("aliases", required=False, nonempty=False)
        out.append(Generation(key, vendor, rec.text("label"), evc, confidence, ids, note, aliases))
    return out


def _parse_models(rec: _Record) -> frozenset[int]:
    """Read ``models`` or ``model_ranges`` (exactly one) into a set of model numbers."""
    models: set[int] = set()
    if rec.has("models") == rec.has("model_ranges"):
        rec.problems.add(rec.where, "give exactly one of models and model_ranges")
        return frozenset()
    if rec.has("models"):
        for text in rec.texts("models"):
            value = _parse_hex(text)
            if value is None:
                rec.problems.add(rec.where, f"model {text!r} is not a hex number 0x00..0xFF")
            elif value in models:
                rec.problems.add(rec.where, f"model {text!r} is listed twice")
            else:
                models.add(value)
        return frozenset(models)
    ranges = rec.obj.get("model_ranges")
    if not isinstance(ranges, list) or not ranges:
        rec.problems.add(rec.where, f"model_ranges must be a non-empty list of [low, high] pairs, got {ranges!r}")
        return frozenset()
    for pair in ranges:
        bounds = (
            [_parse_hex(v) if isinstance(v, str) else None for v in pair] if isinstance(pair, list) else []
        )
        if len(bounds) != 2 or bounds[0] is None or bounds[1] is None or bounds[0] > bounds[1]:
            rec.problems.add(rec.where, f"model range {pair!r} must be [low, high] hex numbers with low <= high")
            continue
        span = set(range(bounds[0], bounds[1] + 1))
        if span & models:
            rec.problems.add(rec.where, f"model range {pair!r} overlaps another range of the same row")
        models |= span
    return frozenset(models)


def _parse_steppings(rec: _Record) -> frozenset[int] | None:
    """Read the optional ``steppings``; None means every stepping."""
    if not rec.has("steppings"):
        return None
    value = rec.obj.get("steppings")
    if (
        isinstance(value, list)
        and value
        and all(isinstance(s, int) and not isinstance(s, bool) and 0 <= s <= 15 for s in value)
        and len(set(value)) == len(value)
    ):
        return frozenset(int(s) for s in value)
    rec.problems.add(rec.where, f"steppings must be a non-empty list of distinct numbers 0..15, got {value!r}")
    return None


def _parse_signatures(
    items: object, p: ProblemCollector, sources: Mapping[str, Source], used: set[str], gens: Mapping[str, Generation]
) -> list[Signature]:
    """Read the ``signatures`` section and check that no two rows claim the same signature."""
    out: list[Signature] = []
    if not isinstance(items, list):
        p.add("signatures", "expected a list")
        return out
    claimed: dict[tuple[str, int, int], list[tuple[frozenset[int] | None, int]]] = {}
    for i, raw in enumerate(items):
        rec = _Record(raw, f"signatures[{i}]", p, _SIGNATURE_FIELDS)
        vendor = rec.text("vendor")
        family = rec.number("family")
        models = _parse_models(rec)
        steppings = _parse_steppings(rec)
        generation = rec.text("generation")
        gen = gens.get(generation)
        if generation and gen is None:
            p.add(rec.where, f"unknown generation {generation!r}")
        elif gen is not None and vendor and gen.vendor != vendor:
            p.add(rec.where, f"vendor {vendor!r} differs from generation {generation!r}'s vendor {gen.vendor!r}")
        confidence = _check_confidence(rec)
        ids = _check_sources(rec, sources, used)
        if family is not None:
            for model in sorted(models):
                for other_steppings, j in claimed.get((vendor, family, model), []):
                    if steppings is None or other_steppings is None or steppings & other_steppings:
                        p.add(
                            rec.where,
                            f"{vendor} family {family} model 0x{model:02X} is also claimed by signatures[{j}]",
                        )
                claimed.setdefault((vendor, family, model), []).append((steppings, i))
        out.append(
            Signature(vendor, family or 0, models, steppings, generation, ids, confidence, rec.opt_text("note"))
        )
    return out


def _rule_keys(rule: ProductRule) -> list[tuple[object, ...]]:
    """The lookup keys a rule answers to; two rules of one form must not share one."""
    if rule.form == "xeon-e":
        return [(rule.line, rule.version)]
    if rule.form == "xeon-scalable":
        return [(rule.digit, s) for s in rule.suffixes] or [(rule.digit, None)]
    if rule.form == "xeon-6":
        return [(s, x) for s in rule.series for x in rule.suffixes]
    if rule.form == "epyc":
        return [(s, rule.digit) for s in rule.series]
    return [(s,) for s in rule.series]


def _parse_rules(
    items: object, p: ProblemCollector, sources: Mapping[str, Source], used: set[str], gens: Mapping[str, Generation],
    mode_keys: Collection[str] | None = None,
) -> list[ProductRule]:
    """Read the ``product_rules`` section, checking each form's fields and that no two rules share a key."""
    out: list[ProductRule] = []
    if not isinstance(items, list):
        p.add("product_rules", "expected a list")
        return out
    seen: dict[tuple[object, ...], int] = {}
    for i, raw in enumerate(items):
        rec = _Record(raw, f"product_rules[{i}]", p, _RULE_FIELDS)
        form = rec.text("form")
        shape = _RULE_SHAPE.get(form)
        if form and shape is None:
            p.add(rec.where, f"unknown form {form!r}; expected one of {list(FORMS)}")
            shape = {}
        shape = shape or {}
        for name in ("line", "version", "digit", "series", "suffixes", "pattern", "max_evc", "numbers"):
            if name in shape and shape[name] == "R" and not rec.has(name):
                p.add(rec.where, f"form {form!r} needs {name}")
            if name not in shape and rec.has(name):
                p.add(rec.where, f"form {form!r} does not use {name}")
        series = rec.texts("series", required=False)
        width = _SERIES_WIDTH.get(form)
        for s in series:
            if width is not None and not re.fullmatch(rf"\d{{{width}}}", s):
                p.add(rec.where, f"series {s!r} must be {width} digit(s)")
        suffixes = rec.texts("suffixes", required=False)
        for s in suffixes:
            if not re.fullmatch(r"[A-Z]{1,2}", s):
                p.add(rec.where, f"suffix {s!r} must be one or two capital letters")
        generation = rec.text("generation")
        if generation and generation not in gens:
            p.add(rec.where, f"unknown generation {generation!r}")
        pattern = rec.opt_text("pattern")
        if pattern is not None:
            try:
                re.compile(pattern)
            except re.error as exc:
                p.add(rec.where, f"pattern {pattern!r} is not a regular expression: {exc}")
                pattern = None
        max_evc = rec.opt_text("max_evc")
        if max_evc is not None and mode_keys is not None and max_evc not in mode_keys:
            p.add(rec.where, f"max_evc {max_evc!r} is not an EVC mode")
        numbers = rec.texts("numbers", required=False)
        for n in numbers:
            if not re.fullmatch(r"\d{4}", n):
                p.add(rec.where, f"number {n!r} must be four digits")
        rule = ProductRule(
            form=form,
            generation=generation,
            example=rec.text("example"),
            sources=_check_sources(rec, sources, used),
            confidence=_check_confidence(rec),
            note=rec.opt_text("note"),
            line=rec.opt_number("line"),
            version=rec.opt_number("version"),
            digit=rec.opt_number("digit"),
            series=series,
            suffixes=suffixes,
            pattern=pattern,
            max_evc=max_evc,
            numbers=numbers,
        )
        if form in _RULE_SHAPE and form != "pattern":
            for key in _rule_keys(rule):
                full = (form, *key)
                if full in seen:
                    p.add(rec.where, f"{form} rule {key!r} is also given by product_rules[{seen[full]}]")
                seen.setdefault(full, i)
        out.append(rule)
    return out


# ---------------------------------------------------------------------------------------------------
# Product names

# Noise removed before matching: trademarks, clock speed, core counts, "CPU", "Processor", vendor words.
_NOISE: Final = re.compile(
    r"\((?:R|TM|C)\)|[®™]|@\s*\d+(?:\.\d+)?\s*[GM]HZ"
    r"|\b\d+(?:ST|ND|RD|TH)\s+GEN(?:ERATION)?\b"
    r"|\b(?:\d+|DUAL|QUAD|SIX|EIGHT|TEN|TWELVE|SIXTEEN)[-\s]CORES?\b"
    r"|\b(?:CPU|PROCESSORS?|INTEL|AMD)\b"
)
_SCALABLE: Final = re.compile(
    r"(?:^|\bXEON\s+)(BRONZE|SILVER|GOLD|PLATINUM)\s+(\d)(\d)(\d{2})([A-Z]{0,2})\+?(?=\s|$)"
)
_XEON_E: Final = re.compile(r"(?<![A-Z0-9])E([357])[-\s](\d{4})([A-Z]{0,2})(?:\s*V(\d+)|\s+0)?(?=\s|$)")
_XEON_6: Final = re.compile(r"(?:^|\bXEON\s+(?:6\s+)?)(6\d)(\d{2})([PE])(?=\s|$)")
_LEGACY: Final = re.compile(r"(?:^|\s)([EXLW])(\d{2})(\d{2})(?=\s|$)")
_LEGACY_BARE: Final = re.compile(r"([EXLW]?)(\d{2})(\d{2})")
_EPYC: Final = re.compile(r"\bEPYC\s+(?:EMBEDDED\s+)?(\d)([0-9A-Z]{2})(\d)([A-Z]{0,2})(?=\s|$)")
_BARE_XEON: Final = re.compile(r"XEON (\d{4})")
_TIERS: Final = {"3": "Bronze", "4": "Silver", "5": "Gold", "6": "Gold", "8": "Platinum", "9": "Platinum"}
_OPTERON: Final = re.compile(r"\bOPTERON\s+(\d{2})(\d{2})(?:\s*(?:HE|SE|EE))?(?=\s|$)")


def normalize_name(name: str) -> str:
    """Upper-case a product name or brand string and strip the noise around the model number.

    'Intel(R) Xeon(R) CPU E5-2650 0 @ 2.00GHz' becomes 'XEON E5-2650 0'.
    """
    return " ".join(_NOISE.sub(" ", name.upper()).split())


# ---------------------------------------------------------------------------------------------------
# The table


@attrs.frozen(eq=False)
class GenerationTable:
    """The CPU generation table: lookups by CPUID signature, by product name or codename, and by key."""

    revision: str
    sources: Mapping[str, Source]
    generations: tuple[Generation, ...]
    signatures: tuple[Signature, ...]
    product_rules: tuple[ProductRule, ...]
    _by_key: dict[str, Generation] = attrs.field(init=False, repr=False)
    _by_model: dict[tuple[str, int, int], list[tuple[frozenset[int] | None, str]]] = attrs.field(
        init=False, repr=False
    )
    _aliases: dict[str, str] = attrs.field(init=False, repr=False)
    _rules: dict[tuple[object, ...], ProductRule] = attrs.field(init=False, repr=False)
    _patterns: tuple[tuple[re.Pattern[str], ProductRule], ...] = attrs.field(init=False, repr=False)
    _letterless: dict[str, ProductRule] = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        """Build the lookup indexes once; the table is immutable afterwards."""
        by_key = {g.key: g for g in self.generations}
        by_model: dict[tuple[str, int, int], list[tuple[frozenset[int] | None, str]]] = {}
        for sig in self.signatures:
            for model in sig.models:
                by_model.setdefault((sig.vendor, sig.family, model), []).append((sig.steppings, sig.generation))
        aliases: dict[str, str] = {}
        for g in self.generations:
            for alias in (g.key, *g.aliases):
                aliases.setdefault(_codename_key(alias), g.key)
        rules: dict[tuple[object, ...], ProductRule] = {}
        for rule in self.product_rules:
            for key in _rule_keys(rule):
                rules.setdefault((rule.form, *key), rule)
        object.__setattr__(self, "_by_key", by_key)
        object.__setattr__(self, "_by_model", by_model)
        object.__setattr__(self, "_aliases", aliases)
        object.__setattr__(self, "_rules", rules)
        object.__setattr__(self, "_patterns", tuple(
            (re.compile(r.pattern), r) for r in self.product_rules if r.form == "pattern" and r.pattern))
        object.__setattr__(self, "_letterless", {n: r for r in self.product_rules for n in r.numbers})

    # -- construction ------------------------------------------------------------------------------

    @classmethod
    def from_json(
        cls, obj: object, file: str, *, mode_keys: Collection[str]
    ) -> GenerationTable:
        """Validate a decoded ``cpu_generations.json`` and build the table; raise DataError listing every problem."""
        p = ProblemCollector(file)
        top = _Record(obj, "top level", p, ("revision", "sources", "generations", "signatures", "product_rules"))
        revision = top.text("revision")
        for section in ("sources", "generations", "signatures", "product_rules"):
            if not top.has(section):
                p.add("top level", f"missing section {section!r}")
        sources = _parse_sources(top.obj.get("sources", {}), p)
        used: set[str] = set()
        gens = _parse_generations(top.obj.get("generations", []), p, sources, used, mode_keys)
        by_key = {g.key: g for g in gens}
        sigs = _parse_signatures(top.obj.get("signatures", []), p, sources, used, by_key)
        rules = _parse_rules(top.obj.get("product_rules", []), p, sources, used, by_key, mode_keys)
        owner: dict[str, str] = {}
        for i, g in enumerate(gens):
            for alias in (g.key, *g.aliases):
                folded = _codename_key(alias)
                if not folded:
                    p.add(f"generations[{i}]", f"alias {alias!r} has no letters or digits")
                elif owner.setdefault(folded, g.key) != g.key:
                    p.add(f"generations[{i}]", f"alias {alias!r} also names generation {owner[folded]!r}")
        for sid in sources:
            if sid not in used:
                p.add(f"sources[{sid!r}]", "never cited")
        p.raise_if_any(DataError)
        return cls(revision, dict(sources), tuple(gens), tuple(sigs), tuple(rules))

    @classmethod
    def load(cls, path: Path, *, mode_keys: Collection[str]) -> GenerationTable:
        """Read and validate a generation table file (the shipped one or a user's replacement)."""
        try:
            obj = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DataError([f"{path.name}: cannot read: {exc}"]) from exc
        return cls.from_json(obj, path.name, mode_keys=mode_keys)

    # -- lookups -----------------------------------------------------------------------------------

    def __iter__(self) -> Iterator[Generation]:
        """Iterate over the generations in table order."""
        return iter(self.generations)

    def __len__(self) -> int:
        """Number of generations."""
        return len(self.generations)

    def __contains__(self, key: object) -> bool:
        """Whether a generation key is in the table."""
        return key in self._by_key

    def get(self, key: str) -> Generation:
        """The generation with this key; UnknownCpuError (naming the known keys) if there is none."""
        try:
            return self._by_key[key]
        except KeyError:
            known = ", ".join(sorted(self._by_key))
            raise UnknownCpuError(f"unknown CPU generation {key!r}; known: {known}") from None

    def candidates(self, vendor: str, family: int, model: int) -> tuple[Generation, ...]:
        """Every generation that some stepping of this vendor/family/model belongs to, in table order."""
        entries = self._by_model.get((_vendor_key(vendor), family, model), [])
        keys = {key for _, key in entries}
        return tuple(g for g in self.generations if g.key in keys)

    def by_signature(self, vendor: str, family: int, model: int, stepping: int | None) -> Generation | None:
        """The generation of a CPUID signature (display family and model), or None if it is not known.

        A model shared by several generations (0x55: Skylake-SP, Cascade Lake, Cooper Lake) needs the
        stepping: without one the answer is None, and :meth:`candidates` lists the possibilities. A
        stepping that no row of such a model claims (0x55 stepping 8) also gives None.
        """
        entries = self._by_model.get((_vendor_key(vendor), family, model), [])
        if stepping is None:
            whole = [key for steppings, key in entries if steppings is None]
            return self._by_key[whole[0]] if len(entries) == 1 and whole else None
        for steppings, key in entries:
            if steppings is None or stepping in steppings:
                return self._by_key[key]
        return None

    def by_name(self, name: str) -> NameMatch:
        """Resolve a product name, brand string or codename to a generation.

        Understands Xeon E3/E5/E7 ('E5-2690 v4'), Xeon Scalable ('Gold 6348'), Xeon 6 ('6740P'),
        older Xeons ('X5670'), EPYC ('EPYC 9354'), Opteron ('Opteron 6234') and the codenames and
        aliases of the table. Anything else raises UnknownCpuError; client names are never guessed.
        """
        alias = self._aliases.get(_codename_key(name))
        if alias is not None:
            return NameMatch(self._by_key[alias], "codename", name.strip(), "confirmed")
        text = normalize_name(name)
        for regex, prule in self._patterns:
            pm = regex.search(text)
            if pm is not None:
                return NameMatch(self._by_key[prule.generation], "pattern", pm.group(0).strip(), prule.confidence,
                                 max_evc=prule.max_evc, note=prule.note)
        bare = _BARE_XEON.fullmatch(text)
        if bare is not None:
            found_bare = self._match_bare_xeon(name, bare.group(1))
            if found_bare is not None:
                return found_bare
        for attempt in (
            self._match_scalable,
            self._match_xeon_e,
            self._match_xeon_6,
            self._match_legacy,
            self._match_epyc,
            self._match_opteron,
        ):
            found = attempt(text)
            if found is not None:
                form, key, matched = found
                rule = self._rules.get((form, *key))
                if rule is None:
                    raise UnknownCpuError(
                        f"unrecognised CPU name {name!r}: it reads as {_FORM_NAMES[form]} name ({matched!r}) "
                        "that the generation table has no rule for"
                    )
                return NameMatch(self._by_key[rule.generation], form, matched, rule.confidence)
        raise UnknownCpuError(f"unrecognised CPU name {name!r}: {_FORMS_HELP}")

    def _match_bare_xeon(self, name: str, number: str) -> NameMatch | None:
        """'Xeon 6530' without a tier word, letter or suffix: every product it can be, or an error.

        A letterless number that is itself a product's name ('Xeon 5160', Woodcrest) is that product.
        Otherwise the candidates are a Xeon Scalable part of the tier its first digit stands for
        ('Gold 6530'), an older lettered Xeon ('X6550'-style, series 65) and a Xeon 6 part ('6530P');
        when they belong to different generations the name is ambiguous and raises, listing them.
        """
        exact = self._letterless.get(number)
        if exact is not None:
            return NameMatch(self._by_key[exact.generation], "xeon-legacy", f"XEON {number}", exact.confidence)
        found: list[tuple[str, ProductRule]] = []
        tier = _TIERS.get(number[0])
        rule = self._rules.get(("xeon-scalable", int(number[1]), None))
        if tier is not None and rule is not None:
            found.append((f"Xeon {tier} {number}", rule))
        rule = self._rules.get(("xeon-legacy", number[:2]))
        if rule is not None:
            found.append((f"Xeon E/L/X{number}", rule))
        for suffix in ("P", "E"):
            rule = self._rules.get(("xeon-6", number[:2], suffix))
            if rule is not None:
                found.append((f"Xeon 6 {number}{suffix}", rule))
        gens = {r.generation for _, r in found}
        if len(gens) == 1:
            label, rule = found[0]
            return NameMatch(self._by_key[rule.generation], rule.form, f"XEON {number}", rule.confidence)
        if not gens:
            return None
        listed = tuple(f"{label} ({self._by_key[r.generation].label})" for label, r in found)
        raise AmbiguousCpuError(
            f"ambiguous CPU name {name!r}: it can be " + "; ".join(listed) + ". Give the full name", listed)

    # Each matcher returns (form, rule key, matched text) or None; the rule key mirrors _rule_keys.

    def _match_scalable(self, text: str) -> tuple[str, tuple[object, ...], str] | None:
        """'[Xeon] Gold 6348': tier word, then the second digit is the generation; a suffix rule wins."""
        m = _SCALABLE.search(text)
        if m is None:
            return None
        digit, suffix = int(m.group(3)), m.group(5)
        key: tuple[object, ...] = (digit, suffix)
        if ("xeon-scalable", *key) not in self._rules:
            key = (digit, None)
        return "xeon-scalable", key, m.group(0).strip()

    def _match_xeon_e(self, text: str) -> tuple[str, tuple[object, ...], str] | None:
        """'E5-2690 v4': product line and version; no version, or Intel's ' 0', is version 1."""
        m = _XEON_E.search(text)
        if m is None:
            return None
        version = int(m.group(4)) if m.group(4) else 1
        return "xeon-e", (int(m.group(1)), version), m.group(0).strip()

    def _match_xeon_6(self, text: str) -> tuple[str, tuple[object, ...], str] | None:
        """'6740P', 'Xeon 6 6740P': series (first two digits) and the P/E suffix."""
        m = _XEON_6.search(text)
        if m is None:
            return None
        return "xeon-6", (m.group(1), m.group(3)), m.group(0).strip()

    def _match_legacy(self, text: str) -> tuple[str, tuple[object, ...], str] | None:
        """'X5670', 'Xeon 5160': series (first two digits) of a pre-E5 Xeon number."""
        # A lettered number ('X5670') counts next to the word Xeon or on its own; a letterless one
        # ('5160') only as exactly 'Xeon 5160'. So 'Core 2 Duo E7500' and 'Xeon Phi 7210' never match.
        tokens = text.split()
        m = _LEGACY.search(text) if "XEON" in tokens else None
        if m is None and len(tokens) == 2 and tokens[0] == "XEON":
            m = _LEGACY_BARE.fullmatch(tokens[1])
        if m is None and len(tokens) == 1 and tokens[0][:1] in {"E", "X", "L", "W"}:
            m = _LEGACY_BARE.fullmatch(tokens[0])
        if m is None:
            return None
        return "xeon-legacy", (m.group(2),), m.group(0).strip()

    def _match_epyc(self, text: str) -> tuple[str, tuple[object, ...], str] | None:
        """'EPYC 9354': series (first digit) and generation (last digit)."""
        m = _EPYC.search(text)
        if m is None:
            return None
        return "epyc", (m.group(1), int(m.group(3))), m.group(0).strip()

    def _match_opteron(self, text: str) -> tuple[str, tuple[object, ...], str] | None:
        """'Opteron 6234': series (first two digits) of a four-digit Opteron."""
        m = _OPTERON.search(text)
        if m is None:
            return None
        return "opteron", (m.group(1),), m.group(0).strip()
