"""The HTML report in a real browser: headless Chromium loads it, the tests read the rendered DOM.

Chromium comes from Debian's ``chromium`` package; ``.ci/run`` installs it when missing, so CI always
runs these tests (with ``CI`` set, a missing browser is a failure, not a skip). Elsewhere they skip
with a reason when no Chromium is found (``EVCKIT_CHROMIUM`` can point at one).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from evckit import report
from evckit.analysis import analyze
from evckit.cli import main
from evckit.html import render_html
from evckit.inventory import parse_snapshot
from tests import chromium
from tests.test_html import HOSTILE, hostile_snapshot

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from generate import estate  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def browser() -> Iterator[chromium.Browser]:
    """One headless Chromium for the module, with a fresh profile removed afterwards."""
    exe = chromium.find()
    if exe is None:
        if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
            pytest.fail("CI must run the browser tests, but no Chromium was found (.ci/run installs Debian's chromium)")
        pytest.skip("no Chromium found: `apt-get install chromium` (or set EVCKIT_CHROMIUM) to run the browser tests")
    with chromium.browser(exe, width=1400, height=1000) as b:
        yield b


def write_report(path: Path, *argv: str) -> Path:
    """Run `evckit check … --format html` and write its output to ``path``."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["check", *argv, "--format", "html"]) == 0
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def open_report(browser: chromium.Browser, path: Path) -> None:
    browser.events.clear()
    browser.load(path)


CELL = """(() => {
  const labels = [...document.querySelectorAll('#matrix thead th.col .cl')].map(e => e.textContent);
  const row = [...document.querySelectorAll('#matrix tbody tr')].find(
      tr => tr.querySelector('th .first').textContent.trim() === %s);
  const cell = row.querySelectorAll('td.c')[labels.indexOf(%s)];
  return {word: cell.querySelector('summary') ? cell.querySelector('summary').textContent : cell.textContent,
          reasons: [...cell.querySelectorAll('li')].map(li => li.textContent),
          visible: cell.getBoundingClientRect().width > 0};
})()"""


def test_example_in_chromium(browser: chromium.Browser, tmp_path: Path) -> None:
    """web-01 x old says "no" because of its hardware version; nothing but the file is requested;
    no script or CSP error; the screenshot (kept as an artefact) is not blank."""
    path = write_report(tmp_path / "report.html", "--example")
    open_report(browser, path)
    assert browser.evaluate("document.title").startswith("EVC and vMotion report")
    cell = browser.evaluate(CELL % (json.dumps("web-01"), json.dumps("old")))
    assert cell["word"] == "no" and cell["visible"]
    assert any("hardware version vmx-19" in r and "vmx-14" in r for r in cell["reasons"]), cell
    gold = browser.evaluate(CELL % (json.dumps("web-01"), json.dumps("gold")))
    assert gold["word"] == "live" and gold["reasons"] == []
    # The rendered ladder of cluster gold: cascadelake is both current and maximum, icelake held back.
    ladder = browser.evaluate("[...document.querySelectorAll('#cluster-0 .ladder .step')].map(s => s.textContent)")
    assert any("intel-cascadelake" in s and "current" in s and "maximum" in s for s in ladder), ladder
    assert any("intel-icelake" in s and "held back" in s for s in ladder), ladder
    assert browser.requests() == [path.resolve().as_uri()] and browser.blocked() == {}
    assert browser.console_errors() == []
    shot = tmp_path / "report.png"
    shot.write_bytes(browser.screenshot())
    width, height, pixels = chromium.png_pixels(browser.screenshot(scale=0.4))
    counts = Counter(pixels)
    _background, plain = counts.most_common(1)[0]
    ink = 1 - plain / len(pixels)  # share of pixels that are not the background colour
    assert width > 100 and height > 100
    assert len(counts) > 50 and ink > 0.05, (len(counts), ink)


def test_no_request_leaves_the_file(browser: chromium.Browser, tmp_path: Path) -> None:
    """The report's CSP blocks anything a name could smuggle in; the check itself can see a request
    (a doctored copy without the CSP does fetch its image)."""
    path = write_report(tmp_path / "report.html", "--example")
    html = path.read_text(encoding="utf-8")
    beacon = '<img src="http://127.0.0.1:9/beacon.png" alt="">'
    doctored = tmp_path / "doctored.html"
    doctored.write_text(html.replace("<main>", "<main>" + beacon, 1), encoding="utf-8")
    open_report(browser, doctored)
    assert browser.blocked() == {"http://127.0.0.1:9/beacon.png": "csp"}  # default-src 'none'
    no_csp = tmp_path / "no-csp.html"
    no_csp.write_text(re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", doctored.read_text("utf-8")),
                      encoding="utf-8")
    open_report(browser, no_csp)
    assert "http://127.0.0.1:9/beacon.png" in browser.requests() and browser.blocked() == {}


def test_hostile_names_stay_text(browser: chromium.Browser, tmp_path: Path) -> None:
    """Markup in names is displayed literally and runs nothing."""
    path = write_report(tmp_path / "hostile.html", str(hostile_snapshot(tmp_path)))
    open_report(browser, path)
    text = browser.evaluate("document.body.innerText")
    for raw in HOSTILE.values():
        assert raw in text
    assert browser.evaluate("document.querySelectorAll('img, iframe').length") == 0
    assert browser.evaluate("document.scripts.length") == 1
    assert not [e for e in browser.events if e["method"] == "Page.javascriptDialogOpening"]
    assert browser.console_errors() == []


def test_large_estate_reasons_on_demand(browser: chromium.Browser, tmp_path: Path) -> None:
    """With many clusters, pressing a cell shows, per cluster of its column, the analysis's reasons."""
    analysis = analyze(parse_snapshot(estate(2000, 600, seed=11), "gen"))
    path = tmp_path / "large.html"
    path.write_text(render_html(report.select(analysis)), encoding="utf-8")
    open_report(browser, path)
    assert browser.evaluate("document.body.className") == "compact"
    shown = browser.evaluate("""(() => {
      const b = document.querySelector('#matrix button.why');
      b.click();
      const p = document.getElementById('reasons');
      return {hidden: p.hidden, title: p.querySelector('h3').textContent,
              clusters: [...p.querySelectorAll('h4')].map(h => h.textContent),
              reasons: [...p.querySelectorAll('li')].map(li => li.textContent),
              first: b.closest('tr').querySelector('th .first').textContent.replace(' …', '')};
    })()""")
    assert not shown["hidden"] and shown["clusters"]
    vm = analysis.vm(shown["first"].strip())
    for label in shown["clusters"]:
        for r in vm.verdict.blocked.get(label, ()):
            assert r.message in shown["reasons"]
    browser.evaluate("document.querySelector('#reasons .close').click()")
    assert browser.evaluate("document.getElementById('reasons').hidden") is True
    assert browser.requests() == [path.resolve().as_uri()]
    assert browser.console_errors() == []


def test_what_if_and_print(browser: chromium.Browser, tmp_path: Path) -> None:
    """A what-if report renders its before/after table, and prints to PDF (landscape) in Chromium."""
    path = write_report(tmp_path / "whatif.html", "--example", "--add-host", "spr=Xeon Gold 6430x2")
    open_report(browser, path)
    rows = browser.evaluate("[...document.querySelectorAll('#whatif tbody tr')].map(r => r.innerText)")
    assert rows and "spr" in rows[0] and "new-1" in rows[0]
    pdf = browser.pdf()
    assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    assert browser.console_errors() == []

