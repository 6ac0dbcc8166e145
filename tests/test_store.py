"""The loader on a real DuckDB file: idempotent loads, per-document replacement, quarantine, export."""

from __future__ import annotations

import csv

import pytest

from ogi.core.models import CheckResult, Fact, ParsedReport, Unplaced
from ogi.flows.reference import reference_rows
from ogi.store import loader
from ogi.store.db import connect, create_views, replace_table
from ogi.store.export import ExportFilter, export_all


def _fact(row: str, col: str, value: float | None, status: str = "number") -> Fact:
    return Fact(section=row.split(".")[0], row_code=row, col_code=col, value=value, value_status=status,
                unit="件", raw_text="" if value is None else str(int(value)), page=3, table_index=2,
                row_index=4, col_index=9)


def _report(sha: str, new: float, granted: float) -> dict:
    rep = ParsedReport(
        sha256=sha, template_version="2021", report_year=2024,
        facts=[_fact("s3.new", "s3c.total", new), _fact("s3.granted", "s3c.total", granted),
               _fact("s3.total", "s3c.total", new), _fact("s3.refused.state_secret", "s3c.total", None, "blank")],
        checks=[CheckResult("s3.balance[s3c.total]", "s3", "failed", new, new + 1, "一+二 = 三(七)+四")],
        unplaced=[Unplaced("s3", f"{sha}-raw", "其它", "", 2, 0, 9, 1, "row label not matched")],
    )
    return {"status": "parsed", "report": rep.to_dict(), "extractor_version": "1", "transform_version": "1"}


def _record(sha: str, agency: str = "a1") -> dict:
    return {"sha256": sha, "url": f"http://127.0.0.1/{sha}.pdf", "agency_id": agency, "report_year": 2024,
            "media_type": "application/pdf"}


@pytest.fixture
def con(tmp_path):
    con = connect(tmp_path / "ogi.duckdb")
    loader.upsert_agencies(con, [{"agency_id": "a1", "name": "甲县人民政府", "level": "county"},
                                 {"agency_id": "a2", "name": "乙市人民政府", "level": "prefecture"}])
    for table, rows in reference_rows().items():
        replace_table(con, table, rows)
    create_views(con)
    yield con
    con.close()


def _dump(con) -> list:
    return con.execute("SELECT * EXCLUDE (run_id) FROM facts ORDER BY ALL").fetchall()


def test_loading_the_same_document_twice_changes_nothing(con):
    assert loader.load_document(con, _record("aaa"), _report("aaa", 10, 4), "run1") == "loaded"
    before = (_dump(con), con.execute("SELECT * EXCLUDE (last_run_id) FROM documents").fetchall())
    assert loader.load_document(con, _record("aaa"), _report("aaa", 10, 4), "run2") == "unchanged"
    after = (_dump(con), con.execute("SELECT * EXCLUDE (last_run_id) FROM documents").fetchall())
    assert before == after
    assert len(before[0]) == 4


def test_reextracted_document_replaces_its_own_facts_only(con):
    loader.load_document(con, _record("aaa"), _report("aaa", 10, 4), "run1")
    loader.load_document(con, _record("bbb", "a2"), _report("bbb", 7, 7), "run1")
    newer = _report("aaa", 11, 5)
    newer["extractor_version"] = "2"
    assert loader.load_document(con, _record("aaa"), newer, "run2") == "replaced"
    vals = dict(con.execute(
        "SELECT sha256 || ':' || row_code, value FROM facts WHERE col_code = 's3c.total' AND value IS NOT NULL"
    ).fetchall())
    assert vals == {"aaa:s3.new": 11, "aaa:s3.granted": 5, "aaa:s3.total": 11,
                    "bbb:s3.new": 7, "bbb:s3.granted": 7, "bbb:s3.total": 7}
    assert con.execute("SELECT count(*) FROM checks WHERE sha256 = 'aaa'").fetchone()[0] == 1


def test_quarantine_keeps_reason_and_blank_is_not_zero(con):
    bad = {"status": "quarantined", "reason": "broken.pdf: PDF is corrupt", "extractor_version": "1",
           "transform_version": "1"}
    assert loader.load_document(con, _record("ccc"), bad, "run1") == "quarantined"
    row = con.execute("SELECT status, quarantine_reason FROM documents WHERE sha256 = 'ccc'").fetchone()
    assert row == ("quarantined", "broken.pdf: PDF is corrupt")
    loader.load_document(con, _record("aaa"), _report("aaa", 10, 4), "run1")
    blank = con.execute("SELECT value, value_status FROM facts WHERE row_code = 's3.refused.state_secret'").fetchone()
    assert blank == (None, "blank")


def test_export_writes_bom_csv_with_labels_and_filters(con, tmp_path):
    loader.load_document(con, _record("aaa"), _report("aaa", 10, 4), "run1")
    loader.load_document(con, _record("bbb", "a2"), _report("bbb", 7, 7), "run1")
    paths = export_all(con, tmp_path / "out", ExportFilter(agencies=("甲县人民政府",)))
    raw = paths["facts"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(paths["facts"].open(encoding="utf-8-sig")))
    assert {r["agency_id"] for r in rows} == {"a1"}
    new = next(r for r in rows if r["row_code"] == "s3.new")
    assert new["row_path"] == "本年新收政府信息公开申请数量" and new["col_path"] == "总计"
    assert float(new["value"]) == 10
    checks = list(csv.DictReader(paths["checks"].open(encoding="utf-8-sig")))
    assert [c["status"] for c in checks] == ["failed"]
    unplaced = list(csv.DictReader(paths["unplaced"].open(encoding="utf-8-sig")))
    assert [(u["agency_id"], u["raw_text"]) for u in unplaced] == [("a1", "aaa-raw")]  # agency filter applies
    assert "agency_name" not in unplaced[0]
    # a filter that matches no fact says so and writes nothing (no empty files taken for data)
    from ogi.store.export import NothingMatches

    with pytest.raises(NothingMatches, match="--section s2"):
        export_all(con, tmp_path / "s2", ExportFilter(sections=("s2",)))
    assert not (tmp_path / "s2").exists()
    codebook = list(csv.DictReader(paths["codebook"].open(encoding="utf-8-sig")))
    assert any(c["code"] == "s3.refused.state_secret" and c["label_path"] == "不予公开/属于国家秘密" for c in codebook)


def test_failed_reextraction_keeps_the_facts_already_stored(con):
    loader.load_document(con, _record("aaa"), _report("aaa", 10, 4), "run1")
    before = _dump(con)
    failed = {"status": "quarantined", "reason": "a.pdf: internal error", "extractor_version": "2",
              "transform_version": "1"}
    assert loader.load_document(con, _record("aaa"), failed, "run2") == "kept"
    assert _dump(con) == before
    status, reason, ev = con.execute(
        "SELECT status, quarantine_reason, extractor_version FROM documents WHERE sha256 = 'aaa'").fetchone()
    assert status == "loaded" and "re-extraction failed" in reason and ev == "2"
