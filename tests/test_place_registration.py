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


def test_items_fewer_than_the_bare_rows_are_not_split_but_placed_by_their_place():
    body = [list(b) for b in S3_2021_BODY]
    body[9][0] = ["", "", "6.属于四类过程性信息\n7.属于行政执法案卷"]
    body[10][0] = ["", "", ""]
    body[11][0] = ["", "", ""]  # three bare rows under two items: the labels cannot say which is which
    report = _report(_body(body))
    cells = _by_cell(report)
    for i in (9, 10, 11):  # … but the three rows fill the gap between their neighbours exactly
        assert cells[(CODES[i], "s3c.natural_person")].value == S3_2021_BODY[i][1]
    assert cells[(CODES[9], "s3c.natural_person")].confidence <= 0.5
    assert max(f.confidence for f in report.facts if f.row_code in CODES[9:12]) <= 0.6
    assert any("holds 2 rows' labels" in n for n in report.notes)
    assert not report.unplaced


def test_items_over_rows_that_do_not_fill_the_gap_stay_unplaced():
    body = [list(b) for b in S3_2021_BODY]
    body[9][0] = ["", "", "6.属于四类过程性信息\n7.属于行政执法案卷"]
    body[10][0] = ["", "", ""]
    body[11][0] = ["", "", ""]
    body.insert(11, (["", "", ""], 99))  # a fourth value row where three are missing
    report = _report(_body(body))
    assert not {c for c, _ in _by_cell(report)} & set(CODES[9:12])
    assert {u.reason for u in report.unplaced} == {"value row without a label",
                                                   "its label cell holds several rows' labels; which row is unknown"}


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


def test_a_label_cell_whose_middle_number_was_misread_is_split_around_the_gap():
    body = [list(b) for b in S3_2021_BODY]
    # 2.没有现成信息… lost in recognition, "本" read as "2" right after "1."
    body[12][0] = ["", "（四）无法提供", "1.2机关不掌握相关政府信\n息\n海\n3.补正后申请内容仍不明确"]
    body[13][0] = ["", "", ""]
    body[14][0] = ["", "", ""]
    report = _report(_body(body))
    cells = _by_cell(report)
    for i in (12, 13, 14):
        got = cells[(CODES[i], "s3c.natural_person")]
        assert got.value == S3_2021_BODY[i][1] and got.confidence <= 0.75
    assert cells[(CODES[13], "s3c.natural_person")].confidence == 0.6  # no label at all: its place only
    assert not report.unplaced


def test_value_rows_under_a_truncated_label_cell_are_placed_by_their_place():
    body = [list(b) for b in S3_2021_BODY]
    # the merged label cell of 三 read only at its top; the rows under it lost every label
    body[2][0] = ["三（一)予以公开\n、（二)部分公开\nzS(区分攻理的", "", ""]
    for i in range(3, 11):
        body[i][0] = ["", "", ""]
    report = _report(_body(body))
    cells = _by_cell(report)
    for i in range(2, 11):
        got = cells[(CODES[i], "s3c.total")]
        assert got.value == S3_2021_BODY[i][1] + 1 and got.confidence <= 0.7
    assert not report.unplaced
    assert sum("a value row without a label" in n for n in report.notes) == 8


def test_bare_value_rows_that_do_not_fill_the_gap_exactly_stay_unplaced():
    body = [list(b) for b in S3_2021_BODY]
    for i in range(3, 11):
        body[i][0] = ["", "", ""]
    del body[5]  # one row of the gap lost: eight template rows, seven value rows
    report = _report(_body(body))
    assert not {c for c, _ in _by_cell(report)} & set(CODES[3:11])
    assert {u.reason for u in report.unplaced} == {"value row without a label"}


def test_a_numbered_label_over_its_value_row_is_one_row():
    body = [list(b) for b in S3_2021_BODY]
    rows = _body(body)
    at = len(S3_HEADER_CAMELOT) + 11  # 8.属于行政查询事项: label on one grid row, values on the next
    rows[at:at + 1] = [["", "", "卷\n8.属于行政查询事项", *[""] * 7], ["", "", "", *_values(21)]]
    report = _report(rows)
    got = _by_cell(report)[("s3.refused.query_matter", "s3c.total")]
    assert got.value == 22 and got.confidence <= 0.75
    assert not report.unplaced


def test_a_garbled_label_whose_item_number_is_its_rows_is_placed_by_its_place():
    body = [list(b) for b in S3_2021_BODY]
    body[14] = (["", "", "3.正"], body[14][1])  # 3.补正后申请内容仍不明确, most of it lost
    report = _report(_body(body))
    got = _by_cell(report)[("s3.unable.unclear", "s3c.natural_person")]
    assert got.value == S3_2021_BODY[14][1] and got.confidence == 0.7
    assert not report.unplaced


def _s2(rows):
    doc = ExtractedDocument(sha256="t", media_type="application/pdf", text="2022年度政府信息公开工作年度报告",
                            tables=[RawTable(0, rows, page=1, method="ocr")])
    return parse_report(doc)


def test_s2_header_labels_that_match_nothing_are_read_by_the_rows_sub_table():
    report = _s2([
        ["第二十条第（一）项", None, None, None],
        ["信息内容", "z5年制发件数", "zS年度1=1件数", "现行有效件数"],
        ["规重", "3", "1", "987"],  # 规章, misread: placed by its place before 行政规范性文件
        ["行政规范性文件", "4", "2", "1194"],
        ["第二十条第（五）项", None, None, None],
        ["信息内容", "z5年处理决定数", None, None],
        ["行政许可", "6855", None, None],
    ])
    got = {(f.row_code, f.col_code): f for f in report.facts}
    assert got[("s2.rules", "s2c.issued")].value == 3 and got[("s2.rules", "s2c.issued")].confidence == 0.7
    assert got[("s2.normative_docs", "s2c.repealed")].value == 2
    assert got[("s2.normative_docs", "s2c.repealed")].confidence == 0.8
    assert got[("s2.normative_docs", "s2c.in_force")].confidence == 0.9  # read label, OCR value
    assert got[("s2.licensing", "s2c.decisions_year")].value == 6855
    assert not report.unplaced


def test_s2_header_that_does_not_fit_the_sub_table_is_not_assumed():
    report = _s2([
        ["第二十条第（一）项", None, None, None],
        ["信息内容", "z5年制发件数", "现行有效件数", None],  # two header cells, three columns
        ["规章", "3", "987", None],
    ])
    assert not [f for f in report.facts if f.col_code in ("s2c.issued", "s2c.repealed")]
    assert any(u.reason == "column label not matched" for u in report.unplaced)


def test_values_on_a_group_row_whose_first_item_was_lost_go_to_the_missing_item():
    body = [list(b) for b in S3_2021_BODY]
    body[12] = (["", "(四)无\n法提供", "1.2机关不掌屋相关\n政府信息"], body[12][1])  # 1.本机关不掌握…, garbled
    report = _report(_body(body))
    cells = _by_cell(report)
    got = cells[("s3.unable.not_held", "s3c.natural_person")]
    assert got.value == S3_2021_BODY[12][1] and got.confidence == 0.7
    assert not [f for f in report.facts if f.row_code == "s3.unable"]


def test_a_group_printed_as_one_row_keeps_its_values():
    # 2021 reports that print （六）其他处理 as a single row: no item of it to give the values to
    body = [list(b) for b in S3_2021_BODY[:20]] + [(["", "（六）其他处理", ""], 30)] + \
        [list(b) for b in S3_2021_BODY[23:]]
    cells = _by_cell(_report(_body(body)))
    assert cells[("s3.other", "s3c.natural_person")].value == 30
