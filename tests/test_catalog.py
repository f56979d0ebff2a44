"""Loading tables: a broken table raises one DataError that lists every problem with file and place."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from evckit._resources import data_dir
from evckit.catalog import Catalog
from evckit.errors import DataError, UnknownModeError


@pytest.fixture
def tables(tmp_path: Path) -> Path:
    """A writable copy of the shipped tables."""
    for p in data_dir().glob("*.json"):
        shutil.copy(p, tmp_path / p.name)
    return tmp_path


def edit(path: Path, change) -> None:  # type: ignore[no-untyped-def]
    """Load a JSON table, apply ``change`` to it, write it back."""
    obj = json.loads(path.read_text())
    change(obj)
    path.write_text(json.dumps(obj))


def test_copy_loads_like_builtin(tables: Path) -> None:
    """A faithful copy loads to the same modes as the builtin catalog."""
    c = Catalog.load(tables)
    assert [m.key for m in c.modes] == [m.key for m in Catalog.builtin().modes]


def test_every_problem_listed_once(tables: Path) -> None:
    """Several breakages in several files come back together, each with file and location."""

    def break_modes(o: dict[str, Any]) -> None:
        o["modes"][3]["add"][0]["features"].append("no_such_feature")
        o["modes"][5]["base"] = "intel-nowhere"
        o["modes"].append(dict(o["modes"][0]))  # duplicate key

    def break_features(o: dict[str, Any]) -> None:
        o["features"][1]["cpuid"] = o["features"][0]["cpuid"]  # two features, one bit
        o["features"][2]["confidence"] = "maybe"

    edit(tables / "evc_modes.json", break_modes)
    edit(tables / "features.json", break_features)
    with pytest.raises(DataError) as info:
        Catalog.load(tables)
    text = str(info.value)
    assert "evc_modes.json: modes[3]" in text and "no_such_feature" in text
    assert "intel-nowhere" in text and "duplicate mode key" in text
    assert "share CPUID" in text and "features.json: features[2]" in text
    assert len(info.value.problems) >= 5
    assert "\n" not in text


def test_invalid_json_names_line(tables: Path) -> None:
    """Malformed JSON is reported with its file, line and column."""
    (tables / "hardware_versions.json").write_text('{"releases": [\n  {"release": }\n]}')
    with pytest.raises(DataError, match=r"hardware_versions.json: line 2 column"):
        Catalog.load(tables)


def test_missing_file(tables: Path) -> None:
    """A missing table is a DataError naming it."""
    (tables / "features.json").unlink()
    with pytest.raises(DataError, match="features.json: file missing"):
        Catalog.load(tables)


def test_track_must_not_shrink(tables: Path) -> None:
    """A mode that removes a feature of its base without saying so cannot happen: removes are explicit."""
    edit(tables / "evc_modes.json",
         lambda o: o["modes"][1]["remove"].append({"features": ["avx512f"], "confidence": "confirmed",
                                                   "sources": ["TF-DOCS"], "evidence": "test"}))
    with pytest.raises(DataError, match="removes features not in the base: avx512f"):
        Catalog.load(tables)


def test_unknown_mode_suggests(catalog: Catalog) -> None:
    """An unknown key is an UnknownModeError that suggests close keys."""
    with pytest.raises(UnknownModeError, match="did you mean intel-icelake"):
        catalog.mode("intel-icelak")
    assert catalog.mode("INTEL-ICELAKE").key == "intel-icelake"


def test_builtin_is_loaded_once() -> None:
    """Catalog.builtin() returns the same object: the tables load once per process."""
    assert Catalog.builtin() is Catalog.builtin()


def test_problem_collector_lists_every_problem_with_its_places() -> None:
    """One collector for every reader: places outermost first, empty places left out, raised once."""
    from evckit._problems import ProblemCollector  # noqa: PLC0415
    from evckit.errors import DataError  # noqa: PLC0415

    p = ProblemCollector("cpu_generations.json")
    assert not p
    p.add("generations[3]", "alias 'x' has no letters or digits")
    p.add("", "missing section 'sources'")
    p.add("top")
    assert len(p) == 3
    with pytest.raises(DataError) as err:
        p.raise_if_any(DataError)
    assert err.value.problems == [
        "cpu_generations.json: generations[3]: alias 'x' has no letters or digits",
        "cpu_generations.json: missing section 'sources'",
        "cpu_generations.json: top",
    ]
