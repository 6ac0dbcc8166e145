"""Borderless tables read from word positions (extract/pdf_borderless.py).

Generated reports (bench/corpus.py → LibreOffice) without ruling lines are extracted through the
pipeline's own PDF route and every placed value is checked against the generator's truth; the
grid rules (empty cells stay empty, labels beside values, a row cut by a page break) are checked
on hand-placed words.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench.corpus import Style, docx_to_pdf, make_spec, write_docx
from ogi.extract.dispatch import extract_pdf
from ogi.extract.pdf_borderless import (
    METHOD,
    Line,
    SubTable,
    Word,
    _join_cut_row,
    _lift_group_labels,
    _words_from_chars,
    structure_of,
    table_grid,
    value_start,
)
from ogi.transform.parse import parse_report
from tests.capabilities import needs_libreoffice

needs_soffice = needs_libreoffice("writer")


def _centre_and_right_align(path: Path) -> None:
    """Cells vertically centred, numbers right-aligned: how many WPS/Word exports look."""
    from docx import Document
    from docx.enum.table import WD_ALIGN_VERTICAL
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    doc = Document(str(path))
    for table in doc.tables:
        for row in table.rows:
            for cell in row.cells:
                cell.vertical_alignment = WD_ALIGN_VERTICAL.CENTER
                if re.fullmatch(r"[-\d.万元]+", cell.text.strip() or "x"):
                    for para in cell.paragraphs:
                        para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    doc.save(str(path))


@pytest.fixture(scope="module")
def borderless_pdfs(tmp_path_factory) -> dict[str, tuple[Path, object]]:
    """Two borderless reports, converted in one LibreOffice run: a 2021 one whose table 三 crosses
    a page break (long intro), and a 2019 one with narrow columns, one-character-per-line group
    labels, vertically centred cells and right-aligned numbers."""
    out = tmp_path_factory.mktemp("borderless")
    specs = {"plain_2021": make_spec(31, version="2021"), "hard_2019": make_spec(32, version="2019")}
    docx = [
        write_docx(specs["plain_2021"], out / "plain_2021.docx", Style(ruled=False, long_intro=True), seed=31),
        write_docx(specs["hard_2019"], out / "hard_2019.docx",
                   Style(ruled=False, narrow=True, vertical=True, long_intro=True), seed=32),
    ]
    _centre_and_right_align(docx[1])
    pdfs = docx_to_pdf(docx, out / "pdf")
    return {p.stem: (p, specs[p.stem]) for p in pdfs}


@needs_soffice
@pytest.mark.parametrize("name", ["plain_2021", "hard_2019"])
def test_borderless_report_places_every_truth_value(borderless_pdfs, name):
    path, spec = borderless_pdfs[name]
    doc = extract_pdf(path.read_bytes(), sha256=name, ocr=False)
    assert doc.tables and all(t.method == METHOD for t in doc.tables)
    # table 三 crosses page breaks and comes back as one stitched table
    s3 = next(t for t in doc.tables if any("申请人情况" in (c or "") for r in t.rows for c in r))
    assert s3.row_pages and len(set(s3.row_pages)) >= 2
    report = parse_report(doc)
    got = {(f.section, f.row_code, f.col_code): f.value for f in report.facts}
    wrong = {k: (v, got.get(k)) for k, v in spec.values.items() if got.get(k) != v}
    assert not wrong, f"{len(wrong)} of {len(spec.values)} values wrong or missing, e.g. {list(wrong.items())[:3]}"
    assert not report.unplaced
    assert len(got) == len(spec.values)


# ---------------------------------------------------------------- hand-placed words


def _w(text: str, x0: float, top: float, width: float | None = None) -> Word:
    return Word(text, x0, x0 + (width if width is not None else 10.0 * len(text)), top, top + 10.0)


def _table(header: list[Word], rows: list[list[Word]]) -> SubTable:
    return SubTable(header=[Line(header)], body=[Line(r) for r in rows])


def test_empty_cells_stay_empty_and_values_keep_their_column():
    """A row with no value in its middle column keeps that cell empty (no shift left), and a
    column empty in every row is still a column, found from its header alone."""
    header = [_w("信息内容", 0, 0), _w("甲", 200, 0), _w("乙", 260, 0), _w("丙", 320, 0), _w("丁", 380, 0)]
    rows = [
        [_w("规章", 0, 30), _w("12", 200, 30), _w("3", 265, 30), _w("40", 320, 30)],
        [_w("行政规范性文件", 0, 60), _w("7", 205, 60), _w("55", 320, 60)],
    ]
    table = _table(header, rows)
    st = structure_of(table, 10.0)
    assert st is not None and len(st.bands) == 4  # 丁 has no number anywhere
    assert table_grid(table, st, 10.0) == [
        ["信息内容", "甲", "乙", "丙", "丁"],
        ["规章", "12", "3", "40", ""],
        ["行政规范性文件", "7", "", "55", ""],
    ]


def test_a_column_of_placeholders_only_is_a_column():
    """四 has one value row: a column that printed only "/" has no number anywhere, and its
    header may be lost among others; the placeholder alone makes the column (it used to be
    glued to its neighbour: "/ 12")."""
    header = [_w("案件", 0, 0), _w("甲", 100, 0), _w("乙", 140, 0), _w("丙", 180, 0)]
    rows = [[_w("数量", 0, 30), _w("12", 100, 30), _w("/", 142, 30, 3.0), _w("7", 180, 30)]]
    table = _table(header, rows)
    st = structure_of(table, 10.0)
    assert st is not None and len(st.bands) == 3
    assert table_grid(table, st, 10.0)[-1] == ["数量", "12", "/", "7"]


def test_wrapped_and_grouped_labels_join_their_row():
    """A label wrapped over two lines is one cell; a group label spanning rows sits in the first
    row it covers and the cells it covers below are None, as the lattice reader gives a merge."""
    header = [_w("项目", 0, 0), _w("数量", 200, 0)]
    rows = [
        [_w("（一）", 0, 30), _w("1.属于国家秘", 60, 30), _w("1", 205, 30)],
        [_w("不予", 0, 43), _w("密", 60, 43)],
        [_w("公开", 0, 60), _w("2.其他", 60, 60), _w("0", 205, 60)],
        [_w("（二）总计", 0, 90), _w("1", 205, 90)],
    ]
    table = _table(header, rows)
    st = structure_of(table, 10.0)
    assert st is not None and st.label_starts == [0, 60]
    assert table_grid(table, st, 10.0) == [
        ["项目", "", "数量"],
        ["（一）\n不予\n公开", "1.属于国家秘\n密", "1"],
        [None, "2.其他", "0"],
        ["（二）总计", "", "1"],
    ]


def test_value_lines():
    line = Line([_w("行政事业性收费", 0, 0), _w("30522.83", 200, 0), _w("万元", 250, 0)])
    assert value_start(line) == 1  # a unit printed apart from its number
    title = Line([_w("某县人民政府", 0, 0), _w("2023", 120, 0), _w("年政府信息公开工作年度报告", 170, 0)])
    assert value_start(title) is None  # text after the number: prose, not a row
    vertical = Line([_w("无", 40, 0), *[_w("0", 200 + 40 * i, 0) for i in range(7)]])
    assert value_start(vertical) == 1  # a vertical label's "无" far left of the values
    placeholders = Line([_w("规章", 0, 0), _w("/", 200, 0), _w("—", 260, 0)])
    assert value_start(placeholders) == 1


def test_words_follow_content_order_not_small_baseline_shifts():
    """A glyph from a fallback font sits a little lower: it stays in its word; a gap splits."""
    chars = [("合", 0, 10, 100.0, 110.0), ("法", 10, 20, 100.6, 110.8), ("权", 20, 30, 100.0, 110.0),
             (" ", 30, 33, 100, 110), ("1", 80, 86, 100.0, 110.0), ("2", 86, 92, 100.0, 110.0)]
    assert [w.text for w in _words_from_chars(chars)] == ["合法权", "12"]


def test_cut_row_continues_the_cells_begun_before_the_break():
    before = [["三、", "（三）不予公", "1.属于", "1"], [None, None, "2.危及“三安", "0"]]
    after = [["", "开", "全一稳定”", ""], ["", "", "3.其他", "2"]]
    _join_cut_row(before, after, 3)
    assert before == [["三、", "（三）不予公\n开", "1.属于", "1"], [None, None, "2.危及“三安\n全一稳定”", "0"]]
    assert after == [["", "", "3.其他", "2"]]
    numbered = [["", "", "4.保护", ""]]
    _join_cut_row(before, numbered, 3)  # a numbered label opens a row of its own: left alone
    assert numbered == [["", "", "4.保护", ""]]


def test_group_label_centred_on_its_rows_moves_to_its_first_item():
    """Vertically centred merged cells put a group label beside a middle row (or between rows);
    it goes up to the row of its first numbered item. Top-aligned labels stay where they are."""
    rows = [
        ["", "（一）予以公开", "", "5"],
        ["", "", "1.属于国家秘密", "0"],
        ["", "（二）不予公开", "2.其他法律", "1"],
        ["", "", "3.危及", "2"],
        ["", "（三）无法提供", "", ""],  # centred between its two items: a row of labels only
        ["", "", "1.本机关不掌握", "3"],
        ["", "", "2.没有现成信息", "4"],
        ["", "（四）其他", "1.申请人", "6"],  # top-aligned: stays
    ]
    assert _lift_group_labels(rows, 3) == [
        ["", "（一）予以公开", "", "5"],
        ["", "（二）不予公开", "1.属于国家秘密", "0"],
        ["", None, "2.其他法律", "1"],
        ["", "", "3.危及", "2"],
        ["", "（三）无法提供", "1.本机关不掌握", "3"],
        ["", "", "2.没有现成信息", "4"],
        ["", "（四）其他", "1.申请人", "6"],
    ]
