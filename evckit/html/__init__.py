"""The HTML report: one self-contained file for people to read, mail around and print.

``evckit check … --format html -o report.html`` writes it. Everything is inline (CSS, a small script,
the data the script shows on demand); a Content-Security-Policy ``default-src 'none'`` that admits
only that exact CSS and script (by their SHA-256) keeps any request from leaving the file, so it opens
the same from a mail attachment, a file share or a web server.

Content: the summary and the data's confidence; a what-if's before and after; each cluster with its
EVC mode ladder (current, maximum, recommended when the analysis has a recommendation), the hosts that
hold it back and what they lack, and what a change costs; a matrix of VM groups (VMs that share a
verdict) x clusters whose cells say ``live`` / ``some hosts`` / ``cold only`` / ``cold`` / ``no`` with
their reasons on demand; the hosts; the VMs that need a power cycle.

It scales with groups, not VMs: rows are VM groups (about 60 for 100,000 generated VMs), long lists
(VM and host names) are collapsed, and on large estates clusters that answer every group alike share
a column and reasons come from one embedded, deduplicated table that the script reads when a cell is
opened. Small estates get every reason inline in ``<details>``, readable without any script and
printed expanded.

Templates use Jinja2 (extra ``html``) with autoescaping on: every name from an inventory is untrusted
input and is escaped where it is written, by construction rather than by remembering to. Renderers
never compute verdicts: this module only arranges what `evckit.analysis` decided.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Container, Iterable, Mapping, Sequence
from importlib import resources
from typing import TYPE_CHECKING, Any

import attrs

from evckit._text import printable
from evckit._version import version
from evckit.analysis import ClusterResult, GroupVerdict, LimitingHost, Reason, VMResult
from evckit.errors import EvckitError
from evckit.modes import EvcMode

if TYPE_CHECKING:
    from evckit.report import CheckView
    from evckit.whatif import ScenarioResult

__all__ = ["INSTALL_HINT", "MissingDependencyError", "render_html"]

INSTALL_HINT = "pip install 'evckit[html]'"

#: Above this many clusters, clusters that give every VM group the same answer share one column.
COMPACT_CLUSTERS = 40
#: Above this many matrix cells (rows x clusters), reasons are read on demand from embedded data.
INLINE_CELLS = 3000
#: Names shown before a list is collapsed into ``<details>``.
SHORT_LIST = 3

WORDS = {"live": "live", "some": "some hosts", "cold-only": "cold only", "cold": "cold", "no": "no"}


class MissingDependencyError(EvckitError, ImportError):
    """The HTML report needs Jinja2, which the ``html`` extra installs."""


def _status(g: GroupVerdict, running: bool, label: str, cold: Container[str] | None = None) -> str:
    """The word a matrix cell shows, read from the decided verdict (`GroupVerdict.status`): a running VM
    blocked live but in the cold targets (``cold``: them as a set, for many cells) can still move
    powered off ("cold only")."""
    st = g.status(label, running)
    if st == "partial":
        return "some"
    if st == "blocked":
        return "cold-only" if running and label in (g.cold_targets if cold is None else cold) else "no"
    return st


def _cell_reasons(g: GroupVerdict, running: bool, label: str, status: str) -> list[str]:
    """What a cell says on demand: the hosts that take the VMs where only some do, and every reason."""
    out = []
    partial = g.partial.get(label)
    if partial:
        out.append(f"live migration only to {_names(partial, 8)}")
    if status == "cold-only":
        out.append("cold migration (powered off) possible; live migration is not, because:")
    out.extend(r.message for r in g.blocked.get(label, ()))
    return out


def _unsure(reasons: Sequence[Reason]) -> bool:
    """True when the data cannot tell: every reason is a feature the CPU data does not show."""
    return bool(reasons) and all(r.kind == "undetermined" for r in reasons)


def _names(items: Sequence[str], limit: int = SHORT_LIST) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _mode_ref(mode: EvcMode | None) -> dict[str, Any] | None:
    if mode is None:
        return None
    return {"key": mode.key, "label": mode.label, "unconfirmed": mode.confidence != "confirmed"}


# --- the view model: plain values the template only formats ---------------------------------------


@attrs.frozen
class Step:
    """One rung of a cluster's EVC mode ladder and what it means for the cluster."""

    key: str
    label: str
    unconfirmed: bool
    roles: tuple[str, ...]
    notes: tuple[str, ...]


@attrs.frozen
class ClusterRow:
    """One cluster as the report shows it: modes, ladder, what holds it back, what changes cost."""

    label: str
    vcenter: str
    vendors: str
    hosts: int
    assumed: int
    evc: dict[str, Any] | None
    maximum: dict[str, Any] | None
    recommended: dict[str, Any] | None
    recommendation: str | None
    reason: str | None
    ladder: tuple[Step, ...]
    held_back: tuple[tuple[tuple[str, ...], str], ...]
    costs: tuple[str, ...]
    max_hw: int | None


@attrs.frozen
class Cell:
    """One matrix cell: its status word, whether the data cannot tell, and its reasons (inline mode)."""

    status: str
    word: str
    unsure: bool
    reasons: tuple[str, ...]


@attrs.frozen
class Row:
    """One matrix row: a group of VMs sharing a verdict, their names by home cluster, their cells."""

    index: int
    count: int
    running: bool
    by_cluster: tuple[tuple[str, tuple[str, ...]], ...]
    power_cycle: int
    assumed: int
    noted: int
    tally: tuple[tuple[str, int], ...]
    cells: tuple[Cell, ...]


@attrs.frozen
class Column:
    """One matrix column: a cluster, or (large estates) clusters that answer every row alike."""

    index: int
    labels: tuple[str, ...]
    evc: str | None
    assumed: bool
    unconfirmed: bool


@attrs.frozen
class HostRow:
    """Hosts alike (cluster, CPU, ESXi, mode, data, state, what they lack) in one row."""

    names: tuple[str, ...]
    cluster: str
    esxi: str
    max_hw: int | None
    cpu: str
    mode: dict[str, Any] | None
    assumed: bool
    state: str
    lacks: str
    undetermined: str
    esxi_note: str | None = None


def _ladder(c: ClusterResult, modes: Iterable[EvcMode], recommended: EvcMode | None) -> tuple[Step, ...]:
    """The modes from the lowest one that matters to the next one up, each with its role."""
    anchor = c.max_evc_mode or c.evc_mode or recommended
    if anchor is None:
        return ()
    lookup = {m.key: m for m in modes if m.vendor == anchor.vendor}
    keys = {anchor.key} | set(c.blocking_lower) | {x.mode for x in c.limiting_hosts}
    keys |= {m.key for m in (c.evc_mode, c.max_evc_mode, recommended) if m is not None}
    marked = [lookup[k] for k in keys if k in lookup]
    if not marked:
        return ()
    lo, hi = min(m.tier for m in marked), max(m.tier for m in marked)
    tracks = set(anchor.tracks)
    chosen = sorted((m for m in lookup.values() if lo <= m.tier <= hi and (tracks & set(m.tracks) or m in marked)),
                    key=lambda m: m.tier)
    held: dict[str, list[LimitingHost]] = {}
    for x in c.limiting_hosts:
        held.setdefault(x.mode, []).append(x)
    steps = []
    for m in chosen:
        roles: list[str] = []
        notes: list[str] = []
        if c.evc_mode is not None and m.key == c.evc_mode.key:
            roles.append("current")
        if any(m.key == x.key for x in c.max_evc_modes):
            roles.append("maximum")
        if recommended is not None and m.key == recommended.key:
            roles.append("recommended")
        if m.key in c.blocking_lower:
            vms = c.blocking_lower[m.key]
            notes.append(f"lowering blocked by {len(vms)} running VM{'s' if len(vms) != 1 else ''}: {_names(vms)}"
                         if vms else "lowering blocks no running VM")
        if m.key in held:
            hs = [x.host for x in held[m.key]]
            roles.append("held back")
            notes.append(f"{len(hs)} host{'s' if len(hs) != 1 else ''} cannot run it: {_names(hs)}")
        steps.append(Step(m.key, m.label, m.confidence != "confirmed", tuple(roles), tuple(notes)))
    return tuple(steps)


def _limiting(items: Sequence[LimitingHost]) -> tuple[tuple[tuple[str, ...], str], ...]:
    """Hosts that lack the same things for the same mode, together, with what they lack."""
    groups: dict[tuple[object, ...], tuple[list[str], LimitingHost]] = {}
    for x in items:
        groups.setdefault((x.mode, x.missing.mask, x.undetermined.mask, x.needs_esxi), ([], x))[0].append(x.host)
    out = []
    for hosts, x in groups.values():
        parts = []
        if x.missing:
            parts.append("lack" + ("s" if len(hosts) == 1 else "") + " " + ", ".join(x.missing.names()))
        if x.undetermined:
            parts.append("CPU data does not show " + ", ".join(x.undetermined.names()))
        if x.needs_esxi:
            parts.append(f"need{'s' if len(hosts) == 1 else ''} ESXi {x.needs_esxi} or later")
        out.append((tuple(hosts), f"for {x.mode}: " + "; ".join(parts)))
    return tuple(out)


def _recommendation(c: ClusterResult) -> tuple[EvcMode | None, str | None, list[str]]:
    """The analysis's recommendation for a cluster (`evckit.recommend`), where it makes one: the mode,
    one sentence, and what following it costs (hosts that cannot join, VMs to power off or move, power
    cycles, guest OS floors, features hidden from VMs)."""
    rec = c.recommendation
    if rec is None:
        return None, None, []
    if rec.mode is not None:
        text = f"Recommended: {rec.action} {rec.mode.key}" + (f": {rec.reason}" if rec.reason else "")
    else:
        text = "No EVC mode to recommend" + (f": {rec.reason}" if rec.reason else "")
    costs = [f"{x.host} cannot join it: {x.reason}" for x in rec.excluded_hosts]
    for actions, what in ((rec.evacuate, "to power off or move out first"),
                          (rec.power_cycle, "needing a power cycle to use it")):
        vms = [x.vm for x in actions]
        if vms:
            costs.append(f"{len(vms)} running VM{'s' if len(vms) != 1 else ''} {what}: {_names(vms)}")
    costs.extend(x.message for x in rec.guest_floors)
    hidden: dict[tuple[str, ...], list[str]] = {}
    for h in rec.cost:
        if h.hidden:
            hidden.setdefault(tuple(h.hidden.names()), []).append(h.host)
    for names, hosts in hidden.items():
        costs.append(f"hides {_names(list(names), 6)} from VMs on {_names(hosts)}")
    return rec.mode, text, costs


def _cluster_rows(view: CheckView, cycles: Mapping[str, list[VMResult]]) -> list[ClusterRow]:
    inv = view.analysis.inventory
    out = []
    for c in view.clusters:
        table = inv.modes_for(c.cluster.vcenter)
        rec_mode, rec_text, rec_costs = _recommendation(c)
        costs = rec_costs + [f"{x.host} cannot run the current mode {x.mode}" + (
            f" (lacks {_names(x.missing.names(), 8)})" if x.missing else "") for x in c.not_admitted]
        for key, vms in c.blocking_lower.items():
            if vms:
                costs.append(f"lowering to {key} would stop {len(vms)} running VM{'s' if len(vms) != 1 else ''} "
                             f"from moving in: {_names(vms)}")
        if c.raise_mode is not None:
            n = len(c.power_cycle_to_raise)
            costs.append(f"raising to {c.raise_mode.key}: " + (
                f"{n} running VM{'s need' if n != 1 else ' needs'} a power cycle to use it: "
                f"{_names(c.power_cycle_to_raise)}" if n else "no running VM needs a power cycle"))
        pc = cycles.get(c.label, [])
        if pc:
            costs.append(f"{len(pc)} running VM{'s need' if len(pc) != 1 else ' needs'} a power cycle to use the current "
                         f"mode: {_names([v.vm.name for v in pc])}")
        out.append(ClusterRow(
            c.label, c.cluster.vcenter, "/".join(c.vendors) or "-", len(c.hosts), len(c.assumed_hosts),
            _mode_ref(c.evc_mode), _mode_ref(c.max_evc_mode), _mode_ref(rec_mode), rec_text, c.reason,
            _ladder(c, table, rec_mode), _limiting(c.limiting_hosts), tuple(costs), c.max_hw_version,
        ))
    return out


def _host_rows(view: CheckView) -> list[HostRow]:
    """Hosts alike (cluster, CPU, ESXi, mode, data, state, what they lack) share a row."""
    names = {c.cluster.name for c in view.clusters} | {c.label for c in view.clusters}
    groups: dict[tuple[object, ...], list[str]] = {}
    first: dict[tuple[object, ...], HostRow] = {}
    for hr in view.analysis.hosts:
        h, v = hr.host, hr.verdict
        if h.cluster is not None and h.cluster not in names:
            continue
        cpu = h.cpu_model or h.cpu.brand or (h.cpu.generation.label if h.cpu.generation else "?")
        state = h.connection_state + (", maintenance" if h.maintenance else "")
        lacks = "; ".join([f"{k}: {_names(fs.names(), 6)}" for k, fs in v.missing_for_next.items() if fs]
                          + [f"{k}: {why}" for k, why in v.esxi_limited.items()])
        und = "; ".join(f"{k}: {', '.join(fs.names())}" for k, fs in v.undetermined.items())
        mode = v.max_mode
        esxi = h.esxi
        release = esxi.label + (f" build {esxi.build}" if esxi.build else "") if esxi is not None else "?"
        note = esxi.note if esxi is not None else None
        key = (h.vcenter, h.cluster, cpu, release, note, mode.key if mode else None, h.cpu.assumed, state, lacks, und)
        groups.setdefault(key, []).append(h.name)
        if key not in first:
            first[key] = HostRow((), h.cluster or "-", release, hr.max_hw_version, cpu, _mode_ref(mode),
                                 h.cpu.assumed, state, lacks, und, note)
    return [attrs.evolve(first[k], names=tuple(hs)) for k, hs in groups.items()]


@attrs.frozen
class _Matrix:
    """The matrix, whether reasons are inline, and the JSON data the script reads otherwise."""

    rows: tuple[Row, ...]
    columns: tuple[Column, ...]
    inline: bool
    data: str | None


def _json_text(obj: object) -> str:
    """JSON safe to embed in a ``<script type="application/json">`` element."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _matrix(view: CheckView) -> _Matrix:
    """VM groups (VMs sharing one verdict) x clusters; on large estates alike clusters share a column."""
    labels = [c.label for c in view.clusters]
    together: dict[tuple[int, bool], list[VMResult]] = {}
    for v in view.vms:
        together.setdefault((id(v.verdict), v.vm.running), []).append(v)
    groups = sorted(together.values(), key=lambda vs: (-len(vs), vs[0].vm.name))
    inline = len(groups) * len(labels) <= INLINE_CELLS and len(labels) <= COMPACT_CLUSTERS
    statuses = []
    for vs in groups:
        g, running = vs[0].verdict, vs[0].vm.running
        cold = frozenset(g.cold_targets)  # 1,000 clusters: a set, not a scan of the tuple per cell
        statuses.append([_status(g, running, t, cold) for t in labels])
    unsure = [[_unsure(vs[0].verdict.blocked.get(t, ())) for t in labels] for vs in groups]
    by_label = {c.label: c for c in view.clusters}

    # Columns: one per cluster, or (large estates) one per set of clusters that answer alike.
    col_of: dict[tuple[object, ...], list[int]] = {}
    by_column = list(zip(zip(*statuses), zip(*unsure))) if not inline else []  # per cluster: every group's answer
    for j in range(len(labels)):
        sig: tuple[object, ...] = (j,) if inline else by_column[j]
        col_of.setdefault(sig, []).append(j)
    members = list(col_of.values())
    columns = []
    for k, js in enumerate(members):
        cs = [by_label[labels[j]] for j in js]
        evcs = {c.evc_mode.key if c.evc_mode else "none" for c in cs}
        columns.append(Column(k, tuple(labels[j] for j in js), evcs.pop() if len(evcs) == 1 else None,
                              all(c.hosts and len(c.assumed_hosts) == len(c.hosts) for c in cs),
                              any(c.evc_mode is not None and c.evc_mode.confidence != "confirmed" for c in cs)))

    # On-demand reasons: strings stated once; a reason set is a list of [text id, hosts id or -1].
    strings: dict[str, int] = {}
    sets: dict[tuple[tuple[int, int], ...], int] = {}
    cell_sets: list[list[int]] = []

    def sid(text: str) -> int:
        return strings.setdefault(text, len(strings))

    rows = []
    for i, vs in enumerate(groups):
        v0 = vs[0]
        g, running = v0.verdict, v0.vm.running
        cells = []
        ids = []
        for k, js in enumerate(members):
            j = js[0]
            st = statuses[i][j]
            reasons: tuple[str, ...] = ()
            if inline:
                reasons = tuple(_cell_reasons(g, running, labels[j], st))
            cells.append(Cell(st, WORDS[st], unsure[i][j], reasons))
        if not inline:
            for t, st in zip(labels, statuses[i]):
                if st in ("live", "cold"):
                    ids.append(-1)
                    continue
                items = []
                for text in _cell_reasons(g, running, t, st):
                    base, sep, tail = text.rpartition(" on ")
                    items.append((sid(base), sid(tail)) if sep and base else (sid(text), -1))
                ids.append(sets.setdefault(tuple(items), len(sets)))
            cell_sets.append(ids)
        homes: dict[str, list[str]] = {}
        cycling = assumed = noted = 0
        for v in vs:  # one pass over the group's VMs
            homes.setdefault(v.cluster_label or "(no cluster)", []).append(v.vm.name)
            cycling += v.power_cycle is not None
            assumed += v.requirement_source == "assumed"
            noted += bool(v.notes)
        tally: dict[str, int] = {}
        for st in statuses[i]:
            tally[st] = tally.get(st, 0) + 1
        rows.append(Row(
            i, len(vs), running, tuple((k, tuple(n)) for k, n in homes.items()), cycling, assumed, noted,
            tuple((WORDS[s], tally[s]) for s in WORDS if s in tally),
            tuple(cells),
        ))
    data = None
    if not inline:
        data = _json_text({
            "clusters": [printable(t) for t in labels], "columns": members, "strings": [printable(t) for t in strings],
            "sets": [[list(x) for x in s] for s in sets], "cells": cell_sets,
        })
    return _Matrix(tuple(rows), tuple(columns), inline, data)


def _changes(result: ScenarioResult) -> list[dict[str, Any]]:
    """A what-if's changes per affected cluster, ready to print."""
    out = []
    for c in result.changes:
        hosts = []
        for n in c.new_hosts:
            verdict = ("joins the current mode" if n.joins_current_mode else
                       "cannot join the current mode" if n.joins_current_mode is False else "cluster without EVC")
            hosts.append({"name": n.name, "cpu": n.cpu, "assumed": n.assumed, "max": n.max_evc_mode,
                          "verdict": verdict, "ok": n.joins_current_mode is not False, "reason": n.reason})
        out.append({
            "cluster": c.cluster, "evc": c.evc_mode, "before": c.max_evc_mode_before, "after": c.max_evc_mode_after,
            "raised": c.max_evc_mode_before != c.max_evc_mode_after, "new_hosts": hosts,
            "removed": list(c.removed_hosts), "gaining": list(c.vms_gaining), "losing": list(c.vms_losing),
            "cycle_mode": c.power_cycle_mode, "cycle": list(c.vms_needing_power_cycle),
            "evacuate": list(c.vms_to_evacuate),
        })
    return out


def _confidence(view: CheckView) -> list[str]:
    """What the verdicts rest on that is not measured or not confirmed, in sentences."""
    a = view.analysis
    out = []
    hosts = [hr for hr in a.hosts]
    assumed = [hr.host.name for hr in hosts if hr.host.cpu.assumed]
    if assumed:
        out.append(f"{len(assumed)} of {len(hosts)} hosts have assumed CPU features: known by a model name or mode "
                   f"key, not measured ({_names(assumed)}). Collect CPUID data for certainty.")
    modes = sorted({m.key for c in view.clusters for m in (c.evc_mode, c.max_evc_mode)
                    if m is not None and m.confidence != "confirmed"})
    if modes:
        out.append(f"EVC mode baselines used here that no public source confirms feature by feature: "
                   f"{', '.join(modes)}. Marked 'unconfirmed'; a vCenter's own definitions "
                   f"(capability.supportedEVCMode) in the snapshot replace them.")
    vms = [v.vm.name for v in view.vms if v.requirement_source == "assumed"]
    if vms:
        out.append(f"{len(vms)} running VM{'s have' if len(vms) != 1 else ' has'} no recorded CPU requirement: assumed to use what their cluster or "
                   f"host offers ({_names(vms)}).")
    und = [c.label for c in view.clusters if c.undetermined or any(x.undetermined for x in c.limiting_hosts)]
    if und:
        out.append(f"CPU data leaves some features unknown in {len(und)} clusters ({_names(und)}): answers that "
                   f"depend on them say 'cannot tell' and are marked '?'.")
    return out


def _conflicts(view: CheckView) -> list[dict[str, Any]]:
    """Running VMs the data says cannot run where they run (the data is wrong there), alike ones together."""
    a = view.analysis
    shown = {(v.vm.vcenter, v.vm.name) for v in view.vms}
    groups: dict[tuple[str, str, str], tuple[list[str], list[str]]] = {}
    for dc in a.data_conflicts:
        if (dc.vcenter, dc.vm) in shown:
            hosts, vms = groups.setdefault((dc.cluster or "-", dc.source, dc.message), ([], []))
            if dc.host not in hosts:
                hosts.append(dc.host)
            vms.append(dc.vm)
    return [{"cluster": k[0], "source": k[1], "message": k[2], "hosts": hs, "vms": vms}
            for k, (hs, vms) in groups.items()]


def render_html(view: CheckView, scenario: ScenarioResult | None = None) -> str:
    """The whole report as one HTML document (``scenario``: the what-if it shows the after-state of)."""
    try:
        import jinja2  # noqa: PLC0415 - an extra, loaded only for this format
        import markupsafe  # noqa: PLC0415 - installed with Jinja2
    except ImportError:
        raise MissingDependencyError(f"--format html needs Jinja2: {INSTALL_HINT}") from None
    from evckit.report import _names as _feature_names  # noqa: PLC0415 - report imports this module lazily too
    from evckit.report import summary  # noqa: PLC0415

    pkg = resources.files(__package__ or "evckit.html")
    css = pkg.joinpath("report.css").read_text(encoding="utf-8")
    script = pkg.joinpath("report.js").read_text(encoding="utf-8")
    def shown(value: object) -> object:
        """Every value written into the page: control characters and bidi overrides made visible."""
        return value if isinstance(value, markupsafe.Markup) or not isinstance(value, str) else printable(value)

    def join(items: Iterable[object], sep: str = ", ") -> markupsafe.Markup:
        """Jinja's ``join`` with each item escaped and made printable."""
        # Escaping and `printable` work character by character: the joined text escaped once is the
        # items escaped one by one (100,000 VM names in the matrix: one call, not 100,000).
        return markupsafe.Markup(markupsafe.escape(printable(sep.join(str(x) for x in items))))

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True, keep_trailing_newline=True, finalize=shown)
    env.filters["join"] = join
    template = env.from_string(pkg.joinpath("report.html.j2").read_text(encoding="utf-8"))

    a = view.analysis
    cycles: dict[str, list[VMResult]] = {}
    for v in view.vms:
        if v.power_cycle is not None:
            cycles.setdefault(v.cluster_label or "-", []).append(v)
    power: dict[tuple[object, ...], list[VMResult]] = {}
    for v in view.vms:
        if v.power_cycle is not None:
            power.setdefault((v.cluster_label, v.power_cycle.mode, v.power_cycle.missing.mask), []).append(v)
    matrix = _matrix(view)

    def digest(text: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"

    csp = f"default-src 'none'; style-src {digest(css)}; script-src {digest(script)}; base-uri 'none'; form-action 'none'"
    return template.render(
        version=version(), source=a.inventory.source, csp=csp,
        css=markupsafe.Markup(css), script=markupsafe.Markup(script),
        summary=summary(a), before=summary(scenario.before) if scenario else None,
        changes=_changes(scenario) if scenario else None, notes=list(a.notes), confidence=_confidence(view),
        clusters=_cluster_rows(view, cycles), hosts=_host_rows(view), matrix=matrix,
        data=markupsafe.Markup(matrix.data) if matrix.data else None,
        power=[{"vms": [v.vm.name for v in vs], "cluster": vs[0].cluster_label or "-",
                "mode": vs[0].power_cycle.mode if vs[0].power_cycle else "",
                "missing": _feature_names(vs[0].power_cycle.missing) if vs[0].power_cycle else []}
               for vs in power.values()],
        conflicts=_conflicts(view),
        filtered=len(view.clusters) != len(a.clusters) or len(view.vms) != len(a.vms),
        short=SHORT_LIST,
    )
