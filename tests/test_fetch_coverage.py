"""The coverage matrix and the run-to-run changes, on a small DuckDB built from store/schema.sql."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from ogi.store.coverage import changes_since_last_run, coverage_matrix

SCHEMA = Path(__file__).resolve().parent.parent / "store" / "schema.sql"
SHA = {k: (k * 64)[:64] for k in "abcdef"}


def _insert(con, table: str, rows: list[dict]) -> None:
    for r in rows:
        cols = ", ".join(r)
        con.execute(f"INSERT INTO {table} ({cols}) VALUES ({', '.join('?' * len(r))})", list(r.values()))


@pytest.fixture
def con(tmp_path):
    con = duckdb.connect(str(tmp_path / "t.duckdb"))
    con.execute(SCHEMA.read_text(encoding="utf-8"))
    _insert(con, "agencies", [
        {"agency_id": "gov-A", "name": "甲县人民政府", "level": "county", "in_registry": True},
        {"agency_id": "dept-D", "name": "甲县财政局", "level": "county", "in_registry": True},
        {"agency_id": "gov-B", "name": "乙县人民政府", "level": "county", "in_registry": False},
        {"agency_id": "gov-C", "name": "丙县人民政府", "level": "county", "in_registry": True},
    ])
    _insert(con, "expected_reports", [
        {"agency_id": a, "report_year": y} for a, y in [("gov-A", 2023), ("gov-A", 2024), ("gov-B", 2024), ("gov-C", 2024)]
    ])
    doc = {"media_type": "text/html", "fetched_at": "2025-02-01 00:00:00"}
    _insert(con, "documents", [
        {**doc, "sha256": SHA["a"], "url": "u/a24", "agency_id": "gov-A", "report_year": 2024, "status": "loaded"},
        {**doc, "sha256": SHA["b"], "url": "u/a23", "agency_id": "gov-A", "report_year": 2023,
         "status": "quarantined", "quarantine_reason": "PDF cannot be opened"},
        {**doc, "sha256": SHA["c"], "url": "u/d24", "agency_id": "dept-D", "report_year": 2024, "status": "loaded"},
    ])
    fact = {"section": "s3", "row_code": "s3.new", "col_code": "s3c.total", "value": 1.0, "value_status": "number"}
    _insert(con, "facts", [
        {**fact, "sha256": SHA["a"], "agency_id": "gov-A", "report_year": 2024},
        {**fact, "sha256": SHA["c"], "agency_id": "dept-D", "report_year": 2024},
    ])
    _insert(con, "checks", [
        {"sha256": SHA["c"], "identity_id": f"s3.balance[{c}]", "status": "failed", "severity": "error"}
        for c in ("s3c.total", "s3c.natural_person")
    ] + [{"sha256": SHA["a"], "identity_id": "prose", "status": "failed", "severity": "warning"}])
    _insert(con, "runs", [
        {"run_id": "r1", "flow": "nightly", "started_at": "2025-02-01 00:00:00", "status": "completed",
         "summary_json": json.dumps({"broken_sources": []})},
        {"run_id": "r2", "flow": "nightly", "started_at": "2025-02-02 00:00:00", "status": "completed",
         "summary_json": json.dumps({"broken_sources": [{"agency_id": "gov-C", "reason": "listing not fetched: http 404"}]})},
    ])
    yield con
    con.close()


def _row(df, agency, year) -> dict:
    rows = df[(df.agency_id == agency) & (df.report_year == year)].to_dict("records")
    assert len(rows) == 1, (agency, year)
    return rows[0]


def test_matrix_stages_and_reasons(con):
    df = coverage_matrix(con, [2023, 2024])
    stages = ["expected", "found", "fetched", "parsed", "validated", "loaded"]
    full = _row(df, "gov-A", 2024)
    assert [full[s] for s in stages] == [True] * 6 and full["stops_at"] is None  # a warning is not a failure
    q = _row(df, "gov-A", 2023)
    assert [q[s] for s in stages] == [True, True, True, False, False, False]
    assert q["stops_at"] == "quarantined: PDF cannot be opened"
    d = _row(df, "dept-D", 2024)  # a registry department: not expected, but covered
    assert [d[s] for s in stages] == [False, True, True, True, False, True]
    assert d["stops_at"] == "identity failures: 2" and d["identity_failures"] == 2 and d["facts"] == 1
    assert _row(df, "dept-D", 2023)["stops_at"] == "no report found"
    b = _row(df, "gov-B", 2024)
    assert b["expected"] and not b["found"] and b["stops_at"] == "no report found" and not b["in_registry"]
    c = _row(df, "gov-C", 2024)
    assert c["stops_at"] == "no report found (source broken: listing not fetched: http 404)"
    assert len(df) == 2 * 3 + 1  # registry agencies × 2 years + gov-B's expected year


def test_fetch_errors_are_placed_when_fetches_carry_the_year(con):
    if "report_year" not in {r[0] for r in con.execute("DESCRIBE fetches").fetchall()}:
        con.execute("ALTER TABLE fetches ADD COLUMN report_year INTEGER")
    _insert(con, "fetches", [{"run_id": "r2", "url": "u/c24", "agency_id": "gov-C", "fetched_at": "2025-02-02 00:00:00",
                              "outcome": "error", "error": "timeout: ReadTimeout (after 3 attempts)", "report_year": 2024}])
    c = _row(coverage_matrix(con, [2024]), "gov-C", 2024)
    assert c["found"] and not c["fetched"] and c["stops_at"] == "fetch error: timeout: ReadTimeout (after 3 attempts)"


def test_default_years_come_from_expected_and_documents(con):
    assert sorted(coverage_matrix(con)["report_year"].unique().tolist()) == [2023, 2024]


def test_changes_since_last_run(con):
    base = {"fetched_at": "2025-02-01 00:00:00"}
    _insert(con, "documents", [
        {"sha256": SHA["d"], "url": "u/a24", "agency_id": "gov-A", "report_year": 2024, "title": "甲县2024年报",
         "status": "loaded", "supersedes": SHA["a"]},
        {"sha256": SHA["e"], "url": "u/c24", "agency_id": "gov-C", "report_year": 2024, "title": "丙县2024年报",
         "status": "loaded"},
        {"sha256": SHA["f"], "url": "u/b24", "agency_id": "gov-B", "report_year": 2024, "status": "loaded"},
    ])
    _insert(con, "fetches", [
        {**base, "run_id": "r1", "url": "u/a24", "agency_id": "gov-A", "outcome": "new", "sha256": SHA["a"]},
        {**base, "run_id": "r1", "url": "u/d24", "agency_id": "dept-D", "outcome": "new", "sha256": SHA["c"]},
        {**base, "run_id": "r1", "url": "u/b24", "agency_id": "gov-B", "outcome": "new", "sha256": SHA["f"]},
        {**base, "run_id": "r2", "url": "u/a24", "agency_id": "gov-A", "outcome": "revised", "sha256": SHA["d"]},
        {**base, "run_id": "r2", "url": "u/d24", "agency_id": "dept-D", "outcome": "not_modified", "sha256": SHA["c"]},
        {**base, "run_id": "r2", "url": "u/b24", "agency_id": "gov-B", "outcome": "error", "error": "http 500 (after 3 attempts)"},
        {**base, "run_id": "r2", "url": "u/c24", "agency_id": "gov-C", "outcome": "new", "sha256": SHA["e"]},
    ])
    ch = changes_since_last_run(con)
    assert ch["run_id"] == "r2" and ch["previous_run_id"] == "r1"
    assert ch["new_reports"] == [{"url": "u/c24", "agency_id": "gov-C", "report_year": 2024, "title": "丙县2024年报",
                                  "sha256": SHA["e"]}]
    assert ch["revised_reports"] == [{"url": "u/a24", "agency_id": "gov-A", "report_year": 2024, "title": "甲县2024年报",
                                      "sha256": SHA["d"], "supersedes": SHA["a"]}]
    assert ch["broken_sources"] == [{"agency_id": "gov-B", "reason": "http 500 (after 3 attempts)"}]


def test_changes_on_an_empty_database(con):
    assert changes_since_last_run(con) == {"run_id": None, "previous_run_id": None, "new_reports": [],
                                           "revised_reports": [], "broken_sources": []}
