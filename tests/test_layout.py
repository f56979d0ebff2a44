"""Plain-text layout: tables fit the width, names are never split, summaries follow the filters."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evckit import report
from evckit.cli import main


def test_names_are_never_split_and_the_table_fits() -> None:
    """Free text wraps at spaces only: a hyphenated host name stays whole; every line fits the width."""
    rows = [["esx-legacy-1", "missing CPU features: avx512f, avx512dq on esx-legacy-1, esx-legacy-2 " * 3]]
    out = report.table(rows, ["host", "why"], wrap=[None, 1], width=60)
    assert all(len(line) <= 60 for line in out.splitlines())
    assert "esx-legacy-" not in out.replace("esx-legacy-1", "").replace("esx-legacy-2", "")


def test_too_narrow_becomes_one_block_per_row() -> None:
    """When even the longest words do not fit side by side, each row becomes a block of fields."""
    rows = [["intel-sapphirerapids-long-name", "another-very-long-unbreakable-token", "x"]]
    out = report.table(rows, ["a", "b", "c"], wrap=[None, 1, 1], width=40)
    assert out.splitlines()[0] == "a: intel-sapphirerapids-long-name"
    assert "  b: another-very-long-unbreakable-token" in out


def test_columns_env_sets_the_width(monkeypatch: pytest.MonkeyPatch) -> None:
    """COLUMNS decides the width; without it and without a terminal, 120 columns."""
    monkeypatch.setenv("COLUMNS", "90")
    assert report.terminal_width() == 90
    monkeypatch.delenv("COLUMNS")
    assert report.terminal_width() == report.PIPE_WIDTH


def test_cluster_filter_restricts_the_json_summary(capsys: pytest.CaptureFixture[str]) -> None:
    """--cluster gold: the JSON summary counts gold's hosts and VMs only."""
    assert main(["check", "--example", "--cluster", "gold", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["summary"]["clusters"] == 1
    assert doc["summary"]["hosts"] == len(doc["hosts"]) == 3
    assert doc["summary"]["vms"] == len(doc["vms"])
    assert {v["cluster"] for v in doc["vms"]} == {"gold"}


def test_vm_answer_leads_and_tables_only_with_estate(capsys: pytest.CaptureFixture[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """--vm: the VM's answer first (live, some hosts, cold only, not at all); --estate adds the tables."""
    monkeypatch.setenv("COLUMNS", "100")
    assert main(["check", "--example", "--vm", "web-01"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("web-01: poweredOn vmx-19")
    assert lines[1] == "  live to: gold (its own), spr"
    assert "only some hosts of mixed: esx-mixed-1" in out
    assert "cold only, after powering it off:" in out and "epyc: other CPU vendor" in out
    assert "not at all:" in out and "Recommended EVC mode" not in out
    assert main(["check", "--example", "--vm", "web-01", "--estate"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("web-01:") and "Recommended EVC mode per cluster" in out


def test_markdown_has_summary_and_legend(capsys: pytest.CaptureFixture[str]) -> None:
    """Markdown keeps the summary line and the legend of `*`, with `*` escaped in cells."""
    assert main(["check", "--example", "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert "13 hosts, 6 clusters, 10 VMs" in out.splitlines()[0]
    assert out.rstrip().endswith("(evckit modes KEY)") and "\\* unconfirmed baseline" in out
    assert "intel-cascadelake\\*" in out


def test_modes_show_the_x86_64_level(capsys: pytest.CaptureFixture[str]) -> None:
    """evckit modes lists each mode's x86-64 level; the JSON has it too; no 'unconfirmed (N of M …)'."""
    assert main(["modes", "--format", "json"]) == 0
    modes = {m["key"]: m for m in json.loads(capsys.readouterr().out)["modes"]}
    assert modes["intel-nehalem"]["x86_64_level"] == "x86-64-v2"
    assert modes["intel-merom"]["x86_64_level"] == "x86-64-v1"
    assert main(["modes"]) == 0
    out = capsys.readouterr().out
    assert "x86-64 level" in out and "features unconfirmed" in out and "unconfirmed (" not in out


_CELL = st.text(alphabet=st.sampled_from("ab -,;:\n"), max_size=30)


@given(st.integers(1, 4).flatmap(lambda n: st.tuples(
    st.lists(_CELL, min_size=n, max_size=n),
    st.lists(st.lists(_CELL, min_size=n, max_size=n), min_size=1, max_size=6))))
def test_own_layout_is_tabulates(table: tuple[list[str], list[list[str]]]) -> None:
    """Plain-text tables are laid out by evckit (tabulate's per-cell detection dominates on large tables):
    the result is byte for byte tabulate's "simple" format, multi-line cells and headers included."""
    from tabulate import tabulate  # noqa: PLC0415

    headers, rows = table
    assert report._simple(rows, headers) == tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True)


@given(st.text(alphabet=st.sampled_from("ab c-"), max_size=60), st.integers(1, 25),
       st.sampled_from(["", "  ", "    ", "      "]))
def test_own_wrapping_is_textwraps(text: str, width: int, indent: str) -> None:
    """Free text wraps like `textwrap.wrap` at spaces only (no word split, none at hyphens)."""
    import textwrap  # noqa: PLC0415

    assert report._wrap_spaces(text, width, indent) == textwrap.wrap(
        text, width, break_long_words=False, break_on_hyphens=False, subsequent_indent=indent)


@given(st.lists(st.text(alphabet="abcdefghij", min_size=1, max_size=12), min_size=1, max_size=12),
       st.sampled_from(["", "  ", "    "]), st.integers(1, 30), st.sampled_from(["", "  ", "    ", "      "]))
def test_own_wrapping_of_words_is_textwraps(words: list[str], lead: str, width: int, indent: str) -> None:
    """Indented words separated by single spaces (the fast path) wrap as `textwrap.wrap` wraps them."""
    import textwrap  # noqa: PLC0415

    text = lead + " ".join(words)
    assert report._wrap_spaces(text, width, indent) == textwrap.wrap(
        text, width, break_long_words=False, break_on_hyphens=False, subsequent_indent=indent)


_MD_CELL = st.text(alphabet=st.sampled_from("ab -,;:<>*\\|.1e"), max_size=12)


@given(st.integers(1, 4).flatmap(lambda n: st.tuples(
    st.lists(_MD_CELL, min_size=n, max_size=n),
    st.lists(st.lists(_MD_CELL, min_size=n, max_size=n), min_size=0, max_size=6))))
def test_own_markdown_layout_is_tabulates(table: tuple[list[str], list[list[str]]]) -> None:
    """Markdown tables of text are laid out by evckit: byte for byte tabulate's "github" format; a
    table with a cell tabulate would read as a number (right-aligned) is left to tabulate."""
    from tabulate import tabulate  # noqa: PLC0415

    headers, rows = table
    own = report._github(rows, headers)
    if own is not None:
        assert own == tabulate(rows, headers=headers, tablefmt="github")
    assert report.table(rows, headers, "markdown") == tabulate(
        [[report._md_cell(report._cell(c, "markdown")) for c in r] for r in rows], headers=headers, tablefmt="github")
