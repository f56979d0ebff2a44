"""Pre-purchase what-if on the example estate: add, replace, retire hosts; rank candidate CPUs."""

from __future__ import annotations

import json

import pytest

from evckit.cli import main
from evckit.errors import InputError, UnknownCpuError
from evckit.inventory import load_inventories
from evckit.whatif import AddHosts, RemoveHost, ReplaceHosts, Scenario, compare_cpus, parse_host_spec, run_scenario


@pytest.fixture(scope="module")
def estate():  # type: ignore[no-untyped-def]
    """The embedded example estate."""
    return load_inventories([], example=True)


def change(result, cluster):  # type: ignore[no-untyped-def]
    """The change entry of one cluster."""
    return next(c for c in result.changes if c.cluster == cluster)


def test_newer_hosts_join_older_evc_cluster(estate) -> None:  # type: ignore[no-untyped-def]
    """Two Sapphire Rapids hosts join 'gold' at Cascade Lake; esx-gold-1 still caps the cluster."""
    r = run_scenario(estate, Scenario((AddHosts("gold", "Xeon Gold 6430", 2),)))
    c = change(r, "gold")
    assert [n.name for n in c.new_hosts] == ["new-1", "new-2"]
    assert all(n.joins_current_mode and n.assumed and n.max_evc_mode == "intel-sapphirerapids" for n in c.new_hosts)
    assert c.max_evc_mode_before == c.max_evc_mode_after == "intel-cascadelake"
    assert {h.host.name for h in r.after.hosts} >= {"new-1", "new-2"}
    assert len(r.before.hosts) + 2 == len(r.after.hosts)


def test_retiring_the_limiting_host_raises_the_mode(estate) -> None:  # type: ignore[no-untyped-def]
    """Retiring esx-gold-1 lets 'gold' reach Ice Lake; its VMs must be evacuated; app-02 still needs a cycle."""
    r = run_scenario(estate, Scenario((RemoveHost("esx-gold-1"),)))
    c = change(r, "gold")
    assert (c.max_evc_mode_before, c.max_evc_mode_after) == ("intel-cascadelake", "intel-icelake")
    assert c.removed_hosts == ("esx-gold-1",)
    assert set(c.vms_to_evacuate) == {"app-02", "archive-01"}
    assert c.power_cycle_mode == "intel-icelake" and "web-01" in c.vms_needing_power_cycle


def test_replacing_a_clusters_hosts(estate) -> None:  # type: ignore[no-untyped-def]
    """Replacing 'legacy' with Sapphire Rapids raises its reach; Skylake+ VMs gain it as a live target."""
    r = run_scenario(estate, Scenario((ReplaceHosts("legacy", "sapphirerapids", 2),)))
    c = change(r, "legacy")
    assert (c.max_evc_mode_before, c.max_evc_mode_after) == ("intel-broadwell", "intel-sapphirerapids")
    assert set(c.removed_hosts) == {"esx-legacy-1", "esx-legacy-2"}
    assert {"web-01", "db-01"} <= set(c.vms_gaining) and c.vms_losing == ()
    # EVC is off there: joining is not a question, and the new hosts run the estate's newest ESXi.
    assert all(n.joins_current_mode is None for n in c.new_hosts)
    assert all(h.host.esxi_version == "8.0.3" for h in r.after.hosts if h.host.name.startswith("new-"))


def test_other_vendor_cannot_join(estate) -> None:  # type: ignore[no-untyped-def]
    """An AMD host cannot join an Intel EVC cluster, and says why; the cluster then has no common mode."""
    r = run_scenario(estate, Scenario((AddHosts("gold", "EPYC 9354"),)))
    c = change(r, "gold")
    n = c.new_hosts[0]
    assert n.joins_current_mode is False and n.reason and "amd" in n.reason and "intel-cascadelake" in n.reason
    assert c.max_evc_mode_after is None


def test_older_host_cannot_join_at_current_mode(estate) -> None:  # type: ignore[no-untyped-def]
    """A Broadwell host cannot join 'gold' at Cascade Lake: it lacks AVX-512 and VNNI, named."""
    r = run_scenario(estate, Scenario((AddHosts("gold", "E5-2690 v4"),)))
    n = change(r, "gold").new_hosts[0]
    assert n.joins_current_mode is False and {"avx512f", "avx512vnni"} <= set(n.missing_for_current)


def test_compare_cpus_ranks_with_reasons(estate) -> None:  # type: ignore[no-untyped-def]
    """For 'gold', Intel candidates that join rank above an AMD one; hidden features are named."""
    ranked = compare_cpus(estate, "gold", ["EPYC 9354", "Xeon Gold 6430", "E5-2690 v4", "Xeon 6740P"])
    assert [c.cpu for c in ranked][:2] == ["Xeon 6740P", "Xeon Gold 6430"]
    assert ranked[-1].joins_current_mode is False
    spr = ranked[1]
    assert spr.cluster_max_evc_mode == "intel-cascadelake" and "amx_tile" in spr.hidden
    assert spr.vms_that_fit == spr.vms_considered


def test_cli_changes_json(capsys: pytest.CaptureFixture[str]) -> None:
    """`check --example --add-host` adds a top-level 'changes' list to the JSON report."""
    assert main(["check", "--example", "--add-host", "gold=Xeon Gold 6430x2", "--remove-host", "esx-old-2",
                 "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    by = {c["cluster"]: c for c in doc["changes"]}
    assert set(by) == {"gold", "old"}
    assert [h["name"] for h in by["gold"]["new_hosts"]] == ["new-1", "new-2"]
    assert by["old"]["removed_hosts"] == ["esx-old-2"]
    assert any(h["name"] == "new-1" for h in doc["hosts"])


def test_cli_compare_table(capsys: pytest.CaptureFixture[str]) -> None:
    """`--compare-cpus … --cluster C` prints a ranked table."""
    assert main(["check", "--example", "--compare-cpus", "Xeon Gold 6430", "EPYC 9354", "--cluster", "legacy"]) == 0
    out = capsys.readouterr().out
    assert out.index("Xeon Gold 6430") < out.index("EPYC 9354") and "legacy would reach" in out


@pytest.mark.parametrize(("argv", "needle"), [
    (["--add-host", "gold"], "expected CLUSTER=CPU"),
    (["--add-host", "nosuch=Xeon Gold 6430"], "unknown cluster 'nosuch'"),
    (["--add-host", "gold=Pentium 4"], "unrecognised CPU name"),
    (["--remove-host", "esx-nowhere"], "no such host"),
    (["--compare-cpus", "Xeon Gold 6430"], "needs exactly one --cluster"),
])
def test_cli_bad_what_if(capsys: pytest.CaptureFixture[str], argv: list[str], needle: str) -> None:
    """Bad what-if options are one-line errors with status 2."""
    assert main(["check", "--example", *argv]) == 2
    out, err = capsys.readouterr()
    assert out == "" and needle in err and err.count("\n") == 1


def test_parse_host_spec() -> None:
    """CLUSTER=CPU[xN] parses counts; names with digits are left alone."""
    assert parse_host_spec("gold=Xeon Gold 6430x2", "--add-host") == ("gold", "Xeon Gold 6430", 2)
    assert parse_host_spec("gold = EPYC 9354 x 3", "--add-host") == ("gold", "EPYC 9354", 3)
    assert parse_host_spec("gold=E5-2690 v4", "--add-host") == ("gold", "E5-2690 v4", 1)
    with pytest.raises(InputError):
        parse_host_spec("=x", "--add-host")


def test_unknown_cpu_in_python_api(estate) -> None:  # type: ignore[no-untyped-def]
    """The Python API raises the specific error type."""
    with pytest.raises(UnknownCpuError):
        run_scenario(estate, Scenario((AddHosts("gold", "Pentium 4"),)))


def test_same_cluster_name_in_two_vcenters() -> None:
    """A new host is judged against the EVC mode of its own vCenter's cluster, not a namesake's."""
    import copy  # noqa: PLC0415

    from evckit._resources import data_dir  # noqa: PLC0415
    from evckit.inventory import parse_snapshot  # noqa: PLC0415

    snap = json.loads((data_dir() / "examples" / "estate.json").read_text())
    dr = copy.deepcopy(snap["vcenters"][0])
    dr["name"] = "vc-dr"
    next(c for c in dr["clusters"] if c["name"] == "gold")["evc_mode"] = "intel-sapphirerapids"
    for h in dr["hosts"]:
        if h["cluster"] == "gold":
            h["cpu"] = {"model": "Xeon Gold 6430"}
    snap["vcenters"].append(dr)
    inv = parse_snapshot(snap, "two")
    r = run_scenario(inv, Scenario((AddHosts("vc-dr/gold", "Xeon Gold 6348"),)))
    n = change(r, "vc-dr/gold").new_hosts[0]
    assert n.joins_current_mode is False and "amx_tile" in n.missing_for_current
    r = run_scenario(inv, Scenario((AddHosts("vc-prod/gold", "Xeon Gold 6348"),)))
    assert change(r, "vc-prod/gold").new_hosts[0].joins_current_mode is True
