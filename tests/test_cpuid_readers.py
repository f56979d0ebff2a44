"""Tests of the CPU data readers (evckit.cpuid): real dumps, synthetic fixtures, bad input, round trips."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evckit.cpuid import CpuidDump, NamedFeatures, parse_cpu_data, read_cpu_data
from evckit.cpuid.aida64 import parse_aida64
from evckit.cpuid.capability import parse_value
from evckit.cpuid.cpuid_tool import parse_cpuid_r
from evckit.cpuid.hostcpuid import SUBLEAF_LEAVES, parse_hostcpuid, parse_register_string
from evckit.cpuid.identity import brand_string, hypervisor, hypervisor_vendor, signature, vendor_string
from evckit.cpuid.libvirt import parse_libvirt
from evckit.errors import InputError

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "cpu"
SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "cpuid-samples"
MISSING = "<cpuid-samples missing>"


def samples_dir() -> Path:
    """Return the real-dump folder beside the checkout; skip (saying why) where it is absent."""
    if not (SAMPLES / "MANIFEST.tsv").is_file():
        pytest.skip(f"development CPUID dumps not present at {SAMPLES} (tests/test_real_cpus.py covers them)")
    return SAMPLES


def manifest_rows() -> list[dict[str, str]]:
    """Read MANIFEST.tsv rows at collection time; one placeholder row that skips if it is missing."""
    path = SAMPLES / "MANIFEST.tsv"
    if not path.is_file():
        return [{"file": MISSING}]
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def dump(path: Path) -> CpuidDump:
    """Read a file that must be a raw CPUID dump."""
    result = read_cpu_data(path)
    assert isinstance(result, CpuidDump)
    return result


def fms(text: str) -> tuple[int, int, int]:
    """Parse a MANIFEST ``0x6/0x3e/0x4`` family/model/stepping cell."""
    family, model, stepping = (int(part, 16) for part in text.split("/"))
    return family, model, stepping


# --- real dumps ---------------------------------------------------------------------------------


@pytest.mark.parametrize("row", manifest_rows(), ids=lambda row: row["file"])
def test_sample_identity_matches_manifest(row: dict[str, str]) -> None:
    """Every real dump auto-detects and its vendor, family/model/stepping, leaf-1 EAX and brand match MANIFEST."""
    base = samples_dir()
    result = dump(base / row["file"])
    expected_formats = ("libvirt-xml",) if row["file"].startswith("libvirt/") else ("aida64", "libcpuid")
    assert result.format in expected_formats
    assert vendor_string(result) == row["vendor"]
    assert signature(result) == fms(row["family/model/stepping"])
    assert result.leaves[(1, 0)][0] == int(row["leaf1_eax"], 16)
    assert brand_string(result) == row["brand_string"]
    assert hypervisor(result) is False
    assert hypervisor_vendor(result) is None


def test_manifest_covers_every_dump_file() -> None:
    """MANIFEST.tsv lists every dump in the libvirt/ and libcpuid/ folders, so the test above sees them all."""
    base = samples_dir()
    listed = {row["file"] for row in manifest_rows()}
    on_disk = {str(p.relative_to(base)) for folder in ("libvirt", "libcpuid") for p in (base / folder).iterdir()}
    assert on_disk == listed


def test_ice_lake_brand_is_empty_but_comment_kept() -> None:
    """The pre-production Ice Lake dump has empty brand leaves; its XML comment is kept as the comment."""
    result = dump(samples_dir() / "libvirt" / "x86_64-cpuid-Ice-Lake-Server.xml")
    assert brand_string(result) == ""
    assert result.comment == "Ice Lake Server"


def test_libvirt_comment_is_brand_and_msr_lines_ignored() -> None:
    """A libvirt dump keeps its first-line comment and ignores <msr> elements."""
    result = dump(samples_dir() / "libvirt" / "x86_64-cpuid-Xeon-Bronze-3408U.xml")
    assert result.comment == "Intel(R) Xeon(R) Bronze 3408U"
    assert all(leaf != 0x10A for leaf, _ in result.leaves)


def test_this_machine_cpuid_r_is_a_kvm_guest() -> None:
    """The project's own machine's ``cpuid -r`` parses as cpuid-r, first CPU only, and reads as a KVM guest."""
    result = dump(samples_dir() / "this-kind-of-machine-cpuid-r.txt")
    assert result.format == "cpuid-r"
    assert vendor_string(result) == "AuthenticAMD"
    assert signature(result) == (0x1A, 0x02, 1)
    assert result.leaves[(1, 0)] == (0x00B00F21, 0x00020800, 0xFFFA3203, 0x178BFBFF)  # CPU 0, not CPU 1
    assert brand_string(result) == "AMD EPYC"
    assert hypervisor(result) is True
    assert hypervisor_vendor(result) == "KVMKVMKVM"
    assert (0xD, 1) in result.leaves


def test_i7_4930k_libcpuid_has_no_leaf_d_subleaf_1() -> None:
    """libcpuid's basic_cpuid[13] is leaf 0xD subleaf 0 only: (0xD, 1) stays unknown, never zero-filled."""
    result = dump(samples_dir() / "libcpuid" / "intel-core-i7-4930k-cpu.test")
    assert result.format == "libcpuid"
    assert (0xD, 0) in result.leaves
    assert (0xD, 1) not in result.leaves
    assert (0x7, 1) not in result.leaves
    # basic_cpuid[14..31] and ext_cpuid[9..31] lie above the maximum leaves: garbage, dropped.
    assert max(leaf for leaf, _ in result.leaves if leaf < 0x80000000) == 0xD
    assert max(leaf for leaf, _ in result.leaves) == 0x80000008
    # amd_fn8000001dh is above this Intel CPU's maximum extended leaf: dropped too.
    assert not any(leaf == 0x8000001D for leaf, _ in result.leaves)
    assert [key for key in result.leaves if key[0] == 0xB] == [(0xB, 0), (0xB, 1), (0xB, 2), (0xB, 3)]
    assert any("subleaf 0" in note for note in result.notes)


def test_aida64_unmarked_repeats_are_subleaves() -> None:
    """In the x5667 AIDA64 dump, repeated leaf 4 and 0xB lines without [SL] are subleaves 0, 1, 2…."""
    result = dump(samples_dir() / "libcpuid" / "intel-xeon-cpu-x5667.test")
    assert result.format == "aida64"
    assert [key for key in result.leaves if key[0] == 4] == [(4, 0), (4, 1), (4, 2), (4, 3)]
    assert [key for key in result.leaves if key[0] == 0xB] == [(0xB, 0), (0xB, 1)]
    assert [result.leaves[(0xB, sub)][2] & 0xFF for sub in (0, 1)] == [0, 1]  # ECX echoes the subleaf
    assert result.leaves[(0, 0)][0] == 0xB


def test_aida64_sl_marks_are_hex_subleaves() -> None:
    """``[SL 3E]`` is subleaf 0x3E, and the expected-results tail after the dashes is ignored."""
    result = dump(samples_dir() / "libcpuid" / "amd-a10-7850k-radeon-r7-12-compute-cores-4c+8g.test")
    assert (0xD, 0x3E) in result.leaves
    assert result.leaves[(0xD, 1)] == (1, 0, 0, 0)
    assert result.leaves[(1, 0)][1] == 0x00040800  # logical CPU #0, not #1


def test_libcpuid_k8_without_cpu_headers() -> None:
    """The Opteron 165 libcpuid dump has no CPU header; leaves above max basic 1 / ext 0x80000018 are dropped."""
    result = dump(samples_dir() / "libcpuid" / "dual-core-amd-opteron-processor-165.test")
    assert result.format == "libcpuid"
    assert sorted(leaf for leaf, _ in result.leaves if leaf < 0x80000000) == [0, 1]
    assert max(leaf for leaf, _ in result.leaves) == 0x80000018


@pytest.mark.parametrize(
    "name",
    ["libvirt/x86_64-cpuid-EPYC-7713-64-Core.xml", "libcpuid/amd-ryzen-5-7600x-6-core-processor.test"],
)
@settings(max_examples=60, deadline=None)
@given(cut=st.floats(min_value=0.0, max_value=1.0))
def test_truncated_real_dump_never_leaks_raw_exceptions(name: str, cut: float) -> None:
    """A real dump cut anywhere either parses or raises a one-line InputError, never a raw exception."""
    text = (samples_dir() / name).read_text(encoding="utf-8")
    part = text[: int(len(text) * cut)]
    try:
        parse_cpu_data(part, "cut.txt")
    except InputError as exc:
        assert "\n" not in str(exc)
        assert str(exc).startswith("cut.txt: ")


# --- synthetic fixtures -------------------------------------------------------------------------


def test_tiny_cpuid_r_fixture() -> None:
    """A hand-written ``cpuid -r`` with two CPUs and decoration lines yields CPU 0's leaves."""
    result = dump(FIXTURES / "tiny-cpuid-r.txt")
    assert result.format == "cpuid-r"
    assert len(result.leaves) == 10
    assert result.leaves[(1, 0)][1] == 0x00010800
    assert result.leaves[(0xD, 1)] == (1, 0, 0, 0)
    assert vendor_string(result) == "GenuineIntel"
    assert signature(result) == (6, 0x3F, 2)
    assert brand_string(result) == "Synthetic Test CPU @ 1.00GHz"
    assert hypervisor(result) is False


def test_hostcpuidinfo_e5_1620() -> None:
    """HostCpuIdInfo of govmomi's Xeon E5-1620 sample decodes levels, negative extended levels and bits."""
    result = dump(FIXTURES / "e5-1620-hostcpuidinfo.json")
    assert result.format == "vsphere-cpuidinfo"
    assert sorted(result.leaves) == [(0, 0), (1, 0), (0x80000000, 0), (0x80000001, 0), (0x80000008, 0)]
    assert result.leaves[(1, 0)][0] == 0x000206D7
    assert result.leaves[(0, 0)][0] == 0xD
    assert result.leaves[(0x80000001, 0)] == (0, 0, 0x00000001, 0x28100800)
    assert result.leaves[(0x80000008, 0)][0] == 0x302A
    assert vendor_string(result) == "GenuineIntel"
    assert signature(result) == (6, 0x2D, 7)
    assert brand_string(result) is None
    assert hypervisor(result) is True  # govmomi's sample host is itself a VMware VM
    assert result.unknown_bits == {}
    assert result.notes == ()


def test_hostcpuidinfo_unknown_bits_subleaf_leaves_and_noise() -> None:
    """'-' bits go to unknown_bits, missing registers are all unknown, subleaf leaves are noted, keys any case."""
    zero = "0000:0000:0000:0000:0000:0000:0000:0000"
    vendor_regs = {
        "Ebx": "0111:0101:0110:1110:0110:0101:0100:0111",
        "Ecx": "0110:1100:0110:0101:0111:0100:0110:1110",
        "Edx": "0100:1001:0110:0101:0110:1110:0110:1001",
    }
    data = {
        "cpuFeature": [
            {"_vimtype": "vim.host.CpuIdInfo", "Level": 0, "Vendor": None, "Eax": "0" * 27 + "10110", **vendor_regs},
            {"level": 1, "vendor": "", "eax": "0000:0000:0000:0101:0000:0110:0101:0100", "ebx": zero,
             "ecx": "1---:" + zero[5:]},
            {"level": 7, "eax": zero, "ebx": zero, "ecx": zero, "edx": zero},
            {"level": 7, "eax": zero, "ebx": zero, "ecx": zero, "edx": zero},
            {"level": 0xD, "eax": zero, "ebx": zero, "ecx": zero, "edx": zero},
            {"level": -2147483647, "vendor": "amd", "eax": zero, "ebx": zero, "ecx": zero, "edx": zero},
        ]
    }
    result = parse_cpu_data(json.dumps(data), "host.json")
    assert isinstance(result, CpuidDump)
    assert sorted(result.leaves) == [(0, 0), (1, 0)]  # the AMD-only mask entry is skipped on Intel
    assert result.leaves[(1, 0)][2] == 0x80000000
    assert result.unknown_bits[(1, 0)] == (0, 0, 0x70000000, 0xFFFFFFFF)
    assert result.notes == (
        "vSphere HostCpuIdInfo has no subleaf: leaf 0x7 data cannot be attributed and is left unknown",
        "vSphere HostCpuIdInfo has no subleaf: leaf 0xd data cannot be attributed and is left unknown",
    )
    assert hypervisor(result) is True
    assert signature(result) == (6, 0x55, 4)


def test_register_string_decoding() -> None:
    """The leftmost character is bit 31; '-' sets the unknown mask and reads as 0."""
    assert parse_register_string("1000:0000:0000:0000:0000:0000:0000:000-") == (0x80000000, 1)
    assert parse_register_string("0" * 31 + "1") == (1, 0)
    with pytest.raises(ValueError):
        parse_register_string("0000:0000")


def test_feature_capability_fixture() -> None:
    """featureCapability JSON gives lower-cased keys, int values and identity from cpuid.family/model/stepping."""
    result = read_cpu_data(FIXTURES / "feature-capability.json")
    assert isinstance(result, NamedFeatures)
    assert (result.format, result.namespace) == ("vsphere-capability", "vsphere")
    assert result.values["cpuid.aes"] == 1
    assert result.values["cpuid.avx2"] == 0
    assert result.values["cpuid.xsave"] == 1
    assert result.values["cpuid.rtm"] == 0
    assert result.values["cpuid.numlevels"] == 0xD
    assert (result.vendor, result.family, result.model, result.stepping) == ("intel", 6, 0x2D, 7)


def test_feature_capability_bare_list() -> None:
    """A bare featureCapability list (no wrapper object) is recognised too; AMD vendor is read."""
    data = [
        {"key": "cpuid.AMD", "featureName": "cpuid.AMD", "value": "1"},
        {"featureName": "cpuid.SSE3", "value": 1.0},
    ]
    result = parse_cpu_data(json.dumps(data), "caps.json")
    assert isinstance(result, NamedFeatures)
    assert result.vendor == "amd"
    assert dict(result.values) == {"cpuid.amd": 1, "cpuid.sse3": 1}


@pytest.mark.parametrize(("text", "value"), [("1", 1), ("0x1f", 31), ("TRUE", 1), ("false", 0), (" 12 ", 12)])
def test_capability_value_parsing(text: str, value: int) -> None:
    """Capability values are decimal, 0x hex or TRUE/FALSE."""
    assert parse_value(text) == value


def test_proc_cpuinfo_fixture() -> None:
    """/proc/cpuinfo gives the first block's identity and flags, complete, and the hypervisor flag."""
    result = read_cpu_data(FIXTURES / "cpuinfo-guest.txt")
    assert isinstance(result, NamedFeatures)
    assert (result.format, result.namespace) == ("proc-cpuinfo", "linux")
    assert (result.vendor, result.family, result.model, result.stepping) == ("intel", 6, 79, 1)
    assert result.brand == "Intel(R) Xeon(R) CPU E5-2650 v4 @ 2.20GHz"
    assert result.hypervisor is True
    assert result.values["avx2"] == 1
    assert "avx512f" not in result.values
    assert len(result.values) > 50  # the first block's flags, not the second's short list


def test_proc_cpuinfo_vendor_names() -> None:
    """Vendor ids map through the catalog's one vendor table (as CPUID dumps do), anything else to its
    lower-case form; no hypervisor flag → False."""
    for vendor_id, vendor in [("AuthenticAMD", "amd"), ("HygonGenuine", "hygon"), ("CentaurHauls", "centaur"),
                              ("GenuineTMx86", "genuinetmx86")]:
        text = f"processor\t: 0\nvendor_id\t: {vendor_id}\ncpu family\t: 23\nmodel\t\t: 1\nflags\t\t: fpu sse2\n"
        result = parse_cpu_data(text, "cpuinfo")
        assert isinstance(result, NamedFeatures)
        assert result.vendor == vendor
        assert result.hypervisor is False
        assert result.stepping is None


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("truncated-libvirt.xml", "truncated"),
        ("truncated-cpuid-r.txt", "truncated"),
        ("empty.txt", "empty"),
        ("garbage.bin", "not UTF-8"),
        ("unknown-format.txt", "formats understood"),
        ("wrong-shape.json", "unrecognised shape"),
        ("no-such-file.txt", "no such file"),
    ],
)
def test_bad_input_gives_one_line_input_error(name: str, words: str) -> None:
    """Each bad input raises InputError whose one-line message names the file and the problem."""
    path = FIXTURES / name
    with pytest.raises(InputError) as info:
        read_cpu_data(path)
    message = str(info.value)
    assert "\n" not in message
    assert name in message
    assert words in message


def test_directory_is_an_input_error() -> None:
    """Reading a directory raises a one-line InputError naming it."""
    with pytest.raises(InputError, match="is a directory"):
        read_cpu_data(FIXTURES)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("\x00\x01\x02 binary", "binary"),
        ("[1, 2, 3]", "unrecognised shape"),
        ("[]", "unrecognised shape"),
        ("{not json", "invalid JSON"),
        ('[{"level": 1, "eax": "0000:0000"}]', "truncated"),
        ('[{"level": 1, "eax": "0000:0000:0000:0000:0000:0000:0000:0001"}]', "no CPUID leaf 0"),
        ('[{"level": "x"}]', "not a 32-bit integer"),
        ('[{"key": "cpuid.AES", "value": "maybe"}]', "not a number"),
        ('{"cpuFeature": {"level": 0}}', "must be a JSON list"),
        ("CPU 0:\n   0x00000001 0x00: eax=0x00000001 ebx=0x00000000 ecx=0x00000000 edx=0x00000000\n", "leaf 0"),
        ("CPUID 00000000: 0000000D-756E6547-6C65746E-49656E69\nCPUID 00000001: 000306E4-0020", "truncated"),
        ("basic_cpuid[1]=000306e4 00200800 7fbee3bf bfebfbff\n", "basic_cpuid[0]"),
        ("basic_cpuid[0]=0000000d 756e6547 6c65746e\n", "truncated"),
        ("<cpudata arch='x86'><cpuid eax_in='0x1' ecx_in='0' eax='1' ebx='0' ecx='0' edx='0'/></cpudata>", "leaf 0"),
        ("<cpudata arch='x86'><cpuid eax_in='0' ecx_in='0' eax='zz' ebx='0' ecx='0' edx='0'/></cpudata>", "32-bit hex"),
        ("<cpudata arch='x86'>\n  <cpuid eax_in='0x0' ecx_in='0x0' eax='0x1'/>\n</cpudata>\n", "missing attribute"),
        ("<cpudata arch='x86'><cpuid></cpudata>", "malformed"),
        ("<html><body>hi</body></html>", "formats understood"),
        ("processor\t: 0\nvendor_id\t: GenuineIntel\n", "no 'flags' line"),
    ],
)
def test_bad_text_gives_one_line_input_error(text: str, words: str) -> None:
    """Malformed, truncated or unrecognised text raises a one-line InputError naming the source."""
    with pytest.raises(InputError) as info:
        parse_cpu_data(text, "input.dat")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("input.dat: ")
    assert words in message


def test_cpuid_r_tolerates_unknown_lines_but_not_bad_register_lines() -> None:
    """Unknown non-register lines are skipped; a register line cut short is an error naming its line."""
    good = "CPU 0:\n   0x00000000 0x00: eax=0x00000001 ebx=0x756e6547 ecx=0x6c65746e edx=0x49656e69\n"
    result = parse_cpuid_r("junk header\n" + good + "   (multiprocessing synth)\n\nCPU 1:\n   0x0000", "r.txt")
    assert list(result.leaves) == [(0, 0)]
    with pytest.raises(InputError, match="r.txt: line 3"):
        parse_cpuid_r(good + "   0x00000001 0x00: eax=0x1 ebx=0x0 ecx=0x0 edx=0x0\n", "r.txt")


# --- round trips --------------------------------------------------------------------------------

u32 = st.integers(min_value=0, max_value=0xFFFFFFFF)
regs_st = st.tuples(u32, u32, u32, u32)
leaf_st = st.one_of(
    st.integers(min_value=0, max_value=0x30),
    st.integers(min_value=0x40000000, max_value=0x40000010),
    st.integers(min_value=0x80000000, max_value=0x80000030),
    u32,
)


@st.composite
def dumps_st(draw: st.DrawFn, *, subleaves: bool = True) -> dict[tuple[int, int], tuple[int, int, int, int]]:
    """Random leaves (always with leaf 0) mapped to random registers."""
    leaf = leaf_st if subleaves else leaf_st.filter(lambda value: value not in SUBLEAF_LEAVES)
    sub = st.integers(min_value=0, max_value=0xFF) if subleaves else st.just(0)
    leaves = draw(st.dictionaries(st.tuples(leaf, sub), regs_st, max_size=25))
    leaves[(0, 0)] = draw(regs_st)
    return leaves


def render_cpuid_r(leaves: dict[tuple[int, int], tuple[int, int, int, int]]) -> str:
    """Write leaves as ``cpuid -r`` output of one CPU."""
    lines = ["CPU 0:"]
    for (leaf, sub), (a, b, c, d) in sorted(leaves.items()):
        lines.append(f"   0x{leaf:08x} 0x{sub:02x}: eax=0x{a:08x} ebx=0x{b:08x} ecx=0x{c:08x} edx=0x{d:08x}")
    return "\n".join(lines) + "\n"


def render_libvirt(leaves: dict[tuple[int, int], tuple[int, int, int, int]]) -> str:
    """Write leaves as libvirt CPU test data XML."""
    lines = ["<!-- Random CPU -->", "<cpudata arch='x86'>"]
    for (leaf, sub), (a, b, c, d) in sorted(leaves.items()):
        lines.append(
            f"  <cpuid eax_in='0x{leaf:08x}' ecx_in='0x{sub:02x}' eax='0x{a:08x}' ebx='0x{b:08x}' "
            f"ecx='0x{c:08x}' edx='0x{d:08x}'/>"
        )
    lines.append("  <msr index='0x10a' edx='0x00000000' eax='0x0000000b'/>")
    lines.append("</cpudata>")
    return "\n".join(lines) + "\n"


def render_aida64(leaves: dict[tuple[int, int], tuple[int, int, int, int]]) -> str:
    """Write leaves as AIDA64 ``CPUID`` lines with ``[SL nn]`` marks, then a second CPU and a results tail."""
    lines = ["------[ CPUID Registers / Logical CPU #0 ]------"]
    for (leaf, sub), (a, b, c, d) in sorted(leaves.items()):
        lines.append(f"CPUID {leaf:08X}: {a:08X}-{b:08X}-{c:08X}-{d:08X} [SL {sub:02X}]")
    lines += ["------[ CPUID Registers / Logical CPU #1 ]------", "CPUID 00000000: 00000000-0", "-" * 80, "x86"]
    return "\n".join(lines) + "\n"


def bits(value: int, unknown: int) -> str:
    """Write a register as vSphere's ``0000:…`` string, '-' where ``unknown`` has a bit."""
    chars = "".join("-" if unknown >> i & 1 else str(value >> i & 1) for i in range(31, -1, -1))
    return ":".join(chars[i : i + 4] for i in range(0, 32, 4))


@settings(max_examples=150, deadline=None)
@given(leaves=dumps_st())
def test_round_trip_cpuid_r_libvirt_aida64(leaves: dict[tuple[int, int], tuple[int, int, int, int]]) -> None:
    """Random registers written as cpuid -r, libvirt XML and AIDA64 text parse back to the same numbers."""
    for render, fmt in ((render_cpuid_r, "cpuid-r"), (render_libvirt, "libvirt-xml"), (render_aida64, "aida64")):
        result = parse_cpu_data(render(leaves), "random")
        assert isinstance(result, CpuidDump)
        assert result.format == fmt
        assert dict(result.leaves) == leaves
    assert dict(parse_cpuid_r(render_cpuid_r(leaves), "r").leaves) == leaves
    assert dict(parse_libvirt(render_libvirt(leaves), "x").leaves) == leaves
    assert dict(parse_aida64(render_aida64(leaves), "a").leaves) == leaves


@settings(max_examples=150, deadline=None)
@given(leaves=dumps_st(subleaves=False), data=st.data())
def test_round_trip_hostcpuidinfo(
    leaves: dict[tuple[int, int], tuple[int, int, int, int]], data: st.DataObject
) -> None:
    """Random registers and unknown masks written as HostCpuIdInfo strings parse back to the same numbers."""
    entries: list[dict[str, object]] = []
    expected_unknown: dict[tuple[int, int], tuple[int, ...]] = {}
    expected: dict[tuple[int, int], tuple[int, ...]] = {}
    for (leaf, _), regs in leaves.items():
        masks = data.draw(st.tuples(u32, u32, u32, u32) | st.just((0, 0, 0, 0)))
        values = tuple(v & ~m for v, m in zip(regs, masks))
        expected[(leaf, 0)] = values
        if any(masks):
            expected_unknown[(leaf, 0)] = masks
        level = leaf - 2**32 if leaf >= 2**31 else leaf
        entry: dict[str, object] = {"level": level, "vendor": None}
        entry.update({name: bits(v, m) for name, v, m in zip(("eax", "ebx", "ecx", "edx"), values, masks)})
        entries.append(entry)
    text = json.dumps(entries)
    for result in (parse_cpu_data(text, "host.json"), parse_hostcpuid(text, "host.json")):
        assert isinstance(result, CpuidDump)
        assert dict(result.leaves) == expected
        assert dict(result.unknown_bits) == expected_unknown


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=300))
def test_arbitrary_text_only_raises_input_error(text: str) -> None:
    """Any text either parses or raises a one-line InputError: no raw exception escapes a reader."""
    try:
        parse_cpu_data(text, "fuzz")
    except InputError as exc:
        assert "\n" not in str(exc)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(
        st.sampled_from(["level", "Level", "vendor", "eax", "ebx", "ecx", "edx", "key", "featureName", "value",
                         "cpuFeature", "featureCapability", "_vimtype"]),
        children,
        max_size=6,
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(value=json_values)
def test_arbitrary_json_only_raises_input_error(value: object) -> None:
    """Any JSON value either parses or raises a one-line InputError naming the source."""
    try:
        parse_cpu_data(json.dumps(value), "fuzz.json")
    except InputError as exc:
        assert "\n" not in str(exc)
        assert str(exc).startswith("fuzz.json: ")
