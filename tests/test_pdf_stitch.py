"""Tables crossing page breaks: cut rows, grids that differ per page, pages with no keyword.

The pure helpers are tested on small grids; the whole path on PDFs made by the benchmark's
generator (python-docx → LibreOffice), checked value by value against their truth.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from bench.corpus import generate_corpus, read_truth
from ogi.extract import extract_document
from ogi.extract.pdf_grid import PageTable
from ogi.extract.pdf_tables import _is_cut_row, column_alignment, fill_empty_rows, stitch
from ogi.extract.pdf_text import Glyph, continues_table, table_pages
from tests.capabilities import needs_libreoffice

LATTICE = "camelot-lattice"


def _pt(page: int, rows, edges=(), top=0.05, bottom=0.95, method=LATTICE) -> PageTable:
    return PageTable(page, [list(r) for r in rows], method, 1.0, col_edges=list(edges), top_frac=top,
                     bottom_frac=bottom)


# ----------------------------------------------------------------------------- cut rows


def test_cut_row_with_values_before_the_break():
    assert _is_cut_row(["", "2.没有现成信息需要另", "2", "0"], [None, "行制作", "", ""])


def test_cut_row_with_values_after_the_break():
    assert _is_cut_row(["", "2.没有现成信息需要另", "", ""], [None, "行制作", "2", "0"])


def test_header_row_then_first_data_row_is_not_a_cut_row():
    # the values of the next page's first row sit under header text: a new row
    assert not _is_cut_row(["信息内容", "本年制发件数", "现行有效件数"], ["规章", "0", "44"])


def test_numbered_label_opens_a_new_row():
    assert not _is_cut_row(["（三）不予公开", "", ""], ["1.属于国家秘密", "2", "0"])
    assert not _is_cut_row(["", "（五）不予处理", "", ""], ["", "（六）其他处理", "1", "0"])


def test_values_on_both_sides_or_neither_is_not_a_cut_row():
    assert not _is_cut_row(["甲", "1", "2"], ["乙", "3", "4"])
    assert not _is_cut_row(["行政复议", "", ""], ["结果维持", "", ""])


def test_stitch_merges_a_cut_row_whose_values_follow_the_break():
    a = _pt(1, [["项目", "数量"], ["甲", "1"], ["乙（跨页", ""]])
    b = _pt(2, [["标签续）", "2"], ["丙", "3"]])
    (t,) = stitch([a, b])
    assert t.rows == [["项目", "数量"], ["甲", "1"], ["乙（跨页\n标签续）", "2"], ["丙", "3"]]
    assert t.row_pages == [1, 1, 1, 2]


def test_stitch_drops_the_empty_remnant_of_a_cut_row():
    a = _pt(1, [["项目", "数量"], ["甲", "1"]])
    b = _pt(2, [["", ""], ["乙", "2"]])
    (t,) = stitch([a, b])
    assert t.rows == [["项目", "数量"], ["甲", "1"], ["乙", "2"]]
    assert "empty row" in t.note


# ----------------------------------------------------------------------------- grids that differ per page


def test_continuation_missing_its_first_column_is_aligned():
    """A vertical merge filling the first column of a whole page leaves that column without rules."""
    a = _pt(1, [["三、结果", "（一）予以公开", "5"], [None, "（二）部分公开", "6"]], edges=(70, 100, 200, 300))
    b = _pt(2, [["（三）不予公开", "7"]], edges=(100.8, 200, 300))
    (t,) = stitch([a, b])
    assert t.rows[-1] == [None, "（三）不予公开", "7"]
    assert "aligned onto a 3-column grid" in t.note


def test_coarser_first_page_is_refined_to_the_continuation_grid():
    """Labels merged across columns on the first page until a row splits them on the next."""
    a = _pt(1, [["一、本年新收", "34", "34"]], edges=(70, 200, 250, 300))
    b = _pt(2, [["（三）不予公开", "1.属于国家秘密", "0", "0"]], edges=(70, 120, 200, 250, 300))
    (t,) = stitch([a, b])
    assert t.rows == [["一、本年新收", None, "34", "34"], ["（三）不予公开", "1.属于国家秘密", "0", "0"]]


def test_grids_that_do_not_refine_each_other_stay_apart():
    edges = (70, 200, 250, 300)
    a = _pt(1, [["甲", "1", "2"]], edges=edges)
    assert column_alignment(list(edges), 3, _pt(2, [["乙", "3"]], edges=(70, 150, 300))) is None
    # a narrow block under one column of the first grid is another table
    assert column_alignment(list(edges), 3, _pt(2, [["x", "y"]], edges=(200, 250, 300)), refine=True) is None
    assert len(stitch([a, _pt(2, [["乙", "3"]], edges=(70, 150, 300))])) == 2


def test_only_ruled_grids_are_refined():
    a = _pt(1, [["甲", "1", "2"]], edges=(70, 200, 250, 300), method="pdf-words")
    b = _pt(2, [["乙", "3"]], edges=(70, 250, 300), method="pdf-words")
    assert len(stitch([a, b])) == 2


# ----------------------------------------------------------------------------- empty rows, page choice


def _glyphs(text: str, x: float, y: float, w: float = 10.0) -> list[Glyph]:
    return [Glyph(ch, x + i * w, y, x + (i + 1) * w, y + 10) for i, ch in enumerate(text)]


def test_fill_empty_rows_reads_the_glyphs_inside_each_cell():
    texts = [["甲", "1"], ["", ""]]
    boxes = [[(0, 20, 100, 40), (100, 20, 150, 40)], [(0, 0, 100, 20), (100, 0, 150, 20)]]
    glyphs = _glyphs("没有现成", 5, 5) + _glyphs("2", 120, 5) + _glyphs("甲", 5, 25) + _glyphs("9", 200, 5)
    out, filled = fill_empty_rows(texts, boxes, glyphs)
    assert out == [["甲", "1"], ["没有现成", "2"]] and filled == 1


def test_fill_empty_rows_leaves_a_merge_with_text_elsewhere_alone():
    texts = [["三、结果", "1"], ["", ""]]
    boxes = [[(0, 20, 100, 40), (100, 20, 150, 40)], [(0, 0, 100, 20), (100, 0, 150, 20)]]
    regions = [[0, 1], [0, 3]]  # the first column is one merge over both rows
    out, filled = fill_empty_rows(texts, boxes, _glyphs("果", 5, 5) + _glyphs("7", 120, 5), regions)
    assert out == [["三、结果", "1"], ["", "7"]] and filled == 1


def test_table_pages_follow_a_continued_table_over_several_pages():
    prose = "本报告根据条例编制。2024 年 1 月 1 日起至 2024 年 12 月 31 日止。"
    one_per_line = "开 3.危及\n6\n0\n0\n0\n0\n0\n6\n4.保护第三方\n10\n0\n2\n0\n0\n0 12"
    texts = [prose, "申请人情况 法人或其他组织\n1 2 3 4", one_per_line, "3.其他 9 0 0 0 0 0 9", prose]
    assert continues_table(one_per_line) and not continues_table(prose)
    assert table_pages(texts, [True] * 5) == [2, 3, 4]


# ----------------------------------------------------------------------------- generated PDFs, checked by truth

needs_soffice = needs_libreoffice("writer")


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict[str, Path]:
    """One report per layout: table 三 over two pages with rows cut by the breaks (split), and
    over three pages with narrow wrapped labels (wrapped)."""
    out = tmp_path_factory.mktemp("corpus")
    docs = generate_corpus(out, per_layout=1, layouts=["pdf_split_2021", "pdf_wrapped_2021"], seed=1)
    return {d.layout: d.path for d in docs}


def _score(path: Path) -> tuple[dict, object, list[tuple]]:
    from ogi.transform.parse import parse_report

    data = path.read_bytes()
    doc = extract_document(data, sha256=hashlib.sha256(data).hexdigest(), filename=path.name)
    truth_path = path.with_name(path.stem + ".truth.csv")
    meta = json.loads(truth_path.with_suffix(".json").read_text(encoding="utf-8"))
    report = parse_report(doc, report_year=meta["year"])
    got = {(f.section, f.row_code, f.col_code): f.value for f in report.facts}
    bad = [(k, v, got.get(k, "missing")) for k, v in read_truth(truth_path).items() if got.get(k, "missing") != v]
    return doc, report, bad


@needs_soffice
@pytest.mark.parametrize("layout", ["pdf_split_2021", "pdf_wrapped_2021"])
def test_generated_report_is_read_exactly(generated, layout):
    doc, report, bad = _score(generated[layout])
    assert bad == [] and not report.unplaced
    s3 = next(t for t in doc.tables if any("申请人情况" in (c or "") for r in t.rows for c in r))
    assert s3.row_pages is not None and len(set(s3.row_pages)) >= 2  # one table over the break(s)
    assert "merged a row cut by the page break" in s3.note
    assert len({len(r) for r in s3.rows}) == 1


@needs_soffice
def test_wrapped_report_keeps_the_middle_page_of_a_three_page_table(generated):
    doc, _, _ = _score(generated["pdf_wrapped_2021"])
    s3 = next(t for t in doc.tables if any("申请人情况" in (c or "") for r in t.rows for c in r))
    assert set(s3.row_pages or []) == {2, 3, 4}
