"""The whole pipeline, for real: the demo sites on loopback, two Prefect flow runs, one DuckDB file
(the session fixture ``demo_runs`` in conftest.py, shared with the release and report tests)."""

from __future__ import annotations

import csv
import json

from ogi.core.config import DATA_DIR, Settings
from ogi.store.db import connect

DEMO = DATA_DIR / "demo"


def _expected() -> dict:
    return json.loads((DEMO / "expected.json").read_text(encoding="utf-8"))


def test_first_run_loads_reports_and_quarantines_bad_ones(demo_runs):
    home, first, _ = demo_runs
    exp = _expected()
    assert first["parsed"] == exp["parsed_documents"]
    reasons = " | ".join(q["reason"] for q in first["quarantined"])
    assert len(first["quarantined"]) == len(exp["quarantined"]), reasons
    for q in exp["quarantined"]:
        match = [x for x in first["quarantined"] if x["url"].endswith(q["url_suffix"])]
        assert match, f"{q['url_suffix']} not quarantined: {reasons}"
        assert q["reason_contains"] in match[0]["reason"]
    assert first["identity_failures"] >= 1


def test_second_run_changes_nothing(demo_runs):
    home, first, second = demo_runs
    assert second["nothing_changed"], second
    assert second["parsed"] == 0 and second["documents_processed"] == 0
    assert second["totals"] == first["totals"]


def test_facts_match_the_demo_truth(demo_runs):
    home, _, _ = demo_runs
    con = connect(Settings.from_env_with_home(home).db_path, read_only=True)
    try:
        got = {
            (r[0], r[1], r[2], r[3], r[4]): r[5]
            for r in con.execute(
                "SELECT agency_id, report_year, section, row_code, col_code, value FROM report_facts"
            ).fetchall()
        }
    finally:
        con.close()
    truth_dir = DEMO / "truth"
    checked = 0
    for path in sorted(truth_dir.glob("*.csv")):
        meta = path.stem.split("__")  # agency_id__year__...
        agency, year = meta[0], int(meta[1])
        for row in csv.DictReader(path.open(encoding="utf-8")):
            key = (agency, year, row["section"], row["row_code"], row["col_code"])
            if (agency, year) not in {(k[0], k[1]) for k in got}:
                continue
            want = float(row["value"]) if row["value"] not in ("", None) else None
            assert got.get(key) == want, f"{path.name}: {key}"
            checked += 1
    assert checked > 300


def test_readme_query_and_identity_failure_flagged(demo_runs):
    home, _, _ = demo_runs
    readme = (DATA_DIR.parent / "README.md").read_text(encoding="utf-8")
    query = readme.split("```sql", 1)[1].split("```", 1)[0]
    con = connect(Settings.from_env_with_home(home).db_path, read_only=True)
    try:
        rows = con.execute(query).fetchall()
        assert rows and all(r[2] is not None for r in rows)
        failed = con.execute(
            "SELECT agency_id, report_year, identity_id, lhs, rhs FROM checks_labeled WHERE status = 'failed'"
            " AND severity = 'error'"
        ).fetchall()
    finally:
        con.close()
    exp = _expected()["identity_failure"]
    assert any(f[0] == exp["agency_id"] and f[1] == exp["report_year"] for f in failed), failed


def test_panel_lines_up_comparable_variables_across_template_versions(demo_runs):
    home, _, _ = demo_runs
    con = connect(Settings.from_env_with_home(home).db_path, read_only=True)
    try:
        rows = con.execute(
            "SELECT report_year, template_version, value FROM panel WHERE series_id = 'requests_new' "
            "AND agency_id = 'qingwu-xian' AND col_code = 's3c.total' ORDER BY report_year"
        ).fetchall()
        cross = con.execute(
            "SELECT report_year, status, carried_out_previous_year, carried_in_this_year FROM cross_year_checks "
            "WHERE agency_id = 'qingwu-xian' ORDER BY report_year"
        ).fetchall()
    finally:
        con.close()
    assert [(r[0], r[1]) for r in rows] == [(2020, "2019"), (2023, "2021"), (2024, "2021")]
    truth = {}
    for year in (2020, 2023, 2024):
        path = DEMO / "truth" / f"qingwu-xian__{year}__report.csv"
        for row in csv.DictReader(path.open(encoding="utf-8")):
            truth[(year, row["row_code"], row["col_code"])] = row["value"]
    assert [r[2] for r in rows] == [float(truth[(y, "s3.new", "s3c.total")]) for y in (2020, 2023, 2024)]
    # 2024's 上年结转 against 2023's 结转下年度: the view decides, from the two reports' cells.
    (year, status, prev_out, cur_in), = cross
    assert year == 2024
    assert prev_out == float(truth[(2023, "s3.carried_out", "s3c.total")])
    assert cur_in == float(truth[(2024, "s3.carried_in", "s3c.total")])
    assert status == ("passed" if prev_out == cur_in else "failed")


def test_expected_reports_matrix_says_where_each_report_stops(demo_runs, capsys):
    from ogi.cli import main

    home, _, _ = demo_runs
    out = home / "matrix.csv"
    assert main(["--home", str(home), "matrix", "--out", str(out)]) == 0
    rows = {(r["agency_id"], int(r["report_year"])): r for r in csv.DictReader(out.open(encoding="utf-8-sig"))}
    assert rows[("qingwu-xian", 2024)]["loaded"] == "True"
    assert rows[("qingwu-xian", 2021)]["stops_at"] == "no report found"
    assert rows[("shiqiao-zhen", 2023)]["stops_at"].startswith("quarantined:")
    exp = _expected()["identity_failure"]
    assert rows[(exp["agency_id"], exp["report_year"])]["stops_at"].startswith("identity failures")


def test_cli_export_and_sql_on_the_demo_database(demo_runs, capsys, tmp_path):
    from ogi.cli import main

    home, _, _ = demo_runs
    assert main(["--home", str(home), "export", "--year", "2024", "--section", "s3", "--out", str(tmp_path)]) == 0
    facts = list(csv.DictReader((tmp_path / "facts.csv").open(encoding="utf-8-sig")))
    assert facts and {f["report_year"] for f in facts} == {"2024"} and {f["section"] for f in facts} == {"s3"}
    assert all(f["document_url"] and f["page"] != "" or f["media_type"] != "application/pdf" for f in facts)
    capsys.readouterr()
    assert main(["--home", str(home), "sql", "--csv", "SELECT count(*) AS n FROM documents WHERE status = 'loaded'"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == str(_expected()["parsed_documents"])
