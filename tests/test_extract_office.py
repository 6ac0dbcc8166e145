"""Office extraction: docx merged cells, spreadsheets, and legacy .doc/.xls through LibreOffice."""

from __future__ import annotations

import io

import openpyxl
import pytest
from docx import Document

from ogi.core.models import ExtractionError
from ogi.extract.docx_tables import extract_docx
from ogi.extract.office_convert import NEEDS_LIBREOFFICE, convert_to_docx, convert_with_libreoffice
from ogi.extract.xlsx_tables import extract_spreadsheet, format_value
from tests.capabilities import needs_libreoffice


def _docx_with_merges() -> bytes:
    doc = Document()
    doc.add_paragraph("三、收到和处理政府信息公开申请情况")
    t = doc.add_table(rows=4, cols=4)
    t.style = "Table Grid"
    labels = [
        ["项目", "", "申请人", ""],
        ["", "", "自然人", "总计"],
        ["一、本年新收", "", "5", "5"],
        ["", "", "", ""],
    ]
    for r, row in enumerate(labels):
        for c, text in enumerate(row):
            t.cell(r, c).text = text
    t.cell(0, 0).merge(t.cell(1, 1))  # a 2×2 block: gridSpan + vMerge
    t.cell(0, 2).merge(t.cell(0, 3))  # horizontal only
    t.cell(2, 0).merge(t.cell(3, 0))  # vertical only
    t.cell(3, 1).text = "二、上年结转"
    t.cell(3, 2).add_paragraph("第二行")  # a cell with two paragraphs (first one empty)
    inner = t.cell(3, 3).add_table(rows=1, cols=2)
    inner.cell(0, 0).text = "嵌套"
    inner.cell(0, 1).text = "7"
    doc.add_paragraph("共收到政府信息公开申请5件。")  # Word needs a paragraph after a table
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


EXPECTED_DOCX_GRID = [
    ["项目", None, "申请人", None],
    [None, None, "自然人", "总计"],
    ["一、本年新收", "", "5", "5"],
    [None, "二、上年结转", "第二行", ""],
]


def test_docx_merged_cells_expand_to_none():
    doc = extract_docx(_docx_with_merges(), sha256="d")
    assert doc.extractor.startswith("docx:")
    assert [t.rows for t in doc.tables] == [EXPECTED_DOCX_GRID, [["嵌套", "7"]]]
    assert all(t.method == "docx" for t in doc.tables)
    lines = doc.text.splitlines()
    assert lines[0] == "三、收到和处理政府信息公开申请情况"
    assert lines[-1] == "共收到政府信息公开申请5件。"


def test_docx_paragraph_text_ignores_tab_stop_definitions_and_keeps_breaks():
    from docx.shared import Cm

    doc = Document()
    p = doc.add_paragraph("一、总体情况")
    p.paragraph_format.tab_stops.add_tab_stop(Cm(3))  # a w:tab inside w:pPr, not text
    run = doc.add_paragraph("共收到申请").add_run()
    run.add_break()
    run.add_text("12件")
    buf = io.BytesIO()
    doc.save(buf)
    assert extract_docx(buf.getvalue(), sha256="p").text == "一、总体情况\n共收到申请\n12件"


def test_docx_garbage_is_an_extraction_error():
    with pytest.raises(ExtractionError, match="docx"):
        extract_docx(b"PK\x03\x04 not really a zip", sha256="x")


def _xlsx_with_merges() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "三"
    ws.append(["项目", None, "申请人情况", None, None])
    ws.append([None, None, "自然人", "商业企业", "总计"])
    ws.append(["一、本年新收", None, 12.0, 3, 15])
    ws.append(["（七）总计", None, 2.5, None, 0.125])
    ws.append([None, None, None, None, None])
    ws.merge_cells("A1:B2")
    ws.merge_cells("C1:E1")
    ws.merge_cells("A3:B3")
    ws["E4"].number_format = "0.0%"
    ws["G10"].number_format = "0.00"  # formatting alone must not widen the table
    second = wb.create_sheet("空表")
    second["A1"].number_format = "0"
    third = wb.create_sheet("二")
    third["B2"] = "规章"
    third["C2"] = 1e6
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


EXPECTED_SHEET = [
    ["项目", None, "申请人情况", None, None],
    [None, None, "自然人", "商业企业", "总计"],
    ["一、本年新收", None, "12", "3", "15"],
    ["（七）总计", "", "2.5", "", "12.5%"],
]


def test_xlsx_sheets_merges_and_printed_numbers():
    doc = extract_spreadsheet(_xlsx_with_merges(), sha256="x", filename="report.xlsx")
    assert doc.extractor.startswith("xlsx:")
    assert [t.note for t in doc.tables] == ["sheet 三", "sheet 二"]  # the empty sheet is skipped
    assert doc.tables[0].rows == EXPECTED_SHEET
    assert doc.tables[1].rows == [["规章", "1000000"]]  # used range starts at B2
    assert "一、本年新收\t\t12\t3\t15" in doc.text.splitlines()


def test_format_value():
    assert format_value(12.0) == "12"
    assert format_value(-3.0) == "-3"
    assert format_value(0.1 + 0.2) == "0.3"
    assert format_value(24252.311082) == "24252.311082"
    assert format_value(1e-7) == "0.0000001"
    assert format_value(0.339, "0.0%") == "33.9%"
    assert format_value(None) == ""
    assert format_value("  共 5\n件 ") == "共 5\n件"


def test_spreadsheet_that_is_really_html():
    data = "<html><body><table><tr><td>规章</td><td>3</td></tr></table></body></html>".encode()
    doc = extract_spreadsheet(data, sha256="h", filename="report.xls")
    assert doc.tables[0].rows == [["规章", "3"]]
    assert any("HTML" in w for w in doc.warnings)


def test_spreadsheet_garbage_is_an_extraction_error():
    with pytest.raises(ExtractionError, match=r"report\.xls"):
        extract_spreadsheet(b"\x00\x01 not a sheet", sha256="g", filename="report.xls")


# ------------------------------------------------------------------ LibreOffice


def test_missing_libreoffice_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: neither soffice nor libreoffice
    with pytest.raises(ExtractionError) as err:
        convert_with_libreoffice(b"\xd0\xcf\x11\xe0", suffix=".doc")
    assert str(err.value) == NEEDS_LIBREOFFICE
    assert str(err.value).startswith("needs LibreOffice")


@needs_libreoffice("writer")
def test_doc_round_trip_through_libreoffice():
    doc_bytes = convert_with_libreoffice(_docx_with_merges(), suffix=".docx", target="doc", timeout_s=120)
    assert doc_bytes.startswith(b"\xd0\xcf\x11\xe0")  # a real OLE2 Word 97 file
    docx_bytes, name = convert_to_docx(doc_bytes, filename="2020年报.doc")
    assert name == "2020年报.docx"
    doc = extract_docx(docx_bytes, sha256="doc")
    assert doc.tables[0].rows == EXPECTED_DOCX_GRID
    assert doc.tables[1].rows == [["嵌套", "7"]]
    assert "共收到政府信息公开申请5件。" in doc.text


@needs_libreoffice("calc")
def test_xls_through_xlrd():
    xls = convert_with_libreoffice(_xlsx_with_merges(), suffix=".xlsx", target="xls", timeout_s=120)
    assert xls.startswith(b"\xd0\xcf\x11\xe0")
    doc = extract_spreadsheet(xls, sha256="xls", filename="report.xls")
    assert doc.media_type == "application/vnd.ms-excel"
    assert doc.tables[0].method == "xls"
    assert doc.tables[0].rows == EXPECTED_SHEET
    assert doc.tables[-1].rows == [["规章", "1000000"]]


@needs_libreoffice("writer")
def test_corrupt_doc_conversion_fails_clearly():
    with pytest.raises(ExtractionError, match="LibreOffice could not convert"):
        convert_with_libreoffice(
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, suffix=".doc", timeout_s=60
        )


@needs_libreoffice("writer")
def test_conversion_timeout_fails_clearly():
    with pytest.raises(ExtractionError, match="timed out after 0.05 s"):
        convert_with_libreoffice(_docx_with_merges(), suffix=".docx", target="doc", timeout_s=0.05)
