"""Structural checks (transform/checks/structure.py) on real reports: the shared samples and the demo
reports come out complete with no new failed check; the same demo report with table 四 cut out, a
row of 三 deleted, or two rows of 三 swapped names exactly what is short or out of place."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from lxml import html

from ogi.core.models import CheckStatus, ParsedReport
from ogi.extract import extract_document
from ogi.store import loader
from ogi.store.db import connect
from ogi.transform.arbitrate import best_report
from ogi.transform.checks.structure import MISREGISTERED_CONFIDENCE, template_cells
from ogi.transform.knowledge.identities import check_report

from .conftest import shared_path

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo"
QINGWU_2023 = DEMO / "qingwu-xian/gkml/ndbg/202401/t20240117_23101.html"  # 2021 format, HTML tables
QINGWU_2020 = DEMO / "qingwu-xian/gkml/ndbg/202101/t20210123_20101.html"  # 2019 format
QINGWU_2024_PDF = DEMO / "qingwu-xian/gkml/ndbg/202501/P02025012724101.pdf"  # 三 crosses a page break
STRUCTURAL = ("completeness.", "registration.")


def _report(data: bytes, name: str) -> ParsedReport:
    doc = extract_document(data, sha256=hashlib.sha256(data).hexdigest(), filename=name)
    return best_report(doc)


def _failed(report: ParsedReport) -> set[str]:
    return {c.identity_id for c in report.checks if c.status == CheckStatus.FAILED and c.severity == "error"}


def _failed_structural(report: ParsedReport) -> set[str]:
    return {i for i in _failed(report) if i.startswith(STRUCTURAL)}


@pytest.mark.parametrize("path", [
    pytest.param(("shared", "2024_hongze-qu.pdf"), id="hongze-pdf-2021"),
    pytest.param(("shared", "2019_shanghai-shi-bgt.js"), id="shanghai-js-2019"),
    pytest.param(QINGWU_2023, id="demo-html-2021"),
    pytest.param(QINGWU_2020, id="demo-html-2019"),
    pytest.param(QINGWU_2024_PDF, id="demo-pdf-2021"),
])
def test_good_reports_are_complete_with_no_new_failed_check(path):
    p = shared_path("samples", path[1]) if isinstance(path, tuple) else path
    report = _report(p.read_bytes(), p.name)
    assert report.sections == "s2:complete s3:complete s4:complete"
    assert not _failed_structural(report)
    # the structural checks were run (one per section and row), not skipped
    ids = {c.identity_id for c in report.checks}
    assert {"completeness.s2", "completeness.s3", "completeness.s4", "completeness.s3.carried_out",
            "registration.s3"} <= ids
    # the failed errors are exactly the identities' (nothing new), and no confidence was lowered
    identities = check_report(report.facts, report.template_version, unplaced=report.unplaced)
    assert _failed(report) == {c.identity_id for c in identities
                               if c.status == CheckStatus.FAILED and c.severity == "error"}
    assert all(f.confidence > MISREGISTERED_CONFIDENCE for f in report.facts)


def _html_tables(path: Path) -> tuple[html.HtmlElement, list[html.HtmlElement]]:
    root = html.fromstring(path.read_bytes())
    return root, root.findall(".//table")


def _row_with(table: html.HtmlElement, text: str) -> html.HtmlElement:
    return next(tr for tr in table.iter("tr") if text in tr.text_content())


def _bytes(root: html.HtmlElement) -> bytes:
    return html.tostring(root, encoding="utf-8")


def test_report_without_table_four_names_section_four_missing():
    root, tables = _html_tables(QINGWU_2023)
    assert len(tables) == 3
    tables[2].getparent().remove(tables[2])
    report = _report(_bytes(root), "cut.html")
    assert report.sections == "s2:complete s3:complete s4:missing"
    assert _failed_structural(report) == {"completeness.s4"}
    check = next(c for c in report.checks if c.identity_id == "completeness.s4")
    assert "not found" in check.detail and "15" in check.detail


def test_report_with_a_row_deleted_names_that_row():
    root, tables = _html_tables(QINGWU_2023)
    tr = _row_with(tables[1], "上年结转")
    tr.getparent().remove(tr)
    report = _report(_bytes(root), "cut.html")
    assert report.sections == "s2:complete s3:partial s4:complete"
    assert "completeness.s3.carried_in" in _failed_structural(report)
    assert not any(f.row_code == "s3.carried_in" for f in report.facts)
    check = next(c for c in report.checks if c.identity_id == "completeness.s3.carried_in")
    assert "s3.carried_in@s3c.total" in check.detail and (check.lhs, check.rhs) == (0.0, 7.0)


def test_rows_read_out_of_template_order_fail_registration_and_lose_confidence():
    root, tables = _html_tables(QINGWU_2023)
    new, carried = _row_with(tables[1], "本年新收"), _row_with(tables[1], "上年结转")
    parent = new.getparent()
    parent.remove(carried)
    parent.insert(parent.index(new), carried)  # 上年结转 now printed before 本年新收
    report = _report(_bytes(root), "swapped.html")
    assert "registration.s3.new" in _failed_structural(report)
    assert report.sections == "s2:complete s3:partial s4:complete"
    lowered = {f.row_code for f in report.facts if f.confidence <= MISREGISTERED_CONFIDENCE}
    assert lowered == {"s3.new"}


def test_section_verdict_is_stored_in_documents_and_an_old_file_gets_the_column(tmp_path):
    db = tmp_path / "ogi.duckdb"
    root, tables = _html_tables(QINGWU_2023)
    tables[2].getparent().remove(tables[2])
    data = _bytes(root)
    report = _report(data, "cut.html")
    sha = report.sha256
    con = connect(db)
    try:
        con.execute("ALTER TABLE documents DROP COLUMN sections")  # a file made before the column
    finally:
        con.close()
    con = connect(db)
    try:
        record = {"sha256": sha, "url": "http://127.0.0.1/cut.html", "agency_id": "qingwu-xian",
                  "report_year": 2023, "media_type": "text/html"}
        result = {"status": "parsed", "report": report.to_dict(), "extractor_version": "1", "transform_version": "1"}
        assert loader.load_document(con, record, result, "run-1") == "loaded"
        assert con.execute("SELECT sections FROM documents WHERE sha256 = ?", [sha]).fetchall() == [
            ("s2:complete s3:complete s4:missing",)]
        failed = con.execute("SELECT identity_id FROM checks WHERE sha256 = ? AND status = 'failed' "
                             "AND severity = 'error' AND identity_id LIKE 'completeness.%'", [sha]).fetchall()
        assert failed == [("completeness.s4",)]
    finally:
        con.close()


def test_template_cells_follow_the_codebook_and_the_two_layouts():
    assert sum(len(c) for c in template_cells("s2", "2019").values()) == 22
    assert sum(len(c) for c in template_cells("s2", "2021").values()) == 10
    assert sum(len(c) for c in template_cells("s4", "2021").values()) == 15
    s3 = template_cells("s3", "2021")
    assert list(s3)[:2] == ["s3.new", "s3.carried_in"] and all(len(c) == 7 for c in s3.values())
    assert re.fullmatch(r"s3\.other", list(template_cells("s3", "2019"))[-3])
