"""The built wheel, installed into a fresh venv and run outside the checkout, works as a user's would.

Nothing of the checkout may be needed: the reference data and SQL travel inside the wheel, the
default home is never site-packages, and only the ``ogi`` package is installed at the top level
(a user's own ``transform.py`` or ``flows.py`` in the working directory cannot shadow ogi's).
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, shared_path

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("wheel")
    dist = root / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--disable-pip-version-check",
         "-w", str(dist), str(REPO_ROOT)],
        check=True, timeout=600,
    )
    wheel = next(dist.glob("ogi-*.whl"))
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
         "-c", str(REPO_ROOT / "constraints.txt"), str(wheel)],
        check=True, timeout=900,
    )
    work = root / "work"  # outside the checkout, with files named like ogi's stages
    work.mkdir()
    for name in ("transform.py", "flows.py", "extract.py", "store.py"):
        (work / name).write_text("raise ImportError('the user’s own module was imported')\n", encoding="utf-8")
    return {"wheel": wheel, "venv": venv, "work": work, "root": root}


def _run(installed: dict[str, Path], *args: str, env: dict[str, str] | None = None, timeout: int = 300):
    bin_dir = installed["venv"] / "bin"
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("OGI_", "PREFECT_", "PYTHON"))}
    full_env.update({"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
                     "PREFECT_SERVER_ANALYTICS_ENABLED": "false", **(env or {})})
    return subprocess.run(list(args), cwd=installed["work"], env=full_env, capture_output=True, text=True,
                          timeout=timeout)


def test_wheel_holds_one_top_level_package_with_its_data(installed):
    names = zipfile.ZipFile(installed["wheel"]).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))}
    assert top == {"ogi"}
    for needed in ("ogi/data/codebook.csv", "ogi/data/identities.csv", "ogi/data/registry/agencies.csv",
                   "ogi/data/demo/sites.csv", "ogi/store/schema.sql", "ogi/store/views.sql",
                   "ogi/extract/pdf_tables.py", "ogi/transform/knowledge/codebook.py"):
        assert needed in names, needed
    assert not any(n.startswith(("ogi/tests", "ogi/bench", "tests/", "bench/")) for n in names)


def test_installed_version_and_module_entry_point(installed):
    res = _run(installed, "ogi", "--version")
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("ogi ") and "extractor" in res.stdout and "transform" in res.stdout
    py = str(installed["venv"] / "bin" / "python")
    assert _run(installed, py, "-m", "ogi", "--version").stdout == res.stdout
    # imported from site-packages, not from the working directory's transform.py / flows.py
    probe = _run(installed, py, "-c", "import ogi.flows.process, ogi.transform.parse, ogi; print(ogi.__file__)")
    assert probe.returncode == 0, probe.stderr
    assert "site-packages" in probe.stdout


def test_default_home_is_per_user_never_site_packages(installed, tmp_path):
    py = str(installed["venv"] / "bin" / "python")
    res = _run(installed, py, "-c", "from ogi.core.config import Settings; print(Settings().home)",
               env={"HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "xdg")})
    assert res.returncode == 0, res.stderr
    assert Path(res.stdout.strip()) == tmp_path / "xdg" / "ogi"
    res = _run(installed, py, "-c", "from ogi.core.config import Settings; print(Settings().home)",
               env={"OGI_HOME": str(tmp_path / "mine")})
    assert Path(res.stdout.strip()) == tmp_path / "mine"


def test_installed_extract_reads_a_real_report(installed):
    sample = shared_path("samples", "2024_hongze-qu.pdf")
    res = _run(installed, "ogi", "extract", str(sample))
    assert res.returncode == 0, res.stderr
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert len(rows) == 186
    assert "template 2021" in res.stderr


def test_installed_demo_runs_end_to_end(installed):
    home = installed["root"] / "home"
    summary_json = installed["root"] / "summary.json"
    res = _run(installed, "ogi", "demo", "--json", str(summary_json),
               env={"OGI_HOME": str(home), "PREFECT_HOME": str(installed["root"] / "prefect"),
                    "OGI_DEMO_PORT": "0"}, timeout=600)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    summary = json.loads(summary_json.read_text(encoding="utf-8"))
    assert summary["parsed"] > 0 and summary["facts_loaded"] > 1000
    assert (home / "ogi.duckdb").is_file()
