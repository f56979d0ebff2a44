"""Streaming writers of the machine-readable ``evckit check`` outputs: JSON and CSV.

An estate of 100,000 VMs in 1,000 clusters has a few hundred distinct verdicts; stating each VM's
verdict in full would write VMs x clusters (gigabytes). So:

- the JSON document (``"evckit_check": 2``) states each distinct verdict once, under ``verdicts``, and
  each VM refers to it by id (``form: "grouped"``); the expanded form (``form: "expanded"``, each VM
  with its verdict inline) is there for filtered output or on request, and says how big it would be;
- CSV has one row per VM, with counts and the id of its verdict; the verdicts table says, per verdict
  and target cluster, the status and the reasons; per VM and target only on request (``--explain``);
- both are written record by record to a stream, never assembled as one string: memory stays what
  the analysis holds, plus one serialised fragment per distinct verdict.

The JSON text is assembled from pieces each encoded once (names, feature and host lists, reasons,
the members VMs, hosts and limiting hosts share), byte for byte what ``json.dumps`` writes for the
library's dicts (`evckit.report`; the tests compare every kind of record and the whole document), so
the streamed document parses to exactly what ``check_json`` builds. What VMs share is serialised once
per analysis profile (VMs alike in all but name and host, `evckit.analysis.vm_profiles`: a few tens of
thousands among 100,000 VMs), and a VM's line is its name and host put together with its profile's text
at C speed; a filtered view or a what-if's analysis looks up what each VM shares instead (one key per
VM). VM lines are joined a thousand at a time and each write is a few hundred kilobytes.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from itertools import chain, repeat
from operator import attrgetter
from typing import TYPE_CHECKING, Any, TextIO

from evckit._text import _CONTROL, csv_safe, json_safe, printable
from evckit._version import version

if TYPE_CHECKING:
    from evckit.analysis import ClusterResult, DataConflict, GroupVerdict, HostResult, LimitingHost, Reason, VMResult
    from evckit.features import FeatureSet
    from evckit.recommend import HostCost, Recommendation, VMAction
    from evckit.report import CheckView

__all__ = [
    "CHECK_JSON_VERSION",
    "CSV_TABLES",
    "EXPANDED_WARN_BYTES",
    "hosts_of",
    "verdict_ids",
    "write_check_csv",
    "write_check_json",
]

#: Version of the ``evckit check`` JSON document (``"evckit_check"``). 1 was the per-VM document
#: without a version field; 2 states each verdict once (``verdicts``) and adds ``form``.
CHECK_JSON_VERSION = 2

#: The CSV tables ``--csv-table`` chooses from.
CSV_TABLES = ("vms", "verdicts", "targets", "clusters", "hosts")

#: An expanded JSON document of an unfiltered estate larger than this draws a warning.
EXPANDED_WARN_BYTES = 100 * 2**20

_CHUNK = 1000  # CSV rows per write
_CHUNK_CHARS = 256 * 1024  # JSON text joined per write
_SLICE = 1000  # VM lines joined per write


def _dump(obj: object) -> str:
    """One record on one line: JSON's C encoder, non-ASCII kept."""
    return json_safe(json.dumps(obj, ensure_ascii=False))


def _key(v: VMResult) -> tuple[int, bool]:
    """What makes two VMs' verdict entries equal: the shared verdict object and the power state
    (a powered-off VM has no live targets)."""
    return id(v.verdict), v.vm.running


def verdict_ids(vms: Iterable[VMResult], value: Callable[[GroupVerdict, bool], Hashable] | None = None,
                ) -> tuple[dict[tuple[int, bool], int], list[VMResult]]:
    """Number the distinct verdicts in order of first appearance; return each VM's verdict id (by
    `_key`) and the first VM of each verdict.

    Verdict objects are shared by identity, but two objects may say the same thing (groups whose
    decisions differ only where nothing follows from them): those get one id, so each verdict is
    stated once. Two are the same when their JSON is (`_verdict_value`), compared once per verdict
    object and power state, not per VM (a VM's step is one set lookup: its power state is read, not
    the ``running`` property). ``value`` may say it otherwise, equal exactly when `_verdict_value` is
    (the JSON writer compares the verdicts' text, which it writes anyway).
    """
    value_of = value or _verdict_value
    ids: dict[tuple[int, bool], int] = {}
    seen: set[tuple[int, str, bool]] = set()
    by_value: dict[Hashable, int] = {}
    first: list[VMResult] = []
    for v in vms:
        vm = v.vm
        state = (id(v.verdict), vm.power_state, vm.template)
        if state in seen:
            continue
        seen.add(state)
        k = (state[0], vm.running)
        if k in ids:
            continue
        said = value_of(v.verdict, k[1])
        i = by_value.get(said)
        if i is None:
            i = by_value[said] = len(first)
            first.append(v)
        ids[k] = i
    return ids, first


def _alike(view: CheckView) -> tuple[Sequence[Hashable], dict[Hashable, VMResult]] | None:
    """The view's VM profiles (`evckit.analysis.vm_profiles`): each VM's, and each one's first VM; None
    when what VMs share must be found per VM (a filtered view, an analysis not made by `analyze`).

    `verdict_ids` over the profiles' first VMs numbers the verdicts exactly as over every VM: a VM
    whose verdict and state come first is the first of its profile, and profiles come in VM order."""
    from evckit.analysis import vm_profiles  # noqa: PLC0415 - the analysis is loaded by then; writers load lazily

    return vm_profiles(view.analysis, view.vms)


def _verdict_value(g: GroupVerdict, running: bool) -> tuple[object, ...]:
    """What a verdict's JSON entry says (`evckit.report.group_verdict_json` and its migration), as a
    hashable value: equal exactly when the JSON text is (targets in order; reasons compare by kind,
    message, features and hosts)."""
    return (running, g.live_targets if running else (), g.cold_targets, tuple(g.partial.items()),
            tuple(g.blocked.items()))


def hosts_of(view: CheckView) -> list[HostResult]:
    """The hosts shown: those of the selected clusters (all, unfiltered) and hosts outside clusters."""
    if len(view.clusters) == len(view.analysis.clusters):
        return list(view.analysis.hosts)
    keys = {c.key for c in view.clusters}
    return [hr for hr in view.analysis.hosts
            if hr.host.cluster is None or hr.host.cluster_key in keys or not view.clusters]


def _is_filtered(view: CheckView) -> bool:
    return len(view.vms) != len(view.analysis.vms) or len(view.clusters) != len(view.analysis.clusters)


# --- JSON ----------------------------------------------------------------------------------------


class _Doc:
    """A top-level JSON object written member by member; arrays one element per line."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.first = True

    def _sep(self) -> str:
        sep = "{\n  " if self.first else ",\n  "
        self.first = False
        return sep

    def member(self, key: str, value: object) -> None:
        self.out.write(self._sep() + _dump(key) + ": " + json_safe(json.dumps(value, indent=2, ensure_ascii=False))
                       .replace("\n", "\n  "))

    def array(self, key: str, lines: Iterable[str]) -> None:
        """An array whose elements are one-line JSON values (made terminal-safe here, a chunk at a time)."""
        self.out.write(self._sep() + _dump(key) + ": [")
        chunk: list[str] = []
        size = 0
        empty = True
        for line in lines:
            chunk.append(line)
            size += len(line)
            if size >= _CHUNK_CHARS:
                self.out.write(_safe(("\n    " if empty else ",\n    ") + ",\n    ".join(chunk)))
                empty = False
                chunk.clear()
                size = 0
        if chunk:
            self.out.write(_safe(("\n    " if empty else ",\n    ") + ",\n    ".join(chunk)))
            empty = False
        self.out.write("]" if empty else "\n  ]")

    def chunks(self, key: str, texts: Iterable[str]) -> None:
        """An array given as pieces of text, each element preceded by ``",\\n    "`` (made terminal-safe
        here, a piece at a time)."""
        self.out.write(self._sep() + _dump(key) + ": [")
        empty = True
        for text in texts:
            if text:
                self.out.write(_safe(text[1:] if empty else text))
                empty = False
        self.out.write("]" if empty else "\n  ]")

    def close(self) -> None:
        self.out.write("{}\n" if self.first else "\n}\n")


def write_check_json(view: CheckView, out: TextIO, *, expanded: bool = False,
                     extra: dict[str, Any] | None = None, warn: Callable[[str], None] | None = None) -> None:
    """Write the ``evckit check`` JSON document to ``out``, VM by VM.

    Grouped (default): ``verdicts`` lists each distinct verdict once and each VM carries
    ``"verdict": id``. Expanded: each VM carries its verdict's fields inline (the form of version 1);
    on an unfiltered estate whose VMs would take more than `EXPANDED_WARN_BYTES`, ``warn`` is told the
    size first. ``extra`` members (what-if ``changes``) come last.
    """
    from evckit import report  # noqa: PLC0415 - report imports this module lazily too

    a = view.analysis
    texts = _Text()
    texts.prefill(view)
    encoded: dict[tuple[int, bool], str] = {}

    def text(g: GroupVerdict, running: bool) -> tuple[bool, str]:
        """A verdict's migration and JSON text: equal exactly when `_verdict_value` is."""
        fragment = encoded[(id(g), running)] = texts.verdict(g, running)
        return running, fragment

    alike = _alike(view)
    ids, first = verdict_ids(view.vms if alike is None else alike[1].values(), text)
    fragments = [encoded[(id(v.verdict), v.vm.running)] for v in first]
    if expanded and warn is not None and _is_filtered(view) is False:
        counts = [0] * len(first)
        for v in view.vms:
            counts[ids[_key(v)]] += 1
        size = sum(len(f) * n for f, n in zip(fragments, counts))
        if size > EXPANDED_WARN_BYTES:
            warn(f"the expanded JSON states every VM's verdict in full: about {size / 2**20:,.0f} MB of verdicts "
                 f"for {len(view.vms):,} VMs; --format json states each of the {len(ids):,} distinct verdicts once")
    doc = _Doc(out)
    doc.member("evckit_check", CHECK_JSON_VERSION)
    doc.member("form", "expanded" if expanded else "grouped")
    doc.member("evckit", version())
    doc.member("snapshot", a.inventory.source)
    doc.member("notes", list(a.notes))
    doc.array("hosts", _host_lines(hosts_of(view), texts.labels))
    doc.array("clusters", map(texts.cluster, view.clusters))
    if not expanded:
        # Each verdict (hundreds of kilobytes with 1,000 clusters) written as it is, not copied into a line.
        doc.chunks("verdicts", chain.from_iterable(
            (',\n    {"id": ' + str(i) + ', "migration": ' + _dump(v.migration) + ", ", fragments[i], "}")
            for i, v in enumerate(first)))
    if expanded:
        doc.array("vms", _vm_lines(view.vms, ids, fragments, expanded, texts.labels))
    else:
        doc.chunks("vms", _vm_chunks(view.vms, ids, texts.labels) if alike is None
                   else _alike_vm_chunks(view.vms, alike, ids, texts.labels))
    doc.array("data_conflicts", texts.conflicts(report.conflicts_shown(view)))
    doc.member("summary", report.summary(view))
    for key, value in (extra or {}).items():
        doc.member(key, value)
    doc.close()


def _safe(text: str) -> str:
    """`json_safe` of JSON text, skipped when the text is plain ASCII without DEL (the common case: one
    C-speed scan instead of a regular expression)."""
    if text.isascii() and "\x7f" not in text:
        return text
    return json_safe(text)


_ENCODE: Callable[[str], str] = getattr(json.encoder, "c_encode_basestring", None) or json.encoder.py_encode_basestring


class _Text:
    """The document's records as JSON text, byte for byte what ``json.dumps`` writes for the library's
    dicts (`evckit.report`; checked by the tests), with what repeats encoded once.

    100,000 VMs in 1,000 clusters of 10 hosts have a few dozen verdicts of 1,000 targets each whose
    reasons (and tuples of reasons, by identity) are shared between targets and verdicts; clusters
    repeat host names, feature lists, a limiting host's verdict (hosts of one model lack the same
    things), a VM action's features and reason. Names (hosts, clusters, vCenters) are encoded once for
    the whole document: `prefill` encodes the estate's names at C speed.
    """

    def __init__(self) -> None:
        self.labels = _Encoded()
        self.lists = _Lists(self.labels)
        # Feature sets by mask and catalog (hashing a tuple of ints, not calling FeatureSet.__hash__).
        self.features: dict[tuple[int, int], str] = {}
        # By identity, each with its object (so that an id cannot be reused meanwhile): reasons, and a
        # blocked target's text per tuple of reasons (with its target).
        self.reasons: dict[int, tuple[str, Reason]] = {}
        self.items: dict[int, tuple[str, str, tuple[Reason, ...]]] = {}
        self.limiting_lists: dict[int, tuple[Sequence[LimitingHost], str]] = {}
        self.limits: dict[tuple[object, ...], str] = {}
        self.actions: dict[tuple[object, ...], str] = {}
        self.costs: dict[tuple[object, ...], str] = {}

    def prefill(self, view: CheckView) -> None:
        """Encode the names of the estate's hosts, clusters and vCenters in one pass each."""
        a = view.analysis
        for texts in ([hr.host.name for hr in a.hosts], [c.label for c in a.clusters],
                      [vc.name for vc in a.inventory.vcenters]):
            self.labels.update(zip(texts, map(_ENCODE, texts)))

    def names(self, items: tuple[str, ...]) -> str:
        """A list of names; equal lists (a reason's features and hosts, a verdict's targets) encoded once."""
        return self.lists[items]

    def name_list(self, items: Iterable[str]) -> str:
        """A list of names that rarely repeats (a cluster's hosts, VMs to move out)."""
        return "[" + ", ".join(map(self.labels.__getitem__, items)) + "]"

    def feature_list(self, fs: FeatureSet) -> str:
        key = (fs.mask, id(fs.registry))
        text = self.features.get(key)
        if text is None:
            text = self.features[key] = self.name_list(fs.names())
        return text

    def feature_map(self, items: Mapping[str, FeatureSet]) -> str:
        label, features = self.labels.__getitem__, self.feature_list
        return "{" + ", ".join([label(k) + ": " + features(fs) for k, fs in items.items()]) + "}"

    # --- verdicts (`evckit.report.group_verdict_json`) ---

    def reason(self, r: Reason) -> str:
        """`Reason.as_json` as JSON text, once per object (tuples of reasons share them)."""
        known = self.reasons.get(id(r))
        if known is None:
            names = self.names
            known = self.reasons[id(r)] = (
                f'{{"kind": {self.labels[r.kind]}, "message": {_ENCODE(r.message)}, "features": {names(r.features)}, '
                f'"hosts": {names(r.hosts)}}}', r)
        return known[0]

    def verdict(self, g: GroupVerdict, running: bool) -> str:
        """The verdict's members without the braces (``"live_targets": [...], ...``), terminal-safe.

        A verdict names each of 1,000 targets. A blocked target's text (its label and reasons) is kept
        per tuple of reasons, which verdicts share: the verdict is a join of kept texts, not of new
        ones (building tens of megabytes of fresh strings costs more than the encoding saved).
        """
        items, parts = self.items, list[str]()
        add = parts.append
        for target, rs in g.blocked.items():
            known = items.get(id(rs))
            if known is None or known[0] != target:
                known = items[id(rs)] = (target, self.labels[target] + ": [" + ", ".join(map(self.reason, rs)) + "]", rs)
            add(known[1])
        label, names = self.labels.__getitem__, self.lists.__getitem__
        return _safe(
            '"live_targets": ' + names(g.live_targets if running else ()) + ', "cold_targets": ' + names(g.cold_targets)
            + ', "partial_targets": {' + _members(map(label, g.partial), map(names, g.partial.values()))
            + '}, "blocked": {' + ", ".join(parts) + "}")

    # --- clusters (`evckit.report.cluster_json`) ---

    def limiting(self, items: Sequence[LimitingHost]) -> str:
        """`evckit.report._limiting_json` as text: the host's name, then what it lacks (shared); a list
        encoded once per object (a cluster's limiting hosts are its recommendation's ``held_back_by``)."""
        known = self.limiting_lists.get(id(items))
        if known is not None and known[0] is items:
            return known[1]
        label, limits, parts = self.labels.__getitem__, self.limits, []
        for x in items:
            key = (x.mode, x.missing.mask, x.undetermined.mask, id(x.missing.registry), x.needs_esxi, x.vendor)
            tail = limits.get(key)
            if tail is None:
                tail = limits[key] = (', "mode": ' + label(x.mode) + ', "missing": ' + self.feature_list(x.missing)
                                      + ', "undetermined": ' + self.feature_list(x.undetermined) + ', "needs_esxi": '
                                      + _str(x.needs_esxi) + ', "vendor": ' + _str(x.vendor) + "}")
            parts.append('{"host": ' + label(x.host) + tail)
        text = "[" + ", ".join(parts) + "]"
        self.limiting_lists[id(items)] = (items, text)
        return text

    def vm_actions(self, items: Sequence[VMAction]) -> str:
        """Evacuations or power cycles: the VM's name, then its features and reason (shared)."""
        actions, parts = self.actions, []
        for a in items:
            key = (a.features.mask, id(a.features.registry), a.reason)
            tail = actions.get(key)
            if tail is None:
                tail = actions[key] = (', "features": ' + self.feature_list(a.features) + ', "reason": '
                                       + _ENCODE(a.reason) + "}")
            parts.append('{"vm": ' + _ENCODE(a.vm) + tail)
        return "[" + ", ".join(parts) + "]"

    def costs_text(self, items: Sequence[HostCost]) -> str:
        """What the mode costs each host: its name, then the hidden features (shared by hosts alike)."""
        costs, parts = self.costs, []
        for h in items:
            key = (h.hidden.mask, id(h.hidden.registry), h.assumed)
            tail = costs.get(key)
            if tail is None:
                tail = costs[key] = (', "hidden_count": ' + str(len(h.hidden)) + ', "hidden": '
                                     + self.feature_list(h.hidden) + ', "assumed": ' + ("true" if h.assumed else "false")
                                     + "}")
            parts.append('{"host": ' + self.labels[h.host] + tail)
        return "[" + ", ".join(parts) + "]"

    def recommendation(self, r: Recommendation | None) -> str:
        """`evckit.report.recommendation_json` as text."""
        if r is None:
            return "null"
        label, features = self.labels.__getitem__, self.feature_list
        return ('{"action": ' + label(r.action) + ', "mode": ' + (label(r.mode.key) if r.mode else "null")
                + ', "current": ' + (label(r.current.key) if r.current else "null") + ', "reason": ' + _str(r.reason)
                + ', "excluded_hosts": [' + ", ".join([
                    '{"host": ' + label(x.host) + ', "kind": ' + label(x.kind) + ', "reason": ' + _ENCODE(x.reason)
                    + "}" for x in r.excluded_hosts])
                + '], "held_back_by": ' + self.limiting(r.held_back_by) + ', "evacuate": ' + self.vm_actions(r.evacuate)
                + ', "power_cycle": ' + self.vm_actions(r.power_cycle) + ', "guest_floors": [' + ", ".join([
                    '{"vm": ' + _ENCODE(b.vm) + ', "guest": ' + label(b.guest.key) + ', "label": '
                    + label(b.guest.label) + ', "running": ' + ("true" if b.running else "false") + ', "missing": '
                    + features(b.missing) + ', "message": ' + _ENCODE(b.message) + "}" for b in r.guest_floors])
                + '], "cost": ' + self.costs_text(r.cost) + ', "undetermined": ' + self.feature_map(r.undetermined) + "}")

    def cluster(self, c: ClusterResult) -> str:
        """One cluster's line."""
        label, names = self.labels.__getitem__, self.name_list
        top = c.max_evc_mode
        return ('{"name": ' + label(c.label) + ', "vcenter": ' + label(c.cluster.vcenter)
                + ', "evc_mode": ' + (label(c.evc_mode.key) if c.evc_mode else "null")
                + ', "max_evc_mode": ' + (label(top.key) if top else "null")
                + ', "max_evc_modes": ' + names([m.key for m in c.max_evc_modes])
                + ', "max_evc_mode_confidence": ' + (label(top.confidence) if top else "null")
                + ', "reason": ' + _str(c.reason) + ', "vendors": ' + names(c.vendors)
                + ', "hosts": ' + names([hr.host.name for hr in c.hosts]) + ', "assumed_hosts": ' + names(c.assumed_hosts)
                + ', "limiting_hosts": ' + self.limiting(c.limiting_hosts)
                + ', "not_admitted": ' + self.limiting(c.not_admitted)
                + ', "blocking_lower": {' + ", ".join([label(k) + ": " + "[" + ", ".join(map(_ENCODE, v)) + "]"
                                                      for k, v in c.blocking_lower.items()])
                + '}, "undetermined": ' + self.feature_map(c.undetermined)
                + ', "max_hw_version": ' + ("null" if c.max_hw_version is None else str(c.max_hw_version))
                + ', "recommendation": ' + self.recommendation(c.recommendation) + "}")

    # --- data conflicts (`DataConflict.as_json`) ---

    def conflicts(self, conflicts: Iterable[DataConflict]) -> Iterator[str]:
        """Each data conflict on one line: the source, features and message (shared by the VMs of one
        kind on hosts alike) once per combination."""
        names = self.labels
        shared: dict[tuple[object, ...], str] = {}
        for c in conflicts:
            key = (c.source, c.features.mask, id(c.features.registry), c.message)
            tail = shared.get(key)
            if tail is None:
                tail = shared[key] = (', "source": ' + names[c.source] + ', "features": ' + self.feature_list(c.features)
                                      + ', "message": ' + _ENCODE(c.message) + "}")
            yield ('{"vm": ' + _ENCODE(c.vm) + ', "vcenter": ' + names[c.vcenter] + ', "host": ' + names[c.host]
                   + ', "cluster": ' + names[c.cluster] + tail)


def _members(keys: Iterable[str], values: Iterable[str]) -> str:
    """Encoded keys and values as the members of a JSON object (``k: v, k: v``), joined in one call."""
    text = "".join(chain.from_iterable(zip(keys, repeat(": "), values, repeat(", "))))
    return text[:-2]


def _str(value: str | None) -> str:
    """A string or None as JSON (what ``json.dumps`` writes, non-ASCII kept)."""
    return "null" if value is None else _ENCODE(value)


def _host_lines(hosts: Iterable[HostResult], names: _Encoded) -> Iterator[str]:
    """Each host as `evckit.report.host_json` on one line: its names (host, vCenter, cluster) encoded once
    each; the members of its ESXi and state and those its CPU decides (shared by every host of one
    model and state) each serialised once."""
    from evckit.report import host_json_cpu, host_json_own  # noqa: PLC0415

    own: dict[tuple[object, ...], str] = {}
    by_object: dict[tuple[object, ...], str] = {}
    shared: dict[tuple[object, ...], str] = {}
    for hr in hosts:
        h, v = hr.host, hr.verdict
        state = (h.esxi_version, h.esxi_build, hr.max_hw_version, h.connection_state, h.maintenance)
        middle = own.get(state)
        if middle is None:
            members = host_json_own(hr)
            for k in ("name", "vcenter", "cluster"):
                del members[k]  # the host's own, written per host
            middle = own[state] = ", " + json.dumps(members, ensure_ascii=False)[1:-1] + ", "
        # The CPU's members: by the objects first (hosts of one model share them), else by what they say.
        key = (h.cpu_model, id(h.cpu), h.vcenter_max_evc_mode, id(v))
        tail = by_object.get(key)
        if tail is None:
            said = (h.cpu_model, id(h.cpu), h.vcenter_max_evc_mode, id(v.max_mode), tuple(map(id, v.supported)),
                    tuple((k, fs.mask) for k, fs in v.missing_for_next.items()),
                    tuple((k, fs.mask) for k, fs in v.undetermined.items()), tuple(v.esxi_limited.items()))
            tail = shared.get(said)
            if tail is None:
                tail = shared[said] = json.dumps(host_json_cpu(hr), ensure_ascii=False)[1:]
            by_object[key] = tail
        yield (f'{{"name": {names[h.name]}, "vcenter": {names[h.vcenter]}, "cluster": {names[h.cluster]}'
               f"{middle}{tail}")


def _vm_lines(vms: Sequence[VMResult], ids: dict[tuple[int, bool], int], fragments: Sequence[str],
              expanded: bool, names: _Encoded) -> Iterator[str]:
    """Each VM as `report.vm_json` (expanded) or with ``"verdict": id``, one line each, byte for byte
    what ``json.dumps`` prints for those dicts.

    Only the VM's own names are encoded per VM (its vCenter, cluster and host once per name); the
    members that VMs share (state, requirement, per-VM EVC, power cycle, notes, verdict: a few thousand
    distinct combinations) are serialised once and reused.
    """
    enc = _ENCODE
    shared: dict[tuple[object, ...], tuple[str, str, str]] = {}
    for v in vms:
        vm = v.vm
        key = (id(v.verdict), vm.power_state, vm.template, vm.hardware_version, v.vendor, v.requirement_source,
               vm.min_required_evc_mode, id(v.requirement), vm.per_vm_evc, id(v.power_cycle), v.notes)
        rest = shared.get(key)
        if rest is None:
            middle, end = _vm_members(v)
            i = ids[(id(v.verdict), vm.running)]
            # Expanded, the verdict (hundreds of kilobytes with 1,000 clusters) is referenced, not copied.
            rest = shared[key] = ((middle, fragments[i], ", " + end + "}") if expanded
                                  else (middle + end + ', "verdict": ' + str(i) + "}", "", ""))
        yield (f'{{"name": {enc(vm.name)}, "vcenter": {names[vm.vcenter]}, "cluster": {names[v.cluster_label]}, '
               f'"host": {names[vm.host]}{rest[0]}{rest[1]}{rest[2]}')


def _vm_members(v: VMResult) -> tuple[str, str]:
    """A VM's members after its host (``", …, "``) and after its verdict, as JSON text."""
    from evckit.report import _vm_parts  # noqa: PLC0415

    head, tail = _vm_parts(v)
    for k in ("name", "vcenter", "cluster", "host"):
        del head[k]  # the VM's own members, written per VM
    return ", " + json.dumps(head, ensure_ascii=False)[1:-1] + ", ", json.dumps(tail, ensure_ascii=False)[1:-1]


class _Encoded(dict[str | None, str]):
    """Names (vCenters, clusters, hosts) as JSON strings, each encoded once; None is ``null``."""

    def __missing__(self, key: str | None) -> str:
        value = self[key] = "null" if key is None else _ENCODE(key)
        return value


class _Lists(dict[tuple[str, ...], str]):
    """Tuples of names as JSON lists, each encoded once (names through ``labels``)."""

    def __init__(self, labels: _Encoded) -> None:
        super().__init__()
        self.labels = labels

    def __missing__(self, key: tuple[str, ...]) -> str:
        value = self[key] = "[" + ", ".join(map(self.labels.__getitem__, key)) + "]"
        return value


def _shared_members(v: VMResult, shared: dict[tuple[object, ...], str], ids: dict[tuple[int, bool], int]) -> str:
    """A VM line's text after its host: the members VMs share (state, requirement, per-VM EVC, power
    cycle, notes, verdict id), serialised once per distinct combination (kept in ``shared``)."""
    vm = v.vm
    key = (id(v.verdict), vm.power_state, vm.template, vm.hardware_version, v.vendor, v.requirement_source,
           vm.min_required_evc_mode, id(v.requirement), vm.per_vm_evc, id(v.power_cycle), v.notes)
    text = shared.get(key)
    if text is None:
        middle, end = _vm_members(v)
        text = shared[key] = middle + end + ', "verdict": ' + str(ids[(id(v.verdict), vm.running)]) + "}"
    return text


def _vm_chunks(vms: Iterable[VMResult], ids: dict[tuple[int, bool], int], names: _Encoded) -> Iterator[str]:
    """The grouped form's VM lines, `_SLICE` VMs per chunk of text, each line preceded by
    ``",\\n    "``: byte for byte the lines of `_vm_lines`.

    A line is the VM's name, its vCenter, cluster and host (each name encoded once; put together by
    one f-string) and the members VMs share (state, requirement, per-VM EVC, power cycle, notes,
    verdict id: a few hundred distinct combinations, each serialised once); a chunk of those pieces is
    joined in one call.
    """
    enc = _ENCODE
    shared: dict[tuple[object, ...], str] = {}
    chunk: list[str] = []
    add = chunk.append
    for v in vms:
        vm = v.vm
        rest = _shared_members(v, shared, ids)
        add(f',\n    {{"name": {enc(vm.name)}, "vcenter": {names[vm.vcenter]}, "cluster": {names[v.cluster_label]}, '
            f'"host": {names[vm.host]}')
        add(rest)  # joined with the chunk: no string of the whole line is made
        if len(chunk) >= 2 * _SLICE:
            yield "".join(chunk)
            chunk.clear()
    yield "".join(chunk)


_VM_NAME, _VM_HOST = attrgetter("vm.name"), attrgetter("vm.host")


def _alike_vm_chunks(vms: Sequence[VMResult], alike: tuple[Sequence[Hashable], dict[Hashable, VMResult]],
                     ids: dict[tuple[int, bool], int], names: _Encoded) -> Iterator[str]:
    """`_vm_chunks` for VMs grouped by profile (`_alike`), byte for byte the same text: the members VMs
    share are looked up once per profile (by its first VM), with the profile's vCenter and cluster, and
    each chunk of lines is put together at C speed from the VMs' names, their hosts' and the profiles'
    texts. A chunk's VM names are encoded only when one needs it (a quote, backslash or control character)."""
    kinds, firsts = alike
    shared: dict[tuple[object, ...], str] = {}
    head: dict[Hashable, str] = {}
    tail: dict[Hashable, str] = {}
    for kind, v in firsts.items():
        vm = v.vm
        text = _shared_members(v, shared, ids)
        head[kind] = '", "vcenter": ' + names[vm.vcenter] + ', "cluster": ' + names[v.cluster_label] + ', "host": '
        tail[kind] = text
    head_of, tail_of, name = head.__getitem__, tail.__getitem__, names.__getitem__
    for start in range(0, len(vms), _SLICE):
        part = vms[start:start + _SLICE]
        own = list(map(_VM_NAME, part))
        if _ESCAPED.search("".join(own)) is not None:
            own = [_ENCODE(n)[1:-1] for n in own]
        at = kinds[start:start + _SLICE]
        yield "".join(chain.from_iterable(zip(repeat(',\n    {"name": "'), own, map(head_of, at),
                                              map(name, map(_VM_HOST, part)), map(tail_of, at))))


#: What a JSON string escapes (`_ENCODE`, non-ASCII kept): a text without any is its own JSON string's content.
_ESCAPED = re.compile(r'["\\\x00-\x1f]')


# --- CSV -----------------------------------------------------------------------------------------


def _cell(value: object) -> object:
    """A CSV cell: control characters escaped, no spreadsheet formula."""
    if isinstance(value, str):
        return csv_safe(printable(value)) if value else value
    return value


def _join(items: Iterable[str]) -> str:
    return "; ".join(items)


class _Rows:
    """A CSV writer that sanitises every cell and writes rows in chunks."""

    def __init__(self, out: TextIO, headers: Sequence[str]) -> None:
        self.writer = csv.writer(out, lineterminator="\n")
        self.writer.writerow(headers)
        self.chunk: list[list[object]] = []

    def add(self, row: Sequence[object]) -> None:
        self.chunk.append([_cell(x) for x in row])
        if len(self.chunk) >= _CHUNK:
            self.flush()

    def add_clean(self, row: list[object]) -> None:
        """A row whose cells are already sanitised."""
        self.chunk.append(row)
        if len(self.chunk) >= _CHUNK:
            self.flush()

    def flush(self) -> None:
        self.writer.writerows(self.chunk)
        self.chunk.clear()


def write_check_csv(view: CheckView, out: TextIO, table: str = "vms") -> None:
    """Write one CSV table of a check (see `CSV_TABLES`), row by row.

    - ``vms``: one row per VM: where it is, its state, how many clusters take it fully, partly or not
      at all, the reason kinds that block it, and the id of its verdict (rows of ``verdicts``);
    - ``verdicts``: one row per distinct verdict and target cluster: status, first reason, every
      reason, the hosts that take it where only some do;
    - ``targets``: one row per VM and target cluster it cannot fully reach (live for a running VM,
      cold for a powered-off one) — VMs x clusters in the worst case: use it filtered;
    - ``clusters``, ``hosts``: one row each.
    """
    if table not in CSV_TABLES:
        raise ValueError(f"unknown CSV table {table!r}; choose from {', '.join(CSV_TABLES)}")
    {"vms": _csv_vms, "verdicts": _csv_verdicts, "targets": _csv_targets, "clusters": _csv_clusters,
     "hosts": _csv_hosts}[table](view, out)


def _status(g: GroupVerdict, running: bool, target: str) -> str:
    return g.status(target, running)  # decided by the analysis


def _kind_counts(g: GroupVerdict) -> str:
    """How many targets each reason kind blocks (a kind counted once per target), most first."""
    reasons = g.blocked.values()
    count = Counter([rs[0].kind for rs in reasons if len(rs) == 1])
    count.update([kind for rs in reasons if len(rs) > 1 for kind in dict.fromkeys(r.kind for r in rs)])
    return _join(f"{k} {n}" for k, n in sorted(count.items(), key=lambda kv: (-kv[1], kv[0])))


def _csv_field(value: str) -> str:
    """One sanitised CSV field as `csv.writer` (minimal quoting, ``"`` doubled) writes it."""
    if value:
        value = str(csv_safe(printable(value)))
        if "," in value or '"' in value or "\n" in value or "\r" in value:
            return '"' + value.replace('"', '""') + '"'
    return value


def _csv_line(row: Sequence[object]) -> str:
    """A row of already-sanitised cells as one CSV line, written by `csv.writer`."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(row)
    return buf.getvalue()


def _csv_vms(view: CheckView, out: TextIO) -> None:
    """One line per VM: its names encoded per VM (vCenters, clusters, hosts once per name), the rest of
    the line once per verdict, state, requirement and power cycle."""
    out.write(_csv_line(["vm", "vcenter", "cluster", "host", "power_state", "hardware_version", "vendor",
                         "migration", "requirement_source", "per_vm_evc", "targets_ok", "targets_partial",
                         "targets_blocked", "blocked_by", "needs_power_cycle", "verdict"]))
    ids, first = verdict_ids(view.vms)
    per_verdict: list[tuple[int, int, int, str]] = []
    for v in first:
        g = v.verdict
        ok = len(g.live_targets) if v.vm.running else len(g.cold_targets)
        partial = len(g.partial)
        per_verdict.append((ok, partial, len(g.blocked) - partial, _kind_counts(g)))
    names = _Fields()
    shared: dict[tuple[object, ...], str] = {}
    vms = view.vms
    for start in range(0, len(vms), _CHUNK):
        part = vms[start:start + _CHUNK]
        own = [v.vm.name for v in part]
        if not _plain_fields(own):
            own = list(map(_csv_field, own))
        chunk: list[str] = []
        add = chunk.append
        for v, name in zip(part, own):
            vm = v.vm
            key = (id(v.verdict), vm.power_state, vm.template, vm.hardware_version, v.vendor, v.requirement_source,
                   vm.per_vm_evc, id(v.power_cycle))
            tail = shared.get(key)
            if tail is None:
                i = ids[_key(v)]
                ok, partial, blocked, kinds = per_verdict[i]
                tail = shared[key] = _csv_line([_cell(x) for x in (
                    vm.power_state, f"vmx-{vm.hardware_version}", v.vendor or "", v.migration, v.requirement_source,
                    vm.per_vm_evc or "", ok, partial, blocked, kinds,
                    v.power_cycle.mode if v.power_cycle is not None else "", i)])
            add(f"{name},{names[vm.vcenter]},{names[v.cluster_label]},{names[vm.host]},{tail}")
        out.write("".join(chunk))


#: A character or start that makes a CSV field more than its text: a control character (escaped), a
#: quote (quoted), a formula start at the beginning of a field (after the separator of a joined list).
_NOT_PLAIN = re.compile(f'{_CONTROL.pattern}|"|(?:^|,)[=+\\-@]')


def _plain_fields(texts: Sequence[str]) -> bool:
    """True when each text is its own CSV field (`_csv_field` returns it unchanged): checked for a whole
    slice of names at once, joined by commas (a comma inside a name shows in the count)."""
    joined = ",".join(texts)
    return joined.count(",") == len(texts) - 1 and _NOT_PLAIN.search(joined) is None


class _Fields(dict[str | None, str]):
    """Names as sanitised CSV fields, each worked out once; None is an empty field."""

    def __missing__(self, key: str | None) -> str:
        value = self[key] = "" if key is None else _csv_field(key)
        return value


def _csv_verdicts(view: CheckView, out: TextIO) -> None:
    rows = _Rows(out, ["verdict", "migration", "target", "status", "reason_kinds", "first_reason", "reasons",
                       "hosts_that_can", "vms"])
    ids, first = verdict_ids(view.vms)
    counts = [0] * len(first)
    for v in view.vms:
        counts[ids[_key(v)]] += 1
    targets = [c.label for c in view.analysis.clusters]
    for i, v in enumerate(first):
        g, running = v.verdict, v.vm.running
        for t in targets:
            reasons = g.blocked.get(t, ())
            rows.add([i, v.migration, t, _status(g, running, t), _join(dict.fromkeys(r.kind for r in reasons)),
                      reasons[0].message if reasons else "", " | ".join(r.message for r in reasons),
                      _join(g.partial.get(t, ())), counts[i]])
    rows.flush()


def _csv_targets(view: CheckView, out: TextIO) -> None:
    """One line per VM and target cluster it cannot fully reach, streamed: VMs x clusters lines in the
    worst case (10,000 VMs in 1,000 clusters: about ten million), so nothing per line is worked out
    twice. The end of each line (target, status, reasons) depends only on the VM's verdict and power
    state: per verdict, those ends are encoded once, in target order; per VM, its own cells (name,
    vCenter, cluster, state: each distinct name encoded once) are encoded once and joined in front of
    every end by one `str.join`. Memory holds the encoded ends (verdicts x clusters) and one VM's
    lines, whatever the number of VMs."""
    out.write(_csv_line(["vm", "vcenter", "cluster", "power_state", "hardware_version", "target", "status",
                         "reason_kinds", "reasons", "hosts_that_can"]))
    targets = [c.label for c in view.analysis.clusters]
    ends: dict[tuple[int, bool], list[str]] = {}  # per verdict: "" then each line's end, for str.join
    field = _csv_field
    names: dict[str | None, str] = {None: ""}
    states: dict[tuple[str, int], str] = {}
    chunk: list[str] = []
    size = 0
    for v in view.vms:
        vm = v.vm
        k = (id(v.verdict), vm.running)
        parts = ends.get(k)
        if parts is None:
            g, running = v.verdict, vm.running
            parts = ends[k] = [""]
            for t in targets:
                status = _status(g, running, t)
                if status in ("live", "cold"):
                    continue
                reasons = g.blocked.get(t, ())
                parts.append(_csv_line([_cell(x) for x in (
                    t, status, _join(dict.fromkeys(r.kind for r in reasons)), " | ".join(r.message for r in reasons),
                    _join(g.partial.get(t, ())))]))
        if len(parts) == 1:
            continue  # it goes everywhere
        state = states.get((vm.power_state, vm.hardware_version))
        if state is None:  # the state is not sanitised (a known word), only quoted as csv.writer would
            state = states[(vm.power_state, vm.hardware_version)] = _csv_line(
                [vm.power_state, f"vmx-{vm.hardware_version}"]).rstrip("\n")
        vcenter, cluster = vm.vcenter, v.cluster_label or ""
        ev = names.get(vcenter)
        if ev is None:
            ev = names[vcenter] = field(vcenter)
        ec = names.get(cluster)
        if ec is None:
            ec = names[cluster] = field(cluster)
        text = (field(vm.name) + "," + ev + "," + ec + "," + state + ",").join(parts)
        chunk.append(text)
        size += len(text)
        if size >= _CHUNK_CHARS:
            out.write("".join(chunk))
            chunk.clear()
            size = 0
    out.write("".join(chunk))


def _limiting_cell(items: Iterable[Any]) -> str:
    parts = []
    for x in items:
        what = list(x.missing.names()) or list(x.undetermined.names())
        text = f"{x.host} lacks {x.mode}"
        if what:
            text += ": " + " ".join(what)
        if x.needs_esxi:
            text += f" (needs ESXi {x.needs_esxi})"
        parts.append(text)
    return _join(parts)


def _csv_clusters(view: CheckView, out: TextIO) -> None:
    rows = _Rows(out, ["cluster", "vcenter", "evc_mode", "max_evc_mode", "max_evc_mode_confidence", "vendors",
                       "hosts", "assumed_hosts", "limiting_hosts", "not_admitted", "blocking_lower",
                       "max_hw_version", "vms", "running_vms", "reason"])
    vms: dict[str | None, list[int]] = {}
    for v in view.analysis.vms:
        n = vms.setdefault(v.cluster_label, [0, 0])
        n[0] += 1
        n[1] += v.vm.running
    for c in view.clusters:
        n = vms.get(c.label, [0, 0])
        rows.add(_cluster_row(c, n))
    rows.flush()


def _cluster_row(c: ClusterResult, n: Sequence[int]) -> list[object]:
    lower = _join(f"{k}: {' '.join(v)}" for k, v in c.blocking_lower.items() if v)
    return [c.label, c.cluster.vcenter, c.evc_mode.key if c.evc_mode else "",
            c.max_evc_mode.key if c.max_evc_mode else "",
            c.max_evc_mode.confidence if c.max_evc_mode else "", _join(c.vendors), len(c.hosts),
            _join(c.assumed_hosts), _limiting_cell(c.limiting_hosts), _limiting_cell(c.not_admitted), lower,
            c.max_hw_version if c.max_hw_version is not None else "", n[0], n[1], c.reason or ""]


def _csv_hosts(view: CheckView, out: TextIO) -> None:
    rows = _Rows(out, ["host", "vcenter", "cluster", "esxi_version", "max_hw_version", "connection_state",
                       "maintenance", "cpu_model", "vendor", "codename", "max_evc_mode", "assumed", "cpu_data",
                       "vcenter_max_evc_mode", "next_mode_lacks", "esxi_limited"])
    for hr in hosts_of(view):
        h, v = hr.host, hr.verdict
        lacks = _join(f"{k}: {' '.join(fs.names())}" for k, fs in v.missing_for_next.items() if fs)
        rows.add([h.name, h.vcenter, h.cluster or "", h.esxi_version or "",
                  hr.max_hw_version if hr.max_hw_version is not None else "", h.connection_state,
                  "yes" if h.maintenance else "no", h.cpu_model or h.cpu.brand or "", h.cpu.vendor or "",
                  h.cpu.generation.label if h.cpu.generation else "", v.max_mode.key if v.max_mode else "",
                  "yes" if h.cpu.assumed else "no", h.cpu.input_format or "", h.vcenter_max_evc_mode or "",
                  lacks, _join(f"{k}: {why}" for k, why in v.esxi_limited.items())])
    rows.flush()
