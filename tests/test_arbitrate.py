"""Arbitration between candidate extractions by the template's accounting identities.

Hand-made candidate grids (a lattice parse that missed a ruling line and merged two rows, against
a parse that kept them apart) show that the identities, not grid shape, decide; the real Hongze
sample shows that a clean document comes out exactly as before; and, where LibreOffice is
installed, a real text PDF with a missing ruling line shows the extract stage keeping the stream
parse of that page as an alternative (LibreOffice's stream parse of that page is too poor to win).
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from ogi.core.models import ExtractedDocument, RawTable
from ogi.transform.arbitrate import best_report, score
from ogi.transform.checks.validate import validate
from ogi.transform.parse import parse_report
from tests.capabilities import needs_libreoffice
from tests.conftest import shared_path

HEADER = [
    ["（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）", None, None, "申请人情况",
     None, None, None, None, None, None],
    [None, None, None, "自然人", "法人或其他组织", None, None, None, None, "总计"],
    [None, None, None, None, "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", None],
]
# (row label cells, value of 自然人 = 总计; the organisation columns are all 0)
BODY = [
    (["一、本年新收政府信息公开申请数量", None, None], 95),
    (["二、上年结转政府信息公开申请数量", None, None], 3),
    (["三、本年度办理结果", "（一）予以公开", None], 50),
    ([None, "（二）部分公开（区分处理的，只计这一情形，不计其他情形）", None], 9),
    ([None, "（三）不予公开", "1.属于国家秘密"], 0),
    ([None, None, "2.其他法律行政法规禁止公开"], 0),
    ([None, None, "3.危及“三安全一稳定”"], 1),
    ([None, None, "4.保护第三方合法权益"], 0),
    ([None, None, "5.属于三类内部事务信息"], 0),
    ([None, None, "6.属于四类过程性信息"], 1),
    ([None, None, "7.属于行政执法案卷"], 1),
    ([None, None, "8.属于行政查询事项"], 0),
    ([None, "（四）无法提供", "1.本机关不掌握相关政府信息"], 31),
    ([None, None, "2.没有现成信息需要另行制作"], 1),
    ([None, None, "3.补正后申请内容仍不明确"], 0),
    ([None, "（五）不予处理", "1.信访举报投诉类申请"], 1),
    ([None, None, "2.重复申请"], 0),
    ([None, None, "3.要求提供公开出版物"], 0),
    ([None, None, "4.无正当理由大量反复申请"], 0),
    ([None, None, "5.要求行政机关确认或重新出具已获取信息"], 0),
    ([None, "（六）其他处理", ""], 0),
    ([None, "（七）总计", ""], 95),
    (["四、结转下年度继续办理", None, None], 3),
]
TEXT = "某某区2024年政府信息公开工作年度报告\n三、收到和处理政府信息公开申请情况\n"


def _row(labels: list[str | None], n: int | str) -> list[str | None]:
    return [*labels, str(n), "0", "0", "0", "0", "0", str(n)]


def good_grid() -> list[list[str | None]]:
    return [list(r) for r in HEADER] + [_row(labels, n) for labels, n in BODY]


def merged_grid() -> list[list[str | None]]:
    """What a lattice parse gives when the rule between （一） and （二） is missing: one row whose
    cells hold both rows' text."""
    rows = good_grid()
    i = next(k for k, r in enumerate(rows) if r[1] == "（一）予以公开")
    a, b = rows[i], rows[i + 1]
    rows[i] = [a[0], f"{a[1]}\n{b[1]}", None] + [f"{x}\n{y}" for x, y in zip(a[3:], b[3:], strict=True)]
    del rows[i + 1]
    return rows


def doc_with(primary: list[list[str | None]], *alternatives: tuple[str, list[list[str | None]]]) -> ExtractedDocument:
    def table(rows, method):
        return RawTable(index=0, rows=rows, page=3, method=method)

    return ExtractedDocument(
        sha256="0" * 64, media_type="application/pdf", tables=[table(primary, "camelot-lattice")], text=TEXT,
        page_count=4, extractor="test",
        alternatives=[{"label": label, "tables": [table(rows, "camelot-stream").to_dict()],
                       "note": f"page 3: {label} lost on grid consistency"} for label, rows in alternatives],
    )


def facts_of(report):
    return {(f.row_code, f.col_code): (f.value, f.value_status, f.raw_text) for f in report.facts}


def test_identities_pick_the_alternative_that_keeps_the_rows_apart():
    doc = doc_with(merged_grid(), ("camelot-stream p3", good_grid()))
    plain = validate(parse_report(doc), doc.text)
    assert not score(plain).clean  # the default choice is wrong: two rows read as one

    report = best_report(doc)
    right = validate(parse_report(doc_with(good_grid())), TEXT)
    assert score(report).failed == 0
    assert facts_of(report) == facts_of(right)  # the alternative's facts, numbers untouched
    assert report.facts[0].raw_text  # provenance kept
    note = report.notes[-1]
    assert note.startswith("arbitration: camelot-stream p3 won: 0 failed / ")
    assert f"vs primary {score(plain)}" in note and "lost on grid consistency" in note


def test_primary_kept_when_alternatives_fail_identities():
    wrong = good_grid()
    i = next(k for k, r in enumerate(wrong) if r[1] == "（一）予以公开")
    wrong[i] = _row(wrong[i][:3], 51)  # a misread digit: （七）总计 no longer adds up
    doc = doc_with(merged_grid(), ("camelot-stream p3", wrong))
    plain = validate(parse_report(doc), doc.text)
    report = best_report(doc)
    assert facts_of(report) == facts_of(plain)
    assert report.notes[-1].startswith(f"arbitration: primary kept: {score(plain)} vs camelot-stream p3 2 failed")


def test_a_candidate_cannot_win_by_hiding_cells_from_the_identities():
    # the stream parse lost the last rows: nothing fails, but fewer identities can be checked
    doc = doc_with(merged_grid(), ("camelot-stream p3", good_grid()[:-3]))
    report = best_report(doc)
    assert facts_of(report) == facts_of(validate(parse_report(doc), doc.text))
    assert "excluded camelot-stream p3" in report.notes[-1] and "identities checkable" in report.notes[-1]


def test_ties_go_to_the_primary():
    doc = doc_with(merged_grid(), ("camelot-stream p3", merged_grid()))
    assert best_report(doc).notes[-1].startswith("arbitration: primary kept")


def test_drop_in_for_validate_parse_without_alternatives():
    doc = doc_with(merged_grid())
    assert best_report(doc) == validate(parse_report(doc), doc.text)


def test_structural_failures_are_doubt_and_count_in_the_ranking():
    # good_grid() is a fragment of 三: every identity holds, but rows of the template are missing,
    # so the alternatives are weighed; the merged-row candidate fails more and the primary stays
    doc = doc_with(good_grid(), ("camelot-stream p3", merged_grid()))
    report = best_report(doc)
    primary = validate(parse_report(doc), doc.text)
    assert score(primary).structural > 0 and not score(primary).clean
    assert facts_of(report) == facts_of(primary)
    assert report.notes[-1].startswith("arbitration: primary kept")


def test_alternatives_survive_to_dict_from_dict():
    doc = doc_with(merged_grid(), ("camelot-stream p3", good_grid()))
    back = ExtractedDocument.from_dict(doc.to_dict())
    assert back == doc
    assert best_report(back) == best_report(doc)
    old = doc.to_dict()
    del old["alternatives"]  # a cached extraction from before the field existed
    assert ExtractedDocument.from_dict(old).alternatives == []


def test_real_sample_unchanged():
    from ogi.extract import extract_document

    path = shared_path("samples", "2024_hongze-qu.pdf")
    data = path.read_bytes()
    doc = extract_document(data, sha256=hashlib.sha256(data).hexdigest(), filename=path.name)
    assert doc.alternatives == []  # every page's vector lattice is clean: no runner-up kept
    before = validate(parse_report(doc), doc.text)
    after = best_report(doc)
    assert after == before
    assert len(after.facts) == 186


# ---------------------------------------------------------------- a real PDF with a missing rule


def _docx_with_missing_rule(path: Path) -> None:
    """The section-3 table as a ruled Word table, with the rule between （一） and （二） removed."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.table import WD_ALIGN_VERTICAL
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    rows = good_grid()
    d = Document()
    sec = d.sections[0]
    sec.orientation = WD_ORIENT.LANDSCAPE
    sec.page_width, sec.page_height = Cm(29.7), Cm(21)
    sec.left_margin = sec.right_margin = sec.top_margin = sec.bottom_margin = Cm(1.2)
    normal = d.styles["Normal"]
    normal.font.size = Pt(6)
    # digits and CJK in one font, so they share a baseline (a fallback font shifts the CJK text)
    fonts = normal.element.get_or_add_rPr().get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia"):
        fonts.set(qn(attr), "Noto Serif CJK SC")
    d.add_paragraph("某某区2024年政府信息公开工作年度报告")
    d.add_paragraph("三、收到和处理政府信息公开申请情况")
    t = d.add_table(rows=len(rows), cols=len(rows[0]))
    t.style = "Table Grid"
    t.autofit = False
    widths = [Cm(3.2), Cm(6.4), Cm(4.7)] + [Cm(1.7)] * 7
    for row in t.rows:
        row.height = Cm(0.55)  # room around each line, so no text box reaches into the next row
    for c, w in enumerate(widths):
        t.columns[c].width = w  # the table grid, which LibreOffice lays out by
    gap = next(k for k, r in enumerate(rows) if r[1] == "（一）予以公开")
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            cell = t.cell(r, c)
            cell.width = widths[c]
            cell.text = text or ""
            cell.vertical_alignment = WD_ALIGN_VERTICAL.CENTER
            if r in (gap, gap + 1):
                side = "bottom" if r == gap else "top"
                pr = cell._tc.get_or_add_tcPr()
                borders = OxmlElement("w:tcBorders")
                el = OxmlElement(f"w:{side}")
                el.set(qn("w:val"), "nil")
                borders.append(el)
                pr.append(borders)
    for (r0, c0), (r1, c1) in (((0, 0), (2, 2)), ((0, 3), (0, 9)), ((1, 3), (2, 3)), ((1, 4), (1, 8)),
                               ((1, 9), (2, 9))):  # the header's merged cells, as the template has them
        t.cell(r0, c0).merge(t.cell(r1, c1)).text = rows[r0][c0] or ""
    d.save(str(path))


@needs_libreoffice("writer")
def test_real_pdf_with_a_missing_rule_keeps_an_alternative(tmp_path):
    from ogi.extract import extract_document

    src = tmp_path / "report.docx"
    _docx_with_missing_rule(src)
    subprocess.run(["soffice", "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(src)],
                   check=True, capture_output=True, timeout=120)
    data = (tmp_path / "report.pdf").read_bytes()
    doc = extract_document(data, sha256=hashlib.sha256(data).hexdigest(), filename="report.pdf")
    # the vector lattice reads the two rows as one: stacked numbers in one cell
    assert any("50\n9" in (c or "") for t in doc.tables for r in t.rows for c in r)
    # so the page's stream parse is kept as a complete alternative table set
    assert [a["label"] for a in doc.alternatives] == ["camelot-stream p1"]
    assert "lost on grid consistency" in doc.alternatives[0]["note"]
    assert {t["method"] for t in doc.alternatives[0]["tables"]} == {"camelot-stream"}
    plain = validate(parse_report(doc), doc.text)
    report = best_report(doc)
    assert not score(plain).clean
    assert report.notes[-1].startswith("arbitration: ")
    assert score(report).failed <= score(plain).failed
    assert score(report).checked >= score(plain).checked
