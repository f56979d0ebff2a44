"""Renderers: turn computed results into tables (tabulate), JSON, CSV or Markdown. They never compute.

JSON shapes are built by explicit functions here, not by ``attrs.asdict`` of core classes, so the
output contract stays stable when classes change.
"""

from __future__ import annotations

import csv
import fnmatch
import functools
import io
import json
import os
import re
import shutil
import sys
import textwrap
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

import attrs

from evckit._text import csv_safe, json_safe, printable
from evckit._version import version
from evckit.analysis import (
    Analysis, ClusterResult, DataConflict, Evidence, GroupVerdict, HostResult, LimitingHost, VMResult,
)

if TYPE_CHECKING:
    from evckit.catalog import Catalog
    from evckit.features import FeatureSet
    from evckit.assess import HostVerdict
    from evckit.modes import EvcMode
    from evckit.recommend import Recommendation
    from evckit.whatif import Candidate, ScenarioResult

__all__ = ["dumps", "mode_diff_json", "mode_json", "render_mode", "render_mode_diff", "render_modes", "table"]


#: Width of plain-text output when it goes to a pipe or file and ``COLUMNS`` is not set.
PIPE_WIDTH = 120
#: Narrowest a wrapped column gets (unless a single name in it is longer: names are never split).
MIN_WRAP = 12


def terminal_width() -> int:
    """The width plain text is laid out for: ``COLUMNS``, else the terminal's, else `PIPE_WIDTH` when piped."""
    env = os.environ.get("COLUMNS", "")
    if env.isdigit() and int(env) > 0:
        return max(int(env), 40)
    if sys.stdout is not None and sys.stdout.isatty():
        return max(shutil.get_terminal_size((PIPE_WIDTH, 24)).columns, 40)
    return PIPE_WIDTH


def _wrap(text: str, width: int, indent: str = "") -> list[str]:
    """Lines of at most ``width`` characters, broken at spaces only: a host or VM name is never split."""
    out: list[str] = []
    for para in text.split("\n"):
        if _OTHER_SPACE.search(para) is None:
            out.extend(_wrap_spaces(para, width, indent) or [""])
        else:
            out.extend(textwrap.wrap(para, width, break_long_words=False, break_on_hyphens=False,
                                     subsequent_indent=indent) or [""])
    return out


#: Whitespace other than the space, which `textwrap` would first turn into spaces.
_OTHER_SPACE = re.compile("[\t\n\x0b\x0c\r]")
_SPACES = re.compile("( +)")


def _wrap_spaces(text: str, width: int, indent: str) -> list[str]:
    """``textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False,
    subsequent_indent=indent)`` for text whose only whitespace is the space, without textwrap's
    general machinery (the answers of 200 VMs in 1,000 clusters wrap tens of thousands of lines):
    greedy, a word longer than the line alone on its line, spaces dropped at the breaks.

    Words separated by single spaces (after an indentation) are cut with `str.rfind`; other text
    goes chunk by chunk (`_wrap_chunks`)."""
    body = text.lstrip(" ")
    lead = text[:len(text) - len(body)]
    end = body.find(" ")
    if not body or "  " in body or body.endswith(" ") or len(lead) + (len(body) if end < 0 else end) > width:
        return _wrap_chunks(text, width, indent)
    lines = []
    pos, n, room = 0, len(body), width - len(lead)
    while n - pos > room:
        cut = body.rfind(" ", pos, max(pos, pos + room + 1))
        if cut < 0:  # a word longer than the line: alone on its line
            cut = body.find(" ", pos)
            if cut < 0:
                break
        lines.append(lead + body[pos:cut])
        pos, lead, room = cut + 1, indent, width - len(indent)
    lines.append(lead + body[pos:])
    return lines


def _wrap_chunks(text: str, width: int, indent: str) -> list[str]:
    """`_wrap_spaces` for any text of spaces: textwrap's algorithm, chunk by chunk."""
    chunks = [c for c in _SPACES.split(text) if c]
    chunks.reverse()
    lines: list[str] = []
    while chunks:
        lead = indent if lines else ""
        room = width - len(lead)
        if lines and chunks[-1][0] == " ":
            chunks.pop()  # a line never starts with the spaces it was broken at
        line: list[str] = []
        used = 0
        while chunks and used + len(chunks[-1]) <= room:
            used += len(chunks[-1])
            line.append(chunks.pop())
        if chunks and not line and len(chunks[-1]) > room:
            line.append(chunks.pop())  # a name longer than the line is never split
        if line and line[-1][0] == " ":
            line.pop()
        if line:
            lines.append(lead + "".join(line))
    return lines


def paragraph(text: str, width: int | None = None, indent: str = "") -> str:
    """Free text wrapped to the output width at spaces, continuation lines indented by ``indent``."""
    return "\n".join(_wrap(text, width or terminal_width(), indent))


def _fit(cells: Sequence[Sequence[str]], headers: Sequence[str], wrappable: Sequence[bool], width: int) -> list[int]:
    """Column widths that fit ``width``: unwrappable columns (names, keys) keep their natural width, the
    wrappable ones share what is left, each at least its longest word."""
    n = len(headers)
    # tabulate makes a column at least 2 wider than its header (MIN_PADDING).
    # Each distinct cell of a column once: cells repeat (a VM's name on each of its rows).
    distinct = [dict.fromkeys(str(row[i]) for row in cells) for i in range(n)]
    natural = [max([len(line) for c in distinct[i] for line in c.split("\n")] + [len(headers[i]) + 2])
               for i in range(n)]
    avail = width - 2 * (n - 1)
    if sum(natural) <= avail:
        return natural
    longest_word = [max([len(w) for c in distinct[i] for w in c.split()]
                        + [len(w) + 2 for w in headers[i].split()]) for i in range(n)]
    widths = [natural[i] if not wrappable[i] else max(longest_word[i], min(MIN_WRAP, natural[i])) for i in range(n)]
    if sum(widths) > avail:  # tight: columns as narrow as their longest word, no narrower
        widths = [natural[i] if not wrappable[i] else longest_word[i] for i in range(n)]
    extra = avail - sum(widths)
    # Water-filling: the wrapped columns share what is left, none wider than it needs.
    while extra > 0:
        hungry = [i for i in range(n) if wrappable[i] and widths[i] < natural[i]]
        if not hungry:
            break
        # Each column gets a share in proportion to what it still lacks, so long text gets the room.
        need = sum(natural[i] - widths[i] for i in hungry)
        budget = extra
        for i in hungry:
            add = min(max(budget * (natural[i] - widths[i]) // need, 1), natural[i] - widths[i], extra)
            widths[i] += add
            extra -= add
            if extra <= 0:
                break
    return widths


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str], fmt: str = "table",
          wrap: Sequence[int | None] | None = None, width: int | None = None) -> str:
    """A table as plain text (``table``), GitHub Markdown (``markdown``) or CSV (``csv``).

    Plain text fits ``width`` (default: `terminal_width`): columns marked wrappable in ``wrap`` (a number:
    free text) wrap at spaces, the others (None: names, keys, counts) never do, so no name is split.
    """
    # A cell may be a list of lines (the steps of a plan): each line is escaped on its own, then they are
    # joined by a line break that is layout, never data.
    joiner = "; " if fmt == "csv" else "\n"
    escaped: dict[str, object] = {}  # cells repeat (a reason shared by many rows): each escaped once

    def cell(x: object) -> object:
        if isinstance(x, (list, tuple)):
            return joiner.join(str(_cell(str(part), fmt)) for part in x)
        if not isinstance(x, str):
            return _cell(x, fmt)
        c = escaped.get(x)
        if c is None:
            c = escaped[x] = _cell(x, fmt)
        return c

    rows = [[cell(x) for x in row] for row in rows]
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(headers)
        writer.writerows(rows)
        return buf.getvalue().rstrip("\n")
    from tabulate import tabulate  # noqa: PLC0415 - keeps `import evckit` light

    if fmt == "markdown":
        md = [[_md_cell(c) for c in r] for r in rows]
        own = _github(md, headers)
        return own if own is not None else tabulate(md, headers=headers, tablefmt="github")
    if not rows:
        return tabulate(rows, headers=headers, tablefmt="simple")
    cells = [[str(c) for c in r] for r in rows]
    wrappable = [bool(wrap and i < len(wrap) and wrap[i] is not None) for i in range(len(headers))]
    width = width or terminal_width()
    widths = _fit(cells, headers, wrappable, width)
    if sum(widths) + 2 * (len(widths) - 1) > width:
        return _records(cells, headers, width)
    # Cells repeat (a reason shared by every VM of a verdict, a cluster's label): each distinct text is
    # wrapped once per column.
    wrapped: dict[tuple[int, str], str] = {}
    laid = []
    for r in cells:
        row = []
        for i, c in enumerate(r):
            if wrappable[i]:
                w = wrapped.get((i, c))
                if w is None:
                    w = wrapped[(i, c)] = "\n".join(_wrap(c, widths[i]))
                c = w
            row.append(c)
        laid.append(row)
    heads = ["\n".join(_wrap(h, widths[i] - 2)) if wrappable[i] else h for i, h in enumerate(headers)]
    if all(h.isascii() for h in heads) and all(c.isascii() for r in laid for c in r):
        return _simple(laid, heads)
    return tabulate(laid, headers=heads, tablefmt="simple", disable_numparse=True)


def _simple(cells: Sequence[Sequence[str]], headers: Sequence[str]) -> str:
    """What ``tabulate(cells, headers, tablefmt="simple", disable_numparse=True)`` prints for text cells
    whose characters are one column wide each (ASCII, controls escaped): the same layout, laid out
    without tabulate's per-cell type and width detection, which dominates on tables of 100,000 rows.

    Each cell is stripped and left-aligned; a column is as wide as its widest line, and at least its
    header plus 2; cells of several lines make rows of several lines; lines lose trailing spaces.
    """
    multiline = any("\n" in h or "\r" in h for h in headers) or any(
        "\n" in c or "\r" in c for row in cells for c in row)
    cols = [[row[i].strip() for row in cells] for i in range(len(headers))]
    head_lines = [re.split("[\r\n]", h) if multiline else [h] for h in headers]
    widths = []
    for hl, col in zip(head_lines, cols):
        width = max(map(len, hl)) + 2
        for c in dict.fromkeys(col):  # each distinct cell once
            if multiline and ("\n" in c or "\r" in c):
                width = max(width, *map(len, re.split("[\r\n]", c)))
            elif len(c) > width:
                width = len(c)
        widths.append(width)
    lines: list[str] = []
    pads = [" " * w for w in widths]

    def emit(row_lines: Sequence[Sequence[str]]) -> None:
        for k in range(max(map(len, row_lines))):
            lines.append("  ".join(cl[k].ljust(w) if k < len(cl) else pad
                                   for cl, w, pad in zip(row_lines, widths, pads)).rstrip())

    emit(head_lines)
    lines.append("  ".join("-" * w for w in widths))
    if multiline:
        # Each distinct cell of a column split and padded once; a row's lines joined column by column.
        padded: list[dict[str, list[str]]] = [{} for _ in widths]
        for row in zip(*cols):
            parts = []
            for c, w, memo in zip(row, widths, padded):
                p = memo.get(c)
                if p is None:
                    p = memo[c] = [x.ljust(w) for x in c.splitlines()]
                parts.append(p)
            height = max(map(len, parts))
            if height > 1:
                parts = [p if len(p) == height else p + [pad] * (height - len(p)) for p, pad in zip(parts, pads)]
                lines.extend("  ".join(line).rstrip() for line in zip(*parts))
            elif height == 1:
                lines.append("  ".join(p[0] if p else pad for p, pad in zip(parts, pads)).rstrip())
    else:
        for row in zip(*cols):
            lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
    return "\n".join(lines)


def _github(cells: Sequence[Sequence[str]], headers: Sequence[str]) -> str | None:
    """What ``tabulate(cells, headers, tablefmt="github")`` prints, laid out without tabulate's per-cell
    type detection (a --explain of 10,000 hosts), for text it would left-align: cells of printable ASCII
    on one line, none of which reads as a number (then tabulate right-aligns the column: None, it
    lays the table out itself). Each cell is stripped and padded to its column's widest, at least its
    header plus 2, between ``| `` and `` |``."""
    cols = [dict.fromkeys(row[i].strip() for row in cells) for i in range(len(headers))]
    for text in (*headers, *(c for col in cols for c in col)):
        if not text.isascii() or not text.isprintable():
            return None
    for col in cols:
        for c in col:
            try:
                float(c)
            except ValueError:
                continue
            return None
    widths = [max([len(h) + 2, *map(len, col)]) for h, col in zip(headers, cols)]
    lines = ["| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines.extend("| " + " | ".join(c.strip().ljust(w) for c, w in zip(row, widths)) + " |" for row in cells)
    return "\n".join(lines)


def _records(cells: Sequence[Sequence[str]], headers: Sequence[str], width: int) -> str:
    """A table too wide for ``width`` even with its free text wrapped: one block per row, a field a line."""
    blocks = []
    for row in cells:
        lines = [f"{headers[0]}: {row[0]}"]
        for h, c in zip(headers[1:], row[1:]):
            lines.extend(_wrap(f"  {h}: {c}".replace("\n", "; "), width, "      "))
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


def _md_cell(value: object) -> str:
    """A Markdown table cell (already escaped by `_cell`): line breaks as <br>."""
    return str(value).replace("*", "\\*").replace("\n", "<br>")


def _cell(value: object, fmt: str) -> object:
    """One table cell as printed: control characters escaped; in CSV no formula, in Markdown no ``|``."""
    if not isinstance(value, str):
        return value
    value = printable(value)
    if fmt == "csv":
        return csv_safe(value)
    if fmt == "markdown":
        return value.replace("|", "\\|")
    return value


def dumps(obj: object) -> str:
    """JSON text as evckit prints it: indented, key order kept, non-ASCII kept."""
    return json_safe(json.dumps(obj, indent=2, ensure_ascii=False))


def mode_json(catalog: Catalog, mode: EvcMode) -> dict[str, Any]:
    """One mode as the ``evckit modes --format json`` contract shows it."""
    return {
        "key": mode.key,
        "vendor": mode.vendor,
        "label": mode.label,
        "tier": mode.tier,
        "tracks": list(mode.tracks),
        "base": mode.base,
        "introduced": mode.introduced,
        "introduced_confidence": mode.introduced_confidence,
        "confidence": mode.confidence,
        "label_confidence": mode.label_confidence,
        "x86_64_level": _level(catalog, mode),
        "features": list(mode.features.names()),
        "unconfirmed_features": list(mode.unconfirmed.names()),
        "feature_count": len(mode.features),
        "sources": list(mode.sources),
        "origin": mode.origin,
        "note": mode.note,
    }


def render_modes(catalog: Catalog, modes: Iterable[EvcMode], fmt: str) -> str:
    """The list of modes: key, vendor, label, feature count, confidence."""
    modes = list(modes)
    if fmt == "json":
        return dumps({"modes": [mode_json(catalog, m) for m in modes]})
    rows = [
        [m.key, m.vendor, m.label, _level(catalog, m) or "-", len(m.features), _confidence(m), m.introduced or "?"]
        for m in modes
    ]
    out = table(rows, ["mode", "vendor", "label", "x86-64 level", "features", "confidence", "introduced (vCenter)"],
                fmt)
    if fmt == "table" and any(m.confidence != "confirmed" for m in modes):
        out += ("\n\nunconfirmed: no public source lists the mode's exact baseline; its features follow real "
                "masks, VM requirement dumps and the CPUs of its generation (see `evckit modes KEY`).")
    return out


def _confidence(mode: EvcMode) -> str:
    if mode.confidence == "confirmed":
        return "confirmed"
    return f"{len(mode.unconfirmed)} of {len(mode.features)} features unconfirmed"


def _level(catalog: Catalog, mode: EvcMode) -> str | None:
    """The x86-64 micro-architecture level a mode's baseline reaches (``x86-64-v3``), from data/guest_os.json."""
    from evckit.guests import GuestFloors  # noqa: PLC0415 - read only when a mode is shown

    level = GuestFloors.for_catalog(catalog).mode_level(mode)
    return level.key if level else None


def render_mode(catalog: Catalog, mode: EvcMode, fmt: str) -> str:
    """One mode with every feature, where CPUID reports it, and whether its membership is confirmed."""
    if fmt == "json":
        return dumps({"modes": [mode_json(catalog, mode)]})
    added_by = _added_by(catalog, mode)
    rows = []
    for name in mode.features.names():
        f = catalog.features[name]
        where = "; ".join(str(p) for p in f.cpuid) or f.kind
        conf = "unconfirmed" if name in mode.unconfirmed else "confirmed"
        note = "hypervisor can expose it (ANY)" if f.monitor_support == "ANY" else ""
        rows.append([name, f.label, where, added_by.get(name, ""), conf, note])
    head = [
        f"{mode.key}: {mode.label} ({mode.vendor})",
        f"introduced: {mode.introduced or 'unknown'} ({mode.introduced_confidence})",
        f"tracks: {', '.join(mode.tracks)}; base: {mode.base or '-'}; x86-64 level: {_level(catalog, mode) or '-'}",
        f"baseline: {len(mode.features)} features, {len(mode.unconfirmed)} unconfirmed; confidence: {mode.confidence}",
    ]
    if mode.note:
        head.append(f"note: {mode.note}")
    head.append(f"sources: {', '.join(mode.sources)}")
    body = table(rows, ["feature", "label", "CPUID", "added by", "membership", "note"], fmt)
    return "\n".join(head) + "\n\n" + body if fmt == "table" else body


def _added_by(catalog: Catalog, mode: EvcMode) -> dict[str, str]:
    chain: list[EvcMode] = []
    m: EvcMode | None = mode
    while m is not None:
        chain.append(m)
        m = catalog.modes.get(m.base) if m.base else None
    out: dict[str, str] = {}
    for m in reversed(chain):
        for grp in m.added:
            for name in grp.features.names():
                out[name] = m.key
    return out


def mode_diff_json(a: EvcMode, b: EvcMode) -> dict[str, Any]:
    """What changes from mode ``a`` to mode ``b``."""
    added, removed = b.features - a.features, a.features - b.features
    if not added and not removed:
        relation = "equal"
    elif not removed:
        relation = "superset"
    elif not added:
        relation = "subset"
    else:
        relation = "incomparable"
    return {"from": a.key, "to": b.key, "relation": relation, "vendor_differs": a.vendor != b.vendor,
            "added": list(added.names()), "removed": list(removed.names())}


def render_mode_diff(catalog: Catalog, a: EvcMode, b: EvcMode, fmt: str) -> str:
    """The features added and removed going from ``a`` to ``b``."""
    diff = mode_diff_json(a, b)
    if fmt == "json":
        return dumps({"diff": diff})
    rows = [["+", n, catalog.features[n].label] for n in diff["added"]]
    rows += [["-", n, catalog.features[n].label] for n in diff["removed"]]
    words = {"superset": f"{b.key} contains every feature of {a.key}",
             "subset": f"{b.key} is contained in {a.key}",
             "equal": "same features",
             "incomparable": "neither contains the other"}
    head = f"{a.key} -> {b.key}: {len(diff['added'])} added, {len(diff['removed'])} removed; {words[diff['relation']]}"
    if diff["vendor_differs"]:
        head += " (different vendors: no host can run both)"
    body = table(rows, ["", "feature", "label"], fmt) if rows else "(no difference)"
    return head + "\n\n" + body if fmt == "table" else body


# --- hosts ---------------------------------------------------------------------------------------


def verdict_json(v: HostVerdict) -> dict[str, object]:
    """One host as the ``evckit host --format json`` contract shows it."""
    p = v.profile
    return {
        "source": p.source,
        "format": p.input_format,
        "vendor": p.vendor,
        "family": p.family,
        "model": p.model,
        "stepping": p.stepping,
        "brand": p.brand,
        "codename": p.generation.label if p.generation else None,
        "generation": p.generation.key if p.generation else None,
        "hypervisor": p.hypervisor,
        "max_evc_mode": v.max_mode.key if v.max_mode else None,
        "max_evc_modes": [m.key for m in v.max_modes],
        "supported_modes": [m.key for m in v.supported],
        "missing_for_next": {k: list(fs.names()) for k, fs in v.missing_for_next.items()},
        "undetermined": {k: list(fs.names()) for k, fs in v.undetermined.items()},
        "esxi_limited": dict(v.esxi_limited),
        "unknown_features": len(p.unknown),
        "assumed": p.assumed,
        "confidence": (v.max_mode.confidence if v.max_mode else None),
        "reason": v.reason,
        "notes": list(p.notes),
    }


def render_hosts(verdicts: Sequence[HostVerdict], fmt: str) -> str:
    """``evckit host``: one row per CPU with identity, maximum mode and what the next mode needs."""
    if fmt == "json":
        return dumps({"hosts": [verdict_json(v) for v in verdicts]})
    rows = []
    for v in verdicts:
        p = v.profile
        sig = f"{p.family:#x}/{p.model:#x}/{p.stepping}" if p.family is not None and p.model is not None else "-"
        mode = v.max_mode.key if v.max_mode else "none"
        if v.max_mode and v.max_mode.confidence != "confirmed":
            mode += " (unconfirmed baseline)"
        if p.assumed:
            mode += " [assumed]"
        nxt = "; ".join([f"{k}: {_short(fs.names())}" for k, fs in v.missing_for_next.items() if fs]
                        + [f"{k}: {why}" for k, why in v.esxi_limited.items()])
        und = "; ".join(f"{k}: {_short(fs.names())}" for k, fs in v.undetermined.items())
        rows.append([p.source, p.vendor or "?", sig, p.generation.label if p.generation else "-", mode,
                     nxt or "-", und or "-"])
    out = table(rows, ["source", "vendor", "family/model/stepping", "codename", "max EVC mode",
                       "next mode lacks", "undetermined (unknown in data)"], fmt, wrap=[1, None, 1, 1, 1, 1, 1])
    if fmt != "table":
        return out
    extra = []
    for v in verdicts:
        for note in v.profile.notes:
            extra.append(f"{v.profile.source}: {note}")
        if v.reason and not v.max_mode:
            extra.append(f"{v.profile.source}: {v.reason}")
        if v.profile.brand and v.profile.brand != v.profile.source:
            extra.insert(0, f"{v.profile.source}: {v.profile.brand}")
    return out + ("\n\n" + "\n".join(printable(x) for x in extra) if extra else "")


def _short(names: Sequence[str], limit: int = 6) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" +{len(names) - limit} more" if len(names) > limit else "")


# --- estate check --------------------------------------------------------------------------------


@attrs.frozen
class CheckView:
    """What a check report shows: the analysis, optionally filtered to some VMs and clusters."""

    analysis: Analysis
    vms: tuple[VMResult, ...]
    clusters: tuple[ClusterResult, ...]
    explain: bool = False
    #: VMs were asked for by name (``--vm``): their answers lead, estate tables follow only with ``estate``.
    vm_filter: bool = False
    estate: bool = False
    #: Clusters were filtered (``--cluster``): summaries count only what the view shows.
    cluster_filter: bool = False

    def hosts(self) -> tuple[HostResult, ...]:
        """The hosts shown: those of the view's clusters (by vCenter and name) and hosts outside clusters."""
        if len(self.clusters) == len(self.analysis.clusters):
            return self.analysis.hosts
        keys = {c.key for c in self.clusters}
        return tuple(hr for hr in self.analysis.hosts if hr.host.cluster is None or hr.host.cluster_key in keys)


def select(analysis: Analysis, vm_patterns: Sequence[str] = (), cluster_patterns: Sequence[str] = (),
           explain: bool = False, estate: bool = False) -> CheckView:
    """Filter an analysis to VMs and clusters whose names match shell patterns (all when none given).

    A cluster pattern matches a cluster's name or its ``vcenter/name``: ``gold`` selects the ``gold`` of
    every vCenter and the VMs in them. VM patterns are compiled once (names without wildcards become a
    set lookup, the others one regular expression): 200 patterns over 100,000 VMs cost one match per VM.
    """
    keys = {c.key for c in analysis.inventory.match_clusters(cluster_patterns)} if cluster_patterns else None
    clusters = tuple(c for c in analysis.clusters if keys is None or c.key in keys)
    vms = analysis.vms
    if keys is not None:
        vms = tuple(v for v in vms if v.cluster_key in keys)
    if vm_patterns:
        vmatch = _matcher(vm_patterns)
        vms = tuple(v for v in vms if vmatch(v.vm.name))
    return CheckView(analysis, vms, clusters, explain, bool(vm_patterns), estate, bool(cluster_patterns))


def _matcher(patterns: Sequence[str]) -> Callable[[str], bool]:
    """A test of whether a name matches any of the shell ``patterns`` (`fnmatch.fnmatchcase` rules)."""
    exact = {p for p in patterns if not _WILDCARD.search(p)}
    wild = [fnmatch.translate(p) for p in patterns if _WILDCARD.search(p)]
    if not wild:
        return exact.__contains__
    regex = re.compile("|".join(wild)).match
    return lambda name: name in exact or regex(name) is not None


_WILDCARD = re.compile(r"[*?\[]")


def host_json(hr: HostResult) -> dict[str, Any]:
    """One host in the ``evckit check`` JSON contract."""
    return {**host_json_own(hr), **host_json_cpu(hr)}


def host_json_own(hr: HostResult) -> dict[str, Any]:
    """The first members of a host's JSON: its own (name, place, ESXi, state)."""
    h = hr.host
    return {
        "name": h.name,
        "vcenter": h.vcenter,
        "cluster": h.cluster,
        "esxi_version": h.esxi_version,
        "esxi_build": h.esxi_build,
        "esxi_release": esxi.label if (esxi := h.esxi) is not None else None,
        "esxi_note": esxi.note if esxi is not None else None,
        "max_hw_version": hr.max_hw_version,
        "connection_state": h.connection_state,
        "maintenance": h.maintenance,
    }


def host_json_cpu(hr: HostResult) -> dict[str, Any]:
    """The last members of a host's JSON: its CPU and what it decides (hosts of one model share them)."""
    h, v = hr.host, hr.verdict
    return {
        "cpu_model": h.cpu_model or h.cpu.brand,
        "vendor": h.cpu.vendor,
        "codename": h.cpu.generation.label if h.cpu.generation else None,
        "max_evc_mode": v.max_mode.key if v.max_mode else None,
        "supported_modes": [m.key for m in v.supported],
        "assumed": h.cpu.assumed,
        "cpu_data": h.cpu.input_format,
        "vcenter_max_evc_mode": h.vcenter_max_evc_mode,
        "missing_for_next": {k: _names(fs) for k, fs in v.missing_for_next.items()},
        "undetermined": {k: _names(fs) for k, fs in v.undetermined.items()},
        "esxi_limited": dict(v.esxi_limited),
    }


@functools.lru_cache(maxsize=4096)
def _feature_names(fs: FeatureSet) -> tuple[str, ...]:
    return fs.names()


def _names(fs: FeatureSet) -> list[str]:
    """A feature set's names as a JSON list; a few hundred distinct sets recur across thousands of hosts
    and clusters, so each is named once."""
    return list(_feature_names(fs))


def _limiting_json(items: Sequence[LimitingHost]) -> list[dict[str, Any]]:
    return [{"host": x.host, "mode": x.mode, "missing": _names(x.missing),
             "undetermined": _names(x.undetermined), "needs_esxi": x.needs_esxi,
             "vendor": x.vendor} for x in items]


def cluster_json(c: ClusterResult) -> dict[str, Any]:
    """One cluster in the ``evckit check`` JSON contract."""
    return {
        "name": c.label,
        "vcenter": c.cluster.vcenter,
        "evc_mode": c.evc_mode.key if c.evc_mode else None,
        "max_evc_mode": c.max_evc_mode.key if c.max_evc_mode else None,
        "max_evc_modes": [m.key for m in c.max_evc_modes],
        "max_evc_mode_confidence": c.max_evc_mode.confidence if c.max_evc_mode else None,
        "reason": c.reason,
        "vendors": list(c.vendors),
        "hosts": [hr.host.name for hr in c.hosts],
        "assumed_hosts": list(c.assumed_hosts),
        "limiting_hosts": _limiting_json(c.limiting_hosts),
        "not_admitted": _limiting_json(c.not_admitted),
        "blocking_lower": {k: list(v) for k, v in c.blocking_lower.items()},
        "undetermined": {k: _names(fs) for k, fs in c.undetermined.items()},
        "max_hw_version": c.max_hw_version,
        "recommendation": recommendation_json(c.recommendation) if c.recommendation is not None else None,
    }


def recommendation_json(r: Recommendation) -> dict[str, Any]:
    """A cluster's recommended EVC mode with its plan and cost, in the ``evckit check`` JSON contract."""
    return {
        "action": r.action,
        "mode": r.mode.key if r.mode else None,
        "current": r.current.key if r.current else None,
        "reason": r.reason,
        "excluded_hosts": [{"host": x.host, "kind": x.kind, "reason": x.reason} for x in r.excluded_hosts],
        "held_back_by": _limiting_json(r.held_back_by),
        "evacuate": [{"vm": a.vm, "features": _names(a.features), "reason": a.reason} for a in r.evacuate],
        "power_cycle": [{"vm": a.vm, "features": _names(a.features), "reason": a.reason} for a in r.power_cycle],
        "guest_floors": [{"vm": b.vm, "guest": b.guest.key, "label": b.guest.label, "running": b.running,
                          "missing": _names(b.missing), "message": b.message} for b in r.guest_floors],
        "cost": [{"host": h.host, "hidden_count": len(h.hidden), "hidden": _names(h.hidden),
                  "assumed": h.assumed} for h in r.cost],
        "undetermined": {k: _names(fs) for k, fs in r.undetermined.items()},
    }


def vm_json(v: VMResult) -> dict[str, Any]:
    """One VM in the ``evckit check`` JSON contract."""
    head, tail = _vm_parts(v)
    return {**head, **group_verdict_json(v.verdict, v.vm.running), **tail}


def group_verdict_json(g: GroupVerdict, running: bool) -> dict[str, Any]:
    """The migration verdict a group of VMs shares: live, cold and partial targets, blocked with reasons."""
    return {
        "live_targets": list(g.live_targets) if running else [],
        "cold_targets": list(g.cold_targets),
        "partial_targets": {k: list(hs) for k, hs in g.partial.items()},
        "blocked": {k: [r.as_json() for r in rs] for k, rs in g.blocked.items()},
    }


def _vm_parts(v: VMResult) -> tuple[dict[str, Any], dict[str, Any]]:
    """A VM's own fields: those before its shared verdict and those after it."""
    vm = v.vm
    cycle = None
    if v.power_cycle is not None:
        cycle = {"mode": v.power_cycle.mode, "missing": _names(v.power_cycle.missing),
                 "hidden_by_hardware_version": _names(v.power_cycle.hidden)}
    head = {
        "name": vm.name,
        "vcenter": vm.vcenter,
        "cluster": v.cluster_label,
        "host": vm.host,
        "power_state": vm.power_state,
        "hardware_version": f"vmx-{vm.hardware_version}",
        "migration": v.migration,
        "vendor": v.vendor,
        "requirement": {"source": v.requirement_source, "min_required_evc_mode": vm.min_required_evc_mode,
                        "features": len(v.requirement)},
        "per_vm_evc": vm.per_vm_evc,
    }
    return head, {"needs_power_cycle": cycle, "notes": list(v.notes)}


def check_json(view: CheckView, expanded: bool = False) -> dict[str, Any]:
    """The whole ``evckit check --format json`` document (``"evckit_check": 2``) as a dict.

    Grouped (default): each distinct verdict once under ``verdicts``, each VM with ``"verdict": id``;
    ``expanded``: each VM with its verdict's fields inline, no ``verdicts``. The command streams the
    same document (`evckit.writers.write_check_json`); this builds it whole, for small views and tests.
    """
    from evckit.writers import CHECK_JSON_VERSION, hosts_of, verdict_ids  # noqa: PLC0415

    a = view.analysis
    doc: dict[str, Any] = {
        "evckit_check": CHECK_JSON_VERSION,
        "form": "expanded" if expanded else "grouped",
        "evckit": version(),
        "snapshot": a.inventory.source,
        "notes": list(a.notes),
        "hosts": [host_json(hr) for hr in hosts_of(view)],
        "clusters": [cluster_json(c) for c in view.clusters],
    }
    if expanded:
        doc["vms"] = [vm_json(v) for v in view.vms]
    else:
        ids, first = verdict_ids(view.vms)
        doc["verdicts"] = [{"id": i, "migration": v.migration, **group_verdict_json(v.verdict, v.vm.running)}
                           for i, v in enumerate(first)]
        vms = []
        for v in view.vms:
            head, tail = _vm_parts(v)
            vms.append({**head, **tail, "verdict": ids[(id(v.verdict), v.vm.running)]})
        doc["vms"] = vms
    doc["data_conflicts"] = [c.as_json() for c in conflicts_shown(view)]
    doc["summary"] = summary(view)
    return doc


def conflicts_shown(view: CheckView) -> list[DataConflict]:
    """The data conflicts of the VMs a view shows (all of them when it is not filtered)."""
    a = view.analysis
    if len(view.vms) == len(a.vms):
        return list(a.data_conflicts)
    shown = {(v.vm.vcenter, v.vm.name) for v in view.vms}
    return [c for c in a.data_conflicts if (c.vcenter, c.vm) in shown]


#: ``--format`` values of ``evckit check`` that the streaming writers handle.
STREAMED_FORMATS = ("json", "json-expanded", "json-groups", "csv")


def write_check(view: CheckView, fmt: str, out: TextIO, *, csv_table: str | None = None,
                extra: dict[str, Any] | None = None, warn: Callable[[str], None] | None = None) -> None:
    """Write the check report in ``fmt`` to ``out``: JSON and CSV streamed record by record, the
    readable formats rendered whole (they summarise). ``json-groups`` is the former name of ``json``;
    ``csv_table`` picks the CSV table (``vms`` by default, ``targets`` with ``--explain``)."""
    from evckit import writers  # noqa: PLC0415

    if fmt in ("json", "json-groups", "json-expanded"):
        writers.write_check_json(view, out, expanded=fmt == "json-expanded", extra=extra, warn=warn)
    elif fmt == "csv":
        writers.write_check_csv(view, out, csv_table or ("targets" if view.explain else "vms"))
    else:
        text = render_check(view, fmt)
        out.write(text if text.endswith("\n") else text + "\n")


def summary(what: Analysis | CheckView) -> dict[str, int]:
    """The counts of the summary line and the JSON ``summary`` object: of the whole analysis, or of what
    a filtered view shows (its VMs, clusters, their hosts and data conflicts)."""
    if not isinstance(what, CheckView):
        return what.summary.as_dict()
    from evckit.analysis import summarize  # noqa: PLC0415

    counts = summarize(what.analysis, what.vms, what.clusters)
    return attrs.evolve(counts, hosts=len(what.hosts()), data_conflicts=len(conflicts_shown(what))).as_dict()


def _group_limiting(items: Sequence[LimitingHost]) -> list[tuple[list[str], LimitingHost]]:
    """Hosts that lack the same things for the same mode, together."""
    groups: dict[tuple[object, ...], tuple[list[str], LimitingHost]] = {}
    for x in items:
        key = (x.mode, x.missing.mask, x.undetermined.mask, x.needs_esxi)
        groups.setdefault(key, ([], x))[0].append(x.host)
    return list(groups.values())


def _limiting_text(hosts: Sequence[str], x: LimitingHost) -> str:
    parts = []
    if x.missing or x.undetermined:
        parts.append(_short(x.missing.names() or x.undetermined.names(), 4))
    if x.needs_esxi:
        parts.append(f"needs ESXi {x.needs_esxi}+")
    verb = "lacks" if len(hosts) == 1 else "lack"
    return f"{_short(list(hosts), 3)} {verb} {x.mode}: {'; '.join(parts)}"


#: Above this many hosts the readable report summarises them instead of listing each.
HOST_ROWS = 200
#: Above this many rows (distinct VM situations, clusters) the readable report summarises a table: VM
#: situations one row per verdict instead of one per target, largest first.
DETAIL_ROWS = 100
#: How many rows a summarised table shows in an unfiltered report; a line says how many more there are
#: and how to see them (``--cluster``, ``--vm``, ``--explain``, ``--format csv``/``json``).
TOP_ROWS = 40


def _kinds(g: GroupVerdict) -> str:
    """What stops a group of VMs, in a few words: reason kinds with how many targets each blocks."""
    count: dict[str, int] = {}
    for reasons in g.blocked.values():
        for kind in {r.kind for r in reasons}:
            count[kind] = count.get(kind, 0) + 1
    words = {"features": "CPU features", "vendor": "other CPU vendor", "hardware_version": "hardware version",
             "per_vm_evc": "per-VM EVC mode", "undetermined": "unknown CPU data", "no_hosts": "no available host",
             "microcode": "host microcode/firmware", "guest_os": "guest OS floor"}
    return ", ".join(f"{words.get(k, k)} ({n})" for k, n in sorted(count.items(), key=lambda kv: -kv[1]))


def _mode_text(mode: EvcMode | None, fallback: str = "-") -> str:
    if mode is None:
        return fallback
    return mode.key + ("*" if mode.confidence != "confirmed" else "")


def render_check(view: CheckView, fmt: str) -> str:
    """The readable report: clusters, hosts, then VMs that cannot move everywhere, with reasons."""
    if fmt == "html":
        from evckit.html import render_html  # noqa: PLC0415 - Jinja2 loads only for this format

        return render_html(view)
    if fmt in STREAMED_FORMATS:
        buf = io.StringIO()
        write_check(view, fmt, buf)
        return buf.getvalue().rstrip("\n")
    a = view.analysis
    parts: list[str] = []
    if view.vm_filter:
        memo: dict[tuple[object, ...], list[str]] = {}
        parts.extend(vm_answer(v, a, fmt, memo) for v in view.vms)
        if not view.estate:
            if fmt == "table":
                parts.append("(estate tables: add --estate)")
            return "\n\n".join(parts)
    s = summary(view)
    filtered = view.cluster_filter or view.vm_filter
    stuck = s["vms_not_movable_everywhere"]
    line = (f"{_n(s['hosts'], 'host')}, {_n(s['clusters'], 'cluster')}, {_n(s['vms'], 'VM')} "
            f"({s['running_vms']} running){' shown' if filtered else ''}; {_n(stuck, 'running VM')} "
            f"cannot live-migrate to every other cluster of {'its' if stuck == 1 else 'their'} CPU vendor; "
            f"VMs needing a power cycle: {s['vms_needing_power_cycle']}")
    # The source on a line of its own: its length never changes how the summary wraps.
    parts.append(f"{printable(a.inventory.source)}:\n{paragraph(line)}" if fmt == "table"
                 else f"**{printable(a.inventory.source)}**: {line}")
    parts.extend(printable(n) for n in a.notes)
    # An unfiltered report of a large estate shows the top of each long table and says how to see the
    # rest; with --vm, --cluster or --explain every row the filter selects is listed.
    whole = view.explain or view.vm_filter or view.cluster_filter
    parts.extend(_recommendation_section(view, fmt, whole))
    parts.extend(_cluster_section(view, fmt, whole))
    hosts = view.hosts()
    if len(hosts) <= HOST_ROWS or view.explain:
        hrow = []
        for hr in hosts:
            h = hr.host
            state = h.connection_state + (", maintenance" if h.maintenance else "")
            hrow.append([h.name, _mode_text(hr.verdict.max_mode, "none"), h.cluster or "-",
                         h.cpu_model or h.cpu.brand or (h.cpu.generation.label if h.cpu.generation else "?"),
                         (f"ESXi {h.esxi_version or '?'} (vmx-{hr.max_hw_version or '?'}), "
                          f"{'assumed' if h.cpu.assumed else 'measured'} CPU, {state}")])
        parts.append(_title("Hosts", fmt) + table(hrow, ["host", "max EVC mode", "cluster", "CPU", "ESXi, CPU data, state"],
                                                  fmt, wrap=[None, None, None, 1, 1]))
    else:
        parts.append(f"Hosts: {len(hosts)} (listed with --explain, or in --format json)")
    parts.extend(_vm_section(view, fmt, whole))
    parts.extend(_power_cycle_section(view, fmt, whole))
    conflicts: dict[tuple[object, ...], list[DataConflict]] = {}
    for dc in conflicts_shown(view):
        conflicts.setdefault((dc.vcenter, dc.host, dc.source, dc.message), []).append(dc)
    if conflicts:
        title = ("Data conflicts: running VMs evckit's data says cannot run where they run "
                 "(the data is wrong there; no verdict refuses them on their host)")
        if len(conflicts) <= DETAIL_ROWS or view.explain:
            drow = [[_short([x.vm for x in dcs], 3), dcs[0].host, dcs[0].cluster or "-", dcs[0].source,
                     dcs[0].message] for dcs in conflicts.values()]
            head = ["vm", "host", "cluster", "disagreeing data", "conflict"]
        else:  # one row per kind of disagreement, not per host
            kinds: dict[tuple[str, str], list[DataConflict]] = {}
            for dcs in conflicts.values():
                kinds.setdefault((dcs[0].source, dcs[0].message), []).extend(dcs)
            drow = [[f"{len(dcs)} VMs: " + _short([x.vm for x in dcs], 3),
                     f"{len({(x.vcenter, x.host) for x in dcs})} hosts: " + _short(sorted({x.host for x in dcs}), 3),
                     _short(sorted({x.cluster or "-" for x in dcs}), 3), dcs[0].source, dcs[0].message]
                    for dcs in kinds.values()]
            head = ["vms", "hosts", "clusters", "disagreeing data", "conflict"]
            title += " (summary: --explain, or --format json, lists each host)"
        parts.append(_title(title, fmt) + table(drow, head, fmt, wrap=[1, 1, 1, None, 1]))
    if fmt in ("table", "markdown") and any(c.max_evc_mode and c.max_evc_mode.confidence != "confirmed"
                                            for c in view.clusters):
        legend = "* unconfirmed baseline: no public source lists the mode's exact features (evckit modes KEY)"
        parts.append(legend if fmt == "table" else f"\\{legend}")
    if fmt == "table":
        return "\n\n".join(paragraph(p) if "\n" not in p else p for p in parts)
    return "\n\n".join(parts)


def _ranked(groups: Iterable[list[VMResult]], key: Callable[[VMResult], object]) -> list[list[list[VMResult]]]:
    """Groups of VMs gathered by ``key`` of their first VM, the most VMs first (ties in order of appearance)."""
    merged: dict[object, list[list[VMResult]]] = {}
    for same in groups:
        merged.setdefault(key(same[0]), []).append(same)
    return sorted(merged.values(), key=lambda gs: sum(map(len, gs)), reverse=True)


def _where(groups: Sequence[list[VMResult]]) -> str:
    """The cluster of groups of VMs, or how many clusters they are in."""
    labels = dict.fromkeys(same[0].cluster_label or "-" for same in groups)
    return next(iter(labels)) if len(labels) == 1 else _n(len(labels), "cluster")


def _situations_left_out(ranked: Sequence[Sequence[Sequence[object]]], shown: int, how: str) -> list[str]:
    """The line under a table of situations (each a list of VM groups) that shows the ``shown`` largest."""
    rest = ranked[shown:]
    if not rest:
        return []
    return [_left_out(len(rest), "situation", sum(len(s) for gs in rest for s in gs),
                      f"the table lists the {shown} largest of {len(ranked)}; --cluster NAME or --vm NAME lists "
                      f"those it selects; {how}")]


def _left_out(more: int, noun: str, vms: int | None, how: str) -> str:
    """The line under a summarised table: how much it left out and how to see it."""
    counted = f" ({_n(vms, 'VM')})" if vms is not None else ""
    return f"{more} more {noun}{'' if more == 1 else 's'}{counted} not shown: {how}"


def _acts(r: Recommendation) -> bool:
    """Whether a recommendation asks for something (a change of mode, VMs or hosts to act on)."""
    return r.action != "keep" or bool(r.evacuate or r.power_cycle or r.excluded_hosts or r.guest_floors)


def _recommendation_section(view: CheckView, fmt: str, whole: bool) -> list[str]:
    """The recommendation per cluster; above `DETAIL_ROWS` clusters (unfiltered) the `TOP_ROWS` that ask
    the most (VMs and hosts to act on), then a line counting the rest by action."""
    recs = [(c, c.recommendation) for c in view.clusters if c.recommendation is not None]
    if not recs:
        return []
    title, footer = "Recommended EVC mode per cluster", []
    if len(recs) > DETAIL_ROWS and not whole:
        recs.sort(key=lambda cr: (not _acts(cr[1]), -(len(cr[1].evacuate) + len(cr[1].power_cycle)
                                                       + len(cr[1].guest_floors) + len(cr[1].excluded_hosts))))
        recs, rest = recs[:TOP_ROWS], recs[TOP_ROWS:]
        title += f" (the {TOP_ROWS} of {len(recs) + len(rest)} with the most VMs and hosts to act on)"
        actions: dict[str, int] = {}
        for _, r in rest:
            actions[r.action] = actions.get(r.action, 0) + 1
        acting = sum(_acts(r) for _, r in rest)
        footer.append(_left_out(len(rest), "cluster", None,
                                ", ".join(f"{k} {n}" for k, n in sorted(actions.items(), key=lambda kv: -kv[1]))
                                + f" ({acting} of them with a change or VMs or hosts to act on); --cluster NAME "
                                  "shows a cluster's plan, --format json every plan (each cluster's recommendation)"))
    rrow = [_recommendation_row(c.label, r) for c, r in recs]
    return [_title(title, fmt) + table(rrow, ["cluster", "do", "plan", "cost: features each host hides"], fmt,
                                       wrap=[None, 1, 1, 1]), *footer]


def _cluster_problems(c: ClusterResult) -> int:
    """How much a cluster's notes ask for: its reason, hosts it does not admit, VMs blocking a lower mode."""
    return bool(c.reason) + len(c.not_admitted) + sum(len(vms) for vms in c.blocking_lower.values())


def _cluster_section(view: CheckView, fmt: str, whole: bool) -> list[str]:
    """The clusters; above `DETAIL_ROWS` (unfiltered) the `TOP_ROWS` with the most problems first."""
    clusters: Sequence[ClusterResult] = view.clusters
    title, footer = "Clusters", []
    if len(clusters) > DETAIL_ROWS and not whole:
        ranked = sorted(clusters, key=_cluster_problems, reverse=True)
        clusters, rest = ranked[:TOP_ROWS], ranked[TOP_ROWS:]
        title += f" (the {TOP_ROWS} of {len(ranked)} with the most problems)"
        footer.append(_left_out(len(rest), "cluster", None,
                                f"{sum(_cluster_problems(c) > 0 for c in rest)} with problems; --cluster NAME lists "
                                "those it selects, --format csv --csv-table clusters or --format json every cluster"))
    crow = []
    for c in clusters:
        limiting = "; ".join(_limiting_text(hosts, x) for hosts, x in _group_limiting(c.limiting_hosts))
        problems = [c.reason] if c.reason else []
        problems += [f"{x.host} cannot run {x.mode}" + (f": {x.vendor} CPU" if x.vendor else "")
                     for x in c.not_admitted]
        problems += [f"lowering to {k} blocked by {_short(list(vms), 3)}" for k, vms in c.blocking_lower.items() if vms]
        if c.assumed_hosts:
            problems.append(f"assumed CPU: {_short(list(c.assumed_hosts), 3)}")
        crow.append([c.label, f"{_mode_text(c.evc_mode, 'disabled')} / {_mode_text(c.max_evc_mode, 'none')}",
                     limiting or "-", "; ".join(problems) or "-", f"{len(c.hosts)} {', '.join(c.vendors)}"])
    return [_title(title, fmt) + table(crow, ["cluster", "EVC mode / max", "held back by", "notes", "hosts"],
                                       fmt, wrap=[None, 1, 1, 1, 1]), *footer]


def _vm_section(view: CheckView, fmt: str, whole: bool) -> list[str]:
    """The VMs that cannot move everywhere (every VM with ``--explain``), with the reasons.

    VMs that share a verdict, cluster and state share rows: an estate of 100,000 VMs has as many
    situations as distinct verdicts x clusters x states, not VMs. Up to `DETAIL_ROWS` situations, a row
    per target; above, a row per verdict (VMs of every cluster and state together), largest first, and
    an unfiltered report shows the `TOP_ROWS` largest and says how to see the rest. With ``--explain``,
    a row per situation and target up to `EXPLAIN_ROWS` rows (or filtered); above, unfiltered, each
    verdict and target once (`_explain_grouped`).
    """
    if view.explain and not (view.vm_filter or view.cluster_filter):
        statements = _explain_statements(view.vms)
        if statements > EXPLAIN_ROWS:
            return _explain_grouped(view, fmt, statements)
    together: dict[tuple[object, ...], list[VMResult]] = {}
    vendor_only: dict[int, bool] = {}  # per-verdict facts, worked out once for all VMs sharing the verdict
    for v in view.vms:
        g = v.verdict
        only_vendor = vendor_only.get(id(g))
        if only_vendor is None:  # per verdict, not per VM
            only_vendor = vendor_only[id(g)] = all(g.other_vendor_only(t) for t in g.blocked)
        if not view.explain and only_vendor and v.power_cycle is None:
            continue  # it can go everywhere its CPU vendor can
        vm = v.vm
        key: tuple[object, ...] = (id(g), v.cluster_label, vm.power_state, vm.hardware_version, vm.per_vm_evc,
                                   v.vendor)
        if view.explain:  # what a "yes" says depends on the VM's requirement too (`_why_yes`)
            key += (len(v.requirement),)
        together.setdefault(key, []).append(v)
    if not together:
        return []
    if not view.explain and len(together) > DETAIL_ROWS:
        ranked = _ranked(together.values(), lambda v: (id(v.verdict), v.vm.running))
        shown = ranked if whole else ranked[:TOP_ROWS]
        title = "VMs that cannot move everywhere (summary: --vm NAME, --cluster NAME or --explain for every reason)"
        vrow: list[list[Any]] = []
        for groups in shown:
            g = groups[0][0].verdict
            vrow.append([sum(map(len, groups)), groups[0][0].vm.name, _where(groups),
                         _short(list(dict.fromkeys(_state(same[0]) for same in groups)), 1), len(g.blocked), _kinds(g)])
        out = [_title(title, fmt) + table(vrow, ["VMs", "for example", "from", "state", "clusters it cannot reach",
                                                 "why not (clusters each reason stops it at)"], fmt,
                                          wrap=[None, None, None, 1, 1, 1])]
        out += _situations_left_out(ranked, len(shown), "--explain every VM and target; --format csv or "
                                                        "--format json states every VM's verdict")
        return out
    clusters = {c.label: c for c in view.analysis.clusters}
    yes: dict[tuple[object, ...], str] = {}
    vrow = []
    for same in together.values():
        v = same[0]
        who, where, state = _short([x.vm.name for x in same], 3), v.cluster_label or "-", _state(v)
        for targets, why in _why_not(v):
            vrow.append([who, targets[0] if len(targets) == 1 else _short(targets, 4), why, where, state])
        if view.explain:
            for target, why in _yes(v, clusters, yes):
                vrow.append([who, target, why, where, state])
    if not vrow:
        return []
    title = "VM verdicts" if view.explain else "VMs that cannot move everywhere"
    return [_title(title, fmt) + table(vrow, ["vm", "target", "verdict" if view.explain else "why not", "from", "state"],
                                       fmt, wrap=[1, 1, 1, None, 1])]


def _explain_statements(vms: Sequence[VMResult]) -> int:
    """How many VM x target statements ``--explain`` makes of ``vms``: each target a VM cannot fully
    reach and each it can reach (per verdict once)."""
    per: dict[tuple[int, bool], int] = {}
    total = 0
    for v in vms:
        running = v.vm.running
        n = per.get((id(v.verdict), running))
        if n is None:
            g = v.verdict
            n = per[(id(g), running)] = len(g.blocked) + len(g.live_targets if running else g.cold_targets)
        total += n
    return total


def _why_not(v: VMResult) -> list[tuple[list[str], str]]:
    """What ``--explain`` says of a VM where it cannot go: each target it cannot fully reach with its
    reasons (and the hosts that take it where only some do), then the targets of another CPU vendor
    together, in one line. It depends only on the VM's verdict and vendor."""
    g = v.verdict
    out: list[tuple[list[str], str]] = []
    other_vendor = []
    for target, reasons in g.blocked.items():
        if g.other_vendor_only(target):
            other_vendor.append(target)
            continue
        why = "; ".join(r.message for r in reasons)
        partial = g.partial.get(target)
        if partial:
            why = f"only {_short(list(partial), 3)} can take it; " + why
        out.append(([target], why))
    if other_vendor:
        out.append((other_vendor, f"other CPU vendor (the VM runs on {v.vendor})"))
    return out


def _yes(v: VMResult, clusters: dict[str, ClusterResult], memo: dict[tuple[object, ...], str]) -> list[tuple[str, str]]:
    """What ``--explain`` says of a VM where it can go (live if it runs, else cold): each target and why
    (`_why_yes` of `VMResult.evidence`). The evidence reads the VM's state, vendor, requirement and
    hardware version and the target's EVC mode and hardware version: ``memo`` keeps the text of each
    distinct combination (a few dozen across 1,000 clusters and 100,000 VMs)."""
    vm = v.vm
    own = (vm.running, v.vendor, len(v.requirement), vm.hardware_version)
    out = []
    for target in v.verdict.live_targets if vm.running else v.verdict.cold_targets:
        c = clusters[target]
        key = (own, c.evc_mode.key if c.evc_mode is not None else None, c.max_hw_version)
        text = memo.get(key)
        if text is None:
            text = memo[key] = _why_yes(v.evidence(c))
        out.append((target, text))
    return out


#: Above this many VM x target statements, an unfiltered ``--explain`` states each verdict and target
#: once for the VMs that share it, instead of once per situation (10,000 VMs in 1,000 clusters make
#: millions of statements); ``--vm`` and ``--cluster`` keep the listing per VM.
EXPLAIN_ROWS = 5000


@attrs.frozen
class Explained:
    """What ``--explain`` says of the VMs that share a verdict and CPU vendor: ``lines`` of targets, the
    text that holds at each of them, and the VMs it holds for (all of ``vms`` for the targets they cannot
    fully reach; where they can go, the text also counts each VM's features and hardware version)."""

    vms: tuple[VMResult, ...]
    lines: tuple[tuple[tuple[str, ...], str, tuple[VMResult, ...]], ...]


def explain_groups(view: CheckView) -> list[Explained]:
    """The VMs of a view by verdict and vendor, the most VMs first, each group with its lines once: each
    target it cannot fully reach with its reasons (the other CPU vendor's together), then the targets it
    can reach, those with the same explanation together. Work and size grow with VMs + groups x
    clusters, never VMs x clusters."""
    groups: dict[tuple[object, ...], tuple[list[VMResult], dict[tuple[int, int], list[VMResult]]]] = {}
    for v in view.vms:  # one pass: the VMs of each group, and of each requirement size and hardware version
        vm = v.vm
        key = (id(v.verdict), vm.running, v.vendor)
        grp = groups.get(key)
        if grp is None:
            grp = groups[key] = ([], {})
        grp[0].append(v)
        alike = grp[1].get((len(v.requirement), vm.hardware_version))
        if alike is None:
            grp[1][(len(v.requirement), vm.hardware_version)] = [v]
        else:
            alike.append(v)
    clusters = {c.label: c for c in view.analysis.clusters}
    memo: dict[tuple[object, ...], str] = {}
    out = []
    for members, alikes in sorted(groups.values(), key=lambda g: len(g[0]), reverse=True):
        vms = tuple(members)
        lines = [(tuple(ts), why, vms) for ts, why in _why_not(vms[0])]
        # Where they can go, the text depends on each VM's features and hardware version too.
        for same in alikes.values():
            by_text: dict[str, list[str]] = {}
            for target, why in _yes(same[0], clusters, memo):
                by_text.setdefault(why, []).append(target)
            these = vms if len(same) == len(vms) else tuple(same)
            lines.extend((tuple(ts), why, these) for why, ts in by_text.items())
        out.append(Explained(vms, tuple(lines)))
    return out


def _explain_grouped(view: CheckView, fmt: str, statements: int) -> list[str]:
    """``--explain`` of a large unfiltered estate: each verdict and target once, for all the VMs that
    share it, laid out as one VM's answer is (`vm_answer`): a line saying which VMs (how many, their
    states, where they are, the first names), then a line per target they cannot fully reach with its
    reasons, then the targets that say the same (the other CPU vendor's, those they can go to) on one
    line, named after the reason. ``statements`` is how many VM x target statements this stands for."""
    groups = explain_groups(view)
    width = terminal_width()
    blocks = []
    for grp in groups:
        vms = grp.vms
        labels = {v.cluster_label for v in vms}
        first: dict[tuple[object, ...], VMResult] = {}  # a VM of each state, formatted once
        for v in vms:
            first.setdefault((v.vm.power_state, v.vm.hardware_version, v.vm.per_vm_evc), v)
        head = (f"{_n(len(vms), 'VM')} ({_short([_state(v) for v in first.values()], 2)}) in "
                + (vms[0].cluster_label or "-" if len(labels) == 1 else _n(len(labels), "cluster")) + ": "
                + _first_names(vms, 3))
        lines = []
        for targets, why, these in grp.lines:
            if len(these) != len(vms):
                why = f"for {_n(len(these), 'VM')} of them ({_first_names(these, 2)}): {why}"
            lines.append(f"{targets[0]}: {why}" if len(targets) == 1
                         else f"{_n(len(targets), 'cluster')}: {why}: {', '.join(targets)}")
        body = _answer_lines(lines, fmt, width)
        blocks.append(f"### {printable(head)}\n\n" + "\n".join(body) if fmt == "markdown"
                      else "\n".join(_wrap(printable(head), width, "  ") + body))
    title = (f"VM verdicts, each stated once for the VMs that share it ({_n(len(groups), 'verdict')} of "
             f"{_n(len(view.vms), 'VM')})")
    note = (f"Per VM, these are {statements:,} statements (VM x target): --vm NAME or --cluster NAME with "
            "--explain lists the VMs they select one by one; --format csv --explain writes a line per VM and "
            "target it cannot fully reach; --format json states each verdict once with every VM's reference to it")
    return [_title(title, fmt).rstrip("\n"), note, *blocks]


def _first_names(vms: Sequence[VMResult], limit: int) -> str:
    """`_short` of the VMs' names, reading only the first ``limit``."""
    shown = ", ".join(v.vm.name for v in vms[:limit])
    return shown + (f" +{len(vms) - limit} more" if len(vms) > limit else "")


def _power_cycle_section(view: CheckView, fmt: str, whole: bool) -> list[str]:
    """Running VMs below their cluster's EVC mode; above `DETAIL_ROWS` rows one per mode and missing
    features (VMs of every cluster together), largest first, the `TOP_ROWS` largest when unfiltered."""
    cycles: dict[tuple[object, ...], list[VMResult]] = {}
    for v in view.vms:
        if v.power_cycle is not None:
            cycles.setdefault((id(v.power_cycle), v.cluster_label), []).append(v)
    if not cycles:
        return []
    title = "VMs needing a power cycle to use their cluster's EVC mode"
    if len(cycles) <= DETAIL_ROWS:
        prow = [[_short([x.vm.name for x in same], 3), same[0].cluster_label or "-", same[0].power_cycle.mode,
                 _short(same[0].power_cycle.missing.names(), 8)]
                for same in cycles.values() if same[0].power_cycle is not None]
        return [_title(title, fmt) + table(prow, ["vm", "cluster", "EVC mode", "features it does not use yet"], fmt,
                                           wrap=[1, None, None, 1])]
    ranked = _ranked(cycles.values(), lambda v: (v.power_cycle.mode, v.power_cycle.missing.mask)
                     if v.power_cycle is not None else None)
    shown = ranked if whole else ranked[:TOP_ROWS]
    title += ", by mode and features"
    srow: list[list[Any]] = []
    for groups in shown:
        pc = groups[0][0].power_cycle
        if pc is not None:
            srow.append([sum(map(len, groups)), groups[0][0].vm.name, _where(groups), pc.mode,
                         _short(pc.missing.names(), 8)])
    out = [_title(title, fmt) + table(srow, ["VMs", "for example", "in", "EVC mode", "features it does not use yet"],
                                      fmt, wrap=[None, None, None, None, 1])]
    out += _situations_left_out(ranked, len(shown), "--format csv (needs_power_cycle) or --format json states "
                                                    "each VM's power cycle")
    return out


def _n(count: int, noun: str) -> str:
    """``1 host``, ``2 hosts``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def vm_answer(v: VMResult, a: Analysis, fmt: str = "table",
              memo: dict[tuple[object, ...], list[str]] | None = None) -> str:
    """One VM's answer, first: where it can go live, only to some hosts, cold only, and where not and why.

    The lines about targets depend only on the VM's verdict, state, cluster and vendor: with ``memo``
    (one dict for a report), VMs that share them share those lines, laid out once.
    """
    g = v.verdict
    vm = v.vm
    own = v.cluster_label
    head = (f"{vm.name}: {vm.power_state} vmx-{vm.hardware_version}"
            + (f", {v.vendor} CPU" if v.vendor else "") + (f", in {own}" if own else "")
            + (f" on {vm.host}" if vm.host else "") + (f", per-VM EVC {vm.per_vm_evc}" if vm.per_vm_evc else ""))
    before: list[str] = []
    floors = None
    if vm.guest_id or vm.guest_os:
        from evckit.guests import GuestFloors  # noqa: PLC0415 - only when a guest OS is known

        floors = GuestFloors.for_catalog(a.inventory.catalog).lookup(vm.guest_id, vm.guest_os)
    if floors is not None:
        before.append(f"guest OS: {floors.describe()}")
    width = terminal_width()
    key = (id(g), vm.running, own, v.vendor, fmt, width)
    targets = memo.get(key) if memo is not None else None
    if targets is None:
        targets = _answer_lines(_target_lines(g, vm.running, own, v.vendor), fmt, width)
        if memo is not None:
            memo[key] = targets
    after = []
    if v.power_cycle is not None:
        after.append(f"needs a power cycle to use its cluster's EVC mode {v.power_cycle.mode} "
                     f"({len(v.power_cycle.missing)} features it does not use yet)")
    after.extend(f"note: {n}" for n in v.notes)
    lines = _answer_lines(before, fmt, width) + targets + _answer_lines(after, fmt, width)
    if fmt == "markdown":
        return f"### {printable(head)}\n\n" + "\n".join(lines)
    return "\n".join(_wrap(printable(head), width, "  ") + lines)


def _answer_lines(lines: Sequence[str], fmt: str, width: int) -> list[str]:
    """Lines of a VM's answer as printed: escaped, as a Markdown list or indented and wrapped to ``width``
    (lines starting with four spaces are nested)."""
    out: list[str] = []
    for line in lines:
        line = printable(line)
        nested = line.startswith("    ")
        if fmt == "markdown":
            out.append(("  - " + line.strip()) if nested else f"- {line}")
        else:
            out.extend(_wrap(("    " if nested else "  ") + line.strip(), width, "      " if nested else "    "))
    return out


def _target_lines(g: GroupVerdict, running: bool, own: str | None, vendor: str | None) -> list[str]:
    """Where a VM of verdict ``g`` goes live, only to some hosts, cold only, and where not and why."""

    def mark(label: str) -> str:
        return f"{label} (its own)" if label == own else label

    def why(t: str) -> str:
        reasons = g.blocked.get(t, ())
        if reasons and all(r.kind == "vendor" for r in reasons):
            return f"other CPU vendor (the VM runs on {vendor})" if vendor else reasons[0].message
        return "; ".join(r.message for r in reasons)

    def grouped(targets: Sequence[str]) -> list[str]:
        # Targets refused for the same reason (typically: the other CPU vendor) share one line.
        by_why: dict[str, list[str]] = {}
        for t in targets:
            by_why.setdefault(why(t), []).append(mark(t))
        return [f"    {_short(ts, 6)}: {w}" for w, ts in by_why.items()]

    lines = []
    cold = set(g.cold_targets)  # sets: a verdict names up to every cluster of the estate
    if running:
        live = set(g.live_targets)
        lines.append("live to: " + (", ".join(mark(t) for t in g.live_targets) or "no cluster"))
        for t, hosts in g.partial.items():
            lines.append(f"only some hosts of {mark(t)}: {_short(list(hosts), 4)}; not the others: {why(t)}")
        cold_only = [t for t in g.cold_targets if t not in live and t not in g.partial]
        if cold_only:
            lines.append("cold only, after powering it off:")
            lines.extend(grouped(cold_only))
        nowhere = [t for t in g.blocked if t not in g.partial and t not in cold]
    else:
        lines.append("cold to: " + (", ".join(mark(t) for t in g.cold_targets) or "no cluster"))
        nowhere = [t for t in g.blocked if t not in cold]
    if nowhere:
        lines.append("not at all:")
        lines.extend(grouped(nowhere))
    return lines


def recommendation_plan(r: Recommendation) -> list[str]:
    """The steps of a recommendation, in order, as short sentences."""
    steps = []
    if r.excluded_hosts:
        steps.append("move out " + "; ".join(f"{x.host} ({x.reason})" for x in r.excluded_hosts[:3])
                     + (f" and {len(r.excluded_hosts) - 3} more" if len(r.excluded_hosts) > 3 else ""))
    if r.evacuate:
        verb = "enabling" if r.action == "enable" else "lowering"
        steps.append(f"before {verb}, power off or move out "
                     + ", ".join(f"{a.vm} (uses {_short(a.features.names(), 3)})" for a in r.evacuate[:4])
                     + (f" and {len(r.evacuate) - 4} more" if len(r.evacuate) > 4 else ""))
    if r.power_cycle:
        steps.append(f"power-cycle {_short([a.vm for a in r.power_cycle], 4)} to use {r.mode.key if r.mode else '-'}")
    for b in r.guest_floors[:3]:
        steps.append("guest OS floor: " + b.message)
    if len(r.guest_floors) > 3:
        steps.append(f"guest OS floor: {len(r.guest_floors) - 3} more VMs")
    for hosts, x in _group_limiting(r.held_back_by):
        steps.append("to go higher: " + _limiting_text(hosts, x))
    for k, fs in r.undetermined.items():
        steps.append(f"{k} undetermined: the CPU data does not show {_short(fs.names(), 4)}")
    return steps


def recommendation_cost(r: Recommendation) -> str:
    """Per host, how many and which features the mode hides; hosts that lose the same are named together."""
    groups: dict[int, list[str]] = {}
    sets = {}
    for h in r.cost:
        groups.setdefault(h.hidden.mask, []).append(h.host)
        sets[h.hidden.mask] = h.hidden
    parts = []
    for mask, hosts in sorted(groups.items(), key=lambda kv: -len(sets[kv[0]])):
        fs = sets[mask]
        parts.append(f"{_short(hosts, 3)}: {len(fs)}" + (f" ({_short(fs.names(), 4)})" if fs else ""))
    return "; ".join(parts) or "-"


def _recommendation_row(label: str, r: Recommendation) -> list[Any]:
    do = r.summary + ("*" if r.mode is not None and r.mode.confidence != "confirmed" else "")
    if r.current is not None and r.action != "keep":
        do += f" (from {r.current.key})"
    plan = recommendation_plan(r)
    if r.action == "none":
        plan.insert(0, r.reason)
    return [label, do, plan or "nothing to do", recommendation_cost(r).split("; ") if r.mode else "-"]


def _why_yes(e: Evidence) -> str:
    """A "yes" explained the way a "no" is: what the analysis checked and why it holds."""
    hw = f"vmx-{e.hardware_version} runs on every available host" + (
        f" (up to vmx-{e.max_hw_version})" if e.max_hw_version else "")
    if e.migration == "cold":
        return f"cold migration possible: {hw}"
    if e.evc_mode is not None:
        cpu = f"its {e.features} required CPU features are guaranteed by EVC mode {e.evc_mode}"
    else:
        cpu = f"every host has its {e.features} required CPU features"
    return f"live migration possible: {e.vendor or 'same'} CPU vendor; {cpu}; {hw}"


def _title(text: str, fmt: str) -> str:
    return f"## {text}\n\n" if fmt == "markdown" else f"{text}\n"


def _state(v: VMResult) -> str:
    return f"{v.vm.power_state} vmx-{v.vm.hardware_version}" + (f" per-VM EVC {v.vm.per_vm_evc}" if v.vm.per_vm_evc else "")




# --- what-if -------------------------------------------------------------------------------------


def changes_json(result: ScenarioResult) -> list[dict[str, Any]]:
    """The top-level ``changes`` list of a what-if report."""
    return [{
        "cluster": c.cluster,
        "evc_mode": c.evc_mode,
        "max_evc_mode_before": c.max_evc_mode_before,
        "max_evc_mode_after": c.max_evc_mode_after,
        "new_hosts": [{"name": n.name, "cpu": n.cpu, "assumed": n.assumed, "max_evc_mode": n.max_evc_mode,
                       "joins_current_mode": n.joins_current_mode, "missing_for_current": list(n.missing_for_current),
                       "reason": n.reason} for n in c.new_hosts],
        "removed_hosts": list(c.removed_hosts),
        "vms_gaining_live_target": list(c.vms_gaining),
        "vms_losing_live_target": list(c.vms_losing),
        "power_cycle": ({"mode": c.power_cycle_mode, "vms": list(c.vms_needing_power_cycle)}
                        if c.power_cycle_mode else None),
        "vms_to_evacuate": list(c.vms_to_evacuate),
    } for c in result.changes]


def write_scenario(result: ScenarioResult, view: CheckView, fmt: str, out: TextIO, *,
                   csv_table: str | None = None, warn: Callable[[str], None] | None = None) -> None:
    """`render_scenario` written to ``out``; the JSON document (the check's, plus ``changes``) streamed.

    CSV is the table of changes, or with ``csv_table`` that table of the estate after the change.
    """
    if fmt in ("json", "json-groups", "json-expanded"):
        write_check(view, fmt, out, extra={"changes": changes_json(result)}, warn=warn)
        return
    if fmt == "csv" and csv_table:
        write_check(view, fmt, out, csv_table=csv_table)
        return
    text = render_scenario(result, view, fmt)
    out.write(text if text.endswith("\n") else text + "\n")


def render_scenario(result: ScenarioResult, view: CheckView, fmt: str) -> str:
    """The estate after a what-if, preceded by a before/after summary of each affected cluster."""
    if fmt == "html":
        from evckit.html import render_html  # noqa: PLC0415 - Jinja2 loads only for this format

        return render_html(view, result)
    if fmt in ("json", "json-groups", "json-expanded"):
        buf = io.StringIO()
        write_scenario(result, view, fmt, buf)
        return buf.getvalue().rstrip("\n")
    rows = []
    for c in result.changes:
        joins = []
        for n in c.new_hosts:
            verdict = "joins" if n.joins_current_mode else "cannot join" if n.joins_current_mode is False else "no EVC"
            joins.append(f"{n.name} ({n.cpu}{', assumed' if n.assumed else ''}): {verdict}"
                         + (f": {n.reason}" if n.reason else ""))
        if c.removed_hosts:
            joins.append("retired: " + _short(list(c.removed_hosts), 4))
        cycle = (f"raising to {c.power_cycle_mode}: {_short(list(c.vms_needing_power_cycle), 4) or 'none'}"
                 if c.power_cycle_mode else "-")
        rows.append([c.cluster, c.evc_mode or "disabled", f"{c.max_evc_mode_before or 'none'} -> {c.max_evc_mode_after or 'none'}",
                     "; ".join(joins) or "-", _short(list(c.vms_gaining), 4) or "-", _short(list(c.vms_losing), 4) or "-",
                     cycle])
    changes = table(
        rows, ["cluster", "EVC mode", "max EVC mode", "hosts", "VMs gaining it as live target",
               "VMs losing it", "power cycle needed"], fmt, wrap=[None, None, None, 50, 30, 30, 40])
    if fmt == "csv":
        return changes  # CSV is the table alone: a title line would make it unreadable as CSV
    head = _title("What changes", fmt) + changes
    return head + "\n\n" + render_check(view, fmt)


def compare_json(cluster: str, candidates: Sequence[Candidate]) -> dict[str, Any]:
    """``--compare-cpus`` as JSON: candidates best first."""
    return {"cluster": cluster, "candidates": [{
        "rank": i + 1, "cpu": c.cpu, "vendor": c.vendor, "generation": c.generation, "assumed": c.assumed,
        "max_evc_mode": c.max_evc_mode, "cluster_max_evc_mode": c.cluster_max_evc_mode,
        "joins_current_mode": c.joins_current_mode, "missing_for_current": list(c.missing_for_current),
        "vms_that_fit": c.vms_that_fit, "vms_considered": c.vms_considered,
        "hidden_features": list(c.hidden.names()), "reason": c.reason,
    } for i, c in enumerate(candidates)]}


def render_compare(cluster: str, candidates: Sequence[Candidate], fmt: str) -> str:
    """``--compare-cpus`` as a ranked table."""
    if fmt == "json":
        return dumps(compare_json(cluster, candidates))
    rows = [[i + 1, c.cpu, c.generation or "?", c.max_evc_mode or "none",
             c.cluster_max_evc_mode or "none",
             "yes" if c.joins_current_mode else "no EVC" if c.joins_current_mode is None else f"no: {c.reason}",
             f"{c.vms_that_fit}/{c.vms_considered}", f"{len(c.hidden)}: {_short(c.hidden.names(), 5)}" if c.hidden else "0"]
            for i, c in enumerate(candidates)]
    out = table(rows, ["rank", "CPU", "generation", "its max mode", f"{cluster} would reach", "joins at current mode",
                       "running VMs that fit", "features hidden by the cluster's mode"], fmt,
                wrap=[None, 30, 24, None, None, 40, None, 50])
    if fmt == "table" and any(c.assumed for c in candidates):
        out += "\n\nassumed: features come from the CPU name (the generation's expected baseline), not a measurement"
    return out
