"""The HTML report's content, self-containment, escaping and scale, without a browser
(tests/test_html_browser.py loads it in Chromium)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from evckit import html as html_mod
from evckit import report
from evckit._resources import data_dir
from evckit.analysis import analyze
from evckit.cli import main
from evckit.html import render_html
from evckit.inventory import load_inventories, parse_snapshot
from evckit.whatif import AddHosts, Scenario, run_scenario

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from generate import estate  # noqa: E402

#: Names a hostile (or careless) vCenter could hold: markup, script end tags, quotes, entities.
HOSTILE = {
    "web-01": "<script>alert('vm')</script>",
    "gold": "\"><img src=x onerror=alert('cluster')>",
    "esx-gold-1": "</script><script>alert('host')</script>&amp;",
}
#: A name that would display reversed (right-to-left override) and span two lines.
BIDI = ("app-02", "app\u202e20-ppa\nsecond line")


def example_doc() -> dict[str, object]:
    return json.loads((data_dir() / "examples" / "estate.json").read_text())  # type: ignore[no-any-return]


def hostile_snapshot(tmp_path: Path) -> Path:
    """The example estate with some names replaced by markup."""
    text = json.dumps(example_doc())
    for old, new in [*HOSTILE.items(), BIDI]:
        text = text.replace(json.dumps(old), json.dumps(new))
    path = tmp_path / "hostile.json"
    path.write_text(text)
    return path


def render(*argv: str, capsys: pytest.CaptureFixture[str]) -> str:
    status = main(["check", *argv, "--format", "html"])
    out, err = capsys.readouterr()
    assert status == 0 and err == "", err
    return out


class Collect(HTMLParser):
    """Every tag with its attributes, and the text, of a document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> Collect:
    c = Collect()
    c.feed(html)
    c.close()
    return c


def test_example_report_sections(capsys: pytest.CaptureFixture[str]) -> None:
    """The example's report has the summary, confidence, clusters with ladders, matrix and hosts."""
    html = render("--example", capsys=capsys)
    assert html.startswith("<!DOCTYPE html>")
    for anchor in ("summary", "confidence", "clusters", "matrix", "hosts", "power"):
        assert f'id="{anchor}"' in html
    text = " ".join(parse(html).text)
    # gold: current = maximum = cascadelake, held back from icelake by esx-gold-1, web-01 blocks lowering.
    assert "esx-gold-1" in text and "for intel-icelake: lacks" in text
    assert "lowering to intel-skylake would stop 1 running VM from moving in: web-01" in text
    assert "13 of 13 hosts have assumed CPU features" in text
    assert "6.7 GA (vmx-14)" in text  # the hosts' ESXi update release and its cap, with any note on it
    assert "unconfirmed" in text


def test_self_contained(capsys: pytest.CaptureFixture[str]) -> None:
    """No external reference anywhere: only in-page anchors, inline CSS and script, a strict CSP."""
    html = render("--example", capsys=capsys)
    doc = parse(html)
    for tag, attrs in doc.tags:
        assert "src" not in attrs, (tag, attrs)
        for name in ("href", "action", "data", "poster", "srcset"):
            assert attrs.get(name) is None or str(attrs[name]).startswith("#"), (tag, attrs)
        assert tag not in ("link", "iframe", "object", "embed", "img", "base")
    assert not re.search(r"(?i)url\(|@import|https?://", html)
    csp = [a["content"] for t, a in doc.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert csp and str(csp[0]).startswith("default-src 'none'; style-src 'sha256-")


def test_names_are_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Markup in VM, cluster and host names is shown as text, never interpreted (inline and compact)."""
    snap = hostile_snapshot(tmp_path)
    for compact in (False, True):
        if compact:
            monkeypatch.setattr(html_mod, "INLINE_CELLS", 0)
        html = render(str(snap), capsys=capsys)
        for raw in HOSTILE.values():
            assert raw not in html
        doc = parse(html)
        scripts = [t for t, _ in doc.tags if t == "script"]
        assert len(scripts) == (2 if compact else 1)  # evckit's own script (+ the JSON data block)
        assert not any(any(k.startswith("on") for k in a) for _, a in doc.tags)
        text = "".join(doc.text)
        assert "<script>alert('vm')</script>" in text  # shown literally
        assert BIDI[1] not in html and "app\\u202e20-ppa\\x0asecond line" in html  # controls made visible
        if compact:
            data = json.loads(html.split('id="evckit-data">', 1)[1].split("</script>", 1)[0])
            assert HOSTILE["gold"] in data["clusters"]


def test_cell_reasons_inline(capsys: pytest.CaptureFixture[str]) -> None:
    """Each cell of the example's matrix carries its word and reasons from the analysis."""
    html = render("--example", capsys=capsys)
    analysis = analyze(load_inventories([], example=True))
    web = analysis.vm("web-01")
    row = html.split('<span class="first vm">web-01</span>', 1)[1].split("</tr>", 1)[0]
    cells = re.findall(r'<td class="c st-([a-z-]+)">(.*?)</td>', row, re.DOTALL)
    labels = [c.label for c in analysis.clusters]
    assert len(cells) == len(labels)
    old = dict(zip(labels, cells))["old"]
    assert old[0] == "no"
    for r in web.verdict.blocked["old"]:
        assert r.message in old[1].replace("&#39;", "'")
    assert "hardware version vmx-19" in old[1]
    assert dict(zip(labels, cells))["gold"] == ("live", "live")


def test_what_if_before_and_after(capsys: pytest.CaptureFixture[str]) -> None:
    """A what-if report shows each affected cluster's maximum mode before and after, and the new hosts."""
    html = render("--example", "--replace-hosts", "gold=Xeon Gold 6430x2", capsys=capsys)
    text = "".join(parse(html).text)
    assert 'id="whatif"' in html and "what-if" in text
    assert "intel-cascadelake → intel-sapphirerapids changed" in text
    assert "new-1 (Xeon Gold 6430" in text and "retired esx-gold-1, esx-gold-2, esx-gold-3" in text


def test_without_jinja2(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Without the extra, --format html fails with one line saying what to install; other formats work."""
    monkeypatch.setitem(sys.modules, "jinja2", None)
    status = main(["check", "--example", "--format", "html"])
    out, err = capsys.readouterr()
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and "pip install 'evckit[html]'" in err
    assert main(["check", "--example"]) == 0


def test_jinja2_loads_only_for_html() -> None:
    """`evckit check --example` in table form does not import Jinja2."""
    code = ("import sys; from evckit.cli import main; import io, contextlib\n"
            "with contextlib.redirect_stdout(io.StringIO()): main(['check', '--example'])\n"
            "print('jinja2' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}).stdout
    assert out.strip() == "False"


def test_large_estate_groups_rows_and_columns() -> None:
    """Many clusters: rows are verdict groups, alike clusters share columns, reasons go to one data block,
    and every VM and cluster name is still in the file."""
    inv = parse_snapshot(estate(2000, 600, seed=11), "gen")
    analysis = analyze(inv)
    html = render_html(report.select(analysis))
    assert 'class="compact"' in html
    rows = len({(id(v.verdict), v.vm.running) for v in analysis.vms})
    assert html.count("<tr data-row=") == rows < len(analysis.vms)
    data = json.loads(html.split('id="evckit-data">', 1)[1].split("</script>", 1)[0])
    assert sorted(j for col in data["columns"] for j in col) == list(range(len(analysis.clusters)))
    assert len(data["columns"]) < len(analysis.clusters)
    assert len(data["cells"]) == rows and all(len(r) == len(analysis.clusters) for r in data["cells"])
    for v in analysis.vms:
        assert v.vm.name in html
    # A blocked cell's reasons, rebuilt as the script does, are the analysis's messages.
    first = next(v for v in analysis.vms if v.vm.running and v.verdict.blocked)
    order = []
    for v in analysis.vms:
        key = (id(v.verdict), v.vm.running)
        if key not in order:
            order.append(key)
    counts = {k: 0 for k in order}
    for v in analysis.vms:
        counts[(id(v.verdict), v.vm.running)] += 1
    ranked = sorted(order, key=lambda k: (-counts[k], min(x.vm.name for x in analysis.vms
                                                           if (id(x.verdict), x.vm.running) == k)))
    i = ranked.index((id(first.verdict), True))
    target = next(iter(first.verdict.blocked))
    j = [c.label for c in analysis.clusters].index(target)
    items = data["sets"][data["cells"][i][j]]
    texts = [data["strings"][a] + (" on " + data["strings"][b] if b >= 0 else "") for a, b in items]
    for r in first.verdict.blocked[target]:
        assert r.message in texts


def test_scenario_html_via_report_module() -> None:
    """`report.render_scenario(..., "html")` is the same renderer the command uses."""
    inv = load_inventories([], example=True)
    result = run_scenario(inv, Scenario((AddHosts("spr", "Xeon Gold 6430", 1),)))
    html = report.render_scenario(result, report.select(result.after), "html")
    assert 'id="whatif"' in html and "new-1" in html


def test_copy_is_deterministic(capsys: pytest.CaptureFixture[str]) -> None:
    """The same input gives the same bytes (no clock, no random ids): reports diff cleanly."""
    assert render("--example", capsys=capsys) == render("--example", capsys=capsys)


def test_output_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`check --format html -o FILE` writes the whole report to FILE and nothing to stdout."""
    path = tmp_path / "report.html"
    assert main(["check", "--example", "--add-host", "gold=Xeon Gold 6430", "--format", "html", "-o", str(path)]) == 0
    out, err = capsys.readouterr()
    assert out == "" and err == ""
    html = path.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>") and 'id="whatif"' in html


def test_data_conflicts_shown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A running VM where the data says it cannot run (vmx-19 on an ESXi 6.7 host) is listed under the
    data's confidence with the analysis's message."""
    doc = example_doc()
    for vm in doc["vcenters"][0]["vms"]:  # type: ignore[index]
        if vm["name"] == "web-01":
            vm["host"] = "esx-old-1"
    snap = tmp_path / "conflict.json"
    snap.write_text(json.dumps(doc))
    analysis = analyze(load_inventories([str(snap)]))
    assert analysis.data_conflicts
    html = render(str(snap), capsys=capsys)
    section = html.split('id="confidence"', 1)[1].split("</div>", 1)[0]
    assert "run where evckit's data says they cannot" in section
    for dc in analysis.data_conflicts:
        assert dc.vm in section and dc.message.replace("'", "&#39;") in section


def test_recommendation_shown_when_the_analysis_makes_one(capsys: pytest.CaptureFixture[str]) -> None:
    """Each cluster's recommendation from the analysis gives its ladder a "recommended" rung, a sentence,
    and its costs (here: mixed's AMD mode needs the Intel host out, hidden features per host)."""
    analysis = analyze(load_inventories([], example=True))
    catalog = analysis.inventory.catalog
    for c in analysis.clusters:
        rec = c.recommendation
        assert rec is not None
        mode, text, costs = html_mod._recommendation(c)
        assert mode == rec.mode and text is not None and rec.reason in text
        for x in rec.excluded_hosts:
            assert f"{x.host} cannot join it: {x.reason}" in costs
        if rec.mode is not None:
            steps = {s.key: s.roles for s in html_mod._ladder(c, catalog.modes, rec.mode)}
            assert "recommended" in steps[rec.mode.key]
    mixed = analysis.cluster("mixed")
    assert mixed.recommendation is not None and mixed.recommendation.excluded_hosts
    html = render("--example", capsys=capsys)
    table = html.split('<table class="grid clusters">', 1)[1].split("</table>", 1)[0]
    assert table.count('<span class="role role-recommended">recommended</span>') == sum(
        1 for c in analysis.clusters if c.recommendation is not None and c.recommendation.mode is not None)
    assert "Recommended: enable amd-zen3" in html
