"""Registration of garbled grids (scans at low resolution, exports that lose rules): label cells
spanning several rows, labels that match nothing, unreadable header labels.

Each case is what the OCR reader produced on a 150 dpi scan, rebuilt with made-up numbers; each
must place every value on its own row and column, never with full confidence, and say so.
"""

from __future__ import annotations

from ogi.core.models import ExtractedDocument, RawTable
from ogi.transform.knowledge.codebook import load_codebook
from ogi.transform.parse import parse_report
from tests.test_place import S3_2021_BODY, S3_HEADER_CAMELOT, _values

CB = load_codebook()
CODES = CB.rows("s3", "2021")


def _report(rows, method="ocr"):
    doc = ExtractedDocument(sha256="t", media_type="application/pdf", text="本年制发件数",
                            tables=[RawTable(0, rows, page=3, method=method)])
    return parse_report(doc)


def _by_cell(report):
    return {(f.row_code, f.col_code): f for f in report.facts}


def _body(body):
    return [*S3_HEADER_CAMELOT, *[[*labels, *_values(v)] for labels, v in body]]


def test_a_label_cell_spanning_three_rows_is_split_by_its_numbering():
    body = [list(b) for b in S3_2021_BODY]
    # rows 6., 7., 8. (indexes 9–11): their labels in the first row's cell, the others bare
    body[9][0] = ["", "", "6.属于四类过\n程性信息\n7.属于行政执\n法案卷\n8.属于行政查\n询事项"]
    body[10][0] = ["", "", ""]
    body[11][0] = ["", "", ""]
    report = _report(_body(body))
    cells = _by_cell(report)
    for i in (9, 10, 11):
        got = cells[(CODES[i], "s3c.natural_person")]
        assert got.value == S3_2021_BODY[i][1]
        assert got.confidence <= 0.75
    assert cells[(CODES[8], "s3c.natural_person")].confidence == 0.9  # OCR, not split
    assert not report.unplaced
    assert any("spanning 3 rows was split" in n for n in report.notes)


def test_a_group_label_read_into_the_items_opens_its_group():
    body = [list(b) for b in S3_2021_BODY]
    body[12][0] = ["", "", "1.本机关不掌\n握相关政府信\n息\n(四)无2.没有现成信\n法提供息需要另行制\n作\n3.补正后申请\n内容仍不明确"]
    body[13][0] = ["", "", ""]
    body[14][0] = ["", "", ""]
    cells = _by_cell(_report(_body(body)))
    for i in (12, 13, 14):
        assert cells[(CODES[i], "s3c.natural_person")].value == S3_2021_BODY[i][1]


def test_items_fewer_than_the_bare_rows_are_not_split_and_never_certain():
    body = [list(b) for b in S3_2021_BODY]
    body[9][0] = ["", "", "6.属于四类过程性信息\n7.属于行政执法案卷"]
    body[10][0] = ["", "", ""]
    body[11][0] = ["", "", ""]  # three bare rows under two items: which is which is not known
    report = _report(_body(body))
    cells = _by_cell(report)
    assert (CODES[11], "s3c.natural_person") not in cells  # three bare rows, two labels: not split
    assert all(f.confidence <= 0.5 for f in report.facts if f.row_code in (CODES[9], CODES[10]))
    assert any("holds 2 rows' labels" in n for n in report.notes)
    assert any(u.reason == "value row without a label" for u in report.unplaced)


def test_a_garbled_label_is_placed_by_its_place_between_its_neighbours():
    body = [list(b) for b in S3_2021_BODY]
    body[7] = (["", "", "4.保户第三方合法\n汉益"], body[7][1])  # 保护…权益, misread
    report = _report(_body(body))
    got = _by_cell(report)[("s3.refused.third_party", "s3c.natural_person")]
    assert got.value == S3_2021_BODY[7][1] and got.confidence == 0.7
    assert not report.unplaced
    assert any("by its place between the rows around it" in n for n in report.notes)


def test_a_label_unlike_the_missing_row_stays_unplaced():
    body = [list(b) for b in S3_2021_BODY]
    body[7] = (["", "", "填报说明：见附件"], body[7][1])
    report = _report(_body(body))
    assert ("s3.refused.third_party", "s3c.natural_person") not in _by_cell(report)
    assert {u.reason for u in report.unplaced} == {"row label not matched"}


def test_two_garbled_rows_where_one_row_is_missing_stay_unplaced():
    body = [list(b) for b in S3_2021_BODY]
    body[7] = (["", "", "4.保户第三方合法汉益"], body[7][1])
    body.insert(8, (["", "", "4.保户第三方权益"], 99))  # a second candidate for the same gap
    report = _report(_body(body))
    assert ("s3.refused.third_party", "s3c.natural_person") not in _by_cell(report)


S4_LEAVES_GARBLED = ["结果\n维寺", "结果\n红正", "其他\n结果", "尚天\n官结", "总计"] * 3


def test_s4_header_with_unreadable_repeated_labels_is_read_by_position():
    rows = [
        ["行政复议", None, None, None, None, "行政诉讼", None, None, None, None, None, None, None, None, None],
        [None, None, None, None, None, "未经复议直接起诉", None, None, None, None, "复议后起诉", None, None, None, None],
        S4_LEAVES_GARBLED,
        [str(v) for v in range(1, 16)],
    ]
    doc = ExtractedDocument(sha256="t", media_type="application/pdf", text="本年制发件数",
                            tables=[RawTable(0, rows, page=6, method="ocr")])
    report = parse_report(doc)
    cells = {f.col_code: f for f in report.facts if f.section == "s4"}
    assert [cells[c].value for c in CB.cols("s4", "2021")] == list(range(1, 16))
    assert all(f.confidence <= 0.9 for f in cells.values())


def test_s4_header_whose_read_labels_stand_out_of_place_is_not_assumed():
    leaves = list(S4_LEAVES_GARBLED)
    leaves[2], leaves[4] = "总计", "其他结果"  # read labels contradict the template's positions
    rows = [leaves, [str(v) for v in range(1, 16)]]
    doc = ExtractedDocument(sha256="t", media_type="application/pdf", text="本年制发件数",
                            tables=[RawTable(0, [["行政复议", *[None] * 14], *rows], page=6, method="ocr")])
    report = parse_report(doc)
    assert not [f for f in report.facts if f.section == "s4"]
    assert report.unplaced
