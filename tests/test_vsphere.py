"""The vCenter collector against a real vSphere API server: govmomi's simulator, loaded from snapshots.

The session fixture builds tests/vcsim (Debian's golang-go and golang-github-vmware-govmomi-dev, offline).
In CI (``CI=true``) it must succeed; elsewhere, where the packages cannot be installed, the simulator
tests skip and say why. Every launcher writes its files into one session folder that is removed at
the end, so a run leaves no temporary folders behind. Each launcher serves one vCenter of a snapshot on 127.0.0.1 with
a throw-away CA (`EVCKIT_VCSIM_CA`) and logs every SOAP call it receives.
"""

from __future__ import annotations

import copy
import io
import json
import math
import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, cast

import attrs
import jsonschema
import pytest

from evckit.catalog import Catalog
from evckit.cli import main
from evckit.inventory import Inventory, parse_snapshot

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "cpu"
USER = "evckit-reader@vsphere.local"
PASSWORD = "S3cret-Pa55-for-vcsim"  # distinctive: tests grep for it
ALLOWED = {"RetrieveServiceContent", "Login", "Logout", "CreateContainerView", "DestroyView",
           "RetrievePropertiesEx", "ContinueRetrievePropertiesEx"}


# --- the simulator -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def vcsim_binary() -> Path:
    """tests/vcsim built into .vcsim/ (installs the Debian packages first when they are missing)."""
    started = time.monotonic()
    try:
        proc = subprocess.run(["bash", str(ROOT / "tests" / "vcsim" / "build.sh")], capture_output=True,
                              text=True, timeout=900, check=False, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        _unavailable(f"tests/vcsim/build.sh could not run: {exc}")
    if proc.returncode != 0:
        _unavailable(f"tests/vcsim/build.sh failed (status {proc.returncode}): {proc.stderr[-4000:]}")
    binary = Path(proc.stdout.strip().splitlines()[-1])
    assert binary.is_file(), proc.stdout
    sys.stderr.write(f"\nvcsim launcher ready in {time.monotonic() - started:.1f} s\n")
    return binary


def _unavailable(reason: str) -> None:
    """No simulator: a failure in CI (it must run there), a skip with the reason anywhere else."""
    if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
        pytest.fail(reason)
    pytest.skip(f"vCenter simulator unavailable on this machine: {reason.splitlines()[0][:300]}")


@pytest.fixture(scope="session")
def vcsim_tmp() -> Iterator[Path]:
    """One temporary folder (tmpfs when there is one: fast and steady) for every launcher's files,
    removed at the end of the session whatever happens."""
    base = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    folder = Path(tempfile.mkdtemp(prefix="evckit-vcsim-tests-", dir=base))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class Vcsim:
    """One running launcher: its address, CA file and SOAP call log."""

    def __init__(self, binary: Path, workdir: Path, tmpdir: Path, snapshot: dict[str, Any] | None = None,
                 *args: str, vcenter: str | None = None) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.log = workdir / "calls.log"
        self.log.write_text("")
        self.stderr_path = workdir / "vcsim.stderr"
        argv = [str(binary), "-l", "127.0.0.1:0", "-stdinexit", "-user", USER, "-pass", PASSWORD,
                "-method-log", str(self.log), *args]
        if snapshot is not None:
            path = workdir / "estate.json"
            path.write_text(json.dumps(snapshot))
            argv += ["-snapshot", str(path)]
        if vcenter:
            argv += ["-vcenter", vcenter]
        env = dict(os.environ)
        env["TMPDIR"] = str(tmpdir)  # the launcher's datastore and CA files: removed with the session
        with self.stderr_path.open("wb") as err:
            self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, env=env)
        out = b""
        deadline = time.monotonic() + 60
        assert self.proc.stdout is not None
        while b"READY\n" not in out:
            ready, _, _ = select.select([self.proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(self.proc.stdout.fileno(), 4096) if ready else b""
            if not chunk:
                self.stop()
                pytest.fail(f"vcsim did not start: {self.stderr_path.read_text()[-2000:]}")
            out += chunk
        lines = dict(line.split("=", 1) for line in out.decode().splitlines() if "=" in line)
        url = lines["EVCKIT_VCSIM_URL"]
        self.port = int(url.rsplit(":", 1)[1].split("/", 1)[0])
        self.server = f"127.0.0.1:{self.port}"
        self.ca = lines["EVCKIT_VCSIM_CA"]

    def calls(self) -> list[str]:
        """The SOAP methods received so far, in order."""
        return [line.split()[0] for line in self.log.read_text().splitlines() if line.strip()]

    def stop(self) -> None:
        """SIGTERM: the launcher exits at once, dropping requests in flight."""
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(timeout=30)
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                pipe.close()


@pytest.fixture
def start(vcsim_binary: Path, vcsim_tmp: Path, tmp_path: Path) -> Iterator[Any]:
    """Start launchers for one test; all are stopped afterwards."""
    running: list[Vcsim] = []

    def _start(snapshot: dict[str, Any] | None = None, *args: str, vcenter: str | None = None) -> Vcsim:
        sim = Vcsim(vcsim_binary, tmp_path / f"vcsim{len(running)}", vcsim_tmp, snapshot, *args, vcenter=vcenter)
        running.append(sim)
        return sim

    yield _start
    for sim in running:
        sim.stop()


# --- the estate ----------------------------------------------------------------------------------


def evc_modes(catalog: Catalog) -> list[dict[str, Any]]:
    """capability.supportedEVCMode as a vCenter would report the shipped modes (featureMask included,
    so that per-VM EVC, which applies a mode's mask to the VM, can be recognised)."""
    reg = catalog.features
    out = []
    for m in catalog.modes:
        keys = [reg[n].vsphere_keys[0] for n in m.features.names() if reg[n].vsphere_keys]
        out.append({"key": m.key, "label": m.label, "vendor": m.vendor, "vendorTier": m.tier,
                    "track": list(m.tracks),
                    "featureCapability": [{"key": k, "featureName": k, "value": "1"} for k in keys],
                    "featureMask": [{"key": k, "featureName": k, "value": "Val:1"} for k in keys]})
    return out


def _fixture_entries(name: str) -> list[dict[str, Any]]:
    data = json.loads((FIXTURES / name).read_text())
    entries = data["featureCapability"] if isinstance(data, dict) else data
    return [{k: v for k, v in e.items() if not k.startswith("_")} for e in entries]


@pytest.fixture(scope="module")
def estate() -> dict[str, Any]:
    """The example estate, enriched: measured CPU data, vCenter EVC modes, a standalone host, host and VM
    states, a template, a guest OS id, and a second vCenter."""
    catalog = Catalog.builtin()
    doc = json.loads((ROOT / "data" / "examples" / "estate.json").read_text())
    prod = doc["vcenters"][0]
    prod["build"] = "24022515"
    prod["evc_modes"] = evc_modes(catalog)
    hosts = {h["name"]: h for h in prod["hosts"]}
    hosts["esx-old-1"]["cpu"]["cpu_feature"] = _fixture_entries("e5-1620-hostcpuidinfo.json")
    hosts["esx-old-2"]["cpu"]["feature_capability"] = _fixture_entries("feature-capability.json")
    hosts["esx-old-2"]["cpu"]["masked_feature_capability"] = _fixture_entries("feature-capability.json")[:3]
    hosts["esx-old-2"]["max_evc_mode"] = "intel-sandybridge"
    hosts["esx-old-2"]["build"] = "17167734"
    hosts["esx-legacy-2"]["maintenance"] = True
    hosts["esx-epyc-2"]["connection_state"] = "notResponding"
    prod["hosts"].append({"name": "esx-lab-1", "cluster": None, "esxi_version": "7.0.3", "max_evc_mode": "intel-haswell",
                          "connection_state": "disconnected", "cpu": {"model": "Intel(R) Xeon(R) CPU E5-2667 v3"}})
    prod["vms"] += [
        {"name": "tmpl-rhel9", "host": "esx-gold-1", "power_state": "poweredOff", "hardware_version": "vmx-19",
         "template": True, "guest_id": "rhel9_64Guest"},
        {"name": "paused-01", "host": "esx-epyc-2", "power_state": "suspended", "hardware_version": "vmx-20",
         "min_required_evc_mode": "amd-zen2"},
        {"name": "lab-vm", "host": "esx-lab-1", "power_state": "poweredOff", "hardware_version": "vmx-13",
         "guest_id": "windows2019srv_64Guest"},
    ]
    lab = {"name": "vc-lab", "version": "7.0.3", "clusters": [{"name": "lab", "evc_mode": "amd-zen2"}],
           "hosts": [{"name": "esx-lab-amd-1", "cluster": "lab", "esxi_version": "7.0.3",
                      "cpu": {"model": "AMD EPYC 7302 16-Core Processor"}},
                     {"name": "esx-lab-amd-2", "cluster": "lab", "esxi_version": "7.0.3", "max_evc_mode": "amd-zen2",
                      "cpu": {"model": "AMD EPYC 7402 24-Core Processor"}}],
           "vms": [{"name": "lab-db", "host": "esx-lab-amd-1", "power_state": "poweredOn", "hardware_version": "vmx-17",
                    "feature_requirement": [{"key": "cpuid.AVX2", "value": "Bool:Min:1"},
                                            {"key": "cpuid.AMD", "value": "Bool:Min:1"}]},
                   {"name": "web-01", "host": "esx-lab-amd-2", "power_state": "poweredOn",
                    "hardware_version": "vmx-14"}]}
    doc["vcenters"].append(lab)
    parse_snapshot(doc)  # the estate itself is valid
    return cast("dict[str, Any]", doc)


def one_vcenter(doc: dict[str, Any], name: str) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    out["vcenters"] = [vc for vc in out["vcenters"] if vc["name"] == name]
    return out


@pytest.fixture(scope="module")
def estate_sims(vcsim_binary: Path, vcsim_tmp: Path, estate: dict[str, Any],
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Vcsim]]:
    """One launcher per vCenter of the estate, shared by the read-only tests of this module."""
    base = tmp_path_factory.mktemp("estate")
    sims = {vc["name"]: Vcsim(vcsim_binary, base / vc["name"], vcsim_tmp, estate, vcenter=vc["name"])
            for vc in estate["vcenters"]}
    yield sims
    for sim in sims.values():
        sim.stop()


# --- running the command -------------------------------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def collect_args(sims: Sequence[Vcsim], out: Path, *extra: str) -> list[str]:
    """`evckit collect` from these launchers, trusting their CAs (one PEM bundle when there are several)."""
    argv = ["collect"]
    for sim in sims:
        argv += ["--server", sim.server]
    ca = sims[0].ca
    if len(sims) > 1:
        bundle = out.parent / "ca-bundle" / "cas.pem"
        bundle.parent.mkdir(exist_ok=True)
        bundle.write_text("".join(Path(s.ca).read_text() for s in sims))
        ca = str(bundle)
    return [*argv, "--user", USER, "--ca-file", ca, "-o", str(out), *extra]


@pytest.fixture
def password(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("EVCKIT_PASSWORD", PASSWORD)
    return PASSWORD


# --- comparing estates ---------------------------------------------------------------------------


def _profile(p: Any) -> dict[str, Any]:
    d = attrs.asdict(p, recurse=False)
    d.pop("source")
    d.pop("notes")
    d["present"], d["unknown"] = p.present.mask, p.unknown.mask
    return d


def facts(inv: Inventory, vc_names: dict[str, str]) -> dict[str, Any]:
    """Every field of a parsed estate that evckit uses, keyed so that order and source names do not count."""
    out: dict[str, Any] = {"vcenters": {}, "clusters": {}, "hosts": {}, "vms": {}}
    for vc in inv.vcenters:
        name = vc_names.get(vc.name, vc.name)
        modes = None if vc.modes is None else {
            m.key: (m.label, m.vendor, m.tier, m.tracks, m.features.mask, m.required) for m in vc.modes}
        out["vcenters"][name] = (vc.version, vc.build, modes)
    for c in inv.clusters:
        out["clusters"][vc_names.get(c.vcenter, c.vcenter), c.name] = c.evc_mode
    for h in inv.hosts:
        d = attrs.asdict(h, recurse=False)
        d["vcenter"] = vc_names.get(h.vcenter, h.vcenter)
        d["cpu"] = _profile(h.cpu)
        out["hosts"][d["vcenter"], h.name] = d
    for v in inv.vms:
        d = attrs.asdict(v, recurse=False)
        d["vcenter"] = vc_names.get(v.vcenter, v.vcenter)
        d["requirement"] = (v.requirement.features.mask, v.requirement.source, v.requirement.vendor,
                            v.requirement.unevaluated)
        out["vms"][d["vcenter"], v.name] = d
    return out


def _norm_cpuid(entries: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted((int(e["level"]) & 0xFFFFFFFF, e.get("vendor") or None, e.get("eax"), e.get("ebx"), e.get("ecx"),
                   e.get("edx")) for e in entries)


def _norm_kv(entries: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return sorted((e["key"], str(e["value"])) for e in entries)


def verdicts(text: str) -> dict[str, Any]:
    """`evckit check --format json` without what names the input."""
    doc = json.loads(text)
    doc.pop("snapshot")
    doc["notes"] = sorted(n for n in doc["notes"] if "capability.supportedEVCMode" not in n)

    def strip(x: Any) -> Any:
        if isinstance(x, dict):
            return {k: strip(v) for k, v in x.items() if k != "vcenter"}
        if isinstance(x, list):
            return sorted((strip(v) for v in x), key=lambda v: json.dumps(v, sort_keys=True))
        return x
    return cast("dict[str, Any]", strip(doc))


# --- tests ---------------------------------------------------------------------------------------


@pytest.mark.vcsim
def test_round_trip_every_field(estate: dict[str, Any], estate_sims: dict[str, Vcsim], tmp_path: Path,
                                capsys: pytest.CaptureFixture[str], password: str) -> None:
    """snapshot -> simulator -> `evckit collect` -> snapshot: equal in every field evckit uses."""
    sims = [estate_sims["vc-prod"], estate_sims["vc-lab"]]
    out = tmp_path / "collected.json"
    status, stdout, err = run(capsys, *collect_args(sims, out, "--page-size", "7"))
    assert status == 0, err
    assert stdout == ""
    got = json.loads(out.read_text())
    jsonschema.validate(got, json.loads((ROOT / "data" / "snapshot.schema.json").read_text()))
    assert [vc["name"] for vc in got["vcenters"]] == [s.server for s in sims]
    names = {sims[0].server: "vc-prod", sims[1].server: "vc-lab"}
    assert facts(parse_snapshot(got), names) == facts(parse_snapshot(estate), {})

    # The raw CPU data survives as such, not only its meaning.
    by_name = {h["name"]: h for vc in got["vcenters"] for h in vc["hosts"]}
    orig = {h["name"]: h for vc in estate["vcenters"] for h in vc["hosts"]}
    assert _norm_cpuid(by_name["esx-old-1"]["cpu"]["cpu_feature"]) == _norm_cpuid(orig["esx-old-1"]["cpu"]["cpu_feature"])
    for key in ("feature_capability", "masked_feature_capability"):
        assert _norm_kv(by_name["esx-old-2"]["cpu"][key]) == _norm_kv(orig["esx-old-2"]["cpu"][key])
    assert by_name["esx-old-2"]["esxi_build"] == "17167734" and by_name["esx-lab-1"]["cluster"] is None
    assert by_name["esx-gold-1"]["current_evc_mode"] == "intel-cascadelake"
    vms = {v["name"]: v for vc in got["vcenters"] for v in vc["vms"]}
    assert vms["db-01"]["per_vm_evc"] == "intel-skylake" and vms["db-01"]["feature_mask"]
    assert vms["tmpl-rhel9"]["template"] is True and vms["tmpl-rhel9"]["guest_id"] == "rhel9_64Guest"
    assert got["vcenters"][0]["build"] == "24022515" and got["vcenters"][1]["version"] == "7.0.3"
    # Progress on stderr: objects so far, page by page, then a summary per vCenter.
    assert f"evckit: {sims[0].server}: 7 objects retrieved" in err
    assert f"{sims[1].server}: 2 hosts, 1 clusters, 2 VMs" in err
    assert PASSWORD not in out.read_text() + err + stdout


@pytest.mark.vcsim
def test_check_verdicts_equal(estate: dict[str, Any], estate_sims: dict[str, Vcsim], tmp_path: Path,
                              capsys: pytest.CaptureFixture[str], password: str) -> None:
    """`evckit check` gives the same JSON verdicts on the collected snapshot as on the original, and
    `evckit check --server` (collect and analyse in one go) gives them too."""
    prod = estate_sims["vc-prod"]
    original = tmp_path / "original.json"
    original.write_text(json.dumps(one_vcenter(estate, "vc-prod")))
    collected = tmp_path / "collected.json"
    assert run(capsys, *collect_args([prod], collected, "--quiet"))[0] == 0
    status, want, _ = run(capsys, "check", str(original), "--format", "json-expanded", "--explain")
    assert status == 0
    status, got, _ = run(capsys, "check", str(collected), "--format", "json-expanded", "--explain")
    assert status == 0 and verdicts(got) == verdicts(want)
    status, live, err = run(capsys, "check", "--server", prod.server, "--user", USER, "--ca-file", prod.ca,
                            "--format", "json-expanded", "--explain")
    assert status == 0, err
    assert verdicts(live) == verdicts(want)
    assert json.loads(live)["snapshot"] == f"vCenter {prod.server}"
    assert "objects retrieved" in err and PASSWORD not in live + err


def _estate_with_vms(n: int) -> dict[str, Any]:
    hosts = [{"name": f"esx-{i}", "cluster": "c1", "esxi_version": "8.0.3", "max_evc_mode": "intel-icelake",
              "cpu": {"model": "Intel(R) Xeon(R) Gold 6348 CPU @ 2.60GHz"}} for i in range(2)]
    vms = [{"name": f"vm-{i:04d}", "host": f"esx-{i % 2}", "power_state": "poweredOn", "hardware_version": "vmx-19"}
           for i in range(n)]
    return {"evckit_snapshot": 1, "vcenters": [{"name": "vc", "clusters": [{"name": "c1", "evc_mode": "intel-icelake"}],
                                                "hosts": hosts, "vms": vms}]}


@pytest.mark.vcsim
def test_api_calls_grow_with_pages_not_objects(start: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               password: str) -> None:
    """Property retrieval costs one call per page: 10 and 200 VMs take the same number of calls when they
    fit one page, and ceil(objects / page) calls with a smaller page."""
    counts = {}
    for n in (10, 200):
        sim = start(_estate_with_vms(n))
        for page in (50, 1000):
            before = len(sim.calls())
            out = tmp_path / f"{n}-{page}.json"
            assert run(capsys, *collect_args([sim], out, "--page-size", str(page), "--quiet"))[0] == 0
            calls = sim.calls()[before:]
            retrieval = [c for c in calls if c in ("RetrievePropertiesEx", "ContinueRetrievePropertiesEx")]
            counts[n, page] = (len(retrieval), len(calls))
            assert calls.count("RetrievePropertiesEx") == 1
            objects = n + 2 + 1 + 1  # VMs, hosts, the cluster, the ServiceInstance
            assert len(retrieval) == math.ceil(objects / page)
            assert len(json.loads(out.read_text())["vcenters"][0]["vms"]) == n
    sys.stderr.write(f"\nAPI calls (retrieval, all) by (VMs, page size): {counts}\n")
    assert counts[10, 1000] == counts[200, 1000] == (1, 6)
    assert counts[10, 50] == (1, 6) and counts[200, 50] == (5, 10)


@pytest.mark.vcsim
def test_read_only_methods(estate_sims: dict[str, Vcsim], tmp_path: Path, password: str) -> None:
    """The server sees only login, logout, view creation and destruction and property retrieval; the
    client's stub refuses anything else, lazy property reads included."""
    from evckit import vsphere  # noqa: PLC0415

    sim = estate_sims["vc-prod"]
    before = len(sim.calls())
    client_calls: list[str] = []
    vsphere.collect_snapshot([sim.server], USER, PASSWORD, ca_file=sim.ca, page_size=5, calls=client_calls)
    server_calls = sim.calls()[before:]
    assert server_calls == client_calls
    assert set(server_calls) <= ALLOWED
    assert server_calls[:3] == ["RetrieveServiceContent", "Login", "CreateContainerView"]
    assert server_calls[-2:] == ["DestroyView", "Logout"]
    assert vsphere.ALLOWED_METHODS == ALLOWED

    session = vsphere._Session(sim.server, USER, PASSWORD, vsphere.ssl_context(ca_file=sim.ca), 10, 100,
                               lambda _m: None, None)
    stub = session._stub(session._negotiate())
    si = session.vim.ServiceInstance("ServiceInstance", stub)
    content = si.RetrieveContent()
    try:
        with pytest.raises(vsphere.CollectError, match="refused to call CurrentTime"):
            si.CurrentTime()
        with pytest.raises(vsphere.CollectError, match="refused to call Fetch"):
            _ = content.rootFolder.childEntity
        with pytest.raises(vsphere.CollectError, match="refused to call CreateFolder"):
            content.rootFolder.CreateFolder("x")
    finally:
        stub.DropConnections()
    assert set(sim.calls()[before:]) <= ALLOWED


def _one_error_line(err: str) -> str:
    lines = err.splitlines()
    errors = [line for line in lines if line.startswith("evckit: error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], err
    return errors[0]


@pytest.mark.vcsim
def test_wrong_password(start: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Wrong credentials: exit 2, one line naming the user, no file, the password nowhere."""
    sim = start(_estate_with_vms(2))
    monkeypatch.setenv("MY_VC_PASSWORD", "Wrong-Pa55word")
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "out.json"
    status, stdout, err = run(capsys, *collect_args([sim], out, "--password-env", "MY_VC_PASSWORD"))
    line = _one_error_line(err)
    assert status == 2 and stdout == "" and list(out.parent.iterdir()) == []
    assert f"login as {USER} failed: wrong user name or password" in line
    assert "Wrong-Pa55word" not in err
    assert "Logout" not in sim.calls() and "CreateContainerView" not in sim.calls()


@pytest.mark.vcsim
def test_server_stopped_mid_collection(start: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       password: str) -> None:
    """The server dies between two pages: bounded retries, then one line, and no partial snapshot (an
    existing file is left as it was)."""
    sim = start(_estate_with_vms(40), "-delay", "ContinueRetrievePropertiesEx=400")
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "out.json"
    out.write_text("previous snapshot\n")
    errors: list[BaseException] = []

    def stop_when_paging() -> None:
        try:
            deadline = time.monotonic() + 30
            while "ContinueRetrievePropertiesEx" not in sim.calls() and time.monotonic() < deadline:
                time.sleep(0.01)
            sim.stop()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    killer = threading.Thread(target=stop_when_paging)
    killer.start()
    started = time.monotonic()
    status, _, err = run(capsys, *collect_args([sim], out, "--page-size", "10"))
    killer.join()
    assert not errors
    line = _one_error_line(err)
    assert status == 2 and "connection lost during the collection, 3 attempt(s)" in line
    assert "retry 1 of 2" in err and "retry 2 of 2" in err
    assert out.read_text() == "previous snapshot\n" and [p.name for p in out.parent.iterdir()] == ["out.json"]
    assert time.monotonic() - started < 20


@pytest.mark.vcsim
def test_connection_drop_is_retried(start: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                    password: str) -> None:
    """A connection dropped once is retried (from a fresh login) and the collection succeeds."""
    sim = start(_estate_with_vms(3), "-drop", "ContinueRetrievePropertiesEx=1")
    out = tmp_path / "out.json"
    status, _, err = run(capsys, *collect_args([sim], out, "--page-size", "2"))
    assert status == 0, err
    assert "retry 1 of 2" in err and len(json.loads(out.read_text())["vcenters"][0]["vms"]) == 3
    assert sim.calls().count("Login") == 2


@pytest.mark.vcsim
def test_unreachable_port(tmp_path: Path, capsys: pytest.CaptureFixture[str], password: str) -> None:
    """Nobody listening: exit 2, one line."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "out.json"
    status, _, err = run(capsys, "collect", "--server", f"127.0.0.1:{port}", "--user", USER, "-o", str(out))
    assert status == 2 and not out.exists()
    assert f"cannot reach 127.0.0.1:{port}" in _one_error_line(err)


@pytest.mark.vcsim
def test_tls_verification(estate_sims: dict[str, Vcsim], tmp_path: Path, capsys: pytest.CaptureFixture[str],
                          password: str) -> None:
    """The simulator's certificate is not trusted by default; --ca-file trusts it; --insecure skips the
    check with a warning."""
    sim = estate_sims["vc-lab"]
    out = tmp_path / "out.json"
    status, _, err = run(capsys, "collect", "--server", sim.server, "--user", USER, "-o", str(out))
    line = _one_error_line(err)
    assert status == 2 and not out.exists()
    assert "TLS certificate verification failed" in line and "--ca-file" in line and "--insecure" in line
    status, _, err = run(capsys, "collect", "--server", sim.server, "--user", USER, "-o", str(out), "--insecure",
                         "--quiet")
    assert status == 0 and out.exists()
    assert err.startswith("evckit: warning: --insecure: TLS certificates are not verified")


@pytest.mark.vcsim
def test_timeout(start: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], password: str) -> None:
    """A server slower than --timeout: exit 2, one line, no file."""
    sim = start(_estate_with_vms(2), "-delay", "RetrievePropertiesEx=3000")
    out = tmp_path / "out.json"
    started = time.monotonic()
    status, _, err = run(capsys, *collect_args([sim], out, "--timeout", "0.5"))
    assert status == 2 and not out.exists()
    assert "no answer within 0.5 s (--timeout)" in _one_error_line(err)
    assert time.monotonic() - started < 2.5


@pytest.mark.vcsim
def test_missing_permission(start: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], password: str) -> None:
    """NoPermission on property retrieval: exit 2, one line naming the privilege; the session is closed."""
    sim = start(_estate_with_vms(2), "-deny-retrieve")
    out = tmp_path / "out.json"
    status, _, err = run(capsys, *collect_args([sim], out))
    assert status == 2 and not out.exists()
    assert f"user {USER} lacks permission System.Read" in _one_error_line(err)
    assert sim.calls()[-2:] == ["DestroyView", "Logout"]


@pytest.mark.vcsim
def test_password_sources(estate_sims: dict[str, Vcsim], tmp_path: Path, capsys: pytest.CaptureFixture[str],
                          monkeypatch: pytest.MonkeyPatch) -> None:
    """No password anywhere and no terminal: one line saying where to put it; --password-env names an unset
    variable: said so."""
    sim = estate_sims["vc-lab"]
    monkeypatch.delenv("EVCKIT_PASSWORD", raising=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # not a terminal: no prompt
    status, _, err = run(capsys, *collect_args([sim], tmp_path / "o.json"))
    assert status == 2 and "no password: set EVCKIT_PASSWORD" in _one_error_line(err)
    status, _, err = run(capsys, *collect_args([sim], tmp_path / "o.json", "--password-env", "NOPE_UNSET"))
    assert status == 2 and "--password-env NOPE_UNSET" in _one_error_line(err)


def test_without_pyvmomi(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """pyVmomi missing: `evckit collect` says exactly what to install (before asking for a password) and
    the other commands work."""
    monkeypatch.setitem(sys.modules, "pyVmomi", None)
    monkeypatch.delenv("EVCKIT_PASSWORD", raising=False)
    out = tmp_path / "out.json"
    status, _, err = run(capsys, "collect", "--server", "vc.example.invalid", "--user", "u", "-o", str(out))
    assert status == 2 and not out.exists()
    assert _one_error_line(err) == "evckit: error: collecting from vCenter needs pyVmomi: pip install 'evckit[vsphere]'"
    status, _, err = run(capsys, "check", "--server", "vc.example.invalid", "--user", "u")
    assert status == 2 and "pip install 'evckit[vsphere]'" in err
    status, stdout, _ = run(capsys, "check", "--example", "--format", "json")
    assert status == 0 and json.loads(stdout)["vms"]


def test_cli_does_not_import_pyvmomi() -> None:
    """Neither `import evckit` nor building the command line imports pyVmomi."""
    code = ("import sys, evckit, evckit.cli, evckit.vsphere; evckit.cli._parser(); "
            "print(any(m.startswith('pyVmomi') for m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_parse_server() -> None:
    """--server takes HOST, HOST:PORT, [IPv6]:PORT or an https URL; anything else is one clear error."""
    from evckit.vsphere import CollectError, parse_server  # noqa: PLC0415

    assert parse_server("vc01.example.com") == ("vc01.example.com", 443)
    assert parse_server("10.0.0.5:8443") == ("10.0.0.5", 8443)
    assert parse_server("[fd00::5]:9443") == ("fd00::5", 9443)
    assert parse_server("https://vc01.example.com/sdk") == ("vc01.example.com", 443)
    for bad in ("http://vc01", "vc 01", "vc:99999", ""):
        with pytest.raises(CollectError, match="--server"):
            parse_server(bad)


def test_duplicate_names_are_told_apart() -> None:
    """Names that repeat in one vCenter (two datacenters may each have a VM `web`) get their moid."""
    from evckit.vsphere import _unique_names  # noqa: PLC0415

    names = _unique_names({"vm-1": {"name": "web"}, "vm-2": {"name": "web"}, "vm-3": {"name": "db"}})
    assert names == {"vm-1": "web (vm-1)", "vm-2": "web (vm-2)", "vm-3": "db"}


def test_write_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write that fails at the rename leaves the previous file as it was and no temporary file."""
    from evckit import vsphere  # noqa: PLC0415

    out = tmp_path / "estate.json"
    out.write_text("previous\n")

    def fail(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("evckit.vsphere.os.replace", fail)
    with pytest.raises(vsphere.CollectError, match="cannot write .*estate.json: No space left on device"):
        vsphere.write_snapshot({"evckit_snapshot": 1, "vcenters": []}, out)
    assert out.read_text() == "previous\n" and [p.name for p in tmp_path.iterdir()] == ["estate.json"]
    monkeypatch.undo()
    vsphere.write_snapshot({"evckit_snapshot": 1, "vcenters": [{"name": "vc", "hosts": []}]}, out)
    assert json.loads(out.read_text())["vcenters"][0]["name"] == "vc"


def test_check_server_with_snapshots_merges_in_memory(monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """`check --server … --example` merges the collection with the files in memory: no temporary snapshot."""
    import evckit.vsphere as vs  # noqa: PLC0415
    from evckit._resources import data_dir  # noqa: PLC0415

    dr = json.loads((data_dir() / "examples" / "estate.json").read_text())
    dr["vcenters"][0]["name"] = "vc-dr"
    monkeypatch.setattr("evckit.cli._collect", lambda args: dr)
    monkeypatch.setattr(vs, "write_snapshot", lambda *a: pytest.fail("wrote a snapshot file"))
    assert main(["check", "--example", "--server", "vc-dr.example", "--user", "u", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {h["vcenter"] for h in doc["hosts"]} == {"vc-prod", "vc-dr"}
    assert doc["snapshot"].endswith(" + vCenter vc-dr.example")
