"""PDF extraction on the real Hongze 2024 report: grids, stitching, corrupt input, OCR."""

from __future__ import annotations

import hashlib
import re

import pytest

from extract import extract_document
from extract.pdf_tables import PageTable, grid_consistency, grid_from_cells, stitch
from extract.pdf_text import text_quality
from ogi.models import ExtractionError, RawTable
from tests.conftest import shared_path

HONGZE = "2024_hongze-qu.pdf"


def _squash(text: str | None) -> str:
    return re.sub(r"\s+", "", text or "")


def _find_row(table: RawTable, label: str) -> list[str | None]:
    """The first row whose text cells (joined, spaces removed) contain ``label``."""
    for row in table.rows:
        if label in "".join(_squash(c) for c in row if c and not re.fullmatch(r"[\d.]+", c)):
            return row
    raise AssertionError(f"no row labelled {label!r} in table {table.index}")


def _values(row: list[str | None]) -> list[str]:
    return [c for c in row if c is not None and re.fullmatch(r"-?\d+(\.\d+)?", c.strip())]


def _table_with(doc, needle: str) -> RawTable:
    for t in doc.tables:
        if any(needle in _squash(c) for r in t.rows for c in r if c):
            return t
    raise AssertionError(f"no table contains {needle!r}")


@pytest.fixture(scope="module")
def hongze_bytes() -> bytes:
    return shared_path("samples", HONGZE).read_bytes()


@pytest.fixture(scope="module")
def hongze(hongze_bytes):
    return extract_document(hongze_bytes, sha256=hashlib.sha256(hongze_bytes).hexdigest(), filename="x.pdf")


def test_document_metadata(hongze, hongze_bytes):
    assert hongze.media_type == "application/pdf"
    assert hongze.page_count == 5
    assert hongze.extractor.startswith("pdf:")
    assert hongze.sha256 == hashlib.sha256(hongze_bytes).hexdigest()
    assert "政府信息公开工作年度报告" in _squash(hongze.text)
    assert hongze.text.count("\f") == 4  # page boundaries kept
    assert not hongze.warnings


def test_section2_values(hongze):
    t = _table_with(hongze, "行政许可")
    assert t.page == 2 and t.method == "camelot-lattice"
    assert _values(_find_row(t, "行政许可")) == ["9487"]
    assert _values(_find_row(t, "行政规范性文件")) == ["3", "0", "8"]
    assert _values(_find_row(t, "规章")) == ["0", "0", "0"]
    # the caption row is one merged cell: text in its top-left, the rest covered
    caption = _find_row(t, "第二十条第（一）项")
    assert caption[0] and caption[1:] == [None] * (len(caption) - 1)
    t3 = _table_with(hongze, "行政处罚")
    assert t3.page == 3
    assert _values(_find_row(t3, "行政处罚")) == ["2776"]
    assert _values(_find_row(t3, "行政强制")) == ["84"]
    assert _values(_find_row(t3, "行政事业性收费")) == ["7545"]


def test_section3_stitched_across_pages(hongze):
    t = _table_with(hongze, "申请人情况")
    assert t.page == 3
    assert t.row_pages is not None and len(t.row_pages) == len(t.rows)
    assert set(t.row_pages) == {3, 4} and t.row_pages == sorted(t.row_pages)
    assert "stitched page 4" in t.note
    assert all(len(r) == 10 for r in t.rows)
    assert _values(_find_row(t, "本年新收")) == ["95", "0", "0", "0", "0", "0", "95"]
    assert _values(_find_row(t, "予以公开")) == ["50", "0", "0", "0", "0", "0", "50"]
    assert _values(_find_row(t, "本机关不掌握")) == ["31", "0", "0", "0", "0", "0", "31"]
    # rows from page 4 belong to the same table, with their page recorded
    r = t.rows.index(_find_row(t, "没有现成信息"))
    assert t.row_pages[r] == 4 and _values(t.rows[r]) == ["1", "0", "0", "0", "0", "0", "1"]
    total = _find_row(t, "（七）总计")
    assert _values(total) == ["95", "0", "0", "0", "0", "0", "95"]
    assert _values(_find_row(t, "结转下年度")) == ["0"] * 7
    # label line breaks are kept; the vertical merge of 三、本年度办理结果 continues as None on page 4
    assert any(c and "\n" in c for c in t.rows[2])
    assert t.rows[r][0] is None
    # no other table holds rows of section 三
    assert (
        sum(
            1
            for tb in hongze.tables
            if any("没有现成信息" in _squash(c) for row in tb.rows for c in row if c)
        )
        == 1
    )


def test_section4_values(hongze):
    t = _table_with(hongze, "复议后起诉")
    assert t.page == 4 and t.row_pages is None
    data_rows = [r for r in t.rows if len(_values(r)) == 15]
    assert len(data_rows) == 1
    assert _values(data_rows[0]) == [
        "1",
        "1",
        "0",
        "0",
        "2",
        "1",
        "0",
        "0",
        "0",
        "1",
        "2",
        "0",
        "1",
        "0",
        "3",
    ]
    assert t.rows[0][0] == "行政复议"


def test_grid_is_rectangular_and_clean(hongze):
    for t in hongze.tables:
        width = len(t.rows[0])
        assert all(len(r) == width for r in t.rows)
        for r in t.rows:
            for c in r:
                assert c is None or (c == c.strip() and "\u3000" not in c)


def test_truncated_pdf_is_an_extraction_error(hongze_bytes):
    with pytest.raises(ExtractionError, match="corrupt"):
        extract_document(hongze_bytes[:2000], sha256="t", filename="x.pdf")


def test_garbage_with_pdf_header_is_an_extraction_error():
    with pytest.raises(ExtractionError, match="corrupt"):
        extract_document(b"%PDF-1.7\n" + bytes(range(256)) * 20, sha256="g", filename="x.pdf")


def test_pdf_extension_with_wrong_bytes_names_the_header():
    with pytest.raises(ExtractionError, match="not a PDF: bad header"):
        extract_document(b"\x00\x01binary junk" * 10, sha256="h", filename="report.pdf")


# ---------------------------------------------------------------- pure helpers


class _Cell:
    def __init__(self, left=True, right=True, top=True, bottom=True):
        self.left, self.right, self.top, self.bottom = left, right, top, bottom


def test_grid_from_cells_moves_merge_text_to_top_left():
    from extract.pdf_tables import _regions

    # a 1x3 row where the last two cells are one merge with its text in the right cell
    cells = [[_Cell(), _Cell(right=False), _Cell(left=False)]]
    grid, top = grid_from_cells([["a\n", "", "merged\n"]], _regions(cells))
    assert grid == [["a", "merged", None]]
    # a text-less merge touching the top row is reported for stitching
    cells = [[_Cell(bottom=False), _Cell()], [_Cell(top=False), _Cell()]]
    grid, top = grid_from_cells([["", "1"], ["", "2"]], _regions(cells))
    assert grid == [["", "1"], [None, "2"]] and top == [{(0, 0), (1, 0)}]


def test_stitch_drops_repeated_header_and_merges_cut_row():
    header = ["项目", "数量"]
    a = PageTable(
        page=1, rows=[header, ["甲", "1"], ["乙（跨页", "2"]], method="camelot-lattice", confidence=1.0
    )
    b = PageTable(
        page=2, rows=[header, ["标签续）", ""], ["丙", "3"]], method="camelot-lattice", confidence=0.9
    )
    (t,) = stitch([a, b])
    assert t.rows == [header, ["甲", "1"], ["乙（跨页\n标签续）", "2"], ["丙", "3"]]
    assert t.row_pages == [1, 1, 1, 2]
    assert "repeated header" in t.note and "cut by the page break" in t.note


def test_stitch_keeps_captioned_tables_apart():
    a = PageTable(
        page=1,
        rows=[["第二十条第（五）项", None], ["行政许可", "1"]],
        method="camelot-lattice",
        confidence=1.0,
    )
    b = PageTable(
        page=2,
        rows=[["第二十条第（六）项", None], ["行政处罚", "2"]],
        method="camelot-lattice",
        confidence=1.0,
    )
    assert len(stitch([a, b])) == 2


def test_grid_consistency_prefers_numeric_grids():
    good = [["项目", "甲", "乙"], ["行政许可", "1", "2"], ["行政处罚", "0", "3"]]
    bad = [["项目 甲", "乙"], ["行政许", "可 1 2"], ["行政处罚 0", "3", "x"]]
    assert grid_consistency(good) > grid_consistency(bad)


def test_text_quality_flags_mojibake_and_empty_pages():
    assert text_quality("政府信息公开工作年度报告 本年新收 95 件").verdict == "ok"
    assert text_quality("  \n ").verdict == "empty"
    assert text_quality("\ue001\ue002\ue003\ue004 ÕþÍøÐÅÏ¢¹«¿ª¹¤×÷Äê¶È±¨¸æ").verdict == "garbled"
