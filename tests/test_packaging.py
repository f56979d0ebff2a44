"""The built wheel carries the tables and works outside the repository, in a fresh virtual environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_installs_and_runs_outside_the_repo(tmp_path: Path) -> None:
    """Build the wheel, install it into a new venv elsewhere, run `evckit modes` and `check --example`."""
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
                   check=True, cwd=tmp_path)
    wheels = list(dist.glob("evckit-*.whl"))
    assert len(wheels) == 1
    with zipfile.ZipFile(wheels[0]) as whl:  # the HTML report's template, style and script ship too
        assert {"evckit/html/report.html.j2", "evckit/html/report.css", "evckit/html/report.js"} <= set(whl.namelist())
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    bindir = env_dir / ("Scripts" if os.name == "nt" else "bin")
    subprocess.run([str(bindir / "python"), "-m", "pip", "install", "-q", str(wheels[0])], check=True, cwd=tmp_path)
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # only the installed wheel may be found
    out = subprocess.run([str(bindir / "evckit"), "modes", "--format", "json"], capture_output=True, text=True,
                         check=True, cwd=work, env=env).stdout
    modes = json.loads(out)["modes"]
    assert {m["key"] for m in modes} >= {"intel-sapphirerapids", "amd-zen4"}
    out = subprocess.run([str(bindir / "evckit"), "check", "--example", "--format", "json"], capture_output=True,
                         text=True, check=True, cwd=work, env=env).stdout
    assert json.loads(out)["clusters"]
    # Without the html extra (no Jinja2 here) the HTML report says what to install, in one line.
    html = subprocess.run([str(bindir / "evckit"), "check", "--example", "--format", "html"], capture_output=True,
                          text=True, cwd=work, env=env, check=False)
    assert html.returncode == 2 and html.stdout == "" and "pip install 'evckit[html]'" in html.stderr
    # The tables come from the installed package, not from this checkout.
    where = subprocess.run([str(bindir / "python"), "-c", "import evckit._resources as r; print(r.data_dir())"],
                           capture_output=True, text=True, check=True, cwd=work, env=env).stdout
    assert str(ROOT) not in where and "site-packages" in where
