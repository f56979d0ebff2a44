"""Tests of evckit.identify: CPUID signatures and product names to CPU generations and expected EVC modes."""

from __future__ import annotations

import copy
import csv
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evckit._resources import data_dir
from evckit.errors import DataError, UnknownCpuError
from evckit.catalog import Catalog
from evckit.identify import GenerationTable, normalize_name

DATA_FILE = data_dir() / "cpu_generations.json"
SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "cpuid-samples"
MISSING_SAMPLES = (
    f"the CPUID sample set is missing: expected {SAMPLES}/MANIFEST.tsv and README.md "
    "(the shared development dumps beside the repository)"
)

# The mode keys the task defines; the table must use only these.
VALID_MODES = frozenset(
    "intel-merom intel-penryn intel-nehalem intel-westmere intel-sandybridge intel-ivybridge "
    "intel-haswell intel-broadwell intel-skylake intel-cascadelake intel-icelake intel-sapphirerapids "
    "intel-graniterapids amd-rev-e amd-rev-f amd-greyhound amd-greyhound-no3dnow amd-bulldozer "
    "amd-piledriver amd-steamroller amd-zen amd-zen2 amd-zen3 amd-zen4 amd-zen5".split()
)

FORMS_LISTED = (
    "expected a Xeon E5/E7 name ('E5-2690 v4'), a Xeon Scalable name ('Gold 6348'), a Xeon 6 name "
    "('6740P'), an EPYC name ('EPYC 9354'), an older Xeon ('X5670'), an Opteron ('Opteron 6234'), "
    "Xeon W/D/E-2xxx/Max, Core i3-i9/Core Ultra, Atom C, Ryzen, Threadripper, Hygon, or a codename "
    "('sapphirerapids')"
)


@pytest.fixture(scope="module")
def table() -> GenerationTable:
    """The shipped generation table, loaded once for the module."""
    return Catalog.builtin().generations


def _raw() -> dict[str, Any]:
    """The shipped JSON, decoded."""
    data: dict[str, Any] = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    return data


# ---------------------------------------------------------------------------------------------------
# The real dumps: MANIFEST.tsv and the README's expected modes, read at test time (never copied).


def _read_manifest() -> list[dict[str, str]] | None:
    """MANIFEST.tsv rows, or None when the sample set is absent."""
    path = SAMPLES / "MANIFEST.tsv"
    if not path.is_file():
        return None
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def _read_expected() -> dict[str, str]:
    """README table 'Expected maximum EVC mode of each dump': file -> first token of the right column."""
    text = (SAMPLES / "README.md").read_text(encoding="utf-8")
    section = text.split("## Expected maximum EVC mode of each dump", 1)[1]
    expected: dict[str, str] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 2 or cells[0] in {"file", ""} or set(cells[0]) <= {"-"}:
            continue
        expected[cells[0]] = cells[1].split()[0].rstrip(",;")
    return expected


def _signature(row: dict[str, str]) -> tuple[str, int, int, int]:
    """(vendor string, family, model, stepping) of a manifest row."""
    family, model, stepping = (int(v, 16) for v in row["family/model/stepping"].split("/"))
    return row["vendor"], family, model, stepping


MANIFEST = _read_manifest()
MANIFEST_PARAMS = (
    [pytest.param(r, id=r["file"]) for r in MANIFEST] if MANIFEST is not None else [pytest.param(None, id="missing")]
)
BRAND_PARAMS = (
    [pytest.param(r, id=r["file"]) for r in MANIFEST if r["brand_string"].strip()]
    if MANIFEST is not None
    else [pytest.param(None, id="missing")]
)

# Dumps whose README expectation differs from their generation's nominal maximum, and why.
NOMINAL_DIFFERS = {
    "libvirt/x86_64-cpuid-Xeon-Bronze-3408U.xml": (
        "intel-sapphirerapids",
        "a Sapphire Rapids part with AMX fused off: the features decide, the generation only sets the ceiling",
    ),
}

# Brand strings that by_name does not resolve (Core 2 client parts and A-series APUs have no name rules).
NAME_UNSUPPORTED = {
    "libvirt/x86-cpuid-Core2-E6850.xml": "Core 2 client",
    "libvirt/x86-cpuid-Core2-Q9500.xml": "Core 2 client",
    "libvirt/x86_64-cpuid-A10-5800K.xml": "APU",
    "libcpuid/amd-a10-7850k-radeon-r7-12-compute-cores-4c+8g.test": "APU",
    "libcpuid/amd-a12-9800-radeon-r7-12-compute-cores-4c+8g.test": "APU",
}


def _need(row: dict[str, str] | None) -> dict[str, str]:
    """Skip, saying why, when the sample set is absent (tests/test_real_cpus.py runs without it)."""
    if row is None:
        pytest.skip(MISSING_SAMPLES)
    return row


def test_samples_present() -> None:
    """The shared CPUID sample set is where the tests expect it."""
    if MANIFEST is None or not (SAMPLES / "README.md").is_file():
        pytest.skip(MISSING_SAMPLES)


def test_readme_covers_manifest() -> None:
    """The README's expected-mode table lists exactly the dumps of MANIFEST.tsv, with valid mode keys."""
    if MANIFEST is None:
        pytest.skip(MISSING_SAMPLES)
    expected = _read_expected()
    assert set(expected) == {r["file"] for r in MANIFEST}
    assert set(expected.values()) <= VALID_MODES


def test_exception_lists_name_real_dumps() -> None:
    """Every dump named in the exception lists is in MANIFEST.tsv (no stale entries)."""
    if MANIFEST is None:
        pytest.skip(MISSING_SAMPLES)
    files = {r["file"] for r in MANIFEST}
    assert set(NOMINAL_DIFFERS) <= files
    assert set(NAME_UNSUPPORTED) <= files


@pytest.mark.parametrize("row", MANIFEST_PARAMS)
def test_dump_signature_gives_expected_mode(table: GenerationTable, row: dict[str, str] | None) -> None:
    """Each real dump's signature maps to a generation whose expected mode is the README's."""
    row = _need(row)
    gen = table.by_signature(*_signature(row))
    assert gen is not None, f"no generation for {row['file']} ({row['family/model/stepping']})"
    readme = _read_expected()[row["file"]]
    if row["file"] in NOMINAL_DIFFERS:
        nominal, _why = NOMINAL_DIFFERS[row["file"]]
        assert gen.expected_max_evc == nominal
        assert readme != nominal
    else:
        assert gen.expected_max_evc == readme


@pytest.mark.parametrize("row", BRAND_PARAMS)
def test_dump_brand_name_agrees_with_signature(table: GenerationTable, row: dict[str, str] | None) -> None:
    """A dump's brand string resolves to its signature's generation, or (client parts) raises."""
    row = _need(row)
    brand = row["brand_string"]
    if row["file"] in NAME_UNSUPPORTED:
        with pytest.raises(UnknownCpuError, match="unrecognised CPU name"):
            table.by_name(brand)
        return
    gen = table.by_signature(*_signature(row))
    assert gen is not None
    match = table.by_name(brand)
    assert match.generation.key == gen.key
    assert match.assumed


# ---------------------------------------------------------------------------------------------------
# Names


XEON_E = [
    ("E5-2690", "sandybridge"),
    ("Intel(R) Xeon(R) CPU E5-2650 0 @ 2.00GHz", "sandybridge"),
    ("E5-2650L", "sandybridge"),
    ("E5-2680 v2", "ivybridge"),
    ("Xeon E5-4650 v2", "ivybridge"),
    ("E5-2690 v3", "haswell"),
    ("E5-2690 v4", "broadwell"),
    ("E5-2690V4", "broadwell"),
    ("E5 2690 v4", "broadwell"),
    ("E5-2697A v4", "broadwell"),
    ("Intel(R) Xeon(R) CPU E5-2690 v4 @ 2.60GHz", "broadwell"),
    ("E7-4870", "westmere"),
    ("E7-8870", "westmere"),
    ("E7-4890 v2", "ivybridge"),
    ("E7-8890 v3", "haswell"),
    ("E7-8890 v4", "broadwell"),
    ("E3-1230", "sandybridge"),
    ("E3-1230 v2", "ivybridge"),
    ("E3-1230 v3", "haswell"),
    ("E3-1285 v4", "broadwell"),
    ("E3-1230 v5", "skylake-client"),
    ("E3-1270 v6", "skylake-client"),
]

XEON_SCALABLE = [
    ("Bronze 3104", "skylake-sp"),
    ("Silver 4114", "skylake-sp"),
    ("Gold 5118", "skylake-sp"),
    ("Gold 6130", "skylake-sp"),
    ("Xeon Platinum 8180", "skylake-sp"),
    ("Bronze 3204", "cascadelake"),
    ("Silver 4214", "cascadelake"),
    ("Gold 6248R", "cascadelake"),
    ("Platinum 8280L", "cascadelake"),
    ("Platinum 9282", "cascadelake"),
    ("Silver 4314", "icelake-sp"),
    ("Gold 5318Y", "icelake-sp"),
    ("Intel(R) Xeon(R) Gold 6348 CPU @ 2.60GHz", "icelake-sp"),
    ("Platinum 8380", "icelake-sp"),
    ("Xeon Platinum 8380H", "cooperlake"),
    ("Platinum 8380HL", "cooperlake"),
    ("Gold 6348H", "cooperlake"),
    ("Silver 4410Y", "sapphirerapids"),
    ("Xeon Gold 6430", "sapphirerapids"),
    ("Platinum 8480+", "sapphirerapids"),
    ("Platinum 8490H", "sapphirerapids"),
    ("Silver 4514Y", "emeraldrapids"),
    ("Gold 6548Y+", "emeraldrapids"),
    ("Platinum 8592+", "emeraldrapids"),
    ("Platinum 8558P", "emeraldrapids"),
]

XEON_6 = [
    ("Xeon 6788P", "graniterapids"),
    ("Intel(R) Xeon(R) 6788P", "graniterapids"),
    ("Xeon 6 6740P", "graniterapids"),
    ("6980P", "graniterapids"),
    ("6972P", "graniterapids"),
    ("6780E", "sierraforest"),
    ("Xeon 6 6766E", "sierraforest"),
    ("6710E", "sierraforest"),
]

EPYC = [
    ("EPYC 7601", "zen"),
    ("AMD EPYC 7551P", "zen"),
    ("EPYC 7251", "zen"),
    ("EPYC 7502", "zen2"),
    ("EPYC 7742", "zen2"),
    ("EPYC 7H12", "zen2"),
    ("EPYC 7F52", "zen2"),
    ("EPYC 7713", "zen3"),
    ("EPYC 75F3", "zen3"),
    ("EPYC 7773X", "zen3"),
    ("EPYC 9354", "zen4"),
    ("EPYC 9654", "zen4"),
    ("EPYC 9754", "zen4"),
    ("EPYC 9684X", "zen4"),
    ("EPYC 8534P", "zen4"),
    ("EPYC 4564P", "zen4"),
    ("EPYC 4584PX", "zen4"),
    ("EPYC 9755", "zen5"),
    ("EPYC 9575F", "zen5"),
    ("AMD EPYC 9965 192-Core Processor", "zen5"),
    ("EPYC 4565P", "zen5"),
]

OLDER_XEON = [
    ("X5667", "westmere"),
    ("Xeon X5670", "westmere"),
    ("E5620", "westmere"),
    ("L5640", "westmere"),
    ("Xeon W3680", "westmere"),
    ("X5570", "nehalem"),
    ("E5540", "nehalem"),
    ("W3520", "nehalem"),
    ("X7560", "nehalem"),
    ("E5420", "penryn"),
    ("X5460", "penryn"),
    ("E7450", "penryn"),
    ("Xeon 5160", "merom"),
    ("Intel(R) Xeon(R) CPU 5160 @ 3.00GHz", "merom"),
    ("X5355", "merom"),
    ("E7330", "merom"),
    ("X3220", "merom"),
]

OPTERON = [
    ("Opteron 6234", "bulldozer"),
    ("Opteron 4234", "bulldozer"),
    ("Opteron 6376", "piledriver"),
    ("Opteron 4386", "piledriver"),
    ("Opteron 2350", "greyhound"),
    ("Six-Core AMD Opteron(tm) Processor 2435", "greyhound"),
    ("Opteron 6174", "greyhound"),
    ("Opteron 2210 HE", "k8-rev-f"),
    ("Opteron 8218", "k8-rev-f"),
]

CODENAMES = [
    ("sapphirerapids", "sapphirerapids"),
    ("Sapphire Rapids", "sapphirerapids"),
    ("cascade lake", "cascadelake"),
    ("Cascade-Lake", "cascadelake"),
    ("Icelake", "icelake-sp"),
    ("Skylake", "skylake-sp"),
    ("Cooper Lake", "cooperlake"),
    ("Emerald Rapids", "emeraldrapids"),
    ("Granite Rapids", "graniterapids"),
    ("Sierra Forest", "sierraforest"),
    ("Alder Lake", "alderlake"),
    ("Raptor Lake", "alderlake"),
    ("Coffee Lake", "skylake-client"),
    ("Westmere-EP", "westmere"),
    ("zen4", "zen4"),
    ("Zen 4", "zen4"),
    ("Zen+", "zen"),
    ("Genoa", "zen4"),
    ("Bergamo", "zen4"),
    ("Milan", "zen3"),
    ("Rome", "zen2"),
    ("Naples", "zen"),
    ("Turin", "zen5"),
    ("Barcelona", "greyhound"),
    ("Excavator", "excavator"),
    ("Dhyana", "hygon-dhyana"),
]


@pytest.mark.parametrize(("name", "key"), XEON_E)
def test_xeon_e_names(table: GenerationTable, name: str, key: str) -> None:
    """Xeon E3/E5/E7 names map by product line and version (none, ' 0' or vN)."""
    match = table.by_name(name)
    assert (match.generation.key, match.matched_form) == (key, "xeon-e")


@pytest.mark.parametrize(("name", "key"), XEON_SCALABLE)
def test_xeon_scalable_names(table: GenerationTable, name: str, key: str) -> None:
    """Xeon Scalable names map by their second digit, with H/HL marking Cooper Lake."""
    match = table.by_name(name)
    assert (match.generation.key, match.matched_form) == (key, "xeon-scalable")


@pytest.mark.parametrize(("name", "key"), XEON_6)
def test_xeon_6_names(table: GenerationTable, name: str, key: str) -> None:
    """Xeon 6 names map by suffix: P is Granite Rapids, E is Sierra Forest."""
    match = table.by_name(name)
    assert (match.generation.key, match.matched_form) == (key, "xeon-6")


@pytest.mark.parametrize(("name", "key"), EPYC)
def test_epyc_names(table: GenerationTable, name: str, key: str) -> None:
    """EPYC names map by series and last digit (7001..7003, 9004/8004/4004, 9005/4005)."""
    match = table.by_name(name)
    assert (match.generation.key, match.matched_form) == (key, "epyc")


@pytest.mark.parametrize(("name", "key"), OLDER_XEON)
def test_older_xeon_names(table: GenerationTable, name: str, key: str) -> None:
    """Pre-E5 Xeon numbers map by their series (5600 Westmere, 5500 Nehalem, 5400 Penryn, ...)."""
    match = table.by_name(name)
    assert (match.generation.key, match.matched_form) == (key, "xeon-legacy")


@pytest.mark.parametrize(("name", "key"), OPTERON)
def test_opteron_names(table: GenerationTable, name: str, key: str) -> None:
    """Four-digit Opteron names map by their first two digits (62xx Bulldozer, 63xx Piledriver, ...)."""
    match = table.by_name(name)
    assert (match.generation.key, match.matched_form) == (key, "opteron")


@pytest.mark.parametrize(("name", "key"), CODENAMES)
def test_codenames(table: GenerationTable, name: str, key: str) -> None:
    """Codenames resolve regardless of case, spaces and hyphens."""
    match = table.by_name(name)
    assert (match.generation.key, match.matched_form) == (key, "codename")


def test_every_generation_key_is_a_codename(table: GenerationTable) -> None:
    """Each generation's own key resolves to it by name."""
    for gen in table:
        assert table.by_name(gen.key).generation is gen


def test_name_confidence_follows_rule(table: GenerationTable) -> None:
    """A name matched by a convention-only rule says so in its confidence."""
    assert table.by_name("EPYC 4565P").confidence == "unconfirmed"
    assert table.by_name("EPYC 9755").confidence == "confirmed"


def test_name_match_reports_text(table: GenerationTable) -> None:
    """The match carries the normalised text that matched, without trademarks or clock speed."""
    match = table.by_name("Intel(R) Xeon(R) Gold 6348 CPU @ 2.60GHz")
    assert match.text == "XEON GOLD 6348"


BAD_NAMES = [
    "Pentium 4",
    "Celeron",
    "",
    "Xeon",
    "Core 2 Duo E7500",
    "Pentium Gold 7505",
    "Xeon Phi 7210",
    "5160",
]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_unrecognised_names_list_forms(table: GenerationTable, name: str) -> None:
    """An unrecognised name raises UnknownCpuError quoting it and listing the understood forms."""
    with pytest.raises(UnknownCpuError) as info:
        table.by_name(name)
    assert str(info.value) == f"unrecognised CPU name {name!r}: {FORMS_LISTED}"


NO_RULE_NAMES = [
    ("Xeon Gold 6648", "a Xeon Scalable"),
    ("E5-2690 v7", "a Xeon E3/E5/E7"),
    ("Xeon 6 6369P", "a Xeon 6"),
    ("Xeon 5080", "an older Xeon"),
    ("EPYC 7554", "an EPYC"),
    ("Opteron 2120", "an Opteron"),
]


@pytest.mark.parametrize(("name", "form"), NO_RULE_NAMES)
def test_recognised_form_without_rule(table: GenerationTable, name: str, form: str) -> None:
    """A name of a known form but an unlisted series raises, naming the form, instead of guessing."""
    with pytest.raises(UnknownCpuError, match=re.escape(f"it reads as {form} name")):
        table.by_name(name)


def test_normalize_name() -> None:
    """Brand-string noise (trademarks, CPU, clock, core counts, vendor) is stripped."""
    assert normalize_name("Intel(R) Xeon(R) CPU E5-2650 0 @ 2.00GHz") == "XEON E5-2650 0"
    assert normalize_name("AMD EPYC 7601 32-Core Processor") == "EPYC 7601"
    assert normalize_name("Quad-Core AMD Opteron(tm) Processor 2350") == "OPTERON 2350"


@given(st.text(max_size=40))
def test_by_name_only_raises_unknown_cpu(text: str) -> None:
    """Any text either resolves or raises UnknownCpuError, never another exception."""
    table = Catalog.builtin().generations
    try:
        match = table.by_name(text)
    except UnknownCpuError:
        return
    assert match.generation in table.generations


# ---------------------------------------------------------------------------------------------------
# Signatures


SIGNATURES = [
    ("intel", 6, 0x0F, 11, "merom"),
    ("intel", 6, 0x55, 0, "skylake-sp"),
    ("intel", 6, 0x55, 4, "skylake-sp"),
    ("intel", 6, 0x55, 5, "cascadelake"),
    ("intel", 6, 0x55, 7, "cascadelake"),
    ("intel", 6, 0x55, 10, "cooperlake"),
    ("intel", 6, 0x55, 11, "cooperlake"),
    ("intel", 6, 0x55, 8, None),
    ("intel", 6, 0x55, None, None),
    ("intel", 6, 0x6A, None, "icelake-sp"),
    ("intel", 6, 0x8F, 8, "sapphirerapids"),
    ("intel", 6, 0xCF, 2, "emeraldrapids"),
    ("intel", 6, 0xAE, 1, "graniterapids"),
    ("intel", 6, 0xAF, 3, "sierraforest"),
    ("intel", 6, 0xDD, 1, "clearwaterforest"),
    ("intel", 6, 0xB7, 1, "alderlake"),
    ("intel", 6, 0x4D, 8, "silvermont"),
    ("intel", 6, 0x5F, 1, "goldmont"),
    ("intel", 19, 0x01, 0, "diamondrapids"),
    ("intel", 6, 0x01, 0, None),
    ("GenuineIntel", 6, 0x4F, 1, "broadwell"),
    ("amd", 6, 0x4F, 1, None),
    ("amd", 15, 0x23, 2, "k8-rev-e"),
    ("amd", 15, 0x41, 2, "k8-rev-f"),
    ("amd", 15, 0x14, 0, None),
    ("AuthenticAMD", 21, 0x02, 0, "piledriver"),
    ("amd", 21, 0x01, 2, "bulldozer"),
    ("amd", 21, 0x13, 1, "piledriver"),
    ("amd", 21, 0x65, 1, "excavator"),
    ("amd", 23, 0x18, 1, "zen"),
    ("amd", 23, 0x71, 0, "zen2"),
    ("amd", 25, 0x11, 1, "zen4"),
    ("amd", 25, 0xA0, 1, "zen4"),
    ("amd", 25, 0x44, 1, "zen3"),
    ("amd", 26, 0x02, 1, "zen5"),
    ("amd", 26, 0x50, 0, None),
    ("hygon", 24, 0x00, 1, "hygon-dhyana"),
    ("HygonGenuine", 24, 0x02, 2, "hygon-dhyana"),
]


@pytest.mark.parametrize(("vendor", "family", "model", "stepping", "key"), SIGNATURES)
def test_signatures(
    table: GenerationTable, vendor: str, family: int, model: int, stepping: int | None, key: str | None
) -> None:
    """Display family/model/stepping map to the right generation, or to None when unknown or ambiguous."""
    gen = table.by_signature(vendor, family, model, stepping)
    assert (gen.key if gen else None) == key


def test_split_model_candidates(table: GenerationTable) -> None:
    """Model 0x55 without a stepping lists Skylake-SP, Cascade Lake and Cooper Lake as candidates."""
    keys = [g.key for g in table.candidates("intel", 6, 0x55)]
    assert keys == ["skylake-sp", "cascadelake", "cooperlake"]
    assert [g.key for g in table.candidates("intel", 6, 0x4F)] == ["broadwell"]
    assert table.candidates("intel", 6, 0x01) == ()


@given(
    st.sampled_from(["intel", "amd", "hygon"]),
    st.integers(0, 40),
    st.integers(0, 255),
    st.none() | st.integers(0, 15),
)
def test_signature_vendor_matches(vendor: str, family: int, model: int, stepping: int | None) -> None:
    """Whatever signature is asked, a generation found has the asked vendor."""
    gen = Catalog.builtin().generations.by_signature(vendor, family, model, stepping)
    assert gen is None or gen.vendor == vendor


def test_get_and_iterate(table: GenerationTable) -> None:
    """get() returns a generation by key; iteration yields every generation once."""
    assert table.get("cascadelake").expected_max_evc == "intel-cascadelake"
    keys = [g.key for g in table]
    assert len(keys) == len(set(keys)) == len(table)
    assert "zen5" in table


def test_get_unknown_key(table: GenerationTable) -> None:
    """get() of an unknown key raises UnknownCpuError naming the key."""
    with pytest.raises(UnknownCpuError, match="unknown CPU generation 'pentium4'"):
        table.get("pentium4")


# ---------------------------------------------------------------------------------------------------
# Rules the table must honour


@pytest.mark.parametrize(
    ("key", "mode"),
    [
        ("skylake-client", "intel-broadwell"),
        ("alderlake", "intel-broadwell"),
        ("sierraforest", "intel-broadwell"),
        ("clearwaterforest", "intel-broadwell"),
        ("cooperlake", "intel-cascadelake"),
        ("emeraldrapids", "intel-sapphirerapids"),
        ("excavator", "amd-steamroller"),
        ("silvermont", "intel-westmere"),
        ("goldmont", "intel-westmere"),
        ("tremont", "intel-westmere"),
        ("hygon-dhyana", None),
        ("icelake-client", "intel-broadwell"),
        ("meteorlake", "intel-broadwell"),
        ("lunarlake", "intel-broadwell"),
        ("arrowlake", "intel-broadwell"),
        ("k8-early", None),
        ("diamondrapids", None),
    ],
)
def test_policy_expectations(table: GenerationTable, key: str, mode: str | None) -> None:
    """AVX-512-less and E-core parts stop at Broadwell, refreshes take their base mode, Hygon gets none."""
    assert table.get(key).expected_max_evc == mode


def test_reasoned_expectations_are_unconfirmed(table: GenerationTable) -> None:
    """Expectations that follow only from reasoning are marked unconfirmed."""
    for key in ("skylake-client", "alderlake", "sierraforest", "cooperlake", "emeraldrapids", "excavator"):
        assert table.get(key).confidence == "unconfirmed"


# ---------------------------------------------------------------------------------------------------
# Invariants over the shipped data


def test_mode_keys_match_catalog() -> None:
    """The test's list of valid keys is exactly the keys of data/evc_modes.json."""
    modes = json.loads((data_dir() / "evc_modes.json").read_text(encoding="utf-8"))
    assert VALID_MODES == {m["key"] for m in modes["modes"]}


def test_expected_modes_are_valid_or_explained(table: GenerationTable) -> None:
    """Every expected_max_evc is a valid key of the generation's vendor, or null with a note saying why."""
    for gen in table:
        if gen.expected_max_evc is None:
            assert gen.note, gen.key
        else:
            assert gen.expected_max_evc in VALID_MODES, gen.key
            assert gen.expected_max_evc.startswith(gen.vendor + "-"), gen.key


def test_references_resolve(table: GenerationTable) -> None:
    """Every signature and rule names an existing generation, and every cited source is defined."""
    keys = {g.key for g in table}
    for sig in table.signatures:
        assert sig.generation in keys
    for rule in table.product_rules:
        assert rule.generation in keys
    cited = [s for g in table.generations for s in g.sources]
    cited += [s for sig in table.signatures for s in sig.sources]
    cited += [s for rule in table.product_rules for s in rule.sources]
    assert set(cited) <= set(table.sources)
    assert set(table.sources) <= set(cited), "defined but never cited"


def test_every_row_cites_a_source() -> None:
    """Every generation, signature and rule cites at least one source and has a valid confidence."""
    raw = _raw()
    for section in ("generations", "signatures", "product_rules"):
        for i, rec in enumerate(raw[section]):
            assert rec["sources"], f"{section}[{i}]"
            assert rec["confidence"] in {"confirmed", "unconfirmed"}, f"{section}[{i}]"


def test_signatures_do_not_overlap() -> None:
    """No vendor/family/model/stepping is claimed by two signature rows (recomputed from the raw JSON)."""
    claimed: dict[tuple[str, int, int, int], int] = {}
    for i, rec in enumerate(_raw()["signatures"]):
        if "models" in rec:
            models = {int(m, 16) for m in rec["models"]}
        else:
            models = {m for lo, hi in rec["model_ranges"] for m in range(int(lo, 16), int(hi, 16) + 1)}
        for model in models:
            for stepping in rec.get("steppings", range(16)):
                cell = (rec["vendor"], rec["family"], model, stepping)
                assert cell not in claimed, f"signatures[{i}] and [{claimed[cell]}] both claim {cell}"
                claimed[cell] = i


def test_rule_examples_resolve(table: GenerationTable) -> None:
    """Every product rule's example resolves, by that rule's form, to that rule's generation."""
    for rule in table.product_rules:
        match = table.by_name(rule.example)
        assert (match.generation.key, match.matched_form) == (rule.generation, rule.form), rule.example


def test_aliases_are_unique() -> None:
    """No codename alias (folded to letters and digits) names two generations."""
    owner: dict[str, str] = {}
    for gen in _raw()["generations"]:
        for alias in (gen["key"], *gen["aliases"]):
            folded = re.sub(r"[^a-z0-9]", "", alias.lower())
            assert owner.setdefault(folded, gen["key"]) == gen["key"], alias


def test_file_is_canonical() -> None:
    """The shipped JSON is in canonical form: 2-space indent, UTF-8, trailing newline."""
    text = DATA_FILE.read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), indent=2, ensure_ascii=False) + "\n"


def test_broken_table_lists_every_problem() -> None:
    """A table with several faults raises one DataError that lists each, with file and location."""
    raw = copy.deepcopy(_raw())
    raw["signatures"][3]["generation"] = "foo"
    raw["generations"][0]["expected_max_evc"] = "intel-bogus"
    raw["generations"][1]["confidence"] = "probably"
    raw["product_rules"][0]["sources"] = ["NOPE"]
    raw["product_rules"][1]["form"] = "celeron"
    raw["signatures"].append(dict(raw["signatures"][0]))
    raw["generations"][2]["aliases"].append("merom")
    with pytest.raises(DataError) as info:
        GenerationTable.from_json(raw, "cpu_generations.json", mode_keys=VALID_MODES)
    problems = info.value.problems
    expected = [
        "cpu_generations.json: signatures[3]: unknown generation 'foo'",
        "cpu_generations.json: generations[0]: expected_max_evc 'intel-bogus' is not an EVC mode key",
        "cpu_generations.json: generations[1]: confidence must be one of",
        "cpu_generations.json: product_rules[0]: unknown source 'NOPE'",
        "cpu_generations.json: product_rules[1]: unknown form 'celeron'",
        (
            f"cpu_generations.json: signatures[{len(raw['signatures']) - 1}]: intel family 6 model 0x0F "
            "is also claimed by signatures[0]"
        ),
        "cpu_generations.json: generations[2]: alias 'merom' also names generation 'merom'",
    ]
    for text in expected:
        assert any(p.startswith(text) for p in problems), (text, problems)


def test_structural_problems_are_reported() -> None:
    """Missing sections, wrong types and unknown fields are problems, not crashes."""
    with pytest.raises(DataError) as info:
        GenerationTable.from_json({"revision": "x", "generations": {}, "extra": 1}, "t.json", mode_keys=VALID_MODES)
    problems = info.value.problems
    assert "t.json: top level: unknown field 'extra'" in problems
    assert "t.json: top level: missing section 'sources'" in problems
    assert "t.json: generations: expected a list" in problems


def test_load_unreadable_file(tmp_path: Path) -> None:
    """A file that is not JSON raises DataError naming the file."""
    bad = tmp_path / "cpu_generations.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(DataError, match=r"cpu_generations\.json: cannot read"):
        GenerationTable.load(bad, mode_keys=VALID_MODES)


def test_null_expectation_needs_a_note() -> None:
    """A generation with no expected mode must explain itself in its note."""
    raw = copy.deepcopy(_raw())
    raw["generations"][0]["expected_max_evc"] = None
    raw["generations"][0]["note"] = None
    with pytest.raises(DataError, match=r"generations\[0\]: expected_max_evc is null, so note must say why"):
        GenerationTable.from_json(raw, "cpu_generations.json", mode_keys=VALID_MODES)
