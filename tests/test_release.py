"""The release bundle on the demo database: contents, determinism, Frictionless validity, CSV =
Parquet, derived series, corrections, the README's queries on the Parquet files alone."""

from __future__ import annotations

import csv
import hashlib
import json
import math
import re
import shutil
import subprocess
import sys
import zipfile
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from ogi.core.config import Settings
from ogi.store.db import STORAGE_COMPATIBILITY, connect, storage_version
from ogi.store.dictionary import db_objects, load_dictionary
from ogi.store.release import ReleaseOptions, build_release
from ogi.store.release.bundle import NothingMatches
from ogi.store.release.resources import RESOURCES
from tests.conftest import REPO_ROOT


@pytest.fixture(scope="module")
def demo_db(demo_runs):
    home, _, _ = demo_runs
    return Settings.from_env_with_home(home).db_path


@pytest.fixture(scope="module")
def bundles(demo_db, tmp_path_factory):
    """The same database released twice, into two places."""
    out = []
    for name in ("a", "b"):
        con = connect(demo_db, read_only=True)
        try:
            target = tmp_path_factory.mktemp(name) / "bundle"
            build_release(con, target)
            out.append(target)
        finally:
            con.close()
    return out


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_bundle_holds_every_resource_with_manifest_hashes(bundles):
    root = bundles[0]
    manifest = json.loads((root / "MANIFEST.json").read_text(encoding="utf-8"))
    assert manifest["format_version"] == 1 and manifest["run_id"] and manifest["ogi_version"]
    listed = {f["path"]: f for f in manifest["files"]}
    for res in RESOURCES:
        for path in (f"csv/{res.name}.csv", f"parquet/{res.name}.parquet"):
            assert path in listed, path
    for path, f in listed.items():
        data = (root / path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == f["sha256"] and len(data) == f["bytes"], path
        if path.startswith("csv/"):
            assert data.startswith("\ufeff".encode()), f"{path}: no BOM"
            assert len(_csv_rows(root / path)) == f["rows"], path
    assert Path(str(root) + ".zip").is_file()
    readme = (root / "README.md").read_text(encoding="utf-8")
    for words in ("How to cite", "Missing is not zero", "本级政府汇总", "Comparability across templates"):
        assert words in readme


def test_two_releases_are_byte_identical(bundles):
    a, b = bundles
    files_a = sorted(p.relative_to(a) for p in a.rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(b) for p in b.rglob("*") if p.is_file())
    assert files_a == files_b
    for rel in files_a:
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    assert Path(str(a) + ".zip").read_bytes() == Path(str(b) + ".zip").read_bytes()
    with zipfile.ZipFile(str(a) + ".zip") as zf:
        infos = zf.infolist()
        assert [i.filename for i in infos] == sorted(i.filename for i in infos)
        assert {i.date_time for i in infos} == {infos[0].date_time}
        assert {i.external_attr >> 16 for i in infos} == {0o100644}
        name = json.loads((a / "MANIFEST.json").read_text(encoding="utf-8"))["name"]
        assert zf.read(f"{name}/csv/facts.csv") == (a / "csv" / "facts.csv").read_bytes()


def _frictionless(package: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("frictionless")
    return subprocess.run([str(exe), "validate", "--json", str(package.name)], cwd=package.parent,
                          capture_output=True, text=True, timeout=300)


def test_frictionless_validates_the_datapackage_and_catches_a_bad_cell(bundles, tmp_path):
    done = _frictionless(bundles[0] / "datapackage.json")
    report = json.loads(done.stdout)
    assert done.returncode == 0 and report["valid"], done.stdout[-3000:]
    names = {t["name"] for t in report["tasks"]}
    assert names == {r.name for r in RESOURCES}
    # the negative control: a type error in one cell (hashes removed so the cell is what fails)
    broken = tmp_path / "broken"
    shutil.copytree(bundles[0], broken)
    pkg = json.loads((broken / "datapackage.json").read_text(encoding="utf-8"))
    for r in pkg["resources"]:
        r.pop("hash"), r.pop("bytes")
    (broken / "datapackage.json").write_text(json.dumps(pkg, ensure_ascii=False), encoding="utf-8")
    facts = (broken / "csv" / "facts.csv").read_text(encoding="utf-8-sig").splitlines()
    cells = facts[1].split(",")
    cells[4] = "twenty-twenty"  # report_year
    facts[1] = ",".join(cells)
    (broken / "csv" / "facts.csv").write_text("\n".join(facts) + "\n", encoding="utf-8-sig")
    bad = json.loads(_frictionless(broken / "datapackage.json").stdout)
    assert not bad["valid"]
    assert any(e["type"] == "type-error" for t in bad["tasks"] for e in t["errors"])


def _render(v) -> str:
    """The CSV rendering rules, restated: integral numbers without '.0', ISO timestamps."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return str(v)


def test_csv_and_parquet_agree_row_for_row(bundles):
    root = bundles[0]
    con = duckdb.connect()
    for res in RESOURCES:
        rows = _csv_rows(root / "csv" / f"{res.name}.csv")
        pq = con.execute(f"SELECT * FROM read_parquet('{root / 'parquet' / (res.name + '.parquet')}')")
        cols = [d[0] for d in pq.description]
        pq_rows = pq.fetchall()
        assert len(rows) == len(pq_rows), res.name
        assert list(rows[0].keys()) == cols if rows else True
        for i, (c_row, p_row) in enumerate(zip(rows, pq_rows, strict=True)):
            assert [c_row[c] for c in cols] == [_render(v) for v in p_row], f"{res.name} row {i + 1}"


def test_integers_are_written_as_integers(bundles):
    text = (bundles[0] / "csv" / "facts.csv").read_text(encoding="utf-8-sig")
    values = [r["value"] for r in _csv_rows(bundles[0] / "csv" / "facts.csv")]
    assert values and not any(v.endswith(".0") for v in values)
    assert ",0.0," not in text


def test_facts_carry_scope_template_confidence_and_provenance(bundles):
    facts = _csv_rows(bundles[0] / "csv" / "facts.csv")
    for col in ("scope", "template_version", "confidence", "sha256", "document_url", "page", "row_index",
                "extractor_version", "value_corrected"):
        assert col in facts[0], col
    assert {f["scope"] for f in facts if f["agency_id"] == "yunxi-shi-zrzy"} == {"本机关"}
    docs = _csv_rows(bundles[0] / "csv" / "documents.csv")
    selected = {d["sha256"] for d in docs if d["selected"] == "true"}
    assert {f["sha256"] for f in facts} == selected
    # one document per agency-year, and the checks are those of the same documents
    assert len(selected) == len({(d["agency_id"], d["report_year"]) for d in docs if d["selected"] == "true"})
    checks = _csv_rows(bundles[0] / "csv" / "checks.csv")
    assert {c["sha256"] for c in checks} == selected
    assert sum(c["status"] == "failed" and c["severity"] == "error" for c in checks) == 2


def test_derived_series_follow_their_formulas(bundles):
    root = bundles[0]
    facts = pd.read_parquet(root / "parquet" / "facts.parquet")
    wide = pd.read_parquet(root / "parquet" / "panel_wide.parquet")
    total = facts[facts["col_code"] == "s3c.total"]
    checked = 0
    for _, r in wide.iterrows():
        f = total[total["sha256"] == r["sha256"]].set_index("row_code")["value_corrected"]
        leaves = f[f.index.str.startswith("s3.refused.")]
        assert len(leaves) == 8
        assert r["outcome_refused"] == leaves.sum()
        assert r["outcome_unable"] == f[f.index.str.startswith("s3.unable.")].sum()
        assert r["outcome_not_processed"] == f[f.index.str.startswith("s3.not_processed.")].sum()
        if r["template_version"] == "2021":  # the three （六） sub-rows summed
            assert r["outcome_other"] == f[["s3.other.no_correction", "s3.other.unpaid_fee", "s3.other.other"]].sum()
        else:
            assert r["outcome_other"] == f["s3.other"]
        assert r["grant_rate"] == pytest.approx((f["s3.granted"] + f["s3.partial"]) / f["s3.total"])
        assert r["refusal_share"] == pytest.approx(leaves.sum() / f["s3.total"])
        s4 = facts[(facts["sha256"] == r["sha256"]) & (facts["row_code"] == "s4.cases")].set_index("col_code")["value"]
        decided = s4["s4c.review.upheld"] + s4["s4c.review.corrected"] + s4["s4c.review.other"]
        if decided:
            assert r["correction_rate_review"] == pytest.approx(s4["s4c.review.corrected"] / decided)
        else:
            assert pd.isna(r["correction_rate_review"])
        checked += 1
    assert checked == len(wide) == 6
    crosswalk = pd.read_parquet(root / "parquet" / "crosswalk.parquet")
    derived = crosswalk[crosswalk["derived"].notna()]
    assert {"outcome_refused", "grant_rate", "refusal_share", "correction_rate_review"} <= set(derived["series_id"])
    assert derived["formula"].notna().all()
    panel = pd.read_parquet(root / "parquet" / "panel.parquet")
    assert panel.loc[panel["series_id"] == "grant_rate", "derived"].all()
    assert not panel.loc[panel["series_id"] == "requests_new", "derived"].any()


def test_reviewed_corrections_are_a_layer_beside_the_facts(bundles):
    root = bundles[0]
    facts = pd.read_parquet(root / "parquet" / "facts.parquet")
    cell = facts[(facts["agency_id"] == "yunxi-shi-zrzy") & (facts["report_year"] == 2023)
                 & (facts["row_code"] == "s3.new") & (facts["col_code"] == "s3c.total")].iloc[0]
    assert (cell["value"], cell["value_corrected"], bool(cell["corrected"])) == (78, 77, True)
    wide = pd.read_parquet(root / "parquet" / "panel_wide.parquet").set_index(["agency_id", "report_year"])
    assert wide.loc[("yunxi-shi-zrzy", 2023), "requests_new"] == 77
    corr = pd.read_parquet(root / "parquet" / "corrections.parquet")
    assert sorted(corr["value_extracted"]) == [67, 78] and sorted(corr["corrected_value"]) == [66, 77]


def test_codebook_comparability_is_filled_in_a_stable_order(bundles):
    rows = _csv_rows(bundles[0] / "csv" / "codebook.csv")
    assert rows and all(r["comparability"] for r in rows)
    levels = {"exact", "approximate", "not_comparable"}
    assert all(set(r["comparability"].split("|")) <= levels for r in rows)
    by_code = {r["code"]: r for r in rows}
    assert by_code["s3.new"]["comparability"].startswith("approximate|exact") or "exact" in by_code["s3.new"][
        "comparability"]
    assert by_code["s3.results"]["comparability"]  # a header: from its children
    key = [(r["section"], r["axis"] != "row", int(r["order"] or 0), r["code"]) for r in rows]
    assert key == sorted(key)


def test_agencies_have_pinyin(bundles):
    rows = {r["agency_id"]: r for r in _csv_rows(bundles[0] / "csv" / "agencies.csv")}
    assert rows["qingwu-xian"]["name_pinyin"] == "qing wu xian ren min zheng fu"
    assert rows["shiqiao-zhen"]["parent_id"] == "qingwu-xian"


def _blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.S)


def test_readme_queries_run_on_the_parquet_files_alone(bundles, tmp_path, monkeypatch):
    alone = tmp_path / "parquet-only"
    shutil.copytree(bundles[0] / "parquet", alone / "parquet")
    readme = (bundles[0] / "README.md").read_text(encoding="utf-8")
    monkeypatch.chdir(alone)
    per_report, by_year = (duckdb.connect().execute(q).df() for q in _blocks(readme, "sql"))
    assert len(per_report) == 6 and per_report["share_refused"].notna().all()
    assert list(by_year["report_year"]) == [2020, 2023, 2024]
    scope: dict = {}
    exec(_blocks(readme, "python")[0], scope)  # noqa: S102 - the README's own example
    pandas_by_year = scope["refusal_share"]
    assert list(pandas_by_year.index) == [2020, 2023, 2024]
    assert list(pandas_by_year.round(12)) == list(by_year["refusal_share"].round(12))
    assert scope["per_report"]["share_refused"].tolist() == per_report["share_refused"].tolist()


def test_repo_readme_release_section_queries_run_on_parquet(bundles, tmp_path, monkeypatch):
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## For researchers: the release bundle", 1)[1].split("\n## ", 1)[0]
    queries = _blocks(section, "sql")
    assert queries
    shutil.copytree(bundles[0] / "parquet", tmp_path / "parquet")
    monkeypatch.chdir(tmp_path)
    for q in queries:
        assert len(duckdb.connect().execute(q).fetchall()) > 0


def test_a_filter_that_matches_nothing_writes_nothing(demo_db, tmp_path):
    con = connect(demo_db, read_only=True)
    try:
        with pytest.raises(NothingMatches, match="1999"):
            build_release(con, tmp_path / "none", ReleaseOptions(years=(1999,)))
        with pytest.raises(NothingMatches, match="nobody"):
            build_release(con, tmp_path / "none", ReleaseOptions(agencies=("nobody",)))
        assert not (tmp_path / "none").exists() and not list(tmp_path.iterdir())
        one = build_release(con, tmp_path / "one", ReleaseOptions(agencies=("青梧县人民政府",), sections=("s4",)))
        assert {f["path"]: f["rows"] for f in one["files"]}["csv/facts.csv"] == 3 * 15
        with pytest.raises(FileExistsError, match="--force"):
            build_release(con, tmp_path / "one")
        build_release(con, tmp_path / "one", ReleaseOptions(force=True))
        assert len(_csv_rows(tmp_path / "one" / "csv" / "facts.csv")) > 45
    finally:
        con.close()


def test_every_table_view_and_column_has_a_comment(demo_db, bundles):
    con = connect(demo_db, read_only=True)
    try:
        objects = db_objects(con)
        uncommented = [r for r in con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() WHERE database_name = current_database() "
            "AND schema_name = 'main' AND (comment IS NULL OR comment = '')").fetchall()]
        tables = con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
                             "AND schema_name = 'main' AND comment IS NULL").fetchall()
        views = con.execute("SELECT view_name FROM duckdb_views() WHERE database_name = current_database() "
                            "AND schema_name = 'main' AND NOT internal AND comment IS NULL").fetchall()
        assert storage_version(con).startswith(STORAGE_COMPATIBILITY)
    finally:
        con.close()
    assert not uncommented and not tables and not views, (uncommented, tables, views)
    # and the dictionary names nothing that does not exist (no stale second copy)
    d = load_dictionary()
    pkg = json.loads((bundles[0] / "datapackage.json").read_text(encoding="utf-8"))
    release_cols = {f"release.{r['name']}": [f["name"] for f in r["schema"]["fields"]] for r in pkg["resources"]}
    assert all(f.get("description") for r in pkg["resources"] for f in r["schema"]["fields"])
    columns_anywhere = {c for _k, cols in objects.values() for c in cols}
    resources = {f"release.{r.name}" for r in RESOURCES} | {"release"}
    for e in d.entries:
        if e.object == "*":
            assert e.column in columns_anywhere or any(
                e.column in cols for cols in release_cols.values()), f"dictionary: * {e.column} unused"
        elif e.object.startswith("release"):
            assert e.object in resources, e.object
            if e.column:
                assert e.column in release_cols[e.object], (e.object, e.column)
        else:
            assert e.object in objects, e.object
            assert not e.column or e.column in objects[e.object][1], (e.object, e.column)


def test_the_database_file_opens_in_duckdb_1x(demo_db, tmp_path):
    """The file is written in the v1.0 storage format; with a DuckDB 1.x Python at hand
    (OGI_DUCKDB1_PYTHON), open it there for real and read every view."""
    import os

    header = demo_db.read_bytes()[:20]
    assert header[8:12] == b"DUCK" and int.from_bytes(header[12:20], "little") == 64  # v1.0 storage
    python = os.environ.get("OGI_DUCKDB1_PYTHON")
    if not python:
        pytest.skip("OGI_DUCKDB1_PYTHON (a Python with duckdb 1.x) is not set: only the file header was checked")
    copy = tmp_path / "copy.duckdb"
    shutil.copy(demo_db, copy)
    script = ("import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True); assert duckdb.__version__[0] == '1';"
              "views = [r[0] for r in c.execute(\"SELECT view_name FROM duckdb_views() WHERE NOT internal\").fetchall()];"
              "[c.execute(f'SELECT count(*) FROM {v}').fetchall() for v in views];"
              "print(duckdb.__version__, len(views), c.execute('SELECT count(*) FROM panel').fetchall()[0][0])")
    done = subprocess.run([python, "-c", script, str(copy)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.split()[2]) > 0
