"""Pre-purchase what-if on the example estate: add, replace, retire hosts; rank candidate CPUs."""

from __future__ import annotations

import json
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evckit.analysis import Analysis, analyze
from evckit.cli import main
from evckit.errors import InputError, UnknownCpuError
from evckit.inventory import Inventory, load_inventories, parse_snapshot
from evckit.whatif import (
    AddHosts,
    ClusterChange,
    RemoveHost,
    ReplaceHosts,
    Scenario,
    ScenarioResult,
    apply,
    compare_cpus,
    parse_host_spec,
    run_scenario,
)

from .estate_strategies import CATALOG, estates


@pytest.fixture(scope="module")
def estate() -> Inventory:
    """The embedded example estate."""
    return load_inventories([], example=True)


def change(result: ScenarioResult, cluster: str) -> ClusterChange:
    """The change entry of one cluster."""
    return next(c for c in result.changes if c.cluster == cluster)


def test_newer_hosts_join_older_evc_cluster(estate: Inventory) -> None:
    """Two Sapphire Rapids hosts join 'gold' at Cascade Lake; esx-gold-1 still caps the cluster."""
    r = run_scenario(estate, Scenario((AddHosts("gold", "Xeon Gold 6430", 2),)))
    c = change(r, "gold")
    assert [n.name for n in c.new_hosts] == ["new-1", "new-2"]
    assert all(n.joins_current_mode and n.assumed and n.max_evc_mode == "intel-sapphirerapids" for n in c.new_hosts)
    assert c.max_evc_mode_before == c.max_evc_mode_after == "intel-cascadelake"
    assert {h.host.name for h in r.after.hosts} >= {"new-1", "new-2"}
    assert len(r.before.hosts) + 2 == len(r.after.hosts)


def test_retiring_the_limiting_host_raises_the_mode(estate: Inventory) -> None:
    """Retiring esx-gold-1 lets 'gold' reach Ice Lake; its VMs must be evacuated; app-02 still needs a cycle."""
    r = run_scenario(estate, Scenario((RemoveHost("esx-gold-1"),)))
    c = change(r, "gold")
    assert (c.max_evc_mode_before, c.max_evc_mode_after) == ("intel-cascadelake", "intel-icelake")
    assert c.removed_hosts == ("esx-gold-1",)
    assert set(c.vms_to_evacuate) == {"app-02", "archive-01"}
    assert c.power_cycle_mode == "intel-icelake" and "web-01" in c.vms_needing_power_cycle


def test_replacing_a_clusters_hosts(estate: Inventory) -> None:
    """Replacing 'legacy' with Sapphire Rapids raises its reach; Skylake+ VMs gain it as a live target."""
    r = run_scenario(estate, Scenario((ReplaceHosts("legacy", "sapphirerapids", 2),)))
    c = change(r, "legacy")
    assert (c.max_evc_mode_before, c.max_evc_mode_after) == ("intel-broadwell", "intel-sapphirerapids")
    assert set(c.removed_hosts) == {"esx-legacy-1", "esx-legacy-2"}
    assert {"web-01", "db-01"} <= set(c.vms_gaining) and c.vms_losing == ()
    # EVC is off there: joining is not a question, and the new hosts run the estate's newest ESXi.
    assert all(n.joins_current_mode is None for n in c.new_hosts)
    assert all(h.host.esxi_version == "8.0.3" for h in r.after.hosts if h.host.name.startswith("new-"))


def test_other_vendor_cannot_join(estate: Inventory) -> None:
    """An AMD host cannot join an Intel EVC cluster, and says why; the cluster then has no common mode."""
    r = run_scenario(estate, Scenario((AddHosts("gold", "EPYC 9354"),)))
    c = change(r, "gold")
    n = c.new_hosts[0]
    assert n.joins_current_mode is False and n.reason and "amd" in n.reason and "intel-cascadelake" in n.reason
    assert c.max_evc_mode_after is None


def test_older_host_cannot_join_at_current_mode(estate: Inventory) -> None:
    """A Broadwell host cannot join 'gold' at Cascade Lake: it lacks AVX-512 and VNNI, named."""
    r = run_scenario(estate, Scenario((AddHosts("gold", "E5-2690 v4"),)))
    n = change(r, "gold").new_hosts[0]
    assert n.joins_current_mode is False and {"avx512f", "avx512vnni"} <= set(n.missing_for_current)


def test_compare_cpus_ranks_with_reasons(estate: Inventory) -> None:
    """For 'gold', Intel candidates that join rank above an AMD one; hidden features are named."""
    ranked = compare_cpus(estate, "gold", ["EPYC 9354", "Xeon Gold 6430", "E5-2690 v4", "Xeon 6740P"])
    assert {c.cpu for c in ranked[:2]} == {"Xeon 6740P", "Xeon Gold 6430"}
    assert [c.cpu for c in ranked[2:]] == ["E5-2690 v4", "EPYC 9354"]
    spr = next(c for c in ranked if c.cpu == "Xeon Gold 6430")
    assert spr.cluster_max_evc_mode == "intel-cascadelake" and "amx_tile" in spr.hidden
    # At gold's Cascade Lake EVC mode the new host takes the VMs that fit that mode: not ml-01 and
    # build-01, which use Sapphire Rapids features in the spr cluster (no EVC).
    assert spr.vms_considered == 7 and spr.vms_that_fit == 5
    # Granite Rapids on the estate's ESXi 8.0.3 stops at Sapphire Rapids (intel-graniterapids needs 9.0).
    assert next(c for c in ranked if c.cpu == "Xeon 6740P").max_evc_mode == "intel-sapphirerapids"
    # A host that cannot join takes no VM there.
    assert ranked[2].joins_current_mode is False and ranked[2].vms_that_fit == 0


def test_compare_cpus_other_vendor_ranks_last_and_hides_nothing(estate: Inventory) -> None:
    """An EPYC for an Intel cluster without EVC: it cannot serve the cluster's VMs, ranks below every Intel
    candidate even one that lowers the cluster, and no "features hidden" are counted for it."""
    ranked = compare_cpus(estate, "legacy", ["EPYC 9354", "E5-2680 v2", "Xeon Gold 6430"])
    assert ranked[-1].cpu == "EPYC 9354"
    epyc = ranked[-1]
    assert epyc.joins_current_mode is False and epyc.reason and "amd" in epyc.reason
    assert len(epyc.hidden) == 0 and epyc.vms_that_fit == 0


def test_compare_cpus_analyses_the_estate_once(estate: Inventory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Four candidates: one full analysis of the estate; each candidate's reuses its decisions."""
    import evckit.whatif as whatif  # noqa: PLC0415

    calls: list[bool] = []

    def counting(inventory: Inventory, reuse: Analysis | None = None) -> Analysis:
        calls.append(reuse is not None)
        return analyze(inventory, reuse=reuse)

    monkeypatch.setattr(whatif, "analyze", counting)
    compare_cpus(estate, "gold", ["EPYC 9354", "Xeon Gold 6430", "E5-2690 v4", "Xeon 6740P"])
    assert calls == [False, True, True, True, True]


def test_what_if_redoes_only_the_changed_cluster(estate: Inventory) -> None:
    """Adding a host to gold: the analysis after takes every other cluster's result, every staying host's
    result and the result of every VM whose verdict did not change from the analysis before (the same
    objects), and still equals a fresh analysis of the changed estate."""
    scenario = Scenario((AddHosts("gold", "Xeon Gold 6430", 1),))
    result = run_scenario(estate, scenario)
    before, after = result.before, result.after
    assert [cb is ca for cb, ca in zip(before.clusters, after.clusters)] == [c.label != "gold" for c in after.clusters]
    assert all(hb is ha for hb, ha in zip(before.hosts, after.hosts)) and len(after.hosts) == len(before.hosts) + 1
    assert any(vb is va for vb, va in zip(before.vms, after.vms))
    assert all(vb is va for vb, va in zip(before.vms, after.vms) if vb.verdict == va.verdict
               and vb.not_movable_everywhere == va.not_movable_everywhere)
    assert_same_analysis(after, analyze(apply(estate, scenario).inventory))


def test_reuse_of_another_estate_is_a_fresh_analysis(estate: Inventory) -> None:
    """An analysis of an estate with other VMs lends decisions only: the result is the fresh analysis."""
    fewer = attrs.evolve(estate, vms=estate.vms[:-3])
    assert_same_analysis(analyze(fewer, reuse=analyze(estate)), analyze(fewer))
    assert_same_analysis(analyze(estate, reuse=analyze(fewer)), analyze(estate))


def test_power_cycle_leaves_out_other_vendor_vms(estate: Inventory) -> None:
    """Replacing legacy's Intel hosts by EPYCs: report-01 (Intel) must be evacuated, not power-cycled into
    amd-zen4, in the JSON and in the table."""
    r = run_scenario(estate, Scenario((ReplaceHosts("legacy", "EPYC 9354", 2),)))
    c = change(r, "legacy")
    assert c.power_cycle_mode == "amd-zen4" and "report-01" not in c.vms_needing_power_cycle
    assert "report-01" in c.vms_to_evacuate


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


def test_unknown_cpu_in_python_api(estate: Inventory) -> None:
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


# --- two vCenters holding the same names (ClusterKey) ---------------------------------------------


@pytest.fixture(scope="module")
def twin_snapshot(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The example estate as vc-prod and an identical copy as vc-dr: every cluster, host and VM name twice."""
    from evckit._resources import data_dir  # noqa: PLC0415

    snap = json.loads((data_dir() / "examples" / "estate.json").read_text())
    dr = json.loads(json.dumps(snap["vcenters"][0]))
    dr["name"] = "vc-dr"
    snap["vcenters"].append(dr)
    path = tmp_path_factory.mktemp("twins") / "twins.json"
    path.write_text(json.dumps(snap))
    return str(path)


def twin_check(capsys: pytest.CaptureFixture[str], path: str, *argv: str) -> tuple[int, str, str]:
    """Run `evckit check` on the twin estate; (status, stdout, stderr)."""
    status = main(["check", path, *argv])
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.parametrize(("argv", "candidates"), [
    (["--remove-host", "esx-gold-1"], "vc-prod/esx-gold-1, vc-dr/esx-gold-1"),
    (["--add-host", "gold=Xeon Gold 6430"], "vc-prod/gold, vc-dr/gold"),
    (["--replace-hosts", "legacy=sapphirerapids"], "vc-prod/legacy, vc-dr/legacy"),
    (["--compare-cpus", "Xeon Gold 6430", "--cluster", "gold"], "vc-prod/gold, vc-dr/gold"),
])
def test_ambiguous_names_are_an_error_listing_candidates(
        capsys: pytest.CaptureFixture[str], twin_snapshot: str, argv: list[str], candidates: str) -> None:
    """A bare name two vCenters share never silently picks the first: one line, status 2, the candidates."""
    status, out, err = twin_check(capsys, twin_snapshot, *argv)
    assert status == 2 and out == "" and err.count("\n") == 1
    assert "several vCenters" in err and candidates in err


def test_remove_host_by_vcenter_path(capsys: pytest.CaptureFixture[str], twin_snapshot: str) -> None:
    """`--remove-host vc-dr/esx-gold-1` retires only that host: one change, its own VMs to evacuate."""
    status, out, _ = twin_check(capsys, twin_snapshot, "--remove-host", "vc-dr/esx-gold-1", "--format", "json")
    assert status == 0
    doc = json.loads(out)
    assert [c["cluster"] for c in doc["changes"]] == ["vc-dr/gold"]
    (c,) = doc["changes"]
    assert c["removed_hosts"] == ["esx-gold-1"]
    assert sorted(c["vms_to_evacuate"]) == ["app-02", "archive-01"]  # vc-dr's only, each once
    hosts = {(h["vcenter"], h["name"]) for h in doc["hosts"]}
    assert ("vc-prod", "esx-gold-1") in hosts and ("vc-dr", "esx-gold-1") not in hosts


def test_add_host_by_vcenter_path(capsys: pytest.CaptureFixture[str], twin_snapshot: str) -> None:
    """`--add-host vc-dr/gold=…` adds the host to vc-dr's gold only and reports it under that cluster only."""
    status, out, _ = twin_check(capsys, twin_snapshot, "--add-host", "vc-dr/gold=Xeon Gold 6430",
                                "--format", "json")
    assert status == 0
    doc = json.loads(out)
    assert [(c["cluster"], [h["name"] for h in c["new_hosts"]]) for c in doc["changes"]] == [("vc-dr/gold", ["new-1"])]
    new = [h for h in doc["hosts"] if h["name"] == "new-1"]
    assert [(h["vcenter"], h["cluster"]) for h in new] == [("vc-dr", "gold")]


def test_compare_cpus_by_vcenter_path(twin_snapshot: str) -> None:
    """`compare_cpus` takes vcenter/cluster and ranks against that cluster."""
    from evckit.inventory import load_snapshot  # noqa: PLC0415

    ranked = compare_cpus(load_snapshot(twin_snapshot), "vc-dr/gold", ["Xeon Gold 6430", "EPYC 9354"])
    assert [c.cpu for c in ranked] == ["Xeon Gold 6430", "EPYC 9354"]
    assert ranked[0].cluster_max_evc_mode == "intel-cascadelake"


def test_cluster_filter_matches_every_vcenter_and_their_vms(capsys: pytest.CaptureFixture[str],
                                                            twin_snapshot: str) -> None:
    """`--cluster gold` selects the gold of both vCenters with their VMs and hosts; `vc-dr/gold` just one."""
    status, out, _ = twin_check(capsys, twin_snapshot, "--cluster", "gold", "--format", "json")
    assert status == 0
    doc = json.loads(out)
    assert [c["name"] for c in doc["clusters"]] == ["vc-prod/gold", "vc-dr/gold"]
    assert sorted((v["vcenter"], v["name"]) for v in doc["vms"]) == sorted(
        (vc, n) for vc in ("vc-prod", "vc-dr") for n in ("web-01", "app-02", "db-01", "archive-01"))
    assert {(h["vcenter"], h["cluster"]) for h in doc["hosts"]} == {("vc-prod", "gold"), ("vc-dr", "gold")}
    status, out, _ = twin_check(capsys, twin_snapshot, "--cluster", "vc-dr/gold", "--format", "json")
    doc = json.loads(out)
    assert [c["name"] for c in doc["clusters"]] == ["vc-dr/gold"]
    assert {v["vcenter"] for v in doc["vms"]} == {"vc-dr"} and len(doc["vms"]) == 4
    assert {(h["vcenter"], h["cluster"]) for h in doc["hosts"]} == {("vc-dr", "gold")}


# --- what-if is the analysis of the changed estate ------------------------------------------------

CANDIDATE_CPUS = ("Xeon Gold 6430", "EPYC 9354", "E5-2690 v4", "intel-broadwell", "amd-zen2", "sapphirerapids",
                  "Xeon 6740P", "EPYC 7713")


@st.composite
def scenarios(draw: st.DrawFn, inventory: Inventory) -> Scenario:
    """One to three random changes to an estate: add or replace hosts by CPU, retire a host."""
    clusters = [str(c.key) for c in inventory.clusters]
    # Hosts that can still be retired, with their cluster: a replaced cluster's hosts are gone already.
    hosts = {f"{h.vcenter}/{h.name}": str(h.cluster_key) for h in inventory.hosts}
    changes: list[AddHosts | ReplaceHosts | RemoveHost] = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(("add", "replace", "remove") if hosts else ("add", "replace")))
        if kind == "remove":
            name = draw(st.sampled_from(sorted(hosts)))
            del hosts[name]
            changes.append(RemoveHost(name))
            continue
        cluster = draw(st.sampled_from(clusters))
        if kind == "replace":
            hosts = {h: c for h, c in hosts.items() if c != cluster}
        cls = AddHosts if kind == "add" else ReplaceHosts
        changes.append(cls(cluster, draw(st.sampled_from(CANDIDATE_CPUS)), draw(st.integers(1, 2))))
    esxi = draw(st.none() | st.sampled_from(("7.0.3", "8.0.3", "9.0.0")))
    return Scenario(tuple(changes), esxi_version=esxi)


def assert_same_analysis(got: Analysis, want: Analysis) -> None:
    """Every verdict of two analyses is equal: hosts, clusters, VMs, notes and the grouping counts."""
    assert got.inventory.hosts == want.inventory.hosts
    assert got.hosts == want.hosts
    assert got.clusters == want.clusters
    assert got.vms == want.vms
    assert got.data_conflicts == want.data_conflicts
    assert (got.notes, got.vm_groups, got.destination_classes) == (want.notes, want.vm_groups,
                                                                    want.destination_classes)


def plain_changes(before: Analysis, after: Analysis, inventory: Inventory, scenario: Scenario) -> list[tuple[Any, ...]]:
    """What changes per affected cluster, computed the plain way (every VM per cluster): the oracle of
    `run_scenario`'s changes."""
    applied = apply(inventory, scenario)
    affected = {h.cluster_key for h in applied.added} | set(applied.removed)
    out = []
    for ca in after.clusters:
        if ca.key not in affected:
            continue
        pairs = [(vb, va) for vb, va in zip(before.vms, after.vms) if va.vm.running]
        gaining = [va.vm.name for vb, va in pairs
                   if ca.label in va.verdict.live_targets and ca.label not in vb.verdict.live_targets]
        losing = [va.vm.name for vb, va in pairs
                  if ca.label not in va.verdict.live_targets and ca.label in vb.verdict.live_targets]
        gone = set(applied.removed.get(ca.key, ()))
        evacuate = [v.vm.name for v in after.vms if v.vm.host in gone and v.vm.vcenter == ca.key.vcenter]
        new = [(h.name, next(r for r in after.hosts if r.host.name == h.name).verdict.max_mode)
               for h in applied.added if h.cluster_key == ca.key]
        top_before, top_after = before.cluster(ca.key).max_evc_mode, ca.max_evc_mode
        out.append((ca.label, top_before.key if top_before else None, top_after.key if top_after else None,
                    sorted(gone), gaining, losing, evacuate, [(n, m.key if m else None) for n, m in new]))
    return out


@settings(deadline=None, max_examples=60)
@given(estates(), st.data())
def test_what_if_is_the_analysis_of_the_changed_estate(obj: dict[str, Any], data: st.DataObject) -> None:
    """`run_scenario(...).after`, which reuses the decisions of the estate before, equals a fresh
    `analyze(apply(...))`, and its changes are those the plain comparison of both finds; a second
    scenario analysed reusing the first's equals a fresh analysis too."""
    inv = parse_snapshot(obj, "<random>", CATALOG)
    scenario = data.draw(scenarios(inv))
    result = run_scenario(inv, scenario)
    fresh = analyze(apply(inv, scenario).inventory)
    assert_same_analysis(result.after, fresh)
    assert [(c.cluster, c.max_evc_mode_before, c.max_evc_mode_after, list(c.removed_hosts), list(c.vms_gaining),
             list(c.vms_losing), list(c.vms_to_evacuate), [(n.name, n.max_evc_mode) for n in c.new_hosts])
            for c in result.changes] == plain_changes(result.before, fresh, inv, scenario)
    again = data.draw(scenarios(inv))
    chained = analyze(apply(inv, again).inventory, reuse=result.after)
    assert_same_analysis(chained, analyze(apply(inv, again).inventory))


@settings(deadline=None, max_examples=40)
@given(estates(), st.data())
def test_compare_cpus_equals_a_full_analysis_per_cpu(obj: dict[str, Any], data: st.DataObject) -> None:
    """`compare_cpus`, which analyses the estate once and each candidate's estate reusing it, ranks the
    candidates exactly as analysing each candidate's estate from scratch does."""
    import evckit.whatif as whatif  # noqa: PLC0415

    inv = parse_snapshot(obj, "<random>", CATALOG)
    cluster = data.draw(st.sampled_from([str(c.key) for c in inv.clusters]))
    cpus = data.draw(st.lists(st.sampled_from(CANDIDATE_CPUS), min_size=1, max_size=3, unique=True))
    reused = compare_cpus(inv, cluster, cpus)

    def fresh(inventory: Inventory, reuse: Analysis | None = None) -> Analysis:
        return analyze(inventory)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(whatif, "analyze", fresh)
        assert compare_cpus(inv, cluster, cpus) == reused


@given(st.data())
def test_spliced_verdict_entries_stay_in_cluster_order(data: st.DataObject) -> None:
    """What the reuse puts in place of a changed cluster's entries (few or many changed clusters): the
    entries of the other clusters, then the new ones, all in cluster order, as a fresh analysis lists them."""
    from evckit.analysis import _splice_map, _splice_seq  # noqa: PLC0415

    labels = [f"c{i}" for i in range(data.draw(st.integers(0, 30)))]
    pos = {t: i for i, t in enumerate(labels)}
    changed = set(data.draw(st.lists(st.sampled_from(labels), unique=True))) if labels else set()
    old = [t for t in labels if data.draw(st.booleans())]
    new = [t for t in labels if t in changed and data.draw(st.booleans())]
    want = [t for t in labels if t in new or (t in old and t not in changed)]
    assert _splice_seq(tuple(old), tuple(new), changed, pos) == tuple(want)
    was, now = {t: ("old", t) for t in old}, {t: ("new", t) for t in new}
    assert list(_splice_map(was, now, changed, pos).items()) == [(t, now[t] if t in changed else was[t]) for t in want]
