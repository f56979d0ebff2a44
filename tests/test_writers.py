"""The streaming JSON and CSV writers: the grouped and expanded forms say the same thing, the CSV
tables agree with the JSON, and a writer's memory does not grow with the estate."""

from __future__ import annotations

import copy
import csv
import io
import json
import sys
import tracemalloc
from functools import cache
from pathlib import Path
from typing import Any, TextIO, cast

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evckit import report, writers
from evckit._text import json_safe
from evckit.analysis import Analysis, analyze, summarize
from evckit.cli import main
from evckit.inventory import load_inventories, parse_snapshot
from evckit.recommend import recommend
from evckit.whatif import AddHosts, Scenario, run_scenario

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from generate import estate

from .estate_strategies import estates

VERDICT_FIELDS = ("live_targets", "cold_targets", "partial_targets", "blocked")


@cache
def generated(vms: int, hosts: int, seed: int = 11) -> Analysis:
    """A generated estate, analysed (cached: several tests read the same one)."""
    return analyze(parse_snapshot(estate(vms, hosts, seed=seed), f"gen-{vms}"))


def expand(grouped: dict[str, Any]) -> dict[str, Any]:
    """The grouped document with each VM's verdict reference replaced by the verdict's fields."""
    doc = copy.deepcopy(grouped)
    verdicts = {g["id"]: g for g in doc.pop("verdicts")}
    vms = []
    for vm in doc["vms"]:
        g = verdicts[vm.pop("verdict")]
        assert g["migration"] == vm["migration"]
        vms.append({**vm, **{k: g[k] for k in VERDICT_FIELDS}})
    doc["vms"] = vms
    doc["form"] = "expanded"
    return doc


def streamed(view: report.CheckView, fmt: str, **kw: Any) -> str:
    buf = io.StringIO()
    report.write_check(view, fmt, buf, **kw)
    return buf.getvalue()


#: Names that JSON must escape (quote, backslash, C0), that it leaves raw but evckit escapes (DEL, C1,
#: bidi, line separator) and non-ASCII letters, put in place of the example estate's names.
HOSTILE = {"vc-prod": "vc\u2028prod \u00e9", "gold": 'gold "q" \\ x\n\x1b[2J\x9b\u202e \u65e5\u672c',
           "esx-gold-1": 'esx "1"\x7f\t', "web-01": "w\u00e9b-01 \"\\", "app-02": "app\u202e20-ppa\nsecond line"}


@cache
def hostile() -> Analysis:
    """The example estate with names that need escaping."""
    text = Path(load_inventories([], example=True).source).read_text(encoding="utf-8")
    for old, new in HOSTILE.items():
        text = text.replace(json.dumps(old), json.dumps(new))
    return analyze(parse_snapshot(json.loads(text), "hostile \"\u00e9\x9b.json"))


@cache
def floors() -> Analysis:
    """Guest OS floors the recommended mode breaks, an ESXi build, vCenter's own maximum mode for a host."""
    return analyze(parse_snapshot({"evckit_snapshot": 1, "vcenters": [{"name": "vc", "clusters": [{"name": "c"}], "hosts": [
        {"name": "h1", "cluster": "c", "esxi_version": "6.5.0", "esxi_build": "4564106", "cpu": {"model": "Xeon E5420"}},
        {"name": "h2", "cluster": "c", "esxi_version": "6.7.0", "max_evc_mode": "intel-penryn",
         "cpu": {"model": "Xeon E5420"}}], "vms": [
        {"name": 'ws25 "\u20ac"\x85', "host": "h1", "power_state": "poweredOn", "hardware_version": "vmx-13",
         "guest_id": "windows2022srvNext_64Guest"},
        {"name": "w11-off", "host": "h2", "power_state": "poweredOff", "hardware_version": "vmx-13",
         "guest_os": "Microsoft Windows 11 (64-bit)"}]}]}))


def views() -> list[report.CheckView]:
    example = analyze(load_inventories([], example=True))
    gen = generated(600, 60)
    return [report.select(example), report.select(example, ["web-*", "db-01"]), report.select(example, (), ["epyc"]),
            report.select(gen), report.select(gen, (), ["cl0000[1-3]"]), report.select(hostile()),
            report.select(floors())]


#: The document's members written as arrays of one-line elements; the others are indented JSON.
ARRAYS = ("hosts", "clusters", "verdicts", "vms", "data_conflicts")


def document_text(doc: dict[str, Any]) -> str:
    """How the command lays out a document (a dict as `report.check_json` builds it): members indented
    by two, arrays one ``json.dumps`` element per line, terminal-safe."""
    members = []
    for key, value in doc.items():
        if key in ARRAYS:
            text = "[\n    " + ",\n    ".join(json.dumps(x, ensure_ascii=False) for x in value) + "\n  ]" if value else "[]"
        else:
            text = json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n  ")
        members.append(json.dumps(key) + ": " + text)
    return json_safe("{\n  " + ",\n  ".join(members) + "\n}\n")


def test_streamed_text_is_the_library_document_laid_out() -> None:
    """The writers assemble the text from pieces encoded once (names, verdicts, shared members): it is
    byte for byte the library's dict laid out by ``json.dumps``, in both forms, names that need
    escaping included."""
    for view in views():
        assert streamed(view, "json") == document_text(report.check_json(view))
        assert streamed(view, "json-expanded") == document_text(report.check_json(view, expanded=True))
    text = streamed(report.select(hostile()), "json")
    doc = json.loads(text)
    assert {HOSTILE["web-01"], HOSTILE["app-02"]} <= {vm["name"] for vm in doc["vms"]}
    assert HOSTILE["gold"] in {c["name"] for c in doc["clusters"]}
    assert '\\"q\\"' in text and "\\u009b" in text and "\u00e9" in text and "\x9b" not in text


@settings(max_examples=60, deadline=None)
@given(estates(), st.sampled_from(["json", "json-expanded"]))
def test_streamed_text_of_random_estates(obj: dict[str, Any], fmt: str) -> None:
    """Random estates (unknown CPU data, hosts not admitted, guest floors, several vCenters): the
    streamed text is the library document laid out, byte for byte."""
    view = report.select(analyze(parse_snapshot(obj)))
    assert streamed(view, fmt) == document_text(report.check_json(view, expanded=fmt == "json-expanded"))


def test_grouped_and_expanded_say_the_same() -> None:
    """Resolving the grouped document's references gives the expanded document, field for field and in
    order; each verdict is stated once (no two equal entries)."""
    for view in views():
        grouped = json.loads(streamed(view, "json"))
        expanded = json.loads(streamed(view, "json-expanded"))
        assert grouped["evckit_check"] == expanded["evckit_check"] == writers.CHECK_JSON_VERSION
        assert (grouped["form"], expanded["form"]) == ("grouped", "expanded")
        assert expand(grouped) == expanded
        assert [list(vm) for vm in expanded["vms"]] == [list(report.vm_json(v)) for v in view.vms]
        bodies = [json.dumps({k: g[k] for k in g if k != "id"}, sort_keys=True) for g in grouped["verdicts"]]
        assert len(bodies) == len(set(bodies)) and [g["id"] for g in grouped["verdicts"]] == list(range(len(bodies)))
        assert len(grouped["verdicts"]) < len(grouped["vms"]) or len(grouped["vms"]) <= 10


def test_streamed_document_is_the_library_document() -> None:
    """What the command streams parses to what `report.check_json` builds, in both forms."""
    for view in views():
        assert json.loads(streamed(view, "json")) == report.check_json(view)
        expanded = streamed(view, "json-expanded")
        assert json.loads(expanded) == report.check_json(view, expanded=True)
        lines = set(expanded.splitlines())
        assert all("    " + json_safe(json.dumps(report.vm_json(v), ensure_ascii=False)) + "," in lines
                   or "    " + json_safe(json.dumps(report.vm_json(v), ensure_ascii=False)) in lines for v in view.vms)
        assert [report.vm_json(v) for v in view.vms] == report.check_json(view, expanded=True)["vms"]


def test_pre_encoded_fragments_are_what_json_dumps_writes() -> None:
    """The writer encodes verdicts, hosts, clusters, conflicts and VMs from shared pieces: each line is
    byte for byte what ``json.dumps`` writes for the library's dict (so the document's text, not only
    its value, is kept); the grouped form's chunks of VM lines are its lines."""
    for view in views():
        texts = writers._Text()
        texts.prefill(view)
        for v in view.vms:
            assert texts.verdict(v.verdict, v.vm.running) == writers._dump(
                report.group_verdict_json(v.verdict, v.vm.running))[1:-1]
        hosts = [json.dumps(report.host_json(hr), ensure_ascii=False) for hr in writers.hosts_of(view)]
        assert list(writers._host_lines(writers.hosts_of(view), texts.labels)) == hosts
        assert [texts.cluster(c) for c in view.clusters] == [
            json.dumps(report.cluster_json(c), ensure_ascii=False) for c in view.clusters]
        conflicts = report.conflicts_shown(view)
        assert list(texts.conflicts(conflicts)) == [json.dumps(c.as_json(), ensure_ascii=False) for c in conflicts]
        ids, first = writers.verdict_ids(view.vms)
        fragments = [texts.verdict(v.verdict, v.vm.running) for v in first]
        assert [json_safe(line) for line in writers._vm_lines(view.vms, ids, fragments, True, texts.labels)] == [
            json_safe(json.dumps(report.vm_json(v), ensure_ascii=False)) for v in view.vms]
        lines = list(writers._vm_lines(view.vms, ids, fragments, False, writers._Encoded()))
        assert "".join(writers._vm_chunks(view.vms, ids, texts.labels)) == "".join(",\n    " + x for x in lines)


def test_verdict_ids_are_shared_exactly_when_the_verdicts_are_equal() -> None:
    """Two verdicts get one id exactly when their JSON and migration are the same, whether compared by
    value (`_verdict_value`) or by the text the JSON writer encodes."""
    for view in views():
        ids, first = writers.verdict_ids(view.vms)
        text = {i: json.dumps(report.group_verdict_json(v.verdict, v.vm.running)) + v.migration
                for i, v in enumerate(first)}
        assert len(set(text.values())) == len(first)
        for v in view.vms:
            assert text[ids[writers._key(v)]] == json.dumps(report.group_verdict_json(v.verdict, v.vm.running)) + v.migration
    merged = 0
    for view in views():
        texts = writers._Text()
        by_text = writers.verdict_ids(view.vms, lambda g, running: (running, texts.verdict(g, running)))
        assert by_text == writers.verdict_ids(view.vms)
        merged += len(by_text[0]) - len(by_text[1])
    assert merged > 0  # some verdict objects say the same thing: the comparison is exercised


def test_vm_lines_by_profile_are_the_lines_by_vm() -> None:
    """An estate as `analyze` returns it has its VM lines put together per profile (VMs alike in all but
    name and host: `evckit.analysis.vm_profiles`); the text, the verdict ids and the first VM of each are
    those worked out VM by VM. A filtered view, or an analysis the profiles do not describe (a what-if's,
    one rebuilt with other VMs), is written VM by VM."""
    estates = [hostile(), floors(), analyze(load_inventories([], example=True)), generated(600, 60)]
    for a in estates:
        view = report.select(a)
        alike = writers._alike(view)
        assert alike is not None
        kinds, firsts = alike
        assert len(kinds) == len(view.vms) and set(kinds) == set(firsts)
        for v, kind in zip(view.vms, kinds):
            first = firsts[kind]
            assert v[1:] == first[1:] and all(x is y for x, y in zip(v[1:], first[1:]))
            assert attrs.evolve(v.vm, name=first.vm.name, host=first.vm.host) == first.vm
        ids, first_vms = writers.verdict_ids(view.vms)
        assert writers.verdict_ids(firsts.values()) == (ids, first_vms)
        names = writers._Encoded()
        assert ("".join(writers._alike_vm_chunks(view.vms, alike, ids, names))
                == "".join(writers._vm_chunks(view.vms, ids, writers._Encoded())))
        # Counted and recommended per profile: as VM by VM (a list of the VMs is not the analysis' own).
        assert summarize(a) == summarize(a, list(a.vms))
        recs = recommend(a.inventory, a.clusters, list(a.vms))
        assert [c.recommendation for c in a.clusters] == [recs[(c.cluster.vcenter, c.cluster.name)] for c in a.clusters]
    example = estates[2]
    assert writers._alike(report.select(example, ["web-*"])) is None
    assert writers._alike(report.select(attrs.evolve(example, vms=example.vms[:-1]))) is None
    after = run_scenario(example.inventory, Scenario((AddHosts("gold", "Xeon Gold 6430", 2),)), example).after
    assert writers._alike(report.select(after)) is None


def test_what_if_document_in_both_forms(capsys: pytest.CaptureFixture[str]) -> None:
    """A what-if report carries ``changes`` last, grouped or expanded."""
    args = ["check", "--example", "--add-host", "gold=Xeon Gold 6430x2"]
    assert main([*args, "--format", "json"]) == 0
    grouped = json.loads(capsys.readouterr().out)
    assert main([*args, "--format", "json-expanded"]) == 0
    expanded = json.loads(capsys.readouterr().out)
    assert list(grouped)[-1] == "changes" and grouped["changes"]
    assert expand(grouped) == expanded


def test_expanded_warns_of_its_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """The expanded form of a whole estate warns (with its size) above the limit; filtered, it does not."""
    monkeypatch.setattr(writers, "EXPANDED_WARN_BYTES", 1000)
    gen = generated(600, 60)
    said: list[str] = []
    streamed(report.select(gen), "json-expanded", warn=said.append)
    assert len(said) == 1 and "MB" in said[0] and "--format json" in said[0]
    said.clear()
    streamed(report.select(gen, ["vm000001*"]), "json-expanded", warn=said.append)
    streamed(report.select(gen), "json", warn=said.append)
    assert said == []


def test_expanded_warning_goes_to_stderr(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """The command prints the warning on stderr; stdout stays a valid document."""
    monkeypatch.setattr(writers, "EXPANDED_WARN_BYTES", 100)
    assert main(["check", "--example", "--format", "json-expanded"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["form"] == "expanded" and err.startswith("evckit: warning: ") and err.count("\n") == 1


def cell(text: str | None) -> str:
    """A name or message as the CSV writers write it."""
    return str(writers._cell(text or ""))


def csv_rows(view: report.CheckView, table: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(streamed(view, "csv", csv_table=table))))


def test_csv_tables_agree_with_the_json() -> None:
    """Each CSV table agrees with the grouped JSON: one row per VM with its verdict's counts, per
    verdict and cluster with the status, per VM and unreachable target, per cluster, per host (names as
    CSV cells: control characters escaped, no formula)."""
    for view in views():
        doc = report.check_json(view)
        verdicts = {g["id"]: g for g in doc["verdicts"]}
        clusters = [c.label for c in view.analysis.clusters]
        label = {cell(t): t for t in clusters}
        vms = csv_rows(view, "vms")
        assert [r["vm"] for r in vms] == [cell(v["name"]) for v in doc["vms"]]
        expected_targets = []
        for row, vm in zip(vms, doc["vms"]):
            g = verdicts[int(row["verdict"])]
            assert int(row["verdict"]) == vm["verdict"] and row["cluster"] == cell(vm["cluster"])
            ok = g["live_targets"] if vm["migration"] == "live" else g["cold_targets"]
            assert int(row["targets_ok"]) == len(ok)
            assert int(row["targets_partial"]) == len(g["partial_targets"])
            assert int(row["targets_partial"]) + int(row["targets_blocked"]) == len(g["blocked"])
            assert row["needs_power_cycle"] == ((vm["needs_power_cycle"] or {}).get("mode") or "")
            for t in clusters:
                if t not in ok or t in g["blocked"]:
                    status = "partial" if t in g["partial_targets"] else "blocked"
                    expected_targets.append((cell(vm["name"]), cell(t), status,
                                             cell(" | ".join(r["message"] for r in g["blocked"].get(t, [])))))
        per_verdict = csv_rows(view, "verdicts")
        assert len(per_verdict) == len(verdicts) * len(clusters)
        for r in per_verdict:
            g = verdicts[int(r["verdict"])]
            t = label[r["target"]]
            if r["status"] in ("live", "cold"):
                assert t in g[f"{r['status']}_targets"] and t not in g["blocked"]
            else:
                assert r["first_reason"] == cell(g["blocked"][t][0]["message"] if t in g["blocked"] else "")
        targets = csv_rows(view, "targets")
        assert [(r["vm"], r["target"], r["status"], r["reasons"]) for r in targets] == expected_targets
        assert [r["cluster"] for r in csv_rows(view, "clusters")] == [cell(c["name"]) for c in doc["clusters"]]
        assert [r["host"] for r in csv_rows(view, "hosts")] == [cell(h["name"]) for h in doc["hosts"]]


def test_csv_table_option(capsys: pytest.CaptureFixture[str]) -> None:
    """--csv-table picks the table; it needs --format csv."""
    assert main(["check", "--example", "--format", "csv", "--csv-table", "clusters"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["cluster"] for r in rows] == ["gold", "spr", "legacy", "old", "epyc", "mixed"]
    assert main(["check", "--example", "--csv-table", "hosts"]) == 2
    assert "--csv-table goes with --format csv" in capsys.readouterr().err


def test_what_if_csv_tables(capsys: pytest.CaptureFixture[str]) -> None:
    """A what-if's CSV is the table of changes, or with --csv-table that table of the estate after it."""
    args = ["check", "--example", "--add-host", "gold=Xeon Gold 6430", "--format", "csv"]
    assert main(args) == 0
    assert "cluster" in capsys.readouterr().out.splitlines()[0]
    assert main([*args, "--csv-table", "hosts"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert "new-1" in [r["host"] for r in rows]


def test_csv_cells_cannot_be_formulas(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A VM named like a formula is neutralised in every CSV table that names it."""
    snap = json.loads(Path(load_inventories([], example=True).source).read_text(encoding="utf-8"))
    snap["vcenters"][0]["vms"][0]["name"] = "=HYPERLINK(\"http://x\")"
    path = tmp_path / "s.json"
    path.write_text(json.dumps(snap), encoding="utf-8")
    for table in ("vms", "targets"):
        assert main(["check", str(path), "--format", "csv", "--csv-table", table]) == 0
        out = capsys.readouterr().out
        assert "'=HYPERLINK" in out and "\n=HYPERLINK" not in out


class _Sink(io.TextIOBase):
    """A text stream that only counts what is written (the output itself must not be what is measured)."""

    def __init__(self) -> None:
        self.chars = 0

    def write(self, s: str) -> int:
        self.chars += len(s)
        return len(s)


def _writer_peak(view: report.CheckView, fmt: str, table: str | None) -> tuple[int, int]:
    sink = _Sink()
    tracemalloc.start()
    try:
        report.write_check(view, fmt, cast("TextIO", sink), csv_table=table)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak, sink.chars


@pytest.mark.slow
def test_writer_memory_stays_flat() -> None:
    """Writing 4x the VMs (5k -> 20k, same clusters) costs a writer at most a little more memory: what it
    holds is per verdict and per chunk of records, never the output (which grows 4x)."""
    small, large = report.select(generated(5_000, 400, seed=3)), report.select(generated(20_000, 400, seed=3))
    for fmt, table in (("json", None), ("json-expanded", None), ("csv", "vms"), ("csv", "targets"),  # --explain
                       ("csv", "verdicts")):
        (peak_s, out_s), (peak_l, out_l) = _writer_peak(small, fmt, table), _writer_peak(large, fmt, table)
        if table != "verdicts":
            assert out_l > 2.5 * out_s, (fmt, table, out_s, out_l)
        assert peak_l < 1.5 * peak_s + 256 * 1024, (fmt, table, peak_s, peak_l)


@given(st.text())
def test_csv_fields_are_written_as_csv_writer_writes_them(value: str) -> None:
    """The per-VM CSV line is assembled by hand: each name field is what `csv.writer` writes for the
    sanitised cell (quoted when it holds a comma, a quote or a line break; no formula; no control)."""
    assert writers._csv_field(value) + ",x\n" == writers._csv_line([writers._cell(value), "x"])


@given(st.lists(st.text(alphabet=st.sampled_from('ab1 ,"=+-@\t\r\n\x1b\x85\u202e\u00e9'), max_size=6), max_size=6))
def test_names_found_plain_are_their_own_csv_fields(names: list[str]) -> None:
    """The CSV VM table takes a slice of names as they are when `_plain_fields` says so (one scan for
    the slice): then each is exactly its sanitised field."""
    if writers._plain_fields(names):
        assert [writers._csv_field(n) for n in names] == names
    assert writers._plain_fields(["vm-01", "web 2", "db_3", "", "x=1"])
    assert not writers._plain_fields(["vm-01", "=cmd"]) and not writers._plain_fields(["a,b"])

