"""Hosts: every real CPUID dump reaches its expected maximum EVC mode; unknown stays unknown."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from evckit.catalog import Catalog
from evckit.cli import main
from evckit.cpuid import CpuidDump, parse_cpu_data, read_cpu_data
from evckit.assess import assess
from evckit.profiles import profile_from_data, profile_from_name

from .conftest import SAMPLES


def expected_modes() -> dict[str, str]:
    """file -> expected maximum mode, from the samples README table (first token of the right column)."""
    text = (SAMPLES / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Expected maximum EVC mode"):]
    rows = re.findall(r"^\| (\S+) \| ([a-z0-9-]+)", section, re.MULTILINE)
    return {f: mode for f, mode in rows if f != "file"}


EXPECTED = expected_modes() if (SAMPLES / "README.md").is_file() else {}


def test_samples_table_is_complete(samples: Path) -> None:
    """The README names an expected mode for each of the 34 dumps."""
    assert len(EXPECTED) == 34
    assert all((samples / f).is_file() for f in EXPECTED)


@pytest.mark.parametrize("file", sorted(EXPECTED))
def test_real_dump_reaches_expected_mode(catalog: Catalog, samples: Path, file: str) -> None:
    """Each real processor's dump gets the maximum EVC mode its generation and its own bits call for."""
    verdict = assess(profile_from_data(read_cpu_data(samples / file), catalog), catalog)
    assert verdict.max_mode is not None
    assert verdict.max_mode.key == EXPECTED[file]


def test_missing_subleaf_is_unknown_not_absent(catalog: Catalog, samples: Path) -> None:
    """i7-4930K has no leaf 0xD subleaf 1: XSAVEOPT and friends are unknown and said to be, never absent."""
    p = profile_from_data(read_cpu_data(samples / "libcpuid/intel-core-i7-4930k-cpu.test"), catalog)
    assert "xsaveopt" in p.unknown and "xsaveopt" not in p.present
    v = assess(p, catalog)
    assert v.max_mode is not None and v.max_mode.key == "intel-ivybridge"
    assert "xsaveopt" in v.undetermined["intel-haswell"]
    assert "xsaveopt" not in v.missing_for_next["intel-haswell"]
    assert "avx2" in v.missing_for_next["intel-haswell"]


def test_tsx_and_amx_rules_on_real_dumps(catalog: Catalog, samples: Path) -> None:
    """A Haswell without TSX still reaches Haswell; a Sapphire Rapids without AMX stops at Ice Lake."""
    hsw = assess(profile_from_data(read_cpu_data(samples / "libvirt/x86_64-cpuid-Xeon-E5-2609-v3.xml"), catalog), catalog)
    assert "rtm" not in hsw.profile.present and hsw.max_mode is not None and hsw.max_mode.key == "intel-haswell"
    spr = assess(profile_from_data(read_cpu_data(samples / "libvirt/x86_64-cpuid-Xeon-Bronze-3408U.xml"), catalog), catalog)
    assert spr.profile.generation is not None and spr.profile.generation.key == "sapphirerapids"
    assert {"amx_tile", "amx_int8", "amx_bf16"} <= set(spr.missing_for_next["intel-sapphirerapids"])


def test_guest_dump_is_flagged(catalog: Catalog, samples: Path) -> None:
    """A dump taken inside a VM says it is the guest's view."""
    p = profile_from_data(read_cpu_data(samples / "this-kind-of-machine-cpuid-r.txt"), catalog)
    assert p.hypervisor is True and p.hypervisor_vendor == "KVMKVMKVM"
    assert any("guest" in n for n in p.notes)


def synthetic_dump(catalog: Catalog, mode_key: str, vendor: str = "GenuineIntel") -> CpuidDump:
    """A CPUID dump built from the catalog that has exactly one mode's CPUID-visible features."""
    mode = catalog.mode(mode_key)
    regs: dict[tuple[int, int], list[int]] = {}
    for f in catalog.features:
        if f.name not in mode.features:
            continue
        for pos in f.cpuid:
            if pos.vendor not in (None, "intel" if vendor == "GenuineIntel" else "amd"):
                continue
            r = regs.setdefault((pos.leaf, pos.subleaf), [0, 0, 0, 0])
            r[("eax", "ebx", "ecx", "edx").index(pos.register)] |= 1 << pos.bit
    b = vendor.encode()
    words = [int.from_bytes(b[i:i + 4], "little") for i in (0, 4, 8)]
    regs[(0, 0)] = [0x1F, words[0], words[2], words[1]]
    regs.setdefault((7, 0), [0, 0, 0, 0])[0] = 1
    regs[(0x80000000, 0)] = [0x80000008, 0, 0, 0]
    for key in [(0xD, 0), (0xD, 1), (7, 1), (0x80000001, 0), (0x80000008, 0), (1, 0)]:
        regs.setdefault(key, [0, 0, 0, 0])
    regs[(1, 0)][0] = 0x00050654  # family 6 model 0x55 stepping 4
    return CpuidDump("synthetic", "synthetic", {k: (v[0], v[1], v[2], v[3]) for k, v in regs.items()})


@pytest.mark.parametrize("key", ["intel-merom", "intel-westmere", "intel-haswell", "intel-skylake",
                                 "intel-icelake", "intel-sapphirerapids", "intel-graniterapids"])
def test_synthetic_dump_of_a_mode_reaches_exactly_that_mode(catalog: Catalog, key: str) -> None:
    """A dump with exactly a mode's features runs that mode and nothing above it."""
    v = assess(profile_from_data(synthetic_dump(catalog, key), catalog), catalog)
    assert v.max_mode is not None and v.max_mode.key == key


@pytest.mark.parametrize(("name", "mode"), [
    ("Intel(R) Xeon(R) Gold 6348 CPU @ 2.60GHz", "intel-icelake"),
    ("EPYC 9354", "amd-zen4"),
    ("E5-2690 v4", "intel-broadwell"),
    ("Xeon Gold 6430", "intel-sapphirerapids"),
    ("Xeon Platinum 8280", "intel-cascadelake"),
    ("EPYC 7763", "amd-zen3"),
])
def test_cpu_names_are_assumed(catalog: Catalog, name: str, mode: str) -> None:
    """A product name resolves to its generation's expected mode, marked assumed."""
    v = assess(profile_from_name(name, catalog), catalog)
    assert v.max_mode is not None and v.max_mode.key == mode
    assert v.profile.assumed


def test_hygon_has_no_mode(catalog: Catalog) -> None:
    """A vendor without EVC gets no mode and a reason, not an error."""
    p = profile_from_data(parse_cpu_data("processor\t: 0\nvendor_id\t: HygonGenuine\ncpu family\t: 24\n"
                                         "model\t\t: 0\nstepping\t: 1\nmodel name\t: Hygon C86 7185\n"
                                         "flags\t\t: fpu sse sse2 avx avx2\n", "hygon.txt"), catalog)
    v = assess(p, catalog)
    assert v.max_mode is None and v.reason and "hygon" in v.reason


def test_host_command_json_in_input_order(capsys: pytest.CaptureFixture[str], samples: Path) -> None:
    """`evckit host A B --cpu N --format json` lists the hosts in input order with the documented keys."""
    a, b = samples / "libvirt/x86_64-cpuid-Xeon-Gold-6130.xml", samples / "libvirt/x86_64-cpuid-EPYC-7713-64-Core.xml"
    assert main(["host", str(a), str(b), "--cpu", "EPYC 9354", "--format", "json"]) == 0
    hosts = json.loads(capsys.readouterr().out)["hosts"]
    assert [h["max_evc_mode"] for h in hosts] == ["intel-skylake", "amd-zen3", "amd-zen4"]
    for key in ("source", "vendor", "family", "model", "stepping", "brand", "codename", "hypervisor",
                "max_evc_mode", "supported_modes", "missing_for_next", "assumed"):
        assert key in hosts[0]
    assert hosts[0]["codename"] and hosts[0]["model"] == 0x55 and hosts[2]["assumed"] is True
    assert "avx512vnni" in hosts[0]["missing_for_next"]["intel-cascadelake"]


def test_host_command_table(capsys: pytest.CaptureFixture[str], samples: Path) -> None:
    """The table names the dump, its codename and maximum mode."""
    assert main(["host", str(samples / "libvirt/x86_64-cpuid-Xeon-Platinum-8268.xml")]) == 0
    out = capsys.readouterr().out
    assert "intel-cascadelake" in out and "Cascade Lake" in out


@pytest.mark.parametrize("content", ["", "garbage\n", "<cpudata arch='x86'>\n  <cpuid eax_in='0x0"])
def test_host_command_bad_file(tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str) -> None:
    """A bad file is one line on stderr naming it, exit status 2, nothing on stdout."""
    bad = tmp_path / "bad-dump.txt"
    bad.write_text(content)
    assert main(["host", str(bad)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "bad-dump.txt" in err and "Traceback" not in err


def test_host_command_missing_file_and_bad_name(capsys: pytest.CaptureFixture[str]) -> None:
    """A missing file or an unrecognised CPU name fails with one line and status 2."""
    assert main(["host", "/nonexistent/dump.xml"]) == 2
    assert "/nonexistent/dump.xml" in capsys.readouterr().err
    assert main(["host", "--cpu", "Pentium 4"]) == 2
    err = capsys.readouterr().err
    assert "Pentium 4" in err and err.count("\n") == 1


def test_proc_cpuinfo_of_a_bare_metal_host(catalog: Catalog) -> None:
    """/proc/cpuinfo of a Broadwell host reaches intel-broadwell: XSAVE components follow from the flags."""
    text = (Path(__file__).parent / "fixtures" / "cpu" / "cpuinfo-guest.txt").read_text()
    host = text.replace("flags\t\t: fpu", "flags\t\t: vmx dts fpu").replace(" hypervisor", "")
    v = assess(profile_from_data(parse_cpu_data(host, "broadwell-cpuinfo"), catalog), catalog)
    assert v.max_mode is not None and v.max_mode.key == "intel-broadwell"
    assert "xcr0_master_ymm_h" in v.profile.present and v.profile.hypervisor is not True
    # A guest's view (no vmx, no dts) reaches no mode, and says it is a guest.
    g = assess(profile_from_data(parse_cpu_data(text, "guest-cpuinfo"), catalog), catalog)
    assert g.max_mode is None and {"vmx", "ds"} <= set(g.missing_for_next["intel-merom"])
    assert any("guest" in n for n in g.profile.notes)


def test_esxi_release_caps_the_mode(catalog: Catalog) -> None:
    """A Sapphire Rapids host on ESXi 7.0 U3 tops out at Ice Lake: that release does not offer the SPR mode."""
    p = profile_from_name("Xeon Gold 6430", catalog)
    old = assess(p, catalog, esxi="7.0.3")
    assert old.max_mode is not None and old.max_mode.key == "intel-icelake"
    assert "8.0" in old.esxi_limited["intel-sapphirerapids"]
    assert not old.missing_for_next["intel-sapphirerapids"]  # no feature missing: only the release
    new = assess(p, catalog, esxi="8.0.2")
    assert new.max_mode is not None and new.max_mode.key == "intel-sapphirerapids" and not new.esxi_limited


def test_cluster_held_back_by_an_old_esxi(catalog: Catalog) -> None:
    """In a cluster, a host on an old ESXi release is named as limiting, with the release it needs."""
    from evckit.analysis import analyze  # noqa: PLC0415
    from evckit.inventory import parse_snapshot  # noqa: PLC0415

    snap = {"evckit_snapshot": 1, "vcenters": [{"name": "vc", "clusters": [{"name": "c"}], "hosts": [
        {"name": "new", "cluster": "c", "esxi_version": "8.0.3", "cpu": {"model": "Xeon Gold 6430"}},
        {"name": "old", "cluster": "c", "esxi_version": "7.0.3", "cpu": {"model": "Xeon Gold 6430"}}]}]}
    c = analyze(parse_snapshot(snap, "s")).cluster("c")
    assert c.max_evc_mode is not None and c.max_evc_mode.key == "intel-icelake"
    (lim,) = c.limiting_hosts
    assert (lim.host, lim.mode, lim.needs_esxi, len(lim.missing)) == ("old", "intel-sapphirerapids", "8.0", 0)


def test_host_command_esxi_option(capsys: pytest.CaptureFixture[str]) -> None:
    """`evckit host --cpu … --esxi 7.0.3` caps the mode and says why; a bad version is a one-line error."""
    assert main(["host", "--cpu", "Xeon Gold 6430", "--esxi", "7.0.3", "--format", "json"]) == 0
    (h,) = json.loads(capsys.readouterr().out)["hosts"]
    assert h["max_evc_mode"] == "intel-icelake" and "intel-sapphirerapids" in h["esxi_limited"]
    assert main(["host", "--cpu", "Xeon Gold 6430", "--esxi", "seven"]) == 2
    assert "'seven'" in capsys.readouterr().err
